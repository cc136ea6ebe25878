/*
 * test_sframe.c - SFrame (RFC 9605): all published vectors (header,
 * AES-CTR+HMAC, full frames for suites 1-5) and the behaviour around them:
 * round trips, tampering, replay window, ratchet following, key table,
 * counter exhaustion, argument checks, stats, allocation failure.
 */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "harness.h"
#include "hotline/sframe.h"

#include "../src/e2ee/sframe_internal.h"

static const enum hl_sframe_suite all_suites[] = {
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_80,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_64,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_32,
	HL_SFRAME_AES_128_GCM_SHA256_128,
	HL_SFRAME_AES_256_GCM_SHA512_128,
};

static const uint8_t key_a[32] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};
static const uint8_t key_b[16] = {
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* Large scratch buffers (file scope: too big for the stack). */
static uint8_t big_in[HL_SFRAME_FRAME_MAX + 64];
static uint8_t big_out[HL_SFRAME_FRAME_MAX + 64];
static uint8_t big_pt[HL_SFRAME_FRAME_MAX + 64];

/* ---- vector file ------------------------------------------------------ */

static json_t *vectors; /* loaded once in main() */

/*
 * Load the RFC 9605 vectors with every bare JSON number turned into a
 * string: kid/ctr go up to 2^64-1, which jansson refuses (above
 * INT64_MAX), and a double would round them.  They are then read with
 * strtoull().
 */
static json_t *load_vectors(void)
{
	char path[1024];
	uint8_t *text = NULL;
	char *quoted = NULL;
	size_t len = 0, n = 0;
	bool in_str = false, esc = false;
	json_error_t jerr;
	json_t *root = NULL;

	snprintf(path, sizeof(path), "%s/sframe/rfc9605-test-vectors.json",
		 hl_test_vectors_dir());
	if (hl_test_read_file(path, &text, &len)) {
		fprintf(stderr, "cannot read %s\n", path);
		return NULL;
	}
	quoted = malloc(len * 3 + 1);
	if (!quoted)
		goto out;
	for (size_t i = 0; i < len; i++) {
		char c = (char)text[i];

		if (in_str) {
			quoted[n++] = c;
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			quoted[n++] = c;
			in_str = true;
		} else if ((c >= '0' && c <= '9') || c == '-') {
			quoted[n++] = '"';
			while (i < len && strchr("0123456789+-.eE", text[i]) &&
			       text[i])
				quoted[n++] = (char)text[i++];
			quoted[n++] = '"';
			i--;
		} else {
			quoted[n++] = c;
		}
	}
	root = json_loadb(quoted, n, 0, &jerr);
	if (!root)
		fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
out:
	free(quoted);
	hl_free(text);
	return root;
}

/* A decimal uint64 field (stored as a string by load_vectors). */
static bool vec_u64(json_t *obj, const char *key, uint64_t *v)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == 0;
}

/* A hex field decoded into buf; returns its length or -1. */
static long vec_hex(json_t *obj, const char *key, uint8_t *buf, size_t cap)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? hl_test_unhex(s, buf, cap) : -1;
}

/* ---- suite table ------------------------------------------------------ */

static int test_suite_info(void)
{
	static const size_t tags[] = {10, 8, 4, 16, 16};

	for (size_t i = 0; i < HL_ARRAY_SIZE(all_suites); i++) {
		HT_ASSERT(hl_sframe_suite_supported(all_suites[i]));
		HT_EQ_INT(hl_sframe_suite_tag_len(all_suites[i]), tags[i]);
		HT_ASSERT(hl_sframe_suite_tag_len(all_suites[i]) <=
			  HL_SFRAME_TAG_MAX);
	}
	HT_ASSERT(strcmp(hl_sframe_suite_name(HL_SFRAME_DEFAULT_SUITE),
			 "AES_128_GCM_SHA256_128") == 0);
	HT_ASSERT(strcmp(hl_sframe_suite_name(
				 HL_SFRAME_AES_128_CTR_HMAC_SHA256_32),
			 "AES_128_CTR_HMAC_SHA256_32") == 0);
	HT_ASSERT(strcmp(hl_sframe_suite_name(HL_SFRAME_AES_256_GCM_SHA512_128),
			 "AES_256_GCM_SHA512_128") == 0);
	HT_ASSERT(!hl_sframe_suite_supported((enum hl_sframe_suite)0));
	HT_ASSERT(!hl_sframe_suite_supported((enum hl_sframe_suite)6));
	HT_ASSERT(!hl_sframe_suite_supported((enum hl_sframe_suite)0xf000));
	HT_ASSERT(hl_sframe_suite_name((enum hl_sframe_suite)0) == NULL);
	HT_EQ_INT(hl_sframe_suite_tag_len((enum hl_sframe_suite)6), 0);
	return 0;
}

/* ---- vectors ---------------------------------------------------------- */

/* RFC 9605 Appendix C.1 header vectors: all 289. */
static int test_vectors_header(void)
{
	json_t *arr = json_object_get(vectors, "header");
	size_t i;
	json_t *v;

	HT_ASSERT(arr);
	HT_EQ_INT(json_array_size(arr), 289);
	json_array_foreach(arr, i, v)
	{
		uint8_t enc[32], got[HL_SFRAME_HEADER_MAX];
		uint64_t kid, ctr, dkid = 1, dctr = 1;
		size_t n = 0, hl = 0;
		long elen;

		HT_ASSERT(vec_u64(v, "kid", &kid));
		HT_ASSERT(vec_u64(v, "ctr", &ctr));
		elen = vec_hex(v, "encoded", enc, sizeof(enc));
		HT_ASSERT(elen >= 1 && elen <= HL_SFRAME_HEADER_MAX);
		HT_OK(hl_sframe_header_encode(kid, ctr, got, sizeof(got), &n));
		HT_EQ_INT(n, elen);
		HT_EQ_MEM(got, enc, n);
		HT_OK(hl_sframe_header_decode(enc, (size_t)elen, &dkid, &dctr,
					      &hl));
		HT_ASSERT(dkid == kid && dctr == ctr);
		HT_EQ_INT(hl, elen);
		/* One byte short is malformed; exact cap is enough. */
		HT_EQ_INT(hl_sframe_header_decode(enc, (size_t)elen - 1, &dkid,
						  &dctr, &hl),
			  HL_EPARSE);
		HT_EQ_INT(hl_sframe_header_encode(kid, ctr, got, n - 1, &n),
			  HL_EINVAL);
	}
	return 0;
}

