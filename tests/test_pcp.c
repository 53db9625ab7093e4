/* test_pcp.c - the per-thread page cache (the kernel's pcp lists).
 *
 * Rules (pcp.c, maze.h): while the maze is above its high watermark,
 * small-order (0..3) frees go to the freeing context's cache (bounded by
 * pcp_high frames) and small allocations come from it; cached frames
 * count as allocated.
 * Under pressure (free below high) frees go straight to the bitmaps and an
 * allocation that misses the low watermark drains the caller's cache
 * first, so the watermark rule stays frame-exact.  lab_maze_drain_local
 * and thread exit give cached frames back.  An interrupt that arrives
 * while its context is inside the cache section leaves the cache alone.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

#define FRAMES 1024
#define MIN 64
#define LOW 80
#define HIGH 96
#define PCP_HIGH 16
#define PCP_BATCH 8

static struct capture cap;

static struct lab_maze *maze_pcp(void)
{
	struct lab_maze_config cfg = cfg_exact(32, 32, MIN, LOW, HIGH, &cap);

	cfg.pcp_high = PCP_HIGH;
	cfg.pcp_batch = PCP_BATCH;
	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 5;
	return maze_from(&cfg);
}

static uint64_t cached(const struct lab_maze *m)
{
	return stats_of(m).cached_frames;
}

/* Frames are conserved: free + cached + allocated == frames. */
static void check_conserved(const struct lab_maze *m, uint64_t allocated)
{
	struct lab_maze_stats s = stats_of(m);

	CHECK_EQ_U64(s.free_frames + s.cached_frames + allocated, s.frames);
}

/* Above high, an order-0 free goes to the cache, repeated alloc/free
 * pairs are served by it (the bitmaps' free count does not move), and the
 * cache never holds more than pcp_high. */
static void test_frees_go_to_cache(void)
{
	struct lab_maze *m = maze_pcp();
	struct lab_page *pg[40];
	uint64_t f;
	unsigned i;

	pg[0] = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	CHECK_EQ_INT(lab_free_pages(m, pg[0], 0), 0);
	CHECK(cached(m) > 0);
	check_conserved(m, 0);
	f = free_frames(m);
	CHECK(f < FRAMES);
	for (i = 0; i < 100; i++) {
		pg[0] = lab_alloc_pages(
			m, i % 2 ? LAB_GFP_ATOMIC : LAB_GFP_KERNEL, 0);
		CHECK(pg[0] != NULL);
		CHECK_EQ_INT(lab_free_pages(m, pg[0], 0), 0);
		CHECK_EQ_U64(free_frames(m), f);
	}
	for (i = 0; i < 40; i++)
		CHECK((pg[i] = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0)));
	for (i = 0; i < 40; i++) {
		CHECK_EQ_INT(lab_free_pages(m, pg[i], 0), 0);
		CHECK(cached(m) <= PCP_HIGH);
		check_conserved(m, 39 - i);
	}
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Under pressure the watermark rule is exact despite the cache: NOWAIT
 * gets exactly frames - min, ATOMIC exactly frames - 37.5% of min, and
 * nothing stays cached; below high, frees bypass the cache. */
static void test_pressure_is_exact(void)
{
	static struct lab_page *pg[FRAMES];
	struct lab_maze *m = maze_pcp();
	unsigned n = 0, i;

	while ((pg[n] = lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0)))
		n++;
	CHECK_EQ_U64(n, FRAMES - MIN);
	CHECK_EQ_U64(free_frames(m), MIN);
	CHECK_EQ_U64(cached(m), 0);
	while ((pg[n] = lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0)))
		n++;
	CHECK_EQ_U64(n, FRAMES - 24);
	CHECK_EQ_INT(lab_free_pages(m, pg[--n], 0), 0);
	CHECK_EQ_U64(free_frames(m), 25);
	CHECK_EQ_U64(cached(m), 0);
	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(lab_free_pages(m, pg[i], 0), 0);
		check_conserved(m, n - 1 - i);
		CHECK(cached(m) <= PCP_HIGH);
	}
	CHECK(cached(m) > 0); /* the last frees were above high again */
	lab_maze_drain_local(m);
	CHECK_EQ_U64(cached(m), 0);
	CHECK_EQ_U64(free_frames(m), FRAMES);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* An allocation that misses the low watermark drains the caller's cache
 * before it checks min. */
