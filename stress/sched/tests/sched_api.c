/* sched_api.c - the scheduler library through its public API only
 * (labyrinth/sched.h), no allocator: user-style C11 programs whose
 * scheduling points are placed as instrumented atomics place them.
 *
 *   sched_api CASE     (one ctest test per case, label sched)
 *
 * bad-input     0 or too many threads, a NULL function, a run inside a
 *               run, an out-of-range interrupt rate: -EINVAL/-EBUSY with
 *               one line naming the cause
 * outside       scheduling points outside a schedule (and on main during
 *               set-up) are plain: return at once, block nothing
 * race          a split load/store increment is found (random and PCT),
 *               the trace replays to the same finding at the same step
 *               and says it followed every decision; same seed, same
 *               digest
 * correct       the same counter with fetch_add: no finding in 300
 *               schedules
 * step          the invariant runs after every decision (an intermediate
 *               state is seen there)
 * crash         an invariant that crashes, isolated: a finding that
 *               keeps the decisions, the harness goes on
 * nonpreempt    a body without a scheduling point is named in the outcome
 * lock-held     a thread exiting with a lock held is a finding naming it
 * deadlock      untimed waiters on each other: a deadlock naming every
 *               thread; a timed one times out instead
 * stall         spinning threads with no progress: a livelock after
 *               stall_steps decisions; a run still progressing stops at
 *               max_steps without a finding (exhausted)
 * hang          a thread blocked in a real (uninstrumented) mutex held by
 *               a descheduled thread: the isolated child is stopped with a
 *               "hang" finding naming the thread and its last site
 * artifact      a finding written as an artifact reads back, replays
 *               exactly and shrinks to no more preemptions; an artifact of
 *               another test or build, or a corrupt one, is one line
 * tsan          (TSan builds) a data race between logical threads on
 *               plain memory is reported as a data-race finding
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "labyrinth/sched.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #c);                                 \
			exit(1);                                               \
		}                                                              \
	} while (0)

static atomic_int counter;
static atomic_int flag[2];
static int plain;

static void body_empty(void *arg)
{
	(void)arg;
}

/* ---- bad input ------------------------------------------------------------- */

static int nested_setup(void *arg)
{
	struct lab_sched_test inner = { .name = "inner", .nthreads = 1 };
	struct lab_sched_outcome out;
	int *ret = arg;

	inner.threads[0].fn = body_empty;
	*ret = lab_sched_run_test(&inner, &out);
	CHECK(strstr(out.error, "inside another run"));
	return 0;
}

static void expect_error(const struct lab_sched_test *t, int err,
			 const char *what)
{
	struct lab_sched_outcome out;

	CHECK(lab_sched_run_test(t, &out) == err);
	CHECK(strstr(out.error, what));
	CHECK(!strchr(out.error, '\n'));
	printf("error: %s\n", out.error);
}

static int case_bad_input(void)
{
	struct lab_sched_test t = { .name = "bad", .nthreads = 0 };
	int nested = 0;
	unsigned i;

	expect_error(&t, -EINVAL, "has 0 threads");
	t.nthreads = LAB_SCHED_MAX_THREADS + 1;
	expect_error(&t, -EINVAL, "has 9 threads (1 to 8 allowed)");
	t.nthreads = 2;
	t.threads[0].fn = body_empty;
	expect_error(&t, -EINVAL, "thread 1 has no function");
	for (i = 0; i < 2; i++)
		t.threads[i].fn = body_empty;
	t.irq_permille = 1001;
	expect_error(&t, -EINVAL, "irq_permille 1001");
	t.irq_permille = 0;
	t.strategy = LAB_SCHED_LIST;
	t.nlist = 3;
	expect_error(&t, -EINVAL, "without decisions");
	t.strategy = LAB_SCHED_RANDOM;
	t.nlist = 0;
	t.setup = nested_setup;
	t.arg = &nested;
	{
		struct lab_sched_outcome out;

		CHECK(lab_sched_run_test(&t, &out) == 0);
		lab_sched_outcome_free(&out);
	}
	CHECK(nested == -EBUSY);
	return 0;
}

