/*
 * red.c - RTP payload for redundant audio data (RFC 2198).
 *
 * Each redundant block has a 4-byte header
 *     F=1 | block PT (7) | timestamp offset (14) | block length (10)
 * and the primary a 1-byte header F=0 | block PT (7); the block data
 * follow in header order.  hotline sends the previous one or two Opus
 * frames (already SFrame-protected) ahead of the current one, so a lost
 * packet is rebuilt from the next one whatever the audio content.
 */
#include <string.h>

#include "hotline/rtp.h"

int hl_red_parse(const uint8_t *p, size_t len, struct hl_red_block *blocks,
		 size_t cap, size_t *n)
{
	size_t off = 0, nb = 0, data;

	if (!p || !blocks || !n)
		return HL_EINVAL;
	for (;;) {
		if (off >= len || nb >= cap)
			return HL_EPARSE;
		if (!(p[off] & 0x80)) {
			blocks[nb].pt = p[off] & 0x7f;
			blocks[nb].ts_offset = 0;
			off++;
			nb++;
			break;
		}
		if (len - off < 4)
			return HL_EPARSE;
		blocks[nb].pt = p[off] & 0x7f;
		blocks[nb].ts_offset =
			(uint16_t)((p[off + 1] << 6) | (p[off + 2] >> 2));
		blocks[nb].len = (size_t)((p[off + 2] & 3) << 8) | p[off + 3];
		off += 4;
		nb++;
	}
	data = off;
	for (size_t i = 0; i + 1 < nb; i++) {
		if (blocks[i].len > len - data)
			return HL_EPARSE;
		blocks[i].data = p + data;
		data += blocks[i].len;
	}
	blocks[nb - 1].data = p + data;
	blocks[nb - 1].len = len - data;
	*n = nb;
	return 0;
}

int hl_red_write(const struct hl_red_block *blocks, size_t n, uint8_t *out,
		 size_t cap, size_t *len)
{
	size_t need = 1, off = 0;

	if (!blocks || !out || !len || n == 0 || n > HL_RED_MAX_BLOCKS)
		return HL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (blocks[i].pt > 127)
			return HL_EINVAL;
		if (i + 1 < n && (blocks[i].ts_offset > HL_RED_MAX_OFFSET ||
				  blocks[i].len > HL_RED_MAX_LEN))
			return HL_EINVAL;
		need += blocks[i].len + (i + 1 < n ? 4 : 0);
	}
	if (need > cap)
		return HL_ETOOBIG;
	for (size_t i = 0; i + 1 < n; i++) {
		out[off++] = (uint8_t)(0x80 | blocks[i].pt);
		out[off++] = (uint8_t)(blocks[i].ts_offset >> 6);
		out[off++] = (uint8_t)((blocks[i].ts_offset & 0x3f) << 2 |
				       (blocks[i].len >> 8));
		out[off++] = (uint8_t)blocks[i].len;
	}
	out[off++] = blocks[n - 1].pt;
	for (size_t i = 0; i < n; i++) {
		if (blocks[i].len)
			memcpy(out + off, blocks[i].data, blocks[i].len);
		off += blocks[i].len;
	}
	*len = off;
	return 0;
}
