/*
 * core.c - the sans-IO server core: connections, authentication, limits,
 * outputs and timers (docs/protocol.md §5.5).
 *
 * The transport tells the core that a connection opened, that a message
 * arrived, that a connection closed, and that time passed; the core
 * answers by queueing outputs (a message to send on a connection, or a
 * close) that the transport drains with hl_srv_core_pop().  It never
 * touches a socket or a clock, so the tests and the fuzz target drive it
 * directly with any `now` they like.
 *
 * Order of checks for one message: size (too_big, then close), text
 * frame, JSON object with a "type" (and an "id", echoed from here on),
 * the connection's rate (rate_limited), then either the authentication
 * (before it, nothing else is accepted) or, once authenticated, the
 * identity's rate and the request (requests.c).  Every refusal is an error message to that connection
 * alone; sustained abuse (HL_SRV_STRIKES_MAX refusals in a row, an
 * oversized message, anything before authentication) also closes it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core_internal.h"

#define US	     1000000ull
#define AUTH_CONTEXT "hotline server auth v1" /* then a NUL byte */

void hl_srv_limits_fill(struct hl_server_limits *l)
{
	if (!l->max_message)
		l->max_message = 64 * 1024;
	if (!l->conn_msgs_per_s)
		l->conn_msgs_per_s = 20;
	if (!l->id_msgs_per_s)
		l->id_msgs_per_s = 50;
	if (!l->conns_per_addr)
		l->conns_per_addr = 16;
	if (!l->max_conns)
		l->max_conns = 4096;
	if (!l->idle_s)
		l->idle_s = 60;
	if (!l->auth_s)
		l->auth_s = 10;
	if (!l->relay_queue)
		l->relay_queue = 16;
	if (!l->relay_ttl_s)
		l->relay_ttl_s = 120;
	if (!l->window_early_s)
		l->window_early_s = 600;
	if (!l->open_contracts)
		l->open_contracts = 1000;
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/*
 * GCRA (the generic cell rate algorithm): each message costs 1/rate s of
 * credit and at most `burst` messages' worth may be taken ahead.  A
 * refused message takes nothing.
 */
static bool rate_take(struct hl_srv_rate *r, uint64_t now, unsigned rate,
		      unsigned burst)
{
	uint64_t cost = US / rate, tat = HL_MAX(r->tat, now);

	if (tat + cost - now > (uint64_t)burst * cost)
		return false;
	r->tat = tat + cost;
	return true;
}

void hl_srv_logf(struct hl_srv_core *core, const struct hl_srv_conn *c,
		 const char *fmt, ...)
{
	char line[640];
	int n = 0;
	va_list ap;

	if (!core->log)
		return;
	if (c)
		n = snprintf(line, sizeof(line),
			     "conn %llu %s%s%s: ", (unsigned long long)c->id,
			     c->addr, c->ident ? " " : "",
			     c->ident ? c->ident->text : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	core->log(core->log_ctx, line);
}

static struct hl_srv_out *out_new(struct hl_srv_core *core, uint64_t conn,
				  enum hl_srv_out_kind kind, size_t len)
{
	struct hl_srv_out *o;

	if (len > HL_SRV_OUT_MAX)
		return NULL;
	o = hl_malloc(sizeof(*o) + core->headroom + len);
	if (!o)
		return NULL;
	o->next = NULL;
	o->conn = conn;
	o->kind = kind;
	o->len = len;
	o->data = o->buf + core->headroom;
	return o;
}

static void out_push(struct hl_srv_core *core, struct hl_srv_out *o)
{
	if (core->out_tail)
		core->out_tail->next = o;
	else
		core->out_head = o;
	core->out_tail = o;
}

int hl_srv_send_json(struct hl_srv_core *core, struct hl_srv_conn *c,
		     json_t *obj)
{
	size_t len = obj ? json_dumpb(obj, NULL, 0, JSON_COMPACT) : 0;
	struct hl_srv_out *o;

	if (len == 0)
		return HL_ENOMEM; /* jansson fails only for lack of memory */
	o = out_new(core, c->id, HL_SRV_SEND, len);
	if (!o)
		return len > HL_SRV_OUT_MAX ? HL_ETOOBIG : HL_ENOMEM;
	if (json_dumpb(obj, (char *)o->data, len, JSON_COMPACT) != len) {
		hl_free(o);
		return HL_ENOMEM;
	}
	out_push(core, o);
	return 0;
}

int hl_srv_send_error(struct hl_srv_core *core, struct hl_srv_conn *c,
		      int64_t id, const char *code, const char *message)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
			      "message", message);
	int err;

	core->refusals++;
	if (strcmp(code, "bad_request") == 0 ||
	    strcmp(code, "rate_limited") == 0 || strcmp(code, "too_big") == 0)
		c->strikes++;
	hl_srv_logf(core, c, "refused (%s): %s", code, message);
	if (o && id >= 0 && json_object_set_new(o, "id", json_integer(id)))
		err = HL_ENOMEM;
	else
		err = hl_srv_send_json(core, c, o);
	json_decref(o);
	return err;
}