/* ---- outside a schedule ----------------------------------------------------------- */

static bool never_ready(void *arg)
{
	(void)arg;
	abort(); /* outside a schedule nobody evaluates it */
}

static void plain_points(void)
{
	CHECK(!lab_sched_active());
	CHECK(lab_sched_current() == -1);
	lab_sched_point(LAB_SITE("outside"));
	lab_sched_spin(LAB_SITE("outside spin"));
	lab_sched_progress();
	lab_sched_lock_note(&counter, LAB_SITE("outside lock"), true);
	CHECK(lab_sched_block(LAB_SITE("outside block"), never_ready, NULL,
			      false) == 0);
}

static int outside_setup(void *arg)
{
	(void)arg;
	plain_points(); /* main, inside a run: still plain */
	return 0;
}

static int case_outside(void)
{
	struct lab_sched_test t = { .name = "outside", .nthreads = 1 };
	struct lab_sched_outcome out;

	plain_points();
	lab_sched_fail("never", "outside", "ignored outside a run");
	CHECK(!lab_sched_found());
	t.threads[0].fn = body_empty;
	t.setup = outside_setup;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(!out.found);
	lab_sched_outcome_free(&out);
	return 0;
}

/* ---- a racy counter ----------------------------------------------------------------- */

#define INCS 3

/* load; point; store: a read-modify-write split by a scheduling point, as
 * an instrumented atomic_load/atomic_store pair is. */
static void body_split(void *arg)
{
	int i, v;

	(void)arg;
	for (i = 0; i < INCS; i++) {
		lab_sched_point(LAB_SITE("counter load"));
		v = atomic_load(&counter);
		lab_sched_point(LAB_SITE("counter store"));
		atomic_store(&counter, v + 1);
		lab_sched_progress();
	}
}

static void body_fetch_add(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < INCS; i++) {
		lab_sched_point(LAB_SITE("counter fetch_add"));
		atomic_fetch_add(&counter, 1);
		lab_sched_progress();
	}
}

static int counter_setup(void *arg)
{
	(void)arg;
	atomic_store(&counter, 0);
	return 0;
}

static const char *counter_invariant(void *arg, bool final)
{
	static char msg[64];

	(void)arg;
	if (!final || atomic_load(&counter) == 2 * INCS)
		return NULL;
	snprintf(msg, sizeof(msg), "counter is %d, not %d",
		 atomic_load(&counter), 2 * INCS);
	return msg;
}

static void counter_test(struct lab_sched_test *t, void (*fn)(void *))
{
	memset(t, 0, sizeof(*t));
	t->name = "counter";
	t->nthreads = 2;
	t->threads[0].fn = t->threads[1].fn = fn;
	t->setup = counter_setup;
	t->invariant = counter_invariant;
}

/* The first seed of 1..limit whose schedule finds something; 0 if none. */
static uint64_t first_finding(struct lab_sched_test *t, uint64_t limit,
			      struct lab_sched_outcome *out)
{
	uint64_t seed;

	for (seed = 1; seed <= limit; seed++) {
		t->seed = seed;
		CHECK(lab_sched_run_test(t, out) == 0);
		if (out->found)
			return seed;
		lab_sched_outcome_free(out);
	}
	return 0;
}

