/* hooks.c - yield points and blocking waits.
 *
 * The yield hook is read with a relaxed load at every point: installing
 * hooks is done at quiescent points (documented), so no ordering is needed
 * beyond the thread start that follows.  Waits use a private futex on the
 * maze's 32-bit free sequence word unless a scheduler replaced them.
 */
#define _GNU_SOURCE /* mmap flags, syscall, clock_gettime, posix_memalign */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

_Atomic(lab_yield_fn) _lab_yield_hook;
_Atomic(lab_atomic_hook_fn) _lab_atomic_hook;
_Atomic(lab_plain_hook_fn) _lab_plain_hook;
static _Atomic(lab_wait_fn) lab_wait_hook;
static _Atomic(void *) lab_hook_arg;

static const char *const lab_yield_names[LAB_YP_COUNT] = {
#define LAB_YP_NAME(id, name) [LAB_YP_##id] = name,
	LAB_YIELD_POINTS(LAB_YP_NAME)
#undef LAB_YP_NAME
};

const char *lab_yield_point_name(enum lab_yield_point point)
{
	return (unsigned)point < LAB_YP_COUNT ? lab_yield_names[point] : "?";
}

void lab_set_sched_hooks(const struct lab_sched_hooks *hooks)
{
	atomic_store(&lab_hook_arg, hooks ? hooks->arg : NULL);
	atomic_store(&lab_wait_hook, hooks ? hooks->wait : NULL);
	atomic_store(&_lab_yield_hook, hooks ? hooks->yield : NULL);
}

/* Both hooks are read relaxed at every access: like the yield hook they
 * change only at quiescent points. */
void lab_set_memory_hooks(const struct lab_memory_hooks *hooks)
{
	atomic_store(&_lab_plain_hook, hooks ? hooks->plain : NULL);
	atomic_store(&_lab_atomic_hook, hooks ? hooks->atomic : NULL);
}

void _lab_plain_frames_slow(const struct lab_maze *maze, uint64_t pfn,
			    unsigned order, bool write, const char *site)
{
	lab_plain_hook_fn fn =
		atomic_load_explicit(&_lab_plain_hook, memory_order_relaxed);
	uint64_t i, n = (uint64_t)1 << order;

	for (i = 0; fn && i < n; i++)
		fn(_lab_pfn_addr(maze, pfn + i), maze->cfg.page_size, write,
		   site);
}

void _lab_yield_slow(enum lab_yield_point point)
{
	lab_yield_fn fn =
		atomic_load_explicit(&_lab_yield_hook, memory_order_relaxed);

	if (fn)
		fn(point,
		   atomic_load_explicit(&lab_hook_arg, memory_order_relaxed));
}

int _lab_wait(atomic_uint *word, unsigned expected, unsigned timeout_ms)
{
	lab_wait_fn hook = atomic_load(&lab_wait_hook);
	struct timespec ts = { timeout_ms / 1000,
			       (long)(timeout_ms % 1000) * 1000000l };
	long r;

	if (hook)
		return hook(word, expected, timeout_ms,
			    atomic_load(&lab_hook_arg));
	r = syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected,
		    &ts, NULL, 0);
	return r == 0 ? 0 : -errno;
}

void _lab_wake_all(atomic_uint *word)
{
	(void)syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE,
		      0x7fffffff, NULL, NULL, 0);
}

#ifndef LAB_BUILD_INFO
#define LAB_BUILD_INFO "unknown build"
#endif

const char *lab_version(void)
{
	return "0.1.0 (" LAB_BUILD_INFO ")";
}
