/*
 * msg.c - wire codec of the key-exchange messages M1, M2, M3, M4
 * (docs/protocol.md §5.4).
 *
 *   M1 = "HLK" 01 01 || call_id[16] || contract_hash[32]
 *        || n u8 || suites u16[n] || e_I[32] || nonce_I[32]
 *        || u16 len || transport_I
 *   M2 = "HLK" 01 02 || suite u16 || n u8 || offered u16[n]
 *        || m u8 || supported u16[m] || e_R[32] || nonce_R[32]
 *        || u16 len || transport_R || sig_R[64] || mac_R[32]
 *   M3 = "HLK" 01 03 || sig_I[64] || mac_I[32]
 *   M4 = "HLK" 01 04 || mac_F[32]
 *
 * Decoding is strict so that one message has exactly one encoding: suite
 * lists hold 1..8 strictly ascending values, transport parameters at most
 * HL_AKE_TRANSPORT_MAX bytes, and nothing may follow the last field.  A
 * reader never reads past the input; every refusal names the field.
 */
#include <stdio.h>
#include <string.h>

#include "ake_internal.h"

static const uint8_t magic[3] = {'H', 'L', 'K'};

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

/* The next n bytes, or NULL (and nothing consumed) if fewer are left. */
static const uint8_t *take(struct reader *r, size_t n)
{
	const uint8_t *q;

	if (r->len - r->pos < n)
		return NULL;
	q = r->p + r->pos;
	r->pos += n;
	return q;
}

static int truncated(const char *name, size_t len, char *why, size_t cap)
{
	snprintf(why, cap, "%s is truncated (%zu bytes)", name, len);
	return HL_EPARSE;
}

/* A suite list: n u8 (1..8), n u16 strictly ascending. */
static int read_suites(struct reader *r, const char *name, const char *what,
		       struct hl_ake_suites *out, char *why, size_t cap)
{
	const uint8_t *p = take(r, 1), *q;
	size_t n;

	if (!p)
		return truncated(name, r->len, why, cap);
	n = p[0];
	if (n < 1 || n > HL_AKE_SUITES_MAX) {
		snprintf(why, cap, "%s lists %zu %s (1 to %d allowed)", name, n,
			 what, HL_AKE_SUITES_MAX);
		return HL_EPARSE;
	}
	q = take(r, 2 * n);
	if (!q)
		return truncated(name, r->len, why, cap);
	for (size_t i = 0; i < n; i++) {
		out->s[i] = hl_get_be16(q + 2 * i);
		if (i > 0 && out->s[i] <= out->s[i - 1]) {
			snprintf(why, cap,
				 "%s's list of %s is not in ascending order "
				 "without repeats",
				 name, what);
			return HL_EPARSE;
		}
	}
	out->n = n;
	return 0;
}

/* u16 len || bytes, len <= HL_AKE_TRANSPORT_MAX. */
static int read_transport(struct reader *r, const char *name,
			  const uint8_t **out, size_t *out_len, char *why,
			  size_t cap)
{
	const uint8_t *p = take(r, 2);
	size_t n;

	if (!p)
		return truncated(name, r->len, why, cap);
	n = hl_get_be16(p);
	if (n > HL_AKE_TRANSPORT_MAX) {
		snprintf(why, cap,
			 "%s carries %zu bytes of transport parameters (at "
			 "most %d)",
			 name, n, HL_AKE_TRANSPORT_MAX);
		return HL_EPARSE;
	}
	*out = take(r, n);
	if (!*out)
		return truncated(name, r->len, why, cap);
	*out_len = n;
	return 0;
}

static int expect_end(const struct reader *r, const char *name, char *why,
		      size_t cap)
{
	if (r->pos == r->len)
		return 0;
	snprintf(why, cap, "%s has %zu byte(s) after its end", name,
		 r->len - r->pos);
	return HL_EPARSE;
}

int hl_ake_msg_header(const uint8_t *in, size_t len, uint8_t *type, char *why,
		      size_t why_cap)
{
	if (len == 0 || !in) {
		snprintf(why, why_cap, "the message is empty");
		return HL_EPARSE;
	}
	if (len > HL_AKE_MSG_MAX) {
		snprintf(why, why_cap,
			 "the message is too long (%zu bytes; at most %d)", len,
			 HL_AKE_MSG_MAX);
		return HL_EPARSE;
	}
	if (memcmp(in, magic, HL_MIN(len, sizeof(magic))) != 0) {
		snprintf(why, why_cap,
			 "this is not a key-exchange message (it does not "
			 "start with \"HLK\")");
		return HL_EPARSE;
	}
	if (len < HL_AKE_HDR_LEN)
		return truncated("the message", len, why, why_cap);
	if (in[3] != HL_AKE_VERSION) {
		snprintf(why, why_cap,
			 "the peer speaks key-exchange version %u; this "
			 "program speaks version %d",
			 in[3], HL_AKE_VERSION);
		return HL_EPARSE;
	}
	if (in[4] < HL_AKE_M1 || in[4] > HL_AKE_M4) {
		snprintf(why, why_cap, "unknown key-exchange message type %u",
			 in[4]);
		return HL_EPARSE;
	}
	*type = in[4];
	return 0;
}

