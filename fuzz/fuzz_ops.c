/* fuzz_ops.c - libFuzzer target: the input is a program of allocator
 * operations run by one thread in three contexts, with interrupt nesting,
 * IRQs disabled, preemption off, failure injection and interrupts raised
 * at a chosen yield point of an operation (format: fuzz_ops.h).
 *
 * After every operation the allocator is compared with
 *  - a shadow model: which frames are held, at which order, owned
 *    exclusively by whom, holding which pattern (no allocation may
 *    overlap a held block, no pattern may change); each call's return
 *    value; the reports the operation must draw (kinds and counts,
 *    exactly); owners, addresses and conversions; the context state;
 *  - the watermark rule (fz_alloc_judge), exactly where it is exact;
 *  - the mutex buddy baseline, when caches are off (fz_mirror_alloc).
 * The statistics (per-class attempts, successes, failures, injected
 * failures, reserve dips and waits; frees, misuse; free + cached + held =
 * frames; with nothing cached the free count and the free blocks of each
 * order, which a fully coalesced buddy maze fixes) are compared at a
 * snapshot every LAB_FUZZ_STATS_EVERY (default 16) operations that touch
 * the maze, and at the end: a snapshot sums every cache slot of the maze
 * and would otherwise cost most of the run.  Set LAB_FUZZ_STATS_EVERY=1
 * to pin a statistics difference to its operation, LAB_FUZZ_TRACE=1 to
 * print each operation.  Any difference aborts naming the operation; at
 * the end everything is freed and the maze must be whole and consistent
 * (lab_maze_check before the caches are drained, so that a corrupt cache
 * list is reported rather than drained forever).
 *
 * Speed: the checks that run per operation (model, patterns, verdicts,
 * expected reports) and the snapshots' comparisons are kept out of
 * coverage instrumentation (LAB_FUZZ_NO_COVERAGE, fuzz_coverage.h); the
 * allocator, the mutex buddy and the operations themselves stay
 * instrumented.  Mazes are reused across inputs (fz_maze_get), and a new
 * maze's first snapshot starts from zero counters (fz_fresh_stats).
 *
 * GFP_KERNEL never blocks here: the wait hook times out at once and there
 * are at most two reclaim rounds, so the run is fast and deterministic.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_ops.h"
#include "fuzz_shadow.h"
#include "mutex_buddy.h"

#define FZ_NO_BUSY UINT32_MAX
#define FZ_MAZE_CHECK_EVERY 4 /* snapshots between whole-maze checks */

_Static_assert(LAB_FZO_MAX_FRAMES <= LAB_FZS_MAX_FRAMES,
	       "the shadow model holds every frame of the largest maze");

/* What an interrupt handler does. */
struct fz_job {
	unsigned action, order, flags, slot;
};

struct fz;

/* One of the program's contexts, as the model sees it. */
struct fz_ctx {
	struct fz *st;
	struct lab_ctx *ctx;
	uint32_t task;
	unsigned irq, preempt, nsaved;
	unsigned long saved[LAB_FZO_MAX_SAVED];
	bool irqs_off, pending;
	struct fz_job job; /* of the pending interrupt */
};

/* What the current operation must do; filled while it runs. */
struct fz_expect {
	unsigned want[LAB_REPORT_KIND_COUNT], got[LAB_REPORT_KIND_COUNT];
	unsigned isr_runs; /* interrupt handlers run in this op */
	bool loose;	   /* a handler changed the maze mid-call */
	unsigned changes;  /* successful allocations and frees so far */
	bool touched;	   /* called something that moves the statistics */
	bool step_pending, step_injected; /* the main alloc's injection */
	char msg[200];			  /* last report's message */
};

/* How the statistics must have moved since the last snapshot. */
struct fz_window {
	uint64_t attempts[LAB_CLASS_COUNT], successes[LAB_CLASS_COUNT];
	uint64_t failures[LAB_CLASS_COUNT], injected[LAB_CLASS_COUNT];
	uint64_t waits[LAB_CLASS_COUNT], dips[LAB_CLASS_COUNT];
	uint64_t frees, misuse, sleep;
	bool dips_unknown, waits_unknown; /* not predictable in this window */
	unsigned first_op, touched;
};

struct fz {
	struct lab_fzo_header h;
	struct lab_maze *maze;
	struct lab_mbuddy *mb; /* made on first use (fz_mirror) */
	struct lab_maze_config mb_cfg;
	bool mb_synced; /* same free count and decisions as the maze */
	bool used;	/* some operation touched the maze */
	bool pcp;
	struct lab_fzs sh; /* held blocks; frames, page shift, max order */
	uint64_t wmark[3];
	size_t page_size, desc_size;
	uintptr_t base, desc0;
	struct fz_ctx ctx[LAB_FZO_CTXS];
	unsigned cur;
	uint64_t plan_skip, plan_count; /* the failure-injection plan */
	struct fz_job arm_next, arm_job;
	bool arm_next_set, arm_active, raising;
	bool ctx_gone; /* contexts destroyed: the thread's own is current */
	unsigned arm_k, arm_seen, in_isr;
	uint32_t busy_pfn;	    /* block an operation is working on */
	struct lab_maze_stats last; /* the last snapshot */
	struct fz_window win;
	struct fz_expect op;
	unsigned opno, snapshots;
	const char *opname;
};

static struct fz fz_state;
static unsigned fz_stats_every = 16; /* LAB_FUZZ_STATS_EVERY */
static bool fz_trace;		     /* LAB_FUZZ_TRACE: print every op */

/* Every check names the operation (index and kind) that failed. */
#define FZ_CHECK(st, cond, fmt, ...)                                       \
	LAB_FUZZ_CHECK(cond, "fuzz_ops op %u (%s%s): " fmt, (st)->opno,    \
		       (st)->opname, (st)->in_isr ? ", in interrupt" : "", \
		       __VA_ARGS__)

static bool fz_other_maze(const struct fz *st, uintptr_t p);

/* ---- the shadow model ------------------------------------------------- */

static struct fz_ctx *fz_cur(struct fz *st)
{
	return &st->ctx[st->cur];
}

/* lab_ctx_id() as the model predicts it. */
static LAB_FUZZ_NO_COVERAGE uint32_t fz_me(const struct fz *st)
{
	const struct fz_ctx *c = &st->ctx[st->cur];

	return c->task | (c->irq || st->in_isr ? LAB_CTX_IRQ_BIT : 0);
}

static LAB_FUZZ_NO_COVERAGE bool fz_atomic(const struct fz *st)
{
	const struct fz_ctx *c = &st->ctx[st->cur];

	return st->in_isr || c->irq || c->irqs_off || c->preempt;
}

static LAB_FUZZ_NO_COVERAGE void *fz_addr(const struct fz *st, uint64_t pfn)
{
	return (void *)(st->base + (uintptr_t)(pfn << st->sh.shift));
}

static LAB_FUZZ_NO_COVERAGE struct lab_page *fz_page(const struct fz *st,
						     uint64_t pfn)
{
	return (struct lab_page *)(st->desc0 + (uintptr_t)pfn * st->desc_size);
}

/* Records the report a verdict expects and checks the return value. */
static LAB_FUZZ_NO_COVERAGE void fz_expect(struct fz *st,
					   struct lab_fzs_verdict v, int ret,
					   const char *call, uint64_t pfn)
{
	if (v.kind != LAB_FZS_NONE)
		st->op.want[v.kind]++;
	FZ_CHECK(st, ret == v.ret, "%s at pfn %llu returned %d, expected %d",
		 call, (unsigned long long)pfn, ret, v.ret);
}

/* The lowest free level class gfp may take the maze to (alloc.c). */
static LAB_FUZZ_NO_COVERAGE uint64_t fz_mark(const struct fz *st, lab_gfp_t gfp)
{
	uint64_t m = st->wmark[0];

	if (gfp & LAB_GFP_HIGH) {
		m -= m / 2;
		if (!(gfp & LAB_GFP_DIRECT_RECLAIM))
			m -= m / 4;
	}
	return m;
}

static LAB_FUZZ_NO_COVERAGE bool
fz_has_block(const struct fz *st, const uint64_t *free_blocks, unsigned order)
{
	unsigned k;

	for (k = order; k <= st->sh.max_order; k++) {
		if (free_blocks[k])
			return true;
	}
	return false;
}

