/*
 * fuzz_server_msg.c - libFuzzer target for hotlined's sans-IO core
 * (src/server/core.c, requests.c) over an in-memory SQLite store.
 *
 * Each input runs against a fresh core holding four connections: 1 is
 * not authenticated, 2 is alice, 3 bob, 4 eve (a third identity); alice
 * and bob share a confirmed contract whose relay window is open, and a
 * second one is only proposed, so mutated requests reach every handler.
 * Input: records of [flags (1 byte)][length (2 bytes, big-endian)][bytes];
 * flags: bits 0-1 the connection minus one, bit 2 a binary frame,
 * bit 3 a tick 61 s later before the message, bits 4-7 tenths of a second
 * of time passing.  A last record shorter than its length takes the rest.
 * Invariants: every output is a JSON object with a "type" string and at
 * most 1 MiB; nothing follows a close; the unauthenticated connection
 * gets nothing but a challenge or an error; eve never receives a relay or
 * a contract of alice and bob; nothing leaks.
 *
 * Seeds: HL_FUZZ_GEN_SEEDS=DIR writes the seed corpus (valid requests of
 * every type, in this framing) at start and exits; fuzz/corpus/server_msg
 * was made so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hotline/contract.h"
#include "hotline/identity.h"

#include "../src/server/server_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1767225600ull
#define US 1000000ull

static struct hl_identity alice, bob, eve;
static char *confirmed_json, *answer_json, *proposed_json;
static char call_hex[33], proposed_hex[33];

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

static char *bundle_text(uint8_t tag, bool accept, char hex[33])
{
	struct hl_contract_bundle *b = calloc(1, sizeof(*b));
	struct hl_contract c;
	char *t = NULL, *out;

	memset(&c, 0, sizeof(c));
	for (int k = 0; k < HL_CALL_ID_LEN; k++)
		c.call_id[k] = (uint8_t)(tag + k);
	memcpy(c.proposer, alice.pk, 32);
	memcpy(c.invitee, bob.pk, 32);
	c.not_before = T0;
	c.not_after = T0 + 7200;
	c.created = T0 - 100;
	c.n_suites = 1;
	c.suites[0] = 1;
	snprintf(c.proposer_name, sizeof(c.proposer_name), "Alice");
	if (!b || hl_contract_propose(&c, &alice, b) != 0 ||
	    (accept && hl_contract_accept(b, &bob) != 0) ||
	    hl_contract_bundle_to_json(b, &t) != 0)
		abort();
	hl_call_id_to_text(c.call_id, hex);
	out = strdup(t);
	hl_free(t);
	free(b);
	return out;
}

struct run {
	struct hl_srv_store *store;
	struct hl_srv_core *core;
	struct hl_prng prng;
	bool closed[5];
	uint64_t now;
};

static void check_outputs(struct run *r)
{
	struct hl_srv_out *o;

	while ((o = hl_srv_core_pop(r->core)) != NULL) {
		uint64_t c = o->conn;

		if (c < 1 || c > 4 || r->closed[c])
			abort(); /* output to nobody, or after a close */
		if (o->kind == HL_SRV_CLOSE) {
			r->closed[c] = true;
		} else {
			json_t *j = json_loadb((const char *)o->data, o->len, 0,
					       NULL);
			const char *type =
				json_string_value(json_object_get(j, "type"));

			if (!j || !type || o->len > HL_SRV_OUT_MAX)
				abort();
			if (c == 1 && strcmp(type, "challenge") != 0 &&
			    strcmp(type, "error") != 0 &&
			    strcmp(type, "welcome") != 0)
				abort();
			if (c == 4 && (strcmp(type, "relay") == 0 ||
				       strcmp(type, "contract") == 0))
				abort(); /* eve is in no contract */
			json_decref(j);
		}
		hl_free(o);
	}
}

/* Log in conn as id through the real challenge (the nonce is read back
 * from the challenge the core queued). */
