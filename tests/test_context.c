/* test_context.c - simulated execution context, interrupts, might_sleep.
 *
 * Rules (context.h, maze.h): a blocking call from atomic context (preempt
 * disabled, spinlock held, IRQs disabled, in IRQ) is reported as
 * SLEEP_IN_ATOMIC ("BUG: sleeping function called from invalid context")
 * and a GFP_KERNEL allocation then returns NULL without running.
 * Non-blocking classes work from IRQ context.  lab_irq_raise runs the ISR
 * in IRQ context at once when IRQs are on, or keeps it pending (a second
 * one coalesces) until the outermost restore re-enables IRQs; unbalanced
 * exits are reported as CONTEXT; an interrupt leaves errno alone; and a
 * real signal handler can play the interrupt controller.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "check.h"

static struct capture *cap;

static struct lab_maze *maze_ctx(bool pcp)
{
	struct lab_maze_config cfg = cfg_exact(32, 32, 64, 80, 96, cap);

	if (pcp) {
		cfg.pcp_high = 32;
		cfg.pcp_batch = 8;
	}
	return maze_from(&cfg);
}

/* ---- might_sleep ------------------------------------------------------------ */

/* Process context may sleep: no report. */
static void test_might_sleep_in_process_context(void)
{
	unsigned before = cap_count(cap, LAB_REPORT_SLEEP_IN_ATOMIC);

	CHECK(!lab_in_atomic());
	CHECK(lab_might_sleep());
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_SLEEP_IN_ATOMIC), before);
}

static lab_spinlock_t lock = LAB_SPINLOCK_INIT;
static unsigned long saved_flags;

static void enter_preempt(void)
{
	lab_preempt_disable();
}
static void leave_preempt(void)
{
	lab_preempt_enable();
}
static void enter_spin(void)
{
	lab_spin_lock(&lock);
}
static void leave_spin(void)
{
	lab_spin_unlock(&lock);
}
static void enter_irqsave(void)
{
	saved_flags = lab_local_irq_save();
}
static void leave_irqsave(void)
{
	lab_local_irq_restore(saved_flags);
}
static void enter_irqoff(void)
{
	lab_local_irq_disable();
}
static void leave_irqoff(void)
{
	lab_local_irq_enable();
}
static void enter_irq(void)
{
	lab_irq_enter();
}
static void leave_irq(void)
{
	lab_irq_exit();
}
static void enter_spin_irqsave(void)
{
	lab_spin_lock_irqsave(&lock, &saved_flags);
}
static void leave_spin_irqsave(void)
{
	lab_spin_unlock_irqrestore(&lock, saved_flags);
}

struct atomic_state {
	const char *name;
	void (*enter)(void);
	void (*leave)(void);
	bool irqs_off;
};

static const struct atomic_state states[] = {
	{ "preempt_disable", enter_preempt, leave_preempt, false },
	{ "spin_lock", enter_spin, leave_spin, false },
	{ "local_irq_save", enter_irqsave, leave_irqsave, true },
	{ "local_irq_disable", enter_irqoff, leave_irqoff, true },
	{ "irq_enter", enter_irq, leave_irq, false },
	{ "spin_lock_irqsave", enter_spin_irqsave, leave_spin_irqsave, true },
};

/* In one atomic state: might_sleep reports, GFP_KERNEL is refused without
 * allocating or counting an attempt. */
static void check_atomic_state(struct lab_maze *m,
			       const struct atomic_state *st)
{
	struct lab_maze_stats before, after;
	unsigned reports = cap_count(cap, LAB_REPORT_SLEEP_IN_ATOMIC);

	st->enter();
	CHECK(lab_in_atomic());
	CHECK(lab_irqs_disabled() == st->irqs_off);
	CHECK(!lab_might_sleep());
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_SLEEP_IN_ATOMIC), reports + 1);
	CHECK(strstr(cap->last[LAB_REPORT_SLEEP_IN_ATOMIC],
		     "sleeping function called from invalid context") != NULL);
	CHECK(strstr(cap->last[LAB_REPORT_SLEEP_IN_ATOMIC],
		     st->irqs_off ? "irqs_disabled(): 1" :
				    "irqs_disabled(): 0") != NULL);
	before = stats_of(m);
	CHECK(lab_alloc_pages(m, LAB_GFP_KERNEL, 0) == NULL);
	CHECK(lab_get_free_pages(m, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 0) ==
	      NULL);
	after = stats_of(m);
	st->leave();
	CHECK(!lab_in_atomic());
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_SLEEP_IN_ATOMIC), reports + 3);
	CHECK_EQ_U64(after.sleep_in_atomic, before.sleep_in_atomic + 2);
	CHECK_EQ_U64(after.cls[LAB_CLASS_KERNEL].attempts,
		     before.cls[LAB_CLASS_KERNEL].attempts);
	CHECK_EQ_U64(after.free_frames, before.free_frames);
	CHECK_EQ_U64(after.cached_frames, before.cached_frames);
}

