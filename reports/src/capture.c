/* capture.c - in-process capture of sanitizer reports (see capture.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if __has_feature(thread_sanitizer) || defined(__SANITIZE_THREAD__)
#define LAB_CAPTURE_TSAN 1
#endif
#if __has_feature(address_sanitizer) || defined(__SANITIZE_ADDRESS__)
#define LAB_CAPTURE_ASAN 1
#endif

#define LAB_CAPTURE_PATHS 64

/* The hooks' first act is to raise lab_in_hook, before any instrumented
 * atomic or interceptor: under TSan those deliver pending signals, and the
 * handler must already see the flag (lab_capture_busy).  So the flag is a
 * plain volatile int, written and read only in functions TSan does not
 * instrument (no_sanitize("thread") still instruments C11 atomics).  The
 * sanitizers report one error at a time, so one hook runs at a time. */
#if defined(__clang__) || defined(__GNUC__)
#define LAB_HOOK_ENTRY __attribute__((no_sanitize("thread")))
#else
#define LAB_HOOK_ENTRY
#endif

static struct lab_capture lab_cap_own;
static volatile int lab_in_hook; /* a hook is running (on any thread) */
static struct lab_capture *lab_cap = &lab_cap_own;

/* Saving: prepared by lab_capture_save_to, used from the hooks.  The
 * record and the memory stream are static so a hook allocates nothing. */
static struct {
	bool on;
	char dir[PATH_MAX];
	struct lab_rec tmpl, rec;
	FILE *mem; /* fmemopen over buf */
	char buf[32768];
	char path[PATH_MAX + 32]; /* file of the current report */
	unsigned saved;
	char saved_paths[LAB_CAPTURE_PATHS][PATH_MAX + 32];
} lab_save;

void lab_capture_install(struct lab_capture *c)
{
	lab_cap = c ? c : &lab_cap_own;
	memset(lab_cap, 0, sizeof(*lab_cap));
}

LAB_HOOK_ENTRY bool lab_capture_busy(void)
{
	return lab_in_hook != 0;
}

const struct lab_capture *lab_capture_current(void)
{
	return lab_cap;
}

unsigned lab_capture_saved(void)
{
	return lab_save.saved;
}

const char *lab_capture_saved_path(unsigned i)
{
	return i < lab_save.saved && i < LAB_CAPTURE_PATHS ?
		       lab_save.saved_paths[i] :
		       NULL;
}

/* "f1>f2" of frames [from, to), at most two. */
static void lab_side(const struct lab_rec *r, unsigned from, unsigned to,
		     char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->frames[from].function,
		 from + 1 < to ? ">" : "",
		 from + 1 < to ? r->frames[from + 1].function : "");
}

/* A race has two sides, and which access TSan saw first depends on the
 * interleaving: the signature names both, in sorted order, so the same
 * race found twice is one finding. */
static void lab_sign_race(struct lab_rec *r, unsigned split)
{
	char a[200], b[200];

	lab_side(r, 0, split, a, sizeof(a));
	lab_side(r, split, r->nframes, b, sizeof(b));
	lab_fit(r->signature, sizeof(r->signature), "%s/%s@%s|%s",
		lab_kind_name(r->kind), r->check, strcmp(a, b) < 0 ? a : b,
		strcmp(a, b) < 0 ? b : a);
}

/* The project frames of an excerpt (outside any hook: it parses with libc).
 * A TSan excerpt has one "  <access> of size N ..." header per racing
 * access: three frames of the first, two of the second, and *split where
 * the second begins.  An ASan excerpt: the first stack, to its blank line. */
static void lab_frames_of_excerpt(const char *text, struct lab_rec *r,
				  unsigned *split)
{
	unsigned sides = 0, taken = 0;
	const char *p = text;

	*split = 0;
	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (!strncmp(line, "  ", 2) && strstr(line, " of size ") &&
		    line[2] != ' ') {
			if (++sides == 2)
				*split = r->nframes;
			taken = 0;
			continue;
		}
		if (!sides && !*line && r->nframes)
			break; /* ASan: the end of the first stack */
		if (r->nframes < LAB_REC_FRAMES &&
		    taken < (sides > 1 ? 2u : 3u) &&
		    lab_site_parse_frame(line, &r->frames[r->nframes])) {
			r->nframes++;
			taken++;
		}
	}
	if (*split == r->nframes)
		*split = 0; /* no frames of the other side */
}

