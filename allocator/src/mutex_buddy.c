/* mutex_buddy.c - a plain buddy allocator under one pthread mutex.
 *
 * The test oracle and benchmark baseline for the labyrinth allocator, so it
 * is written to be obviously right rather than fast:
 *
 *  - One mmap'd region of width*height pages, aligned to the largest block
 *    it can hold, so a block of 2^o frames at a pfn that is a multiple of
 *    2^o is also aligned to its size in memory.
 *  - Per-order doubly linked free lists whose links live out of band
 *    (next[]/prev[] indexed by pfn), so a caller scribbling on a free page
 *    cannot corrupt the allocator, and a byte per frame (state[]) saying
 *    whether the frame heads a free block, an allocated block, or neither,
 *    and of which order.  Every free is checked against state[] first.
 *  - Split on allocation, coalesce on free while the buddy heads a free
 *    block of the same order.  The frame count need not be a power of two:
 *    the tail is covered by smaller blocks whose buddies do not exist.
 *  - The labyrinth's watermark rules (reference.md section 1): an order-o
 *    allocation succeeds only if free_frames - 2^o >= mark, where mark is
 *    wmark_min for KERNEL and NOWAIT, min - min/2 for HIGH|DIRECT_RECLAIM
 *    and min - min/2 - (min - min/2)/4 (37.5%) for ATOMIC.
 *
 * Deliberately left out: there is no reclaim, no waiting and no OOM hook.
 * LAB_GFP_KERNEL (and LAB_GFP_NOFAIL with DIRECT_RECLAIM) simply fail when
 * the watermark refuses them, where the labyrinth would wait for frees.  No
 * per-thread caches, no poisoning, no misuse reports (misuse is a negative
 * return plus lab_last_error()), and LAB_GFP_EXCLUSIVE records no owner.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE under -std=c17 */
#endif

#include "mutex_buddy.h"

#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MB_NIL UINT32_MAX
#define MB_FREE 0x40u	    /* state[]: frame heads a free block */
#define MB_ALLOC 0x80u	    /* state[]: frame heads an allocated block */
#define MB_ORDER_MASK 0x1fu /* state[]: the block's order */
#define MB_PAGE_MIN 256u
#define MB_PAGE_MAX (2u << 20)
#define MB_BYTES_LIMIT (1ull << 40) /* as maze.c's LAB_BYTES_LIMIT */

struct lab_mbuddy {
	pthread_mutex_t lock; /* guards everything below but the geometry */
	char *base;	      /* first page; aligned to the largest block */
	size_t map_len;	      /* mapped bytes from base (system pages) */
	size_t page_size;
	unsigned page_shift;
	unsigned max_order;
	uint64_t frames;
	uint64_t wmark_min, wmark_low, wmark_high;

	uint64_t free_frames;
	uint64_t frees;
	uint32_t *next, *prev; /* free-list links, valid at free heads */
	uint8_t *state;	       /* MB_FREE/MB_ALLOC | order at heads, else 0 */
	uint32_t free_head[LAB_MAX_ORDER_LIMIT + 1];
	uint64_t free_count[LAB_MAX_ORDER_LIMIT + 1];
	struct {
		uint64_t attempts, successes, failures;
	} cls[LAB_CLASS_COUNT];
};

static inline uint64_t mb_size(unsigned order)
{
	return (uint64_t)1 << order;
}

static inline void *mb_addr(const struct lab_mbuddy *mb, uint64_t pfn)
{
	return mb->base + (pfn << mb->page_shift);
}

/* ---- free lists (caller holds the lock) -------------------------------- */

/* LIFO, so a block freed and asked for again comes straight back. */
static void mb_push(struct lab_mbuddy *mb, uint32_t pfn, unsigned order)
{
	uint32_t head = mb->free_head[order];

	mb->next[pfn] = head;
	mb->prev[pfn] = MB_NIL;
	if (head != MB_NIL)
		mb->prev[head] = pfn;
	mb->free_head[order] = pfn;
	mb->free_count[order]++;
	mb->state[pfn] = (uint8_t)(MB_FREE | order);
}

static void mb_unlink(struct lab_mbuddy *mb, uint32_t pfn, unsigned order)
{
	uint32_t next = mb->next[pfn], prev = mb->prev[pfn];

	if (prev != MB_NIL)
		mb->next[prev] = next;
	else
		mb->free_head[order] = next;
	if (next != MB_NIL)
		mb->prev[next] = prev;
	mb->free_count[order]--;
	mb->state[pfn] = 0;
}

