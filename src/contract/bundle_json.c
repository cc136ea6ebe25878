/*
 * bundle_json.c - contract bundles as JSON text (docs/protocol.md §5.2):
 *   {"contract": b64, "proposal": b64, "acceptance": b64?, "decline": b64?}
 * with b64 = base64url without padding (RFC 4648 §5).
 *
 * Reading is strict: at most HL_CONTRACT_JSON_MAX bytes (checked before
 * parsing), one JSON object (jansson, duplicate keys refused), exactly the
 * known keys (an unknown key is refused: nothing unsigned may ride along
 * with a signed contract, and a future format will change the contract's
 * version byte, not add loose keys), every value a string in canonical
 * base64url (libsodium: no padding, no whitespace, zero trailing bits),
 * signatures of exactly 64 bytes; then the whole bundle is verified.
 * Writing is done by hand (the output is fixed text with no escapes) into
 * one hl_malloc'd buffer.
 *
 * jansson allocates with its own allocator (malloc unless a program sets
 * json_set_alloc_funcs); the input limit bounds what it can allocate, and
 * its tree is freed before returning.
 */
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "contract_internal.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

enum { K_CONTRACT, K_PROPOSAL, K_ACCEPTANCE, K_DECLINE, K_COUNT };

static const char *const key_name[K_COUNT] = {
	"contract",
	"proposal",
	"acceptance",
	"decline",
};

static const char *const key_not_string[K_COUNT] = {
	"\"contract\" is not a string",
	"\"proposal\" is not a string",
	"\"acceptance\" is not a string",
	"\"decline\" is not a string",
};

static const char *const key_bad_b64[K_COUNT] = {
	"\"contract\" is not base64url without padding, or too long",
	"\"proposal\" is not a base64url signature of 64 bytes",
	"\"acceptance\" is not a base64url signature of 64 bytes",
	"\"decline\" is not a base64url signature of 64 bytes",
};

/* Append s (n bytes) at *p; the caller sized the buffer. */
static void put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

/* Append ,"key":"b64(bin)" (or without the comma for the first). */
static void put_field(char **p, const char *end, bool comma, const char *key,
		      const uint8_t *bin, size_t n)
{
	if (comma)
		put(p, ",", 1);
	put(p, "\"", 1);
	put(p, key, strlen(key));
	put(p, "\":\"", 3);
	sodium_bin2base64(*p, (size_t)(end - *p), bin, n, B64);
	*p += strlen(*p);
	put(p, "\"", 1);
}

/* Bytes put_field writes for key and n bytes of binary. */
static size_t field_len(const char *key, size_t n)
{
	return 1 + 1 + strlen(key) + 3 + sodium_base64_ENCODED_LEN(n, B64) - 1 +
	       1;
}

/*
 * Write b as compact JSON text: *out is an hl_malloc'd, NUL-terminated
 * string the caller frees with hl_free.  Signatures are not checked here
 * (from_json does); a bundle that cannot be valid (encoding length out of
 * range, both answers) is HL_EINVAL.
 */
int hl_contract_bundle_to_json(const struct hl_contract_bundle *b, char **out)
{
	size_t n;
	char *buf, *p, *end;

	if (!b || !out || b->enc_len == 0 || b->enc_len > sizeof(b->enc) ||
	    (b->has_acceptance && b->has_decline))
		return HL_EINVAL;
	n = 2 + field_len(key_name[K_CONTRACT], b->enc_len) +
	    field_len(key_name[K_PROPOSAL], HL_ID_SIG_LEN) + 1;
	if (b->has_acceptance)
		n += field_len(key_name[K_ACCEPTANCE], HL_ID_SIG_LEN);
	if (b->has_decline)
		n += field_len(key_name[K_DECLINE], HL_ID_SIG_LEN);
	buf = hl_malloc(n);
	if (!buf)
		return HL_ENOMEM;
	p = buf;
	end = buf + n;
	put(&p, "{", 1);
	put_field(&p, end, false, key_name[K_CONTRACT], b->enc, b->enc_len);
	put_field(&p, end, true, key_name[K_PROPOSAL], b->proposal,
		  HL_ID_SIG_LEN);
	if (b->has_acceptance)
		put_field(&p, end, true, key_name[K_ACCEPTANCE], b->acceptance,
			  HL_ID_SIG_LEN);
	if (b->has_decline)
		put_field(&p, end, true, key_name[K_DECLINE], b->decline,
			  HL_ID_SIG_LEN);
	put(&p, "}", 1);
	*p = 0;
	*out = buf;
	return 0;
}

