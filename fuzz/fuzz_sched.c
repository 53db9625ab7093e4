/* fuzz_sched.c - libFuzzer target: programs and a schedule from the input,
 * run on the controlled scheduler (stress/sched.c) in this process.
 *
 * The bytes name the logical threads' operation programs and the
 * scheduler's decisions, including where interrupts are injected
 * (format: fuzz_sched.h).  One schedule runs with the LAB_STRAT_LIST
 * strategy; the scheduler checks stamps, exclusive ownership, allocator
 * reports, and at the end the whole-maze check and conservation.  Any
 * finding aborts with its kind, site and decision index.
 * LAB_FUZZ_MEMORY=c11 runs it under the C11 memory model, whose
 * reads-from choices the input then gives too (once the allocator's
 * atomics go through lab_atomic_perform, they reach the model).
 *
 * Determinism (libFuzzer stability): the same input takes the same path.
 * Nothing here reads time or randomness; the scheduler's own random stream
 * is unused by the list strategy, and its logical threads run one at a
 * time on fibers of this thread.
 *
 * Interleaving coverage: every switch between logical threads bumps a
 * counter for the pair (yield point left, yield point resumed at), in
 * libFuzzer's extra-counters section, so an input that reaches a new
 * interleaving is kept even when it covers no new edge.
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <pthread.h>
#include <string.h>

#include "capture.h"
#include "fuzz_common.h"
#include "fuzz_counters.h"
#include "fuzz_sched.h"

/* Decisions of one run: the input's (at most DECISION_BYTES * RUN_MAX),
 * then the fair tail below; past it the list strategy's own fair default.
 * It is also the livelock bound (max_steps): this many decisions in which
 * no thread completes an operation is a livelock finding, as in the
 * controlled mode (stress/sched.c, lab_watch_progress); no correct
 * program of this format comes near it.  A run still making progress
 * stops at the scheduler's budget (16 x this) without a finding. */
#define LAB_FS_STEPS 4096u

/* Yield points plus "none yet" (a thread switched in before its first
 * yield point, or out after finishing without one). */
#define LAB_FS_POINTS (LAB_YP_COUNT + 1)

static uint8_t
	lab_fs_switches[LAB_FS_POINTS * LAB_FS_POINTS] LAB_FUZZ_EXTRA_COUNTERS;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LAB_FS_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define LAB_FS_ASAN 1
#endif

#ifdef LAB_FS_ASAN
#include <sanitizer/common_interface_defs.h>

const char *__asan_default_options(void);

/* ASan's swapcontext interceptor clears the shadow of the whole fiber stack
 * (1 MiB under ASan, stress/sched.c) at every switch into a fiber.  Above
 * this threshold it does so by unmapping the shadow pages, which fault
 * back in as the fiber runs: a third of this target's time went to the
 * kernel.  memset is cheaper at this size.  $ASAN_OPTIONS still wins. */
const char *__asan_default_options(void)
{
	return "clear_shadow_mmap_threshold=1048576";
}

/* Workaround: stress/sched.c lets every fiber's first entry overwrite the
 * main stack bounds it hands back to ASan, so after a run with two or more
 * threads ASan takes this thread's stack for a dead fiber's.  LeakSanitizer
 * then misses every pointer on the real stack and reports libFuzzer's own
 * objects as leaks at exit.  Telling ASan the real bounds again (a switch
 * to the stack we are on) undoes it; drop this once sched.c keeps the
 * bounds from the first fiber only. */
static void *lab_fs_stack_bottom;
static size_t lab_fs_stack_size;

/* Once, at set-up: glibc reads /proc/self/maps for the main thread. */
static void lab_fs_find_stack(void)
{
	pthread_attr_t attr;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (pthread_attr_getstack(&attr, &lab_fs_stack_bottom,
				  &lab_fs_stack_size))
		lab_fs_stack_bottom = NULL;
	pthread_attr_destroy(&attr);
}

static void lab_fs_restore_stack_bounds(void)
{
	void *fake = NULL;

	if (!lab_fs_stack_bottom)
		return;
	__sanitizer_start_switch_fiber(&fake, lab_fs_stack_bottom,
				       lab_fs_stack_size);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
}
#else
static void lab_fs_find_stack(void)
{
}

static void lab_fs_restore_stack_bounds(void)
{
}
#endif

static struct lab_op lab_fs_ops[LAB_MAX_LOGICAL][LAB_FS_OPS_MAX];
static lab_decision_t lab_fs_list[LAB_FS_STEPS];
static char lab_fs_bug[sizeof(((struct lab_opts *)0)->bug)];
static bool lab_fs_c11; /* LAB_FUZZ_MEMORY=c11 */

/* Runs on the fiber being switched out. */
static void lab_fs_on_switch(lab_site_t from_site, lab_site_t to_site,
			     void *arg)
{
	int from_point = lab_yield_point_of(from_site);
	int to_point = lab_yield_point_of(to_site);
	unsigned from = from_point < 0 ? LAB_YP_COUNT : (unsigned)from_point;
	unsigned to = to_point < 0 ? LAB_YP_COUNT : (unsigned)to_point;

	(void)arg;
	lab_fuzz_count(&lab_fs_switches[from * LAB_FS_POINTS + to]);
}

/* The tail after the input's decisions: stay on the current thread, and
 * every 32nd decision switch to the next thread in turn.  Fair, so a
 * thread spinning on the program spinlock cannot starve its holder (a
 * plain "stay" tail would spin until the livelock bound: a false one). */
