/* fuzz_ops_seeds.c - seeds for fuzz_ops, one per feature, written with the
 * mirror writer so each decodes to the program spelled out here.
 *
 * Placement assumed by the comments (not needed for validity): in a fresh
 * maze the first block of an order comes from the lowest free frames.
 */
#include <string.h>

#include "fuzz_ops.h"
#include "seedgen.h"

struct seed {
	struct lab_fo out;
	struct lab_fzo_header h;
	uint8_t buf[512];
};

/* 8x8 frames of 256 bytes, orders 0..4, min 4 / low 8 / high 12. */
static const struct lab_fzo_header seed_plain = { 8, 8, 8, 4, 4, 4, 4, 0, 0, 1 };
/* The same with per-context caches: batch 2, high 8. */
static const struct lab_fzo_header seed_pcp = { 8, 8, 8, 4, 2, 2, 2, 2, 3, 1 };
/* 16 frames, orders 0..2, min 4 / low 6 / high 8, two reclaim rounds. */
static const struct lab_fzo_header seed_tight = { 4, 4, 8, 2, 4, 2, 2, 0, 0, 2 };

static void seed_begin(struct seed *s, const struct lab_fzo_header *h)
{
	lab_fo_init(&s->out, s->buf, sizeof(s->buf));
	s->h = *h;
	lab_fzo_write_header(&s->out, h);
}

static void seed_emit(struct seed *s, const struct lab_seed_sink *sink,
		      const char *name)
{
	if (!s->out.overflow)
		sink->emit(sink->arg, name, s->buf, s->out.size);
}

static void op(struct seed *s, enum lab_fzo_op o)
{
	lab_fo_range(&s->out, o, LAB_FZO_OP_COUNT);
}

static void op_alloc(struct seed *s, unsigned cls, unsigned mods,
		     unsigned order)
{
	op(s, LAB_FZO_ALLOC);
	lab_fo_range(&s->out, cls, 4);
	lab_fo_range(&s->out, mods, 16);
	lab_fo_range(&s->out, order, s->h.max_order + 1);
}

/* Frees held block `slot` with its order + delta (see fuzz_ops.h). */
static void op_free(struct seed *s, unsigned slot, unsigned delta)
{
	op(s, LAB_FZO_FREE);
	lab_fo_u8(&s->out, (uint8_t)slot);
	lab_fo_bool(&s->out, slot & 1);
	lab_fo_range(&s->out, delta, 4);
}

static void op_free_at(struct seed *s, unsigned pfn, unsigned order)
{
	op(s, LAB_FZO_FREE_AT);
	lab_fo_range(&s->out, pfn, lab_fzo_frames(&s->h));
	lab_fo_range(&s->out, order, s->h.max_order + 2);
	lab_fo_bool(&s->out, pfn & 1);
}

static void op_free_ptr(struct seed *s, unsigned kind, unsigned pfn,
			unsigned off)
{
	op(s, LAB_FZO_FREE_PTR);
	lab_fo_range(&s->out, kind, 4);
	lab_fo_range(&s->out, pfn, lab_fzo_frames(&s->h));
	lab_fo_u8(&s->out, (uint8_t)off);
}

static void op_slot(struct seed *s, enum lab_fzo_op o, unsigned slot)
{
	op(s, o);
	lab_fo_u8(&s->out, (uint8_t)slot);
	if (o == LAB_FZO_WRITE)
		lab_fo_u8(&s->out, (uint8_t)(0x40 + slot));
}

static void op_access(struct seed *s, unsigned pfn, unsigned off, unsigned len)
{
	op(s, LAB_FZO_ACCESS);
	lab_fo_range(&s->out, pfn, lab_fzo_frames(&s->h) + 1);
	lab_fo_range(&s->out, off, (uint64_t)1 << s->h.page_shift);
	lab_fo_range(&s->out, len, 4);
}

static void op_handoff(struct seed *s, unsigned slot, unsigned target,
		       bool wrong)
{
	op(s, LAB_FZO_HANDOFF);
	lab_fo_u8(&s->out, (uint8_t)slot);
	lab_fo_range(&s->out, target, 2 * LAB_FZO_CTXS);
	lab_fo_bool(&s->out, wrong);
}

static void op_switch(struct seed *s, unsigned ctx)
{
	op(s, LAB_FZO_SWITCH);
	lab_fo_range(&s->out, ctx, LAB_FZO_CTXS);
}

static void op_fail_next(struct seed *s, unsigned skip, unsigned count)
{
	op(s, LAB_FZO_FAIL_NEXT);
	lab_fo_range(&s->out, skip, 8);
	lab_fo_range(&s->out, count, 4);
}

