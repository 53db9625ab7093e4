/* labyrinth/maze.h - the page-frame allocator.
 *
 * A maze is one zone of width x height page frames backed by mmap.  Blocks
 * are naturally aligned runs of 2^order frames (order 0..max_order), split
 * and coalesced as in a buddy allocator.  Frames are claimed with atomic
 * compare-and-swap; the non-blocking paths (GFP_ATOMIC, GFP_NOWAIT, free)
 * are lock-free and async-signal-safe, so a signal handler can play an
 * interrupt.  GFP_KERNEL may sleep: it calls the reclaim callback and waits
 * for frees on a futex, never holding a lock that a free needs.
 *
 * Pages are named three ways: a pfn (0 .. frames-1, row-major in the maze),
 * a descriptor (struct lab_page *), and an address.  Conversions are
 * checked: a value that is not a frame of this maze gives NULL/LAB_NO_PFN
 * and sets lab_last_error().
 */
#ifndef LABYRINTH_MAZE_H
#define LABYRINTH_MAZE_H

#include <stddef.h>
#include <stdint.h>

#include "labyrinth/gfp.h"
#include "labyrinth/report.h"

struct lab_maze;
struct lab_page; /* per-frame descriptor (16 bytes), opaque */

#define LAB_PAGE_SIZE_DEFAULT 4096u
#define LAB_MAX_ORDER_DEFAULT 10u
#define LAB_MAX_ORDER_LIMIT 20u
#define LAB_FRAMES_LIMIT (1ul << 28) /* pfns fit the descriptor */
#define LAB_NO_PFN UINT64_MAX

/* Direct reclaim callback: try to free about `target` frames; return how
 * many were freed (0 = no progress).  Called by GFP_KERNEL allocations in
 * process context, without any allocator lock held. */
typedef unsigned long (*lab_reclaim_fn)(struct lab_maze *maze,
					unsigned long target, void *arg);
/* OOM hook: last chance after reclaim rounds failed.  Return nonzero if
 * memory was released and one more attempt is worthwhile. */
typedef int (*lab_oom_fn)(struct lab_maze *maze, unsigned order, void *arg);

struct lab_maze_config {
	unsigned width, height; /* frames = width * height, both >= 1 */
	size_t page_size;	/* power of two, 256 .. 2 MiB; 0 = 4096 */
	unsigned max_order;	/* 0..LAB_MAX_ORDER_LIMIT */
	/* Watermarks in frames, min <= low <= high <= frames; all 0 = the
	 * kernel-like defaults (lab_maze_config_init). */
	uint64_t wmark_min, wmark_low, wmark_high;
	unsigned reclaim_rounds;  /* GFP_KERNEL retries; default 16 */
	unsigned wait_timeout_ms; /* per round wait for a free; default 100 */
	/* bitmap words GFP_ATOMIC may probe, failed CASes included */
	unsigned atomic_probe_budget;
	unsigned pcp_high;  /* per-context cached frames; 0 = no cache */
	unsigned pcp_batch; /* frames moved per refill/drain */
	lab_reclaim_fn reclaim;
	void *reclaim_arg;
	lab_oom_fn oom;
	void *oom_arg;
	lab_report_fn report; /* NULL = process-wide hook */
	void *report_arg;
};

/* Fills cfg with defaults for a width x height maze of 4 KiB pages: max
 * order 10, kernel-like watermarks (min from min_free_kbytes =
 * sqrt(16 * size_kB), clamped to [128 KiB, 256 MiB] and to at most 1/8 of
 * the maze; low = min + max(1, min/4, frames/1000); high = low + the same;
 * low and high capped at the frame count), 16 reclaim rounds, 100 ms
 * waits, per-context caches on (pcp_batch = frames/1024 rounded down to a
 * power of two, 1..64; pcp_high = 4 batches).  Call
 * lab_maze_config_watermarks() after changing width/height/page_size.
 * NULL cfg is ignored; an invalid geometry leaves the watermarks 0 (and
 * lab_maze_create() then rejects it). */
