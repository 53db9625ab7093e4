/* check.h - always-on assertions and report capture for the unit tests.
 *
 * CHECK() is not assert(): NDEBUG never removes it, so a release build
 * tests the same things.  A failed check prints file:line and the values
 * and exits 1; never use it inside a signal handler (record there, check
 * after).
 *
 * The report capture is a lab_report_fn that counts reports per kind and
 * keeps the last message of each kind, without aborting, so a test can
 * assert that misuse was reported and then go on.  It is async-signal-safe
 * and may be called from several threads: counters are atomics and the
 * messages are copied under a try-lock (a report that finds it busy is
 * counted but its message is dropped).  Read messages at quiescent points.
 *
 * Every test file defines _GNU_SOURCE before including this header.
 */
#ifndef LAB_TESTS_CHECK_H
#define LAB_TESTS_CHECK_H

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labyrinth.h"

/* ---- assertions ------------------------------------------------------------ */

static inline void check_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
	fprintf(stderr, "  lab_last_error(): \"%s\"\n", lab_last_error());
	fflush(stderr);
	exit(1);
}

static inline void check_fail_u64(const char *file, int line, const char *a,
				  const char *b, uint64_t va, uint64_t vb)
{
	fprintf(stderr,
		"%s:%d: CHECK_EQ failed: %s == %s\n"
		"  left:  %" PRIu64 " (%#" PRIx64 ")\n"
		"  right: %" PRIu64 " (%#" PRIx64 ")\n",
		file, line, a, b, va, va, vb, vb);
	fflush(stderr);
	exit(1);
}

static inline void check_fail_i64(const char *file, int line, const char *a,
				  const char *b, int64_t va, int64_t vb)
{
	fprintf(stderr,
		"%s:%d: CHECK_EQ failed: %s == %s\n"
		"  left:  %" PRId64 "\n"
		"  right: %" PRId64 "\n"
		"  lab_last_error(): \"%s\"\n",
		file, line, a, b, va, vb, lab_last_error());
	fflush(stderr);
	exit(1);
}

#define CHECK(cond)                                            \
	do {                                                   \
		if (!(cond))                                   \
			check_fail(__FILE__, __LINE__, #cond); \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                   \
	do {                                                                 \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b); \
		if (check_a_ != check_b_)                                    \
			check_fail_u64(__FILE__, __LINE__, #a, #b, check_a_, \
				       check_b_);                            \
	} while (0)

/* For return codes and other signed values (-EINVAL prints as -22). */
#define CHECK_EQ_INT(a, b)                                                   \
	do {                                                                 \
		int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);    \
		if (check_a_ != check_b_)                                    \
			check_fail_i64(__FILE__, __LINE__, #a, #b, check_a_, \
				       check_b_);                            \
	} while (0)

/* Runs one test function and says so; a failing CHECK inside exits. */
#define RUN(test)                                           \
	do {                                                \
		uint64_t run_t0_ = now_ns();                \
		test();                                     \
		printf("ok   %s (%.0f ms)\n", #test,        \
		       (double)(now_ns() - run_t0_) / 1e6); \
		fflush(stdout);                             \
	} while (0)

/* ---- report capture ------------------------------------------------------------ */

#define CAP_MSG 320

struct capture {
	atomic_uint count[LAB_REPORT_KIND_COUNT];
	atomic_uint total;
	atomic_flag busy;
	char last[LAB_REPORT_KIND_COUNT][CAP_MSG]; /* last message per kind */
	uint64_t last_pfn[LAB_REPORT_KIND_COUNT];
};

static inline void cap_reset(struct capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	atomic_flag_clear(&cap->busy);
}

/* The lab_report_fn: counts, keeps the message, never aborts. */
static inline void cap_hook(const struct lab_report *r, void *arg)
{
	struct capture *cap = arg;
	unsigned k = (unsigned)r->kind;

	if (k >= LAB_REPORT_KIND_COUNT)
		return;
	if (!atomic_flag_test_and_set_explicit(&cap->busy,
					       memory_order_acquire)) {
		size_t n = strlen(r->message);

		if (n >= CAP_MSG)
			n = CAP_MSG - 1;
		memcpy(cap->last[k], r->message, n);
		cap->last[k][n] = '\0';
		cap->last_pfn[k] = r->pfn;
		atomic_flag_clear_explicit(&cap->busy, memory_order_release);
	}
	atomic_fetch_add(&cap->count[k], 1);
	atomic_fetch_add(&cap->total, 1);
}

