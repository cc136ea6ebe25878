/*
 * cmd_id.c - `hotline id new|show` and `hotline contact add|list`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "hotline/net.h"

static void id_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline id new --name NAME [--home DIR]\n"
		"                  [--passphrase-file F | --no-passphrase]\n"
		"       hotline id show [--json] [--home DIR]\n"
		"\n"
		"'id new' creates your identity (an Ed25519 key pair) and "
		"stores it in the\nhome folder sealed with a passphrase "
		"(Argon2id + XChaCha20-Poly1305), from\n--passphrase-file, "
		"$HOTLINE_PASSPHRASE or a prompt; --no-passphrase stores it\n"
		"unprotected, on purpose.  It prints your public key, which "
		"your contacts pin\nwith 'hotline contact add', and your "
		"safety number.  'id show' prints them\nagain (no "
		"passphrase needed).\n");
}

static void contact_usage(FILE *f)
{
	fprintf(f, "usage: hotline contact add NAME PUBLIC_KEY [--home DIR]\n"
		   "       hotline contact list [--json] [--home DIR]\n"
		   "\n"
		   "Pin a contact's public key under a name you choose.  A "
		   "different key for a\nname you already pinned is refused: "
		   "that is what an impostor would send.\n");
}

/* The public part of identity.json, without the passphrase. */
static int peek_identity(struct hl_home *h, char name[HL_ID_NAME_MAX + 1],
			 uint8_t pk[HL_ID_PK_LEN])
{
	char *text = NULL;
	size_t len;
	json_t *root;
	const char *n, *k;
	int err = hl_home_read(h, "identity.json", 65536, &text, &len);

	if (err)
		return err;
	root = json_loadb(text, len, 0, NULL);
	hl_free(text);
	n = json_string_value(json_object_get(root, "name"));
	k = json_string_value(json_object_get(root, "public_key"));
	err = HL_EPARSE;
	if (n && k && strlen(n) <= HL_ID_NAME_MAX &&
	    hl_pubkey_from_text(k, pk) == 0) {
		memcpy(name, n, strlen(n) + 1);
		err = 0;
	}
	json_decref(root);
	return err;
}

static int print_identity(const char *name, const uint8_t pk[HL_ID_PK_LEN],
			  bool json)
{
	char text[HL_ID_TEXT_LEN + 1], sn[HL_SAFETY_DIGITS + 1], grouped[80];

	hl_pubkey_to_text(pk, text);
	if (hl_safety_number(pk, sn))
		return 1;
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", name,
				      "public_key", text, "safety_number", sn);
		char *s = json_dumps(o, JSON_INDENT(2));

		json_decref(o);
		if (!s)
			return 1;
		puts(s);
		free(s);
		return 0;
	}
	group5(sn, grouped, sizeof(grouped));
	printf("name:          %s\n", name);
	printf("public key:    %s\n", text);
	printf("safety number: %s\n", grouped);
	return 0;
}

static int id_new(int argc, char **argv, struct common *c)
{
	const char *name = NULL;
	struct opt t[] = {
		COMMON_OPTS(c),
		OPT("--name", OPT_PATH, 0, 0, "a name of 1 to 64 characters",
		    &name),
	};
	struct hl_identity id;
	struct hl_home *h = NULL;
	struct hl_rng rng = hl_rng_os();
	char path[HL_HOME_PATH_MAX], *pass = NULL;
	int rc, err;

	rc = parse_opts("id new", argc, argv, t, HL_ARRAY_SIZE(t), id_usage,
			NULL, 0, NULL);
	if (rc)
		return rc;
	if (!name)
		return bad("id new", "give your name with --name NAME");
	if (!hl_identity_name_valid(name))
		return bad("id new", "the name must be 1 to 64 bytes of "
				     "UTF-8 without control characters");
	if (!rng.fill)
		return fail("id new", "the system's random generator is not "
				      "available");
	rc = open_home("id new", c, true, &h);
	if (rc)
		return rc;
	if (hl_home_path(h, "identity.json", path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0) {
		rc = fail("id new",
			  "%s already exists: an identity is never replaced "
			  "by accident (move it away first if you mean it)",
			  path);
		goto out;
	}
	rc = get_passphrase("id new", c, true, &pass);
	if (rc)
		goto out;
	if (pass && strlen(pass) < 8) {
		rc = fail("id new", "choose a passphrase of at least 8 "
				    "characters");
		goto out;
	}
	err = hl_identity_generate(&id, name, &rng);
	if (!err)
		err = hl_identity_save(&id, path, pass, &rng);
	if (err) {
		rc = fail("id new", "cannot create the identity in %s: %s",
			  path,
			  err == HL_EIO ? strerror(errno) : hl_strerror(err));
		goto out_wipe;
	}
	if (!pass)
		fprintf(stderr,
			"%s: note: the identity is stored WITHOUT a "
			"passphrase, as asked\n",
			prog);
	rc = print_identity(id.name, id.pk, c->json);
out_wipe:
	hl_identity_wipe(&id);
out:
	free_secret(pass);
	hl_home_close(h);
	return rc;
}

static int id_show(int argc, char **argv, struct common *c)
{
	struct opt t[] = {
		COMMON_OPTS(c),
		OPT("--json", OPT_FLAG, 0, 0, "", &c->json),
	};
	char name[HL_ID_NAME_MAX + 1];
	uint8_t pk[HL_ID_PK_LEN];
	struct hl_home *h = NULL;
	int rc, err;

	rc = parse_opts("id show", argc, argv, t, HL_ARRAY_SIZE(t), id_usage,
			NULL, 0, NULL);
	if (!rc)
		rc = open_home("id show", c, false, &h);
	if (rc)
		return rc;
	err = peek_identity(h, name, pk);
	if (err == HL_ENOTFOUND)
		rc = fail("id show",
			  "there is no identity in %s: create one with "
			  "'hotline id new --name NAME'",
			  hl_home_dir(h));
	else if (err)
		rc = fail("id show",
			  "%s/identity.json is damaged or not an identity "
			  "file",
			  hl_home_dir(h));
	else
		rc = print_identity(name, pk, c->json);
	hl_home_close(h);
	return rc;
}

int cmd_id(int argc, char **argv)
{
	struct common c = {0};

	if (argc >= 2 && strcmp(argv[1], "new") == 0)
		return id_new(argc - 1, argv + 1, &c);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return id_show(argc - 1, argv + 1, &c);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		id_usage(stdout);
		return 0;
	}
	return bad("id", "say 'id new' or 'id show'");
}

