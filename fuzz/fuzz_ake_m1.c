/*
 * fuzz_ake_m1.c - libFuzzer target: arbitrary bytes as M1, to a fresh
 * responder of the fixed exchange (fuzz_ake.h).
 *
 * M1 carries no signature, so the responder may well answer a fuzzed
 * M1; what must hold is that nobody is fooled by it.
 * Invariants (abort() on violation):
 *  1. No crash, no out-of-bounds read, no leak.
 *  2. The responder never finishes on M1 alone.  It either fails
 *     (HL_EAUTH, a reason, no reply, no result) or answers with an M2.
 *  3. The genuine initiator accepts that M2 only if the input was the
 *     genuine M1, byte for byte: then it answers with M3 but is not done
 *     until R's M4, and the exchange completes with the genuine results
 *     on both sides.  The genuine M1 always gets there.
 *
 * Regenerate the seed corpora of all four AKE targets (repository root,
 * after building build/):
 *   cc -DHL_FUZZ_AKE_SEEDS -Iinclude fuzz/fuzz_ake_m1.c \
 *      build/libhotline.a $(pkg-config --libs libcrypto libsodium) \
 *      -lpthread -o /tmp/gen && /tmp/gen fuzz/corpus
 * Every seed comes from the seeded parties of fuzz_ake.h, so the output
 * is the same each time.
 */
#include <stdio.h>

#include "fuzz_ake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m1[HL_AKE_MSG_MAX], m2[HL_AKE_MSG_MAX],
		m3[HL_AKE_MSG_MAX], m4[HL_AKE_MSG_MAX];
	long mem0;
	struct hl_prng pi, pr;
	struct hl_ake *i, *r;
	size_t m1_len = 0, m2_len = 0, m3_len = 0, m4_len = 0, n = 0;
	bool genuine;
	int err;

	fz_setup();
	mem0 = hl_mem_outstanding();
	genuine = fz_same(data, size, fz_m1, fz_m1_len);
	r = fz_party(HL_AKE_RESPONDER, &pr);
	err = hl_ake_recv(r, size ? data : NULL, size, m2, sizeof(m2), &m2_len);
	if (err) {
		if (genuine || m2_len != 0)
			abort();
		fz_check_failed(r, err);
		goto out;
	}
	if (hl_ake_done(r) || m2_len == 0)
		abort(); /* invariant 2 */
	i = fz_party(HL_AKE_INITIATOR, &pi);
	if (hl_ake_start(i, m1, sizeof(m1), &m1_len))
		abort();
	err = hl_ake_recv(i, m2, m2_len, m3, sizeof(m3), &m3_len);
	if (err) {
		if (genuine)
			abort(); /* invariant 3: the genuine exchange failed */
		fz_check_failed(i, err);
	} else {
		if (!genuine)
			abort(); /* invariant 3: fooled by a fuzzed M1 */
		fz_check_not_done(i);
		if (hl_ake_recv(r, m3, m3_len, m4, sizeof(m4), &m4_len) ||
		    hl_ake_recv(i, m4, m4_len, NULL, 0, &n) || n != 0)
			abort();
		fz_check_result(i, &fz_res_i);
		fz_check_result(r, &fz_res_r);
	}
	hl_ake_free(i);
out:
	hl_ake_free(r);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}

#ifdef HL_FUZZ_AKE_SEEDS
/* ---- seed corpus generator (not part of the fuzz build) ---------------- */

#include <sys/stat.h>

static const char *top;

/* top/target, if it is not there yet (fopen() below reports failures). */
static void make_dir(const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", top, target);
	(void)mkdir(path, 0755);
}

static void save(const char *target, const char *name, const uint8_t *b,
		 size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f))
		abort();
}

/* Save msg with byte at changed to v. */
static void save_with(const char *target, const char *name, const uint8_t *msg,
		      size_t len, size_t at, uint8_t v)
{
	uint8_t b[HL_AKE_MSG_MAX + 1];

	memcpy(b, msg, len);
	b[at] = v;
	save(target, name, b, len);
}

/* An exchange with other seeds: a different, equally valid M1..M4. */
static void other_session(uint8_t *m1, size_t *l1, uint8_t *m2, size_t *l2,
			  uint8_t *m3, size_t *l3, uint8_t *m4, size_t *l4)
{
	struct hl_prng pi, pr;
	struct hl_ake *i = fz_party(HL_AKE_INITIATOR, &pi);
	struct hl_ake *r = fz_party(HL_AKE_RESPONDER, &pr);

	hl_prng_seed(&pi, 77);
	hl_prng_seed(&pr, 78);
	if (hl_ake_start(i, m1, HL_AKE_MSG_MAX, l1) ||
	    hl_ake_recv(r, m1, *l1, m2, HL_AKE_MSG_MAX, l2) ||
	    hl_ake_recv(i, m2, *l2, m3, HL_AKE_MSG_MAX, l3) ||
	    hl_ake_recv(r, m3, *l3, m4, HL_AKE_MSG_MAX, l4))
		abort();
	hl_ake_free(i);
	hl_ake_free(r);
}

