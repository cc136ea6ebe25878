/*
 * test_dtls.c - the sans-IO DTLS-SRTP endpoint (src/net/dtls.c).
 *
 * Two endpoints in memory: a pump moves every queued datagram from one to
 * the other (optionally dropping or mangling some) until nothing moves.
 * Covered: the handshake both ways with AEAD_AES_128_GCM chosen, a wrong
 * fingerprint on either side (HL_EAUTH and the sentence), SRTP and SRTCP
 * round trips, flipped bits and replays (HL_EAUTH), garbage datagrams,
 * lost first and last flights recovered by retransmission (real time,
 * 250 ms first timeout), a ClientHello arriving before start, and
 * protect before the handshake (HL_ESTATE).  A reference peer written
 * here directly on OpenSSL and libsrtp2 (with the RFC 5764 §4.2 key
 * layout spelled out again) checks interoperability for both profiles
 * and both roles, so that a mistake made the same way on both of our
 * own ends cannot pass.  In this process the reference peer's AES-GCM is
 * ours too (src/net/srtp_gcm.c replaces libsrtp2's for the process);
 * tests/test_srtp_gcm.c compares it with libsrtp2's own.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#include "dtls_internal.h"
#include "harness.h"

struct pair {
	struct hl_dtls *c, *s; /* client (active), server (passive) */
	uint8_t fp_c[HL_DTLS_FP_LEN], fp_s[HL_DTLS_FP_LEN];
};

static void pair_free(struct pair *p)
{
	hl_dtls_free(p->c);
	hl_dtls_free(p->s);
	p->c = p->s = NULL;
}

static int pair_new(struct pair *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = hl_dtls_new(&p->c, p->fp_c);
	if (rc == 0)
		rc = hl_dtls_new(&p->s, p->fp_s);
	if (rc != 0)
		pair_free(p);
	return rc;
}

/* Decides what happens to datagram number n from one side: 0 deliver,
 * 1 drop. */
typedef int(filter_fn)(void *ctx, bool from_client, unsigned n, uint8_t *buf,
		       size_t len);

struct pump_result {
	int rc_c, rc_s; /* first error each side's input returned */
	unsigned sent_c, sent_s;
};

/* Move datagrams both ways until neither side has any. */
static void pump(struct pair *p, filter_fn *filter, void *ctx,
		 struct pump_result *r)
{
	uint8_t buf[2048];
	size_t len;
	bool moved = true;

