/*
 * rtcp.c - compound RTCP iteration and the RFC 3550 §6 packets: SR, RR,
 * SDES (CNAME of the first chunk) and BYE.
 *
 * hl_rtcp_next() walks a compound datagram one packet at a time with the
 * checks of RFC 3550 Appendix A.2 minus the "first packet is SR or RR"
 * rule, which RFC 5506 §3.1 (reduced-size RTCP) lifts: version 2, a
 * length field (32-bit words minus one) that fits what is left, padding
 * only on the last packet.  Packets of types it does not understand are
 * well-formed HL_RTCP_T_OTHER and skipped.  A malformed packet ends the
 * walk with HL_EPARSE.  Feedback (RTPFB/PSFB) lives in rtcp_fb.c.
 *
 * Writers produce exactly what the parsers read back.
 */
#include <string.h>

#include "hotline/rtp.h"
#include "rtcp_priv.h"

#define RTCP_VERSION	   2
#define REPORT_BLOCK_LEN   24
#define SR_SENDER_INFO_LEN 24 /* SSRC + NTP + RTP ts + packet + octet */
#define SDES_ITEM_END	   0
#define SDES_ITEM_CNAME	   1
#define CUM_LOST_MAX	   0x7fffff
#define CUM_LOST_MIN	   (-0x800000)

void hl_rtcp_put_header(uint8_t *out, uint8_t count, uint8_t type, size_t total)
{
	out[0] = (uint8_t)(RTCP_VERSION << 6 | (count & 0x1f));
	out[1] = type;
	hl_put_be16(out + 2, (uint16_t)(total / 4 - 1));
}

/* RFC 3550 §6.4.1 report block, 24 bytes at p. */
static void parse_block(const uint8_t *p, struct hl_rtcp_report_block *b)
{
	uint32_t lost = hl_get_be24(p + 5);

	b->ssrc = hl_get_be32(p);
	b->fraction_lost = p[4];
	/* 24-bit two's complement, sign-extended. */
	b->cumulative_lost = (int32_t)(lost ^ 0x800000) - 0x800000;
	b->ext_highest_seq = hl_get_be32(p + 8);
	b->jitter = hl_get_be32(p + 12);
	b->lsr = hl_get_be32(p + 16);
	b->dlsr = hl_get_be32(p + 20);
}

/* Write a report block; cumulative_lost is clamped to 24-bit signed. */
static void put_block(uint8_t *p, const struct hl_rtcp_report_block *b)
{
	int32_t lost =
		HL_MAX(HL_MIN(b->cumulative_lost, CUM_LOST_MAX), CUM_LOST_MIN);

	hl_put_be32(p, b->ssrc);
	p[4] = b->fraction_lost;
	hl_put_be24(p + 5, (uint32_t)lost & 0xffffff);
	hl_put_be32(p + 8, b->ext_highest_seq);
	hl_put_be32(p + 12, b->jitter);
	hl_put_be32(p + 16, b->lsr);
	hl_put_be32(p + 20, b->dlsr);
}

/*
 * SR (RFC 3550 §6.4.1): sender info then rc report blocks; the blocks
 * must fit in the body.  Bytes after them are a profile-specific
 * extension and are skipped.
 */
static int parse_sr(uint8_t rc, const uint8_t *b, size_t len,
		    struct hl_rtcp_sr *sr)
{
	if (len < SR_SENDER_INFO_LEN ||
	    (len - SR_SENDER_INFO_LEN) / REPORT_BLOCK_LEN < rc)
		return HL_EPARSE;
	sr->ssrc = hl_get_be32(b);
	sr->ntp = hl_get_be64(b + 4);
	sr->rtp_ts = hl_get_be32(b + 12);
	sr->packet_count = hl_get_be32(b + 16);
	sr->octet_count = hl_get_be32(b + 20);
	sr->n_blocks = rc;
	for (unsigned i = 0; i < rc; i++)
		parse_block(b + SR_SENDER_INFO_LEN + i * REPORT_BLOCK_LEN,
			    &sr->blocks[i]);
	return 0;
}

/* RR (RFC 3550 §6.4.2): reporter SSRC then rc report blocks. */
static int parse_rr(uint8_t rc, const uint8_t *b, size_t len,
		    struct hl_rtcp_rr *rr)
{
	if (len < 4 || (len - 4) / REPORT_BLOCK_LEN < rc)
		return HL_EPARSE;
	rr->ssrc = hl_get_be32(b);
	rr->n_blocks = rc;
	for (unsigned i = 0; i < rc; i++)
		parse_block(b + 4 + i * REPORT_BLOCK_LEN, &rr->blocks[i]);
	return 0;
}

