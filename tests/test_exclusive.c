/* test_exclusive.c - EXCLUSIVE blocks have one owner.
 *
 * Rule (maze.h, our own contract; reference.md section 1): an EXCLUSIVE
 * block is owned by the allocating context (lab_ctx_id()).  Any other
 * context - another logical task on the same thread, another pthread, or
 * an interrupt on the owner's own thread - cannot free it (FOREIGN_FREE,
 * -EPERM, block stays allocated), get its address (NULL, FOREIGN_ACCESS)
 * or pass an access check (-EPERM).  Only the owner may hand it off;
 * after a handoff the new owner may free it and the old one may not.
 * Blocks without EXCLUSIVE can be freed by anyone.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static struct capture cap;

/* Per-thread caches on (the default), so frees by other contexts also go
 * through their caches. */
static struct lab_maze *maze_excl(void)
{
	struct lab_maze_config cfg;

	lab_maze_config_init(&cfg, 32, 32);
	cfg.report = cap_hook;
	cfg.report_arg = &cap;
	return maze_from(&cfg);
}

/* What a foreign context gets when it tries everything on pg. */
static void expect_foreign(struct lab_maze *m, struct lab_page *pg,
			   unsigned order, void *addr)
{
	unsigned ff = cap_count(&cap, LAB_REPORT_FOREIGN_FREE);
	unsigned fa = cap_count(&cap, LAB_REPORT_FOREIGN_ACCESS);
	uint32_t owner = lab_page_owner(m, pg);

	CHECK(owner != 0 && owner != lab_ctx_id());
	CHECK_EQ_INT(lab_free_pages(m, pg, order), -EPERM);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_FOREIGN_FREE), ff + 1);
	CHECK_EQ_INT(lab_free_pages_addr(m, addr, order), -EPERM);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_FOREIGN_FREE), ff + 2);
	CHECK(lab_page_address(m, pg) == NULL);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_FOREIGN_ACCESS), fa + 1);
	CHECK_EQ_INT(lab_access_check(m, addr, 16), -EPERM);
	CHECK_EQ_U64(cap_count(&cap, LAB_REPORT_FOREIGN_ACCESS), fa + 2);
	CHECK_EQ_INT(lab_page_handoff(m, pg, order, lab_ctx_id()), -EPERM);
	CHECK_EQ_U64(lab_page_owner(m, pg), owner); /* unchanged */
}

/* What the owner gets: address and access. */
static void expect_owner(struct lab_maze *m, struct lab_page *pg, void *addr)
{
	CHECK_EQ_U64(lab_page_owner(m, pg), lab_ctx_id());
	CHECK(lab_page_address(m, pg) == addr);
	CHECK_EQ_INT(lab_access_check(m, addr, 16), 0);
}

/* The allocating context owns the block; lab_get_free_pages returns the
 * address to it. */
static void test_owner_is_allocator(void)
{
	struct lab_maze *m = maze_excl();
	struct lab_page *pg =
		lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 1);
	void *a = lab_get_free_pages(m, LAB_GFP_ATOMIC | LAB_GFP_EXCLUSIVE, 0);
	struct lab_page *plain = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);

	CHECK(pg && a && plain);
	expect_owner(m, pg, lab_page_address(m, pg));
	CHECK_EQ_U64(lab_page_owner(m, lab_virt_to_page(m, a)), lab_ctx_id());
	CHECK_EQ_U64(lab_page_owner(m, plain), 0);
	CHECK_EQ_INT(lab_free_pages(m, pg, 1), 0);
	CHECK_EQ_INT(lab_free_pages_addr(m, a, 0), 0);
	CHECK_EQ_INT(lab_free_pages(m, plain, 0), 0);
	lab_maze_destroy(m);
}

