/* backend_sched.c - controlled schedules of any allocator in the backend
 * table: `labyrinth stress --mode controlled --backend NAME`, and its
 * replay and shrink.
 *
 * A client of the scheduler library (labyrinth/sched.h), like the
 * labyrinth allocator's runner: each logical thread runs a program
 * generated from the schedule's seed (per thread, so shrinking one leaves
 * the others alone) of allocations of every class and orders 0..3, frees
 * and handoffs of blocks to another thread, who frees them.  Every block
 * carries a stamp (magic, owner, serial, order) written when it is handed
 * out and verified on every handoff and before it is freed, so a block
 * given to two owners at once is caught when one of them comes back to
 * it.  At the end: the backend's own check and the conservation of frames.
 *
 * Scheduling points: before every backend call and between an allocation
 * and its stamp, plus every point inside the backend if its code is built
 * instrumented (labyrinth_instrument(), labyrinth/atomic.h): without that,
 * each backend call runs as one step and its locks are never contended.
 * No interrupts, as in the free-running backend mode: a backend is not
 * known to be interrupt-safe.  The artifact names the backend and the
 * build id of the object its code is in; replay refuses another backend
 * or another build of it (lab_backend_artifact_check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler.h"

#define LAB_BS_HELD 32
#define LAB_BS_INBOX 64
#define LAB_BS_ORDER_MAX 3
#define LAB_BS_MAGIC 0x6c6162736368656bull /* "labschek" */

static const char lab_bs_site_alloc[] = "backend:alloc";
static const char lab_bs_site_stamp[] = "backend:stamp";
static const char lab_bs_site_free[] = "backend:free";
static const char lab_bs_site_handoff[] = "backend:handoff";

enum lab_bs_kind { LAB_BS_ALLOC, LAB_BS_FREE, LAB_BS_HANDOFF };

struct lab_bs_op {
	uint8_t kind, cls, order;
	uint16_t arg, to;
};

struct lab_bs_block {
	void *addr;
	unsigned order;
	uint64_t serial;
};

/* In block memory: who owns it, which of its blocks it is. */
struct lab_bs_stamp {
	uint64_t magic, serial;
	uint32_t owner, order;
};

struct lab_bs_thread {
	unsigned id;
	struct lab_bs *bs;
	struct lab_bs_op *ops;
	unsigned nops;
	atomic_uint pc;
	uint64_t serial;
	struct lab_bs_block held[LAB_BS_HELD];
	unsigned nheld;
	/* written by other threads: consume/publish around every access */
	struct lab_bs_block inbox[LAB_BS_INBOX];
	unsigned ninbox;
};

/* Client state of one schedule; shared with the child when isolated. */
struct lab_bs {
	const struct lab_opts *o;
	const struct lab_backend_ops *ops;
	void *inst;
	size_t page; /* bytes: block addresses align to page << order */
	struct lab_bs_thread th[LAB_MAX_LOGICAL];
	unsigned n;
	atomic_ullong ops_done;
	struct lab_capture cap;
};

/* ---- programs ----------------------------------------------------------------- */

static void lab_bs_generate(struct lab_bs *bs)
{
	unsigned t, i;

	for (t = 0; t < bs->n; t++) {
		struct lab_bs_thread *th = &bs->th[t];
		uint64_t rng = bs->o->seed ^ (0x9e3779b97f4a7c15ull * (t + 1));

		th->id = t;
		th->bs = bs;
		th->nops = bs->o->ops_per_thread;
		th->ops = calloc(th->nops ? th->nops : 1, sizeof(*th->ops));
		if (!th->ops)
			th->nops = 0;
		for (i = 0; i < th->nops; i++) {
			uint64_t r = lab_splitmix(&rng);
			unsigned k = (unsigned)(r % 100);

			th->ops[i].kind = k < 45 ? LAB_BS_ALLOC :
					  k < 80 ? LAB_BS_FREE :
						   LAB_BS_HANDOFF;
			th->ops[i].cls = (uint8_t)((r >> 8) % LAB_CLASS_COUNT);
			th->ops[i].order =
				(uint8_t)((r >> 16) % 4 == 0 ?
						  (r >> 20) %
							  (LAB_BS_ORDER_MAX +
							   1) :
						  0);
			th->ops[i].arg = (uint16_t)(r >> 32);
			th->ops[i].to = (uint16_t)(r >> 48);
		}
	}
}

