/* json_out.c - writing JSON and XML text that is valid whatever the
 * strings hold, and the one time format of every record. */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "record.h"

/* Length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t lab_utf8_get(const unsigned char *s, unsigned *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	unsigned min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
	size_t i;

	if (!n || s[0] > 0xf4)
		return 0;
	*cp = s[0] & (0x3f >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* The output is ASCII whatever s holds: valid UTF-8 becomes \u escapes
 * (a surrogate pair above U+FFFF) and reads back exactly; a byte that is
 * not valid UTF-8 (a message from a corrupt input) becomes U+FFFD. */
void lab_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	unsigned cp;
	size_t n;

	fputc('"', f);
	for (; *p; p += n ? n : 1) {
		n = 0;
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x7f)
			fputc(*p, f);
		else if (!(n = lab_utf8_get(p, &cp)))
			fputs("\\ufffd", f);
		else if (cp < 0x10000)
			fprintf(f, "\\u%04x", cp);
		else
			fprintf(f, "\\u%04x\\u%04x",
				0xd800 + ((cp - 0x10000) >> 10),
				0xdc00 + ((cp - 0x10000) & 0x3ff));
	}
	fputc('"', f);
}

/* ASCII whatever s holds, so a corrupt message cannot make the document
 * invalid: other characters become &#x...; references (U+FFFD for bytes
 * that are not UTF-8), and the control characters XML 1.0 forbids even
 * as references are dropped (tab and newline are kept). */
void lab_xml_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	unsigned cp;
	size_t n;

	for (; *p; p += n ? n : 1) {
		n = 0;
		if (*p == '&')
			fputs("&amp;", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '"')
			fputs("&quot;", f);
		else if (*p == '\'')
			fputs("&#39;", f);
		else if (*p == '\n' || *p == '\t' || (*p >= 0x20 && *p < 0x7f))
			fputc(*p, f);
		else if (*p < 0x80)
			continue; /* other control characters */
		else if (!(n = lab_utf8_get(p, &cp)) || cp == 0xfffe ||
			 cp == 0xffff)
			fputs("&#xFFFD;", f);
		else
			fprintf(f, "&#x%X;", cp);
	}
}

void lab_iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

int lab_parse_iso_time(const char *s, int64_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*t = (int64_t)timegm(&tm);
	return 0;
}