/* Every atomic state refuses blocking; out of it GFP_KERNEL works. */
static void test_sleep_in_atomic(void)
{
	struct lab_maze *m = maze_ctx(false);
	struct lab_page *pg;
	unsigned i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		printf("  state %s\n", states[i].name);
		check_atomic_state(m, &states[i]);
	}
	pg = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);
	CHECK(pg != NULL);
	CHECK_EQ_INT(lab_free_pages(m, pg, 0), 0);
	lab_maze_destroy(m);
}

/* ---- interrupts ------------------------------------------------------------- */

struct isr_log {
	struct lab_maze *m;
	unsigned runs;
	bool saw_irq, saw_irqs_off;
	bool alloc_ok;
	int set_errno;
};

/* Records the context it ran in; with a maze, allocates and frees with
 * both non-blocking classes. */
static void isr_record(void *arg)
{
	struct isr_log *log = arg;

	log->runs++;
	log->saw_irq = lab_in_irq();
	log->saw_irqs_off = lab_irqs_disabled();
	if (log->m) {
		struct lab_page *a = lab_alloc_pages(log->m, LAB_GFP_ATOMIC, 0);
		struct lab_page *n = lab_alloc_pages(log->m, LAB_GFP_NOWAIT, 1);

		log->alloc_ok = a && n && !lab_free_pages(log->m, a, 0) &&
				!lab_free_pages(log->m, n, 1);
	}
	if (log->set_errno)
		errno = log->set_errno;
}

static struct lab_irq_counts counts_now(void)
{
	struct lab_irq_counts c;

	lab_irq_counts(&c);
	return c;
}

/* NOWAIT and ATOMIC work from IRQ context without any report. */
static void test_nonblocking_from_irq(void)
{
	struct lab_maze *m = maze_ctx(true);
	struct isr_log log = { .m = m };
	unsigned reports = cap_total(cap);

	lab_irq_enter();
	isr_record(&log);
	lab_irq_exit();
	CHECK(log.alloc_ok);
	log.alloc_ok = false;
	CHECK(lab_irq_raise(isr_record, &log));
	CHECK(log.alloc_ok);
	CHECK_EQ_U64(cap_total(cap), reports);
	lab_maze_drain_local(m);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	CHECK_EQ_U64(free_frames(m), lab_maze_frames(m));
	lab_maze_destroy(m);
}

/* With IRQs on, the ISR runs now, in IRQ context with IRQs off. */
static void test_irq_raise_runs_now(void)
{
	struct isr_log log = { 0 };
	struct lab_irq_counts c0 = counts_now(), c1;

	CHECK(lab_irq_raise(isr_record, &log));
	c1 = counts_now();
	CHECK_EQ_U64(log.runs, 1);
	CHECK(log.saw_irq && log.saw_irqs_off);
	CHECK(!lab_in_irq() && !lab_irqs_disabled());
	CHECK_EQ_U64(c1.delivered, c0.delivered + 1);
	CHECK_EQ_U64(c1.deferred, c0.deferred);
	CHECK_EQ_U64(c1.coalesced, c0.coalesced);
}

/* With IRQs off, the ISR is kept pending; a second raise coalesces; the
 * restore runs it exactly once. */
static void test_irq_deferred_and_coalesced(void)
{
	struct isr_log log = { 0 };
	struct lab_irq_counts c0 = counts_now(), c1;
	unsigned long flags = lab_local_irq_save();

	CHECK(!lab_irq_raise(isr_record, &log));
	CHECK(!lab_irq_raise(isr_record, &log));
	CHECK_EQ_U64(log.runs, 0);
	c1 = counts_now();
	CHECK_EQ_U64(c1.deferred, c0.deferred + 1);
	CHECK_EQ_U64(c1.coalesced, c0.coalesced + 1);
	CHECK_EQ_U64(c1.delivered, c0.delivered);
	lab_local_irq_restore(flags);
	CHECK_EQ_U64(log.runs, 1);
	CHECK(log.saw_irq && log.saw_irqs_off);
	CHECK_EQ_U64(counts_now().delivered, c0.delivered + 1);
	lab_local_irq_restore(flags); /* nothing pending: nothing runs */
	CHECK_EQ_U64(log.runs, 1);
	/* Same with disable/enable. */
	lab_local_irq_disable();
	CHECK(!lab_irq_raise(isr_record, &log));
	CHECK_EQ_U64(log.runs, 1);
	lab_local_irq_enable();
	CHECK_EQ_U64(log.runs, 2);
}

