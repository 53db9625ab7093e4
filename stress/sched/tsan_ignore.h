/* tsan_ignore.h - hiding the scheduler's own bookkeeping from TSan.
 *
 * The memory model's tables (c11.c) and the lock-token table (memory.c)
 * are touched by every logical thread's fiber; under the scheduler's
 * no_sync fibers TSan would see those plain accesses as racing.  The
 * ignores cover plain accesses only: the real atomics inside stay
 * visible.  Without TSan they are nothing.
 */
#ifndef LAB_SCHED_TSAN_IGNORE_H
#define LAB_SCHED_TSAN_IGNORE_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if __has_feature(thread_sanitizer) || defined(__SANITIZE_THREAD__)
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define LAB_TSAN_IGNORE_BEGIN() __tsan_ignore_thread_begin()
#define LAB_TSAN_IGNORE_END() __tsan_ignore_thread_end()
#else
#define LAB_TSAN_IGNORE_BEGIN() ((void)0)
#define LAB_TSAN_IGNORE_END() ((void)0)
#endif

#endif /* LAB_SCHED_TSAN_IGNORE_H */
