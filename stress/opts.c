/* opts.c - the options of a run: defaults, names, strict parsing, printing.
 *
 * One table describes every option once: its name (the command-line flag
 * without "--" and the artifact field are the same word), where it may
 * appear, its range or its words, and its help line.  The command line
 * (cli.c), the artifact reader and the artifact writer (artifact.c) all go
 * through it, so a range or a name cannot differ between them, and what
 * the writer prints is exactly what the reader accepts.
 *
 * Numbers are parsed strictly: decimal digits only (no sign, no blanks, no
 * 0x, no trailing text), checked against the range before narrowing.
 */
#define _GNU_SOURCE /* sysconf */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

enum lab_opt_kind {
	LAB_OK_UINT,	 /* unsigned field, range lo..hi */
	LAB_OK_U64,	 /* uint64_t field, range lo..hi */
	LAB_OK_SECONDS,	 /* double field, decimal, 0..hi */
	LAB_OK_ENUM,	 /* enum field: index into words */
	LAB_OK_NAME,	 /* char[] field: one of words */
	LAB_OK_BUG,	 /* char[] field: a seeded bug's name */
	LAB_OK_PATH,	 /* char[] field: any non-empty text that fits */
	LAB_OK_GEOMETRY, /* "WxH" into width and height */
	LAB_OK_OFF,	 /* bool field set false by a bare flag */
	LAB_OK_ON,	 /* bool field set true by a bare flag */
};

struct lab_opt_spec {
	const char *name;
	enum lab_opt_kind kind;
	unsigned where; /* LAB_OPT_CLI | LAB_OPT_ARTIFACT */
	size_t offset, size;
	uint64_t lo, hi;
	const char *const *words; /* NULL-terminated, ENUM and NAME */
	const char *arg, *help;
};

static const char *const lab_mode_words[] = { "free", "controlled", "campaign",
					      NULL };
static const char *const lab_strategy_words[] = { "random", "pct", "list",
						  NULL };
static const char *const lab_memory_words[] = { "sc", "c11", NULL };
static const char *const lab_profile_words[] = { "mixed",     "pressure",
						 "exclusive", "orders",
						 "irq-storm", "misuse",
						 "relaxed",   "late-start",
						 NULL };

_Static_assert(sizeof(enum lab_mode) == sizeof(int) &&
		       sizeof(enum lab_strategy) == sizeof(int) &&
		       sizeof(enum lab_memory) == sizeof(int),
	       "enum option fields are stored through an int");

#define LAB_FIELD(f) \
	offsetof(struct lab_opts, f), sizeof(((struct lab_opts *)0)->f)
#define LAB_BOTH (LAB_OPT_CLI | LAB_OPT_ARTIFACT)
#define LAB_DIM_MAX 4096u

