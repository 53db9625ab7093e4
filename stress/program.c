/* program.c - what logical threads and injected interrupts do in
 * controlled mode, and how it is checked.
 *
 * Each logical thread runs a short program generated from the schedule's
 * seed and the profile: allocations of every class and small orders
 * (EXCLUSIVE ones among them), frees, handoffs of blocks (and ownership)
 * to other threads, sections with IRQs disabled, a spinlock section, and
 * deliberate foreign frees that must be refused.  Every block carries a
 * stamp (magic, thread, sequence, address) written when it is handed out
 * and verified before it is freed, so a frame given to two owners at once
 * is caught at the latest when one of them frees it.  Interrupts allocate
 * with GFP_ATOMIC and keep some blocks for their thread to free later.
 *
 * In the misuse profile the foreign frees are acts of deliberate misuse
 * instead, one per detector (misuse.h), each checked for its detector's
 * report and its refusal: acts on blocks of their own on the shared
 * maze, acts on freed frames on a private maze of the thread's, the stale
 * free and handoff after their block was freed and reallocated, and the
 * watermark act on a scratch maze.
 *
 * Programs are generated per thread from their own random stream, so
 * shortening programs or dropping a thread leaves the others unchanged
 * (shrinking relies on it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labyrinth/c11_sched.h"
#include "misuse.h"
#include "scheduler.h"

#define LAB_STAMP_MAGIC 0x4c4142594d415a45ull /* "LABYMAZE" */

struct lab_stamp {
	uint64_t magic, thread, seq, addr;
};

/* ---- generation ------------------------------------------------------------ */

/* Percent weights of operation kinds per profile (ALLOC, FREE, HANDOFF,
 * IRQS_OFF, FOREIGN_FREE, SPIN), and of EXCLUSIVE allocations. */
struct lab_profile_mix {
	const char *name;
	unsigned weight[LAB_OP_KINDS];
	unsigned excl_pct, kernel_pct, max_order;
};

static const struct lab_profile_mix lab_mixes[] = {
	{ "mixed", { 40, 30, 12, 8, 4, 6 }, 25, 34, 2 },
	{ "pressure", { 60, 20, 8, 6, 2, 4 }, 10, 60, 1 },
	{ "exclusive", { 34, 24, 26, 4, 10, 2 }, 80, 34, 1 },
	{ "orders", { 45, 35, 8, 6, 2, 4 }, 20, 34, 3 },
	{ "irq-storm", { 40, 30, 10, 14, 2, 4 }, 25, 20, 1 },
	/* FOREIGN_FREE ops commit misuse acts (misuse.h) instead */
	{ "misuse", { 38, 28, 10, 6, 14, 4 }, 25, 20, 1 },
	/* mixed, with threads that start late (lab_starts_generate) */
	{ "late-start", { 40, 30, 12, 8, 4, 6 }, 25, 34, 2 },
	/* exclusive's handoffs through inboxes that order nothing for the
	 * memory model (lab_inbox_open) */
	{ "relaxed", { 34, 24, 26, 4, 10, 2 }, 80, 34, 1 },
};

static const struct lab_profile_mix *lab_mix_for(const char *profile)
{
	size_t i;

	for (i = 0; i < sizeof(lab_mixes) / sizeof(lab_mixes[0]); i++)
		if (!strcmp(lab_mixes[i].name, profile))
			return &lab_mixes[i];
	return &lab_mixes[0];
}

static unsigned lab_pick_kind(const struct lab_profile_mix *m, uint64_t r)
{
	unsigned k, total = 0, at;

	for (k = 0; k < LAB_OP_KINDS; k++)
		total += m->weight[k];
	at = (unsigned)(r % total);
	for (k = 0; k < LAB_OP_KINDS; k++) {
		if (at < m->weight[k])
			return k;
		at -= m->weight[k];
	}
	return LAB_OP_ALLOC;
}

static struct lab_op lab_gen_op(const struct lab_profile_mix *m, uint64_t *rng)
{
	struct lab_op op = { 0 };
	uint64_t r = lab_splitmix(rng);

	op.kind = (uint8_t)lab_pick_kind(m, r);
	r = lab_splitmix(rng);
	op.cls = (r % 100 < m->kernel_pct) ?
			 LAB_CLASS_KERNEL :
			 (uint8_t)(1 + (r >> 8) % 2); /* NOWAIT or ATOMIC */
	op.order = (uint8_t)((r >> 16) % 4 == 0 ?
				     (r >> 20) % (m->max_order + 1) :
				     0);
	op.excl = (r >> 24) % 100 < m->excl_pct;
	op.arg = (uint16_t)(r >> 32);
	op.arg2 = (uint16_t)(r >> 48);
	return op;
}

/* A given operation, folded into range: a fuzzer may send anything. */
static struct lab_op lab_op_sane(struct lab_op op)
{
	op.kind %= LAB_OP_KINDS;
	op.cls %= LAB_CLASS_COUNT;
	op.excl &= 1;
	return op;
}

