/* test_c11_litmus.c - the C11 memory model (labyrinth/c11.h) on litmus
 * tests, driven directly: each test is a few threads of straight-line
 * atomic instructions on real memory, and every execution the model
 * allows is enumerated (depth-first over the decisions: which thread runs
 * next, which store a load reads), up to a budget.  Each C11-allowed
 * outcome listed must be reached, each forbidden one never.
 *
 *   test_c11_litmus CASE     one case (ctest c11_litmus_CASE)
 *   test_c11_litmus sc       choose always 0 = the SC execution, for
 *                            every case; a history of 1 = SC as well
 *   test_c11_litmus plain    the plain-memory race check
 *   test_c11_litmus bounds   a full history, a full location table
 *   test_c11_litmus usage    bad configurations: one line each
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "labyrinth/atomic_model.h"
#include "labyrinth/c11.h"

/* the case tables leave trailing lists out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

enum { END, LD, ST, ADD, FENCE, PR_IF, PW };
enum {
	RLX = __ATOMIC_RELAXED,
	ACQ = __ATOMIC_ACQUIRE,
	REL = __ATOMIC_RELEASE,
	SC = __ATOMIC_SEQ_CST
};
enum { X, Y, F, D, NLOC };
#define NOREG 9 /* result not part of the outcome */
#define MAXT 4
#define MAXI 4
#define MAXO 12

struct ins {
	unsigned char kind, loc, reg;
	int mo;
	lab_u64_t val;
};

struct litmus {
	const char *name;
	unsigned nt, nregs;
	struct ins code[MAXT][MAXI];
	const char *allowed[MAXO];   /* outcomes: register values in order */
	const char *forbidden[MAXO]; /* by C11 */
	/* allowed by C11, out of the model's reach (loads read executed
	 * stores only): asserted unreached, so a change shows */
	const char *limit[MAXO];
};

#define L(l, r, m)             \
	{                      \
		LD, l, r, m, 0 \
	}
#define S(l, v, m)             \
	{                      \
		ST, l, 0, m, v \
	}
#define A(l, v, r, m)           \
	{                       \
		ADD, l, r, m, v \
	}
#define FE(m)                     \
	{                         \
		FENCE, 0, 0, m, 0 \
	}

