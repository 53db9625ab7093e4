/* run.c - runs one controlled schedule of a test: checks the description,
 * sets the run up, isolates it in a child on request, and fills the
 * outcome.
 *
 * Isolation: the scheduler state and the decision trace live in a shared
 * mapping.  A bug that crashes the code under test (or a sanitizer that
 * stops the child) then still leaves the parent the decisions taken up to
 * that point and where the running thread was, so the crash is a finding
 * that replays like any other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define LAB_SCHED_DEFAULT_STEPS 200000
#define LAB_SCHED_TRACE_SLACK 64

uint64_t lab_sched_splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t lab_sched_digest(uint64_t h, const lab_sched_decision_t *d, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		h ^= d[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void *lab_sched_shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void lab_sched_shared_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

int lab_sched_test_check(const struct lab_sched_test *t, char *err,
			 size_t errlen)
{
	const char *name = t && t->name ? t->name : "unnamed";
	unsigned i;

	if (!t) {
		snprintf(err, errlen, "sched: no test description");
		return -EINVAL;
	}
	if (t->nthreads < 1 || t->nthreads > LAB_SCHED_MAX_THREADS) {
		snprintf(err, errlen,
			 "sched: test '%s' has %u threads (1 to %u allowed)",
			 name, t->nthreads, LAB_SCHED_MAX_THREADS);
		return -EINVAL;
	}
	for (i = 0; i < t->nthreads; i++)
		if (!t->threads[i].fn) {
			snprintf(err, errlen,
				 "sched: test '%s': thread %u has no function",
				 name, i);
			return -EINVAL;
		}
	if (t->strategy > LAB_SCHED_LIST) {
		snprintf(err, errlen, "sched: test '%s': unknown strategy %d",
			 name, (int)t->strategy);
		return -EINVAL;
	}
	if (t->strategy == LAB_SCHED_LIST && t->nlist && !t->list) {
		snprintf(err, errlen,
			 "sched: test '%s': a list of %llu decisions without "
			 "decisions",
			 name, (unsigned long long)t->nlist);
		return -EINVAL;
	}
	if (t->irq_permille > 1000) {
		snprintf(err, errlen,
			 "sched: test '%s': irq_permille %u is over 1000", name,
			 t->irq_permille);
		return -EINVAL;
	}
	return lab_sched_memory_check(t, err, errlen);
}

/* The livelock bound, and the budget (16 x it by default, capped). */
#define LAB_SCHED_BUDGET_FACTOR 16u
#define LAB_SCHED_BUDGET_MAX 100000000u

static uint64_t lab_stall_steps(const struct lab_sched_test *t)
{
	return t->stall_steps ? t->stall_steps : LAB_SCHED_DEFAULT_STEPS;
}

static uint64_t lab_max_steps(const struct lab_sched_test *t)
{
	uint64_t b = lab_stall_steps(t) * LAB_SCHED_BUDGET_FACTOR;

	if (t->max_steps)
		return t->max_steps;
	if (b > LAB_SCHED_BUDGET_MAX)
		b = LAB_SCHED_BUDGET_MAX;
	return b < lab_stall_steps(t) ? lab_stall_steps(t) : b;
}

/* labyrinth_instr's condition-variable waiters of the last schedule, if
 * the program links it (labyrinth/sched_instr.h). */
__attribute__((weak)) void lab_instr_reset(void);

/* Set-up, the schedule, tear-down; the run is active throughout, so the
 * client's set-up and tear-down may record findings on main. */
static int lab_run_here(struct lab_sched_rt *rt, const struct lab_sched_test *t,
			_Atomic uint32_t *trace, uint64_t cap)
{
	int ret = 0;

	rt->t = t;
	rt->n = t->nthreads;
	rt->trace = trace;
	rt->trace_cap = cap;
	rt->max_steps = lab_max_steps(t);
	rt->stall_steps = lab_stall_steps(t);
	lab_sched_rt_init(rt);
	atomic_store(&lab_sched_rt_active, rt);
	if (lab_instr_reset)
		lab_instr_reset();
	lab_sched_memory_begin(t);
	atomic_store(&rt->phase, "set-up");
	if (t->setup)
		ret = t->setup(t->arg);
	if (!ret)
		ret = lab_sched_rt_execute(rt);
	atomic_store(&rt->phase, "tear-down");
	if (t->teardown)
		t->teardown(t->arg);
	lab_sched_memory_end();
	atomic_store(&lab_sched_rt_active, NULL);
	return ret;
}

/* The note for threads nobody could preempt: the first one named. */
static void lab_note_nonpreemptible(const struct lab_sched_rt *rt,
				    struct lab_sched_outcome *out)
{
	unsigned mask = atomic_load(&rt->nonpreemptible);

	out->nonpreemptible = mask;
	if (mask)
		snprintf(out->note, sizeof(out->note),
			 "non-preemptible run: thread %d of %u ran its whole "
			 "body in one step (it passed no scheduling point)",
			 __builtin_ctz(mask), rt->n);
}

