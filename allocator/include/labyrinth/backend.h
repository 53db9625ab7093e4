/* labyrinth/backend.h - the table through which the harness drives any
 * page allocator.
 *
 * The labyrinth allocator, the mutex-protected buddy baseline shipped with
 * the project, and third-party allocators all plug in here.  Blocks are
 * named by address; every function takes the instance from create().
 * A backend that has no notion of a GFP class treats them alike.
 */
#ifndef LABYRINTH_BACKEND_H
#define LABYRINTH_BACKEND_H

#include "labyrinth/maze.h"

struct lab_backend_ops {
	const char *name;
	/* Builds an instance for cfg (geometry, watermarks).  NULL on error
	 * with lab_last_error() set. */
	void *(*create)(const struct lab_maze_config *cfg);
	/* Returns a block of 2^order pages aligned to its size, or NULL. */
	void *(*alloc)(void *inst, lab_gfp_t gfp, unsigned order);
	/* Frees a block; 0 or a negative errno on misuse. */
	int (*free)(void *inst, void *addr, unsigned order);
	/* Whole-structure check at a quiescent point: problems found, or
	 * negative errno. */
	long (*check)(void *inst);
	/* Statistics in the labyrinth format; fields a backend does not keep
	 * are 0. */
	int (*stats)(void *inst, struct lab_maze_stats *out);
	void (*destroy)(void *inst);
};

extern const struct lab_backend_ops lab_backend_labyrinth;
extern const struct lab_backend_ops lab_backend_mutex_buddy;

/* Looks a backend up by name ("labyrinth", "mutex-buddy"); NULL if none.
 * lab_backend_register() adds one (up to 16; not thread-safe: call before
 * starting threads); -EEXIST/-ENOSPC/-EINVAL on failure. */
const struct lab_backend_ops *lab_backend_find(const char *name);
int lab_backend_register(const struct lab_backend_ops *ops);
/* Fills names[] with up to max registered names; returns the count. */
unsigned lab_backend_list(const char **names, unsigned max);

#endif /* LABYRINTH_BACKEND_H */
