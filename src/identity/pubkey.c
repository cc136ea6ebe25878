/*
 * pubkey.c - the printable forms of a public key: the "hl1..." text and
 * the numeric safety numbers (docs/protocol.md §5.1).
 *
 * Text: "hl1" then the RFC 4648 §6 base32 (lower case, no padding) of the
 * 32-byte key followed by a 2-byte checksum, the first bytes of
 * SHA-256("hotline-id" || key).  34 bytes are 272 bits, 55 characters of 5
 * bits; the last character carries 2 data bits and 3 zero bits.  Readers
 * ignore case, spaces and dashes (people copy keys by hand), and refuse a
 * wrong checksum, non-zero padding bits, and a key that is not a valid
 * Ed25519 point of the main subgroup.
 *
 * The checksum is 16 bits of a hash, not an error-correcting code: any
 * one wrong character is caught except with probability 2^-16 (a BCH
 * code such as bech32's would catch every single error).  It is there to
 * catch typing errors; authenticity comes from comparing safety numbers.
 *
 * Safety numbers follow libsignal's numeric fingerprint, version 0:
 * h = SHA-512(0x0000 || key || stable_id || key), iterated with
 * SHA-512(h || key); chunks of 5 bytes, big-endian, mod 100000.
 */
#include <string.h>

#include <sodium.h>

#include "identity_internal.h"

#define CHECKSUM_LEN   2
#define CHECKSUM_LABEL "hotline-id"
#define TEXT_PREFIX    "hl1"
#define B32_CHARS      55  /* ceil((32 + 2) * 8 / 5) */
#define TEXT_SCAN_MAX  512 /* longer inputs are refused unread */
#define FP_ITER_MAX    (1u << 20)
#define SAFETY_ITER    5200
#define SAFETY_ID      "hotline-v1"

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void checksum(const uint8_t pk[HL_ID_PK_LEN], uint8_t out[CHECKSUM_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)CHECKSUM_LABEL,
				  strlen(CHECKSUM_LABEL));
	crypto_hash_sha256_update(&st, pk, HL_ID_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, CHECKSUM_LEN);
}

/* RFC 4648 §6 base32 value of c (either case), or -1. */
static int b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

void hl_pubkey_to_text(const uint8_t pk[HL_ID_PK_LEN],
		       char out[HL_ID_TEXT_LEN + 1])
{
	uint8_t raw[HL_ID_PK_LEN + CHECKSUM_LEN];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = strlen(TEXT_PREFIX);

	memcpy(out, TEXT_PREFIX, o);
	memcpy(raw, pk, HL_ID_PK_LEN);
	checksum(pk, raw + HL_ID_PK_LEN);
	/* RFC 4648 §6: 5-bit groups, most significant bit first. */
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits) /* the last group is zero-filled on the right */
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static bool ignored(char c)
{
	return c == ' ' || c == '-' || c == '\t' || c == '\r' || c == '\n';
}

