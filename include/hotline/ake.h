/*
 * hotline/ake.h - the authenticated key exchange of a call (sans-IO).
 *
 * Four messages between the contract's two identities, relayed by the
 * server but end to end (docs/protocol.md §5.4), SIGMA-style:
 *
 *   M1  initiator -> responder: suites offered, call id, contract hash,
 *       ephemeral X25519 key, nonce, the initiator's transport parameters
 *   M2  responder -> initiator: suite chosen, the offer as received, the
 *       suites it supports, ephemeral key, nonce, transport parameters,
 *       signature and MAC over the transcript
 *   M3  initiator -> responder: signature and MAC over the transcript
 *   M4  responder -> initiator: key confirmation (a MAC over the whole
 *       transcript), sent only once M3 checked
 *
 * The responder is done after M3, the initiator only after M4: neither
 * reports success (nor gives out keys or the SAS) unless the other side
 * completed the same exchange.
 *
 * The proposer of the contract is always the initiator.  Both identities
 * are the contract's; the transcript binds the contract hash, both
 * identities, both ephemeral keys and nonces, both transport parameters
 * (the DTLS certificate fingerprints and ICE credentials of the call, so
 * the later DTLS-SRTP layer is tied to the identities) and the suite list
 * offered, so a stripped or changed list is detected (downgrade).  The
 * results: a 4-word SAS to read aloud, per-direction SFrame base keys for
 * the call engine (struct hl_call_keys), the peer's transport parameters.
 *
 * Suites: 0x0001 = X25519 + Ed25519 + HKDF-SHA256, SFrame suite 0x0004.
 * 0x0002 is reserved for the X25519 + ML-KEM-768 hybrid.  Every failure is
 * one opaque HL_EAUTH for the peer, with a reason for the local user.
 */
#ifndef HOTLINE_AKE_H
#define HOTLINE_AKE_H

#include "hotline/base.h"
#include "hotline/contract.h"
#include "hotline/core.h"
#include "hotline/identity.h"

enum {
	HL_AKE_SUITE_X25519_ED25519_SHA256 = 0x0001,
	HL_AKE_SUITE_HYBRID_MLKEM768 = 0x0002, /* reserved, not built */
};

#define HL_AKE_MSG_MAX	     8192
#define HL_AKE_TRANSPORT_MAX 4200
#define HL_SAS_WORDS	     4
#define HL_SAS_TEXT_MAX	     64

enum hl_ake_role {
	HL_AKE_INITIATOR = 0, /* the contract's proposer */
	HL_AKE_RESPONDER = 1, /* the contract's invitee */
};

struct hl_ake_params {
	enum hl_ake_role role;
	const struct hl_identity *me;
	uint8_t peer[HL_ID_PK_LEN];
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t contract_hash[HL_CONTRACT_HASH_LEN];
	uint32_t policy;	/* the contract's (PQ_REQUIRED is honoured) */
	const uint16_t *suites; /* acceptable suites (the contract's) */
	size_t n_suites;
	const uint8_t *transport; /* our transport parameters (opaque) */
	size_t transport_len;
	struct hl_rng rng;
};

struct hl_ake_result {
	uint16_t suite;
	char sas[HL_SAS_TEXT_MAX]; /* e.g. "amber falcon quilt river" */
	struct hl_call_keys keys;  /* per direction, for SFrame */
	uint8_t peer_transport[HL_AKE_TRANSPORT_MAX];
	size_t peer_transport_len;
	uint8_t transcript_hash[32]; /* TH4: the whole exchange (§5.4) */
};

struct hl_ake;

/*
 * Copy the parameters (the identity pointer must outlive the object).
 * HL_EINVAL for a bad role, no identity or rng, a suite list that is not
 * 1..8 ascending unique suites, unknown policy bits, transport parameters
 * over HL_AKE_TRANSPORT_MAX, an identity whose secret and public keys
 * disagree, or a peer equal to ourselves.  Free with hl_ake_free().
 */
int hl_ake_new(struct hl_ake **out,
	       const struct hl_ake_params *p) HL_MUST_CHECK;
/* Wipes every secret. */
void hl_ake_free(struct hl_ake *a);

/*
 * Initiator only: the first message.  HL_EAUTH (with hl_ake_error()) if
 * no suite can be offered, e.g. "post-quantum suite required by the
 * contract but not available"; HL_ESTATE on the responder or when called
 * twice (both end the exchange); HL_ETOOBIG if cap is too small (nothing
 * changes; HL_AKE_MSG_MAX always suffices).
 */
int hl_ake_start(struct hl_ake *a, uint8_t *out, size_t cap,
		 size_t *len) HL_MUST_CHECK;
/*
 * Process a message from the peer.  On success *len is the reply to send
 * (M2 for M1, M3 for M2, M4 for M3; 0 after M4, when out may be NULL).
 * HL_EAUTH on anything wrong, including a message the state does not
 * expect (the responder expects M1 then M3, the initiator M2 then M4),
 * with hl_ake_error() saying what; the exchange is then dead (secrets
 * wiped, every later call fails).
 * HL_ESTATE for a message before hl_ake_start() (also fatal).
 * HL_ETOOBIG if the reply does not fit in cap: nothing changes, the same
 * message may be given again with a larger buffer (HL_AKE_MSG_MAX always
 * suffices).
 */
int hl_ake_recv(struct hl_ake *a, const uint8_t *in, size_t in_len,
		uint8_t *out, size_t cap, size_t *len) HL_MUST_CHECK;
/* True once complete: the responder after M3, the initiator after M4. */
bool hl_ake_done(const struct hl_ake *a);
/* After done: the result (keys copied out; wipe them when finished). */
int hl_ake_result(const struct hl_ake *a,
		  struct hl_ake_result *r) HL_MUST_CHECK;
/* Why the exchange failed, one sentence for the user (never NULL). */
const char *hl_ake_error(const struct hl_ake *a);

/* The SAS word list (256 words). */
const char *hl_sas_word(uint8_t i);

#endif /* HOTLINE_AKE_H */
