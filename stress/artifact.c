/* artifact.c - artifact files: how a finding is written down so that it can
 * be replayed, and the strict reader that takes nothing else.
 *
 *   labyrinth-artifact 1
 *   build <rest of line>               lab_version() of the writer
 *   mode free|controlled|campaign      \
 *   ...                                 | the run's options (opts.c table,
 *   schedules <u64>                    /  in its order)
 *   finding-kind <token>               "-" stands for an empty token
 *   finding-where <token>
 *   finding-step <u64>
 *   finding-thread <int>
 *   finding-message <rest of line>
 *   decisions <count>
 *   d <tok> <tok> ...                  up to 32 a line; thread index, with
 *   end                                suffix `i` if an interrupt is injected;
 *                                      `TrK` (--memory c11): thread T's load
 *                                      reads store K (0 the newest)
 *
 * The reader accepts the header fields in any order, each exactly once, all
 * before `decisions`; then exactly <count> decision tokens, each below the
 * logical thread count (reads-from choices only in a c11 artifact, store
 * below 64); then `end` and nothing more.  It never trusts a
 * size it reads: lines are capped at 64 KiB, counts at 100 million, and the
 * decision array grows only with tokens actually present.  Every error is
 * one line naming the file, and the line and field at fault.
 */
#define _GNU_SOURCE /* getc_unlocked, realpath, fsync */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define LAB_ARTIFACT_MAGIC "labyrinth-artifact"
#define LAB_ARTIFACT_VERSION 1
#define LAB_LINE_MAX 65536
#define LAB_DECISIONS_MAX 100000000ull
#define LAB_TOKENS_PER_LINE 32

/* Fields of the artifact that are not run options. */
enum lab_extra {
	LAB_X_BUILD,
	LAB_X_KIND,
	LAB_X_WHERE,
	LAB_X_STEP,
	LAB_X_THREAD,
	LAB_X_MESSAGE,
	LAB_X_COUNT
};

static const char *const lab_extra_names[LAB_X_COUNT] = {
	"build",	"finding-kind",	  "finding-where",
	"finding-step", "finding-thread", "finding-message",
};

/* ---- writing ---------------------------------------------------------------- */

/* Free text stays on its line and in ASCII: control and non-ASCII bytes
 * become '?', so the reader's text check always passes. */
static void lab_put_text(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s ", key);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ?
			      '?' :
			      *s,
		      f);
	fputc('\n', f);
}

