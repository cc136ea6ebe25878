/*
 * fuzz_call_recv.c - libFuzzer target for the call engine's whole receive
 * path: RTP/RTCP demultiplexing, RED and RTX unwrapping, the VP8 frame
 * buffer, NACK tracking, the audio jitter buffer, SFrame decryption and
 * (for authentic frames) the VP8 and Opus decoders.
 *
 * Input: records of [length (2 bytes, low 11 bits)][ms to wait (1 byte)]
 * [datagram].  Each input runs against a fresh receiving call ("bob")
 * that knows the test key and the SSRCs of a real sender ("alice"), so
 * mutated authentic packets reach deep.  Between datagrams the target
 * fires timers, pulls audio every 20 ms, drains pictures and datagrams.
 * Invariants: no crash or sanitizer report, nothing leaked, no picture or
 * sound from a frame that did not authenticate (the mock-free engine
 * reports it through its counters: decoded frames never exceed
 * authenticated ones).
 *
 * Seeds: HL_FUZZ_GEN_SEEDS=DIR makes the target write, at start, seed
 * inputs recorded from a real alice sending to bob (the committed corpus
 * in fuzz/corpus/call_recv was made so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotline/core.h"
#include "hotline/media.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "hotline fuzz secret";
static struct hl_call_ssrcs alice_ssrcs;

static int make_call(struct hl_call **out, enum hl_call_role role,
		     uint64_t seed, struct hl_prng *p, bool send)
{
	struct hl_call_config cc;
	int err;

	hl_call_config_defaults(&cc);
	hl_prng_seed(p, seed);
	cc.role = role;
	cc.rng = hl_prng_as_rng(p);
	cc.width = cc.height = 64;
	cc.video_kbps = 100;
	cc.send_video = cc.send_audio = send;
	err = hl_call_test_keys(role, secret, sizeof(secret) - 1, &cc.keys);
	if (!err)
		err = hl_call_new(out, &cc, 0);
	return err;
}

/* Record 3 s of what alice sends into a few seed files. */
static void gen_seeds(const char *dir)
{
	struct hl_prng pa;
	struct hl_call *a;
	struct hl_image *img;
	uint8_t rec[1 << 16], pkt[2048];
	size_t off = 0, len;
	uint64_t last = 0;
	int file = 0;

	if (make_call(&a, HL_CALL_ROLE_A, 1, &pa, true) ||
	    hl_image_new(&img, 64, 64))
		abort();
	for (uint64_t t = 0; t <= 3000000 && file < 12; t += 1000) {
		if (t % 33000 == 0) {
			struct hl_stamp st = {(uint32_t)(t / 33000), t};

			hl_pattern_render(img, &st);
			if (hl_call_send_video(a, img, t, t))
				abort();
		}
		if (t % 20000 == 0) {
			int16_t pcm[HL_AUDIO_FRAME_SAMPLES];

			hl_tone_render(pcm, (uint16_t)(t / 20000));
			if (hl_call_send_audio(a, pcm, t, t))
				abort();
		}
		if (hl_call_next_timeout(a) <= t &&
		    hl_call_handle_timeout(a, t))
			abort();
		while (hl_call_poll_transmit(a, pkt, sizeof(pkt), &len) == 0) {
			uint64_t dt = (t - last) / 1000;

			if (off + 3 + len > sizeof(rec) || off > 6000) {
				char path[4200];
				FILE *f;

				snprintf(path, sizeof(path), "%s/alice-%02d",
					 dir, file++);
				f = fopen(path, "wb");
				if (!f || fwrite(rec, 1, off, f) != off)
					abort();
				fclose(f);
				off = 0;
			}
			rec[off++] = (uint8_t)(len >> 8);
			rec[off++] = (uint8_t)len;
			rec[off++] = (uint8_t)(dt > 255 ? 255 : dt);
			memcpy(rec + off, pkt, len);
			off += len;
			last = t;
		}
	}
	hl_image_free(img);
	hl_call_free(a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hl_prng pa;
	struct hl_call *a;
	const char *dir = getenv("HL_FUZZ_GEN_SEEDS");

	(void)argc;
	(void)argv;
	hl_log_set_handler(NULL, NULL, HL_LOG_ERROR + 1);
	if (make_call(&a, HL_CALL_ROLE_A, 1, &pa, true))
		abort();
	hl_call_local_ssrcs(a, &alice_ssrcs);
	hl_call_free(a);
	if (dir)
		gen_seeds(dir);
	return 0;
}

static void drain(struct hl_call *b, uint64_t now, uint64_t *next_pull)
{
	uint8_t pkt[2048];
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	struct hl_video_out vo;
	struct hl_audio_out ao;
	size_t len;

	if (hl_call_next_timeout(b) <= now && hl_call_handle_timeout(b, now))
		abort();
	while (*next_pull <= now) {
		if (hl_call_pull_audio(b, *next_pull, pcm, &ao))
			abort();
		*next_pull += 20000;
	}
	while (hl_call_poll_video(b, now, &vo) == 0)
		;
	while (hl_call_poll_transmit(b, pkt, sizeof(pkt), &len) == 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = hl_mem_outstanding();
	struct hl_call_stats st;
	struct hl_prng pb;
	struct hl_call *b;
	uint64_t now = 0, next_pull = 10000;
	size_t off = 0;

	if (make_call(&b, HL_CALL_ROLE_B, 2, &pb, false))
		abort();
	hl_call_set_remote_ssrcs(b, &alice_ssrcs);
	while (size - off >= 3) {
		size_t len = (size_t)((data[off] & 7) << 8 | data[off + 1]);

		now += 1000u * data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (hl_call_recv(b, data + off, len, now))
			abort();
		off += len;
		drain(b, now, &next_pull);
	}
	drain(b, now + 2000000, &next_pull);
	hl_call_stats(b, &st);
	if (st.video_frames_decoded > st.frames_authenticated)
		abort();
	hl_call_free(b);
	if (hl_mem_outstanding() != before)
		abort();
	return 0;
}
