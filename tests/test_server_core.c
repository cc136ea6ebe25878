/*
 * test_server_core.c - hotlined's sans-IO core (src/server/core.c,
 * requests.c) and its SQLite store, driven without sockets: connections
 * are numbers, time is injected, the store is in memory (or in a temp
 * file for the durability checks).
 *
 * Covers docs/protocol.md §5.5: authentication (good, bad signature, a
 * signature over another fingerprint or nonce, malformed, timeout), every
 * request and every error code, relays only between the two parties of
 * a confirmed contract and only inside the window, queueing for an
 * offline party with its TTL, per-connection and per-identity rate
 * limits, connection limits, oversized and malformed messages, a third
 * identity refused everywhere, and an answer whose bundle differs from
 * the stored proposal refused.
 */
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "harness.h"
#include "hotline/contract.h"
#include "hotline/identity.h"

#include "../src/server/server_internal.h"

#define US    1000000ull
#define T0    1767225600ull /* 2026-01-01T00:00:00Z */
#define MAXC  64
#define MAXQ  4096
#define ADDR  "192.0.2.1"
#define ADDR2 "192.0.2.2"

struct out_rec {
	uint64_t conn;
	enum hl_srv_out_kind kind;
	char *text;
};

struct conn_rec {
	uint64_t id;
	uint8_t nonce[32];
};

struct fx {
	struct hl_srv_store *store;
	struct hl_srv_core *core;
	struct hl_prng prng;
	struct hl_identity a, b, e; /* alice, bob, eve */
	uint8_t fp[32];
	uint64_t now; /* µs */
	uint64_t next_conn;
	struct conn_rec conns[MAXC];
	unsigned nconns;
	struct out_rec q[MAXQ];
	unsigned nq;
	int64_t next_req;
};

/* ---- fixture --------------------------------------------------------- */

static void fx_drain(struct fx *f)
{
	struct hl_srv_out *o;

	while ((o = hl_srv_core_pop(f->core)) != NULL) {
		if (f->nq < MAXQ) {
			struct out_rec *r = &f->q[f->nq++];

			r->conn = o->conn;
			r->kind = o->kind;
			r->text = calloc(1, o->len + 1);
			memcpy(r->text, o->data, o->len);
		}
		hl_free(o);
	}
}

static void fx_clear(struct fx *f)
{
	fx_drain(f);
	for (unsigned i = 0; i < f->nq; i++)
		free(f->q[i].text);
	f->nq = 0;
}

static void id_from(struct hl_identity *id, uint8_t first, const char *name)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

static int fx_init_with(struct fx *f, const struct hl_server_limits *lim,
			const char *turn_secret, const char *db)
{
	struct hl_srv_core_config cc;
	int err;

	memset(f, 0, sizeof(*f));
	hl_prng_seed(&f->prng, 7);
	id_from(&f->a, 0x00, "Alice");
	id_from(&f->b, 0x40, "Bob");
	id_from(&f->e, 0x80, "Eve");
	for (int i = 0; i < 32; i++)
		f->fp[i] = (uint8_t)(0xf0 ^ i);
	f->now = T0 * US;
	f->next_req = 1;
	if ((err = hl_srv_store_open(&f->store, db ? db : ":memory:", NULL)))
		return err;
	memset(&cc, 0, sizeof(cc));
	if (lim)
		cc.limits = *lim;
	memcpy(cc.fingerprint, f->fp, 32);
	cc.turn_secret = turn_secret;
	cc.turn_uri = turn_secret ? "turn:turn.example:3478" : NULL;
	cc.store = f->store;
	cc.rng = hl_prng_as_rng(&f->prng);
	cc.out_headroom = 16;
	if ((err = hl_srv_core_new(&f->core, &cc))) {
		hl_srv_store_close(f->store);
		f->store = NULL;
	}
	return err;
}

static int fx_init(struct fx *f)
{
	return fx_init_with(f, NULL, NULL, NULL);
}

static void fx_free(struct fx *f)
{
	fx_clear(f);
	hl_srv_core_free(f->core);
	hl_srv_store_close(f->store);
	f->core = NULL;
	f->store = NULL;
}

/* Take the oldest output for conn; NULL if none. Caller frees text. */
static struct out_rec take(struct fx *f, uint64_t conn)
{
	struct out_rec r = {0};

	fx_drain(f);
	for (unsigned i = 0; i < f->nq; i++) {
		if (f->q[i].conn != conn)
			continue;
		r = f->q[i];
		memmove(&f->q[i], &f->q[i + 1], (f->nq - i - 1) * sizeof(r));
		f->nq--;
		break;
	}
	return r;
}

static unsigned pending(struct fx *f, uint64_t conn)
{
	unsigned n = 0;

	fx_drain(f);
	for (unsigned i = 0; i < f->nq; i++)
		n += f->q[i].conn == conn;
	return n;
}

