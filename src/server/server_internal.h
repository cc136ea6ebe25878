/*
 * server_internal.h - the parts of hotlined, private to src/server.
 *
 * hotlined is three layers:
 *
 *   core.c, requests.c   the sans-IO protocol engine (docs/protocol.md
 *                        §5.5): connections are ids; inputs are
 *                        connected / message / closed / tick, each with
 *                        `now`; outputs are queued sends and closes per
 *                        connection id.  No sockets, no clocks.
 *   store.c              the contract store behind struct hl_srv_store
 *                        (SQLite: WAL, synchronous=FULL).
 *   lws.c, cert.c        the I/O: libwebsockets, TLS, the certificate.
 *   sys.c                the only clock and OS-randomness reads.
 *
 * Time in the core is wall-clock Unix time in microseconds, because
 * contract windows are Unix seconds; rate limiters treat a clock that
 * goes backwards as standing still.
 */
#ifndef HOTLINE_SERVER_INTERNAL_H
#define HOTLINE_SERVER_INTERNAL_H

#include "hotline/contract.h"
#include "hotline/identity.h"
#include "hotline/server.h"

#define HL_SRV_FP_LEN	   32
#define HL_SRV_ADDR_MAX	   64	      /* bytes of a peer address, with NUL */
#define HL_SRV_RELAY_MAX   8192	      /* decoded relay payload (HL_RELAY_MAX) */
#define HL_SRV_LIST_PAGE   32	      /* bundles per list answer */
#define HL_SRV_OUT_MAX	   (1u << 20) /* largest server message */
#define HL_SRV_AHEAD_MAX_S (366u * 24 * 3600) /* furthest not_before */
#define HL_SRV_MAX_ID	   9007199254740991ll /* 2^53 - 1 */
/* Refusals in a row after which a connection is closed as abusive. */
#define HL_SRV_STRIKES_MAX 64

/* ---- a small hash map (SipHash-keyed, chained) ----------------------- */

#define HL_SRV_KEY_MAX 64

struct hl_srv_map_entry {
	struct hl_srv_map_entry *next;
	uint64_t hash;
	size_t klen;
	uint8_t key[HL_SRV_KEY_MAX];
	void *val;
};

struct hl_srv_map {
	struct hl_srv_map_entry **b;
	size_t nb, n;
	uint8_t seed[16];
};

int hl_srv_map_init(struct hl_srv_map *m, const struct hl_rng *rng);
/* Frees the entries, not the values. */
void hl_srv_map_free(struct hl_srv_map *m);
void *hl_srv_map_get(const struct hl_srv_map *m, const void *key, size_t klen);
/* key must not be present; HL_ENOMEM. */
int hl_srv_map_put(struct hl_srv_map *m, const void *key, size_t klen,
		   void *val);
/* The stored value's slot (to update it in place), or NULL. */
void **hl_srv_map_slot(const struct hl_srv_map *m, const void *key,
		       size_t klen);
/* Remove key; returns its value or NULL. */
void *hl_srv_map_del(struct hl_srv_map *m, const void *key, size_t klen);

/* ---- store ----------------------------------------------------------- */

/* One stored contract: the canonical encoding, its signatures, its state. */
struct hl_srv_contract {
	int64_t seq; /* insertion order, the list cursor (set by the store) */
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t proposer[HL_ID_PK_LEN];
	uint8_t invitee[HL_ID_PK_LEN];
	uint64_t not_before, not_after;
	enum hl_contract_state state;
	uint8_t enc[HL_CONTRACT_MAX_LEN];
	size_t enc_len;
	uint8_t proposal[HL_ID_SIG_LEN];
	uint8_t answer[HL_ID_SIG_LEN]; /* acceptance or decline, by state */
};

/* Called for each listed contract; non-zero stops the walk with it. */
typedef int(hl_srv_each_fn)(void *arg, const struct hl_srv_contract *c);

/*
 * The store as the core sees it.  Every write is durable when it returns
 * 0.  Errors: HL_ENOTFOUND, HL_ECONFLICT (as stated), HL_EIO (the
 * database failed), HL_ENOMEM.
 */
struct hl_srv_store_ops {
	/* The contract with this call id, or HL_ENOTFOUND. */
	int (*get)(void *ctx, const uint8_t call_id[HL_CALL_ID_LEN],
		   struct hl_srv_contract *out);
	/* Add a new contract (state proposed); HL_ECONFLICT if the call id
	 * is taken. */
	int (*insert)(void *ctx, const struct hl_srv_contract *c,
		      uint64_t now_s);
	/* Move a proposed contract to state (confirmed or declined) with the
	 * invitee's signature; HL_ECONFLICT if it is no longer proposed. */
	int (*answer)(void *ctx, const uint8_t call_id[HL_CALL_ID_LEN],
		      enum hl_contract_state state,
		      const uint8_t sig[HL_ID_SIG_LEN], uint64_t now_s);
	/* The contracts where pk is a party with seq > after, in seq order,
	 * at most max of them. */
	int (*list)(void *ctx, const uint8_t pk[HL_ID_PK_LEN], int64_t after,
		    unsigned max, hl_srv_each_fn *each, void *arg);
	/* How many contracts pk proposed whose window has not ended. */
	int (*count_open)(void *ctx, const uint8_t pk[HL_ID_PK_LEN],
			  uint64_t now_s, uint64_t *n);
	void (*close)(void *ctx);
};

struct hl_srv_store {
	const struct hl_srv_store_ops *ops;
	void *ctx;
};

/*
 * Open (creating if needed) the SQLite store at path (":memory:" for
 * tests).  *out is hl_malloc'd; release with hl_srv_store_close().  On
 * failure *why (if not NULL) is a static sentence.
 */
