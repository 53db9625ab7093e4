/* pcp.c - per-context page caches for orders 0..LAB_PCP_MAX_ORDER (the
 * kernel's per-CPU page lists, which serve orders up to
 * PAGE_ALLOC_COSTLY_ORDER = 3).
 *
 * A context (the model's CPU) claims one cache slot per maze.  Small
 * alloc/free pairs then touch only that slot, instead of the shared
 * bitmaps and free count.  Cached frames count as allocated for the
 * watermarks, as pcp pages do in Linux.
 *
 * Exactness under pressure: the cache is used only while the maze is above
 * its high watermark and nobody waits for memory.  Below that, allocations
 * drain the caller's cache and every free goes straight to the buddy
 * bitmaps, so the watermark rules hold frame-exactly; what idle contexts
 * still cache is bounded by pcp_high frames each.
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

bool _lab_pcp_serves(const struct lab_maze *maze, unsigned order)
{
	return order <= LAB_PCP_MAX_ORDER && order <= maze->max_order;
}

static void lab_pcp_add_count(struct lab_pcp *pcp, uint64_t frames, bool add)
{
	uint64_t n = lab_counter_load_relaxed(&pcp->count);

	lab_counter_store_relaxed(&pcp->count, add ? n + frames : n - frames);
}

static void lab_pcp_push(struct lab_maze *maze, struct lab_pcp *pcp,
			 uint64_t pfn, unsigned order)
{
	/* The link is plain: the frame's previous context wrote it before
	 * the frame went back to the bitmaps, whose claim ordered us. */
	lab_plain_object(&maze->pages[pfn].next, sizeof(uint32_t), true,
			 "pcp:next");
	maze->pages[pfn].next = pcp->head[order];
	lab_yield(PCP_LIST);
	pcp->head[order] = (uint32_t)pfn;
	lab_pcp_add_count(pcp, (uint64_t)1 << order, true);
}

static uint64_t lab_pcp_pop(struct lab_maze *maze, struct lab_pcp *pcp,
			    unsigned order)
{
	uint64_t pfn = pcp->head[order];

	if (pfn == LAB_PFN_NONE)
		return LAB_NO_PFN;
	lab_yield(PCP_LIST);
	lab_plain_object(&maze->pages[pfn].next, sizeof(uint32_t), false,
			 "pcp:next");
	pcp->head[order] = maze->pages[pfn].next;
	lab_pcp_add_count(pcp, (uint64_t)1 << order, false);
	return pfn;
}

/* ---- draining ------------------------------------------------------------- */

#define LAB_DRAIN_CHUNK 64

struct lab_run {
	uint64_t pfn;
	unsigned order;
};

/* Shell sort by pfn: allocation-free (signal-safe) and near-linear on the
 * runs a cache usually holds. */
