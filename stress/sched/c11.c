/* c11.c - the C11 memory model of labyrinth/c11.h.
 *
 * Clocks: each logical thread t has a vector clock; its own component is
 * its epoch, advanced before and after every atomic operation, so a
 * snapshot taken at an operation (a release) covers everything sequenced
 * before it and nothing after.  An event of t at epoch e happens before
 * the current point of thread u iff u's clock[t] >= e.
 *
 * Locations: open addressing on the address, never deleted within an
 * execution (forget marks a location to restart instead); a slot belongs
 * to the current execution iff its gen equals the model's, so reset is a
 * generation bump.  Each location's stores are a ring of `history` slots,
 * newest last in modification order.  Per store:
 *   seen[u]  the epoch at which thread u first read or wrote it (NEVER if
 *            not): a load of thread t may not read a store older than the
 *            newest store s with seen[u] <= t.clock[u] for some u - that
 *            access happens before the load (CoRR, CoWR, also through a
 *            third thread);
 *   rs       the clock an acquire reader gets: the join of the clocks of
 *            the release-sequence heads still alive at this store.
 * Per location, for the newest store, which threads' release sequences
 * are alive and each head's clock (head[t]): a store by t ends every
 * other thread's sequence, an RMW continues all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labyrinth/atomic_model.h"
#include "labyrinth/c11.h"
#include "tsan_ignore.h"

#if defined(LAB_INSTRUMENT) || defined(LAB_SHIM_ATOMIC_H)
#error "labyrinth: compile the memory model without the shim"
#endif

#define N LAB_C11_MAX_THREADS
#define NEVER UINT32_MAX
#define NOBODY 0xffu

typedef uint32_t lab_vclock_t[N];

struct lab_c11_store {
	lab_u64_t value;
	uint32_t epoch;
	uint8_t writer; /* NOBODY: a value found in memory */
	lab_vclock_t seen;
	lab_vclock_t rs;
};

struct lab_c11_loc {
	uintptr_t addr;
	uint32_t gen;	 /* == model's: in use in this execution */
	uint8_t size;	 /* bytes */
	uint8_t restart; /* forgotten: start afresh at the next access */
	uint8_t alive;	 /* threads whose release sequence is alive */
	uint8_t nstores; /* in the ring, <= history */
	uint32_t newest; /* ring index of the newest store */
	lab_vclock_t head[N];
};

struct lab_c11_plain {
	uintptr_t addr;
	uint32_t gen;
	uint8_t writer; /* NOBODY: no write yet */
	uint32_t w_epoch;
	lab_site_t w_site;
	lab_vclock_t r_epoch; /* NEVER: no read since the write */
	lab_site_t r_site[N];
};

struct lab_c11_thread {
	lab_vclock_t clock;
	lab_vclock_t acq_pending; /* what relaxed loads read, for a fence */
	lab_vclock_t rel_fence;	  /* clock at the last release fence */
	bool has_rel_fence;
	unsigned stale_run; /* loads in a row that read an older store */
};

struct lab_c11 {
	struct lab_c11_config cfg;
	uint32_t gen, mask, used, plain_used;
	struct lab_c11_loc *locs;
	struct lab_c11_store *stores; /* history per location */
	struct lab_c11_plain *plains;
	struct lab_c11_thread t[N];
	lab_vclock_t sc_fence; /* passed along seq_cst fences */
	lab_vclock_t overflow; /* passed along unmodelled locations */
	struct lab_c11_stats stats;
	bool race_pending; /* the first race since lab_c11_take_race */
	struct lab_c11_race pending;
};

/* ---- clocks --------------------------------------------------------- */

static void lab_vc_join(lab_vclock_t dst, const lab_vclock_t src)
{
	for (unsigned i = 0; i < N; i++)
		dst[i] = dst[i] > src[i] ? dst[i] : src[i];
}

static void lab_vc_copy(lab_vclock_t dst, const lab_vclock_t src)
{
	memcpy(dst, src, sizeof(lab_vclock_t));
}

/* Whether some thread's access to s happens before a point with clock c. */
static bool lab_store_seen_before(const struct lab_c11_store *s,
				  const lab_vclock_t c)
{
	for (unsigned i = 0; i < N; i++)
		if (s->seen[i] <= c[i])
			return true;
	return false;
}

