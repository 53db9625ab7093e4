/* runner.c - the labyrinth allocator's controlled schedules, as a client
 * of the scheduler library (labyrinth/sched.h): yield points and waits as
 * scheduling points, set-up and clean-up of the maze, and the controlled
 * mode's loop over many schedules.
 *
 * Isolation (opts.isolate) is the library's: each schedule runs in a
 * forked child.  The client state lives in a mapping shared with it too,
 * so the parent still reads the last operations and sanitizer captures of
 * a child that crashed, and the crash becomes an artifact that replays
 * like any other finding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_model.h"
#include "scheduler.h"

#define LAB_TSAN_EXITCODE 66

uint64_t lab_splitmix(uint64_t *state)
{
	return lab_sched_splitmix(state);
}

static double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the allocator's yield points as scheduling points ---------------------- */

/* A yield point's site is its name: a static string, so the scheduler's
 * positions, findings and coverage read as they always did. */
lab_site_t lab_yield_site(enum lab_yield_point pt)
{
	return lab_yield_point_name(pt);
}

int lab_yield_point_of(lab_site_t site)
{
	int pt;

	for (pt = 0; site && pt < LAB_YP_COUNT; pt++)
		if (site == lab_yield_point_name((enum lab_yield_point)pt))
			return pt;
	return -1;
}

int lab_last_point(unsigned t)
{
	return lab_yield_point_of(lab_sched_last_site(t));
}

void lab_on_yield(enum lab_yield_point pt, void *arg)
{
	(void)arg;
	if (pt == LAB_YP_SPIN)
		lab_sched_spin(lab_yield_site(pt));
	else
		lab_sched_point(lab_yield_site(pt));
}

static bool lab_wait_ready(void *arg)
{
	const struct lab_lthread *lt = arg;

	/* relaxed: evaluated on another fiber, it must not be an acquire
	 * that makes a happens-before edge between logical threads */
	return atomic_load_explicit(atomic_load_explicit(&lt->wait_word,
							 memory_order_relaxed),
				    memory_order_relaxed) !=
	       atomic_load_explicit(&lt->wait_expected, memory_order_relaxed);
}

/* A GFP_KERNEL wait: the thread is blocked until the word changes or,
 * when nobody else can run, it times out (logical time).  Its position
 * stays the alloc:wait point it passed right before. */
int lab_on_wait(const atomic_uint *word, unsigned expected,
		unsigned timeout_ms, void *arg)
{
	struct lab_sched *s = arg;
	int cur = lab_sched_current();
	struct lab_lthread *lt;

	(void)timeout_ms;
	if (cur < 0)
		return 0;
	lt = &s->lt[cur];
	atomic_store_explicit(&lt->wait_word, word, memory_order_relaxed);
	atomic_store_explicit(&lt->wait_expected, expected,
			      memory_order_relaxed);
	return lab_sched_block(NULL, lab_wait_ready, lt, true);
}

/* ---- client callbacks ---------------------------------------------------------- */

/* The current lab_ctx travels with its fiber (relaxed: no edge between
 * logical threads). */
static void lab_on_switch(void *arg, int from, int to)
{
	struct lab_sched *s = arg;
	struct lab_ctx *prev = lab_ctx_switch(
		to >= 0 ? atomic_load_explicit(&s->lt[to].cur_ctx,
					       memory_order_relaxed) :
			  s->main_ctx);

	if (from >= 0)
		atomic_store_explicit(&s->lt[from].cur_ctx, prev,
				      memory_order_relaxed);
}

/* " op 3/24 (alloc)" */
static size_t lab_describe(void *arg, unsigned t, char *buf, size_t len)
{
	static const char *const ops[LAB_OP_KINDS] = {
		"alloc", "free", "handoff", "irqs-off", "foreign-free", "spin"
	};
	const struct lab_lthread *lt = &((struct lab_sched *)arg)->lt[t];
	unsigned pc = atomic_load_explicit(&lt->pc, memory_order_relaxed);
	int n = snprintf(buf, len, " op %u/%u (%s)", pc, lt->nops,
			 pc < lt->nops ? ops[lt->ops[pc].kind] : "exit");

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len;
}

static void lab_isr(void *arg, unsigned t)
{
	lab_irq_raise(lab_program_isr, &((struct lab_sched *)arg)->lt[t]);
}