/* Another logical task on the same thread (lab_ctx_switch) is foreign. */
static void test_foreign_task_same_thread(void)
{
	struct lab_maze *m = maze_excl();
	struct lab_ctx *other = lab_ctx_create(0, "other");
	struct lab_page *pg =
		lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 2);
	void *a = lab_page_address(m, pg);
	uint64_t f = free_frames(m), cached = stats_of(m).cached_frames;
	struct lab_ctx *prev;

	CHECK(other && pg && a);
	prev = lab_ctx_switch(other);
	CHECK_EQ_U64(lab_ctx_id(), lab_ctx_task_id(other));
	expect_foreign(m, pg, 2, a);
	lab_ctx_switch(prev);
	CHECK_EQ_U64(free_frames(m), f);
	CHECK_EQ_U64(stats_of(m).cached_frames, cached);
	expect_owner(m, pg, a);
	CHECK_EQ_INT(lab_free_pages(m, pg, 2), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_ctx_destroy(other);
	lab_maze_destroy(m);
}

struct foreign_job {
	struct lab_maze *m;
	struct lab_page *pg;
	unsigned order;
	void *addr;
};

static void *foreign_thread(void *arg)
{
	struct foreign_job *job = arg;

	expect_foreign(job->m, job->pg, job->order, job->addr);
	return NULL;
}