/* In artifact order; CLI-only entries sit where --help lists them. */
static const struct lab_opt_spec lab_opt_specs[] = {
	{ "mode", LAB_OK_ENUM, LAB_BOTH, LAB_FIELD(mode), 0, 0, lab_mode_words,
	  "free|controlled|campaign",
	  "what to run (default campaign: half the time free, half "
	  "controlled)" },
	{ "profile", LAB_OK_NAME, LAB_BOTH, LAB_FIELD(profile), 0, 0,
	  lab_profile_words, "NAME",
	  "workload: mixed|pressure|exclusive|orders|irq-storm|misuse|"
	  "relaxed|late-start (default mixed; relaxed: handoffs that lend "
	  "no ordering, for --memory c11 in controlled mode; "
	  "late-start: controlled only)" },
	{ "seed", LAB_OK_U64, LAB_BOTH, LAB_FIELD(seed), 0, UINT64_MAX, NULL,
	  "N", "random seed (default: from the clock; always printed)" },
	{ "maze", LAB_OK_GEOMETRY, LAB_OPT_ARTIFACT, 0, 0, 1, LAB_DIM_MAX, NULL,
	  "WxH", "maze geometry" },
	{ "width", LAB_OK_UINT, LAB_OPT_CLI, LAB_FIELD(width), 1, LAB_DIM_MAX,
	  NULL, "N", "maze width in frames (default 64 free, 8 controlled)" },
	{ "height", LAB_OK_UINT, LAB_OPT_CLI, LAB_FIELD(height), 1, LAB_DIM_MAX,
	  NULL, "N", "maze height in frames (default 64 free, 8 controlled)" },
	{ "bug", LAB_OK_BUG, LAB_BOTH, LAB_FIELD(bug), 0, 0, NULL, "NAME",
	  "seeded bug to switch on (default none; see 'labyrinth bugs')" },
	{ "threads", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(threads), 1,
	  LAB_MAX_THREADS, NULL, "N",
	  "free: worker threads (default: CPUs, at least 2)" },
	{ "seconds", LAB_OK_SECONDS, LAB_BOTH, LAB_FIELD(seconds), 0, 604800,
	  NULL, "S",
	  "time limit; 0 = --ops/--schedules only (default 60 campaign, 10 "
	  "otherwise)" },
	{ "ops", LAB_OK_U64, LAB_BOTH, LAB_FIELD(ops), 0, UINT64_MAX, NULL, "N",
	  "free: stop after N operations in all (default 0 = no limit)" },
	{ "irq-rate", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(irq_rate), 0, 1000000,
	  NULL, "N",
	  "free: interrupts per second (default 2000; irq-storm x20)" },
	{ "strategy", LAB_OK_ENUM, LAB_BOTH, LAB_FIELD(strategy), 0, 0,
	  lab_strategy_words, "random|pct",
	  "controlled: scheduling strategy (default pct)" },
	{ "depth", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(depth), 1, 8, NULL, "D",
	  "controlled: PCT bug depth (default 3)" },
	{ "logical", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(logical), 1,
	  LAB_MAX_LOGICAL, NULL, "N",
	  "controlled: logical threads, 1..8 (default 3)" },
	{ "ops-per-thread", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(ops_per_thread), 1,
	  100000, NULL, "N",
	  "controlled: operations per logical thread (default 24)" },
	{ "irq-permille", LAB_OK_UINT, LAB_BOTH, LAB_FIELD(irq_permille), 0,
	  1000, NULL, "N",
	  "controlled: chance of an interrupt per decision, 0..1000 (default "
	  "50)" },
	/* The memory model: optional fields (an older artifact is sc); the
	 * printed command names them only for c11 (lab_opts_command). */
	{ "memory", LAB_OK_ENUM, LAB_BOTH | LAB_OPT_OPTIONAL, LAB_FIELD(memory),
	  0, 0, lab_memory_words, "sc|c11",
	  "controlled: memory model of instrumented atomics: sc, every load "
	  "reads the newest store; c11, a load may read any older store C11 "
	  "allows, each such reads-from choice a recorded decision (default "
	  "sc)" },
	{ "history", LAB_OK_UINT, LAB_BOTH | LAB_OPT_OPTIONAL,
	  LAB_FIELD(history), 1, 64, NULL, "N",
	  "controlled, --memory c11: stores kept per atomic location, 1..64 "
	  "(default 8)" },
	{ "stale-permille", LAB_OK_UINT, LAB_BOTH | LAB_OPT_OPTIONAL,
	  LAB_FIELD(stale_permille), 0, 1000, NULL, "N",
	  "controlled, --memory c11: chance per reads-from choice that a load "
	  "reads an older store, 0..1000 (default 200)" },
	{ "max-steps", LAB_OK_U64, LAB_BOTH, LAB_FIELD(max_steps), 1, 100000000,
	  NULL, "N",
	  "controlled: livelock bound: decisions in which no thread completes "
	  "an operation (injected interrupts not counted; default 200000); "
	  "a schedule still progressing stops at 16 x N decisions, not a "
	  "finding" },
	{ "schedules", LAB_OK_U64, LAB_BOTH, LAB_FIELD(schedules), 0,
	  UINT64_MAX, NULL, "N",
	  "controlled: schedules to run (default 0 = until time runs out)" },
	{ "backend", LAB_OK_PATH, LAB_BOTH | LAB_OPT_OPTIONAL,
	  LAB_FIELD(backend), 0, 0, NULL, "NAME",
	  "the allocator to stress, from the backend table (default "
	  "labyrinth: the full mode; others: threads or logical threads, "
	  "stamps, cross-thread frees, no interrupts)" },
	{ "user-build", LAB_OK_PATH, LAB_OPT_ARTIFACT | LAB_OPT_OPTIONAL,
	  LAB_FIELD(user_build), 0, 0, NULL, "ID",
	  "build id of the backend's code a controlled artifact was recorded "
	  "with (none: the labyrinth allocator)" },
	/* Bare flags are artifact fields too, "on" when the flag was given:
	 * both change what a free-running run does (how often it yields,
	 * when it stops), so a replay must do the same. */
	{ "no-delays", LAB_OK_OFF, LAB_BOTH | LAB_OPT_OPTIONAL,
	  LAB_FIELD(delays), 0, 0, NULL, NULL,
	  "free: no short delays at yield points (with --irq-rate 0: plain "
	  "threads, the naive baseline)" },
	{ "first", LAB_OK_ON, LAB_BOTH | LAB_OPT_OPTIONAL, LAB_FIELD(first), 0,
	  0, NULL, NULL,
	  "free: stop at the first finding (controlled mode always does)" },
	/* Not an artifact field: a schedule takes the same decisions in a
	 * child or in this process (the determinism test compares their
	 * trace digests); replay and shrink have their own --no-isolate. */
	{ "no-isolate", LAB_OK_OFF, LAB_OPT_CLI, LAB_FIELD(isolate), 0, 0, NULL,
	  NULL, "controlled: run schedules in this process, not in a child" },
	/* Recorded (as an absolute path) for the reader: where the run's
	 * findings went.  It does not change what runs. */
	{ "out", LAB_OK_PATH, LAB_BOTH | LAB_OPT_OPTIONAL, LAB_FIELD(out_dir),
	  0, 0, NULL, "DIR",
	  "where findings and reports go (default: a new "
	  "reports/TIME-stress-MODE-seedN/, linked from reports/latest)" },
	/* Not an artifact field: it only draws a line on the terminal. */
	{ "no-progress", LAB_OK_OFF, LAB_OPT_CLI, LAB_FIELD(progress), 0, 0,
	  NULL, NULL, "no live progress line on a terminal" },
};

