/*
 * contacts.c - contacts.json: pinned name -> public key
 * (docs/protocol.md §5.6).
 *
 *   {"version": 1, "contacts": [{"name": N, "public_key": TEXT,
 *                                "added": UNIX_SECONDS}, ...]}
 *
 * A pin is a one-to-one binding: no name and no key appears twice.  Adding
 * a pair that contradicts a pin (the name bound to another key, or the key
 * bound to another name) is refused with HL_ECONFLICT and nothing is
 * written; the caller shows the user what is already pinned.  The file is
 * rewritten whole (atomically) on every change and kept sorted by name.
 */
#include <string.h>

#include <sodium.h>

#include "home_internal.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct hl_contact *)a)->name,
		      ((const struct hl_contact *)b)->name);
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(((const struct hl_contact *)a)->pk,
		      ((const struct hl_contact *)b)->pk, HL_ID_PK_LEN);
}

/* One entry: exactly {name, public_key, added}. */
static int parse_entry(json_t *e, struct hl_contact *c)
{
	json_t *name = json_object_get(e, "name");
	json_t *key = json_object_get(e, "public_key");
	json_t *added = json_object_get(e, "added");

	if (!json_is_object(e) || json_object_size(e) != 3 ||
	    !json_is_string(name) || !json_is_string(key) ||
	    !json_is_integer(added))
		return HL_EPARSE;
	if (json_string_length(name) > HL_ID_NAME_MAX ||
	    strlen(json_string_value(name)) != json_string_length(name) ||
	    !hl_identity_name_valid(json_string_value(name)))
		return HL_EPARSE;
	if (hl_pubkey_from_text(json_string_value(key), c->pk) != 0)
		return HL_EPARSE;
	if (json_integer_value(added) < 0)
		return HL_EPARSE;
	memcpy(c->name, json_string_value(name), json_string_length(name) + 1);
	c->added = (uint64_t)json_integer_value(added);
	return 0;
}

int hl_home_contacts_parse(const char *text, size_t len,
			   struct hl_contact **list, size_t *n)
{
	struct hl_contact *l = NULL;
	json_t *root = NULL, *arr;
	size_t cnt;
	int err;

	if (!list || !n)
		return HL_EINVAL;
	err = hl_home_json_open(text, len, "contacts", &root, &arr);
	if (err)
		return err;
	cnt = json_array_size(arr);
	if (cnt > HL_HOME_MAX_CONTACTS) {
		err = HL_EPARSE;
		goto out;
	}
	if (cnt) {
		l = hl_calloc(cnt, sizeof(*l));
		if (!l) {
			err = HL_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < cnt; i++) {
		err = parse_entry(json_array_get(arr, i), &l[i]);
		if (err)
			goto out;
	}
	/* No key and no name twice: a file that pins both ways is not one
	 * we wrote, and we will not guess which pin is right. */
	if (cnt > 1) {
		qsort(l, cnt, sizeof(*l), cmp_key);
		for (size_t i = 1; i < cnt; i++)
			if (cmp_key(&l[i - 1], &l[i]) == 0)
				err = HL_EPARSE;
		qsort(l, cnt, sizeof(*l), cmp_name);
		for (size_t i = 1; i < cnt; i++)
			if (cmp_name(&l[i - 1], &l[i]) == 0)
				err = HL_EPARSE;
		if (err)
			goto out;
	}
	*list = l;
	*n = cnt;
	l = NULL;
out:
	hl_free(l);
	json_decref(root);
	return err;
}

int hl_home_contacts_format(const struct hl_contact *list, size_t n, char **out,
			    size_t *len)
{
	char text[HL_ID_TEXT_LEN + 1];
	json_t *root, *arr, *e;
	int err = 0;

	if ((!list && n) || !out || !len || n > HL_HOME_MAX_CONTACTS)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	for (size_t i = 0; i < n; i++)
		if (!hl_identity_name_valid(list[i].name) ||
		    !crypto_core_ed25519_is_valid_point(list[i].pk) ||
		    list[i].added > INT64_MAX)
			return HL_EINVAL;
	root = json_pack("{s:i, s:[]}", "version", HL_HOME_FILE_VERSION,
			 "contacts");
	if (!root)
		return HL_ENOMEM;
	arr = json_object_get(root, "contacts");
	for (size_t i = 0; i < n; i++) {
		hl_pubkey_to_text(list[i].pk, text);
		e = json_pack("{s:s, s:s, s:I}", "name", list[i].name,
			      "public_key", text, "added",
			      (json_int_t)list[i].added);
		if (!e || json_array_append_new(arr, e) != 0) {
			err = HL_ENOMEM;
			goto out;
		}
	}
	err = hl_home_json_dump(root, out, len);
out:
	json_decref(root);
	return err;
}

int hl_home_contacts(const struct hl_home *h, struct hl_contact **list,
		     size_t *n)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!h || !list || !n)
		return HL_EINVAL;
	err = hl_home_read(h, HL_HOME_CONTACTS_FILE, HL_HOME_CONTACTS_BYTES,
			   &text, &len);
	if (err == HL_ENOTFOUND) {
		*list = NULL;
		*n = 0;
		return 0;
	}
	if (err == HL_ETOOBIG)
		return HL_EPARSE;
	if (err)
		return err;
	err = hl_home_contacts_parse(text, len, list, n);
	hl_free(text);
	return err;
}

