/* buddy.c - lock-free buddy allocation over per-order bitmaps.
 *
 * For each order k there is a bitmap with one bit per naturally aligned
 * block of 2^k frames: the bit is set while that block is free *as a whole
 * block of order k* (it is on "free list" k).  Free blocks are disjoint and
 * fully coalesced: two buddies are never both set.
 *
 * Claiming a block clears its bit with a CAS; whoever clears it owns it.
 * Freeing inserts a block: the block's bit and its buddy's bit always live
 * in the same 64-bit word (indices 2i and 2i+1), so one CAS either sets our
 * bit (buddy busy) or clears the buddy's bit (buddy free: we now own both
 * and carry the merged block one order up).  Check-and-insert is therefore
 * atomic with respect to the buddy, and two concurrent frees of two buddies
 * cannot both miss each other: whichever CAS lands second merges.
 *
 * ABA: a CAS compares the whole word, and the word is the whole state (no
 * pointer is followed from an old value), so a word that changed and came
 * back is the same state and acting on it is correct.
 *
 * Ordering: every successful CAS is acq_rel.  Release publishes what the
 * freer did to the block (poison fill) before the block is visible as free;
 * acquire on a claim pairs with it, so the claimer sees those writes.  A
 * merge both acquires the buddy and later releases the merged block.
 */
#include "internal.h"

static uint64_t lab_bit(uint64_t idx)
{
	return (uint64_t)1 << (idx & 63);
}

static uint64_t lab_block_frames(unsigned order)
{
	return (uint64_t)1 << order;
}

/* Frees every frame into the bitmaps as the largest aligned blocks that
 * fit; single-threaded, at create. */
void _lab_buddy_init(struct lab_maze *maze)
{
	uint64_t pfn = 0;

	while (pfn < maze->frames) {
		unsigned k = maze->max_order;

		while (k && ((pfn & (lab_block_frames(k) - 1)) ||
			     pfn + lab_block_frames(k) > maze->frames))
			k--;
		lab_store_relaxed(
			&maze->avail[k][(pfn >> k) / 64],
			lab_load_relaxed(&maze->avail[k][(pfn >> k) / 64]) |
				lab_bit(pfn >> k));
		lab_add_relaxed(&maze->nr_blocks[k], 1);
		pfn += lab_block_frames(k);
	}
	lab_store_relaxed(&maze->nr_free, maze->frames);
}

/* Seeded bug (merge-busy-buddy): whether the order-`order` buddy at pfn
 * looks free because its first half is a free block one order down (the
 * kernel's page_is_buddy() without its buddy_order() == order test). */
static bool lab_buddy_head_free(const struct lab_maze *maze, uint64_t pfn,
				unsigned order)
{
	uint64_t idx;

	if (!LAB_BUG_ON(MERGE_BUSY_BUDDY) || !order)
		return false;
	idx = pfn >> (order - 1);
	return lab_load_relaxed(&maze->avail[order - 1][idx / 64]) &
	       lab_bit(idx);
}

/* Seeded bug (store-breaks-release-seq): "a block whose buddy is not free
 * has nothing to merge with", so its bit is set with a load and a release
 * store, no CAS.  Between the two there is no yield point, so every SC
 * schedule sees it atomic; but the store ends the release sequences of
 * the word's earlier CASes, and it acquired nothing (the load is
 * relaxed): a claimer that reads it is not ordered after the inserts it
 * cut off.  A stale load also loses a concurrent update.  False (use the
 * CAS) when the buddy is free. */
static bool lab_insert_by_store(struct lab_maze *maze, lab_atomic64_t *word,
				uint64_t idx, unsigned order, bool top)
{
	uint64_t cur = lab_load_relaxed(word);

	if (!top && (cur & lab_bit(idx ^ 1)))
		return false;
	lab_store_release(word, cur | lab_bit(idx));
	lab_add_relaxed(&maze->nr_blocks[order], 1);
	return true;
}

void _lab_buddy_insert(struct lab_maze *maze, uint64_t pfn, unsigned order)
{
	for (;;) {
		uint64_t idx = pfn >> order;
		lab_atomic64_t *word = &maze->avail[order][idx / 64];
		uint64_t buddy = lab_bit(idx ^ 1);
		bool top = order == maze->max_order;
		uint64_t old = lab_load_relaxed(word), new;
		bool merge_any =
			!top &&
			lab_buddy_head_free(maze, pfn ^ lab_block_frames(order),
					    order);

		lab_yield(BUDDY_INSERT);
		if (LAB_BUG_ON(STORE_BREAKS_RELEASE_SEQ) &&
		    lab_insert_by_store(maze, word, idx, order, top))
			return;
		do {
			new = (!top && ((old & buddy) || merge_any)) ?
				      old & ~buddy :
				      old | lab_bit(idx);
		} while (!lab_cas_acq_rel(word, &old, new));
		if (new &lab_bit(idx)) {
			lab_add_relaxed(&maze->nr_blocks[order], 1);
			return;
		}
		/* Took the free buddy: carry the merged block up. */
		lab_sub_relaxed(&maze->nr_blocks[order], 1);
		pfn &= ~lab_block_frames(order);
		order++;
	}
}