int main(int argc, char **argv)
{
	static uint8_t o1[HL_AKE_MSG_MAX], o2[HL_AKE_MSG_MAX],
		o3[HL_AKE_MSG_MAX], o4[HL_AKE_MSG_MAX], b[HL_AKE_MSG_MAX + 1];
	struct hl_ake_m1 m1;
	struct hl_ake_m2 m2;
	size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0, n = 0;
	uint8_t zero[32] = {0}, big[HL_AKE_TRANSPORT_MAX];
	char why[256];

	if (argc != 2) {
		fprintf(stderr, "usage: %s fuzz/corpus\n", argv[0]);
		return 2;
	}
	top = argv[1];
	make_dir("ake_m1");
	make_dir("ake_m2");
	make_dir("ake_m3");
	make_dir("ake_m4");
	fz_setup();
	other_session(o1, &l1, o2, &l2, o3, &l3, o4, &l4);

	/* M1: genuine, another session's, wrong call, foreign suites,
	 * PQ only, low-order key, largest transport, cut, one byte more. */
	save("ake_m1", "genuine", fz_m1, fz_m1_len);
	save("ake_m1", "other-session", o1, l1);
	save_with("ake_m1", "wrong-call-id", fz_m1, fz_m1_len, 5, 0xee);
	if (hl_ake_m1_decode(fz_m1, fz_m1_len, &m1, why, sizeof(why)))
		abort();
	m1.offer.n = 3;
	m1.offer.s[0] = 1;
	m1.offer.s[1] = 2;
	m1.offer.s[2] = 5;
	if (hl_ake_m1_encode(&m1, b, sizeof(b), &n))
		abort();
	save("ake_m1", "offer-outside-contract", b, n);
	m1.offer.n = 1;
	m1.offer.s[0] = 2;
	if (hl_ake_m1_encode(&m1, b, sizeof(b), &n))
		abort();
	save("ake_m1", "offer-pq-only", b, n);
	if (hl_ake_m1_decode(fz_m1, fz_m1_len, &m1, why, sizeof(why)))
		abort();
	m1.e = zero;
	if (hl_ake_m1_encode(&m1, b, sizeof(b), &n))
		abort();
	save("ake_m1", "low-order-key", b, n);
	if (hl_ake_m1_decode(fz_m1, fz_m1_len, &m1, why, sizeof(why)))
		abort();
	memset(big, 't', sizeof(big));
	m1.transport = big;
	m1.transport_len = sizeof(big);
	if (hl_ake_m1_encode(&m1, b, sizeof(b), &n))
		abort();
	save("ake_m1", "transport-max", b, n);
	save("ake_m1", "truncated", fz_m1, fz_m1_len / 2);
	memcpy(b, fz_m1, fz_m1_len);
	b[fz_m1_len] = 0;
	save("ake_m1", "trailing-byte", b, fz_m1_len + 1);

	/* M2: genuine, another session's, our M1 reflected, chosen suite
	 * changed, echo changed, supported widened, MAC flipped, cut. */
	save("ake_m2", "genuine", fz_m2, fz_m2_len);
	save("ake_m2", "other-session", o2, l2);
	save("ake_m2", "reflected-m1", fz_m1, fz_m1_len);
	save_with("ake_m2", "chosen-0002", fz_m2, fz_m2_len, 6, 2);
	if (hl_ake_m2_decode(fz_m2, fz_m2_len, &m2, why, sizeof(why)))
		abort();
	m2.offered.n = 2;
	m2.offered.s[1] = 2;
	if (hl_ake_m2_encode(&m2, b, sizeof(b), &n))
		abort();
	save("ake_m2", "echo-altered", b, n);
	if (hl_ake_m2_decode(fz_m2, fz_m2_len, &m2, why, sizeof(why)))
		abort();
	m2.supported.n = 2;
	m2.supported.s[1] = 2;
	if (hl_ake_m2_encode(&m2, b, sizeof(b), &n))
		abort();
	save("ake_m2", "supported-widened", b, n);
	save_with("ake_m2", "mac-flipped", fz_m2, fz_m2_len, fz_m2_len - 1,
		  fz_m2[fz_m2_len - 1] ^ 1);
	save("ake_m2", "truncated", fz_m2, fz_m2_len - 40);

	/* M3: genuine, another session's, our M2 reflected, signature or
	 * MAC flipped, cut, one byte more. */
	save("ake_m3", "genuine", fz_m3, fz_m3_len);
	save("ake_m3", "other-session", o3, l3);
	save("ake_m3", "reflected-m2", fz_m2, fz_m2_len);
	save_with("ake_m3", "sig-flipped", fz_m3, fz_m3_len, 5, fz_m3[5] ^ 1);
	save_with("ake_m3", "mac-flipped", fz_m3, fz_m3_len, fz_m3_len - 1,
		  fz_m3[fz_m3_len - 1] ^ 0x80);
	save("ake_m3", "truncated", fz_m3, fz_m3_len - 1);
	memcpy(b, fz_m3, fz_m3_len);
	b[fz_m3_len] = 0;
	save("ake_m3", "trailing-byte", b, fz_m3_len + 1);

	/* M4: genuine, another session's, our M3 reflected, MAC flipped,
	 * M4's bytes labelled M3, cut, one byte more. */
	save("ake_m4", "genuine", fz_m4, fz_m4_len);
	save("ake_m4", "other-session", o4, l4);
	save("ake_m4", "reflected-m3", fz_m3, fz_m3_len);
	save_with("ake_m4", "mac-flipped", fz_m4, fz_m4_len, fz_m4_len - 1,
		  fz_m4[fz_m4_len - 1] ^ 1);
	save_with("ake_m4", "type-3", fz_m4, fz_m4_len, 4, HL_AKE_M3);
	save("ake_m4", "truncated", fz_m4, fz_m4_len - 1);
	memcpy(b, fz_m4, fz_m4_len);
	b[fz_m4_len] = 0;
	save("ake_m4", "trailing-byte", b, fz_m4_len + 1);
	return 0;
}
#endif
