/*
 * hotline/crypto.h - wrappers over OpenSSL 3 EVP for libhotline's own
 * protocols: HKDF (RFC 5869) and keyed AEAD contexts.
 *
 * Everything here is a thin layer over OpenSSL; no primitive
 * is implemented here.  Algorithms (EVP_CIPHER, EVP_MAC, EVP_KDF) are
 * fetched once per process and shared; a struct hl_crypto_aead keeps its
 * OpenSSL contexts initialised with its key, so per-message work is only
 * "set the nonce, run the data through".  Rekeying reuses the contexts and
 * never calls hl_malloc().
 */
#ifndef HOTLINE_CRYPTO_H
#define HOTLINE_CRYPTO_H

#include "hotline/base.h"

enum hl_crypto_hash {
	HL_CRYPTO_SHA256 = 1,
	HL_CRYPTO_SHA512 = 2,
};

#define HL_CRYPTO_HASH_MAX 64 /* SHA-512 output */

/* Output length of a hash in bytes (0 if unknown). */
size_t hl_crypto_hash_len(enum hl_crypto_hash hash);

/*
 * RFC 5869 §2.2 HKDF-Extract: prk = HMAC-Hash(salt, ikm).  salt may be
 * NULL when salt_len is 0 (the empty string).  prk receives
 * hl_crypto_hash_len(hash) bytes.
 */
int hl_crypto_hkdf_extract(enum hl_crypto_hash hash, const uint8_t *salt,
			   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
			   uint8_t *prk) HL_MUST_CHECK;

/*
 * RFC 5869 §2.3 HKDF-Expand: out = first out_len bytes of T(1)||T(2)...
 * out_len is at most 255 * hash length.
 */
int hl_crypto_hkdf_expand(enum hl_crypto_hash hash, const uint8_t *prk,
			  size_t prk_len, const uint8_t *info, size_t info_len,
			  uint8_t *out, size_t out_len) HL_MUST_CHECK;

/*
 * AEAD algorithms.  HL_CRYPTO_AES_128_CTR_HMAC_SHA256 is the compound
 * encrypt-then-MAC AEAD of RFC 9605 §4.5.1: key = AES key (16) || HMAC key
 * (32), tag = HMAC-SHA256(auth_key, len(aad) || len(ct) || tag_len ||
 * nonce || aad || ct) truncated, lengths as 8-byte big-endian integers,
 * AES-CTR starting at nonce || 00000000.
 */
enum hl_crypto_aead_alg {
	HL_CRYPTO_AES_128_GCM = 1,
	HL_CRYPTO_AES_256_GCM = 2,
	HL_CRYPTO_AES_128_CTR_HMAC_SHA256 = 3,
};

#define HL_CRYPTO_AEAD_NONCE_LEN 12
#define HL_CRYPTO_AEAD_TAG_MAX	 32
#define HL_CRYPTO_AEAD_KEY_MAX	 48
/* Largest message one call takes (EVP lengths are int). */
#define HL_CRYPTO_AEAD_MSG_MAX (1u << 30)

/* Key length of an algorithm in bytes (0 if unknown). */
size_t hl_crypto_aead_key_len(enum hl_crypto_aead_alg alg);

/* One piece of additional authenticated data; AAD is their concatenation. */
struct hl_crypto_buf {
	const uint8_t *p; /* may be NULL when len is 0 */
	size_t len;
};

struct hl_crypto_aead;

/*
 * A context for one direction (seal or open) of alg with tag_len-byte tags
 * (16 for GCM; 1..32 for CTR+HMAC).  It starts without a key: seal and
 * open fail with HL_ESTATE until hl_crypto_aead_set_key().  *out is owned
 * by the caller, freed with hl_crypto_aead_free().
 */
int hl_crypto_aead_new(struct hl_crypto_aead **out, enum hl_crypto_aead_alg alg,
		       size_t tag_len, bool seal) HL_MUST_CHECK;

/* Wipe the key state and free the context.  NULL is a no-op. */
void hl_crypto_aead_free(struct hl_crypto_aead *a);

/*
 * Key the context (key_len must be hl_crypto_aead_key_len(alg)).  The key
 * is copied into OpenSSL's state; the caller wipes its own copy.  Reuses
 * the existing OpenSSL contexts (no hl_malloc).  On failure the context is
 * left without a key.
 */
int hl_crypto_aead_set_key(struct hl_crypto_aead *a, const uint8_t *key,
			   size_t key_len) HL_MUST_CHECK;

/* Overwrite the key state (rekey with zeros) and mark the context unkeyed. */
void hl_crypto_aead_wipe(struct hl_crypto_aead *a);

bool hl_crypto_aead_has_key(const struct hl_crypto_aead *a);

/*
 * Seal pt (pt_len bytes) into ct: pt_len bytes of ciphertext followed by
 * the tag.  aad is n_aad pieces.  pt and ct must not overlap partially
 * (same pointer or disjoint).
 */
int hl_crypto_aead_seal(struct hl_crypto_aead *a,
			const uint8_t nonce[HL_CRYPTO_AEAD_NONCE_LEN],
			const struct hl_crypto_buf *aad, size_t n_aad,
			const uint8_t *pt, size_t pt_len,
			uint8_t *ct) HL_MUST_CHECK;

/*
 * Open ct (ct_len bytes including the tag) into pt (ct_len - tag bytes).
 * HL_EAUTH if the tag does not verify; then pt holds no plaintext (it is
 * wiped).  The tag is compared in constant time.
 */
int hl_crypto_aead_open(struct hl_crypto_aead *a,
			const uint8_t nonce[HL_CRYPTO_AEAD_NONCE_LEN],
			const struct hl_crypto_buf *aad, size_t n_aad,
			const uint8_t *ct, size_t ct_len,
			uint8_t *pt) HL_MUST_CHECK;

#endif /* HOTLINE_CRYPTO_H */