void lab_maze_config_init(struct lab_maze_config *cfg, unsigned width,
			  unsigned height);
/* Recomputes the default watermarks for cfg's current geometry.
 * Returns 0, or -EINVAL (lab_last_error) if the geometry is invalid. */
int lab_maze_config_watermarks(struct lab_maze_config *cfg);

/* Validates cfg, maps the memory and frees every frame into the maze.
 * Returns 0 and *out, or a negative errno (-EINVAL: bad config, -ENOMEM)
 * with lab_last_error() set.  May allocate: not for interrupt context. */
int lab_maze_create(const struct lab_maze_config *cfg, struct lab_maze **out);
/* Unmaps the maze.  Call at a quiescent point; blocks still allocated are
 * lost.  NULL is ignored. */
void lab_maze_destroy(struct lab_maze *maze);

/* Geometry.  Never block; IRQ-safe. */
uint64_t lab_maze_frames(const struct lab_maze *maze);
size_t lab_maze_page_size(const struct lab_maze *maze);
unsigned lab_maze_max_order(const struct lab_maze *maze);
const struct lab_maze_config *lab_maze_config(const struct lab_maze *maze);

/* ---- allocation ------------------------------------------------------- */

/* Allocates a naturally aligned block of 2^order frames.
 *  - LAB_GFP_KERNEL may block: from atomic context it is reported
 *    (LAB_REPORT_SLEEP_IN_ATOMIC) and returns NULL without running.
 *  - LAB_GFP_NOWAIT/LAB_GFP_ATOMIC never block; lock-free and
 *    async-signal-safe, callable from interrupt context.
 * Returns the head descriptor, or NULL: on bad arguments (NULL maze, order
 * above max, unknown flag bits, NOFAIL without DIRECT_RECLAIM) with
 * lab_last_error() set, or when memory is short (reported as a warning
 * unless LAB_GFP_NOWARN).  With LAB_GFP_EXCLUSIVE the block is owned by the
 * calling context (lab_ctx_id()). */
struct lab_page *lab_alloc_pages(struct lab_maze *maze, lab_gfp_t gfp,
				 unsigned order);
/* Same, returning the address (like __get_free_pages()).  An EXCLUSIVE
 * block's address is returned to its owner, the caller. */
void *lab_get_free_pages(struct lab_maze *maze, lab_gfp_t gfp, unsigned order);

/* Frees a block allocated with exactly this order.  Never blocks;
 * async-signal-safe; IRQ-safe.  Misuse is reported and the free is not
 * performed: not a block head of this maze (BAD_POINTER, OUT_OF_RANGE,
 * WRONG_MAZE), not allocated (DOUBLE_FREE), another order (WRONG_ORDER),
 * EXCLUSIVE and the caller is not the owner (FOREIGN_FREE), freed by
 * someone else and allocated again while this free was under way
 * (DOUBLE_FREE: the new allocation is not the caller's).
 * Returns 0 or a negative errno. */
int lab_free_pages(struct lab_maze *maze, struct lab_page *page,
		   unsigned order);
/* Same, by address (like free_pages()). */
int lab_free_pages_addr(struct lab_maze *maze, void *addr, unsigned order);

/* ---- exclusive ownership ---------------------------------------------- */

/* Address of an allocated block's head frame.  For an EXCLUSIVE block only
 * its owner gets it; anyone else gets NULL and a FOREIGN_ACCESS report.
 * Never blocks; IRQ-safe. */
void *lab_page_address(struct lab_maze *maze, const struct lab_page *page);
/* Checks that the caller may touch [addr, addr+len) of an allocated block;
 * reports FOREIGN_ACCESS (or BAD_POINTER/DOUBLE_FREE for a free frame) and
 * returns a negative errno if not.  Never blocks; IRQ-safe. */
int lab_access_check(struct lab_maze *maze, const void *addr, size_t len);
/* Hands an EXCLUSIVE block to another context (an owner id from
 * lab_ctx_id()/task id).  Only the owner may hand it over; a non-exclusive
 * block is made exclusive to new_owner.  Never blocks; IRQ-safe. */
