/*
 * contract.c - call contracts: field checks, the canonical version-1
 * encoding (docs/protocol.md §5.2), its hash, call-id text.
 *
 * The encoding has exactly one form per contract: fixed-size fields,
 * length-prefixed strings with bounded lengths, every field once and in
 * order, no trailing bytes.  The decoder reads field by field with a
 * bounds-checked cursor, runs hl_contract_check() on the result, and
 * finally re-encodes it and compares with its input, so it accepts only
 * bytes the encoder would have produced.  Signatures live in sign.c, JSON
 * bundles in bundle_json.c.
 */
#include <string.h>

#include <sodium.h>

#include "contract_internal.h"

#define MAGIC_LEN     4	  /* "HLC" 0x01 */
#define FIXED_LEN     112 /* magic, call id, two keys, three u64, policy */
#define TOPIC_REASONS 4

_Static_assert(FIXED_LEN == MAGIC_LEN + HL_CALL_ID_LEN + 2 * HL_ID_PK_LEN +
				    3 * 8 + 4,
	       "fixed part of the encoding");

static const uint8_t magic[MAGIC_LEN] = {'H', 'L', 'C', 0x01};

/* Reasons for topic n (counted from 1), one row per topic. */
#define TOPIC_ROW(n)                                                 \
	{                                                            \
		"topic " #n " is empty",                             \
			"topic " #n " is longer than 256 bytes",     \
			"topic " #n " is not valid UTF-8",           \
			"topic " #n " contains a control character", \
	}

static const char *const topic_why[HL_CONTRACT_MAX_TOPICS][TOPIC_REASONS] = {
	TOPIC_ROW(1),  TOPIC_ROW(2),  TOPIC_ROW(3),  TOPIC_ROW(4),
	TOPIC_ROW(5),  TOPIC_ROW(6),  TOPIC_ROW(7),  TOPIC_ROW(8),
	TOPIC_ROW(9),  TOPIC_ROW(10), TOPIC_ROW(11), TOPIC_ROW(12),
	TOPIC_ROW(13), TOPIC_ROW(14), TOPIC_ROW(15), TOPIC_ROW(16),
};

enum { WHY_EMPTY, WHY_LONG, WHY_UTF8, WHY_CONTROL };

/*
 * RFC 3629 §4 (the UTF8-octets grammar), plus control characters.  The
 * second byte's range depends on the lead byte: E0 needs A0..BF (no
 * overlong 3-byte forms), ED needs 80..9F (no surrogates), F0 needs 90..BF
 * (no overlong 4-byte forms), F4 needs 80..8F (nothing above U+10FFFF);
 * C0, C1 and F5..FF never start a sequence.
 */
enum hl_utf8_verdict hl_contract_utf8_check(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = s[i], lo = 0x80, hi = 0xbf;
		uint32_t cp;
		size_t more;

		if (b < 0x80) {
			if (b < 0x20 || b == 0x7f)
				return HL_UTF8_CONTROL;
			i++;
			continue;
		}
		if (b < 0xc2) {
			return HL_UTF8_INVALID;
		} else if (b < 0xe0) {
			more = 1;
			cp = b & 0x1f;
		} else if (b < 0xf0) {
			more = 2;
			cp = b & 0x0f;
			if (b == 0xe0)
				lo = 0xa0;
			else if (b == 0xed)
				hi = 0x9f;
		} else if (b < 0xf5) {
			more = 3;
			cp = b & 0x07;
			if (b == 0xf0)
				lo = 0x90;
			else if (b == 0xf4)
				hi = 0x8f;
		} else {
			return HL_UTF8_INVALID;
		}
		if (n - i - 1 < more)
			return HL_UTF8_INVALID;
		for (size_t k = 1; k <= more; k++) {
			uint8_t c = s[i + k];

			if (c < lo || c > hi)
				return HL_UTF8_INVALID;
			lo = 0x80;
			hi = 0xbf;
			cp = cp << 6 | (c & 0x3f);
		}
		if (cp >= 0x80 && cp <= 0x9f)
			return HL_UTF8_CONTROL;
		i += more + 1;
	}
	return HL_UTF8_OK;
}

