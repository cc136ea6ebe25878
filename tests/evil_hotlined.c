/*
 * evil_hotlined.c - a malicious hotlined, for tests only.
 *
 * The real server (hl_server_run) with test hooks that play one attack of
 * the threat model on what passes through (tests/attacks.sh checks that
 * the clients fail closed with a clear message):
 *
 *   alter-contract  flips a bit in every contract it hands out
 *   swap-key        replaces the proposer's key in proposals with the
 *                   server's own key, re-signed (a key substitution)
 *   replay          records every relayed key-exchange message and, in a
 *                   later exchange, delivers the old one instead
 *   reflect         sends a party's own key-exchange message back to it
 *                   as if it came from the other party
 *   suite           changes the suite list of M1 and the suite of M2
 *                   (a downgrade attempt)
 *   sdp             swaps the DTLS fingerprint in the SDPs that M1 and
 *                   M2 carry (a man in the middle putting in its own
 *                   certificate)
 *   inject-m1       hands the responder a forged M1 (the initiator's with
 *                   another nonce) just before the real one, as a stale
 *                   M1 from an abandoned run arrives: the responder must
 *                   answer the newest, so the exchange still completes
 * It says on stderr when it acted ("evil: ...").
 *
 * usage: evil_hotlined --listen ADDR:PORT --data DIR --attack NAME
 *                      [--turn-secret S --turn-uri URI]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hotline/contract.h"
#include "hotline/identity.h"
#include "hotline/net.h"
#include "hotline/server.h"
#include "server_internal.h"

static volatile sig_atomic_t stop_flag;
static const char *attack;
static struct hl_identity evil;
static char evil_pk[HL_ID_TEXT_LEN + 1];

/* replay: the first message of each (sender, type) seen */
#define KEEP 16
static struct {
	char from[HL_ID_TEXT_LEN + 1];
	uint8_t type;
	uint8_t msg[HL_SRV_RELAY_MAX];
	size_t len;
} kept[KEEP];
static int n_kept;

/* reflect: who is on which connection */
#define CONNS 64
static struct {
	uint64_t conn;
	char pk[HL_ID_TEXT_LEN + 1];
} who[CONNS];
static int n_who;

