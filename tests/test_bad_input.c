/* test_bad_input.c - hostile arguments to every public function.
 *
 * Rule (report.h): bad arguments make the call return an error value and
 * set lab_last_error(); pointers that are not page starts of the maze go
 * through the report hook (BAD_POINTER, OUT_OF_RANGE, WRONG_MAZE) and the
 * operation is not performed.  Nothing here may crash.
 *
 * To prove that a call *set* the error message (rather than a previous
 * call having left one), EXPECT_ERR first plants a known marker message
 * and then requires a different, non-empty one after the call.
 */
#define _GNU_SOURCE
#include <limits.h>

#include "check.h"
#include "mutex_buddy.h"

static struct capture cap;
static char marker[256];

/* Plants a known last-error message (from a different function). */
static void plant_marker(bool alt)
{
	if (alt)
		(void)lab_pfn_to_xy(NULL, 0, NULL, NULL);
	else
		(void)lab_ctx_create(LAB_CTX_TASK_MAX + 1u, NULL);
	snprintf(marker, sizeof(marker), "%s", lab_last_error());
	CHECK(marker[0] != '\0');
}

static void check_error_set(const char *file, int line)
{
	if (!lab_last_error()[0] || !strcmp(lab_last_error(), marker))
		check_fail(file, line, "lab_last_error() was not set");
}

/* cond (which makes the call) must hold and the call must set the error. */
#define EXPECT_ERR_ALT(cond, alt)                    \
	do {                                         \
		plant_marker(alt);                   \
		CHECK(cond);                         \
		check_error_set(__FILE__, __LINE__); \
	} while (0)
#define EXPECT_ERR(cond) EXPECT_ERR_ALT(cond, false)

/* cond must hold and exactly one report of `kind` must be made. */
#define EXPECT_REPORT(cond, kind)                                 \
	do {                                                      \
		unsigned before_ = cap_count(&cap, kind);         \
		CHECK(cond);                                      \
		CHECK_EQ_U64(cap_count(&cap, kind), before_ + 1); \
	} while (0)

static struct lab_maze *small_maze(void)
{
	struct lab_maze_config cfg = cfg_exact(8, 8, 2, 4, 6, &cap);

	cfg.max_order = 3;
	return maze_from(&cfg);
}

static struct lab_maze_config good_cfg(void)
{
	return cfg_exact(8, 8, 2, 4, 6, &cap);
}

static void expect_create_fails(const struct lab_maze_config *cfg)
{
	struct lab_maze *m = NULL;

	EXPECT_ERR(lab_maze_create(cfg, &m) == -EINVAL);
	CHECK(m == NULL);
}

/* NULL cfg/out, and geometry that cannot exist. */
static void test_create_bad_geometry(void)
{
	struct lab_maze_config cfg = good_cfg();
	struct lab_maze *m = NULL;

	lab_maze_config_init(NULL, 8, 8); /* ignored */
	EXPECT_ERR(lab_maze_create(NULL, &m) == -EINVAL);
	EXPECT_ERR(lab_maze_create(&cfg, NULL) == -EINVAL);
	EXPECT_ERR(lab_maze_config_watermarks(NULL) == -EINVAL);
	cfg.width = 0;
	expect_create_fails(&cfg);
	EXPECT_ERR(lab_maze_config_watermarks(&cfg) == -EINVAL);
	cfg = good_cfg(), cfg.height = 0;
	expect_create_fails(&cfg);
	cfg = good_cfg(), cfg.width = 65536, cfg.height = 65536;
	expect_create_fails(&cfg);
	cfg = good_cfg(), cfg.width = UINT_MAX, cfg.height = UINT_MAX;
	expect_create_fails(&cfg);
	EXPECT_ERR(lab_maze_config_watermarks(&cfg) == -EINVAL);
	cfg = good_cfg(), cfg.width = UINT_MAX, cfg.height = 1;
	expect_create_fails(&cfg);
	/* An invalid geometry leaves the default watermarks 0. */
	lab_maze_config_init(&cfg, 0, 5);
	CHECK(!cfg.wmark_min && !cfg.wmark_low && !cfg.wmark_high);
	lab_maze_config_init(&cfg, 65536, 65536);
	CHECK(!cfg.wmark_min && !cfg.wmark_low && !cfg.wmark_high);
}

