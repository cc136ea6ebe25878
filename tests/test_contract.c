/*
 * test_contract.c - call contracts (docs/protocol.md §5.2): the field
 * rules, the canonical encoding (round trips, strictness against every
 * truncation and every single-byte change), the UTF-8 validator
 * (exhaustive up to 3 bytes), signatures (known answers from fixed seeds,
 * tampering, wrong keys, both answers), call-id text and JSON bundles.
 *
 * Keys come from libsodium directly (crypto_sign_seed_keypair) so this
 * program does not depend on src/identity.  jansson is pointed at
 * hl_malloc/hl_free so its allocations are leak-checked and fail on
 * purpose in the HT_OOM runs.
 */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "harness.h"
#include "hotline/contract.h"

#include "../src/contract/contract_internal.h"

/*
 * Known answers.  Computed independently of this code (Python with the
 * "cryptography" package, hashlib and struct, from the text of §5.2) for:
 * proposer seed 00 01 .. 1f, invitee seed 20 21 .. 3f, call id
 * 00112233445566778899aabbccddeeff, not_before 1767225600
 * (2026-01-01T00:00:00Z), not_after + 3600, created 1767139200, policy 3,
 * suites {1, 2}, name "Alice Müller", topics "Quarterly review" and
 * "日本語のトピック".
 */
static const char kat_pk_a[] =
	"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char kat_pk_b[] =
	"29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7";
static const char kat_enc[] =
	"484c430100112233445566778899aabbccddeeff03a107bff3ce10be1d70dd18"
	"e74bc09967e4d6309ba50d5f1ddc8664125531b829acbae141bccaf0b22e1a94"
	"d34d0bc7361e526d0bfe12c89794bc9322966dd7000000006955b90000000000"
	"6955c71000000000695467800000000302000100020d416c696365204dc3bc6c"
	"6c6572020010517561727465726c79207265766965770018e697a5e69cace8aa"
	"9ee381aee38388e38394e38383e382af";
static const char kat_hash[] =
	"82b49a1b8ee2fa50c0255013a8cb0693b6a81a1b0a7a6cf9380f48cc0430915c";
static const char kat_prop[] =
	"11e1acd082b5c19eddefcfbfa549fb0f7f7908bb6038f25d40bfcdc1f6483835"
	"146502854075deb9e2085cf3cda333147ddb557b5513b4c8dce411921b1c0405";
static const char kat_acc[] =
	"4fa7f33299a995ea5818cb23f1a6f36724f6de82929808d908eb7f0d8fd3a28e"
	"4bc4e5ea5858888c908e43e5ed0f824e89559acd3dfda48cafa53b604f3ef90e";
static const char kat_dec[] =
	"1ff69a1e844e562f60e502c20bd24bc6be426a22f3724e0109b05a18ee54e8e2"
	"66bb47d091300d08b503712062e7319575859da00b6171f5e9d001da2b128a04";
static const char kat_json[] =
	"{\"contract\":\"SExDAQARIjNEVWZ3iJmqu8zd7v8DoQe_884Qvh1w3RjnS8CZZ-TW"
	"MJulDV8d3IZkElUxuCmsuuFBvMrwsi4alNNNC8c2HlJtC_4SyJeUvJMilm3XAAAAAG"
	"lVuQAAAAAAaVXHEAAAAABpVGeAAAAAAwIAAQACDUFsaWNlIE3DvGxsZXICABBRdWFy"
	"dGVybHkgcmV2aWV3ABjml6XmnKzoqp7jga7jg4jjg5Tjg4Pjgq8\",\"proposal\":"
	"\"EeGs0IK1wZ7d78-_pUn7D395CLtgOPJdQL_NwfZIODUUZQKFQHXeueIIXPPNozMUfd"
	"tVe1UTtMjc5BGSGxwEBQ\",\"acceptance\":\"T6fzMpmplepYGMsj8abzZyT23oKS"
	"mAjZCOt_DY_Too5LxOXqWFiIjJCOQ-XtD4JOiVWazT39pIyvpTtgTz75Dg\"}";

/* An identity from a seed whose bytes are first, first+1, ... */
static void make_id(struct hl_identity *id, uint8_t first, const char *name)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

static void kat_contract(struct hl_contract *c, const struct hl_identity *a,
			 const struct hl_identity *b)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < HL_CALL_ID_LEN; i++)
		c->call_id[i] = (uint8_t)(0x11 * i);
	memcpy(c->proposer, a->pk, HL_ID_PK_LEN);
	memcpy(c->invitee, b->pk, HL_ID_PK_LEN);
	c->not_before = 1767225600;
	c->not_after = 1767225600 + 3600;
	c->created = 1767139200;
	c->policy = HL_POLICY_RELAY_ONLY | HL_POLICY_NO_RECORDING;
	c->n_suites = 2;
	c->suites[0] = 1;
	c->suites[1] = 2;
	snprintf(c->proposer_name, sizeof(c->proposer_name), "Alice Müller");
	c->n_topics = 2;
	snprintf(c->topics[0], sizeof(c->topics[0]), "Quarterly review");
	snprintf(c->topics[1], sizeof(c->topics[1]), "日本語のトピック");
}

/* Write code point cp as UTF-8 (no validity checks); returns its length. */
static size_t utf8_put(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* A random allowed code point (no controls, no surrogates). */
static uint32_t random_cp(struct hl_prng *p)
{
	uint32_t cp;

	switch (hl_prng_below(p, 4)) {
	case 0:
		return (uint32_t)(0x20 + hl_prng_below(p, 0x5f));
	case 1:
		return (uint32_t)(0xa0 + hl_prng_below(p, 0x800 - 0xa0));
	case 2:
		do
			cp = (uint32_t)(0x800 + hl_prng_below(p, 0xf800));
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	default:
		return (uint32_t)(0x10000 + hl_prng_below(p, 0x100000));
	}
}

/* Random valid text of 1..max bytes into dst (NUL-terminated). */
static void random_text(struct hl_prng *p, char *dst, size_t max)
{
	size_t want = 1 + hl_prng_below(p, max), n = 0;
	uint8_t tmp[4];

	for (;;) {
		size_t k = utf8_put(random_cp(p), tmp);

		if (n + k > want)
			break;
		memcpy(dst + n, tmp, k);
		n += k;
	}
	if (n == 0)
		dst[n++] = 'x';
	dst[n] = 0;
}

/* A random contract that passes hl_contract_check. */
static void random_contract(struct hl_prng *p, struct hl_contract *c)
{
	uint8_t buf[8 + HL_CALL_ID_LEN + 2 * HL_ID_PK_LEN];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)hl_prng_next(p);
	memcpy(c->call_id, buf, HL_CALL_ID_LEN);
	memcpy(c->proposer, buf + 16, HL_ID_PK_LEN);
	memcpy(c->invitee, buf + 48, HL_ID_PK_LEN);
	c->invitee[0] = (uint8_t)(c->proposer[0] ^ 1);
	c->not_before = hl_prng_next(p) >> hl_prng_below(p, 64);
	if (c->not_before > UINT64_MAX - HL_CONTRACT_MAX_DURATION)
		c->not_before -= HL_CONTRACT_MAX_DURATION;
	c->not_after =
		c->not_before + 1 + hl_prng_below(p, HL_CONTRACT_MAX_DURATION);
	c->created = hl_prng_next(p);
	c->policy = (uint32_t)hl_prng_below(p, HL_POLICY_KNOWN + 1);
	c->n_suites = (uint8_t)(1 + hl_prng_below(p, HL_CONTRACT_MAX_SUITES));
	uint32_t s = (uint32_t)hl_prng_below(p, 4);
	for (unsigned i = 0; i < c->n_suites; i++) {
		c->suites[i] = (uint16_t)s;
		s += 1 + (uint32_t)hl_prng_below(p, 3000);
		if (s > 0xffff) {
			c->n_suites = (uint8_t)(i + 1);
			break;
		}
	}
	random_text(p, c->proposer_name, HL_ID_NAME_MAX);
	c->n_topics = (uint8_t)hl_prng_below(p, HL_CONTRACT_MAX_TOPICS + 1);
	for (unsigned i = 0; i < c->n_topics; i++)
		random_text(p, c->topics[i], HL_CONTRACT_TOPIC_MAX);
}

