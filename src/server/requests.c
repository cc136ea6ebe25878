/*
 * requests.c - the requests of an authenticated client (docs/protocol.md
 * §5.5): put_contract, answer, list, relay, turn, ping.
 *
 * Contracts arrive as bundles (§5.2) and are verified in full by
 * hl_contract_bundle_from_json (canonical encoding, every signature);
 * the server then checks who may do what: only the proposer puts, only
 * the invitee answers, and only a bundle whose contract and proposal are
 * byte for byte the stored ones.  The store is written before "ok" is
 * queued.  Relays go only between the two parties of a confirmed
 * contract, only within its window (opening window_early_s before
 * not_before); a relay for a party that is not connected waits in a
 * bounded queue (relay_queue per call and recipient, relay_ttl_s, and
 * global caps) until that party authenticates.
 */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

#define US 1000000ull

/* jansson object to an hl_malloc'd compact text. */
static int dump_alloc(json_t *v, char **out, size_t *len)
{
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
	char *s;

	if (n == 0)
		return HL_ENOMEM;
	s = hl_malloc(n + 1);
	if (!s)
		return HL_ENOMEM;
	if (json_dumpb(v, s, n, JSON_COMPACT) != n) {
		hl_free(s);
		return HL_ENOMEM;
	}
	s[n] = 0;
	*out = s;
	*len = n;
	return 0;
}

/* Set key to the base64url of bytes (jansson takes ownership of none). */
static int set_b64(json_t *o, const char *key, const uint8_t *in, size_t len)
{
	char *s = NULL;
	int err = hl_srv_b64(in, len, &s);

	if (!err && json_object_set_new(o, key, json_string(s)))
		err = HL_ENOMEM;
	hl_free(s);
	return err;
}

/* The bundle of a stored contract as JSON (§5.2); *out is a new ref. */
static int contract_json(const struct hl_srv_contract *c, json_t **out)
{
	json_t *o = json_object();
	int err = HL_ENOMEM;

	if (!o)
		return HL_ENOMEM;
	if ((err = set_b64(o, "contract", c->enc, c->enc_len)) ||
	    (err = set_b64(o, "proposal", c->proposal, HL_ID_SIG_LEN)))
		goto out;
	if (c->state == HL_CONTRACT_CONFIRMED)
		err = set_b64(o, "acceptance", c->answer, HL_ID_SIG_LEN);
	else if (c->state == HL_CONTRACT_DECLINED)
		err = set_b64(o, "decline", c->answer, HL_ID_SIG_LEN);
out:
	if (err)
		json_decref(o);
	else
		*out = o;
	return err;
}

static int send_ok(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		   json_t *extra)
{
	json_t *o = extra ? extra : json_object();
	int err = HL_ENOMEM;

	if (!extra && !o)
		return HL_ENOMEM;
	if (json_object_set_new(o, "type", json_string("ok")) == 0 &&
	    json_object_set_new(o, "id", json_integer(id)) == 0)
		err = hl_srv_send_json(core, c, o);
	if (!extra)
		json_decref(o);
	return err;
}

static bool online(const struct hl_srv_ident *id)
{
	for (const struct hl_srv_conn *c = id ? id->conns : NULL; c;
	     c = c->id_next)
		if (!c->closing)
			return true;
	return false;
}

/* Send msg to every open connection of identity pk; *n counts them. */
static int push(struct hl_srv_core *core, const uint8_t pk[HL_ID_PK_LEN],
		json_t *msg, unsigned *n)
{
	struct hl_srv_ident *id =
		hl_srv_map_get(&core->idents, pk, HL_ID_PK_LEN);
	int err;

	*n = 0;
	for (struct hl_srv_conn *c = id ? id->conns : NULL; c; c = c->id_next) {
		if (c->closing)
			continue;
		if ((err = hl_srv_send_json(core, c, msg)) != 0)
			return err;
		(*n)++;
	}
	return 0;
}

