/*
 * sign.c - proposal, acceptance and decline signatures of call contracts
 * and the verification of a whole bundle (docs/protocol.md §5.2).
 *
 * Each signature covers a domain-separated message (the label includes
 * its "\0" terminator, so no label is a prefix of another message):
 *   proposal   = Sign(proposer, "hotline contract proposal v1\0" || hash)
 *   acceptance = Sign(invitee, "hotline contract acceptance v1\0" || hash
 *                              || proposal)
 *   decline    = Sign(invitee, "hotline contract decline v1\0" || hash)
 * Ed25519 comes straight from libsodium (crypto_sign_detached and
 * crypto_sign_verify_detached, which refuse small-order keys and
 * non-canonical signatures), on struct hl_identity's key fields, so this
 * module does not depend on src/identity's code.  Verification only ever
 * uses the keys written in the contract itself.
 */
#include <string.h>

#include <sodium.h>

#include "contract_internal.h"

#define MSG_MAX                                                        \
	(sizeof(HL_CONTRACT_LABEL_ACCEPTANCE) + HL_CONTRACT_HASH_LEN + \
	 HL_ID_SIG_LEN)

enum sig_kind { SIG_PROPOSAL, SIG_ACCEPTANCE, SIG_DECLINE };

/*
 * The signed message of one kind: label with its NUL, the hash, and for
 * an acceptance the proposal signature.  Returns its length.
 */
static size_t sig_message(enum sig_kind kind,
			  const uint8_t hash[HL_CONTRACT_HASH_LEN],
			  const uint8_t proposal[HL_ID_SIG_LEN],
			  uint8_t msg[MSG_MAX])
{
	static const char lp[] = HL_CONTRACT_LABEL_PROPOSAL;
	static const char la[] = HL_CONTRACT_LABEL_ACCEPTANCE;
	static const char ld[] = HL_CONTRACT_LABEL_DECLINE;
	const char *label = kind == SIG_PROPOSAL     ? lp
			    : kind == SIG_ACCEPTANCE ? la
						     : ld;
	size_t n = kind == SIG_PROPOSAL	    ? sizeof(lp)
		   : kind == SIG_ACCEPTANCE ? sizeof(la)
					    : sizeof(ld);

	memcpy(msg, label, n); /* sizeof counts the terminating NUL */
	memcpy(msg + n, hash, HL_CONTRACT_HASH_LEN);
	n += HL_CONTRACT_HASH_LEN;
	if (kind == SIG_ACCEPTANCE) {
		memcpy(msg + n, proposal, HL_ID_SIG_LEN);
		n += HL_ID_SIG_LEN;
	}
	return n;
}

/* 0 if sig is pk's signature of msg, else HL_EAUTH. */
static int check_sig(const uint8_t pk[HL_ID_PK_LEN], const uint8_t *msg,
		     size_t n, const uint8_t sig[HL_ID_SIG_LEN])
{
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0 ? 0 : HL_EAUTH;
}

/*
 * Sign msg as id, who must be the party pk.  The signature is checked
 * against pk before it is returned, so an identity whose secret key does
 * not belong to its public key (or a faulty signature) is refused with
 * HL_EINVAL instead of producing a bundle nobody can verify.
 */
static int sign_as(const struct hl_identity *id, const uint8_t pk[HL_ID_PK_LEN],
		   const uint8_t *msg, size_t n, uint8_t sig[HL_ID_SIG_LEN])
{
	uint8_t s[HL_ID_SIG_LEN];

	if (memcmp(id->pk, pk, HL_ID_PK_LEN) != 0)
		return HL_EINVAL;
	if (sodium_init() < 0 || crypto_sign_detached(s, NULL, msg, n, id->sk))
		return HL_ECRYPTO;
	if (check_sig(pk, msg, n, s))
		return HL_EINVAL;
	memcpy(sig, s, HL_ID_SIG_LEN);
	return 0;
}

/*
 * Encode c, hash it and sign the proposal as id (who must be
 * c->proposer: HL_EINVAL otherwise, or if c fails hl_contract_check).
 * *out is filled only on success, in the proposed state; out->c is the
 * contract as decoded from the encoding (unused slots zeroed).
 */
int hl_contract_propose(const struct hl_contract *c,
			const struct hl_identity *id,
			struct hl_contract_bundle *out)
{
	struct hl_contract_bundle b;
	uint8_t msg[MSG_MAX];
	size_t n;
	int err;

	if (!c || !id || !out)
		return HL_EINVAL;
	memset(&b, 0, sizeof(b));
	err = hl_contract_encode(c, b.enc, sizeof(b.enc), &b.enc_len);
	if (err)
		return err == HL_ETOOBIG ? HL_EINVAL : err;
	if (HL_NEVER(hl_contract_decode(b.enc, b.enc_len, &b.c)))
		return HL_EINVAL;
	hl_contract_hash(b.enc, b.enc_len, b.hash);
	n = sig_message(SIG_PROPOSAL, b.hash, NULL, msg);
	err = sign_as(id, b.c.proposer, msg, n, b.proposal);
	if (err)
		return err;
	*out = b;
	return 0;
}