	while (moved) {
		moved = false;
		while (hl_dtls_output(p->c, buf, sizeof(buf), &len) == 0) {
			unsigned n = r->sent_c++;
			int rc;

			moved = true;
			if (filter && filter(ctx, true, n, buf, len))
				continue;
			rc = hl_dtls_input(p->s, buf, len);
			if (rc && !r->rc_s)
				r->rc_s = rc;
		}
		while (hl_dtls_output(p->s, buf, sizeof(buf), &len) == 0) {
			unsigned n = r->sent_s++;
			int rc;

			moved = true;
			if (filter && filter(ctx, false, n, buf, len))
				continue;
			rc = hl_dtls_input(p->c, buf, len);
			if (rc && !r->rc_c)
				r->rc_c = rc;
		}
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Tick and pump for up to max_ms of real time, until both are secure. */
static void run_until_secure(struct pair *p, filter_fn *filter, void *ctx,
			     struct pump_result *r, long max_ms)
{
	for (long t = 0; t < max_ms; t += 10) {
		int rc;

		pump(p, filter, ctx, r);
		if (hl_dtls_secure(p->c) && hl_dtls_secure(p->s))
			return;
		if (r->rc_c || r->rc_s)
			return;
		sleep_ms(10);
		rc = hl_dtls_tick(p->c);
		if (rc && !r->rc_c)
			r->rc_c = rc;
		rc = hl_dtls_tick(p->s);
		if (rc && !r->rc_s)
			r->rc_s = rc;
	}
}

/* A handshaken pair (client and server with each other's fingerprints). */
static int pair_secure(struct pair *p)
{
	struct pump_result r = {0};
	int rc = pair_new(p);

	if (rc != 0)
		return rc;
	if ((rc = hl_dtls_start(p->s, false, p->fp_c)) != 0 ||
	    (rc = hl_dtls_start(p->c, true, p->fp_s)) != 0)
		goto fail;
	pump(p, NULL, NULL, &r);
	if (r.rc_c || r.rc_s || !hl_dtls_secure(p->c) ||
	    !hl_dtls_secure(p->s)) {
		rc = r.rc_c ? r.rc_c : r.rc_s ? r.rc_s : HL_ESTATE;
		goto fail;
	}
	return 0;
fail:
	pair_free(p);
	return rc;
}

/* An RTP packet: PT 96, the given seq and SSRC, payload of n bytes. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t n)
{
	buf[0] = 0x80;
	buf[1] = 96;
	hl_put_be16(buf + 2, seq);
	hl_put_be32(buf + 4, 90000u * seq);
	hl_put_be32(buf + 8, ssrc);
	for (size_t i = 0; i < n; i++)
		buf[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + n;
}

/* An RTCP sender report (PT 200) without report blocks: 28 bytes. */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc, uint32_t tag)
{
	buf[0] = 0x80;
	buf[1] = 200;
	hl_put_be16(buf + 2, 6);
	hl_put_be32(buf + 4, ssrc);
	for (size_t i = 8; i < 28; i += 4)
		hl_put_be32(buf + i, tag + (uint32_t)i);
	return 28;
}

/* ---- handshake ---------------------------------------------------- */

static int test_new_free(void)
{
	struct hl_dtls *d = NULL;
	uint8_t fp[HL_DTLS_FP_LEN], fp2[HL_DTLS_FP_LEN];

	HT_OK(hl_dtls_new(&d, fp));
	HT_ASSERT(!hl_dtls_secure(d));
	HT_ASSERT(hl_dtls_profile(d) == NULL);
	HT_ASSERT(hl_dtls_error(d) == NULL);
	hl_dtls_free(d);
	d = NULL;
	HT_OK(hl_dtls_new(&d, fp2));
	hl_dtls_free(d);
	/* a fresh certificate each time */
	HT_ASSERT(memcmp(fp, fp2, sizeof(fp)) != 0);
	hl_dtls_free(NULL);
	return 0;
}

/* The endpoints' AES-128-GCM is OpenSSL's (src/net/srtp_gcm.c;
 * tests/test_srtp_gcm.c checks it against libsrtp's own). */
static int test_gcm_is_openssl(void)
{
	HT_ASSERT(hl_dtls_gcm_openssl());
	return 0;
}

static int test_handshake(void)
{
	struct pair p;
	uint8_t buf[64];
	size_t len;

	HT_OK(pair_secure(&p));
	HT_ASSERT(strcmp(hl_dtls_profile(p.c), "AEAD_AES_128_GCM") == 0);
	HT_ASSERT(strcmp(hl_dtls_profile(p.s), "AEAD_AES_128_GCM") == 0);
	HT_ASSERT(hl_dtls_error(p.c) == NULL && hl_dtls_error(p.s) == NULL);
	/* nothing left to send, ticks are harmless, a second start is not */
	HT_EQ_INT(hl_dtls_output(p.c, buf, sizeof(buf), &len), HL_EAGAIN);
	HT_EQ_INT(hl_dtls_tick(p.c), 0);
	HT_EQ_INT(hl_dtls_tick(p.s), 0);
	HT_EQ_INT(hl_dtls_start(p.c, true, p.fp_s), HL_ESTATE);
	pair_free(&p);
	return 0;
}

static int test_handshake_datagrams_fit_mtu(void)
{
	struct pair p;
	uint8_t buf[2048];
	size_t len;
	unsigned n = 0;
	bool progress = true;

	HT_OK(pair_new(&p));
	HT_OK(hl_dtls_start(p.s, false, p.fp_c));
	HT_OK(hl_dtls_start(p.c, true, p.fp_s));
	while (progress) {
		progress = false;
		while (hl_dtls_output(p.c, buf, sizeof(buf), &len) == 0) {
			HT_ASSERT(len <= 1200 && buf[0] >= 20 && buf[0] <= 63);
			HT_OK(hl_dtls_input(p.s, buf, len));
			progress = true;
			n++;
		}
		while (hl_dtls_output(p.s, buf, sizeof(buf), &len) == 0) {
			HT_ASSERT(len <= 1200 && buf[0] >= 20 && buf[0] <= 63);
			HT_OK(hl_dtls_input(p.c, buf, len));
			progress = true;
			n++;
		}
	}
	HT_ASSERT(hl_dtls_secure(p.c) && hl_dtls_secure(p.s));
	HT_ASSERT(n >= 4 && n <= 16);
	pair_free(&p);
	return 0;
}

static int check_wrong_fp(bool client_wrong)
{
	struct pair p;
	struct pump_result r = {0};
	uint8_t bad[HL_DTLS_FP_LEN];
	struct hl_dtls *victim, *other;
	int rc_victim, rc_other;

	HT_OK(pair_new(&p));
	memcpy(bad, client_wrong ? p.fp_s : p.fp_c, sizeof(bad));
	bad[HL_DTLS_FP_LEN - 1] ^= 1;
	HT_OK(hl_dtls_start(p.s, false, client_wrong ? p.fp_c : bad));
	HT_OK(hl_dtls_start(p.c, true, client_wrong ? bad : p.fp_s));
	pump(&p, NULL, NULL, &r);
	victim = client_wrong ? p.c : p.s;
	other = client_wrong ? p.s : p.c;
	rc_victim = client_wrong ? r.rc_c : r.rc_s;
	rc_other = client_wrong ? r.rc_s : r.rc_c;
	HT_EQ_INT(rc_victim, HL_EAUTH);
	HT_ASSERT(!hl_dtls_secure(victim) && !hl_dtls_secure(other));
	HT_ASSERT(hl_dtls_error(victim) != NULL);
	HT_ASSERT(strcmp(hl_dtls_error(victim),
			 "the peer's DTLS certificate does not match the "
			 "fingerprint it signed in its call description") == 0);
	/* the other side got an alert: a handshake failure */
	HT_EQ_INT(rc_other, HL_ECRYPTO);
	HT_ASSERT(hl_dtls_error(other) != NULL);
	/* dead for good */
	HT_EQ_INT(hl_dtls_tick(victim), HL_EAUTH);
	HT_EQ_INT(hl_dtls_input(victim, (const uint8_t *)"\x16\xfe\xfd", 3),
		  HL_EAUTH);
	pair_free(&p);
	return 0;
}

static int test_wrong_fingerprint_client(void)
{
	return check_wrong_fp(true);
}

static int test_wrong_fingerprint_server(void)
{
	return check_wrong_fp(false);
}

/* ---- SRTP ---------------------------------------------------------- */

static int roundtrip(struct hl_dtls *from, struct hl_dtls *to, uint8_t *pkt,
		     size_t len)
{
	uint8_t buf[1500 + HL_SRTP_OVERHEAD], orig[1500];
	size_t plen, ulen;

	memcpy(orig, pkt, len);
	memcpy(buf, pkt, len);
	HT_OK(hl_dtls_protect(from, buf, len, &plen));
	HT_ASSERT(plen > len && plen <= len + HL_SRTP_OVERHEAD);
	HT_ASSERT(len == 12 || memcmp(buf + 12, orig + 12, len - 12) != 0);
	HT_OK(hl_dtls_unprotect(to, buf, plen, &ulen));
	HT_EQ_INT(ulen, len);
	HT_EQ_MEM(buf, orig, len);
	return 0;
}

static int test_srtp_roundtrip(void)
{
	struct pair p;
	uint8_t pkt[1500];
	size_t len;

	HT_OK(pair_secure(&p));
	for (uint16_t seq = 0; seq < 50; seq++) {
		len = make_rtp(pkt, (uint16_t)(65500u + seq), 0x1234, seq * 23);
		HT_EQ_INT(0, roundtrip(p.c, p.s, pkt, len));
		len = make_rtp(pkt, seq, 0xabcd, 1200 - seq);
		HT_EQ_INT(0, roundtrip(p.s, p.c, pkt, len));
		/* a second SSRC (RTX) on the same session */
		len = make_rtp(pkt, seq, 0x5555, 100);
		HT_EQ_INT(0, roundtrip(p.c, p.s, pkt, len));
	}
	for (uint32_t i = 0; i < 20; i++) {
		len = make_rtcp(pkt, 0x1234, i);
		HT_EQ_INT(0, roundtrip(p.c, p.s, pkt, len));
		len = make_rtcp(pkt, 0xabcd, i);
		HT_EQ_INT(0, roundtrip(p.s, p.c, pkt, len));
	}
	pair_free(&p);
	return 0;
}

static int test_srtp_bit_flips(void)
{
	struct pair p;
	uint8_t pkt[256], prot[256 + HL_SRTP_OVERHEAD], buf[sizeof(prot)];
	size_t len, plen, ulen;

	HT_OK(pair_secure(&p));
	len = make_rtp(pkt, 7, 0x1234, 100);
	memcpy(prot, pkt, len);
	HT_OK(hl_dtls_protect(p.c, prot, len, &plen));
	for (size_t bit = 0; bit < 8 * plen; bit++) {
		int rc;

		memcpy(buf, prot, plen);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = hl_dtls_unprotect(p.s, buf, plen, &ulen);
		if (bit / 8 < 2) /* V/P/X/CC or M/PT: may not parse */
			HT_ASSERT(rc == HL_EAUTH || rc == HL_EPARSE);
		else
			HT_EQ_INT(rc, HL_EAUTH);
	}
	/* the genuine one still passes (failures do not move the window) */
	HT_OK(hl_dtls_unprotect(p.s, prot, plen, &ulen));
	HT_EQ_MEM(prot, pkt, len);

	len = make_rtcp(pkt, 0x1234, 9);
	memcpy(prot, pkt, len);
	HT_OK(hl_dtls_protect(p.c, prot, len, &plen));
	for (size_t i = 2; i < plen; i++) {
		memcpy(buf, prot, plen);
		buf[i] ^= 0x10;
		HT_EQ_INT(hl_dtls_unprotect(p.s, buf, plen, &ulen), HL_EAUTH);
	}
	/* truncated tag */
	memcpy(buf, prot, plen);
	HT_EQ_INT(hl_dtls_unprotect(p.s, buf, plen - 1, &ulen), HL_EAUTH);
	HT_OK(hl_dtls_unprotect(p.s, prot, plen, &ulen));
	pair_free(&p);
	return 0;
}

static int test_srtp_replay(void)
{
	struct pair p;
	uint8_t pkt[256], copy[sizeof(pkt)];
	size_t len, plen, ulen;

	HT_OK(pair_secure(&p));
	len = make_rtp(pkt, 1000, 0x1234, 40);
	HT_OK(hl_dtls_protect(p.c, pkt, len, &plen));
	memcpy(copy, pkt, plen);
	HT_OK(hl_dtls_unprotect(p.s, pkt, plen, &ulen));
	HT_EQ_INT(hl_dtls_unprotect(p.s, copy, plen, &ulen), HL_EAUTH);

	len = make_rtcp(pkt, 0x1234, 1);
	HT_OK(hl_dtls_protect(p.c, pkt, len, &plen));
	memcpy(copy, pkt, plen);
	HT_OK(hl_dtls_unprotect(p.s, pkt, plen, &ulen));
	HT_EQ_INT(hl_dtls_unprotect(p.s, copy, plen, &ulen), HL_EAUTH);

	/* our own packet reflected back: the peer's key, not ours */
	len = make_rtp(pkt, 1001, 0x1234, 40);
	HT_OK(hl_dtls_protect(p.c, pkt, len, &plen));
	HT_EQ_INT(hl_dtls_unprotect(p.c, pkt, plen, &ulen), HL_EAUTH);

	/* protecting the same seq twice on one SSRC is refused */
	len = make_rtp(pkt, 1001, 0x1234, 40);
	HT_EQ_INT(hl_dtls_protect(p.c, pkt, len, &plen), HL_EREPLAY);
	pair_free(&p);
	return 0;
}

static int test_srtp_garbage(void)
{
	struct pair p;
	struct hl_prng g;
	uint8_t buf[300 + HL_SRTP_OVERHEAD];
	size_t ulen;

	HT_OK(pair_secure(&p));
	hl_prng_seed(&g, 42);
	for (int i = 0; i < 2000; i++) {
		size_t len = (size_t)hl_prng_below(&g, 300);
		uint8_t *c;
		int rc;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)hl_prng_next(&g);
		if (len && i % 2)
			buf[0] = 0x80;
		if (len > 1 && i % 4 == 1)
			buf[1] = (uint8_t)(192 + hl_prng_below(&g, 32));
		HT_ASSERT(c = hl_malloc(len ? len : 1));
		memcpy(c, buf, len);
		rc = hl_dtls_unprotect(p.s, c, len, &ulen);
		hl_free(c);
		HT_ASSERT(rc == HL_EAUTH || rc == HL_EPARSE);
	}
	/* too short to be protected */
	make_rtp(buf, 1, 1, 0);
	HT_EQ_INT(hl_dtls_unprotect(p.s, buf, 12, &ulen), HL_EPARSE);
	HT_EQ_INT(hl_dtls_protect(p.s, buf, 11, &ulen), HL_EPARSE);
	pair_free(&p);
	return 0;
}

