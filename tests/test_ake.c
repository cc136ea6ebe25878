/*
 * test_ake.c - the authenticated key exchange (docs/protocol.md §5.4):
 * clean exchanges and what they give, an independent recomputation of
 * every formula from the bytes on the wire, the SAS word list, and every
 * attack the design claims to stop (tampering with each byte, replays,
 * reflection, suite stripping and downgrade, key substitution, the wrong
 * call or contract, truncated and oversized messages, low-order keys, a
 * missing or forged final confirmation), each failing closed with its own
 * reason, after which a clean exchange with the same parameters still
 * succeeds.  A full exchange is four steps: M1 (I), M2 (R), M3 (I), M4
 * (R); the initiator is done only when M4 checks.  All randomness is
 * seeded.
 */
#include <stdlib.h>

#include <sodium.h>

#include "harness.h"
#include "hotline/ake.h"

#include "../src/ake/ake_internal.h"

#define FAKE_SUITE 0x0003 /* "implemented" through the test hook */

static struct hl_identity alice, bob, mallory;

static const uint8_t call_id[HL_CALL_ID_LEN] = {
	0xca, 0x11, 0x1d, 0x00, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};
static uint8_t contract_hash[HL_CONTRACT_HASH_LEN];
static const uint8_t t_alice[] =
	"ice-ufrag=al;pwd=alicealicealice;fp=sha-256 AA";
static const uint8_t t_bob[] = "ice-ufrag=bo;pwd=bobbobbobbobbob;fp=sha-256 BB";

static void make_identity(struct hl_identity *id, const char *name,
			  uint8_t seed_byte)
{
	uint8_t seed[32];

	memset(id, 0, sizeof(*id));
	memset(seed, seed_byte, sizeof(seed));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

/* ---- one exchange between two parties -------------------------------- */

struct ex {
	uint64_t seed; /* both generators restart from it in ex_new() */
	struct hl_prng prng_i, prng_r;
	struct hl_ake_params ip, rp;
	uint16_t suites[HL_CONTRACT_MAX_SUITES];
	uint16_t add_i[4], add_r[4]; /* test-hook suites, 0-terminated */
	struct hl_ake *i, *r;
	uint8_t m1[HL_AKE_MSG_MAX], m2[HL_AKE_MSG_MAX], m3[HL_AKE_MSG_MAX];
	uint8_t m4[HL_AKE_MSG_MAX];
	size_t m1_len, m2_len, m3_len, m4_len;
};

/* Alice (proposer, initiator) and Bob; contract suites {1, 2}. */
static void ex_init(struct ex *x, uint64_t seed)
{
	memset(x, 0, sizeof(*x));
	x->seed = seed;
	x->suites[0] = HL_AKE_SUITE_X25519_ED25519_SHA256;
	x->suites[1] = HL_AKE_SUITE_HYBRID_MLKEM768;
	x->ip.role = HL_AKE_INITIATOR;
	x->ip.me = &alice;
	memcpy(x->ip.peer, bob.pk, HL_ID_PK_LEN);
	memcpy(x->ip.call_id, call_id, sizeof(call_id));
	memcpy(x->ip.contract_hash, contract_hash, sizeof(contract_hash));
	x->ip.suites = x->suites;
	x->ip.n_suites = 2;
	x->ip.transport = t_alice;
	x->ip.transport_len = sizeof(t_alice) - 1;
	x->ip.rng = hl_prng_as_rng(&x->prng_i);
	x->rp = x->ip;
	x->rp.role = HL_AKE_RESPONDER;
	x->rp.me = &bob;
	memcpy(x->rp.peer, alice.pk, HL_ID_PK_LEN);
	x->rp.transport = t_bob;
	x->rp.transport_len = sizeof(t_bob) - 1;
	x->rp.rng = hl_prng_as_rng(&x->prng_r);
}

static void ex_free(struct ex *x)
{
	hl_ake_free(x->i);
	hl_ake_free(x->r);
	x->i = x->r = NULL;
}

static int ex_new(struct ex *x)
{
	int err;

	ex_free(x);
	x->m1_len = x->m2_len = x->m3_len = x->m4_len = 0;
	hl_prng_seed(&x->prng_i, x->seed * 2 + 1);
	hl_prng_seed(&x->prng_r, x->seed * 2 + 2);
	err = hl_ake_new(&x->i, &x->ip);
	if (!err)
		err = hl_ake_new(&x->r, &x->rp);
	for (int k = 0; !err && x->add_i[k]; k++)
		err = hl_ake_test_add_suite(x->i, x->add_i[k]);
	for (int k = 0; !err && x->add_r[k]; k++)
		err = hl_ake_test_add_suite(x->r, x->add_r[k]);
	return err;
}

static int ex_m1(struct ex *x)
{
	return hl_ake_start(x->i, x->m1, sizeof(x->m1), &x->m1_len);
}

static int ex_m2(struct ex *x)
{
	return hl_ake_recv(x->r, x->m1, x->m1_len, x->m2, sizeof(x->m2),
			   &x->m2_len);
}

static int ex_m3(struct ex *x)
{
	return hl_ake_recv(x->i, x->m2, x->m2_len, x->m3, sizeof(x->m3),
			   &x->m3_len);
}

/* R on M3: its reply is M4. */
static int ex_m4(struct ex *x)
{
	return hl_ake_recv(x->r, x->m3, x->m3_len, x->m4, sizeof(x->m4),
			   &x->m4_len);
}

/* I on M4: no reply. */
static int ex_fin(struct ex *x)
{
	size_t n = 99;
	int err = hl_ake_recv(x->i, x->m4, x->m4_len, NULL, 0, &n);

	if (!err && n != 0)
		return HL_EINVAL;
	return err;
}

/* New objects, then the whole exchange; the first error. */
static int ex_run(struct ex *x)
{
	int err = ex_new(x);

	if (!err)
		err = ex_m1(x);
	if (!err)
		err = ex_m2(x);
	if (!err)
		err = ex_m3(x);
	if (!err)
		err = ex_m4(x);
	if (!err)
		err = ex_fin(x);
	return err;
}

static bool has(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

#define HT_REASON(a, part)                                         \
	do {                                                       \
		if (!has(hl_ake_error(a), (part))) {               \
			char ht_m_[400];                           \
			snprintf(ht_m_, sizeof(ht_m_),             \
				 "reason \"%s\" lacks \"%s\"",     \
				 hl_ake_error(a), (part));         \
			hl_test_report(__FILE__, __LINE__, ht_m_); \
			return -1;                                 \
		}                                                  \
	} while (0)

/* Both done, same SAS and transcript, mirrored keys, transports. */
static int check_results(struct ex *x, uint16_t suite)
{
	struct hl_ake_result ri, rr;

	HT_ASSERT(hl_ake_done(x->i) && hl_ake_done(x->r));
	HT_EQ_INT(hl_ake_result(x->i, &ri), 0);
	HT_EQ_INT(hl_ake_result(x->r, &rr), 0);
	HT_EQ_INT(ri.suite, suite);
	HT_EQ_INT(rr.suite, suite);
	HT_ASSERT(strcmp(ri.sas, rr.sas) == 0);
	HT_EQ_MEM(ri.transcript_hash, rr.transcript_hash, 32);
	HT_EQ_INT(ri.keys.suite, HL_SFRAME_AES_128_GCM_SHA256_128);
	HT_EQ_INT(rr.keys.suite, HL_SFRAME_AES_128_GCM_SHA256_128);
	HT_EQ_INT(ri.keys.epoch, 0);
	HT_EQ_INT(rr.keys.epoch, 0);
	HT_EQ_INT(ri.keys.len, 32);
	HT_EQ_INT(rr.keys.len, 32);
	HT_EQ_MEM(ri.keys.send, rr.keys.recv, 32);
	HT_EQ_MEM(ri.keys.recv, rr.keys.send, 32);
	HT_ASSERT(memcmp(ri.keys.send, ri.keys.recv, 32) != 0);
	HT_EQ_INT(ri.peer_transport_len, x->rp.transport_len);
	HT_EQ_INT(rr.peer_transport_len, x->ip.transport_len);
	if (x->rp.transport_len)
		HT_EQ_MEM(ri.peer_transport, x->rp.transport,
			  x->rp.transport_len);
	if (x->ip.transport_len)
		HT_EQ_MEM(rr.peer_transport, x->ip.transport,
			  x->ip.transport_len);
	hl_wipe(&ri, sizeof(ri));
	hl_wipe(&rr, sizeof(rr));
	return 0;
}

/* After an attack: fresh objects, same parameters, a clean exchange. */
static int clean_ok(struct ex *x, uint16_t suite)
{
	HT_EQ_INT(ex_run(x), 0);
	HT_EQ_INT(check_results(x, suite), 0);
	ex_free(x);
	return 0;
}

/* Neither side done; both report why (or the innocent one is unaware). */
static int neither_done(struct ex *x)
{
	HT_ASSERT(!hl_ake_done(x->i));
	HT_ASSERT(!hl_ake_done(x->r));
	return 0;
}

/* ---- independent HKDF/HMAC for the recomputation ---------------------- */

static void hmac(const uint8_t *key, size_t key_len, const uint8_t *a,
		 size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, a, a_len);
	if (b_len)
		crypto_auth_hmacsha256_update(&st, b, b_len);
	crypto_auth_hmacsha256_final(&st, out);
}

/* RFC 5869 §2.3 for L <= 32: T(1) = HMAC(PRK, info || 0x01). */
static void expand1(const uint8_t prk[32], const uint8_t *info, size_t n,
		    uint8_t *out, size_t len)
{
	uint8_t buf[128], t[32];

	memcpy(buf, info, n);
	buf[n] = 1;
	hmac(prk, 32, buf, n + 1, NULL, 0, t);
	memcpy(out, t, len);
}

static void sha256_3(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
		     const uint8_t *c, size_t cn, uint8_t out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, a, an);
	crypto_hash_sha256_update(&st, b, bn);
	crypto_hash_sha256_update(&st, c, cn);
	crypto_hash_sha256_final(&st, out);
}

