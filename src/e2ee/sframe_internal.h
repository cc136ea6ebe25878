/*
 * sframe_internal.h - declarations shared by the SFrame sources of
 * src/e2ee and its unit tests; not part of the public API.
 *
 * Holds the cipher-suite table (RFC 9605 §4.5), the key schedule that
 * turns (base_key, KID) into a keyed AEAD context and a salt, the nonce
 * construction, and one test hook that can only move a sender's counter
 * forward (so it can never cause a (KID, CTR) to be reused).
 */
#ifndef HOTLINE_SRC_E2EE_SFRAME_INTERNAL_H
#define HOTLINE_SRC_E2EE_SFRAME_INTERNAL_H

#include "hotline/sframe.h"

#include "hotline/crypto.h"

/* RFC 9605 §4.5 Table 1, plus how each suite maps onto hl_crypto. */
struct hl_sframe_suite_info {
	enum hl_sframe_suite id;
	const char *name;
	enum hl_crypto_hash hash;
	enum hl_crypto_aead_alg aead;
	size_t nh; /* hash output */
	size_t nk; /* AEAD key (Nka + Nh for CTR+HMAC) */
	size_t nt; /* tag */
};

/* Suite table entry, or NULL if the suite is not one of RFC 9605's. */
const struct hl_sframe_suite_info *hl_sframe_suite_info(
	enum hl_sframe_suite suite);

/* Accepted base_key lengths (bytes), for every suite. */
#define HL_SFRAME_BASE_KEY_MIN 16
#define HL_SFRAME_BASE_KEY_MAX HL_SFRAME_SECRET_MAX

#define HL_SFRAME_LABEL_MAX    33 /* "SFrame 1.0 Secret salt " + 8 + 2 */

/*
 * RFC 9605 §4.4.2 label: "SFrame 1.0 Secret key " (or "... salt ") ||
 * KID as 8 bytes BE || cipher suite as 2 bytes BE.  Returns its length.
 */
size_t hl_sframe_label(enum hl_sframe_suite suite, uint64_t kid, bool salt,
		       uint8_t out[HL_SFRAME_LABEL_MAX]);

/* RFC 9605 §4.4.3: nonce = salt XOR CTR encoded big-endian on Nn bytes. */
void hl_sframe_nonce(const uint8_t salt[HL_SFRAME_NONCE_LEN], uint64_t ctr,
		     uint8_t nonce[HL_SFRAME_NONCE_LEN]);

/*
 * Derive sframe_key and sframe_salt for (base_key, kid) and key aead with
 * sframe_key; the salt goes to salt.  No allocation.  On failure aead is
 * left without a key.
 */
int hl_sframe_key_aead(const struct hl_sframe_suite_info *si,
		       const uint8_t *base_key, size_t base_key_len,
		       uint64_t kid, struct hl_crypto_aead *aead,
		       uint8_t salt[HL_SFRAME_NONCE_LEN]) HL_MUST_CHECK;

/* True if [a, a+alen) and [b, b+blen) share a byte (no pointer overflow). */
static inline bool hl_sframe_overlaps(const uint8_t *a, size_t alen,
				      const uint8_t *b, size_t blen)
{
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;

	if (!a || !b || !alen || !blen)
		return false;
	return pa >= pb ? pa - pb < blen : pb - pa < alen;
}

/*
 * Test hook: move the sender's next counter forward to ctr.  HL_EINVAL if
 * ctr is below the next counter (or the counter is spent), so it cannot
 * make a (KID, CTR) pair repeat.  Used by the RFC 9605 vectors (CTR 17767)
 * and the counter-exhaustion test.
 */
int hl_sframe_sender_skip_to(struct hl_sframe_sender *s,
			     uint64_t ctr) HL_MUST_CHECK;

#endif /* HOTLINE_SRC_E2EE_SFRAME_INTERNAL_H */
