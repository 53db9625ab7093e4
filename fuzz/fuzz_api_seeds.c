/* fuzz_api_seeds.c - seeds for fuzz_api, one per group of calls, written
 * with the mirror writer so each decodes to the calls spelled out here.
 * None of them trips a known allocator bug: a seed corpus must replay
 * clean on the correct allocator.
 */
#include "fuzz_api.h"
#include "seedgen.h"

#define NULL_MAZE LAB_FZA_MAZES /* the maze operand that passes NULL */

struct seed {
	struct lab_fo out;
	uint8_t buf[768];
};

/* 8x8 frames of 256 bytes, orders 0..4, default watermarks, no caches. */
static const struct lab_fza_config cfg_small = { 8,	8, 8, 4, 0,
						 { 0 }, 0, 0, 1, 0 };
/* The same with caches (high 8, batch 2) and explicit watermarks. */
static const struct lab_fza_config cfg_pcp = {
	8, 8, 8, 4, LAB_FZA_WM_SUMS, { 2, 2, 2 }, 8, 2, 1, 0
};

static void seed_begin(struct seed *s)
{
	lab_fo_init(&s->out, s->buf, sizeof(s->buf));
}

static void seed_emit(struct seed *s, const struct lab_seed_sink *sink,
		      const char *name)
{
	if (!s->out.overflow)
		sink->emit(sink->arg, name, s->buf, s->out.size);
}

static void op(struct seed *s, enum lab_fza_op o)
{
	lab_fo_range(&s->out, o, LAB_FZA_OP_COUNT);
}

static void val(struct seed *s, uint64_t v)
{
	lab_fza_write_value(&s->out, v);
}

static void maze_arg(struct seed *s, unsigned slot)
{
	lab_fo_range(&s->out, slot, LAB_FZA_MAZES + 1);
}

static void create(struct seed *s, unsigned slot,
		   const struct lab_fza_config *c)
{
	op(s, LAB_FZA_CREATE);
	lab_fo_range(&s->out, slot, LAB_FZA_MAZES);
	lab_fza_write_config(&s->out, c);
}

static void alloc(struct seed *s, unsigned slot, uint64_t gfp, uint64_t order,
		  bool by_addr)
{
	op(s, LAB_FZA_ALLOC);
	maze_arg(s, slot);
	val(s, gfp);
	val(s, order);
	lab_fo_bool(&s->out, by_addr);
}

/* An address (desc false) or descriptor operand (enum lab_fza_at): slot
 * and index or offset are written where the kind has them. */
static void at(struct seed *s, bool desc, unsigned kind, unsigned slot,
	       unsigned i, uint64_t v)
{
	lab_fo_range(&s->out, kind, desc ? LAB_FZA_DESCS : LAB_FZA_PTRS);
	if (kind == LAB_FZA_AT_BLOCK || kind == LAB_FZA_AT_MAZE)
		lab_fo_range(&s->out, slot, LAB_FZA_MAZES);
	if (kind == LAB_FZA_AT_BLOCK || kind == LAB_FZA_AT_MB)
		lab_fo_u8(&s->out, (uint8_t)i);
	if (kind == LAB_FZA_AT_RAW)
		lab_fo_u64(&s->out, v);
	else if (kind != LAB_FZA_AT_NULL)
		val(s, v);
}

/* Address operands. */
#define ptr_block(s, slot, i, off) at(s, false, LAB_FZA_AT_BLOCK, slot, i, off)
#define ptr_maze(s, slot, off) at(s, false, LAB_FZA_AT_MAZE, slot, 0, off)
#define ptr_mb(s, i, off) at(s, false, LAB_FZA_AT_MB, 0, i, off)
/* Descriptor operands. */
#define desc_block(s, slot, i, off) at(s, true, LAB_FZA_AT_BLOCK, slot, i, off)
#define desc_maze(s, slot, off) at(s, true, LAB_FZA_AT_MAZE, slot, 0, off)

/* The calls whose first operand is a maze; the rest follows. */
static void call(struct seed *s, enum lab_fza_op o, unsigned slot)
{
	op(s, o);
	maze_arg(s, slot);
}

