/* free_work.c - what free-running workers and their interrupts do.
 *
 * A worker loops over random operations weighted by its profile: allocate
 * (class, order and EXCLUSIVE drawn from the profile), free, hand a block
 * to another worker's mailbox (handing EXCLUSIVE ownership over first),
 * try a deliberate foreign free or access as a stranger context (which
 * must be refused and reported), and run short sections with simulated
 * IRQs disabled (interrupts arriving then are deferred to the restore).
 *
 * Interrupts are real SIGUSR1 signals; the handler raises a simulated
 * interrupt whose service routine allocates with GFP_ATOMIC, keeps some
 * blocks in the worker's rx ring for process context to free later, and
 * (some profiles) tries to touch an exclusive block of the task it
 * interrupted, which must be refused too.
 *
 * The pressure profile adds a pool of reclaimable blocks (like clean page
 * cache) that the maze's reclaim callback frees when GFP_KERNEL runs
 * short.  It frees a small batch per call, as kernel reclaim works in
 * SWAP_CLUSTER_MAX batches, so the free level stays near the min mark
 * instead of jumping back to high; and every fourth call it makes no
 * progress, as reclaim sometimes does, so GFP_KERNEL also has to wait.
 *
 * Delays: a yield hook stalls a thread for a moment at one yield point in
 * LAB_FR_DELAY_ONE_IN (as KCSAN injects delays), so the few-instruction
 * race windows that real preemption almost never hits stay open long
 * enough for the other threads to run into them.
 */
#define _GNU_SOURCE /* nanosleep, clock_gettime */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "free_run.h"

#define LAB_FR_RECLAIM_BATCH 16ul /* frames one reclaim call aims for */
#define LAB_FR_DELAY_ONE_IN 64	  /* yield points that stall */
#define LAB_FR_DELAY_SPINS 4096	  /* longest stall, in spin iterations */

/* ---- profiles ----------------------------------------------------------------- */

/* weight: ALLOC, FREE, HANDOFF, FOREIGN, IRQS_OFF, MISUSE, RELAXED
 * (percent). */
static const struct lab_fr_profile lab_fr_profiles[] = {
	{ .name = "mixed",
	  .weight = { 50, 36, 8, 2, 4 },
	  .cls_pct = { 34, 33, 33 },
	  .excl_pct = 25,
	  .small_pct = 8,
	  .high_pct = 2,
	  .irq_mult = 1,
	  .isr_allocs = 1,
	  .isr_foreign = true },
	/* Orders 0 and 1 only: larger blocks would fail on fragmentation
	 * long before the free level is low, and their GFP_KERNEL retries
	 * would stall the workers instead of keeping the pressure on. */
	{ .name = "pressure",
	  .weight = { 60, 30, 4, 1, 5 },
	  .cls_pct = { 50, 20, 30 },
	  .excl_pct = 10,
	  .small_pct = 15,
	  .order_cap = 1,
	  .irq_mult = 1,
	  .isr_allocs = 1,
	  .pool = true },
	{ .name = "exclusive",
	  .weight = { 40, 24, 26, 6, 4 },
	  .cls_pct = { 40, 30, 30 },
	  .excl_pct = 80,
	  .small_pct = 10,
	  .irq_mult = 1,
	  .isr_allocs = 1,
	  .isr_foreign = true,
	  .adopt_excl = true },
	{ .name = "orders",
	  .weight = { 50, 42, 4, 1, 3 },
	  .cls_pct = { 60, 20, 20 },
	  .excl_pct = 10,
	  .small_pct = 30,
	  .high_pct = 30,
	  .irq_mult = 1,
	  .isr_allocs = 1 },
	{ .name = "irq-storm",
	  .weight = { 50, 36, 6, 2, 6 },
	  .cls_pct = { 34, 33, 33 },
	  .excl_pct = 25,
	  .small_pct = 8,
	  .high_pct = 2,
	  .irq_mult = 20,
	  .isr_allocs = 2,
	  .isr_max_order = 1 },
	/* Every detector provoked on purpose (free_misuse.c). */
	{ .name = "misuse",
	  .weight = { 46, 34, 6, 2, 4, 8, 0 },
	  .cls_pct = { 34, 33, 33 },
	  .excl_pct = 25,
	  .small_pct = 8,
	  .high_pct = 2,
	  .irq_mult = 1,
	  .isr_allocs = 1,
	  .isr_foreign = true },
	/* Every handoff through the relaxed channel (free_relaxed.c);
	 * small orders, non-blocking classes: the per-context caches keep
	 * the shared counters, which would order the two owners through
	 * the allocator's other paths, out of most operations. */
	{ .name = "relaxed",
	  .weight = { 46, 22, 0, 0, 4, 0, 28 },
	  .cls_pct = { 0, 50, 50 },
	  .excl_pct = 30,
	  .small_pct = 10,
	  .order_cap = 1,
	  .irq_mult = 1,
	  .isr_allocs = 1 },
};