/* RFC 9605 Appendix C.2 AES-CTR+HMAC vectors: all 3. */
static int test_vectors_aes_ctr_hmac(void)
{
	json_t *arr = json_object_get(vectors, "aes_ctr_hmac");
	size_t i;
	json_t *v;

	HT_ASSERT(arr);
	HT_EQ_INT(json_array_size(arr), 3);
	json_array_foreach(arr, i, v)
	{
		uint8_t key[64], ek[32], ak[64], nonce[16], aad[64], pt[64],
			ct[96], got[96];
		long klen, eklen, aklen, nlen, alen, plen, clen;
		uint64_t suite;

		HT_ASSERT(vec_u64(v, "cipher_suite", &suite));
		klen = vec_hex(v, "key", key, sizeof(key));
		eklen = vec_hex(v, "enc_key", ek, sizeof(ek));
		aklen = vec_hex(v, "auth_key", ak, sizeof(ak));
		nlen = vec_hex(v, "nonce", nonce, sizeof(nonce));
		alen = vec_hex(v, "aad", aad, sizeof(aad));
		plen = vec_hex(v, "pt", pt, sizeof(pt));
		clen = vec_hex(v, "ct", ct, sizeof(ct));
		HT_ASSERT(klen == 48 && eklen == 16 && aklen == 32);
		HT_ASSERT(nlen == HL_SFRAME_NONCE_LEN && alen >= 0 && plen > 0);
		/* §4.5.1 derive_subkeys: key = enc_key || auth_key */
		HT_EQ_MEM(key, ek, 16);
		HT_EQ_MEM(key + 16, ak, 32);
		HT_EQ_INT(clen, plen + (long)hl_sframe_suite_tag_len(
					       (enum hl_sframe_suite)suite));
		HT_OK(hl_sframe_aead_seal((enum hl_sframe_suite)suite, key,
					  nonce, aad, (size_t)alen, pt,
					  (size_t)plen, got));
		HT_EQ_MEM(got, ct, (size_t)clen);
		memset(got, 0, sizeof(got));
		HT_OK(hl_sframe_aead_open((enum hl_sframe_suite)suite, key,
					  nonce, aad, (size_t)alen, ct,
					  (size_t)clen, got));
		HT_EQ_MEM(got, pt, (size_t)plen);
		ct[clen - 1] ^= 1;
		HT_EQ_INT(hl_sframe_aead_open((enum hl_sframe_suite)suite, key,
					      nonce, aad, (size_t)alen, ct,
					      (size_t)clen, got),
			  HL_EAUTH);
		ct[clen - 1] ^= 1;
		aad[0] ^= 0x80;
		HT_EQ_INT(hl_sframe_aead_open((enum hl_sframe_suite)suite, key,
					      nonce, aad, (size_t)alen, ct,
					      (size_t)clen, got),
			  HL_EAUTH);
	}
	return 0;
}

/* RFC 9605 Appendix C.3/C.4 full SFrame vectors: all 5 suites. */
static int test_vectors_sframe(void)
{
	json_t *arr = json_object_get(vectors, "sframe");
	size_t i;
	json_t *v;

	HT_ASSERT(arr);
	HT_EQ_INT(json_array_size(arr), 5);
	json_array_foreach(arr, i, v)
	{
		uint8_t base[64], klabel[64], slabel[64], secret[64], key[64],
			salt[16], md[64], nonce[16], aad[96], pt[64], ct[128];
		uint8_t got[128], label[HL_SFRAME_LABEL_MAX];
		long blen, kllen, sllen, seclen, klen, slen, mlen, nlen, alen,
			plen, clen;
		uint64_t suite, kid, ctr, kid_out = 0;
		const struct hl_sframe_suite_info *si;
		struct hl_sframe_sender *s = NULL;
		struct hl_sframe_receiver *r = NULL;
		size_t n = 0, hl = 0;

		HT_ASSERT(vec_u64(v, "cipher_suite", &suite));
		HT_ASSERT(vec_u64(v, "kid", &kid));
		HT_ASSERT(vec_u64(v, "ctr", &ctr));
		HT_EQ_INT(suite, all_suites[i]);
		si = hl_sframe_suite_info((enum hl_sframe_suite)suite);
		HT_ASSERT(si);
		blen = vec_hex(v, "base_key", base, sizeof(base));
		kllen = vec_hex(v, "sframe_key_label", klabel, sizeof(klabel));
		sllen = vec_hex(v, "sframe_salt_label", slabel, sizeof(slabel));
		seclen = vec_hex(v, "sframe_secret", secret, sizeof(secret));
		klen = vec_hex(v, "sframe_key", key, sizeof(key));
		slen = vec_hex(v, "sframe_salt", salt, sizeof(salt));
		mlen = vec_hex(v, "metadata", md, sizeof(md));
		nlen = vec_hex(v, "nonce", nonce, sizeof(nonce));
		alen = vec_hex(v, "aad", aad, sizeof(aad));
		plen = vec_hex(v, "pt", pt, sizeof(pt));
		clen = vec_hex(v, "ct", ct, sizeof(ct));
		HT_ASSERT(blen > 0 && kllen > 0 && sllen > 0 && mlen >= 0 &&
			  alen > 0 && plen > 0 && clen > 0);
		HT_EQ_INT(seclen, si->nh);
		HT_EQ_INT(klen, si->nk);
		HT_EQ_INT(slen, HL_SFRAME_NONCE_LEN);
		HT_EQ_INT(nlen, HL_SFRAME_NONCE_LEN);

		/* §4.4.2 labels and sframe_secret */
		HT_EQ_INT(hl_sframe_label(si->id, kid, false, label), kllen);
		HT_EQ_MEM(label, klabel, (size_t)kllen);
		HT_EQ_INT(hl_sframe_label(si->id, kid, true, label), sllen);
		HT_EQ_MEM(label, slabel, (size_t)sllen);
		HT_OK(hl_crypto_hkdf_extract(si->hash, NULL, 0, base,
					     (size_t)blen, got));
		HT_EQ_MEM(got, secret, (size_t)seclen);

		/* §4.4.2 sframe_key, sframe_salt */
		memset(got, 0, sizeof(got));
		HT_OK(hl_sframe_derive(si->id, base, (size_t)blen, kid, got,
				       got + 64));
		HT_EQ_MEM(got, key, (size_t)klen);
		HT_EQ_MEM(got + 64, salt, (size_t)slen);

		/* §4.4.3 nonce and AAD = header || metadata */
		hl_sframe_nonce(salt, ctr, got);
		HT_EQ_MEM(got, nonce, HL_SFRAME_NONCE_LEN);
		HT_OK(hl_sframe_header_encode(kid, ctr, got, sizeof(got), &hl));
		HT_EQ_INT(hl + (size_t)mlen, alen);
		memcpy(got + hl, md, (size_t)mlen);
		HT_EQ_MEM(got, aad, (size_t)alen);

		/* The AEAD alone gives the body of ct. */
		HT_OK(hl_sframe_aead_seal(si->id, key, nonce, aad, (size_t)alen,
					  pt, (size_t)plen, got));
		HT_EQ_MEM(got, ct + hl, (size_t)clen - hl);

		/* The whole frame from a sender at CTR = ctr. */
		HT_OK(hl_sframe_sender_new(&s, si->id, kid, base,
					   (size_t)blen));
		HT_OK(hl_sframe_sender_skip_to(s, ctr));
		HT_OK(hl_sframe_encrypt(s, md, (size_t)mlen, pt, (size_t)plen,
					got, sizeof(got), &n));
		hl_sframe_sender_free(s);
		HT_EQ_INT(n, clen);
		HT_EQ_MEM(got, ct, n);

		/* And a receiver opens it. */
		HT_OK(hl_sframe_receiver_new(&r, si->id));
		HT_OK(hl_sframe_receiver_add_key(r, kid, base, (size_t)blen));
		memset(got, 0, sizeof(got));
		n = 0;
		HT_OK(hl_sframe_decrypt(r, md, (size_t)mlen, ct, (size_t)clen,
					got, sizeof(got), &n, &kid_out));
		hl_sframe_receiver_free(r);
		HT_EQ_INT(n, plen);
		HT_EQ_MEM(got, pt, n);
		HT_ASSERT(kid_out == kid);
	}
	return 0;
}

