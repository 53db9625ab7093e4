/* shim_body.c - every generic function of <stdatomic.h>, atomic_flag, the
 * fences, and the GNU __atomic_* and __sync_* builtins, on objects of
 * 1, 2, 4, 8 and 16 bytes and pointers.  Compiled twice (shim_plain.c,
 * shim_instrumented.c) under the name LAB_BODY: once as it is, once with
 * the shim; test_shim_ops.c compares the two runs.  R(x) records the
 * result of one atomic operation, V(s) one that has none, C(x) a plain
 * check (no operation).  Keep each on one line: the site must name it. */
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "shim_body.h"

/* The 16-byte case is there on purpose (it takes the wide path). */
#ifdef __clang__
#pragma clang diagnostic ignored "-Watomic-alignment"
#endif

/* One operation per line, the sites name the lines: */
/* clang-format off */
#define R(x) lab_body_record(b, (uint64_t)(x), __LINE__, 1)
#define V(s) (s, lab_body_record(b, 0, __LINE__, 1))
#define C(x) lab_body_record(b, (uint64_t)(x), __LINE__, 0)

struct pair {
	int16_t lo, hi;
};
struct wide {
	uint64_t a, b;
};

static uint64_t pair_word(struct pair p)
{
	return (uint16_t)p.lo | (uint64_t)(uint16_t)p.hi << 16;
}

static void c11_integers(struct lab_body *b)
{
	_Atomic uint8_t u8 = 0xf0;
	_Atomic int16_t s16 = -2;
	_Atomic uint32_t u32 = 0x80000001u;
	_Atomic int64_t s64 = -5;
	atomic_bool flagb = false;
	uint32_t e32 = 7;
	int64_t e64 = -5;

	R(atomic_load(&u8));
	R(atomic_load_explicit(&s16, memory_order_acquire));
	V(atomic_store(&u32, 0xfffffffeu));
	V(atomic_store_explicit(&s64, -9, memory_order_release));
	R(atomic_exchange(&u8, 0x0f));
	R(atomic_exchange_explicit(&s16, 300, memory_order_acq_rel));
	R(atomic_compare_exchange_strong(&u32, &e32, 1u));
	C(e32);
	R(atomic_compare_exchange_strong_explicit(&u32, &e32, 2u, memory_order_seq_cst, memory_order_relaxed));
	C(e32);
	R(atomic_compare_exchange_weak(&s64, &e64, 4));
	C(e64);
	/* x86's weak compare-exchange never fails spuriously */
	R(atomic_compare_exchange_weak_explicit(&s64, &e64, 11, memory_order_release, memory_order_relaxed));
	C(e64);
	R(atomic_fetch_add(&u8, 0xf5));
	R(atomic_fetch_add_explicit(&s16, -301, memory_order_relaxed));
	R(atomic_fetch_sub(&u32, 3));
	R(atomic_fetch_sub_explicit(&s64, 12, memory_order_relaxed));
	R(atomic_fetch_and(&u8, 0x3c));
	R(atomic_fetch_and_explicit(&u32, 0xff00ff00u, memory_order_relaxed));
	R(atomic_fetch_or(&s16, 0x4000));
	R(atomic_fetch_or_explicit(&s64, 0x100, memory_order_relaxed));
	R(atomic_fetch_xor(&u32, 0xa5a5a5a5u));
	R(atomic_fetch_xor_explicit(&u8, 0xff, memory_order_relaxed));
	R(atomic_exchange(&flagb, true));
	R(atomic_load(&flagb));
	R(atomic_load(&u8));
	R(atomic_load(&s16));
	R(atomic_load(&u32));
	R(atomic_load(&s64));
}

static void c11_pointers_structs(struct lab_body *b)
{
	static int arr[8];
	_Atomic(int *) ap = &arr[1];
	int *ep = &arr[0];
	_Atomic struct pair ps;
	struct pair ep2 = { 1, -1 }, np = { -7, 9 }, got;
	_Atomic struct wide w;
	struct wide ew = { 1, 2 }, nw = { 3, 4 }, gw;

	atomic_init(&ps, ep2);
	R(atomic_load(&ap) - arr);
	R(atomic_compare_exchange_strong(&ap, &ep, &arr[3]));
	C(ep - arr);
	R(atomic_fetch_add(&ap, 2) - arr); /* C11: pointee-scaled (clang) */
	R(atomic_fetch_sub_explicit(&ap, 1, memory_order_relaxed) - arr);
	R(atomic_exchange(&ap, &arr[7]) - arr);
	R(atomic_load_explicit(&ap, memory_order_relaxed) - arr);
	V(got = atomic_load(&ps));
	C(pair_word(got));
	R(atomic_compare_exchange_strong(&ps, &ep2, np));
	V(got = atomic_exchange(&ps, ep2));
	C(pair_word(got));
	V(atomic_store(&ps, np));
	V(got = atomic_load_explicit(&ps, memory_order_acquire));
	C(pair_word(got));
	/* 16 bytes: a scheduling point, the compiler's own operation */
	atomic_init(&w, ew);
	V(atomic_store(&w, ew));
	R(atomic_compare_exchange_strong(&w, &ew, nw));
	V(gw = atomic_load(&w));
	C(gw.a * 10 + gw.b);
}

