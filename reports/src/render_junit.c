/* render_junit.c - the report set as JUnit XML, for the test views of CI
 * systems (GitHub test-report actions, GitLab's test report, Jenkins).
 *
 * One <testsuite> per tool ("stress-free", "fuzz_ops", ...): Jenkins and
 * GitLab group by suite and class, so each tool is one group and each of
 * its runs a test case under it (classname = tool).  A run's findings are
 * <failure> elements of its test case, one per finding whose `run` is that
 * run's id; a run stopped or broken ("interrupted", "error") carries an
 * <error>.  Findings whose run is not in the set get one synthetic test
 * case per tool, so none is lost.
 *
 * Counts follow the JUnit convention that CI systems check: a suite's
 * `failures` and `errors` count test cases, not <failure> elements (a case
 * with an <error> counts as an error only), so tests >= failures + errors
 * always holds.  Some viewers show only a case's first <failure>: the
 * case's <system-out> lists every finding of the run as well.
 *
 * The document is ASCII: text goes through lab_xml_str(), and bytes outside
 * ASCII become character references (invalid UTF-8 as U+FFFD), so a
 * corrupt input cannot make the XML ill-formed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define LAB_JUNIT_ORPHANS "findings without a run record"

/* ` name="value"` */
static void lab_junit_attr(FILE *f, const char *name, const char *val)
{
	fprintf(f, " %s=\"", name);
	lab_xml_str(f, val);
	fputc('"', f);
}

/* "label: value\n" in an element body, skipped when value is empty. */
static void lab_junit_line(FILE *f, const char *label, const char *val)
{
	if (!val || !*val)
		return;
	fprintf(f, "%s: ", label);
	lab_xml_str(f, val);
	fputc('\n', f);
}

static const char *lab_junit_tool(const char *tool)
{
	return *tool ? tool : "unknown";
}

static double lab_junit_seconds(const struct lab_runrec *run)
{
	return run->started && run->ended > run->started ?
		       (double)(run->ended - run->started) :
		       0.0;
}

static bool lab_junit_run_error(const struct lab_runrec *run)
{
	return !strcmp(run->result, "interrupted") ||
	       !strcmp(run->result, "error");
}

static bool lab_junit_has_run(const struct lab_report_set *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nruns; i++)
		if (!strcmp(s->runs[i].id, id))
			return true;
	return false;
}

/* How many findings name this run as theirs. */
static size_t lab_junit_attached(const struct lab_report_set *s,
				 const struct lab_runrec *run)
{
	size_t i, n = 0;

	for (i = 0; i < s->nrecs; i++)
		n += !strcmp(s->recs[i].run, run->id);
	return n;
}

/* Whether finding r goes into the test case of run, or, with run NULL,
 * into the synthetic case of `tool` (its run is not in the set). */
static bool lab_junit_belongs(const struct lab_report_set *s,
			      const struct lab_rec *r,
			      const struct lab_runrec *run, const char *tool)
{
	if (run)
		return !strcmp(r->run, run->id);
	return !strcmp(lab_junit_tool(r->tool), tool) &&
	       !lab_junit_has_run(s, r->run);
}

/* Findings of `tool` whose run is not in the set. */
static size_t lab_junit_orphans(const struct lab_report_set *s,
				const char *tool)
{
	size_t i, n = 0;

	for (i = 0; i < s->nrecs; i++)
		n += lab_junit_belongs(s, &s->recs[i], NULL, tool);
	return n;
}

/* One finding as a <failure>: the title as message, the kind as type, and
 * in the body everything needed to reproduce and triage it. */
