/*
 * fuzz_sframe_header.c - libFuzzer target for the SFrame header codec
 * (RFC 9605 §4.3).
 *
 * Invariants checked (abort() on violation):
 *  1. decode never reads past len and, when it succeeds, reports a header
 *     length of 1..HL_SFRAME_HEADER_MAX within the input;
 *  2. canonical form: RFC 9605 requires the minimum encoding ("MUST be
 *     encoded with the minimum number of bytes", values 0-7 in the config
 *     byte) and the decoder rejects anything else, so a successful decode
 *     re-encodes to exactly the bytes it consumed; decoding just those
 *     bytes gives the same result and one byte fewer is HL_EPARSE;
 *  3. completeness: if decode fails although the input is as long as the
 *     config byte says, the raw values read from it must NOT re-encode to
 *     those bytes (i.e. only non-minimal encodings are refused);
 *  4. encode -> decode round-trips any (KID, CTR) taken from the input,
 *     with the minimal length;
 *  5. no hl_malloc block is leaked.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/sframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Minimal length of an extended field for v (0 when v fits the config). */
static size_t field_len(uint64_t v)
{
	size_t n = 0;

	if (v < 8)
		return 0;
	while (n < 8 && (n == 0 || (v >> (8 * n)) != 0))
		n++;
	return n;
}

static uint64_t read_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void check_decode(const uint8_t *data, size_t size)
{
	uint8_t enc[HL_SFRAME_HEADER_MAX];
	uint64_t kid = 0, ctr = 0, k2 = 0, c2 = 0;
	size_t hl = 0, n = 0, hl2 = 0;
	int err;

	err = hl_sframe_header_decode(data, size, &kid, &ctr, &hl);
	if (err == 0) {
		if (hl < 1 || hl > HL_SFRAME_HEADER_MAX || hl > size)
			abort();
		if (hl_sframe_header_encode(kid, ctr, enc, sizeof(enc), &n) ||
		    n != hl || memcmp(enc, data, hl) != 0)
			abort();
		if (hl_sframe_header_decode(data, hl, &k2, &c2, &hl2) ||
		    k2 != kid || c2 != ctr || hl2 != hl)
			abort();
		if (hl_sframe_header_decode(data, hl - 1, &k2, &c2, &hl2) !=
		    HL_EPARSE)
			abort();
		return;
	}
	if (err != HL_EPARSE)
		abort();
	if (size >= 1) {
		/* Config byte: X | K(3) | Y | C(3). */
		uint8_t cfg = data[0];
		size_t klen = (cfg & 0x80) ? ((cfg >> 4) & 7) + 1u : 0;
		size_t clen = (cfg & 0x08) ? (cfg & 7) + 1u : 0;
		uint64_t k, c;

		if (size < 1 + klen + clen)
			return; /* truncated: rightly refused */
		k = klen ? read_be(data + 1, klen) : (uint64_t)(cfg >> 4) & 7;
		c = clen ? read_be(data + 1 + klen, clen) : (uint64_t)cfg & 7;
		if (hl_sframe_header_encode(k, c, enc, sizeof(enc), &n))
			abort();
		if (n == 1 + klen + clen && memcmp(enc, data, n) == 0)
			abort(); /* a canonical header was refused */
	}
}

static void check_encode(uint64_t kid, uint64_t ctr)
{
	uint8_t enc[HL_SFRAME_HEADER_MAX + 1];
	uint64_t k = 0, c = 0;
	size_t n = 0, hl = 0, want = 1 + field_len(kid) + field_len(ctr);

	if (hl_sframe_header_encode(kid, ctr, enc, sizeof(enc), &n) ||
	    n != want)
		abort();
	if (hl_sframe_header_decode(enc, n, &k, &c, &hl) || k != kid ||
	    c != ctr || hl != n)
		abort();
	if (hl_sframe_header_encode(kid, ctr, enc, n - 1, &hl) != HL_EINVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0 = hl_mem_outstanding();

	check_decode(data, size);
	if (size >= 16)
		check_encode(read_be(data, 8), read_be(data + 8, 8));
	else if (size >= 2)
		check_encode(read_be(data, size / 2),
			     read_be(data + size / 2, size - size / 2));
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
