/* torture.c - the allocator's own multithreaded validation (lab_torture).
 *
 * Worker pthreads allocate with every class and small orders, stamp each
 * block's memory with (worker, sequence, pfn) and verify the stamp before
 * freeing, so a frame handed to two owners at once is caught.  Blocks move
 * between workers through mailboxes (cross-thread frees); EXCLUSIVE ones
 * are handed off with lab_page_handoff first, and each worker now and then
 * tries a deliberate foreign free, which must be refused.  An interrupt
 * controller thread sends real signals (SIGUSR1) to workers; the handler
 * raises a simulated interrupt whose service routine allocates GFP_ATOMIC
 * and keeps some blocks for process context to free (receive buffers).
 * Workers also run sections with simulated IRQs disabled, so interrupts
 * are deferred and delivered at lab_local_irq_restore.
 *
 * At the end every block is freed and the maze must be whole:
 * lab_maze_check() == 0, all frames free, allocations == frees, no
 * unexpected report.  Exit status 0 only then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "labyrinth.h"

#define MAX_WORKERS 64
#define HELD_MAX 128
#define MAILBOX_MAX 64
#define RX_MAX 32
#define STAMP_MAGIC 0x6c61627972696e74ull /* "labyrint" */

struct options {
	unsigned seconds, threads, width, height, irq_rate;
	uint64_t seed;
};

struct block {
	void *addr;
	unsigned order;
	bool excl;
};

/* Written at the start of every block while it is held. */
struct stamp {
	uint64_t magic, worker, seq, addr;
};

struct mailbox {
	pthread_mutex_t lock;
	struct block items[MAILBOX_MAX];
	unsigned n;
};

/* Blocks an interrupt kept for process context: the ISR (on this thread)
 * produces, the thread consumes; single producer/consumer on one thread,
 * so atomics only keep the compiler honest across the signal. */
struct rx_ring {
	void *slot[RX_MAX];
	atomic_uint head, tail;
};

struct worker {
	pthread_t thread;
	unsigned idx;
	uint32_t ctx_id;
	uint64_t rng, seq, ops;
	struct block held[HELD_MAX];
	unsigned nheld;
	struct mailbox box;
	struct rx_ring rx;
	atomic_uint ready;
	uint64_t worst_ns[LAB_CLASS_COUNT];
	uint64_t irq_delivered, irq_deferred, irq_coalesced;
	uint64_t foreign_tries;
};

static struct options opt = { 10, 0, 64, 64, 2000, 0 };
static struct lab_maze *maze;
static struct worker workers[MAX_WORKERS];
static atomic_bool stop;
static atomic_ulong reports[LAB_REPORT_KIND_COUNT];
static atomic_ulong stamp_errors, isr_allocs, isr_kept;

/* ---- helpers -------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Async-signal-safe: counts reports; the run fails on unexpected kinds. */
static void on_report(const struct lab_report *r, void *arg)
{
	(void)arg;
	atomic_fetch_add(&reports[r->kind], 1);
}

static void stamp_write(void *addr, unsigned worker, uint64_t seq)
{
	struct stamp *s = addr;

	s->magic = STAMP_MAGIC;
	s->worker = worker;
	s->seq = seq;
	s->addr = (uintptr_t)addr;
}

static void stamp_block(struct worker *w, void *addr)
{
	stamp_write(addr, w->idx, ++w->seq);
}

/* A stamp that is not ours-as-written means two owners had the frame. */
static void verify_stamp(const void *addr)
{
	const struct stamp *s = addr;

	if (s->magic != STAMP_MAGIC || s->addr != (uintptr_t)addr ||
	    s->worker >= MAX_WORKERS)
		atomic_fetch_add(&stamp_errors, 1);
}

static void free_block(struct block *b)
{
	verify_stamp(b->addr);
	if (lab_free_pages_addr(maze, b->addr, b->order))
		atomic_fetch_add(&stamp_errors, 1);
}