/*
 * SDES (RFC 3550 §6.5): only the first chunk is read.  Its items must
 * fit and end with a null item; the first CNAME item is kept (a CNAME
 * holding a NUL octet is malformed: it could not round-trip as a C
 * string), other items are skipped.  Later chunks are not examined.  No
 * chunk at all (SC = 0) is valid: ssrc 0, no CNAME.
 */
static int parse_sdes(uint8_t sc, const uint8_t *b, size_t len,
		      struct hl_rtcp_sdes *sdes)
{
	size_t off = 4;
	bool have_cname = false;

	sdes->ssrc = 0;
	sdes->cname_len = 0;
	sdes->cname[0] = 0;
	if (sc == 0)
		return 0;
	if (len < 4)
		return HL_EPARSE;
	sdes->ssrc = hl_get_be32(b);
	for (;;) {
		uint8_t type, ilen;

		if (off >= len)
			return HL_EPARSE; /* no terminating null item */
		type = b[off];
		if (type == SDES_ITEM_END)
			break;
		if (len - off < 2)
			return HL_EPARSE;
		ilen = b[off + 1];
		if (len - off - 2 < ilen)
			return HL_EPARSE;
		if (type == SDES_ITEM_CNAME && !have_cname) {
			if (memchr(b + off + 2, 0, ilen))
				return HL_EPARSE;
			memcpy(sdes->cname, b + off + 2, ilen);
			sdes->cname[ilen] = 0;
			sdes->cname_len = ilen;
			have_cname = true;
		}
		off += 2 + (size_t)ilen;
	}
	return 0;
}

/*
 * BYE (RFC 3550 §6.6): sc SSRCs, then an optional reason (length octet +
 * text) that must fit if present; the reason is not kept.
 */
static int parse_bye(uint8_t sc, const uint8_t *b, size_t len,
		     struct hl_rtcp_bye *bye)
{
	size_t off = 4 * (size_t)sc;

	if (len < off)
		return HL_EPARSE;
	if (off < len && len - off - 1 < b[off])
		return HL_EPARSE;
	bye->n_ssrcs = sc;
	for (unsigned i = 0; i < sc; i++)
		bye->ssrcs[i] = hl_get_be32(b + 4 * i);
	return 0;
}

void hl_rtcp_iter_init(struct hl_rtcp_iter *it, const uint8_t *pkt, size_t len)
{
	it->p = pkt;
	it->left = pkt ? len : 0;
}

/*
 * Next packet of the compound (see the file comment).  *out is set only
 * on success.  After HL_EPARSE the iterator is at the end, so the next
 * call returns HL_EAGAIN.
 */
int hl_rtcp_next(struct hl_rtcp_iter *it, struct hl_rtcp_packet *out)
{
	struct hl_rtcp_packet pkt;
	const uint8_t *p;
	size_t plen, pad = 0, blen;
	uint8_t count;
	int err = HL_EPARSE;

	if (!it || !out)
		return HL_EINVAL;
	if (it->left == 0)
		return HL_EAGAIN;
	p = it->p;
	if (it->left < HL_RTCP_HDR_LEN || p[0] >> 6 != RTCP_VERSION)
		goto out;
	plen = 4 * ((size_t)hl_get_be16(p + 2) + 1);
	if (plen > it->left)
		goto out;
	if (p[0] & 0x20) {
		/* RFC 3550 §6.4.1: padding only on the last packet. */
		if (plen != it->left)
			goto out;
		pad = p[plen - 1];
		if (pad == 0 || pad > plen - HL_RTCP_HDR_LEN)
			goto out;
	}
	count = p[0] & 0x1f;
	blen = plen - HL_RTCP_HDR_LEN - pad;
	memset(&pkt, 0, sizeof(pkt));
	switch (p[1]) {
	case HL_RTCP_SR:
		pkt.type = HL_RTCP_T_SR;
		err = parse_sr(count, p + 4, blen, &pkt.u.sr);
		break;
	case HL_RTCP_RR:
		pkt.type = HL_RTCP_T_RR;
		err = parse_rr(count, p + 4, blen, &pkt.u.rr);
		break;
	case HL_RTCP_SDES:
		pkt.type = HL_RTCP_T_SDES;
		err = parse_sdes(count, p + 4, blen, &pkt.u.sdes);
		break;
	case HL_RTCP_BYE:
		pkt.type = HL_RTCP_T_BYE;
		err = parse_bye(count, p + 4, blen, &pkt.u.bye);
		break;
	case HL_RTCP_RTPFB:
		err = hl_rtcp_parse_rtpfb(count, p + 4, blen, &pkt);
		break;
	case HL_RTCP_PSFB:
		err = hl_rtcp_parse_psfb(count, p + 4, blen, &pkt);
		break;
	default:
		pkt.type = HL_RTCP_T_OTHER;
		err = 0;
		break;
	}
	if (err)
		goto out;
	it->p += plen;
	it->left -= plen;
	*out = pkt;
	return 0;
out:
	it->p += it->left;
	it->left = 0;
	return err;
}

