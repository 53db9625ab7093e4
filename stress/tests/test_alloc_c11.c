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
 *          latest store).  Three more pin down the correct allocator
 *          under C11: the waiter's protocol (two fixes the model found)
 *          and the spinlock's order.
 *   clean  The correct allocator in the real scheduler under the model
 *          (lab_sched_test.memory c11): three logical threads allocating,
 *          freeing, handing blocks over and checking ownership,
 *          interrupts, random walk and PCT, stale reads at half the
 *          reads-from choices: no finding in any schedule.
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
#include "scheduler.h" /* lab_on_yield: the runner's yield bridge */

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

/* lab_spin_lock orders its holders for the model too: T0 writes data
 * under the lock, T1 reads it under the lock.  The lock word goes through
 * the atomic hook; if it did not, the model would see no order between
 * the two and call the read a race (a false finding in user code). */
static lab_spinlock_t user_lock;
static char user_data[64];

static void op_locked_access(void *arg)
{
	bool write = arg != NULL;

	lab_spin_lock(&user_lock);
	user_access(user_data, write, write ? "user:locked-write" :
					      "user:locked-read");
	lab_spin_unlock(&user_lock);
}

static bool show_spinlock_orders(void)
{
	lab_spin_lock_init(&user_lock);
	as_thread(0, op_locked_access, user_data);
	as_thread(1, op_locked_access, NULL);
	return races > 0;
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
	{ "none", "spinlock holders", show_spinlock_orders },
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


/* ==== the real scheduler: a program of three logical threads ============= *
 *
 * Each thread runs a short program drawn from the schedule's seed:
 * allocations of every class, orders 0 and 1, some EXCLUSIVE, each block
 * stamped; frees of held blocks (stamp verified first); handovers to the
 * next thread.  An exclusive block is handed over through the allocator
 * alone: lab_page_handoff, then its address in a relaxed slot; the
 * receiver waits until lab_page_owner names it and lab_access_check
 * accepts it before it reads the stamp (the ordering comes from the
 * allocator's release and acquire, as in the free-running relaxed
 * profile).  A plain block goes through a release/acquire slot.
 * Interrupts allocate GFP_ATOMIC, stamp, verify and free.  The stamps are
 * annotated plain accesses, so an access the allocator leaves unordered
 * with another is a data-race finding; a report of the allocator, a
 * wrong stamp, a waiter asleep with frames free, or an inconsistent maze
 * at the end are findings too. */

#define OPS 10
#define HELD 4
#define STAMP 0x4c41424d4f524445ull

struct lthread {
	unsigned id;
	uint64_t rng;
	void *held[HELD];
	unsigned order[HELD];
	bool excl[HELD];
	unsigned nheld;
	_Atomic int wait_order; /* order of a GFP_KERNEL allocation, or -1 */
	const atomic_uint *_Atomic wait_word;
	atomic_uint wait_expected;
};

static struct {
	struct lab_maze *m;
	struct lthread t[NTHREADS];
	struct lab_ctx *ctx[NTHREADS], *main_ctx;
	/* slot[kind][from][to]: kind 0 exclusive (relaxed), 1 plain
	 * (release/acquire); value: address | order */
	lab_u64_t slot[2][NTHREADS][NTHREADS];
	bool model;
} P;

struct stamp {
	uint64_t magic, thread, addr;
};

static void stamp_write(unsigned t, void *p)
{
	struct stamp *st = p;

	lab_c11_sched_plain_write(p, sizeof(*st), "user:stamp");
	st->magic = STAMP;
	st->thread = t;
	st->addr = (uintptr_t)p;
}

static void stamp_check(void *p, const char *where)
{
	const struct stamp *st = p;

	lab_c11_sched_plain_read(p, sizeof(*st), "user:verify");
	if (st->magic != STAMP || st->addr != (uintptr_t)p)
		lab_sched_fail("stamp-mismatch", where,
			       "block %p lost its stamp (magic %llx)", p,
			       (unsigned long long)st->magic);
}

static void prog_free(unsigned order, void *p, const char *where)
{
	int ret;

	stamp_check(p, where);
	ret = lab_free_pages_addr(P.m, p, order);
	if (ret)
		lab_sched_fail("free-error", where, "free of %p: %d: %s", p,
			       ret, lab_last_error());
}

static void prog_drop(struct lthread *st, unsigned i)
{
	st->nheld--;
	st->held[i] = st->held[st->nheld];
	st->order[i] = st->order[st->nheld];
	st->excl[i] = st->excl[st->nheld];
}

static void prog_alloc(struct lthread *st, uint64_t r)
{
	static const lab_gfp_t cls[3] = { LAB_GFP_KERNEL, LAB_GFP_NOWAIT,
					  LAB_GFP_ATOMIC };
	bool excl = (r >> 8) % 3 == 0;
	unsigned order = (r >> 12) % 2;
	lab_gfp_t gfp = cls[(r >> 16) % 3] | (excl ? LAB_GFP_EXCLUSIVE : 0);
	void *p;

	if (st->nheld == HELD)
		return;
	atomic_store_explicit(&st->wait_order,
			      (gfp & LAB_GFP_DIRECT_RECLAIM) ? (int)order : -1,
			      memory_order_relaxed);
	p = alloc_addr(P.m, gfp, order);
	atomic_store_explicit(&st->wait_order, -1, memory_order_relaxed);
	if (!p)
		return;
	stamp_write(st->id, p);
	st->held[st->nheld] = p;
	st->order[st->nheld] = order;
	st->excl[st->nheld++] = excl;
}

/* Hands held block i to the next thread, if its slot is empty. */
static void prog_send(struct lthread *st, unsigned i)
{
	unsigned to = (st->id + 1) % NTHREADS, kind = st->excl[i] ? 0 : 1;
	lab_u64_t *slot = &P.slot[kind][st->id][to];
	lab_u64_t v = (uintptr_t)st->held[i] | st->order[i];
	lab_site_t site = LAB_SITE("send");

	if (lab_atomic_load_64(slot, __ATOMIC_RELAXED, site))
		return;
	if (kind == 0 &&
	    lab_page_handoff(P.m, lab_virt_to_page(P.m, st->held[i]),
			     st->order[i], lab_ctx_task_id(P.ctx[to])))
		lab_sched_fail("handoff-error", "send", "%s", lab_last_error());
	lab_atomic_store_64(slot, v,
			    kind ? __ATOMIC_RELEASE : __ATOMIC_RELAXED, site);
	prog_drop(st, i);
}

/* An exclusive block handed to us: ours once the descriptor says so
 * (the handoff came before the slot, so the wait is short; a stale read
 * ends within the model's stale-run bound). */
static void prog_take_exclusive(struct lthread *st, void *p,
				unsigned order)
{
	uint32_t me = lab_ctx_task_id(P.ctx[st->id]);
	struct lab_page *pg = lab_virt_to_page(P.m, p);

	while (lab_page_owner(P.m, pg) != me)
		lab_sched_spin(LAB_SITE("owner-wait"));
	if (lab_access_check(P.m, p, sizeof(struct stamp)))
		lab_sched_fail("access-refused", "take", "%s",
			       lab_last_error());
	prog_free(order, p, "take-exclusive");
}

static void prog_receive(struct lthread *st)
{
	unsigned from, kind;
	lab_site_t site = LAB_SITE("receive");

	for (kind = 0; kind < 2; kind++)
		for (from = 0; from < NTHREADS; from++) {
			lab_u64_t *slot = &P.slot[kind][from][st->id];
			lab_u64_t v = lab_atomic_load_64(
				slot, kind ? __ATOMIC_ACQUIRE : __ATOMIC_RELAXED,
				site);
			void *p = (void *)(uintptr_t)(v & ~(lab_u64_t)1);

			if (!v)
				continue;
			lab_atomic_store_64(slot, 0, __ATOMIC_RELAXED, site);
			if (kind == 0)
				prog_take_exclusive(st, p, v & 1);
			else
				prog_free(v & 1, p, "take-plain");
		}
}

static void prog_thread(void *arg)
{
	struct lthread *st = arg;
	unsigned op;

	for (op = 0; op < OPS; op++) {
		uint64_t r = lab_sched_splitmix(&st->rng);

		prog_receive(st);
		if (r % 8 < 4 || !st->nheld)
			prog_alloc(st, r);
		else if (r % 8 < 6)
			prog_send(st, (unsigned)(r >> 20) % st->nheld);
		else {
			unsigned i = (unsigned)(r >> 20) % st->nheld;

			prog_free(st->order[i], st->held[i], "free");
			prog_drop(st, i);
		}
		lab_sched_progress();
	}
	prog_receive(st);
	while (st->nheld) {
		prog_free(st->order[0], st->held[0], "drain");
		prog_drop(st, 0);
	}
}

static void prog_isr_body(void *arg)
{
	struct lthread *st = arg;
	void *p = alloc_addr(P.m, LAB_GFP_ATOMIC, 0);

	if (!p)
		return;
	stamp_write(st->id, p);
	prog_free(0, p, "isr");
}

static void prog_isr(void *arg, unsigned t)
{
	(void)arg;
	lab_irq_raise(prog_isr_body, &P.t[t]);
}

static void prog_on_report(const struct lab_report *r, void *arg)
{
	(void)arg;
	if (r->kind == LAB_REPORT_ALLOC_FAILURE)
		return;
	lab_sched_fail(lab_report_kind_name(r->kind), r->function, "%s",
		       r->message);
}

static void prog_on_switch(void *arg, int from, int to)
{
	(void)arg;
	(void)from;
	lab_ctx_switch(to >= 0 ? P.ctx[to] : P.main_ctx);
}

static bool prog_wait_ready(void *arg)
{
	struct lthread *st = arg;

	return atomic_load_explicit(atomic_load_explicit(&st->wait_word,
							 memory_order_relaxed),
				    memory_order_relaxed) !=
	       atomic_load_explicit(&st->wait_expected, memory_order_relaxed);
}

static int prog_wait(const atomic_uint *word, unsigned expected,
		     unsigned timeout_ms, void *arg)
{
	int t = lab_sched_current();

	(void)timeout_ms;
	(void)arg;
	if (t < 0)
		return 0;
	atomic_store_explicit(&P.t[t].wait_word, word, memory_order_relaxed);
	atomic_store_explicit(&P.t[t].wait_expected, expected,
			      memory_order_relaxed);
	return lab_sched_block(NULL, prog_wait_ready, &P.t[t], true);
}

/* Nobody can run: a GFP_KERNEL waiter the maze could serve lost its
 * wakeup (as the controlled runner checks, stress/runner.c).  The check
 * runs on the fiber of the thread that blocked last; lab_maze_stats reads
 * memory, not the model (it once went through the model as that thread's
 * loads, read stale counts and made a false finding here). */
static void prog_on_all_blocked(void *arg)
{
	struct lab_maze_stats st;
	unsigned t, k;

	(void)arg;
	if (lab_maze_stats(P.m, &st))
		return;
	for (t = 0; t < NTHREADS; t++) {
		int order = atomic_load_explicit(&P.t[t].wait_order,
						 memory_order_relaxed);

		if (order < 0 || st.free_frames < (1u << order) + st.wmark_min)
			continue;
		for (k = (unsigned)order; k <= LAB_MAX_ORDER_LIMIT; k++)
			if (st.free_blocks[k])
				lab_sched_fail_stuck("lost-wakeup",
						     "a GFP_KERNEL waiter sleeps "
						     "while free frames could "
						     "serve it");
	}
}

static uint64_t prog_seed;
/* The last hunt's decisions and model counters, for the summary lines. */
static uint64_t hunt_decisions;
static struct lab_c11_stats hunt_stats;

static int prog_setup(void *arg)
{
	static const struct lab_sched_hooks hooks = { lab_on_yield, prog_wait,
						      NULL };
	struct lab_maze_config cfg;
	unsigned t;

	(void)arg;
	lab_maze_config_init(&cfg, 4, 2);
	cfg.page_size = 256;
	cfg.max_order = 1;
	cfg.wmark_min = 0;
	cfg.wmark_low = 1;
	cfg.wmark_high = 2;
	cfg.pcp_high = 4;
	cfg.pcp_batch = 2;
	cfg.reclaim_rounds = 2;
	cfg.wait_timeout_ms = 1;
	cfg.report = prog_on_report;
	if (lab_maze_create(&cfg, &P.m))
		return -ENOMEM;
	memset(P.slot, 0, sizeof(P.slot));
	P.main_ctx = lab_ctx_current();
	for (t = 0; t < NTHREADS; t++) {
		struct lthread *st = &P.t[t];

		/* fresh contexts: a finding abandons a thread wherever it
		 * is, inside an interrupt or a cache section included */
		P.ctx[t] = lab_ctx_create(0, "lthread");

		memset(st, 0, sizeof(*st));
		st->id = t;
		st->rng = prog_seed * 0x9e3779b97f4a7c15ull + t;
		atomic_store(&st->wait_order, -1);
	}
	lab_set_sched_hooks(&hooks);
	return 0;
}

/* On main: what is left in the slots, then the whole-maze check (each
 * problem is a report, and so a finding). */
static void prog_teardown(void *arg)
{
	unsigned kind, from, to;

	(void)arg;
	lab_set_sched_hooks(NULL);
	for (kind = 0; kind < 2; kind++)
		for (from = 0; from < NTHREADS; from++)
			for (to = 0; to < NTHREADS; to++) {
				lab_u64_t v = P.slot[kind][from][to];
				struct lab_ctx *prev;

				if (!v)
					continue;
				prev = lab_ctx_switch(P.ctx[to]);
				lab_free_pages_addr(
					P.m, (void *)(uintptr_t)(v & ~1ull),
					v & 1);
				lab_ctx_switch(prev);
			}
	for (to = 0; to < NTHREADS; to++)
		lab_ctx_destroy(P.ctx[to]); /* gives its cache back */
	if (!lab_sched_found())
		lab_maze_check(P.m);
	lab_maze_destroy(P.m);
	P.m = NULL;
}

static void prog_describe(struct lab_sched_test *t, uint64_t seed,
			  enum lab_sched_strategy strategy)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->name = "alloc-c11";
	t->nthreads = NTHREADS;
	for (i = 0; i < NTHREADS; i++)
		t->threads[i] = (struct lab_sched_thread_desc){ prog_thread,
								&P.t[i] };
	t->setup = prog_setup;
	t->teardown = prog_teardown;
	t->isr = prog_isr;
	t->on_switch = prog_on_switch;
	t->on_all_blocked = prog_on_all_blocked;
	t->strategy = strategy;
	t->depth = 2;
	t->seed = seed;
	t->irq_permille = 50;
	t->stall_steps = 20000;
}

