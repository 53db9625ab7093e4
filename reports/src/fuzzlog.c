/* fuzzlog.c - libFuzzer output as a run and, when it crashed, a finding.
 *
 * libFuzzer writes no machine-readable file, so its log is read:
 *   "#N: cov: C ft: F corp: K exec/s E ... time: Ts"      (fork mode)
 *   "#N\tNEW    cov: C ft: F ... exec/s: E rss: ..."       (one process)
 * give the exec/s and coverage series; the first sanitizer or libFuzzer
 * error line, the SUMMARY line, the first stack and "Test unit written
 * to PATH" give the finding.  A log is a campaign log when it has status
 * lines; a crash re-run's log (<artifact>.log, written by
 * fuzz/campaign.sh) gives only the finding, and only when no finding
 * captured in-process names the same artifact.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record.h"

struct lab_flog {
	struct lab_runrec run;
	struct lab_rec rec;
	bool libfuzzer, status_lines, crashed, done, interrupted;
	bool in_stack, stack_done;
	unsigned excerpt_lines;
	size_t excerpt_len;
	/* campaign.env's reproduce command (campaign.sh, absolute) and the
	 * flags after the target; "" from an older campaign */
	char reproduce[512], reproduce_flags[512];
};

/* "#N: cov: C ... exec/s E ... time: Ts" or "#N\tEV cov: C ... exec/s: E" */
static void lab_flog_status(struct lab_flog *l, const char *line)
{
	const char *cov = strstr(line, " cov: ");
	const char *ex = strstr(line, "exec/s");
	const char *tm = strstr(line, " time: ");
	double execs = strtod(line + 1, NULL), rate, t;

	if (!cov || !ex)
		return;
	ex += 6;
	ex += strspn(ex, ": ");
	rate = strtod(ex, NULL);
	t = tm ? strtod(tm + 7, NULL) : rate > 0 ? execs / rate : 0;
	l->status_lines = true;
	lab_series_add(lab_runrec_series(&l->run, "exec/s"), t, rate);
	lab_series_add(lab_runrec_series(&l->run, "coverage"), t,
		       strtod(cov + 6, NULL));
}

static bool lab_flog_is_error(const char *line)
{
	return strstr(line, "ERROR: AddressSanitizer") ||
	       strstr(line, "ERROR: LeakSanitizer") ||
	       strstr(line, "WARNING: ThreadSanitizer:") ||
	       strstr(line, "ERROR: libFuzzer:") ||
	       strstr(line, "runtime error:") ||
	       !strncmp(line, "labyrinth fuzz: ", 16) ||
	       !strncmp(line, "BUG: ", 5);
}

static void lab_flog_frame(struct lab_flog *l, const char *line)
{
	if (l->rec.nframes < LAB_REC_FRAMES &&
	    lab_site_parse_frame(line, &l->rec.frames[l->rec.nframes]))
		l->rec.nframes++;
}

static void lab_flog_excerpt(struct lab_flog *l, const char *line)
{
	size_t n = strlen(line), room;

	if (l->excerpt_lines >= 40)
		return;
	room = sizeof(l->rec.excerpt) - l->excerpt_len;
	if (n + 2 > room)
		return;
	memcpy(l->rec.excerpt + l->excerpt_len, line, n);
	l->excerpt_len += n;
	l->rec.excerpt[l->excerpt_len++] = '\n';
	l->rec.excerpt[l->excerpt_len] = '\0';
	l->excerpt_lines++;
}

/* The crash: error line (title), stack, summary, artifact. */
static void lab_flog_crash_line(struct lab_flog *l, const char *line)
{
	const char *w;

	if (!l->crashed && lab_flog_is_error(line)) {
		l->crashed = true;
		snprintf(l->rec.title, sizeof(l->rec.title), "%s",
			 line + strspn(line, "= 0123456789"));
	}
	if (!l->crashed)
		return;
	lab_flog_excerpt(l, line);
	if (!l->stack_done && strstr(line, "#") &&
	    isdigit((unsigned char)line[strcspn(line, "#") + 1]) &&
	    line[strspn(line, " ")] == '#') {
		l->in_stack = true;
		lab_flog_frame(l, line);
	} else if (l->in_stack) {
		l->stack_done = true;
	}
	if (!strncmp(line, "SUMMARY: ", 9) && !*l->rec.summary)
		lab_rec_from_summary(&l->rec, line);
	w = strstr(line, "Test unit written to ");
	if (w && !*l->rec.artifact)
		lab_abs_path(w + 21, l->rec.artifact, sizeof(l->rec.artifact));
}

static void lab_flog_line(struct lab_flog *l, char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncmp(line, "INFO: Seed: ", 12)) {
		l->libfuzzer = true;
		snprintf(l->run.seed, sizeof(l->run.seed), "%s", line + 12);
	}
	if (line[0] == '#' && isdigit((unsigned char)line[1])) {
		l->libfuzzer = true;
		lab_flog_status(l, line);
	}
	if (strstr(line, "Done ") || strstr(line, "INFO: fuzzing finished") ||
	    strstr(line, "INFO: exiting: "))
		l->done = true;
	if (strstr(line, "run interrupted"))
		l->interrupted = true;
	lab_flog_crash_line(l, line);
}

/* Names from where campaign.sh puts things: reports/fuzz-<target>-<date>/
 * fuzz.log and .../artifacts/<crash>.log; campaign.env says the target,
 * and the campaign is named after the directory holding it ("" if none). */
