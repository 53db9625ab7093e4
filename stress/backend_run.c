/* backend_run.c - free-running stress of any allocator in the backend
 * table (labyrinth/backend.h): `labyrinth stress --mode free --backend
 * NAME`.
 *
 * The full free-running mode (free_run.c) drives the labyrinth allocator
 * through its own API: execution contexts, simulated interrupts, exclusive
 * ownership.  A backend offers only create, alloc, free, check, stats and
 * destroy, so this mode keeps what applies to every page allocator:
 * pthreads allocating every class and order, a stamp (magic, thread,
 * serial) written into every block and verified before it is freed (two
 * owners of one block overwrite each other's stamp), cross-thread frees
 * through a shared pool, and at the end the backend's own check and the
 * conservation of frames.  No interrupts: a backend is not known to be
 * async-signal-safe.  Run it under TSan (labyrinth-tsan) for the races.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "stress.h"

#define LAB_BR_HELD 32
#define LAB_BR_POOL 256
#define LAB_BR_ORDER_MAX 3
#define LAB_BR_MAGIC 0x6c61627374616d70ull /* "labstamp" */

struct lab_br_stamp {
	uint64_t magic, serial;
	uint32_t thread, order;
};

struct lab_br_block {
	void *addr;
	unsigned order;
	uint64_t serial;
};

struct lab_br {
	const struct lab_opts *o;
	const struct lab_backend_ops *ops;
	void *inst;
	atomic_bool stop;
	atomic_ullong ops_done, allocs, failures;
	/* cross-thread frees: a block stamped by one thread, freed by another */
	pthread_mutex_t pool_lock;
	struct lab_br_block pool[LAB_BR_POOL];
	unsigned npool;
	/* the first finding */
	pthread_mutex_t found_lock;
	struct lab_finding first;
	atomic_uint nfound;
	unsigned captured_before; /* lab_capture_saved() at the start */
};

struct lab_br_worker {
	struct lab_br *br;
	unsigned idx;
	uint64_t rng, serial;
	struct lab_br_block held[LAB_BR_HELD];
	unsigned nheld;
	pthread_t thread;
};

static void lab_br_note(struct lab_br *br, int thread, const char *kind,
			const char *where, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void lab_br_note(struct lab_br *br, int thread, const char *kind,
			const char *where, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&br->nfound, 1))
		return; /* counted; the first one is kept */
	pthread_mutex_lock(&br->found_lock);
	snprintf(br->first.kind, sizeof(br->first.kind), "%s", kind);
	snprintf(br->first.where, sizeof(br->first.where), "%s", where);
	va_start(ap, fmt);
	vsnprintf(br->first.message, sizeof(br->first.message), fmt, ap);
	va_end(ap);
	br->first.thread = thread;
	br->first.step = atomic_load(&br->ops_done);
	pthread_mutex_unlock(&br->found_lock);
}

/* ---- blocks ---------------------------------------------------------------- */

static void lab_br_stamp(struct lab_br_worker *w, struct lab_br_block *b)
{
	struct lab_br_stamp s = { LAB_BR_MAGIC, b->serial, w->idx, b->order };

	memcpy(b->addr, &s, sizeof(s));
}

/* Frees b after checking that nobody else wrote its stamp. */
static void lab_br_free(struct lab_br_worker *w, const struct lab_br_block *b,
			const char *where)
{
	struct lab_br *br = w->br;
	struct lab_br_stamp s;
	int ret;

	memcpy(&s, b->addr, sizeof(s));
	if (s.magic != LAB_BR_MAGIC || s.serial != b->serial ||
	    s.order != b->order)
		lab_br_note(br, (int)w->idx, "stamp-mismatch", where,
			    "block %p (order %u) holds serial %" PRIu64
			    " of thread %u, expected serial %" PRIu64
			    ": another owner wrote it",
			    b->addr, b->order, s.serial, s.thread, b->serial);
	ret = br->ops->free(br->inst, b->addr, b->order);
	if (ret)
		lab_br_note(br, (int)w->idx, "free-refused", where,
			    "%s refused the free of %p order %u: %s",
			    br->ops->name, b->addr, b->order, strerror(-ret));
}

