/*
 * fuzz_signal_msg.c - libFuzzer target for the hotlined client's parser
 * of server messages (src/net/signal_proto.c).
 *
 * Input: one server message.  It is parsed; an "ok" is then read as a
 * put/answer state, as a list page and as TURN credentials, as the
 * client would.  Invariants: a parsed message's kind is known; an error's
 * code and text are printable ASCII; a relay's payload fits HL_RELAY_MAX;
 * every bundle a list page yields verifies (hl_contract_verify) and has
 * our identity as a party; TURN strings end within their arrays and the
 * TTL is positive; a challenge's fields re-encode to what was parsed
 * (the auth built from them parses as JSON); nothing leaks.
 *
 * Seeds: HL_FUZZ_GEN_SEEDS=DIR writes one valid message of each kind (a
 * list page with real signed bundles) at start and exits;
 * fuzz/corpus/signal_msg was made so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../src/net/signal_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hl_identity alice, bob;

static void id_from(struct hl_identity *id, uint8_t first, const char *name)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

static bool printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void write_seed(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(text, 1, strlen(text), f) != strlen(text))
		abort();
	fclose(f);
}

static void gen_seeds(const char *dir)
{
	struct hl_contract_bundle *b = calloc(1, sizeof(*b));
	struct hl_contract c;
	char *j1 = NULL, *j2 = NULL, t[16384], pk[HL_ID_TEXT_LEN + 1];

	memset(&c, 0, sizeof(c));
	memset(c.call_id, 0x42, sizeof(c.call_id));
	memcpy(c.proposer, alice.pk, 32);
	memcpy(c.invitee, bob.pk, 32);
	c.not_before = 1767225600;
	c.not_after = 1767225600 + 3600;
	c.created = 1767225000;
	c.n_suites = 1;
	c.suites[0] = 1;
	snprintf(c.proposer_name, sizeof(c.proposer_name), "Alice");
	c.n_topics = 1;
	snprintf(c.topics[0], sizeof(c.topics[0]), "budget");
	if (!b || hl_contract_propose(&c, &alice, b) != 0 ||
	    hl_contract_bundle_to_json(b, &j1) != 0 ||
	    hl_contract_accept(b, &bob) != 0 ||
	    hl_contract_bundle_to_json(b, &j2) != 0)
		abort();
	snprintf(t, sizeof(t),
		 "{\"type\":\"ok\",\"id\":4,\"bundles\":[%s,%s],\"next\":9}",
		 j1, j2);
	write_seed(dir, "list", t);
	snprintf(t, sizeof(t), "{\"type\":\"contract\",\"bundle\":%s}", j2);
	write_seed(dir, "contract", t);
	hl_pubkey_to_text(alice.pk, pk);
	snprintf(t, sizeof(t),
		 "{\"type\":\"relay\",\"call_id\":"
		 "\"42424242424242424242424242424242\",\"from\":\"%s\","
		 "\"payload\":\"SExLAQEAAQ\"}",
		 pk);
	write_seed(dir, "relay", t);
	write_seed(
		dir, "challenge",
		"{\"type\":\"challenge\",\"nonce\":"
		"\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\","
		"\"server\":\"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\"}");
	write_seed(dir, "welcome", "{\"type\":\"welcome\"}");
	write_seed(dir, "ok_state",
		   "{\"type\":\"ok\",\"id\":2,\"state\":\"confirmed\"}");
	write_seed(dir, "turn",
		   "{\"type\":\"ok\",\"id\":3,\"uris\":[\"turn:h:3478\"],"
		   "\"username\":\"1767229200:42424242424242424242424242424242"
		   "\",\"password\":\"dYWQwYf7vHPvX6cePg50QWi5OK8=\","
		   "\"ttl\":3600}");
	write_seed(dir, "error",
		   "{\"type\":\"error\",\"id\":5,\"code\":\"rate_limited\","
		   "\"message\":\"slow down\"}");
	hl_free(j1);
	hl_free(j2);
	free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("HL_FUZZ_GEN_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	id_from(&alice, 0x00, "Alice");
	id_from(&bob, 0x40, "Bob");
	if (dir) {
		gen_seeds(dir);
		exit(0);
	}
	return 0;
}

static void check_ok(const struct hl_sig_msg *m)
{
	struct hl_contract_bundle *list = NULL;
	size_t n = 0, cap = 0, bad = 0;
	enum hl_contract_state st;
	struct hl_turn_creds t;
	int64_t next = -2;

	if (hl_sig_ok_state(m, &st) == 0 &&
	    (st < HL_CONTRACT_PROPOSED || st > HL_CONTRACT_DECLINED))
		abort();
	if (hl_sig_ok_list(m, alice.pk, &list, &n, &cap, &bad, &next) == 0 &&
	    next < -1)
		abort();
	if (n > cap || n > HL_SIG_LIST_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (hl_contract_verify(&list[i], NULL) != 0)
			abort();
		if (memcmp(list[i].c.proposer, alice.pk, 32) != 0 &&
		    memcmp(list[i].c.invitee, alice.pk, 32) != 0)
			abort();
	}
	hl_free(list);
	if (hl_sig_ok_turn(m, &t) == 0 &&
	    (strnlen(t.uri, sizeof(t.uri)) == sizeof(t.uri) ||
	     strnlen(t.username, sizeof(t.username)) == sizeof(t.username) ||
	     strnlen(t.password, sizeof(t.password)) == sizeof(t.password) ||
	     t.ttl_s == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();
	struct hl_sig_msg m;
	char *text = NULL;
	size_t len = 0;

	if (hl_sig_parse((const char *)data, size, &m) == 0) {
		switch (m.kind) {
		case HL_SIG_CHALLENGE:
			if (hl_sig_build_auth(&alice, m.nonce, m.server_fp,
					      &text, &len) != 0 ||
			    !memmem(text, len, "\"auth\"", 6))
				abort();
			hl_free(text);
			break;
		case HL_SIG_ERROR:
			if (!printable(m.code, sizeof(m.code)) ||
			    !printable(m.text, sizeof(m.text)))
				abort();
			(void)hl_sig_error_code(m.code);
			break;
		case HL_SIG_RELAY:
			if (m.payload_len > HL_RELAY_MAX || !m.payload)
				abort();
			break;
		case HL_SIG_OK:
			if (!m.body || m.id < 0)
				abort();
			check_ok(&m);
			break;
		case HL_SIG_CONTRACT:
		case HL_SIG_WELCOME:
			break;
		default:
			abort();
		}
		hl_sig_msg_clear(&m);
	}
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