bool lab_capture_to_rec(const struct lab_capture *c, struct lab_rec *r)
{
	unsigned split;

	if (!c->reports || !*c->summary)
		return false;
	lab_rec_from_summary(r, c->summary);
	snprintf(r->excerpt, sizeof(r->excerpt), "%s", c->excerpt);
	r->nframes = 0;
	lab_frames_of_excerpt(c->excerpt, r, &split);
	if (r->nframes && !*r->site.file)
		r->site = r->frames[0];
	lab_rec_sign(r, r->site.function);
	if (split)
		lab_sign_race(r, split);
	return true;
}

/* ---- saving from a hook ----------------------------------------------------- */

/* Plain system calls on the prepared buffer: write a temporary file,
 * fsync, rename over the path claimed for this report. */
static void lab_save_flush(void)
{
	char tmp[PATH_MAX + 64];
	long len;
	int fd;

	rewind(lab_save.mem);
	if (lab_rec_emit(lab_save.mem, &lab_save.rec) || fflush(lab_save.mem))
		return;
	len = ftell(lab_save.mem);
	if (len <= 0 || (size_t)len >= sizeof(lab_save.buf))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", lab_save.path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, lab_save.buf, (size_t)len) != len || fsync(fd)) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, lab_save.path))
		unlink(tmp);
}

/* A new report: claims the next finding-<n>.json (O_EXCL) for it. */
static bool lab_save_claim(void)
{
	unsigned n;
	int fd;

	for (n = 1; n <= 1000000; n++) {
		snprintf(lab_save.path, sizeof(lab_save.path),
			 "%s/finding-%u.json", lab_save.dir, n);
		fd = open(lab_save.path,
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			if (lab_save.saved < LAB_CAPTURE_PATHS)
				memcpy(lab_save.saved_paths[lab_save.saved],
				       lab_save.path, sizeof(lab_save.path));
			lab_save.saved++;
			return true;
		}
		if (errno != EEXIST)
			return false;
	}
	return false;
}

#ifndef LAB_CAPTURE_TSAN /* TSan: never from a hook (see below) */
/* Fills the record of the current report from the capture and the
 * template and writes it (again: hooks that come later add detail). */
static void lab_save_report(bool is_new)
{
	struct lab_rec *r = &lab_save.rec;

	if (!lab_save.on || (is_new && !lab_save_claim()))
		return;
	*r = lab_save.tmpl;
	r->first_seen = r->last_seen = (int64_t)time(NULL);
	if (!lab_capture_to_rec(lab_cap, r))
		return;
	lab_save_flush();
}
#endif

int lab_capture_save_to(const char *dir, const struct lab_rec *tmpl)
{
	int ret;

	lab_save.on = false;
	if (!dir)
		return 0;
	ret = lab_mkdir_p(dir);
	if (ret)
		return ret;
	lab_abs_path(dir, lab_save.dir, sizeof(lab_save.dir));
	lab_save.tmpl = *tmpl;
	if (!lab_save.mem) {
		lab_save.mem =
			fmemopen(lab_save.buf, sizeof(lab_save.buf), "w");
		if (!lab_save.mem)
			return -errno;
		/* No stdio buffer: glibc would malloc one at the first write,
		 * inside a hook that may run in a signal handler, where TSan
		 * reports the malloc and deadlocks in its own report. */
		setvbuf(lab_save.mem, NULL, _IONBF, 0);
		rewind(lab_save.mem);
	}
	lab_save.on = true;
	return 0;
}

void lab_capture_from_env(const char *tool, const char *build)
{
	const char *dir = getenv("LAB_FINDINGS_DIR");
	const char *art = getenv("LAB_FINDING_ARTIFACT");
	const char *cmd = getenv("LAB_FINDING_REPRODUCE");
	const char *run = getenv("LAB_FINDING_RUN");
	const char *bug = getenv("LAB_BUG");
	struct lab_rec t;
	int ret;

	if (!dir || !*dir)
		return;
	lab_rec_init(&t, LAB_KIND_CRASH, "");
	snprintf(t.tool, sizeof(t.tool), "%s", tool);
	snprintf(t.build, sizeof(t.build), "%s", build ? build : "");
	if (art && *art)
		lab_abs_path(art, t.artifact, sizeof(t.artifact));
	snprintf(t.reproduce, sizeof(t.reproduce), "%s", cmd ? cmd : "");
	snprintf(t.run, sizeof(t.run), "%s", run ? run : "");
	if (bug && *bug)
		snprintf(t.bug, sizeof(t.bug), "%s", bug);
	ret = lab_capture_save_to(dir, &t);
	if (ret) {
		fprintf(stderr, "labyrinth: LAB_FINDINGS_DIR=%s: %s\n", dir,
			strerror(-ret));
		exit(2);
	}
}