static void lab_br_alloc(struct lab_br_worker *w)
{
	static const lab_gfp_t classes[] = { LAB_GFP_KERNEL, LAB_GFP_NOWAIT,
					     LAB_GFP_ATOMIC };
	struct lab_br *br = w->br;
	uint64_t r = lab_splitmix(&w->rng);
	struct lab_br_block b;

	b.order = (unsigned)(r % (LAB_BR_ORDER_MAX + 1));
	b.addr = br->ops->alloc(
		br->inst, classes[(r >> 8) % 3] | LAB_GFP_NOWARN, b.order);
	atomic_fetch_add_explicit(&br->allocs, 1, memory_order_relaxed);
	if (!b.addr) {
		atomic_fetch_add_explicit(&br->failures, 1,
					  memory_order_relaxed);
		return;
	}
	b.serial = ((uint64_t)w->idx << 48) | ++w->serial;
	lab_br_stamp(w, &b);
	w->held[w->nheld++] = b;
}

/* Hands the last held block to the pool, or frees one from the pool:
 * cross-thread frees, the case most allocators get wrong. */
static void lab_br_exchange(struct lab_br_worker *w)
{
	struct lab_br *br = w->br;
	struct lab_br_block b;
	bool give = w->nheld && (lab_splitmix(&w->rng) & 1);

	pthread_mutex_lock(&br->pool_lock);
	if (give && br->npool < LAB_BR_POOL) {
		br->pool[br->npool++] = w->held[--w->nheld];
		give = false;
		pthread_mutex_unlock(&br->pool_lock);
		return;
	}
	if (!br->npool) {
		pthread_mutex_unlock(&br->pool_lock);
		return;
	}
	b = br->pool[--br->npool];
	pthread_mutex_unlock(&br->pool_lock);
	lab_br_free(w, &b, "backend:cross-free");
}

static void lab_br_step(struct lab_br_worker *w)
{
	unsigned r = (unsigned)(lab_splitmix(&w->rng) % 100);

	if (r < 45 && w->nheld < LAB_BR_HELD) {
		lab_br_alloc(w);
	} else if (r < 85 && w->nheld) {
		unsigned i = (unsigned)(lab_splitmix(&w->rng) % w->nheld);
		struct lab_br_block b = w->held[i];

		w->held[i] = w->held[--w->nheld];
		lab_br_free(w, &b, "backend:free");
	} else {
		lab_br_exchange(w);
	}
	atomic_fetch_add_explicit(&w->br->ops_done, 1, memory_order_relaxed);
}

/* A finding of the checks, or a sanitizer report (which, under TSan
 * with halt_on_error=0, the run saves at its end). */
static bool lab_br_found_any(const struct lab_br *br)
{
	return atomic_load(&br->nfound) || lab_capture_current()->reports;
}

static void *lab_br_worker_main(void *arg)
{
	struct lab_br_worker *w = arg;
	struct lab_br *br = w->br;

	while (!atomic_load_explicit(&br->stop, memory_order_relaxed) &&
	       !(br->o->first && lab_br_found_any(br)))
		lab_br_step(w);
	while (w->nheld) {
		struct lab_br_block b = w->held[--w->nheld];

		lab_br_free(w, &b, "backend:free");
	}
	return NULL;
}

/* ---- the run ----------------------------------------------------------------- */

static bool lab_br_over(const struct lab_br *br, uint64_t t0)
{
	double t = (double)(lab_now_ns() - t0) / 1e9;

	return (br->o->seconds > 0 && t >= br->o->seconds) ||
	       (br->o->ops && atomic_load(&br->ops_done) >= br->o->ops) ||
	       lab_stop_requested() || (br->o->first && lab_br_found_any(br));
}

/* Main samples the run's series every half second until it is over. */
static void lab_br_watch(struct lab_br *br)
{
	uint64_t t0 = lab_now_ns(), last = 0, next = 500000000ull;
	struct timespec tick = { 0, 10000000 };

	while (!lab_br_over(br, t0)) {
		nanosleep(&tick, NULL);
		if (lab_now_ns() - t0 < next)
			continue;
		lab_runlog_sample("ops/s",
				  (double)(atomic_load(&br->ops_done) - last) *
					  2.0);
		lab_runlog_sample("alloc failures",
				  (double)atomic_load(&br->failures));
		last = atomic_load(&br->ops_done);
		next += 500000000ull;
	}
	atomic_store(&br->stop, true);
}

/* Pool leftovers, the backend's own check, frames conserved. */
static void lab_br_final(struct lab_br *br, struct lab_br_worker *w0)
{
	struct lab_maze_stats st;
	long problems;

	while (br->npool) {
		struct lab_br_block b = br->pool[--br->npool];

		lab_br_free(w0, &b, "backend:cross-free");
	}
	problems = br->ops->check ? br->ops->check(br->inst) : 0;
	if (problems)
		lab_br_note(br, -1, "inconsistent", "final-check",
			    "%s check after the run: %ld problem(s)",
			    br->ops->name, problems);
	memset(&st, 0, sizeof(st));
	if (br->ops->stats && !br->ops->stats(br->inst, &st) && st.frames &&
	    st.free_frames != st.frames)
		lab_br_note(br, -1, "not-conserved", "final-check",
			    "%" PRIu64 " of %" PRIu64
			    " frames free after every block was freed",
			    st.free_frames, st.frames);
}

