/* free_relaxed.c - the relaxed profile: handoffs between workers through
 * a channel that lends the allocator no synchronisation.
 *
 * The mailboxes of free_work.c take a mutex, so TSan sees every block's
 * old owner happen before its new owner through the harness, and a
 * handoff or free path of the allocator that forgot its release would
 * go unnoticed.  Here a block travels as one 64-bit word in a slot of the
 * receiver's inbox, written and read with relaxed atomics only: the slot
 * orders nothing.  The only happens-before between the sender's last
 * write to the block (its stamp, written just before the handoff) and the
 * receiver's first read of it is the one the allocator creates: the
 * sender's lab_page_handoff (a release on the block's descriptor) and the
 * receiver's lab_page_owner / lab_access_check (acquires).  So under TSan
 * a handoff whose release was weakened shows as a data race on the
 * block's stamp (seeded bug handoff-relaxed).
 *
 * The slots are atomics themselves, so the channel's own accesses are
 * never a race; nothing else of the block travels outside the word:
 *   bit 63      full
 *   bit 62      reserved by a sender (the block is not there yet)
 *   bits 41..61 sequence (the stamp's, 21 bits)
 *   bits 33..40 stamp owner (worker index)
 *   bits 28..32 order
 *   bits 0..27  pfn (LAB_FRAMES_LIMIT is 2^28)
 * A sender reserves an empty slot (CAS 0 -> reserved), stamps the block
 * afresh, hands it over and stores the word; only the receiver empties a
 * full slot.  The receiver waits (bounded) until the allocator says the
 * block is its own, then checks the access and verifies the stamp.
 */
#define _GNU_SOURCE /* pthread_barrier_t in free_run.h */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "free_run.h"

#define LAB_RX_SLOTS 16
#define LAB_RX_FULL (1ull << 63)
#define LAB_RX_RESERVED (1ull << 62)
#define LAB_RX_SEQ_BITS 21
#define LAB_RX_SEQ_MASK ((1ull << LAB_RX_SEQ_BITS) - 1)
#define LAB_RX_OWNER_WAIT 1000000 /* spins for the owner to show */

struct lab_rx_inbox {
	_Atomic uint64_t slot[LAB_RX_SLOTS];
	uint64_t sent, received, full, owner_waits; /* its worker's only */
};

struct lab_fr_relaxed {
	struct lab_rx_inbox *in; /* per worker */
};

int lab_fr_relaxed_create(struct lab_fr *fr)
{
	struct lab_fr_relaxed *rx = calloc(1, sizeof(*rx));

	fr->relaxed = rx;
	if (!rx || !(rx->in = calloc(fr->nworkers, sizeof(*rx->in))))
		return -1;
	if (fr->nworkers > 255 || lab_maze_frames(fr->maze) > (1ull << 28)) {
		fprintf(stderr, "labyrinth: free: the relaxed profile takes at "
				"most 255 threads\n");
		return -1;
	}
	return 0;
}

void lab_fr_relaxed_destroy(struct lab_fr *fr)
{
	if (!fr->relaxed)
		return;
	free(fr->relaxed->in);
	free(fr->relaxed);
	fr->relaxed = NULL;
}

static uint64_t lab_rx_pack(const struct lab_fr *fr,
			    const struct lab_fr_block *b)
{
	uint64_t pfn =
		lab_page_to_pfn(fr->maze, lab_virt_to_page(fr->maze, b->addr));

	return LAB_RX_FULL | (b->seq & LAB_RX_SEQ_MASK) << 41 |
	       (uint64_t)(b->owner & 0xff) << 33 | (uint64_t)b->order << 28 |
	       pfn;
}

static struct lab_fr_block lab_rx_unpack(const struct lab_fr *fr, uint64_t v)
{
	struct lab_fr_block b;

	b.addr = lab_pfn_to_virt(fr->maze, v & ((1ull << 28) - 1));
	b.order = (uint8_t)((v >> 28) & 31);
	b.owner = (uint32_t)((v >> 33) & 0xff);
	b.seq = (v >> 41) & LAB_RX_SEQ_MASK;
	b.excl = true;
	return b;
}

/* An empty slot of `in`, reserved for us; -1 if the inbox is full. */
static int lab_rx_reserve(struct lab_rx_inbox *in)
{
	unsigned i;

	for (i = 0; i < LAB_RX_SLOTS; i++) {
		uint64_t empty = 0;

		if (atomic_compare_exchange_strong_explicit(
			    &in->slot[i], &empty, LAB_RX_RESERVED,
			    memory_order_relaxed, memory_order_relaxed))
			return (int)i;
	}
	return -1;
}

