/* sched.c - the controlled scheduler: logical threads on fibers that switch
 * only where the allocator yields, chosen by a strategy.
 *
 * At every yield point, blocking wait and thread exit the scheduler takes
 * one decision: which runnable logical thread runs next, and whether an
 * interrupt is injected on it right there.  Decisions come from a random
 * walk, from PCT (random priorities plus d-1 priority change points,
 * Burckhardt et al. 2010), or from a recorded list (replay).  Each
 * decision is appended to the trace, so any run can be replayed exactly.
 *
 * A thread whose GFP_KERNEL wait has not been satisfied is blocked; when
 * no thread can run, the lowest-numbered timed waiter times out (logical
 * time), and if none can, that is a deadlock.  A livelock is a lack of
 * progress, not a long run: max_steps decisions in which no logical
 * thread completed an operation (lab_watch_progress).  Both name every
 * thread's position.  A run that goes on making progress stops at its
 * decision budget without a finding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "scheduler.h"

/* ---- sanitizer fiber annotations ------------------------------------------- */

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LAB_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define LAB_ASAN 1
#endif
#endif
#ifdef __SANITIZE_THREAD__
#define LAB_TSAN 1
#endif
#ifdef __SANITIZE_ADDRESS__
#define LAB_ASAN 1
#endif

#ifdef LAB_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define LAB_TSAN_NO_SYNC 1u
#endif
#ifdef LAB_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
				    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
				     const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

void lab_sched_publish(void *addr)
{
#ifdef LAB_TSAN
	__tsan_release(addr);
#else
	(void)addr;
#endif
}

void lab_sched_consume(void *addr)
{
#ifdef LAB_TSAN
	__tsan_acquire(addr);
#else
	(void)addr;
#endif
}

static lab_switch_observer_fn lab_observer;
static void *lab_observer_arg;

void lab_sched_set_observer(lab_switch_observer_fn fn, void *arg)
{
	lab_observer_arg = arg;
	lab_observer = fn;
}

/* The yield point a thread last passed, -1 if none. */
int lab_last_point(const struct lab_lthread *lt)
{
	unsigned pos =
		atomic_load_explicit(&lt->recent_pos, memory_order_relaxed);

	return pos ? atomic_load_explicit(&lt->recent[(pos - 1) % LAB_RECENT],
					  memory_order_relaxed) :
		     -1;
}

/* The scheduler running on this process (one at a time); atomic because
 * every fiber reads it before any synchronisation. */
static _Atomic(struct lab_sched *) lab_active;

/* ---- switching -------------------------------------------------------------- */

static struct lab_lthread *lab_lt(struct lab_sched *s, int i)
{
	return i < 0 ? NULL : &s->lt[i];
}

/* Switches from `from` (NULL = main) to `to` (NULL = main).  Between
 * logical threads the switch does not synchronise under TSan; into main
 * it does, so main sees what the run did.  The current lab_ctx travels
 * with its fiber. */
static void lab_switch(struct lab_sched *s, struct lab_lthread *from,
		       struct lab_lthread *to)
{
	struct lab_ctx *prev =
		lab_ctx_switch(to ? atomic_load(&to->cur_ctx) : s->main_ctx);
	ucontext_t *from_uc = from ? &from->uc : &s->main_uc;

	if (from)
		atomic_store(&from->cur_ctx, prev);
	if (from && to && lab_observer)
		lab_observer(lab_last_point(from), lab_last_point(to),
			     lab_observer_arg);
	atomic_store_explicit(&s->cur, to ? (int)to->id : -1,
			      memory_order_relaxed);
#ifdef LAB_ASAN
	bool dying = from && atomic_load(&from->state) == LAB_LT_DONE;

	__sanitizer_start_switch_fiber(
		dying ? NULL :
			(from ? &from->asan_fake_stack : &s->asan_main_fake),
		to ? to->stack : s->main_stack_bottom,
		to ? to->stack_size : s->main_stack_size);
#endif
	ucontext_t *to_uc = to ? &to->uc : &s->main_uc;
#ifdef LAB_TSAN
	void *to_fiber = to ? to->tsan_fiber : s->main_tsan_fiber;
#endif

