/*
 * test_home.c - the state folder (src/home): creating it (0700), safe
 * names, atomic writes and bounded reads, contacts.json (pins, conflicts,
 * bounds, strict parsing) and servers.json (trust on first use).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "harness.h"
#include "hotline/home.h"

#include "../src/home/home_internal.h"
#include "../src/identity/identity_internal.h"

/* For tests also run under allocation failure: a clean ENOMEM ends them. */
#define HT_EQ_ERR(expr, want)                              \
	do {                                               \
		int ht_r_ = (expr);                        \
		if (ht_r_ == HL_ENOMEM && hl_mem_failed()) \
			return HT_OOM_OK;                  \
		HT_EQ_INT(ht_r_, want);                    \
	} while (0)

static char tmp_dir[64]; /* made in main(), removed at the end */
static struct hl_prng prng;
static struct hl_rng rng;

/* ---- helpers ---------------------------------------------------------- */

static void path_in_tmp(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmp_dir, name);
}

static int unlink_cb(const char *p, const struct stat *sb, int flag,
		     struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	size_t len = strlen(text), w;

	if (!f)
		return -1;
	w = fwrite(text, 1, len, f);
	if (fclose(f) != 0 || w != len)
		return -1;
	return 0;
}

static int mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static int count_tmp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

/*
 * tmpl with its first "%s" replaced by a and the second by b (the
 * templates are data, so snprintf cannot check them).
 */
static void fill(char *out, size_t cap, const char *tmpl, const char *a,
		 const char *b)
{
	const char *args[2] = {a, b};
	size_t o = 0, k = 0;

	for (const char *t = tmpl; *t && o + 1 < cap; t++) {
		if (t[0] == '%' && t[1] == 's' && k < 2) {
			for (const char *s = args[k++]; *s && o + 1 < cap; s++)
				out[o++] = *s;
			t++;
			continue;
		}
		out[o++] = *t;
	}
	out[o] = '\0';
}

/* A fresh, empty home folder named name under the test folder. */
static int fresh_home(struct hl_home **h, const char *name)
{
	char dir[256];

	path_in_tmp(dir, sizeof(dir), name);
	rm_rf(dir);
	return hl_home_open(h, dir, true);
}

/* A valid public key from the seeded generator. */
static void new_key(uint8_t pk[HL_ID_PK_LEN])
{
	struct hl_identity id;

	if (hl_identity_generate(&id, "k", &rng) == 0)
		memcpy(pk, id.pk, HL_ID_PK_LEN);
	hl_identity_wipe(&id);
}

/* ---- the folder ------------------------------------------------------- */

static int test_open(void)
{
	char dir[256], file[300];
	struct hl_home *h = NULL;
	mode_t old;

	path_in_tmp(dir, sizeof(dir), "open/a/b/");
	rm_rf(dir);
	HT_EQ_INT(hl_home_open(&h, dir, false), HL_ENOTFOUND);
	HT_ASSERT(h == NULL);
	old = umask(0);
	HT_OK(hl_home_open(&h, dir, true));
	umask(old);
	/* The trailing slash is dropped. */
	path_in_tmp(dir, sizeof(dir), "open/a/b");
	HT_ASSERT(strcmp(hl_home_dir(h), dir) == 0);
	HT_EQ_INT(mode_of(dir), 0700);
	path_in_tmp(dir, sizeof(dir), "open/a");
	HT_EQ_INT(mode_of(dir), 0700); /* parents made by us too */
	hl_home_close(h);
	h = NULL;
	path_in_tmp(dir, sizeof(dir), "open/a/b");
	HT_OK(hl_home_open(&h, dir, false));
	hl_home_close(h);
	h = NULL;
	/* Not a folder. */
	path_in_tmp(file, sizeof(file), "open/file");
	HT_OK(write_text(file, "x"));
	errno = 0;
	HT_EQ_INT(hl_home_open(&h, file, true), HL_EIO);
	HT_EQ_INT(errno, ENOTDIR);
	HT_EQ_INT(hl_home_open(&h, file, false), HL_EIO);
	path_in_tmp(file, sizeof(file), "open/file/below");
	HT_EQ_INT(hl_home_open(&h, file, true), HL_EIO);
	HT_ASSERT(h == NULL);
	HT_EQ_INT(hl_home_open(&h, "", true), HL_EINVAL);
	HT_EQ_INT(hl_home_open(&h, NULL, true), HL_EINVAL);
	HT_EQ_INT(hl_home_open(NULL, dir, true), HL_EINVAL);
	{
		static char longdir[HL_HOME_PATH_MAX + 10];

		memset(longdir, 'a', sizeof(longdir) - 1);
		HT_EQ_INT(hl_home_open(&h, longdir, true), HL_ETOOBIG);
	}
	hl_home_close(NULL);
	HT_ASSERT(hl_home_dir(NULL) == NULL);
	return 0;
}