/* ---- tests ------------------------------------------------------------ */

static int test_exchange(void)
{
	struct ex x, y;
	struct hl_ake_result a, b;

	ex_init(&x, 1);
	HT_EQ_INT(ex_new(&x), 0);
	HT_ASSERT(has(hl_ake_error(x.i), "in progress"));
	HT_EQ_INT(ex_m1(&x), 0);
	HT_ASSERT(!hl_ake_done(x.i));
	HT_EQ_INT(ex_m2(&x), 0);
	HT_ASSERT(!hl_ake_done(x.r)); /* R waits for I's signature */
	HT_EQ_INT(hl_ake_result(x.r, &a), HL_ESTATE);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_ASSERT(!hl_ake_done(x.i)); /* I waits for R's confirmation */
	HT_EQ_INT(hl_ake_result(x.i, &a), HL_ESTATE);
	HT_ASSERT(has(hl_ake_error(x.i), "in progress"));
	HT_EQ_INT(ex_m4(&x), 0);
	HT_ASSERT(hl_ake_done(x.r));
	HT_ASSERT(!hl_ake_done(x.i));
	HT_EQ_INT(ex_fin(&x), 0);
	HT_EQ_INT(check_results(&x, HL_AKE_SUITE_X25519_ED25519_SHA256), 0);
	HT_ASSERT(has(hl_ake_error(x.r), "complete"));
	HT_ASSERT(has(hl_ake_error(x.i), "complete"));
	HT_EQ_INT(x.m3_len, HL_AKE_M3_LEN);
	HT_EQ_INT(x.m4_len, HL_AKE_M4_LEN);

	/* I's send key is k "sframe I->R"; 4 words, single spaces. */
	HT_EQ_INT(hl_ake_result(x.i, &a), 0);
	{
		char copy[HL_SAS_TEXT_MAX], *save = NULL, *w;
		int words = 0;

		snprintf(copy, sizeof(copy), "%s", a.sas);
		HT_ASSERT(!has(a.sas, "  ") && a.sas[0] != ' ' &&
			  a.sas[strlen(a.sas) - 1] != ' ');
		for (w = strtok_r(copy, " ", &save); w;
		     w = strtok_r(NULL, " ", &save)) {
			bool found = false;

			for (int k = 0; k < 256; k++)
				found |=
					strcmp(w, hl_sas_word((uint8_t)k)) == 0;
			HT_ASSERT(found);
			words++;
		}
		HT_EQ_INT(words, HL_SAS_WORDS);
	}

	/* Another exchange: other keys, other SAS (with these seeds). */
	ex_init(&y, 2);
	HT_EQ_INT(ex_run(&y), 0);
	HT_EQ_INT(hl_ake_result(y.i, &b), 0);
	HT_ASSERT(memcmp(a.keys.send, b.keys.send, 32) != 0);
	HT_ASSERT(memcmp(a.transcript_hash, b.transcript_hash, 32) != 0);
	HT_ASSERT(strcmp(a.sas, b.sas) != 0);
	ex_free(&x);
	ex_free(&y);
	return 0;
}

/* Same seeds, same bytes: the exchange is a pure function of its inputs. */
static int test_deterministic(void)
{
	struct ex x, y;
	struct hl_ake_result a, b;

	ex_init(&x, 7);
	ex_init(&y, 7);
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(ex_run(&y), 0);
	HT_EQ_INT(x.m1_len, y.m1_len);
	HT_EQ_INT(x.m2_len, y.m2_len);
	HT_EQ_MEM(x.m1, y.m1, x.m1_len);
	HT_EQ_MEM(x.m2, y.m2, x.m2_len);
	HT_EQ_MEM(x.m3, y.m3, x.m3_len);
	HT_EQ_INT(x.m4_len, y.m4_len);
	HT_EQ_MEM(x.m4, y.m4, x.m4_len);
	HT_EQ_INT(hl_ake_result(x.r, &a), 0);
	HT_EQ_INT(hl_ake_result(y.r, &b), 0);
	HT_EQ_MEM(&a.keys, &b.keys, sizeof(a.keys));
	ex_free(&x);
	ex_free(&y);
	return 0;
}

/*
 * Recompute everything of §5.4 from the bytes on the wire and the seeded
 * ephemeral secrets, without the module's code: field offsets, TH2, dh,
 * PRK, the five keys, both signatures and MACs, TH3, the SAS, TH4 and
 * M4's mac_F.
 */