/* An interrupt the allocator deferred (IRQs off) runs later, at the
 * restore: the thread is in it then too. */
static bool lab_in_isr(void *arg, unsigned t)
{
	return atomic_load_explicit(&((struct lab_sched *)arg)->lt[t].irq_depth,
				    memory_order_relaxed);
}

/* Whether blocked thread lt sleeps in a GFP_KERNEL allocation that the
 * maze could serve now.  Only called when nobody can run: every thread is
 * parked inside a wait or done, so no reservation or split is under way
 * and the free count and free blocks are what the waiter's retry would
 * find (the waker's side of the protocol should have woken it). */
static bool lab_waiter_servable(struct lab_sched *s,
				const struct lab_lthread *lt)
{
	unsigned pc = atomic_load_explicit(&lt->pc, memory_order_relaxed), k;
	const struct lab_op *op;
	struct lab_maze_stats st;

	if (pc >= lt->nops || !atomic_load(&lt->started))
		return false; /* done, or waiting to start */
	op = &lt->ops[pc];
	if (op->kind != LAB_OP_ALLOC || op->cls != LAB_CLASS_KERNEL ||
	    lab_maze_stats(s->maze, &st))
		return false;
	if (op->order > LAB_MAX_ORDER_LIMIT ||
	    st.free_frames < ((uint64_t)1 << op->order) + st.wmark_min)
		return false;
	for (k = op->order; k <= LAB_MAX_ORDER_LIMIT; k++)
		if (st.free_blocks[k])
			return true;
	return false;
}

/* Nobody can run.  A waiter asleep while the maze could serve it missed
 * its wakeup: a finding, though the timeout would hide it.  Every thread
 * not done is blocked here, and the allocator's only block is its wait. */
static void lab_on_all_blocked(void *arg)
{
	struct lab_sched *s = arg;
	unsigned t;

	for (t = 0; t < s->n; t++)
		if (lab_waiter_servable(s, &s->lt[t]))
			lab_sched_fail_stuck("lost-wakeup",
					     "a GFP_KERNEL waiter sleeps while "
					     "free frames could serve it");
}

static void lab_thread_main(void *arg)
{
	struct lab_lthread *lt = arg;

	lab_program_run(lt->sched, lt);
}

/* ---- one schedule ----------------------------------------------------------- */

static int lab_maze_for(struct lab_sched *s)
{
	struct lab_maze_config cfg;

	lab_maze_config_init(&cfg, s->opts->width, s->opts->height);
	cfg.page_size = 512; /* small pages: poisoning stays cheap */
	cfg.max_order = 4;
	cfg.report = lab_program_on_report;
	cfg.report_arg = s;
	cfg.reclaim_rounds = 2;
	cfg.wait_timeout_ms = 1;
	(void)lab_maze_config_watermarks(&cfg);
	return lab_maze_create(&cfg, &s->maze);
}

static int lab_contexts_for(struct lab_sched *s)
{
	char name[32];
	unsigned t;

	for (t = 0; t < s->n; t++) {
		struct lab_lthread *lt = &s->lt[t];

		lt->id = t;
		lt->sched = s;
		snprintf(name, sizeof(name), "lt%u", t);
		lt->ctx = lab_ctx_create(100 + t, name);
		snprintf(name, sizeof(name), "stranger%u", t);
		lt->stranger = lab_ctx_create(200 + t, name);
		if (!lt->ctx || !lt->stranger)
			return -ENOMEM;
		atomic_store(&lt->cur_ctx, lt->ctx);
	}
	return 0;
}

static int lab_setup(void *arg)
{
	struct lab_sched *s = arg;
	const struct lab_opts *o = s->opts;
	static const struct lab_sched_hooks hooks = { lab_on_yield, lab_on_wait,
						      NULL };
	struct lab_sched_hooks h = hooks;
	int ret;

	lab_spin_lock_init(&s->lock);
	if (lab_bug_select(o->bug[0] ? o->bug : "none"))
		return s->setup_ret = -EINVAL;
	if ((ret = lab_maze_for(s)) || (ret = lab_contexts_for(s)))
		return s->setup_ret = ret;
	lab_program_generate(s, o->seed);
	lab_capture_install(&s->cap);
	s->main_ctx = lab_ctx_current();
	h.arg = s;
	lab_set_sched_hooks(&h);
	/* --memory c11: the allocator's own atomics and the plain memory they
	 * publish go through the model from here on (set-up above is outside
	 * it, as main's writes are outside any logical thread). */
	if (lab_sched_memory_c11())
		lab_alloc_model_attach();
	return 0;
}

