/* bench_alloc.c - lab_bench: the backends side by side, in one run.
 *
 * Every shape runs on every backend at 1 and 2 threads (and N with
 * --threads N): the labyrinth allocator, the mutex-protected buddy baseline
 * and glibc malloc(page_size << order)/free as a third reference.  Shapes
 * follow the page-allocator literature (reference.md section 2):
 *
 *   repeat  order-0 alloc+free of one block in a loop     op = one pair
 *   bulk    allocate half the maze (order 0), free it all  op = alloc or free
 *   xfree   threads allocate batches, swap them through a
 *           shared array, free the other's in shuffled order  op = alloc or free
 *   mixed   random alloc/free of orders 0..4 in a window    op = alloc or free
 *
 * One instance per (shape, threads, backend): a warm-up round, then
 * --rounds timed rounds on fresh worker threads; the table shows the median
 * round.  Worker threads are used even for 1 thread so the labyrinth's
 * per-thread caches drain when they exit, and check() runs after joining,
 * at a quiescent point.  --smoke shrinks everything, stamps a word at both
 * ends of every block and checks it on free, and fails on any problem.
 */
#define _GNU_SOURCE /* pthread_barrier_t */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "labyrinth.h"

#define BENCH_GFP LAB_GFP_KERNEL
#define BENCH_MAX_THREADS 256u
#define BENCH_MAX_ROUNDS 1000u
#define BENCH_MIN_FRAMES 64u
#define BENCH_MIXED_ORDERS 5u		   /* orders 0..4 */
#define BENCH_COOKIE 0x6c61627972696e74ull /* "labyrint" */

struct bench_opts {
	unsigned width, height;
	unsigned rounds;
	unsigned long iters;
	unsigned threads; /* extra thread count besides 1 and 2; 0 = none */
	uint64_t seed;
	const char *shape; /* NULL = all */
	bool smoke, verify;
};

/* ---- PRNG: splitmix64 to seed, xorshift64* to draw ----------------------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t xorshift64s(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- glibc malloc as a backend ------------------------------------------ */

struct libc_inst {
	size_t page_size;
};

/* The page backends keep their memory mapped; glibc would hand freed heap
 * tops back to the kernel and fault them in again every round, so the
 * table would time page faults, not malloc.  Thread arenas still delete a
 * 64 MiB heap that empties (only M_ARENA_MAX=1 avoids that, at the price
 * of one lock for all threads), which the header says.  Called once,
 * before any round. */
