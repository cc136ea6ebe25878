/*
 * signal_proto.c - the client's view of the hotlined protocol
 * (docs/protocol.md §5.5), without I/O: parse what the server sends,
 * build what we send.
 *
 * Everything from the server is untrusted: messages are at most
 * HL_SIG_MSG_MAX bytes, parsed by jansson (its own allocator, bounded by
 * that size), every field is checked for type and length before use, and
 * contracts are believed only after hl_contract_bundle_from_json has
 * verified every signature and we are one of their parties.  Error texts
 * from the server are kept as printable ASCII only, so they cannot
 * smuggle terminal escapes into a user's screen.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "signal_internal.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Decode base64url (no padding) of exactly len bytes. */
static bool b64_exact(json_t *v, uint8_t *out, size_t len)
{
	size_t n = 0;
	const char *end = NULL;

	if (!json_is_string(v) ||
	    json_string_length(v) != sodium_base64_ENCODED_LEN(len, B64) - 1)
		return false;
	return sodium_base642bin(out, len, json_string_value(v),
				 json_string_length(v), NULL, &n, &end,
				 B64) == 0 &&
	       n == len && end == json_string_value(v) + json_string_length(v);
}

/* Copy a string as printable ASCII ('?' for anything else). */
static void copy_printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < cap && i < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = 0;
}

static int parse_relay(json_t *root, struct hl_sig_msg *m)
{
	json_t *cid = json_object_get(root, "call_id");
	json_t *from = json_object_get(root, "from");
	json_t *pl = json_object_get(root, "payload");
	const char *end = NULL;
	size_t n = 0;

	if (!json_is_string(cid) || !json_is_string(from) ||
	    !json_is_string(pl) ||
	    hl_call_id_from_text(json_string_value(cid), m->call_id) != 0 ||
	    json_string_length(from) > 4 * HL_ID_TEXT_LEN ||
	    hl_pubkey_from_text(json_string_value(from), m->from) != 0 ||
	    json_string_length(pl) >
		    sodium_base64_ENCODED_LEN(HL_RELAY_MAX, B64) - 1)
		return HL_EPARSE;
	m->payload = hl_malloc(HL_RELAY_MAX);
	if (!m->payload)
		return HL_ENOMEM;
	if (sodium_base642bin(m->payload, HL_RELAY_MAX, json_string_value(pl),
			      json_string_length(pl), NULL, &n, &end,
			      B64) != 0 ||
	    end != json_string_value(pl) + json_string_length(pl))
		return HL_EPARSE;
	m->payload_len = n;
	return 0;
}

int hl_sig_parse(const char *text, size_t len, struct hl_sig_msg *m)
{
	json_t *root = NULL, *idv;
	const char *type;
	json_error_t jerr;
	int err = HL_EPARSE;

	memset(m, 0, sizeof(*m));
	m->id = -1;
	if (len > HL_SIG_MSG_MAX)
		return HL_ETOOBIG;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return json_error_code(&jerr) == json_error_out_of_memory
			       ? HL_ENOMEM
			       : HL_EPARSE;
	type = json_string_value(json_object_get(root, "type"));
	idv = json_object_get(root, "id");
	if (!json_is_object(root) || !type)
		goto out;
	if (idv) {
		if (!json_is_integer(idv) || json_integer_value(idv) < 0)
			goto out;
		m->id = json_integer_value(idv);
	}
	if (strcmp(type, "challenge") == 0) {
		m->kind = HL_SIG_CHALLENGE;
		if (!b64_exact(json_object_get(root, "nonce"), m->nonce,
			       sizeof(m->nonce)) ||
		    !b64_exact(json_object_get(root, "server"), m->server_fp,
			       sizeof(m->server_fp)))
			goto out;
	} else if (strcmp(type, "welcome") == 0) {
		m->kind = HL_SIG_WELCOME;
	} else if (strcmp(type, "ok") == 0) {
		m->kind = HL_SIG_OK;
		if (m->id < 0)
			goto out;
	} else if (strcmp(type, "error") == 0) {
		json_t *c = json_object_get(root, "code");
		json_t *t = json_object_get(root, "message");

		m->kind = HL_SIG_ERROR;
		if (!json_is_string(c))
			goto out;
		copy_printable(m->code, sizeof(m->code), json_string_value(c),
			       json_string_length(c));
		if (json_is_string(t))
			copy_printable(m->text, sizeof(m->text),
				       json_string_value(t),
				       json_string_length(t));
	} else if (strcmp(type, "contract") == 0) {
		m->kind = HL_SIG_CONTRACT;
		if (!json_is_object(json_object_get(root, "bundle")))
			goto out;
	} else if (strcmp(type, "relay") == 0) {
		m->kind = HL_SIG_RELAY;
		if ((err = parse_relay(root, m)) != 0)
			goto out;
	} else {
		goto out;
	}
	if (m->kind == HL_SIG_OK || m->kind == HL_SIG_CONTRACT) {
		m->body = root;
		root = NULL;
	}
	err = 0;
out:
	json_decref(root);
	if (err)
		hl_sig_msg_clear(m);
	return err;
}