/* The next message to conn as JSON (NULL if none or a close). */
static json_t *take_json(struct fx *f, uint64_t conn)
{
	struct out_rec r = take(f, conn);
	json_t *j = NULL;

	if (r.kind == HL_SRV_SEND)
		j = json_loads(r.text, 0, NULL);
	free(r.text);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The next output to conn is an error with this code (and id if >= 0). */
static bool got_error(struct fx *f, uint64_t conn, const char *code, int64_t id)
{
	json_t *j = take_json(f, conn);
	bool ok =
		j && strcmp(jstr(j, "type"), "error") == 0 &&
		strcmp(jstr(j, "code"), code) == 0 &&
		(id < 0 || json_integer_value(json_object_get(j, "id")) == id);

	if (!ok) {
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

		fprintf(stderr, "  expected error %s, got %s\n", code,
			s ? s : "nothing");
		free(s);
	}
	json_decref(j);
	return ok;
}

static bool got_close(struct fx *f, uint64_t conn)
{
	struct out_rec r = take(f, conn);

	free(r.text);
	return r.kind == HL_SRV_CLOSE;
}

/* The next output is {"type": "ok", "id": id}; returns it (caller
 * decrefs) or NULL. */
static json_t *got_ok(struct fx *f, uint64_t conn, int64_t id)
{
	json_t *j = take_json(f, conn);

	if (j && strcmp(jstr(j, "type"), "ok") == 0 &&
	    json_integer_value(json_object_get(j, "id")) == id)
		return j;
	if (j) {
		char *s = json_dumps(j, JSON_COMPACT);

		fprintf(stderr, "  expected ok %lld, got %s\n", (long long)id,
			s);
		free(s);
	}
	json_decref(j);
	return NULL;
}

static int sendt(struct fx *f, uint64_t conn, const char *text)
{
	return hl_srv_core_message(f->core, conn, (const uint8_t *)text,
				   strlen(text), false, f->now);
}

static struct conn_rec *rec_of(struct fx *f, uint64_t conn)
{
	for (unsigned i = 0; i < f->nconns; i++)
		if (f->conns[i].id == conn)
			return &f->conns[i];
	return NULL;
}

static int b64(const uint8_t *in, size_t len, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, in, len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

/* Open a connection from addr and read its challenge.  0 on error. */
static uint64_t open_conn(struct fx *f, const char *addr)
{
	uint64_t id = ++f->next_conn;
	struct conn_rec *r;
	json_t *j;
	size_t n = 0;

	if (hl_srv_core_connected(f->core, id, addr, f->now) != 0 ||
	    f->nconns == MAXC)
		return 0;
	r = &f->conns[f->nconns++];
	r->id = id;
	j = take_json(f, id);
	if (!j || strcmp(jstr(j, "type"), "challenge") != 0 ||
	    sodium_base642bin(r->nonce, 32, jstr(j, "nonce"),
			      strlen(jstr(j, "nonce")), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != 32) {
		json_decref(j);
		return 0;
	}
	json_decref(j);
	return id;
}

/* An auth message: key pk_of claims, signed by signer over nonce || fp. */
static char *auth_text(const struct hl_identity *pk_of,
		       const struct hl_identity *signer, const uint8_t *nonce,
		       const uint8_t *fp)
{
	static const char ctx[] = "hotline server auth v1";
	uint8_t msg[sizeof(ctx) + 64], sig[64];
	char pk[HL_ID_TEXT_LEN + 1], s64[100], *out;
	json_t *o;

	memcpy(msg, ctx, sizeof(ctx));
	memcpy(msg + sizeof(ctx), nonce, 32);
	memcpy(msg + sizeof(ctx) + 32, fp, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), signer->sk);
	hl_pubkey_to_text(pk_of->pk, pk);
	b64(sig, 64, s64, sizeof(s64));
	o = json_pack("{s:s, s:s, s:s}", "type", "auth", "public_key", pk,
		      "signature", s64);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

/* Connect and authenticate as id; 0 on failure. */
static uint64_t login_from(struct fx *f, const struct hl_identity *id,
			   const char *addr)
{
	uint64_t c = open_conn(f, addr);
	char *t;
	json_t *j;
	bool ok;

	if (!c)
		return 0;
	t = auth_text(id, id, rec_of(f, c)->nonce, f->fp);
	if (sendt(f, c, t) != 0) {
		free(t);
		return 0;
	}
	free(t);
	j = take_json(f, c);
	ok = j && strcmp(jstr(j, "type"), "welcome") == 0;
	json_decref(j);
	return ok ? c : 0;
}

static uint64_t login(struct fx *f, const struct hl_identity *id)
{
	return login_from(f, id, ADDR);
}

/* A request {"type": type, "id": N, fields}; returns N (or -1). */
static int64_t req(struct fx *f, uint64_t conn, const char *type,
		   json_t *fields)
{
	json_t *o = fields ? fields : json_object();
	int64_t id = f->next_req++;
	char *t;
	int err;

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "id", json_integer(id));
	t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	err = sendt(f, conn, t);
	free(t);
	return err ? -1 : id;
}

static bool req_ok(struct fx *f, uint64_t conn, const char *type,
		   json_t *fields)
{
	int64_t id = req(f, conn, type, fields);
	json_t *j = id >= 0 ? got_ok(f, conn, id) : NULL;

	json_decref(j);
	return j != NULL;
}

static bool req_err(struct fx *f, uint64_t conn, const char *type,
		    json_t *fields, const char *code)
{
	int64_t id = req(f, conn, type, fields);

	return id >= 0 && got_error(f, conn, code, id);
}

/* ---- contracts ------------------------------------------------------- */

static void contract_of(struct hl_contract *c, uint8_t tag,
			const struct hl_identity *p,
			const struct hl_identity *i, uint64_t nb,
			uint64_t len_s)
{
	memset(c, 0, sizeof(*c));
	for (int k = 0; k < HL_CALL_ID_LEN; k++)
		c->call_id[k] = (uint8_t)(tag + 17 * k);
	memcpy(c->proposer, p->pk, 32);
	memcpy(c->invitee, i->pk, 32);
	c->not_before = nb;
	c->not_after = nb + len_s;
	c->created = T0;
	c->n_suites = 1;
	c->suites[0] = 1;
	snprintf(c->proposer_name, sizeof(c->proposer_name), "%s", p->name);
	c->n_topics = 1;
	snprintf(c->topics[0], sizeof(c->topics[0]), "topic %u", tag);
}

/* A proposal by p to i, window [nb, nb + len_s). */
static struct hl_contract_bundle *proposal(uint8_t tag,
					   const struct hl_identity *p,
					   const struct hl_identity *i,
					   uint64_t nb, uint64_t len_s)
{
	struct hl_contract_bundle *b = calloc(1, sizeof(*b));
	struct hl_contract c;

	contract_of(&c, tag, p, i, nb, len_s);
	if (hl_contract_propose(&c, p, b) != 0)
		abort();
	return b;
}

static json_t *bundle_obj(const struct hl_contract_bundle *b)
{
	char *t = NULL;
	json_t *j;

	if (hl_contract_bundle_to_json(b, &t) != 0)
		return NULL;
	j = json_loads(t, 0, NULL);
	hl_free(t);
	return j;
}

static json_t *with_bundle(const struct hl_contract_bundle *b)
{
	return json_pack("{s:o}", "bundle", bundle_obj(b));
}

static void cid_text(const struct hl_contract_bundle *b, char out[33])
{
	hl_call_id_to_text(b->c.call_id, out);
}

static json_t *relay_fields(const struct hl_contract_bundle *b,
			    const uint8_t *p, size_t len)
{
	char cid[33], *s64 = malloc(len * 2 + 8);
	json_t *o;

	cid_text(b, cid);
	b64(p, len, s64, len * 2 + 8);
	o = json_pack("{s:s, s:s}", "call_id", cid, "payload", s64);
	free(s64);
	return o;
}

/* Alice proposes (tag) to Bob, Bob accepts: a confirmed contract whose
 * window starts in an hour.  Both logged in on *ca and *cb. */
static struct hl_contract_bundle *confirmed(struct fx *f, uint8_t tag,
					    uint64_t ca, uint64_t cb)
{
	struct hl_contract_bundle *b =
		proposal(tag, &f->a, &f->b, T0 + 3600, 3600);
	json_t *push;

	if (!req_ok(f, ca, "put_contract", with_bundle(b)))
		goto fail;
	push = take_json(f, cb); /* the push to bob */
	json_decref(push);
	if (hl_contract_accept(b, &f->b) != 0 ||
	    !req_ok(f, cb, "answer", with_bundle(b)))
		goto fail;
	push = take_json(f, ca);
	json_decref(push);
	return b;
fail:
	free(b);
	return NULL;
}

/* ---- authentication -------------------------------------------------- */

static int test_auth_good(void)
{
	struct fx f;
	uint64_t c;
	json_t *j;
	int64_t id;

	HT_OK(fx_init(&f));
	c = open_conn(&f, ADDR);
	HT_ASSERT(c);
	{
		char *t = auth_text(&f.a, &f.a, rec_of(&f, c)->nonce, f.fp);

		HT_OK(sendt(&f, c, t));
		free(t);
	}
	j = take_json(&f, c);
	HT_ASSERT(j && strcmp(jstr(j, "type"), "welcome") == 0);
	json_decref(j);
	id = req(&f, c, "ping", NULL);
	j = got_ok(&f, c, id);
	HT_ASSERT(j);
	json_decref(j);
	{
		struct hl_srv_stats st;

		hl_srv_core_stats(f.core, &st);
		HT_EQ_INT(st.conns, 1);
		HT_EQ_INT(st.authed, 1);
		HT_EQ_INT(st.idents, 1);
	}
	hl_srv_core_closed(f.core, c);
	HT_EQ_INT(pending(&f, c), 0);
	fx_free(&f);
	return 0;
}

static int test_auth_challenge_fields(void)
{
	struct fx f;
	uint64_t c1, c2;
	uint8_t fp[32];
	size_t n = 0;
	json_t *j;

	HT_OK(fx_init(&f));
	HT_OK(hl_srv_core_connected(f.core, 100, ADDR, f.now));
	j = take_json(&f, 100);
	HT_ASSERT(j);
	HT_EQ_INT(json_object_size(j), 3);
	HT_ASSERT(sodium_base642bin(fp, 32, jstr(j, "server"),
				    strlen(jstr(j, "server")), NULL, &n, NULL,
				    sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
		  0);
	HT_EQ_INT(n, 32);
	HT_EQ_MEM(fp, f.fp, 32);
	json_decref(j);
	/* The same id twice is refused; fresh nonces per connection. */
	HT_EQ_INT(hl_srv_core_connected(f.core, 100, ADDR, f.now), HL_EINVAL);
	c1 = open_conn(&f, ADDR);
	c2 = open_conn(&f, ADDR);
	HT_ASSERT(memcmp(rec_of(&f, c1)->nonce, rec_of(&f, c2)->nonce, 32));
	HT_EQ_INT(hl_srv_core_message(f.core, 999, (const uint8_t *)"{}", 2,
				      false, f.now),
		  HL_EINVAL);
	fx_free(&f);
	return 0;
}

/* A wrong signature, a signature over another fingerprint or another
 * connection's nonce: bad_signature and a close, and nothing else is
 * accepted on that connection. */
static int test_auth_bad_signatures(void)
{
	struct fx f;
	uint8_t other_fp[32];

	HT_OK(fx_init(&f));
	memcpy(other_fp, f.fp, 32);
	other_fp[31] ^= 1;
	for (int k = 0; k < 3; k++) {
		uint64_t c = open_conn(&f, ADDR), c2 = open_conn(&f, ADDR);
		char *t;

		HT_ASSERT(c && c2);
		if (k == 0) /* Eve signs, claiming Alice's key */
			t = auth_text(&f.a, &f.e, rec_of(&f, c)->nonce, f.fp);
		else if (k == 1) /* Alice, but over another certificate */
			t = auth_text(&f.a, &f.a, rec_of(&f, c)->nonce,
				      other_fp);
		else /* Alice, over the nonce of another connection */
			t = auth_text(&f.a, &f.a, rec_of(&f, c2)->nonce, f.fp);
		HT_OK(sendt(&f, c, t));
		free(t);
		HT_ASSERT(got_error(&f, c, "bad_signature", -1));
		HT_ASSERT(got_close(&f, c));
		HT_OK(sendt(&f, c, "{\"type\":\"ping\",\"id\":1}"));
		HT_EQ_INT(pending(&f, c), 0); /* ignored after the close */
		hl_srv_core_closed(f.core, c);
		hl_srv_core_closed(f.core, c2);
	}
	fx_free(&f);
	return 0;
}

static int test_auth_malformed(void)
{
	static const char *const bad[] = {
		"{\"type\":\"auth\"}",
		"{\"type\":\"auth\",\"public_key\":\"hl1abc\",\"signature\":"
		"\"AAAA\"}",
		"{\"type\":\"auth\",\"public_key\":7,\"signature\":\"AAAA\"}",
		"{\"type\":\"auth\",\"public_key\":\"PK\",\"signature\":"
		"\"not base64!\"}",
		"{\"type\":\"auth\",\"public_key\":\"PK\",\"signature\":"
		"\"AAAA\"}",
	};
	struct fx f;
	char pk[HL_ID_TEXT_LEN + 1];

	HT_OK(fx_init(&f));
	hl_pubkey_to_text(f.a.pk, pk);
	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		uint64_t c = open_conn(&f, ADDR);
		char text[400], *p;

		HT_ASSERT(c);
		snprintf(text, sizeof(text), "%s", bad[i]);
		p = strstr(text, "\"PK\"");
		if (p) {
			char tail[300];

			snprintf(tail, sizeof(tail), "%s", p + 4);
			snprintf(p, sizeof(text) - (size_t)(p - text),
				 "\"%s\"%s", pk, tail);
		}
		HT_OK(sendt(&f, c, text));
		HT_ASSERT(got_error(&f, c, "bad_request", -1));
		HT_ASSERT(got_close(&f, c));
		hl_srv_core_closed(f.core, c);
	}
	fx_free(&f);
	return 0;
}

static int test_auth_required_first(void)
{
	struct fx f;
	uint64_t c;

	HT_OK(fx_init(&f));
	c = open_conn(&f, ADDR);
	HT_OK(sendt(&f, c, "{\"type\":\"list\",\"id\":5}"));
	HT_ASSERT(got_error(&f, c, "unauthenticated", 5));
	HT_ASSERT(got_close(&f, c));
	/* Authenticating twice is refused (the connection stays). */
	c = login(&f, &f.a);
	HT_ASSERT(c);
	{
		char *t = auth_text(&f.a, &f.a, rec_of(&f, c)->nonce, f.fp);

		HT_OK(sendt(&f, c, t));
		free(t);
	}
	HT_ASSERT(got_error(&f, c, "bad_request", -1));
	HT_ASSERT(req_ok(&f, c, "ping", NULL));
	fx_free(&f);
	return 0;
}

static int test_auth_timeout(void)
{
	struct fx f;
	uint64_t c, d;

	HT_OK(fx_init(&f));
	c = open_conn(&f, ADDR);
	d = login(&f, &f.a);
	HT_ASSERT(c && d);
	hl_srv_core_tick(f.core, f.now + 9 * US);
	HT_EQ_INT(pending(&f, c), 0);
	hl_srv_core_tick(f.core, f.now + 10 * US);
	HT_ASSERT(got_error(&f, c, "unauthenticated", -1));
	HT_ASSERT(got_close(&f, c));
	HT_EQ_INT(pending(&f, d), 0); /* the authenticated one stays */
	/* A clock that goes backwards closes nothing. */
	hl_srv_core_tick(f.core, f.now - 100 * US);
	HT_EQ_INT(pending(&f, d), 0);
	fx_free(&f);
	return 0;
}

static int test_idle_timeout(void)
{
	struct fx f;
	uint64_t c, d;

	HT_OK(fx_init(&f));
	c = login(&f, &f.a);
	d = login(&f, &f.b);
	f.now += 50 * US;
	HT_ASSERT(req_ok(&f, d, "ping", NULL));
	hl_srv_core_tick(f.core, T0 * US + 59 * US);
	HT_EQ_INT(pending(&f, c), 0);
	hl_srv_core_tick(f.core, T0 * US + 60 * US);
	HT_ASSERT(got_close(&f, c));
	HT_EQ_INT(pending(&f, d), 0); /* pinged at +50 s */
	hl_srv_core_tick(f.core, T0 * US + 110 * US);
	HT_ASSERT(got_close(&f, d));
	fx_free(&f);
	return 0;
}

/* ---- contracts ------------------------------------------------------- */

static int test_put_contract(void)
{
	struct fx f;
	struct hl_contract_bundle *b, *other, *late, *far;
	uint64_t ca, cb, ce;
	json_t *j;
	int64_t id;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	ce = login(&f, &f.e);
	b = proposal(1, &f.a, &f.b, T0 + 3600, 3600);
	id = req(&f, ca, "put_contract", with_bundle(b));
	j = got_ok(&f, ca, id);
	HT_ASSERT(j && strcmp(jstr(j, "state"), "proposed") == 0);
	json_decref(j);
	/* pushed to the invitee, not to the third party */
	j = take_json(&f, cb);
	HT_ASSERT(j && strcmp(jstr(j, "type"), "contract") == 0);
	{
		char *t =
			json_dumps(json_object_get(j, "bundle"), JSON_COMPACT);
		struct hl_contract_bundle *got = malloc(sizeof(*got));

		HT_OK(hl_contract_bundle_from_json(t, strlen(t), got, NULL));
		HT_EQ_MEM(got->enc, b->enc, b->enc_len);
		free(got);
		free(t);
	}
	json_decref(j);
	HT_EQ_INT(pending(&f, ce), 0);
	/* the same again: ok */
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(b)));
	HT_EQ_INT(pending(&f, cb), 0); /* no second push */
	/* another contract under the same call id: conflict */
	other = proposal(1, &f.a, &f.e, T0 + 3600, 3600);
	HT_ASSERT(req_err(&f, ca, "put_contract", with_bundle(other),
			  "conflict"));
	/* only the proposer puts */
	HT_ASSERT(req_err(&f, cb, "put_contract", with_bundle(b), "not_party"));
	HT_ASSERT(req_err(&f, ce, "put_contract", with_bundle(b), "not_party"));
	/* a proposal carries no answer */
	HT_OK(hl_contract_accept(b, &f.b));
	HT_ASSERT(
		req_err(&f, ca, "put_contract", with_bundle(b), "bad_request"));
	/* a broken signature */
	b->has_acceptance = false;
	b->proposal[3] ^= 0x10;
	HT_ASSERT(req_err(&f, ca, "put_contract", with_bundle(b),
			  "bad_signature"));
	/* windows: ended, or more than a year ahead */
	late = proposal(2, &f.a, &f.b, T0 - 7200, 3600);
	HT_ASSERT(req_err(&f, ca, "put_contract", with_bundle(late),
			  "outside_window"));
	far = proposal(3, &f.a, &f.b, T0 + 367ull * 86400, 3600);
	HT_ASSERT(req_err(&f, ca, "put_contract", with_bundle(far),
			  "outside_window"));
	/* not a bundle */
	HT_ASSERT(req_err(&f, ca, "put_contract", NULL, "bad_request"));
	HT_ASSERT(req_err(&f, ca, "put_contract",
			  json_pack("{s:s}", "bundle", "x"), "bad_request"));
	HT_ASSERT(req_err(&f, ca, "put_contract",
			  json_pack("{s:{s:s,s:s}}", "bundle", "contract",
				    "AAAA", "proposal", "AAAA"),
			  "bad_request"));
	free(b);
	free(other);
	free(late);
	free(far);
	fx_free(&f);
	return 0;
}

