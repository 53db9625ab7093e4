/* sched.c - the controlled scheduler's core: logical threads on fibers
 * that switch only at scheduling points, chosen by a strategy.
 *
 * At every scheduling point, blocking wait and thread exit the scheduler
 * takes one decision: which runnable logical thread runs next, and whether
 * an interrupt is injected on it right there.  Decisions come from a
 * random walk, from PCT (random priorities plus d-1 priority change
 * points, Burckhardt et al. 2010), or from a recorded list (replay).  Each
 * decision is appended to the trace, so any run can be replayed exactly.
 *
 * A thread blocked in lab_sched_block() runs again once its ready()
 * predicate holds; when no thread can run, the lowest-numbered timed
 * waiter times out (logical time), and if none can, that is a deadlock.
 * A livelock is a lack of progress, not a long run: stall_steps decisions
 * in which no logical thread completed an operation or exited
 * (lab_watch_progress).  Both name every thread's position.  A run that
 * goes on making progress stops at its decision budget (max_steps)
 * without a finding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "labyrinth/c11.h"

/* Scheduler state shared by fibers is accessed relaxed only: a seq_cst
 * load of a thread's state on another fiber would be an acquire, a
 * happens-before edge between logical threads that hides the races TSan
 * is there to see. */
#define LD(p) atomic_load_explicit((p), memory_order_relaxed)
#define ST(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define XCHG(p, v) atomic_exchange_explicit((p), (v), memory_order_relaxed)
#define ADD(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)

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

/* The scheduler's own tokens (a parked fiber, the set-up): TSan only. */
static void lab_tsan_release(void *addr)
{
#ifdef LAB_TSAN
	__tsan_release(addr);
#else
	(void)addr;
#endif
}

static void lab_tsan_acquire(void *addr)
{
#ifdef LAB_TSAN
	__tsan_acquire(addr);
#else
	(void)addr;
#endif
}

/* A client's handoff: for TSan, and for the memory model of a c11 run
 * (the lock a real program would use orders atomics too). */
void lab_sched_publish(void *addr)
{
	lab_sched_memory_sync(addr);
	lab_tsan_release(addr);
}

void lab_sched_consume(void *addr)
{
	lab_tsan_acquire(addr);
	lab_sched_memory_sync(addr);
}

void lab_sched_publish_unordered(void *addr)
{
	lab_tsan_release(addr);
}

void lab_sched_consume_unordered(void *addr)
{
	lab_tsan_acquire(addr);
}

static lab_sched_observer_fn lab_observer;
static void *lab_observer_arg;

void lab_sched_set_observer(lab_sched_observer_fn fn, void *arg)
{
	lab_observer_arg = arg;
	lab_observer = fn;
}

/* The run of this process (one at a time); atomic because every fiber
 * reads it before any synchronisation. */
_Atomic(struct lab_sched_rt *) lab_sched_rt_active;
/* The run whose fibers this pthread carries: scheduling points of any
 * other pthread (a user's own helper thread) stay plain. */
static _Thread_local _Atomic(struct lab_sched_rt *) lab_here;

/* Relaxed: every fiber of the run reads it without synchronisation. */
static struct lab_sched_rt *lab_here_load(void)
{
	return atomic_load_explicit(&lab_here, memory_order_relaxed);
}

static lab_site_t lab_last(const struct lab_sched_th *th)
{
	unsigned pos =
		atomic_load_explicit(&th->recent_pos, memory_order_relaxed);

	return pos ? atomic_load_explicit(
			     &th->recent[(pos - 1) % LAB_SCHED_RECENT],
			     memory_order_relaxed) :
		     NULL;
}

static struct lab_sched_th *lab_th(struct lab_sched_rt *rt, int i)
{
	return i < 0 ? NULL : &rt->th[i];
}

/* The logical thread the calling code runs on, NULL on main or outside a
 * run. */
static struct lab_sched_th *lab_self(struct lab_sched_rt **rtp)
{
	struct lab_sched_rt *rt = lab_here_load();

	*rtp = rt;
	return rt ? lab_th(rt, atomic_load_explicit(&rt->cur,
						    memory_order_relaxed)) :
		    NULL;
}

/* ---- switching -------------------------------------------------------------- */

/* Switches from `from` (NULL = main) to `to` (NULL = main).  Between
 * logical threads the switch does not synchronise under TSan; into main
 * it does, so main sees what the run did. */
