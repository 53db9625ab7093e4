/* maze.c - creating and destroying mazes, geometry, conversions between
 * pfns, descriptors and addresses, and the registry of live mazes.
 *
 * The registry lets a free of a pointer that belongs to another maze be
 * reported as such (WRONG_MAZE) and lets exiting threads find out whether a
 * maze they cached frames for still exists.  Lookups are lock-free (they
 * run in free paths, maybe in signal handlers); changes take a mutex.
 */
#define _GNU_SOURCE /* mmap flags, syscall, clock_gettime, posix_memalign */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define LAB_REGISTRY_SLOTS 256
#define LAB_PAGE_SIZE_MIN 256u
#define LAB_PAGE_SIZE_MAX (2u << 20)
#define LAB_BYTES_LIMIT (1ull << 40)

struct lab_registry_slot {
	_Atomic(struct lab_maze *) maze;
	_Atomic(uintptr_t) start, end;
	lab_atomic64_t id;
};

static struct lab_registry_slot lab_registry[LAB_REGISTRY_SLOTS];
static pthread_mutex_t lab_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static lab_atomic64_t lab_next_maze_id = 1;

/* ---- registry ------------------------------------------------------------- */

static int lab_registry_add(struct lab_maze *maze)
{
	int i, ret = -ENOSPC;

	pthread_mutex_lock(&lab_registry_lock);
	for (i = 0; i < LAB_REGISTRY_SLOTS; i++) {
		struct lab_registry_slot *s = &lab_registry[i];

		if (atomic_load(&s->maze))
			continue;
		atomic_store(&s->start, (uintptr_t)maze->base);
		atomic_store(&s->end, (uintptr_t)maze->base + maze->bytes);
		/* Registry words are ordered by its mutex, which a memory
		 * model behind the atomic hook does not see: not hooked. */
		atomic_store_explicit(&s->id, maze->id, memory_order_relaxed);
		atomic_store(&s->maze, maze);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&lab_registry_lock);
	return ret;
}

static void lab_registry_remove(struct lab_maze *maze)
{
	int i;

	pthread_mutex_lock(&lab_registry_lock);
	for (i = 0; i < LAB_REGISTRY_SLOTS; i++) {
		if (atomic_load(&lab_registry[i].maze) == maze)
			atomic_store(&lab_registry[i].maze, NULL);
	}
	pthread_mutex_unlock(&lab_registry_lock);
}

/* Lock-free: the maze whose memory contains addr, or NULL.  The answer is
 * for diagnostics only; the maze may be going away. */
struct lab_maze *_lab_registry_find_addr(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	int i;

	for (i = 0; i < LAB_REGISTRY_SLOTS; i++) {
		struct lab_registry_slot *s = &lab_registry[i];
		struct lab_maze *m = atomic_load(&s->maze);

		if (m && a >= atomic_load(&s->start) &&
		    a < atomic_load(&s->end))
			return m;
	}
	return NULL;
}

/* Takes the registry lock and says whether maze `id` is still live; the
 * caller may use it until _lab_registry_unlock().  Process context only. */
bool _lab_registry_lock_live(uint64_t id)
{
	int i;

	pthread_mutex_lock(&lab_registry_lock);
	for (i = 0; i < LAB_REGISTRY_SLOTS; i++) {
		if (atomic_load(&lab_registry[i].maze) &&
		    atomic_load_explicit(&lab_registry[i].id,
					 memory_order_relaxed) == id)
			return true;
	}
	return false;
}

void _lab_registry_unlock(void)
{
	pthread_mutex_unlock(&lab_registry_lock);
}

/* ---- configuration ---------------------------------------------------------- */

