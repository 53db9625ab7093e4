/* lab_shim_atomic.h - the machinery of the <stdatomic.h> shim, and the
 * instrumented GNU __atomic_* and __sync_* builtins.
 *
 * Every macro here turns one atomic operation on an object of 1, 2, 4 or
 * 8 bytes (integer, pointer, enum, small struct) into one call of the
 * typed operation of labyrinth/atomic.h of that size, with a site naming
 * the caller's file:line: one scheduling point per operation.  The value
 * travels through a union of the object's own type and the sized words,
 * so the result has the object's type and no bits are converted.  Wider
 * objects (16-byte compare-exchange) keep a scheduling point but are
 * performed by the compiler's builtin, outside lab_atomic_perform().
 *
 * labyrinth_instrument() force-includes this file (so code that uses the
 * builtins without <stdatomic.h> is covered); the shim's stdatomic.h
 * includes it too.  It includes no libc header, so it cannot change a
 * file's feature-test macros.  Define LAB_SHIM_NO_GNU_BUILTINS to keep the
 * GNU __atomic and __sync builtins as they are.
 *
 * The macros are statement expressions (__extension__ ({ ... })) using
 * __typeof__, which gcc and clang accept in every -std mode.
 */
#ifndef LAB_SHIM_ATOMIC_H
#define LAB_SHIM_ATOMIC_H

#pragma GCC system_header

#include "labyrinth/atomic.h"

/* The non-atomic, unqualified type of *p (a comma drops _Atomic). */
#define LAB_SHIM_T_(p) __typeof__((void)0, *(p))
#define LAB_SHIM_WORDS_(p)        \
	union {                   \
		LAB_SHIM_T_(p) v; \
		lab_u8_t u8;      \
		lab_u16_t u16;    \
		lab_u32_t u32;    \
		lab_u64_t u64;    \
	}
#define LAB_SHIM_SZ_(u) sizeof((u).v)
#define LAB_SHIM_SIZED_(u)                               \
	(LAB_SHIM_SZ_(u) == 1 || LAB_SHIM_SZ_(u) == 2 || \
	 LAB_SHIM_SZ_(u) == 4 || LAB_SHIM_SZ_(u) == 8)
/* u's value as a zero-extended word, and back. */
#define LAB_SHIM_RAW_(u)                             \
	(LAB_SHIM_SZ_(u) == 1 ? (lab_u64_t)(u).u8 :  \
	 LAB_SHIM_SZ_(u) == 2 ? (lab_u64_t)(u).u16 : \
	 LAB_SHIM_SZ_(u) == 4 ? (lab_u64_t)(u).u32 : \
				(u).u64)
#define LAB_SHIM_SET_RAW_(u, raw)                                    \
	(LAB_SHIM_SZ_(u) == 1 ? (void)((u).u8 = (lab_u8_t)(raw)) :   \
	 LAB_SHIM_SZ_(u) == 2 ? (void)((u).u16 = (lab_u16_t)(raw)) : \
	 LAB_SHIM_SZ_(u) == 4 ? (void)((u).u32 = (lab_u32_t)(raw)) : \
				(void)((u).u64 = (lab_u64_t)(raw)))
