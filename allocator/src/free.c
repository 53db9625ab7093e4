/* free.c - freeing blocks, and exclusive ownership (address, access
 * checks, handoff).
 *
 * The head descriptor decides who may free: one CAS moves it from
 * "allocated, order o, owner X, generation g" to "free, generation g".
 * A second free of the same block finds it free (DOUBLE_FREE).  A free
 * (or handoff) prepared from a stale read, when the block was freed and
 * allocated again meanwhile, fails its CAS because the generation moved
 * on, and is refused as a double free: the block it validated is gone,
 * and the new allocation, however alike, is not the caller's to free (the
 * ABA the generation exists for).  Only after the CAS succeeds is the
 * block poisoned and returned, so a rejected free never touches the block.
 */
#include <string.h>

#include "internal.h"

/* Why a descriptor state does not allow this free; NULL if it does. */
static enum lab_report_kind lab_free_verdict(uint64_t s, unsigned order,
					     uint32_t me)
{
	if (LAB_PG_KIND(s) != LAB_PG_HEAD)
		return LAB_REPORT_DOUBLE_FREE;
	if (LAB_PG_ORDER(s) != order)
		return LAB_REPORT_WRONG_ORDER;
	if (LAB_PG_EXCL(s) && LAB_PG_OWNER(s) != me)
		return LAB_REPORT_FOREIGN_FREE;
	return LAB_REPORT_KIND_COUNT;
}

static void lab_free_report(struct lab_maze *maze, enum lab_report_kind kind,
			    uint64_t pfn, unsigned order, uint64_t s)
{
	uint64_t head_state = 0;
	uint64_t head;

	switch (kind) {
	case LAB_REPORT_DOUBLE_FREE:
		head = _lab_block_head(maze, pfn, &head_state);
		if (head != LAB_NO_PFN) {
			_lab_report(maze, LAB_DET_TAIL_FRAME_FREE,
				    "lab_free_pages", pfn, order,
				    LAB_PG_OWNER(head_state),
				    "free of pfn %llu, inside the order-%u "
				    "block at pfn %llu, not its head",
				    (unsigned long long)pfn,
				    LAB_PG_ORDER(head_state),
				    (unsigned long long)head);
			return;
		}
		_lab_report(maze, LAB_DET_DOUBLE_FREE, "lab_free_pages", pfn,
			    order, 0,
			    "double free of pfn %llu order %u (not allocated)",
			    (unsigned long long)pfn, order);
		return;
	case LAB_REPORT_WRONG_ORDER:
		_lab_report(maze, LAB_DET_WRONG_ORDER_FREE, "lab_free_pages",
			    pfn, order, LAB_PG_OWNER(s),
			    "pfn %llu freed with order %u, allocated with "
			    "order %u",
			    (unsigned long long)pfn, order, LAB_PG_ORDER(s));
		return;
	default:
		_lab_report(maze, LAB_DET_FOREIGN_FREE, "lab_free_pages", pfn,
			    order, LAB_PG_OWNER(s),
			    "exclusive block pfn %llu order %u owned by %x "
			    "freed by %x",
			    (unsigned long long)pfn, order, LAB_PG_OWNER(s),
			    lab_ctx_id());
	}
}

/* A free (DOUBLE_FREE) or handoff (USE_AFTER_FREE) whose CAS found the
 * block freed and allocated again since it was validated (the generation
 * moved on): refused. */
static int lab_report_stale(struct lab_maze *maze, enum lab_detector det,
			    const char *function, uint64_t pfn, unsigned order,
			    uint64_t s)
{
	_lab_report(maze, det, function, pfn, order, LAB_PG_OWNER(s),
		    "%s of pfn %llu order %u raced with its free: the block "
		    "was allocated again (generation %llu) before it landed",
		    function, (unsigned long long)pfn, order,
		    (unsigned long long)LAB_PG_GEN(s));
	return -EINVAL;
}

/* The free state of an allocated descriptor s (lab_pg_prep_new relies on
 * it being clean but for the generation). */
static uint64_t lab_pg_freed(uint64_t s)
{
	uint64_t free = lab_pg_make(LAB_PG_FREE, 0, false, 0, LAB_PG_GEN(s));

	/* Seeded bug: kind and order are reset, the ownership is not. */
	if (LAB_BUG_ON(FREE_KEEPS_OWNER))
		free |= s & LAB_PG_OWNERSHIP;
	return free;
}

