/* stats.c - statistics and failure injection.
 *
 * Counters live in the caller's cache slot when it has one (a line only
 * that context writes) and in the maze's shared block otherwise; readers
 * sum every slot.  All counters are relaxed atomics: they order nothing,
 * and a reader mid-run gets a monotonic snapshot.  Rare counters (waits,
 * reclaims, reports) may be bumped with atomic adds in a slot outside its
 * section: an interrupt's plain update cannot interleave with an add, and
 * the interrupted code's plain updates happen only inside the section.
 */
#include <string.h>

#include "internal.h"

/* Counters of an operation go to the caller's slot, bumped without locked
 * instructions while we hold its section.  If the section is taken (we
 * are an interrupt that landed inside it) they go to the shared block
 * with atomic adds: a plain update here would race with the one we
 * interrupted. */
struct lab_stat_ref _lab_stats_begin(struct lab_maze *maze, struct lab_pcp *pcp)
{
	struct lab_stat_ref ref = { &maze->shared_stats, NULL };

	if (pcp && _lab_pcp_enter(pcp)) {
		ref.block = &pcp->stats;
		ref.owned = pcp;
	}
	return ref;
}

void _lab_stats_end(struct lab_stat_ref ref)
{
	if (ref.owned)
		_lab_pcp_exit(ref.owned);
}

void _lab_stat_inc(lab_atomic64_t *counter)
{
	lab_counter_add_relaxed(counter, 1);
}

static void lab_sum_class(struct lab_class_stats *out,
			  const struct lab_class_counters *c)
{
	uint64_t wait_max = lab_counter_load_relaxed(&c->wait_ns_max);

	out->attempts += lab_counter_load_relaxed(&c->attempts);
	out->successes += lab_counter_load_relaxed(&c->successes);
	out->failures += lab_counter_load_relaxed(&c->failures);
	out->reserve_dips += lab_counter_load_relaxed(&c->reserve_dips);
	out->injected += lab_counter_load_relaxed(&c->injected);
	out->waits += lab_counter_load_relaxed(&c->waits);
	out->reclaims += lab_counter_load_relaxed(&c->reclaims);
	out->wait_ns_total += lab_counter_load_relaxed(&c->wait_ns_total);
	out->retries += lab_counter_load_relaxed(&c->retries);
	out->retry_limited += lab_counter_load_relaxed(&c->retry_limited);
	if (wait_max > out->wait_ns_max)
		out->wait_ns_max = wait_max;
}

static void lab_sum_block(struct lab_maze_stats *out,
			  const struct lab_stat_block *b)
{
	unsigned c;

	for (c = 0; c < LAB_CLASS_COUNT; c++)
		lab_sum_class(&out->cls[c], &b->cls[c]);
	out->frees += lab_counter_load_relaxed(&b->frees);
	out->sleep_in_atomic += lab_counter_load_relaxed(&b->sleep_in_atomic);
	out->misuse += lab_counter_load_relaxed(&b->misuse);
	out->kswapd_wakeups += lab_counter_load_relaxed(&b->kswapd_wakeups);
}

/* Every read here is a counter read (atomic.h), the free count and block
 * counts included: a snapshot for reports and checks orders nothing, and
 * under a memory model it must see memory (the controlled scheduler's
 * lost-wakeup verdict runs on a logical thread's fiber and reads these),
 * not a stale store the model could hand that thread. */
int lab_maze_stats(const struct lab_maze *maze, struct lab_maze_stats *out)
{
	unsigned i, used;

	if (!maze || !out) {
		_lab_set_error("lab_maze_stats: NULL %s",
			       maze ? "out" : "maze");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	lab_sum_block(out, &maze->shared_stats);
	/* Slots never claimed hold nothing: summing stops at pcp_used. */
	used = atomic_load_explicit(&maze->pcp_used, memory_order_relaxed);
	for (i = 0; i < used && i < LAB_PCP_SLOTS; i++) {
		lab_sum_block(out, &maze->pcp[i].stats);
		out->cached_frames += lab_counter_load_relaxed(&maze->pcp[i].count);
	}
	out->frames = maze->frames;
	out->free_frames = lab_counter_load_relaxed(&maze->nr_free);
	out->wmark_min = maze->wmark[0];
	out->wmark_low = maze->wmark[1];
	out->wmark_high = maze->wmark[2];
	for (i = 0; i <= maze->max_order; i++)
		out->free_blocks[i] = lab_counter_load_relaxed(&maze->nr_blocks[i]);
	return 0;
}

/* ---- failure injection ------------------------------------------------------
 * fail_plan packs "skip" (high 32 bits) and "count" (low 32 bits) so one
 * CAS consumes a step.  Relaxed: the plan orders no other memory.  The
 * common case (no plan) is a single load. */

#define LAB_FAIL_MAX 0xffffffffull

unsigned long lab_maze_fail_next(struct lab_maze *maze, unsigned long skip,
				 unsigned long count)
{
	uint64_t s = skip > LAB_FAIL_MAX ? LAB_FAIL_MAX : skip;
	uint64_t c = count > LAB_FAIL_MAX ? LAB_FAIL_MAX : count;

	if (!maze)
		return 0;
	/* An exchange, so that callers racing with each other and with the
	 * allocations that consume the plan can account for every step. */
	return (unsigned long)(lab_xchg_relaxed(&maze->fail_plan,
						c ? (s << 32) | c : 0) &
			       LAB_FAIL_MAX);
}

bool _lab_fault_step(struct lab_maze *maze)
{
	uint64_t plan = lab_load_relaxed(&maze->fail_plan), next;

	do {
		if (!plan)
			return false;
		next = (plan >> 32) ? plan - ((uint64_t)1 << 32) : plan - 1;
		if ((next & LAB_FAIL_MAX) == 0)
			next = 0;
	} while (!lab_cas_relaxed(&maze->fail_plan, &plan, next));
	return (plan >> 32) == 0;
}
