/*
 * ake_internal.h - private to src/ake, its tests and its fuzz targets:
 * the wire codec of the four key-exchange messages (docs/protocol.md
 * §5.4) and one test-only hook.
 *
 * The codec only checks form (lengths, counts, order); every decision
 * about meaning (which suite, whose key, which call) is taken in ake.c.
 * Decoded messages point into the input buffer, which must outlive them.
 * Every decode failure writes one sentence into why (at most why_cap
 * bytes, NUL-terminated) and returns HL_EPARSE.
 */
#ifndef HOTLINE_SRC_AKE_INTERNAL_H
#define HOTLINE_SRC_AKE_INTERNAL_H

#include "hotline/ake.h"

#define HL_AKE_VERSION	  1
#define HL_AKE_HDR_LEN	  5 /* "HLK" version type */
#define HL_AKE_PUB_LEN	  32
#define HL_AKE_NONCE_LEN  32
#define HL_AKE_MAC_LEN	  32
#define HL_AKE_SUITES_MAX HL_CONTRACT_MAX_SUITES

enum hl_ake_msg_type {
	HL_AKE_M1 = 1,
	HL_AKE_M2 = 2,
	HL_AKE_M3 = 3,
	HL_AKE_M4 = 4,
};

/* Largest possible M1 and M2, and the only lengths of M3 and M4. */
#define HL_AKE_M1_MAX                                                    \
	(HL_AKE_HDR_LEN + HL_CALL_ID_LEN + HL_CONTRACT_HASH_LEN + 1 +    \
	 2 * HL_AKE_SUITES_MAX + HL_AKE_PUB_LEN + HL_AKE_NONCE_LEN + 2 + \
	 HL_AKE_TRANSPORT_MAX)
#define HL_AKE_M2_MAX                                                   \
	(HL_AKE_HDR_LEN + 2 + 2 * (1 + 2 * HL_AKE_SUITES_MAX) +         \
	 HL_AKE_PUB_LEN + HL_AKE_NONCE_LEN + 2 + HL_AKE_TRANSPORT_MAX + \
	 HL_ID_SIG_LEN + HL_AKE_MAC_LEN)
#define HL_AKE_M3_LEN (HL_AKE_HDR_LEN + HL_ID_SIG_LEN + HL_AKE_MAC_LEN)
#define HL_AKE_M4_LEN (HL_AKE_HDR_LEN + HL_AKE_MAC_LEN)

/* A suite list on the wire: n u8 (1..8), then n u16, strictly ascending. */
struct hl_ake_suites {
	size_t n;
	uint16_t s[HL_AKE_SUITES_MAX];
};

struct hl_ake_m1 {
	const uint8_t *call_id;	      /* HL_CALL_ID_LEN */
	const uint8_t *contract_hash; /* HL_CONTRACT_HASH_LEN */
	struct hl_ake_suites offer;
	const uint8_t *e;     /* HL_AKE_PUB_LEN: X25519 public key */
	const uint8_t *nonce; /* HL_AKE_NONCE_LEN */
	const uint8_t *transport;
	size_t transport_len; /* <= HL_AKE_TRANSPORT_MAX */
};

struct hl_ake_m2 {
	uint16_t suite;			/* the responder's choice */
	struct hl_ake_suites offered;	/* M1's list as the responder got it */
	struct hl_ake_suites supported; /* what the responder would accept */
	const uint8_t *e;
	const uint8_t *nonce;
	const uint8_t *transport;
	size_t transport_len;
	const uint8_t *sig; /* HL_ID_SIG_LEN */
	const uint8_t *mac; /* HL_AKE_MAC_LEN */
	size_t signed_len;  /* bytes before sig: the part hashed into TH2 */
};

struct hl_ake_m3 {
	const uint8_t *sig;
	const uint8_t *mac;
};

/* The responder's key confirmation. */
struct hl_ake_m4 {
	const uint8_t *mac; /* HL_AKE_MAC_LEN: mac_F */
};

/*
 * The 5-byte header of any message: magic "HLK", version 1, a type 1..4,
 * and the total length within 1..HL_AKE_MSG_MAX.  *type is set on success.
 * The exact length of each type is the decoder's to check.
 */
int hl_ake_msg_header(const uint8_t *in, size_t len, uint8_t *type, char *why,
		      size_t why_cap) HL_MUST_CHECK;

/*
 * Whole-message decoders (header included): every field present, counts
 * and lengths within their limits, suite lists strictly ascending, and
 * no byte after the last field.
 */
int hl_ake_m1_decode(const uint8_t *in, size_t len, struct hl_ake_m1 *m,
		     char *why, size_t why_cap) HL_MUST_CHECK;
int hl_ake_m2_decode(const uint8_t *in, size_t len, struct hl_ake_m2 *m,
		     char *why, size_t why_cap) HL_MUST_CHECK;
int hl_ake_m3_decode(const uint8_t *in, size_t len, struct hl_ake_m3 *m,
		     char *why, size_t why_cap) HL_MUST_CHECK;
int hl_ake_m4_decode(const uint8_t *in, size_t len, struct hl_ake_m4 *m,
		     char *why, size_t why_cap) HL_MUST_CHECK;

/*
 * Encoders: HL_ETOOBIG if cap is short, HL_EINVAL for a field out of
 * range.  m2_encode writes everything up to sig (the signed part) when
 * m->sig is NULL, so that the caller can hash it before signing; *len is
 * then m->signed_len.
 */
int hl_ake_m1_encode(const struct hl_ake_m1 *m, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;
int hl_ake_m2_encode(const struct hl_ake_m2 *m, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;
int hl_ake_m3_encode(const struct hl_ake_m3 *m, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;
int hl_ake_m4_encode(const struct hl_ake_m4 *m, uint8_t *out, size_t cap,
		     size_t *len) HL_MUST_CHECK;

/* Length M1 will have with n suites and transport_len bytes of transport. */
size_t hl_ake_m1_len(size_t n_suites, size_t transport_len);
/* Length M2 will have with these list sizes and transport length. */
size_t hl_ake_m2_len(size_t n_offered, size_t n_supported,
		     size_t transport_len);

/*
 * TEST ONLY.  Make this exchange treat `suite` as implemented, running it
 * with the primitives of 0x0001, so that tests and fuzz targets can
 * exercise negotiation and downgrade checks while only one real suite
 * exists.  Call right after hl_ake_new(), before any message.  HL_EINVAL
 * for suite 0 or 0x0001, HL_EFULL when 8 suites are already listed,
 * HL_ESTATE once the exchange has begun.  Never call it outside tests.
 */
int hl_ake_test_add_suite(struct hl_ake *a, uint16_t suite) HL_MUST_CHECK;

#endif /* HOTLINE_SRC_AKE_INTERNAL_H */