static int test_protect_before_secure(void)
{
	struct pair p;
	uint8_t pkt[64 + HL_SRTP_OVERHEAD];
	size_t len, out;

	HT_OK(pair_new(&p));
	len = make_rtp(pkt, 1, 2, 10);
	HT_EQ_INT(hl_dtls_protect(p.c, pkt, len, &out), HL_ESTATE);
	HT_EQ_INT(hl_dtls_unprotect(p.c, pkt, len + 16, &out), HL_ESTATE);
	HT_OK(hl_dtls_start(p.c, true, p.fp_s));
	HT_EQ_INT(hl_dtls_protect(p.c, pkt, len, &out), HL_ESTATE);
	HT_ASSERT(hl_dtls_profile(p.c) == NULL);
	pair_free(&p);
	return 0;
}

static int test_is_rtcp(void)
{
	uint8_t b[8] = {0x80, 200, 0, 1, 0, 0, 0, 1};

	HT_ASSERT(hl_rtp_is_rtcp(b, 8));
	HT_ASSERT(!hl_rtp_is_rtcp(b, 7));
	b[1] = 192;
	HT_ASSERT(hl_rtp_is_rtcp(b, 8));
	b[1] = 223;
	HT_ASSERT(hl_rtp_is_rtcp(b, 8));
	b[1] = 224;
	HT_ASSERT(!hl_rtp_is_rtcp(b, 8));
	b[1] = 191;
	HT_ASSERT(!hl_rtp_is_rtcp(b, 8));
	b[1] = 96 | 0x80; /* RTP PT 96 with the marker bit: 224 */
	HT_ASSERT(!hl_rtp_is_rtcp(b, 8));
	HT_ASSERT(!hl_rtp_is_rtcp(NULL, 0));
	return 0;
}