static int test_spec_recompute(void)
{
	struct ex x;
	struct hl_prng pi, pr;
	struct hl_rng ri, rr;
	struct hl_ake_result res_i, res_r;
	uint8_t ei_sk[32], er_sk[32], ei[32], er[32], ni[32], nr[32];
	uint8_t th2[32], th3[32], th4[32], dh[32], dh2[32], prk[32];
	uint8_t kmr[32], kmi[32], kir[32], kri[32], kfr[32], m[32], sas[4];
	uint8_t sigmsg[25 + 32 + 64], info[35];
	const uint8_t *p, *sig_r, *mac_r, *sig_i, *mac_i;
	size_t n, pos, signed_len;
	char text[HL_SAS_TEXT_MAX];

	ex_init(&x, 3);
	HT_EQ_INT(ex_run(&x), 0);
	hl_prng_seed(&pi, 3 * 2 + 1);
	hl_prng_seed(&pr, 3 * 2 + 2);
	ri = hl_prng_as_rng(&pi);
	rr = hl_prng_as_rng(&pr);
	ri.fill(ri.ctx, ei_sk, 32); /* e first, then the nonce */
	ri.fill(ri.ctx, ni, 32);
	rr.fill(rr.ctx, er_sk, 32);
	rr.fill(rr.ctx, nr, 32);
	HT_EQ_INT(crypto_scalarmult_base(ei, ei_sk), 0);
	HT_EQ_INT(crypto_scalarmult_base(er, er_sk), 0);

	/* M1 layout. */
	p = x.m1;
	HT_EQ_MEM(p, "HLK\x01\x01", 5);
	HT_EQ_MEM(p + 5, call_id, 16);
	HT_EQ_MEM(p + 21, contract_hash, 32);
	HT_EQ_INT(p[53], 1); /* only 0x0001 is implemented */
	HT_EQ_INT(hl_get_be16(p + 54), 0x0001);
	HT_EQ_MEM(p + 56, ei, 32);
	HT_EQ_MEM(p + 88, ni, 32);
	HT_EQ_INT(hl_get_be16(p + 120), sizeof(t_alice) - 1);
	HT_EQ_MEM(p + 122, t_alice, sizeof(t_alice) - 1);
	HT_EQ_INT(x.m1_len, 122 + sizeof(t_alice) - 1);

	/* M2 layout. */
	p = x.m2;
	HT_EQ_MEM(p, "HLK\x01\x02", 5);
	HT_EQ_INT(hl_get_be16(p + 5), 0x0001); /* chosen */
	HT_EQ_INT(p[7], 1);		       /* offered, as received */
	HT_EQ_INT(hl_get_be16(p + 8), 0x0001);
	HT_EQ_INT(p[10], 1); /* supported */
	HT_EQ_INT(hl_get_be16(p + 11), 0x0001);
	HT_EQ_MEM(p + 13, er, 32);
	HT_EQ_MEM(p + 45, nr, 32);
	n = hl_get_be16(p + 77);
	HT_EQ_INT(n, sizeof(t_bob) - 1);
	HT_EQ_MEM(p + 79, t_bob, n);
	signed_len = 79 + n;
	sig_r = p + signed_len;
	mac_r = sig_r + 64;
	HT_EQ_INT(x.m2_len, signed_len + 96);

	/* M3 layout. */
	HT_EQ_MEM(x.m3, "HLK\x01\x03", 5);
	sig_i = x.m3 + 5;
	mac_i = sig_i + 64;

	/* M4 layout. */
	HT_EQ_INT(x.m4_len, 5 + 32);
	HT_EQ_MEM(x.m4, "HLK\x01\x04", 5);

	/* TH2 = SHA-256("hotline ake v1" || M1 || M2[..sig_R)). */
	sha256_3((const uint8_t *)"hotline ake v1", 14, x.m1, x.m1_len, x.m2,
		 signed_len, th2);
	HT_EQ_INT(crypto_scalarmult(dh, ei_sk, er), 0);
	HT_EQ_INT(crypto_scalarmult(dh2, er_sk, ei), 0);
	HT_EQ_MEM(dh, dh2, 32);
	hmac(th2, 32, dh, 32, NULL, 0, prk); /* HKDF-Extract(TH2, dh) */
	expand1(prk, (const uint8_t *)"mac R", 5, kmr, 32);
	expand1(prk, (const uint8_t *)"mac I", 5, kmi, 32);
	expand1(prk, (const uint8_t *)"sframe I->R", 11, kir, 32);
	expand1(prk, (const uint8_t *)"sframe R->I", 11, kri, 32);
	expand1(prk, (const uint8_t *)"finished R", 10, kfr, 32);

	pos = 0;
	memcpy(sigmsg, "hotline ake responder v1", 25); /* with its NUL */
	pos = 25;
	memcpy(sigmsg + pos, th2, 32);
	memcpy(sigmsg + pos + 32, alice.pk, 32);
	memcpy(sigmsg + pos + 64, bob.pk, 32);
	HT_EQ_INT(crypto_sign_verify_detached(sig_r, sigmsg, sizeof(sigmsg),
					      bob.pk),
		  0);
	hmac(kmr, 32, th2, 32, sig_r, 64, m);
	HT_EQ_MEM(m, mac_r, 32);

	sha256_3(th2, 32, sig_r, 64, mac_r, 32, th3);
	memcpy(sigmsg, "hotline ake initiator v1", 25);
	memcpy(sigmsg + pos, th3, 32);
	HT_EQ_INT(crypto_sign_verify_detached(sig_i, sigmsg, sizeof(sigmsg),
					      alice.pk),
		  0);
	hmac(kmi, 32, th3, 32, sig_i, 64, m);
	HT_EQ_MEM(m, mac_i, 32);

	memcpy(info, "sas", 3);
	memcpy(info + 3, th3, 32);
	expand1(prk, info, sizeof(info), sas, 4);
	snprintf(text, sizeof(text), "%s %s %s %s", hl_sas_word(sas[0]),
		 hl_sas_word(sas[1]), hl_sas_word(sas[2]), hl_sas_word(sas[3]));
	sha256_3(th3, 32, sig_i, 64, mac_i, 32, th4);
	hmac(kfr, 32, th4, 32, NULL, 0, m); /* mac_F */
	HT_EQ_MEM(m, x.m4 + 5, 32);

	HT_EQ_INT(hl_ake_result(x.i, &res_i), 0);
	HT_EQ_INT(hl_ake_result(x.r, &res_r), 0);
	HT_EQ_MEM(res_i.keys.send, kir, 32);
	HT_EQ_MEM(res_i.keys.recv, kri, 32);
	HT_EQ_MEM(res_r.keys.send, kri, 32);
	HT_EQ_MEM(res_r.keys.recv, kir, 32);
	HT_ASSERT(strcmp(res_i.sas, text) == 0);
	HT_EQ_MEM(res_i.transcript_hash, th4, 32);
	HT_EQ_MEM(res_r.transcript_hash, th4, 32);
	ex_free(&x);
	return 0;
}

static int lev(const char *a, const char *b)
{
	int d[16], la = (int)strlen(a), lb = (int)strlen(b);

	for (int j = 0; j <= lb; j++)
		d[j] = j;
	for (int i = 1; i <= la; i++) {
		int prev = d[0];

		d[0] = i;
		for (int j = 1; j <= lb; j++) {
			int cur = d[j];
			int best = HL_MIN(d[j] + 1, d[j - 1] + 1);

			d[j] = HL_MIN(best, prev + (a[i - 1] != b[j - 1]));
			prev = cur;
		}
	}
	return d[lb];
}

/* 256 distinct words, 4-7 lowercase letters, apart in spelling. */
static int test_sas_words(void)
{
	for (int i = 0; i < 256; i++) {
		const char *w = hl_sas_word((uint8_t)i);
		size_t n = strlen(w);

		HT_ASSERT(n >= 4 && n <= 7);
		for (size_t k = 0; k < n; k++)
			HT_ASSERT(w[k] >= 'a' && w[k] <= 'z');
		if (i > 0) /* alphabetical, hence distinct */
			HT_ASSERT(strcmp(hl_sas_word((uint8_t)(i - 1)), w) < 0);
		for (int j = 0; j < i; j++) {
			const char *v = hl_sas_word((uint8_t)j);

			HT_ASSERT(memcmp(v, w, 3) != 0); /* 3 letters tell */
			HT_ASSERT(lev(v, w) >= 2);
		}
	}
	return 0;
}

/*
 * Every byte of M1 changed (three ways): R refuses it, or R answers and
 * then I refuses R's answer.  Never does either side finish.
 */
