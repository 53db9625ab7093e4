/* seedgen.h - seed generators: each target writes valid seeds with the
 * mirror writer of fuzz_input.h (lab_fo_*), so every seed decodes to the
 * program it was built from.  lab_seedgen TARGET DIR runs one of them. */
#ifndef LAB_SEEDGEN_H
#define LAB_SEEDGEN_H

#include <stddef.h>
#include <stdint.h>

/* Receives one seed: a short name (file name without directory) and its
 * bytes. */
struct lab_seed_sink {
	void (*emit)(void *arg, const char *name, const uint8_t *data,
		     size_t size);
	void *arg;
};

void lab_seeds_fuzz_ops(const struct lab_seed_sink *sink);
void lab_seeds_fuzz_api(const struct lab_seed_sink *sink);
void lab_seeds_fuzz_sched(const struct lab_seed_sink *sink);
void lab_seeds_fuzz_threads(const struct lab_seed_sink *sink);

#endif /* LAB_SEEDGEN_H */
