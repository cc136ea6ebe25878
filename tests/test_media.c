/*
 * test_media.c - pictures and PSNR, the VP8 and Opus adapters, the test
 * pattern and tone (also through the codecs), and the Y4M and WAV files.
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "hotline/media.h"
#include "hotline/report.h"
#include "hotline/report.h"
#include "../src/media/media_internal.h"

/* ---- helpers -------------------------------------------------------- */

/* A fresh temporary file name in path (removed by the caller). */
static int temp_path(char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/hl_test_media_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void fill_noise(struct hl_image *img, uint64_t seed)
{
	struct hl_prng p;

	hl_prng_seed(&p, seed);
	for (int pl = 0; pl < 3; pl++) {
		int w = pl ? img->width / 2 : img->width;
		int h = pl ? img->height / 2 : img->height;

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				img->plane[pl][y * img->stride[pl] + x] =
					(uint8_t)hl_prng_next(&p);
	}
}

static void fill_value(struct hl_image *img, uint8_t yv)
{
	for (int y = 0; y < img->height; y++)
		memset(img->plane[0] + y * img->stride[0], yv,
		       (size_t)img->width);
}

static bool same_image(const struct hl_image *a, const struct hl_image *b)
{
	for (int p = 0; p < 3; p++) {
		int w = p ? a->width / 2 : a->width;
		int h = p ? a->height / 2 : a->height;

		for (int y = 0; y < h; y++)
			if (memcmp(a->plane[p] + y * a->stride[p],
				   b->plane[p] + y * b->stride[p], (size_t)w))
				return false;
	}
	return true;
}

static struct hl_stamp stamp_of(uint32_t n)
{
	struct hl_stamp st = {.frame_no = n,
			      .capture_us = 5000000000ull + n * 33333ull};

	return st;
}

/* ---- pictures ------------------------------------------------------- */

static int test_image_alloc_copy(void)
{
	struct hl_image *a = NULL, *b = NULL;
	int rc = -1;

	HT_EQ_INT(hl_image_new(&a, 3, 4), HL_EINVAL);
	HT_EQ_INT(hl_image_new(&a, 0, 4), HL_EINVAL);
	HT_EQ_INT(hl_image_new(&a, HL_VIDEO_MAX_DIM + 2, 4), HL_EINVAL);
	HT_OK(hl_image_new(&a, 66, 34));
	if (hl_image_new(&b, 66, 34)) {
		hl_image_free(a);
		return hl_mem_failed() ? HT_OOM_OK : -1;
	}
	if (!a->owned || a->stride[0] < 66 || a->stride[1] < 33 ||
	    (uintptr_t)a->plane[0] % 32 != 0)
		goto out;
	fill_noise(a, 1);
	hl_image_copy(b, a);
	if (!same_image(a, b) || hl_image_sse_y(a, b) != 0)
		goto out;
	rc = 0;
out:
	hl_image_free(a);
	hl_image_free(b);
	hl_image_free(NULL);
	return rc;
}

static int test_sse_and_psnr(void)
{
	struct hl_image *a, *b;
	uint64_t want = 0;

	HT_ASSERT(hl_image_new(&a, 100, 50) == 0);
	HT_ASSERT(hl_image_new(&b, 100, 50) == 0);
	fill_noise(a, 2);
	fill_noise(b, 3);
	for (int y = 0; y < 50; y++)
		for (int x = 0; x < 100; x++) {
			int d = a->plane[0][y * a->stride[0] + x] -
				b->plane[0][y * b->stride[0] + x];

			want += (uint64_t)(d * d);
		}
	HT_ASSERT(hl_image_sse_y(a, b) == want);
	HT_ASSERT(hl_image_sse_y(b, a) == want);
	/* Extremes: 0 vs 255 everywhere, at the largest width. */
	hl_image_free(a);
	hl_image_free(b);
	HT_ASSERT(hl_image_new(&a, HL_VIDEO_MAX_DIM, 2) == 0);
	HT_ASSERT(hl_image_new(&b, HL_VIDEO_MAX_DIM, 2) == 0);
	fill_value(a, 0);
	fill_value(b, 255);
	HT_ASSERT(hl_image_sse_y(a, b) == 2ull * HL_VIDEO_MAX_DIM * 65025);
	hl_image_free(a);
	hl_image_free(b);

	HT_ASSERT(hl_psnr_from_sse(0, 100) == 99.0);
	HT_ASSERT(hl_psnr_from_sse(5, 0) == 0.0);
	/* sse = samples: MSE 1 -> 10 log10(65025) = 48.1308 dB. */
	HT_ASSERT(fabs(hl_psnr_from_sse(1000, 1000) - 48.1308) < 1e-3);
	/* MSE 65025 -> 0 dB; MSE 6502.5 -> 10 dB. */
	HT_ASSERT(fabs(hl_psnr_from_sse(65025ull * 4, 4)) < 1e-9);
	HT_ASSERT(fabs(hl_psnr_from_sse(65025ull, 10) - 10.0) < 1e-9);
	HT_ASSERT(hl_psnr_from_sse(1, 1ull << 40) == 99.0); /* capped */
	return 0;
}

/* ---- VP8 ------------------------------------------------------------ */

/*
 * Encode `frames` pattern frames, decode them, and check PSNR and stamps.
 * Returns the mean PSNR through *psnr and the stamps read through *stamps.
 */
static int vp8_run(int w, int h, unsigned kbps, int frames, double *psnr,
		   double *min_psnr, int *stamps)
{
	struct hl_video_enc_config cfg = {
		.width = w, .height = h, .fps = 30, .kbps = kbps};
	struct hl_image *src;
	void *enc, *dec;
	double sum = 0;

	*min_psnr = 99;
	*stamps = 0;
	HT_ASSERT(hl_image_new(&src, w, h) == 0);
	HT_ASSERT(hl_vp8_encoder.create(&enc, &cfg) == 0);
	HT_ASSERT(hl_vp8_decoder.create(&dec) == 0);
	for (int i = 0; i < frames; i++) {
		struct hl_stamp st = stamp_of((uint32_t)i), got;
		struct hl_encoded e;
		const struct hl_image *out;
		double p;

		hl_pattern_render(src, &st);
		HT_ASSERT(hl_vp8_encoder.encode(enc, src, st.capture_us, false,
						&e) == 0);
		HT_ASSERT(e.len > 0);
		HT_ASSERT(e.keyframe == (i == 0));
		HT_ASSERT(hl_vp8_decoder.decode(dec, e.data, e.len, &out) == 0);
		HT_ASSERT(!out->owned && out->width == w && out->height == h);
		p = hl_psnr_from_sse(hl_image_sse_y(src, out),
				     (uint64_t)w * (uint64_t)h);
		sum += p;
		if (p < *min_psnr)
			*min_psnr = p;
		if (hl_pattern_read(out, &got) == 0 &&
		    got.frame_no == st.frame_no &&
		    got.capture_us == (st.capture_us & 0xffffffffffffull))
			(*stamps)++;
	}
	*psnr = sum / frames;
	hl_vp8_encoder.destroy(enc);
	hl_vp8_decoder.destroy(dec);
	hl_image_free(src);
	return 0;
}

static int test_vp8_roundtrip_320x240(void)
{
	double psnr, min;
	int stamps;

	HT_ASSERT(vp8_run(320, 240, 300, 60, &psnr, &min, &stamps) == 0);
	printf("  vp8 320x240 300 kb/s: PSNR mean %.2f min %.2f dB, stamps "
	       "%d/60\n",
	       psnr, min, stamps);
	HT_ASSERT(psnr > 30.0);
	HT_ASSERT(min > 30.0);
	HT_EQ_INT(stamps, 60);
	return 0;
}

static int test_pattern_through_vp8_320x240_150k(void)
{
	double psnr, min;
	int stamps;

	HT_ASSERT(vp8_run(320, 240, 150, 150, &psnr, &min, &stamps) == 0);
	printf("  vp8 320x240 150 kb/s: PSNR mean %.2f min %.2f dB, stamps "
	       "%d/150\n",
	       psnr, min, stamps);
	HT_EQ_INT(stamps, 150);
	return 0;
}

static int test_pattern_through_vp8_720p(void)
{
	double psnr, min;
	int stamps;

	HT_ASSERT(vp8_run(1280, 720, 1500, 60, &psnr, &min, &stamps) == 0);
	printf("  vp8 1280x720 1500 kb/s: PSNR mean %.2f min %.2f dB, stamps "
	       "%d/60\n",
	       psnr, min, stamps);
	HT_EQ_INT(stamps, 60);
	HT_ASSERT(psnr >= 38.0);
	return 0;
}

/* Encode 60 frames; return an hl_malloc'd concatenation of the output. */
static int encode_60(const struct hl_video_enc_config *cfg, uint8_t **out,
		     size_t *len)
{
	struct hl_image *src;
	void *enc;
	uint8_t *buf = NULL;
	size_t n = 0;

	HT_ASSERT(hl_image_new(&src, cfg->width, cfg->height) == 0);
	HT_ASSERT(hl_vp8_encoder.create(&enc, cfg) == 0);
	for (int i = 0; i < 60; i++) {
		struct hl_stamp st = stamp_of((uint32_t)i);
		struct hl_encoded e;
		uint8_t *nb;

		hl_pattern_render(src, &st);
		if (i == 30)
			HT_ASSERT(hl_vp8_encoder.set_bitrate(enc, 200) == 0);
		HT_ASSERT(hl_vp8_encoder.encode(enc, src, st.capture_us,
						i == 45, &e) == 0);
		nb = hl_realloc(buf, n + e.len + 4);
		HT_ASSERT(nb);
		buf = nb;
		hl_put_be32(buf + n, (uint32_t)e.len);
		memcpy(buf + n + 4, e.data, e.len);
		n += e.len + 4;
	}
	hl_vp8_encoder.destroy(enc);
	hl_image_free(src);
	*out = buf;
	*len = n;
	return 0;
}

static int test_vp8_deterministic(void)
{
	/* threads 0 and cpu_used 0 mean the defaults: 1 thread, -6. */
	struct hl_video_enc_config cfg = {
		.width = 320, .height = 240, .fps = 30, .kbps = 400};
	uint8_t *a, *b;
	size_t la, lb;

	HT_ASSERT(encode_60(&cfg, &a, &la) == 0);
	HT_ASSERT(encode_60(&cfg, &b, &lb) == 0);
	HT_EQ_INT(la, lb);
	HT_EQ_MEM(a, b, la);
	hl_free(a);
	hl_free(b);
	cfg.cpu_used = -6;
	cfg.threads = 1;
	HT_ASSERT(encode_60(&cfg, &a, &la) == 0);
	HT_ASSERT(encode_60(&cfg, &b, &lb) == 0);
	HT_EQ_INT(la, lb);
	HT_EQ_MEM(a, b, la);
	hl_free(a);
	hl_free(b);
	return 0;
}

static int test_vp8_keyframe_and_bitrate(void)
{
	struct hl_video_enc_config cfg = {
		.width = 320, .height = 240, .fps = 30, .kbps = 600};
	struct hl_image *src;
	void *enc;
	size_t early = 0, late = 0;

	HT_ASSERT(hl_image_new(&src, 320, 240) == 0);
	HT_ASSERT(hl_vp8_encoder.create(&enc, &cfg) == 0);
	for (int i = 0; i < 120; i++) {
		struct hl_stamp st = stamp_of((uint32_t)i);
		struct hl_encoded e;
		bool force = i == 20 || i == 21 || i == 77;

		hl_pattern_render(src, &st);
		if (i == 60)
			HT_ASSERT(hl_vp8_encoder.set_bitrate(enc, 150) == 0);
		HT_ASSERT(hl_vp8_encoder.encode(enc, src, st.capture_us, force,
						&e) == 0);
		HT_ASSERT(e.len > 0); /* never dropped */
		HT_ASSERT(e.keyframe == (i == 0 || force));
		if (i >= 30 && i < 60)
			early += e.len;
		if (i >= 90)
			late += e.len;
	}
	/* 600 -> 150 kb/s: the last 30 frames are much smaller. */
	HT_ASSERT(late * 2 < early);
	/* A picture of the wrong size is refused. */
	{
		struct hl_image *small;
		struct hl_encoded e;

		HT_ASSERT(hl_image_new(&small, 160, 120) == 0);
		HT_EQ_INT(hl_vp8_encoder.encode(enc, small, 0, false, &e),
			  HL_EINVAL);
		hl_image_free(small);
	}
	hl_vp8_encoder.destroy(enc);
	hl_image_free(src);
	return 0;
}

static int test_vp8_bad_config(void)
{
	struct hl_video_enc_config cfg = {.width = 321, .height = 240};
	void *enc = NULL;

	HT_EQ_INT(hl_vp8_encoder.create(&enc, &cfg), HL_EINVAL);
	cfg.width = 320;
	cfg.cpu_used = 17;
	HT_EQ_INT(hl_vp8_encoder.create(&enc, &cfg), HL_EINVAL);
	cfg.cpu_used = 0;
	cfg.height = HL_VIDEO_MAX_DIM + 2;
	HT_EQ_INT(hl_vp8_encoder.create(&enc, &cfg), HL_EINVAL);
	HT_EQ_INT(hl_vp8_encoder.create(&enc, NULL), HL_EINVAL);
	HT_ASSERT(enc == NULL);
	return 0;
}

static int test_vp8_create_oom(void)
{
	struct hl_video_enc_config cfg = {.width = 64, .height = 64};
	void *enc, *dec;

	HT_OK(hl_vp8_encoder.create(&enc, &cfg));
	if (hl_vp8_decoder.create(&dec)) {
		hl_vp8_encoder.destroy(enc);
		return hl_mem_failed() ? HT_OOM_OK : -1;
	}
	hl_vp8_decoder.destroy(dec);
	hl_vp8_encoder.destroy(enc);
	return 0;
}

static int test_vp8_decoder_corrupt(void)
{
	struct hl_video_enc_config cfg = {
		.width = 320, .height = 240, .kbps = 300};
	struct hl_image *src;
	void *enc, *dec;
	uint8_t *frames[6], junk[4000];
	size_t lens[6];
	const struct hl_image *out = NULL;
	struct hl_prng p;
	int errors = 0;

	hl_prng_seed(&p, 99);
	HT_ASSERT(hl_image_new(&src, 320, 240) == 0);
	HT_ASSERT(hl_vp8_encoder.create(&enc, &cfg) == 0);
	for (int i = 0; i < 6; i++) {
		struct hl_stamp st = stamp_of((uint32_t)i);
		struct hl_encoded e;

		hl_pattern_render(src, &st);
		HT_ASSERT(hl_vp8_encoder.encode(enc, src, st.capture_us, false,
						&e) == 0);
		frames[i] = hl_malloc(e.len);
		HT_ASSERT(frames[i]);
		memcpy(frames[i], e.data, e.len);
		lens[i] = e.len;
	}
	hl_vp8_encoder.destroy(enc);

	HT_ASSERT(hl_vp8_decoder.create(&dec) == 0);
	/* Nothing, junk, an inter frame before any key frame. */
	HT_EQ_INT(hl_vp8_decoder.decode(dec, junk, 0, &out), HL_ECODEC);
	HT_EQ_INT(hl_vp8_decoder.decode(dec, NULL, 10, &out), HL_ECODEC);
	for (int i = 0; i < 200; i++) {
		size_t n = 1 + hl_prng_below(&p, sizeof(junk));

		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)hl_prng_next(&p);
		if (i % 2)
			junk[0] &= 0xfe; /* claims to be a key frame */
		if (hl_vp8_decoder.decode(dec, junk, n, &out) != 0)
			errors++;
	}
	HT_ASSERT(errors > 150);
	HT_EQ_INT(hl_vp8_decoder.decode(dec, frames[1], lens[1], &out),
		  HL_ECODEC);
	/* A key frame cut short. */
	HT_EQ_INT(hl_vp8_decoder.decode(dec, frames[0], 20, &out), HL_ECODEC);
	hl_vp8_decoder.destroy(dec);

	/* Valid stream with bit flips and truncations: errors, no crash;
	 * the stream still decodes from the key frame afterwards. */
	for (int t = 0; t < 40; t++) {
		HT_ASSERT(hl_vp8_decoder.create(&dec) == 0);
		HT_ASSERT(hl_vp8_decoder.decode(dec, frames[0], lens[0],
						&out) == 0);
		for (int i = 1; i < 6; i++) {
			size_t n = lens[i];

			memcpy(junk, frames[i], HL_MIN(n, sizeof(junk)));
			n = HL_MIN(n, sizeof(junk));
			if (t % 2)
				junk[hl_prng_below(&p, n)] ^=
					(uint8_t)(1u << hl_prng_below(&p, 8));
			else
				n = 1 + hl_prng_below(&p, n);
			(void)hl_vp8_decoder.decode(dec, junk, n, &out);
		}
		HT_ASSERT(hl_vp8_decoder.decode(dec, frames[0], lens[0],
						&out) == 0);
		HT_ASSERT(out->width == 320 && out->height == 240);
		hl_vp8_decoder.destroy(dec);
	}
	for (int i = 0; i < 6; i++)
		hl_free(frames[i]);
	hl_image_free(src);
	return 0;
}