/* Runs up to `schedules` schedules of bug `bug`, under the model (stale
 * reads at half the reads-from choices, history 8) or not; returns the
 * schedule that found something (1-based) or 0, with its finding. */
static unsigned prog_hunt_from(const char *bug, bool with_model,
			       enum lab_sched_strategy strategy,
			       unsigned first, unsigned schedules,
			       struct lab_sched_finding *found)
{
	struct lab_sched_test t;
	struct lab_c11_stats before, after;
	unsigned i, hit = 0;

	hunt_decisions = 0;
	if (lab_bug_select(bug)) {
		CHECK(false, "%s", lab_last_error());
		return 0;
	}
	lab_sched_memory_stats(&before); /* the model's counters are sums */
	prog_describe(&t, 1, strategy);
	if (with_model) {
		t.memory = LAB_SCHED_MEM_C11;
		t.history = 8;
		t.stale_permille = 500;
	}
	lab_alloc_model_attach(); /* in SC mode: the plain C11 operations */
	for (i = 0; i < schedules && !hit; i++) {
		struct lab_sched_outcome out;
		uint64_t seed = 1000 + first - 1 + i;

		prog_seed = seed;
		t.seed = seed;
		if (lab_sched_run_test(&t, &out)) {
			CHECK(false, "run: %s", out.error);
			break;
		}
		if (out.found) {
			hit = first + i;
			*found = out.finding;
		}
		hunt_decisions += out.decisions;
		lab_sched_outcome_free(&out);
	}
	lab_alloc_model_detach();
	lab_sched_memory_stats(&after);
	hunt_stats.ops = after.ops - before.ops;
	hunt_stats.choices = after.choices - before.choices;
	hunt_stats.stale = after.stale - before.stale;
	hunt_stats.races = after.races - before.races;
	lab_bug_select("none");
	return hit;
}

