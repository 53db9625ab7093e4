/* cli.c - the `labyrinth` command: subcommands, flags, help, exit codes.
 *
 *   labyrinth stress [FLAGS]            free-running, controlled or both
 *   labyrinth replay ARTIFACT           re-run a recorded finding
 *   labyrinth shrink ARTIFACT [-o OUT]  minimise a controlled finding
 *   labyrinth report [--out DIR] PATH...  merge findings, render reports
 *   labyrinth zoo [list|run|bench]      seeded bugs against harness modes
 *   labyrinth bugs                      the seeded bugs of this build
 *   labyrinth help [COMMAND]            usage; also COMMAND --help
 *
 * Exit status: 0 nothing found, 1 findings, 2 usage or input error.  A
 * usage or input error is one line on stderr starting "labyrinth: ".
 * The flags of `stress` are the option table of opts.c, parsed strictly.
 */
#define _GNU_SOURCE /* clock_gettime, PATH_MAX */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

enum {
	LAB_EXIT_CLEAN,
	LAB_EXIT_FOUND,
	LAB_EXIT_USAGE, /* also: something of the run could not be saved */
	LAB_EXIT_INTERRUPTED = 130 /* 128 + SIGINT, as a shell reports it */
};

#define LAB_HELP_SHOWN (-2) /* a parser printed --help: exit 0 */
#define LAB_SHRINK_BUDGET 1000u

struct lab_cmd {
	const char *name, *synopsis, *summary;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *out);
};

static const struct lab_cmd *lab_cmd_find(const char *name);
static void lab_main_help(FILE *out);

static int lab_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The one-line usage error: "labyrinth: [CMD: ]what", exit status 2.
 * Values in it go through lab_shown (quoted, escaped, cut); control bytes
 * that reach it anyway (a path in an artifact reader's message) are
 * escaped here, so it stays one line. */
static int lab_usage(const char *cmd, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "labyrinth: ");
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	lab_shown_line(stderr, line);
	fputc('\n', stderr);
	return LAB_EXIT_USAGE;
}

static int lab_exit_for(int findings)
{
	return findings < 0 ? LAB_EXIT_USAGE :
	       findings	    ? LAB_EXIT_FOUND :
			      LAB_EXIT_CLEAN;
}

/* A stress run's status: what was lost outranks what was found (the
 * findings' records may be among the lost), findings outrank a stop. */
static int lab_stress_exit(int findings)
{
	if (findings < 0 || lab_runlog_nlost())
		return LAB_EXIT_USAGE;
	if (findings)
		return LAB_EXIT_FOUND;
	return lab_stop_requested() ? LAB_EXIT_INTERRUPTED : LAB_EXIT_CLEAN;
}

static bool lab_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* ---- stress: flags ------------------------------------------------------------ */

