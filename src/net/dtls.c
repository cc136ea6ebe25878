/*
 * dtls.c - DTLS-SRTP as a sans-IO endpoint (see dtls_internal.h).
 *
 * How it works: each endpoint owns a fresh ECDSA P-256 key and a
 * self-signed certificate (CN "hotline", random serial, valid from a day
 * ago for 30 days), an SSL_CTX limited to DTLS 1.2 with the use_srtp
 * extension (RFC 5764 §4.1.2: SRTP_AEAD_AES_128_GCM first, then
 * SRTP_AES128_CM_SHA1_80) and one SSL object.  The SSL reads and writes
 * through one BIO of our own instead of a socket: its read callback hands
 * OpenSSL the single datagram hl_dtls_input() is processing (datagram
 * boundaries are kept, unlike a memory BIO), and its write callback queues
 * each write as one datagram (during the handshake OpenSSL buffers records
 * and writes one whole datagram of at most the MTU, 1200 bytes, per
 * BIO_write).  The queue is bounded; a datagram that does not fit is
 * dropped like a lost packet and retransmission recovers it.
 *
 * Trust: the peer's certificate is self-signed and no CA store is loaded;
 * it is accepted only if SHA-256 of its DER equals the fingerprint from
 * the peer's signed SDP.  The verify callback checks this already when the
 * Certificate message arrives (so a mismatch aborts the handshake with an
 * alert the peer sees), and the finished handshake checks it again
 * (CRYPTO_memcmp, constant time) before any key is derived.
 *
 * Keys (RFC 5764 §4.2): 2 * (key + salt) bytes are exported with the label
 * "EXTRACTOR-dtls_srtp" and split as client_key | server_key |
 * client_salt | server_salt.  The client protects with the client's key
 * and the server with the server's; libsrtp2 gets one outbound session
 * (ssrc_any_outbound) and one inbound (ssrc_any_inbound, replay window
 * 1024, no repeated transmissions: RTX uses its own SSRC).  Key material
 * on the stack is wiped after use.
 *
 * Timers: OpenSSL's DTLS timer drives retransmissions (first after
 * 250 ms, then doubling up to 3 s, via DTLS_set_timer_cb); hl_dtls_tick()
 * calls DTLSv1_handle_timeout() and gives up 15 s after hl_dtls_start().
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#include "dtls_internal.h"
#include "hotline/net.h"

#define DTLS_MTU	      1200
#define DTLS_QUEUE_MAX	      64   /* queued outgoing datagrams */
#define DTLS_DGRAM_MAX	      4096 /* largest datagram we queue */
#define DTLS_EARLY_MAX	      2048 /* one datagram kept before start */
#define DTLS_GIVE_UP_US	      15000000u
#define DTLS_FIRST_TIMEOUT_US 250000u
#define DTLS_MAX_TIMEOUT_US   3000000u
#define SRTP_WINDOW	      1024
#define SRTP_LABEL	      "EXTRACTOR-dtls_srtp"

enum dtls_state {
	ST_NEW = 0,   /* created, hl_dtls_start not called yet */
	ST_HANDSHAKE, /* handshaking */
	ST_SECURE,    /* fingerprint checked, SRTP keyed */
	ST_FAILED,    /* dead: fail_rc and err say why */
};

struct dgram {
	size_t len;
	uint8_t *data; /* hl_malloc'd */
};

struct hl_dtls {
	SSL_CTX *ctx;
	SSL *ssl;
	enum dtls_state state;
	int fail_rc;
	bool client;
	bool peer_closed;
	bool fp_mismatch; /* the verify callback saw a wrong certificate */
	uint64_t start_us;
	uint8_t peer_fp[HL_DTLS_FP_LEN];

	/* The datagram being fed to OpenSSL (owned by the caller). */
	const uint8_t *in;
	size_t in_len;

	/* Outgoing datagrams, a ring. */
	struct dgram queue[DTLS_QUEUE_MAX];
	size_t q_head, q_count;

	/* A datagram that arrived before hl_dtls_start (the peer's
	 * ClientHello may beat our own ICE success). */
	uint8_t early[DTLS_EARLY_MAX];
	size_t early_len;

