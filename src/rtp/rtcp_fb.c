/*
 * rtcp_fb.c - RTCP feedback (RFC 4585 §6): generic NACK (RTPFB FMT 1),
 * PLI (PSFB FMT 1) and REMB (PSFB FMT 15 "REMB",
 * draft-alvestrand-rmcat-remb-03 §2.2), the three Chromium exchanges with
 * a peer that does not negotiate transport-cc.  Every other format
 * (transport-cc, FIR, other application-layer feedback...) is
 * HL_RTCP_T_OTHER.
 *
 * NACK packing: the writer takes lost sequence numbers in any order,
 * drops duplicates and orders them around the 16-bit circle starting
 * right after the widest gap between two of them.  That start is the
 * oldest loss whenever the losses span less than half the sequence space
 * (always, for a real stream), so 65534, 65535, 0, 1 is one FCI with
 * PID 65534.  It then packs greedily: a PID, and in its BLP the next 16
 * sequence numbers that are lost, which gives the fewest FCIs for that
 * order.
 */
#include <string.h>

#include "hotline/rtp.h"
#include "rtcp_priv.h"

#define FB_COMMON_LEN  8 /* sender SSRC + media source SSRC */
#define FMT_NACK       1
#define FMT_PLI	       1
#define FMT_AFB	       15
#define REMB_FIXED_LEN 16 /* common + "REMB" + num/exp/mantissa */
#define REMB_MANT_MAX  0x3ffff
#define NACK_FCI_LEN   4

static const uint8_t remb_id[4] = {'R', 'E', 'M', 'B'};

/*
 * RTPFB (RFC 4585 §6.2).  Generic NACK: at least one FCI and a body of
 * whole FCIs; the first HL_RTCP_MAX_NACK_FCI are kept, truncated says
 * more were there.
 */
int hl_rtcp_parse_rtpfb(uint8_t fmt, const uint8_t *b, size_t len,
			struct hl_rtcp_packet *out)
{
	struct hl_rtcp_nack *n = &out->u.nack;
	size_t nfci;

	if (fmt != FMT_NACK) {
		out->type = HL_RTCP_T_OTHER;
		return 0;
	}
	if (len < FB_COMMON_LEN + NACK_FCI_LEN ||
	    (len - FB_COMMON_LEN) % NACK_FCI_LEN)
		return HL_EPARSE;
	out->type = HL_RTCP_T_NACK;
	n->sender_ssrc = hl_get_be32(b);
	n->media_ssrc = hl_get_be32(b + 4);
	nfci = (len - FB_COMMON_LEN) / NACK_FCI_LEN;
	n->truncated = nfci > HL_RTCP_MAX_NACK_FCI;
	n->n_fci = (uint8_t)HL_MIN(nfci, HL_RTCP_MAX_NACK_FCI);
	for (size_t i = 0; i < n->n_fci; i++) {
		const uint8_t *f = b + FB_COMMON_LEN + NACK_FCI_LEN * i;

		n->pid[i] = hl_get_be16(f);
		n->blp[i] = hl_get_be16(f + 2);
	}
	return 0;
}

/*
 * REMB: "REMB", the SSRC count, a 6-bit exponent and an 18-bit mantissa
 * (bitrate = mantissa << exponent; a value that overflows 64 bits is
 * malformed), then the SSRCs, which must all fit.  The first
 * HL_RTCP_MAX_REMB_SSRCS are kept.
 */
static int parse_remb(const uint8_t *b, size_t len, struct hl_rtcp_remb *r)
{
	uint8_t num, exp;
	uint64_t mant;

	if (len < REMB_FIXED_LEN)
		return HL_EPARSE;
	num = b[12];
	exp = b[13] >> 2;
	mant = (uint64_t)(b[13] & 3) << 16 | hl_get_be16(b + 14);
	if ((len - REMB_FIXED_LEN) / 4 < num || (mant << exp) >> exp != mant)
		return HL_EPARSE;
	r->sender_ssrc = hl_get_be32(b);
	r->bitrate_bps = mant << exp;
	r->n_ssrcs = (uint8_t)HL_MIN(num, HL_RTCP_MAX_REMB_SSRCS);
	for (unsigned i = 0; i < r->n_ssrcs; i++)
		r->ssrcs[i] = hl_get_be32(b + REMB_FIXED_LEN + 4 * i);
	return 0;
}