	/* Everything this thread did so far happens before main's clean-up
	 * (main consumes every parked token); no other logical thread
	 * consumes it, so there is no edge between them.  Nothing of the
	 * scheduler is touched after it. */
	if (from)
		lab_sched_publish(&from->parked);
#ifdef LAB_TSAN
	__tsan_switch_to_fiber(to_fiber, to ? LAB_TSAN_NO_SYNC : 0);
#endif
	swapcontext(from_uc, to_uc);
#ifdef LAB_ASAN
	__sanitizer_finish_switch_fiber(
		from ? from->asan_fake_stack : s->asan_main_fake, NULL, NULL);
#endif
}

/* ---- findings ----------------------------------------------------------------- */

void lab_sched_fail(struct lab_sched *s, const char *kind, const char *where,
		    const char *fmt, ...)
{
	int cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
	va_list ap;

	if (!atomic_exchange(&s->stopped, true)) {
		struct lab_finding *f = &s->finding;

		memset(f, 0, sizeof(*f));
		snprintf(f->kind, sizeof(f->kind), "%s", kind);
		snprintf(f->where, sizeof(f->where), "%s", where);
		va_start(ap, fmt);
		vsnprintf(f->message, sizeof(f->message), fmt, ap);
		va_end(ap);
		f->step =
			atomic_load_explicit(&s->ntrace, memory_order_relaxed);
		f->thread = cur;
		s->found = true;
	}
	if (cur >= 0) {
		lab_switch(s, &s->lt[cur], NULL);
		abort(); /* an abandoned thread is never resumed */
	}
}

/* "t0 running op 3/24 (alloc) at buddy:claim <- pcp:enter ...", with at
 * most `points` recent yield points. */
static size_t lab_describe_thread(const struct lab_lthread *lt, char *buf,
				  size_t len, unsigned points)
{
	static const char *const states[] = { "runnable", "blocked", "done" };
	static const char *const ops[LAB_OP_KINDS] = {
		"alloc", "free", "handoff", "irqs-off", "foreign-free", "spin"
	};
	unsigned pc = atomic_load_explicit(&lt->pc, memory_order_relaxed);
	unsigned pos =
		atomic_load_explicit(&lt->recent_pos, memory_order_relaxed);
	size_t n;
	unsigned i;

	n = (size_t)snprintf(buf, len, "t%u %s op %u/%u (%s) at", lt->id,
			     states[atomic_load(&lt->state)], pc, lt->nops,
			     pc < lt->nops ? ops[lt->ops[pc].kind] : "exit");
	for (i = 0; i < points && i < LAB_RECENT && i < pos && n < len; i++) {
		int yp = atomic_load_explicit(
			&lt->recent[(pos - 1 - i) % LAB_RECENT],
			memory_order_relaxed);

		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      i ? " <- " : " ",
				      lab_yield_point_name(yp));
	}
	if (!pos && n < len)
		n += (size_t)snprintf(buf + n, len - n, " start");
	return n < len ? n : len;
}

/* Thread t's position with as many recent yield points as fit in len;
 * cut if not even the position does.  Returns the length written, never
 * counting the terminating NUL (the next part overwrites it). */
static size_t lab_describe_fitting(const struct lab_lthread *lt, char *buf,
				   size_t len)
{
	unsigned points = LAB_RECENT;
	size_t n;

	if (len < 2)
		return 0;
	n = lab_describe_thread(lt, buf, len, points);
	while (points && n >= len - 1)
		n = lab_describe_thread(lt, buf, len, --points);
	return n < len ? n : len - 1;
}

