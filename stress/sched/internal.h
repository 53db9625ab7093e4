/* internal.h - the controlled scheduler's state, shared by its core
 * (sched.c: fibers, decisions, scheduling points) and its runner (run.c:
 * checks, isolation, outcome).
 *
 * All logical threads run on one pthread, one at a time.  Under TSan the
 * switches do not synchronise, so every field more than one fiber touches
 * is an atomic (relaxed atomics make no happens-before edges).  With
 * isolation the whole struct lives in a shared mapping, so the parent
 * still reads how far a crashed child got.
 */
#ifndef LAB_SCHED_INTERNAL_H
#define LAB_SCHED_INTERNAL_H

#include <stdatomic.h>
#include <ucontext.h>

#include "labyrinth/sched.h"

#define LAB_SCHED_RECENT 8
#define LAB_SCHED_LOCKS 4
#define LAB_SCHED_CHANGES 8

enum lab_sched_state { LAB_TH_RUNNABLE, LAB_TH_BLOCKED, LAB_TH_DONE };

struct lab_sched_th {
	unsigned id;
	/* fiber */
	ucontext_t uc;
	void *stack;
	size_t stack_size;
	void *tsan_fiber;
	void *asan_fake_stack;
	/* scheduling state, read by other fibers: atomics */
	atomic_int state;
	_Atomic(bool (*)(void *)) ready;
	_Atomic(void *) ready_arg;
	atomic_bool timed, timed_out, irq_due, spinning;
	_Atomic(lab_site_t) recent[LAB_SCHED_RECENT]; /* a ring */
	atomic_uint recent_pos;
	atomic_uint irq_depth; /* > 0 while the scheduler's ISR runs */
	atomic_ullong points;  /* scheduling points passed */
	/* locks held (lab_sched_lock_note): the thread's own */
	const void *lock[LAB_SCHED_LOCKS];
	lab_site_t lock_site[LAB_SCHED_LOCKS];
	char parked; /* TSan token: published at every switch-out */
};

struct lab_sched_rt {
	const struct lab_sched_test *t;
	struct lab_sched_th th[LAB_SCHED_MAX_THREADS];
	unsigned n;
	atomic_int cur; /* running logical thread, -1 = main */
	/* main context */
	ucontext_t main_uc;
	void *main_tsan_fiber;
	void *asan_main_fake;
	const void *main_stack_bottom;
	size_t main_stack_size;
	/* decisions; c11 memory: reads-from choices, those of a stale store */
	atomic_ullong preemptions, irqs, reads, stale_reads;
	/* progress, for the livelock verdict (sched.c, lab_watch_progress):
	 * operations completed, threads finished, the sum last seen, and
	 * the decisions without an injected interrupt since it moved */
	atomic_ullong progress, exits, progress_seen, stalled;
	/* stopped at the decision budget while still making progress */
	atomic_bool exhausted;
	_Atomic uint64_t rng;
	_Atomic uint32_t *trace; /* cap trace_cap */
	atomic_ullong ntrace;
	uint64_t trace_cap, max_steps, stall_steps;
	atomic_ullong diverged_at;
	char diverged_why[160];
	/* PCT */
	atomic_int prio[LAB_SCHED_MAX_THREADS];
	uint64_t change_at[LAB_SCHED_CHANGES];
	unsigned nchange;
	/* outcome: written by the fiber that stops the run, read by main
	 * after a synchronising switch */
	atomic_bool stopped;
	struct lab_sched_finding finding;
	bool found;
	atomic_uint nonpreemptible;
	/* what main is doing ("set-up", "final invariant", ...): names the
	 * position of a crash outside every logical thread (a static string
	 * of the same binary, so a forked child's pointer reads back) */
	_Atomic(const char *) phase;
	atomic_bool hung; /* the parent's watchdog killed the child (run.c) */
	/* set-up handshake for TSan (sched.c) */
	char setup_token;
};

/* "sched.c" */
/* The run of this process, NULL between runs. */
extern _Atomic(struct lab_sched_rt *) lab_sched_rt_active;
/* Sets up decisions (rng, PCT priorities) from t->seed. */
void lab_sched_rt_init(struct lab_sched_rt *rt);
/* Runs every logical thread to its end or to the first finding: 0, or
 * -errno if fibers could not be set up. */
int lab_sched_rt_execute(struct lab_sched_rt *rt);
/* Records a finding (first wins); never returns on a logical thread. */
void lab_sched_rt_fail(struct lab_sched_rt *rt, const char *kind,
		       const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "memory.c": the memory model of a run */
/* Checks t's memory fields: 0, or -EINVAL with one line in err. */
int lab_sched_memory_check(const struct lab_sched_test *t, char *err,
			   size_t errlen);
/* Before a run (and before its fork): the model t asks for, created or
 * reused; 0 or -errno with err.  Nothing for SC. */
int lab_sched_memory_prepare(const struct lab_sched_test *t, char *err,
			     size_t errlen);
/* Around a schedule, on the OS thread that runs it: the model started
 * afresh and installed, then removed. */
void lab_sched_memory_begin(const struct lab_sched_test *t);
void lab_sched_memory_end(void);

/* "sched.c" */
/* The reads-from choice of the running logical thread's load among n
 * stores, recorded as a decision (the model's choose callback). */
unsigned lab_sched_read_choice(unsigned n);

#endif /* LAB_SCHED_INTERNAL_H */
