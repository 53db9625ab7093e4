/* unistd.h - labyrinth's shim over <unistd.h>: usleep() in a controlled
 * schedule is a spinning scheduling point (as nanosleep, see time.h);
 * outside one it is the real call.  sleep() is not wrapped. */
#pragma GCC system_header

#include_next <unistd.h>

#ifndef LAB_SHIM_UNISTD_H
#define LAB_SHIM_UNISTD_H

#include "labyrinth/sched_point.h"

int lab_usleep(unsigned int usec, lab_site_t site);
#define usleep(usec) lab_usleep((usec), LAB_SITE("usleep"))

#endif /* LAB_SHIM_UNISTD_H */