static bool lab_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Validates the geometry; on success stores the frame count. */
static int lab_geometry_check(const struct lab_maze_config *cfg,
			      uint64_t *frames)
{
	size_t ps = cfg->page_size ? cfg->page_size : LAB_PAGE_SIZE_DEFAULT;
	uint64_t n = (uint64_t)cfg->width * cfg->height;

	if (!cfg->width || !cfg->height) {
		_lab_set_error("maze geometry %ux%u: width and height must be "
			       "at least 1",
			       cfg->width, cfg->height);
		return -EINVAL;
	}
	if (n > LAB_FRAMES_LIMIT) {
		_lab_set_error("maze geometry %ux%u: %llu frames, at most %llu",
			       cfg->width, cfg->height, (unsigned long long)n,
			       (unsigned long long)LAB_FRAMES_LIMIT);
		return -EINVAL;
	}
	if (!lab_is_pow2(ps) || ps < LAB_PAGE_SIZE_MIN ||
	    ps > LAB_PAGE_SIZE_MAX) {
		_lab_set_error("page size %zu: must be a power of two from %u "
			       "to %u",
			       ps, LAB_PAGE_SIZE_MIN, LAB_PAGE_SIZE_MAX);
		return -EINVAL;
	}
	if (n * ps > LAB_BYTES_LIMIT) {
		_lab_set_error("maze of %llu frames of %zu bytes exceeds %llu "
			       "bytes",
			       (unsigned long long)n, ps,
			       (unsigned long long)LAB_BYTES_LIMIT);
		return -EINVAL;
	}
	*frames = n;
	return 0;
}

static uint64_t lab_isqrt(uint64_t v)
{
	uint64_t r = 0, bit = (uint64_t)1 << 62;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* Kernel-like defaults (mm/page_alloc.c): min_free_kbytes =
 * sqrt(16 * size_kB) clamped to [128 KiB, 256 MiB]; we also cap it at 1/8
 * of the maze, because the 128 KiB floor is meant for real machines and
 * would reserve most of a tiny maze.  low and high add max(1, min/4,
 * frames/1000) each (watermark_scale_factor = 10), capped at the frame
 * count so that even a one-frame maze has valid defaults. */
int lab_maze_config_watermarks(struct lab_maze_config *cfg)
{
	uint64_t frames, kb, min_kb, min, delta;
	size_t ps;

	if (!cfg) {
		_lab_set_error("lab_maze_config_watermarks: NULL config");
		return -EINVAL;
	}
	if (lab_geometry_check(cfg, &frames))
		return -EINVAL;
	ps = cfg->page_size ? cfg->page_size : LAB_PAGE_SIZE_DEFAULT;
	kb = frames * (ps / 256) / 4;
	min_kb = lab_isqrt(kb * 16);
	if (min_kb < 128)
		min_kb = 128;
	if (min_kb > 256 * 1024)
		min_kb = 256 * 1024;
	min = min_kb * 1024 / ps;
	if (min > frames / 8)
		min = frames / 8;
	delta = min / 4 > frames / 1000 ? min / 4 : frames / 1000;
	if (delta < 1)
		delta = 1;
	cfg->wmark_min = min;
	cfg->wmark_low = min + delta < frames ? min + delta : frames;
	cfg->wmark_high = min + 2 * delta < frames ? min + 2 * delta : frames;
	return 0;
}

/* Cache sizes scale with the maze, as the kernel scales pcp batch with
 * the zone: batch = frames/1024 rounded down to a power of two, 1..64;
 * high = 4 batches.  Small mazes get small caches, so what idle contexts
 * hold back stays a small share of the maze. */
static void lab_maze_config_pcp(struct lab_maze_config *cfg)
{
	uint64_t frames = (uint64_t)cfg->width * cfg->height;
	unsigned batch = 1;

	while (batch < 64 && (uint64_t)batch * 2 * 1024 <= frames)
		batch *= 2;
	cfg->pcp_batch = batch;
	cfg->pcp_high = 4 * batch;
}

void lab_maze_config_init(struct lab_maze_config *cfg, unsigned width,
			  unsigned height)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->width = width;
	cfg->height = height;
	cfg->page_size = LAB_PAGE_SIZE_DEFAULT;
	cfg->max_order = LAB_MAX_ORDER_DEFAULT;
	cfg->reclaim_rounds = 16;
	cfg->wait_timeout_ms = 100;
	cfg->atomic_probe_budget = LAB_ATOMIC_PROBE_DEFAULT;
	lab_maze_config_pcp(cfg);
	(void)lab_maze_config_watermarks(cfg);
}

