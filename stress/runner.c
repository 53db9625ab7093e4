/* runner.c - runs controlled schedules: set-up, clean-up, isolation, and
 * the controlled mode's loop over many schedules.
 *
 * Isolation: with opts.isolate each schedule runs in a forked child whose
 * scheduler state and decision trace live in a shared mapping.  A bug
 * that crashes the allocator (or a sanitizer that stops the child) then
 * still leaves the parent the decisions taken up to that point, so the
 * crash becomes an artifact that replays like any other finding.
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

#include "scheduler.h"

#define LAB_TSAN_EXITCODE 66

uint64_t lab_splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- one schedule ----------------------------------------------------------- */

/* PCT: distinct random priorities d..d+n-1, and d-1 change points spread
 * over the expected number of steps k. */
static void lab_pct_init(struct lab_sched *s, uint64_t *rng)
{
	unsigned d = s->opts->depth ? s->opts->depth : 1, t, i;
	uint64_t k = (uint64_t)s->n * s->opts->ops_per_thread * 8 + 1;
	int prio[LAB_MAX_LOGICAL];

	for (t = 0; t < s->n; t++)
		prio[t] = (int)(d + t);
	for (t = s->n - 1; t > 0; t--) {
		unsigned j = (unsigned)(lab_splitmix(rng) % (t + 1));
		int x = prio[t];

		prio[t] = prio[j];
		prio[j] = x;
	}
	for (t = 0; t < s->n; t++)
		atomic_store(&s->prio[t], prio[t]);
	s->nchange = d - 1 < 8 ? d - 1 : 8;
	for (i = 0; i < s->nchange; i++)
		s->change_at[i] = 1 + lab_splitmix(rng) % k;
}

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
		atomic_store(&lt->state, LAB_LT_RUNNABLE);
	}
	return 0;
}

static int lab_setup(struct lab_sched *s, const struct lab_opts *o,
		     const lab_decision_t *list, uint64_t n,
		     _Atomic uint32_t *trace, uint64_t cap)
{
	uint64_t rng = o->seed;
	int ret;

	s->opts = o;
	s->n = o->logical;
	s->list = list;
	s->nlist = n;
	s->trace = trace;
	s->trace_cap = cap;
	atomic_store(&s->cur, -1);
	atomic_store(&s->diverged_at, UINT64_MAX);
	lab_spin_lock_init(&s->lock);
	if (lab_bug_select(o->bug[0] ? o->bug : "none"))
		return -EINVAL;
	if ((ret = lab_maze_for(s)) || (ret = lab_contexts_for(s)))
		return ret;
	lab_program_generate(s, o->seed);
	atomic_store(&s->rng, lab_splitmix(&rng));
	lab_pct_init(s, &rng);
	return 0;
}

/* Blocks still in inboxes were handed to a thread after it finished; its
 * context frees them now (hooks are off: this is not scheduled). */
static void lab_free_leftovers(struct lab_sched *s)
{
	unsigned t;

	for (t = 0; t < s->n && !s->found; t++) {
		struct lab_lthread *lt = &s->lt[t];

		lab_sched_consume(lt->inbox);
		lab_ctx_switch(lt->ctx);
		while (lt->ninbox && !s->found) {
			struct lab_block *b = &lt->inbox[--lt->ninbox];

			if (lab_free_pages_addr(s->maze, b->addr, b->order))
				lab_sched_fail(s, "free-error", "leftovers",
					       "%s", lab_last_error());
		}
		lab_ctx_switch(NULL);
	}
}

/* A maze with a finding may be corrupt: it goes first, so destroying the
 * contexts does not drain their caches into it. */
static void lab_teardown(struct lab_sched *s)
{
	unsigned t;

	if ((s->found || atomic_load(&s->exhausted)) && s->maze) {
		lab_maze_destroy(s->maze);
		s->maze = NULL;
	}
	for (t = 0; t < s->n; t++) {
		lab_ctx_destroy(s->lt[t].ctx);
		lab_ctx_destroy(s->lt[t].stranger);
		s->lt[t].ctx = s->lt[t].stranger = NULL;
	}
	if (s->maze && !s->found)
		lab_program_final_check(s);
	lab_maze_destroy(s->maze);
	s->maze = NULL;
	lab_program_free(s);
	lab_bug_select("none");
}

