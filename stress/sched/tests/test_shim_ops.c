/* test_shim_ops.c - the <stdatomic.h> shim: shim_body.c (every generic
 * function, atomic_flag, fences, __atomic_* and __sync_* builtins) run
 * without the shim, with it outside a schedule and with it inside one
 * must give the same values in the same order; with the shim inside a
 * schedule each operation makes exactly one lab_sched_point whose site
 * names shim_body.c and the operation's line, and outside one none. */
#include <stdio.h>
#include <string.h>

#include "count_points.h"
#include "shim_body.h"

void lab_body_record(struct lab_body *b, uint64_t v, int line, int op)
{
	if (b->n == LAB_BODY_MAX)
		return;
	b->v[b->n] = v;
	b->line[b->n] = line;
	b->op[b->n] = op;
	b->points[b->n] = lab_test_count(&lab_test_points);
	b->site[b->n] = lab_test_last_site;
	b->n++;
}

static struct lab_body plain, quiet, scheduled;

/* Points made by record i of b (since the record before it). */
static unsigned long points_of(const struct lab_body *b, unsigned i,
			       unsigned long start)
{
	return b->points[i] - (i ? b->points[i - 1] : start);
}

static int compare(const struct lab_body *b, const char *name,
		   unsigned long start, int want_points)
{
	int bad = 0;
	char at[32];

	if (b->n != plain.n) {
		fprintf(stderr, "FAIL %s: %u records, plain %u\n", name, b->n,
			plain.n);
		return 1;
	}
	for (unsigned i = 0; i < b->n; i++) {
		unsigned long pts = points_of(b, i, start);
		unsigned long want = b->op[i] ? (unsigned long)want_points : 0;

		if (b->v[i] != plain.v[i] || b->line[i] != plain.line[i]) {
			fprintf(stderr,
				"FAIL %s: shim_body.c:%d: %#llx, plain %#llx\n",
				name, b->line[i], (unsigned long long)b->v[i],
				(unsigned long long)plain.v[i]);
			bad++;
		}
		if (pts != want) {
			fprintf(stderr,
				"FAIL %s: shim_body.c:%d: %lu points, want %lu\n",
				name, b->line[i], pts, want);
			bad++;
		}
		snprintf(at, sizeof(at), "shim_body.c:%d ", b->line[i]);
		if (want && (!b->site[i] || !strstr(b->site[i], at))) {
			fprintf(stderr, "FAIL %s: site '%s', want '%s...'\n",
				name, b->site[i] ? b->site[i] : "(null)", at);
			bad++;
		}
	}
	return bad;
}

int main(void)
{
	unsigned long start;
	unsigned ops = 0;
	int bad = 0;

	lab_body_plain(&plain);
	if (lab_test_count(&lab_test_points) || lab_test_active_calls) {
		fprintf(stderr, "FAIL: the plain build reached the contract\n");
		bad++;
	}
	start = lab_test_count(&lab_test_points);
	lab_body_instrumented(&quiet);
	bad += compare(&quiet, "outside a schedule", start, 0);
	if (!lab_test_active_calls) {
		fprintf(stderr,
			"FAIL: the shim never asked lab_sched_active\n");
		bad++;
	}
	lab_test_active = true;
	start = lab_test_count(&lab_test_points);
	lab_body_instrumented(&scheduled);
	lab_test_active = false;
	bad += compare(&scheduled, "in a schedule", start, 1);
	for (unsigned i = 0; i < plain.n; i++)
		ops += (unsigned)plain.op[i];
	if (bad) {
		fprintf(stderr, "%d failure(s)\n", bad);
		return 1;
	}
	printf("ok: %u records, %u instrumented operations, one point each in "
	       "a schedule, values as without the shim\n",
	       plain.n, ops);
	return 0;
}
