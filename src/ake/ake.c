/*
 * ake.c - the authenticated key exchange of a call (docs/protocol.md §5.4),
 * sans-IO: bytes in, bytes out, randomness from the injected hl_rng, no
 * clock, no socket.
 *
 * A SIGMA-style exchange between the contract's two identities:
 *
 *   I -> R  M1: offered suites, call id, contract hash, e_I, nonce_I, t_I
 *   R -> I  M2: chosen suite, the offer as received, R's supported suites,
 *               e_R, nonce_R, t_R, sig_R, mac_R
 *   I -> R  M3: sig_I, mac_I
 *   R -> I  M4: mac_F (R's final key confirmation)
 *
 *   TH2 = SHA-256("hotline ake v1" || M1 || M2 up to sig_R)
 *   dh  = X25519(e_I, e_R)             (all-zero refused)
 *   PRK = HKDF-Extract(salt = TH2, dh)
 *   k_X = HKDF-Expand(PRK, label_X, 32) for "mac R", "mac I",
 *         "sframe I->R", "sframe R->I", "finished R"
 *   sig_R = Sign(R, "hotline ake responder v1\0" || TH2 || pk_I || pk_R)
 *   mac_R = HMAC-SHA256(k_mac_R, TH2 || sig_R)
 *   TH3 = SHA-256(TH2 || sig_R || mac_R)
 *   sig_I = Sign(I, "hotline ake initiator v1\0" || TH3 || pk_I || pk_R)
 *   mac_I = HMAC-SHA256(k_mac_I, TH3 || sig_I)
 *   SAS = HKDF-Expand(PRK, "sas" || TH3, 4)
 *   TH4 = SHA-256(TH3 || sig_I || mac_I), the result's transcript hash
 *   mac_F = HMAC-SHA256(k_fin_R, TH4)
 *
 * Why M4: after M3 the initiator holds every key and the SAS, but does
 * not know whether the responder accepted M3 (an attacker may have kept
 * M3 from it, or made it fail earlier, e.g. by reflecting M2 back to
 * it).  A valid mac_F can only come from a holder of PRK, and R sends it
 * only after M3 verified, over TH4, which covers every message; so the
 * initiator reports success only once the responder has completed this
 * very exchange.  k_fin_R is kept by each side only until M4 is made or
 * checked.
 *
 * State machine (fixed roles; the contract's proposer is the initiator):
 *   initiator: NEW --start/M1--> WAIT_M2 --M2/M3--> WAIT_M4 --M4--> DONE
 *   responder: WAIT_M1 --M1/M2--> WAIT_M3 --M3/M4--> DONE
 * (X/Y: on X, reply Y.)  Anything else, and every failed check, moves to
 * FAILED: secrets are wiped at once, the reason is kept for
 * hl_ake_error(), and every later call fails.  Checks run cheapest and
 * most specific first, so that the reason names the likeliest cause;
 * none of them is needed for security except the signature and MAC
 * checks, which cover every byte of every message (through TH2, TH3 and
 * TH4).
 *
 * Primitives: libsodium (X25519, Ed25519, HMAC-SHA256, SHA-256) and the
 * project's OpenSSL HKDF (hotline/crypto.h).  Identity keys are used
 * directly through libsodium (struct hl_identity's 64-byte secret key).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "hotline/crypto.h"

#include "ake_internal.h"

#define KEY_LEN	      32 /* every derived key and hash here */
#define SAS_LEN	      4
#define WHY_MAX	      224
#define TH_LABEL      "hotline ake v1"
#define SIG_R_LABEL   "hotline ake responder v1" /* + its NUL */
#define SIG_I_LABEL   "hotline ake initiator v1"
#define SIG_LABEL_LEN 25 /* 24 characters and the NUL */

enum ake_state {
	ST_NEW,	    /* initiator, before hl_ake_start() */
	ST_WAIT_M1, /* responder */
	ST_WAIT_M2, /* initiator */
	ST_WAIT_M3, /* responder */
	ST_WAIT_M4, /* initiator, after sending M3 */
	ST_DONE,
	ST_FAILED,
};

struct hl_ake {
	enum hl_ake_role role;
	enum ake_state state;
	const struct hl_identity *me;
	uint8_t pk_i[HL_ID_PK_LEN], pk_r[HL_ID_PK_LEN];
	uint8_t peer[HL_ID_PK_LEN];
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t contract_hash[HL_CONTRACT_HASH_LEN];
	uint32_t policy;
	struct hl_ake_suites contract; /* the contract's suites */
	struct hl_ake_suites impl;     /* suites this build runs */
	uint8_t transport[HL_AKE_TRANSPORT_MAX];
	size_t transport_len;
	struct hl_rng rng;