void hl_sig_msg_clear(struct hl_sig_msg *m)
{
	json_decref(m->body);
	hl_free(m->payload);
	memset(m, 0, sizeof(*m));
	m->id = -1;
}

int hl_sig_ok_state(const struct hl_sig_msg *m, enum hl_contract_state *st)
{
	const char *s;

	if (m->kind != HL_SIG_OK || !m->body)
		return HL_EPARSE;
	s = json_string_value(json_object_get(m->body, "state"));
	if (!s)
		return HL_EPARSE;
	for (int i = HL_CONTRACT_PROPOSED; i <= HL_CONTRACT_DECLINED; i++)
		if (strcmp(s, hl_contract_state_name(
				      (enum hl_contract_state)i)) == 0) {
			*st = (enum hl_contract_state)i;
			return 0;
		}
	return HL_EPARSE;
}

/* One bundle object: verified and ours, into b.  1 if it is not. */
static int take_bundle(json_t *v, const uint8_t self[HL_ID_PK_LEN],
		       struct hl_contract_bundle *b)
{
	size_t len;
	char *text;
	int err;

	if (!json_is_object(v))
		return 1;
	len = json_dumpb(v, NULL, 0, JSON_COMPACT);
	if (len == 0 || len > HL_SIG_MSG_MAX)
		return len ? 1 : HL_ENOMEM;
	text = hl_malloc(len);
	if (!text)
		return HL_ENOMEM;
	if (json_dumpb(v, text, len, JSON_COMPACT) != len) {
		hl_free(text);
		return HL_ENOMEM;
	}
	err = hl_contract_bundle_from_json(text, len, b, NULL);
	hl_free(text);
	if (err == HL_ENOMEM)
		return err;
	if (err)
		return 1;
	if (memcmp(b->c.proposer, self, HL_ID_PK_LEN) != 0 &&
	    memcmp(b->c.invitee, self, HL_ID_PK_LEN) != 0)
		return 1;
	return 0;
}

int hl_sig_ok_list(const struct hl_sig_msg *m, const uint8_t self[HL_ID_PK_LEN],
		   struct hl_contract_bundle **list, size_t *n, size_t *cap,
		   size_t *bad, int64_t *next)
{
	json_t *arr, *nv, *v;
	size_t i;
	int err;

	if (m->kind != HL_SIG_OK || !m->body)
		return HL_EPARSE;
	arr = json_object_get(m->body, "bundles");
	nv = json_object_get(m->body, "next");
	if (!json_is_array(arr) ||
	    (nv && (!json_is_integer(nv) || json_integer_value(nv) < 0)))
		return HL_EPARSE;
	json_array_foreach(arr, i, v)
	{
		if (*n == HL_SIG_LIST_MAX)
			return HL_ETOOBIG;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 8;
			struct hl_contract_bundle *p;

			c = HL_MIN(c, (size_t)HL_SIG_LIST_MAX);
			p = hl_realloc(*list, c * sizeof(*p));
			if (!p)
				return HL_ENOMEM;
			*list = p;
			*cap = c;
		}
		err = take_bundle(v, self, &(*list)[*n]);
		if (err < 0)
			return err;
		if (err)
			(*bad)++;
		else
			(*n)++;
	}
	*next = nv ? json_integer_value(nv) : -1;
	return 0;
}

