/*
 * callsetup.c - what the call commands share: the session (home,
 * identity, server), fetching and checking contracts, local copies, and
 * driving the key exchange over the server's relay.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callsetup.h"
#include "hotline/net.h"

uint64_t now_unix(void)
{
	return hl_clock_wall_us() / 1000000;
}

/* ---- time ------------------------------------------------------------- */

void time_text(uint64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm))
		strftime(out, cap, "%Y-%m-%d %H:%M %Z", &tm);
	else
		snprintf(out, cap, "%llu", (unsigned long long)t);
}

int save_bundle(struct hl_home *h, const struct hl_contract_bundle *b)
{
	char id[33], name[64], *json = NULL;
	int err;

	hl_call_id_to_text(b->c.call_id, id);
	snprintf(name, sizeof(name), "contracts/%s.json", id);
	err = hl_contract_bundle_to_json(b, &json);
	if (!err)
		err = hl_home_write(h, name, json, strlen(json));
	hl_free(json);
	return err;
}

bool is_me(const struct hl_identity *id, const uint8_t pk[32])
{
	return memcmp(id->pk, pk, HL_ID_PK_LEN) == 0;
}

/* Name of the other party, or NULL if that key is not pinned. */
const char *peer_name(struct hl_home *h, const uint8_t pk[32],
		      struct hl_contact *ct)
{
	return hl_home_contact_by_key(h, pk, ct) == 0 ? ct->name : NULL;
}

/*
 * Fetch every contract of ours from the server (already verified by the
 * client library), keep local copies, and find call_id (if not NULL).
 */
int fetch(const char *cmd, struct hl_home *h, struct hl_signal *s,
	  struct hl_contract_bundle **list, size_t *n)
{
	size_t bad_n = 0;
	int err = hl_signal_list(s, list, n, &bad_n);

	if (err)
		return fail(cmd, "the server did not list the calls: %s",
			    hl_signal_error(s));
	if (bad_n)
		fprintf(stderr,
			"%s %s: WARNING: the server sent %zu contract(s) whose "
			"signatures do not verify; they were ignored (the "
			"server or the network altered them)\n",
			prog, cmd, bad_n);
	for (size_t i = 0; i < *n; i++)
		if (save_bundle(h, &(*list)[i]))
			fprintf(stderr,
				"%s %s: cannot keep a local copy of a "
				"contract\n",
				prog, cmd);
	return 0;
}

struct hl_contract_bundle *find_call(struct hl_contract_bundle *list, size_t n,
				     const uint8_t id[HL_CALL_ID_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i].c.call_id, id, HL_CALL_ID_LEN) == 0)
			return &list[i];
	return NULL;
}

int session_open(const char *cmd, const struct common *c, struct session *ss)
{
	int rc;

	memset(ss, 0, sizeof(*ss));
	rc = open_home(cmd, c, false, &ss->h);
	if (!rc)
		rc = load_identity(cmd, c, ss->h, &ss->id);
	if (rc)
		return rc;
	ss->have_id = true;
	return connect_server(cmd, c, ss->h, &ss->id, &ss->s);
}

void session_close(struct session *ss)
{
	hl_signal_close(ss->s);
	if (ss->have_id)
		hl_identity_wipe(&ss->id);
	hl_home_close(ss->h);
}

static int send_msg(struct exchange *x, const uint8_t *m, size_t len)
{
	memcpy(x->last_out, m, len);
	x->last_out_len = len;
	return hl_signal_relay_replace(x->s, x->call_id, m, len);
}

/* The message type of a key-exchange message (1-4), 0 if not one. */
static int msg_type(const uint8_t *m, size_t len)
{
	return len >= 5 && memcmp(m, "HLK\x01", 4) == 0 && m[4] >= 1 &&
			       m[4] <= 4
		       ? m[4]
		       : 0;
}

/*
 * The responder got an M1 other than the one it answered while it waits
 * for M3: the initiator started over (a new run after an earlier one gave
 * up).  Follow it with a fresh exchange (new ephemerals; nothing of the
 * old one is kept).  A forged M1 can do no more than a server that drops
 * messages: the new exchange is checked in full.  0, or the exit status.
 */
static int restart(const char *cmd, struct exchange *x)
{
	int err;

	assert(x->params);
	if (++x->restarts > MAX_RESTARTS)
		return fail(cmd,
			    "the key exchange was started over more than "
			    "%d times (the other party ran it several "
			    "times at once, or the server replays old "
			    "messages); run it once on each side and try "
			    "again",
			    MAX_RESTARTS);
	hl_ake_free(x->a);
	x->a = NULL;
	x->last_in_len = x->last_out_len = 0;
	err = hl_ake_new(&x->a, x->params);
	if (err)
		return fail(cmd, "cannot start the key exchange again: %s",
			    hl_strerror(err));
	return 0;
}