int lab_page_handoff(struct lab_maze *maze, struct lab_page *page,
		     unsigned order, uint32_t new_owner);
/* Recorded owner of an allocated EXCLUSIVE block, 0 otherwise. */
uint32_t lab_page_owner(const struct lab_maze *maze,
			const struct lab_page *page);

/* ---- conversions (checked; never block; IRQ-safe) ---------------------- */

uint64_t lab_page_to_pfn(const struct lab_maze *maze,
			 const struct lab_page *page);
struct lab_page *lab_pfn_to_page(const struct lab_maze *maze, uint64_t pfn);
/* Any address inside the maze gives its frame's descriptor. */
struct lab_page *lab_virt_to_page(const struct lab_maze *maze,
				  const void *addr);
/* Address of a frame, without ownership checks (for the harness). */
void *lab_pfn_to_virt(const struct lab_maze *maze, uint64_t pfn);
/* Column and row of a pfn in the maze grid; -EINVAL if out of range. */
int lab_pfn_to_xy(const struct lab_maze *maze, uint64_t pfn, unsigned *x,
		  unsigned *y);

/* ---- checking, statistics, failure injection ---------------------------- */

/* Whole-maze consistency check, for quiescent points (no concurrent
 * allocator calls): counters conserved, free blocks disjoint and fully
 * coalesced, descriptors agree with the bitmaps, per-thread caches and
 * reserves accounted.  Returns the number of problems (each reported as
 * LAB_REPORT_INCONSISTENT, non-fatal), or a negative errno.  May allocate. */
long lab_maze_check(struct lab_maze *maze);

/* Returns the calling thread's cached frames to the maze.  Caches of
 * threads that exit are drained at exit.  IRQ-safe. */
void lab_maze_drain_local(struct lab_maze *maze);

struct lab_class_stats {
	uint64_t attempts;
	uint64_t successes;
	uint64_t failures;
	uint64_t reserve_dips; /* successes that took free below min (exact) */
	uint64_t injected;     /* failures injected by lab_maze_fail_next */
	uint64_t waits;	       /* GFP_KERNEL: futex waits for a free */
	uint64_t reclaims;     /* GFP_KERNEL: reclaim callback calls */
	uint64_t wait_ns_max;  /* longest single wait */
	uint64_t wait_ns_total;
	/* failed CASes retried (the free count or a bitmap word changed
	 * under the attempt: contention), and attempts that gave up at the
	 * class's retry bound (GFP_ATOMIC, GFP_NOWAIT never spin unbounded) */
	uint64_t retries;
	uint64_t retry_limited;
};

struct lab_maze_stats {
	struct lab_class_stats cls[LAB_CLASS_COUNT];
	uint64_t frees;
	uint64_t frames;	/* total */
	uint64_t free_frames;	/* in the buddy bitmaps (the watermark base) */
	uint64_t cached_frames; /* in per-thread caches */
	uint64_t sleep_in_atomic; /* blocking calls refused */
	uint64_t misuse;	  /* reports of every other kind */
	uint64_t kswapd_wakeups;  /* allocations that found free below low */
	uint64_t wmark_min, wmark_low, wmark_high;
	uint64_t free_blocks[LAB_MAX_ORDER_LIMIT + 1];
};

/* Sums the statistics.  Counters are exact at quiescent points and
 * monotonic snapshots otherwise.  Never blocks; IRQ-safe. */
int lab_maze_stats(const struct lab_maze *maze, struct lab_maze_stats *out);

/* Failure injection (like should_fail_alloc_page): after `skip` more
 * allocations pass the injection point, the next `count` fail (NOFAIL ones
 * are exempt).  count 0 switches injection off.  Replaces the plan set
 * before and returns how many failures that one still had to inject, so
 * that callers on several threads can account for every injected failure
 * exactly (the `injected` statistics).  IRQ-safe. */
unsigned long lab_maze_fail_next(struct lab_maze *maze, unsigned long skip,
				 unsigned long count);

#endif /* LABYRINTH_MAZE_H */
