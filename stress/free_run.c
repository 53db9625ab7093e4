/* free_run.c - lab_free_run: the free-running mode.
 *
 * N worker pthreads hammer one maze with the profile's operations
 * (free_work.c) while an interrupt-controller thread sends SIGUSR1 to
 * random workers at the interrupt rate; each signal becomes a simulated
 * interrupt on the worker it hits.  Main watches: it samples the maze's
 * free level, prints progress, and stops everything at the time or
 * operation limit.
 *
 * Stopping is in steps, so that the end state is exact: the controller is
 * joined (no more signals), workers block the signal and meet main at a
 * barrier, main snapshots the maze as the workers left it (fragmentation,
 * held frames), and then every worker frees what it holds in its own
 * context (it owns its exclusive blocks).  After the joins main frees the
 * pool and its own cache, and the final checks run on a quiescent maze:
 * lab_maze_check() == 0, every frame free, successes == frees, the
 * non-blocking classes never waited, every deliberate misuse refused and
 * reported.  Anything else is a finding; the first one is saved as an
 * artifact that replays as a re-run with the same seed and options.
 */
#define _GNU_SOURCE /* pthread_kill, clock_nanosleep, sigaction */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "free_run.h"

#define LAB_FR_TICK_NS 10000000ull    /* main samples the maze */
#define LAB_FR_LIVE_NS 250000000ull   /* live progress line */
#define LAB_FR_PLAIN_NS 5000000000ull /* plain progress line */
#define LAB_FR_SERIES_NS 500000000ull /* a point of the run's series */
#define LAB_FR_BACKLOG_NS 50000000ull /* interrupts dropped if late */
#define LAB_FR_WAIT_TIMEOUT_MS 5      /* GFP_KERNEL wait per round */
#define LAB_FR_RECLAIM_ROUNDS 2

/* The interrupt controller thread. */
struct lab_fr_ctl {
	struct lab_fr *fr;
	pthread_t thread;
	bool running;
	unsigned rate; /* signals per second */
	atomic_ullong sent;
};

/* What main saw while the workers ran, and the signal state to restore. */
struct lab_fr_watch {
	uint64_t t0, elapsed_ns;
	uint64_t series_next, series_ops; /* run series: next point, ops */
	uint64_t samples, below_low, below_min, lowest_free;
	/* the watcher's own longest stall: how much later than its tick it
	 * woke (a stopped process or a starved machine stalls every thread;
	 * a latency that long is not the allocator's) */
	uint64_t stall_ns;
	bool live;
	struct lab_maze_stats at_stop;
	struct sigaction old_action;
	sigset_t old_mask;
};

/* Sums over the workers (worst latencies: the maximum). */
struct lab_fr_totals {
	struct lab_fr_counts c;
	struct lab_fr_isr_counts isr;
	uint64_t ops, foreign;
};

/* ---- set-up and teardown ---------------------------------------------------------- */

static int lab_fr_fail(const char *what, const char *why)
{
	fprintf(stderr, "labyrinth: free: %s: %s\n", what, why);
	return -1;
}

static int lab_fr_check_opts(const struct lab_opts *o)
{
	if (!lab_fr_profile_find(o->profile))
		return lab_fr_fail("--profile", "unknown profile");
	if (o->threads < 1 || o->threads > LAB_MAX_THREADS)
		return lab_fr_fail("--threads", "out of range");
	if (o->seconds <= 0 && !o->ops)
		return lab_fr_fail("limits",
				   "needs --seconds or --ops (both are 0)");
	if (lab_bug_select(o->bug))
		return lab_fr_fail("--bug", lab_last_error());
	return 0;
}

static int lab_fr_make_maze(struct lab_fr *fr)
{
	struct lab_maze_config cfg;

	lab_maze_config_init(&cfg, fr->o->width, fr->o->height);
	cfg.report = lab_fr_on_report;
	cfg.report_arg = fr;
	/* Short waits and few rounds: a GFP_KERNEL allocation that cannot be
	 * served must not stall a worker for long (default 16 x 100 ms). */
	cfg.wait_timeout_ms = LAB_FR_WAIT_TIMEOUT_MS;
	cfg.reclaim_rounds = LAB_FR_RECLAIM_ROUNDS;
	if (fr->prof->pool) {
		cfg.reclaim = lab_fr_reclaim;
		cfg.reclaim_arg = fr;
	}
	if (lab_maze_create(&cfg, &fr->maze))
		return lab_fr_fail("maze", lab_last_error());
	fr->page_size = lab_maze_page_size(fr->maze);
	return 0;
}

/* The pressure profile lets workers hold half the maze between them. */
static unsigned lab_fr_held_max(const struct lab_fr *fr)
{
	uint64_t share = lab_maze_frames(fr->maze) / (4 * fr->nworkers);

	if (!fr->prof->pool || share < LAB_FR_HELD_MIN)
		return LAB_FR_HELD_MIN;
	return share > 65536 ? 65536 : (unsigned)share;
}