const struct lab_fr_profile *lab_fr_profile_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(lab_fr_profiles) / sizeof(lab_fr_profiles[0]);
	     i++)
		if (!strcmp(lab_fr_profiles[i].name, name))
			return &lab_fr_profiles[i];
	return NULL;
}

static const lab_gfp_t lab_fr_class_gfp[LAB_CLASS_COUNT] = { LAB_GFP_KERNEL,
							     LAB_GFP_NOWAIT,
							     LAB_GFP_ATOMIC };

uint64_t lab_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

unsigned lab_fr_rand(uint64_t *rng, unsigned n)
{
	return (unsigned)(lab_splitmix(rng) % n);
}

static unsigned lab_fr_pick_class(const struct lab_fr_profile *p, uint64_t *rng)
{
	unsigned r = lab_fr_rand(rng, 100), k;

	for (k = 0; k + 1 < LAB_CLASS_COUNT && r >= p->cls_pct[k]; k++)
		r -= p->cls_pct[k];
	return k;
}

static unsigned lab_fr_pick_order(const struct lab_fr *fr, uint64_t *rng)
{
	unsigned max = lab_maze_max_order(fr->maze);
	unsigned r = lab_fr_rand(rng, 100);

	if (fr->prof->order_cap && fr->prof->order_cap < max)
		max = fr->prof->order_cap;

	if (r < fr->prof->high_pct && max >= 4)
		return 4 + lab_fr_rand(rng, max - 3);
	if (r < fr->prof->high_pct + fr->prof->small_pct && max >= 1)
		return 1 + lab_fr_rand(rng, max < 3 ? max : 3);
	return 0;
}

#define LAB_FR_CLOCK_TRIES 4

uint64_t lab_fr_task_ns(struct lab_fr_worker *w)
{
	/* An interrupt adds its time at its end, and runs to completion
	 * before the code it interrupted goes on: if the interrupt time is
	 * the same before and after the clock read, none ran in between and
	 * the pair is exact.  Otherwise read again (an interrupt takes far
	 * longer than these three loads, so the first retry succeeds in
	 * practice); after the last try the older interrupt time is used,
	 * which can only make the task clock read late. */
	uint64_t before =
		atomic_load_explicit(&w->irq_ns, memory_order_relaxed);
	uint64_t t = 0, after;
	unsigned i;

	for (i = 0; i < LAB_FR_CLOCK_TRIES; i++) {
		/* signal fences: the clock read stays between the loads, as
		 * the handler on this thread sees them */
		atomic_signal_fence(memory_order_seq_cst);
		t = lab_now_ns();
		atomic_signal_fence(memory_order_seq_cst);
		after = atomic_load_explicit(&w->irq_ns, memory_order_relaxed);
		if (after == before)
			break;
		before = after;
	}
	return t - before;
}

