/* free_misuse.c - the misuse profile: every detector of the allocator
 * provoked on purpose, at random moments, and proven to fire.
 *
 * Workers run the mixed workload and, at random (seeded) operations,
 * commit one act of misuse: a free of a tail frame, a handoff of a block
 * that was freed, a write to a freed page, a scribbled descriptor, ...
 * (one act per detector of labyrinth/detectors.h).  Each act announces
 * the one report it must cause by detector (lab_fr_expect_detector), and
 * checks that the call was refused; a report from another detector is a
 * `wrong-detector` finding, a missing one `report-missing`, an accepted
 * misuse `misuse-accepted`.
 *
 * Acts that only touch blocks of their own run on the shared maze, amid
 * the other workers and the interrupts.  Acts on freed frames (double
 * free, a write to a freed page, a handoff of a freed block, a scribbled
 * descriptor) would hit whoever got the frame next, so each worker has a
 * small private maze for them, which only it uses.  The stale acts need
 * an interleaving: another CPU frees and reallocates the block at the
 * yield point just before the act's CAS.  They run on main after the
 * workers are joined (the yield hook is process-wide), with the rest of
 * the acts once more.
 *
 * Failure injection races too: main plans a few failures at every tick
 * of its watch while workers and interrupts allocate, and the
 * alloc-failure acts plan their own; each planner adds what it planned and
 * what the plan it replaced still owed (lab_maze_fail_next's result), so
 * at the end the allocator's `injected` count must be exactly planned -
 * owed, or the run has an `injection-miscounted` finding (a lost or
 * doubled step of the plan).
 *
 * At the end the provoked acts are held against the allocator's own
 * detector counters (lab_detector_stats): a detector provoked more often
 * than it fired is a `detector-silent` finding against the allocator's
 * checks, the whole point of the profile.  The watermark-dip detector
 * checks the allocator's own rule, which no caller can break (the flags
 * pick the class, and every flag word that may dip below min is of
 * another class than GFP_NOWAIT): its act seeds the defect it exists for,
 * nowait-below-min, for a burst of allocations on a scratch maze, on main
 * while nothing else runs (lab_mu_watermark_dip).
 *
 * The controlled mode (program.c) commits the same acts from its logical
 * threads, inside schedules (lab_misuse_act): the acts on freed frames
 * on a private maze per logical thread, the stale acts and the watermark
 * act with a yield hook of their own in front of the scheduler's
 * (lab_mu_chain), so that their interleaving and their seeded defect
 * stay theirs while every yield point is still a scheduling point.
 */
#define _GNU_SOURCE /* pthread_barrier_t in free_run.h */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "free_run.h"
#include "misuse.h"

#define LAB_MU_PRIVATE_W 8 /* a private maze: 8x4 frames, orders 0..3 */
#define LAB_MU_PRIVATE_H 4
#define LAB_MU_HELD 32 /* frames a private-maze act may hold */
#define LAB_MU_QUIESCENT_ROUNDS 2
#define LAB_MU_POISON_BYTE 0xaa /* what debug builds fill free pages with */

/* Where an act runs: the shared maze, a private one, or main only. */
enum lab_mu_where { LAB_MU_SHARED, LAB_MU_PRIVATE, LAB_MU_QUIESCENT };

/* What an act needs: the maze to misuse, a stranger context (an owner
 * that is not us), another live maze (NULL: no wrong-maze act), how
 * reports are announced and checked (ops), the free-running run if it is
 * one (NULL in controlled mode). */
struct lab_mu_env {
	struct lab_fr *fr;
	struct lab_maze *maze;
	struct lab_ctx *stranger;
	struct lab_maze *other;
	uint64_t *provoked; /* per detector, of the thread running it */
	size_t page_size;
	const struct lab_mu_ops *ops;
	void *arg;
	const struct lab_sched_hooks *base; /* the yield hook, if any */
};

static void lab_mu_note(struct lab_mu_env *e, const char *kind,
			const char *where, const char *message)
{
	e->ops->note(e->arg, kind, where, message);
}

/* Returns false if the act could not be set up (no memory), true if it
 * was committed; refusal and report are checked by the act. */
typedef bool (*lab_mu_act_fn)(struct lab_mu_env *e);

struct lab_mu_slot {
	struct lab_maze *priv;
	struct lab_ctx *stranger;
	uint64_t provoked[LAB_DET_COUNT];
};

struct lab_fr_misuse {
	struct lab_maze *other;	 /* wrong-maze acts: never allocated from */
	struct lab_mu_slot *w;	 /* per worker */
	struct lab_mu_slot main; /* main's quiescent acts */
	uint64_t provoked[LAB_DET_COUNT], fired[LAB_DET_COUNT];
	struct lab_coverage rows[LAB_DET_COUNT]; /* the table, at the end */
	struct lab_detector_stats at_start;	 /* process-wide */
	/* failure injection on the shared maze, from any thread */
	atomic_ullong fail_planned, fail_owed;
	uint64_t tick_rng; /* main's */
	bool done;
};

/* ---- helpers of the acts -------------------------------------------------------- */

static void *lab_mu_own(struct lab_mu_env *e, lab_gfp_t gfp, unsigned order)
{
	return lab_get_free_pages(e->maze, gfp | LAB_GFP_NOWARN, order);
}

/* Gives back a block of our own; a refusal is a finding. */
static void lab_mu_give_back(struct lab_mu_env *e, void *p, unsigned order)
{
	if (lab_free_pages_addr(e->maze, p, order))
		lab_mu_note(e, "free-refused", "misuse",
			    "a misuse act could not free its own block");
}

