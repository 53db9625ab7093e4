/* json_in.c - a strict, bounded JSON reader (see json_in.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_in.h"

struct lab_jp {
	const char *s, *end, *p;
	char *err;
	size_t errlen;
	bool failed;
};

static int lab_jp_fail(struct lab_jp *jp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records the first error with its line and column. */
static int lab_jp_fail(struct lab_jp *jp, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	const char *q;
	char what[160];
	va_list ap;

	if (jp->failed)
		return -1;
	jp->failed = true;
	for (q = jp->s; q < jp->p && q < jp->end; q++) {
		if (*q == '\n')
			line++, col = 1;
		else
			col++;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(jp->err, jp->errlen, "line %u column %u: %s", line, col, what);
	return -1;
}

static void lab_jp_ws(struct lab_jp *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
				   *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static bool lab_jp_lit(struct lab_jp *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return false;
	jp->p += n;
	return true;
}

static int lab_jp_value(struct lab_jp *jp, struct lab_jval *v, int depth);

/* ---- strings ------------------------------------------------------------ */

static int lab_jp_hex4(struct lab_jp *jp, unsigned *out)
{
	unsigned i, x = 0;

	if (jp->end - jp->p < 4)
		return lab_jp_fail(jp, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = jp->p[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return lab_jp_fail(jp, "bad \\u escape");
	}
	jp->p += 4;
	*out = x;
	return 0;
}

static size_t lab_utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80)
		return o[0] = (char)cp, 1;
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX, with a surrogate pair read as one code point. */
static int lab_jp_unicode(struct lab_jp *jp, unsigned *cp)
{
	unsigned lo;

	if (lab_jp_hex4(jp, cp))
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return lab_jp_fail(jp, "lone low surrogate");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (!lab_jp_lit(jp, "\\u") || lab_jp_hex4(jp, &lo) || lo < 0xdc00 ||
	    lo > 0xdfff)
		return lab_jp_fail(jp, "unpaired surrogate");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int lab_jp_escape(struct lab_jp *jp, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	unsigned cp;
	char c;

	if (jp->p >= jp->end)
		return lab_jp_fail(jp, "truncated escape");
	c = *jp->p++;
	k = c ? strchr(from, c) : NULL;
	if (k) {
		o[(*n)++] = to[k - from];
		return 0;
	}
	if (c != 'u')
		return lab_jp_fail(jp, "bad escape \\%c", c);
	if (lab_jp_unicode(jp, &cp))
		return -1;
	if (!cp)
		return lab_jp_fail(jp, "\\u0000 in a string");
	*n += lab_utf8_put(o + *n, cp);
	return 0;
}

/* The decoded string is never longer than its JSON form. */
static int lab_jp_string(struct lab_jp *jp, char **out)
{
	const char *start = ++jp->p;
	size_t n = 0;
	char *o;

	while (jp->p < jp->end && *jp->p != '"')
		jp->p += *jp->p == '\\' && jp->p + 1 < jp->end ? 2 : 1;
	if (jp->p >= jp->end)
		return lab_jp_fail(jp, "unterminated string");
	o = malloc((size_t)(jp->p - start) + 1);
	if (!o)
		return lab_jp_fail(jp, "out of memory");
	jp->p = start;
	while (*jp->p != '"') {
		unsigned char c = (unsigned char)*jp->p++;

		if (c < 0x20) {
			free(o);
			return lab_jp_fail(jp, "control character in a string");
		}
		if (c != '\\')
			o[n++] = (char)c;
		else if (lab_jp_escape(jp, o, &n))
			return free(o), -1;
	}
	jp->p++;
	o[n] = '\0';
	*out = o;
	return 0;
}

/* ---- numbers ------------------------------------------------------------- */

static void lab_jp_digits(struct lab_jp *jp)
{
	while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
		jp->p++;
}

/* The JSON grammar is checked first; strtod then reads a copy, because
 * the text is not NUL-terminated. */
static int lab_jp_number(struct lab_jp *jp, double *out)
{
	const char *start = jp->p;
	char buf[64];

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
		return lab_jp_fail(jp, "bad number");
	if (*jp->p == '0')
		jp->p++;
	else
		lab_jp_digits(jp);
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return lab_jp_fail(jp, "bad fraction");
		lab_jp_digits(jp);
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return lab_jp_fail(jp, "bad exponent");
		lab_jp_digits(jp);
	}
	if ((size_t)(jp->p - start) >= sizeof(buf))
		return lab_jp_fail(jp, "number too long");
	memcpy(buf, start, (size_t)(jp->p - start));
	buf[jp->p - start] = '\0';
	*out = strtod(buf, NULL);
	if (!isfinite(*out))
		return lab_jp_fail(jp, "number out of range");
	return 0;
}

/* ---- containers ------------------------------------------------------------ */

static int lab_jp_push(struct lab_jp *jp, struct lab_jval *v, size_t *cap,
		       bool keyed)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	struct lab_jval *k;

	if (v->n < *cap)
		return 0;
	k = realloc(v->kids, ncap * sizeof(*k));
	if (!k)
		return lab_jp_fail(jp, "out of memory");
	v->kids = k;
	if (keyed) {
		char **keys = realloc(v->keys, ncap * sizeof(*keys));

		if (!keys)
			return lab_jp_fail(jp, "out of memory");
		v->keys = keys;
	}
	*cap = ncap;
	return 0;
}

/* An array or object body after its opening bracket. */
static int lab_jp_items(struct lab_jp *jp, struct lab_jval *v, int depth,
			char close)
{
	bool keyed = close == '}';
	size_t cap = 0;

	lab_jp_ws(jp);
	if (jp->p < jp->end && *jp->p == close)
		return jp->p++, 0;
	for (;;) {
		char *key = NULL;

		if (lab_jp_push(jp, v, &cap, keyed))
			return -1;
		lab_jp_ws(jp);
		if (keyed) {
			if (jp->p >= jp->end || *jp->p != '"')
				return lab_jp_fail(jp, "expected a key");
			if (lab_jp_string(jp, &key))
				return -1;
		}
		/* the slot is counted at once so lab_json_free sees it */
		memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
		if (keyed)
			v->keys[v->n] = key;
		v->n++;
		lab_jp_ws(jp);
		if (keyed && !lab_jp_lit(jp, ":"))
			return lab_jp_fail(jp, "expected ':'");
		if (lab_jp_value(jp, &v->kids[v->n - 1], depth + 1))
			return -1;
		lab_jp_ws(jp);
		if (lab_jp_lit(jp, ","))
			continue;
		if (jp->p < jp->end && *jp->p == close)
			return jp->p++, 0;
		return lab_jp_fail(jp, "expected ',' or '%c'", close);
	}
}

static int lab_jp_value(struct lab_jp *jp, struct lab_jval *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > LAB_JSON_DEPTH)
		return lab_jp_fail(jp, "nested deeper than %d", LAB_JSON_DEPTH);
	lab_jp_ws(jp);
	if (jp->p >= jp->end)
		return lab_jp_fail(jp, "unexpected end of input");
	switch (*jp->p) {
	case '{':
		v->type = LAB_J_OBJ;
		jp->p++;
		return lab_jp_items(jp, v, depth, '}');
	case '[':
		v->type = LAB_J_ARR;
		jp->p++;
		return lab_jp_items(jp, v, depth, ']');
	case '"':
		v->type = LAB_J_STR;
		return lab_jp_string(jp, &v->str);
	}
	if (lab_jp_lit(jp, "true") || lab_jp_lit(jp, "false")) {
		v->type = LAB_J_BOOL;
		v->b = jp->p[-1] == 'e' && jp->p[-2] == 'u';
		return 0;
	}
	if (lab_jp_lit(jp, "null"))
		return 0;
	v->type = LAB_J_NUM;
	return lab_jp_number(jp, &v->num);
}

