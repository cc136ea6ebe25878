/*
 * dtls_internal.h - DTLS-SRTP as a sans-IO endpoint (src/net/dtls.c).
 *
 * One endpoint per call: a fresh ECDSA P-256 self-signed certificate,
 * DTLS 1.2 (OpenSSL 3, memory BIOs, MTU 1200) with the use_srtp
 * extension (RFC 5764; SRTP_AEAD_AES_128_GCM preferred,
 * SRTP_AES128_CM_SHA1_80 accepted), then libsrtp2 sessions keyed from
 * the exported keying material.  The peer's certificate is accepted only
 * if SHA-256 of its DER equals the fingerprint from the peer's signed
 * SDP (compared in constant time).
 *
 * Datagrams travel through the caller: hl_dtls_input() takes a DTLS
 * record (first byte 20..63, RFC 7983) from the network, and
 * hl_dtls_output() hands out records to send.  Nothing here touches a
 * socket or a clock other than OpenSSL's own DTLS timer.
 */
#ifndef HOTLINE_NET_DTLS_INTERNAL_H
#define HOTLINE_NET_DTLS_INTERNAL_H

#include "hotline/base.h"
#include "hotline/sdp.h"

/* Most bytes protecting adds: the tag (GCM 16, HMAC-SHA1-80 10), plus
 * for RTCP the 4-byte E flag and SRTCP index (RFC 3711 §3.4). */
#define HL_SRTP_OVERHEAD 20

struct hl_dtls;

/* A new endpoint with a fresh certificate; its fingerprint in fp. */
int hl_dtls_new(struct hl_dtls **out, uint8_t fp[HL_DTLS_FP_LEN]) HL_MUST_CHECK;
void hl_dtls_free(struct hl_dtls *d);

/*
 * Start the handshake: client (DTLS "active") or server ("passive"); the
 * peer's certificate must hash to peer_fp.  A client produces its
 * ClientHello at once (see hl_dtls_output).
 */
int hl_dtls_start(struct hl_dtls *d, bool client,
		  const uint8_t peer_fp[HL_DTLS_FP_LEN]) HL_MUST_CHECK;

/*
 * A DTLS datagram from the peer.  Returns 0, or HL_EAUTH when the
 * peer's certificate does not match the fingerprint, HL_ECRYPTO when
 * the handshake failed (hl_dtls_error() has a sentence); after either
 * the endpoint is dead.  Records after the handshake (e.g. a peer's
 * retransmitted Finished, close_notify) are handled too.
 */
int hl_dtls_input(struct hl_dtls *d, const uint8_t *buf,
		  size_t len) HL_MUST_CHECK;
/* The next datagram to send, 0 or HL_EAGAIN. */
int hl_dtls_output(struct hl_dtls *d, uint8_t *buf, size_t cap,
		   size_t *len) HL_MUST_CHECK;
/* Drive retransmissions; call every few tens of ms.  Returns as
 * hl_dtls_input (HL_ETIMEOUT once the handshake gave up). */
int hl_dtls_tick(struct hl_dtls *d) HL_MUST_CHECK;

/* The handshake is done, the fingerprint matched, SRTP is keyed. */
bool hl_dtls_secure(const struct hl_dtls *d);
/* "AEAD_AES_128_GCM" or "AES_CM_128_HMAC_SHA1_80" once secure. */
const char *hl_dtls_profile(const struct hl_dtls *d);
/* Why the endpoint failed, one sentence, or NULL. */
const char *hl_dtls_error(const struct hl_dtls *d);

/*
 * Protect an RTP or RTCP packet (told apart by the payload type byte,
 * RFC 5761) in place: buf holds len bytes and has room for
 * HL_SRTP_OVERHEAD more.  HL_ESTATE before hl_dtls_secure().
 */
int hl_dtls_protect(struct hl_dtls *d, uint8_t *buf, size_t len,
		    size_t *out_len) HL_MUST_CHECK;
/* Verify and decrypt an SRTP or SRTCP packet in place; HL_EAUTH for an
 * unauthentic or replayed one, HL_EPARSE for one too short. */
int hl_dtls_unprotect(struct hl_dtls *d, uint8_t *buf, size_t len,
		      size_t *out_len) HL_MUST_CHECK;

/* RFC 5761 §4: an RTCP packet type (192..223) in the second byte. */
bool hl_rtp_is_rtcp(const uint8_t *buf, size_t len);

/* Replace libsrtp2's AES-128-GCM with one on OpenSSL (srtp_gcm.c), after
 * srtp_init(); false if libsrtp refused it (its own stays in use). */
bool hl_srtp_gcm_install(void);
/* Whether the endpoints' AES-128-GCM SRTP is OpenSSL's (the replacement
 * took); loads the libraries as hl_dtls_new() does. */
bool hl_dtls_gcm_openssl(void);

#endif /* HOTLINE_NET_DTLS_INTERNAL_H */
