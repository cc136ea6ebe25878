/*
 * fuzz_rtcp.c - libFuzzer target for compound RTCP (src/rtp/rtcp.c,
 * rtcp_fb.c).
 *
 * Walks the input to its end (each step must consume at least 4 bytes),
 * then re-writes every understood packet with the matching writer and
 * parses the result again: the fields must be equal (a NACK must list
 * the same set of sequence numbers; a BYE is re-written when it names
 * one SSRC, an SDES when it has a CNAME, as the writers take only those).
 * Nothing may be allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/rtp.h"

static uint8_t out[2048];
static uint64_t map_a[1024], map_b[1024];

/* Parse out[0..len) as exactly one packet; abort otherwise. */
static void reparse(size_t len, struct hl_rtcp_packet *pk,
		    enum hl_rtcp_type type)
{
	struct hl_rtcp_iter it;

	hl_rtcp_iter_init(&it, out, len);
	if (hl_rtcp_next(&it, pk) != 0 || pk->type != type ||
	    hl_rtcp_next(&it, pk) != HL_EAGAIN)
		abort();
	hl_rtcp_iter_init(&it, out, len);
	(void)!hl_rtcp_next(&it, pk);
}

static bool blocks_same(const struct hl_rtcp_report_block *a,
			const struct hl_rtcp_report_block *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].ssrc != b[i].ssrc ||
		    a[i].fraction_lost != b[i].fraction_lost ||
		    a[i].cumulative_lost != b[i].cumulative_lost ||
		    a[i].ext_highest_seq != b[i].ext_highest_seq ||
		    a[i].jitter != b[i].jitter || a[i].lsr != b[i].lsr ||
		    a[i].dlsr != b[i].dlsr)
			return false;
	return true;
}

static void nack_map(const struct hl_rtcp_nack *n, uint64_t *map,
		     uint16_t *seqs, size_t *count)
{
	size_t k = hl_rtcp_nack_seqs(n, seqs, 64 * 17);

	memset(map, 0, 1024 * sizeof(uint64_t));
	for (size_t i = 0; i < k; i++)
		map[seqs[i] >> 6] |= (uint64_t)1 << (seqs[i] & 63);
	*count = k;
}

static void check_nack(const struct hl_rtcp_nack *a)
{
	static uint16_t seqs[64 * 17], seqs2[64 * 17];
	struct hl_rtcp_packet pk;
	size_t k, k2, len;

	nack_map(a, map_a, seqs, &k);
	if (k == 0 || hl_rtcp_write_nack(a->sender_ssrc, a->media_ssrc, seqs, k,
					 out, sizeof(out), &len) != 0)
		abort();
	reparse(len, &pk, HL_RTCP_T_NACK);
	if (pk.u.nack.sender_ssrc != a->sender_ssrc ||
	    pk.u.nack.media_ssrc != a->media_ssrc)
		abort();
	/* Minimal packing never needs more FCIs than the input had. */
	if (pk.u.nack.n_fci > a->n_fci + 1)
		abort();
	nack_map(&pk.u.nack, map_b, seqs2, &k2);
	if (!pk.u.nack.truncated) {
		if (memcmp(map_a, map_b, sizeof(map_a)) != 0)
			abort();
	} else {
		for (size_t i = 0; i < 1024; i++)
			if (map_b[i] & ~map_a[i])
				abort();
	}
}