static int test_oom_open(void)
{
	struct hl_home *h = NULL;
	char dir[256];

	path_in_tmp(dir, sizeof(dir), "oom-open");
	HT_OK(hl_home_open(&h, dir, true));
	hl_home_close(h);
	return 0;
}

static int test_names(void)
{
	static const char *const good[] = {
		"identity.json", "contracts/abc.json",
		"a/b/c",	 "..a",
		"a..",		 ".hidden",
		"a b",
	};
	static const char *const bad[] = {
		"",	"/etc/passwd", "..",  "../x",  "a/../b", "a/..",
		"a//b", "a/",	       "./a", "a/./b", ".",	 "/",
	};
	struct hl_home *h = NULL;
	char buf[300], small[8];

	for (size_t i = 0; i < HL_ARRAY_SIZE(good); i++)
		HT_ASSERT(hl_home_name_ok(good[i]));
	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		HT_ASSERT(!hl_home_name_ok(bad[i]));
	}
	HT_ASSERT(!hl_home_name_ok(NULL));
	HT_OK(fresh_home(&h, "names"));
	HT_OK(hl_home_path(h, "contracts/x.json", buf, sizeof(buf)));
	HT_ASSERT(strlen(buf) == strlen(hl_home_dir(h)) + 17);
	HT_ASSERT(strcmp(buf + strlen(hl_home_dir(h)), "/contracts/x.json") ==
		  0);
	HT_EQ_INT(hl_home_path(h, "x", small, sizeof(small)), HL_ETOOBIG);
	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		HT_EQ_INT(hl_home_path(h, bad[i], buf, sizeof(buf)), HL_EINVAL);
		HT_EQ_INT(hl_home_write(h, bad[i], "x", 1), HL_EINVAL);
	}
	hl_home_close(h);
	return 0;
}

/* The body of test_write_read (h is closed by the caller). */
static int write_read_body(struct hl_home *h)
{
	char path[512], *out = NULL;
	size_t len = 0;

	HT_EQ_ERR(hl_home_read(h, "contracts/c1.json", 100, &out, &len),
		  HL_ENOTFOUND);
	HT_OK(hl_home_write(h, "contracts/c1.json", "{\"a\": 1}\n", 9));
	HT_OK(hl_home_path(h, "contracts", path, sizeof(path)));
	HT_EQ_INT(mode_of(path), 0700);
	HT_OK(hl_home_path(h, "contracts/c1.json", path, sizeof(path)));
	HT_EQ_INT(mode_of(path), 0600);
	HT_OK(hl_home_read(h, "contracts/c1.json", 9, &out, &len));
	HT_EQ_INT(len, 9);
	HT_ASSERT(strcmp(out, "{\"a\": 1}\n") == 0);
	hl_free(out);
	HT_EQ_ERR(hl_home_read(h, "contracts/c1.json", 8, &out, &len),
		  HL_ETOOBIG);
	/* Replace it. */
	HT_OK(hl_home_write(h, "contracts/c1.json", "", 0));
	HT_OK(hl_home_read(h, "contracts/c1.json", 9, &out, &len));
	HT_EQ_INT(len, 0);
	hl_free(out);
	HT_OK(hl_home_path(h, "contracts", path, sizeof(path)));
	HT_EQ_INT(count_tmp_files(path), 0);
	HT_EQ_ERR(hl_home_read(h, "contracts", 100, &out, &len), HL_EIO);
	HT_EQ_INT(hl_home_write(h, "x", NULL, 1), HL_EINVAL);
	return 0;
}

static int test_write_read(void)
{
	struct hl_home *h = NULL;
	int rc;

	HT_OK(fresh_home(&h, "rw"));
	rc = write_read_body(h);
	hl_home_close(h);
	return rc;
}

/*
 * A failing write never changes the old file: each step of the atomic
 * write failing (test hook), and a subfolder that cannot be made because
 * a file has its name.
 */
