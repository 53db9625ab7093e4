/* fuzz_common.c - what every fuzz target does once: seeded-bug selection
 * from the environment, in-process finding capture, failed checks. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "capture.h"
#include "fuzz_common.h"

/* "fuzz_ops-fuzz-tsan" -> "fuzz_ops": the target, whatever the build. */
static void lab_fuzz_target_name(char *buf, size_t len)
{
	const char *name = program_invocation_short_name;

	snprintf(buf, len, "%.*s", (int)strcspn(name, "-"), name);
}

void lab_fuzz_select_bug(void)
{
	static bool done;
	const char *name = getenv("LAB_BUG");
	char target[64], build[96];

	if (done)
		return;
	done = true;
	if (name && *name && lab_bug_select(name)) {
		fprintf(stderr, "labyrinth fuzz: LAB_BUG=%s: %s\n", name,
			lab_last_error());
		abort();
	}
	lab_fuzz_target_name(target, sizeof(target));
	snprintf(build, sizeof(build), "labyrinth %s", lab_version());
	lab_capture_from_env(target, build);
}

void lab_fuzz_check_failed(const char *cond, const char *func, const char *fmt,
			   ...)
{
	char msg[384];
	int n = snprintf(msg, sizeof(msg), "%s: ", cond);
	va_list ap;

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "labyrinth fuzz: check failed: %s\n", msg);
	/* the function that checked is the site: stable across inputs */
	lab_capture_check_failed("fuzz-check", func, msg);
	abort();
}

bool lab_fuzz_memory_c11(const char *target)
{
	const char *m = getenv("LAB_FUZZ_MEMORY");

	if (!m || !*m || !strcmp(m, "sc"))
		return false;
	if (!strcmp(m, "c11"))
		return true;
	fprintf(stderr,
		"labyrinth fuzz: %s: LAB_FUZZ_MEMORY=%s is not sc or c11\n",
		target, m);
	exit(2);
}
