/* scheduler.h - internals shared by the controlled scheduler (sched.c), the
 * programs its logical threads run (program.c) and the runner (runner.c).
 *
 * Concurrency model: all logical threads run on one pthread, on fibers,
 * one at a time, switching only at the allocator's yield points (and at
 * blocking waits and thread exit).  Under TSan the switches do not
 * synchronise (__tsan_switch_to_fiber with no_sync), so TSan sees the
 * logical threads as truly concurrent and reports the races a schedule
 * exercises.  For that reason every piece of scheduler state that more
 * than one fiber touches is an atomic (relaxed atomics make no
 * happens-before edges), and harness data handed between logical threads
 * carries explicit release/acquire annotations, standing for the lock a
 * real program would use.
 */
#ifndef LAB_SCHEDULER_H
#define LAB_SCHEDULER_H

#include <stdatomic.h>
#include <ucontext.h>

#include "capture.h"
#include "stress.h"

#define LAB_HELD_MAX 48
#define LAB_INBOX_MAX 64
#define LAB_RX_MAX 8
#define LAB_RECENT 8

/* ---- programs ------------------------------------------------------------ */

enum lab_op_kind {
	LAB_OP_ALLOC,
	LAB_OP_FREE,
	LAB_OP_HANDOFF,
	LAB_OP_IRQS_OFF,
	LAB_OP_FOREIGN_FREE,
	LAB_OP_SPIN,
	LAB_OP_KINDS
};

struct lab_op {
	uint8_t kind;
	uint8_t cls;   /* enum lab_gfp_class, for ALLOC */
	uint8_t order; /* for ALLOC */
	uint8_t excl;  /* for ALLOC */
	uint16_t arg;  /* held index (FREE, HANDOFF), target thread */
	uint16_t arg2;
};

struct lab_block {
	void *addr;
	unsigned order;
	bool excl;
};

/* Programs given by the caller instead of generated from the seed (the
 * fuzz_sched target): ops[t][0..nops[t]) for each logical thread t.
 * Out-of-range fields are folded into range when copied. */
struct lab_programs {
	const struct lab_op *ops[LAB_MAX_LOGICAL];
	unsigned nops[LAB_MAX_LOGICAL];
};

/* ---- logical threads ----------------------------------------------------- */

enum lab_lt_state { LAB_LT_RUNNABLE, LAB_LT_BLOCKED, LAB_LT_DONE };

struct lab_sched;

struct lab_lthread {
	unsigned id;
	struct lab_sched *sched;
	/* fiber */
	ucontext_t uc;
	void *stack;
	size_t stack_size;
	void *tsan_fiber;
	void *asan_fake_stack;
	/* scheduling state, read by other fibers: atomics */
	atomic_int state;
	_Atomic(const atomic_uint *) wait_word;
	atomic_uint wait_expected;
	atomic_bool timed_out, irq_due;
	atomic_int recent[LAB_RECENT]; /* last yield points, a ring */
	atomic_uint recent_pos;
	atomic_uint pc; /* operation being run */
	/* program: read-only once running */
	struct lab_op *ops;
	unsigned nops;
	struct lab_ctx *ctx;
	struct lab_ctx *stranger; /* a foreign context for misuse attempts */
	/* context current when switched out; set by the thread, read by
	 * whoever switches to it: atomic */
	_Atomic(struct lab_ctx *) cur_ctx;
	/* blocks this thread holds; touched by it and its interrupts only */
	struct lab_block held[LAB_HELD_MAX];
	unsigned nheld;
	void *rx[LAB_RX_MAX]; /* kept by interrupts: produced in IRQ */
	atomic_uint rx_head, rx_tail;
	uint64_t seq;
	/* blocks handed to this thread: written by others, see inbox_lock */
	struct lab_block inbox[LAB_INBOX_MAX];
	unsigned ninbox, nreserved;
	bool expect_foreign;
	/* the block a free of this thread is freeing (for its interrupts),
	 * and the one whose free the stale-free probe made stale
	 * (program.c): touched by the thread and its interrupts only */
	const struct lab_block *freeing, *stale_probe;
	uint64_t stale_tries, stale_reported;
	char parked; /* TSan token: published at every switch-out */
	uint64_t foreign_tries, foreign_refused;
	atomic_uint irq_depth; /* > 0 while an injected ISR runs on it */
	/* misuse profile (program.c, misuse.h): the detector whose report
	 * the thread's act expects, + 1 (0: none), its reports so far */
	unsigned mu_det, mu_hits;
	bool mu_repeat;
};

/* ---- the scheduler -------------------------------------------------------- */