/* Push {"type": "contract", "bundle"} to pk's connections. */
static int push_contract(struct hl_srv_core *core,
			 const uint8_t pk[HL_ID_PK_LEN],
			 const struct hl_srv_contract *sc)
{
	json_t *b = NULL, *msg = NULL;
	unsigned n;
	int err;

	if ((err = contract_json(sc, &b)) != 0)
		return err;
	msg = json_pack("{s:s, s:o}", "type", "contract", "bundle", b);
	err = msg ? push(core, pk, msg, &n) : HL_ENOMEM;
	json_decref(msg);
	return err;
}

/* Store errors as protocol errors: internal for I/O, the rest passed up. */
static int store_failed(struct hl_srv_core *core, struct hl_srv_conn *c,
			int64_t id, int err)
{
	if (err == HL_ENOMEM)
		return err;
	return hl_srv_send_error(core, c, id, "internal",
				 "the server's store failed; try later");
}

/*
 * Parse and verify the "bundle" of req into b (hl_malloc'd by the
 * caller).  Returns 0, or 1 after queueing the refusal, or an error.
 */
static int take_bundle(struct hl_srv_core *core, struct hl_srv_conn *c,
		       int64_t id, json_t *req, struct hl_contract_bundle *b)
{
	json_t *bv = json_object_get(req, "bundle");
	const char *why = NULL;
	char *text = NULL, m[160];
	size_t len = 0;
	int err;

	if (!json_is_object(bv)) {
		err = hl_srv_send_error(core, c, id, "bad_request",
					"\"bundle\" must be a JSON object");
		return err ? err : 1;
	}
	if ((err = dump_alloc(bv, &text, &len)) != 0)
		return err;
	err = hl_contract_bundle_from_json(text, len, b, &why);
	hl_free(text);
	if (err == 0 || err == HL_ENOMEM)
		return err;
	snprintf(m, sizeof(m), "the bundle is not valid: %s",
		 why ? why : hl_strerror(err));
	err = hl_srv_send_error(
		core, c, id, err == HL_EAUTH ? "bad_signature" : "bad_request",
		m);
	return err ? err : 1;
}

static void fill_record(struct hl_srv_contract *sc,
			const struct hl_contract_bundle *b)
{
	memset(sc, 0, sizeof(*sc));
	memcpy(sc->call_id, b->c.call_id, HL_CALL_ID_LEN);
	memcpy(sc->proposer, b->c.proposer, HL_ID_PK_LEN);
	memcpy(sc->invitee, b->c.invitee, HL_ID_PK_LEN);
	sc->not_before = b->c.not_before;
	sc->not_after = b->c.not_after;
	sc->state = HL_CONTRACT_PROPOSED;
	memcpy(sc->enc, b->enc, b->enc_len);
	sc->enc_len = b->enc_len;
	memcpy(sc->proposal, b->proposal, HL_ID_SIG_LEN);
}

static bool same_proposal(const struct hl_srv_contract *sc,
			  const struct hl_contract_bundle *b)
{
	return sc->enc_len == b->enc_len &&
	       memcmp(sc->enc, b->enc, b->enc_len) == 0 &&
	       memcmp(sc->proposal, b->proposal, HL_ID_SIG_LEN) == 0;
}

static int ok_state(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		    enum hl_contract_state st)
{
	json_t *o = json_pack("{s:s}", "state", hl_contract_state_name(st));
	int err = o ? send_ok(core, c, id, o) : HL_ENOMEM;

	json_decref(o);
	return err;
}