static int test_tamper_m1(void)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct ex x;
	uint8_t good[HL_AKE_MSG_MAX];
	size_t good_len, at_r = 0, at_i = 0;

	ex_init(&x, 4);
	HT_EQ_INT(ex_run(&x), 0);
	memcpy(good, x.m1, x.m1_len);
	good_len = x.m1_len;
	for (size_t pos = 0; pos < good_len; pos++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			int err;

			HT_EQ_INT(ex_new(&x), 0);
			HT_EQ_INT(ex_m1(&x), 0);
			HT_EQ_MEM(x.m1, good, good_len);
			x.m1[pos] ^= flips[f];
			err = ex_m2(&x);
			if (err) {
				HT_EQ_INT(err, HL_EAUTH);
				at_r++;
				if (pos >= 5 && pos < 21)
					HT_REASON(x.r, "another call");
				else if (pos >= 21 && pos < 53)
					HT_REASON(x.r, "contract hash");
			} else {
				HT_ASSERT(pos >= 56); /* e, nonce, transport */
				HT_EQ_INT(ex_m3(&x), HL_EAUTH);
				HT_REASON(x.i, "signature does not verify");
				at_i++;
			}
			HT_EQ_INT(neither_done(&x), 0);
		}
	}
	HT_ASSERT(at_r > 0 && at_i > 0);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_tamper_m2(void)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct ex x;
	uint8_t good[HL_AKE_MSG_MAX];
	size_t good_len, sig_at;

	ex_init(&x, 5);
	HT_EQ_INT(ex_run(&x), 0);
	memcpy(good, x.m2, x.m2_len);
	good_len = x.m2_len;
	sig_at = good_len - 96;
	for (size_t pos = 0; pos < good_len; pos++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			HT_EQ_INT(ex_new(&x), 0);
			HT_EQ_INT(ex_m1(&x), 0);
			HT_EQ_INT(ex_m2(&x), 0);
			HT_EQ_MEM(x.m2, good, good_len);
			x.m2[pos] ^= flips[f];
			HT_EQ_INT(ex_m3(&x), HL_EAUTH);
			HT_EQ_INT(x.m3_len, 0); /* untouched: no reply */
			if (pos == 5 || pos == 6)
				HT_ASSERT(has(hl_ake_error(x.i), "chose"));
			else if (pos >= 7 && pos < 10)
				HT_ASSERT(has(hl_ake_error(x.i), "M2") ||
					  has(hl_ake_error(x.i), "altered"));
			else if (pos >= 13 && pos < sig_at &&
				 (pos < 77 || pos > 78)) /* not the length */
				HT_REASON(x.i, "signature does not verify");
			else if (pos >= sig_at && pos < sig_at + 64)
				HT_REASON(x.i, "signature does not verify");
			else if (pos >= sig_at + 64)
				HT_REASON(x.i, "(MAC) does not match");
			HT_EQ_INT(neither_done(&x), 0);
		}
	}
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_tamper_m3(void)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct ex x;
	uint8_t good[HL_AKE_M3_LEN];

	ex_init(&x, 6);
	HT_EQ_INT(ex_run(&x), 0);
	memcpy(good, x.m3, sizeof(good));
	for (size_t pos = 0; pos < sizeof(good); pos++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			HT_EQ_INT(ex_new(&x), 0);
			HT_EQ_INT(ex_m1(&x), 0);
			HT_EQ_INT(ex_m2(&x), 0);
			HT_EQ_INT(ex_m3(&x), 0);
			HT_EQ_MEM(x.m3, good, sizeof(good));
			x.m3[pos] ^= flips[f];
			HT_EQ_INT(ex_m4(&x), HL_EAUTH);
			HT_EQ_INT(x.m4_len, 0); /* no M4 */
			if (pos >= 5 && pos < 69)
				HT_REASON(x.r, "signature does not verify");
			else if (pos >= 69)
				HT_REASON(x.r, "(MAC) does not match");
			/* R refused M3, so I never gets an M4: not done. */
			HT_EQ_INT(neither_done(&x), 0);
		}
	}
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/*
 * Every byte of M4 changed (three ways): the initiator refuses it and is
 * not done, although the responder is.
 */
static int test_tamper_m4(void)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct ex x;
	struct hl_ake_result res;
	uint8_t good[HL_AKE_M4_LEN];

	ex_init(&x, 30);
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(x.m4_len, sizeof(good));
	memcpy(good, x.m4, sizeof(good));
	for (size_t pos = 0; pos < sizeof(good); pos++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			HT_EQ_INT(ex_new(&x), 0);
			HT_EQ_INT(ex_m1(&x), 0);
			HT_EQ_INT(ex_m2(&x), 0);
			HT_EQ_INT(ex_m3(&x), 0);
			HT_EQ_INT(ex_m4(&x), 0);
			HT_EQ_MEM(x.m4, good, sizeof(good));
			HT_ASSERT(hl_ake_done(x.r));
			x.m4[pos] ^= flips[f];
			HT_EQ_INT(ex_fin(&x), HL_EAUTH);
			HT_ASSERT(!hl_ake_done(x.i));
			HT_EQ_INT(hl_ake_result(x.i, &res), HL_ESTATE);
			if (pos < 3)
				HT_REASON(x.i, "not a key-exchange message");
			else if (pos == 3)
				HT_REASON(x.i, "key-exchange version");
			else if (pos == 4)
				HT_REASON(x.i, "unknown key-exchange message");
			else
				HT_REASON(x.i, "the peer's final key "
					       "confirmation does not match: "
					       "it did not complete this "
					       "exchange");
		}
	}
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/*
 * No M4 (lost, or held back by the relay): the initiator has sent M3
 * but is not done and gives no result; neither anything other than M4.
 */
static int test_m4_missing(void)
{
	struct ex x;
	struct hl_ake_result res;
	uint8_t out[HL_AKE_MSG_MAX];
	size_t n = 0;

	ex_init(&x, 31);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_ASSERT(x.m3_len == HL_AKE_M3_LEN);
	HT_ASSERT(!hl_ake_done(x.i));
	HT_EQ_INT(hl_ake_result(x.i, &res), HL_ESTATE);
	HT_ASSERT(has(hl_ake_error(x.i), "in progress"));
	/* R completes; its M4 never arrives: I is still not done. */
	HT_EQ_INT(ex_m4(&x), 0);
	HT_ASSERT(hl_ake_done(x.r));
	HT_ASSERT(!hl_ake_done(x.i));
	HT_EQ_INT(hl_ake_result(x.i, &res), HL_ESTATE);

	/* Something else in M4's place (the M2 again) ends it. */
	HT_EQ_INT(hl_ake_recv(x.i, x.m2, x.m2_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "unexpected message M2: the initiator is waiting for "
		       "M4");
	HT_ASSERT(!hl_ake_done(x.i));

	/* An empty M4 (header only) and one with a wrong MAC length. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, (const uint8_t *)"HLK\x01\x04", 5, out,
			      sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "M4 is truncated (5 bytes)");
	HT_ASSERT(!hl_ake_done(x.i));
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/* An M2 recorded in one exchange, played into the next one. */
static int test_replay_m2(void)
{
	struct ex old, x;

	ex_init(&old, 8);
	HT_EQ_INT(ex_run(&old), 0);
	ex_init(&x, 9);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, old.m2, old.m2_len, x.m3, sizeof(x.m3),
			      &x.m3_len),
		  HL_EAUTH);
	HT_REASON(x.i, "signature does not verify");
	HT_ASSERT(!hl_ake_done(x.i));
	ex_free(&old);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/*
 * An old M1 replayed to a responder: it answers (M1 is not authenticated
 * by itself), with fresh keys; the old M3 that follows is refused.
 */
static int test_replay_m1(void)
{
	struct ex old, x;
	uint8_t m2[HL_AKE_MSG_MAX];
	size_t m2_len = 0;

	ex_init(&old, 10);
	HT_EQ_INT(ex_run(&old), 0);
	ex_init(&x, 11);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, old.m1, old.m1_len, m2, sizeof(m2), &m2_len),
		  0);
	HT_ASSERT(m2_len != old.m2_len || memcmp(m2, old.m2, m2_len) != 0);
	HT_EQ_INT(hl_ake_recv(x.r, old.m3, old.m3_len, m2, sizeof(m2), &m2_len),
		  HL_EAUTH);
	HT_REASON(x.r, "signature does not verify");
	HT_ASSERT(!hl_ake_done(x.r));
	ex_free(&old);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/*
 * An M4 recorded in one exchange, played to the initiator of the next
 * one (the relay keeps the new M3 from R and answers with the old M4).
 */