/* A real second pthread is foreign too. */
static void test_foreign_thread(void)
{
	struct lab_maze *m = maze_excl();
	struct foreign_job job = { m, NULL, 0, NULL };
	pthread_t t;

	job.pg = lab_alloc_pages(m, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);
	job.addr = lab_page_address(m, job.pg);
	CHECK(job.pg && job.addr);
	CHECK(pthread_create(&t, NULL, foreign_thread, &job) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	expect_owner(m, job.pg, job.addr);
	CHECK_EQ_INT(lab_free_pages(m, job.pg, 0), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

static void isr_try_foreign(void *arg)
{
	struct foreign_job *job = arg;

	/* No CHECK in an ISR that a signal could run; this one runs from
	 * lab_irq_raise on our own stack, so exiting is fine. */
	expect_foreign(job->m, job->pg, job->order, job->addr);
}

struct irq_alloc {
	struct lab_maze *m;
	struct lab_page *pg;
	uint32_t id;
};

static void isr_alloc_exclusive(void *arg)
{
	struct irq_alloc *ia = arg;

	ia->pg = lab_alloc_pages(ia->m, LAB_GFP_ATOMIC | LAB_GFP_EXCLUSIVE, 0);
	ia->id = lab_ctx_id();
}

/* An interrupt is a different owner from the task it interrupts, both
 * ways round. */
static void test_irq_is_another_owner(void)
{
	struct lab_maze *m = maze_excl();
	struct foreign_job job = { m, NULL, 1, NULL };
	struct irq_alloc ia = { m, NULL, 0 };
	uint32_t task = lab_ctx_id();

	job.pg = lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 1);
	job.addr = lab_page_address(m, job.pg);
	lab_irq_enter();
	CHECK_EQ_U64(lab_ctx_id(), task | LAB_CTX_IRQ_BIT);
	expect_foreign(m, job.pg, 1, job.addr);
	lab_irq_exit();
	CHECK(lab_irq_raise(isr_try_foreign, &job));
	expect_owner(m, job.pg, job.addr);
	/* A block allocated in IRQ context belongs to the IRQ context. */
	CHECK(lab_irq_raise(isr_alloc_exclusive, &ia));
	CHECK(ia.pg != NULL);
	CHECK_EQ_U64(ia.id, task | LAB_CTX_IRQ_BIT);
	CHECK_EQ_U64(lab_page_owner(m, ia.pg), ia.id);
	expect_foreign(m, ia.pg, 0, lab_pfn_to_virt(m, pfn_of(m, ia.pg)));
	lab_irq_enter();
	CHECK_EQ_INT(lab_free_pages(m, ia.pg, 0), 0);
	lab_irq_exit();
	CHECK_EQ_INT(lab_free_pages(m, job.pg, 1), 0);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_maze_destroy(m);
}

/* Handoff moves ownership: the new owner may free, the old may not; only
 * the owner may hand off. */
static void test_handoff(void)
{
	struct lab_maze *m = maze_excl();
	struct lab_ctx *b = lab_ctx_create(0, "b"), *c = lab_ctx_create(0, "c");
	struct lab_page *pg =
		lab_alloc_pages(m, LAB_GFP_KERNEL | LAB_GFP_EXCLUSIVE, 3);
	void *a = lab_page_address(m, pg);
	struct lab_ctx *prev;
	unsigned fa;

	CHECK(b && c && pg && a);
	/* c is not the owner: its handoff is refused and reported. */
	prev = lab_ctx_switch(c);
	fa = cap_count(&cap, LAB_REPORT_FOREIGN_ACCESS);
	CHECK_EQ_INT(lab_page_handoff(m, pg, 3, lab_ctx_task_id(c)), -EPERM);
	CHECK(cap_count(&cap, LAB_REPORT_FOREIGN_ACCESS) +
		      cap_count(&cap, LAB_REPORT_FOREIGN_FREE) >
	      fa);
	lab_ctx_switch(prev);
	CHECK_EQ_U64(lab_page_owner(m, pg), lab_ctx_id());
	/* The owner hands it to b. */
	CHECK_EQ_INT(lab_page_handoff(m, pg, 3, lab_ctx_task_id(b)), 0);
	CHECK_EQ_U64(lab_page_owner(m, pg), lab_ctx_task_id(b));
	expect_foreign(m, pg, 3, a);
	prev = lab_ctx_switch(b);
	expect_owner(m, pg, a);
	CHECK_EQ_INT(lab_free_pages(m, pg, 3), 0);
	lab_ctx_switch(prev);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	lab_ctx_destroy(b);
	lab_ctx_destroy(c);
	lab_maze_destroy(m);
}

static void *free_plain_thread(void *arg)
{
	struct foreign_job *job = arg;

	CHECK_EQ_INT(lab_free_pages(job->m, job->pg, job->order), 0);
	return NULL;
}

/* Non-exclusive blocks can be freed by any context, thread or interrupt;
 * a handoff makes one exclusive to the new owner. */
static void test_plain_blocks_free_for_all(void)
{
	struct lab_maze *m = maze_excl();
	struct lab_ctx *b = lab_ctx_create(0, "b");
	struct foreign_job job = { m, NULL, 2, NULL };
	struct lab_page *p0 = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);
	struct lab_page *p1 = lab_alloc_pages(m, LAB_GFP_KERNEL, 1);
	struct lab_ctx *prev;
	pthread_t t;

	job.pg = lab_alloc_pages(m, LAB_GFP_KERNEL, 2);
	CHECK(b && p0 && p1 && job.pg);
	prev = lab_ctx_switch(b);
	CHECK(lab_page_address(m, p0) != NULL);
	CHECK_EQ_INT(lab_free_pages(m, p0, 0), 0);
	lab_ctx_switch(prev);
	lab_irq_enter();
	CHECK_EQ_INT(lab_free_pages(m, p1, 1), 0);
	lab_irq_exit();
	CHECK(pthread_create(&t, NULL, free_plain_thread, &job) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	/* Handoff of a plain block makes it b's alone. */
	p0 = lab_alloc_pages(m, LAB_GFP_KERNEL, 0);
	CHECK_EQ_INT(lab_page_handoff(m, p0, 0, lab_ctx_task_id(b)), 0);
	CHECK_EQ_U64(lab_page_owner(m, p0), lab_ctx_task_id(b));
	CHECK_EQ_INT(lab_free_pages(m, p0, 0), -EPERM);
	prev = lab_ctx_switch(b);
	CHECK_EQ_INT(lab_free_pages(m, p0, 0), 0);
	lab_ctx_switch(prev);
	lab_ctx_destroy(b); /* gives back b's cached frames */
	lab_maze_drain_local(m);
	CHECK_EQ_INT(lab_maze_check(m), 0);
	CHECK_EQ_U64(free_frames(m), lab_maze_frames(m));
	lab_maze_destroy(m);
}

int main(void)
{
	cap_reset(&cap);
	RUN(test_owner_is_allocator);
	RUN(test_foreign_task_same_thread);
	RUN(test_foreign_thread);
	RUN(test_irq_is_another_owner);
	RUN(test_handoff);
	RUN(test_plain_blocks_free_for_all);
	return 0;
}
