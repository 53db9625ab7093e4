/* free_check.c - how the free-running mode knows something went wrong.
 *
 * Stamps: every frame of a block handed out is stamped at its start with
 * (magic, owner, sequence, frame address), and every stamp is verified
 * just before the block is freed.  A frame the allocator gave to two
 * owners at once carries the later owner's stamp when the earlier one
 * frees it: a `stamp-mismatch` finding.
 *
 * Reports: the maze's report hook.  Deliberate misuse is announced on the
 * calling thread first (lab_fr_expect); the one report it must cause is
 * counted, and every other report is a finding.
 *
 * Everything here may run in a signal handler (the interrupt service
 * routine frees and checks blocks too): no locks, no stdio, no malloc;
 * findings go to a fixed array, claimed with an atomic counter and
 * published with a release store.  Only lab_fr_findings, called after the
 * workers are joined, formats with stdio.
 */
#define _GNU_SOURCE /* pthread_barrier_t in free_run.h */
#include <stdio.h>
#include <string.h>

#include "free_run.h"

#define LAB_FR_STAMP_MAGIC 0x6c61627972696e74ull /* "labyrint" */

struct lab_fr_stamp {
	uint64_t magic, owner, seq, addr;
};

static _Thread_local struct lab_fr_worker *lab_fr_me;
static _Thread_local int lab_fr_expected = -1;
static _Thread_local int lab_fr_expected_det = -1; /* -1: any detector */
/* lab_fr_expect_repeat: every report of the detector until met */
static _Thread_local bool lab_fr_repeat;
static _Thread_local unsigned lab_fr_repeat_hits;

void lab_fr_set_self(struct lab_fr_worker *w)
{
	lab_fr_me = w;
}

struct lab_fr_worker *lab_fr_self(void)
{
	return lab_fr_me;
}

/* ---- findings --------------------------------------------------------------------- */

void lab_fr_note(struct lab_fr *fr, const char *kind, const char *where,
		 const char *message)
{
	unsigned i =
		atomic_fetch_add_explicit(&fr->nrec, 1, memory_order_relaxed);
	struct lab_fr_finding *f;
	size_t n;

	if (i >= LAB_FR_FINDINGS_MAX)
		return; /* counted, not kept */
	f = &fr->rec[i];
	f->kind = kind;
	f->where = where;
	f->thread = lab_fr_me ? (int)lab_fr_me->idx : -1;
	f->op = lab_fr_me ? lab_fr_me->nops : 0;
	for (n = 0; message[n] && n + 1 < sizeof(f->message); n++)
		f->message[n] = message[n];
	f->message[n] = '\0';
	/* release pairs with the acquire in lab_fr_findings: the reader
	 * sees the record complete. */
	atomic_store_explicit(&f->ready, true, memory_order_release);
}

unsigned lab_fr_findings(struct lab_fr *fr, struct lab_finding *first)
{
	unsigned n = atomic_load_explicit(&fr->nrec, memory_order_relaxed);
	const struct lab_fr_finding *f = &fr->rec[0];

	memset(first, 0, sizeof(*first));
	first->thread = -1;
	if (!n || !atomic_load_explicit(&f->ready, memory_order_acquire))
		return n;
	snprintf(first->kind, sizeof(first->kind), "%s", f->kind);
	snprintf(first->where, sizeof(first->where), "%s", f->where);
	snprintf(first->message, sizeof(first->message), "%s", f->message);
	first->step = f->op;
	first->thread = f->thread;
	return n;
}

/* ---- reports ------------------------------------------------------------------------ */

void lab_fr_expect(int kind)
{
	lab_fr_expected = kind;
	lab_fr_expected_det = -1;
	lab_fr_repeat = false;
}

void lab_fr_expect_detector(unsigned det)
{
	lab_fr_expected = (int)lab_detector_kind(det);
	lab_fr_expected_det = (int)det;
}

void lab_fr_expect_repeat(unsigned det)
{
	lab_fr_expect_detector(det);
	lab_fr_repeat = true;
	lab_fr_repeat_hits = 0;
}

/* The announcement in one int: repeat << 16 | (detector + 1) << 8 |
 * (kind & 0xff). */
int lab_fr_expect_save(void)
{
	int saved = (int)lab_fr_repeat << 16 | (lab_fr_expected_det + 1) << 8 |
		    (lab_fr_expected & 0xff);

	lab_fr_expected = -1;
	lab_fr_expected_det = -1;
	lab_fr_repeat = false;
	return saved;
}

