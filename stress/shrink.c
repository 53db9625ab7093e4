/* shrink.c - minimise a failing controlled schedule (delta debugging).
 *
 * A candidate is the artifact with something taken away: shorter thread
 * programs, one logical thread fewer, some injected interrupts removed,
 * some preemptions removed (the thread that ran before simply goes on),
 * with --memory c11 some stale reads removed (the load reads the newest
 * store, as an SC run would).
 * It is replayed with the list strategy, which follows the decisions while
 * they fit and continues deterministically after that.  A candidate is
 * kept when the same finding (kind and site) comes back and the run is no
 * longer on any measure (steps, preemptions, interrupts, stale reads,
 * program length, threads) and shorter on one; what it actually did becomes the new
 * schedule.  Chunks are halved as in ddmin (Zeller)
 * until single decisions are tried, and passes repeat until a fixpoint or
 * the run budget is spent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

struct lab_shrink {
	struct lab_finding want;
	struct lab_opts opts;
	lab_decision_t *dec; /* current schedule (owned) */
	uint64_t n;
	uint64_t steps, preemptions, irqs, stale;
	unsigned runs, budget;
	bool verbose;
};

/* A candidate is kept when it is no longer on any measure and strictly
 * simpler on at least one (else equal candidates would be taken forever
 * and spend the budget). */
static bool lab_simpler(const struct lab_shrink *sh, const struct lab_opts *o,
			const struct lab_sched_result *r)
{
	bool no_longer = r->steps <= sh->steps &&
			 r->preemptions <= sh->preemptions &&
			 r->irqs <= sh->irqs && r->stale_reads <= sh->stale &&
			 o->ops_per_thread <= sh->opts.ops_per_thread &&
			 o->logical <= sh->opts.logical;
	bool shorter = r->steps < sh->steps ||
		       r->preemptions < sh->preemptions || r->irqs < sh->irqs ||
		       r->stale_reads < sh->stale ||
		       o->ops_per_thread < sh->opts.ops_per_thread ||
		       o->logical < sh->opts.logical;

	return no_longer && shorter;
}

/* Replays a candidate; adopts it if the finding holds and it is no
 * longer.  Takes ownership of nothing; copies what it keeps. */
static bool lab_try(struct lab_shrink *sh, const struct lab_opts *o,
		    const lab_decision_t *dec, uint64_t n, const char *what)
{
	struct lab_sched_result r;
	char why[200];
	bool keep;

	/* what the artifact reader would refuse is never kept */
	if (sh->runs >= sh->budget ||
	    lab_opts_artifact_check(o, why, sizeof(why)))
		return false;
	sh->runs++;
	if (lab_sched_run(o, dec, n, &r))
		return false;
	keep = r.found && lab_finding_same(&r.finding, &sh->want) &&
	       lab_simpler(sh, o, &r);
	if (keep) {
		free(sh->dec);
		sh->dec = r.trace;
		sh->n = r.ntrace;
		r.trace = NULL;
		sh->opts = *o;
		sh->want.step = r.finding.step;
		sh->want.thread = r.finding.thread;
		snprintf(sh->want.message, sizeof(sh->want.message), "%s",
			 r.finding.message);
		sh->steps = r.steps;
		sh->preemptions = r.preemptions;
		sh->irqs = r.irqs;
		sh->stale = r.stale_reads;
		if (sh->verbose)
			printf("shrink: %s -> %llu steps, %llu preemptions, "
			       "%llu irqs, %llu stale reads, %u ops/thread, "
			       "%u thread%s\n",
			       what, (unsigned long long)sh->steps,
			       (unsigned long long)sh->preemptions,
			       (unsigned long long)sh->irqs,
			       (unsigned long long)sh->stale,
			       sh->opts.ops_per_thread, sh->opts.logical,
			       lab_plural(sh->opts.logical));
	}
	lab_sched_result_free(&r);
	return keep;
}

