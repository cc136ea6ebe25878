/*
 * sframe.c - SFrame (RFC 9605): cipher suites, header encoding, key
 * schedule, the suites' AEAD, and the sender.
 *
 * A sender holds a single base key (RFC 9605 §4.4.1: a key is used
 * for encryption or decryption, never both; the receiver is sframe_recv.c).
 * It derives sframe_key and sframe_salt once per key (§4.4.2) into a keyed
 * hl_crypto AEAD context, so encrypting a frame is: encode the header,
 * XOR the counter into the salt, one AEAD call.  The counter is per key,
 * starts at 0 and is never reused: after CTR 2^64-1 the sender refuses to
 * encrypt (HL_ESTATE) until it gets a new key or ratchets (§7.4).
 */
#include <string.h>

#include "sframe_internal.h"

/* RFC 9605 §4.5 Table 1 and §8.1 registry. */
static const struct hl_sframe_suite_info suites[] = {
	{HL_SFRAME_AES_128_CTR_HMAC_SHA256_80, "AES_128_CTR_HMAC_SHA256_80",
	 HL_CRYPTO_SHA256, HL_CRYPTO_AES_128_CTR_HMAC_SHA256, 32, 48, 10},
	{HL_SFRAME_AES_128_CTR_HMAC_SHA256_64, "AES_128_CTR_HMAC_SHA256_64",
	 HL_CRYPTO_SHA256, HL_CRYPTO_AES_128_CTR_HMAC_SHA256, 32, 48, 8},
	{HL_SFRAME_AES_128_CTR_HMAC_SHA256_32, "AES_128_CTR_HMAC_SHA256_32",
	 HL_CRYPTO_SHA256, HL_CRYPTO_AES_128_CTR_HMAC_SHA256, 32, 48, 4},
	{HL_SFRAME_AES_128_GCM_SHA256_128, "AES_128_GCM_SHA256_128",
	 HL_CRYPTO_SHA256, HL_CRYPTO_AES_128_GCM, 32, 16, 16},
	{HL_SFRAME_AES_256_GCM_SHA512_128, "AES_256_GCM_SHA512_128",
	 HL_CRYPTO_SHA512, HL_CRYPTO_AES_256_GCM, 64, 32, 16},
};

const struct hl_sframe_suite_info *hl_sframe_suite_info(
	enum hl_sframe_suite suite)
{
	for (size_t i = 0; i < HL_ARRAY_SIZE(suites); i++)
		if (suites[i].id == suite)
			return &suites[i];
	return NULL;
}

const char *hl_sframe_suite_name(enum hl_sframe_suite suite)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);

	return si ? si->name : NULL;
}

bool hl_sframe_suite_supported(enum hl_sframe_suite suite)
{
	return hl_sframe_suite_info(suite) != NULL;
}

size_t hl_sframe_suite_tag_len(enum hl_sframe_suite suite)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);

	return si ? si->nt : 0;
}

/* ---- header (RFC 9605 §4.3) ------------------------------------------ */

