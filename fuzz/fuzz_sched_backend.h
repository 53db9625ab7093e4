/* fuzz_sched_backend.h - the input format of fuzz_sched_backend, shared by
 * the target (reader, lab_fsb_read_*) and its seed generator (writer,
 * lab_fsb_write_*), each writer right below its reader.
 *
 * Input layout (missing bytes read as 0):
 *
 *   header     threads (2 + v % 3), program length (1 + v % 16), seed of
 *              the programs (8 bytes, little-endian: every logical thread
 *              runs the alloc/free/handoff program `labyrinth stress
 *              --mode controlled --backend NAME` generates from it)
 *   decisions  the rest, at most LAB_FSB_DECISION_BYTES bytes, each
 *              standing for `run` consecutive decisions:
 *                bits 0-2  thread to run; >= threads: stay on the
 *                          current thread (no preemption)
 *                bits 3-5  run - 1 (1..8 decisions)
 *              with LAB_FUZZ_MEMORY=c11 (the C11 model, --memory c11), a
 *              byte with bits 6-7 = 2 is one reads-from decision instead:
 *                bits 0-2  the store the load reads (0 the newest)
 *              (in SC mode, the default, bits 6-7 mean nothing)
 *
 * The backend is not in the input: LAB_FUZZ_BACKEND names it (default
 * mutex-buddy), so a corpus stays one backend's; nor is the memory model
 * (LAB_FUZZ_MEMORY, default sc).
 */
#ifndef LAB_FUZZ_SCHED_BACKEND_H
#define LAB_FUZZ_SCHED_BACKEND_H

#include "fuzz_input.h"

#define LAB_FSB_THREADS_MIN 2
#define LAB_FSB_THREADS_SPAN 3 /* 2..4 logical threads */
#define LAB_FSB_OPS_SPAN 16    /* 1..16 operations per thread */
#define LAB_FSB_DECISION_BYTES 256
#define LAB_FSB_RUN_MAX 8

struct lab_fsb_header {
	unsigned threads, ops;
	uint64_t seed;
};

static inline void lab_fsb_read_header(struct lab_fi *in,
				       struct lab_fsb_header *h)
{
	h->threads = LAB_FSB_THREADS_MIN +
		     (unsigned)lab_fi_range(in, LAB_FSB_THREADS_SPAN);
	h->ops = 1 + (unsigned)lab_fi_range(in, LAB_FSB_OPS_SPAN);
	h->seed = lab_fi_u64(in);
}

static inline void lab_fsb_write_header(struct lab_fo *out,
					const struct lab_fsb_header *h)
{
	lab_fo_u8(out, (uint8_t)(h->threads - LAB_FSB_THREADS_MIN));
	lab_fo_u8(out, (uint8_t)(h->ops - 1));
	lab_fo_u64(out, h->seed);
}

static inline unsigned lab_fsb_decision_thread(uint8_t b)
{
	return b & 7u;
}

static inline unsigned lab_fsb_decision_run(uint8_t b)
{
	return 1 + ((b >> 3) & 7u);
}

/* c11 memory: a reads-from decision (store 0..7), and its writer */
static inline bool lab_fsb_decision_is_read(uint8_t b)
{
	return (b >> 6) == 2u;
}

static inline unsigned lab_fsb_decision_store(uint8_t b)
{
	return b & 7u;
}

static inline void lab_fsb_write_read(struct lab_fo *out, unsigned store)
{
	lab_fo_u8(out, (uint8_t)(0x80u | (store & 7u)));
}

/* thread 7 = stay */
static inline void lab_fsb_write_decision(struct lab_fo *out, unsigned thread,
					  unsigned run)
{
	lab_fo_u8(out, (uint8_t)((thread & 7u) | ((run - 1) & 7u) << 3));
}

#endif /* LAB_FUZZ_SCHED_BACKEND_H */