static void lab_program_copy(struct lab_sched *s)
{
	unsigned t, i;

	for (t = 0; t < s->n; t++) {
		struct lab_lthread *lt = &s->lt[t];

		lt->nops = s->given->ops[t] ? s->given->nops[t] : 0;
		lt->ops = calloc(lt->nops ? lt->nops : 1, sizeof(*lt->ops));
		if (!lt->ops)
			lt->nops = 0;
		for (i = 0; i < lt->nops; i++)
			lt->ops[i] = lab_op_sane(s->given->ops[t][i]);
	}
}

static bool lab_misuse_profile(const struct lab_sched *s)
{
	return !strcmp(s->opts->profile, "misuse");
}

/* The misuse profile's private mazes, and the process-wide report hook
 * for the reports that have no maze (context imbalance).  Main. */
static void lab_misuse_setup(struct lab_sched *s)
{
	unsigned t;

	s->mu_base = (struct lab_sched_hooks){ lab_on_yield, lab_on_wait, s };
	lab_misuse_reset();
	if (!lab_misuse_profile(s))
		return;
	for (t = 0; t < s->n; t++) {
		s->lt[t].mu_priv = lab_misuse_maze(lab_program_on_report, s, 1);
		s->lt[t].mu_scratch = lab_misuse_maze(lab_program_on_report, s,
						      LAB_MISUSE_DIP_MIN);
	}
	lab_set_report_hook(lab_program_on_report, s);
}

/* In the late-start profile every thread sets up its contexts when its
 * body begins, inside the schedule, and threads 1.. start late with even
 * odds, after 1..LAB_LATE_MAX operations of the others, each from its
 * own stream of the seed (so dropping a thread leaves the others' starts
 * unchanged; the artifact's seed replays them).  Thread 0 starts at
 * once: someone must make the operations the others wait for.  The other
 * profiles keep the contexts the set-up made before the schedule, and
 * their schedules are the ones they always were. */
#define LAB_LATE_MAX 16

static void lab_starts_generate(struct lab_sched *s, uint64_t seed)
{
	bool late = !strcmp(s->opts->profile, "late-start");
	unsigned t;

	for (t = 0; t < s->n; t++) {
		uint64_t rng = seed ^ (0xd1b54a32d192ed03ull * (t + 1));
		uint64_t r = lab_splitmix(&rng);

		s->lt[t].start_after =
			late && t && r % 2 ?
				1 + (unsigned)(r >> 8) % LAB_LATE_MAX :
				0;
		/* the others keep the contexts the set-up made */
		s->lt[t].task_id = lab_ctx_task_id(s->lt[t].ctx);
		atomic_store_explicit(&s->lt[t].started, !late,
				      memory_order_relaxed);
	}
}

void lab_program_generate(struct lab_sched *s, uint64_t seed)
{
	const struct lab_profile_mix *m = lab_mix_for(s->opts->profile);
	unsigned t, i;

	lab_misuse_setup(s);
	lab_starts_generate(s, seed);
	if (s->given) {
		lab_program_copy(s);
		return;
	}
	for (t = 0; t < s->n; t++) {
		struct lab_lthread *lt = &s->lt[t];
		uint64_t rng = seed ^ (0x9e3779b97f4a7c15ull * (t + 1));

		lt->nops = s->opts->ops_per_thread;
		lt->ops = calloc(lt->nops ? lt->nops : 1, sizeof(*lt->ops));
		for (i = 0; lt->ops && i < lt->nops; i++)
			lt->ops[i] = lab_gen_op(m, &rng);
	}
}

void lab_program_free(struct lab_sched *s)
{
	unsigned t;

	for (t = 0; t < s->n; t++) {
		free(s->lt[t].ops);
		s->lt[t].ops = NULL;
		lab_maze_destroy(s->lt[t].mu_priv);
		lab_maze_destroy(s->lt[t].mu_scratch);
		s->lt[t].mu_priv = s->lt[t].mu_scratch = NULL;
	}
	if (lab_misuse_profile(s))
		lab_set_report_hook(NULL, NULL);
}

/* ---- blocks and stamps --------------------------------------------------------- */

static void lab_stamp(struct lab_lthread *lt, void *addr)
{
	struct lab_stamp *st = addr;

	/* The owner's data: under --memory c11 a write the next owner is not
	 * ordered after is a data race (no-op otherwise). */
	lab_c11_sched_plain_write(st, sizeof(*st), "user:stamp");
	st->magic = LAB_STAMP_MAGIC;
	st->thread = lt->id;
	st->seq = ++lt->seq;
	st->addr = (uintptr_t)addr;
}

