/* test_atomic_ops.c - labyrinth/atomic.h's typed operations against the
 * compiler's own builtins, for every size and pointers, outside a
 * schedule (the fast path) and inside one (the scheduled path through
 * lab_atomic_perform): the same values, the same compare-exchange
 * updates, and exactly one lab_sched_point per operation inside a
 * schedule (none outside), with the site passed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "count_points.h"
#include "labyrinth/atomic.h"

/* One operation: its points must be 1 in a schedule, 0 outside, and the
 * last one must carry `site`. */
static unsigned long points_before;
static void expect_point(lab_site_t site, const char *what, unsigned n)
{
	unsigned long got = lab_test_count(&lab_test_points) - points_before;

	CHECK(got == (lab_test_active ? 1u : 0u), "%s/%u: %lu points (%s)",
	      what, n, got, lab_test_active ? "active" : "inactive");
	if (lab_test_active)
		CHECK(lab_test_last_site == site, "%s/%u: site %s", what, n,
		      lab_test_last_site ? lab_test_last_site : "(null)");
	points_before = lab_test_count(&lab_test_points);
}

#define OP(what, site, stmt)                    \
	do {                                    \
		stmt;                           \
		expect_point(site, what, BITS); \
	} while (0)

/* Runs every operation on obj (instrumented) and ref (builtins) from the
 * same start value and compares; T the type, BITS its size in bits. */
#define SIZED_CASE(T, BITS_)                                                   \
	static void check_##BITS_(T start, T operand)                          \
	{                                                                      \
		enum { BITS = BITS_ };                                         \
		lab_site_t s = LAB_SITE("sized");                              \
		T obj = start, ref = start, a, b, e1, e2;                      \
		bool r1, r2;                                                   \
                                                                               \
		points_before = lab_test_count(&lab_test_points);              \
		OP("load", s, a = lab_atomic_load_##BITS_(&obj, 2, s));        \
		b = __atomic_load_n(&ref, 2);                                  \
		CHECK(a == b, "load/%d", BITS);                                \
		OP("store", s, lab_atomic_store_##BITS_(&obj, operand, 3, s)); \
		__atomic_store_n(&ref, operand, 3);                            \
		CHECK(obj == ref, "store/%d", BITS);                           \
		OP("exchange", s,                                              \
		   a = lab_atomic_exchange_##BITS_(&obj, start, 4, s));        \
		b = __atomic_exchange_n(&ref, start, 4);                       \
		CHECK(a == b && obj == ref, "exchange/%d", BITS);              \
		for (int weak = 0; weak < 2; weak++) {                         \
			/* failing: expected updated to the value found */     \
			e1 = e2 = (T)(start + 1);                              \
			OP("cas-fail", s,                                      \
			   r1 = lab_atomic_cas_##BITS_(&obj, &e1, operand,     \
						       weak, 5, 2, s));        \
			r2 = __atomic_compare_exchange_n(&ref, &e2, operand,   \
							 weak, 5, 2);          \
			CHECK(r1 == r2 && !r1 && e1 == e2 && obj == ref,       \
			      "cas-fail/%d weak %d", BITS, weak);              \
		}                                                              \
		/* succeeding (strong: never fails spuriously) */              \
		e1 = e2 = start;                                               \
		OP("cas-ok", s,                                                \
		   r1 = lab_atomic_cas_##BITS_(&obj, &e1, operand, false, 4,   \
					       2, s));                         \
		r2 = __atomic_compare_exchange_n(&ref, &e2, operand, false, 4, \
						 2);                           \
		CHECK(r1 &&r2 &&e1 == e2 && obj == ref, "cas-ok/%d", BITS);    \
		{                                                              \
			/* weak may fail spuriously: retry as C11 code does */ \
			T exp = obj, des = (T)(obj ^ start);                   \
			unsigned tries = 0;                                    \
			while (!lab_atomic_cas_##BITS_(&obj, &exp, des, true,  \
						       5, 5, s) &&             \
			       ++tries < 100)                                  \
				;                                              \
			CHECK(obj == des, "cas-weak-ok/%d", BITS);             \
			ref = obj;                                             \
			points_before = lab_test_count(&lab_test_points);      \
		}                                                              \
		FETCH(add, BITS_);                                             \
		FETCH(sub, BITS_);                                             \
		FETCH(and, BITS_);                                             \
		FETCH(or, BITS_);                                              \
		FETCH(xor, BITS_);                                             \
		FETCH(nand, BITS_);                                            \
	}