static void lab_outcome_from(const struct lab_sched_rt *rt,
			     struct lab_sched_outcome *out)
{
	uint64_t n = atomic_load(&rt->ntrace), i;

	out->found = rt->found;
	out->exhausted = atomic_load(&rt->exhausted);
	out->stalled = atomic_load(&rt->stalled);
	out->finding = rt->finding;
	out->decisions = n;
	out->preemptions = atomic_load(&rt->preemptions);
	out->irqs = atomic_load(&rt->irqs);
	out->reads = atomic_load(&rt->reads);
	out->stale_reads = atomic_load(&rt->stale_reads);
	out->progress = atomic_load(&rt->progress);
	out->diverged_at = atomic_load(&rt->diverged_at);
	memcpy(out->diverged_why, rt->diverged_why, sizeof(out->diverged_why));
	lab_note_nonpreemptible(rt, out);
	if (n > rt->trace_cap)
		n = rt->trace_cap;
	out->trace = malloc((n ? n : 1) * sizeof(*out->trace));
	for (i = 0; out->trace && i < n; i++)
		out->trace[i] = atomic_load_explicit(&rt->trace[i],
						     memory_order_relaxed);
	out->ntrace = out->trace ? n : 0;
}

/* ---- isolation ---------------------------------------------------------------- */

struct lab_sched_shared {
	struct lab_sched_rt rt;
	atomic_int child_done; /* 1 ran, -1 could not run */
	atomic_int child_ret;
	_Atomic uint32_t trace[];
};

/* The child did not come back normally: the shared state still says how
 * far it got and where the running thread was. */
static void lab_child_died(struct lab_sched_rt *rt, int status)
{
	struct lab_sched_finding *f = &rt->finding;
	int cur = atomic_load(&rt->cur);
	const char *where = "unknown";
	unsigned long long n = atomic_load(&rt->ntrace);

	if (cur >= 0 && cur < LAB_SCHED_MAX_THREADS) {
		unsigned pos = atomic_load(&rt->th[cur].recent_pos);
		lab_site_t s =
			pos ? atomic_load(
				      &rt->th[cur].recent[(pos - 1) %
							  LAB_SCHED_RECENT]) :
			      NULL;

		if (s)
			where = s;
	}
	if (cur < 0 && atomic_load(&rt->phase))
		where = atomic_load(&rt->phase);
	memset(f, 0, sizeof(*f));
	/* Exit code 66 is TSan's (the harness sets it): a race, or another
	 * report; a client with the sanitizer's own words says which. */
	snprintf(f->kind, sizeof(f->kind), "%s",
		 WIFSIGNALED(status) ? "crash" : "sanitizer");
	snprintf(f->where, sizeof(f->where), "%s", where);
	snprintf(f->message, sizeof(f->message),
		 "schedule child %s %d after %llu decisions (thread %d at %s)",
		 WIFSIGNALED(status) ? "killed by signal" : "exited with",
		 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		 n, cur, where);
	f->step = n;
	f->thread = cur;
	rt->found = true;
}

/* ---- the hang watchdog (isolated children) ---------------------------------- */

#define LAB_HANG_DEFAULT_MS 10000
#define LAB_HANG_TICK_MS 100

static int lab_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Waits for the child; one that takes no decision (and changes no phase)
 * for the limit is stuck outside the scheduler: it is killed, and
 * rt->hung says so.  The parent watches, not the child, because a thread
 * blocked in a raw lock may never run a signal handler (TSan defers
 * them).  Without pidfds (old kernels) it only waits. */
static int lab_wait_child(pid_t pid, struct lab_sched_rt *rt, unsigned limit_ms,
			  int *status)
{
	int fd = lab_pidfd_open(pid);
	uint64_t seen = UINT64_MAX;
	const char *phase = NULL;
	unsigned idle = 0;

	limit_ms = limit_ms ? limit_ms : LAB_HANG_DEFAULT_MS;
	while (fd >= 0) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t n;

		if (poll(&p, 1, LAB_HANG_TICK_MS) != 0)
			break; /* exited (or poll failed: just wait) */
		n = atomic_load_explicit(&rt->ntrace, memory_order_relaxed);
		if (n != seen || atomic_load(&rt->phase) != phase) {
			seen = n;
			phase = atomic_load(&rt->phase);
			idle = 0;
		} else if ((idle += LAB_HANG_TICK_MS) >= limit_ms) {
			atomic_store(&rt->hung, true);
			kill(pid, SIGKILL);
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return waitpid(pid, status, 0) < 0 ? -1 : 0;
}

/* The watchdog stopped the child: where the running thread was. */
static void lab_child_hung(struct lab_sched_rt *rt, unsigned limit_ms)
{
	struct lab_sched_finding *f = &rt->finding;
	int cur = atomic_load(&rt->cur);
	lab_site_t site = NULL;

	if (cur >= 0 && cur < LAB_SCHED_MAX_THREADS) {
		unsigned pos = atomic_load(&rt->th[cur].recent_pos);

		if (pos)
			site = atomic_load(
				&rt->th[cur]
					 .recent[(pos - 1) % LAB_SCHED_RECENT]);
	}
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "hang");
	snprintf(f->where, sizeof(f->where), "%s",
		 site	 ? site :
		 cur < 0 ? atomic_load(&rt->phase) :
			   "thread start");
	snprintf(f->message, sizeof(f->message),
		 "no scheduling decision for %u ms after decision %llu: thread "
		 "%d, last at %s, waits or spins on something the scheduler "
		 "does not control (a raw lock, a blocking syscall, "
		 "uninstrumented code)",
		 limit_ms ? limit_ms : LAB_HANG_DEFAULT_MS,
		 (unsigned long long)atomic_load(&rt->ntrace), cur,
		 site ? site : "its start");
	f->step = atomic_load(&rt->ntrace);
	f->thread = cur;
	rt->found = true;
}