/* Every thread gets its share of the message, so all of them show. */
static void lab_fail_stuck(struct lab_sched *s, const char *kind,
			   const char *why)
{
	char msg[sizeof(s->finding.message)];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "%s; ", why);
	unsigned t;

	for (t = 0; t < s->n && n < sizeof(msg) - 1; t++) {
		size_t share = (sizeof(msg) - n) / (s->n - t);

		n += lab_describe_fitting(&s->lt[t], msg + n, share);
		if (t + 1 < s->n && n < sizeof(msg) - 2)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "; ");
	}
	lab_sched_fail(s, kind, kind, "%s", msg);
}

/* ---- decisions ----------------------------------------------------------------------- */

static uint64_t lab_rand(struct lab_sched *s)
{
	uint64_t st = atomic_load_explicit(&s->rng, memory_order_relaxed);
	uint64_t r = lab_splitmix(&st);

	atomic_store_explicit(&s->rng, st, memory_order_relaxed);
	return r;
}

/* Marks blocked threads whose wait word changed as runnable; returns the
 * runnable set as a bit mask. */
static unsigned lab_runnable(struct lab_sched *s)
{
	unsigned t, mask = 0;

	for (t = 0; t < s->n; t++) {
		struct lab_lthread *lt = &s->lt[t];
		int st = atomic_load(&lt->state);

		if (st == LAB_LT_BLOCKED &&
		    atomic_load(atomic_load(&lt->wait_word)) !=
			    atomic_load(&lt->wait_expected)) {
			atomic_store(&lt->state, LAB_LT_RUNNABLE);
			st = LAB_LT_RUNNABLE;
		}
		if (st == LAB_LT_RUNNABLE)
			mask |= 1u << t;
	}
	return mask;
}

static bool lab_all_done(struct lab_sched *s)
{
	unsigned t;

	for (t = 0; t < s->n; t++)
		if (atomic_load(&s->lt[t].state) != LAB_LT_DONE)
			return false;
	return true;
}

/* Whether blocked thread lt sleeps in a GFP_KERNEL allocation that the
 * maze could serve now.  Only called when nobody can run: every thread is
 * parked inside a wait or done, so no reservation or split is under way
 * and the free count and free blocks are what the waiter's retry would
 * find (the waker's side of the protocol should have woken it). */
static bool lab_waiter_servable(struct lab_sched *s,
				const struct lab_lthread *lt)
{
	unsigned pc = atomic_load(&lt->pc), k;
	const struct lab_op *op;
	struct lab_maze_stats st;

	if (pc >= lt->nops)
		return false;
	op = &lt->ops[pc];
	if (op->kind != LAB_OP_ALLOC || op->cls != LAB_CLASS_KERNEL ||
	    lab_maze_stats(s->maze, &st))
		return false;
	if (op->order > LAB_MAX_ORDER_LIMIT ||
	    st.free_frames < ((uint64_t)1 << op->order) + st.wmark_min)
		return false;
	for (k = op->order; k <= LAB_MAX_ORDER_LIMIT; k++)
		if (st.free_blocks[k])
			return true;
	return false;
}

/* Nobody can run: the lowest-numbered waiter times out (logical time
 * passes); if nobody waits with a timeout, it is a deadlock.  A waiter
 * asleep while the maze could serve it missed its wakeup: a finding,
 * though the timeout would hide it. */
static unsigned lab_time_out_one(struct lab_sched *s)
{
	unsigned t;

	for (t = 0; t < s->n; t++)
		if (atomic_load(&s->lt[t].state) == LAB_LT_BLOCKED &&
		    lab_waiter_servable(s, &s->lt[t]))
			lab_fail_stuck(s, "lost-wakeup",
				       "a GFP_KERNEL waiter sleeps while free "
				       "frames could serve it");
	for (t = 0; t < s->n; t++) {
		struct lab_lthread *lt = &s->lt[t];

		if (atomic_load(&lt->state) == LAB_LT_BLOCKED) {
			atomic_store(&lt->timed_out, true);
			atomic_store(&lt->state, LAB_LT_RUNNABLE);
			return 1u << t;
		}
	}
	lab_fail_stuck(s, "deadlock", "every logical thread is blocked");
	return 0;
}

/* ---- progress ----------------------------------------------------------------------- */

