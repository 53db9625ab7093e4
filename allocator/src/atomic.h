/* atomic.h - C11 atomics with the memory order in the name.
 *
 * Every atomic access in the allocator that another thread may see goes
 * through one of these, so the ordering decision is visible at the call
 * site, and the pairing is stated in a comment there.  There are no
 * standalone thread fences: TSan does not model them, so every ordering
 * rides on an access.
 *
 * Each wrapper is a macro that names its call site ("free.c:142") and
 * calls the _at function below.  Where yield points exist
 * (LAB_HAVE_YIELD_POINTS), the function first checks the atomic hook
 * (labyrinth/hooks.h): with one installed, the access is the hook's to
 * carry out (a memory model, issue 13); without, it is the plain C11
 * operation after one relaxed load and a predicted branch.  In release
 * builds the check does not exist.
 */
#ifndef LAB_ATOMIC_H
#define LAB_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "labyrinth/hooks.h"

typedef _Atomic uint64_t lab_atomic64_t;

/* "file.c:123": the site of a wrapper's caller. */
#define LAB_ASITE_STR2_(x) #x
#define LAB_ASITE_STR_(x) LAB_ASITE_STR2_(x)
#ifdef __FILE_NAME__
#define LAB_ASITE __FILE_NAME__ ":" LAB_ASITE_STR_(__LINE__)
#else
#define LAB_ASITE __FILE__ ":" LAB_ASITE_STR_(__LINE__)
#endif

#if LAB_HAVE_YIELD_POINTS
/* "hooks.c" */
extern _Atomic(lab_atomic_hook_fn) _lab_atomic_hook;

/* The hook if one is installed (relaxed: hooks change only at quiescent
 * points), else NULL. */
static inline lab_atomic_hook_fn lab_atomic_hook(void)
{
	lab_atomic_hook_fn fn =
		atomic_load_explicit(&_lab_atomic_hook, memory_order_relaxed);

	return __builtin_expect(fn != NULL, 0) ? fn : NULL;
}
#else
static inline lab_atomic_hook_fn lab_atomic_hook(void)
{
	return NULL;
}
#endif

/* The hooked form of one access: `return` the hook's result if a hook is
 * installed (the caller then does nothing else). */
#define LAB_HOOKED_(kind, mo, mof, size, p, v, exp, site)                    \
	do {                                                                 \
		lab_atomic_hook_fn fn_ = lab_atomic_hook();                  \
		if (fn_)                                                     \
			return fn_(LAB_AHOOK_##kind, (mo), (mof), (size),    \
				   (volatile void *)(p), (v), (exp), (site)); \
	} while (0)

/* ---- 64 bits ------------------------------------------------------------ */

#define LAB_LOAD64_(order)                                                  \
	static inline uint64_t lab_load_##order##_at(const lab_atomic64_t *p, \
						     const char *site)      \
	{                                                                   \
		LAB_HOOKED_(LOAD, memory_order_##order, 0, 8, p, 0, NULL,   \
			    site);                                          \
		return atomic_load_explicit(p, memory_order_##order);       \
	}
LAB_LOAD64_(relaxed)
LAB_LOAD64_(acquire)
LAB_LOAD64_(seq_cst)
#undef LAB_LOAD64_

#define LAB_STORE64_(order)                                                  \
	static inline void lab_store_##order##_at(lab_atomic64_t *p,         \
						  uint64_t v,                \
						  const char *site)          \
	{                                                                    \
		lab_atomic_hook_fn fn_ = lab_atomic_hook();                  \
                                                                             \
		if (fn_)                                                     \
			(void)fn_(LAB_AHOOK_STORE, memory_order_##order, 0, 8, \
				  (volatile void *)p, v, NULL, site);        \
		else                                                         \
			atomic_store_explicit(p, v, memory_order_##order);   \
	}
LAB_STORE64_(relaxed)
LAB_STORE64_(release)
#undef LAB_STORE64_

#define LAB_RMW64_(name, op, KIND, order)                                     \
	static inline uint64_t lab_##name##_##order##_at(                     \
		lab_atomic64_t *p, uint64_t v, const char *site)              \
	{                                                                     \
		LAB_HOOKED_(KIND, memory_order_##order, 0, 8, p, v, NULL,     \
			    site);                                            \
		return atomic_##op##_explicit(p, v, memory_order_##order);    \
	}
