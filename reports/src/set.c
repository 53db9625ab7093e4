/* set.c - the merged, deduplicated set of findings and runs. */
#define _GNU_SOURCE /* strdup */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

void lab_set_init(struct lab_report_set *s)
{
	memset(s, 0, sizeof(*s));
}

void lab_set_free(struct lab_report_set *s)
{
	size_t i;

	for (i = 0; i < s->nartifacts; i++)
		free(s->artifacts[i]);
	free(s->artifacts);
	free(s->recs);
	free(s->runs);
	memset(s, 0, sizeof(*s));
}

/* Grows *arr (of elements of size sz) so one more fits. */
static int lab_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The same finding seen again: counts add up, the window of sight widens,
 * and the later sighting's details (artifact, command, ops) describe it,
 * because the newest reproducer is the one most likely to still work. */
static void lab_rec_merge(struct lab_rec *into, const struct lab_rec *r)
{
	int64_t first = into->first_seen, last = into->last_seen;
	uint64_t count = into->count + r->count;

	if (r->last_seen >= into->last_seen) {
		*into = *r;
		into->first_seen = first;
	}
	if (r->first_seen && (!first || r->first_seen < first))
		into->first_seen = r->first_seen;
	if (last > into->last_seen)
		into->last_seen = last;
	into->count = count;
}

bool lab_set_knows_artifact(const struct lab_report_set *s, const char *art)
{
	size_t i;

	for (i = 0; *art && i < s->nartifacts; i++)
		if (!strcmp(s->artifacts[i], art))
			return true;
	return false;
}

static int lab_set_note_artifact(struct lab_report_set *s, const char *art)
{
	char *copy;

	if (!*art || lab_set_knows_artifact(s, art))
		return 0;
	if (lab_grow((void **)&s->artifacts, &s->artifacts_cap, s->nartifacts,
		     sizeof(*s->artifacts)))
		return -ENOMEM;
	copy = strdup(art);
	if (!copy)
		return -ENOMEM;
	s->artifacts[s->nartifacts++] = copy;
	return 0;
}

int lab_set_add(struct lab_report_set *s, const struct lab_rec *r)
{
	size_t i;

	if (lab_set_note_artifact(s, r->artifact))
		return -ENOMEM;

	for (i = 0; i < s->nrecs; i++) {
		if (!strcmp(s->recs[i].signature, r->signature)) {
			lab_rec_merge(&s->recs[i], r);
			return 0;
		}
	}
	if (lab_grow((void **)&s->recs, &s->recs_cap, s->nrecs, sizeof(*r)))
		return -ENOMEM;
	s->recs[s->nrecs++] = *r;
	return 0;
}

/* A run read twice (the same directory given twice, or a run record
 * copied into a merged report) is one run. */
int lab_set_add_run(struct lab_report_set *s, const struct lab_runrec *r)
{
	size_t i;

	for (i = 0; i < s->nruns; i++)
		if (!strcmp(s->runs[i].id, r->id))
			return 0;
	if (lab_grow((void **)&s->runs, &s->runs_cap, s->nruns, sizeof(*r)))
		return -ENOMEM;
	s->runs[s->nruns++] = *r;
	return 0;
}

/* Most severe first: races and memory errors, then crashes, contract
 * violations, hangs; within a kind the most frequent first. */
static int lab_severity(enum lab_kind k)
{
	switch (k) {
	case LAB_KIND_DATA_RACE:
	case LAB_KIND_MEMORY_ERROR:
		return 0;
	case LAB_KIND_CRASH:
	case LAB_KIND_UNDEFINED:
	case LAB_KIND_INVARIANT:
		return 1;
	case LAB_KIND_EXCLUSIVE:
	case LAB_KIND_SLEEP_IN_ATOMIC:
	case LAB_KIND_DEADLOCK:
		return 2;
	default:
		return 3;
	}
}

static int lab_rec_cmp(const void *a, const void *b)
{
	const struct lab_rec *x = a, *y = b;
	int d = lab_severity(x->kind) - lab_severity(y->kind);

	if (d)
		return d;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->signature, y->signature);
}

static int lab_run_cmp(const void *a, const void *b)
{
	const struct lab_runrec *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(x->id, y->id);
}

void lab_set_sort(struct lab_report_set *s)
{
	if (s->nrecs)
		qsort(s->recs, s->nrecs, sizeof(*s->recs), lab_rec_cmp);
	if (s->nruns)
		qsort(s->runs, s->nruns, sizeof(*s->runs), lab_run_cmp);
}
