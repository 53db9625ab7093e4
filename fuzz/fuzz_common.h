/* fuzz_common.h - what every fuzz target shares: always-on checks, a
 * report hook that turns unexpected allocator reports into crashes, and
 * seeded-bug selection from the environment.
 *
 * Checks never use assert(): NDEBUG must not switch them off.  A failed
 * check prints one line naming the target, the operation and what differs,
 * then aborts, which libFuzzer records as a crash with the input.
 */
#ifndef LAB_FUZZ_COMMON_H
#define LAB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "labyrinth.h"

#define LAB_FUZZ_CHECK(cond, ...)                                             \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr,                                       \
				"labyrinth fuzz: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* Selects the seeded bug named by $LAB_BUG (if set) once; aborts with a
 * message if the name is unknown or the build has no bugs.  Call from
 * LLVMFuzzerInitialize or the first input. */
void lab_fuzz_select_bug(void);

/* The libFuzzer entry points every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* LAB_FUZZ_COMMON_H */
