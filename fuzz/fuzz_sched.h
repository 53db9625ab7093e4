/* fuzz_sched.h - the input format of fuzz_sched, shared by the target
 * (reader side, lab_fi_*) and its seed generator (writer side, lab_fo_*).
 * Each reader has its mirror writer right below it, so a generated seed
 * decodes to exactly the program it was written from.
 *
 * Input layout (every field one byte, missing bytes read as 0):
 *
 *   header     threads (2 + v % 3), maze (index into lab_fs_mazes)
 *   programs   per logical thread: length (v % (LAB_FS_OPS_MAX + 1)),
 *              then per op: kind, class, order, exclusive, arg, arg2
 *              (struct lab_op; kind/class/order folded into range here)
 *   decisions  the rest, at most LAB_FS_DECISION_BYTES bytes, each
 *              standing for `run` consecutive scheduler decisions:
 *                bits 0-2  thread to run; >= threads: stay on the
 *                          current thread (no preemption)
 *                bits 3-5  run - 1 (1..8 decisions)
 *                bits 6-7  both set: an interrupt is injected on the
 *                          thread at the first of them
 *              with LAB_FUZZ_MEMORY=c11 (the C11 model, --memory c11), a
 *              byte with bits 6-7 = 2 is one reads-from decision instead:
 *                bits 0-2  the store the load reads (0 the newest)
 *              (in SC mode, the default, such a byte is a thread run)
 *
 * The longest input that is read whole is 2 + 4 * (1 + 8 * 6) + 128 = 326
 * bytes (fuzz_sched.options: max_len 384).
 */
#ifndef LAB_FUZZ_SCHED_H
#define LAB_FUZZ_SCHED_H

#include "fuzz_input.h"
#include "scheduler.h"

#define LAB_FS_THREADS_MIN 2
#define LAB_FS_THREADS_SPAN 3 /* 2..4 logical threads */
#define LAB_FS_THREADS_MAX (LAB_FS_THREADS_MIN + LAB_FS_THREADS_SPAN - 1)
#define LAB_FS_OPS_MAX 8 /* per thread: short programs keep it fast */
/* runner.c builds the controlled maze with max_order 4; a larger order
 * would only fail its argument check, so the reader never asks for one. */
#define LAB_FS_ORDERS 5
#define LAB_FS_DECISION_BYTES 128
#define LAB_FS_RUN_MAX 8
#define LAB_FS_STAY 7u /* a thread field no run ever has: stay */

/* Geometries (width x height) the maze knob picks from: 16 frames are
 * under pressure at once (GFP_KERNEL waits, reserve dips), 128 rarely. */
static const unsigned lab_fs_mazes[][2] = { { 8, 2 },
					    { 8, 4 },
					    { 8, 8 },
					    { 16, 8 } };
#define LAB_FS_MAZES (sizeof(lab_fs_mazes) / sizeof(lab_fs_mazes[0]))

struct lab_fs_header {
	unsigned threads; /* LAB_FS_THREADS_MIN .. +SPAN-1 */
	unsigned maze;	  /* < LAB_FS_MAZES */
};

static inline void lab_fs_read_header(struct lab_fi *in,
				      struct lab_fs_header *h)
{
	h->threads = LAB_FS_THREADS_MIN +
		     (unsigned)lab_fi_range(in, LAB_FS_THREADS_SPAN);
	h->maze = (unsigned)lab_fi_range(in, LAB_FS_MAZES);
}

static inline void lab_fs_write_header(struct lab_fo *out,
				       const struct lab_fs_header *h)
{
	lab_fo_range(out, h->threads - LAB_FS_THREADS_MIN, LAB_FS_THREADS_SPAN);
	lab_fo_range(out, h->maze, LAB_FS_MAZES);
}

static inline unsigned lab_fs_read_length(struct lab_fi *in)
{
	return (unsigned)lab_fi_range(in, LAB_FS_OPS_MAX + 1);
}

static inline void lab_fs_write_length(struct lab_fo *out, unsigned n)
{
	lab_fo_range(out, n, LAB_FS_OPS_MAX + 1);
}

static inline void lab_fs_read_op(struct lab_fi *in, struct lab_op *op)
{
	op->kind = (uint8_t)lab_fi_range(in, LAB_OP_KINDS);
	op->cls = (uint8_t)lab_fi_range(in, LAB_CLASS_COUNT);
	op->order = (uint8_t)lab_fi_range(in, LAB_FS_ORDERS);
	op->excl = lab_fi_bool(in);
	op->arg = lab_fi_u8(in);
	op->arg2 = lab_fi_u8(in);
}

static inline void lab_fs_write_op(struct lab_fo *out, const struct lab_op *op)
{
	lab_fo_range(out, op->kind, LAB_OP_KINDS);
	lab_fo_range(out, op->cls, LAB_CLASS_COUNT);
	lab_fo_range(out, op->order, LAB_FS_ORDERS);
	lab_fo_bool(out, op->excl);
	lab_fo_u8(out, (uint8_t)op->arg);
	lab_fo_u8(out, (uint8_t)op->arg2);
}

/* One decision byte: `thread` (LAB_FS_STAY to stay) for `run` decisions
 * (1..LAB_FS_RUN_MAX), with an interrupt at the first if `irq`. */
static inline uint8_t lab_fs_decision(unsigned thread, unsigned run, bool irq)
{
	return (uint8_t)((thread & 7u) | (((run - 1) & 7u) << 3) |
			 (irq ? 0xc0u : 0u));
}

static inline unsigned lab_fs_decision_thread(uint8_t b)
{
	return b & 7u;
}

static inline unsigned lab_fs_decision_run(uint8_t b)
{
	return ((b >> 3) & 7u) + 1;
}

static inline bool lab_fs_decision_irq(uint8_t b)
{
	return (b >> 6) == 3u;
}

/* c11 memory: a reads-from decision byte (store 0..7) */
static inline uint8_t lab_fs_read_decision(unsigned store)
{
	return (uint8_t)(0x80u | (store & 7u));
}

static inline bool lab_fs_decision_is_read(uint8_t b)
{
	return (b >> 6) == 2u;
}

static inline unsigned lab_fs_decision_store(uint8_t b)
{
	return b & 7u;
}

#endif /* LAB_FUZZ_SCHED_H */