static int lab_run_here(struct lab_sched *s, const struct lab_opts *o,
			const lab_decision_t *list, uint64_t n,
			_Atomic uint32_t *trace, uint64_t cap)
{
	int ret = lab_setup(s, o, list, n, trace, cap);

	lab_capture_install(&s->cap);
	if (!ret)
		ret = lab_sched_execute(s);
	if (!ret && !atomic_load(&s->exhausted)) /* cut short: unchecked */
		lab_free_leftovers(s);
	lab_teardown(s);
	lab_capture_install(NULL); /* s may go away */
	return ret;
}

static void lab_result_from(const struct lab_sched *s,
			    struct lab_sched_result *r)
{
	uint64_t n = atomic_load(&s->ntrace), i;

	memset(r, 0, sizeof(*r));
	r->found = s->found;
	r->exhausted = atomic_load(&s->exhausted);
	r->finding = s->finding;
	lab_rec_init(&r->detail, lab_kind_of_check(s->finding.kind),
		     s->finding.kind);
	lab_oplog_to_rec(s, &r->detail);
	lab_capture_to_rec(&s->cap, &r->detail);
	r->steps = r->decisions = n;
	r->preemptions = atomic_load(&s->preemptions);
	r->irqs = atomic_load(&s->irqs);
	r->ops = atomic_load(&s->ops_done);
	r->diverged_at = atomic_load(&s->diverged_at);
	memcpy(r->diverged_why, s->diverged_why, sizeof(r->diverged_why));
	if (n > s->trace_cap)
		n = s->trace_cap;
	r->trace = malloc((n ? n : 1) * sizeof(*r->trace));
	for (i = 0; r->trace && i < n; i++)
		r->trace[i] = atomic_load_explicit(&s->trace[i],
						   memory_order_relaxed);
	r->ntrace = r->trace ? n : 0;
}

/* ---- isolation ---------------------------------------------------------------- */

struct lab_shared {
	struct lab_sched sched;
	atomic_int child_done;
	_Atomic uint32_t trace[];
};

/* The child did not come back normally, or a sanitizer reported in it
 * (or, status 0, in this process) without stopping it: the shared state
 * still says how far it got and where the running thread was. */
static void lab_child_died(struct lab_sched *s, int status)
{
	struct lab_finding *f = &s->finding;
	int cur = atomic_load(&s->cur);
	const char *where = "unknown";

	if (cur >= 0 && cur < LAB_MAX_LOGICAL &&
	    lab_last_point(&s->lt[cur]) >= 0)
		where = lab_yield_point_name(lab_last_point(&s->lt[cur]));
	struct lab_rec cap;

	memset(f, 0, sizeof(*f));
	lab_rec_init(&cap, LAB_KIND_CRASH, "");
	if (lab_capture_to_rec(&s->cap, &cap)) /* the sanitizer said what */
		snprintf(f->kind, sizeof(f->kind), "%s",
			 lab_kind_name(cap.kind));
	else if (WIFSIGNALED(status))
		snprintf(f->kind, sizeof(f->kind), "crash");
	else if (WEXITSTATUS(status) == LAB_TSAN_EXITCODE)
		snprintf(f->kind, sizeof(f->kind), "data-race");
	else
		snprintf(f->kind, sizeof(f->kind), "sanitizer");
	snprintf(f->where, sizeof(f->where), "%s", where);
	if (*cap.summary)
		snprintf(f->message, sizeof(f->message),
			 "%s (after %llu decisions, thread %d at %s)",
			 cap.summary + strlen("SUMMARY: "),
			 (unsigned long long)atomic_load(&s->ntrace), cur,
			 where);
	else
		snprintf(f->message, sizeof(f->message),
			 "schedule child %s %d after %llu decisions (thread "
			 "%d at %s)",
			 WIFSIGNALED(status) ? "killed by signal" :
					       "exited with",
			 WIFSIGNALED(status) ? WTERMSIG(status) :
					       WEXITSTATUS(status),
			 (unsigned long long)atomic_load(&s->ntrace), cur,
			 where);
	f->step = atomic_load(&s->ntrace);
	f->thread = cur;
	s->found = true;
}