/*
 * Write an SR (RFC 3550 §6.4.1) with sr->n_blocks (at most 31) report
 * blocks at out (cap bytes); *len = 28 + 24 * n_blocks.  Cumulative loss
 * is clamped to 24-bit signed.  HL_EINVAL for too many blocks,
 * HL_ETOOBIG if cap is too small.
 */
int hl_rtcp_write_sr(const struct hl_rtcp_sr *sr, uint8_t *out, size_t cap,
		     size_t *len)
{
	size_t total;

	if (!sr || !out || !len || sr->n_blocks > HL_RTCP_MAX_BLOCKS)
		return HL_EINVAL;
	total = HL_RTCP_HDR_LEN + SR_SENDER_INFO_LEN +
		REPORT_BLOCK_LEN * (size_t)sr->n_blocks;
	if (cap < total)
		return HL_ETOOBIG;
	hl_rtcp_put_header(out, sr->n_blocks, HL_RTCP_SR, total);
	hl_put_be32(out + 4, sr->ssrc);
	hl_put_be64(out + 8, sr->ntp);
	hl_put_be32(out + 16, sr->rtp_ts);
	hl_put_be32(out + 20, sr->packet_count);
	hl_put_be32(out + 24, sr->octet_count);
	for (unsigned i = 0; i < sr->n_blocks; i++)
		put_block(out + 28 + i * REPORT_BLOCK_LEN, &sr->blocks[i]);
	*len = total;
	return 0;
}

/*
 * Write an RR (RFC 3550 §6.4.2); *len = 8 + 24 * n_blocks.  Errors as
 * hl_rtcp_write_sr().
 */
int hl_rtcp_write_rr(const struct hl_rtcp_rr *rr, uint8_t *out, size_t cap,
		     size_t *len)
{
	size_t total;

	if (!rr || !out || !len || rr->n_blocks > HL_RTCP_MAX_BLOCKS)
		return HL_EINVAL;
	total = HL_RTCP_HDR_LEN + 4 + REPORT_BLOCK_LEN * (size_t)rr->n_blocks;
	if (cap < total)
		return HL_ETOOBIG;
	hl_rtcp_put_header(out, rr->n_blocks, HL_RTCP_RR, total);
	hl_put_be32(out + 4, rr->ssrc);
	for (unsigned i = 0; i < rr->n_blocks; i++)
		put_block(out + 8 + i * REPORT_BLOCK_LEN, &rr->blocks[i]);
	*len = total;
	return 0;
}

/*
 * Write an SDES with one chunk: ssrc, one CNAME item (cname, a
 * NUL-terminated string of 1..255 bytes), then the null octets that end
 * the item list and pad the chunk to 32 bits (RFC 3550 §6.5).  HL_EINVAL
 * for an empty or longer CNAME, HL_ETOOBIG if cap is too small.
 */
int hl_rtcp_write_sdes_cname(uint32_t ssrc, const char *cname, uint8_t *out,
			     size_t cap, size_t *len)
{
	size_t n, items, total;

	if (!cname || !out || !len)
		return HL_EINVAL;
	n = strnlen(cname, HL_RTCP_CNAME_MAX + 1);
	if (n == 0 || n > HL_RTCP_CNAME_MAX)
		return HL_EINVAL;
	/* Item header + text + at least one null octet, to a multiple of 4. */
	items = (2 + n + 4) & ~(size_t)3;
	total = HL_RTCP_HDR_LEN + 4 + items;
	if (cap < total)
		return HL_ETOOBIG;
	hl_rtcp_put_header(out, 1, HL_RTCP_SDES, total);
	hl_put_be32(out + 4, ssrc);
	out[8] = SDES_ITEM_CNAME;
	out[9] = (uint8_t)n;
	memcpy(out + 10, cname, n);
	memset(out + 10 + n, 0, total - 10 - n);
	*len = total;
	return 0;
}

/* Write a BYE for one SSRC without a reason (RFC 3550 §6.6); 8 bytes. */
int hl_rtcp_write_bye(uint32_t ssrc, uint8_t *out, size_t cap, size_t *len)
{
	if (!out || !len)
		return HL_EINVAL;
	if (cap < 8)
		return HL_ETOOBIG;
	hl_rtcp_put_header(out, 1, HL_RTCP_BYE, 8);
	hl_put_be32(out + 4, ssrc);
	*len = 8;
	return 0;
}
