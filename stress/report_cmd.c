/* report_cmd.c - `labyrinth report`: merges the findings and runs of
 * many directories and files and renders them (reports/README.md).
 *
 * Exit status: 1 when the merged set holds findings, else 2 when a file
 * could not be read (it is named on stderr; every other file is still
 * merged and the report written), else 0.  2 also for usage errors and
 * when nothing at all could be read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

struct lab_report_args {
	const char *out, *bench;
	const char **paths;
	int npaths;
};

static int lab_report_usage(const char *what, const char *arg)
{
	fprintf(stderr, "labyrinth: report: %s%s%.200s%s\n", what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return 2;
}

static int lab_report_parse(int argc, char **argv, struct lab_report_args *a)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return -1;
		if (!strcmp(arg, "--out") || !strcmp(arg, "-o") ||
		    !strcmp(arg, "--bench")) {
			if (i + 1 >= argc)
				return lab_report_usage("a value is missing "
							"after",
							arg);
			*(strcmp(arg, "--bench") ? &a->out : &a->bench) =
				argv[++i];
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

int lab_report_render(const char *const *paths, int npaths, const char *bench,
		      const char *out)
{
	struct lab_report_set set;
	uint64_t seen = 0;
	int i, ret, unreadable = 0;
	size_t k;

	lab_set_init(&set);
	for (i = 0; i < npaths; i++) {
		ret = lab_set_ingest(&set, paths[i]);
		if (ret) {
			fprintf(stderr, "labyrinth: report: %s: %s\n", paths[i],
				strerror(-ret));
			unreadable++;
		}
	}
	if (bench)
		snprintf(set.bench, sizeof(set.bench), "%s", bench);
	lab_set_sort(&set);
	for (k = 0; k < set.nrecs; k++)
		seen += set.recs[k].count;
	ret = lab_report_write_all(&set, out);
	printf("report: %zu distinct finding(s), %llu sighting(s), %zu "
	       "run(s) from %u file(s); %u skipped\n",
	       set.nrecs, (unsigned long long)seen, set.nruns, set.files_read,
	       set.files_bad + unreadable);
	if (!ret)
		printf("reports: %s/{summary.md,findings.json,report.sarif,"
		       "junit.xml,report.html}\n",
		       out);
	ret = ret || (!set.files_read && !set.nrecs) ? 2 :
	      set.nrecs				     ? 1 :
	      set.files_bad || unreadable	     ? 2 :
						       0;
	lab_set_free(&set);
	return ret;
}

int lab_report_command(int argc, char **argv)
{
	const char *paths[argc > 0 ? argc : 1];
	struct lab_report_args a = { "reports/latest", NULL, paths, 0 };
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
	      "A file that cannot be read is named on stderr and skipped;\n"
	      "everything else is still merged.\n\n"
	      "  --out DIR        where the renderings go (default "
	      "reports/latest)\n"
	      "  --bench FILE     a detection benchmark table (Markdown) to "
	      "include\n\n"
	      "exit status: 1 findings, 0 none, 2 a file was skipped, "
	      "nothing was readable, or usage error\n",
	      out);
}