static int put_contract(struct hl_srv_core *core, struct hl_srv_conn *c,
			int64_t id, json_t *req)
{
	struct hl_contract_bundle *b = hl_malloc(sizeof(*b));
	struct hl_srv_contract *sc = hl_malloc(sizeof(*sc));
	uint64_t now_s = core->now / US, open = 0;
	char cid[33];
	int err = HL_ENOMEM;

	if (!b || !sc)
		goto out;
	if ((err = take_bundle(core, c, id, req, b)) != 0)
		goto out;
	hl_call_id_to_text(b->c.call_id, cid);
	if (b->has_acceptance || b->has_decline) {
		err = hl_srv_send_error(core, c, id, "bad_request",
					"put_contract takes a proposal; "
					"send answers with \"answer\"");
		goto out;
	}
	if (memcmp(b->c.proposer, c->ident->pk, HL_ID_PK_LEN) != 0) {
		err = hl_srv_send_error(core, c, id, "not_party",
					"only the proposer may put a contract");
		goto out;
	}
	err = core->store->ops->get(core->store->ctx, b->c.call_id, sc);
	if (err == 0) {
		if (same_proposal(sc, b))
			err = ok_state(core, c, id, sc->state);
		else
			err = hl_srv_send_error(core, c, id, "conflict",
						"another contract has this "
						"call id");
		goto out;
	}
	if (err != HL_ENOTFOUND) {
		err = store_failed(core, c, id, err);
		goto out;
	}
	if (b->c.not_after < now_s ||
	    b->c.not_before > now_s + HL_SRV_AHEAD_MAX_S) {
		err = hl_srv_send_error(core, c, id, "outside_window",
					b->c.not_after < now_s
						? "the contract's window has "
						  "already ended"
						: "the contract starts more "
						  "than a year from now");
		goto out;
	}
	err = core->store->ops->count_open(core->store->ctx, c->ident->pk,
					   now_s, &open);
	if (err) {
		err = store_failed(core, c, id, err);
		goto out;
	}
	if (open >= core->lim.open_contracts) {
		err = hl_srv_send_error(core, c, id, "rate_limited",
					"too many contracts whose window has "
					"not ended");
		goto out;
	}
	fill_record(sc, b);
	err = core->store->ops->insert(core->store->ctx, sc, now_s);
	if (err == HL_ECONFLICT) {
		err = hl_srv_send_error(core, c, id, "conflict",
					"another contract has this call id");
		goto out;
	}
	if (err) {
		err = store_failed(core, c, id, err);
		goto out;
	}
	hl_srv_logf(core, c, "contract %s stored (proposed)", cid);
	if ((err = ok_state(core, c, id, HL_CONTRACT_PROPOSED)) == 0)
		err = push_contract(core, sc->invitee, sc);
out:
	hl_free(b);
	hl_free(sc);
	return err > 0 ? 0 : err; /* 1: refused, already answered */
}

static int answer(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		  json_t *req)
{
	struct hl_contract_bundle *b = hl_malloc(sizeof(*b));
	struct hl_srv_contract *sc = hl_malloc(sizeof(*sc));
	enum hl_contract_state st;
	const uint8_t *sig;
	char cid[33];
	int err = HL_ENOMEM;

	if (!b || !sc)
		goto out;
	if ((err = take_bundle(core, c, id, req, b)) != 0)
		goto out;
	hl_call_id_to_text(b->c.call_id, cid);
	if (!b->has_acceptance && !b->has_decline) {
		err = hl_srv_send_error(core, c, id, "bad_request",
					"an answer carries an acceptance or "
					"a decline");
		goto out;
	}
	if (memcmp(b->c.invitee, c->ident->pk, HL_ID_PK_LEN) != 0) {
		err = hl_srv_send_error(core, c, id, "not_party",
					"only the invitee may answer");
		goto out;
	}
	err = core->store->ops->get(core->store->ctx, b->c.call_id, sc);
	if (err == HL_ENOTFOUND) {
		err = hl_srv_send_error(core, c, id, "not_found",
					"no such contract");
		goto out;
	}
	if (err) {
		err = store_failed(core, c, id, err);
		goto out;
	}
	if (!same_proposal(sc, b)) {
		err = hl_srv_send_error(core, c, id, "conflict",
					"the bundle differs from the stored "
					"proposal");
		goto out;
	}
	st = b->has_acceptance ? HL_CONTRACT_CONFIRMED : HL_CONTRACT_DECLINED;
	sig = b->has_acceptance ? b->acceptance : b->decline;
	if (sc->state != HL_CONTRACT_PROPOSED) {
		if (sc->state == st &&
		    memcmp(sc->answer, sig, HL_ID_SIG_LEN) == 0)
			err = ok_state(core, c, id, st);
		else
			err = hl_srv_send_error(core, c, id, "conflict",
						"the contract was already "
						"answered");
		goto out;
	}
	if (sc->not_after < core->now / US) {
		err = hl_srv_send_error(core, c, id, "outside_window",
					"the contract's window has already "
					"ended");
		goto out;
	}
	err = core->store->ops->answer(core->store->ctx, sc->call_id, st, sig,
				       core->now / US);
	if (err == HL_ECONFLICT) {
		err = hl_srv_send_error(core, c, id, "conflict",
					"the contract was already answered");
		goto out;
	}
	if (err) {
		err = store_failed(core, c, id, err);
		goto out;
	}
	sc->state = st;
	memcpy(sc->answer, sig, HL_ID_SIG_LEN);
	hl_srv_logf(core, c, "contract %s answered (%s)", cid,
		    hl_contract_state_name(st));
	if ((err = ok_state(core, c, id, st)) == 0)
		err = push_contract(core, sc->proposer, sc);
out:
	hl_free(b);
	hl_free(sc);
	return err > 0 ? 0 : err; /* 1: refused, already answered */
}