static unsigned prog_hunt(const char *bug, bool with_model,
			  enum lab_sched_strategy strategy, unsigned schedules,
			  struct lab_sched_finding *found)
{
	return prog_hunt_from(bug, with_model, strategy, 1, schedules, found);
}

static const char *const strategies[] = { "random", "pct2" };

/* The correct allocator: nothing found, under the model and without. */
static void test_clean(unsigned schedules)
{
	struct lab_sched_finding f;
	unsigned s, hit;

	for (s = 0; s < 2; s++) {
		hit = prog_hunt("none", true, s ? LAB_SCHED_PCT : LAB_SCHED_RANDOM,
				schedules, &f);
		printf("none %s c11: %u schedules, %s (%llu decisions; model: "
		       "%llu ops, %llu loads with a choice, %llu stale, %llu "
		       "races)\n",
		       strategies[s], schedules, hit ? f.kind : "clean",
		       (unsigned long long)hunt_decisions, hunt_stats.ops,
		       hunt_stats.choices, hunt_stats.stale, hunt_stats.races);
		CHECK(!hit, "correct allocator, %s, schedule %u: %s at %s: %s",
		      strategies[s], hit, f.kind, f.where, f.message);
	}
}

/* The bugs this program reaches: each found in c11 mode (found), none in
 * SC mode (sc).  desc-publish-relaxed is not among them: every handover
 * here synchronises, which covers the publication (docs/bug-zoo.md). */
