/* internal.h - types and prototypes shared by the allocator's files.
 *
 * Layout of the allocator:
 *   maze.c     create/destroy, geometry, conversions, the live-maze registry
 *   buddy.c    lock-free buddy bitmaps: claim, split, insert-and-merge
 *   alloc.c    lab_alloc_pages: flags, watermarks, slow path, waiting
 *   free.c     lab_free_pages and ownership (address, access, handoff)
 *   pcp.c      per-context page caches (the kernel's per-CPU lists)
 *   context.c  simulated execution context, IRQs, spinlock, might_sleep
 *   report.c   report hook, async-signal-safe formatting, last error
 *   check.c    whole-maze consistency check
 *   stats.c    statistics and failure injection
 *   hooks.c    yield points and the wait hook
 */
#ifndef LAB_INTERNAL_H
#define LAB_INTERNAL_H

#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>

#include "atomic.h"
#include "labyrinth.h"

#ifdef LAB_RELEASE
#define LAB_DEBUG 0
#else
#define LAB_DEBUG 1 /* poisoning and yield points */
#endif

/* LAB_NO_COVERAGE_BEGIN ... END: the functions between stay out of
 * libFuzzer's coverage instrumentation (edge counters and comparison
 * tracing) in builds that have it; the other sanitizers stay.  For code
 * whose branches follow the data it formats or walks, not the allocator's
 * decisions: message formatting and the whole-maze checks.  Traced, they
 * took a third of fuzz_ops' time and guided nothing.  A static helper
 * inside the range inlined into an instrumented caller outside it would
 * be instrumented after all: keep callers and helpers together. */
#if defined(__clang__) && __clang_major__ >= 13 && defined(__has_feature)
#if __has_feature(coverage_sanitizer)
#define LAB_NO_COVERAGE_BEGIN \
	_Pragma("clang attribute push(__attribute__((no_sanitize(\"coverage\"))), apply_to = function)")
#define LAB_NO_COVERAGE_END _Pragma("clang attribute pop")
#endif
#endif
#ifndef LAB_NO_COVERAGE_BEGIN
#define LAB_NO_COVERAGE_BEGIN
#define LAB_NO_COVERAGE_END
#endif

#define LAB_CACHELINE 64
#define LAB_POISON_BYTE 0xaa
#define LAB_PCP_SLOTS 64    /* contexts with a cache per maze */
#define LAB_CTX_PCP_REFS 4  /* mazes one context caches for */
#define LAB_PCP_MAX_ORDER 3 /* cached orders (PAGE_ALLOC_COSTLY_ORDER) */
#define LAB_PFN_NONE UINT32_MAX
#define LAB_ATOMIC_PROBE_DEFAULT 64
#define LAB_NOWAIT_RETRY_MAX \
	64 /* failed CASes one GFP_NOWAIT attempt may retry */

/* "bugs.c" */
extern _Atomic int _lab_bug;
/* True where seeded bug `id` is selected; constant false in release. */
#define LAB_BUG_ON(id)                                                  \
	(LAB_DEBUG &&                                                   \
	 __builtin_expect(atomic_load_explicit(&_lab_bug,               \
					       memory_order_relaxed) == \
				  LAB_BUG_##id,                         \
			  0))

/* ---- per-frame descriptor ------------------------------------------------
 * state (64 bits), written only with CAS or by the block's owner:
 *   bits  0..1  kind: LAB_PG_FREE (free or cached) or LAB_PG_HEAD
 *               (first frame of an allocated block)
 *   bits  2..6  order
 *   bit   7     exclusive
 *   bits  8..39 owner context id (exclusive blocks)
 *   bits 40..63 generation, +1 at every allocation of the frame as a head.
 * The generation makes the descriptor a tagged word: a CAS prepared from a
 * stale read (the block was freed and reallocated meanwhile) fails instead
 * of acting on the new allocation (ABA).
 * next links frames in a per-context cache; only that context touches it. */
struct lab_page {
	lab_atomic64_t state;
	uint32_t next;
	uint32_t spare;
};

enum { LAB_PG_FREE = 0, LAB_PG_HEAD = 1 };

#define LAB_PG_KIND(s) ((unsigned)((s)&3u))
#define LAB_PG_ORDER(s) ((unsigned)(((s) >> 2) & 31u))
#define LAB_PG_EXCL(s) ((unsigned)(((s) >> 7) & 1u))
#define LAB_PG_OWNER(s) ((uint32_t)(((s) >> 8) & 0xffffffffu))
#define LAB_PG_GEN(s) ((s) >> 40)
#define LAB_PG_FIELDS ((UINT64_C(1) << 40) - 1)	  /* all but the generation */
#define LAB_PG_OWNERSHIP (UINT64_C(0xffffffff80)) /* exclusive bit, owner */

