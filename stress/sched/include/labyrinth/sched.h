/* labyrinth/sched.h - the controlled scheduler as a library.
 *
 * A test is N logical threads (functions with an argument) that run one at
 * a time on fibers of the calling pthread and switch only at scheduling
 * points (labyrinth/sched_point.h: instrumented atomics, locks, the
 * labyrinth allocator's yield points) and at thread exit.  At every point
 * the scheduler takes one decision - which runnable thread goes on, and
 * whether the test's interrupt routine is injected on it right there -
 * from a random walk, from PCT (random priorities and depth-1 priority
 * change points; a spinning thread drops below everyone) or from a
 * recorded list (replay).  Every decision is recorded, so a schedule
 * replays exactly from its trace, and a different program is reported at
 * the first decision that no longer fits.
 *
 * A run ends with a finding when a thread calls lab_sched_fail(), the
 * invariant fails, every thread is blocked (deadlock), a thread exits
 * holding a lock, or no thread reports progress for stall_steps decisions
 * (livelock); a run that goes on progressing stops at max_steps decisions
 * without a finding.  With isolate the
 * schedule runs in a forked child whose scheduler state lives in a shared
 * mapping: a crash or sanitizer exit becomes a finding that keeps the
 * decisions taken up to it.
 *
 * Atomics are sequentially consistent by default (one thread runs at a
 * time, every load reads the newest store).  A test with memory
 * LAB_SCHED_MEM_C11 runs its instrumented atomics under the C11 model of
 * labyrinth/c11.h instead, and which store a load reads is a decision of
 * the trace too (LAB_SCHED_DEC_READ below): random, PCT, replayed and
 * shrunk like a thread switch.
 *
 * Under TSan the switches between logical threads do not synchronise
 * (__tsan_switch_to_fiber with no_sync): a data race between logical
 * threads that a schedule exercises is reported, with that schedule.
 *
 * One run at a time per process.  Nothing here is async-signal-safe but
 * the scheduling points themselves.
 */
#ifndef LABYRINTH_SCHED_H
#define LABYRINTH_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labyrinth/sched_point.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAB_SCHED_MAX_THREADS 8

/* A decision: the thread that runs after a scheduling point, and whether
 * an interrupt is injected on it there.  In a list, a thread that does
 * not exist (LAB_SCHED_DEC_STAY) means "no preemption": the current
 * thread goes on if it can.
 *
 * In c11 memory mode (struct lab_sched_test.memory) a second kind: a
 * reads-from choice, taken by every atomic load that the model
 * (labyrinth/c11.h) gives n >= 2 stores to read from.  Its encoding:
 *   bits 0..7    the thread that reads (in a list: LAB_SCHED_DEC_STAY
 *                fits any thread)
 *   bit 9        LAB_SCHED_DEC_READ
 *   bits 16..31  which store: 0 the newest (what an SC run reads), up to
 *                n - 1 the oldest the model allows
 * (bit 8, the interrupt, and bits 10..15 are 0).  Both kinds share one
 * trace and one index: a list is followed entry by entry, and an entry
 * of the other kind than the program takes there, a reads-from choice of
 * another thread or of a store >= n, is a divergence (diverged_at) after
 * which the run goes on as past the list's end (store 0, no preemption).
 * Random walk and PCT draw the store from the scheduler's seeded stream
 * with the stale-permille rule (lab_c11_pick_stale).  Reads-from choices
 * count toward max_steps (they are trace entries) but not toward
 * stall_steps: a stale read is no step of a livelock. */
typedef uint32_t lab_sched_decision_t;
#define LAB_SCHED_DEC_THREAD 0xffu
#define LAB_SCHED_DEC_IRQ 0x100u
#define LAB_SCHED_DEC_STAY 0xffu
#define LAB_SCHED_DEC_READ 0x200u
#define LAB_SCHED_DEC_READ_SHIFT 16
#define LAB_SCHED_DEC_IS_READ(d) (((d) & LAB_SCHED_DEC_READ) != 0)
#define LAB_SCHED_DEC_READ_INDEX(d) ((unsigned)((d) >> LAB_SCHED_DEC_READ_SHIFT))
#define LAB_SCHED_DEC_READ_OF(thread, index)                            \
	(LAB_SCHED_DEC_READ | ((lab_sched_decision_t)(thread) & 0xffu) | \
	 ((lab_sched_decision_t)(index) << LAB_SCHED_DEC_READ_SHIFT))
