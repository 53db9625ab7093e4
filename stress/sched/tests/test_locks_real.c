/* labels: mt */
/* test_locks_real.c - the pthread shim outside any schedule: this file is
 * compiled with the shim, so its pthread_mutex_*, pthread_spin_*,
 * pthread_cond_*, sched_yield, usleep and nanosleep calls go through
 * locks.c, and real threads must get exactly the real behaviour: counts
 * exact under contention, a producer/consumer queue that completes, a
 * timed wait that really times out; the counting contract shows every
 * wrapper asked lab_sched_active() and no scheduling point was made.
 * Under TSan the run must be free of reports (the wrappers are the real
 * synchronisation, which TSan sees). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "count_points.h"

#define THREADS 4
#define ROUNDS 2000
#define ITEMS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t nonfull = PTHREAD_COND_INITIALIZER;
static pthread_spinlock_t spin;
static unsigned long by_mutex, by_spin, by_trylock;
static unsigned queue, produced, consumed;

static void *contend(void *arg)
{
	struct timespec ns = { 0, 1000 };

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		by_mutex++;
		pthread_mutex_unlock(&lock);
		pthread_spin_lock(&spin);
		by_spin++;
		pthread_spin_unlock(&spin);
		while (pthread_mutex_trylock(&lock) == EBUSY)
			sched_yield();
		by_trylock++;
		pthread_mutex_unlock(&lock);
		if (pthread_spin_trylock(&spin) == 0)
			pthread_spin_unlock(&spin);
		if (i % 500 == 0) {
			usleep(10);
			nanosleep(&ns, NULL);
		}
	}
	return NULL;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (queue == 8)
			pthread_cond_wait(&nonfull, &lock);
		queue++;
		produced++;
		pthread_cond_signal(&nonempty);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!queue && consumed < ITEMS)
			pthread_cond_wait(&nonempty, &lock);
		if (consumed == ITEMS) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		queue--;
		if (++consumed == ITEMS)
			pthread_cond_broadcast(&nonempty);
		pthread_cond_broadcast(&nonfull);
		pthread_mutex_unlock(&lock);
	}
}

static int timed_wait_times_out(void)
{
	struct timespec t;
	int rc;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 20 * 1000 * 1000;
	if (t.tv_nsec >= 1000000000L)
		t.tv_sec++, t.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&lock);
	rc = pthread_cond_timedwait(&nonempty, &lock, &t);
	pthread_mutex_unlock(&lock);
	return rc == ETIMEDOUT;
}

int main(void)
{
	pthread_t t[THREADS];
	int bad = 0;

	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, contend, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_create(&t[0], NULL, producer, NULL);
	pthread_create(&t[1], NULL, consumer, NULL);
	pthread_create(&t[2], NULL, consumer, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	if (by_mutex != THREADS * ROUNDS || by_spin != THREADS * ROUNDS ||
	    by_trylock != THREADS * ROUNDS)
		bad++, fprintf(stderr, "FAIL: counts %lu %lu %lu\n", by_mutex,
			       by_spin, by_trylock);
	if (produced != ITEMS || consumed != ITEMS || queue)
		bad++, fprintf(stderr, "FAIL: queue %u/%u/%u\n", produced,
			       consumed, queue);
	if (!timed_wait_times_out())
		bad++, fprintf(stderr, "FAIL: timed wait did not time out\n");
	/* each round makes at least 8 wrapped calls, each asks once */
	if (lab_test_count(&lab_test_active_calls) < THREADS * ROUNDS * 8ul)
		bad++, fprintf(stderr,
			       "FAIL: the wrappers were not used (%lu)\n",
			       lab_test_count(&lab_test_active_calls));
	if (lab_test_count(&lab_test_points) ||
	    lab_test_count(&lab_test_spins) || lab_test_count(&lab_test_blocks))
		bad++, fprintf(stderr,
			       "FAIL: scheduling calls outside a schedule\n");
	if (bad)
		return 1;
	printf("ok: real threads through the shim: %lu wrapped calls, no "
	       "scheduling point\n",
	       lab_test_count(&lab_test_active_calls));
	return 0;
}
