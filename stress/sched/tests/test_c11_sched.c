/* test_c11_sched.c - the C11 model in the real controlled scheduler
 * (labyrinth/c11_sched.h over labyrinth/sched.h): message passing whose
 * reader fails the run when it sees the flag but stale data.
 *
 *  - SC mode (no model) never finds relaxed message passing's bug, c11
 *    mode finds it (random walk and PCT), its artifact records the memory
 *    fields and reads-from decisions, replays exactly, shrinks, and the
 *    shrunk one replays exactly; a mutated reads-from decision is a
 *    divergence at its index; bad memory fields are one-line errors;
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
#include <errno.h>
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
 * with stale-permille `permille`, or SC when permille < 0.  Odd calls go
 * through lab_c11_wrap, the older way to the same test. */
static uint64_t first_finding(int permille, enum lab_sched_strategy strategy,
			      unsigned seeds, struct lab_sched_outcome *keep)
{
	static unsigned calls;
	struct lab_c11_sched_opts o = { .history = 8,
					.stale_permille = (unsigned)permille,
					.locations = 256 };
	bool wrap = calls++ % 2;
	char err[200];

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct lab_sched_outcome out;
		struct lab_sched_test t = mp_test(seed);
		struct lab_c11_run w;

		t.strategy = strategy;
		if (permille >= 0 && wrap) {
			CHECK(lab_c11_wrap(&w, &t, &o, err, sizeof(err)) == 0,
			      "wrap: %s", err);
			t = w.test;
			lab_c11_unwrap(&w);
		} else if (permille >= 0) {
			t.memory = LAB_SCHED_MEM_C11;
			t.stale_permille = (unsigned)permille;
			t.locations = 256;
		}
		CHECK(lab_sched_run_test(&t, &out) == 0, "run: %s", out.error);
		CHECK(permille >= 0 || !out.reads,
		      "SC run took %llu reads-from decisions",
		      (unsigned long long)out.reads);
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

/* The index of the first reads-from decision of d (n if none). */
static uint64_t first_read(const lab_sched_decision_t *d, uint64_t n)
{
	uint64_t i = 0;

	while (i < n && !LAB_SCHED_DEC_IS_READ(d[i]))
		i++;
	return i;
}

/* Replays a with decision i replaced by d: divergence at i, its reason
 * naming a reads-from choice. */
static void check_diverges(const struct lab_sched_test *t,
			   const struct lab_sched_artifact *a, uint64_t i,
			   lab_sched_decision_t d)
{
	struct lab_sched_artifact m = *a;
	struct lab_sched_outcome out;

	m.decisions = malloc(a->ndecisions * sizeof(*m.decisions));
	memcpy(m.decisions, a->decisions, a->ndecisions * sizeof(*m.decisions));
	m.decisions[i] = d;
	CHECK(lab_sched_replay(t, &m, &out) == 0, "replay: %s", out.error);
	CHECK(out.diverged_at == i && strstr(out.diverged_why, "reads-from"),
	      "decision %llu = %#x: diverged at %llu (%s)",
	      (unsigned long long)i, d, (unsigned long long)out.diverged_at,
	      out.diverged_why);
	lab_sched_outcome_free(&out);
	free(m.decisions);
}

/* An artifact file with `line` appended to its fields (before the
 * finding) and the decisions as written: read back, the error. */
static void check_bad_artifact(const char *path, const char *from,
			       const char *to, const char *want)
{
	char cmd[512], bad[80], err[300];
	struct lab_sched_artifact a;

	snprintf(bad, sizeof(bad), "%s.bad", path);
	snprintf(cmd, sizeof(cmd), "sed 's/%s/%s/' %s >%s", from, to, path,
		 bad);
	CHECK(system(cmd) == 0, "%s", cmd);
	CHECK(lab_sched_artifact_read(bad, &a, err, sizeof(err)) == -1 &&
		      strstr(err, bad) && strstr(err, "line ") &&
		      strstr(err, want) && !strchr(err, '\n'),
	      "'%s' -> '%s': %s", from, to, err);
	unlink(bad);
}

/* The artifact of a c11 finding replays exactly and shrinks, and its
 * shrunk schedule replays exactly too. */
static void check_replay(struct lab_sched_outcome *found, uint64_t seed)
{
	struct lab_sched_test t = mp_test(seed);
	struct lab_sched_artifact a, b;
	struct lab_sched_outcome out;
	char path[64], small[80], err[200];
	uint64_t r;

	t.memory = LAB_SCHED_MEM_C11;
	t.stale_permille = 500;
	snprintf(path, sizeof(path), "/tmp/c11_sched_%d.artifact",
		 (int)getpid());
	snprintf(small, sizeof(small), "%s.small", path);
	CHECK(lab_sched_artifact_write(path, &t, found) == 0, "artifact write");
	CHECK(lab_sched_artifact_read(path, &a, err, sizeof(err)) == 0, "%s",
	      err);
	CHECK(a.memory == LAB_SCHED_MEM_C11 && a.history == 8 &&
		      a.stale_permille == 500,
	      "memory fields: %d %u %u", a.memory, a.history, a.stale_permille);
	r = first_read(a.decisions, a.ndecisions);
	CHECK(r < a.ndecisions, "no reads-from decision in the artifact");
	/* replay takes the memory from the artifact, not from the test */
	t.memory = LAB_SCHED_MEM_SC;
	CHECK(lab_sched_replay(&t, &a, &out) == 0, "replay: %s", out.error);
	CHECK(out.found && out.exact && !strcmp(out.finding.kind, "stale") &&
		      out.stale_reads >= 1,
	      "replay: found %d exact %d kind %s stale %llu", out.found,
	      out.exact, out.finding.kind,
	      (unsigned long long)out.stale_reads);
	lab_sched_outcome_free(&out);
	CHECK(lab_sched_shrink(&t, &a, 50, &out) == 0 && out.found,
	      "shrink lost the finding");
	t.memory = LAB_SCHED_MEM_C11;
	CHECK(lab_sched_artifact_write(small, &t, &out) == 0, "write small");
	printf("c11 finding at seed %llu: %llu decisions, replayed exactly, shrunk to %llu (stale reads %llu)\n",
	       (unsigned long long)seed, (unsigned long long)a.ndecisions,
	       (unsigned long long)out.ntrace,
	       (unsigned long long)out.stale_reads);
	lab_sched_outcome_free(&out);
	CHECK(lab_sched_artifact_read(small, &b, err, sizeof(err)) == 0, "%s",
	      err);
	CHECK(lab_sched_replay(&t, &b, &out) == 0 && out.exact,
	      "the shrunk schedule does not replay exactly");
	lab_sched_outcome_free(&out);
	lab_sched_artifact_free(&b);
	if (r < a.ndecisions) {
		/* a thread decision where the program reads, a store the
		 * load does not have, another thread's read, a read where
		 * the program takes a thread decision */
		check_diverges(&t, &a, r, a.decisions[r] & LAB_SCHED_DEC_THREAD);
		check_diverges(&t, &a, r,
			       LAB_SCHED_DEC_READ_OF(a.decisions[r] & 0xff, 63));
		check_diverges(&t, &a, r,
			       LAB_SCHED_DEC_READ_OF(
				       (a.decisions[r] & 0xff) ^ 1, 1));
		if (r > 0)
			check_diverges(&t, &a, r - 1,
				       LAB_SCHED_DEC_READ_OF(0, 0));
	}
	check_bad_artifact(path, "^memory c11$", "memory weak", "memory");
	check_bad_artifact(path, "^memory c11$", "memory sc",
			   "reads-from choice in an artifact of memory sc");
	check_bad_artifact(path, "^history 8$", "history 0", "history");
	check_bad_artifact(path, "^history 8$", "history 999", "history");
	check_bad_artifact(path, "^stale-permille 500$", "stale-permille 2000",
			   "stale-permille");
	/* a reads-from decision with the interrupt bit: 512 + 256 */
	check_bad_artifact(path, "^d \\([0-9]*\\) ", "d 768 ",
			   "malformed reads-from");
	lab_sched_artifact_free(&a);
	unlink(path);
	unlink(small);
}

/* ---- reads-from decisions are no stall steps ------------------------------- */

static lab_u64_t counter;

/* Stores and completes an operation each time. */
static void stall_writer(void *arg)
{
	(void)arg;
	for (unsigned i = 1; i <= 40; i++) {
		lab_atomic_store_64(&counter, i, RLX, LAB_SITE("stall store"));
		lab_sched_progress();
	}
}

/* Eight loads per operation: at most 11 decisions pass without
 * progress (the eight, the writer's, the start), so a stall bound of 12
 * holds; counted as stall steps, the reads-from decisions among the
 * loads would add up to eight more, a livelock. */
static void stall_reader(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < 40; i++) {
		for (unsigned k = 0; k < 8; k++)
			lab_atomic_load_64(&counter, RLX,
					   LAB_SITE("stall load"));
		lab_sched_progress();
	}
}