static int lab_fr_make_workers(struct lab_fr *fr)
{
	const struct lab_opts *o = fr->o;
	unsigned i, held_max;

	fr->nworkers = o->threads;
	fr->w = calloc(fr->nworkers, sizeof(*fr->w));
	if (!fr->w)
		return lab_fr_fail("workers", strerror(ENOMEM));
	held_max = lab_fr_held_max(fr);
	for (i = 0; i < fr->nworkers; i++) {
		struct lab_fr_worker *w = &fr->w[i];
		uint64_t st = o->seed + i * 0x100000001b3ull;

		w->fr = fr;
		w->idx = i;
		w->rng = lab_splitmix(&st);
		w->isr.rng = lab_splitmix(&st);
		w->quota = o->ops ? o->ops / fr->nworkers +
					    (i < o->ops % fr->nworkers) :
				    UINT64_MAX;
		w->held_max = held_max;
		w->held = calloc(held_max, sizeof(*w->held));
		pthread_mutex_init(&w->box.lock, NULL);
		if (!w->held)
			return lab_fr_fail("workers", strerror(ENOMEM));
	}
	return 0;
}

static int lab_fr_make_pool(struct lab_fr *fr)
{
	struct lab_fr_pool *p = &fr->pool;

	pthread_mutex_init(&p->lock, NULL);
	if (!fr->prof->pool)
		return 0;
	p->cap = lab_maze_frames(fr->maze);
	p->item = calloc(p->cap, sizeof(*p->item));
	return p->item ? 0 : lab_fr_fail("pool", strerror(ENOMEM));
}

static void lab_fr_destroy(struct lab_fr *fr)
{
	unsigned i;

	lab_fr_extra_destroy(fr);
	for (i = 0; fr->w && i < fr->nworkers; i++) {
		free(fr->w[i].held);
		pthread_mutex_destroy(&fr->w[i].box.lock);
	}
	free(fr->w);
	free(fr->pool.item);
	pthread_mutex_destroy(&fr->pool.lock);
	lab_maze_destroy(fr->maze);
	lab_bug_select("none");
	free(fr);
}

static struct lab_fr *lab_fr_create(const struct lab_opts *o)
{
	struct lab_fr *fr;

	if (lab_fr_check_opts(o))
		return NULL;
	fr = calloc(1, sizeof(*fr));
	if (!fr) {
		lab_fr_fail("set-up", strerror(ENOMEM));
		return NULL;
	}
	fr->o = o;
	fr->prof = lab_fr_profile_find(o->profile);
	if (lab_fr_make_maze(fr) || lab_fr_make_workers(fr) ||
	    lab_fr_make_pool(fr) || lab_fr_extra_create(fr)) {
		lab_fr_destroy(fr);
		return NULL;
	}
	return fr;
}

/* ---- the interrupt controller ------------------------------------------------------- */

static void lab_fr_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { (time_t)(t_ns / 1000000000ull),
			       (long)(t_ns % 1000000000ull) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Sends SIGUSR1 to a random ready worker every 1/rate seconds, catching
 * up after oversleeping (at most LAB_FR_BACKLOG_NS worth). */
static void *lab_fr_controller(void *arg)
{
	struct lab_fr_ctl *ctl = arg;
	struct lab_fr *fr = ctl->fr;
	uint64_t rng = fr->o->seed ^ 0x1badc0ffeeull;
	uint64_t period = 1000000000ull / ctl->rate, next = lab_now_ns();

	while (!atomic_load(&fr->stop)) {
		struct lab_fr_worker *w =
			&fr->w[lab_splitmix(&rng) % fr->nworkers];
		uint64_t now;

		if (atomic_load(&w->ready) && !pthread_kill(w->thread, SIGUSR1))
			atomic_fetch_add_explicit(&ctl->sent, 1,
						  memory_order_relaxed);
		next += period;
		now = lab_now_ns();
		if (now > next + LAB_FR_BACKLOG_NS)
			next = now;
		if (next > now)
			lab_fr_sleep_until(next);
	}
	return NULL;
}

/* ---- start, watch, stop --------------------------------------------------------------- */

/* SIGUSR1 reaches workers only: main (and the controller, which inherits
 * main's mask) block it; workers unblock it themselves. */
static void lab_fr_signals_on(struct lab_fr_watch *wt)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_fr_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &wt->old_action);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &wt->old_mask);
}

static void lab_fr_signals_off(const struct lab_fr_watch *wt)
{
	sigaction(SIGUSR1, &wt->old_action, NULL);
	pthread_sigmask(SIG_SETMASK, &wt->old_mask, NULL);
}

