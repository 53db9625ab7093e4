/* test_nonblock_bound.c - GFP_ATOMIC and GFP_NOWAIT never spin unboundedly.
 *
 * Two loops of an allocation retry when another context changes a shared
 * word between the read and the CAS: the reservation on the free count
 * (alloc:wmark-reserve) and the claim of a bit in a bitmap word
 * (buddy:claim).  Here an interrupt does it at every one of those yield
 * points, deterministically: it allocates a frame, or frees the one it
 * took, so the word the interrupted CAS expects has always changed.  A
 * loop without a bound would retry as long as the interrupts go on; the
 * hook stops interfering after LAB_STORM interrupts so that such a build
 * still ends and the check below reports how far it went.
 *
 * Contract checked: one non-blocking allocation passes the yield point at
 * most a bounded number of times (a few attempts, each within its retry
 * bound: alloc.c _lab_probe_init), counts its retries and the attempts
 * that gave up in the statistics, and the maze stays whole.
 */
#define _GNU_SOURCE
#include "check.h"

#define LAB_STORM 20000 /* interrupts before the hook gives up */
/* Attempts one allocation makes (fast, slow), each within its bound. */
#define LAB_ATTEMPTS 2
#define LAB_ATOMIC_BUDGET 64
#define LAB_NOWAIT_RETRIES 64

struct storm {
	struct lab_maze *m;
	enum lab_yield_point point;
	bool armed;
	unsigned hits; /* the point reached in process context */
	unsigned irqs;
	struct lab_page *held; /* what the interrupt took */
};

/* The interrupt: changes the free count and a bitmap word each time. */
static void storm_isr(void *arg)
{
	struct storm *s = arg;

	if (s->held) {
		CHECK_EQ_INT(lab_free_pages(s->m, s->held, 0), 0);
		s->held = NULL;
	} else {
		s->held = lab_alloc_pages(s->m, LAB_GFP_ATOMIC, 0);
	}
	s->irqs++;
}

static void storm_yield(enum lab_yield_point point, void *arg)
{
	struct storm *s = arg;

	if (!s->armed || point != s->point || lab_in_irq())
		return;
	s->hits++;
	if (s->irqs < LAB_STORM)
		lab_irq_raise(storm_isr, s);
}

#define FRAMES 256

/* Every odd frame allocated: the order-0 bitmap words hold many free
 * bits that cannot merge, so a claim whose CAS fails always finds another
 * bit to try (the loop ends only at its bound).  The last frame stays
 * (the min mark of 1). */
static unsigned fragment(struct lab_maze *m, struct lab_page **odd)
{
	struct lab_page *pg[FRAMES];
	unsigned i, n = 0;

	for (i = 0; i < FRAMES - 1; i++)
		CHECK((pg[i] = lab_alloc_pages(m, LAB_GFP_KERNEL, 0)));
	pg[FRAMES - 1] = NULL;
	for (i = 0; i < FRAMES - 1; i++) {
		if (lab_page_to_pfn(m, pg[i]) & 1)
			odd[n++] = pg[i];
		else
			CHECK_EQ_INT(lab_free_pages(m, pg[i], 0), 0);
	}
	return n;
}

/* One allocation of `gfp` under an interrupt storm at `point`; returns how
 * often the allocation reached the point. */
static unsigned storm_alloc(enum lab_yield_point point, lab_gfp_t gfp,
			    struct lab_maze_stats *st)
{
	static struct capture cap;
	struct storm s = { .point = point };
	struct lab_sched_hooks hooks = { storm_yield, NULL, &s };
	struct lab_page *pg, *odd[FRAMES / 2];
	unsigned i, nodd;