static void check_no_stall_steps(void)
{
	uint64_t reads = 0;

	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct lab_sched_test t = {
			.name = "c11_stall",
			.nthreads = 2,
			.threads = { { stall_writer, NULL },
				     { stall_reader, NULL } },
			.strategy = LAB_SCHED_RANDOM,
			.seed = seed,
			.stall_steps = 12,
			.memory = LAB_SCHED_MEM_C11,
			.stale_permille = 1000,
		};
		struct lab_sched_outcome out;

		counter = 0;
		CHECK(lab_sched_run_test(&t, &out) == 0, "%s", out.error);
		CHECK(!out.found, "seed %llu: %s: %s", (unsigned long long)seed,
		      out.finding.kind, out.finding.message);
		reads += out.reads;
		lab_sched_outcome_free(&out);
	}
	CHECK(reads > 100, "only %llu reads-from decisions: the test tests "
			   "nothing", (unsigned long long)reads);
}

/* Descriptions the memory fields make impossible: -EINVAL, one line. */
static void check_test_check(void)
{
	struct lab_sched_test t = mp_test(1);
	struct lab_sched_outcome out;
	struct {
		enum lab_sched_memory memory;
		unsigned history, stale;
		const char *want;
	} bad[] = {
		{ LAB_SCHED_MEM_C11, 65, 0, "history of 65" },
		{ LAB_SCHED_MEM_C11, 8, 1001, "stale_permille 1001" },
		{ (enum lab_sched_memory)7, 0, 0, "memory model 7" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.memory = bad[i].memory;
		t.history = bad[i].history;
		t.stale_permille = bad[i].stale;
		CHECK(lab_sched_run_test(&t, &out) == -EINVAL &&
			      strstr(out.error, bad[i].want),
		      "case %u: %s", i, out.error);
		lab_sched_outcome_free(&out);
	}
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
		.memory = c11 ? LAB_SCHED_MEM_C11 : LAB_SCHED_MEM_SC,
		.stale_permille = 100,
	};
	struct timespec a, b;
	uint64_t decisions = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned k = 0; k < schedules; k++) {
		struct lab_sched_outcome out;

		t.seed = k + 1;
		lab_sched_run_test(&t, &out);
		decisions += out.decisions;
		lab_sched_outcome_free(&out);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
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

	check_test_check();
	check_no_stall_steps();
	ordered = false;
	CHECK(first_finding(-1, LAB_SCHED_RANDOM, 300, NULL) == UINT64_MAX,
	      "SC mode found relaxed message passing's bug (random)");
	CHECK(first_finding(-1, LAB_SCHED_PCT, 300, NULL) == UINT64_MAX,
	      "SC mode found relaxed message passing's bug (PCT)");
	seed = first_finding(500, LAB_SCHED_PCT, 300, NULL);
	CHECK(seed != UINT64_MAX, "c11 mode (PCT) missed relaxed message passing");
	seed = first_finding(500, LAB_SCHED_RANDOM, 300, &found);
	CHECK(seed != UINT64_MAX, "c11 mode missed relaxed message passing");
	if (seed != UINT64_MAX) {
		check_replay(&found, seed);
		lab_sched_outcome_free(&found);
	}
	CHECK(first_finding(0, LAB_SCHED_RANDOM, 300, NULL) == UINT64_MAX,
	      "stale-permille 0 found a stale read");
	ordered = true;
	CHECK(first_finding(1000, LAB_SCHED_RANDOM, 300, NULL) == UINT64_MAX,
	      "release/acquire message passing: a finding");
	CHECK(first_finding(1000, LAB_SCHED_PCT, 300, NULL) == UINT64_MAX,
	      "release/acquire message passing: a finding (PCT)");

	plain = true, ordered = false;
	seed = first_finding(500, LAB_SCHED_RANDOM, 300, &found);
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
	CHECK(first_finding(500, LAB_SCHED_RANDOM, 300, NULL) == UINT64_MAX,
	      "release/acquire plain publication: a race");
	/* outside a run, the plain entry points and forget are no-ops */
	lab_c11_sched_plain_write(&pdata, 8, LAB_SITE("outside"));
	lab_c11_sched_forget(&pdata, 8);
	CHECK(!lab_sched_memory_c11(), "c11 mode active outside a run");
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