/* Blocks still in inboxes were handed to a thread after it finished; its
 * context frees them now (hooks are off: this is not scheduled). */
static void lab_free_leftovers(struct lab_sched *s)
{
	unsigned t;

	for (t = 0; t < s->n && !lab_sched_found(); t++) {
		struct lab_lthread *lt = &s->lt[t];

		lab_sched_consume(lt->inbox);
		lab_ctx_switch(lt->ctx);
		while (lt->ninbox && !lab_sched_found()) {
			struct lab_block *b = &lt->inbox[--lt->ninbox];

			if (lab_free_pages_addr(s->maze, b->addr, b->order))
				lab_sched_fail("free-error", "leftovers", "%s",
					       lab_last_error());
		}
		lab_ctx_switch(NULL);
	}
}

/* A maze with a finding may be corrupt: it goes first, so destroying the
 * contexts does not drain their caches into it. */
static void lab_teardown(void *arg)
{
	struct lab_sched *s = arg;
	unsigned t;

	lab_set_sched_hooks(NULL);
	lab_alloc_model_detach();
	if (s->main_ctx)
		lab_ctx_switch(s->main_ctx);
	if (!s->setup_ret && !lab_sched_exhausted()) /* cut short: unchecked */
		lab_free_leftovers(s);
	if ((lab_sched_found() || lab_sched_exhausted()) && s->maze) {
		lab_maze_destroy(s->maze);
		s->maze = NULL;
	}
	for (t = 0; t < s->n; t++) {
		lab_ctx_destroy(s->lt[t].ctx);
		lab_ctx_destroy(s->lt[t].stranger);
		s->lt[t].ctx = s->lt[t].stranger = NULL;
	}
	if (s->maze && !lab_sched_found())
		lab_program_final_check(s);
	lab_maze_destroy(s->maze);
	s->maze = NULL;
	lab_program_free(s);
	lab_bug_select("none");
	lab_capture_install(NULL); /* s may go away */
}

void lab_sched_memory_for(const struct lab_opts *o, struct lab_sched_test *t)
{
	t->memory = o->memory == LAB_MEM_C11 ? LAB_SCHED_MEM_C11 :
					       LAB_SCHED_MEM_SC;
	t->history = o->history;
	t->stale_permille = o->stale_permille;
}

static void lab_test_for(struct lab_sched *s, const struct lab_opts *o,
			 const lab_decision_t *list, uint64_t n,
			 struct lab_sched_test *t)
{
	static const enum lab_sched_strategy strategies[] = {
		[LAB_STRAT_RANDOM] = LAB_SCHED_RANDOM,
		[LAB_STRAT_PCT] = LAB_SCHED_PCT,
		[LAB_STRAT_LIST] = LAB_SCHED_LIST,
	};
	unsigned i;

	s->opts = o;
	s->n = o->logical;
	memset(t, 0, sizeof(*t));
	t->name = "labyrinth";
	t->nthreads = o->logical;
	for (i = 0; i < o->logical && i < LAB_SCHED_MAX_THREADS; i++)
		t->threads[i] = (struct lab_sched_thread_desc){ lab_thread_main,
								&s->lt[i] };
	t->arg = s;
	t->setup = lab_setup;
	t->teardown = lab_teardown;
	t->isr = lab_isr;
	t->in_isr = lab_in_isr;
	t->on_switch = lab_on_switch;
	t->describe = lab_describe;
	t->on_all_blocked = lab_on_all_blocked;
	t->strategy = strategies[o->strategy];
	t->depth = o->depth;
	t->seed = o->seed;
	t->irq_permille = o->irq_permille;
	t->pct_horizon = (uint64_t)o->logical * o->ops_per_thread * 8 + 1;
	t->stall_steps = o->max_steps; /* --max-steps: the livelock bound */
	t->max_steps = lab_sched_budget(o);
	t->list = list;
	t->nlist = n;
	t->isolate = o->isolate;
	/* the allocator's atomics reach the model once its atomic wrappers
	 * call lab_atomic_perform() (lab_sched_memory_c11() says when) */
	lab_sched_memory_for(o, t);
	/* a stop signal between fork and the child's own handlers must not
	 * kill the child as if it were the run (runlog.c) */
	t->fork_prepare = lab_stop_signals_hold;
	t->fork_child = lab_stop_signals_child;
	t->fork_parent = lab_stop_signals_release;
}