/* lab_atomic_<op>_<size of u>(obj, ...), as a word (or void). */
#define LAB_SHIM_CALL_(u, op, obj, ...)                              \
	(LAB_SHIM_SZ_(u) == 1 ?                                      \
		 (lab_u64_t)lab_atomic_##op##_8(obj, __VA_ARGS__) :  \
	 LAB_SHIM_SZ_(u) == 2 ?                                      \
		 (lab_u64_t)lab_atomic_##op##_16(obj, __VA_ARGS__) : \
	 LAB_SHIM_SZ_(u) == 4 ?                                      \
		 (lab_u64_t)lab_atomic_##op##_32(obj, __VA_ARGS__) : \
		 (lab_u64_t)lab_atomic_##op##_64(obj, __VA_ARGS__))
#define LAB_SHIM_CALL_VOID_(u, op, obj, ...)                             \
	(LAB_SHIM_SZ_(u) == 1 ? lab_atomic_##op##_8(obj, __VA_ARGS__) :  \
	 LAB_SHIM_SZ_(u) == 2 ? lab_atomic_##op##_16(obj, __VA_ARGS__) : \
	 LAB_SHIM_SZ_(u) == 4 ? lab_atomic_##op##_32(obj, __VA_ARGS__) : \
				lab_atomic_##op##_64(obj, __VA_ARGS__))

/* Objects wider than 8 bytes: the compiler's own operation.  C11 forms
 * take _Atomic objects (clang: __c11_*), GNU forms plain ones; a builtin's
 * name in parentheses is not this file's macro of the same name. */
#ifdef __clang__
#define LAB_SHIM_C11_WIDE_LOAD_(p, r, mo) (*(r) = __c11_atomic_load(p, mo))
#define LAB_SHIM_C11_WIDE_STORE_(p, v, mo) __c11_atomic_store(p, *(v), mo)
#define LAB_SHIM_C11_WIDE_XCHG_(p, v, r, mo) \
	(*(r) = __c11_atomic_exchange(p, *(v), mo))
#define LAB_SHIM_C11_WIDE_CAS_(p, e, d, weak, mos, mof)                      \
	((weak) ? __c11_atomic_compare_exchange_weak(p, e, *(d), mos, mof) : \
		  __c11_atomic_compare_exchange_strong(p, e, *(d), mos, mof))
#else
#define LAB_SHIM_C11_WIDE_LOAD_ LAB_SHIM_GNU_WIDE_LOAD_
#define LAB_SHIM_C11_WIDE_STORE_ LAB_SHIM_GNU_WIDE_STORE_
#define LAB_SHIM_C11_WIDE_XCHG_ LAB_SHIM_GNU_WIDE_XCHG_
#define LAB_SHIM_C11_WIDE_CAS_ LAB_SHIM_GNU_WIDE_CAS_
#endif
/* Their scheduling point, with the branch the typed operations have. */
#define LAB_SHIM_WIDE_POINT_(site) \
	(lab_sched_active() ? lab_sched_point(site) : (void)0)
#define LAB_SHIM_GNU_WIDE_LOAD_(p, r, mo) (__atomic_load)(p, r, mo)
#define LAB_SHIM_GNU_WIDE_STORE_(p, v, mo) (__atomic_store)(p, v, mo)
#define LAB_SHIM_GNU_WIDE_XCHG_(p, v, r, mo) (__atomic_exchange)(p, v, r, mo)
#define LAB_SHIM_GNU_WIDE_CAS_(p, e, d, weak, mos, mof) \
	(__atomic_compare_exchange)(p, e, d, weak, mos, mof)

/* ---- the operations (FORM is C11 or GNU: how wide objects go) -------- */

/* Stores the value of *obj into *(ret); *ret must have *obj's type. */
#define LAB_SHIM_LOAD_INTO_(FORM, obj, ret, mo, site)                          \
	__extension__({                                                        \
		__typeof__(obj) lab_o_ = (obj);                                \
		LAB_SHIM_WORDS_(lab_o_) lab_u_;                                \
		if (LAB_SHIM_SIZED_(lab_u_)) {                                 \
			lab_u64_t lab_w_ = LAB_SHIM_CALL_(lab_u_, load,        \
							  lab_o_, (mo), site); \
			LAB_SHIM_SET_RAW_(lab_u_, lab_w_);                     \
		} else {                                                       \
			LAB_SHIM_WIDE_POINT_(site);                            \
			LAB_SHIM_##FORM##_WIDE_LOAD_(lab_o_, &lab_u_.v, (mo)); \
		}                                                              \
		*(ret) = lab_u_.v;                                             \
	})
#define LAB_SHIM_LOAD_(FORM, obj, mo, site)                        \
	__extension__({                                            \
		LAB_SHIM_T_(obj) lab_r_;                           \
		LAB_SHIM_LOAD_INTO_(FORM, obj, &lab_r_, mo, site); \
		lab_r_;                                            \
	})

#define LAB_SHIM_STORE_(FORM, obj, val, mo, site)                        \
	__extension__({                                                  \
		__typeof__(obj) lab_o_ = (obj);                          \
		LAB_SHIM_WORDS_(lab_o_) lab_u_;                          \
		lab_u_.u64 = 0;                                          \
		lab_u_.v = (val);                                        \
		if (LAB_SHIM_SIZED_(lab_u_)) {                           \
			LAB_SHIM_CALL_VOID_(lab_u_, store, lab_o_,       \
					    LAB_SHIM_RAW_(lab_u_), (mo), \
					    site);                       \
		} else {                                                 \
			LAB_SHIM_WIDE_POINT_(site);                      \
			LAB_SHIM_##FORM##_WIDE_STORE_(lab_o_, &lab_u_.v, \
						      (mo));             \
		}                                                        \
		(void)0;                                                 \
	})

/* Exchange: *obj = val, returns the old value in *(ret). */
#define LAB_SHIM_XCHG_INTO_(FORM, obj, val, ret, mo, site)              \
	__extension__({                                                 \
		__typeof__(obj) lab_o_ = (obj);                         \
		LAB_SHIM_WORDS_(lab_o_) lab_u_, lab_r_;                 \
		lab_u_.u64 = 0;                                         \
		lab_u_.v = (val);                                       \
		if (LAB_SHIM_SIZED_(lab_u_)) {                          \
			lab_u64_t lab_w_ = LAB_SHIM_CALL_(              \
				lab_u_, exchange, lab_o_,               \
				LAB_SHIM_RAW_(lab_u_), (mo), site);     \
			LAB_SHIM_SET_RAW_(lab_r_, lab_w_);              \
		} else {                                                \
			LAB_SHIM_WIDE_POINT_(site);                     \
			LAB_SHIM_##FORM##_WIDE_XCHG_(lab_o_, &lab_u_.v, \
						     &lab_r_.v, (mo));  \
		}                                                       \
		*(ret) = lab_r_.v;                                      \
	})