static void libc_keep_memory(void)
{
#ifdef M_TRIM_THRESHOLD
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

static void *libc_create(const struct lab_maze_config *cfg)
{
	struct libc_inst *m = malloc(sizeof(*m));

	if (m)
		m->page_size = cfg->page_size ? cfg->page_size : 4096;
	return m;
}

static void *libc_alloc(void *inst, lab_gfp_t gfp, unsigned order)
{
	(void)gfp;
	return malloc(((struct libc_inst *)inst)->page_size << order);
}

static int libc_free(void *inst, void *addr, unsigned order)
{
	(void)inst;
	(void)order;
	free(addr);
	return 0;
}

static long libc_check(void *inst)
{
	(void)inst;
	return 0;
}

static int libc_stats(void *inst, struct lab_maze_stats *out)
{
	(void)inst;
	memset(out, 0, sizeof(*out));
	return 0;
}

static const struct lab_backend_ops libc_ops = {
	.name = "malloc",
	.create = libc_create,
	.alloc = libc_alloc,
	.free = libc_free,
	.check = libc_check,
	.stats = libc_stats,
	.destroy = free,
};

/* Table order is print order; the first two are the ratio baselines. */
enum { BK_MBUDDY, BK_MALLOC, BK_LABYRINTH, BK_COUNT };

struct bench_backend {
	const struct lab_backend_ops *ops;
	bool page_blocks; /* blocks are maze pages aligned to their size */
};

/* ---- one measurement: a shape on one instance with T threads ------------- */

struct run;
struct worker;

struct shape {
	const char *name;
	/* Timed part: returns the number of ops it did. */
	unsigned long (*body)(struct worker *w);
	/* Untimed clean-up after the body (frees what is still live). */
	void (*drain)(struct worker *w);
	/* Per-thread slots the shape needs for a maze of `frames`. */
	unsigned long (*slots)(uint64_t frames, unsigned threads);
};

struct run {
	const struct shape *shape;
	const struct bench_backend *bk;
	void *inst;
	size_t page_size;
	unsigned threads;
	unsigned long iters;  /* per thread */
	unsigned long nslots; /* per thread */
	void **slots;	      /* threads * nslots blocks */
	uint8_t *orders;      /* order of each slot (mixed) */
	uint32_t *perm;	      /* threads * nslots free order (xfree) */
	uint64_t seed;
	bool verify;
	pthread_barrier_t barrier;
	atomic_ulong fails; /* allocations that returned NULL */
	atomic_ulong bad;   /* stamps, alignment or free() results wrong */
};

struct worker {
	struct run *run;
	unsigned id;
	uint64_t rng;
	uint64_t t0, t1;
	unsigned long ops;
	pthread_t thread;
};

/* Two words, first and last of the block: an overlap or a short block
 * overwrites one of them before the block is freed. */
static void stamp_write(void *p, size_t bytes)
{
	uint64_t v = (uint64_t)(uintptr_t)p ^ BENCH_COOKIE;

	memcpy(p, &v, sizeof(v));
	memcpy((char *)p + bytes - sizeof(v), &v, sizeof(v));
}

static bool stamp_ok(const void *p, size_t bytes)
{
	uint64_t v = (uint64_t)(uintptr_t)p ^ BENCH_COOKIE, a, b;

	memcpy(&a, p, sizeof(a));
	memcpy(&b, (const char *)p + bytes - sizeof(b), sizeof(b));
	return a == v && b == v;
}

static void *bench_alloc(struct worker *w, unsigned order)
{
	struct run *r = w->run;
	size_t bytes = r->page_size << order;
	void *p = r->bk->ops->alloc(r->inst, BENCH_GFP, order);

	if (!p) {
		atomic_fetch_add_explicit(&r->fails, 1, memory_order_relaxed);
		return NULL;
	}
	if (r->verify) {
		if (r->bk->page_blocks && ((uintptr_t)p & (bytes - 1)))
			atomic_fetch_add_explicit(&r->bad, 1,
						  memory_order_relaxed);
		stamp_write(p, bytes);
	}
	return p;
}

static void bench_free(struct worker *w, void *p, unsigned order)
{
	struct run *r = w->run;
	bool good = true;

	if (!p)
		return;
	if (r->verify)
		good = stamp_ok(p, r->page_size << order);
	if (r->bk->ops->free(r->inst, p, order))
		good = false;
	if (!good)
		atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
}

/* ---- shapes ------------------------------------------------------------- */

static unsigned long repeat_body(struct worker *w)
{
	for (unsigned long i = 0; i < w->run->iters; i++)
		bench_free(w, bench_alloc(w, 0), 0);
	return w->run->iters;
}

static unsigned long no_slots(uint64_t frames, unsigned threads)
{
	(void)frames;
	(void)threads;
	return 1;
}

static unsigned long bulk_body(struct worker *w)
{
	struct run *r = w->run;
	void **mine = r->slots + (size_t)w->id * r->nslots;

	for (unsigned long i = 0; i < r->nslots; i++)
		mine[i] = bench_alloc(w, 0);
	for (unsigned long i = 0; i < r->nslots; i++)
		bench_free(w, mine[i], 0);
	return 2 * r->nslots;
}

/* Half the maze, split between the threads. */
static unsigned long bulk_slots(uint64_t frames, unsigned threads)
{
	uint64_t n = frames / 2 / threads;

	return n ? (unsigned long)n : 1;
}

/* Batches: allocate into my slots, wait, free my neighbour's slots in the
 * shuffled order perm[] fixed at setup (no PRNG in the timed loop), wait
 * so nobody refills a batch that is still being freed. */
static unsigned long xfree_body(struct worker *w)
{
	struct run *r = w->run;
	size_t n = r->nslots;
	void **mine = r->slots + w->id * n;
	void **theirs = r->slots + ((w->id + 1) % r->threads) * n;
	const uint32_t *perm = r->perm + w->id * n;
	unsigned long batches = r->iters / n ? r->iters / n : 1;

	for (unsigned long b = 0; b < batches; b++) {
		for (size_t i = 0; i < n; i++)
			mine[i] = bench_alloc(w, 0);
		pthread_barrier_wait(&r->barrier);
		for (size_t i = 0; i < n; i++)
			bench_free(w, theirs[perm[i]], 0);
		pthread_barrier_wait(&r->barrier);
	}
	return 2 * batches * n;
}

/* Batches of up to 1024 while all of them together stay within a quarter
 * of the maze, well above any watermark. */
static unsigned long xfree_slots(uint64_t frames, unsigned threads)
{
	uint64_t n = frames / 4 / threads;

	return n > 1024 ? 1024 : n ? (unsigned long)n : 1;
}

/* A window of slots: each step picks one at random and frees it if live,
 * else fills it with a block of a random order 0..4. */
static unsigned long mixed_body(struct worker *w)
{
	struct run *r = w->run;
	void **mine = r->slots + (size_t)w->id * r->nslots;
	uint8_t *orders = r->orders + (size_t)w->id * r->nslots;

	for (unsigned long i = 0; i < r->iters; i++) {
		uint64_t x = xorshift64s(&w->rng);
		size_t s = (size_t)(x % r->nslots);

		if (mine[s]) {
			bench_free(w, mine[s], orders[s]);
			mine[s] = NULL;
			continue;
		}
		orders[s] = (uint8_t)((x >> 32) % BENCH_MIXED_ORDERS);
		mine[s] = bench_alloc(w, orders[s]);
	}
	return r->iters;
}

static void mixed_drain(struct worker *w)
{
	struct run *r = w->run;
	void **mine = r->slots + (size_t)w->id * r->nslots;

	uint8_t *orders = r->orders + (size_t)w->id * r->nslots;

	for (unsigned long s = 0; s < r->nslots; s++) {
		bench_free(w, mine[s], orders[s]);
		mine[s] = NULL;
	}
}

/* Live blocks of up to 16 frames stay within half of the maze: an order-4
 * request always finds a free aligned run and clears the watermark. */
static unsigned long mixed_slots(uint64_t frames, unsigned threads)
{
	uint64_t n = frames / 32 / threads;

	return n > 256 ? 256 : n ? (unsigned long)n : 1;
}

static const struct shape shapes[] = {
	{ "repeat", repeat_body, NULL, no_slots },
	{ "bulk", bulk_body, NULL, bulk_slots },
	{ "xfree", xfree_body, NULL, xfree_slots },
	{ "mixed", mixed_body, mixed_drain, mixed_slots },
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* ---- running rounds ------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct shape *shape = w->run->shape;

	pthread_barrier_wait(&w->run->barrier);
	w->t0 = now_ns();
	w->ops = shape->body(w);
	w->t1 = now_ns();
	if (shape->drain)
		shape->drain(w);
	return NULL;
}

/* Runs one round on fresh threads; returns ns/op (wall time x threads /
 * ops: the cost of one op on one thread), or a negative value if a thread
 * could not be started. */
static double run_round(struct run *r, unsigned round)
{
	struct worker w[BENCH_MAX_THREADS];
	uint64_t t0 = UINT64_MAX, t1 = 0, ops = 0;
	unsigned started = 0;

	for (unsigned i = 0; i < r->threads; i++) {
		uint64_t s = r->seed ^ ((uint64_t)round << 32) ^ i;

		w[i] = (struct worker){ .run = r, .id = i };
		w[i].rng = splitmix64(&s) | 1;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			break;
		started++;
	}
	if (started < r->threads) {
		/* The barrier can never open; this is fatal for the run. */
		fprintf(stderr, "lab_bench: pthread_create failed\n");
		exit(1);
	}
	for (unsigned i = 0; i < r->threads; i++) {
		pthread_join(w[i].thread, NULL);
		t0 = w[i].t0 < t0 ? w[i].t0 : t0;
		t1 = w[i].t1 > t1 ? w[i].t1 : t1;
		ops += w[i].ops;
	}
	return ops ? (double)(t1 - t0) * r->threads / (double)ops : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A fixed random permutation per thread for xfree's shuffled frees. */
static void fill_perm(struct run *r)
{
	uint64_t s = r->seed ^ 0x5045524dull;

	for (unsigned t = 0; t < r->threads; t++) {
		uint32_t *p = r->perm + (size_t)t * r->nslots;

		for (unsigned long i = 0; i < r->nslots; i++)
			p[i] = (uint32_t)i;
		for (unsigned long i = r->nslots; i > 1; i--) {
			size_t j = (size_t)(splitmix64(&s) % i);
			uint32_t tmp = p[i - 1];

			p[i - 1] = p[j];
			p[j] = tmp;
		}
	}
}

static bool run_setup(struct run *r, uint64_t frames)
{
	size_t n;

	r->nslots = r->shape->slots(frames, r->threads);
	n = (size_t)r->threads * r->nslots;
	r->slots = calloc(n, sizeof(*r->slots));
	r->orders = calloc(n, sizeof(*r->orders));
	r->perm = calloc(n, sizeof(*r->perm));
	if (!r->slots || !r->orders || !r->perm ||
	    pthread_barrier_init(&r->barrier, NULL, r->threads)) {
		free(r->slots);
		free(r->orders);
		free(r->perm);
		return false;
	}
	fill_perm(r);
	return true;
}

static void run_teardown(struct run *r)
{
	pthread_barrier_destroy(&r->barrier);
	free(r->slots);
	free(r->orders);
	free(r->perm);
}

struct result {
	double ns_op; /* median over rounds */
	unsigned long fails, bad;
	long check; /* check() at the end */
	bool leak;  /* frames missing after the last round */
	bool ok;    /* instance created and rounds ran */
};

/* After the workers are joined, for page backends: every frame is back
 * (free, or in a cache that check() accounts for). */
static bool frames_leaked(const struct bench_backend *bk, void *inst)
{
	struct lab_maze_stats st;

	if (!bk->page_blocks)
		return false;
	if (bk->ops->stats(inst, &st))
		return true;
	return st.free_frames + st.cached_frames != st.frames;
}

static struct result measure(const struct bench_opts *o,
			     const struct shape *shape,
			     const struct bench_backend *bk, unsigned threads)
{
	struct lab_maze_config cfg;
	struct result res = { 0 };
	struct run r = { .shape = shape,
			 .bk = bk,
			 .threads = threads,
			 .iters = o->iters,
			 .seed = o->seed,
			 .verify = o->verify };
	double ns[BENCH_MAX_ROUNDS];

	lab_maze_config_init(&cfg, o->width, o->height);
	r.page_size = cfg.page_size ? cfg.page_size : LAB_PAGE_SIZE_DEFAULT;
	r.inst = bk->ops->create(&cfg);
	if (!r.inst) {
		fprintf(stderr, "lab_bench: %s: create failed: %s\n",
			bk->ops->name, lab_last_error());
		return res;
	}
	if (!run_setup(&r, (uint64_t)o->width * o->height)) {
		fprintf(stderr, "lab_bench: out of memory\n");
		bk->ops->destroy(r.inst);
		return res;
	}
	run_round(&r, 0); /* warm-up: first touch, thread caches */
	for (unsigned i = 0; i < o->rounds; i++)
		ns[i] = run_round(&r, i + 1);
	qsort(ns, o->rounds, sizeof(ns[0]), cmp_double);
	res.ns_op = ns[o->rounds / 2];
	res.fails = atomic_load(&r.fails);
	res.bad = atomic_load(&r.bad);
	res.check = bk->ops->check(r.inst);
	res.leak = frames_leaked(bk, r.inst);
	res.ok = true;
	run_teardown(&r);
	bk->ops->destroy(r.inst);
	return res;
}

/* ---- output ---------------------------------------------------------------- */

static void print_header(const struct bench_opts *o)
{
	uint64_t frames = (uint64_t)o->width * o->height;

	printf("lab_bench: labyrinth %s, %ld CPUs\n", lab_version(),
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("maze %ux%u = %" PRIu64 " frames of %u B (%" PRIu64
	       " MiB); gfp LAB_GFP_KERNEL (process context); rounds %u + 1 "
	       "warm-up; iters %lu; seed %" PRIu64 "%s\n",
	       o->width, o->height, frames, LAB_PAGE_SIZE_DEFAULT,
	       frames * LAB_PAGE_SIZE_DEFAULT >> 20, o->rounds, o->iters,
	       o->seed, o->verify ? "; blocks verified" : "");
	printf("malloc = glibc malloc(4096 << order)/free, heap trimming "
	       "off; its thread arenas still unmap emptied heaps,\n  so its "
	       "bulk rows include page faults (the page backends never "
	       "touch their pages)\n");
	printf("ns/op = median round's wall time x threads / ops (per-thread "
	       "cost); Mops/s = all threads together;\nvs-* = ns/op ratio to "
	       "that backend (< 1.00 = faster)\n\n");
	printf("%-7s %3s %-12s %10s %9s %10s %10s %s\n", "shape", "thr",
	       "backend", "ns/op", "Mops/s", "vs-mbuddy", "vs-malloc", "notes");
}

static void print_row(const struct shape *shape, unsigned threads,
		      const char *name, const struct result *res,
		      const struct result *base)
{
	printf("%-7s %3u %-12s ", shape->name, threads, name);
	if (!res->ok) {
		printf("%10s\n", "failed");
		return;
	}
	printf("%10.1f %9.2f", res->ns_op,
	       res->ns_op > 0 ? threads * 1e3 / res->ns_op : 0.0);
	for (unsigned b = BK_MBUDDY; b <= BK_MALLOC; b++) {
		if (base[b].ok && base[b].ns_op > 0)
			printf(" %10.2f", res->ns_op / base[b].ns_op);
		else
			printf(" %10s", "-");
	}
	if (res->fails)
		printf(" %lu alloc failures", res->fails);
	if (res->bad)
		printf(" %lu BAD BLOCKS", res->bad);
	if (res->check)
		printf(" CHECK %ld", res->check);
	if (res->leak)
		printf(" FRAMES LEAKED");
	printf("\n");
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lab_bench [--width W] [--height H] [--rounds N] "
		"[--iters N] [--threads N]\n"
		"                 [--seed N] [--shape repeat|bulk|xfree|mixed] "
		"[--verify] [--smoke]\n");
}

/* One line on stderr (fmt has one %s for arg) and exit status 2. */
static void bad_flag(const char *fmt, const char *arg)
{
	fprintf(stderr, "lab_bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

static uint64_t parse_num(const char *flag, const char *arg, uint64_t lo,
			  uint64_t hi)
{
	char *end;
	unsigned long long v;

	if (!arg)
		bad_flag("%s needs a value", flag);
	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
		fprintf(stderr,
			"lab_bench: %s: '%s' is not a number in %" PRIu64
			"..%" PRIu64 "\n",
			flag, arg, lo, hi);
		exit(2);
	}
	return v;
}

static const struct shape *find_shape(const char *name)
{
	for (size_t i = 0; i < NSHAPES; i++)
		if (!strcmp(shapes[i].name, name))
			return &shapes[i];
	return NULL;
}

static void parse_flag(struct bench_opts *o, const char *flag, const char *arg,
		       int *consumed)
{
	*consumed = 1;
	if (!strcmp(flag, "--width"))
		o->width = (unsigned)parse_num(flag, arg, 1, 1u << 16);
	else if (!strcmp(flag, "--height"))
		o->height = (unsigned)parse_num(flag, arg, 1, 1u << 16);
	else if (!strcmp(flag, "--rounds"))
		o->rounds = (unsigned)parse_num(flag, arg, 1, BENCH_MAX_ROUNDS);
	else if (!strcmp(flag, "--iters"))
		o->iters = (unsigned long)parse_num(flag, arg, 1, 1000000000);
	else if (!strcmp(flag, "--threads"))
		o->threads =
			(unsigned)parse_num(flag, arg, 1, BENCH_MAX_THREADS);
	else if (!strcmp(flag, "--seed"))
		o->seed = parse_num(flag, arg, 0, UINT64_MAX);
	else if (!strcmp(flag, "--shape")) {
		if (!arg || !find_shape(arg))
			bad_flag("--shape '%s' is not one of repeat, bulk, "
				 "xfree, mixed",
				 arg ? arg : "");
		o->shape = arg;
	} else {
		*consumed = 0;
		if (!strcmp(flag, "--smoke"))
			o->smoke = o->verify = true;
		else if (!strcmp(flag, "--verify"))
			o->verify = true;
		else if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
			usage(stdout);
			exit(0);
		} else
			bad_flag("unknown flag '%s'", flag);
	}
}

static void parse_args(struct bench_opts *o, int argc, char **argv)
{
	bool sized = false, iterated = false;

	for (int i = 1; i < argc; i++) {
		int consumed;

		sized |= !strcmp(argv[i], "--width") ||
			 !strcmp(argv[i], "--height");
		iterated |= !strcmp(argv[i], "--iters");
		parse_flag(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL,
			   &consumed);
		i += consumed;
	}
	if (o->smoke && !sized)
		o->width = o->height = 16;
	if (o->smoke && !iterated)
		o->iters = 2000;
	if ((uint64_t)o->width * o->height < BENCH_MIN_FRAMES ||
	    (uint64_t)o->width * o->height > LAB_FRAMES_LIMIT) {
		fprintf(stderr,
			"lab_bench: a %ux%u maze is outside %u..%lu "
			"frames\n",
			o->width, o->height, BENCH_MIN_FRAMES,
			LAB_FRAMES_LIMIT);
		exit(2);
	}
}

/* ---- main --------------------------------------------------------------------- */

/* 1, 2 and the --threads value, each once, ascending. */
static unsigned thread_counts(const struct bench_opts *o, unsigned out[3])
{
	unsigned n = 0;

	out[n++] = 1;
	out[n++] = 2;
	if (o->threads > 2)
		out[n++] = o->threads;
	return n;
}

static bool result_clean(const struct result *res, bool smoke)
{
	return res->ok && !res->bad && !res->check && !res->leak &&
	       !(smoke && res->fails);
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .width = 256,
				.height = 256,
				.rounds = 5,
				.iters = 200000,
				.seed = 1 };
	struct bench_backend bk[BK_COUNT] = {
		[BK_MBUDDY] = { &lab_backend_mutex_buddy, true },
		[BK_MALLOC] = { &libc_ops, false },
		[BK_LABYRINTH] = { &lab_backend_labyrinth, true },
	};
	unsigned tc[3], ntc;
	bool clean = true;

	parse_args(&o, argc, argv);
	libc_keep_memory();
	if (o.smoke)
		o.rounds = 1;
	ntc = thread_counts(&o, tc);
	print_header(&o);
	for (size_t s = 0; s < NSHAPES; s++) {
		if (o.shape && strcmp(o.shape, shapes[s].name))
			continue;
		for (unsigned t = 0; t < ntc; t++) {
			struct result res[BK_COUNT];

			for (unsigned b = 0; b < BK_COUNT; b++) {
				res[b] = measure(&o, &shapes[s], &bk[b], tc[t]);
				clean &= result_clean(&res[b], o.smoke);
			}
			for (unsigned b = 0; b < BK_COUNT; b++)
				print_row(&shapes[s], tc[t], bk[b].ops->name,
					  &res[b], res);
		}
	}
	if (!clean)
		fprintf(stderr,
			"lab_bench: FAILED: a block, free() result, "
			"check() or leak check was wrong (see notes)\n");
	else if (o.smoke)
		printf("\nsmoke: every block verified, every check() 0\n");
	return clean ? 0 : 1;
}