/* 64 bytes of name and 16 topics of 256 bytes, mixed 1..4-byte UTF-8. */
static void rich_contract(struct hl_contract *c, const struct hl_identity *a,
			  const struct hl_identity *b)
{
	static const char unit[] = "aé日😀"; /* 1 + 2 + 3 + 4 bytes */
	size_t n = 0;

	kat_contract(c, a, b);
	c->policy = HL_POLICY_KNOWN;
	c->not_after = c->not_before + HL_CONTRACT_MAX_DURATION;
	c->n_suites = HL_CONTRACT_MAX_SUITES;
	for (int i = 0; i < HL_CONTRACT_MAX_SUITES; i++)
		c->suites[i] = (uint16_t)(1 + 1000 * i);
	c->suites[7] = 0xffff;
	for (int i = 0; i < 7; i++)
		n += (size_t)snprintf(c->proposer_name + n,
				      sizeof(c->proposer_name) - n, "Åsa-李-");
	snprintf(c->proposer_name + n, sizeof(c->proposer_name) - n, "x");
	c->n_topics = HL_CONTRACT_MAX_TOPICS;
	for (int t = 0; t < HL_CONTRACT_MAX_TOPICS; t++) {
		char *s = c->topics[t];

		n = 0;
		for (int i = 0; i < 25; i++)
			n += (size_t)snprintf(s + n, 257 - n, "%s", unit);
		snprintf(s + n, 257 - n, "%c%c%c%c%c%c", 'A' + t, 'b', 'c', 'd',
			 'e', 'f');
	}
}

/* Two contracts say the same (compared through their encodings). */
static bool same_contract(const struct hl_contract *x,
			  const struct hl_contract *y)
{
	uint8_t ex[HL_CONTRACT_MAX_LEN], ey[HL_CONTRACT_MAX_LEN];
	size_t nx, ny;

	if (hl_contract_encode(x, ex, sizeof(ex), &nx) ||
	    hl_contract_encode(y, ey, sizeof(ey), &ny))
		return false;
	return nx == ny && memcmp(ex, ey, nx) == 0;
}

static bool same_bundle(const struct hl_contract_bundle *x,
			const struct hl_contract_bundle *y)
{
	if (x->enc_len != y->enc_len || memcmp(x->enc, y->enc, x->enc_len) ||
	    memcmp(x->hash, y->hash, sizeof(x->hash)) ||
	    memcmp(x->proposal, y->proposal, sizeof(x->proposal)) ||
	    x->has_acceptance != y->has_acceptance ||
	    x->has_decline != y->has_decline || !same_contract(&x->c, &y->c))
		return false;
	if (x->has_acceptance &&
	    memcmp(x->acceptance, y->acceptance, HL_ID_SIG_LEN))
		return false;
	if (x->has_decline && memcmp(x->decline, y->decline, HL_ID_SIG_LEN))
		return false;
	return true;
}

static bool hex_is(const uint8_t *bin, size_t n, const char *hex)
{
	uint8_t want[HL_CONTRACT_MAX_LEN];

	return hl_test_unhex(hex, want, sizeof(want)) == (long)n &&
	       memcmp(bin, want, n) == 0;
}

/* The why of a failed check, or "" when it passed. */
static const char *why_check(const struct hl_contract *c)
{
	const char *why = "";

	if (hl_contract_check(c, &why) == 0)
		return "";
	return why;
}

/* ---- known answers ---------------------------------------------------- */

static int test_known_answer(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle bun, dec;
	char *json = NULL;
	int rc = -1;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	HT_ASSERT(hex_is(a.pk, HL_ID_PK_LEN, kat_pk_a));
	HT_ASSERT(hex_is(b.pk, HL_ID_PK_LEN, kat_pk_b));
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &bun));
	HT_EQ_INT(bun.enc_len, 176);
	HT_ASSERT(hex_is(bun.enc, bun.enc_len, kat_enc));
	HT_ASSERT(hex_is(bun.hash, HL_CONTRACT_HASH_LEN, kat_hash));
	HT_ASSERT(hex_is(bun.proposal, HL_ID_SIG_LEN, kat_prop));
	HT_EQ_INT(hl_contract_bundle_state(&bun), HL_CONTRACT_PROPOSED);
	dec = bun;
	HT_OK(hl_contract_accept(&bun, &b));
	HT_ASSERT(hex_is(bun.acceptance, HL_ID_SIG_LEN, kat_acc));
	HT_EQ_INT(hl_contract_bundle_state(&bun), HL_CONTRACT_CONFIRMED);
	HT_OK(hl_contract_decline(&dec, &b));
	HT_ASSERT(hex_is(dec.decline, HL_ID_SIG_LEN, kat_dec));
	HT_EQ_INT(hl_contract_bundle_state(&dec), HL_CONTRACT_DECLINED);

	HT_OK(hl_contract_bundle_to_json(&bun, &json));
	if (strcmp(json, kat_json) != 0) {
		fprintf(stderr, "  got %s\n", json);
		goto out;
	}
	memset(&dec, 0, sizeof(dec));
	if (hl_contract_bundle_from_json(kat_json, strlen(kat_json), &dec,
					 NULL) != 0 ||
	    !same_bundle(&dec, &bun))
		goto out;
	rc = 0;
out:
	hl_free(json);
	HT_EQ_INT(rc, 0);
	return 0;
}