/* ---- Opus and the tone ---------------------------------------------- */

static int test_opus_roundtrip(void)
{
	struct hl_audio_enc_config cfg = {.kbps = 32};
	void *enc, *dec;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], out[HL_AUDIO_FRAME_SAMPLES];
	uint8_t pkt[HL_AUDIO_MAX_PACKET];
	size_t len, total = 0;
	double err = 0, sig = 0;

	HT_ASSERT(hl_opus_encoder.create(&enc, &cfg) == 0);
	HT_ASSERT(hl_opus_decoder.create(&dec) == 0);
	HT_EQ_INT(hl_opus_encoder.lookahead(enc), 312); /* 2.5 + 4 ms */
	for (int k = 0; k < 100; k++) {
		hl_tone_render(pcm, (uint16_t)k);
		HT_ASSERT(hl_opus_encoder.encode(enc, pcm, pkt, sizeof(pkt),
						 &len) == 0);
		HT_ASSERT(len > 0 && len <= HL_AUDIO_MAX_PACKET);
		total += len;
		HT_ASSERT(hl_opus_decoder.decode(dec, pkt, len, out) == 0);
		if (k >= 10) {
			/* Compare with the input, shifted by the delay. */
			static int16_t prev[HL_AUDIO_FRAME_SAMPLES];
			int16_t cur[HL_AUDIO_FRAME_SAMPLES];

			hl_tone_render(cur, (uint16_t)k);
			hl_tone_render(prev, (uint16_t)(k - 1));
			for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++) {
				int s = n < 312 ? prev[HL_AUDIO_FRAME_SAMPLES -
						       312 + n]
						: cur[n - 312];

				err += (double)(s - out[n]) * (s - out[n]);
				sig += (double)s * s;
			}
		}
	}
	/* About 32 kb/s, and a recognisable waveform (SNR > 3 dB; codecs
	 * are not waveform-exact). */
	HT_ASSERT(total * 8 / 2 > 25000 && total * 8 / 2 < 40000);
	HT_ASSERT(sig > 2 * err);
	HT_ASSERT(hl_opus_encoder.set_bitrate(enc, 16) == 0);
	HT_ASSERT(hl_opus_encoder.set_loss_perc(enc, 200) == 0);
	HT_EQ_INT(hl_opus_encoder.encode(enc, pcm, pkt, 0, &len), HL_EINVAL);
	/* One byte of room: libopus still answers (a TOC-only packet). */
	HT_ASSERT(hl_opus_encoder.encode(enc, pcm, pkt, 1, &len) == 0);
	HT_ASSERT(len <= 1);
	/* Corrupt and odd packets: errors, never a crash. */
	HT_EQ_INT(hl_opus_decoder.decode(dec, pkt, 0, out), HL_ECODEC);
	HT_EQ_INT(hl_opus_decoder.decode(dec, NULL, 3, out), HL_ECODEC);
	pkt[0] = 0x00; /* SILK NB 10 ms: not a 20 ms frame */
	HT_EQ_INT(hl_opus_decoder.decode(dec, pkt, 10, out), HL_ECODEC);
	pkt[0] = 0x0b; /* code 3 without a count byte */
	HT_EQ_INT(hl_opus_decoder.decode(dec, pkt, 1, out), HL_ECODEC);
	HT_ASSERT(hl_opus_decoder.conceal(dec, out) == 0);
	hl_opus_encoder.destroy(enc);
	hl_opus_decoder.destroy(dec);
	return 0;
}