/* ---- hostile and lossy networks ------------------------------------ */

struct garbage_ctx {
	struct pair *p;
	int bad_rc;  /* an input result other than 0, EAUTH, ECRYPTO */
	bool mangle; /* also a copy of the real datagram with a byte changed */
	struct hl_prng g;
};

/* Before every real datagram, the receiver first gets some garbage:
 * random bytes, random bytes behind a DTLS-looking record header, and
 * (if mangle) the real datagram with a byte changed. */
static int inject_garbage(void *ctx, bool from_client, unsigned n, uint8_t *buf,
			  size_t len)
{
	struct garbage_ctx *gc = ctx;
	struct hl_dtls *to = from_client ? gc->p->s : gc->p->c;
	uint8_t junk[1300];

	(void)n;
	for (int i = 0; i < 4; i++) {
		size_t jl = 1 + (size_t)hl_prng_below(&gc->g, sizeof(junk));
		uint8_t *c;
		int rc;

		for (size_t k = 0; k < jl; k++)
			junk[k] = (uint8_t)hl_prng_next(&gc->g);
		if (i == 1 && jl > 13) {
			junk[0] = 22;
			junk[1] = 0xfe;
			junk[2] = 0xfd;
			hl_put_be16(junk + 11, (uint16_t)(jl - 13));
		}
		if (i == 2 && gc->mangle) {
			jl = len;
			memcpy(junk, buf, len);
			junk[hl_prng_below(&gc->g, len)] ^= 0x40;
		}
		c = hl_malloc(jl);
		if (!c)
			continue;
		memcpy(c, junk, jl);
		rc = hl_dtls_input(to, c, jl); /* any result; never a crash */
		hl_free(c);
		if (rc != 0 && rc != HL_EAUTH && rc != HL_ECRYPTO)
			gc->bad_rc = rc;
	}
	return 0;
}