static void lab_mu_expect(struct lab_mu_env *e, enum lab_detector det)
{
	e->provoked[det]++;
	e->ops->expect(e->arg, det, false);
}

/* After the misusing call: the report came, and the call was refused. */
static void lab_mu_check(struct lab_mu_env *e, enum lab_detector det,
			 bool refused)
{
	char m[160];

	if (!e->ops->met(e->arg)) {
		lab_format(m, sizeof(m),
			   "misuse for detector %s was not "
			   "reported",
			   lab_detector_name(det));
		lab_mu_note(e, "report-missing", lab_detector_name(det), m);
	}
	if (!refused) {
		lab_format(m, sizeof(m),
			   "misuse for detector %s was not "
			   "refused",
			   lab_detector_name(det));
		lab_mu_note(e, "misuse-accepted", lab_detector_name(det), m);
	}
}

/* Allocates order-0 frames of a private maze until the one at p comes
 * back; the rest are given back.  False if it did not. */
static bool lab_mu_take_again(struct lab_mu_env *e, void *p)
{
	void *held[LAB_MU_HELD];
	unsigned n = 0;

	do
		held[n] = lab_mu_own(e, LAB_GFP_ATOMIC, 0);
	while (held[n] && held[n++] != p && n < LAB_MU_HELD);
	if (n && held[n - 1] == p)
		n--;
	else
		p = NULL;
	while (n)
		lab_mu_give_back(e, held[--n], 0);
	return p != NULL;
}

/* ---- acts on blocks of our own (shared maze) ------------------------------------ */

/* Frees p + off with `order` (tail frame, misaligned, wrong order, inside a
 * frame): refused, reported by det. */
static bool lab_mu_bad_free(struct lab_mu_env *e, enum lab_detector det,
			    unsigned alloc_order, size_t off, unsigned order)
{
	char *p = lab_mu_own(e, LAB_GFP_NOWAIT, alloc_order);
	int ret;

	if (!p)
		return false;
	lab_mu_expect(e, det);
	ret = lab_free_pages_addr(e->maze, p + off, order);
	lab_mu_check(e, det, ret < 0);
	if (!ret)
		return true; /* it is gone: accepted, already a finding */
	lab_mu_give_back(e, p, alloc_order);
	return true;
}

static bool lab_mu_wrong_order(struct lab_mu_env *e)
{
	return lab_mu_bad_free(e, LAB_DET_WRONG_ORDER_FREE, 1, 0, 0);
}

static bool lab_mu_tail_frame(struct lab_mu_env *e)
{
	return lab_mu_bad_free(e, LAB_DET_TAIL_FRAME_FREE, 1, e->page_size, 0);
}

static bool lab_mu_misaligned(struct lab_mu_env *e)
{
	return lab_mu_bad_free(e, LAB_DET_MISALIGNED_FREE, 1, e->page_size, 1);
}

static bool lab_mu_inside_frame(struct lab_mu_env *e)
{
	return lab_mu_bad_free(e, LAB_DET_INSIDE_FRAME, 0, 8, 0);
}

/* An exclusive block of ours touched by the stranger: free, access,
 * handoff. */
static bool lab_mu_as_stranger(struct lab_mu_env *e, enum lab_detector det)
{
	void *p = lab_mu_own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 0);
	struct lab_page *pg;
	struct lab_ctx *prev;
	int ret;

	if (!p || !e->stranger) {
		if (p)
			lab_mu_give_back(e, p, 0);
		return false;
	}
	pg = lab_virt_to_page(e->maze, p);
	prev = lab_ctx_switch(e->stranger);
	lab_mu_expect(e, det);
	if (det == LAB_DET_FOREIGN_FREE)
		ret = lab_free_pages_addr(e->maze, p, 0);
	else if (det == LAB_DET_FOREIGN_ACCESS)
		ret = lab_access_check(e->maze, p, 64);
	else
		ret = lab_page_handoff(e->maze, pg, 0,
				       lab_ctx_task_id(e->stranger));
	lab_ctx_switch(prev);
	lab_mu_check(e, det, ret == -EPERM);
	if (ret != -EPERM && det == LAB_DET_FOREIGN_FREE)
		return true;
	lab_mu_give_back(e, p, 0);
	return true;
}

static bool lab_mu_foreign_free(struct lab_mu_env *e)
{
	return lab_mu_as_stranger(e, LAB_DET_FOREIGN_FREE);
}

static bool lab_mu_foreign_access(struct lab_mu_env *e)
{
	return lab_mu_as_stranger(e, LAB_DET_FOREIGN_ACCESS);
}

static bool lab_mu_handoff_foreign(struct lab_mu_env *e)
{
	return lab_mu_as_stranger(e, LAB_DET_HANDOFF_FOREIGN);
}

/* A handoff with the wrong order, then one to owner 0 (no report, but
 * counted): both refused. */
static bool lab_mu_handoff_args(struct lab_mu_env *e)
{
	void *p = lab_mu_own(e, LAB_GFP_NOWAIT | LAB_GFP_EXCLUSIVE, 1);
	struct lab_page *pg;
	int ret;

	if (!p)
		return false;
	pg = lab_virt_to_page(e->maze, p);
	lab_mu_expect(e, LAB_DET_HANDOFF_ARGS);
	ret = lab_page_handoff(e->maze, pg, 0, lab_ctx_id());
	lab_mu_check(e, LAB_DET_HANDOFF_ARGS, ret == -EINVAL);
	e->provoked[LAB_DET_HANDOFF_ARGS]++;
	if (lab_page_handoff(e->maze, pg, 1, 0) != -EINVAL)
		lab_mu_note(e, "misuse-accepted", "handoff-args",
			    "a handoff to owner 0 was not refused");
	lab_mu_give_back(e, p, 1);
	return true;
}

