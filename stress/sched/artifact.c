/* artifact.c - artifacts of library tests: write one for a finding, read
 * it back, replay it, shrink it.
 *
 * The file is text, one "key value" per line, then the decisions:
 *
 *   labyrinth-sched-artifact 1
 *   test NAME            the test's name: replay refuses another test
 *   build ID             GNU build id of the object with the test's code
 *   seed N, strategy random|pct|list, depth D, threads N, max-steps N,
 *   stall-steps N, irq-permille N
 *   memory sc|c11, history N, stale-permille N   (optional: an older
 *                        artifact without them is an SC one)
 *   finding-kind K, finding-where W, finding-step N, finding-thread T
 *   decisions N
 *   d 0 1 1 256 ...      up to 16 per line, decimal (labyrinth/sched.h:
 *                        LAB_SCHED_DEC_IRQ is 256 + t, a reads-from
 *                        choice 512 + t + 65536 x store)
 *   end
 *
 * Replay runs the test with the list strategy over the decisions and says
 * whether every decision fitted; shrinking first turns stale reads-from
 * choices into reads of the newest store, then tries, in delta-debugging
 * rounds, to drop injected interrupts and to turn runs of thread
 * decisions into "stay" (no preemption), keeping each candidate that
 * still gives the same finding (kind and site).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "labyrinth/c11.h"

/* ---- which build ---------------------------------------------------------------- */

struct lab_find_id {
	uintptr_t code;
	char *buf;
	size_t len;
	bool found;
};

/* The NT_GNU_BUILD_ID note of a loaded object, as hex. */
static bool lab_note_id(const struct dl_phdr_info *info, const ElfW(Phdr) * ph,
			struct lab_find_id *f)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
	const char *end = p + ph->p_memsz;

	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
		const unsigned char *desc = (const unsigned char *)(nh + 1) +
					    ((nh->n_namesz + 3) & ~3u);
		size_t i, n = 0;

		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    !memcmp(nh + 1, "GNU", 4)) {
			for (i = 0; i < nh->n_descsz && n + 3 < f->len; i++)
				n += (size_t)snprintf(f->buf + n, f->len - n,
						      "%02x", desc[i]);
			return n > 0;
		}
		p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
	}
	return false;
}

static int lab_object_of(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lab_find_id *f = arg;
	bool mine = false;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && f->code >= lo &&
		    f->code < lo + ph->p_memsz)
			mine = true;
	}
	for (i = 0; mine && i < info->dlpi_phnum && !f->found; i++)
		if (info->dlpi_phdr[i].p_type == PT_NOTE)
			f->found = lab_note_id(info, &info->dlpi_phdr[i], f);
	return mine;
}

void lab_sched_build_id(const void *code, char *buf, size_t len)
{
	struct lab_find_id f = { (uintptr_t)code, buf, len, false };

	dl_iterate_phdr(lab_object_of, &f);
	if (!f.found)
		snprintf(buf, len, "unknown");
}

static void lab_test_build_id(const struct lab_sched_test *t, char *buf,
			      size_t len)
{
	lab_sched_build_id(t->nthreads ? (const void *)t->threads[0].fn : NULL,
			   buf, len);
}

/* ---- writing ---------------------------------------------------------------------- */

static const char *const lab_strategies[] = { "random", "pct", "list" };
static const char *const lab_memories[] = { "sc", "c11" };

static unsigned lab_history_or_default(unsigned h)
{
	return h ? h : LAB_C11_HISTORY_DEFAULT;
}

