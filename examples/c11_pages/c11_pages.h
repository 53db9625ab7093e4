/* c11_pages.h - a small lock-free page allocator written against plain
 * C11 atomics and pthreads (no labyrinth header): the example of
 * docs/own-allocator.md's "C11 atomics and pthreads code" path.
 *
 * Order-0 pages only.  A bitmap (1 = in use) is claimed bit by bit with
 * atomic fetch_or from a per-thread hint word; a free counter reserves a
 * page before the bitmap is searched (compare-exchange, so it never goes
 * below zero); freed pages go to a small cache behind a mutex first.
 *
 * Seeded bug, chosen at c11_pages_create() (the backend adapter reads the
 * environment variable C11_PAGES_BUG):
 *   split-claim  the bitmap claim is a load, then a store of the word with
 *                the bit set, instead of one atomic read-modify-write: two
 *                threads that claim in the same word between them both get
 *                the same page, or a concurrent free is undone.  Per-thread
 *                hints keep free-running threads in different words, so
 *                real threads almost never meet there; a schedule that
 *                preempts between the load and the store does at once.
 */
#ifndef C11_PAGES_H
#define C11_PAGES_H

#include <stddef.h>

enum c11_pages_bug { C11_PAGES_CORRECT, C11_PAGES_SPLIT_CLAIM };

struct c11_pages;

/* npages pages of page_size bytes (a power of two >= 64); NULL on error. */
struct c11_pages *c11_pages_create(size_t npages, size_t page_size,
				   enum c11_pages_bug bug);
void c11_pages_destroy(struct c11_pages *p);
/* One page, aligned to page_size, or NULL when none is free. */
void *c11_pages_alloc(struct c11_pages *p);
/* 0, or -EINVAL for an address that is not an allocated page. */
int c11_pages_free(struct c11_pages *p, void *page);
size_t c11_pages_free_count(struct c11_pages *p);
size_t c11_pages_total(const struct c11_pages *p);
/* At a quiescent point: 0 if the bitmap, cache and counter agree, else
 * the number of disagreements. */
long c11_pages_check(struct c11_pages *p);
/* "split-claim" -> C11_PAGES_SPLIT_CLAIM, NULL/""/"none" -> correct;
 * -1 for an unknown name. */
int c11_pages_bug_parse(const char *name);

#endif
