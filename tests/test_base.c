/*
 * test_base.c - errors, allocation wrapper, PRNG, byte order, seq unwrap.
 */
#include <stdlib.h>

#include "harness.h"

static int test_strerror_all(void)
{
	for (int e = 0; e >= HL_ETIMEOUT; e--) {
		const char *s = hl_strerror(e);

		HT_ASSERT(s && *s);
		HT_ASSERT(strcmp(s, "unknown error") != 0);
	}
	HT_ASSERT(strcmp(hl_strerror(-999), "unknown error") == 0);
	return 0;
}

static int test_mem_counts_and_fails(void)
{
	long base = hl_mem_outstanding();
	void *a = hl_malloc(10), *b;

	HT_ASSERT(a);
	HT_EQ_INT(hl_mem_outstanding(), base + 1);
	a = hl_realloc(a, 100000);
	HT_ASSERT(a);
	HT_EQ_INT(hl_mem_outstanding(), base + 1);
	hl_mem_fail_after(0);
	b = hl_malloc(1);
	HT_ASSERT(b == NULL);
	HT_ASSERT(hl_mem_failed());
	b = hl_malloc(1); /* only one failure */
	HT_ASSERT(b != NULL);
	hl_mem_fail_after(-1);
	hl_free(a);
	hl_free(b);
	HT_ASSERT(hl_calloc(SIZE_MAX / 2, 4) == NULL); /* overflow */
	HT_EQ_INT(hl_mem_outstanding(), base);
	return 0;
}

static int test_oom_harness(void)
{
	void *a = hl_malloc(8), *b;

	if (!a)
		return hl_mem_failed() ? HT_OOM_OK : -1;
	b = hl_malloc(8);
	if (!b) {
		hl_free(a);
		return hl_mem_failed() ? HT_OOM_OK : -1;
	}
	hl_free(a);
	hl_free(b);
	return 0;
}

static int test_prng_repeats(void)
{
	struct hl_prng p, q;
	uint64_t hist[10] = {0};

	hl_prng_seed(&p, 42);
	hl_prng_seed(&q, 42);
	for (int i = 0; i < 1000; i++)
		HT_ASSERT(hl_prng_next(&p) == hl_prng_next(&q));
	hl_prng_seed(&q, 43);
	HT_ASSERT(hl_prng_next(&p) != hl_prng_next(&q));
	for (int i = 0; i < 100000; i++) {
		double u = hl_prng_unit(&p);

		HT_ASSERT(u >= 0 && u < 1);
		hist[hl_prng_below(&p, 10)]++;
	}
	for (int i = 0; i < 10; i++)
		HT_ASSERT(hist[i] > 9000 && hist[i] < 11000);
	return 0;
}

static int test_byte_order(void)
{
	uint8_t b[8];

	hl_put_be16(b, 0x1234);
	HT_EQ_INT(b[0], 0x12);
	HT_EQ_INT(hl_get_be16(b), 0x1234);
	hl_put_be24(b, 0xabcdef);
	HT_EQ_INT(hl_get_be24(b), 0xabcdef);
	hl_put_be32(b, 0xdeadbeef);
	HT_EQ_INT(hl_get_be32(b), 0xdeadbeef);
	hl_put_be64(b, 0x0102030405060708ull);
	HT_ASSERT(hl_get_be64(b) == 0x0102030405060708ull);
	HT_EQ_INT(b[7], 8);
	return 0;
}

static int test_seq_unwrap(void)
{
	HT_ASSERT(hl_seq_unwrap16(0, 5) == 5);
	HT_ASSERT(hl_seq_unwrap16(65535, 0) == 65536);
	HT_ASSERT(hl_seq_unwrap16(65536, 65535) == 65535);
	HT_ASSERT(hl_seq_unwrap16(3 * 65536 + 10, 65530) == 2 * 65536 + 65530);
	HT_ASSERT(hl_seq_unwrap16(10, 65530) == 65530); /* no negatives */
	HT_ASSERT(hl_seq_unwrap32(0xfffffff0ull, 5) == 0x100000005ull);
	HT_ASSERT(hl_seq_unwrap32(0x100000005ull, 0xfffffff0u) ==
		  0xfffffff0ull);
	return 0;
}

static int test_ct_equal_and_wipe(void)
{
	uint8_t a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	HT_ASSERT(hl_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	HT_ASSERT(!hl_ct_equal(a, b, sizeof(a)));
	hl_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		HT_EQ_INT(a[i], 0);
	return 0;
}

/* Grows by doubling from 1 KiB, stays NUL-terminated, and on an
 * allocation failure leaves the text as it was. */
static int test_text_append(void)
{
	char *buf = NULL, piece[700];
	size_t len = 0, cap = 0;
	int err = 0;

	memset(piece, 'x', sizeof(piece));
	for (int i = 0; i < 10 && !err; i++)
		err = hl_text_append(&buf, &len, &cap, piece, sizeof(piece));
	if (err) {
		HT_EQ_INT(err, HL_ENOMEM);
		HT_ASSERT(len % sizeof(piece) == 0);
		HT_ASSERT(!buf || buf[len] == 0);
	} else {
		HT_EQ_INT(len, 7000);
		HT_EQ_INT(cap, 8192);
		HT_EQ_INT(buf[6999], 'x');
		HT_EQ_INT(buf[7000], 0);
	}
	HT_EQ_INT(hl_text_append(&buf, &len, &cap, piece, SIZE_MAX / 2),
		  HL_ETOOBIG);
	hl_free(buf);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST_OOM(test_text_append),	    HT_TEST(test_strerror_all),
	HT_TEST(test_mem_counts_and_fails), HT_TEST_OOM(test_oom_harness),
	HT_TEST(test_prng_repeats),	    HT_TEST(test_byte_order),
	HT_TEST(test_seq_unwrap),	    HT_TEST(test_ct_equal_and_wipe),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
