/* json_in.h - a small JSON reader for record files.
 *
 * Strict RFC 8259 (no comments, no trailing commas, no NaN), bounded: at
 * most LAB_JSON_DEPTH levels of nesting, so no input can exhaust the
 * stack; strings are decoded to UTF-8 and may not hold NUL.  Errors name
 * the line and column.
 */
#ifndef LAB_JSON_IN_H
#define LAB_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

#define LAB_JSON_DEPTH 32
#define LAB_JSON_MAX_BYTES (64u << 20) /* larger files are refused */

enum lab_jtype {
	LAB_J_NULL,
	LAB_J_BOOL,
	LAB_J_NUM,
	LAB_J_STR,
	LAB_J_ARR,
	LAB_J_OBJ
};

struct lab_jval {
	enum lab_jtype type;
	bool b;
	double num;
	char *str;	       /* LAB_J_STR: NUL-terminated */
	struct lab_jval *kids; /* LAB_J_ARR, LAB_J_OBJ: n values */
	char **keys;	       /* LAB_J_OBJ: n keys */
	size_t n;
};

/* Parses text[0..len) into *v.  0, or -1 with err ("line 3 column 7:
 * expected ':'").  Either way *v may be passed to lab_json_free. */
int lab_json_parse(const char *text, size_t len, struct lab_jval *v, char *err,
		   size_t errlen);
void lab_json_free(struct lab_jval *v);
/* Reads and parses a whole file: 0, or -1 with err naming the problem
 * (not the file: callers add it).  Either way *v may be freed. */
int lab_json_load(const char *path, struct lab_jval *v, char *err,
		  size_t errlen);

/* Member of an object (NULL if v is not an object or has no such key). */
const struct lab_jval *lab_json_get(const struct lab_jval *v, const char *key);

#endif /* LAB_JSON_IN_H */
