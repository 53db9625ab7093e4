/* alloc.c - lab_alloc_pages: flag checks, watermarks, the slow path.
 *
 * Watermarks (mm/page_alloc.c): the free count is the frames in the buddy
 * bitmaps (cached frames count as allocated, like the kernel's pcp pages).
 * An order-o allocation against mark m succeeds only if free - 2^o >= m,
 * i.e. the kernel's "fail if free - (2^o - 1) <= m".  The check and the
 * decrement are one CAS on nr_free, so concurrent allocations can never
 * take the maze below a class's mark together.
 *   fast path:  mark = low, every class
 *   slow path:  mark = min; HIGH halves it; HIGH without DIRECT_RECLAIM
 *               (GFP_ATOMIC) takes a further quarter: 37.5% of min.
 * Only GFP_KERNEL reaches reclaim and waiting; it first checks
 * might_sleep, so from atomic context it is reported and not run.
 */
#define _GNU_SOURCE /* mmap flags, syscall, clock_gettime, posix_memalign */
#include <string.h>
#include <time.h>

#include "internal.h"

enum { LAB_WMARK_MIN, LAB_WMARK_LOW, LAB_WMARK_HIGH };

/* The reserve below min is for HIGH (the kernel's ALLOC_HIGH and, without
 * DIRECT_RECLAIM, ALLOC_HARDER); GFP_NOWAIT does not get it. */
static bool lab_wmark_may_dip(lab_gfp_t gfp)
{
	/* Seeded bug: every allocation that cannot sleep is given the
	 * atomic reserve, GFP_NOWAIT included. */
	if (LAB_BUG_ON(NOWAIT_BELOW_MIN))
		return (gfp & LAB_GFP_HIGH) || !(gfp & LAB_GFP_DIRECT_RECLAIM);
	return gfp & LAB_GFP_HIGH;
}

uint64_t _lab_wmark_for(const struct lab_maze *maze, lab_gfp_t gfp,
			unsigned which)
{
	uint64_t m = maze->wmark[which];

	if (which == LAB_WMARK_MIN && lab_wmark_may_dip(gfp)) {
		m -= m / 2;
		if (!(gfp & LAB_GFP_DIRECT_RECLAIM))
			m -= m / 4;
	}
	return m;
}

/* seq_cst: the futex wait protocol (free.c, wait below) needs these RMWs
 * in the single total order with nr_waiters and free_seq.  The CAS fails
 * only when another context changed the count after our read: lock-free,
 * not wait-free, so each failure is a retry of the probe and a class
 * that must not spin gives up when its retries run out. */
/* The count a reservation starts from.  seq_cst, not relaxed: a waiter
 * counts itself (seq_cst RMW on nr_waiters) and then retries, a freer
 * adds its frames (seq_cst RMW) and then looks for waiters; with a
 * relaxed read here the two could miss each other (store buffering:
 * found by the C11 model, stress/tests/test_alloc_c11.c "waiter after a
 * free") and the waiter sleep with frames free.  A seq_cst load is a
 * plain load on x86. */
static uint64_t lab_free_count_read(struct lab_maze *maze)
{
	/* Seeded bug: the count is read relaxed (see below). */
	if (LAB_BUG_ON(RELAXED_FREE_COUNT))
		return lab_load_relaxed(&maze->nr_free);
	return lab_load_seq_cst(&maze->nr_free);
}

/* Takes n off the count if it is still `*free`.  seq_cst, and so an
 * acquire: it reads the last free's add (an RMW chain, one release
 * sequence), which makes every frame counted so far, inserted into the
 * bitmaps before its add, visible to the relaxed probes of the claim
 * that follows. */
static bool lab_free_count_take(struct lab_maze *maze, uint64_t *free,
				uint64_t n)
{
	/* Seeded bug: a relaxed CAS; the probes may miss counted frames. */
	if (LAB_BUG_ON(RELAXED_FREE_COUNT))
		return lab_cas_relaxed(&maze->nr_free, free, *free - n);
	return lab_cas_seq_cst(&maze->nr_free, free, *free - n);
}