/* ---- interrupts ---------------------------------------------------------- */

static _Thread_local struct worker *self;

/* The interrupt service routine: runs in simulated hard-IRQ context on the
 * interrupted worker.  GFP_ATOMIC only; keeps some blocks (like receive
 * buffers) for process context, frees the rest at once. */
static void isr(void *arg)
{
	struct worker *w = self;
	void *p;
	unsigned head;

	(void)arg;
	if (!w)
		return;
	p = lab_get_free_pages(maze, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);
	if (!p)
		return;
	atomic_fetch_add_explicit(&isr_allocs, 1, memory_order_relaxed);
	stamp_write(p, w->idx, 0); /* seq 0: the ISR's own; w->seq is not */
	head = atomic_load_explicit(&w->rx.head, memory_order_relaxed);
	if (head - atomic_load_explicit(&w->rx.tail, memory_order_relaxed) <
	    RX_MAX) {
		w->rx.slot[head % RX_MAX] = p;
		atomic_store_explicit(&w->rx.head, head + 1,
				      memory_order_relaxed);
		atomic_fetch_add_explicit(&isr_kept, 1, memory_order_relaxed);
		return;
	}
	verify_stamp(p);
	lab_free_pages_addr(maze, p, 0);
}

static void on_signal(int sig)
{
	(void)sig;
	lab_irq_raise(isr, NULL);
}

/* Frees what interrupts kept; process context. */
static void drain_rx(struct worker *w)
{
	unsigned tail = atomic_load_explicit(&w->rx.tail, memory_order_relaxed);

	while (tail !=
	       atomic_load_explicit(&w->rx.head, memory_order_relaxed)) {
		void *p = w->rx.slot[tail % RX_MAX];

		verify_stamp(p);
		lab_free_pages_addr(maze, p, 0);
		atomic_store_explicit(&w->rx.tail, ++tail,
				      memory_order_relaxed);
	}
}

