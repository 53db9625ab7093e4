/* fake_sched.h - a small seeded scheduler on fibers that implements
 * labyrinth/sched_point.h, so the instrumentation's tests can run
 * instrumented code inside schedules without the real scheduler.  All
 * logical threads run on the calling OS thread, one at a time, switching
 * only at the contract's entry points, as in the real one. */
#ifndef LAB_FAKE_SCHED_H
#define LAB_FAKE_SCHED_H

#include <stdint.h>

#define LAB_FAKE_MAX 4

struct lab_fake_result {
	int deadlock;		 /* every live thread blocked, none timed */
	unsigned blocked_at_end; /* threads left blocked */
	unsigned long points, spins, blocks, timeouts;
};

/* The logical thread running now, -1 when none (the scheduler runs). */
int lab_fake_current(void);

/* Runs fn(0..n-1) as n logical threads with choices from seed; fills r. */
void lab_fake_run(unsigned n, void (*fn)(unsigned id), uint64_t seed,
		  struct lab_fake_result *r);

#endif