static void lab_verify(const void *addr, const char *where)
{
	const struct lab_stamp *st = addr;

	lab_c11_sched_plain_read(st, sizeof(*st), where);
	if (st->magic != LAB_STAMP_MAGIC || st->addr != (uintptr_t)addr)
		lab_sched_fail("stamp-mismatch", where,
			       "block %p lost its stamp (magic %llx, addr "
			       "%llx): another owner wrote it",
			       addr, (unsigned long long)st->magic,
			       (unsigned long long)st->addr);
}

/* The task's free after a stale-free probe (lab_isr_stale_probe) freed
 * its block under it: the allocator must refuse it (-EINVAL, or -EPERM
 * if the frame is now another's exclusive block). */
static void lab_check_stale_free(struct lab_lthread *lt,
				 const struct lab_block *b, int ret,
				 const char *where)
{
	lt->stale_probe = NULL;
	if (!ret)
		lab_sched_fail("stale-free-accepted", where,
			       "a free of %p prepared before an interrupt "
			       "freed the block (and allocated a frame again) "
			       "was accepted: it freed what it did not own",
			       b->addr);
	if (ret != -EINVAL && ret != -EPERM)
		lab_sched_fail("free-error", where,
			       "a stale free of %p failed with %d, not "
			       "-EINVAL or -EPERM: %s",
			       b->addr, ret, lab_last_error());
}

/* Frees b, which lt holds; lt->freeing tells its interrupts which block
 * is being freed. */
static void lab_free_block(struct lab_sched *s, struct lab_lthread *lt,
			   const struct lab_block *b, const char *where)
{
	const struct lab_block *outer = lt->freeing;
	int ret;

	lab_verify(b->addr, where);
	lt->freeing = b;
	ret = lab_free_pages_addr(s->maze, b->addr, b->order);
	lt->freeing = outer;
	if (lt->stale_probe == b) { /* not a free of the interrupt's own */
		lab_check_stale_free(lt, b, ret, where);
		return;
	}
	if (ret)
		lab_sched_fail("free-error", where,
			       "free of %p order %u failed: %s", b->addr,
			       b->order, lab_last_error());
}

static lab_gfp_t lab_gfp_of(unsigned cls, bool excl)
{
	static const lab_gfp_t classes[LAB_CLASS_COUNT] = { LAB_GFP_KERNEL,
							    LAB_GFP_NOWAIT,
							    LAB_GFP_ATOMIC };

	return classes[cls] | LAB_GFP_NOWARN | (excl ? LAB_GFP_EXCLUSIVE : 0);
}

static void lab_hold(struct lab_lthread *lt, void *addr, unsigned order,
		     bool excl)
{
	lab_stamp(lt, addr);
	lt->held[lt->nheld++] = (struct lab_block){ addr, order, excl };
}

static void lab_drop_held(struct lab_lthread *lt, unsigned i)
{
	lt->held[i] = lt->held[--lt->nheld];
}

/* ---- operations ------------------------------------------------------------------ */

static void lab_op_free(struct lab_sched *s, struct lab_lthread *lt,
			unsigned idx)
{
	unsigned i;

	if (!lt->nheld)
		return;
	i = idx % lt->nheld;
	lab_free_block(s, lt, &lt->held[i], "op:free");
	lab_drop_held(lt, i);
}

static void lab_op_alloc(struct lab_sched *s, struct lab_lthread *lt,
			 const struct lab_op *op)
{
	unsigned order = op->order;
	void *p;

	if (lt->nheld == LAB_HELD_MAX)
		lab_op_free(s, lt, op->arg);
	p = lab_get_free_pages(s->maze, lab_gfp_of(op->cls, op->excl), order);
	if (p)
		lab_hold(lt, p, order, op->excl);
}

/* ---- thread start ---------------------------------------------------------------- */

/* Whether t has set up its contexts, and then its task id.  Other
 * threads ask (a handoff needs the receiver's id); the consume pairs with
 * the publish of lab_thread_start, standing for however a real program
 * learns a new thread's id. */
static bool lab_thread_started(struct lab_lthread *t, uint32_t *id)
{
	if (!atomic_load_explicit(&t->started, memory_order_relaxed))
		return false;
	lab_sched_consume(&t->started);
	*id = t->task_id;
	return true;
}

/* A late thread may start: the others made start_after operations, or
 * none that starts at once is still running (they will make no more).
 * Runs on the scheduler's side: reads only, relaxed. */
static bool lab_start_ready(void *arg)
{
	const struct lab_lthread *lt = arg;
	const struct lab_sched *s = lt->sched;
	unsigned u;

	if (atomic_load_explicit(&s->ops_done, memory_order_relaxed) >=
	    lt->start_after)
		return true;
	for (u = 0; u < s->n; u++)
		if (!s->lt[u].start_after &&
		    atomic_load_explicit(&s->lt[u].pc, memory_order_relaxed) <
			    s->lt[u].nops)
			return false;
	return true;
}

/* Two started threads, or a thread and a stranger, with one task id:
 * each could free and touch the other's exclusive blocks. */
