/*
 * hotline/sframe.h - SFrame (RFC 9605) end-to-end encryption of media frames.
 *
 * Every encoded audio or video frame is encrypted by its sender before
 * packetization and decrypted by the receiver after reassembly, so nothing
 * between the two endpoints (relay, TURN server, a broken DTLS hop) can
 * read or alter media.
 *
 * Output of hl_sframe_encrypt():  SFrame header || ciphertext || tag
 * (RFC 9605 §4.2), with AAD = header || metadata (§4.4.3).  The metadata
 * is never sent by this module; the caller sends it (for VP8 it is the
 * clear payload header that precedes the SFrame header, see
 * docs/protocol.md) or both sides know it.
 *
 * Key ids (RFC 9605 §5.1 ratcheting): KID = (generation << 8) | step,
 * where the low HL_SFRAME_RATCHET_BITS bits count ratchet steps.  A sender
 * ratchets with hl_sframe_sender_ratchet(); a receiver that holds the key
 * of (generation, step) follows the sender forward by itself, up to
 * HL_SFRAME_MAX_RATCHET_AHEAD steps, and keeps the previous step for late
 * frames.  What "generation" means is the caller's business (hotline puts
 * the key-exchange epoch and the sender's role in it, see src/core).
 *
 * Security properties (see docs/threat-model.md):
 *  - a (KID, CTR) pair is never used twice by a sender: the counter is per
 *    key and encryption fails with HL_ESTATE before it would wrap;
 *  - every authentication failure (bad tag, unknown KID, malformed header,
 *    truncated frame) is one opaque HL_EAUTH and is counted;
 *  - a frame that authenticates but whose CTR was already accepted, or is
 *    older than the replay window, is HL_EREPLAY and is counted;
 *  - key material is wiped when replaced and when contexts are freed.
 */
#ifndef HOTLINE_SFRAME_H
#define HOTLINE_SFRAME_H

#include "hotline/base.h"

/* RFC 9605 §8.1 cipher suites. */
enum hl_sframe_suite {
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_80 = 0x0001,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_64 = 0x0002,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_32 = 0x0003,
	HL_SFRAME_AES_128_GCM_SHA256_128 = 0x0004,
	HL_SFRAME_AES_256_GCM_SHA512_128 = 0x0005,
};

#define HL_SFRAME_DEFAULT_SUITE	    HL_SFRAME_AES_128_GCM_SHA256_128
#define HL_SFRAME_HEADER_MAX	    17 /* config byte + 8 KID + 8 CTR */
#define HL_SFRAME_KEY_MAX	    48 /* Nk of the CTR+HMAC suites (16+32) */
#define HL_SFRAME_NONCE_LEN	    12 /* Nn of every suite */
#define HL_SFRAME_TAG_MAX	    16 /* Nt */
#define HL_SFRAME_SECRET_MAX	    64 /* Nh of SHA-512 */
#define HL_SFRAME_OVERHEAD_MAX	    (HL_SFRAME_HEADER_MAX + HL_SFRAME_TAG_MAX)
#define HL_SFRAME_FRAME_MAX	    (1u << 20) /* largest frame accepted (1 MiB) */
#define HL_SFRAME_RATCHET_BITS	    8
#define HL_SFRAME_MAX_RATCHET_AHEAD 16
#define HL_SFRAME_REPLAY_WINDOW	    1024 /* counters remembered per key */
#define HL_SFRAME_MAX_KEYS	    8	 /* keys a receiver holds at once */

/* Suite name as in the RFC registry ("AES_128_GCM_SHA256_128"), or NULL. */
const char *hl_sframe_suite_name(enum hl_sframe_suite suite);
bool hl_sframe_suite_supported(enum hl_sframe_suite suite);
/* Tag length Nt of a suite (0 if unsupported). */
size_t hl_sframe_suite_tag_len(enum hl_sframe_suite suite);

/* RFC 9605 §4.3 header.  encode: *len = bytes written (1..17). */
int hl_sframe_header_encode(uint64_t kid, uint64_t ctr, uint8_t *out,
			    size_t cap, size_t *len) HL_MUST_CHECK;
/* decode: HL_EPARSE if buf is shorter than the header says, or if a value
 * is not in its minimal encoding (§4.3 MUST), so decode inverts encode. */
int hl_sframe_header_decode(const uint8_t *buf, size_t len, uint64_t *kid,
			    uint64_t *ctr, size_t *hdr_len) HL_MUST_CHECK;

/*
 * RFC 9605 §4.4.2 key schedule, exposed for the test vectors: derives
 * sframe_key (Nk bytes) and sframe_salt (Nn bytes) from base_key and KID.
 */
int hl_sframe_derive(enum hl_sframe_suite suite, const uint8_t *base_key,
		     size_t base_key_len, uint64_t kid, uint8_t *key,
		     uint8_t *salt) HL_MUST_CHECK;

/* RFC 9605 §5.1: next_base_key = HKDF-Expand(HKDF-Extract("", base_key),
 * "SFrame 1.0 Ratchet", Nh).  out must hold Nh bytes; *out_len = Nh. */
