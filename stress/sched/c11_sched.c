/* c11_sched.c - a labyrinth/sched.h test under the C11 model
 * (labyrinth/c11_sched.h).  The wrapper only replaces the set-up and the
 * tear-down, so every path the scheduler has (a run, an isolated child,
 * replay, every run of shrink) starts the model afresh at the same point:
 * after the scheduler's own reset, before the first decision. */
#include <stdio.h>
#include <string.h>

#include "labyrinth/c11_sched.h"

/* The wrapped test running on this OS thread (forked children inherit
 * it with their copy of the memory). */
static _Thread_local struct lab_c11_run *lab_c11_cur;

static unsigned lab_c11_run_choose(void *arg, unsigned n)
{
	struct lab_c11_run *w = arg;

	return lab_c11_pick_stale(&w->rng, w->stale_permille, n);
}

static int lab_c11_run_current(void *arg)
{
	(void)arg;
	return lab_sched_current();
}

/* Reported once the model is left, from a copy on the racing thread's
 * own stack: lab_sched_fail does not return, and must not abandon the
 * thread inside the model's TSan-ignored region. */
static void lab_c11_run_fail_race(const struct lab_c11_race *r)
{
	lab_sched_fail("data-race", r->site,
		       "%s of %zu bytes at %p by thread %u at %s is unordered "
		       "with the %s by thread %u at %s (C11 model)",
		       r->write ? "write" : "read", r->len, (void *)r->addr,
		       r->thread, r->site, r->other_write ? "write" : "read",
		       r->other_thread, r->other_site ? r->other_site : "?");
}

static int lab_c11_run_setup(void *arg)
{
	struct lab_c11_run *w = lab_c11_cur;

	lab_c11_reset(w->model);
	w->rng = w->seed;
	lab_c11_install(w->model);
	return w->inner->setup ? w->inner->setup(arg) : 0;
}

static void lab_c11_run_teardown(void *arg)
{
	struct lab_c11_run *w = lab_c11_cur;

	if (w->inner->teardown)
		w->inner->teardown(arg);
	lab_c11_install(NULL);
}

int lab_c11_wrap(struct lab_c11_run *w, const struct lab_sched_test *t,
		 const struct lab_c11_sched_opts *o, char *err, size_t errlen)
{
	struct lab_c11_config cfg = {
		.threads = t->nthreads,
		.history = o->history,
		.locations = o->locations ? o->locations :
					    LAB_C11_LOCATIONS_DEFAULT,
		.choose = lab_c11_run_choose,
		.choose_arg = w,
		.current = lab_c11_run_current,
	};

	memset(w, 0, sizeof(*w));
	if (o->stale_permille > 1000) {
		snprintf(
			err, errlen,
			"labyrinth: --stale-permille %u is out of range (0..1000)",
			o->stale_permille);
		return -1;
	}
	w->model = lab_c11_create(&cfg, err, errlen);
	if (!w->model)
		return -1;
	w->inner = t;
	w->test = *t;
	w->test.setup = lab_c11_run_setup;
	w->test.teardown = lab_c11_run_teardown;
	w->seed = t->seed;
	w->stale_permille = o->stale_permille;
	lab_c11_cur = w;
	return 0;
}

void lab_c11_wrap_seed(struct lab_c11_run *w, uint64_t seed)
{
	w->seed = seed;
	w->test.seed = seed;
}

void lab_c11_unwrap(struct lab_c11_run *w)
{
	if (lab_c11_cur == w)
		lab_c11_cur = NULL;
	lab_c11_install(NULL);
	lab_c11_destroy(w->model);
	w->model = NULL;
}

void lab_c11_wrap_stats(const struct lab_c11_run *w, struct lab_c11_stats *s)
{
	lab_c11_stats(w->model, s);
}

static void lab_c11_sched_plain(const volatile void *addr, size_t len,
				lab_site_t site, bool write)
{
	struct lab_c11_run *w = lab_c11_cur;
	int t = lab_sched_current();
	struct lab_c11_race r;

	if (!w || t < 0)
		return;
	if (write)
		lab_c11_plain_write(w->model, (unsigned)t, addr, len, site);
	else
		lab_c11_plain_read(w->model, (unsigned)t, addr, len, site);
	if (lab_c11_take_race(w->model, &r))
		lab_c11_run_fail_race(&r);
}

void lab_c11_sched_plain_read(const volatile void *addr, size_t len,
			      lab_site_t site)
{
	lab_c11_sched_plain(addr, len, site, false);
}

void lab_c11_sched_plain_write(const volatile void *addr, size_t len,
			       lab_site_t site)
{
	lab_c11_sched_plain(addr, len, site, true);
}
