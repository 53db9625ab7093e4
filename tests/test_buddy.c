/* test_buddy.c - split, merge, alignment and a model of the buddy maze.
 *
 * Rules (maze.h, buddy.c): blocks are naturally aligned runs of 2^order
 * frames, split on allocation and fully coalesced on free, on any frame
 * count (not only powers of two); addresses are aligned to the block
 * size; LAB_GFP_ZERO zeroes; the pfn/descriptor/address/xy conversions
 * agree.  Single-threaded, with no per-thread cache, the maze behaves
 * exactly like a simple model: an order-o allocation of class c succeeds
 * iff free - 2^o >= mark(c) and some aligned 2^o run of frames is free;
 * and the free blocks are the unique maximal aligned free runs.  The
 * mutex buddy baseline agrees with it on which allocations succeed.
 */
#define _GNU_SOURCE
#include "check.h"
#include "mutex_buddy.h"

static struct capture cap;

/* A maze where every frame is allocatable (min 0) unless marks given. */
static struct lab_maze *maze_geo(unsigned w, unsigned h, unsigned max_order,
				 uint64_t min, uint64_t low, uint64_t high)
{
	struct lab_maze_config cfg = cfg_exact(w, h, min, low, high, &cap);

	cfg.max_order = max_order;
	return maze_from(&cfg);
}

struct block {
	struct lab_page *pg;
	unsigned order;
};

static void shuffle(struct block *b, size_t n, uint64_t *rng)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(rng, i);
		struct block t = b[i - 1];

		b[i - 1] = b[j];
		b[j] = t;
	}
}

/* The block is aligned in pfn and address and does not overlap any frame
 * marked in used[]; marks it. */
static void claim_frames(struct lab_maze *m, const struct block *b,
			 unsigned char *used)
{
	uint64_t pfn = pfn_of(m, b->pg), n = (uint64_t)1 << b->order, i;
	uintptr_t addr = (uintptr_t)lab_page_address(m, b->pg);

	CHECK(pfn != LAB_NO_PFN);
	CHECK_EQ_U64(pfn % n, 0);
	CHECK(pfn + n <= lab_maze_frames(m));
	CHECK_EQ_U64(addr % (lab_maze_page_size(m) * n), 0);
	CHECK(addr == (uintptr_t)lab_pfn_to_virt(m, pfn));
	for (i = pfn; i < pfn + n; i++) {
		CHECK(!used[i]);
		used[i] = 1;
	}
}

/* Frees all blocks in a shuffled order and checks the maze is whole
 * again: every top-order block merged back. */
static void free_all_shuffled(struct lab_maze *m, struct block *b, size_t n,
			      uint64_t *rng)
{
	struct lab_maze_stats s;
	unsigned k, top = lab_maze_max_order(m);
	size_t i;

	shuffle(b, n, rng);
	for (i = 0; i < n; i++)
		CHECK_EQ_INT(lab_free_pages(m, b[i].pg, b[i].order), 0);
	s = stats_of(m);
	CHECK_EQ_U64(s.free_frames, s.frames);
	CHECK_EQ_U64(s.free_blocks[top], s.frames >> top);
	for (k = 0; k < top; k++)
		CHECK_EQ_U64(s.free_blocks[k], 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
}

/* Allocates order-`order` blocks until one fails, appending to b. */
static size_t fill_order(struct lab_maze *m, unsigned order, struct block *b,
			 size_t n, unsigned char *used)
{
	struct lab_page *pg;

	while ((pg = lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN,
				     order))) {
		b[n].pg = pg;
		b[n].order = order;
		claim_frames(m, &b[n], used);
		n++;
	}
	return n;
}

/* Frees `count` randomly chosen blocks of b[0..*n) and unmarks them. */
static void free_some(struct lab_maze *m, struct block *b, size_t *n,
		      size_t count, unsigned char *used, uint64_t *rng)
{
	while (count-- && *n) {
		size_t i = (size_t)rng_below(rng, *n);
		uint64_t pfn = pfn_of(m, b[i].pg);

		CHECK_EQ_INT(lab_free_pages(m, b[i].pg, b[i].order), 0);
		memset(used + pfn, 0, (size_t)1 << b[i].order);
		b[i] = b[--*n];
	}
}

/* Random orders until an order-0 allocation fails. */
static size_t fill_random(struct lab_maze *m, struct block *b, size_t n,
			  unsigned char *used, uint64_t *rng)
{
	for (;;) {
		unsigned o =
			(unsigned)rng_below(rng, lab_maze_max_order(m) + 1);
		struct lab_page *pg =
			lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, o);

		if (!pg && o == 0)
			return n;
		if (!pg)
			continue;
		b[n].pg = pg, b[n].order = o;
		claim_frames(m, &b[n++], used);
	}
}

