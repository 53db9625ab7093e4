/* render_sarif.c - the report set as one SARIF 2.1.0 log, for GitHub code
 * scanning and every other SARIF viewer.
 *
 * One run of the tool "labyrinth": a rule per kind present (the rule id is
 * lab_kind_name()), a result per deduplicated finding, an invocation per
 * run record.  The finding's signature is its fingerprint, so an upload of
 * the next campaign closes or keeps the same alerts instead of opening new
 * ones.
 *
 * Where a result points: GitHub code scanning rejects the whole upload if
 * any result lacks a location with an artifact URI ("locationFromSarifResult:
 * expected at least one location"), so every result gets one.  In order of
 * preference: the violating site, the first stack frame inside the
 * repository, an absolute file (file: URI), and, when nothing is known, the
 * source of the tool that found it (fuzz/<target>.c, else stress/cli.c),
 * marked with the property "siteKnown": false.  A region is written only
 * for a known line: a line 1 made up for the viewer would be a lie the
 * next reader trusts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

#define LAB_SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
/* Mirrors LAB_VERSION_* of allocator/include/labyrinth.h: the reports
 * library does not see the allocator's headers.  Keep them in step. */
#define LAB_SARIF_TOOL_VERSION "0.1.0"
/* The base of every repository-relative artifact URI. */
#define LAB_SARIF_SRCROOT "SRCROOT"
/* Key of partialFingerprints and fingerprints; bump /v1 if the signature
 * format of lab_rec_sign() ever changes meaning. */
#define LAB_SARIF_FP_KEY "labyrinthSignature/v1"

static const char *const lab_sarif_descriptions[LAB_KIND_COUNT] = {
	[LAB_KIND_INVARIANT] =
		"The allocator's state and the harness's model of it disagree: "
		"a frame stamped by the wrong owner, a double free, counters "
		"that are not conserved.",
	[LAB_KIND_EXCLUSIVE] =
		"A frame owned exclusively by one context was freed, accessed "
		"or handed off by another, or the allocator accepted such a "
		"foreign operation instead of refusing it.",
	[LAB_KIND_SLEEP_IN_ATOMIC] =
		"A call that may block (a GFP_KERNEL allocation, a wait) ran "
		"with interrupts or preemption off or in interrupt context, or "
		"might_sleep() failed to catch one.",
	[LAB_KIND_DEADLOCK] =
		"Threads waited on each other and none could make progress.",
	[LAB_KIND_LIVELOCK] = "Threads kept running without completing an "
			      "operation within the progress bound.",
	[LAB_KIND_DATA_RACE] =
		"ThreadSanitizer saw two unsynchronised accesses to the same "
		"memory, at least one of them a write.",
	[LAB_KIND_MEMORY_ERROR] =
		"AddressSanitizer saw an invalid access: use after free, "
		"buffer overflow, double or invalid free.",
	[LAB_KIND_UNDEFINED] =
		"UndefinedBehaviorSanitizer saw undefined behaviour: signed "
		"overflow, a misaligned or null access, an invalid shift.",
	[LAB_KIND_LEAK] = "LeakSanitizer found memory still allocated and "
			  "unreachable at exit.",
	[LAB_KIND_CRASH] = "The process died of a fatal signal or an abort, "
			   "or a fuzz target crashed.",
	[LAB_KIND_TIMEOUT] = "A fuzz input or a run exceeded its time limit.",
	[LAB_KIND_OUT_OF_MEMORY] = "A fuzz input exceeded the fuzzer's memory "
				   "limit (-rss_limit_mb, -malloc_limit_mb).",
};

/* Errors are findings that are wrong whatever the workload; the rest
 * (deadlock, leak, timeout, ...) can be a harness limit and want a look. */
static const char *lab_sarif_level(enum lab_kind k)
{
	switch (k) {
	case LAB_KIND_DATA_RACE:
	case LAB_KIND_MEMORY_ERROR:
	case LAB_KIND_CRASH:
	case LAB_KIND_INVARIANT:
	case LAB_KIND_EXCLUSIVE:
	case LAB_KIND_UNDEFINED:
		return "error";
	default:
		return "warning";
	}
}

/* "data-race" -> "DataRace": SARIF wants rule names that read as
 * identifiers. */
