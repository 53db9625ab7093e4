/* test_bugs.c - the seeded bugs do what they claim, and only when selected.
 *
 * For every bug of labyrinth/bugs.h a small deterministic scenario drives
 * the allocator into the window the bug needs and says whether the bug's
 * damage showed (two owners of one frame, a lost free, a refused free, a
 * report, ...).  With "none" selected no scenario may show damage; with
 * its bug selected, each must.  This pins the zoo down (a bug that
 * silently stopped breaking anything would make the harness look better
 * than it is) and documents each bug by example; what the harness modes
 * find is in docs/bug-zoo.md.
 *
 * Another CPU is played at a yield point: a hook installed for one
 * scenario runs a function there once, in a context of its own (the
 * allocator is consistent for other threads at every yield point), or as
 * an interrupt on the current context.  One thread: no sanitizer sees a
 * real race.  Release builds have neither bugs nor yield points: skipped.
 */
#define _GNU_SOURCE

#include "check.h"

static struct capture cap;

/* ---- another CPU at a yield point ---------------------------------------- */

struct window {
	enum lab_yield_point at;
	void (*fn)(void *arg);
	void *arg;
	struct lab_ctx *ctx; /* NULL: run fn as an interrupt */
	bool fired;
};

static struct window win;

static void window_isr(void *arg)
{
	win.fn(arg);
}

static void window_hook(enum lab_yield_point point, void *arg)
{
	struct lab_ctx *prev;

	(void)arg;
	if (win.fired || point != win.at)
		return;
	win.fired = true;
	if (!win.ctx) {
		lab_irq_raise(window_isr, win.arg);
		return;
	}
	prev = lab_ctx_switch(win.ctx);
	win.fn(win.arg);
	lab_ctx_switch(prev);
}

/* What a wait would do; set by the scenario that blocks. */
static lab_wait_fn window_wait;

/* Runs fn once at the next `at`, in ctx (NULL: as an interrupt). */
static void window_arm(enum lab_yield_point at, void (*fn)(void *), void *arg,
		       struct lab_ctx *ctx)
{
	struct lab_sched_hooks hooks = { window_hook, window_wait, NULL };

	win = (struct window){ at, fn, arg, ctx, false };
	lab_set_sched_hooks(&hooks);
}

static void window_disarm(void)
{
	lab_set_sched_hooks(NULL);
	window_wait = NULL;
}

/* ---- mazes and helpers ------------------------------------------------------ */

/* w x h frames up to max_order, no cache, every watermark 0 but high
 * (1), reports captured. */
static struct lab_maze *tiny(unsigned w, unsigned h, unsigned max_order)
{
	struct lab_maze_config cfg = cfg_exact(w, h, 0, 0, 1, &cap);

	cfg.max_order = max_order;
	return maze_from(&cfg);
}

static uint64_t alloc_pfn(struct lab_maze *m, lab_gfp_t gfp, unsigned order)
{
	struct lab_page *pg = lab_alloc_pages(m, gfp | LAB_GFP_NOWARN, order);

	return pg ? pfn_of(m, pg) : LAB_NO_PFN;
}

static int free_pfn(struct lab_maze *m, uint64_t pfn, unsigned order)
{
	return lab_free_pages(m, lab_pfn_to_page(m, pfn), order);
}

/* The other CPU's allocation and free, for window functions. */
struct other {
	struct lab_maze *m;
	uint64_t pfn;
	lab_gfp_t gfp;
	int ret;
};

static void other_alloc(void *arg)
{
	struct other *o = arg;

	o->pfn = alloc_pfn(o->m, o->gfp, 0);
}

static void other_free(void *arg)
{
	struct other *o = arg;

	o->ret = free_pfn(o->m, o->pfn, 0);
}

static struct lab_ctx *cpu1;

/* ---- one scenario per bug: true if the bug's damage showed ---------------- */

/* Another CPU claims the bit the first has chosen: with a blind store
 * both get it. */