/* Whether d is a well-formed decision of either kind (an artifact
 * reader's check; the store index below LAB_SCHED_READ_INDEX_MAX). */
#define LAB_SCHED_READ_INDEX_MAX 64u
static inline bool lab_sched_decision_valid(lab_sched_decision_t d)
{
	if (!LAB_SCHED_DEC_IS_READ(d))
		return d <= (LAB_SCHED_DEC_IRQ | LAB_SCHED_DEC_THREAD);
	return !(d & (LAB_SCHED_DEC_IRQ | 0xfc00u)) &&
	       LAB_SCHED_DEC_READ_INDEX(d) < LAB_SCHED_READ_INDEX_MAX;
}

/* How atomics behave in a run: SC (every load reads the newest store,
 * the scheduler's default) or the C11 model (labyrinth/c11.h), whose
 * reads-from choices are decisions. */
enum lab_sched_memory {
	LAB_SCHED_MEM_SC = 0,
	LAB_SCHED_MEM_C11,
};

enum lab_sched_strategy {
	LAB_SCHED_RANDOM, /* uniform random walk */
	LAB_SCHED_PCT,	  /* PCT with depth d */
	LAB_SCHED_LIST,	  /* follow list[], then "no preemption" */
};

struct lab_sched_thread_desc {
	void (*fn)(void *arg); /* the thread's body; NULL is an error */
	void *arg;
};

/* Describes one test.  Every callback gets `arg`; all are optional but
 * the thread functions.  Set-up, tear-down and the final invariant run on
 * the calling pthread's own stack ("main"), the others on the fiber of
 * the thread they concern. */
struct lab_sched_test {
	const char *name;  /* for messages and artifacts */
	unsigned nthreads; /* 1 .. LAB_SCHED_MAX_THREADS */
	struct lab_sched_thread_desc threads[LAB_SCHED_MAX_THREADS];
	void *arg;
	/* Before the first decision; non-zero fails the run (-errno). */
	int (*setup)(void *arg);
	/* After the last (also after a finding; lab_sched_found() says). */
	void (*teardown)(void *arg);
	/* The invariant: NULL when it holds, else what is wrong.  After
	 * every decision (final false) and once at the end, before the
	 * tear-down (final true).  A non-NULL return is an "invariant"
	 * finding. */
	const char *(*invariant)(void *arg, bool final);
	/* Injected on `thread` at a scheduling point (irq_permille per
	 * decision, or where a list says).  Never nested by the scheduler. */
	void (*isr)(void *arg, unsigned thread);
	/* Whether the client runs an interrupt on `thread` that it deferred
	 * (no new one is injected then); NULL: only the scheduler's own. */
	bool (*in_isr)(void *arg, unsigned thread);
	/* Around every switch (from or to -1: main), on the old fiber. */
	void (*on_switch)(void *arg, int from, int to);
	/* What `thread` is doing, for deadlock and livelock findings
	 * (" op 3/24 (alloc)"); the scheduler adds state and sites. */
	size_t (*describe)(void *arg, unsigned thread, char *buf, size_t len);
	/* Every thread is blocked or done, before a timed waiter times out
	 * (a client may report a lost wakeup here with lab_sched_fail). */
	void (*on_all_blocked)(void *arg);