#define LAB_NSPECS ((int)(sizeof(lab_opt_specs) / sizeof(lab_opt_specs[0])))

void lab_opts_defaults(struct lab_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->mode = LAB_MODE_CAMPAIGN;
	strcpy(o->profile, "mixed");
	strcpy(o->bug, "none");
	o->width = o->height = 64;
	o->threads = ncpu < 2		    ? 2 :
		     ncpu > LAB_MAX_THREADS ? LAB_MAX_THREADS :
					      (unsigned)ncpu;
	o->seconds = 60;
	o->irq_rate = 2000;
	o->strategy = LAB_STRAT_PCT;
	o->depth = 3;
	o->logical = 3;
	o->ops_per_thread = 24;
	o->irq_permille = 50;
	o->max_steps = 200000;
	o->isolate = true;
	o->memory = LAB_MEM_SC;
	o->history = 8;
	/* One stale read in five choices: most bugs need one stale load
	 * at the right place, which a few schedules then reach, while
	 * most loads still read the newest store, so programs run their
	 * normal course (spin-waits end, operations complete). */
	o->stale_permille = 200;
	o->delays = true;
	snprintf(o->backend, sizeof(o->backend), "labyrinth");
	snprintf(o->user_build, sizeof(o->user_build), "none");
	strcpy(o->out_dir, "reports/latest");
	o->progress = true;
}

void lab_opts_mode_defaults(struct lab_opts *o, enum lab_mode mode,
			    uint64_t given)
{
	unsigned dim = mode == LAB_MODE_CONTROLLED ? 8 : 64;

	o->mode = mode;
	if (!(given & lab_opt_bit("seconds")))
		o->seconds = mode == LAB_MODE_CAMPAIGN ? 60 : 10;
	if (!(given & lab_opt_bit("width")))
		o->width = dim;
	if (!(given & lab_opt_bit("height")))
		o->height = dim;
}