/* Page size not a power of two, too small, too large; max_order above
 * the limit; pcp limits. */
static void test_create_bad_sizes(void)
{
	static const size_t bad_pages[] = {
		3000, 128, 255, 4u << 20, (size_t)1 << 40, 4097
	};
	struct lab_maze_config cfg;
	unsigned i;

	for (i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
		cfg = good_cfg(), cfg.page_size = bad_pages[i];
		expect_create_fails(&cfg);
	}
	cfg = good_cfg(), cfg.max_order = LAB_MAX_ORDER_LIMIT + 1;
	expect_create_fails(&cfg);
	cfg = good_cfg(), cfg.max_order = UINT_MAX;
	expect_create_fails(&cfg);
	cfg = good_cfg(), cfg.pcp_high = 8, cfg.pcp_batch = 9;
	expect_create_fails(&cfg);
	cfg = good_cfg(), cfg.pcp_high = 8, cfg.pcp_batch = 0;
	expect_create_fails(&cfg);
	/* The limits themselves are fine. */
	cfg = good_cfg(), cfg.max_order = LAB_MAX_ORDER_LIMIT;
	cfg.page_size = 256;
	lab_maze_destroy(maze_from(&cfg));
	cfg = good_cfg(), cfg.page_size = 2u << 20;
	cfg.width = 8, cfg.height = 1, cfg.max_order = 2;
	lab_maze_destroy(maze_from(&cfg));
}

/* Watermarks must satisfy min <= low <= high <= frames. */
static void test_create_bad_watermarks(void)
{
	static const uint64_t bad[][3] = {
		{ 5, 4, 6 },  { 2, 7, 6 },	    { 7, 7, 6 },
		{ 2, 4, 65 }, { 2, 4, UINT64_MAX }, { 6, 4, 2 },
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lab_maze_config cfg = good_cfg();

		cfg.wmark_min = bad[i][0];
		cfg.wmark_low = bad[i][1];
		cfg.wmark_high = bad[i][2];
		expect_create_fails(&cfg);
	}
}

/* lab_alloc_pages / lab_get_free_pages: NULL maze, order above max,
 * unknown gfp bits, NOFAIL that cannot block.  Nothing is allocated. */