static int test_opus_create_oom(void)
{
	struct hl_audio_enc_config cfg = {.kbps = 32, .fec = true};
	void *enc, *dec;

	HT_OK(hl_opus_encoder.create(&enc, &cfg));
	if (hl_opus_decoder.create(&dec)) {
		hl_opus_encoder.destroy(enc);
		return hl_mem_failed() ? HT_OOM_OK : -1;
	}
	hl_opus_decoder.destroy(dec);
	hl_opus_encoder.destroy(enc);
	return 0;
}

static int test_tone_uncompressed(void)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], two[2 * HL_AUDIO_FRAME_SAMPLES];
	uint16_t m;
	int peak = 0;

	for (uint32_t v = 0; v < 65536; v += 251) {
		hl_tone_render(pcm, (uint16_t)v);
		HT_ASSERT(hl_tone_read(pcm, 0, &m) == 0);
		HT_EQ_INT(m, v);
		for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++)
			peak = HL_MAX(peak, abs(pcm[n]));
	}
	HT_ASSERT(peak < 16 * 1000 + 1);
	/* Delayed: frame k-1's tail then frame k's head. */
	for (int delay = 0; delay <= 384; delay += 64) {
		hl_tone_render(two, 0xbeef);
		hl_tone_render(two + HL_AUDIO_FRAME_SAMPLES, 0xbef0);
		HT_ASSERT(hl_tone_read(two + HL_AUDIO_FRAME_SAMPLES - delay,
				       delay, &m) == 0);
		HT_EQ_INT(m, 0xbef0);
	}
	/* Too little of one frame left to read. */
	HT_EQ_INT(hl_tone_read(pcm, 400, &m), HL_EINVAL);
	HT_EQ_INT(hl_tone_read(pcm, -1, &m), HL_EINVAL);
	/* Consecutive frames join without a jump (no clicks). */
	hl_tone_render(two, 41);
	hl_tone_render(two + HL_AUDIO_FRAME_SAMPLES, 42);
	for (int n = 1; n < 2 * HL_AUDIO_FRAME_SAMPLES; n++)
		HT_ASSERT(abs(two[n] - two[n - 1]) < 6000);
	return 0;
}