static bool lab_mo_acquires(int mo)
{
	mo &= 0xffff; /* gcc's HLE bits */
	return mo == __ATOMIC_CONSUME || mo == __ATOMIC_ACQUIRE ||
	       mo == __ATOMIC_ACQ_REL || mo == __ATOMIC_SEQ_CST;
}

static bool lab_mo_releases(int mo)
{
	mo &= 0xffff;
	return mo == __ATOMIC_RELEASE || mo == __ATOMIC_ACQ_REL ||
	       mo == __ATOMIC_SEQ_CST;
}

/* ---- creation ------------------------------------------------------- */

static int lab_c11_config_check(const struct lab_c11_config *c, char *err,
				size_t errlen)
{
	if (c->threads < 1 || c->threads > N)
		snprintf(
			err, errlen,
			"labyrinth: c11 model: %u threads is out of range (1..%u)",
			c->threads, N);
	else if (c->history < 1 || c->history > LAB_C11_HISTORY_MAX)
		snprintf(
			err, errlen,
			"labyrinth: c11 model: a history of %u stores is out of range (1..%u)",
			c->history, LAB_C11_HISTORY_MAX);
	else if (c->locations < 1 || c->locations > LAB_C11_LOCATIONS_MAX)
		snprintf(
			err, errlen,
			"labyrinth: c11 model: %u locations is out of range (1..%u)",
			c->locations, LAB_C11_LOCATIONS_MAX);
	else
		return 0;
	return -1;
}

struct lab_c11 *lab_c11_create(const struct lab_c11_config *cfg, char *err,
			       size_t errlen)
{
	struct lab_c11 *m;
	uint32_t cap = 4;

	if (lab_c11_config_check(cfg, err, errlen))
		return NULL;
	/* room for `locations` at a load factor of 3/4 */
	while (cap / 4 * 3 < cfg->locations)
		cap *= 2;
	m = calloc(1, sizeof(*m));
	if (m) {
		m->locs = calloc(cap, sizeof(*m->locs));
		m->stores =
			calloc((size_t)cap * cfg->history, sizeof(*m->stores));
		m->plains = calloc(cap, sizeof(*m->plains));
	}
	if (!m || !m->locs || !m->stores || !m->plains) {
		snprintf(
			err, errlen,
			"labyrinth: c11 model: no memory for %u locations of %u stores",
			cfg->locations, cfg->history);
		lab_c11_destroy(m);
		return NULL;
	}
	m->cfg = *cfg;
	m->mask = cap - 1;
	lab_c11_reset(m);
	return m;
}

void lab_c11_destroy(struct lab_c11 *m)
{
	if (!m)
		return;
	free(m->locs);
	free(m->stores);
	free(m->plains);
	free(m);
}

void lab_c11_reset(struct lab_c11 *m)
{
	m->gen++;
	if (m->gen == 0) { /* wrapped: old slots must not look current */
		memset(m->locs, 0, (size_t)(m->mask + 1) * sizeof(*m->locs));
		memset(m->plains, 0,
		       (size_t)(m->mask + 1) * sizeof(*m->plains));
		m->gen = 1;
	}
	m->used = m->plain_used = 0;
	m->race_pending = false;
	memset(m->t, 0, sizeof(m->t));
	for (unsigned i = 0; i < N; i++)
		m->t[i].clock[i] = 1;
	memset(m->sc_fence, 0, sizeof(m->sc_fence));
	memset(m->overflow, 0, sizeof(m->overflow));
}

void lab_c11_stats(const struct lab_c11 *m, struct lab_c11_stats *out)
{
	*out = m->stats;
}