struct list_walk {
	json_t *arr;
	unsigned n;
	int64_t last;
};

static int list_each(void *arg, const struct hl_srv_contract *sc)
{
	struct list_walk *w = arg;
	json_t *b;
	int err;

	if (w->n == HL_SRV_LIST_PAGE)
		return 1; /* one more exists: the page is full */
	if ((err = contract_json(sc, &b)) != 0)
		return err;
	if (json_array_append_new(w->arr, b))
		return HL_ENOMEM;
	w->n++;
	w->last = sc->seq;
	return 0;
}

/* {"type": "list", "id", "after"?} -> {"bundles": [...], "next"?} */
static int list(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		json_t *req)
{
	json_t *av = json_object_get(req, "after"), *o = NULL;
	struct list_walk w = {0};
	int64_t after = 0;
	int err;

	if (av) {
		if (!json_is_integer(av) || json_integer_value(av) < 0)
			return hl_srv_send_error(core, c, id, "bad_request",
						 "\"after\" must be a "
						 "non-negative integer");
		after = json_integer_value(av);
	}
	w.arr = json_array();
	if (!w.arr)
		return HL_ENOMEM;
	err = core->store->ops->list(core->store->ctx, c->ident->pk, after,
				     HL_SRV_LIST_PAGE + 1, list_each, &w);
	if (err < 0) {
		json_decref(w.arr);
		return store_failed(core, c, id, err);
	}
	o = json_pack("{s:o}", "bundles", w.arr);
	if (!o)
		return HL_ENOMEM;
	if (err == 1 && json_object_set_new(o, "next", json_integer(w.last)))
		err = HL_ENOMEM;
	else
		err = send_ok(core, c, id, o);
	json_decref(o);
	return err;
}

/*
 * The contract named by req's "call_id" if c may relay on it now (a
 * party of a confirmed contract, inside its window).  Returns 0, 1 after
 * queueing the refusal, or an error.
 */
static int relay_contract(struct hl_srv_core *core, struct hl_srv_conn *c,
			  int64_t id, json_t *req, struct hl_srv_contract *sc)
{
	const char *text = json_string_value(json_object_get(req, "call_id"));
	uint8_t call_id[HL_CALL_ID_LEN];
	uint64_t now_s = core->now / US;
	const char *code = NULL, *msg = NULL;
	int err;

	if (!text || hl_call_id_from_text(text, call_id) != 0) {
		code = "bad_request";
		msg = "\"call_id\" must be 32 hex digits";
		goto refuse;
	}
	err = core->store->ops->get(core->store->ctx, call_id, sc);
	if (err == HL_ENOTFOUND) {
		code = "not_found";
		msg = "no such contract";
		goto refuse;
	}
	if (err) {
		err = store_failed(core, c, id, err);
		return err ? err : 1;
	}
	if (memcmp(sc->proposer, c->ident->pk, HL_ID_PK_LEN) != 0 &&
	    memcmp(sc->invitee, c->ident->pk, HL_ID_PK_LEN) != 0) {
		code = "not_party";
		msg = "you are not a party of this contract";
	} else if (sc->state != HL_CONTRACT_CONFIRMED) {
		code = "not_confirmed";
		msg = "the contract is not confirmed";
	} else if (now_s + core->lim.window_early_s < sc->not_before ||
		   now_s > sc->not_after) {
		code = "outside_window";
		msg = now_s > sc->not_after ? "the call's window has ended"
					    : "the call's window has not "
					      "opened yet";
	}
	if (!code)
		return 0;
refuse:
	err = hl_srv_send_error(core, c, id, code, msg);
	return err ? err : 1;
}

