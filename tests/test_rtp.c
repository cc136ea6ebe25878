/*
 * test_rtp.c - RTP/RTCP wire formats, RTX, VP8 payload format and the
 * RFC 3550 receive statistics (include/hotline/rtp.h).
 *
 * Known-answer tests use byte strings written by hand from the RFC
 * figures; round trips use random values from a seeded PRNG; hostile
 * inputs are fed from heap blocks of exactly their length so that the
 * ASan build catches any read past the end.
 */
#include <math.h>
#include <stdlib.h>

#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "harness.h"
#include "hotline/rtp.h"

/* A heap copy of exactly len bytes (ASan flags any read past it). */
static uint8_t *exact(const uint8_t *p, size_t len)
{
	uint8_t *c = hl_malloc(len);

	if (c && len)
		memcpy(c, p, len);
	return c;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	long n = hl_test_unhex(hex, out, cap);

	return n < 0 ? 0 : (size_t)n;
}

/* ---- RTP header --------------------------------------------------- */

static int test_rtp_parse_known(void)
{
	/* V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0x1234, ts 0xdeadbeef,
	 * ssrc 0x11223344, CSRCs 0xaabbccdd 0x01020304, RFC 8285 one-byte
	 * extension 0xbede of 1 word (abs-send-time id 3), payload "vp8!",
	 * 3 padding bytes (00 00 03). */
	static const char hex[] = "b2e01234deadbeef11223344"
				  "aabbccdd01020304"
				  "bede000132aabbcc"
				  "76703821"
				  "000003";
	uint8_t buf[64];
	size_t n = unhex(hex, buf, sizeof(buf));
	struct hl_rtp_header h;
	const uint8_t *pl;
	size_t pl_len;

	HT_EQ_INT(hl_rtp_parse(buf, n, &h, &pl, &pl_len), 0);
	HT_ASSERT(h.marker);
	HT_EQ_INT(h.pt, 96);
	HT_EQ_INT(h.seq, 0x1234);
	HT_EQ_INT(h.ts, 0xdeadbeef);
	HT_EQ_INT(h.ssrc, 0x11223344);
	HT_EQ_INT(h.csrc_count, 2);
	HT_EQ_INT(h.csrc[0], 0xaabbccdd);
	HT_EQ_INT(h.csrc[1], 0x01020304);
	HT_ASSERT(h.has_ext);
	HT_EQ_INT(h.ext_profile, 0xbede);
	HT_EQ_INT(h.ext_len, 4);
	HT_ASSERT(h.ext == buf + 24);
	HT_EQ_INT(h.header_len, 28);
	HT_EQ_INT(h.padding_len, 3);
	HT_EQ_INT(pl_len, 4);
	HT_ASSERT(pl == buf + 28);
	HT_EQ_MEM(pl, "vp8!", 4);

	/* Plain Opus packet, empty payload allowed. */
	n = unhex("806f0001000003c0cafebabe", buf, sizeof(buf));
	HT_EQ_INT(hl_rtp_parse(buf, n, &h, &pl, &pl_len), 0);
	HT_ASSERT(!h.marker && !h.has_ext && h.ext == NULL);
	HT_EQ_INT(h.pt, HL_PT_OPUS);
	HT_EQ_INT(h.ts, 960);
	HT_EQ_INT(pl_len, 0);
	HT_EQ_INT(h.padding_len, 0);

	/* Padding that takes everything after the header: empty payload. */
	n = unhex("a0600001000003c0cafebabe00000004", buf, sizeof(buf));
	HT_EQ_INT(hl_rtp_parse(buf, n, &h, &pl, &pl_len), 0);
	HT_EQ_INT(pl_len, 0);
	HT_EQ_INT(h.padding_len, 4);
	return 0;
}

static int test_rtp_parse_bad(void)
{
	static const char *const bad[] = {
		"",
		"80600001000003c0cafeba",	    /* 11 bytes */
		"40600001000003c0cafebabe",	    /* version 1 */
		"c0600001000003c0cafebabe",	    /* version 3 */
		"81600001000003c0cafebabe",	    /* CSRC missing */
		"82600001000003c0cafebabe01020304", /* 1 of 2 CSRCs */
		"90600001000003c0cafebabe",	    /* no ext header */
		"90600001000003c0cafebabebede00",   /* half ext header */
		"90600001000003c0cafebabebede0002aabbccdd", /* ext short */
		"a0600001000003c0cafebabe00",		    /* padding 0 */
		"a0600001000003c0cafebabe0005",		    /* padding > rest */
		"a0600001000003c0cafebabe", /* P set, nothing after */
		"b0600001000003c0cafebabebede000100000005", /* pad in ext */
	};
	struct hl_rtp_header h;
	const uint8_t *pl = NULL;
	size_t pl_len = 99;

	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		uint8_t buf[64], *c;
		size_t n = unhex(bad[i], buf, sizeof(buf));
		int rc;

		HT_ASSERT(c = exact(buf, n));
		memset(&h, 0x5a, sizeof(h));
		rc = hl_rtp_parse(c, n, &h, &pl, &pl_len);
		hl_free(c);
		if (rc != HL_EPARSE)
			fprintf(stderr, "case %zu: %d\n", i, rc);
		HT_EQ_INT(rc, HL_EPARSE);
		HT_EQ_INT(pl_len, 99); /* outputs untouched */
		HT_ASSERT(pl == NULL);
	}
	return 0;
}

static void random_header(struct hl_prng *p, struct hl_rtp_header *h,
			  uint8_t *ext_buf)
{
	memset(h, 0, sizeof(*h));
	h->marker = hl_prng_below(p, 2);
	h->pt = (uint8_t)hl_prng_below(p, 128);
	h->seq = (uint16_t)hl_prng_next(p);
	h->ts = (uint32_t)hl_prng_next(p);
	h->ssrc = (uint32_t)hl_prng_next(p);
	h->csrc_count = (uint8_t)hl_prng_below(p, 16);
	for (unsigned i = 0; i < h->csrc_count; i++)
		h->csrc[i] = (uint32_t)hl_prng_next(p);
	h->has_ext = hl_prng_below(p, 2);
	if (h->has_ext) {
		h->ext_profile = (uint16_t)hl_prng_next(p);
		h->ext_len = 4 * hl_prng_below(p, 5);
		for (size_t i = 0; i < h->ext_len; i++)
			ext_buf[i] = (uint8_t)hl_prng_next(p);
		h->ext = h->ext_len ? ext_buf : NULL;
	}
}

static int test_rtp_write_roundtrip(void)
{
	struct hl_prng p;

	hl_prng_seed(&p, 1);
	for (int iter = 0; iter < 2000; iter++) {
		struct hl_rtp_header h, g;
		uint8_t ext[16], pkt[200];
		const uint8_t *pl;
		size_t len, pl_len, plen = hl_prng_below(&p, 40);

		random_header(&p, &h, ext);
		HT_EQ_INT(hl_rtp_write_header(&h, pkt, sizeof(pkt), &len), 0);
		HT_EQ_INT(len, 12 + 4 * h.csrc_count +
				       (h.has_ext ? 4 + h.ext_len : 0));
		/* Too small a buffer, by one byte. */
		HT_EQ_INT(hl_rtp_write_header(&h, pkt, len - 1, &len),
			  HL_ETOOBIG);
		for (size_t i = 0; i < plen; i++)
			pkt[len + i] = (uint8_t)i;
		HT_EQ_INT(hl_rtp_parse(pkt, len + plen, &g, &pl, &pl_len), 0);
		HT_EQ_INT(g.marker, h.marker);
		HT_EQ_INT(g.pt, h.pt);
		HT_EQ_INT(g.seq, h.seq);
		HT_EQ_INT(g.ts, h.ts);
		HT_EQ_INT(g.ssrc, h.ssrc);
		HT_EQ_INT(g.csrc_count, h.csrc_count);
		HT_EQ_MEM(g.csrc, h.csrc, 4 * h.csrc_count);
		HT_EQ_INT(g.has_ext, h.has_ext);
		HT_EQ_INT(g.ext_profile, h.ext_profile);
		HT_EQ_INT(g.ext_len, h.ext_len);
		if (h.ext_len)
			HT_EQ_MEM(g.ext, ext, h.ext_len);
		HT_EQ_INT(g.header_len, len);
		HT_EQ_INT(pl_len, plen);
		HT_ASSERT(pl == pkt + len);
	}
	return 0;
}