static int test_replay_m4(void)
{
	struct ex old, x;

	ex_init(&old, 32);
	HT_EQ_INT(ex_run(&old), 0);
	ex_init(&x, 33);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	memcpy(x.m4, old.m4, old.m4_len);
	x.m4_len = old.m4_len;
	HT_EQ_INT(ex_fin(&x), HL_EAUTH);
	HT_REASON(x.i, "the peer's final key confirmation does not match");
	HT_EQ_INT(neither_done(&x), 0);

	/*
	 * A recorded session with the very same M1 (same initiator
	 * randomness) but another answer from R: its M4 is refused too.
	 */
	HT_EQ_INT(ex_new(&old), 0);
	hl_prng_seed(&old.prng_r, 1000); /* R draws only on M1 */
	HT_EQ_INT(ex_m1(&old), 0);
	HT_EQ_INT(ex_m2(&old), 0);
	HT_EQ_INT(ex_m3(&old), 0);
	HT_EQ_INT(ex_m4(&old), 0);
	x.seed = old.seed;
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_MEM(x.m1, old.m1, old.m1_len);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_ASSERT(memcmp(x.m2, old.m2, x.m2_len) != 0);
	HT_EQ_INT(ex_m3(&x), 0);
	memcpy(x.m4, old.m4, old.m4_len);
	x.m4_len = old.m4_len;
	HT_EQ_INT(ex_fin(&x), HL_EAUTH);
	HT_REASON(x.i, "final key confirmation does not match");
	HT_EQ_INT(neither_done(&x), 0);
	x.seed = 33;
	ex_free(&old);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_reflection(void)
{
	struct ex x;
	size_t n = 0;
	uint8_t out[HL_AKE_MSG_MAX];

	ex_init(&x, 12);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, x.m1, x.m1_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "our own message reflected back");

	/*
	 * The relay's attack: R's M2 goes to I as usual and also back to
	 * R.  R fails; I answers with M3 but, without R's M4, is not done
	 * (with three messages it would have shown a SAS here).
	 */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, x.m2, x.m2_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "our own message reflected back");
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(neither_done(&x), 0);
	HT_EQ_INT(ex_m4(&x), HL_EAUTH); /* R is dead: no M4 ever */
	HT_EQ_INT(x.m4_len, 0);
	/* ... and I's own M3 reflected back to it in M4's place. */
	HT_EQ_INT(hl_ake_recv(x.i, x.m3, x.m3_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "this is our own message reflected back");
	HT_EQ_INT(neither_done(&x), 0);

	/* I's own M1 reflected while it waits for M4. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, x.m1, x.m1_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "our own message reflected back");

	/* Another session's M3 at I is no reflection, just unexpected. */
	{
		struct ex other;

		ex_init(&other, 34);
		HT_EQ_INT(ex_run(&other), 0);
		HT_EQ_INT(ex_new(&x), 0);
		HT_EQ_INT(ex_m1(&x), 0);
		HT_EQ_INT(ex_m2(&x), 0);
		HT_EQ_INT(ex_m3(&x), 0);
		HT_EQ_INT(hl_ake_recv(x.i, other.m3, other.m3_len, out,
				      sizeof(out), &n),
			  HL_EAUTH);
		HT_REASON(x.i, "unexpected message M3: the initiator is "
			       "waiting for M4");
		ex_free(&other);
	}
	/* I's own M3 with one bit changed: not ours, so unexpected. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	x.m3[HL_AKE_M3_LEN - 1] ^= 1;
	HT_EQ_INT(hl_ake_recv(x.i, x.m3, x.m3_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "unexpected message M3: the initiator is waiting for "
		       "M4");
	HT_EQ_INT(neither_done(&x), 0);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/* Rewrite M1's offer (an attacker in the middle). */
static int set_offer(struct ex *x, const uint16_t *s, size_t n)
{
	struct hl_ake_m1 m;
	uint8_t copy[HL_AKE_MSG_MAX];
	char why[200];

	memcpy(copy, x->m1, x->m1_len);
	HT_EQ_INT(hl_ake_m1_decode(copy, x->m1_len, &m, why, sizeof(why)), 0);
	m.offer.n = n;
	memcpy(m.offer.s, s, n * sizeof(*s));
	HT_EQ_INT(hl_ake_m1_encode(&m, x->m1, sizeof(x->m1), &x->m1_len), 0);
	return 0;
}

/* Rewrite M2's suite fields (keeping its signature and MAC). */
static int set_m2_suites(struct ex *x, uint16_t chosen, const uint16_t *offered,
			 size_t n_off, const uint16_t *supported, size_t n_sup)
{
	struct hl_ake_m2 m;
	uint8_t copy[HL_AKE_MSG_MAX];
	char why[200];

	memcpy(copy, x->m2, x->m2_len);
	HT_EQ_INT(hl_ake_m2_decode(copy, x->m2_len, &m, why, sizeof(why)), 0);
	m.suite = chosen;
	if (offered) {
		m.offered.n = n_off;
		memcpy(m.offered.s, offered, n_off * sizeof(*offered));
	}
	if (supported) {
		m.supported.n = n_sup;
		memcpy(m.supported.s, supported, n_sup * sizeof(*supported));
	}
	HT_EQ_INT(hl_ake_m2_encode(&m, x->m2, sizeof(x->m2), &x->m2_len), 0);
	return 0;
}

/* Both sides "implement" a second, stronger suite (test hook). */
static void two_suites(struct ex *x, uint64_t seed)
{
	ex_init(x, seed);
	x->suites[1] = FAKE_SUITE;
	x->add_i[0] = FAKE_SUITE;
	x->add_r[0] = FAKE_SUITE;
}

static int test_downgrade_strip(void)
{
	static const uint16_t only1[] = {0x0001}, both[] = {0x0001, FAKE_SUITE};
	struct ex x;

	two_suites(&x, 13);
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(check_results(&x, FAKE_SUITE), 0);

	/* The stronger suite stripped from M1: R picks 0x0001. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(set_offer(&x, only1, 1), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(hl_get_be16(x.m2 + 5), 0x0001);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "the suite list was altered in transit");
	HT_EQ_INT(neither_done(&x), 0);

	/* Stripped, and M2's echo of the offer put back: a downgrade. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(set_offer(&x, only1, 1), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(set_m2_suites(&x, 0x0001, both, 2, NULL, 0), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "the peer chose suite 0x0001 although both support a "
		       "stronger one");
	HT_REASON(x.i, "(downgrade)");

	/* ... and R's supported list cut too: the signature catches it. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(set_offer(&x, only1, 1), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(set_m2_suites(&x, 0x0001, both, 2, only1, 1), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "signature does not verify");
	HT_EQ_INT(neither_done(&x), 0);
	return clean_ok(&x, FAKE_SUITE);
}

static int test_downgrade_choice(void)
{
	static const uint16_t only1[] = {0x0001};
	struct ex x;

	two_suites(&x, 14);
	/* M2's chosen suite changed from 0x0003 to 0x0001. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(hl_get_be16(x.m2 + 5), FAKE_SUITE);
	HT_EQ_INT(set_m2_suites(&x, 0x0001, NULL, 0, NULL, 0), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "the peer chose suite 0x0001 although both support a "
		       "stronger one, 0x0003 (downgrade)");

	/* Chosen and supported both cut: the signature catches it. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(set_m2_suites(&x, 0x0001, NULL, 0, only1, 1), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "signature does not verify");

	/* A suite that was never offered. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(set_m2_suites(&x, 0x0002, NULL, 0, NULL, 0), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "which we did not offer");

	/* A choice that R does not list as supported. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(set_m2_suites(&x, FAKE_SUITE, NULL, 0, only1, 1), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "does not list it");
	return clean_ok(&x, FAKE_SUITE);
}

/* I supports more than R: R's honest pick of 0x0001 is no downgrade. */
static int test_no_false_downgrade(void)
{
	struct ex x;

	two_suites(&x, 15);
	x.add_r[0] = 0;
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(x.m1[53], 2); /* I offered both */
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	ex_free(&x);

	/* R supports more than I: I offers 0x0001 only. */
	two_suites(&x, 16);
	x.add_i[0] = 0;
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(x.m1[53], 1);
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	ex_free(&x);
	return 0;
}

static int test_offer_outside_contract(void)
{
	static const uint16_t extra[] = {0x0001, 0x0007};
	struct ex x;

	ex_init(&x, 17);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(set_offer(&x, extra, 2), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "offered suite 0x0007, which the contract does not "
		       "allow");
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_pq_required(void)
{
	static const uint16_t both[] = {0x0001, 0x0002};
	struct ex x;

	/* The contract requires post-quantum; 0x0002 is not built. */
	ex_init(&x, 18);
	x.ip.policy = x.rp.policy = HL_POLICY_PQ_REQUIRED;
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), HL_EAUTH);
	HT_REASON(x.i, "post-quantum suite required by the contract but not "
		       "available");
	HT_EQ_INT(x.m1_len, 0);

	/* The responder, handed a classical M1, says the same. */
	x.ip.policy = 0;
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "post-quantum suite required by the contract but not "
		       "available");
	HT_EQ_INT(neither_done(&x), 0);

	/* Were 0x0002 built (test hook): only it is offered and used. */
	x.ip.policy = HL_POLICY_PQ_REQUIRED;
	x.add_i[0] = x.add_r[0] = HL_AKE_SUITE_HYBRID_MLKEM768;
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(x.m1[53], 1);
	HT_EQ_INT(hl_get_be16(x.m1 + 54), 0x0002);
	HT_EQ_INT(check_results(&x, 0x0002), 0);

	/* ... and a classical suite slipped into the offer is refused. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(set_offer(&x, both, 2), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "classical suite 0x0001 although the contract requires "
		       "a post-quantum suite");
	return clean_ok(&x, 0x0002);
}

static int test_key_substitution(void)
{
	struct ex x;
	struct hl_ake *m = NULL;
	struct hl_ake_params mp;
	struct hl_prng pm;
	uint8_t m2[HL_AKE_MSG_MAX];
	size_t n = 0;

	/* Mallory (a third identity) answers M1 as herself. */
	ex_init(&x, 19);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	hl_prng_seed(&pm, 99);
	mp = x.rp;
	mp.me = &mallory;
	mp.rng = hl_prng_as_rng(&pm);
	HT_EQ_INT(hl_ake_new(&m, &mp), 0);
	HT_EQ_INT(hl_ake_recv(m, x.m1, x.m1_len, m2, sizeof(m2), &n), 0);
	HT_EQ_INT(hl_ake_recv(x.i, m2, n, x.m3, sizeof(x.m3), &x.m3_len),
		  HL_EAUTH);
	HT_REASON(x.i, "signature does not verify with the contract's key");
	hl_ake_free(m);
	m = NULL;

	/* Mallory signs Bob's genuine M2 over again with her key. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	{
		uint8_t th2[32], msg[25 + 96];

		sha256_3((const uint8_t *)"hotline ake v1", 14, x.m1, x.m1_len,
			 x.m2, x.m2_len - 96, th2);
		memcpy(msg, "hotline ake responder v1", 25);
		memcpy(msg + 25, th2, 32);
		memcpy(msg + 57, alice.pk, 32);
		memcpy(msg + 89, bob.pk, 32);
		crypto_sign_detached(x.m2 + x.m2_len - 96, NULL, msg,
				     sizeof(msg), mallory.sk);
	}
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "signature does not verify with the contract's key");

	/* The initiator's side: Mallory starts the call as Alice. */
	HT_EQ_INT(ex_new(&x), 0);
	hl_prng_seed(&pm, 98);
	mp = x.ip;
	mp.me = &mallory;
	mp.rng = hl_prng_as_rng(&pm);
	HT_EQ_INT(hl_ake_new(&m, &mp), 0);
	HT_EQ_INT(hl_ake_start(m, x.m1, sizeof(x.m1), &x.m1_len), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(hl_ake_recv(m, x.m2, x.m2_len, x.m3, sizeof(x.m3), &x.m3_len),
		  HL_EAUTH); /* Bob signed for Alice, not for Mallory */
	hl_ake_free(m);
	m = NULL;

	/* Mallory, in the middle, answers Bob's M2 with her own M3. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	{
		uint8_t th2[32], th3[32], msg[25 + 96];

		sha256_3((const uint8_t *)"hotline ake v1", 14, x.m1, x.m1_len,
			 x.m2, x.m2_len - 96, th2);
		sha256_3(th2, 32, x.m2 + x.m2_len - 96, 64,
			 x.m2 + x.m2_len - 32, 32, th3);
		memcpy(msg, "hotline ake initiator v1", 25);
		memcpy(msg + 25, th3, 32);
		memcpy(msg + 57, alice.pk, 32);
		memcpy(msg + 89, bob.pk, 32);
		memcpy(x.m3, "HLK\x01\x03", 5);
		crypto_sign_detached(x.m3 + 5, NULL, msg, sizeof(msg),
				     mallory.sk);
		memset(x.m3 + 69, 0, 32);
		x.m3_len = HL_AKE_M3_LEN;
	}
	HT_EQ_INT(ex_m4(&x), HL_EAUTH);
	HT_REASON(x.r, "signature does not verify with the contract's key");
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_wrong_call_or_contract(void)
{
	struct ex x;

	ex_init(&x, 20);
	x.rp.call_id[0] ^= 1; /* the responder holds another call */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "this message belongs to another call");
	x.rp.call_id[0] ^= 1;

	x.rp.contract_hash[31] ^= 0x40; /* same call, other contract */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "contract hash mismatch");
	x.rp.contract_hash[31] ^= 0x40;
	HT_EQ_INT(neither_done(&x), 0);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/* Every proper prefix of each message is refused as truncated. */
