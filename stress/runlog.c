/* runlog.c - what one `labyrinth stress` process records: its runs (one
 * per mode it ran), the findings they saved, a stop request from Ctrl-C,
 * and at the end the five renderings of all of it in the report
 * directory (reports/README.md).
 *
 * Ctrl-C (SIGINT) or SIGTERM asks the run to stop: the modes poll
 * lab_stop_requested() and end early, so the summary, the run record
 * and the renderings are still written.  A second Ctrl-C kills at once.
 * Findings are saved the moment they are found, each file atomically,
 * so an interrupted or crashed run loses none of those already saved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "stress.h"

#define LAB_RUNLOG_FILES 4096
#define LAB_RUNLOG_LOST 32 /* lost files named; more are counted */

static struct {
	struct lab_runrec run; /* the run in progress */
	bool active;
	char command[1024];
	char out_dir[PATH_MAX];
	char *files[LAB_RUNLOG_FILES]; /* records saved by this process */
	unsigned nfiles;
	uint64_t t0_ns;
	unsigned cap_before; /* lab_capture_saved() when the run began */
	char lost[LAB_RUNLOG_LOST][PATH_MAX / 4]; /* "what (why)" */
	unsigned nlost;
} lab_rl;

/* Stop signals taken so far.  The handler runs on whichever thread the
 * signal lands on (a worker, the interrupt controller, main, a fiber of a
 * controlled schedule run in-process): a thread-directed signal cannot be
 * moved to another thread once sent, so every thread takes it, and all
 * the handler touches is this lock-free atomic (async-signal-safe, and no
 * data race for TSan, which a volatile sig_atomic_t read by main is). */
static atomic_uint lab_stop;

static const int lab_stop_signals[] = { SIGINT, SIGTERM };

bool lab_stop_requested(void)
{
	return atomic_load_explicit(&lab_stop, memory_order_acquire) != 0;
}

#define LAB_NSTOP (sizeof(lab_stop_signals) / sizeof(lab_stop_signals[0]))

/* Both stop signals to handler (SIG_DFL, SIG_IGN or a function), each
 * blocked while the handler runs.  Async-signal-safe. */
static void lab_stop_signals_set(void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < LAB_NSTOP; i++)
		sigaddset(&sa.sa_mask, lab_stop_signals[i]);
	for (i = 0; i < LAB_NSTOP; i++)
		sigaction(lab_stop_signals[i], &sa, NULL);
}

/* The first stop signal asks the run to stop.  A second one kills at
 * once: the default action is put back and the signal raised again (it
 * is blocked in here, so it lands on return).  The handler stays
 * installed between the two, rather than the first one putting the
 * default back: TSan queues a signal that lands in instrumented code and
 * drops it if the action is the default by the time it runs, so two
 * signals in a row would stop, not kill. */
static void lab_on_stop_signal(int sig)
{
	static const char msg[] = "\nlabyrinth: stopping (again to kill)\n";
	int saved = errno;
	unsigned before =
		atomic_fetch_add_explicit(&lab_stop, 1, memory_order_acq_rel);

	if (before) {
		lab_stop_signals_set(SIG_DFL);
		raise(sig);
	} else if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		(void)0;
	}
	errno = saved;
}

static void lab_stop_signals_mask(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < LAB_NSTOP; i++)
		sigaddset(set, lab_stop_signals[i]);
}