/* Canonical base64url without padding of 0..cap bytes; -1 if not. */
static int b64_decode(const json_t *v, uint8_t *out, size_t cap, size_t *len)
{
	if (sodium_base642bin(out, cap, json_string_value(v),
			      json_string_length(v), NULL, len, NULL, B64) != 0)
		return -1;
	return 0;
}

/*
 * Parse and verify a bundle from json[0..len) (need not be
 * NUL-terminated).  HL_ETOOBIG above HL_CONTRACT_JSON_MAX bytes, HL_EPARSE
 * for anything malformed, HL_EAUTH for a bad signature (see
 * hl_contract_verify), HL_ENOMEM if jansson ran out of memory; *why names
 * the problem.  *b is written only on success.
 */
int hl_contract_bundle_from_json(const char *json, size_t len,
				 struct hl_contract_bundle *b, const char **why)
{
	struct hl_contract_bundle t;
	json_t *root = NULL, *v[K_COUNT];
	json_error_t jerr;
	const char *w = NULL;
	size_t present = 0, n;
	int err = HL_EPARSE;

	if (!json || !b) {
		w = "no bundle";
		err = HL_EINVAL;
		goto out;
	}
	if (len > HL_CONTRACT_JSON_MAX) {
		w = "the bundle is larger than 64 KiB";
		err = HL_ETOOBIG;
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			w = "out of memory";
			err = HL_ENOMEM;
		} else {
			w = "the bundle is not valid JSON";
		}
		goto out;
	}
	if (!json_is_object(root)) {
		w = "the bundle is not a JSON object";
		goto out;
	}
	for (int k = 0; k < K_COUNT; k++) {
		v[k] = json_object_get(root, key_name[k]);
		if (!v[k])
			continue;
		present++;
		if (!json_is_string(v[k])) {
			w = key_not_string[k];
			goto out;
		}
	}
	if (json_object_size(root) != present) {
		w = "the bundle has an unknown key";
		goto out;
	}
	if (!v[K_CONTRACT]) {
		w = "the bundle has no \"contract\"";
		goto out;
	}
	if (!v[K_PROPOSAL]) {
		w = "the bundle has no \"proposal\"";
		goto out;
	}
	memset(&t, 0, sizeof(t));
	if (b64_decode(v[K_CONTRACT], t.enc, sizeof(t.enc), &t.enc_len)) {
		w = key_bad_b64[K_CONTRACT];
		goto out;
	}
	if (b64_decode(v[K_PROPOSAL], t.proposal, HL_ID_SIG_LEN, &n) ||
	    n != HL_ID_SIG_LEN) {
		w = key_bad_b64[K_PROPOSAL];
		goto out;
	}
	t.has_acceptance = v[K_ACCEPTANCE] != NULL;
	if (t.has_acceptance &&
	    (b64_decode(v[K_ACCEPTANCE], t.acceptance, HL_ID_SIG_LEN, &n) ||
	     n != HL_ID_SIG_LEN)) {
		w = key_bad_b64[K_ACCEPTANCE];
		goto out;
	}
	t.has_decline = v[K_DECLINE] != NULL;
	if (t.has_decline &&
	    (b64_decode(v[K_DECLINE], t.decline, HL_ID_SIG_LEN, &n) ||
	     n != HL_ID_SIG_LEN)) {
		w = key_bad_b64[K_DECLINE];
		goto out;
	}
	if (hl_contract_decode_why(t.enc, t.enc_len, &t.c, &w))
		goto out;
	hl_contract_hash(t.enc, t.enc_len, t.hash);
	err = hl_contract_verify(&t, &w);
	if (err)
		goto out;
	*b = t;
out:
	json_decref(root);
	if (err && why)
		*why = w;
	return err;
}
