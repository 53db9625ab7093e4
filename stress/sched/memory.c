/* memory.c - the memory model of a controlled run (struct
 * lab_sched_test.memory): the C11 model of labyrinth/c11.h behind every
 * instrumented atomic of the schedule, its reads-from choices taken as
 * scheduler decisions (sched.c, lab_sched_read_choice), and the annotated
 * plain accesses of labyrinth/c11_sched.h.
 *
 * One model per OS thread that runs schedules, created on the first c11
 * run and reused while its bounds (history, locations) stay the same:
 * creating it allocates every table, starting it afresh is O(1).  It is
 * prepared before an isolated run forks, so the child starts from the
 * parent's copy and each schedule's child pays no allocation.
 *
 * The model's state is bookkeeping of the scheduler: it knows nothing of
 * the run's decisions but through its choose callback, so the same
 * decisions give the same reads, in a child or here, on replay and in
 * every run of shrink.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "labyrinth/c11_sched.h"
#include "tsan_ignore.h"

/* The cached model and its bounds; the model of the run active on this
 * OS thread (NULL: none, or SC). */
static _Thread_local struct lab_c11 *lab_mem_model;
static _Thread_local unsigned lab_mem_history, lab_mem_locations;
static _Thread_local struct lab_c11 *lab_mem_active;

_Static_assert(LAB_SCHED_MAX_THREADS <= LAB_C11_MAX_THREADS,
	       "every logical thread has a clock in the model");
_Static_assert(LAB_SCHED_READ_INDEX_MAX >= LAB_C11_HISTORY_MAX,
	       "a reads-from decision holds every store index");

static unsigned lab_mem_history_of(const struct lab_sched_test *t)
{
	return t->history ? t->history : LAB_C11_HISTORY_DEFAULT;
}

static unsigned lab_mem_locations_of(const struct lab_sched_test *t)
{
	return t->locations ? t->locations : LAB_C11_LOCATIONS_DEFAULT;
}

int lab_sched_memory_check(const struct lab_sched_test *t, char *err,
			   size_t errlen)
{
	const char *name = t->name ? t->name : "unnamed";

	if (t->memory > LAB_SCHED_MEM_C11)
		snprintf(err, errlen, "sched: test '%s': unknown memory model %d",
			 name, (int)t->memory);
	else if (lab_mem_history_of(t) > LAB_C11_HISTORY_MAX)
		snprintf(err, errlen,
			 "sched: test '%s': a history of %u stores is out of "
			 "range (1..%u)",
			 name, t->history, LAB_C11_HISTORY_MAX);
	else if (t->stale_permille > 1000)
		snprintf(err, errlen,
			 "sched: test '%s': stale_permille %u is over 1000",
			 name, t->stale_permille);
	else if (lab_mem_locations_of(t) > LAB_C11_LOCATIONS_MAX)
		snprintf(err, errlen,
			 "sched: test '%s': %u model locations is out of range "
			 "(1..%u)",
			 name, t->locations, LAB_C11_LOCATIONS_MAX);
	else if (t->memory == LAB_SCHED_MEM_C11 &&
		 t->nthreads > LAB_C11_MAX_THREADS)
		snprintf(err, errlen,
			 "sched: test '%s': %u threads, the c11 model has "
			 "clocks for %u",
			 name, t->nthreads, LAB_C11_MAX_THREADS);
	else
		return 0;
	return -EINVAL;
}

static unsigned lab_mem_choose(void *arg, unsigned n)
{
	(void)arg;
	return lab_sched_read_choice(n);
}

static int lab_mem_current(void *arg)
{
	(void)arg;
	return lab_sched_current();
}

int lab_sched_memory_prepare(const struct lab_sched_test *t, char *err,
			     size_t errlen)
{
	struct lab_c11_config cfg = {
		.threads = LAB_C11_MAX_THREADS,
		.history = lab_mem_history_of(t),
		.locations = lab_mem_locations_of(t),
		.choose = lab_mem_choose,
		.current = lab_mem_current,
	};

	if (t->memory != LAB_SCHED_MEM_C11)
		return 0;
	if (lab_mem_model && lab_mem_history == cfg.history &&
	    lab_mem_locations == cfg.locations)
		return 0;
	lab_c11_destroy(lab_mem_model);
	lab_mem_model = lab_c11_create(&cfg, err, errlen);
	if (!lab_mem_model)
		return -ENOMEM;
	lab_mem_history = cfg.history;
	lab_mem_locations = cfg.locations;
	return 0;
}

/* ---- locks and handoffs (lab_sched_memory_sync) --------------------------- */

/* The model sees atomics only; a real lock's (or a harness handoff's)
 * happens-before reaches it as an acq_rel fetch-add on a token of the
 * lock's own: every unlock continues the release sequence of the ones
 * before, every lock reads the newest, so each holder is ordered after
 * all earlier ones, as with the lock.  Tokens are keyed by the exact
 * address (two locks sharing one would order what the program does
 * not); a full table shares token 0, which orders more, never less. */
