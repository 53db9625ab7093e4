/* check.c - whole-maze consistency check for quiescent points.
 *
 * Every frame must be in exactly one place: a free buddy block, a cache
 * slot, or an allocated block named by its head descriptor.  Free blocks
 * must be fully coalesced, the counters must agree with what the walk
 * finds, and no class may have gone below the mark its watermark rule
 * allows (GFP_NOWAIT never below min).  Each problem is reported
 * (non-fatal LAB_REPORT_INCONSISTENT);
 * the first few get a message, the rest are only counted.
 */
#include <stdlib.h>

#include "internal.h"

LAB_NO_COVERAGE_BEGIN

#define LAB_CHECK_REPORTS 16

struct lab_walk {
	struct lab_maze *maze;
	uint64_t *seen; /* one bit per frame */
	long problems;
	uint64_t free_frames, cached, allocated;
	uint64_t blocks[LAB_MAX_ORDER_LIMIT + 1];
};

/* pfn is the frame the problem is at, or LAB_NO_PFN for a maze-wide one
 * (a counter), whose message names no frame. */
static void lab_problem_by(struct lab_walk *w, enum lab_detector det,
			   uint64_t pfn, const char *what)
{
	if (w->problems++ >= LAB_CHECK_REPORTS) {
		_lab_detector_hit(w->maze, det);
		return;
	}
	if (pfn == LAB_NO_PFN)
		_lab_report(w->maze, det, "lab_maze_check", pfn, 0, 0,
			    "maze check: %s", what);
	else
		_lab_report(w->maze, det, "lab_maze_check", pfn, 0, 0,
			    "maze check: %s (pfn %llu)", what,
			    (unsigned long long)pfn);
}

static void lab_problem(struct lab_walk *w, uint64_t pfn, const char *what)
{
	lab_problem_by(w, LAB_DET_MAZE_CHECK, pfn, what);
}

/* Marks [pfn, pfn + n) as accounted for; reports frames seen twice. */
static bool lab_mark(struct lab_walk *w, uint64_t pfn, uint64_t n,
		     const char *what)
{
	bool ok = true;
	uint64_t i;

	if (pfn + n > w->maze->frames) {
		lab_problem(w, pfn, "block runs past the end of the maze");
		return false;
	}
	for (i = pfn; i < pfn + n; i++) {
		uint64_t bit = (uint64_t)1 << (i & 63);

		if (w->seen[i / 64] & bit) {
			if (ok)
				lab_problem(w, i, what);
			ok = false;
		}
		w->seen[i / 64] |= bit;
	}
	return ok;
}

static void lab_walk_free_order(struct lab_walk *w, unsigned k)
{
	struct lab_maze *maze = w->maze;
	uint64_t i;

	for (i = 0; i < maze->avail_words[k]; i++) {
		uint64_t word = lab_load_acquire(&maze->avail[k][i]);

		while (word) {
			uint64_t idx = i * 64 + (uint64_t)__builtin_ctzll(word);
			uint64_t pfn = idx << k;

			word &= word - 1;
			w->blocks[k]++;
			w->free_frames += (uint64_t)1 << k;
			if (k < maze->max_order &&
			    (word & ((uint64_t)1 << ((idx ^ 1) & 63))) &&
			    !(idx & 1))
				lab_problem(w, pfn, "free buddies not merged");
			if (LAB_PG_KIND(lab_load_relaxed(
				    &maze->pages[pfn].state)) == LAB_PG_HEAD)
				lab_problem(w, pfn,
					    "free block has an "
					    "allocated descriptor");
			lab_mark(w, pfn, (uint64_t)1 << k,
				 "free blocks overlap");
		}
	}
	if (w->blocks[k] != lab_load_relaxed(&maze->nr_blocks[k]))
		lab_problem(w, LAB_NO_PFN, "per-order free block count wrong");
}