static int lab_fr_start(struct lab_fr *fr, struct lab_fr_ctl *ctl)
{
	unsigned i, n = fr->nworkers;

	lab_fr_set_current(fr);
	for (i = 0; i < n; i++) {
		if (pthread_create(&fr->w[i].thread, NULL, lab_fr_worker_main,
				   &fr->w[i]))
			break;
		/* named, so a test can signal a worker by its tid */
		pthread_setname_np(fr->w[i].thread, "lab-worker");
	}
	if (i < n) {
		atomic_store(&fr->go, -1);
		while (i--)
			pthread_join(fr->w[i].thread, NULL);
		return lab_fr_fail("threads", "cannot create worker threads");
	}
	if (fr->o->delays)
		lab_fr_delays(fr, true);
	pthread_barrier_init(&fr->started, NULL, n);
	pthread_barrier_init(&fr->stopped, NULL, n + 1);
	pthread_barrier_init(&fr->snapped, NULL, n + 1);
	atomic_store(&fr->go, 1);
	ctl->fr = fr;
	ctl->rate = fr->o->irq_rate * fr->prof->irq_mult;
	ctl->running = ctl->rate && !pthread_create(&ctl->thread, NULL,
						    lab_fr_controller, ctl);
	if (ctl->running)
		pthread_setname_np(ctl->thread, "lab-irq");
	if (ctl->rate && !ctl->running)
		fprintf(stderr, "labyrinth: free: no interrupt controller "
				"thread: running without interrupts\n");
	return 0;
}

/* "12.0 s, 18.0 s left" or, bounded by operations only, "12.0 s". */
static void lab_fr_time_left(const struct lab_fr *fr, double t, char *buf,
			     size_t len)
{
	double left = fr->o->seconds - t;

	if (fr->o->seconds > 0)
		snprintf(buf, len, "%.1f s, %.1f s left", t,
			 left > 0 ? left : 0.0);
	else
		snprintf(buf, len, "%.1f s", t);
}

static uint64_t lab_fr_ops_now(const struct lab_fr *fr)
{
	uint64_t ops = 0;
	unsigned i;

	for (i = 0; i < fr->nworkers; i++)
		ops += atomic_load_explicit(&fr->w[i].ops,
					    memory_order_relaxed);
	return ops;
}

static void lab_fr_progress(struct lab_fr *fr, const struct lab_fr_watch *wt)
{
	double t = (double)wt->elapsed_ns / 1e9;
	uint64_t ops = lab_fr_ops_now(fr), irqs = 0;
	struct lab_maze_stats st;
	char when[48];
	unsigned i;

	for (i = 0; i < fr->nworkers; i++)
		irqs += atomic_load_explicit(&fr->w[i].isr_runs,
					     memory_order_relaxed);
	lab_maze_stats(fr->maze, &st);
	lab_fr_time_left(fr, t, when, sizeof(when));
	fprintf(stderr,
		"%sfree: %s, %" PRIu64 " ops (%.0f/s), failures KERNEL %" PRIu64
		" NOWAIT %" PRIu64 " ATOMIC %" PRIu64 ", interrupts %" PRIu64
		"%s",
		wt->live ? "\r" : "", when, ops, t > 0 ? (double)ops / t : 0.0,
		st.cls[0].failures, st.cls[1].failures, st.cls[2].failures,
		irqs, wt->live ? "   " : "\n");
	fflush(stderr);
}

/* How low the free level goes (the pressure profile's purpose). */
static void lab_fr_sample(struct lab_fr *fr, struct lab_fr_watch *wt)
{
	struct lab_maze_stats st;

	lab_maze_stats(fr->maze, &st);
	wt->samples++;
	wt->below_low += st.free_frames < st.wmark_low;
	wt->below_min += st.free_frames < st.wmark_min;
	if (st.free_frames < wt->lowest_free)
		wt->lowest_free = st.free_frames;
}

/* The run record's series (charts of the HTML report): operations per
 * second, allocation failures so far, findings so far. */
static void lab_fr_series(struct lab_fr *fr, struct lab_fr_watch *wt)
{
	uint64_t ops = lab_fr_ops_now(fr);
	struct lab_maze_stats st;

	if (wt->elapsed_ns < wt->series_next)
		return;
	lab_maze_stats(fr->maze, &st);
	lab_runlog_sample("ops/s", (double)(ops - wt->series_ops) * 1e9 /
					   (double)LAB_FR_SERIES_NS);
	lab_runlog_sample("alloc failures",
			  (double)(st.cls[0].failures + st.cls[1].failures +
				   st.cls[2].failures));
	lab_runlog_sample("findings", (double)atomic_load_explicit(
					      &fr->nrec, memory_order_relaxed));
	wt->series_ops = ops;
	wt->series_next += LAB_FR_SERIES_NS;
}

/* For --first: a finding of the checks or of a sanitizer hook. */
static bool lab_fr_found_any(struct lab_fr *fr)
{
	return atomic_load_explicit(&fr->nrec, memory_order_relaxed) ||
	       lab_capture_saved() != fr->captured_before ||
	       lab_capture_current()->reports;
}

