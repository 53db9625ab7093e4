/* test_c11_fibers.c - the C11 model installed behind lab_atomic_perform
 * (lab_c11_install), with instrumented code (labyrinth/atomic.h's typed
 * operations) running in schedules of the tests' fiber scheduler:
 *
 *  - choose always 0 is today's SC execution: over many seeds, every
 *    value every operation returns, the final memory and the points are
 *    those of the same schedule without the model (and again after the
 *    model is removed);
 *  - with random choices (the stale-permille strategy), relaxed message
 *    passing shows the stale value and release/acquire never does;
 *    stale-permille 0 never shows it;
 *  - a value written outside the model (plain code, set-up on main)
 *    restarts the location's history: a load never reads what it
 *    replaced.
 *
 * `test_c11_fibers bench [schedules]` instead times the mixed program's
 * schedules without the model, with it (choose 0) and with random
 * choices: scheduling points per second of each (not a test).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fake_sched.h"
#include "labyrinth/atomic.h"
#include "labyrinth/c11.h"

#define SEEDS 300
#define OPS 12

static lab_u64_t w64;
static lab_u32_t w32;
static lab_u8_t w8;
static lab_u64_t log_[3][OPS];

/* A fixed mix of every kind of operation and order on three sizes. */
static void mixed_thread(unsigned id)
{
	lab_site_t s = LAB_SITE("mixed");
	lab_u64_t *out = log_[id], e64;
	lab_u32_t e32;
	unsigned k = 0;

	for (unsigned round = 0; round < 2; round++) {
		out[k++] = lab_atomic_fetch_add_64(&w64, id + 1, 0, s);
		lab_atomic_store_32(&w32, id * 10 + round, 3, s);
		out[k++] = lab_atomic_load_64(&w64, 0, s);
		out[k++] = lab_atomic_load_32(&w32, 2, s);
		e64 = out[k - 2];
		out[k++] =
			lab_atomic_cas_64(&w64, &e64, e64 * 2, false, 4, 0, s) *
				1000 +
			e64;
		lab_atomic_thread_fence(5, s);
		out[k++] = lab_atomic_exchange_8(&w8, (lab_u8_t)id, 5, s);
		e32 = 7;
		out[k++] =
			lab_atomic_cas_32(&w32, &e32, 8, true, 5, 5, s) * 1000 +
			e32;
	}
}

static unsigned choose_zero(void *arg, unsigned n)
{
	(void)arg;
	(void)n;
	return 0;
}

static uint64_t choice_rng;
static unsigned choice_permille = 500;
static unsigned choose_random(void *arg, unsigned n)
{
	(void)arg;
	return lab_c11_pick_stale(&choice_rng, choice_permille, n);
}

static unsigned choose_oldest(void *arg, unsigned n)
{
	(void)arg;
	return n - 1;
}

static int current(void *arg)
{
	(void)arg;
	return lab_fake_current();
}

static struct lab_c11 *model_new(unsigned threads,
				 unsigned (*choose)(void *, unsigned))
{
	char err[200];
	struct lab_c11_config cfg = { .threads = threads,
				      .history = 8,
				      .locations = 256,
				      .choose = choose,
				      .current = current };
	struct lab_c11 *m = lab_c11_create(&cfg, err, sizeof(err));

	if (!m) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	return m;
}

struct snapshot {
	lab_u64_t log[3][OPS], w64;
	lab_u32_t w32;
	lab_u8_t w8;
	unsigned long points;
};

static void run_mixed(uint64_t seed, struct lab_c11 *m, struct snapshot *s)
{
	struct lab_fake_result r;

	w64 = 1, w32 = 7, w8 = 0;
	memset(log_, 0, sizeof(log_));
	if (m)
		lab_c11_reset(m);
	lab_c11_install(m);
	lab_fake_run(3, mixed_thread, seed, &r);
	lab_c11_install(NULL);
	memcpy(s->log, log_, sizeof(log_));
	s->w64 = w64, s->w32 = w32, s->w8 = w8;
	s->points = r.points;
}

static bool snapshot_equal(const struct snapshot *a, const struct snapshot *b)
{
	return !memcmp(a->log, b->log, sizeof(a->log)) && a->w64 == b->w64 &&
	       a->w32 == b->w32 && a->w8 == b->w8 && a->points == b->points;
}

static void check_choose_zero_is_sc(void)
{
	struct lab_c11 *m = model_new(3, choose_zero);
	struct snapshot plain, model, after;
	struct lab_c11_stats st;
	unsigned differ = 0;

	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		run_mixed(seed, NULL, &plain);
		run_mixed(seed, m, &model);
		run_mixed(seed, NULL, &after);
		differ += !snapshot_equal(&plain, &model) ||
			  !snapshot_equal(&plain, &after);
	}
	lab_c11_stats(m, &st);
	CHECK(differ == 0, "choose 0: %u of %u schedules differ from SC",
	      differ, SEEDS);
	CHECK(st.ops > SEEDS * 3 * OPS, "model saw %llu operations", st.ops);
	CHECK(st.stale == 0 && st.restarts == 0,
	      "choose 0: %llu stale reads, %llu restarts", st.stale,
	      st.restarts);
	printf("choose 0 = SC: %u schedules, %llu operations, %llu loads with a choice\n",
	       SEEDS, st.ops, st.choices);
	lab_c11_destroy(m);
}

