/* context.c - simulated execution context: task ids, hard-IRQ nesting,
 * IRQs-disabled state with pending interrupts, preempt count, spinlock and
 * might_sleep().
 *
 * Each thread owns a context in static TLS (initial-exec, so reaching it
 * from a signal handler never allocates).  Schedulers swap in contexts of
 * their own with lab_ctx_switch().
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LAB_TLS __attribute__((tls_model("initial-exec")))

static _Thread_local struct lab_ctx lab_thread_ctx LAB_TLS;
_Thread_local _Atomic(struct lab_ctx *) _lab_current LAB_TLS;
static atomic_uint lab_next_task_id = 1;

/* A fresh task id: one atomic increment, so contexts set up at once on
 * several threads never share one.  Relaxed: the id is only compared.
 * The increment is indivisible, so it has no yield point: a scheduler
 * switching before it would only change who gets which id, which nothing
 * depends on (and schedules of contexts set up inside them stay the
 * ones they were).  Async-signal-safe. */
static uint32_t lab_take_task_id(void)
{
	uint32_t id;

	/* Seeded bug: the counter read, then written back one higher; a
	 * context set up in between (at the yield point: another CPU, or
	 * another logical thread of a schedule) reads the same value. */
	if (LAB_BUG_ON(RACY_TASK_ID)) {
		id = atomic_load_explicit(&lab_next_task_id,
					  memory_order_relaxed);
		lab_yield(CTX_ID);
		atomic_store_explicit(&lab_next_task_id, id + 1,
				      memory_order_relaxed);
		return id;
	}
	return atomic_fetch_add_explicit(&lab_next_task_id, 1,
					 memory_order_relaxed);
}

static void lab_ctx_init(struct lab_ctx *ctx, uint32_t task_id,
			 const char *name)
{
	ctx->task_id = task_id ? task_id : lab_take_task_id();
	if (name)
		lab_format(ctx->name, sizeof(ctx->name), "%s", name);
	else
		lab_format(ctx->name, sizeof(ctx->name), "task-%u",
			   ctx->task_id);
}

/* First call on a thread: set up its own context.  Async-signal-safe (no
 * allocation: the context is in static TLS). */
struct lab_ctx *_lab_ctx_first_use(void)
{
	struct lab_ctx *ctx = &lab_thread_ctx;

	if (!ctx->task_id) {
		ctx->owned_by_thread = true;
		lab_ctx_init(ctx, 0, NULL);
	}
	atomic_store_explicit(&_lab_current, ctx, memory_order_relaxed);
	return ctx;
}

struct lab_ctx *lab_ctx_current(void)
{
	return _lab_ctx();
}

struct lab_ctx *lab_ctx_create(uint32_t task_id, const char *name)
{
	struct lab_ctx *ctx;

	if (task_id > LAB_CTX_TASK_MAX) {
		_lab_set_error("lab_ctx_create: task id %u above %u", task_id,
			       LAB_CTX_TASK_MAX);
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		_lab_set_error("lab_ctx_create: out of memory");
		return NULL;
	}
	lab_ctx_init(ctx, task_id, name);
	return ctx;
}

void lab_ctx_destroy(struct lab_ctx *ctx)
{
	if (!ctx || ctx->owned_by_thread)
		return;
	_lab_ctx_release_caches(ctx);
	free(ctx);
}

struct lab_ctx *lab_ctx_switch(struct lab_ctx *ctx)
{
	struct lab_ctx *prev = _lab_ctx();

	atomic_store_explicit(&_lab_current, ctx ? ctx : &lab_thread_ctx,
			      memory_order_relaxed);
	return prev;
}

uint32_t lab_ctx_id(void)
{
	return _lab_ctx_id(_lab_ctx());
}

uint32_t lab_ctx_task_id(const struct lab_ctx *ctx)
{
	return ctx ? ctx->task_id : 0;
}

const char *lab_ctx_name(const struct lab_ctx *ctx)
{
	return ctx ? ctx->name : "";
}

void lab_ctx_set_name(const char *name)
{
	struct lab_ctx *ctx = _lab_ctx();

	lab_format(ctx->name, sizeof(ctx->name), "%s", name ? name : "");
}