static int lab_config_check(const struct lab_maze_config *cfg, uint64_t frames)
{
	if (cfg->max_order > LAB_MAX_ORDER_LIMIT) {
		_lab_set_error("max_order %u above the limit %u",
			       cfg->max_order, LAB_MAX_ORDER_LIMIT);
		return -EINVAL;
	}
	if (!(cfg->wmark_min <= cfg->wmark_low &&
	      cfg->wmark_low <= cfg->wmark_high && cfg->wmark_high <= frames)) {
		_lab_set_error(
			"watermarks min %llu <= low %llu <= high %llu <= "
			"frames %llu do not hold",
			(unsigned long long)cfg->wmark_min,
			(unsigned long long)cfg->wmark_low,
			(unsigned long long)cfg->wmark_high,
			(unsigned long long)frames);
		return -EINVAL;
	}
	if (cfg->pcp_high &&
	    (!cfg->pcp_batch || cfg->pcp_batch > cfg->pcp_high ||
	     cfg->pcp_high > 4096)) {
		_lab_set_error("pcp_batch %u must be 1..pcp_high (%u), and "
			       "pcp_high at most 4096",
			       cfg->pcp_batch, cfg->pcp_high);
		return -EINVAL;
	}
	return 0;
}

/* ---- create / destroy ------------------------------------------------------- */

static void *lab_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Maps the frames aligned to the largest block, so that every block's
 * address is aligned to its size, as physical pages are. */
static int lab_maze_map(struct lab_maze *maze)
{
	size_t align = (size_t)1 << (maze->max_order + maze->page_shift);
	uintptr_t start;

	maze->bytes = (size_t)maze->frames << maze->page_shift;
	maze->map_bytes = maze->bytes + align;
	maze->map = lab_map(maze->map_bytes);
	if (!maze->map)
		return -ENOMEM;
	start = ((uintptr_t)maze->map + align - 1) & ~(uintptr_t)(align - 1);
	maze->base = (char *)start;
	maze->pages_bytes = maze->frames * sizeof(struct lab_page);
	maze->pages = lab_map(maze->pages_bytes);
	return maze->pages ? 0 : -ENOMEM;
}

static int lab_maze_alloc_bitmaps(struct lab_maze *maze)
{
	unsigned k;

	for (k = 0; k <= maze->max_order; k++) {
		uint64_t blocks = maze->frames >> k;

		maze->avail_words[k] = (blocks + 63) / 64;
		if (!maze->avail_words[k])
			maze->avail_words[k] = 1;
		maze->avail[k] =
			calloc(maze->avail_words[k], sizeof(lab_atomic64_t));
		if (!maze->avail[k])
			return -ENOMEM;
	}
	return 0;
}

static void lab_maze_free_memory(struct lab_maze *maze)
{
	unsigned k;

	for (k = 0; k <= LAB_MAX_ORDER_LIMIT; k++)
		free(maze->avail[k]);
	if (maze->map)
		munmap(maze->map, maze->map_bytes);
	if (maze->pages)
		munmap(maze->pages, maze->pages_bytes);
	free(maze);
}