static int header_of(const uint8_t *in, size_t len, uint8_t want,
		     const char *name, char *why, size_t cap)
{
	uint8_t type = 0;
	int err = hl_ake_msg_header(in, len, &type, why, cap);

	if (err)
		return err;
	if (type != want) {
		snprintf(why, cap, "expected %s but got M%u", name, type);
		return HL_EPARSE;
	}
	return 0;
}

int hl_ake_m1_decode(const uint8_t *in, size_t len, struct hl_ake_m1 *m,
		     char *why, size_t why_cap)
{
	struct reader r = {in, len, HL_AKE_HDR_LEN};
	struct hl_ake_m1 t;
	int err;

	memset(&t, 0, sizeof(t));
	err = header_of(in, len, HL_AKE_M1, "M1", why, why_cap);
	if (err)
		return err;
	t.call_id = take(&r, HL_CALL_ID_LEN);
	t.contract_hash = t.call_id ? take(&r, HL_CONTRACT_HASH_LEN) : NULL;
	if (!t.contract_hash)
		return truncated("M1", len, why, why_cap);
	err = read_suites(&r, "M1", "suites", &t.offer, why, why_cap);
	if (err)
		return err;
	t.e = take(&r, HL_AKE_PUB_LEN);
	t.nonce = t.e ? take(&r, HL_AKE_NONCE_LEN) : NULL;
	if (!t.nonce)
		return truncated("M1", len, why, why_cap);
	err = read_transport(&r, "M1", &t.transport, &t.transport_len, why,
			     why_cap);
	if (!err)
		err = expect_end(&r, "M1", why, why_cap);
	if (!err)
		*m = t;
	return err;
}

int hl_ake_m2_decode(const uint8_t *in, size_t len, struct hl_ake_m2 *m,
		     char *why, size_t why_cap)
{
	struct reader r = {in, len, HL_AKE_HDR_LEN};
	struct hl_ake_m2 t;
	const uint8_t *p;
	int err;

	memset(&t, 0, sizeof(t));
	err = header_of(in, len, HL_AKE_M2, "M2", why, why_cap);
	if (err)
		return err;
	p = take(&r, 2);
	if (!p)
		return truncated("M2", len, why, why_cap);
	t.suite = hl_get_be16(p);
	err = read_suites(&r, "M2", "offered suites", &t.offered, why, why_cap);
	if (!err)
		err = read_suites(&r, "M2", "supported suites", &t.supported,
				  why, why_cap);
	if (err)
		return err;
	t.e = take(&r, HL_AKE_PUB_LEN);
	t.nonce = t.e ? take(&r, HL_AKE_NONCE_LEN) : NULL;
	if (!t.nonce)
		return truncated("M2", len, why, why_cap);
	err = read_transport(&r, "M2", &t.transport, &t.transport_len, why,
			     why_cap);
	if (err)
		return err;
	t.signed_len = r.pos;
	t.sig = take(&r, HL_ID_SIG_LEN);
	t.mac = t.sig ? take(&r, HL_AKE_MAC_LEN) : NULL;
	if (!t.mac)
		return truncated("M2", len, why, why_cap);
	err = expect_end(&r, "M2", why, why_cap);
	if (!err)
		*m = t;
	return err;
}

int hl_ake_m3_decode(const uint8_t *in, size_t len, struct hl_ake_m3 *m,
		     char *why, size_t why_cap)
{
	struct reader r = {in, len, HL_AKE_HDR_LEN};
	struct hl_ake_m3 t;
	int err;

	err = header_of(in, len, HL_AKE_M3, "M3", why, why_cap);
	if (err)
		return err;
	t.sig = take(&r, HL_ID_SIG_LEN);
	t.mac = t.sig ? take(&r, HL_AKE_MAC_LEN) : NULL;
	if (!t.mac)
		return truncated("M3", len, why, why_cap);
	err = expect_end(&r, "M3", why, why_cap);
	if (!err)
		*m = t;
	return err;
}

int hl_ake_m4_decode(const uint8_t *in, size_t len, struct hl_ake_m4 *m,
		     char *why, size_t why_cap)
{
	struct reader r = {in, len, HL_AKE_HDR_LEN};
	struct hl_ake_m4 t;
	int err;

	err = header_of(in, len, HL_AKE_M4, "M4", why, why_cap);
	if (err)
		return err;
	t.mac = take(&r, HL_AKE_MAC_LEN);
	if (!t.mac)
		return truncated("M4", len, why, why_cap);
	err = expect_end(&r, "M4", why, why_cap);
	if (!err)
		*m = t;
	return err;
}

/* ---- encoding --------------------------------------------------------- */

struct writer {
	uint8_t *p;
	size_t cap, pos;
	bool short_;
};

static void put(struct writer *w, const void *src, size_t n)
{
	if (w->short_ || w->cap - w->pos < n) {
		w->short_ = true;
		return;
	}
	if (n)
		memcpy(w->p + w->pos, src, n);
	w->pos += n;
}

