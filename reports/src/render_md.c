/* render_md.c - the Markdown summary: what a CI job summary shows and
 * what a person reads first.  Tables for findings and runs, then per
 * finding the command that reproduces it and what led to it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

/* Table cell text: pipes and newlines would break the row, and GitHub
 * renders raw HTML in Markdown, so < > & are escaped as entities. */
static void lab_md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '|')
			fputs("\\|", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '\n' || c == '\r' || c == '\t')
			fputc(' ', f);
		else if (c >= 0x20 && c != 0x7f)
			fputc(c, f);
	}
}

/* Inline code that holds any text: a fence longer than any backtick run
 * inside (CommonMark), and a space pad so an edge backtick stays text. */
static void lab_md_code(FILE *f, const char *s)
{
	size_t run = 0, best = 0, i;

	for (i = 0; s[i]; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	for (i = 0; i <= best; i++)
		fputc('`', f);
	fputc(' ', f);
	for (; *s; s++)
		fputc(*s == '\n' || *s == '|' ? ' ' : *s, f);
	fputc(' ', f);
	for (i = 0; i <= best; i++)
		fputc('`', f);
}

static void lab_md_site(FILE *f, const struct lab_site *s)
{
	lab_md_cell(f, s->function);
	if (*s->file) {
		fputs(" (", f);
		lab_md_cell(f, s->file);
		if (s->line)
			fprintf(f, ":%u", s->line);
		fputc(')', f);
	}
}

static unsigned lab_md_failed_runs(const struct lab_report_set *s)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < s->nruns; i++)
		n += strcmp(s->runs[i].result, "pass") != 0;
	return n;
}

static void lab_md_head(FILE *f, const struct lab_report_set *s)
{
	uint64_t seen = 0;
	size_t i;

	for (i = 0; i < s->nrecs; i++)
		seen += s->recs[i].count;
	fprintf(f, "# labyrinth report: %s\n\n",
		s->nrecs	      ? "FAIL" :
		lab_md_failed_runs(s) ? "RUNS FAILED" :
					"PASS");
	fprintf(f,
		"%zu distinct finding(s), %llu sighting(s); %zu run(s), %u "
		"not passed.\n\n",
		s->nrecs, (unsigned long long)seen, s->nruns,
		lab_md_failed_runs(s));
}

