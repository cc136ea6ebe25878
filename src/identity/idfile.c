/*
 * idfile.c - identity.json: parse, write, seal and open
 * (docs/protocol.md §5.1).
 *
 * Sealed form: the 32-byte Ed25519 seed is encrypted with
 * XChaCha20-Poly1305 under key = Argon2id13(passphrase, salt, O, M), and
 * the associated data binds everything else the file states:
 *
 *   AAD = "hotline identity v1" 0x00 || name || 0x00 || pk
 *         || u64(O) || u64(M) || salt
 *
 * so a changed name, key, parameter or salt fails authentication exactly
 * like a wrong passphrase (HL_EAUTH, one opaque error).  The algorithm
 * names are not in the AAD but must be the only values this version
 * knows.  Clear form (an explicit --no-passphrase): "kdf" and "aead" are
 * null and "seed" holds the seed.  Either way, opening checks that the
 * seed really gives the stated public key.
 *
 * Parsing is strict: exactly the fields of the form, each of its JSON
 * type, base64url without padding of the exact length (libsodium refuses
 * non-zero trailing bits), KDF parameters inside fixed bounds so that a
 * crafted file cannot make Argon2id allocate gigabytes.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "identity_internal.h"

#define B64	  sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ALG_NAME  "argon2id13"
#define AEAD_NAME "xchacha20poly1305-ietf"

static bool kdf_params_ok(uint64_t ops, uint64_t mem)
{
	return ops >= HL_ID_KDF_OPS_MIN && ops <= HL_ID_KDF_OPS_MAX &&
	       mem >= HL_ID_KDF_MEM_MIN && mem <= HL_ID_KDF_MEM_MAX;
}

size_t hl_identity_file_aad(const struct hl_identity_file *f,
			    uint8_t aad[HL_ID_AAD_MAX])
{
	size_t n = 0, name_len = strlen(f->name);

	/* §5.1: the label is sent with its terminating NUL. */
	memcpy(aad, HL_ID_AAD_LABEL, sizeof(HL_ID_AAD_LABEL));
	n += sizeof(HL_ID_AAD_LABEL);
	memcpy(aad + n, f->name, name_len);
	n += name_len;
	aad[n++] = 0;
	memcpy(aad + n, f->pk, HL_ID_PK_LEN);
	n += HL_ID_PK_LEN;
	hl_put_be64(aad + n, f->opslimit);
	n += 8;
	hl_put_be64(aad + n, f->memlimit);
	n += 8;
	memcpy(aad + n, f->salt, HL_ID_SALT_LEN);
	n += HL_ID_SALT_LEN;
	return n;
}

/* ---- parsing ---------------------------------------------------------- */

/*
 * Overwrite jansson's copy of a clear seed before the tree is freed
 * (string values are not hashed, so writing into one is harmless).
 */
static void wipe_seed(json_t *root)
{
	json_t *s = json_object_get(root, "seed");

	if (json_is_string(s))
		hl_wipe((char *)json_string_value(s), json_string_length(s));
}

/* Exactly n bytes of base64url without padding from a JSON string. */
static int get_b64(json_t *v, uint8_t *out, size_t n)
{
	const char *s, *end = NULL;
	size_t sl, bin_len = 0;

	if (!json_is_string(v))
		return HL_EPARSE;
	s = json_string_value(v);
	sl = json_string_length(v);
	if (sl != sodium_base64_ENCODED_LEN(n, B64) - 1)
		return HL_EPARSE;
	if (sodium_base642bin(out, n, s, sl, NULL, &bin_len, &end, B64) != 0 ||
	    bin_len != n || end != s + sl)
		return HL_EPARSE;
	return 0;
}

/* An integer member within [lo, hi]. */
static int get_u64(json_t *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return HL_EPARSE;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < lo || (uint64_t)i > hi)
		return HL_EPARSE;
	*out = (uint64_t)i;
	return 0;
}

/* Whether obj has exactly the n members named in keys. */
static bool has_exactly(json_t *obj, const char *const *keys, size_t n)
{
	if (json_object_size(obj) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!json_object_get(obj, keys[i]))
			return false;
	return true;
}