/* Covers [0, frames) with the largest naturally aligned blocks that fit.
 * Greedy is already fully coalesced: two neighbouring buddies of order o
 * would have been taken as one block of order o+1. */
static void mb_fill(struct lab_mbuddy *mb)
{
	uint64_t pfn = 0;

	while (pfn < mb->frames) {
		unsigned o = mb->max_order;

		while (o && ((pfn & (mb_size(o) - 1)) ||
			     pfn + mb_size(o) > mb->frames))
			o--;
		mb_push(mb, (uint32_t)pfn, o);
		pfn += mb_size(o);
	}
	mb->free_frames = mb->frames;
}

/* ---- allocation ------------------------------------------------------- */

/* The lowest free level this flag word may take the maze to. */
static uint64_t mb_wmark(const struct lab_mbuddy *mb, lab_gfp_t gfp)
{
	uint64_t mark = mb->wmark_min;

	if (!(gfp & LAB_GFP_HIGH))
		return mark;
	mark -= mark / 2;
	if (!(gfp & LAB_GFP_DIRECT_RECLAIM))
		mark -= mark / 4;
	return mark;
}

/* Takes a block of exactly `order` out of the lists, splitting a larger
 * one if needed; MB_NIL if the watermark or fragmentation refuses.  Lock
 * held. */
static uint32_t mb_take(struct lab_mbuddy *mb, lab_gfp_t gfp, unsigned order)
{
	unsigned o = order;
	uint32_t pfn;

	if (mb->free_frames < mb_size(order) + mb_wmark(mb, gfp))
		return MB_NIL;
	while (o <= mb->max_order && mb->free_head[o] == MB_NIL)
		o++;
	if (o > mb->max_order)
		return MB_NIL;
	pfn = mb->free_head[o];
	mb_unlink(mb, pfn, o);
	while (o > order) {
		o--;
		mb_push(mb, (uint32_t)(pfn + mb_size(o)), o);
	}
	mb->state[pfn] = (uint8_t)(MB_ALLOC | order);
	mb->free_frames -= mb_size(order);
	return pfn;
}

static bool mb_alloc_args_ok(const struct lab_mbuddy *mb, lab_gfp_t gfp,
			     unsigned order)
{
	if (!mb) {
		_lab_set_error("mutex-buddy alloc: NULL instance");
		return false;
	}
	if (order > mb->max_order) {
		_lab_set_error("mutex-buddy alloc: order %u above max_order %u",
			       order, mb->max_order);
		return false;
	}
	if (gfp & ~LAB_GFP_VALID_MASK) {
		_lab_set_error("mutex-buddy alloc: unknown gfp bits %#x",
			       gfp & ~LAB_GFP_VALID_MASK);
		return false;
	}
	if ((gfp & LAB_GFP_NOFAIL) && !(gfp & LAB_GFP_DIRECT_RECLAIM)) {
		_lab_set_error(
			"mutex-buddy alloc: NOFAIL without DIRECT_RECLAIM");
		return false;
	}
	return true;
}

void *lab_mbuddy_alloc(struct lab_mbuddy *mb, lab_gfp_t gfp, unsigned order)
{
	enum lab_gfp_class cls;
	uint32_t pfn;
	void *addr;

	if (!mb_alloc_args_ok(mb, gfp, order))
		return NULL;
	cls = lab_gfp_class(gfp);
	pthread_mutex_lock(&mb->lock);
	mb->cls[cls].attempts++;
	pfn = mb_take(mb, gfp, order);
	if (pfn == MB_NIL)
		mb->cls[cls].failures++;
	else
		mb->cls[cls].successes++;
	pthread_mutex_unlock(&mb->lock);
	if (pfn == MB_NIL)
		return NULL;
	addr = mb_addr(mb, pfn);
	/* Outside the lock: the block is the caller's from here on. */
	if (gfp & LAB_GFP_ZERO)
		memset(addr, 0, mb->page_size << order);
	return addr;
}

/* ---- free --------------------------------------------------------------- */

/* Returns an allocated block and merges it upwards.  Lock held.  The buddy
 * must exist (be < frames) before state[] is read for it. */