static void lab_fr_watch(struct lab_fr *fr, struct lab_fr_watch *wt)
{
	uint64_t limit = fr->o->seconds > 0 ? (uint64_t)(fr->o->seconds * 1e9) :
					      UINT64_MAX;
	uint64_t period = wt->live ? LAB_FR_LIVE_NS : LAB_FR_PLAIN_NS;
	uint64_t next = period;
	struct timespec tick = { 0, LAB_FR_TICK_NS };

	for (;;) {
		uint64_t before = wt->elapsed_ns;

		nanosleep(&tick, NULL);
		wt->elapsed_ns = lab_now_ns() - wt->t0;
		if (wt->elapsed_ns - before > LAB_FR_TICK_NS + wt->stall_ns)
			wt->stall_ns = wt->elapsed_ns - before - LAB_FR_TICK_NS;
		lab_fr_sample(fr, wt);
		lab_fr_series(fr, wt);
		lab_fr_misuse_tick(fr);
		if (wt->elapsed_ns >= limit || lab_stop_requested() ||
		    atomic_load(&fr->finished) == fr->nworkers ||
		    (fr->o->first && lab_fr_found_any(fr)))
			break;
		if (wt->elapsed_ns >= next) {
			lab_fr_progress(fr, wt);
			next += period;
		}
	}
	if (wt->live) {
		lab_fr_progress(fr, wt);
		fputc('\n', stderr);
	}
}

static void lab_fr_stop(struct lab_fr *fr, struct lab_fr_ctl *ctl,
			struct lab_fr_watch *wt)
{
	unsigned i;

	atomic_store(&fr->stop, true);
	if (ctl->running)
		pthread_join(ctl->thread, NULL);
	pthread_barrier_wait(&fr->stopped);
	lab_maze_stats(fr->maze, &wt->at_stop);
	pthread_barrier_wait(&fr->snapped);
	for (i = 0; i < fr->nworkers; i++)
		pthread_join(fr->w[i].thread, NULL);
	lab_fr_delays(fr, false);
	pthread_barrier_destroy(&fr->started);
	pthread_barrier_destroy(&fr->stopped);
	pthread_barrier_destroy(&fr->snapped);
	lab_fr_pool_drain(fr);
	lab_maze_drain_local(fr->maze); /* main's cache took pool frees */
}

/* ---- totals and final checks ------------------------------------------------------------ */

static void lab_fr_lat_merge(struct lab_fr_lat *into,
			     const struct lab_fr_lat *l)
{
	lab_lat_merge(&into->wall, &l->wall);
	lab_lat_merge(&into->cpu, &l->cpu);
	into->calls += l->calls;
}

static void lab_fr_add(struct lab_fr_totals *t, const struct lab_fr_worker *w)
{
	const struct lab_fr_counts *c = &w->c;
	unsigned k;

	for (k = 0; k < LAB_CLASS_COUNT; k++)
		lab_fr_lat_merge(&t->c.lat[k], &c->lat[k]);
	for (k = 0; k < LAB_FR_ORDERS; k++) {
		t->c.order_ok[k] += c->order_ok[k];
		t->c.order_failed[k] += c->order_failed[k];
	}
	for (k = 0; k < LAB_FF_KINDS; k++)
		t->c.foreign[k] += c->foreign[k];
	t->c.foreign[LAB_FF_ISR] += w->isr.foreign;
	t->c.foreign_refused += c->foreign_refused + w->isr.foreign_refused;
	t->c.handoffs += c->handoffs;
	t->c.adopted += c->adopted;
	t->c.pooled += c->pooled;
	t->c.irqs_off += c->irqs_off;
	t->c.probes += c->probes;
	t->c.probes_refused += c->probes_refused;
	t->c.irq_delivered += c->irq_delivered;
	t->c.irq_deferred += c->irq_deferred;
	t->c.irq_coalesced += c->irq_coalesced;
	t->isr.allocs += w->isr.allocs;
	t->isr.kept += w->isr.kept;
	t->isr.failed += w->isr.failed;
	lab_fr_lat_merge(&t->isr.lat, &w->isr.lat);
	t->ops += w->nops;
}

static void lab_fr_totals(const struct lab_fr *fr, struct lab_fr_totals *t)
{
	unsigned i, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < fr->nworkers; i++)
		lab_fr_add(t, &fr->w[i]);
	for (k = 0; k < LAB_FF_KINDS; k++)
		t->foreign += t->c.foreign[k];
}

static void lab_fr_notef(struct lab_fr *fr, const char *kind, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));

/* A finding of the final checks (main, after the joins: stdio is fine). */
static void lab_fr_notef(struct lab_fr *fr, const char *kind, const char *fmt,
			 ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lab_fr_note(fr, kind, "final-check", msg);
}

