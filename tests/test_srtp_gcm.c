/*
 * test_srtp_gcm.c - libsrtp2's AES-128-GCM replaced by OpenSSL's
 * (src/net/srtp_gcm.c).
 *
 * The first test protects packets with libsrtp's own AES-128-GCM (NSS in
 * Debian's build) before the replacement, then installs ours and checks
 * that it produces the same bytes from the same master key and packets,
 * and that each side opens the other's, for DTLS-SRTP's policy and for
 * 8-byte tags with SRTCP authenticated only: so it must run first in its
 * process (the table's order).  The others check what a receiver relies
 * on: a flipped bit anywhere or a short packet is refused, several
 * streams that share the cipher (libsrtp clones it per SSRC) stay apart,
 * and the cipher objects are freed (LeakSanitizer in `make check`).
 */
#include <string.h>

#include <srtp2/srtp.h>

#include "dtls_internal.h"
#include "harness.h"

#define KEY_LEN SRTP_AES_GCM_128_KEY_LEN_WSALT
#define PKT_MAX 1500

static const uint8_t master[KEY_LEN] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32,
	0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4};

/* DTLS-SRTP's AEAD_AES_128_GCM (16-byte tags, everything encrypted), or
 * with short set: 8-byte tags and SRTCP authenticated only (its payload
 * in clear, all of it authenticated data). */
static int session_of(srtp_t *s, srtp_ssrc_type_t dir, bool short_tags)
{
	srtp_policy_t p;

	memset(&p, 0, sizeof(p));
	if (short_tags) {
		srtp_crypto_policy_set_aes_gcm_128_8_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_8_only_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	}
	p.ssrc.type = dir;
	p.key = (unsigned char *)master;
	p.window_size = 1024;
	return srtp_create(s, &p) == srtp_err_status_ok ? 0 : -1;
}

static int session(srtp_t *s, srtp_ssrc_type_t dir)
{
	return session_of(s, dir, false);
}

/* An RTP packet: version 2, payload type 96, seq, ssrc, n payload bytes. */
static size_t rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t n)
{
	b[0] = 0x80;
	b[1] = 96;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	memset(b + 4, 0, 4);
	b[4] = (uint8_t)(seq >> 4);
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < n; i++)
		b[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + n;
}

/* An RTCP receiver report with one block (32 bytes). */
static size_t rtcp(uint8_t *b, uint32_t ssrc)
{
	memset(b, 0, 32);
	b[0] = 0x81;
	b[1] = 201;
	b[3] = 7;
	b[4] = (uint8_t)(ssrc >> 24);
	b[5] = (uint8_t)(ssrc >> 16);
	b[6] = (uint8_t)(ssrc >> 8);
	b[7] = (uint8_t)ssrc;
	for (int i = 8; i < 32; i++)
		b[i] = (uint8_t)(i * 13);
	return 32;
}

/* Protect a copy of pkt[0..len) into out; its length, 0 on failure. */
static size_t protect(srtp_t s, bool is_rtcp, const uint8_t *pkt, size_t len,
		      uint8_t *out)
{
	int n = (int)len;

	memcpy(out, pkt, len);
	if ((is_rtcp ? srtp_protect_rtcp(s, out, &n)
		     : srtp_protect(s, out, &n)) != srtp_err_status_ok)
		return 0;
	return (size_t)n;
}

/* Unprotect in place: the plaintext's length, or 0 on failure. */
static size_t unprotect(srtp_t s, bool is_rtcp, uint8_t *buf, size_t len)
{
	int n = (int)len;

	if ((is_rtcp ? srtp_unprotect_rtcp(s, buf, &n)
		     : srtp_unprotect(s, buf, &n)) != srtp_err_status_ok)
		return 0;
	return (size_t)n;
}

/* libsrtp up (a second srtp_init returns an error with libsrtp2 2.5.0)
 * and ours installed: what
 * hl_dtls does once per process, done here so that the first test can
 * use libsrtp's own cipher before. */
static bool srtp_up, ours_in;

