/*
 * hotline/identity.h - long-term identities, their files, their numbers.
 *
 * An identity is an Ed25519 key pair (libsodium) and a name the user chose.
 * On disk (identity.json, mode 0600) the 32-byte secret seed is sealed with
 * XChaCha20-Poly1305 under a key stretched from the passphrase with
 * Argon2id; the name, the public key and the KDF parameters are the AEAD's
 * associated data, so none can be changed unnoticed.  Without a passphrase
 * (an explicit choice) the seed is stored in clear and the file says so.
 *
 * Public keys travel as text: "hl1" followed by the lowercase RFC 4648
 * base32 of key || checksum (2 bytes of SHA-256("hotline-id" || key)), 58
 * characters in all; decoding ignores case, spaces and dashes and refuses
 * a wrong checksum.  A safety number is a 60-digit numeric fingerprint in
 * the manner of Signal's (docs/protocol.md §5.1).
 *
 * Randomness comes in through struct hl_rng (src/net's hl_rng_os() in the
 * programs); nothing here reads the OS RNG by itself.
 */
#ifndef HOTLINE_IDENTITY_H
#define HOTLINE_IDENTITY_H

#include "hotline/base.h"

#define HL_ID_PK_LEN	 32
#define HL_ID_SK_LEN	 64 /* libsodium's seed || public key form */
#define HL_ID_SIG_LEN	 64
#define HL_ID_NAME_MAX	 64 /* bytes of UTF-8 */
#define HL_ID_TEXT_LEN	 58 /* "hl1" + 55 base32 characters */
#define HL_SAFETY_DIGITS 60

struct hl_identity {
	char name[HL_ID_NAME_MAX + 1];
	uint8_t pk[HL_ID_PK_LEN];
	uint8_t sk[HL_ID_SK_LEN]; /* wiped by hl_identity_wipe */
};

/*
 * A name is 1..64 bytes of valid (shortest-form) UTF-8 without control
 * characters (C0, DEL, C1), line/paragraph separators or bidirectional
 * formatting characters (U+061C, U+200E/F, U+202A-E, U+2066-9).
 */
bool hl_identity_name_valid(const char *name);

/* Make a fresh identity (32 random bytes from rng as the seed).
 * HL_EINVAL for an invalid name or a missing rng. */
int hl_identity_generate(struct hl_identity *id, const char *name,
			 const struct hl_rng *rng) HL_MUST_CHECK;
void hl_identity_wipe(struct hl_identity *id);

/*
 * Write the identity to path, atomically (temporary file, fsync, rename),
 * mode 0600.  passphrase NULL: the seed is stored in clear (the caller
 * asked for --no-passphrase); an empty passphrase is HL_EINVAL, as is an
 * identity whose seed does not give its pk.  HL_EIO (errno kept) on file
 * errors; the old file is then unchanged.
 */
int hl_identity_save(const struct hl_identity *id, const char *path,
		     const char *passphrase,
		     const struct hl_rng *rng) HL_MUST_CHECK;
/*
 * Read an identity.  Errors: HL_EIO (cannot read; errno kept, ENOENT
 * when there is no file), HL_EPARSE (not an identity file, damaged, or
 * over 64 KiB), HL_EAUTH (wrong passphrase, or the file was altered),
 * HL_ESTATE (the file is sealed and passphrase is NULL), HL_EUNSUPPORTED
 * (a newer file version).  A passphrase given for a file in clear is
 * ignored.
 */
int hl_identity_load(struct hl_identity *id, const char *path,
		     const char *passphrase) HL_MUST_CHECK;
/* Whether the file at path needs a passphrase (false if in clear); the
 * file is parsed fully, errors as hl_identity_load() (never HL_EAUTH). */
int hl_identity_file_sealed(const char *path, bool *sealed) HL_MUST_CHECK;

int hl_identity_sign(const struct hl_identity *id, const uint8_t *msg,
		     size_t len, uint8_t sig[HL_ID_SIG_LEN]) HL_MUST_CHECK;
/* 0 if sig is a valid signature of msg by pk, else HL_EAUTH. */
int hl_identity_verify(const uint8_t pk[HL_ID_PK_LEN], const uint8_t *msg,
		       size_t len,
		       const uint8_t sig[HL_ID_SIG_LEN]) HL_MUST_CHECK;

/* Public key text form (out holds HL_ID_TEXT_LEN + 1 bytes). */
void hl_pubkey_to_text(const uint8_t pk[HL_ID_PK_LEN],
		       char out[HL_ID_TEXT_LEN + 1]);
/*
 * HL_EPARSE for anything that is not a well-formed key with its checksum,
 * including a key that is not a valid Ed25519 public key (non-canonical,
 * small order, outside the prime-order subgroup): hl_pubkey_to_text() of
 * arbitrary bytes may give a text this refuses.
 */
int hl_pubkey_from_text(const char *text,
			uint8_t pk[HL_ID_PK_LEN]) HL_MUST_CHECK;

/*
 * Signal's numeric fingerprint (libsignal fingerprint.rs, version 0):
 * h = SHA-512(0x0000 || key || stable_id || key), then iterations - 1
 * times h = SHA-512(h || key).  out receives all 64 bytes.  Exposed for
 * the test vector.  HL_EINVAL for 0 or more than 2^20 iterations.
 */
int hl_fingerprint_iterate(const uint8_t *key, size_t key_len,
			   const uint8_t *stable_id, size_t id_len,
			   unsigned iterations, uint8_t out[64]) HL_MUST_CHECK;
/* Digits of a fingerprint: n chunks of 5 bytes, each mod 100000, written
 * as 5 digits; out holds 5 * chunks + 1 bytes. */
void hl_fingerprint_digits(const uint8_t *fp, unsigned chunks, char *out);

/*
 * An identity's own 60-digit safety number (12 chunks of its fingerprint
 * with stable id "hotline-v1"), and the pair number two parties compare
 * (each party's 30-digit half, the smaller first; the same on both sides).
 */
int hl_safety_number(const uint8_t pk[HL_ID_PK_LEN],
		     char out[HL_SAFETY_DIGITS + 1]) HL_MUST_CHECK;
int hl_safety_number_pair(const uint8_t a[HL_ID_PK_LEN],
			  const uint8_t b[HL_ID_PK_LEN],
			  char out[HL_SAFETY_DIGITS + 1]) HL_MUST_CHECK;

#endif /* HOTLINE_IDENTITY_H */