static int test_tone_rejects_silence_and_noise(void)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	struct hl_prng p;
	uint16_t m;

	memset(pcm, 0, sizeof(pcm));
	HT_EQ_INT(hl_tone_read(pcm, 0, &m), HL_EPARSE);
	HT_EQ_INT(hl_tone_read(pcm, 312, &m), HL_EPARSE);
	hl_prng_seed(&p, 5);
	for (int t = 0; t < 300; t++) {
		int amp = 100 + 100 * (t % 50);

		for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++)
			pcm[n] = (int16_t)((int)hl_prng_below(&p, 2 * amp + 1) -
					   amp);
		HT_EQ_INT(hl_tone_read(pcm, t % 2 ? 312 : 0, &m), HL_EPARSE);
	}
	/* A single loud sine is not a mark either. */
	for (int n = 0; n < HL_AUDIO_FRAME_SAMPLES; n++)
		pcm[n] = (int16_t)(8000 * sin(2 * M_PI * 1000 * n / 48000.0));
	HT_EQ_INT(hl_tone_read(pcm, 0, &m), HL_EPARSE);
	return 0;
}

struct tone_stats {
	int frames, read_ok, read_wrong;
	int fec_n, fec_ok, fec_none, plc_n, plc_prev, plc_fail, plc_other;
};

/*
 * Tone frames 1000+k through Opus at 32 kb/s.  A second decoder loses
 * packet k-1 whenever k % 4 == 0 and rebuilds it from packet k's FEC
 * (k % 8 == 0) or conceals it.
 */
static int tone_through_opus(bool fec, int loss_perc, int frames, int from,
			     struct tone_stats *s)
{
	struct hl_audio_enc_config cfg = {
		.kbps = 32, .fec = fec, .loss_perc = loss_perc};
	void *enc, *dec, *dec2;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], out[HL_AUDIO_FRAME_SAMPLES];
	uint8_t pkt[HL_AUDIO_MAX_PACKET];
	size_t len;
	int delay;

	memset(s, 0, sizeof(*s));
	HT_ASSERT(hl_opus_encoder.create(&enc, &cfg) == 0);
	HT_ASSERT(hl_opus_decoder.create(&dec) == 0);
	HT_ASSERT(hl_opus_decoder.create(&dec2) == 0);
	delay = hl_opus_encoder.lookahead(enc);
	for (int k = 0; k < frames; k++) {
		uint16_t m, want = (uint16_t)(1000 + k);

		hl_tone_render(pcm, want);
		HT_ASSERT(hl_opus_encoder.encode(enc, pcm, pkt, sizeof(pkt),
						 &len) == 0);
		HT_ASSERT(hl_opus_decoder.decode(dec, pkt, len, out) == 0);
		if (k >= from) {
			s->frames++;
			if (hl_tone_read(out, delay, &m) == 0) {
				if (m == want)
					s->read_ok++;
				else
					s->read_wrong++;
			}
		}
		if (k >= 8 && k % 4 == 0) {
			if (k % 8 == 0) {
				int fe = hl_opus_decoder.decode_fec(dec2, pkt,
								    len, out);

				s->fec_n++;
				/* A steady tone is "not speech" to SILK: no
				 * LBRR data, so decode_fec says so. */
				HT_ASSERT(fe == 0 || fe == HL_EAGAIN);
				if (fe == HL_EAGAIN) {
					s->fec_none++;
					HT_ASSERT(hl_opus_decoder.conceal(
							  dec2, out) == 0);
				} else if (!hl_tone_read(out, delay, &m) &&
					   m == (uint16_t)(want - 1))
					s->fec_ok++;
			} else {
				s->plc_n++;
				HT_ASSERT(hl_opus_decoder.conceal(dec2, out) ==
					  0);
				if (hl_tone_read(out, delay, &m))
					s->plc_fail++;
				else if (m == (uint16_t)(want - 2))
					s->plc_prev++;
				else
					s->plc_other++;
			}
		}
		if (k < 8 || k % 4 != 3)
			HT_ASSERT(hl_opus_decoder.decode(dec2, pkt, len, out) ==
				  0);
	}
	hl_opus_encoder.destroy(enc);
	hl_opus_decoder.destroy(dec);
	hl_opus_decoder.destroy(dec2);
	return 0;
}

static int test_tone_through_opus(void)
{
	struct tone_stats s;

	/* Plain 32 kb/s VOIP: every mark after the first frame. */
	HT_ASSERT(tone_through_opus(false, 0, 500, 1, &s) == 0);
	printf("  opus 32k: marks %d/%d (wrong %d); PLC frames read: %d "
	       "previous mark, %d unreadable, %d other of %d\n",
	       s.read_ok, s.frames, s.read_wrong, s.plc_prev, s.plc_fail,
	       s.plc_other, s.plc_n);
	HT_EQ_INT(s.read_ok, s.frames);
	HT_EQ_INT(s.plc_other, 0);
	return 0;
}

static int test_tone_through_opus_fec(void)
{
	struct tone_stats s, warm;

	/* With FEC and 10% loss Opus switches to SILK; its first second
	 * is a warm-up during which some frames are unreadable. */
	HT_ASSERT(tone_through_opus(true, 10, 500, 1, &warm) == 0);
	HT_ASSERT(tone_through_opus(true, 10, 500, 50, &s) == 0);
	printf("  opus 32k fec loss 10%%: marks %d/%d (from frame 1, wrong "
	       "%d), %d/%d (from frame 50, wrong %d); FEC frames read right "
	       "%d/%d; PLC frames: %d previous mark, %d unreadable, %d "
	       "other of %d\n",
	       warm.read_ok, warm.frames, warm.read_wrong, s.read_ok, s.frames,
	       s.read_wrong, s.fec_ok, s.fec_n, s.plc_prev, s.plc_fail,
	       s.plc_other, s.plc_n);
	HT_EQ_INT(s.read_ok, s.frames);
	HT_EQ_INT(warm.read_wrong, 0);
	return 0;
}

/*
 * Speech-like input (a voiced buzz at 140 Hz whose loudness rises and
 * falls like syllables) makes SILK send LBRR data when FEC is on, and then
 * decode_fec rebuilds the lost frame from it instead of concealing.
 */