static int test_write_failures(void)
{
	struct hl_home *h = NULL;
	char path[512], *out = NULL;
	size_t len = 0;

	HT_OK(fresh_home(&h, "fail"));
	HT_OK(hl_home_write(h, "servers.json", "old", 3));
	for (int step = 1; step <= 4; step++) {
		hl_identity_fs_fault_step = step;
		HT_EQ_INT(hl_home_write(h, "servers.json", "new!", 4), HL_EIO);
		HT_OK(hl_home_read(h, "servers.json", 100, &out, &len));
		HT_ASSERT(len == 3 && memcmp(out, "old", 3) == 0);
		hl_free(out);
		HT_EQ_INT(count_tmp_files(hl_home_dir(h)), 0);
	}
	HT_OK(hl_home_write(h, "contracts", "a file", 6));
	errno = 0;
	HT_EQ_INT(hl_home_write(h, "contracts/x.json", "{}", 2), HL_EIO);
	HT_EQ_INT(errno, ENOTDIR);
	HT_OK(hl_home_path(h, "contracts", path, sizeof(path)));
	HT_EQ_INT(mode_of(path), 0600);
	hl_home_close(h);
	return 0;
}

/* ---- contacts --------------------------------------------------------- */

static int test_contacts(void)
{
	struct hl_home *h = NULL;
	struct hl_contact *list = NULL, c;
	uint8_t ka[32], kb[32], kc[32], other[32], zero[32] = {0};
	char other_name[HL_ID_NAME_MAX + 1], path[512];
	char *before = NULL, *after = NULL;
	size_t n = 99, lb = 0, la = 0;

	new_key(ka);
	new_key(kb);
	new_key(kc);
	HT_OK(fresh_home(&h, "contacts"));
	HT_OK(hl_home_contacts(h, &list, &n));
	HT_ASSERT(list == NULL && n == 0);
	HT_EQ_INT(hl_home_contact_by_name(h, "alice", &c), HL_ENOTFOUND);
	HT_OK(hl_home_contact_add(h, "alice", ka, 1000, other, other_name));
	HT_OK(hl_home_path(h, "contacts.json", path, sizeof(path)));
	HT_EQ_INT(mode_of(path), 0600);
	HT_OK(hl_home_contact_add(h, "bob", kb, 2000, NULL, NULL));
	/* The same pair again: nothing changes (not even the date). */
	HT_OK(hl_home_read(h, "contacts.json", 1 << 20, &before, &lb));
	HT_OK(hl_home_contact_add(h, "alice", ka, 3000, NULL, NULL));
	/* The name is taken by another key. */
	memset(other, 0xee, 32);
	memset(other_name, 'x', sizeof(other_name));
	HT_EQ_INT(hl_home_contact_add(h, "alice", kc, 3000, other, other_name),
		  HL_ECONFLICT);
	HT_EQ_MEM(other, ka, 32);
	HT_ASSERT(other_name[0] == '\0');
	/* The key is pinned under another name. */
	HT_EQ_INT(hl_home_contact_add(h, "carol", ka, 3000, other, other_name),
		  HL_ECONFLICT);
	HT_EQ_MEM(other, zero, 32);
	HT_ASSERT(strcmp(other_name, "alice") == 0);
	/* Both at once. */
	HT_EQ_INT(hl_home_contact_add(h, "alice", kb, 3000, other, other_name),
		  HL_ECONFLICT);
	HT_EQ_MEM(other, ka, 32);
	HT_ASSERT(strcmp(other_name, "bob") == 0);
	HT_EQ_INT(hl_home_contact_add(h, "alice", kb, 3000, NULL, NULL),
		  HL_ECONFLICT);
	HT_OK(hl_home_read(h, "contacts.json", 1 << 20, &after, &la));
	HT_ASSERT(la == lb && memcmp(before, after, la) == 0);
	hl_free(before);
	hl_free(after);
	/* Refused arguments. */
	HT_EQ_INT(hl_home_contact_add(h, "", kc, 1, NULL, NULL), HL_EINVAL);
	HT_EQ_INT(hl_home_contact_add(h, "a\tb", kc, 1, NULL, NULL), HL_EINVAL);
	HT_EQ_INT(hl_home_contact_add(h, "zed", zero, 1, NULL, NULL),
		  HL_EINVAL); /* not a key */
	HT_EQ_INT(hl_home_contact_add(h, "zed", kc, UINT64_MAX, NULL, NULL),
		  HL_EINVAL);
	/* Sorted by name (bytewise). */
	HT_OK(hl_home_contact_add(h, "Zoe", kc, 5, NULL, NULL));
	HT_OK(hl_home_contacts(h, &list, &n));
	HT_EQ_INT(n, 3);
	HT_ASSERT(strcmp(list[0].name, "Zoe") == 0);
	HT_ASSERT(strcmp(list[1].name, "alice") == 0);
	HT_ASSERT(strcmp(list[2].name, "bob") == 0);
	HT_EQ_MEM(list[1].pk, ka, 32);
	HT_EQ_INT(list[1].added, 1000);
	HT_EQ_INT(list[2].added, 2000);
	hl_free(list);
	HT_OK(hl_home_contact_by_name(h, "bob", &c));
	HT_EQ_MEM(c.pk, kb, 32);
	HT_OK(hl_home_contact_by_key(h, kc, &c));
	HT_ASSERT(strcmp(c.name, "Zoe") == 0);
	HT_EQ_INT(c.added, 5);
	HT_EQ_INT(hl_home_contact_by_key(h, zero, &c), HL_ENOTFOUND);
	HT_EQ_INT(hl_home_contact_by_name(h, "carol", &c), HL_ENOTFOUND);
	HT_EQ_INT(count_tmp_files(hl_home_dir(h)), 0);
	hl_home_close(h);
	return 0;
}

