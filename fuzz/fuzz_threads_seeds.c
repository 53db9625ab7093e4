/* fuzz_threads_seeds.c - seeds for fuzz_threads, written with the mirror
 * writer of its input format (fuzz_threads.h).
 *
 * Each seed is a scenario for two or three real threads, one program per
 * thread in the notation of seed_notation.h:
 *
 *   aK0 aN1x aA2  alloc, class KERNEL/NOWAIT/ATOMIC, order, x = exclusive
 *   f<i>          free held block i
 *   h<i>:<t>      hand held block i to thread t through its mailbox
 *   qN0 qA1       section with IRQs off: alloc (NOWAIT or ATOMIC) and
 *                 free, an interrupt raised inside runs at the restore
 *   i             interrupt raised now (its handler allocates atomically)
 *   s             alloc + free under the shared spinlock
 *   t<i>          access and stamp check of held block i
 *   y             sched_yield
 *   d             lab_maze_drain_local
 */
#include <string.h>

#include "fuzz_threads.h"
#include "seed_notation.h"
#include "seedgen.h"

#define LAB_FT_SEED_MAX 512

struct lab_ft_seed {
	const char *name;
	unsigned threads, maze; /* maze: index into lab_ft_mazes */
	const char *programs[LAB_FT_THREADS_MAX];
};

/* A table, laid out by hand: one seed per entry (clang-format would put
 * every field on a line of its own). */
/* clang-format off */
static const struct lab_ft_seed lab_ft_seeds[] = {
	/* every op kind once per thread */
	{ "each-kind", 2, 1,
	  { "aK0 aN1x t1 h0:1 qN0 i s y d f0", "aA0 aK1x t0 qA0 i s f0 f0" } },
	/* many small allocations and frees racing on one bitmap word */
	{ "order0-race", 3, 1,
	  { "aN0 aN0 aN0 aN0 f0 f0 f0 f0", "aA0 aA0 aA0 aA0 f1 f0 f0 f0",
	    "aK0 aK0 aK0 aK0 f2 f1 f0 f0" } },
	/* exclusive blocks handed round a ring */
	{ "handoff-ring", 3, 1,
	  { "aK0x aK1x h0:1 h0:2 y t0 f0", "aN0x h0:2 y t0 t1 f0",
	    "aA0x h0:0 y t0 f0" } },
	/* both threads hand everything to the other */
	{ "handoff-swap", 2, 1,
	  { "aK0x aK0x aK0x h0:1 h0:1 h0:1 y t0 t1",
	    "aN1x aN1x h0:0 h0:0 y t0" } },
	/* GFP_KERNEL under pressure in the 16-frame maze: waits and reclaim */
	{ "kernel-pressure", 3, 0,
	  { "aK2 aK1 aK1 y f0 f0 f0", "aK3 aK2 y f0 f0", "aK2 aK2 y d f1 f0" } },
	/* atomic allocations and interrupts dipping into the reserve */
	{ "atomic-reserve", 2, 0,
	  { "aA3 aA2 aA1 i i i f0 f0", "aA2 aN2 i i f0" } },
	/* interrupts deferred inside IRQs-off sections */
	{ "irq-deferred", 2, 1,
	  { "qN0 qA0 qN1 qA1 qN0 qA0", "qA0 i qN0 i qA2 i" } },
	/* interrupt storms on every thread, their blocks freed at the end */
	{ "irq-storm", 3, 2,
	  { "i i i i i i i i", "i aN0 i f0 i i", "aK0 i i i f0 i" } },
	/* spinlock sections from three threads, with allocations between */
	{ "spin", 3, 1, { "s s s s", "s aN0 s f0 s", "aK0 s s f0" } },
	/* every order up to the maximum, in the largest maze */
	{ "orders", 2, 3,
	  { "aK4 aK3 aN2 aA1 aK0 f0 f0 f0 f0 f0",
	    "aN4 aA3 aK2 aN1 f0 f0 f0 f0" } },
	/* per-context caches filled, drained and refilled */
	{ "pcp-churn", 2, 2,
	  { "aN0 aN0 aN1 f0 f0 f0 d aN0 aN0 d f0 f0",
	    "aA0 aA0 d aA0 f0 f0 f0 d" } },
	/* long programs mixing everything */
	{ "mixed-long", 3, 2,
	  { "aK0 aN1x h0:1 qN0 i s aA0 t0 y aK2 f0 d f0",
	    "aN0 aK0x h1:2 qA0 s i t0 y f0 f0",
	    "aA1 aK1x h0:0 i s qN1 t0 f0 d" } },
	/* stamps checked while blocks move between threads */
	{ "touch-moving", 2, 1,
	  { "aK0x aK0x t0 t1 h0:1 t0 h0:1", "aN0x t0 h0:0 y t0 t1" } },
	/* one idle thread */
	{ "idle", 2, 1, { "", "aK0 aN0 f0 f0" } },
};
/* clang-format on */

