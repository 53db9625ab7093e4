/* c11_pages.c - see c11_pages.h.  Only <stdatomic.h>, <pthread.h> and
 * libc: built as it is, or through labyrinth_instrument() so that each
 * atomic and lock below is a scheduling point of labyrinth's scheduler. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "c11_pages.h"

#define C11_CACHE 8 /* freed pages kept behind the mutex */

struct c11_pages {
	size_t npages, page_size, nwords;
	unsigned char *base;
	_Atomic uint64_t *bitmap; /* bit set: page in use (or cached) */
	atomic_long free_pages;	  /* pages a caller may still reserve */
	enum c11_pages_bug bug;
	pthread_mutex_t cache_lock;
	void *cache[C11_CACHE]; /* under cache_lock */
	unsigned ncache;
};

/* Where a search starts: each allocation starts one word on from the
 * last, so concurrent callers rarely claim in the same word.  (Not a
 * _Thread_local hint: under a controlled schedule every logical thread
 * runs on one OS thread and would share it; docs/own-allocator.md 8.) */
static atomic_uint next_start;

int c11_pages_bug_parse(const char *name)
{
	if (!name || !*name || !strcmp(name, "none"))
		return C11_PAGES_CORRECT;
	if (!strcmp(name, "split-claim"))
		return C11_PAGES_SPLIT_CLAIM;
	return -1;
}

struct c11_pages *c11_pages_create(size_t npages, size_t page_size,
				   enum c11_pages_bug bug)
{
	struct c11_pages *p;

	if (!npages || page_size < 64 || (page_size & (page_size - 1)))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->npages = npages;
	p->page_size = page_size;
	p->nwords = (npages + 63) / 64;
	p->bug = bug;
	p->base = aligned_alloc(page_size, npages * page_size);
	p->bitmap = calloc(p->nwords, sizeof(*p->bitmap));
	if (!p->base || !p->bitmap) {
		c11_pages_destroy(p);
		return NULL;
	}
	/* the pages past npages in the last word are never free */
	if (npages % 64)
		atomic_init(&p->bitmap[p->nwords - 1], ~0ull << (npages % 64));
	atomic_init(&p->free_pages, (long)npages);
	pthread_mutex_init(&p->cache_lock, NULL);
	return p;
}

void c11_pages_destroy(struct c11_pages *p)
{
	if (!p)
		return;
	if (p->bitmap)
		pthread_mutex_destroy(&p->cache_lock);
	free(p->base);
	free((void *)p->bitmap);
	free(p);
}

/* Takes one page of the free count, or fails when there is none. */
static int reserve_page(struct c11_pages *p)
{
	long n = atomic_load_explicit(&p->free_pages, memory_order_relaxed);

	do {
		if (n <= 0)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(
		&p->free_pages, &n, n - 1, memory_order_acquire,
		memory_order_relaxed));
	return 1;
}

static void *cache_pop(struct c11_pages *p)
{
	void *page = NULL;

	pthread_mutex_lock(&p->cache_lock);
	if (p->ncache)
		page = p->cache[--p->ncache];
	pthread_mutex_unlock(&p->cache_lock);
	return page;
}

static int cache_push(struct c11_pages *p, void *page)
{
	int kept = 0;

	pthread_mutex_lock(&p->cache_lock);
	if (p->ncache < C11_CACHE) {
		p->cache[p->ncache++] = page;
		kept = 1;
	}
	pthread_mutex_unlock(&p->cache_lock);
	return kept;
}

/* Sets bit `bit` of word w; true if this call set it (it was clear). */
static int claim_bit(struct c11_pages *p, size_t w, uint64_t bit)
{
	if (p->bug == C11_PAGES_SPLIT_CLAIM) {
		/* the bug: read, then write back, as two steps */
		uint64_t old = atomic_load_explicit(&p->bitmap[w],
						    memory_order_acquire);
		if (old & bit)
			return 0;
		atomic_store_explicit(&p->bitmap[w], old | bit,
				      memory_order_release);
		return 1;
	}
	return !(atomic_fetch_or_explicit(&p->bitmap[w], bit,
					  memory_order_acq_rel) &
		 bit);
}

/* Claims a clear bit from the hint on: its page index, or -1 after two
 * passes found none (pages in flight in the cache or in other threads). */
static long claim_any(struct c11_pages *p, size_t hint)
{
	for (size_t i = 0; i < 2 * p->nwords; i++) {
		size_t w = (hint + i) % p->nwords;
		uint64_t v = atomic_load_explicit(&p->bitmap[w],
						  memory_order_relaxed);

		while (~v) {
			uint64_t bit = ~v & -~v; /* lowest clear bit */

			if (claim_bit(p, w, bit))
				return (long)(w * 64 +
					      (size_t)__builtin_ctzll(bit));
			v = atomic_load_explicit(&p->bitmap[w],
						 memory_order_relaxed);
		}
	}
	return -1;
}

void *c11_pages_alloc(struct c11_pages *p)
{
	void *page;
	long idx;

	if (!reserve_page(p))
		return NULL;
	if ((page = cache_pop(p)))
		return page;
	idx = claim_any(p, atomic_fetch_add_explicit(&next_start, 1,
						     memory_order_relaxed) %
				   p->nwords);
	if (idx < 0) {
		atomic_fetch_add_explicit(&p->free_pages, 1,
					  memory_order_release);
		return NULL;
	}
	return p->base + (size_t)idx * p->page_size;
}

int c11_pages_free(struct c11_pages *p, void *page)
{
	uintptr_t off = (uintptr_t)page - (uintptr_t)p->base;
	size_t idx = off / p->page_size;
	uint64_t bit = 1ull << (idx % 64);

	if (!page || (uintptr_t)page < (uintptr_t)p->base ||
	    off % p->page_size || idx >= p->npages)
		return -EINVAL;
	if (!(atomic_load_explicit(&p->bitmap[idx / 64], memory_order_relaxed) &
	      bit))
		return -EINVAL; /* not allocated */
	if (!cache_push(p, page))
		atomic_fetch_and_explicit(&p->bitmap[idx / 64], ~bit,
					  memory_order_release);
	/* pairs with reserve_page's acquire */
	atomic_fetch_add_explicit(&p->free_pages, 1, memory_order_release);
	return 0;
}

size_t c11_pages_free_count(struct c11_pages *p)
{
	long n = atomic_load_explicit(&p->free_pages, memory_order_relaxed);

	return n > 0 ? (size_t)n : 0;
}

size_t c11_pages_total(const struct c11_pages *p)
{
	return p->npages;
}

long c11_pages_check(struct c11_pages *p)
{
	size_t clear = 0;
	long problems = 0;

	for (size_t w = 0; w < p->nwords; w++)
		clear += 64 - (size_t)__builtin_popcountll(atomic_load_explicit(
				      &p->bitmap[w], memory_order_relaxed));
	pthread_mutex_lock(&p->cache_lock);
	if (clear + p->ncache !=
	    (size_t)atomic_load_explicit(&p->free_pages, memory_order_relaxed))
		problems++;
	for (unsigned i = 0; i < p->ncache; i++) {
		size_t idx = (size_t)((unsigned char *)p->cache[i] - p->base) /
			     p->page_size;

		if (!(atomic_load_explicit(&p->bitmap[idx / 64],
					   memory_order_relaxed) &
		      (1ull << (idx % 64))))
			problems++; /* a cached page must stay marked */
	}
	pthread_mutex_unlock(&p->cache_lock);
	return problems;
}
