/* test_free_latency.c - what the free-running latency figures include.
 *
 * A worker's interrupts are real SIGUSR1 signals whose handler runs on
 * the worker's own thread, in the middle of whatever it was doing.  An
 * allocation's latency must leave out an interrupt that ran inside it
 * (that time is the interrupt's, in its own rows), wherever it lands:
 *   - inside the call (the handler runs in the allocator);
 *   - at the very start of the measurement: under ThreadSanitizer a
 *     signal that arrives in instrumented code is held back and delivered
 *     at the next intercepted call, which is the first clock read of the
 *     measurement itself (the old measurement then charged it to the
 *     allocation: a long interrupt became a long GFP_ATOMIC);
 *   - deferred while IRQs were off and run at lab_local_irq_restore,
 *     outside any signal handler.
 * The injected interrupt is long (LAB_LONG_IRQ_NS, a sleep in the
 * interrupt's own allocation), so including it by mistake cannot pass.
 *
 * And the histograms: percentiles are bucket upper bounds within 25%.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "free_run.h"
#include "../../tests/check.h" /* CHECK, the unit tests' assertion */

/* The injected interrupt, and what an allocation without it stays under
 * even on a loaded machine under TSan (a preemption that long in one of
 * these few calls is very unlikely; the run's p99.9 is far lower). */
#define LAB_LONG_IRQ_NS 300000000ull /* 300 ms */
#define LAB_SHORT_NS 150000000ull


/* ---- histograms ------------------------------------------------------------ */

static void test_hist_percentiles(void)
{
	static struct lab_lat_hist h;
	struct lab_latency l;
	uint64_t v;

	memset(&h, 0, sizeof(h));
	CHECK(lab_lat_quantile(&h, 99000) == 0);
	for (v = 1; v <= 1000; v++)
		lab_lat_add(&h, v * 1000); /* 1 us .. 1 ms */
	lab_lat_summarize(&h, "ATOMIC", "task", &l);
	CHECK(l.count == 1000 && l.max_ns == 1000000);
	CHECK(l.mean_ns == 500500);
	/* true p50 500 us, p99 990 us, p99.9 999 us: upper bounds within
	 * 25%, never above the maximum */
	CHECK(l.p50_ns >= 500000 && l.p50_ns <= 625000);
	CHECK(l.p90_ns >= 900000 && l.p90_ns <= 1000000);
	CHECK(l.p99_ns >= 990000 && l.p99_ns <= 1000000);
	CHECK(l.p999_ns >= 999000 && l.p999_ns <= 1000000);
	CHECK(!strcmp(l.cls, "ATOMIC") && !strcmp(l.context, "task"));
	/* the extremes land in buckets too */
	lab_lat_add(&h, 0);
	lab_lat_add(&h, UINT64_MAX);
	CHECK(lab_lat_quantile(&h, 100000) == UINT64_MAX);
	CHECK(lab_lat_quantile(&h, 1) == 0);
}

/* ---- one worker, its interrupts and a long one ------------------------------ */

static struct lab_fr fr;
static struct lab_fr_worker w;
static atomic_bool long_irq;	  /* the next interrupt sleeps */
static atomic_bool raise_in_call; /* the next process-context entry raises */

static void nap_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull),
			       (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts))
		;
}

/* Sends SIGUSR1 to this thread with a bare system call (no intercepted
 * library call after it: under TSan the signal stays held back until the
 * next one, the measurement's first clock read). */
static void send_irq_to_self(void)
{
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
}

static void hook(enum lab_yield_point point, void *arg)
{
	(void)arg;
	if (point != LAB_YP_ALLOC_ENTER)
		return;
	if (lab_in_irq()) {
		if (atomic_exchange(&long_irq, false))
			nap_ns(LAB_LONG_IRQ_NS);
	} else if (atomic_exchange(&raise_in_call, false)) {
		send_irq_to_self();
	}
}

/* First calls fault the maze's pages in and claim the cache slot: not
 * what the tests measure. */
static void warm_up(void)
{
	struct lab_fr_lat scratch;
	unsigned i;

	memset(&scratch, 0, sizeof(scratch));
	for (i = 0; i < 64; i++) {
		void *p = lab_fr_timed_alloc(&fr, &w, LAB_GFP_ATOMIC, 0,
					     &scratch);

		CHECK(p && !lab_free_pages_addr(fr.maze, p, 0));
	}
}

static void setup(void)
{
	struct lab_maze_config cfg;
	struct lab_sched_hooks hooks = { hook, NULL, NULL };
	struct sigaction sa;

	lab_maze_config_init(&cfg, 32, 32);
	CHECK(!lab_maze_create(&cfg, &fr.maze));
	fr.prof = lab_fr_profile_find("irq-storm"); /* allocates, no foreign */
	CHECK(fr.prof);
	fr.page_size = lab_maze_page_size(fr.maze);
	fr.nworkers = 1;
	fr.w = &w;
	w.fr = &fr;
	w.rng = w.isr.rng = 42;
	lab_fr_set_self(&w);
	lab_fr_set_current(&fr);
	lab_set_sched_hooks(&hooks);
	warm_up();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_fr_on_signal;
	sigemptyset(&sa.sa_mask);
	CHECK(!sigaction(SIGUSR1, &sa, NULL));
}