	enum lab_sched_strategy strategy;
	unsigned depth;	       /* PCT depth d >= 1 (0 counts as 1) */
	uint64_t seed;	       /* decisions and PCT priorities */
	unsigned irq_permille; /* random and PCT: interrupt chance */
	uint64_t pct_horizon;  /* PCT change points fall in [1, horizon]
				 * (0: 1000 per thread) */
	/* Livelock: stall_steps decisions (injected interrupts not counted)
	 * in which no thread completed an operation (lab_sched_progress) or
	 * exited; 0: 200000.  max_steps: the decision budget, a safety net
	 * for runs that go on making progress: reaching it stops the run
	 * without a finding (outcome.exhausted); 0: 16 x stall_steps. */
	uint64_t max_steps;
	uint64_t stall_steps;
	const lab_sched_decision_t *list; /* LAB_SCHED_LIST */
	uint64_t nlist;
	bool isolate; /* run in a forked child */
	/* isolate: a child that takes no decision for this long (a thread
	 * stuck in a raw lock, a syscall, uninstrumented code) is stopped
	 * with a "hang" finding naming where it was (0: 10000 ms) */
	unsigned hang_ms;
	/* isolate: around the fork, as pthread_atfork's handlers (e.g. to
	 * hold stop signals until the child has its own); NULL: none */
	void (*fork_prepare)(void);
	void (*fork_child)(void);
	void (*fork_parent)(void);
	/* The memory model (all zero: SC, exactly as without these fields).
	 * c11: the model is created once (reused while history and
	 * locations stay the same), started afresh before each schedule's
	 * set-up and installed for the run's instrumented atomics.  history:
	 * stores kept per location, 1..64 (0: LAB_C11_HISTORY_DEFAULT, 8);
	 * stale_permille: random and PCT, the chance per reads-from choice
	 * that a load reads an older store, 0..1000; locations: the model's
	 * table (0: LAB_C11_LOCATIONS_DEFAULT). */
	enum lab_sched_memory memory;
	unsigned history;
	unsigned stale_permille;
	unsigned locations;
};

struct lab_sched_finding {
	char kind[32];	/* "deadlock", "invariant", "crash", ... */
	char where[64]; /* site or check: the signature site */
	char message[384];
	uint64_t step; /* decision index at detection */
	int thread;    /* logical thread, -1 if none */
};

struct lab_sched_outcome {
	bool found;
	/* stopped at max_steps while still making progress: not a finding,
	 * the run is cut short (and its end unchecked); stalled is the
	 * uninterrupted decisions since the last progress */
	bool exhausted;
	uint64_t stalled;
	struct lab_sched_finding finding;
	uint64_t decisions, preemptions, irqs, progress;
	/* list strategy: first decision that did not fit (UINT64_MAX: the
	 * list was followed exactly) and why */
	uint64_t diverged_at;
	char diverged_why[160];
	lab_sched_decision_t *trace; /* the decisions taken (malloc'd) */
	uint64_t ntrace;
	/* isolate: the child did not exit normally (status from waitpid) */
	bool child_died;
	int child_status;
	/* threads that ran their whole body without a scheduling point: a
	 * run nobody could preempt (bit per thread), and a line saying so */
	unsigned nonpreemptible;
	char note[160];
	/* a test that could not run: one line (lab_sched_run_test returned
	 * -EINVAL or another -errno) */
	char error[256];
	/* lab_sched_replay: the recorded finding came back at the same step,
	 * every recorded decision followed */
	bool exact;
	/* c11 memory: reads-from choices taken, and those that read an
	 * older store than the newest */
	uint64_t reads, stale_reads;
};

/* Runs one schedule.  0 (outcome filled: found or not), or -errno with
 * out->error saying why the test could not run (bad description, set-up
 * failed, no memory).  Free the outcome with lab_sched_outcome_free. */
int lab_sched_run_test(const struct lab_sched_test *t,
		       struct lab_sched_outcome *out);
void lab_sched_outcome_free(struct lab_sched_outcome *out);
/* Checks a description without running it: 0, or -EINVAL with err. */
int lab_sched_test_check(const struct lab_sched_test *t, char *err,
			 size_t errlen);
/* FNV-1a of the decisions (the same seed and build print the same). */
uint64_t lab_sched_digest(uint64_t h, const lab_sched_decision_t *d,
			  uint64_t n);

/* ---- artifacts ---------------------------------------------------------------- */

/* A failing schedule on file (format: stress/sched/artifact.c). */
struct lab_sched_artifact {
	char test[64], build[64];
	uint64_t seed, max_steps, stall_steps;
	enum lab_sched_strategy strategy;
	unsigned depth, threads, irq_permille;
	/* memory model (an artifact without these fields: sc) */
	enum lab_sched_memory memory;
	unsigned history, stale_permille;
	struct lab_sched_finding finding; /* kind, where, step, thread */
	lab_sched_decision_t *decisions;  /* malloc'd */
	uint64_t ndecisions;
};

/* Writes the outcome's schedule (it must have a finding) atomically:
 * 0 or -errno.  The artifact records the build id of the object the
 * test's code is in, and t's memory fields: write a replayed or shrunk
 * outcome with the test as the artifact says it ran (memory, history,
 * stale_permille), since replay takes them from the artifact. */