static void lab_stop_signals_catch(void)
{
	sigset_t unblock;

	lab_stop_signals_set(lab_on_stop_signal);
	lab_stop_signals_mask(&unblock);
	/* threads created from now on inherit this mask: none blocks them */
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

/* The mask lab_stop_signals_hold() replaced (one hold at a time: the
 * controlled mode forks from its one thread). */
static sigset_t lab_stop_held;

void lab_stop_signals_hold(void)
{
	sigset_t set;

	lab_stop_signals_mask(&set);
	pthread_sigmask(SIG_BLOCK, &set, &lab_stop_held);
}

void lab_stop_signals_release(void)
{
	pthread_sigmask(SIG_SETMASK, &lab_stop_held, NULL);
}

void lab_stop_signals_child(void)
{
	lab_stop_signals_set(SIG_IGN); /* what is pending is dropped */
	lab_stop_signals_release();
	/* the parent's second Ctrl-C kills it at once: this child too */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Points root/latest at name (a symlink, relative): made under a
 * temporary name and renamed over the old link, so latest always names
 * a whole run directory.  An older labyrinth's real latest/ directory is
 * left alone (said once). */
static void lab_run_dir_link_latest(const char *root, const char *name)
{
	char tmp[PATH_MAX], latest[PATH_MAX];

	if (!lab_fit(tmp, sizeof(tmp), "%s/.latest.tmp.%ld", root,
		     (long)getpid()) ||
	    !lab_fit(latest, sizeof(latest), "%s/latest", root))
		return;
	unlink(tmp);
	if (symlink(name, tmp)) {
		fprintf(stderr, "labyrinth: %s: cannot link: %s\n", latest,
			strerror(errno));
		return;
	}
	if (rename(tmp, latest)) {
		fprintf(stderr,
			"labyrinth: %s: not replaced by a link to %s (%s); "
			"remove it to get the link\n",
			latest, name, strerror(errno));
		unlink(tmp);
	}
}

int lab_run_dir_create(const char *root, const char *what, const char *seed,
		       char *dir, size_t len)
{
	char name[256], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int ret = lab_mkdir_p(root), k;

	if (ret)
		return ret;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (k = 1; k < 1000; k++) {
		lab_fit(name, sizeof(name), "%s-%s%s%s", stamp, what,
			seed ? "-seed" : "", seed ? seed : "");
		if (k > 1) /* the same second, command and seed */
			snprintf(name + strlen(name),
				 sizeof(name) - strlen(name), "-%d", k);
		if (!lab_fit(dir, len, "%s/%s", root, name))
			return -ENAMETOOLONG;
		if (!mkdir(dir, 0777)) {
			lab_run_dir_link_latest(root, name);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

void lab_runlog_start(int argc, char **argv, const char *out_dir)
{
	size_t used = 0;
	int i;

	lab_stop_signals_catch();
	snprintf(lab_rl.out_dir, sizeof(lab_rl.out_dir), "%s", out_dir);
	/* the run records' command: this binary, as printed commands name it */
	used = (size_t)snprintf(lab_rl.command, sizeof(lab_rl.command), "%s",
				lab_self_command());
	for (i = 0; i < argc && used < sizeof(lab_rl.command); i++) {
		char q[512];

		lab_shell_quote(argv[i], q, sizeof(q));
		used += (size_t)snprintf(lab_rl.command + used,
					 sizeof(lab_rl.command) - used, " %s",
					 q);
	}
}

const char *lab_runlog_build(void)
{
	static char build[128];

	if (!*build)
		snprintf(build, sizeof(build), "labyrinth %s", lab_version());
	return build;
}

/* Keeps the path of a record this process wrote, for the renderings. */
static void lab_runlog_keep(const char *path)
{
	if (lab_rl.nfiles < LAB_RUNLOG_FILES)
		lab_rl.files[lab_rl.nfiles++] = strdup(path);
}

void lab_runlog_begin(const struct lab_opts *o, const char *tool)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	lab_runrec_init(&lab_rl.run, tool);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(lab_rl.run.id, sizeof(lab_rl.run.id), "%s-%s-%ld", tool, stamp,
		 (long)getpid());
	snprintf(lab_rl.run.build, sizeof(lab_rl.run.build), "%s",
		 lab_runlog_build());
	snprintf(lab_rl.run.command, sizeof(lab_rl.run.command), "%s",
		 lab_rl.command);
	snprintf(lab_rl.run.seed, sizeof(lab_rl.run.seed), "%llu",
		 (unsigned long long)o->seed);
	lab_rl.run.started = (int64_t)now;
	lab_rl.t0_ns = lab_now_ns();
	lab_rl.cap_before = lab_capture_saved();
	lab_rl.active = true;
}

const char *lab_runlog_id(void)
{
	return lab_rl.run.id;
}

void lab_runlog_sample(const char *series, double value)
{
	struct lab_series *s = lab_runrec_series(&lab_rl.run, series);

	if (lab_rl.active && s)
		lab_series_add(s, (double)(lab_now_ns() - lab_rl.t0_ns) / 1e9,
			       value);
}

void lab_runlog_latency(const struct lab_latency *rows, unsigned n,
			const char *note)
{
	if (n > LAB_RUN_LATENCIES)
		n = LAB_RUN_LATENCIES;
	memcpy(lab_rl.run.latency, rows, n * sizeof(*rows));
	lab_rl.run.nlatency = n;
	lab_fit(lab_rl.run.latency_note, sizeof(lab_rl.run.latency_note), "%s",
		note);
}

void lab_runlog_coverage(const struct lab_coverage *rows, unsigned n)
{
	if (n > LAB_RUN_DETECTORS)
		n = LAB_RUN_DETECTORS;
	memcpy(lab_rl.run.coverage, rows, n * sizeof(*rows));
	lab_rl.run.ncoverage = n;
}

/* Template of this run's findings: tool, build, run id, time. */
void lab_runlog_rec_init(struct lab_rec *r, const char *check)
{
	lab_rec_init(r, lab_kind_of_check(check), check);
	lab_runlog_rec_stamp(r);
}

void lab_runlog_rec_stamp(struct lab_rec *r)
{
	snprintf(r->tool, sizeof(r->tool), "%s", lab_rl.run.tool);
	snprintf(r->build, sizeof(r->build), "%s", lab_runlog_build());
	snprintf(r->run, sizeof(r->run), "%s", lab_rl.run.id);
	r->first_seen = r->last_seen = (int64_t)time(NULL);
}

void lab_runlog_saved(const char *path)
{
	lab_runlog_keep(path);
	lab_rl.run.findings++;
}

void lab_runlog_lost(const char *what, int err)
{
	if (lab_rl.nlost < LAB_RUNLOG_LOST)
		lab_fit(lab_rl.lost[lab_rl.nlost], sizeof(lab_rl.lost[0]),
			"%s (%s)", what, strerror(err));
	lab_rl.nlost++;
}

unsigned lab_runlog_nlost(void)
{
	return lab_rl.nlost;
}

const char *lab_runlog_result(unsigned findings)
{
	if (findings)
		return lab_stop_requested() ? "FAIL (interrupted)" : "FAIL";
	return lab_stop_requested() ? "INTERRUPTED" : "PASS";
}

/* 0 if path holds a record, else why not: a hook claims the name with
 * an empty file first, and cannot say when the write after it fails. */
static int lab_runlog_written(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno;
	return st.st_size ? 0 : ENODATA;
}

/* Sanitizer reports saved from the hooks (capture.c) since the run
 * began are this run's findings too. */
static void lab_runlog_keep_captured(void)
{
	unsigned n = lab_capture_saved(), i;

	for (i = lab_rl.cap_before; i < n; i++) {
		const char *path = lab_capture_saved_path(i);
		int err = path ? lab_runlog_written(path) : 0;

		if (err)
			lab_runlog_lost(path, err);
		else if (path)
			lab_runlog_keep(path);
		lab_rl.run.findings++;
	}
}

void lab_runlog_end(const char *result, const char *detail, const char *dir)
{
	char path[PATH_MAX + 96];
	int ret;

	if (!lab_rl.active)
		return;
	lab_rl.active = false;
	lab_runlog_keep_captured();
	lab_rl.run.ended = (int64_t)time(NULL);
	snprintf(lab_rl.run.result, sizeof(lab_rl.run.result), "%s",
		 lab_stop && !strcmp(result, "pass") ? "interrupted" : result);
	snprintf(lab_rl.run.detail, sizeof(lab_rl.run.detail), "%s", detail);
	ret = lab_mkdir_p(dir);
	if (!ret &&
	    !lab_fit(path, sizeof(path), "%s/run-%s.json", dir, lab_rl.run.id))
		ret = -ENAMETOOLONG;
	if (!ret)
		ret = lab_runrec_write(path, &lab_rl.run);
	if (!ret)
		lab_runlog_keep(path);
	else
		lab_runlog_lost(path, -ret);
}

/* A rendering that could not be written. */
static void lab_runlog_lost_rendering(const char *file, int err, void *arg)
{
	char what[PATH_MAX / 4];

	lab_fit(what, sizeof(what), "%s/%s", (const char *)arg, file);
	lab_runlog_lost(what, err);
}

/* Everything that was not saved, one line each, on stderr. */
static void lab_runlog_print_lost(void)
{
	unsigned i;

	if (!lab_rl.nlost)
		return;
	fprintf(stderr,
		"labyrinth: NOT SAVED: %u file(s) of this run could "
		"not be written (exit status 2):\n",
		lab_rl.nlost);
	for (i = 0; i < lab_rl.nlost && i < LAB_RUNLOG_LOST; i++)
		fprintf(stderr, "labyrinth:   %s\n", lab_rl.lost[i]);
	if (lab_rl.nlost > LAB_RUNLOG_LOST)
		fprintf(stderr, "labyrinth:   and %u more\n",
			lab_rl.nlost - LAB_RUNLOG_LOST);
}

int lab_runlog_render(void)
{
	struct lab_report_set set;
	char dir[PATH_MAX];
	unsigned i;
	int ret;

	lab_set_init(&set);
	for (i = 0; i < lab_rl.nfiles; i++)
		lab_set_ingest(&set, lab_rl.files[i]);
	lab_set_sort(&set);
	ret = lab_report_write_each(&set, lab_rl.out_dir,
				    lab_runlog_lost_rendering, lab_rl.out_dir);
	lab_abs_path(lab_rl.out_dir, dir, sizeof(dir));
	if (!ret)
		printf("reports: %s/{summary.md,findings.json,report.sarif,"
		       "junit.xml,report.html}\n",
		       dir);
	fflush(stdout);
	lab_runlog_print_lost();
	lab_set_free(&set);
	for (i = 0; i < lab_rl.nfiles; i++)
		free(lab_rl.files[i]);
	lab_rl.nfiles = 0;
	return ret ? ret : lab_rl.nlost ? -EIO : 0;
}

/* Sanitizer reports of the run: the ones the hooks saved (ASan, UBSan),
 * else, if the process survived a report (TSan with halt_on_error=0, whose
 * hooks may only copy), one record saved now from the capture, with an
 * artifact that re-runs o.  Returns how many count as findings. */
unsigned lab_runlog_save_captured(const struct lab_opts *o, unsigned before)
{
	unsigned hooked = lab_capture_saved() - before;
	struct lab_artifact a;
	struct lab_rec r;

	if (hooked || !lab_capture_current()->reports)
		return hooked;
	memset(&a, 0, sizeof(a));
	a.opts = *o;
	snprintf(a.build, sizeof(a.build), "%s", lab_version());
	lab_runlog_rec_init(&r, "");
	if (!lab_capture_to_rec(lab_capture_current(), &r))
		return 0;
	snprintf(a.finding.kind, sizeof(a.finding.kind), "%s",
		 lab_kind_name(r.kind));
	lab_fit(a.finding.where, sizeof(a.finding.where), "%s",
		r.site.function);
	lab_fit(a.finding.message, sizeof(a.finding.message), "%s", r.summary);
	a.finding.thread = -1;
	lab_finding_save(&a, &r, o->out_dir, NULL, 0);
	return 1;
}
