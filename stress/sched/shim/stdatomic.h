/* stdatomic.h - labyrinth's shim over the compiler's <stdatomic.h>.
 *
 * With this directory first on the include path (labyrinth_instrument(),
 * or -I<this dir> ahead of every other -I/-isystem, see
 * docs/own-allocator.md), code that includes <stdatomic.h> gets the real
 * header and then these redefinitions of its generic functions: every
 * atomic_load/store/exchange/compare_exchange_{strong,weak}/fetch_
 * {add,sub,and,or,xor}, their _explicit forms, atomic_flag_test_and_set/
 * clear and atomic_thread_fence/atomic_signal_fence becomes one call of
 * labyrinth/atomic.h, a scheduling point named by the caller's file:line.
 * The non-explicit forms are seq_cst, as in C11.  atomic_init,
 * atomic_is_lock_free, kill_dependency, the types and ATOMIC_*_INIT stay
 * the real ones (initialisation is not a concurrent access).
 *
 * Not covered (compiled directly by the compiler, never reaching a
 * macro): plain operators on _Atomic objects (x++, x = 1, x += n, reading
 * x), which clang's -Watomic-implicit-seq-cst lists; taking the address of
 * a generic function; code compiled without the shim.
 */
#pragma GCC system_header

#include_next <stdatomic.h>

#ifndef LAB_SHIM_STDATOMIC_H
#define LAB_SHIM_STDATOMIC_H

#include "lab_shim_atomic.h"

#define LAB_SHIM_SC_ memory_order_seq_cst

#undef atomic_load
#undef atomic_load_explicit
#define atomic_load_explicit(obj, mo) \
	LAB_SHIM_LOAD_(C11, obj, mo, LAB_SITE("atomic_load"))
#define atomic_load(obj) \
	LAB_SHIM_LOAD_(C11, obj, LAB_SHIM_SC_, LAB_SITE("atomic_load"))

#undef atomic_store
#undef atomic_store_explicit
#define atomic_store_explicit(obj, v, mo) \
	LAB_SHIM_STORE_(C11, obj, v, mo, LAB_SITE("atomic_store"))
#define atomic_store(obj, v) \
	LAB_SHIM_STORE_(C11, obj, v, LAB_SHIM_SC_, LAB_SITE("atomic_store"))

#undef atomic_exchange
#undef atomic_exchange_explicit
#define atomic_exchange_explicit(obj, v, mo) \
	LAB_SHIM_XCHG_(C11, obj, v, mo, LAB_SITE("atomic_exchange"))
#define atomic_exchange(obj, v) \
	LAB_SHIM_XCHG_(C11, obj, v, LAB_SHIM_SC_, LAB_SITE("atomic_exchange"))

#undef atomic_compare_exchange_strong
#undef atomic_compare_exchange_strong_explicit
#undef atomic_compare_exchange_weak
#undef atomic_compare_exchange_weak_explicit
#define atomic_compare_exchange_strong_explicit(obj, exp, des, mos, mof) \
	LAB_SHIM_CAS_(C11, obj, exp, des, 0, mos, mof,                   \
		      LAB_SITE("atomic_compare_exchange_strong"))
#define atomic_compare_exchange_strong(obj, exp, des)                    \
	LAB_SHIM_CAS_(C11, obj, exp, des, 0, LAB_SHIM_SC_, LAB_SHIM_SC_, \
		      LAB_SITE("atomic_compare_exchange_strong"))
#define atomic_compare_exchange_weak_explicit(obj, exp, des, mos, mof) \
	LAB_SHIM_CAS_(C11, obj, exp, des, 1, mos, mof,                 \
		      LAB_SITE("atomic_compare_exchange_weak"))
#define atomic_compare_exchange_weak(obj, exp, des)                      \
	LAB_SHIM_CAS_(C11, obj, exp, des, 1, LAB_SHIM_SC_, LAB_SHIM_SC_, \
		      LAB_SITE("atomic_compare_exchange_weak"))

