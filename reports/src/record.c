/* record.c - kinds, signatures and source sites of findings, and the time
 * series of runs. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const struct {
	const char *name, *title;
} lab_kinds[LAB_KIND_COUNT] = {
	[LAB_KIND_INVARIANT] = { "invariant", "Invariant violation" },
	[LAB_KIND_EXCLUSIVE] = { "exclusive-ownership",
				 "Exclusive-ownership violation" },
	[LAB_KIND_SLEEP_IN_ATOMIC] = { "sleep-in-atomic",
				       "Sleep in atomic context" },
	[LAB_KIND_DEADLOCK] = { "deadlock", "Deadlock" },
	[LAB_KIND_LIVELOCK] = { "livelock", "Livelock" },
	[LAB_KIND_DATA_RACE] = { "data-race", "Data race (ThreadSanitizer)" },
	[LAB_KIND_MEMORY_ERROR] = { "memory-error",
				    "Memory error (AddressSanitizer)" },
	[LAB_KIND_UNDEFINED] = { "undefined-behavior",
				 "Undefined behaviour (UBSan)" },
	[LAB_KIND_LEAK] = { "leak", "Leak (LeakSanitizer)" },
	[LAB_KIND_CRASH] = { "crash", "Crash" },
	[LAB_KIND_TIMEOUT] = { "timeout", "Timeout" },
	[LAB_KIND_OUT_OF_MEMORY] = { "out-of-memory", "Out of memory" },
};

const char *lab_kind_name(enum lab_kind k)
{
	return (unsigned)k < LAB_KIND_COUNT ? lab_kinds[k].name : "unknown";
}

const char *lab_kind_title(enum lab_kind k)
{
	return (unsigned)k < LAB_KIND_COUNT ? lab_kinds[k].title : "Unknown";
}

int lab_kind_parse(const char *name)
{
	int k;

	for (k = 0; k < LAB_KIND_COUNT; k++)
		if (!strcmp(name, lab_kinds[k].name))
			return k;
	return -1;
}

/* Detector names of the allocator's report hook and the harness checks. */
static const struct {
	const char *check;
	enum lab_kind kind;
} lab_checks[] = {
	{ "foreign-free", LAB_KIND_EXCLUSIVE },
	{ "foreign-access", LAB_KIND_EXCLUSIVE },
	{ "foreign-accepted", LAB_KIND_EXCLUSIVE },
	{ "foreign-free-accepted", LAB_KIND_EXCLUSIVE },
	{ "handoff-refused", LAB_KIND_EXCLUSIVE },
	{ "handoff-error", LAB_KIND_EXCLUSIVE },
	{ "sleep-in-atomic", LAB_KIND_SLEEP_IN_ATOMIC },
	{ "might-sleep-missed", LAB_KIND_SLEEP_IN_ATOMIC },
	{ "deadlock", LAB_KIND_DEADLOCK },
	{ "livelock", LAB_KIND_LIVELOCK },
	{ "data-race", LAB_KIND_DATA_RACE },
	{ "crash", LAB_KIND_CRASH },
	{ "timeout", LAB_KIND_TIMEOUT },
	{ "leak", LAB_KIND_LEAK },
	{ "out-of-memory", LAB_KIND_OUT_OF_MEMORY },
};

enum lab_kind lab_kind_of_check(const char *check)
{
	size_t i;

	for (i = 0; i < sizeof(lab_checks) / sizeof(lab_checks[0]); i++)
		if (!strcmp(check, lab_checks[i].check))
			return lab_checks[i].kind;
	/* double-free, stamp-mismatch, poison-overwritten, inconsistent,
	 * not-conserved, ...: the allocator's state is wrong */
	return LAB_KIND_INVARIANT;
}

void lab_rec_init(struct lab_rec *r, enum lab_kind kind, const char *check)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->check, sizeof(r->check), "%s", check ? check : "");
	snprintf(r->bug, sizeof(r->bug), "none");
	r->thread = -1;
	r->count = 1;
}

/* Where the harness's site names live.  Yield points are named
 * "<area>:<what>"; the area says the file.  Public entry points of the
 * allocator are looked up by prefix. */
static const struct {
	const char *prefix, *file;
} lab_site_files[] = {
	{ "alloc:", "allocator/src/alloc.c" },
	{ "desc:", "allocator/src/alloc.c" },
	{ "buddy:", "allocator/src/buddy.c" },
	{ "pcp:", "allocator/src/pcp.c" },
	{ "free:", "allocator/src/free.c" },
	{ "owner:", "allocator/src/free.c" },
	{ "spin:", "allocator/src/context.c" },
	{ "lab_alloc", "allocator/src/alloc.c" },
	{ "lab_free", "allocator/src/free.c" },
	{ "lab_page_handoff", "allocator/src/free.c" },
	{ "lab_access", "allocator/src/check.c" },
	{ "lab_maze_check", "allocator/src/check.c" },
	{ "lab_irq", "allocator/src/context.c" },
	{ "lab_local_irq", "allocator/src/context.c" },
	{ "lab_preempt", "allocator/src/context.c" },
	{ "lab_spin", "allocator/src/context.c" },
	{ "lab_might_sleep", "allocator/src/context.c" },
	{ "final-check", "allocator/src/check.c" },
};

