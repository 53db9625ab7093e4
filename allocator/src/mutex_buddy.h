/* mutex_buddy.h - the classic buddy allocator under one mutex (private).
 *
 * The project's test oracle and benchmark baseline: simple enough to trust
 * by reading, with the same geometry and watermark rules as the labyrinth
 * allocator (see mutex_buddy.c for what it deliberately leaves out).  The
 * public way in is the ops table lab_backend_mutex_buddy (backend.h); this
 * header gives tests and the fuzz oracle the typed functions underneath.
 *
 * Every function takes the instance lock, so all of them are thread-safe;
 * none of them is async-signal-safe (a signal handler that interrupts a
 * thread holding the lock would deadlock) and none ever sleeps waiting for
 * memory.
 */
#ifndef LAB_MUTEX_BUDDY_H
#define LAB_MUTEX_BUDDY_H

#include "labyrinth/backend.h"

struct lab_mbuddy;

/* Validates cfg as lab_maze_create() does, maps width*height pages aligned
 * to the largest block and frees them all into the lists.  Watermarks all
 * 0 in cfg mean the defaults of lab_maze_config_watermarks().  Only the
 * geometry and watermarks are read.  NULL with lab_last_error() set on a
 * bad config or out of memory. */
struct lab_mbuddy *lab_mbuddy_create(const struct lab_maze_config *cfg);

/* A naturally aligned block of 2^order pages, or NULL.  NULL with
 * lab_last_error() set on bad arguments (NULL instance, order above
 * max_order, unknown flag bits, NOFAIL without DIRECT_RECLAIM); plain NULL
 * when the class's watermark or fragmentation refuses it.  Never blocks,
 * not even for LAB_GFP_KERNEL or LAB_GFP_NOFAIL. */
void *lab_mbuddy_alloc(struct lab_mbuddy *mb, lab_gfp_t gfp, unsigned order);

/* Frees a block allocated with exactly this order.  On misuse nothing
 * changes and it returns, with lab_last_error() set and the same errnos as
 * lab_free_pages_addr(): -EFAULT for an address outside the region or not
 * at a page start; -EINVAL for a NULL instance or address, an order above
 * max_order or one the pfn is not aligned to, a block that is not
 * allocated (double free) or was allocated with another order. */
int lab_mbuddy_free(struct lab_mbuddy *mb, void *addr, unsigned order);

/* Walks the whole structure: list links, no overlap, every frame in
 * exactly one block, counters conserved, no two free buddies of one order.
 * Returns the number of problems (the first described in lab_last_error()),
 * or -EINVAL / -ENOMEM.  Allocates a scratch bitmap. */
long lab_mbuddy_check(struct lab_mbuddy *mb);

/* frames, free_frames, free_blocks[], frees, watermarks and per-class
 * attempts/successes/failures; every other field 0.  -EINVAL on NULL. */
int lab_mbuddy_stats(struct lab_mbuddy *mb, struct lab_maze_stats *out);

/* Unmaps everything; blocks still allocated are lost.  NULL is ignored. */
void lab_mbuddy_destroy(struct lab_mbuddy *mb);

#endif /* LAB_MUTEX_BUDDY_H */