static int test_truncated(void)
{
	struct ex x;
	size_t n = 0;
	uint8_t out[HL_AKE_MSG_MAX];

	ex_init(&x, 21);
	HT_EQ_INT(ex_run(&x), 0);
	for (size_t len = 0; len < x.m1_len; len++) {
		struct hl_ake *r = NULL;

		HT_EQ_INT(hl_ake_new(&r, &x.rp), 0);
		HT_EQ_INT(hl_ake_recv(r, x.m1, len, out, sizeof(out), &n),
			  HL_EAUTH);
		HT_ASSERT(has(hl_ake_error(r),
			      len ? "is truncated" : "is empty"));
		hl_ake_free(r);
	}
	for (size_t len = 0; len < x.m2_len; len++) {
		HT_EQ_INT(ex_new(&x), 0);
		HT_EQ_INT(ex_m1(&x), 0);
		HT_EQ_INT(ex_m2(&x), 0);
		HT_EQ_INT(hl_ake_recv(x.i, x.m2, len, out, sizeof(out), &n),
			  HL_EAUTH);
		HT_ASSERT(has(hl_ake_error(x.i),
			      len ? "is truncated" : "is empty"));
	}
	for (size_t len = 0; len < x.m3_len; len++) {
		HT_EQ_INT(ex_new(&x), 0);
		HT_EQ_INT(ex_m1(&x), 0);
		HT_EQ_INT(ex_m2(&x), 0);
		HT_EQ_INT(ex_m3(&x), 0);
		HT_EQ_INT(hl_ake_recv(x.r, x.m3, len, out, sizeof(out), &n),
			  HL_EAUTH);
		HT_ASSERT(has(hl_ake_error(x.r),
			      len ? "is truncated" : "is empty"));
	}
	for (size_t len = 0; len < x.m4_len; len++) {
		HT_EQ_INT(ex_new(&x), 0);
		HT_EQ_INT(ex_m1(&x), 0);
		HT_EQ_INT(ex_m2(&x), 0);
		HT_EQ_INT(ex_m3(&x), 0);
		HT_EQ_INT(ex_m4(&x), 0);
		HT_EQ_INT(hl_ake_recv(x.i, x.m4, len, NULL, 0, &n), HL_EAUTH);
		HT_ASSERT(has(hl_ake_error(x.i),
			      len ? "is truncated" : "is empty"));
		HT_ASSERT(!hl_ake_done(x.i));
	}
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_oversized(void)
{
	static uint8_t big[HL_AKE_MSG_MAX + 2], tmax[HL_AKE_TRANSPORT_MAX + 1];
	struct ex x;
	size_t n = 0;
	uint8_t out[HL_AKE_MSG_MAX];

	ex_init(&x, 22);
	/* One byte after M1, M2, M3, M4. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	x.m1[x.m1_len++] = 0;
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "M1 has 1 byte(s) after its end");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	x.m2[x.m2_len++] = 0;
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "M2 has 1 byte(s) after its end");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	x.m3[x.m3_len++] = 0;
	HT_EQ_INT(ex_m4(&x), HL_EAUTH);
	HT_REASON(x.r, "M3 has 1 byte(s) after its end");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(ex_m4(&x), 0);
	x.m4[x.m4_len++] = 0;
	HT_EQ_INT(ex_fin(&x), HL_EAUTH);
	HT_REASON(x.i, "M4 has 1 byte(s) after its end");
	HT_ASSERT(!hl_ake_done(x.i));

	/* Longer than any message may be. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	memcpy(big, x.m1, x.m1_len);
	HT_EQ_INT(hl_ake_recv(x.r, big, sizeof(big), out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "too long");

	/* Transport parameters announced longer than allowed. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	{
		size_t at = x.m1_len - x.ip.transport_len - 2;

		memcpy(big, x.m1, at);
		hl_put_be16(big + at, HL_AKE_TRANSPORT_MAX + 1);
		memset(big + at + 2, 'x', HL_AKE_TRANSPORT_MAX + 1);
		HT_EQ_INT(hl_ake_recv(x.r, big,
				      at + 2 + HL_AKE_TRANSPORT_MAX + 1, out,
				      sizeof(out), &n),
			  HL_EAUTH);
		HT_REASON(x.r, "4201 bytes of transport parameters");
	}

	/* The largest transport parameters pass; one byte more is refused. */
	memset(tmax, 't', sizeof(tmax));
	x.ip.transport = x.rp.transport = tmax;
	x.ip.transport_len = x.rp.transport_len = HL_AKE_TRANSPORT_MAX + 1;
	{
		struct hl_ake *a = NULL;

		HT_EQ_INT(hl_ake_new(&a, &x.ip), HL_EINVAL);
		HT_ASSERT(!a);
	}
	x.ip.transport_len = x.rp.transport_len = HL_AKE_TRANSPORT_MAX;
	HT_EQ_INT(ex_run(&x), 0);
	HT_ASSERT(x.m2_len <= HL_AKE_MSG_MAX);
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	x.ip.transport = NULL; /* none at all */
	x.ip.transport_len = 0;
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/* A validly signed M1/M2 with a low-order ephemeral key is refused. */
static int test_low_order_key(void)
{
	struct ex x;
	struct hl_ake_m1 m1;
	struct hl_ake_m2 m2;
	uint8_t copy[HL_AKE_MSG_MAX], zero[32] = {0}, th2[32], msg[25 + 96];
	char why[200];
	size_t signed_len = 0;

	ex_init(&x, 23);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	memcpy(copy, x.m1, x.m1_len);
	HT_EQ_INT(hl_ake_m1_decode(copy, x.m1_len, &m1, why, sizeof(why)), 0);
	m1.e = zero;
	HT_EQ_INT(hl_ake_m1_encode(&m1, x.m1, sizeof(x.m1), &x.m1_len), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "all-zero shared secret");

	/* Bob himself (his key, a good signature) sends e_R = 0. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	memcpy(copy, x.m2, x.m2_len);
	HT_EQ_INT(hl_ake_m2_decode(copy, x.m2_len, &m2, why, sizeof(why)), 0);
	m2.e = zero;
	m2.sig = NULL;
	HT_EQ_INT(hl_ake_m2_encode(&m2, x.m2, sizeof(x.m2), &signed_len), 0);
	sha256_3((const uint8_t *)"hotline ake v1", 14, x.m1, x.m1_len, x.m2,
		 signed_len, th2);
	memcpy(msg, "hotline ake responder v1", 25);
	memcpy(msg + 25, th2, 32);
	memcpy(msg + 57, alice.pk, 32);
	memcpy(msg + 89, bob.pk, 32);
	crypto_sign_detached(x.m2 + signed_len, NULL, msg, sizeof(msg), bob.sk);
	memset(x.m2 + signed_len + 64, 0, 32);
	x.m2_len = signed_len + 96;
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "all-zero shared secret");
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

static int test_state_machine(void)
{
	struct ex x, other;
	uint8_t out[HL_AKE_MSG_MAX];
	size_t n = 0;
	struct hl_ake_result res;

	ex_init(&other, 24);
	HT_EQ_INT(ex_run(&other), 0);
	ex_init(&x, 25);

	/* R expects M1 first. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.r, other.m3, other.m3_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.r, "unexpected message M3: the responder is waiting for "
		       "M1");
	/* Dead: every later call fails, the first reason stays. */
	HT_EQ_INT(
		hl_ake_recv(x.r, other.m1, other.m1_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.r, "unexpected message M3");
	HT_EQ_INT(hl_ake_result(x.r, &res), HL_ESTATE);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.r, other.m2, other.m2_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.r, "unexpected message M2");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.r, other.m4, other.m4_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.r, "unexpected message M4: the responder is waiting for "
		       "M1");

	/* I expects M2. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.i, other.m3, other.m3_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.i, "the initiator is waiting for M2");
	HT_EQ_INT(hl_ake_start(x.i, out, sizeof(out), &n), HL_EAUTH);
	/* An M4 before M2 (even a genuine one of another session). */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.i, other.m4, other.m4_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.i, "unexpected message M4: the initiator is waiting for "
		       "M2");
	/* Someone else's M1 at the initiator. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.i, other.m1, other.m1_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.i, "unexpected message M1");

	/* R, after M1, expects M3: a second M1 kills it. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m2(&x), HL_EAUTH);
	HT_REASON(x.r, "the responder is waiting for M3");
	/* ... and an M4 there too. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(
		hl_ake_recv(x.r, other.m4, other.m4_len, out, sizeof(out), &n),
		HL_EAUTH);
	HT_REASON(x.r, "unexpected message M4: the responder is waiting for "
		       "M3");

	/* I, after M3, expects M4: a second M2 kills it. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(ex_m3(&x), HL_EAUTH);
	HT_REASON(x.i, "the initiator is waiting for M4");
	HT_EQ_INT(hl_ake_result(x.i, &res), HL_ESTATE);

	/* Calls in the wrong order. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_start(x.r, out, sizeof(out), &n), HL_ESTATE);
	HT_REASON(x.r, "initiator only");
	HT_EQ_INT(
		hl_ake_recv(x.i, other.m2, other.m2_len, out, sizeof(out), &n),
		HL_ESTATE);
	HT_REASON(x.i, "before hl_ake_start");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(ex_m1(&x), HL_ESTATE);
	HT_REASON(x.i, "called twice");

	/* A message after completion ends the exchange too (fail closed). */
	HT_EQ_INT(ex_run(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, x.m2, x.m2_len, out, sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.i, "after the exchange was complete");
	HT_ASSERT(!hl_ake_done(x.i));
	HT_EQ_INT(hl_ake_result(x.i, &res), HL_ESTATE);
	HT_EQ_INT(ex_run(&x), 0); /* a repeated M4 */
	HT_EQ_INT(ex_fin(&x), HL_EAUTH);
	HT_REASON(x.i, "a message (M4) arrived after the exchange was "
		       "complete");
	HT_EQ_INT(ex_run(&x), 0); /* a repeated M3 */
	HT_EQ_INT(ex_m4(&x), HL_EAUTH);
	HT_REASON(x.r, "a message (M3) arrived after the exchange was "
		       "complete");

	/* Garbage headers. */
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, (const uint8_t *)"HLX\x01\x01", 5, out,
			      sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "not a key-exchange message");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, (const uint8_t *)"HLK\x02\x01", 5, out,
			      sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "version 2");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, (const uint8_t *)"HLK\x01\x09", 5, out,
			      sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "unknown key-exchange message type 9");
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, (const uint8_t *)"HLK\x01\x05", 5, out,
			      sizeof(out), &n),
		  HL_EAUTH);
	HT_REASON(x.r, "unknown key-exchange message type 5");
	ex_free(&other);
	return clean_ok(&x, HL_AKE_SUITE_X25519_ED25519_SHA256);
}

