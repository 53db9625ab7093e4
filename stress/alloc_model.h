/* alloc_model.h - the labyrinth allocator's own memory under the C11 model
 * of a controlled schedule (issue 13).
 *
 * The allocator does not link the scheduler: its atomics and its plain
 * accesses that cross threads reach a model only through the memory hooks
 * of labyrinth/hooks.h.  This is the glue that points them at the model:
 * each atomic access becomes a struct lab_atomic_op carried out by
 * lab_atomic_perform() (labyrinth/atomic.h), which goes through the model
 * installed on the calling OS thread and is the plain C11 operation
 * everywhere else (other OS threads, main's set-up, no model); each plain
 * access goes to the race check of the running logical thread
 * (lab_c11_sched_plain_read/write, a no-op outside a wrapped run).
 * Allocator atomics do not become scheduling points (the yield points
 * already are): they only go through the model.
 *
 * No forget (lab_c11_sched_forget) when a block is recycled: the model
 * needs one only for memory reused without a happens-before edge, and the
 * allocator orders every free before the next claim of the frames (the
 * insert's release, the claim's acquire, the free count's RMW chain).
 * Forgetting there would erase the freer's poisoning from the race check
 * and hide exactly the bugs that break that order (claim-no-acquire,
 * store-breaks-release-seq).  The correct allocator runs clean without
 * it (stress/tests/test_alloc_c11.c, alloc_c11_clean).
 */
#ifndef LAB_ALLOC_MODEL_H
#define LAB_ALLOC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labyrinth.h"
#include "labyrinth/atomic.h"

/* Installs / removes the hooks, process-wide, at a quiescent point (the
 * controlled runner's set-up and tear-down with --memory c11).  Without
 * yield points (release library) they do nothing. */
void lab_alloc_model_attach(void);
void lab_alloc_model_detach(void);

/* The atomic hook itself: the access as a struct lab_atomic_op, carried
 * out by lab_atomic_perform().  For tests that pair it with a plain hook
 * of their own (lab_set_memory_hooks). */
uint64_t lab_alloc_model_atomic(enum lab_atomic_hook_kind kind, int order,
				int order_failure, unsigned size,
				volatile void *addr, uint64_t operand,
				uint64_t *expected, const char *site);

/* The op lab_alloc_model_atomic performs (expected: a CAS's in/out). */
struct lab_atomic_op lab_alloc_model_op(enum lab_atomic_hook_kind kind,
					int order, int order_failure,
					unsigned size, volatile void *addr,
					uint64_t operand, uint64_t *expected,
					const char *site);

#endif /* LAB_ALLOC_MODEL_H */