static int test_rtp_write_invalid(void)
{
	struct hl_rtp_header h;
	uint8_t ext[8] = {0}, out[128];
	size_t len;

	memset(&h, 0, sizeof(h));
	h.pt = 128;
	HT_EQ_INT(hl_rtp_write_header(&h, out, sizeof(out), &len), HL_EINVAL);
	h.pt = 96;
	h.csrc_count = 16;
	HT_EQ_INT(hl_rtp_write_header(&h, out, sizeof(out), &len), HL_EINVAL);
	h.csrc_count = 0;
	h.has_ext = true;
	h.ext = ext;
	h.ext_len = 6;
	HT_EQ_INT(hl_rtp_write_header(&h, out, sizeof(out), &len), HL_EINVAL);
	h.ext = NULL;
	h.ext_len = 8;
	HT_EQ_INT(hl_rtp_write_header(&h, out, sizeof(out), &len), HL_EINVAL);
	/* Empty extension: header only, length 0 words. */
	h.ext_len = 0;
	HT_EQ_INT(hl_rtp_write_header(&h, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, 16);
	HT_EQ_INT(out[0], 0x90);
	HT_EQ_INT(hl_get_be16(out + 14), 0);
	return 0;
}

/* Every prefix of a valid packet: HL_EPARSE or a consistent parse. */
static int test_rtp_truncations(void)
{
	static const char *const pkts[] = {
		("b2e01234deadbeef11223344aabbccdd01020304bede000132aabbcc"
		 "76703821000003"),
		"906004d2000003c0cafebabebede0002100102030405060708090a0b",
		"806f0001000003c0cafebabefc",
	};

	for (size_t k = 0; k < HL_ARRAY_SIZE(pkts); k++) {
		uint8_t buf[128];
		size_t n = unhex(pkts[k], buf, sizeof(buf));

		for (size_t l = 0; l <= n; l++) {
			struct hl_rtp_header h;
			const uint8_t *pl;
			size_t pl_len;
			uint8_t *c = exact(buf, l);
			int rc;

			HT_ASSERT(c);
			rc = hl_rtp_parse(c, l, &h, &pl, &pl_len);
			if (rc == 0) {
				HT_ASSERT(h.header_len + pl_len +
						  h.padding_len ==
					  l);
				HT_ASSERT(pl == c + h.header_len);
			}
			hl_free(c);
			HT_ASSERT(rc == 0 || rc == HL_EPARSE);
			if (l == n)
				HT_EQ_INT(rc, 0);
			if (l < 12)
				HT_EQ_INT(rc, HL_EPARSE);
		}
	}
	return 0;
}

static int test_demux(void)
{
	static const struct {
		uint8_t b0, b1;
		size_t len;
		enum hl_demux want;
	} cases[] = {
		{0x00, 0x01, 20, HL_DEMUX_STUN}, /* binding request */
		{0x01, 0x01, 20, HL_DEMUX_STUN}, /* binding response */
		{0x03, 0x00, 20, HL_DEMUX_STUN},
		{0x04, 0x00, 20, HL_DEMUX_UNKNOWN},
		{0x10, 0x00, 20, HL_DEMUX_UNKNOWN}, /* ZRTP */
		{0x13, 0x00, 20, HL_DEMUX_UNKNOWN},
		{0x14, 0xfe, 20, HL_DEMUX_DTLS}, /* change cipher spec */
		{0x16, 0xfe, 20, HL_DEMUX_DTLS}, /* handshake */
		{0x17, 0xfe, 20, HL_DEMUX_DTLS}, /* application data */
		{0x3f, 0x00, 20, HL_DEMUX_DTLS},
		{0x40, 0x00, 20, HL_DEMUX_UNKNOWN}, /* TURN channel */
		{0x7f, 0x00, 20, HL_DEMUX_UNKNOWN},
		{0x80, 0x60, 12, HL_DEMUX_RTP},	    /* VP8 */
		{0x80, 0xe0, 12, HL_DEMUX_RTP},	    /* VP8 + marker */
		{0x90, 0x6f, 20, HL_DEMUX_RTP},	    /* Opus + ext */
		{0x80, 0x00, 12, HL_DEMUX_RTP},	    /* PCMU */
		{0x80, 0x48, 12, HL_DEMUX_RTP},	    /* PT 72, M = 0 */
		{0x80, 0x60, 11, HL_DEMUX_UNKNOWN}, /* too short for RTP */
		{0x80, 0xc8, 28, HL_DEMUX_RTCP},    /* SR */
		{0x81, 0xc9, 32, HL_DEMUX_RTCP},    /* RR */
		{0x81, 0xcd, 16, HL_DEMUX_RTCP},    /* NACK */
		{0x8f, 0xce, 24, HL_DEMUX_RTCP},    /* REMB */
		{0x80, 0xc0, 4, HL_DEMUX_RTCP},	    /* 192: first of range */
		{0x80, 0xdf, 4, HL_DEMUX_RTCP},	    /* 223: last of range */
		{0x80, 0xe0, 4, HL_DEMUX_UNKNOWN},  /* 224: RTP, too short */
		{0x80, 0xbf, 12, HL_DEMUX_RTP},	    /* 191: M=1 PT 63 */
		{0x80, 0xc9, 3, HL_DEMUX_UNKNOWN},  /* too short for RTCP */
		{0xbf, 0xc8, 8, HL_DEMUX_RTCP},
		{0xc0, 0xc8, 8, HL_DEMUX_UNKNOWN}, /* version 3 */
		{0xff, 0x00, 20, HL_DEMUX_UNKNOWN},
	};
	uint8_t buf[32] = {0};

	HT_EQ_INT(hl_demux_classify(buf, 0), HL_DEMUX_UNKNOWN);
	HT_EQ_INT(hl_demux_classify(NULL, 10), HL_DEMUX_UNKNOWN);
	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		uint8_t *c;
		enum hl_demux got;

		buf[0] = cases[i].b0;
		buf[1] = cases[i].b1;
		HT_ASSERT(c = exact(buf, cases[i].len));
		got = hl_demux_classify(c, cases[i].len);
		hl_free(c);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu\n", i);
		HT_EQ_INT(got, cases[i].want);
	}
	/* One byte: STUN/DTLS known from it alone, RTP/RTCP need more. */
	buf[0] = 0x16;
	HT_EQ_INT(hl_demux_classify(buf, 1), HL_DEMUX_DTLS);
	buf[0] = 0x80;
	HT_EQ_INT(hl_demux_classify(buf, 1), HL_DEMUX_UNKNOWN);
	return 0;
}

static int test_split(void)
{
	static const struct {
		size_t len, max, count, first, last;
	} cases[] = {
		{0, 1000, 1, 0, 0},
		{1000, 0, 0, 0, 0},
		{1, 1, 1, 1, 1},
		{1000, 1000, 1, 1000, 1000},
		{1001, 1000, 2, 501, 500},
		{2500, 1000, 3, 834, 833},
		{3000, 1000, 3, 1000, 1000},
		{10, 3, 4, 3, 2},
	};
	struct hl_prng p;

	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		size_t c = hl_rtp_split_count(cases[i].len, cases[i].max);

		HT_EQ_INT(c, cases[i].count);
		if (c == 0)
			continue;
		HT_EQ_INT(hl_rtp_split_size(cases[i].len, c, 0),
			  cases[i].first);
		HT_EQ_INT(hl_rtp_split_size(cases[i].len, c, c - 1),
			  cases[i].last);
		HT_EQ_INT(hl_rtp_split_size(cases[i].len, c, c), 0);
	}
	HT_EQ_INT(hl_rtp_split_size(100, 0, 0), 0);
	HT_EQ_INT(hl_rtp_split_count(SIZE_MAX, 1000), SIZE_MAX / 1000 + 1);
	hl_prng_seed(&p, 2);
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = hl_prng_below(&p, 100000);
		size_t max = 1 + hl_prng_below(&p, 1500);
		size_t c = hl_rtp_split_count(len, max), sum = 0;
		size_t prev = SIZE_MAX;

		HT_ASSERT(c >= 1);
		HT_ASSERT(len == 0 || (c - 1) * max < len);
		for (size_t i = 0; i < c; i++) {
			size_t s = hl_rtp_split_size(len, c, i);

			HT_ASSERT(s <= max);
			HT_ASSERT(s <= prev);
			HT_ASSERT(prev == SIZE_MAX || prev - s <= 1);
			HT_ASSERT(hl_rtp_split_size(len, c, 0) - s <= 1);
			prev = s;
			sum += s;
		}
		HT_EQ_INT(sum, len);
	}
	return 0;
}

/* ---- RTCP ------------------------------------------------------------ */

/*
 * A Chromium-style compound (RFC 3550 §6.1): an RR with one report block
 * followed by an SDES with the 16-character CNAME Chromium generates.
 */
static const char chromium_rr_sdes[] =
	/* RR: V=2 RC=1 PT=201 length 7 */
	"81c90007"
	"5c1ee3b1" /* reporter SSRC */
	"12345678" /* block: source SSRC */
	"19"	   /* fraction lost 25/256 */
	"000003"   /* cumulative lost 3 */
	"00010010" /* extended highest seq: cycle 1, seq 16 */
	"0000000f" /* jitter 15 */
	"1234abcd" /* LSR */
	"00010000" /* DLSR 1 s */
	/* SDES: V=2 SC=1 PT=202 length 6 */
	"81ca0006"
	"5c1ee3b1"
	"0110"				   /* CNAME, 16 bytes */
	"2f6c4b7a39514e78527450485a763144" /* "/lKz9QNxRtPHZv1D" */
	"0000";				   /* end + pad */

static int test_rtcp_chromium_compound(void)
{
	uint8_t buf[128], out[128];
	size_t n = unhex(chromium_rr_sdes, buf, sizeof(buf)), len, len2;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	const struct hl_rtcp_report_block *b;

	HT_EQ_INT(n, 60);
	HT_EQ_INT(hl_demux_classify(buf, n), HL_DEMUX_RTCP);
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_RR);
	HT_EQ_INT(pk.u.rr.ssrc, 0x5c1ee3b1);
	HT_EQ_INT(pk.u.rr.n_blocks, 1);
	b = &pk.u.rr.blocks[0];
	HT_EQ_INT(b->ssrc, 0x12345678);
	HT_EQ_INT(b->fraction_lost, 25);
	HT_EQ_INT(b->cumulative_lost, 3);
	HT_EQ_INT(b->ext_highest_seq, 0x10010);
	HT_EQ_INT(b->jitter, 15);
	HT_EQ_INT(b->lsr, 0x1234abcd);
	HT_EQ_INT(b->dlsr, 65536);
	/* The writer gives back the same bytes. */
	HT_EQ_INT(hl_rtcp_write_rr(&pk.u.rr, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, 32);
	HT_EQ_MEM(out, buf, 32);

	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_SDES);
	HT_EQ_INT(pk.u.sdes.ssrc, 0x5c1ee3b1);
	HT_EQ_INT(pk.u.sdes.cname_len, 16);
	HT_ASSERT(strcmp(pk.u.sdes.cname, "/lKz9QNxRtPHZv1D") == 0);
	HT_EQ_INT(hl_rtcp_write_sdes_cname(0x5c1ee3b1, "/lKz9QNxRtPHZv1D",
					   out + len, sizeof(out) - len, &len2),
		  0);
	HT_EQ_INT(len + len2, n);
	HT_EQ_MEM(out, buf, n);

	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	return 0;
}

static int test_rtcp_sr_known(void)
{
	/* RFC 3550 §6.4.1 figure: SR with one block whose cumulative loss
	 * is -1 (duplicates), then a profile extension word. */
	static const char hex[] = "81c8000d"
				  "aabbccdd"	     /* SSRC */
				  "e8a1b2c380000000" /* NTP */
				  "0001e240"	     /* RTP ts 123456 */
				  "00000064"	     /* 100 packets */
				  "00003e80"	     /* 16000 octets */
				  "11111111ffffffff0000ffff0000002a"
				  "8765432100008000" /* block */
				  "feedface";	     /* extension */
	uint8_t buf[128], out[128];
	size_t n = unhex(hex, buf, sizeof(buf)), len;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	const struct hl_rtcp_sr *sr = &pk.u.sr;

	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_SR);
	HT_EQ_INT(sr->ssrc, 0xaabbccdd);
	HT_ASSERT(sr->ntp == 0xe8a1b2c380000000ull);
	HT_EQ_INT(sr->rtp_ts, 123456);
	HT_EQ_INT(sr->packet_count, 100);
	HT_EQ_INT(sr->octet_count, 16000);
	HT_EQ_INT(sr->n_blocks, 1);
	HT_EQ_INT(sr->blocks[0].ssrc, 0x11111111);
	HT_EQ_INT(sr->blocks[0].fraction_lost, 255);
	HT_EQ_INT(sr->blocks[0].cumulative_lost, -1);
	HT_EQ_INT(sr->blocks[0].ext_highest_seq, 0xffff);
	HT_EQ_INT(sr->blocks[0].jitter, 42);
	HT_EQ_INT(sr->blocks[0].lsr, 0x87654321);
	HT_EQ_INT(sr->blocks[0].dlsr, 0x8000);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	/* Written back without the extension word. */
	HT_EQ_INT(hl_rtcp_write_sr(sr, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, 52);
	HT_EQ_INT(out[3], 12);
	HT_EQ_MEM(out + 4, buf + 4, 48);
	return 0;
}