/* clang-format off */
static const struct litmus cases[] = {
	{ "mp_relaxed", 2, 2,
	  { { S(X, 1, RLX), S(F, 1, RLX) }, { L(F, 0, RLX), L(X, 1, RLX) } },
	  { "00", "01", "11", "10" } },
	{ "mp_relacq", 2, 2,
	  { { S(X, 1, RLX), S(F, 1, REL) }, { L(F, 0, ACQ), L(X, 1, RLX) } },
	  { "00", "01", "11" }, { "10" } },
	{ "mp_fences", 2, 2,
	  { { S(X, 1, RLX), FE(REL), S(F, 1, RLX) },
	    { L(F, 0, RLX), FE(ACQ), L(X, 1, RLX) } },
	  { "00", "01", "11" }, { "10" } },
	{ "mp_release_fence_only", 2, 2,
	  { { S(X, 1, RLX), FE(REL), S(F, 1, RLX) },
	    { L(F, 0, RLX), L(X, 1, RLX) } },
	  { "00", "01", "11", "10" } },
	{ "sb_relaxed", 2, 2,
	  { { S(X, 1, RLX), L(Y, 0, RLX) }, { S(Y, 1, RLX), L(X, 1, RLX) } },
	  { "00", "01", "10", "11" } },
	{ "sb_relacq", 2, 2,
	  { { S(X, 1, REL), L(Y, 0, ACQ) }, { S(Y, 1, REL), L(X, 1, ACQ) } },
	  { "00", "01", "10", "11" } },
	{ "sb_seqcst", 2, 2,
	  { { S(X, 1, SC), L(Y, 0, SC) }, { S(Y, 1, SC), L(X, 1, SC) } },
	  { "01", "10", "11" }, { "00" } },
	{ "sb_sc_fences", 2, 2,
	  { { S(X, 1, RLX), FE(SC), L(Y, 0, RLX) },
	    { S(Y, 1, RLX), FE(SC), L(X, 1, RLX) } },
	  { "01", "10", "11" }, { "00" } },
	/* a seq_cst store before a seq_cst fence in S is seen after it */
	{ "sb_sc_store_fence", 2, 2,
	  { { S(X, 1, SC), L(Y, 0, SC) },
	    { S(Y, 1, RLX), FE(SC), L(X, 1, RLX) } },
	  { "01", "10", "11" }, { "00" } },
	{ "lb", 2, 2,
	  { { L(X, 0, RLX), S(Y, 1, RLX) }, { L(Y, 1, RLX), S(X, 1, RLX) } },
	  { "00", "01", "10" }, { NULL }, { "11" } },
	{ "iriw_acquire", 4, 4,
	  { { S(X, 1, REL) }, { S(Y, 1, REL) },
	    { L(X, 0, ACQ), L(Y, 1, ACQ) }, { L(Y, 2, ACQ), L(X, 3, ACQ) } },
	  { "1010", "1111", "0000", "1011" } },
	{ "iriw_seqcst", 4, 4,
	  { { S(X, 1, SC) }, { S(Y, 1, SC) },
	    { L(X, 0, SC), L(Y, 1, SC) }, { L(Y, 2, SC), L(X, 3, SC) } },
	  { "1111", "0000", "1011", "1110" }, { "1010" } },
	{ "corr", 2, 2,
	  { { S(X, 1, RLX), S(X, 2, RLX) }, { L(X, 0, RLX), L(X, 1, RLX) } },
	  { "00", "01", "02", "11", "12", "22" }, { "10", "20", "21" } },
	/* CoRR through a third thread: T1's read of 1 happens before T2's */
	{ "corr_hb", 3, 3,
	  { { S(X, 1, RLX) }, { L(X, 0, RLX), S(F, 1, REL) },
	    { L(F, 1, ACQ), L(X, 2, RLX) } },
	  { "111", "100", "011", "000", "101" }, { "110" } },
	{ "cowr", 2, 2,
	  { { S(X, 1, RLX), L(X, 0, RLX) }, { S(X, 2, RLX), L(X, 1, RLX) } },
	  { "12", "22", "11" }, { "21", "00", "01", "02", "10", "20" } },
	/* an RMW continues T0's release sequence: reading it synchronises */
	{ "rs_rmw", 3, 2,
	  { { S(D, 1, RLX), S(X, 1, REL) }, { A(X, 1, NOREG, RLX) },
	    { L(X, 0, ACQ), L(D, 1, RLX) } },
	  { "21", "11", "10", "00", "01" }, { "20" } },
	/* a plain store by another thread ends it */
	{ "rs_broken", 3, 2,
	  { { S(D, 1, RLX), S(X, 1, REL) }, { S(X, 2, RLX) },
	    { L(X, 0, ACQ), L(D, 1, RLX) } },
	  { "20", "21", "11", "00" }, { "10" } },
	/* ... and the sequence stays ended for an RMW after that store */
	{ "rs_broken_rmw", 3, 2,
	  { { S(D, 1, RLX), S(X, 1, REL) },
	    { S(X, 2, RLX), A(X, 1, NOREG, RLX) },
	    { L(X, 0, ACQ), L(D, 1, RLX) } },
	  { "30", "31", "20", "21" }, { "10" } },
	/* ... and a later store of the head's thread does not revive it */
	{ "rs_broken_own", 3, 2,
	  { { S(D, 1, RLX), S(X, 1, REL), S(X, 3, RLX) }, { S(X, 2, RLX) },
	    { L(X, 0, ACQ), L(D, 1, RLX) } },
	  { "30", "31", "20", "21" }, { "10" } },
	/* a store by the head's own thread continues it (C11) */
	{ "rs_same_thread", 2, 2,
	  { { S(D, 1, RLX), S(X, 1, REL), S(X, 3, RLX) },
	    { L(X, 0, ACQ), L(D, 1, RLX) } },
	  { "31", "11", "00", "01" }, { "30", "10" } },
};
/* clang-format on */
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- depth-first enumeration of the decisions ----------------------- */