/* Nested save/restore: only the outermost restore re-enables IRQs and
 * runs the pending interrupt. */
static void test_irq_nested_save_restore(void)
{
	struct isr_log log = { 0 };
	unsigned long outer = lab_local_irq_save();
	unsigned long inner = lab_local_irq_save();

	CHECK(!lab_irq_raise(isr_record, &log));
	lab_local_irq_restore(inner);
	CHECK(lab_irqs_disabled());
	CHECK_EQ_U64(log.runs, 0);
	lab_local_irq_restore(outer);
	CHECK(!lab_irqs_disabled());
	CHECK_EQ_U64(log.runs, 1);
}

struct nested {
	struct isr_log inner;
	bool raised_now;
	unsigned inner_runs_at_exit;
};

static void isr_raise_another(void *arg)
{
	struct nested *n = arg;

	n->raised_now = lab_irq_raise(isr_record, &n->inner);
	n->inner_runs_at_exit = n->inner.runs;
}

/* An interrupt raised inside an ISR (IRQs are off there) is deferred and
 * runs right after that ISR, before lab_irq_raise returns. */
static void test_irq_raised_inside_isr(void)
{
	struct nested n = { 0 };

	CHECK(lab_irq_raise(isr_raise_another, &n));
	CHECK(!n.raised_now);
	CHECK_EQ_U64(n.inner_runs_at_exit, 0);
	CHECK_EQ_U64(n.inner.runs, 1);
	CHECK(n.inner.saw_irq && n.inner.saw_irqs_off);
	CHECK(!lab_in_irq() && !lab_irqs_disabled());
}

/* Unbalanced lab_irq_exit / lab_preempt_enable are reported and
 * ignored. */
static void test_unbalanced_exit_reported(void)
{
	unsigned before = cap_count(cap, LAB_REPORT_CONTEXT);

	lab_irq_exit();
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_CONTEXT), before + 1);
	CHECK(!lab_in_irq());
	lab_preempt_enable();
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_CONTEXT), before + 2);
	CHECK_EQ_U64(lab_preempt_count(), 0);
	CHECK(!lab_in_atomic());
	/* Balanced use is not reported. */
	lab_preempt_disable();
	lab_preempt_disable();
	CHECK_EQ_U64(lab_preempt_count(), 2);
	lab_preempt_enable();
	lab_preempt_enable();
	lab_irq_enter();
	lab_irq_exit();
	CHECK_EQ_U64(cap_count(cap, LAB_REPORT_CONTEXT), before + 2);
	CHECK(!lab_in_atomic());
}

/* An interrupt does not change the interrupted code's errno, whether it
 * ran at once or from a restore. */
static void test_isr_preserves_errno(void)
{
	struct isr_log log = { .set_errno = EIO };
	unsigned long flags;

	errno = ERANGE;
	CHECK(lab_irq_raise(isr_record, &log));
	CHECK_EQ_INT(errno, ERANGE);
	flags = lab_local_irq_save();
	CHECK(!lab_irq_raise(isr_record, &log));
	errno = ERANGE;
	lab_local_irq_restore(flags);
	CHECK_EQ_U64(log.runs, 2);
	CHECK_EQ_INT(errno, ERANGE);
}

/* ---- a real signal handler as the interrupt controller ----------------------- */

static struct lab_maze *sig_maze;
static atomic_uint sig_handled, sig_isr_runs, sig_isr_failed;

/* GFP_ATOMIC alloc + touch + free, from a signal handler. */
static void isr_atomic_alloc(void *arg)
{
	struct lab_maze *m = arg;
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_ATOMIC, 0);
	unsigned char *p = pg ? lab_page_address(m, pg) : NULL;

	atomic_fetch_add(&sig_isr_runs, 1);
	if (!p) {
		atomic_fetch_add(&sig_isr_failed, 1);
		return;
	}
	p[0] = 1;
	if (lab_free_pages(m, pg, 0))
		atomic_fetch_add(&sig_isr_failed, 1);
}

