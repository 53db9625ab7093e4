/* fuzz_sched_backend_seeds.c - seeds for fuzz_sched_backend, written with
 * the mirror writer of its input format (fuzz_sched_backend.h): a few
 * programs (seed, threads, length), each without preemption, switched at
 * every decision, and in long runs per thread; one with a reads-from
 * decision (an older store) after every switch, for LAB_FUZZ_MEMORY=c11
 * (in SC mode those bytes are runs of thread decisions).
 */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz_sched_backend.h"
#include "seedgen.h"

#define LAB_FSB_SEED_MAX 512

struct lab_fsb_seed {
	const char *name;
	struct lab_fsb_header h;
	unsigned run; /* decisions per thread before the next one; 0: none */
	bool reads;   /* a reads-from decision of store 1 after each */
};

static const struct lab_fsb_seed lab_fsb_seeds[] = {
	{ "serial-2x8", { 2, 8, 1 }, 0, false },
	{ "alternate-2x8", { 2, 8, 1 }, 1, false },
	{ "alternate-3x12", { 3, 12, 7 }, 1, false },
	{ "runs-4x16", { 4, 16, 42 }, 3, false },
	{ "runs-3x16", { 3, 16, 1234 }, 8, false },
	{ "stale-reads-2x8", { 2, 8, 1 }, 1, true },
};

void lab_seeds_fuzz_sched_backend(const struct lab_seed_sink *sink)
{
	uint8_t buf[LAB_FSB_SEED_MAX];
	size_t i;
	unsigned k;

	for (i = 0; i < sizeof(lab_fsb_seeds) / sizeof(lab_fsb_seeds[0]); i++) {
		const struct lab_fsb_seed *s = &lab_fsb_seeds[i];
		struct lab_fo out;

		lab_fo_init(&out, buf, sizeof(buf));
		lab_fsb_write_header(&out, &s->h);
		for (k = 0; s->run && k < 64; k++) {
			lab_fsb_write_decision(&out, k % s->h.threads, s->run);
			if (s->reads)
				lab_fsb_write_read(&out, 1);
		}
		sink->emit(sink->arg, s->name, buf, out.size);
	}
}
