/* fuzz_shadow.h - the blocks a fuzz target holds in one maze, and what the
 * allocator must answer about any frame given them (shared by fuzz_ops
 * and fuzz_api).
 *
 * The model is a table of held blocks and a frame map (frame -> block).
 * Verdicts follow the order of checks in allocator/src/free.c: each says
 * which return value a call must give and which report it must draw
 * (LAB_FZS_NONE: none).  Mazes modelled here have at most
 * LAB_FZS_MAX_FRAMES frames.  The functions with branches or loops are
 * kept out of coverage instrumentation (fuzz_coverage.h): a target's
 * feedback is the allocator's behaviour, not its model's.
 */
#ifndef LAB_FUZZ_SHADOW_H
#define LAB_FUZZ_SHADOW_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_coverage.h"
#include "labyrinth.h"

#define LAB_FZS_MAX_FRAMES 64
#define LAB_FZS_NONE LAB_REPORT_KIND_COUNT

struct lab_fzs_block {
	uint32_t pfn;
	unsigned order;
	bool excl;
	uint32_t owner; /* exclusive owner id (task | IRQ bit), else 0 */
	uint32_t stamp; /* pattern written into it, 0 if none (fuzz_ops) */
	void *mirror;	/* the same allocation in a baseline, or NULL */
};

struct lab_fzs {
	uint64_t frames, held_frames;
	unsigned shift, max_order; /* page shift, the maze's max order */
	struct lab_fzs_block held[LAB_FZS_MAX_FRAMES];
	unsigned nheld;
	uint8_t map[LAB_FZS_MAX_FRAMES]; /* frame -> held index + 1, or 0 */
};

struct lab_fzs_verdict {
	int ret;
	enum lab_report_kind kind; /* LAB_FZS_NONE: no report */
};

static inline void lab_fzs_init(struct lab_fzs *sh, uint64_t frames,
				unsigned shift, unsigned max_order)
{
	memset(sh, 0, sizeof(*sh));
	sh->frames = frames;
	sh->shift = shift;
	sh->max_order = max_order;
}

static inline uint64_t lab_fzs_size(unsigned order)
{
	return (uint64_t)1 << order;
}

/* The held block containing frame pfn, or NULL. */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_block *
lab_fzs_block_at(struct lab_fzs *sh, uint64_t pfn)
{
	if (pfn >= sh->frames || !sh->map[pfn])
		return NULL;
	return &sh->held[sh->map[pfn] - 1];
}

static inline LAB_FUZZ_NO_COVERAGE void
lab_fzs_map(struct lab_fzs *sh, const struct lab_fzs_block *b, unsigned v)
{
	uint64_t i;

	for (i = 0; i < lab_fzs_size(b->order); i++)
		sh->map[b->pfn + i] = (uint8_t)v;
}

/* Records a new block; the caller has checked it overlaps nothing. */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_block *
lab_fzs_hold(struct lab_fzs *sh, uint64_t pfn, unsigned order, bool excl,
	     uint32_t owner)
{
	struct lab_fzs_block *b = &sh->held[sh->nheld++];

	*b = (struct lab_fzs_block){ (uint32_t)pfn,    order, excl,
				     excl ? owner : 0, 0,     NULL };
	lab_fzs_map(sh, b, sh->nheld);
	sh->held_frames += lab_fzs_size(order);
	return b;
}

/* Drops b; the last held block takes its index. */
static inline LAB_FUZZ_NO_COVERAGE void lab_fzs_unhold(struct lab_fzs *sh,
						       struct lab_fzs_block *b)
{
	unsigned idx = (unsigned)(b - sh->held);

	lab_fzs_map(sh, b, 0);
	sh->held_frames -= lab_fzs_size(b->order);
	if (idx != --sh->nheld) {
		sh->held[idx] = sh->held[sh->nheld];
		lab_fzs_map(sh, &sh->held[idx], idx + 1);
	}
}