static int test_oom_contacts(void)
{
	struct hl_home *h = NULL;
	struct hl_contact *list = NULL, c;
	uint8_t ka[32], kb[32];
	size_t n = 0;
	int err;

	new_key(ka);
	new_key(kb);
	HT_OK(fresh_home(&h, "oom-contacts"));
	err = hl_home_contact_add(h, "alice", ka, 1, NULL, NULL);
	if (!err)
		err = hl_home_contact_add(h, "bob", kb, 2, NULL, NULL);
	if (!err)
		err = hl_home_contacts(h, &list, &n);
	if (!err)
		err = hl_home_contact_by_key(h, kb, &c);
	hl_home_close(h);
	hl_free(list);
	if (err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	HT_OK(err);
	HT_EQ_INT(n, 2);
	HT_ASSERT(strcmp(c.name, "bob") == 0);
	return 0;
}

/* The text of a contacts.json entry. */
static void entry(char *buf, size_t cap, const char *name, const uint8_t pk[32],
		  const char *added)
{
	char text[HL_ID_TEXT_LEN + 1];

	hl_pubkey_to_text(pk, text);
	snprintf(buf, cap,
		 "{\"name\": \"%s\", \"public_key\": \"%s\", \"added\": %s}",
		 name, text, added);
}

static int test_contacts_strict(void)
{
	struct hl_home *h = NULL;
	struct hl_contact *list = NULL;
	uint8_t ka[32], kb[32];
	char ea[256], eb[256], ea_dup_key[256], eb_dup_name[256], path[512];
	char doc[2048];
	size_t n = 0;

	new_key(ka);
	new_key(kb);
	entry(ea, sizeof(ea), "alice", ka, "1");
	entry(eb, sizeof(eb), "bob", kb, "2");
	entry(ea_dup_key, sizeof(ea_dup_key), "carol", ka, "3");
	entry(eb_dup_name, sizeof(eb_dup_name), "bob", ka, "3");
	HT_OK(fresh_home(&h, "strict"));
	HT_OK(hl_home_path(h, "contacts.json", path, sizeof(path)));
	{
		const struct {
			const char *fmt;
			const char *e1, *e2;
			int want;
		} cases[] = {
			{"{\"version\": 1, \"contacts\": [%s, %s]}", ea, eb, 0},
			{"{\"contacts\": [%s, %s], \"version\": 1}", ea, eb, 0},
			{"{\"version\": 1, \"contacts\": []}%s%s", "", "", 0},
			{"{\"version\": 2, \"contacts\": [%s, %s]}", ea, eb,
			 HL_EUNSUPPORTED},
			{"{\"version\": 0, \"contacts\": [%s, %s]}", ea, eb,
			 HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s, %s]}", ea,
			 ea_dup_key, HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s, %s]}", eb,
			 eb_dup_name, HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s, %s]}", ea, ea,
			 HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s], \"x\": %s}", ea,
			 "1", HL_EPARSE},
			{"{\"version\": 1, \"contacts\": {%s%s}}", "", "",
			 HL_EPARSE},
			{"{\"version\": 1}%s%s", "", "", HL_EPARSE},
			{"[%s, %s]", ea, eb, HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s, %s]", ea, eb,
			 HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [%s, 5%s]}", ea, "",
			 HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [{\"name\": \"a\", "
			 "\"public_key\": \"hl1x\", \"added\": 1}%s%s]}",
			 "", "", HL_EPARSE},
			{"{\"version\": 1, \"contacts\": [{\"name\": \"a\", "
			 "\"added\": 1}%s%s]}",
			 "", "", HL_EPARSE},
			{"{\"version\": 1, \"version\": 1, \"contacts\": []}"
			 "%s%s",
			 "", "", HL_EPARSE},
		};

		for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
			fill(doc, sizeof(doc), cases[i].fmt, cases[i].e1,
			     cases[i].e2);
			HT_OK(write_text(path, doc));
			HT_EQ_INT(hl_home_contacts(h, &list, &n),
				  cases[i].want);
			if (cases[i].want == 0)
				hl_free(list);
		}
	}
	/* Entry fields: each wrong in its own way. */
	{
		static const char *const added[] = {
			"-1", "1.5", "\"1\"", "null", "18446744073709551615"};
		char e[256];

		for (size_t i = 0; i < HL_ARRAY_SIZE(added); i++) {
			entry(e, sizeof(e), "alice", ka, added[i]);
			snprintf(doc, sizeof(doc),
				 "{\"version\": 1, \"contacts\": [%s]}", e);
			HT_OK(write_text(path, doc));
			HT_EQ_INT(hl_home_contacts(h, &list, &n), HL_EPARSE);
		}
		entry(e, sizeof(e), "a\\u0001", ka, "1");
		snprintf(doc, sizeof(doc),
			 "{\"version\": 1, \"contacts\": [%s]}", e);
		HT_OK(write_text(path, doc));
		HT_EQ_INT(hl_home_contacts(h, &list, &n), HL_EPARSE);
		entry(e, sizeof(e), "alice", ka, "1, \"extra\": 0");
		snprintf(doc, sizeof(doc),
			 "{\"version\": 1, \"contacts\": [%s]}", e);
		HT_OK(write_text(path, doc));
		HT_EQ_INT(hl_home_contacts(h, &list, &n), HL_EPARSE);
	}
	/* A malformed file is not overwritten by an add. */
	HT_OK(write_text(path, "{\"version\": 1, \"contacts\": 7}"));
	HT_EQ_INT(hl_home_contact_add(h, "alice", ka, 1, NULL, NULL),
		  HL_EPARSE);
	/* Too big to be ours: refused unread. */
	{
		int fd = open(path, O_WRONLY | O_TRUNC);

		HT_ASSERT(fd >= 0);
		HT_ASSERT(ftruncate(fd, (off_t)HL_HOME_CONTACTS_BYTES + 1) ==
			  0);
		close(fd);
		HT_EQ_INT(hl_home_contacts(h, &list, &n), HL_EPARSE);
	}
	hl_home_close(h);
	return 0;
}

