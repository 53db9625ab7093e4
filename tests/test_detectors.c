/* test_detectors.c - every check of the allocator fires by its own name.
 * labels: mt
 *
 * For each detector of labyrinth/detectors.h one act of misuse that only
 * it catches: the report must name that detector (and its kind), and the
 * detector's counter must move by exactly one, per maze and process-wide,
 * while every other counter stays put.  A detector without an act here
 * makes test_every_detector_has_an_act fail, so a new check cannot be
 * added without proof that it fires.  The last test reports from several
 * threads at once: no firing may be lost.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static struct capture cap;
static atomic_uint last_detector; /* reports come from several threads */

static void det_hook(const struct lab_report *r, void *arg)
{
	atomic_store(&last_detector, r->detector);
	cap_hook(r, arg);
}

static struct lab_maze *det_maze(void)
{
	struct lab_maze_config cfg = cfg_exact(8, 4, 1, 1, 1, &cap);

	cfg.report = det_hook;
	cfg.max_order = 3;
	return maze_from(&cfg);
}

struct env {
	struct lab_maze *m, *other;
	struct lab_ctx *stranger;
};

static void *own(struct env *e, lab_gfp_t gfp, unsigned order)
{
	void *p = lab_get_free_pages(e->m, gfp | LAB_GFP_NOWARN, order);

	CHECK(p != NULL);
	return p;
}

static void give_back(struct env *e, void *p, unsigned order)
{
	CHECK_EQ_INT(lab_free_pages_addr(e->m, p, order), 0);
}

/* Allocates order-0 frames until the one at p comes back (the others are
 * given back); the maze has no cache, so where it comes from is up to the
 * buddy allocator. */
static void take_again(struct env *e, void *p)
{
	void *held[32];
	unsigned n = 0;

	do
		held[n] = own(e, LAB_GFP_ATOMIC, 0);
	while (held[n++] != p && n < 32);
	CHECK(held[n - 1] == p);
	while (--n)
		give_back(e, held[n - 1], 0);
}

/* ---- one act per detector ---------------------------------------------------- */

static void act_poison(struct env *e)
{
	char *p = own(e, LAB_GFP_NOWAIT, 0);

	give_back(e, p, 0);
	p[100] = 1; /* a write to a freed page */
	take_again(e, p);
	give_back(e, p, 0);
}

static void act_double_free(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);

	give_back(e, p, 0);
	CHECK_EQ_INT(lab_free_pages_addr(e->m, p, 0), -EINVAL);
}

static void act_wrong_order(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 1);

	CHECK_EQ_INT(lab_free_pages_addr(e->m, p, 0), -EINVAL);
	give_back(e, p, 1);
}

static void act_tail_frame(struct env *e)
{
	char *p = own(e, LAB_GFP_NOWAIT, 1);

	CHECK_EQ_INT(lab_free_pages_addr(e->m, p + 4096, 0), -EINVAL);
	give_back(e, p, 1);
}

static void act_misaligned(struct env *e)
{
	char *p = own(e, LAB_GFP_NOWAIT, 1);

	CHECK_EQ_INT(lab_free_pages_addr(e->m, p + 4096, 1), -EINVAL);
	give_back(e, p, 1);
}

static void act_foreign_free(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);
	struct lab_ctx *prev = lab_ctx_switch(e->stranger);

	CHECK_EQ_INT(lab_free_pages_addr(e->m, p, 0), -EPERM);
	lab_ctx_switch(prev);
	give_back(e, p, 0);
}

static void act_foreign_access(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);
	struct lab_ctx *prev = lab_ctx_switch(e->stranger);

	CHECK_EQ_INT(lab_access_check(e->m, p, 8), -EPERM);
	lab_ctx_switch(prev);
	give_back(e, p, 0);
}

static void act_handoff_foreign(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);
	struct lab_ctx *prev = lab_ctx_switch(e->stranger);

	CHECK_EQ_INT(lab_page_handoff(e->m, lab_virt_to_page(e->m, p), 0,
				      lab_ctx_task_id(e->stranger)),
		     -EPERM);
	lab_ctx_switch(prev);
	give_back(e, p, 0);
}

static void act_handoff_args(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 1);

	CHECK_EQ_INT(lab_page_handoff(e->m, lab_virt_to_page(e->m, p), 0,
				      lab_ctx_id()),
		     -EINVAL);
	give_back(e, p, 1);
}

static void act_handoff_freed(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);

	give_back(e, p, 0);
	CHECK_EQ_INT(lab_page_handoff(e->m, lab_virt_to_page(e->m, p), 0,
				      lab_ctx_task_id(e->stranger)),
		     -EINVAL);
}

/* The stale acts: another CPU frees and reallocates the block at the
 * yield point just before this call's CAS. */