static inline struct lab_fzs_verdict lab_fzs_v(int ret,
					       enum lab_report_kind kind)
{
	return (struct lab_fzs_verdict){ ret, kind };
}

/* The head descriptor's verdict (free.c's lab_free_verdict) on frame pfn
 * for `order` and caller `me`, with the reports the caller draws: `none`
 * for a free frame, `tail` for a tail frame of an allocated block,
 * `foreign` for another owner's exclusive block. */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_verdict
lab_fzs_head_verdict(struct lab_fzs *sh, uint64_t pfn, uint64_t order,
		     uint32_t me, enum lab_report_kind none,
		     enum lab_report_kind tail, enum lab_report_kind foreign)
{
	const struct lab_fzs_block *b = lab_fzs_block_at(sh, pfn);

	if (!b)
		return lab_fzs_v(-EINVAL, none);
	if (b->pfn != pfn)
		return lab_fzs_v(-EINVAL, tail);
	if (b->order != order)
		return lab_fzs_v(-EINVAL, LAB_REPORT_WRONG_ORDER);
	if (b->excl && b->owner != me)
		return lab_fzs_v(-EPERM, foreign);
	return lab_fzs_v(0, LAB_FZS_NONE);
}

/* lab_free_pages of frame pfn with `order` by `me`: order, alignment,
 * then the head verdict (a tail is a bad pointer: free.c names the block
 * it belongs to). */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_verdict
lab_fzs_free_verdict(struct lab_fzs *sh, uint64_t pfn, uint64_t order,
		     uint32_t me)
{
	if (order > sh->max_order)
		return lab_fzs_v(-EINVAL, LAB_FZS_NONE);
	if (pfn & (lab_fzs_size((unsigned)order) - 1))
		return lab_fzs_v(-EINVAL, LAB_REPORT_BAD_POINTER);
	return lab_fzs_head_verdict(sh, pfn, order, me, LAB_REPORT_DOUBLE_FREE,
				    LAB_REPORT_BAD_POINTER,
				    LAB_REPORT_FOREIGN_FREE);
}

/* lab_page_handoff of frame pfn with `order` by `me` (new owner != 0):
 * the head verdict reported as accesses; a frame that is no allocated
 * block's head, free or a tail, is a use after free there. */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_verdict
lab_fzs_handoff_verdict(struct lab_fzs *sh, uint64_t pfn, uint64_t order,
			uint32_t me)
{
	return lab_fzs_head_verdict(sh, pfn, order, me,
				    LAB_REPORT_USE_AFTER_FREE,
				    LAB_REPORT_USE_AFTER_FREE,
				    LAB_REPORT_FOREIGN_ACCESS);
}

/* lab_access_check of [frame pfn + off, + len) (pfn < frames, len > 0):
 * a free frame, a range past its block (computed without overflow, for
 * any len), then the owner. */
static inline LAB_FUZZ_NO_COVERAGE struct lab_fzs_verdict
lab_fzs_access_verdict(struct lab_fzs *sh, uint64_t pfn, uint64_t off,
		       uint64_t len, uint32_t me)
{
	const struct lab_fzs_block *b = lab_fzs_block_at(sh, pfn);
	uint64_t bytes, at;

	if (!b)
		return lab_fzs_v(-EFAULT, LAB_REPORT_USE_AFTER_FREE);
	bytes = lab_fzs_size(b->order) << sh->shift;
	at = ((pfn - b->pfn) << sh->shift) + off;
	if (len > bytes || at > bytes - len)
		return lab_fzs_v(-EFAULT, LAB_REPORT_BAD_POINTER);
	if (b->excl && b->owner != me)
		return lab_fzs_v(-EPERM, LAB_REPORT_FOREIGN_ACCESS);
	return lab_fzs_v(0, LAB_FZS_NONE);
}

#endif /* LAB_FUZZ_SHADOW_H */