static inline uint64_t lab_pg_make(unsigned kind, unsigned order, bool excl,
				   uint32_t owner, uint64_t gen)
{
	return (uint64_t)kind | ((uint64_t)order << 2) |
	       ((uint64_t)(excl ? 1 : 0) << 7) | ((uint64_t)owner << 8) |
	       ((gen & 0xffffffu) << 40);
}

/* The state of a free descriptor `old` allocated as a head (the kernel's
 * prep_new_page).  Contract: a free descriptor is clean but for its
 * generation (lab_free_claim resets every other field, as
 * free_pages_prepare resets struct page), so the allocation's fields are
 * added to the word as it is, and the generation becomes `gen`. */
static inline uint64_t lab_pg_prep_new(uint64_t old, unsigned order, bool excl,
				       uint32_t owner, uint64_t gen)
{
	return (old & LAB_PG_FIELDS) |
	       lab_pg_make(LAB_PG_HEAD, order, excl, owner, gen);
}

/* ---- statistics ---------------------------------------------------------- */

struct lab_class_counters {
	lab_atomic64_t attempts, successes, failures, reserve_dips, injected;
	lab_atomic64_t waits, reclaims, wait_ns_max, wait_ns_total;
	lab_atomic64_t retries, retry_limited;
};

struct lab_stat_block {
	struct lab_class_counters cls[LAB_CLASS_COUNT];
	lab_atomic64_t frees, sleep_in_atomic, misuse, kswapd_wakeups;
};

/* ---- per-context page cache (orders 0..LAB_PCP_MAX_ORDER) ------------------
 * One slot per (context, maze), claimed by the context on first use in
 * process context.  Only its context and interrupts raised on that context
 * touch the list.  `busy` is set while the context is inside its cache
 * section; an interrupt that finds it set leaves the cache alone (the
 * kernel's pcp trylock from IRQ).  Other threads only read `count`. */
struct lab_pcp {
	alignas(LAB_CACHELINE) atomic_uint claimed;
	atomic_uint busy;
	uint32_t head[LAB_PCP_MAX_ORDER + 1]; /* block lists, linked by next */
	lab_atomic64_t count;		      /* frames in all lists */
	struct lab_stat_block stats;
};

/* ---- the maze ---------------------------------------------------------------- */

struct lab_maze {
	uint64_t id;
	struct lab_maze_config cfg;
	uint64_t frames;
	unsigned page_shift, max_order;
	char *base;
	size_t bytes;
	char *map;
	size_t map_bytes;
	struct lab_page *pages;
	size_t pages_bytes;
	uint64_t wmark[3]; /* min, low, high */
	lab_atomic64_t *avail[LAB_MAX_ORDER_LIMIT + 1];
	uint64_t avail_words[LAB_MAX_ORDER_LIMIT + 1];

	/* Shared hot words, one cache line each. */
	alignas(LAB_CACHELINE) lab_atomic64_t nr_free;
	alignas(LAB_CACHELINE) lab_atomic64_t nr_blocks[LAB_MAX_ORDER_LIMIT + 1];
	alignas(LAB_CACHELINE) atomic_uint free_seq; /* futex word */
	atomic_uint nr_waiters;
	alignas(LAB_CACHELINE) lab_atomic64_t fail_plan; /* skip<<32 | count */
	/* 1 + the highest cache slot ever claimed: readers that sum the
	 * slots stop there (slots are claimed lowest first).  Only grows. */
	atomic_uint pcp_used;
	struct lab_stat_block shared_stats;
	lab_atomic64_t detector_fired[LAB_DET_COUNT];
	struct lab_pcp pcp[LAB_PCP_SLOTS];
};

/* ---- execution context ----------------------------------------------------- */

struct lab_pcp_ref {
	uint64_t maze_id;
	struct lab_maze *maze;
	struct lab_pcp *slot;
};

/* Fields are touched by the context's thread and by interrupts raised on
 * it, so they are atomics (relaxed, or seq_cst where a pending interrupt is
 * handed between the two). */