static void lab_check_unique_id(struct lab_sched *s, struct lab_lthread *lt)
{
	uint32_t mine = lab_ctx_task_id(lt->ctx), other;
	unsigned u;

	if (lab_ctx_task_id(lt->stranger) == mine)
		lab_sched_fail("duplicate-task-id", "ctx:task-id",
			       "thread %u and its stranger context were both "
			       "given task id %u",
			       lt->id, mine);
	for (u = 0; u < s->n; u++)
		if (u != lt->id && lab_thread_started(&s->lt[u], &other) &&
		    other == mine)
			lab_sched_fail("duplicate-task-id", "ctx:task-id",
				       "threads %u and %u were both given "
				       "fresh task id %u",
				       u, lt->id, mine);
}

/* Late starts (start_after > 0) that came after the others' operations
 * they waited for, in this process: relaxed, any logical thread. */
static atomic_ullong lab_late_starts;

uint64_t lab_program_late_starts(void)
{
	return atomic_load_explicit(&lab_late_starts, memory_order_relaxed);
}

/* The thread's own start, inside the schedule: it waits until it is due,
 * then sets up its context and stranger with fresh task ids (their id
 * allocation is a scheduling point), makes the context current and
 * retires the ones the set-up lent it.  Nobody else holds those yet:
 * handoffs wait for `started`. */
static void lab_thread_start(struct lab_sched *s, struct lab_lthread *lt)
{
	struct lab_ctx *lent = lt->ctx, *lent_stranger = lt->stranger;
	struct lab_ctx *ctx, *stranger;
	char name[32];

	if (atomic_load_explicit(&lt->started, memory_order_relaxed))
		return; /* not the late-start profile: set up before */
	if (lt->start_after) {
		lab_sched_block("thread:late-start", lab_start_ready, lt,
				false);
		if (atomic_load_explicit(&s->ops_done, memory_order_relaxed) >=
		    lt->start_after)
			atomic_fetch_add_explicit(&lab_late_starts, 1,
						  memory_order_relaxed);
	}
	snprintf(name, sizeof(name), "lt%u", lt->id);
	ctx = lab_ctx_create(0, name);
	snprintf(name, sizeof(name), "stranger%u", lt->id);
	stranger = lab_ctx_create(0, name);
	if (!ctx || !stranger) {
		lab_ctx_destroy(ctx);
		lab_ctx_destroy(stranger);
		lab_sched_fail("context-setup", "ctx:task-id", "thread %u: %s",
			       lt->id, lab_last_error());
	}
	lab_ctx_switch(ctx);
	lt->ctx = ctx;
	lt->stranger = stranger;
	lt->task_id = lab_ctx_task_id(ctx);
	lab_ctx_destroy(lent);
	lab_ctx_destroy(lent_stranger);
	lab_sched_publish(&lt->started);
	atomic_store_explicit(&lt->started, 1, memory_order_relaxed);
	lab_check_unique_id(s, lt);
}

/* Inboxes: written by other logical threads, so every access is bracketed
 * by consume/publish (the lock a real program would take).  A sender first
 * reserves a slot, then hands ownership over, then fills the slot: once
 * an exclusive block belongs to the receiver, the sender can neither keep
 * nor free it, so the slot must already be there.
 *
 * In the relaxed profile the bracket orders nothing for the C11 model
 * (lab_sched_*_unordered): the inbox itself is always current, but the
 * only happens-before between a block's old and new owner is what the
 * allocator's handoff and free/alloc paths make, so a missing release or
 * acquire there shows as a race on the block (the controlled twin of the
 * free-running relaxed channel).  TSan still gets the edge: the inbox is
 * harness data, and a report on it would be the harness's. */
static bool lab_inbox_relaxed(const struct lab_lthread *lt)
{
	return !strcmp(lt->sched->opts->profile, "relaxed");
}

static void lab_inbox_open(struct lab_lthread *box)
{
	if (lab_inbox_relaxed(box))
		lab_sched_consume_unordered(box->inbox);
	else
		lab_sched_consume(box->inbox);
}

static void lab_inbox_close(struct lab_lthread *box)
{
	if (lab_inbox_relaxed(box))
		lab_sched_publish_unordered(box->inbox);
	else
		lab_sched_publish(box->inbox);
}

static bool lab_inbox_reserve(struct lab_lthread *to)
{
	bool room;

	lab_inbox_open(to);
	room = to->ninbox + to->nreserved < LAB_INBOX_MAX;
	to->nreserved += room;
	lab_inbox_close(to);
	return room;
}

static void lab_inbox_fill(struct lab_lthread *to, struct lab_block b)
{
	lab_inbox_open(to);
	to->nreserved--;
	to->inbox[to->ninbox++] = b;
	lab_inbox_close(to);
}

static bool lab_inbox_take(struct lab_lthread *lt, struct lab_block *b)
{
	bool got;

	lab_inbox_open(lt);
	got = lt->ninbox > 0;
	if (got)
		*b = lt->inbox[--lt->ninbox];
	lab_inbox_close(lt);
	return got;
}

