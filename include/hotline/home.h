/*
 * hotline/home.h - the client's state folder (--home DIR).
 *
 * Layout (docs/protocol.md §5.6):
 *   identity.json            the sealed identity (hotline/identity.h)
 *   contacts.json            pinned contacts: name -> public key
 *   servers.json             pinned server certificate fingerprints
 *   contracts/CALLID.json    contracts this identity is a party of
 * Every write is atomic (temporary file in the same folder, fsync,
 * rename, fsync of the folder), so a crash never leaves half a file; the
 * folder is created with mode 0700 and files with 0600.  Readers refuse
 * malformed files with HL_EPARSE rather than guessing.
 */
#ifndef HOTLINE_HOME_H
#define HOTLINE_HOME_H

#include "hotline/base.h"
#include "hotline/identity.h"

#define HL_HOME_PATH_MAX     4096
#define HL_HOME_MAX_CONTACTS 10000

struct hl_home;

/*
 * Open (create: make it and missing parents, 0700, if missing) the folder
 * dir; *out is freed with hl_home_close().  HL_ENOTFOUND if missing and
 * !create, HL_EIO (errno kept; ENOTDIR) if it is not a folder.
 */
int hl_home_open(struct hl_home **out, const char *dir,
		 bool create) HL_MUST_CHECK;
void hl_home_close(struct hl_home *h);
const char *hl_home_dir(const struct hl_home *h);
/* dir/name into buf; HL_ETOOBIG if it does not fit.  name is relative,
 * without empty, "." or ".." components (else HL_EINVAL); so for all. */
int hl_home_path(const struct hl_home *h, const char *name, char *buf,
		 size_t cap) HL_MUST_CHECK;

/* Atomically replace dir/name with data (mode 0600), making the
 * subfolders name needs ("contracts/") with mode 0700. */
int hl_home_write(const struct hl_home *h, const char *name, const void *data,
		  size_t len) HL_MUST_CHECK;
/* Read dir/name (at most max bytes) into an hl_malloc'd NUL-terminated
 * buffer.  HL_ENOTFOUND if it does not exist. */
int hl_home_read(const struct hl_home *h, const char *name, size_t max,
		 char **out, size_t *len) HL_MUST_CHECK;

/* ---- contacts ------------------------------------------------------- */

struct hl_contact {
	char name[HL_ID_NAME_MAX + 1];
	uint8_t pk[HL_ID_PK_LEN];
	uint64_t added; /* Unix seconds */
};

/* All contacts, sorted by name; *list is hl_malloc'd (NULL when none, also
 * when there is no contacts.json).  HL_EPARSE for a malformed file. */
int hl_home_contacts(const struct hl_home *h, struct hl_contact **list,
		     size_t *n) HL_MUST_CHECK;
/*
 * Pin name -> pk.  The same pair again is a no-op.  HL_ECONFLICT when the
 * name is pinned to another key (*other gets that key) or the key is
 * pinned under another name (*other_name gets it); nothing is changed.
 * On conflict both are set: other to zeros if the name is free,
 * other_name to "" if the key is free; either may be NULL.  HL_EINVAL for
 * an invalid name or a pk that is not a valid Ed25519 key, HL_EFULL at
 * HL_HOME_MAX_CONTACTS.
 */
int hl_home_contact_add(struct hl_home *h, const char *name,
			const uint8_t pk[HL_ID_PK_LEN], uint64_t now_unix,
			uint8_t other[HL_ID_PK_LEN],
			char other_name[HL_ID_NAME_MAX + 1]) HL_MUST_CHECK;
/* Look up by name or by key; HL_ENOTFOUND if not pinned. */
int hl_home_contact_by_name(const struct hl_home *h, const char *name,
			    struct hl_contact *out) HL_MUST_CHECK;
int hl_home_contact_by_key(const struct hl_home *h,
			   const uint8_t pk[HL_ID_PK_LEN],
			   struct hl_contact *out) HL_MUST_CHECK;

/* ---- servers -------------------------------------------------------- */

/* The pinned SHA-256 fingerprint of url's certificate; HL_ENOTFOUND. */
int hl_home_server_pin(const struct hl_home *h, const char *url,
		       uint8_t fp[32]) HL_MUST_CHECK;
/* Pin on first use; HL_ECONFLICT if another fingerprint is pinned (the
 * same one again is a no-op).  url is compared as an exact string of
 * 1..2048 printable ASCII bytes without spaces (else HL_EINVAL). */
int hl_home_server_pin_set(struct hl_home *h, const char *url,
			   const uint8_t fp[32]) HL_MUST_CHECK;

#endif /* HOTLINE_HOME_H */
