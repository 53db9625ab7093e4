/* fuzz_threads.c - libFuzzer target: real pthreads run programs from the
 * input against one maze, for TSan campaigns.
 *
 * Two or three threads (format: fuzz_threads.h) allocate with every class,
 * free, hand exclusive blocks to each other through mutex-protected
 * mailboxes (lab_page_handoff first), run sections with IRQs off, take
 * interrupts they raise on themselves at op boundaries (deferred while
 * IRQs are off), and take a shared spinlock.  Checked: every block is
 * aligned to its size and keeps its stamp while held (a frame given to two
 * owners loses it), the owner passes lab_access_check, frees succeed, no
 * allocator report is raised, and after the threads are joined and every
 * block freed the maze is whole (lab_maze_check() == 0, conservation).
 *
 * Not deterministic: the threads really run concurrently.  What makes it
 * useful is TSan (-fsanitize=fuzzer,thread, TSAN_OPTIONS=halt_on_error=1):
 * a data race in the allocator is reported on the input that exercised it.
 * Bounded: at most LAB_FT_OPS_MAX ops per thread, GFP_KERNEL waits of 1 ms
 * and one reclaim round, every thread joined before returning.
 */
#define _GNU_SOURCE /* pthread barriers, sched_yield under -std=c17 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_counters.h"
#include "fuzz_threads.h"

#define LAB_FT_HELD_MAX 16
#define LAB_FT_BOX_MAX 8
#define LAB_FT_RX_MAX 4
#define LAB_FT_PAGE_SIZE 512 /* small pages: poisoning stays cheap */
#define LAB_FT_TASK_BASE 1000
#define LAB_FT_STAMP_MAGIC 0x4c41425954485244ull /* "LABYTHRD" */

/* Outcome signals, extra coverage for what edges do not tell apart: which
 * class and order succeeded, how interrupts went, waits and reserve dips.
 * Each thread counts into its own array, merged into lab_ft_signals after
 * the join, so the counting itself cannot race. */
enum lab_ft_signal {
	/* alloc by class, order, exclusive, success */
	LAB_FT_SIG_ALLOC = 0,
	/* every other op kind, did something or not */
	LAB_FT_SIG_OP = LAB_FT_SIG_ALLOC +
			LAB_CLASS_COUNT * (LAB_FT_MAX_ORDER + 1) * 2 * 2,
	/* interrupts: delivered, deferred, coalesced */
	LAB_FT_SIG_IRQ = LAB_FT_SIG_OP + LAB_FT_KINDS * 2,
	/* per class: waits, reclaims, reserve dips, failures */
	LAB_FT_SIG_CLASS = LAB_FT_SIG_IRQ + 3,
	LAB_FT_SIG_KSWAPD = LAB_FT_SIG_CLASS + LAB_CLASS_COUNT * 4,
	/* the input's shape (threads, maze), so every input has a feature */
	LAB_FT_SIG_SHAPE,
	LAB_FT_SIGNALS = LAB_FT_SIG_SHAPE + LAB_FT_THREADS_SPAN * LAB_FT_MAZES
};

static uint8_t lab_ft_signals[LAB_FT_SIGNALS] LAB_FUZZ_EXTRA_COUNTERS;

/* Written at the start of every block its owner holds.  The tag (thread
 * and sequence number) is also kept with the block, so a frame handed to
 * two owners at once is caught at the next check of either: the other
 * owner's stamp is there, or the poison of a free. */
struct lab_ft_stamp {
	uint64_t magic, tag, addr;
};

struct lab_ft_block {
	void *addr; /* NULL: none */
	unsigned order;
	uint64_t tag;
};

struct lab_ft_run;

struct lab_ft_thread {
	struct lab_ft_run *run;
	unsigned id;
	pthread_t tid;
	struct lab_ctx *ctx; /* made by main, so every task id is known */
	const struct lab_ft_op *ops;
	unsigned nops;
	uint64_t seq;
	/* touched by this thread and its interrupts only */
	uint8_t sig[LAB_FT_SIGNALS];
	struct lab_ft_block held[LAB_FT_HELD_MAX];
	unsigned nheld;
	struct lab_ft_block rx[LAB_FT_RX_MAX]; /* what interrupts allocated */
	unsigned nrx;
	/* blocks handed to this thread: under box_lock */
	pthread_mutex_t box_lock;
	struct lab_ft_block box[LAB_FT_BOX_MAX];
	unsigned nbox;
};

