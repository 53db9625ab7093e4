/* bench_sched.c - lab_bench_sched: how many scheduling decisions per second
 * the controlled scheduler takes, per strategy, side by side with two
 * baselines measured in the same run:
 *   - non-preemptive: the same programs with the list strategy and an
 *     empty list, so every yield point is still a decision but the
 *     running thread always goes on (the cost of the hooks and the
 *     allocator work without switching);
 *   - raw switch: a bare swapcontext ping-pong between two fibers, the
 *     floor any fiber scheduler pays per switch.
 * Schedules run in-process (no fork per schedule), as a campaign with
 * --no-isolate would, and once more isolated (a child per schedule, the
 * campaign default) to show what isolation costs.
 *
 * The "user C11" rows run a user-style program through the scheduler's
 * public API (labyrinth/sched.h) instead: a lock-free bitmap page
 * allocator whose C11 atomics are the instrumented ones an instrumented
 * build calls (labyrinth/atomic.h: a scheduling point before every
 * atomic operation), next to the allocator's hand-placed yield points.
 *
 * The memory table runs the user program and the allocator's programs
 * with the SC memory model (every load the newest store) and with the
 * C11 model (--memory c11: each load with a choice of stores takes a
 * reads-from decision, stale-permille 200), side by side: vs-sc is the
 * c11 row's decisions per second against the SC row above it.  The
 * allocator's own atomics reach the model only once they go through
 * lab_atomic_perform; until then its c11 row shows the cost of the
 * model's set-up per schedule and of its locks' tokens only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "labyrinth/atomic.h"
#include "labyrinth/sched.h"
#include "stress.h"

struct bench_opts {
	double seconds;
	uint64_t seed;
	unsigned logical, ops;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct row {
	const char *name;
	uint64_t schedules, decisions, switches, reads, stale;
	double seconds;
};

/* Runs schedules of one strategy for about b->seconds. */
static int bench_strategy_in(const struct bench_opts *b, enum lab_strategy st,
			     unsigned depth, bool isolate, enum lab_memory mem,
			     struct row *row)
{
	const char *name = row->name;
	struct lab_opts o;
	double t0 = now();

	lab_opts_defaults(&o);
	o.mode = LAB_MODE_CONTROLLED;
	o.strategy = st;
	o.depth = depth;
	o.logical = b->logical;
	o.ops_per_thread = b->ops;
	o.isolate = isolate;
	o.seed = b->seed;
	o.memory = mem;
	memset(row, 0, sizeof(*row));
	row->name = name;
	while (now() - t0 < b->seconds) {
		struct lab_sched_result r;

		o.seed++;
		if (lab_sched_run(&o, NULL, 0, &r))
			return -1;
		if (r.found) {
			fprintf(stderr,
				"lab_bench_sched: unexpected finding "
				"%s at %s (seed %" PRIu64 ")\n",
				r.finding.kind, r.finding.where, o.seed);
			lab_sched_result_free(&r);
			return -1;
		}
		row->schedules++;
		row->decisions += r.decisions;
		row->reads += r.reads;
		row->stale += r.stale_reads;
		for (uint64_t i = 1; i < r.ntrace; i++)
			row->switches += (r.trace[i] & LAB_DEC_THREAD_MASK) !=
					 (r.trace[i - 1] & LAB_DEC_THREAD_MASK);
		lab_sched_result_free(&r);
	}
	row->seconds = now() - t0;
	return 0;
}

static int bench_strategy(const struct bench_opts *b, enum lab_strategy st,
			  unsigned depth, bool isolate, struct row *row)
{
	return bench_strategy_in(b, st, depth, isolate, LAB_MEM_SC, row);
}

/* ---- a user's C11 program through the public API ------------------------- */

#define USER_WORDS 2 /* 128 frames */
#define USER_HELD 8

static lab_u64_t user_map[USER_WORDS];
static unsigned user_ops;

struct user_thread {
	unsigned id, held[USER_HELD], nheld;
	uint64_t rng;
};

static struct user_thread user_th[LAB_MAX_LOGICAL];

