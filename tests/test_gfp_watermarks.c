/* test_gfp_watermarks.c - each GFP class stops at exactly its watermark.
 *
 * Rule (reference.md section 1, alloc.c): an order-o allocation against
 * mark m succeeds iff free - 2^o >= m, where m is min for KERNEL and
 * NOWAIT, min - min/2 for HIGH|DIRECT_RECLAIM and min - min/2 - (min -
 * min/2)/4 (37.5% of min) for ATOMIC.  The mazes here have explicit
 * watermarks min=64, low=80, high=96 on 32x32 = 1024 frames and no
 * per-thread cache, so the free count is exact.
 */
#define _GNU_SOURCE
#include "check.h"

#define W 32
#define H 32
#define FRAMES (W * H)
#define MIN 64
#define LOW 80
#define HIGH 96
#define MARK_HIGH_BLOCKING 32 /* 50% of min */
#define MARK_ATOMIC 24	      /* 37.5% of min */

static struct capture cap;

/* KERNEL gives up after one round of a 5 ms wait, so boundary probes with
 * GFP_KERNEL stay fast. */
static struct lab_maze *maze_wm(void)
{
	struct lab_maze_config cfg = cfg_exact(W, H, MIN, LOW, HIGH, &cap);

	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 5;
	return maze_from(&cfg);
}

/* Allocates order-`order` blocks with gfp until one fails; returns how
 * many succeeded. */
static unsigned fill(struct lab_maze *m, lab_gfp_t gfp, unsigned order)
{
	unsigned n = 0;

	while (lab_alloc_pages(m, gfp | LAB_GFP_NOWARN, order))
		n++;
	return n;
}

static bool try_alloc(struct lab_maze *m, lab_gfp_t gfp, unsigned order)
{
	return lab_alloc_pages(m, gfp | LAB_GFP_NOWARN, order) != NULL;
}

/* Takes the maze down to `level` free frames with order-0 ATOMIC
 * allocations (ATOMIC's mark is the lowest of all, so this never hits a
 * watermark above MARK_ATOMIC); returns one of the frames taken. */
static struct lab_page *take_down_to(struct lab_maze *m, uint64_t level)
{
	struct lab_page *last = NULL;

	while (free_frames(m) > level) {
		last = lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);
		CHECK(last != NULL);
	}
	CHECK_EQ_U64(free_frames(m), level);
	return last;
}

/* True if a free block of at least this order exists, so a failure at
 * this order is the watermark's doing and not fragmentation's. */
static bool has_free_block(const struct lab_maze *m, unsigned order)
{
	struct lab_maze_stats s = stats_of(m);
	unsigned k;

	for (k = order; k <= lab_maze_max_order(m); k++)
		if (s.free_blocks[k])
			return true;
	return false;
}

/* NOWAIT stops at exactly free == min: 1024 - 64 order-0 successes. */
static void test_nowait_stops_at_min(void)
{
	struct lab_maze *m = maze_wm();

	CHECK_EQ_U64(fill(m, LAB_GFP_NOWAIT, 0), FRAMES - MIN);
	CHECK_EQ_U64(free_frames(m), MIN);
	CHECK(!try_alloc(m, LAB_GFP_NOWAIT, 0));
	CHECK_EQ_U64(free_frames(m), MIN);
	lab_maze_destroy(m);
}

/* KERNEL never goes below min either (it waits, then fails). */
static void test_kernel_stops_at_min(void)
{
	struct lab_maze *m = maze_wm();

	CHECK_EQ_U64(fill(m, LAB_GFP_KERNEL, 0), FRAMES - MIN);
	CHECK_EQ_U64(free_frames(m), MIN);
	CHECK(stats_of(m).cls[LAB_CLASS_KERNEL].waits >= 1);
	lab_maze_destroy(m);
}

/* ATOMIC goes down to 37.5% of min, and in between 37.5% of min and min
 * ATOMIC succeeds while NOWAIT and KERNEL fail. */
