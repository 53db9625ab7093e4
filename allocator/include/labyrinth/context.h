/* labyrinth/context.h - simulated execution context.
 *
 * Every thread has a current context (struct lab_ctx): a task id, a simulated
 * hard-IRQ nesting count, a simulated "IRQs disabled" bit and a preempt
 * count raised by lab_spinlock.  The allocator reads it to decide who owns an
 * EXCLUSIVE block and whether a blocking call is legal (might_sleep).
 *
 * A scheduler running several logical threads on one pthread (fibers) gives
 * each its own context and swaps it in with lab_ctx_switch().
 *
 * Interrupts are simulated: the code that plays the interrupt controller (a
 * signal handler, or a scheduler at a yield point) calls lab_irq_raise().
 * If the current context has IRQs disabled the interrupt is kept pending and
 * runs when lab_local_irq_restore()/lab_local_irq_enable() re-enables them,
 * as on real hardware.  Pending interrupts of one context coalesce into one.
 *
 * Unless noted, every function here is async-signal-safe, never blocks and
 * may be called from interrupt context.
 */
#ifndef LABYRINTH_CONTEXT_H
#define LABYRINTH_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct lab_ctx;

/* Context ids: the task id, with LAB_CTX_IRQ_BIT set while in hard-IRQ
 * context.  An interrupt is a different context from the task it
 * interrupts: it cannot free or touch that task's EXCLUSIVE blocks. */
#define LAB_CTX_IRQ_BIT 0x80000000u
#define LAB_CTX_TASK_MAX 0x7fffffffu

/* ---- contexts ---------------------------------------------------------- */

/* The calling thread's current context; created on first use with a fresh
 * task id.  Never NULL. */
struct lab_ctx *lab_ctx_current(void);

/* Creates a context for a logical thread.  task_id 0 picks a fresh id;
 * otherwise 1..LAB_CTX_TASK_MAX.  name may be NULL (max 15 chars kept).
 * May allocate: not async-signal-safe.  Returns NULL with lab_last_error()
 * set on a bad id or out of memory. */
struct lab_ctx *lab_ctx_create(uint32_t task_id, const char *name);
/* Destroys a context made by lab_ctx_create(); NULL is ignored.  The
 * context must not be current on any thread. */
void lab_ctx_destroy(struct lab_ctx *ctx);

/* Makes ctx current on the calling thread and returns the previous one.
 * NULL restores the thread's own context. */
struct lab_ctx *lab_ctx_switch(struct lab_ctx *ctx);

/* Owner id of the current context (task id, | LAB_CTX_IRQ_BIT in IRQ). */
uint32_t lab_ctx_id(void);
uint32_t lab_ctx_task_id(const struct lab_ctx *ctx);
const char *lab_ctx_name(const struct lab_ctx *ctx);
/* Sets the current context's name (kept for reports). */
void lab_ctx_set_name(const char *name);

/* ---- state queries (like in_irq(), in_atomic(), irqs_disabled()) ------- */

bool lab_in_irq(void);
bool lab_irqs_disabled(void);
unsigned lab_preempt_count(void);
/* True where sleeping is illegal: in IRQ, IRQs disabled or preempt count > 0. */
bool lab_in_atomic(void);

/* ---- simulated hard IRQs ----------------------------------------------- */

/* Enter/leave hard-IRQ context (nesting allowed).  An unbalanced
 * lab_irq_exit() is reported (LAB_REPORT_CONTEXT) and ignored. */
void lab_irq_enter(void);
void lab_irq_exit(void);

typedef void (*lab_isr_fn)(void *arg);

/* Delivers a simulated interrupt to the current context: runs isr(arg)
 * between lab_irq_enter() and lab_irq_exit() now, or, if IRQs are disabled,
 * records it as pending (a second one while pending coalesces) and returns.
 * Returns true if it ran now.  Designed to be called from a signal handler. */
bool lab_irq_raise(lab_isr_fn isr, void *arg);
/* Interrupts raised on the current context so far: delivered at once,
 * deferred, and coalesced into an already-pending one. */
struct lab_irq_counts {
	uint64_t delivered;
	uint64_t deferred;
	uint64_t coalesced;
};
void lab_irq_counts(struct lab_irq_counts *out);

/* IRQs disabled/enabled, like local_irq_save()/restore().  Restoring to the
 * enabled state runs a pending interrupt. */
unsigned long lab_local_irq_save(void);
void lab_local_irq_restore(unsigned long flags);
void lab_local_irq_disable(void);
void lab_local_irq_enable(void);

/* Preemption count, like preempt_disable()/preempt_enable().  An unbalanced
 * enable is reported (LAB_REPORT_CONTEXT) and ignored. */
void lab_preempt_disable(void);
void lab_preempt_enable(void);

/* ---- spinlock ----------------------------------------------------------- */

/* A test-and-test-and-set lock that raises the preempt count while held, so
 * a blocking allocation under it is reported as sleeping in atomic context.
 * The allocator itself never takes it: it is for code under test. */
typedef struct lab_spinlock {
	atomic_uint locked;
} lab_spinlock_t;
#define LAB_SPINLOCK_INIT \
	{                 \
		0         \
	}

void lab_spin_lock_init(lab_spinlock_t *lock);
/* Spins (never sleeps).  Taking it from an interrupt that preempted its
 * holder on the same context deadlocks, as in the kernel: use the _irqsave
 * form for locks an interrupt handler also takes. */
void lab_spin_lock(lab_spinlock_t *lock);
bool lab_spin_trylock(lab_spinlock_t *lock);
void lab_spin_unlock(lab_spinlock_t *lock);
void lab_spin_lock_irqsave(lab_spinlock_t *lock, unsigned long *flags);
void lab_spin_unlock_irqrestore(lab_spinlock_t *lock, unsigned long flags);

/* ---- might_sleep -------------------------------------------------------- */

/* Reports "BUG: sleeping function called from invalid context at FILE:LINE"
 * (LAB_REPORT_SLEEP_IN_ATOMIC, with in_atomic(), irqs_disabled(), pid and
 * name) if the current context may not sleep.  Returns true if sleeping is
 * allowed.  The allocator calls it on every blocking allocation. */
bool lab_might_sleep_at(const char *file, int line);
#define lab_might_sleep() lab_might_sleep_at(__FILE__, __LINE__)

#endif /* LABYRINTH_CONTEXT_H */