static int parse_kdf(struct hl_identity_file *f, json_t *kdf)
{
	static const char *const keys[] = {"alg", "opslimit", "memlimit",
					   "salt"};
	json_t *alg = json_object_get(kdf, "alg");
	int err;

	if (!json_is_string(alg))
		return HL_EPARSE;
	if (strcmp(json_string_value(alg), ALG_NAME) != 0)
		return HL_EUNSUPPORTED;
	if (!has_exactly(kdf, keys, HL_ARRAY_SIZE(keys)))
		return HL_EPARSE;
	err = get_u64(json_object_get(kdf, "opslimit"), HL_ID_KDF_OPS_MIN,
		      HL_ID_KDF_OPS_MAX, &f->opslimit);
	if (!err)
		err = get_u64(json_object_get(kdf, "memlimit"),
			      HL_ID_KDF_MEM_MIN, HL_ID_KDF_MEM_MAX,
			      &f->memlimit);
	if (!err)
		err = get_b64(json_object_get(kdf, "salt"), f->salt,
			      HL_ID_SALT_LEN);
	return err;
}

static int parse_root(struct hl_identity_file *f, json_t *root)
{
	static const char *const sealed_keys[] = {
		"version", "name",  "public_key",  "kdf",
		"aead",	   "nonce", "sealed_seed",
	};
	static const char *const clear_keys[] = {
		"version", "name", "public_key", "kdf", "aead", "seed",
	};
	json_t *v, *kdf, *aead;
	const char *name;
	int err;

	if (!json_is_object(root))
		return HL_EPARSE;
	/* The version first: a newer file may have other fields. */
	v = json_object_get(root, "version");
	if (!json_is_integer(v))
		return HL_EPARSE;
	if (json_integer_value(v) > HL_ID_FILE_VERSION)
		return HL_EUNSUPPORTED;
	if (json_integer_value(v) != HL_ID_FILE_VERSION)
		return HL_EPARSE;

	v = json_object_get(root, "name");
	if (!json_is_string(v))
		return HL_EPARSE;
	name = json_string_value(v);
	if (json_string_length(v) > HL_ID_NAME_MAX ||
	    strlen(name) != json_string_length(v) ||
	    !hl_identity_name_valid(name))
		return HL_EPARSE;
	memcpy(f->name, name, json_string_length(v) + 1);

	v = json_object_get(root, "public_key");
	if (!json_is_string(v) ||
	    hl_pubkey_from_text(json_string_value(v), f->pk) != 0)
		return HL_EPARSE;

	kdf = json_object_get(root, "kdf");
	aead = json_object_get(root, "aead");
	if (json_is_null(kdf)) {
		if (!json_is_null(aead) ||
		    !has_exactly(root, clear_keys, HL_ARRAY_SIZE(clear_keys)))
			return HL_EPARSE;
		f->sealed = false;
		return get_b64(json_object_get(root, "seed"), f->seed,
			       HL_ID_SEED_LEN);
	}
	if (!json_is_object(kdf) || !json_is_string(aead))
		return HL_EPARSE;
	err = parse_kdf(f, kdf);
	if (err)
		return err;
	if (strcmp(json_string_value(aead), AEAD_NAME) != 0)
		return HL_EUNSUPPORTED;
	if (!has_exactly(root, sealed_keys, HL_ARRAY_SIZE(sealed_keys)))
		return HL_EPARSE;
	f->sealed = true;
	err = get_b64(json_object_get(root, "nonce"), f->nonce,
		      HL_ID_NONCE_LEN);
	if (!err)
		err = get_b64(json_object_get(root, "sealed_seed"),
			      f->sealed_seed, HL_ID_SEALED_LEN);
	return err;
}