	/* The exchange. */
	struct hl_ake_suites offer; /* I: sent; R: received */
	uint16_t suite;
	uint8_t e_sk[KEY_LEN]; /* our ephemeral secret (secret) */
	uint8_t e_pk[HL_AKE_PUB_LEN];
	crypto_hash_sha256_state th; /* I: TH_LABEL || M1 so far */
	uint8_t th3[KEY_LEN];	     /* R: for checking M3 */
	uint8_t k_mac_i[KEY_LEN];    /* R: for checking M3 (secret) */
	uint8_t k_fin_r[KEY_LEN];    /* until M4 is made or checked (secret) */
	uint8_t m3_hash[KEY_LEN];    /* I: SHA-256 of the M3 it sent */
	uint8_t k_send[KEY_LEN], k_recv[KEY_LEN]; /* secret */
	uint8_t sas[SAS_LEN];
	uint8_t th4[KEY_LEN];
	uint8_t peer_transport[HL_AKE_TRANSPORT_MAX];
	size_t peer_transport_len;

	char why[WHY_MAX];
};

/* ---- suites ----------------------------------------------------------- */

static bool suite_is_pq(uint16_t s)
{
	return s == HL_AKE_SUITE_HYBRID_MLKEM768;
}

static bool suites_has(const struct hl_ake_suites *l, uint16_t s)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i] == s)
			return true;
	return false;
}

static bool suites_equal(const struct hl_ake_suites *a,
			 const struct hl_ake_suites *b)
{
	return a->n == b->n && memcmp(a->s, b->s, a->n * sizeof(a->s[0])) == 0;
}

/*
 * What we accept, ascending: the contract's suites that we implement,
 * post-quantum ones only if the policy requires them.  I offers exactly
 * this list; R sends it as "supported".  Possibly empty.
 */
static void acceptable(const struct hl_ake *a, struct hl_ake_suites *out)
{
	bool pq_only = a->policy & HL_POLICY_PQ_REQUIRED;

	out->n = 0;
	for (size_t i = 0; i < a->contract.n; i++) {
		uint16_t s = a->contract.s[i];

		if (suites_has(&a->impl, s) && (!pq_only || suite_is_pq(s)))
			out->s[out->n++] = s;
	}
}

/* Highest suite in both lists, 0 if none. */
static uint16_t best_common(const struct hl_ake_suites *x,
			    const struct hl_ake_suites *y)
{
	uint16_t best = 0;

	for (size_t i = 0; i < x->n; i++)
		if (suites_has(y, x->s[i]) && x->s[i] > best)
			best = x->s[i];
	return best;
}

static bool pq_implemented(const struct hl_ake *a)
{
	for (size_t i = 0; i < a->impl.n; i++)
		if (suite_is_pq(a->impl.s[i]))
			return true;
	return false;
}

/* "0x0001 0x0002" into buf. */
static const char *suites_text(const struct hl_ake_suites *l, char *buf,
			       size_t cap)
{
	size_t pos = 0;

	buf[0] = 0;
	for (size_t i = 0; i < l->n && pos < cap; i++) {
		int n = snprintf(buf + pos, cap - pos, "%s0x%04x", i ? " " : "",
				 l->s[i]);

		if (n < 0)
			break;
		pos += (size_t)n;
	}
	if (l->n == 0)
		snprintf(buf, cap, "none");
	return buf;
}

/* ---- failure ---------------------------------------------------------- */

static void wipe_secrets(struct hl_ake *a)
{
	hl_wipe(a->e_sk, sizeof(a->e_sk));
	hl_wipe(a->k_mac_i, sizeof(a->k_mac_i));
	hl_wipe(a->k_fin_r, sizeof(a->k_fin_r));
	hl_wipe(a->k_send, sizeof(a->k_send));
	hl_wipe(a->k_recv, sizeof(a->k_recv));
	hl_wipe(a->sas, sizeof(a->sas));
	hl_wipe(a->th4, sizeof(a->th4));
}

/* Kill the exchange: wipe its secrets, keep the reason, return err. */
static int fail(struct hl_ake *a, int err, const char *fmt, ...)
	HL_PRINTF(3, 4);

static int fail(struct hl_ake *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	wipe_secrets(a);
	a->state = ST_FAILED;
	return err;
}

/* ---- primitives ------------------------------------------------------- */

static void fill(struct hl_ake *a, uint8_t *buf, size_t len)
{
	a->rng.fill(a->rng.ctx, buf, len);
}

/* A fresh ephemeral X25519 key pair from 32 bytes of the injected rng. */
static int ephemeral(struct hl_ake *a)
{
	fill(a, a->e_sk, sizeof(a->e_sk));
	if (crypto_scalarmult_base(a->e_pk, a->e_sk) != 0)
		return HL_ECRYPTO;
	return 0;
}

/* label(25 bytes with its NUL) || th || pk_I || pk_R */
static void sig_message(const struct hl_ake *a, const char *label,
			const uint8_t th[KEY_LEN],
			uint8_t out[SIG_LABEL_LEN + KEY_LEN + 2 * HL_ID_PK_LEN])
{
	memcpy(out, label, SIG_LABEL_LEN);
	memcpy(out + SIG_LABEL_LEN, th, KEY_LEN);
	memcpy(out + SIG_LABEL_LEN + KEY_LEN, a->pk_i, HL_ID_PK_LEN);
	memcpy(out + SIG_LABEL_LEN + KEY_LEN + HL_ID_PK_LEN, a->pk_r,
	       HL_ID_PK_LEN);
}