static void lab_junit_failure(FILE *f, const struct lab_rec *r)
{
	char first[32] = "", last[32] = "", count[24];

	if (r->first_seen)
		lab_iso_time(r->first_seen, first, sizeof(first));
	if (r->last_seen)
		lab_iso_time(r->last_seen, last, sizeof(last));
	snprintf(count, sizeof(count), "%llu", (unsigned long long)r->count);
	fputs("      <failure", f);
	lab_junit_attr(f, "message",
		       r->title[0] ? r->title : lab_kind_title(r->kind));
	lab_junit_attr(f, "type", lab_kind_name(r->kind));
	fputs(">", f);
	lab_junit_line(f, "signature", r->signature);
	lab_junit_line(f, "reproduce", r->reproduce);
	lab_junit_line(f, "site",
		       r->site.file[0] ? r->site.file : r->site.function);
	lab_junit_line(f, "seen", count);
	lab_junit_line(f, "first seen", first);
	lab_junit_line(f, "last seen", last);
	lab_junit_line(f, "seed", r->seed);
	lab_junit_line(f, "artifact", r->artifact);
	lab_junit_line(f, "build", r->build);
	lab_junit_line(f, "summary", r->summary);
	if (r->excerpt[0]) {
		fputc('\n', f);
		lab_xml_str(f, r->excerpt);
	}
	fputs("</failure>\n", f);
}

/* The findings of a case, one line each, for viewers that show only the
 * first <failure>. */
static void lab_junit_listing(FILE *f, const struct lab_report_set *s,
			      const struct lab_runrec *run, const char *tool)
{
	size_t i;

	for (i = 0; i < s->nrecs; i++) {
		const struct lab_rec *r = &s->recs[i];

		if (!lab_junit_belongs(s, r, run, tool))
			continue;
		fprintf(f, "finding [%s] ", lab_kind_name(r->kind));
		lab_xml_str(f,
			    r->title[0] ? r->title : lab_kind_title(r->kind));
		fputc('\n', f);
		lab_junit_line(f, "  reproduce", r->reproduce);
	}
}

static void lab_junit_failures(FILE *f, const struct lab_report_set *s,
			       const struct lab_runrec *run, const char *tool)
{
	size_t i;

	for (i = 0; i < s->nrecs; i++) {
		if (lab_junit_belongs(s, &s->recs[i], run, tool))
			lab_junit_failure(f, &s->recs[i]);
	}
}

/* A run as a test case.  A failed run whose findings all went to other
 * runs' records (deduplication keeps the last sighting) still fails. */
static void lab_junit_run_case(FILE *f, const struct lab_report_set *s,
			       const struct lab_runrec *run)
{
	char name[128];

	snprintf(name, sizeof(name), "%s (%s)", run->id,
		 lab_junit_tool(run->tool));
	fputs("    <testcase", f);
	lab_junit_attr(f, "name", name);
	lab_junit_attr(f, "classname", lab_junit_tool(run->tool));
	fprintf(f, " time=\"%.3f\">\n", lab_junit_seconds(run));
	if (lab_junit_run_error(run)) {
		snprintf(name, sizeof(name), "run ended: %s", run->result);
		fputs("      <error", f);
		lab_junit_attr(f, "message", name);
		lab_junit_attr(f, "type", run->result);
		fputs(">", f);
		lab_junit_line(f, "detail", run->detail);
		fputs("</error>\n", f);
	}
	lab_junit_failures(f, s, run, NULL);
	if (!strcmp(run->result, "fail") && !lab_junit_attached(s, run))
		fprintf(f,
			"      <failure message=\"run failed with %llu "
			"finding(s), reported under later runs\" "
			"type=\"run-failed\"/>\n",
			(unsigned long long)run->findings);
	fputs("      <system-out>", f);
	lab_junit_line(f, "command", run->command);
	lab_junit_line(f, "build", run->build);
	lab_junit_line(f, "seed", run->seed);
	lab_junit_line(f, "result", run->result);
	lab_junit_line(f, "detail", run->detail);
	lab_junit_listing(f, s, run, NULL);
	fputs("</system-out>\n    </testcase>\n", f);
}