static bool ours_installed(void)
{
	if (!srtp_up)
		srtp_up = srtp_init() == srtp_err_status_ok;
	if (srtp_up && !ours_in)
		ours_in = hl_srtp_gcm_install();
	return ours_in;
}

#define N_PKT 5
#define N_POL 2 /* session_of's two policies */

static int test_same_bytes_as_libsrtp_own(void)
{
	static const size_t sizes[N_PKT] = {0, 1, 160, 1188, 32};
	static uint8_t plain[N_PKT][PKT_MAX], theirs[N_POL][N_PKT][PKT_MAX],
		ours[N_PKT][PKT_MAX], buf[PKT_MAX];
	size_t plen[N_PKT], tlen[N_POL][N_PKT], olen;
	srtp_t t_out[N_POL] = {0}, t_in[N_POL] = {0}, o_out = NULL, o_in = NULL;
	int rc = -1;

	HT_ASSERT(!srtp_up);
	HT_ASSERT((srtp_up = srtp_init() == srtp_err_status_ok));
	/* libsrtp's own cipher, both policies: packets 0-3 are RTP, 4 is
	 * RTCP. */
	for (int i = 0; i < N_PKT; i++)
		plen[i] = i < 4 ? rtp(plain[i], (uint16_t)(1000 + i),
				      0x11223344, sizes[i])
				: rtcp(plain[i], 0x11223344);
	for (int v = 0; v < N_POL; v++) {
		if (session_of(&t_out[v], ssrc_any_outbound, v) ||
		    session_of(&t_in[v], ssrc_any_inbound, v))
			goto out;
		for (int i = 0; i < N_PKT; i++) {
			tlen[v][i] = protect(t_out[v], i == 4, plain[i],
					     plen[i], theirs[v][i]);
			if (!tlen[v][i])
				goto out;
		}
	}
	/* Ours from here on, for sessions created from now. */
	if (!ours_installed()) {
		fprintf(stderr, "libsrtp refused the OpenSSL AES-GCM\n");
		goto out;
	}
	for (int v = 0; v < N_POL; v++) {
		if (session_of(&o_out, ssrc_any_outbound, v) ||
		    session_of(&o_in, ssrc_any_inbound, v))
			goto out;
		for (int i = 0; i < N_PKT; i++) {
			olen = protect(o_out, i == 4, plain[i], plen[i],
				       ours[i]);
			if (olen != tlen[v][i] ||
			    memcmp(ours[i], theirs[v][i], olen)) {
				fprintf(stderr,
					"policy %d packet %d: different "
					"bytes\n",
					v, i);
				goto out;
			}
			/* Ours opens theirs, theirs opens ours. */
			memcpy(buf, theirs[v][i], olen);
			if (unprotect(o_in, i == 4, buf, olen) != plen[i] ||
			    memcmp(buf, plain[i], plen[i])) {
				fprintf(stderr,
					"policy %d packet %d: ours did not "
					"open it\n",
					v, i);
				goto out;
			}
			if (unprotect(t_in[v], i == 4, ours[i], olen) !=
				    plen[i] ||
			    memcmp(ours[i], plain[i], plen[i])) {
				fprintf(stderr,
					"policy %d packet %d: theirs did not "
					"open it\n",
					v, i);
				goto out;
			}
		}
		srtp_dealloc(o_out);
		srtp_dealloc(o_in);
		o_out = o_in = NULL;
	}
	rc = 0;
out:
	for (int v = 0; v < N_POL; v++) {
		if (t_out[v])
			srtp_dealloc(t_out[v]);
		if (t_in[v])
			srtp_dealloc(t_in[v]);
	}
	if (o_out)
		srtp_dealloc(o_out);
	if (o_in)
		srtp_dealloc(o_in);
	return rc;
}

/* Under both of session_of's policies, a flipped bit anywhere in an RTP
 * or RTCP packet, or a packet cut short, does not open. */
