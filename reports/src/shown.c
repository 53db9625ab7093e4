/* shown.c - a value from the command line or a file as a one-line error
 * message shows it.
 *
 * A flag value, a path or a field read from a file may hold a newline, an
 * escape sequence or megabytes: echoed as is, it breaks the one-line
 * contract of an error ("labyrinth: ..." on one line) or floods the
 * terminal.  lab_shown quotes it, escapes every control byte and cuts the
 * middle out of a long one, saying how long it was.
 */
#include <stdio.h>
#include <string.h>

#include "record.h"

/* Bytes kept from each end of a value that is cut: the start says what it
 * is, the end (a file name, a suffix) which one. */
#define LAB_SHOWN_HEAD 48
#define LAB_SHOWN_TAIL 24

/* Appends byte c to buf at *n, escaped when it is a control byte (or the
 * backslash, so an escape cannot be confused with the text it stands
 * for).  buf has room for 4 more bytes. */
static void lab_shown_byte(char *buf, size_t *n, unsigned char c)
{
	char e = c == '\n' ? 'n' :
		 c == '\t' ? 't' :
		 c == '\r' ? 'r' :
		 c == '\\' ? '\\' :
			     0;

	if (e) {
		buf[(*n)++] = '\\';
		buf[(*n)++] = e;
	} else if (c < 0x20 || c == 0x7f) {
		*n += (size_t)snprintf(buf + *n, 5, "\\x%02x", c);
	} else {
		buf[(*n)++] = (char)c;
	}
}

static void lab_shown_span(char *buf, size_t *n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		lab_shown_byte(buf, n, (unsigned char)s[i]);
}

const char *lab_shown(const char *s, struct lab_shown *out)
{
	size_t len = s ? strlen(s) : 0, n = 0;

	_Static_assert(sizeof(out->s) >=
			       4 * (LAB_SHOWN_HEAD + LAB_SHOWN_TAIL) + 48,
		       "room for the escaped ends, quotes and the length");
	if (!s)
		return "(none)";
	out->s[n++] = '\'';
	if (len <= LAB_SHOWN_HEAD + LAB_SHOWN_TAIL + 3) {
		lab_shown_span(out->s, &n, s, len);
		out->s[n++] = '\'';
		out->s[n] = '\0';
		return out->s;
	}
	lab_shown_span(out->s, &n, s, LAB_SHOWN_HEAD);
	memcpy(out->s + n, "...", 3);
	n += 3;
	lab_shown_span(out->s, &n, s + len - LAB_SHOWN_TAIL, LAB_SHOWN_TAIL);
	snprintf(out->s + n, sizeof(out->s) - n, "' (%zu bytes)", len);
	return out->s;
}

void lab_shown_line(FILE *f, const char *line)
{
	for (; *line; line++) {
		unsigned char c = (unsigned char)*line;
		char buf[8];
		size_t n = 0;

		if (c >= 0x20 && c != 0x7f) {
			fputc(c, f);
			continue;
		}
		lab_shown_byte(buf, &n, c);
		fwrite(buf, 1, n, f);
	}
}