/* Patterns on a 16x16 maze, max order 4: each order alone, largest first,
 * smallest first with random frees in between, random orders with random
 * frees; then a shuffled free merges it all back. */
static void test_split_merge_patterns(void)
{
	uint64_t rng = test_seed("test_split_merge_patterns");
	struct lab_maze *m = maze_geo(16, 16, 4, 0, 1, 2);
	static struct block b[256];
	unsigned char used[256];
	unsigned k, round;
	size_t n;

	for (k = 0; k <= 4; k++) {
		memset(used, 0, sizeof(used));
		n = fill_order(m, k, b, 0, used);
		CHECK_EQ_U64(n, 256u >> k);
		free_all_shuffled(m, b, n, &rng);
	}
	for (round = 0; round < 30; round++) {
		memset(used, 0, sizeof(used));
		n = 0;
		if (round % 3 == 0) {
			for (k = 5; k-- > 0;)
				n = fill_order(m, k, b, n, used);
			CHECK_EQ_U64(free_frames(m), 0);
		} else if (round % 3 == 1) {
			for (k = 0; k <= 4; k++) {
				n = fill_order(m, k, b, n, used);
				free_some(m, b, &n, n / 2, used, &rng);
			}
		} else {
			n = fill_random(m, b, n, used, &rng);
			CHECK_EQ_U64(free_frames(m), 0);
			free_some(m, b, &n, n / 3, used, &rng);
			n = fill_random(m, b, n, used, &rng);
			CHECK_EQ_U64(free_frames(m), 0);
		}
		CHECK_EQ_INT(lab_maze_check(m), 0);
		free_all_shuffled(m, b, n, &rng);
	}
	lab_maze_destroy(m);
}

/* ---- the model ------------------------------------------------------------ */

#define MODEL_MAX 128

struct model {
	uint64_t frames, free, marks[LAB_CLASS_COUNT];
	unsigned max_order, nlive;
	unsigned char used[MODEL_MAX];
	struct block live[MODEL_MAX];
	uint64_t blocks[LAB_MAX_ORDER_LIMIT + 1];
};

static bool model_run_free(const struct model *md, uint64_t pfn, unsigned k)
{
	uint64_t i;

	if (pfn % ((uint64_t)1 << k) || pfn + ((uint64_t)1 << k) > md->frames)
		return false;
	for (i = pfn; i < pfn + ((uint64_t)1 << k); i++)
		if (md->used[i])
			return false;
	return true;
}

/* The free blocks a fully coalesced buddy maze must have: scanning from
 * pfn 0, each free frame starts the largest aligned all-free run. */
static void model_blocks(struct model *md)
{
	uint64_t p = 0;
	unsigned k;

	memset(md->blocks, 0, sizeof(md->blocks));
	while (p < md->frames) {
		if (md->used[p]) {
			p++;
			continue;
		}
		for (k = md->max_order + 1; k-- > 0;)
			if (model_run_free(md, p, k))
				break;
		md->blocks[k]++;
		p += (uint64_t)1 << k;
	}
}

static bool model_predicts(struct model *md, enum lab_gfp_class cls,
			   unsigned order)
{
	uint64_t size = (uint64_t)1 << order;
	unsigned k;

	if (md->free < size || md->free - size < md->marks[cls])
		return false;
	for (k = order; k <= md->max_order; k++)
		if (md->blocks[k])
			return true;
	return false;
}

/* The maze agrees with the model: free count and free blocks per order,
 * and the whole-maze check. */
static void model_compare(struct model *md, struct lab_maze *m)
{
	struct lab_maze_stats s = stats_of(m);
	unsigned k;

	model_blocks(md);
	CHECK_EQ_U64(s.free_frames, md->free);
	for (k = 0; k <= md->max_order; k++)
		CHECK_EQ_U64(s.free_blocks[k], md->blocks[k]);
	CHECK_EQ_INT(lab_maze_check(m), 0);
}

static const lab_gfp_t model_gfp[2] = { LAB_GFP_NOWAIT, LAB_GFP_ATOMIC };

/* One step: choice < 2 * (max_order + 1) allocates (class, order); any
 * other choice frees live block (choice - allocs), if there is one.
 * Returns false if the choice does not apply. */