#define MAXD 64
static struct {
	unsigned choice[MAXD], n[MAXD], depth, pos;
} dfs;

static unsigned dfs_decide(unsigned n)
{
	if (dfs.pos < dfs.depth)
		return dfs.choice[dfs.pos++];
	dfs.choice[dfs.depth] = 0;
	dfs.n[dfs.depth++] = n;
	dfs.pos++;
	return 0;
}

/* The next execution's decisions; false when all were enumerated. */
static bool dfs_next(void)
{
	while (dfs.depth &&
	       dfs.choice[dfs.depth - 1] + 1 >= dfs.n[dfs.depth - 1])
		dfs.depth--;
	if (!dfs.depth)
		return false;
	dfs.choice[dfs.depth - 1]++;
	dfs.pos = 0;
	return true;
}

static unsigned choose_dfs(void *arg, unsigned n)
{
	(void)arg;
	return dfs_decide(n);
}

static unsigned choose_newest(void *arg, unsigned n)
{
	(void)arg;
	(void)n;
	return 0;
}

/* ---- running one execution ------------------------------------------ */

static lab_u64_t mem[NLOC];
static lab_u64_t regs[10];
static unsigned long races_seen;
static struct lab_c11_race last_race;

static void on_race(void *arg, const struct lab_c11_race *r)
{
	(void)arg;
	races_seen++;
	last_race = *r;
}

static lab_u64_t run_ins(struct lab_c11 *m, unsigned t, const struct ins *i)
{
	struct lab_atomic_op op = { .size = 8,
				    .addr = &mem[i->loc],
				    .order = i->mo,
				    .operand = i->val,
				    .site = "litmus" };

	switch (i->kind) {
	case LD:
		op.kind = LAB_ATOMIC_LOAD;
		break;
	case ST:
		op.kind = LAB_ATOMIC_STORE;
		break;
	case ADD:
		op.kind = LAB_ATOMIC_FETCH_ADD;
		break;
	case FENCE:
		op = (struct lab_atomic_op){ .kind = LAB_ATOMIC_THREAD_FENCE,
					     .order = i->mo };
		break;
	case PR_IF:
		if (regs[i->reg])
			lab_c11_plain_read(m, t, &mem[i->loc], 8, "read");
		return regs[i->reg];
	case PW:
		lab_c11_plain_write(m, t, &mem[i->loc], 8, "write");
		mem[i->loc] = i->val;
		return 0;
	}
	return m ? lab_c11_perform(m, t, &op) : lab_atomic_perform_sc(&op);
}

/* One execution along dfs's decisions (m NULL: plain SC memory); writes
 * the outcome (registers as digits) into out. */
static void run_once(const struct litmus *c, struct lab_c11 *m, char *out)
{
	unsigned pc[MAXT] = { 0 }, ready[MAXT], nready, t;

	memset(mem, 0, sizeof(mem));
	memset(regs, 0, sizeof(regs));
	if (m)
		lab_c11_reset(m);
	for (;;) {
		nready = 0;
		for (t = 0; t < c->nt; t++)
			if (pc[t] < MAXI && c->code[t][pc[t]].kind != END)
				ready[nready++] = t;
		if (!nready)
			break;
		t = ready[nready > 1 ? dfs_decide(nready) : 0];
		const struct ins *i = &c->code[t][pc[t]++];
		lab_u64_t v = run_ins(m, t, i);

		if ((i->kind == LD || i->kind == ADD) && i->reg != NOREG)
			regs[i->reg] = v;
	}
	for (unsigned r = 0; r < c->nregs; r++)
		out[r] = (char)('0' + regs[r]);
	out[c->nregs] = 0;
}

struct outcomes {
	char seen[256][MAXT + 1];
	unsigned n;
	unsigned long executions;
};

static void outcomes_add(struct outcomes *o, const char *s)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->seen[i], s))
			return;
	if (o->n < 256)
		strcpy(o->seen[o->n++], s);
}

