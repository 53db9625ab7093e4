/* test_alloc_c11.c - the allocator's own atomics and plain memory under
 * the C11 model (stress/alloc_model.c, issue 13), and the zoo's
 * memory-order bugs.
 *
 *   hand   Each memory-order bug driven into its window by hand: logical
 *          threads are played on this one pthread (the "other CPU" runs at
 *          a yield point, as in tests/test_bugs.c), the model is told
 *          which logical thread runs, and its reads-from choices are
 *          forced (the oldest store a load may read, at the loads the
 *          scenario names).  The damage must show with the bug under the
 *          model, and neither without the bug under the model nor with
 *          the bug in the SC execution (no hooks: every load reads the
 *          latest store).  Two more scenarios pin down the correct
 *          allocator's own fixes (the waiter's protocol under C11).
 *   clean  The correct allocator in the real scheduler under the model
 *          (lab_c11_wrap): three logical threads allocating, freeing,
 *          handing blocks over and checking ownership, interrupts, random
 *          walk and PCT, stale reads at half the loads that have a
 *          choice: no finding in any schedule.
 *   found  The same program finds each bug it reaches.
 *   sc     The same program without the model finds none of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_model.h"
#include "check.h"
#include "internal.h" /* the maze's words, to aim the model's choices */
#include "labyrinth/c11.h"
#include "labyrinth/c11_sched.h"

#define NTHREADS 3

/* ---- reports and mazes ------------------------------------------------- */

static unsigned reports[LAB_REPORT_KIND_COUNT], nreports;

static void on_report(const struct lab_report *r, void *arg)
{
	(void)arg;
	if ((unsigned)r->kind < LAB_REPORT_KIND_COUNT)
		reports[r->kind]++;
	nreports++;
}

static unsigned long hand_reclaim(struct lab_maze *m, unsigned long target,
				  void *arg);

/* w x h frames of 256 bytes up to max_order, no caches, watermarks 0 but
 * high (1), one reclaim round with a short wait. */
static struct lab_maze *maze_new(unsigned w, unsigned h, unsigned max_order)
{
	struct lab_maze_config cfg;
	struct lab_maze *m = NULL;

	lab_maze_config_init(&cfg, w, h);
	cfg.page_size = 256;
	cfg.max_order = max_order;
	cfg.wmark_min = cfg.wmark_low = 0;
	cfg.wmark_high = 1;
	cfg.pcp_high = cfg.pcp_batch = 0;
	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 1;
	cfg.report = on_report;
	cfg.reclaim = hand_reclaim;
	if (lab_maze_create(&cfg, &m)) {
		fprintf(stderr, "lab_maze_create: %s\n", lab_last_error());
		exit(1);
	}
	return m;
}

static void *alloc_addr(struct lab_maze *m, lab_gfp_t gfp, unsigned order)
{
	return lab_get_free_pages(m, gfp | LAB_GFP_NOWARN, order);
}

/* ==== hand-driven scenarios =============================================== */

static struct lab_c11 *model;
static bool model_on;
static int cur = -1;			/* the logical thread running, -1 main */
static struct lab_ctx *ctxs[NTHREADS]; /* each thread's context */
static unsigned races;

/* Forced reads-from choices: loads of `thread` at one of addr[] (or at
 * any address with `all`) read the oldest store allowed. */
static struct {
	int thread;
	bool all;
	const volatile void *addr[4];
	unsigned naddr;
} pol;
static const volatile void *last_addr;

static int hand_current(void *arg)
{
	(void)arg;
	return cur;
}

static unsigned hand_choose(void *arg, unsigned n)
{
	unsigned i;

	(void)arg;
	if (cur < 0 || cur != pol.thread)
		return 0;
	if (pol.all)
		return n - 1;
	for (i = 0; i < pol.naddr; i++)
		if (last_addr == pol.addr[i])
			return n - 1;
	return 0;
}

static void hand_race(void *arg, const struct lab_c11_race *r)
{
	(void)arg;
	(void)r;
	races++;
}

static uint64_t hand_atomic(enum lab_atomic_hook_kind kind, int order,
			    int order_failure, unsigned size,
			    volatile void *addr, uint64_t operand,
			    uint64_t *expected, const char *site)
{
	last_addr = addr;
	return lab_alloc_model_atomic(kind, order, order_failure, size, addr,
				      operand, expected, site);
}

