/* sched_hot_backend.c - a backend with a check-then-act race, for the
 * controlled backend mode's tests: the project's mutex buddy plus a
 * one-block "hot" cache of the last freed order-0 block, kept outside
 * the lock in a C11 atomic and read and cleared in two steps.  Two
 * allocations that both read the slot before either clears it return the
 * same block twice (the stamp check finds it).
 *
 * Its scheduling points are placed by hand where an instrumented build
 * (labyrinth/atomic.h, the <stdatomic.h> shim) places them: at every
 * atomic operation.  Outside a controlled schedule they do nothing, so
 * the free-running mode runs it as plain code.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "labyrinth.h"
#include "labyrinth/sched_point.h"

struct hot {
	void *inner;	     /* the mutex buddy */
	_Atomic(void *) hot; /* a freed order-0 block, or NULL */
};

static void *hot_create(const struct lab_maze_config *cfg)
{
	struct hot *h = calloc(1, sizeof(*h));

	if (h && !(h->inner = lab_backend_mutex_buddy.create(cfg))) {
		free(h);
		h = NULL;
	}
	return h;
}

static void *hot_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	struct hot *h = inst;
	void *p;

	if (order == 0) {
		lab_sched_point(LAB_SITE("hot:load"));
		p = atomic_load(&h->hot);
		if (p) {
			/* the bug: not one exchange */
			lab_sched_point(LAB_SITE("hot:clear"));
			atomic_store(&h->hot, NULL);
			return p;
		}
	}
	return lab_backend_mutex_buddy.alloc(h->inner, gfp, order);
}

static int hot_free(void *inst, void *addr, unsigned order)
{
	struct hot *h = inst;
	void *none = NULL;

	lab_sched_point(LAB_SITE("hot:cas"));
	if (order == 0 && atomic_compare_exchange_strong(&h->hot, &none, addr))
		return 0;
	return lab_backend_mutex_buddy.free(h->inner, addr, order);
}

/* The cached block counts as free. */
static void hot_drain(struct hot *h)
{
	void *p = atomic_exchange(&h->hot, NULL);

	if (p)
		lab_backend_mutex_buddy.free(h->inner, p, 0);
}

static long hot_check(void *inst)
{
	hot_drain(inst);
	return lab_backend_mutex_buddy.check(((struct hot *)inst)->inner);
}

static int hot_stats(void *inst, struct lab_maze_stats *out)
{
	hot_drain(inst);
	return lab_backend_mutex_buddy.stats(((struct hot *)inst)->inner, out);
}

static void hot_destroy(void *inst)
{
	struct hot *h = inst;

	lab_backend_mutex_buddy.destroy(h->inner);
	free(h);
}

static const struct lab_backend_ops hot_ops = {
	.name = "sched-hot-slot",
	.create = hot_create,
	.alloc = hot_alloc,
	.free = hot_free,
	.check = hot_check,
	.stats = hot_stats,
	.destroy = hot_destroy,
};

const struct lab_backend_ops *const lab_user_backends[] = { &hot_ops, NULL };