static void ctx_op(struct seed *s, unsigned what, uint64_t v)
{
	op(s, LAB_FZA_CTX);
	lab_fo_range(&s->out, what, LAB_FZA_CTX_COUNT);
	val(s, v);
}

/* A free of maze slot `maze` by address or descriptor (at()'s operand),
 * with `order`. */
static void free_op(struct seed *s, bool desc, unsigned maze, unsigned kind,
		    unsigned slot, uint64_t off, uint64_t order)
{
	call(s, desc ? LAB_FZA_FREE_DESC : LAB_FZA_FREE_ADDR, maze);
	at(s, desc, kind, slot, 0, off);
	val(s, order);
}

/* ---- the seeds ------------------------------------------------------------ */

static void seed_lifecycle(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	alloc(s, 0, LAB_GFP_KERNEL, 2, false);
	alloc(s, 0, LAB_GFP_ATOMIC | LAB_GFP_ZERO, 0, true);
	call(s, LAB_FZA_STATS, 0);
	lab_fo_bool(&s->out, false);
	free_op(s, false, 0, LAB_FZA_AT_BLOCK, 0, 0, 2);
	free_op(s, true, 0, LAB_FZA_AT_BLOCK, 0, 0, 0);
	call(s, LAB_FZA_DESTROY, 0);
	call(s, LAB_FZA_DESTROY, NULL_MAZE);
}

static void seed_bad_geometry(struct seed *s)
{
	struct lab_fza_config c = cfg_small;
	static const uint64_t pages[] = { 100, 7, 22, 1ull << 40 };
	unsigned i;

	seed_begin(s);
	c.width = 0;
	create(s, 0, &c);
	c = cfg_small;
	c.height = 0;
	create(s, 1, &c);
	for (i = 0; i < 4; i++) {
		c = cfg_small;
		c.page = pages[i]; /* not a power of two, too small, too big */
		create(s, 0, &c);
	}
	c = cfg_small;
	c.width = c.height = 0xffffffffu; /* 2^64 - 2^33 + 1 frames */
	create(s, 0, &c);
	c.width = c.height = 1u << 14; /* 2^28 frames of 2 MiB: too big */
	c.page = 21;
	create(s, 1, &c);
	c = cfg_small;
	c.max_order = 21;
	create(s, 0, &c);
	c.max_order = 0xffffffffu;
	create(s, 0, &c);
}

static void seed_bad_config(struct seed *s)
{
	struct lab_fza_config c = cfg_small;

	seed_begin(s);
	c.wm_mode = LAB_FZA_WM_RAW;
	c.wm[0] = 5, c.wm[1] = 3, c.wm[2] = 1; /* unordered */
	create(s, 0, &c);
	c.wm[0] = 1, c.wm[1] = 2, c.wm[2] = 65; /* high above frames */
	create(s, 0, &c);
	c.wm_mode = LAB_FZA_WM_SUMS;
	c.wm[0] = ~0ull, c.wm[1] = 2, c.wm[2] = 0; /* sums wrap */
	create(s, 0, &c);
	c = cfg_small;
	c.pcp_high = 8, c.pcp_batch = 0;
	create(s, 0, &c);
	c.pcp_batch = 9; /* above high */
	create(s, 0, &c);
	c.pcp_high = 5000, c.pcp_batch = 1;
	create(s, 1, &c);
	c = cfg_small;
	c.wm_mode = LAB_FZA_WM_RAW;
	c.wm[0] = 0, c.wm[1] = 0, c.wm[2] = 64; /* valid, edge */
	create(s, 1, &c);
}

/* Valid but too big to create here: its default watermarks are checked. */
static void seed_big_geometry(struct seed *s)
{
	struct lab_fza_config c = cfg_small;

	seed_begin(s);
	c.width = c.height = 1024;
	c.page = 12;
	create(s, 0, &c);
	c.width = 1u << 14, c.height = 1u << 14, c.page = 8;
	create(s, 1, &c);
}

