/* labels: mt
 *
 * test_kernel_wait.c - GFP_KERNEL reclaims, waits for frees, then fails.
 *
 * Rules (maze.h, alloc.c): on a maze at its min watermark a GFP_KERNEL
 * allocation calls the reclaim callback, waits for a free (up to
 * wait_timeout_ms per round, reclaim_rounds rounds), asks the OOM hook
 * once after the rounds, and then fails; a free from another thread wakes
 * it; NOFAIL keeps waiting past the rounds.  Timing bounds are loose on
 * the upper side (a loaded machine), exact on the lower side.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

#define MS 1000000ull

static struct capture cap;

struct held {
	struct lab_page *pg[256];
	unsigned n;
};

/* 16x16 frames, min 16, no cache; filled with NOWAIT down to min, the
 * frames kept in h. */
static struct lab_maze *maze_full(unsigned rounds, unsigned timeout_ms,
				  struct held *h, lab_reclaim_fn reclaim,
				  lab_oom_fn oom, void *arg)
{
	struct lab_maze_config cfg = cfg_exact(16, 16, 16, 20, 24, &cap);
	struct lab_maze *m;
	struct lab_page *pg;

	cfg.reclaim_rounds = rounds;
	cfg.wait_timeout_ms = timeout_ms;
	cfg.reclaim = reclaim;
	cfg.reclaim_arg = arg;
	cfg.oom = oom;
	cfg.oom_arg = arg;
	m = maze_from(&cfg);
	h->n = 0;
	while ((pg = lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0)))
		h->pg[h->n++] = pg;
	CHECK_EQ_U64(h->n, 256 - 16);
	return m;
}

static void release_held(struct lab_maze *m, struct held *h)
{
	while (h->n)
		CHECK_EQ_INT(lab_free_pages(m, h->pg[--h->n], 0), 0);
}

struct freer {
	struct lab_maze *m;
	struct lab_page *pg;
	unsigned delay_ms;
	uint64_t freed_at;
	atomic_bool go, freed;
};

/* Frees one frame delay_ms after the allocating thread says it is about
 * to call the allocator (so a slow thread start cannot let the free
 * happen before the allocation even began). */
static void *freer_thread(void *arg)
{
	struct freer *f = arg;

	while (!atomic_load(&f->go))
		sched_yield();
	sleep_ms(f->delay_ms);
	f->freed_at = now_ns();
	atomic_store(&f->freed, true);
	CHECK_EQ_INT(lab_free_pages(f->m, f->pg, 0), 0);
	return NULL;
}

/* Runs a KERNEL allocation (gfp) while another thread frees one held
 * frame delay_ms after the call starts; returns the allocation's duration
 * in ns, which is at least delay_ms if it succeeded. */
static uint64_t alloc_while_freeing(struct lab_maze *m, struct held *h,
				    lab_gfp_t gfp, unsigned delay_ms,
				    struct lab_page **out)
{
	struct freer f = { m, h->pg[--h->n], delay_ms, 0, false, false };
	uint64_t t0, t1;
	pthread_t t;

	CHECK(pthread_create(&t, NULL, freer_thread, &f) == 0);
	t0 = now_ns();
	atomic_store(&f.go, true);
	*out = lab_alloc_pages(m, gfp, 0);
	t1 = now_ns();
	/* It cannot have succeeded before the free. */
	CHECK(*out == NULL || atomic_load(&f.freed));
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(*out == NULL || t1 >= f.freed_at);
	return t1 - t0;
}

/* Blocked GFP_KERNEL is woken by a free from another thread (rounds 2,
 * 1 s waits, free after 30 ms).  The waits are long so that a loaded
 * machine that runs the freer late cannot time the allocation out. */
static void test_woken_by_free(void)
{
	struct held h;
	struct lab_maze *m = maze_full(2, 1000, &h, NULL, NULL, NULL);
	struct lab_page *pg;
	uint64_t dt = alloc_while_freeing(m, &h, LAB_GFP_KERNEL, 30, &pg);

	CHECK(pg != NULL);
	CHECK(dt >= 30 * MS);
	CHECK(stats_of(m).cls[LAB_CLASS_KERNEL].waits >= 1);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_KERNEL].successes, 1);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	release_held(m, &h);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* The wake is what ends the wait, not the timeout: with 3 s waits the
 * allocation returns long before a timeout could have ended it. */
static void test_wake_not_timeout(void)
{
	struct held h;
	struct lab_maze *m = maze_full(2, 3000, &h, NULL, NULL, NULL);
	struct lab_page *pg;
	uint64_t dt = alloc_while_freeing(m, &h, LAB_GFP_KERNEL, 50, &pg);

	CHECK(pg != NULL);
	CHECK(dt >= 50 * MS);
	CHECK(dt < 2500 * MS);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	release_held(m, &h);
	lab_maze_destroy(m);
}

