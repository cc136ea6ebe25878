/*
 * fuzz_ake_m3.c - libFuzzer target: arbitrary bytes as M3, to the
 * responder of the fixed exchange (fuzz_ake.h) after it answered the
 * genuine M1 with the genuine M2.
 *
 * Invariants (abort() on violation):
 *  1. No crash, no out-of-bounds read, no leak.
 *  2. The responder finishes only on the genuine M3, byte for byte, and
 *     then answers with the genuine M4 and gives the genuine result;
 *     anything else fails with HL_EAUTH, a reason, no reply and no
 *     result.
 *  3. The genuine M3 is accepted.
 *
 * Seed corpus: see fuzz_ake_m1.c.
 */
#include "fuzz_ake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m2[HL_AKE_MSG_MAX], out[HL_AKE_MSG_MAX];
	long mem0;
	struct hl_prng pr;
	struct hl_ake *r;
	size_t m2_len = 0, n = 0;
	bool genuine;
	int err;

	fz_setup();
	mem0 = hl_mem_outstanding();
	r = fz_party(HL_AKE_RESPONDER, &pr);
	if (hl_ake_recv(r, fz_m1, fz_m1_len, m2, sizeof(m2), &m2_len) ||
	    !fz_same(m2, m2_len, fz_m2, fz_m2_len))
		abort();
	genuine = fz_same(data, size, fz_m3, fz_m3_len);
	err = hl_ake_recv(r, size ? data : NULL, size, out, sizeof(out), &n);
	if (err == 0) {
		if (!genuine || !fz_same(out, n, fz_m4, fz_m4_len))
			abort(); /* invariant 2: a forged M3 was accepted */
		fz_check_result(r, &fz_res_r);
	} else {
		if (genuine || n != 0)
			abort(); /* invariant 3, or a reply after failing */
		fz_check_failed(r, err);
	}
	hl_ake_free(r);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