static bool copy_str(json_t *v, char *out, size_t cap)
{
	if (!json_is_string(v) || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

int hl_sig_ok_turn(const struct hl_sig_msg *m, struct hl_turn_creds *out)
{
	struct hl_turn_creds t;
	json_t *uris, *ttl;

	if (m->kind != HL_SIG_OK || !m->body)
		return HL_EPARSE;
	memset(&t, 0, sizeof(t));
	uris = json_object_get(m->body, "uris");
	ttl = json_object_get(m->body, "ttl");
	if (!json_is_array(uris) || json_array_size(uris) < 1 ||
	    !copy_str(json_array_get(uris, 0), t.uri, sizeof(t.uri)) ||
	    !copy_str(json_object_get(m->body, "username"), t.username,
		      sizeof(t.username)) ||
	    !copy_str(json_object_get(m->body, "password"), t.password,
		      sizeof(t.password)) ||
	    !json_is_integer(ttl) || json_integer_value(ttl) <= 0 ||
	    json_integer_value(ttl) > UINT32_MAX)
		return HL_EPARSE;
	t.ttl_s = (uint32_t)json_integer_value(ttl);
	*out = t;
	return 0;
}

int hl_sig_error_code(const char *code)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{"bad_request", HL_EINVAL},   {"too_big", HL_ETOOBIG},
		{"rate_limited", HL_EFULL},   {"unauthenticated", HL_EAUTH},
		{"bad_signature", HL_EAUTH},  {"not_party", HL_EAUTH},
		{"not_found", HL_ENOTFOUND},  {"conflict", HL_ECONFLICT},
		{"not_confirmed", HL_ESTATE}, {"outside_window", HL_ESTATE},
		{"unavailable", HL_EFULL},    {"internal", HL_EIO},
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(map); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].err;
	return HL_EIO;
}

/* Compact JSON text of o into an hl_malloc'd buffer. */
static int dump(json_t *o, char **out, size_t *len)
{
	size_t n = o ? json_dumpb(o, NULL, 0, JSON_COMPACT) : 0;
	char *s;

	if (n == 0)
		return HL_ENOMEM;
	s = hl_malloc(n + 1);
	if (!s)
		return HL_ENOMEM;
	if (json_dumpb(o, s, n, JSON_COMPACT) != n) {
		hl_free(s);
		return HL_ENOMEM;
	}
	s[n] = 0;
	*out = s;
	*len = n;
	return 0;
}

int hl_sig_build_auth(const struct hl_identity *id,
		      const uint8_t nonce[HL_SIG_NONCE_LEN],
		      const uint8_t fp[HL_SIGNAL_FP_LEN], char **out,
		      size_t *len)
{
	uint8_t msg[sizeof(HL_SIG_AUTH_CTX) + HL_SIG_NONCE_LEN +
		    HL_SIGNAL_FP_LEN];
	uint8_t sig[HL_ID_SIG_LEN];
	char pk[HL_ID_TEXT_LEN + 1];
	char sig64[sodium_base64_ENCODED_LEN(HL_ID_SIG_LEN, B64)];
	json_t *o;
	int err;

	memcpy(msg, HL_SIG_AUTH_CTX, sizeof(HL_SIG_AUTH_CTX)); /* and NUL */
	memcpy(msg + sizeof(HL_SIG_AUTH_CTX), nonce, HL_SIG_NONCE_LEN);
	memcpy(msg + sizeof(HL_SIG_AUTH_CTX) + HL_SIG_NONCE_LEN, fp,
	       HL_SIGNAL_FP_LEN);
	if ((err = hl_identity_sign(id, msg, sizeof(msg), sig)) != 0)
		return err;
	hl_pubkey_to_text(id->pk, pk);
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), B64);
	o = json_pack("{s:s, s:s, s:s}", "type", "auth", "public_key", pk,
		      "signature", sig64);
	err = dump(o, out, len);
	json_decref(o);
	return err;
}

int hl_sig_build_request(const char *type, int64_t id, json_t *fields,
			 char **out, size_t *len)
{
	json_t *o = fields ? json_deep_copy(fields) : json_object();
	int err = HL_ENOMEM;

	if (o && json_object_set_new(o, "type", json_string(type)) == 0 &&
	    json_object_set_new(o, "id", json_integer(id)) == 0)
		err = dump(o, out, len);
	json_decref(o);
	return err;
}