int lab_maze_create(const struct lab_maze_config *cfg, struct lab_maze **out)
{
	struct lab_maze_config local;
	struct lab_maze *maze;
	uint64_t frames;
	int ret;

	if (!cfg || !out) {
		_lab_set_error("lab_maze_create: NULL %s", cfg ? "out" : "cfg");
		return -EINVAL;
	}
	*out = NULL;
	if ((ret = lab_geometry_check(cfg, &frames)))
		return ret;
	local = *cfg;
	if (!local.wmark_min && !local.wmark_low && !local.wmark_high)
		(void)lab_maze_config_watermarks(&local);
	cfg = &local;
	if ((ret = lab_config_check(cfg, frames)))
		return ret;
	if (posix_memalign((void **)&maze, LAB_CACHELINE, sizeof(*maze))) {
		_lab_set_error("lab_maze_create: out of memory");
		return -ENOMEM;
	}
	memset(maze, 0, sizeof(*maze));
	maze->cfg = *cfg;
	if (!maze->cfg.page_size)
		maze->cfg.page_size = LAB_PAGE_SIZE_DEFAULT;
	maze->id = lab_add_relaxed(&lab_next_maze_id, 1);
	maze->frames = frames;
	maze->max_order = cfg->max_order;
	maze->page_shift = (unsigned)__builtin_ctzll(maze->cfg.page_size);
	maze->wmark[0] = cfg->wmark_min;
	maze->wmark[1] = cfg->wmark_low;
	maze->wmark[2] = cfg->wmark_high;
	ret = lab_maze_map(maze);
	if (!ret)
		ret = lab_maze_alloc_bitmaps(maze);
	if (!ret)
		ret = lab_registry_add(maze);
	if (ret) {
		_lab_set_error("lab_maze_create: %s",
			       ret == -ENOSPC ? "too many live mazes (256)" :
						"out of memory");
		lab_maze_free_memory(maze);
		return ret;
	}
	if (LAB_DEBUG)
		memset(maze->base, LAB_POISON_BYTE, maze->bytes);
	_lab_buddy_init(maze);
	*out = maze;
	return 0;
}

void lab_maze_destroy(struct lab_maze *maze)
{
	if (!maze)
		return;
	lab_registry_remove(maze);
	lab_maze_free_memory(maze);
}

/* ---- geometry and conversions ------------------------------------------------ */

bool _lab_maze_null(const char *function)
{
	_lab_set_error("%s: NULL maze", function);
	return false;
}

uint64_t lab_maze_frames(const struct lab_maze *maze)
{
	return maze ? maze->frames : 0;
}

size_t lab_maze_page_size(const struct lab_maze *maze)
{
	return maze ? maze->cfg.page_size : 0;
}

unsigned lab_maze_max_order(const struct lab_maze *maze)
{
	return maze ? maze->max_order : 0;
}

const struct lab_maze_config *lab_maze_config(const struct lab_maze *maze)
{
	return maze ? &maze->cfg : NULL;
}

/* Says why a conversion found no frame; returns NULL for the caller. */
static void *lab_no_frame(const char *function, const struct lab_maze *maze)
{
	_lab_set_error("%s: %s", function,
		       maze ? "not a frame of this maze" : "NULL maze");
	return NULL;
}

uint64_t lab_page_to_pfn(const struct lab_maze *maze,
			 const struct lab_page *page)
{
	uintptr_t p = (uintptr_t)page, start;

	if (!maze || !page) {
		lab_no_frame("lab_page_to_pfn", maze);
		return LAB_NO_PFN;
	}
	start = (uintptr_t)maze->pages;
	if (p < start || p >= start + maze->frames * sizeof(*page) ||
	    (p - start) % sizeof(*page)) {
		lab_no_frame("lab_page_to_pfn", maze);
		return LAB_NO_PFN;
	}
	return (p - start) / sizeof(*page);
}

struct lab_page *lab_pfn_to_page(const struct lab_maze *maze, uint64_t pfn)
{
	if (!maze || pfn >= maze->frames)
		return lab_no_frame("lab_pfn_to_page", maze);
	return &maze->pages[pfn];
}

static uint64_t lab_addr_pfn(const struct lab_maze *maze, const void *addr)
{
	uintptr_t a = (uintptr_t)addr, start = (uintptr_t)maze->base;

	if (a < start || a >= start + maze->bytes)
		return LAB_NO_PFN;
	return (a - start) >> maze->page_shift;
}

