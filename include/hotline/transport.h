/*
 * hotline/transport.h - the network path of a real call (src/net).
 *
 * ICE with libnice (host, server-reflexive and relay candidates; TURN
 * through coturn with hotlined's REST credentials; consent freshness,
 * RFC 7675), then DTLS 1.2 (OpenSSL 3) with a fresh ECDSA P-256
 * certificate per call whose SHA-256 fingerprint the caller puts in its
 * SDP (and so in the key exchange), then SRTP (libsrtp2, RFC 5764
 * DTLS-SRTP; AEAD_AES_128_GCM preferred, AES_CM_128_HMAC_SHA1_80
 * accepted) on one BUNDLE/rtcp-mux 5-tuple, demultiplexed by the first
 * byte (RFC 7983).  The peer's DTLS certificate must match the
 * fingerprint of its (authenticated) SDP, else the transport fails.
 *
 * libnice gathers in a private thread; once hl_transport_start() has
 * started the checks it runs in the caller's thread, inside
 * hl_transport_wait(), and the caller's thread (the one that called
 * hl_transport_start) must make every later call.  hl_transport_next()
 * hands out the received datagrams and runs DTLS and SRTP.  Call
 * hl_transport_wait() and hl_transport_next() at least every 50 ms
 * (libnice's timers, DTLS retransmission, consent).
 */
#ifndef HOTLINE_TRANSPORT_H
#define HOTLINE_TRANSPORT_H

#include "hotline/base.h"
#include "hotline/sdp.h"
#include "hotline/signal.h"

struct hl_transport_config {
	bool controlling;      /* the offerer (the contract's proposer) */
	bool relay_only;       /* only TURN relay candidates: the peer never
				  learns our address */
	bool loopback;	       /* also offer 127.0.0.1 (libnice leaves out
				  loopback interfaces) */
	const char *stun_host; /* NULL: no server-reflexive candidates */
	uint16_t stun_port;
	const struct hl_turn_creds *turn; /* NULL: no relay */
	unsigned consent_timeout_ms;	  /* 0: 5000 */
	unsigned connect_timeout_ms;	  /* ICE + DTLS, 0: 15000 */
};

enum hl_tp_event_kind {
	HL_TP_CONNECTED = 1, /* ICE selected a pair */
	HL_TP_SECURE,	     /* DTLS done, SRTP keyed: media may flow */
	HL_TP_PACKET,	     /* a decrypted RTP or RTCP packet */
	HL_TP_FAILED,	     /* ICE failed, DTLS failed, fingerprint
				mismatch, consent lost: reason says which */
};

#define HL_TP_PACKET_MAX 1500

struct hl_tp_event {
	enum hl_tp_event_kind kind;
	size_t len;
	uint8_t data[HL_TP_PACKET_MAX];
	char reason[160];
};

struct hl_tp_stats {
	bool connected, secure;
	bool relayed;		    /* the selected pair uses a TURN relay */
	char local[64], remote[64]; /* selected addresses "ip:port" */
	char srtp_profile[40];
	uint64_t packets_sent, packets_received, bytes_sent, bytes_received;
	uint64_t srtp_failures; /* unauthentic SRTP/SRTCP dropped */
	uint64_t dropped;	/* datagrams of no known kind dropped */
	uint64_t read_direct;	/* datagrams read without libnice (ice.c) */
	uint64_t ice_rounds;	/* rounds of libnice's context (ice.c) */
};

struct hl_transport;

/* Create the agent, the certificate, start gathering. */
int hl_transport_new(struct hl_transport **out,
		     const struct hl_transport_config *cfg,
		     const char **err_msg) HL_MUST_CHECK;
void hl_transport_free(struct hl_transport *t);

/* Our parameters once gathering is done (waits up to timeout_ms). */
int hl_transport_local(struct hl_transport *t, struct hl_transport_params *p,
		       unsigned timeout_ms) HL_MUST_CHECK;
/* The peer's parameters (from its authenticated SDP): start checks and,
 * once connected, DTLS (role from the setup attributes). */
int hl_transport_start(struct hl_transport *t,
		       const struct hl_transport_params *remote) HL_MUST_CHECK;

/* Wait up to timeout_ms (-1: no limit) for the network: runs libnice's
 * sockets and timers once; then call hl_transport_next() until
 * HL_EAGAIN.  0, or HL_EIO if poll() failed. */
int hl_transport_wait(struct hl_transport *t, int timeout_ms) HL_MUST_CHECK;
/* The next event: 0, or HL_EAGAIN when none is pending. */
int hl_transport_next(struct hl_transport *t,
		      struct hl_tp_event *ev) HL_MUST_CHECK;
/* Protect and send one RTP or RTCP packet; HL_ESTATE before SECURE. */
int hl_transport_send(struct hl_transport *t, const uint8_t *pkt,
		      size_t len) HL_MUST_CHECK;
/* The two halves of hl_transport_send, for an emulated network in
 * between (`join --impair`): protect into out (cap >= len +
 * HL_TP_OVERHEAD), then send a protected datagram as it is. */
#define HL_TP_OVERHEAD 20
int hl_transport_protect(struct hl_transport *t, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t cap,
			 size_t *out_len) HL_MUST_CHECK;
int hl_transport_send_datagram(struct hl_transport *t, const uint8_t *d,
			       size_t len) HL_MUST_CHECK;
void hl_transport_stats(const struct hl_transport *t, struct hl_tp_stats *st);

#endif /* HOTLINE_TRANSPORT_H */
