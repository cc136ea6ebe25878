/*
 * fuzz_identity_file.c - libFuzzer target for the identity.json parser
 * (src/identity/idfile.c, docs/protocol.md §5.1).
 *
 * The input is the file's text.  Invariants (abort() on violation):
 *  1. a parsed file has a valid name and, if sealed, KDF parameters inside
 *     the load bounds (so Argon2id can never be asked for more);
 *  2. parse -> format -> parse gives the same fields;
 *  3. a file in clear opens only to the key it states; a sealed file never
 *     opens without a passphrase (HL_ESTATE), and with the passphrase
 *     "fuzz" (tried when the parameters are cheap) it either fails with
 *     HL_EAUTH or opens to the key it states;
 *  4. no hl_malloc block is leaked.
 *
 * Seeds (fuzz/corpus/identity_file/): files written by
 * hl_identity_save_params() with passphrase "fuzz", opslimit 1, memlimit
 * 8192 (sealed-cheap), the same in clear, one with the default
 * parameters, and a few refused ones (newer version, truncated).
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/identity.h"
#include "../src/identity/identity_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct hl_identity_file *a,
		 const struct hl_identity_file *b)
{
	if (strcmp(a->name, b->name) != 0 ||
	    memcmp(a->pk, b->pk, sizeof(a->pk)) != 0 || a->sealed != b->sealed)
		return false;
	if (!a->sealed)
		return memcmp(a->seed, b->seed, sizeof(a->seed)) == 0;
	return a->opslimit == b->opslimit && a->memlimit == b->memlimit &&
	       memcmp(a->salt, b->salt, sizeof(a->salt)) == 0 &&
	       memcmp(a->nonce, b->nonce, sizeof(a->nonce)) == 0 &&
	       memcmp(a->sealed_seed, b->sealed_seed, sizeof(a->sealed_seed)) ==
		       0;
}

static void check(const uint8_t *data, size_t size)
{
	struct hl_identity_file f, g;
	struct hl_identity id;
	char *text = NULL;
	size_t len = 0;
	int err;

	if (hl_identity_file_parse(&f, (const char *)data, size) != 0)
		return;
	if (!hl_identity_name_valid(f.name))
		abort();
	if (f.sealed &&
	    (f.opslimit < HL_ID_KDF_OPS_MIN || f.opslimit > HL_ID_KDF_OPS_MAX ||
	     f.memlimit < HL_ID_KDF_MEM_MIN || f.memlimit > HL_ID_KDF_MEM_MAX))
		abort();
	err = hl_identity_file_format(&f, &text, &len);
	if (err == HL_ENOMEM)
		goto out;
	if (err || hl_identity_file_parse(&g, text, len) != 0 || !same(&f, &g))
		abort();
	if (!f.sealed) {
		err = hl_identity_file_open(&f, NULL, &id);
		if (err != 0 && err != HL_EAUTH)
			abort();
		if (!err && memcmp(id.pk, f.pk, sizeof(id.pk)) != 0)
			abort();
	} else {
		if (hl_identity_file_open(&f, NULL, &id) != HL_ESTATE)
			abort();
		if (f.opslimit <= 2 && f.memlimit <= 65536) {
			err = hl_identity_file_open(&f, "fuzz", &id);
			if (err != 0 && err != HL_EAUTH && err != HL_ENOMEM)
				abort();
			if (!err && memcmp(id.pk, f.pk, sizeof(id.pk)) != 0)
				abort();
		}
	}
out:
	hl_identity_wipe(&id);
	hl_wipe(&f, sizeof(f));
	hl_wipe(&g, sizeof(g));
	if (text) {
		hl_wipe(text, len);
		hl_free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();

	check(data, size);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