static void login(struct run *r, uint64_t conn, const struct hl_identity *id)
{
	static const char ctx[] = "hotline server auth v1";
	uint8_t msg[sizeof(ctx) + 64], sig[64], fp[32] = {0};
	char pk[HL_ID_TEXT_LEN + 1], s64[100], text[400];
	struct hl_srv_out *o;
	size_t n = 0;
	json_t *j;

	if (hl_srv_core_connected(r->core, conn, "192.0.2.1", r->now) != 0)
		abort();
	o = hl_srv_core_pop(r->core);
	j = o ? json_loadb((const char *)o->data, o->len, 0, NULL) : NULL;
	if (!j ||
	    sodium_base642bin(msg + sizeof(ctx), 32,
			      json_string_value(json_object_get(j, "nonce")),
			      43, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		abort();
	json_decref(j);
	hl_free(o);
	if (!id)
		return;
	memcpy(msg, ctx, sizeof(ctx));
	memcpy(msg + sizeof(ctx) + 32, fp, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), id->sk);
	hl_pubkey_to_text(id->pk, pk);
	sodium_bin2base64(s64, sizeof(s64), sig, 64,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(text, sizeof(text),
		 "{\"type\":\"auth\",\"public_key\":\"%s\",\"signature\":"
		 "\"%s\"}",
		 pk, s64);
	if (hl_srv_core_message(r->core, conn, (const uint8_t *)text,
				strlen(text), false, r->now) != 0)
		abort();
	o = hl_srv_core_pop(r->core);
	if (!o || !memmem(o->data, o->len, "welcome", 7))
		abort();
	hl_free(o);
}

/* Send prefix || bundle || "}" on conn. */
static void send_text(struct run *r, uint64_t conn, const char *prefix,
		      const char *bundle)
{
	char text[16384];

	snprintf(text, sizeof(text), "%s%s}", prefix, bundle);
	if (hl_srv_core_message(r->core, conn, (const uint8_t *)text,
				strlen(text), false, r->now) != 0)
		abort();
}

static int setup(struct run *r)
{
	struct hl_srv_core_config cc;
	struct hl_server_limits lim = {.conn_msgs_per_s = 100000,
				       .id_msgs_per_s = 100000};

	memset(r, 0, sizeof(*r));
	hl_prng_seed(&r->prng, 1);
	r->now = (T0 + 10) * US;
	if (hl_srv_store_open(&r->store, ":memory:", NULL) != 0)
		return -1;
	memset(&cc, 0, sizeof(cc));
	cc.limits = lim;
	cc.store = r->store;
	cc.rng = hl_prng_as_rng(&r->prng);
	cc.turn_secret = "fuzz";
	cc.turn_uri = "turn:192.0.2.9:3478";
	if (hl_srv_core_new(&r->core, &cc) != 0) {
		hl_srv_store_close(r->store);
		return -1;
	}
	login(r, 1, NULL);
	login(r, 2, &alice);
	login(r, 3, &bob);
	login(r, 4, &eve);
	send_text(r, 2, "{\"type\":\"put_contract\",\"id\":1,\"bundle\":",
		  confirmed_json);
	send_text(r, 3,
		  "{\"type\":\"answer\",\"id\":1,\"bundle\":", answer_json);
	send_text(r, 2, "{\"type\":\"put_contract\",\"id\":2,\"bundle\":",
		  proposed_json);
	for (struct hl_srv_out *o; (o = hl_srv_core_pop(r->core));)
		hl_free(o);
	return 0;
}

static void write_seed(const char *dir, const char *name, int conn,
		       const char *text)
{
	char path[512];
	size_t n = strlen(text);
	uint8_t hdr[3];
	FILE *f;

	hdr[0] = (uint8_t)((conn - 1) & 3);
	hl_put_be16(hdr + 1, (uint16_t)n);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(hdr, 1, 3, f) != 3 || fwrite(text, 1, n, f) != n)
		abort();
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("HL_FUZZ_GEN_SEEDS");
	char t[16384];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	id_from(&alice, 0x00, "Alice");
	id_from(&bob, 0x40, "Bob");
	id_from(&eve, 0x80, "Eve");
	confirmed_json = bundle_text(1, false, call_hex);
	answer_json = bundle_text(1, true, call_hex);
	proposed_json = bundle_text(2, false, proposed_hex);
	if (!dir)
		return 0;
	write_seed(dir, "ping", 2, "{\"type\":\"ping\",\"id\":7}");
	write_seed(dir, "list", 3, "{\"type\":\"list\",\"id\":3,\"after\":0}");
	snprintf(t, sizeof(t),
		 "{\"type\":\"put_contract\",\"id\":5,\"bundle\":%s}",
		 confirmed_json);
	write_seed(dir, "put", 2, t);
	write_seed(dir, "put_eve", 4, t);
	snprintf(t, sizeof(t), "{\"type\":\"answer\",\"id\":6,\"bundle\":%s}",
		 answer_json);
	write_seed(dir, "answer", 3, t);
	snprintf(t, sizeof(t),
		 "{\"type\":\"relay\",\"id\":8,\"call_id\":\"%s\","
		 "\"payload\":\"aGVsbG8\"}",
		 call_hex);
	write_seed(dir, "relay", 2, t);
	snprintf(t, sizeof(t),
		 "{\"type\":\"relay\",\"id\":8,\"call_id\":\"%s\","
		 "\"payload\":\"\"}",
		 proposed_hex);
	write_seed(dir, "relay_unconfirmed", 3, t);
	snprintf(t, sizeof(t),
		 "{\"type\":\"turn\",\"id\":9,\"call_id\":\"%s\"}", call_hex);
	write_seed(dir, "turn", 3, t);
	write_seed(dir, "unauth", 1,
		   "{\"type\":\"auth\",\"public_key\":\"hl1aaaa\","
		   "\"signature\":\"AAAA\"}");
	write_seed(dir, "garbage", 2, "{\"type\": [1, {\"x\": null}]");
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();
	struct run r;
	size_t i = 0;

	if (setup(&r) != 0)
		abort();
	while (i + 3 <= size) {
		uint8_t flags = data[i];
		size_t len = hl_get_be16(data + i + 1);
		uint64_t conn = (uint64_t)(flags & 3) + 1;
		int err;

		i += 3;
		len = HL_MIN(len, size - i);
		r.now += (uint64_t)(flags >> 4) * 100000u;
		if (flags & 8) {
			r.now += 61 * US;
			hl_srv_core_tick(r.core, r.now);
			check_outputs(&r);
		}
		if (!r.closed[conn]) {
			err = hl_srv_core_message(r.core, conn, data + i, len,
						  flags & 4, r.now);
			if (err != 0 && err != HL_ENOMEM)
				abort();
		}
		check_outputs(&r);
		i += len;
	}
	hl_srv_core_free(r.core);
	hl_srv_store_close(r.store);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