/* The watermark rule on a buddy state: free - 2^o >= mark(class) and a
 * free block of order >= o exists. */
static LAB_FUZZ_NO_COVERAGE bool fz_rule(const struct fz *st, uint64_t free,
					 const uint64_t *free_blocks,
					 lab_gfp_t gfp, unsigned order)
{
	uint64_t need = lab_fzs_size(order);

	return free >= need && free - need >= fz_mark(st, gfp) &&
	       fz_has_block(st, free_blocks, order);
}

/* Whether a free block of order >= `order` exists with caches off: one
 * does exactly when some aligned block of that order that fits the maze
 * holds no held frame (it lies inside a free block of its order or
 * larger). */
static LAB_FUZZ_NO_COVERAGE bool fz_model_has_block(const struct fz *st,
						    unsigned order)
{
	uint64_t pfn, i, n = lab_fzs_size(order);

	for (pfn = 0; pfn + n <= st->sh.frames; pfn += n) {
		for (i = 0; i < n && !st->sh.map[pfn + i]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

/* The largest block at free frame pfn that is aligned, fits the maze and
 * holds no held frame. */
static LAB_FUZZ_NO_COVERAGE unsigned fz_free_run(const struct fz *st,
						 uint64_t pfn)
{
	unsigned k = 0;

	while (k < st->sh.max_order && !(pfn & lab_fzs_size(k)) &&
	       pfn + lab_fzs_size(k + 1) <= st->sh.frames) {
		uint64_t i, end = pfn + lab_fzs_size(k + 1);

		for (i = pfn + lab_fzs_size(k); i < end && !st->sh.map[i]; i++)
			;
		if (i < end)
			break;
		k++;
	}
	return k;
}

/* Free blocks of each order with caches off.  A fully coalesced buddy's
 * free blocks are fixed by its free frames: from the left, each free
 * frame starts the largest aligned, fitting, entirely free block there
 * (two free buddies are always merged, a block whose buddy lies past the
 * end never is). */
static LAB_FUZZ_NO_COVERAGE void fz_model_blocks(const struct fz *st,
						 uint64_t *free_blocks)
{
	uint64_t pfn = 0;
	unsigned k;

	memset(free_blocks, 0, sizeof(uint64_t) * (LAB_MAX_ORDER_LIMIT + 1));
	while (pfn < st->sh.frames) {
		const struct lab_fzs_block *b =
			st->sh.map[pfn] ? &st->sh.held[st->sh.map[pfn] - 1] :
					  NULL;

		if (b) {
			pfn = b->pfn + lab_fzs_size(b->order);
			continue;
		}
		k = fz_free_run(st, pfn);
		free_blocks[k]++;
		pfn += lab_fzs_size(k);
	}
}

/* ---- reports and patterns ------------------------------------------------ */

/* Records every report; the operation's end compares them with what it
 * expected.  Runs synchronously in the allocator (never in a real signal
 * here), so it may check and abort. */
static LAB_FUZZ_NO_COVERAGE void fz_report(const struct lab_report *r,
					   void *arg)
{
	struct fz *st = arg;
	size_t i;

	FZ_CHECK(st, (unsigned)r->kind < LAB_REPORT_KIND_COUNT,
		 "report of unknown kind %d", (int)r->kind);
	FZ_CHECK(st, !r->maze || r->maze == st->maze,
		 "report names another maze: %s", r->message);
	st->op.got[r->kind]++;
	if (r->maze && r->kind == LAB_REPORT_SLEEP_IN_ATOMIC)
		st->win.sleep++;
	else if (r->maze)
		st->win.misuse++;
	for (i = 0; i + 1 < sizeof(st->op.msg) && r->message[i]; i++)
		st->op.msg[i] = r->message[i];
	st->op.msg[i] = '\0';
}

static LAB_FUZZ_NO_COVERAGE uint64_t fz_word(uint32_t stamp, uint64_t pfn,
					     size_t i)
{
	return (stamp * 0x9e3779b97f4a7c15ull) ^ (pfn << 32) ^ i;
}

static LAB_FUZZ_NO_COVERAGE size_t fz_words(const struct fz *st,
					    const struct lab_fzs_block *b)
{
	return (size_t)(lab_fzs_size(b->order) << st->sh.shift) /
	       sizeof(uint64_t);
}

static LAB_FUZZ_NO_COVERAGE void fz_fill(struct fz *st, struct lab_fzs_block *b,
					 uint32_t stamp)
{
	uint64_t *p = fz_addr(st, b->pfn);
	size_t i, n = fz_words(st, b);

	for (i = 0; i < n; i++)
		p[i] = fz_word(stamp, b->pfn, i);
	b->stamp = stamp;
}

/* The pattern must survive while the block is held: a change means some
 * other allocation was given the same frames. */
static LAB_FUZZ_NO_COVERAGE void fz_verify(struct fz *st,
					   const struct lab_fzs_block *b)
{
	const uint64_t *p = fz_addr(st, b->pfn);
	size_t i, n = fz_words(st, b);

	for (i = 0; b->stamp && i < n; i++)
		FZ_CHECK(st, p[i] == fz_word(b->stamp, b->pfn, i),
			 "block pfn %u order %u: pattern word %zu changed "
			 "(handed out twice?)",
			 b->pfn, b->order, i);
}

static LAB_FUZZ_NO_COVERAGE void fz_check_zero(struct fz *st,
					       const struct lab_fzs_block *b)
{
	const uint64_t *p = fz_addr(st, b->pfn);
	size_t i, n = fz_words(st, b);

	for (i = 0; i < n; i++)
		FZ_CHECK(st, !p[i], "GFP_ZERO block pfn %u: word %zu not 0",
			 b->pfn, i);
}

/* ---- the mutex buddy baseline ------------------------------------------- *
 * With caches off both allocators follow the same watermark rule from the
 * same free count, so their decisions may differ only by fragmentation
 * (they pick different blocks).  A difference must be explained by the
 * failing side having no free block of the order; the baseline then drops
 * its extra block, or, if the labyrinth got one the baseline could not,
 * stops being compared (mb_synced) for the rest of the input. */

/* The baseline while it is compared, made on first use (most inputs
 * never get there).  Until then the maze holds nothing it lacks: every
 * block taken while synced is mirrored.  It takes every configuration
 * lab_maze_create() took. */
static struct lab_mbuddy *fz_mirror(struct fz *st)
{
	const struct lab_maze_config *cfg = &st->mb_cfg;

	if (!st->mb_synced || st->mb)
		return st->mb_synced ? st->mb : NULL;
	st->mb = lab_mbuddy_create(cfg);
	FZ_CHECK(st, st->mb, "lab_mbuddy_create: %s", lab_last_error());
	st->mb_synced = st->mb != NULL;
	return st->mb;
}

static LAB_FUZZ_NO_COVERAGE void fz_mirror_alloc(struct fz *st,
						 struct lab_fzs_block *b,
						 lab_gfp_t gfp, unsigned order)
{
	struct lab_mbuddy *mb = fz_mirror(st);
	struct lab_maze_stats ms;
	void *m;

	if (!mb)
		return;
	/* Without ZERO: same decision, and the baseline's pages stay
	 * untouched (no page faults in a fresh mapping every input). */
	m = lab_mbuddy_alloc(mb, gfp & ~LAB_GFP_ZERO, order);
	if (b && m)
		b->mirror = m;
	if (!b == !m)
		return;
	if (m) {
		FZ_CHECK(st, !fz_model_has_block(st, order),
			 "mutex buddy allocated order %u gfp %x, labyrinth "
			 "refused with a free block of that order",
			 order, gfp);
		FZ_CHECK(st, !lab_mbuddy_free(mb, m, order),
			 "mutex buddy free failed: %s", lab_last_error());
		return;
	}
	lab_mbuddy_stats(mb, &ms);
	FZ_CHECK(st, !fz_has_block(st, ms.free_blocks, order),
		 "labyrinth allocated order %u gfp %x, mutex buddy refused "
		 "with a free block of that order",
		 order, gfp);
	st->mb_synced = false;
}

/* ---- failure injection ---------------------------------------------------- */

/* One allocation passes the injection point (stats.c's fail_plan). */
static LAB_FUZZ_NO_COVERAGE bool fz_plan_step(struct fz *st)
{
	if (!st->plan_count)
		return false;
	if (st->plan_skip) {
		st->plan_skip--;
		return false;
	}
	st->plan_count--;
	return true;
}

/* ---- allocating and freeing, for operations and interrupt handlers ----- */

enum fz_mode {
	FZ_MAIN,      /* the operation's own call */
	FZ_ISR_EXACT, /* a handler run with the maze quiescent */
	FZ_ISR_LOOSE  /* a handler run in the middle of an allocator call */
};

/* Calls the allocator; returns the pfn it gave, or LAB_NO_PFN. */
static uint64_t fz_alloc_call(struct fz *st, lab_gfp_t gfp, unsigned order,
			      bool by_addr)
{
	struct lab_page *page;
	void *addr = NULL;
	uint64_t pfn;

	st->op.touched = true;
	if (by_addr) {
		addr = lab_get_free_pages(st->maze, gfp, order);
		page = addr ? lab_virt_to_page(st->maze, addr) : NULL;
	} else {
		page = lab_alloc_pages(st->maze, gfp, order);
	}
	if (!page)
		return LAB_NO_PFN;
	pfn = lab_page_to_pfn(st->maze, page);
	FZ_CHECK(st, pfn < st->sh.frames && !(pfn & (lab_fzs_size(order) - 1)),
		 "alloc order %u gave pfn %llu, not an aligned frame", order,
		 (unsigned long long)pfn);
	FZ_CHECK(st, !by_addr || addr == fz_addr(st, pfn),
		 "lab_get_free_pages returned %p for pfn %llu", addr,
		 (unsigned long long)pfn);
	return pfn;
}

/* Counters and reports an allocation outcome must produce.  A reserve
 * dip (free below min after a success) is predictable with caches off
 * and the maze quiescent: free was frames - held before the call. */
static LAB_FUZZ_NO_COVERAGE void fz_alloc_count(struct fz *st, lab_gfp_t gfp,
						unsigned order, bool ok,
						bool injected, bool exact)
{
	enum lab_gfp_class c = lab_gfp_class(gfp);
	uint64_t after =
		st->sh.frames - st->sh.held_frames - lab_fzs_size(order);

	st->win.attempts[c]++;
	if (ok) {
		st->win.successes[c]++;
		if (exact && !st->pcp)
			st->win.dips[c] += after < st->wmark[0];
		else
			st->win.dips_unknown = true;
		if (!exact && c == LAB_CLASS_KERNEL)
			st->win.waits_unknown = true; /* freed while waiting */
		return;
	}
	st->win.failures[c]++;
	if (injected)
		st->win.injected[c]++;
	else if (c == LAB_CLASS_KERNEL)
		st->win.waits[c] += st->h.reclaim_rounds; /* every round */
	if (!(gfp & LAB_GFP_NOWARN))
		st->op.want[LAB_REPORT_ALLOC_FAILURE]++;
}

/* The watermark rule, judged where it is exact: no interrupt changed the
 * maze during the call, so the model's held frames are those before it
 * and free + cached = frames - held.  R(s) is fz_rule on state s.
 *  - Caches off: free = frames - held and the model knows the free
 *    blocks, so the call succeeds if and only if R holds.
 *  - Caches on: a success takes frames the count allows (buddy frames
 *    above the mark, or cached ones, which count as taken already), so
 *    frames - held - 2^o >= mark.  A failure must leave R false on the
 *    state after the call: the slow path drained our cache there, and
 *    draining only adds free frames and blocks, so R after is false only
 *    if R before was.  When the count alone explains the failure nothing
 *    is read; otherwise a snapshot is taken. */
static LAB_FUZZ_NO_COVERAGE void fz_alloc_judge(struct fz *st, lab_gfp_t gfp,
						unsigned order, bool ok)
{
	uint64_t avail = st->sh.frames - st->sh.held_frames,
		 need = lab_fzs_size(order);
	bool counts = avail >= need && avail - need >= fz_mark(st, gfp);
	struct lab_maze_stats s;

	if (!st->pcp) {
		FZ_CHECK(st, ok == (counts && fz_model_has_block(st, order)),
			 "order %u gfp %x %s with %llu frames free, mark %llu",
			 order, gfp, ok ? "succeeded" : "failed",
			 (unsigned long long)avail,
			 (unsigned long long)fz_mark(st, gfp));
		return;
	}
	FZ_CHECK(st, !ok || counts,
		 "order %u gfp %x succeeded with %llu frames free or cached, "
		 "mark %llu",
		 order, gfp, (unsigned long long)avail,
		 (unsigned long long)fz_mark(st, gfp));
	if (ok || !counts)
		return;
	lab_maze_stats(st->maze, &s);
	FZ_CHECK(st, !fz_rule(st, s.free_frames, s.free_blocks, gfp, order),
		 "order %u gfp %x failed with %llu frames free (%llu cached) "
		 "above mark %llu and a free block of that order",
		 order, gfp, (unsigned long long)s.free_frames,
		 (unsigned long long)s.cached_frames,
		 (unsigned long long)fz_mark(st, gfp));
}

/* Takes a freshly allocated block into the model: no overlap with what is
 * held, the right owner, zeroed if asked. */
static LAB_FUZZ_NO_COVERAGE struct lab_fzs_block *
fz_adopt(struct fz *st, uint64_t pfn, lab_gfp_t gfp, unsigned order)
{
	bool excl = gfp & LAB_GFP_EXCLUSIVE;
	uint32_t owner = lab_page_owner(st->maze, fz_page(st, pfn));
	struct lab_fzs_block *b;
	uint64_t i;

	for (i = 0; i < lab_fzs_size(order); i++) {
		b = lab_fzs_block_at(&st->sh, pfn + i);
		FZ_CHECK(st, !b,
			 "alloc gave pfn %llu order %u, but frame %llu is in "
			 "the held block at pfn %u order %u",
			 (unsigned long long)pfn, order,
			 (unsigned long long)(pfn + i), b ? b->pfn : 0,
			 b ? b->order : 0);
	}
	FZ_CHECK(st, owner == (excl ? fz_me(st) : 0),
		 "new block pfn %llu has owner %x, expected %x",
		 (unsigned long long)pfn, owner, excl ? fz_me(st) : 0);
	b = lab_fzs_hold(&st->sh, pfn, order, excl, fz_me(st));
	if (gfp & LAB_GFP_ZERO)
		fz_check_zero(st, b);
	st->op.changes++;
	return b;
}

/* The main allocation's injection step happens when it passes the
 * injection point; an interrupt raised before that (at alloc:enter) steps
 * first (fz_raise). */
static bool fz_main_injected(struct fz *st)
{
	if (st->op.step_pending) {
		st->op.step_injected = fz_plan_step(st);
		st->op.step_pending = false;
	}
	return st->op.step_injected;
}

/* Allocates and checks everything about the outcome; the new block, or
 * NULL. */
static struct lab_fzs_block *fz_alloc(struct fz *st, lab_gfp_t gfp,
				      unsigned order, bool by_addr,
				      enum fz_mode mode)
{
	bool injected = false, exact;
	struct lab_fzs_block *b = NULL;
	uint64_t pfn;

	if (lab_gfp_may_block(gfp) && fz_atomic(st)) {
		st->op.want[LAB_REPORT_SLEEP_IN_ATOMIC]++;
		pfn = fz_alloc_call(st, gfp, order, by_addr);
		FZ_CHECK(st, pfn == LAB_NO_PFN,
			 "GFP_KERNEL from atomic context gave pfn %llu",
			 (unsigned long long)pfn);
		return NULL;
	}
	if (mode == FZ_MAIN)
		st->op.step_pending = true;
	else
		injected = fz_plan_step(st);
	pfn = fz_alloc_call(st, gfp, order, by_addr);
	if (mode == FZ_MAIN)
		injected = fz_main_injected(st);
	exact = mode == FZ_ISR_EXACT || (mode == FZ_MAIN && !st->op.loose);
	fz_alloc_count(st, gfp, order, pfn != LAB_NO_PFN, injected, exact);
	FZ_CHECK(st, !injected || pfn == LAB_NO_PFN,
		 "injected failure did not happen (order %u gfp %x)", order,
		 gfp);
	if (exact && !injected)
		fz_alloc_judge(st, gfp, order, pfn != LAB_NO_PFN);
	if (pfn != LAB_NO_PFN)
		b = fz_adopt(st, pfn, gfp, order);
	if (exact && !injected)
		fz_mirror_alloc(st, b, gfp, order);
	return b;
}

static LAB_FUZZ_NO_COVERAGE void fz_forget(struct fz *st,
					   struct lab_fzs_block *b)
{
	if (b->mirror)
		FZ_CHECK(st, !lab_mbuddy_free(st->mb, b->mirror, b->order),
			 "mutex buddy refused to free pfn %u's mirror: %s",
			 b->pfn, lab_last_error());
	st->win.frees++;
	st->op.changes++;
	lab_fzs_unhold(&st->sh, b);
}

/* Frees (pfn, order) by descriptor or address and checks the outcome;
 * true if the block was freed.  The verdict is taken after the call: an
 * interrupt at free:enter (the only yield point before the verdict) may
 * have changed the frame, and the model has seen that change too. */
static bool fz_free(struct fz *st, uint64_t pfn, unsigned order, bool by_desc)
{
	struct lab_fzs_block *b = lab_fzs_block_at(&st->sh, pfn);
	uint32_t busy = st->busy_pfn;
	int ret;

	if (b) {
		fz_verify(st, b);
		st->busy_pfn = b->pfn;
	}
	st->op.touched = true;
	ret = by_desc ? lab_free_pages(st->maze, fz_page(st, pfn), order) :
			lab_free_pages_addr(st->maze, fz_addr(st, pfn), order);
	st->busy_pfn = busy;
	fz_expect(st, lab_fzs_free_verdict(&st->sh, pfn, order, fz_me(st)), ret,
		  "free", pfn);
	if (ret)
		return false;
	fz_forget(st, lab_fzs_block_at(&st->sh, pfn));
	return true;
}

/* ---- interrupts ------------------------------------------------------------ */

static bool fz_isr_alloc(struct fz *st, const struct fz_job *job,
			 enum fz_mode mode)
{
	lab_gfp_t gfp = (job->flags & LAB_FZO_ISR_NOWAIT ? LAB_GFP_NOWAIT :
							   LAB_GFP_ATOMIC) |
			(job->flags & LAB_FZO_ISR_EXCL ? LAB_GFP_EXCLUSIVE : 0);
	struct lab_fzs_block *b = fz_alloc(st, gfp, job->order, false, mode);

	if (!b || job->action == LAB_FZO_ISR_ALLOC_KEEP)
		return b != NULL;
	FZ_CHECK(st, fz_free(st, b->pfn, b->order, false),
		 "handler could not free its own block at pfn %u", b->pfn);
	return false;
}

/* Frees a held block from the handler, unless the interrupted operation
 * is working on it. */
static bool fz_isr_free(struct fz *st, const struct fz_job *job)
{
	struct lab_fzs_block *b;

	if (!st->sh.nheld)
		return false;
	b = &st->sh.held[job->slot % st->sh.nheld];
	if (st->busy_pfn != FZ_NO_BUSY && st->busy_pfn >= b->pfn &&
	    st->busy_pfn < b->pfn + lab_fzs_size(b->order))
		return false;
	return fz_free(st, b->pfn, b->order, false);
}

/* The interrupt handler.  Raised at a yield point it finds the allocator
 * mid-call: its own decisions are then not exact, and if it changed the
 * maze (or caches are on) neither is the interrupted operation's. */
static void fz_isr(void *arg)
{
	struct fz_ctx *c = arg;
	struct fz *st = c->st;
	struct fz_job job = c->job;
	bool from_yield = st->raising, changed;
	enum fz_mode mode = from_yield || st->op.changes ? FZ_ISR_LOOSE :
							   FZ_ISR_EXACT;

	st->raising = false;
	c->pending = false;
	st->in_isr++;
	st->op.isr_runs++;
	FZ_CHECK(st, c == fz_cur(st) && lab_in_irq() && lab_irqs_disabled(),
		 "handler of context %u runs with in_irq %d", c->task,
		 lab_in_irq());
	if (job.action == LAB_FZO_ISR_FREE)
		changed = fz_isr_free(st, &job);
	else
		changed = fz_isr_alloc(st, &job, mode);
	if (from_yield && (st->pcp || changed)) {
		st->op.loose = true;
		st->mb_synced = false;
	}
	st->in_isr--;
}

/* Raises the armed interrupt on the current context: it runs now, or
 * stays pending if IRQs are off (a second one then coalesces). */
static void fz_raise(struct fz *st, enum lab_yield_point point)
{
	struct fz_ctx *c = fz_cur(st);
	bool ran, coalesce = c->irqs_off && c->pending;

	if (point != LAB_YP_ALLOC_ENTER)
		(void)fz_main_injected(st);
	if (!coalesce) {
		c->job = st->arm_job;
		c->pending = c->irqs_off;
	}
	if (fz_trace)
		fprintf(stderr, "op %u: interrupt raised at %s%s\n", st->opno,
			lab_yield_point_name(point),
			c->irqs_off ? " (IRQs off: pending)" : "");
	st->raising = !c->irqs_off;
	ran = lab_irq_raise(fz_isr, c);
	st->raising = false;
	FZ_CHECK(st, ran == !c->irqs_off,
		 "lab_irq_raise at %s returned %d with IRQs %s",
		 lab_yield_point_name(point), ran, c->irqs_off ? "off" : "on");
}

static void fz_yield(enum lab_yield_point point, void *arg)
{
	struct fz *st = arg;

	if (!st->arm_active || st->in_isr || st->arm_seen++ != st->arm_k)
		return;
	st->arm_active = false;
	fz_raise(st, point);
}

/* GFP_KERNEL never sleeps here: every wait times out at once. */
static int fz_wait(const atomic_uint *word, unsigned expected,
		   unsigned timeout_ms, void *arg)
{
	(void)word;
	(void)expected;
	(void)timeout_ms;
	(void)arg;
	return -ETIMEDOUT;
}

/* ---- operations ------------------------------------------------------------- */

static unsigned fz_in(struct lab_fi *in, uint64_t n)
{
	return (unsigned)lab_fi_range(in, n);
}

/* A held block named by one input byte, or NULL if none is held. */
static struct lab_fzs_block *fz_slot(struct fz *st, struct lab_fi *in)
{
	unsigned v = fz_in(in, st->sh.nheld);

	return st->sh.nheld ? &st->sh.held[v] : NULL;
}

static void fz_op_alloc(struct fz *st, struct lab_fi *in)
{
	static const lab_gfp_t classes[] = { LAB_GFP_KERNEL, LAB_GFP_NOWAIT,
					     LAB_GFP_ATOMIC,
					     LAB_GFP_KERNEL | LAB_GFP_HIGH };
	unsigned cls = fz_in(in, 4), mods = fz_in(in, 16);
	unsigned order = fz_in(in, st->sh.max_order + 1);
	lab_gfp_t gfp = classes[cls];

	gfp |= mods & LAB_FZO_MOD_ZERO ? LAB_GFP_ZERO : 0;
	gfp |= mods & LAB_FZO_MOD_NOWARN ? LAB_GFP_NOWARN : 0;
	gfp |= mods & LAB_FZO_MOD_EXCL ? LAB_GFP_EXCLUSIVE : 0;
	fz_alloc(st, gfp, order, mods & LAB_FZO_MOD_ADDR, FZ_MAIN);
}

static void fz_op_free(struct fz *st, struct lab_fi *in)
{
	struct lab_fzs_block *b = fz_slot(st, in);
	bool by_desc = lab_fi_bool(in);
	unsigned delta = fz_in(in, 4);

	if (b)
		fz_free(st, b->pfn,
			delta ? (b->order + delta) % (st->sh.max_order + 2) :
				b->order,
			by_desc);
}

static void fz_op_free_at(struct fz *st, struct lab_fi *in)
{
	unsigned pfn = fz_in(in, st->sh.frames);
	unsigned order = fz_in(in, st->sh.max_order + 2);

	fz_free(st, pfn, order, lab_fi_bool(in));
}

/* Pointers that are no block start of this maze: the allocator must
 * reject them by range before touching anything. */
static void fz_op_free_ptr(struct fz *st, struct lab_fi *in)
{
	unsigned kind = fz_in(in, 4), pfn = fz_in(in, st->sh.frames);
	unsigned off = lab_fi_u8(in), far = 1 + off / 2 % 4;
	uintptr_t bytes = (uintptr_t)(st->sh.frames << st->sh.shift), p;
	enum lab_report_kind want = LAB_REPORT_BAD_POINTER;
	int ret;

	if (kind == LAB_FZO_PTR_MISALIGNED)
		p = (uintptr_t)fz_addr(st, pfn) + 1 + off % (st->page_size - 1);
	else if (kind == LAB_FZO_PTR_OUTSIDE)
		p = off & 1 ? st->base - far * st->page_size :
			      st->base + bytes + (far - 1) * st->page_size;
	else if (kind == LAB_FZO_DESC_MISALIGNED)
		p = (uintptr_t)fz_page(st, pfn) + 1 + off % (st->desc_size - 1);
	else
		p = off & 1 ? st->desc0 - far * st->desc_size :
			      st->desc0 +
				      (st->sh.frames + far - 1) * st->desc_size;
	if (kind == LAB_FZO_PTR_OUTSIDE)
		want = fz_other_maze(st, p) ? LAB_REPORT_WRONG_MAZE :
					      LAB_REPORT_OUT_OF_RANGE;
	st->op.touched = true;
	if (kind <= LAB_FZO_PTR_OUTSIDE)
		ret = lab_free_pages_addr(st->maze, (void *)p, 0);
	else
		ret = lab_free_pages(st->maze, (struct lab_page *)p, 0);
	fz_expect(st, (struct lab_fzs_verdict){ -EFAULT, want }, ret,
		  "bad free", pfn);
}

static void fz_op_write(struct fz *st, struct lab_fi *in)
{
	struct lab_fzs_block *b = fz_slot(st, in);
	unsigned seed = lab_fi_u8(in);
	size_t bytes;
	int ret;

	if (!b)
		return;
	bytes = (size_t)lab_fzs_size(b->order) << st->sh.shift;
	ret = lab_access_check(st->maze, fz_addr(st, b->pfn), bytes);
	fz_expect(st,
		  lab_fzs_access_verdict(&st->sh, b->pfn, 0, bytes, fz_me(st)),
		  ret, "lab_access_check", b->pfn);
	if (!ret)
		fz_fill(st, b, seed + 1);
}

/* Address, owner and conversions of a held block, and its pattern. */
static void fz_op_verify(struct fz *st, struct lab_fi *in)
{
	struct lab_fzs_block *b = fz_slot(st, in);
	uint64_t last;
	void *addr;

	if (!b)
		return;
	last = b->pfn + lab_fzs_size(b->order) - 1;
	addr = lab_page_address(st->maze, fz_page(st, b->pfn));
	if (b->excl && b->owner != fz_me(st))
		st->op.want[LAB_REPORT_FOREIGN_ACCESS]++;
	else
		FZ_CHECK(st, addr == fz_addr(st, b->pfn),
			 "lab_page_address of pfn %u gave %p", b->pfn, addr);
	FZ_CHECK(st, lab_page_owner(st->maze, fz_page(st, b->pfn)) == b->owner,
		 "owner of pfn %u is not %x", b->pfn, b->owner);
	FZ_CHECK(st, lab_page_to_pfn(st->maze, fz_page(st, b->pfn)) == b->pfn,
		 "lab_page_to_pfn of pfn %u", b->pfn);
	addr = (char *)fz_addr(st, last) + st->page_size - 1;
	FZ_CHECK(st, lab_virt_to_page(st->maze, addr) == fz_page(st, last),
		 "lab_virt_to_page of the last byte of pfn %llu",
		 (unsigned long long)last);
	fz_verify(st, b);
}

/* lab_access_check of arbitrary ranges: free frames, tails, past the
 * block, past the maze. */
static void fz_op_access(struct fz *st, struct lab_fi *in)
{
	unsigned pfn = fz_in(in, st->sh.frames + 1);
	size_t off = fz_in(in, st->page_size), len = 1, end = 0;
	unsigned kind = fz_in(in, 4);
	const struct lab_fzs_block *b = lab_fzs_block_at(&st->sh, pfn);
	char *addr = (char *)fz_addr(st, pfn) + off;
	struct lab_fzs_verdict v;
	int ret;

	if (b)
		end = (size_t)(b->pfn + lab_fzs_size(b->order) - pfn)
		      << st->sh.shift;
	if (kind == LAB_FZO_LEN_FRAME)
		len = st->page_size - off;
	else if (kind == LAB_FZO_LEN_BLOCK && b)
		len = end - off;
	else if (kind == LAB_FZO_LEN_PAST && b)
		len = end - off + 1;
	if (pfn < st->sh.frames)
		v = lab_fzs_access_verdict(&st->sh, pfn, off, len, fz_me(st));
	else
		v = lab_fzs_v(-EFAULT, fz_other_maze(st, (uintptr_t)addr) ?
					       LAB_REPORT_WRONG_MAZE :
					       LAB_REPORT_OUT_OF_RANGE);
	ret = lab_access_check(st->maze, addr, len);
	fz_expect(st, v, ret, "lab_access_check", pfn);
}

static void fz_op_handoff(struct fz *st, struct lab_fi *in)
{
	struct lab_fzs_block *b = fz_slot(st, in);
	unsigned target = fz_in(in, 2 * LAB_FZO_CTXS);
	bool wrong = lab_fi_bool(in);
	uint32_t owner = st->ctx[target / 2].task |
			 (target & 1 ? LAB_CTX_IRQ_BIT : 0);
	unsigned order;
	uint32_t pfn;
	int ret;

	if (!b)
		return;
	pfn = b->pfn;
	order = wrong ? (b->order + 1) % (st->sh.max_order + 1) : b->order;
	st->busy_pfn = pfn;
	ret = lab_page_handoff(st->maze, fz_page(st, pfn), order, owner);
	st->busy_pfn = FZ_NO_BUSY;
	fz_expect(st, lab_fzs_handoff_verdict(&st->sh, pfn, order, fz_me(st)),
		  ret, "handoff", pfn);
	b = lab_fzs_block_at(&st->sh, pfn); /* a handler may have moved it */
	if (!ret) {
		b->excl = true;
		b->owner = owner;
	}
	FZ_CHECK(st, lab_page_owner(st->maze, fz_page(st, pfn)) == b->owner,
		 "owner of pfn %u after handoff is not %x", pfn, b->owner);
}

/* Makes context i current, creating it on first use: most inputs run in
 * one or two of the three, and a context is a zeroed allocation. */
static void fz_switch(struct fz *st, unsigned i)
{
	struct fz_ctx *c = &st->ctx[i];

	if (!c->ctx) {
		c->ctx = lab_ctx_create(c->task, "fuzz-ops");
		FZ_CHECK(st, c->ctx, "lab_ctx_create: %s", lab_last_error());
	}
	lab_ctx_switch(c->ctx);
	st->cur = i;
}

static void fz_op_switch(struct fz *st, struct lab_fi *in)
{
	fz_switch(st, fz_in(in, LAB_FZO_CTXS));
}

/* Raises a nesting count (IRQ or preempt) of the current context, up to
 * max as the model bounds it. */
static void fz_nest_in(unsigned *count, unsigned max, void (*enter)(void))
{
	if (*count == max)
		return;
	enter();
	(*count)++;
}

/* Lowers it; at 0 the call is unbalanced and must be reported. */
static void fz_nest_out(struct fz *st, unsigned *count, void (*leave)(void))
{
	if (*count)
		(*count)--;
	else
		st->op.want[LAB_REPORT_CONTEXT]++;
	leave();
}

static void fz_op_irq_enter(struct fz *st, struct lab_fi *in)
{
	(void)in;
	fz_nest_in(&fz_cur(st)->irq, LAB_FZO_MAX_IRQ, lab_irq_enter);
}

static void fz_op_irq_exit(struct fz *st, struct lab_fi *in)
{
	(void)in;
	fz_nest_out(st, &fz_cur(st)->irq, lab_irq_exit);
}

static void fz_op_irq_save(struct fz *st, struct lab_fi *in)
{
	struct fz_ctx *c = fz_cur(st);
	unsigned long flags;

	(void)in;
	if (c->nsaved == LAB_FZO_MAX_SAVED)
		return;
	flags = lab_local_irq_save();
	FZ_CHECK(st, !flags == !c->irqs_off, "lab_local_irq_save gave %lu",
		 flags);
	c->saved[c->nsaved++] = flags;
	c->irqs_off = true;
}

/* Restoring to enabled runs a pending interrupt, here and now. */
static void fz_irq_restore(struct fz *st)
{
	struct fz_ctx *c = fz_cur(st);
	unsigned long flags = c->saved[--c->nsaved];

	c->irqs_off = flags != 0;
	lab_local_irq_restore(flags);
	FZ_CHECK(st, c->irqs_off || !c->pending,
		 "interrupt still pending on context %u after IRQs came on",
		 c->task);
}

static void fz_op_irq_restore(struct fz *st, struct lab_fi *in)
{
	(void)in;
	if (fz_cur(st)->nsaved)
		fz_irq_restore(st);
}

static void fz_op_preempt_off(struct fz *st, struct lab_fi *in)
{
	(void)in;
	fz_nest_in(&fz_cur(st)->preempt, LAB_FZO_MAX_PREEMPT,
		   lab_preempt_disable);
}

static void fz_op_preempt_on(struct fz *st, struct lab_fi *in)
{
	(void)in;
	fz_nest_out(st, &fz_cur(st)->preempt, lab_preempt_enable);
}

static void fz_op_fail_next(struct fz *st, struct lab_fi *in)
{
	unsigned skip = fz_in(in, 8), count = fz_in(in, 4);

	lab_maze_fail_next(st->maze, skip, count);
	st->plan_skip = count ? skip : 0;
	st->plan_count = count;
}

/* Arms an interrupt for the next operation (fz_op_begin). */
static void fz_op_arm_irq(struct fz *st, struct lab_fi *in)
{
	st->arm_k = fz_in(in, LAB_FZO_MAX_YIELD);
	st->arm_next.action = fz_in(in, 3);
	st->arm_next.order = fz_in(in, st->sh.max_order + 1);
	st->arm_next.flags = fz_in(in, 4);
	st->arm_next.slot = lab_fi_u8(in);
	st->arm_next_set = true;
}

/* NOFAIL with a class that cannot block: rejected and reported. */
static void fz_op_nofail(struct fz *st, struct lab_fi *in)
{
	lab_gfp_t gfp = (fz_in(in, 2) ? LAB_GFP_ATOMIC : LAB_GFP_NOWAIT) |
			LAB_GFP_NOFAIL;
	unsigned order = fz_in(in, st->sh.max_order + 1);
	struct lab_page *page = lab_alloc_pages(st->maze, gfp, order);

	st->op.want[LAB_REPORT_NOFAIL_MISUSE]++;
	FZ_CHECK(st, !page, "NOFAIL gfp %x order %u was not rejected", gfp,
		 order);
	FZ_CHECK(st, !st->mb || !lab_mbuddy_alloc(st->mb, gfp, order),
		 "mutex buddy accepted NOFAIL gfp %x", gfp);
}

static void fz_op_drain(struct fz *st, struct lab_fi *in)
{
	(void)in;
	st->op.touched = true;
	lab_maze_drain_local(st->maze);
}

static LAB_FUZZ_NO_COVERAGE void fz_check_maze(struct fz *st)
{
	long problems = lab_maze_check(st->maze);

	FZ_CHECK(st, problems == 0, "lab_maze_check found %ld problems: %s",
		 problems, st->op.msg);
}

static void fz_op_check(struct fz *st, struct lab_fi *in)
{
	(void)in;
	fz_check_maze(st);
}

typedef void (*fz_op_fn)(struct fz *st, struct lab_fi *in);

static const struct {
	const char *name;
	fz_op_fn fn;
} fz_ops[LAB_FZO_OP_COUNT] = {
	[LAB_FZO_ALLOC] = { "alloc", fz_op_alloc },
	[LAB_FZO_FREE] = { "free", fz_op_free },
	[LAB_FZO_FREE_AT] = { "free-at", fz_op_free_at },
	[LAB_FZO_FREE_PTR] = { "free-bad-pointer", fz_op_free_ptr },
	[LAB_FZO_WRITE] = { "write", fz_op_write },
	[LAB_FZO_VERIFY] = { "verify", fz_op_verify },
	[LAB_FZO_ACCESS] = { "access-check", fz_op_access },
	[LAB_FZO_HANDOFF] = { "handoff", fz_op_handoff },
	[LAB_FZO_SWITCH] = { "switch", fz_op_switch },
	[LAB_FZO_IRQ_ENTER] = { "irq-enter", fz_op_irq_enter },
	[LAB_FZO_IRQ_EXIT] = { "irq-exit", fz_op_irq_exit },
	[LAB_FZO_IRQ_SAVE] = { "irq-save", fz_op_irq_save },
	[LAB_FZO_IRQ_RESTORE] = { "irq-restore", fz_op_irq_restore },
	[LAB_FZO_PREEMPT_OFF] = { "preempt-off", fz_op_preempt_off },
	[LAB_FZO_PREEMPT_ON] = { "preempt-on", fz_op_preempt_on },
	[LAB_FZO_FAIL_NEXT] = { "fail-next", fz_op_fail_next },
	[LAB_FZO_ARM_IRQ] = { "arm-irq", fz_op_arm_irq },
	[LAB_FZO_NOFAIL] = { "nofail", fz_op_nofail },
	[LAB_FZO_DRAIN] = { "drain", fz_op_drain },
	[LAB_FZO_CHECK] = { "check", fz_op_check },
};

/* ---- statistics snapshots ------------------------------------------------ */

/* cls: a class name, or "maze" for the maze-wide counters. */
static LAB_FUZZ_NO_COVERAGE void fz_check_delta(struct fz *st, const char *what,
						const char *cls,
						uint64_t before, uint64_t after,
						uint64_t want)
{
	FZ_CHECK(st, after - before == want,
		 "stats %s (%s) moved by %llu since op %u, expected %llu", what,
		 cls, (unsigned long long)(after - before), st->win.first_op,
		 (unsigned long long)want);
}

static LAB_FUZZ_NO_COVERAGE void
fz_check_class(struct fz *st, const struct lab_maze_stats *s, unsigned c)
{
	const struct lab_class_stats *a = &st->last.cls[c], *b = &s->cls[c];
	const char *n = lab_gfp_class_name((enum lab_gfp_class)c);

	fz_check_delta(st, "attempts", n, a->attempts, b->attempts,
		       st->win.attempts[c]);
	fz_check_delta(st, "successes", n, a->successes, b->successes,
		       st->win.successes[c]);
	fz_check_delta(st, "failures", n, a->failures, b->failures,
		       st->win.failures[c]);
	fz_check_delta(st, "injected", n, a->injected, b->injected,
		       st->win.injected[c]);
	if (!st->win.waits_unknown)
		fz_check_delta(st, "waits", n, a->waits, b->waits,
			       st->win.waits[c]);
	if (!st->win.dips_unknown)
		fz_check_delta(st, "reserve_dips", n, a->reserve_dips,
			       b->reserve_dips, st->win.dips[c]);
}

/* Frames: conserved; with nothing cached (always with caches off),
 * exactly the model's free frames and free blocks. */
static LAB_FUZZ_NO_COVERAGE void fz_check_frames(struct fz *st,
						 const struct lab_maze_stats *s)
{
	uint64_t blocks[LAB_MAX_ORDER_LIMIT + 1], sum = 0;
	unsigned k;

	for (k = 0; k <= st->sh.max_order; k++)
		sum += s->free_blocks[k] << k;
	FZ_CHECK(st, sum == s->free_frames,
		 "free blocks hold %llu frames, free count says %llu",
		 (unsigned long long)sum, (unsigned long long)s->free_frames);
	FZ_CHECK(st,
		 s->free_frames + s->cached_frames + st->sh.held_frames ==
			 st->sh.frames,
		 "free %llu + cached %llu + held %llu != %llu frames",
		 (unsigned long long)s->free_frames,
		 (unsigned long long)s->cached_frames,
		 (unsigned long long)st->sh.held_frames,
		 (unsigned long long)st->sh.frames);
	if (s->cached_frames)
		return;
	fz_model_blocks(st, blocks);
	for (k = 0; k <= st->sh.max_order; k++)
		FZ_CHECK(st, s->free_blocks[k] == blocks[k],
			 "%llu free blocks of order %u, the model has %llu",
			 (unsigned long long)s->free_blocks[k], k,
			 (unsigned long long)blocks[k]);
}

/* The watermarks the maze reports are those it was created with. */
static LAB_FUZZ_NO_COVERAGE void fz_check_wmarks(struct fz *st,
						 const struct lab_maze_stats *s)
{
	FZ_CHECK(st,
		 s->wmark_min == st->wmark[0] && s->wmark_low == st->wmark[1] &&
			 s->wmark_high == st->wmark[2],
		 "watermarks %llu/%llu/%llu, created with %llu/%llu/%llu",
		 (unsigned long long)s->wmark_min,
		 (unsigned long long)s->wmark_low,
		 (unsigned long long)s->wmark_high,
		 (unsigned long long)st->wmark[0],
		 (unsigned long long)st->wmark[1],
		 (unsigned long long)st->wmark[2]);
}

/* Same free count as the baseline; with caches off it is the model's. */
static LAB_FUZZ_NO_COVERAGE void fz_check_mirror(struct fz *st)
{
	struct lab_maze_stats ms;

	if (!st->mb || !st->mb_synced)
		return;
	lab_mbuddy_stats(st->mb, &ms);
	FZ_CHECK(st, ms.free_frames == st->sh.frames - st->sh.held_frames,
		 "mutex buddy has %llu free frames, labyrinth %llu",
		 (unsigned long long)ms.free_frames,
		 (unsigned long long)(st->sh.frames - st->sh.held_frames));
}

/* Compares the statistics with what every operation since the last
 * snapshot predicted, then starts a new window. */
static LAB_FUZZ_NO_COVERAGE void fz_snapshot(struct fz *st)
{
	struct lab_maze_stats s;
	unsigned c;

	lab_maze_stats(st->maze, &s);
	for (c = 0; c < LAB_CLASS_COUNT; c++)
		fz_check_class(st, &s, c);
	fz_check_delta(st, "frees", "maze", st->last.frees, s.frees,
		       st->win.frees);
	fz_check_delta(st, "misuse", "maze", st->last.misuse, s.misuse,
		       st->win.misuse);
	fz_check_delta(st, "sleep_in_atomic", "maze", st->last.sleep_in_atomic,
		       s.sleep_in_atomic, st->win.sleep);
	fz_check_frames(st, &s);
	fz_check_wmarks(st, &s);
	fz_check_mirror(st);
	st->last = s;
	memset(&st->win, 0, sizeof(st->win));
	st->win.first_op = st->opno + 1;
	if (st->pcp)
		st->win.dips_unknown = true;
	if (++st->snapshots % FZ_MAZE_CHECK_EVERY == 0)
		fz_check_maze(st);
}

/* ---- per-operation checks ------------------------------------------------- */

static LAB_FUZZ_NO_COVERAGE void fz_check_reports(struct fz *st)
{
	unsigned k;

	for (k = 0; k < LAB_REPORT_KIND_COUNT; k++)
		FZ_CHECK(st, st->op.got[k] == st->op.want[k],
			 "%u %s report(s), expected %u (last: %s)",
			 st->op.got[k],
			 lab_report_kind_name((enum lab_report_kind)k),
			 st->op.want[k], st->op.msg);
}

static LAB_FUZZ_NO_COVERAGE void fz_check_context(struct fz *st)
{
	const struct fz_ctx *c = fz_cur(st);

	if (st->ctx_gone)
		return;
	FZ_CHECK(st, lab_ctx_id() == fz_me(st), "context id %x, expected %x",
		 lab_ctx_id(), fz_me(st));
	FZ_CHECK(st,
		 lab_irqs_disabled() == c->irqs_off &&
			 lab_preempt_count() == c->preempt,
		 "irqs_disabled %d preempt %u, expected %d %u",
		 lab_irqs_disabled(), lab_preempt_count(), c->irqs_off,
		 c->preempt);
}

static LAB_FUZZ_NO_COVERAGE void fz_op_begin(struct fz *st, const char *name)
{
	memset(&st->op, 0, sizeof(st->op));
	st->opname = name;
	st->busy_pfn = FZ_NO_BUSY;
	st->arm_active = st->arm_next_set;
	if (st->arm_next_set) {
		st->arm_job = st->arm_next;
		st->arm_seen = 0;
		st->arm_next_set = false;
	}
}

/* One line per operation: what ran, what it drew, what is held. */
static void fz_trace_op(const struct fz *st)
{
	unsigned k;

	fprintf(stderr, "op %u %s: ctx %u, %u held (%llu frames), %u irq",
		st->opno, st->opname, st->cur, st->sh.nheld,
		(unsigned long long)st->sh.held_frames, st->op.isr_runs);
	for (k = 0; k < LAB_REPORT_KIND_COUNT; k++) {
		if (st->op.got[k])
			fprintf(stderr, ", %u %s", st->op.got[k],
				lab_report_kind_name((enum lab_report_kind)k));
	}
	fputc('\n', stderr);
}

static LAB_FUZZ_NO_COVERAGE void fz_op_end(struct fz *st)
{
	st->arm_active = false;
	if (fz_trace)
		fz_trace_op(st);
	fz_check_reports(st);
	fz_check_context(st);
	if (st->op.touched || st->op.isr_runs) {
		st->win.touched++;
		st->used = true;
	}
	if (st->win.touched >= fz_stats_every)
		fz_snapshot(st);
	st->opno++;
}

/* ---- setup and teardown ------------------------------------------------------- */

static void fz_config(const struct lab_fzo_header *h,
		      struct lab_maze_config *cfg)
{
	uint64_t frames = lab_fzo_frames(h);

	lab_maze_config_init(cfg, h->width, h->height);
	cfg->page_size = (size_t)1 << h->page_shift;
	cfg->max_order = h->max_order;
	cfg->wmark_min = h->wmark_min;
	cfg->wmark_low = h->wmark_min + h->low_delta;
	if (cfg->wmark_low > frames)
		cfg->wmark_low = frames;
	cfg->wmark_high = cfg->wmark_low + h->high_delta;
	if (cfg->wmark_high > frames)
		cfg->wmark_high = frames;
	cfg->pcp_batch = h->pcp_shift ? 1u << (h->pcp_shift - 1) : 1;
	cfg->pcp_high = h->pcp_shift ? cfg->pcp_batch * (1 + h->pcp_mult) : 0;
	cfg->reclaim_rounds = h->reclaim_rounds;
	cfg->wait_timeout_ms = 0;
	cfg->report = fz_report;
	cfg->report_arg = &fz_state;
}

/* Mazes are kept across inputs, one per recent configuration: creating
 * one costs ten times a whole short input under ASan.  A maze goes back
 * whole (every frame free, caches drained, no injection plan, checked),
 * and a whole maze's buddy bitmaps are fully coalesced, hence the same as
 * a fresh one's: reuse changes no decision.  Its counters carry on, which
 * is why the target compares deltas. */
#define FZ_MAZES 8

static struct fz_cached {
	struct lab_maze_config cfg;
	struct lab_maze *maze;
	struct lab_maze_stats stats; /* as the last input left it */
} fz_mazes[FZ_MAZES];
static unsigned fz_mazes_next;

/* The statistics of a maze just created: no counter has moved, every
 * frame is free, the watermarks are those it was created with (defaults
 * filled in).  The base of its first snapshot, which so checks every
 * counter from zero and the watermarks (fz_check_wmarks), without a
 * lab_maze_stats() that sums all the maze's cache slots.  free_blocks is
 * never a base (fz_check_frames compares the model's): left 0. */
static LAB_FUZZ_NO_COVERAGE void fz_fresh_stats(const struct lab_maze *maze,
						struct lab_maze_stats *s)
{
	const struct lab_maze_config *cfg = lab_maze_config(maze);

	memset(s, 0, sizeof(*s));
	s->frames = lab_maze_frames(maze);
	s->free_frames = s->frames;
	s->wmark_min = cfg->wmark_min;
	s->wmark_low = cfg->wmark_low;
	s->wmark_high = cfg->wmark_high;
}

static struct fz_cached *fz_maze_get(struct fz *st,
				     const struct lab_maze_config *cfg)
{
	struct fz_cached *c;
	unsigned i;
	int ret;

	for (i = 0; i < FZ_MAZES; i++) {
		if (fz_mazes[i].maze &&
		    !memcmp(&fz_mazes[i].cfg, cfg, sizeof(*cfg)))
			return &fz_mazes[i];
	}
	c = &fz_mazes[fz_mazes_next++ % FZ_MAZES];
	lab_maze_destroy(c->maze);
	c->maze = NULL;
	ret = lab_maze_create(cfg, &c->maze);
	FZ_CHECK(st, ret == 0, "lab_maze_create: %s", lab_last_error());
	c->cfg = *cfg;
	fz_fresh_stats(c->maze, &c->stats);
	return c;
}

/* Whether p lies in another live maze (the cached ones are all there is). */
static bool fz_other_maze(const struct fz *st, uintptr_t p)
{
	unsigned i;

	for (i = 0; i < FZ_MAZES; i++) {
		const struct lab_maze *m = fz_mazes[i].maze;
		uintptr_t base;

		if (!m || m == st->maze)
			continue;
		base = (uintptr_t)lab_pfn_to_virt(m, 0);
		if (p >= base &&
		    p - base < lab_maze_frames(m) * lab_maze_page_size(m))
			return true;
	}
	return false;
}

/* Three fresh contexts with fixed ids, each created when first switched
 * to (fz_switch): nothing of a context (owner ids, bitmap search hints,
 * caches) carries over from an earlier input. */
static void fz_setup_contexts(struct fz *st)
{
	unsigned i;

	for (i = 0; i < LAB_FZO_CTXS; i++) {
		st->ctx[i].st = st;
		st->ctx[i].task = 0x7fff0001u + i;
	}
	fz_switch(st, 0);
}

static void fz_setup(struct fz *st, struct lab_fi *in)
{
	struct lab_maze_config cfg;
	struct fz_cached *c;

	memset(st, 0, sizeof(*st));
	st->opname = "setup";
	lab_fzo_read_header(in, &st->h);
	fz_config(&st->h, &cfg);
	c = fz_maze_get(st, &cfg);
	st->maze = c->maze;
	st->last = c->stats;
	st->sh.frames = lab_fzo_frames(&st->h);
	st->sh.max_order = st->h.max_order;
	st->sh.shift = st->h.page_shift;
	st->page_size = cfg.page_size;
	st->pcp = cfg.pcp_high != 0;
	st->base = (uintptr_t)lab_pfn_to_virt(st->maze, 0);
	st->desc0 = (uintptr_t)lab_pfn_to_page(st->maze, 0);
	st->desc_size =
		st->sh.frames > 1 ?
			(uintptr_t)lab_pfn_to_page(st->maze, 1) - st->desc0 :
			16;
	st->wmark[0] = st->last.wmark_min;
	st->wmark[1] = st->last.wmark_low;
	st->wmark[2] = st->last.wmark_high;
	st->win.dips_unknown = st->pcp;
	st->mb_cfg = cfg; /* mirrored while caches are off (fz_mirror) */
	st->mb_synced = !st->pcp;
	fz_setup_contexts(st);
}

/* Leaves context i with IRQs on, no IRQ nesting and no preempt count; a
 * pending interrupt runs here. */
static void fz_unwind(struct fz *st, unsigned i)
{
	struct fz_ctx *c = &st->ctx[i];

	if (!c->nsaved && !c->irq && !c->preempt)
		return;
	fz_op_begin(st, "unwind");
	fz_switch(st, i);
	while (c->nsaved)
		fz_irq_restore(st);
	for (; c->irq; c->irq--)
		lab_irq_exit();
	for (; c->preempt; c->preempt--)
		lab_preempt_enable();
	fz_op_end(st);
}

/* Frees the last held block as its owner: the owning context, in IRQ
 * context if the owner id has the IRQ bit. */
static void fz_release_last(struct fz *st)
{
	struct lab_fzs_block *b = &st->sh.held[st->sh.nheld - 1];
	uint32_t task = b->owner & ~LAB_CTX_IRQ_BIT;
	bool irq = b->owner & LAB_CTX_IRQ_BIT;
	unsigned i = 0;

	while (b->excl && i < LAB_FZO_CTXS && st->ctx[i].task != task)
		i++;
	FZ_CHECK(st, i < LAB_FZO_CTXS, "block pfn %u owned by unknown %x",
		 b->pfn, b->owner);
	fz_switch(st, i);
	if (irq) {
		lab_irq_enter();
		st->ctx[i].irq++;
	}
	FZ_CHECK(st, fz_free(st, b->pfn, b->order, false),
		 "owner could not free pfn %u", b->pfn);
	if (irq) {
		lab_irq_exit();
		st->ctx[i].irq--;
	}
}

/* Everything freed by its owner, every created context's cache drained,
 * the contexts destroyed, back on the thread's own context.  The whole-maze
 * check comes before the drains: its walk of the cache lists is bounded,
 * so a corrupt (cyclic) list is reported here instead of hanging a
 * drain. */
static void fz_release_all(struct fz *st)
{
	unsigned i;

	fz_op_begin(st, "release-all");
	st->op.touched = st->used;
	while (st->sh.nheld)
		fz_release_last(st);
	if (st->used)
		fz_check_maze(st);
	for (i = 0; i < LAB_FZO_CTXS && st->used; i++) {
		if (!st->ctx[i].ctx)
			continue; /* never ran: nothing cached */
		fz_switch(st, i);
		lab_maze_drain_local(st->maze);
	}
	lab_ctx_switch(NULL);
	st->ctx_gone = true;
	for (i = 0; i < LAB_FZO_CTXS; i++)
		lab_ctx_destroy(st->ctx[i].ctx); /* nothing left; NULL: no-op */
	lab_maze_fail_next(st->maze, 0, 0);
	fz_op_end(st);
}

static void fz_teardown(struct fz *st)
{
	struct lab_maze_stats ms;
	unsigned i;

	st->arm_next_set = false;
	for (i = 0; i < LAB_FZO_CTXS; i++)
		fz_unwind(st, i);
	fz_release_all(st);
	st->opname = "teardown";
	if (!st->used && !st->win.misuse && !st->win.sleep)
		return;	 /* untouched: as the previous input left it */
	fz_snapshot(st); /* nothing cached: the model's blocks, exactly */
	FZ_CHECK(st,
		 st->last.free_frames == st->sh.frames &&
			 !st->last.cached_frames,
		 "maze not whole at the end: %llu of %llu frames free",
		 (unsigned long long)st->last.free_frames,
		 (unsigned long long)st->sh.frames);
	for (i = 0; i < FZ_MAZES; i++) {
		if (fz_mazes[i].maze == st->maze)
			fz_mazes[i].stats = st->last;
	}
	if (!st->mb)
		return;
	lab_mbuddy_stats(st->mb, &ms);
	FZ_CHECK(st,
		 !lab_mbuddy_check(st->mb) && ms.free_frames == st->sh.frames,
		 "mutex buddy not whole at the end: %s", lab_last_error());
	lab_mbuddy_destroy(st->mb);
}

/* ---- entry points ----------------------------------------------------------------- */

static void fz_init_once(void)
{
	static bool done;
	static const struct lab_sched_hooks hooks = { fz_yield, fz_wait,
						      &fz_state };
	const char *every = getenv("LAB_FUZZ_STATS_EVERY");

	if (done)
		return;
	done = true;
	if (every && atoi(every) > 0)
		fz_stats_every = (unsigned)atoi(every);
	fz_trace = getenv("LAB_FUZZ_TRACE") != NULL;
	lab_fuzz_select_bug();
	lab_set_report_hook(fz_report, &fz_state);
	lab_set_sched_hooks(&hooks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init_once();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *st = &fz_state;
	struct lab_fi in;
	unsigned n, op;

	fz_init_once();
	lab_fi_init(&in, data, size);
	fz_setup(st, &in);
	for (n = 0; n < LAB_FZO_MAX_OPS && !lab_fi_done(&in); n++) {
		op = fz_in(&in, LAB_FZO_OP_COUNT);
		fz_op_begin(st, fz_ops[op].name);
		fz_ops[op].fn(st, &in);
		fz_op_end(st);
	}
	fz_teardown(st);
	return 0;
}