int hl_srv_close_conn(struct hl_srv_core *core, struct hl_srv_conn *c,
		      const char *why)
{
	struct hl_srv_out *o;

	if (c->closing)
		return 0;
	o = out_new(core, c->id, HL_SRV_CLOSE, 0);
	if (!o)
		return HL_ENOMEM; /* still open: the next tick tries again */
	out_push(core, o);
	c->closing = true;
	core->closes++;
	hl_srv_logf(core, c, "closing: %s", why);
	return 0;
}

int hl_srv_b64(const uint8_t *in, size_t len, char **out)
{
	size_t cap = sodium_base64_ENCODED_LEN(
		len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = hl_malloc(cap);

	if (!s)
		return HL_ENOMEM;
	sodium_bin2base64(s, cap, in, len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out = s;
	return 0;
}

int hl_srv_unb64(const char *in, size_t in_len, uint8_t *out, size_t cap,
		 size_t *len)
{
	const char *end = NULL;
	size_t n = 0;

	/* What cannot fit is refused before decoding: cap bytes take
	 * ceil(4 cap / 3) characters without padding. */
	if (in_len > (cap * 4 + 2) / 3)
		return HL_ETOOBIG;
	if (sodium_base642bin(out, cap, in, in_len, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + in_len)
		return HL_EPARSE;
	*len = n;
	return 0;
}

int hl_srv_core_new(struct hl_srv_core **out,
		    const struct hl_srv_core_config *cfg)
{
	struct hl_srv_core *core;
	json_t *uri_ok;
	int err = HL_ENOMEM;

	if (!cfg->store || !cfg->rng.fill ||
	    (cfg->turn_secret && !cfg->turn_uri))
		return HL_EINVAL;
	/* The URI goes into JSON: it must be UTF-8. */
	uri_ok = cfg->turn_uri ? json_string(cfg->turn_uri) : NULL;
	json_decref(uri_ok);
	if (cfg->turn_uri && !uri_ok)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	core = hl_calloc(1, sizeof(*core));
	if (!core)
		return HL_ENOMEM;
	core->lim = cfg->limits;
	hl_srv_limits_fill(&core->lim);
	memcpy(core->fp, cfg->fingerprint, sizeof(core->fp));
	core->store = cfg->store;
	core->rng = cfg->rng;
	core->headroom = cfg->out_headroom;
	core->log = cfg->log;
	core->log_ctx = cfg->log_ctx;
	if (cfg->turn_secret) {
		size_t a = strlen(cfg->turn_secret) + 1;
		size_t b = strlen(cfg->turn_uri) + 1;

		core->turn_secret = hl_malloc(a);
		core->turn_uri = hl_malloc(b);
		if (!core->turn_secret || !core->turn_uri)
			goto out;
		memcpy(core->turn_secret, cfg->turn_secret, a);
		memcpy(core->turn_uri, cfg->turn_uri, b);
	}
	if (hl_srv_map_init(&core->conns_by_id, &core->rng) ||
	    hl_srv_map_init(&core->idents, &core->rng) ||
	    hl_srv_map_init(&core->addrs, &core->rng) ||
	    hl_srv_map_init(&core->queues, &core->rng))
		goto out;
	*out = core;
	core = NULL;
	err = 0;
out:
	hl_srv_core_free(core);
	return err;
}

static void ident_free(struct hl_srv_core *core, struct hl_srv_ident *id)
{
	hl_srv_map_del(&core->idents, id->pk, sizeof(id->pk));
	if (id->prev)
		id->prev->next = id->next;
	else
		core->ident_list = id->next;
	if (id->next)
		id->next->prev = id->prev;
	core->nidents--;
	hl_free(id);
}

/* Forget c (its identity's entry stays until its rate credit is back). */
static void conn_free(struct hl_srv_core *core, struct hl_srv_conn *c)
{
	void **slot = hl_srv_map_slot(&core->addrs, c->addr, strlen(c->addr));

	if (slot) {
		uintptr_t n = (uintptr_t)*slot;

		if (n > 1)
			*slot = (void *)(n - 1);
		else
			hl_srv_map_del(&core->addrs, c->addr, strlen(c->addr));
	}
	hl_srv_map_del(&core->conns_by_id, &c->id, sizeof(c->id));
	if (c->prev)
		c->prev->next = c->next;
	else
		core->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ident) {
		if (c->id_prev)
			c->id_prev->id_next = c->id_next;
		else
			c->ident->conns = c->id_next;
		if (c->id_next)
			c->id_next->id_prev = c->id_prev;
		c->ident->nconns--;
		core->nauthed--;
	}
	core->nconns--;
	hl_free(c);
}

void hl_srv_core_free(struct hl_srv_core *core)
{
	struct hl_srv_out *o, *next;

	if (!core)
		return;
	while (core->conns)
		conn_free(core, core->conns);
	while (core->ident_list)
		ident_free(core, core->ident_list);
	hl_srv_relay_free_all(core);
	for (o = core->out_head; o; o = next) {
		next = o->next;
		hl_free(o);
	}
	hl_srv_map_free(&core->conns_by_id);
	hl_srv_map_free(&core->idents);
	hl_srv_map_free(&core->addrs);
	hl_srv_map_free(&core->queues);
	if (core->turn_secret)
		hl_wipe(core->turn_secret, strlen(core->turn_secret));
	hl_free(core->turn_secret);
	hl_free(core->turn_uri);
	hl_free(core);
}

static int send_challenge(struct hl_srv_core *core, struct hl_srv_conn *c)
{
	char *nonce = NULL, *fp = NULL;
	json_t *o = NULL;
	int err;

	core->rng.fill(core->rng.ctx, c->nonce, sizeof(c->nonce));
	if ((err = hl_srv_b64(c->nonce, sizeof(c->nonce), &nonce)) != 0 ||
	    (err = hl_srv_b64(core->fp, sizeof(core->fp), &fp)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:s}", "type", "challenge", "nonce", nonce,
		      "server", fp);
	err = hl_srv_send_json(core, c, o);
out:
	json_decref(o);
	hl_free(nonce);
	hl_free(fp);
	return err;
}

int hl_srv_core_connected(struct hl_srv_core *core, uint64_t conn,
			  const char *addr, uint64_t now)
{
	struct hl_srv_conn *c;
	size_t alen = strnlen(addr, HL_SRV_ADDR_MAX - 1);
	uintptr_t same_addr;
	void **slot;
	int err;

	if (hl_srv_map_get(&core->conns_by_id, &conn, sizeof(conn)))
		return HL_EINVAL;
	core->now = now;
	c = hl_calloc(1, sizeof(*c));
	if (!c)
		return HL_ENOMEM;
	c->id = conn;
	memcpy(c->addr, addr, alen);
	c->connected_at = now;
	c->last_msg = now;
	slot = hl_srv_map_slot(&core->addrs, c->addr, alen);
	same_addr = slot ? (uintptr_t)*slot : 0;
	if (hl_srv_map_put(&core->conns_by_id, &c->id, sizeof(c->id), c)) {
		hl_free(c);
		return HL_ENOMEM;
	}
	if (slot) {
		*slot = (void *)(same_addr + 1);
	} else if (hl_srv_map_put(&core->addrs, c->addr, alen, (void *)1)) {
		hl_srv_map_del(&core->conns_by_id, &c->id, sizeof(c->id));
		hl_free(c);
		return HL_ENOMEM;
	}
	c->next = core->conns;
	if (core->conns)
		core->conns->prev = c;
	core->conns = c;
	core->nconns++;
	hl_srv_logf(core, c, "connected");

	if (core->nconns > core->lim.max_conns) {
		if ((err = hl_srv_send_error(core, c, -1, "unavailable",
					     "the server is full; try later")))
			return err;
		return hl_srv_close_conn(core, c, "server full");
	}
	if (same_addr >= core->lim.conns_per_addr) {
		if ((err = hl_srv_send_error(
			     core, c, -1, "rate_limited",
			     "too many connections from this address")))
			return err;
		return hl_srv_close_conn(core, c, "connections per address");
	}
	return send_challenge(core, c);
}

void hl_srv_core_closed(struct hl_srv_core *core, uint64_t conn)
{
	struct hl_srv_conn *c =
		hl_srv_map_get(&core->conns_by_id, &conn, sizeof(conn));

	if (!c)
		return;
	hl_srv_logf(core, c, "closed");
	conn_free(core, c);
}

/* Attach c to the identity pk (creating its entry). */
static int ident_attach(struct hl_srv_core *core, struct hl_srv_conn *c,
			const uint8_t pk[HL_ID_PK_LEN])
{
	struct hl_srv_ident *id = hl_srv_map_get(&core->idents, pk, 32);

	if (!id) {
		id = hl_calloc(1, sizeof(*id));
		if (!id)
			return HL_ENOMEM;
		memcpy(id->pk, pk, sizeof(id->pk));
		hl_pubkey_to_text(pk, id->text);
		if (hl_srv_map_put(&core->idents, id->pk, sizeof(id->pk), id)) {
			hl_free(id);
			return HL_ENOMEM;
		}
		id->next = core->ident_list;
		if (core->ident_list)
			core->ident_list->prev = id;
		core->ident_list = id;
		core->nidents++;
	}
	c->ident = id;
	c->id_next = id->conns;
	if (id->conns)
		id->conns->id_prev = c;
	id->conns = c;
	id->nconns++;
	c->authed = true;
	core->nauthed++;
	return 0;
}

/* The refusal of an authentication: an error, then a close. */
static int auth_refuse(struct hl_srv_core *core, struct hl_srv_conn *c,
		       int64_t id, const char *code, const char *message)
{
	int err = hl_srv_send_error(core, c, id, code, message);

	if (err)
		return err;
	return hl_srv_close_conn(core, c, "authentication failed");
}

/*
 * {"type": "auth", "public_key": TEXT, "signature": b64} where the
 * signature is Sign(id, "hotline server auth v1\0" || nonce ||
 * fingerprint) over this connection's challenge (§5.5).
 */
static int handle_auth(struct hl_srv_core *core, struct hl_srv_conn *c,
		       int64_t id, json_t *req)
{
	json_t *pkv = json_object_get(req, "public_key");
	json_t *sigv = json_object_get(req, "signature");
	uint8_t msg[sizeof(AUTH_CONTEXT) + 32 + HL_SRV_FP_LEN];
	uint8_t pk[HL_ID_PK_LEN], sig[HL_ID_SIG_LEN];
	size_t sig_len = 0;
	json_t *o;
	int err;

	if (!json_is_string(pkv) || !json_is_string(sigv))
		return auth_refuse(core, c, id, "bad_request",
				   "auth needs \"public_key\" and "
				   "\"signature\" strings");
	if (json_string_length(pkv) > 4 * HL_ID_TEXT_LEN ||
	    hl_pubkey_from_text(json_string_value(pkv), pk) != 0)
		return auth_refuse(core, c, id, "bad_request",
				   "\"public_key\" is not a hotline key");
	if (hl_srv_unb64(json_string_value(sigv), json_string_length(sigv), sig,
			 sizeof(sig), &sig_len) != 0 ||
	    sig_len != sizeof(sig))
		return auth_refuse(core, c, id, "bad_request",
				   "\"signature\" is not 64 bytes of "
				   "base64url");
	memcpy(msg, AUTH_CONTEXT, sizeof(AUTH_CONTEXT)); /* with its NUL */
	memcpy(msg + sizeof(AUTH_CONTEXT), c->nonce, 32);
	memcpy(msg + sizeof(AUTH_CONTEXT) + 32, core->fp, HL_SRV_FP_LEN);
	if (hl_identity_verify(pk, msg, sizeof(msg), sig) != 0)
		return auth_refuse(core, c, id, "bad_signature",
				   "the signature does not match this "
				   "challenge and this server's certificate");
	if ((err = ident_attach(core, c, pk)) != 0)
		return err;
	hl_srv_logf(core, c, "auth ok");
	o = json_pack("{s:s}", "type", "welcome");
	if (o && id >= 0 && json_object_set_new(o, "id", json_integer(id)))
		err = HL_ENOMEM;
	else
		err = hl_srv_send_json(core, c, o);
	json_decref(o);
	if (!err)
		err = hl_srv_relay_flush(core, c);
	return err;
}

/* The request's "id": -1 if absent, -2 if present but not valid. */
static int64_t request_id(json_t *req)
{
	json_t *v = json_object_get(req, "id");
	json_int_t n;

	if (!v)
		return -1;
	if (!json_is_integer(v))
		return -2;
	n = json_integer_value(v);
	return n >= 0 && n <= HL_SRV_MAX_ID ? (int64_t)n : -2;
}

static int handle_json(struct hl_srv_core *core, struct hl_srv_conn *c,
		       json_t *req)
{
	json_t *tv = json_object_get(req, "type");
	const char *type = json_string_value(tv);
	int64_t id = request_id(req);

	if (id == -2)
		return hl_srv_send_error(core, c, -1, "bad_request",
					 "\"id\" must be an integer from 0 "
					 "to 2^53-1");
	if (!type)
		return hl_srv_send_error(core, c, id, "bad_request",
					 "a message needs a \"type\" string");
	if (!rate_take(&c->rate, core->now, core->lim.conn_msgs_per_s,
		       2 * core->lim.conn_msgs_per_s))
		return hl_srv_send_error(core, c, id, "rate_limited",
					 "too many messages on this "
					 "connection; slow down");
	if (!c->authed) {
		if (strcmp(type, "auth") == 0)
			return handle_auth(core, c, id, req);
		return auth_refuse(core, c, id, "unauthenticated",
				   "authenticate first");
	}
	if (!rate_take(&c->ident->rate, core->now, core->lim.id_msgs_per_s,
		       2 * core->lim.id_msgs_per_s))
		return hl_srv_send_error(core, c, id, "rate_limited",
					 "too many messages from this "
					 "identity; slow down");
	if (strcmp(type, "auth") == 0)
		return hl_srv_send_error(core, c, id, "bad_request",
					 "already authenticated");
	if (id < 0)
		return hl_srv_send_error(core, c, -1, "bad_request",
					 "a request needs an integer \"id\"");
	return hl_srv_request(core, c, type, id, req);
}

int hl_srv_core_message(struct hl_srv_core *core, uint64_t conn,
			const uint8_t *data, size_t len, bool binary,
			uint64_t now)
{
	struct hl_srv_conn *c =
		hl_srv_map_get(&core->conns_by_id, &conn, sizeof(conn));
	unsigned strikes;
	json_error_t jerr;
	json_t *req;
	int err;

	if (!c)
		return HL_EINVAL;
	if (c->closing)
		return 0;
	core->now = now;
	core->msgs++;
	c->last_msg = now;
	strikes = c->strikes;
	if (len > core->lim.max_message) {
		char m[96];

		snprintf(m, sizeof(m), "a message is at most %zu bytes",
			 core->lim.max_message);
		if ((err = hl_srv_send_error(core, c, -1, "too_big", m)))
			return err;
		return hl_srv_close_conn(core, c, "message too big");
	}
	if (binary) {
		err = hl_srv_send_error(core, c, -1, "bad_request",
					"messages are JSON text, not binary");
	} else if (!(req = json_loadb((const char *)data, len,
				      JSON_REJECT_DUPLICATES, &jerr))) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return HL_ENOMEM;
		char m[80];

		snprintf(m, sizeof(m),
			 "the message is not valid JSON (at byte %d)",
			 jerr.position);
		err = hl_srv_send_error(core, c, -1, "bad_request", m);
	} else {
		if (json_is_object(req))
			err = handle_json(core, c, req);
		else
			err = hl_srv_send_error(core, c, -1, "bad_request",
						"a message is a JSON object");
		json_decref(req);
	}
	if (err)
		return err;
	if (c->strikes == strikes)
		c->strikes = 0; /* accepted: the count starts again */
	else if (c->strikes >= HL_SRV_STRIKES_MAX)
		return hl_srv_close_conn(core, c, "too many refused messages");
	return 0;
}

void hl_srv_core_tick(struct hl_srv_core *core, uint64_t now)
{
	struct hl_srv_conn *c;
	struct hl_srv_ident *id, *next;

	core->now = now;
	for (c = core->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (!c->authed &&
		    since(now, c->connected_at) >= core->lim.auth_s * US) {
			(void)!hl_srv_send_error(core, c, -1, "unauthenticated",
						 "authentication timed out");
			(void)!hl_srv_close_conn(core, c, "no authentication");
		} else if (c->authed &&
			   since(now, c->last_msg) >= core->lim.idle_s * US) {
			(void)!hl_srv_close_conn(core, c, "idle");
		}
	}
	hl_srv_relay_expire(core);
	for (id = core->ident_list; id; id = next) {
		next = id->next;
		if (id->nconns == 0 && id->rate.tat <= now)
			ident_free(core, id);
	}
}

struct hl_srv_out *hl_srv_core_pop(struct hl_srv_core *core)
{
	struct hl_srv_out *o = core->out_head;

	if (!o)
		return NULL;
	core->out_head = o->next;
	if (!core->out_head)
		core->out_tail = NULL;
	o->next = NULL;
	return o;
}

void hl_srv_core_stats(const struct hl_srv_core *core, struct hl_srv_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->conns = core->nconns;
	st->authed = core->nauthed;
	st->idents = core->nidents;
	st->relay_queues = core->nqueues;
	st->relays_queued = core->nqueued;
	st->relay_bytes = core->queued_bytes;
	st->msgs = core->msgs;
	st->refusals = core->refusals;
	st->closes_by_server = core->closes;
}
