/*
 * hl_crypto.c - HKDF and keyed AEAD contexts over OpenSSL 3 EVP.
 *
 * How it works: the EVP_CIPHER/EVP_MAC/EVP_KDF objects are fetched from
 * the default library context once per process (pthread_once) and kept for
 * the life of the process, so no per-message call pays for an algorithm
 * fetch.  A struct hl_crypto_aead holds an EVP_CIPHER_CTX (and for the
 * compound CTR+HMAC AEAD an EVP_MAC_CTX) created once and initialised with
 * its cipher; setting a key only feeds the key into those contexts, and a
 * message only sets the nonce and streams AAD and data through.  Nothing
 * here implements a primitive; see RFC 9605 §4.5.1 for the one composition
 * (AES-CTR then HMAC) that OpenSSL does not offer as a single AEAD.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "hotline/crypto.h"

/* Process-wide algorithm objects, fetched once; NULL if unavailable. */
static struct {
	EVP_CIPHER *aes128_gcm;
	EVP_CIPHER *aes256_gcm;
	EVP_CIPHER *aes128_ctr;
	EVP_MAC *hmac;
	EVP_KDF *hkdf;
} algs;

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
	algs.aes128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	algs.aes256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	algs.aes128_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	algs.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

static void algs_load(void)
{
	(void)pthread_once(&algs_once, algs_fetch);
}

static const char *hash_name(enum hl_crypto_hash hash)
{
	switch (hash) {
	case HL_CRYPTO_SHA256:
		return "SHA256";
	case HL_CRYPTO_SHA512:
		return "SHA512";
	}
	return NULL;
}

size_t hl_crypto_hash_len(enum hl_crypto_hash hash)
{
	switch (hash) {
	case HL_CRYPTO_SHA256:
		return 32;
	case HL_CRYPTO_SHA512:
		return 64;
	}
	return 0;
}