static int test_opus_fec_on_speech(void)
{
	struct hl_audio_enc_config cfg = {
		.kbps = 32, .fec = true, .loss_perc = 20};
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], out[HL_AUDIO_FRAME_SAMPLES];
	uint8_t pkt[HL_AUDIO_MAX_PACKET];
	void *enc, *dec;
	int with_lbrr = 0, none = 0;
	size_t len;
	struct hl_prng p;

	hl_prng_seed(&p, 5);
	HT_OK(hl_opus_encoder.create(&enc, &cfg));
	HT_OK(hl_opus_decoder.create(&dec));
	for (int k = 0; k < 300; k++) {
		for (int i = 0; i < HL_AUDIO_FRAME_SAMPLES; i++) {
			double t = (k * HL_AUDIO_FRAME_SAMPLES + i) / 48000.0;
			double env = 0.5 + 0.5 * sin(2 * M_PI * 4 * t);
			double v = 0;

			for (int h = 1; h < 20; h++)
				v += sin(2 * M_PI * 140 * h * t) / h;
			v += (hl_prng_unit(&p) - 0.5) * 0.3;
			pcm[i] = (int16_t)(6000 * env * v);
		}
		HT_OK(hl_opus_encoder.encode(enc, pcm, pkt, sizeof(pkt), &len));
		if (k < 50)
			continue;
		if (hl_opus_decoder.decode_fec(dec, pkt, len, out) == 0)
			with_lbrr++;
		else
			none++;
		HT_OK(hl_opus_decoder.decode(dec, pkt, len, out));
	}
	printf("  opus speech-like 32k fec: %d of %d packets carry LBRR\n",
	       with_lbrr, with_lbrr + none);
	HT_ASSERT(with_lbrr > (with_lbrr + none) / 2);
	hl_opus_encoder.destroy(enc);
	hl_opus_decoder.destroy(dec);
	return 0;
}

/* ---- the test pattern ----------------------------------------------- */

static int test_pattern_stamp_roundtrip(void)
{
	static const int sizes[][2] = {
		{64, 64},     {66, 100},  {320, 240}, {640, 360}, {1280, 720},
		{1920, 1080}, {4096, 64}, {64, 4096}, {98, 70},	  {3840, 2160}};
	static const struct hl_stamp stamps[] = {
		{0, 0},
		{1, 1},
		{0xffffffffu, 0xffffffffffffull},
		{123456789, 0x123456789abcull},
		{42, 0xffff000000000001ull}, /* high bits are not carried */
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(sizes); i++) {
		struct hl_image *img, *again;

		HT_ASSERT(hl_image_new(&img, sizes[i][0], sizes[i][1]) == 0);
		HT_ASSERT(hl_image_new(&again, sizes[i][0], sizes[i][1]) == 0);
		for (size_t j = 0; j < HL_ARRAY_SIZE(stamps); j++) {
			struct hl_stamp got;

			hl_pattern_render(img, &stamps[j]);
			HT_ASSERT(hl_pattern_read(img, &got) == 0);
			HT_EQ_INT(got.frame_no, stamps[j].frame_no);
			HT_ASSERT(got.capture_us ==
				  (stamps[j].capture_us & 0xffffffffffffull));
			/* A pure function of size and stamp. */
			fill_noise(again, j);
			hl_pattern_render(again, &stamps[j]);
			HT_ASSERT(same_image(img, again));
		}
		hl_image_free(img);
		hl_image_free(again);
	}
	return 0;
}

static int test_pattern_moves(void)
{
	struct hl_image *a, *b;
	struct hl_stamp s0 = stamp_of(10), s1 = stamp_of(11);
	double p;

	HT_ASSERT(hl_image_new(&a, 640, 360) == 0);
	HT_ASSERT(hl_image_new(&b, 640, 360) == 0);
	hl_pattern_render(a, &s0);
	hl_pattern_render(b, &s1);
	p = hl_psnr_from_sse(hl_image_sse_y(a, b), 640 * 360);
	HT_ASSERT(p < 25.0); /* consecutive frames differ: there is motion */
	hl_image_free(a);
	hl_image_free(b);
	return 0;
}

static int test_pattern_rejects_other_pictures(void)
{
	struct hl_image *img, *tiny;
	struct hl_stamp st = stamp_of(7), got;
	int fails = 0;

	HT_ASSERT(hl_image_new(&img, 320, 240) == 0);
	fill_value(img, 128);
	HT_EQ_INT(hl_pattern_read(img, &got), HL_EPARSE);
	fill_value(img, 0);
	HT_EQ_INT(hl_pattern_read(img, &got), HL_EPARSE);
	fill_value(img, 255);
	HT_EQ_INT(hl_pattern_read(img, &got), HL_EPARSE);
	for (int i = 0; i < 50; i++) {
		fill_noise(img, 100 + (uint64_t)i);
		if (hl_pattern_read(img, &got) == HL_EPARSE)
			fails++;
	}
	HT_EQ_INT(fails, 50);
	/* One cell flipped: the CRC refuses it.  The first cell is the top
	 * bit of frame_no (0 here, black); paint it white. */
	hl_pattern_render(img, &st);
	HT_ASSERT(hl_pattern_read(img, &got) == 0);
	for (int y = 0; y < 40; y++)
		for (int x = 0; x < 40; x++)
			if (img->plane[0][y * img->stride[0] + x] < 64)
				img->plane[0][y * img->stride[0] + x] = 235;
	HT_EQ_INT(hl_pattern_read(img, &got), HL_EPARSE);
	HT_ASSERT(hl_image_new(&tiny, 62, 64) == 0);
	hl_pattern_render(tiny, &st); /* too small: plain grey, no crash */
	HT_EQ_INT(hl_pattern_read(tiny, &got), HL_EPARSE);
	hl_image_free(tiny);
	hl_image_free(img);
	return 0;
}

/* ---- Y4M ------------------------------------------------------------ */

static int test_y4m_roundtrip(void)
{
	char path[64];
	struct hl_y4m_writer *w;
	struct hl_y4m_reader *r;
	struct hl_image *src[3], *in;
	int width, height, num, den;

	HT_ASSERT(temp_path(path) == 0);
	HT_ASSERT(hl_y4m_writer_open(&w, path, 98, 66, 25) == 0);
	for (int i = 0; i < 3; i++) {
		struct hl_stamp st = stamp_of((uint32_t)i);

		HT_ASSERT(hl_image_new(&src[i], 98, 66) == 0);
		hl_pattern_render(src[i], &st);
		HT_ASSERT(hl_y4m_write(w, src[i]) == 0);
	}
	HT_EQ_INT(hl_y4m_write(w, NULL), HL_EINVAL);
	HT_ASSERT(hl_y4m_writer_close(w) == 0);

	HT_ASSERT(hl_y4m_reader_open(&r, path, &width, &height, &num, &den) ==
		  0);
	HT_EQ_INT(width, 98);
	HT_EQ_INT(height, 66);
	HT_EQ_INT(num, 25);
	HT_EQ_INT(den, 1);
	HT_ASSERT(hl_image_new(&in, 98, 66) == 0);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 3; i++) {
			HT_ASSERT(hl_y4m_read(r, in) == 0);
			HT_ASSERT(same_image(in, src[i]));
		}
		HT_EQ_INT(hl_y4m_read(r, in), HL_EAGAIN);
		HT_ASSERT(hl_y4m_rewind(r) == 0);
	}
	hl_y4m_reader_close(r);
	{
		/* The exact header line the brief asks for. */
		uint8_t *data;
		size_t len;
		const char *want = "YUV4MPEG2 W98 H66 F25:1 Ip A1:1 C420jpeg\n";

		HT_ASSERT(hl_test_read_file(path, &data, &len) == 0);
		HT_ASSERT(len == strlen(want) + 3 * (6 + 98 * 66 * 3 / 2));
		HT_EQ_MEM(data, want, strlen(want));
		hl_free(data);
	}
	unlink(path);
	HT_EQ_INT(hl_y4m_reader_open(&r, "/nonexistent/x.y4m", &width, &height,
				     &num, &den),
		  HL_EIO);
	HT_EQ_INT(hl_y4m_writer_open(&w, "/nonexistent/x.y4m", 64, 64, 30),
		  HL_EIO);
	HT_EQ_INT(hl_y4m_writer_open(&w, path, 63, 64, 30), HL_EINVAL);
	unlink(path);
	for (int i = 0; i < 3; i++)
		hl_image_free(src[i]);
	hl_image_free(in);
	return 0;
}