/* inject-m1: the forged M1 went out */
static bool injected;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static bool b64_decode(const char *in, uint8_t *out, size_t cap, size_t *len)
{
	return in &&
	       sodium_base642bin(out, cap, in, strlen(in), NULL, len, NULL,
				 sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
}

static json_t *b64_json(const uint8_t *in, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(
		len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(cap);
	json_t *j;

	sodium_bin2base64(s, cap, in, len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	j = json_string(s);
	free(s);
	return j;
}

/* Rewrite one bundle in place according to the attack. */
static void evil_bundle(json_t *b)
{
	uint8_t enc[HL_CONTRACT_MAX_LEN];
	size_t len;

	if (!b64_decode(json_string_value(json_object_get(b, "contract")), enc,
			sizeof(enc), &len) ||
	    len < 100)
		return;
	if (strcmp(attack, "alter-contract") == 0) {
		enc[len - 1] ^= 1; /* the last topic or name byte */
		json_object_set_new(b, "contract", b64_json(enc, len));
	} else if (strcmp(attack, "swap-key") == 0 &&
		   !json_object_get(b, "acceptance")) {
		struct hl_contract c;
		struct hl_contract_bundle nb;

		if (hl_contract_decode(enc, len, &c))
			return;
		memcpy(c.proposer, evil.pk, HL_ID_PK_LEN);
		if (hl_contract_propose(&c, &evil, &nb))
			return;
		json_object_set_new(b, "contract",
				    b64_json(nb.enc, nb.enc_len));
		json_object_set_new(b, "proposal",
				    b64_json(nb.proposal, HL_ID_SIG_LEN));
	}
}

/* Rewrite a relayed key-exchange message going out on conn. */
static bool evil_relay(json_t *m, uint64_t conn)
{
	const char *from = json_string_value(json_object_get(m, "from"));
	uint8_t msg[HL_SRV_RELAY_MAX];
	size_t len;

	if (!from ||
	    !b64_decode(json_string_value(json_object_get(m, "payload")), msg,
			sizeof(msg), &len) ||
	    len < 6)
		return false;
	if (strcmp(attack, "replay") == 0) {
		for (int i = 0; i < n_kept; i++) {
			if (strcmp(kept[i].from, from) == 0 &&
			    kept[i].type == msg[4]) {
				if (kept[i].len == len &&
				    memcmp(kept[i].msg, msg, len) == 0)
					return false; /* a resend */
				json_object_set_new(
					m, "payload",
					b64_json(kept[i].msg, kept[i].len));
				return true;
			}
		}
		if (n_kept < KEEP && strlen(from) <= HL_ID_TEXT_LEN) {
			memcpy(kept[n_kept].from, from, strlen(from) + 1);
			kept[n_kept].type = msg[4];
			memcpy(kept[n_kept].msg, msg, len);
			kept[n_kept].len = len;
			n_kept++;
		}
		return false;
	}
	if (strcmp(attack, "sdp") == 0) {
		static const char tag[] = "a=fingerprint:sha-256 ";
		uint8_t *p = memmem(msg, len, tag, sizeof(tag) - 1);
		size_t at = p ? (size_t)(p - msg) + sizeof(tag) - 1 : len;

		if (at >= len || (msg[4] != 1 && msg[4] != 2))
			return false;
		msg[at] = msg[at] == 'A' ? 'B' : 'A';
		json_object_set_new(m, "payload", b64_json(msg, len));
		return true;
	}
	if (strcmp(attack, "inject-m1") == 0 && msg[4] == 1 && !injected) {
		/* M1: "HLK" 1 1 call_id[16] hash[32] n suites[2n] e_I[32]
		 * nonce_I[32] ... */
		size_t nonce = len > 53 ? 54 + 2 * (size_t)msg[53] + 32 : len;
		char *real;

		if (nonce >= len)
			return false;
		injected = true;
		real = json_dumps(m, JSON_COMPACT);
		msg[nonce] ^= 1;
		json_object_set_new(m, "payload", b64_json(msg, len));
		/* the real one right after the forged one */
		if (!real || hl_server_inject(conn, real))
			fprintf(stderr, "evil: cannot inject\n");
		else
			fprintf(stderr, "evil: injected a forged M1\n");
		free(real);
		return true;
	}
	if (strcmp(attack, "suite") == 0) {
		/* M1: "HLK" 1 1 call_id[16] hash[32] n suites...;
		 * M2: "HLK" 1 2 suite ... */
		if (msg[4] == 1 && len > 56)
			msg[55] ^= 0x03; /* 0x0001 -> 0x0002 */
		else if (msg[4] == 2)
			msg[6] ^= 0x03;
		else
			return false;
		json_object_set_new(m, "payload", b64_json(msg, len));
		return true;
	}
	return false;
}

static char *on_output(void *ctx, uint64_t conn, const uint8_t *data,
		       size_t len)
{
	json_t *m = json_loadb((const char *)data, len, 0, NULL);
	json_t *arr, *one, *b;
	const char *type;
	bool changed = false;
	char *out = NULL;
	size_t i;

	(void)ctx;
	if (!m)
		return NULL;
	type = json_string_value(json_object_get(m, "type"));
	arr = json_object_get(m, "bundles");
	one = json_object_get(m, "bundle");
	json_array_foreach(arr, i, b)
	{
		evil_bundle(b);
		changed = true;
	}
	if (json_is_object(one)) {
		evil_bundle(one);
		changed = true;
	}
	if (type && strcmp(type, "relay") == 0)
		changed = evil_relay(m, conn);
	if (changed) {
		char *s = json_dumps(m, JSON_COMPACT);

		if (s) {
			out = hl_malloc(strlen(s) + 1);
			if (out)
				memcpy(out, s, strlen(s) + 1);
			free(s);
		}
	}
	json_decref(m);
	return out;
}

static void on_input(void *ctx, uint64_t conn, const uint8_t *data, size_t len)
{
	json_t *m = json_loadb((const char *)data, len, 0, NULL);
	const char *type = json_string_value(json_object_get(m, "type"));

	(void)ctx;
	if (!type)
		goto out;
	if (strcmp(type, "auth") == 0 && n_who < CONNS) {
		const char *pk =
			json_string_value(json_object_get(m, "public_key"));

		if (pk && strlen(pk) <= HL_ID_TEXT_LEN) {
			who[n_who].conn = conn;
			memcpy(who[n_who].pk, pk, strlen(pk) + 1);
			n_who++;
		}
	} else if (strcmp(type, "relay") == 0 &&
		   strcmp(attack, "reflect") == 0) {
		const char *me = NULL, *other = NULL;
		json_t *r;
		char *s;

		for (int i = 0; i < n_who; i++)
			if (who[i].conn == conn)
				me = who[i].pk;
		for (int i = 0; i < n_who && me; i++)
			if (strcmp(who[i].pk, me) != 0)
				other = who[i].pk;
		if (!other)
			goto out;
		/* The sender's own message, back to it "from" the other. */
		r = json_pack("{s:s, s:O, s:s, s:O}", "type", "relay",
			      "call_id", json_object_get(m, "call_id"), "from",
			      other, "payload", json_object_get(m, "payload"));
		s = json_dumps(r, JSON_COMPACT);
		if (s && hl_server_inject(conn, s))
			fprintf(stderr, "evil: cannot inject\n");
		free(s);
		json_decref(r);
	}
out:
	json_decref(m);
}

int main(int argc, char **argv)
{
	struct hl_server_config cfg;
	struct hl_srv_hooks h = {on_input, on_output, NULL};
	struct hl_rng rng = hl_rng_os();
	struct sigaction sa;

	memset(&cfg, 0, sizeof(cfg));
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0)
			cfg.listen = argv[i + 1];
		else if (strcmp(argv[i], "--data") == 0)
			cfg.data_dir = argv[i + 1];
		else if (strcmp(argv[i], "--attack") == 0)
			attack = argv[i + 1];
		else if (strcmp(argv[i], "--turn-secret") == 0)
			cfg.turn_secret = argv[i + 1];
		else if (strcmp(argv[i], "--turn-uri") == 0)
			cfg.turn_uri = argv[i + 1];
	}
	if (!cfg.listen || !cfg.data_dir || !attack) {
		fprintf(stderr, "usage: evil_hotlined --listen ADDR:PORT "
				"--data DIR --attack NAME\n");
		return 2;
	}
	if (hl_identity_generate(&evil, "mallory", &rng))
		return 1;
	hl_pubkey_to_text(evil.pk, evil_pk);
	hl_server_set_hooks(&h);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "evil_hotlined: attack %s\n", attack);
	return hl_server_run(&cfg, &stop_flag) ? 1 : 0;
}