/*
 * The responder, about to answer the M1 in m: what else has already
 * arrived is read first (at most INBOX_READ relays, so a server that
 * floods cannot hold us here), and the newest M1 from the peer is the one
 * answered (an older one is left from a run the initiator gave up, and
 * answering it would make the new run fail).  Anything else read here is
 * dropped: before our M2 the peer can only have sent M1s, and the
 * initiator repeats what it needs.
 */
static void newest_m1(struct exchange *x, uint8_t *m, size_t *len)
{
	uint8_t in[HL_AKE_MSG_MAX], from[HL_ID_PK_LEN];
	size_t n;

	for (int i = 0; i < INBOX_READ; i++) {
		if (hl_signal_relay_recv(x->s, x->call_id, in, sizeof(in), &n,
					 from, i ? 0 : 1))
			return;
		if (memcmp(from, x->peer, HL_ID_PK_LEN) == 0 &&
		    msg_type(in, n) == 1) {
			memcpy(m, in, n);
			*len = n;
		}
	}
}

/*
 * The responder is done once it sent its final confirmation (M4); if
 * that got lost, the initiator repeats M3.  Answer such repeats for a
 * little while before leaving.
 */
static void linger(struct exchange *x)
{
	uint64_t end = hl_clock_now_us() / 1000 + RESEND_MS + 500;
	uint8_t in[HL_AKE_MSG_MAX], from[HL_ID_PK_LEN];
	size_t len;

	for (;;) {
		uint64_t now = hl_clock_now_us() / 1000;

		if (now >= end ||
		    hl_signal_relay_recv(x->s, x->call_id, in, sizeof(in), &len,
					 from, (unsigned)(end - now)))
			return;
		if (memcmp(from, x->peer, HL_ID_PK_LEN) == 0 &&
		    len == x->last_in_len && memcmp(in, x->last_in, len) == 0 &&
		    hl_signal_relay_replace(x->s, x->call_id, x->last_out,
					    x->last_out_len))
			return;
	}
}

/* The waiting line on a terminal (see struct exchange), once a second. */
static void show_wait(const struct exchange *x, uint64_t start_ms,
		      uint64_t deadline_ms, uint64_t now_ms, bool *shown)
{
	if (!x->peer_name || !isatty(2))
		return;
	fprintf(stderr,
		"\r%s %s: waiting for %s... %llu s (up to %llu s; Ctrl-C "
		"stops) ",
		prog, x->cmd_name ? x->cmd_name : "", x->peer_name,
		(unsigned long long)((now_ms - start_ms) / 1000),
		(unsigned long long)((deadline_ms - start_ms + 999) / 1000));
	fflush(stderr);
	*shown = true;
}

/* End the waiting line, so that what follows starts on a line of its own. */
static void end_wait(bool *shown)
{
	if (*shown)
		fputc('\n', stderr);
	*shown = false;
}

/*
 * Drive the exchange until it is done or the deadline passes.  The
 * initiator repeats its last message every 2 s of silence (the responder
 * may start later, or a relay may have been lost); the responder answers a
 * repeated message with its last reply.  Every message replaces what we
 * had queued on the server for an offline peer, so repeats never fill the
 * queue and a restarted exchange never meets the old one's messages
 * there.  What was already waiting for the initiator when it sent M1 is
 * an earlier run's and is dropped; the responder ignores anything but M1
 * until it has one, answers the newest M1 that has arrived, and follows
 * an initiator that starts over (a new M1) with a fresh exchange
 * (docs/protocol.md §5.4).
 */
