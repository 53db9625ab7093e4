/* labyrinth/c11.h - a C11 memory model for the instrumented atomics of a
 * controlled schedule (issue 13).
 *
 * The controlled scheduler runs one logical thread at a time, so without
 * a model every load sees the latest store: schedules are sequentially
 * consistent and a weakened memory order changes nothing they can show.
 * With the model installed (lab_c11_install, or lab_c11_perform called
 * directly), every scheduled atomic operation goes through it:
 *
 *  - each logical thread has a vector clock; each atomic location (keyed
 *    by address, in a fixed hash table) a bounded history of stores in
 *    modification order, each with its value, writer, the writer's epoch,
 *    and the clock an acquire reader of it gets (its release sequences);
 *  - a load may read any store of the history that coherence and
 *    happens-before allow: not older than a store that the thread, or
 *    anything that happens before the load, has already read or written
 *    (CoRR, CoWR; stores always go last in modification order, so CoRW
 *    and CoWW hold by construction).  WHICH of those it reads is a choice
 *    given to the caller's choose(arg, n) callback: 0 is the newest store
 *    (what the SC execution reads), n - 1 the oldest allowed;
 *  - release stores (and stores after a release fence) head release
 *    sequences, RMWs continue them, a store by another thread ends them
 *    (C11's rule: a store by the head's own thread continues it); an
 *    acquire load that reads a store of a sequence joins the head's clock;
 *    relaxed loads make no happens-before, but an acquire fence later in
 *    the thread joins what they read;
 *  - seq_cst: seq_cst loads read the newest store in modification order,
 *    and seq_cst operations otherwise act as acq_rel.  Since one thread
 *    runs at a time, the newest store is the one last in the execution's
 *    own total order, so every seq_cst load is consistent with a single
 *    total order S (the execution order).  seq_cst fences synchronise
 *    with every earlier seq_cst fence and seq_cst store or RMW (a clock
 *    passed along S), so that what C11 says reads after a seq_cst fence
 *    must see, they see: that is stronger than C11 (which only constrains
 *    those reads, it makes no happens-before) and may hide bugs that only
 *    a weaker seq_cst fence shows;
 *  - a thread whose last LAB_C11_STALE_RUN_MAX loads all read an older
 *    store reads the newest next (C11: stores become visible "within a
 *    reasonable amount of time"), so a spin-wait on a flag ends instead
 *    of looking like a livelock;
 *  - RMWs (exchange, fetch_*, a successful compare-exchange, test-and-set)
 *    read the newest store.  A failed compare-exchange also reads the
 *    newest (C11 would allow an older one), and a weak compare-exchange
 *    never fails spuriously: both give fewer behaviours, never a wrong one.
 *
 * What the model cannot produce: a load reads only stores already
 * executed, so outcomes that need a load to read a store that comes later
 * in the execution (load buffering's r1 = r2 = 1, "out of thin air") are
 * never reached - the limit shared by c11tester-style models without
 * promises.
 *
 * Memory stays the truth for the newest store: stores and RMWs are
 * carried out on the real object (lab_atomic_perform_sc, so TSan sees the
 * real atomics and at least the model's happens-before), loads of an old
 * store return the old value without touching it.  A location whose
 * memory no longer holds the newest modelled value was written outside
 * the model (set-up on main, a plain write, memset): its history restarts
 * from that value, visible to every thread.  A location first reached
 * with another size restarts the same way.  Overlapping locations of
 * different addresses (a 64-bit word also used as two 32-bit halves) are
 * modelled independently: not supported.
 *
 * Bounds, fixed at creation (no allocation per operation):
 *  - history: stores kept per location; when it is full the oldest is
 *    dropped, so fewer stale reads are possible, never a wrong one;
 *  - locations: the table's size; a location that finds the table full
 *    is not modelled: its operations read the newest store and are fully
 *    synchronising (they pass a clock along the execution order), which
 *    hides bugs there but reports none that is not real (stats.overflow).
 *
 * Plain memory (lab_c11_plain_read/write): a cheap race check on
 * annotated plain accesses, per start address: the last write (thread,
 * epoch, site) and each thread's last read since.  An access that the
 * chosen reads-from leaves unordered with a conflicting one is reported
 * to the race callback.  Plain values are not simulated: a plain read
 * always sees memory (the newest write), so a stale plain value shows up
 * as the race, not as the value.
 *
 * Threads: logical threads 0 .. threads-1; an interrupt injected on a
 * thread is part of that thread.  The model is not thread-safe: one model
 * per OS thread running schedules.
 */
#ifndef LABYRINTH_C11_H
#define LABYRINTH_C11_H

#include <stddef.h>
#include <stdint.h>

#include "labyrinth/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LAB_C11_MAX_THREADS 8
#define LAB_C11_HISTORY_MAX 64
#define LAB_C11_HISTORY_DEFAULT 8
#define LAB_C11_LOCATIONS_MAX (1u << 20)
#define LAB_C11_LOCATIONS_DEFAULT 4096
/* After this many loads in a row that read an older store, a thread's
 * next load reads the newest (a spin-wait ends). */