/* An interrupt at yield point k of the next operation. */
static void op_arm(struct seed *s, unsigned k, unsigned action, unsigned order,
		   unsigned flags, unsigned slot)
{
	op(s, LAB_FZO_ARM_IRQ);
	lab_fo_range(&s->out, k, LAB_FZO_MAX_YIELD);
	lab_fo_range(&s->out, action, 3);
	lab_fo_range(&s->out, order, s->h.max_order + 1);
	lab_fo_range(&s->out, flags, 4);
	lab_fo_u8(&s->out, (uint8_t)slot);
}

static void op_nofail(struct seed *s, unsigned cls, unsigned order)
{
	op(s, LAB_FZO_NOFAIL);
	lab_fo_range(&s->out, cls, 2);
	lab_fo_range(&s->out, order, s->h.max_order + 1);
}

/* Frees the first `n` held blocks, one after the other (slot 0 is taken
 * by the last one each time). */
static void free_all(struct seed *s, unsigned n)
{
	while (n--)
		op_free(s, 0, 0);
}

/* ---- the seeds ------------------------------------------------------------ */

static void seed_classes(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, 0, 0);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 1);
	op_alloc(s, LAB_FZO_ATOMIC, 0, 2);
	op_alloc(s, LAB_FZO_KERNEL_HIGH, LAB_FZO_MOD_ADDR, 3);
	free_all(s, 4);
}

static void seed_orders(struct seed *s)
{
	unsigned o;

	seed_begin(s, &seed_plain);
	for (o = 0; o <= 4; o++)
		op_alloc(s, LAB_FZO_NOWAIT, LAB_FZO_MOD_NOWARN, o);
	for (o = 5; o--;)
		op_free(s, o, 0);
}

static void seed_pattern(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, LAB_FZO_MOD_ZERO, 2);
	op_alloc(s, LAB_FZO_KERNEL, LAB_FZO_MOD_ZERO | LAB_FZO_MOD_ADDR, 0);
	op_slot(s, LAB_FZO_WRITE, 0);
	op_slot(s, LAB_FZO_WRITE, 1);
	op_slot(s, LAB_FZO_VERIFY, 0);
	op_slot(s, LAB_FZO_VERIFY, 1);
	free_all(s, 2);
}

static void seed_handoff(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, LAB_FZO_MOD_EXCL, 1);
	op_slot(s, LAB_FZO_WRITE, 0);
	op_handoff(s, 0, 2, false);    /* to context 1 */
	op_slot(s, LAB_FZO_VERIFY, 0); /* now foreign: refused */
	op_switch(s, 1);
	op_slot(s, LAB_FZO_VERIFY, 0);
	op_handoff(s, 0, 5, false); /* to context 2 in IRQ */
	op_switch(s, 2);
	op(s, LAB_FZO_IRQ_ENTER);
	op_free(s, 0, 0);
	op(s, LAB_FZO_IRQ_EXIT);
}

static void seed_foreign(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_NOWAIT, LAB_FZO_MOD_EXCL, 0);
	op_switch(s, 1);
	op_free(s, 0, 0);	      /* foreign-free */
	op_slot(s, LAB_FZO_WRITE, 0); /* foreign-access */
	op_handoff(s, 0, 4, false);   /* handoff by a non-owner */
	op(s, LAB_FZO_IRQ_ENTER);
	op_switch(s, 0);
	op(s, LAB_FZO_IRQ_ENTER); /* the owner's own IRQ is foreign too */
	op_free(s, 0, 0);
	op(s, LAB_FZO_IRQ_EXIT);
	op_free(s, 0, 0);
}

static void seed_wrong_order(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, 0, 2);
	op_free(s, 0, 1); /* order 3: wrong-order */
	op_free(s, 0, 3); /* order 5 > max_order: -EINVAL, no report */
	op_handoff(s, 0, 2, true);
	op_free(s, 0, 0);
}

static void seed_free_at(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, 0, 1); /* pfn 0 */
	op_free_at(s, 1, 0);		   /* tail frame: bad-pointer */
	op_free_at(s, 0, 0);		   /* wrong-order */
	op_free_at(s, 3, 1);		   /* misaligned: bad-pointer */
	op_free_at(s, 0, 1);		   /* the real free */
	op_free_at(s, 0, 1);		   /* double-free */
	op_free_at(s, 40, 5);		   /* order above max */
}

static void seed_bad_pointers(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0);
	op_free_ptr(s, LAB_FZO_PTR_MISALIGNED, 0, 17);
	op_free_ptr(s, LAB_FZO_PTR_OUTSIDE, 0, 1);
	op_free_ptr(s, LAB_FZO_PTR_OUTSIDE, 0, 2);
	op_free_ptr(s, LAB_FZO_DESC_MISALIGNED, 0, 3);
	op_free_ptr(s, LAB_FZO_DESC_OUTSIDE, 0, 5);
	op_free_ptr(s, LAB_FZO_DESC_OUTSIDE, 63, 6);
	op_free(s, 0, 0);
}