static int test_answer(void)
{
	struct fx f;
	struct hl_contract_bundle *b, *d, *alt, *gone, *orig;
	struct hl_contract c;
	uint64_t ca, cb, ce;
	json_t *j;
	int64_t id;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	ce = login(&f, &f.e);
	b = proposal(1, &f.a, &f.b, T0 + 3600, 3600);
	orig = malloc(sizeof(*orig));
	*orig = *b;
	/* answering before the proposal is stored: not_found */
	HT_OK(hl_contract_accept(b, &f.b));
	HT_ASSERT(req_err(&f, cb, "answer", with_bundle(b), "not_found"));
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(orig)));
	json_decref(take_json(&f, cb));
	/* without an answer; by the proposer; by a third party */
	HT_ASSERT(req_err(&f, cb, "answer", with_bundle(orig), "bad_request"));
	HT_ASSERT(req_err(&f, ca, "answer", with_bundle(b), "not_party"));
	HT_ASSERT(req_err(&f, ce, "answer", with_bundle(b), "not_party"));
	/* A contract changed in transit (another topic, same call id,
	 * validly signed by both): the stored proposal differs. */
	contract_of(&c, 1, &f.a, &f.b, T0 + 3600, 3600);
	snprintf(c.topics[0], sizeof(c.topics[0]), "altered");
	alt = malloc(sizeof(*alt));
	HT_OK(hl_contract_propose(&c, &f.a, alt));
	HT_OK(hl_contract_accept(alt, &f.b));
	HT_ASSERT(req_err(&f, cb, "answer", with_bundle(alt), "conflict"));
	/* accepted */
	id = req(&f, cb, "answer", with_bundle(b));
	j = got_ok(&f, cb, id);
	HT_ASSERT(j && strcmp(jstr(j, "state"), "confirmed") == 0);
	json_decref(j);
	j = take_json(&f, ca); /* pushed to the proposer */
	HT_ASSERT(j && strcmp(jstr(j, "type"), "contract") == 0 &&
		  json_object_get(json_object_get(j, "bundle"), "acceptance"));
	json_decref(j);
	HT_EQ_INT(pending(&f, ce), 0);
	/* the same answer again: ok; a decline now: conflict */
	HT_ASSERT(req_ok(&f, cb, "answer", with_bundle(b)));
	d = malloc(sizeof(*d));
	*d = *orig;
	HT_OK(hl_contract_decline(d, &f.b));
	HT_ASSERT(req_err(&f, cb, "answer", with_bundle(d), "conflict"));
	/* a decline of another contract */
	gone = proposal(9, &f.a, &f.b, T0 + 600, 600);
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(gone)));
	json_decref(take_json(&f, cb));
	HT_OK(hl_contract_decline(gone, &f.b));
	id = req(&f, cb, "answer", with_bundle(gone));
	j = got_ok(&f, cb, id);
	HT_ASSERT(j && strcmp(jstr(j, "state"), "declined") == 0);
	json_decref(j);
	json_decref(take_json(&f, ca));
	/* too late to answer */
	free(gone);
	gone = proposal(10, &f.a, &f.b, T0 + 600, 600);
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(gone)));
	json_decref(take_json(&f, cb));
	HT_OK(hl_contract_accept(gone, &f.b));
	f.now += 1300 * US;
	HT_ASSERT(
		req_err(&f, cb, "answer", with_bundle(gone), "outside_window"));
	free(b);
	free(d);
	free(alt);
	free(gone);
	free(orig);
	fx_free(&f);
	return 0;
}