static int test_rtcp_bye_known(void)
{
	uint8_t buf[64], out[16];
	size_t n, len;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;

	/* BYE for two SSRCs with the reason "hello" (RFC 3550 §6.6). */
	n = unhex("82cb000400000001000000020568656c6c6f0000", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_BYE);
	HT_EQ_INT(pk.u.bye.n_ssrcs, 2);
	HT_EQ_INT(pk.u.bye.ssrcs[1], 2);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	/* Reason length running past the packet. */
	n = unhex("81cb0002000000010968656c", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* BYE with no SSRC at all is well-formed. */
	n = unhex("80cb0000", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.u.bye.n_ssrcs, 0);
	/* Writer. */
	HT_EQ_INT(hl_rtcp_write_bye(0xcafe, out, 7, &len), HL_ETOOBIG);
	HT_EQ_INT(hl_rtcp_write_bye(0xcafe, out, sizeof(out), &len), 0);
	n = unhex("81cb00010000cafe", buf, sizeof(buf));
	HT_EQ_INT(len, n);
	HT_EQ_MEM(out, buf, n);
	return 0;
}

static int test_rtcp_sdes_variants(void)
{
	uint8_t buf[300];
	size_t n;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	char name[300];

	/* NAME item (2) before the CNAME, a second chunk after. */
	n = unhex("82ca0006"
		  "00000007"
		  "0203626f62"	   /* NAME "bob" */
		  "01036140620000" /* CNAME "a@b", end, pad */
		  "00000008"
		  "00000000",
		  buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.u.sdes.ssrc, 7);
	HT_EQ_INT(pk.u.sdes.cname_len, 3);
	HT_ASSERT(strcmp(pk.u.sdes.cname, "a@b") == 0);
	/* No CNAME in the first chunk. */
	n = unhex("81ca00020000000702000000", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.u.sdes.cname_len, 0);
	HT_EQ_INT(pk.u.sdes.cname[0], 0);
	/* SC = 0. */
	n = unhex("80ca0000", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.u.sdes.cname_len, 0);
	/* Item list without its null item. */
	n = unhex("81ca00020000000701026162", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* Item longer than the packet. */
	n = unhex("81ca00020000000701096162", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* CNAME holding a NUL. */
	n = unhex("81ca00020000000701026100", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* SC = 1 but no SSRC. */
	n = unhex("81ca0000", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);

	/* Writer: every CNAME length 1..255 round-trips, padding right. */
	for (size_t l = 1; l <= HL_RTCP_CNAME_MAX; l++) {
		size_t len;

		for (size_t i = 0; i < l; i++)
			name[i] = (char)('a' + i % 26);
		name[l] = 0;
		HT_EQ_INT(hl_rtcp_write_sdes_cname(42, name, buf, sizeof(buf),
						   &len),
			  0);
		HT_EQ_INT(len % 4, 0);
		HT_ASSERT(len >= 8 + 2 + l + 1 && len <= 8 + 2 + l + 4);
		HT_EQ_INT(
			hl_rtcp_write_sdes_cname(42, name, buf, len - 1, &len),
			HL_ETOOBIG);
		hl_rtcp_iter_init(&it, buf, len);
		HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
		HT_EQ_INT(pk.u.sdes.ssrc, 42);
		HT_EQ_INT(pk.u.sdes.cname_len, l);
		HT_ASSERT(strcmp(pk.u.sdes.cname, name) == 0);
		HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	}
	memset(name, 'x', 256);
	name[256] = 0;
	HT_EQ_INT(hl_rtcp_write_sdes_cname(42, name, buf, sizeof(buf), &n),
		  HL_EINVAL);
	HT_EQ_INT(hl_rtcp_write_sdes_cname(42, "", buf, sizeof(buf), &n),
		  HL_EINVAL);
	return 0;
}

/* RFC 4585 §6.2.1 generic NACK, bytes from the figure. */
static int test_rtcp_nack_known(void)
{
	/* PID 100, BLP 0x8005: 100 lost, and 101, 103, 116. */
	static const char hex[] = "81cd0003"
				  "00000001" /* sender SSRC */
				  "12345678" /* media SSRC */
				  "00648005";
	static const uint16_t lost[] = {116, 101, 100, 103, 101, 116};
	uint8_t buf[64], out[64];
	size_t n = unhex(hex, buf, sizeof(buf)), len;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	uint16_t seqs[32];

	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_NACK);
	HT_EQ_INT(pk.u.nack.sender_ssrc, 1);
	HT_EQ_INT(pk.u.nack.media_ssrc, 0x12345678);
	HT_EQ_INT(pk.u.nack.n_fci, 1);
	HT_ASSERT(!pk.u.nack.truncated);
	HT_EQ_INT(pk.u.nack.pid[0], 100);
	HT_EQ_INT(pk.u.nack.blp[0], 0x8005);
	HT_EQ_INT(hl_rtcp_nack_seqs(&pk.u.nack, seqs, 32), 4);
	HT_EQ_INT(seqs[0], 100);
	HT_EQ_INT(seqs[1], 101);
	HT_EQ_INT(seqs[2], 103);
	HT_EQ_INT(seqs[3], 116);
	HT_EQ_INT(hl_rtcp_nack_seqs(&pk.u.nack, seqs, 2), 2);
	HT_EQ_INT(hl_rtcp_nack_seqs(&pk.u.nack, seqs, 0), 0);
	/* Writer: unsorted with duplicates gives the same bytes. */
	HT_EQ_INT(hl_rtcp_write_nack(1, 0x12345678, lost, HL_ARRAY_SIZE(lost),
				     out, sizeof(out), &len),
		  0);
	HT_EQ_INT(len, n);
	HT_EQ_MEM(out, buf, n);
	HT_EQ_INT(hl_rtcp_write_nack(1, 0x12345678, lost, HL_ARRAY_SIZE(lost),
				     out, 15, &len),
		  HL_ETOOBIG);
	HT_EQ_INT(hl_rtcp_write_nack(1, 2, lost, 0, out, sizeof(out), &len),
		  HL_EINVAL);

	/* Across the wrap: 65534, 65535, 0, 1 is one FCI from 65534. */
	{
		static const uint16_t wrap[] = {1, 65535, 0, 65534};

		HT_EQ_INT(hl_rtcp_write_nack(1, 2, wrap, 4, out, sizeof(out),
					     &len),
			  0);
		n = unhex("81cd00030000000100000002fffe0007", buf, sizeof(buf));
		HT_EQ_INT(len, n);
		HT_EQ_MEM(out, buf, n);
	}
	/* Three FCIs: 10 | 30 (+31) | 47 (+48): 47 is 17 after 30. */
	{
		static const uint16_t three[] = {48, 47, 31, 30, 10};

		HT_EQ_INT(hl_rtcp_write_nack(1, 2, three, 5, out, sizeof(out),
					     &len),
			  0);
		n = unhex("81cd000500000001000000020"
			  "00a0000001e0001002f0001",
			  buf, sizeof(buf));
		HT_EQ_INT(len, n);
		HT_EQ_MEM(out, buf, n);
	}
	/* No FCI, or a partial one: malformed. */
	n = unhex("81cd00020000000100000002", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* Padding of 2 on the last packet leaves half an FCI. */
	n = unhex("a1cd00040000000100000002006400000000"
		  "0002",
		  buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	return 0;
}

/* Many FCIs: the first HL_RTCP_MAX_NACK_FCI are kept, truncated set. */
static int test_rtcp_nack_truncated(void)
{
	uint8_t buf[12 + 4 * 70];
	size_t total = sizeof(buf);
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;

	buf[0] = 0x81;
	buf[1] = HL_RTCP_RTPFB;
	hl_put_be16(buf + 2, (uint16_t)(total / 4 - 1));
	hl_put_be32(buf + 4, 1);
	hl_put_be32(buf + 8, 2);
	for (int i = 0; i < 70; i++) {
		hl_put_be16(buf + 12 + 4 * i, (uint16_t)(100 * i));
		hl_put_be16(buf + 14 + 4 * i, 0);
	}
	hl_rtcp_iter_init(&it, buf, total);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.u.nack.n_fci, HL_RTCP_MAX_NACK_FCI);
	HT_ASSERT(pk.u.nack.truncated);
	HT_EQ_INT(pk.u.nack.pid[63], 6300);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	return 0;
}

/* Reference count of FCIs for offsets sorted ascending (greedy). */
static size_t greedy_fcis(const bool *lost, size_t span)
{
	size_t n = 0;
	long cover = -1;

	for (size_t i = 0; i < span; i++) {
		if (!lost[i] || (long)i <= cover)
			continue;
		n++;
		cover = (long)i + 16;
	}
	return n;
}

static int test_rtcp_nack_random(void)
{
	struct hl_prng p;
	static uint16_t seqs[4096], got[4096];
	static bool lost[4096], seen[4096];
	static uint8_t out[20000];

	hl_prng_seed(&p, 3);
	for (int iter = 0; iter < 300; iter++) {
		uint16_t base = (uint16_t)hl_prng_next(&p);
		size_t span = 1 + hl_prng_below(&p, 2000), n = 0, len, ng;
		double rate = hl_prng_unit(&p);
		struct hl_rtcp_iter it;
		struct hl_rtcp_packet pk;
		size_t fcis = 0;

		if (iter % 10 == 0)
			base = (uint16_t)(65536 - span / 2); /* straddle 0 */
		memset(lost, 0, sizeof(lost));
		for (size_t i = 0; i < span; i++) {
			if (i != 0 && hl_prng_unit(&p) > rate)
				continue;
			lost[i] = true;
			seqs[n++] = (uint16_t)(base + i);
			if (hl_prng_below(&p, 4) == 0)
				seqs[n++] = (uint16_t)(base + i); /* dup */
		}
		/* Shuffle. */
		for (size_t i = n; i > 1; i--) {
			size_t j = hl_prng_below(&p, i);
			uint16_t t = seqs[i - 1];

			seqs[i - 1] = seqs[j];
			seqs[j] = t;
		}
		HT_EQ_INT(hl_rtcp_write_nack(9, 8, seqs, n, out, sizeof(out),
					     &len),
			  0);
		HT_EQ_INT((len - 12) / 4, greedy_fcis(lost, span));
		/* Walk the FCIs on the wire (the parser keeps 64). */
		memset(seen, 0, sizeof(seen));
		hl_rtcp_iter_init(&it, out, len);
		HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
		HT_EQ_INT(pk.type, HL_RTCP_T_NACK);
		for (size_t off = 12; off < len; off += 4, fcis++) {
			struct hl_rtcp_nack one = {.n_fci = 1};

			one.pid[0] = hl_get_be16(out + off);
			one.blp[0] = hl_get_be16(out + off + 2);
			/* FCIs in circular order from base. */
			HT_ASSERT(
				fcis == 0 ||
				(uint16_t)(one.pid[0] - base) >
					(uint16_t)(hl_get_be16(out + off - 4) -
						   base));
			ng = hl_rtcp_nack_seqs(&one, got, 17);
			for (size_t i = 0; i < ng; i++) {
				uint16_t o = (uint16_t)(got[i] - base);

				HT_ASSERT(o < span && lost[o] && !seen[o]);
				seen[o] = true;
			}
		}
		HT_EQ_MEM(seen, lost, span);
		HT_EQ_INT(pk.u.nack.truncated, fcis > HL_RTCP_MAX_NACK_FCI);
	}
	return 0;
}

/* Losses all around the circle: every number covered exactly once. */
static int test_rtcp_nack_extremes(void)
{
	static uint16_t seqs[65536];
	static uint8_t out[12 + 4 * 4000];
	static bool seen[65536];
	/* Step between lost numbers from 7, and the FCIs needed: with 17
	 * and 18 the last number lands within 16 before the first, so
	 * one FCI takes both. */
	static const size_t steps[] = {1, 16, 17, 18, 4096, 32768};
	static const size_t want[] = {3856, 2048, 3855, 3640, 16, 2};
	size_t len;

	for (size_t k = 0; k < HL_ARRAY_SIZE(steps); k++) {
		size_t n = 0, fcis;

		for (size_t s = 7; s < 65536 + 7; s += steps[k])
			seqs[n++] = (uint16_t)s;
		HT_EQ_INT(hl_rtcp_write_nack(1, 2, seqs, n, out, sizeof(out),
					     &len),
			  0);
		fcis = (len - 12) / 4;
		HT_EQ_INT(fcis, want[k]);
		memset(seen, 0, sizeof(seen));
		for (size_t off = 12; off < len; off += 4) {
			struct hl_rtcp_nack one = {.n_fci = 1};
			uint16_t got[17];
			size_t ng;

			one.pid[0] = hl_get_be16(out + off);
			one.blp[0] = hl_get_be16(out + off + 2);
			ng = hl_rtcp_nack_seqs(&one, got, 17);
			for (size_t i = 0; i < ng; i++) {
				HT_ASSERT(!seen[got[i]]);
				seen[got[i]] = true;
			}
		}
		for (size_t i = 0; i < n; i++)
			HT_ASSERT(seen[seqs[i]]);
		{
			size_t c = 0;

			for (size_t i = 0; i < 65536; i++)
				c += seen[i];
			HT_EQ_INT(c, n);
		}
	}
	/* The set {100, 32868}: two equal gaps; the first after the lower
	 * gap starts, so 32868 comes first. */
	seqs[0] = 100;
	seqs[1] = 32868;
	HT_EQ_INT(hl_rtcp_write_nack(1, 2, seqs, 2, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, 20);
	HT_EQ_INT(hl_get_be16(out + 12), 32868);
	HT_EQ_INT(hl_get_be16(out + 16), 100);
	return 0;
}

static int test_rtcp_pli_known(void)
{
	uint8_t buf[32], out[32];
	size_t n = unhex("81ce00020000000112345678", buf, sizeof(buf)), len;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;

	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_PLI);
	HT_EQ_INT(pk.u.pli.sender_ssrc, 1);
	HT_EQ_INT(pk.u.pli.media_ssrc, 0x12345678);
	HT_EQ_INT(hl_rtcp_write_pli(1, 0x12345678, out, 11, &len), HL_ETOOBIG);
	HT_EQ_INT(hl_rtcp_write_pli(1, 0x12345678, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, n);
	HT_EQ_MEM(out, buf, n);
	/* PLI without the media SSRC. */
	n = unhex("81ce000100000001", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	return 0;
}

/* draft-alvestrand-rmcat-remb-03 §2.2 layout, written by hand. */
static int test_rtcp_remb_known(void)
{
	static const char hex[] = "8fce0006"
				  "00000001" /* sender SSRC */
				  "00000000" /* media SSRC: always 0 */
				  "52454d42" /* "REMB" */
				  "02"	     /* 2 SSRCs */
				  "0bd090"   /* exp 2, mantissa 250000 */
				  "aaaaaaaa"
				  "bbbbbbbb";
	static const uint32_t ssrcs[] = {0xaaaaaaaa, 0xbbbbbbbb};
	uint8_t buf[64], out[64];
	size_t n = unhex(hex, buf, sizeof(buf)), len;
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;

	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_REMB);
	HT_EQ_INT(pk.u.remb.sender_ssrc, 1);
	HT_EQ_INT(pk.u.remb.bitrate_bps, 1000000);
	HT_EQ_INT(pk.u.remb.n_ssrcs, 2);
	HT_EQ_INT(pk.u.remb.ssrcs[1], 0xbbbbbbbb);
	HT_EQ_INT(hl_rtcp_write_remb(1, 1000000, ssrcs, 2, out, sizeof(out),
				     &len),
		  0);
	HT_EQ_INT(len, n);
	HT_EQ_MEM(out, buf, n);
	/* 1000003 is not representable with exponent 2: rounded down. */
	HT_EQ_INT(hl_rtcp_write_remb(1, 1000003, ssrcs, 2, out, sizeof(out),
				     &len),
		  0);
	HT_EQ_MEM(out, buf, n);

	/* Rounding down, at every scale up to 2^64 - 1. */
	{
		struct hl_prng p;

		hl_prng_seed(&p, 4);
		for (int i = 0; i < 3000; i++) {
			uint64_t br = hl_prng_next(&p) >> hl_prng_below(&p, 64);
			uint64_t got;

			if (i == 0)
				br = UINT64_MAX;
			if (i == 1)
				br = 0;
			if (i == 2)
				br = 0x3ffff;
			HT_EQ_INT(hl_rtcp_write_remb(5, br, NULL, 0, out,
						     sizeof(out), &len),
				  0);
			HT_EQ_INT(len, 20);
			hl_rtcp_iter_init(&it, out, len);
			HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
			HT_EQ_INT(pk.type, HL_RTCP_T_REMB);
			got = pk.u.remb.bitrate_bps;
			HT_ASSERT(got <= br);
			/* Within one step of the 18-bit mantissa. */
			HT_ASSERT(br - got <= (br >> 17));
			if (br <= 0x3ffff)
				HT_ASSERT(got == br);
		}
	}
	/* Exponent 63 with mantissa 2 overflows 64 bits: malformed. */
	n = unhex("8fce000400000001000000005245"
		  "4d4200fc0002",
		  buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* Exponent 46 and the largest mantissa fit exactly. */
	n = unhex("8fce000400000001000000005245"
		  "4d4200bbffff",
		  buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_ASSERT(pk.u.remb.bitrate_bps == 0x3ffffull << 46);
	/* Num SSRC larger than the packet. */
	n = unhex("8fce000400000001000000005245"
		  "4d42010bd090",
		  buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EPARSE);
	/* Other application-layer feedback (not "REMB"): skipped. */
	n = unhex("8fce00040000000100000000474f4f4701020304", buf, sizeof(buf));
	hl_rtcp_iter_init(&it, buf, n);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_OTHER);
	/* Writer limits. */
	{
		uint32_t many[HL_RTCP_MAX_REMB_SSRCS + 1] = {0};

		HT_EQ_INT(hl_rtcp_write_remb(1, 1, many, HL_ARRAY_SIZE(many),
					     out, sizeof(out), &len),
			  HL_EINVAL);
		HT_EQ_INT(hl_rtcp_write_remb(1, 1, many, 8, out, 51, &len),
			  HL_ETOOBIG);
		HT_EQ_INT(hl_rtcp_write_remb(1, 1, many, 8, out, 52, &len), 0);
	}
	return 0;
}

/* REMB with more SSRCs than kept: the first 8 are kept. */
static int test_rtcp_remb_many_ssrcs(void)
{
	uint8_t buf[20 + 4 * 12];
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;

	memset(buf, 0, sizeof(buf));
	buf[0] = 0x8f;
	buf[1] = HL_RTCP_PSFB;
	hl_put_be16(buf + 2, sizeof(buf) / 4 - 1);
	memcpy(buf + 12, "REMB", 4);
	buf[16] = 12;
	buf[19] = 100;
	for (int i = 0; i < 12; i++)
		hl_put_be32(buf + 20 + 4 * i, (uint32_t)i + 1);
	hl_rtcp_iter_init(&it, buf, sizeof(buf));
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_REMB);
	HT_EQ_INT(pk.u.remb.bitrate_bps, 100);
	HT_EQ_INT(pk.u.remb.n_ssrcs, HL_RTCP_MAX_REMB_SSRCS);
	HT_EQ_INT(pk.u.remb.ssrcs[7], 8);
	return 0;
}

static int test_rtcp_compound_rules(void)
{
	static const struct {
		const char *hex;
		int n_ok;     /* packets parsed before the end */
		int last;     /* HL_EAGAIN or HL_EPARSE */
		int first_ty; /* type of the first packet, if any */
	} cases[] = {
		/* RFC 5506: a compound need not start with SR/RR. */
		{"81ce00020000000112345678", 1, HL_EAGAIN, HL_RTCP_T_PLI},
		/* Padding on the last packet (RR, RC = 0, 4 bytes pad). */
		{"a0c900020000000700000004", 1, HL_EAGAIN, HL_RTCP_T_RR},
		/* Padding on a packet that is not last. */
		{"a0c900020000000700000004"
		 "81ce00020000000112345678",
		 0, HL_EPARSE, 0},
		/* Padding count 0, and larger than the packet body. */
		{"a0c900020000000700000000", 0, HL_EPARSE, 0},
		{"a0c900010000000d", 0, HL_EPARSE, 0},
		/* Version 1 and 3. */
		{"40c9000100000007", 0, HL_EPARSE, 0},
		{"c0c9000100000007", 0, HL_EPARSE, 0},
		/* Length beyond the datagram. */
		{"80c9000500000007", 0, HL_EPARSE, 0},
		/* Trailing bytes too short for a header. */
		{"80c9000100000007"
		 "80c9",
		 1, HL_EPARSE, HL_RTCP_T_RR},
		/* RC larger than the blocks present. */
		{"81c9000100000007", 0, HL_EPARSE, 0},
		{"81c8000600000007000000000000000000000000000000000000000000",
		 0, HL_EPARSE, 0},
		/* SR shorter than its sender info. */
		{"80c8000100000007", 0, HL_EPARSE, 0},
		/* RR without its SSRC (length 0). */
		{"80c90000", 0, HL_EPARSE, 0},
		/* Types and formats not understood are skipped: APP, XR,
		 * transport-cc (RTPFB 15), FIR (PSFB 4), then a PLI. */
		{"80cc00020000000161626364"
		 "80cf000100000001"
		 "8fcd00040000000100000002000100020000aaaa"
		 "84ce000400000001000000000000000201000000"
		 "81ce00020000000112345678",
		 5, HL_EAGAIN, HL_RTCP_T_OTHER},
		/* Empty compound. */
		{"", 0, HL_EAGAIN, 0},
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		uint8_t buf[256], *c;
		size_t n = unhex(cases[i].hex, buf, sizeof(buf));
		struct hl_rtcp_iter it;
		struct hl_rtcp_packet pk;
		int ok = 0, rc, first = 0;

		HT_ASSERT(c = exact(buf, n));
		hl_rtcp_iter_init(&it, c, n);
		while ((rc = hl_rtcp_next(&it, &pk)) == 0) {
			if (ok++ == 0)
				first = (int)pk.type;
		}
		/* After the end (or an error) the iterator stays at the end. */
		if (hl_rtcp_next(&it, &pk) != HL_EAGAIN)
			rc = 1000;
		hl_free(c);
		if (ok != cases[i].n_ok || rc != cases[i].last)
			fprintf(stderr, "case %zu: %d ok, rc %d\n", i, ok, rc);
		HT_EQ_INT(ok, cases[i].n_ok);
		HT_EQ_INT(rc, cases[i].last);
		if (ok)
			HT_EQ_INT(first, cases[i].first_ty);
	}
	return 0;
}

static void random_block(struct hl_prng *p, struct hl_rtcp_report_block *b)
{
	b->ssrc = (uint32_t)hl_prng_next(p);
	b->fraction_lost = (uint8_t)hl_prng_next(p);
	b->cumulative_lost = (int32_t)hl_prng_below(p, 1 << 24) - 0x800000;
	b->ext_highest_seq = (uint32_t)hl_prng_next(p);
	b->jitter = (uint32_t)hl_prng_next(p);
	b->lsr = (uint32_t)hl_prng_next(p);
	b->dlsr = (uint32_t)hl_prng_next(p);
}

static int blocks_equal(const struct hl_rtcp_report_block *a,
			const struct hl_rtcp_report_block *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		HT_EQ_INT(a[i].ssrc, b[i].ssrc);
		HT_EQ_INT(a[i].fraction_lost, b[i].fraction_lost);
		HT_EQ_INT(a[i].cumulative_lost, b[i].cumulative_lost);
		HT_EQ_INT(a[i].ext_highest_seq, b[i].ext_highest_seq);
		HT_EQ_INT(a[i].jitter, b[i].jitter);
		HT_EQ_INT(a[i].lsr, b[i].lsr);
		HT_EQ_INT(a[i].dlsr, b[i].dlsr);
	}
	return 0;
}

/* A compound holding one packet of every kind, from random values. */
struct kitchen {
	struct hl_rtcp_sr sr;
	struct hl_rtcp_rr rr;
	char cname[40];
	uint32_t bye_ssrc;
	uint16_t lost[20];
	size_t n_lost;
	uint32_t remb_ssrcs[3];
	uint64_t remb_bps;
	uint8_t buf[2400];
	size_t len;
	size_t ends[8]; /* offset after each packet */
};

static int kitchen_build(struct hl_prng *p, struct kitchen *k)
{
	size_t len, off = 0, i = 0;

	memset(k, 0, sizeof(*k));
	k->sr.ssrc = (uint32_t)hl_prng_next(p);
	k->sr.ntp = hl_prng_next(p);
	k->sr.rtp_ts = (uint32_t)hl_prng_next(p);
	k->sr.packet_count = (uint32_t)hl_prng_next(p);
	k->sr.octet_count = (uint32_t)hl_prng_next(p);
	k->sr.n_blocks = (uint8_t)hl_prng_below(p, 32);
	for (unsigned b = 0; b < k->sr.n_blocks; b++)
		random_block(p, &k->sr.blocks[b]);
	k->rr.ssrc = (uint32_t)hl_prng_next(p);
	k->rr.n_blocks = (uint8_t)hl_prng_below(p, 32);
	for (unsigned b = 0; b < k->rr.n_blocks; b++)
		random_block(p, &k->rr.blocks[b]);
	for (size_t c = 0, n = 1 + hl_prng_below(p, 39); c < n; c++)
		k->cname[c] = (char)(33 + hl_prng_below(p, 94));
	k->bye_ssrc = (uint32_t)hl_prng_next(p);
	k->n_lost = 1 + hl_prng_below(p, 20);
	for (size_t c = 0; c < k->n_lost; c++)
		k->lost[c] = (uint16_t)(1000 + hl_prng_below(p, 60));
	for (size_t c = 0; c < 3; c++)
		k->remb_ssrcs[c] = (uint32_t)hl_prng_next(p);
	k->remb_bps = hl_prng_below(p, 0x3ffff) << hl_prng_below(p, 20);

#define ADD(call)                   \
	do {                        \
		HT_EQ_INT(call, 0); \
		off += len;         \
		k->ends[i++] = off; \
	} while (0)
	ADD(hl_rtcp_write_sr(&k->sr, k->buf + off, sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_rr(&k->rr, k->buf + off, sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_sdes_cname(k->sr.ssrc, k->cname, k->buf + off,
				     sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_nack(k->sr.ssrc, 77, k->lost, k->n_lost, k->buf + off,
			       sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_pli(k->sr.ssrc, 77, k->buf + off,
			      sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_remb(k->sr.ssrc, k->remb_bps, k->remb_ssrcs, 3,
			       k->buf + off, sizeof(k->buf) - off, &len));
	ADD(hl_rtcp_write_bye(k->bye_ssrc, k->buf + off, sizeof(k->buf) - off,
			      &len));
#undef ADD
	k->len = off;
	return 0;
}

static int kitchen_check(const struct kitchen *k, const uint8_t *buf,
			 size_t len)
{
	struct hl_rtcp_iter it;
	struct hl_rtcp_packet pk;
	uint16_t seqs[64];
	size_t ns;

	hl_rtcp_iter_init(&it, buf, len);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_SR);
	HT_EQ_INT(pk.u.sr.ssrc, k->sr.ssrc);
	HT_ASSERT(pk.u.sr.ntp == k->sr.ntp);
	HT_EQ_INT(pk.u.sr.rtp_ts, k->sr.rtp_ts);
	HT_EQ_INT(pk.u.sr.packet_count, k->sr.packet_count);
	HT_EQ_INT(pk.u.sr.octet_count, k->sr.octet_count);
	HT_EQ_INT(pk.u.sr.n_blocks, k->sr.n_blocks);
	HT_EQ_INT(blocks_equal(pk.u.sr.blocks, k->sr.blocks, k->sr.n_blocks),
		  0);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_RR);
	HT_EQ_INT(pk.u.rr.ssrc, k->rr.ssrc);
	HT_EQ_INT(pk.u.rr.n_blocks, k->rr.n_blocks);
	HT_EQ_INT(blocks_equal(pk.u.rr.blocks, k->rr.blocks, k->rr.n_blocks),
		  0);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_SDES);
	HT_EQ_INT(pk.u.sdes.ssrc, k->sr.ssrc);
	HT_ASSERT(strcmp(pk.u.sdes.cname, k->cname) == 0);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_NACK);
	HT_EQ_INT(pk.u.nack.media_ssrc, 77);
	ns = hl_rtcp_nack_seqs(&pk.u.nack, seqs, 64);
	/* Same set: every written seq is listed, every listed one lost. */
	for (size_t a = 0; a < k->n_lost; a++) {
		bool found = false;

		for (size_t b = 0; b < ns; b++)
			found |= seqs[b] == k->lost[a];
		HT_ASSERT(found);
	}
	for (size_t b = 0; b < ns; b++) {
		bool found = false;

		for (size_t a = 0; a < k->n_lost; a++)
			found |= seqs[b] == k->lost[a];
		HT_ASSERT(found);
		HT_ASSERT(b == 0 || seqs[b] > seqs[b - 1]);
	}
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_PLI);
	HT_EQ_INT(pk.u.pli.media_ssrc, 77);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_REMB);
	HT_ASSERT(pk.u.remb.bitrate_bps == k->remb_bps);
	HT_EQ_INT(pk.u.remb.n_ssrcs, 3);
	HT_EQ_MEM(pk.u.remb.ssrcs, k->remb_ssrcs, sizeof(k->remb_ssrcs));
	HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
	HT_EQ_INT(pk.type, HL_RTCP_T_BYE);
	HT_EQ_INT(pk.u.bye.n_ssrcs, 1);
	HT_EQ_INT(pk.u.bye.ssrcs[0], k->bye_ssrc);
	HT_EQ_INT(hl_rtcp_next(&it, &pk), HL_EAGAIN);
	return 0;
}

static int test_rtcp_writers_roundtrip(void)
{
	static struct kitchen k;
	struct hl_prng p;

	hl_prng_seed(&p, 5);
	for (int iter = 0; iter < 500; iter++) {
		HT_EQ_INT(kitchen_build(&p, &k), 0);
		HT_EQ_INT(kitchen_check(&k, k.buf, k.len), 0);
	}
	return 0;
}

static int test_rtcp_write_limits(void)
{
	static struct hl_rtcp_sr sr;
	static struct hl_rtcp_rr rr;
	uint8_t out[1024];
	size_t len;

	memset(&sr, 0, sizeof(sr));
	memset(&rr, 0, sizeof(rr));
	sr.n_blocks = 32;
	rr.n_blocks = 32;
	HT_EQ_INT(hl_rtcp_write_sr(&sr, out, sizeof(out), &len), HL_EINVAL);
	HT_EQ_INT(hl_rtcp_write_rr(&rr, out, sizeof(out), &len), HL_EINVAL);
	sr.n_blocks = 31;
	rr.n_blocks = 31;
	HT_EQ_INT(hl_rtcp_write_sr(&sr, out, 28 + 24 * 31 - 1, &len),
		  HL_ETOOBIG);
	HT_EQ_INT(hl_rtcp_write_sr(&sr, out, 28 + 24 * 31, &len), 0);
	HT_EQ_INT(len, 28 + 24 * 31);
	HT_EQ_INT(hl_rtcp_write_rr(&rr, out, 8 + 24 * 31 - 1, &len),
		  HL_ETOOBIG);
	HT_EQ_INT(hl_rtcp_write_rr(&rr, out, 8 + 24 * 31, &len), 0);
	/* Cumulative loss outside 24 bits is clamped. */
	rr.n_blocks = 2;
	rr.blocks[0].cumulative_lost = 9000000;
	rr.blocks[1].cumulative_lost = -9000000;
	HT_EQ_INT(hl_rtcp_write_rr(&rr, out, sizeof(out), &len), 0);
	HT_EQ_INT(hl_get_be24(out + 8 + 5), 0x7fffff);
	HT_EQ_INT(hl_get_be24(out + 32 + 5), 0x800000);
	return 0;
}

/* Every prefix of a full compound: whole packets parse, then the end. */
static int test_rtcp_truncations(void)
{
	static struct kitchen k;
	struct hl_prng p;

	hl_prng_seed(&p, 6);
	for (int iter = 0; iter < 4; iter++) {
		HT_EQ_INT(kitchen_build(&p, &k), 0);
		for (size_t l = 0; l <= k.len; l++) {
			uint8_t *c = exact(k.buf, l);
			struct hl_rtcp_iter it;
			struct hl_rtcp_packet pk;
			int ok = 0, rc, whole = 0;
			bool boundary = l == 0;

			HT_ASSERT(c);
			for (int j = 0; j < 7; j++) {
				if (k.ends[j] <= l)
					whole++;
				if (k.ends[j] == l)
					boundary = true;
			}
			hl_rtcp_iter_init(&it, c, l);
			while ((rc = hl_rtcp_next(&it, &pk)) == 0)
				ok++;
			hl_free(c);
			HT_EQ_INT(ok, whole);
			HT_EQ_INT(rc, boundary ? HL_EAGAIN : HL_EPARSE);
		}
	}
	return 0;
}

/* Random corruption: the iterator ends, never reads past the end. */
static int test_rtcp_mutations(void)
{
	static struct kitchen k;
	struct hl_prng p;
	uint8_t m[sizeof(k.buf)];

	hl_prng_seed(&p, 7);
	HT_EQ_INT(kitchen_build(&p, &k), 0);
	for (int iter = 0; iter < 20000; iter++) {
		size_t l = k.len - hl_prng_below(&p, 64);
		int flips = 1 + (int)hl_prng_below(&p, 4), steps = 0, rc;
		struct hl_rtcp_iter it;
		struct hl_rtcp_packet pk;
		uint8_t *c;

		memcpy(m, k.buf, k.len);
		for (int f = 0; f < flips; f++) {
			/* Mostly hit headers: the first 4 bytes of a packet. */
			size_t at = hl_prng_below(&p, 2)
					    ? k.ends[hl_prng_below(&p, 6)] +
						      hl_prng_below(&p, 4)
					    : hl_prng_below(&p, k.len);

			m[at % k.len] ^= (uint8_t)(1 + hl_prng_below(&p, 255));
		}
		HT_ASSERT(c = exact(m, l));
		hl_rtcp_iter_init(&it, c, l);
		while ((rc = hl_rtcp_next(&it, &pk)) == 0)
			HT_ASSERT(++steps <= (int)l / 4);
		hl_free(c);
		HT_ASSERT(rc == HL_EAGAIN || rc == HL_EPARSE);
	}
	return 0;
}

/* ---- NTP, receive statistics, RTT ----------------------------------- */

static int test_ntp(void)
{
	struct hl_prng p;

	HT_ASSERT(hl_ntp_from_us(0) == 0);
	HT_ASSERT(hl_ntp_from_us(1500000) == (1ull << 32 | 0x80000000u));
	HT_ASSERT(hl_ntp_from_us(1) == 4295); /* 2^32 / 10^6, rounded */
	HT_ASSERT(hl_ntp_from_us(999999) == 0xffffef39ull);
	HT_ASSERT(hl_ntp_to_us(1ull << 32 | 0x40000000u) == 1250000);
	HT_ASSERT(hl_ntp_to_us(0xffffffffull) == 1000000); /* rounds up */
	HT_EQ_INT(hl_ntp_mid32(0x0001234567890000ull), 0x23456789);
	HT_EQ_INT(hl_ntp_mid32(hl_ntp_from_us(1500000)), 0x18000);
	hl_prng_seed(&p, 8);
	for (int i = 0; i < 200000; i++) {
		uint64_t us = hl_prng_below(&p, 4294967296ull * 1000000);

		if (i < 1000000 / 997)
			us = (uint64_t)i * 997; /* fractions across a second */
		HT_ASSERT(hl_ntp_to_us(hl_ntp_from_us(us)) == us);
	}
	/* Monotonic. */
	for (uint64_t us = 0; us < 3000000; us += 7)
		HT_ASSERT(hl_ntp_from_us(us + 1) > hl_ntp_from_us(us));
	return 0;
}

static void feed(struct hl_rtp_rx_stats *s, uint16_t seq, uint32_t ts,
		 uint64_t at)
{
	hl_rtp_rx_stats_update(s, seq, ts, at);
}

static int test_rx_stats_wrap_and_probation(void)
{
	struct hl_rtp_rx_stats s;
	struct hl_rtcp_report_block b;
	uint64_t t = 1000000;
	uint32_t ts = 0;
	uint16_t seq = 65530;

	hl_rtp_rx_stats_init(&s, 0xabc, HL_VP8_CLOCK);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.ssrc, 0xabc);
	HT_EQ_INT(b.ext_highest_seq, 0);
	/* First packet: probation, not counted yet (RFC 3550 A.1). */
	feed(&s, seq++, ts += 3000, t += 33333);
	HT_EQ_INT(s.received, 0);
	HT_ASSERT(s.probation > 0);
	for (int i = 0; i < 15; i++)
		feed(&s, seq++, ts += 3000, t += 33333);
	HT_EQ_INT(s.probation, 0);
	HT_EQ_INT(s.received, 15);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.ssrc, 0xabc);
	HT_EQ_INT(b.ext_highest_seq, 65536 + 9); /* cycle 1, seq 9 */
	HT_EQ_INT(b.cumulative_lost, 0);
	HT_EQ_INT(b.fraction_lost, 0);
	HT_EQ_INT(b.lsr, 0);
	HT_EQ_INT(b.dlsr, 0);

	/* A duplicate and a late packet: counted, max unchanged; loss
	 * goes negative (more received than expected). */
	feed(&s, 5, ts, t += 1000);
	feed(&s, 65533, ts, t += 1000);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.ext_highest_seq, 65536 + 9);
	HT_EQ_INT(b.cumulative_lost, -2);
	HT_EQ_INT(b.fraction_lost, 0);

	/* A jump of 10000: dropped until the next packet confirms it. */
	feed(&s, 10010, ts, t += 1000);
	HT_EQ_INT(s.max_seq, 9);
	feed(&s, 10, ts, t += 1000); /* in order again: fine */
	HT_EQ_INT(s.max_seq, 10);
	feed(&s, 20000, ts, t += 1000);
	feed(&s, 20001, ts, t += 1000); /* confirmed: restart there */
	HT_EQ_INT(s.max_seq, 20001);
	HT_EQ_INT(s.base_seq, 20001);
	HT_EQ_INT(s.received, 1);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.ext_highest_seq, 20001);
	HT_EQ_INT(b.cumulative_lost, 0);
	return 0;
}