	srtp_t srtp_out, srtp_in;
	const char *profile;
	size_t tag_len; /* SRTP auth tag length of the profile */
	char err[200];
};

/* ---- one-time library setup ------------------------------------------ */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_method; /* kept for the life of the process */
static bool srtp_ready;
static bool gcm_openssl;

static int bio_write(BIO *b, const char *data, int len);
static int bio_read(BIO *b, char *out, int len);
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr);
static int bio_create(BIO *b);
static int bio_destroy(BIO *b);

static void lib_init(void)
{
	BIO_METHOD *m;
	int idx = BIO_get_new_index();

	srtp_ready = srtp_init() == srtp_err_status_ok;
	gcm_openssl = srtp_ready && hl_srtp_gcm_install();
	if (idx < 0)
		return;
	m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "hotline datagram");
	if (!m)
		return;
	if (!BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create) ||
	    !BIO_meth_set_destroy(m, bio_destroy)) {
		BIO_meth_free(m);
		return;
	}
	bio_method = m;
}

static bool lib_load(void)
{
	(void)pthread_once(&lib_once, lib_init);
	return bio_method && srtp_ready;
}

bool hl_dtls_gcm_openssl(void)
{
	return lib_load() && gcm_openssl;
}

/* ---- errors ----------------------------------------------------------- */

/* Kill the endpoint with rc and a sentence (what, then OpenSSL's reason
 * if it left one).  Returns rc. */
static int fail(struct hl_dtls *d, int rc, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char reason[120];

	if (d->state == ST_FAILED)
		return d->fail_rc;
	if (e && rc == HL_ECRYPTO) {
		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(d->err, sizeof(d->err), "%s (%s)", what, reason);
	} else {
		snprintf(d->err, sizeof(d->err), "%s", what);
	}
	ERR_clear_error();
	d->state = ST_FAILED;
	d->fail_rc = rc;
	return rc;
}

static const char fp_sentence[] =
	"the peer's DTLS certificate does not match the fingerprint it "
	"signed in its call description";

/* ---- the datagram BIO ------------------------------------------------- */

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int bio_destroy(BIO *b)
{
	BIO_set_data(b, NULL);
	return 1;
}

/* One write is one datagram: queue a copy (drop it if the queue is full
 * or memory is short: to the handshake that is a lost packet). */
static int bio_write(BIO *b, const char *data, int len)
{
	struct hl_dtls *d = BIO_get_data(b);
	struct dgram *g;
	uint8_t *copy;

	BIO_clear_retry_flags(b);
	if (!d || len <= 0)
		return len < 0 ? -1 : 0;
	if ((size_t)len > DTLS_DGRAM_MAX || d->q_count == DTLS_QUEUE_MAX)
		return len;
	copy = hl_malloc((size_t)len);
	if (!copy)
		return len;
	memcpy(copy, data, (size_t)len);
	g = &d->queue[(d->q_head + d->q_count) % DTLS_QUEUE_MAX];
	g->data = copy;
	g->len = (size_t)len;
	d->q_count++;
	return len;
}

/* Hand OpenSSL the current input datagram once; then "try again later". */
static int bio_read(BIO *b, char *out, int len)
{
	struct hl_dtls *d = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!d || !d->in || len <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = HL_MIN(d->in_len, (size_t)len); /* a longer one is cut: bad MAC */
	memcpy(out, d->in, n);
	d->in = NULL;
	d->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* every write already is a datagram */
	case BIO_CTRL_DGRAM_QUERY_MTU:
		return DTLS_MTU;
	default:
		return 0; /* pending 0, no peer address, no MTU overhead */
	}
}

/* RFC 6347 §4.2.4.1 suggests 1 s; we start faster (the first flight
 * often races the peer's ICE) and cap well below the 15 s give-up. */
static unsigned int dtls_timer_cb(SSL *s, unsigned int prev_us)
{
	(void)s;
	if (prev_us == 0)
		return DTLS_FIRST_TIMEOUT_US;
	return prev_us >= DTLS_MAX_TIMEOUT_US / 2 ? DTLS_MAX_TIMEOUT_US
						  : prev_us * 2;
}

/* ---- certificate -------------------------------------------------------- */

