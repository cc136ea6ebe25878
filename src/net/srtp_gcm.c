/*
 * srtp_gcm.c - libsrtp2's AES-128-GCM (RFC 7714) on OpenSSL's EVP.
 *
 * Debian 12's libsrtp2 is built on NSS, whose AES-GCM builds a PKCS#11
 * context (a parameter block, a session lookup, allocations, locks) for
 * every packet: on a 720p call that cost more than the cipher itself.
 * libsrtp2 lets a program replace a cipher type
 * (srtp_replace_cipher_type); this one keeps one EVP_CIPHER_CTX per
 * libsrtp cipher, with its key schedule, and each packet only sets the
 * IV.  AES-GCM itself is OpenSSL's; what is here is the glue to
 * libsrtp's cipher interface, whose calls per packet are: set_iv, then
 * set_aad (once or more), then encrypt and get_tag, or decrypt of the
 * ciphertext with the tag at its end.  libsrtp keeps doing everything
 * else (key derivation, the IV from salt, SSRC and index, replay lists).
 *
 * Its objects are libsrtp's, allocated with calloc as libsrtp's own are
 * (outside hl_malloc's accounting and its injected failures).
 *
 * libsrtp takes the replacement only if it passes our known answer test
 * and the replaced type's own tests; if it refuses, NSS's stays and the
 * calls work as before, only slower.
 */
#include <stdlib.h>

#include <openssl/evp.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#include "hotline/base.h"

#include "dtls_internal.h"

static const srtp_cipher_type_t gcm_type;

struct gcm {
	EVP_CIPHER_CTX *ctx;
	int tag_len;
	bool encrypt; /* the direction of the last set_iv */
};

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t c)
{
	struct gcm *g;

	if (!c)
		return srtp_err_status_ok;
	g = c->state;
	if (g)
		EVP_CIPHER_CTX_free(g->ctx); /* wipes the key schedule */
	free(g);
	free(c);
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len,
				   int tag_len)
{
	srtp_cipher_t *c;
	struct gcm *g;

	/* libsrtp hands the key with its salt; the salt goes into the IV,
	 * which libsrtp computes. */
	if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT ||
	    (tag_len != 16 && tag_len != 8))
		return srtp_err_status_bad_param;
	c = calloc(1, sizeof(*c));
	g = calloc(1, sizeof(*g));
	if (!c || !g || !(g->ctx = EVP_CIPHER_CTX_new())) {
		free(g);
		free(c);
		return srtp_err_status_alloc_fail;
	}
	g->tag_len = tag_len;
	c->state = g;
	c->type = &gcm_type;
	c->algorithm = SRTP_AES_GCM_128;
	c->key_len = key_len;
	*cp = c;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
	struct gcm *g = state;

	if (EVP_CipherInit_ex(g->ctx, EVP_aes_128_gcm(), NULL, key, NULL, 1) !=
	    1)
		return srtp_err_status_init_fail;
	g->encrypt = true;
	return srtp_err_status_ok;
}

/* iv: 12 bytes (RFC 7714 §8.1). */
static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv,
				    srtp_cipher_direction_t dir)
{
	struct gcm *g = state;

	if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
		return srtp_err_status_bad_param;
	g->encrypt = dir == srtp_direction_encrypt;
	if (EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, iv, g->encrypt) != 1)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad,
				     uint32_t len)
{
	struct gcm *g = state;
	int out;

	if (len > INT32_MAX ||
	    EVP_CipherUpdate(g->ctx, NULL, &out, aad, (int)len) != 1)
		return srtp_err_status_algo_fail;
	return srtp_err_status_ok;
}