static const char *const reached[] = { "owner-no-acquire", "handoff-relaxed",
				       "relaxed-free-count", "claim-no-acquire",
				       "store-breaks-release-seq" };

static void test_bugs_found(bool with_model, unsigned schedules)
{
	struct lab_sched_finding f;
	unsigned b, s, hit;

	for (b = 0; b < sizeof(reached) / sizeof(reached[0]); b++)
		for (s = 0; s < 2; s++) {
			hit = prog_hunt(reached[b], with_model,
					s ? LAB_SCHED_PCT : LAB_SCHED_RANDOM,
					schedules, &f);
			printf("%-26s %-6s %s: %s", reached[b], strategies[s],
			       with_model ? "c11" : "sc", hit ? "found" : "missed");
			if (hit)
				printf(" in schedule %u: %s at %s", hit, f.kind,
				       f.where);
			printf("\n");
			CHECK(with_model ? hit != 0 : hit == 0,
			      "%s %s %s: %s", reached[b], strategies[s],
			      with_model ? "c11" : "sc",
			      hit ? f.message : "not found");
		}
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "hand";

	/* the release harness has the hooks but no seeded bugs (and no
	 * poisoning): only the correct allocator's run applies there */
	bool bugs = LAB_HAVE_YIELD_POINTS && !lab_bug_select("claim-race");

	if (!LAB_HAVE_YIELD_POINTS || (!bugs && strcmp(what, "clean"))) {
		printf("skip: no seeded bugs or hooks in this build\n");
		return 0;
	}
	lab_bug_select("none");
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;

	if (!strcmp(what, "hand"))
		test_hand();
	else if (!strcmp(what, "clean") || !strcmp(what, "found") ||
		 !strcmp(what, "sc")) {
		if (!strcmp(what, "clean"))
			test_clean(n ? n : 3000);
		else
			test_bugs_found(!strcmp(what, "found"),
					n ? n : !strcmp(what, "found") ? 10000 : 1000);
	} else if (!strcmp(what, "hunt") && argc == 6) {
		/* hunt BUG random|pct2 c11|sc SCHEDULES: how soon */
		struct lab_sched_finding f;
		unsigned hit = prog_hunt(argv[2], !strcmp(argv[4], "c11"),
					 strcmp(argv[3], "random") ?
						 LAB_SCHED_PCT :
						 LAB_SCHED_RANDOM,
					 (unsigned)strtoul(argv[5], NULL, 10),
					 &f);

		printf("%s: schedule %u, %llu decisions: %s %s\n", argv[2],
		       hit, (unsigned long long)hunt_decisions,
		       hit ? f.kind : "-", hit ? f.where : "");
	} else if (!strcmp(what, "one") && argc == 6) {
		/* one BUG random|pct2 c11|sc SCHEDULE: one schedule, its
		 * finding in full (for a failure of the others) */
		struct lab_sched_finding f;
		unsigned hit;

		hit = prog_hunt_from(argv[2], !strcmp(argv[4], "c11"),
				     strcmp(argv[3], "random") ? LAB_SCHED_PCT :
								 LAB_SCHED_RANDOM,
				     (unsigned)strtoul(argv[5], NULL, 10), 1,
				     &f);
		printf("%s\n", hit ? f.message : "no finding");
	} else {
		fprintf(stderr, "usage: test_alloc_c11 hand|clean|found|sc "
				"[SCHEDULES]\n"
				"       test_alloc_c11 one BUG random|pct2 c11|sc "
				"SCHEDULE\n");
		return 2;
	}
	printf("%s: %s\n", what, failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
