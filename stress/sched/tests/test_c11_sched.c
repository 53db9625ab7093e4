/* test_c11_sched.c - the C11 model in the real controlled scheduler
 * (labyrinth/c11_sched.h over labyrinth/sched.h): message passing whose
 * reader fails the run when it sees the flag but stale data.
 *
 *  - SC mode (no model) never finds relaxed message passing's bug, c11
 *    mode finds it, and its artifact replays exactly and shrinks;
 *  - release/acquire is clean in c11 mode, and so is stale-permille 0;
 *  - a relaxed publication of annotated plain data is a "data-race"
 *    finding naming both sites; release/acquire is clean.
 * Under TSan the scheduler's fibers do not synchronise, so this also
 * shows that the model's own bookkeeping raises no report.
 *
 * `test_c11_sched bench [schedules]` instead times decisions per second
 * of a counter-and-flags program in SC mode and in c11 mode (not a test).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "labyrinth/atomic.h"
#include "labyrinth/c11_sched.h"

#define RLX __ATOMIC_RELAXED
#define ACQ __ATOMIC_ACQUIRE
#define REL __ATOMIC_RELEASE

static lab_u64_t data, flag, pdata;
static bool ordered, plain;

static void writer(void *arg)
{
	lab_site_t s = LAB_SITE("writer");

	(void)arg;
	if (plain) {
		lab_c11_sched_plain_write(&pdata, 8, LAB_SITE("plain write"));
		__atomic_store_n(&pdata, 1, RLX); /* TSan: not the point */
	} else {
		lab_atomic_store_64(&data, 1, RLX, s);
	}
	lab_atomic_store_64(&flag, 1, ordered ? REL : RLX, s);
}

static void reader(void *arg)
{
	lab_site_t s = LAB_SITE("reader");

	(void)arg;
	if (lab_atomic_load_64(&flag, ordered ? ACQ : RLX, s) != 1)
		return;
	if (plain)
		lab_c11_sched_plain_read(&pdata, 8, LAB_SITE("plain read"));
	else if (lab_atomic_load_64(&data, RLX, s) == 0)
		lab_sched_fail("stale", "reader", "flag set, data still 0");
}

static int setup(void *arg)
{
	(void)arg;
	data = flag = pdata = 0; /* on main: outside the model */
	return 0;
}

static struct lab_sched_test mp_test(uint64_t seed)
{
	struct lab_sched_test t = {
		.name = "c11_mp",
		.nthreads = 2,
		.threads = { { writer, NULL }, { reader, NULL } },
		.setup = setup,
		.strategy = LAB_SCHED_RANDOM,
		.seed = seed,
		.max_steps = 1000,
	};

	return t;
}

/* The first of `seeds` schedules with a finding (UINT64_MAX: none); c11
 * with stale-permille `permille`, or SC when permille < 0. */
static uint64_t first_finding(int permille, unsigned seeds,
			      struct lab_sched_outcome *keep)
{
	struct lab_sched_test t;
	struct lab_c11_run w;
	struct lab_c11_sched_opts o = { .history = 8,
					.stale_permille = (unsigned)permille,
					.locations = 256 };
	char err[200];

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct lab_sched_outcome out;
		const struct lab_sched_test *run = &t;

		t = mp_test(seed);
		if (permille >= 0) {
			CHECK(lab_c11_wrap(&w, &t, &o, err, sizeof(err)) == 0,
			      "wrap: %s", err);
			run = &w.test;
		}
		CHECK(lab_sched_run_test(run, &out) == 0, "run: %s", out.error);
		if (permille >= 0)
			lab_c11_unwrap(&w);
		if (out.found) {
			if (keep)
				*keep = out;
			else
				lab_sched_outcome_free(&out);
			return seed;
		}
		lab_sched_outcome_free(&out);
	}
	return UINT64_MAX;
}