/* The child did not come back normally, or a sanitizer reported in it
 * (or, status 0, in this process) without stopping it: what the sanitizer
 * said, if it said anything, names the finding. */
static void lab_child_died(const struct lab_capture *c,
			   struct lab_sched_outcome *out)
{
	struct lab_sched_finding *f = &out->finding;
	struct lab_rec cap;

	lab_rec_init(&cap, LAB_KIND_CRASH, "");
	if (!out->child_died) { /* reported but did not stop us */
		memset(f, 0, sizeof(*f));
		f->thread = -1;
		f->step = out->decisions;
		snprintf(f->where, sizeof(f->where), "unknown");
		snprintf(f->kind, sizeof(f->kind), "sanitizer");
		snprintf(f->message, sizeof(f->message),
			 "schedule child exited with 0 after %llu decisions "
			 "(thread -1 at unknown)",
			 (unsigned long long)out->decisions);
	}
	out->found = true;
	if (!lab_capture_to_rec(c, &cap)) {
		/* TSan's exit code without its words: the race it stops for */
		if (out->child_died && WIFEXITED(out->child_status) &&
		    WEXITSTATUS(out->child_status) == LAB_TSAN_EXITCODE)
			snprintf(f->kind, sizeof(f->kind), "data-race");
		return;
	}
	snprintf(f->kind, sizeof(f->kind), "%s", lab_kind_name(cap.kind));
	if (*cap.summary)
		snprintf(f->message, sizeof(f->message),
			 "%s (after %llu decisions, thread %d at %s)",
			 cap.summary + strlen("SUMMARY: "),
			 (unsigned long long)f->step, f->thread, f->where);
}

/* A finding's site as an artifact keeps it (one token: artifact.c writes
 * blanks and non-ASCII as '_'), so a replay compares like with like: an
 * instrumented site is "file.c:12 what". */
static void lab_site_token(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7e)
			*s = '_';
}

void lab_sched_result_from(struct lab_sched_outcome *out,
			   const struct lab_capture *c, uint64_t ops,
			   struct lab_sched_result *r)
{
	if (out->child_died || (!out->found && c->reports))
		lab_child_died(c, out);
	memset(r, 0, sizeof(*r));
	r->found = out->found;
	r->exhausted = out->exhausted;
	memcpy(r->finding.kind, out->finding.kind, sizeof(r->finding.kind));
	memcpy(r->finding.where, out->finding.where, sizeof(r->finding.where));
	lab_site_token(r->finding.where);
	memcpy(r->finding.message, out->finding.message,
	       sizeof(r->finding.message));
	r->finding.step = out->finding.step;
	r->finding.thread = out->finding.thread;
	lab_rec_init(&r->detail, lab_kind_of_check(r->finding.kind),
		     r->finding.kind);
	lab_capture_to_rec(c, &r->detail);
	r->steps = r->decisions = out->decisions;
	r->preemptions = out->preemptions;
	r->irqs = out->irqs;
	r->reads = out->reads;
	r->stale_reads = out->stale_reads;
	r->ops = ops;
	r->diverged_at = out->diverged_at;
	memcpy(r->diverged_why, out->diverged_why, sizeof(r->diverged_why));
	r->trace = out->trace; /* same type: lab_decision_t */
	r->ntrace = out->ntrace;
	out->trace = NULL;
}

/* The hard cap: this many times the livelock bound, within the range of
 * --max-steps (the trace is allocated for it, and stays lazily mapped). */
#define LAB_BUDGET_FACTOR 16u
#define LAB_BUDGET_MAX 100000000u

uint64_t lab_sched_budget(const struct lab_opts *o)
{
	uint64_t b = o->max_steps * LAB_BUDGET_FACTOR;

	if (b > LAB_BUDGET_MAX)
		b = LAB_BUDGET_MAX;
	return b < o->max_steps ? o->max_steps : b;
}