int hl_identity_file_parse(struct hl_identity_file *f, const char *text,
			   size_t len)
{
	struct hl_identity_file tmp;
	json_error_t jerr;
	json_t *root;
	int err;

	if (!f || (!text && len))
		return HL_EINVAL;
	if (len > HL_ID_FILE_MAX)
		return HL_ETOOBIG;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return HL_EPARSE;
	memset(&tmp, 0, sizeof(tmp));
	err = parse_root(&tmp, root);
	wipe_seed(root);
	json_decref(root);
	if (!err)
		*f = tmp;
	hl_wipe(&tmp, sizeof(tmp));
	return err;
}

/* ---- writing ---------------------------------------------------------- */

/* base64url (no padding) of n bytes into out (cap bytes). */
static void put_b64(char *out, size_t cap, const uint8_t *in, size_t n)
{
	sodium_bin2base64(out, cap, in, n, B64);
}

int hl_identity_file_format(const struct hl_identity_file *f, char **out,
			    size_t *len)
{
	char pk_text[HL_ID_TEXT_LEN + 1];
	char salt[sodium_base64_ENCODED_LEN(HL_ID_SALT_LEN, B64)];
	char nonce[sodium_base64_ENCODED_LEN(HL_ID_NONCE_LEN, B64)];
	char sealed[sodium_base64_ENCODED_LEN(HL_ID_SEALED_LEN, B64)];
	char seed[sodium_base64_ENCODED_LEN(HL_ID_SEED_LEN, B64)];
	json_t *root = NULL;
	char *buf = NULL;
	size_t n = 0;
	int err = 0;

	if (!f || !out || !len || !hl_identity_name_valid(f->name) ||
	    (f->sealed && !kdf_params_ok(f->opslimit, f->memlimit)))
		return HL_EINVAL;
	hl_pubkey_to_text(f->pk, pk_text);
	if (f->sealed) {
		put_b64(salt, sizeof(salt), f->salt, HL_ID_SALT_LEN);
		put_b64(nonce, sizeof(nonce), f->nonce, HL_ID_NONCE_LEN);
		put_b64(sealed, sizeof(sealed), f->sealed_seed,
			HL_ID_SEALED_LEN);
		root = json_pack("{s:i, s:s, s:s, s:{s:s, s:I, s:I, s:s}, "
				 "s:s, s:s, s:s}",
				 "version", HL_ID_FILE_VERSION, "name", f->name,
				 "public_key", pk_text, "kdf", "alg", ALG_NAME,
				 "opslimit", (json_int_t)f->opslimit,
				 "memlimit", (json_int_t)f->memlimit, "salt",
				 salt, "aead", AEAD_NAME, "nonce", nonce,
				 "sealed_seed", sealed);
	} else {
		put_b64(seed, sizeof(seed), f->seed, HL_ID_SEED_LEN);
		root = json_pack("{s:i, s:s, s:s, s:n, s:n, s:s}", "version",
				 HL_ID_FILE_VERSION, "name", f->name,
				 "public_key", pk_text, "kdf", "aead", "seed",
				 seed);
		hl_wipe(seed, sizeof(seed));
	}
	if (!root) {
		err = HL_ENOMEM; /* the name was checked: only memory fails */
		goto out;
	}
	n = json_dumpb(root, NULL, 0, JSON_INDENT(2));
	if (n == 0) {
		err = HL_ENOMEM;
		goto out;
	}
	buf = hl_malloc(n + 2);
	if (!buf) {
		err = HL_ENOMEM;
		goto out;
	}
	if (json_dumpb(root, buf, n, JSON_INDENT(2)) != n) {
		err = HL_ENOMEM;
		goto out;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*out = buf;
	*len = n + 1;
	buf = NULL;
out:
	if (root) {
		wipe_seed(root);
		json_decref(root);
	}
	if (buf) {
		hl_wipe(buf, n + 2);
		hl_free(buf);
	}
	return err;
}

/* ---- sealing ---------------------------------------------------------- */

/* Argon2id13 of the passphrase into key (32 bytes). */
static int stretch(uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES],
		   const char *passphrase, const struct hl_identity_file *f)
{
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
			  passphrase, strlen(passphrase), f->salt,
			  (unsigned long long)f->opslimit, (size_t)f->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return errno == ENOMEM ? HL_ENOMEM : HL_ECRYPTO;
	return 0;
}