/* The artifact of a c11 finding replays exactly and shrinks. */
static void check_replay(uint64_t seed, struct lab_sched_outcome *found)
{
	struct lab_sched_test t = mp_test(seed);
	struct lab_c11_sched_opts o = { .history = 8, .stale_permille = 500 };
	struct lab_sched_artifact a;
	struct lab_sched_outcome out;
	struct lab_c11_run w;
	char path[64], err[200];

	snprintf(path, sizeof(path), "/tmp/c11_sched_%d.artifact",
		 (int)getpid());
	CHECK(lab_c11_wrap(&w, &t, &o, err, sizeof(err)) == 0, "%s", err);
	CHECK(lab_sched_artifact_write(path, &w.test, found) == 0,
	      "artifact write");
	CHECK(lab_sched_artifact_read(path, &a, err, sizeof(err)) == 0, "%s",
	      err);
	lab_c11_wrap_seed(&w, a.seed);
	CHECK(lab_sched_replay(&w.test, &a, &out) == 0, "replay: %s",
	      out.error);
	CHECK(out.found && out.exact && !strcmp(out.finding.kind, "stale"),
	      "replay: found %d exact %d kind %s", out.found, out.exact,
	      out.finding.kind);
	lab_sched_outcome_free(&out);
	CHECK(lab_sched_shrink(&w.test, &a, 50, &out) == 0 && out.found,
	      "shrink lost the finding");
	printf("c11 finding at seed %llu: %llu decisions, replayed exactly, shrunk to %llu\n",
	       (unsigned long long)seed, (unsigned long long)a.ndecisions,
	       (unsigned long long)out.ntrace);
	lab_sched_outcome_free(&out);
	lab_sched_artifact_free(&a);
	lab_c11_unwrap(&w);
	unlink(path);
}

/* ---- bench ------------------------------------------------------------ */

static lab_u64_t counters[4];

static void busy(void *arg)
{
	lab_site_t s = LAB_SITE("busy");
	unsigned id = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < 200; i++) {
		lab_atomic_fetch_add_64(&counters[id], 1, RLX, s);
		lab_atomic_load_64(&counters[(id + 1) % 3], ACQ, s);
		lab_atomic_store_64(&counters[3], i, REL, s);
	}
}

static double bench_rate(bool c11, unsigned schedules)
{
	struct lab_sched_test t = {
		.name = "c11_bench",
		.nthreads = 3,
		.threads = { { busy, (void *)0 },
			     { busy, (void *)1 },
			     { busy, (void *)2 } },
		.strategy = LAB_SCHED_RANDOM,
	};
	struct lab_c11_sched_opts o = { .history = 8, .stale_permille = 100 };
	struct timespec a, b;
	uint64_t decisions = 0;
	char err[200];

	struct lab_c11_run w;

	if (c11 && lab_c11_wrap(&w, &t, &o, err, sizeof(err)))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned k = 0; k < schedules; k++) {
		struct lab_sched_outcome out;

		t.seed = k + 1;
		if (c11)
			lab_c11_wrap_seed(&w, t.seed);
		lab_sched_run_test(c11 ? &w.test : &t, &out);
		decisions += out.decisions;
		lab_sched_outcome_free(&out);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (c11)
		lab_c11_unwrap(&w);
	return (double)decisions / ((double)(b.tv_sec - a.tv_sec) +
				    (double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

static int bench(unsigned schedules)
{
	double sc = bench_rate(false, schedules);
	double c11 = bench_rate(true, schedules);

	printf("decisions/s over %u schedules of 3 x 600 operations: sc %.0f, c11 %.0f (%.2fx)\n",
	       schedules, sc, c11, c11 / sc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bench"))
		return bench(argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) :
					200);
	struct lab_sched_outcome found;
	uint64_t seed;

	ordered = false;
	CHECK(first_finding(-1, 300, NULL) == UINT64_MAX,
	      "SC mode found relaxed message passing's bug");
	seed = first_finding(500, 300, &found);
	CHECK(seed != UINT64_MAX, "c11 mode missed relaxed message passing");
	if (seed != UINT64_MAX) {
		check_replay(seed, &found);
		lab_sched_outcome_free(&found);
	}
	CHECK(first_finding(0, 300, NULL) == UINT64_MAX,
	      "stale-permille 0 found a stale read");
	ordered = true;
	CHECK(first_finding(1000, 300, NULL) == UINT64_MAX,
	      "release/acquire message passing: a finding");

	plain = true, ordered = false;
	seed = first_finding(500, 300, &found);
	CHECK(seed != UINT64_MAX, "relaxed plain publication: no race");
	if (seed != UINT64_MAX) {
		CHECK(!strcmp(found.finding.kind, "data-race") &&
			      strstr(found.finding.message, "plain write") &&
			      strstr(found.finding.message, "plain read"),
		      "race finding: %s: %s", found.finding.kind,
		      found.finding.message);
		printf("%s: %s\n", found.finding.kind, found.finding.message);
		lab_sched_outcome_free(&found);
	}
	ordered = true;
	CHECK(first_finding(500, 300, NULL) == UINT64_MAX,
	      "release/acquire plain publication: a race");
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
