/* atomic.c - the instrumented C11 atomic operations (labyrinth/atomic.h).
 *
 * Every operation has two paths.  Outside a controlled schedule (the
 * common case, and every call from a plain pthread) it is the compiler's
 * own builtin after one branch on lab_sched_active().  Inside one it
 * describes itself as a struct lab_atomic_op, passes its scheduling point
 * and hands the description to lab_atomic_perform(), the single place
 * that carries a scheduled operation out, so a memory model can replace
 * how operations behave without touching the entry points.
 *
 * The memory orders arrive as run-time values; gcc and clang accept that
 * (clang branches on the value, gcc uses seq_cst, which is at least as
 * strong as asked), and TSan sees the order passed.
 */
#include <stddef.h>
#include <stdint.h>

#include "labyrinth/atomic.h"
#include "labyrinth/atomic_model.h"

/* This file implements what the shim calls: compiled through the shim,
 * every operation here would call itself. */
#if defined(LAB_INSTRUMENT) || defined(LAB_SHIM_ATOMIC_H) || \
	defined(LAB_SHIM_PTHREAD_H)
#error "labyrinth: compile the instrumentation library without the shim (no labyrinth_instrument, -include lab_shim_atomic.h or -I<shim>)"
#endif

/* ---- the scheduled path --------------------------------------------- */

#define LAB_PERFORM_SIZED_(N, T)                                           \
	static lab_u64_t lab_perform_##N(const struct lab_atomic_op *op)   \
	{                                                                  \
		T *p = (T *)op->addr;                                      \
		T v = (T)op->operand;                                      \
		T e;                                                       \
		bool ok;                                                   \
                                                                           \
		switch (op->kind) {                                        \
		case LAB_ATOMIC_LOAD:                                      \
			return __atomic_load_n(p, op->order);              \
		case LAB_ATOMIC_STORE:                                     \
			__atomic_store_n(p, v, op->order);                 \
			return 0;                                          \
		case LAB_ATOMIC_EXCHANGE:                                  \
			return __atomic_exchange_n(p, v, op->order);       \
		case LAB_ATOMIC_CAS_STRONG:                                \
		case LAB_ATOMIC_CAS_WEAK:                                  \
			e = (T)*op->expected;                              \
			ok = __atomic_compare_exchange_n(                  \
				p, &e, v, op->kind == LAB_ATOMIC_CAS_WEAK, \
				op->order, op->order_failure);             \
			*op->expected = e;                                 \
			return ok;                                         \
		case LAB_ATOMIC_FETCH_ADD:                                 \
			return __atomic_fetch_add(p, v, op->order);        \
		case LAB_ATOMIC_FETCH_SUB:                                 \
			return __atomic_fetch_sub(p, v, op->order);        \
		case LAB_ATOMIC_FETCH_AND:                                 \
			return __atomic_fetch_and(p, v, op->order);        \
		case LAB_ATOMIC_FETCH_OR:                                  \
			return __atomic_fetch_or(p, v, op->order);         \
		case LAB_ATOMIC_FETCH_XOR:                                 \
			return __atomic_fetch_xor(p, v, op->order);        \
		case LAB_ATOMIC_FETCH_NAND:                                \
			return __atomic_fetch_nand(p, v, op->order);       \
		default:                                                   \
			break;                                             \
		}                                                          \
		__builtin_trap(); /* an entry point built a bad op */      \
	}
LAB_PERFORM_SIZED_(8, lab_u8_t)
LAB_PERFORM_SIZED_(16, lab_u16_t)
LAB_PERFORM_SIZED_(32, lab_u32_t)
LAB_PERFORM_SIZED_(64, lab_u64_t)
#undef LAB_PERFORM_SIZED_

static lab_u64_t lab_perform_unsized(const struct lab_atomic_op *op)
{
	switch (op->kind) {
	case LAB_ATOMIC_FLAG_TEST_AND_SET:
		return __atomic_test_and_set((void *)op->addr, op->order);
	case LAB_ATOMIC_FLAG_CLEAR:
		__atomic_clear((bool *)op->addr, op->order);
		return 0;
	case LAB_ATOMIC_THREAD_FENCE:
		__atomic_thread_fence(op->order);
		return 0;
	case LAB_ATOMIC_SIGNAL_FENCE:
		__atomic_signal_fence(op->order);
		return 0;
	default:
		__builtin_trap();
	}
}

lab_u64_t lab_atomic_perform_sc(const struct lab_atomic_op *op)
{
	if (op->kind >= LAB_ATOMIC_FLAG_TEST_AND_SET)
		return lab_perform_unsized(op);
	switch (op->size) {
	case 1:
		return lab_perform_8(op);
	case 2:
		return lab_perform_16(op);
	case 4:
		return lab_perform_32(op);
	case 8:
		return lab_perform_64(op);
	default:
		__builtin_trap();
	}
}