/* The claim's CAS.  acq_rel: acquire pairs with the release of the insert
 * that put the block there (its freer's poison, its descriptor's reset),
 * even when our reservation of the free count came before that free. */
static bool lab_word_claim_cas(lab_atomic64_t *word, uint64_t *old,
			       uint64_t new)
{
	/* Seeded bug: the claim acquires nothing. */
	if (LAB_BUG_ON(CLAIM_NO_ACQUIRE))
		return lab_cas_relaxed(word, old, new);
	return lab_cas_acq_rel(word, old, new);
}

/* Tries to clear one set bit of *word; returns its block index or
 * LAB_NO_PFN after the word turned empty or the probe ran out.  Each
 * failed CAS (the word changed under us) is a retry of the probe. */
static uint64_t lab_word_claim(lab_atomic64_t *word, uint64_t word_idx,
			       struct lab_probe *probe)
{
	uint64_t old = lab_load_relaxed(word);

	while (old && probe->left) {
		uint64_t bit = old & (~old + 1); /* lowest set bit */

		lab_yield(BUDDY_CLAIM);
		if (LAB_BUG_ON(CLAIM_RACE)) {
			/* Seeded bug: check, then a blind store. */
			lab_store_release(word, lab_load_relaxed(word) & ~bit);
			return word_idx * 64 + (uint64_t)__builtin_ctzll(bit);
		}
		if (lab_word_claim_cas(word, &old, old & ~bit))
			return word_idx * 64 + (uint64_t)__builtin_ctzll(bit);
		if (!_lab_probe_retry(probe))
			break;
	}
	return LAB_NO_PFN;
}

/* Scans order k's bitmap from the context's hint; returns a claimed block
 * index or LAB_NO_PFN. */
static uint64_t lab_order_claim(struct lab_maze *maze, struct lab_ctx *ctx,
				unsigned k, struct lab_probe *probe)
{
	uint64_t words = maze->avail_words[k];
	uint64_t start =
		atomic_load_explicit(&ctx->hint[k], memory_order_relaxed) %
		words;
	uint64_t i;

	for (i = 0; i < words && probe->left && !probe->limited; i++) {
		uint64_t w = (start + i) % words;
		uint64_t idx;

		lab_yield(BUDDY_PROBE);
		probe->left--;
		if (!lab_load_relaxed(&maze->avail[k][w]))
			continue;
		idx = lab_word_claim(&maze->avail[k][w], w, probe);
		if (idx != LAB_NO_PFN) {
			atomic_store_explicit(&ctx->hint[k], (unsigned)w,
					      memory_order_relaxed);
			return idx;
		}
	}
	return LAB_NO_PFN;
}

/* Gives back the upper halves of a block of order `from` claimed at pfn
 * until a block of `to` is left at pfn.  While the block was in our hands
 * its spare frames were counted free but in no bitmap, so a GFP_KERNEL
 * waiter may have found the count right and no block: it is woken once
 * the halves are back, as after a free. */
static void lab_split(struct lab_maze *maze, uint64_t pfn, unsigned from,
		      unsigned to)
{
	if (from == to)
		return;
	while (from > to) {
		from--;
		lab_yield(BUDDY_SPLIT);
		_lab_buddy_insert(maze, pfn + lab_block_frames(from), from);
	}
	/* The halves were counted free all along, so no add publishes
	 * them: this seq_cst RMW on the count does, before we look for
	 * waiters.  A waiter that counts itself after our look then
	 * reserves from the count (seq_cst) and so acquires the halves;
	 * without it its probes may miss them and it sleeps with them free
	 * (store buffering against its count: found by the C11 model,
	 * stress/tests/test_alloc_c11.c "waiter after a split"). */
	lab_add_seq_cst(&maze->nr_free, 0);
	_lab_wake_waiters(maze, 0);
}

uint64_t _lab_buddy_claim(struct lab_maze *maze, struct lab_ctx *ctx,
			  unsigned order, struct lab_probe *probe)
{
	unsigned k;

	/* Smallest order first: splitting the smallest free block keeps
	 * large blocks whole (the buddy allocator's defence against
	 * fragmentation).  nr_blocks is only a hint to skip empty orders. */
	for (k = order; k <= maze->max_order && probe->left && !probe->limited;
	     k++) {
		uint64_t idx;

		if (!lab_load_relaxed(&maze->nr_blocks[k]))
			continue;
		idx = lab_order_claim(maze, ctx, k, probe);
		if (idx == LAB_NO_PFN)
			continue;
		lab_sub_relaxed(&maze->nr_blocks[k], 1);
		lab_split(maze, idx << k, k, order);
		return idx << k;
	}
	return LAB_NO_PFN;
}