/* ---- what can be taken away ---------------------------------------------- */

static bool lab_shrink_ops(struct lab_shrink *sh)
{
	bool progress = false;
	unsigned step = sh->opts.ops_per_thread / 2;

	while (step >= 1 && sh->opts.ops_per_thread > 1) {
		struct lab_opts o = sh->opts;

		o.ops_per_thread -= step < o.ops_per_thread ? step : 0;
		if (o.ops_per_thread < sh->opts.ops_per_thread &&
		    lab_try(sh, &o, sh->dec, sh->n, "shorter programs"))
			progress = true;
		else
			step /= 2;
	}
	return progress;
}

static bool lab_shrink_threads(struct lab_shrink *sh)
{
	bool progress = false;

	while (sh->opts.logical > 1) {
		struct lab_opts o = sh->opts;

		o.logical--;
		if (!lab_try(sh, &o, sh->dec, sh->n, "one thread fewer"))
			break;
		progress = true;
	}
	return progress;
}

/* Is decision i an injected interrupt / a preemption of the thread that
 * ran at decision i-1 / a load that read an older store?  A reads-from
 * choice names the thread that reads (the one running), so a thread
 * decision after one compares with the right thread. */
static bool lab_is_irq(const lab_decision_t *d, uint64_t i)
{
	return !(d[i] & LAB_DEC_READ) && (d[i] & LAB_DEC_IRQ);
}

static bool lab_is_switch(const lab_decision_t *d, uint64_t i)
{
	return i > 0 && !(d[i] & LAB_DEC_READ) &&
	       (d[i] & LAB_DEC_THREAD_MASK) != (d[i - 1] & LAB_DEC_THREAD_MASK);
}

static bool lab_is_stale(const lab_decision_t *d, uint64_t i)
{
	return (d[i] & LAB_DEC_READ) && (d[i] >> LAB_DEC_READ_SHIFT);
}

static void lab_drop_stale(lab_decision_t *d, uint64_t i)
{
	d[i] &= LAB_DEC_READ | LAB_DEC_THREAD_MASK;
}

static void lab_drop_irq(lab_decision_t *d, uint64_t i)
{
	d[i] &= ~LAB_DEC_IRQ;
}

static void lab_drop_switch(lab_decision_t *d, uint64_t i)
{
	d[i] = (d[i] & LAB_DEC_IRQ) | (d[i - 1] & LAB_DEC_THREAD_MASK);
}

/* ddmin over the decisions matching `is`: tries to undo them `chunk` at a
 * time, halving the chunk when no chunk can go. */
static bool lab_ddmin(struct lab_shrink *sh,
		      bool (*is)(const lab_decision_t *, uint64_t),
		      void (*undo)(lab_decision_t *, uint64_t),
		      const char *what)
{
	bool progress = false;
	uint64_t total = 0, i, chunk;

	for (i = 0; i < sh->n; i++)
		total += is(sh->dec, i);
	for (chunk = total / 2 ? total / 2 : 1; chunk >= 1 && total;
	     chunk /= 2) {
		uint64_t start;
		bool any = false;

		for (start = 0; start < total && sh->runs < sh->budget;
		     start += chunk) {
			lab_decision_t *cand = malloc(sh->n * sizeof(*cand));
			uint64_t k = 0;

			if (!cand)
				return progress;
			memcpy(cand, sh->dec, sh->n * sizeof(*cand));
			for (i = 0; i < sh->n; i++)
				if (is(sh->dec, i) && k++ >= start &&
				    k <= start + chunk)
					undo(cand, i);
			if (lab_try(sh, &sh->opts, cand, sh->n, what)) {
				any = progress = true;
				for (total = 0, i = 0; i < sh->n; i++)
					total += is(sh->dec, i);
				start = (uint64_t)-chunk; /* restart at 0 */
			}
			free(cand);
		}
		if (any && chunk > 1)
			chunk *= 2; /* stay at this size while it pays */
	}
	return progress;
}