/* HL_HOME_MAX_CONTACTS entries fill the book; one more is refused. */
static int test_contacts_full(void)
{
	struct hl_contact *list, *got = NULL;
	struct hl_home *h = NULL;
	char *text = NULL;
	size_t len = 0, n = 0;
	uint8_t k[32];

	list = hl_calloc(HL_HOME_MAX_CONTACTS + 1, sizeof(*list));
	HT_ASSERT(list);
	for (size_t i = 0; i <= HL_HOME_MAX_CONTACTS; i++) {
		snprintf(list[i].name, sizeof(list[i].name), "c%05zu", i);
		new_key(list[i].pk);
		list[i].added = i;
	}
	HT_EQ_INT(hl_home_contacts_format(list, HL_HOME_MAX_CONTACTS + 1, &text,
					  &len),
		  HL_EINVAL);
	HT_OK(hl_home_contacts_format(list, HL_HOME_MAX_CONTACTS, &text, &len));
	HT_ASSERT(len < HL_HOME_CONTACTS_BYTES);
	HT_OK(fresh_home(&h, "full"));
	HT_OK(hl_home_write(h, "contacts.json", text, len));
	hl_free(text);
	HT_OK(hl_home_contacts(h, &got, &n));
	HT_EQ_INT(n, HL_HOME_MAX_CONTACTS);
	hl_free(got);
	new_key(k);
	HT_EQ_INT(hl_home_contact_add(h, "one more", k, 1, NULL, NULL),
		  HL_EFULL);
	/* Re-adding a pinned pair is still fine when full. */
	HT_OK(hl_home_contact_add(h, list[7].name, list[7].pk, 1, NULL, NULL));
	hl_home_close(h);
	/* A file with one entry too many (written by hand) is malformed. */
	{
		char *doc, te[HL_ID_TEXT_LEN + 1];
		size_t cap = (size_t)(HL_HOME_MAX_CONTACTS + 1) * 128 + 64, o;
		struct hl_contact *l2 = NULL;
		size_t n2 = 0;

		doc = malloc(cap);
		HT_ASSERT(doc);
		o = (size_t)snprintf(doc, cap,
				     "{\"version\": 1, \"contacts\": [");
		for (size_t i = 0; i <= HL_HOME_MAX_CONTACTS; i++) {
			hl_pubkey_to_text(list[i].pk, te);
			o += (size_t)snprintf(doc + o, cap - o,
					      "%s{\"name\": \"%s\", "
					      "\"public_key\": \"%s\", "
					      "\"added\": 1}",
					      i ? ", " : "", list[i].name, te);
		}
		o += (size_t)snprintf(doc + o, cap - o, "]}");
		HT_EQ_INT(hl_home_contacts_parse(doc, o, &l2, &n2), HL_EPARSE);
		free(doc);
	}
	hl_free(list);
	return 0;
}