static int test_list_paging(void)
{
	struct fx f;
	uint64_t ca, cb, ce;
	unsigned total = 0, pages = 0;
	int64_t after = 0;
	json_t *j;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	ce = login(&f, &f.e);
	for (int i = 0; i < 40; i++) {
		struct hl_contract_bundle *b = proposal((uint8_t)(10 + i), &f.a,
							&f.b, T0 + 3600, 3600);

		f.now += 100000; /* stay inside the rate limits */
		HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(b)));
		free(b);
	}
	fx_clear(&f);
	for (;;) {
		int64_t id =
			req(&f, cb, "list",
			    json_pack("{s:I}", "after", (json_int_t)after));
		json_t *next;

		j = got_ok(&f, cb, id);
		HT_ASSERT(j);
		total += (unsigned)json_array_size(
			json_object_get(j, "bundles"));
		pages++;
		next = json_object_get(j, "next");
		if (!next) {
			json_decref(j);
			break;
		}
		HT_ASSERT(json_integer_value(next) > after);
		after = json_integer_value(next);
		json_decref(j);
	}
	HT_EQ_INT(total, 40);
	HT_EQ_INT(pages, 2);
	/* the third party sees nothing; bad cursor refused */
	{
		int64_t id = req(&f, ce, "list", NULL);

		j = got_ok(&f, ce, id);
		HT_ASSERT(j);
		HT_EQ_INT(json_array_size(json_object_get(j, "bundles")), 0);
		HT_ASSERT(!json_object_get(j, "next"));
		json_decref(j);
	}
	HT_ASSERT(req_err(&f, ce, "list", json_pack("{s:i}", "after", -1),
			  "bad_request"));
	HT_ASSERT(req_err(&f, ce, "list", json_pack("{s:s}", "after", "1"),
			  "bad_request"));
	fx_free(&f);
	return 0;
}

