/* finding.c - findings: when two are the same, and how one is saved.
 *
 * A saved finding is two files in the run's report directory, numbered
 * with the next free n: artifact-<n>.lab (artifact.c; what `labyrinth
 * replay` reads) and finding-<n>.json (for machines: what, where, how to
 * reproduce).  The number is claimed by creating the artifact's name
 * exclusively, so runs sharing a directory never overwrite each other;
 * both files are then written atomically (temporary file and rename).
 */
#define _GNU_SOURCE /* PATH_MAX */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

#define LAB_FINDINGS_PER_DIR 100000u

bool lab_finding_same(const struct lab_finding *a, const struct lab_finding *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->where, b->where);
}

/* mkdir that accepts an existing directory. */
static int lab_mkdir_one(const char *dir)
{
	struct stat st;

	if (!mkdir(dir, 0777))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int lab_mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir), i;
	int ret;

	if (!len)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		ret = lab_mkdir_one(buf);
		buf[i] = '/';
		if (ret)
			return ret;
	}
	return lab_mkdir_one(buf);
}

/* Claims the next free number in dir by creating artifact-<n>.lab with
 * O_EXCL; the artifact is later renamed over the empty placeholder. */
static int lab_claim_number(const char *dir, char *path, size_t len,
			    unsigned *n)
{
	for (*n = 1; *n <= LAB_FINDINGS_PER_DIR; (*n)++) {
		int fd;

		if ((size_t)snprintf(path, len, "%s/artifact-%u.lab", dir,
				     *n) >= len)
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			return close(fd), 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -ENOSPC;
}

/* ---- JSON ----------------------------------------------------------------- */

struct lab_json_doc {
	const struct lab_artifact *a;
	const char *artifact; /* absolute path */
	const char *reproduce;
};

/* A JSON string: quotes, backslashes and control characters escaped;
 * bytes above 0x7e as \u00XX, so the document is ASCII and always valid
 * whatever a message holds. */
static void lab_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void lab_json_field(FILE *f, const char *name, const char *value,
			   bool last)
{
	fprintf(f, "  \"%s\": ", name);
	lab_json_string(f, value);
	fputs(last ? "\n" : ",\n", f);
}

/* The seed is a string: a u64 does not survive a double-based parser. */
static int lab_emit_json(FILE *f, const void *arg)
{
	const struct lab_json_doc *d = arg;
	const struct lab_artifact *a = d->a;
	char seed[24];

	snprintf(seed, sizeof(seed), "%" PRIu64, a->opts.seed);
	fputs("{\n", f);
	lab_json_field(f, "kind", a->finding.kind, false);
	lab_json_field(f, "where", a->finding.where, false);
	lab_json_field(f, "message", a->finding.message, false);
	fprintf(f, "  \"step\": %" PRIu64 ",\n", a->finding.step);
	fprintf(f, "  \"thread\": %d,\n", a->finding.thread);
	lab_json_field(f, "mode", lab_mode_name(a->opts.mode), false);
	lab_json_field(f, "seed", seed, false);
	lab_json_field(f, "strategy", lab_strategy_name(a->opts.strategy),
		       false);
	lab_json_field(f, "bug", a->opts.bug, false);
	lab_json_field(f, "build", a->build, false);
	lab_json_field(f, "artifact", d->artifact, false);
	lab_json_field(f, "reproduce", d->reproduce, true);
	fputs("}\n", f);
	return 0;
}

/* ---- saving ---------------------------------------------------------------- */

static void lab_print_finding(const struct lab_artifact *a, const char *json,
			      const char *reproduce)
{
	printf("finding: %s at %s: %s\n", a->finding.kind, a->finding.where,
	       a->finding.message);
	printf("report: %s\n", json);
	printf("reproduce: %s\n", reproduce);
	fflush(stdout);
}

/* Writes both files for a finding numbered n whose artifact name is
 * already claimed at `path`. */
static int lab_write_pair(const struct lab_artifact *a, const char *dir,
			  unsigned n, const char *path)
{
	char full[PATH_MAX], json[PATH_MAX + 32], reproduce[2 * PATH_MAX + 32];
	struct lab_json_doc doc = { a, full, reproduce };
	int ret = lab_artifact_write(path, a);

	if (ret)
		return ret;
	lab_abs_path(path, full, sizeof(full));
	lab_artifact_replay_cmd(full, reproduce, sizeof(reproduce));
	snprintf(json, sizeof(json), "%s/finding-%u.json", dir, n);
	ret = lab_write_atomic(json, lab_emit_json, &doc);
	if (!ret)
		lab_print_finding(a, json, reproduce);
	return ret;
}

int lab_finding_save(const struct lab_artifact *a, const char *out_dir,
		     char *artifact_path, size_t pathlen)
{
	char path[PATH_MAX + 32];
	unsigned n;
	int ret = lab_mkdir_p(out_dir);

	if (!ret)
		ret = lab_claim_number(out_dir, path, sizeof(path), &n);
	if (ret) {
		fprintf(stderr, "labyrinth: %s: cannot save the finding: %s\n",
			out_dir, strerror(-ret));
		return ret;
	}
	ret = lab_write_pair(a, out_dir, n, path);
	if (ret) {
		unlink(path);
		return ret;
	}
	if (artifact_path && pathlen)
		snprintf(artifact_path, pathlen, "%s", path);
	return 0;
}
