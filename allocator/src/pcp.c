/* pcp.c - per-context page caches for order-0 blocks (the kernel's
 * per-CPU page lists).
 *
 * A context (the model's CPU) claims one cache slot per maze.  Repeated
 * order-0 alloc/free pairs then touch only that slot's line, instead of
 * the shared bitmaps and free count.  Cached frames count as allocated for
 * the watermarks, as pcp pages do in Linux.
 *
 * Exactness under pressure: the cache is used only while the maze is above
 * its high watermark and nobody waits for memory.  Below that, allocations
 * drain the caller's cache and every free goes straight to the buddy
 * bitmaps, so the watermark rules hold frame-exactly; what idle contexts
 * still cache is bounded by pcp_high each.
 *
 * Interrupt safety: `busy` marks the section (_lab_pcp_enter in
 * internal.h).  Only the owning context and interrupts raised on it run
 * here; an interrupt that finds busy set skips the cache (the kernel's
 * pcp_spin_trylock from IRQ).
 */
#include "internal.h"

bool _lab_pcp_usable(const struct lab_maze *maze)
{
	return lab_load_relaxed(&maze->nr_free) >= maze->wmark[2] &&
	       !lab_load32_seq_cst(&maze->nr_waiters);
}

static void lab_pcp_push(struct lab_maze *maze, struct lab_pcp *pcp,
			 uint64_t pfn)
{
	maze->pages[pfn].next = pcp->head;
	pcp->head = (uint32_t)pfn;
	lab_store_relaxed(&pcp->count, lab_load_relaxed(&pcp->count) + 1);
}

static uint64_t lab_pcp_pop(struct lab_maze *maze, struct lab_pcp *pcp)
{
	uint64_t pfn = pcp->head;

	if (pfn == LAB_PFN_NONE)
		return LAB_NO_PFN;
	pcp->head = maze->pages[pfn].next;
	lab_store_relaxed(&pcp->count, lab_load_relaxed(&pcp->count) - 1);
	return pfn;
}

#define LAB_DRAIN_CHUNK 64

struct lab_run {
	uint64_t pfn;
	unsigned order;
};