static int test_rx_stats_loss(void)
{
	struct hl_rtp_rx_stats s;
	struct hl_rtcp_report_block b;
	uint64_t t = 5000000;
	uint16_t s0 = 65000; /* wraps during the run */
	int i;

	hl_rtp_rx_stats_init(&s, 1, HL_OPUS_CLOCK);
	/* Interval 1: packets 0..1000, every 10th from 5 lost (100). */
	for (i = 0; i <= 1000; i++)
		if (i % 10 != 5)
			feed(&s, (uint16_t)(s0 + i), (uint32_t)i * 960,
			     t + (uint64_t)i * 20000);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.ext_highest_seq, 65536 + (s0 + 1000 - 65536));
	HT_EQ_INT(b.cumulative_lost, 100);
	HT_EQ_INT(b.fraction_lost, 100 * 256 / 1000); /* 25 */
	/* Interval 2: 1001..1500, every 4th from 1001 lost (125/500). */
	for (; i <= 1500; i++)
		if (i % 4 != 1)
			feed(&s, (uint16_t)(s0 + i), (uint32_t)i * 960,
			     t + (uint64_t)i * 20000);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.cumulative_lost, 225);
	HT_EQ_INT(b.fraction_lost, 64); /* 125 * 256 / 500 */
	/* Interval 3: nothing at all. */
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.fraction_lost, 0);
	HT_EQ_INT(b.cumulative_lost, 225);
	/* Interval 4: 9 lost, 1 received. */
	feed(&s, (uint16_t)(s0 + 1510), 0, t);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.fraction_lost, 9 * 256 / 10);
	HT_EQ_INT(b.cumulative_lost, 234);
	/* Interval 5: only duplicates: more received than expected. */
	feed(&s, (uint16_t)(s0 + 1510), 0, t);
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.fraction_lost, 0);
	HT_EQ_INT(b.cumulative_lost, 233);

	/* Cumulative loss clamps at 2^23 - 1: jumps of 2999 are in range
	 * (MAX_DROPOUT 3000), each losing 2998 packets. */
	hl_rtp_rx_stats_init(&s, 1, HL_OPUS_CLOCK);
	{
		uint16_t seq = 0;

		feed(&s, seq++, 0, t);
		for (i = 0; i < 3000; i++, seq = (uint16_t)(seq + 2999))
			feed(&s, seq, 0, t);
	}
	hl_rtp_rx_stats_block(&s, t, &b);
	HT_EQ_INT(b.cumulative_lost, 0x7fffff);
	HT_EQ_INT(b.fraction_lost, 255); /* 2998/2999 of 256 */
	return 0;
}

