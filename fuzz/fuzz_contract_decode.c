/*
 * fuzz_contract_decode.c - libFuzzer target for the canonical contract
 * decoder (docs/protocol.md §5.2) and the UTF-8 validator under it.
 *
 * Invariants checked (abort() on violation):
 *  1. decode fails only with HL_EPARSE, always giving a reason;
 *  2. canonical form: when decode succeeds, the contract passes
 *     hl_contract_check and encode reproduces the input exactly; the input
 *     without its last byte, or with one more byte, is refused;
 *  3. a decoded contract, re-addressed to a fixed proposer, can be
 *     proposed; the bundle verifies, survives to_json -> from_json
 *     unchanged, and stops verifying when one byte of its encoding changes;
 *  4. hl_contract_utf8_check agrees with a differently written reference
 *     on the raw input;
 *  5. no hl_malloc block (jansson's included) is leaked.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hotline/contract.h"

#include "../src/contract/contract_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hl_identity fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32] = {0};

	if (sodium_init() < 0 ||
	    crypto_sign_seed_keypair(fixed.pk, fixed.sk, seed) != 0)
		abort();
	json_set_alloc_funcs(hl_malloc, hl_free);
	return 0;
}

/* Reference UTF-8 verdict: count the lead byte's ones, then range checks. */
static enum hl_utf8_verdict ref_utf8(const uint8_t *s, size_t n)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t i = 0;

	while (i < n) {
		unsigned ones = 0;
		uint32_t cp;

		while (ones < 8 && (s[i] & (0x80 >> ones)))
			ones++;
		if (ones == 0) {
			cp = s[i++];
		} else {
			if (ones == 1 || ones > 4 || n - i < ones)
				return HL_UTF8_INVALID;
			cp = s[i] & (0x7fu >> ones);
			for (unsigned k = 1; k < ones; k++) {
				if ((s[i + k] & 0xc0) != 0x80)
					return HL_UTF8_INVALID;
				cp = cp << 6 | (s[i + k] & 0x3f);
			}
			if (cp < min_cp[ones] || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return HL_UTF8_INVALID;
			i += ones;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return HL_UTF8_CONTROL;
	}
	return HL_UTF8_OK;
}

static bool same_bundle(const struct hl_contract_bundle *x,
			const struct hl_contract_bundle *y)
{
	return x->enc_len == y->enc_len &&
	       memcmp(x->enc, y->enc, x->enc_len) == 0 &&
	       memcmp(x->hash, y->hash, sizeof(x->hash)) == 0 &&
	       memcmp(x->proposal, y->proposal, sizeof(x->proposal)) == 0 &&
	       x->has_acceptance == y->has_acceptance &&
	       x->has_decline == y->has_decline;
}

/* Invariant 3 for a contract that decoded. */
static void check_signed(const struct hl_contract *dc, size_t pos)
{
	struct hl_contract c = *dc;
	static struct hl_contract_bundle b, back; /* large: off the stack */
	char *json = NULL;
	const char *why = NULL;
	int err;

	memcpy(c.proposer, fixed.pk, HL_ID_PK_LEN);
	if (memcmp(c.invitee, c.proposer, HL_ID_PK_LEN) == 0)
		c.invitee[0] ^= 1;
	if (hl_contract_propose(&c, &fixed, &b) != 0)
		abort();
	if (hl_contract_verify(&b, &why) != 0)
		abort();
	if (hl_contract_bundle_to_json(&b, &json) != 0)
		abort();
	err = hl_contract_bundle_from_json(json, strlen(json), &back, &why);
	hl_free(json);
	if (err != 0 || !same_bundle(&b, &back))
		abort();
	/* One byte of the encoding changed: never verifies any more. */
	pos %= b.enc_len;
	b.enc[pos] ^= 0x01;
	if (hl_contract_decode(b.enc, b.enc_len, &b.c) == 0) {
		hl_contract_hash(b.enc, b.enc_len, b.hash);
		if (hl_contract_verify(&b, &why) != HL_EAUTH)
			abort();
	} else if (hl_contract_verify(&b, &why) != HL_EPARSE) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hl_contract c;
	static uint8_t enc[HL_CONTRACT_MAX_LEN + 1];
	long mem0 = hl_mem_outstanding();
	const char *why = NULL;
	size_t n = 0;
	int err;

	if (hl_contract_utf8_check(data, size) != ref_utf8(data, size))
		abort();
	err = hl_contract_decode_why(data, size, &c, &why);
	if (err != 0) {
		if (err != HL_EPARSE || !why ||
		    hl_contract_decode(data, size, &c) != HL_EPARSE)
			abort();
		goto out;
	}
	if (hl_contract_check(&c, NULL) != 0)
		abort();
	if (hl_contract_encode(&c, enc, sizeof(enc), &n) != 0 || n != size ||
	    memcmp(enc, data, size) != 0)
		abort();
	if (hl_contract_decode(data, size - 1, &c) != HL_EPARSE)
		abort();
	enc[size] = data[size / 2];
	if (hl_contract_decode(enc, size + 1, &c) != HL_EPARSE)
		abort();
	if (hl_contract_decode(data, size, &c) != 0)
		abort();
	check_signed(&c, size > 4 ? data[4] * 31u + data[size - 1] : 0);
out:
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