#define SIG_MSG_LEN (SIG_LABEL_LEN + KEY_LEN + 2 * HL_ID_PK_LEN)

static int sign(struct hl_ake *a, const char *label, const uint8_t *th,
		uint8_t sig[HL_ID_SIG_LEN])
{
	uint8_t m[SIG_MSG_LEN];

	sig_message(a, label, th, m);
	if (crypto_sign_ed25519_detached(sig, NULL, m, sizeof(m), a->me->sk) !=
	    0)
		return HL_ECRYPTO;
	return 0;
}

static bool sig_ok(const struct hl_ake *a, const char *label, const uint8_t *th,
		   const uint8_t *sig)
{
	uint8_t m[SIG_MSG_LEN];

	sig_message(a, label, th, m);
	return crypto_sign_ed25519_verify_detached(sig, m, sizeof(m),
						   a->peer) == 0;
}

/* HMAC-SHA256(key, th || sig) */
static void mac(const uint8_t key[KEY_LEN], const uint8_t th[KEY_LEN],
		const uint8_t sig[HL_ID_SIG_LEN], uint8_t out[HL_AKE_MAC_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, KEY_LEN);
	crypto_auth_hmacsha256_update(&st, th, KEY_LEN);
	crypto_auth_hmacsha256_update(&st, sig, HL_ID_SIG_LEN);
	crypto_auth_hmacsha256_final(&st, out);
	hl_wipe(&st, sizeof(st));
}

/* mac_F = HMAC-SHA256(k_fin_R, TH4): M4's whole content. */
static void fin_mac(const uint8_t key[KEY_LEN], const uint8_t th4[KEY_LEN],
		    uint8_t out[HL_AKE_MAC_LEN])
{
	crypto_auth_hmacsha256(out, th4, KEY_LEN, key);
}

/* SHA-256(th || sig || mac): TH3 from TH2, TH4 from TH3. */
static void th_next(const uint8_t th[KEY_LEN], const uint8_t *sig,
		    const uint8_t *m, uint8_t out[KEY_LEN])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, th, KEY_LEN);
	crypto_hash_sha256_update(&st, sig, HL_ID_SIG_LEN);
	crypto_hash_sha256_update(&st, m, HL_AKE_MAC_LEN);
	crypto_hash_sha256_final(&st, out);
}

static int expand(const uint8_t prk[KEY_LEN], const char *label, uint8_t *out,
		  size_t len)
{
	return hl_crypto_hkdf_expand(HL_CRYPTO_SHA256, prk, KEY_LEN,
				     (const uint8_t *)label, strlen(label), out,
				     len);
}

/* Derived from PRK (all secret). */
struct keys {
	uint8_t mac_r[KEY_LEN], mac_i[KEY_LEN];
	uint8_t i2r[KEY_LEN], r2i[KEY_LEN];
	uint8_t fin_r[KEY_LEN];
	uint8_t prk[KEY_LEN];
};

/*
 * dh = X25519(our e_sk, their e); PRK = HKDF-Extract(TH2, dh); the five
 * keys.  Wipes e_sk and dh whatever happens.  HL_EAUTH for an all-zero
 * dh (a low-order public key), HL_ECRYPTO if the backend fails.  On
 * success k->prk is kept for the SAS; the caller wipes *k.
 */
static int derive(struct hl_ake *a, const uint8_t *peer_e,
		  const uint8_t th2[KEY_LEN], struct keys *k)
{
	uint8_t dh[KEY_LEN];
	int err = 0;

	if (crypto_scalarmult(dh, a->e_sk, peer_e) != 0 ||
	    sodium_is_zero(dh, sizeof(dh))) {
		err = HL_EAUTH;
		goto out;
	}
	err = hl_crypto_hkdf_extract(HL_CRYPTO_SHA256, th2, KEY_LEN, dh,
				     sizeof(dh), k->prk);
	if (!err)
		err = expand(k->prk, "mac R", k->mac_r, KEY_LEN);
	if (!err)
		err = expand(k->prk, "mac I", k->mac_i, KEY_LEN);
	if (!err)
		err = expand(k->prk, "sframe I->R", k->i2r, KEY_LEN);
	if (!err)
		err = expand(k->prk, "sframe R->I", k->r2i, KEY_LEN);
	if (!err)
		err = expand(k->prk, "finished R", k->fin_r, KEY_LEN);
	if (err && err != HL_EAUTH)
		err = HL_ECRYPTO;
out:
	hl_wipe(dh, sizeof(dh));
	hl_wipe(a->e_sk, sizeof(a->e_sk));
	return err;
}

/* SAS bytes = HKDF-Expand(PRK, "sas" || TH3, 4). */
static int sas_derive(const uint8_t prk[KEY_LEN], const uint8_t th3[KEY_LEN],
		      uint8_t out[SAS_LEN])
{
	uint8_t info[3 + KEY_LEN];

	memcpy(info, "sas", 3);
	memcpy(info + 3, th3, KEY_LEN);
	return hl_crypto_hkdf_expand(HL_CRYPTO_SHA256, prk, KEY_LEN, info,
				     sizeof(info), out, SAS_LEN)
		       ? HL_ECRYPTO
		       : 0;
}