/* Independent check of §4.4.2 and §5.1 with OpenSSL's one-shot HKDF. */
static int oneshot_hkdf(const char *md, const uint8_t *ikm, size_t ikm_len,
			const uint8_t *info, size_t info_len, uint8_t *out,
			size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[4];
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)md, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikm_len);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						 (void *)info, info_len);
	p[3] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_KDF_derive(ctx, out, out_len, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

static int test_ratchet_key_oneshot(void)
{
	static const char ratchet[] = "SFrame 1.0 Ratchet";

	for (size_t i = 0; i < HL_ARRAY_SIZE(all_suites); i++) {
		const struct hl_sframe_suite_info *si =
			hl_sframe_suite_info(all_suites[i]);
		const char *md =
			si->hash == HL_CRYPTO_SHA512 ? "SHA512" : "SHA256";
		uint8_t a[64], b[64], label[HL_SFRAME_LABEL_MAX], k[64],
			salt[12];
		size_t n = 0, ll;

		HT_OK(hl_sframe_ratchet_key(si->id, key_a, sizeof(key_a), a,
					    &n));
		HT_EQ_INT(n, si->nh);
		HT_EQ_INT(oneshot_hkdf(md, key_a, sizeof(key_a),
				       (const uint8_t *)ratchet,
				       strlen(ratchet), b, n),
			  0);
		HT_EQ_MEM(a, b, n);
		/* Ratcheting again from the result is a new key. */
		HT_OK(hl_sframe_ratchet_key(si->id, a, n, b, &n));
		HT_ASSERT(memcmp(a, b, n) != 0);
		/* derive() with a big KID */
		HT_OK(hl_sframe_derive(si->id, key_a, sizeof(key_a),
				       0xfedcba9876543210ull, k, salt));
		ll = hl_sframe_label(si->id, 0xfedcba9876543210ull, false,
				     label);
		HT_EQ_INT(oneshot_hkdf(md, key_a, sizeof(key_a), label, ll, b,
				       si->nk),
			  0);
		HT_EQ_MEM(k, b, si->nk);
		ll = hl_sframe_label(si->id, 0xfedcba9876543210ull, true,
				     label);
		HT_EQ_INT(oneshot_hkdf(md, key_a, sizeof(key_a), label, ll, b,
				       12),
			  0);
		HT_EQ_MEM(salt, b, 12);
	}
	return 0;
}

/* ---- header edge cases ------------------------------------------------ */

static int test_header_forms(void)
{
	static const struct {
		uint8_t b[4];
		size_t len;
	} bad[] = {
		{{0x80, 0x05}, 2},	 /* KID 5 in an extended field */
		{{0x80, 0x00}, 2},	 /* KID 0 in an extended field */
		{{0x90, 0x00, 0xff}, 3}, /* 2-byte KID with a leading zero */
		{{0x08, 0x07}, 2},	 /* CTR 7 in an extended field */
		{{0x09, 0x00, 0x08}, 3}, /* 2-byte CTR with a leading zero */
		{{0x88, 0x08, 0x00}, 3}, /* KID ok, CTR 0 extended */
		{{0x0f, 0xff}, 2},	 /* truncated 8-byte CTR */
		{{0xf0, 0x01}, 2},	 /* truncated 8-byte KID */
	};
	uint8_t buf[HL_SFRAME_HEADER_MAX + 4];
	uint64_t kid = 0, ctr = 0;
	size_t n = 0, hl = 0;

	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++)
		HT_EQ_INT(hl_sframe_header_decode(bad[i].b, bad[i].len, &kid,
						  &ctr, &hl),
			  HL_EPARSE);
	HT_EQ_INT(hl_sframe_header_decode(buf, 0, &kid, &ctr, &hl), HL_EPARSE);
	/* Smallest legal extended values. */
	buf[0] = 0x88;
	buf[1] = 0x08;
	buf[2] = 0x08;
	HT_OK(hl_sframe_header_decode(buf, 3, &kid, &ctr, &hl));
	HT_ASSERT(kid == 8 && ctr == 8 && hl == 3);
	/* Largest header: both values 2^64-1, 17 bytes; trailing data ok. */
	HT_OK(hl_sframe_header_encode(UINT64_MAX, UINT64_MAX, buf, sizeof(buf),
				      &n));
	HT_EQ_INT(n, HL_SFRAME_HEADER_MAX);
	HT_EQ_INT(buf[0], 0xff);
	buf[n] = 0xaa;
	HT_OK(hl_sframe_header_decode(buf, n + 1, &kid, &ctr, &hl));
	HT_ASSERT(kid == UINT64_MAX && ctr == UINT64_MAX && hl == n);
	HT_EQ_INT(
		hl_sframe_header_encode(UINT64_MAX, UINT64_MAX, buf, n - 1, &n),
		HL_EINVAL);
	/* Every power of two and its neighbours round-trips minimally. */
	for (int a = 0; a < 64; a++) {
		for (int b = 0; b < 64; b += 7) {
			uint64_t k = ((uint64_t)1 << a) - 1,
				 c = ((uint64_t)1 << b) + 1;
			uint64_t dk = 0, dc = 0;

			HT_OK(hl_sframe_header_encode(k, c, buf, sizeof(buf),
						      &n));
			HT_OK(hl_sframe_header_decode(buf, n, &dk, &dc, &hl));
			HT_ASSERT(dk == k && dc == c && hl == n);
		}
	}
	HT_EQ_INT(hl_sframe_header_encode(1, 1, NULL, 4, &n), HL_EINVAL);
	HT_EQ_INT(hl_sframe_header_decode(NULL, 4, &kid, &ctr, &hl), HL_EINVAL);
	return 0;
}

/* ---- helpers for behaviour tests -------------------------------------- */

struct frame {
	uint8_t b[64];
	size_t len;
};

/* Encrypt a small frame whose plaintext encodes tag. */
static int seal_small(struct hl_sframe_sender *s, uint32_t tag, struct frame *f)
{
	uint8_t pt[8];

	hl_put_be32(pt, tag);
	hl_put_be32(pt + 4, ~tag);
	return hl_sframe_encrypt(s, NULL, 0, pt, sizeof(pt), f->b, sizeof(f->b),
				 &f->len);
}

/* Decrypt a small frame; on success check its plaintext encodes tag. */
static int open_small(struct hl_sframe_receiver *r, const struct frame *f,
		      uint32_t tag)
{
	uint8_t pt[64];
	size_t n = 0;
	int err;

	err = hl_sframe_decrypt(r, NULL, 0, f->b, f->len, pt, sizeof(pt), &n,
				NULL);
	if (err)
		return err;
	if (n != 8 || hl_get_be32(pt) != tag || hl_get_be32(pt + 4) != ~tag)
		return -100;
	return 0;
}

/* ---- round trips and tampering ---------------------------------------- */

