/* shim_body.h - what shim_body.c records, for test_shim_ops.c. */
#ifndef LAB_SHIM_BODY_H
#define LAB_SHIM_BODY_H

#include <stdint.h>

#include "labyrinth/sched_point.h"

#define LAB_BODY_MAX 256

struct lab_body {
	unsigned n;
	uint64_t v[LAB_BODY_MAX]; /* a result, or 0 */
	int line[LAB_BODY_MAX];	  /* the line that produced it */
	int op[LAB_BODY_MAX];	  /* 1: an atomic operation, 0: a check */
	unsigned long points[LAB_BODY_MAX]; /* lab_sched_point calls so far */
	lab_site_t site[LAB_BODY_MAX];	    /* the last point's site */
};

void lab_body_record(struct lab_body *b, uint64_t v, int line, int op);
/* shim_body.c compiled with the shim, and without it. */
void lab_body_instrumented(struct lab_body *b);
void lab_body_plain(struct lab_body *b);

#endif