#undef atomic_fetch_add
#undef atomic_fetch_add_explicit
#undef atomic_fetch_sub
#undef atomic_fetch_sub_explicit
#undef atomic_fetch_and
#undef atomic_fetch_and_explicit
#undef atomic_fetch_or
#undef atomic_fetch_or_explicit
#undef atomic_fetch_xor
#undef atomic_fetch_xor_explicit
#define atomic_fetch_add_explicit(obj, v, mo)                      \
	LAB_SHIM_FETCH_(add, obj, v, LAB_SHIM_C11_SCALE_(obj), mo, \
			LAB_SITE("atomic_fetch_add"))
#define atomic_fetch_add(obj, v)                                             \
	LAB_SHIM_FETCH_(add, obj, v, LAB_SHIM_C11_SCALE_(obj), LAB_SHIM_SC_, \
			LAB_SITE("atomic_fetch_add"))
#define atomic_fetch_sub_explicit(obj, v, mo)                      \
	LAB_SHIM_FETCH_(sub, obj, v, LAB_SHIM_C11_SCALE_(obj), mo, \
			LAB_SITE("atomic_fetch_sub"))
#define atomic_fetch_sub(obj, v)                                             \
	LAB_SHIM_FETCH_(sub, obj, v, LAB_SHIM_C11_SCALE_(obj), LAB_SHIM_SC_, \
			LAB_SITE("atomic_fetch_sub"))
#define atomic_fetch_and_explicit(obj, v, mo) \
	LAB_SHIM_FETCH_(and, obj, v, 1, mo, LAB_SITE("atomic_fetch_and"))
#define atomic_fetch_and(obj, v)                      \
	LAB_SHIM_FETCH_(and, obj, v, 1, LAB_SHIM_SC_, \
			LAB_SITE("atomic_fetch_and"))
#define atomic_fetch_or_explicit(obj, v, mo) \
	LAB_SHIM_FETCH_(or, obj, v, 1, mo, LAB_SITE("atomic_fetch_or"))
#define atomic_fetch_or(obj, v)                      \
	LAB_SHIM_FETCH_(or, obj, v, 1, LAB_SHIM_SC_, \
			LAB_SITE("atomic_fetch_or"))
#define atomic_fetch_xor_explicit(obj, v, mo) \
	LAB_SHIM_FETCH_(xor, obj, v, 1, mo, LAB_SITE("atomic_fetch_xor"))
#define atomic_fetch_xor(obj, v)                      \
	LAB_SHIM_FETCH_(xor, obj, v, 1, LAB_SHIM_SC_, \
			LAB_SITE("atomic_fetch_xor"))

#undef atomic_flag_test_and_set
#undef atomic_flag_test_and_set_explicit
#undef atomic_flag_clear
#undef atomic_flag_clear_explicit
#define atomic_flag_test_and_set_explicit(obj, mo) \
	lab_atomic_flag_test_and_set((obj), (mo),  \
				     LAB_SITE("atomic_flag_test_and_set"))
#define atomic_flag_test_and_set(obj)                     \
	lab_atomic_flag_test_and_set((obj), LAB_SHIM_SC_, \
				     LAB_SITE("atomic_flag_test_and_set"))
#define atomic_flag_clear_explicit(obj, mo) \
	lab_atomic_flag_clear((obj), (mo), LAB_SITE("atomic_flag_clear"))
#define atomic_flag_clear(obj)                     \
	lab_atomic_flag_clear((obj), LAB_SHIM_SC_, \
			      LAB_SITE("atomic_flag_clear"))

#undef atomic_thread_fence
#undef atomic_signal_fence
#define atomic_thread_fence(mo) \
	lab_atomic_thread_fence((mo), LAB_SITE("atomic_thread_fence"))
#define atomic_signal_fence(mo) \
	lab_atomic_signal_fence((mo), LAB_SITE("atomic_signal_fence"))

/* gcc's atomic_init is atomic_store_explicit(relaxed), which would now be
 * a scheduling point: keep it the plain store it is meant to be. */
#if !defined(__clang__)
#undef atomic_init
#define atomic_init(obj, v)                                            \
	__extension__({                                                \
		__typeof__(obj) lab_io_ = (obj);                       \
		LAB_SHIM_T_(lab_io_) lab_iv_ = (v);                    \
		(__atomic_store)(lab_io_, &lab_iv_, __ATOMIC_RELAXED); \
	})
#endif

#endif /* LAB_SHIM_STDATOMIC_H */