/* The held block a handoff passes: the op's pick, or in the relaxed
 * profile the first exclusive one from there (an unordered inbox can pass
 * only blocks whose ownership protocol synchronises the two owners; a
 * plain block's receiver would have nothing ordering it after the
 * allocation, in C11 as in the model).  -1: none to pass. */
static int lab_handoff_pick(const struct lab_lthread *lt, unsigned pick)
{
	unsigned k;

	if (!lt->nheld)
		return -1;
	if (!lab_inbox_relaxed(lt))
		return (int)(pick % lt->nheld);
	for (k = 0; k < lt->nheld; k++) {
		unsigned i = (pick + k) % lt->nheld;

		if (lt->held[i].excl)
			return (int)i;
	}
	return -1;
}

/* Hands a block to another logical thread (ownership first, if it is
 * exclusive).  The receiver frees it; leftovers after the run are freed
 * by the runner in the receiver's context. */
static void lab_op_handoff(struct lab_sched *s, struct lab_lthread *lt,
			   const struct lab_op *op)
{
	struct lab_lthread *to = &s->lt[op->arg2 % s->n];
	int pick = lab_handoff_pick(lt, op->arg);
	struct lab_block b;
	uint32_t to_id;
	unsigned i;

	if (pick < 0 || to == lt || !lab_thread_started(to, &to_id) ||
	    !lab_inbox_reserve(to))
		return;
	i = (unsigned)pick;
	b = lt->held[i];
	lab_drop_held(lt, i);
	lab_verify(b.addr, "op:handoff");
	if (b.excl &&
	    lab_page_handoff(s->maze, lab_virt_to_page(s->maze, b.addr),
			     b.order, to_id))
		lab_sched_fail("handoff-error", "op:handoff",
			       "handoff of %p failed: %s", b.addr,
			       lab_last_error());
	lab_inbox_fill(to, b);
}

/* The relaxed profile's receiver takes a block as a real one would
 * through a relaxed channel: it waits until the allocator names it the
 * owner (lab_page_owner's acquire pairs with the handoff's release, the
 * only ordering between the two owners).  The model lets a load read an
 * older owner for a while, never for ever (LAB_C11_STALE_RUN_MAX). */
static void lab_owner_wait(struct lab_sched *s, const struct lab_lthread *lt,
			   const struct lab_block *b)
{
	const struct lab_page *pg = lab_virt_to_page(s->maze, b->addr);

	if (!lab_inbox_relaxed(lt) || !b->excl)
		return;
	while (lab_page_owner(s->maze, pg) != lt->task_id &&
	       !lab_sched_found())
		lab_sched_spin(LAB_SITE("op:owner-wait"));
}

/* Only non-blocking allocation is legal with IRQs off; interrupts that
 * arrive meanwhile are deferred to the restore. */
static void lab_op_irqs_off(struct lab_sched *s, struct lab_lthread *lt)
{
	unsigned long flags = lab_local_irq_save();
	void *p =
		lab_get_free_pages(s->maze, LAB_GFP_NOWAIT | LAB_GFP_NOWARN, 0);

	if (p) {
		lab_stamp(lt, p);
		lab_free_block(s, lt, &(struct lab_block){ p, 0, false },
			       "op:irqs-off");
	}
	lab_local_irq_restore(flags);
}

/* A deliberate free of our exclusive block from a foreign context: it
 * must be refused and reported (the report hook counts it). */
static void lab_op_foreign_free(struct lab_sched *s, struct lab_lthread *lt)
{
	unsigned i;
	int ret;

	for (i = 0; i < lt->nheld && !lt->held[i].excl; i++)
		;
	if (i == lt->nheld)
		return;
	lt->expect_foreign = true;
	lab_ctx_switch(lt->stranger);
	ret = lab_free_pages_addr(s->maze, lt->held[i].addr, lt->held[i].order);
	lab_ctx_switch(lt->ctx);
	lt->expect_foreign = false;
	lt->foreign_tries++;
	if (ret != -EPERM)
		lab_sched_fail("foreign-free-accepted", "op:foreign-free",
			       "a foreign context freed exclusive block %p "
			       "(ret %d)",
			       lt->held[i].addr, ret);
}

static void lab_op_spin(struct lab_sched *s, struct lab_lthread *lt)
{
	unsigned long flags;
	void *p;

	lab_spin_lock_irqsave(&s->lock, &flags);
	p = lab_get_free_pages(s->maze, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);
	if (p) {
		lab_stamp(lt, p);
		lab_free_block(s, lt, &(struct lab_block){ p, 0, false },
			       "op:spin");
	}
	lab_spin_unlock_irqrestore(&s->lock, flags);
}