static bool model_step(struct model *md, struct lab_maze *m, unsigned choice)
{
	unsigned allocs = 2 * (md->max_order + 1);

	if (choice < allocs) {
		lab_gfp_t gfp = model_gfp[choice % 2] | LAB_GFP_NOWARN;
		unsigned order = choice / 2;
		bool want = model_predicts(md, lab_gfp_class(gfp), order);
		struct lab_page *pg = lab_alloc_pages(m, gfp, order);

		CHECK(want == (pg != NULL));
		if (pg) {
			struct block *b = &md->live[md->nlive++];

			b->pg = pg, b->order = order;
			claim_frames(m, b, md->used);
			md->free -= (uint64_t)1 << order;
		}
	} else {
		unsigned i = choice - allocs;
		uint64_t pfn, n;

		if (i >= md->nlive)
			return false;
		pfn = pfn_of(m, md->live[i].pg);
		n = (uint64_t)1 << md->live[i].order;
		CHECK_EQ_INT(lab_free_pages(m, md->live[i].pg,
					    md->live[i].order),
			     0);
		memset(md->used + pfn, 0, n);
		md->free += n;
		md->live[i] = md->live[--md->nlive];
	}
	model_compare(md, m);
	return true;
}

struct geometry {
	unsigned w, h, max_order;
};

/* min 0 for mazes under 4 frames; else min 2 (ATOMIC may take 1 more). */
static struct lab_maze *model_init(struct model *md, const struct geometry *g)
{
	uint64_t frames = (uint64_t)g->w * g->h;
	bool tiny = frames < 4;
	struct lab_maze *m = maze_geo(g->w, g->h, g->max_order, tiny ? 0 : 2,
				      tiny ? 1 : 3, tiny ? 2 : 4);

	memset(md, 0, sizeof(*md));
	md->frames = md->free = frames;
	md->max_order = g->max_order;
	md->marks[LAB_CLASS_NOWAIT] = tiny ? 0 : 2;
	md->marks[LAB_CLASS_ATOMIC] = tiny ? 0 : 1;
	model_compare(md, m);
	return m;
}

/* Every sequence of `depth` steps from a fresh maze, each checked. */
static unsigned model_enumerate(const struct geometry *g, unsigned *seq,
				unsigned len, unsigned depth)
{
	unsigned choices = 2 * (g->max_order + 1) + g->w * g->h;
	unsigned c, runs = 0, i;

	if (len == depth)
		return 0;
	for (c = 0; c < choices; c++) {
		struct model md;
		struct lab_maze *m = model_init(&md, g);
		bool ok = true;

		seq[len] = c;
		for (i = 0; i <= len && ok; i++)
			ok = model_step(&md, m, seq[i]);
		lab_maze_destroy(m);
		if (ok)
			runs += 1 + model_enumerate(g, seq, len + 1, depth);
	}
	return runs;
}

/* Tiny mazes: all sequences of up to 4 (or 5) steps agree with the
 * model. */
static void test_model_exhaustive(void)
{
	static const struct geometry geos[] = {
		{ 2, 1, 0 }, { 2, 1, 1 }, { 3, 1, 0 }, { 3, 1, 1 },
		{ 1, 3, 2 }, { 2, 2, 1 }, { 2, 2, 2 }, { 5, 1, 2 },
	};
	unsigned seq[8], i, runs = 0;

	for (i = 0; i < sizeof(geos) / sizeof(geos[0]); i++)
		runs += model_enumerate(&geos[i], seq, 0,
					geos[i].w * geos[i].h <= 3 ? 4 : 3);
	printf("  %u sequences checked\n", runs);
	CHECK(runs > 500);
}

/* Larger small mazes, non-powers of two included: many seeded random
 * sequences agree with the model at every step. */
static void test_model_random(void)
{
	static const struct geometry geos[] = {
		{ 5, 3, 0 },  { 5, 3, 1 },  { 5, 3, 3 },  { 8, 8, 0 },
		{ 8, 8, 2 },  { 8, 8, 3 },  { 8, 8, 6 },  { 7, 1, 2 },
		{ 37, 3, 3 }, { 37, 3, 6 }, { 1, 16, 4 },
	};
	uint64_t rng = test_seed("test_model_random");
	unsigned i, run, step;

	for (i = 0; i < sizeof(geos) / sizeof(geos[0]); i++) {
		for (run = 0; run < 6; run++) {
			struct model md;
			struct lab_maze *m = model_init(&md, &geos[i]);
			unsigned allocs = 2 * (geos[i].max_order + 1);

			for (step = 0; step < 120; step++) {
				/* Bias towards allocating, so mazes fill. */
				unsigned c =
					rng_below(&rng, 3) ?
						(unsigned)rng_below(&rng,
								    allocs) :
						allocs + (unsigned)rng_below(
								 &rng,
								 md.nlive + 1);

				(void)model_step(&md, m, c);
			}
			lab_maze_destroy(m);
		}
	}
}

