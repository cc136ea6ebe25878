/*
 * hotline/sdp.h - the media description of a call: SDP offer/answer
 * (RFC 8866, RFC 8829 JSEP conventions) as WebRTC browsers write it.
 *
 * One BUNDLE transport (RFC 9143) with rtcp-mux (RFC 5761), ICE
 * credentials and candidates (RFC 8839), the DTLS fingerprint and setup
 * role (RFC 8122, RFC 5763), and two media sections: audio (Opus 111,
 * RED 63 = 111/111) and video (VP8 96, RTX 97 apt=96, nack, nack pli,
 * goog-remb), with their SSRCs (a=ssrc, a=ssrc-group:FID) and
 * directions.  hotline carries its offer and answer inside the key
 * exchange (they are the AKE's transport parameters), so both are
 * authenticated end to end: the fingerprint the DTLS handshake must show
 * is the one the peer signed.
 *
 * The parser takes untrusted text: bounded, never allocates, HL_EPARSE
 * with a reason for anything it cannot use; it tolerates what browsers
 * add (unknown attributes, more codecs, extmap lines) and ignores it.
 */
#ifndef HOTLINE_SDP_H
#define HOTLINE_SDP_H

#include "hotline/base.h"

#define HL_SDP_MAX	      4096 /* largest SDP we write or read */
#define HL_ICE_UFRAG_MAX      64
#define HL_ICE_PWD_MAX	      128
#define HL_ICE_MAX_CANDIDATES 16
#define HL_ICE_CANDIDATE_MAX  255 /* one a=candidate value */
#define HL_DTLS_FP_LEN	      32  /* SHA-256 */

enum hl_dtls_setup {
	HL_SETUP_ACTPASS = 0, /* offers */
	HL_SETUP_ACTIVE,      /* the DTLS client */
	HL_SETUP_PASSIVE,     /* the DTLS server */
};

/* What each side says about its transport. */
struct hl_transport_params {
	char ufrag[HL_ICE_UFRAG_MAX + 1];
	char pwd[HL_ICE_PWD_MAX + 1];
	uint8_t fingerprint[HL_DTLS_FP_LEN]; /* sha-256 of the certificate */
	enum hl_dtls_setup setup;
	size_t n_candidates;
	/* values of a=candidate lines ("candidate:1 1 udp ..." without the
	 * "a=" prefix) */
	char candidates[HL_ICE_MAX_CANDIDATES][HL_ICE_CANDIDATE_MAX + 1];
};

enum hl_sdp_dir {
	HL_DIR_SENDRECV = 0,
	HL_DIR_SENDONLY,
	HL_DIR_RECVONLY,
	HL_DIR_INACTIVE,
};

struct hl_sdp_media {
	bool present;
	char mid[17];
	enum hl_sdp_dir dir;
	uint32_t ssrc;	   /* 0: none announced */
	uint32_t rtx_ssrc; /* video only */
	bool red;	   /* audio: RED 63 offered/accepted */
};

struct hl_sdp {
	uint64_t session_id;
	char cname[33];
	struct hl_transport_params tp;
	struct hl_sdp_media audio, video;
};

/*
 * Write s as an offer (answer false) or an answer (answer true) into out
 * (NUL-terminated); HL_ETOOBIG if it does not fit.
 */
int hl_sdp_write(const struct hl_sdp *s, bool answer, char *out, size_t cap,
		 size_t *len) HL_MUST_CHECK;
/* Parse; on HL_EPARSE *why (if not NULL) says what was wrong. */
int hl_sdp_parse(const char *text, size_t len, struct hl_sdp *out,
		 const char **why) HL_MUST_CHECK;

/*
 * Check an answer against our offer: same BUNDLE/mids, opposite or
 * compatible directions, codecs we offered, a concrete setup role
 * (active/passive), a fingerprint, ICE credentials.
 */
int hl_sdp_check_answer(const struct hl_sdp *offer, const struct hl_sdp *ans,
			const char **why) HL_MUST_CHECK;

#endif /* HOTLINE_SDP_H */