/*
 * PSFB (RFC 4585 §6.3).  PLI has no FCI (extra bytes are ignored, as
 * Chromium does); FMT 15 is REMB when the FCI starts with "REMB", other
 * application-layer feedback otherwise.
 */
int hl_rtcp_parse_psfb(uint8_t fmt, const uint8_t *b, size_t len,
		       struct hl_rtcp_packet *out)
{
	if (fmt == FMT_PLI) {
		if (len < FB_COMMON_LEN)
			return HL_EPARSE;
		out->type = HL_RTCP_T_PLI;
		out->u.pli.sender_ssrc = hl_get_be32(b);
		out->u.pli.media_ssrc = hl_get_be32(b + 4);
		return 0;
	}
	if (fmt == FMT_AFB && len >= FB_COMMON_LEN + 4 &&
	    memcmp(b + FB_COMMON_LEN, remb_id, 4) == 0) {
		out->type = HL_RTCP_T_REMB;
		return parse_remb(b, len, &out->u.remb);
	}
	out->type = HL_RTCP_T_OTHER;
	return 0;
}

static bool map_has(const uint64_t *map, uint16_t s)
{
	return (map[s >> 6] >> (s & 63)) & 1;
}

/* Lowest set position in [lo, hi) of the 65536-bit map, or -1. */
static long map_next(const uint64_t *map, long lo, long hi)
{
	while (lo < hi) {
		uint64_t w = map[lo >> 6] >> (lo & 63);

		if (w) {
			long s = lo + __builtin_ctzll(w);

			return s < hi ? s : -1;
		}
		lo = (lo | 63) + 1;
	}
	return -1;
}

/*
 * Circular offset from start of the first lost number at offset >= d
 * (d < 65536), or -1 when none is left before the circle closes.
 */
static long map_next_offset(const uint64_t *map, uint16_t start, long d)
{
	long pos = (start + d) & 0xffff, s;

	if (pos >= start) {
		s = map_next(map, pos, 65536);
		if (s >= 0)
			return s - start;
		pos = 0;
	}
	s = map_next(map, pos, start);
	return s < 0 ? -1 : s + 65536 - start;
}

/*
 * First sequence number of the circular order described in the file
 * comment: the one that follows the widest gap between lost numbers (the
 * first such one on a tie).  The map holds at least one number.
 */
static uint16_t nack_start(const uint64_t *map)
{
	long first = map_next(map, 0, 65536), prev = first, best_gap = -1;
	uint16_t start = (uint16_t)first;

	for (long s = map_next(map, first + 1, 65536); s >= 0;
	     s = map_next(map, s + 1, 65536)) {
		if (s - prev > best_gap) {
			best_gap = s - prev;
			start = (uint16_t)s;
		}
		prev = s;
	}
	/* The gap that wraps from the highest back to the lowest. */
	if (first + 65536 - prev > best_gap)
		start = (uint16_t)first;
	return start;
}

/*
 * Write a generic NACK (RFC 4585 §6.2.1) for the n lost sequence numbers
 * in seqs (borrowed; any order, duplicates allowed) at out (cap bytes),
 * packed as the file comment says.  HL_EINVAL for n == 0, HL_ETOOBIG if
 * the FCIs do not fit in cap (out may then hold a partial packet).
 */
