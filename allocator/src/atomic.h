/* atomic.h - C11 atomics with the memory order in the name.
 *
 * Every atomic access in the allocator goes through one of these, so the
 * ordering decision is visible at the call site, and the pairing is stated
 * in a comment there.  There are no standalone thread fences: TSan does not
 * model them, so every ordering rides on an access.
 */
#ifndef LAB_ATOMIC_H
#define LAB_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef _Atomic uint64_t lab_atomic64_t;

static inline uint64_t lab_load_relaxed(const lab_atomic64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}
static inline uint64_t lab_load_acquire(const lab_atomic64_t *p)
{
	return atomic_load_explicit(p, memory_order_acquire);
}
static inline uint64_t lab_load_seq_cst(const lab_atomic64_t *p)
{
	return atomic_load_explicit(p, memory_order_seq_cst);
}
static inline void lab_store_relaxed(lab_atomic64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}
static inline void lab_store_release(lab_atomic64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_release);
}
static inline uint64_t lab_add_relaxed(lab_atomic64_t *p, uint64_t v)
{
	return atomic_fetch_add_explicit(p, v, memory_order_relaxed);
}
static inline uint64_t lab_xchg_relaxed(lab_atomic64_t *p, uint64_t v)
{
	return atomic_exchange_explicit(p, v, memory_order_relaxed);
}
static inline uint64_t lab_sub_relaxed(lab_atomic64_t *p, uint64_t v)
{
	return atomic_fetch_sub_explicit(p, v, memory_order_relaxed);
}
static inline uint64_t lab_add_seq_cst(lab_atomic64_t *p, uint64_t v)
{
	return atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}
static inline uint64_t lab_sub_seq_cst(lab_atomic64_t *p, uint64_t v)
{
	return atomic_fetch_sub_explicit(p, v, memory_order_seq_cst);
}
/* Raises *p to v if larger (monotonic maxima such as the longest wait). */
static inline void lab_max_relaxed(lab_atomic64_t *p, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);
	while (cur < v &&
	       !atomic_compare_exchange_weak_explicit(
		       p, &cur, v, memory_order_relaxed, memory_order_relaxed))
		;
}
/* On failure *expected receives the current value (acquire on failure
 * where the caller goes on to read what the winner published). */
static inline bool lab_cas_relaxed(lab_atomic64_t *p, uint64_t *expected,
				   uint64_t desired)
{
	return atomic_compare_exchange_weak_explicit(p, expected, desired,
						     memory_order_relaxed,
						     memory_order_relaxed);
}
static inline bool lab_cas_acq_rel(lab_atomic64_t *p, uint64_t *expected,
				   uint64_t desired)
{
	return atomic_compare_exchange_weak_explicit(p, expected, desired,
						     memory_order_acq_rel,
						     memory_order_acquire);
}
static inline bool lab_cas_release(lab_atomic64_t *p, uint64_t *expected,
				   uint64_t desired)
{
	return atomic_compare_exchange_weak_explicit(p, expected, desired,
						     memory_order_release,
						     memory_order_relaxed);
}

/* 32-bit: the futex word must be 32 bits. */
static inline unsigned lab_load32_seq_cst(const atomic_uint *p)
{
	return atomic_load_explicit(p, memory_order_seq_cst);
}
static inline unsigned lab_add32_seq_cst(atomic_uint *p, unsigned v)
{
	return atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}
static inline unsigned lab_sub32_seq_cst(atomic_uint *p, unsigned v)
{
	return atomic_fetch_sub_explicit(p, v, memory_order_seq_cst);
}

/* Compiler-only barrier against a signal handler on this same thread.  It
 * orders nothing between threads (and is not a thread fence), which is
 * exactly its use: per-thread state shared with our own interrupt. */
static inline void lab_signal_barrier(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

#endif /* LAB_ATOMIC_H */