int lab_opts_check(const struct lab_opts *o, char *err, size_t errlen)
{
	uint64_t frames = (uint64_t)o->width * o->height;

	/* Its threads start inside schedules (program.c). */
	if (o->mode != LAB_MODE_CONTROLLED &&
	    !strcmp(o->profile, "late-start")) {
		snprintf(err, errlen,
			 "--profile %s runs in --mode controlled only",
			 o->profile);
		return -1;
	}
	/* The model lives in the controlled scheduler. */
	if (o->mode == LAB_MODE_FREE && o->memory != LAB_MEM_SC) {
		snprintf(err, errlen,
			 "--memory %s runs in --mode controlled or campaign "
			 "(its controlled half) only",
			 lab_memory_name(o->memory));
		return -1;
	}
	if (frames <= LAB_FRAMES_MAX)
		return 0;
	snprintf(err, errlen,
		 "maze %ux%u has %" PRIu64 " frames, more than the %u a run "
		 "may map",
		 o->width, o->height, frames, LAB_FRAMES_MAX);
	return -1;
}

int lab_opts_artifact_check(const struct lab_opts *o, char *err, size_t errlen)
{
	struct lab_opts back = *o;
	char value[sizeof(o->out_dir) + 64], why[200];
	int i;

	for (i = 0; i < LAB_NSPECS; i++) {
		if (!(lab_opt_specs[i].where & LAB_OPT_ARTIFACT))
			continue;
		lab_opt_format(o, i, value, sizeof(value));
		if (lab_opt_parse(&back, i, value, why, sizeof(why))) {
			snprintf(err, errlen, "%s (field '%s')", why,
				 lab_opt_specs[i].name);
			return -1;
		}
	}
	return lab_opts_check(o, err, errlen);
}

const char *lab_mode_name(enum lab_mode m)
{
	return (unsigned)m < 3 ? lab_mode_words[m] : "?";
}

const char *lab_strategy_name(enum lab_strategy s)
{
	return (unsigned)s < 3 ? lab_strategy_words[s] : "?";
}

const char *lab_memory_name(enum lab_memory m)
{
	return (unsigned)m < 2 ? lab_memory_words[m] : "?";
}

/* The memory model's options in a printed command: only for c11, so
 * every command of an SC run reads as it always did. */
static bool lab_opt_in_command(const struct lab_opts *o,
			       const struct lab_opt_spec *sp)
{
	if (!(sp->where & LAB_OPT_CLI) || !strcmp(sp->name, "no-progress"))
		return false;
	return o->memory != LAB_MEM_SC ||
	       (strcmp(sp->name, "memory") && strcmp(sp->name, "history") &&
		strcmp(sp->name, "stale-permille"));
}

/* ---- the table ------------------------------------------------------------- */

int lab_opt_count(void)
{
	return LAB_NSPECS;
}

int lab_opt_find(const char *name, unsigned where)
{
	int i;

	for (i = 0; i < LAB_NSPECS; i++)
		if ((lab_opt_specs[i].where & where) &&
		    !strcmp(lab_opt_specs[i].name, name))
			return i;
	return -1;
}

const char *lab_opt_name(int i)
{
	return i >= 0 && i < LAB_NSPECS ? lab_opt_specs[i].name : NULL;
}

bool lab_opt_in(int i, unsigned where)
{
	return i >= 0 && i < LAB_NSPECS && (lab_opt_specs[i].where & where);
}

bool lab_opt_takes_value(int i)
{
	return i >= 0 && i < LAB_NSPECS &&
	       lab_opt_specs[i].kind != LAB_OK_OFF &&
	       lab_opt_specs[i].kind != LAB_OK_ON;
}

uint64_t lab_opt_bit(const char *name)
{
	int i = lab_opt_find(name, LAB_OPT_CLI | LAB_OPT_ARTIFACT);

	return i < 0 ? 0 : (uint64_t)1 << i;
}

_Static_assert(sizeof(lab_opt_specs) / sizeof(lab_opt_specs[0]) <= 64,
	       "lab_opt_bit needs one bit per option");

/* ---- parsing ----------------------------------------------------------------- */

/* Strict unsigned decimal: digits only, no overflow.  0 or -1. */
int lab_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Non-negative decimal with an optional fraction ("2", "0.5", "10.",
 * ".5"): no sign, exponent, hex, inf or nan, whatever strtod would take. */
static int lab_parse_seconds(const char *s, double *out)
{
	static const char digits[] = "0123456789";
	size_t int_digits = strspn(s, digits), frac_digits = 0;
	const char *p = s + int_digits;
	char *end;

	if (*p == '.') {
		frac_digits = strspn(p + 1, digits);
		p += 1 + frac_digits;
	}
	if (*p || int_digits + frac_digits == 0)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end ? -1 : 0;
}

