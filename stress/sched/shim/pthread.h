/* pthread.h - labyrinth's shim over <pthread.h>: mutexes, spin locks and
 * condition variables that are scheduler-aware (stress/sched/locks.c).
 *
 * Each wrapped call becomes lab_pthread_*(..., site) with a site naming
 * the caller's file:line.  Outside a controlled schedule the wrapper is
 * the real call.  Inside one, a lock held by another logical thread blocks
 * through lab_sched_block until it looks free, a spin lock spins through
 * lab_sched_spin, and a condition variable is modelled (wait = unlock,
 * block until signalled, relock).  Wrapped by macro rather than by the
 * linker's --wrap: only code compiled with the shim is affected, never
 * the harness's own locks or an uninstrumented library
 * (docs/own-allocator.md).  Calls through a function pointer
 * (&pthread_mutex_lock) reach the real function.
 */
#pragma GCC system_header

#include_next <pthread.h>

#ifndef LAB_SHIM_PTHREAD_H
#define LAB_SHIM_PTHREAD_H

#include "labyrinth/sched_point.h"

int lab_pthread_mutex_lock(pthread_mutex_t *m, lab_site_t site);
int lab_pthread_mutex_trylock(pthread_mutex_t *m, lab_site_t site);
int lab_pthread_mutex_unlock(pthread_mutex_t *m, lab_site_t site);
int lab_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
			  lab_site_t site);
int lab_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
			       const struct timespec *abstime, lab_site_t site);
int lab_pthread_cond_signal(pthread_cond_t *c, lab_site_t site);
int lab_pthread_cond_broadcast(pthread_cond_t *c, lab_site_t site);

#define pthread_mutex_lock(m) \
	lab_pthread_mutex_lock((m), LAB_SITE("pthread_mutex_lock"))
#define pthread_mutex_trylock(m) \
	lab_pthread_mutex_trylock((m), LAB_SITE("pthread_mutex_trylock"))
#define pthread_mutex_unlock(m) \
	lab_pthread_mutex_unlock((m), LAB_SITE("pthread_mutex_unlock"))
#define pthread_cond_wait(c, m) \
	lab_pthread_cond_wait((c), (m), LAB_SITE("pthread_cond_wait"))
#define pthread_cond_timedwait(c, m, t)           \
	lab_pthread_cond_timedwait((c), (m), (t), \
				   LAB_SITE("pthread_cond_timedwait"))
#define pthread_cond_signal(c) \
	lab_pthread_cond_signal((c), LAB_SITE("pthread_cond_signal"))
#define pthread_cond_broadcast(c) \
	lab_pthread_cond_broadcast((c), LAB_SITE("pthread_cond_broadcast"))

/* Spin locks exist where the C library declares them (glibc: POSIX
 * 2001 and later, e.g. _POSIX_C_SOURCE >= 200112L or _GNU_SOURCE). */
#if !defined(__GLIBC__) || defined(__USE_XOPEN2K)
int lab_pthread_spin_lock(pthread_spinlock_t *l, lab_site_t site);
int lab_pthread_spin_trylock(pthread_spinlock_t *l, lab_site_t site);
int lab_pthread_spin_unlock(pthread_spinlock_t *l, lab_site_t site);
#define pthread_spin_lock(l) \
	lab_pthread_spin_lock((l), LAB_SITE("pthread_spin_lock"))
#define pthread_spin_trylock(l) \
	lab_pthread_spin_trylock((l), LAB_SITE("pthread_spin_trylock"))
#define pthread_spin_unlock(l) \
	lab_pthread_spin_unlock((l), LAB_SITE("pthread_spin_unlock"))
#endif

#endif /* LAB_SHIM_PTHREAD_H */