/* The hard cap: this many times the livelock bound, within the range of
 * --max-steps (the trace is allocated for it, and stays lazily mapped). */
#define LAB_BUDGET_FACTOR 16u
#define LAB_BUDGET_MAX 100000000u

uint64_t lab_sched_budget(const struct lab_opts *o)
{
	uint64_t b = o->max_steps * LAB_BUDGET_FACTOR;

	if (b > LAB_BUDGET_MAX)
		b = LAB_BUDGET_MAX;
	return b < o->max_steps ? o->max_steps : b;
}

/* Operations completed plus threads finished: what "progress" means.
 * Not an interrupt completing: an interrupt that keeps succeeding while
 * its task retries for ever would hide the task's livelock.  A thread
 * spinning on a lock whose holder is descheduled, or asleep in a
 * GFP_KERNEL wait, makes none itself; the holder's or waker's operations
 * count for the whole run, and a wait ends by a wakeup or a timeout. */
static uint64_t lab_progress(struct lab_sched *s)
{
	return atomic_load_explicit(&s->ops_done, memory_order_relaxed) +
	       atomic_load_explicit(&s->exits, memory_order_relaxed);
}

static void lab_fail_livelock(struct lab_sched *s, uint64_t stalled)
{
	char why[160];

	snprintf(why, sizeof(why),
		 "no thread completed an operation in %llu decisions "
		 "(%llu done)",
		 (unsigned long long)stalled,
		 (unsigned long long)lab_progress(s));
	lab_fail_stuck(s, "livelock", why);
}

/* The schedule is over budget but not stuck: stop it without a finding
 * (lab_sched_execute prints a note).  Never returns on a logical thread. */
static void lab_stop_exhausted(struct lab_sched *s)
{
	int cur = atomic_load_explicit(&s->cur, memory_order_relaxed);

	if (!atomic_exchange(&s->stopped, true))
		atomic_store(&s->exhausted, true);
	if (cur >= 0) {
		lab_switch(s, &s->lt[cur], NULL);
		abort(); /* an abandoned thread is never resumed */
	}
}

/* Before decision i: the livelock verdict and the budget.  Counted are
 * the decisions taken since progress last moved (lab_count_stall), so
 * the verdict follows the recorded decisions and a replay reaches it at
 * the same one. */
static void lab_watch_progress(struct lab_sched *s, uint64_t i)
{
	uint64_t done = lab_progress(s), stalled;

	if (done !=
	    atomic_load_explicit(&s->progress_seen, memory_order_relaxed)) {
		atomic_store_explicit(&s->progress_seen, done,
				      memory_order_relaxed);
		atomic_store_explicit(&s->stalled, 0, memory_order_relaxed);
	}
	stalled = atomic_load_explicit(&s->stalled, memory_order_relaxed);
	if (stalled >= s->opts->max_steps)
		lab_fail_livelock(s, stalled);
	if (i >= lab_sched_budget(s->opts))
		lab_stop_exhausted(s);
}

/* A decision that injected an interrupt is not counted: the interrupt
 * may rightly undo its task's attempt (its allocation changes the count
 * the task's CAS expects), so however frequent interrupts are, they never
 * add up to a livelock on their own.  The handler's own decisions do
 * count: a handler does one bounded allocation, and one that never ends
 * is stuck too. */
static void lab_count_stall(struct lab_sched *s, bool irq)
{
	if (!irq)
		atomic_fetch_add_explicit(&s->stalled, 1, memory_order_relaxed);
}

static int lab_lowest(unsigned mask)
{
	return __builtin_ctz(mask);
}

/* Continue the current thread if it can run and is not spinning on a lock
 * (the holder must get to run), else the lowest runnable other thread. */
static int lab_default_choice(struct lab_sched *s, int cur, unsigned mask)
{
	unsigned others = cur >= 0 ? mask & ~(1u << cur) : mask;

	if (cur >= 0 && (mask & (1u << cur)) &&
	    (lab_last_point(&s->lt[cur]) != LAB_YP_SPIN || !others))
		return cur;
	return lab_lowest(others ? others : mask);
}