LAB_RMW64_(add, fetch_add, FETCH_ADD, relaxed)
LAB_RMW64_(add, fetch_add, FETCH_ADD, seq_cst)
LAB_RMW64_(sub, fetch_sub, FETCH_SUB, relaxed)
LAB_RMW64_(sub, fetch_sub, FETCH_SUB, seq_cst)
LAB_RMW64_(xchg, exchange, EXCHANGE, relaxed)
#undef LAB_RMW64_

/* Weak CAS; on failure *expected receives the current value.  The name
 * gives the success order; the failure order is acquire for acq_rel
 * (the caller goes on to read what the winner published) and relaxed
 * otherwise. */
#define LAB_CAS64_(name, mo, mof)                                             \
	static inline bool lab_cas_##name##_at(lab_atomic64_t *p,             \
					       uint64_t *expected,            \
					       uint64_t desired,              \
					       const char *site)              \
	{                                                                     \
		LAB_HOOKED_(CAS_WEAK, mo, mof, 8, p, desired, expected,       \
			    site);                                            \
		return atomic_compare_exchange_weak_explicit(p, expected,     \
							     desired, mo,     \
							     mof);            \
	}
LAB_CAS64_(relaxed, memory_order_relaxed, memory_order_relaxed)
LAB_CAS64_(acq_rel, memory_order_acq_rel, memory_order_acquire)
LAB_CAS64_(release, memory_order_release, memory_order_relaxed)
LAB_CAS64_(seq_cst, memory_order_seq_cst, memory_order_relaxed)
#undef LAB_CAS64_

#define lab_load_relaxed(p) lab_load_relaxed_at((p), LAB_ASITE)
#define lab_load_acquire(p) lab_load_acquire_at((p), LAB_ASITE)
#define lab_load_seq_cst(p) lab_load_seq_cst_at((p), LAB_ASITE)
#define lab_store_relaxed(p, v) lab_store_relaxed_at((p), (v), LAB_ASITE)
#define lab_store_release(p, v) lab_store_release_at((p), (v), LAB_ASITE)
#define lab_add_relaxed(p, v) lab_add_relaxed_at((p), (v), LAB_ASITE)
#define lab_add_seq_cst(p, v) lab_add_seq_cst_at((p), (v), LAB_ASITE)
#define lab_sub_relaxed(p, v) lab_sub_relaxed_at((p), (v), LAB_ASITE)
#define lab_sub_seq_cst(p, v) lab_sub_seq_cst_at((p), (v), LAB_ASITE)
#define lab_xchg_relaxed(p, v) lab_xchg_relaxed_at((p), (v), LAB_ASITE)
#define lab_cas_relaxed(p, e, d) lab_cas_relaxed_at((p), (e), (d), LAB_ASITE)
#define lab_cas_acq_rel(p, e, d) lab_cas_acq_rel_at((p), (e), (d), LAB_ASITE)
#define lab_cas_release(p, e, d) lab_cas_release_at((p), (e), (d), LAB_ASITE)
#define lab_cas_seq_cst(p, e, d) lab_cas_seq_cst_at((p), (e), (d), LAB_ASITE)

/* ---- 32 bits: the futex word must be 32 bits; cache slot flags --------- */

#define LAB_LOAD32_(order)                                                   \
	static inline unsigned lab_load32_##order##_at(const atomic_uint *p, \
						       const char *site)     \
	{                                                                    \
		LAB_HOOKED_(LOAD, memory_order_##order, 0, 4, p, 0, NULL,    \
			    site);                                           \
		return atomic_load_explicit(p, memory_order_##order);        \
	}
LAB_LOAD32_(relaxed)
LAB_LOAD32_(seq_cst)
#undef LAB_LOAD32_

#define LAB_RMW32_(name, op, KIND, order)                                     \
	static inline unsigned lab_##name##32_##order##_at(                   \
		atomic_uint *p, unsigned v, const char *site)                 \
	{                                                                     \
		LAB_HOOKED_(KIND, memory_order_##order, 0, 4, p, v, NULL,     \
			    site);                                            \
		return atomic_##op##_explicit(p, v, memory_order_##order);    \
	}