/* Keep the per-direction SFrame keys for our role. */
static void keep_keys(struct hl_ake *a, const struct keys *k)
{
	bool init = a->role == HL_AKE_INITIATOR;

	memcpy(a->k_send, init ? k->i2r : k->r2i, KEY_LEN);
	memcpy(a->k_recv, init ? k->r2i : k->i2r, KEY_LEN);
}

/* ---- object ----------------------------------------------------------- */

static bool params_suites_ok(const struct hl_ake_params *p)
{
	if (!p->suites || p->n_suites < 1 || p->n_suites > HL_AKE_SUITES_MAX)
		return false;
	for (size_t i = 1; i < p->n_suites; i++)
		if (p->suites[i] <= p->suites[i - 1])
			return false;
	return true;
}

int hl_ake_new(struct hl_ake **out, const struct hl_ake_params *p)
{
	struct hl_ake *a;

	if (!out || !p || !p->me || !p->rng.fill ||
	    (p->role != HL_AKE_INITIATOR && p->role != HL_AKE_RESPONDER) ||
	    !params_suites_ok(p) || (p->policy & ~(uint32_t)HL_POLICY_KNOWN) ||
	    p->transport_len > HL_AKE_TRANSPORT_MAX ||
	    (p->transport_len && !p->transport))
		return HL_EINVAL;
	/* Our key pair must be consistent and differ from the peer's. */
	if (memcmp(p->me->sk + 32, p->me->pk, HL_ID_PK_LEN) != 0 ||
	    memcmp(p->me->pk, p->peer, HL_ID_PK_LEN) == 0)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	a = hl_calloc(1, sizeof(*a));
	if (!a)
		return HL_ENOMEM;
	a->role = p->role;
	a->state = p->role == HL_AKE_INITIATOR ? ST_NEW : ST_WAIT_M1;
	a->me = p->me;
	memcpy(a->peer, p->peer, HL_ID_PK_LEN);
	memcpy(a->pk_i, p->role == HL_AKE_INITIATOR ? p->me->pk : p->peer,
	       HL_ID_PK_LEN);
	memcpy(a->pk_r, p->role == HL_AKE_INITIATOR ? p->peer : p->me->pk,
	       HL_ID_PK_LEN);
	memcpy(a->call_id, p->call_id, HL_CALL_ID_LEN);
	memcpy(a->contract_hash, p->contract_hash, HL_CONTRACT_HASH_LEN);
	a->policy = p->policy;
	a->contract.n = p->n_suites;
	memcpy(a->contract.s, p->suites, p->n_suites * sizeof(p->suites[0]));
	a->impl.n = 1;
	a->impl.s[0] = HL_AKE_SUITE_X25519_ED25519_SHA256;
	if (p->transport_len)
		memcpy(a->transport, p->transport, p->transport_len);
	a->transport_len = p->transport_len;
	a->rng = p->rng;
	*out = a;
	return 0;
}

void hl_ake_free(struct hl_ake *a)
{
	if (!a)
		return;
	hl_wipe(a, sizeof(*a));
	hl_free(a);
}

int hl_ake_test_add_suite(struct hl_ake *a, uint16_t suite)
{
	size_t i;

	if (!a || suite == 0 || suite == HL_AKE_SUITE_X25519_ED25519_SHA256)
		return HL_EINVAL;
	if (a->state != ST_NEW && a->state != ST_WAIT_M1)
		return HL_ESTATE;
	if (suites_has(&a->impl, suite))
		return 0;
	if (a->impl.n == HL_AKE_SUITES_MAX)
		return HL_EFULL;
	/* Keep the list ascending. */
	for (i = a->impl.n; i > 0 && a->impl.s[i - 1] > suite; i--)
		a->impl.s[i] = a->impl.s[i - 1];
	a->impl.s[i] = suite;
	a->impl.n++;
	return 0;
}

/* ---- initiator -------------------------------------------------------- */

