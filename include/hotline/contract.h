/*
 * hotline/contract.h - signed call contracts.
 *
 * A contract says who meets whom, when, about what and under which policy.
 * Its canonical encoding (docs/protocol.md §5.2) is versioned and strict:
 * a decoder accepts exactly the bytes the encoder produces (re-encoding a
 * decoded contract gives the same bytes), so a signature covers one and
 * only one meaning.  The proposer signs it; the invitee countersigns it
 * (or signs a decline); both signatures are kept with the contract in a
 * "bundle".  The contract hash (SHA-256 of the encoding) binds the call's
 * key exchange to it.
 *
 * Signatures (Ed25519):
 *   proposal   = Sign(proposer, "hotline contract proposal v1\0" || hash)
 *   acceptance = Sign(invitee, "hotline contract acceptance v1\0" || hash
 *                              || proposal)
 *   decline    = Sign(invitee, "hotline contract decline v1\0" || hash)
 */
#ifndef HOTLINE_CONTRACT_H
#define HOTLINE_CONTRACT_H

#include "hotline/base.h"
#include "hotline/identity.h"

#define HL_CALL_ID_LEN		 16
#define HL_CONTRACT_HASH_LEN	 32
#define HL_CONTRACT_MAX_TOPICS	 16
#define HL_CONTRACT_TOPIC_MAX	 256 /* bytes of UTF-8 */
#define HL_CONTRACT_MAX_SUITES	 8
#define HL_CONTRACT_MAX_LEN	 8192 /* buffer bound; valid ones <= 4323 */
#define HL_CONTRACT_MAX_DURATION (7u * 24 * 3600)
#define HL_CONTRACT_JSON_MAX	 65536 /* largest bundle JSON text read */

/* Policy bits (unknown bits are refused in version 1). */
enum {
	HL_POLICY_RELAY_ONLY = 1u << 0,	  /* media only through TURN */
	HL_POLICY_NO_RECORDING = 1u << 1, /* --record is refused */
	HL_POLICY_PQ_REQUIRED = 1u << 2,  /* only post-quantum AKE suites */
	HL_POLICY_KNOWN = 0x7,
};

struct hl_contract {
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t proposer[HL_ID_PK_LEN];
	uint8_t invitee[HL_ID_PK_LEN];
	uint64_t not_before, not_after; /* Unix seconds, UTC */
	uint64_t created;
	uint32_t policy;
	uint8_t n_suites;
	uint16_t suites[HL_CONTRACT_MAX_SUITES]; /* AKE suites, ascending */
	char proposer_name[HL_ID_NAME_MAX + 1];	 /* as the proposer calls
						    itself */
	uint8_t n_topics;
	char topics[HL_CONTRACT_MAX_TOPICS][HL_CONTRACT_TOPIC_MAX + 1];
};

/*
 * Check every field (sizes, UTF-8 without control characters, window
 * not_before < not_after <= not_before + 7 days, known policy bits,
 * suites ascending and unique, two different parties).  On failure
 * (HL_EINVAL) *why (if not NULL) names the problem in a few words, a
 * static string; topics are counted from 1 ("topic 3 is not valid UTF-8").
 * Control characters: U+0000..U+001F, U+007F and U+0080..U+009F.
 */
int hl_contract_check(const struct hl_contract *c,
		      const char **why) HL_MUST_CHECK;
int hl_contract_encode(const struct hl_contract *c, uint8_t *out, size_t cap,
		       size_t *len) HL_MUST_CHECK;
/* HL_EPARSE for anything but a canonical version-1 encoding. */
int hl_contract_decode(const uint8_t *in, size_t len,
		       struct hl_contract *c) HL_MUST_CHECK;
void hl_contract_hash(const uint8_t *enc, size_t len,
		      uint8_t hash[HL_CONTRACT_HASH_LEN]);

/* Call ids are shown as 32 lowercase hex digits. */
void hl_call_id_to_text(const uint8_t id[HL_CALL_ID_LEN], char out[33]);
int hl_call_id_from_text(const char *text,
			 uint8_t id[HL_CALL_ID_LEN]) HL_MUST_CHECK;

enum hl_contract_state {
	HL_CONTRACT_PROPOSED = 1, /* signed by the proposer only */
	HL_CONTRACT_CONFIRMED,	  /* countersigned */
	HL_CONTRACT_DECLINED,	  /* the invitee signed a decline */
};

const char *hl_contract_state_name(enum hl_contract_state s);

/* A contract with its signatures, as it travels and is stored. */
struct hl_contract_bundle {
	uint8_t enc[HL_CONTRACT_MAX_LEN];
	size_t enc_len;
	struct hl_contract c; /* decoded from enc */
	uint8_t hash[HL_CONTRACT_HASH_LEN];
	uint8_t proposal[HL_ID_SIG_LEN];
	bool has_acceptance, has_decline;
	uint8_t acceptance[HL_ID_SIG_LEN];
	uint8_t decline[HL_ID_SIG_LEN];
};

/*
 * Encode c and sign it as its proposer (id must be c->proposer, and c
 * valid: HL_EINVAL otherwise).  *out is written only on success.
 */
int hl_contract_propose(const struct hl_contract *c,
			const struct hl_identity *id,
			struct hl_contract_bundle *out) HL_MUST_CHECK;
/*
 * Countersign, or sign a decline, as the invitee (id must be it:
 * HL_EINVAL).  The bundle must verify first (its error otherwise); the
 * opposite answer already present is HL_ESTATE.  b changes only on success.
 */
int hl_contract_accept(struct hl_contract_bundle *b,
		       const struct hl_identity *id) HL_MUST_CHECK;
int hl_contract_decline(struct hl_contract_bundle *b,
			const struct hl_identity *id) HL_MUST_CHECK;
/*
 * Verify everything a bundle claims: canonical encoding, a valid contract,
 * the proposal signature, and the acceptance or decline if present (never
 * both).  HL_EAUTH with *why naming the bad signature, HL_EPARSE with *why
 * for a bad encoding or field.
 */
int hl_contract_verify(const struct hl_contract_bundle *b,
		       const char **why) HL_MUST_CHECK;
enum hl_contract_state hl_contract_bundle_state(
	const struct hl_contract_bundle *b);

/*
 * Bundles as JSON text (the form the server and the home folder use):
 * {"contract": b64, "proposal": b64, "acceptance": b64?, "decline": b64?}
 * with base64url without padding.  to_json: *out hl_malloc'd.  from_json
 * decodes and runs hl_contract_verify (HL_EPARSE/HL_EAUTH, *why); it
 * refuses unknown keys, null values and padded or non-canonical base64,
 * and text longer than HL_CONTRACT_JSON_MAX (HL_ETOOBIG).
 */
int hl_contract_bundle_to_json(const struct hl_contract_bundle *b,
			       char **out) HL_MUST_CHECK;
int hl_contract_bundle_from_json(const char *json, size_t len,
				 struct hl_contract_bundle *b,
				 const char **why) HL_MUST_CHECK;

#endif /* HOTLINE_CONTRACT_H */