/* ---- message passing through the real entry points ------------------ */

static lab_u64_t data, flag, seen_flag, seen_data;
static int mp_release;

static void mp_thread(unsigned id)
{
	lab_site_t s = LAB_SITE("mp");

	if (id == 0) {
		lab_atomic_store_64(&data, 1, 0, s);
		lab_atomic_store_64(&flag, 1, mp_release ? 3 : 0, s);
	} else {
		seen_flag = lab_atomic_load_64(&flag, mp_release ? 2 : 0, s);
		seen_data = lab_atomic_load_64(&data, 0, s);
	}
}

/* Schedules (of 2000) in which the reader saw the flag but stale data. */
static unsigned mp_stale(bool release)
{
	struct lab_c11 *m = model_new(2, choose_random);
	struct lab_fake_result r;
	unsigned stale = 0;

	mp_release = release;
	for (uint64_t seed = 0; seed < 2000; seed++) {
		data = flag = 0;
		choice_rng = seed * 7919;
		lab_c11_reset(m);
		lab_c11_install(m);
		lab_fake_run(2, mp_thread, seed, &r);
		lab_c11_install(NULL);
		stale += seen_flag == 1 && seen_data == 0;
	}
	lab_c11_destroy(m);
	printf("message passing, %s: %u of 2000 schedules read stale data\n",
	       release ? "release/acquire" : "relaxed", stale);
	return stale;
}

/* The stale-permille strategy: 0 never stale, 1000 always, 500 about
 * half, and every pick in range. */
static void check_pick_stale(void)
{
	uint64_t rng = 42;
	unsigned stale = 0, bad = 0;

	for (unsigned i = 0; i < 10000; i++) {
		unsigned n = 2 + i % 5, k = lab_c11_pick_stale(&rng, 500, n);

		stale += k != 0;
		bad += k >= n || lab_c11_pick_stale(&rng, 0, n) != 0 ||
		       lab_c11_pick_stale(&rng, 1000, n) == 0 ||
		       lab_c11_pick_stale(&rng, 1000, 1) != 0;
	}
	CHECK(bad == 0, "pick_stale: %u picks out of contract", bad);
	CHECK(stale > 4500 && stale < 5500, "pick_stale 500: %u of 10000",
	      stale);
	choice_permille = 0;
	CHECK(mp_stale(false) == 0, "stale-permille 0: stale data");
	choice_permille = 500;
}

/* ---- values written outside the model --------------------------------- */

static lab_u64_t outside;
static lab_u64_t outside_seen[2];

static void outside_thread(unsigned id)
{
	lab_site_t s = LAB_SITE("outside");

	(void)id;
	outside_seen[0] = lab_atomic_load_64(&outside, 0, s);
	lab_atomic_store_64(&outside, 1, 0, s);
	lab_atomic_store_64(&outside, 2, 0, s);
	*(volatile lab_u64_t *)&outside = 7; /* plain: the model misses it */
	outside_seen[1] = lab_atomic_load_64(&outside, 0, s);
}

static void check_outside_writes(void)
{
	struct lab_c11 *m = model_new(1, choose_oldest);
	struct lab_fake_result r;
	struct lab_c11_stats st;

	for (int run = 0; run < 2; run++) {
		outside = 5 + (lab_u64_t)run; /* set-up on main */
		lab_c11_install(m);
		lab_fake_run(1, outside_thread, 1, &r);
		lab_c11_install(NULL);
		CHECK(outside_seen[0] == 5 + (lab_u64_t)run,
		      "run %d: first load %llu, not the set-up value", run,
		      (unsigned long long)outside_seen[0]);
		CHECK(outside_seen[1] == 7, "load after a plain write: %llu",
		      (unsigned long long)outside_seen[1]);
	}
	lab_c11_stats(m, &st);
	CHECK(st.restarts >= 2, "%llu restarts", st.restarts);
	lab_c11_destroy(m);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Points per second of `schedules` mixed schedules under m (NULL: SC). */
static double bench_points(struct lab_c11 *m, unsigned long schedules)
{
	struct snapshot snap;
	unsigned long points = 0;
	double t0 = now_s();

	for (unsigned long seed = 0; seed < schedules; seed++) {
		choice_rng = seed;
		run_mixed(seed, m, &snap);
		points += snap.points;
	}
	return (double)points / (now_s() - t0);
}

static int bench(unsigned long schedules)
{
	struct lab_c11 *zero = model_new(3, choose_zero);
	struct lab_c11 *rnd = model_new(3, choose_random);
	double sc = bench_points(NULL, schedules);
	double c0 = bench_points(zero, schedules);
	double cr = bench_points(rnd, schedules);

	printf("points/s over %lu schedules: sc %.0f, c11 choose-0 %.0f (%.2fx), c11 random %.0f (%.2fx)\n",
	       schedules, sc, c0, c0 / sc, cr, cr / sc);
	lab_c11_destroy(zero);
	lab_c11_destroy(rnd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bench"))
		return bench(argc > 2 ? strtoul(argv[2], NULL, 10) : 20000);
	check_choose_zero_is_sc();
	CHECK(mp_stale(false) > 0, "relaxed message passing: never stale");
	CHECK(mp_stale(true) == 0, "release/acquire message passing: stale");
	check_pick_stale();
	check_outside_writes();
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