static int case_race(void)
{
	struct lab_sched_test t;
	struct lab_sched_outcome out, again, replay;
	uint64_t seed;

	counter_test(&t, body_split);
	t.strategy = LAB_SCHED_RANDOM;
	CHECK((seed = first_finding(&t, 50, &out)));
	CHECK(!strcmp(out.finding.kind, "invariant"));
	CHECK(!strcmp(out.finding.where, "invariant:final"));
	CHECK(strstr(out.finding.message, "counter is"));
	printf("random: seed %llu: %s\n", (unsigned long long)seed,
	       out.finding.message);
	/* the same seed, the same decisions */
	CHECK(lab_sched_run_test(&t, &again) == 0);
	CHECK(lab_sched_digest(1, again.trace, again.ntrace) ==
	      lab_sched_digest(1, out.trace, out.ntrace));
	/* the trace replays exactly */
	t.strategy = LAB_SCHED_LIST;
	t.list = out.trace;
	t.nlist = out.ntrace;
	CHECK(lab_sched_run_test(&t, &replay) == 0);
	CHECK(replay.found && replay.diverged_at == UINT64_MAX);
	CHECK(replay.finding.step == out.finding.step);
	CHECK(!strcmp(replay.finding.message, out.finding.message));
	lab_sched_outcome_free(&replay);
	lab_sched_outcome_free(&again);
	lab_sched_outcome_free(&out);
	/* PCT finds it too */
	counter_test(&t, body_split);
	t.strategy = LAB_SCHED_PCT;
	t.depth = 2;
	t.pct_horizon = 4 * INCS * 2; /* about the steps a schedule takes */
	CHECK((seed = first_finding(&t, 50, &out)));
	printf("pct: seed %llu: %s\n", (unsigned long long)seed,
	       out.finding.message);
	lab_sched_outcome_free(&out);
	return 0;
}

static int case_correct(void)
{
	struct lab_sched_test t;
	struct lab_sched_outcome out;

	counter_test(&t, body_fetch_add);
	t.strategy = LAB_SCHED_RANDOM;
	CHECK(!first_finding(&t, 150, &out));
	t.strategy = LAB_SCHED_PCT;
	t.depth = 3;
	CHECK(!first_finding(&t, 150, &out));
	return 0;
}

/* ---- the invariant after every step ------------------------------------------------- */

static void body_pair(void *arg)
{
	(void)arg;
	atomic_store(&flag[0], 1);
	lab_sched_point(LAB_SITE("between the pair"));
	atomic_store(&flag[1], 1);
}

static const char *pair_invariant(void *arg, bool final)
{
	(void)arg;
	(void) final;
	return atomic_load(&flag[0]) != atomic_load(&flag[1]) ?
		       "flags differ between steps" :
		       NULL;
}

static int pair_setup(void *arg)
{
	(void)arg;
	atomic_store(&flag[0], 0);
	atomic_store(&flag[1], 0);
	return 0;
}

static int case_step(void)
{
	struct lab_sched_test t = { .name = "step", .nthreads = 1 };
	struct lab_sched_outcome out;

	t.threads[0].fn = body_pair;
	t.setup = pair_setup;
	t.invariant = pair_invariant;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && !strcmp(out.finding.where, "invariant:step"));
	CHECK(out.finding.thread == 0);
	lab_sched_outcome_free(&out);
	return 0;
}

/* ---- an invariant that crashes ----------------------------------------------------------- */

static const char *crashing_invariant(void *arg, bool final)
{
	volatile int *nowhere = arg;

	if (final)
		*nowhere = 1; /* arg is NULL */
	return NULL;
}

static int case_crash(void)
{
	struct lab_sched_test t;
	struct lab_sched_outcome out;

	counter_test(&t, body_fetch_add);
	t.invariant = crashing_invariant;
	t.isolate = true;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && out.child_died);
	CHECK(!strcmp(out.finding.kind, "crash") ||
	      !strcmp(out.finding.kind, "sanitizer"));
	CHECK(out.ntrace > 0 && out.ntrace == out.decisions);
	CHECK(!strcmp(out.finding.where, "invariant:final"));
	printf("crash: %s: %s\n", out.finding.kind, out.finding.message);
	lab_sched_outcome_free(&out);
	return 0;
}

/* ---- positions ---------------------------------------------------------------------------- */

static int case_nonpreempt(void)
{
	struct lab_sched_test t = { .name = "nonpreempt", .nthreads = 2 };
	struct lab_sched_outcome out;

	t.threads[0].fn = body_fetch_add;
	t.threads[1].fn = body_empty;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(!out.found);
	CHECK(out.nonpreemptible == 2u);
	CHECK(strstr(out.note, "thread 1 of 2 ran its whole body in one step"));
	printf("note: %s\n", out.note);
	lab_sched_outcome_free(&out);
	return 0;
}

static const char lock_site[] = "sched_api.c: lock taken here";