/* Whether id is a whole identity: a valid name and a seed that gives pk. */
static bool identity_ok(const struct hl_identity *id)
{
	uint8_t pk[HL_ID_PK_LEN], sk[HL_ID_SK_LEN];
	bool ok;

	if (!id || !hl_identity_name_valid(id->name))
		return false;
	crypto_sign_seed_keypair(pk, sk, id->sk);
	ok = hl_ct_equal(pk, id->pk, HL_ID_PK_LEN) &&
	     hl_ct_equal(sk, id->sk, HL_ID_SK_LEN);
	hl_wipe(sk, sizeof(sk));
	return ok;
}

int hl_identity_file_seal(struct hl_identity_file *f,
			  const struct hl_identity *id, const char *passphrase,
			  uint64_t opslimit, uint64_t memlimit,
			  const struct hl_rng *rng)
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t aad[HL_ID_AAD_MAX];
	unsigned long long clen = 0;
	size_t aad_len;
	int err;

	if (!f || sodium_init() < 0)
		return f ? HL_ECRYPTO : HL_EINVAL;
	if (!identity_ok(id) || (passphrase && !*passphrase))
		return HL_EINVAL;
	memset(f, 0, sizeof(*f));
	memcpy(f->name, id->name, sizeof(f->name));
	memcpy(f->pk, id->pk, HL_ID_PK_LEN);
	if (!passphrase) {
		memcpy(f->seed, id->sk, HL_ID_SEED_LEN);
		return 0;
	}
	if (!rng || !rng->fill || !kdf_params_ok(opslimit, memlimit))
		return HL_EINVAL;
	f->sealed = true;
	f->opslimit = opslimit;
	f->memlimit = memlimit;
	rng->fill(rng->ctx, f->salt, HL_ID_SALT_LEN);
	rng->fill(rng->ctx, f->nonce, HL_ID_NONCE_LEN);
	err = stretch(key, passphrase, f);
	if (err)
		goto out;
	aad_len = hl_identity_file_aad(f, aad);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
		    f->sealed_seed, &clen, id->sk, HL_ID_SEED_LEN, aad, aad_len,
		    NULL, f->nonce, key) != 0 ||
	    clen != HL_ID_SEALED_LEN)
		err = HL_ECRYPTO;
out:
	hl_wipe(key, sizeof(key));
	return err;
}

int hl_identity_file_open(const struct hl_identity_file *f,
			  const char *passphrase, struct hl_identity *id)
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t seed[HL_ID_SEED_LEN];
	uint8_t pk[HL_ID_PK_LEN], sk[HL_ID_SK_LEN];
	uint8_t aad[HL_ID_AAD_MAX];
	unsigned long long mlen = 0;
	size_t aad_len;
	int err = 0;

	if (!f || !id)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	if (!f->sealed) {
		memcpy(seed, f->seed, sizeof(seed));
	} else {
		if (!passphrase)
			return HL_ESTATE;
		if (!kdf_params_ok(f->opslimit, f->memlimit))
			return HL_EINVAL;
		err = stretch(key, passphrase, f);
		if (err)
			goto out;
		aad_len = hl_identity_file_aad(f, aad);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
			    seed, &mlen, NULL, f->sealed_seed, HL_ID_SEALED_LEN,
			    aad, aad_len, f->nonce, key) != 0 ||
		    mlen != HL_ID_SEED_LEN) {
			err = HL_EAUTH;
			goto out;
		}
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	if (!hl_ct_equal(pk, f->pk, HL_ID_PK_LEN)) {
		err = HL_EAUTH;
		goto out;
	}
	memset(id, 0, sizeof(*id));
	memcpy(id->name, f->name, sizeof(id->name));
	memcpy(id->pk, pk, HL_ID_PK_LEN);
	memcpy(id->sk, sk, HL_ID_SK_LEN);
out:
	hl_wipe(key, sizeof(key));
	hl_wipe(seed, sizeof(seed));
	hl_wipe(sk, sizeof(sk));
	return err;
}