int hl_srv_store_open(struct hl_srv_store **out, const char *path,
		      const char **why) HL_MUST_CHECK;
void hl_srv_store_close(struct hl_srv_store *st);

/* ---- core ------------------------------------------------------------ */

enum hl_srv_out_kind {
	HL_SRV_SEND = 1,  /* send data[0..len) as one text message */
	HL_SRV_CLOSE = 2, /* close after the sends queued before it */
};

/*
 * One output of the core.  data points len bytes into buf, after
 * `out_headroom` free bytes (room for a transport header).  The caller
 * of hl_srv_core_pop() owns it and frees it with hl_free().
 */
struct hl_srv_out {
	struct hl_srv_out *next;
	uint64_t conn;
	enum hl_srv_out_kind kind;
	size_t len;
	uint8_t *data;
	uint8_t buf[];
};

typedef void(hl_srv_log_fn)(void *ctx, const char *line);

struct hl_srv_core_config {
	struct hl_server_limits limits;	    /* zero fields: defaults */
	uint8_t fingerprint[HL_SRV_FP_LEN]; /* our certificate's SHA-256 */
	const char *turn_secret;	    /* NULL: no TURN (copied) */
	const char *turn_uri;		    /* copied */
	struct hl_srv_store *store;	    /* not owned; must outlive core */
	struct hl_rng rng;		    /* challenges and hash seeds */
	size_t out_headroom;		    /* bytes before each output */
	hl_srv_log_fn *log;		    /* NULL: silent */
	void *log_ctx;
};

struct hl_srv_stats {
	unsigned conns, authed, idents;
	unsigned relay_queues, relays_queued;
	size_t relay_bytes;
	uint64_t msgs, refusals, closes_by_server;
};

struct hl_srv_core;

/* Fill the zero fields of l with the defaults of server.h. */
void hl_srv_limits_fill(struct hl_server_limits *l);

/* *out hl_malloc'd; free with hl_srv_core_free (which frees the queued
 * outputs too). */
int hl_srv_core_new(struct hl_srv_core **out,
		    const struct hl_srv_core_config *cfg) HL_MUST_CHECK;
void hl_srv_core_free(struct hl_srv_core *core);

/*
 * Inputs.  conn ids are chosen by the caller, unique while connected.
 * Each returns 0, or HL_ENOMEM when the core could not even queue its
 * answer (the caller should then drop that connection), or HL_EINVAL for
 * an unknown id (connected: a duplicate id).  Messages to a connection
 * the core has asked to close are ignored.  addr is the peer address
 * (copied; connections per address are counted by it).
 */
int hl_srv_core_connected(struct hl_srv_core *core, uint64_t conn,
			  const char *addr, uint64_t now) HL_MUST_CHECK;
/* len may exceed limits.max_message (the transport stopped reading at
 * max_message + 1 bytes): answered with too_big and a close. */
int hl_srv_core_message(struct hl_srv_core *core, uint64_t conn,
			const uint8_t *data, size_t len, bool binary,
			uint64_t now) HL_MUST_CHECK;
void hl_srv_core_closed(struct hl_srv_core *core, uint64_t conn);
/* Timeouts (authentication, idle), relay expiry; call about once a
 * second. */
void hl_srv_core_tick(struct hl_srv_core *core, uint64_t now);

/* The oldest queued output, or NULL.  Ownership passes to the caller. */
struct hl_srv_out *hl_srv_core_pop(struct hl_srv_core *core);
void hl_srv_core_stats(const struct hl_srv_core *core, struct hl_srv_stats *st);

/*
 * The TURN REST credential (draft-uberti-behave-turn-rest-00 §2.2, as
 * coturn implements it): username = "EXPIRY:USER", password =
 * base64(HMAC-SHA1(secret, username)) with the standard alphabet and
 * padding.  password must hold 29 bytes.
 */
int hl_srv_turn_password(const char *secret, const char *username,
			 char *password, size_t cap) HL_MUST_CHECK;

/* ---- test hooks --------------------------------------------------- */

/*
 * A test-only malicious server (tests/evil_hotlined.c) sees every message
 * a client sends (on_input) and may rewrite every message the server
 * sends (on_output returns a replacement hl_malloc'd string, or NULL to
 * keep it); hl_server_inject() queues an extra message to a connection.
 * hotlined never sets them.
 */
struct hl_srv_hooks {
	void (*on_input)(void *ctx, uint64_t conn, const uint8_t *data,
			 size_t len);
	char *(*on_output)(void *ctx, uint64_t conn, const uint8_t *data,
			   size_t len);
	void *ctx;
};

void hl_server_set_hooks(const struct hl_srv_hooks *h);
int hl_server_inject(uint64_t conn, const char *text) HL_MUST_CHECK;

/* ---- I/O helpers (sys.c, cert.c) ------------------------------------- */

/* Wall-clock Unix time in microseconds: the `now` of the core. */
uint64_t hl_srv_now_us(void);
/* The OS random generator (libsodium). */
struct hl_rng hl_srv_rng(void);

/*
 * Make sure a certificate and key exist: with cert_file/key_file given,
 * use them; else use (or create on first start) DATA/cert.pem and
 * DATA/key.pem (ECDSA P-256, self-signed, key file 0600).  The paths
 * used go to cert_out/key_out (cap bytes each) and the certificate's
 * SHA-256 (of its DER) to fp.  *why gets a sentence on failure.
 */
int hl_srv_cert_prepare(const char *data_dir, const char *cert_file,
			const char *key_file, char *cert_out, char *key_out,
			size_t cap, uint8_t fp[HL_SRV_FP_LEN],
			const char **why) HL_MUST_CHECK;

#endif /* HOTLINE_SERVER_INTERNAL_H */
