/* fuzz_common.c - seeded-bug selection shared by the fuzz targets. */
#include <stdbool.h>

#include "fuzz_common.h"

void lab_fuzz_select_bug(void)
{
	static bool done;
	const char *name = getenv("LAB_BUG");

	if (done)
		return;
	done = true;
	if (name && *name && lab_bug_select(name)) {
		fprintf(stderr, "labyrinth fuzz: LAB_BUG=%s: %s\n", name,
			lab_last_error());
		abort();
	}
}
