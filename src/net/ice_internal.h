/*
 * ice_internal.h - ICE with libnice behind a queue (src/net/ice.c).
 *
 * One NiceAgent (RFC 5245 compatibility, full gathering, consent
 * freshness RFC 7675, UDP only) with one stream of one component
 * (BUNDLE + rtcp-mux) in a private GMainContext.  A private thread runs
 * that context until hl_ice_start(); from then on the caller's thread
 * runs it inside hl_ice_wait().  Datagrams the agent receives are copied
 * into a bounded queue (HL_ICE_QUEUE entries; more are dropped and
 * counted).  All functions are called from one caller thread
 * (transport.c), the one that called hl_ice_start() from then on.
 */
#ifndef HOTLINE_NET_ICE_INTERNAL_H
#define HOTLINE_NET_ICE_INTERNAL_H

#include "hotline/base.h"
#include "hotline/sdp.h"
#include "hotline/signal.h"

#define HL_ICE_QUEUE	 4096 /* datagrams waiting for the caller */
#define HL_ICE_DGRAM_MAX 2048 /* larger datagrams are dropped */
#define HL_ICE_ADDR_MAX	 64   /* "ip:port" or "[ip6]:port" */

struct hl_ice_config {
	bool controlling;
	bool relay_only; /* force-relay; only relay candidates offered */
	bool loopback;	 /* 127.0.0.1 is our only local address */
	const char *stun_host;
	uint16_t stun_port;
	const struct hl_turn_creds *turn;
};

enum hl_ice_state {
	HL_ICE_NEW = 0,	  /* gathering, or checks not started */
	HL_ICE_CHECKING,  /* remote candidates set, checks running */
	HL_ICE_CONNECTED, /* a pair works (libnice CONNECTED or READY) */
	HL_ICE_FAILED,	  /* no pair works, or consent was lost */
};

struct hl_ice;

/* Create the agent and its thread, start gathering.  On error *err_msg
 * (if not NULL) gets a static sentence. */
int hl_ice_new(struct hl_ice **out, const struct hl_ice_config *cfg,
	       const char **err_msg) HL_MUST_CHECK;
/* Close the agent (TURN allocations are released, up to 1 s), stop and
 * join the thread, free everything.  NULL is a no-op. */
void hl_ice_free(struct hl_ice *ice);

/*
 * Wait up to timeout_ms (-1: no limit) for something to happen: before
 * hl_ice_start() for the private thread to queue a datagram or change
 * the state; after it, run libnice's sources (sockets, timers) in this
 * thread for one round, which may queue datagrams and change the state.
 * Returns at once if datagrams are queued.  0, or HL_EIO if poll failed.
 */
int hl_ice_wait(struct hl_ice *ice, int timeout_ms) HL_MUST_CHECK;

/*
 * Wait up to timeout_ms for gathering to finish, then fill p's ufrag,
 * pwd and candidates (relay candidates first; only them when
 * relay_only).  If gathering did not finish in time, the candidates
 * found so far are used.  HL_ETIMEOUT: no candidate at all;
 * HL_ENOTFOUND: relay_only and the TURN server gave no relay address.
 */
int hl_ice_local(struct hl_ice *ice, struct hl_transport_params *p,
		 unsigned timeout_ms) HL_MUST_CHECK;

/*
 * The peer's ICE credentials and candidates: start the checks.
 * Candidates libnice cannot parse, not for component 1 or not UDP are
 * skipped and counted in *skipped; HL_EPARSE when none is usable or the
 * credentials are malformed; HL_ESTATE if called twice.
 */
int hl_ice_start(struct hl_ice *ice, const struct hl_transport_params *remote,
		 size_t *skipped) HL_MUST_CHECK;

/* The next queued datagram: 0, or HL_EAGAIN when the queue is empty (the
 * eventfd is then drained). */
int hl_ice_recv(struct hl_ice *ice, uint8_t *buf, size_t cap,
		size_t *len) HL_MUST_CHECK;

enum hl_ice_state hl_ice_state(struct hl_ice *ice);

/* Send one datagram on the selected pair: 0, HL_ESTATE before a pair
 * works, HL_EIO if libnice could not send it. */
int hl_ice_send(struct hl_ice *ice, const uint8_t *buf,
		size_t len) HL_MUST_CHECK;

/* The selected pair ("" before there is one) and whether either end is a
 * TURN relay. */
void hl_ice_pair(struct hl_ice *ice, char local[HL_ICE_ADDR_MAX],
		 char remote[HL_ICE_ADDR_MAX], bool *relayed);

/* Datagrams dropped because the queue was full or they were too big, and
 * datagrams read directly from the selected pair's socket (see ice.c),
 * not through libnice. */
void hl_ice_counts(struct hl_ice *ice, uint64_t *overflows, uint64_t *direct);
/* Rounds of the GMainContext run by hl_ice_wait() in the caller's
 * thread. */
uint64_t hl_ice_rounds(struct hl_ice *ice);

#endif /* HOTLINE_NET_ICE_INTERNAL_H */