static int lab_br_start(struct lab_br *br, struct lab_br_worker *w)
{
	unsigned i;

	for (i = 0; i < br->o->threads; i++) {
		w[i].br = br;
		w[i].idx = i;
		w[i].rng = br->o->seed ^ (0x9e3779b97f4a7c15ull * (i + 1));
		if (pthread_create(&w[i].thread, NULL, lab_br_worker_main,
				   &w[i])) {
			atomic_store(&br->stop, true);
			while (i--)
				pthread_join(w[i].thread, NULL);
			return -1;
		}
	}
	return 0;
}

static void lab_br_save(struct lab_br *br)
{
	struct lab_artifact a;
	struct lab_rec r;

	memset(&a, 0, sizeof(a));
	a.opts = *br->o;
	snprintf(a.build, sizeof(a.build), "%s", lab_version());
	a.finding = br->first;
	lab_runlog_rec_init(&r, br->first.kind);
	lab_rec_add_op(&r, br->first.where);
	lab_finding_save(&a, &r, br->o->out_dir, NULL, 0);
}

static int lab_br_finish(struct lab_br *br, double seconds)
{
	unsigned n = atomic_load(&br->nfound);
	char detail[256];

	n += lab_runlog_save_captured(br->o, br->captured_before);
	printf("backend %s: %" PRIu64 " ops in %.1f s (%.0f/s), %" PRIu64
	       " allocations, %" PRIu64 " failed\n",
	       br->ops->name, (uint64_t)atomic_load(&br->ops_done), seconds,
	       seconds > 0 ? (double)atomic_load(&br->ops_done) / seconds : 0.0,
	       (uint64_t)atomic_load(&br->allocs),
	       (uint64_t)atomic_load(&br->failures));
	if (n)
		lab_br_save(br);
	printf("findings: %u\nRESULT: %s\n", n, lab_runlog_result(n));
	snprintf(detail, sizeof(detail),
		 "backend %s, %u thread%s, %.1f s, %" PRIu64 " ops",
		 br->ops->name, br->o->threads, lab_plural(br->o->threads),
		 seconds, (uint64_t)atomic_load(&br->ops_done));
	lab_runlog_end(n ? "fail" : "pass", detail, br->o->out_dir);
	return (int)n;
}

int lab_backend_run(const struct lab_opts *o, const struct lab_backend_ops *ops,
		    struct lab_finding *first)
{
	struct lab_br *br = calloc(1, sizeof(*br));
	struct lab_br_worker *w = calloc(o->threads, sizeof(*w));
	struct lab_maze_config cfg;
	uint64_t t0;
	unsigned i;
	int ret = -1;

	lab_maze_config_init(&cfg, o->width, o->height);
	if (!br || !w || !(br->inst = ops->create(&cfg))) {
		fprintf(stderr, "labyrinth: backend %s: cannot create: %s\n",
			ops->name, lab_last_error());
		goto out;
	}
	br->o = o;
	br->ops = ops;
	br->first.thread = -1;
	pthread_mutex_init(&br->pool_lock, NULL);
	pthread_mutex_init(&br->found_lock, NULL);
	printf("backend: %s, seed %" PRIu64 ", %u thread%s, maze %ux%u, "
	       "%.1f s, orders 0..%u, no interrupts\n",
	       ops->name, o->seed, o->threads, lab_plural(o->threads), o->width,
	       o->height, o->seconds, LAB_BR_ORDER_MAX);
	lab_runlog_begin(o, "stress-backend");
	br->captured_before = lab_capture_saved();
	lab_capture_install(NULL); /* this run's reports only */
	t0 = lab_now_ns();
	if (!lab_br_start(br, w)) {
		lab_br_watch(br);
		for (i = 0; i < o->threads; i++)
			pthread_join(w[i].thread, NULL);
		lab_br_final(br, &w[0]);
		ret = lab_br_finish(br, (double)(lab_now_ns() - t0) / 1e9);
		if (first)
			*first = br->first;
	}
	ops->destroy(br->inst);
out:
	free(w);
	free(br);
	return ret;
}