static void lab_fr_final_checks(struct lab_fr *fr,
				const struct lab_fr_totals *t,
				struct lab_maze_stats *st, long *problems)
{
	uint64_t allocs = 0;
	unsigned k;

	*problems = lab_maze_check(fr->maze);
	if (*problems)
		lab_fr_notef(fr, "maze-check", "lab_maze_check() returned %ld",
			     *problems);
	lab_maze_stats(fr->maze, st);
	for (k = 0; k < LAB_CLASS_COUNT; k++)
		allocs += st->cls[k].successes;
	if (allocs != st->frees)
		lab_fr_notef(fr, "stats-not-conserved",
			     "%" PRIu64 " successful allocations, %" PRIu64
			     " frees",
			     allocs, st->frees);
	if (st->free_frames != st->frames || st->cached_frames)
		lab_fr_notef(fr, "frames-leaked",
			     "%" PRIu64 " of %" PRIu64 " frames free at the "
			     "end, %" PRIu64 " cached",
			     st->free_frames, st->frames, st->cached_frames);
	for (k = LAB_CLASS_NOWAIT; k < LAB_CLASS_COUNT; k++)
		if (st->cls[k].waits || st->cls[k].reclaims)
			lab_fr_notef(fr, "nonblocking-waited",
				     "GFP_%s waited %" PRIu64
				     " times, reclaimed %" PRIu64 " times",
				     lab_gfp_class_name(k), st->cls[k].waits,
				     st->cls[k].reclaims);
	if (t->c.probes_refused != t->c.probes)
		lab_fr_notef(fr, "might-sleep-unreported",
			     "%" PRIu64 " of %" PRIu64
			     " GFP_KERNEL probes with "
			     "IRQs off were refused and reported",
			     t->c.probes_refused, t->c.probes);
}

/* ---- the summary ----------------------------------------------------------------------- */

static double lab_fr_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* retries: failed CASes retried (contention); at-bound: attempts of a
 * non-blocking class that gave up at its retry bound. */
static void lab_fr_print_classes(const struct lab_maze_stats *st)
{
	unsigned k;

	printf("  class   %10s %10s %8s %8s %7s %8s %8s %8s\n", "attempts",
	       "ok", "failed", "res-dips", "waits", "reclaims", "retries",
	       "at-bound");
	for (k = 0; k < LAB_CLASS_COUNT; k++) {
		const struct lab_class_stats *c = &st->cls[k];

		printf("  %-7s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
		       " %8" PRIu64 " %7" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %8" PRIu64 "\n",
		       lab_gfp_class_name(k), c->attempts, c->successes,
		       c->failures, c->reserve_dips, c->waits, c->reclaims,
		       c->retries, c->retry_limited);
	}
}

/* ---- latency ------------------------------------------------------------------- */

static const char lab_fr_latency_note[] =
	"one allocation; task, irq: wall time without the interrupts that "
	"ran on the thread meanwhile (OS preemption and process stops "
	"included); task-cpu, irq-cpu: the thread's CPU time of 1 call in 8 "
	"with no interrupt in it (the allocator's own work)";

/* Rows: each class in process context ("task"), GFP_ATOMIC in interrupts
 * ("irq"), then the same on the CPU clock.  Returns the number of rows
 * (at most LAB_FR_LAT_ROWS). */
#define LAB_FR_LAT_ROWS (2 * (LAB_CLASS_COUNT + 1))
static unsigned lab_fr_latency_rows(const struct lab_fr_totals *t,
				    struct lab_latency *rows)
{
	const char *atomic = lab_gfp_class_name(LAB_CLASS_ATOMIC);
	unsigned k, n = 0;

	for (k = 0; k < LAB_CLASS_COUNT; k++)
		lab_lat_summarize(&t->c.lat[k].wall, lab_gfp_class_name(k),
				  "task", &rows[n++]);
	lab_lat_summarize(&t->isr.lat.wall, atomic, "irq", &rows[n++]);
	for (k = 0; k < LAB_CLASS_COUNT; k++)
		lab_lat_summarize(&t->c.lat[k].cpu, lab_gfp_class_name(k),
				  "task-cpu", &rows[n++]);
	lab_lat_summarize(&t->isr.lat.cpu, atomic, "irq-cpu", &rows[n++]);
	return n;
}

