/*
 * fuzz_sframe_decrypt.c - libFuzzer target for the SFrame receiver
 * (RFC 9605 §4.4.4, §5.1 ratchet following, replay window, key table).
 *
 * Input: byte 0 picks the cipher suite; then a script of operations, each
 * starting with an op byte:
 *   op % 4 == 0 or 1  decrypt: 1 byte metadata length (mod 33), metadata,
 *                     2 bytes frame length (BE, clipped to what is left),
 *                     frame;
 *   op % 4 == 2       add_key: 1 byte picks a generation (mod NGEN);
 *   op % 4 == 3       remove_generation: 1 byte picks a generation.
 * At most MAX_DECRYPTS decrypt operations run per input.  A fresh receiver
 * per input starts with the keys of generations 0 and 1 (step 0).  The
 * base key of every generation is fixed (gen_key), so the fuzzer knows
 * every key the receiver can hold: for (generation g, step s) it is
 * gen_key(g) ratcheted s times.
 *
 * Invariants (abort() on violation):
 *  1. Nothing crashes, reads out of bounds or leaks (hl_mem_outstanding()
 *     returns to its start value).
 *  2. Only genuine frames authenticate.  Precisely: if decrypt succeeds
 *     with KID k and plaintext P, then a real sender holding the key of k
 *     (generation key ratcheted step(k) times), with its counter moved to
 *     the frame's CTR, must encrypt (metadata, P) to exactly the input
 *     frame.  Encryption is deterministic, so this says the frame is what
 *     the key holder would have sent: a mutated or random frame that
 *     passes is a forgery.  The seed corpus holds such genuine frames
 *     (made by the real sender, see the generator at the end), so some
 *     inputs do authenticate and the check is exercised.  With at most
 *     MAX_DECRYPTS followed steps of 16 the step never wraps (< 256), so
 *     step(k) is the absolute ratchet count.  For suite 3 (32-bit tags) a
 *     random forgery succeeds with probability 2^-32 per try, which RFC
 *     9605 §7.5 accepts; there a mismatch is counted, not aborted on.
 *  3. No (KID, CTR) is accepted twice while the keys of its generation
 *     were not re-added or removed (which legitimately resets history).
 *  4. Every accepted KID belongs to a generation the fuzzer installed.
 *
 * Regenerate the seed corpus (from the repository root):
 *   cc -DHL_FUZZ_SFRAME_SEEDS -Iinclude fuzz/fuzz_sframe_decrypt.c \
 *      build/libhotline.a $(pkg-config --libs libcrypto libsodium) \
 *      -lpthread -o /tmp/gen && /tmp/gen fuzz/corpus/sframe_decrypt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/sframe.h"

#include "../src/e2ee/sframe_internal.h"

#define NGEN	     4
#define MAX_DECRYPTS 15
#define MAX_OPS	     40
#define MD_MAX	     32

static const enum hl_sframe_suite suites[] = {
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_80,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_64,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_32,
	HL_SFRAME_AES_128_GCM_SHA256_128,
	HL_SFRAME_AES_256_GCM_SHA512_128,
};

/* Generations used: short, 1-byte, 3-byte and the largest KIDs. */
static const uint64_t gens[NGEN] = {0, 1, 0x1234, 0xffffffffffffffull};

static void gen_key(unsigned g, uint8_t key[32])
{
	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 17 + g * 29 + 3);
}

static uint8_t frame_out[65536 + HL_SFRAME_OVERHEAD_MAX];
static uint8_t reenc[65536 + 2 * HL_SFRAME_OVERHEAD_MAX];

struct accepted {
	unsigned gen;
	uint64_t kid, ctr;
};

