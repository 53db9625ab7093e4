/* recfile.c - finding and run records as JSON files: writing, reading
 * with validation, and the merged findings.json.  reports/README.md
 * describes the fields. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_in.h"
#include "record.h"

#define LAB_REPORT_FORMAT "labyrinth-report"

/* ---- writing -------------------------------------------------------------- */

/* Fields are written one per line, `ind` spaces deep; `sep` is what goes
 * before the field (",\n" after the first). */
struct lab_jw {
	FILE *f;
	int ind;
	bool first;
};

static void lab_jw_key(struct lab_jw *w, const char *key)
{
	fprintf(w->f, "%s%*s\"%s\": ", w->first ? "" : ",\n", w->ind, "", key);
	w->first = false;
}

static void lab_jw_str(struct lab_jw *w, const char *key, const char *v)
{
	lab_jw_key(w, key);
	lab_json_str(w->f, v);
}

static void lab_jw_u64(struct lab_jw *w, const char *key, uint64_t v)
{
	lab_jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void lab_jw_time(struct lab_jw *w, const char *key, int64_t t)
{
	char buf[32];

	lab_iso_time(t, buf, sizeof(buf));
	lab_jw_str(w, key, buf);
}

static void lab_jw_site(FILE *f, const struct lab_site *s)
{
	fputs("{\"function\": ", f);
	lab_json_str(f, s->function);
	fputs(", \"file\": ", f);
	lab_json_str(f, s->file);
	fprintf(f, ", \"line\": %u}", s->line);
}

static void lab_jw_frames(struct lab_jw *w, const struct lab_rec *r)
{
	unsigned i;

	lab_jw_key(w, "frames");
	fputc('[', w->f);
	for (i = 0; i < r->nframes; i++) {
		fprintf(w->f, "%s\n%*s", i ? "," : "", w->ind + 2, "");
		lab_jw_site(w->f, &r->frames[i]);
	}
	fprintf(w->f, r->nframes ? "\n%*s]" : "%*s]", r->nframes ? w->ind : 0,
		"");
}

static void lab_jw_ops(struct lab_jw *w, const struct lab_rec *r)
{
	unsigned i;

	lab_jw_key(w, "ops");
	fputc('[', w->f);
	for (i = 0; i < r->nops; i++) {
		fprintf(w->f, "%s\n%*s", i ? "," : "", w->ind + 2, "");
		lab_json_str(w->f, r->ops[i]);
	}
	fprintf(w->f, r->nops ? "\n%*s]" : "%*s]", r->nops ? w->ind : 0, "");
}

/* The record's fields, without the surrounding braces. */
static void lab_emit_rec_fields(struct lab_jw *w, const struct lab_rec *r)
{
	lab_jw_str(w, "kind", lab_kind_name(r->kind));
	lab_jw_str(w, "check", r->check);
	lab_jw_str(w, "signature", r->signature);
	lab_jw_str(w, "title", r->title);
	lab_jw_u64(w, "count", r->count);
	lab_jw_time(w, "first_seen", r->first_seen);
	lab_jw_time(w, "last_seen", r->last_seen);
	lab_jw_str(w, "tool", r->tool);
	lab_jw_str(w, "build", r->build);
	lab_jw_str(w, "run", r->run);
	lab_jw_str(w, "seed", r->seed);
	lab_jw_str(w, "strategy", r->strategy);
	lab_jw_str(w, "bug", r->bug);
	lab_jw_u64(w, "step", r->step);
	lab_jw_key(w, "thread");
	fprintf(w->f, "%d", r->thread);
	lab_jw_str(w, "artifact", r->artifact);
	lab_jw_str(w, "reproduce", r->reproduce);
	lab_jw_key(w, "site");
	lab_jw_site(w->f, &r->site);
	lab_jw_frames(w, r);
	lab_jw_str(w, "summary", r->summary);
	lab_jw_str(w, "excerpt", r->excerpt);
	lab_jw_ops(w, r);
}

int lab_rec_emit(FILE *f, const struct lab_rec *r)
{
	struct lab_jw w = { f, 2, false };

	fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d",
		LAB_FINDING_FORMAT, LAB_RECORD_VERSION);
	lab_emit_rec_fields(&w, r);
	fputs("\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

static int lab_emit_rec_file(FILE *f, const void *arg)
{
	return lab_rec_emit(f, arg);
}

int lab_rec_write(const char *path, const struct lab_rec *r)
{
	return lab_write_atomic(path, lab_emit_rec_file, r);
}

static void lab_emit_series(struct lab_jw *w, const struct lab_runrec *r)
{
	unsigned i, j;

	lab_jw_key(w, "series");
	fputc('[', w->f);
	for (i = 0; i < r->nseries; i++) {
		const struct lab_series *s = &r->series[i];

		fprintf(w->f, "%s\n%*s{\"name\": ", i ? "," : "", w->ind + 2,
			"");
		lab_json_str(w->f, s->name);
		fputs(", \"points\": [", w->f);
		for (j = 0; j < s->n; j++)
			fprintf(w->f, "%s[%.6g, %.6g]", j ? ", " : "",
				isfinite(s->t[j]) ? s->t[j] : 0.0,
				isfinite(s->v[j]) ? s->v[j] : 0.0);
		fputs("]}", w->f);
	}
	fprintf(w->f, r->nseries ? "\n%*s]" : "%*s]", r->nseries ? w->ind : 0,
		"");
}

/* The numbers of a latency row, in this order in files. */
#define LAB_LATENCY_FIELDS(X) \
	X(count) X(mean_ns) X(p50_ns) X(p90_ns) X(p99_ns) X(p999_ns) X(max_ns)

/* "latency": {"note": ..., "classes": [{...}, ...]}, only when the run
 * measured any (an optional field: version 1 readers skip it). */
static void lab_emit_latency(struct lab_jw *w, const struct lab_runrec *r)
{
	unsigned i;

	if (!r->nlatency)
		return;
	lab_jw_key(w, "latency");
	fputs("{\"note\": ", w->f);
	lab_json_str(w->f, r->latency_note);
	fputs(", \"classes\": [", w->f);
	for (i = 0; i < r->nlatency; i++) {
		const struct lab_latency *l = &r->latency[i];

		fprintf(w->f, "%s\n%*s{\"class\": ", i ? "," : "", w->ind + 2,
			"");
		lab_json_str(w->f, l->cls);
		fputs(", \"context\": ", w->f);
		lab_json_str(w->f, l->context);
#define LAB_EMIT_LAT(fld) fprintf(w->f, ", \"" #fld "\": %" PRIu64, l->fld);
		LAB_LATENCY_FIELDS(LAB_EMIT_LAT)
#undef LAB_EMIT_LAT
		fputc('}', w->f);
	}
	fprintf(w->f, "\n%*s]}", w->ind, "");
}

/* "coverage": [{"detector": ..., "provoked": N, "fired": N}, ...], only
 * when the run provoked detectors (optional: version 1 readers skip it). */
static void lab_emit_coverage(struct lab_jw *w, const struct lab_runrec *r)
{
	unsigned i;

	if (!r->ncoverage)
		return;
	lab_jw_key(w, "coverage");
	fputc('[', w->f);
	for (i = 0; i < r->ncoverage; i++) {
		const struct lab_coverage *c = &r->coverage[i];

		fprintf(w->f, "%s\n%*s{\"detector\": ", i ? "," : "",
			w->ind + 2, "");
		lab_json_str(w->f, c->detector);
		fprintf(w->f,
			", \"provoked\": %" PRIu64 ", \"fired\": %" PRIu64 "}",
			c->provoked, c->fired);
	}
	fprintf(w->f, "\n%*s]", w->ind, "");
}

static void lab_emit_run_fields(struct lab_jw *w, const struct lab_runrec *r)
{
	lab_jw_str(w, "id", r->id);
	lab_jw_str(w, "tool", r->tool);
	lab_jw_str(w, "build", r->build);
	lab_jw_str(w, "command", r->command);
	lab_jw_time(w, "started", r->started);
	lab_jw_time(w, "ended", r->ended);
	lab_jw_str(w, "result", r->result);
	lab_jw_u64(w, "findings", r->findings);
	lab_jw_str(w, "seed", r->seed);
	lab_jw_str(w, "detail", r->detail);
	lab_emit_series(w, r);
	lab_emit_latency(w, r);
	lab_emit_coverage(w, r);
}

static int lab_emit_run_file(FILE *f, const void *arg)
{
	struct lab_jw w = { f, 2, false };

	fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d",
		LAB_RUN_FORMAT, LAB_RECORD_VERSION);
	lab_emit_run_fields(&w, arg);
	fputs("\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

int lab_runrec_write(const char *path, const struct lab_runrec *r)
{
	return lab_write_atomic(path, lab_emit_run_file, r);
}

int lab_render_findings_json(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n",
		LAB_REPORT_FORMAT, LAB_RECORD_VERSION);
	fputs("  \"findings\": [", f);
	for (i = 0; i < s->nrecs; i++) {
		struct lab_jw w = { f, 6, true };

		fputs(i ? ",\n    {\n" : "\n    {\n", f);
		lab_emit_rec_fields(&w, &s->recs[i]);
		fputs("\n    }", f);
	}
	fputs(s->nrecs ? "\n  ],\n  \"runs\": [" : "],\n  \"runs\": [", f);
	for (i = 0; i < s->nruns; i++) {
		struct lab_jw w = { f, 6, true };

		fputs(i ? ",\n    {\n" : "\n    {\n", f);
		lab_emit_run_fields(&w, &s->runs[i]);
		fputs("\n    }", f);
	}
	fputs(s->nruns ? "\n  ]\n}\n" : "]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

/* Numbers the file by claiming finding-<n>.json with O_EXCL: an empty
 * placeholder that the atomic write then replaces. */
int lab_rec_save(const char *dir, const struct lab_rec *r, char *out,
		 size_t outlen)
{
	char path[PATH_MAX];
	unsigned n;
	int ret = lab_mkdir_p(dir), fd;

	if (ret)
		return ret;
	for (n = 1; n <= 1000000; n++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/finding-%u.json",
				     dir, n) >= sizeof(path))
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (n > 1000000)
		return -ENOSPC;
	close(fd);
	ret = lab_rec_write(path, r);
	if (ret)
		unlink(path);
	else if (out && outlen)
		snprintf(out, outlen, "%s", path);
	return ret;
}

/* ---- reading ----------------------------------------------------------------- */

struct lab_jr {
	const struct lab_jval *obj;
	char *err;
	size_t errlen;
	bool failed;
};

static int lab_jr_fail(struct lab_jr *r, const char *key, const char *what)
{
	if (!r->failed)
		snprintf(r->err, r->errlen, "field \"%s\": %s", key, what);
	r->failed = true;
	return -1;
}

/* A string field into buf; missing is "" unless required. */
static int lab_jr_str(struct lab_jr *r, const char *key, char *buf, size_t len,
		      bool required)
{
	const struct lab_jval *v = lab_json_get(r->obj, key);

	buf[0] = '\0';
	if (!v)
		return required ? lab_jr_fail(r, key, "missing") : 0;
	if (v->type != LAB_J_STR)
		return lab_jr_fail(r, key, "not a string");
	if (strlen(v->str) >= len)
		return lab_jr_fail(r, key, "too long");
	memcpy(buf, v->str, strlen(v->str) + 1);
	return 0;
}

/* A non-negative integer field (exact in a double: below 2^53). */
static int lab_jr_uint(struct lab_jr *r, const char *key, uint64_t *out,
		       bool required)
{
	const struct lab_jval *v = lab_json_get(r->obj, key);

	*out = 0;
	if (!v)
		return required ? lab_jr_fail(r, key, "missing") : 0;
	if (v->type != LAB_J_NUM || v->num < 0 || v->num > 9007199254740992.0 ||
	    v->num != (double)(int64_t)v->num)
		return lab_jr_fail(r, key, "not a non-negative integer");
	*out = (uint64_t)v->num;
	return 0;
}

static int lab_jr_time(struct lab_jr *r, const char *key, int64_t *out)
{
	char buf[40];

	if (lab_jr_str(r, key, buf, sizeof(buf), true))
		return -1;
	if (lab_parse_iso_time(buf, out))
		return lab_jr_fail(r, key,
				   "not a time like 2026-11-22T04:13:35Z");
	return 0;
}

static int lab_jr_site(struct lab_jr *r, const struct lab_jval *v,
		       struct lab_site *s, const char *key)
{
	struct lab_jr sub = { v, r->err, r->errlen, false };
	uint64_t line;

	memset(s, 0, sizeof(*s));
	if (!v || v->type != LAB_J_OBJ)
		return lab_jr_fail(r, key, "not an object");
	if (lab_jr_str(&sub, "function", s->function, sizeof(s->function),
		       false) ||
	    lab_jr_str(&sub, "file", s->file, sizeof(s->file), false) ||
	    lab_jr_uint(&sub, "line", &line, false) || line > UINT_MAX)
		return lab_jr_fail(r, key, sub.failed ? r->err : "bad line");
	s->line = (unsigned)line;
	return 0;
}

/* An optional array field of at most max elements. */
static const struct lab_jval *lab_jr_array(struct lab_jr *r, const char *key,
					   size_t max)
{
	const struct lab_jval *v = lab_json_get(r->obj, key);

	if (!v)
		return NULL;
	if (v->type != LAB_J_ARR)
		return lab_jr_fail(r, key, "not an array"), NULL;
	if (v->n > max)
		return lab_jr_fail(r, key, "too many elements"), NULL;
	return v;
}

static int lab_jr_frames_ops(struct lab_jr *jr, struct lab_rec *r)
{
	const struct lab_jval *a = lab_jr_array(jr, "frames", LAB_REC_FRAMES);
	size_t i;

	for (i = 0; a && i < a->n; i++)
		if (lab_jr_site(jr, &a->kids[i], &r->frames[r->nframes++],
				"frames"))
			return -1;
	a = lab_jr_array(jr, "ops", LAB_REC_OPS);
	for (i = 0; a && i < a->n; i++) {
		if (a->kids[i].type != LAB_J_STR ||
		    strlen(a->kids[i].str) >= sizeof(r->ops[0]))
			return lab_jr_fail(jr, "ops", "not a short string");
		lab_rec_add_op(r, a->kids[i].str);
	}
	return jr->failed ? -1 : 0;
}

static int lab_jr_thread(struct lab_jr *jr, struct lab_rec *r)
{
	const struct lab_jval *v = lab_json_get(jr->obj, "thread");

	if (!v)
		return 0;
	if (v->type != LAB_J_NUM || v->num < -1 || v->num > 1e6 ||
	    v->num != (double)(int64_t)v->num)
		return lab_jr_fail(jr, "thread", "not -1 or a thread number");
	r->thread = (int)v->num;
	return 0;
}

/* The fields of one finding object (a file, or an element of
 * findings.json). */
static int lab_rec_from_json(const struct lab_jval *o, struct lab_rec *r,
			     char *err, size_t errlen)
{
	struct lab_jr jr = { o, err, errlen, false };
	char kind[32];
	int k;

	lab_rec_init(r, LAB_KIND_CRASH, "");
	if (lab_jr_str(&jr, "kind", kind, sizeof(kind), true))
		return -1;
	k = lab_kind_parse(kind);
	if (k < 0)
		return lab_jr_fail(&jr, "kind", "unknown kind");
	r->kind = (enum lab_kind)k;
	lab_jr_str(&jr, "check", r->check, sizeof(r->check), false);
	lab_jr_str(&jr, "signature", r->signature, sizeof(r->signature), true);
	lab_jr_str(&jr, "title", r->title, sizeof(r->title), false);
	lab_jr_uint(&jr, "count", &r->count, true);
	if (!jr.failed && !r->count)
		lab_jr_fail(&jr, "count", "must be at least 1");
	lab_jr_time(&jr, "first_seen", &r->first_seen);
	lab_jr_time(&jr, "last_seen", &r->last_seen);
	lab_jr_str(&jr, "tool", r->tool, sizeof(r->tool), false);
	lab_jr_str(&jr, "build", r->build, sizeof(r->build), false);
	lab_jr_str(&jr, "run", r->run, sizeof(r->run), false);
	lab_jr_str(&jr, "seed", r->seed, sizeof(r->seed), false);
	lab_jr_str(&jr, "strategy", r->strategy, sizeof(r->strategy), false);
	lab_jr_str(&jr, "bug", r->bug, sizeof(r->bug), false);
	lab_jr_uint(&jr, "step", &r->step, false);
	lab_jr_thread(&jr, r);
	lab_jr_str(&jr, "artifact", r->artifact, sizeof(r->artifact), false);
	lab_jr_str(&jr, "reproduce", r->reproduce, sizeof(r->reproduce), false);
	if (!jr.failed && lab_json_get(o, "site"))
		lab_jr_site(&jr, lab_json_get(o, "site"), &r->site, "site");
	lab_jr_str(&jr, "summary", r->summary, sizeof(r->summary), false);
	lab_jr_str(&jr, "excerpt", r->excerpt, sizeof(r->excerpt), false);
	if (!jr.failed)
		lab_jr_frames_ops(&jr, r);
	if (!jr.failed && !*r->signature)
		lab_jr_fail(&jr, "signature", "empty");
	return jr.failed ? -1 : 0;
}

static int lab_series_from_json(struct lab_jr *jr, const struct lab_jval *o,
				struct lab_series *s)
{
	const struct lab_jval *name = lab_json_get(o, "name");
	const struct lab_jval *pts = lab_json_get(o, "points");
	size_t i;

	if (!name || name->type != LAB_J_STR ||
	    strlen(name->str) >= sizeof(s->name) || !pts ||
	    pts->type != LAB_J_ARR || pts->n > LAB_SERIES_POINTS)
		return lab_jr_fail(jr, "series", "bad name or points");
	snprintf(s->name, sizeof(s->name), "%s", name->str);
	for (i = 0; i < pts->n; i++) {
		const struct lab_jval *p = &pts->kids[i];

		if (p->type != LAB_J_ARR || p->n != 2 ||
		    p->kids[0].type != LAB_J_NUM ||
		    p->kids[1].type != LAB_J_NUM)
			return lab_jr_fail(jr, "series",
					   "a point is not [t, v]");
		s->t[i] = p->kids[0].num;
		s->v[i] = p->kids[1].num;
	}
	s->n = (unsigned)pts->n;
	return 0;
}

static int lab_latency_from_json(struct lab_jr *jr, const struct lab_jval *o,
				 struct lab_latency *l)
{
	struct lab_jr sub = { o, jr->err, jr->errlen, false };

	if (o->type != LAB_J_OBJ)
		return lab_jr_fail(jr, "latency", "a class is not an object");
	lab_jr_str(&sub, "class", l->cls, sizeof(l->cls), true);
	lab_jr_str(&sub, "context", l->context, sizeof(l->context), true);
#define LAB_READ_LAT(fld) lab_jr_uint(&sub, #fld, &l->fld, true);
	LAB_LATENCY_FIELDS(LAB_READ_LAT)
#undef LAB_READ_LAT
	jr->failed |= sub.failed;
	return sub.failed ? -1 : 0;
}

/* The optional "latency" object of a run (lab_emit_latency). */
static int lab_run_latency_from_json(struct lab_jr *jr, struct lab_runrec *r)
{
	const struct lab_jval *v = lab_json_get(jr->obj, "latency");
	struct lab_jr sub = { v, jr->err, jr->errlen, false };
	const struct lab_jval *a;
	size_t i;

	if (!v)
		return 0;
	if (v->type != LAB_J_OBJ)
		return lab_jr_fail(jr, "latency", "not an object");
	lab_jr_str(&sub, "note", r->latency_note, sizeof(r->latency_note),
		   false);
	a = sub.failed ? NULL :
			 lab_jr_array(&sub, "classes", LAB_RUN_LATENCIES);
	for (i = 0; a && i < a->n && !sub.failed; i++)
		lab_latency_from_json(&sub, &a->kids[i],
				      &r->latency[r->nlatency++]);
	jr->failed |= sub.failed;
	return sub.failed ? -1 : 0;
}

/* The optional "coverage" array of a run (lab_emit_coverage). */
static int lab_run_coverage_from_json(struct lab_jr *jr, struct lab_runrec *r)
{
	const struct lab_jval *a;
	size_t i;

	if (!lab_json_get(jr->obj, "coverage"))
		return 0;
	a = lab_jr_array(jr, "coverage", LAB_RUN_DETECTORS);
	for (i = 0; a && i < a->n && !jr->failed; i++) {
		struct lab_coverage *c = &r->coverage[r->ncoverage++];
		struct lab_jr sub = { &a->kids[i], jr->err, jr->errlen, false };

		if (a->kids[i].type != LAB_J_OBJ)
			return lab_jr_fail(jr, "coverage",
					   "a detector is not an object");
		lab_jr_str(&sub, "detector", c->detector, sizeof(c->detector),
			   true);
		lab_jr_uint(&sub, "provoked", &c->provoked, true);
		lab_jr_uint(&sub, "fired", &c->fired, true);
		jr->failed |= sub.failed;
	}
	return jr->failed ? -1 : 0;
}

static int lab_run_from_json(const struct lab_jval *o, struct lab_runrec *r,
			     char *err, size_t errlen)
{
	struct lab_jr jr = { o, err, errlen, false };
	const struct lab_jval *a;
	size_t i;

	lab_runrec_init(r, "");
	lab_jr_str(&jr, "id", r->id, sizeof(r->id), true);
	lab_jr_str(&jr, "tool", r->tool, sizeof(r->tool), true);
	lab_jr_str(&jr, "build", r->build, sizeof(r->build), false);
	lab_jr_str(&jr, "command", r->command, sizeof(r->command), false);
	lab_jr_time(&jr, "started", &r->started);
	lab_jr_time(&jr, "ended", &r->ended);
	lab_jr_str(&jr, "result", r->result, sizeof(r->result), true);
	lab_jr_uint(&jr, "findings", &r->findings, false);
	lab_jr_str(&jr, "seed", r->seed, sizeof(r->seed), false);
	lab_jr_str(&jr, "detail", r->detail, sizeof(r->detail), false);
	if (!jr.failed && strcmp(r->result, "pass") &&
	    strcmp(r->result, "fail") && strcmp(r->result, "interrupted") &&
	    strcmp(r->result, "error"))
		lab_jr_fail(&jr, "result",
			    "not pass, fail, interrupted or error");
	if (!jr.failed && !*r->id)
		lab_jr_fail(&jr, "id", "empty");
	a = jr.failed ? NULL : lab_jr_array(&jr, "series", LAB_RUN_SERIES);
	for (i = 0; a && i < a->n && !jr.failed; i++)
		lab_series_from_json(&jr, &a->kids[i],
				     &r->series[r->nseries++]);
	if (!jr.failed)
		lab_run_latency_from_json(&jr, r);
	if (!jr.failed)
		lab_run_coverage_from_json(&jr, r);
	return jr.failed ? -1 : 0;
}

/* Checks "format" and "version" of a loaded document. */
static int lab_check_format(const struct lab_jval *v, const char *format,
			    char *err, size_t errlen)
{
	const struct lab_jval *f = lab_json_get(v, "format");
	const struct lab_jval *ver = lab_json_get(v, "version");

	if (!v || v->type != LAB_J_OBJ)
		return snprintf(err, errlen, "not a JSON object"), -1;
	if (!f || f->type != LAB_J_STR || strcmp(f->str, format))
		return snprintf(err, errlen, "\"format\" is not \"%s\"",
				format),
		       -1;
	if (!ver || ver->type != LAB_J_NUM || ver->num != LAB_RECORD_VERSION)
		return snprintf(err, errlen,
				"unknown version (this build reads version "
				"%d)",
				LAB_RECORD_VERSION),
		       -1;
	return 0;
}

/* Loads path, checks its format, hands the object to fill. */
static int lab_load_checked(const char *path, const char *format,
			    struct lab_jval *v, char *err, size_t errlen)
{
	char why[256];

	if (lab_json_load(path, v, why, sizeof(why)) ||
	    lab_check_format(v, format, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		lab_json_free(v);
		return -1;
	}
	return 0;
}

/* Loads path, checks its format, fills *out with fill(); on success
 * source (of the record) names the file. */
static int lab_read_record(const char *path, const char *format,
			   int (*fill)(const struct lab_jval *, void *, char *,
				       size_t),
			   void *out, char *source, size_t srclen, char *err,
			   size_t errlen)
{
	struct lab_jval v;
	char why[256];
	int ret;

	if (lab_load_checked(path, format, &v, err, errlen))
		return -1;
	ret = fill(&v, out, why, sizeof(why));
	lab_json_free(&v);
	if (ret)
		snprintf(err, errlen, "%s: %s", path, why);
	else
		snprintf(source, srclen, "%s", path);
	return ret;
}

static int lab_fill_rec(const struct lab_jval *o, void *out, char *err,
			size_t errlen)
{
	return lab_rec_from_json(o, out, err, errlen);
}

static int lab_fill_run(const struct lab_jval *o, void *out, char *err,
			size_t errlen)
{
	return lab_run_from_json(o, out, err, errlen);
}

int lab_rec_read(const char *path, struct lab_rec *r, char *err, size_t errlen)
{
	return lab_read_record(path, LAB_FINDING_FORMAT, lab_fill_rec, r,
			       r->source, sizeof(r->source), err, errlen);
}

int lab_runrec_read(const char *path, struct lab_runrec *r, char *err,
		    size_t errlen)
{
	return lab_read_record(path, LAB_RUN_FORMAT, lab_fill_run, r, r->source,
			       sizeof(r->source), err, errlen);
}

/* findings.json of an earlier report: every element must be valid, or
 * nothing of the file is merged (a half-merged file would silently lose
 * findings). */
int lab_set_read_merged(struct lab_report_set *s, const char *path, char *err,
			size_t errlen)
{
	const struct lab_jval *recs, *runs;
	struct lab_report_set tmp;
	struct lab_jval v;
	char why[256] = "";
	size_t i;
	int ret = 0;

	if (lab_load_checked(path, LAB_REPORT_FORMAT, &v, err, errlen))
		return -1;
	recs = lab_json_get(&v, "findings");
	runs = lab_json_get(&v, "runs");
	if (!recs || recs->type != LAB_J_ARR || !runs ||
	    runs->type != LAB_J_ARR)
		ret = -1, snprintf(why, sizeof(why), "no findings/runs arrays");
	lab_set_init(&tmp);
	for (i = 0; !ret && i < recs->n; i++) {
		struct lab_rec r;

		ret = lab_rec_from_json(&recs->kids[i], &r, why, sizeof(why));
		if (!ret) {
			snprintf(r.source, sizeof(r.source), "%s", path);
			ret = lab_set_add(&tmp, &r);
		}
	}
	for (i = 0; !ret && i < runs->n; i++) {
		struct lab_runrec r;

		ret = lab_run_from_json(&runs->kids[i], &r, why, sizeof(why));
		if (!ret) {
			snprintf(r.source, sizeof(r.source), "%s", path);
			ret = lab_set_add_run(&tmp, &r);
		}
	}
	lab_json_free(&v);
	for (i = 0; !ret && i < tmp.nrecs; i++)
		ret = lab_set_add(s, &tmp.recs[i]);
	for (i = 0; !ret && i < tmp.nruns; i++)
		ret = lab_set_add_run(s, &tmp.runs[i]);
	lab_set_free(&tmp);
	if (ret)
		snprintf(err, errlen, "%s: %s", path,
			 *why ? why : "out of memory");
	return ret ? -1 : 0;
}