/* Bytes needed to write v big-endian without leading zero bytes (v >= 8). */
static size_t be_len(uint64_t v)
{
	size_t n = 1;

	while (n < 8 && (v >> (8 * n)) != 0)
		n++;
	return n;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

int hl_sframe_header_encode(uint64_t kid, uint64_t ctr, uint8_t *out,
			    size_t cap, size_t *len)
{
	size_t klen = kid < 8 ? 0 : be_len(kid);
	size_t clen = ctr < 8 ? 0 : be_len(ctr);
	uint8_t config;

	if (!out || !len)
		return HL_EINVAL;
	if (cap < 1 + klen + clen)
		return HL_EINVAL;
	/* Config byte: X | K(3) | Y | C(3); values < 8 live in K or C. */
	config = klen ? (uint8_t)(0x80 | (klen - 1) << 4) : (uint8_t)(kid << 4);
	config |= clen ? (uint8_t)(0x08 | (clen - 1)) : (uint8_t)ctr;
	out[0] = config;
	put_be(out + 1, kid, klen);
	put_be(out + 1 + klen, ctr, clen);
	*len = 1 + klen + clen;
	return 0;
}

/*
 * Read one extended field of n bytes at p.  RFC 9605 §4.3 says the value
 * MUST use the minimum number of bytes (and values 0-7 the config byte),
 * so a longer encoding is malformed: decoding is then the exact inverse of
 * hl_sframe_header_encode().
 */
static int get_field(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x = x << 8 | p[i];
	if (x < 8 || (n > 1 && p[0] == 0))
		return HL_EPARSE;
	*v = x;
	return 0;
}

int hl_sframe_header_decode(const uint8_t *buf, size_t len, uint64_t *kid,
			    uint64_t *ctr, size_t *hdr_len)
{
	size_t klen, clen;
	uint64_t k, c;
	uint8_t config;

	if (!buf || !kid || !ctr || !hdr_len)
		return HL_EINVAL;
	if (len < 1)
		return HL_EPARSE;
	config = buf[0];
	klen = (config & 0x80) ? ((config >> 4) & 7) + 1u : 0;
	clen = (config & 0x08) ? (config & 7) + 1u : 0;
	if (len < 1 + klen + clen)
		return HL_EPARSE;
	k = (config >> 4) & 7;
	c = config & 7;
	if (klen && get_field(buf + 1, klen, &k))
		return HL_EPARSE;
	if (clen && get_field(buf + 1 + klen, clen, &c))
		return HL_EPARSE;
	*kid = k;
	*ctr = c;
	*hdr_len = 1 + klen + clen;
	return 0;
}

/* ---- key schedule (RFC 9605 §4.4.2, §5.1) ------------------------------ */

static const char label_key[] = "SFrame 1.0 Secret key ";
static const char label_salt[] = "SFrame 1.0 Secret salt ";
static const char label_ratchet[] = "SFrame 1.0 Ratchet";

size_t hl_sframe_label(enum hl_sframe_suite suite, uint64_t kid, bool salt,
		       uint8_t out[HL_SFRAME_LABEL_MAX])
{
	const char *s = salt ? label_salt : label_key;
	size_t n = strlen(s);

	memcpy(out, s, n);
	hl_put_be64(out + n, kid);
	hl_put_be16(out + n + 8, (uint16_t)suite);
	return n + 10;
}

void hl_sframe_nonce(const uint8_t salt[HL_SFRAME_NONCE_LEN], uint64_t ctr,
		     uint8_t nonce[HL_SFRAME_NONCE_LEN])
{
	memcpy(nonce, salt, HL_SFRAME_NONCE_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[HL_SFRAME_NONCE_LEN - 1 - i] ^= (uint8_t)(ctr >> (8 * i));
}

static bool base_key_ok(const uint8_t *base_key, size_t len)
{
	return base_key && len >= HL_SFRAME_BASE_KEY_MIN &&
	       len <= HL_SFRAME_BASE_KEY_MAX;
}

/* sframe_key (si->nk bytes) and sframe_salt (Nn bytes) for (base_key, kid). */
static int derive(const struct hl_sframe_suite_info *si,
		  const uint8_t *base_key, size_t base_key_len, uint64_t kid,
		  uint8_t *key, uint8_t *salt)
{
	uint8_t secret[HL_SFRAME_SECRET_MAX], label[HL_SFRAME_LABEL_MAX];
	size_t label_len;
	int err;

	/* sframe_secret = HKDF-Extract("", base_key) */
	err = hl_crypto_hkdf_extract(si->hash, NULL, 0, base_key, base_key_len,
				     secret);
	if (err)
		goto out;
	label_len = hl_sframe_label(si->id, kid, false, label);
	err = hl_crypto_hkdf_expand(si->hash, secret, si->nh, label, label_len,
				    key, si->nk);
	if (err)
		goto out;
	label_len = hl_sframe_label(si->id, kid, true, label);
	err = hl_crypto_hkdf_expand(si->hash, secret, si->nh, label, label_len,
				    salt, HL_SFRAME_NONCE_LEN);
out:
	hl_wipe(secret, sizeof(secret));
	if (err)
		hl_wipe(key, si->nk);
	return err;
}

int hl_sframe_derive(enum hl_sframe_suite suite, const uint8_t *base_key,
		     size_t base_key_len, uint64_t kid, uint8_t *key,
		     uint8_t *salt)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);

	if (!si || !base_key_ok(base_key, base_key_len) || !key || !salt)
		return HL_EINVAL;
	return derive(si, base_key, base_key_len, kid, key, salt);
}

int hl_sframe_key_aead(const struct hl_sframe_suite_info *si,
		       const uint8_t *base_key, size_t base_key_len,
		       uint64_t kid, struct hl_crypto_aead *aead,
		       uint8_t salt[HL_SFRAME_NONCE_LEN])
{
	uint8_t key[HL_SFRAME_KEY_MAX];
	int err;

	err = derive(si, base_key, base_key_len, kid, key, salt);
	if (!err)
		err = hl_crypto_aead_set_key(aead, key, si->nk);
	if (err)
		hl_crypto_aead_wipe(aead);
	hl_wipe(key, sizeof(key));
	return err;
}

