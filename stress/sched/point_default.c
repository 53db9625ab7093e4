/* point_default.c - weak stand-ins for the scheduler's entry points
 * (labyrinth/sched_point.h), so instrumented code links and runs as plain
 * code in a program without the controlled scheduler.
 *
 * Each one behaves as the contract says for "outside a schedule": never
 * active, points return at once, block returns 0 at once (the caller then
 * uses its real primitive).  The scheduler's own definitions (strong
 * symbols, stress/sched/) override these at link time; so do the counting
 * versions of the tests in stress/sched/tests/.  The memory model's entry
 * points for code under test (labyrinth/c11_sched.h: annotated plain
 * accesses, forget, whether a c11 run is active) are here too, so such
 * code links with labyrinth_instr alone.
 */
#include "labyrinth/c11_sched.h"
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

__attribute__((weak)) bool lab_sched_memory_c11(void)
{
	return false;
}

__attribute__((weak)) void lab_c11_sched_plain_read(const volatile void *addr,
						    size_t len,
						    lab_site_t site)
{
	(void)addr;
	(void)len;
	(void)site;
}

__attribute__((weak)) void lab_c11_sched_plain_write(const volatile void *addr,
						     size_t len,
						     lab_site_t site)
{
	(void)addr;
	(void)len;
	(void)site;
}

__attribute__((weak)) void lab_c11_sched_forget(const volatile void *addr,
						size_t len)
{
	(void)addr;
	(void)len;
}