/* Both secure with working keys, or errors with sentences; with mangled
 * handshake datagrams also a stall (ended by the 15 s give-up). */
static int garbage_outcome(struct pair *p, int rc_c, int rc_s, bool mangle)
{
	uint8_t pkt[64 + HL_SRTP_OVERHEAD];
	size_t len = make_rtp(pkt, 5, 6, 20), plen, ulen;

	if (!mangle)
		HT_ASSERT(hl_dtls_secure(p->c) && hl_dtls_secure(p->s));
	if (hl_dtls_secure(p->c) && hl_dtls_secure(p->s)) {
		HT_EQ_INT(rc_c, 0);
		HT_EQ_INT(rc_s, 0);
		HT_OK(hl_dtls_protect(p->c, pkt, len, &plen));
		HT_OK(hl_dtls_unprotect(p->s, pkt, plen, &ulen));
		return 0;
	}
	HT_ASSERT(!rc_c || hl_dtls_error(p->c));
	HT_ASSERT(!rc_s || hl_dtls_error(p->s));
	HT_ASSERT(rc_c == 0 || rc_c == HL_ECRYPTO || rc_c == HL_EAUTH);
	HT_ASSERT(rc_s == 0 || rc_s == HL_ECRYPTO || rc_s == HL_EAUTH);
	return 0;
}

/*
 * Random junk is dropped and the handshake completes.  A changed copy of
 * a real handshake datagram (before ChangeCipherSpec nothing is
 * authenticated yet) may kill the handshake, but only cleanly: an error
 * and a sentence, never a crash or a "secure" endpoint with bad keys.
 */
static int test_handshake_garbage(void)
{
	for (uint64_t seed = 1; seed <= 12; seed++) {
		struct pair p;
		struct pump_result r = {0};
		struct garbage_ctx gc;
		int rc_c, rc_s, rc;

		HT_OK(pair_new(&p));
		gc.p = &p;
		gc.bad_rc = 0;
		gc.mangle = seed > 6;
		hl_prng_seed(&gc.g, seed);
		/* garbage before start is buffered or dropped */
		inject_garbage(&gc, true, 0, (uint8_t *)"\x16\xfe\xfd", 3);
		HT_OK(hl_dtls_start(p.s, false, p.fp_c));
		HT_OK(hl_dtls_start(p.c, true, p.fp_s));
		run_until_secure(&p, inject_garbage, &gc, &r, 3000);
		rc_c = r.rc_c;
		rc_s = r.rc_s;
		HT_EQ_INT(gc.bad_rc, 0);
		/* either both secure, or a clean failure with a sentence */
		rc = garbage_outcome(&p, rc_c, rc_s, gc.mangle);
		pair_free(&p);
		HT_EQ_INT(rc, 0);
	}
	return 0;
}

struct drop_ctx {
	bool client;	/* drop from this side */
	unsigned first; /* datagrams number first.. */
	unsigned count; /* ..first+count-1 */
};

static int drop_some(void *ctx, bool from_client, unsigned n, uint8_t *buf,
		     size_t len)
{
	struct drop_ctx *dc = ctx;

	(void)buf;
	(void)len;
	return from_client == dc->client && n >= dc->first &&
	       n < dc->first + dc->count;
}