/* The memory model of the calling OS thread's schedules (NULL: the SC
 * path).  Thread-local: every logical thread of a schedule runs on the
 * scheduler's own OS thread. */
static _Thread_local lab_atomic_model_t lab_model;
static _Thread_local void *lab_model_arg;

void lab_atomic_set_model(lab_atomic_model_t model, void *arg)
{
	lab_model = model;
	lab_model_arg = arg;
}

lab_u64_t lab_atomic_perform(const struct lab_atomic_op *op)
{
	if (__builtin_expect(lab_model != NULL, 0))
		return lab_model(lab_model_arg, op);
	return lab_atomic_perform_sc(op);
}

/* The scheduling point, then the operation.  noinline keeps the
 * descriptor off the fast path's stack frame. */
static __attribute__((noinline)) lab_u64_t
lab_atomic_scheduled(const struct lab_atomic_op *op)
{
	lab_sched_point(op->site);
	return lab_atomic_perform(op);
}

#define LAB_SCHEDULED_(...)                       \
	__builtin_expect(lab_sched_active(), 0) ? \
		lab_atomic_scheduled(&(struct lab_atomic_op){ __VA_ARGS__ })

/* ---- the entry points ----------------------------------------------- */

#define LAB_FETCH_OP_(N, T, name, KIND)                                       \
	T lab_atomic_fetch_##name##_##N(volatile void *obj, T v, int mo,      \
					lab_site_t site)                      \
	{                                                                     \
		return LAB_SCHEDULED_(.kind = KIND, .size = N / 8,            \
				      .addr = obj, .order = mo, .operand = v, \
				      .site = site)                           \
			: __atomic_fetch_##name((T *)obj, v, mo);             \
	}

#define LAB_ATOMIC_SIZED_(N, T)                                                \
	T lab_atomic_load_##N(const volatile void *obj, int mo,                \
			      lab_site_t site)                                 \
	{                                                                      \
		return LAB_SCHEDULED_(.kind = LAB_ATOMIC_LOAD, .size = N / 8,  \
				      .addr = (volatile void *)obj,            \
				      .order = mo, .site = site)               \
			: __atomic_load_n((const T *)obj, mo);                 \
	}                                                                      \
	void lab_atomic_store_##N(volatile void *obj, T v, int mo,             \
				  lab_site_t site)                             \
	{                                                                      \
		if (__builtin_expect(lab_sched_active(), 0))                   \
			lab_atomic_scheduled(&(struct lab_atomic_op){          \
				.kind = LAB_ATOMIC_STORE,                      \
				.size = N / 8,                                 \
				.addr = obj,                                   \
				.order = mo,                                   \
				.operand = v,                                  \
				.site = site });                               \
		else                                                           \
			__atomic_store_n((T *)obj, v, mo);                     \
	}                                                                      \
	T lab_atomic_exchange_##N(volatile void *obj, T v, int mo,             \
				  lab_site_t site)                             \
	{                                                                      \
		return LAB_SCHEDULED_(.kind = LAB_ATOMIC_EXCHANGE,             \
				      .size = N / 8, .addr = obj, .order = mo, \
				      .operand = v, .site = site)              \
			: __atomic_exchange_n((T *)obj, v, mo);                \
	}                                                                      \
	bool lab_atomic_cas_##N(volatile void *obj, T *expected, T desired,    \
				bool weak, int mo_success, int mo_failure,     \
				lab_site_t site)                               \
	{                                                                      \
		lab_u64_t e;                                                   \
		bool ok;                                                       \
                                                                               \
		if (__builtin_expect(!lab_sched_active(), 1))                  \
			return __atomic_compare_exchange_n((T *)obj, expected, \
							   desired, weak,      \
							   mo_success,         \
							   mo_failure);        \
		e = *expected;                                                 \
		ok = lab_atomic_scheduled(&(struct lab_atomic_op){             \
			.kind = weak ? LAB_ATOMIC_CAS_WEAK :                   \
				       LAB_ATOMIC_CAS_STRONG,                  \
			.size = N / 8,                                         \
			.addr = obj,                                           \
			.order = mo_success,                                   \
			.order_failure = mo_failure,                           \
			.operand = desired,                                    \
			.expected = &e,                                        \
			.site = site });                                       \
		if (!ok)                                                       \
			*expected = (T)e;                                      \
		return ok;                                                     \
	}                                                                      \
	LAB_FETCH_OP_(N, T, add, LAB_ATOMIC_FETCH_ADD)                         \
	LAB_FETCH_OP_(N, T, sub, LAB_ATOMIC_FETCH_SUB)                         \
	LAB_FETCH_OP_(N, T, and, LAB_ATOMIC_FETCH_AND)                         \
	LAB_FETCH_OP_(N, T, or, LAB_ATOMIC_FETCH_OR)                           \
	LAB_FETCH_OP_(N, T, xor, LAB_ATOMIC_FETCH_XOR)                         \
	LAB_FETCH_OP_(N, T, nand, LAB_ATOMIC_FETCH_NAND)