static void lab_sort_runs(struct lab_run *v, unsigned n)
{
	static const unsigned gaps[] = { 23, 10, 4, 1 };
	unsigned g, i, j;

	for (g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		unsigned gap = gaps[g];

		for (i = gap; i < n; i++) {
			struct lab_run x = v[i];

			for (j = i; j >= gap && v[j - gap].pfn > x.pfn;
			     j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}

/* Merges blocks sorted by pfn into larger buddy blocks before they are
 * published: a run of neighbours then costs one bitmap CAS instead of one
 * each.  Works like a binary counter on a stack, in place; returns the
 * number of blocks left. */
static unsigned lab_merge_local(const struct lab_maze *maze, struct lab_run *v,
				unsigned n)
{
	unsigned i, top = 0;

	for (i = 0; i < n; i++) {
		v[top++] = v[i];
		while (top >= 2) {
			struct lab_run *a = &v[top - 2], *b = &v[top - 1];
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

/* Pops up to `frames` frames' worth of blocks, starting with `first`'s
 * list and moving up the orders (round-robin).  Fills v back to front, so
 * frames pushed in ascending order come out sorted. */
static unsigned lab_pcp_take(struct lab_maze *maze, struct lab_pcp *pcp,
			     unsigned first, uint64_t *frames,
			     struct lab_run *v, unsigned *start)
{
	unsigned got = 0, k, i;

	for (i = 0; i <= LAB_PCP_MAX_ORDER && got < LAB_DRAIN_CHUNK; i++) {
		k = (first + i) % (LAB_PCP_MAX_ORDER + 1);
		while (got < LAB_DRAIN_CHUNK && *frames) {
			uint64_t pfn = lab_pcp_pop(maze, pcp, k);

			if (pfn == LAB_NO_PFN)
				break;
			v[LAB_DRAIN_CHUNK - ++got] = (struct lab_run){ pfn, k };
			*frames = *frames > ((uint64_t)1 << k) ?
					  *frames - ((uint64_t)1 << k) :
					  0;
		}
	}
	*start = LAB_DRAIN_CHUNK - got;
	return got;
}

/* Moves at least `frames` frames (or all there is) back to the buddy
 * bitmaps, one free-count update per chunk.  Inside the section. */
static void lab_pcp_release_n(struct lab_maze *maze, struct lab_pcp *pcp,
			      unsigned first, uint64_t frames)
{
	struct lab_run v[LAB_DRAIN_CHUNK];

	while (frames) {
		unsigned start, got, n, i;
		uint64_t total = 0;

		got = lab_pcp_take(maze, pcp, first, &frames, v, &start);
		if (!got)
			return;
		for (i = start; i < start + got; i++)
			total += (uint64_t)1 << v[i].order;
		lab_sort_runs(v + start, got);
		n = lab_merge_local(maze, v + start, got);
		for (i = 0; i < n; i++)
			_lab_buddy_insert(maze, v[start + i].pfn,
					  v[start + i].order);
		_lab_frames_returned(maze, total);
	}
}

/* ---- refill, alloc, free ----------------------------------------------------- */

/* Fills list `order` with about one batch of frames, taken against the low
 * watermark: one aligned block split into order-sized pieces if possible,
 * else single blocks. */
static void lab_pcp_refill(struct lab_maze *maze, struct lab_ctx *ctx,
			   struct lab_pcp *pcp, unsigned order, lab_gfp_t gfp)
{
	unsigned big = 31 - (unsigned)__builtin_clz(maze->cfg.pcp_batch);
	struct lab_probe probe = _lab_probe_init(maze, gfp);
	uint64_t want, got, pfn, step = (uint64_t)1 << order;

	if (big < order)
		big = order;
	if (big > maze->max_order)
		big = maze->max_order;
	want = (uint64_t)1 << big;
	if (!_lab_reserve_frames(maze, want, maze->wmark[1], NULL, &probe))
		goto out;
	pfn = _lab_buddy_claim(maze, ctx, big, &probe);
	if (pfn != LAB_NO_PFN) {
		for (got = want; got;) {
			got -= step;
			lab_pcp_push(maze, pcp, pfn + got, order);
		}
		goto out;
	}
	for (got = 0; got < want; got += step) {
		pfn = _lab_buddy_claim(maze, ctx, order, &probe);
		if (pfn == LAB_NO_PFN)
			break;
		lab_pcp_push(maze, pcp, pfn, order);
	}
	_lab_unreserve_frames(maze, want - got, 0);
out:
	_lab_probe_account(maze, gfp, &probe);
}

static void lab_count_owned(lab_atomic64_t *counter)
{
	lab_counter_store_relaxed(counter, lab_counter_load_relaxed(counter) + 1);
}

/* A cache hit is counted here, inside the section, with plain updates;
 * a miss is counted by the caller. */
uint64_t _lab_pcp_alloc(struct lab_maze *maze, struct lab_ctx *ctx,
			struct lab_pcp *pcp, unsigned order, lab_gfp_t gfp)
{
	struct lab_class_counters *c = &pcp->stats.cls[lab_gfp_class(gfp)];
	uint64_t pfn;

	if (!_lab_pcp_usable(maze) || !_lab_pcp_enter(pcp))
		return LAB_NO_PFN;
	lab_yield(PCP_ENTER);
	if (pcp->head[order] == LAB_PFN_NONE)
		lab_pcp_refill(maze, ctx, pcp, order, gfp);
	pfn = lab_pcp_pop(maze, pcp, order);
	if (pfn != LAB_NO_PFN) {
		lab_count_owned(&c->attempts);
		lab_count_owned(&c->successes);
	}
	_lab_pcp_exit(pcp);
	return pfn;
}

bool _lab_pcp_free(struct lab_maze *maze, struct lab_pcp *pcp, uint64_t pfn,
		   unsigned order)
{
	if (!_lab_pcp_usable(maze) || !_lab_pcp_enter(pcp))
		return false;
	lab_yield(PCP_ENTER);
	lab_pcp_push(maze, pcp, pfn, order);
	lab_count_owned(&pcp->stats.frees);
	if (lab_counter_load_relaxed(&pcp->count) > maze->cfg.pcp_high)
		lab_pcp_release_n(maze, pcp, order, maze->cfg.pcp_batch);
	_lab_pcp_exit(pcp);
	return true;
}

void _lab_pcp_drain(struct lab_maze *maze, struct lab_pcp *pcp)
{
	if (!lab_counter_load_relaxed(&pcp->count) || !_lab_pcp_enter(pcp))
		return;
	/* Bounded by the maze: a cache list corrupted by a bug (a cycle)
	 * must not hang the drain; the whole-maze check reports it. */
	lab_pcp_release_n(maze, pcp, 0, maze->frames);
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

/* Raises pcp_used past slot i.  Relaxed: it orders nothing, a reader
 * that misses a slot claimed meanwhile misses counts made after its
 * snapshot began. */
static void lab_pcp_note_used(struct lab_maze *maze, unsigned i)
{
	unsigned used = lab_load32_relaxed(&maze->pcp_used);

	while (used <= i && !lab_cas32_relaxed(&maze->pcp_used, &used, i + 1))
		;
}

static struct lab_pcp *lab_pcp_claim(struct lab_maze *maze)
{
	unsigned i;

	for (i = 0; i < LAB_PCP_SLOTS; i++) {
		unsigned expected = 0;
		struct lab_pcp *pcp = &maze->pcp[i];

		/* acquire pairs with the release in _lab_pcp_release: we
		 * see the slot as its last owner left it (empty). */
		if (lab_cas32_acquire(&pcp->claimed, &expected, 1)) {
			unsigned k;

			for (k = 0; k <= LAB_PCP_MAX_ORDER; k++)
				pcp->head[k] = LAB_PFN_NONE;
			lab_pcp_note_used(maze, i);
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
	lab_store32_release(&pcp->claimed, 0);
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
