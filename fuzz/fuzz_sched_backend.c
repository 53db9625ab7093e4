/* fuzz_sched_backend.c - libFuzzer target: a schedule of any backend-table
 * allocator (labyrinth/backend.h), run on the controlled scheduler in this
 * process, as `labyrinth stress --mode controlled --backend NAME` runs it
 * (stress/backend_sched.c: programs of allocations, frees and handoffs,
 * stamps, the backend's check and frame conservation at the end).
 *
 * The input gives the programs' seed and the scheduler's decisions
 * (format: fuzz_sched_backend.h); LAB_FUZZ_MEMORY=c11 runs the schedule
 * under the C11 memory model, whose reads-from choices the input then
 * gives too; LAB_FUZZ_BACKEND picks the backend (default mutex-buddy; backends a build links in through
 * lab_user_backends[], as the command's, are registered first).  A
 * backend whose code is built instrumented has scheduling points inside,
 * so the fuzzer explores its interleavings, not only those of its calls.
 * Any finding aborts with its kind, site and decision index.
 *
 * Interleaving coverage: every switch between logical threads bumps a
 * counter for the pair (site left, site resumed at), hashed from the
 * sites' text so it is the same in every process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_counters.h"
#include "fuzz_sched_backend.h"
#include "scheduler.h"

#define LAB_FSB_STEPS 8192u
#define LAB_FSB_PAIRS 4096u

static uint8_t lab_fsb_switches[LAB_FSB_PAIRS] LAB_FUZZ_EXTRA_COUNTERS;
static lab_decision_t lab_fsb_list[LAB_FSB_DECISION_BYTES * LAB_FSB_RUN_MAX];
static char lab_fsb_backend[32];
static bool lab_fsb_c11; /* LAB_FUZZ_MEMORY=c11 */

extern const struct lab_backend_ops *const lab_user_backends[]
	__attribute__((weak));

static uint32_t lab_fsb_hash(lab_site_t site)
{
	uint32_t h = 2166136261u;

	for (; site && *site; site++)
		h = (h ^ (uint8_t)*site) * 16777619u;
	return h;
}

/* Runs on the fiber being switched out. */
static void lab_fsb_on_switch(lab_site_t from, lab_site_t to, void *arg)
{
	(void)arg;
	lab_fuzz_count(
		&lab_fsb_switches[(lab_fsb_hash(from) * 31 + lab_fsb_hash(to)) %
				  LAB_FSB_PAIRS]);
}

static void lab_fsb_setup(void)
{
	static bool done;
	const char *name = getenv("LAB_FUZZ_BACKEND");
	unsigned i;

	if (done)
		return;
	done = true;
	for (i = 0; lab_user_backends && lab_user_backends[i]; i++)
		lab_backend_register(lab_user_backends[i]);
	snprintf(lab_fsb_backend, sizeof(lab_fsb_backend), "%s",
		 name && *name ? name : "mutex-buddy");
	if (!lab_backend_find(lab_fsb_backend)) {
		fprintf(stderr,
			"labyrinth fuzz: fuzz_sched_backend: LAB_FUZZ_BACKEND=%s "
			"is not in this build's backend table\n",
			lab_fsb_backend);
		exit(2);
	}
	lab_fsb_c11 = lab_fuzz_memory_c11("fuzz_sched_backend");
	lab_sched_set_observer(lab_fsb_on_switch, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lab_fsb_setup();
	return 0;
}

static uint64_t lab_fsb_read_decisions(struct lab_fi *in, unsigned threads)
{
	uint64_t n = 0;
	unsigned k, r;

	for (k = 0; k < LAB_FSB_DECISION_BYTES && !lab_fi_done(in); k++) {
		uint8_t b = lab_fi_u8(in);
		unsigned t = lab_fsb_decision_thread(b);
		lab_decision_t d = t < threads ? t : LAB_DEC_THREAD_MASK;

		if (lab_fsb_c11 && lab_fsb_decision_is_read(b)) {
			/* any thread's load (the list's "stay" thread) */
			lab_fsb_list[n++] = LAB_DEC_READ | LAB_DEC_THREAD_MASK |
					    lab_fsb_decision_store(b)
						    << LAB_DEC_READ_SHIFT;
			continue;
		}
		for (r = 0; r < lab_fsb_decision_run(b); r++)
			lab_fsb_list[n++] = d;
	}
	return n;
}

static void lab_fsb_opts(struct lab_opts *o, const struct lab_fsb_header *h)
{
	lab_opts_defaults(o);
	lab_opts_mode_defaults(o, LAB_MODE_CONTROLLED, 0);
	o->strategy = LAB_STRAT_LIST;
	o->logical = h->threads;
	o->ops_per_thread = h->ops;
	o->seed = h->seed;
	o->max_steps = LAB_FSB_STEPS;
	o->isolate = false;
	o->progress = false;
	o->memory = lab_fsb_c11 ? LAB_MEM_C11 : LAB_MEM_SC;
	snprintf(o->backend, sizeof(o->backend), "%s", lab_fsb_backend);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_fsb_header h;
	struct lab_sched_result r;
	struct lab_opts o;
	struct lab_fi in;
	uint64_t n;
	int ret;

	lab_fsb_setup();
	lab_fi_init(&in, data, size);
	lab_fsb_read_header(&in, &h);
	n = lab_fsb_read_decisions(&in, h.threads);
	lab_fsb_opts(&o, &h);
	ret = lab_sched_run(&o, lab_fsb_list, n, &r);
	LAB_FUZZ_CHECK(ret == 0, "schedule set-up failed (%d): %s", ret,
		       lab_last_error());
	if (r.found) {
		fprintf(stderr,
			"labyrinth fuzz: fuzz_sched_backend: %s%s: finding %s at "
			"%s (step %llu, thread %d): %s\n",
			lab_fsb_backend, lab_fsb_c11 ? " (memory c11)" : "",
			r.finding.kind, r.finding.where,
			(unsigned long long)r.finding.step, r.finding.thread,
			r.finding.message);
		abort();
	}
	lab_sched_result_free(&r);
	return 0;
}