int run_exchange(const char *cmd, struct exchange *x, bool initiator,
		 uint64_t deadline_ms)
{
	uint8_t in[HL_AKE_MSG_MAX], out[HL_AKE_MSG_MAX], from[HL_ID_PK_LEN];
	uint64_t last_send, start_ms = hl_clock_now_us() / 1000, next_show;
	bool shown = false; /* the waiting line is on the screen */
	size_t len, olen;
	int err;

/* A failure sentence, on a line of its own. */
#define FAIL(...) (end_wait(&shown), fail(cmd, __VA_ARGS__))

	if (initiator) {
		err = hl_ake_start(x->a, out, sizeof(out), &olen);
		if (!err)
			err = send_msg(x, out, olen);
		if (err)
			return FAIL("cannot start the key exchange: %s",
				    err == HL_EAUTH ? hl_ake_error(x->a)
						    : hl_signal_error(x->s));
		/* The server delivers what was queued for us before it
		 * answers that request: none of it answers this M1. */
		hl_signal_relay_discard(x->s, x->call_id);
	}
	last_send = hl_clock_now_us() / 1000;
	next_show = last_send;
	while (!hl_ake_done(x->a)) {
		uint64_t now = hl_clock_now_us() / 1000;

		if (!x->last_in_len && now >= next_show) {
			/* nothing from the peer yet */
			show_wait(x, start_ms, deadline_ms, now, &shown);
			next_show = now + 1000;
		}

		if (x->stop && *x->stop)
			return FAIL("interrupted before the key exchange "
				    "finished");
		if (now >= deadline_ms)
			return FAIL(x->last_in_len
					    ? "the other party stopped before "
					      "confirming the exchange (it may "
					      "have failed there: ask them)"
					    : "the other party did not answer: "
					      "they must run 'hotline verify' "
					      "or 'hotline join' for this call "
					      "too (within the same minute)");
		err = hl_signal_relay_recv(
			x->s, x->call_id, in, sizeof(in), &len, from,
			(unsigned)HL_MIN(SLICE_MS, deadline_ms - now));
		if (err == HL_ETIMEOUT) {
			now = hl_clock_now_us() / 1000;
			if (now - last_send < RESEND_MS)
				continue;
			last_send = now;
			if (initiator && x->last_out_len &&
			    hl_signal_relay_replace(x->s, x->call_id,
						    x->last_out,
						    x->last_out_len))
				return FAIL("the server stopped relaying: "
					    "%s",
					    hl_signal_error(x->s));
			continue;
		}
		if (err)
			return FAIL("the server stopped relaying: %s",
				    hl_signal_error(x->s));
		if (memcmp(from, x->peer, HL_ID_PK_LEN) != 0)
			continue; /* not from the contract's other party */
		if (!initiator && !x->last_in_len && msg_type(in, len) != 1)
			continue; /* left over from an earlier run */
		if (!initiator && msg_type(in, len) == 1)
			newest_m1(x, in, &len);
		if (!initiator && x->last_in_len && msg_type(in, len) == 1 &&
		    (len != x->last_in_len || memcmp(in, x->last_in, len))) {
			int rc = restart(cmd, x);

			if (rc)
				return rc;
		}
		if (len == x->last_in_len && memcmp(in, x->last_in, len) == 0) {
			/* A repeat: the peer missed our reply. */
			if (x->last_out_len &&
			    hl_signal_relay_replace(x->s, x->call_id,
						    x->last_out,
						    x->last_out_len))
				return FAIL("the server stopped relaying: "
					    "%s",
					    hl_signal_error(x->s));
			continue;
		}
		end_wait(&shown); /* the peer is there */
		memcpy(x->last_in, in, len);
		x->last_in_len = len;
		err = hl_ake_recv(x->a, in, len, out, sizeof(out), &olen);
		if (err)
			return FAIL("the key exchange FAILED: %s. Do not hold "
				    "this call until you know why (an attack, "
				    "or the wrong contract)",
				    hl_ake_error(x->a));
		if (olen && send_msg(x, out, olen))
			return FAIL("the server stopped relaying: %s",
				    hl_signal_error(x->s));
		if (olen) /* repeats count from our last message */
			last_send = hl_clock_now_us() / 1000;
	}
	if (!initiator && !x->no_linger)
		linger(x);
	return 0;
#undef FAIL
}

int open_call(const char *cmd, const struct common *c, const char *id_text,
	      struct session *ss, struct hl_contract_bundle **list,
	      struct hl_contract_bundle **out, struct hl_contact *ct)
{
	uint8_t id[HL_CALL_ID_LEN];
	struct hl_contract_bundle *b;
	const uint8_t *peer;
	char key[HL_ID_TEXT_LEN + 1];
	uint64_t now;
	size_t n = 0;
	int rc;

	memset(ss, 0, sizeof(*ss));
	*list = NULL;
	if (hl_call_id_from_text(id_text, id))
		return bad(cmd, "'%s' is not a call id (32 hex digits)",
			   id_text);
	rc = session_open(cmd, c, ss);
	if (!rc)
		rc = fetch(cmd, ss->h, ss->s, list, &n);
	if (rc)
		return rc;
	b = find_call(*list, n, id);
	if (!b)
		return fail(cmd, "there is no call %s for you on this server",
			    id_text);
	if (hl_contract_bundle_state(b) != HL_CONTRACT_CONFIRMED)
		return fail(
			cmd,
			"call %s is %s, not confirmed: the invitee must "
			"run 'hotline confirm' first",
			id_text,
			hl_contract_state_name(hl_contract_bundle_state(b)));
	peer = is_me(&ss->id, b->c.proposer) ? b->c.invitee : b->c.proposer;
	if (!peer_name(ss->h, peer, ct)) {
		hl_pubkey_to_text(peer, key);
		return fail(cmd,
			    "REFUSED: the other party's key %s is not pinned; "
			    "pin it with 'hotline contact add NAME KEY' after "
			    "checking it with them",
			    key);
	}
	now = now_unix();
	if (now + WINDOW_EARLY_S < b->c.not_before || now > b->c.not_after) {
		char t0[40];

		time_text(b->c.not_before, t0, sizeof(t0));
		return fail(cmd,
			    "call %s is not open now: its window starts %s "
			    "(calls open 10 minutes before, until their end)",
			    id_text, t0);
	}
	*out = b;
	return 0;
}