/* ---- geometry and memory ---------------------------------------------------- */

/* A 37x3 maze (111 frames) is fully usable by order-0 and by mixed
 * orders, largest first. */
static void test_non_power_of_two_usable(void)
{
	static struct block b[111];
	unsigned char used[111];
	struct lab_maze *m = maze_geo(37, 3, 10, 0, 1, 2);
	struct lab_maze_stats s = stats_of(m);
	uint64_t rng = 1;
	unsigned k;
	size_t n;

	/* 111 = 64 + 32 + 8 + 4 + 2 + 1 */
	CHECK_EQ_U64(s.free_blocks[6] + s.free_blocks[5] + s.free_blocks[3] +
			     s.free_blocks[2] + s.free_blocks[1] +
			     s.free_blocks[0],
		     6);
	memset(used, 0, sizeof(used));
	n = fill_order(m, 0, b, 0, used);
	CHECK_EQ_U64(n, 111);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(lab_free_pages(m, b[i].pg, 0), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	memset(used, 0, sizeof(used));
	n = 0;
	for (k = 11; k-- > 0;)
		n = fill_order(m, k, b, n, used);
	for (k = 0; k < 111; k++)
		CHECK(used[k]);
	CHECK_EQ_U64(free_frames(m), 0);
	shuffle(b, n, &rng);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(lab_free_pages(m, b[i].pg, b[i].order), 0);
	CHECK_EQ_U64(stats_of(m).free_blocks[6], 1);
	CHECK_EQ_U64(stats_of(m).free_blocks[5], 1);
	CHECK_EQ_U64(stats_of(m).free_blocks[4], 0);
	CHECK_EQ_U64(stats_of(m).free_blocks[3], 1);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* LAB_GFP_ZERO returns zeroed memory even for a block that was written
 * and freed (it comes back to us: it is the only free block). */
static void test_zero(void)
{
	struct lab_maze *m = maze_geo(4, 4, 2, 0, 1, 2);
	size_t bytes = lab_maze_page_size(m) * 4;
	struct lab_page *pg[4];
	unsigned char *a;
	unsigned i;

	for (i = 0; i < 4; i++) {
		pg[i] = lab_alloc_pages(m, LAB_GFP_NOWAIT, 2);
		CHECK(pg[i] != NULL);
	}
	a = lab_page_address(m, pg[2]);
	memset(a, 0x77, bytes);
	CHECK_EQ_INT(lab_free_pages(m, pg[2], 2), 0);
	CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_ZERO, 2) == pg[2]);
	CHECK(all_bytes(a, bytes, 0));
	/* Without ZERO the old contents (or poison) stay: ZERO did it. */
	memset(a, 0x77, bytes);
	CHECK_EQ_INT(lab_free_pages(m, pg[2], 2), 0);
	CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT, 2) == pg[2]);
	CHECK(!all_bytes(a, bytes, 0));
	/* ZERO on an order-0 frame, through lab_get_free_pages. */
	memset(a, 0x77, bytes);
	CHECK_EQ_INT(lab_free_pages(m, pg[2], 2), 0);
	a = lab_get_free_pages(m, LAB_GFP_ATOMIC | LAB_GFP_ZERO, 0);
	CHECK(a != NULL);
	CHECK(all_bytes(a, lab_maze_page_size(m), 0));
	lab_maze_destroy(m);
}

/* pfn <-> descriptor <-> address <-> (x, y) round trips for every frame
 * of a non-square, non-power-of-two maze. */