bool lab_in_irq(void)
{
	return _lab_ctx_in_irq(_lab_ctx());
}

bool lab_irqs_disabled(void)
{
	return atomic_load(&_lab_ctx()->irqs_off) != 0;
}

unsigned lab_preempt_count(void)
{
	return atomic_load_explicit(&_lab_ctx()->preempt, memory_order_relaxed);
}

bool lab_in_atomic(void)
{
	return lab_in_irq() || lab_irqs_disabled() || lab_preempt_count() > 0;
}

/* Decrements *count unless it is 0, which is reported as an imbalance. */
static void lab_ctx_dec(atomic_uint *count, const char *function)
{
	unsigned v = atomic_load_explicit(count, memory_order_relaxed);

	if (v == 0) {
		_lab_report(NULL, LAB_DET_CONTEXT_IMBALANCE, function,
			    LAB_NO_PFN, 0, 0,
			    "%s without a matching enter in context %s",
			    function, _lab_ctx()->name);
		return;
	}
	atomic_store_explicit(count, v - 1, memory_order_relaxed);
}

void lab_irq_enter(void)
{
	atomic_fetch_add_explicit(&_lab_ctx()->hardirq, 1,
				  memory_order_relaxed);
}

void lab_irq_exit(void)
{
	lab_ctx_dec(&_lab_ctx()->hardirq, "lab_irq_exit");
}

void lab_preempt_disable(void)
{
	atomic_fetch_add_explicit(&_lab_ctx()->preempt, 1,
				  memory_order_relaxed);
}

void lab_preempt_enable(void)
{
	lab_ctx_dec(&_lab_ctx()->preempt, "lab_preempt_enable");
}

/* ---- interrupts ------------------------------------------------------------
 * irqs_off and the pending slot are shared between a context's own code and
 * interrupts raised on it (signal handlers on the same thread, or a
 * scheduler at a yield point).  seq_cst accesses keep the compiler from
 * reordering them against each other; no other thread reads them. */

/* Runs isr as a hard interrupt: IRQ context, local IRQs off (as Linux runs
 * hard IRQ handlers), then any interrupt that arrived meanwhile. */
static void lab_irq_run(struct lab_ctx *ctx, lab_isr_fn isr, void *arg)
{
	int saved_errno = errno;

	atomic_store(&ctx->irqs_off, 1);
	lab_irq_enter();
	isr(arg);
	lab_irq_exit();
	lab_counter_add_relaxed(&ctx->delivered, 1);
	atomic_store(&ctx->irqs_off, 0);
	/* The interrupted code must not see the handler's errno, whether it
	 * ran at once or pending at local_irq_restore.  Written only if
	 * changed: errno is per pthread, and fibers sharing one pthread
	 * would otherwise all write it. */
	if (errno != saved_errno)
		errno = saved_errno;
}

static void lab_irq_run_pending(struct lab_ctx *ctx)
{
	while (atomic_load(&ctx->pending) && !atomic_load(&ctx->irqs_off)) {
		lab_isr_fn isr = atomic_load(&ctx->pending_isr);
		void *arg = atomic_load(&ctx->pending_arg);

		atomic_store(&ctx->pending, 0);
		lab_irq_run(ctx, isr, arg);
	}
}

bool lab_irq_raise(lab_isr_fn isr, void *arg)
{
	struct lab_ctx *ctx = _lab_ctx();

	if (!isr)
		return false;
	if (atomic_load(&ctx->irqs_off)) {
		if (atomic_load(&ctx->pending)) {
			lab_counter_add_relaxed(&ctx->coalesced, 1);
			return false;
		}
		atomic_store(&ctx->pending_isr, isr);
		atomic_store(&ctx->pending_arg, arg);
		atomic_store(&ctx->pending, 1);
		lab_counter_add_relaxed(&ctx->deferred, 1);
		return false;
	}
	lab_irq_run(ctx, isr, arg);
	lab_irq_run_pending(ctx);
	return true;
}