void lab_site_of_where(struct lab_site *s, const char *where)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	snprintf(s->function, sizeof(s->function), "%s", where ? where : "");
	for (i = 0;
	     where && i < sizeof(lab_site_files) / sizeof(lab_site_files[0]);
	     i++) {
		const char *p = lab_site_files[i].prefix;

		if (!strncmp(where, p, strlen(p))) {
			snprintf(s->file, sizeof(s->file), "%s",
				 lab_site_files[i].file);
			return;
		}
	}
}

/* Paths inside the project are cut to the part from a top-level
 * directory of the repository on, so records from two checkouts agree. */
void lab_site_relative(char *file, size_t len)
{
	static const char *const tops[] = { "/allocator/", "/stress/",
					    "/fuzz/",	   "/reports/",
					    "/tests/",	   "/bench/",
					    "/examples/" };
	size_t i;

	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		char *p = strstr(file, tops[i]);

		if (p) {
			memmove(file, p + 1, strlen(p + 1) + 1);
			return;
		}
	}
	(void)len;
}

/* Signature: "<kind>/<check>@<f1>><f2>><f3>" (functions of the top project
 * frames), or "@<site>" without frames.  No addresses, no line numbers: a
 * finding keeps its signature across edits, builds and seeds. */
void lab_rec_sign(struct lab_rec *r, const char *where)
{
	char sites[200] = "";
	size_t used = 0;
	unsigned i, taken = 0;

	for (i = 0; i < r->nframes && taken < 3; i++) {
		const char *fn = r->frames[i].function;
		int n;

		if (!*fn)
			continue;
		n = snprintf(sites + used, sizeof(sites) - used, "%s%s",
			     taken ? ">" : "", fn);
		if (n < 0 || (size_t)n >= sizeof(sites) - used)
			break;
		used += (size_t)n;
		taken++;
	}
	if (!taken)
		snprintf(sites, sizeof(sites), "%s",
			 where && *where   ? where :
			 *r->site.function ? r->site.function :
					     "unknown");
	snprintf(r->signature, sizeof(r->signature), "%s/%s@%s",
		 lab_kind_name(r->kind), *r->check ? r->check : "-", sites);
}

void lab_rec_add_op(struct lab_rec *r, const char *op)
{
	if (r->nops == LAB_REC_OPS) {
		memmove(r->ops[0], r->ops[1],
			sizeof(r->ops[0]) * (LAB_REC_OPS - 1));
		r->nops--;
	}
	snprintf(r->ops[r->nops++], sizeof(r->ops[0]), "%s", op);
}

/* ---- stack frames ------------------------------------------------------- */

/* Frames that are not the project's: runtimes, libc, libFuzzer, and the
 * fuzz entry point every crash of a target passes through. */
static bool lab_frame_foreign(const char *fn, const char *file)
{
	static const char *const prefixes[] = {
		"__sanitizer",
		"__asan",
		"__tsan",
		"__ubsan",
		"__interceptor",
		"___interceptor",
		"__interception",
		"fuzzer::",
		"__pthread",
		"pthread_",
		"raise",
		"abort",
		"gsignal",
		"__GI_",
		"__libc_",
		"_start",
		"main",
		"std::",
		"LLVMFuzzerTestOneInput",
	};
	size_t i;

	if (!*file || file[0] == '(' || !strchr(file, ':'))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
			return true;
	return !strstr(file, "/allocator/") && !strstr(file, "/stress/") &&
	       !strstr(file, "/fuzz/") && !strstr(file, "/reports/") &&
	       !strstr(file, "/examples/");
}

/* "#N 0xADDR in FN FILE:L:C" (ASan, libFuzzer) or "#N FN FILE:L:C
 * (BIN+0x..)" (TSan). */
bool lab_site_parse_frame(const char *line, struct lab_site *s)
{
	char fn[96] = "", file[192] = "";
	const char *p = strchr(line, '#');
	char *colon;

	if (!p || !isdigit((unsigned char)p[1]))
		return false;
	p += 1 + strspn(p + 1, "0123456789");
	p += strspn(p, " ");
	if (!strncmp(p, "0x", 2)) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
		if (!strncmp(p, "in ", 3))
			p += 3;
	}
	if (sscanf(p, "%95s %191s", fn, file) < 2 ||
	    lab_frame_foreign(fn, file))
		return false;
	memset(s, 0, sizeof(*s));
	snprintf(s->function, sizeof(s->function), "%s", fn);
	colon = strchr(file, ':');
	s->line = (unsigned)strtoul(colon + 1, NULL, 10);
	*colon = '\0';
	snprintf(s->file, sizeof(s->file), "%s", file);
	lab_site_relative(s->file, sizeof(s->file));
	return true;
}