static int lab_pct_choice(struct lab_sched *s, int cur, unsigned mask,
			  uint64_t step)
{
	int best = -1, t;
	unsigned i;

	for (i = 0; i < s->nchange; i++)
		if (s->change_at[i] == step && cur >= 0)
			atomic_store(&s->prio[cur], (int)(s->nchange - i));
	for (t = 0; t < (int)s->n; t++)
		if ((mask & (1u << t)) &&
		    (best < 0 ||
		     atomic_load(&s->prio[t]) > atomic_load(&s->prio[best])))
			best = t;
	return best;
}

static void lab_diverge(struct lab_sched *s, uint64_t i, const char *why,
			unsigned t)
{
	unsigned long long none = UINT64_MAX;

	if (atomic_compare_exchange_strong(&s->diverged_at, &none, i))
		snprintf(s->diverged_why, sizeof(s->diverged_why),
			 "decision %llu named thread %u, %s",
			 (unsigned long long)i, t, why);
}

/* Follows the recorded decision i while it fits. */
static int lab_list_choice(struct lab_sched *s, int cur, unsigned mask,
			   uint64_t i, bool *irq)
{
	lab_decision_t d;
	unsigned t;

	if (i >= s->nlist)
		return lab_default_choice(s, cur, mask);
	d = s->list[i];
	t = d & LAB_DEC_THREAD_MASK;
	if (t < s->n && (mask & (1u << t))) {
		*irq = d & LAB_DEC_IRQ;
		return (int)t;
	}
	lab_diverge(s, i,
		    t < s->n ? "which cannot run there" :
			       "which does not exist",
		    t);
	return lab_default_choice(s, cur, mask);
}

static void lab_record(struct lab_sched *s, uint64_t i, int t, bool irq)
{
	if (i < s->trace_cap)
		atomic_store_explicit(&s->trace[i],
				      (uint32_t)t | (irq ? LAB_DEC_IRQ : 0),
				      memory_order_relaxed);
	atomic_store_explicit(&s->ntrace, i + 1, memory_order_relaxed);
}

/* One decision: who runs next (-1 = main, when all are done) and whether
 * an interrupt lands on it.  cur_ready says whether the current thread
 * could go on (a switch away from it is then a preemption). */
static int lab_decide(struct lab_sched *s, int cur, bool *irq)
{
	unsigned mask = lab_runnable(s);
	uint64_t i = atomic_load_explicit(&s->ntrace, memory_order_relaxed);
	bool cur_ready = cur >= 0 && (mask & (1u << cur));
	int t;

	*irq = false;
	if (!mask && lab_all_done(s))
		return -1;
	if (!mask)
		mask = lab_time_out_one(s);
	lab_watch_progress(s, i);
	switch (s->opts->strategy) {
	case LAB_STRAT_LIST:
		t = lab_list_choice(s, cur, mask, i, irq);
		break;
	case LAB_STRAT_PCT:
		t = lab_pct_choice(s, cur, mask, i + 1);
		*irq = lab_rand(s) % 1000 < s->opts->irq_permille;
		break;
	default:
		t = lab_lowest(mask);
		for (unsigned k =
			     lab_rand(s) % (unsigned)__builtin_popcount(mask);
		     k; k--)
			t = __builtin_ctz(mask & ~((2u << t) - 1));
		*irq = lab_rand(s) % 1000 < s->opts->irq_permille;
	}
	/* No interrupt on a thread already handling one: it would only be
	 * kept pending and run at the handler's end, whose yield points
	 * could inject the next one, an endless storm no hardware makes. */
	if (*irq && atomic_load(&s->lt[t].irq_depth))
		*irq = false;
	lab_record(s, i, t, *irq);
	lab_count_stall(s, *irq);
	if (cur_ready && t != cur)
		atomic_fetch_add_explicit(&s->preemptions, 1,
					  memory_order_relaxed);
	if (*irq)
		atomic_fetch_add_explicit(&s->irqs, 1, memory_order_relaxed);
	return t;
}