static int test_lost_first_flight(void)
{
	struct pair p;
	struct pump_result r = {0};
	struct drop_ctx dc = {true, 0, 1}; /* the ClientHello */

	HT_OK(pair_new(&p));
	HT_OK(hl_dtls_start(p.s, false, p.fp_c));
	HT_OK(hl_dtls_start(p.c, true, p.fp_s));
	pump(&p, drop_some, &dc, &r);
	HT_ASSERT(!hl_dtls_secure(p.c) && !hl_dtls_secure(p.s));
	HT_EQ_INT(r.sent_c, 1);
	HT_EQ_INT(r.sent_s, 0);
	run_until_secure(&p, drop_some, &dc, &r, 3000);
	HT_EQ_INT(r.rc_c, 0);
	HT_EQ_INT(r.rc_s, 0);
	HT_ASSERT(hl_dtls_secure(p.c) && hl_dtls_secure(p.s));
	pair_free(&p);
	return 0;
}

static int test_lost_server_flights(void)
{
	/* the server's first flight, then (separately) its last flight:
	 * the client's retransmitted Finished makes the secure server
	 * resend it */
	for (int which = 0; which < 2; which++) {
		struct pair p;
		struct pump_result r = {0};
		struct drop_ctx dc = {false, 0, 1};
		uint8_t pkt[64 + HL_SRTP_OVERHEAD];
		size_t len, plen, ulen;

		HT_OK(pair_new(&p));
		HT_OK(hl_dtls_start(p.s, false, p.fp_c));
		HT_OK(hl_dtls_start(p.c, true, p.fp_s));
		if (which == 1) {
			/* count the server's datagrams on a clean run */
			struct pair q;
			struct pump_result rq = {0};

			HT_OK(pair_secure(&q));
			pair_free(&q);
			HT_OK(pair_new(&q));
			HT_OK(hl_dtls_start(q.s, false, q.fp_c));
			HT_OK(hl_dtls_start(q.c, true, q.fp_s));
			pump(&q, NULL, NULL, &rq);
			pair_free(&q);
			/* CCS + Finished: the last datagram(s) */
			dc.first = rq.sent_s - 1;
			dc.count = 1;
		}
		pump(&p, drop_some, &dc, &r);
		HT_ASSERT(!hl_dtls_secure(p.c));
		HT_EQ_INT(hl_dtls_secure(p.s), which == 1);
		run_until_secure(&p, drop_some, &dc, &r, 3000);
		HT_EQ_INT(r.rc_c, 0);
		HT_EQ_INT(r.rc_s, 0);
		HT_ASSERT(hl_dtls_secure(p.c) && hl_dtls_secure(p.s));
		/* and the keys agree */
		len = make_rtp(pkt, 5, 6, 20);
		HT_OK(hl_dtls_protect(p.s, pkt, len, &plen));
		HT_OK(hl_dtls_unprotect(p.c, pkt, plen, &ulen));
		pair_free(&p);
	}
	return 0;
}

static int test_client_hello_before_start(void)
{
	struct pair p;
	struct pump_result r = {0};
	uint8_t buf[2048];
	size_t len;

	HT_OK(pair_new(&p));
	HT_OK(hl_dtls_start(p.c, true, p.fp_s));
	HT_OK(hl_dtls_output(p.c, buf, sizeof(buf), &len));
	HT_OK(hl_dtls_input(p.s, buf, len)); /* kept until start */
	HT_OK(hl_dtls_start(p.s, false, p.fp_c));
	pump(&p, NULL, NULL, &r);
	HT_EQ_INT(r.rc_c, 0);
	HT_EQ_INT(r.rc_s, 0);
	HT_ASSERT(hl_dtls_secure(p.c) && hl_dtls_secure(p.s));
	pair_free(&p);
	return 0;
}

static int test_output_too_small(void)
{
	struct pair p;
	uint8_t buf[2048];
	size_t len = 0;

	HT_OK(pair_new(&p));
	HT_OK(hl_dtls_start(p.c, true, p.fp_s));
	HT_EQ_INT(hl_dtls_output(p.c, buf, 10, &len), HL_ETOOBIG);
	HT_EQ_INT(len, 0);
	HT_EQ_INT(hl_dtls_output(p.c, buf, sizeof(buf), &len), HL_EAGAIN);
	HT_EQ_INT(hl_dtls_input(p.c, NULL, 0), 0);
	HT_EQ_INT(hl_dtls_input(p.c, (const uint8_t *)"\x80", 1), 0);
	pair_free(&p);
	return 0;
}

/* ---- a reference peer straight on OpenSSL and libsrtp2 -------------- */

struct ref_peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb; /* memory BIOs */
	uint8_t fp[HL_DTLS_FP_LEN];
	srtp_t out, in;
};

static int ref_accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

static void ref_free(struct ref_peer *r)
{
	if (r->out)
		(void)srtp_dealloc(r->out);
	if (r->in)
		(void)srtp_dealloc(r->in);
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	memset(r, 0, sizeof(*r));
}