int hl_ake_start(struct hl_ake *a, uint8_t *out, size_t cap, size_t *len)
{
	struct hl_ake_m1 m;
	uint8_t nonce[HL_AKE_NONCE_LEN], m1[HL_AKE_M1_MAX];
	size_t n = 0;
	int err;

	if (!a || !out || !len)
		return HL_EINVAL;
	if (a->state == ST_FAILED)
		return HL_EAUTH;
	if (a->role != HL_AKE_INITIATOR)
		return fail(a, HL_ESTATE,
			    "hl_ake_start() is for the initiator only (the "
			    "responder waits for M1)");
	if (a->state != ST_NEW)
		return fail(a, HL_ESTATE,
			    "hl_ake_start() was called twice for one "
			    "exchange");
	acceptable(a, &a->offer);
	if (a->offer.n == 0) {
		if (a->policy & HL_POLICY_PQ_REQUIRED)
			return fail(a, HL_EAUTH,
				    "post-quantum suite required by the "
				    "contract but not available");
		return fail(a, HL_EAUTH,
			    "none of the contract's key-exchange suites is "
			    "implemented here");
	}
	if (cap < hl_ake_m1_len(a->offer.n, a->transport_len))
		return HL_ETOOBIG;
	err = ephemeral(a);
	if (err)
		return fail(a, err, "the crypto backend failed");
	fill(a, nonce, sizeof(nonce));
	m = (struct hl_ake_m1){
		.call_id = a->call_id,
		.contract_hash = a->contract_hash,
		.offer = a->offer,
		.e = a->e_pk,
		.nonce = nonce,
		.transport = a->transport,
		.transport_len = a->transport_len,
	};
	err = hl_ake_m1_encode(&m, m1, sizeof(m1), &n);
	if (err)
		return fail(a, err, "cannot encode M1");
	crypto_hash_sha256_init(&a->th);
	crypto_hash_sha256_update(&a->th, (const uint8_t *)TH_LABEL,
				  strlen(TH_LABEL));
	crypto_hash_sha256_update(&a->th, m1, n);
	memcpy(out, m1, n);
	*len = n;
	a->state = ST_WAIT_M2;
	return 0;
}

/*
 * I, on M2: checks in this order (each with its own reason): form; the
 * offer as R received it equals ours (else the list was altered in
 * transit); the chosen suite was offered, is one R supports, and is the
 * highest suite both support (else a downgrade); R's signature over TH2
 * with the contract's key; X25519; R's MAC.  Then M3, and wait for M4:
 * the results are kept but not given out (hl_ake_done() stays false)
 * until R confirms.
 */
static int recv_m2(struct hl_ake *a, const uint8_t *in, size_t in_len,
		   uint8_t *out, size_t cap, size_t *len)
{
	struct hl_ake_m2 m;
	struct hl_ake_m3 m3;
	struct keys k;
	crypto_hash_sha256_state st;
	uint8_t th2[KEY_LEN], th3[KEY_LEN], mac_r[HL_AKE_MAC_LEN];
	uint8_t sig_i[HL_ID_SIG_LEN], mac_i[HL_AKE_MAC_LEN];
	char why[WHY_MAX], l1[64], l2[64];
	uint16_t best;
	size_t n = 0;
	int err;

	memset(&k, 0, sizeof(k));
	if (!out || cap < HL_AKE_M3_LEN)
		return HL_ETOOBIG;
	if (hl_ake_m2_decode(in, in_len, &m, why, sizeof(why))) {
		err = fail(a, HL_EAUTH, "%s", why);
		goto out;
	}
	if (!suites_equal(&m.offered, &a->offer)) {
		err = fail(a, HL_EAUTH,
			   "the suite list was altered in transit: we "
			   "offered %s, the peer received %s",
			   suites_text(&a->offer, l1, sizeof(l1)),
			   suites_text(&m.offered, l2, sizeof(l2)));
		goto out;
	}
	if (!suites_has(&a->offer, m.suite)) {
		err = fail(a, HL_EAUTH,
			   "the peer chose suite 0x%04x, which we did not "
			   "offer",
			   m.suite);
		goto out;
	}
	if (!suites_has(&m.supported, m.suite)) {
		err = fail(a, HL_EAUTH,
			   "the peer chose suite 0x%04x but does not list "
			   "it among the suites it supports",
			   m.suite);
		goto out;
	}
	best = best_common(&a->offer, &m.supported);
	if (m.suite != best) {
		err = fail(a, HL_EAUTH,
			   "the peer chose suite 0x%04x although both "
			   "support a stronger one, 0x%04x (downgrade)",
			   m.suite, best);
		goto out;
	}
	if (sodium_memcmp(m.e, a->e_pk, HL_AKE_PUB_LEN) == 0) {
		err = fail(a, HL_EAUTH,
			   "this is our own message reflected back (the "
			   "peer's ephemeral key is ours)");
		goto out;
	}
	st = a->th;
	crypto_hash_sha256_update(&st, in, m.signed_len);
	crypto_hash_sha256_final(&st, th2);
	if (!sig_ok(a, SIG_R_LABEL, th2, m.sig)) {
		err = fail(a, HL_EAUTH,
			   "the peer's signature does not verify with the "
			   "contract's key (the exchange was altered or "
			   "replayed, or someone else answered)");
		goto out;
	}
	err = derive(a, m.e, th2, &k);
	if (err == HL_EAUTH) {
		err = fail(a, err,
			   "the peer's ephemeral key gives an all-zero "
			   "shared secret (a low-order point)");
		goto out;
	}
	if (err) {
		err = fail(a, err, "the crypto backend failed");
		goto out;
	}
	mac(k.mac_r, th2, m.sig, mac_r);
	if (!hl_ct_equal(mac_r, m.mac, HL_AKE_MAC_LEN)) {
		err = fail(a, HL_EAUTH,
			   "the peer's key confirmation (MAC) does not "
			   "match: it does not hold this exchange's keys");
		goto out;
	}
	th_next(th2, m.sig, m.mac, th3);
	err = sign(a, SIG_I_LABEL, th3, sig_i);
	if (!err)
		err = sas_derive(k.prk, th3, a->sas);
	if (err) {
		err = fail(a, err, "the crypto backend failed");
		goto out;
	}
	mac(k.mac_i, th3, sig_i, mac_i);
	th_next(th3, sig_i, mac_i, a->th4);
	/* Everything read from `in` before `out` is written (they may be
	 * the same buffer). */
	memcpy(a->peer_transport, m.transport, m.transport_len);
	a->peer_transport_len = m.transport_len;
	m3.sig = sig_i;
	m3.mac = mac_i;
	err = hl_ake_m3_encode(&m3, out, cap, &n);
	if (err) {
		err = fail(a, err, "cannot encode M3");
		goto out;
	}
	crypto_hash_sha256(a->m3_hash, out, n);
	memcpy(a->k_fin_r, k.fin_r, KEY_LEN);
	keep_keys(a, &k);
	a->suite = m.suite;
	a->state = ST_WAIT_M4;
	*len = n;
out:
	hl_wipe(&k, sizeof(k));
	hl_wipe(mac_r, sizeof(mac_r));
	return err;
}