static void hand_plain(const volatile void *addr, size_t len, bool write,
		       const char *site)
{
	if (cur < 0)
		return;
	if (write)
		lab_c11_plain_write(model, (unsigned)cur, addr, len, site);
	else
		lab_c11_plain_read(model, (unsigned)cur, addr, len, site);
}

/* The user's own accesses to a block, annotated as a program under the
 * model would (nothing to tell in the SC execution). */
static void user_access(const void *p, bool write, const char *site)
{
	if (model_on)
		hand_plain(p, 64, write, site);
}

/* Runs fn(arg) as logical thread t in its context. */
static void as_thread(int t, void (*fn)(void *), void *arg)
{
	int prev_cur = cur;
	struct lab_ctx *prev = lab_ctx_switch(ctxs[t]);

	cur = t;
	fn(arg);
	cur = prev_cur;
	lab_ctx_switch(prev);
}

/* The other CPUs' turn: fn at the first `at` that thread 0 passes. */
static struct {
	int at;
	void (*fn)(void *);
	void *arg;
	bool fired;
} win = { -1, NULL, NULL, false };

static void hand_yield(enum lab_yield_point pt, void *arg)
{
	(void)arg;
	if (win.fired || cur != 0 || (int)pt != win.at)
		return;
	win.fired = true;
	win.fn(win.arg);
}

/* A GFP_KERNEL sleep while a frame is free and its sequence unchanged:
 * nobody else runs here, so it is a lost wakeup.  Never sleeps. */
static struct lab_maze *wait_maze;
static bool slept_servable;

static int hand_wait(const atomic_uint *word, unsigned expected,
		     unsigned timeout_ms, void *arg)
{
	struct lab_maze_stats st;
	int prev = cur;

	(void)timeout_ms;
	(void)arg;
	cur = -1; /* the check looks at memory, not through the model */
	if (atomic_load(word) == expected && !lab_maze_stats(wait_maze, &st) &&
	    st.free_frames)
		slept_servable = true;
	cur = prev;
	return -ETIMEDOUT;
}

/* Starts a scenario: the model afresh (or none: the SC execution), no
 * forced choice, no window. */
static void hand_begin(bool with_model)
{
	static const struct lab_memory_hooks hooks = { hand_atomic,
						       hand_plain };
	struct lab_sched_hooks sh = { hand_yield, hand_wait, NULL };

	memset(&pol, 0, sizeof(pol));
	pol.thread = -1;
	win.at = -1;
	win.fn = NULL;
	win.arg = NULL;
	win.fired = false;
	races = 0;
	nreports = 0;
	memset(reports, 0, sizeof(reports));
	slept_servable = false;
	model_on = with_model;
	lab_c11_reset(model);
	lab_c11_install(with_model ? model : NULL);
	lab_set_memory_hooks(with_model ? &hooks : NULL);
	lab_set_sched_hooks(&sh);
}

static void hand_end(void)
{
	lab_set_sched_hooks(NULL);
	lab_set_memory_hooks(NULL);
	lab_c11_install(NULL);
	model_on = false;
}

static void aim(int thread, const volatile void *a, const volatile void *b,
		const volatile void *c, const volatile void *d)
{
	const volatile void *v[4] = { a, b, c, d };
	unsigned i;

	pol.thread = thread;
	for (i = 0; i < 4; i++)
		if (v[i])
			pol.addr[pol.naddr++] = v[i];
}

/* ---- the scenarios: true if the damage showed -------------------------- */

struct blk {
	struct lab_maze *m;
	void *p;
	lab_gfp_t gfp;
	unsigned order;
	int ret;
	uint32_t to;
};

static void op_alloc(void *arg)
{
	struct blk *b = arg;

	b->p = alloc_addr(b->m, b->gfp, b->order);
}

static void op_free(void *arg)
{
	struct blk *b = arg;

	b->ret = lab_free_pages_addr(b->m, b->p, b->order);
}

static void op_alloc_free(void *arg)
{
	op_alloc(arg);
	op_free(arg);
}

/* desc-publish-relaxed: T0 allocates a zeroed block; T1, which has not
 * synchronised with T0, finds it allocated through its descriptor
 * (lab_access_check reads the newest store) and writes to it.  The
 * release of the publication orders T0's zeroing before T1's write. */