static void body_lock_and_leave(void *arg)
{
	(void)arg;
	lab_sched_point(LAB_SITE("before the lock"));
	lab_sched_lock_note(&counter, lock_site, true);
	lab_sched_point(LAB_SITE("holding the lock"));
}

static void body_lock_unlock(void *arg)
{
	(void)arg;
	lab_sched_lock_note(&plain, LAB_SITE("lock"), true);
	lab_sched_point(LAB_SITE("holding"));
	lab_sched_lock_note(&plain, LAB_SITE("unlock"), false);
}

static int case_lock_held(void)
{
	struct lab_sched_test t = { .name = "lock", .nthreads = 2 };
	struct lab_sched_outcome out;

	t.threads[0].fn = body_lock_unlock;
	t.threads[1].fn = body_lock_and_leave;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && !strcmp(out.finding.kind, "lock-held-at-exit"));
	CHECK(!strcmp(out.finding.where, lock_site));
	CHECK(out.finding.thread == 1);
	printf("lock: %s\n", out.finding.message);
	lab_sched_outcome_free(&out);
	return 0;
}

static bool flag_set(void *arg)
{
	return atomic_load((atomic_int *)arg);
}

/* Thread i waits for flag[1-i] before it sets flag[i]: both wait. */
static void body_wait_other(void *arg)
{
	int i = (int)(intptr_t)arg;

	lab_sched_point(LAB_SITE("before the wait"));
	lab_sched_block(LAB_SITE("waits for the other"), flag_set, &flag[1 - i],
			false);
	atomic_store(&flag[i], 1);
}

static int timed_ret;

static void body_timed_wait(void *arg)
{
	(void)arg;
	timed_ret = lab_sched_block(LAB_SITE("timed wait"), flag_set, &flag[0],
				    true);
}

static int case_deadlock(void)
{
	struct lab_sched_test t = { .name = "deadlock", .nthreads = 2 };
	struct lab_sched_outcome out;

	t.setup = pair_setup;
	t.threads[0] =
		(struct lab_sched_thread_desc){ body_wait_other, (void *)0 };
	t.threads[1] =
		(struct lab_sched_thread_desc){ body_wait_other, (void *)1 };
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && !strcmp(out.finding.kind, "deadlock"));
	CHECK(strstr(out.finding.message, "t0 blocked at "));
	CHECK(strstr(out.finding.message, "t1 blocked at "));
	CHECK(strstr(out.finding.message, "waits for the other"));
	printf("deadlock: %s\n", out.finding.message);
	lab_sched_outcome_free(&out);
	/* a timed waiter nobody wakes times out instead */
	t.nthreads = 1;
	t.threads[0] = (struct lab_sched_thread_desc){ body_timed_wait, NULL };
	timed_ret = 0;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(!out.found && timed_ret == -ETIMEDOUT);
	lab_sched_outcome_free(&out);
	return 0;
}

static void body_spin_forever(void *arg)
{
	(void)arg;
	while (!atomic_load(&flag[0]))
		lab_sched_spin(LAB_SITE("spins on flag 0"));
}

static int case_stall(void)
{
	struct lab_sched_test t = { .name = "stall", .nthreads = 2 };
	struct lab_sched_outcome out;

	t.setup = pair_setup;
	t.threads[0].fn = t.threads[1].fn = body_spin_forever;
	t.stall_steps = 500;
	t.strategy = LAB_SCHED_PCT;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && !strcmp(out.finding.kind, "livelock"));
	CHECK(strstr(out.finding.message, "no thread completed an operation "
					  "in 500 decisions (0 done)"));
	CHECK(strstr(out.finding.message, "spins on flag 0"));
	CHECK(out.decisions == 500 && !out.exhausted);
	printf("stall: %s\n", out.finding.message);
	lab_sched_outcome_free(&out);
	/* a run that goes on progressing stops at the budget, no finding */
	counter_test(&t, body_fetch_add);
	t.max_steps = 5;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(!out.found && out.exhausted && out.decisions == 5);
	lab_sched_outcome_free(&out);
	return 0;
}

/* ---- escaping the scheduler ----------------------------------------------------------- */

static pthread_mutex_t raw_lock = PTHREAD_MUTEX_INITIALIZER;