void lab_irq_counts(struct lab_irq_counts *out)
{
	struct lab_ctx *ctx = _lab_ctx();

	if (!out)
		return;
	out->delivered = lab_counter_load_relaxed(&ctx->delivered);
	out->deferred = lab_counter_load_relaxed(&ctx->deferred);
	out->coalesced = lab_counter_load_relaxed(&ctx->coalesced);
}

unsigned long lab_local_irq_save(void)
{
	return atomic_exchange(&_lab_ctx()->irqs_off, 1);
}

void lab_local_irq_restore(unsigned long flags)
{
	struct lab_ctx *ctx = _lab_ctx();

	atomic_store(&ctx->irqs_off, flags ? 1 : 0);
	if (!flags)
		lab_irq_run_pending(ctx);
}

void lab_local_irq_disable(void)
{
	atomic_store(&_lab_ctx()->irqs_off, 1);
}

void lab_local_irq_enable(void)
{
	lab_local_irq_restore(0);
}

/* ---- spinlock ------------------------------------------------------------------ */

void lab_spin_lock_init(lab_spinlock_t *lock)
{
	atomic_init(&lock->locked, 0);
}

bool lab_spin_trylock(lab_spinlock_t *lock)
{
	lab_preempt_disable();
	/* acquire pairs with the release in lab_spin_unlock.  The lock word
	 * goes through the atomic hook: under a memory model the lock's
	 * happens-before reaches its holders' annotated data. */
	if (!lab_xchg32_acquire(&lock->locked, 1))
		return true;
	lab_preempt_enable();
	return false;
}

void lab_spin_lock(lab_spinlock_t *lock)
{
	lab_preempt_disable();
	for (;;) {
		/* acquire pairs with the release in lab_spin_unlock. */
		if (!lab_xchg32_acquire(&lock->locked, 1))
			return;
		while (lab_load32_relaxed(&lock->locked)) {
			lab_yield(SPIN);
			sched_yield();
		}
	}
}

void lab_spin_unlock(lab_spinlock_t *lock)
{
	lab_store32_release(&lock->locked, 0);
	lab_preempt_enable();
}

void lab_spin_lock_irqsave(lab_spinlock_t *lock, unsigned long *flags)
{
	*flags = lab_local_irq_save();
	lab_spin_lock(lock);
}

void lab_spin_unlock_irqrestore(lab_spinlock_t *lock, unsigned long flags)
{
	lab_spin_unlock(lock);
	lab_local_irq_restore(flags);
}

/* ---- might_sleep ----------------------------------------------------------------- */

static const char *lab_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool _lab_might_sleep(const struct lab_maze *maze, const char *file, int line)
{
	struct lab_ctx *ctx = _lab_ctx();

	if (!lab_in_atomic())
		return true;
	_lab_report(maze, LAB_DET_MIGHT_SLEEP, "might_sleep", LAB_NO_PFN, 0, 0,
		    "sleeping function called from invalid context at %s:%d "
		    "(in_atomic(): %d, irqs_disabled(): %d, pid: %u, name: %s)",
		    lab_basename(file ? file : "?"), line,
		    lab_in_irq() || lab_preempt_count() > 0,
		    lab_irqs_disabled(), ctx->task_id, ctx->name);
	return false;
}

bool lab_might_sleep_at(const char *file, int line)
{
	return _lab_might_sleep(NULL, file, line);
}

/* ---- caches at thread exit ---------------------------------------------------------- */

static pthread_key_t lab_exit_key;
static pthread_once_t lab_exit_once = PTHREAD_ONCE_INIT;

static void lab_thread_exit(void *arg)
{
	_lab_ctx_release_caches(arg);
}

static void lab_exit_key_init(void)
{
	(void)pthread_key_create(&lab_exit_key, lab_thread_exit);
}

/* Arranges for the thread's own context to give back its caches when the
 * thread exits.  Process context only (pthread_setspecific). */
void _lab_ctx_track_exit(void)
{
	pthread_once(&lab_exit_once, lab_exit_key_init);
	if (!pthread_getspecific(lab_exit_key))
		(void)pthread_setspecific(lab_exit_key, &lab_thread_ctx);
}