static void lab_fr_print_latency(const struct lab_fr_totals *t,
				 const struct lab_fr_watch *wt)
{
	struct lab_latency rows[LAB_FR_LAT_ROWS];
	unsigned n = lab_fr_latency_rows(t, rows), i;

	printf("latency (us): %s\n", lab_fr_latency_note);
	printf("  class   context  %10s %9s %9s %9s %9s %9s %11s\n", "count",
	       "mean", "p50", "p90", "p99", "p99.9", "max");
	for (i = 0; i < n; i++) {
		const struct lab_latency *l = &rows[i];

		printf("  %-7s %-8s %10" PRIu64
		       " %9.1f %9.1f %9.1f %9.1f %9.1f %11.1f\n",
		       l->cls, l->context, l->count, lab_fr_us(l->mean_ns),
		       lab_fr_us(l->p50_ns), lab_fr_us(l->p90_ns),
		       lab_fr_us(l->p99_ns), lab_fr_us(l->p999_ns),
		       lab_fr_us(l->max_ns));
	}
	printf("  percentiles are bucket upper bounds (within 25%%); the "
	       "watcher's longest stall was %.1f us (a whole-process stall "
	       "shows in every row's max)\n",
	       lab_fr_us(wt->stall_ns));
}

/* The run record gets the same rows. */
static void lab_fr_record_latency(const struct lab_fr_totals *t,
				  const struct lab_fr_watch *wt)
{
	struct lab_latency rows[LAB_FR_LAT_ROWS];
	unsigned n = lab_fr_latency_rows(t, rows);
	char note[sizeof(((struct lab_runrec *)0)->latency_note)];

	lab_fit(note, sizeof(note), "%s; watcher's longest stall %.1f us",
		lab_fr_latency_note, lab_fr_us(wt->stall_ns));
	lab_runlog_latency(rows, n, note);
}

static void lab_fr_print_irqs(const struct lab_fr_ctl *ctl,
			      const struct lab_fr_totals *t)
{
	printf("interrupts: %u/s, %" PRIu64 " signals sent; %" PRIu64
	       " ran at once, %" PRIu64 " deferred while IRQs were off "
	       "(run at restore), %" PRIu64 " coalesced\n",
	       ctl->rate, (uint64_t)atomic_load(&ctl->sent),
	       t->c.irq_delivered - t->c.irq_deferred, t->c.irq_deferred,
	       t->c.irq_coalesced);
	printf("  isr: %" PRIu64 " GFP_ATOMIC allocations (%" PRIu64
	       " kept for process context, %" PRIu64 " failed)\n",
	       t->isr.allocs, t->isr.kept, t->isr.failed);
	printf("  irqs-off sections %" PRIu64 "; might-sleep probes %" PRIu64
	       ", refused and reported %" PRIu64 "\n",
	       t->c.irqs_off, t->c.probes, t->c.probes_refused);
}

static void lab_fr_print_exclusive(const struct lab_fr *fr,
				   const struct lab_fr_totals *t)
{
	const uint64_t *f = t->c.foreign;

	printf("exclusive: %" PRIu64 " handoffs (%" PRIu64
	       " made exclusive); foreign attempts %" PRIu64 " (free %" PRIu64
	       ", access %" PRIu64 ", address %" PRIu64 ", handoff %" PRIu64
	       ", from interrupts %" PRIu64 "), refused %" PRIu64
	       "; expected reports %" PRIu64 "\n",
	       t->c.handoffs, t->c.adopted, t->foreign, f[LAB_FF_FREE],
	       f[LAB_FF_ACCESS], f[LAB_FF_ADDRESS], f[LAB_FF_HANDOFF],
	       f[LAB_FF_ISR], t->c.foreign_refused,
	       (uint64_t)atomic_load(&fr->expected_reports));
}

static void lab_fr_print_pressure(const struct lab_fr *fr,
				  const struct lab_fr_watch *wt,
				  const struct lab_maze_stats *st)
{
	const struct lab_fr_pool *p = &fr->pool;
	double n = wt->samples ? (double)wt->samples : 1.0;

	printf("pressure: watermarks min %" PRIu64 " low %" PRIu64
	       " high %" PRIu64 "; free below low in %.0f%% of samples, "
	       "below min in %.0f%%, lowest %" PRIu64 "\n",
	       st->wmark_min, st->wmark_low, st->wmark_high,
	       100.0 * (double)wt->below_low / n,
	       100.0 * (double)wt->below_min / n, wt->lowest_free);
	if (!fr->prof->pool)
		return;
	printf("  pool peak %zu blocks; reclaim calls %" PRIu64 " (%" PRIu64
	       " without progress), %" PRIu64
	       " frames reclaimed; reserve dips %" PRIu64
	       ", GFP_KERNEL waits %" PRIu64 " (longest %.1f us)\n",
	       p->peak, p->calls, p->stalls, p->frames,
	       st->cls[0].reserve_dips + st->cls[1].reserve_dips +
		       st->cls[2].reserve_dips,
	       st->cls[0].waits, lab_fr_us(st->cls[0].wait_ns_max));
}

