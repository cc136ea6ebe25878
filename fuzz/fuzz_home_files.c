/*
 * fuzz_home_files.c - libFuzzer target for the parsers of contacts.json
 * and servers.json (src/home, docs/protocol.md §5.6).
 *
 * The first input byte picks the file (even: contacts, odd: servers); the
 * rest is its text.  Invariants (abort() on violation):
 *  1. a parsed list is within its bound, sorted, without duplicate names,
 *     keys or URLs, and every entry is valid (name rules, a real key, a
 *     URL that can be pinned);
 *  2. parse -> format -> parse gives the same list;
 *  3. no hl_malloc block is leaked.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/home.h"
#include "../src/home/home_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_contacts(const char *text, size_t len)
{
	struct hl_contact *l = NULL, *l2 = NULL;
	uint8_t pk[HL_ID_PK_LEN];
	char canon[HL_ID_TEXT_LEN + 1];
	char *out = NULL;
	size_t n = 0, n2 = 0, olen = 0;
	int err;

	if (hl_home_contacts_parse(text, len, &l, &n) != 0)
		return;
	if (n > HL_HOME_MAX_CONTACTS || (n == 0) != (l == NULL))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!hl_identity_name_valid(l[i].name) ||
		    (i && strcmp(l[i - 1].name, l[i].name) >= 0))
			abort();
		hl_pubkey_to_text(l[i].pk, canon);
		if (hl_pubkey_from_text(canon, pk) != 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (memcmp(l[i].pk, l[j].pk, HL_ID_PK_LEN) == 0)
				abort();
	}
	err = hl_home_contacts_format(l, n, &out, &olen);
	if (err == HL_ENOMEM)
		goto out;
	if (err || hl_home_contacts_parse(out, olen, &l2, &n2) != 0 || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, l2[i].name) != 0 ||
		    memcmp(l[i].pk, l2[i].pk, HL_ID_PK_LEN) != 0 ||
		    l[i].added != l2[i].added)
			abort();
out:
	hl_free(out);
	hl_free(l);
	hl_free(l2);
}

static void check_servers(const char *text, size_t len)
{
	struct hl_home_server *l = NULL, *l2 = NULL;
	char *out = NULL;
	size_t n = 0, n2 = 0, olen = 0;
	int err;

	if (hl_home_servers_parse(text, len, &l, &n) != 0)
		return;
	if (n > HL_HOME_MAX_SERVERS || (n == 0) != (l == NULL))
		abort();
	for (size_t i = 0; i < n; i++)
		if (!hl_home_url_ok(l[i].url) ||
		    (i && strcmp(l[i - 1].url, l[i].url) >= 0))
			abort();
	err = hl_home_servers_format(l, n, &out, &olen);
	if (err == HL_ENOMEM)
		goto out;
	if (err || hl_home_servers_parse(out, olen, &l2, &n2) != 0 || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].url, l2[i].url) != 0 ||
		    memcmp(l[i].fp, l2[i].fp, sizeof(l[i].fp)) != 0)
			abort();
out:
	hl_free(out);
	hl_free(l);
	hl_free(l2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();

	if (size >= 1) {
		if (data[0] & 1)
			check_servers((const char *)data + 1, size - 1);
		else
			check_contacts((const char *)data + 1, size - 1);
	}
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