static void mb_release(struct lab_mbuddy *mb, uint64_t pfn, unsigned order)
{
	mb->state[pfn] = 0;
	mb->free_frames += mb_size(order);
	while (order < mb->max_order) {
		uint64_t buddy = pfn ^ mb_size(order);

		if (buddy >= mb->frames ||
		    mb->state[buddy] != (MB_FREE | order))
			break;
		mb_unlink(mb, (uint32_t)buddy, order);
		pfn &= ~mb_size(order);
		order++;
	}
	mb_push(mb, (uint32_t)pfn, order);
}

/* Argument checks that need no lock: the address maps to a pfn aligned to
 * the order.  Returns the pfn, or a negative errno with the message set;
 * the checks and errnos come in lab_free_pages_addr()'s order, so the
 * oracle and the labyrinth agree on every bad free. */
static int64_t mb_free_pfn(const struct lab_mbuddy *mb, const void *addr,
			   unsigned order)
{
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)mb->base;
	uint64_t pfn;

	if (!addr) {
		_lab_set_error("mutex-buddy free: NULL address");
		return -EINVAL;
	}
	if (a < base || a - base >= (mb->frames << mb->page_shift)) {
		_lab_set_error("mutex-buddy free: %p outside the region", addr);
		return -EFAULT;
	}
	if ((a - base) & (mb->page_size - 1)) {
		_lab_set_error("mutex-buddy free: %p is not a page start",
			       addr);
		return -EFAULT;
	}
	if (order > mb->max_order) {
		_lab_set_error("mutex-buddy free: order %u above max_order %u",
			       order, mb->max_order);
		return -EINVAL;
	}
	pfn = (a - base) >> mb->page_shift;
	if (pfn & (mb_size(order) - 1)) {
		_lab_set_error(
			"mutex-buddy free: pfn %llu not aligned to order %u",
			(unsigned long long)pfn, order);
		return -EINVAL;
	}
	return (int64_t)pfn;
}

int lab_mbuddy_free(struct lab_mbuddy *mb, void *addr, unsigned order)
{
	int64_t pfn;
	unsigned state;

	if (!mb) {
		_lab_set_error("mutex-buddy free: NULL instance");
		return -EINVAL;
	}
	pfn = mb_free_pfn(mb, addr, order);
	if (pfn < 0)
		return (int)pfn;
	pthread_mutex_lock(&mb->lock);
	state = mb->state[pfn];
	if ((state & MB_ALLOC) && (state & MB_ORDER_MASK) == order) {
		mb_release(mb, (uint64_t)pfn, order);
		mb->frees++;
	}
	pthread_mutex_unlock(&mb->lock);

	if (!(state & MB_ALLOC)) {
		_lab_set_error("mutex-buddy free: pfn %lld is not an allocated "
			       "block head (double free?)",
			       (long long)pfn);
		return -EINVAL;
	}
	if ((state & MB_ORDER_MASK) != order) {
		_lab_set_error(
			"mutex-buddy free: pfn %lld allocated with order "
			"%u, freed with %u",
			(long long)pfn, state & MB_ORDER_MASK, order);
		return -EINVAL;
	}
	return 0;
}

/* ---- create / destroy --------------------------------------------------- */

static int mb_page_shift(size_t page_size)
{
	int shift = 0;

	if (page_size < MB_PAGE_MIN || page_size > MB_PAGE_MAX ||
	    (page_size & (page_size - 1)))
		return -1;
	while (((size_t)1 << shift) < page_size)
		shift++;
	return shift;
}

/* Geometry rules shared with lab_maze_create(); fills mb's geometry. */
static int mb_geometry(struct lab_mbuddy *mb, const struct lab_maze_config *cfg)
{
	size_t page = cfg->page_size ? cfg->page_size : LAB_PAGE_SIZE_DEFAULT;
	int shift = mb_page_shift(page);

	if (cfg->width < 1 || cfg->height < 1) {
		_lab_set_error("mutex-buddy: width and height must be >= 1 "
			       "(got %ux%u)",
			       cfg->width, cfg->height);
		return -EINVAL;
	}
	if (shift < 0) {
		_lab_set_error(
			"mutex-buddy: page_size %zu is not a power of two "
			"in 256..2MiB",
			cfg->page_size);
		return -EINVAL;
	}
	mb->frames = (uint64_t)cfg->width * cfg->height;
	/* SIZE_MAX / 4: room for the alignment slack of mb_map() on 32-bit. */
	if (mb->frames > LAB_FRAMES_LIMIT ||
	    mb->frames > MB_BYTES_LIMIT >> shift ||
	    mb->frames > (SIZE_MAX / 4) >> shift) {
		_lab_set_error("mutex-buddy: %ux%u frames of %zu bytes is too "
			       "large",
			       cfg->width, cfg->height, page);
		return -EINVAL;
	}
	if (cfg->max_order > LAB_MAX_ORDER_LIMIT) {
		_lab_set_error("mutex-buddy: max_order %u above %u",
			       cfg->max_order, LAB_MAX_ORDER_LIMIT);
		return -EINVAL;
	}
	mb->page_size = page;
	mb->page_shift = (unsigned)shift;
	mb->max_order = cfg->max_order;
	return 0;
}