static void lab_flog_target(struct lab_flog *l, const char *path, char *target,
			    size_t len, char *campaign, size_t clen)
{
	char env[1024], line[1024];
	const char *slash;
	FILE *f;

	snprintf(target, len, "libfuzzer");
	slash = strrchr(path, '/');
	snprintf(env, sizeof(env), "%.*s/campaign.env",
		 slash ? (int)(slash - path) : 1, slash ? path : ".");
	f = fopen(env, "r");
	if (!f && slash) { /* artifacts/<crash>.log: one level up */
		snprintf(env + strlen(env) - strlen("/campaign.env"),
			 sizeof(env) - strlen(env) + strlen("/campaign.env"),
			 "/../campaign.env");
		f = fopen(env, "r");
	}
	campaign[0] = '\0';
	if (f) {
		char full[1024], *dir;

		lab_abs_path(env, full, sizeof(full));
		*strrchr(full, '/') = '\0'; /* campaign.env's directory */
		dir = strrchr(full, '/');
		snprintf(campaign, clen, "%s", dir ? dir + 1 : full);
	}
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "target=", 7))
			snprintf(target, len, "%s", line + 7);
		else if (!strncmp(line, "reproduce=", 10))
			snprintf(l->reproduce, sizeof(l->reproduce), "%s",
				 line + 10);
		else if (!strncmp(line, "reproduce_flags=", 16))
			snprintf(l->reproduce_flags, sizeof(l->reproduce_flags),
				 "%s", line + 16);
	}
	if (f)
		fclose(f);
}

static void lab_flog_finding(struct lab_report_set *s, struct lab_flog *l,
			     const char *path, const char *target)
{
	struct lab_rec *r = &l->rec;
	size_t n = strlen(path);
	char art[1100];

	if (!*r->artifact && n > 4 && !strcmp(path + n - 4, ".log")) {
		char art[512];

		snprintf(art, sizeof(art), "%.*s", (int)(n - 4), path);
		lab_abs_path(art, r->artifact, sizeof(r->artifact));
	}
	if (lab_set_knows_artifact(s, r->artifact)) /* captured in-process */
		return;
	if (!*r->summary) { /* libFuzzer's own: timeout, oom, deadly signal */
		r->kind = strstr(r->title, "timeout") ? LAB_KIND_TIMEOUT :
			  strstr(r->title, "out-of-memory") ?
							LAB_KIND_OUT_OF_MEMORY :
							LAB_KIND_CRASH;
		snprintf(r->check, sizeof(r->check), "%s",
			 lab_kind_name(r->kind));
	}
	snprintf(r->tool, sizeof(r->tool), "%s", target);
	snprintf(r->run, sizeof(r->run), "%s", l->run.id);
	snprintf(r->seed, sizeof(r->seed), "%s", l->run.seed);
	r->first_seen = r->last_seen = l->run.ended;
	lab_shell_quote(r->artifact, art, sizeof(art));
	if (*l->reproduce) /* runs as printed from any directory */
		lab_fit(r->reproduce, sizeof(r->reproduce), "%s %s %s%s%s",
			l->reproduce, art, target,
			*l->reproduce_flags ? " " : "", l->reproduce_flags);
	else /* an older campaign: from the source tree */
		lab_fit(r->reproduce, sizeof(r->reproduce),
			"fuzz/campaign.sh reproduce %s %s", art, target);
	snprintf(r->source, sizeof(r->source), "%s", path);
	lab_rec_sign(r, r->site.function);
	lab_set_add(s, r);
}

static void lab_flog_finish_run(struct lab_flog *l, const char *path,
				const char *target, const char *campaign,
				int64_t mtime)
{
	struct lab_runrec *r = &l->run;
	const struct lab_series *ex = lab_runrec_series(r, "exec/s");
	double last = ex && ex->n ? ex->t[ex->n - 1] : 0;

	snprintf(r->tool, sizeof(r->tool), "%s", target);
	if (*campaign) /* the id campaign.sh gives the targets' records */
		snprintf(r->id, sizeof(r->id), "campaign-%s", campaign);
	else
		snprintf(r->id, sizeof(r->id), "libfuzzer-%s-%lld", target,
			 (long long)mtime);
	snprintf(r->command, sizeof(r->command), "libFuzzer log %s", path);
	snprintf(r->source, sizeof(r->source), "%s", path);
	r->ended = mtime;
	r->started = mtime - (int64_t)last;
	snprintf(r->result, sizeof(r->result), "%s",
		 l->crashed ? "fail" :
		 l->done    ? "pass" :
			      "interrupted");
	r->findings = l->crashed;
	snprintf(r->detail, sizeof(r->detail),
		 "libFuzzer campaign, %.0f s, last exec/s %.0f", last,
		 ex && ex->n ? ex->v[ex->n - 1] : 0.0);
}

void lab_ingest_fuzz_log(struct lab_report_set *s, const char *path)
{
	struct lab_flog *l = calloc(1, sizeof(*l));
	char target[64], campaign[256], *line = NULL;
	size_t cap = 0;
	struct stat st;
	FILE *f = fopen(path, "r");

	if (!l || !f || fstat(fileno(f), &st)) {
		lab_ingest_skip(s, path, strerror(errno));
		goto out;
	}
	lab_runrec_init(&l->run, "");
	lab_rec_init(&l->rec, LAB_KIND_CRASH, "");
	while (getline(&line, &cap, f) > 0)
		lab_flog_line(l, line);
	if (!l->libfuzzer && !l->crashed)
		goto out; /* some other log */
	lab_flog_target(l, path, target, sizeof(target), campaign,
			sizeof(campaign));
	lab_flog_finish_run(l, path, target, campaign, (int64_t)st.st_mtime);
	if (l->status_lines)
		lab_set_add_run(s, &l->run);
	if (l->crashed)
		lab_flog_finding(s, l, path, target);
	s->files_read++;
out:
	free(line);
	if (f)
		fclose(f);
	free(l);
}
