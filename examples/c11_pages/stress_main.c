/* stress_main.c - free-running stress of c11_pages with plain pthreads,
 * no labyrinth at all: the "naive" baseline the controlled modes are
 * compared with (docs/own-allocator.md).
 *
 *   c11_pages_stress [--seconds S] [--threads N] [--pages N] [--seed N]
 *                    [--bug split-claim|none]
 *
 * Every thread allocates and frees pages, stamps each page it holds with
 * (magic, thread, serial) and verifies the stamp before freeing it, and
 * hands some pages to other threads through a shared pool.  At the end
 * every page is freed and the allocator must be consistent with all of
 * its pages free.  Exit 0: nothing found, 1: a finding (printed), 2: bad
 * command line.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "c11_pages.h"

#define HELD 32
#define POOL 64
#define MAGIC 0x6331317061676573ull /* "c11pages" */

struct stamp {
	uint64_t magic, serial;
	unsigned thread;
};

static struct {
	struct c11_pages *pages;
	double seconds;
	uint64_t seed;
	atomic_bool stop;
	atomic_uint findings;
	atomic_ullong ops;
	pthread_mutex_t pool_lock;
	void *pool[POOL];
	unsigned npool;
} run;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void finding(const char *what, const void *page)
{
	if (atomic_fetch_add(&run.findings, 1) == 0)
		printf("finding: %s (page %p)\n", what, page);
	atomic_store(&run.stop, true);
}

/* Verifies a page's stamp and frees it. */
static void release(void *page, uint64_t serial, unsigned thread)
{
	struct stamp s;

	memcpy(&s, page, sizeof(s));
	if (serial &&
	    (s.magic != MAGIC || s.serial != serial || s.thread != thread))
		finding("stamp-mismatch: a held page was written by someone "
			"else (two owners)",
			page);
	if (c11_pages_free(run.pages, page))
		finding("free-refused: free() refused an allocated page", page);
}

/* give: hands the page to the pool; returns it back if the pool is full.
 * NULL: takes a page from the pool (NULL if empty). */
static void *pool_swap(void *give)
{
	void *got = NULL;

	pthread_mutex_lock(&run.pool_lock);
	if (give && run.npool < POOL)
		run.pool[run.npool++] = give, give = NULL;
	else if (!give && run.npool)
		got = run.pool[--run.npool];
	pthread_mutex_unlock(&run.pool_lock);
	return give ? give : got;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rng = run.seed ^ ((uint64_t)id << 32), serial = 0;
	void *held[HELD];
	uint64_t serials[HELD];
	unsigned n = 0;
	unsigned long long ops = 0;

	while (!atomic_load_explicit(&run.stop, memory_order_relaxed)) {
		uint64_t r = next_rand(&rng);

		if (n < HELD && (r & 3)) {
			void *p = c11_pages_alloc(run.pages);
			struct stamp s = { MAGIC, ++serial, id };

			if (p) {
				memcpy(p, &s, sizeof(s));
				held[n] = p;
				serials[n++] = serial;
			}
		} else if (n) {
			unsigned i = (unsigned)(r >> 8) % n;
			void *p = held[i];
			uint64_t sp = serials[i];

			held[i] = held[--n];
			serials[i] = serials[n];
			if ((r >> 4) & 1) {
				struct stamp s;

				memcpy(&s, p, sizeof(s));
				if (s.serial != sp)
					finding("stamp-mismatch: a held page was "
						"written by someone else",
						p);
				p = pool_swap(p); /* handed over, or kept */
				if (p)
					release(p, sp, id);
			} else {
				release(p, sp, id);
			}
		}
		if ((r & 0xff) == 0) {
			void *p = pool_swap(NULL);

			if (p)
				release(p, 0,
					id); /* a page another thread held */
		}
		ops++;
	}
	while (n--)
		release(held[n], serials[n], id);
	atomic_fetch_add(&run.ops, ops);
	return NULL;
}

static int usage(const char *msg)
{
	fprintf(stderr, "c11_pages_stress: %s\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	unsigned threads = 2;
	size_t npages = 4096;
	int bug = 0;
	pthread_t t[64];
	double start;
	long problems;

	run.seconds = 5;
	run.seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage("every option takes a value");
		if (!strcmp(argv[i], "--seconds"))
			run.seconds = strtod(v, NULL);
		else if (!strcmp(argv[i], "--threads"))
			threads = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--pages"))
			npages = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--seed"))
			run.seed = strtoull(v, NULL, 10);
		else if (!strcmp(argv[i], "--bug"))
			bug = c11_pages_bug_parse(v);
		else
			return usage("unknown option (see the file's header)");
		i++;
		if (bug < 0)
			return usage("unknown --bug (split-claim, none)");
	}
	if (!threads || threads > 64 || run.seconds <= 0)
		return usage("--threads 1..64 and --seconds > 0");
	run.pages = c11_pages_create(npages, 4096, (enum c11_pages_bug)bug);
	if (!run.pages)
		return usage("cannot create the allocator (--pages)");
	pthread_mutex_init(&run.pool_lock, NULL);
	printf("c11_pages_stress: seed %" PRIu64 ", %u threads, %zu pages, "
	       "%.1f s\n",
	       run.seed, threads, npages, run.seconds);
	start = now();
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	while (!atomic_load(&run.stop) && now() - start < run.seconds) {
		struct timespec ms = { 0, 10 * 1000 * 1000 };

		nanosleep(&ms, NULL);
	}
	atomic_store(&run.stop, true);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	while (run.npool)
		release(run.pool[--run.npool], 0, 0);
	if ((problems = c11_pages_check(run.pages)))
		finding("inconsistent: bitmap, cache and free count disagree",
			NULL);
	else if (c11_pages_free_count(run.pages) != npages)
		finding("not-conserved: pages missing after every page was "
			"freed",
			NULL);
	printf("%llu ops in %.1f s, findings: %u\n",
	       (unsigned long long)atomic_load(&run.ops), now() - start,
	       atomic_load(&run.findings));
	c11_pages_destroy(run.pages);
	return atomic_load(&run.findings) ? 1 : 0;
}