static bool cert_fingerprint(X509 *x, uint8_t fp[HL_DTLS_FP_LEN])
{
	unsigned int n = 0;

	return X509_digest(x, EVP_sha256(), fp, &n) == 1 && n == HL_DTLS_FP_LEN;
}

/* A self-signed certificate for key: CN "hotline", random positive
 * 63-bit serial, valid from a day ago for 30 days (RFC 8827 §6.5 only
 * needs the fingerprint; the dates just keep peers' checks quiet). */
static X509 *cert_make(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	BIGNUM *bn = NULL;
	uint8_t serial[8];
	bool ok = false;

	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x01; /* never 0, always 8 bytes */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_NAME_new();
	if (!bn || !name || !X509_set_version(x, X509_VERSION_3) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400L) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"hotline", -1,
					-1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key) || X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	ok = true;
out:
	X509_NAME_free(name);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/*
 * Accept the peer's self-signed chain whatever OpenSSL thinks of it, but
 * only if its leaf hashes to the fingerprint we expect.
 */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct hl_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *x = X509_STORE_CTX_get_current_cert(store);
	uint8_t fp[HL_DTLS_FP_LEN];

	(void)preverify_ok;
	if (!d)
		return 0;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1; /* only the leaf matters */
	if (!x || !cert_fingerprint(x, fp) ||
	    CRYPTO_memcmp(fp, d->peer_fp, HL_DTLS_FP_LEN) != 0) {
		d->fp_mismatch = true;
		return 0;
	}
	X509_STORE_CTX_set_error(store, X509_V_OK);
	return 1;
}

/* ---- creation ------------------------------------------------------------ */