#define LAB_MEM_TOKENS 1024u

/* A token belongs to the schedule whose generation it carries: starting
 * a schedule forgets every token in O(1). */
static _Thread_local struct lab_mem_token {
	const volatile void *obj;
	uint64_t gen;
	lab_u64_t word;
} lab_mem_tokens[LAB_MEM_TOKENS];
static _Thread_local uint64_t lab_mem_gen;

/* The token table is the scheduler's bookkeeping, looked up by every
 * logical thread's fiber: hidden from TSan as the model's own tables are
 * (tsan_ignore.h).  The token words themselves are touched only by real
 * atomics. */

static lab_u64_t *lab_mem_token_find(const volatile void *obj)
{
	uint32_t h = (uint32_t)(((uintptr_t)obj * 0x9e3779b97f4a7c15ull) >> 40);

	for (unsigned probe = 0; probe < 16; probe++) {
		struct lab_mem_token *k =
			&lab_mem_tokens[1 + (h + probe) % (LAB_MEM_TOKENS - 1)];

		if (k->gen != lab_mem_gen) {
			k->gen = lab_mem_gen;
			k->obj = obj;
		}
		if (k->obj == obj)
			return &k->word;
	}
	return &lab_mem_tokens[0].word;
}

static lab_u64_t *lab_mem_token_of(const volatile void *obj)
{
	lab_u64_t *word;

	LAB_TSAN_IGNORE_BEGIN();
	word = lab_mem_token_find(obj);
	LAB_TSAN_IGNORE_END();
	return word;
}

void lab_sched_memory_sync(const volatile void *obj)
{
	int t = lab_sched_current();
	struct lab_atomic_op op = {
		.kind = LAB_ATOMIC_FETCH_ADD,
		.size = 8,
		.order = __ATOMIC_ACQ_REL,
		.operand = 1,
		.site = "lock",
	};

	if (!lab_mem_active || t < 0)
		return;
	op.addr = lab_mem_token_of(obj);
	lab_c11_perform(lab_mem_active, (unsigned)t, &op);
}

void lab_sched_memory_begin(const struct lab_sched_test *t)
{
	if (t->memory != LAB_SCHED_MEM_C11 || !lab_mem_model)
		return;
	lab_mem_gen++;
	lab_c11_reset(lab_mem_model);
	lab_c11_install(lab_mem_model);
	lab_mem_active = lab_mem_model;
}

void lab_sched_memory_end(void)
{
	if (!lab_mem_active)
		return;
	lab_c11_install(NULL);
	lab_mem_active = NULL;
}

bool lab_sched_memory_c11(void)
{
	return lab_mem_active != NULL;
}

/* ---- annotated plain memory (labyrinth/c11_sched.h) ------------------------ */

/* Reported once the model is left, from a copy on the racing thread's
 * own stack: lab_sched_fail does not return, and must not abandon the
 * thread inside the model's TSan-ignored region. */
static void lab_mem_fail_race(const struct lab_c11_race *r)
{
	lab_sched_fail("data-race", r->site,
		       "%s of %zu bytes at %p by thread %u at %s is unordered "
		       "with the %s by thread %u at %s (C11 model)",
		       r->write ? "write" : "read", r->len, (void *)r->addr,
		       r->thread, r->site, r->other_write ? "write" : "read",
		       r->other_thread, r->other_site ? r->other_site : "?");
}

static void lab_mem_plain(const volatile void *addr, size_t len,
			  lab_site_t site, bool write)
{
	struct lab_c11 *m = lab_mem_active;
	int t = lab_sched_current();
	struct lab_c11_race r;

	if (!m || t < 0)
		return;
	if (write)
		lab_c11_plain_write(m, (unsigned)t, addr, len, site);
	else
		lab_c11_plain_read(m, (unsigned)t, addr, len, site);
	if (lab_c11_take_race(m, &r))
		lab_mem_fail_race(&r);
}

void lab_c11_sched_plain_read(const volatile void *addr, size_t len,
			      lab_site_t site)
{
	lab_mem_plain(addr, len, site, false);
}

void lab_c11_sched_plain_write(const volatile void *addr, size_t len,
			       lab_site_t site)
{
	lab_mem_plain(addr, len, site, true);
}

void lab_c11_sched_forget(const volatile void *addr, size_t len)
{
	if (lab_mem_active)
		lab_c11_forget(lab_mem_active, addr, len);
}

void lab_sched_memory_stats(struct lab_c11_stats *s)
{
	if (lab_mem_model)
		lab_c11_stats(lab_mem_model, s);
	else
		memset(s, 0, sizeof(*s));
}