/* Walks one cache list of `order`-sized blocks; returns frames seen. */
static uint64_t lab_walk_cache_list(struct lab_walk *w, uint32_t head,
				    unsigned order, uint64_t limit)
{
	struct lab_maze *maze = w->maze;
	uint64_t size = (uint64_t)1 << order, frames = 0;
	uint32_t pfn;

	for (pfn = head; pfn != LAB_PFN_NONE && frames <= limit;
	     pfn = maze->pages[pfn].next) {
		if (pfn >= maze->frames || (pfn & (size - 1))) {
			lab_problem(w, pfn, "cache links a bad block");
			break;
		}
		if (!lab_mark(w, pfn, size, "cached frame also elsewhere"))
			break;
		frames += size;
	}
	return frames;
}

static void lab_walk_caches(struct lab_walk *w)
{
	struct lab_maze *maze = w->maze;
	unsigned i, k;

	for (i = 0; i < LAB_PCP_SLOTS; i++) {
		struct lab_pcp *pcp = &maze->pcp[i];
		uint64_t n = 0, count = lab_counter_load_relaxed(&pcp->count);

		if (!atomic_load(&pcp->claimed))
			continue;
		for (k = 0; k <= LAB_PCP_MAX_ORDER; k++)
			n += lab_walk_cache_list(w, pcp->head[k], k, count);
		if (n != count)
			lab_problem(w, LAB_NO_PFN, "cache count disagrees");
		w->cached += n;
	}
}

static void lab_walk_allocated(struct lab_walk *w)
{
	struct lab_maze *maze = w->maze;
	uint64_t pfn = 0;

	while (pfn < maze->frames) {
		uint64_t s = lab_load_acquire(&maze->pages[pfn].state);
		uint64_t n = (uint64_t)1 << LAB_PG_ORDER(s);

		if (w->seen[pfn / 64] & ((uint64_t)1 << (pfn & 63))) {
			pfn++;
			continue;
		}
		if (LAB_PG_KIND(s) != LAB_PG_HEAD) {
			lab_problem(w, pfn,
				    "frame neither free, cached nor "
				    "allocated (leaked)");
			pfn++;
			continue;
		}
		if (LAB_PG_ORDER(s) > maze->max_order || (pfn & (n - 1)))
			lab_problem(w, pfn, "allocated head misaligned");
		lab_mark(w, pfn, n, "allocated block overlaps");
		w->allocated += n;
		pfn += n;
	}
}

/* Only HIGH allocations may take the free count below min, and HIGH
 * makes its class ATOMIC unless DIRECT_RECLAIM makes it KERNEL: a
 * GFP_NOWAIT reserve dip (counted exactly, at the reservation) breaks
 * the watermark rules. */
static void lab_check_reserves(struct lab_walk *w)
{
	struct lab_maze_stats st;

	lab_maze_stats(w->maze, &st);
	if (st.cls[LAB_CLASS_NOWAIT].reserve_dips)
		lab_problem_by(
			w, LAB_DET_WATERMARK_DIP, LAB_NO_PFN,
			"GFP_NOWAIT allocations took the free count below "
			"min");
}

long _lab_check(struct lab_maze *maze)
{
	struct lab_walk w = { .maze = maze };
	unsigned k;

	w.seen = calloc((maze->frames + 63) / 64, sizeof(uint64_t));
	if (!w.seen) {
		_lab_set_error("lab_maze_check: out of memory");
		return -ENOMEM;
	}
	for (k = 0; k <= maze->max_order; k++)
		lab_walk_free_order(&w, k);
	if (w.free_frames != lab_load_relaxed(&maze->nr_free))
		lab_problem(&w, LAB_NO_PFN,
			    "free count disagrees with the bitmaps");
	lab_walk_caches(&w);
	lab_walk_allocated(&w);
	if (w.free_frames + w.cached + w.allocated != maze->frames)
		lab_problem(&w, LAB_NO_PFN, "frames not conserved");
	if (lab_load32_seq_cst(&maze->nr_waiters))
		lab_problem(&w, LAB_NO_PFN,
			    "waiters left at a quiescent point");
	lab_check_reserves(&w);
	free(w.seen);
	return w.problems;
}

long lab_maze_check(struct lab_maze *maze)
{
	if (!_lab_maze_valid(maze, "lab_maze_check"))
		return -EINVAL;
	return _lab_check(maze);
}

LAB_NO_COVERAGE_END
