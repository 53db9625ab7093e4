/* labyrinth/hooks.h - where a scheduler or preemption injector takes over.
 *
 * Every step of the allocator that touches shared memory first passes a
 * named yield point.  A hook installed here runs at each of them and may
 * switch to another logical thread, inject a simulated interrupt
 * (lab_irq_raise) or delay.  Yield points exist when LAB_HAVE_YIELD_POINTS
 * is 1 (every build except release); in release the calls compile away.
 *
 * Blocking waits (GFP_KERNEL waiting for a free) go through the wait hook
 * when one is installed, so a scheduler that runs logical threads on one
 * pthread can run the others instead of sleeping.  The wait hook exists in
 * every build.
 */
#ifndef LABYRINTH_HOOKS_H
#define LABYRINTH_HOOKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef LAB_HAVE_YIELD_POINTS
#ifdef LAB_RELEASE
#define LAB_HAVE_YIELD_POINTS 0
#else
#define LAB_HAVE_YIELD_POINTS 1
#endif
#endif

/* X-macro: name, what happens right after the point. */
#define LAB_YIELD_POINTS(X)                                                    \
	X(ALLOC_ENTER, "alloc:enter")                                          \
	X(WMARK_RESERVE, "alloc:wmark-reserve") /* CAS on the free count */    \
	X(BUDDY_PROBE, "buddy:probe")		/* read a bitmap word */       \
	X(BUDDY_CLAIM, "buddy:claim")		/* CAS a block out */          \
	X(BUDDY_SPLIT, "buddy:split")		/* give back a split half */   \
	X(BUDDY_INSERT, "buddy:insert")		/* CAS a block in or merge */  \
	X(DESC_PUBLISH, "desc:publish")		/* head descriptor set */      \
	X(PCP_ENTER, "pcp:enter")		/* per-thread cache section */ \
	X(PCP_LIST, "pcp:list") /* cache list read, not yet written */         \
	X(FREE_ENTER, "free:enter")                                            \
	X(FREE_DESC, "free:desc")   /* CAS descriptor to free */               \
	X(WAKE, "free:wake")	    /* bump seq, wake waiters */               \
	X(WAIT, "alloc:wait")	    /* GFP_KERNEL about to wait */             \
	X(HANDOFF, "owner:handoff") /* CAS the owner field */                  \
	X(SPIN, "spin:wait")	    /* lab_spin_lock spinning */               \
	X(CTX_ID, "ctx:task-id")    /* racy-task-id's window (bugs.h) */

enum lab_yield_point {
#define LAB_YP_ENUM(id, name) LAB_YP_##id,
	LAB_YIELD_POINTS(LAB_YP_ENUM)
#undef LAB_YP_ENUM
		LAB_YP_COUNT
};

/* "buddy:claim", ...; "?" for an out-of-range value. */
const char *lab_yield_point_name(enum lab_yield_point point);

/* Runs at every yield point of every maze, on the thread (and in the
 * context) that reached it, possibly inside a signal handler: keep it
 * async-signal-safe.  The allocator's state is consistent for other
 * threads at every point. */
typedef void (*lab_yield_fn)(enum lab_yield_point point, void *arg);

/* Replaces a blocking wait: return when *word != expected (0) or after
 * timeout_ms (-ETIMEDOUT); spurious returns are allowed. */
typedef int (*lab_wait_fn)(const atomic_uint *word, unsigned expected,
			   unsigned timeout_ms, void *arg);

struct lab_sched_hooks {
	lab_yield_fn yield; /* NULL: no hook */
	lab_wait_fn wait;   /* NULL: futex wait */
	void *arg;
};

/* Installs hooks process-wide (NULL removes them).  Set them at a quiescent
 * point; not async-signal-safe. */
void lab_set_sched_hooks(const struct lab_sched_hooks *hooks);


/* ---- memory hooks: the allocator's own memory under a memory model -------
 *
 * A controlled scheduler runs one logical thread at a time, so every load
 * sees the latest store.  To explore weak-memory behaviour (a C11 model,
 * issue 13) it must see the allocator's atomics and the plain memory they
 * publish.  With an atomic hook installed, every atomic access of the
 * allocator (each wrapper of allocator/src/atomic.h, memory order in its
 * name) is handed to the hook instead of being carried out inline; the
 * hook performs it, on real memory, under whatever model it keeps.  With
 * a plain hook installed, the plain accesses that cross threads through
 * those atomics are reported to it: the frames' contents (poison written
 * at free and scanned at allocation, zeroing) and the cache link of a
 * frame's descriptor.  Allocator atomics are not yield points; the hooks
 * only route memory.
 *
 * Like the yield points they exist when LAB_HAVE_YIELD_POINTS is 1; the
 * cost without a hook is one relaxed load and a predicted branch per
 * access.  In release builds the calls compile away and installing hooks
 * does nothing.
 */

/* An atomic access of the allocator, as the hook receives it. */
enum lab_atomic_hook_kind {
	LAB_AHOOK_LOAD,
	LAB_AHOOK_STORE,
	LAB_AHOOK_EXCHANGE,
	LAB_AHOOK_CAS_WEAK,
	LAB_AHOOK_CAS_STRONG,
	LAB_AHOOK_FETCH_ADD,
	LAB_AHOOK_FETCH_SUB,
};

/* Carries out one atomic access of `size` (4 or 8) bytes at addr with
 * memory order `order` (memory_order_*; for a CAS the success order, and
 * `order_failure` the failure order): returns the old value (load,
 * exchange, fetch_add/sub), 1 or 0 for a CAS (whether it stored; on
 * failure *expected receives the value found), 0 for a store.  Values
 * are zero-extended to 64 bits.  `site` is a static string naming the
 * access ("free.c:142").  Runs on the thread that made the access,
 * possibly inside a signal handler: keep it async-signal-safe. */
typedef uint64_t (*lab_atomic_hook_fn)(enum lab_atomic_hook_kind kind,
				       int order, int order_failure,
				       unsigned size, volatile void *addr,
				       uint64_t operand, uint64_t *expected,
				       const char *site);

/* A plain (non-atomic) access of [addr, addr + len) that another thread
 * may make too, ordered only by the allocator's atomics: told before a
 * read, and before a write.  Frames are reported one page at a time, at
 * their first byte.  Same context rules as the atomic hook. */
typedef void (*lab_plain_hook_fn)(const volatile void *addr, size_t len,
				  bool write, const char *site);

struct lab_memory_hooks {
	lab_atomic_hook_fn atomic; /* NULL: atomics carried out inline */
	lab_plain_hook_fn plain;   /* NULL: plain accesses not reported */
};

/* Installs the memory hooks process-wide (NULL removes them), at a
 * quiescent point: no allocator call may be under way on any thread.
 * Not async-signal-safe. */
void lab_set_memory_hooks(const struct lab_memory_hooks *hooks);

#endif /* LABYRINTH_HOOKS_H */