static void c11_flag_fences(struct lab_body *b)
{
	atomic_flag f = ATOMIC_FLAG_INIT;

	R(atomic_flag_test_and_set(&f));
	R(atomic_flag_test_and_set_explicit(&f, memory_order_acquire));
	V(atomic_flag_clear(&f));
	R(atomic_flag_test_and_set(&f));
	V(atomic_flag_clear_explicit(&f, memory_order_release));
	R(atomic_flag_test_and_set(&f));
	V(atomic_thread_fence(memory_order_seq_cst));
	V(atomic_signal_fence(memory_order_acq_rel));
}

static void gnu_builtins(struct lab_body *b)
{
	uint32_t x = 10, e = 10, d = 20, got;
	uint16_t h = 0xffff;
	long *p = NULL, *ep = NULL;
	static long arr[4];
	unsigned char t = 0;

	R(__atomic_load_n(&x, __ATOMIC_ACQUIRE));
	V(__atomic_load(&x, &got, __ATOMIC_RELAXED));
	C(got);
	V(__atomic_store_n(&x, 11, __ATOMIC_RELEASE));
	V(__atomic_store(&x, &d, __ATOMIC_SEQ_CST));
	R(__atomic_exchange_n(&x, 12, __ATOMIC_ACQ_REL));
	V(__atomic_exchange(&x, &d, &got, __ATOMIC_SEQ_CST));
	C(got);
	R(__atomic_compare_exchange_n(&x, &e, 30, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	C(e);
	R(__atomic_compare_exchange(&x, &e, &d, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED) || 1);
	C(e);
	R(__atomic_fetch_add(&h, 2, __ATOMIC_RELAXED));
	R(__atomic_fetch_sub(&h, 5, __ATOMIC_RELAXED));
	R(__atomic_fetch_and(&x, 0x1c, __ATOMIC_RELAXED));
	R(__atomic_fetch_or(&x, 0x300, __ATOMIC_RELAXED));
	R(__atomic_fetch_xor(&x, 0xffff, __ATOMIC_RELAXED));
	R(__atomic_fetch_nand(&x, 0xf0f0, __ATOMIC_RELAXED));
	R(__atomic_add_fetch(&h, 7, __ATOMIC_RELAXED));
	R(__atomic_sub_fetch(&h, 9, __ATOMIC_RELAXED));
	R(__atomic_and_fetch(&x, 0x7777, __ATOMIC_RELAXED));
	R(__atomic_or_fetch(&x, 0x8000, __ATOMIC_RELAXED));
	R(__atomic_xor_fetch(&x, 0x1111, __ATOMIC_RELAXED));
	R(__atomic_nand_fetch(&x, 0xff, __ATOMIC_RELAXED));
	V(__atomic_store_n(&p, &arr[1], __ATOMIC_RELAXED));
	R(__atomic_fetch_add(&p, 8, __ATOMIC_RELAXED) - arr); /* bytes */
	C(p - arr);
	R(__atomic_compare_exchange_n(&p, &ep, &arr[0], 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	C(ep - arr);
	R(__atomic_test_and_set(&t, __ATOMIC_ACQUIRE));
	R(__atomic_test_and_set(&t, __ATOMIC_ACQUIRE));
	V(__atomic_clear(&t, __ATOMIC_RELEASE));
	V(__atomic_thread_fence(__ATOMIC_SEQ_CST));
	V(__atomic_signal_fence(__ATOMIC_SEQ_CST));
	C(x);
	C(h);
}

static void sync_builtins(struct lab_body *b)
{
	int x = 5;

	R(__sync_fetch_and_add(&x, 3));
	R(__sync_fetch_and_sub(&x, 1));
	R(__sync_fetch_and_and(&x, 6));
	R(__sync_fetch_and_or(&x, 9));
	R(__sync_fetch_and_xor(&x, 2));
	R(__sync_add_and_fetch(&x, 10));
	R(__sync_sub_and_fetch(&x, 4));
	R(__sync_bool_compare_and_swap(&x, 1, 2));
	R(__sync_bool_compare_and_swap(&x, x, 40));
	R(__sync_val_compare_and_swap(&x, 3, 4));
	R(__sync_val_compare_and_swap(&x, 40, 41));
	R(__sync_lock_test_and_set(&x, 1));
	V(__sync_lock_release(&x));
	V(__sync_synchronize());
	C(x);
}

void LAB_BODY(struct lab_body *b)
{
	memset(b, 0, sizeof(*b));
	c11_integers(b);
	c11_pointers_structs(b);
	c11_flag_fences(b);
	gnu_builtins(b);
	sync_builtins(b);
}
/* clang-format on */
