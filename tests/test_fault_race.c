/* test_fault_race.c - failure injection planned from several threads while
 * others allocate, in process context and in interrupts (real SIGUSR1),
 * counted exactly.
 * labels: mt
 *
 * lab_maze_fail_next returns what the plan it replaces still had to
 * inject, so the planners know exactly how many failures were due:
 * planned - returned.  Every allocation that came back NULL (none can
 * fail for want of memory here) must be one of them, and the allocator's
 * `injected` statistics must agree: a step consumed twice (a lost
 * decrement) injects more, a step skipped (a doubled one) fewer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "check.h"

#define ALLOCATORS 3
#define ALLOCS 20000
#define REPLAN_EVERY 997 /* allocators plan too, now and then */

struct racer {
	struct lab_maze *m;
	pthread_t id;
	uint64_t rng;
	unsigned long failed, planned, returned;
	atomic_ulong isr_failed, isr_allocs;
};

static struct racer racers[ALLOCATORS];
/* Allocators that finished their loop; they stay (so signals never hit a
 * thread that is gone) until the planner is done sending. */
static atomic_uint finished;
static atomic_bool planner_done;
static _Thread_local struct racer *me;

/* The interrupt: one GFP_ATOMIC allocation, given back at once. */
static void isr_alloc(void *arg)
{
	struct racer *r = arg;
	struct lab_page *pg =
		lab_alloc_pages(r->m, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);

	atomic_fetch_add_explicit(&r->isr_allocs, 1, memory_order_relaxed);
	if (!pg)
		atomic_fetch_add_explicit(&r->isr_failed, 1,
					  memory_order_relaxed);
	else
		lab_free_pages(r->m, pg, 0);
}

static void on_sigusr1(int sig)
{
	(void)sig;
	if (me)
		lab_irq_raise(isr_alloc, me);
}

static void plan(struct racer *r, unsigned long *planned,
		 unsigned long *returned)
{
	unsigned long skip = rng_next(&r->rng) % 5;
	unsigned long count = 1 + rng_next(&r->rng) % 8;

	*planned += count;
	*returned += lab_maze_fail_next(r->m, skip, count);
}

static void *allocator(void *arg)
{
	struct racer *r = arg;
	unsigned i;

	me = r;
	for (i = 0; i < ALLOCS; i++) {
		struct lab_page *pg = lab_alloc_pages(
			r->m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0);

		if (!pg)
			r->failed++;
		else
			CHECK_EQ_INT(lab_free_pages(r->m, pg, 0), 0);
		if (i % REPLAN_EVERY == 0)
			plan(r, &r->planned, &r->returned);
	}
	me = NULL;
	atomic_fetch_add(&finished, 1);
	while (!atomic_load(&planner_done))
		sched_yield();
	return NULL;
}

struct planner {
	struct racer self;
	unsigned long signals;
};

/* Plans all the time and interrupts the allocators with real signals. */
static void *planner(void *arg)
{
	struct planner *p = arg;
	unsigned n = 0;

	while (atomic_load(&finished) < ALLOCATORS) {
		plan(&p->self, &p->self.planned, &p->self.returned);
		if (!pthread_kill(racers[n++ % ALLOCATORS].id, SIGUSR1))
			p->signals++;
	}
	atomic_store(&planner_done, true);
	return NULL;
}

static void race_once(uint64_t seed)
{
	struct capture cap;
	struct lab_maze_config cfg = cfg_exact(64, 64, 64, 80, 96, &cap);
	struct planner pl = { { 0 }, 0 };
	struct sigaction sa = { 0 };
	struct lab_maze_stats st;
	unsigned long planned, returned, failed = 0;
	pthread_t pid;
	unsigned i;

	cap_reset(&cap);
	cfg.pcp_high = 64; /* the cache path passes the injection point too */
	cfg.pcp_batch = 8;
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pl.self.m = maze_from(&cfg);
	pl.self.rng = seed;
	for (i = 0; i < ALLOCATORS; i++) {
		racers[i] = (struct racer){ .m = pl.self.m,
					    .rng = seed + 0x1000 + i };
		CHECK_EQ_INT(pthread_create(&racers[i].id, NULL, allocator,
					    &racers[i]),
			     0);
	}
	CHECK_EQ_INT(pthread_create(&pid, NULL, planner, &pl), 0);
	pthread_join(pid, NULL);
	for (i = 0; i < ALLOCATORS; i++)
		pthread_join(racers[i].id, NULL);
	signal(SIGUSR1, SIG_DFL);

	planned = pl.self.planned;
	returned = pl.self.returned + lab_maze_fail_next(pl.self.m, 0, 0);
	for (i = 0; i < ALLOCATORS; i++) {
		planned += racers[i].planned;
		returned += racers[i].returned;
		failed += racers[i].failed + atomic_load(&racers[i].isr_failed);
	}
	st = stats_of(pl.self.m);
	printf("  planned %lu, left unused %lu, failed %lu (%lu in "
	       "interrupts, %lu signals)\n",
	       planned, returned, failed,
	       atomic_load(&racers[0].isr_failed) +
		       atomic_load(&racers[1].isr_failed) +
		       atomic_load(&racers[2].isr_failed),
	       pl.signals);
	CHECK(planned > returned); /* the plans were consumed, racing */
	CHECK_EQ_U64(failed, planned - returned);
	CHECK_EQ_U64(st.cls[LAB_CLASS_NOWAIT].injected +
			     st.cls[LAB_CLASS_ATOMIC].injected,
		     planned - returned);
	CHECK_EQ_U64(st.cls[LAB_CLASS_NOWAIT].failures +
			     st.cls[LAB_CLASS_ATOMIC].failures,
		     failed);
	CHECK_EQ_U64(cap_total(&cap), 0);
	lab_maze_drain_local(pl.self.m);
	CHECK_EQ_INT(lab_maze_check(pl.self.m), 0);
	lab_maze_destroy(pl.self.m);
}

/* A lost update needs two threads inside one step at once: a few rounds
 * (a racy load/store step was caught in 2 of 3 single rounds). */
static void test_injection_counted_exactly(void)
{
	unsigned round;

	for (round = 0; round < 5; round++) {
		atomic_store(&finished, 0);
		atomic_store(&planner_done, false);
		race_once(0x5eed + round);
	}
}

/* The returned count is the old plan's failures still due. */
static void test_returns_what_was_left(void)
{
	struct capture cap;
	struct lab_maze *m = maze_exact(8, 8, 1, 1, 1, &cap);
	struct lab_page *pg;

	cap_reset(&cap);
	CHECK_EQ_U64(lab_maze_fail_next(m, 1, 3), 0);
	pg = lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0);
	CHECK(pg != NULL); /* skipped */
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0));
	CHECK_EQ_U64(lab_maze_fail_next(m, 0, 0), 2);
	CHECK_EQ_U64(lab_maze_fail_next(m, 0, 0), 0);
	CHECK_EQ_U64(lab_maze_fail_next(NULL, 0, 1), 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	lab_maze_destroy(m);
}

int main(void)
{
	RUN(test_returns_what_was_left);
	RUN(test_injection_counted_exactly);
	return 0;
}
