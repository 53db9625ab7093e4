/* bugs.c - the seeded-bug switch.
 *
 * Each bug lives at the place it breaks, behind LAB_BUG_ON(id), which is
 * constant false in release builds so the bug code is compiled away.  What
 * each breaks and the real-world bug it resembles is in the table below;
 * docs/bug-zoo.md adds what catches each one.
 */
#include <string.h>

#include "internal.h"

_Atomic int _lab_bug;

static const struct {
	const char *name, *description;
} lab_bugs[LAB_BUG_COUNT] = {
	[LAB_BUG_NONE] = { "none", "the correct allocator" },
	[LAB_BUG_CLAIM_RACE] = { "claim-race",
				 "buddy claim checks a free bit, then clears it with a plain "
				 "store instead of a CAS: two CPUs can take one block (a "
				 "test_bit/clear_bit pair where test_and_clear_bit was needed)" },
	[LAB_BUG_PCP_IRQ_UNSAFE] = { "pcp-irq-unsafe",
				     "the per-context cache section ignores interrupts: an IRQ that "
				     "lands inside it relinks the same list (pcp lists touched "
				     "without local_irq_save or the pcp trylock)" },
	[LAB_BUG_RACY_FREE_COUNT] = { "racy-free-count",
				      "frees add to the free count with a plain read-modify-write: "
				      "concurrent frees lose updates and the watermarks drift (a "
				      "counter bumped with ++ instead of atomic_add)" },
	[LAB_BUG_PUBLISH_BEFORE_INIT] = { "publish-before-init",
					  "a free puts the block back on the free lists before its "
					  "descriptor is reset and its memory poisoned: another CPU "
					  "claims it and finds the old owner, order and data "
					  "(__free_one_page() before free_pages_prepare() is done)" },
	[LAB_BUG_LOST_WAKEUP] = { "lost-wakeup",
				  "a GFP_KERNEL waiter tests for free frames before it counts "
				  "itself as a waiter: a free in between sees nobody to wake and "
				  "the waiter sleeps with frames free (the condition tested "
				  "before prepare_to_wait)" },
	[LAB_BUG_ATOMIC_MAY_BLOCK] = { "atomic-may-block",
				       "the slow path takes either reclaim bit for permission to "
				       "sleep: GFP_ATOMIC and GFP_NOWAIT reclaim and wait, from IRQs "
				       "too (__GFP_RECLAIM tested where gfpflags_allow_blocking() "
				       "was meant)" },
	[LAB_BUG_NOWAIT_BELOW_MIN] = { "nowait-below-min",
				       "every allocation that cannot sleep gets the atomic reserve: "
				       "GFP_NOWAIT takes the maze below min (ALLOC_HARDER for all "
				       "!__GFP_WAIT callers, before __GFP_ATOMIC split them)" },
	[LAB_BUG_FREE_KEEPS_OWNER] = { "free-keeps-owner",
				       "a free resets an exclusive block's kind and order but not its "
				       "owner: the frame's next user is taken for a stranger and "
				       "refused (a struct page field, like page_owner or private, "
				       "not reset at free)" },
	[LAB_BUG_MERGE_BUSY_BUDDY] = { "merge-busy-buddy",
				       "coalescing takes a buddy for free when its first half is free "
				       "one order down: the merged block covers allocated frames "
				       "(page_is_buddy() without its buddy_order() == order test)" },
	[LAB_BUG_ABA_RECYCLE] = { "aba-recycle",
				  "a reallocated frame keeps its descriptor generation: a free "
				  "or handoff prepared before the frame was freed and allocated "
				  "again lands on the new allocation (ABA; a tagged cmpxchg whose "
				  "tag is not advanced)" },
	[LAB_BUG_STALE_RETRY] = { "stale-retry",
				  "the free-count reservation retries its CAS with the count it "
				  "read before the loop: once another CPU changed the count, "
				  "every retry fails and the CPU spins for ever (a cmpxchg() "
				  "loop that never reloads its old value, a livelock)" },
	[LAB_BUG_HANDOFF_RELAXED] = { "handoff-relaxed",
				      "the ownership handoff publishes the new owner with a relaxed "
				      "CAS: the new owner's reads of the block are not ordered after "
				      "the old owner's writes (a missing release, as a cmpxchg_relaxed "
				      "where the handover needed smp_store_release)" },
	[LAB_BUG_RACY_TASK_ID] = { "racy-task-id",
				   "a new context takes its fresh task id with a load and a "
				   "store instead of one atomic increment: two contexts set up "
				   "at once get the same id, and each may free and touch the "
				   "other's exclusive blocks (a pid or id counter bumped with "
				   "next = last + 1 outside its lock)" },
	[LAB_BUG_DESC_PUBLISH_RELAXED] = { "desc-publish-relaxed",
					   "an allocation stores its head descriptor relaxed, not "
					   "release: a thread that frees or looks up the block through "
					   "the descriptor is not ordered after the allocation's own "
					   "accesses to it (page initialisation published with "
					   "WRITE_ONCE where smp_store_release was needed)" },
	[LAB_BUG_OWNER_NO_ACQUIRE] = { "owner-no-acquire",
				       "the ownership lookups (lab_access_check, lab_page_address, "
				       "lab_page_owner) read the owner field relaxed: a new owner "
				       "that sees itself there is not ordered after the old owner's "
				       "writes (a READ_ONCE where smp_load_acquire was needed)" },
	[LAB_BUG_RELAXED_FREE_COUNT] = { "relaxed-free-count",
					 "the reservation reads and takes the free count relaxed: the "
					 "frames it counted are not ordered before the bitmap probes "
					 "that look for them, which miss them and fail with memory "
					 "free (a relaxed atomic_dec_if_positive guarding a lockless "
					 "list)" },
	[LAB_BUG_CLAIM_NO_ACQUIRE] = { "claim-no-acquire",
				       "the bitmap claim's CAS is relaxed, not acquire: the new "
				       "allocation's generation bump can read the descriptor from "
				       "before the block's last free and repeat an old generation, "
				       "so a free prepared before then lands on it (ABA; a "
				       "cmpxchg_relaxed pop of a lockless freelist)" },
	[LAB_BUG_STORE_BREAKS_RELEASE_SEQ] = { "store-breaks-release-seq",
					       "a freed block whose buddy is not free is inserted with a "
					       "load and a release store instead of a CAS: the store ends "
					       "the release sequences of the word's earlier CASes, so a "
					       "claimer of a block freed before it is not ordered after "
					       "that free (atomic_set on a word other CPUs update with "
					       "cmpxchg)" },
};

