/*
 * servers.c - servers.json: the pinned certificate fingerprint of each
 * server URL (docs/protocol.md §5.6), trust on first use.
 *
 *   {"version": 1, "servers": [{"url": URL, "fingerprint": HEX64}, ...]}
 *
 * A URL is compared as the exact string the user gave (no normalisation:
 * "wss://a:443" and "wss://a" are two pins).  The fingerprint is the
 * SHA-256 of the certificate, 64 hex digits (written lower case, read in
 * either case).  A second, different fingerprint for a pinned URL is
 * HL_ECONFLICT and nothing is written.
 */
#include <string.h>

#include <sodium.h>

#include "home_internal.h"

bool hl_home_url_ok(const char *url)
{
	size_t len;

	if (!url)
		return false;
	len = strnlen(url, HL_HOME_URL_MAX + 1);
	if (len == 0 || len > HL_HOME_URL_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return false;
	return true;
}

static int cmp_url(const void *a, const void *b)
{
	return strcmp(((const struct hl_home_server *)a)->url,
		      ((const struct hl_home_server *)b)->url);
}

/* One entry: exactly {url, fingerprint}. */
static int parse_entry(json_t *e, struct hl_home_server *s)
{
	json_t *url = json_object_get(e, "url");
	json_t *fp = json_object_get(e, "fingerprint");
	const char *hex, *end = NULL;
	size_t bin_len = 0;

	if (!json_is_object(e) || json_object_size(e) != 2 ||
	    !json_is_string(url) || !json_is_string(fp))
		return HL_EPARSE;
	if (strlen(json_string_value(url)) != json_string_length(url) ||
	    !hl_home_url_ok(json_string_value(url)))
		return HL_EPARSE;
	hex = json_string_value(fp);
	if (json_string_length(fp) != 2 * sizeof(s->fp) ||
	    sodium_hex2bin(s->fp, sizeof(s->fp), hex, json_string_length(fp),
			   NULL, &bin_len, &end) != 0 ||
	    bin_len != sizeof(s->fp) || end != hex + json_string_length(fp))
		return HL_EPARSE;
	memcpy(s->url, json_string_value(url), json_string_length(url) + 1);
	return 0;
}

int hl_home_servers_parse(const char *text, size_t len,
			  struct hl_home_server **list, size_t *n)
{
	struct hl_home_server *l = NULL;
	json_t *root = NULL, *arr;
	size_t cnt;
	int err;

	if (!list || !n)
		return HL_EINVAL;
	err = hl_home_json_open(text, len, "servers", &root, &arr);
	if (err)
		return err;
	cnt = json_array_size(arr);
	if (cnt > HL_HOME_MAX_SERVERS) {
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
	if (cnt > 1) {
		qsort(l, cnt, sizeof(*l), cmp_url);
		for (size_t i = 1; i < cnt; i++)
			if (cmp_url(&l[i - 1], &l[i]) == 0)
				err = HL_EPARSE; /* one URL, two pins */
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

int hl_home_servers_format(const struct hl_home_server *list, size_t n,
			   char **out, size_t *len)
{
	char hex[2 * sizeof(list->fp) + 1];
	json_t *root, *arr, *e;
	int err = 0;

	if ((!list && n) || !out || !len || n > HL_HOME_MAX_SERVERS)
		return HL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!hl_home_url_ok(list[i].url))
			return HL_EINVAL;
	root = json_pack("{s:i, s:[]}", "version", HL_HOME_FILE_VERSION,
			 "servers");
	if (!root)
		return HL_ENOMEM;
	arr = json_object_get(root, "servers");
	for (size_t i = 0; i < n; i++) {
		sodium_bin2hex(hex, sizeof(hex), list[i].fp,
			       sizeof(list[i].fp));
		e = json_pack("{s:s, s:s}", "url", list[i].url, "fingerprint",
			      hex);
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

/* All pins (sorted by URL; *list NULL when there are none). */
static int load_servers(const struct hl_home *h, struct hl_home_server **list,
			size_t *n)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	err = hl_home_read(h, HL_HOME_SERVERS_FILE, HL_HOME_SERVERS_BYTES,
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
	err = hl_home_servers_parse(text, len, list, n);
	hl_free(text);
	return err;
}

static const struct hl_home_server *find_url(const struct hl_home_server *l,
					     size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].url, url) == 0)
			return &l[i];
	return NULL;
}

int hl_home_server_pin(const struct hl_home *h, const char *url, uint8_t fp[32])
{
	const struct hl_home_server *s;
	struct hl_home_server *l = NULL;
	size_t n = 0;
	int err;

	if (!h || !fp || !hl_home_url_ok(url))
		return HL_EINVAL;
	err = load_servers(h, &l, &n);
	if (err)
		return err;
	s = find_url(l, n, url);
	if (s)
		memcpy(fp, s->fp, sizeof(s->fp));
	else
		err = HL_ENOTFOUND;
	hl_free(l);
	return err;
}

int hl_home_server_pin_set(struct hl_home *h, const char *url,
			   const uint8_t fp[32])
{
	const struct hl_home_server *s;
	struct hl_home_server *l = NULL, *nl = NULL;
	char *text = NULL;
	size_t n = 0, len = 0;
	int err;

	if (!h || !fp || !hl_home_url_ok(url))
		return HL_EINVAL;
	err = load_servers(h, &l, &n);
	if (err)
		return err;
	s = find_url(l, n, url);
	if (s) {
		/* Not secret, but compared like one all the same. */
		if (!hl_ct_equal(s->fp, fp, sizeof(s->fp)))
			err = HL_ECONFLICT;
		goto out;
	}
	if (n >= HL_HOME_MAX_SERVERS) {
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
	memcpy(nl[n].url, url, strlen(url) + 1);
	memcpy(nl[n].fp, fp, sizeof(nl[n].fp));
	qsort(nl, n + 1, sizeof(*nl), cmp_url);
	err = hl_home_servers_format(nl, n + 1, &text, &len);
	if (!err)
		err = hl_home_write(h, HL_HOME_SERVERS_FILE, text, len);
out:
	hl_free(text);
	hl_free(nl);
	hl_free(l);
	return err;
}