struct lab_ctx {
	uint32_t task_id;
	bool owned_by_thread;
	char name[16];
	atomic_uint hardirq, irqs_off, preempt;
	atomic_uint pending;
	_Atomic(lab_isr_fn) pending_isr;
	_Atomic(void *) pending_arg;
	lab_atomic64_t delivered, deferred, coalesced;
	atomic_uint hint[LAB_MAX_ORDER_LIMIT + 1];
	struct lab_pcp_ref pcp[LAB_CTX_PCP_REFS];
	char last_error[512]; /* lab_last_error() of this context (the
			       * bug names list fits) */
};

/* "context.c" */
/* The current context; NULL until the thread's first call. */
extern _Thread_local _Atomic(struct lab_ctx *) _lab_current
	__attribute__((tls_model("initial-exec")));
struct lab_ctx *_lab_ctx_first_use(void);
/* The current context, never NULL; async-signal-safe. */
static inline struct lab_ctx *_lab_ctx(void)
{
	/* Relaxed atomic: a fiber scheduler swaps it between logical threads
	 * that TSan sees as distinct threads sharing this TLS word. */
	struct lab_ctx *ctx =
		atomic_load_explicit(&_lab_current, memory_order_relaxed);

	return __builtin_expect(ctx != NULL, 1) ? ctx : _lab_ctx_first_use();
}
static inline bool _lab_ctx_in_irq(const struct lab_ctx *ctx)
{
	return atomic_load_explicit(&ctx->hardirq, memory_order_relaxed) != 0;
}
/* Owner id of ctx as it runs now (see lab_ctx_id). */
static inline uint32_t _lab_ctx_id(const struct lab_ctx *ctx)
{
	return ctx->task_id | (_lab_ctx_in_irq(ctx) ? LAB_CTX_IRQ_BIT : 0);
}
void _lab_ctx_release_caches(struct lab_ctx *ctx);
void _lab_ctx_track_exit(void);
bool _lab_might_sleep(const struct lab_maze *maze, const char *file, int line);

/* "report.c" */
void _lab_set_error(const char *fmt, ...);
/* Reports through the hook with the detector's kind, and counts the
 * detector (per maze and process-wide).  Async-signal-safe. */
void _lab_report(const struct lab_maze *maze, enum lab_detector det,
		 const char *function, uint64_t pfn, unsigned order,
		 uint32_t owner, const char *fmt, ...);
/* Counts a detector that refused a call without a report (bad arguments
 * that return an error value). */
void _lab_detector_hit(const struct lab_maze *maze, enum lab_detector det);
size_t _lab_vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* "maze.c" */
bool _lab_maze_null(const char *function);
static inline bool _lab_maze_valid(const struct lab_maze *maze,
				   const char *function)
{
	return __builtin_expect(maze != NULL, 1) || _lab_maze_null(function);
}
struct lab_maze *_lab_registry_find_addr(const void *addr);
bool _lab_registry_lock_live(uint64_t id);
void _lab_registry_unlock(void);
static inline uint64_t _lab_page_pfn(const struct lab_maze *maze,
				     const struct lab_page *page)
{
	return (uint64_t)(page - maze->pages);
}
static inline void *_lab_pfn_addr(const struct lab_maze *maze, uint64_t pfn)
{
	return maze->base + (pfn << maze->page_shift);
}
/* Checked descriptor lookup for entry points: reports bad pointers. */
struct lab_page *_lab_page_lookup(struct lab_maze *maze,
				  const struct lab_page *page,
				  const char *function);
struct lab_page *_lab_addr_report(struct lab_maze *maze, const void *addr,
				  const char *function);
/* Checked address lookup for entry points: the page starting at addr, or
 * NULL after reporting (misaligned, another maze, out of range). */
static inline struct lab_page *
_lab_addr_lookup(struct lab_maze *maze, const void *addr, const char *function)
{
	uintptr_t off = (uintptr_t)addr - (uintptr_t)maze->base;

	if (__builtin_expect(
		    off < maze->bytes && !(off & (maze->cfg.page_size - 1)), 1))
		return &maze->pages[off >> maze->page_shift];
	return _lab_addr_report(maze, addr, function);
}
/* The head descriptor read of an ownership lookup.  acquire pairs with
 * the release of the allocation (lab_publish_head) and of the handoff: a
 * caller that finds itself the owner (or the block plain) is ordered
 * after the previous owner's accesses. */
static inline uint64_t _lab_owner_load_at(const lab_atomic64_t *state,
					  const char *site)
{
	/* Seeded bug: the lookup acquires nothing. */
	if (LAB_BUG_ON(OWNER_NO_ACQUIRE))
		return lab_load_relaxed_at(state, site);
	return lab_load_acquire_at(state, site);
}
#define _lab_owner_load(state) _lab_owner_load_at((state), LAB_ASITE)
/* Head pfn of the allocated block containing pfn, or LAB_NO_PFN. */
uint64_t _lab_block_head(const struct lab_maze *maze, uint64_t pfn,
			 uint64_t *state);

