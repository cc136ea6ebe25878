/*
 * fuzz_vp8_desc.c - libFuzzer target for the VP8 payload descriptor and
 * frame header parsers (src/rtp/vp8.c).
 *
 * Invariants checked: a parsed descriptor lies inside the input, is
 * written back no longer than it was read and parses again to the same
 * fields (the writer drops reserved bits and an empty extension byte);
 * the frame header parser reports a header length that fits the input
 * and agrees with the key frame flag; nothing is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/rtp.h"

static bool same(const struct hl_vp8_desc *a, const struct hl_vp8_desc *b)
{
	return a->n == b->n && a->s == b->s && a->pid == b->pid &&
	       a->has_picture_id == b->has_picture_id &&
	       a->picture_id == b->picture_id &&
	       a->picture_id_15 == b->picture_id_15 &&
	       a->has_tl0picidx == b->has_tl0picidx &&
	       a->tl0picidx == b->tl0picidx && a->has_tid == b->has_tid &&
	       a->tid == b->tid && a->y == b->y &&
	       a->has_keyidx == b->has_keyidx && a->keyidx == b->keyidx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0 = hl_mem_outstanding();
	struct hl_vp8_desc d, e;
	struct hl_vp8_frame_info fi;
	uint8_t out[8];
	size_t len;

	if (hl_vp8_desc_parse(data, size, &d) == 0) {
		if (d.len < 1 || d.len > 6 || d.len > size)
			abort();
		if (hl_vp8_desc_write(&d, out, sizeof(out), &len) != 0)
			abort();
		if (len > d.len || hl_vp8_desc_parse(out, len, &e) != 0 ||
		    e.len != len || !same(&d, &e))
			abort();
		/* The frame header follows the descriptor of a first
		 * packet (S = 1, PID = 0). */
		if (d.s && d.pid == 0 &&
		    hl_vp8_frame_info(data + d.len, size - d.len, &fi) == 0 &&
		    fi.header_len > size - d.len)
			abort();
	}
	if (hl_vp8_frame_info(data, size, &fi) == 0) {
		if (fi.header_len != (fi.keyframe ? 10u : 3u) ||
		    fi.header_len > size || fi.version > 7 ||
		    fi.first_part_size > 0x7ffff || fi.width > 0x3fff ||
		    fi.height > 0x3fff || fi.hscale > 3 || fi.vscale > 3)
			abort();
	}
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