#define LAB_SHIM_XCHG_(FORM, obj, val, mo, site)                        \
	__extension__({                                                 \
		LAB_SHIM_T_(obj) lab_x_;                                \
		LAB_SHIM_XCHG_INTO_(FORM, obj, val, &lab_x_, mo, site); \
		lab_x_;                                                 \
	})

/* Compare-exchange with the desired value at *(desp). */
#define LAB_SHIM_CAS_PTR_(FORM, obj, exp, desp, weak, mos, mof, site)          \
	__extension__({                                                        \
		__typeof__(obj) lab_o_ = (obj);                                \
		__typeof__(exp) lab_e_ = (exp);                                \
		LAB_SHIM_WORDS_(lab_o_) lab_x_, lab_d_;                        \
		_Bool lab_ok_;                                                 \
		lab_x_.u64 = 0;                                                \
		lab_d_.u64 = 0;                                                \
		lab_x_.v = *lab_e_;                                            \
		lab_d_.v = *(desp);                                            \
		if (LAB_SHIM_SZ_(lab_x_) == 1)                                 \
			lab_ok_ = lab_atomic_cas_8(lab_o_, &lab_x_.u8,         \
						   lab_d_.u8, (weak), (mos),   \
						   (mof), site);               \
		else if (LAB_SHIM_SZ_(lab_x_) == 2)                            \
			lab_ok_ = lab_atomic_cas_16(lab_o_, &lab_x_.u16,       \
						    lab_d_.u16, (weak), (mos), \
						    (mof), site);              \
		else if (LAB_SHIM_SZ_(lab_x_) == 4)                            \
			lab_ok_ = lab_atomic_cas_32(lab_o_, &lab_x_.u32,       \
						    lab_d_.u32, (weak), (mos), \
						    (mof), site);              \
		else if (LAB_SHIM_SZ_(lab_x_) == 8)                            \
			lab_ok_ = lab_atomic_cas_64(lab_o_, &lab_x_.u64,       \
						    lab_d_.u64, (weak), (mos), \
						    (mof), site);              \
		else {                                                         \
			LAB_SHIM_WIDE_POINT_(site);                            \
			lab_ok_ = LAB_SHIM_##FORM##_WIDE_CAS_(                 \
				lab_o_, &lab_x_.v, &lab_d_.v, (weak), (mos),   \
				(mof));                                        \
		}                                                              \
		if (!lab_ok_)                                                  \
			*lab_e_ = lab_x_.v;                                    \
		lab_ok_;                                                       \
	})