struct lab_ft_run {
	struct lab_maze *maze;
	size_t page_size;
	unsigned n;
	unsigned shape; /* (threads, maze) as one index */
	struct lab_ft_thread t[LAB_FT_THREADS_MAX];
	struct lab_ft_op ops[LAB_FT_THREADS_MAX][LAB_FT_OPS_MAX];
	pthread_barrier_t start;
	lab_spinlock_t lock;
};

/* ---- stamps and blocks ------------------------------------------------ */

static void lab_ft_stamp(struct lab_ft_thread *th, struct lab_ft_block *b)
{
	struct lab_ft_stamp *st = b->addr;

	b->tag = (uint64_t)th->id << 56 | ++th->seq;
	st->magic = LAB_FT_STAMP_MAGIC;
	st->tag = b->tag;
	st->addr = (uintptr_t)b->addr;
}

static void lab_ft_verify(const struct lab_ft_block *b, const char *op)
{
	const struct lab_ft_stamp *st = b->addr;

	LAB_FUZZ_CHECK(st->magic == LAB_FT_STAMP_MAGIC && st->tag == b->tag &&
			       st->addr == (uintptr_t)b->addr,
		       "%s: block %p lost its stamp (magic %llx, tag %llx, "
		       "expected %llx): another owner wrote it",
		       op, b->addr, (unsigned long long)st->magic,
		       (unsigned long long)st->tag, (unsigned long long)b->tag);
}

static void lab_ft_free(struct lab_ft_run *run, const struct lab_ft_block *b,
			const char *op)
{
	int ret;

	lab_ft_verify(b, op);
	ret = lab_free_pages_addr(run->maze, b->addr, b->order);
	LAB_FUZZ_CHECK(ret == 0, "%s: free of %p order %u: %s", op, b->addr,
		       b->order, lab_last_error());
}

/* Allocates, checks alignment and stamps; addr NULL if memory is short. */
static struct lab_ft_block lab_ft_get(struct lab_ft_thread *th, lab_gfp_t gfp,
				      unsigned order, const char *op)
{
	struct lab_ft_block b = { NULL, order, 0 };
	uintptr_t size = (uintptr_t)th->run->page_size << order;

	b.addr = lab_get_free_pages(th->run->maze, gfp | LAB_GFP_NOWARN, order);
	if (!b.addr)
		return b;
	LAB_FUZZ_CHECK(((uintptr_t)b.addr & (size - 1)) == 0,
		       "%s: block %p of order %u is not aligned to its size",
		       op, b.addr, order);
	lab_ft_stamp(th, &b);
	return b;
}

static bool lab_ft_free_held(struct lab_ft_thread *th, unsigned idx)
{
	unsigned i;

	if (!th->nheld)
		return false;
	i = idx % th->nheld;
	lab_ft_free(th->run, &th->held[i], "free");
	th->held[i] = th->held[--th->nheld];
	return true;
}

static void lab_ft_hold(struct lab_ft_thread *th, struct lab_ft_block b)
{
	if (th->nheld == LAB_FT_HELD_MAX)
		lab_ft_free_held(th, 0);
	th->held[th->nheld++] = b;
}

/* ---- interrupts ------------------------------------------------------- */

/* Runs in IRQ context on the thread that raised it, between two of its
 * ops or at the restore of an IRQs-off section: it allocates atomically
 * and keeps the block for the thread to free, as a driver's handler
 * passes a buffer up. */
static void lab_ft_isr(void *arg)
{
	struct lab_ft_thread *th = arg;
	struct lab_ft_block b;

	if (th->nrx == LAB_FT_RX_MAX)
		lab_ft_free(th->run, &th->rx[--th->nrx], "isr");
	b = lab_ft_get(th, LAB_GFP_ATOMIC, 0, "isr");
	if (b.addr)
		th->rx[th->nrx++] = b;
}

static void lab_ft_free_rx(struct lab_ft_thread *th)
{
	while (th->nrx)
		lab_ft_free(th->run, &th->rx[--th->nrx], "rx");
}

/* ---- operations ------------------------------------------------------- */

static const lab_gfp_t lab_ft_classes[LAB_CLASS_COUNT] = {
	[LAB_CLASS_KERNEL] = LAB_GFP_KERNEL,
	[LAB_CLASS_NOWAIT] = LAB_GFP_NOWAIT,
	[LAB_CLASS_ATOMIC] = LAB_GFP_ATOMIC,
};

