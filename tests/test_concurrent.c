/* labels: mt
 *
 * test_concurrent.c - threads allocate, hand over and free across threads.
 *
 * Rules (maze.h): allocation and free are thread-safe with any mix of
 * orders and classes; a block allocated on one thread can be freed on
 * another; an EXCLUSIVE block handed off (lab_page_handoff) belongs to
 * its new owner, who may touch and free it; interrupts on any thread can
 * allocate.  No block is ever given to two users: each is stamped with its
 * producer and sequence number and checked before it is freed.  At the
 * end every frame is back (caches of exited threads included), the
 * whole-maze check is clean and the counters are conserved: successes over
 * all classes equal frees.
 *
 * Shape: THREADS threads in a ring; thread i allocates and passes blocks
 * to thread i+1 through a single-producer single-consumer queue, and frees
 * what thread i-1 passes to it.  About 1 s under every sanitizer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

#define THREADS 4
#define RING 64
#define RUN_MS 600
#define MIN_PRODUCED 600 /* per worker: > 1000 in all after failures */
#define MAGIC 0x6c61627972696e74ull /* "labyrint" */

struct entry {
	struct lab_page *pg;
	unsigned order;
	bool excl;
	uint32_t producer;
	uint64_t seq;
};

/* SPSC queue: the producer publishes an entry with a release store of
 * tail, the consumer frees the slot with a release store of head. */
struct ring {
	atomic_uint head, tail;
	struct entry e[RING];
};

struct worker {
	unsigned idx;
	uint64_t seed;
	uint32_t ctx_id;
	atomic_bool producing_done;
	struct ring *in, *out;
	struct worker *upstream, *downstream;
	uint64_t produced, consumed, local, irqs, failed;
};

static struct lab_maze *maze;
static struct capture cap;
static pthread_barrier_t start;
static uint64_t deadline_ns;

static bool ring_push(struct ring *r, const struct entry *e)
{
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head == RING)
		return false;
	r->e[tail % RING] = *e;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

static bool ring_pop(struct ring *r, struct entry *e)
{
	unsigned head = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head == tail)
		return false;
	*e = r->e[head % RING];
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

static bool ring_full(struct ring *r)
{
	return atomic_load(&r->tail) - atomic_load(&r->head) == RING;
}

static size_t block_bytes(unsigned order)
{
	return lab_maze_page_size(maze) << order;
}

/* Writes the stamp at both ends of the block. */
static void stamp(void *addr, const struct entry *e)
{
	uint64_t *w = addr;
	uint64_t *last = (uint64_t *)((char *)addr + block_bytes(e->order)) - 1;

	w[0] = MAGIC ^ ((uint64_t)e->producer << 32) ^ e->seq;
	w[1] = e->seq;
	*last = ~e->seq;
}

static void verify_stamp(const void *addr, const struct entry *e)
{
	const uint64_t *w = addr;
	const uint64_t *last =
		(const uint64_t *)((const char *)addr + block_bytes(e->order)) -
		1;

	CHECK_EQ_U64(w[0], MAGIC ^ ((uint64_t)e->producer << 32) ^ e->seq);
	CHECK_EQ_U64(w[1], e->seq);
	CHECK_EQ_U64(*last, ~e->seq);
}

static const lab_gfp_t classes[] = { LAB_GFP_NOWAIT, LAB_GFP_ATOMIC,
				     LAB_GFP_KERNEL };

/* Allocates one block of random order and class, maybe EXCLUSIVE; NULL
 * entry page when the maze refuses (rare, counted). */
static struct entry produce_one(struct worker *w, uint64_t *rng)
{
	struct entry e = { 0 };
	lab_gfp_t gfp = classes[rng_below(rng, 3)] | LAB_GFP_NOWARN;

	e.order = (unsigned)rng_below(rng, 4);
	e.excl = rng_below(rng, 3) == 0;
	e.producer = w->ctx_id;
	e.seq = ++w->produced;
	if (e.excl)
		gfp |= LAB_GFP_EXCLUSIVE;
	e.pg = lab_alloc_pages(maze, gfp, e.order);
	if (!e.pg) {
		w->failed++;
		return e;
	}
	stamp(lab_page_address(maze, e.pg), &e);
	return e;
}

/* Passes a block on: an EXCLUSIVE one is handed to the consumer first. */
static void pass_on(struct worker *w, const struct entry *e)
{
	if (e->excl) {
		CHECK_EQ_U64(lab_page_owner(maze, e->pg), w->ctx_id);
		CHECK_EQ_INT(lab_page_handoff(maze, e->pg, e->order,
					      w->downstream->ctx_id),
			     0);
	}
	CHECK(ring_push(w->out, e));
}