static const struct hl_contact *find_name(const struct hl_contact *l, size_t n,
					  const char *name)
{
	struct hl_contact key;

	if (strlen(name) > HL_ID_NAME_MAX)
		return NULL;
	memcpy(key.name, name, strlen(name) + 1);
	return n ? bsearch(&key, l, n, sizeof(*l), cmp_name) : NULL;
}

static const struct hl_contact *find_key(const struct hl_contact *l, size_t n,
					 const uint8_t pk[HL_ID_PK_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(l[i].pk, pk, HL_ID_PK_LEN) == 0)
			return &l[i];
	return NULL;
}

int hl_home_contact_add(struct hl_home *h, const char *name,
			const uint8_t pk[HL_ID_PK_LEN], uint64_t now_unix,
			uint8_t other[HL_ID_PK_LEN],
			char other_name[HL_ID_NAME_MAX + 1])
{
	const struct hl_contact *by_name, *by_key;
	struct hl_contact *l = NULL, *nl = NULL;
	char *text = NULL;
	size_t n = 0, len = 0;
	int err;

	if (!h || !hl_identity_name_valid(name) || !pk || now_unix > INT64_MAX)
		return HL_EINVAL;
	if (sodium_init() < 0)
		return HL_ECRYPTO;
	if (!crypto_core_ed25519_is_valid_point(pk))
		return HL_EINVAL;
	err = hl_home_contacts(h, &l, &n);
	if (err)
		return err;
	by_name = find_name(l, n, name);
	by_key = find_key(l, n, pk);
	if (by_name && by_name == by_key)
		goto out; /* already pinned, exactly so */
	if (by_name || by_key) {
		if (other) {
			if (by_name)
				memcpy(other, by_name->pk, HL_ID_PK_LEN);
			else
				memset(other, 0, HL_ID_PK_LEN);
		}
		if (other_name) {
			if (by_key)
				memcpy(other_name, by_key->name,
				       sizeof(by_key->name));
			else
				other_name[0] = '\0';
		}
		err = HL_ECONFLICT;
		goto out;
	}
	if (n >= HL_HOME_MAX_CONTACTS) {
		err = HL_EFULL;
		goto out;
	}
	nl = hl_calloc(n + 1, sizeof(*nl));
	if (!nl) {
		err = HL_ENOMEM;
		goto out;
	}
	if (n)
		memcpy(nl, l, n * sizeof(*l));
	memcpy(nl[n].name, name, strlen(name) + 1);
	memcpy(nl[n].pk, pk, HL_ID_PK_LEN);
	nl[n].added = now_unix;
	qsort(nl, n + 1, sizeof(*nl), cmp_name);
	err = hl_home_contacts_format(nl, n + 1, &text, &len);
	if (!err)
		err = hl_home_write(h, HL_HOME_CONTACTS_FILE, text, len);
out:
	hl_free(text);
	hl_free(nl);
	hl_free(l);
	return err;
}

int hl_home_contact_by_name(const struct hl_home *h, const char *name,
			    struct hl_contact *out)
{
	const struct hl_contact *c;
	struct hl_contact *l = NULL;
	size_t n = 0;
	int err;

	if (!h || !name || !out)
		return HL_EINVAL;
	err = hl_home_contacts(h, &l, &n);
	if (err)
		return err;
	c = find_name(l, n, name);
	if (c)
		*out = *c;
	else
		err = HL_ENOTFOUND;
	hl_free(l);
	return err;
}

int hl_home_contact_by_key(const struct hl_home *h,
			   const uint8_t pk[HL_ID_PK_LEN],
			   struct hl_contact *out)
{
	const struct hl_contact *c;
	struct hl_contact *l = NULL;
	size_t n = 0;
	int err;

	if (!h || !pk || !out)
		return HL_EINVAL;
	err = hl_home_contacts(h, &l, &n);
	if (err)
		return err;
	c = find_key(l, n, pk);
	if (c)
		*out = *c;
	else
		err = HL_ENOTFOUND;
	hl_free(l);
	return err;
}