static bool lab_ft_op_alloc(struct lab_ft_thread *th,
			    const struct lab_ft_op *op)
{
	lab_gfp_t gfp = lab_ft_classes[op->cls] |
			(op->excl ? LAB_GFP_EXCLUSIVE : 0);
	struct lab_ft_block b = lab_ft_get(th, gfp, op->order, "alloc");
	unsigned kind =
		(op->cls * (LAB_FT_MAX_ORDER + 1) + op->order) * 2 + op->excl;

	lab_fuzz_count(&th->sig[LAB_FT_SIG_ALLOC + kind * 2 + !!b.addr]);
	if (b.addr)
		lab_ft_hold(th, b);
	return b.addr != NULL;
}

/* The receiver's mailbox lock orders the stamp written before and read
 * after, as a real program's lock would.  The handoff happens under it,
 * once the slot is sure, because afterwards only the receiver may free. */
static bool lab_ft_op_handoff(struct lab_ft_thread *th,
			      const struct lab_ft_op *op)
{
	struct lab_ft_thread *to = &th->run->t[op->arg2 % th->run->n];
	unsigned i;
	bool room;
	int ret;

	if (!th->nheld || to == th)
		return false;
	i = op->arg % th->nheld;
	lab_ft_verify(&th->held[i], "handoff");
	pthread_mutex_lock(&to->box_lock);
	room = to->nbox < LAB_FT_BOX_MAX;
	if (room) {
		ret = lab_page_handoff(
			th->run->maze,
			lab_virt_to_page(th->run->maze, th->held[i].addr),
			th->held[i].order, lab_ctx_task_id(to->ctx));
		LAB_FUZZ_CHECK(ret == 0, "handoff of %p: %s", th->held[i].addr,
			       lab_last_error());
		to->box[to->nbox++] = th->held[i];
		th->held[i] = th->held[--th->nheld];
	}
	pthread_mutex_unlock(&to->box_lock);
	return room;
}

/* Takes what others handed over into the held set. */
static void lab_ft_take_box(struct lab_ft_thread *th)
{
	struct lab_ft_block got[LAB_FT_BOX_MAX];
	unsigned n, i;

	pthread_mutex_lock(&th->box_lock);
	n = th->nbox;
	memcpy(got, th->box, n * sizeof(got[0]));
	th->nbox = 0;
	pthread_mutex_unlock(&th->box_lock);
	for (i = 0; i < n; i++) {
		lab_ft_verify(&got[i], "receive");
		lab_ft_hold(th, got[i]);
	}
}

/* Only non-blocking classes are legal with IRQs off; the interrupt raised
 * meanwhile must wait for the restore. */
static bool lab_ft_op_irqs_off(struct lab_ft_thread *th,
			       const struct lab_ft_op *op)
{
	lab_gfp_t gfp = op->cls == LAB_CLASS_ATOMIC ? LAB_GFP_ATOMIC :
						      LAB_GFP_NOWAIT;
	unsigned long flags = lab_local_irq_save();
	struct lab_ft_block b = lab_ft_get(th, gfp, op->order, "irqs-off");
	bool ran = lab_irq_raise(lab_ft_isr, th);

	LAB_FUZZ_CHECK(!ran, "irqs-off: an interrupt ran with IRQs disabled");
	if (b.addr)
		lab_ft_free(th->run, &b, "irqs-off");
	lab_local_irq_restore(flags);
	return b.addr != NULL;
}

static bool lab_ft_op_spin(struct lab_ft_thread *th)
{
	struct lab_ft_block b;
	unsigned long flags;

	lab_spin_lock_irqsave(&th->run->lock, &flags);
	b = lab_ft_get(th, LAB_GFP_ATOMIC, 0, "spin");
	if (b.addr)
		lab_ft_free(th->run, &b, "spin");
	lab_spin_unlock_irqrestore(&th->run->lock, flags);
	return b.addr != NULL;
}

static bool lab_ft_op_touch(struct lab_ft_thread *th, unsigned idx)
{
	struct lab_ft_block *b;
	int ret;

	if (!th->nheld)
		return false;
	b = &th->held[idx % th->nheld];
	ret = lab_access_check(th->run->maze, b->addr,
			       th->run->page_size << b->order);
	LAB_FUZZ_CHECK(ret == 0, "touch: owner refused access to %p: %s",
		       b->addr, lab_last_error());
	lab_ft_verify(b, "touch");
	lab_ft_stamp(th, b);
	return true;
}

