/*
 * fuzz_ake_m2.c - libFuzzer target: arbitrary bytes as M2, to the
 * initiator of the fixed exchange (fuzz_ake.h) right after it sent M1.
 *
 * Invariants (abort() on violation):
 *  1. No crash, no out-of-bounds read, no leak (hl_mem_outstanding()).
 *  2. The initiator accepts only the genuine M2, byte for byte, and then
 *     answers with the genuine M3 but is not done (no result) until the
 *     genuine M4 comes, after which it gives the genuine result.
 *     Anything else fails with HL_EAUTH, a reason, no reply and no
 *     result.
 *  3. The genuine M2 is accepted (the check above is not vacuous).
 *
 * Seed corpus: see fuzz_ake_m1.c (one generator writes all four).
 */
#include "fuzz_ake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m1[HL_AKE_MSG_MAX], out[HL_AKE_MSG_MAX];
	long mem0;
	struct hl_prng pi;
	struct hl_ake *i;
	size_t m1_len = 0, n = 0;
	bool genuine;
	int err;

	fz_setup();
	mem0 = hl_mem_outstanding();
	i = fz_party(HL_AKE_INITIATOR, &pi);
	if (hl_ake_start(i, m1, sizeof(m1), &m1_len) ||
	    !fz_same(m1, m1_len, fz_m1, fz_m1_len))
		abort();
	genuine = fz_same(data, size, fz_m2, fz_m2_len);
	err = hl_ake_recv(i, size ? data : NULL, size, out, sizeof(out), &n);
	if (err == 0) {
		if (!genuine || !fz_same(out, n, fz_m3, fz_m3_len))
			abort(); /* invariant 2: a forged M2 was accepted */
		fz_check_not_done(i); /* invariant 2: not before M4 */
		if (hl_ake_recv(i, fz_m4, fz_m4_len, NULL, 0, &n) || n != 0)
			abort();
		fz_check_result(i, &fz_res_i);
	} else {
		if (genuine)
			abort(); /* invariant 3 */
		fz_check_failed(i, err);
		if (n != 0)
			abort();
	}
	hl_ake_free(i);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