/* {"type": "relay", "call_id", "from", "payload"} for the recipient. */
static json_t *relay_msg(const uint8_t call_id[HL_CALL_ID_LEN],
			 const uint8_t from[HL_ID_PK_LEN],
			 const uint8_t *payload, size_t len)
{
	char cid[33], ftext[HL_ID_TEXT_LEN + 1], *p = NULL;
	json_t *o;

	if (hl_srv_b64(payload, len, &p) != 0)
		return NULL;
	hl_call_id_to_text(call_id, cid);
	hl_pubkey_to_text(from, ftext);
	o = json_pack("{s:s, s:s, s:s, s:s}", "type", "relay", "call_id", cid,
		      "from", ftext, "payload", p);
	hl_free(p);
	return o;
}

static void queue_unlink(struct hl_srv_core *core, struct hl_srv_relay_queue *q)
{
	hl_srv_map_del(&core->queues, q->key, sizeof(q->key));
	if (q->prev)
		q->prev->next = q->next;
	else
		core->queue_list = q->next;
	if (q->next)
		q->next->prev = q->prev;
	core->nqueues--;
}

static void queue_free(struct hl_srv_core *core, struct hl_srv_relay_queue *q)
{
	struct hl_srv_relay_item *it, *next;

	for (it = q->head; it; it = next) {
		next = it->next;
		core->nqueued--;
		core->queued_bytes -= it->len;
		hl_free(it);
	}
	queue_unlink(core, q);
	hl_free(q);
}

/* Drop what the sender `from` has queued in q. */
static void queue_drop_from(struct hl_srv_core *core,
			    struct hl_srv_relay_queue *q, const uint8_t *from)
{
	struct hl_srv_relay_item **pp = &q->head, *it;