static bool lab_mu_access_overrun(struct lab_mu_env *e)
{
	char *p = lab_mu_own(e, LAB_GFP_NOWAIT, 0);
	int ret;

	if (!p)
		return false;
	lab_mu_expect(e, LAB_DET_ACCESS_OVERRUN);
	ret = lab_access_check(e->maze, p + e->page_size - 8, 64);
	lab_mu_check(e, LAB_DET_ACCESS_OVERRUN, ret == -EFAULT);
	lab_mu_give_back(e, p, 0);
	return true;
}

/* Pointers that are no block of this maze. */
static bool lab_mu_bad_descriptor(struct lab_mu_env *e)
{
	uint64_t not_a_page[2] = { 0, 0 };
	int ret;

	lab_mu_expect(e, LAB_DET_BAD_DESCRIPTOR);
	ret = lab_free_pages(e->maze, (struct lab_page *)not_a_page, 0);
	lab_mu_check(e, LAB_DET_BAD_DESCRIPTOR, ret == -EFAULT);
	return true;
}

static bool lab_mu_wrong_maze(struct lab_mu_env *e)
{
	void *q = lab_pfn_to_virt(e->other, 0);
	int ret;

	lab_mu_expect(e, LAB_DET_WRONG_MAZE);
	ret = lab_free_pages_addr(e->maze, q, 0);
	lab_mu_check(e, LAB_DET_WRONG_MAZE, ret == -EFAULT);
	return true;
}

static bool lab_mu_out_of_range(struct lab_mu_env *e)
{
	static char outside[64];
	int ret;

	lab_mu_expect(e, LAB_DET_OUT_OF_RANGE);
	ret = lab_free_pages_addr(e->maze, outside, 0);
	lab_mu_check(e, LAB_DET_OUT_OF_RANGE, ret == -EFAULT);
	return true;
}

static bool lab_mu_might_sleep(struct lab_mu_env *e)
{
	unsigned long flags = lab_local_irq_save();
	void *p;

	lab_mu_expect(e, LAB_DET_MIGHT_SLEEP);
	p = lab_mu_own(e, LAB_GFP_KERNEL, 0);
	lab_mu_check(e, LAB_DET_MIGHT_SLEEP, !p);
	lab_local_irq_restore(flags);
	if (p)
		lab_mu_give_back(e, p, 0);
	return true;
}

static bool lab_mu_nofail_nonblocking(struct lab_mu_env *e)
{
	void *p;

	lab_mu_expect(e, LAB_DET_NOFAIL_NONBLOCKING);
	p = lab_get_free_pages(e->maze, LAB_GFP_ATOMIC | LAB_GFP_NOFAIL, 0);
	lab_mu_check(e, LAB_DET_NOFAIL_NONBLOCKING, !p);
	if (p)
		lab_mu_give_back(e, p, 0);
	return true;
}

/* A failure plan on the shared maze, accounted for (any thread). */
static void lab_mu_fail_next(struct lab_fr *fr, unsigned long skip,
			     unsigned long count)
{
	struct lab_fr_misuse *mu = fr->misuse;

	atomic_fetch_add_explicit(&mu->fail_planned, count,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&mu->fail_owed,
				  lab_maze_fail_next(fr->maze, skip, count),
				  memory_order_relaxed);
}

void lab_fr_misuse_tick(struct lab_fr *fr)
{
	struct lab_fr_misuse *mu = fr->misuse;
	uint64_t r;

	if (!mu || mu->done)
		return;
	r = lab_splitmix(&mu->tick_rng);
	lab_mu_fail_next(fr, r % 8, 1 + (r >> 8) % 4);
}

/* The whole plan accounted for: injected == planned - owed.  Main,
 * quiescent. */
static void lab_mu_check_injection(struct lab_fr *fr)
{
	struct lab_fr_misuse *mu = fr->misuse;
	struct lab_maze_stats st;
	uint64_t injected = 0, due;
	unsigned k;
	char m[200];

	lab_mu_fail_next(fr, 0, 0);
	due = atomic_load(&mu->fail_planned) - atomic_load(&mu->fail_owed);
	lab_maze_stats(fr->maze, &st);
	for (k = 0; k < LAB_CLASS_COUNT; k++)
		injected += st.cls[k].injected;
	printf("failure injection: %" PRIu64 " planned, %" PRIu64
	       " never due (replaced), %" PRIu64 " injected\n",
	       (uint64_t)atomic_load(&mu->fail_planned),
	       (uint64_t)atomic_load(&mu->fail_owed), injected);
	if (injected == due)
		return;
	snprintf(m, sizeof(m),
		 "%" PRIu64 " allocation failures were due to the plans, the "
		 "allocator injected %" PRIu64,
		 due, injected);
	lab_fr_note(fr, "injection-miscounted", "lab_maze_fail_next", m);
}

/* Our own failure plan: another thread may take the injected failure
 * first (then this allocation succeeds and the act did not happen). */
static bool lab_mu_alloc_failure(struct lab_mu_env *e)
{
	void *p;

	lab_mu_expect(e, LAB_DET_ALLOC_FAILURE);
	if (e->fr && e->maze == e->fr->maze)
		lab_mu_fail_next(e->fr, 0, 1);
	else
		lab_maze_fail_next(e->maze, 0, 1);
	p = lab_get_free_pages(e->maze, LAB_GFP_NOWAIT, 0);
	if (!p) {
		lab_mu_check(e, LAB_DET_ALLOC_FAILURE, true);
		return true;
	}
	e->provoked[LAB_DET_ALLOC_FAILURE]--;
	e->ops->met(e->arg);
	lab_mu_give_back(e, p, 0);
	return false;
}