static bool lab_ft_op_irq(struct lab_ft_thread *th)
{
	LAB_FUZZ_CHECK(lab_irq_raise(lab_ft_isr, th),
		       "irq: deferred with IRQs enabled");
	return true;
}

/* Runs one op; true if it did something (an allocation succeeded, a
 * block was there to free, ...). */
static bool lab_ft_run_op(struct lab_ft_thread *th, const struct lab_ft_op *op)
{
	switch (op->kind) {
	case LAB_FT_ALLOC:
		return lab_ft_op_alloc(th, op);
	case LAB_FT_FREE:
		return lab_ft_free_held(th, op->arg);
	case LAB_FT_HANDOFF:
		return lab_ft_op_handoff(th, op);
	case LAB_FT_IRQS_OFF:
		return lab_ft_op_irqs_off(th, op);
	case LAB_FT_IRQ:
		return lab_ft_op_irq(th);
	case LAB_FT_SPIN:
		return lab_ft_op_spin(th);
	case LAB_FT_TOUCH:
		return lab_ft_op_touch(th, op->arg);
	case LAB_FT_YIELD:
		return sched_yield() == 0;
	default:
		lab_maze_drain_local(th->run->maze);
		return true;
	}
}

/* ---- threads ---------------------------------------------------------- */

/* How this thread's interrupts went: run at once, deferred, coalesced. */
static void lab_ft_note_irqs(struct lab_ft_thread *th)
{
	struct lab_irq_counts c;

	lab_irq_counts(&c);
	lab_fuzz_count_n(&th->sig[LAB_FT_SIG_IRQ], c.delivered);
	lab_fuzz_count_n(&th->sig[LAB_FT_SIG_IRQ + 1], c.deferred);
	lab_fuzz_count_n(&th->sig[LAB_FT_SIG_IRQ + 2], c.coalesced);
}

static void *lab_ft_thread_main(void *arg)
{
	struct lab_ft_thread *th = arg;
	unsigned i;

	lab_ctx_switch(th->ctx);
	pthread_barrier_wait(&th->run->start);
	for (i = 0; i < th->nops; i++) {
		const struct lab_ft_op *op = &th->ops[i];
		bool did;

		lab_ft_take_box(th);
		did = lab_ft_run_op(th, op);
		lab_fuzz_count(&th->sig[LAB_FT_SIG_OP + op->kind * 2 + did]);
	}
	lab_ft_take_box(th);
	while (th->nheld)
		lab_ft_free_held(th, 0);
	lab_ft_free_rx(th);
	lab_maze_drain_local(th->run->maze);
	lab_ft_note_irqs(th);
	lab_ctx_switch(NULL);
	return NULL;
}

/* Blocks handed to a thread after its last look at its mailbox: freed in
 * its context once every thread is joined. */
static void lab_ft_free_leftovers(struct lab_ft_thread *th)
{
	lab_ctx_switch(th->ctx);
	while (th->nbox)
		lab_ft_free(th->run, &th->box[--th->nbox], "leftover");
	lab_maze_drain_local(th->run->maze);
	lab_ctx_switch(NULL);
}

/* Every report is a finding: the programs never misuse the API. */
static void lab_ft_on_report(const struct lab_report *r, void *arg)
{
	(void)arg;
	LAB_FUZZ_CHECK(r->kind == LAB_REPORT_ALLOC_FAILURE,
		       "allocator report %s in %s: %s",
		       lab_report_kind_name(r->kind), r->function, r->message);
}

/* ---- one input -------------------------------------------------------- */

static void lab_ft_maze(struct lab_ft_run *run, const struct lab_ft_header *h)
{
	struct lab_maze_config cfg;
	int ret;

	lab_maze_config_init(&cfg, lab_ft_mazes[h->maze][0],
			     lab_ft_mazes[h->maze][1]);
	cfg.page_size = LAB_FT_PAGE_SIZE;
	cfg.max_order = LAB_FT_MAX_ORDER;
	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 1;
	cfg.report = lab_ft_on_report;
	ret = lab_maze_config_watermarks(&cfg);
	if (!ret)
		ret = lab_maze_create(&cfg, &run->maze);
	LAB_FUZZ_CHECK(ret == 0, "maze set-up: %s", lab_last_error());
	run->page_size = LAB_FT_PAGE_SIZE;
}

