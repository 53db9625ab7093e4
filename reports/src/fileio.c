/* fileio.c - files every record writer needs: directories made on demand,
 * atomic replacement, absolute paths and shell quoting for the commands a
 * report tells people to run. */
#define _GNU_SOURCE /* PATH_MAX, realpath */
#include <errno.h>
#include <fcntl.h>
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

/* The stream lab_write_atomic hands to emit: stdio over the temporary
 * file's descriptor that remembers why its first write failed.  A
 * renderer only sees ferror() and returns -EIO; by then errno belongs to
 * whatever ran after the failed write, so the cause (ENOSPC, EDQUOT,
 * EFBIG) is kept here. */
struct lab_out {
	int fd;
	int err; /* errno of the first failed write, 0 if none */
};

static ssize_t lab_out_write(void *cookie, const char *buf, size_t len)
{
	struct lab_out *o = cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(o->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!o->err)
				o->err = n < 0 ? errno : ENOSPC;
			errno = o->err;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int lab_out_close(void *cookie)
{
	struct lab_out *o = cookie;

	return close(o->fd);
}

/* The write's status: emit's, or the stream's real cause of a failure. */
static int lab_out_status(const struct lab_out *o, int emitted, int flushed)
{
	if (o->err)
		return -o->err; /* the real cause, whatever emit said */
	if (emitted)
		return emitted;
	return flushed ? -(errno ? errno : EIO) : 0;
}

int lab_write_atomic(const char *path, int (*emit)(FILE *f, const void *arg),
		     const void *arg)
{
	static const cookie_io_functions_t io = { .write = lab_out_write,
						  .close = lab_out_close };
	struct lab_out out = { -1, 0 };
	char tmp[PATH_MAX + 32];
	FILE *f;
	int ret, bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(tmp))
		return lab_write_fail(path, NULL, "write", ENAMETOOLONG);
	out.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (out.fd < 0)
		return lab_write_fail(path, NULL, "create", errno);
	f = fopencookie(&out, "w", io);
	if (!f) {
		ret = errno;
		close(out.fd);
		return lab_write_fail(path, tmp, "write", ret);
	}
	ret = emit(f, arg);
	errno = 0;
	bad = fflush(f) || ferror(f);
	if (!bad && !ret && fsync(out.fd))
		out.err = errno;
	if (fclose(f))
		bad = 1;
	ret = lab_out_status(&out, ret, bad);
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
