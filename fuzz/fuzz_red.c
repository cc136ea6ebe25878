/*
 * fuzz_red.c - libFuzzer target for the RFC 2198 RED parser
 * (src/rtp/red.c).
 *
 * Invariants: a successful parse yields 1..HL_RED_MAX_BLOCKS blocks whose
 * data lie inside the input, back to back after the headers, ending at
 * the input's end, with the primary last; writing them back reproduces
 * the input exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/rtp.h"

static uint8_t out[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_red_block b[HL_RED_MAX_BLOCKS];
	size_t n, len, hdr;
	const uint8_t *next;

	if (hl_red_parse(data, size, b, HL_RED_MAX_BLOCKS, &n) != 0)
		return 0;
	if (n < 1 || n > HL_RED_MAX_BLOCKS || b[n - 1].ts_offset != 0)
		abort();
	hdr = 4 * (n - 1) + 1;
	next = data + hdr;
	for (size_t i = 0; i < n; i++) {
		if (b[i].data != next || b[i].data + b[i].len > data + size)
			abort();
		next += b[i].len;
	}
	if (next != data + size)
		abort();
	if (hl_red_write(b, n, out, sizeof(out), &len) != 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	return 0;
}
