/* latency.c - latency histograms of the free-running mode.
 *
 * A histogram has fixed buckets: values below 4 ns one each, then every
 * power of two split into 4 equal steps, so a bucket is at most 25% wide
 * relative to its lower edge and 252 buckets cover all of uint64_t.
 * Adding is a few instructions with no allocation, lock or atomic: each
 * histogram has one writer (a worker in process context, or the
 * interrupts on that worker's thread, which never nest), and main reads
 * it after the join.  So it is safe inside a signal handler.
 *
 * Percentiles are read back as the upper edge of the bucket that holds
 * the rank (never more than the maximum seen): "p99 <= this", within 25%.
 */
#define _GNU_SOURCE /* pthread_barrier_t in free_run.h */
#include <string.h>

#include "free_run.h"

/* Bucket of v: v itself below 4, else 4 per power of two. */
static unsigned lab_lat_bucket(uint64_t v)
{
	unsigned msb;

	if (v < LAB_LAT_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	return LAB_LAT_SUB * (msb - 1) +
	       (unsigned)((v >> (msb - 2)) & (LAB_LAT_SUB - 1));
}

/* The largest value bucket b holds. */
static uint64_t lab_lat_upper(unsigned b)
{
	unsigned msb, sub;

	if (b < LAB_LAT_SUB)
		return b;
	msb = b / LAB_LAT_SUB + 1;
	sub = b % LAB_LAT_SUB;
	return (((uint64_t)(LAB_LAT_SUB + sub) << (msb - 2)) - 1) +
	       ((uint64_t)1 << (msb - 2));
}

void lab_lat_add(struct lab_lat_hist *h, uint64_t ns)
{
	h->bucket[lab_lat_bucket(ns)]++;
	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void lab_lat_merge(struct lab_lat_hist *into, const struct lab_lat_hist *h)
{
	unsigned b;

	for (b = 0; b < LAB_LAT_BUCKETS; b++)
		into->bucket[b] += h->bucket[b];
	into->n += h->n;
	into->sum_ns += h->sum_ns;
	if (h->max_ns > into->max_ns)
		into->max_ns = h->max_ns;
}

uint64_t lab_lat_quantile(const struct lab_lat_hist *h, unsigned per_100k)
{
	/* rank of the quantile, 1-based: ceil(n * q) */
	uint64_t rank = (h->n * per_100k + 99999) / 100000, seen = 0;
	unsigned b;

	if (!h->n)
		return 0;
	if (!rank)
		rank = 1;
	for (b = 0; b < LAB_LAT_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t up = lab_lat_upper(b);

			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

void lab_lat_summarize(const struct lab_lat_hist *h, const char *cls,
		       const char *context, struct lab_latency *out)
{
	memset(out, 0, sizeof(*out));
	lab_fit(out->cls, sizeof(out->cls), "%s", cls);
	lab_fit(out->context, sizeof(out->context), "%s", context);
	out->count = h->n;
	out->p50_ns = lab_lat_quantile(h, 50000);
	out->p90_ns = lab_lat_quantile(h, 90000);
	out->p99_ns = lab_lat_quantile(h, 99000);
	out->p999_ns = lab_lat_quantile(h, 99900);
	out->max_ns = h->max_ns;
	out->mean_ns = h->n ? h->sum_ns / h->n : 0;
}