static void op_check_write(void *arg)
{
	struct blk *b = arg;

	b->ret = lab_access_check(b->m, b->p, 64);
	if (!b->ret)
		user_access(b->p, true, "user:write");
}

static bool show_desc_publish_relaxed(void)
{
	struct blk b = { maze_new(2, 1, 0), NULL, LAB_GFP_NOWAIT | LAB_GFP_ZERO,
			 0, 0, 0 };

	as_thread(0, op_alloc, &b);
	CHECK(b.p != NULL, "no block");
	as_thread(1, op_check_write, &b);
	CHECK(b.ret == 0, "access refused: %d", b.ret);
	lab_maze_destroy(b.m);
	return races > 0;
}

/* owner-no-acquire: T0 writes its exclusive block and hands it to T1;
 * T1's access check finds itself the owner and reads the block.  The
 * check's acquire pairs with the handoff's release. */
static void op_write_handoff(void *arg)
{
	struct blk *b = arg;

	op_alloc(b);
	if (!b->p)
		return;
	user_access(b->p, true, "user:old-owner-write");
	b->ret = lab_page_handoff(b->m, lab_virt_to_page(b->m, b->p), 0,
				  b->to);
}

static void op_check_read(void *arg)
{
	struct blk *b = arg;

	b->ret = lab_access_check(b->m, b->p, 64);
	if (!b->ret)
		user_access(b->p, false, "user:new-owner-read");
}

static bool show_owner_no_acquire(void)
{
	struct blk b = { maze_new(2, 1, 0), NULL,
			 LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0, 0,
			 lab_ctx_task_id(ctxs[1]) };

	as_thread(0, op_write_handoff, &b);
	CHECK(b.p != NULL && b.ret == 0, "handoff failed: %d", b.ret);
	as_thread(1, op_check_read, &b);
	CHECK(b.ret == 0, "new owner refused: %d", b.ret);
	lab_maze_destroy(b.m);
	return races > 0;
}

/* The reclaim callback plays another CPU once, in T0's slow path. */
static struct blk *reclaim_free;

static unsigned long hand_reclaim(struct lab_maze *m, unsigned long target,
				  void *arg)
{
	(void)m;
	(void)target;
	(void)arg;
	if (reclaim_free) {
		as_thread(1, op_free, reclaim_free);
		reclaim_free = NULL;
	}
	return 0; /* nothing reclaimed: T0 goes on to wait */
}

/* relaxed-free-count: a full maze; T0's GFP_KERNEL allocation fails and
 * reclaims, and meanwhile T1 frees a frame (it sees no waiter yet: T0
 * counts itself only now).  T0's retry reads the count (the newest: 1)
 * and takes it, then probes the bitmaps with its loads of the block
 * count and bitmap word reading the oldest store they may.  The count's
 * acquire makes T1's insert visible to those probes; without it they
 * miss the frame the count covered, and T0 sleeps with it free. */
static bool show_relaxed_free_count(void)
{
	struct lab_maze *m = wait_maze = maze_new(2, 1, 0);
	struct blk a = { m, alloc_addr(m, LAB_GFP_NOWAIT, 0), 0, 0, 0, 0 };
	struct blk t0 = { m, NULL, LAB_GFP_KERNEL, 0, 0, 0 };

	CHECK(a.p && alloc_addr(m, LAB_GFP_NOWAIT, 0), "set-up failed");
	reclaim_free = &a;
	aim(0, &m->nr_blocks[0], &m->avail[0][0], NULL, NULL);
	as_thread(0, op_alloc, &t0);
	CHECK(!reclaim_free && a.ret == 0, "T1's free did not run");
	lab_maze_destroy(m);
	return slept_servable || t0.p == NULL;
}

/* claim-no-acquire: T0 reserves a frame of a two-frame maze and stops at
 * its first bitmap probe; meanwhile T1 allocates and frees frame 0 twice
 * (generations 1 and 2); T0 then claims frame 0, and its generation bump
 * reads the oldest descriptor it may.  The claim's acquire of T1's last
 * insert limits that read to the last free (generation 3 next); without
 * it the read may go back to before both allocations and the generation
 * repeats 1 (the ABA the generation exists to stop; a free prepared
 * against T1's first allocation would land).  Its poison check also
 * races with T1's poisoning. */
