/*
 * fuzz_ake.h - the fixed exchange the four key-exchange fuzz targets
 * (fuzz_ake_m1.c, fuzz_ake_m2.c, fuzz_ake_m3.c, fuzz_ake_m4.c) start
 * from.
 *
 * Alice (initiator) and Bob (responder) hold fixed Ed25519 keys and a
 * contract with suites {0x0001, 0x0002}; their generators restart from
 * fixed seeds for every input, so every party the targets build is the
 * same: the genuine M1, M2, M3 and M4 (made once, by a clean exchange)
 * are exactly what a party in that state would send.  That lets the
 * targets check the strongest property: a fuzzed message is accepted
 * only if it is byte-identical to the genuine one (everything is signed
 * or MACed), and the genuine one is always accepted.  A party is done
 * only after the last message it receives: the responder after M3, the
 * initiator after M4.
 */
#ifndef HOTLINE_FUZZ_AKE_H
#define HOTLINE_FUZZ_AKE_H

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hotline/ake.h"

#include "../src/ake/ake_internal.h"

#define FZ_SEED_I 0x1111
#define FZ_SEED_R 0x2222

static struct hl_identity fz_alice, fz_bob;
static const uint16_t fz_suites[] = {0x0001, 0x0002};
static const uint8_t fz_call_id[HL_CALL_ID_LEN] = {1, 2,  3,  4,  5,  6,  7, 8,
						   9, 10, 11, 12, 13, 14, 15};
static uint8_t fz_hash[HL_CONTRACT_HASH_LEN];
static const uint8_t fz_t_alice[] = "ufrag=a;pwd=alicealice;fp=AA";
static const uint8_t fz_t_bob[] = "ufrag=b;pwd=bobbobbob;fp=BB";

/* The genuine messages of the fixed exchange. */
static uint8_t fz_m1[HL_AKE_MSG_MAX], fz_m2[HL_AKE_MSG_MAX],
	fz_m3[HL_AKE_MSG_MAX], fz_m4[HL_AKE_MSG_MAX];
static size_t fz_m1_len, fz_m2_len, fz_m3_len, fz_m4_len;
static struct hl_ake_result fz_res_i, fz_res_r;

static inline void fz_identity(struct hl_identity *id, uint8_t b)
{
	uint8_t seed[32];

	memset(id, 0, sizeof(*id));
	memset(seed, b, sizeof(seed));
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

/* A fresh party; its generator restarts from the role's fixed seed. */
static inline struct hl_ake *fz_party(enum hl_ake_role role,
				      struct hl_prng *prng)
{
	struct hl_ake_params p;
	struct hl_ake *a = NULL;
	bool init = role == HL_AKE_INITIATOR;

	memset(&p, 0, sizeof(p));
	hl_prng_seed(prng, init ? FZ_SEED_I : FZ_SEED_R);
	p.role = role;
	p.me = init ? &fz_alice : &fz_bob;
	memcpy(p.peer, init ? fz_bob.pk : fz_alice.pk, HL_ID_PK_LEN);
	memcpy(p.call_id, fz_call_id, HL_CALL_ID_LEN);
	memcpy(p.contract_hash, fz_hash, HL_CONTRACT_HASH_LEN);
	p.suites = fz_suites;
	p.n_suites = 2;
	p.transport = init ? fz_t_alice : fz_t_bob;
	p.transport_len = (init ? sizeof(fz_t_alice) : sizeof(fz_t_bob)) - 1;
	p.rng = hl_prng_as_rng(prng);
	if (hl_ake_new(&a, &p))
		abort();
	return a;
}

/* Once per process: identities, contract hash, the genuine exchange. */
static inline void fz_setup(void)
{
	static bool done;
	struct hl_prng pi, pr;
	struct hl_ake *i, *r;
	size_t n = 0;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	fz_identity(&fz_alice, 0xa1);
	fz_identity(&fz_bob, 0xb0);
	crypto_hash_sha256(fz_hash, (const uint8_t *)"fuzz contract", 13);
	i = fz_party(HL_AKE_INITIATOR, &pi);
	r = fz_party(HL_AKE_RESPONDER, &pr);
	if (hl_ake_start(i, fz_m1, sizeof(fz_m1), &fz_m1_len) ||
	    hl_ake_recv(r, fz_m1, fz_m1_len, fz_m2, sizeof(fz_m2),
			&fz_m2_len) ||
	    hl_ake_recv(i, fz_m2, fz_m2_len, fz_m3, sizeof(fz_m3),
			&fz_m3_len) ||
	    hl_ake_recv(r, fz_m3, fz_m3_len, fz_m4, sizeof(fz_m4),
			&fz_m4_len) ||
	    hl_ake_recv(i, fz_m4, fz_m4_len, NULL, 0, &n) || n != 0 ||
	    hl_ake_result(i, &fz_res_i) || hl_ake_result(r, &fz_res_r))
		abort();
	hl_ake_free(i);
	hl_ake_free(r);
	done = true;
}

static inline bool fz_same(const uint8_t *a, size_t an, const uint8_t *b,
			   size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* A party that is not finished gives no result. */
static inline void fz_check_not_done(const struct hl_ake *a)
{
	struct hl_ake_result r;

	if (hl_ake_done(a) || hl_ake_result(a, &r) != HL_ESTATE)
		abort();
}

/* A finished party's result must be the genuine exchange's. */
static inline void fz_check_result(const struct hl_ake *a,
				   const struct hl_ake_result *want)
{
	struct hl_ake_result got;

	if (!hl_ake_done(a) || hl_ake_result(a, &got) ||
	    memcmp(&got, want, sizeof(got)) != 0)
		abort();
}

/* A failed party: HL_EAUTH, not done, a reason, no result. */
static inline void fz_check_failed(const struct hl_ake *a, int err)
{
	struct hl_ake_result r;

	if (err != HL_EAUTH || hl_ake_done(a) || !hl_ake_error(a)[0] ||
	    hl_ake_result(a, &r) != HL_ESTATE)
		abort();
}

#endif /* HOTLINE_FUZZ_AKE_H */