static int test_rx_stats_jitter(void)
{
	struct hl_rtp_rx_stats s;
	struct hl_rtcp_report_block b;
	uint64_t t0 = 7000000;

	/* Opus, 20 ms packets; the network delay alternates 0 and 5 ms,
	 * so |D| = 5 ms = 240 units for every packet. */
	hl_rtp_rx_stats_init(&s, 1, HL_OPUS_CLOCK);
	for (int i = 0; i < 3; i++)
		feed(&s, (uint16_t)(100 + i), 4242 + (uint32_t)i * 960,
		     t0 + (uint64_t)i * 20000 + (i % 2) * 5000);
	/* Packet 0 is in probation; packet 1 sets the transit time;
	 * packet 2 gives the first J = 240 / 16. */
	HT_ASSERT(s.jitter == 15.0);
	for (int i = 3; i < 400; i++)
		feed(&s, (uint16_t)(100 + i), 4242 + (uint32_t)i * 960,
		     t0 + (uint64_t)i * 20000 + (i % 2) * 5000);
	HT_ASSERT(fabs(s.jitter - 240.0) < 0.01);
	hl_rtp_rx_stats_block(&s, t0, &b);
	HT_ASSERT(b.jitter == 239 || b.jitter == 240);

	/* VP8 at 90 kHz across the 32-bit timestamp wrap, constant delay
	 * of 80 ms: no jitter at all. */
	hl_rtp_rx_stats_init(&s, 2, HL_VP8_CLOCK);
	for (int i = 0; i < 100; i++)
		feed(&s, (uint16_t)i, 0xfffe0000u + (uint32_t)i * 3000,
		     t0 + 80000 + (uint64_t)i * 100000 / 3);
	hl_rtp_rx_stats_block(&s, t0, &b);
	HT_ASSERT(s.jitter < 1.0); /* rounding of the arrival times only */
	HT_EQ_INT(b.jitter, 0);

	/* One late packet (+30 ms = 2700 units): J jumps by 2700/16, then
	 * the packet after it (back on time) adds 2700/16 of the rest. */
	hl_rtp_rx_stats_init(&s, 3, HL_VP8_CLOCK);
	for (int i = 0; i < 10; i++)
		feed(&s, (uint16_t)i, (uint32_t)i * 9000,
		     t0 + (uint64_t)i * 100000);
	HT_ASSERT(s.jitter == 0.0);
	feed(&s, 10, 90000, t0 + 1000000 + 30000);
	HT_ASSERT(fabs(s.jitter - 2700.0 / 16) < 1e-9);
	feed(&s, 11, 99000, t0 + 1100000);
	HT_ASSERT(fabs(s.jitter - (2700.0 / 16 + (2700 - 2700.0 / 16) / 16)) <
		  1e-9);
	return 0;
}