bool _lab_reserve_frames(struct lab_maze *maze, uint64_t n, uint64_t mark,
			 uint64_t *left, struct lab_probe *probe)
{
	uint64_t free = lab_free_count_read(maze);
	const uint64_t first = free;

	for (;;) {
		/* Seeded bug: every retry starts again from the first read,
		 * not from the count the failed CAS returned. */
		if (LAB_BUG_ON(STALE_RETRY))
			free = first;
		if (free < n || free - n < mark)
			return false;
		lab_yield(WMARK_RESERVE);
		if (lab_free_count_take(maze, &free, n))
			break;
		if (!_lab_probe_retry(probe))
			return false;
	}
	if (left)
		*left = free - n;
	return true;
}

/* A waiter may have failed while these frames were reserved: giving them
 * back wakes it as a free would, or it would sleep with frames free. */
void _lab_unreserve_frames(struct lab_maze *maze, uint64_t n, unsigned self)
{
	if (!n)
		return;
	lab_add_seq_cst(&maze->nr_free, n);
	_lab_wake_waiters(maze, self);
}

/* What one attempt may spend (every loop of an attempt is bounded by it):
 *   GFP_ATOMIC  atomic_probe_budget bitmap words and failed CASes in all:
 *               a bounded part of the maze, a bounded number of retries;
 *   GFP_NOWAIT  every bitmap word once (each walk stops after a full turn
 *               of its order), at most LAB_NOWAIT_RETRY_MAX failed CASes;
 *   GFP_KERNEL  no bound: it may sleep anyway, and each failed CAS means
 *               another context made progress (lock-free).
 * An attempt that runs out fails like one that found nothing; the
 * allocation then goes on as after any failed attempt (the slow path,
 * which for the non-blocking classes is one more attempt). */
struct lab_probe _lab_probe_init(const struct lab_maze *maze, lab_gfp_t gfp)
{
	struct lab_probe p = { ~0ul, 0, ~0ul, false };

	switch (lab_gfp_class(gfp)) {
	case LAB_CLASS_ATOMIC:
		p.left = maze->cfg.atomic_probe_budget ?
				 maze->cfg.atomic_probe_budget :
				 LAB_ATOMIC_PROBE_DEFAULT;
		p.retry_max = p.left;
		break;
	case LAB_CLASS_NOWAIT:
		p.retry_max = LAB_NOWAIT_RETRY_MAX;
		break;
	default:
		break;
	}
	return p;
}

/* Rare (contention): atomic adds to the shared block, from any context. */
void _lab_probe_account(struct lab_maze *maze, lab_gfp_t gfp,
			const struct lab_probe *probe)
{
	struct lab_class_counters *c =
		&maze->shared_stats.cls[lab_gfp_class(gfp)];

	if (probe->retries)
		lab_counter_add_relaxed(&c->retries, probe->retries);
	if (probe->limited)
		_lab_stat_inc(&c->retry_limited);
}

/* One attempt on the buddy bitmaps against `mark`; `self` is 1 if the
 * caller is a counted waiter.  A success that took the free count below
 * min is a reserve dip of its class, counted here where it is exact (the
 * reservation's CAS saw the count).  Lock-free. */
static uint64_t lab_try_buddy(struct lab_maze *maze, struct lab_ctx *ctx,
			      lab_gfp_t gfp, unsigned order, uint64_t mark,
			      unsigned self)
{
	struct lab_probe probe = _lab_probe_init(maze, gfp);
	uint64_t n = (uint64_t)1 << order, left, pfn = LAB_NO_PFN;

	if (!_lab_reserve_frames(maze, n, mark, &left, &probe))
		goto out;
	pfn = _lab_buddy_claim(maze, ctx, order, &probe);
	if (pfn == LAB_NO_PFN)
		_lab_unreserve_frames(maze, n, self);
	else if (left < maze->wmark[LAB_WMARK_MIN])
		_lab_stat_inc(&maze->shared_stats.cls[lab_gfp_class(gfp)]
				       .reserve_dips);
out:
	_lab_probe_account(maze, gfp, &probe);
	return pfn;
}

