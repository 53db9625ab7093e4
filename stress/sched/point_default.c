/* point_default.c - weak stand-ins for the scheduler's entry points
 * (labyrinth/sched_point.h), so instrumented code links and runs as plain
 * code in a program without the controlled scheduler.
 *
 * Each one behaves as the contract says for "outside a schedule": never
 * active, points return at once, block returns 0 at once (the caller then
 * uses its real primitive).  The scheduler's own definitions (strong
 * symbols, stress/sched/) override these at link time; so do the counting
 * versions of the tests in stress/sched/tests/.
 */
#include "labyrinth/sched_point.h"

__attribute__((weak)) bool lab_sched_active(void)
{
	return false;
}

__attribute__((weak)) void lab_sched_point(lab_site_t site)
{
	(void)site;
}

__attribute__((weak)) void lab_sched_spin(lab_site_t site)
{
	(void)site;
}

__attribute__((weak)) int lab_sched_block(lab_site_t site,
					  bool (*ready)(void *arg), void *arg,
					  bool timed)
{
	(void)site;
	(void)ready;
	(void)arg;
	(void)timed;
	return 0;
}

__attribute__((weak)) void lab_sched_memory_sync(const volatile void *obj)
{
	(void)obj;
}