int lab_sched_artifact_write(const char *path, const struct lab_sched_test *t,
			     const struct lab_sched_outcome *out)
{
	char tmp[4096], id[64];
	FILE *f;
	uint64_t i;
	int ret = 0;

	if (!out->found)
		return -EINVAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	if (!(f = fopen(tmp, "w")))
		return -errno;
	lab_test_build_id(t, id, sizeof(id));
	fprintf(f,
		"labyrinth-sched-artifact 1\ntest %s\nbuild %s\nseed %" PRIu64
		"\nstrategy %s\ndepth %u\nthreads %u\nmax-steps %" PRIu64
		"\nstall-steps %" PRIu64 "\nirq-permille %u\n",
		t->name ? t->name : "unnamed", id, t->seed,
		lab_strategies[t->strategy], t->depth, t->nthreads,
		t->max_steps, t->stall_steps, t->irq_permille);
	fprintf(f, "memory %s\nhistory %u\nstale-permille %u\n",
		lab_memories[t->memory == LAB_SCHED_MEM_C11],
		lab_history_or_default(t->history), t->stale_permille);
	fprintf(f,
		"finding-kind %s\nfinding-where %s\nfinding-step %" PRIu64
		"\nfinding-thread %d\ndecisions %" PRIu64 "\n",
		out->finding.kind, out->finding.where, out->finding.step,
		out->finding.thread, out->ntrace);
	for (i = 0; i < out->ntrace; i++)
		fprintf(f, "%s%u%s", i % 16 ? " " : "d ", out->trace[i],
			i % 16 == 15 || i + 1 == out->ntrace ? "\n" : "");
	fprintf(f, "end\n");
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* ---- reading ------------------------------------------------------------------------ */

/* One "key value" line into a; -1 with err naming the line on error. */
static int lab_art_field(struct lab_sched_artifact *a, const char *key,
			 const char *val, char *err, size_t errlen)
{
	char *end = NULL;
	unsigned long long v = 0;
	int i;

	if (!strcmp(key, "test"))
		return snprintf(a->test, sizeof(a->test), "%s", val) < 0;
	if (!strcmp(key, "build"))
		return snprintf(a->build, sizeof(a->build), "%s", val) < 0;
	if (!strcmp(key, "finding-kind"))
		return snprintf(a->finding.kind, sizeof(a->finding.kind), "%s",
				val) < 0;
	if (!strcmp(key, "finding-where"))
		return snprintf(a->finding.where, sizeof(a->finding.where),
				"%s", val) < 0;
	if (!strcmp(key, "strategy")) {
		for (i = 0; i < 3; i++)
			if (!strcmp(val, lab_strategies[i])) {
				a->strategy = (enum lab_sched_strategy)i;
				return 0;
			}
		snprintf(err, errlen, "strategy '%s' is not random, pct, list",
			 val);
		return -1;
	}
	if (!strcmp(key, "memory")) {
		for (i = 0; i < 2; i++)
			if (!strcmp(val, lab_memories[i])) {
				a->memory = (enum lab_sched_memory)i;
				return 0;
			}
		snprintf(err, errlen, "memory '%.40s' is not sc or c11", val);
		return -1;
	}
	if (!strcmp(key, "finding-thread")) {
		a->finding.thread = (int)strtol(val, &end, 10);
		return *val && !*end ? 0 :
				       (snprintf(err, errlen,
						 "finding-thread '%s' is "
						 "not a number",
						 val),
					-1);
	}
	errno = 0;
	if (*val >= '0' && *val <= '9')
		v = strtoull(val, &end, 10);
	if (!end || *end || errno) {
		snprintf(err, errlen, "%s '%s' is not a number", key, val);
		return -1;
	}
	if (!strcmp(key, "seed"))
		a->seed = v;
	else if (!strcmp(key, "depth"))
		a->depth = (unsigned)v;
	else if (!strcmp(key, "threads"))
		a->threads = (unsigned)v;
	else if (!strcmp(key, "max-steps"))
		a->max_steps = v;
	else if (!strcmp(key, "stall-steps"))
		a->stall_steps = v;
	else if (!strcmp(key, "irq-permille"))
		a->irq_permille = (unsigned)v;
	else if (!strcmp(key, "history") &&
		 (v < 1 || v > LAB_C11_HISTORY_MAX))
		return snprintf(err, errlen,
				"history %llu is out of range 1..%u", v,
				LAB_C11_HISTORY_MAX),
		       -1;
	else if (!strcmp(key, "history"))
		a->history = (unsigned)v;
	else if (!strcmp(key, "stale-permille") && v > 1000)
		return snprintf(err, errlen,
				"stale-permille %llu is out of range 0..1000",
				v),
		       -1;
	else if (!strcmp(key, "stale-permille"))
		a->stale_permille = (unsigned)v;
	else if (!strcmp(key, "finding-step"))
		a->finding.step = v;
	else if (!strcmp(key, "decisions") && v <= 100000000ull)
		a->ndecisions = v;
	else {
		snprintf(err, errlen, "unknown field '%s'", key);
		return -1;
	}
	return 0;
}

/* A "d ..." line: decisions appended at *n (at most a->ndecisions). */
static int lab_art_decisions(struct lab_sched_artifact *a, char *val,
			     uint64_t *n, char *err, size_t errlen)
{
	char *tok, *save = NULL, *end;

	for (tok = strtok_r(val, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		unsigned long d;

		errno = 0;
		d = strtoul(tok, &end, 10);
		if (*tok >= '0' && *tok <= '9' && !*end && !errno &&
		    d <= UINT32_MAX && LAB_SCHED_DEC_IS_READ(d) &&
		    !lab_sched_decision_valid((lab_sched_decision_t)d)) {
			snprintf(err, errlen,
				 "decision '%.24s' is a malformed reads-from "
				 "choice (store %lu, flags 0x%lx)",
				 tok, d >> LAB_SCHED_DEC_READ_SHIFT,
				 d & 0xff00ul);
			return -1;
		}
		if (LAB_SCHED_DEC_IS_READ(d) && !*end &&
		    a->memory != LAB_SCHED_MEM_C11) {
			snprintf(err, errlen,
				 "decision '%.24s' is a reads-from choice in an "
				 "artifact of memory sc",
				 tok);
			return -1;
		}
		if (*end || *tok < '0' || *tok > '9' || errno ||
		    d > UINT32_MAX ||
		    !lab_sched_decision_valid((lab_sched_decision_t)d) ||
		    *n >= a->ndecisions) {
			snprintf(err, errlen,
				 "decision '%.24s' is bad or one too many", tok);
			return -1;
		}
		a->decisions[(*n)++] = (lab_sched_decision_t)d;
	}
	return 0;
}

int lab_sched_artifact_read(const char *path, struct lab_sched_artifact *a,
			    char *err, size_t errlen)
{
	char line[1024], why[256] = "";
	unsigned lineno = 0;
	uint64_t n = 0;
	bool ended = false;
	FILE *f = fopen(path, "r");

	memset(a, 0, sizeof(*a));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!ended && !*why && fgets(line, sizeof(line), f)) {
		char *val = strchr(line, ' ');

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (lineno == 1) {
			if (strcmp(line, "labyrinth-sched-artifact 1"))
				snprintf(why, sizeof(why),
					 "not a labyrinth scheduler artifact");
			continue;
		}
		if (!strcmp(line, "end")) {
			ended = true;
			continue;
		}
		if (!val) {
			snprintf(why, sizeof(why), "'%.64s' has no value",
				 line);
			break;
		}
		*val++ = 0;
		if (!strcmp(line, "d")) {
			if (!a->decisions)
				a->decisions = calloc(a->ndecisions + 1,
						      sizeof(*a->decisions));
			if (a->decisions)
				lab_art_decisions(a, val, &n, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "out of memory");
		} else {
			lab_art_field(a, line, val, why, sizeof(why));
		}
	}
	fclose(f);
	if (!*why && !ended) {
		snprintf(why, sizeof(why), "truncated (no 'end' line)");
		lineno = 0;
	} else if (!*why && n != a->ndecisions) {
		snprintf(why, sizeof(why),
			 "%" PRIu64 " decisions, %" PRIu64 " announced", n,
			 a->ndecisions);
		lineno = 0;
	}
	if (*why) {
		if (lineno)
			snprintf(err, errlen, "%s: line %u: %s", path, lineno,
				 why);
		else
			snprintf(err, errlen, "%s: %s", path, why);
		lab_sched_artifact_free(a);
		return -1;
	}
	return 0;
}

void lab_sched_artifact_free(struct lab_sched_artifact *a)
{
	free(a->decisions);
	a->decisions = NULL;
	a->ndecisions = 0;
}

/* ---- replay and shrink ------------------------------------------------------------------ */

int lab_sched_artifact_check(const struct lab_sched_test *t,
			     const struct lab_sched_artifact *a, char *err,
			     size_t errlen)
{
	char id[64];
	const char *name = t->name ? t->name : "unnamed";

	if (strcmp(a->test, name)) {
		snprintf(err, errlen,
			 "sched: the artifact is of test '%s', not '%s'",
			 a->test, name);
		return -EINVAL;
	}
	lab_test_build_id(t, id, sizeof(id));
	if (strcmp(a->build, id)) {
		snprintf(
			err, errlen,
			"sched: the artifact of test '%s' was recorded with "
			"another build of its code (build id %s, this one %s): "
			"it would not replay exactly",
			name, a->build, id);
		return -EINVAL;
	}
	if (a->threads != t->nthreads) {
		snprintf(err, errlen,
			 "sched: the artifact of test '%s' has %u threads, the "
			 "test %u",
			 name, a->threads, t->nthreads);
		return -EINVAL;
	}
	return 0;
}

/* The test as the artifact recorded it, following list[0..n). */
static struct lab_sched_test lab_replay_test(const struct lab_sched_test *t,
					     const struct lab_sched_artifact *a,
					     const lab_sched_decision_t *list,
					     uint64_t n)
{
	struct lab_sched_test r = *t;

	r.strategy = LAB_SCHED_LIST;
	r.seed = a->seed;
	r.depth = a->depth;
	r.max_steps = a->max_steps;
	r.stall_steps = a->stall_steps;
	r.irq_permille = a->irq_permille;
	r.memory = a->memory;
	r.history = a->history;
	r.stale_permille = a->stale_permille;
	r.list = list;
	r.nlist = n;
	return r;
}

int lab_sched_replay(const struct lab_sched_test *t,
		     const struct lab_sched_artifact *a,
		     struct lab_sched_outcome *out)
{
	struct lab_sched_test r;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = lab_sched_artifact_check(t, a, out->error,
					    sizeof(out->error))))
		return ret;
	r = lab_replay_test(t, a, a->decisions, a->ndecisions);
	ret = lab_sched_run_test(&r, out);
	out->exact = !ret && out->diverged_at == UINT64_MAX && out->found &&
		     !strcmp(out->finding.kind, a->finding.kind) &&
		     !strcmp(out->finding.where, a->finding.where) &&
		     out->finding.step == a->finding.step;
	return ret;
}