/* The label bytes are exactly §5.2's, with the NUL (and nothing else). */
static int test_labels(void)
{
	static const char p[] = HL_CONTRACT_LABEL_PROPOSAL;
	static const char a[] = HL_CONTRACT_LABEL_ACCEPTANCE;
	static const char d[] = HL_CONTRACT_LABEL_DECLINE;

	HT_EQ_INT(sizeof(p), 29);
	HT_EQ_MEM(p, "hotline contract proposal v1", 29);
	HT_EQ_INT(sizeof(a), 31);
	HT_EQ_MEM(a, "hotline contract acceptance v1", 31);
	HT_EQ_INT(sizeof(d), 28);
	HT_EQ_MEM(d, "hotline contract decline v1", 28);
	return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static int test_roundtrip_rich(void)
{
	struct hl_identity a, b;
	struct hl_contract c, d;
	uint8_t enc[HL_CONTRACT_MAX_LEN], enc2[HL_CONTRACT_MAX_LEN];
	size_t n, n2;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	rich_contract(&c, &a, &b);
	HT_EQ_INT(strlen(c.proposer_name), 64);
	for (int t = 0; t < 16; t++)
		HT_EQ_INT(strlen(c.topics[t]), 256);
	HT_ASSERT(strcmp(why_check(&c), "") == 0);
	HT_OK(hl_contract_encode(&c, enc, sizeof(enc), &n));
	/* The largest possible encoding: 195 + 16 * (2 + 256). */
	HT_EQ_INT(n, 4323);
	HT_EQ_INT(hl_contract_encode(&c, enc2, n - 1, &n2), HL_ETOOBIG);
	HT_OK(hl_contract_encode(&c, enc2, n, &n2));
	HT_EQ_INT(n2, n);
	memset(&d, 0xa5, sizeof(d));
	HT_OK(hl_contract_decode(enc, n, &d));
	HT_EQ_MEM(d.call_id, c.call_id, HL_CALL_ID_LEN);
	HT_EQ_MEM(d.proposer, c.proposer, HL_ID_PK_LEN);
	HT_EQ_MEM(d.invitee, c.invitee, HL_ID_PK_LEN);
	HT_ASSERT(d.not_before == c.not_before && d.not_after == c.not_after);
	HT_ASSERT(d.created == c.created && d.policy == c.policy);
	HT_EQ_INT(d.n_suites, 8);
	HT_EQ_MEM(d.suites, c.suites, sizeof(c.suites));
	HT_ASSERT(strcmp(d.proposer_name, c.proposer_name) == 0);
	HT_EQ_INT(d.n_topics, 16);
	for (int t = 0; t < 16; t++)
		HT_ASSERT(strcmp(d.topics[t], c.topics[t]) == 0);
	HT_OK(hl_contract_encode(&d, enc2, sizeof(enc2), &n2));
	HT_EQ_INT(n2, n);
	HT_EQ_MEM(enc2, enc, n);
	return 0;
}

static int test_roundtrip_random(void)
{
	struct hl_prng p;
	struct hl_contract c, d;
	uint8_t enc[HL_CONTRACT_MAX_LEN], enc2[HL_CONTRACT_MAX_LEN];
	size_t n, n2;

	hl_prng_seed(&p, 42);
	for (int it = 0; it < 3000; it++) {
		random_contract(&p, &c);
		HT_ASSERT(strcmp(why_check(&c), "") == 0);
		HT_OK(hl_contract_encode(&c, enc, sizeof(enc), &n));
		HT_OK(hl_contract_decode(enc, n, &d));
		HT_OK(hl_contract_encode(&d, enc2, sizeof(enc2), &n2));
		HT_EQ_INT(n2, n);
		HT_EQ_MEM(enc2, enc, n);
		/* Trailing byte and one byte short are refused. */
		enc[n] = 0;
		HT_EQ_INT(hl_contract_decode(enc, n + 1, &d), HL_EPARSE);
		HT_EQ_INT(hl_contract_decode(enc, n - 1, &d), HL_EPARSE);
	}
	return 0;
}

/*
 * Every truncation of a valid encoding fails; every single-byte change
 * either fails or decodes to a contract whose encoding is the changed
 * bytes (not the original), and then the original proposal signature
 * does not verify.  On the known-answer contract every byte value is
 * tried at every position; on the largest contract a sample.
 */
static int strict_one(const struct hl_contract_bundle *orig, size_t pos,
		      uint8_t v, long *decoded)
{
	struct hl_contract_bundle t = *orig;
	uint8_t again[HL_CONTRACT_MAX_LEN];
	const char *why = NULL;
	size_t n;

	t.enc[pos] = v;
	if (hl_contract_decode(t.enc, t.enc_len, &t.c) != 0)
		return 0;
	(*decoded)++;
	HT_OK(hl_contract_encode(&t.c, again, sizeof(again), &n));
	HT_EQ_INT(n, t.enc_len);
	HT_EQ_MEM(again, t.enc, n);
	HT_ASSERT(memcmp(again, orig->enc, n) != 0);
	hl_contract_hash(t.enc, t.enc_len, t.hash);
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EAUTH);
	HT_ASSERT(strcmp(why, "the proposal signature is not valid") == 0);
	return 0;
}

static int strict_bundle(const struct hl_contract_bundle *orig, bool all,
			 struct hl_prng *p, long *decoded)
{
	struct hl_contract d;

	for (size_t k = 0; k < orig->enc_len; k++)
		HT_EQ_INT(hl_contract_decode(orig->enc, k, &d), HL_EPARSE);
	for (size_t pos = 0; pos < orig->enc_len; pos++) {
		if (all) {
			for (int v = 0; v < 256; v++)
				if (v != orig->enc[pos])
					HT_OK(strict_one(orig, pos, (uint8_t)v,
							 decoded));
			continue;
		}
		for (int i = 0; i < 6; i++) {
			uint8_t v = (uint8_t)(orig->enc[pos] ^
					      (1 + hl_prng_below(p, 255)));
			HT_OK(strict_one(orig, pos, v, decoded));
		}
	}
	return 0;
}

static int test_decode_strict(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle bun;
	struct hl_prng p;
	long decoded = 0;

	hl_prng_seed(&p, 7);
	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &bun));
	HT_OK(strict_bundle(&bun, true, &p, &decoded));
	HT_ASSERT(decoded > 1000); /* the free-form bytes did decode */
	rich_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &bun));
	HT_OK(strict_bundle(&bun, false, &p, &decoded));
	return 0;
}

/* Hand-made bad encodings and the reason each gives. */
static int test_decode_errors(void)
{
	struct hl_identity a, b;
	struct hl_contract c, d;
	uint8_t enc[HL_CONTRACT_MAX_LEN + 2], bad[HL_CONTRACT_MAX_LEN + 2];
	const char *why = NULL;
	size_t n;
	/* Offsets in the known-answer encoding. */
	const size_t o_nsuites = 112, o_name = 117, o_ntopics = 131;
	const size_t o_topic1 = 132;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_encode(&c, enc, sizeof(enc), &n));
	HT_EQ_INT(enc[o_nsuites], 2);
	HT_EQ_INT(enc[o_name], 13);
	HT_EQ_INT(enc[o_ntopics], 2);
	HT_EQ_INT(hl_get_be16(enc + o_topic1), 16);

#define BAD(mutate, reason)                                                 \
	do {                                                                \
		size_t bl = n;                                              \
		memcpy(bad, enc, n);                                        \
		mutate;                                                     \
		why = NULL;                                                 \
		HT_EQ_INT(hl_contract_decode_why(bad, bl, &d, &why),        \
			  HL_EPARSE);                                       \
		if (!why || strcmp(why, reason) != 0) {                     \
			fprintf(stderr, "  why: %s\n", why ? why : "NULL"); \
			HT_ASSERT(!"reason");                               \
		}                                                           \
		HT_EQ_INT(hl_contract_decode(bad, bl, &d), HL_EPARSE);      \
	} while (0)

	BAD(bad[0] = 'h', "not a hotline contract");
	BAD(bl = 3, "not a hotline contract");
	BAD(bl = 0, "not a hotline contract");
	BAD(bad[3] = 2, "unsupported contract version");
	BAD(bad[3] = 0, "unsupported contract version");
	BAD(bl = 50, "the contract is truncated");
	BAD(bad[n] = 0; bl = n + 1, "trailing bytes after the contract");
	BAD(bl = HL_CONTRACT_MAX_LEN + 1, "the contract encoding is too long");
	BAD(bad[o_nsuites] = 0, "no key-exchange suite");
	BAD(bad[o_nsuites] = 9, "more than 8 key-exchange suites");
	BAD(bad[o_nsuites] = 1, "the proposer name is empty");
	BAD(bad[o_nsuites + 2] = 0;
	    bad[o_nsuites + 4] = 0, "a key-exchange suite is listed twice");
	BAD(bad[o_nsuites + 2] = 1;
	    bad[o_nsuites + 4] = 0,
	    "the key-exchange suites are not in ascending order");
	BAD(bad[o_name] = 0, "the proposer name is empty");
	BAD(bad[o_name] = 65, "the proposer name is longer than 64 bytes");
	BAD(bad[o_name + 1] = 0,
	    "the proposer name contains a control character");
	BAD(bad[o_name + 1] = '\n',
	    "the proposer name contains a control character");
	BAD(bad[o_name + 8] = 0xc3;
	    bad[o_name + 9] = 0x28, "the proposer name is not valid UTF-8");
	BAD(bad[o_ntopics] = 17, "more than 16 topics");
	BAD(bad[o_ntopics] = 3, "the contract is truncated");
	BAD(bad[o_ntopics] = 1, "trailing bytes after the contract");
	BAD(bad[o_ntopics] = 0, "trailing bytes after the contract");
	BAD(hl_put_be16(bad + o_topic1, 0), "topic 1 is empty");
	BAD(hl_put_be16(bad + o_topic1, 257),
	    "topic 1 is longer than 256 bytes");
	BAD(hl_put_be16(bad + o_topic1, 0xffff),
	    "topic 1 is longer than 256 bytes");
	BAD(bad[o_topic1 + 2] = 0, "topic 1 contains a control character");
	BAD(bad[o_topic1 + 2] = 0x7f, "topic 1 contains a control character");
	BAD(bad[n - 1] = 0xc0, "topic 2 is not valid UTF-8");
	BAD(bad[n - 3] = 0x1b, "topic 2 contains a control character");
	BAD(hl_put_be16(bad + o_topic1 + 18, 25), "the contract is truncated");
	BAD(hl_put_be16(bad + o_topic1 + 18, 23),
	    "trailing bytes after the contract");
	BAD(memcpy(bad + 52, bad + 20, 32),
	    "the proposer and the invitee are the same key");
	BAD(memcpy(bad + 92, bad + 84, 8), "the time window is empty");
	BAD(hl_put_be64(bad + 92, c.not_before + HL_CONTRACT_MAX_DURATION + 1),
	    "the time window is longer than 7 days");
	BAD(bad[111] |= 8, "unknown policy bits");
	BAD(bad[108] = 0x80, "unknown policy bits");