static int lab_run_isolated(const struct lab_opts *o,
			    const lab_decision_t *list, uint64_t n,
			    uint64_t cap, struct lab_sched_result *r)
{
	size_t bytes = sizeof(struct lab_shared) + cap * sizeof(uint32_t);
	struct lab_shared *sh = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status = 0;
	bool failed;
	pid_t pid;

	if (sh == MAP_FAILED)
		return -ENOMEM;
	fflush(NULL);
	lab_stop_signals_hold();
	pid = fork();
	if (pid == 0) {
		int ret;

		lab_stop_signals_child();
		ret = lab_run_here(&sh->sched, o, list, n, sh->trace, cap);

		atomic_store(&sh->child_done, ret ? -1 : 1);
		fflush(NULL);
		_exit(ret ? 3 : 0);
	}
	lab_stop_signals_release();
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		munmap(sh, bytes);
		return -errno;
	}
	if (!(WIFEXITED(status) && atomic_load(&sh->child_done)) ||
	    (!sh->sched.found && sh->sched.cap.reports))
		lab_child_died(&sh->sched, status);
	sh->sched.trace = sh->trace;
	sh->sched.trace_cap = cap;
	lab_result_from(&sh->sched, r);
	failed = atomic_load(&sh->child_done) < 0;
	munmap(sh, bytes);
	return failed ? -EINVAL : 0;
}

int lab_sched_run_programs(const struct lab_opts *o,
			   const struct lab_programs *p,
			   const lab_decision_t *list, uint64_t n,
			   struct lab_sched_result *r)
{
	uint64_t cap = lab_sched_budget(o) + 64;
	struct lab_sched *s = calloc(1, sizeof(*s));
	_Atomic uint32_t *trace = calloc(cap, sizeof(*trace));
	int ret = -ENOMEM;

	if (s && trace && o->logical >= 1 && o->logical <= LAB_MAX_LOGICAL) {
		s->given = p;
		ret = lab_run_here(s, o, list, n, trace, cap);
		lab_result_from(s, r);
	} else if (s && trace) {
		ret = -EINVAL;
	}
	free(trace);
	free(s);
	return ret;
}

int lab_sched_run(const struct lab_opts *o, const lab_decision_t *list,
		  uint64_t n, struct lab_sched_result *r)
{
	uint64_t cap = lab_sched_budget(o) + 64;
	struct lab_sched *s;
	_Atomic uint32_t *trace;
	int ret;

	if (o->logical < 1 || o->logical > LAB_MAX_LOGICAL)
		return -EINVAL;
	if (o->isolate)
		return lab_run_isolated(o, list, n, cap, r);
	s = calloc(1, sizeof(*s));
	trace = calloc(cap, sizeof(*trace));
	if (!s || !trace) {
		free(s);
		free(trace);
		return -ENOMEM;
	}
	ret = lab_run_here(s, o, list, n, trace, cap);
	/* a sanitizer report that did not stop us */
	if (!s->found && s->cap.reports)
		lab_child_died(s, 0);
	lab_result_from(s, r);
	free(trace);
	free(s);
	return ret;
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
		"%scontrolled: %s, %s schedules, %llu decisions (%.0f/s), "
		"%d finding%s%s",
		p->live ? "\r" : "", when, count, (unsigned long long)decisions,
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
		 "controlled %s (depth %u), %llu schedules, %llu decisions "
		 "in %.1f s",
		 lab_strategy_name(o->strategy), o->depth,
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

/* Schedules are numbered from 1 in the order they run; "schedule N"
 * found it and the summary's count (schedules run, that one included)
 * agree: the count is the number of the last schedule run. */
int lab_controlled_run(const struct lab_opts *o)
{
	double t0 = lab_now(), elapsed = 0;
	uint64_t run = 0, decisions = 0, preempt = 0, irqs = 0;
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
	printf("trace digest %016llx\n", (unsigned long long)digest);
	lab_controlled_end(o, findings, run, decisions, elapsed);
	return findings;
}