/* Runs an interrupt the last decision put on this thread. */
static void lab_take_irq(struct lab_lthread *lt)
{
	if (atomic_exchange(&lt->irq_due, false))
		lab_irq_raise(lab_program_isr, lt);
}

/* Decides and moves on; `lt` is the thread deciding (blocked, done or
 * at a yield point).  Returns when `lt` is chosen again. */
static void lab_reschedule(struct lab_sched *s, struct lab_lthread *lt)
{
	bool irq;
	int t = lab_decide(s, (int)lt->id, &irq);
	struct lab_lthread *to = lab_lt(s, t);

	if (to && irq)
		atomic_store(&to->irq_due, true);
	if (to != lt)
		lab_switch(s, lt, to);
}

/* ---- hooks ---------------------------------------------------------------------------- */

static void lab_note_point(struct lab_lthread *lt, enum lab_yield_point pt)
{
	unsigned pos =
		atomic_load_explicit(&lt->recent_pos, memory_order_relaxed);

	atomic_store_explicit(&lt->recent[pos % LAB_RECENT], (int)pt,
			      memory_order_relaxed);
	atomic_store_explicit(&lt->recent_pos, pos + 1, memory_order_relaxed);
}

/* A thread spinning on a lock makes no progress until another runs: under
 * PCT it drops below every priority (as fair schedulers do for spin
 * loops), or the holder, if it has a lower priority, would never run. */
static void lab_pct_spinner(struct lab_sched *s, int cur)
{
	int low = atomic_load(&s->prio[cur]);
	unsigned t;

	for (t = 0; t < s->n; t++)
		if (atomic_load(&s->prio[t]) < low)
			low = atomic_load(&s->prio[t]);
	atomic_store(&s->prio[cur], low - 1);
}

static void lab_sched_yield(enum lab_yield_point pt, void *arg)
{
	struct lab_sched *s = arg;
	int cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
	struct lab_lthread *lt = lab_lt(s, cur);

	if (!lt)
		return;
	lab_note_point(lt, pt);
	if (pt == LAB_YP_SPIN && s->opts->strategy == LAB_STRAT_PCT)
		lab_pct_spinner(s, cur);
	lab_reschedule(s, lt);
	lab_take_irq(lt);
}

/* A blocking wait: the thread is blocked until the word changes or,
 * when nobody else can run, it times out. */
static int lab_sched_wait(const atomic_uint *word, unsigned expected,
			  unsigned timeout_ms, void *arg)
{
	struct lab_sched *s = arg;
	struct lab_lthread *lt = lab_lt(s, atomic_load(&s->cur));

	(void)timeout_ms;
	if (!lt)
		return 0;
	atomic_store(&lt->wait_word, word);
	atomic_store(&lt->wait_expected, expected);
	atomic_store(&lt->timed_out, false);
	atomic_store(&lt->state, LAB_LT_BLOCKED);
	lab_reschedule(s, lt);
	atomic_store(&lt->state, LAB_LT_RUNNABLE);
	lab_take_irq(lt);
	return atomic_load(&lt->timed_out) ? -ETIMEDOUT : 0;
}

/* ---- fibers ----------------------------------------------------------------------------- */

static void lab_fiber_main(int idx)
{
	struct lab_sched *s = atomic_load(&lab_active);
	struct lab_lthread *lt = &s->lt[idx];

#ifdef LAB_ASAN
	const void *bottom;
	size_t size;

	/* The old stack is main's only for the first fiber main enters;
	 * later first entries come from other fibers. */
	__sanitizer_finish_switch_fiber(NULL, &bottom, &size);
	if (!s->main_stack_bottom) {
		s->main_stack_bottom = bottom;
		s->main_stack_size = size;
	}
#endif
	lab_sched_consume(&s->setup_token);
	lab_take_irq(lt);
	lab_program_run(s, lt);
	atomic_fetch_add_explicit(&s->exits, 1, memory_order_relaxed);
	atomic_store(&lt->state, LAB_LT_DONE);
	lab_reschedule(s, lt);
	abort(); /* a finished thread is never chosen again */
}

