/* fuzz_api.h - the input format of the fuzz_api target, shared by the
 * target (reader) and its seed generator (mirror writer).
 *
 * An input is a sequence of up to LAB_FZA_MAX_CALLS public API calls with
 * hostile arguments: an opcode, range(LAB_FZA_OP_COUNT), then operands.
 * Operand kinds:
 *  - value: a tag byte; below 0xc0 the tag itself, 0xc0..0xdf a raw u32
 *    follows, from 0xe0 a raw u64 (small values stay one byte, any value
 *    is reachable);
 *  - maze: range(LAB_FZA_MAZES + 1), a maze slot or NULL (the last);
 *  - address and descriptor: a kind, then its parts (enum lab_fza_at);
 *  - config: a maze configuration (lab_fza_read_config).
 */
#ifndef LAB_FUZZ_API_H
#define LAB_FUZZ_API_H

#include "fuzz_input.h"
#include "labyrinth.h"

#define LAB_FZA_MAX_CALLS 128
#define LAB_FZA_MAZES 2 /* maze slots */
#define LAB_FZA_CTXS 3	/* context slots: 0 the input's own, 1..2 made */
#define LAB_FZA_NAME_MAX 16

enum lab_fza_op {
	LAB_FZA_CREATE,	   /* slot range(MAZES), config */
	LAB_FZA_DESTROY,   /* maze */
	LAB_FZA_ALLOC,	   /* maze, gfp value, order value, by_addr bool */
	LAB_FZA_FREE_ADDR, /* maze, address, order value */
	LAB_FZA_FREE_DESC, /* maze, descriptor, order value */
	LAB_FZA_ADDRESS,   /* maze, descriptor */
	LAB_FZA_OWNER,	   /* maze, descriptor */
	LAB_FZA_HANDOFF,   /* maze, descriptor, order value, owner value */
	LAB_FZA_ACCESS,	   /* maze, address, len value */
	LAB_FZA_CONVERT,   /* maze, which range(5), then see lab_fza_conv */
	LAB_FZA_FAIL_NEXT, /* maze, skip value, count value */
	LAB_FZA_STATS,	   /* maze, null_out bool */
	LAB_FZA_CTX,	   /* what range(LAB_FZA_CTX_COUNT), value */
	LAB_FZA_NAMES,	   /* value, name (len range(17), bytes) */
	LAB_FZA_MB_CREATE, /* config */
	LAB_FZA_MB_ALLOC,  /* gfp value, order value */
	LAB_FZA_MB_FREE,   /* address, order value */
	LAB_FZA_OP_COUNT
};

/* CONVERT: which conversion, and its argument. */
enum lab_fza_conv {
	LAB_FZA_PAGE_TO_PFN,  /* descriptor */
	LAB_FZA_PFN_TO_PAGE,  /* pfn value */
	LAB_FZA_VIRT_TO_PAGE, /* address */
	LAB_FZA_PFN_TO_VIRT,  /* pfn value */
	LAB_FZA_PFN_TO_XY     /* pfn value, outs range(4): bit 0 x, bit 1 y */
};

/* CTX: what to do (the value is the task id for CREATE, the context slot
 * for CREATE and SWITCH is value % LAB_FZA_CTXS). */
enum lab_fza_ctx_op {
	LAB_FZA_CTX_CREATE,	/* lab_ctx_create(task, name) into slot */
	LAB_FZA_CTX_SWITCH,	/* lab_ctx_switch to a slot */
	LAB_FZA_CTX_NULLS,	/* NULL to destroy, task_id, name */
	LAB_FZA_CTX_IRQ_EXIT,	/* unbalanced: reported */
	LAB_FZA_CTX_PREEMPT_ON, /* unbalanced: reported */
	LAB_FZA_CTX_RAISE_NULL, /* lab_irq_raise(NULL), might_sleep */
	LAB_FZA_CTX_COUNT
};

/* Pointer operands, addresses or descriptors: a kind, range(LAB_FZA_PTRS)
 * for an address (LAB_FZA_DESCS for a descriptor: no LAB_FZA_AT_MB),
 * then its parts.  Arithmetic wraps. */