/* ---- blocks ---------------------------------------------------------------------- */

static void lab_bs_stamp(const struct lab_bs_thread *th,
			 const struct lab_bs_block *b)
{
	struct lab_bs_stamp s = { LAB_BS_MAGIC, b->serial, th->id, b->order };

	memcpy(b->addr, &s, sizeof(s));
}

/* The block still carries the stamp its holder wrote. */
static void lab_bs_verify(const struct lab_bs_block *b, const char *where)
{
	struct lab_bs_stamp s;

	memcpy(&s, b->addr, sizeof(s));
	if (s.magic != LAB_BS_MAGIC || s.serial != b->serial ||
	    s.order != b->order)
		lab_sched_fail("stamp-mismatch", where,
			       "block %p (order %u) holds serial %" PRIu64
			       " of thread %u, expected serial %" PRIu64
			       ": another owner wrote it",
			       b->addr, b->order, s.serial, s.owner, b->serial);
}

static void lab_bs_free_block(struct lab_bs *bs, const struct lab_bs_block *b,
			      const char *where)
{
	int ret;

	lab_bs_verify(b, where);
	lab_sched_point(lab_bs_site_free);
	ret = bs->ops->free(bs->inst, b->addr, b->order);
	if (ret)
		lab_sched_fail("free-refused", where,
			       "%s refused the free of %p order %u: %s",
			       bs->ops->name, b->addr, b->order,
			       strerror(-ret));
}

static void lab_bs_alloc(struct lab_bs_thread *th, const struct lab_bs_op *op)
{
	static const lab_gfp_t classes[LAB_CLASS_COUNT] = { LAB_GFP_KERNEL,
							    LAB_GFP_NOWAIT,
							    LAB_GFP_ATOMIC };
	struct lab_bs *bs = th->bs;
	struct lab_bs_block b = { NULL, op->order, 0 };

	if (th->nheld == LAB_BS_HELD)
		return;
	lab_sched_point(lab_bs_site_alloc);
	b.addr = bs->ops->alloc(bs->inst, classes[op->cls] | LAB_GFP_NOWARN,
				op->order);
	if (!b.addr)
		return;
	if ((uintptr_t)b.addr % ((uintptr_t)bs->page << op->order))
		lab_sched_fail("misaligned", lab_bs_site_alloc,
			       "%s returned %p for order %u: not aligned to "
			       "its size",
			       bs->ops->name, b.addr, op->order);
	b.serial = ((uint64_t)th->id << 48) | ++th->serial;
	/* Another thread may run between the allocation and the stamp: a
	 * second owner of the block then overwrites it, or is overwritten. */
	lab_sched_point(lab_bs_site_stamp);
	lab_bs_stamp(th, &b);
	th->held[th->nheld++] = b;
}

static struct lab_bs_block lab_bs_take_held(struct lab_bs_thread *th,
					    unsigned idx)
{
	unsigned i = idx % th->nheld;
	struct lab_bs_block b = th->held[i];

	th->held[i] = th->held[--th->nheld];
	return b;
}

/* Hands a block to another thread; it is restamped by the receiver. */
static void lab_bs_handoff(struct lab_bs_thread *th, const struct lab_bs_op *op)
{
	struct lab_bs_thread *to = &th->bs->th[op->to % th->bs->n];
	struct lab_bs_block b;
	bool room;

	if (!th->nheld || to == th)
		return;
	lab_sched_point(lab_bs_site_handoff);
	lab_sched_consume(to->inbox);
	room = to->ninbox < LAB_BS_INBOX;
	if (room) {
		b = lab_bs_take_held(th, op->arg);
		lab_bs_verify(&b, lab_bs_site_handoff);
		to->inbox[to->ninbox++] = b;
	}
	lab_sched_publish(to->inbox);
}

