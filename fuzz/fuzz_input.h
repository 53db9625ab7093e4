/* fuzz_input.h - typed values from fuzzer bytes, and the mirror writer the
 * seed generator uses.
 *
 * Any byte string is a valid input: reads past the end return 0 (and
 * lab_fi_done() turns true), nothing is ever read out of bounds, and a
 * target loops only while !lab_fi_done() and under its own step cap, so no
 * input makes it run without bound.  The writer emits exactly the bytes
 * the reader consumes for the same call sequence, so a generated seed
 * decodes to the program it was written from.
 */
#ifndef LAB_FUZZ_INPUT_H
#define LAB_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_coverage.h"

struct lab_fi {
	const uint8_t *data;
	size_t size, pos;
};

static inline void lab_fi_init(struct lab_fi *in, const uint8_t *data,
			       size_t size)
{
	in->data = data;
	in->size = data ? size : 0;
	in->pos = 0;
}

static inline bool lab_fi_done(const struct lab_fi *in)
{
	return in->pos >= in->size;
}

/* Little-endian, n bytes (1..8); missing bytes read as 0.  Outside coverage:
 * the reader is no behaviour of the code under test. */
static inline LAB_FUZZ_NO_COVERAGE uint64_t lab_fi_bytes_le(struct lab_fi *in,
							    unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t b = in->pos < in->size ? in->data[in->pos] : 0;

		if (in->pos < in->size)
			in->pos++;
		v |= b << (8 * i);
	}
	return v;
}

static inline uint8_t lab_fi_u8(struct lab_fi *in)
{
	return (uint8_t)lab_fi_bytes_le(in, 1);
}

static inline uint16_t lab_fi_u16(struct lab_fi *in)
{
	return (uint16_t)lab_fi_bytes_le(in, 2);
}

static inline uint32_t lab_fi_u32(struct lab_fi *in)
{
	return (uint32_t)lab_fi_bytes_le(in, 4);
}

static inline uint64_t lab_fi_u64(struct lab_fi *in)
{
	return lab_fi_bytes_le(in, 8);
}

/* Width in bytes used for a value below n. */
static inline unsigned lab_fi_width(uint64_t n)
{
	return n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x100000000ull ? 4 : 8;
}

/* A value in [0, n); 0 if n is 0. */
static inline uint64_t lab_fi_range(struct lab_fi *in, uint64_t n)
{
	uint64_t v = lab_fi_bytes_le(in, lab_fi_width(n));

	return n ? v % n : 0;
}

static inline bool lab_fi_bool(struct lab_fi *in)
{
	return lab_fi_u8(in) & 1;
}

/* ---- the mirror writer (seed generator, tests) ---------------------------- */

struct lab_fo {
	uint8_t *buf;
	size_t size, cap;
	bool overflow; /* a write did not fit: the seed is truncated */
};

static inline void lab_fo_init(struct lab_fo *out, uint8_t *buf, size_t cap)
{
	out->buf = buf;
	out->size = 0;
	out->cap = cap;
	out->overflow = false;
}

static inline void lab_fo_bytes_le(struct lab_fo *out, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (out->size == out->cap) {
			out->overflow = true;
			return;
		}
		out->buf[out->size++] = (uint8_t)(v >> (8 * i));
	}
}

static inline void lab_fo_u8(struct lab_fo *out, uint8_t v)
{
	lab_fo_bytes_le(out, v, 1);
}

static inline void lab_fo_u16(struct lab_fo *out, uint16_t v)
{
	lab_fo_bytes_le(out, v, 2);
}

static inline void lab_fo_u32(struct lab_fo *out, uint32_t v)
{
	lab_fo_bytes_le(out, v, 4);
}

static inline void lab_fo_u64(struct lab_fo *out, uint64_t v)
{
	lab_fo_bytes_le(out, v, 8);
}

/* Writes v (< n) so that lab_fi_range(in, n) reads it back. */
static inline void lab_fo_range(struct lab_fo *out, uint64_t v, uint64_t n)
{
	lab_fo_bytes_le(out, n ? v % n : 0, lab_fi_width(n));
}

static inline void lab_fo_bool(struct lab_fo *out, bool v)
{
	lab_fo_u8(out, v ? 1 : 0);
}

#endif /* LAB_FUZZ_INPUT_H */
