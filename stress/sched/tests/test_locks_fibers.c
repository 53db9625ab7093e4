/* test_locks_fibers.c - the pthread shim inside controlled schedules: this
 * file is compiled with the shim (plain pthread calls, plain C11 atomics)
 * and run on fake_sched.c's fibers, all logical threads on one OS thread,
 * over many seeds.  What must hold:
 *   - mutexes exclude (a preemption inside the critical section never
 *     lets another logical thread in) and a blocked locker runs again
 *     once the holder unlocks; an AB/BA lock order deadlocks in some
 *     schedules and completes in others, never hangs the harness;
 *   - spin locks exclude; sched_yield/usleep/nanosleep are spins;
 *   - a condition variable wakes one waiter per signal and every waiter
 *     per broadcast; a signal with no waiter is lost (a wait without a
 *     predicate then deadlocks); a timed wait nobody signals times out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fake_sched.h"

#define SEEDS 300

static pthread_mutex_t ma = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_spinlock_t spin;
static _Atomic unsigned tick; /* touched inside critical sections: a point */
static unsigned shared, inside, waiting, woken;
static bool flag;

/* ---- mutual exclusion ------------------------------------------------ */

static void mutex_worker(unsigned id)
{
	(void)id;
	for (int i = 0; i < 4; i++) {
		pthread_mutex_lock(&ma);
		unsigned v = shared;
		inside++;
		atomic_fetch_add(&tick, 1); /* preemption point inside */
		CHECK(inside == 1, "two threads inside the mutex");
		shared = v + 1;
		inside--;
		pthread_mutex_unlock(&ma);
	}
}

static void spin_worker(unsigned id)
{
	struct timespec ns = { 0, 1000 };

	for (int i = 0; i < 3; i++) {
		pthread_spin_lock(&spin);
		unsigned v = shared;
		atomic_load(&tick);
		shared = v + 1;
		pthread_spin_unlock(&spin);
		if (id == 0)
			sched_yield();
		else if (id == 1)
			usleep(10);
		else
			nanosleep(&ns, NULL);
	}
}

static void check_exclusion(void)
{
	struct lab_fake_result r;
	unsigned long blocks = 0, spins = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		shared = 0;
		lab_fake_run(3, mutex_worker, seed, &r);
		CHECK(shared == 12 && !r.deadlock, "mutex seed %llu: %u",
		      (unsigned long long)seed, shared);
		blocks += r.blocks;
		shared = 0;
		lab_fake_run(3, spin_worker, seed, &r);
		CHECK(shared == 9 && !r.deadlock, "spin seed %llu: %u",
		      (unsigned long long)seed, shared);
		spins += r.spins;
	}
	CHECK(blocks > 0, "no schedule ever blocked on the held mutex");
	CHECK(spins >= SEEDS * 9, "yields and sleeps are spins (%lu)", spins);
}

/* ---- lock-order deadlock -------------------------------------------- */

/* Fresh mutexes per schedule: an abandoned schedule leaves its mutexes
 * held, by fibers TSan still counts as their owners. */
static pthread_mutex_t ab_locks[SEEDS + 1][2];
static unsigned ab_seed;

static void ab_ba(unsigned id)
{
	pthread_mutex_t *first = &ab_locks[ab_seed][id],
			*second = &ab_locks[ab_seed][!id];

	pthread_mutex_lock(first);
	pthread_mutex_lock(second);
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
}

static void check_deadlock(void)
{
	struct lab_fake_result r;
	unsigned dead = 0, clean = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		ab_seed = (unsigned)seed;
		pthread_mutex_init(&ab_locks[seed][0], NULL);
		pthread_mutex_init(&ab_locks[seed][1], NULL);
		lab_fake_run(2, ab_ba, seed, &r);
		if (r.deadlock) {
			dead++;
			CHECK(r.blocked_at_end == 2, "deadlock with %u blocked",
			      r.blocked_at_end);
		} else {
			clean++;
		}
	}
	CHECK(dead && clean, "AB/BA: %u deadlocks, %u clean", dead, clean);
}