/* One op token into ops[i] (struct lab_ft_op); false if it is not one. */
static bool lab_ft_seed_op(const char *tok, void *ops, unsigned i)
{
	struct lab_ft_op *op = (struct lab_ft_op *)ops + i;
	static const char plain[] = "isyd"; /* ops without arguments */
	static const uint8_t plain_kind[] = { LAB_FT_IRQ, LAB_FT_SPIN,
					      LAB_FT_YIELD, LAB_FT_DRAIN };
	const char *p = strchr(plain, tok[0]);
	unsigned a = 0, b = 0;
	bool ok;

	memset(op, 0, sizeof(*op));
	if (p && tok[0] && !tok[1]) {
		op->kind = plain_kind[p - plain];
		return true;
	}
	switch (tok[0]) {
	case 'a':
	case 'q':
		op->kind = tok[0] == 'a' ? LAB_FT_ALLOC : LAB_FT_IRQS_OFF;
		return lab_seed_alloc_args(tok + 1, LAB_FT_MAX_ORDER + 1,
					   &op->cls, &op->order, &op->excl);
	case 'f':
	case 't':
		op->kind = tok[0] == 'f' ? LAB_FT_FREE : LAB_FT_TOUCH;
		op->arg = (uint8_t)strtoul(tok + 1, NULL, 10);
		return true;
	case 'h':
		op->kind = LAB_FT_HANDOFF;
		ok = lab_seed_pair_args(tok + 1, &a, &b);
		op->arg = (uint8_t)a;
		op->arg2 = (uint8_t)b;
		return ok;
	}
	return false;
}

static void lab_ft_seed_program(struct lab_fo *out, const char *name,
				const char *prog)
{
	struct lab_ft_op ops[LAB_FT_OPS_MAX];
	unsigned n = lab_seed_program("fuzz_threads", name, prog,
				      LAB_FT_OPS_MAX, lab_ft_seed_op, ops);
	unsigned i;

	lab_ft_write_length(out, n);
	for (i = 0; i < n; i++)
		lab_ft_write_op(out, &ops[i]);
}

void lab_seeds_fuzz_threads(const struct lab_seed_sink *sink)
{
	uint8_t buf[LAB_FT_SEED_MAX];
	size_t i;

	for (i = 0; i < sizeof(lab_ft_seeds) / sizeof(lab_ft_seeds[0]); i++) {
		const struct lab_ft_seed *sd = &lab_ft_seeds[i];
		struct lab_ft_header h = { sd->threads, sd->maze };
		struct lab_fo out;
		unsigned t;

		lab_fo_init(&out, buf, sizeof(buf));
		lab_ft_write_header(&out, &h);
		for (t = 0; t < sd->threads; t++)
			lab_ft_seed_program(&out, sd->name, sd->programs[t]);
		lab_seed_emit(sink, "fuzz_threads", sd->name, &out);
	}
}