/* What one attempt on the shared words may spend.  `left` counts bitmap
 * words probed and failed CASes; `retries` the failed CASes (on the free
 * count or a bitmap word: another context changed it between our read
 * and our CAS), at most `retry_max`.  Spending stops the attempt when
 * either runs out, so every loop of a non-blocking class is bounded (see
 * _lab_probe_init); `limited` says the retry bound, not the walk, ended
 * it. */
struct lab_probe {
	unsigned long left, retries, retry_max;
	bool limited;
};
/* A retry after a failed CAS: false (stop) once the bound is reached. */
static inline bool _lab_probe_retry(struct lab_probe *p)
{
	if (!p->left || p->retries >= p->retry_max) {
		p->limited = true;
		return false;
	}
	p->left--;
	p->retries++;
	p->limited = !p->left; /* a retry spent the last of the budget */
	return true;
}

/* "buddy.c" */
void _lab_buddy_init(struct lab_maze *maze);
/* Takes a free block of exactly `order` (splitting a larger one) within
 * the probe's budget; LAB_NO_PFN if none found.  Lock-free. */
uint64_t _lab_buddy_claim(struct lab_maze *maze, struct lab_ctx *ctx,
			  unsigned order, struct lab_probe *probe);
/* Returns a block, merging with free buddies.  Lock-free. */
void _lab_buddy_insert(struct lab_maze *maze, uint64_t pfn, unsigned order);

/* "alloc.c" */
uint64_t _lab_wmark_for(const struct lab_maze *maze, lab_gfp_t gfp,
			unsigned which);
/* Takes n frames off the free count if that leaves at least `mark`;
 * *left (if not NULL) gets what it left.  Each failed CAS is a retry of
 * the probe: false when it runs out.  Lock-free. */
bool _lab_reserve_frames(struct lab_maze *maze, uint64_t n, uint64_t mark,
			 uint64_t *left, struct lab_probe *probe);
/* Gives back a reservation that found no block, waking waiters other than
 * the caller (`self` is 1 if the caller is counted in nr_waiters). */
void _lab_unreserve_frames(struct lab_maze *maze, uint64_t n, unsigned self);
struct lab_probe _lab_probe_init(const struct lab_maze *maze, lab_gfp_t gfp);
/* Adds the attempt's retries to its class's statistics. */
void _lab_probe_account(struct lab_maze *maze, lab_gfp_t gfp,
			const struct lab_probe *probe);

/* "free.c" */
void _lab_release_frames(struct lab_maze *maze, uint64_t pfn, unsigned order);
void _lab_frames_returned(struct lab_maze *maze, uint64_t n);
/* Wakes GFP_KERNEL waiters if more than `self` wait; call after frames
 * were added to nr_free (seq_cst: the waker's half of the protocol at
 * lab_wait_for_free). */
void _lab_wake_waiters(struct lab_maze *maze, unsigned self);

/* "pcp.c" */
struct lab_pcp *_lab_pcp_claim_slot(struct lab_maze *maze, struct lab_ctx *ctx);
/* The context's cache slot for maze, claiming one if may_claim (process
 * context only); NULL if caches are off or no slot is free. */
static inline struct lab_pcp *_lab_pcp_get(struct lab_maze *maze,
					   struct lab_ctx *ctx, bool may_claim)
{
	unsigned i;

	if (!maze->cfg.pcp_high)
		return NULL;
	for (i = 0; i < LAB_CTX_PCP_REFS; i++) {
		if (ctx->pcp[i].maze_id == maze->id && ctx->pcp[i].maze == maze)
			return ctx->pcp[i].slot;
	}
	return may_claim ? _lab_pcp_claim_slot(maze, ctx) : NULL;
}
/* Enters the context's cache section; false if it is already taken (we
 * are an interrupt that landed inside it).  No RMW is needed: only the
 * owning context and interrupts on it get here, and an interrupt runs to
 * completion before the code it interrupted resumes.  The signal barrier
 * keeps the compiler from moving section accesses across the flag. */