static void lab_fr_print_orders(const struct lab_fr *fr,
				const struct lab_fr_watch *wt,
				const struct lab_fr_totals *t)
{
	unsigned k, max = lab_maze_max_order(fr->maze);

	printf("orders (ok/failed):");
	for (k = 0; k <= max && k < LAB_FR_ORDERS; k++)
		printf(" %u:%" PRIu64 "/%" PRIu64, k, t->c.order_ok[k],
		       t->c.order_failed[k]);
	printf("\n  free blocks by order at stop (%" PRIu64 " frames free):",
	       wt->at_stop.free_frames);
	for (k = 0; k <= max && k < LAB_FR_ORDERS; k++)
		printf(" %" PRIu64, wt->at_stop.free_blocks[k]);
	printf("\n");
}

/* What the run was meant to exercise but did not (not a finding: the
 * allocator did nothing wrong, the run just proves less). */
static void lab_fr_print_notes(const struct lab_fr *fr,
			       const struct lab_fr_ctl *ctl,
			       const struct lab_fr_totals *t,
			       const struct lab_maze_stats *st)
{
	uint64_t dips = st->cls[0].reserve_dips + st->cls[1].reserve_dips +
			st->cls[2].reserve_dips;

	if (ctl->rate && !t->c.irq_deferred)
		printf("note: no interrupt arrived while IRQs were off: "
		       "deferral was not exercised\n");
	if (fr->prof->pool &&
	    (!dips || !st->cls[0].reclaims || !st->cls[0].waits))
		printf("note: pressure did not reach everything: reserve dips "
		       "%" PRIu64 ", reclaims %" PRIu64 ", waits %" PRIu64 "\n",
		       dips, st->cls[0].reclaims, st->cls[0].waits);
}

static void lab_fr_summary(struct lab_fr *fr, const struct lab_fr_ctl *ctl,
			   const struct lab_fr_watch *wt,
			   const struct lab_fr_totals *t,
			   const struct lab_maze_stats *st, long problems)
{
	double secs = (double)wt->elapsed_ns / 1e9;
	uint64_t allocs = st->cls[0].successes + st->cls[1].successes +
			  st->cls[2].successes;

	printf("\n== labyrinth free-running summary: profile %s, seed %" PRIu64
	       " ==\n",
	       fr->o->profile, fr->o->seed);
	printf("ops %" PRIu64 " in %.1f s (%.0f/s), %u thread%s, maze %ux%u, "
	       "bug %s\n",
	       t->ops, secs, secs > 0 ? (double)t->ops / secs : 0.0,
	       fr->nworkers, lab_plural(fr->nworkers), fr->o->width,
	       fr->o->height, fr->o->bug);
	lab_fr_print_classes(st);
	lab_fr_print_latency(t, wt);
	lab_fr_print_irqs(ctl, t);
	lab_fr_print_exclusive(fr, t);
	lab_fr_print_pressure(fr, wt, st);
	lab_fr_print_orders(fr, wt, t);
	lab_fr_relaxed_print(fr);
	lab_fr_misuse_print(fr);
	lab_fr_print_notes(fr, ctl, t, st);
	printf("end: allocations %" PRIu64 ", frees %" PRIu64
	       ", free frames %" PRIu64 "/%" PRIu64 ", maze check problems "
	       "%ld, stamps verified %" PRIu64 ", delays injected %" PRIu64
	       "%s\n",
	       allocs, st->frees, st->free_frames, st->frames, problems,
	       (uint64_t)atomic_load(&fr->stamps_verified),
	       (uint64_t)atomic_load(&fr->delays),
	       LAB_HAVE_YIELD_POINTS ? "" : " (release: no yield points)");
}

/* ---- the run ----------------------------------------------------------------------------- */

static int lab_free_run_native(const struct lab_opts *o,
			       struct lab_finding *first);

static void lab_fr_print_start(const struct lab_fr *fr)
{
	const struct lab_opts *o = fr->o;
	struct lab_maze_stats st;

	lab_maze_stats(fr->maze, &st);
	printf("free: profile %s, seed %" PRIu64 ", %u thread%s, maze %ux%u "
	       "(%" PRIu64 " frames, max order %u, watermarks %" PRIu64
	       "/%" PRIu64 "/%" PRIu64 "), %.1f s, ops limit %" PRIu64
	       ", irq rate %u/s x%u, bug %s\n",
	       o->profile, o->seed, fr->nworkers, lab_plural(fr->nworkers),
	       o->width, o->height, st.frames, lab_maze_max_order(fr->maze),
	       st.wmark_min, st.wmark_low, st.wmark_high, o->seconds, o->ops,
	       o->irq_rate, fr->prof->irq_mult, o->bug);
	fflush(stdout);
}

/* Saves the first finding; a free-running artifact has no decisions. */
static void lab_fr_save(const struct lab_fr *fr, const struct lab_finding *f)
{
	struct lab_artifact a;
	struct lab_rec r;

	memset(&a, 0, sizeof(a));
	a.opts = *fr->o;
	a.opts.mode = LAB_MODE_FREE;
	snprintf(a.build, sizeof(a.build), "%s", lab_version());
	a.finding = *f;
	lab_runlog_rec_init(&r, f->kind);
	lab_rec_add_op(&r, f->where);
	lab_finding_save(&a, &r, fr->o->out_dir, NULL, 0);
	printf("note: a free-running failure replays as a re-run with the "
	       "same seed and options; its thread interleaving is not "
	       "reproduced exactly, so the finding may need several runs\n");
}