/* Moves the head descriptor to free if this caller may free the block.
 * *published is set if the frames were already returned to the maze. */
static int lab_free_claim(struct lab_maze *maze, struct lab_ctx *ctx,
			  uint64_t pfn, unsigned order, bool *published)
{
	lab_atomic64_t *state = &maze->pages[pfn].state;
	uint32_t me = _lab_ctx_id(ctx);
	/* acquire pairs with lab_publish_head / handoff: we see the owner. */
	uint64_t s = lab_load_acquire(state), gen = LAB_PG_GEN(s);
	enum lab_report_kind verdict;

	for (;;) {
		verdict = lab_free_verdict(s, order, me);
		if (verdict != LAB_REPORT_KIND_COUNT) {
			lab_free_report(maze, verdict, pfn, order, s);
			return verdict == LAB_REPORT_FOREIGN_FREE ? -EPERM :
								    -EINVAL;
		}
		if (LAB_BUG_ON(PUBLISH_BEFORE_INIT) && !*published) {
			/* Seeded bug: the frames go back to the free lists
			 * before the descriptor is reset and the memory
			 * poisoned. */
			_lab_release_frames(maze, pfn, order);
			*published = true;
		}
		lab_yield(FREE_DESC);
		/* acq_rel: acquire the owner's writes to the block before we
		 * poison it; release our reads of it before others reuse. */
		if (lab_cas_acq_rel(state, &s, lab_pg_freed(s)))
			return 0;
		if (LAB_PG_GEN(s) != gen)
			return lab_report_stale(maze, LAB_DET_STALE_FREE,
						"lab_free_pages", pfn, order,
						s);
	}
}

/* Back to the buddy bitmaps, then wake GFP_KERNEL waiters.  The seq_cst
 * add on nr_free and the seq_cst read of nr_waiters form the freer's half
 * of the lost-wakeup protocol described at lab_wait_for_free. */
void _lab_release_frames(struct lab_maze *maze, uint64_t pfn, unsigned order)
{
	_lab_buddy_insert(maze, pfn, order);
	_lab_frames_returned(maze, (uint64_t)1 << order);
}

void _lab_wake_waiters(struct lab_maze *maze, unsigned self)
{
	if (lab_load32_seq_cst(&maze->nr_waiters) > self) {
		lab_yield(WAKE);
		lab_add32_seq_cst(&maze->free_seq, 1);
		_lab_wake_all(&maze->free_seq);
	}
}

/* Accounts n frames already inserted into the bitmaps and wakes waiters. */
void _lab_frames_returned(struct lab_maze *maze, uint64_t n)
{
	if (LAB_BUG_ON(RACY_FREE_COUNT)) {
		/* Seeded bug: a plain read-modify-write of a shared counter. */
		uint64_t *plain = (uint64_t *)&maze->nr_free;
		uint64_t v = *plain;

		lab_yield(WAKE);
		*plain = v + n;
	} else {
		lab_add_seq_cst(&maze->nr_free, n);
	}
	_lab_wake_waiters(maze, 0);
}

static int lab_free_pfn(struct lab_maze *maze, uint64_t pfn, unsigned order)
{
	struct lab_ctx *ctx = _lab_ctx();
	bool published = false;
	struct lab_stat_ref ref;
	struct lab_pcp *pcp;
	int ret;

	if (order > maze->max_order) {
		_lab_set_error("lab_free_pages: order %u above max_order %u",
			       order, maze->max_order);
		return -EINVAL;
	}
	if (pfn & (((uint64_t)1 << order) - 1)) {
		_lab_report(maze, LAB_DET_MISALIGNED_FREE, "lab_free_pages",
			    pfn, order, 0,
			    "pfn %llu is not aligned to order %u",
			    (unsigned long long)pfn, order);
		return -EINVAL;
	}
	lab_yield(FREE_ENTER);
	ret = lab_free_claim(maze, ctx, pfn, order, &published);
	if (ret)
		return ret;
	if (LAB_DEBUG) {
		/* Ordered after the owner's last accesses by the claim's
		 * acquire, before the next claimer's scan by the release of
		 * the insert (or of the cache's drain). */
		lab_plain_frames(maze, pfn, order, true, "free:poison");
		memset(_lab_pfn_addr(maze, pfn), LAB_POISON_BYTE,
		       (size_t)1 << (order + maze->page_shift));
	}
	pcp = _lab_pcp_get(maze, ctx,
			   !atomic_load_explicit(&ctx->hardirq,
						 memory_order_relaxed));
	if (published)
		pcp = NULL; /* only the statistics are left to do */
	else if (pcp && _lab_pcp_serves(maze, order) &&
		 _lab_pcp_free(maze, pcp, pfn, order))
		return 0; /* counted inside the cache section */
	else
		_lab_release_frames(maze, pfn, order);
	ref = _lab_stats_begin(maze, pcp);
	_lab_stat_add(ref, &ref.block->frees, 1);
	_lab_stats_end(ref);
	return 0;
}