/* Invariant 2: the frame is what the key holder would have sent. */
static bool genuine(enum hl_sframe_suite suite, unsigned g, uint64_t kid,
		    const uint8_t *md, size_t md_len, const uint8_t *frame,
		    size_t frame_len, const uint8_t *pt, size_t pt_len)
{
	struct hl_sframe_sender *s = NULL;
	uint64_t hkid = 0, ctr = 0;
	uint8_t key[32];
	size_t hl = 0, n = 0;
	bool ok = false;

	gen_key(g, key);
	if (hl_sframe_header_decode(frame, frame_len, &hkid, &ctr, &hl) ||
	    hkid != kid)
		goto out;
	if (hl_sframe_sender_new(&s, suite, gens[g] << 8, key, sizeof(key)))
		abort();
	for (unsigned i = 0; i < (kid & 0xff); i++)
		if (hl_sframe_sender_ratchet(s))
			abort();
	if (hl_sframe_sender_skip_to(s, ctr) ||
	    hl_sframe_encrypt(s, md, md_len, pt, pt_len, reenc, sizeof(reenc),
			      &n))
		abort();
	ok = n == frame_len && memcmp(reenc, frame, n) == 0;
out:
	hl_sframe_sender_free(s);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct accepted seen[MAX_DECRYPTS];
	long mem0 = hl_mem_outstanding();
	struct hl_sframe_receiver *r = NULL;
	enum hl_sframe_suite suite;
	size_t pos = 1, nseen = 0;
	unsigned decrypts = 0, ops = 0;
	uint8_t key[32];

	if (size < 1)
		return 0;
	suite = suites[data[0] % HL_ARRAY_SIZE(suites)];
	if (hl_sframe_receiver_new(&r, suite))
		abort();
	for (unsigned g = 0; g < 2; g++) {
		gen_key(g, key);
		if (hl_sframe_receiver_add_key(r, gens[g] << 8, key,
					       sizeof(key)))
			abort();
	}
	while (pos < size && ops++ < MAX_OPS && decrypts < MAX_DECRYPTS) {
		uint8_t op = data[pos++];

		if (op % 4 >= 2) {
			unsigned g;

			if (pos >= size)
				break;
			g = data[pos++] % NGEN;
			if (op % 4 == 2) {
				gen_key(g, key);
				if (hl_sframe_receiver_add_key(
					    r, gens[g] << 8, key, sizeof(key)))
					abort();
			} else {
				hl_sframe_receiver_remove_generation(
					r, gens[g] << 8);
			}
			/* History of that generation legitimately resets. */
			for (size_t i = 0; i < nseen;)
				if (seen[i].gen == g)
					seen[i] = seen[--nseen];
				else
					i++;
			continue;
		}
		/* decrypt */
		size_t md_len, flen, n = 0;
		const uint8_t *md, *frame;
		uint64_t kid = 0;
		int err;
		unsigned g;

		if (pos >= size)
			break;
		md_len = data[pos++] % (MD_MAX + 1);
		if (md_len > size - pos)
			md_len = size - pos;
		md = data + pos;
		pos += md_len;
		if (size - pos < 2)
			break;
		flen = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (flen > size - pos)
			flen = size - pos;
		frame = data + pos;
		pos += flen;
		decrypts++;
		err = hl_sframe_decrypt(r, md_len ? md : NULL, md_len, frame,
					flen, frame_out, sizeof(frame_out), &n,
					&kid);
		if (err == HL_EAUTH || err == HL_EREPLAY)
			continue;
		if (err)
			abort(); /* no other outcome exists for this input */
		for (g = 0; g < NGEN && gens[g] != kid >> 8; g++)
			;
		if (g == NGEN)
			abort(); /* invariant 4 */
		if (!genuine(suite, g, kid, md, md_len, frame, flen, frame_out,
			     n) &&
		    suite != HL_SFRAME_AES_128_CTR_HMAC_SHA256_32)
			abort(); /* invariant 2: a forgery authenticated */
		uint64_t ctr = 0;
		size_t hl = 0;

		if (hl_sframe_header_decode(frame, flen, &kid, &ctr, &hl))
			abort();
		for (size_t i = 0; i < nseen; i++)
			if (seen[i].kid == kid && seen[i].ctr == ctr)
				abort(); /* invariant 3: a replay got in */
		seen[nseen++] = (struct accepted){g, kid, ctr};
	}
	hl_sframe_receiver_free(r);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}

#ifdef HL_FUZZ_SFRAME_SEEDS
/* ---- seed corpus generator (not part of the fuzz build) ---------------- */

struct script {
	uint8_t b[16384];
	size_t len;
};

static void put(struct script *sc, const void *p, size_t n)
{
	if (sc->len + n > sizeof(sc->b))
		abort();
	memcpy(sc->b + sc->len, p, n);
	sc->len += n;
}

static void put1(struct script *sc, uint8_t v)
{
	put(sc, &v, 1);
}

/* Append a decrypt op with a frame from s (md_len bytes of metadata). */
static void op_frame(struct script *sc, struct hl_sframe_sender *s,
		     size_t md_len, size_t pt_len)
{
	uint8_t md[MD_MAX], pt[4096], out[4096 + HL_SFRAME_OVERHEAD_MAX];
	size_t n = 0;

	for (size_t i = 0; i < md_len; i++)
		md[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < pt_len; i++)
		pt[i] = (uint8_t)(i * 7);
	if (hl_sframe_encrypt(s, md, md_len, pt, pt_len, out, sizeof(out), &n))
		abort();
	put1(sc, 0);
	put1(sc, (uint8_t)md_len);
	put(sc, md, md_len);
	put1(sc, (uint8_t)(n >> 8));
	put1(sc, (uint8_t)n);
	put(sc, out, n);
}

