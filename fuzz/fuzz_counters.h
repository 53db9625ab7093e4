/* fuzz_counters.h - extra coverage counters: signals a target computes
 * itself (interleavings, outcomes) that libFuzzer treats like edges.
 *
 * libFuzzer on Linux collects every uint8_t placed in the section
 * __libfuzzer_extra_counters (FuzzerExtraCounters.cpp), clears them before
 * each input and buckets their values like its own edge counters.  The
 * section is used in builds with coverage instrumentation, where libFuzzer
 * may be linked; elsewhere (gcc, the standalone driver) a counter array
 * is a plain array.
 */
#ifndef LAB_FUZZ_COUNTERS_H
#define LAB_FUZZ_COUNTERS_H

#include <stdint.h>

#if defined(__linux__) && defined(__has_feature)
#if __has_feature(coverage_sanitizer)
#define LAB_FUZZ_EXTRA_COUNTERS \
	__attribute__((section("__libfuzzer_extra_counters"), used))
#endif
#endif
#ifndef LAB_FUZZ_EXTRA_COUNTERS
#define LAB_FUZZ_EXTRA_COUNTERS
#endif

/* Saturating increment, so a signal seen very often keeps its top
 * bucket.  Relaxed atomics: callers run on several threads, or on fibers
 * that TSan takes for threads, and the harness's own bookkeeping must not
 * be reported as a race. */
static inline void lab_fuzz_count(uint8_t *c)
{
	uint8_t v = __atomic_load_n(c, __ATOMIC_RELAXED);

	if (v != UINT8_MAX)
		__atomic_store_n(c, (uint8_t)(v + 1), __ATOMIC_RELAXED);
}

/* Adds n (saturating) to *c; single-threaded callers only. */
static inline void lab_fuzz_count_n(uint8_t *c, uint64_t n)
{
	*c = (uint8_t)(*c + n > UINT8_MAX ? UINT8_MAX : *c + n);
}

#endif /* LAB_FUZZ_COUNTERS_H */