int lab_free_pages(struct lab_maze *maze, struct lab_page *page, unsigned order)
{
	struct lab_page *pg;

	if (!_lab_maze_valid(maze, "lab_free_pages"))
		return -EINVAL;
	if (!page) {
		_lab_set_error("lab_free_pages: NULL page");
		return -EINVAL;
	}
	pg = _lab_page_lookup(maze, page, "lab_free_pages");
	if (!pg)
		return -EFAULT;
	return lab_free_pfn(maze, _lab_page_pfn(maze, pg), order);
}

int lab_free_pages_addr(struct lab_maze *maze, void *addr, unsigned order)
{
	struct lab_page *pg;

	if (!_lab_maze_valid(maze, "lab_free_pages_addr"))
		return -EINVAL;
	if (!addr) {
		_lab_set_error("lab_free_pages_addr: NULL address");
		return -EINVAL;
	}
	pg = _lab_addr_lookup(maze, addr, "lab_free_pages");
	if (!pg)
		return -EFAULT;
	return lab_free_pfn(maze, _lab_page_pfn(maze, pg), order);
}

/* ---- ownership ------------------------------------------------------------------- */

/* The caller may touch the block headed by `head` in state s. */
static bool lab_may_touch(uint64_t s)
{
	return !LAB_PG_EXCL(s) || LAB_PG_OWNER(s) == lab_ctx_id();
}

static void lab_report_foreign(struct lab_maze *maze, enum lab_detector det,
			       const char *function, uint64_t head, uint64_t s)
{
	_lab_report(maze, det, function, head, LAB_PG_ORDER(s), LAB_PG_OWNER(s),
		    "%s: exclusive block pfn %llu order %u owned by %x, "
		    "touched by %x",
		    function, (unsigned long long)head, LAB_PG_ORDER(s),
		    LAB_PG_OWNER(s), lab_ctx_id());
}

void *lab_page_address(struct lab_maze *maze, const struct lab_page *page)
{
	const struct lab_page *pg;
	uint64_t pfn, head, s = 0;

	if (!_lab_maze_valid(maze, "lab_page_address") || !page) {
		_lab_set_error("lab_page_address: NULL %s",
			       maze ? "page" : "maze");
		return NULL;
	}
	pg = _lab_page_lookup(maze, page, "lab_page_address");
	if (!pg)
		return NULL;
	pfn = _lab_page_pfn(maze, pg);
	head = _lab_block_head(maze, pfn, &s);
	if (head != LAB_NO_PFN && !lab_may_touch(s)) {
		lab_report_foreign(maze, LAB_DET_FOREIGN_ACCESS,
				   "lab_page_address", head, s);
		return NULL;
	}
	return _lab_pfn_addr(maze, pfn);
}

