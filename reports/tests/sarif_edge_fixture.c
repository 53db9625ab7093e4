/* sarif_edge_fixture.c - the SARIF and JUnit renderings of sets the main
 * report fixture does not make, for report_sarif_edge and report_junit_edge:
 *
 *   empty.sarif, empty.xml  no findings, no runs
 *   edge.sarif, edge.xml    findings whose run is not in the set (one with
 *                           no tool at all), a finding no one could place
 *                           (SARIF falls back to the tool's source), one
 *                           in a file outside the repository with URI
 *                           characters in its name, one whose only project
 *                           frame is below a libc frame, a title of invalid
 *                           UTF-8 and control bytes, a failed run none of
 *                           whose findings name it, and a run that erred
 *
 * It also checks that both renderers report a write error (-EIO) on a full
 * device.  usage: sarif_edge_fixture DIR  (created if missing)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

#define T0 1795000000

typedef int (*edge_render)(FILE *f, const struct lab_report_set *s);

static int edge_write(const char *dir, const char *name, edge_render render,
		      const struct lab_report_set *s)
{
	char path[512];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	ret = render(f, s);
	if (fclose(f) || ret) {
		fprintf(stderr, "sarif_edge_fixture: %s: %s\n", path,
			strerror(ret ? -ret : errno));
		return 1;
	}
	return 0;
}

/* Orphans: fuzz_sched's run is not in the set, and nothing places it. */
static void edge_unplaced(struct lab_report_set *s)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_TIMEOUT, "timeout");
	snprintf(r.tool, sizeof(r.tool), "fuzz_sched");
	snprintf(r.run, sizeof(r.run), "run-gone");
	snprintf(r.title, sizeof(r.title), "%s",
		 "bytes \xff\xfe, euro \xe2\x82\xac, surrogate \xed\xa0\x80, "
		 "overlong \xc0\xaf, cut \xe2\x82, control \x01\x1b.");
	r.first_seen = r.last_seen = T0;
	lab_rec_sign(&r, "nowhere");
	lab_set_add(s, &r);
}

static void edge_outside(struct lab_report_set *s)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_LEAK, "leak");
	snprintf(r.tool, sizeof(r.tool), "x/../y");
	snprintf(r.site.file, sizeof(r.site.file), "%s",
		 "/usr/include/my file%#?.h");
	snprintf(r.title, sizeof(r.title), "leak outside the repository");
	lab_rec_sign(&r, "leak-site");
	lab_set_add(s, &r);
}

/* No tool, no run; the project frame is the second one. */
static void edge_below_libc(struct lab_report_set *s)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_CRASH, "crash");
	snprintf(r.site.function, sizeof(r.site.function), "abort");
	snprintf(r.frames[0].file, sizeof(r.frames[0].file), "/lib/libc.so.6");
	snprintf(r.frames[0].function, sizeof(r.frames[0].function), "abort");
	snprintf(r.frames[1].file, sizeof(r.frames[1].file), "stress/a b:c.c");
	snprintf(r.frames[1].function, sizeof(r.frames[1].function), "g");
	r.frames[1].line = 3;
	r.nframes = 2;
	lab_rec_sign(&r, NULL);
	lab_set_add(s, &r);
}

static void edge_run(struct lab_report_set *s, const char *id,
		     const char *result, uint64_t findings)
{
	struct lab_runrec run;

	lab_runrec_init(&run, "stress-free");
	snprintf(run.id, sizeof(run.id), "%s", id);
	snprintf(run.result, sizeof(run.result), "%s", result);
	run.findings = findings;
	run.started = T0;
	run.ended = T0 + 3;
	lab_set_add_run(s, &run);
}

/* A renderer writing to /dev/full must say so. */
static int edge_full(const struct lab_report_set *s)
{
	FILE *f = fopen("/dev/full", "w");
	int sarif, junit;

	if (!f)
		return 0; /* not Linux: nothing to check */
	setvbuf(f, NULL, _IONBF, 0);
	sarif = lab_render_sarif(f, s);
	junit = lab_render_junit(f, s);
	fclose(f);
	if (sarif == -EIO && junit == -EIO)
		return 0;
	fprintf(stderr,
		"sarif_edge_fixture: /dev/full: sarif %d, junit %d, "
		"want %d\n",
		sarif, junit, -EIO);
	return 1;
}

int main(int argc, char **argv)
{
	struct lab_report_set s;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: sarif_edge_fixture DIR\n");
		return 2;
	}
	if (lab_mkdir_p(argv[1])) {
		fprintf(stderr, "sarif_edge_fixture: %s: cannot create\n",
			argv[1]);
		return 1;
	}
	lab_set_init(&s);
	bad |= edge_write(argv[1], "empty.sarif", lab_render_sarif, &s);
	bad |= edge_write(argv[1], "empty.xml", lab_render_junit, &s);
	edge_unplaced(&s);
	edge_outside(&s);
	edge_below_libc(&s);
	edge_run(&s, "run-a", "fail", 4);
	edge_run(&s, "run-b", "error", 0);
	bad |= edge_write(argv[1], "edge.sarif", lab_render_sarif, &s);
	bad |= edge_write(argv[1], "edge.xml", lab_render_junit, &s);
	bad |= edge_full(&s);
	lab_set_free(&s);
	return bad;
}
