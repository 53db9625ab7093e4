/* labyrinth/atomic.h - C11 atomic operations that are scheduling points.
 *
 * Each operation takes the object's address, its operands, an explicit
 * memory order (memory_order_* of <stdatomic.h>, equal to __ATOMIC_* of
 * gcc and clang) and a site (LAB_SITE("what"), "file.c:12 what").  Inside
 * a controlled schedule it first calls lab_sched_point(site), where the
 * scheduler may switch threads or inject an interrupt, and then performs
 * the operation; outside a schedule it is the plain C11 operation after
 * one well-predicted branch.  Results are those of the C11 operation:
 * load, exchange and fetch_* return the old value, compare-exchange
 * returns whether it stored and on failure writes the value found into
 * *expected.
 *
 * Which build calls these: code compiled with LAB_INSTRUMENT defined
 * (labyrinth_instrument() in CMake, or -DLAB_INSTRUMENT=1 -I<shim>, see
 * docs/own-allocator.md) reaches them through the <stdatomic.h> shim
 * without source changes.  Code written against this header directly uses
 * the LAB_ATOMIC_* macros below, which are these calls with LAB_INSTRUMENT
 * and the plain builtins without it.
 *
 * The operations are out of line (stress/sched/atomic.c) so there is one
 * place that carries a scheduled operation out, lab_atomic_perform():
 * a memory model (issue 13) replaces that function and sees every
 * operation as a struct lab_atomic_op (address, size, kind, orders,
 * operands, site).
 *
 * The header includes no libc header (only <stdbool.h> and <stddef.h>, which
 * the compiler provides), so it may be force-included before a file's own
 * feature-test macros (#define _GNU_SOURCE) without changing them.
 */
#ifndef LABYRINTH_ATOMIC_H
#define LABYRINTH_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>

#include "labyrinth/sched_point.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef __UINT8_TYPE__ lab_u8_t;
typedef __UINT16_TYPE__ lab_u16_t;
typedef __UINT32_TYPE__ lab_u32_t;
typedef __UINT64_TYPE__ lab_u64_t;

/* What a scheduled atomic operation is, for lab_atomic_perform(). */
enum lab_atomic_kind {
	LAB_ATOMIC_LOAD,
	LAB_ATOMIC_STORE,
	LAB_ATOMIC_EXCHANGE,
	LAB_ATOMIC_CAS_STRONG,
	LAB_ATOMIC_CAS_WEAK,
	LAB_ATOMIC_FETCH_ADD,
	LAB_ATOMIC_FETCH_SUB,
	LAB_ATOMIC_FETCH_AND,
	LAB_ATOMIC_FETCH_OR,
	LAB_ATOMIC_FETCH_XOR,
	LAB_ATOMIC_FETCH_NAND,
	LAB_ATOMIC_FLAG_TEST_AND_SET, /* 1 byte, operand ignored */
	LAB_ATOMIC_FLAG_CLEAR,
	LAB_ATOMIC_THREAD_FENCE, /* addr NULL, size 0 */
	LAB_ATOMIC_SIGNAL_FENCE,
	LAB_ATOMIC_KIND_COUNT
};

/* One operation as the scheduled path performs it.  Values are held in
 * the low `size` bytes of a 64-bit word (zero-extended). */
struct lab_atomic_op {
	enum lab_atomic_kind kind;
	unsigned size;	     /* 1, 2, 4 or 8 bytes; 0 for a fence */
	volatile void *addr; /* the atomic object */
	int order;	     /* memory order (success order of a CAS) */
	int order_failure;   /* CAS only */
	lab_u64_t operand;   /* stored, added, desired... */
	lab_u64_t *expected; /* CAS only: in/out, as in C11 */
	lab_site_t site;
};

/* Carries out a scheduled operation after its scheduling point: returns
 * the old value (load, exchange, fetch_*, test_and_set), 1/0 for a CAS
 * (whether it stored), 0 for store, clear and fences.  The one function a
 * memory model replaces. */
lab_u64_t lab_atomic_perform(const struct lab_atomic_op *op);