struct recycle {
	struct env *e;
	enum lab_yield_point at;
	void *p;
	bool fired;
};

static struct recycle rec;

static void recycle_hook(enum lab_yield_point point, void *arg)
{
	(void)arg;
	if (rec.fired || point != rec.at)
		return;
	rec.fired = true;
	give_back(rec.e, rec.p, 0);
	take_again(rec.e, rec.p);
}

static void with_recycle(struct env *e, enum lab_yield_point at, void *p)
{
	struct lab_sched_hooks hooks = { recycle_hook, NULL, NULL };

	rec = (struct recycle){ e, at, p, false };
	lab_set_sched_hooks(&hooks);
}

static void act_stale_free(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);

	with_recycle(e, LAB_YP_FREE_DESC, p);
	CHECK_EQ_INT(lab_free_pages_addr(e->m, p, 0), -EINVAL);
	lab_set_sched_hooks(NULL);
	CHECK(rec.fired);
	give_back(e, p, 0);
}

static void act_stale_handoff(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);

	with_recycle(e, LAB_YP_HANDOFF, p);
	CHECK_EQ_INT(lab_page_handoff(e->m, lab_virt_to_page(e->m, p), 0,
				      lab_ctx_task_id(e->stranger)),
		     -EINVAL);
	lab_set_sched_hooks(NULL);
	CHECK(rec.fired);
	give_back(e, p, 0);
}

static void act_access_free(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);

	give_back(e, p, 0);
	CHECK_EQ_INT(lab_access_check(e->m, p, 8), -EFAULT);
}

static void act_access_overrun(struct env *e)
{
	char *p = own(e, LAB_GFP_NOWAIT, 0);

	CHECK_EQ_INT(lab_access_check(e->m, p + 4000, 200), -EFAULT);
	give_back(e, p, 0);
}

static void act_bad_descriptor(struct env *e)
{
	uint64_t not_a_page[2] = { 0, 0 };

	CHECK_EQ_INT(lab_free_pages(e->m, (struct lab_page *)not_a_page, 0),
		     -EFAULT);
}

static void act_inside_frame(struct env *e)
{
	char *p = own(e, LAB_GFP_NOWAIT, 0);

	CHECK_EQ_INT(lab_free_pages_addr(e->m, p + 8, 0), -EFAULT);
	give_back(e, p, 0);
}

static void act_wrong_maze(struct env *e)
{
	void *q = lab_get_free_pages(e->other, LAB_GFP_NOWAIT, 0);

	CHECK(q != NULL);
	CHECK_EQ_INT(lab_free_pages_addr(e->m, q, 0), -EFAULT);
	CHECK_EQ_INT(lab_free_pages_addr(e->other, q, 0), 0);
}

static void act_out_of_range(struct env *e)
{
	static char outside[64];

	CHECK_EQ_INT(lab_free_pages_addr(e->m, outside, 0), -EFAULT);
}

static void act_might_sleep(struct env *e)
{
	unsigned long flags = lab_local_irq_save();

	CHECK(lab_get_free_pages(e->m, LAB_GFP_KERNEL, 0) == NULL);
	lab_local_irq_restore(flags);
}

static void act_nofail_nonblocking(struct env *e)
{
	CHECK(!lab_get_free_pages(e->m, LAB_GFP_ATOMIC | LAB_GFP_NOFAIL, 0));
}

static void act_nofail_order(struct env *e)
{
	void *p = lab_get_free_pages(e->m, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 2);

	if (p)
		give_back(e, p, 2);
}

static void act_alloc_failure(struct env *e)
{
	lab_maze_fail_next(e->m, 0, 1);
	CHECK(lab_get_free_pages(e->m, LAB_GFP_NOWAIT, 0) == NULL);
}

/* A descriptor scribbled over (as a stray write to struct page would):
 * the whole-maze check must see it; put back, the maze is whole again. */
static void act_maze_check(struct env *e)
{
	void *p = own(e, LAB_GFP_NOWAIT, 0);
	struct lab_page *pg = lab_virt_to_page(e->m, p);
	size_t size = (size_t)((char *)desc_offset(e->m, pg, 1) - (char *)pg);
	unsigned char saved[64];

	CHECK(size <= sizeof(saved));
	memcpy(saved, pg, size);
	memset(pg, 0, size);
	CHECK(lab_maze_check(e->m) > 0);
	memcpy(pg, saved, size);
	give_back(e, p, 0);
}

static void act_context_imbalance(struct env *e)
{
	(void)e;
	lab_preempt_enable(); /* without a disable */
}

typedef void (*act_fn)(struct env *e);

