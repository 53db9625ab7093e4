/* fuzz_ops.h - the input format of the fuzz_ops target, shared by the
 * target (reader) and its seed generator (mirror writer).
 *
 * An input is a header (maze geometry, watermarks, caches) followed by up
 * to LAB_FZO_MAX_OPS operations: an opcode, range(LAB_FZO_OP_COUNT), then
 * the operands listed beside it.  Every field is read with lab_fi_range()
 * from fuzz_input.h, so any byte string decodes to some valid program.
 * "slot" is one byte taken modulo the number of blocks held at that moment
 * (in the order the target keeps them: a freed block's place is taken by
 * the last one); "pfn" is range(frames), one byte since frames <= 64;
 * "order" is range(max_order + 1).
 */
#ifndef LAB_FUZZ_OPS_H
#define LAB_FUZZ_OPS_H

#include "fuzz_input.h"

#define LAB_FZO_MAX_OPS 256
#define LAB_FZO_MAX_SIDE 8 /* width, height: 1..8 frames */
#define LAB_FZO_MAX_FRAMES (LAB_FZO_MAX_SIDE * LAB_FZO_MAX_SIDE)
#define LAB_FZO_MAX_ORDER 4   /* max_order: 0..4 */
#define LAB_FZO_CTXS 3	      /* the thread's own context, then two more */
#define LAB_FZO_MAX_IRQ 3     /* lab_irq_enter nesting the target allows */
#define LAB_FZO_MAX_SAVED 4   /* nested lab_local_irq_save */
#define LAB_FZO_MAX_PREEMPT 3 /* nested lab_preempt_disable */
#define LAB_FZO_MAX_YIELD 64  /* ARM_IRQ: yield point index 0..63 */

/* Operations and their operands, in reading order. */
enum lab_fzo_op {
	LAB_FZO_ALLOC,	  /* class range(4), mods range(16), order */
	LAB_FZO_FREE,	  /* slot, by_desc bool, order_delta range(4) */
	LAB_FZO_FREE_AT,  /* pfn, order range(max_order+2), by_desc bool */
	LAB_FZO_FREE_PTR, /* kind range(4), pfn, off u8 */
	LAB_FZO_WRITE,	  /* slot, seed u8 */
	LAB_FZO_VERIFY,	  /* slot */
	LAB_FZO_ACCESS, /* pfn range(frames+1), off range(page), len range(4) */
	LAB_FZO_HANDOFF, /* slot, target range(2 * LAB_FZO_CTXS), wrong bool */
	LAB_FZO_SWITCH,	 /* ctx range(LAB_FZO_CTXS) */
	LAB_FZO_IRQ_ENTER,   /* - */
	LAB_FZO_IRQ_EXIT,    /* - (unbalanced: reported) */
	LAB_FZO_IRQ_SAVE,    /* - */
	LAB_FZO_IRQ_RESTORE, /* - */
	LAB_FZO_PREEMPT_OFF, /* - */
	LAB_FZO_PREEMPT_ON,  /* - (unbalanced: reported) */
	LAB_FZO_FAIL_NEXT,   /* skip range(8), count range(4) */
	LAB_FZO_ARM_IRQ, /* k range(64), action range(3), order, flags range(4), slot */
	LAB_FZO_NOFAIL, /* class range(2), order */
	LAB_FZO_DRAIN,	/* - */
	LAB_FZO_CHECK,	/* - */
	LAB_FZO_OP_COUNT
};

/* ALLOC classes (range(4)) and modifier bits (range(16)). */
enum { LAB_FZO_KERNEL, LAB_FZO_NOWAIT, LAB_FZO_ATOMIC, LAB_FZO_KERNEL_HIGH };
#define LAB_FZO_MOD_ZERO 1u
#define LAB_FZO_MOD_NOWARN 2u
#define LAB_FZO_MOD_EXCL 4u
#define LAB_FZO_MOD_ADDR 8u /* lab_get_free_pages instead of lab_alloc_pages */

/* FREE: order_delta 0 frees with the block's order; d > 0 with
 * (order + d) % (max_order + 2), which may be above max_order. */