/* Output buffers too small: HL_ETOOBIG, nothing changes, retry works. */
static int test_small_buffers(void)
{
	struct ex x;
	uint8_t out[HL_AKE_MSG_MAX];
	size_t n = 0;

	ex_init(&x, 26);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_start(x.i, out, 10, &n), HL_ETOOBIG);
	HT_EQ_INT(ex_m1(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, x.m1, x.m1_len, out, 100, &n), HL_ETOOBIG);
	HT_EQ_INT(ex_m2(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.i, x.m2, x.m2_len, out, HL_AKE_M3_LEN - 1, &n),
		  HL_ETOOBIG);
	HT_EQ_INT(ex_m3(&x), 0);
	HT_EQ_INT(hl_ake_recv(x.r, x.m3, x.m3_len, out, HL_AKE_M4_LEN - 1, &n),
		  HL_ETOOBIG);
	HT_EQ_INT(hl_ake_recv(x.r, x.m3, x.m3_len, NULL, 0, &n), HL_ETOOBIG);
	HT_ASSERT(!hl_ake_done(x.r));
	HT_EQ_INT(ex_m4(&x), 0);
	HT_EQ_INT(ex_fin(&x), 0); /* no reply: no buffer needed */
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	ex_free(&x);
	return 0;
}

/* The message may be read from and the reply written to one buffer. */
static int test_same_buffer(void)
{
	struct ex x;
	uint8_t buf[HL_AKE_MSG_MAX];
	size_t n = 0, m = 0;

	ex_init(&x, 29);
	HT_EQ_INT(ex_new(&x), 0);
	HT_EQ_INT(hl_ake_start(x.i, buf, sizeof(buf), &n), 0);
	HT_EQ_INT(hl_ake_recv(x.r, buf, n, buf, sizeof(buf), &m), 0);
	HT_EQ_INT(hl_ake_recv(x.i, buf, m, buf, sizeof(buf), &n), 0);
	HT_EQ_INT(hl_ake_recv(x.r, buf, n, buf, sizeof(buf), &m), 0);
	HT_EQ_INT(m, HL_AKE_M4_LEN);
	HT_EQ_INT(hl_ake_recv(x.i, buf, m, buf, sizeof(buf), &n), 0);
	HT_EQ_INT(n, 0);
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	ex_free(&x);
	return 0;
}

