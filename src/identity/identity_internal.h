/*
 * identity_internal.h - private declarations of src/identity, shared with
 * src/home, the unit tests and the fuzz targets.
 *
 * Three pieces live here: the identity file as a plain struct with its
 * parser and writer (so the fuzz target can run them from memory), the
 * small file helpers every state file uses (bounded read, atomic
 * replace), and the Argon2id parameters with their sanity bounds.
 */
#ifndef HOTLINE_IDENTITY_INTERNAL_H
#define HOTLINE_IDENTITY_INTERNAL_H

#include "hotline/identity.h"

/*
 * Argon2id13 parameters written by hl_identity_save(): libsodium's
 * MODERATE (3 passes over 256 MiB), 0.42 s on the 2-core reference
 * machine (INTERACTIVE, 2 x 64 MiB, is 0.06 s; see README.md).
 */
#define HL_ID_KDF_OPS_DEFAULT 3ull
#define HL_ID_KDF_MEM_DEFAULT (256ull << 20)
/*
 * What a file may ask for on load.  Anything outside is refused with
 * HL_EPARSE before Argon2id runs, so a crafted file cannot make us
 * allocate without bound or spin for minutes.  The floor is libsodium's.
 */
#define HL_ID_KDF_OPS_MIN  1ull
#define HL_ID_KDF_OPS_MAX  10ull
#define HL_ID_KDF_MEM_MIN  8192ull	   /* crypto_pwhash_MEMLIMIT_MIN */
#define HL_ID_KDF_MEM_MAX  (1024ull << 20) /* libsodium's SENSITIVE */

#define HL_ID_FILE_MAX	   (64 * 1024) /* a larger identity.json is refused */
#define HL_ID_SALT_LEN	   16
#define HL_ID_NONCE_LEN	   24
#define HL_ID_SEED_LEN	   32
#define HL_ID_SEALED_LEN   48			 /* seed + Poly1305 tag */
#define HL_ID_AAD_LABEL	   "hotline identity v1" /* sent with its NUL */
#define HL_ID_FILE_VERSION 1

/* identity.json as data (docs/protocol.md §5.1). */
struct hl_identity_file {
	char name[HL_ID_NAME_MAX + 1];
	uint8_t pk[HL_ID_PK_LEN];
	bool sealed;
	/* sealed files */
	uint64_t opslimit;
	uint64_t memlimit;
	uint8_t salt[HL_ID_SALT_LEN];
	uint8_t nonce[HL_ID_NONCE_LEN];
	uint8_t sealed_seed[HL_ID_SEALED_LEN];
	/* files in clear: the secret seed (wipe the struct after use) */
	uint8_t seed[HL_ID_SEED_LEN];
};

/*
 * Parse identity.json text (len bytes, need not be NUL-terminated) into
 * *f.  Strict: exactly the fields of §5.1 for the sealed or the clear
 * form, each of its type, base64url without padding of the exact length,
 * KDF parameters inside the bounds above.  HL_EUNSUPPORTED for a version
 * above 1 or an unknown algorithm name, HL_EPARSE for anything else that
 * is wrong, HL_ETOOBIG over HL_ID_FILE_MAX.  *f is written only on
 * success; the caller wipes it (it may hold a seed).
 */
int hl_identity_file_parse(struct hl_identity_file *f, const char *text,
			   size_t len) HL_MUST_CHECK;
/*
 * Write *f as identity.json text into an hl_malloc'd NUL-terminated
 * buffer (*out, *len without the NUL).  The caller wipes and frees it.
 * HL_EINVAL if *f would not parse back (bad name, parameters out of
 * bounds).
 */
int hl_identity_file_format(const struct hl_identity_file *f, char **out,
			    size_t *len) HL_MUST_CHECK;
/*
 * Seal id into *f: Argon2id(passphrase, salt from rng, ops, mem) keys
 * XChaCha20-Poly1305 over the seed with the §5.1 associated data; with
 * passphrase NULL the seed is stored in clear.  The caller wipes *f.
 */
int hl_identity_file_seal(struct hl_identity_file *f,
			  const struct hl_identity *id, const char *passphrase,
			  uint64_t opslimit, uint64_t memlimit,
			  const struct hl_rng *rng) HL_MUST_CHECK;
/*
 * Recover the identity from a parsed file: HL_ESTATE if sealed and
 * passphrase is NULL, HL_EAUTH if the passphrase is wrong, anything was
 * altered, or the seed does not give the stated public key.  *id is
 * written only on success.
 */
int hl_identity_file_open(const struct hl_identity_file *f,
			  const char *passphrase,
			  struct hl_identity *id) HL_MUST_CHECK;
/* hl_identity_save() with chosen KDF parameters (tests use cheap ones). */
int hl_identity_save_params(const struct hl_identity *id, const char *path,
			    const char *passphrase, uint64_t opslimit,
			    uint64_t memlimit,
			    const struct hl_rng *rng) HL_MUST_CHECK;
/* The §5.1 associated data; returns its length (at most AAD_MAX). */
#define HL_ID_AAD_MAX                                                       \
	(sizeof(HL_ID_AAD_LABEL) + HL_ID_NAME_MAX + 1 + HL_ID_PK_LEN + 16 + \
	 HL_ID_SALT_LEN)
size_t hl_identity_file_aad(const struct hl_identity_file *f,
			    uint8_t aad[HL_ID_AAD_MAX]);

/* ---- files ------------------------------------------------------------ */

/*
 * Read the regular file at path into an hl_malloc'd NUL-terminated buffer
 * (*out, *len without the NUL), refusing more than max bytes with
 * HL_ETOOBIG without reading them.  HL_ENOTFOUND if it does not exist,
 * HL_EIO (errno kept; EISDIR or EINVAL for a folder or a device) for
 * anything else.  Never blocks on a FIFO.
 */
int hl_identity_fs_read(const char *path, size_t max, char **out,
			size_t *len) HL_MUST_CHECK;
/*
 * Replace path with data atomically: a new file "<path>.tmp.<pid>.<n>"
 * (O_CREAT|O_EXCL, mode 0600) is written in full, fsync'd, renamed over
 * path, and the folder is fsync'd.  On any failure before the rename the
 * temporary file is removed and path is untouched; HL_EIO (errno kept).
 * A failure of the final folder fsync is also HL_EIO, but by then path
 * holds the new content.
 */
int hl_identity_fs_write_atomic(const char *path, const void *data,
				size_t len) HL_MUST_CHECK;

/*
 * Test hook: when set to a step (1 create, 2 write, 3 file fsync,
 * 4 rename, 5 folder fsync) the next hl_identity_fs_write_atomic() fails there
 * with errno EIO as if the system call had, then the hook resets to 0.
 */
extern int hl_identity_fs_fault_step;

#endif /* HOTLINE_IDENTITY_INTERNAL_H */