static void test_conversions_roundtrip(void)
{
	struct lab_maze_config cfg = cfg_exact(37, 3, 0, 1, 2, &cap);
	struct lab_maze *m;
	uint64_t pfn;
	size_t ps;

	cfg.page_size = 1024;
	cfg.max_order = 3;
	m = maze_from(&cfg);
	ps = lab_maze_page_size(m);
	CHECK_EQ_U64(ps, 1024);
	CHECK_EQ_U64(lab_maze_frames(m), 111);
	CHECK_EQ_U64(lab_maze_max_order(m), 3);
	for (pfn = 0; pfn < 111; pfn++) {
		struct lab_page *pg = lab_pfn_to_page(m, pfn);
		char *a = lab_pfn_to_virt(m, pfn);
		unsigned x = 999, y = 999;

		CHECK(pg && a);
		CHECK_EQ_U64(lab_page_to_pfn(m, pg), pfn);
		CHECK((uintptr_t)(a - (char *)lab_pfn_to_virt(m, 0)) ==
		      pfn * ps);
		CHECK(lab_virt_to_page(m, a) == pg);
		CHECK(lab_virt_to_page(m, a + ps - 1) == pg);
		CHECK(lab_virt_to_page(m, a + ps / 2) == pg);
		CHECK_EQ_INT(lab_pfn_to_xy(m, pfn, &x, &y), 0);
		CHECK_EQ_U64(x, pfn % 37);
		CHECK_EQ_U64(y, pfn / 37);
		CHECK_EQ_U64(lab_page_to_pfn(m, lab_pfn_to_page(m, y * 37 + x)),
			     pfn);
	}
	/* An allocated block's address is its head frame's. */
	for (pfn = 0; pfn < 10; pfn++) {
		struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 1);

		CHECK(pg != NULL);
		CHECK(lab_page_address(m, pg) ==
		      lab_pfn_to_virt(m, lab_page_to_pfn(m, pg)));
		CHECK(lab_virt_to_page(m, lab_page_address(m, pg)) == pg);
	}
	lab_maze_destroy(m);
}

/* ---- the mutex buddy baseline --------------------------------------------------- */

struct pair {
	void *lab, *mb;
	unsigned order;
};

/* One seeded sequence of single-order allocations (NOWAIT and ATOMIC) and
 * frees on both allocators.  With one order every free run is made of
 * aligned blocks of that order, so which block each picks cannot matter:
 * success depends on the free count and watermark alone, as the semantics
 * of the two coincide there. */
static void compare_with_mbuddy(unsigned order, uint64_t *rng)
{
	struct lab_maze_config cfg = cfg_exact(32, 32, 64, 80, 96, &cap);
	struct lab_maze *m;
	struct lab_mbuddy *mb;
	static struct pair live[1024];
	struct lab_maze_stats sl, sm;
	unsigned n = 0, step, agree = 0, c;

	cfg.max_order = 4;
	m = maze_from(&cfg);
	mb = lab_mbuddy_create(&cfg);
	CHECK(mb != NULL);
	for (step = 0; step < 1500; step++) {
		if (n && rng_below(rng, 5) < 2) {
			unsigned i = (unsigned)rng_below(rng, n);

			CHECK_EQ_INT(lab_free_pages_addr(m, live[i].lab, order),
				     0);
			CHECK_EQ_INT(lab_mbuddy_free(mb, live[i].mb, order), 0);
			live[i] = live[--n];
		} else {
			lab_gfp_t gfp = model_gfp[rng_below(rng, 2)] |
					LAB_GFP_NOWARN;
			void *a = lab_get_free_pages(m, gfp, order);
			void *b = lab_mbuddy_alloc(mb, gfp, order);

			CHECK((a != NULL) == (b != NULL));
			agree += a != NULL;
			if (a) {
				live[n].lab = a, live[n].mb = b;
				live[n++].order = order;
			}
		}
	}
	CHECK(agree > 0);
	CHECK_EQ_INT(lab_maze_stats(m, &sl), 0);
	CHECK_EQ_INT(lab_mbuddy_stats(mb, &sm), 0);
	CHECK_EQ_U64(sl.free_frames, sm.free_frames);
	for (c = 0; c < LAB_CLASS_COUNT; c++) {
		CHECK_EQ_U64(sl.cls[c].successes, sm.cls[c].successes);
		CHECK_EQ_U64(sl.cls[c].failures, sm.cls[c].failures);
	}
	CHECK_EQ_INT(lab_maze_check(m), 0);
	CHECK_EQ_INT(lab_mbuddy_check(mb), 0);
	lab_mbuddy_destroy(mb);
	lab_maze_destroy(m);
}

static void test_agrees_with_mutex_buddy(void)
{
	uint64_t rng = test_seed("test_agrees_with_mutex_buddy");
	unsigned order;

	for (order = 0; order <= 4; order++)
		compare_with_mbuddy(order, &rng);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_split_merge_patterns);
	RUN(test_model_exhaustive);
	RUN(test_model_random);
	RUN(test_non_power_of_two_usable);
	RUN(test_zero);
	RUN(test_conversions_roundtrip);
	RUN(test_agrees_with_mutex_buddy);
	CHECK_EQ_U64(cap_total(&cap), 0);
	return 0;
}
