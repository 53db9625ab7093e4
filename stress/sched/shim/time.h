/* time.h - labyrinth's shim over <time.h>: nanosleep() in a controlled
 * schedule is a spinning scheduling point (logical time: the sleeper
 * lets the others run and returns 0 without sleeping); outside one it is
 * the real call.  clock_nanosleep and timers are not wrapped. */
#pragma GCC system_header

#include_next <time.h>

#ifndef LAB_SHIM_TIME_H
#define LAB_SHIM_TIME_H

#include "labyrinth/sched_point.h"

struct timespec;
int lab_nanosleep(const struct timespec *req, struct timespec *rem,
		  lab_site_t site);
#define nanosleep(req, rem) lab_nanosleep((req), (rem), LAB_SITE("nanosleep"))

#endif /* LAB_SHIM_TIME_H */
