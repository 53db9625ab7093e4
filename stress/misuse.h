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
#include <stdio.h>

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
	/* A small maze of the act's own (4x8 frames, min = low = high =
	 * wmark_min, no per-context cache) that reports through the
	 * caller's hook; NULL if it could not be made. */
	struct lab_maze *(*scratch)(void *arg, unsigned wmark_min);
};

/* A scratch maze as ops->scratch makes it, reporting to report(arg). */
struct lab_maze *lab_misuse_maze(lab_report_fn report, void *arg,
				 unsigned wmark_min);

/* Commits the act chosen by `pick` among those that touch only blocks of
 * their own on `maze` and report through its hook (safe at any moment,
 * amid other threads and interrupts, and from any logical thread).
 * provoked[det] counts the committed act.  Returns the detector, or
 * LAB_DET_COUNT if the act could not be set up (no memory). */
unsigned lab_misuse_shared_act(struct lab_maze *maze, struct lab_ctx *stranger,
			       const struct lab_mu_ops *ops, void *arg,
			       unsigned pick, uint64_t *provoked);

/* The act of the watermark-dip detector, which checks the allocator's
 * own rule and no caller misuse reaches: it seeds the defect the
 * detector exists for (nowait-below-min) for a burst of GFP_NOWAIT
 * allocations on a scratch maze, then expects the report of the
 * whole-maze check.  The seeded bug is process-wide: the caller makes
 * sure that nothing else allocates while it is on (free-running: main
 * after the workers are joined; controlled: the bug is switched off
 * around every scheduling point inside the act, program.c).  Returns
 * false if it could not be set up (a release build, another bug
 * selected, no memory). */
bool lab_misuse_watermark_act(const struct lab_mu_ops *ops, void *arg,
			      uint64_t *provoked);

/* ---- the coverage table (free-running summary, main job, zoo bench) ---- */

struct lab_coverage; /* record.h: detector, provoked, fired */

/* Prints one row per detector (provoked / fired, and ok, SILENT for a
 * detector provoked more often than it fired, or not provoked) and a
 * line saying how many were provoked and fired.  Returns the number of
 * SILENT rows; f NULL only counts them. */
unsigned lab_coverage_print(FILE *f, const struct lab_coverage *rows,
			    unsigned n);

#endif /* LAB_MISUSE_H */