/*
 * Check one NUL-terminated string field held in a char[max + 1]: 1..max
 * bytes, UTF-8, no controls.  Returns WHY_* + 1, or 0 if fine.
 */
static int check_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0)
		return WHY_EMPTY + 1;
	if (n > max)
		return WHY_LONG + 1;
	switch (hl_contract_utf8_check((const uint8_t *)s, n)) {
	case HL_UTF8_OK:
		return 0;
	case HL_UTF8_INVALID:
		return WHY_UTF8 + 1;
	default:
		return WHY_CONTROL + 1;
	}
}

/*
 * §5.2 rules.  Reasons are static strings; topics are counted from 1.
 */
int hl_contract_check(const struct hl_contract *c, const char **why)
{
	static const char *const name_why[TOPIC_REASONS] = {
		"the proposer name is empty",
		"the proposer name is longer than 64 bytes",
		"the proposer name is not valid UTF-8",
		"the proposer name contains a control character",
	};
	const char *w = NULL;
	int r;

	if (!c) {
		w = "no contract";
		goto out;
	}
	if (memcmp(c->proposer, c->invitee, HL_ID_PK_LEN) == 0) {
		w = "the proposer and the invitee are the same key";
		goto out;
	}
	if (c->not_before >= c->not_after) {
		w = "the time window is empty";
		goto out;
	}
	if (c->not_after - c->not_before > HL_CONTRACT_MAX_DURATION) {
		w = "the time window is longer than 7 days";
		goto out;
	}
	if (c->policy & ~(uint32_t)HL_POLICY_KNOWN) {
		w = "unknown policy bits";
		goto out;
	}
	if (c->n_suites == 0) {
		w = "no key-exchange suite";
		goto out;
	}
	if (c->n_suites > HL_CONTRACT_MAX_SUITES) {
		w = "more than 8 key-exchange suites";
		goto out;
	}
	for (unsigned i = 1; i < c->n_suites; i++) {
		if (c->suites[i] == c->suites[i - 1]) {
			w = "a key-exchange suite is listed twice";
			goto out;
		}
		if (c->suites[i] < c->suites[i - 1]) {
			w = "the key-exchange suites are not in ascending "
			    "order";
			goto out;
		}
	}
	r = check_text(c->proposer_name, HL_ID_NAME_MAX);
	if (r) {
		w = name_why[r - 1];
		goto out;
	}
	if (c->n_topics > HL_CONTRACT_MAX_TOPICS) {
		w = "more than 16 topics";
		goto out;
	}
	for (unsigned i = 0; i < c->n_topics; i++) {
		r = check_text(c->topics[i], HL_CONTRACT_TOPIC_MAX);
		if (r) {
			w = topic_why[i][r - 1];
			goto out;
		}
	}
out:
	if (w && why)
		*why = w;
	return w ? HL_EINVAL : 0;
}

/* Exact encoded length of a contract that passed hl_contract_check. */
static size_t encoded_len(const struct hl_contract *c)
{
	size_t n = FIXED_LEN + 1 + 2u * c->n_suites + 1 +
		   strlen(c->proposer_name) + 1;

	for (unsigned i = 0; i < c->n_topics; i++)
		n += 2 + strlen(c->topics[i]);
	return n;
}