/*
 * Add the invitee's answer of one kind to b after verifying it.  The
 * opposite answer already present is HL_ESTATE; the same kind is signed
 * again (Ed25519 is deterministic: the same bytes).
 */
static int answer(struct hl_contract_bundle *b, const struct hl_identity *id,
		  enum sig_kind kind)
{
	uint8_t msg[MSG_MAX], sig[HL_ID_SIG_LEN];
	size_t n;
	int err;

	if (!b || !id)
		return HL_EINVAL;
	if (kind == SIG_ACCEPTANCE ? b->has_decline : b->has_acceptance)
		return HL_ESTATE;
	err = hl_contract_verify(b, NULL);
	if (err)
		return err;
	n = sig_message(kind, b->hash, b->proposal, msg);
	err = sign_as(id, b->c.invitee, msg, n, sig);
	if (err)
		return err;
	if (kind == SIG_ACCEPTANCE) {
		memcpy(b->acceptance, sig, HL_ID_SIG_LEN);
		b->has_acceptance = true;
	} else {
		memcpy(b->decline, sig, HL_ID_SIG_LEN);
		b->has_decline = true;
	}
	return 0;
}

/*
 * Countersign b as its invitee.  b must verify (its error otherwise),
 * must not carry a decline (HL_ESTATE), and id must be the invitee
 * (HL_EINVAL).  b is changed only on success.
 */
int hl_contract_accept(struct hl_contract_bundle *b,
		       const struct hl_identity *id)
{
	return answer(b, id, SIG_ACCEPTANCE);
}

/* Sign a decline of b as its invitee; as hl_contract_accept. */
int hl_contract_decline(struct hl_contract_bundle *b,
			const struct hl_identity *id)
{
	return answer(b, id, SIG_DECLINE);
}

/*
 * Verify everything the bundle claims, structure first, then signatures:
 * enc is a canonical contract, b->c says the same as enc, b->hash is its
 * hash, not both answers; then the proposal (by the contract's proposer)
 * and the answer present (by the contract's invitee).  Nothing about time:
 * whether now is inside the window is the caller's question.
 */
int hl_contract_verify(const struct hl_contract_bundle *b, const char **why)
{
	struct hl_contract t;
	uint8_t again[HL_CONTRACT_MAX_LEN], hash[HL_CONTRACT_HASH_LEN];
	uint8_t msg[MSG_MAX];
	const char *w = NULL;
	size_t n;
	int err = HL_EPARSE;

	if (!b) {
		w = "no bundle";
		err = HL_EINVAL;
		goto out;
	}
	if (b->enc_len > sizeof(b->enc)) {
		w = "the contract encoding is too long";
		goto out;
	}
	if (hl_contract_decode_why(b->enc, b->enc_len, &t, &w))
		goto out;
	if (hl_contract_encode(&b->c, again, sizeof(again), &n) ||
	    n != b->enc_len || memcmp(again, b->enc, n) != 0) {
		w = "the bundle's contract differs from its encoding";
		goto out;
	}
	hl_contract_hash(b->enc, b->enc_len, hash);
	if (memcmp(hash, b->hash, sizeof(hash)) != 0) {
		w = "the bundle's hash is not its contract's hash";
		goto out;
	}
	if (b->has_acceptance && b->has_decline) {
		w = "the bundle has both an acceptance and a decline";
		goto out;
	}
	n = sig_message(SIG_PROPOSAL, hash, NULL, msg);
	err = check_sig(t.proposer, msg, n, b->proposal);
	if (err) {
		w = "the proposal signature is not valid";
		goto out;
	}
	if (b->has_acceptance) {
		n = sig_message(SIG_ACCEPTANCE, hash, b->proposal, msg);
		err = check_sig(t.invitee, msg, n, b->acceptance);
		if (err) {
			w = "the acceptance signature is not valid";
			goto out;
		}
	}
	if (b->has_decline) {
		n = sig_message(SIG_DECLINE, hash, NULL, msg);
		err = check_sig(t.invitee, msg, n, b->decline);
		if (err) {
			w = "the decline signature is not valid";
			goto out;
		}
	}
	err = 0;
out:
	if (err && why)
		*why = w;
	return err;
}

/*
 * State as the bundle claims it (not verified): a decline wins, so an
 * invalid bundle holding both answers never looks confirmed.
 */
enum hl_contract_state hl_contract_bundle_state(
	const struct hl_contract_bundle *b)
{
	if (b->has_decline)
		return HL_CONTRACT_DECLINED;
	if (b->has_acceptance)
		return HL_CONTRACT_CONFIRMED;
	return HL_CONTRACT_PROPOSED;
}
