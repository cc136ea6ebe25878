/*
 * identity.c - long-term identities: names, key generation, signatures,
 * and saving/loading identity.json (docs/protocol.md §5.1).
 *
 * The key pair is libsodium's Ed25519 (RFC 8032 §5.1) made from a 32-byte
 * seed drawn from the injected struct hl_rng; signatures are
 * crypto_sign_detached / crypto_sign_verify_detached.  The file format and
 * its sealing live in idfile.c, the atomic write in fs.c.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "identity_internal.h"

/*
 * Code points refused in names besides the C0/C1 controls and DEL: line
 * and paragraph separators and the bidirectional formatting characters,
 * with which a name could be made to display as another ("Trojan Source",
 * CVE-2021-42574).
 */
static bool refused_code_point(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x061c || cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
	       cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Decode one UTF-8 sequence at s (RFC 3629 §4: shortest form only, no
 * surrogates, at most U+10FFFF).  Returns its length, 0 if invalid.
 */
static size_t utf8_next(const uint8_t *s, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

bool hl_identity_name_valid(const char *name)
{
	const uint8_t *s = (const uint8_t *)name;
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, HL_ID_NAME_MAX + 1);
	if (len == 0 || len > HL_ID_NAME_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, &cp);

		if (n == 0 || refused_code_point(cp))
			return false;
		i += n;
	}
	return true;
}

int hl_identity_generate(struct hl_identity *id, const char *name,
			 const struct hl_rng *rng)
{
	uint8_t seed[HL_ID_SEED_LEN];

	if (!id || !rng || !rng->fill || !hl_identity_name_valid(name))
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	rng->fill(rng->ctx, seed, sizeof(seed));
	memset(id, 0, sizeof(*id));
	memcpy(id->name, name, strlen(name) + 1);
	/* RFC 8032 §5.1.5: the seed is the private key. */
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	hl_wipe(seed, sizeof(seed));
	return 0;
}

void hl_identity_wipe(struct hl_identity *id)
{
	if (id)
		hl_wipe(id, sizeof(*id));
}

int hl_identity_sign(const struct hl_identity *id, const uint8_t *msg,
		     size_t len, uint8_t sig[HL_ID_SIG_LEN])
{
	if (!id || (!msg && len) || !sig)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	/* RFC 8032 §5.1.6 */
	if (crypto_sign_detached(sig, NULL, msg, len, id->sk) != 0)
		return HL_ECRYPTO;
	return 0;
}

int hl_identity_verify(const uint8_t pk[HL_ID_PK_LEN], const uint8_t *msg,
		       size_t len, const uint8_t sig[HL_ID_SIG_LEN])
{
	if (!pk || (!msg && len) || !sig)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	/*
	 * RFC 8032 §5.1.7, as libsodium 1.0.18 does it: S must be below L,
	 * R and A must not be of small order, A must be canonical, and the
	 * check is the cofactorless [S]B = R + [k]A with R compared as
	 * bytes (so a non-canonical R never matches).
	 */
	if (crypto_sign_verify_detached(sig, msg, len, pk) != 0)
		return HL_EAUTH;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

int hl_identity_save_params(const struct hl_identity *id, const char *path,
			    const char *passphrase, uint64_t opslimit,
			    uint64_t memlimit, const struct hl_rng *rng)
{
	struct hl_identity_file f;
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!path)
		return HL_EINVAL;
	err = hl_identity_file_seal(&f, id, passphrase, opslimit, memlimit,
				    rng);
	if (!err)
		err = hl_identity_file_format(&f, &text, &len);
	if (!err)
		err = hl_identity_fs_write_atomic(path, text, len);
	hl_wipe(&f, sizeof(f));
	if (text) {
		int saved = errno;

		hl_wipe(text, len);
		hl_free(text);
		errno = saved;
	}
	return err;
}

int hl_identity_save(const struct hl_identity *id, const char *path,
		     const char *passphrase, const struct hl_rng *rng)
{
	return hl_identity_save_params(id, path, passphrase,
				       HL_ID_KDF_OPS_DEFAULT,
				       HL_ID_KDF_MEM_DEFAULT, rng);
}

/* Read and parse path; errors as hl_identity_load() has them. */
static int read_file(const char *path, struct hl_identity_file *f)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!path)
		return HL_EINVAL;
	err = hl_identity_fs_read(path, HL_ID_FILE_MAX, &text, &len);
	if (err == HL_ENOTFOUND) {
		errno = ENOENT;
		return HL_EIO;
	}
	if (err == HL_ETOOBIG)
		return HL_EPARSE; /* not an identity file */
	if (err)
		return err;
	err = hl_identity_file_parse(f, text, len);
	hl_wipe(text, len);
	hl_free(text);
	return err;
}

int hl_identity_load(struct hl_identity *id, const char *path,
		     const char *passphrase)
{
	struct hl_identity_file f;
	int err;

	if (!id)
		return HL_EINVAL;
	err = read_file(path, &f);
	if (!err)
		err = hl_identity_file_open(&f, passphrase, id);
	hl_wipe(&f, sizeof(f));
	return err;
}

int hl_identity_file_sealed(const char *path, bool *sealed)
{
	struct hl_identity_file f;
	int err;

	if (!sealed)
		return HL_EINVAL;
	err = read_file(path, &f);
	if (!err)
		*sealed = f.sealed;
	hl_wipe(&f, sizeof(f));
	return err;
}