/* Blocks handed to th: verified, then freed by th. */
static void lab_bs_take_inbox(struct lab_bs_thread *th)
{
	struct lab_bs_block b;

	for (;;) {
		lab_sched_consume(th->inbox);
		if (!th->ninbox) {
			lab_sched_publish(th->inbox);
			return;
		}
		b = th->inbox[--th->ninbox];
		lab_sched_publish(th->inbox);
		lab_bs_free_block(th->bs, &b, "backend:handoff-free");
	}
}

static void lab_bs_thread_main(void *arg)
{
	struct lab_bs_thread *th = arg;
	struct lab_bs *bs = th->bs;
	unsigned i;

	for (i = 0; i < th->nops; i++) {
		const struct lab_bs_op *op = &th->ops[i];

		atomic_store_explicit(&th->pc, i, memory_order_relaxed);
		lab_bs_take_inbox(th);
		if (op->kind == LAB_BS_ALLOC) {
			lab_bs_alloc(th, op);
		} else if (op->kind == LAB_BS_FREE && th->nheld) {
			struct lab_bs_block b = lab_bs_take_held(th, op->arg);

			lab_bs_free_block(bs, &b, lab_bs_site_free);
		} else if (op->kind == LAB_BS_HANDOFF) {
			lab_bs_handoff(th, op);
		}
		atomic_fetch_add_explicit(&bs->ops_done, 1,
					  memory_order_relaxed);
		lab_sched_progress();
	}
	atomic_store_explicit(&th->pc, th->nops, memory_order_relaxed);
	lab_bs_take_inbox(th);
	while (th->nheld) {
		struct lab_bs_block b = lab_bs_take_held(th, 0);

		lab_bs_free_block(bs, &b, lab_bs_site_free);
	}
}

/* ---- callbacks ------------------------------------------------------------------------ */

static size_t lab_bs_describe(void *arg, unsigned t, char *buf, size_t len)
{
	static const char *const kinds[] = { "alloc", "free", "handoff" };
	const struct lab_bs_thread *th = &((struct lab_bs *)arg)->th[t];
	unsigned pc = atomic_load_explicit(&th->pc, memory_order_relaxed);
	int n = snprintf(buf, len, " op %u/%u (%s)", pc, th->nops,
			 pc < th->nops ? kinds[th->ops[pc].kind] : "exit");

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len;
}

static int lab_bs_setup(void *arg)
{
	struct lab_bs *bs = arg;
	struct lab_maze_config cfg;

	lab_maze_config_init(&cfg, bs->o->width, bs->o->height);
	(void)lab_maze_config_watermarks(&cfg);
	bs->page = cfg.page_size ? cfg.page_size : 4096;
	lab_bs_generate(bs);
	lab_capture_install(&bs->cap);
	bs->inst = bs->ops->create(&cfg);
	return bs->inst ? 0 : -EINVAL;
}

/* Blocks handed to a thread after it finished, the backend's own check,
 * frames conserved.  A backend with a finding may be corrupt: only
 * destroyed. */
static void lab_bs_teardown(void *arg)
{
	struct lab_bs *bs = arg;
	struct lab_maze_stats st;
	unsigned t;
	long problems;

	for (t = 0; t < bs->n && bs->inst && !lab_sched_found(); t++)
		while (bs->th[t].ninbox && !lab_sched_found()) {
			struct lab_bs_block b =
				bs->th[t].inbox[--bs->th[t].ninbox];

			lab_bs_verify(&b, "backend:leftovers");
			if (bs->ops->free(bs->inst, b.addr, b.order))
				lab_sched_fail("free-refused",
					       "backend:leftovers",
					       "%s refused the free of %p: %s",
					       bs->ops->name, b.addr,
					       lab_last_error());
		}
	if (bs->inst && !lab_sched_found()) {
		problems = bs->ops->check ? bs->ops->check(bs->inst) : 0;
		memset(&st, 0, sizeof(st));
		if (problems)
			lab_sched_fail("inconsistent", "final-check",
				       "%s check after the schedule: %ld "
				       "problem(s)",
				       bs->ops->name, problems);
		else if (bs->ops->stats && !bs->ops->stats(bs->inst, &st) &&
			 st.frames && st.free_frames != st.frames)
			lab_sched_fail("not-conserved", "final-check",
				       "%" PRIu64 " of %" PRIu64
				       " frames free after every block was "
				       "freed",
				       st.free_frames, st.frames);
	}
	if (bs->inst)
		bs->ops->destroy(bs->inst);
	bs->inst = NULL;
	for (t = 0; t < bs->n; t++) {
		free(bs->th[t].ops);
		bs->th[t].ops = NULL;
	}
	lab_capture_install(NULL);
}