void lab_fr_op_relaxed(struct lab_fr *fr, struct lab_fr_worker *w)
{
	struct lab_fr_worker *to = &fr->w[lab_fr_rand(&w->rng, fr->nworkers)];
	struct lab_rx_inbox *in;
	struct lab_fr_block b;
	int slot;

	if (!fr->relaxed || to == w || !w->nheld)
		return;
	in = &fr->relaxed->in[to->idx];
	slot = lab_rx_reserve(in);
	if (slot < 0) {
		fr->relaxed->in[w->idx].full++;
		return;
	}
	b = lab_fr_take(w, lab_fr_rand(&w->rng, w->nheld));
	/* The last write before the handoff: only the allocator's release
	 * orders it before the receiver's reads. */
	b.seq = ++w->seq & LAB_RX_SEQ_MASK;
	b.owner = w->idx;
	lab_fr_stamp(fr, &b);
	if (lab_page_handoff(fr->maze, lab_virt_to_page(fr->maze, b.addr),
			     b.order, to->ctx_id)) {
		atomic_store_explicit(&in->slot[slot], 0, memory_order_relaxed);
		lab_fr_note(fr, "handoff-refused", "lab_page_handoff",
			    "the owner's handoff through the relaxed channel "
			    "was refused");
		lab_fr_hold(w, &b);
		return;
	}
	b.excl = true;
	atomic_store_explicit(&in->slot[slot], lab_rx_pack(fr, &b),
			      memory_order_relaxed);
	fr->relaxed->in[w->idx].sent++;
}

/* Waits until the allocator says the block is ours: the handoff may be
 * in the slot before its descriptor store is visible here (relaxed). */
static bool lab_rx_wait_owner(struct lab_fr *fr, struct lab_fr_worker *w,
			      const struct lab_fr_block *b)
{
	struct lab_page *pg = lab_virt_to_page(fr->maze, b->addr);
	unsigned spins;

	for (spins = 0; spins < LAB_RX_OWNER_WAIT; spins++) {
		if (lab_page_owner(fr->maze, pg) == w->ctx_id)
			return true;
		if (!spins)
			fr->relaxed->in[w->idx].owner_waits++;
	}
	lab_fr_note(fr, "handoff-lost", "lab_page_owner",
		    "a block handed over through the relaxed channel never "
		    "became the receiver's");
	return false;
}

static void lab_rx_take(struct lab_fr *fr, struct lab_fr_worker *w,
			const struct lab_fr_block *b, bool keep)
{
	if (!lab_rx_wait_owner(fr, w, b))
		return;
	if (lab_access_check(fr->maze, b->addr, 64)) {
		lab_fr_note(fr, "access-refused", "lab_access_check",
			    "the new owner of a handed-over block was refused");
		return;
	}
	fr->relaxed->in[w->idx].received++;
	if (keep && w->nheld < w->held_max) {
		lab_fr_verify(fr, b, "relaxed");
		lab_fr_hold(w, b);
	} else {
		lab_fr_free_block(fr, b, "relaxed");
	}
}

void lab_fr_relaxed_receive(struct lab_fr *fr, struct lab_fr_worker *w,
			    bool keep)
{
	struct lab_rx_inbox *in;
	unsigned i;

	if (!fr->relaxed)
		return;
	in = &fr->relaxed->in[w->idx];
	for (i = 0; i < LAB_RX_SLOTS; i++) {
		uint64_t v = atomic_load_explicit(&in->slot[i],
						  memory_order_relaxed);
		struct lab_fr_block b;

		if (!(v & LAB_RX_FULL))
			continue;
		atomic_store_explicit(&in->slot[i], 0, memory_order_relaxed);
		b = lab_rx_unpack(fr, v);
		lab_rx_take(fr, w, &b, keep);
	}
}

void lab_fr_relaxed_print(const struct lab_fr *fr)
{
	uint64_t sent = 0, received = 0, full = 0, waits = 0;
	unsigned i;

	if (!fr->relaxed)
		return;
	for (i = 0; i < fr->nworkers; i++) {
		const struct lab_rx_inbox *in = &fr->relaxed->in[i];

		sent += in->sent;
		received += in->received;
		full += in->full;
		waits += in->owner_waits;
	}
	printf("relaxed channel: %" PRIu64 " handoffs sent, %" PRIu64
	       " received, %" PRIu64 " found the inbox full, %" PRIu64
	       " waited for the owner to show\n",
	       sent, received, full, waits);
}