static void test_low_miss_drains_cache(void)
{
	struct lab_maze *m = maze_pcp();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	uint64_t c;

	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	c = cached(m);
	CHECK(c > 0);
	/* Order-4 blocks are never cached; then order 0 below high (the
	 * cache is not used there) down to exactly low. */
	while (free_frames(m) - 16 >= LOW)
		CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT, 4));
	while (free_frames(m) - 1 >= LOW)
		CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT, 0));
	CHECK_EQ_U64(free_frames(m), LOW);
	CHECK_EQ_U64(cached(m), c);
	pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	CHECK(pg != NULL);
	CHECK_EQ_U64(cached(m), 0);
	CHECK_EQ_U64(free_frames(m), LOW + c - 1);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Fills with order-`order` blocks of gfp; returns how many. */
static unsigned fill_order(struct lab_maze *m, lab_gfp_t gfp, unsigned order,
			   struct lab_page **pg, unsigned *orders, unsigned n)
{
	while ((pg[n] = lab_alloc_pages(m, gfp | LAB_GFP_NOWARN, order)))
		orders[n++] = order;
	return n;
}

/* The cache serves orders 1..3 too (up to PAGE_ALLOC_COSTLY_ORDER); with
 * blocks of several orders cached beforehand, the watermark rule is still
 * exact for each of them. */
static void test_pressure_exact_small_orders(void)
{
	static struct lab_page *pg[FRAMES];
	static unsigned orders[FRAMES];
	struct lab_maze *m = maze_pcp();
	unsigned k, n = 0, i;

	for (k = 0; k <= 3; k++) { /* warm the cache: one block each */
		struct lab_page *p = lab_alloc_pages(m, LAB_GFP_NOWAIT, k);

		CHECK(p != NULL);
		CHECK_EQ_INT(lab_free_pages(m, p, k), 0);
	}
	CHECK(cached(m) > 0);
	n = fill_order(m, LAB_GFP_NOWAIT, 2, pg, orders, n);
	CHECK_EQ_U64(n, (FRAMES - MIN) / 4);
	CHECK_EQ_U64(free_frames(m), MIN);
	CHECK_EQ_U64(cached(m), 0);
	n = fill_order(m, LAB_GFP_ATOMIC, 3, pg, orders, n);
	CHECK_EQ_U64(free_frames(m), 24); /* 64 - 5 * 8 */
	n = fill_order(m, LAB_GFP_ATOMIC, 1, pg, orders, n);
	CHECK_EQ_U64(free_frames(m), 24);
	CHECK_EQ_U64(n, (FRAMES - MIN) / 4 + 5);
	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(lab_free_pages(m, pg[i], orders[i]), 0);
		CHECK(cached(m) <= PCP_HIGH);
	}
	lab_maze_drain_local(m);
	CHECK_EQ_U64(free_frames(m), FRAMES);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* lab_maze_drain_local returns the calling thread's cached frames. */