static void test_atomic_between_reserve_and_min(void)
{
	struct lab_maze *m = maze_wm();
	uint64_t f;

	CHECK_EQ_U64(fill(m, LAB_GFP_NOWAIT, 0), FRAMES - MIN);
	for (f = MIN; f > MARK_ATOMIC; f--) {
		CHECK_EQ_U64(free_frames(m), f);
		CHECK(!try_alloc(m, LAB_GFP_NOWAIT, 0));
		if (f == MIN || f == 40 || f == MARK_ATOMIC + 1)
			CHECK(!try_alloc(m, LAB_GFP_KERNEL, 0));
		CHECK(try_alloc(m, LAB_GFP_ATOMIC, 0));
	}
	CHECK_EQ_U64(free_frames(m), MARK_ATOMIC);
	CHECK(!try_alloc(m, LAB_GFP_ATOMIC, 0));
	CHECK_EQ_U64(free_frames(m), MARK_ATOMIC);
	lab_maze_destroy(m);
}

/* ATOMIC alone from a fresh maze: 1024 - 24 successes. */
static void test_atomic_fill_from_fresh(void)
{
	struct lab_maze *m = maze_wm();

	CHECK_EQ_U64(fill(m, LAB_GFP_ATOMIC, 0), FRAMES - MARK_ATOMIC);
	CHECK_EQ_U64(free_frames(m), MARK_ATOMIC);
	lab_maze_destroy(m);
}

/* HIGH|DIRECT_RECLAIM (blocking high priority) reaches 50% of min, not
 * ATOMIC's 37.5%. */
static void test_high_blocking_reaches_half_min(void)
{
	struct lab_maze *m = maze_wm();
	lab_gfp_t high_kernel = LAB_GFP_KERNEL | LAB_GFP_HIGH;

	CHECK_EQ_U64(fill(m, high_kernel, 0), FRAMES - MARK_HIGH_BLOCKING);
	CHECK_EQ_U64(free_frames(m), MARK_HIGH_BLOCKING);
	CHECK(!try_alloc(m, LAB_GFP_NOWAIT, 0));
	CHECK_EQ_U64(fill(m, LAB_GFP_ATOMIC, 0),
		     MARK_HIGH_BLOCKING - MARK_ATOMIC);
	lab_maze_destroy(m);
}

/* Order o against mark: fails at free == mark + 2^o - 1 although a block
 * of that order is free, succeeds at mark + 2^o (leaving exactly mark),
 * then fails again. */
static void check_order_boundary(lab_gfp_t gfp, unsigned order, uint64_t mark)
{
	struct lab_maze *m = maze_wm();
	uint64_t size = (uint64_t)1 << order;
	/* spare: an order-0 frame we hold, to give back below. */
	struct lab_page *spare = take_down_to(m, mark + size);

	CHECK(lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0));
	CHECK_EQ_U64(free_frames(m), mark + size - 1);
	CHECK(has_free_block(m, order));
	CHECK(!try_alloc(m, gfp, order));
	CHECK_EQ_INT(lab_free_pages(m, spare, 0), 0);
	CHECK_EQ_U64(free_frames(m), mark + size);
	CHECK(try_alloc(m, gfp, order));
	CHECK_EQ_U64(free_frames(m), mark);
	CHECK(!try_alloc(m, gfp, order));
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Higher orders use the 2^order rule for every class. */
static void test_higher_orders(void)
{
	check_order_boundary(LAB_GFP_NOWAIT, 3, MIN);
	check_order_boundary(LAB_GFP_NOWAIT, 1, MIN);
	check_order_boundary(LAB_GFP_KERNEL, 2, MIN);
	check_order_boundary(LAB_GFP_KERNEL | LAB_GFP_HIGH, 1,
			     MARK_HIGH_BLOCKING);
	check_order_boundary(LAB_GFP_ATOMIC, 3, MARK_ATOMIC);
	check_order_boundary(LAB_GFP_ATOMIC, 5, MARK_ATOMIC);
}

/* reserve_dips counts exactly the successes that left free below min:
 * none for allocations that stop at min, one per ATOMIC step below it. */