/* ---- responder -------------------------------------------------------- */

/*
 * R, on M1: form; our call; our contract; post-quantum availability when
 * the contract requires it; every offered suite allowed by the contract
 * and its policy; a suite in common.  Then M2 (the secrets for M3 and
 * M4 and the results are kept; done only once M3 checks).
 */
static int recv_m1(struct hl_ake *a, const uint8_t *in, size_t in_len,
		   uint8_t *out, size_t cap, size_t *len)
{
	struct hl_ake_m1 m;
	struct hl_ake_m2 m2;
	struct hl_ake_suites sup;
	struct keys k;
	crypto_hash_sha256_state st;
	uint8_t th2[KEY_LEN], nonce[HL_AKE_NONCE_LEN], buf[HL_AKE_M2_MAX];
	uint8_t *sig_r, *mac_r;
	char why[WHY_MAX], l1[64], l2[64];
	bool pq = a->policy & HL_POLICY_PQ_REQUIRED;
	uint16_t suite;
	size_t n = 0, need;
	int err;

	memset(&k, 0, sizeof(k));
	if (hl_ake_m1_decode(in, in_len, &m, why, sizeof(why))) {
		err = fail(a, HL_EAUTH, "%s", why);
		goto out;
	}
	if (memcmp(m.call_id, a->call_id, HL_CALL_ID_LEN) != 0) {
		err = fail(a, HL_EAUTH,
			   "this message belongs to another call (its call "
			   "id is not ours)");
		goto out;
	}
	if (memcmp(m.contract_hash, a->contract_hash, HL_CONTRACT_HASH_LEN) !=
	    0) {
		err = fail(a, HL_EAUTH,
			   "the peer's contract for this call differs from "
			   "ours (contract hash mismatch)");
		goto out;
	}
	if (pq && !pq_implemented(a)) {
		err = fail(a, HL_EAUTH,
			   "post-quantum suite required by the contract but "
			   "not available");
		goto out;
	}
	for (size_t i = 0; i < m.offer.n; i++) {
		uint16_t s = m.offer.s[i];

		if (!suites_has(&a->contract, s)) {
			err = fail(a, HL_EAUTH,
				   "the peer offered suite 0x%04x, which the "
				   "contract does not allow",
				   s);
			goto out;
		}
		if (pq && !suite_is_pq(s)) {
			err = fail(a, HL_EAUTH,
				   "the peer offered the classical suite "
				   "0x%04x although the contract requires a "
				   "post-quantum suite",
				   s);
			goto out;
		}
	}
	acceptable(a, &sup);
	suite = best_common(&m.offer, &sup);
	if (suite == 0) {
		err = fail(a, HL_EAUTH,
			   "no key-exchange suite in common: the peer "
			   "offered %s, we support %s",
			   suites_text(&m.offer, l1, sizeof(l1)),
			   suites_text(&sup, l2, sizeof(l2)));
		goto out;
	}
	need = hl_ake_m2_len(m.offer.n, sup.n, a->transport_len);
	if (!out || cap < need)
		return HL_ETOOBIG; /* nothing changed; the caller may retry */
	err = ephemeral(a);
	if (err) {
		err = fail(a, err, "the crypto backend failed");
		goto out;
	}
	fill(a, nonce, sizeof(nonce));
	m2 = (struct hl_ake_m2){
		.suite = suite,
		.offered = m.offer,
		.supported = sup,
		.e = a->e_pk,
		.nonce = nonce,
		.transport = a->transport,
		.transport_len = a->transport_len,
	};
	err = hl_ake_m2_encode(&m2, buf, sizeof(buf), &n);
	if (err || n + HL_ID_SIG_LEN + HL_AKE_MAC_LEN != need) {
		err = fail(a, err ? err : HL_EINVAL, "cannot encode M2");
		goto out;
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)TH_LABEL,
				  strlen(TH_LABEL));
	crypto_hash_sha256_update(&st, in, in_len);
	crypto_hash_sha256_update(&st, buf, n);
	crypto_hash_sha256_final(&st, th2);
	err = derive(a, m.e, th2, &k);
	if (err == HL_EAUTH) {
		err = fail(a, err,
			   "the peer's ephemeral key gives an all-zero "
			   "shared secret (a low-order point)");
		goto out;
	}
	sig_r = buf + n;
	mac_r = sig_r + HL_ID_SIG_LEN;
	if (!err)
		err = sign(a, SIG_R_LABEL, th2, sig_r);
	if (err) {
		err = fail(a, err, "the crypto backend failed");
		goto out;
	}
	mac(k.mac_r, th2, sig_r, mac_r);
	th_next(th2, sig_r, mac_r, a->th3);
	err = sas_derive(k.prk, a->th3, a->sas);
	if (err) {
		err = fail(a, err, "the crypto backend failed");
		goto out;
	}
	memcpy(a->k_mac_i, k.mac_i, KEY_LEN);
	memcpy(a->k_fin_r, k.fin_r, KEY_LEN);
	keep_keys(a, &k);
	a->offer = m.offer;
	a->suite = suite;
	memcpy(a->peer_transport, m.transport, m.transport_len);
	a->peer_transport_len = m.transport_len;
	memcpy(out, buf, need);
	*len = need;
	a->state = ST_WAIT_M3;
