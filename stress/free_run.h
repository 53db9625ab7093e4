/* free_run.h - internals of the free-running mode.
 *
 *   free_run.c    lab_free_run: set-up, the interrupt controller, progress,
 *                 stopping, final checks, the summary
 *   free_work.c   what workers and their interrupts do: profiles,
 *                 operations, the interrupt service routine, the
 *                 reclaimable pool of the pressure profile
 *   free_check.c  how it is checked: stamps in block memory, the report
 *                 hook, findings recorded from any context
 *   free_misuse.c the misuse profile: every detector provoked on purpose,
 *                 and the detector coverage of the run
 *   free_relaxed.c the relaxed profile: handoffs through a channel of
 *                 relaxed atomics, which lends the allocator no ordering
 *
 * Who touches what: a worker's held blocks, counters and rx ring belong to
 * its thread (the interrupt service routine runs on that thread, as a
 * signal handler, so it shares them without locks); mailboxes and the pool
 * have mutexes; everything main reads while workers run (op counts,
 * interrupt counts, findings) is atomic.
 */
#ifndef LAB_FREE_RUN_H
#define LAB_FREE_RUN_H

#include <pthread.h>
#include <stdatomic.h>

#include "capture.h"
#include "stress.h"

#define LAB_FR_HELD_MIN 128 /* blocks a worker may hold (pressure: more) */
#define LAB_FR_MAILBOX_MAX 64
#define LAB_FR_RX_MAX 64
#define LAB_FR_FINDINGS_MAX 32
#define LAB_FR_ISR_OWNER 0x100u /* stamp owner bit: an interrupt allocated */
#define LAB_FR_ORDERS (LAB_MAX_ORDER_LIMIT + 1)

enum lab_fr_op {
	LAB_FR_ALLOC,
	LAB_FR_FREE,
	LAB_FR_HANDOFF,
	LAB_FR_FOREIGN,
	LAB_FR_IRQS_OFF,
	LAB_FR_MISUSE,	/* free_misuse.c */
	LAB_FR_RELAXED, /* free_relaxed.c */
	LAB_FR_OPS
};

/* Deliberate misuse by a foreign context; each must be refused. */
enum lab_fr_foreign {
	LAB_FF_FREE,	/* lab_free_pages_addr -> -EPERM, foreign-free */
	LAB_FF_ACCESS,	/* lab_access_check -> -EPERM, foreign-access */
	LAB_FF_ADDRESS, /* lab_page_address -> NULL, foreign-access */
	LAB_FF_HANDOFF, /* lab_page_handoff -> -EPERM, foreign-access */
	LAB_FF_ISR,	/* lab_access_check from an interrupt */
	LAB_FF_KINDS
};

/* What a profile asks of workers and interrupts. */
struct lab_fr_profile {
	const char *name;
	unsigned weight[LAB_FR_OPS];	   /* percent of operations */
	unsigned cls_pct[LAB_CLASS_COUNT]; /* KERNEL, NOWAIT, ATOMIC */
	unsigned excl_pct;		   /* EXCLUSIVE allocations */
	unsigned small_pct, high_pct;	   /* orders 1..3 and 4..max */
	unsigned order_cap;		   /* highest order; 0 = the maze's */
	unsigned irq_mult;		   /* times --irq-rate */
	unsigned isr_allocs;		   /* allocations per interrupt */
	unsigned isr_max_order;
	bool pool;	  /* a reclaimable pool and a reclaim callback */
	bool isr_foreign; /* interrupts try to touch exclusive blocks */
	bool adopt_excl;  /* handoffs may make plain blocks exclusive */
};

/* A block and the stamp it must carry: owner (worker index, with
 * LAB_FR_ISR_OWNER if an interrupt allocated it) and sequence. */
struct lab_fr_block {
	void *addr;
	uint32_t owner;
	uint8_t order;
	bool excl;
	uint64_t seq;
};

struct lab_fr_mailbox {
	pthread_mutex_t lock;
	struct lab_fr_block item[LAB_FR_MAILBOX_MAX];
	unsigned n;
};

/* Blocks interrupts kept for process context (receive buffers): the
 * interrupt produces, its thread consumes.  One thread, so the atomics
 * only order the accesses against the signal handler. */
struct lab_fr_rx {
	struct lab_fr_block slot[LAB_FR_RX_MAX];
	atomic_uint head, tail;
};

/* A latency histogram (latency.c): one writer, no atomics, signal-safe. */
#define LAB_LAT_SUB 4 /* steps per power of two */
#define LAB_LAT_BUCKETS (LAB_LAT_SUB * 63)
struct lab_lat_hist {
	uint64_t n, sum_ns, max_ns;
	uint64_t bucket[LAB_LAT_BUCKETS];
};

/* Latency of one class in one context: wall time on the task clock of
 * every call, and the thread's CPU time of one call in
 * LAB_FR_CPU_SAMPLE without an interrupt in it (the allocator's own work:
 * no preemption, no stopped process, no interrupt). */