/* Too many open contracts from one proposer: rate_limited. */
static int test_open_contract_quota(void)
{
	struct hl_server_limits lim = {.open_contracts = 3};
	struct fx f;
	uint64_t ca;

	HT_OK(fx_init_with(&f, &lim, NULL, NULL));
	ca = login(&f, &f.a);
	for (int i = 0; i < 4; i++) {
		struct hl_contract_bundle *b = proposal((uint8_t)(50 + i), &f.a,
							&f.b, T0 + 3600, 3600);

		if (i < 3)
			HT_ASSERT(
				req_ok(&f, ca, "put_contract", with_bundle(b)));
		else
			HT_ASSERT(req_err(&f, ca, "put_contract",
					  with_bundle(b), "rate_limited"));
		free(b);
	}
	fx_clear(&f);
	/* Once their windows end they no longer count. */
	f.now += 7300 * US;
	{
		struct hl_contract_bundle *b =
			proposal(60, &f.a, &f.b, T0 + 7300 + 3600, 3600);

		HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(b)));
		free(b);
	}
	fx_free(&f);
	return 0;
}

/* ---- relay ------------------------------------------------------------ */

static int test_relay_rules(void)
{
	static const uint8_t hello[] = "key exchange message 1";
	struct fx f;
	struct hl_contract_bundle *b, *p;
	uint64_t ca, cb, ce;
	char cid[33];
	json_t *j;
	uint8_t big[HL_SRV_RELAY_MAX + 1];

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	ce = login(&f, &f.e);
	/* a proposal that is not confirmed */
	p = proposal(2, &f.a, &f.b, T0, 3600);
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(p)));
	json_decref(take_json(&f, cb));
	HT_ASSERT(req_err(&f, ca, "relay", relay_fields(p, hello, 5),
			  "not_confirmed"));
	b = confirmed(&f, 1, ca, cb);
	HT_ASSERT(b);
	cid_text(b, cid);
	/* window: [not_before - 600, not_after]; now is not_before - 3600 */
	HT_ASSERT(req_err(&f, ca, "relay", relay_fields(b, hello, 5),
			  "outside_window"));
	f.now += (3600 - 601) * US;
	HT_ASSERT(req_err(&f, ca, "relay", relay_fields(b, hello, 5),
			  "outside_window"));
	f.now += 1 * US;
	/* alice -> bob, delivered at once */
	{
		int64_t id = req(&f, ca, "relay",
				 relay_fields(b, hello, sizeof(hello)));
		char atext[HL_ID_TEXT_LEN + 1];
		uint8_t got[64];
		size_t n = 0;

		j = got_ok(&f, ca, id);
		HT_ASSERT(j && json_is_false(json_object_get(j, "queued")));
		json_decref(j);
		j = take_json(&f, cb);
		HT_ASSERT(j && strcmp(jstr(j, "type"), "relay") == 0);
		HT_ASSERT(strcmp(jstr(j, "call_id"), cid) == 0);
		hl_pubkey_to_text(f.a.pk, atext);
		HT_ASSERT(strcmp(jstr(j, "from"), atext) == 0);
		HT_ASSERT(sodium_base642bin(
				  got, sizeof(got), jstr(j, "payload"),
				  strlen(jstr(j, "payload")), NULL, &n, NULL,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
			  0);
		HT_EQ_INT(n, sizeof(hello));
		HT_EQ_MEM(got, hello, n);
		json_decref(j);
		HT_EQ_INT(pending(&f, ce), 0);
		HT_EQ_INT(pending(&f, ca), 0); /* not echoed */
	}
	/* bob -> alice */
	HT_ASSERT(req_ok(&f, cb, "relay", relay_fields(b, hello, 3)));
	j = take_json(&f, ca);
	HT_ASSERT(j && strcmp(jstr(j, "type"), "relay") == 0);
	json_decref(j);
	/* the third party, unknown calls, bad fields */
	HT_ASSERT(req_err(&f, ce, "relay", relay_fields(b, hello, 3),
			  "not_party"));
	HT_ASSERT(req_err(&f, ce, "turn", json_pack("{s:s}", "call_id", cid),
			  "not_party"));
	{
		struct hl_contract_bundle *u =
			proposal(77, &f.a, &f.b, T0, 3600);

		HT_ASSERT(req_err(&f, ca, "relay", relay_fields(u, hello, 3),
				  "not_found"));
		free(u);
	}
	HT_ASSERT(req_err(
		&f, ca, "relay",
		json_pack("{s:s, s:s}", "call_id", "xyz", "payload", "AAAA"),
		"bad_request"));
	HT_ASSERT(req_err(&f, ca, "relay",
			  json_pack("{s:s, s:i}", "call_id", cid, "payload", 1),
			  "bad_request"));
	HT_ASSERT(req_err(
		&f, ca, "relay",
		json_pack("{s:s, s:s}", "call_id", cid, "payload", "a+b/"),
		"bad_request"));
	HT_ASSERT(req_err(&f, ca, "relay", json_pack("{s:s}", "call_id", cid),
			  "bad_request"));
	memset(big, 0x5a, sizeof(big));
	HT_ASSERT(req_err(&f, ca, "relay", relay_fields(b, big, sizeof(big)),
			  "too_big"));
	HT_ASSERT(req_ok(&f, ca, "relay",
			 relay_fields(b, big, HL_SRV_RELAY_MAX)));
	json_decref(take_json(&f, cb));
	/* after the window */
	f.now = (b->c.not_after + 1) * US;
	HT_ASSERT(req_err(&f, ca, "relay", relay_fields(b, hello, 3),
			  "outside_window"));
	free(b);
	free(p);
	fx_free(&f);
	return 0;
}