/* Append a decrypt op with raw bytes as the frame. */
static void op_raw(struct script *sc, const uint8_t *frame, size_t n)
{
	put1(sc, 1);
	put1(sc, 0);
	put1(sc, (uint8_t)(n >> 8));
	put1(sc, (uint8_t)n);
	put(sc, frame, n);
}

static struct hl_sframe_sender *sender(unsigned suite_idx, unsigned g,
				       unsigned steps)
{
	struct hl_sframe_sender *s = NULL;
	uint8_t key[32];

	gen_key(g, key);
	if (hl_sframe_sender_new(&s, suites[suite_idx], gens[g] << 8, key,
				 sizeof(key)))
		abort();
	for (unsigned i = 0; i < steps; i++)
		if (hl_sframe_sender_ratchet(s))
			abort();
	return s;
}

static void save(const char *dir, const char *name, const struct script *sc)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(sc->b, 1, sc->len, f) != sc->len || fclose(f))
		abort();
}

int main(int argc, char **argv)
{
	struct hl_sframe_sender *s, *t;
	struct script sc;
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	/* One genuine frame per suite (generation 1, step 0). */
	for (unsigned i = 0; i < 5; i++) {
		sc.len = 0;
		put1(&sc, (uint8_t)i);
		s = sender(i, 1, 0);
		op_frame(&sc, s, 4, 20);
		hl_sframe_sender_free(s);
		snprintf(name, sizeof(name), "one-frame-suite%u", i + 1);
		save(argv[1], name, &sc);
	}
	/* Out of order, replay, ratchet +1, late frame, +16, +17 refused. */
	sc.len = 0;
	put1(&sc, 3);
	s = sender(3, 0, 0);
	op_frame(&sc, s, 0, 10); /* ctr 0 */
	t = sender(3, 0, 0);
	if (hl_sframe_sender_skip_to(t, 1))
		abort();
	op_frame(&sc, s, 0, 0); /* ctr 1 */
	op_frame(&sc, t, 0, 0); /* ctr 1 again: replay */
	hl_sframe_sender_free(t);
	if (hl_sframe_sender_ratchet(s))
		abort();
	op_frame(&sc, s, 8, 100);
	t = sender(3, 0, 0);
	if (hl_sframe_sender_skip_to(t, 9))
		abort();
	op_frame(&sc, t, 0, 5); /* late, previous step */
	hl_sframe_sender_free(t);
	for (int i = 0; i < 16; i++)
		if (hl_sframe_sender_ratchet(s))
			abort();
	op_frame(&sc, s, 1, 30); /* +16 */
	for (int i = 0; i < 17; i++)
		if (hl_sframe_sender_ratchet(s))
			abort();
	op_frame(&sc, s, 1, 30); /* +17: refused */
	hl_sframe_sender_free(s);
	save(argv[1], "ratchet-replay-gcm", &sc);

	/* Key management ops around genuine frames (CTR+HMAC 80). */
	sc.len = 0;
	put1(&sc, 0);
	put1(&sc, 2); /* add generation 2 */
	put1(&sc, 2);
	s = sender(0, 2, 0);
	op_frame(&sc, s, 3, 64);
	put1(&sc, 3); /* remove generation 2 */
	put1(&sc, 2);
	op_frame(&sc, s, 3, 64); /* now unknown */
	put1(&sc, 2);		 /* add generation 3 (largest KID) */
	put1(&sc, 3);
	hl_sframe_sender_free(s);
	s = sender(0, 3, 2);
	op_frame(&sc, s, 0, 1);
	hl_sframe_sender_free(s);
	save(argv[1], "keys-ctr-hmac80", &sc);

	/* A large frame with a long counter (AES-256-GCM). */
	sc.len = 0;
	put1(&sc, 4);
	s = sender(4, 1, 0);
	if (hl_sframe_sender_skip_to(s, 0x0123456789abcdefull))
		abort();
	op_frame(&sc, s, MD_MAX, 3000);
	hl_sframe_sender_free(s);
	save(argv[1], "big-frame-gcm256", &sc);

	/* Malformed frames: empty, header only, non-minimal, truncated. */
	sc.len = 0;
	put1(&sc, 1);
	op_raw(&sc, (const uint8_t *)"", 0);
	op_raw(&sc, (const uint8_t[]){0x10}, 1);
	op_raw(&sc, (const uint8_t[]){0x80, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, 10);
	op_raw(&sc, (const uint8_t[]){0xff, 0xff, 0xff}, 3);
	op_raw(&sc, (const uint8_t[]){0x11, 0, 0, 0, 0, 0, 0, 0, 0}, 9);
	save(argv[1], "malformed", &sc);
	return 0;
}
#endif
