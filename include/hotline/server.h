/*
 * hotline/server.h - hotlined, the rendezvous and signalling server.
 *
 * It stores and forwards signed call contracts, relays call-setup
 * messages between the two parties of a confirmed contract within its
 * window, and mints TURN credentials; it can read nothing it must not
 * (contracts are public to their parties anyway; the key exchange is end
 * to end).  WebSocket over TLS (libwebsockets), SQLite store (WAL,
 * synchronous=FULL).  Protocol: docs/protocol.md §5.5.
 */
#ifndef HOTLINE_SERVER_H
#define HOTLINE_SERVER_H

#include <signal.h>

#include "hotline/base.h"

struct hl_server_limits {
	size_t max_message;	  /* bytes (default 64 KiB) */
	unsigned conn_msgs_per_s; /* per connection (default 20, burst 2x) */
	unsigned id_msgs_per_s;	  /* per identity, all connections (50) */
	unsigned conns_per_addr;  /* (default 16) */
	unsigned max_conns;	  /* overall (default 4096) */
	unsigned idle_s;	  /* no message for this long: closed (60) */
	unsigned auth_s;	  /* must authenticate within (10) */
	unsigned relay_queue;	  /* queued relays per call (16) */
	unsigned relay_ttl_s;	  /* how long they wait (120) */
	unsigned window_early_s;  /* relay opens before not_before (600) */
	unsigned open_contracts;  /* per proposer, window not ended (1000) */
};

struct hl_server_config {
	const char *listen; /* "ADDR:PORT" */
	const char *data_dir;
	const char *cert_file, *key_file; /* NULL: generated in data_dir */
	const char *turn_secret;	  /* NULL: no TURN */
	const char *turn_uri;
	struct hl_server_limits limits; /* zero fields: defaults */
};

/*
 * Run until *stop becomes non-zero (a signal handler sets it).  Prints the
 * certificate fingerprint on start and one line per event on stderr.
 * Returns 0 on a clean stop, else an error (one sentence logged).
 */
int hl_server_run(const struct hl_server_config *cfg,
		  volatile sig_atomic_t *stop) HL_MUST_CHECK;

#endif /* HOTLINE_SERVER_H */