/* Writes §5.2 field by field; the caller checked c and the capacity. */
static void encode_fields(const struct hl_contract *c, uint8_t *p)
{
	size_t n;

	memcpy(p, magic, MAGIC_LEN);
	p += MAGIC_LEN;
	memcpy(p, c->call_id, HL_CALL_ID_LEN);
	p += HL_CALL_ID_LEN;
	memcpy(p, c->proposer, HL_ID_PK_LEN);
	p += HL_ID_PK_LEN;
	memcpy(p, c->invitee, HL_ID_PK_LEN);
	p += HL_ID_PK_LEN;
	hl_put_be64(p, c->not_before);
	hl_put_be64(p + 8, c->not_after);
	hl_put_be64(p + 16, c->created);
	hl_put_be32(p + 24, c->policy);
	p += 28;
	*p++ = c->n_suites;
	for (unsigned i = 0; i < c->n_suites; i++, p += 2)
		hl_put_be16(p, c->suites[i]);
	n = strlen(c->proposer_name);
	*p++ = (uint8_t)n;
	memcpy(p, c->proposer_name, n);
	p += n;
	*p++ = c->n_topics;
	for (unsigned i = 0; i < c->n_topics; i++) {
		n = strlen(c->topics[i]);
		hl_put_be16(p, (uint16_t)n);
		memcpy(p + 2, c->topics[i], n);
		p += 2 + n;
	}
}

/*
 * Canonical encoding of c into out[0..cap).  HL_EINVAL if c fails
 * hl_contract_check, HL_ETOOBIG if cap is too small (nothing written
 * then); *len is set on success.
 */
int hl_contract_encode(const struct hl_contract *c, uint8_t *out, size_t cap,
		       size_t *len)
{
	size_t n;

	if (!c || !out || !len || hl_contract_check(c, NULL))
		return HL_EINVAL;
	n = encoded_len(c);
	if (n > cap)
		return HL_ETOOBIG;
	encode_fields(c, out);
	*len = n;
	return 0;
}

/* A bounds-checked reader over the input. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct cursor *r, size_t n)
{
	const uint8_t *q;

	if (r->left < n)
		return NULL;
	q = r->p;
	r->p += n;
	r->left -= n;
	return q;
}

/*
 * Read one length-prefixed string (length already read, 1..max checked
 * by the caller's bounds) into dst[max + 1].  Refuses embedded NULs here
 * (the struct holds C strings) and leaves the UTF-8 rules to the check.
 */
static bool take_text(struct cursor *r, size_t n, char *dst)
{
	const uint8_t *q = take(r, n);

	if (!q)
		return false;
	memcpy(dst, q, n);
	dst[n] = 0;
	return true;
}

int hl_contract_decode_why(const uint8_t *in, size_t len, struct hl_contract *c,
			   const char **why)
{
	struct hl_contract t;
	uint8_t again[HL_CONTRACT_MAX_LEN];
	struct cursor r = {in, len};
	const uint8_t *q;
	const char *w = NULL;
	size_t n, n2;

	memset(&t, 0, sizeof(t));
	if (!in || !c) {
		w = "no contract";
		goto out;
	}
	if (len > HL_CONTRACT_MAX_LEN) {
		w = "the contract encoding is too long";
		goto out;
	}
	if (len < MAGIC_LEN || memcmp(in, magic, MAGIC_LEN - 1) != 0) {
		w = "not a hotline contract";
		goto out;
	}
	if (in[MAGIC_LEN - 1] != magic[MAGIC_LEN - 1]) {
		w = "unsupported contract version";
		goto out;
	}
	r.p += MAGIC_LEN;
	r.left -= MAGIC_LEN;
	q = take(&r, FIXED_LEN - MAGIC_LEN);
	if (!q)
		goto truncated;
	memcpy(t.call_id, q, HL_CALL_ID_LEN);
	q += HL_CALL_ID_LEN;
	memcpy(t.proposer, q, HL_ID_PK_LEN);
	q += HL_ID_PK_LEN;
	memcpy(t.invitee, q, HL_ID_PK_LEN);
	q += HL_ID_PK_LEN;
	t.not_before = hl_get_be64(q);
	t.not_after = hl_get_be64(q + 8);
	t.created = hl_get_be64(q + 16);
	t.policy = hl_get_be32(q + 24);

	if (!(q = take(&r, 1)))
		goto truncated;
	t.n_suites = *q;
	if (t.n_suites == 0 || t.n_suites > HL_CONTRACT_MAX_SUITES) {
		w = t.n_suites ? "more than 8 key-exchange suites"
			       : "no key-exchange suite";
		goto out;
	}
	if (!(q = take(&r, 2u * t.n_suites)))
		goto truncated;
	for (unsigned i = 0; i < t.n_suites; i++)
		t.suites[i] = hl_get_be16(q + 2 * i);

	if (!(q = take(&r, 1)))
		goto truncated;
	n = *q;
	if (n == 0 || n > HL_ID_NAME_MAX) {
		w = n ? "the proposer name is longer than 64 bytes"
		      : "the proposer name is empty";
		goto out;
	}
	if (!take_text(&r, n, t.proposer_name))
		goto truncated;
	if (strlen(t.proposer_name) != n) {
		w = "the proposer name contains a control character";
		goto out;
	}

	if (!(q = take(&r, 1)))
		goto truncated;
	t.n_topics = *q;
	if (t.n_topics > HL_CONTRACT_MAX_TOPICS) {
		w = "more than 16 topics";
		goto out;
	}
	for (unsigned i = 0; i < t.n_topics; i++) {
		if (!(q = take(&r, 2)))
			goto truncated;
		n = hl_get_be16(q);
		if (n == 0 || n > HL_CONTRACT_TOPIC_MAX) {
			w = topic_why[i][n ? WHY_LONG : WHY_EMPTY];
			goto out;
		}
		if (!take_text(&r, n, t.topics[i]))
			goto truncated;
		if (strlen(t.topics[i]) != n) {
			w = topic_why[i][WHY_CONTROL];
			goto out;
		}
	}
	if (r.left) {
		w = "trailing bytes after the contract";
		goto out;
	}
	if (hl_contract_check(&t, &w))
		goto out;
	/* Canonical: the encoder must give back exactly the input. */
	if (HL_NEVER(hl_contract_encode(&t, again, sizeof(again), &n2) ||
		     n2 != len || memcmp(again, in, len) != 0)) {
		w = "the contract encoding is not canonical";
		goto out;
	}
	*c = t;
	goto out;
truncated:
	w = "the contract is truncated";
out:
	if (w && why)
		*why = w;
	return w ? HL_EPARSE : 0;
}