static int ref_new(struct ref_peer *r, bool client, const char *profiles)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned int fl = 0;
	int ok;

	memset(r, 0, sizeof(*r));
	ok = k && x && X509_set_version(x, X509_VERSION_3) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
	     (n = X509_get_subject_name(x)) &&
	     X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					(const unsigned char *)"ref", -1, -1,
					0) &&
	     X509_set_issuer_name(x, n) && X509_set_pubkey(x, k) &&
	     X509_sign(x, k, EVP_sha256()) > 0 &&
	     X509_digest(x, EVP_sha256(), r->fp, &fl) && fl == 32 &&
	     (r->ctx = SSL_CTX_new(DTLS_method())) &&
	     SSL_CTX_use_certificate(r->ctx, x) == 1 &&
	     SSL_CTX_use_PrivateKey(r->ctx, k) == 1 &&
	     SSL_CTX_set_tlsext_use_srtp(r->ctx, profiles) == 0;
	X509_free(x);
	EVP_PKEY_free(k);
	if (!ok)
		goto fail;
	SSL_CTX_set_verify(r->ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   ref_accept_any);
	SSL_CTX_set_options(r->ctx, SSL_OP_NO_QUERY_MTU);
	r->ssl = SSL_new(r->ctx);
	r->rb = BIO_new(BIO_s_mem());
	r->wb = BIO_new(BIO_s_mem());
	if (!r->ssl || !r->rb || !r->wb) {
		BIO_free(r->rb);
		BIO_free(r->wb);
		goto fail;
	}
	BIO_set_mem_eof_return(r->rb, -1);
	BIO_set_mem_eof_return(r->wb, -1);
	SSL_set_bio(r->ssl, r->rb, r->wb);
	SSL_set_mtu(r->ssl, 1200);
	if (client)
		SSL_set_connect_state(r->ssl);
	else
		SSL_set_accept_state(r->ssl);
	return 0;
fail:
	ref_free(r);
	return -1;
}

/* RFC 5764 §4.2, written out independently of dtls.c. */
static int ref_key(struct ref_peer *r, bool client)
{
	const SRTP_PROTECTION_PROFILE *prof =
		SSL_get_selected_srtp_profile(r->ssl);
	bool gcm = prof && prof->id == SRTP_AEAD_AES_128_GCM;
	size_t salt = gcm ? 12 : 14;
	uint8_t km[60], tx[30], rx[30];
	srtp_policy_t po, pi;

	if (!prof || SSL_export_keying_material(r->ssl, km, 2 * (16 + salt),
						"EXTRACTOR-dtls_srtp", 19, NULL,
						0, 0) != 1)
		return -1;
	/* client_key server_key client_salt server_salt */
	memcpy(tx, km + (client ? 0 : 16), 16);
	memcpy(tx + 16, km + 32 + (client ? 0 : salt), salt);
	memcpy(rx, km + (client ? 16 : 0), 16);
	memcpy(rx + 16, km + 32 + (client ? salt : 0), salt);
	memset(&po, 0, sizeof(po));
	if (gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&po.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&po.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&po.rtp);
		srtp_crypto_policy_set_rtcp_default(&po.rtcp);
	}
	po.window_size = 128;
	pi = po;
	po.ssrc.type = ssrc_any_outbound;
	po.key = tx;
	pi.ssrc.type = ssrc_any_inbound;
	pi.key = rx;
	if (srtp_create(&r->out, &po) != srtp_err_status_ok ||
	    srtp_create(&r->in, &pi) != srtp_err_status_ok)
		return -1;
	return 0;
}

/* Shuttle between ours and the reference until both are done. */
static int ref_handshake(struct ref_peer *r, struct hl_dtls *d)
{
	uint8_t buf[20000];
	size_t len;

	for (int round = 0; round < 20; round++) {
		int n;

		if (!SSL_is_init_finished(r->ssl))
			(void)SSL_do_handshake(r->ssl);
		else
			(void)SSL_read(r->ssl, buf, sizeof(buf));
		n = BIO_read(r->wb, buf, sizeof(buf));
		if (n > 0 && hl_dtls_input(d, buf, (size_t)n) != 0)
			return -1;
		while (hl_dtls_output(d, buf, sizeof(buf), &len) == 0)
			if (BIO_write(r->rb, buf, (int)len) != (int)len)
				return -1;
		if (SSL_is_init_finished(r->ssl) && hl_dtls_secure(d) &&
		    BIO_ctrl_pending(r->wb) == 0)
			return 0;
	}
	return -1;
}