static void other_cycles(void *arg)
{
	struct blk *b = arg;

	as_thread(1, op_alloc_free, b);
	as_thread(1, op_alloc_free, b);
}

static bool show_claim_no_acquire(void)
{
	struct lab_maze *m = maze_new(2, 1, 0);
	struct blk t0 = { m, NULL, LAB_GFP_NOWAIT, 0, 0, 0 };
	struct blk t1 = { m, NULL, LAB_GFP_NOWAIT, 0, 0, 0 };
	uint64_t gen;

	win.at = LAB_YP_BUDDY_PROBE;
	win.fn = other_cycles;
	win.arg = &t1;
	aim(0, &m->pages[0].state, NULL, NULL, NULL);
	as_thread(0, op_alloc, &t0);
	CHECK(win.fired && t1.ret == 0, "the other CPU did not run");
	CHECK(t0.p == lab_pfn_to_virt(m, 0), "T0 did not get frame 0");
	gen = LAB_PG_GEN(atomic_load(&m->pages[0].state));
	lab_maze_destroy(m);
	return races > 0 || gen <= 2;
}

/* store-breaks-release-seq: four top-order frames, three allocated on
 * main; T0 reserves the free one and stops at its first probe; T1 frees
 * frame 0, then T2 frames 1; T0 claims frame 0.  T0's claim reads T2's
 * insert: with a CAS it continues T1's release sequence (and T2 acquired
 * T1's insert first), so T1's poisoning is ordered before T0's poison
 * check; with a store it is not. */
struct two_frees {
	struct blk x, y;
};

static void other_two_frees(void *arg)
{
	struct two_frees *f = arg;

	as_thread(1, op_free, &f->x);
	as_thread(2, op_free, &f->y);
}

static bool show_store_breaks_release_seq(void)
{
	struct lab_maze *m = maze_new(4, 1, 0);
	struct two_frees f = {
		{ m, alloc_addr(m, LAB_GFP_NOWAIT, 0), 0, 0, -1, 0 },
		{ m, alloc_addr(m, LAB_GFP_NOWAIT, 0), 0, 0, -1, 0 },
	};
	struct blk t0 = { m, NULL, LAB_GFP_NOWAIT, 0, 0, 0 };

	CHECK(alloc_addr(m, LAB_GFP_NOWAIT, 0) != NULL, "set-up failed");
	win.at = LAB_YP_BUDDY_PROBE;
	win.fn = other_two_frees;
	win.arg = &f;
	as_thread(0, op_alloc, &t0);
	CHECK(win.fired && !f.x.ret && !f.y.ret, "the frees did not run");
	CHECK(t0.p == f.x.p, "T0 did not get frame 0");
	lab_maze_destroy(m);
	return races > 0;
}

/* The correct allocator's waiting protocol under C11 (no seeded bug):
 * T1 frees a frame of a full maze, seeing no waiter; then T0's
 * GFP_KERNEL allocation reads the free count, its oldest allowed store
 * each time.  T0 counts itself as a waiter (seq_cst) before its last
 * retry, so that retry must see T1's frame: the count's load has to be
 * seq_cst (store buffering), not relaxed, or T0 sleeps with a frame
 * free. */
static bool show_waiter_sees_free(void)
{
	struct lab_maze *m = wait_maze = maze_new(2, 1, 0);
	struct blk a = { m, alloc_addr(m, LAB_GFP_NOWAIT, 0), 0, 0, 0, 0 };
	struct blk t0 = { m, NULL, LAB_GFP_KERNEL, 0, 0, 0 };

	CHECK(a.p && alloc_addr(m, LAB_GFP_NOWAIT, 0), "set-up failed");
	as_thread(1, op_free, &a);
	aim(0, &m->nr_free, NULL, NULL, NULL);
	as_thread(0, op_alloc, &t0);
	lab_maze_destroy(m);
	return slept_servable || t0.p == NULL;
}

/* The same after a split: T1 takes an order-0 frame from the only free
 * order-1 block, giving the upper half back (no waiter to wake); T0's
 * GFP_KERNEL allocation then probes with its oldest allowed reads.  Its
 * reservation must order T1's give-back before its probes, so the split
 * ends with a seq_cst RMW on the count after the halves are back. */
