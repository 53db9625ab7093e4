/* test_fibers.c - the instrumented c11_pages (c11_pages_instr: the same
 * unmodified c11_pages.c through labyrinth_instrument) in schedules of the
 * small fiber scheduler of stress/sched/tests/fake_sched.c: three logical
 * threads each allocate two pages, stamp them, and free them.  Every
 * atomic and lock of the allocator is a scheduling point, so random-walk
 * schedules interleave inside its operations:
 *   - the correct allocator is clean in every one of 500 schedules;
 *   - the seeded split-claim bug (c11_pages.h) is found: two owners of
 *     one page, a refused free or an inconsistent bitmap, in some.
 * Until the real scheduler runs backends (`labyrinth stress --mode
 * controlled --backend c11-pages`), this is the controlled-mode check of
 * the example. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "c11_pages.h"
#include "fake_sched.h"

#define SEEDS 500
#define PAGES 64

static struct c11_pages *pages;
static unsigned problems;

static void worker(unsigned id)
{
	unsigned char *held[2];

	for (int i = 0; i < 2; i++) {
		held[i] = c11_pages_alloc(pages);
		if (held[i])
			memset(held[i], (int)(id * 2 + (unsigned)i + 1), 64);
	}
	for (int i = 0; i < 2; i++) {
		if (!held[i])
			continue;
		if (held[i][0] != id * 2 + (unsigned)i + 1 ||
		    held[i][63] != id * 2 + (unsigned)i + 1)
			problems++; /* another thread wrote our page */
		if (c11_pages_free(pages, held[i]))
			problems++;
	}
}

/* Schedules with a problem, over SEEDS seeds; the first one in *first. */
static unsigned hunt(enum c11_pages_bug bug, uint64_t *first)
{
	struct lab_fake_result r;
	unsigned found = 0;

	*first = 0;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		pages = c11_pages_create(PAGES, 4096, bug);
		problems = 0;
		lab_fake_run(3, worker, seed, &r);
		if (r.deadlock)
			problems++;
		if (c11_pages_check(pages) ||
		    c11_pages_free_count(pages) != PAGES)
			problems++;
		if (problems && !found++)
			*first = seed;
		c11_pages_destroy(pages);
	}
	return found;
}

int main(void)
{
	uint64_t first;
	unsigned clean_bad = hunt(C11_PAGES_CORRECT, &first);
	unsigned found = hunt(C11_PAGES_SPLIT_CLAIM, &first);

	printf("correct: %u of %d schedules with a problem; split-claim: %u "
	       "of %d (first at seed %llu)\n",
	       clean_bad, SEEDS, found, SEEDS, (unsigned long long)first);
	if (clean_bad) {
		fprintf(stderr, "FAIL: the correct allocator failed\n");
		return 1;
	}
	if (!found) {
		fprintf(stderr, "FAIL: split-claim was not found\n");
		return 1;
	}
	return 0;
}