static void lab_switch(struct lab_sched_rt *rt, struct lab_sched_th *from,
		       struct lab_sched_th *to)
{
	const struct lab_sched_test *t = rt->t;
	ucontext_t *from_uc = from ? &from->uc : &rt->main_uc;

	if (t->on_switch)
		t->on_switch(t->arg, from ? (int)from->id : -1,
			     to ? (int)to->id : -1);
	if (from && to && lab_observer)
		lab_observer(lab_last(from), lab_last(to), lab_observer_arg);
	atomic_store_explicit(&rt->cur, to ? (int)to->id : -1,
			      memory_order_relaxed);
#ifdef LAB_ASAN
	bool dying = from && LD(&from->state) == LAB_TH_DONE;

	__sanitizer_start_switch_fiber(
		dying ? NULL :
			(from ? &from->asan_fake_stack : &rt->asan_main_fake),
		to ? to->stack : rt->main_stack_bottom,
		to ? to->stack_size : rt->main_stack_size);
#endif
	ucontext_t *to_uc = to ? &to->uc : &rt->main_uc;
#ifdef LAB_TSAN
	void *to_fiber = to ? to->tsan_fiber : rt->main_tsan_fiber;
#endif

	/* Everything this thread did so far happens before main's clean-up
	 * (main consumes every parked token); no other logical thread
	 * consumes it, so there is no edge between them.  Nothing of the
	 * scheduler is touched after it. */
	if (from)
		lab_tsan_release(&from->parked);
#ifdef LAB_TSAN
	__tsan_switch_to_fiber(to_fiber, to ? LAB_TSAN_NO_SYNC : 0);
#endif
	swapcontext(from_uc, to_uc);
#ifdef LAB_ASAN
	__sanitizer_finish_switch_fiber(
		from ? from->asan_fake_stack : rt->asan_main_fake, NULL, NULL);
#endif
}

/* ---- findings ----------------------------------------------------------------- */

static void lab_vfail(struct lab_sched_rt *rt, const char *kind,
		      const char *where, const char *fmt, va_list ap)
{
	int cur = atomic_load_explicit(&rt->cur, memory_order_relaxed);

	if (!XCHG(&rt->stopped, true)) {
		struct lab_sched_finding *f = &rt->finding;

		memset(f, 0, sizeof(*f));
		snprintf(f->kind, sizeof(f->kind), "%s", kind);
		snprintf(f->where, sizeof(f->where), "%s", where);
		vsnprintf(f->message, sizeof(f->message), fmt, ap);
		f->step =
			atomic_load_explicit(&rt->ntrace, memory_order_relaxed);
		f->thread = cur;
		rt->found = true;
	}
	if (cur >= 0) {
		lab_switch(rt, &rt->th[cur], NULL);
		abort(); /* an abandoned thread is never resumed */
	}
}

void lab_sched_rt_fail(struct lab_sched_rt *rt, const char *kind,
		       const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lab_vfail(rt, kind, where, fmt, ap);
	va_end(ap);
}

void lab_sched_fail(const char *kind, const char *where, const char *fmt, ...)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);
	va_list ap;

	if (!rt)
		return;
	va_start(ap, fmt);
	lab_vfail(rt, kind, where, fmt, ap);
	va_end(ap);
}

bool lab_sched_found(void)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);

	return rt && rt->found;
}

bool lab_sched_exhausted(void)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);

	return rt && LD(&rt->exhausted);
}

int lab_sched_current(void)
{
	struct lab_sched_rt *rt = lab_here_load();

	return rt ? atomic_load_explicit(&rt->cur, memory_order_relaxed) : -1;
}

lab_site_t lab_sched_last_site(unsigned t)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);

	return rt && t < rt->n ? lab_last(&rt->th[t]) : NULL;
}

/* "t0 running op 3/24 (alloc) at buddy:claim <- pcp:enter ...", with at
 * most `points` recent sites (the client's describe() says " op ..."). */
static size_t lab_describe_thread(struct lab_sched_rt *rt,
				  const struct lab_sched_th *th, char *buf,
				  size_t len, unsigned points)
{
	static const char *const states[] = { "runnable", "blocked", "done" };
	unsigned pos = LD(&th->recent_pos);
	size_t n;
	unsigned i;

	n = (size_t)snprintf(buf, len, "t%u %s", th->id,
			     states[LD(&th->state)]);
	if (rt->t->describe && n < len)
		n += rt->t->describe(rt->t->arg, th->id, buf + n, len - n);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, " at");
	for (i = 0; i < points && i < LAB_SCHED_RECENT && i < pos && n < len;
	     i++) {
		lab_site_t site =
			LD(&th->recent[(pos - 1 - i) % LAB_SCHED_RECENT]);

		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      i ? " <- " : " ", site ? site : "?");
	}
	if (!pos && n < len)
		n += (size_t)snprintf(buf + n, len - n, " start");
	return n < len ? n : len;
}