static bool show_waiter_sees_split(void)
{
	struct lab_maze *m = wait_maze = maze_new(2, 2, 1);
	struct blk t1 = { m, NULL, LAB_GFP_NOWAIT, 0, 0, 0 };
	struct blk t0 = { m, NULL, LAB_GFP_KERNEL, 0, 0, 0 };

	CHECK(alloc_addr(m, LAB_GFP_NOWAIT, 1) == lab_pfn_to_virt(m, 0),
	      "set-up failed");
	as_thread(1, op_alloc, &t1);
	CHECK(t1.p == lab_pfn_to_virt(m, 2), "T1 did not split frames 2-3");
	aim(0, &m->nr_blocks[0], &m->nr_blocks[1], &m->avail[0][0],
	    &m->avail[1][0]);
	as_thread(0, op_alloc, &t0);
	lab_maze_destroy(m);
	return slept_servable || t0.p == NULL;
}

static const struct {
	const char *name; /* a bug, or "none" for the correct allocator */
	const char *what;
	bool (*show)(void);
} scenarios[] = {
	{ "desc-publish-relaxed", "zeroing vs a writer", show_desc_publish_relaxed },
	{ "owner-no-acquire", "handoff vs new owner", show_owner_no_acquire },
	{ "handoff-relaxed", "handoff vs new owner", show_owner_no_acquire },
	{ "relaxed-free-count", "probes miss the frame", show_relaxed_free_count },
	{ "claim-no-acquire", "generation repeats", show_claim_no_acquire },
	{ "store-breaks-release-seq", "poison vs scan", show_store_breaks_release_seq },
	{ "none", "waiter after a free", show_waiter_sees_free },
	{ "none", "waiter after a split", show_waiter_sees_split },
};

/* One scenario with bug `bug`, under the model or in the SC execution. */
static bool hand_run(unsigned i, const char *bug, bool with_model)
{
	bool damage;

	CHECK(lab_bug_select(bug) == 0, "select %s: %s", bug, lab_last_error());
	hand_begin(with_model);
	damage = scenarios[i].show();
	hand_end();
	CHECK(lab_bug_select("none") == 0, "select none");
	return damage;
}

static void test_hand(void)
{
	struct lab_c11_config cfg = {
		.threads = NTHREADS,
		.history = 16,
		.locations = 4096,
		.choose = hand_choose,
		.current = hand_current,
		.race = hand_race,
	};
	char err[256];
	unsigned i, t;

	model = lab_c11_create(&cfg, err, sizeof(err));
	CHECK(model != NULL, "%s", err);
	if (!model)
		return;
	for (t = 0; t < NTHREADS; t++)
		ctxs[t] = lab_ctx_create(0, "cpu");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const char *bug = scenarios[i].name;
		bool seeded = strcmp(bug, "none") != 0;
		bool c11 = hand_run(i, bug, true);
		bool c11_none = seeded ? hand_run(i, "none", true) : c11;
		bool sc = hand_run(i, bug, false);

		printf("%-26s %-24s c11 %s, c11 without the bug %s, sc %s\n",
		       bug, scenarios[i].what, c11 ? "damage" : "clean",
		       c11_none ? "damage" : "clean", sc ? "damage" : "clean");
		CHECK(c11 == seeded, "%s (%s): c11 mode %s", bug,
		      scenarios[i].what, c11 ? "shows damage" : "shows none");
		CHECK(!c11_none, "%s: damage without the bug", bug);
		CHECK(!sc, "%s: damage in the SC execution", bug);
	}
	for (t = 0; t < NTHREADS; t++)
		lab_ctx_destroy(ctxs[t]);
	lab_c11_destroy(model);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "hand";

	if (!LAB_HAVE_YIELD_POINTS || lab_bug_select("claim-race")) {
		printf("skip: no seeded bugs or hooks in this build\n");
		return 0;
	}
	lab_bug_select("none");
	if (!strcmp(what, "hand"))
		test_hand();
	else {
		fprintf(stderr, "usage: test_alloc_c11 hand|clean|found|sc\n");
		return 2;
	}
	printf("%s: %s\n", what, failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
