/* labyrinth/sched_point.h - the contract between instrumented code and the
 * controlled scheduler.
 *
 * Instrumented code (labyrinth/atomic.h, the <stdatomic.h> and pthread
 * shims, the allocator's own yield points) calls these entry points; the
 * controlled scheduler (labyrinth/sched.h) implements them.  Outside a
 * controlled schedule every entry point returns at once and blocks
 * nothing, so instrumented code then behaves exactly as plain code.
 *
 * A site names where a scheduling point is, for positions in findings,
 * artifacts and interleaving coverage: a string with static storage
 * (LAB_SITE gives "file.c:123 what"), compared by pointer, never freed.
 */
#ifndef LABYRINTH_SCHED_POINT_H
#define LABYRINTH_SCHED_POINT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef const char *lab_site_t;

#define LAB_SITE_STR2_(x) #x
#define LAB_SITE_STR_(x) LAB_SITE_STR2_(x)
#define LAB_SITE(what) (__FILE__ ":" LAB_SITE_STR_(__LINE__) " " what)

/* True while the calling thread runs as a logical thread of a controlled
 * schedule (also inside an interrupt the scheduler injected on it). */
bool lab_sched_active(void);

/* A scheduling point: the scheduler may run another logical thread here,
 * or inject the test's interrupt routine on this one. */
void lab_sched_point(lab_site_t site);

/* A scheduling point of a thread that cannot progress until another runs
 * (a spin-wait, a failed trylock, sched_yield, a sleep): the scheduler
 * prefers the others (PCT drops this thread below every priority). */
void lab_sched_spin(lab_site_t site);

/* Blocks the calling logical thread until ready(arg) is true; the
 * scheduler evaluates ready() between decisions, on its own stack, so it
 * must only read memory.  With timed, the thread may instead time out when
 * no logical thread can run (logical time passes): returns -ETIMEDOUT,
 * else 0.  When every thread is blocked and none is timed, the schedule
 * ends with a deadlock finding naming every thread's position and this
 * call does not return.  Outside a schedule: returns 0 at once (the caller
 * falls back to its real blocking primitive). */
int lab_sched_block(lab_site_t site, bool (*ready)(void *arg), void *arg,
		    bool timed);

/* A lock (or a harness handoff) on obj, for the C11 memory model of a
 * c11-mode run (labyrinth/c11.h): the happens-before a real lock gives,
 * as an acquire-release read-modify-write of a token of obj, so atomics
 * ordered by the lock are ordered in the model too.  Call it after a
 * lock is taken and before it is released.  No scheduling point; a
 * no-op outside a c11-mode run. */
void lab_sched_memory_sync(const volatile void *obj);

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_SCHED_POINT_H */