/* RFC 3550 §6.4.1: an SR/RR exchange over the wire with known delays. */
static int test_rtt_exchange(void)
{
	struct hl_prng p;

	hl_prng_seed(&p, 9);
	for (int iter = 0; iter < 1000; iter++) {
		/* A's and B's clocks are unrelated. */
		uint64_t a_now = 1000000 + hl_prng_below(&p, 1ull << 40);
		uint64_t b_now = hl_prng_below(&p, 1ull << 40);
		uint64_t d1 = hl_prng_below(&p, 400000); /* A -> B */
		uint64_t d2 = hl_prng_below(&p, 400000); /* B -> A */
		uint64_t hold = hl_prng_below(&p, 5000000);
		struct hl_rtcp_sr sr;
		struct hl_rtp_rx_stats bs;
		struct hl_rtcp_rr rr;
		struct hl_rtcp_iter it;
		struct hl_rtcp_packet pk;
		uint8_t wire[256];
		size_t len;
		uint64_t rtt;

		if (iter == 0)
			d1 = d2 = hold = 0;
		memset(&sr, 0, sizeof(sr));
		sr.ssrc = 0xa;
		sr.ntp = hl_ntp_from_us(a_now);
		HT_EQ_INT(hl_rtcp_write_sr(&sr, wire, sizeof(wire), &len), 0);
		/* B receives it d1 later. */
		b_now += d1;
		hl_rtcp_iter_init(&it, wire, len);
		HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
		hl_rtp_rx_stats_init(&bs, 0xa, HL_OPUS_CLOCK);
		hl_rtp_rx_stats_on_sr(&bs, pk.u.sr.ntp, b_now);
		/* B reports hold later; A gets it d2 after that. */
		b_now += hold;
		memset(&rr, 0, sizeof(rr));
		rr.ssrc = 0xb;
		rr.n_blocks = 1;
		hl_rtp_rx_stats_block(&bs, b_now, &rr.blocks[0]);
		HT_EQ_INT(rr.blocks[0].lsr, hl_ntp_mid32(sr.ntp));
		HT_ASSERT(llabs((long long)rr.blocks[0].dlsr -
				(long long)(hold * 65536 / 1000000)) <= 1);
		HT_EQ_INT(hl_rtcp_write_rr(&rr, wire, sizeof(wire), &len), 0);
		a_now += d1 + hold + d2;
		hl_rtcp_iter_init(&it, wire, len);
		HT_EQ_INT(hl_rtcp_next(&it, &pk), 0);
		HT_EQ_INT(hl_rtcp_rtt_us(&pk.u.rr.blocks[0], a_now, &rtt), 0);
		/* Three truncations to 1/65536 s: within ~46 us. */
		if (llabs((long long)rtt - (long long)(d1 + d2)) > 50)
			fprintf(stderr, "rtt %llu want %llu\n",
				(unsigned long long)rtt,
				(unsigned long long)(d1 + d2));
		HT_ASSERT(llabs((long long)rtt - (long long)(d1 + d2)) <= 50);
	}
	return 0;
}

