/* count_points.h - counting versions of the scheduler's entry points
 * (count_points.c), for the instrumentation's own tests: they override
 * the weak defaults of point_default.c, so a test sees every call the
 * instrumented code makes across the contract. */
#ifndef LAB_COUNT_POINTS_H
#define LAB_COUNT_POINTS_H

#include <stdbool.h>

#include "labyrinth/sched_point.h"

/* What lab_sched_active() answers (default false). */
extern bool lab_test_active;
/* Calls so far (relaxed atomics: the lock tests call from threads). */
extern unsigned long lab_test_active_calls, lab_test_points, lab_test_spins,
	lab_test_blocks;
/* The site of the last lab_sched_point/spin/block call. */
extern lab_site_t lab_test_last_site;

unsigned long lab_test_count(const unsigned long *counter);

#endif
