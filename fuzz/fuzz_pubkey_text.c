/*
 * fuzz_pubkey_text.c - libFuzzer target for the "hl1..." public key text
 * (src/identity/pubkey.c, docs/protocol.md §5.1).
 *
 * Invariants (abort() on violation):
 *  1. any accepted text, with spaces and dashes removed and lowered,
 *     is exactly the canonical text of the key it decodes to, and that
 *     canonical text decodes to the same key;
 *  2. the first 32 input bytes taken as a key: their text decodes back to
 *     them exactly when they are a valid Ed25519 public key (canonical,
 *     not of small order, in the prime-order subgroup), else HL_EPARSE;
 *  3. no hl_malloc block is leaked.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hotline/identity.h"

#define MAX_TEXT 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ignored(char c)
{
	return c == ' ' || c == '-' || c == '\t' || c == '\r' || c == '\n';
}

static void check_text(const uint8_t *data, size_t size)
{
	char in[MAX_TEXT + 1], norm[MAX_TEXT + 1];
	char canon[HL_ID_TEXT_LEN + 1];
	uint8_t pk[HL_ID_PK_LEN], pk2[HL_ID_PK_LEN];
	size_t n = size < MAX_TEXT ? size : MAX_TEXT, o = 0;

	memcpy(in, data, n);
	in[n] = '\0';
	if (hl_pubkey_from_text(in, pk) != 0)
		return;
	for (size_t i = 0; in[i]; i++) {
		char c = in[i];

		if (ignored(c))
			continue;
		norm[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	norm[o] = '\0';
	hl_pubkey_to_text(pk, canon);
	if (strcmp(norm, canon) != 0)
		abort();
	if (hl_pubkey_from_text(canon, pk2) != 0 ||
	    memcmp(pk, pk2, sizeof(pk)) != 0)
		abort();
}

static void check_key(const uint8_t *data, size_t size)
{
	char text[HL_ID_TEXT_LEN + 1];
	uint8_t pk[HL_ID_PK_LEN];
	int err;

	if (size < HL_ID_PK_LEN)
		return;
	hl_pubkey_to_text(data, text);
	if (strlen(text) != HL_ID_TEXT_LEN)
		abort();
	err = hl_pubkey_from_text(text, pk);
	if (crypto_core_ed25519_is_valid_point(data)) {
		if (err || memcmp(pk, data, HL_ID_PK_LEN) != 0)
			abort();
	} else if (err != HL_EPARSE) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();

	if (sodium_init() < 0)
		abort();
	check_text(data, size);
	check_key(data, size);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