static int test_rtt_guards(void)
{
	struct hl_rtcp_report_block b;
	uint64_t now = 20000000, rtt = 12345;
	uint32_t a = hl_ntp_mid32(hl_ntp_from_us(now));

	memset(&b, 0, sizeof(b));
	/* No SR of ours seen by the peer yet. */
	HT_EQ_INT(hl_rtcp_rtt_us(&b, now, &rtt), HL_EAGAIN);
	HT_EQ_INT(rtt, 12345);
	/* Exact: 0.5 s since LSR, 0.25 s held. */
	b.lsr = a - 32768;
	b.dlsr = 16384;
	HT_EQ_INT(hl_rtcp_rtt_us(&b, now, &rtt), 0);
	HT_EQ_INT(rtt, 250000);
	/* Slightly negative (rounding): 0. */
	b.dlsr = 32768 + 10;
	HT_EQ_INT(hl_rtcp_rtt_us(&b, now, &rtt), 0);
	HT_EQ_INT(rtt, 0);
	/* Held longer than the SR exists: refused, rtt untouched. */
	rtt = 777;
	b.dlsr = 32768 + 1000;
	HT_EQ_INT(hl_rtcp_rtt_us(&b, now, &rtt), HL_EPARSE);
	/* LSR in the future (garbage): refused. */
	b.lsr = a + 65536;
	b.dlsr = 0;
	HT_EQ_INT(hl_rtcp_rtt_us(&b, now, &rtt), HL_EPARSE);
	HT_EQ_INT(rtt, 777);
	/* Across the wrap of the middle 32 bits. */
	b.lsr = 0xffff0000u;
	b.dlsr = 0x8000;
	{
		uint64_t n2 = hl_ntp_to_us(0xffff0000ull << 16) + 1000000;

		HT_EQ_INT(hl_rtcp_rtt_us(&b, n2, &rtt), 0);
		HT_ASSERT(llabs((long long)rtt - 500000) <= 16);
	}
	return 0;
}

static int test_rx_stats_lsr_dlsr(void)
{
	struct hl_rtp_rx_stats s;
	struct hl_rtcp_report_block b;

	hl_rtp_rx_stats_init(&s, 9, HL_VP8_CLOCK);
	hl_rtp_rx_stats_on_sr(&s, 0x0000123456789abcull, 1000000);
	hl_rtp_rx_stats_block(&s, 3000000, &b);
	HT_EQ_INT(b.lsr, 0x12345678);
	HT_EQ_INT(b.dlsr, 2 * 65536);
	/* A clock that went backwards: DLSR 0, not garbage. */
	hl_rtp_rx_stats_block(&s, 500000, &b);
	HT_EQ_INT(b.dlsr, 0);
	/* Held beyond 2^32 units: saturates. */
	hl_rtp_rx_stats_block(&s, 1000000 + 70000ull * 1000000, &b);
	HT_EQ_INT(b.dlsr, UINT32_MAX);
	return 0;
}

/* ---- RTX --------------------------------------------------------- */

static int test_rtx(void)
{
	uint8_t out[32], *c;
	const uint8_t *pl;
	size_t len, pl_len;
	uint16_t osn;

	HT_EQ_INT(hl_rtx_wrap(0xbeef, (const uint8_t *)"abcd", 4, out,
			      sizeof(out), &len),
		  0);
	HT_EQ_INT(len, 6);
	HT_EQ_MEM(out,
		  "\xbe\xef"
		  "abcd",
		  6);
	HT_EQ_INT(hl_rtx_unwrap(out, len, &osn, &pl, &pl_len), 0);
	HT_EQ_INT(osn, 0xbeef);
	HT_EQ_INT(pl_len, 4);
	HT_ASSERT(pl == out + 2);
	HT_EQ_INT(hl_rtx_wrap(1, (const uint8_t *)"abcd", 4, out, 5, &len),
		  HL_ETOOBIG);
	HT_EQ_INT(hl_rtx_wrap(1, NULL, 0, out, 1, &len), HL_ETOOBIG);
	/* Empty original payload (padding probe): OSN only. */
	HT_EQ_INT(hl_rtx_wrap(7, NULL, 0, out, 2, &len), 0);
	HT_EQ_INT(len, 2);
	HT_ASSERT(c = exact(out, 2));
	HT_EQ_INT(hl_rtx_unwrap(c, 2, &osn, &pl, &pl_len), 0);
	HT_EQ_INT(osn, 7);
	HT_EQ_INT(pl_len, 0);
	osn = 99;
	HT_EQ_INT(hl_rtx_unwrap(c, 1, &osn, &pl, &pl_len), HL_EPARSE);
	HT_EQ_INT(hl_rtx_unwrap(c, 0, &osn, &pl, &pl_len), HL_EPARSE);
	HT_EQ_INT(osn, 99);
	hl_free(c);

	/* A whole RTX packet (RFC 4588 §4): RTX header, OSN, payload. */
	{
		struct hl_rtp_header h = {.pt = HL_PT_RTX,
					  .seq = 500,
					  .ts = 90000,
					  .ssrc = 0x4444};
		uint8_t pkt[64];
		struct hl_rtp_header g;
		size_t hl;

		HT_EQ_INT(hl_rtp_write_header(&h, pkt, sizeof(pkt), &hl), 0);
		HT_EQ_INT(hl_rtx_wrap(1234, (const uint8_t *)"\x90\x80", 2,
				      pkt + hl, sizeof(pkt) - hl, &len),
			  0);
		HT_EQ_INT(hl_rtp_parse(pkt, hl + len, &g, &pl, &pl_len), 0);
		HT_EQ_INT(g.pt, HL_PT_RTX);
		HT_EQ_INT(hl_rtx_unwrap(pl, pl_len, &osn, &pl, &pl_len), 0);
		HT_EQ_INT(osn, 1234);
		HT_EQ_INT(pl_len, 2);
		HT_EQ_MEM(pl, "\x90\x80", 2);
	}
	return 0;
}

/* ---- VP8 ----------------------------------------------------------- */

/* Field by field (no memcmp: structs have padding). */
static int vp8_desc_equal(const struct hl_vp8_desc *a,
			  const struct hl_vp8_desc *b)
{
	HT_EQ_INT(a->n, b->n);
	HT_EQ_INT(a->s, b->s);
	HT_EQ_INT(a->pid, b->pid);
	HT_EQ_INT(a->has_picture_id, b->has_picture_id);
	HT_EQ_INT(a->picture_id, b->picture_id);
	HT_EQ_INT(a->picture_id_15, b->picture_id_15);
	HT_EQ_INT(a->has_tl0picidx, b->has_tl0picidx);
	HT_EQ_INT(a->tl0picidx, b->tl0picidx);
	HT_EQ_INT(a->has_tid, b->has_tid);
	HT_EQ_INT(a->tid, b->tid);
	HT_EQ_INT(a->y, b->y);
	HT_EQ_INT(a->has_keyidx, b->has_keyidx);
	HT_EQ_INT(a->keyidx, b->keyidx);
	HT_EQ_INT(a->len, b->len);
	return 0;
}