/* Nobody frees: it fails after about rounds * timeout, having waited
 * every round. */
static void test_fails_after_rounds(void)
{
	struct held h;
	struct lab_maze *m = maze_full(2, 50, &h, NULL, NULL, NULL);
	unsigned reports = cap_count(&cap, LAB_REPORT_ALLOC_FAILURE);
	struct lab_maze_stats s;
	uint64_t t0 = now_ns(), dt;

	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL, 0) == NULL);
	dt = now_ns() - t0;
	s = stats_of(m);
	CHECK(dt >= 80 * MS); /* 0.8 * 2 * 50 ms */
	CHECK(dt < 5000 * MS);
	CHECK(s.cls[LAB_CLASS_KERNEL].waits >= 2);
	CHECK(s.cls[LAB_CLASS_KERNEL].wait_ns_total >= 80 * MS);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].failures, 1);
	CHECK_EQ_U64(s.free_frames, 16);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_ALLOC_FAILURE), reports + 1);
	release_held(m, &h);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

struct reclaimer {
	struct lab_maze *m;
	struct held *h;
	unsigned calls, oom_calls, oom_order;
	unsigned long target;
	uint64_t waits_at_oom;
	int oom_frees; /* frames the OOM hook releases */
};

/* Frees `target` held frames (at least one). */
static unsigned long reclaim_held(struct lab_maze *m, unsigned long target,
				  void *arg)
{
	struct reclaimer *r = arg;
	unsigned long done = 0;

	r->calls++;
	r->target = target;
	while (done < target && r->h->n) {
		CHECK_EQ_INT(lab_free_pages(m, r->h->pg[--r->h->n], 0), 0);
		done++;
	}
	return done;
}

/* The reclaim callback is called, and its frees satisfy the allocation
 * without any wait. */
static void test_reclaim_satisfies(void)
{
	struct held h;
	struct reclaimer r = { 0 };
	struct lab_maze *m = maze_full(2, 3000, &h, reclaim_held, NULL, &r);
	struct lab_maze_stats s;
	struct lab_page *pg;
	uint64_t t0;

	r.m = m, r.h = &h;
	t0 = now_ns();
	pg = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);
	CHECK(pg != NULL);
	CHECK(now_ns() - t0 < 2000 * MS);
	CHECK(r.calls >= 1);
	CHECK(r.target >= 1);
	s = stats_of(m);
	CHECK(s.cls[LAB_CLASS_KERNEL].reclaims >= 1);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].waits, 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	release_held(m, &h);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

static int oom_hook(struct lab_maze *m, unsigned order, void *arg)
{
	struct reclaimer *r = arg;
	int i;

	r->oom_calls++;
	r->oom_order = order;
	r->waits_at_oom = stats_of(m).cls[LAB_CLASS_KERNEL].waits;
	for (i = 0; i < r->oom_frees && r->h->n; i++)
		CHECK_EQ_INT(lab_free_pages(m, r->h->pg[--r->h->n], 0), 0);
	return r->oom_frees > 0;
}

/* The OOM hook runs once, after the rounds failed; if it releases memory
 * one more attempt succeeds, otherwise the allocation fails. */
static void test_oom_hook(void)
{
	struct held h;
	struct reclaimer r = { 0 };
	struct lab_maze *m = maze_full(2, 20, &h, NULL, oom_hook, &r);
	struct lab_page *pg;

	r.m = m, r.h = &h;
	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_NOWARN, 1) == NULL);
	CHECK_EQ_U64(r.oom_calls, 1);
	CHECK_EQ_U64(r.oom_order, 1);
	CHECK(r.waits_at_oom >= 2);
	r.oom_calls = 0;
	r.oom_frees = 1;
	pg = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);
	CHECK(pg != NULL);
	CHECK_EQ_U64(r.oom_calls, 1);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	release_held(m, &h);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* NOFAIL keeps waiting past reclaim_rounds * timeout (100 ms) until the
 * free that comes after 200 ms. */
static void test_nofail_waits_for_free(void)
{
	struct held h;
	struct lab_maze *m = maze_full(2, 50, &h, NULL, NULL, NULL);
	struct lab_page *pg;
	uint64_t dt = alloc_while_freeing(
		m, &h, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 200, &pg);

	CHECK(pg != NULL);
	CHECK(dt >= 200 * MS);
	CHECK(stats_of(m).cls[LAB_CLASS_KERNEL].waits >= 3);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_KERNEL].failures, 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	release_held(m, &h);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_woken_by_free);
	RUN(test_wake_not_timeout);
	RUN(test_fails_after_rounds);
	RUN(test_reclaim_satisfies);
	RUN(test_oom_hook);
	RUN(test_nofail_waits_for_free);
	return 0;
}