#define LAB_C11_STALE_RUN_MAX 16

/* A plain access that races with an earlier one. */
struct lab_c11_race {
	const volatile void *addr;
	size_t len;
	bool write;	  /* the access now */
	unsigned thread;  /* its thread */
	lab_site_t site;  /* its site */
	bool other_write; /* the earlier access it is unordered with */
	unsigned other_thread;
	lab_site_t other_site;
};

struct lab_c11_config {
	unsigned threads;   /* 1 .. LAB_C11_MAX_THREADS */
	unsigned history;   /* 1 .. LAB_C11_HISTORY_MAX stores per location */
	unsigned locations; /* 1 .. LAB_C11_LOCATIONS_MAX (rounded up to a
			     * power of two; 3/4 of it may be used) */
	/* Which of n >= 2 allowed stores a load reads: 0 the newest, n - 1
	 * the oldest; a value >= n is folded (% n), so a mutated recorded
	 * choice still fits.  Called only when there is a choice.  NULL:
	 * always 0 (the SC execution). */
	unsigned (*choose)(void *arg, unsigned n_candidates);
	void *choose_arg;
	/* The logical thread running now (lab_c11_install's entry point
	 * asks it at every operation); < 0 or >= threads: not a logical
	 * thread, the operation is carried out as in SC mode.  NULL: every
	 * operation is thread 0's. */
	int (*current)(void *arg);
	void *current_arg;
	/* A data race on annotated plain memory; NULL: counted only. */
	void (*race)(void *arg, const struct lab_c11_race *r);
	void *race_arg;
};

struct lab_c11_stats {
	unsigned long long ops;	     /* operations through the model */
	unsigned long long loads;    /* loads (and failed compare-exchanges) */
	unsigned long long choices;  /* loads with n >= 2 candidates */
	unsigned long long stale;    /* loads that read an older store */
	unsigned long long dropped;  /* stores dropped from a full history */
	unsigned long long restarts; /* histories restarted (outside write) */
	unsigned long long overflow; /* ops on locations the table had no
				      * room for */
	unsigned long long races;    /* plain races found */
};

struct lab_c11;

/* Creates a model (all its tables, once): NULL with one line in err
 * ("labyrinth: ...") for a bad configuration or no memory. */
struct lab_c11 *lab_c11_create(const struct lab_c11_config *cfg, char *err,
			       size_t errlen);
void lab_c11_destroy(struct lab_c11 *m);
/* Starts a new execution: forgets every location and clock (O(1)). */
void lab_c11_reset(struct lab_c11 *m);
/* Carries out op for logical thread `thread` (< threads) under the
 * model; returns what lab_atomic_perform returns. */
lab_u64_t lab_c11_perform(struct lab_c11 *m, unsigned thread,
			  const struct lab_atomic_op *op);
/* The entry point lab_atomic_set_model takes: lab_c11_perform for
 * cfg->current's thread. */
lab_u64_t lab_c11_model_entry(void *model, const struct lab_atomic_op *op);
/* Routes the calling OS thread's scheduled operations through m (NULL:
 * back to the SC path). */
void lab_c11_install(struct lab_c11 *m);

/* Annotated plain accesses of `thread` (see above). */
void lab_c11_plain_read(struct lab_c11 *m, unsigned thread,
			const volatile void *addr, size_t len, lab_site_t site);
void lab_c11_plain_write(struct lab_c11 *m, unsigned thread,
			 const volatile void *addr, size_t len,
			 lab_site_t site);
/* The first race since the last call (or the reset), taken: true and
 * *out filled, or false.  For callers that must report it after leaving
 * the model, on the racing thread's own stack (TSan sees the model's
 * tables through its ignores only). */
bool lab_c11_take_race(struct lab_c11 *m, struct lab_c11_race *out);
/* The memory [addr, addr + len) was freed or reused: its atomic
 * locations and plain records start afresh (O(table size)). */
void lab_c11_forget(struct lab_c11 *m, const volatile void *addr, size_t len);

/* The stale-permille strategy for choose() under random walk and PCT:
 * with n >= 2 candidates, an older store (uniform among 1 .. n-1) with
 * probability permille/1000, else 0 (the newest); advances *rng
 * (SplitMix64).  permille 0 is the SC execution, 1000 never the newest. */
unsigned lab_c11_pick_stale(uint64_t *rng, unsigned permille, unsigned n);

/* Counters since creation. */
void lab_c11_stats(const struct lab_c11 *m, struct lab_c11_stats *out);

/* Parses a history bound as given on a command line ("8"): 0, or -1 with
 * one line in err for 0, junk or a value above LAB_C11_HISTORY_MAX. */
int lab_c11_parse_history(const char *s, unsigned *out, char *err,
			  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_C11_H */