/* ---- validation ---------------------------------------------------------------- */

static bool lab_alloc_args_ok(struct lab_maze *maze, lab_gfp_t gfp,
			      unsigned order)
{
	if (!_lab_maze_valid(maze, "lab_alloc_pages"))
		return false;
	if (gfp & ~LAB_GFP_VALID_MASK) {
		_lab_set_error("lab_alloc_pages: unknown gfp bits %x",
			       gfp & ~LAB_GFP_VALID_MASK);
		return false;
	}
	if (order > maze->max_order) {
		_lab_set_error("lab_alloc_pages: order %u above max_order %u",
			       order, maze->max_order);
		return false;
	}
	if ((gfp & LAB_GFP_NOFAIL) && !(gfp & LAB_GFP_DIRECT_RECLAIM)) {
		_lab_set_error("lab_alloc_pages: __GFP_NOFAIL needs a class "
			       "that may block (GFP_KERNEL); %s cannot",
			       lab_gfp_class_name(lab_gfp_class(gfp)));
		_lab_report(maze, LAB_DET_NOFAIL_NONBLOCKING, "lab_alloc_pages",
			    LAB_NO_PFN, order, 0,
			    "__GFP_NOFAIL with non-blocking gfp %x rejected",
			    gfp);
		return false;
	}
	if ((gfp & LAB_GFP_NOFAIL) && order > 1)
		_lab_report(maze, LAB_DET_NOFAIL_ORDER, "lab_alloc_pages",
			    LAB_NO_PFN, order, 0,
			    "__GFP_NOFAIL for order %u > 1 may never succeed",
			    order);
	return true;
}

/* ---- GFP_KERNEL: reclaim and wait -------------------------------------------------- */

static uint64_t lab_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counts ourselves as a waiter; returns the free sequence to sleep on. */
static unsigned lab_waiter_enter(struct lab_maze *maze)
{
	lab_add32_seq_cst(&maze->nr_waiters, 1);
	return lab_load32_seq_cst(&maze->free_seq);
}

/* One futex sleep on free_seq, timed into the class's counters. */
static void lab_sleep_on_seq(struct lab_maze *maze, unsigned seq,
			     struct lab_class_counters *c)
{
	uint64_t t0 = lab_now_ns(), dt;

	_lab_wait(&maze->free_seq, seq, maze->cfg.wait_timeout_ms);
	dt = lab_now_ns() - t0;
	_lab_stat_inc(&c->waits);
	lab_counter_add_relaxed(&c->wait_ns_total, dt);
	lab_counter_max_relaxed(&c->wait_ns_max, dt);
}

/* Waits until a free happens or the timeout passes.  Lost-wakeup proof:
 * we count ourselves in nr_waiters *before* sampling free_seq and
 * retrying; a freer bumps nr_free, then reads nr_waiters, then bumps
 * free_seq and wakes.  All these are seq_cst, so either the freer sees us
 * (and the seq changes under our futex, which then does not sleep) or our
 * retry sees its frames (prepare_to_wait before testing the condition). */
static uint64_t lab_wait_for_free(struct lab_maze *maze, struct lab_ctx *ctx,
				  lab_gfp_t gfp, unsigned order,
				  struct lab_class_counters *c)
{
	uint64_t mark = _lab_wmark_for(maze, gfp, LAB_WMARK_MIN);
	bool late = LAB_BUG_ON(LOST_WAKEUP);
	unsigned seq = late ? 0 : lab_waiter_enter(maze);
	uint64_t pfn = lab_try_buddy(maze, ctx, gfp, order, mark, !late);

	if (late && pfn != LAB_NO_PFN)
		return pfn;
	if (pfn == LAB_NO_PFN) {
		lab_yield(WAIT);
		/* Seeded bug: the condition was tested before we counted
		 * ourselves, so a free in between saw no waiter to wake. */
		if (late)
			seq = lab_waiter_enter(maze);
		lab_sleep_on_seq(maze, seq, c);
	}
	lab_sub32_seq_cst(&maze->nr_waiters, 1);
	return pfn;
}