static bool lab_mu_context_imbalance(struct lab_mu_env *e)
{
	lab_mu_expect(e, LAB_DET_CONTEXT_IMBALANCE);
	lab_preempt_enable(); /* without a disable: reported, ignored */
	lab_mu_check(e, LAB_DET_CONTEXT_IMBALANCE, lab_preempt_count() == 0);
	return true;
}

/* ---- acts on freed frames (a private maze) ------------------------------------- */

/* A block of ours freed, then freed again, handed over or checked for
 * access: refused with -EINVAL (free, handoff) or -EFAULT (access). */
static bool lab_mu_after_free(struct lab_mu_env *e, enum lab_detector det)
{
	void *p = lab_mu_own(e, LAB_GFP_NOWAIT, 0);
	int ret;

	if (!p)
		return false;
	lab_mu_give_back(e, p, 0);
	lab_mu_expect(e, det);
	if (det == LAB_DET_DOUBLE_FREE)
		ret = lab_free_pages_addr(e->maze, p, 0);
	else if (det == LAB_DET_HANDOFF_FREED)
		ret = lab_page_handoff(e->maze, lab_virt_to_page(e->maze, p), 0,
				       lab_ctx_id());
	else
		ret = lab_access_check(e->maze, p, 8) == -EFAULT ? -EINVAL : 0;
	lab_mu_check(e, det, ret == -EINVAL);
	return true;
}

static bool lab_mu_double_free(struct lab_mu_env *e)
{
	return lab_mu_after_free(e, LAB_DET_DOUBLE_FREE);
}

static bool lab_mu_handoff_freed(struct lab_mu_env *e)
{
	return lab_mu_after_free(e, LAB_DET_HANDOFF_FREED);
}

static bool lab_mu_access_free(struct lab_mu_env *e)
{
	return lab_mu_after_free(e, LAB_DET_ACCESS_FREE);
}

/* A write to a freed page: the allocation that takes the frame again
 * must report it (debug builds poison free pages). */
static bool lab_mu_poison(struct lab_mu_env *e)
{
	char *p = lab_mu_own(e, LAB_GFP_NOWAIT, 0);
	bool again;

	if (!p)
		return false;
	lab_mu_give_back(e, p, 0);
	if ((unsigned char)p[0] != LAB_MU_POISON_BYTE)
		return false;	    /* release: free pages are not poisoned */
	p[e->page_size / 2] = 0x5a; /* the write after free */
	lab_mu_expect(e, LAB_DET_POISON_SCAN);
	again = lab_mu_take_again(e, p);
	if (!again) {
		e->provoked[LAB_DET_POISON_SCAN]--;
		e->ops->met(e->arg);
		return false;
	}
	lab_mu_check(e, LAB_DET_POISON_SCAN, true);
	lab_mu_give_back(e, p, 0);
	return true;
}

/* GFP_KERNEL | NOFAIL above order 1: reported (the allocation goes on, as
 * the kernel's warning does).  Private: NOFAIL never gives up. */
static bool lab_mu_nofail_order(struct lab_mu_env *e)
{
	void *p;

	lab_mu_expect(e, LAB_DET_NOFAIL_ORDER);
	p = lab_get_free_pages(e->maze, LAB_GFP_KERNEL | LAB_GFP_NOFAIL, 2);
	lab_mu_check(e, LAB_DET_NOFAIL_ORDER, true);
	if (p)
		lab_mu_give_back(e, p, 2);
	return true;
}

/* A descriptor scribbled over, as a stray write to a struct page: the
 * whole-maze check must see it; put back, the maze is whole again.  The
 * check reports each problem, so the act takes every report by the
 * detector, not just one. */
static bool lab_mu_maze_check(struct lab_mu_env *e)
{
	void *p = lab_mu_own(e, LAB_GFP_NOWAIT, 0);
	struct lab_page *pg, *next;
	unsigned char saved[64];
	size_t size;
	long problems;

	if (!p)
		return false;
	pg = lab_virt_to_page(e->maze, p);
	next = lab_pfn_to_page(e->maze, lab_page_to_pfn(e->maze, pg) + 1);
	size = next ? (size_t)((char *)next - (char *)pg) : 0;
	if (!size || size > sizeof(saved)) {
		lab_mu_give_back(e, p, 0);
		return false;
	}
	memcpy(saved, pg, size);
	memset(pg, 0, size);
	e->provoked[LAB_DET_MAZE_CHECK]++;
	e->ops->expect(e->arg, LAB_DET_MAZE_CHECK, true);
	problems = lab_maze_check(e->maze);
	lab_mu_check(e, LAB_DET_MAZE_CHECK, problems > 0);
	/* the first report met the announcement; count the others in */
	e->provoked[LAB_DET_MAZE_CHECK] += problems > 1 ? problems - 1 : 0;
	memcpy(pg, saved, size);
	lab_mu_give_back(e, p, 0);
	if (lab_maze_check(e->maze))
		lab_mu_note(e, "maze-check", "misuse",
			    "a private maze stayed broken after its "
			    "descriptor was put back");
	return true;
}

/* ---- the hooked acts: an interleaving, or a seeded defect ----------------------- */

/* The stale acts need another CPU at the yield point just before their
 * CAS; the watermark act needs the seeded defect on for its own
 * allocations only.  While one of them runs, this hook goes in front of
 * the yield hook that was there (base: the controlled scheduler's, or
 * none): at the act's own point (its context, not an interrupt) it frees
 * and reallocates the act's block, and while the defect is on it
 * switches it off around every scheduling point, so that whoever runs
 * meanwhile (another logical thread, an interrupt) allocates from the
 * correct allocator.  The hook is process-wide: one such act at a time.
 * Other logical threads' yields read the state (fibers do not
 * synchronise under TSan): atomics. */