static void lab_sarif_rule_name(enum lab_kind k, char *buf, size_t len)
{
	const char *p = lab_kind_name(k);
	size_t n = 0;
	bool up = true;

	for (; *p && n + 1 < len; p++) {
		if (*p == '-') {
			up = true;
			continue;
		}
		buf[n++] = up && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p;
		up = false;
	}
	buf[n] = '\0';
}

/* "key": "value" (both escaped). */
static void lab_sarif_kv(FILE *f, const char *key, const char *val)
{
	lab_json_str(f, key);
	fputs(": ", f);
	lab_json_str(f, val);
}

/* sep "key": "2026-11-18T04:13:20Z" if t is set; the separator the next
 * member needs (", " once anything is written). */
static const char *lab_sarif_time(FILE *f, const char *sep, const char *key,
				  int64_t t)
{
	char iso[32];

	if (!t)
		return sep;
	lab_iso_time(t, iso, sizeof(iso));
	fputs(sep, f);
	lab_sarif_kv(f, key, iso);
	return ", ";
}

/* A URI reference for a path: unreserved bytes and '/' stay, the rest is
 * percent-encoded, so a space, '%', '#' or ':' in a file name cannot
 * change what the URI means. */
static void lab_sarif_uri(FILE *f, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[3 * sizeof(((struct lab_site *)0)->file) + 8];
	size_t n = 0;

	if (*path == '/')
		n = (size_t)snprintf(buf, sizeof(buf), "file://");
	for (; *path && n + 4 < sizeof(buf); path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c)) {
			buf[n++] = (char)c;
			continue;
		}
		buf[n++] = '%';
		buf[n++] = hex[c >> 4];
		buf[n++] = hex[c & 15];
	}
	buf[n] = '\0';
	lab_json_str(f, buf);
}

/* A physicalLocation of a site whose file is known: repository-relative
 * paths hang off SRCROOT, absolute ones are file: URIs on their own. */
static void lab_sarif_physical(FILE *f, const struct lab_site *s)
{
	fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
	lab_sarif_uri(f, s->file);
	if (s->file[0] != '/')
		fputs(", \"uriBaseId\": \"" LAB_SARIF_SRCROOT "\"", f);
	fputs("}", f);
	if (s->line)
		fprintf(f, ", \"region\": {\"startLine\": %u}", s->line);
	fputs("}", f);
}

/* A location object: physical if the file is known, the function as a
 * logical location if that is known; id > 0 and msg for related
 * locations. */
static void lab_sarif_location(FILE *f, const struct lab_site *s, int id,
			       const char *msg)
{
	const char *sep = "";

	fputs("{", f);
	if (id > 0) {
		fprintf(f, "\"id\": %d", id);
		sep = ", ";
	}
	if (msg) {
		fprintf(f, "%s\"message\": {", sep);
		lab_sarif_kv(f, "text", msg);
		fputs("}", f);
		sep = ", ";
	}
	if (s->file[0]) {
		fputs(sep, f);
		lab_sarif_physical(f, s);
		sep = ", ";
	}
	if (s->function[0]) {
		fprintf(f, "%s\"logicalLocations\": [{", sep);
		lab_sarif_kv(f, "name", s->function);
		fputs("}]", f);
	}
	fputs("}", f);
}

/* The tool's own source, for a finding nobody could place: a fuzz
 * target's file when the tool is one ("fuzz_ops" -> fuzz/fuzz_ops.c),
 * else the command every stress mode starts from. */