static void seed_access(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_KERNEL, LAB_FZO_MOD_EXCL, 1); /* pfns 0-1 */
	op_access(s, 0, 0, LAB_FZO_LEN_ONE);
	op_access(s, 1, 100, LAB_FZO_LEN_FRAME);
	op_access(s, 0, 10, LAB_FZO_LEN_BLOCK);
	op_access(s, 0, 10, LAB_FZO_LEN_PAST); /* bad-pointer */
	op_access(s, 40, 0, LAB_FZO_LEN_ONE);  /* free: use-after-free */
	op_access(s, 64, 5, LAB_FZO_LEN_ONE);  /* outside: out-of-range */
	op_switch(s, 2);
	op_access(s, 0, 0, LAB_FZO_LEN_BLOCK); /* foreign-access */
	op_switch(s, 0);
	op_free(s, 0, 0);
}

static void seed_irq_nesting(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op(s, LAB_FZO_IRQ_ENTER);
	op(s, LAB_FZO_IRQ_ENTER);
	op_alloc(s, LAB_FZO_ATOMIC, LAB_FZO_MOD_EXCL, 0);
	op_alloc(s, LAB_FZO_KERNEL, 0, 0); /* sleep-in-atomic */
	op(s, LAB_FZO_IRQ_EXIT);
	op_free(s, 0, 0); /* the IRQ owner's block, from IRQ: allowed */
	op(s, LAB_FZO_IRQ_EXIT);
	op(s, LAB_FZO_IRQ_EXIT); /* unbalanced: context report */
}

static void seed_irqs_off(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op(s, LAB_FZO_IRQ_SAVE);
	op(s, LAB_FZO_IRQ_SAVE);
	op_alloc(s, LAB_FZO_KERNEL_HIGH, 0, 0); /* sleep-in-atomic */
	op_alloc(s, LAB_FZO_NOWAIT, 0, 1);
	op(s, LAB_FZO_IRQ_RESTORE);
	op(s, LAB_FZO_IRQ_RESTORE);
	op(s, LAB_FZO_PREEMPT_OFF);
	op_alloc(s, LAB_FZO_KERNEL, 0, 0); /* sleep-in-atomic */
	op(s, LAB_FZO_PREEMPT_ON);
	op(s, LAB_FZO_PREEMPT_ON); /* unbalanced */
	op_free(s, 0, 0);
}

static void seed_fail_injection(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_fail_next(s, 1, 2);
	op_alloc(s, LAB_FZO_KERNEL, 0, 0);		    /* passes */
	op_alloc(s, LAB_FZO_NOWAIT, 0, 1);		    /* injected */
	op_alloc(s, LAB_FZO_ATOMIC, LAB_FZO_MOD_NOWARN, 0); /* injected */
	op_alloc(s, LAB_FZO_KERNEL, 0, 2);		    /* passes */
	op_fail_next(s, 0, 3);
	op_fail_next(s, 0, 0); /* switched off again */
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0);
	free_all(s, 3);
}

/* The tight maze with 12 of its 16 frames held: at its min watermark. */
static void seed_begin_tight(struct seed *s)
{
	unsigned i;

	seed_begin(s, &seed_tight);
	for (i = 0; i < 3; i++)
		op_alloc(s, LAB_FZO_NOWAIT, 0, 2);
}

/* Down through low and min into the atomic reserve, then back. */
static void seed_pressure(struct seed *s)
{
	seed_begin_tight(s);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0);	/* below min: refused */
	op_alloc(s, LAB_FZO_KERNEL, 0, 0);	/* refused after waits */
	op_alloc(s, LAB_FZO_KERNEL_HIGH, 0, 0); /* HIGH dips to min/2 */
	op_alloc(s, LAB_FZO_ATOMIC, 0, 0);	/* 37.5% of min */
	op_alloc(s, LAB_FZO_ATOMIC, LAB_FZO_MOD_NOWARN, 0);
	op_nofail(s, 0, 0);
	op_nofail(s, 1, 2);
	free_all(s, 5);
}

/* The shape that finds pcp-irq-unsafe: an interrupt that allocates from
 * the cache list the interrupted allocation is halfway through. */
static void seed_irq_in_cache(struct seed *s)
{
	seed_begin(s, &seed_pcp);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0); /* refills the cache */
	op_arm(s, 2, LAB_FZO_ISR_ALLOC_KEEP, 0, 0, 0);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0); /* pcp:list is yield point 2 */
	op_arm(s, 3, LAB_FZO_ISR_ALLOC_FREE, 0, 0, 0);
	op_free(s, 0, 0);
	free_all(s, 2);
	op(s, LAB_FZO_DRAIN);
	op(s, LAB_FZO_CHECK);
}

