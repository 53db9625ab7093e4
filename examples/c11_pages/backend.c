/* backend.c - c11_pages behind labyrinth's backend table, as backend
 * "c11-pages", so the labyrinth command drives it (free-running stress
 * today; controlled schedules when c11_pages.c is built with
 * labyrinth_instrument()).  This adapter is the only file that includes a
 * labyrinth header; the allocator itself does not know labyrinth.
 *
 * The seeded bug is a backend of its own, "c11-pages-split-claim" (see
 * c11_pages.h), not an environment variable: an artifact records the
 * backend's name, so the command that replays it needs nothing else.
 * C11_PAGES_BUG, which the standalone stress program reads, is refused
 * here rather than ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c11_pages.h"
#include "labyrinth.h"

static void *c11_backend_create_as(const struct lab_maze_config *cfg,
				   enum c11_pages_bug bug)
{
	const char *env = getenv("C11_PAGES_BUG");
	struct c11_pages *p;

	if (env && *env && strcmp(env, "none")) {
		fprintf(stderr,
			"labyrinth: C11_PAGES_BUG='%.64s': the backend takes "
			"its seeded bug from its name (--backend "
			"c11-pages-split-claim), which artifacts record\n",
			env);
		return NULL;
	}
	if (!cfg || !cfg->width || !cfg->height)
		return NULL;
	p = c11_pages_create((size_t)cfg->width * cfg->height,
			     cfg->page_size ? cfg->page_size : 4096,
			     bug);
	if (!p)
		fprintf(stderr,
			"labyrinth: c11-pages: cannot create %ux%u "
			"pages\n",
			cfg->width, cfg->height);
	return p;
}

static void *c11_backend_create(const struct lab_maze_config *cfg)
{
	return c11_backend_create_as(cfg, C11_PAGES_CORRECT);
}

static void *c11_backend_create_split(const struct lab_maze_config *cfg)
{
	return c11_backend_create_as(cfg, C11_PAGES_SPLIT_CLAIM);
}

static void *c11_backend_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	(void)gfp; /* no classes: every request is served alike */
	return order ? NULL : c11_pages_alloc(inst);
}

static int c11_backend_free(void *inst, void *addr, unsigned order)
{
	return order ? -EINVAL : c11_pages_free(inst, addr);
}

static long c11_backend_check(void *inst)
{
	return c11_pages_check(inst);
}

static int c11_backend_stats(void *inst, struct lab_maze_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->frames = c11_pages_total(inst);
	out->free_frames = c11_pages_free_count(inst);
	return 0;
}

static void c11_backend_destroy(void *inst)
{
	c11_pages_destroy(inst);
}

const struct lab_backend_ops c11_pages_backend = {
	.name = "c11-pages",
	.create = c11_backend_create,
	.alloc = c11_backend_alloc,
	.free = c11_backend_free,
	.check = c11_backend_check,
	.stats = c11_backend_stats,
	.destroy = c11_backend_destroy,
};

/* The same allocator with its seeded bug (c11_pages.h). */
const struct lab_backend_ops c11_pages_split_backend = {
	.name = "c11-pages-split-claim",
	.create = c11_backend_create_split,
	.alloc = c11_backend_alloc,
	.free = c11_backend_free,
	.check = c11_backend_check,
	.stats = c11_backend_stats,
	.destroy = c11_backend_destroy,
};

/* The labyrinth command registers every backend listed here at start. */
const struct lab_backend_ops *const lab_user_backends[] = {
	&c11_pages_backend, &c11_pages_split_backend, NULL
};