/* A schedule cut at its budget: not a finding, but say so, and how to
 * let it finish. */
static void lab_note_exhausted(const struct lab_opts *o,
			       const struct lab_sched_outcome *out,
			       uint64_t ops)
{
	printf("note: schedule seed %llu stopped at its budget of %llu "
	       "decisions (%llu operations done, %llu uninterrupted decisions "
	       "since the last one): still making progress, so not a finding; "
	       "the budget is %u x --max-steps\n",
	       (unsigned long long)o->seed,
	       (unsigned long long)lab_sched_budget(o), (unsigned long long)ops,
	       (unsigned long long)out->stalled, LAB_BUDGET_FACTOR);
}

/* One schedule of the allocator; s is zeroed client state (shared with
 * the child when isolated). */
static int lab_run_allocator(struct lab_sched *s, const struct lab_opts *o,
			     const lab_decision_t *list, uint64_t n,
			     struct lab_sched_result *r)
{
	struct lab_sched_test t;
	struct lab_sched_outcome out;
	int ret;

	lab_test_for(s, o, list, n, &t);
	ret = lab_sched_run_test(&t, &out);
	if (ret) {
		lab_sched_outcome_free(&out);
		return ret;
	}
	lab_sched_result_from(&out, &s->cap, atomic_load(&s->ops_done), r);
	lab_oplog_to_rec(s, &r->detail);
	if (out.exhausted)
		lab_note_exhausted(o, &out, r->ops);
	lab_sched_outcome_free(&out);
	return 0;
}

static int lab_run_with(const struct lab_opts *o, const struct lab_programs *p,
			const lab_decision_t *list, uint64_t n,
			struct lab_sched_result *r)
{
	struct lab_sched *s;
	int ret;

	if (o->logical < 1 || o->logical > LAB_MAX_LOGICAL)
		return -EINVAL;
	if (strcmp(o->backend, "labyrinth"))
		return p ? -EINVAL : lab_backend_sched_run(o, list, n, r);
	s = o->isolate ? lab_sched_shared_alloc(sizeof(*s)) :
			 calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->given = p;
	ret = lab_run_allocator(s, o, list, n, r);
	if (o->isolate)
		lab_sched_shared_free(s, sizeof(*s));
	else
		free(s);
	return ret;
}

int lab_sched_run_programs(const struct lab_opts *o,
			   const struct lab_programs *p,
			   const lab_decision_t *list, uint64_t n,
			   struct lab_sched_result *r)
{
	struct lab_opts here = *o;

	here.isolate = false;
	return lab_run_with(&here, p, list, n, r);
}

int lab_sched_run(const struct lab_opts *o, const lab_decision_t *list,
		  uint64_t n, struct lab_sched_result *r)
{
	return lab_run_with(o, NULL, list, n, r);
}

void lab_sched_result_free(struct lab_sched_result *r)
{
	free(r->trace);
	r->trace = NULL;
	r->ntrace = 0;
}

/* ---- the controlled mode ------------------------------------------------------- */

/* The seed of schedule i: each schedule is self-contained, so its
 * artifact replays without the ones before it. */
static uint64_t lab_schedule_seed(uint64_t seed, uint64_t i)
{
	uint64_t st = seed ^ (i * 0xd1b54a32d192ed03ull);

	return lab_splitmix(&st);
}

/* Progress of the controlled loop, as the free-running half prints its
 * own: on a terminal (--progress and stderr a tty) one live line redrawn
 * every 250 ms; elsewhere (CI logs, pipes, ctest) a plain line every 5 s,
 * so a long run is never silent.  Lines go to stderr; the summary and the
 * findings stay on stdout. */
#define LAB_CTL_LIVE_S 0.25
#define LAB_CTL_PLAIN_S 5.0

struct lab_ctl_progress {
	bool live;   /* redraw one line with \r */
	bool drawn;  /* a live line is on the screen, unterminated */
	double next; /* elapsed time of the next line */
	double period;
};

static void lab_ctl_progress_init(struct lab_ctl_progress *p,
				  const struct lab_opts *o)
{
	p->live = o->progress && isatty(STDERR_FILENO);
	p->drawn = false;
	p->period = p->live ? LAB_CTL_LIVE_S : LAB_CTL_PLAIN_S;
	p->next = p->period;
}