int hl_pubkey_from_text(const char *text, uint8_t pk[HL_ID_PK_LEN])
{
	char t[HL_ID_TEXT_LEN];
	uint8_t raw[HL_ID_PK_LEN + CHECKSUM_LEN];
	uint8_t sum[CHECKSUM_LEN];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0, o = 0;

	if (!text || !pk)
		return HL_EINVAL;
	for (size_t i = 0; text[i]; i++) {
		if (i >= TEXT_SCAN_MAX)
			return HL_EPARSE;
		if (ignored(text[i]))
			continue;
		if (n == sizeof(t))
			return HL_EPARSE;
		t[n++] = text[i];
	}
	if (n != sizeof(t) || (t[0] | 0x20) != 'h' || (t[1] | 0x20) != 'l' ||
	    t[2] != '1')
		return HL_EPARSE;
	for (size_t i = strlen(TEXT_PREFIX); i < n; i++) {
		int v = b32_value(t[i]);

		if (v < 0)
			return HL_EPARSE;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 275 bits read, 272 used: the 3 left over must be zero so that
	 * every key has exactly one spelling (up to case and separators). */
	if (o != sizeof(raw) || bits != 3 || (acc & 7) != 0)
		return HL_EPARSE;
	checksum(raw, sum);
	if (memcmp(sum, raw + HL_ID_PK_LEN, CHECKSUM_LEN) != 0)
		return HL_EPARSE;
	/* Canonical, not of small order, in the prime-order subgroup: what
	 * crypto_sign_keypair() can produce. */
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	if (!crypto_core_ed25519_is_valid_point(raw))
		return HL_EPARSE;
	memcpy(pk, raw, HL_ID_PK_LEN);
	return 0;
}

/* ---- numeric fingerprints --------------------------------------------- */

int hl_fingerprint_iterate(const uint8_t *key, size_t key_len,
			   const uint8_t *stable_id, size_t id_len,
			   unsigned iterations, uint8_t out[64])
{
	static const uint8_t version[2] = {0, 0};
	crypto_hash_sha512_state st;
	uint8_t h[crypto_hash_sha512_BYTES];

	if ((!key && key_len) || (!stable_id && id_len) || !out ||
	    iterations == 0 || iterations > FP_ITER_MAX)
		return HL_EINVAL;
	/* libsignal fingerprint.rs, version 0 (the "0x0000" prefix). */
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, version, sizeof(version));
	crypto_hash_sha512_update(&st, key, key_len);
	crypto_hash_sha512_update(&st, stable_id, id_len);
	crypto_hash_sha512_update(&st, key, key_len);
	crypto_hash_sha512_final(&st, h);
	for (unsigned i = 1; i < iterations; i++) {
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, h, sizeof(h));
		crypto_hash_sha512_update(&st, key, key_len);
		crypto_hash_sha512_final(&st, h);
	}
	memcpy(out, h, sizeof(h));
	return 0;
}

void hl_fingerprint_digits(const uint8_t *fp, unsigned chunks, char *out)
{
	for (unsigned c = 0; c < chunks; c++) {
		const uint8_t *p = fp + 5 * c;
		uint64_t v =
			(uint64_t)p[0] << 32 | (uint64_t)hl_get_be32(p + 1);

		v %= 100000;
		for (int d = 4; d >= 0; d--) {
			out[5 * c + (unsigned)d] = (char)('0' + v % 10);
			v /= 10;
		}
	}
	out[5 * chunks] = '\0';
}

/* The fingerprint of one hotline key (stable id "hotline-v1"). */
static int own_fingerprint(const uint8_t pk[HL_ID_PK_LEN], uint8_t h[64])
{
	if (!pk)
		return HL_EINVAL;
	return hl_fingerprint_iterate(pk, HL_ID_PK_LEN,
				      (const uint8_t *)SAFETY_ID,
				      strlen(SAFETY_ID), SAFETY_ITER, h);
}

int hl_safety_number(const uint8_t pk[HL_ID_PK_LEN],
		     char out[HL_SAFETY_DIGITS + 1])
{
	uint8_t h[64];
	int err;

	if (!out)
		return HL_EINVAL;
	err = own_fingerprint(pk, h);
	if (err)
		return err;
	hl_fingerprint_digits(h, HL_SAFETY_DIGITS / 5, out);
	return 0;
}

int hl_safety_number_pair(const uint8_t a[HL_ID_PK_LEN],
			  const uint8_t b[HL_ID_PK_LEN],
			  char out[HL_SAFETY_DIGITS + 1])
{
	enum { HALF = HL_SAFETY_DIGITS / 2 };
	uint8_t ha[64], hb[64];
	char da[HALF + 1], db[HALF + 1];
	const char *first, *second;
	int err;

	if (!out)
		return HL_EINVAL;
	err = own_fingerprint(a, ha);
	if (!err)
		err = own_fingerprint(b, hb);
	if (err)
		return err;
	hl_fingerprint_digits(ha, HALF / 5, da);
	hl_fingerprint_digits(hb, HALF / 5, db);
	/* Equal-length digit strings: byte order is numeric order. */
	first = strcmp(da, db) <= 0 ? da : db;
	second = first == da ? db : da;
	memcpy(out, first, HALF);
	memcpy(out + HALF, second, HALF);
	out[HL_SAFETY_DIGITS] = '\0';
	return 0;
}