int hl_sframe_ratchet_key(enum hl_sframe_suite suite, const uint8_t *base_key,
			  size_t base_key_len, uint8_t *out, size_t *out_len)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);
	uint8_t secret[HL_SFRAME_SECRET_MAX];
	int err;

	if (!si || !base_key_ok(base_key, base_key_len) || !out || !out_len)
		return HL_EINVAL;
	/* RFC 9605 §5.1: HKDF-Expand(HKDF-Extract("", base_key),
	 * "SFrame 1.0 Ratchet", Nh) */
	err = hl_crypto_hkdf_extract(si->hash, NULL, 0, base_key, base_key_len,
				     secret);
	if (!err)
		err = hl_crypto_hkdf_expand(si->hash, secret, si->nh,
					    (const uint8_t *)label_ratchet,
					    strlen(label_ratchet), out, si->nh);
	hl_wipe(secret, sizeof(secret));
	if (!err)
		*out_len = si->nh;
	return err;
}

/* ---- the suite's AEAD alone (RFC 9605 §4.4.4, §4.5) --------------------- */

/* One-shot AEAD with a temporary context (vectors; not the frame path). */
static int aead_once(enum hl_sframe_suite suite, bool seal, const uint8_t *key,
		     const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t in_len, uint8_t *out)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);
	struct hl_crypto_buf ad = {aad, aad_len};
	struct hl_crypto_aead *a = NULL;
	int err;

	if (!si || !key || !nonce || (!aad && aad_len) || (!in && in_len) ||
	    !out)
		return HL_EINVAL;
	err = hl_crypto_aead_new(&a, si->aead, si->nt, seal);
	if (err)
		goto out;
	err = hl_crypto_aead_set_key(a, key, si->nk);
	if (err)
		goto out;
	if (seal)
		err = hl_crypto_aead_seal(a, nonce, &ad, 1, in, in_len, out);
	else
		err = hl_crypto_aead_open(a, nonce, &ad, 1, in, in_len, out);
out:
	hl_crypto_aead_free(a);
	return err;
}

int hl_sframe_aead_seal(enum hl_sframe_suite suite, const uint8_t *key,
			const uint8_t nonce[HL_SFRAME_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, const uint8_t *pt,
			size_t pt_len, uint8_t *ct)
{
	return aead_once(suite, true, key, nonce, aad, aad_len, pt, pt_len, ct);
}

int hl_sframe_aead_open(enum hl_sframe_suite suite, const uint8_t *key,
			const uint8_t nonce[HL_SFRAME_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, const uint8_t *ct,
			size_t ct_len, uint8_t *pt)
{
	return aead_once(suite, false, key, nonce, aad, aad_len, ct, ct_len,
			 pt);
}

/* ---- sender ------------------------------------------------------------- */

struct hl_sframe_sender {
	const struct hl_sframe_suite_info *si;
	uint64_t kid;
	uint64_t next_ctr; /* CTR of the next frame */
	bool spent;	   /* CTR 2^64-1 was used: no counter left */
	size_t base_key_len;
	uint8_t base_key[HL_SFRAME_SECRET_MAX];
	uint8_t salt[HL_SFRAME_NONCE_LEN];
	struct hl_crypto_aead *aead; /* keyed with sframe_key unless spent */
};

/* Wipe the sender's key material; it cannot encrypt until rekeyed. */
static void sender_wipe(struct hl_sframe_sender *s)
{
	hl_wipe(s->base_key, sizeof(s->base_key));
	hl_wipe(s->salt, sizeof(s->salt));
	s->base_key_len = 0;
	hl_crypto_aead_wipe(s->aead);
}

/*
 * Install base_key for kid, counter back to 0.  base_key may alias
 * s->base_key (ratchet).  On failure the sender is left without a key.
 */
static int sender_install(struct hl_sframe_sender *s, uint64_t kid,
			  const uint8_t *base_key, size_t base_key_len)
{
	uint8_t copy[HL_SFRAME_SECRET_MAX];
	int err;

	memcpy(copy, base_key, base_key_len);
	sender_wipe(s);
	err = hl_sframe_key_aead(s->si, copy, base_key_len, kid, s->aead,
				 s->salt);
	if (!err) {
		memcpy(s->base_key, copy, base_key_len);
		s->base_key_len = base_key_len;
		s->kid = kid;
		s->next_ctr = 0;
		s->spent = false;
	} else {
		sender_wipe(s);
	}
	hl_wipe(copy, sizeof(copy));
	return err;
}

int hl_sframe_sender_new(struct hl_sframe_sender **out,
			 enum hl_sframe_suite suite, uint64_t kid,
			 const uint8_t *base_key, size_t base_key_len)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);
	struct hl_sframe_sender *s = NULL;
	int err = HL_EINVAL;

	if (!out || !si || !base_key_ok(base_key, base_key_len))
		goto out;
	err = HL_ENOMEM;
	s = hl_calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->si = si;
	err = hl_crypto_aead_new(&s->aead, si->aead, si->nt, true);
	if (err)
		goto out;
	err = sender_install(s, kid, base_key, base_key_len);
	if (err)
		goto out;
	*out = s;
	s = NULL;
out:
	hl_sframe_sender_free(s);
	return err;
}

