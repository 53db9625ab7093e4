/* sched.h - labyrinth's shim over <sched.h>: sched_yield() in a
 * controlled schedule is a spinning scheduling point (lab_sched_spin: the
 * others run first); outside one it is the real call. */
#pragma GCC system_header

#include_next <sched.h>

#ifndef LAB_SHIM_SCHED_H
#define LAB_SHIM_SCHED_H

#include "labyrinth/sched_point.h"

int lab_sched_yield(lab_site_t site);
#define sched_yield() lab_sched_yield(LAB_SITE("sched_yield"))

#endif /* LAB_SHIM_SCHED_H */