/* "controlled: 5.0 s, 25.0 s left, 812 schedules, 160422 decisions
 * (32084/s), 0 findings"; with --schedules N "812 of N schedules". */
static void lab_ctl_progress_line(struct lab_ctl_progress *p,
				  const struct lab_opts *o, uint64_t schedules,
				  uint64_t decisions, int findings,
				  double elapsed)
{
	char when[64], count[64];

	if (o->schedules) {
		snprintf(when, sizeof(when), "%.1f s", elapsed);
		snprintf(count, sizeof(count), "%llu of %llu",
			 (unsigned long long)schedules,
			 (unsigned long long)o->schedules);
	} else {
		snprintf(when, sizeof(when), "%.1f s, %.1f s left", elapsed,
			 o->seconds > elapsed ? o->seconds - elapsed : 0.0);
		snprintf(count, sizeof(count), "%llu",
			 (unsigned long long)schedules);
	}
	fprintf(stderr,
		"%scontrolled%s: %s, %s schedules, %llu decisions (%.0f/s), "
		"%d finding%s%s",
		p->live ? "\r" : "",
		o->memory == LAB_MEM_C11 ? " (memory c11)" : "", when, count, (unsigned long long)decisions,
		elapsed > 0 ? (double)decisions / elapsed : 0.0, findings,
		findings == 1 ? "" : "s", p->live ? "   " : "\n");
	fflush(stderr);
	p->drawn = p->live;
}

/* A line when one is due (called after every schedule). */
static void lab_ctl_progress(struct lab_ctl_progress *p,
			     const struct lab_opts *o, uint64_t schedules,
			     uint64_t decisions, int findings, double elapsed)
{
	if (elapsed < p->next)
		return;
	lab_ctl_progress_line(p, o, schedules, decisions, findings, elapsed);
	while (p->next <= elapsed)
		p->next += p->period;
}

/* Ends the live line before anything else is printed. */
static void lab_ctl_progress_break(struct lab_ctl_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}

static int lab_save_schedule(const struct lab_opts *so,
			     const struct lab_sched_result *r)
{
	struct lab_artifact a;
	struct lab_rec rec = r->detail;
	char path[1024];

	memset(&a, 0, sizeof(a));
	a.opts = *so;
	if (lab_backend_find(so->backend) && strcmp(so->backend, "labyrinth"))
		lab_backend_build_id(lab_backend_find(so->backend),
				     a.opts.user_build,
				     sizeof(a.opts.user_build));
	snprintf(a.build, sizeof(a.build), "%s", lab_version());
	a.finding = r->finding;
	a.decisions = r->trace;
	a.ndecisions = r->ntrace;
	lab_runlog_rec_stamp(&rec);
	return lab_finding_save(&a, &rec, so->out_dir, path, sizeof(path));
}

/* The run record's series: decisions per second, each half second. */
struct lab_ctl_series {
	double t; /* time of the last point */
	uint64_t decisions;
};

static void lab_controlled_series(struct lab_ctl_series *c, uint64_t decisions,
				  double elapsed)
{
	if (elapsed - c->t < 0.5)
		return;
	lab_runlog_sample("decisions/s", (double)(decisions - c->decisions) /
						 (elapsed - c->t));
	c->decisions = decisions;
	c->t = elapsed;
}

static void lab_controlled_end(const struct lab_opts *o, int findings,
			       uint64_t schedules, uint64_t decisions,
			       double elapsed)
{
	char detail[256];

	snprintf(detail, sizeof(detail),
		 "controlled %s (depth %u)%s, %llu schedules, %llu decisions "
		 "in %.1f s",
		 lab_strategy_name(o->strategy), o->depth,
		 o->memory == LAB_MEM_C11 ? " memory c11" : "",
		 (unsigned long long)schedules, (unsigned long long)decisions,
		 elapsed);
	lab_runlog_end(findings ? "fail" : "pass", detail, o->out_dir);
}

/* FNV-1a over every decision of the run: two runs with the same seed and
 * options must print the same digest (the determinism test compares it). */