static void lab_sarif_tool_site(const struct lab_rec *r, struct lab_site *s)
{
	bool fuzz = !strncmp(r->tool, "fuzz_", 5) &&
		    strspn(r->tool, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
			    strlen(r->tool);

	memset(s, 0, sizeof(*s));
	snprintf(s->function, sizeof(s->function), "%s", r->site.function);
	if (fuzz)
		snprintf(s->file, sizeof(s->file), "fuzz/%s.c", r->tool);
	else
		snprintf(s->file, sizeof(s->file), "stress/cli.c");
}

/* The result's one location (see the top of the file); false when it is
 * the tool's source standing in for an unknown site. */
static bool lab_sarif_primary(const struct lab_rec *r, struct lab_site *s)
{
	unsigned i, pass;

	/* pass 0: repository-relative files; pass 1: absolute ones */
	for (pass = 0; pass < 2; pass++) {
		const struct lab_site *c = &r->site;

		for (i = 0; i <= r->nframes && i <= LAB_REC_FRAMES; i++) {
			if (i)
				c = &r->frames[i - 1];
			if (c->file[0] && (c->file[0] == '/') == (pass == 1)) {
				*s = *c;
				return true;
			}
		}
	}
	lab_sarif_tool_site(r, s);
	return false;
}

static bool lab_sarif_same_site(const struct lab_site *a,
				const struct lab_site *b)
{
	return a->line == b->line && !strcmp(a->file, b->file) &&
	       !strcmp(a->function, b->function);
}

static unsigned lab_sarif_nframes(const struct lab_rec *r)
{
	return r->nframes < LAB_REC_FRAMES ? r->nframes : LAB_REC_FRAMES;
}

/* Frames in the repository other than the primary one, so a viewer can
 * jump along the stack. */
static void lab_sarif_related(FILE *f, const struct lab_rec *r,
			      const struct lab_site *primary)
{
	char msg[160];
	unsigned i;
	int n = 0;

	for (i = 0; i < lab_sarif_nframes(r); i++) {
		const struct lab_site *fr = &r->frames[i];

		if (!fr->file[0] || fr->file[0] == '/' ||
		    lab_sarif_same_site(fr, primary))
			continue;
		fputs(n ? ",\n        " : ",\n      \"relatedLocations\": [",
		      f);
		snprintf(msg, sizeof(msg), "frame #%u %s", i,
			 fr->function[0] ? fr->function : "(unknown)");
		lab_sarif_location(f, fr, ++n, msg);
	}
	if (n)
		fputs("]", f);
}

/* The whole stack as SARIF's stack object, outside frames included. */
static void lab_sarif_stack(FILE *f, const struct lab_rec *r)
{
	unsigned i;

	if (!lab_sarif_nframes(r))
		return;
	fputs(",\n      \"stacks\": [{\"message\": {\"text\": \"Stack of the "
	      "finding, innermost frame first.\"}, \"frames\": [",
	      f);
	for (i = 0; i < lab_sarif_nframes(r); i++) {
		fputs(i ? ",\n        " : "\n        ", f);
		fputs("{\"location\": ", f);
		lab_sarif_location(f, &r->frames[i], 0, NULL);
		if (r->thread >= 0)
			fprintf(f, ", \"threadId\": %d", r->thread);
		fputs("}", f);
	}
	fputs("]}]", f);
}

/* Title, how often, and the command that brings it back, as one
 * sentence a person reads in the alert list. */
static void lab_sarif_message(FILE *f, const struct lab_rec *r, bool known)
{
	char text[2048];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "%s",
			     r->title[0] ? r->title : lab_kind_title(r->kind));
	while (n && (text[n - 1] == '.' || text[n - 1] == ' '))
		text[--n] = '\0';
	snprintf(text + n, sizeof(text) - n, " (seen %llu time%s).%s%s%s%s",
		 (unsigned long long)r->count, r->count == 1 ? "" : "s",
		 r->reproduce[0] ? " Reproduce: " : "", r->reproduce,
		 r->reproduce[0] ? "." : "",
		 known ? "" :
			 " No source site is known; the location is the "
			 "tool's source.");
	fputs("\"message\": {", f);
	lab_sarif_kv(f, "text", text);
	fputs("}", f);
}

/* Everything a person needs to reproduce and triage it, as properties:
 * SARIF has no place of its own for seeds, builds or artifacts. */
static void lab_sarif_properties(FILE *f, const struct lab_rec *r, bool known)
{
	static const char *const keys[] = { "signature", "check",   "tool",
					    "build",	 "run",	    "seed",
					    "strategy",	 "bug",	    "artifact",
					    "reproduce", "summary", "excerpt" };
	const char *vals[] = { r->signature, r->check,	 r->tool,
			       r->build,     r->run,	 r->seed,
			       r->strategy,  r->bug,	 r->artifact,
			       r->reproduce, r->summary, r->excerpt };
	unsigned i;

	fprintf(f, ",\n      \"properties\": {\"count\": %llu",
		(unsigned long long)r->count);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fputs(", ", f);
		lab_sarif_kv(f, keys[i], vals[i]);
	}
	fprintf(f, ", \"step\": %llu, \"thread\": %d, \"siteKnown\": %s",
		(unsigned long long)r->step, r->thread,
		known ? "true" : "false");
	lab_sarif_time(f, ", ", "firstSeen", r->first_seen);
	lab_sarif_time(f, ", ", "lastSeen", r->last_seen);
	fputs(", \"ops\": [", f);
	for (i = 0; i < r->nops && i < LAB_REC_OPS; i++) {
		fputs(i ? ", " : "", f);
		lab_json_str(f, r->ops[i]);
	}
	fputs("]}", f);
}

