/* libfuzzer_tsan.c - what the libFuzzer TSan builds (<target>-fuzz-tsan)
 * need to report races in the allocator and nothing else.  Compiled into
 * every target, active only with libFuzzer and TSan together.
 *
 * Default options, so a binary run by hand is right too ($TSAN_OPTIONS is
 * parsed after them and still wins):
 *   halt_on_error=1  without it libFuzzer saves the empty input as the
 *                    crash artifact of a race (reference section 5).
 *   report_signal_unsafe=0  a failed LAB_FUZZ_CHECK aborts; libFuzzer's
 *                    SIGABRT handler writes the crash file with fopen and
 *                    malloc, TSan reports that as a signal-unsafe call and
 *                    the process hangs in the report instead of saving the
 *                    input (clang 14).  The allocator's signal safety is
 *                    checked by the stress tests, which keep the report.
 *
 * Coverage counters: libFuzzer's 8-bit counters are plain byte increments
 * that clang 14's TSan instruments (later versions skip them), so two
 * threads, or two fibers of the controlled scheduler, passing the same
 * edge are "a data race" on every input.  The counter sections, and the
 * target's extra counters, are feedback for the fuzzer, not program
 * state: they are declared benign races here, by address range; races
 * anywhere else are still reported.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) && defined(__has_feature)
#if __has_feature(thread_sanitizer)

const char *__tsan_default_options(void);
void AnnotateBenignRaceSized(const char *file, int line,
			     const volatile void *mem, size_t size,
			     const char *description);

/* TSan calls this while it initialises: no instrumentation in it, or its
 * function-entry hook runs before the runtime exists and crashes. */
__attribute__((no_sanitize("thread"))) const char *__tsan_default_options(void)
{
	return "halt_on_error=1:report_signal_unsafe=0";
}

/* Section bounds from the linker; weak, as a section may be absent. */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak));
extern uint8_t __start___libfuzzer_extra_counters[] __attribute__((weak));
extern uint8_t __stop___libfuzzer_extra_counters[] __attribute__((weak));

static void benign_range(uint8_t *start, uint8_t *stop, const char *what)
{
	if (start && stop > start)
		AnnotateBenignRaceSized(__FILE__, __LINE__, start,
					(size_t)(stop - start), what);
}

__attribute__((constructor)) static void lab_fuzz_tsan_counters(void)
{
	benign_range(__start___sancov_cntrs, __stop___sancov_cntrs,
		     "libFuzzer coverage counters");
	benign_range(__start___libfuzzer_extra_counters,
		     __stop___libfuzzer_extra_counters,
		     "libFuzzer extra counters");
}

#endif
#endif

/* ISO C wants a declaration in every translation unit. */
typedef size_t lab_libfuzzer_tsan_unused;