static void seed_alloc_flags(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	alloc(s, 0, 0xffffffffu, 0, false); /* unknown bits */
	alloc(s, 0, LAB_GFP_NOWAIT | LAB_GFP_NOFAIL, 0, false); /* misuse */
	alloc(s, 0, LAB_GFP_ATOMIC | LAB_GFP_NOFAIL, 3, true);
	alloc(s, 0, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 0, false); /* dropped */
	alloc(s, 0, LAB_GFP_KERNEL, 99, false);
	alloc(s, 0, LAB_GFP_KERNEL, 0xffffffffu, true);
	alloc(s, 0, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 4, false);
	alloc(s, NULL_MAZE, LAB_GFP_KERNEL, 0, false);
	alloc(s, 1, LAB_GFP_KERNEL, 0, true); /* empty slot: NULL maze */
}

static void seed_free_pointers(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	create(s, 1, &cfg_small);
	alloc(s, 0, LAB_GFP_NOWAIT, 1, false);
	free_op(s, false, 0, LAB_FZA_AT_NULL, 0, 0, 1);
	free_op(s, false, 0, LAB_FZA_AT_BLOCK, 0, 1, 1); /* inside a frame */
	free_op(s, false, 0, LAB_FZA_AT_MAZE, 1, 0, 0);	 /* another maze */
	free_op(s, false, 0, LAB_FZA_AT_MAZE, 0, 64 * 256, 0); /* past end */
	free_op(s, false, 0, LAB_FZA_AT_RAW, 0, 0x1000, 0);
	free_op(s, false, 0, LAB_FZA_AT_BLOCK, 0, 256, 0); /* the tail */
	free_op(s, false, 0, LAB_FZA_AT_BLOCK, 0, 0, 0);   /* wrong order */
	free_op(s, false, 0, LAB_FZA_AT_BLOCK, 0, 0, 1);
	free_op(s, false, 0, LAB_FZA_AT_MAZE, 0, 0, 1); /* double free */
}

static void seed_free_descriptors(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	alloc(s, 0, LAB_GFP_KERNEL, 0, false);
	free_op(s, true, 0, LAB_FZA_AT_NULL, 0, 0, 0);
	free_op(s, true, 0, LAB_FZA_AT_BLOCK, 0, 1, 0);	     /* misaligned */
	free_op(s, true, 0, LAB_FZA_AT_MAZE, 0, 64 * 16, 0); /* past array */
	free_op(s, true, 0, LAB_FZA_AT_RAW, 0, 0xdeadbeef0ull, 0);
	free_op(s, true, 0, LAB_FZA_AT_BLOCK, 0, 0, 5); /* order above max */
	free_op(s, true, NULL_MAZE, LAB_FZA_AT_BLOCK, 0, 0, 0);
	free_op(s, true, 0, LAB_FZA_AT_BLOCK, 0, 0, 0);
}

static void seed_ownership(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	alloc(s, 0, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 1, false);
	call(s, LAB_FZA_ADDRESS, 0);
	desc_block(s, 0, 0, 0);
	call(s, LAB_FZA_OWNER, 0);
	desc_block(s, 0, 0, 16); /* the tail: owner 0 */
	ctx_op(s, LAB_FZA_CTX_CREATE, 7);
	ctx_op(s, LAB_FZA_CTX_SWITCH, 2);
	call(s, LAB_FZA_ADDRESS, 0);
	desc_block(s, 0, 0, 16);			/* foreign */
	free_op(s, true, 0, LAB_FZA_AT_BLOCK, 0, 0, 1); /* foreign free */
	ctx_op(s, LAB_FZA_CTX_SWITCH, 0);
}

static void handoff(struct seed *s, unsigned order, uint64_t owner)
{
	call(s, LAB_FZA_HANDOFF, 0);
	desc_block(s, 0, 0, 0);
	val(s, order);
	val(s, owner);
}

static void seed_handoff(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	alloc(s, 0, LAB_GFP_NOWAIT, 0, false);
	alloc(s, 0, LAB_GFP_NOWAIT, 2, false);
	handoff(s, 0, 0);	    /* owner 0: -EINVAL */
	handoff(s, 3, 5);	    /* wrong order */
	handoff(s, 0, 0x80000005u); /* to task 5 in IRQ */
	handoff(s, 0, 9);	    /* no longer ours: foreign */
	call(s, LAB_FZA_HANDOFF, 0);
	desc_block(s, 0, 1, 0);
	val(s, 2);
	val(s, 0x80000000u); /* to nobody that can exist */
	call(s, LAB_FZA_HANDOFF, 0);
	desc_maze(s, 0, 63 * 16); /* a free frame */
	val(s, 0);
	val(s, 3);
}

