/*
 * home_internal.h - private declarations of src/home, shared with the
 * unit tests and the fuzz target: the parsers and writers of
 * contacts.json and servers.json working from memory.
 */
#ifndef HOTLINE_HOME_INTERNAL_H
#define HOTLINE_HOME_INTERNAL_H

#include <jansson.h>

#include "hotline/home.h"

#define HL_HOME_CONTACTS_FILE "contacts.json"
#define HL_HOME_SERVERS_FILE  "servers.json"
#define HL_HOME_FILE_VERSION  1
/* Bounds on what a file may hold (larger files are refused unread). */
#define HL_HOME_CONTACTS_BYTES ((size_t)HL_HOME_MAX_CONTACTS * 1024 + 4096)
#define HL_HOME_MAX_SERVERS    1000
#define HL_HOME_URL_MAX	       2048
#define HL_HOME_SERVERS_BYTES \
	((size_t)HL_HOME_MAX_SERVERS * (HL_HOME_URL_MAX + 256) + 4096)

struct hl_home {
	char *dir; /* hl_malloc'd, no trailing slash (unless it is "/") */
};

struct hl_home_server {
	char url[HL_HOME_URL_MAX + 1];
	uint8_t fp[32];
};

/* Whether name is a safe path inside the folder: relative, no empty,
 * "." or ".." component, no trailing slash. */
bool hl_home_name_ok(const char *name);

/* Whether url can be pinned: 1..HL_HOME_URL_MAX printable ASCII bytes
 * without spaces (a URL is compared as an exact string). */
bool hl_home_url_ok(const char *url);

/*
 * contacts.json text (len bytes) to a list sorted by name (*list
 * hl_malloc'd, NULL when empty).  HL_EPARSE for anything malformed,
 * including a name or a key that appears twice or more than
 * HL_HOME_MAX_CONTACTS entries; HL_EUNSUPPORTED for a newer version.
 */
int hl_home_contacts_parse(const char *text, size_t len,
			   struct hl_contact **list, size_t *n) HL_MUST_CHECK;
/* The list (n entries, any order) as contacts.json text in an hl_malloc'd
 * NUL-terminated buffer; HL_EINVAL if an entry would not parse back. */
int hl_home_contacts_format(const struct hl_contact *list, size_t n, char **out,
			    size_t *len) HL_MUST_CHECK;

/* servers.json, likewise (sorted by URL). */
int hl_home_servers_parse(const char *text, size_t len,
			  struct hl_home_server **list,
			  size_t *n) HL_MUST_CHECK;
int hl_home_servers_format(const struct hl_home_server *list, size_t n,
			   char **out, size_t *len) HL_MUST_CHECK;

/*
 * The common frame of both files: parse text as {"version": 1, key: [...]}
 * with nothing else in it.  On success *root (to json_decref) and *array
 * (borrowed from it) are set.  HL_EUNSUPPORTED for a newer version,
 * HL_EPARSE otherwise.
 */
int hl_home_json_open(const char *text, size_t len, const char *key,
		      json_t **root, json_t **array) HL_MUST_CHECK;
/* root as indented JSON text plus a newline, in an hl_malloc'd
 * NUL-terminated buffer. */
int hl_home_json_dump(json_t *root, char **out, size_t *len) HL_MUST_CHECK;

#endif /* HOTLINE_HOME_INTERNAL_H */