/* One frame: find a clear bit from the thread's hint word, CAS it set. */
static bool user_alloc(struct user_thread *t)
{
	unsigned w, tries;

	for (tries = 0; tries < USER_WORDS; tries++) {
		lab_u64_t *word = &user_map[(t->id + tries) % USER_WORDS];
		lab_u64_t old;

		old = lab_atomic_load_64(word, __ATOMIC_ACQUIRE,
					 LAB_SITE("load"));
		while (~old) {
			unsigned bit = (unsigned)__builtin_ctzll(~old);

			if (lab_atomic_cas_64(word, &old, old | (1ull << bit),
					      true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE,
					      LAB_SITE("cas"))) {
				w = (unsigned)(word - user_map);
				t->held[t->nheld++] = w * 64 + bit;
				return true;
			}
		}
	}
	return false;
}

static void user_free(struct user_thread *t)
{
	unsigned f = t->held[--t->nheld];

	lab_atomic_fetch_and_64(&user_map[f / 64], ~(1ull << (f % 64)),
				__ATOMIC_RELEASE, LAB_SITE("fetch_and"));
}

static void user_body(void *arg)
{
	struct user_thread *t = arg;
	unsigned i;

	for (i = 0; i < user_ops; i++) {
		if (t->nheld < USER_HELD && (lab_splitmix(&t->rng) & 1))
			user_alloc(t);
		else if (t->nheld)
			user_free(t);
		lab_sched_progress();
	}
	while (t->nheld)
		user_free(t);
}