/* "--name value" or "--name=value"; *i moves past what was used. */
static int lab_stress_flag(int argc, char **argv, int *i, struct lab_opts *o,
			   uint64_t *given)
{
	char name[40], why[600];
	const char *arg = argv[*i], *eq = strchr(arg, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	struct lab_shown sh;
	int k;

	if (strncmp(arg, "--", 2) || len < 3)
		return lab_usage("stress",
				 "unexpected argument %s (see "
				 "'labyrinth stress --help')",
				 lab_shown(arg, &sh));
	k = -1;
	if (len - 2 < sizeof(name)) {
		memcpy(name, arg + 2, len - 2);
		name[len - 2] = '\0';
		k = lab_opt_find(name, LAB_OPT_CLI);
	}
	if (k < 0)
		return lab_usage("stress",
				 "unknown flag %s (see "
				 "'labyrinth stress --help')",
				 lab_shown(arg, &sh));
	if (*given & ((uint64_t)1 << k))
		return lab_usage("stress", "--%s is given more than once",
				 name);
	if (lab_opt_takes_value(k)) {
		value = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		if (!value)
			return lab_usage("stress", "--%s needs a value", name);
	} else if (eq) {
		return lab_usage("stress", "--%s takes no value", name);
	}
	if (lab_opt_parse(o, k, value, why, sizeof(why)))
		return lab_usage("stress", "--%s: %s", name, why);
	*given |= (uint64_t)1 << k;
	return 0;
}

static double lab_seconds(void)
{
	return (double)lab_now_ns() / 1e9;
}

static uint64_t lab_clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Limits that only make sense together. */
/* --backend: a registered name (every mode: controlled schedules of a
 * backend switch at its calls and at its instrumented code). */
static int lab_backend_check(const struct lab_opts *o)
{
	const char *names[16];
	char list[256] = "";
	unsigned n = lab_backend_list(names, 16), i;

	if (lab_backend_find(o->backend))
		return 0;
	for (i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", names[i]);
	return lab_usage("stress",
			 "--backend: no backend '%s' (registered: %s)",
			 o->backend, list);
}

/* --history and --stale-permille shape the c11 model only: given
 * without it they would do nothing, which is never what was meant. */
static int lab_memory_check(const struct lab_opts *o, uint64_t given)
{
	const char *const knobs[] = { "history", "stale-permille" };
	unsigned i;

	for (i = 0; i < 2; i++)
		if ((given & lab_opt_bit(knobs[i])) &&
		    o->memory != LAB_MEM_C11)
			return lab_usage("stress",
					 "--%s shapes the c11 memory model: "
					 "give it with --memory c11",
					 knobs[i]);
	return 0;
}

static int lab_stress_check(const struct lab_opts *o, uint64_t given)
{
	bool free_part = o->mode != LAB_MODE_CONTROLLED;
	bool ctl_part = o->mode != LAB_MODE_FREE;
	char why[160];
	int ret;

	if (o->strategy == LAB_STRAT_LIST)
		return lab_usage("stress", "--strategy list replays a recorded "
					   "schedule: use 'labyrinth replay'");
	if (o->seconds <= 0 && free_part && !o->ops)
		return lab_usage("stress", "--seconds 0 needs --ops for the "
					   "free-running mode");
	if (o->seconds <= 0 && ctl_part && !o->schedules)
		return lab_usage("stress", "--seconds 0 needs --schedules for "
					   "the controlled mode");
	if (lab_opts_check(o, why, sizeof(why)))
		return lab_usage("stress", "%s", why);
	if ((ret = lab_memory_check(o, given)))
		return ret;
	if (strcmp(o->backend, "labyrinth"))
		return lab_backend_check(o);
	/* A known name may still be compiled out (release): ask now, before
	 * anything runs; the modes select it for real. */
	if (lab_bug_select(o->bug))
		return lab_usage("stress", "--bug %s: %s", o->bug,
				 lab_last_error());
	lab_bug_select("none");
	return 0;
}

static int lab_stress_parse(int argc, char **argv, struct lab_opts *o,
			    uint64_t *given)
{
	int i, ret;

	lab_opts_defaults(o);
	*given = 0;
	for (i = 1; i < argc; i++) {
		if (lab_is_help(argv[i]))
			return LAB_HELP_SHOWN;
		if ((ret = lab_stress_flag(argc, argv, &i, o, given)))
			return ret;
	}
	if (!(*given & lab_opt_bit("seed")))
		o->seed = lab_clock_seed();
	lab_opts_mode_defaults(o, o->mode, *given);
	o->progress = o->progress && isatty(STDERR_FILENO);
	return lab_stress_check(o, *given);
}

/* ---- stress: running ------------------------------------------------------------ */

static void lab_stress_banner(const struct lab_opts *o, int argc, char **argv,
			      uint64_t given)
{
	int i;

	printf("labyrinth stress: mode %s, profile %s, seed %" PRIu64
	       ", bug %s, build %s\n",
	       lab_mode_name(o->mode), o->profile, o->seed, o->bug,
	       lab_version());
	printf("out: %s\n", o->out_dir);
	printf("rerun: %s stress", lab_self_command());
	for (i = 1; i < argc; i++) {
		char out[PATH_MAX + 8] = "--out=", q[2 * PATH_MAX + 16];
		const char *arg = argv[i];
		size_t eq = strncmp(arg, "--out=", 6) ? 0 : 6;

		/* --out as an absolute path: the same from any directory */
		if (eq || !strcmp(argv[i - 1], "--out")) {
			lab_abs_path(o->out_dir, out + eq, sizeof(out) - eq);
			arg = out;
		}
		lab_shell_quote(arg, q, sizeof(q));
		printf(" %s", q);
	}
	if (!(given & lab_opt_bit("seed")))
		printf(" --seed %" PRIu64, o->seed);
	printf("\n");
	fflush(stdout);
}

struct lab_campaign_result {
	int free_findings, controlled_findings;
	double free_seconds, controlled_seconds;
	char report_dir[PATH_MAX];
};

static int lab_emit_summary(FILE *f, const void *arg)
{
	const struct lab_campaign_result *c = arg;

	fprintf(f, "free-running: %d finding(s) in %.1f s\n", c->free_findings,
		c->free_seconds);
	fprintf(f, "controlled: %d finding(s) in %.1f s\n",
		c->controlled_findings, c->controlled_seconds);
	fprintf(f, "RESULT: %s\n",
		lab_runlog_result(
			(unsigned)(c->free_findings + c->controlled_findings)));
	return 0;
}

/* Prints the combined summary and keeps a copy in the report directory. */
static void lab_campaign_summary(const struct lab_opts *o,
				 struct lab_campaign_result *c)
{
	char path[PATH_MAX + 16];

	int ret = lab_mkdir_p(o->out_dir);

	snprintf(path, sizeof(path), "%s/summary.txt", o->out_dir);
	if (!ret)
		ret = lab_write_atomic(path, lab_emit_summary, c);
	if (ret)
		lab_runlog_lost(path, -ret);
	lab_abs_path(o->out_dir, c->report_dir, sizeof(c->report_dir));
	printf("\n== labyrinth campaign summary (seed %" PRIu64 ") ==\n",
	       o->seed);
	lab_emit_summary(stdout, c);
	printf("report directory: %s\n", c->report_dir);
}

/* Half the time free-running, half controlled (each part with its own
 * mode's geometry unless one was given).  The controlled part stops at
 * its first finding, so the times reported are the ones measured. */
static int lab_campaign(const struct lab_opts *o, uint64_t given)
{
	struct lab_campaign_result c = { 0 };
	struct lab_opts f = *o, ctl = *o;
	uint64_t keep = given | lab_opt_bit("seconds");
	double t;

	lab_opts_mode_defaults(&f, LAB_MODE_FREE, keep);
	lab_opts_mode_defaults(&ctl, LAB_MODE_CONTROLLED, keep);
	f.memory = LAB_MEM_SC; /* the model is the controlled half's */
	f.seconds = ctl.seconds = o->seconds / 2;
	printf("\n== campaign part 1 of 2: free-running, %.1f s ==\n",
	       f.seconds);
	t = lab_seconds();
	c.free_findings = lab_free_run(&f);
	c.free_seconds = lab_seconds() - t;
	if (c.free_findings < 0)
		return -1;
	if (lab_stop_requested()) {
		lab_campaign_summary(o, &c);
		return c.free_findings;
	}
	printf("\n== campaign part 2 of 2: controlled (%s), %.1f s ==\n",
	       lab_strategy_name(ctl.strategy), ctl.seconds);
	fflush(stdout);
	t = lab_seconds();
	c.controlled_findings = lab_controlled_run(&ctl);
	c.controlled_seconds = lab_seconds() - t;
	if (c.controlled_findings < 0)
		return -1;
	lab_campaign_summary(o, &c);
	return c.free_findings + c.controlled_findings;
}

/* Without --out, a run gets a directory of its own under reports/
 * (reports/latest links to the newest), so runs never mix. */
static int lab_stress_run_dir(struct lab_opts *o)
{
	char what[32], seed[24];
	int ret;

	snprintf(what, sizeof(what), "stress-%s", lab_mode_name(o->mode));
	snprintf(seed, sizeof(seed), "%" PRIu64, o->seed);
	ret = lab_run_dir_create(LAB_REPORTS_ROOT, what, seed, o->out_dir,
				 sizeof(o->out_dir));
	if (ret)
		fprintf(stderr,
			"labyrinth: %s: cannot create a run directory: "
			"%s\n",
			LAB_REPORTS_ROOT, strerror(-ret));
	return ret;
}

static int lab_cmd_stress(int argc, char **argv)
{
	struct lab_opts o;
	uint64_t given;
	int ret = lab_stress_parse(argc, argv, &o, &given);

	if (ret == LAB_HELP_SHOWN) {
		lab_cmd_find("stress")->help(stdout);
		return LAB_EXIT_CLEAN;
	}
	if (ret)
		return ret;
	if (!(given & lab_opt_bit("out")) && lab_stress_run_dir(&o))
		return LAB_EXIT_USAGE;
	lab_stress_banner(&o, argc, argv, given);
	lab_runlog_start(argc, argv, o.out_dir);
	if (o.mode == LAB_MODE_FREE) {
		ret = lab_free_run(&o);
	} else if (o.mode == LAB_MODE_CONTROLLED) {
		ret = lab_controlled_run(&o);
		if (ret >= 0)
			printf("RESULT: %s\n",
			       lab_runlog_result((unsigned)ret));
	} else {
		ret = lab_campaign(&o, given);
	}
	lab_runlog_render();
	return lab_stress_exit(ret);
}

/* ---- replay and shrink: arguments ---------------------------------------------- */

/* Flags of replay and shrink: one ARTIFACT, -o/--out, --budget (shrink),
 * --no-isolate, --quiet. */
struct lab_file_args {
	const char *artifact, *out, *budget_arg;
	unsigned budget;
	bool isolate, quiet;
};

static int lab_file_value(const char *cmd, int argc, char **argv, int *i,
			  const char **value)
{
	if (*value)
		return lab_usage(cmd, "%s is given more than once", argv[*i]);
	if (*i + 1 >= argc)
		return lab_usage(cmd, "%s needs a value", argv[*i]);
	*value = argv[++*i];
	return 0;
}

static int lab_budget(const char *cmd, const char *s, unsigned *budget)
{
	struct lab_shown sh;
	uint64_t v;

	if (lab_parse_u64(s, &v) || v < 1 || v > 1000000)
		return lab_usage(cmd,
				 "--budget: %s is not a number in "
				 "1..1000000",
				 lab_shown(s, &sh));
	*budget = (unsigned)v;
	return 0;
}

/* One argument; `shrink` also takes -o and --budget. */
static int lab_file_arg(const char *cmd, int argc, char **argv, int *i,
			struct lab_file_args *fa)
{
	const char *a = argv[*i];
	bool shrink = !strcmp(cmd, "shrink");
	struct lab_shown sh;

	if ((!strcmp(a, "--no-isolate") && !fa->isolate) ||
	    (!strcmp(a, "--quiet") && fa->quiet))
		return lab_usage(cmd, "%s is given more than once", a);
	if (!strcmp(a, "--no-isolate"))
		fa->isolate = false;
	else if (!strcmp(a, "--quiet"))
		fa->quiet = true;
	else if ((shrink && !strcmp(a, "-o")) || !strcmp(a, "--out"))
		return lab_file_value(cmd, argc, argv, i, &fa->out);
	else if (shrink && !strcmp(a, "--budget"))
		return lab_file_value(cmd, argc, argv, i, &fa->budget_arg) ?
			       LAB_EXIT_USAGE :
			       lab_budget(cmd, fa->budget_arg, &fa->budget);
	else if (a[0] == '-' && a[1])
		return lab_usage(cmd,
				 "unknown flag %s (see 'labyrinth "
				 "%s --help')",
				 lab_shown(a, &sh), cmd);
	else if (fa->artifact)
		return lab_usage(cmd, "one ARTIFACT only (%s is extra)",
				 lab_shown(a, &sh));
	else
		fa->artifact = a;
	return 0;
}

static int lab_file_args(const char *cmd, int argc, char **argv,
			 struct lab_file_args *fa)
{
	int i, ret;

	memset(fa, 0, sizeof(*fa));
	fa->isolate = true;
	fa->budget = LAB_SHRINK_BUDGET;
	for (i = 1; i < argc; i++) {
		if (lab_is_help(argv[i]))
			return LAB_HELP_SHOWN;
		if ((ret = lab_file_arg(cmd, argc, argv, &i, fa)))
			return ret;
	}
	if (!fa->artifact)
		return lab_usage(cmd,
				 "missing ARTIFACT (see 'labyrinth %s "
				 "--help')",
				 cmd);
	return 0;
}

/* Parses the arguments and reads the artifact; 0, or the exit status. */
static int lab_file_command(const char *cmd, int argc, char **argv,
			    struct lab_file_args *fa, struct lab_artifact *a)
{
	char err[PATH_MAX + 512];
	int ret = lab_file_args(cmd, argc, argv, fa);

	if (ret == LAB_HELP_SHOWN) {
		lab_cmd_find(cmd)->help(stdout);
		return -1;
	}
	if (ret)
		return ret;
	if (strlen(fa->artifact) >= PATH_MAX) {
		struct lab_shown sh;

		return lab_usage(NULL, "%s: cannot open: %s",
				 lab_shown(fa->artifact, &sh),
				 strerror(ENAMETOOLONG));
	}
	if (lab_artifact_read(fa->artifact, a, err, sizeof(err))) {
		size_t n = strlen(fa->artifact);
		struct lab_shown sh;

		if (!strncmp(err, fa->artifact, n)) /* the path, cut if long */
			return lab_usage(NULL, "%s%s",
					 n > 200 ?
						 lab_shown(fa->artifact, &sh) :
						 fa->artifact,
					 err + n);
		return lab_usage(NULL, "%s", err);
	}
	if (lab_backend_artifact_check(a, err, sizeof(err))) {
		lab_artifact_free(a);
		return lab_usage(NULL, "%s: %s", fa->artifact, err);
	}
	printf("%s: %s, recorded finding %s at %s (step %" PRIu64
	       "), seed %" PRIu64 ", %" PRIu64 " decisions\n",
	       fa->artifact, lab_mode_name(a->opts.mode), a->finding.kind,
	       a->finding.where, a->finding.step, a->opts.seed, a->ndecisions);
	if (strcmp(a->build, lab_version()))
		printf("note: written by build '%s'; this is '%s'\n", a->build,
		       lab_version());
	return 0;
}

/* ---- replay ----------------------------------------------------------------------- */

static void lab_print_sched(const char *label, const struct lab_sched_result *r)
{
	printf("%s: %" PRIu64 " steps, %" PRIu64 " decisions, %" PRIu64
	       " preemptions, %" PRIu64 " interrupts, %" PRIu64 " ops",
	       label, r->steps, r->decisions, r->preemptions, r->irqs, r->ops);
	if (r->reads) /* --memory c11 */
		printf(", %" PRIu64 " reads-from decisions (%" PRIu64
		       " stale)",
		       r->reads, r->stale_reads);
	printf("\n");
}

/* Same finding (at the same step, if steps are comparable: controlled
 * mode), or another one. */
static void lab_compare(const struct lab_finding *got,
			const struct lab_finding *want, bool exact)
{
	printf("finding: %s at %s: %s (step %" PRIu64 ", thread %d)\n",
	       got->kind, got->where, got->message, got->step, got->thread);
	if (!lab_finding_same(got, want))
		printf("reproduced: NO - a different finding than the recorded "
		       "%s at %s\n",
		       want->kind, want->where);
	else if (!exact)
		printf("reproduced: yes - the same finding (kind and site)\n");
	else if (got->step != want->step)
		printf("reproduced: the same finding, at step %" PRIu64
		       " instead of %" PRIu64 "\n",
		       got->step, want->step);
	else
		printf("reproduced: yes - the same finding at the same step\n");
}

static int lab_replay_controlled(const struct lab_artifact *a,
				 const struct lab_file_args *fa)
{
	struct lab_opts o = a->opts;
	struct lab_sched_result r;
	int found;

	o.strategy = LAB_STRAT_LIST;
	o.isolate = fa->isolate;
	o.progress = false;
	if (lab_sched_run(&o, a->decisions, a->ndecisions, &r))
		return lab_usage("replay",
				 "%s: the schedule cannot be set up: "
				 "%s",
				 fa->artifact, lab_last_error());
	lab_print_sched("replayed", &r);
	if (r.diverged_at != UINT64_MAX)
		printf("diverged: the recorded decisions stopped fitting at "
		       "decision %" PRIu64 " of %" PRIu64
		       ": %s; the run went on without them\n",
		       r.diverged_at, a->ndecisions, r.diverged_why);
	else if (strcmp(o.backend, "labyrinth"))
		printf("followed: every recorded decision fitted (backend %s, "
		       "build id %s: the same code, an exact replay)\n",
		       o.backend, o.user_build);
	else
		printf("followed: every recorded decision fitted\n");
	if (r.found)
		lab_compare(&r.finding, &a->finding, true);
	else
		printf("reproduced: NO - no finding (recorded: %s at %s, step "
		       "%" PRIu64 ")\n",
		       a->finding.kind, a->finding.where, a->finding.step);
	found = r.found;
	lab_sched_result_free(&r);
	return found ? LAB_EXIT_FOUND : LAB_EXIT_CLEAN;
}

static int lab_replay_free(const struct lab_artifact *a,
			   const struct lab_file_args *fa)
{
	struct lab_opts o = a->opts;
	struct lab_finding got;
	int n;

	printf("note: a free-running artifact replays as a re-run with the "
	       "same seed and options; the threads' interleaving is not "
	       "exact, so the finding may or may not recur\n");
	o.progress = isatty(STDERR_FILENO);
	if (fa->out)
		snprintf(o.out_dir, sizeof(o.out_dir), "%s", fa->out);
	else
		lab_replay_out_dir(fa->artifact, o.out_dir, sizeof(o.out_dir));
	if (o.first)
		printf("note: the run stopped at its first finding (--first); "
		       "so does this one\n");
	n = lab_free_run_report(&o, &got);
	if (n > 0)
		lab_compare(&got, &a->finding, false);
	else if (!n)
		printf("reproduced: NO - this run found nothing\n");
	return lab_exit_for(n);
}

static int lab_cmd_replay(int argc, char **argv)
{
	struct lab_file_args fa;
	struct lab_artifact a;
	int ret = lab_file_command("replay", argc, argv, &fa, &a);

	if (ret)
		return ret < 0 ? LAB_EXIT_CLEAN : ret;
	if (fa.out && strlen(fa.out) >= sizeof(a.opts.out_dir))
		ret = lab_usage("replay", "--out: path too long");
	else if (a.opts.mode == LAB_MODE_CONTROLLED)
		ret = lab_replay_controlled(&a, &fa);
	else if (a.opts.mode == LAB_MODE_FREE)
		ret = lab_replay_free(&a, &fa);
	else
		ret = lab_usage("replay",
				"%s: a campaign artifact names no "
				"single run to replay",
				fa.artifact);
	lab_artifact_free(&a);
	return ret;
}

/* ---- shrink ------------------------------------------------------------------------ */

/* "dir/artifact-1.lab" -> "dir/artifact-1.min.lab"; no extension: + ".min" */
static void lab_min_name(const char *in, char *buf, size_t len)
{
	const char *base = strrchr(in, '/'), *dot;

	base = base ? base + 1 : in;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		snprintf(buf, len, "%s.min", in);
	else
		snprintf(buf, len, "%.*s.min%s", (int)(dot - in), in, dot);
}

/* Sizes of an artifact's run, measured by replaying it. */
static int lab_measure(const struct lab_artifact *a, bool isolate,
		       struct lab_sched_result *r)
{
	struct lab_opts o = a->opts;

	o.strategy = LAB_STRAT_LIST;
	o.isolate = isolate;
	return lab_sched_run(&o, a->decisions, a->ndecisions, r);
}

static void lab_print_sizes(const struct lab_artifact *in,
			    const struct lab_artifact *out,
			    const struct lab_sched_result *b,
			    const struct lab_sched_result *a)
{
	printf("%-16s %12s %12s\n", "", "before", "after");
	printf("%-16s %12" PRIu64 " %12" PRIu64 "\n", "steps", b->steps,
	       a->steps);
	printf("%-16s %12" PRIu64 " %12" PRIu64 "\n", "decisions",
	       in->ndecisions, out->ndecisions);
	printf("%-16s %12" PRIu64 " %12" PRIu64 "\n", "preemptions",
	       b->preemptions, a->preemptions);
	printf("%-16s %12" PRIu64 " %12" PRIu64 "\n", "irqs", b->irqs, a->irqs);
	printf("%-16s %12u %12u\n", "ops-per-thread", in->opts.ops_per_thread,
	       out->opts.ops_per_thread);
	printf("%-16s %12u %12u\n", "logical", in->opts.logical,
	       out->opts.logical);
}

/* Writes the smaller artifact, reads it back and replays it, and only
 * if that replays exactly shows before/after and the command; exit 1: it
 * holds the finding.  An artifact that does not replay is removed (exit
 * 2): no command is printed for it. */
static int lab_shrink_write(const struct lab_artifact *in,
			    const struct lab_artifact *out,
			    const struct lab_file_args *fa, const char *path)
{
	struct lab_sched_result b, a;
	char cmd[4 * PATH_MAX + 64], err[600];

	if (lab_artifact_write(path, out))
		return LAB_EXIT_USAGE;
	if (lab_shrink_verify(path, &out->finding, fa->isolate, &a, err,
			      sizeof(err))) {
		unlink(path);
		return lab_usage("shrink",
				 "the shrunk artifact does not replay, so it "
				 "was removed: %s",
				 err);
	}
	if (lab_measure(in, fa->isolate, &b)) {
		lab_sched_result_free(&a);
		return lab_usage("shrink", "cannot replay to measure: %s",
				 lab_last_error());
	}
	lab_print_sizes(in, out, &b, &a);
	printf("finding: %s at %s: %s (step %" PRIu64 ")\n", out->finding.kind,
	       out->finding.where, out->finding.message, out->finding.step);
	printf("verified: %s read back and replayed exactly\n", path);
	lab_artifact_replay_cmd(path, &out->opts, cmd, sizeof(cmd));
	printf("wrote: %s\nreproduce: %s\n", path, cmd);
	lab_sched_result_free(&b);
	lab_sched_result_free(&a);
	return LAB_EXIT_FOUND;
}

static int lab_cmd_shrink(int argc, char **argv)
{
	struct lab_file_args fa;
	struct lab_artifact in, out;
	char path[PATH_MAX + 16];
	int ret = lab_file_command("shrink", argc, argv, &fa, &in);

	if (ret)
		return ret < 0 ? LAB_EXIT_CLEAN : ret;
	if (in.opts.mode != LAB_MODE_CONTROLLED) {
		lab_artifact_free(&in);
		return lab_usage("shrink",
				 "%s: only controlled-mode artifacts "
				 "can be shrunk (this one is %s)",
				 fa.artifact, lab_mode_name(in.opts.mode));
	}
	in.opts.isolate = fa.isolate;
	if (fa.out)
		snprintf(path, sizeof(path), "%s", fa.out);
	else
		lab_min_name(fa.artifact, path, sizeof(path));
	if (lab_shrink(&in, &out, fa.budget, !fa.quiet))
		ret = LAB_EXIT_CLEAN; /* did not reproduce: nothing written */
	else
		ret = lab_shrink_write(&in, &out, &fa, path);
	if (ret != LAB_EXIT_CLEAN)
		lab_artifact_free(&out);
	lab_artifact_free(&in);
	return ret;
}

/* ---- bugs, help ----------------------------------------------------------------------- */

#define LAB_HELP_WIDTH 79

/* Prints text wrapped to LAB_HELP_WIDTH columns: the first line after
 * `head` (padded to `indent`), the others indented by `indent`. */
static void lab_wrap(FILE *out, const char *head, const char *text, int indent)
{
	const char *p = text;
	int width = LAB_HELP_WIDTH - indent;

	if (*head && (int)strlen(head) >= indent) {
		fprintf(out, "%s\n", head);
		head = "";
	}
	while (*p) {
		int n = (int)strlen(p), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		fprintf(out, "%-*s%.*s\n", indent, head, cut, p);
		head = "";
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void lab_flags_help(FILE *out)
{
	int i;

	for (i = 0; i < lab_opt_count(); i++) {
		char head[48];

		if (!lab_opt_in(i, LAB_OPT_CLI))
			continue;
		snprintf(head, sizeof(head), "  --%s%s%s", lab_opt_name(i),
			 lab_opt_arg(i) ? " " : "",
			 lab_opt_arg(i) ? lab_opt_arg(i) : "");
		lab_wrap(out, head, lab_opt_help(i), 24);
	}
}

static int lab_cmd_bugs(int argc, char **argv)
{
	int b;

	if (argc > 1 && lab_is_help(argv[1])) {
		lab_cmd_find("bugs")->help(stdout);
		return LAB_EXIT_CLEAN;
	}
	if (argc > 1)
		return lab_usage("bugs", "takes no arguments");
	printf("seeded bugs (select one with 'labyrinth stress --bug NAME'):\n");
	for (b = 0; b < LAB_BUG_COUNT; b++) {
		printf("  %s\n", lab_bug_name((enum lab_bug)b));
		lab_wrap(stdout, "", lab_bug_description((enum lab_bug)b), 6);
	}
#ifdef LAB_RELEASE
	printf("(this is a release build: the bugs are compiled out and "
	       "selecting one fails)\n");
#endif
	return LAB_EXIT_CLEAN;
}

/* Every status `labyrinth stress` ends with (lab_stress_exit). */
static void lab_stress_exit_help(FILE *out)
{
	fputs("exit status of stress:\n"
	      "  0    nothing found (RESULT: PASS)\n"
	      "  1    findings (RESULT: FAIL; after a stop signal: FAIL "
	      "(interrupted))\n"
	      "  2    usage error, or a finding record, run record or "
	      "rendering could\n"
	      "       not be written (each named on stderr after NOT SAVED)\n"
	      "  66   TSan builds: ThreadSanitizer reported a race (its "
	      "exitcode)\n"
	      "  130  stopped by Ctrl-C or SIGTERM with nothing found "
	      "(RESULT: INTERRUPTED);\n"
	      "       the records, summary and renderings are still "
	      "written, a second\n"
	      "       signal kills at once\n",
	      out);
}

static void lab_help_stress(FILE *out)
{
	fputs("usage: labyrinth stress [FLAGS]\n\n", out);
	lab_wrap(out, "",
		 "Runs the stress generators against the allocator. free: "
		 "worker threads with real signals as interrupts. controlled: "
		 "logical threads switched at the allocator's yield points by "
		 "a strategy, with interrupts injected there. campaign (the "
		 "default): half of --seconds each. Every finding is saved "
		 "under --out as an artifact and a JSON report, with the "
		 "command that replays it.",
		 0);
	fputs("\nflags (--flag VALUE or --flag=VALUE, each at most once):\n",
	      out);
	lab_flags_help(out);
	fputs("\n", out);
	lab_stress_exit_help(out);
}

static void lab_help_replay(FILE *out)
{
	fputs("usage: labyrinth replay ARTIFACT [--no-isolate] [--out DIR]\n\n",
	      out);
	lab_wrap(out, "",
		 "Controlled artifacts: follows the recorded decisions and "
		 "says whether the same finding comes back at the same step, "
		 "and where the decisions stopped fitting if the program "
		 "changed. Free-running artifacts: re-runs the same seed and "
		 "options, --first and --no-delays included (the interleaving "
		 "is not exact).",
		 0);
	fputs("\n  --no-isolate   run in this process, not a child (for a "
	      "debugger)\n"
	      "  --out DIR      free-running re-run: where new findings go "
	      "(default the\n                 directory 'replay' beside "
	      "ARTIFACT)\n"
	      "\nexit status: 1 a finding reproduced, 0 none, 2 bad "
	      "artifact\n",
	      out);
}

static void lab_help_shrink(FILE *out)
{
	fputs("usage: labyrinth shrink ARTIFACT [-o OUT] [--budget N] "
	      "[--quiet] [--no-isolate]\n\n",
	      out);
	lab_wrap(out, "",
		 "Minimises a controlled-mode finding by delta debugging: "
		 "fewer ops per thread, fewer threads, fewer interrupts and "
		 "preemptions, while the same finding (kind and site) still "
		 "comes back. Writes the smaller artifact, reads it back and "
		 "replays it, and only if that gives the same finding at the "
		 "same step prints the sizes before and after and the command "
		 "that replays it (else it removes it and exits 2).",
		 0);
	fputs("\n  -o OUT         output (default ARTIFACT with .min before "
	      "its extension)\n"
	      "  --budget N     replays to spend at most (default 1000)\n"
	      "  --quiet        no line per accepted step\n"
	      "  --no-isolate   replay in this process, not a child\n"
	      "\nexit status: 1 shrunk (the finding holds), 0 the finding "
	      "did not reproduce,\n2 bad artifact or a shrunk one that does "
	      "not replay\n",
	      out);
}

static void lab_help_bugs(FILE *out)
{
	fputs("usage: labyrinth bugs\n\nLists the seeded bugs of this build "
	      "with what each breaks.\n",
	      out);
}

static void lab_help_help(FILE *out)
{
	fputs("usage: labyrinth help [COMMAND]\n", out);
}

/* `help [COMMAND]`, also reached as `--help [COMMAND]` and `-h
 * [COMMAND]`: one COMMAND at most. */
static int lab_cmd_help(int argc, char **argv)
{
	const struct lab_cmd *c;
	struct lab_shown sh;

	if (argc > 2)
		return lab_usage("help",
				 "one COMMAND only (%s is extra; see "
				 "'labyrinth help')",
				 lab_shown(argv[2], &sh));
	if (argc < 2 || lab_is_help(argv[1])) {
		lab_main_help(stdout);
		return LAB_EXIT_CLEAN;
	}
	c = lab_cmd_find(argv[1]);
	if (!c)
		return lab_usage("help",
				 "unknown command %s (see 'labyrinth "
				 "help')",
				 lab_shown(argv[1], &sh));
	c->help(stdout);
	return LAB_EXIT_CLEAN;
}

static const struct lab_cmd lab_cmds[] = {
	{ "stress", "[FLAGS]",
	  "run the stress generators (default: a 60 s campaign)",
	  lab_cmd_stress, lab_help_stress },
	{ "replay", "ARTIFACT", "re-run a recorded finding", lab_cmd_replay,
	  lab_help_replay },
	{ "shrink", "ARTIFACT [-o OUT]", "minimise a controlled-mode finding",
	  lab_cmd_shrink, lab_help_shrink },
	{ "report", "[--out DIR] PATH...",
	  "merge findings into Markdown, SARIF, JUnit and HTML",
	  lab_report_command, lab_report_help },
	{ "zoo", "[list|run|bench] ...",
	  "the bug zoo: run a harness mode against a seeded bug",
	  lab_zoo_command, lab_zoo_help },
	{ "bugs", "", "list the seeded bugs", lab_cmd_bugs, lab_help_bugs },
	{ "help", "[COMMAND]", "show help", lab_cmd_help, lab_help_help },
};

static const struct lab_cmd *lab_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(lab_cmds) / sizeof(lab_cmds[0]); i++)
		if (!strcmp(lab_cmds[i].name, name))
			return &lab_cmds[i];
	return NULL;
}

static void lab_main_help(FILE *out)
{
	size_t i;

	fputs("usage: labyrinth COMMAND [ARGS]\n\nConcurrency test harness "
	      "of the labyrinth page-frame allocator.\n\ncommands:\n",
	      out);
	for (i = 0; i < sizeof(lab_cmds) / sizeof(lab_cmds[0]); i++) {
		char head[40];

		snprintf(head, sizeof(head), "%s %s", lab_cmds[i].name,
			 lab_cmds[i].synopsis);
		fprintf(out, "  %-26s %s\n", head, lab_cmds[i].summary);
	}
	fputs("\n'labyrinth COMMAND --help' lists a command's flags and their "
	      "defaults.\nexit status: 0 nothing found, 1 findings, 2 usage "
	      "or input error or a file not saved, 66 ThreadSanitizer "
	      "reported (TSan builds), 130 stopped by a signal with nothing "
	      "found (replay, shrink, report: see their --help)\n",
	      out);
	lab_stress_exit_help(out);
}

/* Backends linked into this command by the build (LAB_USER_BACKENDS in
 * CMake): a NULL-terminated array a user's source file defines. */
extern const struct lab_backend_ops *const lab_user_backends[]
	__attribute__((weak));

static void lab_register_user_backends(void)
{
	unsigned i;

	for (i = 0; lab_user_backends && lab_user_backends[i]; i++)
		if (lab_backend_register(lab_user_backends[i]))
			fprintf(stderr, "labyrinth: backend %s: %s\n",
				lab_user_backends[i]->name, lab_last_error());
}

int main(int argc, char **argv)
{
	const struct lab_cmd *c;
	struct lab_shown sh;

	lab_register_user_backends();
	if (argc < 2)
		return lab_usage(NULL, "missing command (see 'labyrinth "
				       "--help')");
	if (lab_is_help(argv[1]))
		return lab_cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version")) {
		if (argc > 2)
			return lab_usage(NULL,
					 "--version takes no arguments (%s "
					 "is extra)",
					 lab_shown(argv[2], &sh));
		printf("labyrinth %s\n", lab_version());
		return LAB_EXIT_CLEAN;
	}
	c = lab_cmd_find(argv[1]);
	if (!c)
		return lab_usage(NULL,
				 "unknown command %s (see "
				 "'labyrinth --help')",
				 lab_shown(argv[1], &sh));
	return c->run(argc - 1, argv + 1);
}