void lab_fr_expect_restore(int saved)
{
	lab_fr_expected = (saved & 0xff) == 0xff ? -1 : saved & 0xff;
	lab_fr_expected_det = ((saved >> 8) & 0xff) - 1;
	lab_fr_repeat = saved >> 16;
}

bool lab_fr_expect_met(void)
{
	bool met = lab_fr_expected == -1 ||
		   (lab_fr_repeat && lab_fr_repeat_hits > 0);

	lab_fr_expected = -1;
	lab_fr_repeat = false;
	return met;
}

void lab_fr_on_report(const struct lab_report *r, void *arg)
{
	struct lab_fr *fr = arg;

	if ((int)r->kind == lab_fr_expected) {
		if (lab_fr_expected_det >= 0 &&
		    (int)r->detector != lab_fr_expected_det)
			lab_fr_note(fr, "wrong-detector",
				    lab_detector_name(r->detector), r->message);
		atomic_fetch_add_explicit(&fr->expected_reports, 1,
					  memory_order_relaxed);
		if (lab_fr_repeat) {
			lab_fr_repeat_hits++;
			return;
		}
		lab_fr_expected = -1;
		lab_fr_expected_det = -1;
		return;
	}
	lab_fr_note(fr, lab_report_kind_name(r->kind),
		    r->function ? r->function : "allocator", r->message);
}

/* ---- stamps ---------------------------------------------------------------------------- */

static struct lab_fr_stamp *
lab_fr_frame(struct lab_fr *fr, const struct lab_fr_block *b, uint64_t i)
{
	return (struct lab_fr_stamp *)((char *)b->addr + i * fr->page_size);
}

void lab_fr_stamp(struct lab_fr *fr, const struct lab_fr_block *b)
{
	uint64_t i, frames = (uint64_t)1 << b->order;

	for (i = 0; i < frames; i++) {
		struct lab_fr_stamp *s = lab_fr_frame(fr, b, i);

		s->magic = LAB_FR_STAMP_MAGIC;
		s->owner = b->owner;
		s->seq = b->seq;
		s->addr = (uintptr_t)s;
	}
}

/* Runs in signal handlers too: lab_format, not snprintf. */
static void lab_fr_mismatch(struct lab_fr *fr, const struct lab_fr_block *b,
			    const struct lab_fr_stamp *s, const char *where)
{
	char m[200];
	size_t n = lab_format(m, sizeof(m),
			      "frame %p of an order-%u block held by owner "
			      "%x seq %llu",
			      (const void *)s, b->order, (unsigned)b->owner,
			      (unsigned long long)b->seq);

	if (n >= sizeof(m))
		n = sizeof(m) - 1;
	if (s->magic != LAB_FR_STAMP_MAGIC || s->addr != (uintptr_t)s)
		lab_format(m + n, sizeof(m) - n,
			   " carries no valid stamp (magic %llx)",
			   (unsigned long long)s->magic);
	else
		lab_format(m + n, sizeof(m) - n,
			   " is stamped by owner %x seq %llu: two owners of "
			   "one frame",
			   (unsigned)s->owner, (unsigned long long)s->seq);
	lab_fr_note(fr, "stamp-mismatch", where, m);
}

bool lab_fr_verify(struct lab_fr *fr, const struct lab_fr_block *b,
		   const char *where)
{
	uint64_t i, frames = (uint64_t)1 << b->order;

	atomic_fetch_add_explicit(&fr->stamps_verified, 1,
				  memory_order_relaxed);
	for (i = 0; i < frames; i++) {
		const struct lab_fr_stamp *s = lab_fr_frame(fr, b, i);

		if (s->magic != LAB_FR_STAMP_MAGIC || s->addr != (uintptr_t)s ||
		    s->owner != b->owner || s->seq != b->seq) {
			lab_fr_mismatch(fr, b, s, where);
			return false;
		}
	}
	return true;
}

void lab_fr_free_block(struct lab_fr *fr, const struct lab_fr_block *b,
		       const char *where)
{
	char m[200];
	int ret;

	lab_fr_verify(fr, b, where);
	ret = lab_free_pages_addr(fr->maze, b->addr, b->order);
	if (!ret)
		return;
	lab_format(m, sizeof(m),
		   "free of our own order-%u block %p refused "
		   "with errno %d",
		   b->order, b->addr, -ret);
	lab_fr_note(fr, "free-refused", where, m);
}