static int user_setup(void *arg)
{
	unsigned i, n = *(unsigned *)arg;

	for (i = 0; i < USER_WORDS; i++)
		__atomic_store_n(&user_map[i], 0, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		user_th[i] = (struct user_thread){ .id = i, .rng = i + 1 };
	return 0;
}

static const char *user_check(void *arg, bool final)
{
	unsigned i;

	(void)arg;
	for (i = 0; final && i < USER_WORDS; i++)
		if (__atomic_load_n(&user_map[i], __ATOMIC_ACQUIRE))
			return "frames still set after every thread freed";
	return NULL;
}

static int bench_user_in(const struct bench_opts *b,
			 enum lab_sched_strategy st, unsigned depth,
			 enum lab_sched_memory mem, struct row *row)
{
	const char *name = row->name;
	struct lab_sched_test t = { .name = "user C11" };
	unsigned n = b->logical, i;
	double t0 = now();

	user_ops = b->ops;
	t.nthreads = n;
	for (i = 0; i < n; i++)
		t.threads[i] = (struct lab_sched_thread_desc){ user_body,
							       &user_th[i] };
	t.arg = &n;
	t.setup = user_setup;
	t.invariant = user_check;
	t.strategy = st;
	t.depth = depth;
	t.pct_horizon = (uint64_t)n * b->ops * 3 + 1;
	t.seed = b->seed;
	t.memory = mem;
	t.stale_permille = 200;
	memset(row, 0, sizeof(*row));
	row->name = name;
	while (now() - t0 < b->seconds) {
		struct lab_sched_outcome out;

		t.seed++;
		if (lab_sched_run_test(&t, &out) || out.found) {
			fprintf(stderr, "lab_bench_sched: user program: %s%s\n",
				out.error,
				out.found ? out.finding.message : "");
			lab_sched_outcome_free(&out);
			return -1;
		}
		row->schedules++;
		row->decisions += out.decisions;
		row->reads += out.reads;
		row->stale += out.stale_reads;
		for (uint64_t k = 1; k < out.ntrace; k++)
			row->switches +=
				(out.trace[k] & LAB_DEC_THREAD_MASK) !=
				(out.trace[k - 1] & LAB_DEC_THREAD_MASK);
		lab_sched_outcome_free(&out);
	}
	row->seconds = now() - t0;
	return 0;
}

static int bench_user(const struct bench_opts *b, enum lab_sched_strategy st,
		      unsigned depth, struct row *row)
{
	return bench_user_in(b, st, depth, LAB_SCHED_MEM_SC, row);
}

/* ---- raw swapcontext ping-pong ------------------------------------------- */

static ucontext_t ping_main, ping_fiber;
static uint64_t ping_left;

static void ping_body(void)
{
	while (ping_left) {
		ping_left--;
		swapcontext(&ping_fiber, &ping_main);
	}
}

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN 1
#endif
#endif

/* Under ASan the bare ping-pong (no fiber annotations) confuses its stack
 * bookkeeping; the row is left empty there. */
static void bench_raw_switch(const struct bench_opts *b, struct row *row)
{
#ifdef BENCH_ASAN
	(void)b;
	memset(row, 0, sizeof(*row));
	return;
#endif
	static char stack[64 << 10];
	uint64_t n = 0;
	double t0 = now();

	memset(row, 0, sizeof(*row));
	while (now() - t0 < b->seconds) {
		ping_left = 100000;
		getcontext(&ping_fiber);
		ping_fiber.uc_stack.ss_sp = stack;
		ping_fiber.uc_stack.ss_size = sizeof(stack);
		ping_fiber.uc_link = &ping_main;
		makecontext(&ping_fiber, ping_body, 0);
		while (ping_left)
			swapcontext(&ping_main, &ping_fiber);
		n += 2 * 100000;
	}
	row->seconds = now() - t0;
	row->decisions = row->switches = n;
}

/* ---- output ------------------------------------------------------------------ */

static void print_row(const struct row *r, const struct row *base)
{
	double rate = r->seconds > 0 ? (double)r->decisions / r->seconds : 0;
	double base_rate =
		base->seconds > 0 ? (double)base->decisions / base->seconds : 0;

	printf("%-20s %10" PRIu64 " %12" PRIu64 " %8.1f%% %12.0f %9.1f %8.2f\n",
	       r->name, r->schedules, r->decisions,
	       r->decisions ?
		       100.0 * (double)r->switches / (double)r->decisions :
		       0.0,
	       rate, rate > 0 ? 1e9 / rate : 0.0,
	       base_rate > 0 ? rate / base_rate : 0.0);
}

static int parse(int argc, char **argv, struct bench_opts *b)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *end = NULL;
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--smoke")) {
			b->seconds = 0.2;
			continue;
		}
		if (!v)
			goto bad;
		errno = 0;
		if (!strcmp(argv[i], "--seconds"))
			b->seconds = strtod(v, &end);
		else if (!strcmp(argv[i], "--seed"))
			b->seed = strtoull(v, &end, 0);
		else if (!strcmp(argv[i], "--logical"))
			b->logical = (unsigned)strtoul(v, &end, 0);
		else if (!strcmp(argv[i], "--ops"))
			b->ops = (unsigned)strtoul(v, &end, 0);
		else
			goto bad;
		if (errno || !end || *end || *v == '-' || b->seconds <= 0 ||
		    b->seconds > 3600 || b->logical < 2 ||
		    b->logical > LAB_MAX_LOGICAL || b->ops < 1 ||
		    b->ops > 100000)
			goto bad;
		i++;
	}
	return 0;
bad:
	fprintf(stderr,
		"lab_bench_sched: bad argument '%s'\nusage: "
		"lab_bench_sched [--seconds S] [--seed N] "
		"[--logical 2..%d] [--ops N] [--smoke]\n",
		argv[i], LAB_MAX_LOGICAL);
	return 2;
}

static double row_rate(const struct row *r)
{
	return r->seconds > 0 ? (double)r->decisions / r->seconds : 0;
}

/* sc and c11 rows in pairs: vs-sc is each row against the pair's SC one. */
static void print_memory(const struct row *rows, unsigned n)
{
	unsigned i;

	printf("%-22s %9s %11s %9s %8s %12s %8s %6s\n", "memory", "schedules",
	       "decisions", "reads", "stale", "decisions/s", "ns/dec",
	       "vs-sc");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i], *sc = &rows[i & ~1u];
		double rate = row_rate(r);

		printf("%-22s %9" PRIu64 " %11" PRIu64 " %9" PRIu64
		       " %8" PRIu64 " %12.0f %8.1f %6.2f\n",
		       r->name, r->schedules, r->decisions, r->reads, r->stale,
		       rate, rate > 0 ? 1e9 / rate : 0.0,
		       row_rate(sc) > 0 ? rate / row_rate(sc) : 0.0);
	}
}