/* Checks a block we were given and frees it. */
static void consume_one(struct worker *w, const struct entry *e)
{
	void *addr = lab_page_address(maze, e->pg);

	CHECK(addr != NULL);
	CHECK_EQ_U64(lab_page_owner(maze, e->pg), e->excl ? w->ctx_id : 0);
	verify_stamp(addr, e);
	CHECK_EQ_INT(lab_free_pages(maze, e->pg, e->order), 0);
	w->consumed++;
}

/* An interrupt on this thread: GFP_ATOMIC alloc, touch, free. */
static void isr_alloc(void *arg)
{
	struct worker *w = arg;
	struct lab_page *pg =
		lab_alloc_pages(maze, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);

	if (!pg)
		return;
	memset(lab_page_address(maze, pg), 0x5c, 64);
	if (lab_free_pages(maze, pg, 0) == 0)
		w->irqs++;
}

static void produce_step(struct worker *w, uint64_t *rng)
{
	struct entry e = produce_one(w, rng);

	if (!e.pg)
		return;
	if (rng_below(rng, 4) == 0) { /* keep it: freed by ourselves */
		consume_one(w, &e);
		w->local++;
		return;
	}
	pass_on(w, &e);
	if (rng_below(rng, 16) == 0)
		lab_irq_raise(isr_alloc, w);
}

static void drain_in(struct worker *w)
{
	struct entry e;

	while (ring_pop(w->in, &e))
		consume_one(w, &e);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = w->seed;

	w->ctx_id = lab_ctx_id();
	pthread_barrier_wait(&start); /* every ctx_id is published */
	/* At least MIN_PRODUCED per worker however slow the machine is: the
	 * run is bounded by work, the deadline only adds more. */
	while (now_ns() < deadline_ns || w->produced < MIN_PRODUCED) {
		drain_in(w);
		if (ring_full(w->out))
			sched_yield();
		else
			produce_step(w, &rng);
	}
	atomic_store(&w->producing_done, true);
	for (;;) {
		bool upstream_done = atomic_load(&w->upstream->producing_done);

		drain_in(w);
		if (upstream_done &&
		    atomic_load(&w->in->tail) == atomic_load(&w->in->head))
			break;
		sched_yield();
	}
	return NULL;
}

static void run_workers(struct worker *w, uint64_t seed)
{
	static struct ring rings[THREADS];
	pthread_t t[THREADS];
	unsigned i;

	memset(rings, 0, sizeof(rings));
	CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
	deadline_ns = now_ns() + RUN_MS * 1000000ull;
	for (i = 0; i < THREADS; i++) {
		w[i].idx = i;
		w[i].seed = seed + i * 0x1234567ull;
		w[i].out = &rings[i];
		w[i].in = &rings[(i + THREADS - 1) % THREADS];
		w[i].downstream = &w[(i + 1) % THREADS];
		w[i].upstream = &w[(i + THREADS - 1) % THREADS];
	}
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	pthread_barrier_destroy(&start);
}

/* The ring of producers and consumers, then the accounting. */
static void test_cross_thread_ring(void)
{
	struct lab_maze_config cfg;
	struct worker w[THREADS];
	struct lab_maze_stats s;
	uint64_t produced = 0, consumed = 0, successes = 0, irqs = 0;
	unsigned i, c;

	memset(w, 0, sizeof(w));
	lab_maze_config_init(&cfg, 64, 64);
	cfg.max_order = 3;
	cfg.reclaim_rounds = 1;
	cfg.wait_timeout_ms = 5;
	cfg.report = cap_hook;
	cfg.report_arg = &cap;
	maze = maze_from(&cfg);
	run_workers(w, test_seed("test_cross_thread_ring"));
	for (i = 0; i < THREADS; i++) {
		produced += w[i].produced - w[i].failed;
		consumed += w[i].consumed;
		irqs += w[i].irqs;
	}
	printf("  %" PRIu64 " blocks, %" PRIu64 " interrupts\n", produced,
	       irqs);
	CHECK(produced > 1000);
	CHECK_EQ_U64(consumed, produced);
	s = stats_of(maze);
	for (c = 0; c < LAB_CLASS_COUNT; c++)
		successes += s.cls[c].successes;
	CHECK_EQ_U64(successes, produced + irqs);
	CHECK_EQ_U64(successes, s.frees);
	CHECK_EQ_U64(s.cached_frames, 0); /* exited threads gave theirs back */
	CHECK_EQ_U64(s.free_frames, s.frames);
	CHECK_EQ_INT(lab_maze_check(maze), 0);
	CHECK_EQ_U64(cap_total(&cap), 0);
	lab_maze_destroy(maze);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_cross_thread_ring);
	return 0;
}
