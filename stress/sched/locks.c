/* locks.c - scheduler-aware pthread locks, condition variables, yields and
 * sleeps for instrumented code (the shim's pthread.h, sched.h, time.h,
 * unistd.h map the real names here).
 *
 * Outside a controlled schedule every wrapper is the real call, after one
 * branch on lab_sched_active().  Inside one, all logical threads run one
 * at a time on fibers of one OS thread, so no wrapper may block in the
 * kernel: a mutex held by another logical thread would be held by "this"
 * OS thread, and a real lock would hang it.  So:
 *
 *   lock     a scheduling point, then the real trylock; while it is busy,
 *            lab_sched_block until the mutex looks free (the holder runs;
 *            if it never unlocks, the scheduler reports a deadlock).
 *   trylock  a scheduling point (a spinning one when the mutex looks
 *            held: a trylock loop lets the holder run), then the real one.
 *   unlock   a scheduling point, then the real unlock.
 *   spin     the real trylock, lab_sched_spin while it is busy.
 *   cond     wait = point, unlock + enqueue (no point between: atomic as
 *            in POSIX), block until signalled (or, timed, until logical
 *            time passes), relock.  signal wakes the oldest waiter of that
 *            condition, broadcast all; a signal without waiters is lost.
 *   yield, usleep, nanosleep: lab_sched_spin, return 0 without sleeping.
 *
 * "Looks free" reads glibc's lock word (the public pthread_mutex_t layout);
 * elsewhere a busy mutex is retried with lab_sched_spin.  The owner of a
 * real mutex is the OS thread, shared by every logical thread, so a
 * recursive mutex cannot tell its logical owner: the wrapper says so once
 * on stderr (see docs/own-allocator.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "labyrinth/sched_instr.h"
#include "labyrinth/sched_point.h"

/* This file implements what the shim calls: compiled through the shim,
 * every operation here would call itself. */
#if defined(LAB_INSTRUMENT) || defined(LAB_SHIM_ATOMIC_H) || \
	defined(LAB_SHIM_PTHREAD_H)
#error "labyrinth: compile the instrumentation library without the shim (no labyrinth_instrument, -include lab_shim_atomic.h or -I<shim>)"
#endif

/* ---- mutexes -------------------------------------------------------- */

#ifdef __GLIBC__
static bool lab_mutex_looks_free(void *arg)
{
	pthread_mutex_t *m = arg;

	return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0;
}

static void lab_mutex_note_recursive(pthread_mutex_t *m, lab_site_t site)
{
	static bool said;

	if ((m->__data.__kind & 3) == PTHREAD_MUTEX_RECURSIVE && !said) {
		said = true;
		fprintf(stderr,
			"labyrinth: recursive mutex at %s: in a controlled "
			"schedule its owner is the OS thread, not the logical "
			"thread; relocking by another logical thread is not "
			"modelled\n",
			site);
	}
}
#else
static void lab_mutex_note_recursive(pthread_mutex_t *m, lab_site_t site)
{
	(void)m;
	(void)site;
}
#endif

/* A lock taken inside a schedule (rc 0) orders what its holders did in
 * the memory model too. */
static int lab_locked(int rc, const volatile void *lock)
{
	if (!rc)
		lab_sched_memory_sync(lock);
	return rc;
}

/* Takes m inside a schedule, blocking (through the scheduler) while
 * another logical thread holds it.  No scheduling point of its own. */
static int lab_mutex_take_scheduled(pthread_mutex_t *m, lab_site_t site)
{
	int rc;

	lab_mutex_note_recursive(m, site);
	while ((rc = pthread_mutex_trylock(m)) == EBUSY) {
#ifdef __GLIBC__
		lab_sched_block(site, lab_mutex_looks_free, m, false);
#else
		lab_sched_spin(site);
#endif
	}
	return lab_locked(rc, m);
}

int lab_pthread_mutex_lock(pthread_mutex_t *m, lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_mutex_lock(m);
	lab_sched_point(site);
	return lab_mutex_take_scheduled(m, site);
}

int lab_pthread_mutex_trylock(pthread_mutex_t *m, lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_mutex_trylock(m);
#ifdef __GLIBC__
	if (!lab_mutex_looks_free(m))
		lab_sched_spin(site);
	else
#endif
		lab_sched_point(site);
	return lab_locked(pthread_mutex_trylock(m), m);
}

int lab_pthread_mutex_unlock(pthread_mutex_t *m, lab_site_t site)
{
	if (__builtin_expect(lab_sched_active(), 0)) {
		lab_sched_point(site);
		lab_sched_memory_sync(m);
	}
	return pthread_mutex_unlock(m);
}

/* ---- spin locks ----------------------------------------------------- */

int lab_pthread_spin_lock(pthread_spinlock_t *l, lab_site_t site)
{
	int rc;

	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_spin_lock(l);
	lab_sched_point(site);
	while ((rc = pthread_spin_trylock(l)) == EBUSY)
		lab_sched_spin(site);
	return lab_locked(rc, l);
}

int lab_pthread_spin_trylock(pthread_spinlock_t *l, lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_spin_trylock(l);
	lab_sched_point(site);
	return lab_locked(pthread_spin_trylock(l), l);
}