static void seed_irq_free(struct seed *s)
{
	seed_begin(s, &seed_plain);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 1);
	op_arm(s, 1, LAB_FZO_ISR_FREE, 0, 0, 1); /* frees slot 1 */
	op_alloc(s, LAB_FZO_ATOMIC, 0, 2);
	op_arm(s, 0, LAB_FZO_ISR_ALLOC_KEEP, 1, LAB_FZO_ISR_EXCL, 0);
	op_free(s, 0, 0);
	free_all(s, 2);
}

/* Raised with IRQs off, the interrupt waits for the restore. */
static void seed_irq_deferred(struct seed *s)
{
	seed_begin(s, &seed_pcp);
	op(s, LAB_FZO_IRQ_SAVE);
	op_arm(s, 0, LAB_FZO_ISR_ALLOC_KEEP, 1, LAB_FZO_ISR_NOWAIT, 0);
	op_alloc(s, LAB_FZO_ATOMIC, 0, 1); /* raised here, deferred */
	op_arm(s, 1, LAB_FZO_ISR_ALLOC_FREE, 0, 0, 0);
	op_alloc(s, LAB_FZO_ATOMIC, 0, 0); /* coalesces with the first */
	op(s, LAB_FZO_IRQ_RESTORE);	   /* runs now */
	free_all(s, 3);
}

/* A GFP_KERNEL allocation that fails waits every round; an interrupt
 * freeing memory during a wait lets a later round succeed. */
static void seed_irq_in_wait(struct seed *s)
{
	seed_begin_tight(s);
	op_arm(s, 1, LAB_FZO_ISR_FREE, 0, 0, 0); /* at the first alloc:wait */
	op_alloc(s, LAB_FZO_KERNEL, 0, 1);
	free_all(s, 3);
}

static void seed_drain_check(struct seed *s)
{
	unsigned i;

	seed_begin(s, &seed_pcp);
	for (i = 0; i < 4; i++)
		op_alloc(s, i & 1 ? LAB_FZO_ATOMIC : LAB_FZO_KERNEL, 0, i);
	op_switch(s, 1);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 0);
	op_free(s, 4, 0);
	op_switch(s, 0);
	free_all(s, 4);
	op(s, LAB_FZO_CHECK);
	op(s, LAB_FZO_DRAIN);
	op(s, LAB_FZO_CHECK);
}

/* 15 frames: blocks whose buddy lies past the end never merge. */
static void seed_odd_geometry(struct seed *s)
{
	static const struct lab_fzo_header odd = {
		5, 3, 9, 3, 0, 2, 3, 0, 0, 0
	};

	seed_begin(s, &odd);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 3);
	op_alloc(s, LAB_FZO_NOWAIT, 0, 2);
	op_alloc(s, LAB_FZO_ATOMIC, 0, 1);
	op_alloc(s, LAB_FZO_ATOMIC, 0, 0);
	op_free(s, 1, 0);
	op_free(s, 0, 0);
	free_all(s, 2);
}

/* All watermarks 0: the kernel-like defaults, caches on. */
static void seed_defaults(struct seed *s)
{
	static const struct lab_fzo_header big = {
		8, 8, 9, 4, 0, 0, 0, 3, 1, 1
	};
	unsigned i;

	seed_begin(s, &big);
	for (i = 0; i < 6; i++)
		op_alloc(s, i % 3, 0, i % 5);
	for (i = 0; i < 6; i++)
		op_free(s, 5 - i, 0);
}

void lab_seeds_fuzz_ops(const struct lab_seed_sink *sink)
{
	static const struct {
		const char *name;
		void (*fn)(struct seed *s);
	} seeds[] = {
		{ "ops-classes", seed_classes },
		{ "ops-orders", seed_orders },
		{ "ops-pattern", seed_pattern },
		{ "ops-handoff", seed_handoff },
		{ "ops-foreign", seed_foreign },
		{ "ops-wrong-order", seed_wrong_order },
		{ "ops-free-at", seed_free_at },
		{ "ops-bad-pointers", seed_bad_pointers },
		{ "ops-access", seed_access },
		{ "ops-irq-nesting", seed_irq_nesting },
		{ "ops-irqs-off", seed_irqs_off },
		{ "ops-fail-injection", seed_fail_injection },
		{ "ops-pressure", seed_pressure },
		{ "ops-irq-in-cache", seed_irq_in_cache },
		{ "ops-irq-free", seed_irq_free },
		{ "ops-irq-deferred", seed_irq_deferred },
		{ "ops-irq-in-wait", seed_irq_in_wait },
		{ "ops-drain-check", seed_drain_check },
		{ "ops-odd-geometry", seed_odd_geometry },
		{ "ops-defaults", seed_defaults },
	};
	struct seed s;
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		seeds[i].fn(&s);
		seed_emit(&s, sink, seeds[i].name);
	}
}
