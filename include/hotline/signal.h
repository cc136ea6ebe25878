/*
 * hotline/signal.h - the client side of the hotlined protocol.
 *
 * One struct hl_signal is an authenticated connection to a hotlined
 * server: WebSocket over TLS (libwebsockets), the server's certificate
 * pinned by its SHA-256 fingerprint (trust on first use: the caller stores
 * the fingerprint and passes it next time; a change is refused), then a
 * challenge signed with the identity key (docs/protocol.md §5.5).
 *
 * Calls block (running the connection's event loop) until their answer
 * arrives or their timeout passes.  When the connection drops, the client
 * reconnects on its own (backoff 0.25 s doubling to 4 s), authenticates
 * again and resends the request in flight; pushes that arrive meanwhile
 * are queued.  Every failure leaves one sentence in hl_signal_error().
 *
 * This is I/O (src/net): it reads clocks and the OS RNG.
 */
#ifndef HOTLINE_SIGNAL_H
#define HOTLINE_SIGNAL_H

#include "hotline/base.h"
#include "hotline/contract.h"
#include "hotline/identity.h"

#define HL_SIGNAL_FP_LEN 32
#define HL_RELAY_MAX	 8192 /* largest relayed payload */

struct hl_signal_config {
	const char *url;	      /* wss://HOST:PORT */
	const struct hl_identity *id; /* must outlive the connection */
	bool have_pin;
	uint8_t pin[HL_SIGNAL_FP_LEN]; /* expected certificate fingerprint */
	unsigned connect_timeout_ms;   /* 0: 10 s */
	unsigned request_timeout_ms;   /* 0: 15 s, reconnections included */
};

struct hl_signal;

/*
 * Connect and authenticate.  *fp receives the server's certificate
 * fingerprint (so the caller can pin it on first use).  Errors: HL_EIO
 * (unreachable, TLS failure), HL_ECONFLICT (the certificate differs from
 * the pin: a different server or an attack), HL_EAUTH (the server refused
 * our signature), HL_ETIMEOUT.  On error *out is NULL and *err_msg (if not
 * NULL) points to a static or thread-local sentence.
 */
int hl_signal_connect(struct hl_signal **out,
		      const struct hl_signal_config *cfg,
		      uint8_t fp[HL_SIGNAL_FP_LEN],
		      const char **err_msg) HL_MUST_CHECK;
void hl_signal_close(struct hl_signal *s);
/* The last failure, one sentence (never NULL). */
const char *hl_signal_error(const struct hl_signal *s);

/* ---- contracts ------------------------------------------------------ */

/* Store and forward a proposal (b signed by us as proposer). */
int hl_signal_put_contract(struct hl_signal *s,
			   const struct hl_contract_bundle *b) HL_MUST_CHECK;
/* Send our acceptance or decline (already in b). */
int hl_signal_answer(struct hl_signal *s,
		     const struct hl_contract_bundle *b) HL_MUST_CHECK;
/*
 * Every contract the server holds where we are a party, verified (bundles
 * that fail hl_contract_verify are skipped and counted in *bad).  *list is
 * hl_malloc'd.
 */
int hl_signal_list(struct hl_signal *s, struct hl_contract_bundle **list,
		   size_t *n, size_t *bad) HL_MUST_CHECK;

/* ---- relaying (key exchange, later SDP) ----------------------------- */

/* Send payload to the other party of call_id (confirmed, in its window). */
int hl_signal_relay_send(struct hl_signal *s,
			 const uint8_t call_id[HL_CALL_ID_LEN],
			 const uint8_t *payload, size_t len) HL_MUST_CHECK;
/*
 * The same, but when the other party is offline what we queued for them
 * on this call before is dropped first: a message that supersedes the
 * earlier ones (each key-exchange message does) never piles up behind
 * them, nor reaches them after a restart.
 */
int hl_signal_relay_replace(struct hl_signal *s,
			    const uint8_t call_id[HL_CALL_ID_LEN],
			    const uint8_t *payload, size_t len) HL_MUST_CHECK;
/* Drop every payload already received for call_id and not yet taken (a
 * restarted exchange: those answer messages of an earlier run).
 * Returns how many. */
size_t hl_signal_relay_discard(struct hl_signal *s,
			       const uint8_t call_id[HL_CALL_ID_LEN]);
/*
 * Wait up to timeout_ms for a payload relayed to us for call_id (payloads
 * for other calls stay queued).  *from is the sender's key as the server
 * saw it.  HL_ETIMEOUT when none came.
 */
int hl_signal_relay_recv(struct hl_signal *s,
			 const uint8_t call_id[HL_CALL_ID_LEN], uint8_t *buf,
			 size_t cap, size_t *len, uint8_t from[HL_ID_PK_LEN],
			 unsigned timeout_ms) HL_MUST_CHECK;

/* ---- TURN ----------------------------------------------------------- */

struct hl_turn_creds {
	char uri[256];
	char username[128];
	char password[128];
	uint32_t ttl_s;
};

/* Credentials for call_id's relay (HL_ENOTFOUND: the server has none). */
int hl_signal_turn(struct hl_signal *s, const uint8_t call_id[HL_CALL_ID_LEN],
		   struct hl_turn_creds *out) HL_MUST_CHECK;

#endif /* HOTLINE_SIGNAL_H */