static lab_decision_t lab_fs_tail(uint64_t i)
{
	return i % 32 == 31 ? (lab_decision_t)((i / 32) % LAB_FS_THREADS_MAX) :
			      LAB_DEC_THREAD_MASK;
}

static void lab_fs_reset_list(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		lab_fs_list[i] = lab_fs_tail(i);
}

/* Once per process, from LLVMFuzzerInitialize or the first input (a
 * driver may not call the former). */
static void lab_fs_setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	lab_fuzz_select_bug();
	/* lab_sched_run_programs selects opts.bug for the run and switches
	 * it off after, so the choice travels in the options. */
	snprintf(lab_fs_bug, sizeof(lab_fs_bug), "%s", lab_bug_selected());
	lab_fs_c11 = lab_fuzz_memory_c11("fuzz_sched");
	lab_sched_set_observer(lab_fs_on_switch, NULL);
	lab_fs_reset_list(LAB_FS_STEPS);
	lab_fs_find_stack();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lab_fs_setup();
	return 0;
}

static void lab_fs_read_programs(struct lab_fi *in, unsigned threads,
				 struct lab_programs *p)
{
	unsigned t, i;

	memset(p, 0, sizeof(*p));
	for (t = 0; t < threads; t++) {
		p->nops[t] = lab_fs_read_length(in);
		p->ops[t] = lab_fs_ops[t];
		for (i = 0; i < p->nops[t]; i++)
			lab_fs_read_op(in, &lab_fs_ops[t][i]);
	}
}

/* Expands the decision bytes into lab_fs_list; returns how many entries
 * were written (the tail follows them).  "Stay" is a thread the run does
 * not have: the list strategy then keeps the current thread if it can
 * run, else the lowest runnable one (and notes the first such decision as
 * a divergence, which means nothing here). */
static uint64_t lab_fs_read_decisions(struct lab_fi *in, unsigned threads)
{
	uint64_t n = 0;
	unsigned k, r;

	for (k = 0; k < LAB_FS_DECISION_BYTES && !lab_fi_done(in); k++) {
		uint8_t b = lab_fi_u8(in);
		unsigned t = lab_fs_decision_thread(b);
		lab_decision_t d = t < threads ? t : LAB_DEC_THREAD_MASK;

		if (lab_fs_c11 && lab_fs_decision_is_read(b)) {
			/* any thread's load (the list's "stay" thread) */
			lab_fs_list[n++] = LAB_DEC_READ | LAB_DEC_THREAD_MASK |
					   lab_fs_decision_store(b)
						   << LAB_DEC_READ_SHIFT;
			continue;
		}
		if (lab_fs_decision_irq(b))
			d |= LAB_DEC_IRQ;
		for (r = 0; r < lab_fs_decision_run(b); r++) {
			lab_fs_list[n++] = d;
			d &= ~LAB_DEC_IRQ; /* at the first decision only */
		}
	}
	return n;
}

static void lab_fs_opts(struct lab_opts *o, const struct lab_fs_header *h)
{
	lab_opts_defaults(o);
	o->mode = LAB_MODE_CONTROLLED;
	o->strategy = LAB_STRAT_LIST;
	o->logical = h->threads;
	o->ops_per_thread = LAB_FS_OPS_MAX;
	o->width = lab_fs_mazes[h->maze][0];
	o->height = lab_fs_mazes[h->maze][1];
	o->max_steps = LAB_FS_STEPS;
	o->isolate = false;
	o->progress = false;
	o->memory = lab_fs_c11 ? LAB_MEM_C11 : LAB_MEM_SC;
	snprintf(o->bug, sizeof(o->bug), "%s", lab_fs_bug);
}

/* A schedule's finding: saved as the scheduler's own finding (the same
 * signature the controlled mode of `labyrinth stress` gives it, with the
 * schedule's last operations), then a crash for libFuzzer. */
static void lab_fs_found(struct lab_sched_result *r)
{
	const struct lab_finding *f = &r->finding;

	snprintf(r->detail.title, sizeof(r->detail.title), "%s", f->message);
	if (!*r->detail.site.function && !*r->detail.site.file)
		lab_site_of_where(&r->detail.site, f->where);
	r->detail.step = f->step;
	r->detail.thread = f->thread;
	if (!*r->detail.signature)
		lab_rec_sign(&r->detail, f->where);
	lab_capture_finding(&r->detail);
	fprintf(stderr,
		"labyrinth fuzz: fuzz_sched%s: finding %s at %s (step %llu, "
		"thread %d): %s\n",
		lab_fs_c11 ? " (memory c11)" : "", f->kind, f->where, (unsigned long long)f->step, f->thread,
		f->message);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_fs_header h;
	struct lab_programs p;
	struct lab_sched_result r;
	struct lab_opts o;
	struct lab_fi in;
	uint64_t n;
	int ret;

	lab_fs_setup();
	lab_fi_init(&in, data, size);
	lab_fs_read_header(&in, &h);
	lab_fs_read_programs(&in, h.threads, &p);
	n = lab_fs_read_decisions(&in, h.threads);
	lab_fs_opts(&o, &h);
	ret = lab_sched_run_programs(&o, &p, lab_fs_list, LAB_FS_STEPS, &r);
	lab_fs_restore_stack_bounds();
	lab_fs_reset_list(n);
	LAB_FUZZ_CHECK(ret == 0, "schedule set-up failed (%d): %s", ret,
		       lab_last_error());
	if (r.found)
		lab_fs_found(&r);
	lab_sched_result_free(&r);
	return 0;
}