static size_t lab_stack_size(void)
{
#if defined(LAB_TSAN) || defined(LAB_ASAN)
	return 1u << 20;
#else
	return 256u << 10;
#endif
}

static int lab_fiber_create(struct lab_sched *s, struct lab_lthread *lt)
{
	lt->stack_size = lab_stack_size();
	lt->stack = mmap(NULL, lt->stack_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (lt->stack == MAP_FAILED) {
		lt->stack = NULL;
		return -ENOMEM;
	}
	getcontext(&lt->uc);
	lt->uc.uc_stack.ss_sp = lt->stack;
	lt->uc.uc_stack.ss_size = lt->stack_size;
	lt->uc.uc_link = &s->main_uc;
	makecontext(&lt->uc, (void (*)(void))lab_fiber_main, 1, (int)lt->id);
#ifdef LAB_TSAN
	lt->tsan_fiber = __tsan_create_fiber(0);
	__tsan_set_fiber_name(lt->tsan_fiber, lab_ctx_name(lt->ctx));
#endif
	return 0;
}

static void lab_fiber_destroy(struct lab_lthread *lt)
{
#ifdef LAB_TSAN
	/* Not cleared: fibers read it unsynchronised; the next run's set-up
	 * starts from a zeroed scheduler. */
	if (lt->tsan_fiber)
		__tsan_destroy_fiber(lt->tsan_fiber);
#endif
#ifdef LAB_ASAN
	/* Frames of a fiber that never returned leave poisoned redzones in
	 * the shadow; the next mapping at this address would inherit them. */
	if (lt->stack)
		__asan_unpoison_memory_region(lt->stack, lt->stack_size);
#endif
	if (lt->stack)
		munmap(lt->stack, lt->stack_size);
	lt->stack = NULL;
}

/* A schedule cut at its budget: not a finding, but say so, and how to
 * let it finish. */
static void lab_note_exhausted(const struct lab_sched *s)
{
	printf("note: schedule seed %llu stopped at its budget of %llu "
	       "decisions (%llu operations done, %llu uninterrupted decisions "
	       "since the last one): still making progress, so not a finding; "
	       "the budget is %u x --max-steps\n",
	       (unsigned long long)s->opts->seed,
	       (unsigned long long)lab_sched_budget(s->opts),
	       (unsigned long long)atomic_load(&s->ops_done),
	       (unsigned long long)atomic_load(&s->stalled), LAB_BUDGET_FACTOR);
}

/* Runs every logical thread to its end (or to the first finding).
 * Returns 0, or -errno if fibers could not be set up. */
int lab_sched_execute(struct lab_sched *s)
{
	struct lab_sched_hooks hooks = { lab_sched_yield, lab_sched_wait, s };
	int ret = 0;
	unsigned t;
	bool irq;

	for (t = 0; t < s->n && !ret; t++)
		ret = lab_fiber_create(s, &s->lt[t]);
	if (!ret) {
		atomic_store(&lab_active, s);
#ifdef LAB_TSAN
		s->main_tsan_fiber = __tsan_get_current_fiber();
#endif
		s->main_ctx = lab_ctx_current();
		lab_sched_publish(&s->setup_token);
		lab_set_sched_hooks(&hooks);
		t = (unsigned)lab_decide(s, -1, &irq);
		if (irq)
			atomic_store(&s->lt[t].irq_due, true);
		lab_switch(s, NULL, &s->lt[t]);
		lab_set_sched_hooks(NULL);
		for (t = 0; t < s->n; t++)
			lab_sched_consume(&s->lt[t].parked);
		if (atomic_load(&s->exhausted))
			lab_note_exhausted(s);
		lab_ctx_switch(s->main_ctx);
		atomic_store(&lab_active, NULL);
	}
	for (t = 0; t < s->n; t++)
		lab_fiber_destroy(&s->lt[t]);
	return ret;
}