static int test_round_trip_all_suites(void)
{
	static const size_t sizes[] = {0,   1,	  15,	16,   17,
				       100, 1200, 6000, 65536};
	static const uint8_t md[] = {0x90, 0x80, 0x00, 0x2a, 0x10};

	for (size_t i = 0; i < HL_ARRAY_SIZE(all_suites); i++) {
		struct hl_sframe_sender *s = NULL;
		struct hl_sframe_receiver *r = NULL;
		uint64_t kid = 0x123456789aull << 8;
		size_t nt = hl_sframe_suite_tag_len(all_suites[i]);

		HT_OK(hl_sframe_sender_new(&s, all_suites[i], kid, key_a,
					   sizeof(key_a)));
		HT_OK(hl_sframe_receiver_new(&r, all_suites[i]));
		HT_OK(hl_sframe_receiver_add_key(r, kid, key_a, sizeof(key_a)));
		HT_ASSERT(hl_sframe_sender_kid(s) == kid);
		for (size_t j = 0; j < HL_ARRAY_SIZE(sizes); j++) {
			for (int with_md = 0; with_md < 2; with_md++) {
				const uint8_t *m = with_md ? md : NULL;
				size_t ml = with_md ? sizeof(md) : 0;
				size_t n = 0, pn = 0, hl = 0;
				uint64_t k = 0, c = 0, kid_out = 0;

				for (size_t b = 0; b < sizes[j]; b++)
					big_pt[b] = (uint8_t)(b * 31 + j);
				HT_OK(hl_sframe_encrypt(
					s, m, ml, big_pt, sizes[j], big_in,
					sizes[j] + HL_SFRAME_OVERHEAD_MAX, &n));
				HT_OK(hl_sframe_header_decode(big_in, n, &k, &c,
							      &hl));
				HT_ASSERT(k == kid);
				HT_EQ_INT(c, j * 2 + (size_t)with_md);
				HT_EQ_INT(n, hl + sizes[j] + nt);
				HT_OK(hl_sframe_decrypt(r, m, ml, big_in, n,
							big_out, sizes[j], &pn,
							&kid_out));
				HT_EQ_INT(pn, sizes[j]);
				HT_EQ_MEM(big_out, big_pt, pn);
				HT_ASSERT(kid_out == kid);
				/* The wrong metadata does not open it. */
				HT_EQ_INT(hl_sframe_decrypt(
						  r, m ? NULL : md,
						  m ? 0 : sizeof(md), big_in, n,
						  big_out, sizes[j], &pn, NULL),
					  HL_EAUTH);
			}
		}
		hl_sframe_sender_free(s);
		hl_sframe_receiver_free(r);
	}
	return 0;
}

/* Exact output capacity is enough; one less is refused. */
static int test_capacity(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	uint8_t pt[100] = {1, 2, 3}, out[200], back[100];
	size_t n = 0, pn = 0;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 3, key_a,
				   sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_receiver_add_key(r, 3, key_a, sizeof(key_a)));
	/* kid 3, ctr 0: 1-byte header + 100 + 16 */
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 0, pt, sizeof(pt), out, 116, &n),
		  HL_EINVAL);
	HT_OK(hl_sframe_encrypt(s, NULL, 0, pt, sizeof(pt), out, 117, &n));
	HT_EQ_INT(n, 117);
	HT_EQ_INT(hl_sframe_decrypt(r, NULL, 0, out, n, back, 99, &pn, NULL),
		  HL_EINVAL);
	HT_OK(hl_sframe_decrypt(r, NULL, 0, out, n, back, 100, &pn, NULL));
	HT_EQ_MEM(back, pt, sizeof(pt));
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

static int test_tamper_every_bit(void)
{
	static const uint8_t md[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02};
	uint8_t pt[40], frame[128], bad[128], badmd[sizeof(md)], out[128];

	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)i;
	for (size_t si = 0; si < HL_ARRAY_SIZE(all_suites); si++) {
		struct hl_sframe_sender *s = NULL;
		struct hl_sframe_receiver *r = NULL;
		struct hl_sframe_stats st;
		uint64_t kid = 0x7700, fails = 0;
		size_t n = 0, pn = 0;

		HT_OK(hl_sframe_sender_new(&s, all_suites[si], kid, key_a,
					   sizeof(key_a)));
		HT_OK(hl_sframe_receiver_new(&r, all_suites[si]));
		HT_OK(hl_sframe_receiver_add_key(r, kid, key_a, sizeof(key_a)));
		HT_OK(hl_sframe_sender_skip_to(s, 300)); /* 2-byte CTR */
		HT_OK(hl_sframe_encrypt(s, md, sizeof(md), pt, sizeof(pt),
					frame, sizeof(frame), &n));
		/* Header, ciphertext and tag: every single bit. */
		for (size_t bit = 0; bit < n * 8; bit++) {
			memcpy(bad, frame, n);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			HT_EQ_INT(hl_sframe_decrypt(r, md, sizeof(md), bad, n,
						    out, sizeof(out), &pn,
						    NULL),
				  HL_EAUTH);
			fails++;
		}
		/* Metadata: every single bit. */
		for (size_t bit = 0; bit < sizeof(md) * 8; bit++) {
			memcpy(badmd, md, sizeof(md));
			badmd[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			HT_EQ_INT(hl_sframe_decrypt(r, badmd, sizeof(md), frame,
						    n, out, sizeof(out), &pn,
						    NULL),
				  HL_EAUTH);
			fails++;
		}
		/* Truncated at every length, and one byte too long. */
		for (size_t len = 0; len < n; len++) {
			HT_EQ_INT(hl_sframe_decrypt(r, md, sizeof(md), frame,
						    len, out, sizeof(out), &pn,
						    NULL),
				  HL_EAUTH);
			fails++;
		}
		memcpy(bad, frame, n);
		bad[n] = 0;
		HT_EQ_INT(hl_sframe_decrypt(r, md, sizeof(md), bad, n + 1, out,
					    sizeof(out), &pn, NULL),
			  HL_EAUTH);
		fails++;
		/* None of that moved any state: the real frame opens. */
		HT_OK(hl_sframe_decrypt(r, md, sizeof(md), frame, n, out,
					sizeof(out), &pn, NULL));
		HT_EQ_MEM(out, pt, sizeof(pt));
		hl_sframe_receiver_stats(r, &st);
		HT_ASSERT(st.auth_failures == fails);
		HT_ASSERT(st.frames_ok == 1 && st.replays == 0 &&
			  st.ratchets == 0);
		hl_sframe_sender_free(s);
		hl_sframe_receiver_free(r);
	}
	return 0;
}

/* ---- replay window ---------------------------------------------------- */

static int test_replay(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct hl_sframe_stats st;
	struct frame f0, f1;
	uint8_t out[64] = {0};
	size_t n = 12345;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 9, key_a,
				   sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_receiver_add_key(r, 9, key_a, sizeof(key_a)));
	HT_OK(seal_small(s, 0, &f0));
	HT_OK(seal_small(s, 1, &f1));
	HT_OK(open_small(r, &f1, 1));
	HT_OK(open_small(r, &f0, 0)); /* late but fresh */
	HT_EQ_INT(hl_sframe_decrypt(r, NULL, 0, f0.b, f0.len, out, sizeof(out),
				    &n, NULL),
		  HL_EREPLAY);
	HT_EQ_INT(n, 12345); /* untouched on failure */
	for (size_t i = 0; i < sizeof(out); i++)
		HT_EQ_INT(out[i], 0); /* replayed plaintext not handed out */
	HT_EQ_INT(open_small(r, &f1, 1), HL_EREPLAY);
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.frames_ok == 2 && st.replays == 2 &&
		  st.auth_failures == 0);
	/* Re-adding the key gives a fresh window (caller's decision). */
	HT_OK(hl_sframe_receiver_add_key(r, 9, key_a, sizeof(key_a)));
	HT_OK(open_small(r, &f1, 1));
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

#define WIN_FRAMES 5001
static struct frame win_frames[WIN_FRAMES];

