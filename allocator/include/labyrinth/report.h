/* labyrinth/report.h - how the allocator reports misuse and errors.
 *
 * Two channels:
 *  - Bad arguments (NULL, unknown flag bits, order above max, impossible
 *    geometry) make the call return an error value; lab_last_error() then
 *    gives a one-line message for the calling thread.
 *  - Misuse and contract violations (double free, foreign free, wrong-order
 *    free, pointers that are not page starts of the maze, poison damage,
 *    sleeping in atomic context, ...) go through one report hook.  The
 *    default hook writes a kernel-style line to stderr ("BUG: ...",
 *    "WARNING: ...") and aborts if the report is fatal.  A harness installs
 *    its own hook to record the finding and continue; the violating
 *    operation is never performed.
 */
#ifndef LABYRINTH_REPORT_H
#define LABYRINTH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lab_maze;

enum lab_report_kind {
	LAB_REPORT_DOUBLE_FREE,	   /* free of a block that is not allocated */
	LAB_REPORT_FOREIGN_FREE,   /* EXCLUSIVE block freed by a non-owner */
	LAB_REPORT_FOREIGN_ACCESS, /* EXCLUSIVE block touched by a non-owner */
	LAB_REPORT_WRONG_ORDER,	   /* freed with another order than allocated */
	LAB_REPORT_BAD_POINTER,	   /* not the first byte of a block's frame */
	LAB_REPORT_OUT_OF_RANGE,   /* outside every maze, or pfn too large */
	LAB_REPORT_WRONG_MAZE,	   /* belongs to another live maze */
	LAB_REPORT_POISON, /* a free page was written (use after free) */
	LAB_REPORT_USE_AFTER_FREE,  /* access check on a frame that is free */
	LAB_REPORT_SLEEP_IN_ATOMIC, /* blocking call from atomic context */
	LAB_REPORT_NOFAIL_MISUSE,   /* NOFAIL that cannot block, or order > 1 */
	LAB_REPORT_ALLOC_FAILURE,   /* "page allocation failure" warning */
	LAB_REPORT_INCONSISTENT,    /* whole-maze check found corruption */
	LAB_REPORT_CONTEXT,	    /* unbalanced irq_exit/preempt_enable/... */
	LAB_REPORT_KIND_COUNT
};

struct lab_report {
	enum lab_report_kind kind;
	bool fatal;	      /* the default hook aborts after printing */
	const char *function; /* public entry point that detected it */
	const char *message;  /* one formatted line, no newline */
	const struct lab_maze *maze; /* may be NULL */
	uint64_t pfn;		     /* UINT64_MAX if none */
	unsigned order;
	uint32_t owner; /* recorded owner (EXCLUSIVE), else 0 */
	uint32_t ctx;	/* lab_ctx_id() of the caller */
	bool in_irq, irqs_disabled;
	unsigned preempt_count;
	/* which check fired: an enum lab_detector (labyrinth/detectors.h) */
	unsigned detector;
};

/* Called synchronously where the misuse is detected, possibly from a
 * signal handler or with the allocator mid-operation: it must be
 * async-signal-safe and must not call back into the same maze. */
typedef void (*lab_report_fn)(const struct lab_report *report, void *arg);

/* Sets the process-wide hook used by mazes that have none of their own and
 * by context misuse; NULL restores the default.  Not async-signal-safe. */
void lab_set_report_hook(lab_report_fn fn, void *arg);
/* The default hook: prints the kernel-style line, aborts if fatal. */
void lab_report_default(const struct lab_report *report, void *arg);

/* Short stable name of a kind ("double-free", "foreign-free", ...). */
const char *lab_report_kind_name(enum lab_report_kind kind);

/* snprintf for report hooks and signal handlers: async-signal-safe (no
 * locale, malloc or locks).  Supports %s %c %d %u %x with l/ll/z
 * modifiers, %p and %%.  Returns the length the full output needs; buf is
 * always NUL-terminated when size > 0. */
size_t lab_format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The calling thread's message for the last call that returned an error.
 * Never NULL; "" if none. */
const char *lab_last_error(void);

#endif /* LABYRINTH_REPORT_H */