const char *lab_bug_name(enum lab_bug b)
{
	return (unsigned)b < LAB_BUG_COUNT ? lab_bugs[b].name : NULL;
}

const char *lab_bug_description(enum lab_bug b)
{
	return (unsigned)b < LAB_BUG_COUNT ? lab_bugs[b].description : NULL;
}

const char *lab_bug_selected(void)
{
	return lab_bugs[atomic_load(&_lab_bug)].name;
}

/* "none, claim-race, ..." from the table, into buf. */
static const char *lab_bug_names(char *buf, size_t size)
{
	size_t len = 0;
	int b;

	for (b = 0; b < LAB_BUG_COUNT; b++)
		len += lab_format(buf + (len < size ? len : size),
				  len < size ? size - len : 0, "%s%s",
				  b ? ", " : "", lab_bugs[b].name);
	return buf;
}

int lab_bug_select(const char *name)
{
	char known[640];
	int b;

	for (b = 0; name && b < LAB_BUG_COUNT; b++) {
		if (strcmp(name, lab_bugs[b].name))
			continue;
		if (!LAB_DEBUG && b != LAB_BUG_NONE) {
			_lab_set_error("seeded bugs are compiled out of "
				       "release builds");
			return -ENOTSUP;
		}
		atomic_store(&_lab_bug, b);
		return 0;
	}
	_lab_set_error("unknown bug '%s'; known: %s", name ? name : "(null)",
		       lab_bug_names(known, sizeof(known)));
	return -ENOENT;
}
