/* ingest.c - reading what runs left behind into a report set.
 *
 * A path may be a file or a directory, walked recursively (symbolic links
 * to directories are not followed, so a loop cannot trap the walk):
 *   finding-*.json   one finding (lab_rec_read)
 *   run-*.json       one run (lab_runrec_read)
 *   findings.json    a merged report, read only when named as a file: in
 *                    a directory it is a rendering of the records there
 *   *.log            libFuzzer output: a campaign log becomes a run with
 *                    exec/s and coverage series; a crash in it, not
 *                    captured in-process, becomes a finding
 * Everything else (artifacts, corpora) is left alone.  A bad file is
 * named on stderr with what is wrong and counted; the rest still merge.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record.h"

#define LAB_INGEST_DEPTH 12

/* One line per skipped path, "labyrinth: report: skipped PATH: why", with
 * control bytes escaped (a file name may hold a newline). */
static void lab_ingest_bad(struct lab_report_set *s, const char *err)
{
	fputs("labyrinth: report: skipped ", stderr);
	lab_shown_line(stderr, err);
	fputc('\n', stderr);
	s->files_bad++;
}

void lab_ingest_skip(struct lab_report_set *s, const char *path,
		     const char *why)
{
	char err[PATH_MAX + 256];

	lab_fit(err, sizeof(err), "%s: %s", path, why);
	lab_ingest_bad(s, err);
}

static void lab_ingest_finding(struct lab_report_set *s, const char *path)
{
	struct lab_rec *r = malloc(sizeof(*r));
	char err[768];

	if (!r)
		return lab_ingest_bad(s, "a finding: out of memory");
	if (lab_rec_read(path, r, err, sizeof(err)))
		lab_ingest_bad(s, err);
	else if (lab_set_add(s, r))
		lab_ingest_bad(s, "a finding: out of memory");
	else
		s->files_read++;
	free(r);
}

static void lab_ingest_run(struct lab_report_set *s, const char *path)
{
	struct lab_runrec *r = malloc(sizeof(*r));
	char err[768];

	if (!r)
		return lab_ingest_bad(s, "a run: out of memory");
	if (lab_runrec_read(path, r, err, sizeof(err)))
		lab_ingest_bad(s, err);
	else if (lab_set_add_run(s, r))
		lab_ingest_bad(s, "a run: out of memory");
	else
		s->files_read++;
	free(r);
}

static void lab_ingest_merged(struct lab_report_set *s, const char *path)
{
	char err[768];

	if (lab_set_read_merged(s, path, err, sizeof(err)))
		lab_ingest_bad(s, err);
	else
		s->files_read++;
}

/* Dispatches one regular file by its name.  Records are read in phase 0,
 * logs in phase 1: a log's crash is skipped when a record captured
 * in-process already names its artifact, wherever that record lies. */
static void lab_ingest_file(struct lab_report_set *s, const char *path,
			    bool named, int phase)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (phase == 1) {
		if (!fnmatch("*.log", base, 0))
			lab_ingest_fuzz_log(s, path);
		return;
	}
	if (!fnmatch("finding-*.json", base, 0))
		lab_ingest_finding(s, path);
	else if (!fnmatch("run-*.json", base, 0))
		lab_ingest_run(s, path);
	else if (!strcmp(base, "findings.json") && named)
		lab_ingest_merged(s, path); /* a rendering: only when named */
	else if (named && !fnmatch("*.json", base, 0))
		lab_ingest_finding(s, path); /* given by name: must be one */
}

static int lab_ingest_path(struct lab_report_set *s, const char *path,
			   int depth, bool named, int phase);

static int lab_ingest_dir(struct lab_report_set *s, const char *path, int depth,
			  int phase)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     e->d_name) >= sizeof(sub)) {
			if (!phase)
				lab_ingest_skip(s, path,
						strerror(ENAMETOOLONG));
			continue;
		}
		if (lstat(sub, &st)) {
			if (!phase)
				lab_ingest_skip(s, sub, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			ret = lab_ingest_path(s, sub, depth + 1, false, phase);
			if (ret && !phase) /* once, not in both phases */
				lab_ingest_skip(s, sub, strerror(-ret));
		} else if (S_ISREG(st.st_mode)) {
			lab_ingest_file(s, sub, false, phase);
		}
	}
	closedir(d);
	return 0;
}

static int lab_ingest_path(struct lab_report_set *s, const char *path,
			   int depth, bool named, int phase)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (S_ISDIR(st.st_mode) && depth > LAB_INGEST_DEPTH) {
		if (!phase)
			lab_ingest_skip(s, path,
					"nested too deep (more than "
					"12 directories below the path given)");
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return lab_ingest_dir(s, path, depth, phase);
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	lab_ingest_file(s, path, named, phase);
	return 0;
}

/* Why a path given by name added nothing: it holds nothing report reads. */
static void lab_ingest_nothing(struct lab_report_set *s, const char *path)
{
	struct stat st;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		lab_ingest_skip(s, path,
				"no finding-*.json, run-*.json or libFuzzer "
				"log in it (a findings.json is read only "
				"when named)");
	else if (!fnmatch("*.lab", base, 0))
		lab_ingest_skip(s, path,
				"an artifact, not a record (run it with "
				"'labyrinth replay')");
	else
		lab_ingest_skip(s, path,
				"not a finding or run record, findings.json "
				"or libFuzzer log");
}

int lab_set_ingest(struct lab_report_set *s, const char *path)
{
	unsigned before = s->files_read + s->files_bad;
	int ret = lab_ingest_path(s, path, 0, true, 0);

	if (!ret)
		ret = lab_ingest_path(s, path, 0, true, 1);
	if (!ret && s->files_read + s->files_bad == before)
		lab_ingest_nothing(s, path);
	return ret;
}