#undef BAD
	/* NULL arguments */
	HT_EQ_INT(hl_contract_decode(NULL, 0, &d), HL_EPARSE);
	HT_EQ_INT(hl_contract_decode(enc, n, NULL), HL_EPARSE);
	return 0;
}

/* ---- field rules -------------------------------------------------------- */

static int test_check_rules(void)
{
	struct hl_identity a, b;
	struct hl_contract c, k;
	uint8_t enc[HL_CONTRACT_MAX_LEN];
	size_t n = 0;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&k, &a, &b);
	HT_ASSERT(strcmp(why_check(&k), "") == 0);
	HT_EQ_INT(hl_contract_check(&k, NULL), 0);

#define RULE(mutate, reason)                                            \
	do {                                                            \
		const char *w_;                                         \
		c = k;                                                  \
		mutate;                                                 \
		w_ = why_check(&c);                                     \
		if (strcmp(w_, reason) != 0) {                          \
			fprintf(stderr, "  why: '%s'\n", w_);           \
			HT_ASSERT(!"reason");                           \
		}                                                       \
		HT_EQ_INT(hl_contract_check(&c, NULL), HL_EINVAL);      \
		HT_EQ_INT(hl_contract_encode(&c, enc, sizeof(enc), &n), \
			  HL_EINVAL);                                   \
	} while (0)
#define OKAY(mutate)                                                 \
	do {                                                         \
		c = k;                                               \
		mutate;                                              \
		HT_ASSERT(strcmp(why_check(&c), "") == 0);           \
		HT_OK(hl_contract_encode(&c, enc, sizeof(enc), &n)); \
	} while (0)

	RULE(memcpy(c.invitee, c.proposer, 32),
	     "the proposer and the invitee are the same key");
	RULE(c.not_after = c.not_before, "the time window is empty");
	RULE(c.not_after = c.not_before - 1, "the time window is empty");
	RULE(c.not_before = UINT64_MAX;
	     c.not_after = 0, "the time window is empty");
	RULE(c.not_after = c.not_before + HL_CONTRACT_MAX_DURATION + 1,
	     "the time window is longer than 7 days");
	RULE(c.not_before = 0;
	     c.not_after = UINT64_MAX, "the time window is longer than 7 days");
	OKAY(c.not_after = c.not_before + HL_CONTRACT_MAX_DURATION);
	OKAY(c.not_after = c.not_before + 1);
	OKAY(c.not_before = UINT64_MAX - 1; c.not_after = UINT64_MAX);
	OKAY(c.not_before = 0; c.not_after = 1; c.created = UINT64_MAX);
	RULE(c.policy = 8, "unknown policy bits");
	RULE(c.policy = 0x80000000u, "unknown policy bits");
	OKAY(c.policy = 0);
	OKAY(c.policy = HL_POLICY_KNOWN);
	RULE(c.n_suites = 0, "no key-exchange suite");
	RULE(c.n_suites = 9, "more than 8 key-exchange suites");
	RULE(c.n_suites = 255, "more than 8 key-exchange suites");
	RULE(c.suites[1] = 1, "a key-exchange suite is listed twice");
	RULE(c.suites[0] = 3,
	     "the key-exchange suites are not in ascending order");
	OKAY(c.n_suites = 1; c.suites[1] = 0);
	OKAY(c.suites[0] = 0; c.suites[1] = 0xffff);
	RULE(c.proposer_name[0] = 0, "the proposer name is empty");
	RULE(memset(c.proposer_name, 'a', sizeof(c.proposer_name)),
	     "the proposer name is longer than 64 bytes");
	OKAY(memset(c.proposer_name, 'a', 64); c.proposer_name[64] = 0);
	RULE(c.proposer_name[5] = '\t',
	     "the proposer name contains a control character");
	RULE(c.proposer_name[5] = 0x7f,
	     "the proposer name contains a control character");
	RULE(memcpy(c.proposer_name, "\xc2\x85", 2),
	     "the proposer name contains a control character");
	RULE(c.proposer_name[5] = (char)0xff,
	     "the proposer name is not valid UTF-8");
	RULE(c.n_topics = 17, "more than 16 topics");
	OKAY(c.n_topics = 0);
	RULE(c.n_topics = 3, "topic 3 is empty");
	RULE(c.n_topics = 3; snprintf(c.topics[2], 257, "\xed\xa0\x80"),
			     "topic 3 is not valid UTF-8");
	RULE(c.n_topics = 3; snprintf(c.topics[2], 257, "a\rb"),
			     "topic 3 contains a control character");
	RULE(c.n_topics = 16;
	     for (int i = 2; i < 16; i++) snprintf(c.topics[i], 257, "t");
	     memset(c.topics[15], 'x', 257),
	     "topic 16 is longer than 256 bytes");
	RULE(snprintf(c.topics[0], 257, "\xe0\x80\x80"),
	     "topic 1 is not valid UTF-8");
	RULE(snprintf(c.topics[1], 257, "ok\xf4\x90\x80\x80"),
	     "topic 2 is not valid UTF-8");
	/* The first problem found is reported. */
	RULE(c.policy = 8; c.n_suites = 0, "unknown policy bits");
#undef RULE
#undef OKAY
	{
		const char *w = "unchanged";

		HT_EQ_INT(hl_contract_check(NULL, &w), HL_EINVAL);
		HT_ASSERT(strcmp(w, "no contract") == 0);
		w = "unchanged";
		HT_EQ_INT(hl_contract_check(&k, &w), 0);
		HT_ASSERT(strcmp(w, "unchanged") == 0);
	}
	HT_EQ_INT(hl_contract_encode(NULL, enc, sizeof(enc), &n), HL_EINVAL);
	HT_EQ_INT(hl_contract_encode(&k, NULL, sizeof(enc), &n), HL_EINVAL);
	HT_EQ_INT(hl_contract_encode(&k, enc, sizeof(enc), NULL), HL_EINVAL);
	return 0;
}

/* ---- UTF-8 ------------------------------------------------------------- */

/*
 * A reference written differently: decode by counting the lead byte's
 * high ones, then refuse overlong forms, surrogates and values above
 * U+10FFFF after the fact.
 */
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

static int test_utf8_exhaustive(void)
{
	uint8_t s[4] = {0};
	struct hl_prng p;

	HT_EQ_INT(hl_contract_utf8_check(s, 0), HL_UTF8_OK);
	for (uint32_t x = 0; x < (1u << 24); x++) {
		s[0] = (uint8_t)(x >> 16);
		s[1] = (uint8_t)(x >> 8);
		s[2] = (uint8_t)x;
		if (x < 256)
			HT_EQ_INT(hl_contract_utf8_check(s + 2, 1),
				  ref_utf8(s + 2, 1));
		if (x < 65536)
			HT_EQ_INT(hl_contract_utf8_check(s + 1, 2),
				  ref_utf8(s + 1, 2));
		if (hl_contract_utf8_check(s, 3) != ref_utf8(s, 3)) {
			fprintf(stderr, "  %02x %02x %02x\n", s[0], s[1], s[2]);
			HT_ASSERT(!"3-byte mismatch");
		}
	}
	/* 4 bytes: every lead F0..F7 with each later byte near 80..BF. */
	for (uint32_t l = 0xf0; l <= 0xf7; l++)
		for (uint32_t x = 0; x < 66u * 66 * 66; x++) {
			s[0] = (uint8_t)l;
			s[1] = (uint8_t)(0x7f + x % 66);
			s[2] = (uint8_t)(0x7f + x / 66 % 66);
			s[3] = (uint8_t)(0x7f + x / 66 / 66);
			HT_EQ_INT(hl_contract_utf8_check(s, 4), ref_utf8(s, 4));
		}
	hl_prng_seed(&p, 99);
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = hl_prng_next(&p);

		memcpy(s, &r, 4);
		HT_EQ_INT(hl_contract_utf8_check(s, 4), ref_utf8(s, 4));
	}
	/* Every code point, encoded plainly. */
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		size_t k = utf8_put(cp, s);
		enum hl_utf8_verdict want = HL_UTF8_OK;

		if (cp >= 0xd800 && cp <= 0xdfff)
			want = HL_UTF8_INVALID;
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			want = HL_UTF8_CONTROL;
		HT_EQ_INT(hl_contract_utf8_check(s, k), want);
	}
	return 0;
}

