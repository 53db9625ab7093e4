/* labyrinth/c11_sched.h - running a labyrinth/sched.h test under the C11
 * memory model (labyrinth/c11.h).
 *
 * lab_c11_wrap() makes a copy of a test whose set-up starts the model
 * afresh and installs it, and whose tear-down removes it; run, replay and
 * shrink the copy (w->test) with the scheduler's own functions.  Which
 * store a load reads is drawn with the stale-permille strategy from a
 * stream seeded by the test's seed, restarted at every schedule: the same
 * decisions give the same reads, so a replay of an artifact (with
 * lab_c11_wrap_seed(w, artifact->seed)) is exact, and shrink's runs stay
 * deterministic.  What this does not do yet: the reads-from choices are
 * not decisions of the scheduler's trace, so shrink cannot minimise them
 * and fuzz_sched cannot mutate them (a stale read is reproduced through
 * the seed, not through the artifact's list).
 *
 * A data race on annotated plain memory (lab_c11_sched_plain_read/write)
 * ends the run with a "data-race" finding naming both sites.
 *
 * One wrapped test runs at a time per OS thread (the scheduler's own
 * rule); the thread functions and callbacks get the test's own arg.
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
	/* private */
	const struct lab_sched_test *inner;
	struct lab_c11 *model;
	uint64_t seed, rng;
	unsigned stale_permille;
};

/* Wraps t (which must outlive w): 0, or -1 with one line in err for bad
 * options (history 0, stale-permille above 1000, too many threads). */
int lab_c11_wrap(struct lab_c11_run *w, const struct lab_sched_test *t,
		 const struct lab_c11_sched_opts *o, char *err, size_t errlen);
/* The seed of the reads-from stream (an artifact's, for a replay). */
void lab_c11_wrap_seed(struct lab_c11_run *w, uint64_t seed);
void lab_c11_unwrap(struct lab_c11_run *w);
/* The model's counters (sums over every schedule run so far). */
void lab_c11_wrap_stats(const struct lab_c11_run *w, struct lab_c11_stats *s);

/* Annotated plain accesses of the running logical thread (no-ops outside
 * a wrapped run). */
void lab_c11_sched_plain_read(const volatile void *addr, size_t len,
			      lab_site_t site);
void lab_c11_sched_plain_write(const volatile void *addr, size_t len,
			       lab_site_t site);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_C11_SCHED_H */