LAB_RMW32_(add, fetch_add, FETCH_ADD, seq_cst)
LAB_RMW32_(sub, fetch_sub, FETCH_SUB, seq_cst)
LAB_RMW32_(xchg, exchange, EXCHANGE, acquire)
#undef LAB_RMW32_

static inline void lab_store32_release_at(atomic_uint *p, unsigned v,
					  const char *site)
{
	lab_atomic_hook_fn fn = lab_atomic_hook();

	if (fn)
		(void)fn(LAB_AHOOK_STORE, memory_order_release, 0, 4,
			 (volatile void *)p, v, NULL, site);
	else
		atomic_store_explicit(p, v, memory_order_release);
}

/* Strong CAS; on failure *expected receives the current value. */
#define LAB_CAS32_(name, mo, mof)                                          \
	static inline bool lab_cas32_##name##_at(atomic_uint *p,           \
						 unsigned *expected,       \
						 unsigned desired,         \
						 const char *site)         \
	{                                                                  \
		lab_atomic_hook_fn fn = lab_atomic_hook();                 \
		uint64_t e = *expected;                                    \
		bool ok;                                                   \
                                                                           \
		if (!fn)                                                   \
			return atomic_compare_exchange_strong_explicit(    \
				p, expected, desired, mo, mof);            \
		ok = fn(LAB_AHOOK_CAS_STRONG, mo, mof, 4,                  \
			(volatile void *)p, desired, &e, site) != 0;       \
		*expected = (unsigned)e;                                   \
		return ok;                                                 \
	}
LAB_CAS32_(acquire, memory_order_acquire, memory_order_relaxed)
LAB_CAS32_(relaxed, memory_order_relaxed, memory_order_relaxed)
#undef LAB_CAS32_

#define lab_load32_relaxed(p) lab_load32_relaxed_at((p), LAB_ASITE)
#define lab_load32_seq_cst(p) lab_load32_seq_cst_at((p), LAB_ASITE)
#define lab_add32_seq_cst(p, v) lab_add32_seq_cst_at((p), (v), LAB_ASITE)
#define lab_sub32_seq_cst(p, v) lab_sub32_seq_cst_at((p), (v), LAB_ASITE)
#define lab_store32_release(p, v) lab_store32_release_at((p), (v), LAB_ASITE)
#define lab_xchg32_acquire(p, v) lab_xchg32_acquire_at((p), (v), LAB_ASITE)
#define lab_cas32_acquire(p, e, d) lab_cas32_acquire_at((p), (e), (d), LAB_ASITE)
#define lab_cas32_relaxed(p, e, d) lab_cas32_relaxed_at((p), (e), (d), LAB_ASITE)

/* ---- counters: never hooked ----------------------------------------------
 * Statistics and a cache's own frame count order nothing: no thread reads
 * one to decide what another thread's memory holds.  They are carried out
 * inline even with an atomic hook installed, so a memory model neither
 * spends operations on them nor hands a statistics reader a stale value
 * (a check that reads the statistics, such as the controlled scheduler's
 * lost-wakeup verdict, sees memory), and the fast path pays no hook check
 * for them. */
static inline uint64_t lab_counter_load_relaxed(const lab_atomic64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}
static inline void lab_counter_store_relaxed(lab_atomic64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}
static inline void lab_counter_add_relaxed(lab_atomic64_t *p, uint64_t v)
{
	atomic_fetch_add_explicit(p, v, memory_order_relaxed);
}
static inline void lab_counter_max_relaxed(lab_atomic64_t *p, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(p, memory_order_relaxed);

	while (cur < v &&
	       !atomic_compare_exchange_weak_explicit(
		       p, &cur, v, memory_order_relaxed, memory_order_relaxed))
		;
}

/* Compiler-only barrier against a signal handler on this same thread.  It
 * orders nothing between threads (and is not a thread fence), which is
 * exactly its use: per-thread state shared with our own interrupt.  Not
 * hooked: a model runs an interrupt as part of its thread, where program
 * order already holds. */
static inline void lab_signal_barrier(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

#endif /* LAB_ATOMIC_H */