static uint64_t lab_fr_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Allocates, adding its latency to l: the wall time of the call on the
 * task clock, without the interrupts that ran on this thread meanwhile
 * (an interrupt's own allocations are its own latency, in its rows); OS
 * preemption stays in, it is what a caller waits.  One call in
 * LAB_FR_CPU_SAMPLE also reads the thread's CPU clock (a system call, too
 * dear for every call), kept if no interrupt ran in between. */
void *lab_fr_timed_alloc(struct lab_fr *fr, struct lab_fr_worker *w,
			 lab_gfp_t gfp, unsigned order, struct lab_fr_lat *l)
{
	bool cpu = l->calls++ % LAB_FR_CPU_SAMPLE == 0;
	uint64_t irq0 = atomic_load_explicit(&w->irq_ns, memory_order_relaxed);
	uint64_t c0 = cpu ? lab_fr_cpu_ns() : 0;
	uint64_t t0 = lab_fr_task_ns(w);
	void *p = lab_get_free_pages(fr->maze, gfp, order);
	uint64_t t1 = lab_fr_task_ns(w);
	uint64_t c1 = cpu ? lab_fr_cpu_ns() : 0;

	lab_lat_add(&l->wall, t1 > t0 ? t1 - t0 : 0);
	if (cpu && c1 >= c0 &&
	    atomic_load_explicit(&w->irq_ns, memory_order_relaxed) == irq0)
		lab_lat_add(&l->cpu, c1 - c0);
	return p;
}

/* ---- holding blocks ------------------------------------------------------------ */

void lab_fr_hold(struct lab_fr_worker *w, const struct lab_fr_block *b)
{
	w->held[w->nheld++] = *b;
	if (b->excl && !atomic_load(&w->victim))
		atomic_store(&w->victim, b->addr);
}

/* Takes held[i] out of our hands; an interrupt must not touch it as the
 * victim from now on (seq_cst orders the store before what follows, as
 * seen by a signal handler on this thread). */
struct lab_fr_block lab_fr_take(struct lab_fr_worker *w, unsigned i)
{
	struct lab_fr_block b = w->held[i];

	if (atomic_load(&w->victim) == b.addr)
		atomic_store(&w->victim, NULL);
	w->held[i] = w->held[--w->nheld];
	return b;
}