static bool show_claim_race(void)
{
	struct lab_maze *m = tiny(2, 1, 0);
	struct other o = { m, LAB_NO_PFN, LAB_GFP_NOWAIT, 0 };
	uint64_t mine;

	window_arm(LAB_YP_BUDDY_CLAIM, other_alloc, &o, cpu1);
	mine = alloc_pfn(m, LAB_GFP_NOWAIT, 0);
	window_disarm();
	CHECK(mine != LAB_NO_PFN && o.pfn != LAB_NO_PFN);
	lab_maze_destroy(m);
	return mine == o.pfn;
}

/* An interrupt allocates while its task is inside the cache section,
 * between reading the list head and writing it back. */
static bool show_pcp_irq_unsafe(void)
{
	struct lab_maze_config cfg = cfg_exact(8, 8, 0, 0, 1, &cap);
	struct other o;
	struct lab_maze *m;
	uint64_t mine;

	cfg.pcp_high = 8;
	cfg.pcp_batch = 4;
	m = maze_from(&cfg);
	o = (struct other){ m, LAB_NO_PFN, LAB_GFP_ATOMIC, 0 };
	CHECK(alloc_pfn(m, LAB_GFP_NOWAIT, 0) != LAB_NO_PFN); /* fills it */
	window_arm(LAB_YP_PCP_LIST, other_alloc, &o, NULL);
	mine = alloc_pfn(m, LAB_GFP_NOWAIT, 0);
	window_disarm();
	CHECK(win.fired && o.pfn != LAB_NO_PFN);
	lab_maze_destroy(m);
	return mine == o.pfn;
}

/* Two frees at once: one's update of the free count is lost. */
static bool show_racy_free_count(void)
{
	struct lab_maze *m = tiny(2, 1, 0);
	uint64_t a = alloc_pfn(m, LAB_GFP_NOWAIT, 0);
	struct other o = { m, alloc_pfn(m, LAB_GFP_NOWAIT, 0), 0, 0 };
	long problems;

	window_arm(LAB_YP_WAKE, other_free, &o, cpu1);
	CHECK_EQ_INT(free_pfn(m, a, 0), 0);
	window_disarm();
	if (!win.fired)
		CHECK_EQ_INT(free_pfn(m, o.pfn, 0), 0);
	CHECK_EQ_INT(o.ret, 0);
	problems = lab_maze_check(m);
	lab_maze_destroy(m);
	return problems > 0;
}

/* A full maze: another CPU allocates while a free is in flight and must
 * not get the block before it is reset. */
static bool show_publish_before_init(void)
{
	struct lab_maze *m = tiny(2, 1, 0);
	uint64_t a = alloc_pfn(m, LAB_GFP_NOWAIT, 0);
	struct other o = { m, LAB_NO_PFN, LAB_GFP_NOWAIT, 0 };
	int ret;

	CHECK(alloc_pfn(m, LAB_GFP_NOWAIT, 0) != LAB_NO_PFN);
	memset(lab_pfn_to_virt(m, a), 0x11, 64); /* the owner's data */
	window_arm(LAB_YP_FREE_DESC, other_alloc, &o, cpu1);
	ret = free_pfn(m, a, 0);
	window_disarm();
	lab_maze_destroy(m);
	return o.pfn != LAB_NO_PFN || ret || cap_total(&cap);
}

static struct lab_maze *wait_maze;
static bool slept_servable;

/* The wait hook: a sleep on an unchanged sequence while a frame is free
 * is a lost wakeup (nothing else runs here).  Never sleeps. */
static int wait_hook(const atomic_uint *word, unsigned expected,
		     unsigned timeout_ms, void *arg)
{
	(void)timeout_ms;
	(void)arg;
	if (atomic_load(word) == expected && free_frames(wait_maze))
		slept_servable = true;
	return -ETIMEDOUT;
}

/* A full maze: GFP_KERNEL fails and is about to wait when another CPU
 * frees a frame; the waiter must not sleep through it. */
static bool show_lost_wakeup(void)
{
	struct lab_maze_config cfg = cfg_exact(2, 1, 0, 0, 1, &cap);
	struct lab_maze *m;
	struct other o;

	cfg.max_order = 0;
	cfg.reclaim_rounds = 2;
	m = wait_maze = maze_from(&cfg);
	o = (struct other){ m, alloc_pfn(m, LAB_GFP_NOWAIT, 0), 0, 0 };
	CHECK(alloc_pfn(m, LAB_GFP_NOWAIT, 0) != LAB_NO_PFN);
	slept_servable = false;
	window_wait = wait_hook;
	window_arm(LAB_YP_WAIT, other_free, &o, cpu1);
	CHECK(alloc_pfn(m, LAB_GFP_KERNEL, 0) != LAB_NO_PFN);
	window_disarm();
	CHECK(win.fired);
	lab_maze_destroy(m);
	return slept_servable;
}