/* In place; the tag comes from gcm_get_tag. */
static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct gcm *g = state;
	int out;

	if (!g->encrypt || *len > INT32_MAX)
		return srtp_err_status_bad_param;
	if (*len && EVP_CipherUpdate(g->ctx, buf, &out, buf, (int)*len) != 1)
		return srtp_err_status_cipher_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
	struct gcm *g = state;
	uint8_t none[16];
	int out;

	if (!g->encrypt || EVP_CipherFinal_ex(g->ctx, none, &out) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, g->tag_len,
				tag) != 1)
		return srtp_err_status_algo_fail;
	*len = (uint32_t)g->tag_len;
	return srtp_err_status_ok;
}

/* In place: buf holds the ciphertext and then the tag; *len drops the
 * tag.  A wrong tag is srtp_err_status_auth_fail (libsrtp then drops the
 * packet, whose buffer holds garbage). */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct gcm *g = state;
	uint8_t none[16];
	unsigned int n;
	int out;

	if (g->encrypt || *len < (unsigned int)g->tag_len || *len > INT32_MAX)
		return srtp_err_status_bad_param;
	n = *len - (unsigned int)g->tag_len;
	if (EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_TAG, g->tag_len,
				buf + n) != 1 ||
	    (n && EVP_CipherUpdate(g->ctx, buf, &out, buf, (int)n) != 1))
		return srtp_err_status_algo_fail;
	if (EVP_CipherFinal_ex(g->ctx, none, &out) != 1)
		return srtp_err_status_auth_fail;
	*len = n;
	return srtp_err_status_ok;
}

/*
 * The known answer test libsrtp runs before it takes the type: Project
 * Wycheproof, testvectors_v1/aes_gcm_test.json, tcId 2 (C2SP/wycheproof
 * at dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166, Apache-2.0).  libsrtp's
 * key is the AES key and then the 12-byte salt, which the cipher does
 * not use (zeros here); idx is the IV.
 */
static const uint8_t kat_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
	0x5b, 0x96, 0x04, 0xfe, 0x14, 0xea, 0xdb, 0xa9,
	0x31, 0xb0, 0xcc, 0xf3, 0x48, 0x43, 0xda, 0xb9};
static uint8_t kat_iv[16] = {0x92, 0x1d, 0x25, 0x07, 0xfa, 0x80,
			     0x07, 0xb7, 0xbd, 0x06, 0x7d, 0x34};
static const uint8_t kat_aad[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
				    0xcc, 0xdd, 0xee, 0xff};
static const uint8_t kat_pt[16] = {0x00, 0x1d, 0x0c, 0x23, 0x12, 0x87,
				   0xc1, 0x18, 0x27, 0x84, 0x55, 0x4c,
				   0xa3, 0xa2, 0x19, 0x08};
static const uint8_t kat_ct[32] = {
	0x49, 0xd8, 0xb9, 0x78, 0x3e, 0x91, 0x19, 0x13,
	0xd8, 0x70, 0x94, 0xd1, 0xf6, 0x3c, 0xc7, 0x65, /* the tag: */
	0x1e, 0x34, 0x8b, 0xa0, 0x7c, 0xca, 0x2c, 0xf0,
	0x4c, 0x61, 0x8c, 0xb4, 0xd4, 0x3a, 0x5b, 0x92};
static const srtp_cipher_test_case_t kat = {SRTP_AES_GCM_128_KEY_LEN_WSALT,
					    kat_key,
					    kat_iv,
					    sizeof(kat_pt),
					    kat_pt,
					    sizeof(kat_ct),
					    kat_ct,
					    sizeof(kat_aad),
					    kat_aad,
					    16,
					    NULL};

static const srtp_cipher_type_t gcm_type = {
	gcm_alloc,   gcm_dealloc,     gcm_init,
	gcm_set_aad, gcm_encrypt,     gcm_decrypt,
	gcm_set_iv,  gcm_get_tag,     "AES-128-GCM (OpenSSL EVP, hotline)",
	&kat,	     SRTP_AES_GCM_128};

bool hl_srtp_gcm_install(void)
{
	return srtp_replace_cipher_type(&gcm_type, SRTP_AES_GCM_128) ==
	       srtp_err_status_ok;
}
