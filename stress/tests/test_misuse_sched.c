/* test_misuse_sched.c - the misuse acts of the controlled mode, every
 * one inside schedules.
 *
 * Each logical thread's program commits the act of every detector (the
 * FOREIGN_FREE operation of the misuse profile picks the act by its
 * argument), among allocations, frees and handoffs, under schedules from
 * random decision lists with interrupts: the acts on freed frames (a
 * write to a freed page, a handoff or access of a freed block, a double
 * free) on the thread's private maze, the stale free and handoff with
 * their block freed and reallocated at the yield point before their CAS,
 * the watermark act with its seeded defect on for its own allocations
 * only.  Each act checks its report's detector and the refusal itself (a
 * miss is a finding), so a clean schedule with every detector's act
 * committed is the proof; the counts come from
 * lab_program_misuse_committed (the schedules run in this process).
 *
 * And the late-start profile: threads that set up their contexts inside
 * the schedule, some only after others' operations, run clean schedules,
 * and some do start late (lab_program_late_starts).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "scheduler.h"
#include "../../tests/check.h" /* CHECK, the unit tests' assertion */

#define LAB_T 3
#define LAB_NOPS (2 * LAB_DET_COUNT)
#define LAB_NLIST 30000
#define LAB_SEEDS 6

static struct lab_op lab_prog[LAB_T][LAB_NOPS];
static lab_decision_t lab_list[LAB_NLIST];

/* Thread t: the acts of every detector, in an order of its own, each
 * after an allocation, a free or a handoff. */
static void lab_make_programs(struct lab_programs *p, uint64_t seed)
{
	uint64_t rng = seed;
	unsigned t, i;

	memset(p, 0, sizeof(*p));
	for (t = 0; t < LAB_T; t++) {
		for (i = 0; i < LAB_NOPS; i++) {
			uint64_t r = lab_splitmix(&rng);
			struct lab_op *op = &lab_prog[t][i];

			memset(op, 0, sizeof(*op));
			if (i % 2) {
				op->kind = LAB_OP_FOREIGN_FREE;
				op->arg = (uint16_t)((i / 2 + 7 * t) %
						     LAB_DET_COUNT);
				continue;
			}
			op->kind = (uint8_t)(r % 3); /* alloc, free, handoff */
			op->cls = (uint8_t)((r >> 8) % LAB_CLASS_COUNT);
			op->excl = (r >> 16) % 2;
			op->arg = (uint16_t)(r >> 24);
			op->arg2 = (uint16_t)(r >> 40);
		}
		p->ops[t] = lab_prog[t];
		p->nops[t] = LAB_NOPS;
	}
}

/* Random threads, an interrupt at one decision in 16. */
static void lab_make_list(uint64_t seed)
{
	uint64_t rng = seed ^ 0x5eedull;
	unsigned i;

	for (i = 0; i < LAB_NLIST; i++) {
		uint64_t r = lab_splitmix(&rng);

		lab_list[i] = (lab_decision_t)(r % LAB_T) |
			      ((r >> 8) % 16 == 0 ? LAB_DEC_IRQ : 0);
	}
}

static void lab_opts_for(struct lab_opts *o, uint64_t seed)
{
	lab_opts_defaults(o);
	o->mode = LAB_MODE_CONTROLLED;
	o->strategy = LAB_STRAT_LIST;
	o->seed = seed;
	o->logical = LAB_T;
	o->ops_per_thread = LAB_NOPS;
	o->width = o->height = 8;
	o->isolate = false;
	o->progress = false;
}

/* One schedule of the programs of `seed` in `profile`: no finding. */
static void lab_run_one(const char *profile, uint64_t seed)
{
	struct lab_programs p;
	struct lab_sched_result r;
	struct lab_opts o;

	lab_opts_for(&o, seed);
	snprintf(o.profile, sizeof(o.profile), "%s", profile);
	lab_make_programs(&p, seed);
	lab_make_list(seed);
	CHECK(lab_sched_run_programs(&o, &p, lab_list, LAB_NLIST, &r) == 0);
	if (r.found)
		fprintf(stderr, "%s seed %llu: %s at %s: %s\n", profile,
			(unsigned long long)seed, r.finding.kind,
			r.finding.where, r.finding.message);
	CHECK(!r.found);
	CHECK(r.preemptions > 0);
	lab_sched_result_free(&r);
}

int main(void)
{
	uint64_t committed[LAB_DET_COUNT], seed;
	unsigned d;

	for (seed = 1; seed <= LAB_SEEDS; seed++)
		lab_run_one("late-start", seed);
	printf("late starts: %llu\n",
	       (unsigned long long)lab_program_late_starts());
	CHECK(lab_program_late_starts() > 0);
	for (seed = 1; seed <= LAB_SEEDS; seed++)
		lab_run_one("misuse", seed);
	lab_program_misuse_committed(committed);
	for (d = 0; d < LAB_DET_COUNT; d++) {
		printf("  %-20s %llu acts\n", lab_detector_name(d),
		       (unsigned long long)committed[d]);
		CHECK(committed[d] > 0);
	}
	printf("every detector's act committed inside schedules, none "
	       "missed\n");
	return 0;
}