static const act_fn acts[LAB_DET_COUNT] = {
	[LAB_DET_POISON_SCAN] = act_poison,
	[LAB_DET_DOUBLE_FREE] = act_double_free,
	[LAB_DET_WRONG_ORDER_FREE] = act_wrong_order,
	[LAB_DET_TAIL_FRAME_FREE] = act_tail_frame,
	[LAB_DET_MISALIGNED_FREE] = act_misaligned,
	[LAB_DET_FOREIGN_FREE] = act_foreign_free,
	[LAB_DET_FOREIGN_ACCESS] = act_foreign_access,
	[LAB_DET_HANDOFF_FOREIGN] = act_handoff_foreign,
	[LAB_DET_HANDOFF_ARGS] = act_handoff_args,
	[LAB_DET_HANDOFF_FREED] = act_handoff_freed,
	[LAB_DET_STALE_FREE] = act_stale_free,
	[LAB_DET_STALE_HANDOFF] = act_stale_handoff,
	[LAB_DET_ACCESS_FREE] = act_access_free,
	[LAB_DET_ACCESS_OVERRUN] = act_access_overrun,
	[LAB_DET_BAD_DESCRIPTOR] = act_bad_descriptor,
	[LAB_DET_INSIDE_FRAME] = act_inside_frame,
	[LAB_DET_WRONG_MAZE] = act_wrong_maze,
	[LAB_DET_OUT_OF_RANGE] = act_out_of_range,
	[LAB_DET_MIGHT_SLEEP] = act_might_sleep,
	[LAB_DET_NOFAIL_NONBLOCKING] = act_nofail_nonblocking,
	[LAB_DET_NOFAIL_ORDER] = act_nofail_order,
	[LAB_DET_ALLOC_FAILURE] = act_alloc_failure,
	[LAB_DET_MAZE_CHECK] = act_maze_check,
	/* LAB_DET_WATERMARK_DIP: no caller can make GFP_NOWAIT dip below
	 * min; only a broken allocator does (test_watermark_dip_fires). */
	[LAB_DET_CONTEXT_IMBALANCE] = act_context_imbalance,
};

/* Needs poisoning and yield points (not in release builds). */
static bool act_needs_debug(unsigned d)
{
	return d == LAB_DET_POISON_SCAN || d == LAB_DET_STALE_FREE ||
	       d == LAB_DET_STALE_HANDOFF;
}

/* ---- tests -------------------------------------------------------------------- */

/* Only det moved, by n. */
static void check_only_moved(const struct lab_detector_stats *before,
			     const struct lab_detector_stats *after,
			     unsigned det, uint64_t n)
{
	unsigned d;

	for (d = 0; d < LAB_DET_COUNT; d++) {
		uint64_t want = before->fired[d] + (d == det ? n : 0);

		if (after->fired[d] != want) {
			fprintf(stderr, "act for %s moved %s by %" PRId64 "\n",
				lab_detector_name(det), lab_detector_name(d),
				(int64_t)(after->fired[d] - before->fired[d]));
			check_fail(__FILE__, __LINE__, "detector counters");
		}
	}
}

static void test_each_act_fires_its_detector(void)
{
	struct global_before {
		struct lab_detector_stats all, maze;
	} b;
	struct lab_detector_stats all, maze;
	struct capture *global = cap_install_global();
	struct env e = { det_maze(), det_maze(), lab_ctx_create(0, "other") };
	unsigned d;

	CHECK(e.stranger != NULL);
	for (d = 0; d < LAB_DET_COUNT; d++) {
		if (!acts[d] || (act_needs_debug(d) && !LAB_HAVE_YIELD_POINTS))
			continue;
		cap_reset(&cap);
		cap_reset(global);
		atomic_store(&last_detector, LAB_DET_COUNT);
		CHECK_EQ_INT(lab_detector_stats(NULL, &b.all), 0);
		CHECK_EQ_INT(lab_detector_stats(e.m, &b.maze), 0);
		acts[d](&e);
		CHECK_EQ_INT(lab_detector_stats(NULL, &all), 0);
		CHECK_EQ_INT(lab_detector_stats(e.m, &maze), 0);
		if (d == LAB_DET_CONTEXT_IMBALANCE) {
			/* no maze: the process-wide hook and count only */
			check_only_moved(&b.all, &all, d, 1);
			check_only_moved(&b.maze, &maze, d, 0);
			CHECK_EQ_U64(cap_count(global, LAB_REPORT_CONTEXT), 1);
			continue;
		}
		/* the maze check reports every problem it finds (>= 1) */
		CHECK(cap_total(&cap) >= 1);
		if (d != LAB_DET_MAZE_CHECK)
			CHECK_EQ_U64(cap_total(&cap), 1);
		check_only_moved(&b.all, &all, d, cap_total(&cap));
		check_only_moved(&b.maze, &maze, d, cap_total(&cap));
		CHECK_EQ_U64(cap_count(&cap, lab_detector_kind(d)),
			     cap_total(&cap));
		CHECK_EQ_U64(atomic_load(&last_detector), d);
		CHECK_EQ_INT(lab_maze_check(e.m), 0);
	}
	lab_set_report_hook(NULL, NULL);
	lab_ctx_destroy(e.stranger);
	lab_maze_destroy(e.other);
	lab_maze_destroy(e.m);
}