/* t's field into r's where r has none. */
#define LAB_FILL(r, t, field)                                               \
	do {                                                                \
		if (!*(r)->field)                                           \
			memcpy((r)->field, (t)->field, sizeof((r)->field)); \
	} while (0)

void lab_capture_finding(const struct lab_rec *found)
{
	struct lab_rec *r = &lab_save.rec;
	const struct lab_rec *t = &lab_save.tmpl;

	if (!lab_save.on || !lab_save_claim())
		return;
	*r = *found;
	LAB_FILL(r, t, tool);
	LAB_FILL(r, t, build);
	LAB_FILL(r, t, run);
	LAB_FILL(r, t, seed);
	LAB_FILL(r, t, artifact);
	LAB_FILL(r, t, reproduce);
	if (!*r->bug || !strcmp(r->bug, "none"))
		memcpy(r->bug, t->bug, sizeof(r->bug));
	r->first_seen = r->last_seen = (int64_t)time(NULL);
	if (!*r->signature)
		lab_rec_sign(r, r->site.function);
	lab_save_flush();
}

void lab_capture_check_failed(const char *check, const char *where,
			      const char *message)
{
	static struct lab_rec r; /* no stack: callers may be deep in a fiber */

	lab_rec_init(&r, lab_kind_of_check(check), check);
	snprintf(r.title, sizeof(r.title), "%s", message);
	lab_site_of_where(&r.site, where);
	lab_rec_sign(&r, where);
	lab_capture_finding(&r);
}

/* ---- the hooks ------------------------------------------------------------------ */

/* Every sanitizer, once per report, with its SUMMARY line. */
void __sanitizer_report_error_summary(const char *summary);
/* ---- in the hooks: no libc, no instrumented code ------------------------------------- */

/* Inside a TSan report, instrumented code or an intercepted libc call can
 * wait for the trace lock the report holds, and deadlocks (seen as a hang
 * of free-running stress under TSan).  So what runs in the hooks is
 * LAB_HOOK_ENTRY code using only these helpers, the sanitizer runtime's
 * own API and raw system calls; everything else (parsing, signatures,
 * files) happens later, outside the report.  The sanitizers report one
 * error at a time, so the capture needs no atomics. */

LAB_HOOK_ENTRY static size_t lab_hook_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Appends s to buf[*len..size) (kept NUL-terminated). */
LAB_HOOK_ENTRY static void lab_hook_put(char *buf, size_t size, size_t *len,
					const char *s)
{
	while (*s && *len + 1 < size)
		buf[(*len)++] = *s++;
	buf[*len] = '\0';
}

/* Defining the hook replaces the sanitizer's own, which prints the line:
 * printed here the same way (raw write, no interceptor). */
LAB_HOOK_ENTRY static void lab_print_summary(const char *summary)
{
	if (syscall(SYS_write, STDERR_FILENO, summary, lab_hook_len(summary)) <
	    0)
		return;
	(void)syscall(SYS_write, STDERR_FILENO, "\n", 1);
}

LAB_HOOK_ENTRY void __sanitizer_report_error_summary(const char *summary)
{
	size_t len = 0;

	lab_in_hook = 1;
	lab_print_summary(summary);
	if (!lab_cap->reports++) { /* the first report is the one kept */
		lab_hook_put(lab_cap->summary, sizeof(lab_cap->summary), &len,
			     summary);
#ifndef LAB_CAPTURE_TSAN
		lab_save_report(true); /* not under TSan: see above */
#endif
	}
	lab_in_hook = 0;
}

#ifdef LAB_CAPTURE_TSAN
/* The ThreadSanitizer report API (compiler-rt tsan_interface.h). */
int __tsan_get_report_data(void *report, const char **description, int *count,
			   int *stack_count, int *mop_count, int *loc_count,
			   int *mutex_count, int *thread_count,
			   int *unique_tid_count, void **sleep_trace,
			   unsigned long trace_size);