static uint64_t lab_reclaim(struct lab_maze *maze, struct lab_class_counters *c)
{
	uint64_t free = lab_load_relaxed(&maze->nr_free);
	uint64_t target = free < maze->wmark[LAB_WMARK_HIGH] ?
				  maze->wmark[LAB_WMARK_HIGH] - free :
				  1;

	if (!maze->cfg.reclaim)
		return 0;
	_lab_stat_inc(&c->reclaims);
	return maze->cfg.reclaim(maze, target, maze->cfg.reclaim_arg);
}

/* Reclaim and wait rounds.  It sleeps, so it checks might_sleep itself
 * (as cond_resched() does in the kernel's slow path): a caller that got
 * here from atomic context is reported and refused. */
static uint64_t lab_alloc_blocking(struct lab_maze *maze, struct lab_ctx *ctx,
				   lab_gfp_t gfp, unsigned order,
				   struct lab_class_counters *c)
{
	uint64_t mark = _lab_wmark_for(maze, gfp, LAB_WMARK_MIN);
	bool nofail = gfp & LAB_GFP_NOFAIL;
	bool oom_tried = false;
	unsigned round;
	uint64_t pfn;

	if (!_lab_might_sleep(maze, __FILE__, __LINE__))
		return LAB_NO_PFN;
	for (round = 0;; round++) {
		if (round >= maze->cfg.reclaim_rounds && !nofail) {
			if (oom_tried || !maze->cfg.oom ||
			    !maze->cfg.oom(maze, order, maze->cfg.oom_arg))
				return LAB_NO_PFN;
			oom_tried = true;
		}
		if (lab_reclaim(maze, c)) {
			pfn = lab_try_buddy(maze, ctx, gfp, order, mark, 0);
			if (pfn != LAB_NO_PFN)
				return pfn;
		}
		pfn = lab_wait_for_free(maze, ctx, gfp, order, c);
		if (pfn != LAB_NO_PFN)
			return pfn;
	}
}

/* ---- the allocation paths ------------------------------------------------------------ */

/* Whether gfp may sleep (the kernel's gfpflags_allow_blocking()). */
static bool lab_alloc_may_block(lab_gfp_t gfp)
{
	/* Seeded bug: either reclaim bit (__GFP_RECLAIM) taken to mean the
	 * caller may sleep, but KSWAPD_RECLAIM alone only wakes kswapd. */
	if (LAB_BUG_ON(ATOMIC_MAY_BLOCK))
		return gfp & (LAB_GFP_DIRECT_RECLAIM | LAB_GFP_KSWAPD_RECLAIM);
	return lab_gfp_may_block(gfp);
}

/* Past the fast path: drain our cache, retry at the class's min mark,
 * then (GFP_KERNEL only) reclaim and wait.  Its counters are rare and go
 * to the shared block with atomic adds. */
static uint64_t lab_alloc_slow(struct lab_maze *maze, struct lab_ctx *ctx,
			       struct lab_pcp *pcp, lab_gfp_t gfp,
			       unsigned order)
{
	struct lab_class_counters *c =
		&maze->shared_stats.cls[lab_gfp_class(gfp)];
	uint64_t pfn;

	_lab_stat_inc(&maze->shared_stats.kswapd_wakeups);
	if (pcp)
		_lab_pcp_drain(maze, pcp);
	pfn = lab_try_buddy(maze, ctx, gfp, order,
			    _lab_wmark_for(maze, gfp, LAB_WMARK_MIN), 0);
	if (pfn != LAB_NO_PFN || !lab_alloc_may_block(gfp))
		return pfn;
	return lab_alloc_blocking(maze, ctx, gfp, order, c);
}