static bool outcomes_has(const struct outcomes *o, const char *s)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->seen[i], s))
			return true;
	return false;
}

#define BUDGET 200000ul

/* Every execution of c (m NULL: SC memory), within BUDGET. */
static void enumerate(const struct litmus *c, struct lab_c11 *m,
		      struct outcomes *o)
{
	char out[MAXT + 1];

	memset(o, 0, sizeof(*o));
	memset(&dfs, 0, sizeof(dfs));
	do {
		dfs.pos = 0;
		run_once(c, m, out);
		outcomes_add(o, out);
		o->executions++;
	} while (o->executions < BUDGET && dfs_next());
	CHECK(o->executions < BUDGET, "%s: budget of %lu executions reached",
	      c->name, BUDGET);
}

static struct lab_c11 *model_new(unsigned threads, unsigned history,
				 unsigned (*choose)(void *, unsigned))
{
	char err[200];
	struct lab_c11_config cfg = { .threads = threads,
				      .history = history,
				      .locations = 64,
				      .choose = choose,
				      .race = on_race };
	struct lab_c11 *m = lab_c11_create(&cfg, err, sizeof(err));

	if (!m) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	return m;
}

static void print_outcomes(const char *what, const struct outcomes *o)
{
	printf("%s: %lu executions, outcomes", what, o->executions);
	for (unsigned i = 0; i < o->n; i++)
		printf(" %s", o->seen[i]);
	printf("\n");
}

static void run_case(const struct litmus *c)
{
	struct lab_c11 *m =
		model_new(c->nt, LAB_C11_HISTORY_DEFAULT, choose_dfs);
	struct outcomes o;

	enumerate(c, m, &o);
	print_outcomes(c->name, &o);
	for (unsigned i = 0; i < MAXO && c->allowed[i]; i++)
		CHECK(outcomes_has(&o, c->allowed[i]),
		      "%s: allowed outcome %s never reached", c->name,
		      c->allowed[i]);
	for (unsigned i = 0; i < MAXO && c->forbidden[i]; i++)
		CHECK(!outcomes_has(&o, c->forbidden[i]),
		      "%s: forbidden outcome %s reached", c->name,
		      c->forbidden[i]);
	for (unsigned i = 0; i < MAXO && c->limit[i]; i++)
		CHECK(!outcomes_has(&o, c->limit[i]),
		      "%s: outcome %s (beyond loads of executed stores) reached",
		      c->name, c->limit[i]);
	lab_c11_destroy(m);
}

static bool outcomes_equal(const struct outcomes *a, const struct outcomes *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (!outcomes_has(b, a->seen[i]))
			return false;
	return true;
}

/* choose always 0, and a history of one store, give exactly the
 * outcomes of the plain SC execution on real memory. */
static void run_sc(void)
{
	for (unsigned k = 0; k < NCASES; k++) {
		const struct litmus *c = &cases[k];
		struct lab_c11 *m0 = model_new(c->nt, 8, choose_newest);
		struct lab_c11 *m1 = model_new(c->nt, 1, choose_dfs);
		struct outcomes sc, newest, h1;
		struct lab_c11_stats st;

		enumerate(c, NULL, &sc);
		enumerate(c, m0, &newest);
		enumerate(c, m1, &h1);
		CHECK(outcomes_equal(&sc, &newest),
		      "%s: choose 0 differs from SC", c->name);
		CHECK(outcomes_equal(&sc, &h1), "%s: history 1 differs from SC",
		      c->name);
		CHECK(newest.executions == sc.executions,
		      "%s: choose 0 took %lu executions, SC %lu", c->name,
		      newest.executions, sc.executions);
		lab_c11_stats(m0, &st);
		CHECK(st.stale == 0, "%s: stale reads with choose 0", c->name);
		print_outcomes(c->name, &sc);
		lab_c11_destroy(m0);
		lab_c11_destroy(m1);
	}
	/* the SC outcomes themselves: no weak result */
	struct outcomes sc;

	enumerate(&cases[4], NULL, &sc); /* sb_relaxed */
	CHECK(!outcomes_has(&sc, "00"), "SC store buffering reached 00");
}