/* Thread th's position with as many recent sites as fit in len; cut if
 * not even the position does.  Returns the length written, never
 * counting the terminating NUL (the next part overwrites it). */
static size_t lab_describe_fitting(struct lab_sched_rt *rt,
				   const struct lab_sched_th *th, char *buf,
				   size_t len)
{
	unsigned points = LAB_SCHED_RECENT;
	size_t n;

	if (len < 2)
		return 0;
	n = lab_describe_thread(rt, th, buf, len, points);
	while (points && n >= len - 1)
		n = lab_describe_thread(rt, th, buf, len, --points);
	return n < len ? n : len - 1;
}

/* Every thread gets its share of the message, so all of them show. */
static void lab_fail_stuck(struct lab_sched_rt *rt, const char *kind,
			   const char *why)
{
	char msg[sizeof(rt->finding.message)];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "%s; ", why);
	unsigned t;

	for (t = 0; t < rt->n && n < sizeof(msg) - 1; t++) {
		size_t share = (sizeof(msg) - n) / (rt->n - t);

		n += lab_describe_fitting(rt, &rt->th[t], msg + n, share);
		if (t + 1 < rt->n && n < sizeof(msg) - 2)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "; ");
	}
	lab_sched_rt_fail(rt, kind, kind, "%s", msg);
}

void lab_sched_fail_stuck(const char *kind, const char *why)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);

	if (rt)
		lab_fail_stuck(rt, kind, why);
}

/* ---- decisions ----------------------------------------------------------------------- */

static uint64_t lab_rand(struct lab_sched_rt *rt)
{
	uint64_t st = atomic_load_explicit(&rt->rng, memory_order_relaxed);
	uint64_t r = lab_sched_splitmix(&st);

	atomic_store_explicit(&rt->rng, st, memory_order_relaxed);
	return r;
}

/* PCT: distinct random priorities d..d+n-1, and d-1 change points spread
 * over the expected number of steps k. */
static void lab_pct_init(struct lab_sched_rt *rt, uint64_t *rng)
{
	const struct lab_sched_test *te = rt->t;
	unsigned d = te->depth ? te->depth : 1, t, i;
	uint64_t k = te->pct_horizon ? te->pct_horizon :
				       (uint64_t)rt->n * 1000 + 1;
	int prio[LAB_SCHED_MAX_THREADS];

	for (t = 0; t < rt->n; t++)
		prio[t] = (int)(d + t);
	for (t = rt->n - 1; t > 0; t--) {
		unsigned j = (unsigned)(lab_sched_splitmix(rng) % (t + 1));
		int x = prio[t];

		prio[t] = prio[j];
		prio[j] = x;
	}
	for (t = 0; t < rt->n; t++)
		ST(&rt->prio[t], prio[t]);
	rt->nchange = d - 1 < LAB_SCHED_CHANGES ? d - 1 : LAB_SCHED_CHANGES;
	for (i = 0; i < rt->nchange; i++)
		rt->change_at[i] = 1 + lab_sched_splitmix(rng) % k;
}

void lab_sched_rt_init(struct lab_sched_rt *rt)
{
	uint64_t rng = rt->t->seed;
	unsigned t;

	ST(&rt->cur, -1);
	ST(&rt->diverged_at, UINT64_MAX);
	for (t = 0; t < rt->n; t++) {
		rt->th[t].id = t;
		ST(&rt->th[t].state, LAB_TH_RUNNABLE);
	}
	ST(&rt->rng, lab_sched_splitmix(&rng));
	lab_pct_init(rt, &rng);
}

/* Marks blocked threads that are ready again as runnable; returns the
 * runnable set as a bit mask. */
static unsigned lab_runnable(struct lab_sched_rt *rt)
{
	unsigned t, mask = 0;

	for (t = 0; t < rt->n; t++) {
		struct lab_sched_th *th = &rt->th[t];
		int st = LD(&th->state);

		if (st == LAB_TH_BLOCKED &&
		    LD(&th->ready)(LD(&th->ready_arg))) {
			ST(&th->state, LAB_TH_RUNNABLE);
			st = LAB_TH_RUNNABLE;
		}
		if (st == LAB_TH_RUNNABLE)
			mask |= 1u << t;
	}
	return mask;
}