/* ---- servers ---------------------------------------------------------- */

static int test_servers(void)
{
	struct hl_home *h = NULL;
	uint8_t fa[32], fb[32], got[32];
	char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;
	static char longurl[HL_HOME_URL_MAX + 2];

	memset(fa, 0xa1, 32);
	memset(fb, 0xb2, 32);
	HT_OK(fresh_home(&h, "servers"));
	HT_EQ_INT(hl_home_server_pin(h, "wss://a.example", got), HL_ENOTFOUND);
	HT_OK(hl_home_server_pin_set(h, "wss://a.example", fa));
	HT_OK(hl_home_server_pin(h, "wss://a.example", got));
	HT_EQ_MEM(got, fa, 32);
	HT_OK(hl_home_server_pin_set(h, "wss://a.example", fa)); /* no-op */
	HT_OK(hl_home_read(h, "servers.json", 1 << 20, &before, &lb));
	HT_EQ_INT(hl_home_server_pin_set(h, "wss://a.example", fb),
		  HL_ECONFLICT);
	HT_OK(hl_home_read(h, "servers.json", 1 << 20, &after, &la));
	HT_ASSERT(la == lb && memcmp(before, after, la) == 0);
	HT_ASSERT(strstr(before, "a1a1a1a1")); /* lower-case hex */
	hl_free(before);
	hl_free(after);
	/* Exact strings: these are other servers. */
	HT_EQ_INT(hl_home_server_pin(h, "wss://a.example/", got), HL_ENOTFOUND);
	HT_EQ_INT(hl_home_server_pin(h, "WSS://a.example", got), HL_ENOTFOUND);
	HT_OK(hl_home_server_pin_set(h, "wss://a.example:443", fb));
	HT_OK(hl_home_server_pin(h, "wss://a.example:443", got));
	HT_EQ_MEM(got, fb, 32);
	HT_OK(hl_home_server_pin(h, "wss://a.example", got));
	HT_EQ_MEM(got, fa, 32);
	/* URLs that cannot be pinned. */
	HT_EQ_INT(hl_home_server_pin_set(h, "", fa), HL_EINVAL);
	HT_EQ_INT(hl_home_server_pin_set(h, "wss://a b", fa), HL_EINVAL);
	HT_EQ_INT(hl_home_server_pin_set(h, "wss://\xc3\xa9", fa), HL_EINVAL);
	HT_EQ_INT(hl_home_server_pin_set(h, NULL, fa), HL_EINVAL);
	memset(longurl, 'a', sizeof(longurl) - 1);
	HT_EQ_INT(hl_home_server_pin_set(h, longurl, fa), HL_EINVAL);
	longurl[HL_HOME_URL_MAX] = '\0';
	HT_OK(hl_home_server_pin_set(h, longurl, fa));
	HT_OK(hl_home_server_pin(h, longurl, got));
	hl_home_close(h);
	return 0;
}