/* ---- plain memory ----------------------------------------------------- */

/* clang-format off */
static const struct litmus plain_mp_relaxed = {
	"plain_mp_relaxed", 2, 1,
	{ { { PW, D, 0, 0, 1 }, S(F, 1, RLX) },
	  { L(F, 0, RLX), { PR_IF, D, 0, 0, 0 } } },
};
static const struct litmus plain_mp_relacq = {
	"plain_mp_relacq", 2, 1,
	{ { { PW, D, 0, 0, 1 }, S(F, 1, REL) },
	  { L(F, 0, ACQ), { PR_IF, D, 0, 0, 0 } } },
};
static const struct litmus plain_ww = {
	"plain_ww", 2, 0,
	{ { { PW, D, 0, 0, 1 } }, { { PW, D, 0, 0, 2 } } },
};
/* clang-format on */

/* Executions with at least one race report. */
static unsigned long racy_executions(const struct litmus *c)
{
	struct lab_c11 *m = model_new(c->nt, 8, choose_dfs);
	unsigned long racy = 0, total = 0;
	char out[MAXT + 1];

	memset(&dfs, 0, sizeof(dfs));
	do {
		unsigned long before = races_seen;

		dfs.pos = 0;
		run_once(c, m, out);
		racy += races_seen != before;
		total++;
	} while (dfs_next());
	printf("%s: %lu of %lu executions racy\n", c->name, racy, total);
	lab_c11_destroy(m);
	return racy;
}

static void run_plain(void)
{
	CHECK(racy_executions(&plain_mp_relaxed) > 0,
	      "relaxed publication: no race");
	CHECK(last_race.thread == 1 && last_race.other_thread == 0 &&
		      !last_race.write && last_race.other_write &&
		      !strcmp(last_race.site, "read") &&
		      !strcmp(last_race.other_site, "write") &&
		      last_race.addr == &mem[D] && last_race.len == 8,
	      "race report fields");
	CHECK(racy_executions(&plain_mp_relacq) == 0,
	      "release/acquire publication: a race reported");
	CHECK(racy_executions(&plain_ww) == 2, "write/write: not every order");
}

/* ---- bounds ------------------------------------------------------------ */

static unsigned choose_oldest(void *arg, unsigned n)
{
	(void)arg;
	return n - 1;
}

static lab_u64_t op64(struct lab_c11 *m, unsigned t, enum lab_atomic_kind k,
		      lab_u64_t *addr, lab_u64_t v)
{
	struct lab_atomic_op op = { .kind = k,
				    .size = 8,
				    .addr = addr,
				    .order = RLX,
				    .operand = v,
				    .site = "bounds" };

	return lab_c11_perform(m, t, &op);
}

/* A full history drops its oldest store (the oldest kept is the oldest
 * readable); a location the table has no room for reads the newest. */