/* Handoff argument errors return -EINVAL without a report, but count. */
static void test_handoff_args_count_without_report(void)
{
	struct env e = { det_maze(), NULL, NULL };
	struct lab_detector_stats b, a;
	void *p = own(&e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);

	cap_reset(&cap);
	lab_detector_stats(e.m, &b);
	CHECK_EQ_INT(lab_page_handoff(e.m, lab_virt_to_page(e.m, p), 0, 0),
		     -EINVAL);
	CHECK_EQ_INT(lab_page_handoff(e.m, NULL, 0, 7), -EINVAL);
	lab_detector_stats(e.m, &a);
	CHECK_EQ_U64(a.fired[LAB_DET_HANDOFF_ARGS] -
			     b.fired[LAB_DET_HANDOFF_ARGS],
		     2);
	CHECK_EQ_U64(cap_total(&cap), 0);
	give_back(&e, p, 0);
	lab_maze_destroy(e.m);
}

/* The one detector no caller can provoke: a seeded bug shows it fires. */
static void test_watermark_dip_fires(void)
{
	struct lab_maze_config cfg = cfg_exact(4, 4, 4, 4, 4, &cap);
	struct lab_detector_stats b, a;
	struct lab_maze *m;
	void *held[16];
	unsigned n = 0;

	if (lab_bug_select("nowait-below-min")) {
		printf("skip: no seeded bugs in this build\n");
		return;
	}
	cfg.report = det_hook;
	m = maze_from(&cfg);
	while (n < 16 && (held[n] = lab_get_free_pages(
				  m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0)))
		n++;
	lab_bug_select("none");
	CHECK(n > 12); /* below min = 4 */
	while (n)
		CHECK_EQ_INT(lab_free_pages_addr(m, held[--n], 0), 0);
	cap_reset(&cap);
	lab_detector_stats(m, &b);
	CHECK_EQ_INT(lab_maze_check(m), 1);
	lab_detector_stats(m, &a);
	CHECK_EQ_U64(a.fired[LAB_DET_WATERMARK_DIP] -
			     b.fired[LAB_DET_WATERMARK_DIP],
		     1);
	CHECK_EQ_U64(atomic_load(&last_detector), LAB_DET_WATERMARK_DIP);
	lab_maze_destroy(m);
}

static void test_every_detector_has_an_act(void)
{
	unsigned d, e;

	for (d = 0; d < LAB_DET_COUNT; d++) {
		const char *name = lab_detector_name(d);

		CHECK(acts[d] || d == LAB_DET_WATERMARK_DIP);
		CHECK(name && strcmp(name, "?"));
		CHECK(lab_detector_find(name) == d);
		CHECK(lab_detector_kind(d) < LAB_REPORT_KIND_COUNT);
		for (e = 0; e < d; e++)
			CHECK(strcmp(name, lab_detector_name(e)));
	}
	CHECK(!strcmp(lab_detector_name(LAB_DET_COUNT), "?"));
	CHECK(lab_detector_find("no-such-detector") == LAB_DET_COUNT);
	CHECK_EQ_INT(lab_detector_stats(NULL, NULL), -EINVAL);
}

/* ---- several threads report at once ------------------------------------------- */

#define RACERS 4
#define RACE_REPORTS 2000

static void *racer(void *arg)
{
	struct lab_maze *m = arg;
	unsigned i;

	for (i = 0; i < RACE_REPORTS; i++)
		lab_free_pages_addr(m, &i, 0); /* out-of-range */
	return NULL;
}

static void test_counts_exact_under_threads(void)
{
	struct lab_maze *m = det_maze();
	struct lab_detector_stats b, a;
	pthread_t t[RACERS];
	unsigned i;

	lab_detector_stats(m, &b);
	for (i = 0; i < RACERS; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, racer, m), 0);
	for (i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	lab_detector_stats(m, &a);
	CHECK_EQ_U64(a.fired[LAB_DET_OUT_OF_RANGE] -
			     b.fired[LAB_DET_OUT_OF_RANGE],
		     RACERS * RACE_REPORTS);
	lab_maze_destroy(m);
}

int main(void)
{
	RUN(test_every_detector_has_an_act);
	RUN(test_each_act_fires_its_detector);
	RUN(test_handoff_args_count_without_report);
	RUN(test_watermark_dip_fires);
	RUN(test_counts_exact_under_threads);
	return 0;
}