/* Open a Y4M from a string (+ extra bytes); return the open result. */
static int y4m_mem(const char *hdr, size_t extra, int *w, int *h, int *num,
		   int *den, struct hl_y4m_reader **out, uint8_t **buf)
{
	size_t len = strlen(hdr) + extra;
	int err;

	*buf = hl_malloc(len + 1);
	if (!*buf)
		return HL_ENOMEM;
	memcpy(*buf, hdr, strlen(hdr));
	memset(*buf + strlen(hdr), 0x55, extra);
	err = hl_y4m_reader_open_mem(out, *buf, len, w, h, num, den);
	if (err) {
		hl_free(*buf);
		*buf = NULL;
	}
	return err;
}

static int test_y4m_headers(void)
{
	static const struct {
		const char *hdr;
		int err, w, h, num, den;
	} cases[] = {
		{"YUV4MPEG2 W4 H2 F30:1\n", 0, 4, 2, 30, 1},
		{"YUV4MPEG2 W4 H2\n", 0, 4, 2, 30, 1},
		{"YUV4MPEG2 W640 H480 F30000:1001 It A0:0 C420mpeg2 "
		 "XYSCSS=420MPEG2\n",
		 0, 640, 480, 30000, 1001},
		{"YUV4MPEG2 C420paldv W4 H4 F25:1\n", 0, 4, 4, 25, 1},
		{"YUV4MPEG2 W4 H4 C420 Zunknown\n", 0, 4, 4, 30, 1},
		{"YUV4MPEG2  W4   H4  C420jpeg \n", 0, 4, 4, 30, 1},
		{"YUV4MPEG2 W4 H4 C444\n", HL_EUNSUPPORTED, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4 C420p10\n", HL_EUNSUPPORTED, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4 Cmono\n", HL_EUNSUPPORTED, 0, 0, 0, 0},
		{"YUV4MPEG2 W5 H4\n", HL_EUNSUPPORTED, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H3\n", HL_EUNSUPPORTED, 0, 0, 0, 0},
		{"YUV4MPEG2 W4098 H4\n", HL_ETOOBIG, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H999999999\n", HL_ETOOBIG, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H9999999999\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W0 H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W-4 H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W4x H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4 F30\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4 F30:0\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4 F:1\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG W4 H4\n", HL_EPARSE, 0, 0, 0, 0},
		{"YUV4MPEG2 W4 H4", HL_EPARSE, 0, 0, 0, 0}, /* no newline */
		{"", HL_EPARSE, 0, 0, 0, 0},
		{"RIFF", HL_EPARSE, 0, 0, 0, 0},
	};

	for (size_t i = 0; i < HL_ARRAY_SIZE(cases); i++) {
		struct hl_y4m_reader *r;
		uint8_t *buf;
		int w = -1, h = -1, num = -1, den = -1;
		int err =
			y4m_mem(cases[i].hdr, 0, &w, &h, &num, &den, &r, &buf);

		if (err != cases[i].err)
			printf("  case %zu: %s", i, cases[i].hdr);
		HT_EQ_INT(err, cases[i].err);
		if (err) {
			HT_ASSERT(w == -1 || cases[i].err != 0);
			continue;
		}
		HT_EQ_INT(w, cases[i].w);
		HT_EQ_INT(h, cases[i].h);
		HT_EQ_INT(num, cases[i].num);
		HT_EQ_INT(den, cases[i].den);
		hl_y4m_reader_close(r);
		hl_free(buf);
	}
	{
		/* A header line longer than the limit. */
		char *big = hl_malloc(3000);
		struct hl_y4m_reader *r;
		int w, h, num, den;

		HT_ASSERT(big);
		memset(big, 'X', 3000);
		memcpy(big, "YUV4MPEG2 W4 H4 X", 17);
		big[2999] = '\n';
		HT_EQ_INT(hl_y4m_reader_open_mem(&r, (uint8_t *)big, 3000, &w,
						 &h, &num, &den),
			  HL_EPARSE);
		hl_free(big);
	}
	return 0;
}

static int test_y4m_frames(void)
{
	struct hl_y4m_reader *r;
	struct hl_image *img, *wrong;
	uint8_t *buf;
	int w, h, num, den;
	/* 4x2: 8 + 2 + 2 bytes per frame. */
	const char *s = "YUV4MPEG2 W4 H2\nFRAME\nYYYYYYYYUUVV"
			"FRAME Ixyz\nyyyyyyyyuuvv"
			"FRAMEX\n";
	size_t len = strlen(s);

	HT_ASSERT(hl_image_new(&img, 4, 2) == 0);
	HT_ASSERT(hl_image_new(&wrong, 4, 4) == 0);
	HT_ASSERT(hl_y4m_reader_open_mem(&r, (const uint8_t *)s, len, &w, &h,
					 &num, &den) == 0);
	HT_EQ_INT(hl_y4m_read(r, wrong), HL_EINVAL);
	HT_ASSERT(hl_y4m_read(r, img) == 0);
	HT_EQ_INT(img->plane[0][0], 'Y');
	HT_EQ_INT(img->plane[0][img->stride[0] + 3], 'Y');
	HT_EQ_INT(img->plane[1][1], 'U');
	HT_EQ_INT(img->plane[2][0], 'V');
	HT_ASSERT(hl_y4m_read(r, img) == 0); /* FRAME with parameters */
	HT_EQ_INT(img->plane[0][0], 'y');
	HT_EQ_INT(hl_y4m_read(r, img), HL_EPARSE); /* "FRAMEX" */
	hl_y4m_reader_close(r);

	/* A cut-off last frame or FRAME line ends the stream. */
	for (size_t cut = 17; cut < 34; cut++) {
		HT_ASSERT(hl_y4m_reader_open_mem(&r, (const uint8_t *)s, cut,
						 &w, &h, &num, &den) == 0);
		HT_EQ_INT(hl_y4m_read(r, img), HL_EAGAIN);
		hl_y4m_reader_close(r);
	}
	/* Garbage instead of FRAME. */
	HT_ASSERT(y4m_mem("YUV4MPEG2 W4 H2\n", 40, &w, &h, &num, &den, &r,
			  &buf) == 0);
	HT_EQ_INT(hl_y4m_read(r, img), HL_EPARSE);
	hl_y4m_reader_close(r);
	hl_free(buf);
	hl_image_free(img);
	hl_image_free(wrong);
	return 0;
}

static int test_y4m_oom(void)
{
	const char *s = "YUV4MPEG2 W4 H2 F30:1\n";
	struct hl_y4m_reader *r;
	int w, h, num, den;

	HT_OK(hl_y4m_reader_open_mem(&r, (const uint8_t *)s, strlen(s), &w, &h,
				     &num, &den));
	hl_y4m_reader_close(r);
	return 0;
}

/* ---- WAV ------------------------------------------------------------ */

static void le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

/*
 * Build a WAV in buf: RIFF header, optional junk chunk, fmt (tag, ch,
 * rate, bits; extensible if tag == 0xfffe with sub-format sub), data
 * chunk of n frames (sample value = index * ch + channel) with the given
 * declared size (or the real one if size == 0xfffffffe).
 */
static size_t make_wav(uint8_t *buf, unsigned tag, unsigned ch, uint32_t rate,
		       unsigned bits, unsigned sub, bool junk, size_t n,
		       uint32_t size)
{
	size_t o = 12;
	unsigned fmt_len = tag == 0xfffe ? 40 : 16;

	memcpy(buf, "RIFF", 4);
	memcpy(buf + 8, "WAVE", 4);
	if (junk) {
		memcpy(buf + o, "LIST", 4);
		le32(buf + o + 4, 5);
		memset(buf + o + 8, 'j', 6);
		o += 8 + 6; /* odd size + pad byte */
	}
	memcpy(buf + o, "fmt ", 4);
	le32(buf + o + 4, fmt_len);
	le16(buf + o + 8, tag);
	le16(buf + o + 10, ch);
	le32(buf + o + 12, rate);
	le32(buf + o + 16, rate * ch * bits / 8);
	le16(buf + o + 20, ch * bits / 8);
	le16(buf + o + 22, bits);
	if (tag == 0xfffe) {
		static const uint8_t tail[14] = {0, 0,	  0,	0,   0x10,
						 0, 0x80, 0,	0,   0xaa,
						 0, 0x38, 0x9b, 0x71};

		le16(buf + o + 24, 22);
		le16(buf + o + 26, bits);
		le32(buf + o + 28, ch == 1 ? 4 : 3);
		le16(buf + o + 32, sub);
		memcpy(buf + o + 34, tail, sizeof(tail));
	}
	o += 8 + fmt_len;
	if (junk) {
		memcpy(buf + o, "fact", 4);
		le32(buf + o + 4, 4);
		o += 12;
	}
	memcpy(buf + o, "data", 4);
	le32(buf + o + 4,
	     size == 0xfffffffe ? (uint32_t)(n * ch * bits / 8) : size);
	o += 8;
	for (size_t i = 0; i < n * ch; i++, o += 2)
		le16(buf + o, (unsigned)(i * 3) & 0xffff);
	le32(buf + 4, (uint32_t)(o - 8));
	return o;
}

static int test_wav_roundtrip(void)
{
	char path[64];
	struct hl_wav_writer *w;
	struct hl_wav_reader *r;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], in[HL_AUDIO_FRAME_SAMPLES];
	uint8_t *data;
	size_t len, total = 3 * HL_AUDIO_FRAME_SAMPLES + 100;

	HT_ASSERT(temp_path(path) == 0);
	HT_ASSERT(hl_wav_writer_open(&w, path) == 0);
	for (size_t i = 0; i < total;) {
		size_t n = HL_MIN(total - i, (size_t)700);

		for (size_t k = 0; k < n; k++)
			pcm[k] = (int16_t)((i + k) * 37 - 30000);
		HT_ASSERT(hl_wav_write(w, pcm, n) == 0);
		i += n;
	}
	HT_ASSERT(hl_wav_write(w, NULL, 0) == 0);
	HT_ASSERT(hl_wav_writer_close(w) == 0);

	HT_ASSERT(hl_test_read_file(path, &data, &len) == 0);
	HT_EQ_INT(len, 44 + 2 * total);
	HT_EQ_MEM(data, "RIFF", 4);
	HT_EQ_INT(data[4] | data[5] << 8 | data[6] << 16, 36 + 2 * total);
	HT_EQ_INT(data[40] | data[41] << 8 | data[42] << 16, 2 * total);
	hl_free(data);

	HT_ASSERT(hl_wav_reader_open(&r, path) == 0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t f = 0; f < 4; f++) {
			HT_ASSERT(hl_wav_read(r, in) == 0);
			for (size_t k = 0; k < HL_AUDIO_FRAME_SAMPLES; k++) {
				size_t i = f * HL_AUDIO_FRAME_SAMPLES + k;
				int16_t want =
					i < total ? (int16_t)(i * 37 - 30000)
						  : 0; /* zero padded */

				HT_EQ_INT(in[k], want);
			}
		}
		HT_EQ_INT(hl_wav_read(r, in), HL_EAGAIN);
		HT_ASSERT(hl_wav_rewind(r) == 0);
	}
	hl_wav_reader_close(r);
	unlink(path);
	HT_EQ_INT(hl_wav_reader_open(&r, "/nonexistent/a.wav"), HL_EIO);
	HT_EQ_INT(hl_wav_writer_open(&w, "/nonexistent/a.wav"), HL_EIO);
	return 0;
}