#define LAB_SHIM_CAS_(FORM, obj, exp, des, weak, mos, mof, site)            \
	__extension__({                                                     \
		LAB_SHIM_T_(obj) lab_dv_ = (des);                           \
		LAB_SHIM_CAS_PTR_(FORM, obj, exp, &lab_dv_, weak, mos, mof, \
				  site);                                    \
	})

/* fetch_<op>: returns the old value.  scale: bytes per unit of val (the
 * pointee's size for C11 pointer arithmetic, else 1). */
#define LAB_SHIM_FETCH_RAW_(u, op, obj, val, scale, mo, site)                \
	LAB_SHIM_CALL_(u, fetch_##op, obj, (lab_u64_t)(val) * (scale), (mo), \
		       site)
#define LAB_SHIM_FETCH_(op, obj, val, scale, mo, site)                        \
	__extension__({                                                       \
		__typeof__(obj) lab_o_ = (obj);                               \
		LAB_SHIM_WORDS_(lab_o_) lab_u_;                               \
		lab_u64_t lab_k_ = (scale), lab_w_;                           \
		_Static_assert(LAB_SHIM_SIZED_(lab_u_),                       \
			       "labyrinth shim: atomic arithmetic on an "     \
			       "object of this size is not instrumented");    \
		lab_w_ = LAB_SHIM_FETCH_RAW_(lab_u_, op, lab_o_, val, lab_k_, \
					     mo, site);                       \
		LAB_SHIM_SET_RAW_(lab_u_, lab_w_);                            \
		lab_u_.v;                                                     \
	})
/* <op>_fetch: returns the new value (GNU builtins only: no scaling). */
#define LAB_SHIM_APPLY_add(a, b) ((a) + (b))
#define LAB_SHIM_APPLY_sub(a, b) ((a) - (b))
#define LAB_SHIM_APPLY_and(a, b) ((a) & (b))
#define LAB_SHIM_APPLY_or(a, b) ((a) | (b))
#define LAB_SHIM_APPLY_xor(a, b) ((a) ^ (b))
#define LAB_SHIM_APPLY_nand(a, b) (~((a) & (b)))
#define LAB_SHIM_OP_FETCH_(op, obj, val, mo, site)                           \
	__extension__({                                                      \
		__typeof__(obj) lab_o_ = (obj);                              \
		LAB_SHIM_WORDS_(lab_o_) lab_u_;                              \
		lab_u64_t lab_n_ = (lab_u64_t)(val);                         \
		_Static_assert(LAB_SHIM_SIZED_(lab_u_),                      \
			       "labyrinth shim: atomic arithmetic on an "    \
			       "object of this size is not instrumented");   \
		lab_u64_t lab_w_ = LAB_SHIM_FETCH_RAW_(lab_u_, op, lab_o_,   \
						       lab_n_, 1, mo, site); \
		lab_w_ = LAB_SHIM_APPLY_##op(lab_w_, lab_n_);                \
		LAB_SHIM_SET_RAW_(lab_u_, lab_w_);                           \
		lab_u_.v;                                                    \
	})

/* C11 scales pointer arithmetic by the pointee; clang's <stdatomic.h>
 * does, gcc's does not (it adds bytes), and the shim keeps each
 * compiler's own behaviour.  The scale is computed by the compiler from a
 * pointer (or integer) of the object's type at a small nonzero address. */