out:
	hl_wipe(&k, sizeof(k));
	return err;
}

/*
 * R, on M3: form; I's signature over TH3 with the contract's key; MAC.
 * Then M4, R's final key confirmation, and done.
 */
static int recv_m3(struct hl_ake *a, const uint8_t *in, size_t in_len,
		   uint8_t *out, size_t cap, size_t *len)
{
	struct hl_ake_m3 m;
	struct hl_ake_m4 m4;
	uint8_t mac_i[HL_AKE_MAC_LEN], mac_f[HL_AKE_MAC_LEN];
	char why[WHY_MAX];
	size_t n = 0;
	int err = 0;

	if (!out || cap < HL_AKE_M4_LEN)
		return HL_ETOOBIG; /* nothing changed; the caller may retry */
	if (hl_ake_m3_decode(in, in_len, &m, why, sizeof(why))) {
		err = fail(a, HL_EAUTH, "%s", why);
		goto out;
	}
	if (!sig_ok(a, SIG_I_LABEL, a->th3, m.sig)) {
		err = fail(a, HL_EAUTH,
			   "the peer's signature does not verify with the "
			   "contract's key (the exchange was altered or "
			   "replayed, or someone else answered)");
		goto out;
	}
	mac(a->k_mac_i, a->th3, m.sig, mac_i);
	if (!hl_ct_equal(mac_i, m.mac, HL_AKE_MAC_LEN)) {
		err = fail(a, HL_EAUTH,
			   "the peer's key confirmation (MAC) does not "
			   "match: it does not hold this exchange's keys");
		goto out;
	}
	/* Everything read from `in` before `out` is written. */
	th_next(a->th3, m.sig, m.mac, a->th4);
	fin_mac(a->k_fin_r, a->th4, mac_f);
	m4.mac = mac_f;
	err = hl_ake_m4_encode(&m4, out, cap, &n);
	if (err) {
		err = fail(a, err, "cannot encode M4");
		goto out;
	}
	hl_wipe(a->k_mac_i, sizeof(a->k_mac_i));
	hl_wipe(a->k_fin_r, sizeof(a->k_fin_r));
	a->state = ST_DONE;
	*len = n;
out:
	hl_wipe(mac_i, sizeof(mac_i));
	hl_wipe(mac_f, sizeof(mac_f));
	return err;
}

/* ---- initiator, again ------------------------------------------------- */

/*
 * I, on M4: form; R's final key confirmation over TH4 (constant time).
 * Only then is the initiator done.
 */
static int recv_m4(struct hl_ake *a, const uint8_t *in, size_t in_len,
		   size_t *len)
{
	struct hl_ake_m4 m;
	uint8_t mac_f[HL_AKE_MAC_LEN];
	char why[WHY_MAX];
	int err = 0;

	if (hl_ake_m4_decode(in, in_len, &m, why, sizeof(why))) {
		err = fail(a, HL_EAUTH, "%s", why);
		goto out;
	}
	fin_mac(a->k_fin_r, a->th4, mac_f);
	if (!hl_ct_equal(mac_f, m.mac, HL_AKE_MAC_LEN)) {
		err = fail(a, HL_EAUTH,
			   "the peer's final key confirmation does not match: "
			   "it did not complete this exchange");
		goto out;
	}
	hl_wipe(a->k_fin_r, sizeof(a->k_fin_r));
	a->state = ST_DONE;
	*len = 0;
out:
	hl_wipe(mac_f, sizeof(mac_f));
	return err;
}

/* ---- dispatch --------------------------------------------------------- */