static int test_vp8_desc_known(void)
{
	static const struct {
		const char *hex;
		size_t len;
		bool n, s;
		uint8_t pid;
		int picture_id; /* -1: absent */
		bool m;
		int tl0; /* -1: absent */
		int tid; /* -1: absent */
		bool y;
		int keyidx; /* -1: absent */
	} cases[] = {
		/* Minimal: S=1, PID 0. */
		{"10", 1, false, true, 0, -1, false, -1, -1, false, -1},
		/* Chromium default: X, S; I with M: 15-bit picture id. */
		{"9080b039", 4, false, true, 0, 0x3039, true, -1, -1, false,
		 -1},
		/* 7-bit picture id 0x55, N=1, PID 3, not start. */
		{"a38055", 3, true, false, 3, 0x55, false, -1, -1, false, -1},
		/* I, L, T: picture id 0x1234, TL0PICIDX 5, TID 2 Y=1;
		 * the KEYIDX bits are ignored without K. */
		{"90e0923405bf", 6, false, true, 0, 0x1234, true, 5, 2, true,
		 -1},
		/* K only: KEYIDX 31, TID/Y bits ignored. */
		{"8010ff", 3, false, false, 0, -1, false, -1, -1, false, 31},
		/* T and K share the byte: TID 1, Y 0, KEYIDX 9. */
		{"803049", 3, false, false, 0, -1, false, -1, 1, false, 9},
		/* X with no optional field; reserved bits set, ignored. */
		{"df0f", 2, false, true, 7, -1, false, -1, -1, false, -1},
		/* Reserved bits only. */
		{"48", 1, false, false, 0, -1, false, -1, -1, false, -1},
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		uint8_t buf[16], out[16];
		size_t n = unhex(cases[i].hex, buf, sizeof(buf)), len;
		struct hl_vp8_desc d, e;

		/* With trailing payload, and every truncation of it. */
		buf[n] = 0x9d;
		for (size_t l = 0; l <= n + 1; l++) {
			uint8_t *c = exact(buf, l);
			int rc;

			HT_ASSERT(c);
			rc = hl_vp8_desc_parse(c, l, &d);
			hl_free(c);
			HT_EQ_INT(rc, l < n ? HL_EPARSE : 0);
		}
		HT_EQ_INT(hl_vp8_desc_parse(buf, n + 1, &d), 0);
		HT_EQ_INT(d.len, cases[i].len);
		HT_EQ_INT(d.n, cases[i].n);
		HT_EQ_INT(d.s, cases[i].s);
		HT_EQ_INT(d.pid, cases[i].pid);
		HT_EQ_INT(d.has_picture_id, cases[i].picture_id >= 0);
		if (d.has_picture_id) {
			HT_EQ_INT(d.picture_id, cases[i].picture_id);
			HT_EQ_INT(d.picture_id_15, cases[i].m);
		}
		HT_EQ_INT(d.has_tl0picidx, cases[i].tl0 >= 0);
		if (d.has_tl0picidx)
			HT_EQ_INT(d.tl0picidx, cases[i].tl0);
		HT_EQ_INT(d.has_tid, cases[i].tid >= 0);
		if (d.has_tid)
			HT_EQ_INT(d.tid, cases[i].tid);
		HT_EQ_INT(d.y, cases[i].y);
		HT_EQ_INT(d.has_keyidx, cases[i].keyidx >= 0);
		if (d.has_keyidx)
			HT_EQ_INT(d.keyidx, cases[i].keyidx);
		/* Written back: same fields (reserved bits cleared, an empty
		 * extension byte dropped). */
		HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), 0);
		HT_EQ_INT(hl_vp8_desc_parse(out, len, &e), 0);
		HT_EQ_INT(e.len, len);
		e.len = d.len;
		HT_EQ_INT(vp8_desc_equal(&e, &d), 0);
		/* Same bytes, except for the ignored bits of the last byte
		 * in cases 3 and 4. */
		if (i < 6) {
			HT_EQ_INT(len, n);
			HT_EQ_MEM(out, buf, n - (i == 3 || i == 4));
		}
	}
	return 0;
}

static int test_vp8_desc_write(void)
{
	struct hl_vp8_desc d;
	uint8_t out[8];
	size_t len;
	struct hl_prng p;

	memset(&d, 0, sizeof(d));
	d.pid = 8;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.pid = 0;
	d.has_picture_id = true;
	d.picture_id = 128;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.picture_id_15 = true;
	d.picture_id = 0x8000;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.picture_id = 0x7fff;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), 0);
	HT_EQ_INT(len, 4);
	d.has_tid = true;
	d.tid = 4;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.has_tid = false;
	d.tid = 0;
	d.y = true;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.y = false;
	d.has_keyidx = true;
	d.keyidx = 32;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), HL_EINVAL);
	d.keyidx = 31;
	HT_EQ_INT(hl_vp8_desc_write(&d, out, 4, &len), HL_ETOOBIG);
	HT_EQ_INT(hl_vp8_desc_write(&d, out, 5, &len), 0);

	hl_prng_seed(&p, 10);
	for (int i = 0; i < 5000; i++) {
		struct hl_vp8_desc e;

		memset(&d, 0, sizeof(d));
		d.n = hl_prng_below(&p, 2);
		d.s = hl_prng_below(&p, 2);
		d.pid = (uint8_t)hl_prng_below(&p, 8);
		d.has_picture_id = hl_prng_below(&p, 2);
		if (d.has_picture_id) {
			d.picture_id_15 = hl_prng_below(&p, 2);
			d.picture_id = (uint16_t)hl_prng_below(
				&p, d.picture_id_15 ? 32768 : 128);
		}
		d.has_tl0picidx = hl_prng_below(&p, 2);
		if (d.has_tl0picidx)
			d.tl0picidx = (uint8_t)hl_prng_next(&p);
		d.has_tid = hl_prng_below(&p, 2);
		if (d.has_tid) {
			d.tid = (uint8_t)hl_prng_below(&p, 4);
			d.y = hl_prng_below(&p, 2);
		}
		d.has_keyidx = hl_prng_below(&p, 2);
		if (d.has_keyidx)
			d.keyidx = (uint8_t)hl_prng_below(&p, 32);
		HT_EQ_INT(hl_vp8_desc_write(&d, out, sizeof(out), &len), 0);
		HT_EQ_INT(hl_vp8_desc_parse(out, len, &e), 0);
		d.len = len;
		HT_EQ_INT(vp8_desc_equal(&e, &d), 0);
	}
	return 0;
}

static int test_vp8_frame_info_known(void)
{
	/* Key frame (RFC 6386 §9.1): version 0, shown, first partition
	 * 0x1234 bytes: tag = 0x1234 << 5 | 1 << 4 = 0x24690; 640x480,
	 * horizontal scale 1 (bit 14 of the width word). */
	static const uint8_t key[] = {0x90, 0x46, 0x02, 0x9d, 0x01,
				      0x2a, 0x80, 0x42, 0xe0, 0x01};
	/* Delta frame: P = 1, version 2, not shown, size 100. */
	static const uint8_t delta[] = {(100 << 5 | 2 << 1 | 1) & 0xff,
					(100 << 5) >> 8, 0};
	struct hl_vp8_frame_info fi;
	uint8_t bad[10];

	for (size_t l = 0; l <= sizeof(key); l++) {
		uint8_t *c = exact(key, l);
		int rc;

		HT_ASSERT(c);
		rc = hl_vp8_frame_info(c, l, &fi);
		hl_free(c);
		HT_EQ_INT(rc, l < sizeof(key) ? HL_EPARSE : 0);
	}
	HT_EQ_INT(hl_vp8_frame_info(key, sizeof(key), &fi), 0);
	HT_ASSERT(fi.keyframe);
	HT_EQ_INT(fi.version, 0);
	HT_ASSERT(fi.show_frame);
	HT_EQ_INT(fi.first_part_size, 0x1234);
	HT_EQ_INT(fi.width, 640);
	HT_EQ_INT(fi.hscale, 1);
	HT_EQ_INT(fi.height, 480);
	HT_EQ_INT(fi.vscale, 0);
	HT_EQ_INT(fi.header_len, 10);

	HT_EQ_INT(hl_vp8_frame_info(delta, 2, &fi), HL_EPARSE);
	HT_EQ_INT(hl_vp8_frame_info(delta, 3, &fi), 0);
	HT_ASSERT(!fi.keyframe);
	HT_EQ_INT(fi.version, 2);
	HT_ASSERT(!fi.show_frame);
	HT_EQ_INT(fi.first_part_size, 100);
	HT_EQ_INT(fi.width, 0);
	HT_EQ_INT(fi.header_len, 3);
	/* Largest partition size: 19 bits. */
	{
		static const uint8_t big[] = {0xe1, 0xff, 0xff};

		HT_EQ_INT(hl_vp8_frame_info(big, 3, &fi), 0);
		HT_EQ_INT(fi.first_part_size, 0x7ffff);
	}
	/* Key frame with a wrong start code. */
	memcpy(bad, key, sizeof(bad));
	bad[5] = 0x2b;
	HT_EQ_INT(hl_vp8_frame_info(bad, sizeof(bad), &fi), HL_EPARSE);
	return 0;
}

/* Frames from libvpx itself: key frame size and flags, then deltas. */
static int test_vp8_frame_info_libvpx(void)
{
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	vpx_image_t img;
	int frames = 0, keys = 0, fails = 0;

	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0))
		return -1;
	cfg.g_w = 176;
	cfg.g_h = 144;
	cfg.g_timebase.num = 1;
	cfg.g_timebase.den = 30;
	cfg.rc_target_bitrate = 300;
	cfg.g_lag_in_frames = 0;
	cfg.kf_max_dist = 1000;
	HT_ASSERT(vpx_img_alloc(&img, VPX_IMG_FMT_I420, 176, 144, 1));
	if (vpx_codec_enc_init(&ctx, vpx_codec_vp8_cx(), &cfg, 0)) {
		vpx_img_free(&img);
		return -1;
	}
	for (int f = 0; f < 5; f++) {
		vpx_codec_iter_t it = NULL;
		const vpx_codec_cx_pkt_t *pkt;

		for (unsigned y = 0; y < 144; y++)
			for (unsigned x = 0; x < 176; x++)
				img.planes[0][y * img.stride[0] + x] =
					(uint8_t)(x + y + 7 * f);
		memset(img.planes[1], 128, (size_t)img.stride[1] * 72);
		memset(img.planes[2], 128, (size_t)img.stride[2] * 72);
		if (vpx_codec_encode(&ctx, &img, f, 1, 0, VPX_DL_REALTIME)) {
			fails++;
			break;
		}
		while ((pkt = vpx_codec_get_cx_data(&ctx, &it))) {
			struct hl_vp8_frame_info fi;
			bool key;

			if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
				continue;
			key = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
			frames++;
			if (hl_vp8_frame_info(pkt->data.frame.buf,
					      pkt->data.frame.sz, &fi) ||
			    fi.keyframe != key ||
			    fi.first_part_size >= pkt->data.frame.sz ||
			    (key && (fi.width != 176 || fi.height != 144)))
				fails++;
			keys += key;
		}
	}
	vpx_codec_destroy(&ctx);
	vpx_img_free(&img);
	HT_EQ_INT(fails, 0);
	HT_EQ_INT(frames, 5);
	HT_EQ_INT(keys, 1);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_rtp_parse_known),
	HT_TEST(test_rtp_parse_bad),
	HT_TEST(test_rtp_write_roundtrip),
	HT_TEST(test_rtp_write_invalid),
	HT_TEST(test_rtp_truncations),
	HT_TEST(test_demux),
	HT_TEST(test_split),
	HT_TEST(test_rtcp_chromium_compound),
	HT_TEST(test_rtcp_sr_known),
	HT_TEST(test_rtcp_bye_known),
	HT_TEST(test_rtcp_sdes_variants),
	HT_TEST(test_rtcp_nack_known),
	HT_TEST(test_rtcp_nack_truncated),
	HT_TEST(test_rtcp_nack_random),
	HT_TEST(test_rtcp_nack_extremes),
	HT_TEST(test_rtcp_pli_known),
	HT_TEST(test_rtcp_remb_known),
	HT_TEST(test_rtcp_remb_many_ssrcs),
	HT_TEST(test_rtcp_compound_rules),
	HT_TEST(test_rtcp_writers_roundtrip),
	HT_TEST(test_rtcp_write_limits),
	HT_TEST(test_rtcp_truncations),
	HT_TEST(test_rtcp_mutations),
	HT_TEST(test_ntp),
	HT_TEST(test_rx_stats_wrap_and_probation),
	HT_TEST(test_rx_stats_loss),
	HT_TEST(test_rx_stats_jitter),
	HT_TEST(test_rx_stats_lsr_dlsr),
	HT_TEST(test_rtt_exchange),
	HT_TEST(test_rtt_guards),
	HT_TEST(test_rtx),
	HT_TEST(test_vp8_desc_known),
	HT_TEST(test_vp8_desc_write),
	HT_TEST(test_vp8_frame_info_known),
	HT_TEST(test_vp8_frame_info_libvpx),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