static int lab_run_isolated(const struct lab_sched_test *t, uint64_t cap,
			    struct lab_sched_outcome *out)
{
	size_t bytes = sizeof(struct lab_sched_shared) + cap * sizeof(uint32_t);
	struct lab_sched_shared *sh = lab_sched_shared_alloc(bytes);
	int status = 0, ret;
	pid_t pid;

	if (!sh)
		return -ENOMEM;
	fflush(NULL);
	if (t->fork_prepare)
		t->fork_prepare();
	pid = fork();
	if (pid == 0) {
		if (t->fork_child)
			t->fork_child();
		ret = lab_run_here(&sh->rt, t, sh->trace, cap);
		atomic_store(&sh->child_ret, ret);
		atomic_store(&sh->child_done, ret ? -1 : 1);
		fflush(NULL);
		_exit(ret ? 3 : 0);
	}
	if (t->fork_parent)
		t->fork_parent();
	if (pid < 0 || lab_wait_child(pid, &sh->rt, t->hang_ms, &status)) {
		ret = -errno;
		lab_sched_shared_free(sh, bytes);
		return ret;
	}
	sh->rt.trace = sh->trace;
	sh->rt.trace_cap = cap;
	if (!(WIFEXITED(status) && atomic_load(&sh->child_done))) {
		out->child_died = true;
		out->child_status = status;
		if (atomic_load(&sh->rt.hung))
			lab_child_hung(&sh->rt, t->hang_ms);
		else
			lab_child_died(&sh->rt, status);
	}
	lab_outcome_from(&sh->rt, out);
	ret = atomic_load(&sh->child_done) < 0 ? atomic_load(&sh->child_ret) :
						 0;
	lab_sched_shared_free(sh, bytes);
	return ret;
}

/* The trace of in-process runs, kept for the next one: only the first
 * ntrace entries of a run are ever read, so it needs no clearing. */
static _Atomic uint32_t *lab_trace_buffer(uint64_t cap)
{
	static _Atomic uint32_t *buf;
	static uint64_t have;
	_Atomic uint32_t *p;

	if (cap <= have)
		return buf;
	p = realloc(buf, cap * sizeof(*buf));
	if (p) {
		buf = p;
		have = cap;
	}
	return p;
}

int lab_sched_run_test(const struct lab_sched_test *t,
		       struct lab_sched_outcome *out)
{
	uint64_t cap;
	struct lab_sched_rt *rt;
	_Atomic uint32_t *trace;
	int ret;

	memset(out, 0, sizeof(*out));
	out->diverged_at = UINT64_MAX;
	if ((ret = lab_sched_test_check(t, out->error, sizeof(out->error))))
		return ret;
	if (atomic_load(&lab_sched_rt_active)) {
		snprintf(out->error, sizeof(out->error),
			 "sched: test '%s' started inside another run",
			 t->name ? t->name : "unnamed");
		return -EBUSY;
	}
	if ((ret = lab_sched_memory_prepare(t, out->error, sizeof(out->error))))
		return ret;
	cap = lab_max_steps(t) + LAB_SCHED_TRACE_SLACK;
	if (t->isolate) {
		ret = lab_run_isolated(t, cap, out);
	} else {
		rt = calloc(1, sizeof(*rt));
		trace = lab_trace_buffer(cap);
		if (!rt || !trace) {
			ret = -ENOMEM;
		} else {
			ret = lab_run_here(rt, t, trace, cap);
			lab_outcome_from(rt, out);
		}
		free(rt);
	}
	if (ret && !*out->error)
		snprintf(out->error, sizeof(out->error),
			 "sched: test '%s' could not run: %s",
			 t->name ? t->name : "unnamed", strerror(-ret));
	return ret;
}

void lab_sched_outcome_free(struct lab_sched_outcome *out)
{
	free(out->trace);
	out->trace = NULL;
	out->ntrace = 0;
}