static bool lab_fr_pool_put(struct lab_fr *fr, const struct lab_fr_block *b)
{
	struct lab_fr_pool *p = &fr->pool;
	bool ok;

	pthread_mutex_lock(&p->lock);
	ok = p->n < p->cap;
	if (ok) {
		p->item[p->n++] = *b;
		if (p->n > p->peak)
			p->peak = p->n;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* Process context only: the reclaim callback runs inside a GFP_KERNEL
 * allocation, which interrupts never make. */
unsigned long lab_fr_reclaim(struct lab_maze *maze, unsigned long target,
			     void *arg)
{
	struct lab_fr *fr = arg;
	struct lab_fr_pool *p = &fr->pool;
	unsigned long freed = 0;

	(void)maze;
	if (target > LAB_FR_RECLAIM_BATCH)
		target = LAB_FR_RECLAIM_BATCH;
	pthread_mutex_lock(&p->lock);
	if (++p->calls % 4 == 0) {
		p->stalls++; /* no progress this time: the caller waits */
	} else {
		while (freed < target && p->n) {
			struct lab_fr_block b = p->item[--p->n];

			lab_fr_free_block(fr, &b, "reclaim");
			freed += 1ul << b.order;
		}
		p->frames += freed;
	}
	pthread_mutex_unlock(&p->lock);
	return freed;
}

void lab_fr_pool_drain(struct lab_fr *fr)
{
	struct lab_fr_pool *p = &fr->pool;

	pthread_mutex_lock(&p->lock);
	while (p->n) {
		struct lab_fr_block b = p->item[--p->n];

		lab_fr_free_block(fr, &b, "pool-drain");
	}
	pthread_mutex_unlock(&p->lock);
}

/* ---- operations ------------------------------------------------------------------- */

/* An allocation in process context; latency is kept per class (for the
 * non-blocking classes it must stay short: they never sleep). */
static void lab_fr_op_alloc(struct lab_fr *fr, struct lab_fr_worker *w)
{
	unsigned cls = lab_fr_pick_class(fr->prof, &w->rng);
	unsigned order = lab_fr_pick_order(fr, &w->rng);
	bool excl = lab_fr_rand(&w->rng, 100) < fr->prof->excl_pct;
	lab_gfp_t gfp = lab_fr_class_gfp[cls] | LAB_GFP_NOWARN |
			(excl ? LAB_GFP_EXCLUSIVE : 0);
	void *p = lab_fr_timed_alloc(fr, w, gfp, order, &w->c.lat[cls]);
	struct lab_fr_block b = { p, w->idx, (uint8_t)order, excl, 0 };

	if (!p) {
		w->c.order_failed[order]++;
		return;
	}
	w->c.order_ok[order]++;
	b.seq = ++w->seq;
	lab_fr_stamp(fr, &b);
	if (fr->prof->pool && !excl && lab_fr_rand(&w->rng, 2)) {
		if (lab_fr_pool_put(fr, &b)) {
			w->c.pooled++;
			return;
		}
	}
	if (w->nheld < w->held_max)
		lab_fr_hold(w, &b);
	else
		lab_fr_free_block(fr, &b, "free");
}

static void lab_fr_op_free(struct lab_fr *fr, struct lab_fr_worker *w)
{
	struct lab_fr_block b = lab_fr_take(w, lab_fr_rand(&w->rng, w->nheld));

	lab_fr_free_block(fr, &b, "free");
}

/* Under the receiver's mailbox lock: hands ownership over if the block is
 * (or becomes) exclusive, then posts it.  False if it stays ours. */
static bool lab_fr_post(struct lab_fr *fr, struct lab_fr_worker *w,
			struct lab_fr_worker *to, struct lab_fr_block *b)
{
	int ret;

	if (to->box.n == LAB_FR_MAILBOX_MAX)
		return false;
	if (!b->excl && fr->prof->adopt_excl && lab_fr_rand(&w->rng, 2)) {
		b->excl = true; /* handoff makes a plain block exclusive */
		w->c.adopted++;
	}
	if (b->excl) {
		ret = lab_page_handoff(fr->maze,
				       lab_virt_to_page(fr->maze, b->addr),
				       b->order, to->ctx_id);
		if (ret) {
			lab_fr_note(fr, "handoff-refused", "lab_page_handoff",
				    "the owner's handoff of an exclusive "
				    "block was refused");
			return false;
		}
	}
	to->box.item[to->box.n++] = *b;
	w->c.handoffs++;
	return true;
}

static void lab_fr_op_handoff(struct lab_fr *fr, struct lab_fr_worker *w)
{
	struct lab_fr_worker *to = &fr->w[lab_fr_rand(&w->rng, fr->nworkers)];
	struct lab_fr_block b;

	if (to == w)
		return;
	b = lab_fr_take(w, lab_fr_rand(&w->rng, w->nheld));
	pthread_mutex_lock(&to->box.lock);
	if (!lab_fr_post(fr, w, to, &b))
		lab_fr_hold(w, &b);
	pthread_mutex_unlock(&to->box.lock);
}

/* Blocks other workers handed us: kept if there is room (they travel
 * on), freed otherwise or when `keep` is false. */
static void lab_fr_take_mail(struct lab_fr *fr, struct lab_fr_worker *w,
			     bool keep)
{
	struct lab_fr_block mail[LAB_FR_MAILBOX_MAX];
	unsigned n, i;

	pthread_mutex_lock(&w->box.lock);
	n = w->box.n;
	memcpy(mail, w->box.item, n * sizeof(mail[0]));
	w->box.n = 0;
	pthread_mutex_unlock(&w->box.lock);
	for (i = 0; i < n; i++) {
		if (keep && w->nheld < w->held_max)
			lab_fr_hold(w, &mail[i]);
		else
			lab_fr_free_block(fr, &mail[i], "mail");
	}
}

/* ---- deliberate misuse ------------------------------------------------------------ */

static const char *const lab_ff_accepted_where[LAB_FF_KINDS] = {
	"lab_free_pages_addr", "lab_access_check", "lab_page_address",
	"lab_page_handoff", "lab_access_check"
};

/* One foreign attempt on b from the current (foreign) context: true if
 * refused; a missing refusal or report is a finding. */
static bool lab_fr_foreign_try(struct lab_fr *fr, const struct lab_fr_block *b,
			       enum lab_fr_foreign kind, uint32_t stranger)
{
	struct lab_page *pg = lab_virt_to_page(fr->maze, b->addr);
	bool refused;

	lab_fr_expect(kind == LAB_FF_FREE ? LAB_REPORT_FOREIGN_FREE :
					    LAB_REPORT_FOREIGN_ACCESS);
	if (kind == LAB_FF_FREE)
		refused = lab_free_pages_addr(fr->maze, b->addr, b->order) ==
			  -EPERM;
	else if (kind == LAB_FF_ADDRESS)
		refused = !lab_page_address(fr->maze, pg);
	else if (kind == LAB_FF_HANDOFF)
		refused = lab_page_handoff(fr->maze, pg, b->order, stranger) ==
			  -EPERM;
	else
		refused = lab_access_check(fr->maze, b->addr, 64) == -EPERM;
	if (!lab_fr_expect_met())
		lab_fr_note(fr, "report-missing", lab_ff_accepted_where[kind],
			    "a refused foreign attempt was not reported");
	if (!refused)
		lab_fr_note(fr, "foreign-accepted", lab_ff_accepted_where[kind],
			    "a foreign context was allowed to touch an "
			    "exclusive block");
	return refused;
}

static void lab_fr_op_foreign(struct lab_fr *fr, struct lab_fr_worker *w,
			      struct lab_ctx *stranger)
{
	unsigned i, start = lab_fr_rand(&w->rng, w->nheld), kind;
	struct lab_ctx *prev;
	bool refused;

	for (i = 0; i < w->nheld && !w->held[(start + i) % w->nheld].excl; i++)
		;
	if (!stranger || i == w->nheld)
		return;
	i = (start + i) % w->nheld;
	kind = lab_fr_rand(&w->rng, LAB_FF_ISR);
	prev = lab_ctx_switch(stranger);
	refused = lab_fr_foreign_try(fr, &w->held[i], kind,
				     lab_ctx_task_id(stranger));
	lab_ctx_switch(prev);
	w->c.foreign[kind]++;
	w->c.foreign_refused += refused;
	if (!refused && kind == LAB_FF_FREE)
		lab_fr_take(w, i); /* it is gone: do not free it again */
}

/* A section with simulated IRQs off: interrupts arriving now are deferred
 * to the restore.  Only non-blocking allocation is legal here; now and
 * then a GFP_KERNEL probe checks that might_sleep refuses and reports. */
static void lab_fr_op_irqs_off(struct lab_fr *fr, struct lab_fr_worker *w)
{
	unsigned long flags = lab_local_irq_save();
	struct lab_fr_block b = { NULL, w->idx, 0, false, 0 };
	struct timespec pause = { 0, 20000 };

	b.addr = lab_fr_timed_alloc(fr, w, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0,
				    &w->c.lat[LAB_CLASS_NOWAIT]);
	nanosleep(&pause, NULL); /* a window for signals to arrive */
	if (b.addr) {
		b.seq = ++w->seq;
		lab_fr_stamp(fr, &b);
		lab_fr_free_block(fr, &b, "irqs-off");
	}
	if (w->c.irqs_off++ % 32 == 0) {
		lab_fr_expect(LAB_REPORT_SLEEP_IN_ATOMIC);
		b.addr = lab_get_free_pages(fr->maze,
					    LAB_GFP_KERNEL | LAB_GFP_NOWARN, 0);
		w->c.probes++;
		w->c.probes_refused += !b.addr && lab_fr_expect_met();
		if (b.addr)
			lab_fr_note(fr, "might-sleep-missed", "lab_alloc_pages",
				    "GFP_KERNEL ran with IRQs disabled");
	}
	lab_local_irq_restore(flags);
}

/* ---- delays at yield points --------------------------------------------------------- */

static _Thread_local uint64_t lab_fr_delay_rng;

/* The yield hook; may run in a signal handler: a thread-local random
 * stream and a spin, nothing else. */
static void lab_fr_delay(enum lab_yield_point point, void *arg)
{
	struct lab_fr *fr = arg;
	uint64_t r = lab_splitmix(&lab_fr_delay_rng);
	volatile unsigned spin;

	(void)point;
	if (r % LAB_FR_DELAY_ONE_IN)
		return;
	atomic_fetch_add_explicit(&fr->delays, 1, memory_order_relaxed);
	for (spin = (unsigned)(r >> 40) % LAB_FR_DELAY_SPINS; spin; spin--)
		;
}

void lab_fr_delays(struct lab_fr *fr, bool on)
{
	struct lab_sched_hooks hooks = { lab_fr_delay, NULL, fr };

	lab_set_sched_hooks(on ? &hooks : NULL);
}

/* ---- interrupts -------------------------------------------------------------------- */

static struct lab_fr *_Atomic lab_fr_current;

void lab_fr_set_current(struct lab_fr *fr)
{
	atomic_store(&lab_fr_current, fr);
}

static bool lab_fr_rx_push(struct lab_fr_worker *w,
			   const struct lab_fr_block *b)
{
	unsigned head = atomic_load_explicit(&w->rx.head, memory_order_relaxed);

	if (head - atomic_load(&w->rx.tail) >= LAB_FR_RX_MAX)
		return false;
	w->rx.slot[head % LAB_FR_RX_MAX] = *b;
	atomic_store(&w->rx.head, head + 1);
	return true;
}

/* Process context: frees what interrupts kept.  The slot is copied before
 * the tail moves, so an interrupt may reuse it at once. */
static void lab_fr_drain_rx(struct lab_fr *fr, struct lab_fr_worker *w)
{
	unsigned tail = atomic_load_explicit(&w->rx.tail, memory_order_relaxed);

	while (tail != atomic_load(&w->rx.head)) {
		struct lab_fr_block b = w->rx.slot[tail % LAB_FR_RX_MAX];

		atomic_store(&w->rx.tail, ++tail);
		lab_fr_free_block(fr, &b, "rx");
	}
}

static void lab_fr_isr_alloc(struct lab_fr *fr, struct lab_fr_worker *w)
{
	uint64_t r = lab_splitmix(&w->isr.rng);
	unsigned order = (unsigned)(r % (fr->prof->isr_max_order + 1));
	struct lab_fr_block b = { NULL, w->idx | LAB_FR_ISR_OWNER,
				  (uint8_t)order, false, 0 };

	b.addr = lab_fr_timed_alloc(fr, w, LAB_GFP_ATOMIC | LAB_GFP_NOWARN,
				    order, &w->isr.lat);
	if (!b.addr) {
		w->isr.failed++;
		return;
	}
	w->isr.allocs++;
	b.seq = ++w->isr.seq;
	lab_fr_stamp(fr, &b);
	if ((r >> 32) & 1 && lab_fr_rx_push(w, &b))
		w->isr.kept++;
	else
		lab_fr_free_block(fr, &b, "isr");
}

/* The interrupted task's exclusive block, touched from IRQ context (a
 * different owner): must be refused. */
static void lab_fr_isr_foreign(struct lab_fr *fr, struct lab_fr_worker *w)
{
	struct lab_fr_block b = { atomic_load(&w->victim), 0, 0, true, 0 };

	if (!b.addr)
		return;
	w->isr.foreign++;
	w->isr.foreign_refused += lab_fr_foreign_try(fr, &b, LAB_FF_ISR, 0);
}

static void lab_fr_add_irq_time(struct lab_fr_worker *w, uint64_t t0)
{
	atomic_fetch_add_explicit(&w->irq_ns, lab_now_ns() - t0,
				  memory_order_relaxed);
}

/* The interrupt service routine, on the interrupted worker's thread in
 * simulated hard-IRQ context.  Async-signal-safe; keeps errno and the
 * interrupted code's report announcement intact.  Run by the signal
 * handler, which counts the interrupt time, or deferred to
 * lab_local_irq_restore, where it counts its own. */
static void lab_fr_isr(void *arg)
{
	struct lab_fr *fr = arg;
	struct lab_fr_worker *w = lab_fr_self();
	int saved_errno = errno, expected = lab_fr_expect_save();
	uint64_t t0 = lab_now_ns();
	unsigned i;

	if (fr && w) {
		atomic_fetch_add_explicit(&w->isr_runs, 1,
					  memory_order_relaxed);
		for (i = 0; i < fr->prof->isr_allocs; i++)
			lab_fr_isr_alloc(fr, w);
		if (fr->prof->isr_foreign)
			lab_fr_isr_foreign(fr, w);
		if (!atomic_load_explicit(&w->in_handler, memory_order_relaxed))
			lab_fr_add_irq_time(w, t0);
	}
	lab_fr_expect_restore(expected);
	errno = saved_errno;
}

/* The whole handler is interrupt time, from its first clock read to its
 * last: what the interrupted code must not be charged for. */
void lab_fr_on_signal(int sig)
{
	int saved_errno = errno;
	struct lab_fr_worker *w = lab_fr_self();
	uint64_t t0 = lab_now_ns();

	(void)sig;
	/* A sanitizer report is being written on this thread (capture.c):
	 * an interrupt now would re-enter the allocator inside the report
	 * and deadlock in the sanitizer.  Dropped, like an interrupt lost
	 * while the machine is dying. */
	if (lab_capture_busy())
		return;
	if (w)
		atomic_store_explicit(&w->in_handler, true,
				      memory_order_relaxed);
	lab_irq_raise(lab_fr_isr, atomic_load(&lab_fr_current));
	if (w) {
		atomic_store_explicit(&w->in_handler, false,
				      memory_order_relaxed);
		lab_fr_add_irq_time(w, t0);
	}
	errno = saved_errno;
}

/* ---- the worker ------------------------------------------------------------------------ */

static enum lab_fr_op lab_fr_pick_op(const struct lab_fr *fr,
				     struct lab_fr_worker *w)
{
	unsigned r = lab_fr_rand(&w->rng, 100), k;

	if (w->nheld == w->held_max)
		return LAB_FR_FREE;
	for (k = 0; k + 1 < LAB_FR_OPS && r >= fr->prof->weight[k]; k++)
		r -= fr->prof->weight[k];
	if (!w->nheld && k != LAB_FR_IRQS_OFF)
		return LAB_FR_ALLOC;
	return k;
}

static void lab_fr_step(struct lab_fr *fr, struct lab_fr_worker *w,
			struct lab_ctx *stranger)
{
	switch (lab_fr_pick_op(fr, w)) {
	case LAB_FR_ALLOC:
		lab_fr_op_alloc(fr, w);
		break;
	case LAB_FR_FREE:
		lab_fr_op_free(fr, w);
		break;
	case LAB_FR_HANDOFF:
		lab_fr_op_handoff(fr, w);
		break;
	case LAB_FR_FOREIGN:
		lab_fr_op_foreign(fr, w, stranger);
		break;
	case LAB_FR_MISUSE:
		lab_fr_op_misuse(fr, w);
		break;
	case LAB_FR_RELAXED:
		lab_fr_op_relaxed(fr, w);
		break;
	default:
		lab_fr_op_irqs_off(fr, w);
	}
	lab_fr_relaxed_receive(fr, w, true);
	if ((w->nops & 15) == 0) {
		lab_fr_take_mail(fr, w, true);
		lab_fr_drain_rx(fr, w);
	}
	w->nops++;
	atomic_store_explicit(&w->ops, w->nops, memory_order_relaxed);
}

/* Interrupts are taken only while `ready`: the controller checks it, and
 * the signal is blocked outside (a signal that still slips through stays
 * pending and dies with the thread). */
static void lab_fr_accept_irqs(struct lab_fr_worker *w, bool on)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (!on)
		atomic_store(&w->ready, false);
	pthread_sigmask(on ? SIG_UNBLOCK : SIG_BLOCK, &set, NULL);
	if (on)
		atomic_store(&w->ready, true);
}

/* Interrupt counts of one of our contexts (they are per context). */
static void lab_fr_count_irqs(struct lab_fr_worker *w, struct lab_ctx *ctx)
{
	struct lab_ctx *prev = lab_ctx_switch(ctx);
	struct lab_irq_counts c;

	lab_irq_counts(&c);
	lab_ctx_switch(prev);
	w->c.irq_delivered += c.delivered;
	w->c.irq_deferred += c.deferred;
	w->c.irq_coalesced += c.coalesced;
}

/* Everything we hold goes back, in our own context (we own the exclusive
 * blocks); nobody posts to us any more. */
static void lab_fr_release_all(struct lab_fr *fr, struct lab_fr_worker *w)
{
	while (w->nheld) {
		struct lab_fr_block b = lab_fr_take(w, w->nheld - 1);

		lab_fr_free_block(fr, &b, "cleanup");
	}
	lab_fr_take_mail(fr, w, false);
	lab_fr_relaxed_receive(fr, w, false);
	lab_fr_drain_rx(fr, w);
}

/* Waits for main's go: > 0 run, < 0 give up (set-up failed). */
static bool lab_fr_wait_go(struct lab_fr *fr)
{
	struct timespec nap = { 0, 1000000 };
	int go;

	while (!(go = atomic_load(&fr->go)))
		nanosleep(&nap, NULL);
	return go > 0;
}

void *lab_fr_worker_main(void *arg)
{
	struct lab_fr_worker *w = arg;
	struct lab_fr *fr = w->fr;
	struct lab_ctx *stranger;

	if (!lab_fr_wait_go(fr))
		return NULL;
	stranger = lab_ctx_create(0, "stranger");
	lab_fr_set_self(w);
	lab_fr_delay_rng = w->rng ^ 0x5eed;
	w->ctx_id = lab_ctx_id();
	pthread_barrier_wait(&fr->started); /* handoffs need every ctx_id */
	lab_fr_accept_irqs(w, true);
	while (!atomic_load_explicit(&fr->stop, memory_order_relaxed) &&
	       w->nops < w->quota)
		lab_fr_step(fr, w, stranger);
	lab_fr_accept_irqs(w, false);
	atomic_fetch_add(&fr->finished, 1);
	pthread_barrier_wait(&fr->stopped);
	pthread_barrier_wait(&fr->snapped);
	lab_fr_release_all(fr, w);
	lab_fr_count_irqs(w, NULL);
	if (stranger)
		lab_fr_count_irqs(w, stranger);
	lab_ctx_destroy(stranger);
	return NULL;
}
