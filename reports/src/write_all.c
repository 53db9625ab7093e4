/* write_all.c - the five renderings of a report set, written into one
 * directory, each atomically. */
#define _GNU_SOURCE /* PATH_MAX */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

struct lab_rendering {
	const char *file;
	int (*render)(FILE *f, const struct lab_report_set *s);
};

static const struct lab_rendering lab_renderings[] = {
	{ "findings.json", lab_render_findings_json },
	{ "summary.md", lab_render_markdown },
	{ "report.sarif", lab_render_sarif },
	{ "junit.xml", lab_render_junit },
	{ "report.html", lab_render_html },
};

struct lab_render_arg {
	const struct lab_rendering *r;
	const struct lab_report_set *s;
};

static int lab_emit_rendering(FILE *f, const void *arg)
{
	const struct lab_render_arg *a = arg;

	return a->r->render(f, a->s);
}

int lab_report_write_each(const struct lab_report_set *s, const char *dir,
			  lab_lost_fn lost, void *arg)
{
	char path[PATH_MAX];
	size_t i, n = sizeof(lab_renderings) / sizeof(lab_renderings[0]);
	int ret = lab_mkdir_p(dir), first = 0;

	if (ret) {
		fprintf(stderr, "labyrinth: %s: cannot create: %s\n", dir,
			strerror(-ret));
		for (i = 0; lost && i < n; i++)
			lost(lab_renderings[i].file, -ret, arg);
		return ret;
	}
	for (i = 0; i < n; i++) {
		struct lab_render_arg a = { &lab_renderings[i], s };

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     a.r->file) >= sizeof(path))
			ret = -ENAMETOOLONG;
		else /* one rendering failing does not stop the others */
			ret = lab_write_atomic(path, lab_emit_rendering, &a);
		if (ret && lost)
			lost(a.r->file, -ret, arg);
		if (ret && !first)
			first = ret;
	}
	return first;
}

int lab_report_write_all(const struct lab_report_set *s, const char *dir)
{
	return lab_report_write_each(s, dir, NULL, NULL);
}
