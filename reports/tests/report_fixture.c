/* report_fixture.c - writes a fixed, known set of findings and runs with
 * every rendering into the directory given, for the rendering tests: the
 * HTML test checks that each finding's row and each chart is there, the
 * SARIF test validates the document against the schema.
 *
 * The content covers what renderers must get right: every kind, a title
 * with markup characters and bytes outside ASCII, a finding without a
 * source line, runs with stress series (ops/s, failures) and fuzz series
 * (exec/s, coverage), a failed, a passed and an interrupted run.
 *
 * usage: report_fixture DIR [--one]   (exit 0 when all five files are
 * written); --one: a single finding and no run, the set whose findings
 * chart has one point in time.
 */
#include <stdio.h>
#include <string.h>

#include "record.h"

#define T0 1795000000 /* 2026-11-18, a fixed clock: output is stable */

static void fixture_site(struct lab_site *s, const char *fn, const char *file,
			 unsigned line)
{
	snprintf(s->function, sizeof(s->function), "%s", fn);
	snprintf(s->file, sizeof(s->file), "%s", file);
	s->line = line;
}

static void fixture_common(struct lab_rec *r, const char *tool, int64_t t,
			   const char *run)
{
	snprintf(r->tool, sizeof(r->tool), "%s", tool);
	snprintf(r->build, sizeof(r->build), "labyrinth 0.1.0 Debug tsan");
	snprintf(r->run, sizeof(r->run), "%s", run);
	snprintf(r->seed, sizeof(r->seed), "12345");
	r->first_seen = r->last_seen = t;
}

static void fixture_race(struct lab_report_set *set)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_DATA_RACE, "data-race");
	fixture_common(&r, "stress-controlled", T0 + 100, "run-controlled");
	snprintf(r.title, sizeof(r.title),
		 "data race on a cache list between lab_pcp_pop and "
		 "lab_pcp_push");
	fixture_site(&r.frames[0], "lab_pcp_pop", "allocator/src/pcp.c", 57);
	fixture_site(&r.frames[1], "lab_alloc_pages", "allocator/src/alloc.c",
		     340);
	r.nframes = 2;
	r.site = r.frames[0];
	snprintf(r.strategy, sizeof(r.strategy), "pct");
	snprintf(r.bug, sizeof(r.bug), "pcp-irq-unsafe");
	r.step = 42;
	r.thread = 1;
	snprintf(r.artifact, sizeof(r.artifact),
		 "/work/reports/latest/artifact-1.lab");
	snprintf(r.reproduce, sizeof(r.reproduce),
		 "labyrinth replay /work/reports/latest/artifact-1.lab");
	snprintf(r.summary, sizeof(r.summary),
		 "SUMMARY: ThreadSanitizer: data race "
		 "allocator/src/pcp.c:57 in lab_pcp_pop");
	snprintf(r.excerpt, sizeof(r.excerpt),
		 "WARNING: ThreadSanitizer: data race\n"
		 "  Write of size 8 by thread T1:\n"
		 "    #0 lab_pcp_pop allocator/src/pcp.c:57\n");
	lab_rec_add_op(&r, "t0: alloc order 0 GFP_KERNEL -> pfn 5");
	lab_rec_add_op(&r, "t1: irq enter");
	lab_rec_add_op(&r, "t1: free pfn 5 order 0");
	lab_rec_sign(&r, NULL);
	lab_set_add(set, &r);
	/* seen again later by another run: one row, count 2 */
	r.first_seen = r.last_seen = T0 + 900;
	lab_set_add(set, &r);
}

static void fixture_invariant(struct lab_report_set *set)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_INVARIANT, "stamp-mismatch");
	fixture_common(&r, "stress-free", T0 + 30, "run-free");
	snprintf(r.title, sizeof(r.title),
		 "frame 17 holds stamp of worker 2, expected worker 0");
	lab_site_of_where(&r.site, "buddy:claim");
	r.count = 3;
	r.thread = 0;
	snprintf(r.reproduce, sizeof(r.reproduce),
		 "labyrinth stress --mode free --seed 12345 --bug claim-race");
	lab_rec_sign(&r, "buddy:claim");
	lab_set_add(set, &r);
}

static void fixture_fuzz(struct lab_report_set *set)
{
	struct lab_rec r;

	lab_rec_init(&r, LAB_KIND_MEMORY_ERROR, "heap-use-after-free");
	fixture_common(&r, "fuzz_ops", T0 + 400, "run-fuzz");
	snprintf(r.title, sizeof(r.title),
		 "heap-use-after-free in lab_free_pages");
	fixture_site(&r.site, "lab_free_pages", "allocator/src/free.c", 150);
	r.frames[0] = r.site;
	r.nframes = 1;
	snprintf(r.artifact, sizeof(r.artifact),
		 "/work/reports/fuzz-ops/crash-da39a3ee");
	snprintf(r.reproduce, sizeof(r.reproduce),
		 "fuzz/campaign.sh reproduce fuzz_ops "
		 "/work/reports/fuzz-ops/crash-da39a3ee");
	snprintf(r.summary, sizeof(r.summary),
		 "SUMMARY: AddressSanitizer: heap-use-after-free "
		 "allocator/src/free.c:150:3 in lab_free_pages");
	lab_rec_sign(&r, NULL);
	lab_set_add(set, &r);
}