struct lab_sched {
	const struct lab_opts *opts;
	const struct lab_programs *given; /* NULL: generate from the seed */
	struct lab_maze *maze;
	struct lab_lthread lt[LAB_MAX_LOGICAL];
	unsigned n;
	atomic_int cur;	     /* running logical thread, -1 = main */
	lab_spinlock_t lock; /* the spinlock programs take (LAB_OP_SPIN) */
	struct lab_ctx *main_ctx;
	/* main context */
	ucontext_t main_uc;
	void *main_tsan_fiber;
	void *asan_main_fake;
	const void *main_stack_bottom;
	size_t main_stack_size;
	/* decisions */
	atomic_ullong step, preemptions, irqs, ops_done;
	/* progress, for the livelock verdict (sched.c, lab_watch_progress):
	 * threads finished, the operations + exits count last seen, and
	 * the decisions without an injected interrupt since it moved */
	atomic_ullong exits, progress_seen, stalled;
	/* stopped at the decision budget while still making progress: no
	 * finding, the run is cut short (lab_sched_budget) */
	atomic_bool exhausted;
	_Atomic uint64_t rng;
	_Atomic uint32_t *trace; /* decisions taken, cap max_steps */
	atomic_ullong ntrace;
	uint64_t trace_cap;
	const lab_decision_t *list; /* LAB_STRAT_LIST */
	uint64_t nlist;
	atomic_ullong diverged_at;
	char diverged_why[160];
	/* PCT */
	atomic_int prio[LAB_MAX_LOGICAL];
	uint64_t change_at[8];
	unsigned nchange;
	/* outcome: written by the fiber that stops the run, read by main
	 * after a synchronising switch */
	atomic_bool stopped;
	struct lab_finding finding;
	bool found;
	/* set-up handshake for TSan (see sched.c) */
	char setup_token;
	/* the last operations run (lab_oplog_pack), for the finding record;
	 * atomic because fibers write it without a happens-before edge */
	_Atomic uint64_t oplog[LAB_REC_OPS];
	atomic_uint noplog;
	/* sanitizer reports of this schedule (capture.c) */
	struct lab_capture cap;
};

/* "program.c": the last operations, for finding records */
/* Notes that thread t runs op (NULL: an injected interrupt). */
void lab_oplog_note(struct lab_sched *s, unsigned t, const struct lab_op *op);
/* The noted operations, oldest first, as lines into r. */
void lab_oplog_to_rec(const struct lab_sched *s, struct lab_rec *r);

/* "sched.c" */
/* Stops the run with a finding (the first one wins).  On a logical
 * thread it never returns: the thread is abandoned mid-operation.  On the
 * main context (after the run) it records and returns. */
void lab_sched_fail(struct lab_sched *s, const char *kind, const char *where,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int lab_sched_execute(struct lab_sched *s);
/* Decisions one schedule may take in all (the trace's size): a safety
 * net for runs that never end; see lab_watch_progress. */
uint64_t lab_sched_budget(const struct lab_opts *o);
/* The yield point a logical thread last passed, -1 if none. */
int lab_last_point(const struct lab_lthread *lt);
/* Harness handoff between logical threads: the acquire/release a lock
 * would give (no-ops without TSan). */
void lab_sched_publish(void *addr);
void lab_sched_consume(void *addr);

/* Runs one schedule of the given programs in this process (no fork), for
 * fuzz targets; otherwise as lab_sched_run. */
int lab_sched_run_programs(const struct lab_opts *o,
			   const struct lab_programs *p,
			   const lab_decision_t *list, uint64_t n,
			   struct lab_sched_result *r);

/* Called at every switch from one logical thread to another, with the
 * yield point the old one stopped at and the one the new one resumes at
 * (-1 when it starts).  For interleaving coverage; set at a quiescent
 * point, NULL removes it. */
typedef void (*lab_switch_observer_fn)(int from_point, int to_point, void *arg);
void lab_sched_set_observer(lab_switch_observer_fn fn, void *arg);

/* "program.c" */
void lab_program_generate(struct lab_sched *s, uint64_t seed);
void lab_program_free(struct lab_sched *s);
/* Body of a logical thread: runs its program, then frees what it holds. */
void lab_program_run(struct lab_sched *s, struct lab_lthread *lt);
/* Interrupt service routine injected on a logical thread. */
void lab_program_isr(void *arg);
/* After the run: whole-maze check and conservation; records a finding. */
void lab_program_final_check(struct lab_sched *s);
/* Report hook of the controlled maze. */
void lab_program_on_report(const struct lab_report *r, void *arg);

/* "runner.c" */
uint64_t lab_splitmix(uint64_t *state);

#endif /* LAB_SCHEDULER_H */