static bool lab_all_done(struct lab_sched_rt *rt)
{
	unsigned t;

	for (t = 0; t < rt->n; t++)
		if (LD(&rt->th[t].state) != LAB_TH_DONE)
			return false;
	return true;
}

/* Nobody can run: the client may see a lost wakeup first; then the
 * lowest-numbered timed waiter times out (logical time passes); if nobody
 * waits with a timeout, it is a deadlock. */
static unsigned lab_time_out_one(struct lab_sched_rt *rt)
{
	unsigned t;

	if (rt->t->on_all_blocked)
		rt->t->on_all_blocked(rt->t->arg);
	for (t = 0; t < rt->n; t++) {
		struct lab_sched_th *th = &rt->th[t];

		if (LD(&th->state) == LAB_TH_BLOCKED && LD(&th->timed)) {
			ST(&th->timed_out, true);
			ST(&th->state, LAB_TH_RUNNABLE);
			return 1u << t;
		}
	}
	lab_fail_stuck(rt, "deadlock", "every logical thread is blocked");
	return 0;
}

static int lab_lowest(unsigned mask)
{
	return __builtin_ctz(mask);
}

/* Continue the current thread if it can run and is not spinning (the
 * thread it waits for must get to run), else the lowest runnable other. */
static int lab_default_choice(struct lab_sched_rt *rt, int cur, unsigned mask)
{
	unsigned others = cur >= 0 ? mask & ~(1u << cur) : mask;

	if (cur >= 0 && (mask & (1u << cur)) &&
	    (!LD(&rt->th[cur].spinning) || !others))
		return cur;
	return lab_lowest(others ? others : mask);
}

static int lab_pct_choice(struct lab_sched_rt *rt, int cur, unsigned mask,
			  uint64_t step)
{
	int best = -1, t;
	unsigned i;

	for (i = 0; i < rt->nchange; i++)
		if (rt->change_at[i] == step && cur >= 0)
			ST(&rt->prio[cur], (int)(rt->nchange - i));
	for (t = 0; t < (int)rt->n; t++)
		if ((mask & (1u << t)) &&
		    (best < 0 || LD(&rt->prio[t]) > LD(&rt->prio[best])))
			best = t;
	return best;
}

/* The first decision of a list that does not fit, and why (the first
 * one wins). */
