/* seed_notation.h - the small text notation the thread-program seed
 * generators (fuzz_sched_seeds.c, fuzz_threads_seeds.c) spell their
 * scenarios in: space-separated tokens, classes as K (KERNEL), N (NOWAIT)
 * and A (ATOMIC).  A malformed token in a seed table is a programming
 * error: the generator names it and aborts.
 */
#ifndef LAB_SEED_NOTATION_H
#define LAB_SEED_NOTATION_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "labyrinth.h"
#include "seedgen.h"

static inline void lab_seed_bad(const char *target, const char *name,
				const char *tok)
{
	fprintf(stderr, "lab_seedgen: %s seed %s: bad token '%s'\n", target,
		name, tok);
	abort();
}

/* The next space-separated token of *s into tok; false at the end. */
static inline bool lab_seed_token(const char **s, char *tok, size_t len)
{
	size_t n = 0;

	while (**s == ' ')
		(*s)++;
	while (**s && **s != ' ' && n + 1 < len)
		tok[n++] = *(*s)++;
	tok[n] = '\0';
	return n > 0;
}

/* K, N or A as a class; false for anything else. */
static inline bool lab_seed_class(char c, uint8_t *cls)
{
	switch (c) {
	case 'K':
		*cls = LAB_CLASS_KERNEL;
		return true;
	case 'N':
		*cls = LAB_CLASS_NOWAIT;
		return true;
	case 'A':
		*cls = LAB_CLASS_ATOMIC;
		return true;
	}
	return false;
}

/* "<class><order>[x]" after an op letter: class, order below `orders`,
 * optional exclusive mark. */
static inline bool lab_seed_alloc_args(const char *s, unsigned orders,
				       uint8_t *cls, uint8_t *order,
				       uint8_t *excl)
{
	char *end;
	unsigned long o;

	if (!lab_seed_class(s[0], cls))
		return false;
	o = strtoul(s + 1, &end, 10);
	*order = (uint8_t)o;
	*excl = *end == 'x';
	return end != s + 1 && o < orders && (!*end || !strcmp(end, "x"));
}

/* "<i>:<t>" (a held block and a thread) after an op letter. */
static inline bool lab_seed_pair_args(const char *s, unsigned *a, unsigned *b)
{
	return sscanf(s, "%u:%u", a, b) == 2;
}

/* Parses one thread's program (NULL = empty): parse(tok, ops, i) fills
 * slot i of the caller's op array.  Returns the op count; aborts naming
 * the seed on a bad token or more than max ops. */
typedef bool (*lab_seed_op_fn)(const char *tok, void *ops, unsigned i);

static inline unsigned lab_seed_program(const char *target, const char *name,
					const char *prog, unsigned max,
					lab_seed_op_fn parse, void *ops)
{
	const char *s = prog ? prog : "";
	unsigned n = 0;
	char tok[16];

	while (lab_seed_token(&s, tok, sizeof(tok))) {
		if (n == max || !parse(tok, ops, n))
			lab_seed_bad(target, name, tok);
		n++;
	}
	return n;
}

/* Hands a finished seed to the sink; one that did not fit is an error. */
static inline void lab_seed_emit(const struct lab_seed_sink *sink,
				 const char *target, const char *name,
				 const struct lab_fo *out)
{
	if (out->overflow)
		lab_seed_bad(target, name, "(too long)");
	sink->emit(sink->arg, name, out->buf, out->size);
}

#endif /* LAB_SEED_NOTATION_H */
