/*
 * signal_internal.h - the sans-IO half of the hotlined client: parsing
 * the server's messages and building ours (docs/protocol.md §5.5).
 * signal.c puts libwebsockets around it; fuzz_signal_msg drives it alone.
 */
#ifndef HOTLINE_SIGNAL_INTERNAL_H
#define HOTLINE_SIGNAL_INTERNAL_H

#include <jansson.h>

#include "hotline/signal.h"

#define HL_SIG_MSG_MAX	 (1u << 20) /* largest server message we take */
#define HL_SIG_LIST_MAX	 4096	    /* bundles one list may return */
#define HL_SIG_AUTH_CTX	 "hotline server auth v1" /* then a NUL byte */
#define HL_SIG_NONCE_LEN 32

enum hl_sig_kind {
	HL_SIG_CHALLENGE = 1,
	HL_SIG_WELCOME,
	HL_SIG_OK,
	HL_SIG_ERROR,
	HL_SIG_CONTRACT, /* a pushed bundle */
	HL_SIG_RELAY,
};

struct hl_sig_msg {
	enum hl_sig_kind kind;
	int64_t id; /* the request's id, -1 if none */
	/* challenge */
	uint8_t nonce[HL_SIG_NONCE_LEN];
	uint8_t server_fp[HL_SIGNAL_FP_LEN];
	/* error */
	char code[32];
	char text[200]; /* printable ASCII only */
	/* relay */
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t from[HL_ID_PK_LEN];
	uint8_t *payload; /* hl_malloc'd */
	size_t payload_len;
	/* ok, contract: the whole message (one reference) */
	json_t *body;
};

/*
 * Parse one server message.  HL_EPARSE for anything that is not a
 * well-formed message of a known type (unknown types are HL_EPARSE too:
 * the caller ignores them).  On success free with hl_sig_msg_clear().
 */
int hl_sig_parse(const char *text, size_t len,
		 struct hl_sig_msg *m) HL_MUST_CHECK;
void hl_sig_msg_clear(struct hl_sig_msg *m);

/* The "state" of an ok to put_contract/answer. */
int hl_sig_ok_state(const struct hl_sig_msg *m,
		    enum hl_contract_state *st) HL_MUST_CHECK;
/*
 * Append the verified bundles of an ok to list, where self is a party,
 * to *list (hl_realloc'd; *n used, *cap allocated); the others are
 * counted in *bad.  *next is the cursor of the next page, or -1.
 * HL_ETOOBIG past HL_SIG_LIST_MAX bundles.
 */
int hl_sig_ok_list(const struct hl_sig_msg *m, const uint8_t self[HL_ID_PK_LEN],
		   struct hl_contract_bundle **list, size_t *n, size_t *cap,
		   size_t *bad, int64_t *next) HL_MUST_CHECK;
int hl_sig_ok_turn(const struct hl_sig_msg *m,
		   struct hl_turn_creds *out) HL_MUST_CHECK;

/* The HL_E* code for an error code of the protocol. */
int hl_sig_error_code(const char *code);

/* {"type": "auth", ...} signed for this challenge; *out hl_malloc'd. */
int hl_sig_build_auth(const struct hl_identity *id,
		      const uint8_t nonce[HL_SIG_NONCE_LEN],
		      const uint8_t fp[HL_SIGNAL_FP_LEN], char **out,
		      size_t *len) HL_MUST_CHECK;
/* {"type": type, "id": id, fields...}; fields (borrowed) may be NULL. */
int hl_sig_build_request(const char *type, int64_t id, json_t *fields,
			 char **out, size_t *len) HL_MUST_CHECK;

#endif /* HOTLINE_SIGNAL_INTERNAL_H */