/* Whether list[0..n) still gives a's finding; its trace into *keep. */
static bool lab_still_fails(const struct lab_sched_test *t,
			    const struct lab_sched_artifact *a,
			    const lab_sched_decision_t *list, uint64_t n,
			    struct lab_sched_outcome *keep)
{
	struct lab_sched_test r = lab_replay_test(t, a, list, n);
	struct lab_sched_outcome out;
	bool same;

	if (lab_sched_run_test(&r, &out))
		return false;
	same = out.found && !strcmp(out.finding.kind, a->finding.kind) &&
	       !strcmp(out.finding.where, a->finding.where);
	if (same) {
		lab_sched_outcome_free(keep);
		*keep = out;
	} else {
		lab_sched_outcome_free(&out);
	}
	return same;
}

/* What shrinking minimises: injected interrupts, switches between
 * threads, and reads of an older store than the newest.  A reads-from
 * choice carries the thread that reads, so a thread decision after one
 * compares with the thread that ran. */
static uint64_t lab_shrink_cost(const lab_sched_decision_t *d, uint64_t n)
{
	uint64_t i, p = 0;

	for (i = 0; i < n; i++) {
		if (LAB_SCHED_DEC_IS_READ(d[i]))
			p += LAB_SCHED_DEC_READ_INDEX(d[i]) != 0;
		else
			p += (d[i] & LAB_SCHED_DEC_IRQ) ||
			     (i && (d[i] & LAB_SCHED_DEC_THREAD) !=
					   (d[i - 1] & LAB_SCHED_DEC_THREAD));
	}
	return p;
}