/* The memory table's rows, SC then c11 of each program and strategy. */
static int bench_memory(const struct bench_opts *b, struct row *m)
{
	return bench_user_in(b, LAB_SCHED_RANDOM, 1, LAB_SCHED_MEM_SC, &m[0]) ||
	       bench_user_in(b, LAB_SCHED_RANDOM, 1, LAB_SCHED_MEM_C11,
			     &m[1]) ||
	       bench_user_in(b, LAB_SCHED_PCT, 3, LAB_SCHED_MEM_SC, &m[2]) ||
	       bench_user_in(b, LAB_SCHED_PCT, 3, LAB_SCHED_MEM_C11, &m[3]) ||
	       bench_strategy_in(b, LAB_STRAT_RANDOM, 1, false, LAB_MEM_SC,
				 &m[4]) ||
	       bench_strategy_in(b, LAB_STRAT_RANDOM, 1, false, LAB_MEM_C11,
				 &m[5]) ||
	       bench_strategy_in(b, LAB_STRAT_PCT, 3, false, LAB_MEM_SC,
				 &m[6]) ||
	       bench_strategy_in(b, LAB_STRAT_PCT, 3, false, LAB_MEM_C11,
				 &m[7]);
}

static void print_header(const char *first)
{
	printf("%-20s %10s %12s %9s %12s %9s %8s\n", first, "schedules",
	       "decisions", "switches", "decisions/s", "ns/dec", "vs-base");
}

/* Two tables of the same run: the user program through the public API
 * first (its rows against the allocator's, same strategy), then the
 * allocator's own strategies against the non-preemptive baseline. */
int main(int argc, char **argv)
{
	struct bench_opts b = { 2.0, 1, 3, 24 };
	struct row rows[5] = { { .name = "non-preemptive" },
			       { .name = "random walk" },
			       { .name = "pct d=3" },
			       { .name = "pct d=3 isolated" },
			       { .name = "raw swapcontext" } };
	struct row user[2] = { { .name = "user C11 random" },
			       { .name = "user C11 pct d=3" } };
	struct row mem[8] = {
		{ .name = "user sc random" },	   { .name = "user c11 random" },
		{ .name = "user sc pct d=3" },	   { .name = "user c11 pct d=3" },
		{ .name = "allocator sc random" }, { .name = "allocator c11 random" },
		{ .name = "allocator sc pct d=3" }, { .name = "allocator c11 pct d=3" },
	};
	int ret = parse(argc, argv, &b), i;

	if (ret)
		return ret;
	if (bench_strategy(&b, LAB_STRAT_LIST, 1, false, &rows[0]) ||
	    bench_strategy(&b, LAB_STRAT_RANDOM, 1, false, &rows[1]) ||
	    bench_strategy(&b, LAB_STRAT_PCT, 3, false, &rows[2]) ||
	    bench_strategy(&b, LAB_STRAT_PCT, 3, true, &rows[3]) ||
	    bench_user(&b, LAB_SCHED_RANDOM, 1, &user[0]) ||
	    bench_user(&b, LAB_SCHED_PCT, 3, &user[1]) || bench_memory(&b, mem))
		return 1;
	bench_raw_switch(&b, &rows[4]);
	rows[4].name = "raw swapcontext";
	printf("lab_bench_sched: %s; %u logical threads x %u ops, %.1f s per "
	       "row, seed %" PRIu64 "\n",
	       lab_version(), b.logical, b.ops, b.seconds, b.seed);
	printf("a user's C11 program through labyrinth/sched.h (a scheduling "
	       "point at each atomic), vs-base: against the allocator's yield "
	       "points, same strategy:\n");
	print_header("program");
	print_row(&user[0], &rows[1]);
	print_row(&user[1], &rows[2]);
	printf("\nthe memory model (--memory sc|c11, stale-permille 200), "
	       "vs-sc: the c11 row against the sc row above it:\n");
	print_memory(mem, 8);
	printf("\n");
	print_header("strategy");
	for (i = 0; i < 5; i++)
		print_row(&rows[i], &rows[0]);
	return 0;
}