/* Frees what interrupts kept and what others handed over.  Only what
 * was there when it started: interrupts keep adding while it frees, and
 * each free has yield points an interrupt may land on, so a drain that
 * chased the head would, at high interrupt rates (more than one interrupt
 * per free on average), never end (the kernel bounds its softirq loop
 * for the same reason).  What comes in meanwhile waits for the next op. */
static void lab_take_deliveries(struct lab_sched *s, struct lab_lthread *lt)
{
	unsigned tail =
		atomic_load_explicit(&lt->rx_tail, memory_order_relaxed);
	unsigned head =
		atomic_load_explicit(&lt->rx_head, memory_order_relaxed);
	struct lab_block b;

	while (tail != head) {
		lab_free_block(s, lt,
			       &(struct lab_block){ lt->rx[tail % LAB_RX_MAX],
						    0, false },
			       "op:rx-free");
		atomic_store_explicit(&lt->rx_tail, ++tail,
				      memory_order_relaxed);
	}
	while (lab_inbox_take(lt, &b)) {
		lab_owner_wait(s, lt, &b);
		lab_free_block(s, lt, &b, "op:inbox-free");
	}
}

/* ---- misuse acts (profile misuse) ------------------------------------------------- */

static void lab_mu_expect(void *arg, unsigned det, bool repeat)
{
	struct lab_lthread *lt = arg;

	lt->mu_det = det + 1;
	lt->mu_repeat = repeat;
	lt->mu_hits = 0;
}

static bool lab_mu_met(void *arg)
{
	struct lab_lthread *lt = arg;
	bool met = !lt->mu_det || (lt->mu_repeat && lt->mu_hits);

	lt->mu_det = 0;
	return met;
}

static void lab_mu_note(void *arg, const char *kind, const char *where,
			const char *message)
{
	struct lab_lthread *lt = arg;

	lab_sched_fail(kind, where, "thread %u: %s", lt->id, message);
}

/* The scratch maze made at set-up (lab_misuse_setup), once: the act
 * destroys it. */
static struct lab_maze *lab_mu_scratch(void *arg, unsigned wmark_min)
{
	struct lab_lthread *lt = arg;
	struct lab_maze *m = lt->mu_scratch;

	(void)wmark_min;
	lt->mu_scratch = NULL;
	return m;
}

static const struct lab_mu_ops lab_mu_ops = { lab_mu_expect, lab_mu_met,
					      lab_mu_note, lab_mu_scratch };

/* One deliberate misuse, chosen by the op's argument: the report must
 * come from the right detector (lab_program_on_report) and the call be
 * refused (the act checks). */
/* Acts committed per detector by the schedules run in this process
 * (isolated schedules count in their child): written by any logical
 * thread, so relaxed atomics, which make no happens-before edge. */
static atomic_ullong lab_mu_committed[LAB_DET_COUNT];

void lab_program_misuse_committed(uint64_t *out)
{
	unsigned d;

	for (d = 0; d < LAB_DET_COUNT; d++)
		out[d] = atomic_load_explicit(&lab_mu_committed[d],
					      memory_order_relaxed);
}

static void lab_op_misuse(struct lab_sched *s, struct lab_lthread *lt,
			  const struct lab_op *op)
{
	const struct lab_mu_place pl = { s->maze, lt->mu_priv, lt->stranger,
					 &s->mu_base };
	uint64_t provoked[LAB_DET_COUNT];
	unsigned d = lab_misuse_act(&pl, &lab_mu_ops, lt, op->arg, provoked);

	if (d < LAB_DET_COUNT)
		atomic_fetch_add_explicit(&lab_mu_committed[d], 1,
					  memory_order_relaxed);
}

/* A report the current thread's misuse act announced: counted.  A report
 * of the announced kind from another detector is a finding. */
static bool lab_mu_on_report(struct lab_lthread *lt, const struct lab_report *r)
{
	if (!lt->mu_det)
		return false;
	if (r->detector + 1 != lt->mu_det) {
		if (r->kind == lab_detector_kind(lt->mu_det - 1))
			lab_sched_fail("wrong-detector",
				       lab_detector_name(r->detector), "%s",
				       r->message);
		return false;
	}
	lt->mu_hits++;
	if (!lt->mu_repeat)
		lt->mu_det = 0;
	return true;
}

static void lab_run_op(struct lab_sched *s, struct lab_lthread *lt,
		       const struct lab_op *op)
{
	switch (op->kind) {
	case LAB_OP_ALLOC:
		lab_op_alloc(s, lt, op);
		break;
	case LAB_OP_FREE:
		lab_op_free(s, lt, op->arg);
		break;
	case LAB_OP_HANDOFF:
		lab_op_handoff(s, lt, op);
		break;
	case LAB_OP_IRQS_OFF:
		lab_op_irqs_off(s, lt);
		break;
	case LAB_OP_FOREIGN_FREE:
		if (!strcmp(s->opts->profile, "misuse"))
			lab_op_misuse(s, lt, op);
		else
			lab_op_foreign_free(s, lt);
		break;
	default:
		lab_op_spin(s, lt);
	}
}

