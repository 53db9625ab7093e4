/* backend.c - the labyrinth's ops table and the backend registry.
 *
 * The registry is two built-ins that are always there ("labyrinth",
 * "mutex-buddy") followed by up to LAB_BACKEND_EXTRA tables registered at
 * run time.  Registration is not thread-safe by contract (backend.h): it
 * happens before the harness starts threads, so lookups need no lock.
 */
#include "internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define LAB_BACKEND_EXTRA 16

/* ---- labyrinth adapter -------------------------------------------------- */

static void *lab_op_create(const struct lab_maze_config *cfg)
{
	struct lab_maze *maze = NULL;

	/* lab_maze_create() sets lab_last_error() on failure. */
	if (lab_maze_create(cfg, &maze))
		return NULL;
	return maze;
}

static void *lab_op_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	return lab_get_free_pages(inst, gfp, order);
}

static int lab_op_free(void *inst, void *addr, unsigned order)
{
	return lab_free_pages_addr(inst, addr, order);
}

static long lab_op_check(void *inst)
{
	return lab_maze_check(inst);
}

static int lab_op_stats(void *inst, struct lab_maze_stats *out)
{
	return lab_maze_stats(inst, out);
}

static void lab_op_destroy(void *inst)
{
	lab_maze_destroy(inst);
}

const struct lab_backend_ops lab_backend_labyrinth = {
	.name = "labyrinth",
	.create = lab_op_create,
	.alloc = lab_op_alloc,
	.free = lab_op_free,
	.check = lab_op_check,
	.stats = lab_op_stats,
	.destroy = lab_op_destroy,
};

/* ---- registry ------------------------------------------------------------ */

static const struct lab_backend_ops *const builtin_backends[] = {
	&lab_backend_labyrinth,
	&lab_backend_mutex_buddy,
};
#define LAB_BACKEND_BUILTIN \
	((unsigned)(sizeof(builtin_backends) / sizeof(builtin_backends[0])))

static const struct lab_backend_ops *extra_backends[LAB_BACKEND_EXTRA];
static unsigned extra_count;

/* The i-th backend in registry order (built-ins first), NULL past the end. */
static const struct lab_backend_ops *backend_at(unsigned i)
{
	if (i < LAB_BACKEND_BUILTIN)
		return builtin_backends[i];
	i -= LAB_BACKEND_BUILTIN;
	return i < extra_count ? extra_backends[i] : NULL;
}

const struct lab_backend_ops *lab_backend_find(const char *name)
{
	const struct lab_backend_ops *ops;

	if (!name)
		return NULL;
	for (unsigned i = 0; (ops = backend_at(i)); i++)
		if (!strcmp(ops->name, name))
			return ops;
	return NULL;
}

static bool backend_ops_complete(const struct lab_backend_ops *ops)
{
	return ops->name && ops->name[0] && ops->create && ops->alloc &&
	       ops->free && ops->check && ops->stats && ops->destroy;
}

/* The table itself is kept, not copied: it must outlive every lookup
 * (a static const table, typically). */
int lab_backend_register(const struct lab_backend_ops *ops)
{
	if (!ops || !backend_ops_complete(ops)) {
		_lab_set_error("lab_backend_register: need a name and every "
			       "operation");
		return -EINVAL;
	}
	if (lab_backend_find(ops->name)) {
		_lab_set_error(
			"lab_backend_register: \"%s\" already registered",
			ops->name);
		return -EEXIST;
	}
	if (extra_count == LAB_BACKEND_EXTRA) {
		_lab_set_error("lab_backend_register: table full (%d extra)",
			       LAB_BACKEND_EXTRA);
		return -ENOSPC;
	}
	extra_backends[extra_count++] = ops;
	return 0;
}

/* Returns how many names it wrote (at most max), built-ins first. */
unsigned lab_backend_list(const char **names, unsigned max)
{
	const struct lab_backend_ops *ops;
	unsigned n = 0;

	if (!names)
		return 0;
	while (n < max && (ops = backend_at(n)))
		names[n++] = ops->name;
	return n;
}