	q->tail = NULL;
	while ((it = *pp) != NULL) {
		if (memcmp(it->from, from, HL_ID_PK_LEN) != 0) {
			q->tail = it;
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		q->count--;
		core->nqueued--;
		core->queued_bytes -= it->len;
		hl_free(it);
	}
}

/*
 * Queue a relay for an offline recipient; with replace, what this sender
 * queued before for that recipient and call goes first.  0, 1 (refused),
 * or error.
 */
static int relay_enqueue(struct hl_srv_core *core, struct hl_srv_conn *c,
			 int64_t id, const uint8_t key[HL_CALL_ID_LEN + 32],
			 const uint8_t *payload, size_t len, bool replace)
{
	struct hl_srv_relay_queue *q;
	struct hl_srv_relay_item *it;
	const char *why = NULL;
	unsigned drop_n = 0;
	size_t drop_bytes = 0;
	int err;

	q = hl_srv_map_get(&core->queues, key, HL_CALL_ID_LEN + HL_ID_PK_LEN);
	if (q && replace) /* what goes if this one is taken */
		for (it = q->head; it; it = it->next)
			if (!memcmp(it->from, c->ident->pk, HL_ID_PK_LEN)) {
				drop_n++;
				drop_bytes += it->len;
			}
	if (q && q->count - drop_n >= core->lim.relay_queue)
		why = "the other party is offline and this call's queue is "
		      "full";
	else if (!q && core->nqueues >= HL_SRV_QUEUES_MAX)
		why = "the other party is offline and the server's queues "
		      "are full";
	else if (core->queued_bytes - drop_bytes + len >
		 HL_SRV_QUEUED_BYTES_MAX)
		why = "the other party is offline and the server's queues "
		      "are full";
	if (why) {
		err = hl_srv_send_error(core, c, id, "unavailable", why);
		return err ? err : 1;
	}
	it = hl_malloc(sizeof(*it) + len);
	if (!it)
		return HL_ENOMEM;
	if (drop_n)
		queue_drop_from(core, q, c->ident->pk);
	it->next = NULL;
	it->expires = core->now + (uint64_t)core->lim.relay_ttl_s * US;
	memcpy(it->from, c->ident->pk, HL_ID_PK_LEN);
	it->len = len;
	memcpy(it->payload, payload, len);
	if (!q) {
		q = hl_calloc(1, sizeof(*q));
		if (!q ||
		    hl_srv_map_put(&core->queues, key, sizeof(q->key), q)) {
			hl_free(q);
			hl_free(it);
			return HL_ENOMEM;
		}
		memcpy(q->key, key, sizeof(q->key));
		q->next = core->queue_list;
		if (core->queue_list)
			core->queue_list->prev = q;
		core->queue_list = q;
		core->nqueues++;
	}
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->count++;
	core->nqueued++;
	core->queued_bytes += len;
	return 0;
}

static int relay(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		 json_t *req)
{
	json_t *pv = json_object_get(req, "payload"), *msg = NULL, *o = NULL;
	json_t *rv = json_object_get(req, "replace");
	struct hl_srv_contract *sc = hl_malloc(sizeof(*sc));
	uint8_t *payload = hl_malloc(HL_SRV_RELAY_MAX);
	uint8_t key[HL_CALL_ID_LEN + HL_ID_PK_LEN];
	const uint8_t *to;
	char cid[33];
	size_t len = 0;
	unsigned n = 0;
	int err = HL_ENOMEM;

	if (!sc || !payload)
		goto out;
	if ((err = relay_contract(core, c, id, req, sc)) != 0)
		goto out;
	if (!json_is_string(pv)) {
		err = hl_srv_send_error(core, c, id, "bad_request",
					"\"payload\" must be a base64url "
					"string");
		goto out;
	}
	if (rv && !json_is_boolean(rv)) {
		err = hl_srv_send_error(core, c, id, "bad_request",
					"\"replace\" must be true or false");
		goto out;
	}
	err = hl_srv_unb64(json_string_value(pv), json_string_length(pv),
			   payload, HL_SRV_RELAY_MAX, &len);
	if (err) {
		err = hl_srv_send_error(
			core, c, id,
			err == HL_ETOOBIG ? "too_big" : "bad_request",
			err == HL_ETOOBIG ? "a relayed payload is at most "
					    "8192 bytes"
					  : "\"payload\" is not base64url");
		goto out;
	}
	to = memcmp(sc->proposer, c->ident->pk, HL_ID_PK_LEN) == 0
		     ? sc->invitee
		     : sc->proposer;
	hl_call_id_to_text(sc->call_id, cid);
	if (online(hl_srv_map_get(&core->idents, to, HL_ID_PK_LEN))) {
		msg = relay_msg(sc->call_id, c->ident->pk, payload, len);
		if (!msg || (err = push(core, to, msg, &n)) != 0) {
			err = HL_ENOMEM;
			goto out;
		}
	} else {
		memcpy(key, sc->call_id, HL_CALL_ID_LEN);
		memcpy(key + HL_CALL_ID_LEN, to, HL_ID_PK_LEN);
		err = relay_enqueue(core, c, id, key, payload, len,
				    json_is_true(rv));
		if (err)
			goto out;
	}
	hl_srv_logf(core, c, "relay %s: %zu bytes %s", cid, len,
		    n ? "delivered" : "queued");
	o = json_pack("{s:b}", "queued", n == 0);
	err = o ? send_ok(core, c, id, o) : HL_ENOMEM;
out:
	json_decref(msg);
	json_decref(o);
	hl_free(sc);
	hl_free(payload);
	return err > 0 ? 0 : err;
}

static int turn(struct hl_srv_core *core, struct hl_srv_conn *c, int64_t id,
		json_t *req)
{
	struct hl_srv_contract *sc = hl_malloc(sizeof(*sc));
	uint64_t now_s = core->now / US, expiry, ttl;
	char cid[33], user[64], pass[64];
	json_t *o = NULL;
	int err = HL_ENOMEM;

	if (!sc)
		goto out;
	if ((err = relay_contract(core, c, id, req, sc)) != 0)
		goto out;
	if (!core->turn_secret) {
		err = hl_srv_send_error(core, c, id, "unavailable",
					"this server has no TURN relay");
		goto out;
	}
	/* Valid for the rest of the window (an hour past its end), at most
	 * a day: long calls ask again. */
	expiry = HL_MIN(now_s + 86400, sc->not_after + 3600);
	ttl = expiry - now_s;
	hl_call_id_to_text(sc->call_id, cid);
	snprintf(user, sizeof(user), "%llu:%s", (unsigned long long)expiry,
		 cid);
	if ((err = hl_srv_turn_password(core->turn_secret, user, pass,
					sizeof(pass))) != 0)
		goto out;
	o = json_pack("{s:[s], s:s, s:s, s:I}", "uris", core->turn_uri,
		      "username", user, "password", pass, "ttl",
		      (json_int_t)ttl);
	hl_wipe(pass, sizeof(pass));
	hl_srv_logf(core, c, "turn credentials for %s", cid);
	err = o ? send_ok(core, c, id, o) : HL_ENOMEM;
out:
	json_decref(o);
	hl_free(sc);
	return err > 0 ? 0 : err;
}

int hl_srv_request(struct hl_srv_core *core, struct hl_srv_conn *c,
		   const char *type, int64_t id, json_t *req)
{
	if (strcmp(type, "ping") == 0)
		return send_ok(core, c, id, NULL);
	if (strcmp(type, "put_contract") == 0)
		return put_contract(core, c, id, req);
	if (strcmp(type, "answer") == 0)
		return answer(core, c, id, req);
	if (strcmp(type, "list") == 0)
		return list(core, c, id, req);
	if (strcmp(type, "relay") == 0)
		return relay(core, c, id, req);
	if (strcmp(type, "turn") == 0)
		return turn(core, c, id, req);
	return hl_srv_send_error(core, c, id, "bad_request",
				 "unknown request type");
}

int hl_srv_relay_flush(struct hl_srv_core *core, struct hl_srv_conn *c)
{
	struct hl_srv_relay_queue *q, *next;
	int err = 0;

	for (q = core->queue_list; q && !err; q = next) {
		next = q->next;
		if (memcmp(q->key + HL_CALL_ID_LEN, c->ident->pk,
			   HL_ID_PK_LEN) != 0)
			continue;
		while (q->head && !err) {
			struct hl_srv_relay_item *it = q->head;
			json_t *msg = NULL;

			if (it->expires > core->now) {
				msg = relay_msg(q->key, it->from, it->payload,
						it->len);
				err = msg ? hl_srv_send_json(core, c, msg)
					  : HL_ENOMEM;
				json_decref(msg);
				if (err)
					break;
			}
			q->head = it->next;
			if (!q->head)
				q->tail = NULL;
			q->count--;
			core->nqueued--;
			core->queued_bytes -= it->len;
			hl_free(it);
		}
		if (!q->head) {
			hl_srv_logf(core, c, "queued relays delivered");
			queue_free(core, q);
		}
	}
	return err;
}

void hl_srv_relay_expire(struct hl_srv_core *core)
{
	struct hl_srv_relay_queue *q, *next;

	for (q = core->queue_list; q; q = next) {
		next = q->next;
		while (q->head && q->head->expires <= core->now) {
			struct hl_srv_relay_item *it = q->head;

			q->head = it->next;
			if (!q->head)
				q->tail = NULL;
			q->count--;
			core->nqueued--;
			core->queued_bytes -= it->len;
			hl_free(it);
		}
		if (!q->head)
			queue_free(core, q);
	}
}

void hl_srv_relay_free_all(struct hl_srv_core *core)
{
	while (core->queue_list)
		queue_free(core, core->queue_list);
}