static void test_reserve_dips(void)
{
	struct lab_maze *m = maze_wm();
	struct lab_maze_stats s;

	CHECK(try_alloc(m, LAB_GFP_ATOMIC, 0)); /* far above min */
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_ATOMIC].reserve_dips, 0);
	fill(m, LAB_GFP_NOWAIT, 0); /* the last one leaves free == min */
	s = stats_of(m);
	CHECK_EQ_U64(s.free_frames, MIN);
	CHECK_EQ_U64(s.cls[LAB_CLASS_NOWAIT].reserve_dips, 0);
	fill(m, LAB_GFP_KERNEL | LAB_GFP_HIGH, 0);
	fill(m, LAB_GFP_ATOMIC, 0);
	s = stats_of(m);
	CHECK_EQ_U64(s.cls[LAB_CLASS_KERNEL].reserve_dips,
		     MIN - MARK_HIGH_BLOCKING);
	CHECK_EQ_U64(s.cls[LAB_CLASS_ATOMIC].reserve_dips,
		     MARK_HIGH_BLOCKING - MARK_ATOMIC);
	lab_maze_destroy(m);
}

/* Failures are reported as ALLOC_FAILURE warnings unless NOWARN, and
 * counted per class either way. */
static void test_failure_warnings(void)
{
	struct lab_maze *m = maze_wm();
	unsigned before;

	fill(m, LAB_GFP_ATOMIC, 0);
	cap_reset(&cap);
	CHECK(!lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0));
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0));
	CHECK_EQ_U64(cap_total(&cap), 0);
	before = cap_count(&cap, LAB_REPORT_ALLOC_FAILURE);
	CHECK(!lab_alloc_pages(m, LAB_GFP_ATOMIC, 0));
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_ALLOC_FAILURE), before + 1);
	CHECK(strstr(cap.last[LAB_REPORT_ALLOC_FAILURE],
		     "page allocation failure") != NULL);
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT, 2));
	CHECK(!lab_alloc_pages(m, LAB_GFP_KERNEL, 0));
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_ALLOC_FAILURE), before + 3);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_ATOMIC].failures, 3);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_NOWAIT].failures, 2);
	CHECK_EQ_U64(stats_of(m).cls[LAB_CLASS_KERNEL].failures, 1);
	lab_maze_destroy(m);
}

/* ---- default watermarks ------------------------------------------------------- */

static uint64_t isqrt_slow(uint64_t v)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= v)
		r++;
	return r;
}

/* The formula documented at lab_maze_config_init, written out again:
 * min_free_kbytes = sqrt(16 * size_kB) clamped to [128 KiB, 256 MiB] and
 * to 1/8 of the maze; low = min + max(1, min/4, frames/1000); high = low +
 * the same; low and high capped at the frame count. */
static void expected_wmarks(uint64_t frames, uint64_t page_size,
			    uint64_t out[3])
{
	uint64_t kb = frames * page_size / 1024;
	uint64_t min_kb = isqrt_slow(16 * kb), min, delta;

	if (min_kb < 128)
		min_kb = 128;
	if (min_kb > 256 * 1024)
		min_kb = 256 * 1024;
	min = min_kb * 1024 / page_size;
	if (min > frames / 8)
		min = frames / 8;
	delta = min / 4 > frames / 1000 ? min / 4 : frames / 1000;
	if (delta < 1)
		delta = 1;
	out[0] = min;
	out[1] = min + delta < frames ? min + delta : frames;
	out[2] = min + 2 * delta < frames ? min + 2 * delta : frames;
}

static void check_defaults(unsigned w, unsigned h, size_t page_size)
{
	struct lab_maze_config cfg;
	uint64_t want[3];

	lab_maze_config_init(&cfg, w, h);
	if (page_size != LAB_PAGE_SIZE_DEFAULT) {
		cfg.page_size = page_size;
		CHECK_EQ_INT(lab_maze_config_watermarks(&cfg), 0);
	}
	expected_wmarks((uint64_t)w * h, page_size, want);
	CHECK(cfg.wmark_min <= cfg.wmark_low);
	CHECK(cfg.wmark_low <= cfg.wmark_high);
	CHECK(cfg.wmark_high <= (uint64_t)w * h);
	CHECK_EQ_U64(cfg.wmark_min, want[0]);
	CHECK_EQ_U64(cfg.wmark_low, want[1]);
	CHECK_EQ_U64(cfg.wmark_high, want[2]);
}

/* Defaults follow the documented formula; a few values by hand: 4 MiB
 * gives min_free_kbytes 256 (64 frames), 4 GiB gives 8192 kB (2048
 * frames, the kernel's value for 4 GiB). */