static void test_drain_local(void)
{
	struct lab_maze *m = maze_pcp();
	struct lab_page *pg[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		pg[i] = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	for (i = 0; i < 8; i++)
		CHECK_EQ_INT(lab_free_pages(m, pg[i], 0), 0);
	CHECK(cached(m) > 0);
	CHECK(free_frames(m) < FRAMES);
	lab_maze_drain_local(m);
	CHECK_EQ_U64(cached(m), 0);
	CHECK_EQ_U64(free_frames(m), FRAMES);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

struct exiter {
	struct lab_maze *m;
	atomic_int phase; /* 1: cache filled, 2: may exit */
};

static void *exiter_thread(void *arg)
{
	struct exiter *e = arg;
	struct lab_page *pg[12];
	unsigned i;

	for (i = 0; i < 12; i++)
		CHECK((pg[i] = lab_alloc_pages(e->m, LAB_GFP_KERNEL, 0)));
	for (i = 0; i < 12; i++)
		CHECK_EQ_INT(lab_free_pages(e->m, pg[i], 0), 0);
	atomic_store(&e->phase, 1);
	while (atomic_load(&e->phase) != 2)
		sched_yield();
	return NULL;
}

/* A thread that exits gives its cached frames back. */
static void test_thread_exit_returns_cache(void)
{
	struct exiter e = { maze_pcp(), 0 };
	pthread_t t;

	CHECK(pthread_create(&t, NULL, exiter_thread, &e) == 0);
	while (atomic_load(&e.phase) != 1)
		sched_yield();
	CHECK(cached(e.m) > 0);
	CHECK(free_frames(e.m) < FRAMES);
	atomic_store(&e.phase, 2);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_EQ_U64(cached(e.m), 0);
	CHECK_EQ_U64(free_frames(e.m), FRAMES);
	CHECK_EQ_INT(lab_maze_check(e.m), 0);
	lab_maze_destroy(e.m);
}

/* ---- interrupts inside the cache section ---------------------------------------- */

struct irq_probe {
	struct lab_maze *m;
	bool armed;
	unsigned runs, allocs, cache_touched;
};

#if LAB_HAVE_YIELD_POINTS
/* The ISR: GFP_ATOMIC order-0 alloc and free; the cache it interrupted
 * must not change under it. */
static void isr_cache_probe(void *arg)
{
	struct irq_probe *p = arg;
	uint64_t before = cached(p->m);
	struct lab_page *pg = lab_alloc_pages(p->m, LAB_GFP_ATOMIC, 0);

	p->runs++;
	if (pg)
		p->allocs++;
	if (cached(p->m) != before)
		p->cache_touched++;
	if (pg && lab_free_pages(p->m, pg, 0) == 0 && cached(p->m) != before)
		p->cache_touched++;
}

/* At the cache section's yield point, in process context, raise an
 * interrupt (once per arming). */
static void yield_raise_irq(enum lab_yield_point point, void *arg)
{
	struct irq_probe *p = arg;

	if (point != LAB_YP_PCP_ENTER || !p->armed || lab_in_irq())
		return;
	p->armed = false;
	lab_irq_raise(isr_cache_probe, p);
}
#endif

static void test_irq_inside_cache_section(void)
{
#if LAB_HAVE_YIELD_POINTS
	struct irq_probe p = { maze_pcp(), false, 0, 0, 0 };
	struct lab_sched_hooks hooks = { yield_raise_irq, NULL, &p };
	struct lab_maze_stats s;
	struct lab_page *pg[20];
	unsigned i, c, successes = 0;

	lab_set_sched_hooks(&hooks);
	for (i = 0; i < 20; i++) { /* interrupts inside allocations */
		p.armed = true;
		CHECK((pg[i] = lab_alloc_pages(p.m, LAB_GFP_NOWAIT, 0)));
	}
	for (i = 0; i < 20; i++) { /* and inside frees */
		p.armed = true;
		CHECK_EQ_INT(lab_free_pages(p.m, pg[i], 0), 0);
	}
	lab_set_sched_hooks(NULL);
	CHECK(p.runs >= 30);
	CHECK_EQ_U64(p.allocs, p.runs);
	CHECK_EQ_U64(p.cache_touched, 0);
	CHECK_EQ_INT(lab_maze_check(p.m), 0);
	s = stats_of(p.m);
	for (c = 0; c < LAB_CLASS_COUNT; c++)
		successes += s.cls[c].successes;
	CHECK_EQ_U64(successes, s.frees);
	lab_maze_drain_local(p.m);
	CHECK_EQ_U64(free_frames(p.m), FRAMES);
	lab_maze_destroy(p.m);
#else
	printf("skip test_irq_inside_cache_section: no yield points\n");
#endif
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_frees_go_to_cache);
	RUN(test_pressure_is_exact);
	RUN(test_low_miss_drains_cache);
	RUN(test_pressure_exact_small_orders);
	RUN(test_drain_local);
	RUN(test_thread_exit_returns_cache);
	RUN(test_irq_inside_cache_section);
	return 0;
}