static int test_utf8_cases(void)
{
	static const struct {
		const char *s;
		enum hl_utf8_verdict v;
	} cases[] = {
		{"plain ASCII ~", HL_UTF8_OK},
		{"\xc2\xa0 nbsp", HL_UTF8_OK},
		{"\xef\xbf\xbd replacement", HL_UTF8_OK},
		{"\xf4\x8f\xbf\xbf", HL_UTF8_OK},      /* U+10FFFF */
		{"\xf0\x90\x80\x80", HL_UTF8_OK},      /* U+10000 */
		{"\xe0\xa0\x80", HL_UTF8_OK},	       /* U+0800 */
		{"\xed\x9f\xbf", HL_UTF8_OK},	       /* U+D7FF */
		{"\xee\x80\x80", HL_UTF8_OK},	       /* U+E000 */
		{"\xc0\x80", HL_UTF8_INVALID},	       /* overlong NUL */
		{"\xc1\xbf", HL_UTF8_INVALID},	       /* overlong */
		{"\xe0\x9f\xbf", HL_UTF8_INVALID},     /* overlong */
		{"\xf0\x8f\xbf\xbf", HL_UTF8_INVALID}, /* overlong */
		{"\xed\xa0\x80", HL_UTF8_INVALID},     /* U+D800 */
		{"\xed\xbf\xbf", HL_UTF8_INVALID},     /* U+DFFF */
		{"\xf4\x90\x80\x80", HL_UTF8_INVALID}, /* U+110000 */
		{"\xf5\x80\x80\x80", HL_UTF8_INVALID},
		{"\xff", HL_UTF8_INVALID},
		{"\x80", HL_UTF8_INVALID},
		{"a\xe6\x97", HL_UTF8_INVALID}, /* truncated */
		{"\xe6\x97"
		 "a",
		 HL_UTF8_INVALID},
		{"\x1f", HL_UTF8_CONTROL},
		{"\x7f", HL_UTF8_CONTROL},
		{"\xc2\x80", HL_UTF8_CONTROL},
		{"\xc2\x9b", HL_UTF8_CONTROL}, /* 8-bit CSI */
		{"\xc2\x9f", HL_UTF8_CONTROL},
		{"a\nb\xff", HL_UTF8_CONTROL}, /* first problem wins */
		{"\xff\n", HL_UTF8_INVALID},
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		enum hl_utf8_verdict v = hl_contract_utf8_check(
			(const uint8_t *)cases[i].s, strlen(cases[i].s));

		if (v != cases[i].v) {
			fprintf(stderr, "  case %zu\n", i);
			HT_EQ_INT(v, cases[i].v);
		}
	}
	/* An embedded NUL is a control character. */
	HT_EQ_INT(hl_contract_utf8_check((const uint8_t *)"a\0b", 3),
		  HL_UTF8_CONTROL);
	return 0;
}

/* ---- signatures --------------------------------------------------------- */

/*
 * Change one field of the known-answer contract (kind selects which),
 * re-encode it and keep the original proposal: verification must fail
 * on the proposal signature.
 */
static void tamper_field(struct hl_contract *c, int kind)
{
	switch (kind) {
	case 0:
		c->call_id[15] ^= 1;
		break;
	case 1:
		c->proposer[31] ^= 0x40;
		break;
	case 2:
		c->invitee[0] ^= 1;
		break;
	case 3:
		c->not_before--;
		break;
	case 4:
		c->not_after++;
		break;
	case 5:
		c->created++;
		break;
	case 6:
		c->policy ^= HL_POLICY_PQ_REQUIRED;
		break;
	case 7:
		c->suites[1] = 3;
		break;
	case 8:
		c->n_suites = 1;
		break;
	case 9:
		c->proposer_name[0] = 'a';
		break;
	case 10:
		c->topics[0][0] = 'x';
		break;
	case 11:
		c->n_topics = 1;
		break;
	default:
		snprintf(c->topics[2], 257, "extra");
		c->n_topics = 3;
		break;
	}
}

static int test_signature_tampering(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle orig, t;
	const char *why;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &orig));
	HT_OK(hl_contract_verify(&orig, &why));
	for (int kind = 0; kind <= 12; kind++) {
		t = orig;
		tamper_field(&t.c, kind);
		HT_OK(hl_contract_encode(&t.c, t.enc, sizeof(t.enc),
					 &t.enc_len));
		hl_contract_hash(t.enc, t.enc_len, t.hash);
		why = NULL;
		HT_EQ_INT(hl_contract_verify(&t, &why), HL_EAUTH);
		HT_ASSERT(strcmp(why, "the proposal signature is not valid") ==
			  0);
	}
	/* Every bit of the signature. */
	for (int bit = 0; bit < 8 * HL_ID_SIG_LEN; bit++) {
		t = orig;
		t.proposal[bit / 8] ^= (uint8_t)(1 << bit % 8);
		HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	}
	/* The decoded copy or the hash out of step with the encoding. */
	t = orig;
	t.c.created++;
	why = NULL;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EPARSE);
	HT_ASSERT(strcmp(why, "the bundle's contract differs from its "
			      "encoding") == 0);
	t = orig;
	t.hash[0] ^= 1;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EPARSE);
	HT_ASSERT(strcmp(why, "the bundle's hash is not its contract's "
			      "hash") == 0);
	t = orig;
	t.enc_len = sizeof(t.enc) + 1;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EPARSE);
	t = orig;
	t.enc_len = 0;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EPARSE);
	HT_EQ_INT(hl_contract_verify(NULL, &why), HL_EINVAL);
	/* The proposal signed by the invitee instead. */
	t = orig;
	{
		uint8_t msg[29 + 32];

		memcpy(msg, HL_CONTRACT_LABEL_PROPOSAL, 29);
		memcpy(msg + 29, t.hash, 32);
		HT_ASSERT(crypto_sign_detached(t.proposal, NULL, msg,
					       sizeof(msg), b.sk) == 0);
		HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
		/* Without the NUL of the label: another message. */
		memmove(msg + 28, msg + 29, 32);
		HT_ASSERT(crypto_sign_detached(t.proposal, NULL, msg,
					       sizeof(msg) - 1, a.sk) == 0);
		HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	}
	return 0;
}

/* Sign label||hash[||proposal] with sk, as a test forges answers. */
static void forge(const char *label, size_t label_size,
		  const struct hl_contract_bundle *b, bool with_proposal,
		  const uint8_t *sk, uint8_t sig[HL_ID_SIG_LEN])
{
	uint8_t msg[64 + 32 + 64];
	size_t n = label_size;

	memcpy(msg, label, n);
	memcpy(msg + n, b->hash, 32);
	n += 32;
	if (with_proposal) {
		memcpy(msg + n, b->proposal, 64);
		n += 64;
	}
	if (crypto_sign_detached(sig, NULL, msg, n, sk) != 0)
		abort();
}

