/* labyrinth/c11_sched.h - running a labyrinth/sched.h test under the C11
 * memory model (labyrinth/c11.h), and the annotated plain accesses of
 * code that runs in such a test.
 *
 * The model is part of the test: set struct lab_sched_test's memory to
 * LAB_SCHED_MEM_C11 (with history, stale_permille, locations) and run,
 * replay and shrink it with the scheduler's own functions.  Every load
 * the model gives a choice of stores takes a reads-from decision of the
 * scheduler's trace (labyrinth/sched.h, LAB_SCHED_DEC_READ): random walk
 * and PCT draw it from the run's seeded stream, a list follows it, an
 * artifact records it, so a stale read replays exactly from the
 * artifact's decisions, shrink minimises it (turns it into the newest
 * store where the finding still comes back), and a fuzz target that
 * decodes decisions reaches it.
 *
 * lab_c11_wrap() is the older way to the same: a copy of a test with the
 * memory fields set from options (kept for its callers).
 *
 * A data race on annotated plain memory (lab_c11_sched_plain_read/write)
 * ends the run with a "data-race" finding naming both sites.
 *
 * One test runs at a time per OS thread (the scheduler's own rule).
 */
#ifndef LABYRINTH_C11_SCHED_H
#define LABYRINTH_C11_SCHED_H

#include "labyrinth/c11.h"
#include "labyrinth/sched.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lab_c11_sched_opts {
	unsigned history;	 /* stores per location, 1..64 */
	unsigned stale_permille; /* 0..1000: chance a load reads older */
	unsigned locations;	 /* 0: LAB_C11_LOCATIONS_DEFAULT */
};

struct lab_c11_run {
	struct lab_sched_test test; /* run, replay, shrink this one */
};

/* Copies t (memory c11 with o's bounds) into w->test: 0, or -1 with one
 * line in err for bad options (history 0 or above 64, stale-permille
 * above 1000, too many threads). */
int lab_c11_wrap(struct lab_c11_run *w, const struct lab_sched_test *t,
		 const struct lab_c11_sched_opts *o, char *err, size_t errlen);
/* Sets the copy's seed (reads-from choices are decisions now: a replay
 * needs no seed of its own; kept for older callers). */
void lab_c11_wrap_seed(struct lab_c11_run *w, uint64_t seed);
void lab_c11_unwrap(struct lab_c11_run *w);
/* The counters of this OS thread's model (sums over every c11 schedule
 * run in this process since the model was created; zero before). */
void lab_c11_wrap_stats(const struct lab_c11_run *w, struct lab_c11_stats *s);
void lab_sched_memory_stats(struct lab_c11_stats *s);

/* Annotated plain accesses of the running logical thread (no-ops in SC
 * mode, on main and outside a run). */
void lab_c11_sched_plain_read(const volatile void *addr, size_t len,
			      lab_site_t site);
void lab_c11_sched_plain_write(const volatile void *addr, size_t len,
			       lab_site_t site);
/* [addr, addr + len) was freed or reused: the model forgets its atomic
 * locations and plain records there, so the next user starts afresh
 * (O(model table size); a no-op outside a c11 run). */
void lab_c11_sched_forget(const volatile void *addr, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_C11_SCHED_H */
