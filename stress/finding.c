/* finding.c - findings: when two are the same, and how one is saved.
 *
 * A saved finding is two files in the run's report directory, numbered
 * with the next n free for both: artifact-<n>.lab (artifact.c; what
 * `labyrinth replay` reads) and finding-<n>.json (the finding record of
 * reports/README.md: what, where, how to reproduce).  Both names are
 * claimed by creating them exclusively, so runs and sanitizer hooks
 * sharing a directory never overwrite each other; both files are then
 * written atomically (temporary file and rename).
 */
#define _GNU_SOURCE /* PATH_MAX */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define LAB_FINDINGS_PER_DIR 100000u

bool lab_finding_same(const struct lab_finding *a, const struct lab_finding *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->where, b->where);
}

static int lab_claim(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Claims the first n whose artifact-<n>.lab and finding-<n>.json are both
 * free; the files are later renamed over the empty placeholders. */
static int lab_claim_pair(const char *dir, char *art, char *json, size_t len)
{
	unsigned n;
	int ret;

	for (n = 1; n <= LAB_FINDINGS_PER_DIR; n++) {
		if ((size_t)snprintf(art, len, "%s/artifact-%u.lab", dir, n) >=
			    len ||
		    (size_t)snprintf(json, len, "%s/finding-%u.json", dir, n) >=
			    len)
			return -ENAMETOOLONG;
		ret = lab_claim(art);
		if (ret == -EEXIST)
			continue;
		if (ret)
			return ret;
		ret = lab_claim(json);
		if (!ret)
			return 0;
		unlink(art);
		if (ret != -EEXIST)
			return ret;
	}
	return -ENOSPC;
}

/* The record's fields that come from the artifact; what the caller put in
 * r (sanitizer details, last operations) stays. */
static void lab_finding_fill(struct lab_rec *r, const struct lab_artifact *a,
			     const char *artifact)
{
	const struct lab_finding *f = &a->finding;

	if (!*r->check)
		snprintf(r->check, sizeof(r->check), "%s", f->kind);
	if (!*r->title)
		snprintf(r->title, sizeof(r->title), "%s", f->message);
	if (!*r->site.function && !*r->site.file)
		lab_site_of_where(&r->site, f->where);
	snprintf(r->seed, sizeof(r->seed), "%" PRIu64, a->opts.seed);
	if (a->opts.mode == LAB_MODE_CONTROLLED)
		snprintf(r->strategy, sizeof(r->strategy), "%s",
			 lab_strategy_name(a->opts.strategy));
	snprintf(r->bug, sizeof(r->bug), "%s", a->opts.bug);
	r->step = f->step;
	r->thread = f->thread;
	lab_abs_path(artifact, r->artifact, sizeof(r->artifact));
	lab_artifact_replay_cmd(r->artifact, &a->opts, r->reproduce,
				sizeof(r->reproduce));
	if (!*r->signature)
		lab_rec_sign(r, f->where);
}

int lab_finding_save(const struct lab_artifact *in, struct lab_rec *r,
		     const char *out_dir, char *artifact_path, size_t pathlen)
{
	char art[PATH_MAX + 32] = "", json[PATH_MAX + 32] = "", lost[512];
	struct lab_artifact copy = *in, *a = &copy;
	int ret = lab_mkdir_p(out_dir);

	/* the artifact records where the run wrote, from any directory */
	lab_abs_path(out_dir, copy.opts.out_dir, sizeof(copy.opts.out_dir));
	if (!ret)
		ret = lab_claim_pair(out_dir, art, json, sizeof(art));
	if (!ret)
		ret = lab_artifact_write(art, a);
	if (!ret) {
		lab_finding_fill(r, a, art);
		ret = lab_rec_write(json, r);
	}
	if (ret) {
		fprintf(stderr, "labyrinth: %s: cannot save the finding: %s\n",
			out_dir, strerror(-ret));
		if (*art)
			unlink(art);
		if (*json)
			unlink(json);
		lab_fit(lost, sizeof(lost),
			"finding %s at %s: its record and "
			"artifact in %s",
			a->finding.kind, a->finding.where, out_dir);
		lab_runlog_lost(lost, -ret);
		return ret;
	}
	lab_runlog_saved(json);
	printf("finding: %s at %s: %s\n", a->finding.kind, a->finding.where,
	       a->finding.message);
	printf("report: %s\nreproduce: %s\n", json, r->reproduce);
	fflush(stdout);
	if (artifact_path && pathlen)
		snprintf(artifact_path, pathlen, "%s", art);
	return 0;
}