void hl_sframe_sender_free(struct hl_sframe_sender *s)
{
	if (!s)
		return;
	sender_wipe(s);
	hl_crypto_aead_free(s->aead);
	hl_wipe(s, sizeof(*s));
	hl_free(s);
}

int hl_sframe_sender_set_key(struct hl_sframe_sender *s, uint64_t kid,
			     const uint8_t *base_key, size_t base_key_len)
{
	if (!s || !base_key_ok(base_key, base_key_len))
		return HL_EINVAL;
	/* Same KID with the counter back at 0 would repeat (KID, CTR). */
	if (s->base_key_len && kid == s->kid)
		return HL_EINVAL;
	return sender_install(s, kid, base_key, base_key_len);
}

int hl_sframe_sender_ratchet(struct hl_sframe_sender *s)
{
	uint8_t next[HL_SFRAME_SECRET_MAX];
	size_t next_len = 0;
	uint64_t kid;
	int err;

	if (!s)
		return HL_EINVAL;
	if (!s->base_key_len)
		return HL_ESTATE;
	err = hl_sframe_ratchet_key(s->si->id, s->base_key, s->base_key_len,
				    next, &next_len);
	if (err)
		goto out;
	/* RFC 9605 §5.1 KID = generation << R | step mod 2^R, R = 8. */
	kid = (s->kid & ~(uint64_t)0xff) | ((s->kid + 1) & 0xff);
	err = sender_install(s, kid, next, next_len);
out:
	hl_wipe(next, sizeof(next));
	return err;
}

uint64_t hl_sframe_sender_kid(const struct hl_sframe_sender *s)
{
	return s ? s->kid : 0;
}

int hl_sframe_sender_skip_to(struct hl_sframe_sender *s, uint64_t ctr)
{
	if (!s || s->spent || ctr < s->next_ctr)
		return HL_EINVAL;
	s->next_ctr = ctr;
	return 0;
}

int hl_sframe_encrypt(struct hl_sframe_sender *s, const uint8_t *metadata,
		      size_t metadata_len, const uint8_t *pt, size_t pt_len,
		      uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t hdr[HL_SFRAME_HEADER_MAX], nonce[HL_SFRAME_NONCE_LEN];
	struct hl_crypto_buf aad[2];
	size_t hdr_len, need;
	uint64_t ctr;
	int err;

	if (!s || (!metadata && metadata_len) || (!pt && pt_len) || !out ||
	    !out_len)
		return HL_EINVAL;
	if (!s->base_key_len || s->spent)
		return HL_ESTATE;
	if (pt_len > HL_SFRAME_FRAME_MAX ||
	    metadata_len > HL_CRYPTO_AEAD_MSG_MAX)
		return HL_ETOOBIG;
	ctr = s->next_ctr;
	err = hl_sframe_header_encode(s->kid, ctr, hdr, sizeof(hdr), &hdr_len);
	if (err)
		return err;
	need = hdr_len + pt_len + s->si->nt;
	/* Refuse what a receiver would refuse. */
	if (need > HL_SFRAME_FRAME_MAX)
		return HL_ETOOBIG;
	if (cap < need || hl_sframe_overlaps(out, need, pt, pt_len) ||
	    hl_sframe_overlaps(out, need, metadata, metadata_len))
		return HL_EINVAL;
	/* Consume the counter before sealing: even a failed call never
	 * lets this (KID, CTR) be used again (RFC 9605 §4.3, §7.4). */
	if (ctr == UINT64_MAX)
		s->spent = true;
	else
		s->next_ctr = ctr + 1;
	memcpy(out, hdr, hdr_len);
	hl_sframe_nonce(s->salt, ctr, nonce);
	/* RFC 9605 §4.4.3: AAD = header || metadata */
	aad[0] = (struct hl_crypto_buf){out, hdr_len};
	aad[1] = (struct hl_crypto_buf){metadata, metadata_len};
	err = hl_crypto_aead_seal(s->aead, nonce, aad, 2, pt, pt_len,
				  out + hdr_len);
	if (err)
		return err;
	*out_len = need;
	return 0;
}