static int check_reference(bool ref_client, const char *profiles,
			   const char *expect)
{
	struct ref_peer r;
	struct hl_dtls *d = NULL;
	uint8_t fp[HL_DTLS_FP_LEN], pkt[300 + HL_SRTP_OVERHEAD], orig[300];
	size_t len, plen, ulen;
	int n;

	HT_EQ_INT(ref_new(&r, ref_client, profiles), 0);
	HT_OK(hl_dtls_new(&d, fp));
	HT_OK(hl_dtls_start(d, !ref_client, r.fp));
	HT_EQ_INT(ref_handshake(&r, d), 0);
	HT_ASSERT(strcmp(hl_dtls_profile(d), expect) == 0);
	/* the reference saw our certificate */
	{
		X509 *peer = SSL_get0_peer_certificate(r.ssl);
		uint8_t got[32];
		unsigned int fl = 0;

		HT_ASSERT(peer && X509_digest(peer, EVP_sha256(), got, &fl));
		HT_EQ_MEM(got, fp, 32);
	}
	HT_EQ_INT(ref_key(&r, ref_client), 0);
	for (uint16_t seq = 0; seq < 10; seq++) {
		/* ours -> reference */
		len = make_rtp(orig, seq, 0x1111, 100 + seq);
		memcpy(pkt, orig, len);
		HT_OK(hl_dtls_protect(d, pkt, len, &plen));
		n = (int)plen;
		HT_EQ_INT(srtp_unprotect(r.in, pkt, &n), srtp_err_status_ok);
		HT_EQ_INT(n, len);
		HT_EQ_MEM(pkt, orig, len);
		/* reference -> ours */
		len = make_rtp(orig, seq, 0x2222, 200 - seq);
		memcpy(pkt, orig, len);
		n = (int)len;
		HT_EQ_INT(srtp_protect(r.out, pkt, &n), srtp_err_status_ok);
		HT_OK(hl_dtls_unprotect(d, pkt, (size_t)n, &ulen));
		HT_EQ_INT(ulen, len);
		HT_EQ_MEM(pkt, orig, len);
		/* RTCP both ways */
		len = make_rtcp(orig, 0x1111, seq);
		memcpy(pkt, orig, len);
		HT_OK(hl_dtls_protect(d, pkt, len, &plen));
		n = (int)plen;
		HT_EQ_INT(srtp_unprotect_rtcp(r.in, pkt, &n),
			  srtp_err_status_ok);
		HT_EQ_MEM(pkt, orig, len);
		len = make_rtcp(orig, 0x2222, seq);
		memcpy(pkt, orig, len);
		n = (int)len;
		HT_EQ_INT(srtp_protect_rtcp(r.out, pkt, &n),
			  srtp_err_status_ok);
		HT_OK(hl_dtls_unprotect(d, pkt, (size_t)n, &ulen));
		HT_EQ_INT(ulen, len);
		HT_EQ_MEM(pkt, orig, len);
	}
	hl_dtls_free(d);
	ref_free(&r);
	return 0;
}

static int test_reference_client_cm(void)
{
	return check_reference(true, "SRTP_AES128_CM_SHA1_80",
			       "AES_CM_128_HMAC_SHA1_80");
}

static int test_reference_server_cm(void)
{
	return check_reference(false, "SRTP_AES128_CM_SHA1_80",
			       "AES_CM_128_HMAC_SHA1_80");
}

static int test_reference_client_gcm(void)
{
	return check_reference(true,
			       "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM",
			       "AEAD_AES_128_GCM");
}

static int test_reference_server_gcm(void)
{
	return check_reference(false, "SRTP_AEAD_AES_128_GCM",
			       "AEAD_AES_128_GCM");
}

static int test_reference_no_srtp_profile(void)
{
	struct ref_peer r;
	struct hl_dtls *d = NULL;
	uint8_t fp[HL_DTLS_FP_LEN];

	/* a peer offering only a profile we do not support */
	HT_EQ_INT(ref_new(&r, true, "SRTP_AES128_CM_SHA1_32"), 0);
	HT_OK(hl_dtls_new(&d, fp));
	HT_OK(hl_dtls_start(d, false, r.fp));
	HT_ASSERT(ref_handshake(&r, d) != 0);
	HT_ASSERT(!hl_dtls_secure(d));
	HT_ASSERT(hl_dtls_error(d) != NULL);
	HT_ASSERT(strstr(hl_dtls_error(d), "SRTP profile") != NULL);
	hl_dtls_free(d);
	ref_free(&r);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST_OOM(test_new_free),
	HT_TEST(test_gcm_is_openssl),
	HT_TEST(test_handshake),
	HT_TEST(test_handshake_datagrams_fit_mtu),
	HT_TEST(test_wrong_fingerprint_client),
	HT_TEST(test_wrong_fingerprint_server),
	HT_TEST(test_srtp_roundtrip),
	HT_TEST(test_srtp_bit_flips),
	HT_TEST(test_srtp_replay),
	HT_TEST(test_srtp_garbage),
	HT_TEST(test_protect_before_secure),
	HT_TEST(test_is_rtcp),
	HT_TEST(test_handshake_garbage),
	HT_TEST(test_lost_first_flight),
	HT_TEST(test_lost_server_flights),
	HT_TEST(test_client_hello_before_start),
	HT_TEST(test_output_too_small),
	HT_TEST(test_reference_client_cm),
	HT_TEST(test_reference_server_cm),
	HT_TEST(test_reference_client_gcm),
	HT_TEST(test_reference_server_gcm),
	HT_TEST(test_reference_no_srtp_profile),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