static void lab_diverge_at(struct lab_sched_rt *rt, uint64_t i,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lab_diverge_at(struct lab_sched_rt *rt, uint64_t i,
			   const char *fmt, ...)
{
	unsigned long long none = UINT64_MAX;
	va_list ap;

	if (!atomic_compare_exchange_strong_explicit(&rt->diverged_at, &none, i,
						     memory_order_relaxed,
						     memory_order_relaxed))
		return;
	va_start(ap, fmt);
	vsnprintf(rt->diverged_why, sizeof(rt->diverged_why), fmt, ap);
	va_end(ap);
}

static void lab_diverge(struct lab_sched_rt *rt, uint64_t i, const char *why,
			unsigned t)
{
	lab_diverge_at(rt, i, "decision %llu named thread %u, %s",
		       (unsigned long long)i, t, why);
}

/* Follows the recorded decision i while it fits. */
static int lab_list_choice(struct lab_sched_rt *rt, int cur, unsigned mask,
			   uint64_t i, bool *irq)
{
	lab_sched_decision_t d;
	unsigned t;

	if (i >= rt->t->nlist)
		return lab_default_choice(rt, cur, mask);
	d = rt->t->list[i];
	t = d & LAB_SCHED_DEC_THREAD;
	if (LAB_SCHED_DEC_IS_READ(d)) {
		lab_diverge_at(rt, i,
			       "decision %llu is a reads-from choice (store "
			       "%u), but the program takes a thread decision "
			       "there",
			       (unsigned long long)i,
			       LAB_SCHED_DEC_READ_INDEX(d));
		return lab_default_choice(rt, cur, mask);
	}
	if (t < rt->n && (mask & (1u << t))) {
		*irq = d & LAB_SCHED_DEC_IRQ;
		return (int)t;
	}
	lab_diverge(rt, i,
		    t < rt->n ? "which cannot run there" :
				"which does not exist",
		    t);
	return lab_default_choice(rt, cur, mask);
}

/* Recorded reads-from choice i for thread t's load among n stores, while
 * it fits; 0 (the newest) past the list or once it does not. */
static unsigned lab_list_read(struct lab_sched_rt *rt, unsigned t, unsigned n,
			      uint64_t i)
{
	lab_sched_decision_t d;
	unsigned k, who;

	if (i >= rt->t->nlist)
		return 0;
	d = rt->t->list[i];
	k = LAB_SCHED_DEC_READ_INDEX(d);
	who = d & LAB_SCHED_DEC_THREAD;
	if (!LAB_SCHED_DEC_IS_READ(d))
		lab_diverge_at(rt, i,
			       "decision %llu named thread %u, but the program "
			       "makes a reads-from choice among %u stores there",
			       (unsigned long long)i, who, n);
	else if (who != LAB_SCHED_DEC_STAY && who != t)
		lab_diverge_at(rt, i,
			       "decision %llu is a reads-from choice of thread "
			       "%u, but thread %u reads there",
			       (unsigned long long)i, who, t);
	else if (k >= n)
		lab_diverge_at(rt, i,
			       "decision %llu is a reads-from choice of store "
			       "%u, but the load has %u stores to read from",
			       (unsigned long long)i, k, n);
	else
		return k;
	return 0;
}

static void lab_record_decision(struct lab_sched_rt *rt, uint64_t i,
				lab_sched_decision_t d)
{
	if (i < rt->trace_cap)
		atomic_store_explicit(&rt->trace[i], d, memory_order_relaxed);
	atomic_store_explicit(&rt->ntrace, i + 1, memory_order_relaxed);
}

/* A reads-from choice is a decision of the trace like a thread switch,
 * but no stall step (lab_count_stall): a load reading an older store is
 * no scheduling step of a livelock.  Called inside the model (no
 * finding may be raised here: a divergence is only noted). */
unsigned lab_sched_read_choice(unsigned n)
{
	struct lab_sched_rt *rt;
	struct lab_sched_th *th = lab_self(&rt);
	uint64_t i, st;
	unsigned k;

	if (!th || n < 2)
		return 0;
	i = LD(&rt->ntrace);
	if (rt->t->strategy == LAB_SCHED_LIST) {
		k = lab_list_read(rt, th->id, n, i);
	} else {
		st = LD(&rt->rng);
		k = lab_c11_pick_stale(&st, rt->t->stale_permille, n);
		ST(&rt->rng, st);
	}
	lab_record_decision(rt, i, LAB_SCHED_DEC_READ_OF(th->id, k));
	ADD(&rt->reads, 1);
	if (k)
		ADD(&rt->stale_reads, 1);
	return k;
}

static void lab_record(struct lab_sched_rt *rt, uint64_t i, int t, bool irq)
{
	lab_record_decision(rt, i,
			    (uint32_t)t | (irq ? LAB_SCHED_DEC_IRQ : 0));
}

static bool lab_in_isr(struct lab_sched_rt *rt, int t)
{
	return LD(&rt->th[t].irq_depth) ||
	       (rt->t->in_isr && rt->t->in_isr(rt->t->arg, (unsigned)t));
}

/* ---- progress ----------------------------------------------------------------------- */

/* Operations completed plus threads finished: what "progress" means.
 * Not an interrupt completing: an interrupt that keeps succeeding while
 * its task retries for ever would hide the task's livelock.  A thread
 * spinning on a lock whose holder is descheduled, or blocked in a wait,
 * makes none itself; the holder's or waker's operations count for the
 * whole run, and a timed wait ends by a wakeup or a timeout. */
static uint64_t lab_progress(struct lab_sched_rt *rt)
{
	return LD(&rt->progress) + LD(&rt->exits);
}

static void lab_fail_livelock(struct lab_sched_rt *rt, uint64_t stalled)
{
	char why[160];

	snprintf(why, sizeof(why),
		 "no thread completed an operation in %llu decisions "
		 "(%llu done)",
		 (unsigned long long)stalled,
		 (unsigned long long)lab_progress(rt));
	lab_fail_stuck(rt, "livelock", why);
}

/* The schedule is over budget but not stuck: stop it without a finding.
 * Never returns on a logical thread. */
static void lab_stop_exhausted(struct lab_sched_rt *rt)
{
	int cur = LD(&rt->cur);

	if (!XCHG(&rt->stopped, true))
		ST(&rt->exhausted, true);
	if (cur >= 0) {
		lab_switch(rt, &rt->th[cur], NULL);
		abort(); /* an abandoned thread is never resumed */
	}
}

/* Before decision i: the livelock verdict and the budget.  Counted are
 * the decisions taken since progress last moved (lab_count_stall), so
 * the verdict follows the recorded decisions and a replay reaches it at
 * the same one. */
static void lab_watch_progress(struct lab_sched_rt *rt, uint64_t i)
{
	uint64_t done = lab_progress(rt), stalled;

	if (done != LD(&rt->progress_seen)) {
		ST(&rt->progress_seen, done);
		ST(&rt->stalled, 0);
	}
	stalled = LD(&rt->stalled);
	if (stalled >= rt->stall_steps)
		lab_fail_livelock(rt, stalled);
	if (i >= rt->max_steps)
		lab_stop_exhausted(rt);
}

/* A decision that injected an interrupt is not counted: the interrupt
 * may rightly undo its task's attempt (its allocation changes the count
 * the task's CAS expects), so however frequent interrupts are, they never
 * add up to a livelock on their own.  The handler's own decisions do
 * count: a handler does one bounded operation, and one that never ends
 * is stuck too. */
static void lab_count_stall(struct lab_sched_rt *rt, bool irq)
{
	if (!irq)
		ADD(&rt->stalled, 1);
}

static void lab_check_invariant(struct lab_sched_rt *rt, bool final)
{
	const char *bad;

	if (!rt->t->invariant || rt->found)
		return;
	if (final)
		ST(&rt->phase, "invariant:final");
	if ((bad = rt->t->invariant(rt->t->arg, final)))
		lab_sched_rt_fail(rt, "invariant",
				  final ? "invariant:final" : "invariant:step",
				  "%s", bad);
}

/* One decision: who runs next (-1 = main, when all are done) and whether
 * an interrupt lands on it.  cur_ready says whether the current thread
 * could go on (a switch away from it is then a preemption). */
static int lab_decide(struct lab_sched_rt *rt, int cur, bool *irq)
{
	const struct lab_sched_test *te = rt->t;
	unsigned mask = lab_runnable(rt);
	uint64_t i = atomic_load_explicit(&rt->ntrace, memory_order_relaxed);
	bool cur_ready = cur >= 0 && (mask & (1u << cur));
	int t;

	*irq = false;
	if (cur >= 0)
		lab_check_invariant(rt, false);
	if (!mask && lab_all_done(rt))
		return -1;
	if (!mask)
		mask = lab_time_out_one(rt);
	lab_watch_progress(rt, i);
	switch (te->strategy) {
	case LAB_SCHED_LIST:
		t = lab_list_choice(rt, cur, mask, i, irq);
		break;
	case LAB_SCHED_PCT:
		t = lab_pct_choice(rt, cur, mask, i + 1);
		*irq = lab_rand(rt) % 1000 < te->irq_permille;
		break;
	default:
		t = lab_lowest(mask);
		for (unsigned k =
			     lab_rand(rt) % (unsigned)__builtin_popcount(mask);
		     k; k--)
			t = __builtin_ctz(mask & ~((2u << t) - 1));
		*irq = lab_rand(rt) % 1000 < te->irq_permille;
	}
	/* No interrupt on a thread already handling one (or without an
	 * ISR): it would only be kept pending and run at the handler's end,
	 * whose points could inject the next one, an endless storm no
	 * hardware makes. */
	if (*irq && (!te->isr || lab_in_isr(rt, t)))
		*irq = false;
	lab_record(rt, i, t, *irq);
	lab_count_stall(rt, *irq);
	if (cur_ready && t != cur)
		atomic_fetch_add_explicit(&rt->preemptions, 1,
					  memory_order_relaxed);
	if (*irq)
		atomic_fetch_add_explicit(&rt->irqs, 1, memory_order_relaxed);
	return t;
}

/* Runs an interrupt the last decision put on this thread. */
static void lab_take_irq(struct lab_sched_rt *rt, struct lab_sched_th *th)
{
	if (!XCHG(&th->irq_due, false))
		return;
	ADD(&th->irq_depth, 1);
	rt->t->isr(rt->t->arg, th->id);
	atomic_fetch_sub_explicit(&th->irq_depth, 1, memory_order_relaxed);
}

/* Decides and moves on; `th` is the thread deciding (blocked, done or
 * at a scheduling point).  Returns when `th` is chosen again. */
static void lab_reschedule(struct lab_sched_rt *rt, struct lab_sched_th *th)
{
	bool irq;
	int t = lab_decide(rt, (int)th->id, &irq);
	struct lab_sched_th *to = lab_th(rt, t);

	if (to && irq)
		ST(&to->irq_due, true);
	if (to != th)
		lab_switch(rt, th, to);
}

/* ---- scheduling points (labyrinth/sched_point.h) ---------------------------------- */

static void lab_note_point(struct lab_sched_th *th, lab_site_t site)
{
	unsigned pos =
		atomic_load_explicit(&th->recent_pos, memory_order_relaxed);

	atomic_store_explicit(&th->recent[pos % LAB_SCHED_RECENT], site,
			      memory_order_relaxed);
	atomic_store_explicit(&th->recent_pos, pos + 1, memory_order_relaxed);
}

/* A spinning thread makes no progress until another runs: under PCT it
 * drops below every priority (as fair schedulers do for spin loops), or
 * the thread it waits for, if it has a lower priority, would never run. */
static void lab_pct_spinner(struct lab_sched_rt *rt, int cur)
{
	int low = LD(&rt->prio[cur]);
	unsigned t;

	for (t = 0; t < rt->n; t++)
		if (LD(&rt->prio[t]) < low)
			low = LD(&rt->prio[t]);
	ST(&rt->prio[cur], low - 1);
}

bool lab_sched_active(void)
{
	struct lab_sched_rt *rt;

	return lab_self(&rt) != NULL;
}

static void lab_point(lab_site_t site, bool spin)
{
	struct lab_sched_rt *rt;
	struct lab_sched_th *th = lab_self(&rt);

	if (!th)
		return;
	lab_note_point(th, site);
	atomic_store_explicit(
		&th->points,
		atomic_load_explicit(&th->points, memory_order_relaxed) + 1,
		memory_order_relaxed);
	atomic_store_explicit(&th->spinning, spin, memory_order_relaxed);
	if (spin && rt->t->strategy == LAB_SCHED_PCT)
		lab_pct_spinner(rt, (int)th->id);
	lab_reschedule(rt, th);
	lab_take_irq(rt, th);
}

void lab_sched_point(lab_site_t site)
{
	lab_point(site, false);
}

void lab_sched_spin(lab_site_t site)
{
	lab_point(site, true);
}

/* A blocking wait: the thread is blocked until ready() holds or, when
 * nobody else can run and it is timed, it times out.  A NULL site keeps
 * the last one as the thread's position (a client that passed a point
 * right before). */
int lab_sched_block(lab_site_t site, bool (*ready)(void *arg), void *arg,
		    bool timed)
{
	struct lab_sched_rt *rt;
	struct lab_sched_th *th = lab_self(&rt);

	if (!th)
		return 0;
	if (site)
		lab_note_point(th, site);
	atomic_store_explicit(
		&th->points,
		atomic_load_explicit(&th->points, memory_order_relaxed) + 1,
		memory_order_relaxed);
	ST(&th->spinning, false);
	ST(&th->ready, ready);
	ST(&th->ready_arg, arg);
	ST(&th->timed, timed);
	ST(&th->timed_out, false);
	ST(&th->state, LAB_TH_BLOCKED);
	lab_reschedule(rt, th);
	ST(&th->state, LAB_TH_RUNNABLE);
	lab_take_irq(rt, th);
	return LD(&th->timed_out) ? -ETIMEDOUT : 0;
}

void lab_sched_progress(void)
{
	struct lab_sched_rt *rt;

	if (lab_self(&rt))
		ADD(&rt->progress, 1);
}

void lab_sched_lock_note(const void *lock, lab_site_t site, bool held)
{
	struct lab_sched_rt *rt;
	struct lab_sched_th *th = lab_self(&rt);
	unsigned i;

	if (!th)
		return;
	for (i = 0; i < LAB_SCHED_LOCKS; i++)
		if (held ? !th->lock[i] : th->lock[i] == lock) {
			th->lock[i] = held ? lock : NULL;
			th->lock_site[i] = site;
			return;
		}
}

/* ---- fibers ----------------------------------------------------------------------------- */

/* A thread's end: a lock still held is a finding; a body that passed no
 * scheduling point could not be preempted anywhere (a note). */
static void lab_thread_exit_checks(struct lab_sched_rt *rt,
				   struct lab_sched_th *th)
{
	unsigned i;

	for (i = 0; i < LAB_SCHED_LOCKS; i++)
		if (th->lock[i])
			lab_sched_rt_fail(
				rt, "lock-held-at-exit",
				th->lock_site[i] ? th->lock_site[i] : "?",
				"thread %u exited holding lock %p "
				"taken at %s",
				th->id, th->lock[i],
				th->lock_site[i] ? th->lock_site[i] : "?");
	if (!atomic_load_explicit(&th->points, memory_order_relaxed))
		atomic_fetch_or_explicit(&rt->nonpreemptible, 1u << th->id,
					 memory_order_relaxed);
}

static void lab_fiber_main(int idx)
{
	struct lab_sched_rt *rt = LD(&lab_sched_rt_active);
	struct lab_sched_th *th = &rt->th[idx];
	const struct lab_sched_thread_desc *d = &rt->t->threads[idx];

#ifdef LAB_ASAN
	const void *bottom;
	size_t size;

	/* The old stack is main's only for the first fiber main enters;
	 * later first entries come from other fibers. */
	__sanitizer_finish_switch_fiber(NULL, &bottom, &size);
	if (!rt->main_stack_bottom) {
		rt->main_stack_bottom = bottom;
		rt->main_stack_size = size;
	}
#endif
	lab_tsan_acquire(&rt->setup_token);
	lab_take_irq(rt, th);
	d->fn(d->arg);
	ADD(&rt->exits, 1);
	lab_thread_exit_checks(rt, th);
	ST(&th->state, LAB_TH_DONE);
	lab_reschedule(rt, th);
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

/* Fiber stacks are kept for the next run: schedules are short, and a
 * fresh mapping per thread per run (and its page faults) cost more than
 * the decisions of a small test.  Only the scheduling pthread uses them. */
static void *lab_stack_pool[LAB_SCHED_MAX_THREADS];
static unsigned lab_stack_pooled;

static void *lab_stack_get(size_t size)
{
	void *p;

	if (lab_stack_pooled)
		return lab_stack_pool[--lab_stack_pooled];
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void lab_stack_put(void *stack, size_t size)
{
	if (!stack)
		return;
	if (lab_stack_pooled < LAB_SCHED_MAX_THREADS)
		lab_stack_pool[lab_stack_pooled++] = stack;
	else
		munmap(stack, size);
}

static int lab_fiber_create(struct lab_sched_rt *rt, struct lab_sched_th *th)
{
	th->stack_size = lab_stack_size();
	th->stack = lab_stack_get(th->stack_size);
	if (!th->stack)
		return -ENOMEM;
	getcontext(&th->uc);
	th->uc.uc_stack.ss_sp = th->stack;
	th->uc.uc_stack.ss_size = th->stack_size;
	th->uc.uc_link = &rt->main_uc;
	makecontext(&th->uc, (void (*)(void))lab_fiber_main, 1, (int)th->id);
#ifdef LAB_TSAN
	char name[16];

	snprintf(name, sizeof(name), "lt%u", th->id);
	th->tsan_fiber = __tsan_create_fiber(0);
	__tsan_set_fiber_name(th->tsan_fiber, name);
#endif
	return 0;
}

static void lab_fiber_destroy(struct lab_sched_th *th)
{
#ifdef LAB_TSAN
	/* Not cleared: fibers read it unsynchronised; the next run's set-up
	 * starts from a zeroed scheduler. */
	if (th->tsan_fiber)
		__tsan_destroy_fiber(th->tsan_fiber);
#endif
#ifdef LAB_ASAN
	/* Frames of a fiber that never returned leave poisoned redzones in
	 * the shadow; the next mapping at this address would inherit them. */
	if (th->stack)
		__asan_unpoison_memory_region(th->stack, th->stack_size);
#endif
	lab_stack_put(th->stack, th->stack_size);
	th->stack = NULL;
}

int lab_sched_rt_execute(struct lab_sched_rt *rt)
{
	int ret = 0;
	unsigned t;
	bool irq;

	for (t = 0; t < rt->n && !ret; t++)
		ret = lab_fiber_create(rt, &rt->th[t]);
	if (!ret && !rt->found) {
#ifdef LAB_TSAN
		rt->main_tsan_fiber = __tsan_get_current_fiber();
#endif
		lab_tsan_release(&rt->setup_token);
		ST(&rt->phase, "schedule");
		atomic_store_explicit(&lab_here, rt, memory_order_relaxed);
		t = (unsigned)lab_decide(rt, -1, &irq);
		if (irq)
			ST(&rt->th[t].irq_due, true);
		lab_switch(rt, NULL, &rt->th[t]);
		atomic_store_explicit(&lab_here, NULL, memory_order_relaxed);
		for (t = 0; t < rt->n; t++)
			lab_tsan_acquire(&rt->th[t].parked);
		lab_check_invariant(rt, true);
	}
	for (t = 0; t < rt->n; t++)
		lab_fiber_destroy(&rt->th[t]);
	return ret;
}