struct lab_mu_chain {
	atomic_bool busy;
	_Atomic(struct lab_ctx *) owner;
	atomic_int at;	 /* yield point of the recycle; -1: none (left) */
	atomic_bool dip; /* nowait-below-min is on for the owner */
	_Atomic(const struct lab_sched_hooks *) base;
	/* the owner's only */
	struct lab_mu_env *e;
	void *p;
	bool again;
};

static struct lab_mu_chain lab_mu_chain;

/* The other CPU: frees the act's block and allocates it again.  These
 * calls report nothing; in a free-running run the act's announcement is
 * put aside meanwhile (free_check.c). */
static void lab_mu_recycle(struct lab_mu_chain *c)
{
	int saved = c->e->fr ? lab_fr_expect_save() : 0;

	lab_mu_give_back(c->e, c->p, 0);
	c->again = lab_mu_take_again(c->e, c->p);
	if (c->e->fr)
		lab_fr_expect_restore(saved);
}

static bool lab_mu_chain_mine(struct lab_mu_chain *c)
{
	return atomic_load_explicit(&c->owner, memory_order_relaxed) ==
		       lab_ctx_current() &&
	       !lab_in_irq();
}

static void lab_mu_chain_yield(enum lab_yield_point point, void *arg)
{
	struct lab_mu_chain *c = arg;
	const struct lab_sched_hooks *base =
		atomic_load_explicit(&c->base, memory_order_relaxed);
	bool mine = lab_mu_chain_mine(c);
	bool dip = mine && atomic_load_explicit(&c->dip, memory_order_relaxed);

	if (mine &&
	    (int)point == atomic_load_explicit(&c->at, memory_order_relaxed)) {
		atomic_store_explicit(&c->at, -1, memory_order_relaxed);
		lab_mu_recycle(c);
	}
	if (!base || !base->yield)
		return;
	if (dip)
		lab_bug_select("none");
	base->yield(point, base->arg);
	if (dip)
		lab_bug_select("nowait-below-min");
}

static int lab_mu_chain_wait(const atomic_uint *word, unsigned expected,
			     unsigned timeout_ms, void *arg)
{
	struct lab_mu_chain *c = arg;
	const struct lab_sched_hooks *base =
		atomic_load_explicit(&c->base, memory_order_relaxed);

	return base->wait(word, expected, timeout_ms, base->arg);
}

/* Takes the hook for the act in e (recycle at `at`, -1: none); false if
 * another act has it. */
static bool lab_mu_chain_arm(struct lab_mu_env *e, int at, void *p)
{
	struct lab_mu_chain *c = &lab_mu_chain;
	struct lab_sched_hooks h = { lab_mu_chain_yield, NULL, c };

	if (atomic_exchange(&c->busy, true))
		return false;
	c->e = e;
	c->p = p;
	c->again = false;
	atomic_store(&c->base, e->base);
	atomic_store(&c->at, at);
	atomic_store(&c->dip, false);
	atomic_store(&c->owner, lab_ctx_current());
	if (e->base && e->base->wait)
		h.wait = lab_mu_chain_wait;
	lab_set_sched_hooks(&h);
	return true;
}

/* Gives the hook back to base. */
static void lab_mu_chain_disarm(void)
{
	struct lab_mu_chain *c = &lab_mu_chain;

	lab_set_sched_hooks(atomic_load(&c->base));
	atomic_store(&c->owner, NULL);
	atomic_store(&c->at, -1);
	atomic_store(&c->busy, false);
}

void lab_misuse_reset(void)
{
	struct lab_mu_chain *c = &lab_mu_chain;

	atomic_store(&c->owner, NULL);
	atomic_store(&c->dip, false);
	atomic_store(&c->busy, false);
}

/* GFP_NOWAIT order-0 blocks from m until it refuses, into held[]. */
static unsigned lab_mu_drain_nowait(struct lab_maze *m, void **held)
{
	unsigned n = 0;

	while (n < LAB_MU_HELD &&
	       (held[n] = lab_get_free_pages(m, LAB_GFP_NOWAIT | LAB_GFP_NOWARN,
					     0)))
		n++;
	return n;
}

/* With nowait-below-min (for this act's allocations only) the burst
 * takes a scratch maze (32 frames, min 8) below min; the whole-maze
 * check must report the dip.  The scratch maze goes away afterwards: its
 * dip count would be reported by every later check. */
static bool lab_mu_dip_burst(struct lab_maze *m, void **held, unsigned *n)
{
	if (lab_bug_select("nowait-below-min")) /* release build */
		return false;
	atomic_store(&lab_mu_chain.dip, true);
	*n = lab_mu_drain_nowait(m, held);
	atomic_store(&lab_mu_chain.dip, false);
	lab_bug_select("none");
	return true;
}

static bool lab_mu_watermark_dip(struct lab_mu_env *e)
{
	void *held[LAB_MU_HELD];
	struct lab_maze *m;
	unsigned n = 0;
	bool burst;
	long problems;

	/* a run hunting another seeded bug keeps it */
	if (strcmp(lab_bug_selected(), "none") ||
	    !(m = e->ops->scratch(e->arg, LAB_MISUSE_DIP_MIN)))
		return false;
	if (!lab_mu_chain_arm(e, -1, NULL)) {
		lab_maze_destroy(m);
		return false;
	}
	burst = lab_mu_dip_burst(m, held, &n);
	lab_mu_chain_disarm();
	if (!burst) {
		lab_maze_destroy(m);
		return false;
	}
	lab_mu_expect(e, LAB_DET_WATERMARK_DIP);
	problems = lab_maze_check(m);
	lab_mu_check(e, LAB_DET_WATERMARK_DIP, problems > 0);
	while (n)
		lab_free_pages_addr(m, held[--n], 0);
	lab_maze_destroy(m);
	return true;
}