static int test_answers_wrong_keys(void)
{
	struct hl_identity a, b, e;
	struct hl_contract c;
	struct hl_contract_bundle orig, t;
	const char *why;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	make_id(&e, 0x40, "Eve");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &orig));

	/* Only the invitee may answer; only the proposer may propose. */
	t = orig;
	HT_EQ_INT(hl_contract_accept(&t, &a), HL_EINVAL);
	HT_EQ_INT(hl_contract_accept(&t, &e), HL_EINVAL);
	HT_EQ_INT(hl_contract_decline(&t, &e), HL_EINVAL);
	HT_ASSERT(same_bundle(&t, &orig));
	HT_EQ_INT(hl_contract_propose(&c, &b, &t), HL_EINVAL);
	HT_EQ_INT(hl_contract_propose(&c, &e, &t), HL_EINVAL);
	/* An identity claiming the invitee's key with another secret key. */
	{
		struct hl_identity fake = e;

		memcpy(fake.pk, b.pk, HL_ID_PK_LEN);
		t = orig;
		HT_EQ_INT(hl_contract_accept(&t, &fake), HL_EINVAL);
		HT_ASSERT(!t.has_acceptance);
		memcpy(fake.pk, a.pk, HL_ID_PK_LEN);
		HT_EQ_INT(hl_contract_propose(&c, &fake, &t), HL_EINVAL);
	}

	/* Forged acceptances: wrong signer, wrong label, no proposal. */
	static const char la[] = HL_CONTRACT_LABEL_ACCEPTANCE;
	static const char ld[] = HL_CONTRACT_LABEL_DECLINE;
	static const char lp[] = HL_CONTRACT_LABEL_PROPOSAL;
	t = orig;
	t.has_acceptance = true;
	forge(la, sizeof(la), &t, true, b.sk, t.acceptance);
	HT_OK(hl_contract_verify(&t, NULL)); /* the right one, for contrast */
	forge(la, sizeof(la), &t, true, e.sk, t.acceptance);
	why = NULL;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EAUTH);
	HT_ASSERT(strcmp(why, "the acceptance signature is not valid") == 0);
	forge(la, sizeof(la), &t, true, a.sk, t.acceptance);
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	forge(la, sizeof(la), &t, false, b.sk, t.acceptance);
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	forge(ld, sizeof(ld), &t, false, b.sk, t.acceptance);
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	forge(lp, sizeof(lp), &t, false, b.sk, t.acceptance);
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);
	/* An acceptance of another proposal signature. */
	t.proposal[0] ^= 1;
	forge(la, sizeof(la), &t, true, b.sk, t.acceptance);
	t.proposal[0] ^= 1;
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);

	/* Forged declines. */
	t = orig;
	t.has_decline = true;
	forge(ld, sizeof(ld), &t, false, b.sk, t.decline);
	HT_OK(hl_contract_verify(&t, NULL));
	forge(ld, sizeof(ld), &t, false, e.sk, t.decline);
	why = NULL;
	HT_EQ_INT(hl_contract_verify(&t, &why), HL_EAUTH);
	HT_ASSERT(strcmp(why, "the decline signature is not valid") == 0);
	forge(la, sizeof(la), &t, true, b.sk, t.decline);
	HT_EQ_INT(hl_contract_verify(&t, NULL), HL_EAUTH);

	/* A valid acceptance of contract X does not carry over to Y. */
	{
		struct hl_contract_bundle x = orig, y;

		HT_OK(hl_contract_accept(&x, &b));
		c.created++;
		HT_OK(hl_contract_propose(&c, &a, &y));
		y.has_acceptance = true;
		memcpy(y.acceptance, x.acceptance, HL_ID_SIG_LEN);
		HT_EQ_INT(hl_contract_verify(&y, NULL), HL_EAUTH);
	}
	/* An answer to a bundle that does not verify is refused. */
	t = orig;
	t.proposal[5] ^= 4;
	HT_EQ_INT(hl_contract_accept(&t, &b), HL_EAUTH);
	HT_EQ_INT(hl_contract_decline(&t, &b), HL_EAUTH);
	HT_ASSERT(!t.has_acceptance && !t.has_decline);
	HT_EQ_INT(hl_contract_accept(NULL, &b), HL_EINVAL);
	HT_EQ_INT(hl_contract_accept(&t, NULL), HL_EINVAL);
	HT_EQ_INT(hl_contract_propose(NULL, &a, &t), HL_EINVAL);
	HT_EQ_INT(hl_contract_propose(&c, NULL, &t), HL_EINVAL);
	HT_EQ_INT(hl_contract_propose(&c, &a, NULL), HL_EINVAL);
	/* An invalid contract is not proposed. */
	c.policy = 0x10;
	HT_EQ_INT(hl_contract_propose(&c, &a, &t), HL_EINVAL);
	return 0;
}

static int test_accept_and_decline_exclusive(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle acc, dec, both;
	const char *why = NULL;
	char *json = NULL;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &acc));
	dec = acc;
	HT_OK(hl_contract_accept(&acc, &b));
	HT_OK(hl_contract_accept(&acc, &b)); /* again: same signature */
	HT_ASSERT(hex_is(acc.acceptance, HL_ID_SIG_LEN, kat_acc));
	HT_EQ_INT(hl_contract_decline(&acc, &b), HL_ESTATE);
	HT_ASSERT(!acc.has_decline);
	HT_OK(hl_contract_decline(&dec, &b));
	HT_OK(hl_contract_decline(&dec, &b));
	HT_EQ_INT(hl_contract_accept(&dec, &b), HL_ESTATE);
	HT_ASSERT(!dec.has_acceptance);

	both = acc;
	both.has_decline = true;
	memcpy(both.decline, dec.decline, HL_ID_SIG_LEN);
	HT_EQ_INT(hl_contract_verify(&both, &why), HL_EPARSE);
	HT_ASSERT(strcmp(why, "the bundle has both an acceptance and a "
			      "decline") == 0);
	HT_EQ_INT(hl_contract_bundle_state(&both), HL_CONTRACT_DECLINED);
	HT_EQ_INT(hl_contract_bundle_to_json(&both, &json), HL_EINVAL);
	HT_ASSERT(json == NULL);
	HT_EQ_INT(hl_contract_accept(&both, &b), HL_ESTATE);
	HT_EQ_INT(hl_contract_decline(&both, &b), HL_ESTATE);
	return 0;
}

static int test_state_names(void)
{
	HT_ASSERT(strcmp(hl_contract_state_name(HL_CONTRACT_PROPOSED),
			 "proposed") == 0);
	HT_ASSERT(strcmp(hl_contract_state_name(HL_CONTRACT_CONFIRMED),
			 "confirmed") == 0);
	HT_ASSERT(strcmp(hl_contract_state_name(HL_CONTRACT_DECLINED),
			 "declined") == 0);
	HT_ASSERT(strcmp(hl_contract_state_name((enum hl_contract_state)0),
			 "unknown") == 0);
	HT_ASSERT(strcmp(hl_contract_state_name((enum hl_contract_state)9),
			 "unknown") == 0);
	return 0;
}

/* ---- call ids ----------------------------------------------------------- */

static int test_call_id_text(void)
{
	uint8_t id[HL_CALL_ID_LEN], back[HL_CALL_ID_LEN];
	char text[33];
	static const char *const bad[] = {
		"",
		"0",
		"00112233445566778899aabbccddeef",   /* 31 */
		"00112233445566778899aabbccddeeff0", /* 33 */
		"00112233445566778899aabbccddeefg",
		"00112233445566778899aabbccddeef ",
		" 0112233445566778899aabbccddeeff",
		"0x112233445566778899aabbccddeeff",
		"00112233-445566778899aabbccddeef",
		"00112233445566778899aabbccddee\xc3\xbf",
	};

	for (int i = 0; i < HL_CALL_ID_LEN; i++)
		id[i] = (uint8_t)(0x11 * i);
	memset(text, 'z', sizeof(text));
	hl_call_id_to_text(id, text);
	HT_ASSERT(strcmp(text, "00112233445566778899aabbccddeeff") == 0);
	HT_OK(hl_call_id_from_text(text, back));
	HT_EQ_MEM(back, id, HL_CALL_ID_LEN);
	memset(back, 0, sizeof(back));
	HT_OK(hl_call_id_from_text("00112233445566778899AABBCCDDEEFF", back));
	HT_EQ_MEM(back, id, HL_CALL_ID_LEN);
	memset(back, 0, sizeof(back));
	HT_OK(hl_call_id_from_text("00112233445566778899aAbBcCdDeEfF", back));
	HT_EQ_MEM(back, id, HL_CALL_ID_LEN);
	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		memset(back, 0x5a, sizeof(back));
		HT_EQ_INT(hl_call_id_from_text(bad[i], back), HL_EPARSE);
		for (int k = 0; k < HL_CALL_ID_LEN; k++)
			HT_EQ_INT(back[k], 0x5a); /* untouched on failure */
	}
	/* Every non-hex byte at every position. */
	for (int pos = 0; pos < 32; pos++)
		for (int ch = 1; ch < 256; ch++) {
			char s[33];
			bool hex = (ch >= '0' && ch <= '9') ||
				   (ch >= 'a' && ch <= 'f') ||
				   (ch >= 'A' && ch <= 'F');

			memcpy(s, text, sizeof(s));
			s[pos] = (char)ch;
			HT_EQ_INT(hl_call_id_from_text(s, back),
				  hex ? 0 : HL_EPARSE);
		}
	HT_EQ_INT(hl_call_id_from_text(NULL, back), HL_EINVAL);
	HT_EQ_INT(hl_call_id_from_text(text, NULL), HL_EINVAL);
	return 0;
}