/* One EVP_KDF "HKDF" run in the given mode (extract only / expand only). */
static int hkdf_run(enum hl_crypto_hash hash, int mode, const uint8_t *key,
		    size_t key_len, const uint8_t *salt, size_t salt_len,
		    const uint8_t *info, size_t info_len, uint8_t *out,
		    size_t out_len)
{
	const char *md = hash_name(hash);
	OSSL_PARAM params[6], *p = params;
	EVP_KDF_CTX *kctx = NULL;
	int err = HL_ECRYPTO;

	algs_load();
	if (!md || !algs.hkdf)
		goto out;
	kctx = EVP_KDF_CTX_new(algs.hkdf);
	if (!kctx) {
		err = HL_ENOMEM;
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)md, 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)key, key_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(
			OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(
			OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		goto out;
	err = 0;
out:
	EVP_KDF_CTX_free(kctx);
	return err;
}

int hl_crypto_hkdf_extract(enum hl_crypto_hash hash, const uint8_t *salt,
			   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
			   uint8_t *prk)
{
	/* RFC 5869 §2.2: an absent salt is HashLen zero bytes. */
	static const uint8_t zero_salt[HL_CRYPTO_HASH_MAX];
	size_t hlen = hl_crypto_hash_len(hash);

	if (!hlen || !prk || (!ikm && ikm_len) || (!salt && salt_len) ||
	    ikm_len == 0)
		return HL_EINVAL;
	if (salt_len == 0) {
		salt = zero_salt;
		salt_len = hlen;
	}
	return hkdf_run(hash, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len,
			salt, salt_len, NULL, 0, prk, hlen);
}

int hl_crypto_hkdf_expand(enum hl_crypto_hash hash, const uint8_t *prk,
			  size_t prk_len, const uint8_t *info, size_t info_len,
			  uint8_t *out, size_t out_len)
{
	size_t hlen = hl_crypto_hash_len(hash);

	if (!hlen || !prk || prk_len < hlen || (!info && info_len) || !out ||
	    out_len == 0 || out_len > 255 * hlen)
		return HL_EINVAL;
	return hkdf_run(hash, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, NULL,
			0, info, info_len, out, out_len);
}

/* ---- AEAD ------------------------------------------------------------- */

struct hl_crypto_aead {
	enum hl_crypto_aead_alg alg;
	size_t tag_len;
	bool seal;
	bool keyed;
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac; /* CTR+HMAC only */
};

#define CTR_HMAC_ENC_KEY_LEN  16
#define CTR_HMAC_AUTH_KEY_LEN 32

size_t hl_crypto_aead_key_len(enum hl_crypto_aead_alg alg)
{
	switch (alg) {
	case HL_CRYPTO_AES_128_GCM:
		return 16;
	case HL_CRYPTO_AES_256_GCM:
		return 32;
	case HL_CRYPTO_AES_128_CTR_HMAC_SHA256:
		return CTR_HMAC_ENC_KEY_LEN + CTR_HMAC_AUTH_KEY_LEN;
	}
	return 0;
}

static const EVP_CIPHER *aead_cipher(enum hl_crypto_aead_alg alg)
{
	switch (alg) {
	case HL_CRYPTO_AES_128_GCM:
		return algs.aes128_gcm;
	case HL_CRYPTO_AES_256_GCM:
		return algs.aes256_gcm;
	case HL_CRYPTO_AES_128_CTR_HMAC_SHA256:
		return algs.aes128_ctr;
	}
	return NULL;
}

static bool is_gcm(const struct hl_crypto_aead *a)
{
	return a->alg != HL_CRYPTO_AES_128_CTR_HMAC_SHA256;
}

/* Direction passed to EVP: CTR is the same both ways, so always encrypt. */
static int evp_enc(const struct hl_crypto_aead *a)
{
	return is_gcm(a) ? a->seal : 1;
}

int hl_crypto_aead_new(struct hl_crypto_aead **out, enum hl_crypto_aead_alg alg,
		       size_t tag_len, bool seal)
{
	struct hl_crypto_aead *a = NULL;
	const EVP_CIPHER *cipher;
	int err = HL_EINVAL;

	if (!out || !hl_crypto_aead_key_len(alg))
		goto out;
	if (alg == HL_CRYPTO_AES_128_CTR_HMAC_SHA256
		    ? (tag_len == 0 || tag_len > HL_CRYPTO_AEAD_TAG_MAX)
		    : tag_len != 16)
		goto out;
	algs_load();
	cipher = aead_cipher(alg);
	err = HL_ECRYPTO;
	if (!cipher || (alg == HL_CRYPTO_AES_128_CTR_HMAC_SHA256 && !algs.hmac))
		goto out;
	err = HL_ENOMEM;
	a = hl_calloc(1, sizeof(*a));
	if (!a)
		goto out;
	a->alg = alg;
	a->tag_len = tag_len;
	a->seal = seal;
	a->cipher = EVP_CIPHER_CTX_new();
	if (!a->cipher)
		goto out;
	if (alg == HL_CRYPTO_AES_128_CTR_HMAC_SHA256) {
		a->mac = EVP_MAC_CTX_new(algs.hmac);
		if (!a->mac)
			goto out;
	}
	err = HL_ECRYPTO;
	if (EVP_CipherInit_ex2(a->cipher, cipher, NULL, NULL, evp_enc(a),
			       NULL) != 1)
		goto out;
	*out = a;
	a = NULL;
	err = 0;
out:
	hl_crypto_aead_free(a);
	return err;
}

void hl_crypto_aead_free(struct hl_crypto_aead *a)
{
	if (!a)
		return;
	/* OpenSSL cleanses cipher and MAC state when freeing it. */
	EVP_CIPHER_CTX_free(a->cipher);
	EVP_MAC_CTX_free(a->mac);
	hl_free(a);
}

/* Feed key into the OpenSSL contexts; no keyed flag handling. */
static int aead_load_key(struct hl_crypto_aead *a, const uint8_t *key)
{
	OSSL_PARAM params[2];

	if (EVP_CipherInit_ex2(a->cipher, NULL, key, NULL, evp_enc(a), NULL) !=
	    1)
		return HL_ECRYPTO;
	if (is_gcm(a))
		return 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(a->mac, key + CTR_HMAC_ENC_KEY_LEN,
			 CTR_HMAC_AUTH_KEY_LEN, params) != 1)
		return HL_ECRYPTO;
	return 0;
}