static void *irq_controller(void *arg)
{
	uint64_t rng = opt.seed ^ 0x1234;
	struct timespec gap = {
		0, opt.irq_rate ? (long)(1000000000ull / opt.irq_rate) : 0
	};

	(void)arg;
	while (opt.irq_rate && !atomic_load(&stop)) {
		struct worker *w = &workers[rng_next(&rng) % opt.threads];

		if (atomic_load(&w->ready))
			pthread_kill(w->thread, SIGUSR1);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

/* ---- worker operations ------------------------------------------------------ */

static lab_gfp_t pick_gfp(struct worker *w, bool *excl)
{
	static const lab_gfp_t classes[] = { LAB_GFP_KERNEL, LAB_GFP_NOWAIT,
					     LAB_GFP_ATOMIC };
	lab_gfp_t gfp = classes[rng_next(&w->rng) % 3] | LAB_GFP_NOWARN;

	*excl = rng_next(&w->rng) % 4 == 0;
	return *excl ? gfp | LAB_GFP_EXCLUSIVE : gfp;
}

static void op_alloc(struct worker *w)
{
	bool excl;
	lab_gfp_t gfp = pick_gfp(w, &excl);
	unsigned order = (unsigned)(rng_next(&w->rng) % 16 == 0 ?
					    rng_next(&w->rng) % 4 :
					    0);
	enum lab_gfp_class cls = lab_gfp_class(gfp);
	uint64_t t0 = now_ns(), dt;
	void *p = lab_get_free_pages(maze, gfp, order);

	dt = now_ns() - t0;
	if (cls != LAB_CLASS_KERNEL && dt > w->worst_ns[cls])
		w->worst_ns[cls] = dt;
	if (!p)
		return;
	stamp_block(w, p);
	w->held[w->nheld++] = (struct block){ p, order, excl };
}

static void op_free(struct worker *w)
{
	unsigned i = (unsigned)(rng_next(&w->rng) % w->nheld);

	free_block(&w->held[i]);
	w->held[i] = w->held[--w->nheld];
}

/* Hands a held block to another worker's mailbox (handing ownership over
 * first if exclusive); the receiver frees it. */
static void op_handoff(struct worker *w)
{
	unsigned i = (unsigned)(rng_next(&w->rng) % w->nheld);
	struct worker *to = &workers[rng_next(&w->rng) % opt.threads];
	struct block b = w->held[i];

	if (to == w)
		return;
	pthread_mutex_lock(&to->box.lock);
	if (to->box.n == MAILBOX_MAX) {
		pthread_mutex_unlock(&to->box.lock);
		return;
	}
	if (b.excl && lab_page_handoff(maze, lab_virt_to_page(maze, b.addr),
				       b.order, to->ctx_id)) {
		atomic_fetch_add(&stamp_errors, 1);
		pthread_mutex_unlock(&to->box.lock);
		return;
	}
	to->box.items[to->box.n++] = b;
	pthread_mutex_unlock(&to->box.lock);
	w->held[i] = w->held[--w->nheld];
}

static void take_mail(struct worker *w)
{
	pthread_mutex_lock(&w->box.lock);
	while (w->box.n)
		free_block(&w->box.items[--w->box.n]);
	pthread_mutex_unlock(&w->box.lock);
}

/* A deliberate foreign free: become another task and try to free one of
 * our exclusive blocks.  It must be refused (and reported). */
static void op_foreign_free(struct worker *w, struct lab_ctx *stranger)
{
	unsigned i;

	for (i = 0; i < w->nheld; i++) {
		struct lab_ctx *prev;
		int ret;

		if (!w->held[i].excl)
			continue;
		prev = lab_ctx_switch(stranger);
		ret = lab_free_pages_addr(maze, w->held[i].addr,
					  w->held[i].order);
		lab_ctx_switch(prev);
		w->foreign_tries++;
		if (ret != -EPERM)
			atomic_fetch_add(&stamp_errors, 1);
		return;
	}
}

/* A section with simulated IRQs off: interrupts arriving now are deferred
 * and run at restore; only non-blocking allocation is legal here. */
static void op_irqs_off(struct worker *w)
{
	unsigned long flags = lab_local_irq_save();
	void *p = lab_get_free_pages(maze, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0);
	struct timespec pause = { 0, 20000 };

	nanosleep(&pause, NULL); /* a window for signals to arrive */
	if (p) {
		stamp_block(w, p);
		verify_stamp(p);
		lab_free_pages_addr(maze, p, 0);
	}
	lab_local_irq_restore(flags);
}

static void worker_step(struct worker *w, struct lab_ctx *stranger)
{
	unsigned r = (unsigned)(rng_next(&w->rng) % 100);

	if (w->nheld == HELD_MAX || (w->nheld && r < 40))
		op_free(w);
	else if (w->nheld && r < 48)
		op_handoff(w);
	else if (r < 49)
		op_foreign_free(w, stranger);
	else if (r < 51)
		op_irqs_off(w);
	else
		op_alloc(w);
	if ((w->ops & 15) == 0) {
		take_mail(w);
		drain_rx(w);
	}
	w->ops++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lab_ctx *stranger = lab_ctx_create(0, "stranger");
	struct lab_irq_counts irq;

	self = w;
	w->ctx_id = lab_ctx_id();
	atomic_store(&w->ready, 1);
	while (!atomic_load(&stop))
		worker_step(w, stranger);
	atomic_store(&w->ready, 0);
	lab_irq_counts(&irq);
	w->irq_delivered = irq.delivered;
	w->irq_deferred = irq.deferred;
	w->irq_coalesced = irq.coalesced;
	lab_ctx_destroy(stranger);
	return NULL;
}

/* ---- setup, teardown, summary ---------------------------------------------- */

static int usage(const char *msg)
{
	fprintf(stderr,
		"lab_torture: %s\nusage: lab_torture [--seconds N] "
		"[--threads N] [--seed N] [--width N] [--height N] "
		"[--irq-rate N]\n",
		msg);
	return 2;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint64_t lo, hi;
	} lim[] = {
		{ "--seconds", 1, 86400 },   { "--threads", 1, MAX_WORKERS },
		{ "--seed", 0, UINT64_MAX }, { "--width", 8, 4096 },
		{ "--height", 8, 4096 },     { "--irq-rate", 0, 1000000 },
	};
	int i;

	for (i = 1; i < argc; i += 2) {
		unsigned k;
		uint64_t v;

		for (k = 0; k < sizeof(lim) / sizeof(lim[0]); k++)
			if (!strcmp(argv[i], lim[k].name))
				break;
		if (k == sizeof(lim) / sizeof(lim[0]))
			return usage("unknown option");
		if (parse_u64(argv[i + 1], lim[k].lo, lim[k].hi, &v)) {
			fprintf(stderr,
				"lab_torture: %s needs a number in "
				"[%" PRIu64 ", %" PRIu64 "]\n",
				argv[i], lim[k].lo, lim[k].hi);
			return 2;
		}
		switch (k) {
		case 0:
			opt.seconds = (unsigned)v;
			break;
		case 1:
			opt.threads = (unsigned)v;
			break;
		case 2:
			opt.seed = v;
			break;
		case 3:
			opt.width = (unsigned)v;
			break;
		case 4:
			opt.height = (unsigned)v;
			break;
		default:
			opt.irq_rate = (unsigned)v;
		}
	}
	return 0;
}

static void start_workers(void)
{
	unsigned i;

	/* Every mailbox exists before any worker may post to it. */
	for (i = 0; i < opt.threads; i++) {
		workers[i].idx = i;
		workers[i].rng = opt.seed + i * 0x1000193ull;
		pthread_mutex_init(&workers[i].box.lock, NULL);
	}
	for (i = 0; i < opt.threads; i++)
		pthread_create(&workers[i].thread, NULL, worker_main,
			       &workers[i]);
}

/* Joins everyone and frees what is left, so the maze must be whole. */
static void stop_and_clean(pthread_t irq_thread)
{
	unsigned i;

	atomic_store(&stop, 1);
	pthread_join(irq_thread, NULL);
	for (i = 0; i < opt.threads; i++)
		pthread_join(workers[i].thread, NULL);
	for (i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		while (w->nheld) {
			struct block *b = &w->held[--w->nheld];

			/* Exclusive blocks belong to the worker's context;
			 * hand them to us to free them here. */
			if (b->excl) {
				struct lab_ctx *c =
					lab_ctx_create(w->ctx_id, "cleanup");
				struct lab_ctx *prev = lab_ctx_switch(c);

				free_block(b);
				lab_ctx_switch(prev);
				lab_ctx_destroy(c);
			} else {
				free_block(b);
			}
		}
		drain_rx(w);
	}
	for (i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];
		struct lab_ctx *c = lab_ctx_create(w->ctx_id, "cleanup");
		struct lab_ctx *prev = lab_ctx_switch(c);

		take_mail(w);
		lab_ctx_switch(prev);
		lab_ctx_destroy(c);
	}
	lab_maze_drain_local(maze); /* our own cache took the frees above */
}