/* The typed operations, for N in 8, 16, 32, 64 and for pointers. */
#define LAB_ATOMIC_DECLARE_(N, T)                                           \
	T lab_atomic_load_##N(const volatile void *obj, int mo,             \
			      lab_site_t site);                             \
	void lab_atomic_store_##N(volatile void *obj, T v, int mo,          \
				  lab_site_t site);                         \
	T lab_atomic_exchange_##N(volatile void *obj, T v, int mo,          \
				  lab_site_t site);                         \
	bool lab_atomic_cas_##N(volatile void *obj, T *expected, T desired, \
				bool weak, int mo_success, int mo_failure,  \
				lab_site_t site);                           \
	T lab_atomic_fetch_add_##N(volatile void *obj, T v, int mo,         \
				   lab_site_t site);                        \
	T lab_atomic_fetch_sub_##N(volatile void *obj, T v, int mo,         \
				   lab_site_t site);                        \
	T lab_atomic_fetch_and_##N(volatile void *obj, T v, int mo,         \
				   lab_site_t site);                        \
	T lab_atomic_fetch_or_##N(volatile void *obj, T v, int mo,          \
				  lab_site_t site);                         \
	T lab_atomic_fetch_xor_##N(volatile void *obj, T v, int mo,         \
				   lab_site_t site);                        \
	T lab_atomic_fetch_nand_##N(volatile void *obj, T v, int mo,        \
				    lab_site_t site);
LAB_ATOMIC_DECLARE_(8, lab_u8_t)
LAB_ATOMIC_DECLARE_(16, lab_u16_t)
LAB_ATOMIC_DECLARE_(32, lab_u32_t)
LAB_ATOMIC_DECLARE_(64, lab_u64_t)
#undef LAB_ATOMIC_DECLARE_

/* Pointers: fetch_add/sub move by `bytes` (not scaled by the pointee). */
void *lab_atomic_load_ptr(const volatile void *obj, int mo, lab_site_t site);
void lab_atomic_store_ptr(volatile void *obj, void *v, int mo, lab_site_t site);
void *lab_atomic_exchange_ptr(volatile void *obj, void *v, int mo,
			      lab_site_t site);
bool lab_atomic_cas_ptr(volatile void *obj, void **expected, void *desired,
			bool weak, int mo_success, int mo_failure,
			lab_site_t site);
void *lab_atomic_fetch_add_ptr(volatile void *obj, ptrdiff_t bytes, int mo,
			       lab_site_t site);
void *lab_atomic_fetch_sub_ptr(volatile void *obj, ptrdiff_t bytes, int mo,
			       lab_site_t site);

/* atomic_flag (its first byte, as gcc and clang lay it out). */
bool lab_atomic_flag_test_and_set(volatile void *flag, int mo, lab_site_t site);
void lab_atomic_flag_clear(volatile void *flag, int mo, lab_site_t site);

/* Fences are scheduling points too (a thread may be preempted there). */
void lab_atomic_thread_fence(int mo, lab_site_t site);
void lab_atomic_signal_fence(int mo, lab_site_t site);

/* Convenience for code written against this header: the 32/64-bit and
 * pointer forms with a site naming the caller's line, instrumented with
 * LAB_INSTRUMENT and plain builtins without it. */
#ifdef LAB_INSTRUMENT
#define LAB_ATOMIC_LOAD(N, obj, mo) \
	lab_atomic_load_##N((obj), (mo), LAB_SITE("load"))
#define LAB_ATOMIC_STORE(N, obj, v, mo) \
	lab_atomic_store_##N((obj), (v), (mo), LAB_SITE("store"))
#define LAB_ATOMIC_EXCHANGE(N, obj, v, mo) \
	lab_atomic_exchange_##N((obj), (v), (mo), LAB_SITE("exchange"))
#define LAB_ATOMIC_CAS(N, obj, exp, des, weak, mos, mof)              \
	lab_atomic_cas_##N((obj), (exp), (des), (weak), (mos), (mof), \
			   LAB_SITE("compare_exchange"))
#define LAB_ATOMIC_FETCH_ADD(N, obj, v, mo) \
	lab_atomic_fetch_add_##N((obj), (v), (mo), LAB_SITE("fetch_add"))
#define LAB_ATOMIC_FETCH_SUB(N, obj, v, mo) \
	lab_atomic_fetch_sub_##N((obj), (v), (mo), LAB_SITE("fetch_sub"))
#else
#define LAB_ATOMIC_LOAD(N, obj, mo) __atomic_load_n((obj), (mo))
#define LAB_ATOMIC_STORE(N, obj, v, mo) __atomic_store_n((obj), (v), (mo))
#define LAB_ATOMIC_EXCHANGE(N, obj, v, mo) __atomic_exchange_n((obj), (v), (mo))
#define LAB_ATOMIC_CAS(N, obj, exp, des, weak, mos, mof) \
	__atomic_compare_exchange_n((obj), (exp), (des), (weak), (mos), (mof))
#define LAB_ATOMIC_FETCH_ADD(N, obj, v, mo) __atomic_fetch_add((obj), (v), (mo))
#define LAB_ATOMIC_FETCH_SUB(N, obj, v, mo) __atomic_fetch_sub((obj), (v), (mo))
#endif

#ifdef __cplusplus
}
#endif

#endif /* LABYRINTH_ATOMIC_H */
