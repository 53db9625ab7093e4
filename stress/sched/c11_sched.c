/* c11_sched.c - lab_c11_wrap (labyrinth/c11_sched.h): the memory fields
 * of a test set from options.  The model itself, its reads-from
 * decisions and the plain-access entry points are the scheduler's
 * (memory.c, sched.c). */
#include <stdio.h>
#include <string.h>

#include "labyrinth/c11_sched.h"

int lab_c11_wrap(struct lab_c11_run *w, const struct lab_sched_test *t,
		 const struct lab_c11_sched_opts *o, char *err, size_t errlen)
{
	char why[256];

	memset(w, 0, sizeof(*w));
	w->test = *t;
	w->test.memory = LAB_SCHED_MEM_C11;
	w->test.history = o->history;
	w->test.stale_permille = o->stale_permille;
	w->test.locations = o->locations;
	if (!o->history) {
		snprintf(err, errlen,
			 "labyrinth: --history 0: want a number of stores per "
			 "location, 1..%u",
			 LAB_C11_HISTORY_MAX);
		return -1;
	}
	if (lab_sched_test_check(&w->test, why, sizeof(why))) {
		snprintf(err, errlen, "labyrinth: %s", why);
		return -1;
	}
	return 0;
}

void lab_c11_wrap_seed(struct lab_c11_run *w, uint64_t seed)
{
	w->test.seed = seed;
}

void lab_c11_unwrap(struct lab_c11_run *w)
{
	memset(w, 0, sizeof(*w));
}

void lab_c11_wrap_stats(const struct lab_c11_run *w, struct lab_c11_stats *s)
{
	(void)w;
	lab_sched_memory_stats(s);
}