static void test_alloc_bad_args(void)
{
	struct lab_maze *m = small_maze();
	struct lab_maze_stats before = stats_of(m), after;

	EXPECT_ERR(!lab_alloc_pages(NULL, LAB_GFP_KERNEL, 0));
	EXPECT_ERR(!lab_get_free_pages(NULL, LAB_GFP_ATOMIC, 0));
	EXPECT_ERR(!lab_alloc_pages(m, LAB_GFP_NOWAIT, 4));
	EXPECT_ERR(!lab_alloc_pages(m, LAB_GFP_NOWAIT, UINT_MAX));
	EXPECT_ERR(!lab_get_free_pages(m, LAB_GFP_KERNEL, 21));
	EXPECT_ERR(!lab_alloc_pages(m, LAB_GFP_NOWAIT | (1u << 7), 0));
	EXPECT_ERR(!lab_alloc_pages(m, LAB_GFP_KERNEL | (1u << 31), 0));
	EXPECT_ERR(!lab_alloc_pages(m, ~0u, 0));
	EXPECT_REPORT(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOFAIL, 0),
		      LAB_REPORT_NOFAIL_MISUSE);
	EXPECT_REPORT(!lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOFAIL, 0),
		      LAB_REPORT_NOFAIL_MISUSE);
	EXPECT_REPORT(!lab_get_free_pages(m, LAB_GFP_NOFAIL, 0),
		      LAB_REPORT_NOFAIL_MISUSE);
	EXPECT_ERR(!lab_alloc_pages(m, LAB_GFP_ATOMIC | LAB_GFP_NOFAIL, 0));
	after = stats_of(m);
	CHECK_EQ_U64(after.free_frames, before.free_frames);
	CHECK_EQ_U64(after.cls[LAB_CLASS_NOWAIT].successes, 0);
	CHECK_EQ_U64(after.cls[LAB_CLASS_ATOMIC].successes, 0);
	CHECK_EQ_U64(after.cls[LAB_CLASS_KERNEL].successes, 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Frees by descriptor: NULLs, order above max, misaligned descriptor
 * pointers, descriptors of no maze or of another maze.  The block stays
 * allocated throughout. */
static void test_free_bad_descriptor(void)
{
	struct lab_maze *m = small_maze(), *other = small_maze();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	struct lab_page *theirs = lab_alloc_pages(other, LAB_GFP_NOWAIT, 0);
	uint64_t local[4] = { 0 };
	uint64_t free_before = free_frames(m);
	unsigned reports;

	CHECK(pg && theirs);
	EXPECT_ERR(lab_free_pages(NULL, pg, 0) == -EINVAL);
	EXPECT_ERR(lab_free_pages(m, NULL, 0) == -EINVAL);
	EXPECT_ERR(lab_free_pages(m, pg, 4) == -EINVAL);
	EXPECT_ERR(lab_free_pages(m, pg, UINT_MAX) == -EINVAL);
	EXPECT_REPORT(lab_free_pages(m, (struct lab_page *)((char *)pg + 1),
				     0) < 0,
		      LAB_REPORT_BAD_POINTER);
	EXPECT_REPORT(lab_free_pages(m, (struct lab_page *)(void *)local, 0) <
			      0,
		      LAB_REPORT_BAD_POINTER);
	EXPECT_REPORT(lab_free_pages(m,
				     desc_offset(m, lab_pfn_to_page(m, 0), -1),
				     0) < 0,
		      LAB_REPORT_BAD_POINTER);
	/* Another maze's descriptor: BAD_POINTER or WRONG_MAZE. */
	reports = cap_total(&cap);
	CHECK(lab_free_pages(m, theirs, 0) < 0);
	CHECK_EQ_U64(cap_total(&cap), reports + 1);
	CHECK(cap_count(&cap, LAB_REPORT_BAD_POINTER) +
		      cap_count(&cap, LAB_REPORT_WRONG_MAZE) >
	      0);
	CHECK_EQ_U64(free_frames(m), free_before);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	CHECK_EQ_INT(lab_free_pages(other, theirs, 0), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	CHECK_EQ_INT(lab_maze_check(other), 0);
	lab_maze_destroy(other);
	lab_maze_destroy(m);
}

/* Frees by address: not a page start (BAD_POINTER), outside every maze
 * (OUT_OF_RANGE), inside another live maze (WRONG_MAZE). */
static void test_free_bad_address(void)
{
	struct lab_maze *m = small_maze(), *other = small_maze();
	char *a = lab_get_free_pages(m, LAB_GFP_NOWAIT, 0);
	char *theirs = lab_get_free_pages(other, LAB_GFP_NOWAIT, 0);
	size_t ps = lab_maze_page_size(m);
	char *end = (char *)lab_pfn_to_virt(m, lab_maze_frames(m) - 1) + ps;
	uint64_t free_before = free_frames(m), other_before;
	int local;

	CHECK(a && theirs);
	other_before = free_frames(other);
	EXPECT_ERR(lab_free_pages_addr(NULL, a, 0) == -EINVAL);
	EXPECT_ERR(lab_free_pages_addr(m, NULL, 0) == -EINVAL);
	EXPECT_ERR(lab_free_pages_addr(m, a, 4) == -EINVAL);
	EXPECT_REPORT(lab_free_pages_addr(m, a + 1, 0) < 0,
		      LAB_REPORT_BAD_POINTER);
	EXPECT_REPORT(lab_free_pages_addr(m, a + ps / 2, 0) < 0,
		      LAB_REPORT_BAD_POINTER);
	EXPECT_REPORT(lab_free_pages_addr(m, &local, 0) < 0,
		      LAB_REPORT_OUT_OF_RANGE);
	EXPECT_REPORT(lab_free_pages_addr(m, end, 0) < 0,
		      LAB_REPORT_OUT_OF_RANGE);
	EXPECT_REPORT(lab_free_pages_addr(m, theirs, 0) < 0,
		      LAB_REPORT_WRONG_MAZE);
	CHECK_EQ_U64(free_frames(m), free_before);
	CHECK_EQ_U64(free_frames(other), other_before);
	CHECK_EQ_INT(lab_free_pages_addr(other, theirs, 0), 0);
	CHECK_EQ_INT(lab_free_pages_addr(m, a, 0), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(other);
	lab_maze_destroy(m);
}

/* lab_page_address, lab_access_check, lab_page_handoff, lab_page_owner
 * with NULLs, bogus descriptors and addresses. */
static void test_ownership_bad_args(void)
{
	struct lab_maze *m = small_maze(), *other = small_maze();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 1);
	char *a = lab_page_address(m, pg);
	char *theirs = lab_get_free_pages(other, LAB_GFP_NOWAIT, 0);
	size_t ps = lab_maze_page_size(m);
	uint64_t local[4] = { 0 };
	struct lab_page *bogus = (struct lab_page *)(void *)local;
	unsigned reports;

	CHECK(pg && a && theirs);
	EXPECT_ERR(!lab_page_address(NULL, pg));
	EXPECT_ERR(!lab_page_address(m, NULL));
	EXPECT_REPORT(!lab_page_address(m, bogus), LAB_REPORT_BAD_POINTER);
	EXPECT_ERR(lab_access_check(NULL, a, 1) == -EINVAL);
	EXPECT_ERR(lab_access_check(m, NULL, 1) == -EINVAL);
	EXPECT_ERR(lab_access_check(m, a, 0) == -EINVAL);
	EXPECT_REPORT(lab_access_check(m, local, 8) < 0,
		      LAB_REPORT_OUT_OF_RANGE);
	EXPECT_REPORT(lab_access_check(m, theirs, 8) < 0,
		      LAB_REPORT_WRONG_MAZE);
	EXPECT_REPORT(lab_access_check(m, a + ps, ps + 1) < 0,
		      LAB_REPORT_BAD_POINTER); /* runs past the block */
	CHECK_EQ_INT(lab_access_check(m, a + ps, ps), 0);
	EXPECT_ERR(lab_page_handoff(NULL, pg, 1, 5) == -EINVAL);
	EXPECT_ERR(lab_page_handoff(m, NULL, 1, 5) == -EINVAL);
	EXPECT_ERR(lab_page_handoff(m, pg, 1, 0) == -EINVAL);
	EXPECT_REPORT(lab_page_handoff(m, bogus, 1, 5) < 0,
		      LAB_REPORT_BAD_POINTER);
	EXPECT_REPORT(lab_page_handoff(m, pg, 0, 5) < 0,
		      LAB_REPORT_WRONG_ORDER);
	CHECK_EQ_U64(lab_page_owner(m, pg), 0); /* handoffs not performed */
	CHECK_EQ_U64(lab_page_owner(NULL, pg), 0);
	CHECK_EQ_U64(lab_page_owner(m, NULL), 0);
	CHECK_EQ_U64(lab_page_owner(m, bogus), 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 1), 0);
	reports = cap_total(&cap); /* no longer allocated: some report */
	CHECK(lab_page_handoff(m, pg, 1, 5) < 0);
	CHECK_EQ_U64(cap_total(&cap), reports + 1);
	CHECK_EQ_U64(lab_page_owner(m, pg), 0);
	CHECK_EQ_INT(lab_free_pages_addr(other, theirs, 0), 0);
	lab_maze_destroy(other);
	lab_maze_destroy(m);
}

/* Conversions: values that are not frames of this maze give NULL or
 * LAB_NO_PFN; lab_pfn_to_xy also sets the error. */
static void test_conversions_bad_args(void)
{
	struct lab_maze *m = small_maze(), *other = small_maze();
	uint64_t frames = lab_maze_frames(m), local = 0;
	struct lab_page *p0 = lab_pfn_to_page(m, 0);
	unsigned x = 77, y = 77;

	CHECK(p0 != NULL);
	CHECK_EQ_U64(lab_page_to_pfn(NULL, p0), LAB_NO_PFN);
	CHECK_EQ_U64(lab_page_to_pfn(m, NULL), LAB_NO_PFN);
	CHECK_EQ_U64(lab_page_to_pfn(m, (void *)((char *)p0 + 3)), LAB_NO_PFN);
	CHECK_EQ_U64(lab_page_to_pfn(m, desc_offset(m, p0, -1)), LAB_NO_PFN);
	CHECK_EQ_U64(lab_page_to_pfn(m, desc_offset(m, p0, (long)frames)),
		     LAB_NO_PFN);
	CHECK_EQ_U64(lab_page_to_pfn(m, lab_pfn_to_page(other, 1)), LAB_NO_PFN);
	CHECK(!lab_pfn_to_page(NULL, 0));
	CHECK(!lab_pfn_to_page(m, frames));
	CHECK(!lab_pfn_to_page(m, UINT64_MAX));
	CHECK(!lab_virt_to_page(NULL, lab_pfn_to_virt(m, 0)));
	CHECK(!lab_virt_to_page(m, NULL));
	CHECK(!lab_virt_to_page(m, &local));
	CHECK(!lab_virt_to_page(m, lab_pfn_to_virt(other, 0)));
	CHECK(!lab_virt_to_page(m, (char *)lab_pfn_to_virt(m, frames - 1) +
					   lab_maze_page_size(m)));
	CHECK(!lab_pfn_to_virt(NULL, 0));
	CHECK(!lab_pfn_to_virt(m, frames));
	CHECK(!lab_pfn_to_virt(m, UINT64_MAX));
	EXPECT_ERR(lab_pfn_to_xy(NULL, 0, &x, &y) == -EINVAL);
	EXPECT_ERR(lab_pfn_to_xy(m, frames, &x, &y) == -EINVAL);
	EXPECT_ERR(lab_pfn_to_xy(m, UINT64_MAX, &x, &y) == -EINVAL);
	CHECK(x == 77 && y == 77);
	lab_maze_destroy(other);
	lab_maze_destroy(m);
}

/* Maze-wide operations with NULL. */
static void test_maze_ops_null(void)
{
	struct lab_maze *m = small_maze();
	struct lab_maze_stats s;

	lab_maze_destroy(NULL);
	lab_maze_drain_local(NULL);
	lab_maze_fail_next(NULL, 0, 1);
	CHECK_EQ_U64(lab_maze_frames(NULL), 0);
	CHECK_EQ_U64(lab_maze_page_size(NULL), 0);
	CHECK_EQ_U64(lab_maze_max_order(NULL), 0);
	CHECK(lab_maze_config(NULL) == NULL);
	EXPECT_ERR(lab_maze_stats(NULL, &s) == -EINVAL);
	EXPECT_ERR(lab_maze_stats(m, NULL) == -EINVAL);
	EXPECT_ERR(lab_maze_check(NULL) == -EINVAL);
	lab_maze_destroy(m);
}

/* Contexts: task ids above LAB_CTX_TASK_MAX are refused; NULL is safe
 * everywhere; out-of-range enum values name "?". */
static void test_context_bad_args(void)
{
	struct lab_irq_counts before, after;
	struct lab_ctx *ctx;

	EXPECT_ERR_ALT(!lab_ctx_create(LAB_CTX_TASK_MAX + 1u, "x"), true);
	EXPECT_ERR_ALT(!lab_ctx_create(UINT32_MAX, NULL), true);
	EXPECT_ERR_ALT(!lab_ctx_create(LAB_CTX_IRQ_BIT | 5u, NULL), true);
	ctx = lab_ctx_create(LAB_CTX_TASK_MAX, "max");
	CHECK(ctx != NULL);
	CHECK_EQ_U64(lab_ctx_task_id(ctx), LAB_CTX_TASK_MAX);
	lab_ctx_destroy(ctx);
	lab_ctx_destroy(NULL);
	CHECK_EQ_U64(lab_ctx_task_id(NULL), 0);
	CHECK(lab_ctx_name(NULL) != NULL);
	lab_ctx_set_name(NULL);
	lab_irq_counts(NULL);
	lab_irq_counts(&before);
	CHECK(!lab_irq_raise(NULL, NULL));
	lab_irq_counts(&after);
	CHECK_EQ_U64(after.delivered + after.deferred + after.coalesced,
		     before.delivered + before.deferred + before.coalesced);
	CHECK(!strcmp(lab_gfp_class_name(LAB_CLASS_COUNT), "?"));
	CHECK(!strcmp(lab_gfp_class_name((enum lab_gfp_class) - 1), "?"));
	CHECK(!strcmp(lab_report_kind_name(LAB_REPORT_KIND_COUNT), "?"));
	CHECK(!strcmp(lab_yield_point_name(LAB_YP_COUNT), "?"));
}

static void *no_create(const struct lab_maze_config *cfg)
{
	(void)cfg;
	return NULL;
}

/* Backends and the mutex buddy baseline. */
static void test_backends_bad_args(void)
{
	struct lab_backend_ops partial = { .name = "partial",
					   .create = no_create };
	struct lab_maze_config cfg = good_cfg();
	struct lab_maze_stats s;
	const char *names[4];

	CHECK(lab_backend_find(NULL) == NULL);
	CHECK(lab_backend_find("no-such-backend") == NULL);
	EXPECT_ERR(lab_backend_register(NULL) == -EINVAL);
	EXPECT_ERR(lab_backend_register(&partial) == -EINVAL);
	EXPECT_ERR(lab_backend_register(&lab_backend_labyrinth) == -EEXIST);
	CHECK_EQ_U64(lab_backend_list(NULL, 4), 0);
	CHECK_EQ_U64(lab_backend_list(names, 0), 0);
	EXPECT_ERR(lab_backend_labyrinth.create(NULL) == NULL);
	EXPECT_ERR(lab_backend_mutex_buddy.create(NULL) == NULL);
	cfg.page_size = 1000;
	EXPECT_ERR(lab_backend_labyrinth.create(&cfg) == NULL);
	EXPECT_ERR(lab_mbuddy_create(&cfg) == NULL);
	EXPECT_ERR(lab_mbuddy_alloc(NULL, LAB_GFP_ATOMIC, 0) == NULL);
	EXPECT_ERR(lab_mbuddy_free(NULL, names, 0) == -EINVAL);
	CHECK(lab_mbuddy_check(NULL) < 0);
	CHECK(lab_mbuddy_stats(NULL, &s) < 0);
	lab_mbuddy_destroy(NULL);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_create_bad_geometry);
	RUN(test_create_bad_sizes);
	RUN(test_create_bad_watermarks);
	RUN(test_alloc_bad_args);
	RUN(test_free_bad_descriptor);
	RUN(test_free_bad_address);
	RUN(test_ownership_bad_args);
	RUN(test_conversions_bad_args);
	RUN(test_maze_ops_null);
	RUN(test_context_bad_args);
	RUN(test_backends_bad_args);
	return 0;
}