static int test_replay_window_out_of_order(void)
{
	const uint64_t W = HL_SFRAME_REPLAY_WINDOW;
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct hl_sframe_stats st;
	struct hl_prng prng;
	uint32_t order[1000];
	uint64_t ok = 0, replays = 0;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_AES_128_CTR_HMAC_SHA256_80,
				   0x100, key_a, sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_AES_128_CTR_HMAC_SHA256_80));
	HT_OK(hl_sframe_receiver_add_key(r, 0x100, key_a, sizeof(key_a)));
	for (uint32_t c = 0; c < WIN_FRAMES; c++)
		HT_OK(seal_small(s, c, &win_frames[c]));

	HT_OK(open_small(r, &win_frames[2000], 2000));
	ok++;
	/* Oldest counter still inside the window, then just outside. */
	HT_OK(open_small(r, &win_frames[2000 - (W - 1)], 2000 - (W - 1)));
	ok++;
	HT_EQ_INT(open_small(r, &win_frames[2000 - W], 2000 - W), HL_EREPLAY);
	replays++;
	/* 1000..1999 shuffled (skipping 1500 and 1600): each once. */
	for (uint32_t i = 0; i < 1000; i++)
		order[i] = 1000 + i;
	hl_prng_seed(&prng, 7);
	for (uint32_t i = 999; i > 0; i--) {
		uint32_t j = (uint32_t)hl_prng_below(&prng, i + 1), t;

		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < 1000; i++) {
		if (order[i] == 1500 || order[i] == 1600)
			continue;
		HT_OK(open_small(r, &win_frames[order[i]], order[i]));
		ok++;
	}
	for (uint32_t i = 0; i < 1000; i += 37) {
		if (order[i] == 1500 || order[i] == 1600)
			continue;
		HT_EQ_INT(open_small(r, &win_frames[order[i]], order[i]),
			  HL_EREPLAY);
		replays++;
	}
	/* Slide by 600: slots of counters that left are reused cleanly. */
	HT_OK(open_small(r, &win_frames[2600], 2600));
	ok++;
	HT_OK(open_small(r, &win_frames[2599], 2599)); /* slot of 1575 */
	ok++;
	HT_OK(open_small(r, &win_frames[1600], 1600)); /* 1000 back: fresh */
	ok++;
	HT_EQ_INT(open_small(r, &win_frames[1500], 1500), HL_EREPLAY); /* old */
	replays++;
	HT_EQ_INT(open_small(r, &win_frames[2000], 2000), HL_EREPLAY);
	replays++;
	/* Jump further than the window: everything before is forgotten. */
	HT_OK(open_small(r, &win_frames[5000], 5000));
	ok++;
	HT_OK(open_small(r, &win_frames[5000 - (W - 1)], 5000 - (W - 1)));
	ok++;
	HT_EQ_INT(open_small(r, &win_frames[5000 - W], 5000 - W), HL_EREPLAY);
	replays++;
	HT_EQ_INT(open_small(r, &win_frames[2600], 2600), HL_EREPLAY);
	replays++;
	HT_EQ_INT(open_small(r, &win_frames[5000], 5000), HL_EREPLAY);
	replays++;

	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.frames_ok == ok && st.replays == replays &&
		  st.auth_failures == 0);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

/* A forged frame with a fresh CTR must not move the window. */
static int test_replay_only_after_auth(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame f[3000], forged;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 1, key_a,
				   sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_receiver_add_key(r, 1, key_a, sizeof(key_a)));
	for (uint32_t c = 0; c < 3000; c++)
		HT_OK(seal_small(s, c, &f[c]));
	/* Forge CTR 2999 (far ahead) by breaking the tag of the real one. */
	forged = f[2999];
	forged.b[forged.len - 1] ^= 1;
	HT_EQ_INT(open_small(r, &forged, 2999), HL_EAUTH);
	/* Had it been recorded, CTR 0 would now be too old. */
	HT_OK(open_small(r, &f[0], 0));
	HT_OK(open_small(r, &f[2999], 2999));
	HT_EQ_INT(open_small(r, &f[1], 1), HL_EREPLAY);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

/* ---- key ids ---------------------------------------------------------- */

static int test_unknown_kid(void)
{
	struct hl_sframe_sender *s = NULL, *s2 = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct hl_sframe_stats st;
	struct frame f;

	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 0x205, key_a,
				   sizeof(key_a)));
	HT_OK(seal_small(s, 1, &f));
	HT_EQ_INT(open_small(r, &f, 1), HL_EAUTH); /* no keys at all */
	HT_OK(hl_sframe_receiver_add_key(r, 0x305, key_a, sizeof(key_a)));
	HT_EQ_INT(open_small(r, &f, 1), HL_EAUTH); /* other generation */
	HT_OK(hl_sframe_receiver_add_key(r, 0x206, key_a, sizeof(key_a)));
	HT_EQ_INT(open_small(r, &f, 1), HL_EAUTH); /* a step behind */
	/* Same KID, different key: EAUTH too. */
	HT_OK(hl_sframe_sender_new(&s2, HL_SFRAME_DEFAULT_SUITE, 0x305, key_b,
				   sizeof(key_b)));
	HT_OK(seal_small(s2, 2, &f));
	HT_EQ_INT(open_small(r, &f, 2), HL_EAUTH);
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.auth_failures == 4 && st.frames_ok == 0);
	hl_sframe_sender_free(s);
	hl_sframe_sender_free(s2);
	hl_sframe_receiver_free(r);
	return 0;
}

/* Make a sender at KID gen<<8 with key and ratchet it steps times. */
static int sender_at(struct hl_sframe_sender **s, enum hl_sframe_suite suite,
		     uint64_t gen, const uint8_t *key, size_t key_len,
		     unsigned steps)
{
	int err = hl_sframe_sender_new(s, suite, gen << 8, key, key_len);

	for (unsigned i = 0; !err && i < steps; i++)
		err = hl_sframe_sender_ratchet(*s);
	return err;
}

static int test_ratchet_follow(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_256_GCM_SHA512_128;
	struct hl_sframe_sender *s = NULL, *s2 = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct hl_sframe_stats st;
	struct frame f0, f0late, f1, f1late, f17, forged, far, f33;
	uint64_t kid = 0;
	uint8_t out[64];
	size_t n;

	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x4200, key_a, sizeof(key_a)));
	HT_OK(sender_at(&s, suite, 0x42, key_a, sizeof(key_a), 0));
	HT_OK(seal_small(s, 0, &f0));
	HT_OK(seal_small(s, 1, &f0late));
	HT_OK(open_small(r, &f0, 0));

	/* One step ahead. */
	HT_OK(hl_sframe_sender_ratchet(s));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x4201);
	HT_OK(seal_small(s, 10, &f1));
	HT_OK(seal_small(s, 11, &f1late));
	/* A forged frame for the next step changes nothing. */
	forged = f1;
	forged.b[forged.len - 2] ^= 0x40;
	HT_EQ_INT(open_small(r, &forged, 10), HL_EAUTH);
	HT_OK(hl_sframe_decrypt(r, NULL, 0, f1.b, f1.len, out, sizeof(out), &n,
				&kid));
	HT_ASSERT(kid == 0x4201);
	HT_OK(open_small(r, &f0late, 1)); /* late frame, previous step */
	HT_EQ_INT(open_small(r, &f1, 10), HL_EREPLAY);
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.ratchets == 1 && st.auth_failures == 1);

	/* Sixteen steps ahead at once. */
	for (int i = 0; i < 16; i++)
		HT_OK(hl_sframe_sender_ratchet(s));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x4211);
	HT_OK(seal_small(s, 17, &f17));
	HT_OK(open_small(r, &f17, 17));
	HT_OK(open_small(r, &f1late, 11)); /* previous step still there */
	HT_EQ_INT(open_small(r, &f0late, 1), HL_EAUTH); /* two back: gone */
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.ratchets == 17);

	/* Seventeen ahead of the head (0x4211) is refused... */
	for (int i = 0; i < 17; i++)
		HT_OK(hl_sframe_sender_ratchet(s));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x4222);
	HT_OK(seal_small(s, 34, &far));
	HT_EQ_INT(open_small(r, &far, 34), HL_EAUTH);
	/* ...and did not disturb the table: 16 ahead of the head works. */
	HT_OK(sender_at(&s2, suite, 0x42, key_a, sizeof(key_a), 33));
	HT_ASSERT(hl_sframe_sender_kid(s2) == 0x4221);
	HT_OK(seal_small(s2, 33, &f33));
	HT_OK(open_small(r, &f33, 33));
	HT_OK(open_small(r, &far, 34)); /* now only one ahead */
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.ratchets == 17 + 16 + 1);
	hl_sframe_sender_free(s);
	hl_sframe_sender_free(s2);
	hl_sframe_receiver_free(r);
	return 0;
}