/* Watermarks as given, or the defaults when all three are 0. */
static int mb_watermarks(struct lab_mbuddy *mb,
			 const struct lab_maze_config *cfg)
{
	struct lab_maze_config local = *cfg;

	if (!cfg->wmark_min && !cfg->wmark_low && !cfg->wmark_high) {
		int err = lab_maze_config_watermarks(&local);

		if (err)
			return err;
	} else if (!(local.wmark_min <= local.wmark_low &&
		     local.wmark_low <= local.wmark_high &&
		     local.wmark_high <= mb->frames)) {
		/* lab_maze_create's rule: equal marks are allowed (tiny
		 * mazes need them). */
		_lab_set_error(
			"mutex-buddy: watermarks need min <= low <= high "
			"<= frames (got %llu/%llu/%llu, %llu frames)",
			(unsigned long long)local.wmark_min,
			(unsigned long long)local.wmark_low,
			(unsigned long long)local.wmark_high,
			(unsigned long long)mb->frames);
		return -EINVAL;
	}
	mb->wmark_min = local.wmark_min;
	mb->wmark_low = local.wmark_low;
	mb->wmark_high = local.wmark_high;
	return 0;
}

/* Maps the pages so that base is aligned to the largest block that fits,
 * by over-mapping and trimming both ends.  MAP_NORESERVE: a big maze costs
 * only the pages that get touched. */
static int mb_map(struct lab_mbuddy *mb)
{
	size_t sys = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = (size_t)(mb->frames << mb->page_shift);
	size_t len = (bytes + sys - 1) & ~(sys - 1);
	size_t align = mb->page_size, slack, head;
	uintptr_t start;
	char *raw;

	while (align <= bytes / 2 && align < (mb->page_size << mb->max_order))
		align <<= 1;
	slack = align > sys ? align : 0;
	raw = mmap(NULL, len + slack, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		_lab_set_error("mutex-buddy: mmap of %zu bytes failed", len);
		return -ENOMEM;
	}
	start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
	head = start - (uintptr_t)raw;
	if (head)
		munmap(raw, head);
	if (slack - head)
		munmap((char *)start + len, slack - head);
	mb->base = (char *)start;
	mb->map_len = len;
	return 0;
}

static int mb_alloc_meta(struct lab_mbuddy *mb)
{
	mb->state = calloc(mb->frames, 1);
	mb->next = malloc(mb->frames * sizeof(*mb->next));
	mb->prev = malloc(mb->frames * sizeof(*mb->prev));
	if (!mb->state || !mb->next || !mb->prev) {
		_lab_set_error("mutex-buddy: out of memory for %llu frames",
			       (unsigned long long)mb->frames);
		return -ENOMEM;
	}
	return 0;
}

struct lab_mbuddy *lab_mbuddy_create(const struct lab_maze_config *cfg)
{
	struct lab_mbuddy *mb;

	if (!cfg) {
		_lab_set_error("mutex-buddy: NULL config");
		return NULL;
	}
	mb = calloc(1, sizeof(*mb));
	if (!mb) {
		_lab_set_error("mutex-buddy: out of memory");
		return NULL;
	}
	if (mb_geometry(mb, cfg) || mb_watermarks(mb, cfg) ||
	    mb_alloc_meta(mb) || mb_map(mb) ||
	    pthread_mutex_init(&mb->lock, NULL)) {
		if (mb->base)
			munmap(mb->base, mb->map_len);
		free(mb->state);
		free(mb->next);
		free(mb->prev);
		free(mb);
		return NULL;
	}
	for (unsigned o = 0; o <= LAB_MAX_ORDER_LIMIT; o++)
		mb->free_head[o] = MB_NIL;
	mb_fill(mb);
	return mb;
}