/* Fingerprints and first/last detection: what lets a viewer match this
 * result with the same finding in an earlier upload. */
static void lab_sarif_identity(FILE *f, const struct lab_rec *r)
{
	const char *sep;

	fputs(",\n      \"partialFingerprints\": {", f);
	lab_sarif_kv(f, LAB_SARIF_FP_KEY, r->signature);
	fputs("}, \"fingerprints\": {", f);
	lab_sarif_kv(f, LAB_SARIF_FP_KEY, r->signature);
	fputs("}", f);
	if (r->count)
		fprintf(f, ", \"occurrenceCount\": %llu",
			(unsigned long long)r->count);
	if (!r->first_seen && !r->last_seen)
		return;
	fputs(",\n      \"provenance\": {", f);
	sep = lab_sarif_time(f, "", "firstDetectionTimeUtc", r->first_seen);
	lab_sarif_time(f, sep, "lastDetectionTimeUtc", r->last_seen);
	fputs("}", f);
}

static void lab_sarif_result(FILE *f, const struct lab_rec *r, int rule)
{
	struct lab_site primary;
	bool known = lab_sarif_primary(r, &primary);

	fputs("{\"ruleId\": ", f);
	lab_json_str(f, lab_kind_name(r->kind));
	if (rule >= 0)
		fprintf(f, ", \"ruleIndex\": %d", rule);
	fprintf(f, ", \"level\": \"%s\",\n      ", lab_sarif_level(r->kind));
	lab_sarif_message(f, r, known);
	fputs(",\n      \"locations\": [", f);
	lab_sarif_location(f, &primary, 0, NULL);
	fputs("]", f);
	lab_sarif_related(f, r, &primary);
	lab_sarif_stack(f, r);
	lab_sarif_identity(f, r);
	lab_sarif_properties(f, r, known);
	fputs("}", f);
}

static void lab_sarif_rule(FILE *f, enum lab_kind k)
{
	char name[48];

	lab_sarif_rule_name(k, name, sizeof(name));
	fputs("{", f);
	lab_sarif_kv(f, "id", lab_kind_name(k));
	/* SARIF: a name that only differs from the id in case is omitted
	 * ("deadlock"/"Deadlock"); the multitool warns otherwise */
	if (strchr(lab_kind_name(k), '-')) {
		fputs(", ", f);
		lab_sarif_kv(f, "name", name);
	}
	fputs(",\n          \"shortDescription\": {", f);
	lab_sarif_kv(f, "text", lab_kind_title(k));
	fputs("},\n          \"fullDescription\": {", f);
	lab_sarif_kv(f, "text", lab_sarif_descriptions[k]);
	fputs("},\n          \"help\": {", f);
	lab_sarif_kv(f, "text", lab_sarif_descriptions[k]);
	fprintf(f,
		"},\n          \"defaultConfiguration\": {\"level\": "
		"\"%s\"},\n          \"properties\": {\"tags\": "
		"[\"reliability\", \"labyrinth\"]}}",
		lab_sarif_level(k));
}

/* Rules in kind order; index[k] is the rule index of kind k, or -1 when
 * no finding has that kind. */
static void lab_sarif_rules(FILE *f, const struct lab_report_set *s,
			    int index[LAB_KIND_COUNT])
{
	size_t i;
	int k, n = 0;

	for (k = 0; k < LAB_KIND_COUNT; k++)
		index[k] = -1;
	for (i = 0; i < s->nrecs; i++)
		if ((unsigned)s->recs[i].kind < LAB_KIND_COUNT)
			index[s->recs[i].kind] = 0;
	fputs("\"rules\": [", f);
	for (k = 0; k < LAB_KIND_COUNT; k++) {
		if (index[k] < 0)
			continue;
		fputs(n ? ",\n        " : "\n        ", f);
		index[k] = n++;
		lab_sarif_rule(f, (enum lab_kind)k);
	}
	fputs("]", f);
}