void lab_json_free(struct lab_jval *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		lab_json_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

int lab_json_parse(const char *text, size_t len, struct lab_jval *v, char *err,
		   size_t errlen)
{
	struct lab_jp jp = { text, text + len, text, err, errlen, false };

	memset(v, 0, sizeof(*v)); /* freeable whatever happens */
	if (!lab_jp_value(&jp, v, 0)) {
		lab_jp_ws(&jp);
		if (jp.p == jp.end)
			return 0;
		lab_jp_fail(&jp, "text after the document");
	}
	lab_json_free(v);
	return -1;
}

int lab_json_load(const char *path, struct lab_jval *v, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t got;
	int ret;

	memset(v, 0, sizeof(*v)); /* freeable whatever happens */
	if (!f)
		return snprintf(err, errlen, "%s", strerror(errno)), -1;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > LAB_JSON_MAX_BYTES) {
		fclose(f);
		snprintf(err, errlen, "not a regular file of at most %u MiB",
			 LAB_JSON_MAX_BYTES >> 20);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		snprintf(err, errlen, "cannot read the whole file");
		return -1;
	}
	if (!got) {
		free(buf);
		snprintf(err, errlen, "empty file");
		return -1;
	}
	ret = lab_json_parse(buf, got, v, err, errlen);
	free(buf);
	return ret;
}

const struct lab_jval *lab_json_get(const struct lab_jval *v, const char *key)
{
	size_t i;

	if (!v || v->type != LAB_J_OBJ)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return &v->kids[i];
	return NULL;
}