static inline unsigned cap_count(struct capture *cap, enum lab_report_kind k)
{
	return atomic_load(&cap->count[k]);
}

static inline unsigned cap_total(struct capture *cap)
{
	return atomic_load(&cap->total);
}

/* The process-wide capture, installed as the global hook by
 * cap_install_global() (for reports without a maze, such as context
 * imbalance and lab_might_sleep()). */
static inline struct capture *cap_install_global(void)
{
	static struct capture store;

	cap_reset(&store);
	lab_set_report_hook(cap_hook, &store);
	return &store;
}

/* ---- mazes ------------------------------------------------------------------ */

/* A config with explicit watermarks, no per-thread cache (pcp_high = 0)
 * so every frame is either free in the bitmaps or allocated, and reports
 * going to cap.  max_order is LAB_MAX_ORDER_DEFAULT; change it after. */
static inline struct lab_maze_config cfg_exact(unsigned w, unsigned h,
					       uint64_t min, uint64_t low,
					       uint64_t high,
					       struct capture *cap)
{
	struct lab_maze_config cfg;

	lab_maze_config_init(&cfg, w, h);
	cfg.wmark_min = min;
	cfg.wmark_low = low;
	cfg.wmark_high = high;
	cfg.pcp_high = 0;
	cfg.pcp_batch = 0;
	cfg.report = cap_hook;
	cfg.report_arg = cap;
	return cfg;
}

static inline struct lab_maze *maze_from(const struct lab_maze_config *cfg)
{
	struct lab_maze *m = NULL;
	int ret = lab_maze_create(cfg, &m);

	if (ret) {
		fprintf(stderr, "lab_maze_create: %d: %s\n", ret,
			lab_last_error());
		exit(1);
	}
	return m;
}

/* The common exact-boundary maze: pcp off, explicit watermarks. */
static inline struct lab_maze *maze_exact(unsigned w, unsigned h, uint64_t min,
					  uint64_t low, uint64_t high,
					  struct capture *cap)
{
	struct lab_maze_config cfg = cfg_exact(w, h, min, low, high, cap);

	return maze_from(&cfg);
}

static inline struct lab_maze_stats stats_of(const struct lab_maze *m)
{
	struct lab_maze_stats s;

	if (lab_maze_stats(m, &s)) {
		fprintf(stderr, "lab_maze_stats: %s\n", lab_last_error());
		exit(1);
	}
	return s;
}

static inline uint64_t free_frames(const struct lab_maze *m)
{
	return stats_of(m).free_frames;
}

/* The descriptor `n` descriptors after pg (struct lab_page is opaque):
 * for building descriptor pointers that are not the maze's. */
static inline struct lab_page *desc_offset(const struct lab_maze *m,
					   struct lab_page *pg, long n)
{
	ptrdiff_t step =
		(char *)lab_pfn_to_page(m, 1) - (char *)lab_pfn_to_page(m, 0);

	return (struct lab_page *)(void *)((char *)pg + n * step);
}

static inline uint64_t pfn_of(const struct lab_maze *m,
			      const struct lab_page *pg)
{
	return lab_page_to_pfn(m, pg);
}

/* ---- time and randomness ------------------------------------------------------ */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000l };

	while (nanosleep(&ts, &ts))
		;
}

/* splitmix64: a small seeded PRNG; one state per thread. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return n ? rng_next(state) % n : 0;
}

/* LAB_TEST_SEED from the environment, else a fresh one; printed so that a
 * failing run can be repeated. */
static inline uint64_t test_seed(const char *test)
{
	const char *env = getenv("LAB_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : now_ns();

	printf("%s: seed %" PRIu64 " (LAB_TEST_SEED=%" PRIu64 " to repeat)\n",
	       test, seed, seed);
	fflush(stdout);
	return seed;
}

#endif /* LAB_TESTS_CHECK_H */
