/* labyrinth/bugs.h - seeded bugs, to prove that the harness catches them.
 *
 * Non-release builds carry a zoo of deliberate, realistic concurrency and
 * contract bugs in the allocator, each at the place it breaks and off
 * until selected at run time.  A harness run with a bug selected must find
 * it; the same run without it must be clean.  In release builds none of
 * this code exists and selecting fails.  docs/bug-zoo.md says, for each,
 * what it breaks, the kernel bug it resembles and what catches it.
 */
#ifndef LABYRINTH_BUGS_H
#define LABYRINTH_BUGS_H

enum lab_bug {
	LAB_BUG_NONE,
	LAB_BUG_CLAIM_RACE,	 /* check-then-claim of a bitmap bit, no CAS */
	LAB_BUG_PCP_IRQ_UNSAFE,	 /* cache section not protected from IRQs */
	LAB_BUG_RACY_FREE_COUNT, /* free count updated without atomicity */
	LAB_BUG_PUBLISH_BEFORE_INIT, /* freed block published, then reset */
	LAB_BUG_LOST_WAKEUP,	     /* waiter checks, then announces itself */
	LAB_BUG_ATOMIC_MAY_BLOCK,    /* non-blocking classes reach the waits */
	LAB_BUG_NOWAIT_BELOW_MIN,    /* GFP_NOWAIT given the atomic reserve */
	LAB_BUG_FREE_KEEPS_OWNER,    /* free leaves the exclusive owner set */
	LAB_BUG_MERGE_BUSY_BUDDY,    /* merge with a buddy that is not free */
	LAB_BUG_ABA_RECYCLE,	     /* generation not bumped on reallocation */
	LAB_BUG_STALE_RETRY,	     /* CAS retried with the first value read */
	LAB_BUG_HANDOFF_RELAXED,     /* handoff publishes the owner relaxed */
	LAB_BUG_RACY_TASK_ID,	     /* fresh task id: load, then store */
	/* memory-order bugs: only a weak-memory model (c11 mode) shows them */
	LAB_BUG_DESC_PUBLISH_RELAXED, /* head descriptor stored relaxed */
	LAB_BUG_OWNER_NO_ACQUIRE,     /* owner lookups read it relaxed */
	LAB_BUG_RELAXED_FREE_COUNT,   /* reservation reads the count relaxed */
	LAB_BUG_CLAIM_NO_ACQUIRE,     /* bitmap claim CAS relaxed */
	LAB_BUG_STORE_BREAKS_RELEASE_SEQ, /* insert without merge: load + store */
	LAB_BUG_COUNT
};

/* Selects a bug by name ("none" switches them off).  Returns 0, -ENOENT
 * for an unknown name (lab_last_error() lists the known ones), or
 * -ENOTSUP in release builds.  Call at a quiescent point. */
int lab_bug_select(const char *name);
/* Name of the selected bug ("none"). */
const char *lab_bug_selected(void);
/* Name and one-line description of bug b; NULL if b is out of range. */
const char *lab_bug_name(enum lab_bug b);
const char *lab_bug_description(enum lab_bug b);

#endif /* LABYRINTH_BUGS_H */