int lab_pthread_spin_unlock(pthread_spinlock_t *l, lab_site_t site)
{
	if (__builtin_expect(lab_sched_active(), 0)) {
		lab_sched_point(site);
		lab_sched_memory_sync(l);
	}
	return pthread_spin_unlock(l);
}

/* ---- condition variables -------------------------------------------- */

/* A waiter of a schedule.  Records live per OS thread (the schedule's
 * logical threads share it) in a fixed table, so an abandoned schedule
 * leaves stale records, never dangling pointers; lab_instr_reset()
 * clears them. */
struct lab_cond_waiter {
	const pthread_cond_t *cond; /* NULL: slot free */
	unsigned long long ticket;  /* arrival order */
	bool woken;
};

#define LAB_COND_WAITERS 256

static _Thread_local struct lab_cond_table {
	struct lab_cond_waiter w[LAB_COND_WAITERS];
	unsigned long long next_ticket;
} lab_conds;

void lab_instr_reset(void)
{
	for (unsigned i = 0; i < LAB_COND_WAITERS; i++)
		lab_conds.w[i].cond = NULL;
	lab_conds.next_ticket = 0;
}

static struct lab_cond_waiter *lab_cond_enqueue(const pthread_cond_t *c)
{
	for (unsigned i = 0; i < LAB_COND_WAITERS; i++) {
		struct lab_cond_waiter *w = &lab_conds.w[i];

		if (!w->cond) {
			w->cond = c;
			w->ticket = lab_conds.next_ticket++;
			w->woken = false;
			return w;
		}
	}
	return NULL;
}

/* The oldest waiter of c not yet woken, or NULL. */
static struct lab_cond_waiter *lab_cond_oldest(const pthread_cond_t *c)
{
	struct lab_cond_waiter *best = NULL;

	for (unsigned i = 0; i < LAB_COND_WAITERS; i++) {
		struct lab_cond_waiter *w = &lab_conds.w[i];

		if (w->cond == c && !w->woken &&
		    (!best || w->ticket < best->ticket))
			best = w;
	}
	return best;
}

static bool lab_cond_woken(void *arg)
{
	return ((const struct lab_cond_waiter *)arg)->woken;
}

static bool lab_timespec_valid(const struct timespec *t)
{
	return t && t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

/* The modelled wait: returns 0, ETIMEDOUT (timed, nobody signalled
 * before logical time passed) or the relock's error. */
static int lab_cond_wait_scheduled(pthread_cond_t *c, pthread_mutex_t *m,
				   bool timed, lab_site_t site)
{
	struct lab_cond_waiter *w;
	bool timed_out = false;
	int rc;

	lab_sched_point(site);
	w = lab_cond_enqueue(c);
	lab_sched_memory_sync(m);
	if ((rc = pthread_mutex_unlock(m))) {
		if (w)
			w->cond = NULL;
		return rc;
	}
	if (!w) {
		/* More waiters than records: a spurious wakeup, which POSIX
		 * allows, rather than a wait nobody can end. */
		lab_sched_spin(site);
	} else {
		lab_sched_block(site, lab_cond_woken, w, timed);
		timed_out = !w->woken;
		w->cond = NULL;
	}
	rc = lab_mutex_take_scheduled(m, site);
	if (!rc && w && timed_out && timed)
		rc = ETIMEDOUT;
	return rc;
}

int lab_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
			  lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_cond_wait(c, m);
	return lab_cond_wait_scheduled(c, m, false, site);
}

int lab_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
			       const struct timespec *abstime, lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_cond_timedwait(c, m, abstime);
	if (!lab_timespec_valid(abstime))
		return EINVAL;
	return lab_cond_wait_scheduled(c, m, true, site);
}

int lab_pthread_cond_signal(pthread_cond_t *c, lab_site_t site)
{
	struct lab_cond_waiter *w;

	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_cond_signal(c);
	lab_sched_point(site);
	if ((w = lab_cond_oldest(c)))
		w->woken = true;
	return 0;
}

int lab_pthread_cond_broadcast(pthread_cond_t *c, lab_site_t site)
{
	struct lab_cond_waiter *w;

	if (__builtin_expect(!lab_sched_active(), 1))
		return pthread_cond_broadcast(c);
	lab_sched_point(site);
	while ((w = lab_cond_oldest(c)))
		w->woken = true;
	return 0;
}

/* ---- yields and sleeps ---------------------------------------------- */

int lab_sched_yield(lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return sched_yield();
	lab_sched_spin(site);
	return 0;
}

int lab_nanosleep(const struct timespec *req, struct timespec *rem,
		  lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return nanosleep(req, rem);
	if (!lab_timespec_valid(req) || req->tv_sec < 0) {
		errno = EINVAL;
		return -1;
	}
	lab_sched_spin(site);
	if (rem)
		*rem = (struct timespec){ 0 };
	return 0;
}

int lab_usleep(unsigned int usec, lab_site_t site)
{
	if (__builtin_expect(!lab_sched_active(), 1))
		return usleep(usec);
	lab_sched_spin(site);
	return 0;
}