static void lab_bs_test(struct lab_bs *bs, const lab_decision_t *list,
			uint64_t n, struct lab_sched_test *t)
{
	const struct lab_opts *o = bs->o;
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->name = bs->ops->name;
	t->nthreads = o->logical;
	for (i = 0; i < o->logical && i < LAB_SCHED_MAX_THREADS; i++)
		t->threads[i] =
			(struct lab_sched_thread_desc){ lab_bs_thread_main,
							&bs->th[i] };
	t->arg = bs;
	t->setup = lab_bs_setup;
	t->teardown = lab_bs_teardown;
	t->describe = lab_bs_describe;
	t->strategy = o->strategy == LAB_STRAT_PCT  ? LAB_SCHED_PCT :
		      o->strategy == LAB_STRAT_LIST ? LAB_SCHED_LIST :
						      LAB_SCHED_RANDOM;
	t->depth = o->depth;
	t->seed = o->seed;
	t->pct_horizon = (uint64_t)o->logical * o->ops_per_thread * 4 + 1;
	t->max_steps = o->max_steps;
	t->list = list;
	t->nlist = n;
	t->isolate = o->isolate;
	lab_sched_memory_for(o, t);
}

int lab_backend_sched_run(const struct lab_opts *o, const lab_decision_t *list,
			  uint64_t n, struct lab_sched_result *r)
{
	const struct lab_backend_ops *ops = lab_backend_find(o->backend);
	struct lab_sched_test t;
	struct lab_sched_outcome out;
	struct lab_bs *bs;
	int ret;

	if (!ops)
		return -ENOENT;
	bs = o->isolate ? lab_sched_shared_alloc(sizeof(*bs)) :
			  calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->o = o;
	bs->ops = ops;
	bs->n = o->logical;
	lab_bs_test(bs, list, n, &t);
	ret = lab_sched_run_test(&t, &out);
	if (!ret) {
		lab_sched_result_from(&out, &bs->cap,
				      atomic_load(&bs->ops_done), r);
		lab_rec_add_op(&r->detail, r->finding.where);
	}
	lab_sched_outcome_free(&out);
	if (o->isolate)
		lab_sched_shared_free(bs, sizeof(*bs));
	else
		free(bs);
	return ret;
}

/* ---- which build of the backend ------------------------------------------------------ */

void lab_backend_build_id(const struct lab_backend_ops *ops, char *buf,
			  size_t len)
{
	lab_sched_build_id((const void *)ops->alloc, buf, len);
}

int lab_backend_artifact_check(const struct lab_artifact *a, char *err,
			       size_t errlen)
{
	const struct lab_backend_ops *ops;
	const char *names[16];
	char list[256] = "", id[64];
	unsigned n, i;

	if (!strcmp(a->opts.backend, "labyrinth"))
		return 0;
	if (!(ops = lab_backend_find(a->opts.backend))) {
		n = lab_backend_list(names, 16);
		for (i = 0; i < n; i++)
			snprintf(list + strlen(list),
				 sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", names[i]);
		snprintf(err, errlen,
			 "recorded with backend '%s', which this build does "
			 "not have (registered: %s)",
			 a->opts.backend, list);
		return -1;
	}
	lab_backend_build_id(ops, id, sizeof(id));
	if (a->opts.mode == LAB_MODE_CONTROLLED &&
	    strcmp(a->opts.user_build, "none") &&
	    strcmp(a->opts.user_build, id)) {
		snprintf(err, errlen,
			 "recorded with another build of backend '%s' (build "
			 "id %s, this one %s): its schedule would not replay "
			 "exactly",
			 a->opts.backend, a->opts.user_build, id);
		return -1;
	}
	return 0;
}
