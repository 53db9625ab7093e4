/* racy_backend.c - an example of wiring your own allocator into the
 * harness through the backend table, with a bug for the harness to find.
 *
 * Build it into the `labyrinth` command:
 *     cmake --preset test -DLAB_USER_BACKENDS=$PWD/examples/racy_backend.c
 * then stress it:
 *     build/test/stress/labyrinth-tsan stress --mode free \
 *         --backend example-racy-count --seconds 10
 *
 * The allocator is the project's mutex buddy with an "in use" counter kept
 * outside the lock and bumped with a plain read-modify-write (a statistics
 * counter someone thought too cheap to protect).  Concurrent updates are
 * lost, so stats() reports frames that are neither free nor in use: the
 * free-running backend mode finds it as "not-conserved" at the end of a
 * run, and ThreadSanitizer reports the data race at once.
 */
#include <stdlib.h>

#include "labyrinth.h"

struct racy {
	void *inner; /* the mutex buddy */
	uint64_t in_use; /* frames handed out: updated without the lock */
};

static void *racy_create(const struct lab_maze_config *cfg)
{
	struct racy *r = calloc(1, sizeof(*r));

	if (r && !(r->inner = lab_backend_mutex_buddy.create(cfg))) {
		free(r);
		r = NULL;
	}
	return r;
}

static void *racy_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	struct racy *r = inst;
	void *p = lab_backend_mutex_buddy.alloc(r->inner, gfp, order);

	if (p)
		r->in_use += 1ull << order; /* the bug: not atomic */
	return p;
}

static int racy_free(void *inst, void *addr, unsigned order)
{
	struct racy *r = inst;
	int ret = lab_backend_mutex_buddy.free(r->inner, addr, order);

	if (!ret)
		r->in_use -= 1ull << order; /* the bug: not atomic */
	return ret;
}

static long racy_check(void *inst)
{
	return lab_backend_mutex_buddy.check(((struct racy *)inst)->inner);
}

/* Free frames as this allocator accounts them: total minus in use. */
static int racy_stats(void *inst, struct lab_maze_stats *out)
{
	struct racy *r = inst;
	int ret = lab_backend_mutex_buddy.stats(r->inner, out);

	if (!ret)
		out->free_frames = out->frames - r->in_use;
	return ret;
}

static void racy_destroy(void *inst)
{
	struct racy *r = inst;

	lab_backend_mutex_buddy.destroy(r->inner);
	free(r);
}

static const struct lab_backend_ops racy_ops = {
	.name = "example-racy-count",
	.create = racy_create,
	.alloc = racy_alloc,
	.free = racy_free,
	.check = racy_check,
	.stats = racy_stats,
	.destroy = racy_destroy,
};

/* The command registers every backend listed here at start. */
const struct lab_backend_ops *const lab_user_backends[] = { &racy_ops, NULL };