static int test_relay_queue(void)
{
	struct fx f;
	struct hl_contract_bundle *b;
	uint64_t ca, cb, cb2;
	json_t *j;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = confirmed(&f, 1, ca, cb);
	HT_ASSERT(b);
	hl_srv_core_closed(f.core, cb); /* bob goes offline */
	f.now += 3000 * US;		/* inside the window */
	for (int i = 0; i < 17; i++) {
		uint8_t p[2] = {(uint8_t)i, 0xee};
		int64_t id = req(&f, ca, "relay", relay_fields(b, p, 2));

		f.now += 60000; /* 16/s: under the rate limits */
		if (i < 16) {
			j = got_ok(&f, ca, id);
			HT_ASSERT(j &&
				  json_is_true(json_object_get(j, "queued")));
			json_decref(j);
		} else {
			HT_ASSERT(got_error(&f, ca, "unavailable", id));
		}
	}
	{
		struct hl_srv_stats st;

		hl_srv_core_stats(f.core, &st);
		HT_EQ_INT(st.relays_queued, 16);
		HT_EQ_INT(st.relay_queues, 1);
	}
	/* bob comes back: all 16, in order, right after the welcome */
	cb2 = login(&f, &f.b);
	HT_ASSERT(cb2);
	for (int i = 0; i < 16; i++) {
		uint8_t got[4];
		size_t n = 0;

		j = take_json(&f, cb2);
		HT_ASSERT(j && strcmp(jstr(j, "type"), "relay") == 0);
		HT_ASSERT(sodium_base642bin(
				  got, sizeof(got), jstr(j, "payload"),
				  strlen(jstr(j, "payload")), NULL, &n, NULL,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
			  0);
		HT_EQ_INT(n, 2);
		HT_EQ_INT(got[0], i);
		json_decref(j);
	}
	HT_EQ_INT(pending(&f, cb2), 0);
	/* TTL: queued relays expire after 120 s */
	hl_srv_core_closed(f.core, cb2);
	HT_ASSERT(req_ok(&f, ca, "relay",
			 relay_fields(b, (const uint8_t *)"x", 1)));
	f.now += 119 * US;
	hl_srv_core_tick(f.core, f.now);
	{
		struct hl_srv_stats st;

		hl_srv_core_stats(f.core, &st);
		HT_EQ_INT(st.relays_queued, 1);
	}
	f.now += 1 * US;
	hl_srv_core_tick(f.core, f.now);
	{
		struct hl_srv_stats st;

		hl_srv_core_stats(f.core, &st);
		HT_EQ_INT(st.relays_queued, 0);
		HT_EQ_INT(st.relay_queues, 0);
		HT_EQ_INT(st.relay_bytes, 0);
	}
	cb2 = login(&f, &f.b);
	HT_ASSERT(cb2);
	HT_EQ_INT(pending(&f, cb2), 0);
	free(b);
	fx_free(&f);
	return 0;
}

/* "replace": what the sender queued for the offline party goes first,
 * also when the queue is full; a non-boolean is refused. */
static int test_relay_replace(void)
{
	struct fx f;
	struct hl_contract_bundle *b;
	struct hl_srv_stats st;
	uint64_t ca, cb, cb2;
	size_t n = 0;
	uint8_t got[4];
	json_t *j, *o;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = confirmed(&f, 1, ca, cb);
	HT_ASSERT(b);
	hl_srv_core_closed(f.core, cb); /* bob goes offline */
	f.now += 3000 * US;
	for (int i = 0; i < 16; i++) { /* a full queue */
		uint8_t p[2] = {(uint8_t)i, 0xee};

		HT_ASSERT(req_ok(&f, ca, "relay", relay_fields(b, p, 2)));
		f.now += 60000;
	}
	o = relay_fields(b, (const uint8_t *)"new", 3);
	json_object_set_new(o, "replace", json_true());
	HT_ASSERT(req_ok(&f, ca, "relay", o));
	f.now += 60000;
	hl_srv_core_stats(f.core, &st);
	HT_EQ_INT(st.relays_queued, 1);
	HT_EQ_INT(st.relay_queues, 1);
	HT_EQ_INT(st.relay_bytes, 3);
	o = relay_fields(b, (const uint8_t *)"x", 1);
	json_object_set_new(o, "replace", json_string("yes"));
	HT_ASSERT(req_err(&f, ca, "relay", o, "bad_request"));
	f.now += 60000;
	/* bob comes back: only the newest */
	cb2 = login(&f, &f.b);
	HT_ASSERT(cb2);
	j = take_json(&f, cb2);
	HT_ASSERT(j && strcmp(jstr(j, "type"), "relay") == 0);
	HT_ASSERT(sodium_base642bin(got, sizeof(got), jstr(j, "payload"),
				    strlen(jstr(j, "payload")), NULL, &n, NULL,
				    sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
		  0);
	HT_ASSERT(n == 3 && memcmp(got, "new", 3) == 0);
	json_decref(j);
	HT_EQ_INT(pending(&f, cb2), 0);
	hl_srv_core_stats(f.core, &st);
	HT_EQ_INT(st.relays_queued, 0);
	HT_EQ_INT(st.relay_bytes, 0);
	free(b);
	fx_free(&f);
	return 0;
}

/* ---- TURN --------------------------------------------------------------- */

static int test_turn_password_vector(void)
{
	char pw[64];

	/* echo -n "1767229200:00112233445566778899aabbccddeeff" |
	 *   openssl dgst -sha1 -hmac s3cret -binary | base64 */
	HT_OK(hl_srv_turn_password(
		"s3cret", "1767229200:00112233445566778899aabbccddeeff", pw,
		sizeof(pw)));
	HT_ASSERT(strcmp(pw, "dYWQwYf7vHPvX6cePg50QWi5OK8=") == 0);
	HT_EQ_INT(hl_srv_turn_password("s", "u", pw, 28), HL_EINVAL);
	return 0;
}

static int test_turn(void)
{
	struct fx f;
	struct hl_contract_bundle *b;
	uint64_t ca, cb;
	char cid[33], user[80], pw[64];
	json_t *j;
	int64_t id;

	HT_OK(fx_init_with(&f, NULL, "s3cret", NULL));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = confirmed(&f, 1, ca, cb);
	HT_ASSERT(b);
	cid_text(b, cid);
	HT_ASSERT(req_err(&f, ca, "turn", json_pack("{s:s}", "call_id", cid),
			  "outside_window"));
	f.now += 3600 * US;
	id = req(&f, ca, "turn", json_pack("{s:s}", "call_id", cid));
	j = got_ok(&f, ca, id);
	HT_ASSERT(j);
	HT_ASSERT(strcmp(json_string_value(
				 json_array_get(json_object_get(j, "uris"), 0)),
			 "turn:turn.example:3478") == 0);
	/* expiry = min(now + 1 day, not_after + 1 hour) */
	snprintf(user, sizeof(user), "%llu:%s",
		 (unsigned long long)(b->c.not_after + 3600), cid);
	HT_ASSERT(strcmp(jstr(j, "username"), user) == 0);
	HT_EQ_INT(json_integer_value(json_object_get(j, "ttl")),
		  b->c.not_after + 3600 - f.now / US);
	HT_OK(hl_srv_turn_password("s3cret", user, pw, sizeof(pw)));
	HT_ASSERT(strcmp(jstr(j, "password"), pw) == 0);
	json_decref(j);
	free(b);
	fx_free(&f);
	/* no TURN configured: unavailable */
	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = confirmed(&f, 1, ca, cb);
	f.now += 3600 * US;
	HT_ASSERT(req_err(&f, ca, "turn", json_pack("{s:s}", "call_id", cid),
			  "unavailable"));
	HT_ASSERT(req_err(&f, ca, "turn", json_pack("{s:s}", "call_id", "0"),
			  "bad_request"));
	free(b);
	fx_free(&f);
	return 0;
}

/* ---- limits and malformed input -------------------------------------- */

static int test_rate_limit_connection(void)
{
	struct fx f;
	uint64_t ca, cb;
	unsigned ok = 0, limited = 0;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	f.now += 10 * US; /* full credit again */
	/* 40 at once (burst), then refusals, to this connection alone */
	for (int i = 0; i < 50; i++) {
		int64_t id = req(&f, ca, "ping", NULL);
		json_t *j = take_json(&f, ca);

		if (strcmp(jstr(j, "type"), "ok") == 0)
			ok++;
		else if (strcmp(jstr(j, "code"), "rate_limited") == 0 &&
			 json_integer_value(json_object_get(j, "id")) == id)
			limited++;
		json_decref(j);
	}
	HT_EQ_INT(ok, 40);
	HT_EQ_INT(limited, 10);
	HT_ASSERT(req_ok(&f, cb, "ping", NULL));
	/* 20/s: after half a second, 10 more */
	f.now += 500000;
	ok = 0;
	for (int i = 0; i < 12; i++) {
		json_t *j;

		(void)req(&f, ca, "ping", NULL);
		j = take_json(&f, ca);
		ok += strcmp(jstr(j, "type"), "ok") == 0;
		json_decref(j);
	}
	HT_EQ_INT(ok, 10);
	fx_free(&f);
	return 0;
}

static int test_rate_limit_identity(void)
{
	struct fx f;
	uint64_t c[3], cb;
	unsigned ok = 0, limited = 0;

	HT_OK(fx_init(&f));
	for (int k = 0; k < 3; k++)
		c[k] = login(&f, &f.a);
	cb = login(&f, &f.b);
	f.now += 10 * US;
	/* 3 x 40 from alice's connections: the identity allows 100 */
	for (int i = 0; i < 40; i++)
		for (int k = 0; k < 3; k++) {
			json_t *j;

			(void)req(&f, c[k], "ping", NULL);
			j = take_json(&f, c[k]);
			ok += strcmp(jstr(j, "type"), "ok") == 0;
			limited += strcmp(jstr(j, "code"), "rate_limited") == 0;
			json_decref(j);
		}
	HT_EQ_INT(ok, 100);
	HT_EQ_INT(limited, 20);
	/* bob is not affected */
	for (int i = 0; i < 30; i++)
		HT_ASSERT(req_ok(&f, cb, "ping", NULL));
	fx_free(&f);
	return 0;
}

/* A flood that ignores rate_limited is closed after HL_SRV_STRIKES_MAX. */
static int test_flood_closed(void)
{
	struct fx f;
	uint64_t ca;
	unsigned errors = 0;
	bool closed = false;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	for (int i = 0; i < 200 && !closed; i++) {
		struct out_rec r;

		(void)req(&f, ca, "ping", NULL);
		while ((r = take(&f, ca)).kind) {
			if (r.kind == HL_SRV_CLOSE)
				closed = true;
			else if (strstr(r.text, "rate_limited"))
				errors++;
			free(r.text);
		}
	}
	HT_ASSERT(closed);
	HT_EQ_INT(errors, HL_SRV_STRIKES_MAX);
	fx_free(&f);
	return 0;
}

static int test_conn_limits(void)
{
	struct hl_server_limits lim = {.conns_per_addr = 3, .max_conns = 5};
	struct fx f;
	uint64_t c[6];

	HT_OK(fx_init_with(&f, &lim, NULL, NULL));
	for (int i = 0; i < 3; i++)
		HT_ASSERT((c[i] = open_conn(&f, ADDR)) != 0);
	/* a 4th from the same address: refused and closed */
	HT_OK(hl_srv_core_connected(f.core, 1000, ADDR, f.now));
	HT_ASSERT(got_error(&f, 1000, "rate_limited", -1));
	HT_ASSERT(got_close(&f, 1000));
	hl_srv_core_closed(f.core, 1000);
	/* another address is fine, up to max_conns overall */
	HT_ASSERT((c[3] = open_conn(&f, ADDR2)) != 0);
	HT_ASSERT((c[4] = open_conn(&f, ADDR2)) != 0);
	HT_OK(hl_srv_core_connected(f.core, 1001, "192.0.2.3", f.now));
	HT_ASSERT(got_error(&f, 1001, "unavailable", -1));
	HT_ASSERT(got_close(&f, 1001));
	hl_srv_core_closed(f.core, 1001);
	/* a closed connection frees its place */
	hl_srv_core_closed(f.core, c[0]);
	HT_ASSERT(open_conn(&f, ADDR) != 0);
	fx_free(&f);
	return 0;
}

static int test_too_big(void)
{
	struct fx f;
	uint64_t ca, cb;
	size_t n = 64 * 1024 + 1;
	uint8_t *m = malloc(n);

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	memset(m, ' ', n);
	HT_OK(hl_srv_core_message(f.core, ca, m, n, false, f.now));
	HT_ASSERT(got_error(&f, ca, "too_big", -1));
	HT_ASSERT(got_close(&f, ca));
	/* exactly the limit is read (and is not JSON here) */
	HT_OK(hl_srv_core_message(f.core, cb, m, n - 1, false, f.now));
	HT_ASSERT(got_error(&f, cb, "bad_request", -1));
	HT_ASSERT(req_ok(&f, cb, "ping", NULL));
	free(m);
	fx_free(&f);
	return 0;
}

static int test_malformed_json(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"}",
		"[]",
		"null",
		"1",
		"\"ping\"",
		"{\"type\":1,\"id\":1}",
		"{\"type\":\"ping\"}",
		"{\"type\":\"ping\",\"id\":-1}",
		"{\"type\":\"ping\",\"id\":1.5}",
		"{\"type\":\"ping\",\"id\":\"1\"}",
		"{\"type\":\"ping\",\"id\":9007199254740992}",
		"{\"type\":\"ping\",\"id\":99999999999999999999999}",
		"{\"type\":\"ping\",\"id\":1,\"id\":2}",
		"{\"type\":\"ping\",\"id\":1} trailing",
		"{\"type\":\"ping\",\"id\":1}{}",
		"{\"type\":\"pi\\u0000ng\",\"id\":1}",
		"{\"type\":\"\xff\xfe\",\"id\":1}",
		"{'type':'ping','id':1}",
		"{\"type\":\"ping\",\"id\":1,}",
		"{\"type\":\"nonsense\",\"id\":1}",
		"{\"type\":\"relay\",\"id\":1,\"call_id\":null}",
		"{\"type\":\"put_contract\",\"id\":1,\"bundle\":[]}",
		"{\"type\":\"answer\",\"id\":1,\"bundle\":{\"contract\":1}}",
		"{\"type\":\"list\",\"id\":1,\"after\":1e400}",
		"\xef\xbb\xbf{\"type\":\"ping\",\"id\":1}",
	};
	struct fx f;
	uint64_t ca, cb;
	char *deep;

	HT_OK(fx_init(&f));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		f.now += 100000;
		HT_OK(sendt(&f, ca, bad[i]));
		if (!got_error(&f, ca, "bad_request", -1)) {
			fprintf(stderr, "  input %zu: %s\n", i, bad[i]);
			return -1;
		}
		HT_EQ_INT(pending(&f, ca), 0);
		HT_EQ_INT(pending(&f, cb), 0);
	}
	/* NUL inside, binary frames, deep nesting */
	HT_OK(hl_srv_core_message(f.core, ca,
				  (const uint8_t *)"{\"type\":\0\"ping\"}", 16,
				  false, f.now));
	HT_ASSERT(got_error(&f, ca, "bad_request", -1));
	HT_OK(hl_srv_core_message(f.core, ca,
				  (const uint8_t *)"{\"type\":\"ping\"}", 15,
				  true, f.now));
	HT_ASSERT(got_error(&f, ca, "bad_request", -1));
	deep = malloc(60001);
	for (int i = 0; i < 30000; i++) {
		deep[i] = '[';
		deep[60000 - 1 - i] = ']';
	}
	deep[60000] = 0;
	HT_OK(sendt(&f, ca, deep));
	HT_ASSERT(got_error(&f, ca, "bad_request", -1));
	free(deep);
	/* the connection still works; so does everyone else's */
	f.now += 5 * US;
	HT_ASSERT(req_ok(&f, ca, "ping", NULL));
	HT_ASSERT(req_ok(&f, cb, "ping", NULL));
	fx_free(&f);
	return 0;
}