/* ---- the stale acts ------------------------------------------------------------- */

static bool lab_mu_stale(struct lab_mu_env *e, enum lab_detector det)
{
	void *p = lab_mu_own(e, LAB_GFP_NOWAIT, 0);
	bool again;
	int ret;

	if (!p)
		return false;
	if (!lab_mu_chain_arm(e,
			      det == LAB_DET_STALE_FREE ? LAB_YP_FREE_DESC :
							  LAB_YP_HANDOFF,
			      p)) {
		lab_mu_give_back(e, p, 0);
		return false;
	}
	lab_mu_expect(e, det);
	if (det == LAB_DET_STALE_FREE)
		ret = lab_free_pages_addr(e->maze, p, 0);
	else
		ret = lab_page_handoff(e->maze, lab_virt_to_page(e->maze, p), 0,
				       lab_ctx_task_id(e->stranger));
	again = lab_mu_chain.again; /* before the hook is another's */
	lab_mu_chain_disarm();
	if (!again) { /* the frame did not come back: no act */
		e->provoked[det]--;
		e->ops->met(e->arg);
		if (!ret && det == LAB_DET_STALE_HANDOFF)
			lab_mu_note(e, "misuse-accepted", "stale-handoff",
				    "a handoff of a block freed under it "
				    "was accepted");
		return false;
	}
	lab_mu_check(e, det, ret == -EINVAL);
	lab_mu_give_back(e, p, 0); /* the new allocation, ours too */
	return true;
}

static bool lab_mu_stale_free(struct lab_mu_env *e)
{
	return lab_mu_stale(e, LAB_DET_STALE_FREE);
}

static bool lab_mu_stale_handoff(struct lab_mu_env *e)
{
	return lab_mu_stale(e, LAB_DET_STALE_HANDOFF);
}

/* ---- the table ------------------------------------------------------------------- */

static const struct {
	lab_mu_act_fn act;
	enum lab_mu_where where;
} lab_mu_acts[LAB_DET_COUNT] = {
	[LAB_DET_POISON_SCAN] = { lab_mu_poison, LAB_MU_PRIVATE },
	[LAB_DET_DOUBLE_FREE] = { lab_mu_double_free, LAB_MU_PRIVATE },
	[LAB_DET_WRONG_ORDER_FREE] = { lab_mu_wrong_order, LAB_MU_SHARED },
	[LAB_DET_TAIL_FRAME_FREE] = { lab_mu_tail_frame, LAB_MU_SHARED },
	[LAB_DET_MISALIGNED_FREE] = { lab_mu_misaligned, LAB_MU_SHARED },
	[LAB_DET_FOREIGN_FREE] = { lab_mu_foreign_free, LAB_MU_SHARED },
	[LAB_DET_FOREIGN_ACCESS] = { lab_mu_foreign_access, LAB_MU_SHARED },
	[LAB_DET_HANDOFF_FOREIGN] = { lab_mu_handoff_foreign, LAB_MU_SHARED },
	[LAB_DET_HANDOFF_ARGS] = { lab_mu_handoff_args, LAB_MU_SHARED },
	[LAB_DET_HANDOFF_FREED] = { lab_mu_handoff_freed, LAB_MU_PRIVATE },
	[LAB_DET_STALE_FREE] = { lab_mu_stale_free, LAB_MU_QUIESCENT },
	[LAB_DET_STALE_HANDOFF] = { lab_mu_stale_handoff, LAB_MU_QUIESCENT },
	[LAB_DET_ACCESS_FREE] = { lab_mu_access_free, LAB_MU_PRIVATE },
	[LAB_DET_ACCESS_OVERRUN] = { lab_mu_access_overrun, LAB_MU_SHARED },
	[LAB_DET_BAD_DESCRIPTOR] = { lab_mu_bad_descriptor, LAB_MU_SHARED },
	[LAB_DET_INSIDE_FRAME] = { lab_mu_inside_frame, LAB_MU_SHARED },
	[LAB_DET_WRONG_MAZE] = { lab_mu_wrong_maze, LAB_MU_SHARED },
	[LAB_DET_OUT_OF_RANGE] = { lab_mu_out_of_range, LAB_MU_SHARED },
	[LAB_DET_MIGHT_SLEEP] = { lab_mu_might_sleep, LAB_MU_SHARED },
	[LAB_DET_NOFAIL_NONBLOCKING] = { lab_mu_nofail_nonblocking,
					 LAB_MU_SHARED },
	[LAB_DET_NOFAIL_ORDER] = { lab_mu_nofail_order, LAB_MU_PRIVATE },
	[LAB_DET_ALLOC_FAILURE] = { lab_mu_alloc_failure, LAB_MU_SHARED },
	[LAB_DET_MAZE_CHECK] = { lab_mu_maze_check, LAB_MU_PRIVATE },
	[LAB_DET_WATERMARK_DIP] = { lab_mu_watermark_dip, LAB_MU_QUIESCENT },
	[LAB_DET_CONTEXT_IMBALANCE] = { lab_mu_context_imbalance,
					LAB_MU_SHARED },
};

static bool lab_mu_has_act(unsigned d)
{
	return lab_mu_acts[d].act != NULL;
}