#define LAB_FR_CPU_SAMPLE 8
struct lab_fr_lat {
	struct lab_lat_hist wall, cpu;
	uint64_t calls;
};

/* Counted by a worker in process context; read after it is joined. */
struct lab_fr_counts {
	struct lab_fr_lat lat[LAB_CLASS_COUNT];
	uint64_t order_ok[LAB_FR_ORDERS], order_failed[LAB_FR_ORDERS];
	uint64_t handoffs, adopted, pooled, irqs_off, probes, probes_refused;
	uint64_t foreign[LAB_FF_KINDS], foreign_refused;
	uint64_t irq_delivered, irq_deferred, irq_coalesced;
};

/* Counted by interrupts on a worker's thread; read after it is joined.
 * lat: their GFP_ATOMIC allocations (interrupts do not nest). */
struct lab_fr_isr_counts {
	uint64_t rng, seq;
	uint64_t allocs, kept, failed;
	struct lab_fr_lat lat;
	uint64_t foreign, foreign_refused;
};

struct lab_fr;
struct lab_fr_misuse;
struct lab_fr_relaxed;

struct lab_fr_worker {
	struct lab_fr *fr;
	pthread_t thread;
	unsigned idx;
	uint32_t ctx_id;
	uint64_t rng, seq, quota, nops;
	struct lab_fr_block *held;
	unsigned nheld, held_max;
	struct lab_fr_mailbox box;
	struct lab_fr_rx rx;
	/* an exclusive block we hold, for interrupts to try to touch;
	 * cleared before the block leaves our hands */
	_Atomic(void *) victim;
	atomic_bool ready;	     /* accepting interrupts */
	atomic_ullong ops, isr_runs; /* progress, read by main */
	/* Time interrupts took on this thread: each SIGUSR1 handler from its
	 * first to its last instruction, and each interrupt deferred to
	 * lab_local_irq_restore for its routine.  Added at the end of the
	 * interrupt, only on this thread (atomics for the signal handler). */
	atomic_ullong irq_ns;
	atomic_bool in_handler; /* inside the SIGUSR1 handler now */
	struct lab_fr_counts c;
	struct lab_fr_isr_counts isr;
};

/* Blocks anyone may free, like clean page cache: the reclaim callback
 * frees them when GFP_KERNEL needs memory (pressure profile). */
struct lab_fr_pool {
	pthread_mutex_t lock;
	struct lab_fr_block *item;
	size_t n, cap, peak;
	uint64_t calls, stalls, frames;
};

/* A finding recorded from any context, signal handlers included. */
struct lab_fr_finding {
	atomic_bool ready;
	const char *kind, *where; /* static strings */
	int thread;
	uint64_t op;
	char message[200];
};

struct lab_fr {
	const struct lab_opts *o;
	unsigned captured_before; /* lab_capture_saved() at the start */
	const struct lab_fr_profile *prof;
	struct lab_maze *maze;
	size_t page_size;
	unsigned nworkers;
	struct lab_fr_worker *w;
	/* start and stop: workers wait for go (> 0 run, < 0 set-up failed),
	 * meet at `started` once every context id is known, and at the end
	 * meet main at `stopped` (all stopped) and `snapped` (main took its
	 * snapshot) before freeing what they hold */
	atomic_int go;
	atomic_bool stop;
	atomic_uint finished;
	pthread_barrier_t started, stopped, snapped;
	struct lab_fr_pool pool;
	/* checking */
	struct lab_fr_finding rec[LAB_FR_FINDINGS_MAX];
	atomic_uint nrec;
	atomic_ullong expected_reports, stamps_verified, delays;
	struct lab_fr_misuse *misuse;	/* misuse profile only */
	struct lab_fr_relaxed *relaxed; /* relaxed profile only */
};

/* "latency.c" (lab_lat_add is async-signal-safe) */
void lab_lat_add(struct lab_lat_hist *h, uint64_t ns);
void lab_lat_merge(struct lab_lat_hist *into, const struct lab_lat_hist *h);
/* The value at quantile per_100k / 100000 (99900: p99.9) as the upper
 * edge of its bucket, at most the maximum; 0 when empty. */
uint64_t lab_lat_quantile(const struct lab_lat_hist *h, unsigned per_100k);
/* The run record's row for h. */
void lab_lat_summarize(const struct lab_lat_hist *h, const char *cls,
		       const char *context, struct lab_latency *out);

/* "free_work.c" */
const struct lab_fr_profile *lab_fr_profile_find(const char *name);
/* This worker's task clock: wall time minus the interrupt time taken on
 * its thread so far, so the difference of two readings leaves out every
 * interrupt that ran in between.  Async-signal-safe. */
uint64_t lab_fr_task_ns(struct lab_fr_worker *w);
/* lab_get_free_pages, its latency added to l (on the task clock, and one
 * call in LAB_FR_CPU_SAMPLE on the CPU clock).  Async-signal-safe. */