static inline bool _lab_pcp_enter(struct lab_pcp *pcp)
{
	if (atomic_load_explicit(&pcp->busy, memory_order_relaxed) &&
	    !LAB_BUG_ON(PCP_IRQ_UNSAFE))
		return false;
	atomic_store_explicit(&pcp->busy, 1, memory_order_relaxed);
	lab_signal_barrier();
	return true;
}
static inline void _lab_pcp_exit(struct lab_pcp *pcp)
{
	lab_signal_barrier();
	atomic_store_explicit(&pcp->busy, 0, memory_order_relaxed);
}
bool _lab_pcp_serves(const struct lab_maze *maze, unsigned order);
uint64_t _lab_pcp_alloc(struct lab_maze *maze, struct lab_ctx *ctx,
			struct lab_pcp *pcp, unsigned order, lab_gfp_t gfp);
bool _lab_pcp_free(struct lab_maze *maze, struct lab_pcp *pcp, uint64_t pfn,
		   unsigned order);
void _lab_pcp_drain(struct lab_maze *maze, struct lab_pcp *pcp);
void _lab_pcp_release(struct lab_maze *maze, struct lab_pcp *pcp);
bool _lab_pcp_usable(const struct lab_maze *maze);

/* "stats.c" */
/* Where one operation's counters go.  With `owned` set the caller holds
 * its cache section, so counters are bumped with a plain load+store (no
 * locked instruction on the fast path); otherwise with an atomic add. */
struct lab_stat_ref {
	struct lab_stat_block *block;
	struct lab_pcp *owned;
};
struct lab_stat_ref _lab_stats_begin(struct lab_maze *maze,
				     struct lab_pcp *pcp);
void _lab_stats_end(struct lab_stat_ref ref);
static inline void _lab_stat_add(struct lab_stat_ref ref,
				 lab_atomic64_t *counter, uint64_t n)
{
	if (ref.owned)
		lab_counter_store_relaxed(counter,
					  lab_counter_load_relaxed(counter) + n);
	else
		lab_counter_add_relaxed(counter, n);
}
/* Rare counters (reports, waits): always an atomic add, from anywhere. */
void _lab_stat_inc(lab_atomic64_t *counter);
bool _lab_fault_step(struct lab_maze *maze);
/* The failure-injection point: one relaxed load when no plan is set. */
static inline bool _lab_fault_should_fail(struct lab_maze *maze)
{
	return lab_load_relaxed(&maze->fail_plan) && _lab_fault_step(maze);
}

/* "hooks.c" */
extern _Atomic(lab_yield_fn) _lab_yield_hook;
void _lab_yield_slow(enum lab_yield_point point);
int _lab_wait(atomic_uint *word, unsigned expected, unsigned timeout_ms);
void _lab_wake_all(atomic_uint *word);

/* A named yield point; compiled out in release. */
#if LAB_HAVE_YIELD_POINTS
#define lab_yield(point)                                        \
	do {                                                    \
		if (atomic_load_explicit(&_lab_yield_hook,      \
					 memory_order_relaxed)) \
			_lab_yield_slow(LAB_YP_##point);        \
	} while (0)
#else
#define lab_yield(point) ((void)0)
#endif

/* Plain accesses that cross threads through the allocator's atomics,
 * told to the plain hook (labyrinth/hooks.h) before they happen; compiled
 * out in release.  `site` is a static string ("free:poison"). */
extern _Atomic(lab_plain_hook_fn) _lab_plain_hook;
void _lab_plain_frames_slow(const struct lab_maze *maze, uint64_t pfn,
			    unsigned order, bool write, const char *site);
#if LAB_HAVE_YIELD_POINTS
#define LAB_PLAIN_HOOKED()                                                \
	__builtin_expect(atomic_load_explicit(&_lab_plain_hook,           \
					      memory_order_relaxed) != NULL, \
			 0)
/* The contents of the block's frames, one report per frame. */
#define lab_plain_frames(maze, pfn, order, write, site)                     \
	do {                                                                \
		if (LAB_PLAIN_HOOKED())                                     \
			_lab_plain_frames_slow((maze), (pfn), (order),      \
					       (write), (site));            \
	} while (0)
/* One plain object (a descriptor's cache link). */
#define lab_plain_object(addr, len, write, site)                            \
	do {                                                                \
		lab_plain_hook_fn fn_ = atomic_load_explicit(               \
			&_lab_plain_hook, memory_order_relaxed);            \
		if (__builtin_expect(fn_ != NULL, 0))                       \
			fn_((addr), (len), (write), (site));                \
	} while (0)
#else
#define lab_plain_frames(maze, pfn, order, write, site) ((void)0)
#define lab_plain_object(addr, len, write, site) ((void)0)
#endif

/* "check.c" */
long _lab_check(struct lab_maze *maze);

#endif /* LAB_INTERNAL_H */