static void on_sigusr1(int sig)
{
	(void)sig;
	lab_irq_raise(isr_atomic_alloc, sig_maze);
	atomic_fetch_add(&sig_handled, 1);
}

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
}

/* raise() and pthread_kill() on ourselves: the ISR runs in the handler;
 * with IRQs disabled it runs at the restore instead. */
static void test_signal_raises_irq(void)
{
	unsigned long flags;

	sig_maze = maze_ctx(true);
	install_handler();
	CHECK(raise(SIGUSR1) == 0);
	CHECK_EQ_U64(atomic_load(&sig_isr_runs), 1);
	CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0);
	CHECK_EQ_U64(atomic_load(&sig_isr_runs), 2);
	flags = lab_local_irq_save();
	CHECK(raise(SIGUSR1) == 0);
	CHECK_EQ_U64(atomic_load(&sig_handled), 3);
	CHECK_EQ_U64(atomic_load(&sig_isr_runs), 2);
	lab_local_irq_restore(flags);
	CHECK_EQ_U64(atomic_load(&sig_isr_runs), 3);
	CHECK_EQ_U64(atomic_load(&sig_isr_failed), 0);
	lab_maze_drain_local(sig_maze);
	CHECK_EQ_INT(lab_maze_check(sig_maze), 0);
	lab_maze_destroy(sig_maze);
	sig_maze = NULL;
}

#define SIGNALS 200

struct sender {
	pthread_t target;
	atomic_bool done;
};

/* Sends SIGNALS interrupts to the target, each after the previous one was
 * handled (the kernel would merge them otherwise). */
static void *signal_sender(void *arg)
{
	struct sender *s = arg;
	unsigned i;

	for (i = 0; i < SIGNALS; i++) {
		uint64_t t0 = now_ns();

		pthread_kill(s->target, SIGUSR1);
		while (atomic_load(&sig_handled) <= i &&
		       now_ns() - t0 < 2000000000ull)
			sched_yield();
	}
	atomic_store(&s->done, true);
	return NULL;
}

/* Interrupts arriving from another thread at arbitrary points of our own
 * alloc/free loop (cache on) leave the maze consistent and every ISR
 * allocation succeeds. */
static void test_signal_from_other_thread(void)
{
	struct sender s = { pthread_self(), false };
	struct lab_maze_stats st;
	pthread_t t;

	sig_maze = maze_ctx(true);
	atomic_store(&sig_handled, 0);
	atomic_store(&sig_isr_runs, 0);
	atomic_store(&sig_isr_failed, 0);
	CHECK(pthread_create(&t, NULL, signal_sender, &s) == 0);
	while (!atomic_load(&s.done)) {
		struct lab_page *pg =
			lab_alloc_pages(sig_maze, LAB_GFP_NOWAIT, 0);
		struct lab_page *big =
			lab_alloc_pages(sig_maze, LAB_GFP_NOWAIT, 2);

		CHECK(pg && big);
		CHECK_EQ_INT(lab_free_pages(sig_maze, pg, 0), 0);
		CHECK_EQ_INT(lab_free_pages(sig_maze, big, 2), 0);
	}
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_EQ_U64(atomic_load(&sig_isr_runs), SIGNALS);
	CHECK_EQ_U64(atomic_load(&sig_isr_failed), 0);
	lab_maze_drain_local(sig_maze);
	CHECK_EQ_INT(lab_maze_check(sig_maze), 0);
	st = stats_of(sig_maze);
	CHECK_EQ_U64(st.free_frames, lab_maze_frames(sig_maze));
	CHECK_EQ_U64(st.cls[LAB_CLASS_ATOMIC].successes +
			     st.cls[LAB_CLASS_NOWAIT].successes +
			     st.cls[LAB_CLASS_KERNEL].successes,
		     st.frees);
	lab_maze_destroy(sig_maze);
	sig_maze = NULL;
}

int main(void)
{
	cap = cap_install_global();
	RUN(test_might_sleep_in_process_context);
	RUN(test_sleep_in_atomic);
	RUN(test_nonblocking_from_irq);
	RUN(test_irq_raise_runs_now);
	RUN(test_irq_deferred_and_coalesced);
	RUN(test_irq_nested_save_restore);
	RUN(test_irq_raised_inside_isr);
	RUN(test_unbalanced_exit_reported);
	RUN(test_signal_raises_irq);
	RUN(test_signal_from_other_thread);
	RUN(test_isr_preserves_errno);
	return 0;
}
