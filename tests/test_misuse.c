/* test_misuse.c - misuse is detected, reported, and not performed.
 *
 * Rule (maze.h, report.h): a free that is not allowed is reported with its
 * kind and returns a negative errno, and the maze is left exactly as it
 * was (same free count, block still allocated, whole-maze check clean).
 * Debug builds poison freed pages and report writes into them; the
 * default report hook prints "BUG: ..." and aborts on fatal kinds.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static struct capture cap;

/* 16x16 frames, every frame allocatable (min 0), no per-thread cache. */
static struct lab_maze *maze_small(void)
{
	struct lab_maze_config cfg = cfg_exact(16, 16, 0, 1, 2, &cap);

	cfg.max_order = 4;
	return maze_from(&cfg);
}

/* Asserts that `kind` was reported once more than `before` and that the
 * maze's free count did not move. */
static void expect_rejected(struct lab_maze *m, enum lab_report_kind kind,
			    unsigned before, uint64_t free_before)
{
	CHECK_EQ_U64(cap_count(&cap, kind), before + 1);
	CHECK_EQ_U64(free_frames(m), free_before);
	CHECK_EQ_INT(lab_maze_check(m), 0);
}

/* A second free of the same block is a DOUBLE_FREE and changes nothing;
 * also by address, and for a block whose frames were since reused. */
static void test_double_free(void)
{
	struct lab_maze *m = maze_small();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 1);
	struct lab_page *keep = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
	void *a = lab_page_address(m, pg);
	unsigned before;
	uint64_t f;

	CHECK(pg && keep && a);
	CHECK_EQ_INT(lab_free_pages(m, pg, 1), 0);
	f = free_frames(m);
	before = cap_count(&cap, LAB_REPORT_DOUBLE_FREE);
	CHECK(lab_free_pages(m, pg, 1) < 0);
	expect_rejected(m, LAB_REPORT_DOUBLE_FREE, before, f);
	CHECK(lab_free_pages_addr(m, a, 1) < 0);
	expect_rejected(m, LAB_REPORT_DOUBLE_FREE, before + 1, f);
	/* A frame that was never allocated at all. */
	CHECK(lab_free_pages(m, lab_pfn_to_page(m, 200), 0) < 0);
	expect_rejected(m, LAB_REPORT_DOUBLE_FREE, before + 2, f);
	CHECK_EQ_INT(lab_free_pages(m, keep, 0), 0);
	CHECK_EQ_U64(free_frames(m), lab_maze_frames(m));
	lab_maze_destroy(m);
}

/* Freeing with another order than allocated is WRONG_ORDER and is not
 * performed; the right order still works afterwards. */
static void test_wrong_order(void)
{
	struct lab_maze *m = maze_small();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 2);
	uint64_t f = free_frames(m);
	unsigned before = cap_count(&cap, LAB_REPORT_WRONG_ORDER);

	CHECK(pg != NULL);
	CHECK_EQ_U64(pfn_of(m, pg) % 4, 0);
	CHECK(lab_free_pages(m, pg, 1) < 0);
	expect_rejected(m, LAB_REPORT_WRONG_ORDER, before, f);
	CHECK(lab_free_pages(m, pg, 0) < 0);
	expect_rejected(m, LAB_REPORT_WRONG_ORDER, before + 1, f);
	if (pfn_of(m, pg) % 8 == 0) {
		CHECK(lab_free_pages(m, pg, 3) < 0);
		expect_rejected(m, LAB_REPORT_WRONG_ORDER, before + 2, f);
	}
	CHECK_EQ_INT(lab_free_pages(m, pg, 2), 0);
	CHECK_EQ_U64(free_frames(m), lab_maze_frames(m));
	lab_maze_destroy(m);
}

/* A tail frame of a block is not a block head: BAD_POINTER, not freed,
 * whether named by descriptor or by address. */
static void test_free_tail_frame(void)
{
	struct lab_maze *m = maze_small();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 2);
	uint64_t head = pfn_of(m, pg), f = free_frames(m), i;
	unsigned before = cap_count(&cap, LAB_REPORT_BAD_POINTER);

	for (i = 1; i < 4; i++) {
		CHECK(lab_free_pages(m, lab_pfn_to_page(m, head + i), 0) < 0);
		expect_rejected(m, LAB_REPORT_BAD_POINTER, before++, f);
		CHECK(lab_free_pages_addr(m, lab_pfn_to_virt(m, head + i), 0) <
		      0);
		expect_rejected(m, LAB_REPORT_BAD_POINTER, before++, f);
	}
	CHECK(lab_free_pages(m, lab_pfn_to_page(m, head + 2), 1) < 0);
	expect_rejected(m, LAB_REPORT_BAD_POINTER, before++, f);
	CHECK_EQ_INT(lab_free_pages(m, pg, 2), 0);
	lab_maze_destroy(m);
}

/* Freeing an order-2 block at an address not aligned to order 2 is
 * refused (BAD_POINTER), for addresses inside and outside a block. */