int hl_rtcp_write_nack(uint32_t sender_ssrc, uint32_t media_ssrc,
		       const uint16_t *seqs, size_t n, uint8_t *out, size_t cap,
		       size_t *len)
{
	uint64_t map[65536 / 64];
	size_t total = HL_RTCP_HDR_LEN + FB_COMMON_LEN;
	uint16_t start;

	if (!seqs || n == 0 || !out || !len)
		return HL_EINVAL;
	memset(map, 0, sizeof(map));
	for (size_t i = 0; i < n; i++)
		map[seqs[i] >> 6] |= (uint64_t)1 << (seqs[i] & 63);
	start = nack_start(map);
	for (long d = 0; (d = map_next_offset(map, start, d)) >= 0; d += 17) {
		uint16_t pid = (uint16_t)(start + d), blp = 0;

		/* The next 16 numbers, not wrapping back to start. */
		for (long k = 1; k <= 16 && d + k < 65536; k++)
			if (map_has(map, (uint16_t)(pid + k)))
				blp |= (uint16_t)(1u << (k - 1));
		if (cap < total + NACK_FCI_LEN)
			return HL_ETOOBIG;
		hl_put_be16(out + total, pid);
		hl_put_be16(out + total + 2, blp);
		total += NACK_FCI_LEN;
		if (d + 17 >= 65536)
			break;
	}
	hl_rtcp_put_header(out, FMT_NACK, HL_RTCP_RTPFB, total);
	hl_put_be32(out + 4, sender_ssrc);
	hl_put_be32(out + 8, media_ssrc);
	*len = total;
	return 0;
}

/* Write a PLI (RFC 4585 §6.3.1): 12 bytes, no FCI. */
int hl_rtcp_write_pli(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *out,
		      size_t cap, size_t *len)
{
	size_t total = HL_RTCP_HDR_LEN + FB_COMMON_LEN;

	if (!out || !len)
		return HL_EINVAL;
	if (cap < total)
		return HL_ETOOBIG;
	hl_rtcp_put_header(out, FMT_PLI, HL_RTCP_PSFB, total);
	hl_put_be32(out + 4, sender_ssrc);
	hl_put_be32(out + 8, media_ssrc);
	*len = total;
	return 0;
}

/*
 * Write a REMB for the n SSRCs (borrowed, at most HL_RTCP_MAX_REMB_SSRCS
 * so that the parser reads back all of them) at out; the media source
 * SSRC is 0 as the draft says.  The bitrate is rounded down to the
 * nearest mantissa << exponent (18-bit mantissa, smallest exponent), so
 * every uint64 value is representable.  HL_EINVAL for too many SSRCs,
 * HL_ETOOBIG if cap is too small.
 */
int hl_rtcp_write_remb(uint32_t sender_ssrc, uint64_t bitrate_bps,
		       const uint32_t *ssrcs, size_t n, uint8_t *out,
		       size_t cap, size_t *len)
{
	size_t total;
	unsigned exp = 0;
	uint32_t mant;

	if (!out || !len || n > HL_RTCP_MAX_REMB_SSRCS || (n && !ssrcs))
		return HL_EINVAL;
	total = HL_RTCP_HDR_LEN + REMB_FIXED_LEN + 4 * n;
	if (cap < total)
		return HL_ETOOBIG;
	while ((bitrate_bps >> exp) > REMB_MANT_MAX)
		exp++;
	mant = (uint32_t)(bitrate_bps >> exp);
	hl_rtcp_put_header(out, FMT_AFB, HL_RTCP_PSFB, total);
	hl_put_be32(out + 4, sender_ssrc);
	hl_put_be32(out + 8, 0);
	memcpy(out + 12, remb_id, 4);
	out[16] = (uint8_t)n;
	out[17] = (uint8_t)(exp << 2 | mant >> 16);
	hl_put_be16(out + 18, (uint16_t)mant);
	for (size_t i = 0; i < n; i++)
		hl_put_be32(out + 20 + 4 * i, ssrcs[i]);
	*len = total;
	return 0;
}

/*
 * Expand n's FCIs into sequence numbers, in FCI order (each PID, then the
 * BLP bits from least to most significant); at most cap are written to
 * seqs, and the number written is returned.  Duplicates between
 * overlapping FCIs are kept.
 */
size_t hl_rtcp_nack_seqs(const struct hl_rtcp_nack *n, uint16_t *seqs,
			 size_t cap)
{
	size_t k = 0;

	if (!n || !seqs)
		return 0;
	for (unsigned i = 0; i < n->n_fci && i < HL_RTCP_MAX_NACK_FCI; i++) {
		if (k == cap)
			return k;
		seqs[k++] = n->pid[i];
		for (unsigned bit = 0; bit < 16; bit++) {
			if (!(n->blp[i] >> bit & 1))
				continue;
			if (k == cap)
				return k;
			seqs[k++] = (uint16_t)(n->pid[i] + bit + 1);
		}
	}
	return k;
}