LAB_ATOMIC_SIZED_(8, lab_u8_t)
LAB_ATOMIC_SIZED_(16, lab_u16_t)
LAB_ATOMIC_SIZED_(32, lab_u32_t)
LAB_ATOMIC_SIZED_(64, lab_u64_t)

/* ---- pointers: the word of their size ------------------------------- */

#if UINTPTR_MAX == UINT64_MAX
#define LAB_PTR_BITS_ 64
typedef lab_u64_t lab_uptr_t;
#else
#define LAB_PTR_BITS_ 32
typedef lab_u32_t lab_uptr_t;
#endif
#define LAB_PTR_OP_(op) LAB_PTR_OP2_(op, LAB_PTR_BITS_)
#define LAB_PTR_OP2_(op, n) LAB_PTR_OP3_(op, n)
#define LAB_PTR_OP3_(op, n) lab_atomic_##op##_##n

void *lab_atomic_load_ptr(const volatile void *obj, int mo, lab_site_t site)
{
	return (void *)(uintptr_t)LAB_PTR_OP_(load)(obj, mo, site);
}

void lab_atomic_store_ptr(volatile void *obj, void *v, int mo, lab_site_t site)
{
	LAB_PTR_OP_(store)(obj, (lab_uptr_t)(uintptr_t)v, mo, site);
}

void *lab_atomic_exchange_ptr(volatile void *obj, void *v, int mo,
			      lab_site_t site)
{
	return (void *)(uintptr_t)LAB_PTR_OP_(
		exchange)(obj, (lab_uptr_t)(uintptr_t)v, mo, site);
}

bool lab_atomic_cas_ptr(volatile void *obj, void **expected, void *desired,
			bool weak, int mo_success, int mo_failure,
			lab_site_t site)
{
	lab_uptr_t e = (lab_uptr_t)(uintptr_t)*expected;
	bool ok = LAB_PTR_OP_(cas)(obj, &e, (lab_uptr_t)(uintptr_t)desired,
				   weak, mo_success, mo_failure, site);

	if (!ok)
		*expected = (void *)(uintptr_t)e;
	return ok;
}

void *lab_atomic_fetch_add_ptr(volatile void *obj, ptrdiff_t bytes, int mo,
			       lab_site_t site)
{
	return (void *)(uintptr_t)LAB_PTR_OP_(fetch_add)(obj, (lab_uptr_t)bytes,
							 mo, site);
}

void *lab_atomic_fetch_sub_ptr(volatile void *obj, ptrdiff_t bytes, int mo,
			       lab_site_t site)
{
	return (void *)(uintptr_t)LAB_PTR_OP_(fetch_sub)(obj, (lab_uptr_t)bytes,
							 mo, site);
}

/* ---- flags and fences ----------------------------------------------- */

bool lab_atomic_flag_test_and_set(volatile void *flag, int mo, lab_site_t site)
{
	return LAB_SCHEDULED_(.kind = LAB_ATOMIC_FLAG_TEST_AND_SET, .size = 1,
			      .addr = flag, .order = mo, .site = site)
		: __atomic_test_and_set((void *)flag, mo);
}

void lab_atomic_flag_clear(volatile void *flag, int mo, lab_site_t site)
{
	if (__builtin_expect(lab_sched_active(), 0))
		lab_atomic_scheduled(
			&(struct lab_atomic_op){ .kind = LAB_ATOMIC_FLAG_CLEAR,
						 .size = 1,
						 .addr = flag,
						 .order = mo,
						 .site = site });
	else
		__atomic_clear((bool *)flag, mo);
}

void lab_atomic_thread_fence(int mo, lab_site_t site)
{
	if (__builtin_expect(lab_sched_active(), 0))
		lab_atomic_scheduled(&(struct lab_atomic_op){
			.kind = LAB_ATOMIC_THREAD_FENCE,
			.order = mo,
			.site = site });
	else
		__atomic_thread_fence(mo);
}

void lab_atomic_signal_fence(int mo, lab_site_t site)
{
	if (__builtin_expect(lab_sched_active(), 0))
		lab_atomic_scheduled(&(struct lab_atomic_op){
			.kind = LAB_ATOMIC_SIGNAL_FENCE,
			.order = mo,
			.site = site });
	else
		__atomic_signal_fence(mo);
}