/* The initiator's own M3, byte for byte (checked in WAIT_M4). */
static bool own_m3(const struct hl_ake *a, const uint8_t *in, size_t in_len)
{
	uint8_t h[KEY_LEN];

	if (in_len != HL_AKE_M3_LEN)
		return false;
	crypto_hash_sha256(h, in, in_len);
	return memcmp(h, a->m3_hash, KEY_LEN) == 0;
}

/*
 * A message of the wrong type for our state.  Our own message coming
 * back (M1 or M2 with our ephemeral key, or the very M3 we sent) is
 * named as a reflection.
 */
static int unexpected(struct hl_ake *a, uint8_t type, const uint8_t *in,
		      size_t in_len)
{
	static const char *const wants[] = {
		[ST_WAIT_M1] = "M1",
		[ST_WAIT_M2] = "M2",
		[ST_WAIT_M3] = "M3",
		[ST_WAIT_M4] = "M4",
	};
	const char *who =
		a->role == HL_AKE_INITIATOR ? "initiator" : "responder";
	char why[WHY_MAX];
	struct hl_ake_m1 m1;
	struct hl_ake_m2 m2;

	if (a->state == ST_DONE)
		return fail(a, HL_EAUTH,
			    "a message (M%u) arrived after the exchange was "
			    "complete",
			    type);
	if ((type == HL_AKE_M1 &&
	     (a->state == ST_WAIT_M2 || a->state == ST_WAIT_M4) &&
	     !hl_ake_m1_decode(in, in_len, &m1, why, sizeof(why)) &&
	     sodium_memcmp(m1.e, a->e_pk, HL_AKE_PUB_LEN) == 0) ||
	    (type == HL_AKE_M2 && a->state == ST_WAIT_M3 &&
	     !hl_ake_m2_decode(in, in_len, &m2, why, sizeof(why)) &&
	     sodium_memcmp(m2.e, a->e_pk, HL_AKE_PUB_LEN) == 0) ||
	    (type == HL_AKE_M3 && a->state == ST_WAIT_M4 &&
	     own_m3(a, in, in_len)))
		return fail(a, HL_EAUTH,
			    "this is our own message reflected back");
	return fail(a, HL_EAUTH,
		    "unexpected message M%u: the %s is waiting for %s", type,
		    who, wants[a->state]);
}

int hl_ake_recv(struct hl_ake *a, const uint8_t *in, size_t in_len,
		uint8_t *out, size_t cap, size_t *len)
{
	uint8_t type = 0;
	char why[WHY_MAX];

	if (!a || !len || (!in && in_len))
		return HL_EINVAL;
	if (a->state == ST_FAILED)
		return HL_EAUTH;
	if (a->state == ST_NEW)
		return fail(a, HL_ESTATE,
			    "a message arrived before hl_ake_start()");
	if (hl_ake_msg_header(in, in_len, &type, why, sizeof(why)))
		return fail(a, HL_EAUTH, "%s", why);
	if (a->state == ST_WAIT_M1 && type == HL_AKE_M1)
		return recv_m1(a, in, in_len, out, cap, len);
	if (a->state == ST_WAIT_M2 && type == HL_AKE_M2)
		return recv_m2(a, in, in_len, out, cap, len);
	if (a->state == ST_WAIT_M3 && type == HL_AKE_M3)
		return recv_m3(a, in, in_len, out, cap, len);
	if (a->state == ST_WAIT_M4 && type == HL_AKE_M4)
		return recv_m4(a, in, in_len, len);
	return unexpected(a, type, in, in_len);
}

bool hl_ake_done(const struct hl_ake *a)
{
	return a && a->state == ST_DONE;
}

int hl_ake_result(const struct hl_ake *a, struct hl_ake_result *r)
{
	size_t pos = 0;

	if (!a || !r)
		return HL_EINVAL;
	if (a->state != ST_DONE)
		return HL_ESTATE;
	memset(r, 0, sizeof(*r));
	r->suite = a->suite;
	for (int i = 0; i < SAS_LEN; i++) {
		int n = snprintf(r->sas + pos, sizeof(r->sas) - pos, "%s%s",
				 i ? " " : "", hl_sas_word(a->sas[i]));

		if (n > 0)
			pos += (size_t)n;
	}
	/* Every AKE suite gives SFrame AES_128_GCM_SHA256_128 keys. */
	r->keys.suite = HL_SFRAME_AES_128_GCM_SHA256_128;
	r->keys.epoch = 0;
	r->keys.len = KEY_LEN;
	memcpy(r->keys.send, a->k_send, KEY_LEN);
	memcpy(r->keys.recv, a->k_recv, KEY_LEN);
	memcpy(r->peer_transport, a->peer_transport, a->peer_transport_len);
	r->peer_transport_len = a->peer_transport_len;
	memcpy(r->transcript_hash, a->th4, sizeof(r->transcript_hash));
	return 0;
}

const char *hl_ake_error(const struct hl_ake *a)
{
	if (!a)
		return "there is no key exchange";
	if (a->state == ST_FAILED)
		return a->why;
	if (a->state == ST_DONE)
		return "no error: the key exchange is complete";
	return "no error: the key exchange is in progress";
}