static bool summarize(void)
{
	struct lab_maze_stats st;
	uint64_t ops = 0, irq_d = 0, irq_def = 0, foreign = 0, allocs = 0;
	uint64_t worst[LAB_CLASS_COUNT] = { 0 };
	long problems = lab_maze_check(maze);
	bool ok;
	unsigned i, k;

	lab_maze_stats(maze, &st);
	for (i = 0; i < opt.threads; i++) {
		ops += workers[i].ops;
		irq_d += workers[i].irq_delivered;
		irq_def += workers[i].irq_deferred;
		foreign += workers[i].foreign_tries;
		for (k = 0; k < LAB_CLASS_COUNT; k++)
			if (workers[i].worst_ns[k] > worst[k])
				worst[k] = workers[i].worst_ns[k];
	}
	printf("\n== lab_torture summary (seed %" PRIu64 ") ==\n", opt.seed);
	printf("ops %" PRIu64 " (%.0f/s), threads %u, maze %ux%u\n", ops,
	       (double)ops / opt.seconds, opt.threads, opt.width, opt.height);
	for (k = 0; k < LAB_CLASS_COUNT; k++) {
		allocs += st.cls[k].successes;
		printf("  %-6s attempts %-9" PRIu64 " ok %-9" PRIu64
		       " failed %-7" PRIu64 " reserve-dips %-6" PRIu64
		       " waits %-5" PRIu64 " worst-latency %" PRIu64 " us\n",
		       lab_gfp_class_name(k), st.cls[k].attempts,
		       st.cls[k].successes, st.cls[k].failures,
		       st.cls[k].reserve_dips, st.cls[k].waits,
		       k == LAB_CLASS_KERNEL ? st.cls[k].wait_ns_max / 1000 :
					       worst[k] / 1000);
	}
	printf("interrupts delivered %" PRIu64 ", deferred %" PRIu64
	       ", isr allocations %lu (kept %lu)\n",
	       irq_d, irq_def, atomic_load(&isr_allocs),
	       atomic_load(&isr_kept));
	printf("foreign frees tried %" PRIu64
	       ", refused %lu; stamp errors %lu\n",
	       foreign, atomic_load(&reports[LAB_REPORT_FOREIGN_FREE]),
	       atomic_load(&stamp_errors));
	printf("allocations %" PRIu64 ", frees %" PRIu64
	       ", free frames %" PRIu64 "/%" PRIu64
	       ", maze check problems %ld\n",
	       allocs, st.frees, st.free_frames, st.frames, problems);
	ok = problems == 0 && atomic_load(&stamp_errors) == 0 &&
	     allocs == st.frees && st.free_frames == st.frames &&
	     atomic_load(&reports[LAB_REPORT_FOREIGN_FREE]) == foreign;
	for (k = 0; k < LAB_REPORT_KIND_COUNT; k++) {
		if (k == LAB_REPORT_FOREIGN_FREE || !atomic_load(&reports[k]))
			continue;
		printf("unexpected reports: %s x %lu\n",
		       lab_report_kind_name(k), atomic_load(&reports[k]));
		ok = false;
	}
	printf("RESULT: %s\n", ok ? "PASS" : "FAIL");
	return ok;
}