static void test_free_misaligned_order(void)
{
	struct lab_maze *m = maze_small();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 2);
	uint64_t head = pfn_of(m, pg), f = free_frames(m);
	unsigned before = cap_count(&cap, LAB_REPORT_BAD_POINTER);

	CHECK(lab_free_pages_addr(m, lab_pfn_to_virt(m, head + 1), 2) < 0);
	expect_rejected(m, LAB_REPORT_BAD_POINTER, before, f);
	CHECK(lab_free_pages_addr(m, lab_pfn_to_virt(m, head + 2), 2) < 0);
	expect_rejected(m, LAB_REPORT_BAD_POINTER, before + 1, f);
	CHECK(lab_free_pages(m, lab_pfn_to_page(m, head + 3), 2) < 0);
	expect_rejected(m, LAB_REPORT_BAD_POINTER, before + 2, f);
	CHECK_EQ_INT(lab_free_pages(m, pg, 2), 0);
	lab_maze_destroy(m);
}

#ifndef LAB_RELEASE
/* Allocates every frame of m at order 0 into pages[]. */
static void take_all(struct lab_maze *m, struct lab_page **pages)
{
	uint64_t i, n = lab_maze_frames(m);

	for (i = 0; i < n; i++) {
		pages[i] = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);
		CHECK(pages[i] != NULL);
	}
	CHECK(!lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0));
}
#endif

/* Debug builds: a write into a freed page is reported (POISON) when the
 * page is allocated again; without the write there is no report. */
static void test_poison(void)
{
#ifdef LAB_RELEASE
	printf("skip test_poison: release build has no poisoning\n");
#else
	struct lab_maze *m = maze_small();
	struct lab_page *pages[256];
	unsigned char *a;
	unsigned before = cap_count(&cap, LAB_REPORT_POISON);

	take_all(m, pages);
	/* Clean free and reuse: no report. */
	CHECK_EQ_INT(lab_free_pages(m, pages[10], 0), 0);
	CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT, 0) == pages[10]);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_POISON), before);
	/* Write after free: reported at the next allocation. */
	a = lab_page_address(m, pages[10]);
	CHECK_EQ_INT(lab_free_pages(m, pages[10], 0), 0);
	a[100] = 0x5a;
	CHECK(lab_alloc_pages(m, LAB_GFP_NOWAIT, 0) == pages[10]);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_POISON), before + 1);
	CHECK_EQ_U64(cap.last_pfn[LAB_REPORT_POISON], pfn_of(m, pages[10]));
	lab_maze_destroy(m);
#endif
}

/* lab_access_check on a frame that is free reports USE_AFTER_FREE. */
static void test_access_after_free(void)
{
	struct lab_maze *m = maze_small();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 1);
	char *a = lab_page_address(m, pg);
	unsigned before = cap_count(&cap, LAB_REPORT_USE_AFTER_FREE);

	CHECK_EQ_INT(lab_access_check(m, a, 64), 0);
	CHECK_EQ_INT(lab_access_check(m, a + lab_maze_page_size(m) + 8, 8), 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 1), 0);
	CHECK(lab_access_check(m, a, 64) < 0);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_USE_AFTER_FREE), before + 1);
	CHECK(lab_access_check(m, a + lab_maze_page_size(m) + 8, 8) < 0);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_USE_AFTER_FREE), before + 2);
	lab_maze_destroy(m);
}

/* ---- the default hook ---------------------------------------------------------- */

/* Runs fn in a child whose stderr goes into a pipe and whose reports go
 * to the default hook; returns the wait status, and the child's stderr in
 * out. */
static int run_child(void (*fn)(void), char *out, size_t size)
{
	int fds[2], status = 0;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		lab_set_report_hook(NULL, NULL);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < size &&
	       (r = read(fds[0], out + len, size - 1 - len)) != 0) {
		if (r > 0)
			len += (size_t)r;
		else if (errno != EINTR)
			break;
	}
	out[len] = '\0';
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	return status;
}

/* A maze without a hook of its own: reports go to the default hook. */
static struct lab_maze *maze_default_hook(void)
{
	struct lab_maze_config cfg = cfg_exact(8, 8, 0, 1, 2, NULL);

	cfg.report = NULL;
	cfg.report_arg = NULL;
	return maze_from(&cfg);
}

static void child_double_free(void)
{
	struct lab_maze *m = maze_default_hook();
	struct lab_page *pg = lab_alloc_pages(m, LAB_GFP_NOWAIT, 0);

	lab_free_pages(m, pg, 0);
	lab_free_pages(m, pg, 0); /* must not return */
}

static void child_alloc_failure(void)
{
	struct lab_maze *m = maze_default_hook();

	while (lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0))
		;
	(void)lab_alloc_pages(m, LAB_GFP_NOWAIT, 0); /* a warning */
	lab_maze_destroy(m);
}

/* The default hook prints "BUG: ..." and aborts on a fatal report (double
 * free), and only warns on a non-fatal one (allocation failure). */
static void test_default_hook_aborts(void)
{
	char out[4096];
	int status = run_child(child_double_free, out, sizeof(out));

	CHECK(WIFSIGNALED(status));
	CHECK_EQ_INT(WTERMSIG(status), SIGABRT);
	CHECK(strstr(out, "BUG:") != NULL);
	CHECK(strstr(out, "double free") != NULL);
	status = run_child(child_alloc_failure, out, sizeof(out));
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	CHECK(strstr(out, "WARNING:") != NULL);
	CHECK(strstr(out, "page allocation failure") != NULL);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_double_free);
	RUN(test_wrong_order);
	RUN(test_free_tail_frame);
	RUN(test_free_misaligned_order);
	RUN(test_poison);
	RUN(test_access_after_free);
	RUN(test_default_hook_aborts);
	return 0;
}