/* ---- sanitizer summaries ---------------------------------------------- */

static const struct {
	const char *tool;
	enum lab_kind kind;
} lab_sanitizers[] = {
	{ "ThreadSanitizer", LAB_KIND_DATA_RACE },
	{ "AddressSanitizer", LAB_KIND_MEMORY_ERROR },
	{ "UndefinedBehaviorSanitizer", LAB_KIND_UNDEFINED },
	{ "LeakSanitizer", LAB_KIND_LEAK },
	{ "libFuzzer", LAB_KIND_CRASH },
};

/* "/x/a.c:12:3 in fn" or "(/lib/x.so+0x12) in fn" or "in fn": fills site. */
static void lab_site_from_tail(struct lab_site *s, const char *tail)
{
	const char *in = strstr(tail, " in ");
	char loc[256];
	size_t n;
	char *colon;

	memset(s, 0, sizeof(*s));
	if (in)
		snprintf(s->function, sizeof(s->function), "%s", in + 4);
	n = in ? (size_t)(in - tail) : strlen(tail);
	if (n >= sizeof(loc))
		n = sizeof(loc) - 1;
	memcpy(loc, tail, n);
	loc[n] = '\0';
	if (loc[0] == '(' || !strchr(loc, ':'))
		return;
	/* file:line[:col] */
	colon = strchr(loc, ':');
	*colon = '\0';
	s->line = (unsigned)strtoul(colon + 1, NULL, 10);
	lab_fit(s->file, sizeof(s->file), "%s", loc);
	lab_site_relative(s->file, sizeof(s->file));
}

bool lab_rec_from_summary(struct lab_rec *r, const char *summary)
{
	const char *p = strstr(summary, "SUMMARY: ");
	size_t i;

	if (!p)
		return false;
	p += 9;
	for (i = 0; i < sizeof(lab_sanitizers) / sizeof(lab_sanitizers[0]);
	     i++) {
		size_t n = strlen(lab_sanitizers[i].tool);
		const char *what, *sp;
		char check[48];

		if (strncmp(p, lab_sanitizers[i].tool, n) || p[n] != ':')
			continue;
		r->kind = lab_sanitizers[i].kind;
		what = p + n + 1;
		while (*what == ' ')
			what++;
		/* the error name runs to the location: "data race /x.c:..",
		 * "heap-use-after-free /x.c:..", "6 byte(s) leaked in 1 ..." */
		sp = what;
		while (*sp && *sp != '/' && *sp != '(' &&
		       strncmp(sp, " in ", 4))
			sp++;
		snprintf(check, sizeof(check), "%.*s", (int)(sp - what), what);
		while (*check && check[strlen(check) - 1] == ' ')
			check[strlen(check) - 1] = '\0';
		for (char *c = check; *c; c++)
			if (*c == ' ')
				*c = '-';
		if (r->kind == LAB_KIND_LEAK || isdigit((unsigned char)*check))
			snprintf(check, sizeof(check), "leak"),
				r->kind = LAB_KIND_LEAK;
		snprintf(r->check, sizeof(r->check), "%s", check);
		lab_site_from_tail(&r->site, sp);
		snprintf(r->summary, sizeof(r->summary), "%s", summary);
		while (*r->summary &&
		       (r->summary[strlen(r->summary) - 1] == '\n'))
			r->summary[strlen(r->summary) - 1] = '\0';
		if (!*r->title)
			snprintf(r->title, sizeof(r->title), "%s", p);
		return true;
	}
	return false;
}

/* ---- series and runs ---------------------------------------------------- */

void lab_series_add(struct lab_series *s, double t, double v)
{
	unsigned i;

	if (!s->every)
		s->every = 1;
	if (s->seen++ % s->every)
		return;
	if (s->n == LAB_SERIES_POINTS) {
		s->every *= 2;
		for (i = 0; i < LAB_SERIES_POINTS / 2; i++) {
			s->t[i] = s->t[2 * i];
			s->v[i] = s->v[2 * i];
		}
		s->n = LAB_SERIES_POINTS / 2;
	}
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->n++;
}

void lab_runrec_init(struct lab_runrec *r, const char *tool)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->tool, sizeof(r->tool), "%s", tool ? tool : "");
	snprintf(r->result, sizeof(r->result), "pass");
}

struct lab_series *lab_runrec_series(struct lab_runrec *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->nseries; i++)
		if (!strcmp(r->series[i].name, name))
			return &r->series[i];
	if (r->nseries == LAB_RUN_SERIES)
		return NULL;
	snprintf(r->series[r->nseries].name, sizeof(r->series[0].name), "%s",
		 name);
	return &r->series[r->nseries++];
}
