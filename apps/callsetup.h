/*
 * callsetup.h - shared by the call commands (cmd_call.c, cmd_join.c).
 */
#ifndef HOTLINE_APPS_CALLSETUP_H
#define HOTLINE_APPS_CALLSETUP_H

#include <signal.h>

#include "cli.h"
#include "hotline/ake.h"
#include "hotline/contract.h"

#define RESEND_MS      2000
#define MAX_RESTARTS   8   /* new M1s the responder follows (callsetup.c) */
#define INBOX_READ     64  /* relays read before answering an M1 */
#define SLICE_MS       250 /* how often the wait looks at x->stop */
#define WINDOW_EARLY_S 600 /* the server relays from 10 min before */

/* Everything a call command does first: home, identity, server. */
struct session {
	struct hl_home *h;
	struct hl_identity id;
	bool have_id;
	struct hl_signal *s;
};

struct exchange {
	struct hl_signal *s;
	struct hl_ake *a;
	/* What a was made from: the responder makes a new one when the
	 * initiator restarts (a new M1). */
	const struct hl_ake_params *params;
	unsigned restarts;
	const uint8_t *call_id;
	const uint8_t *peer;
	uint8_t last_in[HL_AKE_MSG_MAX], last_out[HL_AKE_MSG_MAX];
	size_t last_in_len, last_out_len;
	/* The responder leaves at once after M4 instead of answering a
	 * repeated M3 for a moment (join: the call's own connectivity
	 * checks follow, and a lost M4 — only possible if the server fails
	 * right then — makes the initiator's join fail with a message). */
	bool no_linger;
	/* When set and non-zero (a signal handler sets it), the exchange
	 * stops within a quarter of a second: "interrupted". */
	volatile sig_atomic_t *stop;
	/* When set and stderr is a terminal: "PROG CMD: waiting for NAME...
	 * 12 s (up to 60 s; Ctrl-C stops)", refreshed each second until the
	 * first answer. */
	const char *cmd_name, *peer_name;
};

uint64_t now_unix(void);
void time_text(uint64_t t, char *out, size_t cap);
int save_bundle(struct hl_home *h, const struct hl_contract_bundle *b);
bool is_me(const struct hl_identity *id, const uint8_t pk[32]);
/* Name of the other party, or NULL if that key is not pinned. */
const char *peer_name(struct hl_home *h, const uint8_t pk[32],
		      struct hl_contact *ct);
/* Every contract of ours on the server (verified), kept locally too. */
int fetch(const char *cmd, struct hl_home *h, struct hl_signal *s,
	  struct hl_contract_bundle **list, size_t *n);
struct hl_contract_bundle *find_call(struct hl_contract_bundle *list, size_t n,
				     const uint8_t id[HL_CALL_ID_LEN]);
int session_open(const char *cmd, const struct common *c, struct session *ss);
void session_close(struct session *ss);
/* Drive the key exchange until done or the deadline (monotonic ms). */
/*
 * Everything before a call's key exchange: the session, the contract
 * (confirmed, ours), the other party pinned, the window open.  *out
 * points into *list (hl_free(*list) after use); ct is the peer contact.
 */
int open_call(const char *cmd, const struct common *c, const char *id_text,
	      struct session *ss, struct hl_contract_bundle **list,
	      struct hl_contract_bundle **out, struct hl_contact *ct);
int run_exchange(const char *cmd, struct exchange *x, bool initiator,
		 uint64_t deadline_ms);

#endif