int __tsan_get_report_mop(void *report, unsigned long idx, int *tid,
			  void **addr, int *size, int *write, int *atomic,
			  void **trace, unsigned long trace_size);
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf,
			      size_t out_buf_size);
void __tsan_on_report(void *report);

LAB_HOOK_ENTRY static void lab_hook_put_uint(char *buf, size_t size,
					     size_t *len, unsigned long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (n)
		lab_hook_put(buf, size, len, (char[]){ digits[--n], '\0' });
}

/* One racing access into the excerpt: a header line, then its stack as
 * "    #i function file:line" lines (the fiber entry, <null>, left out). */
LAB_HOOK_ENTRY static void lab_tsan_mop(void *report, unsigned long idx,
					size_t *len)
{
	void *trace[16] = { 0 }, *addr;
	int tid, size, write, atomic;
	char *x = lab_cap->excerpt;
	size_t xs = sizeof(lab_cap->excerpt);
	unsigned i;

	if (!__tsan_get_report_mop(report, idx, &tid, &addr, &size, &write,
				   &atomic, trace, 16))
		return;
	lab_hook_put(x, xs, len, atomic ? "  atomic " : "  ");
	lab_hook_put(x, xs, len, write ? "Write" : "Read");
	lab_hook_put(x, xs, len, " of size ");
	lab_hook_put_uint(x, xs, len, (unsigned long)size);
	lab_hook_put(x, xs, len, " by thread T");
	lab_hook_put_uint(x, xs, len, (unsigned long)tid);
	lab_hook_put(x, xs, len, ":\n");
	for (i = 0; i < 16 && trace[i] && *len + 300 < xs; i++) {
		char line[256] = "";
		size_t n;

		__sanitizer_symbolize_pc(trace[i], "%f %s:%l", line,
					 sizeof(line));
		for (n = 0; line[n] && line[n] != '<'; n++)
			;
		if (line[n] == '<')
			continue; /* "<null>": no function, no file */
		lab_hook_put(x, xs, len, "    #");
		lab_hook_put_uint(x, xs, len, i);
		lab_hook_put(x, xs, len, " ");
		lab_hook_put(x, xs, len, line);
		lab_hook_put(x, xs, len, "\n");
	}
}

/* After the summary hook, for the same report: the racing accesses. */
LAB_HOOK_ENTRY void __tsan_on_report(void *report)
{
	const char *desc = "";
	int count, stacks, mops = 0, locs, mutexes, threads, tids;
	void *sleep[1];
	size_t len = 0;

	lab_in_hook = 1;
	if (lab_cap->reports <= 1 && !lab_cap->excerpt[0] &&
	    __tsan_get_report_data(report, &desc, &count, &stacks, &mops, &locs,
				   &mutexes, &threads, &tids, sleep, 1)) {
		lab_hook_put(lab_cap->excerpt, sizeof(lab_cap->excerpt), &len,
			     "WARNING: ThreadSanitizer: ");
		lab_hook_put(lab_cap->excerpt, sizeof(lab_cap->excerpt), &len,
			     desc);
		lab_hook_put(lab_cap->excerpt, sizeof(lab_cap->excerpt), &len,
			     "\n");
		lab_tsan_mop(report, 0, &len);
		if (mops > 1)
			lab_tsan_mop(report, 1, &len);
	}
	lab_in_hook = 0;
}
#endif

#ifdef LAB_CAPTURE_ASAN
void __asan_set_error_report_callback(void (*callback)(const char *));

/* The whole AddressSanitizer report, after its SUMMARY: its head is the
 * excerpt (frames are parsed from it later); saved now, since ASan ends
 * the process after this callback.  ASan, unlike TSan, lets a hook use
 * libc here. */
static void lab_asan_report(const char *text)
{
	struct lab_capture *c = lab_cap;

	if (c->reports > 1 || c->excerpt[0])
		return;
	lab_in_hook = 1;
	snprintf(c->excerpt, sizeof(c->excerpt), "%s", text);
	lab_save_report(false);
	lab_in_hook = 0;
}

__attribute__((constructor)) static void lab_asan_capture_init(void)
{
	__asan_set_error_report_callback(lab_asan_report);
}
#endif