static int test_oom_servers(void)
{
	struct hl_home *h = NULL;
	uint8_t fa[32] = {1}, got[32];
	int err;

	HT_OK(fresh_home(&h, "oom-servers"));
	err = hl_home_server_pin_set(h, "wss://x", fa);
	if (!err)
		err = hl_home_server_pin_set(h, "wss://y", fa);
	if (!err)
		err = hl_home_server_pin(h, "wss://y", got);
	hl_home_close(h);
	if (err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	HT_OK(err);
	HT_EQ_MEM(got, fa, 32);
	return 0;
}

static int test_servers_strict(void)
{
	static const char hex[] = "00112233445566778899aabbccddeeff"
				  "00112233445566778899aabbccddeeff";
	static const char *const fps[] = {
		"\"00112233445566778899aabbccddeeff00112233445566778899aabbccd"
		"deef\"", /* 63 */
		"\"00112233445566778899aabbccddeeff00112233445566778899aabbccd"
		"deeff0\"", /* 65 */
		"\"00112233445566778899aabbccddeeff00112233445566778899aabbccd"
		"deefg\"", /* not hex */
		"\"00:11:22:33\"",
		"17",
		"null",
	};
	struct hl_home *h = NULL;
	struct hl_home_server *l = NULL;
	char doc[1024], path[512];
	uint8_t got[32];
	size_t n = 0;

	HT_OK(fresh_home(&h, "servers-strict"));
	HT_OK(hl_home_path(h, "servers.json", path, sizeof(path)));
	/* Upper-case hex reads fine. */
	snprintf(doc, sizeof(doc),
		 "{\"version\": 1, \"servers\": [{\"url\": \"wss://u\", "
		 "\"fingerprint\": \"%s\"}]}",
		 "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDE"
		 "EFF");
	HT_OK(write_text(path, doc));
	HT_OK(hl_home_server_pin(h, "wss://u", got));
	HT_ASSERT(got[10] == 0xaa);
	for (size_t i = 0; i < HL_ARRAY_SIZE(fps); i++) {
		snprintf(
			doc, sizeof(doc),
			"{\"version\": 1, \"servers\": [{\"url\": \"wss://u\", "
			"\"fingerprint\": %s}]}",
			fps[i]);
		HT_EQ_INT(hl_home_servers_parse(doc, strlen(doc), &l, &n),
			  HL_EPARSE);
	}
	{
		char one[256];
		const struct {
			const char *fmt;
			int want;
		} cases[] = {
			{"{\"version\": 1, \"servers\": [%s, %s]}", HL_EPARSE},
			{"{\"version\": 3, \"servers\": [%s]}",
			 HL_EUNSUPPORTED},
			{"{\"version\": 1, \"servers\": [%s], \"x\": 0}",
			 HL_EPARSE},
			{"{\"version\": 1, \"servers\": %s}", HL_EPARSE},
		};

		snprintf(one, sizeof(one),
			 "{\"url\": \"wss://u\", \"fingerprint\": \"%s\"}",
			 hex);
		for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
			fill(doc, sizeof(doc), cases[i].fmt, one, one);
			HT_EQ_INT(
				hl_home_servers_parse(doc, strlen(doc), &l, &n),
				cases[i].want);
		}
		snprintf(doc, sizeof(doc),
			 "{\"version\": 1, \"servers\": [{\"url\": \"wss://a "
			 "b\", \"fingerprint\": \"%s\"}]}",
			 hex);
		HT_EQ_INT(hl_home_servers_parse(doc, strlen(doc), &l, &n),
			  HL_EPARSE);
		snprintf(
			doc, sizeof(doc),
			"{\"version\": 1, \"servers\": [{\"url\": \"wss://a\", "
			"\"fingerprint\": \"%s\", \"note\": \"\"}]}",
			hex);
		HT_EQ_INT(hl_home_servers_parse(doc, strlen(doc), &l, &n),
			  HL_EPARSE);
	}
	/* Malformed files are not overwritten. */
	HT_OK(write_text(path, "{\"version\": 1, \"servers\": 7}"));
	HT_EQ_INT(hl_home_server_pin_set(h, "wss://v", got), HL_EPARSE);
	HT_EQ_INT(hl_home_server_pin(h, "wss://v", got), HL_EPARSE);
	hl_home_close(h);
	return 0;
}

/* HL_HOME_MAX_SERVERS pins fill the file; one more is refused. */
static int test_servers_full(void)
{
	struct hl_home_server *l;
	struct hl_home *h = NULL;
	uint8_t fp[32] = {9}, got[32];
	char *text = NULL;
	size_t len = 0;

	l = hl_calloc(HL_HOME_MAX_SERVERS + 1, sizeof(*l));
	HT_ASSERT(l);
	for (size_t i = 0; i <= HL_HOME_MAX_SERVERS; i++) {
		snprintf(l[i].url, sizeof(l[i].url), "wss://s%04zu", i);
		l[i].fp[0] = (uint8_t)i;
	}
	HT_EQ_INT(
		hl_home_servers_format(l, HL_HOME_MAX_SERVERS + 1, &text, &len),
		HL_EINVAL);
	HT_OK(hl_home_servers_format(l, HL_HOME_MAX_SERVERS, &text, &len));
	HT_OK(fresh_home(&h, "servers-full"));
	HT_OK(hl_home_write(h, "servers.json", text, len));
	hl_free(text);
	HT_EQ_INT(hl_home_server_pin_set(h, "wss://one-more", fp), HL_EFULL);
	HT_OK(hl_home_server_pin_set(h, "wss://s0005", l[5].fp));
	HT_OK(hl_home_server_pin(h, "wss://s0999", got));
	HT_EQ_MEM(got, l[999].fp, 32);
	hl_home_close(h);
	hl_free(l);
	return 0;
}