/* A token is one word: blanks become '_', and "" is written as "-". */
static void lab_put_token(FILE *f, const char *key, const char *s)
{
	if (!*s) {
		fprintf(f, "%s -\n", key);
		return;
	}
	fprintf(f, "%s ", key);
	for (; *s; s++)
		fputc((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7e ?
			      '_' :
			      *s,
		      f);
	fputc('\n', f);
}

/* Values as the table prints them; text put through lab_put_text (a
 * directory name in UTF-8 comes back with '?' for its non-ASCII bytes:
 * `out` is for the reader, replay does not use it). */
static void lab_put_options(FILE *f, const struct lab_opts *o)
{
	char value[sizeof(o->out_dir) + 64];
	int i;

	for (i = 0; i < lab_opt_count(); i++) {
		if (!lab_opt_in(i, LAB_OPT_ARTIFACT))
			continue;
		lab_opt_format(o, i, value, sizeof(value));
		lab_put_text(f, lab_opt_name(i), value);
	}
}

static void lab_put_decisions(FILE *f, const struct lab_artifact *a)
{
	uint64_t i;

	fprintf(f, "decisions %" PRIu64 "\n", a->ndecisions);
	for (i = 0; i < a->ndecisions; i++) {
		lab_decision_t d = a->decisions[i];

		fputs(i % LAB_TOKENS_PER_LINE ? " " : "d ", f);
		if (d & LAB_DEC_READ)
			fprintf(f, "%ur%u", d & LAB_DEC_THREAD_MASK,
				d >> LAB_DEC_READ_SHIFT);
		else
			fprintf(f, "%u%s", d & LAB_DEC_THREAD_MASK,
				d & LAB_DEC_IRQ ? "i" : "");
		if (i % LAB_TOKENS_PER_LINE == LAB_TOKENS_PER_LINE - 1 ||
		    i + 1 == a->ndecisions)
			fputc('\n', f);
	}
}

static int lab_emit_artifact(FILE *f, const void *arg)
{
	const struct lab_artifact *a = arg;

	fprintf(f, "%s %d\n", LAB_ARTIFACT_MAGIC, LAB_ARTIFACT_VERSION);
	lab_put_text(f, "build", a->build);
	lab_put_options(f, &a->opts);
	lab_put_token(f, "finding-kind", a->finding.kind);
	lab_put_token(f, "finding-where", a->finding.where);
	fprintf(f, "finding-step %" PRIu64 "\n", a->finding.step);
	fprintf(f, "finding-thread %d\n", a->finding.thread);
	lab_put_text(f, "finding-message", a->finding.message);
	lab_put_decisions(f, a);
	fputs("end\n", f);
	return 0;
}

int lab_artifact_write(const char *path, const struct lab_artifact *a)
{
	if (a->ndecisions && !a->decisions) {
		fprintf(stderr, "labyrinth: %s: no decisions to write\n", path);
		return -EINVAL;
	}
	return lab_write_atomic(path, lab_emit_artifact, a);
}

void lab_artifact_free(struct lab_artifact *a)
{
	if (!a)
		return;
	free(a->decisions);
	a->decisions = NULL;
	a->ndecisions = 0;
}

/* ---- commands that run as printed ------------------------------------------ */

/* The first `labyrinth` an absolute PATH entry holds, resolved; false if
 * none.  Relative entries ("" and "." included) are skipped: what they
 * find depends on the directory the command is typed in. */
static bool lab_path_labyrinth(char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	char cand[PATH_MAX], real[PATH_MAX];

	for (p = path; p && *p; p = *end ? end + 1 : end) {
		size_t n;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (*p != '/' || n + sizeof("/labyrinth") > sizeof(cand))
			continue;
		snprintf(cand, sizeof(cand), "%.*s/labyrinth", (int)n, p);
		if (access(cand, X_OK))
			continue;
		if (!realpath(cand, real))
			return false;
		snprintf(buf, len, "%s", real);
		return true;
	}
	return false;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LAB_SELF_TSAN 1
#endif
#endif
#ifdef __SANITIZE_THREAD__
#define LAB_SELF_TSAN 1
#endif

/* In a TSan build, "TSAN_OPTIONS='...' " as this process has it (empty
 * when unset, which means TSan's defaults): halt_on_error decides whether
 * a schedule stops at TSan's report or runs on, so a replay under other
 * options can report another finding.  Nothing in other builds. */
static void lab_self_env(char *buf, size_t len)
{
#ifdef LAB_SELF_TSAN
	const char *v = getenv("TSAN_OPTIONS");
	char q[1024];

	lab_shell_quote(v ? v : "", q, sizeof(q));
	snprintf(buf, len, "TSAN_OPTIONS=%s ", q);
#else
	if (len)
		*buf = '\0';
#endif
}

const char *lab_self_command(void)
{
	static char cmd[2 * PATH_MAX + 1100];
	char self[PATH_MAX], onpath[PATH_MAX], q[2 * PATH_MAX + 8], env[1100];
	ssize_t n;

	if (*cmd)
		return cmd;
	lab_self_env(env, sizeof(env));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		/* the best we know */
		snprintf(cmd, sizeof(cmd), "%slabyrinth", env);
		return cmd;
	}
	self[n] = '\0';
	if (lab_path_labyrinth(onpath, sizeof(onpath)) && !strcmp(onpath, self))
		snprintf(q, sizeof(q), "labyrinth");
	else
		lab_shell_quote(self, q, sizeof(q));
	snprintf(cmd, sizeof(cmd), "%s%s", env, q);
	return cmd;
}

/* A controlled replay writes nothing, so it names no directory; a
 * free-running one is a new run, whose findings go beside the artifact
 * (replay's default, spelled out so the command says where). */
void lab_artifact_replay_cmd(const char *path, const struct lab_opts *o,
			     char *buf, size_t len)
{
	char full[PATH_MAX], out[PATH_MAX + 16];
	char quoted[2 * PATH_MAX + 8], qout[2 * PATH_MAX + 40];
	size_t used;

	lab_abs_path(path, full, sizeof(full));
	lab_shell_quote(full, quoted, sizeof(quoted));
	used = (size_t)snprintf(buf, len, "%s replay %s", lab_self_command(),
				quoted);
	if (o->mode == LAB_MODE_CONTROLLED || used >= len)
		return;
	lab_replay_out_dir(full, out, sizeof(out));
	lab_shell_quote(out, qout, sizeof(qout));
	snprintf(buf + used, len - used, " --out %s", qout);
}

void lab_replay_out_dir(const char *artifact, char *buf, size_t len)
{
	char full[PATH_MAX];
	const char *slash;

	lab_abs_path(artifact, full, sizeof(full));
	slash = strrchr(full, '/');
	snprintf(buf, len, "%.*s/replay", slash ? (int)(slash - full) : 0,
		 full);
}

/* ---- reading: lines ------------------------------------------------------------ */

struct lab_reader {
	FILE *f;
	const char *path;
	unsigned line;	 /* number of the line in buf */
	uint64_t offset; /* file offset of the next byte */
	char *buf;	 /* LAB_LINE_MAX + 1 */
	char *err;
	size_t errlen;
};

static int lab_fail(const struct lab_reader *r, unsigned line, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* "FILE:LINE: what", or "FILE: what" (line 0) for problems of the whole
 * file.  Returns -1 for the caller to pass on. */
static int lab_fail(const struct lab_reader *r, unsigned line, const char *fmt,
		    ...)
{
	int n = line ? snprintf(r->err, r->errlen, "%s:%u: ", r->path, line) :
		       snprintf(r->err, r->errlen, "%s: ", r->path);
	va_list ap;

	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Checks one byte of a line: printable ASCII or a tab. */
static int lab_check_byte(struct lab_reader *r, int c)
{
	if (c == '\t' || (c >= 0x20 && c < 0x7f))
		return 0;
	return lab_fail(r, r->line,
			"byte 0x%02x at file offset %" PRIu64
			" is not text (binary data?)",
			c, r->offset - 1);
}

/* After a '\r': true (and the '\n' taken) if it ends the line. */
static bool lab_crlf(struct lab_reader *r)
{
	int c = getc_unlocked(r->f);

	if (c == '\n') {
		r->offset++;
		return true;
	}
	if (c != EOF)
		ungetc(c, r->f);
	return false;
}

/* Reads the next line into r->buf without its newline (a "\r\n" ending is
 * taken too).  1 if a line was read, 0 at end of file, -1 on error. */
static int lab_read_line(struct lab_reader *r)
{
	size_t n = 0;
	int c;

	r->line++;
	while ((c = getc_unlocked(r->f)) != EOF) {
		r->offset++;
		if (c == '\n')
			break;
		if (c == '\r' && lab_crlf(r))
			break;
		if (n == LAB_LINE_MAX)
			return lab_fail(r, r->line, "line longer than %d bytes",
					LAB_LINE_MAX);
		if (lab_check_byte(r, c))
			return -1;
		r->buf[n++] = (char)c;
	}
	r->buf[n] = '\0';
	if (ferror(r->f))
		return lab_fail(r, 0, "cannot read: %s", strerror(errno));
	return c == EOF && n == 0 ? 0 : 1;
}

/* Splits "key value" at the first blank; value is "" for a bare key. */
static char *lab_split(char *line)
{
	char *sp = strchr(line, ' ');

	if (!sp)
		return line + strlen(line);
	*sp = '\0';
	return sp + 1;
}

/* ---- reading: fields ------------------------------------------------------------ */

struct lab_parse {
	struct lab_reader r;
	struct lab_artifact *a;
	unsigned opt_line[64]; /* line of each option, 0 = not seen */
	unsigned extra_line[LAB_X_COUNT];
	uint64_t declared; /* decisions <count> */
	uint64_t cap;	   /* allocated decision slots */
};

static int lab_header(struct lab_reader *r)
{
	char *version;
	uint64_t v;
	int got = lab_read_line(r);

	if (got == 0)
		return lab_fail(r, 0, "empty file");
	if (got < 0 && r->offset > 0 && !ferror(r->f))
		return lab_fail(r, 0,
				"not a labyrinth artifact (first line "
				"is not '%s %d')",
				LAB_ARTIFACT_MAGIC, LAB_ARTIFACT_VERSION);
	if (got < 0)
		return -1;
	version = lab_split(r->buf);
	if (strcmp(r->buf, LAB_ARTIFACT_MAGIC))
		return lab_fail(r, 0,
				"not a labyrinth artifact (first line "
				"is not '%s %d')",
				LAB_ARTIFACT_MAGIC, LAB_ARTIFACT_VERSION);
	if (lab_parse_u64(version, &v))
		return lab_fail(r, r->line, "'%.32s' is not a version number",
				version);
	if (v != LAB_ARTIFACT_VERSION)
		return lab_fail(r, r->line,
				"%s %s: version %s not supported (this "
				"build reads %d)",
				LAB_ARTIFACT_MAGIC, version, version,
				LAB_ARTIFACT_VERSION);
	return 0;
}

/* A token field: one word, "-" for empty. */
static int lab_token(struct lab_parse *p, const char *field, const char *v,
		     char *dst, size_t size)
{
	if (!*v || strchr(v, ' ') || strchr(v, '\t'))
		return lab_fail(&p->r, p->r.line,
				"'%.40s' is not one word (field "
				"'%s')",
				v, field);
	if (strlen(v) >= size)
		return lab_fail(&p->r, p->r.line,
				"value longer than %zu characters "
				"(field '%s')",
				size - 1, field);
	snprintf(dst, size, "%s", strcmp(v, "-") ? v : "");
	return 0;
}

static int lab_text(struct lab_parse *p, const char *field, const char *v,
		    char *dst, size_t size, bool may_be_empty)
{
	if (!*v && !may_be_empty)
		return lab_fail(&p->r, p->r.line, "empty value (field '%s')",
				field);
	if (strlen(v) >= size)
		return lab_fail(&p->r, p->r.line,
				"value longer than %zu characters "
				"(field '%s')",
				size - 1, field);
	snprintf(dst, size, "%s", v);
	return 0;
}

static int lab_thread_field(struct lab_parse *p, const char *v)
{
	uint64_t t;

	if (!strcmp(v, "-1")) {
		p->a->finding.thread = -1;
		return 0;
	}
	if (lab_parse_u64(v, &t) || t >= LAB_MAX_THREADS)
		return lab_fail(&p->r, p->r.line,
				"'%.32s' is not -1..%d (field "
				"'finding-thread')",
				v, LAB_MAX_THREADS - 1);
	p->a->finding.thread = (int)t;
	return 0;
}

static int lab_extra_field(struct lab_parse *p, enum lab_extra x, const char *v)
{
	struct lab_finding *fd = &p->a->finding;
	const char *name = lab_extra_names[x];

	switch (x) {
	case LAB_X_BUILD:
		return lab_text(p, name, v, p->a->build, sizeof(p->a->build),
				false);
	case LAB_X_KIND:
		return lab_token(p, name, v, fd->kind, sizeof(fd->kind));
	case LAB_X_WHERE:
		return lab_token(p, name, v, fd->where, sizeof(fd->where));
	case LAB_X_STEP:
		if (lab_parse_u64(v, &fd->step))
			return lab_fail(&p->r, p->r.line,
					"'%.32s' is not an unsigned "
					"decimal number (field "
					"'%s')",
					v, name);
		return 0;
	case LAB_X_THREAD:
		return lab_thread_field(p, v);
	default:
		return lab_text(p, name, v, fd->message, sizeof(fd->message),
				true);
	}
}

/* Marks a field seen on this line; a second sighting is an error. */
static int lab_seen(struct lab_parse *p, unsigned *first, const char *name)
{
	if (*first)
		return lab_fail(&p->r, p->r.line,
				"duplicate field (first on line %u) "
				"(field '%s')",
				*first, name);
	*first = p->r.line;
	return 0;
}

static int lab_missing(struct lab_parse *p)
{
	int i;

	for (i = 0; i < lab_opt_count(); i++)
		if (lab_opt_in(i, LAB_OPT_ARTIFACT) &&
		    !lab_opt_in(i, LAB_OPT_OPTIONAL) && !p->opt_line[i])
			return lab_fail(&p->r, p->r.line,
					"field missing before "
					"'decisions' (field '%s')",
					lab_opt_name(i));
	for (i = 0; i < LAB_X_COUNT; i++)
		if (!p->extra_line[i])
			return lab_fail(&p->r, p->r.line,
					"field missing before "
					"'decisions' (field '%s')",
					lab_extra_names[i]);
	return 0;
}

static int lab_decisions_line(struct lab_parse *p, const char *v)
{
	int maze = lab_opt_find("maze", LAB_OPT_ARTIFACT);
	char why[160];

	if (lab_missing(p))
		return -1;
	if (p->a->opts.mode == LAB_MODE_FREE && p->a->opts.memory != LAB_MEM_SC)
		return lab_fail(&p->r,
				p->opt_line[lab_opt_find("memory",
							 LAB_OPT_ARTIFACT)],
				"memory %s in a free-running artifact: the "
				"model is the controlled mode's (field "
				"'memory')",
				lab_memory_name(p->a->opts.memory));
	if (lab_opts_check(&p->a->opts, why, sizeof(why)))
		return lab_fail(&p->r, p->opt_line[maze], "%s (field 'maze')",
				why);
	if (lab_parse_u64(v, &p->declared))
		return lab_fail(&p->r, p->r.line,
				"'%.32s' is not an unsigned decimal "
				"number (field 'decisions')",
				v);
	if (p->declared > LAB_DECISIONS_MAX)
		return lab_fail(&p->r, p->r.line,
				"%" PRIu64 " decisions is more than "
				"the limit of %llu (field "
				"'decisions')",
				p->declared, LAB_DECISIONS_MAX);
	if (p->declared && p->a->opts.mode == LAB_MODE_FREE)
		return lab_fail(&p->r, p->r.line,
				"a free-running artifact has no "
				"decisions (field 'decisions')");
	return 0;
}

/* One "key value" line of the header part. */
static int lab_field(struct lab_parse *p, const char *key, const char *v)
{
	char why[200];
	int i = lab_opt_find(key, LAB_OPT_ARTIFACT);

	if (i >= 0) {
		if (lab_seen(p, &p->opt_line[i], key))
			return -1;
		if (lab_opt_parse(&p->a->opts, i, v, why, sizeof(why)))
			return lab_fail(&p->r, p->r.line, "%s (field '%s')",
					why, key);
		return 0;
	}
	for (i = 0; i < LAB_X_COUNT; i++)
		if (!strcmp(key, lab_extra_names[i]))
			return lab_seen(p, &p->extra_line[i], key) ?
				       -1 :
				       lab_extra_field(p, i, v);
	return lab_fail(&p->r, p->r.line, "unknown field '%.40s'", key);
}

/* ---- reading: decisions ----------------------------------------------------------- */

static int lab_push_decision(struct lab_parse *p, lab_decision_t d)
{
	struct lab_artifact *a = p->a;

	if (a->ndecisions == p->cap) {
		uint64_t cap = p->cap ? p->cap * 2 : 1024;
		lab_decision_t *grown;

		if (cap > p->declared)
			cap = p->declared;
		grown = realloc(a->decisions, cap * sizeof(*grown));
		if (!grown)
			return lab_fail(&p->r, p->r.line,
					"out of memory for %" PRIu64
					" decisions",
					cap);
		a->decisions = grown;
		p->cap = cap;
	}
	a->decisions[a->ndecisions++] = d;
	return 0;
}

/* A decision's thread must be one of the artifact's logical threads. */
static int lab_thread_unknown(struct lab_parse *p, const char *tok, uint64_t t)
{
	if (t < p->a->opts.logical)
		return 0;
	return lab_fail(&p->r, p->r.line,
			"decision '%s': thread %" PRIu64
			" is not below logical %u (field 'd')",
			tok, t, p->a->opts.logical);
}

/* "TrK": thread T's load reads store K (0 the newest, below 64), in a
 * c11 artifact only. */
static int lab_read_token(struct lab_parse *p, const char *tok,
			  const char *r, lab_decision_t *d)
{
	char digits[8];
	uint64_t t = 0, k = 64;
	size_t len = (size_t)(r - tok);
	bool ok = len > 0 && len < sizeof(digits);

	if (ok) {
		memcpy(digits, tok, len);
		digits[len] = '\0';
		ok = !lab_parse_u64(digits, &t) && !lab_parse_u64(r + 1, &k) &&
		     k < 64;
	}
	if (!ok)
		return lab_fail(&p->r, p->r.line,
				"decision '%.16s' is not a reads-from choice "
				"THREADrSTORE, store 0..63 (field 'd')",
				tok);
	if (p->a->opts.memory != LAB_MEM_C11)
		return lab_fail(&p->r, p->r.line,
				"decision '%.16s' is a reads-from choice in an "
				"artifact of memory %s (field 'd')",
				tok, lab_memory_name(p->a->opts.memory));
	if (lab_thread_unknown(p, tok, t))
		return -1;
	*d = (lab_decision_t)t | LAB_DEC_READ |
	     (lab_decision_t)k << LAB_DEC_READ_SHIFT;
	return 0;
}

/* "3" or "3i": a logical thread index below opts.logical; "3r1" a
 * reads-from choice. */
static int lab_decision_token(struct lab_parse *p, const char *tok,
			      lab_decision_t *d)
{
	size_t len = strlen(tok);
	bool irq = len > 1 && tok[len - 1] == 'i';
	const char *r = strchr(tok, 'r');
	char digits[8];
	uint64_t t;

	if (r)
		return lab_read_token(p, tok, r, d);
	if (len - irq == 0 || len - irq >= sizeof(digits))
		return lab_fail(&p->r, p->r.line,
				"decision '%.16s' is not a thread "
				"index with optional 'i' (field "
				"'d')",
				tok);
	memcpy(digits, tok, len - irq);
	digits[len - irq] = '\0';
	if (lab_parse_u64(digits, &t))
		return lab_fail(&p->r, p->r.line,
				"decision '%.16s' is not a thread "
				"index with optional 'i' (field "
				"'d')",
				tok);
	if (lab_thread_unknown(p, tok, t))
		return -1;
	*d = (lab_decision_t)t | (irq ? LAB_DEC_IRQ : 0);
	return 0;
}

static int lab_d_line(struct lab_parse *p, char *v)
{
	char *tok = v, *next;

	if (!*v)
		return lab_fail(&p->r, p->r.line,
				"no decisions on the line (field "
				"'d')");
	for (; tok; tok = next) {
		lab_decision_t d = 0;

		next = strchr(tok, ' ');
		if (next)
			*next++ = '\0';
		if (p->a->ndecisions == p->declared)
			return lab_fail(&p->r, p->r.line,
					"more decisions than the "
					"%" PRIu64 " declared (field "
					"'d')",
					p->declared);
		if (lab_decision_token(p, tok, &d) || lab_push_decision(p, d))
			return -1;
	}
	return 0;
}

/* ---- reading: the file --------------------------------------------------------------- */

static int lab_read_header_fields(struct lab_parse *p)
{
	int got;

	while ((got = lab_read_line(&p->r)) > 0) {
		char *v = lab_split(p->r.buf);

		if (!strcmp(p->r.buf, "decisions"))
			return lab_decisions_line(p, v);
		if (lab_field(p, p->r.buf, v))
			return -1;
	}
	return got < 0 ? -1 :
			 lab_fail(&p->r, 0,
				  "truncated after line %u: no "
				  "'decisions' and 'end' lines",
				  p->r.line - 1);
}

static int lab_read_decisions(struct lab_parse *p)
{
	int got;

	while ((got = lab_read_line(&p->r)) > 0) {
		char *v = lab_split(p->r.buf);

		if (!strcmp(p->r.buf, "end") && !*v)
			break;
		if (strcmp(p->r.buf, "d"))
			return lab_fail(&p->r, p->r.line,
					"expected 'd' or 'end', not "
					"'%.40s'",
					p->r.buf);
		if (lab_d_line(p, v))
			return -1;
	}
	if (got < 0)
		return -1;
	if (!got)
		return lab_fail(&p->r, 0,
				"truncated after line %u: %" PRIu64
				" of %" PRIu64 " decisions, no 'end' line",
				p->r.line - 1, p->a->ndecisions, p->declared);
	if (p->a->ndecisions != p->declared)
		return lab_fail(&p->r, p->r.line,
				"%" PRIu64 " decisions given, %" PRIu64
				" declared (field 'decisions')",
				p->a->ndecisions, p->declared);
	return 0;
}

static int lab_read_trailer(struct lab_parse *p)
{
	int got = lab_read_line(&p->r);

	if (got > 0)
		return lab_fail(&p->r, p->r.line, "text after 'end'");
	return got;
}

static int lab_parse_file(struct lab_parse *p)
{
	if (lab_header(&p->r) || lab_read_header_fields(p) ||
	    lab_read_decisions(p) || lab_read_trailer(p))
		return -1;
	return 0;
}

int lab_artifact_read(const char *path, struct lab_artifact *a, char *err,
		      size_t errlen)
{
	struct lab_parse p;
	int ret;

	memset(a, 0, sizeof(*a));
	lab_opts_defaults(&a->opts);
	memset(&p, 0, sizeof(p));
	p.a = a;
	p.r.path = path;
	p.r.err = err;
	p.r.errlen = errlen;
	p.r.f = fopen(path, "r");
	if (!p.r.f) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	p.r.buf = malloc(LAB_LINE_MAX + 1);
	ret = p.r.buf ? lab_parse_file(&p) : lab_fail(&p.r, 0, "out of memory");
	free(p.r.buf);
	fclose(p.r.f);
	if (ret)
		lab_artifact_free(a);
	return ret;
}