static int tamper_one(bool short_tags)
{
	uint8_t plain[PKT_MAX], prot[PKT_MAX], buf[PKT_MAX];
	srtp_t out = NULL, in = NULL;
	size_t len, plen;
	int rc = -1;

	if (session_of(&out, ssrc_any_outbound, short_tags) ||
	    session_of(&in, ssrc_any_inbound, short_tags))
		goto done;
	for (int kind = 0; kind < 2; kind++) {
		plen = kind ? rtcp(plain, 0x55667788)
			    : rtp(plain, 7, 0x55667788, 100);
		len = protect(out, kind, plain, plen, prot);
		if (!len)
			goto done;
		/* Every bit of the packet, header and tag included. */
		for (size_t bit = 0; bit < len * 8; bit++) {
			memcpy(buf, prot, len);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (unprotect(in, kind, buf, len)) {
				fprintf(stderr, "%s: bit %zu flipped passed\n",
					kind ? "rtcp" : "rtp", bit);
				goto done;
			}
		}
		/* Cut short, down to nothing but the header. */
		for (size_t cut = 1; cut <= len - 12; cut++) {
			memcpy(buf, prot, len);
			if (unprotect(in, kind, buf, len - cut)) {
				fprintf(stderr, "%s: %zu bytes short passed\n",
					kind ? "rtcp" : "rtp", cut);
				goto done;
			}
		}
		/* The intact packet still opens after all that. */
		memcpy(buf, prot, len);
		if (unprotect(in, kind, buf, len) != plen ||
		    memcmp(buf, plain, plen)) {
			fprintf(stderr, "%s: the intact packet failed\n",
				kind ? "rtcp" : "rtp");
			goto done;
		}
	}
	rc = 0;
done:
	if (out)
		srtp_dealloc(out);
	if (in)
		srtp_dealloc(in);
	return rc;
}

static int test_tampering_refused(void)
{
	HT_ASSERT(ours_installed());
	HT_ASSERT(tamper_one(false) == 0);
	HT_ASSERT(tamper_one(true) == 0);
	return 0;
}

/* Two SSRCs through one session each way (libsrtp clones the template
 * stream, sharing its cipher): interleaved, each opens to its own bytes
 * and a packet relabelled with the other SSRC does not open. */
static int test_streams_share_cipher(void)
{
	uint8_t plain[PKT_MAX], prot[PKT_MAX], buf[PKT_MAX];
	srtp_t out = NULL, in = NULL;
	int rc = -1;

	HT_ASSERT(ours_installed());
	HT_ASSERT(session(&out, ssrc_any_outbound) == 0);
	if (session(&in, ssrc_any_inbound))
		goto done;
	for (uint16_t seq = 0; seq < 200; seq++) {
		uint32_t ssrc = seq % 2 ? 0xaaaa0001 : 0xbbbb0002;
		uint32_t other = seq % 2 ? 0xbbbb0002 : 0xaaaa0001;
		size_t plen = rtp(plain, seq, ssrc, 20 + seq);
		size_t len = protect(out, false, plain, plen, prot);

		if (!len)
			goto done;
		memcpy(buf, prot, len);
		buf[8] = (uint8_t)(other >> 24); /* the other stream's SSRC */
		buf[9] = (uint8_t)(other >> 16);
		buf[10] = (uint8_t)(other >> 8);
		buf[11] = (uint8_t)other;
		if (unprotect(in, false, buf, len)) {
			fprintf(stderr, "seq %u opened under another SSRC\n",
				seq);
			goto done;
		}
		if (unprotect(in, false, prot, len) != plen ||
		    memcmp(prot, plain, plen)) {
			fprintf(stderr, "seq %u did not open\n", seq);
			goto done;
		}
	}
	rc = 0;
done:
	srtp_dealloc(out);
	if (in)
		srtp_dealloc(in);
	return rc;
}

static const struct hl_test tests[] = {
	HT_TEST(test_same_bytes_as_libsrtp_own), /* first: see above */
	HT_TEST(test_tampering_refused),
	HT_TEST(test_streams_share_cipher),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