	cap_reset(&cap);
	s.m = maze_exact(16, 16, 1, 1, 1, &cap);
	nodd = fragment(s.m, odd);
	lab_set_sched_hooks(&hooks);
	s.armed = true;
	pg = lab_alloc_pages(s.m, gfp | LAB_GFP_NOWARN, 0);
	s.armed = false;
	lab_set_sched_hooks(NULL);
	if (pg)
		CHECK_EQ_INT(lab_free_pages(s.m, pg, 0), 0);
	if (s.held)
		CHECK_EQ_INT(lab_free_pages(s.m, s.held, 0), 0);
	for (i = 0; i < nodd; i++)
		CHECK_EQ_INT(lab_free_pages(s.m, odd[i], 0), 0);
	CHECK_EQ_INT(lab_maze_check(s.m), 0);
	CHECK_EQ_U64(free_frames(s.m), FRAMES);
	CHECK_EQ_U64(cap_total(&cap), 0);
	*st = stats_of(s.m);
	lab_maze_destroy(s.m);
	printf("  %s at %s: %u passes, %u interrupts, allocation %s\n",
	       lab_gfp_class_name(lab_gfp_class(gfp)),
	       lab_yield_point_name(point), s.hits, s.irqs,
	       pg ? "served" : "failed");
	return s.hits;
}

/* Passes one allocation may make: per attempt the first try, then one
 * per retry. */
static void check_bounded(enum lab_yield_point point, lab_gfp_t gfp,
			  unsigned retry_max)
{
	enum lab_gfp_class cls = lab_gfp_class(gfp);
	struct lab_maze_stats st;
	unsigned hits = storm_alloc(point, gfp, &st);

	CHECK(hits > 1); /* the storm did make the CAS fail */
	CHECK(hits <= LAB_ATTEMPTS * (retry_max + 1));
	CHECK(st.cls[cls].retries >= 1);
	CHECK(st.cls[cls].retries <= LAB_ATTEMPTS * retry_max);
	CHECK(st.cls[cls].retry_limited >= 1);
}

static void test_atomic_reserve_bounded(void)
{
	check_bounded(LAB_YP_WMARK_RESERVE, LAB_GFP_ATOMIC, LAB_ATOMIC_BUDGET);
}

static void test_nowait_reserve_bounded(void)
{
	check_bounded(LAB_YP_WMARK_RESERVE, LAB_GFP_NOWAIT, LAB_NOWAIT_RETRIES);
}

static void test_atomic_claim_bounded(void)
{
	check_bounded(LAB_YP_BUDDY_CLAIM, LAB_GFP_ATOMIC, LAB_ATOMIC_BUDGET);
}

static void test_nowait_claim_bounded(void)
{
	check_bounded(LAB_YP_BUDDY_CLAIM, LAB_GFP_NOWAIT, LAB_NOWAIT_RETRIES);
}

/* Without interference nothing is retried and nothing gives up. */
static void test_quiet_no_retries(void)
{
	static struct capture cap;
	struct lab_maze *m = maze_exact(16, 16, 1, 1, 1, &cap);
	struct lab_page *pg[8];
	struct lab_maze_stats st;
	unsigned i, c;

	cap_reset(&cap);
	for (i = 0; i < 8; i++)
		CHECK((pg[i] = lab_alloc_pages(
			       m, i & 1 ? LAB_GFP_ATOMIC : LAB_GFP_NOWAIT, 0)));
	for (i = 0; i < 8; i++)
		CHECK_EQ_INT(lab_free_pages(m, pg[i], 0), 0);
	st = stats_of(m);
	for (c = 0; c < LAB_CLASS_COUNT; c++) {
		CHECK_EQ_U64(st.cls[c].retries, 0);
		CHECK_EQ_U64(st.cls[c].retry_limited, 0);
	}
	lab_maze_destroy(m);
}

int main(void)
{
#if LAB_HAVE_YIELD_POINTS
	RUN(test_atomic_reserve_bounded);
	RUN(test_nowait_reserve_bounded);
	RUN(test_atomic_claim_bounded);
	RUN(test_nowait_claim_bounded);
#else
	printf("skip the interrupt storms: no yield points\n");
#endif
	RUN(test_quiet_no_retries);
	return 0;
}
