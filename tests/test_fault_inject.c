/* test_fault_inject.c - lab_maze_fail_next makes exactly the planned
 * allocations fail.
 *
 * Rule (maze.h): after `skip` more allocations pass the injection point,
 * the next `count` fail (counted per class in `injected`, reported like
 * any failure unless NOWARN); NOFAIL allocations are exempt; count 0
 * switches injection off.  Injected failures do not wait or reclaim, and
 * also hit allocations that the per-thread cache could have served.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static struct capture cap;

static struct lab_maze *maze_fi(bool pcp)
{
	struct lab_maze_config cfg = cfg_exact(32, 32, 64, 80, 96, &cap);

	if (pcp) {
		cfg.pcp_high = 32;
		cfg.pcp_batch = 8;
	}
	return maze_from(&cfg);
}

/* Allocates n times with gfp; returns a bit per attempt, 1 = success. */
static uint64_t pattern(struct lab_maze *m, lab_gfp_t gfp, unsigned n)
{
	uint64_t bits = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		if (lab_alloc_pages(m, gfp, i % 2))
			bits |= (uint64_t)1 << i;
	return bits;
}

/* skip 3, count 2: attempts 4 and 5 fail, the rest succeed. */
static void test_skip_then_count(void)
{
	struct lab_maze *m = maze_fi(false);
	unsigned reports = cap_count(&cap, LAB_REPORT_ALLOC_FAILURE);
	struct lab_maze_stats s;

	lab_maze_fail_next(m, 3, 2);
	CHECK_EQ_U64(pattern(m, LAB_GFP_NOWAIT, 10), 0x3e7); /* 11 1110 0111 */
	s = stats_of(m);
	CHECK_EQ_U64(s.cls[LAB_CLASS_NOWAIT].injected, 2);
	CHECK_EQ_U64(s.cls[LAB_CLASS_NOWAIT].failures, 2);
	CHECK_EQ_U64(s.cls[LAB_CLASS_NOWAIT].successes, 8);
	CHECK_EQ_U64(s.free_frames, 1024 - (4 * 1 + 4 * 2));
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_ALLOC_FAILURE), reports + 2);
	/* The plan is used up. */
	CHECK_EQ_U64(pattern(m, LAB_GFP_NOWAIT, 10), 0x3ff);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Each class gets injected failures; GFP_KERNEL's come back at once,
 * without reclaim rounds or waits. */
static void test_every_class(void)
{
	struct lab_maze *m = maze_fi(false);
	struct lab_maze_stats s;
	uint64_t t0;

	lab_maze_fail_next(m, 0, 1);
	CHECK(!lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0));
	lab_maze_fail_next(m, 1, 1);
	CHECK(lab_alloc_pages(m, LAB_GFP_ATOMIC, 2));
	CHECK(!lab_get_free_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 2));
	lab_maze_fail_next(m, 0, 1);
	t0 = now_ns();
	CHECK(!lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_NOWARN, 0));
	CHECK(now_ns() - t0 < 1000000000ull); /* 16 rounds would be 1.6 s */
	s = stats_of(m);
	CHECK_EQ_U64(s.cls[LAB_CLASS_ATOMIC].injected, 1);
	CHECK_EQ_U64(s.cls[LAB_CLASS_NOWAIT].injected, 1);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].injected, 1);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].waits, 0);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].reclaims, 0);
	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL, 0));
	lab_maze_destroy(m);
}

/* NOFAIL allocations are exempt and are not counted as injected. */
static void test_nofail_exempt(void)
{
	struct lab_maze *m = maze_fi(false);

	lab_maze_fail_next(m, 0, 3);
	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 0));
	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 1));
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_KERNEL].injected, 0);
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0));
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_NOWAIT].injected, 1);
	lab_maze_fail_next(m, 0, 0);
	lab_maze_destroy(m);
}

/* count 0 switches a pending plan off. */
static void test_count_zero_switches_off(void)
{
	struct lab_maze *m = maze_fi(false);

	lab_maze_fail_next(m, 0, 5);
	lab_maze_fail_next(m, 0, 0);
	CHECK_EQ_U64(pattern(m, LAB_GFP_NOWAIT, 8), 0xff);
	lab_maze_fail_next(m, 2, 1000);
	CHECK_EQ_U64(pattern(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 8), 0x03);
	lab_maze_fail_next(m, 0, 0);
	CHECK_EQ_U64(pattern(m, LAB_GFP_NOWAIT, 8), 0xff);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_NOWAIT].injected, 6);
	lab_maze_destroy(m);
}

/* Injection comes before the per-thread cache: a warm cache does not
 * hide it. */
static void test_injection_beats_cache(void)
{
	struct lab_maze *m = maze_fi(true);
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);

	CHECK(pg != NULL);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	CHECK(stats_of(m).cached_frames > 0);
	lab_maze_fail_next(m, 0, 1);
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0));
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_NOWAIT].injected, 1);
	pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	CHECK(pg != NULL);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	lab_maze_drain_local(m);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

struct isr_job {
	struct lab_maze *m;
	struct lab_page *pg;
};

static void isr_alloc_once(void *arg)
{
	struct isr_job *job = arg;

	job->pg = lab_alloc_pages(job->m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);
}

/* Injection works in interrupt context too. */
static void test_injection_in_irq(void)
{
	struct lab_maze *m = maze_fi(true);
	struct isr_job job = { m, NULL };

	lab_maze_fail_next(m, 0, 1);
	CHECK(lab_irq_raise(isr_alloc_once, &job));
	CHECK(job.pg == NULL);
	CHECK(lab_irq_raise(isr_alloc_once, &job));
	CHECK(job.pg != NULL);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_ATOMIC].injected, 1);
	CHECK_EQ_INT(lab_free_pages(m, job.pg, 0), 0);
	lab_maze_destroy(m);
}

#define PER_THREAD 300

struct fi_thread {
	struct lab_maze *m;
	unsigned failed;
};

static void *fi_worker(void *arg)
{
	struct fi_thread *t = arg;
	struct lab_page *pg;
	unsigned i;

	for (i = 0; i < PER_THREAD; i++) {
		pg = lab_alloc_pages(t->m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0);
		if (!pg)
			t->failed++;
		else
			CHECK_EQ_INT(lab_free_pages(t->m, pg, 0), 0);
	}
	return NULL;
}

/* With two threads racing through the injection point, exactly `count`
 * allocations fail. */
static void test_exact_under_threads(void)
{
	struct lab_maze *m = maze_fi(true);
	struct fi_thread t[2] = { { m, 0 }, { m, 0 } };
	pthread_t id[2];
	unsigned i;

	lab_maze_fail_next(m, 50, 123);
	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&id[i], NULL, fi_worker, &t[i]) == 0);
	for (i = 0; i < 2; i++)
		CHECK(pthread_join(id[i], NULL) == 0);
	CHECK_EQ_U64(t[0].failed + t[1].failed, 123);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_NOWAIT].injected, 123);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_skip_then_count);
	RUN(test_every_class);
	RUN(test_nofail_exempt);
	RUN(test_count_zero_switches_off);
	RUN(test_injection_beats_cache);
	RUN(test_injection_in_irq);
	RUN(test_exact_under_threads);
	return 0;
}