/* ---- the operation log ------------------------------------------------------------ */

#define LAB_OPLOG_IRQ 0xffu /* kind of an injected interrupt */

/* One entry in a u64: kind, class, order, excl, thread, and the thread a
 * handoff goes to (as lab_op_handoff picks it). */
void lab_oplog_note(struct lab_sched *s, unsigned t, const struct lab_op *op)
{
	unsigned i =
		atomic_fetch_add_explicit(&s->noplog, 1, memory_order_relaxed);
	uint64_t e = op ? (uint64_t)op->kind | (uint64_t)op->cls << 8 |
				     (uint64_t)op->order << 16 |
				     (uint64_t)op->excl << 24 |
				     (uint64_t)(op->arg2 % s->n) << 40 :
			  LAB_OPLOG_IRQ;

	e |= (uint64_t)(t & 0xff) << 32;
	atomic_store_explicit(&s->oplog[i % LAB_REC_OPS], e,
			      memory_order_relaxed);
}

static void lab_oplog_describe(uint64_t e, char *buf, size_t len)
{
	static const char *const cls[] = { "KERNEL", "NOWAIT", "ATOMIC" };
	unsigned kind = e & 0xff, t = (e >> 32) & 0xff;
	unsigned c = (e >> 8) & 0xff, arg = (unsigned)(e >> 40) & 0xffff;

	switch (kind) {
	case LAB_OP_ALLOC:
		snprintf(buf, len, "t%u: alloc order %u GFP_%s%s", t,
			 (unsigned)(e >> 16) & 0xff, c < 3 ? cls[c] : "?",
			 (e >> 24) & 0xff ? " | EXCLUSIVE" : "");
		break;
	case LAB_OP_FREE:
		snprintf(buf, len, "t%u: free a held block", t);
		break;
	case LAB_OP_HANDOFF:
		snprintf(buf, len, "t%u: hand a held block to t%u", t, arg);
		break;
	case LAB_OP_IRQS_OFF:
		snprintf(buf, len, "t%u: irqs off, alloc, irqs on", t);
		break;
	case LAB_OP_FOREIGN_FREE:
		snprintf(buf, len, "t%u: free another thread's block", t);
		break;
	case LAB_OP_SPIN:
		snprintf(buf, len, "t%u: spin lock section", t);
		break;
	default:
		snprintf(buf, len, "t%u: interrupt (GFP_ATOMIC alloc in ISR)",
			 t);
	}
}

void lab_oplog_to_rec(const struct lab_sched *s, struct lab_rec *r)
{
	unsigned n = atomic_load_explicit(&s->noplog, memory_order_relaxed);
	unsigned i = n > LAB_REC_OPS ? n - LAB_REC_OPS : 0;
	char line[96];

	for (; i < n; i++) {
		lab_oplog_describe(
			atomic_load_explicit(&s->oplog[i % LAB_REC_OPS],
					     memory_order_relaxed),
			line, sizeof(line));
		lab_rec_add_op(r, line);
	}
}

void lab_program_run(struct lab_sched *s, struct lab_lthread *lt)
{
	unsigned i;

	lab_thread_start(s, lt);
	for (i = 0; i < lt->nops; i++) {
		atomic_store_explicit(&lt->pc, i, memory_order_relaxed);
		lab_oplog_note(s, lt->id, &lt->ops[i]);
		lab_take_deliveries(s, lt);
		lab_run_op(s, lt, &lt->ops[i]);
		atomic_fetch_add_explicit(&s->ops_done, 1,
					  memory_order_relaxed);
		lab_sched_progress();
	}
	atomic_store_explicit(&lt->pc, lt->nops, memory_order_relaxed);
	/* Like a CPU going offline: interrupts off for good, so none can
	 * keep a block after the last drain (they stay pending). */
	lab_local_irq_disable();
	lab_take_deliveries(s, lt);
	while (lt->nheld)
		lab_op_free(s, lt, 0);
}

/* ---- interrupts and reports -------------------------------------------------------- */

/* A deliberate double free racing with reuse, like the foreign free: an
 * interrupt that lands while its task is about to commit the free of an
 * order-0 block (at free:desc, its descriptor already read) frees that
 * block first; the interrupt's own allocation then often gets the same
 * frame back (a recycled frame, the ABA a descriptor generation exists
 * for).  The task's free, prepared before all this, must be refused as a
 * misuse and reported (lab_check_stale_free, lab_refuses_stale), not
 * land on the new allocation. */
static void lab_isr_stale_probe(struct lab_sched *s, struct lab_lthread *lt)
{
	const struct lab_block *b = lt->freeing;

	if (!b || b->order || b->excl || lt->stale_probe ||
	    atomic_load(&lt->irq_depth) != 1 ||
	    lab_last_point(lt->id) != LAB_YP_FREE_DESC)
		return;
	if (lab_free_pages_addr(s->maze, b->addr, 0))
		return; /* reported, and the report hook stops the run */
	lt->stale_probe = b;
	lt->stale_tries++;
}