static int contact_add(int argc, char **argv, struct common *c)
{
	struct opt t[] = {COMMON_OPTS(c)};
	const char *pos[2];
	uint8_t pk[HL_ID_PK_LEN], other[HL_ID_PK_LEN];
	char other_name[HL_ID_NAME_MAX + 1], text[HL_ID_TEXT_LEN + 1];
	char sn[HL_SAFETY_DIGITS + 1], grouped[80];
	struct hl_home *h = NULL;
	uint64_t now = hl_clock_wall_us() / 1000000;
	int rc, npos, err;

	rc = parse_opts("contact add", argc, argv, t, HL_ARRAY_SIZE(t),
			contact_usage, pos, 2, &npos);
	if (rc)
		return rc;
	if (npos != 2)
		return bad("contact add", "give a NAME and a PUBLIC_KEY");
	if (!hl_identity_name_valid(pos[0]))
		return bad("contact add", "the name must be 1 to 64 bytes of "
					  "UTF-8 without control characters");
	if (hl_pubkey_from_text(pos[1], pk))
		return bad("contact add",
			   "'%s' is not a hotline public key (they start "
			   "with hl1 and carry a checksum: copy it whole)",
			   pos[1]);
	rc = open_home("contact add", c, true, &h);
	if (rc)
		return rc;
	err = hl_home_contact_add(h, pos[0], pk, now, other, other_name);
	if (err == HL_ECONFLICT && other_name[0] &&
	    strcmp(other_name, pos[0]) != 0) {
		rc = fail("contact add",
			  "REFUSED: this key is already pinned as '%s'; one "
			  "person, one name",
			  other_name);
	} else if (err == HL_ECONFLICT) {
		hl_pubkey_to_text(other, text);
		rc = fail("contact add",
			  "REFUSED: '%s' is pinned to another key (%s). A "
			  "new key for a known name is what an impostor "
			  "would send. Check with %s in person; only if they "
			  "really have a new key, remove the old pin from "
			  "%s/contacts.json and add again",
			  pos[0], text, pos[0], hl_home_dir(h));
	} else if (err) {
		rc = fail("contact add", "cannot record the contact: %s",
			  err == HL_EIO ? strerror(errno) : hl_strerror(err));
	} else {
		if (hl_safety_number(pk, sn) == 0) {
			group5(sn, grouped, sizeof(grouped));
			printf("pinned %s, safety number %s\n", pos[0],
			       grouped);
		}
		rc = 0;
	}
	hl_home_close(h);
	return rc;
}

static int contact_list(int argc, char **argv, struct common *c)
{
	struct opt t[] = {
		COMMON_OPTS(c),
		OPT("--json", OPT_FLAG, 0, 0, "", &c->json),
	};
	struct hl_contact *list = NULL;
	struct hl_home *h = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc, err;

	rc = parse_opts("contact list", argc, argv, t, HL_ARRAY_SIZE(t),
			contact_usage, NULL, 0, NULL);
	if (!rc)
		rc = open_home("contact list", c, true, &h);
	if (rc)
		return rc;
	err = hl_home_contacts(h, &list, &n);
	if (err) {
		rc = fail("contact list", "cannot read %s/contacts.json: %s",
			  hl_home_dir(h), hl_strerror(err));
		goto out;
	}
	if (c->json)
		arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char text[HL_ID_TEXT_LEN + 1], sn[HL_SAFETY_DIGITS + 1];

		hl_pubkey_to_text(list[i].pk, text);
		if (hl_safety_number(list[i].pk, sn))
			sn[0] = 0;
		if (arr)
			json_array_append_new(
				arr, json_pack("{s:s, s:s, s:s, s:I}", "name",
					       list[i].name, "public_key", text,
					       "safety_number", sn, "added",
					       (json_int_t)list[i].added));
		else
			printf("%-20s %s\n", list[i].name, text);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		if (s)
			puts(s);
		free(s);
		json_decref(arr);
	} else if (!n) {
		printf("no contacts yet: add one with 'hotline contact add "
		       "NAME PUBLIC_KEY'\n");
	}
out:
	hl_free(list);
	hl_home_close(h);
	return rc;
}

int cmd_contact(int argc, char **argv)
{
	struct common c = {0};

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return contact_add(argc - 1, argv + 1, &c);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return contact_list(argc - 1, argv + 1, &c);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		contact_usage(stdout);
		return 0;
	}
	return bad("contact", "say 'contact add' or 'contact list'");
}