#define FETCH(op, BITS_)                                                       \
	do {                                                                   \
		OP("fetch_" #op, s,                                            \
		   a = lab_atomic_fetch_##op##_##BITS_(&obj, operand, 5, s));  \
		b = __atomic_fetch_##op(&ref, operand, 5);                     \
		CHECK(a == b && obj == ref, "fetch_%s/%d: %llx %llx", #op,     \
		      BITS, (unsigned long long)obj, (unsigned long long)ref); \
	} while (0)

SIZED_CASE(uint8_t, 8)
SIZED_CASE(uint16_t, 16)
SIZED_CASE(uint32_t, 32)
SIZED_CASE(uint64_t, 64)

static void check_ptr(void)
{
	enum { BITS = 0 };
	lab_site_t s = LAB_SITE("ptr");
	static char buf[64];
	void *obj = buf, *e = buf + 1, *a;

	points_before = lab_test_count(&lab_test_points);
	OP("load", s, a = lab_atomic_load_ptr(&obj, 2, s));
	CHECK(a == buf, "ptr load");
	OP("store", s, lab_atomic_store_ptr(&obj, buf + 8, 3, s));
	CHECK(obj == buf + 8, "ptr store");
	OP("exchange", s, a = lab_atomic_exchange_ptr(&obj, buf, 4, s));
	CHECK(a == buf + 8 && obj == buf, "ptr exchange");
	OP("cas", s,
	   CHECK(!lab_atomic_cas_ptr(&obj, &e, buf + 2, 0, 5, 5, s),
		 "ptr cas fails"));
	CHECK(e == buf && obj == buf, "ptr cas expected");
	OP("cas", s,
	   CHECK(lab_atomic_cas_ptr(&obj, &e, buf + 2, 0, 5, 5, s), "ptr cas"));
	CHECK(obj == buf + 2, "ptr cas stored");
	OP("fetch_add", s, a = lab_atomic_fetch_add_ptr(&obj, 10, 5, s));
	CHECK(a == buf + 2 && obj == buf + 12, "ptr fetch_add (bytes)");
	OP("fetch_sub", s, a = lab_atomic_fetch_sub_ptr(&obj, 12, 5, s));
	CHECK(a == buf + 12 && obj == buf, "ptr fetch_sub");
}

static void check_flag_fence(void)
{
	enum { BITS = 0 };
	lab_site_t s = LAB_SITE("flag");
	unsigned char flag = 0;
	bool was;

	points_before = lab_test_count(&lab_test_points);
	OP("tas", s, was = lab_atomic_flag_test_and_set(&flag, 5, s));
	CHECK(!was && flag, "test_and_set of a clear flag");
	OP("tas", s, was = lab_atomic_flag_test_and_set(&flag, 5, s));
	CHECK(was, "test_and_set of a set flag");
	OP("clear", s, lab_atomic_flag_clear(&flag, 3, s));
	CHECK(!flag, "clear");
	OP("fence", s, lab_atomic_thread_fence(5, s));
	OP("signal_fence", s, lab_atomic_signal_fence(5, s));
}

/* The descriptor the scheduled path hands lab_atomic_perform. */
static void check_perform(void)
{
	uint32_t v = 7;
	lab_u64_t e = 7;
	struct lab_atomic_op op = { .kind = LAB_ATOMIC_CAS_STRONG,
				    .size = 4,
				    .addr = &v,
				    .order = 5,
				    .order_failure = 5,
				    .operand = 9,
				    .expected = &e,
				    .site = LAB_SITE("perform") };

	CHECK(lab_atomic_perform(&op) == 1 && v == 9, "perform cas");
	CHECK(lab_atomic_perform(&op) == 0 && e == 9, "perform cas fails");
	op.kind = LAB_ATOMIC_FETCH_ADD;
	CHECK(lab_atomic_perform(&op) == 9 && v == 18, "perform fetch_add");
}

static void run_all(void)
{
	/* start values with the top bit set, so sign or width slips show */
	check_8(0xa5, 0x3c);
	check_16(0xa55a, 0x0ff0);
	check_32(0xa55aa55au, 0x12345678u);
	check_64(0xa55aa55a12345678ull, 0x0fedcba987654321ull);
	check_ptr();
	check_flag_fence();
}

int main(void)
{
	unsigned long calls;

	run_all(); /* outside a schedule */
	calls = lab_test_count(&lab_test_active_calls);
	CHECK(calls > 0, "the fast path asks lab_sched_active()");
	lab_test_active = true; /* the scheduled path */
	run_all();
	lab_test_active = false;
	check_perform();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("ok: every operation matches the builtins, one point each in "
	       "a schedule, none outside (%lu points)\n",
	       lab_test_count(&lab_test_points));
	return 0;
}
