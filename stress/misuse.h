/* misuse.h - acts of deliberate misuse, one per detector of the allocator
 * (stress/free_misuse.c), for the free-running and controlled modes.
 *
 * An act allocates a block of its own, commits one misuse on it (or on
 * no block at all: a pointer outside every maze), checks that the call
 * was refused, and gives the block back.  Before the misusing call it
 * announces, through ops->expect, the detector that must report it; after
 * it, ops->met says whether that report came.  A missing report or a
 * misuse that was not refused is handed to ops->note as a finding.
 *
 * The watermark-dip detector checks the allocator's own rule, which no
 * caller misuse reaches: its act seeds the defect the detector exists
 * for (nowait-below-min) for a burst of GFP_NOWAIT allocations on a
 * scratch maze, then expects the report of the whole-maze check.  The
 * seeded bug is process-wide, so it is on only for the act's own code:
 * a free-running run commits it on main after the workers are joined,
 * and in controlled mode the act's yield hook switches it off around
 * every scheduling point.  It is not committed while another seeded bug
 * is selected, nor in release builds.
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
	/* A small maze of the act's own (8x4 frames, min = low = high =
	 * wmark_min, no per-context cache) that reports through the
	 * caller's hook; the act destroys it.  NULL if there is none (no
	 * memory; controlled mode: one per logical thread and schedule, made
	 * on main, since a fiber's system calls would change the errno the
	 * others share). */
	struct lab_maze *(*scratch)(void *arg, unsigned wmark_min);
};

/* The min mark of the watermark act's scratch maze (32 frames). */
#define LAB_MISUSE_DIP_MIN 8

/* A scratch maze as ops->scratch makes it, reporting to report(arg). */
struct lab_maze *lab_misuse_maze(lab_report_fn report, void *arg,
				 unsigned wmark_min);

/* Where a controlled-mode act runs: the shared maze, the logical
 * thread's private maze (NULL: only the acts on blocks of their own), a
 * stranger context (an owner that is not us), and the yield hook the
 * scheduler installed (the hooked acts go in front of it). */
struct lab_mu_place {
	struct lab_maze *shared, *priv;
	struct lab_ctx *stranger;
	const struct lab_sched_hooks *base;
};

/* Commits the act chosen by `pick` (every detector's, those on freed
 * frames on pl->priv, which only the caller uses; the stale acts and the
 * watermark act put a yield hook of their own in front of pl->base while
 * they run, one of them at a time).  provoked[det] counts the committed
 * act.  Returns the detector, or LAB_DET_COUNT if the act could not be
 * set up (no memory, another hooked act under way). */
unsigned lab_misuse_act(const struct lab_mu_place *pl,
			const struct lab_mu_ops *ops, void *arg, unsigned pick,
			uint64_t *provoked);

/* Forgets a hooked act abandoned with its logical thread (a finding):
 * at the start of a schedule, on main. */
void lab_misuse_reset(void);

/* ---- the coverage table (free-running summary, main job, zoo bench) ---- */

struct lab_coverage; /* record.h: detector, provoked, fired */

/* Prints one row per detector (provoked / fired, and ok, SILENT for a
 * detector provoked more often than it fired, or not provoked) and a
 * line saying how many were provoked and fired.  Returns the number of
 * SILENT rows; f NULL only counts them. */
unsigned lab_coverage_print(FILE *f, const struct lab_coverage *rows,
			    unsigned n);

#endif /* LAB_MISUSE_H */