/* Sets *counted when a cache hit already did the statistics. */
static uint64_t lab_alloc_pfn(struct lab_maze *maze, struct lab_ctx *ctx,
			      struct lab_pcp *pcp, lab_gfp_t gfp,
			      unsigned order, bool *counted)
{
	uint64_t pfn = LAB_NO_PFN;

	if (pcp && _lab_pcp_serves(maze, order)) {
		pfn = _lab_pcp_alloc(maze, ctx, pcp, order, gfp);
		if (pfn != LAB_NO_PFN) {
			*counted = true;
			return pfn;
		}
	}
	pfn = lab_try_buddy(maze, ctx, gfp, order, maze->wmark[LAB_WMARK_LOW],
			    0);
	if (pfn == LAB_NO_PFN)
		pfn = lab_alloc_slow(maze, ctx, pcp, gfp, order);
	return pfn;
}

/* Offset of the first byte of p[0..n) that is not poison, n if none.
 * A word at a time (p is page aligned), then the byte within it.  Its
 * loop follows the page's bytes: no coverage (noinline, or it would be
 * instrumented inlined into its caller). */
LAB_NO_COVERAGE_BEGIN
static __attribute__((noinline)) size_t
lab_poison_mismatch(const unsigned char *p, size_t n)
{
	const uint64_t poison = UINT64_C(0x0101010101010101) * LAB_POISON_BYTE;
	size_t i = 0;
	uint64_t w;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (w != poison)
			break;
	}
	while (i < n && p[i] == LAB_POISON_BYTE)
		i++;
	return i;
}
LAB_NO_COVERAGE_END

/* Debug: a free block must still be all poison; anything else is a write
 * after free (or a free that skipped poisoning). */
static void lab_check_poison(struct lab_maze *maze, uint64_t pfn,
			     unsigned order)
{
	const unsigned char *p = _lab_pfn_addr(maze, pfn);
	size_t n = (size_t)1 << (order + maze->page_shift);
	size_t i;

	lab_plain_frames(maze, pfn, order, false, "alloc:poison-scan");
	i = lab_poison_mismatch(p, n);

	if (i < n)
		_lab_report(maze, LAB_DET_POISON_SCAN, "lab_alloc_pages",
			    pfn + (i >> maze->page_shift), order, 0,
			    "free page pfn %llu overwritten at offset %zu "
			    "(byte %x, expected %x): written after free",
			    (unsigned long long)(pfn + (i >> maze->page_shift)),
			    i & (maze->cfg.page_size - 1), p[i],
			    LAB_POISON_BYTE);
}

/* Makes the block's head descriptor say "allocated", with a new
 * generation, so a free or handoff prepared before the frame's last free
 * cannot land on this allocation.  The block is ours (claimed), so a
 * store suffices; release pairs with the acquire loads of
 * free/handoff/address on other threads that got the page from us. */
static void lab_publish_head(struct lab_maze *maze, uint64_t pfn,
			     unsigned order, lab_gfp_t gfp)
{
	struct lab_page *pg = &maze->pages[pfn];
	uint64_t old = lab_load_relaxed(&pg->state);
	bool excl = gfp & LAB_GFP_EXCLUSIVE;
	/* Seeded bug: a recycled frame keeps its generation. */
	uint64_t gen = LAB_PG_GEN(old) + !LAB_BUG_ON(ABA_RECYCLE);

	uint64_t s = lab_pg_prep_new(old, order, excl, excl ? lab_ctx_id() : 0,
				     gen);

	lab_yield(DESC_PUBLISH);
	/* Seeded bug: the descriptor is published relaxed, so a thread that
	 * reaches the block through it (a free, an ownership lookup) is not
	 * ordered after our poison check and zeroing. */
	if (LAB_BUG_ON(DESC_PUBLISH_RELAXED))
		lab_store_relaxed(&pg->state, s);
	else
		lab_store_release(&pg->state, s);
}

/* Counts one allocation: attempts and outcome (reserve dips are counted
 * where they happen, in lab_try_buddy). */