int main(int argc, char **argv)
{
	struct lab_maze_config cfg;
	struct sigaction sa;
	pthread_t irq_thread;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	opt.seed = (uint64_t)time(NULL);
	if ((ret = parse_args(argc, argv)))
		return ret;
	if (!opt.threads)
		opt.threads = ncpu < 2 ? 2 : (unsigned)ncpu;
	printf("lab_torture: seed %" PRIu64 ", %u threads, %u s, irq rate %u/s "
	       "(replay: lab_torture --seed %" PRIu64 " --threads %u "
	       "--seconds %u)\n",
	       opt.seed, opt.threads, opt.seconds, opt.irq_rate, opt.seed,
	       opt.threads, opt.seconds);
	lab_maze_config_init(&cfg, opt.width, opt.height);
	cfg.report = on_report;
	cfg.wait_timeout_ms = 5;
	cfg.reclaim_rounds = 2;
	if (lab_maze_create(&cfg, &maze)) {
		fprintf(stderr, "lab_torture: %s\n", lab_last_error());
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	start_workers();
	pthread_create(&irq_thread, NULL, irq_controller, NULL);
	sleep(opt.seconds);
	stop_and_clean(irq_thread);
	ret = summarize() ? 0 : 1;
	lab_maze_destroy(maze);
	return ret;
}