/* FREE_PTR kinds. */
enum {
	LAB_FZO_PTR_MISALIGNED, /* address inside frame pfn, not its start */
	LAB_FZO_PTR_OUTSIDE,	/* address before (off odd) or after the maze */
	LAB_FZO_DESC_MISALIGNED, /* descriptor of pfn + 1..15 bytes */
	LAB_FZO_DESC_OUTSIDE	 /* descriptor before (off odd) or after */
};

/* ACCESS lengths. */
enum {
	LAB_FZO_LEN_ONE,   /* 1 byte */
	LAB_FZO_LEN_FRAME, /* to the end of the frame */
	LAB_FZO_LEN_BLOCK, /* to the end of the containing block (or 1) */
	LAB_FZO_LEN_PAST   /* one byte past the containing block (or 1) */
};

/* HANDOFF target t: context t / 2, with the IRQ bit if t is odd. */

/* ARM_IRQ: an interrupt is raised at yield point number k (0-based) of
 * the next operation; its handler does `action` with GFP_ATOMIC (or
 * GFP_NOWAIT, flags bit 1), exclusive if flags bit 0. */
enum {
	LAB_FZO_ISR_ALLOC_FREE, /* allocate and free at once: no net change */
	LAB_FZO_ISR_ALLOC_KEEP, /* allocate and keep the block */
	LAB_FZO_ISR_FREE	/* free a held block (slot) */
};
#define LAB_FZO_ISR_EXCL 1u
#define LAB_FZO_ISR_NOWAIT 2u

/* The header: the maze under test. */
struct lab_fzo_header {
	unsigned width, height;	 /* 1..8 */
	unsigned page_shift;	 /* 8 or 9 */
	unsigned max_order;	 /* 0..4 */
	uint64_t wmark_min;	 /* 0..frames/2 (all three 0: defaults) */
	uint64_t low_delta;	 /* low = min + 0..frames/4, capped at frames */
	uint64_t high_delta;	 /* high = low + 0..frames/4, capped */
	unsigned pcp_shift;	 /* 0: no caches; else batch 1 << (shift-1) */
	unsigned pcp_mult;	 /* pcp_high = batch * (1 + mult) */
	unsigned reclaim_rounds; /* 0..2 */
};

static inline uint64_t lab_fzo_frames(const struct lab_fzo_header *h)
{
	return (uint64_t)h->width * h->height;
}

static inline void lab_fzo_read_header(struct lab_fi *in,
				       struct lab_fzo_header *h)
{
	uint64_t frames;

	h->width = 1 + (unsigned)lab_fi_range(in, LAB_FZO_MAX_SIDE);
	h->height = 1 + (unsigned)lab_fi_range(in, LAB_FZO_MAX_SIDE);
	h->page_shift = 8 + (unsigned)lab_fi_range(in, 2);
	h->max_order = (unsigned)lab_fi_range(in, LAB_FZO_MAX_ORDER + 1);
	frames = lab_fzo_frames(h);
	h->wmark_min = lab_fi_range(in, frames / 2 + 1);
	h->low_delta = lab_fi_range(in, frames / 4 + 1);
	h->high_delta = lab_fi_range(in, frames / 4 + 1);
	h->pcp_shift = (unsigned)lab_fi_range(in, 4);
	h->pcp_mult = (unsigned)lab_fi_range(in, 4);
	h->reclaim_rounds = (unsigned)lab_fi_range(in, 3);
}

static inline void lab_fzo_write_header(struct lab_fo *out,
					const struct lab_fzo_header *h)
{
	uint64_t frames = lab_fzo_frames(h);

	lab_fo_range(out, h->width - 1, LAB_FZO_MAX_SIDE);
	lab_fo_range(out, h->height - 1, LAB_FZO_MAX_SIDE);
	lab_fo_range(out, h->page_shift - 8, 2);
	lab_fo_range(out, h->max_order, LAB_FZO_MAX_ORDER + 1);
	lab_fo_range(out, h->wmark_min, frames / 2 + 1);
	lab_fo_range(out, h->low_delta, frames / 4 + 1);
	lab_fo_range(out, h->high_delta, frames / 4 + 1);
	lab_fo_range(out, h->pcp_shift, 4);
	lab_fo_range(out, h->pcp_mult, 4);
	lab_fo_range(out, h->reclaim_rounds, 3);
}

#endif /* LAB_FUZZ_OPS_H */
