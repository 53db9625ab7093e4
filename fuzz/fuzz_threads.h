/* fuzz_threads.h - the input format of fuzz_threads, shared by the target
 * (reader side, lab_fi_*) and its seed generator (writer side, lab_fo_*),
 * each reader with its mirror writer right below it.
 *
 * Input layout (every field one byte, missing bytes read as 0):
 *
 *   header    threads (2 + v % 2), maze (index into lab_ft_mazes)
 *   programs  per thread: length (v % (LAB_FT_OPS_MAX + 1)), then per
 *             op: kind, class, order, exclusive, arg, arg2
 *
 * The longest input that is read whole is 2 + 3 * (1 + 16 * 6) = 293
 * bytes (fuzz_threads.options: max_len 320).
 */
#ifndef LAB_FUZZ_THREADS_H
#define LAB_FUZZ_THREADS_H

#include "fuzz_input.h"
#include "labyrinth.h"

#define LAB_FT_THREADS_MIN 2
#define LAB_FT_THREADS_SPAN 2 /* 2..3 pthreads */
#define LAB_FT_THREADS_MAX (LAB_FT_THREADS_MIN + LAB_FT_THREADS_SPAN - 1)
#define LAB_FT_OPS_MAX 16
#define LAB_FT_MAX_ORDER 4 /* the maze's max_order (fuzz_threads.c) */

/* What a thread does at one step of its program. */
enum lab_ft_kind {
	LAB_FT_ALLOC,	 /* class, order, exclusive */
	LAB_FT_FREE,	 /* held block arg */
	LAB_FT_HANDOFF,	 /* held block arg to thread arg2, via its mailbox */
	LAB_FT_IRQS_OFF, /* alloc + free with IRQs off, an IRQ deferred */
	LAB_FT_IRQ,	 /* an interrupt raised on this thread now */
	LAB_FT_SPIN,	 /* alloc + free under the shared spinlock */
	LAB_FT_TOUCH,	 /* access check and stamp check of held block arg */
	LAB_FT_YIELD,	 /* sched_yield: lets another thread in */
	LAB_FT_DRAIN,	 /* lab_maze_drain_local */
	LAB_FT_KINDS
};

struct lab_ft_op {
	uint8_t kind, cls, order, excl, arg, arg2;
};

/* Geometries (width x height): 16 frames are under pressure at once, 1024
 * rarely. */
static const unsigned lab_ft_mazes[][2] = { { 8, 2 },
					    { 8, 8 },
					    { 16, 16 },
					    { 32, 32 } };
#define LAB_FT_MAZES (sizeof(lab_ft_mazes) / sizeof(lab_ft_mazes[0]))

struct lab_ft_header {
	unsigned threads; /* LAB_FT_THREADS_MIN .. LAB_FT_THREADS_MAX */
	unsigned maze;	  /* < LAB_FT_MAZES */
};

static inline void lab_ft_read_header(struct lab_fi *in,
				      struct lab_ft_header *h)
{
	h->threads = LAB_FT_THREADS_MIN +
		     (unsigned)lab_fi_range(in, LAB_FT_THREADS_SPAN);
	h->maze = (unsigned)lab_fi_range(in, LAB_FT_MAZES);
}

static inline void lab_ft_write_header(struct lab_fo *out,
				       const struct lab_ft_header *h)
{
	lab_fo_range(out, h->threads - LAB_FT_THREADS_MIN, LAB_FT_THREADS_SPAN);
	lab_fo_range(out, h->maze, LAB_FT_MAZES);
}

static inline unsigned lab_ft_read_length(struct lab_fi *in)
{
	return (unsigned)lab_fi_range(in, LAB_FT_OPS_MAX + 1);
}

static inline void lab_ft_write_length(struct lab_fo *out, unsigned n)
{
	lab_fo_range(out, n, LAB_FT_OPS_MAX + 1);
}

static inline void lab_ft_read_op(struct lab_fi *in, struct lab_ft_op *op)
{
	op->kind = (uint8_t)lab_fi_range(in, LAB_FT_KINDS);
	op->cls = (uint8_t)lab_fi_range(in, LAB_CLASS_COUNT);
	op->order = (uint8_t)lab_fi_range(in, LAB_FT_MAX_ORDER + 1);
	op->excl = lab_fi_bool(in);
	op->arg = lab_fi_u8(in);
	op->arg2 = lab_fi_u8(in);
}

static inline void lab_ft_write_op(struct lab_fo *out,
				   const struct lab_ft_op *op)
{
	lab_fo_range(out, op->kind, LAB_FT_KINDS);
	lab_fo_range(out, op->cls, LAB_CLASS_COUNT);
	lab_fo_range(out, op->order, LAB_FT_MAX_ORDER + 1);
	lab_fo_bool(out, op->excl);
	lab_fo_u8(out, op->arg);
	lab_fo_u8(out, op->arg2);
}

#endif /* LAB_FUZZ_THREADS_H */