/* A skipped or superseded step is never re-derived (replay safety). */
static int test_ratchet_no_rederive(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_128_CTR_HMAC_SHA256_64;
	struct hl_sframe_sender *s3 = NULL, *s5 = NULL, *s6 = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame f3, f5, f6, f5b;

	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x900, key_b, sizeof(key_b)));
	HT_OK(sender_at(&s3, suite, 9, key_b, sizeof(key_b), 3));
	HT_OK(sender_at(&s5, suite, 9, key_b, sizeof(key_b), 5));
	HT_OK(sender_at(&s6, suite, 9, key_b, sizeof(key_b), 6));
	HT_OK(seal_small(s3, 3, &f3));
	HT_OK(seal_small(s5, 5, &f5));
	HT_OK(seal_small(s5, 55, &f5b));
	HT_OK(seal_small(s6, 6, &f6));
	HT_OK(open_small(r, &f5, 5));		    /* follow 0 -> 5 */
	HT_EQ_INT(open_small(r, &f3, 3), HL_EAUTH); /* skipped step */
	HT_OK(open_small(r, &f6, 6));		    /* follow 5 -> 6 */
	HT_OK(open_small(r, &f5b, 55));		    /* previous step ok */
	HT_EQ_INT(open_small(r, &f5, 5), HL_EREPLAY);
	HT_EQ_INT(open_small(r, &f3, 3), HL_EAUTH);
	hl_sframe_sender_free(s3);
	hl_sframe_sender_free(s5);
	hl_sframe_sender_free(s6);
	hl_sframe_receiver_free(r);
	return 0;
}

/* The memo of derived ratchet steps gives the same keys as deriving. */
static int test_ratchet_memo(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_256_GCM_SHA512_128;
	struct hl_sframe_sender *s16 = NULL, *s3 = NULL, *s19 = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct hl_sframe_stats st;
	struct frame f16, f3, f19, forged;

	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x3300, key_b, sizeof(key_b)));
	HT_OK(sender_at(&s16, suite, 0x33, key_b, sizeof(key_b), 16));
	HT_OK(sender_at(&s3, suite, 0x33, key_b, sizeof(key_b), 3));
	HT_OK(sender_at(&s19, suite, 0x33, key_b, sizeof(key_b), 19));
	HT_OK(seal_small(s16, 16, &f16));
	HT_OK(seal_small(s3, 3, &f3));
	HT_OK(seal_small(s19, 19, &f19));
	forged = f16;
	forged.b[forged.len - 1] ^= 0x01;
	HT_EQ_INT(open_small(r, &forged, 16), HL_EAUTH); /* fills the memo */
	HT_EQ_INT(open_small(r, &forged, 16), HL_EAUTH); /* uses it */
	HT_OK(open_small(r, &f3, 3));			 /* from the memo */
	HT_EQ_INT(open_small(r, &f16, 16), 0);		 /* +13 from step 3 */
	HT_OK(open_small(r, &f19, 19));			 /* +3 from step 16 */
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.ratchets == 19 && st.auth_failures == 2);
	hl_sframe_sender_free(s16);
	hl_sframe_sender_free(s3);
	hl_sframe_sender_free(s19);
	hl_sframe_receiver_free(r);
	return 0;
}

/* The ratchet step wraps mod 256 inside its generation. */
static int test_ratchet_wrap(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_128_CTR_HMAC_SHA256_32;
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame a, b, c;

	HT_OK(hl_sframe_sender_new(&s, suite, 0x50fe, key_a, sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x50fe, key_a, sizeof(key_a)));
	HT_OK(seal_small(s, 1, &a));
	HT_OK(hl_sframe_sender_ratchet(s));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x50ff);
	HT_OK(seal_small(s, 2, &b));
	HT_OK(hl_sframe_sender_ratchet(s));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x5000);
	HT_OK(seal_small(s, 3, &c));
	HT_OK(open_small(r, &a, 1));
	HT_OK(open_small(r, &c, 3)); /* 2 steps ahead across the wrap */
	HT_EQ_INT(open_small(r, &b, 2), HL_EAUTH); /* skipped */
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

static int test_key_table_eviction(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_DEFAULT_SUITE;
	const unsigned nk = HL_SFRAME_MAX_KEYS;
	struct hl_sframe_sender *s[HL_SFRAME_MAX_KEYS + 2] = {0};
	struct hl_sframe_receiver *r = NULL;
	struct frame f[HL_SFRAME_MAX_KEYS + 2][4];
	uint8_t key[32];

	HT_OK(hl_sframe_receiver_new(&r, suite));
	for (unsigned i = 0; i < nk + 2; i++) {
		memcpy(key, key_a, sizeof(key));
		key[0] = (uint8_t)i;
		HT_OK(hl_sframe_sender_new(&s[i], suite, (uint64_t)i << 8, key,
					   sizeof(key)));
		for (unsigned j = 0; j < 4; j++)
			HT_OK(seal_small(s[i], i * 10 + j, &f[i][j]));
		if (i < nk)
			HT_OK(hl_sframe_receiver_add_key(r, (uint64_t)i << 8,
							 key, sizeof(key)));
	}
	for (unsigned i = 0; i < nk; i++)
		HT_OK(open_small(r, &f[i][0], i * 10));
	/* Key 0 used again: key 1 is now the least recently used. */
	HT_OK(open_small(r, &f[0][1], 1));
	memcpy(key, key_a, sizeof(key));
	key[0] = (uint8_t)nk;
	HT_OK(hl_sframe_receiver_add_key(r, (uint64_t)nk << 8, key,
					 sizeof(key)));
	HT_EQ_INT(open_small(r, &f[1][1], 11), HL_EAUTH); /* evicted */
	HT_OK(open_small(r, &f[0][2], 2));
	HT_OK(open_small(r, &f[nk][0], nk * 10));
	for (unsigned i = 2; i < nk; i++)
		HT_OK(open_small(r, &f[i][1], i * 10 + 1));
	/* Next eviction takes the LRU again: key 0, last used before the
	 * others. */
	memcpy(key, key_a, sizeof(key));
	key[0] = (uint8_t)(nk + 1);
	HT_OK(hl_sframe_receiver_add_key(r, (uint64_t)(nk + 1) << 8, key,
					 sizeof(key)));
	HT_EQ_INT(open_small(r, &f[0][3], 3), HL_EAUTH);
	HT_OK(open_small(r, &f[nk][1], nk * 10 + 1));
	HT_OK(open_small(r, &f[nk + 1][0], (nk + 1) * 10));
	for (unsigned i = 2; i < nk; i++)
		HT_OK(open_small(r, &f[i][2], i * 10 + 2));
	for (unsigned i = 0; i < nk + 2; i++)
		hl_sframe_sender_free(s[i]);
	hl_sframe_receiver_free(r);
	return 0;
}