static void lab_ft_read(struct lab_ft_run *run, struct lab_fi *in)
{
	unsigned t, i;

	for (t = 0; t < run->n; t++) {
		struct lab_ft_thread *th = &run->t[t];

		th->run = run;
		th->id = t;
		th->nops = lab_ft_read_length(in);
		th->ops = run->ops[t];
		for (i = 0; i < th->nops; i++)
			lab_ft_read_op(in, &run->ops[t][i]);
		th->ctx = lab_ctx_create(LAB_FT_TASK_BASE + t, NULL);
		LAB_FUZZ_CHECK(th->ctx, "context: %s", lab_last_error());
		pthread_mutex_init(&th->box_lock, NULL);
	}
}

static void lab_ft_run_threads(struct lab_ft_run *run)
{
	unsigned t;

	pthread_barrier_init(&run->start, NULL, run->n);
	for (t = 0; t < run->n; t++)
		LAB_FUZZ_CHECK(!pthread_create(&run->t[t].tid, NULL,
					       lab_ft_thread_main, &run->t[t]),
			       "pthread_create failed");
	for (t = 0; t < run->n; t++)
		pthread_join(run->t[t].tid, NULL);
	pthread_barrier_destroy(&run->start);
}

/* After the join: the threads' signals and the allocator's per-class
 * statistics into the extra counters. */
static void lab_ft_merge_signals(const struct lab_ft_run *run,
				 const struct lab_maze_stats *st)
{
	unsigned t, i, c;

	for (t = 0; t < run->n; t++)
		for (i = 0; i < LAB_FT_SIGNALS; i++)
			lab_fuzz_count_n(&lab_ft_signals[i], run->t[t].sig[i]);
	for (c = 0; c < LAB_CLASS_COUNT; c++) {
		uint8_t *sig = &lab_ft_signals[LAB_FT_SIG_CLASS + c * 4];

		lab_fuzz_count_n(&sig[0], st->cls[c].waits);
		lab_fuzz_count_n(&sig[1], st->cls[c].reclaims);
		lab_fuzz_count_n(&sig[2], st->cls[c].reserve_dips);
		lab_fuzz_count_n(&sig[3], st->cls[c].failures);
	}
	lab_fuzz_count_n(&lab_ft_signals[LAB_FT_SIG_KSWAPD],
			 st->kswapd_wakeups);
	lab_fuzz_count(&lab_ft_signals[LAB_FT_SIG_SHAPE + run->shape]);
}

/* Everything is back: the maze must be whole and the counts agree. */
static void lab_ft_final_check(struct lab_ft_run *run)
{
	struct lab_maze_stats st;
	uint64_t ok = 0;
	long problems = lab_maze_check(run->maze);
	unsigned c;

	LAB_FUZZ_CHECK(problems == 0, "final: lab_maze_check found %ld",
		       problems);
	lab_maze_stats(run->maze, &st);
	lab_ft_merge_signals(run, &st);
	for (c = 0; c < LAB_CLASS_COUNT; c++)
		ok += st.cls[c].successes;
	LAB_FUZZ_CHECK(ok == st.frees && st.free_frames == st.frames,
		       "final: %llu allocations, %llu frees, %llu of %llu "
		       "frames free",
		       (unsigned long long)ok, (unsigned long long)st.frees,
		       (unsigned long long)st.free_frames,
		       (unsigned long long)st.frames);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lab_fuzz_select_bug();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lab_ft_run run;
	struct lab_ft_header h;
	struct lab_fi in;
	unsigned t;

	lab_fuzz_select_bug();
	memset(&run, 0, sizeof(run));
	lab_fi_init(&in, data, size);
	lab_ft_read_header(&in, &h);
	run.n = h.threads;
	run.shape = (h.threads - LAB_FT_THREADS_MIN) * LAB_FT_MAZES + h.maze;
	lab_spin_lock_init(&run.lock);
	lab_ft_maze(&run, &h);
	lab_ft_read(&run, &in);
	lab_ft_run_threads(&run);
	for (t = 0; t < run.n; t++)
		lab_ft_free_leftovers(&run.t[t]);
	for (t = 0; t < run.n; t++) {
		lab_ctx_destroy(run.t[t].ctx);
		pthread_mutex_destroy(&run.t[t].box_lock);
	}
	lab_ft_final_check(&run);
	lab_maze_destroy(run.maze);
	return 0;
}