static int test_bad_params(void)
{
	static const uint16_t unsorted[] = {2, 1},
			      nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct hl_ake *a = NULL;
	struct hl_ake_params p;
	struct hl_identity broken;
	struct ex x;

	ex_init(&x, 27);
	HT_EQ_INT(hl_ake_new(NULL, &x.ip), HL_EINVAL);
	HT_EQ_INT(hl_ake_new(&a, NULL), HL_EINVAL);
	p = x.ip;
	p.me = NULL;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	p.rng.fill = NULL;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	p.role = (enum hl_ake_role)7;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	p.suites = unsorted;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p.suites = nine;
	p.n_suites = 9;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p.n_suites = 0;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	p.policy = 1u << 7;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	memcpy(p.peer, alice.pk, HL_ID_PK_LEN); /* a call with oneself */
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	broken = alice;
	broken.pk[0] ^= 1; /* sk and pk disagree */
	p.me = &broken;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	p = x.ip;
	p.transport = NULL;
	HT_EQ_INT(hl_ake_new(&a, &p), HL_EINVAL);
	HT_ASSERT(a == NULL);

	/* The test hook's own checks. */
	HT_EQ_INT(hl_ake_new(&a, &x.ip), 0);
	HT_EQ_INT(hl_ake_test_add_suite(a, 0), HL_EINVAL);
	HT_EQ_INT(hl_ake_test_add_suite(a, 1), HL_EINVAL);
	for (uint16_t s = 2; s <= 8; s++)
		HT_EQ_INT(hl_ake_test_add_suite(a, s), 0);
	HT_EQ_INT(hl_ake_test_add_suite(a, 9), HL_EFULL);
	hl_ake_free(a);
	hl_ake_free(NULL);
	HT_ASSERT(hl_ake_error(NULL) != NULL);
	HT_ASSERT(!hl_ake_done(NULL));
	return 0;
}

/* Allocation failure anywhere: a clean HL_ENOMEM, nothing leaked. */
static int test_oom(void)
{
	struct ex x;
	int err;

	ex_init(&x, 28);
	err = ex_run(&x);
	if (err == HL_ENOMEM && hl_mem_failed()) {
		ex_free(&x);
		return HT_OOM_OK;
	}
	HT_EQ_INT(err, 0);
	HT_EQ_INT(check_results(&x, 0x0001), 0);
	ex_free(&x);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_exchange),
	HT_TEST(test_deterministic),
	HT_TEST(test_spec_recompute),
	HT_TEST(test_sas_words),
	HT_TEST(test_tamper_m1),
	HT_TEST(test_tamper_m2),
	HT_TEST(test_tamper_m3),
	HT_TEST(test_tamper_m4),
	HT_TEST(test_m4_missing),
	HT_TEST(test_replay_m2),
	HT_TEST(test_replay_m1),
	HT_TEST(test_replay_m4),
	HT_TEST(test_reflection),
	HT_TEST(test_downgrade_strip),
	HT_TEST(test_downgrade_choice),
	HT_TEST(test_no_false_downgrade),
	HT_TEST(test_offer_outside_contract),
	HT_TEST(test_pq_required),
	HT_TEST(test_key_substitution),
	HT_TEST(test_wrong_call_or_contract),
	HT_TEST(test_truncated),
	HT_TEST(test_oversized),
	HT_TEST(test_low_order_key),
	HT_TEST(test_state_machine),
	HT_TEST(test_small_buffers),
	HT_TEST(test_same_buffer),
	HT_TEST(test_bad_params),
	HT_TEST_OOM(test_oom),
};

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	make_identity(&alice, "alice", 0xa1);
	make_identity(&bob, "bob", 0xb0);
	make_identity(&mallory, "mallory", 0x66);
	crypto_hash_sha256(contract_hash, (const uint8_t *)"a contract", 10);
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