/* The in-memory parsers and writers agree exactly. */
static int test_format_roundtrip(void)
{
	struct hl_contact c[3], *back = NULL;
	struct hl_home_server s[2], *sback = NULL;
	char *text = NULL;
	size_t len = 0, n = 0;

	memset(c, 0, sizeof(c));
	memcpy(c[0].name, "a \"quoted\" \\ name", 18);
	memcpy(c[1].name, "\xe6\x9d\x8e", 4);
	memcpy(c[2].name, "b", 2);
	for (int i = 0; i < 3; i++) {
		new_key(c[i].pk);
		c[i].added = (uint64_t)INT64_MAX - (uint64_t)i;
	}
	HT_OK(hl_home_contacts_format(c, 3, &text, &len));
	HT_OK(hl_home_contacts_parse(text, len, &back, &n));
	HT_EQ_INT(n, 3);
	HT_EQ_MEM(&back[0], &c[0], sizeof(c[0]));
	HT_EQ_MEM(&back[1], &c[2], sizeof(c[0])); /* sorted by name */
	HT_EQ_MEM(&back[2], &c[1], sizeof(c[0]));
	hl_free(back);
	hl_free(text);
	memset(s, 0, sizeof(s));
	memcpy(s[0].url, "wss://z", 8);
	memcpy(s[1].url, "https://a/b?c=d&e", 18);
	memset(s[0].fp, 7, 32);
	memset(s[1].fp, 0xf0, 32);
	HT_OK(hl_home_servers_format(s, 2, &text, &len));
	HT_OK(hl_home_servers_parse(text, len, &sback, &n));
	HT_EQ_INT(n, 2);
	HT_EQ_MEM(&sback[0], &s[1], sizeof(s[0]));
	HT_EQ_MEM(&sback[1], &s[0], sizeof(s[0]));
	hl_free(sback);
	hl_free(text);
	HT_OK(hl_home_contacts_format(NULL, 0, &text, &len));
	HT_OK(hl_home_contacts_parse(text, len, &back, &n));
	HT_ASSERT(back == NULL && n == 0);
	hl_free(text);
	return 0;
}

/* The identity file inside a home folder, as the programs will use it. */
static int test_identity_in_home(void)
{
	struct hl_home *h = NULL;
	struct hl_identity id, back;
	char path[512];

	HT_OK(fresh_home(&h, "with-id"));
	HT_OK(hl_identity_generate(&id, "me", &rng));
	HT_OK(hl_home_path(h, "identity.json", path, sizeof(path)));
	HT_OK(hl_identity_save_params(&id, path, "pw", 1, 1 << 20, &rng));
	HT_EQ_INT(mode_of(path), 0600);
	HT_OK(hl_identity_load(&back, path, "pw"));
	HT_EQ_MEM(&back, &id, sizeof(id));
	HT_EQ_INT(count_tmp_files(hl_home_dir(h)), 0);
	hl_identity_wipe(&id);
	hl_identity_wipe(&back);
	hl_home_close(h);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_open),
	HT_TEST_OOM(test_oom_open),
	HT_TEST(test_names),
	HT_TEST_OOM(test_write_read),
	HT_TEST(test_write_failures),
	HT_TEST(test_contacts),
	HT_TEST_OOM(test_oom_contacts),
	HT_TEST(test_contacts_strict),
	HT_TEST(test_contacts_full),
	HT_TEST(test_servers),
	HT_TEST_OOM(test_oom_servers),
	HT_TEST(test_servers_full),
	HT_TEST(test_servers_strict),
	HT_TEST(test_format_roundtrip),
	HT_TEST(test_identity_in_home),
};

int main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0)
		return 1;
	hl_prng_seed(&prng, 0x4073);
	rng = hl_prng_as_rng(&prng);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/hl-test-home-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return 1;
	rc = hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
	rm_rf(tmp_dir);
	return rc;
}