static void check(const struct hl_rtcp_packet *a)
{
	struct hl_rtcp_packet b;
	size_t len;

	switch (a->type) {
	case HL_RTCP_T_SR:
		if (hl_rtcp_write_sr(&a->u.sr, out, sizeof(out), &len))
			abort();
		reparse(len, &b, HL_RTCP_T_SR);
		if (b.u.sr.ssrc != a->u.sr.ssrc || b.u.sr.ntp != a->u.sr.ntp ||
		    b.u.sr.rtp_ts != a->u.sr.rtp_ts ||
		    b.u.sr.packet_count != a->u.sr.packet_count ||
		    b.u.sr.octet_count != a->u.sr.octet_count ||
		    b.u.sr.n_blocks != a->u.sr.n_blocks ||
		    !blocks_same(b.u.sr.blocks, a->u.sr.blocks,
				 a->u.sr.n_blocks))
			abort();
		break;
	case HL_RTCP_T_RR:
		if (hl_rtcp_write_rr(&a->u.rr, out, sizeof(out), &len))
			abort();
		reparse(len, &b, HL_RTCP_T_RR);
		if (b.u.rr.ssrc != a->u.rr.ssrc ||
		    b.u.rr.n_blocks != a->u.rr.n_blocks ||
		    !blocks_same(b.u.rr.blocks, a->u.rr.blocks,
				 a->u.rr.n_blocks))
			abort();
		break;
	case HL_RTCP_T_SDES:
		if (a->u.sdes.cname_len != strlen(a->u.sdes.cname))
			abort();
		if (a->u.sdes.cname_len == 0)
			break;
		if (hl_rtcp_write_sdes_cname(a->u.sdes.ssrc, a->u.sdes.cname,
					     out, sizeof(out), &len))
			abort();
		reparse(len, &b, HL_RTCP_T_SDES);
		if (b.u.sdes.ssrc != a->u.sdes.ssrc ||
		    b.u.sdes.cname_len != a->u.sdes.cname_len ||
		    strcmp(b.u.sdes.cname, a->u.sdes.cname) != 0)
			abort();
		break;
	case HL_RTCP_T_BYE:
		if (a->u.bye.n_ssrcs > 31)
			abort();
		if (a->u.bye.n_ssrcs != 1)
			break;
		if (hl_rtcp_write_bye(a->u.bye.ssrcs[0], out, sizeof(out),
				      &len))
			abort();
		reparse(len, &b, HL_RTCP_T_BYE);
		if (b.u.bye.n_ssrcs != 1 ||
		    b.u.bye.ssrcs[0] != a->u.bye.ssrcs[0])
			abort();
		break;
	case HL_RTCP_T_NACK:
		if (a->u.nack.n_fci < 1 ||
		    a->u.nack.n_fci > HL_RTCP_MAX_NACK_FCI)
			abort();
		check_nack(&a->u.nack);
		break;
	case HL_RTCP_T_PLI:
		if (hl_rtcp_write_pli(a->u.pli.sender_ssrc, a->u.pli.media_ssrc,
				      out, sizeof(out), &len))
			abort();
		reparse(len, &b, HL_RTCP_T_PLI);
		if (b.u.pli.sender_ssrc != a->u.pli.sender_ssrc ||
		    b.u.pli.media_ssrc != a->u.pli.media_ssrc)
			abort();
		break;
	case HL_RTCP_T_REMB:
		if (a->u.remb.n_ssrcs > HL_RTCP_MAX_REMB_SSRCS)
			abort();
		if (hl_rtcp_write_remb(a->u.remb.sender_ssrc,
				       a->u.remb.bitrate_bps, a->u.remb.ssrcs,
				       a->u.remb.n_ssrcs, out, sizeof(out),
				       &len))
			abort();
		reparse(len, &b, HL_RTCP_T_REMB);
		/* Every parsed bitrate is representable: exact. */
		if (b.u.remb.sender_ssrc != a->u.remb.sender_ssrc ||
		    b.u.remb.bitrate_bps != a->u.remb.bitrate_bps ||
		    b.u.remb.n_ssrcs != a->u.remb.n_ssrcs ||
		    memcmp(b.u.remb.ssrcs, a->u.remb.ssrcs,
			   4 * (size_t)a->u.remb.n_ssrcs) != 0)
			abort();
		break;
	case HL_RTCP_T_OTHER:
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0 = hl_mem_outstanding();
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	size_t steps = 0;
	int rc;

	hl_rtcp_iter_init(&it, data, size);
	while ((rc = hl_rtcp_next(&it, &pk)) == 0) {
		if (++steps > size / 4)
			abort();
		check(&pk);
	}
	if ((rc != HL_EAGAIN && rc != HL_EPARSE) ||
	    hl_rtcp_next(&it, &pk) != HL_EAGAIN)
		abort();
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