void *lab_fr_timed_alloc(struct lab_fr *fr, struct lab_fr_worker *w,
			 lab_gfp_t gfp, unsigned order, struct lab_fr_lat *l);
/* The worker thread: operations until stopped or its quota is done, then
 * the two barriers, freeing everything it holds in between. */
void *lab_fr_worker_main(void *arg);
/* SIGUSR1 handler: raises the simulated interrupt on this thread. */
void lab_fr_on_signal(int sig);
/* Sets the run the signal handler serves (before any signal). */
void lab_fr_set_current(struct lab_fr *fr);
/* Reclaim callback (pressure): frees pool blocks, sometimes stalls. */
unsigned long lab_fr_reclaim(struct lab_maze *maze, unsigned long target,
			     void *arg);
/* Frees every pool block (main, after the workers are joined). */
void lab_fr_pool_drain(struct lab_fr *fr);
/* Installs (or removes) the yield hook that injects short delays; at
 * quiescent points only. */
void lab_fr_delays(struct lab_fr *fr, bool on);

/* "free_misuse.c" */
/* Set-up (main, before the workers start): private mazes and contexts
 * of the misuse profile, the channel of the relaxed one.  0 or -1. */
int lab_fr_extra_create(struct lab_fr *fr);
void lab_fr_extra_destroy(struct lab_fr *fr);
/* One deliberate misuse, chosen at random (worker, process context). */
void lab_fr_op_misuse(struct lab_fr *fr, struct lab_fr_worker *w);
/* Main, after the joins, before the final checks: the acts that need a
 * quiescent maze, then the coverage check (detector-silent findings). */
void lab_fr_misuse_finish(struct lab_fr *fr);
/* Main's watch tick: a failure plan racing with the workers. */
void lab_fr_misuse_tick(struct lab_fr *fr);
/* The coverage table for the summary (misuse profile only). */
void lab_fr_misuse_print(const struct lab_fr *fr);

/* "free_relaxed.c" */
int lab_fr_relaxed_create(struct lab_fr *fr);
void lab_fr_relaxed_destroy(struct lab_fr *fr);
/* Hands a held block to another worker through the relaxed channel. */
void lab_fr_op_relaxed(struct lab_fr *fr, struct lab_fr_worker *w);
/* Takes what the channel brought us (every step); `keep` as
 * lab_fr_take_mail's. */
void lab_fr_relaxed_receive(struct lab_fr *fr, struct lab_fr_worker *w,
			    bool keep);
void lab_fr_relaxed_print(const struct lab_fr *fr);

/* "free_work.c" (used by the profiles of other files too) */
void lab_fr_hold(struct lab_fr_worker *w, const struct lab_fr_block *b);
struct lab_fr_block lab_fr_take(struct lab_fr_worker *w, unsigned i);
unsigned lab_fr_rand(uint64_t *rng, unsigned n);

/* "free_check.c" (everything async-signal-safe unless noted) */
/* The worker running on this thread (NULL on main). */
void lab_fr_set_self(struct lab_fr_worker *w);
struct lab_fr_worker *lab_fr_self(void);
void lab_fr_stamp(struct lab_fr *fr, const struct lab_fr_block *b);
/* Verifies every frame's stamp; a mismatch is a `stamp-mismatch` finding
 * naming `where`.  True if all match. */
bool lab_fr_verify(struct lab_fr *fr, const struct lab_fr_block *b,
		   const char *where);
/* Verifies and frees; a refused free is a finding too. */
void lab_fr_free_block(struct lab_fr *fr, const struct lab_fr_block *b,
		       const char *where);
/* Records a finding: kind and where must be static strings. */
void lab_fr_note(struct lab_fr *fr, const char *kind, const char *where,
		 const char *message);
/* The maze's report hook: a report the calling thread announced with
 * lab_fr_expect() is counted; any other is a finding. */
void lab_fr_on_report(const struct lab_report *r, void *arg);
/* Announces one report of `kind` on this thread (-1: none).  Interrupts
 * save and restore the announcement around their own work. */
void lab_fr_expect(int kind);
/* Announces one report by detector `det` (of its kind): a report of the
 * kind from another detector is a `wrong-detector` finding. */
void lab_fr_expect_detector(unsigned det);
/* The same for every report by `det` until lab_fr_expect_met (a check
 * that reports each problem it finds).  Not across interrupts: the
 * interrupt's own announcement ends it. */
void lab_fr_expect_repeat(unsigned det);
int lab_fr_expect_save(void);
void lab_fr_expect_restore(int saved);
/* True if the announced report arrived; clears the announcement. */
bool lab_fr_expect_met(void);
/* Number of findings; the first as a struct lab_finding (not async-
 * signal-safe; call after the workers are joined). */
unsigned lab_fr_findings(struct lab_fr *fr, struct lab_finding *first);

#endif /* LAB_FREE_RUN_H */