int lab_c11_parse_history(const char *s, unsigned *out, char *err,
			  size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < 1 ||
	    v > LAB_C11_HISTORY_MAX) {
		snprintf(
			err, errlen,
			"labyrinth: --history '%s': want a number of stores per location, 1..%u",
			s, LAB_C11_HISTORY_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static uint64_t lab_c11_splitmix(uint64_t *state)
{
	uint64_t x = *state += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

unsigned lab_c11_pick_stale(uint64_t *rng, unsigned permille, unsigned n)
{
	if (n < 2 || lab_c11_splitmix(rng) % 1000 >= permille)
		return 0;
	return 1 + (unsigned)(lab_c11_splitmix(rng) % (n - 1));
}

/* ---- the location table --------------------------------------------- */

static uint32_t lab_addr_hash(uintptr_t a, uint32_t mask)
{
	uint64_t x = (uint64_t)a * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 32) & mask;
}

/* The slot of addr in this execution, claimed if new; NULL when the
 * table has no room (3/4 full). */
static struct lab_c11_loc *lab_loc_get(struct lab_c11 *m, uintptr_t addr,
				       bool *fresh)
{
	for (uint32_t i = lab_addr_hash(addr, m->mask);;
	     i = (i + 1) & m->mask) {
		struct lab_c11_loc *l = &m->locs[i];

		if (l->gen == m->gen && l->addr == addr) {
			*fresh = false;
			return l;
		}
		if (l->gen != m->gen) {
			if (m->used >= (m->mask + 1) / 4 * 3)
				return NULL;
			m->used++;
			l->gen = m->gen;
			l->addr = addr;
			*fresh = true;
			return l;
		}
	}
}

static struct lab_c11_store *lab_loc_store(struct lab_c11 *m,
					   struct lab_c11_loc *l, unsigned age)
{
	uint32_t h = m->cfg.history;
	uint32_t idx = (l->newest + h - age) % h;

	return &m->stores[(size_t)(l - m->locs) * h + idx];
}

/* A new newest store of l, the oldest dropped if the ring is full. */
static struct lab_c11_store *lab_loc_append(struct lab_c11 *m,
					    struct lab_c11_loc *l)
{
	l->newest = (l->newest + 1) % m->cfg.history;
	if (l->nstores < m->cfg.history)
		l->nstores++;
	else
		m->stats.dropped++;
	return lab_loc_store(m, l, 0);
}

/* The history restarts from `value` found in memory: one store every
 * thread has seen, heading no release sequence. */
static void lab_loc_restart(struct lab_c11 *m, struct lab_c11_loc *l,
			    unsigned size, lab_u64_t value)
{
	struct lab_c11_store *s;

	l->size = (uint8_t)size;
	l->restart = 0;
	l->alive = 0;
	l->nstores = 0;
	s = lab_loc_append(m, l);
	memset(s, 0, sizeof(*s));
	s->value = value;
	s->writer = NOBODY;
}

static lab_u64_t lab_mem_read(const volatile void *addr, unsigned size)
{
	switch (size) {
	case 1:
		return __atomic_load_n((const volatile lab_u8_t *)addr,
				       __ATOMIC_RELAXED);
	case 2:
		return __atomic_load_n((const volatile lab_u16_t *)addr,
				       __ATOMIC_RELAXED);
	case 4:
		return __atomic_load_n((const volatile lab_u32_t *)addr,
				       __ATOMIC_RELAXED);
	default:
		return __atomic_load_n((const volatile lab_u64_t *)addr,
				       __ATOMIC_RELAXED);
	}
}

/* The location of op, its history made to agree with memory (`mem`, the
 * value there before the operation); NULL if not modelled. */
static struct lab_c11_loc *
lab_loc_sync(struct lab_c11 *m, const struct lab_atomic_op *op, lab_u64_t mem)
{
	bool fresh;
	struct lab_c11_loc *l = lab_loc_get(m, (uintptr_t)op->addr, &fresh);

	if (!l)
		return NULL;
	if (fresh || l->restart || l->size != op->size ||
	    lab_loc_store(m, l, 0)->value != mem) {
		if (!fresh)
			m->stats.restarts++;
		lab_loc_restart(m, l, op->size, mem);
	}
	return l;
}

/* ---- the operations ------------------------------------------------- */

/* Thread t reads or writes s now: the first such access is what bounds
 * later loads that it happens before. */
static void lab_store_mark_seen(struct lab_c11_store *s,
				const struct lab_c11_thread *th, unsigned t)
{
	if (s->seen[t] == NEVER)
		s->seen[t] = th->clock[t];
}

/* What thread t's read of s brings: its release sequences' clock, now
 * (acquire) or at the next acquire fence (relaxed). */
static void lab_read_syncs(struct lab_c11_thread *th,
			   const struct lab_c11_store *s, int mo)
{
	if (lab_mo_acquires(mo))
		lab_vc_join(th->clock, s->rs);
	else
		lab_vc_join(th->acq_pending, s->rs);
}

/* How many stores, newest first, thread t may read: up to and including
 * the newest one an access that happens before the load already saw. */
static unsigned lab_loc_candidates(struct lab_c11 *m, struct lab_c11_loc *l,
				   const struct lab_c11_thread *th)
{
	unsigned n = 0;

	while (n < l->nstores) {
		const struct lab_c11_store *s = lab_loc_store(m, l, n++);

		if (lab_store_seen_before(s, th->clock))
			break;
	}
	return n;
}

static lab_u64_t lab_c11_load(struct lab_c11 *m, struct lab_c11_loc *l,
			      unsigned t, int mo)
{
	struct lab_c11_thread *th = &m->t[t];
	unsigned n = lab_loc_candidates(m, l, th), k = 0;
	struct lab_c11_store *s;

	m->stats.loads++;
	/* seq_cst reads the newest; and stores become visible "within a
	 * reasonable amount of time" (C11 7.17.3): a spin-wait is not
	 * kept stale forever */
	if ((mo & 0xffff) == __ATOMIC_SEQ_CST ||
	    th->stale_run >= LAB_C11_STALE_RUN_MAX)
		n = 1;
	if (n > 1) {
		m->stats.choices++;
		if (m->cfg.choose)
			k = m->cfg.choose(m->cfg.choose_arg, n) % n;
		if (k)
			m->stats.stale++;
	}
	th->stale_run = k ? th->stale_run + 1 : 0;
	s = lab_loc_store(m, l, k);
	lab_store_mark_seen(s, th, t);
	lab_read_syncs(th, s, mo);
	return s->value;
}

/* Thread t's new store `value` (rmw: it read the newest), heading or
 * continuing release sequences as C11 says. */
static void lab_c11_write(struct lab_c11 *m, struct lab_c11_loc *l, unsigned t,
			  int mo, lab_u64_t value, bool rmw)
{
	struct lab_c11_thread *th = &m->t[t];
	lab_vclock_t rs;
	uint8_t me = (uint8_t)(1u << t);
	bool heads = lab_mo_releases(mo) || th->has_rel_fence;
	struct lab_c11_store *s;

	if (rmw)
		lab_vc_copy(rs, lab_loc_store(m, l, 0)->rs);
	else
		memset(rs, 0, sizeof(rs));
	if (!rmw)
		l->alive &= me; /* another thread's store ends theirs */
	if (heads) {
		/* a release store heads with the thread's clock now; a
		 * relaxed one after a release fence with the fence's */
		if (!(l->alive & me))
			memset(l->head[t], 0, sizeof(l->head[t]));
		lab_vc_join(l->head[t],
			    lab_mo_releases(mo) ? th->clock : th->rel_fence);
		l->alive |= me;
	}
	if (l->alive & me)
		lab_vc_join(rs, l->head[t]);
	if ((mo & 0xffff) == __ATOMIC_SEQ_CST) /* seen after later SC fences */
		lab_vc_join(m->sc_fence, th->clock);
	s = lab_loc_append(m, l);
	s->value = value;
	s->epoch = th->clock[t];
	s->writer = (uint8_t)t;
	memset(s->seen, 0xff, sizeof(s->seen));
	s->seen[t] = th->clock[t];
	lab_vc_copy(s->rs, rs);
}

static void lab_c11_fence(struct lab_c11 *m, unsigned t, int mo)
{
	struct lab_c11_thread *th = &m->t[t];

	if (lab_mo_acquires(mo))
		lab_vc_join(th->clock, th->acq_pending);
	if ((mo & 0xffff) == __ATOMIC_SEQ_CST) {
		lab_vc_join(th->clock, m->sc_fence);
		lab_vc_copy(m->sc_fence, th->clock);
	}
	if (lab_mo_releases(mo)) {
		lab_vc_copy(th->rel_fence, th->clock);
		th->has_rel_fence = true;
	}
}

/* An operation on a location the table has no room for: the SC result,
 * fully synchronising along the execution order. */
static lab_u64_t lab_c11_unmodelled(struct lab_c11 *m, unsigned t,
				    const struct lab_atomic_op *op)
{
	m->stats.overflow++;
	lab_vc_join(m->t[t].clock, m->overflow);
	lab_vc_copy(m->overflow, m->t[t].clock);
	return lab_atomic_perform_sc(op);
}

/* The real operation on memory, then the model's view of it. */
static lab_u64_t lab_c11_access(struct lab_c11 *m, unsigned t,
				const struct lab_atomic_op *op)
{
	unsigned size = op->size;
	lab_u64_t before = lab_mem_read(op->addr, size), ret;
	struct lab_c11_loc *l = lab_loc_sync(m, op, before);
	int mo = op->order;

	if (!l)
		return lab_c11_unmodelled(m, t, op);
	if (op->kind == LAB_ATOMIC_LOAD) {
		lab_atomic_perform_sc(op); /* TSan sees the real load */
		return lab_c11_load(m, l, t, mo);
	}
	ret = lab_atomic_perform_sc(op);
	if (op->kind == LAB_ATOMIC_STORE || op->kind == LAB_ATOMIC_FLAG_CLEAR) {
		lab_c11_write(m, l, t, mo, lab_mem_read(op->addr, size), false);
		return ret;
	}
	if ((op->kind == LAB_ATOMIC_CAS_STRONG ||
	     op->kind == LAB_ATOMIC_CAS_WEAK) &&
	    !ret) {
		/* failed: a load of the newest store, failure order */
		struct lab_c11_store *s = lab_loc_store(m, l, 0);

		m->stats.loads++;
		lab_store_mark_seen(s, &m->t[t], t);
		lab_read_syncs(&m->t[t], s, op->order_failure);
		return ret;
	}
	/* an RMW: reads the newest, writes right after it */
	lab_store_mark_seen(lab_loc_store(m, l, 0), &m->t[t], t);
	lab_read_syncs(&m->t[t], lab_loc_store(m, l, 0), mo);
	lab_c11_write(m, l, t, mo, lab_mem_read(op->addr, size), true);
	return ret;
}

lab_u64_t lab_c11_perform(struct lab_c11 *m, unsigned t,
			  const struct lab_atomic_op *op)
{
	lab_u64_t ret;

	if (t >= m->cfg.threads || op->kind == LAB_ATOMIC_SIGNAL_FENCE)
		return lab_atomic_perform_sc(op);
	LAB_TSAN_IGNORE_BEGIN();
	m->stats.ops++;
	m->t[t].clock[t]++; /* the operation's epoch */
	if (op->kind == LAB_ATOMIC_THREAD_FENCE) {
		lab_c11_fence(m, t, op->order);
		ret = lab_atomic_perform_sc(op);
	} else {
		ret = lab_c11_access(m, t, op);
	}
	m->t[t].clock[t]++; /* later events are after the snapshots */
	LAB_TSAN_IGNORE_END();
	return ret;
}

lab_u64_t lab_c11_model_entry(void *model, const struct lab_atomic_op *op)
{
	struct lab_c11 *m = model;
	int t = m->cfg.current ? m->cfg.current(m->cfg.current_arg) : 0;

	if (t < 0)
		return lab_atomic_perform_sc(op);
	return lab_c11_perform(m, (unsigned)t, op);
}

void lab_c11_install(struct lab_c11 *m)
{
	lab_atomic_set_model(m ? lab_c11_model_entry : NULL, m);
}

/* ---- plain memory --------------------------------------------------- */

static struct lab_c11_plain *lab_plain_get(struct lab_c11 *m, uintptr_t addr)
{
	for (uint32_t i = lab_addr_hash(addr, m->mask);;
	     i = (i + 1) & m->mask) {
		struct lab_c11_plain *p = &m->plains[i];

		if (p->gen == m->gen && p->addr == addr)
			return p;
		if (p->gen != m->gen) {
			if (m->plain_used >= (m->mask + 1) / 4 * 3)
				return NULL; /* not checked */
			m->plain_used++;
			p->gen = m->gen;
			p->addr = addr;
			p->writer = NOBODY;
			memset(p->r_epoch, 0xff, sizeof(p->r_epoch));
			return p;
		}
	}
}

static void lab_plain_report(struct lab_c11 *m, const volatile void *addr,
			     size_t len, bool write, unsigned t,
			     lab_site_t site, bool other_write, unsigned u,
			     lab_site_t other_site)
{
	struct lab_c11_race r = {
		.addr = addr,
		.len = len,
		.write = write,
		.thread = t,
		.site = site,
		.other_write = other_write,
		.other_thread = u,
		.other_site = other_site,
	};

	m->stats.races++;
	if (!m->race_pending)
		m->pending = r;
	m->race_pending = true;
	if (m->cfg.race)
		m->cfg.race(m->cfg.race_arg, &r);
}

/* Checks thread t's access against the last write (and, for a write,
 * against the reads since); NULL if not checked (no room). */
static struct lab_c11_plain *lab_plain_check(struct lab_c11 *m, unsigned t,
					     const volatile void *addr,
					     size_t len, lab_site_t site,
					     bool write)
{
	struct lab_c11_plain *p;
	const uint32_t *c = m->t[t].clock;

	if (t >= m->cfg.threads)
		return NULL;
	p = lab_plain_get(m, (uintptr_t)addr);
	if (!p)
		return NULL;
	if (p->writer != NOBODY && p->writer != t && c[p->writer] < p->w_epoch)
		lab_plain_report(m, addr, len, write, t, site, true, p->writer,
				 p->w_site);
	for (unsigned u = 0; write && u < m->cfg.threads; u++)
		if (u != t && p->r_epoch[u] != NEVER && c[u] < p->r_epoch[u])
			lab_plain_report(m, addr, len, true, t, site, false, u,
					 p->r_site[u]);
	return p;
}

/* Thread t's plain access: checked, then recorded as the last write or
 * as t's read since it. */
static void lab_plain_access(struct lab_c11 *m, unsigned t,
			     const volatile void *addr, size_t len,
			     lab_site_t site, bool write)
{
	struct lab_c11_plain *p;

	LAB_TSAN_IGNORE_BEGIN();
	p = lab_plain_check(m, t, addr, len, site, write);
	if (p && write) {
		p->writer = (uint8_t)t;
		p->w_epoch = m->t[t].clock[t];
		p->w_site = site;
		memset(p->r_epoch, 0xff, sizeof(p->r_epoch));
	} else if (p) {
		p->r_epoch[t] = m->t[t].clock[t];
		p->r_site[t] = site;
	}
	LAB_TSAN_IGNORE_END();
}

void lab_c11_plain_read(struct lab_c11 *m, unsigned t,
			const volatile void *addr, size_t len, lab_site_t site)
{
	lab_plain_access(m, t, addr, len, site, false);
}

void lab_c11_plain_write(struct lab_c11 *m, unsigned t,
			 const volatile void *addr, size_t len, lab_site_t site)
{
	lab_plain_access(m, t, addr, len, site, true);
}

bool lab_c11_take_race(struct lab_c11 *m, struct lab_c11_race *out)
{
	bool pending;

	LAB_TSAN_IGNORE_BEGIN();
	pending = m->race_pending;
	if (pending)
		*out = m->pending;
	m->race_pending = false;
	LAB_TSAN_IGNORE_END();
	return pending;
}

void lab_c11_forget(struct lab_c11 *m, const volatile void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;

	LAB_TSAN_IGNORE_BEGIN();
	for (uint32_t i = 0; i <= m->mask; i++) {
		struct lab_c11_loc *l = &m->locs[i];
		struct lab_c11_plain *p = &m->plains[i];

		if (l->gen == m->gen && l->addr >= lo && l->addr < hi)
			l->restart = 1;
		if (p->gen == m->gen && p->addr >= lo && p->addr < hi) {
			p->writer = NOBODY;
			memset(p->r_epoch, 0xff, sizeof(p->r_epoch));
		}
	}
	LAB_TSAN_IGNORE_END();
}