static void run_bounds(void)
{
	struct lab_c11 *m = model_new(2, 2, choose_oldest);
	struct lab_c11_stats st;
	lab_u64_t words[6] = { 0 };

	for (lab_u64_t v = 1; v <= 3; v++)
		op64(m, 0, LAB_ATOMIC_STORE, &mem[X], v);
	CHECK(op64(m, 1, LAB_ATOMIC_LOAD, &mem[X], 0) == 2,
	      "history 2 after stores 1, 2, 3: oldest readable is not 2");
	lab_c11_stats(m, &st);
	CHECK(st.dropped == 2 && st.stale == 1, "dropped %llu, stale %llu",
	      st.dropped, st.stale);
	/* forgotten memory (freed, reused): only its current value */
	op64(m, 0, LAB_ATOMIC_STORE, &mem[Y], 5);
	lab_c11_forget(m, &mem[X], 2 * sizeof(mem[0]));
	CHECK(op64(m, 1, LAB_ATOMIC_LOAD, &mem[X], 0) == 3 &&
		      op64(m, 1, LAB_ATOMIC_LOAD, &mem[Y], 0) == 5,
	      "a forgotten location kept its history");
	lab_c11_destroy(m);
	m = model_new(2, 8, choose_oldest);
	memset(mem, 0, sizeof(mem));

	/* a spin on a flag always offered its old value ends */
	op64(m, 0, LAB_ATOMIC_STORE, &mem[F], 1);
	unsigned spins = 0;

	while (spins < 100 && !op64(m, 1, LAB_ATOMIC_LOAD, &mem[F], 0))
		spins++;
	CHECK(spins == LAB_C11_STALE_RUN_MAX, "spin ended after %u stale loads",
	      spins);
	lab_c11_destroy(m);

	/* 1 location: a table of 4 slots, 3 usable */
	char err[200];
	struct lab_c11_config cfg = { .threads = 2,
				      .history = 4,
				      .locations = 1,
				      .choose = choose_oldest };

	m = lab_c11_create(&cfg, err, sizeof(err));
	for (unsigned i = 0; i < 6; i++)
		op64(m, 0, LAB_ATOMIC_STORE, &words[i], 1);
	for (unsigned i = 0; i < 6; i++)
		CHECK(op64(m, 1, LAB_ATOMIC_LOAD, &words[i], 0) == (i >= 3),
		      "word %u: %s read", i, i >= 3 ? "stale" : "newest");
	lab_c11_stats(m, &st);
	CHECK(st.overflow == 6, "%llu operations unmodelled, want 6",
	      st.overflow);
	printf("bounds: history and table limits hold\n");
	lab_c11_destroy(m);
}

/* ---- usage errors ----------------------------------------------------- */

static void expect_bad(struct lab_c11_config cfg, const char *what)
{
	char err[200] = "";
	struct lab_c11 *m = lab_c11_create(&cfg, err, sizeof(err));

	CHECK(!m, "%s accepted", what);
	CHECK(!strncmp(err, "labyrinth: ", 11) && !strchr(err, '\n'),
	      "%s: error '%s'", what, err);
	printf("%s: %s\n", what, err);
	lab_c11_destroy(m);
}

static void run_usage(void)
{
	struct lab_c11_config ok = { .threads = 2,
				     .history = 8,
				     .locations = 16 };
	struct lab_c11_config c;
	unsigned v = 0;
	char err[200];
	const char *bad[] = {
		"0", "65", "abc", "", "-1", "8x", "99999999999999999999"
	};

	c = ok, c.history = 0, expect_bad(c, "history 0");
	c = ok, c.history = 1000000, expect_bad(c, "history 1000000");
	c = ok, c.threads = 0, expect_bad(c, "threads 0");
	c = ok, c.threads = 9, expect_bad(c, "threads 9");
	c = ok, c.locations = 0, expect_bad(c, "locations 0");
	c = ok, c.locations = 1u << 30, expect_bad(c, "locations 2^30");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(lab_c11_parse_history(bad[i], &v, err, sizeof(err)) == -1,
		      "history '%s' accepted", bad[i]);
		CHECK(!strncmp(err, "labyrinth: ", 11), "history '%s': %s",
		      bad[i], err);
	}
	printf("%s\n", err);
	CHECK(lab_c11_parse_history("8", &v, err, sizeof(err)) == 0 && v == 8,
	      "history 8 refused");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	bool any = false;

	for (unsigned k = 0; k < NCASES; k++)
		if (!strcmp(what, cases[k].name) || !strcmp(what, "all")) {
			run_case(&cases[k]);
			any = true;
		}
	if (!strcmp(what, "sc") || !strcmp(what, "all"))
		run_sc(), any = true;
	if (!strcmp(what, "plain") || !strcmp(what, "all"))
		run_plain(), any = true;
	if (!strcmp(what, "bounds") || !strcmp(what, "all"))
		run_bounds(), any = true;
	if (!strcmp(what, "usage") || !strcmp(what, "all"))
		run_usage(), any = true;
	if (!any) {
		fprintf(stderr, "labyrinth: test_c11_litmus: no case '%s'\n",
			what);
		return 2;
	}
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