/* A lock the scheduler does not know: thread 1 blocks in it for real
 * while thread 0, descheduled, holds it. */
static void body_raw_lock(void *arg)
{
	(void)arg;
	lab_sched_point(LAB_SITE("before the raw lock"));
	pthread_mutex_lock(&raw_lock);
	lab_sched_point(LAB_SITE("holding the raw lock"));
	pthread_mutex_unlock(&raw_lock);
}

static int case_hang(void)
{
	static const lab_sched_decision_t list[] = { 0, 0, 1, 1, 1 };
	struct lab_sched_test t = { .name = "hang", .nthreads = 2 };
	struct lab_sched_outcome out;

	t.threads[0].fn = t.threads[1].fn = body_raw_lock;
	t.strategy = LAB_SCHED_LIST;
	t.list = list;
	t.nlist = 5;
	t.isolate = true;
	t.hang_ms = 500;
	CHECK(lab_sched_run_test(&t, &out) == 0);
	CHECK(out.found && out.child_died);
	printf("hang: %s at %s: %s\n", out.finding.kind, out.finding.where,
	       out.finding.message);
	/* TSan may see the double lock first and stop the child itself */
	if (strcmp(out.finding.kind, "sanitizer")) {
		CHECK(!strcmp(out.finding.kind, "hang"));
		CHECK(out.finding.thread == 1);
		CHECK(strstr(out.finding.where, "sched_api.c:"));
		CHECK(strstr(out.finding.message, "before the raw lock"));
		CHECK(strstr(out.finding.message, "no scheduling decision for "
						  "500 ms"));
	}
	lab_sched_outcome_free(&out);
	return 0;
}

/* ---- artifacts -------------------------------------------------------------------------- */

static uint64_t switches(const lab_sched_decision_t *d, uint64_t n)
{
	uint64_t i, k = 0;

	for (i = 1; i < n; i++)
		k += (d[i] & LAB_SCHED_DEC_THREAD) !=
		     (d[i - 1] & LAB_SCHED_DEC_THREAD);
	return k;
}

/* Rewrites path with line `key ...` replaced by `key value` (value NULL:
 * the file cut before that line). */
static void edit_artifact(const char *path, const char *to, const char *key,
			  const char *value)
{
	char line[1024];
	FILE *in = fopen(path, "r"), *out = fopen(to, "w");

	CHECK(in && out);
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, key, strlen(key)) &&
		    (line[strlen(key)] == ' ' || line[strlen(key)] == '\n')) {
			if (!value)
				break;
			fprintf(out, "%s %s\n", key, value);
			continue;
		}
		fputs(line, out);
	}
	fclose(in);
	fclose(out);
}