/* HL_EPARSE for anything but a canonical version-1 encoding. */
int hl_contract_decode(const uint8_t *in, size_t len, struct hl_contract *c)
{
	return hl_contract_decode_why(in, len, c, NULL);
}

/* hash = SHA-256(encoding) (§5.2). */
void hl_contract_hash(const uint8_t *enc, size_t len,
		      uint8_t hash[HL_CONTRACT_HASH_LEN])
{
	crypto_hash_sha256(hash, enc, len);
}

void hl_call_id_to_text(const uint8_t id[HL_CALL_ID_LEN], char out[33])
{
	sodium_bin2hex(out, 2 * HL_CALL_ID_LEN + 1, id, HL_CALL_ID_LEN);
}

/*
 * Exactly 32 hex digits (either case) and the end of the string; anything
 * else is HL_EPARSE.  id is written only on success.
 */
int hl_call_id_from_text(const char *text, uint8_t id[HL_CALL_ID_LEN])
{
	uint8_t t[HL_CALL_ID_LEN];
	size_t n;

	if (!text || !id)
		return HL_EINVAL;
	if (strnlen(text, 2 * HL_CALL_ID_LEN + 1) != 2 * HL_CALL_ID_LEN)
		return HL_EPARSE;
	for (size_t i = 0; i < 2 * HL_CALL_ID_LEN; i++) {
		char ch = text[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return HL_EPARSE;
	}
	if (sodium_hex2bin(t, sizeof(t), text, 2 * HL_CALL_ID_LEN, NULL, &n,
			   NULL) != 0 ||
	    n != HL_CALL_ID_LEN)
		return HL_EPARSE;
	memcpy(id, t, HL_CALL_ID_LEN);
	return 0;
}

const char *hl_contract_state_name(enum hl_contract_state s)
{
	switch (s) {
	case HL_CONTRACT_PROPOSED:
		return "proposed";
	case HL_CONTRACT_CONFIRMED:
		return "confirmed";
	case HL_CONTRACT_DECLINED:
		return "declined";
	}
	return "unknown";
}