static void lab_count_result(struct lab_maze *maze, struct lab_pcp *pcp,
			     lab_gfp_t gfp, uint64_t pfn, bool injected)
{
	struct lab_stat_ref ref = _lab_stats_begin(maze, pcp);
	struct lab_class_counters *c = &ref.block->cls[lab_gfp_class(gfp)];

	_lab_stat_add(ref, &c->attempts, 1);
	if (pfn == LAB_NO_PFN) {
		_lab_stat_add(ref, &c->failures, 1);
		if (injected)
			_lab_stat_add(ref, &c->injected, 1);
	} else {
		_lab_stat_add(ref, &c->successes, 1);
	}
	_lab_stats_end(ref);
}

static void lab_warn_failure(struct lab_maze *maze, lab_gfp_t gfp,
			     unsigned order)
{
	if (gfp & LAB_GFP_NOWARN)
		return;
	_lab_report(maze, LAB_DET_ALLOC_FAILURE, "lab_alloc_pages", LAB_NO_PFN,
		    order, 0,
		    "page allocation failure: order:%u, mode:%x (%s), free "
		    "%llu, min %llu",
		    order, gfp, lab_gfp_class_name(lab_gfp_class(gfp)),
		    (unsigned long long)lab_counter_load_relaxed(&maze->nr_free),
		    (unsigned long long)maze->wmark[LAB_WMARK_MIN]);
}

/* A context may sleep only outside IRQs, with IRQs on and no preempt
 * count; inline so the GFP_KERNEL fast path pays two loads. */
static bool lab_ctx_may_sleep(const struct lab_ctx *ctx)
{
	return !atomic_load_explicit(&ctx->hardirq, memory_order_relaxed) &&
	       !atomic_load_explicit(&ctx->preempt, memory_order_relaxed) &&
	       !atomic_load(&ctx->irqs_off);
}

struct lab_page *lab_alloc_pages(struct lab_maze *maze, lab_gfp_t gfp,
				 unsigned order)
{
	struct lab_ctx *ctx;
	struct lab_pcp *pcp;
	uint64_t pfn = LAB_NO_PFN;
	bool injected = false, counted = false;

	if (!lab_alloc_args_ok(maze, gfp, order))
		return NULL;
	ctx = _lab_ctx();
	lab_yield(ALLOC_ENTER);
	if ((gfp & LAB_GFP_DIRECT_RECLAIM) && !lab_ctx_may_sleep(ctx) &&
	    !_lab_might_sleep(maze, __FILE__, __LINE__)) {
		_lab_set_error("lab_alloc_pages: blocking allocation from "
			       "atomic context refused");
		return NULL;
	}
	pcp = _lab_pcp_get(maze, ctx,
			   !atomic_load_explicit(&ctx->hardirq,
						 memory_order_relaxed));
	if (!(gfp & LAB_GFP_NOFAIL) && _lab_fault_should_fail(maze))
		injected = true;
	else
		pfn = lab_alloc_pfn(maze, ctx, pcp, gfp, order, &counted);
	if (!counted)
		lab_count_result(maze, pcp, gfp, pfn, injected);
	if (pfn == LAB_NO_PFN) {
		lab_warn_failure(maze, gfp, order);
		_lab_set_error("lab_alloc_pages: out of memory (order %u)",
			       order);
		return NULL;
	}
	if (LAB_DEBUG)
		lab_check_poison(maze, pfn, order);
	if (gfp & LAB_GFP_ZERO) {
		lab_plain_frames(maze, pfn, order, true, "alloc:zero");
		memset(_lab_pfn_addr(maze, pfn), 0,
		       (size_t)1 << (order + maze->page_shift));
	}
	lab_publish_head(maze, pfn, order, gfp);
	return &maze->pages[pfn];
}

void *lab_get_free_pages(struct lab_maze *maze, lab_gfp_t gfp, unsigned order)
{
	struct lab_page *page = lab_alloc_pages(maze, gfp, order);

	return page ? _lab_pfn_addr(maze, _lab_page_pfn(maze, page)) : NULL;
}

const char *lab_gfp_class_name(enum lab_gfp_class cls)
{
	static const char *const names[LAB_CLASS_COUNT] = { "KERNEL", "NOWAIT",
							    "ATOMIC" };

	return (unsigned)cls < LAB_CLASS_COUNT ? names[cls] : "?";
}
