/*
 * fuzz_contract_bundle.c - libFuzzer target for contract bundles read
 * from JSON text (docs/protocol.md §5.2), which includes their full
 * verification (decoding, field rules, Ed25519 signatures).
 *
 * Invariants checked (abort() on violation):
 *  1. from_json fails only with HL_EPARSE, HL_EAUTH or HL_ETOOBIG (the
 *     latter exactly when the text is over HL_CONTRACT_JSON_MAX bytes),
 *     always with a reason, and leaves the output untouched;
 *  2. when it succeeds the bundle verifies, its state matches its
 *     answers, and to_json -> from_json gives back the same bundle, whose
 *     JSON text is then a fixed point;
 *  3. no hl_malloc block (jansson's included) is leaked.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hotline/contract.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	json_set_alloc_funcs(hl_malloc, hl_free);
	return 0;
}

static bool same_bundle(const struct hl_contract_bundle *x,
			const struct hl_contract_bundle *y)
{
	uint8_t ex[HL_CONTRACT_MAX_LEN], ey[HL_CONTRACT_MAX_LEN];
	size_t nx, ny;

	if (x->enc_len != y->enc_len ||
	    memcmp(x->enc, y->enc, x->enc_len) != 0 ||
	    memcmp(x->hash, y->hash, sizeof(x->hash)) != 0 ||
	    memcmp(x->proposal, y->proposal, sizeof(x->proposal)) != 0 ||
	    x->has_acceptance != y->has_acceptance ||
	    x->has_decline != y->has_decline)
		return false;
	if (x->has_acceptance &&
	    memcmp(x->acceptance, y->acceptance, HL_ID_SIG_LEN) != 0)
		return false;
	if (x->has_decline &&
	    memcmp(x->decline, y->decline, HL_ID_SIG_LEN) != 0)
		return false;
	if (hl_contract_encode(&x->c, ex, sizeof(ex), &nx) != 0 ||
	    hl_contract_encode(&y->c, ey, sizeof(ey), &ny) != 0)
		return false;
	return nx == ny && memcmp(ex, ey, nx) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hl_contract_bundle b, back, untouched;
	long mem0 = hl_mem_outstanding();
	const char *why = NULL;
	char *json = NULL, *json2 = NULL;
	enum hl_contract_state st;
	int err;

	memset(&b, 0x5c, sizeof(b));
	memset(&untouched, 0x5c, sizeof(untouched));
	err = hl_contract_bundle_from_json((const char *)data, size, &b, &why);
	if (err != 0) {
		if (!why || memcmp(&b, &untouched, sizeof(b)) != 0)
			abort();
		if ((err == HL_ETOOBIG) != (size > HL_CONTRACT_JSON_MAX))
			abort();
		if (err != HL_EPARSE && err != HL_EAUTH && err != HL_ETOOBIG)
			abort();
		goto out;
	}
	if (hl_contract_verify(&b, &why) != 0)
		abort();
	st = hl_contract_bundle_state(&b);
	if (st != (b.has_acceptance ? HL_CONTRACT_CONFIRMED
		   : b.has_decline  ? HL_CONTRACT_DECLINED
				    : HL_CONTRACT_PROPOSED))
		abort();
	if (hl_contract_bundle_to_json(&b, &json) != 0)
		abort();
	if (hl_contract_bundle_from_json(json, strlen(json), &back, &why) !=
		    0 ||
	    !same_bundle(&b, &back))
		abort();
	if (hl_contract_bundle_to_json(&back, &json2) != 0 ||
	    strcmp(json, json2) != 0)
		abort();
	hl_free(json);
	hl_free(json2);
out:
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