/* The LRU victim after a ratchet is never the step just superseded. */
static int test_eviction_keeps_parent(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_DEFAULT_SUITE;
	struct hl_sframe_sender *s = NULL, *o = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame late, next, other;

	HT_OK(hl_sframe_receiver_new(&r, suite));
	/* The chain's key is the oldest in the table... */
	HT_OK(hl_sframe_receiver_add_key(r, 0xa00, key_a, sizeof(key_a)));
	HT_OK(sender_at(&s, suite, 0xa, key_a, sizeof(key_a), 0));
	HT_OK(seal_small(s, 1, &late));
	for (unsigned i = 1; i < HL_SFRAME_MAX_KEYS; i++)
		HT_OK(hl_sframe_receiver_add_key(r, (uint64_t)(0xb0 + i) << 8,
						 key_b, sizeof(key_b)));
	/* ...the table is full; following a step must evict another. */
	HT_OK(hl_sframe_sender_ratchet(s));
	HT_OK(seal_small(s, 2, &next));
	HT_OK(open_small(r, &next, 2));
	HT_OK(open_small(r, &late, 1));
	/* The oldest other key (0xb1) went. */
	HT_OK(hl_sframe_sender_new(&o, suite, 0xb100, key_b, sizeof(key_b)));
	HT_OK(seal_small(o, 3, &other));
	HT_EQ_INT(open_small(r, &other, 3), HL_EAUTH);
	hl_sframe_sender_free(s);
	hl_sframe_sender_free(o);
	hl_sframe_receiver_free(r);
	return 0;
}

static int test_remove_generation(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_128_CTR_HMAC_SHA256_80;
	struct hl_sframe_sender *s1 = NULL, *s2 = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame a, b, c, d;

	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x100, key_a, sizeof(key_a)));
	HT_OK(hl_sframe_receiver_add_key(r, 0x200, key_b, sizeof(key_b)));
	HT_OK(sender_at(&s1, suite, 1, key_a, sizeof(key_a), 0));
	HT_OK(sender_at(&s2, suite, 2, key_b, sizeof(key_b), 0));
	HT_OK(seal_small(s1, 1, &a));
	HT_OK(hl_sframe_sender_ratchet(s1));
	HT_OK(seal_small(s1, 2, &b));
	HT_OK(seal_small(s1, 3, &d));
	HT_OK(seal_small(s2, 4, &c));
	HT_OK(open_small(r, &b, 2)); /* 0x101 followed, 0x100 kept */
	hl_sframe_receiver_remove_generation(r, 0x1ff);
	HT_EQ_INT(open_small(r, &a, 1), HL_EAUTH);
	HT_EQ_INT(open_small(r, &d, 3), HL_EAUTH);
	HT_OK(open_small(r, &c, 4));
	hl_sframe_sender_free(s1);
	hl_sframe_sender_free(s2);
	hl_sframe_receiver_free(r);
	return 0;
}

/* ---- sender counter ---------------------------------------------------- */

static int test_counter_exhaustion(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame a, b, c;
	uint64_t kid = 0, ctr = 0;
	size_t hl = 0;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 0x300, key_a,
				   sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_receiver_add_key(r, 0x300, key_a, sizeof(key_a)));
	HT_OK(seal_small(s, 0, &a));			      /* CTR 0 */
	HT_EQ_INT(hl_sframe_sender_skip_to(s, 0), HL_EINVAL); /* backwards */
	HT_OK(hl_sframe_sender_skip_to(s, UINT64_MAX - 1));
	HT_OK(seal_small(s, 1, &a));
	HT_OK(seal_small(s, 2, &b));
	HT_OK(hl_sframe_header_decode(b.b, b.len, &kid, &ctr, &hl));
	HT_ASSERT(kid == 0x300 && ctr == UINT64_MAX);
	HT_EQ_INT(seal_small(s, 3, &c), HL_ESTATE);
	HT_EQ_INT(seal_small(s, 3, &c), HL_ESTATE);
	HT_EQ_INT(hl_sframe_sender_skip_to(s, UINT64_MAX), HL_EINVAL);
	HT_OK(open_small(r, &b, 2));
	HT_OK(open_small(r, &a, 1));
	HT_EQ_INT(open_small(r, &b, 2), HL_EREPLAY);
	/* A ratchet gives a new key and a fresh counter. */
	HT_OK(hl_sframe_sender_ratchet(s));
	HT_OK(seal_small(s, 4, &c));
	HT_OK(hl_sframe_header_decode(c.b, c.len, &kid, &ctr, &hl));
	HT_ASSERT(kid == 0x301 && ctr == 0);
	HT_OK(open_small(r, &c, 4));
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

static int test_sender_set_key(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame a, b;
	uint64_t kid = 0, ctr = 0;
	size_t hl = 0;

	HT_OK(hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 0x400, key_a,
				   sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE));
	HT_OK(hl_sframe_receiver_add_key(r, 0x500, key_b, sizeof(key_b)));
	HT_OK(seal_small(s, 1, &a));
	HT_OK(seal_small(s, 2, &a));
	/* The same KID again would restart its counter: refused. */
	HT_EQ_INT(hl_sframe_sender_set_key(s, 0x400, key_b, sizeof(key_b)),
		  HL_EINVAL);
	HT_OK(hl_sframe_sender_set_key(s, 0x500, key_b, sizeof(key_b)));
	HT_ASSERT(hl_sframe_sender_kid(s) == 0x500);
	HT_OK(seal_small(s, 3, &b));
	HT_OK(hl_sframe_header_decode(b.b, b.len, &kid, &ctr, &hl));
	HT_ASSERT(kid == 0x500 && ctr == 0);
	HT_OK(open_small(r, &b, 3));
	HT_EQ_INT(open_small(r, &a, 2), HL_EAUTH);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

/* ---- argument checks --------------------------------------------------- */

