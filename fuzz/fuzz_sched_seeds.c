/* fuzz_sched_seeds.c - seeds for fuzz_sched, written with the mirror
 * writer of its input format (fuzz_sched.h).
 *
 * Each seed is a small scenario: programs per logical thread and a
 * decision list, spelled in a compact notation so the table reads as the
 * schedules it encodes:
 *
 *   program ops   aK0 aN1x aA2  alloc, class KERNEL/NOWAIT/ATOMIC, order,
 *                               x = exclusive
 *                 f<i>          free held block i
 *                 h<i>:<t>      hand held block i to thread t
 *                 q             section with IRQs disabled
 *                 o             foreign free of an exclusive block
 *                 s             spinlock section
 *   decisions     <t>[*<run>][!] run thread t (or '.' = stay) for run
 *                               decisions; ! injects an interrupt
 */
#include <string.h>

#include "fuzz_sched.h"
#include "seed_notation.h"
#include "seedgen.h"

#define LAB_FS_SEED_MAX 1024

struct lab_fs_seed {
	const char *name;
	unsigned threads, maze; /* maze: index into lab_fs_mazes */
	const char *programs[LAB_FS_THREADS_MAX];
	const char *decisions;
};

/* A table, laid out by hand: one seed per entry (clang-format would put
 * every field on a line of its own). */
/* clang-format off */
static const struct lab_fs_seed lab_fs_seeds[] = {
	/* every op kind, no preemption: the baseline path */
	{ "serial-each-kind", 2, 2,
	  { "aK0 aN1x f0 aA0 h0:1 q o s", "aN0 aK2 f1 q s" }, "" },
	/* the same programs switched at every decision */
	{ "alternate-each-kind", 2, 2,
	  { "aK0 aN1x f0 aA0 h0:1 q o s", "aN0 aK2 f1 q s" },
	  "0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1" },
	/* two threads racing for order-0 blocks, preempted mid-claim */
	{ "claim-pair", 2, 1, { "aN0 aN0 f0 f0", "aA0 aA0 f1 f0" },
	  "0*2 1*2 0 1 0*3 1*3 0 1 0 1" },
	/* exclusive blocks handed round a ring of three threads */
	{ "handoff-ring", 3, 1,
	  { "aK0x h0:1 aN1x h0:2", "aA0x h0:2 aK0 f0", "aN0x h0:0 aA1 f0" },
	  "0*3 1*3 2*3 0*2 1*2 2*2 0 1 2 0 1 2" },
	/* handoffs both ways, preempted inside lab_page_handoff */
	{ "handoff-swap", 2, 2, { "aK1x h0:1 aK0x h0:1", "aN1x h0:0 aN0x h0:0" },
	  "0*4 1*4 0*2 1*2 0 1 0 1 0 1" },
	/* interrupts injected on every thread at the first decisions */
	{ "irq-early", 2, 2, { "aN0 aK1 f0 f0", "aA0 aN2 f0 f0" },
	  "0! 1! 0*2 1*2 0! 1!" },
	/* an interrupt per switch: ISRs land mid-allocation and mid-free */
	{ "irq-storm", 3, 2, { "aN0 f0 aN0 f0", "aK0 f0 aK1 f0", "aA0 f0 q" },
	  "0! 1! 2! 0! 1! 2! 0*2! 1*2! 2*2! 0*3! 1*3! 2*3!" },
	/* interrupts while IRQs are off: deferred to the restore */
	{ "irq-deferred", 2, 2, { "q q q aN0 f0", "q aA0 q f0" },
	  "0*2! 0! 1! 0*3! 1*2! 0! 1! 0!" },
	/* GFP_KERNEL under pressure in the 16-frame maze: reserve dips,
	 * reclaim and waits that only another thread's free ends */
	{ "kernel-pressure", 3, 0,
	  { "aK2 aK1 aK0 f0 f0 f0", "aK3 aK1 f0 f0", "aA2 aA1 aK2 f2 f1 f0" },
	  "0*8 1*8 2*8 0*8 1*8 2*8" },
	/* atomic allocations dipping into the reserve from interrupts */
	{ "atomic-reserve", 2, 0, { "aA3 aA2 aA1 aA0", "aN2 aA1 aA0 f0" },
	  "0*6 1! 0*4! 1*4! 0! 1!" },
	/* spinlock holder preempted: the other thread spins */
	{ "spin-preempted", 2, 2, { "s s aK0 f0", "s aN0 s f0" },
	  "0*2 1*8 0*2 1*8 0*8 1*8" },
	/* spin sections of four threads, interleaved finely */
	{ "spin-four", 4, 2, { "s aN0 s", "s s", "aA0 s", "s f0" },
	  "0 1 2 3 0 1 2 3 0*2 1*2 2*2 3*2" },
	/* foreign frees of exclusive blocks while others allocate */
	{ "foreign-free", 2, 2, { "aK0x o aN0x o f0 f0", "aK0x o f0" },
	  "0*3 1*3 0*3 1*3" },
	/* every order up to the maximum in the largest maze */
	{ "orders", 2, 3, { "aK4 aK3 aN2 aA1 f0 f0 f0 f0", "aN4 aK1 aA3 f0" },
	  "0*5 1*5 0*5 1*5 0 1" },
	/* splits and merges of neighbouring blocks, freed out of order */
	{ "split-merge", 2, 1, { "aK0 aK0 aK0 f1 f0 f0", "aK1 aK0 f0 f0" },
	  "0*6 1*6 0*3 1*3 0*3" },
	/* four threads, runs of decreasing length */
	{ "four-threads", 4, 2,
	  { "aN0 f0 aK1", "aA0 h0:0", "aK0x h0:3", "q aN1" },
	  "0*8 1*8 2*8 3*8 0*4 1*4 2*4 3*4 0 1 2 3" },
	/* long programs, preempted only every eight decisions */
	{ "long-coarse", 3, 2,
	  { "aK0 aN0 aA0 f0 f0 f0 q s", "aK1x h0:2 aN0 o f0 q s",
	    "aA0 aN1 f1 f0 q s aK0 f0" },
	  ".*8 1*8 2*8 .*8 0*8 1*8 2*8 0*8" },
	/* stays mixed with switches: preemptions only at chosen points */
	{ "stay-switch", 2, 1, { "aN0 aN0 f0 f0", "aN0 f0 aN0 f0" },
	  ".*5 1 .*5 0 .*5 1 .*5" },
	/* a thread with nothing to do among busy ones */
	{ "idle-thread", 3, 1, { "", "aK0 f0 aN1 f0", "aA0 h0:0" },
	  "0 1 2 1 2 1 2" },
	/* handoff into a thread that already finished: freed as leftover */
	{ "handoff-late", 2, 1, { "aK0", "aN0x aN0x h0:0 h0:0" }, "0*8" },
};
/* clang-format on */