int hl_crypto_aead_set_key(struct hl_crypto_aead *a, const uint8_t *key,
			   size_t key_len)
{
	int err;

	if (!a || !key || key_len != hl_crypto_aead_key_len(a->alg))
		return HL_EINVAL;
	err = aead_load_key(a, key);
	if (err) {
		hl_crypto_aead_wipe(a);
		return err;
	}
	a->keyed = true;
	return 0;
}

void hl_crypto_aead_wipe(struct hl_crypto_aead *a)
{
	static const uint8_t zero[HL_CRYPTO_AEAD_KEY_MAX];

	if (!a)
		return;
	/* Overwrite the expanded key state in place; failure cannot leave
	 * the old key usable because keyed is cleared either way. */
	(void)aead_load_key(a, zero);
	a->keyed = false;
}

bool hl_crypto_aead_has_key(const struct hl_crypto_aead *a)
{
	return a && a->keyed;
}

/* Validate the common arguments of seal/open; sum AAD into *aad_total. */
static int aead_check(const struct hl_crypto_aead *a, const uint8_t *nonce,
		      const struct hl_crypto_buf *aad, size_t n_aad,
		      const uint8_t *in, size_t in_len, const uint8_t *out,
		      uint64_t *aad_total)
{
	uint64_t total = 0;

	if (!a || !nonce || (!aad && n_aad) || (!in && in_len) || !out)
		return HL_EINVAL;
	if (!a->keyed)
		return HL_ESTATE;
	if (in_len > HL_CRYPTO_AEAD_MSG_MAX)
		return HL_ETOOBIG;
	for (size_t i = 0; i < n_aad; i++) {
		if (!aad[i].p && aad[i].len)
			return HL_EINVAL;
		if (aad[i].len > HL_CRYPTO_AEAD_MSG_MAX - total)
			return HL_ETOOBIG;
		total += aad[i].len;
	}
	*aad_total = total;
	return 0;
}

/* Stream the AAD pieces into a GCM context. */
static int gcm_aad(EVP_CIPHER_CTX *c, const struct hl_crypto_buf *aad,
		   size_t n_aad)
{
	int n;

	for (size_t i = 0; i < n_aad; i++)
		if (aad[i].len && EVP_CipherUpdate(c, NULL, &n, aad[i].p,
						   (int)aad[i].len) != 1)
			return HL_ECRYPTO;
	return 0;
}

/*
 * RFC 9605 §4.5.1 compute_tag: HMAC(auth_key, be64(len(aad)) ||
 * be64(len(ct)) || be64(Nt) || nonce || aad || ct), first Nt bytes.
 */