enum lab_fza_at {
	LAB_FZA_AT_NULL,  /* - */
	LAB_FZA_AT_BLOCK, /* maze slot range(MAZES), held index u8, off value:
			   * that block's address or descriptor + off */
	LAB_FZA_AT_MAZE,  /* maze slot range(MAZES), off value: the maze's
			   * first address or descriptor + off */
	LAB_FZA_AT_RAW,	  /* u64 */
	LAB_FZA_AT_MB,	  /* held index u8, off value: a mutex buddy block */
	LAB_FZA_PTRS,
	LAB_FZA_DESCS = LAB_FZA_AT_MB
};

static inline uint64_t lab_fza_value(struct lab_fi *in)
{
	uint8_t tag = lab_fi_u8(in);

	if (tag < 0xc0)
		return tag;
	return tag < 0xe0 ? lab_fi_u32(in) : lab_fi_u64(in);
}

static inline void lab_fza_write_value(struct lab_fo *out, uint64_t v)
{
	if (v < 0xc0) {
		lab_fo_u8(out, (uint8_t)v);
	} else if (v <= UINT32_MAX) {
		lab_fo_u8(out, 0xc0);
		lab_fo_u32(out, (uint32_t)v);
	} else {
		lab_fo_u8(out, 0xe0);
		lab_fo_u64(out, v);
	}
}

/* page_size from a value: 0 is 0 (the default), 1..63 a power of two
 * (1 << v), anything else itself. */
static inline size_t lab_fza_page_size(uint64_t v)
{
	return (size_t)(v && v < 64 ? (uint64_t)1 << v : v);
}

/* Watermark modes: all 0 (defaults), three values as given, or three
 * values added up (min, min + a, min + a + b: ordered unless they wrap). */
enum { LAB_FZA_WM_DEFAULT, LAB_FZA_WM_RAW, LAB_FZA_WM_SUMS, LAB_FZA_WM_COUNT };

/* A configuration: width value, height value, page value, max_order
 * value, watermark mode and values, pcp_high value, pcp_batch value,
 * reclaim_rounds range(4), atomic_probe_budget value.  Fields the reader
 * does not set keep lab_maze_config_init's defaults. */
static inline void lab_fza_read_config(struct lab_fi *in,
				       struct lab_maze_config *cfg)
{
	unsigned mode;
	uint64_t a, b, c;

	lab_maze_config_init(cfg, 1, 1);
	cfg->width = (unsigned)lab_fza_value(in);
	cfg->height = (unsigned)lab_fza_value(in);
	cfg->page_size = lab_fza_page_size(lab_fza_value(in));
	cfg->max_order = (unsigned)lab_fza_value(in);
	mode = (unsigned)lab_fi_range(in, LAB_FZA_WM_COUNT);
	a = mode ? lab_fza_value(in) : 0;
	b = mode ? lab_fza_value(in) : 0;
	c = mode ? lab_fza_value(in) : 0;
	cfg->wmark_min = a;
	cfg->wmark_low = mode == LAB_FZA_WM_SUMS ? a + b : b;
	cfg->wmark_high = mode == LAB_FZA_WM_SUMS ? a + b + c : c;
	cfg->pcp_high = (unsigned)lab_fza_value(in);
	cfg->pcp_batch = (unsigned)lab_fza_value(in);
	cfg->reclaim_rounds = (unsigned)lab_fi_range(in, 4);
	cfg->atomic_probe_budget = (unsigned)lab_fza_value(in);
}

/* The writer's side of a configuration, field for field. */
struct lab_fza_config {
	uint64_t width, height, page, max_order;
	unsigned wm_mode;
	uint64_t wm[3];
	uint64_t pcp_high, pcp_batch;
	unsigned reclaim_rounds;
	uint64_t probe_budget;
};

static inline void lab_fza_write_config(struct lab_fo *out,
					const struct lab_fza_config *c)
{
	lab_fza_write_value(out, c->width);
	lab_fza_write_value(out, c->height);
	lab_fza_write_value(out, c->page);
	lab_fza_write_value(out, c->max_order);
	lab_fo_range(out, c->wm_mode, LAB_FZA_WM_COUNT);
	if (c->wm_mode) {
		lab_fza_write_value(out, c->wm[0]);
		lab_fza_write_value(out, c->wm[1]);
		lab_fza_write_value(out, c->wm[2]);
	}
	lab_fza_write_value(out, c->pcp_high);
	lab_fza_write_value(out, c->pcp_batch);
	lab_fo_range(out, c->reclaim_rounds, 4);
	lab_fza_write_value(out, c->probe_budget);
}

#endif /* LAB_FUZZ_API_H */