static int test_wav_unfinished_file(void)
{
	char path[64];
	struct hl_wav_writer *w;
	struct hl_wav_reader *r;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	uint8_t *data;
	size_t len;

	/* A writer that never reaches close(): its header says "unknown
	 * length" and the data is still readable. */
	HT_ASSERT(temp_path(path) == 0);
	HT_ASSERT(hl_wav_writer_open(&w, path) == 0);
	for (int k = 0; k < HL_AUDIO_FRAME_SAMPLES; k++)
		pcm[k] = (int16_t)k;
	HT_ASSERT(hl_wav_write(w, pcm, HL_AUDIO_FRAME_SAMPLES) == 0);
	HT_ASSERT(fflush(NULL) == 0);
	HT_ASSERT(hl_test_read_file(path, &data, &len) == 0);
	HT_EQ_INT(len, 44 + 2 * HL_AUDIO_FRAME_SAMPLES);
	HT_ASSERT(hl_wav_reader_open_mem(&r, data, len) == 0);
	memset(pcm, 0, sizeof(pcm));
	HT_ASSERT(hl_wav_read(r, pcm) == 0);
	HT_EQ_INT(pcm[959], 959);
	HT_EQ_INT(hl_wav_read(r, pcm), HL_EAGAIN);
	hl_wav_reader_close(r);
	hl_free(data);
	HT_ASSERT(hl_wav_writer_close(w) == 0);
	unlink(path);
	return 0;
}