static void test_default_watermarks(void)
{
	struct lab_maze_config cfg;
	struct lab_maze *m;

	lab_maze_config_init(&cfg, 32, 32);
	CHECK_EQ_U64(cfg.wmark_min, 64);
	CHECK_EQ_U64(cfg.wmark_low, 80);
	CHECK_EQ_U64(cfg.wmark_high, 96);
	lab_maze_config_init(&cfg, 1024, 1024);
	CHECK_EQ_U64(cfg.wmark_min, 2048);
	CHECK_EQ_U64(cfg.wmark_low, 2048 + 1048);
	CHECK_EQ_U64(cfg.wmark_high, 2048 + 2 * 1048);
	check_defaults(1, 1, 4096);
	check_defaults(2, 1, 4096);
	check_defaults(3, 1, 4096);
	check_defaults(8, 8, 4096);
	check_defaults(37, 3, 4096);
	check_defaults(32, 32, 4096);
	check_defaults(1000, 1000, 4096);
	check_defaults(4096, 4096, 4096);
	check_defaults(64, 64, 65536);
	check_defaults(256, 256, 256);
	/* The maze reports the watermarks it was made with. */
	lab_maze_config_init(&cfg, 64, 64);
	m = maze_from(&cfg);
	CHECK_EQ_U64(stats_of(m).wmark_min, cfg.wmark_min);
	CHECK_EQ_U64(stats_of(m).wmark_low, cfg.wmark_low);
	CHECK_EQ_U64(stats_of(m).wmark_high, cfg.wmark_high);
	lab_maze_destroy(m);
}

/* ---- found bugs (tests/BUGS-FOUND.md); run last ------------------------------ */

/* maze.h: "all 0 = the kernel-like defaults"; mutex_buddy.h: "Validates
 * cfg as lab_maze_create() does ... Watermarks all 0 in cfg mean the
 * defaults".  lab_maze_create must accept all-zero watermarks. */
static void test_zero_watermarks_mean_defaults(void)
{
	struct lab_maze_config cfg;
	struct lab_maze *m = NULL;
	uint64_t want[3];

	lab_maze_config_init(&cfg, 32, 32);
	cfg.wmark_min = cfg.wmark_low = cfg.wmark_high = 0;
	CHECK_EQ_INT(lab_maze_create(&cfg, &m), 0);
	expected_wmarks(32 * 32, 4096, want);
	CHECK_EQ_U64(stats_of(m).wmark_min, want[0]);
	CHECK_EQ_U64(stats_of(m).wmark_low, want[1]);
	CHECK_EQ_U64(stats_of(m).wmark_high, want[2]);
	lab_maze_destroy(m);
}

/* maze.h: width and height >= 1 is a valid geometry, and "an invalid
 * geometry leaves the watermarks 0 (and lab_maze_create() then rejects
 * it)": so lab_maze_config_init of a valid geometry must give a config
 * lab_maze_create accepts.  For 1 and 2 frames it does not. */
static void test_tiny_default_config_is_creatable(void)
{
	static const unsigned geo[][2] = {
		{ 3, 1 }, { 2, 1 }, { 1, 2 }, { 1, 1 }
	};
	unsigned i;

	for (i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		struct lab_maze_config cfg;
		struct lab_maze *m = NULL;
		int ret;

		lab_maze_config_init(&cfg, geo[i][0], geo[i][1]);
		ret = lab_maze_create(&cfg, &m);
		if (ret)
			fprintf(stderr, "%ux%u: %s\n", geo[i][0], geo[i][1],
				lab_last_error());
		CHECK_EQ_INT(ret, 0);
		lab_maze_destroy(m);
	}
}

int main(void)
{
	RUN(test_nowait_stops_at_min);
	RUN(test_kernel_stops_at_min);
	RUN(test_atomic_between_reserve_and_min);
	RUN(test_atomic_fill_from_fresh);
	RUN(test_high_blocking_reaches_half_min);
	RUN(test_higher_orders);
	RUN(test_reserve_dips);
	RUN(test_failure_warnings);
	RUN(test_default_watermarks);
	RUN(test_zero_watermarks_mean_defaults);
	RUN(test_tiny_default_config_is_creatable);
	return 0;
}
