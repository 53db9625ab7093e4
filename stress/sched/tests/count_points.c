/* count_points.c - counting entry points of labyrinth/sched_point.h (see
 * count_points.h).  Strong definitions: they replace point_default.c's. */
#include "count_points.h"

bool lab_test_active;
unsigned long lab_test_active_calls, lab_test_points, lab_test_spins,
	lab_test_blocks;
lab_site_t lab_test_last_site;

unsigned long lab_test_count(const unsigned long *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static void lab_test_saw(unsigned long *counter, lab_site_t site)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&lab_test_last_site, site, __ATOMIC_RELAXED);
}

bool lab_sched_active(void)
{
	__atomic_fetch_add(&lab_test_active_calls, 1, __ATOMIC_RELAXED);
	return __atomic_load_n(&lab_test_active, __ATOMIC_RELAXED);
}

void lab_sched_point(lab_site_t site)
{
	lab_test_saw(&lab_test_points, site);
}

void lab_sched_spin(lab_site_t site)
{
	lab_test_saw(&lab_test_spins, site);
}

int lab_sched_block(lab_site_t site, bool (*ready)(void *arg), void *arg,
		    bool timed)
{
	(void)ready;
	(void)arg;
	(void)timed;
	lab_test_saw(&lab_test_blocks, site);
	return 0;
}