static void lab_md_findings(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	if (!s->nrecs) {
		fputs("No findings.\n\n", f);
		return;
	}
	fputs("## Findings\n\n| # | kind | check | where | tool | count | "
	      "last seen | reproduce |\n|---|---|---|---|---|---|---|---|\n",
	      f);
	for (i = 0; i < s->nrecs; i++) {
		const struct lab_rec *r = &s->recs[i];
		char when[32];

		lab_iso_time(r->last_seen, when, sizeof(when));
		fprintf(f, "| %zu | %s | ", i + 1, lab_kind_title(r->kind));
		lab_md_cell(f, r->check);
		fputs(" | ", f);
		lab_md_site(f, &r->site);
		fputs(" | ", f);
		lab_md_cell(f, r->tool);
		fprintf(f, " | %llu | %s | ", (unsigned long long)r->count,
			when);
		if (*r->reproduce)
			lab_md_code(f, r->reproduce);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void lab_md_detail(FILE *f, size_t i, const struct lab_rec *r)
{
	unsigned k;

	fprintf(f, "### %zu. ", i + 1);
	lab_md_cell(f, *r->title ? r->title : r->signature);
	fputs("\n\n- signature: ", f);
	lab_md_code(f, r->signature);
	fputs("\n- found by: ", f);
	lab_md_cell(f, r->tool);
	fputs(", build ", f);
	lab_md_cell(f, r->build);
	if (*r->seed) {
		fputs(", seed ", f);
		lab_md_cell(f, r->seed);
	}
	if (*r->bug && strcmp(r->bug, "none")) {
		fputs(", seeded bug ", f);
		lab_md_cell(f, r->bug);
	}
	if (*r->artifact) {
		fputs("\n- artifact: ", f);
		lab_md_code(f, r->artifact);
	}
	if (*r->summary) {
		fputs("\n- sanitizer: ", f);
		lab_md_cell(f, r->summary);
	}
	fputs("\n", f);
	if (r->nops) {
		fputs("\nLast operations before it:\n\n```\n", f);
		for (k = 0; k < r->nops; k++)
			fprintf(f, "%s\n", r->ops[k]);
		fputs("```\n", f);
	}
	fputc('\n', f);
}

static void lab_md_runs(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	if (!s->nruns)
		return;
	fputs("## Runs\n\n| run | tool | result | seconds | findings | "
	      "detail |\n|---|---|---|---|---|---|\n",
	      f);
	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		fputs("| ", f);
		lab_md_cell(f, r->id);
		fputs(" | ", f);
		lab_md_cell(f, r->tool);
		fputs(" | ", f);
		lab_md_cell(f, r->result);
		fprintf(f, " | %lld | %llu | ",
			(long long)(r->ended - r->started),
			(unsigned long long)r->findings);
		lab_md_cell(f, r->detail);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

/* Detector coverage of the runs that provoked detectors on purpose. */
static void lab_md_coverage(FILE *f, const struct lab_report_set *s)
{
	bool head = false;
	size_t i;
	unsigned k;

	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		for (k = 0; k < r->ncoverage; k++) {
			const struct lab_coverage *c = &r->coverage[k];

			if (!head)
				fputs("## Detector coverage\n\n| run | detector "
				      "| provoked | fired | status |\n"
				      "|---|---|---|---|---|\n",
				      f);
			head = true;
			fputs("| ", f);
			lab_md_code(f, r->id);
			fputs(" | ", f);
			lab_md_cell(f, c->detector);
			fprintf(f, " | %llu | %llu | %s |\n",
				(unsigned long long)c->provoked,
				(unsigned long long)c->fired,
				!c->provoked		? "not provoked" :
				c->fired >= c->provoked ? "fired" :
							  "SILENT");
		}
	}
	if (head)
		fputc('\n', f);
}

/* Runs that measured allocation latency: one row per class and context,
 * in microseconds, and what the figures include. */
static void lab_md_latency(FILE *f, const struct lab_report_set *s)
{
	bool head = false;
	size_t i;
	unsigned k;

	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		if (!r->nlatency)
			continue;
		if (!head)
			fputs("## Allocation latency\n\n| run | class | context | "
			      "count | mean (us) | p50 | p90 | p99 | p99.9 | "
			      "max (us) |\n|---|---|---|---|---|---|---|---|---|"
			      "---|\n",
			      f);
		head = true;
		for (k = 0; k < r->nlatency; k++) {
			const struct lab_latency *l = &r->latency[k];

			fputs("| ", f);
			lab_md_code(f, r->id);
			fputs(" | ", f);
			lab_md_cell(f, l->cls);
			fputs(" | ", f);
			lab_md_cell(f, l->context);
			fprintf(f,
				" | %llu | %.1f | %.1f | %.1f | %.1f | %.1f | "
				"%.1f |\n",
				(unsigned long long)l->count, l->mean_ns / 1e3,
				l->p50_ns / 1e3, l->p90_ns / 1e3,
				l->p99_ns / 1e3, l->p999_ns / 1e3,
				l->max_ns / 1e3);
		}
	}
	if (!head)
		return;
	fputc('\n', f);
	for (i = 0; i < s->nruns; i++) {
		if (!s->runs[i].nlatency || !*s->runs[i].latency_note)
			continue;
		fputs("- ", f);
		lab_md_code(f, s->runs[i].id);
		fputs(": ", f);
		lab_md_cell(f, s->runs[i].latency_note);
		fputc('\n', f);
	}
	fputc('\n', f);
}

int lab_render_markdown(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	lab_md_head(f, s);
	lab_md_findings(f, s);
	for (i = 0; i < s->nrecs; i++)
		lab_md_detail(f, i, &s->recs[i]);
	lab_md_runs(f, s);
	lab_md_latency(f, s);
	lab_md_coverage(f, s);
	fputs("Open report.html for charts; report.sarif and junit.xml are "
	      "for CI.\n",
	      f);
	return ferror(f) ? -EIO : 0;
}
