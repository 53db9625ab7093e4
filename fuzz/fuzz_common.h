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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_coverage.h"
#include "labyrinth.h"

#define LAB_FUZZ_CHECK(cond, ...)                                            \
	do {                                                                 \
		if (!(cond))                                                 \
			lab_fuzz_check_failed(#cond, __func__, __VA_ARGS__); \
	} while (0)

/* Prints "labyrinth fuzz: check failed: COND: message", saves it as a
 * finding (site func) when LAB_FINDINGS_DIR is set, and aborts, which
 * libFuzzer records as a crash with the input. */
void lab_fuzz_check_failed(const char *cond, const char *func, const char *fmt,
			   ...) __attribute__((noreturn, format(printf, 3, 4)));

/* Selects the seeded bug named by $LAB_BUG (if set) once; aborts with a
 * message if the name is unknown or the build has no bugs.  Also turns on
 * saving findings as records if $LAB_FINDINGS_DIR is set (capture.h).
 * Call from LLVMFuzzerInitialize or the first input. */
void lab_fuzz_select_bug(void);

/* The memory model of the schedule targets (fuzz_sched,
 * fuzz_sched_backend): $LAB_FUZZ_MEMORY c11 (true) or sc, unset or
 * empty (false); any other value exits with a one-line message. */
bool lab_fuzz_memory_c11(const char *target);

/* The libFuzzer entry points every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* LAB_FUZZ_COMMON_H */