void lab_mbuddy_destroy(struct lab_mbuddy *mb)
{
	if (!mb)
		return;
	pthread_mutex_destroy(&mb->lock);
	munmap(mb->base, mb->map_len);
	free(mb->state);
	free(mb->next);
	free(mb->prev);
	free(mb);
}

/* ---- statistics ----------------------------------------------------------- */

int lab_mbuddy_stats(struct lab_mbuddy *mb, struct lab_maze_stats *out)
{
	if (!mb || !out) {
		_lab_set_error("mutex-buddy stats: NULL argument");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->frames = mb->frames;
	out->wmark_min = mb->wmark_min;
	out->wmark_low = mb->wmark_low;
	out->wmark_high = mb->wmark_high;
	pthread_mutex_lock(&mb->lock);
	for (unsigned c = 0; c < LAB_CLASS_COUNT; c++) {
		out->cls[c].attempts = mb->cls[c].attempts;
		out->cls[c].successes = mb->cls[c].successes;
		out->cls[c].failures = mb->cls[c].failures;
	}
	out->frees = mb->frees;
	out->free_frames = mb->free_frames;
	for (unsigned o = 0; o <= LAB_MAX_ORDER_LIMIT; o++)
		out->free_blocks[o] = mb->free_count[o];
	pthread_mutex_unlock(&mb->lock);
	return 0;
}

/* ---- whole-structure check -------------------------------------------------- */

LAB_NO_COVERAGE_BEGIN

struct mb_checker {
	const struct lab_mbuddy *mb;
	uint64_t *seen; /* one bit per frame: covered by a block */
	long problems;
	uint64_t listed_heads, listed_frames, alloc_frames;
	char first[160]; /* the first problem, for lab_last_error() */
};

static void mb_problem(struct mb_checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->problems++)
		return;
	va_start(ap, fmt);
	vsnprintf(c->first, sizeof(c->first), fmt, ap);
	va_end(ap);
}

/* Marks a block's frames covered; counts one problem if any already was. */
static void mb_cover(struct mb_checker *c, uint64_t pfn, unsigned order)
{
	bool overlap = false;

	for (uint64_t f = pfn; f < pfn + mb_size(order); f++) {
		uint64_t bit = (uint64_t)1 << (f % 64);

		overlap |= (c->seen[f / 64] & bit) != 0;
		c->seen[f / 64] |= bit;
	}
	if (overlap)
		mb_problem(c, "block pfn %llu order %u overlaps another",
			   (unsigned long long)pfn, order);
}

/* True if [pfn, pfn + 2^order) is a naturally aligned run inside the maze. */
static bool mb_block_ok(const struct lab_mbuddy *mb, uint64_t pfn,
			unsigned order)
{
	return order <= mb->max_order && !(pfn & (mb_size(order) - 1)) &&
	       pfn + mb_size(order) <= mb->frames;
}

/* One free block found on list `order`. */
static void mb_check_free_block(struct mb_checker *c, uint32_t pfn,
				unsigned order, uint32_t prev)
{
	const struct lab_mbuddy *mb = c->mb;
	uint64_t buddy = pfn ^ mb_size(order);

	if (mb->prev[pfn] != prev)
		mb_problem(c, "order %u: pfn %u has a bad back link", order,
			   pfn);
	if (mb->state[pfn] != (MB_FREE | order))
		mb_problem(c, "order %u: listed pfn %u has state %#x", order,
			   pfn, mb->state[pfn]);
	if (!mb_block_ok(mb, pfn, order)) {
		mb_problem(c, "order %u: pfn %u misaligned or out of range",
			   order, pfn);
		return;
	}
	mb_cover(c, pfn, order);
	c->listed_frames += mb_size(order);
	if (order < mb->max_order && pfn < buddy && buddy < mb->frames &&
	    mb->state[buddy] == (MB_FREE | order))
		mb_problem(c, "order %u: free buddies %u and %llu not merged",
			   order, pfn, (unsigned long long)buddy);
}

static void mb_check_list(struct mb_checker *c, unsigned order)
{
	const struct lab_mbuddy *mb = c->mb;
	uint32_t prev = MB_NIL;
	uint64_t n = 0;

	for (uint32_t pfn = mb->free_head[order]; pfn != MB_NIL;
	     pfn = mb->next[pfn]) {
		if (pfn >= mb->frames || ++n > mb->frames) {
			mb_problem(c, "order %u: list broken at pfn %u", order,
				   pfn);
			break;
		}
		mb_check_free_block(c, pfn, order, prev);
		prev = pfn;
	}
	if (n != mb->free_count[order])
		mb_problem(c, "order %u: %llu blocks listed, counter says %llu",
			   order, (unsigned long long)n,
			   (unsigned long long)mb->free_count[order]);
	c->listed_heads += n;
}