/* ---- JSON bundles ------------------------------------------------------- */

static int json_roundtrip_one(const struct hl_contract_bundle *b)
{
	struct hl_contract_bundle back;
	char *json = NULL;
	const char *why = NULL;
	int err;

	HT_OK(hl_contract_bundle_to_json(b, &json));
	memset(&back, 0, sizeof(back));
	err = hl_contract_bundle_from_json(json, strlen(json), &back, &why);
	hl_free(json);
	if (err && hl_mem_failed()) {
		/*
		 * jansson does not always report its allocation failures
		 * as such (it drops bytes it cannot buffer, so a string
		 * comes back cut short and fails to decode or verify): any
		 * refusal is a clean end here; the harness checks leaks.
		 */
		return HT_OOM_OK;
	}
	HT_OK(err);
	HT_ASSERT(same_bundle(&back, b));
	return 0;
}

static int test_json_roundtrip(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle p, x;
	int rc;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	rich_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &p));
	rc = json_roundtrip_one(&p);
	if (rc)
		return rc;
	x = p;
	HT_OK(hl_contract_accept(&x, &b));
	rc = json_roundtrip_one(&x);
	if (rc)
		return rc;
	x = p;
	HT_OK(hl_contract_decline(&x, &b));
	return json_roundtrip_one(&x);
}

/* from_json must fail with err and (when given) exactly reason. */
static int json_bad(const char *json, size_t len, int err, const char *reason)
{
	struct hl_contract_bundle b;
	const char *why = NULL;
	int got;

	memset(&b, 0x77, sizeof(b));
	got = hl_contract_bundle_from_json(json, len, &b, &why);
	if (got != err || (reason && (!why || strcmp(why, reason) != 0))) {
		fprintf(stderr, "  json '%.60s': %d '%s'\n", json ? json : "",
			got, why ? why : "NULL");
		return -1;
	}
	HT_ASSERT(why != NULL);
	for (size_t i = 0; i < sizeof(b); i++)
		HT_EQ_INT(((uint8_t *)&b)[i], 0x77); /* untouched */
	return 0;
}

static char *b64(const uint8_t *bin, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(
		n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = hl_malloc(cap);

	if (s)
		sodium_bin2base64(s, cap, bin, n,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

/*
 * Builds {"contract":C,"proposal":P<extra>} into out; C and P are JSON
 * value texts.
 */
static void mk(char *out, size_t cap, const char *cv, const char *pv,
	       const char *extra)
{
	snprintf(out, cap, "{\"contract\":%s,\"proposal\":%s%s}", cv, pv,
		 extra);
}

static int test_json_garbage(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle p, x;
	char *ce = NULL, *pe = NULL, *ae = NULL, *de = NULL, *big = NULL;
	char cq[8192], pq[200], aq[200], tmp[200], ex[400];
	static char j[HL_CONTRACT_JSON_MAX + 64];
	int rc = -1;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &p));
	x = p;
	HT_OK(hl_contract_accept(&x, &b));
	ae = b64(x.acceptance, 64);
	x = p;
	HT_OK(hl_contract_decline(&x, &b));
	de = b64(x.decline, 64);
	ce = b64(p.enc, p.enc_len);
	pe = b64(p.proposal, 64);
	if (!ce || !pe || !ae || !de)
		goto out;
	snprintf(cq, sizeof(cq), "\"%s\"", ce);
	snprintf(pq, sizeof(pq), "\"%s\"", pe);
	snprintf(aq, sizeof(aq), "\"%s\"", ae);

	/* Sanity: the good forms parse. */
	mk(j, sizeof(j), cq, pq, "");
	if (json_roundtrip_one(&p) ||
	    hl_contract_bundle_from_json(j, strlen(j), &x, NULL))
		goto out;
	snprintf(ex, sizeof(ex), ",\"acceptance\":%s", aq);
	mk(j, sizeof(j), cq, pq, ex);
	if (hl_contract_bundle_from_json(j, strlen(j), &x, NULL) ||
	    !x.has_acceptance)
		goto out;
	/* Whitespace between tokens and another key order are fine. */
	snprintf(j, sizeof(j),
		 " {\n\t\"proposal\" : %s ,\r\n \"contract\": %s}\n ", pq, cq);
	if (hl_contract_bundle_from_json(j, strlen(j), &x, NULL))
		goto out;
	/* len is honoured: text after it is not read. */
	mk(j, sizeof(j), cq, pq, "");
	memcpy(j + strlen(j), "garbage", 8);
	if (hl_contract_bundle_from_json(j, strlen(j) - 7, &x, NULL))
		goto out;
	if (json_bad(j, strlen(j), HL_EPARSE, "the bundle is not valid JSON"))
		goto out;

#define BADJ(text, err, reason)                                \
	do {                                                   \
		if (json_bad(text, strlen(text), err, reason)) \
			goto out;                              \
	} while (0)
	BADJ("", HL_EPARSE, "the bundle is not valid JSON");
	BADJ("null", HL_EPARSE, "the bundle is not valid JSON");
	BADJ("\"x\"", HL_EPARSE, "the bundle is not valid JSON");
	BADJ("[]", HL_EPARSE, "the bundle is not a JSON object");
	BADJ("{", HL_EPARSE, "the bundle is not valid JSON");
	BADJ("{}", HL_EPARSE, "the bundle has no \"contract\"");
	BADJ("{} {}", HL_EPARSE, "the bundle is not valid JSON");
	snprintf(j, sizeof(j), "{\"contract\":%s}", cq);
	BADJ(j, HL_EPARSE, "the bundle has no \"proposal\"");
	mk(j, sizeof(j), "1", pq, "");
	BADJ(j, HL_EPARSE, "\"contract\" is not a string");
	mk(j, sizeof(j), cq, "null", "");
	BADJ(j, HL_EPARSE, "\"proposal\" is not a string");
	mk(j, sizeof(j), cq, pq, ",\"acceptance\":null");
	BADJ(j, HL_EPARSE, "\"acceptance\" is not a string");
	mk(j, sizeof(j), cq, pq, ",\"decline\":{}");
	BADJ(j, HL_EPARSE, "\"decline\" is not a string");
	mk(j, sizeof(j), cq, pq, ",\"note\":\"hi\"");
	BADJ(j, HL_EPARSE, "the bundle has an unknown key");
	mk(j, sizeof(j), cq, pq, ",\"Contract\":\"\"");
	BADJ(j, HL_EPARSE, "the bundle has an unknown key");
	snprintf(ex, sizeof(ex), ",\"proposal\":%s", pq);
	mk(j, sizeof(j), cq, pq, ex);
	BADJ(j, HL_EPARSE, "the bundle is not valid JSON"); /* duplicate */
	mk(j, sizeof(j), "\"\"", pq, "");
	BADJ(j, HL_EPARSE, "not a hotline contract");
	mk(j, sizeof(j), cq, "\"\"", "");
	BADJ(j, HL_EPARSE,
	     "\"proposal\" is not a base64url signature of 64 bytes");
	/* Padding, whitespace, the standard alphabet, bad trailing bits. */
	snprintf(tmp, sizeof(tmp), "\"%s==\"", pe);
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE,
	     "\"proposal\" is not a base64url signature of 64 bytes");
	snprintf(tmp, sizeof(tmp), "\"%.40s %s\"", pe, pe + 40);
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, NULL);
	snprintf(tmp, sizeof(tmp), "\"%.40s\\n%s\"", pe, pe + 40);
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, NULL);
	snprintf(tmp, sizeof(tmp), "\"%s\"", pe);
	for (char *q = tmp; *q; q++) {
		if (*q == '-' || *q == '_')
			*q = *q == '-' ? '+' : '/';
	}
	if (strchr(tmp, '+') || strchr(tmp, '/')) {
		mk(j, sizeof(j), cq, tmp, "");
		BADJ(j, HL_EPARSE, NULL);
	}
	/* 64 bytes -> 86 chars, the last carries 2 zero bits. */
	snprintf(tmp, sizeof(tmp), "\"%s\"", pe);
	{
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
					    "ghijklmnopqrstuvwxyz0123456789-_";
		const char *at = strchr(alpha, tmp[86]);

		HT_ASSERT(at && (at - alpha) % 16 == 0);
		tmp[86] = alpha[(at - alpha) + 1];
		mk(j, sizeof(j), cq, tmp, "");
		BADJ(j, HL_EPARSE, NULL);
	}
	snprintf(tmp, sizeof(tmp), "\"%.85s\"", pe); /* 63 bytes + bits */
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, NULL);
	snprintf(tmp, sizeof(tmp), "\"%.84s\"", pe); /* 63 bytes */
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, NULL);
	snprintf(tmp, sizeof(tmp), "\"%sAAA\"", pe); /* 66 bytes */
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, NULL);
	snprintf(tmp, sizeof(tmp), "\"%.40s\\u0000%s\"", pe, pe + 40);
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EPARSE, "the bundle is not valid JSON");
	/* Escaped characters that decode to the same text are fine. */
	snprintf(tmp, sizeof(tmp), "\"\\u0%.3x%s\"", (unsigned)pe[0], pe + 1);
	mk(j, sizeof(j), cq, tmp, "");
	if (hl_contract_bundle_from_json(j, strlen(j), &x, NULL) ||
	    !same_bundle(&x, &p))
		goto out;
	/* Signatures and answers. */
	snprintf(tmp, sizeof(tmp), "\"%s\"", ae);
	mk(j, sizeof(j), cq, tmp, "");
	BADJ(j, HL_EAUTH, "the proposal signature is not valid");
	snprintf(ex, sizeof(ex), ",\"decline\":%s", aq);
	mk(j, sizeof(j), cq, pq, ex);
	BADJ(j, HL_EAUTH, "the decline signature is not valid");
	snprintf(ex, sizeof(ex), ",\"acceptance\":%s,\"decline\":\"%s\"", aq,
		 de);
	mk(j, sizeof(j), cq, pq, ex);
	BADJ(j, HL_EPARSE, "the bundle has both an acceptance and a decline");
	/* A contract of more than HL_CONTRACT_MAX_LEN bytes. */
	{
		static uint8_t zeros[HL_CONTRACT_MAX_LEN + 1];

		big = b64(zeros, sizeof(zeros));
		if (!big)
			goto out;
		snprintf(j, sizeof(j), "{\"contract\":\"%s\",\"proposal\":%s}",
			 big, pq);
		BADJ(j, HL_EPARSE,
		     "\"contract\" is not base64url without "
		     "padding, or too long");
	}
	/* Size: exactly 64 KiB of valid JSON is read, one byte more not. */
	mk(j, sizeof(j), cq, pq, "");
	{
		size_t n = strlen(j);

		memset(j + n, ' ', HL_CONTRACT_JSON_MAX - n);
		j[HL_CONTRACT_JSON_MAX] = 0;
		if (hl_contract_bundle_from_json(j, HL_CONTRACT_JSON_MAX, &x,
						 NULL))
			goto out;
		j[HL_CONTRACT_JSON_MAX] = ' ';
		j[HL_CONTRACT_JSON_MAX + 1] = 0;
		BADJ(j, HL_ETOOBIG, "the bundle is larger than 64 KiB");
	}
	if (json_bad(NULL, 0, HL_EINVAL, "no bundle"))
		goto out;
	HT_EQ_INT(hl_contract_bundle_from_json("{}", 2, NULL, NULL), HL_EINVAL);