static void isr_atomic(void *arg)
{
	CHECK(alloc_pfn(arg, LAB_GFP_ATOMIC, 0) == LAB_NO_PFN);
}

/* A full maze: GFP_ATOMIC from an interrupt and GFP_NOWAIT from a task
 * fail at once, without sleeping or waiting. */
static bool show_atomic_may_block(void)
{
	struct lab_maze_config cfg = cfg_exact(1, 1, 0, 0, 1, &cap);
	struct lab_maze *m;
	uint64_t waits;

	cfg.max_order = 0;
	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 1;
	m = maze_from(&cfg);
	CHECK(alloc_pfn(m, LAB_GFP_NOWAIT, 0) != LAB_NO_PFN);
	CHECK(lab_irq_raise(isr_atomic, m));
	CHECK(alloc_pfn(m, LAB_GFP_NOWAIT, 0) == LAB_NO_PFN);
	waits = stats_of(m).cls[LAB_CLASS_NOWAIT].waits;
	lab_maze_destroy(m);
	return cap_count(&cap, LAB_REPORT_SLEEP_IN_ATOMIC) || waits;
}

/* GFP_NOWAIT takes a maze with min 16 down to min and no further; the
 * whole-maze check agrees. */
static bool show_nowait_below_min(void)
{
	struct lab_maze_config cfg = cfg_exact(8, 8, 16, 16, 16, &cap);
	struct lab_maze *m;
	unsigned n = 0;
	long problems;

	cfg.max_order = 0;
	m = maze_from(&cfg);
	while (alloc_pfn(m, LAB_GFP_NOWAIT, 0) != LAB_NO_PFN)
		n++;
	problems = lab_maze_check(m);
	lab_maze_destroy(m);
	return n != 64 - 16 || problems;
}

/* One frame: an exclusive block freed by its owner, then the frame
 * allocated plain and freed by someone else. */
static bool show_free_keeps_owner(void)
{
	struct lab_maze *m = tiny(1, 1, 0);
	struct lab_ctx *prev;
	int ret;

	CHECK_EQ_INT(free_pfn(m, alloc_pfn(m, LAB_GFP_EXCLUSIVE, 0), 0), 0);
	prev = lab_ctx_switch(cpu1);
	ret = free_pfn(m, alloc_pfn(m, LAB_GFP_NOWAIT, 0), 0);
	lab_ctx_switch(prev);
	lab_maze_destroy(m);
	return ret != 0;
}

/* Four frames: [A A][B C]; B is freed, then A, whose buddy [B C] is not
 * free although its first half is. */
static bool show_merge_busy_buddy(void)
{
	struct lab_maze *m = tiny(2, 2, 2);
	uint64_t a = alloc_pfn(m, LAB_GFP_NOWAIT, 1);
	uint64_t b = alloc_pfn(m, LAB_GFP_NOWAIT, 0);
	long problems;

	CHECK_EQ_U64(a, 0);
	CHECK_EQ_U64(b, 2);
	CHECK_EQ_U64(alloc_pfn(m, LAB_GFP_NOWAIT, 0), 3);
	CHECK_EQ_INT(free_pfn(m, b, 0), 0);
	CHECK_EQ_INT(free_pfn(m, a, 1), 0);
	problems = lab_maze_check(m);
	lab_maze_destroy(m);
	return problems > 0;
}

static void other_free_realloc(void *arg)
{
	struct other *o = arg;

	o->ret = free_pfn(o->m, o->pfn, 0);
	CHECK_EQ_U64(alloc_pfn(o->m, LAB_GFP_NOWAIT, 0), o->pfn);
}

/* One frame: while our free of a plain block is in flight, another CPU
 * frees it too (a double free) and allocates the frame again, alike in
 * every field: our free must not land on its allocation. */