/* One finding of each remaining kind; the exclusive one's title holds
 * markup and a byte outside ASCII that every rendering must escape. */
static void fixture_rest(struct lab_report_set *set)
{
	static const enum lab_kind kinds[] = {
		LAB_KIND_EXCLUSIVE,	LAB_KIND_SLEEP_IN_ATOMIC,
		LAB_KIND_DEADLOCK,	LAB_KIND_LIVELOCK,
		LAB_KIND_UNDEFINED,	LAB_KIND_LEAK,
		LAB_KIND_CRASH,		LAB_KIND_TIMEOUT,
		LAB_KIND_OUT_OF_MEMORY,
	};
	unsigned i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct lab_rec r;

		lab_rec_init(&r, kinds[i], lab_kind_name(kinds[i]));
		fixture_common(&r, i % 2 ? "fuzz_sched" : "stress-controlled",
			       T0 + 200 + 60 * i, "run-controlled");
		snprintf(r.title, sizeof(r.title), "%s found by the fixture",
			 lab_kind_title(kinds[i]));
		if (kinds[i] == LAB_KIND_EXCLUSIVE)
			snprintf(r.title, sizeof(r.title),
				 "<script>alert(1)</script> & \"owner\" 'x' "
				 "\xc3\xa9\x01");
		lab_site_of_where(&r.site,
				  i % 2 ? "lab_free_pages" : "alloc:wait");
		snprintf(r.reproduce, sizeof(r.reproduce),
			 "labyrinth replay artifact-%u.lab", i + 2);
		lab_rec_sign(&r, r.site.function);
		lab_set_add(set, &r);
	}
}

static void fixture_run(struct lab_report_set *set, const char *id,
			const char *tool, const char *result, int64_t start,
			unsigned seconds, uint64_t findings)
{
	struct lab_runrec run;
	unsigned i;

	lab_runrec_init(&run, tool);
	snprintf(run.id, sizeof(run.id), "%s", id);
	snprintf(run.build, sizeof(run.build), "labyrinth 0.1.0 Debug tsan");
	snprintf(run.command, sizeof(run.command), "labyrinth stress --out x");
	snprintf(run.result, sizeof(run.result), "%s", result);
	snprintf(run.seed, sizeof(run.seed), "12345");
	snprintf(run.detail, sizeof(run.detail), "%u s of %s", seconds, tool);
	run.started = start;
	run.ended = start + seconds;
	run.findings = findings;
	for (i = 0; i <= seconds; i++) {
		if (!strncmp(tool, "fuzz", 4)) {
			lab_series_add(lab_runrec_series(&run, "exec/s"), i,
				       4000 + 37 * (i % 11));
			lab_series_add(lab_runrec_series(&run, "coverage"), i,
				       800 + 10 * i - (i * i) / 20);
		} else {
			lab_series_add(lab_runrec_series(&run, "ops/s"), i,
				       150000 + 900 * (i % 7));
			lab_series_add(lab_runrec_series(&run, "failures"), i,
				       i > seconds / 2 ? findings : 0);
		}
	}
	lab_set_add_run(set, &run);
}

static void fixture_runs(struct lab_report_set *set)
{
	fixture_run(set, "run-free", "stress-free", "fail", T0, 60, 3);
	fixture_run(set, "run-controlled", "stress-controlled", "fail", T0 + 60,
		    40, 10);
	fixture_run(set, "run-fuzz", "fuzz_ops", "fail", T0 + 120, 120, 1);
	fixture_run(set, "run-clean", "stress-free", "pass", T0 + 300, 20, 0);
	fixture_run(set, "run-stopped", "stress-controlled", "interrupted",
		    T0 + 400, 5, 0);
}

int main(int argc, char **argv)
{
	struct lab_report_set set;
	int ret;

	if (argc != 2 && (argc != 3 || strcmp(argv[2], "--one"))) {
		fprintf(stderr, "usage: report_fixture DIR [--one]\n");
		return 2;
	}
	lab_set_init(&set);
	if (argc == 3) { /* one finding, no run: the lone-point chart */
		fixture_invariant(&set);
	} else {
		fixture_race(&set);
		fixture_invariant(&set);
		fixture_fuzz(&set);
		fixture_rest(&set);
		fixture_runs(&set);
	}
	lab_set_sort(&set);
	ret = lab_report_write_all(&set, argv[1]);
	lab_set_free(&set);
	if (ret) {
		fprintf(stderr, "report_fixture: %s: cannot write the report\n",
			argv[1]);
		return 1;
	}
	printf("report_fixture: wrote %s\n", argv[1]);
	return 0;
}