static int ctx_make(struct hl_dtls *d, uint8_t fp[HL_DTLS_FP_LEN])
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = HL_ECRYPTO;

	key = EVP_EC_gen("P-256");
	if (!key || !(x = cert_make(key)) || !cert_fingerprint(x, fp))
		goto out;
	d->ctx = SSL_CTX_new(DTLS_method());
	if (!d->ctx ||
	    !SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(d->ctx, DTLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(d->ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(d->ctx, key) != 1 ||
	    SSL_CTX_check_private_key(d->ctx) != 1 ||
	    /* forward secret AEAD suites only (RSA for a browser peer's
	     * certificate, should it be one) */
	    SSL_CTX_set_cipher_list(d->ctx,
				    "ECDHE-ECDSA-AES128-GCM-SHA256:"
				    "ECDHE-ECDSA-CHACHA20-POLY1305:"
				    "ECDHE-ECDSA-AES256-GCM-SHA384:"
				    "ECDHE-RSA-AES128-GCM-SHA256:"
				    "ECDHE-RSA-CHACHA20-POLY1305:"
				    "ECDHE-RSA-AES256-GCM-SHA384") != 1 ||
	    SSL_CTX_set1_groups_list(d->ctx, "X25519:P-256") != 1 ||
	    /* returns 0 on success */
	    SSL_CTX_set_tlsext_use_srtp(d->ctx, "SRTP_AEAD_AES_128_GCM:"
						"SRTP_AES128_CM_SHA1_80") != 0)
		goto out;
	SSL_CTX_set_verify(d->ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   verify_cb);
	SSL_CTX_set_session_cache_mode(d->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(d->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
					    SSL_OP_NO_RENEGOTIATION);
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int ssl_make(struct hl_dtls *d)
{
	BIO *bio;

	d->ssl = SSL_new(d->ctx);
	if (!d->ssl)
		return HL_ECRYPTO;
	bio = BIO_new(bio_method);
	if (!bio)
		return HL_ECRYPTO;
	BIO_set_data(bio, d);
	/* the same BIO both ways: SSL takes one reference (and frees it) */
	SSL_set_bio(d->ssl, bio, bio);
	SSL_set_app_data(d->ssl, d);
	if (!SSL_set_mtu(d->ssl, DTLS_MTU))
		return HL_ECRYPTO;
	DTLS_set_timer_cb(d->ssl, dtls_timer_cb);
	return 0;
}

int hl_dtls_new(struct hl_dtls **out, uint8_t fp[HL_DTLS_FP_LEN])
{
	struct hl_dtls *d;
	int rc;

	if (!out || !fp)
		return HL_EINVAL;
	if (!lib_load())
		return HL_ECRYPTO;
	d = hl_calloc(1, sizeof(*d));
	if (!d)
		return HL_ENOMEM;
	ERR_clear_error();
	rc = ctx_make(d, fp);
	if (rc == 0)
		rc = ssl_make(d);
	ERR_clear_error();
	if (rc != 0) {
		hl_dtls_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void hl_dtls_free(struct hl_dtls *d)
{
	if (!d)
		return;
	if (d->srtp_out)
		(void)srtp_dealloc(d->srtp_out);
	if (d->srtp_in)
		(void)srtp_dealloc(d->srtp_in);
	SSL_free(d->ssl); /* and the BIO */
	SSL_CTX_free(d->ctx);
	while (d->q_count) {
		hl_free(d->queue[d->q_head].data);
		d->q_head = (d->q_head + 1) % DTLS_QUEUE_MAX;
		d->q_count--;
	}
	ERR_clear_error();
	hl_wipe(d, sizeof(*d));
	hl_free(d);
}

/* ---- keying -------------------------------------------------------------- */

static int srtp_session(srtp_t *s, uint16_t profile, srtp_ssrc_type_t dir,
			uint8_t *key)
{
	srtp_policy_t p;

	memset(&p, 0, sizeof(p));
	if (profile == SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	p.ssrc.type = dir;
	p.key = key;
	p.window_size = SRTP_WINDOW;
	p.allow_repeat_tx = 0; /* RTX resends on its own SSRC */
	p.next = NULL;
	if (srtp_create(s, &p) != srtp_err_status_ok) {
		*s = NULL;
		return HL_ECRYPTO;
	}
	return 0;
}

/*
 * RFC 5764 §4.2: export client_key | server_key | client_salt |
 * server_salt and key one session each way (libsrtp wants key || salt).
 */
static int srtp_key(struct hl_dtls *d)
{
	const SRTP_PROTECTION_PROFILE *prof =
		SSL_get_selected_srtp_profile(d->ssl);
	uint8_t km[2 * (16 + 14)], ours[16 + 14], theirs[16 + 14];
	size_t key_len = 16, salt_len;
	const uint8_t *ck, *sk, *cs, *ss;
	int rc = HL_ECRYPTO;

	if (!prof)
		return fail(d, HL_ECRYPTO,
			    "the peer did not agree to an SRTP profile in "
			    "the DTLS handshake");
	if (prof->id == SRTP_AEAD_AES_128_GCM) {
		salt_len = 12;
		d->profile = "AEAD_AES_128_GCM";
		d->tag_len = 16;
	} else if (prof->id == SRTP_AES128_CM_SHA1_80) {
		salt_len = 14;
		d->profile = "AES_CM_128_HMAC_SHA1_80";
		d->tag_len = 10;
	} else {
		return fail(d, HL_ECRYPTO,
			    "the peer chose an SRTP profile we did not offer");
	}
	if (SSL_export_keying_material(d->ssl, km, 2 * (key_len + salt_len),
				       SRTP_LABEL, strlen(SRTP_LABEL), NULL, 0,
				       0) != 1) {
		rc = fail(d, HL_ECRYPTO,
			  "exporting the SRTP keys from DTLS failed");
		goto out;
	}
	ck = km;
	sk = km + key_len;
	cs = km + 2 * key_len;
	ss = cs + salt_len;
	memcpy(ours, d->client ? ck : sk, key_len);
	memcpy(ours + key_len, d->client ? cs : ss, salt_len);
	memcpy(theirs, d->client ? sk : ck, key_len);
	memcpy(theirs + key_len, d->client ? ss : cs, salt_len);
	if (srtp_session(&d->srtp_out, (uint16_t)prof->id, ssrc_any_outbound,
			 ours) != 0 ||
	    srtp_session(&d->srtp_in, (uint16_t)prof->id, ssrc_any_inbound,
			 theirs) != 0) {
		rc = fail(d, HL_ECRYPTO, "libsrtp refused the SRTP keys");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(ours, sizeof(ours));
	OPENSSL_cleanse(theirs, sizeof(theirs));
	return rc;
}

/* The handshake finished: check the certificate again, then key SRTP. */
static int handshake_done(struct hl_dtls *d)
{
	X509 *peer = SSL_get0_peer_certificate(d->ssl);
	uint8_t fp[HL_DTLS_FP_LEN];
	int rc;

	if (!peer || !cert_fingerprint(peer, fp) ||
	    CRYPTO_memcmp(fp, d->peer_fp, HL_DTLS_FP_LEN) != 0)
		return fail(d, HL_EAUTH, fp_sentence);
	rc = srtp_key(d);
	if (rc != 0)
		return rc;
	d->state = ST_SECURE;
	return 0;
}

/* ---- driving OpenSSL ------------------------------------------------------ */

/* After input or a timeout: advance the handshake, or consume records
 * after it (a retransmitted Finished makes the server resend its last
 * flight; close_notify is noted; application data is discarded). */
static int drive(struct hl_dtls *d)
{
	uint8_t scratch[2048];
	int r, e;

	ERR_clear_error();
	if (d->state == ST_HANDSHAKE) {
		r = SSL_do_handshake(d->ssl);
		if (r == 1)
			return handshake_done(d);
		e = SSL_get_error(d->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (d->fp_mismatch)
			return fail(d, HL_EAUTH, fp_sentence);
		return fail(d, HL_ECRYPTO, "the DTLS handshake failed");
	}
	if (d->state != ST_SECURE)
		return 0;
	for (int i = 0; i < 16; i++) {
		r = SSL_read(d->ssl, scratch, sizeof(scratch));
		if (r > 0)
			continue;
		e = SSL_get_error(d->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			d->peer_closed = true;
		break;
	}
	OPENSSL_cleanse(scratch, sizeof(scratch));
	ERR_clear_error(); /* SRTP keeps working whatever DTLS says now */
	return 0;
}

int hl_dtls_start(struct hl_dtls *d, bool client,
		  const uint8_t peer_fp[HL_DTLS_FP_LEN])
{
	int rc;

	if (!d || !peer_fp)
		return HL_EINVAL;
	if (d->state != ST_NEW)
		return HL_ESTATE;
	memcpy(d->peer_fp, peer_fp, HL_DTLS_FP_LEN);
	d->client = client;
	d->start_us = hl_clock_now_us();
	d->state = ST_HANDSHAKE;
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	if (d->early_len) {
		d->in = d->early;
		d->in_len = d->early_len;
	}
	rc = drive(d); /* a client writes its ClientHello */
	d->in = NULL;
	d->in_len = 0;
	d->early_len = 0;
	return rc;
}

int hl_dtls_input(struct hl_dtls *d, const uint8_t *buf, size_t len)
{
	int rc;

	if (!d || (!buf && len))
		return HL_EINVAL;
	if (d->state == ST_FAILED)
		return d->fail_rc;
	/* RFC 7983: DTLS records start with 20..63; anything else is not
	 * ours and is dropped like noise. */
	if (len == 0 || buf[0] < 20 || buf[0] > 63 || len > INT_MAX)
		return 0;
	if (d->state == ST_NEW) {
		if (len <= sizeof(d->early)) {
			memcpy(d->early, buf, len);
			d->early_len = len;
		}
		return 0;
	}
	d->in = buf;
	d->in_len = len;
	rc = drive(d);
	d->in = NULL; /* whatever OpenSSL did not read is dropped */
	d->in_len = 0;
	return rc;
}

int hl_dtls_output(struct hl_dtls *d, uint8_t *buf, size_t cap, size_t *len)
{
	struct dgram *g;
	int rc = 0;

	if (!d || !buf || !len)
		return HL_EINVAL;
	if (d->q_count == 0)
		return HL_EAGAIN;
	g = &d->queue[d->q_head];
	if (g->len > cap)
		rc = HL_ETOOBIG; /* dropped: the caller's buffer is too small */
	else
		memcpy(buf, g->data, g->len);
	if (rc == 0)
		*len = g->len;
	hl_free(g->data);
	g->data = NULL;
	d->q_head = (d->q_head + 1) % DTLS_QUEUE_MAX;
	d->q_count--;
	return rc;
}

int hl_dtls_tick(struct hl_dtls *d)
{
	if (!d)
		return HL_EINVAL;
	if (d->state == ST_FAILED)
		return d->fail_rc;
	if (d->state == ST_NEW)
		return 0;
	if (d->state == ST_HANDSHAKE &&
	    hl_clock_now_us() - d->start_us > DTLS_GIVE_UP_US)
		return fail(d, HL_ETIMEOUT,
			    "the DTLS handshake did not complete within "
			    "15 seconds");
	ERR_clear_error();
	if (DTLSv1_handle_timeout(d->ssl) < 0 && d->state == ST_HANDSHAKE)
		return fail(d, HL_ETIMEOUT,
			    "the peer stopped answering the DTLS handshake");
	ERR_clear_error();
	return 0;
}

bool hl_dtls_secure(const struct hl_dtls *d)
{
	return d && d->state == ST_SECURE;
}

const char *hl_dtls_profile(const struct hl_dtls *d)
{
	return d && d->state == ST_SECURE ? d->profile : NULL;
}

const char *hl_dtls_error(const struct hl_dtls *d)
{
	return d && d->state == ST_FAILED ? d->err : NULL;
}

/* ---- SRTP ------------------------------------------------------------------ */

bool hl_rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	/* an RTCP header with its sender SSRC is 8 bytes */
	return buf && len >= 8 && buf[1] >= 192 && buf[1] <= 223;
}

/* Largest packet we protect: fits a UDP datagram with the overhead. */
#define SRTP_PACKET_MAX (65507 - HL_SRTP_OVERHEAD)

int hl_dtls_protect(struct hl_dtls *d, uint8_t *buf, size_t len,
		    size_t *out_len)
{
	srtp_err_status_t st;
	bool rtcp;
	int n;

	if (!d || !buf || !out_len)
		return HL_EINVAL;
	if (d->state != ST_SECURE)
		return HL_ESTATE;
	if (len > SRTP_PACKET_MAX)
		return HL_ETOOBIG;
	rtcp = hl_rtp_is_rtcp(buf, len);
	if (len < (rtcp ? 8u : 12u))
		return HL_EPARSE;
	n = (int)len;
	st = rtcp ? srtp_protect_rtcp(d->srtp_out, buf, &n)
		  : srtp_protect(d->srtp_out, buf, &n);
	if (st != srtp_err_status_ok) {
		if (st == srtp_err_status_bad_param ||
		    st == srtp_err_status_parse_err)
			return HL_EPARSE;
		if (st == srtp_err_status_replay_fail ||
		    st == srtp_err_status_replay_old)
			return HL_EREPLAY; /* the same seq twice on one SSRC */
		return HL_ECRYPTO;
	}
	if (n < (int)len || (size_t)n > len + HL_SRTP_OVERHEAD)
		return HL_ECRYPTO; /* cannot happen */
	*out_len = (size_t)n;
	return 0;
}

int hl_dtls_unprotect(struct hl_dtls *d, uint8_t *buf, size_t len,
		      size_t *out_len)
{
	srtp_err_status_t st;
	bool rtcp;
	int n;

	if (!d || !buf || !out_len)
		return HL_EINVAL;
	if (d->state != ST_SECURE)
		return HL_ESTATE;
	if (len > 65535)
		return HL_ETOOBIG;
	rtcp = hl_rtp_is_rtcp(buf, len);
	/* header + tag, and for SRTCP the E flag and index (RFC 3711) */
	if (len < (rtcp ? 8 + 4 + d->tag_len : 12 + d->tag_len))
		return HL_EPARSE;
	n = (int)len;
	st = rtcp ? srtp_unprotect_rtcp(d->srtp_in, buf, &n)
		  : srtp_unprotect(d->srtp_in, buf, &n);
	if (st != srtp_err_status_ok) {
		if (st == srtp_err_status_bad_param ||
		    st == srtp_err_status_parse_err)
			return HL_EPARSE;
		return HL_EAUTH; /* unauthentic, replayed, or too old */
	}
	if (n < 0 || (size_t)n > len)
		return HL_EAUTH; /* cannot happen */
	*out_len = (size_t)n;
	return 0;
}