static uint64_t lab_digest(uint64_t h, const struct lab_sched_result *r)
{
	uint64_t i;

	for (i = 0; i < r->ntrace; i++) {
		h ^= r->trace[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The memory model line: printed only for c11, so an SC run prints what
 * it always did. */
static void lab_memory_banner(const struct lab_opts *o)
{
	if (o->memory != LAB_MEM_C11)
		return;
	printf("controlled: memory c11, history %u, stale reads %u/1000 of "
	       "reads-from choices\n",
	       o->history, o->stale_permille);
}

/* Schedules are numbered from 1 in the order they run; "schedule N"
 * found it and the summary's count (schedules run, that one included)
 * agree: the count is the number of the last schedule run. */
int lab_controlled_run(const struct lab_opts *o)
{
	double t0 = lab_now(), elapsed = 0;
	uint64_t run = 0, decisions = 0, preempt = 0, irqs = 0;
	uint64_t reads = 0, stale = 0;
	uint64_t digest = 0xcbf29ce484222325ull;
	struct lab_ctl_series series = { 0, 0 };
	struct lab_ctl_progress prog;
	int findings = 0;

	printf("controlled: seed %llu, strategy %s, depth %u, %u logical "
	       "thread%s x %u ops, irq %u/1000, bug %s\n",
	       (unsigned long long)o->seed,
	       o->strategy == LAB_STRAT_PCT ? "pct" : "random", o->depth,
	       o->logical, lab_plural(o->logical), o->ops_per_thread,
	       o->irq_permille, o->bug);
	lab_memory_banner(o);
	if (strcmp(o->backend, "labyrinth"))
		printf("controlled: backend %s: scheduling points at its calls "
		       "and inside its code where it is built instrumented; no "
		       "interrupts\n",
		       o->backend);
	fflush(stdout);
	lab_runlog_begin(o, "stress-controlled");
	lab_ctl_progress_init(&prog, o);
	while ((o->schedules ? run < o->schedules : elapsed < o->seconds) &&
	       !findings && !lab_stop_requested()) {
		struct lab_opts so = *o;
		struct lab_sched_result r;

		/* the seed of schedule N is derived from N - 1, as always */
		so.seed = lab_schedule_seed(o->seed, run);
		so.schedules = 1;
		if (lab_sched_run(&so, NULL, 0, &r)) {
			lab_ctl_progress_break(&prog);
			fprintf(stderr,
				"labyrinth: schedule set-up failed: %s\n",
				lab_last_error());
			return -1;
		}
		run++;
		decisions += r.decisions;
		digest = lab_digest(digest, &r);
		preempt += r.preemptions;
		irqs += r.irqs;
		reads += r.reads;
		stale += r.stale_reads;
		elapsed = lab_now() - t0;
		lab_controlled_series(&series, decisions, elapsed);
		if (r.found) {
			lab_ctl_progress_break(&prog);
			printf("schedule %llu (seed %llu): %s at %s after %llu "
			       "decisions\n",
			       (unsigned long long)run,
			       (unsigned long long)so.seed, r.finding.kind,
			       r.finding.where,
			       (unsigned long long)r.finding.step);
			fflush(stdout);
			lab_save_schedule(&so, &r);
			findings++;
		} else {
			lab_ctl_progress(&prog, o, run, decisions, findings,
					 elapsed);
		}
		lab_sched_result_free(&r);
	}
	if (prog.live)
		lab_ctl_progress_line(&prog, o, run, decisions, findings,
				      elapsed);
	lab_ctl_progress_break(&prog);
	printf("controlled summary: %llu schedules, %llu decisions in %.1f s "
	       "(%.0f decisions/s), %llu preemptions, %llu interrupts, "
	       "%d finding(s)\n",
	       (unsigned long long)run, (unsigned long long)decisions, elapsed,
	       elapsed > 0 ? (double)decisions / elapsed : 0.0,
	       (unsigned long long)preempt, (unsigned long long)irqs, findings);
	if (o->memory == LAB_MEM_C11)
		printf("controlled memory c11: %llu reads-from decisions, "
		       "%llu stale reads (a load read an older store)\n",
		       (unsigned long long)reads, (unsigned long long)stale);
	printf("trace digest %016llx\n", (unsigned long long)digest);
	lab_controlled_end(o, findings, run, decisions, elapsed);
	return findings;
}
