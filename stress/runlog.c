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
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "stress.h"

#define LAB_RUNLOG_FILES 4096

static struct {
	struct lab_runrec run; /* the run in progress */
	bool active;
	char command[1024];
	char out_dir[PATH_MAX];
	char *files[LAB_RUNLOG_FILES]; /* records saved by this process */
	unsigned nfiles;
	uint64_t t0_ns;
	unsigned cap_before; /* lab_capture_saved() when the run began */
} lab_rl;

static volatile sig_atomic_t lab_stop;

bool lab_stop_requested(void)
{
	return lab_stop != 0;
}

static void lab_on_stop_signal(int sig)
{
	static const char msg[] = "\nlabyrinth: stopping (again to kill)\n";
	int saved = errno;

	lab_stop = 1;
	signal(sig, SIG_DFL);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		(void)0;
	errno = saved;
}

void lab_runlog_start(int argc, char **argv, const char *out_dir)
{
	struct sigaction sa;
	size_t used = 0;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_on_stop_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(lab_rl.out_dir, sizeof(lab_rl.out_dir), "%s", out_dir);
	used = (size_t)snprintf(lab_rl.command, sizeof(lab_rl.command),
				"labyrinth");
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

/* Sanitizer reports saved from the hooks (capture.c) since the run
 * began are this run's findings too. */
static void lab_runlog_keep_captured(void)
{
	unsigned n = lab_capture_saved(), i;

	for (i = lab_rl.cap_before; i < n; i++) {
		const char *path = lab_capture_saved_path(i);

		if (path)
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
	    (size_t)snprintf(path, sizeof(path), "%s/run-%s.json", dir,
			     lab_rl.run.id) < sizeof(path) &&
	    !lab_runrec_write(path, &lab_rl.run))
		lab_runlog_keep(path);
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
	ret = lab_report_write_all(&set, lab_rl.out_dir);
	lab_abs_path(lab_rl.out_dir, dir, sizeof(dir));
	if (!ret)
		printf("reports: %s/{summary.md,findings.json,report.sarif,"
		       "junit.xml,report.html}\n",
		       dir);
	lab_set_free(&set);
	for (i = 0; i < lab_rl.nfiles; i++)
		free(lab_rl.files[i]);
	lab_rl.nfiles = 0;
	return ret;
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
