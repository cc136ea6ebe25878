/*
 * fuzz_rtp.c - libFuzzer target for the RTP header parser, first-byte
 * demultiplexing and RTX unwrapping (src/rtp/rtp.c, rtx.c).
 *
 * Invariants checked: a successful parse accounts for every byte (header
 * + payload + padding == input) and points inside the input; writing the
 * parsed header back gives the input's header bytes (minus the P bit)
 * and parses again to the same fields; nothing is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/rtp.h"

/* Largest header: 12 + 15 CSRCs + extension header + 65535 words. */
static uint8_t out[12 + 60 + 4 + 4 * 65535];

static void check_rtp(const uint8_t *data, size_t size)
{
	struct hl_rtp_header h, g;
	const uint8_t *pl, *pl2;
	size_t pl_len, pl_len2, len;

	if (hl_rtp_parse(data, size, &h, &pl, &pl_len) != 0)
		return;
	if (h.header_len + pl_len + h.padding_len != size ||
	    pl != data + h.header_len || h.csrc_count > 15 ||
	    (h.has_ext && h.ext_len % 4) || (!h.has_ext && h.ext_len))
		abort();
	if (hl_rtp_write_header(&h, out, sizeof(out), &len) != 0)
		abort();
	if (len != h.header_len || out[0] != (data[0] & ~0x20) ||
	    memcmp(out + 1, data + 1, len - 1) != 0)
		abort();
	if (hl_rtp_parse(out, len, &g, &pl2, &pl_len2) != 0)
		abort();
	if (g.marker != h.marker || g.pt != h.pt || g.seq != h.seq ||
	    g.ts != h.ts || g.ssrc != h.ssrc || g.csrc_count != h.csrc_count ||
	    memcmp(g.csrc, h.csrc, 4 * (size_t)h.csrc_count) != 0 ||
	    g.has_ext != h.has_ext || g.ext_profile != h.ext_profile ||
	    g.ext_len != h.ext_len ||
	    (h.ext_len && memcmp(g.ext, h.ext, h.ext_len) != 0) ||
	    g.header_len != len || g.padding_len != 0 || pl_len2 != 0)
		abort();
	if (hl_demux_classify(data, size) == HL_DEMUX_UNKNOWN)
		abort(); /* version 2, 12+ bytes: RTP or RTCP */
}

static void check_rtx(const uint8_t *data, size_t size)
{
	const uint8_t *pl;
	size_t pl_len;
	uint16_t osn;
	int rc = hl_rtx_unwrap(data, size, &osn, &pl, &pl_len);

	if ((rc == 0) != (size >= 2))
		abort();
	if (rc == 0 &&
	    (pl != data + 2 || pl_len != size - 2 || osn != hl_get_be16(data)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0 = hl_mem_outstanding();
	enum hl_demux d = hl_demux_classify(data, size);

	if (d > HL_DEMUX_RTCP)
		abort();
	check_rtp(data, size);
	check_rtx(data, size);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
