/* check.h - CHECK(cond, fmt, ...) for the instrumentation's tests: counts
 * a failure in `failures` and names the line, without stopping. */
#ifndef LAB_SCHED_TEST_CHECK_H
#define LAB_SCHED_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

#endif