/* Acts of the controlled mode: all, those on freed frames and the
 * hooked ones on the logical thread's private maze (also the other maze
 * of wrong-maze); without one, those on blocks of their own. */
static bool lab_mu_controlled_act(unsigned d, bool priv)
{
	return lab_mu_has_act(d) &&
	       (priv || (lab_mu_acts[d].where == LAB_MU_SHARED &&
			 d != LAB_DET_WRONG_MAZE));
}

unsigned lab_misuse_act(const struct lab_mu_place *pl,
			const struct lab_mu_ops *ops, void *arg, unsigned pick,
			uint64_t *provoked)
{
	unsigned d = pick % LAB_DET_COUNT;
	struct lab_mu_env e = { NULL,	      NULL,
				pl->stranger, pl->priv,
				provoked,     lab_maze_page_size(pl->shared),
				ops,	      arg,
				pl->base };

	while (!lab_mu_controlled_act(d, pl->priv != NULL))
		d = (d + 1) % LAB_DET_COUNT;
	e.maze = lab_mu_acts[d].where == LAB_MU_SHARED ? pl->shared : pl->priv;
	return lab_mu_acts[d].act(&e) ? d : LAB_DET_COUNT;
}

/* ---- the free-running run's announcements (free_check.c) ------------------------- */

static void lab_mu_fr_expect(void *arg, unsigned det, bool repeat)
{
	(void)arg;
	if (repeat)
		lab_fr_expect_repeat(det);
	else
		lab_fr_expect_detector(det);
}

static bool lab_mu_fr_met(void *arg)
{
	(void)arg;
	return lab_fr_expect_met();
}

static void lab_mu_fr_note(void *arg, const char *kind, const char *where,
			   const char *message)
{
	lab_fr_note(arg, kind, where, message);
}

struct lab_maze *lab_misuse_maze(lab_report_fn report, void *arg,
				 unsigned wmark_min)
{
	struct lab_maze_config cfg;
	struct lab_maze *m = NULL;

	lab_maze_config_init(&cfg, LAB_MU_PRIVATE_W, LAB_MU_PRIVATE_H);
	cfg.max_order = 3;
	cfg.wmark_min = cfg.wmark_low = cfg.wmark_high = wmark_min;
	cfg.pcp_high = cfg.pcp_batch = 0; /* frames go straight back */
	cfg.report = report;
	cfg.report_arg = arg;
	if (lab_maze_create(&cfg, &m)) {
		fprintf(stderr, "labyrinth: misuse maze: %s\n",
			lab_last_error());
		return NULL;
	}
	return m;
}

static struct lab_maze *lab_mu_fr_scratch(void *arg, unsigned wmark_min)
{
	return lab_misuse_maze(lab_fr_on_report, arg, wmark_min);
}

static const struct lab_mu_ops lab_mu_fr_ops = { lab_mu_fr_expect,
						 lab_mu_fr_met, lab_mu_fr_note,
						 lab_mu_fr_scratch };

/* ---- set-up --------------------------------------------------------------------- */

static struct lab_maze *lab_mu_private_maze(struct lab_fr *fr)
{
	return lab_misuse_maze(lab_fr_on_report, fr, 1);
}

/* The other maze of wrong-maze acts, the private mazes, the strangers. */
static int lab_mu_create(struct lab_fr *fr)
{
	struct lab_fr_misuse *mu = calloc(1, sizeof(*mu));
	unsigned i;

	fr->misuse = mu;
	if (!mu || !(mu->w = calloc(fr->nworkers, sizeof(*mu->w))))
		return -1;
	mu->tick_rng = fr->o->seed ^ 0xfa11ull;
	mu->other = lab_mu_private_maze(fr);
	mu->main.priv = lab_mu_private_maze(fr);
	mu->main.stranger = lab_ctx_create(0, "mu-stranger");
	if (!mu->other || !mu->main.priv || !mu->main.stranger)
		return -1;
	for (i = 0; i < fr->nworkers; i++)
		if (!(mu->w[i].priv = lab_mu_private_maze(fr)))
			return -1;
	/* Reports without a maze (context imbalance) go to the process-wide
	 * hook: ours while the run lasts; they count process-wide only. */
	lab_set_report_hook(lab_fr_on_report, fr);
	lab_detector_stats(NULL, &mu->at_start);
	return 0;
}

int lab_fr_extra_create(struct lab_fr *fr)
{
	if (!strcmp(fr->prof->name, "misuse") && lab_mu_create(fr))
		return -1;
	if (!strcmp(fr->prof->name, "relaxed") && lab_fr_relaxed_create(fr))
		return -1;
	return 0;
}

void lab_fr_extra_destroy(struct lab_fr *fr)
{
	struct lab_fr_misuse *mu = fr->misuse;
	unsigned i;

	lab_fr_relaxed_destroy(fr);
	if (!mu)
		return;
	lab_set_report_hook(NULL, NULL);
	for (i = 0; mu->w && i < fr->nworkers; i++) {
		lab_maze_destroy(mu->w[i].priv);
		lab_ctx_destroy(mu->w[i].stranger);
	}
	free(mu->w);
	lab_maze_destroy(mu->other);
	lab_maze_destroy(mu->main.priv);
	lab_ctx_destroy(mu->main.stranger);
	free(mu);
	fr->misuse = NULL;
}

/* ---- running the acts ------------------------------------------------------------ */

static void lab_mu_run(struct lab_fr *fr, struct lab_mu_slot *slot, unsigned d)
{
	struct lab_mu_env e = { fr,
				lab_mu_acts[d].where == LAB_MU_SHARED ?
					fr->maze :
					slot->priv,
				slot->stranger,
				fr->misuse->other,
				slot->provoked,
				fr->page_size,
				&lab_mu_fr_ops,
				fr,
				NULL };

	lab_mu_acts[d].act(&e);
}