static void access(struct seed *s, unsigned i, uint64_t off, uint64_t len)
{
	call(s, LAB_FZA_ACCESS, 0);
	ptr_block(s, 0, i, off);
	val(s, len);
}

static void seed_access(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_small);
	create(s, 1, &cfg_small);
	alloc(s, 0, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 1, false);
	access(s, 0, 0, 0);	   /* length 0 */
	access(s, 0, 0, 512);	   /* the whole block */
	access(s, 0, 100, 413);	   /* one past it */
	access(s, 0, 600, 1);	   /* past the block */
	access(s, 0, 1u << 20, 1); /* far outside */
	call(s, LAB_FZA_ACCESS, 0);
	ptr_maze(s, 1, 10); /* in the other maze */
	val(s, 1);
	ctx_op(s, LAB_FZA_CTX_CREATE, 3);
	ctx_op(s, LAB_FZA_CTX_SWITCH, 2);
	access(s, 0, 0, 1); /* foreign */
}

static void seed_conversions(struct seed *s)
{
	static const uint64_t pfns[] = { 0, 63, 64, 0xffffffffu, ~0ull };
	unsigned i, w;

	seed_begin(s);
	create(s, 0, &cfg_small);
	for (i = 0; i < 5; i++) {
		for (w = LAB_FZA_PFN_TO_PAGE; w <= LAB_FZA_PFN_TO_XY; w++) {
			if (w == LAB_FZA_VIRT_TO_PAGE)
				continue;
			call(s, LAB_FZA_CONVERT, i == 4 ? NULL_MAZE : 0);
			lab_fo_range(&s->out, w, 5);
			val(s, pfns[i]);
			if (w == LAB_FZA_PFN_TO_XY)
				lab_fo_range(&s->out, i % 4, 4);
		}
	}
	call(s, LAB_FZA_CONVERT, 0);
	lab_fo_range(&s->out, LAB_FZA_PAGE_TO_PFN, 5);
	desc_maze(s, 0, 17);
	call(s, LAB_FZA_CONVERT, 0);
	lab_fo_range(&s->out, LAB_FZA_VIRT_TO_PAGE, 5);
	ptr_maze(s, 0, 300);
}

static void seed_fail_next(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_pcp);
	call(s, LAB_FZA_FAIL_NEXT, 0);
	val(s, 1);
	val(s, ~0ull);
	alloc(s, 0, LAB_GFP_KERNEL, 0, false);
	alloc(s, 0, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0, false);
	call(s, LAB_FZA_FAIL_NEXT, 0);
	val(s, ~0ull);
	val(s, 0);
	alloc(s, 0, LAB_GFP_NOWAIT, 3, true);
	call(s, LAB_FZA_FAIL_NEXT, NULL_MAZE);
	val(s, 0);
	val(s, 1);
	call(s, LAB_FZA_STATS, 0);
	lab_fo_bool(&s->out, true);
	call(s, LAB_FZA_STATS, NULL_MAZE);
	lab_fo_bool(&s->out, false);
	call(s, LAB_FZA_STATS, 0);
	lab_fo_bool(&s->out, false);
}

static void seed_contexts(struct seed *s)
{
	seed_begin(s);
	create(s, 0, &cfg_pcp);
	ctx_op(s, LAB_FZA_CTX_CREATE, 0);	    /* a fresh id */
	ctx_op(s, LAB_FZA_CTX_CREATE, 0x7fffffffu); /* the largest */
	ctx_op(s, LAB_FZA_CTX_CREATE, 0x80000000u); /* too large */
	ctx_op(s, LAB_FZA_CTX_SWITCH, 1);
	alloc(s, 0, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 0, false);
	ctx_op(s, LAB_FZA_CTX_SWITCH, 2);
	alloc(s, 0, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 1, false);
	ctx_op(s, LAB_FZA_CTX_CREATE, 0x7ffffffdu); /* replaces slot 2 */
	ctx_op(s, LAB_FZA_CTX_NULLS, 0);
	ctx_op(s, LAB_FZA_CTX_IRQ_EXIT, 0);
	ctx_op(s, LAB_FZA_CTX_PREEMPT_ON, 0);
	ctx_op(s, LAB_FZA_CTX_RAISE_NULL, 0);
}