/* Decision k made simpler: a reads-from choice reads the newest store, a
 * thread decision lets the thread that ran before go on ("stay"). */
static lab_sched_decision_t lab_simpler_decision(const lab_sched_decision_t *d,
						 uint64_t k)
{
	if (LAB_SCHED_DEC_IS_READ(d[k]))
		return d[k] & (LAB_SCHED_DEC_READ | LAB_SCHED_DEC_THREAD);
	return k ? d[k - 1] & LAB_SCHED_DEC_THREAD : d[k] & LAB_SCHED_DEC_THREAD;
}

/* One ddmin round over the last kept trace: chunks of the decisions that
 * `pick` selects made simpler, each candidate kept if the finding comes
 * back and it costs less. */
static void lab_shrink_round(const struct lab_sched_test *t,
			     const struct lab_sched_artifact *in,
			     bool reads_only, unsigned budget, unsigned *runs,
			     struct lab_sched_outcome *out)
{
	uint64_t chunk, i, k;
	lab_sched_decision_t *cand;

	for (chunk = out->ntrace; chunk >= 1 && *runs < budget; chunk /= 2) {
		for (i = 0; i < out->ntrace && *runs < budget; i += chunk) {
			uint64_t m = out->ntrace;
			bool changed = false;

			if (!(cand = malloc((m ? m : 1) * sizeof(*cand))))
				return;
			memcpy(cand, out->trace, m * sizeof(*cand));
			for (k = i; k < i + chunk && k < m; k++) {
				lab_sched_decision_t d;

				if (reads_only != LAB_SCHED_DEC_IS_READ(cand[k]))
					continue;
				d = lab_simpler_decision(cand, k);
				changed |= cand[k] != d;
				cand[k] = d;
			}
			if (changed && lab_shrink_cost(cand, m) <
					       lab_shrink_cost(out->trace, m)) {
				(*runs)++;
				lab_still_fails(t, in, cand, m, out);
			}
			free(cand);
		}
		if (chunk == 1)
			break;
	}
}

int lab_sched_shrink(const struct lab_sched_test *t,
		     const struct lab_sched_artifact *in, unsigned budget,
		     struct lab_sched_outcome *out)
{
	unsigned runs = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = lab_sched_artifact_check(t, in, out->error,
					    sizeof(out->error))))
		return ret;
	if (!lab_still_fails(t, in, in->decisions, in->ndecisions, out)) {
		snprintf(out->error, sizeof(out->error),
			 "sched: the artifact's finding %s at %s does not "
			 "come back: nothing to shrink",
			 in->finding.kind, in->finding.where);
		return -ESRCH;
	}
	/* Each round starts from the last kept trace (followed exactly):
	 * stale reads first (each one undone changes little else), then
	 * interrupts and preemptions. */
	lab_shrink_round(t, in, true, budget, &runs, out);
	lab_shrink_round(t, in, false, budget, &runs, out);
	out->exact = true;
	return 0;
}
