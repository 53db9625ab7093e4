/* scheduler.h - the labyrinth allocator as a client of the controlled
 * scheduler (stress/sched/, labyrinth/sched.h): the programs its logical
 * threads run (program.c) and the runner that describes a schedule of
 * them as a test (runner.c).
 *
 * Concurrency model: all logical threads run on one pthread, on fibers,
 * one at a time, switching only at the allocator's yield points (each a
 * scheduling point whose site is the yield point's name), at blocking
 * waits and at thread exit.  Under TSan the switches do not
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
#include "capture.h"
#include "labyrinth/sched.h"
#include "stress.h"

#define LAB_HELD_MAX 48
#define LAB_INBOX_MAX 64
#define LAB_RX_MAX 8

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

struct lab_sched;

/* The allocator's side of a logical thread; the scheduler's side (fiber,
 * state, positions) is the library's (labyrinth/sched.h). */
struct lab_lthread {
	unsigned id;
	struct lab_sched *sched;
	/* the wait being blocked on (lab_sched_block's ready predicate) */
	_Atomic(const atomic_uint *) wait_word;
	atomic_uint wait_expected;
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
	uint64_t foreign_tries, foreign_refused;
	atomic_uint irq_depth; /* > 0 while an injected ISR runs on it */
	/* misuse profile (program.c, misuse.h): the detector whose report
	 * the thread's act expects, + 1 (0: none), its reports so far */
	unsigned mu_det, mu_hits;
	bool mu_repeat;
	/* its acts on freed frames: a maze only it uses (made and destroyed
	 * on main, lab_program_generate and lab_program_free) */
	struct lab_maze *mu_priv;
	struct lab_maze *mu_scratch; /* the watermark act's, until taken */
	/* start (program.c, lab_thread_start), late-start profile: the
	 * thread waits for start_after operations of the others (0: starts
	 * at once; from the seed), then sets up its contexts inside the
	 * schedule; other profiles are started before it.  started is read
	 * by other threads: atomic; task_id is published with it
	 * (lab_sched_publish on the thread). */
	unsigned start_after;
	atomic_uint started;
	uint32_t task_id;
};

/* ---- one schedule of the allocator ----------------------------------------- */

/* The allocator's client state of one schedule.  With isolation it lives
 * in a mapping shared with the child (lab_sched_shared_alloc), so the
 * parent reads the operation log and sanitizer captures afterwards. */
struct lab_sched {
	const struct lab_opts *opts;
	const struct lab_programs *given; /* NULL: generate from the seed */
	struct lab_maze *maze;
	struct lab_lthread lt[LAB_MAX_LOGICAL];
	unsigned n;
	lab_spinlock_t lock; /* the spinlock programs take (LAB_OP_SPIN) */
	struct lab_ctx *main_ctx;
	atomic_ullong ops_done;
	/* the last operations run (lab_oplog_pack), for the finding record;
	 * atomic because fibers write it without a happens-before edge */
	_Atomic uint64_t oplog[LAB_REC_OPS];
	atomic_uint noplog;
	/* sanitizer reports of this schedule (capture.c) */
	struct lab_capture cap;
	int setup_ret;
	/* misuse profile: the hooks its hooked acts go in front of */
	struct lab_sched_hooks mu_base;
};

/* "program.c": the last operations, for finding records */
/* Notes that thread t runs op (NULL: an injected interrupt). */
void lab_oplog_note(struct lab_sched *s, unsigned t, const struct lab_op *op);
/* The noted operations, oldest first, as lines into r. */
void lab_oplog_to_rec(const struct lab_sched *s, struct lab_rec *r);

/* "runner.c" */
/* The site of yield point pt (its name), and back: -1 if not one. */
lab_site_t lab_yield_site(enum lab_yield_point pt);
int lab_yield_point_of(lab_site_t site);
/* The yield point logical thread t last passed, -1 if none. */
int lab_last_point(unsigned t);
/* The hooks a schedule installs (arg: its struct lab_sched): a yield
 * point is a scheduling point, a wait blocks the logical thread.
 * program.c's misuse acts put a hook in front of them. */
void lab_on_yield(enum lab_yield_point pt, void *arg);
int lab_on_wait(const atomic_uint *word, unsigned expected, unsigned timeout_ms,
		void *arg);

/* A library outcome as the harness's result (the outcome's trace moves
 * into it): a sanitizer report captured in c names the finding, and one
 * that did not stop the run is a finding too. */
void lab_sched_result_from(struct lab_sched_outcome *out,
			   const struct lab_capture *c, uint64_t ops,
			   struct lab_sched_result *r);

/* The test's memory model from o (--memory, --history,
 * --stale-permille). */
void lab_sched_memory_for(const struct lab_opts *o, struct lab_sched_test *t);

/* Decisions one schedule may take in all (the trace's size): a safety
 * net for runs that never end; the livelock bound is --max-steps
 * decisions without progress (labyrinth/sched.h, stall_steps). */
uint64_t lab_sched_budget(const struct lab_opts *o);

/* Runs one schedule of the given programs in this process (no fork), for
 * fuzz targets; otherwise as lab_sched_run. */
int lab_sched_run_programs(const struct lab_opts *o,
			   const struct lab_programs *p,
			   const lab_decision_t *list, uint64_t n,
			   struct lab_sched_result *r);

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
/* Misuse acts committed (and checked) per detector by the schedules run
 * in this process so far: out[LAB_DET_COUNT]. */
void lab_program_misuse_committed(uint64_t *out);
/* Threads of the late-start profile that started after the operations of
 * the others they waited for, in this process so far. */
uint64_t lab_program_late_starts(void);

#endif /* LAB_SCHEDULER_H */