/* ---- the notation ----------------------------------------------------- */

/* One op token into ops[i] (struct lab_op); false if it is not one. */
static bool lab_fs_seed_op(const char *tok, void *ops, unsigned i)
{
	struct lab_op *op = (struct lab_op *)ops + i;
	unsigned a = 0, b = 0;
	bool ok = true;

	memset(op, 0, sizeof(*op));
	switch (tok[0]) {
	case 'a':
		op->kind = LAB_OP_ALLOC;
		return lab_seed_alloc_args(tok + 1, LAB_FS_ORDERS, &op->cls,
					   &op->order, &op->excl);
	case 'f':
		op->kind = LAB_OP_FREE;
		op->arg = (uint16_t)strtoul(tok + 1, NULL, 10);
		break;
	case 'h':
		op->kind = LAB_OP_HANDOFF;
		ok = lab_seed_pair_args(tok + 1, &a, &b);
		op->arg = (uint16_t)a;
		op->arg2 = (uint16_t)b;
		break;
	case 'q':
		op->kind = LAB_OP_IRQS_OFF;
		break;
	case 'o':
		op->kind = LAB_OP_FOREIGN_FREE;
		break;
	case 's':
		op->kind = LAB_OP_SPIN;
		break;
	default:
		ok = false;
	}
	return ok;
}

static void lab_fs_seed_program(struct lab_fo *out, const char *name,
				const char *prog)
{
	struct lab_op ops[LAB_FS_OPS_MAX];
	unsigned n = lab_seed_program("fuzz_sched", name, prog, LAB_FS_OPS_MAX,
				      lab_fs_seed_op, ops);
	unsigned i;

	lab_fs_write_length(out, n);
	for (i = 0; i < n; i++)
		lab_fs_write_op(out, &ops[i]);
}

static void lab_fs_seed_decisions(struct lab_fo *out, const char *name,
				  const char *list)
{
	const char *s = list;
	char tok[16], *end;

	while (lab_seed_token(&s, tok, sizeof(tok))) {
		unsigned t = tok[0] == '.' ? LAB_FS_STAY :
					     (unsigned)(tok[0] - '0');
		unsigned run = 1;

		end = tok + 1;
		if (*end == '*')
			run = (unsigned)strtoul(end + 1, &end, 10);
		if (t > LAB_FS_STAY || run < 1 || run > LAB_FS_RUN_MAX ||
		    (*end && strcmp(end, "!")))
			lab_seed_bad("fuzz_sched", name, tok);
		lab_fo_u8(out, lab_fs_decision(t, run, *end == '!'));
	}
}

void lab_seeds_fuzz_sched(const struct lab_seed_sink *sink)
{
	uint8_t buf[LAB_FS_SEED_MAX];
	size_t i;

	for (i = 0; i < sizeof(lab_fs_seeds) / sizeof(lab_fs_seeds[0]); i++) {
		const struct lab_fs_seed *sd = &lab_fs_seeds[i];
		struct lab_fs_header h = { sd->threads, sd->maze };
		struct lab_fo out;
		unsigned t;

		lab_fo_init(&out, buf, sizeof(buf));
		lab_fs_write_header(&out, &h);
		for (t = 0; t < sd->threads; t++)
			lab_fs_seed_program(&out, sd->name, sd->programs[t]);
		lab_fs_seed_decisions(&out, sd->name, sd->decisions);
		lab_seed_emit(sink, "fuzz_sched", sd->name, &out);
	}
}