static void put16(struct writer *w, uint16_t v)
{
	uint8_t b[2];

	hl_put_be16(b, v);
	put(w, b, 2);
}

static void put_header(struct writer *w, uint8_t type)
{
	const uint8_t h[HL_AKE_HDR_LEN] = {magic[0], magic[1], magic[2],
					   HL_AKE_VERSION, type};

	put(w, h, sizeof(h));
}

static bool suites_valid(const struct hl_ake_suites *s)
{
	if (s->n < 1 || s->n > HL_AKE_SUITES_MAX)
		return false;
	for (size_t i = 1; i < s->n; i++)
		if (s->s[i] <= s->s[i - 1])
			return false;
	return true;
}

static void put_suites(struct writer *w, const struct hl_ake_suites *s)
{
	uint8_t n = (uint8_t)s->n;

	put(w, &n, 1);
	for (size_t i = 0; i < s->n; i++)
		put16(w, s->s[i]);
}

static void put_transport(struct writer *w, const uint8_t *t, size_t n)
{
	put16(w, (uint16_t)n);
	put(w, t, n);
}

int hl_ake_m1_encode(const struct hl_ake_m1 *m, uint8_t *out, size_t cap,
		     size_t *len)
{
	struct writer w = {out, cap, 0, false};

	if (!m || !out || !len || !suites_valid(&m->offer) ||
	    m->transport_len > HL_AKE_TRANSPORT_MAX ||
	    (m->transport_len && !m->transport))
		return HL_EINVAL;
	put_header(&w, HL_AKE_M1);
	put(&w, m->call_id, HL_CALL_ID_LEN);
	put(&w, m->contract_hash, HL_CONTRACT_HASH_LEN);
	put_suites(&w, &m->offer);
	put(&w, m->e, HL_AKE_PUB_LEN);
	put(&w, m->nonce, HL_AKE_NONCE_LEN);
	put_transport(&w, m->transport, m->transport_len);
	if (w.short_)
		return HL_ETOOBIG;
	*len = w.pos;
	return 0;
}

size_t hl_ake_m1_len(size_t n_suites, size_t transport_len)
{
	return HL_AKE_HDR_LEN + HL_CALL_ID_LEN + HL_CONTRACT_HASH_LEN + 1 +
	       2 * n_suites + HL_AKE_PUB_LEN + HL_AKE_NONCE_LEN + 2 +
	       transport_len;
}

size_t hl_ake_m2_len(size_t n_offered, size_t n_supported, size_t transport_len)
{
	return HL_AKE_HDR_LEN + 2 + 1 + 2 * n_offered + 1 + 2 * n_supported +
	       HL_AKE_PUB_LEN + HL_AKE_NONCE_LEN + 2 + transport_len +
	       HL_ID_SIG_LEN + HL_AKE_MAC_LEN;
}

int hl_ake_m2_encode(const struct hl_ake_m2 *m, uint8_t *out, size_t cap,
		     size_t *len)
{
	struct writer w = {out, cap, 0, false};

	if (!m || !out || !len || !suites_valid(&m->offered) ||
	    !suites_valid(&m->supported) ||
	    m->transport_len > HL_AKE_TRANSPORT_MAX ||
	    (m->transport_len && !m->transport) || (m->sig && !m->mac))
		return HL_EINVAL;
	put_header(&w, HL_AKE_M2);
	put16(&w, m->suite);
	put_suites(&w, &m->offered);
	put_suites(&w, &m->supported);
	put(&w, m->e, HL_AKE_PUB_LEN);
	put(&w, m->nonce, HL_AKE_NONCE_LEN);
	put_transport(&w, m->transport, m->transport_len);
	if (m->sig) {
		put(&w, m->sig, HL_ID_SIG_LEN);
		put(&w, m->mac, HL_AKE_MAC_LEN);
	}
	if (w.short_)
		return HL_ETOOBIG;
	*len = w.pos;
	return 0;
}

int hl_ake_m3_encode(const struct hl_ake_m3 *m, uint8_t *out, size_t cap,
		     size_t *len)
{
	struct writer w = {out, cap, 0, false};

	if (!m || !out || !len || !m->sig || !m->mac)
		return HL_EINVAL;
	put_header(&w, HL_AKE_M3);
	put(&w, m->sig, HL_ID_SIG_LEN);
	put(&w, m->mac, HL_AKE_MAC_LEN);
	if (w.short_)
		return HL_ETOOBIG;
	*len = w.pos;
	return 0;
}

int hl_ake_m4_encode(const struct hl_ake_m4 *m, uint8_t *out, size_t cap,
		     size_t *len)
{
	struct writer w = {out, cap, 0, false};

	if (!m || !out || !len || !m->mac)
		return HL_EINVAL;
	put_header(&w, HL_AKE_M4);
	put(&w, m->mac, HL_AKE_MAC_LEN);
	if (w.short_)
		return HL_ETOOBIG;
	*len = w.pos;
	return 0;
}