int lab_access_check(struct lab_maze *maze, const void *addr, size_t len)
{
	struct lab_page *pg;
	uint64_t pfn, head, s = 0;
	size_t at, bytes;

	if (!_lab_maze_valid(maze, "lab_access_check") || !addr || !len) {
		_lab_set_error("lab_access_check: NULL maze/address or 0 len");
		return -EINVAL;
	}
	pg = lab_virt_to_page(maze, addr);
	if (!pg)
		return _lab_addr_lookup(maze, addr, "lab_access_check"),
		       -EFAULT;
	pfn = _lab_page_pfn(maze, pg);
	head = _lab_block_head(maze, pfn, &s);
	if (head == LAB_NO_PFN) {
		_lab_report(maze, LAB_DET_ACCESS_FREE, "lab_access_check", pfn,
			    0, 0, "access to free pfn %llu at %p",
			    (unsigned long long)pfn, addr);
		return -EFAULT;
	}
	at = (uintptr_t)addr - (uintptr_t)_lab_pfn_addr(maze, head);
	bytes = (size_t)1 << (LAB_PG_ORDER(s) + maze->page_shift);
	/* Written so that no len, however large, can wrap the sum. */
	if (len > bytes || at > bytes - len) {
		_lab_report(maze, LAB_DET_ACCESS_OVERRUN, "lab_access_check",
			    head, LAB_PG_ORDER(s), LAB_PG_OWNER(s),
			    "access [%p, +%zu) runs past the order-%u block at "
			    "pfn %llu",
			    addr, len, LAB_PG_ORDER(s),
			    (unsigned long long)head);
		return -EFAULT;
	}
	if (!lab_may_touch(s)) {
		lab_report_foreign(maze, LAB_DET_FOREIGN_ACCESS,
				   "lab_access_check", head, s);
		return -EPERM;
	}
	return 0;
}

/* acq_rel: the new owner's acquire load sees what we wrote to the block
 * before handing it over (and we see the previous owner's writes). */
static bool lab_handoff_cas(lab_atomic64_t *state, uint64_t *s, uint64_t to)
{
	/* Seeded bug: the handoff's release is weakened to relaxed, so the
	 * new owner's accesses are not ordered after the old owner's. */
	if (LAB_BUG_ON(HANDOFF_RELAXED))
		return lab_cas_relaxed(state, s, to);
	return lab_cas_acq_rel(state, s, to);
}

int lab_page_handoff(struct lab_maze *maze, struct lab_page *page,
		     unsigned order, uint32_t new_owner)
{
	struct lab_page *pg;
	uint64_t pfn, s, gen;

	if (!_lab_maze_valid(maze, "lab_page_handoff") || !page || !new_owner) {
		_lab_set_error("lab_page_handoff: NULL maze/page or owner 0");
		if (maze)
			_lab_detector_hit(maze, LAB_DET_HANDOFF_ARGS);
		return -EINVAL;
	}
	pg = _lab_page_lookup(maze, page, "lab_page_handoff");
	if (!pg)
		return -EFAULT;
	pfn = _lab_page_pfn(maze, pg);
	s = lab_load_acquire(&pg->state);
	gen = LAB_PG_GEN(s);
	for (;;) {
		enum lab_report_kind v =
			lab_free_verdict(s, order, lab_ctx_id());

		if (v != LAB_REPORT_KIND_COUNT) {
			if (v == LAB_REPORT_FOREIGN_FREE)
				lab_report_foreign(maze,
						   LAB_DET_HANDOFF_FOREIGN,
						   "lab_page_handoff", pfn, s);
			else if (v == LAB_REPORT_DOUBLE_FREE)
				_lab_report(maze, LAB_DET_HANDOFF_FREED,
					    "lab_page_handoff", pfn, order, 0,
					    "handoff of pfn %llu, which is not "
					    "an allocated block head",
					    (unsigned long long)pfn);
			else
				_lab_report(
					maze, LAB_DET_HANDOFF_ARGS,
					"lab_page_handoff", pfn, order,
					LAB_PG_OWNER(s),
					"handoff of pfn %llu with order %u, "
					"allocated with order %u",
					(unsigned long long)pfn, order,
					LAB_PG_ORDER(s));
			return v == LAB_REPORT_FOREIGN_FREE ? -EPERM : -EINVAL;
		}
		lab_yield(HANDOFF);
		if (lab_handoff_cas(&pg->state, &s,
				    lab_pg_make(LAB_PG_HEAD, order, true,
						new_owner, LAB_PG_GEN(s))))
			return 0;
		if (LAB_PG_GEN(s) != gen)
			return lab_report_stale(maze, LAB_DET_STALE_HANDOFF,
						"lab_page_handoff", pfn, order,
						s);
	}
}

uint32_t lab_page_owner(const struct lab_maze *maze,
			const struct lab_page *page)
{
	uint64_t pfn = lab_page_to_pfn(maze, page), s;

	if (pfn == LAB_NO_PFN)
		return 0;
	s = _lab_owner_load(&maze->pages[pfn].state);
	return LAB_PG_KIND(s) == LAB_PG_HEAD && LAB_PG_EXCL(s) ?
		       LAB_PG_OWNER(s) :
		       0;
}