/* ---- store -------------------------------------------------------------- */

struct failing_store {
	struct hl_srv_store st;
	struct hl_srv_store *real;
	bool fail;
};

static int fs_get(void *ctx, const uint8_t id[16], struct hl_srv_contract *c)
{
	struct failing_store *s = ctx;

	return s->fail ? HL_EIO : s->real->ops->get(s->real->ctx, id, c);
}

static int fs_insert(void *ctx, const struct hl_srv_contract *c, uint64_t t)
{
	struct failing_store *s = ctx;

	return s->fail ? HL_EIO : s->real->ops->insert(s->real->ctx, c, t);
}

static int fs_answer(void *ctx, const uint8_t id[16], enum hl_contract_state st,
		     const uint8_t sig[64], uint64_t t)
{
	struct failing_store *s = ctx;

	return s->fail ? HL_EIO
		       : s->real->ops->answer(s->real->ctx, id, st, sig, t);
}

static int fs_list(void *ctx, const uint8_t pk[32], int64_t after, unsigned max,
		   hl_srv_each_fn *each, void *arg)
{
	struct failing_store *s = ctx;

	return s->fail ? HL_EIO
		       : s->real->ops->list(s->real->ctx, pk, after, max, each,
					    arg);
}

static int fs_count(void *ctx, const uint8_t pk[32], uint64_t t, uint64_t *n)
{
	struct failing_store *s = ctx;

	return s->fail ? HL_EIO
		       : s->real->ops->count_open(s->real->ctx, pk, t, n);
}

static void fs_close(void *ctx)
{
	(void)ctx;
}