/* ---- condition variables -------------------------------------------- */

/* Waits once, no predicate: only a signal after the wait began wakes. */
static void bare_waiter(unsigned id)
{
	(void)id;
	pthread_mutex_lock(&ma);
	waiting++;
	pthread_cond_wait(&cv, &ma);
	woken++;
	pthread_mutex_unlock(&ma);
}

static void lost_signal(unsigned id)
{
	if (id == 0) {
		bare_waiter(id);
	} else {
		pthread_mutex_lock(&ma);
		pthread_mutex_unlock(&ma);
		pthread_cond_signal(&cv);
	}
}

/* Threads 0 and 1 wait; thread 2 signals (or broadcasts) once both do. */
static bool use_broadcast;
static void wake_count(unsigned id)
{
	if (id < 2) {
		bare_waiter(id);
		return;
	}
	pthread_mutex_lock(&ma);
	while (waiting < 2) {
		pthread_mutex_unlock(&ma);
		sched_yield();
		pthread_mutex_lock(&ma);
	}
	if (use_broadcast)
		pthread_cond_broadcast(&cv);
	else
		pthread_cond_signal(&cv);
	pthread_mutex_unlock(&ma);
}

static int timed_rc;
static void timed_waiter(unsigned id)
{
	struct timespec t;

	(void)id;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 3600; /* logical time: no real hour passes */
	pthread_mutex_lock(&ma);
	timed_rc = pthread_cond_timedwait(&cv, &ma, &t);
	pthread_mutex_unlock(&ma);
}

/* Producer/consumer with predicates: must always complete. */
static unsigned items, consumed;
static void prod_cons(unsigned id)
{
	if (id == 0) {
		for (int i = 0; i < 4; i++) {
			pthread_mutex_lock(&ma);
			items++;
			pthread_cond_signal(&cv);
			pthread_mutex_unlock(&ma);
		}
		return;
	}
	for (int i = 0; i < 2; i++) {
		pthread_mutex_lock(&ma);
		while (!items)
			pthread_cond_wait(&cv, &ma);
		items--;
		consumed++;
		pthread_mutex_unlock(&ma);
	}
}

static void reset_cond(void)
{
	pthread_mutex_init(&ma, NULL);
	waiting = woken = 0;
	flag = false;
}

static void check_conds(void)
{
	struct lab_fake_result r;
	unsigned lost = 0, caught = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		reset_cond();
		lab_fake_run(2, lost_signal, seed, &r);
		if (r.deadlock) {
			lost++;
			CHECK(!woken, "deadlocked yet woken");
		} else {
			caught++;
			CHECK(woken == 1, "not woken");
		}

		reset_cond();
		use_broadcast = false;
		lab_fake_run(3, wake_count, seed, &r);
		CHECK(woken == 1 && r.deadlock && r.blocked_at_end == 1,
		      "signal woke %u of 2 (%u left blocked)", woken,
		      r.blocked_at_end);

		reset_cond();
		use_broadcast = true;
		lab_fake_run(3, wake_count, seed, &r);
		CHECK(woken == 2 && !r.deadlock, "broadcast woke %u of 2",
		      woken);

		reset_cond();
		timed_rc = -1;
		lab_fake_run(1, timed_waiter, seed, &r);
		CHECK(timed_rc == ETIMEDOUT && !r.deadlock && r.timeouts == 1,
		      "timed wait: %d", timed_rc);

		reset_cond();
		items = consumed = 0;
		lab_fake_run(3, prod_cons, seed, &r);
		CHECK(consumed == 4 && !r.deadlock, "producer/consumer: %u",
		      consumed);
	}
	CHECK(lost && caught, "signal before the wait: %u lost, %u caught",
	      lost, caught);
}

int main(void)
{
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	check_exclusion();
	check_deadlock();
	check_conds();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("ok: %d seeds of mutex, spin, AB/BA, lost-signal, wake-one, "
	       "broadcast, timed-wait and producer/consumer schedules\n",
	       SEEDS);
	return 0;
}
