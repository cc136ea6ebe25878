/*
 * fuzz_ake_m4.c - libFuzzer target: arbitrary bytes as M4, to the
 * initiator of the fixed exchange (fuzz_ake.h) after it answered the
 * genuine M2 with the genuine M3 (state WAIT_M4: keys and SAS derived,
 * not yet given out).
 *
 * Invariants (abort() on violation):
 *  1. No crash, no out-of-bounds read, no leak.
 *  2. The initiator finishes only on the genuine M4, byte for byte, with
 *     no reply and the genuine result; anything else (its own M3
 *     reflected, another session's M4, a flipped MAC ...) fails with
 *     HL_EAUTH, a reason, no reply and no result.
 *  3. The genuine M4 is accepted.
 *
 * Seed corpus: see fuzz_ake_m1.c.
 */
#include "fuzz_ake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m1[HL_AKE_MSG_MAX], m3[HL_AKE_MSG_MAX],
		out[HL_AKE_MSG_MAX];
	long mem0;
	struct hl_prng pi;
	struct hl_ake *i;
	size_t m1_len = 0, m3_len = 0, n = 0;
	bool genuine;
	int err;

	fz_setup();
	mem0 = hl_mem_outstanding();
	i = fz_party(HL_AKE_INITIATOR, &pi);
	if (hl_ake_start(i, m1, sizeof(m1), &m1_len) ||
	    !fz_same(m1, m1_len, fz_m1, fz_m1_len) ||
	    hl_ake_recv(i, fz_m2, fz_m2_len, m3, sizeof(m3), &m3_len) ||
	    !fz_same(m3, m3_len, fz_m3, fz_m3_len))
		abort();
	fz_check_not_done(i);
	genuine = fz_same(data, size, fz_m4, fz_m4_len);
	err = hl_ake_recv(i, size ? data : NULL, size, out, sizeof(out), &n);
	if (err == 0) {
		if (!genuine || n != 0)
			abort(); /* invariant 2: a forged M4 was accepted */
		fz_check_result(i, &fz_res_i);
	} else {
		if (genuine || n != 0)
			abort(); /* invariant 3, or a reply after failing */
		fz_check_failed(i, err);
	}
	hl_ake_free(i);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