#ifdef __clang__
#define LAB_SHIM_C11_SCALE_(obj)                               \
	__extension__({                                        \
		LAB_SHIM_WORDS_(obj) lab_s_;                   \
		lab_s_.u64 = 4096;                             \
		(lab_u64_t)((__UINTPTR_TYPE__)(lab_s_.v + 1) - \
			    (__UINTPTR_TYPE__)lab_s_.v);       \
	})
#else
#define LAB_SHIM_C11_SCALE_(obj) 1
#endif

/* ---- GNU builtins ---------------------------------------------------- */

#ifndef LAB_SHIM_NO_GNU_BUILTINS

#define __atomic_load_n(p, mo) \
	LAB_SHIM_LOAD_(GNU, p, mo, LAB_SITE("__atomic_load_n"))
#define __atomic_load(p, ret, mo) \
	LAB_SHIM_LOAD_INTO_(GNU, p, ret, mo, LAB_SITE("__atomic_load"))
#define __atomic_store_n(p, v, mo) \
	LAB_SHIM_STORE_(GNU, p, v, mo, LAB_SITE("__atomic_store_n"))
#define __atomic_store(p, vp, mo) \
	LAB_SHIM_STORE_(GNU, p, *(vp), mo, LAB_SITE("__atomic_store"))
#define __atomic_exchange_n(p, v, mo) \
	LAB_SHIM_XCHG_(GNU, p, v, mo, LAB_SITE("__atomic_exchange_n"))
#define __atomic_exchange(p, vp, ret, mo)           \
	LAB_SHIM_XCHG_INTO_(GNU, p, *(vp), ret, mo, \
			    LAB_SITE("__atomic_exchange"))
#define __atomic_compare_exchange_n(p, e, d, weak, mos, mof) \
	LAB_SHIM_CAS_(GNU, p, e, d, weak, mos, mof,          \
		      LAB_SITE("__atomic_compare_exchange_n"))
#define __atomic_compare_exchange(p, e, dp, weak, mos, mof) \
	LAB_SHIM_CAS_PTR_(GNU, p, e, dp, weak, mos, mof,    \
			  LAB_SITE("__atomic_compare_exchange"))
#define __atomic_fetch_add(p, v, mo) \
	LAB_SHIM_FETCH_(add, p, v, 1, mo, LAB_SITE("__atomic_fetch_add"))
#define __atomic_fetch_sub(p, v, mo) \
	LAB_SHIM_FETCH_(sub, p, v, 1, mo, LAB_SITE("__atomic_fetch_sub"))
#define __atomic_fetch_and(p, v, mo) \
	LAB_SHIM_FETCH_(and, p, v, 1, mo, LAB_SITE("__atomic_fetch_and"))
#define __atomic_fetch_or(p, v, mo) \
	LAB_SHIM_FETCH_(or, p, v, 1, mo, LAB_SITE("__atomic_fetch_or"))
#define __atomic_fetch_xor(p, v, mo) \
	LAB_SHIM_FETCH_(xor, p, v, 1, mo, LAB_SITE("__atomic_fetch_xor"))
#define __atomic_fetch_nand(p, v, mo) \
	LAB_SHIM_FETCH_(nand, p, v, 1, mo, LAB_SITE("__atomic_fetch_nand"))
#define __atomic_add_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(add, p, v, mo, LAB_SITE("__atomic_add_fetch"))
#define __atomic_sub_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(sub, p, v, mo, LAB_SITE("__atomic_sub_fetch"))
#define __atomic_and_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(and, p, v, mo, LAB_SITE("__atomic_and_fetch"))
#define __atomic_or_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(or, p, v, mo, LAB_SITE("__atomic_or_fetch"))
#define __atomic_xor_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(xor, p, v, mo, LAB_SITE("__atomic_xor_fetch"))
#define __atomic_nand_fetch(p, v, mo) \
	LAB_SHIM_OP_FETCH_(nand, p, v, mo, LAB_SITE("__atomic_nand_fetch"))