static int ctr_hmac_tag(struct hl_crypto_aead *a, const uint8_t *nonce,
			const struct hl_crypto_buf *aad, size_t n_aad,
			uint64_t aad_total, const uint8_t *ct, size_t ct_len,
			uint8_t *tag)
{
	uint8_t lens[24], full[32];
	size_t full_len = 0;

	hl_put_be64(lens, aad_total);
	hl_put_be64(lens + 8, ct_len);
	hl_put_be64(lens + 16, a->tag_len);
	/* A NULL key re-initialises the MAC with the key already set. */
	if (EVP_MAC_init(a->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(a->mac, lens, sizeof(lens)) != 1 ||
	    EVP_MAC_update(a->mac, nonce, HL_CRYPTO_AEAD_NONCE_LEN) != 1)
		return HL_ECRYPTO;
	for (size_t i = 0; i < n_aad; i++)
		if (aad[i].len &&
		    EVP_MAC_update(a->mac, aad[i].p, aad[i].len) != 1)
			return HL_ECRYPTO;
	if ((ct_len && EVP_MAC_update(a->mac, ct, ct_len) != 1) ||
	    EVP_MAC_final(a->mac, full, &full_len, sizeof(full)) != 1 ||
	    full_len != sizeof(full))
		return HL_ECRYPTO;
	memcpy(tag, full, a->tag_len);
	return 0;
}

/* AES-CTR over in with initial counter block nonce || 00000000. */
static int ctr_xor(struct hl_crypto_aead *a, const uint8_t *nonce,
		   const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t iv[16] = {0};
	int n = 0;

	memcpy(iv, nonce, HL_CRYPTO_AEAD_NONCE_LEN);
	if (EVP_CipherInit_ex2(a->cipher, NULL, NULL, iv, 1, NULL) != 1)
		return HL_ECRYPTO;
	if (len && (EVP_CipherUpdate(a->cipher, out, &n, in, (int)len) != 1 ||
		    (size_t)n != len))
		return HL_ECRYPTO;
	return 0;
}

int hl_crypto_aead_seal(struct hl_crypto_aead *a,
			const uint8_t nonce[HL_CRYPTO_AEAD_NONCE_LEN],
			const struct hl_crypto_buf *aad, size_t n_aad,
			const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
	uint64_t aad_total;
	int err, n = 0, fin = 0;

	err = aead_check(a, nonce, aad, n_aad, pt, pt_len, ct, &aad_total);
	if (err)
		return err;
	if (!a->seal)
		return HL_ESTATE;
	if (!is_gcm(a)) {
		/* RFC 9605 §4.5.1 AEAD.Encrypt: encrypt, then MAC. */
		err = ctr_xor(a, nonce, pt, pt_len, ct);
		if (!err)
			err = ctr_hmac_tag(a, nonce, aad, n_aad, aad_total, ct,
					   pt_len, ct + pt_len);
		return err;
	}
	if (EVP_CipherInit_ex2(a->cipher, NULL, NULL, nonce, 1, NULL) != 1)
		return HL_ECRYPTO;
	err = gcm_aad(a->cipher, aad, n_aad);
	if (err)
		return err;
	if (pt_len &&
	    (EVP_CipherUpdate(a->cipher, ct, &n, pt, (int)pt_len) != 1 ||
	     (size_t)n != pt_len))
		return HL_ECRYPTO;
	if (EVP_CipherFinal_ex(a->cipher, ct + pt_len, &fin) != 1 || fin != 0)
		return HL_ECRYPTO;
	if (EVP_CIPHER_CTX_ctrl(a->cipher, EVP_CTRL_AEAD_GET_TAG,
				(int)a->tag_len, ct + pt_len) != 1)
		return HL_ECRYPTO;
	return 0;
}

int hl_crypto_aead_open(struct hl_crypto_aead *a,
			const uint8_t nonce[HL_CRYPTO_AEAD_NONCE_LEN],
			const struct hl_crypto_buf *aad, size_t n_aad,
			const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	uint8_t tag[HL_CRYPTO_AEAD_TAG_MAX];
	uint64_t aad_total;
	size_t body;
	int err, n = 0, fin = 0;

	err = aead_check(a, nonce, aad, n_aad, ct, ct_len, pt, &aad_total);
	if (err)
		return err;
	if (a->seal)
		return HL_ESTATE;
	if (ct_len < a->tag_len)
		return HL_EAUTH;
	body = ct_len - a->tag_len;
	if (!is_gcm(a)) {
		/* RFC 9605 §4.5.1 AEAD.Decrypt: verify the tag first. */
		err = ctr_hmac_tag(a, nonce, aad, n_aad, aad_total, ct, body,
				   tag);
		if (err)
			return err;
		if (!hl_ct_equal(tag, ct + body, a->tag_len))
			return HL_EAUTH;
		return ctr_xor(a, nonce, ct, body, pt);
	}
	memcpy(tag, ct + body, a->tag_len);
	if (EVP_CipherInit_ex2(a->cipher, NULL, NULL, nonce, 0, NULL) != 1)
		return HL_ECRYPTO;
	err = gcm_aad(a->cipher, aad, n_aad);
	if (err)
		return err;
	err = HL_ECRYPTO;
	if (body && (EVP_CipherUpdate(a->cipher, pt, &n, ct, (int)body) != 1 ||
		     (size_t)n != body))
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(a->cipher, EVP_CTRL_AEAD_SET_TAG,
				(int)a->tag_len, tag) != 1)
		goto fail;
	/* EVP_CipherFinal_ex verifies the tag (constant time in OpenSSL). */
	err = HL_EAUTH;
	if (EVP_CipherFinal_ex(a->cipher, pt + body, &fin) != 1 || fin != 0)
		goto fail;
	return 0;
fail:
	/* Never leave unauthenticated plaintext behind. */
	hl_wipe(pt, body);
	return err;
}
