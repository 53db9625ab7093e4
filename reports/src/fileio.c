/* fileio.c - files every record writer needs: directories made on demand,
 * atomic replacement, absolute paths and shell quoting for the commands a
 * report tells people to run. */
#define _GNU_SOURCE /* PATH_MAX, realpath */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

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

static int lab_write_fail(const char *path, const char *tmp, const char *what,
			  int err)
{
	fprintf(stderr, "labyrinth: %s: cannot %s: %s\n", path, what,
		strerror(err));
	if (tmp)
		unlink(tmp);
	return -err;
}

int lab_write_atomic(const char *path, int (*emit)(FILE *f, const void *arg),
		     const void *arg)
{
	char tmp[PATH_MAX + 32];
	FILE *f;
	int ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(tmp))
		return lab_write_fail(path, NULL, "write", ENAMETOOLONG);
	f = fopen(tmp, "w");
	if (!f)
		return lab_write_fail(path, NULL, "create", errno);
	ret = emit(f, arg);
	if (!ret && (fflush(f) || ferror(f) || fsync(fileno(f))))
		ret = -(errno ? errno : EIO);
	if (fclose(f) && !ret)
		ret = -(errno ? errno : EIO);
	if (ret)
		return lab_write_fail(path, tmp, "write", -ret);
	if (rename(tmp, path))
		return lab_write_fail(path, tmp, "rename into place", errno);
	return 0;
}

/* Bytes a POSIX shell leaves alone; anything else gets single quotes. */
static bool lab_shell_safe(const char *s)
{
	return *s && s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
				 "RSTUVWXYZ0123456789_./:@%+=,-")] == '\0';
}

/* Single quotes protect everything but a quote, written as '\''.  A
 * result that does not fit is cut short (the caller's buffers are sized
 * for the longest path). */
bool lab_fit(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

void lab_shell_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (lab_shell_safe(s)) {
		snprintf(buf, len, "%s", s);
		return;
	}
	for (buf[n++] = '\''; *s && n + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}

void lab_abs_path(const char *path, char *buf, size_t len)
{
	char full[PATH_MAX], cwd[PATH_MAX];
	int n;

	if (realpath(path, full)) {
		snprintf(buf, len, "%s", full);
		return;
	}
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		n = snprintf(buf, len, "%s/%s", cwd, path);
	else
		n = snprintf(buf, len, "%s", path);
	if (n < 0 || (size_t)n >= len)
		snprintf(buf, len, "%s", path); /* too long: as given */
}