/* A run record as an invocation.  A run that found bugs still executed
 * successfully; one stopped or broken did not. */
static void lab_sarif_invocation(FILE *f, const struct lab_runrec *run)
{
	bool ok = !strcmp(run->result, "pass") || !strcmp(run->result, "fail");

	fprintf(f, "{\"executionSuccessful\": %s, ", ok ? "true" : "false");
	lab_sarif_kv(f, "commandLine", run->command);
	lab_sarif_time(f, ", ", "startTimeUtc", run->started);
	lab_sarif_time(f, ", ", "endTimeUtc", run->ended);
	fputs(",\n        \"properties\": {", f);
	lab_sarif_kv(f, "id", run->id);
	fputs(", ", f);
	lab_sarif_kv(f, "tool", run->tool);
	fputs(", ", f);
	lab_sarif_kv(f, "build", run->build);
	fputs(", ", f);
	lab_sarif_kv(f, "result", run->result);
	fputs(", ", f);
	lab_sarif_kv(f, "seed", run->seed);
	fputs(", ", f);
	lab_sarif_kv(f, "detail", run->detail);
	fprintf(f, ", \"findings\": %llu}}", (unsigned long long)run->findings);
}

static void lab_sarif_driver(FILE *f, const struct lab_report_set *s,
			     int index[LAB_KIND_COUNT])
{
	fputs("    \"tool\": {\"driver\": {\"name\": \"labyrinth\", ", f);
	/* The project has no public address yet: informationUri is written
	 * only when a build gives one (-DLAB_SARIF_INFORMATION_URI=
	 * '"https://..."'), never a guessed address that could be someone
	 * else's. */
#ifdef LAB_SARIF_INFORMATION_URI
	lab_sarif_kv(f, "informationUri", LAB_SARIF_INFORMATION_URI);
	fputs(", ", f);
#endif
	fputs("\"version\": \"" LAB_SARIF_TOOL_VERSION "\", "
	      "\"semanticVersion\": \"" LAB_SARIF_TOOL_VERSION "\",\n      ",
	      f);
	lab_sarif_rules(f, s, index);
	fputs("}},\n", f);
}

/* Everything of the run but its results. */
static void lab_sarif_run_header(FILE *f, const struct lab_report_set *s,
				 int index[LAB_KIND_COUNT])
{
	size_t i;

	lab_sarif_driver(f, s, index);
	/* the category GitHub files these alerts under */
	fputs("    \"automationDetails\": {\"id\": \"labyrinth/\"},\n", f);
	fputs("    \"originalUriBaseIds\": {\"" LAB_SARIF_SRCROOT "\": "
	      "{\"description\": {\"text\": \"The root of the labyrinth "
	      "repository.\"}}},\n",
	      f);
	if (s->nruns) {
		fputs("    \"invocations\": [", f);
		for (i = 0; i < s->nruns; i++) {
			fputs(i ? ",\n      " : "\n      ", f);
			lab_sarif_invocation(f, &s->runs[i]);
		}
		fputs("],\n", f);
	}
	fprintf(f,
		"    \"properties\": {\"filesRead\": %u, \"filesBad\": %u},\n",
		s->files_read, s->files_bad);
}

int lab_render_sarif(FILE *f, const struct lab_report_set *s)
{
	int index[LAB_KIND_COUNT];
	size_t i;

	fputs("{\n  \"$schema\": \"" LAB_SARIF_SCHEMA "\",\n"
	      "  \"version\": \"2.1.0\",\n  \"runs\": [{\n",
	      f);
	lab_sarif_run_header(f, s, index);
	fputs("    \"results\": [", f);
	for (i = 0; i < s->nrecs; i++) {
		const struct lab_rec *r = &s->recs[i];

		fputs(i ? ",\n    " : "\n    ", f);
		lab_sarif_result(f, r,
				 (unsigned)r->kind < LAB_KIND_COUNT ?
					 index[r->kind] :
					 -1);
	}
	fputs("]\n  }]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}
