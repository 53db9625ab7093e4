/* alloc_model.c - the allocator's memory hooks mapped to the C11 model
 * (alloc_model.h). */
#include "alloc_model.h"

#include "labyrinth/c11_sched.h"

static const enum lab_atomic_kind lab_am_kinds[] = {
	[LAB_AHOOK_LOAD] = LAB_ATOMIC_LOAD,
	[LAB_AHOOK_STORE] = LAB_ATOMIC_STORE,
	[LAB_AHOOK_EXCHANGE] = LAB_ATOMIC_EXCHANGE,
	[LAB_AHOOK_CAS_WEAK] = LAB_ATOMIC_CAS_WEAK,
	[LAB_AHOOK_CAS_STRONG] = LAB_ATOMIC_CAS_STRONG,
	[LAB_AHOOK_FETCH_ADD] = LAB_ATOMIC_FETCH_ADD,
	[LAB_AHOOK_FETCH_SUB] = LAB_ATOMIC_FETCH_SUB,
};

struct lab_atomic_op lab_alloc_model_op(enum lab_atomic_hook_kind kind,
					int order, int order_failure,
					unsigned size, volatile void *addr,
					uint64_t operand, uint64_t *expected,
					const char *site)
{
	bool cas = kind == LAB_AHOOK_CAS_WEAK || kind == LAB_AHOOK_CAS_STRONG;

	return (struct lab_atomic_op){
		.kind = lab_am_kinds[kind],
		.size = size,
		.addr = addr,
		.order = order,
		.order_failure = cas ? order_failure : 0,
		.operand = operand,
		.expected = cas ? (lab_u64_t *)expected : NULL,
		.site = site,
	};
}

uint64_t lab_alloc_model_atomic(enum lab_atomic_hook_kind kind, int order,
				int order_failure, unsigned size,
				volatile void *addr, uint64_t operand,
				uint64_t *expected, const char *site)
{
	struct lab_atomic_op op =
		lab_alloc_model_op(kind, order, order_failure, size, addr,
				   operand, expected, site);

	return lab_atomic_perform(&op);
}

static void lab_alloc_model_plain(const volatile void *addr, size_t len,
				  bool write, const char *site)
{
	if (write)
		lab_c11_sched_plain_write(addr, len, site);
	else
		lab_c11_sched_plain_read(addr, len, site);
}

void lab_alloc_model_attach(void)
{
	static const struct lab_memory_hooks hooks = {
		.atomic = lab_alloc_model_atomic,
		.plain = lab_alloc_model_plain,
	};

	lab_set_memory_hooks(&hooks);
}

void lab_alloc_model_detach(void)
{
	lab_set_memory_hooks(NULL);
}
