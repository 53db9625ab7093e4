/* labyrinth/detectors.h - every check the allocator makes, by name, and
 * how often each fired.
 *
 * A report kind (labyrinth/report.h) says what went wrong; a detector says
 * which check saw it.  Several detectors share a kind: a free of a tail
 * frame and a misaligned free are both BAD_POINTER, a handoff of a freed
 * block and an access to a free frame are both USE_AFTER_FREE.  Each
 * report carries its detector (struct lab_report.detector), and each
 * firing is counted, per maze and process-wide, so that a harness can
 * prove that every check it provoked actually fired.
 *
 * The counters are atomics bumped where the check fires (from signal
 * handlers too); reading them never blocks and is async-signal-safe.
 */
#ifndef LABYRINTH_DETECTORS_H
#define LABYRINTH_DETECTORS_H

#include <stdint.h>

#include "labyrinth/report.h"

struct lab_maze;

enum lab_detector {
	LAB_DET_POISON_SCAN,	  /* allocation found a free page written */
	LAB_DET_DOUBLE_FREE,	  /* free of a block that is not allocated */
	LAB_DET_WRONG_ORDER_FREE, /* freed with another order */
	LAB_DET_TAIL_FRAME_FREE,  /* free of a frame inside a block */
	LAB_DET_MISALIGNED_FREE,  /* pfn not aligned to the order freed */
	LAB_DET_FOREIGN_FREE,	  /* EXCLUSIVE block freed by a non-owner */
	LAB_DET_FOREIGN_ACCESS,	  /* address or access check by a non-owner */
	LAB_DET_HANDOFF_FOREIGN,  /* handoff by a non-owner */
	LAB_DET_HANDOFF_ARGS,	  /* handoff: NULL page, owner 0, wrong order */
	LAB_DET_HANDOFF_FREED,	  /* handoff of a block that is not allocated */
	LAB_DET_STALE_FREE,	  /* free raced with a free and reallocation */
	LAB_DET_STALE_HANDOFF,	  /* handoff raced the same way */
	LAB_DET_ACCESS_FREE,	  /* access check on a free frame */
	LAB_DET_ACCESS_OVERRUN,	  /* access past the end of its block */
	LAB_DET_BAD_DESCRIPTOR,	  /* not a page descriptor of the maze */
	LAB_DET_INSIDE_FRAME,	  /* address inside a frame, not its start */
	LAB_DET_WRONG_MAZE,	  /* address of another live maze */
	LAB_DET_OUT_OF_RANGE,	  /* address outside every maze */
	LAB_DET_MIGHT_SLEEP,	  /* blocking call from atomic context */
	LAB_DET_NOFAIL_NONBLOCKING, /* NOFAIL with a class that cannot block */
	LAB_DET_NOFAIL_ORDER,	    /* NOFAIL above order 1 */
	LAB_DET_ALLOC_FAILURE,	    /* "page allocation failure" warning */
	LAB_DET_MAZE_CHECK,	    /* whole-maze check: structure broken */
	LAB_DET_WATERMARK_DIP,	    /* whole-maze check: NOWAIT below min */
	LAB_DET_CONTEXT_IMBALANCE,  /* irq_exit/preempt_enable unmatched */
	LAB_DET_COUNT
};

struct lab_detector_stats {
	uint64_t fired[LAB_DET_COUNT];
};

/* Stable short name ("poison-scan", "double-free", ...); "?" if out of
 * range. */
const char *lab_detector_name(enum lab_detector det);
/* The report kind the detector reports with. */
enum lab_report_kind lab_detector_kind(enum lab_detector det);
/* The detector with this name, or LAB_DET_COUNT. */
enum lab_detector lab_detector_find(const char *name);

/* How often each detector fired: for one maze, or with maze NULL for the
 * whole process (reports without a maze, such as context imbalance,
 * count only there).  Monotonic snapshots; exact at quiescent points.
 * Returns 0, or -EINVAL for a NULL out.  Never blocks; IRQ-safe. */
int lab_detector_stats(const struct lab_maze *maze,
		       struct lab_detector_stats *out);

#endif /* LABYRINTH_DETECTORS_H */