/* Scans state[]: allocated blocks are covered, and every free head seen
 * is one of the listed ones. */
static void mb_check_heads(struct mb_checker *c)
{
	const struct lab_mbuddy *mb = c->mb;
	uint64_t free_heads = 0;

	for (uint64_t pfn = 0; pfn < mb->frames; pfn++) {
		unsigned s = mb->state[pfn], order = s & MB_ORDER_MASK;

		if (s & MB_FREE)
			free_heads++;
		if ((s & MB_FREE) && (s & MB_ALLOC))
			mb_problem(c, "pfn %llu both free and allocated",
				   (unsigned long long)pfn);
		if (!(s & MB_ALLOC) || (s & MB_FREE))
			continue;
		if (!mb_block_ok(mb, pfn, order)) {
			mb_problem(c, "allocated pfn %llu order %u misaligned",
				   (unsigned long long)pfn, order);
			continue;
		}
		mb_cover(c, pfn, order);
		c->alloc_frames += mb_size(order);
	}
	if (free_heads != c->listed_heads)
		mb_problem(c, "%llu free heads, %llu on lists",
			   (unsigned long long)free_heads,
			   (unsigned long long)c->listed_heads);
}

static void mb_check_totals(struct mb_checker *c)
{
	const struct lab_mbuddy *mb = c->mb;
	uint64_t covered = 0;

	for (uint64_t w = 0; w < (mb->frames + 63) / 64; w++)
		covered += (uint64_t)__builtin_popcountll(c->seen[w]);
	if (covered != mb->frames)
		mb_problem(c, "%llu of %llu frames in no block",
			   (unsigned long long)(mb->frames - covered),
			   (unsigned long long)mb->frames);
	if (c->listed_frames != mb->free_frames)
		mb_problem(c, "free lists hold %llu frames, counter says %llu",
			   (unsigned long long)c->listed_frames,
			   (unsigned long long)mb->free_frames);
	if (c->listed_frames + c->alloc_frames != mb->frames)
		mb_problem(c, "free %llu + allocated %llu != %llu frames",
			   (unsigned long long)c->listed_frames,
			   (unsigned long long)c->alloc_frames,
			   (unsigned long long)mb->frames);
}

long lab_mbuddy_check(struct lab_mbuddy *mb)
{
	struct mb_checker c = { .mb = mb };

	if (!mb) {
		_lab_set_error("mutex-buddy check: NULL instance");
		return -EINVAL;
	}
	c.seen = calloc((mb->frames + 63) / 64, sizeof(*c.seen));
	if (!c.seen) {
		_lab_set_error("mutex-buddy check: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&mb->lock);
	for (unsigned o = 0; o <= LAB_MAX_ORDER_LIMIT; o++)
		mb_check_list(&c, o);
	mb_check_heads(&c);
	mb_check_totals(&c);
	pthread_mutex_unlock(&mb->lock);
	free(c.seen);
	if (c.problems)
		_lab_set_error("mutex-buddy check: %ld problems; first: %s",
			       c.problems, c.first);
	return c.problems;
}

LAB_NO_COVERAGE_END

/* ---- backend ops table -------------------------------------------------- */

static void *mb_op_create(const struct lab_maze_config *cfg)
{
	return lab_mbuddy_create(cfg);
}

static void *mb_op_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	return lab_mbuddy_alloc(inst, gfp, order);
}

static int mb_op_free(void *inst, void *addr, unsigned order)
{
	return lab_mbuddy_free(inst, addr, order);
}

static long mb_op_check(void *inst)
{
	return lab_mbuddy_check(inst);
}

static int mb_op_stats(void *inst, struct lab_maze_stats *out)
{
	return lab_mbuddy_stats(inst, out);
}

static void mb_op_destroy(void *inst)
{
	lab_mbuddy_destroy(inst);
}

const struct lab_backend_ops lab_backend_mutex_buddy = {
	.name = "mutex-buddy",
	.create = mb_op_create,
	.alloc = mb_op_alloc,
	.free = mb_op_free,
	.check = mb_op_check,
	.stats = mb_op_stats,
	.destroy = mb_op_destroy,
};