int lab_shrink(const struct lab_artifact *in, struct lab_artifact *out,
	       unsigned budget_runs, bool verbose)
{
	struct lab_shrink sh = { .want = in->finding,
				 .opts = in->opts,
				 .budget = budget_runs,
				 .verbose = verbose };
	struct lab_sched_result first;
	bool progress = true;

	sh.opts.strategy = LAB_STRAT_LIST;
	sh.opts.isolate = true; /* a crashing candidate must not take us */
	if (lab_sched_run(&sh.opts, in->decisions, in->ndecisions, &first) ||
	    !first.found || !lab_finding_same(&first.finding, &in->finding)) {
		fprintf(stderr,
			"labyrinth: shrink: the artifact's finding "
			"(%s at %s) does not reproduce%s%s\n",
			in->finding.kind, in->finding.where,
			first.found ? "; got " : "",
			first.found ? first.finding.kind : "");
		lab_sched_result_free(&first);
		return -1;
	}
	sh.dec = first.trace;
	sh.n = first.ntrace;
	sh.steps = first.steps;
	sh.preemptions = first.preemptions;
	sh.irqs = first.irqs;
	sh.stale = first.stale_reads;
	sh.want.step = first.finding.step;
	sh.want.thread = first.finding.thread;
	while (progress && sh.runs < sh.budget) {
		progress = lab_shrink_ops(&sh);
		progress |= lab_shrink_threads(&sh);
		progress |= lab_ddmin(&sh, lab_is_stale, lab_drop_stale,
				      "fewer stale reads");
		progress |= lab_ddmin(&sh, lab_is_irq, lab_drop_irq,
				      "fewer interrupts");
		progress |= lab_ddmin(&sh, lab_is_switch, lab_drop_switch,
				      "fewer preemptions");
	}
	memset(out, 0, sizeof(*out));
	out->opts = sh.opts;
	out->opts.strategy = in->opts.strategy;
	out->opts.isolate = in->opts.isolate;
	snprintf(out->build, sizeof(out->build), "%s", lab_version());
	out->finding = sh.want;
	out->decisions = sh.dec;
	out->ndecisions = sh.n;
	if (verbose)
		printf("shrink: %u replays\n", sh.runs);
	return 0;
}

int lab_shrink_verify(const char *path, const struct lab_finding *want,
		      bool isolate, struct lab_sched_result *r, char *err,
		      size_t errlen)
{
	struct lab_artifact back;
	struct lab_opts o;

	memset(r, 0, sizeof(*r));
	if (lab_artifact_read(path, &back, err, errlen))
		return -1;
	o = back.opts;
	o.strategy = LAB_STRAT_LIST;
	o.isolate = isolate;
	o.progress = false;
	if (lab_sched_run(&o, back.decisions, back.ndecisions, r)) {
		snprintf(err, errlen, "%s: cannot replay: %s", path,
			 lab_last_error());
		lab_sched_result_free(r);
		lab_artifact_free(&back);
		return -1;
	}
	lab_artifact_free(&back);
	if (r->diverged_at != UINT64_MAX)
		snprintf(err, errlen,
			 "%s: decision %llu does not fit on replay: %s", path,
			 (unsigned long long)r->diverged_at, r->diverged_why);
	else if (!r->found || !lab_finding_same(&r->finding, want))
		snprintf(err, errlen, "%s: replay finds %s%s%s, not %s at %s",
			 path, r->found ? r->finding.kind : "nothing",
			 r->found ? " at " : "",
			 r->found ? r->finding.where : "", want->kind,
			 want->where);
	else if (r->finding.step != want->step)
		snprintf(err, errlen,
			 "%s: replay finds it at step %llu, not %llu", path,
			 (unsigned long long)r->finding.step,
			 (unsigned long long)want->step);
	else
		return 0;
	lab_sched_result_free(r);
	return -1;
}