static void lab_junit_orphan_case(FILE *f, const struct lab_report_set *s,
				  const char *tool)
{
	char name[96];

	snprintf(name, sizeof(name), "%s (" LAB_JUNIT_ORPHANS ")", tool);
	fputs("    <testcase", f);
	lab_junit_attr(f, "name", name);
	lab_junit_attr(f, "classname", tool);
	fputs(" time=\"0.000\">\n", f);
	lab_junit_failures(f, s, NULL, tool);
	fputs("      <system-out>", f);
	lab_junit_listing(f, s, NULL, tool);
	fputs("</system-out>\n    </testcase>\n", f);
}

struct lab_junit_counts {
	size_t tests, failures, errors;
	double time;
	int64_t started; /* earliest run start, 0 if none */
};

/* Counts of one tool's suite: test cases, and of them those that failed
 * or erred (an erring case with findings counts once, as an error). */
static void lab_junit_count(const struct lab_report_set *s, const char *tool,
			    struct lab_junit_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *run = &s->runs[i];

		if (strcmp(lab_junit_tool(run->tool), tool))
			continue;
		c->tests++;
		c->time += lab_junit_seconds(run);
		if (run->started && (!c->started || run->started < c->started))
			c->started = run->started;
		if (lab_junit_run_error(run))
			c->errors++;
		else if (lab_junit_attached(s, run) ||
			 !strcmp(run->result, "fail"))
			c->failures++;
	}
	if (lab_junit_orphans(s, tool)) {
		c->tests++;
		c->failures++;
	}
}

static void lab_junit_suite(FILE *f, const struct lab_report_set *s,
			    const char *tool, const struct lab_junit_counts *c)
{
	char ts[32];
	size_t i;

	fputs("  <testsuite", f);
	lab_junit_attr(f, "name", tool);
	fprintf(f,
		" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"0\" time=\"%.3f\"",
		c->tests, c->failures, c->errors, c->time);
	if (c->started) {
		/* JUnit's timestamp has no zone designator */
		lab_iso_time(c->started, ts, sizeof(ts));
		ts[strcspn(ts, "Z")] = '\0';
		fprintf(f, " timestamp=\"%s\"", ts);
	}
	fputs(">\n", f);
	for (i = 0; i < s->nruns; i++)
		if (!strcmp(lab_junit_tool(s->runs[i].tool), tool))
			lab_junit_run_case(f, s, &s->runs[i]);
	if (lab_junit_orphans(s, tool))
		lab_junit_orphan_case(f, s, tool);
	fputs("  </testsuite>\n", f);
}

/* The tools of the set, each once, in order of first appearance (runs
 * first, then findings); *n of them in a malloc'ed array. */
static const char **lab_junit_tools(const struct lab_report_set *s, size_t *n)
{
	const char **tools = calloc(s->nruns + s->nrecs + 1, sizeof(*tools));
	size_t i, j;

	*n = 0;
	for (i = 0; tools && i < s->nruns + s->nrecs; i++) {
		const char *t = lab_junit_tool(
			i < s->nruns ? s->runs[i].tool :
				       s->recs[i - s->nruns].tool);

		for (j = 0; j < *n && strcmp(tools[j], t); j++)
			;
		if (j == *n)
			tools[(*n)++] = t;
	}
	return tools;
}

int lab_render_junit(FILE *f, const struct lab_report_set *s)
{
	struct lab_junit_counts *c, all = { 0 };
	const char **tools;
	size_t n, i;

	tools = lab_junit_tools(s, &n);
	c = calloc(n + 1, sizeof(*c));
	if (!tools || !c) {
		free(tools);
		free(c);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		lab_junit_count(s, tools[i], &c[i]);
		all.tests += c[i].tests;
		all.failures += c[i].failures;
		all.errors += c[i].errors;
		all.time += c[i].time;
	}
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"labyrinth\" tests=\"%zu\" "
		"failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
		all.tests, all.failures, all.errors, all.time);
	for (i = 0; i < n; i++)
		lab_junit_suite(f, s, tools[i], &c[i]);
	fputs("</testsuites>\n", f);
	free(tools);
	free(c);
	return ferror(f) ? -EIO : 0;
}