static const struct hl_srv_store_ops failing_ops = {
	fs_get, fs_insert, fs_answer, fs_list, fs_count, fs_close,
};

static int test_store_failure_internal(void)
{
	struct failing_store fs;
	struct hl_srv_store *real;
	struct hl_contract_bundle *b;
	struct fx f;
	uint64_t ca, cb;
	char cid[33];

	HT_OK(fx_init(&f));
	real = f.store;
	fs.st.ops = &failing_ops;
	fs.st.ctx = &fs;
	fs.real = real;
	fs.fail = false;
	/* rebuild the core over the failing store */
	hl_srv_core_free(f.core);
	{
		struct hl_srv_core_config cc = {0};

		memcpy(cc.fingerprint, f.fp, 32);
		cc.store = &fs.st;
		cc.rng = hl_prng_as_rng(&f.prng);
		HT_OK(hl_srv_core_new(&f.core, &cc));
	}
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = proposal(1, &f.a, &f.b, T0 + 60, 3600);
	cid_text(b, cid);
	fs.fail = true;
	HT_ASSERT(req_err(&f, ca, "put_contract", with_bundle(b), "internal"));
	HT_ASSERT(req_err(&f, ca, "list", NULL, "internal"));
	HT_ASSERT(req_err(
		&f, ca, "relay",
		json_pack("{s:s, s:s}", "call_id", cid, "payload", "AA"),
		"internal"));
	fs.fail = false;
	HT_ASSERT(req_ok(&f, ca, "put_contract", with_bundle(b)));
	json_decref(take_json(&f, cb));
	HT_OK(hl_contract_accept(b, &f.b));
	fs.fail = true;
	HT_ASSERT(req_err(&f, cb, "answer", with_bundle(b), "internal"));
	fs.fail = false;
	HT_ASSERT(req_ok(&f, ca, "ping", NULL)); /* still served */
	free(b);
	fx_free(&f);
	return 0;
}

/* A file store: what was acknowledged is there after reopening. */
static int test_store_durable(void)
{
	char dir[] = "/tmp/hl-store-XXXXXX", db[64];
	struct hl_contract_bundle *b;
	struct hl_srv_contract *sc = malloc(sizeof(*sc));
	struct hl_srv_store *st = NULL;
	struct fx f;
	uint64_t ca, cb;
	const char *why = NULL;

	HT_ASSERT(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/hotlined.db", dir);
	HT_OK(fx_init_with(&f, NULL, NULL, db));
	ca = login(&f, &f.a);
	cb = login(&f, &f.b);
	b = confirmed(&f, 1, ca, cb);
	HT_ASSERT(b);
	fx_free(&f);
	HT_OK(hl_srv_store_open(&st, db, &why));
	HT_OK(st->ops->get(st->ctx, b->c.call_id, sc));
	HT_EQ_INT(sc->state, HL_CONTRACT_CONFIRMED);
	HT_EQ_MEM(sc->answer, b->acceptance, 64);
	HT_EQ_MEM(sc->enc, b->enc, b->enc_len);
	HT_EQ_INT(
		st->ops->get(st->ctx, (const uint8_t *)"0123456789abcdef", sc),
		HL_ENOTFOUND);
	hl_srv_store_close(st);
	/* a newer schema is refused */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
			 "sqlite3 %s 'UPDATE schema_version SET version = 9' "
			 "2>/dev/null",
			 db);
		if (system(cmd) == 0) {
			HT_EQ_INT(hl_srv_store_open(&st, db, &why),
				  HL_EUNSUPPORTED);
			HT_ASSERT(strstr(why, "newer"));
		}
	}
	snprintf(db, sizeof(db), "rm -rf %s", dir);
	HT_EQ_INT(system(db), 0);
	free(sc);
	free(b);
	return 0;
}

/* Every allocation failing in turn: clean errors, nothing leaked. */
static int test_oom_flow(void)
{
	struct hl_srv_core_config cc = {0};
	struct hl_srv_store *st = NULL;
	struct hl_srv_core *core = NULL;
	struct hl_identity a;
	struct hl_prng prng;
	uint8_t nonce[32];
	size_t n = 0;
	char *t = NULL;
	int rc = -1, err;
	struct hl_srv_out *o;

	id_from(&a, 0, "Alice");
	hl_prng_seed(&prng, 1);
	err = hl_srv_store_open(&st, ":memory:", NULL);
	if (err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	HT_OK(err);
	cc.store = st;
	cc.rng = hl_prng_as_rng(&prng);
	err = hl_srv_core_new(&core, &cc);
	if (err)
		goto out;
	err = hl_srv_core_connected(core, 1, ADDR, T0 * US);
	if (err)
		goto out;
	o = hl_srv_core_pop(core);
	if (o) {
		json_t *j = json_loadb((const char *)o->data, o->len, 0, NULL);
		const char *nv = jstr(j, "nonce");

		if (strcmp(jstr(j, "type"), "challenge") == 0)
			sodium_base642bin(
				nonce, 32, nv, strlen(nv), NULL, &n, NULL,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		json_decref(j);
		hl_free(o);
	}
	if (n == 32) {
		uint8_t fp[32] = {0};

		t = auth_text(&a, &a, nonce, fp);
		err = hl_srv_core_message(core, 1, (const uint8_t *)t,
					  strlen(t), false, T0 * US);
		free(t);
		if (err)
			goto out;
		err = hl_srv_core_message(
			core, 1,
			(const uint8_t *)"{\"type\":\"list\",\"id\":2}", 22,
			false, T0 * US);
		if (err)
			goto out;
	}
	hl_srv_core_tick(core, T0 * US + 100 * US);
	rc = 0;
out:
	hl_srv_core_free(core);
	hl_srv_store_close(st);
	if (rc && err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	return rc;
}

static int test_limits_defaults(void)
{
	struct hl_server_limits l = {0};

	hl_srv_limits_fill(&l);
	HT_EQ_INT(l.max_message, 65536);
	HT_EQ_INT(l.conn_msgs_per_s, 20);
	HT_EQ_INT(l.id_msgs_per_s, 50);
	HT_EQ_INT(l.conns_per_addr, 16);
	HT_EQ_INT(l.max_conns, 4096);
	HT_EQ_INT(l.idle_s, 60);
	HT_EQ_INT(l.auth_s, 10);
	HT_EQ_INT(l.relay_queue, 16);
	HT_EQ_INT(l.relay_ttl_s, 120);
	HT_EQ_INT(l.window_early_s, 600);
	HT_EQ_INT(l.open_contracts, 1000);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_limits_defaults),
	HT_TEST(test_auth_good),
	HT_TEST(test_auth_challenge_fields),
	HT_TEST(test_auth_bad_signatures),
	HT_TEST(test_auth_malformed),
	HT_TEST(test_auth_required_first),
	HT_TEST(test_auth_timeout),
	HT_TEST(test_idle_timeout),
	HT_TEST(test_put_contract),
	HT_TEST(test_answer),
	HT_TEST(test_list_paging),
	HT_TEST(test_open_contract_quota),
	HT_TEST(test_relay_rules),
	HT_TEST(test_relay_queue),
	HT_TEST(test_relay_replace),
	HT_TEST(test_turn_password_vector),
	HT_TEST(test_turn),
	HT_TEST(test_rate_limit_connection),
	HT_TEST(test_rate_limit_identity),
	HT_TEST(test_flood_closed),
	HT_TEST(test_conn_limits),
	HT_TEST(test_too_big),
	HT_TEST(test_malformed_json),
	HT_TEST(test_store_failure_internal),
	HT_TEST(test_store_durable),
	HT_TEST_OOM(test_oom_flow),
};

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