static bool show_aba_recycle(void)
{
	struct lab_maze *m = tiny(1, 1, 0);
	struct other o = { m, alloc_pfn(m, LAB_GFP_NOWAIT, 0), 0, -1 };
	int ret;

	window_arm(LAB_YP_FREE_DESC, other_free_realloc, &o, cpu1);
	ret = free_pfn(m, o.pfn, 0);
	window_disarm();
	CHECK_EQ_INT(o.ret, 0);
	if (ret) /* refused as the double free it is */
		CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_DOUBLE_FREE), 1);
	lab_maze_destroy(m);
	return ret == 0;
}

/* The stale-retry scenario's other CPU: at the first reservation retry
 * point it takes a frame (the count moves under our CAS); if we are
 * still retrying STALE_GIVE_UP points later it gives the frame back, the
 * count is what we first read, and even a stale CAS succeeds.  Its own
 * allocator calls pass the same point: not counted (inside). */
#define STALE_GIVE_UP 100

static struct {
	struct other o;
	unsigned points;
	bool inside;
} stale;

static void stale_hook(enum lab_yield_point point, void *arg)
{
	struct lab_ctx *prev;

	(void)arg;
	if (stale.inside || point != LAB_YP_WMARK_RESERVE)
		return;
	stale.points++;
	if (stale.points != 1 && stale.points != STALE_GIVE_UP)
		return;
	stale.inside = true;
	prev = lab_ctx_switch(cpu1);
	if (stale.points == 1)
		other_alloc(&stale.o);
	else
		other_free(&stale.o);
	lab_ctx_switch(prev);
	stale.inside = false;
}

/* Two frames: another CPU allocates between our read of the free count
 * and our CAS on it.  The correct reservation retries once, from the
 * count its failed CAS returned; a stale one never succeeds again. */