/* The run record begins, and sanitizer reports from now on are saved as
 * findings the moment they happen: a report with halt_on_error ends the
 * process right after it. */
static void lab_fr_capture_begin(struct lab_fr *fr)
{
	struct lab_rec t;

	lab_runlog_begin(fr->o, "stress-free");
	lab_runlog_rec_init(&t, "");
	snprintf(t.seed, sizeof(t.seed), "%" PRIu64, fr->o->seed);
	snprintf(t.bug, sizeof(t.bug), "%s", fr->o->bug);
	lab_opts_command(fr->o, t.reproduce, sizeof(t.reproduce));
	fr->captured_before = lab_capture_saved();
	lab_capture_install(NULL); /* this run's reports only */
	if (lab_capture_save_to(fr->o->out_dir, &t))
		fprintf(stderr,
			"labyrinth: %s: sanitizer reports will not "
			"be saved as findings\n",
			fr->o->out_dir);
}

static void lab_fr_capture_end(struct lab_fr *fr, int findings,
			       const struct lab_fr_watch *wt)
{
	char detail[256];

	lab_capture_save_to(NULL, NULL);
	snprintf(detail, sizeof(detail),
		 "free-running, profile %s, %u thread%s, %.1f s, %" PRIu64
		 " ops",
		 fr->o->profile, fr->nworkers, lab_plural(fr->nworkers),
		 (double)wt->elapsed_ns / 1e9, lab_fr_ops_now(fr));
	lab_runlog_end(findings < 0 ? "error" :
		       findings	    ? "fail" :
				      "pass",
		       detail, fr->o->out_dir);
}

/* Final checks, summary, result line; returns the number of findings. */
static int lab_fr_finish(struct lab_fr *fr, const struct lab_fr_ctl *ctl,
			 const struct lab_fr_watch *wt,
			 struct lab_finding *first)
{
	struct lab_fr_totals t;
	struct lab_maze_stats st;
	struct lab_finding f;
	unsigned n, captured, saved;
	long problems;

	lab_fr_totals(fr, &t);
	lab_fr_misuse_finish(fr);
	lab_fr_final_checks(fr, &t, &st, &problems);
	lab_fr_summary(fr, ctl, wt, &t, &st, problems);
	lab_fr_record_latency(&t, wt);
	n = lab_fr_findings(fr, &f);
	if (n)
		lab_fr_save(fr, &f); /* the checks' first finding only */
	captured = lab_runlog_save_captured(fr->o, fr->captured_before);
	saved = (n > 0) + captured;
	n += captured;
	/* what was saved, and how many detections it stands for */
	if (n == saved)
		printf("findings: %u\n", n);
	else
		printf("findings: %u saved (the first of %u detected)\n",
		       saved, n);
	printf("RESULT: %s\n", lab_runlog_result(n));
	fflush(stdout);
	if (first)
		*first = f;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int lab_free_run_report(const struct lab_opts *o, struct lab_finding *first)
{
	if (strcmp(o->backend, "labyrinth")) {
		const struct lab_backend_ops *ops =
			lab_backend_find(o->backend);

		if (!ops) {
			fprintf(stderr, "labyrinth: no backend '%s'\n",
				o->backend);
			return -1;
		}
		return lab_backend_run(o, ops, first);
	}
	return lab_free_run_native(o, first);
}

/* The full free-running mode of the labyrinth allocator. */
static int lab_free_run_native(const struct lab_opts *o,
			       struct lab_finding *first)
{
	struct lab_fr_ctl ctl = { .running = false };
	struct lab_fr_watch wt = { .lowest_free = UINT64_MAX };
	struct lab_fr *fr = lab_fr_create(o);
	int ret;

	if (!fr)
		return -1;
	lab_fr_capture_begin(fr);
	lab_fr_print_start(fr);
	wt.live = o->progress && isatty(STDERR_FILENO);
	lab_fr_signals_on(&wt);
	wt.t0 = lab_now_ns();
	if (lab_fr_start(fr, &ctl)) {
		lab_fr_signals_off(&wt);
		lab_fr_destroy(fr);
		return -1;
	}
	lab_fr_watch(fr, &wt);
	lab_fr_stop(fr, &ctl, &wt);
	lab_fr_signals_off(&wt);
	ret = lab_fr_finish(fr, &ctl, &wt, first);
	lab_fr_capture_end(fr, ret, &wt);
	lab_fr_destroy(fr);
	return ret;
}

int lab_free_run(const struct lab_opts *o)
{
	return lab_free_run_report(o, NULL);
}
