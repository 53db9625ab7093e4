/* sched_mp_backend.c - backends with a message-passing slot, for the
 * tests of the controlled mode's C11 memory model (--memory c11,
 * stress/sched/tests/sched_c11.sh): the project's mutex buddy plus a
 * one-block slot outside the lock that a free hands an order-0 block
 * through to the next order-0 allocation:
 *
 *   free:  claim the empty slot (CAS 0 -> 2, acquire), store the
 *          block's address, publish it (store 1 into the flag)
 *   alloc: take a published block (CAS 1 -> 3, acquire), load the
 *          address, empty the slot (store 0, release)
 *
 * "mp-slot" publishes with a release store: the taker's acquire sees the
 * address.  "mp-slot-relaxed" publishes with a relaxed store, the
 * commonest memory-order bug: nothing orders the address before the flag,
 * so under C11 the taker may read an older address (a block handed out
 * before, now someone else's: two owners, a stamp mismatch) or the
 * initial NULL (the slot's block is lost: frames not conserved).  In a
 * sequentially consistent schedule the address is always the new one, so
 * only --memory c11 finds it.
 *
 * Every atomic is an instrumented one (labyrinth/atomic.h), as a build
 * through labyrinth_instrument() makes it: a scheduling point and, in a
 * c11 run, an operation of the model.
 */
#include <stdint.h>
#include <stdlib.h>

#include "labyrinth.h"
#include "labyrinth/atomic.h"

#define MP_EMPTY 0
#define MP_FULL 1
#define MP_WRITING 2
#define MP_TAKING 3

struct mp {
	void *inner; /* the mutex buddy */
	lab_u64_t flag, addr;
	int publish_order;
};

static void *mp_create_with(const struct lab_maze_config *cfg, int order)
{
	struct mp *m = calloc(1, sizeof(*m));

	if (m && !(m->inner = lab_backend_mutex_buddy.create(cfg))) {
		free(m);
		m = NULL;
	}
	if (m)
		m->publish_order = order;
	return m;
}

static void *mp_create(const struct lab_maze_config *cfg)
{
	return mp_create_with(cfg, __ATOMIC_RELEASE);
}

static void *mp_create_relaxed(const struct lab_maze_config *cfg)
{
	return mp_create_with(cfg, __ATOMIC_RELAXED);
}

static void *mp_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	struct mp *m = inst;
	lab_u64_t full = MP_FULL;
	void *p;

	if (order == 0 &&
	    lab_atomic_cas_64(&m->flag, &full, MP_TAKING, false,
			      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED,
			      LAB_SITE("mp:take"))) {
		p = (void *)(uintptr_t)lab_atomic_load_64(
			&m->addr, __ATOMIC_RELAXED, LAB_SITE("mp:load-addr"));
		lab_atomic_store_64(&m->flag, MP_EMPTY, __ATOMIC_RELEASE,
				    LAB_SITE("mp:empty"));
		return p;
	}
	return lab_backend_mutex_buddy.alloc(m->inner, gfp, order);
}

static int mp_free(void *inst, void *addr, unsigned order)
{
	struct mp *m = inst;
	lab_u64_t empty = MP_EMPTY;

	if (order == 0 &&
	    lab_atomic_cas_64(&m->flag, &empty, MP_WRITING, false,
			      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED,
			      LAB_SITE("mp:claim"))) {
		lab_atomic_store_64(&m->addr, (uintptr_t)addr, __ATOMIC_RELAXED,
				    LAB_SITE("mp:store-addr"));
		lab_atomic_store_64(&m->flag, MP_FULL, m->publish_order,
				    LAB_SITE("mp:publish"));
		return 0;
	}
	return lab_backend_mutex_buddy.free(m->inner, addr, order);
}

/* The slot's block counts as free (after the run, on main). */
static void mp_drain(struct mp *m)
{
	if (__atomic_exchange_n(&m->flag, MP_EMPTY, __ATOMIC_ACQ_REL) ==
	    MP_FULL)
		lab_backend_mutex_buddy.free(
			m->inner,
			(void *)(uintptr_t)__atomic_load_n(&m->addr,
							   __ATOMIC_ACQUIRE),
			0);
}

static long mp_check(void *inst)
{
	mp_drain(inst);
	return lab_backend_mutex_buddy.check(((struct mp *)inst)->inner);
}

static int mp_stats(void *inst, struct lab_maze_stats *out)
{
	mp_drain(inst);
	return lab_backend_mutex_buddy.stats(((struct mp *)inst)->inner, out);
}

static void mp_destroy(void *inst)
{
	struct mp *m = inst;

	lab_backend_mutex_buddy.destroy(m->inner);
	free(m);
}

static const struct lab_backend_ops mp_ops = {
	.name = "mp-slot",
	.create = mp_create,
	.alloc = mp_alloc,
	.free = mp_free,
	.check = mp_check,
	.stats = mp_stats,
	.destroy = mp_destroy,
};

static const struct lab_backend_ops mp_relaxed_ops = {
	.name = "mp-slot-relaxed",
	.create = mp_create_relaxed,
	.alloc = mp_alloc,
	.free = mp_free,
	.check = mp_check,
	.stats = mp_stats,
	.destroy = mp_destroy,
};

const struct lab_backend_ops *const lab_user_backends[] = {
	&mp_ops, &mp_relaxed_ops, NULL
};