/* A worker's act: any but the quiescent ones, at random.  The worker's
 * stranger context is made on first use, on the worker's thread. */
void lab_fr_op_misuse(struct lab_fr *fr, struct lab_fr_worker *w)
{
	struct lab_mu_slot *slot;
	unsigned d;

	if (!fr->misuse)
		return;
	slot = &fr->misuse->w[w->idx];
	if (!slot->stranger)
		slot->stranger = lab_ctx_create(0, "mu-stranger");
	do
		d = lab_fr_rand(&w->rng, LAB_DET_COUNT);
	while (!lab_mu_has_act(d) || lab_mu_acts[d].where == LAB_MU_QUIESCENT);
	lab_mu_run(fr, slot, d);
}

_Static_assert(LAB_DET_COUNT <= LAB_RUN_DETECTORS,
	       "the run record holds every detector");

/* The coverage table, also into the run record (its HTML and Markdown
 * tables). */
static void lab_mu_record(struct lab_fr_misuse *mu)
{
	unsigned d;

	for (d = 0; d < LAB_DET_COUNT; d++) {
		snprintf(mu->rows[d].detector, sizeof(mu->rows[d].detector),
			 "%s", lab_detector_name(d));
		mu->rows[d].provoked = mu->provoked[d];
		mu->rows[d].fired = mu->fired[d];
	}
	lab_runlog_coverage(mu->rows, LAB_DET_COUNT);
}

/* Detectors whose reports count process-wide only, or (watermark-dip)
 * whose act's maze is gone by the end: fired since the run began, over
 * every maze of the process. */
static bool lab_mu_counted_process_wide(unsigned d)
{
	return d == LAB_DET_CONTEXT_IMBALANCE || d == LAB_DET_WATERMARK_DIP;
}

/* Every act (the stale ones included) a few times on main, then the sum
 * of everything provoked against what the detectors counted. */
void lab_fr_misuse_finish(struct lab_fr *fr)
{
	struct lab_fr_misuse *mu = fr->misuse;
	struct lab_detector_stats st;
	unsigned i, d, round;
	char m[200];

	if (!mu || mu->done)
		return;
	mu->done = true;
	for (round = 0; round < LAB_MU_QUIESCENT_ROUNDS; round++)
		for (d = 0; d < LAB_DET_COUNT; d++)
			if (lab_mu_has_act(d))
				lab_mu_run(fr, &mu->main, d);
	lab_maze_drain_local(fr->maze);
	lab_mu_check_injection(fr);
	for (d = 0; d < LAB_DET_COUNT; d++) {
		mu->provoked[d] = mu->main.provoked[d];
		for (i = 0; i < fr->nworkers; i++)
			mu->provoked[d] += mu->w[i].provoked[d];
	}
	/* fired: the shared maze, the private ones, and for reports without
	 * a maze the process-wide count since the run began */
	lab_detector_stats(fr->maze, &st);
	memcpy(mu->fired, st.fired, sizeof(mu->fired));
	for (i = 0; i <= fr->nworkers; i++) {
		lab_detector_stats(
			i < fr->nworkers ? mu->w[i].priv : mu->main.priv, &st);
		for (d = 0; d < LAB_DET_COUNT; d++)
			mu->fired[d] += st.fired[d];
	}
	lab_detector_stats(NULL, &st);
	for (d = 0; d < LAB_DET_COUNT; d++)
		if (lab_mu_counted_process_wide(d))
			mu->fired[d] = st.fired[d] - mu->at_start.fired[d];
	lab_mu_record(mu);
	for (d = 0; d < LAB_DET_COUNT; d++) {
		if (mu->fired[d] >= mu->provoked[d])
			continue;
		snprintf(m, sizeof(m),
			 "detector %s was provoked %" PRIu64
			 " times and fired %" PRIu64 " times",
			 lab_detector_name(d), mu->provoked[d], mu->fired[d]);
		lab_fr_note(fr, "detector-silent", lab_detector_name(d), m);
	}
}

void lab_fr_misuse_print(const struct lab_fr *fr)
{
	if (fr->misuse)
		lab_coverage_print(stdout, fr->misuse->rows, LAB_DET_COUNT);
}

/* ---- the coverage table ---------------------------------------------------------- */

/* What a row's status adds: how its detector was provoked, where that is
 * not a misuse by a caller. */
static const char *lab_coverage_how(const struct lab_coverage *c)
{
	return lab_detector_find(c->detector) == LAB_DET_WATERMARK_DIP ?
		       " (by its seeded defect nowait-below-min)" :
		       "";
}

unsigned lab_coverage_print(FILE *f, const struct lab_coverage *rows,
			    unsigned n)
{
	unsigned i, covered = 0, silent = 0;

	for (i = 0; !f && i < n; i++)
		silent += rows[i].fired < rows[i].provoked;
	if (!f)
		return silent;
	fprintf(f, "detector coverage (misuse acts provoked / allocator "
		   "detector fired):\n");
	for (i = 0; i < n; i++) {
		const struct lab_coverage *c = &rows[i];
		bool ok = c->provoked && c->fired >= c->provoked;

		covered += ok;
		silent += c->provoked && !ok;
		fprintf(f, "  %-20s %8" PRIu64 " / %-8" PRIu64 " %s%s\n",
			c->detector, c->provoked, c->fired,
			ok	    ? "ok" :
			c->provoked ? "SILENT" :
				      "not provoked",
			lab_coverage_how(c));
	}
	fprintf(f, "  %u of %u detectors provoked and fired\n", covered, n);
	return silent;
}