static int case_artifact(void)
{
	struct lab_sched_test t;
	struct lab_sched_outcome out, rep, small;
	struct lab_sched_artifact a, b;
	char path[] = "/tmp/sched_api_XXXXXX", edited[64], err[512];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	snprintf(edited, sizeof(edited), "%s.edited", path);
	counter_test(&t, body_split);
	t.strategy = LAB_SCHED_RANDOM;
	CHECK(first_finding(&t, 50, &out));
	CHECK(lab_sched_artifact_write(path, &t, &out) == 0);
	CHECK(lab_sched_artifact_read(path, &a, err, sizeof(err)) == 0);
	CHECK(a.ndecisions == out.ntrace && a.seed == t.seed);
	CHECK(!strcmp(a.finding.kind, "invariant"));
	/* replay: exact */
	CHECK(lab_sched_replay(&t, &a, &rep) == 0);
	CHECK(rep.exact && rep.finding.step == out.finding.step);
	lab_sched_outcome_free(&rep);
	/* shrink: the same finding, no more switches */
	CHECK(lab_sched_shrink(&t, &a, 200, &small) == 0);
	CHECK(small.found && !strcmp(small.finding.kind, "invariant"));
	CHECK(switches(small.trace, small.ntrace) <=
	      switches(a.decisions, a.ndecisions));
	printf("shrunk: %llu -> %llu switches\n",
	       (unsigned long long)switches(a.decisions, a.ndecisions),
	       (unsigned long long)switches(small.trace, small.ntrace));
	CHECK(lab_sched_artifact_write(edited, &t, &small) == 0);
	CHECK(lab_sched_artifact_read(edited, &b, err, sizeof(err)) == 0);
	CHECK(lab_sched_replay(&t, &b, &rep) == 0 && rep.exact);
	lab_sched_outcome_free(&rep);
	lab_sched_artifact_free(&b);
	lab_sched_outcome_free(&small);
	/* another test, another build */
	t.name = "another";
	CHECK(lab_sched_replay(&t, &a, &rep) == -EINVAL);
	CHECK(strstr(rep.error, "is of test 'counter', not 'another'"));
	printf("error: %s\n", rep.error);
	t.name = "counter";
	edit_artifact(path, edited, "build", "0123abcd");
	CHECK(lab_sched_artifact_read(edited, &b, err, sizeof(err)) == 0);
	CHECK(lab_sched_replay(&t, &b, &rep) == -EINVAL);
	CHECK(strstr(rep.error,
		     "another build of its code (build id 0123abcd"));
	CHECK(!strchr(rep.error, '\n'));
	printf("error: %s\n", rep.error);
	lab_sched_artifact_free(&b);
	/* corrupt: cut short, a bad number */
	edit_artifact(path, edited, "end", NULL);
	CHECK(lab_sched_artifact_read(edited, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "truncated"));
	printf("error: %s\n", err);
	edit_artifact(path, edited, "seed", "12x");
	CHECK(lab_sched_artifact_read(edited, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "line 4: seed '12x' is not a number"));
	printf("error: %s\n", err);
	lab_sched_artifact_free(&a);
	lab_sched_outcome_free(&out);
	unlink(path);
	unlink(edited);
	return 0;
}

/* ---- TSan ----------------------------------------------------------------------------------- */

static void body_plain_inc(void *arg)
{
	int v;

	(void)arg;
	lab_sched_point(LAB_SITE("plain load"));
	v = plain;
	lab_sched_point(LAB_SITE("plain store"));
	plain = v + 1;
}

/* TSan's report goes to stderr: into a file, to be read back. */
static int case_tsan(void)
{
	struct lab_sched_test t = { .name = "tsan", .nthreads = 2 };
	struct lab_sched_outcome out;
	char log[4096] = "";
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	CHECK(f && saved >= 0);
	t.threads[0].fn = t.threads[1].fn = body_plain_inc;
	t.isolate = true; /* TSan stops the child with exit code 66 */
	fflush(stderr);
	dup2(fileno(f), 2);
	CHECK(lab_sched_run_test(&t, &out) == 0);
	fflush(stderr);
	dup2(saved, 2);
	rewind(f);
	n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = 0;
	fputs(log, stderr);
	CHECK(out.found && out.child_died && WIFEXITED(out.child_status) &&
	      WEXITSTATUS(out.child_status) == 66);
	CHECK(!strcmp(out.finding.kind, "sanitizer"));
	CHECK(strstr(out.finding.where, "plain "));
	CHECK(strstr(log, "WARNING: ThreadSanitizer: data race"));
	CHECK(strstr(log, "body_plain_inc"));
	CHECK(out.ntrace == out.decisions && out.ntrace > 0);
	printf("tsan: %s at %s after %llu decisions\n", out.finding.kind,
	       out.finding.where, (unsigned long long)out.decisions);
	lab_sched_outcome_free(&out);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "bad-input", case_bad_input },
	{ "outside", case_outside },
	{ "race", case_race },
	{ "correct", case_correct },
	{ "step", case_step },
	{ "crash", case_crash },
	{ "nonpreempt", case_nonpreempt },
	{ "lock-held", case_lock_held },
	{ "deadlock", case_deadlock },
	{ "stall", case_stall },
	{ "artifact", case_artifact },
	{ "hang", case_hang },
	{ "tsan", case_tsan },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name)) {
			int ret = cases[i].fn();

			printf("%s: %s\n", argv[1], ret ? "FAIL" : "ok");
			return ret;
		}
	fprintf(stderr, "usage: sched_api CASE\n");
	return 2;
}