static void lab_sort_pfns(uint64_t *v, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		uint64_t x = v[i];

		for (j = i; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Merges sorted frames into buddy blocks before they are published: a run
 * of neighbours then costs one bitmap CAS instead of one per frame.  Works
 * like a binary counter on a stack of blocks.  Returns the block count. */
static unsigned lab_merge_local(const struct lab_maze *maze,
				const uint64_t *pfns, unsigned n,
				struct lab_run *out)
{
	unsigned i, top = 0;

	for (i = 0; i < n; i++) {
		out[top++] = (struct lab_run){ pfns[i], 0 };
		while (top >= 2) {
			struct lab_run *a = &out[top - 2], *b = &out[top - 1];
			uint64_t size = (uint64_t)1 << a->order;

			if (a->order != b->order ||
			    a->order >= maze->max_order ||
			    (a->pfn & (2 * size - 1)) ||
			    a->pfn + size != b->pfn)
				break;
			a->order++;
			top--;
		}
	}
	return top;
}

/* Moves up to n frames back to the buddy bitmaps.  Inside the section. */
static void lab_pcp_release_n(struct lab_maze *maze, struct lab_pcp *pcp,
			      uint64_t n)
{
	uint64_t pfns[LAB_DRAIN_CHUNK];
	struct lab_run runs[LAB_DRAIN_CHUNK];

	while (n) {
		unsigned got = 0, nruns, i;

		while (got < LAB_DRAIN_CHUNK && got < n &&
		       (pfns[got] = lab_pcp_pop(maze, pcp)) != LAB_NO_PFN)
			got++;
		if (!got)
			return;
		n -= got;
		lab_sort_pfns(pfns, got);
		nruns = lab_merge_local(maze, pfns, got, runs);
		for (i = 0; i < nruns; i++)
			_lab_buddy_insert(maze, runs[i].pfn, runs[i].order);
		_lab_frames_returned(maze, got);
	}
}

/* Fills the cache with up to one batch, taken against the low watermark:
 * one aligned block split into frames if possible, else single frames. */
static void lab_pcp_refill(struct lab_maze *maze, struct lab_ctx *ctx,
			   struct lab_pcp *pcp, lab_gfp_t gfp)
{
	unsigned order = 31 - (unsigned)__builtin_clz(maze->cfg.pcp_batch);
	uint64_t want = (uint64_t)1 << order, got = 0, pfn;
	unsigned long budget = _lab_probe_budget(maze, gfp);

	if (order > maze->max_order)
		order = maze->max_order, want = (uint64_t)1 << order;
	if (!_lab_reserve_frames(maze, want, maze->wmark[1]))
		return;
	pfn = _lab_buddy_claim(maze, ctx, order, &budget);
	if (pfn != LAB_NO_PFN) {
		for (got = want; got--;)
			lab_pcp_push(maze, pcp, pfn + got);
		return;
	}
	for (got = 0; got < want; got++) {
		pfn = _lab_buddy_claim(maze, ctx, 0, &budget);
		if (pfn == LAB_NO_PFN)
			break;
		lab_pcp_push(maze, pcp, pfn);
	}
	_lab_unreserve_frames(maze, want - got);
}

static void lab_count_owned(lab_atomic64_t *counter)
{
	lab_store_relaxed(counter, lab_load_relaxed(counter) + 1);
}

/* A cache hit is counted here, inside the section, with plain updates;
 * a miss is counted by the caller. */
uint64_t _lab_pcp_alloc(struct lab_maze *maze, struct lab_ctx *ctx,
			struct lab_pcp *pcp, lab_gfp_t gfp)
{
	struct lab_class_counters *c = &pcp->stats.cls[lab_gfp_class(gfp)];
	uint64_t pfn;

	if (!_lab_pcp_usable(maze) || !_lab_pcp_enter(pcp))
		return LAB_NO_PFN;
	lab_yield(PCP_ENTER);
	if (pcp->head == LAB_PFN_NONE)
		lab_pcp_refill(maze, ctx, pcp, gfp);
	pfn = lab_pcp_pop(maze, pcp);
	if (pfn != LAB_NO_PFN) {
		lab_count_owned(&c->attempts);
		lab_count_owned(&c->successes);
	}
	_lab_pcp_exit(pcp);
	return pfn;
}

bool _lab_pcp_free(struct lab_maze *maze, struct lab_pcp *pcp, uint64_t pfn)
{
	if (!_lab_pcp_usable(maze) || !_lab_pcp_enter(pcp))
		return false;
	lab_yield(PCP_ENTER);
	lab_pcp_push(maze, pcp, pfn);
	lab_count_owned(&pcp->stats.frees);
	if (lab_load_relaxed(&pcp->count) > maze->cfg.pcp_high)
		lab_pcp_release_n(maze, pcp, maze->cfg.pcp_batch);
	_lab_pcp_exit(pcp);
	return true;
}

void _lab_pcp_drain(struct lab_maze *maze, struct lab_pcp *pcp)
{
	if (!lab_load_relaxed(&pcp->count) || !_lab_pcp_enter(pcp))
		return;
	lab_pcp_release_n(maze, pcp, UINT64_MAX);
	_lab_pcp_exit(pcp);
}

void lab_maze_drain_local(struct lab_maze *maze)
{
	struct lab_pcp *pcp;

	if (!maze)
		return;
	pcp = _lab_pcp_get(maze, _lab_ctx(), false);
	if (pcp)
		_lab_pcp_drain(maze, pcp);
}

/* ---- slots ------------------------------------------------------------------- */

/* Forgets refs to mazes that no longer exist (process context). */
static void lab_ctx_prune_refs(struct lab_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < LAB_CTX_PCP_REFS; i++) {
		struct lab_pcp_ref *ref = &ctx->pcp[i];

		if (!ref->maze_id)
			continue;
		if (!_lab_registry_lock_live(ref->maze_id))
			ref->maze_id = 0;
		_lab_registry_unlock();
	}
}

static struct lab_pcp *lab_pcp_claim(struct lab_maze *maze)
{
	unsigned i;

	for (i = 0; i < LAB_PCP_SLOTS; i++) {
		unsigned expected = 0;
		struct lab_pcp *pcp = &maze->pcp[i];

		/* acquire pairs with the release in _lab_pcp_release: we
		 * see the slot as its last owner left it (empty). */
		if (atomic_compare_exchange_strong_explicit(
			    &pcp->claimed, &expected, 1, memory_order_acquire,
			    memory_order_relaxed)) {
			pcp->head = LAB_PFN_NONE;
			return pcp;
		}
	}
	return NULL;
}

static struct lab_pcp_ref *lab_ctx_free_ref(struct lab_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < LAB_CTX_PCP_REFS; i++) {
		if (!ctx->pcp[i].maze_id)
			return &ctx->pcp[i];
	}
	return NULL;
}

struct lab_pcp *_lab_pcp_claim_slot(struct lab_maze *maze, struct lab_ctx *ctx)
{
	struct lab_pcp_ref *ref = lab_ctx_free_ref(ctx);

	if (!ref) {
		lab_ctx_prune_refs(ctx);
		ref = lab_ctx_free_ref(ctx);
	}
	if (!ref || !(ref->slot = lab_pcp_claim(maze)))
		return NULL;
	ref->maze = maze;
	ref->maze_id = maze->id;
	if (ctx->owned_by_thread)
		_lab_ctx_track_exit();
	return ref->slot;
}

void _lab_pcp_release(struct lab_maze *maze, struct lab_pcp *pcp)
{
	_lab_pcp_drain(maze, pcp);
	/* release pairs with the acquire in lab_pcp_claim. */
	atomic_store_explicit(&pcp->claimed, 0, memory_order_release);
}

void _lab_ctx_release_caches(struct lab_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < LAB_CTX_PCP_REFS; i++) {
		struct lab_pcp_ref *ref = &ctx->pcp[i];

		if (!ref->maze_id)
			continue;
		if (_lab_registry_lock_live(ref->maze_id))
			_lab_pcp_release(ref->maze, ref->slot);
		_lab_registry_unlock();
		ref->maze_id = 0;
	}
}
