/* publish.c - a report's renderings replace the old ones as a set.
 *
 * The renderings share their directory with files they do not own: a
 * run renders into its own run directory, beside its finding-*.json,
 * run-*.json and artifact-*.lab, and `labyrinth report --out DIR DIR`
 * re-renders a directory from the records in it.  So the unit swapped is
 * the set of renderings, not the directory: renaming a new DIR over the
 * old one would need the old one empty, and moving the user's files across
 * could lose those a concurrent run adds meanwhile.
 *
 * All five are written into DIR/.render-PID (a dot name, which report's
 * directory walk skips; inside DIR, so on its file system and each rename
 * is atomic) and moved into DIR only when every one was written.  Until
 * then DIR holds the old set untouched: a failure (full disk) or death
 * while rendering leaves the old set and a stale .render-PID, which the
 * next publish into DIR removes once its process is gone.  The moves
 * themselves run with signals blocked, so Ctrl-C or a kill cannot split
 * them; only SIGKILL or a power cut within those five rename calls can
 * leave a mix of old and new files, each of them whole.
 */
#define _GNU_SOURCE /* PATH_MAX */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

#define LAB_STAGE_PREFIX ".render-"

/* Removes a staging directory and the plain files in it (it holds no
 * others).  0 or -errno. */
static int lab_stage_remove(const char *stage)
{
	char path[PATH_MAX];
	DIR *d = opendir(stage);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    lab_fit(path, sizeof(path), "%s/%s", stage, e->d_name))
			unlink(path);
	closedir(d);
	return rmdir(stage) ? -errno : 0;
}

/* The staging directories of publishers that died (their PID is gone). */
static void lab_stage_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *p = e->d_name + strlen(LAB_STAGE_PREFIX);
		char path[PATH_MAX], *end;
		long pid;

		if (strncmp(e->d_name, LAB_STAGE_PREFIX,
			    strlen(LAB_STAGE_PREFIX)))
			continue;
		pid = strtol(p, &end, 10);
		if (*end || pid <= 0 ||
		    (pid != (long)getpid() &&
		     !(kill((pid_t)pid, 0) && errno == ESRCH)))
			continue;
		if (lab_fit(path, sizeof(path), "%s/%s", dir, e->d_name))
			lab_stage_remove(path);
	}
	closedir(d);
}

/* Moves every file of stage into dir, with catchable signals held off so
 * the set is not split by Ctrl-C.  0 or the first -errno (named on
 * stderr). */
static int lab_stage_move(const char *stage, const char *dir)
{
	char from[PATH_MAX], to[PATH_MAX];
	sigset_t all, old;
	DIR *d = opendir(stage);
	struct dirent *e;
	int ret = 0, fd;

	if (!d)
		return -errno;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!lab_fit(from, sizeof(from), "%s/%s", stage, e->d_name) ||
		    !lab_fit(to, sizeof(to), "%s/%s", dir, e->d_name))
			ret = ret ? ret : -ENAMETOOLONG;
		else if (rename(from, to) && !ret)
			ret = -errno;
		if (ret)
			break;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) { /* the renames reach the disk with the files */
		fsync(fd);
		close(fd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	closedir(d);
	if (ret)
		fprintf(stderr, "labyrinth: %s: cannot move into place: %s\n",
			to, strerror(-ret));
	return ret;
}

int lab_report_publish(const struct lab_report_set *s, const char *dir)
{
	char stage[PATH_MAX];
	int ret = lab_mkdir_p(dir);

	if (ret) {
		fprintf(stderr, "labyrinth: %s: cannot create: %s\n", dir,
			strerror(-ret));
		return ret;
	}
	if (!lab_fit(stage, sizeof(stage), "%s/" LAB_STAGE_PREFIX "%ld", dir,
		     (long)getpid())) {
		fprintf(stderr, "labyrinth: %s: %s\n", dir,
			strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	lab_stage_sweep(dir);
	if (mkdir(stage, 0777)) {
		ret = -errno;
		fprintf(stderr, "labyrinth: %s: cannot create: %s\n", stage,
			strerror(-ret));
		return ret;
	}
	ret = lab_report_write_all(s, stage);
	if (!ret)
		ret = lab_stage_move(stage, dir);
	else
		fprintf(stderr,
			"labyrinth: %s: renderings not replaced (the old ones, "
			"if any, are as they were)\n",
			dir);
	lab_stage_remove(stage);
	return ret;
}
