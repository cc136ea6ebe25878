/*
 * core_internal.h - the state of the sans-IO server core, shared by
 * core.c (connections, authentication, limits, outputs, timers) and
 * requests.c (the requests of an authenticated client).
 */
#ifndef HOTLINE_SERVER_CORE_INTERNAL_H
#define HOTLINE_SERVER_CORE_INTERNAL_H

#include <jansson.h>

#include "server_internal.h"

/* ---- connections, identities, relay queues --------------------------- */

/* A GCRA rate limiter: rate per second, burst messages at once. */
struct hl_srv_rate {
	uint64_t tat; /* theoretical arrival time, µs */
};

struct hl_srv_ident;

struct hl_srv_conn {
	struct hl_srv_conn *prev, *next;       /* all connections */
	struct hl_srv_conn *id_prev, *id_next; /* of the same identity */
	uint64_t id;
	char addr[HL_SRV_ADDR_MAX];
	bool authed, closing;
	uint8_t nonce[32];
	uint64_t connected_at, last_msg;
	struct hl_srv_rate rate;
	unsigned strikes; /* refusals since the last accepted message */
	struct hl_srv_ident *ident;
};

/* Per identity: its connections and its shared rate limit. */
struct hl_srv_ident {
	struct hl_srv_ident *prev, *next;
	uint8_t pk[HL_ID_PK_LEN];
	char text[HL_ID_TEXT_LEN + 1];
	struct hl_srv_conn *conns;
	unsigned nconns;
	struct hl_srv_rate rate;
};

struct hl_srv_relay_item {
	struct hl_srv_relay_item *next;
	uint64_t expires; /* µs */
	uint8_t from[HL_ID_PK_LEN];
	size_t len;
	uint8_t payload[];
};

/* Relays waiting for one recipient of one call. */
struct hl_srv_relay_queue {
	struct hl_srv_relay_queue *prev, *next;
	uint8_t key[HL_CALL_ID_LEN + HL_ID_PK_LEN]; /* call id || recipient */
	struct hl_srv_relay_item *head, *tail;
	unsigned count;
};

struct hl_srv_core {
	struct hl_server_limits lim;
	uint8_t fp[HL_SRV_FP_LEN];
	char *turn_secret, *turn_uri;
	struct hl_srv_store *store;
	struct hl_rng rng;
	size_t headroom;
	hl_srv_log_fn *log;
	void *log_ctx;

	struct hl_srv_map conns_by_id; /* u64 id -> conn */
	struct hl_srv_map idents;      /* pk -> ident */
	struct hl_srv_map addrs;       /* address -> count (as pointer) */
	struct hl_srv_map queues;      /* call id || pk -> relay queue */
	struct hl_srv_conn *conns;
	struct hl_srv_ident *ident_list;
	struct hl_srv_relay_queue *queue_list;
	unsigned nconns, nauthed, nidents, nqueues, nqueued;
	size_t queued_bytes;

	struct hl_srv_out *out_head, *out_tail;
	uint64_t now; /* of the input being handled */
	uint64_t msgs, refusals, closes;
};

/* Global bounds of the relay queues (beyond relay_queue per call). */
#define HL_SRV_QUEUES_MAX	4096
#define HL_SRV_QUEUED_BYTES_MAX (16u << 20)

/* Log one event line (prefixed with the connection, if any). */
void hl_srv_logf(struct hl_srv_core *core, const struct hl_srv_conn *c,
		 const char *fmt, ...) HL_PRINTF(3, 4);

/* Queue obj (not consumed) as a message to c.  HL_ENOMEM. */
int hl_srv_send_json(struct hl_srv_core *core, struct hl_srv_conn *c,
		     json_t *obj) HL_MUST_CHECK;
/*
 * Queue {"type": "error", "id": id (if >= 0), "code", "message"} to c and
 * log the refusal.  HL_ENOMEM.
 */
int hl_srv_send_error(struct hl_srv_core *core, struct hl_srv_conn *c,
		      int64_t id, const char *code,
		      const char *message) HL_MUST_CHECK;
/* Queue a close of c (after what is queued) and stop reading from it. */
int hl_srv_close_conn(struct hl_srv_core *core, struct hl_srv_conn *c,
		      const char *why) HL_MUST_CHECK;

/* Base64url without padding of len bytes; *out hl_malloc'd. */
int hl_srv_b64(const uint8_t *in, size_t len, char **out) HL_MUST_CHECK;
/* Decode base64url without padding into out (at most cap bytes). */
int hl_srv_unb64(const char *in, size_t in_len, uint8_t *out, size_t cap,
		 size_t *len) HL_MUST_CHECK;

/* Handle one request of an authenticated connection (requests.c). */
int hl_srv_request(struct hl_srv_core *core, struct hl_srv_conn *c,
		   const char *type, int64_t id, json_t *req) HL_MUST_CHECK;
/* Deliver the relays queued for the identity c just authenticated as. */
int hl_srv_relay_flush(struct hl_srv_core *core,
		       struct hl_srv_conn *c) HL_MUST_CHECK;
/* Drop expired relays and empty queues. */
void hl_srv_relay_expire(struct hl_srv_core *core);
void hl_srv_relay_free_all(struct hl_srv_core *core);

#endif /* HOTLINE_SERVER_CORE_INTERNAL_H */