static void lab_isr_body(struct lab_sched *s, struct lab_lthread *lt)
{
	void *p;
	unsigned head;

	lab_isr_stale_probe(s, lt);
	p = lab_get_free_pages(s->maze, LAB_GFP_ATOMIC | LAB_GFP_NOWARN, 0);
	if (!p)
		return;
	lab_stamp(lt, p);
	head = atomic_load_explicit(&lt->rx_head, memory_order_relaxed);
	if (head - atomic_load_explicit(&lt->rx_tail, memory_order_relaxed) <
	    LAB_RX_MAX) {
		lt->rx[head % LAB_RX_MAX] = p;
		atomic_store_explicit(&lt->rx_head, head + 1,
				      memory_order_relaxed);
		return;
	}
	lab_free_block(s, lt, &(struct lab_block){ p, 0, false }, "isr:free");
}

void lab_program_isr(void *arg)
{
	struct lab_lthread *lt = arg;

	atomic_fetch_add(&lt->irq_depth, 1);
	lab_oplog_note(lt->sched, lt->id, NULL);
	lab_isr_body(lt->sched, lt);
	atomic_fetch_sub(&lt->irq_depth, 1);
}

/* The reports a stale free may get: its frame is free (DOUBLE_FREE) or,
 * recycled, a block of another order (WRONG_ORDER), inside one
 * (BAD_POINTER) or another's exclusive block (FOREIGN_FREE). */
static bool lab_refuses_stale(enum lab_report_kind kind)
{
	return kind == LAB_REPORT_DOUBLE_FREE ||
	       kind == LAB_REPORT_WRONG_ORDER ||
	       kind == LAB_REPORT_BAD_POINTER ||
	       kind == LAB_REPORT_FOREIGN_FREE;
}

void lab_program_on_report(const struct lab_report *r, void *arg)
{
	struct lab_sched *s = arg;
	int cur = lab_sched_current();

	if (r->kind == LAB_REPORT_FOREIGN_FREE && cur >= 0 &&
	    s->lt[cur].expect_foreign) {
		s->lt[cur].foreign_refused++;
		return;
	}
	if (cur >= 0 && s->lt[cur].stale_probe &&
	    s->lt[cur].stale_probe == s->lt[cur].freeing &&
	    lab_refuses_stale(r->kind)) {
		s->lt[cur].stale_reported++;
		return;
	}
	if (cur >= 0 && lab_mu_on_report(&s->lt[cur], r))
		return;
	if (r->kind == LAB_REPORT_ALLOC_FAILURE)
		return;
	lab_sched_fail(lab_report_kind_name(r->kind), r->function, "%s",
		       r->message);
}

/* ---- after the run -------------------------------------------------------------------- */

/* A misuse probe of thread t was refused `tries` times and reported
 * `reported` times: every refusal must have been reported. */
static void lab_check_probe(unsigned t, uint64_t tries, uint64_t reported,
			    const char *kind, const char *where,
			    const char *what)
{
	if (tries != reported)
		lab_sched_fail(kind, where, "thread %u: %llu %s, %llu reported",
			       t, (unsigned long long)tries, what,
			       (unsigned long long)reported);
}

void lab_program_final_check(struct lab_sched *s)
{
	struct lab_maze_stats st;
	uint64_t ok = 0;
	long problems = lab_maze_check(s->maze);
	unsigned c, t;

	if (lab_sched_found())
		return;
	if (problems)
		lab_sched_fail("inconsistent", "lab_maze_check",
			       "whole-maze check found %ld problems", problems);
	for (t = 0; t < s->n && !problems; t++)
		if (s->lt[t].mu_priv &&
		    (problems = lab_maze_check(s->lt[t].mu_priv)))
			lab_sched_fail("inconsistent", "misuse maze",
				       "thread %u: whole-maze check of its "
				       "misuse maze found %ld problems",
				       t, problems);
	lab_maze_stats(s->maze, &st);
	for (c = 0; c < LAB_CLASS_COUNT; c++)
		ok += st.cls[c].successes;
	if (ok != st.frees || st.free_frames != st.frames)
		lab_sched_fail("not-conserved", "final-check",
			       "allocations %llu, frees %llu, free frames "
			       "%llu of %llu",
			       (unsigned long long)ok,
			       (unsigned long long)st.frees,
			       (unsigned long long)st.free_frames,
			       (unsigned long long)st.frames);
	for (t = 0; t < s->n; t++) {
		const struct lab_lthread *lt = &s->lt[t];

		lab_check_probe(t, lt->foreign_tries, lt->foreign_refused,
				"foreign-free-unreported", "op:foreign-free",
				"foreign frees");
		lab_check_probe(t, lt->stale_tries, lt->stale_reported,
				"double-free-unreported", "isr:stale-free",
				"stale frees refused");
	}
}
