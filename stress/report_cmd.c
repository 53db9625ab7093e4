/* report_cmd.c - `labyrinth report`: merges the findings and runs of
 * many directories and files and renders them (reports/README.md).
 *
 * Exit status: 2 when a path was skipped (each is named on stderr with
 * why; every other file is still merged and the report written: a
 * skipped file is an input error, and it outranks findings, since the
 * merged set is then incomplete), when nothing at all could be read (the
 * renderings in --out are then left as they were), when the renderings
 * could not be written, and for usage errors; else 1 when the merged set
 * holds findings, else 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

struct lab_report_args {
	const char *out, *bench;
	const char **paths;
	int npaths;
	bool out_given;
};

static int lab_report_usage(const char *what, const char *arg)
{
	struct lab_shown sh;

	fprintf(stderr, "labyrinth: report: %s%s%s\n", what, arg ? " " : "",
		arg ? lab_shown(arg, &sh) : "");
	return 2;
}

/* --out DIR, -o DIR, --bench FILE: each once. */
static int lab_report_value(int argc, char **argv, int *i,
			    struct lab_report_args *a)
{
	const char *flag = argv[*i];
	bool bench = !strcmp(flag, "--bench");

	if (bench ? a->bench != NULL : a->out_given)
		return lab_report_usage(bench ? "--bench is given more than "
						"once" :
						"--out is given more than once",
					NULL);
	if (*i + 1 >= argc)
		return lab_report_usage("a value is missing after", flag);
	*(bench ? &a->bench : &a->out) = argv[++*i];
	a->out_given = a->out_given || !bench;
	return 0;
}

static int lab_report_parse(int argc, char **argv, struct lab_report_args *a)
{
	int i, ret;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return -1;
		if (!strcmp(arg, "--out") || !strcmp(arg, "-o") ||
		    !strcmp(arg, "--bench")) {
			if ((ret = lab_report_value(argc, argv, &i, a)))
				return ret;
		} else if (!strncmp(arg, "-", 1) && strcmp(arg, "-")) {
			return lab_report_usage("unknown flag", arg);
		} else {
			a->paths[a->npaths++] = arg;
		}
	}
	if (!a->npaths)
		return lab_report_usage("no input (give report directories "
					"or files; see --help)",
					NULL);
	return 0;
}

/* A path given by name that cannot be read at all. */
static void lab_report_unreadable(struct lab_report_set *set, const char *path,
				  int err)
{
	struct lab_shown sh;

	lab_ingest_skip(set,
			strlen(path) < PATH_MAX ? path : lab_shown(path, &sh),
			err == -EINVAL ? "not a regular file or directory" :
					 strerror(-err));
}

int lab_report_render(const char *const *paths, int npaths, const char *bench,
		      const char *out)
{
	struct lab_report_set set;
	uint64_t seen = 0;
	int i, ret;
	size_t k;

	lab_set_init(&set);
	for (i = 0; i < npaths; i++) {
		ret = lab_set_ingest(&set, paths[i]);
		if (ret)
			lab_report_unreadable(&set, paths[i], ret);
	}
	if (bench)
		snprintf(set.bench, sizeof(set.bench), "%s", bench);
	lab_set_sort(&set);
	for (k = 0; k < set.nrecs; k++)
		seen += set.recs[k].count;
	/* nothing read: the renderings in out stay as they were */
	ret = set.files_read || set.nrecs ? lab_report_publish(&set, out) :
					    -ENODATA;
	printf("report: %zu distinct finding(s), %llu sighting(s), %zu "
	       "run(s) from %u file(s); %u skipped\n",
	       set.nrecs, (unsigned long long)seen, set.nruns, set.files_read,
	       set.files_bad);
	if (!ret)
		printf("reports: %s/{summary.md,findings.json,report.sarif,"
		       "junit.xml,report.html}\n",
		       out);
	else
		printf("reports: none written (%s left as it was)\n", out);
	ret = ret || set.files_bad ? 2 : set.nrecs ? 1 : 0;
	lab_set_free(&set);
	return ret;
}

int lab_report_command(int argc, char **argv)
{
	const char *paths[argc > 0 ? argc : 1];
	/* Not reports/latest: that links to the newest run, whose own
	 * renderings a merge of other runs would replace. */
	struct lab_report_args a = { "reports/merged", NULL, paths, 0, false };
	int ret = lab_report_parse(argc, argv, &a);

	if (ret < 0) {
		lab_report_help(stdout);
		return 0;
	}
	return ret ? ret : lab_report_render(a.paths, a.npaths, a.bench, a.out);
}

void lab_report_help(FILE *out)
{
	fputs("usage: labyrinth report [--out DIR] [--bench TABLE.md] "
	      "PATH...\n\n"
	      "Merges findings and runs from report directories and files\n"
	      "(finding-*.json, run-*.json, findings.json, libFuzzer logs),\n"
	      "deduplicates findings by signature, and writes into DIR:\n"
	      "summary.md, findings.json, report.sarif (SARIF 2.1.0),\n"
	      "junit.xml and report.html (self-contained, opens offline).\n"
	      "A path that cannot be read or holds nothing report reads is\n"
	      "named on stderr with why and skipped; everything else is still\n"
	      "merged.  The five renderings replace the old ones in DIR as a\n"
	      "set, only when all were written; other files in DIR are left\n"
	      "alone, and when nothing was read DIR is not touched.\n\n"
	      "  --out DIR        where the renderings go (default "
	      "reports/merged)\n"
	      "  --bench FILE     a detection benchmark table (Markdown) to "
	      "include\n\n"
	      "exit status: 2 a path was skipped (even with findings), "
	      "nothing was\nreadable, the renderings could not be written, "
	      "or usage error;\nelse 1 findings, 0 none\n",
	      out);
}