static int lab_word_index(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(words[i], s))
			return i;
	return -1;
}

static void lab_words_list(const char *const *words, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; words[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "|" : "",
				      words[i]);
}

static bool lab_bug_known(const char *name)
{
	int b;

	for (b = 0; b < LAB_BUG_COUNT; b++)
		if (!strcmp(lab_bug_name((enum lab_bug)b), name))
			return true;
	return false;
}

static int lab_set_number(const struct lab_opt_spec *sp, void *field,
			  const char *value, char *err, size_t errlen)
{
	struct lab_shown sh;
	uint64_t v;

	if (lab_parse_u64(value, &v)) {
		snprintf(err, errlen, "%s is not an unsigned decimal number%s",
			 lab_shown(value, &sh),
			 *value && !value[strspn(value, "0123456789")] ?
				 " below 2^64" :
				 "");
		return -1;
	}
	if (v < sp->lo || v > sp->hi) {
		snprintf(err, errlen,
			 "%s is out of range %" PRIu64 "..%" PRIu64,
			 lab_shown(value, &sh), sp->lo, sp->hi);
		return -1;
	}
	if (sp->kind == LAB_OK_UINT)
		*(unsigned *)field = (unsigned)v;
	else
		*(uint64_t *)field = v;
	return 0;
}

static int lab_set_seconds(const struct lab_opt_spec *sp, double *field,
			   const char *value, char *err, size_t errlen)
{
	struct lab_shown sh;
	double v;

	if (lab_parse_seconds(value, &v)) {
		snprintf(err, errlen, "%s is not a non-negative decimal number",
			 lab_shown(value, &sh));
		return -1;
	}
	if (v > (double)sp->hi) {
		snprintf(err, errlen, "%s is out of range 0..%" PRIu64,
			 lab_shown(value, &sh), sp->hi);
		return -1;
	}
	*field = v;
	return 0;
}

static int lab_set_geometry(struct lab_opts *o, const struct lab_opt_spec *sp,
			    const char *value, char *err, size_t errlen)
{
	char w[24], *x = strchr(value, 'x');
	struct lab_shown sh;
	uint64_t wv, hv;

	if (!x || (size_t)(x - value) >= sizeof(w)) {
		snprintf(err, errlen, "%s is not WIDTHxHEIGHT",
			 lab_shown(value, &sh));
		return -1;
	}
	memcpy(w, value, (size_t)(x - value));
	w[x - value] = '\0';
	if (lab_parse_u64(w, &wv) || lab_parse_u64(x + 1, &hv)) {
		snprintf(err, errlen, "%s is not WIDTHxHEIGHT",
			 lab_shown(value, &sh));
		return -1;
	}
	if (wv < sp->lo || wv > sp->hi || hv < sp->lo || hv > sp->hi) {
		snprintf(err, errlen,
			 "%s: width and height must be in %" PRIu64
			 "..%" PRIu64,
			 lab_shown(value, &sh), sp->lo, sp->hi);
		return -1;
	}
	o->width = (unsigned)wv;
	o->height = (unsigned)hv;
	return 0;
}