int lab_sched_artifact_write(const char *path, const struct lab_sched_test *t,
			     const struct lab_sched_outcome *out);
/* Reads one: 0, or -1 with err (one line naming the file and the line at
 * fault); never crashes on any input. */
int lab_sched_artifact_read(const char *path, struct lab_sched_artifact *a,
			    char *err, size_t errlen);
void lab_sched_artifact_free(struct lab_sched_artifact *a);
/* Whether a is t's, from this build of its code: 0, or -EINVAL with err
 * (another test, another build, another thread count). */
int lab_sched_artifact_check(const struct lab_sched_test *t,
			     const struct lab_sched_artifact *a, char *err,
			     size_t errlen);
/* Runs t along a's decisions; out->exact says the finding came back at
 * the same step with every decision followed.  -EINVAL (out->error) for
 * an artifact of another test or build. */
int lab_sched_replay(const struct lab_sched_test *t,
		     const struct lab_sched_artifact *a,
		     struct lab_sched_outcome *out);
/* Minimises a's schedule (stale reads-from choices, injected interrupts,
 * preemptions) while the
 * same finding (kind and site) comes back, in at most budget runs; out
 * is the smallest failing run (write it with lab_sched_artifact_write).
 * -ESRCH if the finding does not come back at all. */
int lab_sched_shrink(const struct lab_sched_test *t,
		     const struct lab_sched_artifact *in, unsigned budget,
		     struct lab_sched_outcome *out);
/* The GNU build id (hex) of the loaded object containing code, or
 * "unknown". */
void lab_sched_build_id(const void *code, char *buf, size_t len);

/* SplitMix64, the scheduler's random stream: advances *state. */
uint64_t lab_sched_splitmix(uint64_t *state);

/* ---- inside a run ---------------------------------------------------------- */

/* Ends the run with a finding (the first one wins).  On a logical thread
 * it does not return: the thread is abandoned where it is.  On main
 * (set-up, tear-down) it records and returns.  Outside a run: ignored. */
void lab_sched_fail(const char *kind, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with every thread's state and recent sites after `why` (the
 * deadlock and livelock findings' form). */
void lab_sched_fail_stuck(const char *kind, const char *why);
/* Whether the current run has a finding; whether it was cut at its
 * budget (a tear-down then skips its end-of-run checks). */
bool lab_sched_found(void);
bool lab_sched_exhausted(void);
/* The logical thread running now, -1 on main or outside a run. */
int lab_sched_current(void);
/* Whether a run in c11 memory mode is active on this OS thread (set-up
 * and tear-down included): glue that routes its own atomics through
 * lab_atomic_perform() asks it. */
bool lab_sched_memory_c11(void);
/* The site thread t last passed (NULL if none yet). */
lab_site_t lab_sched_last_site(unsigned t);
/* The calling thread completed an operation (resets the stall count). */
void lab_sched_progress(void);
/* The calling thread took (held true) or released a lock: a thread that
 * exits holding one is a "lock-held-at-exit" finding naming the site. */
void lab_sched_lock_note(const void *lock, lab_site_t site, bool held);

/* Harness data handed between logical threads: the release/acquire a real
 * lock would give (no-ops without TSan). */
void lab_sched_publish(void *addr);
void lab_sched_consume(void *addr);
/* The same for TSan only: the memory model of a c11 run sees no ordering
 * (harness data read and written plainly, always the newest, while the
 * code under test gets no happens-before from the hand-over: a workload
 * that leaves ordering to the code under test). */
void lab_sched_publish_unordered(void *addr);
void lab_sched_consume_unordered(void *addr);

/* Called at every switch between two logical threads with the site the
 * old one stopped at and the one the new one resumes at (NULL when it
 * starts), on the old fiber: interleaving coverage.  Process-wide; set
 * it between runs, NULL removes it. */
typedef void (*lab_sched_observer_fn)(lab_site_t from, lab_site_t to,
				      void *arg);
void lab_sched_set_observer(lab_sched_observer_fn fn, void *arg);

/* A zeroed mapping shared with an isolated run's child (the state a
 * client wants to read after the child is gone); NULL on failure. */
void *lab_sched_shared_alloc(size_t bytes);
void lab_sched_shared_free(void *p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_SCHED_H */
