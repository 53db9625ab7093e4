/* misuse.h - acts of deliberate misuse, one per detector of the allocator
 * (stress/free_misuse.c), for the free-running and controlled modes.
 *
 * An act allocates a block of its own, commits one misuse on it (or on
 * no block at all: a pointer outside every maze), checks that the call
 * was refused, and gives the block back.  Before the misusing call it
 * announces, through ops->expect, the detector that must report it; after
 * it, ops->met says whether that report came.  A missing report or a
 * misuse that was not refused is handed to ops->note as a finding.
 */
#ifndef LAB_MISUSE_H
#define LAB_MISUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "labyrinth.h"

struct lab_mu_ops {
	/* One report by detector det (repeat: every report by it, until
	 * met) is expected from the calling thread. */
	void (*expect)(void *arg, unsigned det, bool repeat);
	/* Whether the expected report came; clears the expectation. */
	bool (*met)(void *arg);
	/* A finding: kind and where are static strings. */
	void (*note)(void *arg, const char *kind, const char *where,
		     const char *message);
};

/* Commits the act chosen by `pick` among those that touch only blocks of
 * their own on `maze` and report through its hook (safe at any moment,
 * amid other threads and interrupts, and from any logical thread).
 * provoked[det] counts the committed act.  Returns the detector, or
 * LAB_DET_COUNT if the act could not be set up (no memory). */
unsigned lab_misuse_shared_act(struct lab_maze *maze, struct lab_ctx *stranger,
			       const struct lab_mu_ops *ops, void *arg,
			       unsigned pick, uint64_t *provoked);

#endif /* LAB_MISUSE_H */