static bool show_stale_retry(void)
{
	struct lab_maze *m = tiny(2, 1, 0);
	struct lab_sched_hooks hooks = { stale_hook, NULL, NULL };
	uint64_t mine;

	memset(&stale, 0, sizeof(stale));
	stale.o = (struct other){ m, LAB_NO_PFN, LAB_GFP_NOWAIT, 0 };
	lab_set_sched_hooks(&hooks);
	/* GFP_KERNEL: the non-blocking classes give up at their retry
	 * bound, so only a class that may retry without bound spins. */
	mine = alloc_pfn(m, LAB_GFP_KERNEL, 0);
	lab_set_sched_hooks(NULL);
	CHECK(mine != LAB_NO_PFN && stale.o.pfn != LAB_NO_PFN);
	CHECK(stale.points == 2 || stale.points == STALE_GIVE_UP);
	if (stale.points < STALE_GIVE_UP)
		CHECK_EQ_INT(free_pfn(m, stale.o.pfn, 0), 0);
	CHECK_EQ_INT(free_pfn(m, mine, 0), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
	return stale.points >= STALE_GIVE_UP;
}

/* racy-task-id: another CPU sets up a context at the yield point of our
 * context's id allocation; the two must get different ids.  The correct
 * increment is one atomic step without a yield point: no window. */
static void other_ctx_create(void *arg)
{
	*(struct lab_ctx **)arg = lab_ctx_create(0, "other");
}

static bool show_racy_task_id(void)
{
	struct lab_ctx *other = NULL, *mine;
	bool same;

	window_arm(LAB_YP_CTX_ID, other_ctx_create, &other, cpu1);
	mine = lab_ctx_create(0, "mine");
	window_disarm();
	CHECK(mine != NULL);
	same = other && lab_ctx_task_id(mine) == lab_ctx_task_id(other);
	lab_ctx_destroy(mine);
	lab_ctx_destroy(other);
	return same;
}

/* ---- the table --------------------------------------------------------------- *
 * A bug whose only damage is a missing happens-before (handoff-relaxed,
 * and the memory-order bugs at the end) has no single-threaded scenario
 * without a memory model: nothing on one thread can tell a relaxed CAS
 * from a release.  Their show is NULL here.  Each is driven into its
 * window under the C11 model, with the model's reads-from choices
 * forced, by stress/tests/test_alloc_c11.c (ctest alloc_c11_hand);
 * handoff-relaxed also by the free-running TSan test over the relaxed
 * handoff channel (stress_free_tsan_handoff_relaxed). */

static const struct {
	enum lab_bug bug;
	bool (*show)(void);
} scenarios[] = {
	{ LAB_BUG_CLAIM_RACE, show_claim_race },
	{ LAB_BUG_PCP_IRQ_UNSAFE, show_pcp_irq_unsafe },
	{ LAB_BUG_RACY_FREE_COUNT, show_racy_free_count },
	{ LAB_BUG_PUBLISH_BEFORE_INIT, show_publish_before_init },
	{ LAB_BUG_LOST_WAKEUP, show_lost_wakeup },
	{ LAB_BUG_ATOMIC_MAY_BLOCK, show_atomic_may_block },
	{ LAB_BUG_NOWAIT_BELOW_MIN, show_nowait_below_min },
	{ LAB_BUG_FREE_KEEPS_OWNER, show_free_keeps_owner },
	{ LAB_BUG_MERGE_BUSY_BUDDY, show_merge_busy_buddy },
	{ LAB_BUG_ABA_RECYCLE, show_aba_recycle },
	{ LAB_BUG_STALE_RETRY, show_stale_retry },
	{ LAB_BUG_HANDOFF_RELAXED, NULL },
	{ LAB_BUG_RACY_TASK_ID, show_racy_task_id },
	{ LAB_BUG_DESC_PUBLISH_RELAXED, NULL },
	{ LAB_BUG_OWNER_NO_ACQUIRE, NULL },
	{ LAB_BUG_RELAXED_FREE_COUNT, NULL },
	{ LAB_BUG_CLAIM_NO_ACQUIRE, NULL },
	{ LAB_BUG_STORE_BREAKS_RELEASE_SEQ, NULL },
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* Every scenario is clean without bugs. */
static void test_none_is_clean(void)
{
	unsigned i;

	CHECK_EQ_INT(lab_bug_select("none"), 0);
	for (i = 0; i < NSCENARIOS; i++) {
		cap_reset(&cap);
		if (scenarios[i].show && scenarios[i].show())
			check_fail(__FILE__, __LINE__,
				   lab_bug_name(scenarios[i].bug));
	}
}

/* Each bug shows in its scenario. */
static void test_each_bug_shows(void)
{
	unsigned i;

	for (i = 0; i < NSCENARIOS; i++) {
		const char *name = lab_bug_name(scenarios[i].bug);

		if (!scenarios[i].show)
			continue;
		CHECK_EQ_INT(lab_bug_select(name), 0);
		CHECK(!strcmp(lab_bug_selected(), name));
		cap_reset(&cap);
		if (!scenarios[i].show())
			check_fail(__FILE__, __LINE__, name);
		CHECK_EQ_INT(lab_bug_select("none"), 0);
	}
}

/* Every bug has a scenario, and the table is the one lab_bug_select()
 * names when it refuses a name. */
static void test_table(void)
{
	unsigned b;

	CHECK_EQ_U64(NSCENARIOS, LAB_BUG_COUNT - 1);
	CHECK(lab_bug_name(LAB_BUG_COUNT) == NULL);
	CHECK(lab_bug_description(LAB_BUG_COUNT) == NULL);
	CHECK_EQ_INT(lab_bug_select("no-such-bug"), -ENOENT);
	CHECK(!strcmp(lab_bug_selected(), "none"));
	for (b = 0; b < LAB_BUG_COUNT; b++) {
		CHECK(lab_bug_description(b) && *lab_bug_description(b));
		CHECK(strstr(lab_last_error(), lab_bug_name(b)));
	}
}

int main(void)
{
	if (!LAB_HAVE_YIELD_POINTS || lab_bug_select("claim-race")) {
		printf("skip: no seeded bugs in this build\n");
		return 0;
	}
	CHECK_EQ_INT(lab_bug_select("none"), 0);
	cpu1 = lab_ctx_create(0, "cpu1");
	CHECK(cpu1 != NULL);
	RUN(test_table);
	RUN(test_none_is_clean);
	RUN(test_each_bug_shows);
	lab_ctx_destroy(cpu1);
	return 0;
}
