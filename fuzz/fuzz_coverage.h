/* fuzz_coverage.h - LAB_FUZZ_NO_COVERAGE: harness code kept out of the
 * coverage instrumentation that libFuzzer builds add to everything.
 *
 * For a target's pure checking and bookkeeping helpers (the input reader,
 * a shadow model, pattern words, comparisons with the allocator's
 * answers): no edge counters and no comparison tracing
 * (-fsanitize-coverage=trace-cmp) in their loops; ASan and UBSan stay.
 * Their branches say only whether a check passed or an input ran out,
 * which guides nothing, and traced they cost more than the code they
 * check.  The code under test and a target's drivers stay instrumented.
 *
 * noinline because the attribute belongs to the function, not its code:
 * inlined into an instrumented caller the body would be instrumented after
 * all (and an out-of-line helper such a function calls is instrumented
 * unless it carries the attribute too).  Only in builds with coverage
 * instrumentation and a compiler that knows the attribute (clang >= 13);
 * elsewhere it is nothing.
 */
#ifndef LAB_FUZZ_COVERAGE_H
#define LAB_FUZZ_COVERAGE_H

#if defined(__clang__) && __clang_major__ >= 13 && defined(__has_feature)
#if __has_feature(coverage_sanitizer)
#define LAB_FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#endif
#endif
#ifndef LAB_FUZZ_NO_COVERAGE
#define LAB_FUZZ_NO_COVERAGE
#endif

#endif /* LAB_FUZZ_COVERAGE_H */