struct lab_page *lab_virt_to_page(const struct lab_maze *maze, const void *addr)
{
	uint64_t pfn;

	if (!maze)
		return lab_no_frame("lab_virt_to_page", maze);
	pfn = lab_addr_pfn(maze, addr);
	if (pfn == LAB_NO_PFN)
		return lab_no_frame("lab_virt_to_page", maze);
	return &maze->pages[pfn];
}

void *lab_pfn_to_virt(const struct lab_maze *maze, uint64_t pfn)
{
	if (!maze || pfn >= maze->frames)
		return lab_no_frame("lab_pfn_to_virt", maze);
	return _lab_pfn_addr(maze, pfn);
}

int lab_pfn_to_xy(const struct lab_maze *maze, uint64_t pfn, unsigned *x,
		  unsigned *y)
{
	if (!maze || pfn >= maze->frames) {
		_lab_set_error("lab_pfn_to_xy: pfn out of range");
		return -EINVAL;
	}
	if (x)
		*x = (unsigned)(pfn % maze->cfg.width);
	if (y)
		*y = (unsigned)(pfn / maze->cfg.width);
	return 0;
}

/* ---- checked lookups for entry points ---------------------------------------- */

struct lab_page *_lab_page_lookup(struct lab_maze *maze,
				  const struct lab_page *page,
				  const char *function)
{
	uint64_t pfn = lab_page_to_pfn(maze, page);

	if (pfn != LAB_NO_PFN)
		return &maze->pages[pfn];
	_lab_report(maze, LAB_DET_BAD_DESCRIPTOR, function, LAB_NO_PFN, 0, 0,
		    "%s: %p is not a page descriptor of maze %llu", function,
		    (const void *)page, (unsigned long long)maze->id);
	return NULL;
}

/* The slow half of _lab_addr_lookup (internal.h): says why addr is not a
 * page start of this maze. */
struct lab_page *_lab_addr_report(struct lab_maze *maze, const void *addr,
				  const char *function)
{
	uint64_t pfn = lab_addr_pfn(maze, addr);
	struct lab_maze *other;

	if (pfn != LAB_NO_PFN) {
		if (((uintptr_t)addr & (maze->cfg.page_size - 1)) == 0)
			return &maze->pages[pfn];
		_lab_report(maze, LAB_DET_INSIDE_FRAME, function, pfn, 0, 0,
			    "%s: %p is inside pfn %llu, not at its start",
			    function, addr, (unsigned long long)pfn);
		return NULL;
	}
	other = _lab_registry_find_addr(addr);
	if (other) {
		_lab_report(maze, LAB_DET_WRONG_MAZE, function, LAB_NO_PFN, 0,
			    0, "%s: %p belongs to maze %llu, not maze %llu",
			    function, addr, (unsigned long long)other->id,
			    (unsigned long long)maze->id);
		return NULL;
	}
	_lab_report(maze, LAB_DET_OUT_OF_RANGE, function, LAB_NO_PFN, 0, 0,
		    "%s: %p is outside maze %llu [%p, +%zu)", function, addr,
		    (unsigned long long)maze->id, (void *)maze->base,
		    maze->bytes);
	return NULL;
}

uint64_t _lab_block_head(const struct lab_maze *maze, uint64_t pfn,
			 uint64_t *state)
{
	unsigned k;

	for (k = 0; k <= maze->max_order; k++) {
		uint64_t head = pfn & ~(((uint64_t)1 << k) - 1);
		uint64_t s = _lab_owner_load(&maze->pages[head].state);

		if (LAB_PG_KIND(s) == LAB_PG_HEAD && LAB_PG_ORDER(s) >= k &&
		    pfn < head + ((uint64_t)1 << LAB_PG_ORDER(s))) {
			if (state)
				*state = s;
			return head;
		}
	}
	return LAB_NO_PFN;
}