/* One timed GFP_ATOMIC allocation in process context, freed again;
 * returns its measured latency. */
static uint64_t timed_atomic(void)
{
	struct lab_fr_lat *l = &w.c.lat[LAB_CLASS_ATOMIC];
	uint64_t before = l->wall.sum_ns;
	void *p = lab_fr_timed_alloc(&fr, &w, LAB_GFP_ATOMIC, 0, l);

	CHECK(p);
	CHECK(!lab_free_pages_addr(fr.maze, p, 0));
	return l->wall.sum_ns - before;
}

/* The interrupt ran and was long: its time is the thread's interrupt
 * time and its allocation's latency (the irq row), not the task's. */
static void check_long_irq_ran(uint64_t irq_before, uint64_t isr_allocs)
{
	CHECK(atomic_load(&w.irq_ns) - irq_before >= LAB_LONG_IRQ_NS);
	CHECK(w.isr.lat.wall.n > isr_allocs);
	CHECK(w.isr.lat.wall.max_ns >= LAB_LONG_IRQ_NS);
}

/* A long interrupt raised inside the call (from its first yield point)
 * or just before it (under TSan: held back to the measurement's first
 * clock read); the allocation's latency must not include it. */
static void check_irq_excluded(bool inside, const char *where)
{
	uint64_t irq0 = atomic_load(&w.irq_ns), isr0 = w.isr.lat.wall.n;
	uint64_t ns;

	atomic_store(&long_irq, true);
	if (inside)
		atomic_store(&raise_in_call, true);
	else
		send_irq_to_self();
	ns = timed_atomic();
	check_long_irq_ran(irq0, isr0);
	printf("  interrupt %s: allocation %.1f us\n", where, (double)ns / 1e3);
	CHECK(ns < LAB_SHORT_NS);
}

static void test_irq_inside_call_excluded(void)
{
	check_irq_excluded(true, "inside the call");
}

static void test_irq_at_measurement_start_excluded(void)
{
	check_irq_excluded(false, "at the start");
}

/* Deferred: raised while IRQs are off, run by lab_local_irq_restore in
 * process context; it counts its own time. */
static void test_deferred_irq_excluded(void)
{
	uint64_t irq0 = atomic_load(&w.irq_ns), isr0 = w.isr.lat.wall.n;
	unsigned long flags = lab_local_irq_save();
	uint64_t t0, t1;

	atomic_store(&long_irq, true);
	send_irq_to_self();
	nap_ns(1000000); /* delivered by now: pending, IRQs are off */
	CHECK(isr0 == w.isr.lat.wall.n);
	t0 = lab_fr_task_ns(&w);
	lab_local_irq_restore(flags); /* runs it here */
	t1 = lab_fr_task_ns(&w);
	check_long_irq_ran(irq0, isr0);
	CHECK(t1 - t0 < LAB_SHORT_NS);
}

/* The CPU clock rows sample one call in LAB_FR_CPU_SAMPLE, none with an
 * interrupt inside. */
static void test_cpu_sampled(void)
{
	struct lab_fr_lat *l = &w.c.lat[LAB_CLASS_NOWAIT];
	unsigned i;

	for (i = 0; i < 4 * LAB_FR_CPU_SAMPLE; i++) {
		void *p = lab_fr_timed_alloc(&fr, &w, LAB_GFP_NOWAIT, 0, l);

		CHECK(p && !lab_free_pages_addr(fr.maze, p, 0));
	}
	CHECK(l->wall.n == 4 * LAB_FR_CPU_SAMPLE);
	CHECK(l->cpu.n == 4);
	CHECK(l->cpu.max_ns < LAB_SHORT_NS);
}

int main(void)
{
	test_hist_percentiles();
	printf("ok   test_hist_percentiles\n");
	setup();
	test_irq_inside_call_excluded();
	printf("ok   test_irq_inside_call_excluded\n");
	test_irq_at_measurement_start_excluded();
	printf("ok   test_irq_at_measurement_start_excluded\n");
	test_deferred_irq_excluded();
	printf("ok   test_deferred_irq_excluded\n");
	test_cpu_sampled();
	printf("ok   test_cpu_sampled\n");
	lab_set_sched_hooks(NULL);
	signal(SIGUSR1, SIG_DFL);
	lab_maze_drain_local(fr.maze);
	CHECK(lab_maze_check(fr.maze) == 0);
	lab_maze_destroy(fr.maze);
	return 0;
}