#undef BADJ
	rc = 0;
out:
	hl_free(ce);
	hl_free(pe);
	hl_free(ae);
	hl_free(de);
	hl_free(big);
	HT_EQ_INT(rc, 0);
	return 0;
}

/* Random byte edits of a valid JSON bundle never crash or half-succeed. */
static int test_json_mutations(void)
{
	struct hl_identity a, b;
	struct hl_contract c;
	struct hl_contract_bundle p, x;
	struct hl_prng r;
	char *json = NULL, m[1024];
	size_t n;
	long ok = 0;

	make_id(&a, 0x00, "Alice");
	make_id(&b, 0x20, "Bob");
	kat_contract(&c, &a, &b);
	HT_OK(hl_contract_propose(&c, &a, &p));
	HT_OK(hl_contract_accept(&p, &b));
	HT_OK(hl_contract_bundle_to_json(&p, &json));
	n = strlen(json);
	HT_ASSERT(n < sizeof(m));
	hl_prng_seed(&r, 5);
	for (int it = 0; it < 20000; it++) {
		size_t len = n;

		memcpy(m, json, n);
		for (int k = 1 + (int)hl_prng_below(&r, 3); k > 0 && len; k--) {
			size_t pos = hl_prng_below(&r, len);

			switch (hl_prng_below(&r, 3)) {
			case 0:
				m[pos] = (char)hl_prng_next(&r);
				break;
			case 1:
				memmove(m + pos, m + pos + 1, len - pos - 1);
				len--;
				break;
			default:
				len = pos + 1;
				break;
			}
		}
		if (hl_contract_bundle_from_json(m, len, &x, NULL) == 0) {
			ok++;
			/* Only harmless edits (whitespace, key order...). */
			HT_ASSERT(same_bundle(&x, &p));
		}
	}
	hl_free(json);
	HT_ASSERT(ok < 20000);
	return 0;
}

static int test_to_json_bad(void)
{
	struct hl_contract_bundle b;
	char *json = NULL;

	memset(&b, 0, sizeof(b));
	HT_EQ_INT(hl_contract_bundle_to_json(&b, &json), HL_EINVAL);
	b.enc_len = sizeof(b.enc) + 1;
	HT_EQ_INT(hl_contract_bundle_to_json(&b, &json), HL_EINVAL);
	b.enc_len = 1;
	HT_EQ_INT(hl_contract_bundle_to_json(NULL, &json), HL_EINVAL);
	HT_EQ_INT(hl_contract_bundle_to_json(&b, NULL), HL_EINVAL);
	HT_ASSERT(json == NULL);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_known_answer),
	HT_TEST(test_labels),
	HT_TEST(test_roundtrip_rich),
	HT_TEST(test_roundtrip_random),
	HT_TEST(test_decode_strict),
	HT_TEST(test_decode_errors),
	HT_TEST(test_check_rules),
	HT_TEST(test_utf8_exhaustive),
	HT_TEST(test_utf8_cases),
	HT_TEST(test_signature_tampering),
	HT_TEST(test_answers_wrong_keys),
	HT_TEST(test_accept_and_decline_exclusive),
	HT_TEST(test_state_names),
	HT_TEST(test_call_id_text),
	HT_TEST_OOM(test_json_roundtrip),
	HT_TEST(test_json_garbage),
	HT_TEST(test_json_mutations),
	HT_TEST(test_to_json_bad),
};

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	/* Count jansson's blocks too (leaks, OOM runs). */
	json_set_alloc_funcs(hl_malloc, hl_free);
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