static int lab_set_text(const struct lab_opt_spec *sp, char *field,
			const char *value, char *err, size_t errlen)
{
	struct lab_shown sh;
	char known[160];

	if (sp->kind == LAB_OK_NAME && lab_word_index(sp->words, value) < 0) {
		lab_words_list(sp->words, known, sizeof(known));
		snprintf(err, errlen, "unknown %s %s (known: %s)", sp->name,
			 lab_shown(value, &sh), known);
		return -1;
	}
	if (sp->kind == LAB_OK_BUG && !lab_bug_known(value)) {
		snprintf(err, errlen, "unknown bug %s (see 'labyrinth bugs')",
			 lab_shown(value, &sh));
		return -1;
	}
	if (!*value || strlen(value) >= sp->size) {
		snprintf(err, errlen, "%s must be 1..%zu characters",
			 lab_shown(value, &sh), sp->size - 1);
		return -1;
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* A bare flag: given on the command line (value NULL), or an artifact's
 * "on" (the flag was given) or "off" (it was not). */
static int lab_set_flag(const struct lab_opt_spec *sp, bool *field,
			const char *value, char *err, size_t errlen)
{
	bool given = !value || !strcmp(value, "on");

	if (value && !given && strcmp(value, "off")) {
		snprintf(err, errlen, "'%.40s' is not on or off", value);
		return -1;
	}
	*field = given == (sp->kind == LAB_OK_ON);
	return 0;
}

int lab_opt_parse(struct lab_opts *o, int i, const char *value, char *err,
		  size_t errlen)
{
	const struct lab_opt_spec *sp = &lab_opt_specs[i];
	char *field = (char *)o + sp->offset;
	struct lab_shown sh;
	char known[160];
	int w;

	switch (sp->kind) {
	case LAB_OK_UINT:
	case LAB_OK_U64:
		return lab_set_number(sp, field, value, err, errlen);
	case LAB_OK_SECONDS:
		return lab_set_seconds(sp, (double *)field, value, err, errlen);
	case LAB_OK_ENUM:
		if ((w = lab_word_index(sp->words, value)) < 0) {
			lab_words_list(sp->words, known, sizeof(known));
			snprintf(err, errlen, "unknown %s %s (known: %s)",
				 sp->name, lab_shown(value, &sh), known);
			return -1;
		}
		*(int *)field = w;
		return 0;
	case LAB_OK_GEOMETRY:
		return lab_set_geometry(o, sp, value, err, errlen);
	case LAB_OK_OFF:
	case LAB_OK_ON:
		return lab_set_flag(sp, (bool *)field, value, err, errlen);
	default:
		return lab_set_text(sp, field, value, err, errlen);
	}
}

/* ---- printing ------------------------------------------------------------------ */

/* %.17g round-trips a double, but the reader takes no exponent: tiny
 * values get plain digits instead. */
static int lab_format_seconds(double v, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.17g", v);

	if (n > 0 && (size_t)n < len && strchr(buf, 'e'))
		n = snprintf(buf, len, "%.24f", v);
	return n;
}

int lab_opt_format(const struct lab_opts *o, int i, char *buf, size_t len)
{
	const struct lab_opt_spec *sp = &lab_opt_specs[i];
	const char *field = (const char *)o + sp->offset;

	switch (sp->kind) {
	case LAB_OK_UINT:
		return snprintf(buf, len, "%u", *(const unsigned *)field);
	case LAB_OK_U64:
		return snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
	case LAB_OK_SECONDS:
		return lab_format_seconds(*(const double *)field, buf, len);
	case LAB_OK_ENUM:
		return snprintf(buf, len, "%s", sp->words[*(const int *)field]);
	case LAB_OK_GEOMETRY:
		return snprintf(buf, len, "%ux%u", o->width, o->height);
	case LAB_OK_OFF:
	case LAB_OK_ON: /* was the flag given? */
		return snprintf(buf, len, "%s",
				*(const bool *)field ==
						(sp->kind == LAB_OK_ON) ?
					"on" :
					"off");
	default:
		return snprintf(buf, len, "%s", field);
	}
}

const char *lab_opt_arg(int i)
{
	return i >= 0 && i < LAB_NSPECS ? lab_opt_specs[i].arg : NULL;
}

const char *lab_opt_help(int i)
{
	return i >= 0 && i < LAB_NSPECS ? lab_opt_specs[i].help : NULL;
}

/* Every CLI option, so the command runs the same thing again; --out as
 * an absolute path, so it writes where this run did from any directory. */
void lab_opts_command(const struct lab_opts *o, char *buf, size_t len)
{
	size_t used =
		(size_t)snprintf(buf, len, "%s stress", lab_self_command());
	int i;

	for (i = 0; i < LAB_NSPECS && used < len; i++) {
		const struct lab_opt_spec *sp = &lab_opt_specs[i];
		char v[PATH_MAX], q[2 * PATH_MAX + 8];

		if (!lab_opt_in_command(o, sp))
			continue;
		lab_opt_format(o, i, v, sizeof(v));
		if (!sp->arg) { /* a bare flag: given or not */
			if (!strcmp(v, "on"))
				used += (size_t)snprintf(buf + used, len - used,
							 " --%s", sp->name);
			continue;
		}
		if (!strcmp(sp->name, "out"))
			lab_abs_path(o->out_dir, v, sizeof(v));
		lab_shell_quote(v, q, sizeof(q));
		used += (size_t)snprintf(buf + used, len - used, " --%s %s",
					 sp->name, q);
	}
}