static void names(struct seed *s, uint64_t v, const char *name)
{
	unsigned i, len = 0;

	while (name[len])
		len++;
	op(s, LAB_FZA_NAMES);
	val(s, v);
	lab_fo_range(&s->out, len, LAB_FZA_NAME_MAX + 1);
	for (i = 0; i < len; i++)
		lab_fo_u8(&s->out, (uint8_t)name[i]);
}

static void seed_names(struct seed *s)
{
	seed_begin(s);
	names(s, 0, "labyrinth");
	names(s, 3, "mutex-buddy");
	names(s, 13, "none");
	names(s, 14, "claim-race");
	names(s, 0xffffffffu, "no-such-bug");
	names(s, 0x7f, "");
}

static void mb_free(struct seed *s, unsigned i, uint64_t off, unsigned order)
{
	op(s, LAB_FZA_MB_FREE);
	ptr_mb(s, i, off);
	val(s, order);
}

static void seed_mutex_buddy(struct seed *s)
{
	struct lab_fza_config tie = cfg_small;

	seed_begin(s);
	op(s, LAB_FZA_MB_CREATE);
	lab_fza_write_config(&s->out, &cfg_small);
	op(s, LAB_FZA_MB_ALLOC);
	val(s, LAB_GFP_KERNEL);
	val(s, 2);
	op(s, LAB_FZA_MB_ALLOC);
	val(s, LAB_GFP_NOWAIT | LAB_GFP_NOFAIL);
	val(s, 0);
	mb_free(s, 0, 0, 1);   /* wrong order */
	mb_free(s, 0, 1, 2);   /* not a page start */
	mb_free(s, 0, 256, 0); /* a tail */
	mb_free(s, 0, 0, 2);
	mb_free(s, 0, 0, 2); /* double free */
	tie.wm_mode = LAB_FZA_WM_RAW;
	tie.wm[0] = tie.wm[1] = 4, tie.wm[2] = 8; /* min == low: refused */
	op(s, LAB_FZA_MB_CREATE);
	lab_fza_write_config(&s->out, &tie);
	op(s, LAB_FZA_MB_ALLOC);
	val(s, LAB_GFP_KERNEL);
	val(s, 0);
}

/* Caches on: frees go to the context's cache, the maze stays whole. */
static void seed_caches(struct seed *s)
{
	unsigned i;

	seed_begin(s);
	create(s, 1, &cfg_pcp);
	for (i = 0; i < 6; i++)
		alloc(s, 1, i % 2 ? LAB_GFP_ATOMIC : LAB_GFP_KERNEL, i % 4,
		      i & 1);
	for (i = 0; i < 3; i++) {
		/* wrong for all but the order-0 and order-1 blocks */
		free_op(s, true, 1, LAB_FZA_AT_BLOCK, 1, 0, 0);
		free_op(s, false, 1, LAB_FZA_AT_BLOCK, 1, 0, 1);
	}
	call(s, LAB_FZA_STATS, 1);
	lab_fo_bool(&s->out, false);
}

void lab_seeds_fuzz_api(const struct lab_seed_sink *sink)
{
	static const struct {
		const char *name;
		void (*fn)(struct seed *s);
	} seeds[] = {
		{ "api-lifecycle", seed_lifecycle },
		{ "api-bad-geometry", seed_bad_geometry },
		{ "api-bad-config", seed_bad_config },
		{ "api-big-geometry", seed_big_geometry },
		{ "api-alloc-flags", seed_alloc_flags },
		{ "api-free-pointers", seed_free_pointers },
		{ "api-free-descriptors", seed_free_descriptors },
		{ "api-ownership", seed_ownership },
		{ "api-handoff", seed_handoff },
		{ "api-access", seed_access },
		{ "api-conversions", seed_conversions },
		{ "api-fail-next", seed_fail_next },
		{ "api-contexts", seed_contexts },
		{ "api-names", seed_names },
		{ "api-mutex-buddy", seed_mutex_buddy },
		{ "api-caches", seed_caches },
	};
	struct seed s;
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		seeds[i].fn(&s);
		seed_emit(&s, sink, seeds[i].name);
	}
}
