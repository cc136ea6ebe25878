/*
 * rtp.c - the RTP fixed header (RFC 3550 §5.1), first-byte demultiplexing
 * of STUN/DTLS/RTP/RTCP on one flow (RFC 7983, RFC 5761 §4) and the
 * balanced split of a frame into packets.
 *
 * The parser validates every length against the datagram before it
 * reads, never allocates and fills the caller's header only on success;
 * pointers it returns (extension, payload) point into the caller's
 * buffer and live as long as it does.
 */
#include <string.h>

#include "hotline/rtp.h"

#define RTP_VERSION 2

/*
 * Parse an RTP packet (RFC 3550 §5.1, §5.3.1).  pkt is borrowed; on
 * success *h, *payload and *payload_len are set (h->ext and *payload
 * point into pkt).  HL_EPARSE on: fewer than 12 bytes, version != 2,
 * CSRCs or extension running past the end, a padding count of 0 or one
 * larger than what follows the header.  An empty payload is valid.
 */
int hl_rtp_parse(const uint8_t *pkt, size_t len, struct hl_rtp_header *h,
		 const uint8_t **payload, size_t *payload_len)
{
	struct hl_rtp_header r;
	size_t off, pad = 0;

	if (!pkt || !h || !payload || !payload_len)
		return HL_EINVAL;
	if (len < HL_RTP_HEADER_MIN || pkt[0] >> 6 != RTP_VERSION)
		return HL_EPARSE;
	memset(&r, 0, sizeof(r));
	r.csrc_count = pkt[0] & 0x0f;
	r.marker = (pkt[1] & 0x80) != 0;
	r.pt = pkt[1] & 0x7f;
	r.seq = hl_get_be16(pkt + 2);
	r.ts = hl_get_be32(pkt + 4);
	r.ssrc = hl_get_be32(pkt + 8);
	off = HL_RTP_HEADER_MIN;
	if (len - off < 4 * (size_t)r.csrc_count)
		return HL_EPARSE;
	for (unsigned i = 0; i < r.csrc_count; i++, off += 4)
		r.csrc[i] = hl_get_be32(pkt + off);
	if (pkt[0] & 0x10) {
		/* RFC 3550 §5.3.1: profile, length in 32-bit words. */
		size_t words;

		if (len - off < 4)
			return HL_EPARSE;
		r.has_ext = true;
		r.ext_profile = hl_get_be16(pkt + off);
		words = hl_get_be16(pkt + off + 2);
		off += 4;
		if (len - off < 4 * words)
			return HL_EPARSE;
		r.ext = pkt + off;
		r.ext_len = 4 * words;
		off += r.ext_len;
	}
	if (pkt[0] & 0x20) {
		/* RFC 3550 §5.1: the last octet counts the padding, itself
		 * included. */
		pad = pkt[len - 1];
		if (pad == 0 || pad > len - off)
			return HL_EPARSE;
	}
	r.header_len = off;
	r.padding_len = pad;
	*h = r;
	*payload = pkt + off;
	*payload_len = len - off - pad;
	return 0;
}

/*
 * Write h as an RTP header (version 2, P = 0) at out (cap bytes, caller's
 * buffer) and set *len.  CSRCs and, when h->has_ext, the extension
 * (h->ext, h->ext_len bytes) are copied in.  HL_EINVAL for pt > 127,
 * csrc_count > 15, an extension whose length is not a multiple of 4 or
 * exceeds 65535 words, or ext == NULL with ext_len > 0; HL_ETOOBIG if cap
 * is too small.  h->header_len and h->padding_len are ignored.
 */
int hl_rtp_write_header(const struct hl_rtp_header *h, uint8_t *out, size_t cap,
			size_t *len)
{
	size_t need, off;

	if (!h || !out || !len)
		return HL_EINVAL;
	if (h->pt > 0x7f || h->csrc_count > HL_ARRAY_SIZE(h->csrc))
		return HL_EINVAL;
	need = HL_RTP_HEADER_MIN + 4 * (size_t)h->csrc_count;
	if (h->has_ext) {
		if (h->ext_len % 4 || h->ext_len / 4 > 0xffff ||
		    (h->ext_len && !h->ext))
			return HL_EINVAL;
		need += 4 + h->ext_len;
	}
	if (cap < need)
		return HL_ETOOBIG;
	out[0] = (uint8_t)(RTP_VERSION << 6 | (h->has_ext ? 0x10 : 0) |
			   h->csrc_count);
	out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	hl_put_be16(out + 2, h->seq);
	hl_put_be32(out + 4, h->ts);
	hl_put_be32(out + 8, h->ssrc);
	off = HL_RTP_HEADER_MIN;
	for (unsigned i = 0; i < h->csrc_count; i++, off += 4)
		hl_put_be32(out + off, h->csrc[i]);
	if (h->has_ext) {
		hl_put_be16(out + off, h->ext_profile);
		hl_put_be16(out + off + 2, (uint16_t)(h->ext_len / 4));
		off += 4;
		if (h->ext_len)
			memmove(out + off, h->ext, h->ext_len);
		off += h->ext_len;
	}
	*len = off;
	return 0;
}

/*
 * RFC 7983 §7: the first byte tells STUN (0..3), DTLS (20..63) and
 * RTP/RTCP (128..191) apart; ZRTP (16..19) and TURN channels (64..79) are
 * not used by hotline and come back as HL_DEMUX_UNKNOWN.  RTP and RTCP
 * are told apart per RFC 5761 §4: an RTCP packet type in 192..223 sits
 * where an RTP packet has M = 1 and PT 64..95, payload types that MUST
 * NOT be used when multiplexing, so exactly those second bytes are RTCP.
 * (Chromium ignores the marker bit and also takes PT 64..95 with M = 0 as
 * RTCP; both agree on every packet a conforming peer sends.)  Anything
 * shorter than the smallest packet of its kind (RTP 12 bytes, RTCP 4
 * bytes) is unknown.
 */
enum hl_demux hl_demux_classify(const uint8_t *pkt, size_t len)
{
	uint8_t b;

	if (!pkt || len == 0)
		return HL_DEMUX_UNKNOWN;
	b = pkt[0];
	if (b <= 3)
		return HL_DEMUX_STUN;
	if (b >= 20 && b <= 63)
		return HL_DEMUX_DTLS;
	if (b >= 128 && b <= 191 && len >= 2) {
		bool rtcp = pkt[1] >= 192 && pkt[1] <= 223;

		if (rtcp && len >= 4)
			return HL_DEMUX_RTCP;
		if (!rtcp && len >= HL_RTP_HEADER_MIN)
			return HL_DEMUX_RTP;
	}
	return HL_DEMUX_UNKNOWN;
}

/*
 * Number of packets for a frame of len bytes with at most max bytes each:
 * ceil(len / max).  An empty frame still takes one (empty) packet, so
 * that every frame gets a packet carrying its timestamp and marker bit;
 * max == 0 gives 0 (nothing can be carried).
 */
size_t hl_rtp_split_count(size_t len, size_t max)
{
	if (max == 0)
		return 0;
	if (len == 0)
		return 1;
	return len / max + (len % max != 0);
}

/*
 * Size of packet i of count for len bytes: len / count, plus one for the
 * first len % count packets, so sizes differ by at most one byte and the
 * larger ones come first.  0 when count == 0 or i >= count.
 */
size_t hl_rtp_split_size(size_t len, size_t count, size_t i)
{
	if (count == 0 || i >= count)
		return 0;
	return len / count + (i < len % count);
}
