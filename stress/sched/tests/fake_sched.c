/* fake_sched.c - see fake_sched.h.  Random walk: at every point the next
 * thread is drawn among those that can run (not blocked, or blocked with
 * ready() true), preferring threads that are not spinning.  When none
 * can run, a timed blocker times out (logical time passes), else the
 * schedule is a deadlock and is abandoned, as the real scheduler does. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "fake_sched.h"
#include "labyrinth/sched_instr.h"
#include "labyrinth/sched_point.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if __has_feature(thread_sanitizer)
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#define LAB_FAKE_TSAN 1
#endif
#if __has_feature(address_sanitizer)
void __sanitizer_start_switch_fiber(void **save, const void *bottom,
				    size_t size);
void __sanitizer_finish_switch_fiber(void *save, const void **bottom,
				     size_t *size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define LAB_FAKE_ASAN 1
#endif

#define LAB_FAKE_STACK (256 * 1024)

enum lab_fake_state { RUNNABLE, BLOCKED, DONE };

struct lab_fake_thread {
	ucontext_t uc;
	char *stack;
	void *tsan_fiber;
	enum lab_fake_state state;
	bool spinning, timed, timed_out;
	bool (*ready)(void *);
	void *arg;
};

static struct {
	struct lab_fake_thread t[LAB_FAKE_MAX];
	unsigned n;
	int cur; /* -1: the scheduler runs */
	ucontext_t main_uc;
	void *main_tsan_fiber;
	const void *main_bottom; /* ASan: the scheduler's stack */
	size_t main_size;
	void (*fn)(unsigned);
	uint64_t rng;
	struct lab_fake_result *r;
} lab_fake = { .cur = -1 };

static uint64_t lab_fake_next(void)
{
	uint64_t x = lab_fake.rng += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Switches from the running context to thread `to` (-1: the scheduler). */
static void lab_fake_switch(int to)
{
	ucontext_t *from_uc = lab_fake.cur < 0 ? &lab_fake.main_uc :
						 &lab_fake.t[lab_fake.cur].uc;
	ucontext_t *to_uc = to < 0 ? &lab_fake.main_uc : &lab_fake.t[to].uc;
#ifdef LAB_FAKE_ASAN
	void *save = NULL;
	__sanitizer_start_switch_fiber(
		&save, to < 0 ? lab_fake.main_bottom : lab_fake.t[to].stack,
		to < 0 ? lab_fake.main_size : LAB_FAKE_STACK);
#endif
#ifdef LAB_FAKE_TSAN
	/* flags 0: switches synchronise (this scheduler's own state) */
	__tsan_switch_to_fiber(to < 0 ? lab_fake.main_tsan_fiber :
					lab_fake.t[to].tsan_fiber,
			       0);
#endif
	lab_fake.cur = to;
	swapcontext(from_uc, to_uc);
#ifdef LAB_FAKE_ASAN
	__sanitizer_finish_switch_fiber(save, NULL, NULL);
#endif
}

int lab_fake_current(void)
{
	return lab_fake.cur;
}

bool lab_sched_active(void)
{
	return lab_fake.cur >= 0;
}

void lab_sched_point(lab_site_t site)
{
	(void)site;
	if (lab_fake.cur < 0)
		return;
	lab_fake.r->points++;
	lab_fake_switch(-1);
}

void lab_sched_spin(lab_site_t site)
{
	(void)site;
	if (lab_fake.cur < 0)
		return;
	lab_fake.r->spins++;
	lab_fake.t[lab_fake.cur].spinning = true;
	lab_fake_switch(-1);
}

int lab_sched_block(lab_site_t site, bool (*ready)(void *), void *arg,
		    bool timed)
{
	struct lab_fake_thread *t;

	(void)site;
	if (lab_fake.cur < 0 || ready(arg))
		return 0;
	t = &lab_fake.t[lab_fake.cur];
	lab_fake.r->blocks++;
	t->state = BLOCKED;
	t->ready = ready;
	t->arg = arg;
	t->timed = timed;
	t->timed_out = false;
	lab_fake_switch(-1);
	return t->timed_out ? -ETIMEDOUT : 0;
}

static void lab_fake_entry(unsigned id)
{
#ifdef LAB_FAKE_ASAN
	__sanitizer_finish_switch_fiber(NULL, &lab_fake.main_bottom,
					&lab_fake.main_size);
#endif
	lab_fake.fn(id);
	lab_fake.t[id].state = DONE;
	lab_fake_switch(-1);
}

static bool lab_fake_can_run(struct lab_fake_thread *t)
{
	if (t->state == BLOCKED && t->ready(t->arg))
		t->state = RUNNABLE;
	return t->state == RUNNABLE;
}

/* The next thread to run, -1 if none can. */
static int lab_fake_pick(void)
{
	int cand[LAB_FAKE_MAX], n = 0, eager = 0;

	for (unsigned i = 0; i < lab_fake.n; i++)
		if (lab_fake_can_run(&lab_fake.t[i]) && !lab_fake.t[i].spinning)
			cand[n++] = (int)i;
	eager = n;
	if (!eager)
		for (unsigned i = 0; i < lab_fake.n; i++)
			if (lab_fake.t[i].state == RUNNABLE)
				cand[n++] = (int)i;
	return n ? cand[lab_fake_next() % (unsigned)n] : -1;
}

/* No thread can run: time one timed blocker out; false if none. */
static bool lab_fake_time_out(void)
{
	for (unsigned i = 0; i < lab_fake.n; i++) {
		struct lab_fake_thread *t = &lab_fake.t[i];

		if (t->state == BLOCKED && t->timed) {
			t->state = RUNNABLE;
			t->timed_out = true;
			lab_fake.r->timeouts++;
			return true;
		}
	}
	return false;
}

void lab_fake_run(unsigned n, void (*fn)(unsigned id), uint64_t seed,
		  struct lab_fake_result *r)
{
	int next;

	memset(r, 0, sizeof(*r));
	lab_instr_reset(); /* as the real scheduler does per schedule */
	lab_fake.n = n;
	lab_fake.fn = fn;
	lab_fake.rng = seed;
	lab_fake.r = r;
#ifdef LAB_FAKE_TSAN
	lab_fake.main_tsan_fiber = __tsan_get_current_fiber();
#endif
	for (unsigned i = 0; i < n; i++) {
		struct lab_fake_thread *t = &lab_fake.t[i];

		memset(t, 0, sizeof(*t));
		t->stack = malloc(LAB_FAKE_STACK);
		getcontext(&t->uc);
		t->uc.uc_stack.ss_sp = t->stack;
		t->uc.uc_stack.ss_size = LAB_FAKE_STACK;
		t->uc.uc_link = NULL;
		makecontext(&t->uc, (void (*)(void))lab_fake_entry, 1, i);
#ifdef LAB_FAKE_TSAN
		t->tsan_fiber = __tsan_create_fiber(0);
#endif
	}
	for (;;) {
		next = lab_fake_pick();
		if (next < 0 && lab_fake_time_out())
			continue;
		if (next < 0)
			break;
		lab_fake.t[next].spinning = false;
		lab_fake_switch(next);
	}
	for (unsigned i = 0; i < n; i++) {
		if (lab_fake.t[i].state == BLOCKED)
			r->blocked_at_end++;
			/* a blocked thread is abandoned: it never resumes */
#ifdef LAB_FAKE_ASAN
		__asan_unpoison_memory_region(lab_fake.t[i].stack,
					      LAB_FAKE_STACK);
#endif
		free(lab_fake.t[i].stack);
	}
	r->deadlock = r->blocked_at_end > 0;
}
