/*
 * bench_sframe.c - time SFrame per-frame work (not a test: no assertions
 * on time).  Prints, for every suite, the cost of one encrypt and one
 * decrypt of a 100-byte and a 6000-byte frame, then the cost of the rare
 * paths: adding a key, following a ratchet step, and rejecting a forged
 * frame that claims to be 16 ratchet steps ahead (the most expensive
 * frame an attacker can send).
 *
 * Usage: bench_sframe [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotline/sframe.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const enum hl_sframe_suite suites[] = {
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_80,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_64,
	HL_SFRAME_AES_128_CTR_HMAC_SHA256_32,
	HL_SFRAME_AES_128_GCM_SHA256_128,
	HL_SFRAME_AES_256_GCM_SHA512_128,
};

static uint8_t pt[6000], frame[6000 + HL_SFRAME_OVERHEAD_MAX], back[6100];

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_sframe: %s: %s\n", what, hl_strerror(err));
	exit(1);
}

static void bench_size(enum hl_sframe_suite suite, size_t size, long iters)
{
	static const uint8_t key[32] = {1, 2, 3};
	static const uint8_t md[4] = {9, 8, 7, 6};
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	double enc = 0, dec = 0, t0;
	size_t n = 0, pn = 0;
	int err;

	if ((err = hl_sframe_sender_new(&s, suite, 0x100, key, sizeof(key))) ||
	    (err = hl_sframe_receiver_new(&r, suite)) ||
	    (err = hl_sframe_receiver_add_key(r, 0x100, key, sizeof(key))))
		die("setup", err);
	for (long i = 0; i < iters; i++) {
		pt[0] = (uint8_t)i;
		t0 = now_ns();
		err = hl_sframe_encrypt(s, md, sizeof(md), pt, size, frame,
					sizeof(frame), &n);
		enc += now_ns() - t0;
		if (err)
			die("encrypt", err);
		t0 = now_ns();
		err = hl_sframe_decrypt(r, md, sizeof(md), frame, n, back,
					sizeof(back), &pn, NULL);
		dec += now_ns() - t0;
		if (err || pn != size)
			die("decrypt", err);
	}
	printf("%-28s %5zu B  encrypt %7.0f ns  decrypt %7.0f ns  "
	       "both %7.0f ns\n",
	       hl_sframe_suite_name(suite), size, enc / (double)iters,
	       dec / (double)iters, (enc + dec) / (double)iters);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
}

static void bench_rare(enum hl_sframe_suite suite, long iters)
{
	static const uint8_t key[32] = {4, 5, 6};
	struct hl_sframe_sender *s = NULL;
	struct hl_sframe_receiver *r = NULL;
	double add = 0, follow = 0, forged = 0, t0;
	size_t n = 0, pn = 0;
	int err;

	if ((err = hl_sframe_receiver_new(&r, suite)))
		die("receiver", err);
	for (long i = 0; i < iters; i++) {
		t0 = now_ns();
		err = hl_sframe_receiver_add_key(r, 0x200, key, sizeof(key));
		add += now_ns() - t0;
		if (err)
			die("add_key", err);
	}
	if ((err = hl_sframe_sender_new(&s, suite, 0x200, key, sizeof(key))))
		die("sender", err);
	for (long i = 0; i < iters; i++) {
		if ((err = hl_sframe_sender_ratchet(s)) ||
		    (err = hl_sframe_encrypt(s, NULL, 0, pt, 100, frame,
					     sizeof(frame), &n)))
			die("ratchet", err);
		t0 = now_ns();
		err = hl_sframe_decrypt(r, NULL, 0, frame, n, back,
					sizeof(back), &pn, NULL);
		follow += now_ns() - t0;
		if (err)
			die("follow", err);
	}
	/* A frame claiming the step 16 ahead of the head, with a bad tag. */
	for (int i = 0; i < 16; i++)
		if ((err = hl_sframe_sender_ratchet(s)))
			die("ratchet", err);
	if ((err = hl_sframe_encrypt(s, NULL, 0, pt, 100, frame, sizeof(frame),
				     &n)))
		die("encrypt", err);
	frame[n - 1] ^= 1;
	for (long i = 0; i < iters; i++) {
		t0 = now_ns();
		err = hl_sframe_decrypt(r, NULL, 0, frame, n, back,
					sizeof(back), &pn, NULL);
		forged += now_ns() - t0;
		if (err != HL_EAUTH)
			die("forged frame accepted", err);
	}
	printf("%-28s add_key %6.0f ns  follow 1 step %6.0f ns  "
	       "reject forged +16 %7.0f ns\n",
	       hl_sframe_suite_name(suite), add / (double)iters,
	       follow / (double)iters, forged / (double)iters);
	hl_sframe_sender_free(s);
	hl_sframe_receiver_free(r);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;

	if (iters <= 0)
		iters = 20000;
	for (size_t i = 0; i < HL_ARRAY_SIZE(suites); i++) {
		bench_size(suites[i], 100, iters);
		bench_size(suites[i], 6000, iters);
	}
	for (size_t i = 0; i < HL_ARRAY_SIZE(suites); i++)
		bench_rare(suites[i], iters / 20 > 200 ? 200 : iters / 20 + 1);
	return 0;
}