#define __atomic_test_and_set(p, mo)            \
	lab_atomic_flag_test_and_set((p), (mo), \
				     LAB_SITE("__atomic_test_and_set"))
#define __atomic_clear(p, mo) \
	lab_atomic_flag_clear((p), (mo), LAB_SITE("__atomic_clear"))
#define __atomic_thread_fence(mo) \
	lab_atomic_thread_fence((mo), LAB_SITE("__atomic_thread_fence"))
#define __atomic_signal_fence(mo) \
	lab_atomic_signal_fence((mo), LAB_SITE("__atomic_signal_fence"))

/* The legacy __sync builtins: full barriers (seq_cst), except
 * lock_test_and_set (acquire) and lock_release (release). */
#define LAB_SHIM_SEQ_ 5 /* __ATOMIC_SEQ_CST */
#define __sync_fetch_and_add(p, v, ...)              \
	LAB_SHIM_FETCH_(add, p, v, 1, LAB_SHIM_SEQ_, \
			LAB_SITE("__sync_fetch_and_add"))
#define __sync_fetch_and_sub(p, v, ...)              \
	LAB_SHIM_FETCH_(sub, p, v, 1, LAB_SHIM_SEQ_, \
			LAB_SITE("__sync_fetch_and_sub"))
#define __sync_fetch_and_and(p, v, ...)              \
	LAB_SHIM_FETCH_(and, p, v, 1, LAB_SHIM_SEQ_, \
			LAB_SITE("__sync_fetch_and_and"))
#define __sync_fetch_and_or(p, v, ...)              \
	LAB_SHIM_FETCH_(or, p, v, 1, LAB_SHIM_SEQ_, \
			LAB_SITE("__sync_fetch_and_or"))
#define __sync_fetch_and_xor(p, v, ...)              \
	LAB_SHIM_FETCH_(xor, p, v, 1, LAB_SHIM_SEQ_, \
			LAB_SITE("__sync_fetch_and_xor"))
#define __sync_add_and_fetch(p, v, ...)              \
	LAB_SHIM_OP_FETCH_(add, p, v, LAB_SHIM_SEQ_, \
			   LAB_SITE("__sync_add_and_fetch"))
#define __sync_sub_and_fetch(p, v, ...)              \
	LAB_SHIM_OP_FETCH_(sub, p, v, LAB_SHIM_SEQ_, \
			   LAB_SITE("__sync_sub_and_fetch"))
#define __sync_bool_compare_and_swap(p, old, new, ...)                   \
	__extension__({                                                  \
		LAB_SHIM_T_(p) lab_old_ = (old);                         \
		LAB_SHIM_CAS_(GNU, p, &lab_old_, new, 0, LAB_SHIM_SEQ_,  \
			      LAB_SHIM_SEQ_,                             \
			      LAB_SITE("__sync_bool_compare_and_swap")); \
	})
#define __sync_val_compare_and_swap(p, old, new, ...)                   \
	__extension__({                                                 \
		LAB_SHIM_T_(p) lab_old_ = (old);                        \
		LAB_SHIM_CAS_(GNU, p, &lab_old_, new, 0, LAB_SHIM_SEQ_, \
			      LAB_SHIM_SEQ_,                            \
			      LAB_SITE("__sync_val_compare_and_swap")); \
		lab_old_;                                               \
	})
#define __sync_lock_test_and_set(p, v, ...) \
	LAB_SHIM_XCHG_(GNU, p, v, 2, LAB_SITE("__sync_lock_test_and_set"))
#define __sync_lock_release(p, ...) \
	LAB_SHIM_STORE_(GNU, p, 0, 3, LAB_SITE("__sync_lock_release"))
#define __sync_synchronize() \
	lab_atomic_thread_fence(LAB_SHIM_SEQ_, LAB_SITE("__sync_synchronize"))
#endif /* LAB_SHIM_NO_GNU_BUILTINS */

#endif /* LAB_SHIM_ATOMIC_H */