static int test_bad_arguments(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_DEFAULT_SUITE;
	struct hl_sframe_sender *s = NULL, *x = NULL;
	struct hl_sframe_receiver *r = NULL, *y = NULL;
	struct hl_sframe_stats st;
	uint8_t buf[256], out[256], k[64] = {0}, salt[12];
	size_t n = 0;

	HT_EQ_INT(hl_sframe_sender_new(&x, (enum hl_sframe_suite)0, 1, key_a,
				       sizeof(key_a)),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_sender_new(&x, (enum hl_sframe_suite)6, 1, key_a,
				       sizeof(key_a)),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_sender_new(&x, suite, 1, key_a, 15), HL_EINVAL);
	HT_EQ_INT(hl_sframe_sender_new(&x, suite, 1, k, 65), HL_EINVAL);
	HT_EQ_INT(hl_sframe_sender_new(&x, suite, 1, NULL, 16), HL_EINVAL);
	HT_EQ_INT(hl_sframe_sender_new(NULL, suite, 1, key_a, 16), HL_EINVAL);
	HT_ASSERT(x == NULL);
	HT_EQ_INT(hl_sframe_receiver_new(&y, (enum hl_sframe_suite)0xf000),
		  HL_EINVAL);
	HT_ASSERT(y == NULL);
	HT_EQ_INT(hl_sframe_derive(suite, key_a, 8, 1, k, salt), HL_EINVAL);
	HT_EQ_INT(hl_sframe_ratchet_key(suite, key_a, 8, k, &n), HL_EINVAL);

	HT_OK(hl_sframe_sender_new(&s, suite, 1, key_a, sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 1, key_a, 32));
	HT_EQ_INT(hl_sframe_receiver_add_key(r, 2, key_a, 15), HL_EINVAL);
	HT_EQ_INT(hl_sframe_receiver_add_key(r, 2, k, 65), HL_EINVAL);
	/* metadata / pt NULL with a length */
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 1, buf, 4, out, sizeof(out), &n),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 0, NULL, 4, out, sizeof(out), &n),
		  HL_EINVAL);
	/* in and out overlapping */
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 0, buf, 16, buf, sizeof(buf), &n),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 0, buf + 8, 16, buf, sizeof(buf),
				    &n),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_encrypt(s, buf + 20, 4, out, 16, buf, sizeof(buf),
				    &n),
		  HL_EINVAL);
	/* A frame larger than the limit is refused by the sender... */
	HT_EQ_INT(hl_sframe_encrypt(s, NULL, 0, big_pt,
				    HL_SFRAME_FRAME_MAX - 16, big_in,
				    sizeof(big_in), &n),
		  HL_ETOOBIG);
	/* ...the largest legal one goes through both ways. */
	HT_OK(hl_sframe_encrypt(s, NULL, 0, big_pt, HL_SFRAME_FRAME_MAX - 17,
				big_in, sizeof(big_in), &n));
	HT_EQ_INT(n, HL_SFRAME_FRAME_MAX);
	HT_OK(hl_sframe_decrypt(r, NULL, 0, big_in, n, big_out, sizeof(big_out),
				&n, NULL));
	/* A received frame over the limit is an auth failure, counted. */
	HT_OK(hl_sframe_encrypt(s, NULL, 0, big_pt, 100, big_in, sizeof(big_in),
				&n));
	HT_EQ_INT(hl_sframe_decrypt(r, NULL, 0, big_in, HL_SFRAME_FRAME_MAX + 1,
				    big_out, sizeof(big_out), &n, NULL),
		  HL_EAUTH);
	HT_EQ_INT(hl_sframe_decrypt(r, NULL, 0, big_in, 10, big_in + 5, 100, &n,
				    NULL),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_decrypt(r, NULL, 3, big_in, 10, out, 100, &n, NULL),
		  HL_EINVAL);
	HT_EQ_INT(hl_sframe_decrypt(NULL, NULL, 0, big_in, 10, out, 100, &n,
				    NULL),
		  HL_EINVAL);
	hl_sframe_receiver_stats(r, &st);
	HT_ASSERT(st.auth_failures == 1 && st.frames_ok == 1);
	HT_EQ_INT(hl_sframe_sender_ratchet(NULL), HL_EINVAL);
	hl_sframe_receiver_remove_generation(NULL, 0);
	hl_sframe_sender_free(NULL);
	hl_sframe_receiver_free(NULL);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

/* ---- allocation behaviour ---------------------------------------------- */

/* Encrypt, decrypt and ratchet following never allocate. */
static int test_frame_path_allocates_nothing(void)
{
	const enum hl_sframe_suite suite = HL_SFRAME_AES_128_CTR_HMAC_SHA256_80;
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	struct frame f;
	bool failed;

	HT_OK(hl_sframe_sender_new(&s, suite, 0x600, key_a, sizeof(key_a)));
	HT_OK(hl_sframe_receiver_new(&r, suite));
	HT_OK(hl_sframe_receiver_add_key(r, 0x600, key_a, sizeof(key_a)));
	hl_mem_fail_after(0);
	for (int i = 0; i < 40; i++) {
		if (seal_small(s, (uint32_t)i, &f) ||
		    open_small(r, &f, (uint32_t)i) ||
		    hl_sframe_sender_ratchet(s) ||
		    hl_sframe_receiver_add_key(r, 0x700 + (uint64_t)i, key_b,
					       sizeof(key_b)))
			break;
	}
	failed = hl_mem_failed();
	hl_mem_fail_after(-1);
	HT_ASSERT(!failed);
	HT_OK(seal_small(s, 99, &f));
	HT_OK(open_small(r, &f, 99));
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	return 0;
}

/* Under HT_OOM: every allocation of new/add_key/encrypt/decrypt fails. */
static int test_oom_paths(void)
{
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	uint8_t key[HL_SFRAME_KEY_MAX], salt[HL_SFRAME_NONCE_LEN], ct[64];
	struct frame f;
	int err, rc = -1;

	err = hl_sframe_sender_new(&s, HL_SFRAME_DEFAULT_SUITE, 0x800, key_a,
				   sizeof(key_a));
	if (err)
		goto out;
	err = hl_sframe_receiver_new(&r, HL_SFRAME_DEFAULT_SUITE);
	if (err)
		goto out;
	err = hl_sframe_receiver_add_key(r, 0x800, key_a, sizeof(key_a));
	if (!err)
		err = seal_small(s, 1, &f);
	if (!err)
		err = open_small(r, &f, 1);
	if (!err)
		err = hl_sframe_sender_ratchet(s);
	if (!err)
		err = seal_small(s, 2, &f);
	if (!err)
		err = open_small(r, &f, 2);
	if (!err)
		err = hl_sframe_sender_set_key(s, 0x900, key_b, sizeof(key_b));
	if (!err)
		err = hl_sframe_derive(HL_SFRAME_DEFAULT_SUITE, key_a,
				       sizeof(key_a), 1, key, salt);
	if (!err)
		err = hl_sframe_aead_seal(HL_SFRAME_DEFAULT_SUITE, key, salt,
					  NULL, 0, key_b, 16, ct);
	if (!err)
		rc = 0;
out:
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
	if (err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	if (err)
		fprintf(stderr, "  test_oom_paths: %s\n", hl_strerror(err));
	return rc;
}

static const struct hl_test tests[] = {
	HT_TEST(test_suite_info),
	HT_TEST(test_vectors_header),
	HT_TEST(test_vectors_aes_ctr_hmac),
	HT_TEST(test_vectors_sframe),
	HT_TEST(test_ratchet_key_oneshot),
	HT_TEST(test_header_forms),
	HT_TEST(test_round_trip_all_suites),
	HT_TEST(test_capacity),
	HT_TEST(test_tamper_every_bit),
	HT_TEST(test_replay),
	HT_TEST(test_replay_window_out_of_order),
	HT_TEST(test_replay_only_after_auth),
	HT_TEST(test_unknown_kid),
	HT_TEST(test_ratchet_follow),
	HT_TEST(test_ratchet_no_rederive),
	HT_TEST(test_ratchet_memo),
	HT_TEST(test_ratchet_wrap),
	HT_TEST(test_key_table_eviction),
	HT_TEST(test_eviction_keeps_parent),
	HT_TEST(test_remove_generation),
	HT_TEST(test_counter_exhaustion),
	HT_TEST(test_sender_set_key),
	HT_TEST(test_bad_arguments),
	HT_TEST(test_frame_path_allocates_nothing),
	HT_TEST_OOM(test_oom_paths),
};

int main(int argc, char **argv)
{
	int rc;

	vectors = load_vectors();
	if (!vectors) {
		fprintf(stderr, "test_sframe: cannot load the RFC 9605 "
				"vectors\n");
		return 1;
	}
	rc = hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
	json_decref(vectors);
	return rc;
}