static int test_wav_formats(void)
{
	static uint8_t buf[20000];
	struct hl_wav_reader *r;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
	size_t len;

	/* Stereo, with chunks to skip: mixed down to the channel mean. */
	len = make_wav(buf, 1, 2, 48000, 16, 1, true, 1000, 0xfffffffe);
	HT_ASSERT(hl_wav_reader_open_mem(&r, buf, len) == 0);
	HT_EQ_INT(hl_wav_reader_channels(r), 2);
	HT_ASSERT(hl_wav_read(r, pcm) == 0);
	HT_EQ_INT(pcm[0], (0 + 3) / 2);
	HT_EQ_INT(pcm[10], (60 + 63) / 2);
	HT_ASSERT(hl_wav_read(r, pcm) == 0); /* 40 frames + zeros */
	HT_EQ_INT(pcm[39], (999 * 6 + 999 * 6 + 3) / 2);
	HT_EQ_INT(pcm[40], 0);
	HT_EQ_INT(hl_wav_read(r, pcm), HL_EAGAIN);
	hl_wav_reader_close(r);

	/* WAVE_FORMAT_EXTENSIBLE PCM, mono; data size shorter than file. */
	len = make_wav(buf, 0xfffe, 1, 48000, 16, 1, false, 2000, 200);
	HT_ASSERT(hl_wav_reader_open_mem(&r, buf, len) == 0);
	HT_ASSERT(hl_wav_read(r, pcm) == 0);
	HT_EQ_INT(pcm[99], 99 * 3);
	HT_EQ_INT(pcm[100], 0);
	HT_EQ_INT(hl_wav_read(r, pcm), HL_EAGAIN);
	hl_wav_reader_close(r);

	/* Declared size 0 or 0xffffffff: to the end of the file; a last odd
	 * byte is dropped. */
	len = make_wav(buf, 1, 1, 48000, 16, 1, false, 10, 0);
	HT_ASSERT(hl_wav_reader_open_mem(&r, buf, len + 1) == 0);
	HT_ASSERT(hl_wav_read(r, pcm) == 0);
	HT_EQ_INT(pcm[9], 27);
	HT_EQ_INT(hl_wav_read(r, pcm), HL_EAGAIN);
	hl_wav_reader_close(r);

	/* Refused formats. */
	len = make_wav(buf, 0xfffe, 1, 48000, 16, 3, false, 10, 0xfffffffe);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EUNSUPPORTED);
	len = make_wav(buf, 3, 1, 48000, 32, 1, false, 10, 0xfffffffe);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EUNSUPPORTED);
	len = make_wav(buf, 1, 1, 44100, 16, 1, false, 10, 0xfffffffe);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EUNSUPPORTED);
	len = make_wav(buf, 1, 1, 48000, 8, 1, false, 10, 0xfffffffe);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EUNSUPPORTED);
	len = make_wav(buf, 1, 6, 48000, 16, 1, false, 10, 0xfffffffe);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EUNSUPPORTED);
	return 0;
}

static int test_wav_malformed(void)
{
	static uint8_t buf[4000];
	struct hl_wav_reader *r;
	size_t len = make_wav(buf, 1, 1, 48000, 16, 1, true, 10, 0xfffffffe);

	/* Every truncation of the header fails cleanly. */
	for (size_t cut = 0; cut < len - 20; cut++) {
		int err = hl_wav_reader_open_mem(&r, buf, cut);

		if (err == 0) {
			hl_wav_reader_close(r);
			HT_ASSERT(cut >= len - 20); /* not reached */
		}
		HT_ASSERT(err == HL_EPARSE);
	}
	/* Bad magic, bad block align, fmt too small, data before fmt. */
	memcpy(buf, "RIFX", 4);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EPARSE);
	len = make_wav(buf, 1, 1, 48000, 16, 1, false, 10, 0xfffffffe);
	le16(buf + 32, 4);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EPARSE);
	len = make_wav(buf, 1, 1, 48000, 16, 1, false, 10, 0xfffffffe);
	le32(buf + 16, 12);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EPARSE);
	len = make_wav(buf, 1, 1, 48000, 16, 1, false, 10, 0xfffffffe);
	memcpy(buf + 12, "data", 4);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, len), HL_EPARSE);
	/* A chunk claiming 4 GB, and too many chunks. */
	memcpy(buf, "RIFF\0\0\0\0WAVEjunk\xff\xff\xff\xff", 20);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, 100), HL_EPARSE);
	memcpy(buf, "RIFF\0\0\0\0WAVE", 12);
	for (int i = 0; i < 100; i++)
		memcpy(buf + 12 + 8 * i, "junk\0\0\0\0", 8);
	HT_EQ_INT(hl_wav_reader_open_mem(&r, buf, 12 + 800), HL_EPARSE);
	return 0;
}

static int test_wav_oom(void)
{
	static uint8_t buf[400];
	size_t len = make_wav(buf, 1, 1, 48000, 16, 1, false, 10, 0xfffffffe);
	struct hl_wav_reader *r;

	HT_OK(hl_wav_reader_open_mem(&r, buf, len));
	hl_wav_reader_close(r);
	return 0;
}

/* A picture whose stamp still reads but whose luma is off by 20 levels
 * everywhere (PSNR about 22 dB: corrupt when compared). */
static void damage(struct hl_image *img)
{
	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++) {
			uint8_t *p = &img->plane[0][y * img->stride[0] + x];
			int v = *p + ((x + y) & 1 ? 20 : -20);

			*p = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
}

static int test_vmeter_psnr_every(void)
{
	struct hl_vmeter *m;
	struct hl_vmeter_summary s;
	struct hl_image *img;

	HT_OK(hl_image_new(&img, 320, 240));
	HT_OK(hl_vmeter_new(&m, 30, true));
	hl_vmeter_psnr_every(m, 3);
	/* pictures 0..6: compared are 0, 3 and 6; 1 (skipped) and 3
	 * (compared) are damaged */
	for (uint32_t k = 0; k < 7; k++) {
		struct hl_stamp st = {k, 1000000 + k * 33333};

		hl_pattern_render(img, &st);
		if (k == 1 || k == 3)
			damage(img);
		HT_OK(hl_vmeter_frame(m, img, st.capture_us + 20000));
	}
	hl_vmeter_summary(m, 0, &s);
	HT_EQ_INT(s.frames, 7);
	HT_EQ_INT(s.unreadable, 0);
	HT_EQ_INT(s.latency_n, 7);
	HT_ASSERT(s.latency_sum_ms > 7 * 19.0 && s.latency_sum_ms < 7 * 21.0);
	HT_EQ_INT(s.corrupt, 1);   /* picture 3 only */
	HT_ASSERT(s.psnr_db < 80); /* the mean of 99, ~22, 99 */
	hl_vmeter_free(m);
	hl_image_free(img);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST_OOM(test_image_alloc_copy),
	HT_TEST(test_sse_and_psnr),
	HT_TEST(test_vmeter_psnr_every),
	HT_TEST(test_vp8_roundtrip_320x240),
	HT_TEST(test_vp8_deterministic),
	HT_TEST(test_vp8_keyframe_and_bitrate),
	HT_TEST(test_vp8_bad_config),
	HT_TEST_OOM(test_vp8_create_oom),
	HT_TEST(test_vp8_decoder_corrupt),
	HT_TEST(test_opus_roundtrip),
	HT_TEST_OOM(test_opus_create_oom),
	HT_TEST(test_tone_uncompressed),
	HT_TEST(test_tone_rejects_silence_and_noise),
	HT_TEST(test_tone_through_opus),
	HT_TEST(test_tone_through_opus_fec),
	HT_TEST(test_opus_fec_on_speech),
	HT_TEST(test_pattern_stamp_roundtrip),
	HT_TEST(test_pattern_moves),
	HT_TEST(test_pattern_rejects_other_pictures),
	HT_TEST(test_pattern_through_vp8_320x240_150k),
	HT_TEST(test_pattern_through_vp8_720p),
	HT_TEST(test_y4m_roundtrip),
	HT_TEST(test_y4m_headers),
	HT_TEST(test_y4m_frames),
	HT_TEST_OOM(test_y4m_oom),
	HT_TEST(test_wav_roundtrip),
	HT_TEST(test_wav_unfinished_file),
	HT_TEST(test_wav_formats),
	HT_TEST(test_wav_malformed),
	HT_TEST_OOM(test_wav_oom),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