int hl_sframe_ratchet_key(enum hl_sframe_suite suite, const uint8_t *base_key,
			  size_t base_key_len, uint8_t *out,
			  size_t *out_len) HL_MUST_CHECK;

/*
 * The suite's AEAD alone (RFC 9605 §4.4.4, §4.5), exposed for the
 * aes_ctr_hmac test vectors.  seal writes ptlen + Nt bytes to ct.
 */
int hl_sframe_aead_seal(enum hl_sframe_suite suite, const uint8_t *key,
			const uint8_t nonce[HL_SFRAME_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, const uint8_t *pt,
			size_t pt_len, uint8_t *ct) HL_MUST_CHECK;
int hl_sframe_aead_open(enum hl_sframe_suite suite, const uint8_t *key,
			const uint8_t nonce[HL_SFRAME_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, const uint8_t *ct,
			size_t ct_len, uint8_t *pt) HL_MUST_CHECK;

/* ---- sender -------------------------------------------------------- */

struct hl_sframe_sender;

/*
 * Create a sender for suite with the key of kid.  The base key (16..64
 * bytes, as everywhere in this API) is copied (the caller wipes its own
 * copy).  *out is owned by the caller and freed with
 * hl_sframe_sender_free().
 */
int hl_sframe_sender_new(struct hl_sframe_sender **out,
			 enum hl_sframe_suite suite, uint64_t kid,
			 const uint8_t *base_key,
			 size_t base_key_len) HL_MUST_CHECK;
void hl_sframe_sender_free(struct hl_sframe_sender *s);

/* Replace the key (a new generation); the counter restarts at 0.  kid must
 * differ from the current KID (HL_EINVAL), else (KID, CTR) would repeat.
 * If the crypto backend fails the sender is left without a key
 * (encrypt gives HL_ESTATE until a key is set). */
int hl_sframe_sender_set_key(struct hl_sframe_sender *s, uint64_t kid,
			     const uint8_t *base_key,
			     size_t base_key_len) HL_MUST_CHECK;

/* Ratchet forward one step (RFC 9605 §5.1); the old key is wiped. */
int hl_sframe_sender_ratchet(struct hl_sframe_sender *s) HL_MUST_CHECK;

uint64_t hl_sframe_sender_kid(const struct hl_sframe_sender *s);

/*
 * Encrypt one frame: out = header || ct || tag.  cap = pt_len +
 * HL_SFRAME_OVERHEAD_MAX is always enough (HL_EINVAL if the frame does not
 * fit).  pt/metadata and out must not overlap (HL_EINVAL).  HL_ESTATE once
 * the counter is spent (after CTR 2^64-1); HL_ETOOBIG if the frame would
 * exceed HL_SFRAME_FRAME_MAX.  A counter value is consumed by every call
 * that reaches the cipher, even one that then fails.
 */
int hl_sframe_encrypt(struct hl_sframe_sender *s, const uint8_t *metadata,
		      size_t metadata_len, const uint8_t *pt, size_t pt_len,
		      uint8_t *out, size_t cap, size_t *out_len) HL_MUST_CHECK;

/* ---- receiver ------------------------------------------------------ */

struct hl_sframe_stats {
	uint64_t frames_ok;	/* authenticated and fresh */
	uint64_t auth_failures; /* HL_EAUTH returned */
	uint64_t replays;	/* HL_EREPLAY returned */
	uint64_t ratchets;	/* ratchet steps followed */
};

struct hl_sframe_receiver;

int hl_sframe_receiver_new(struct hl_sframe_receiver **out,
			   enum hl_sframe_suite suite) HL_MUST_CHECK;
void hl_sframe_receiver_free(struct hl_sframe_receiver *r);

/*
 * Install the base key of kid (copied).  When all HL_SFRAME_MAX_KEYS slots
 * are used, the least recently used key is evicted and wiped.  Adding a
 * KID that is already present replaces its key and resets its replay
 * window.  Never allocates.
 */
int hl_sframe_receiver_add_key(struct hl_sframe_receiver *r, uint64_t kid,
			       const uint8_t *base_key,
			       size_t base_key_len) HL_MUST_CHECK;
/* Forget every key whose generation (kid >> 8) equals that of kid. */
void hl_sframe_receiver_remove_generation(struct hl_sframe_receiver *r,
					  uint64_t kid);

/*
 * Decrypt one frame (header || ct || tag) into out (cap >= in_len always
 * suffices; the plaintext is in_len - header - tag bytes).  On success
 * *out_len is the plaintext length and *kid_out (if not NULL) the key id.
 * Returns HL_EAUTH (any authentication failure, opaque) or HL_EREPLAY;
 * both are counted in the stats, and out then holds no plaintext.  in and
 * out must not overlap (HL_EINVAL, not counted).  Never allocates.
 */
int hl_sframe_decrypt(struct hl_sframe_receiver *r, const uint8_t *metadata,
		      size_t metadata_len, const uint8_t *in, size_t in_len,
		      uint8_t *out, size_t cap, size_t *out_len,
		      uint64_t *kid_out) HL_MUST_CHECK;

void hl_sframe_receiver_stats(const struct hl_sframe_receiver *r,
			      struct hl_sframe_stats *st);

#endif /* HOTLINE_SFRAME_H */
