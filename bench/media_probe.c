/*
 * media_probe.c - measurements of the media module on this machine (not a
 * test): VP8 encode/decode cost and the test pattern's PSNR at 1280x720,
 * 30 fps, 1500 kb/s; the stamp read rate after coding; the cost of the
 * pattern, of hl_image_sse_y(), of Opus and of the tone reader; how the
 * tone marks survive Opus, its FEC and its concealment.
 *
 * Usage: media_probe [FRAMES]   (default 300 video frames)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hotline/media.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static _Noreturn void die(const char *what, int err)
{
	fprintf(stderr, "media_probe: %s: %s\n", what, hl_strerror(err));
	exit(1);
}

struct vp8_result {
	double enc_ms, dec_ms, psnr_mean, psnr_min, kbps;
	int stamps_ok, frames, keyframes;
};

static void run_vp8(int w, int h, unsigned kbps, int threads, int cpu_used,
		    int frames, struct vp8_result *res)
{
	struct hl_video_enc_config cfg = {.width = w,
					  .height = h,
					  .fps = 30,
					  .kbps = kbps,
					  .threads = threads,
					  .cpu_used = cpu_used};
	struct hl_image *src;
	void *enc, *dec;
	double psnr_sum = 0, bytes = 0;
	int err;

	*res = (struct vp8_result){.psnr_min = 1e9, .frames = frames};
	if ((err = hl_image_new(&src, w, h)) ||
	    (err = hl_vp8_encoder.create(&enc, &cfg)) ||
	    (err = hl_vp8_decoder.create(&dec)))
		die("vp8 setup", err);
	for (int i = 0; i < frames; i++) {
		struct hl_stamp st = {.frame_no = (uint32_t)i,
				      .capture_us =
					      1000000ull + (uint64_t)i * 33333};
		struct hl_stamp got;
		struct hl_encoded e;
		const struct hl_image *out;
		double t0, t1, t2, p;

		hl_pattern_render(src, &st);
		t0 = now_ms();
		err = hl_vp8_encoder.encode(enc, src, st.capture_us, false, &e);
		t1 = now_ms();
		if (err)
			die("encode", err);
		bytes += (double)e.len;
		res->keyframes += e.keyframe;
		err = hl_vp8_decoder.decode(dec, e.data, e.len, &out);
		t2 = now_ms();
		if (err)
			die("decode", err);
		res->enc_ms += t1 - t0;
		res->dec_ms += t2 - t1;
		p = hl_psnr_from_sse(hl_image_sse_y(src, out),
				     (uint64_t)w * (uint64_t)h);
		psnr_sum += p;
		if (p < res->psnr_min)
			res->psnr_min = p;
		if (hl_pattern_read(out, &got) == 0 &&
		    got.frame_no == st.frame_no &&
		    got.capture_us == st.capture_us)
			res->stamps_ok++;
	}
	res->enc_ms /= frames;
	res->dec_ms /= frames;
	res->psnr_mean = psnr_sum / frames;
	res->kbps = bytes * 8 * 30 / frames / 1000;
	hl_vp8_encoder.destroy(enc);
	hl_vp8_decoder.destroy(dec);
	hl_image_free(src);
}

static void print_vp8(const char *label, const struct vp8_result *r)
{
	printf("%-36s enc %6.2f ms  dec %5.2f ms  PSNR mean %5.2f min %5.2f "
	       "dB  %6.0f kb/s  stamps %d/%d  keyframes %d\n",
	       label, r->enc_ms, r->dec_ms, r->psnr_mean, r->psnr_min, r->kbps,
	       r->stamps_ok, r->frames, r->keyframes);
}

static void probe_pattern(int frames)
{
	struct hl_image *a, *b;
	struct hl_stamp st = {0, 0};
	volatile uint64_t sink = 0;
	double t0, t1, t2;
	int err;

	if ((err = hl_image_new(&a, 1280, 720)) ||
	    (err = hl_image_new(&b, 1280, 720)))
		die("image", err);
	hl_pattern_render(b, &st); /* builds the texture once */
	t0 = now_ms();
	for (int i = 0; i < frames; i++) {
		st.frame_no = (uint32_t)i;
		hl_pattern_render(a, &st);
	}
	t1 = now_ms();
	for (int i = 0; i < frames; i++)
		sink += hl_image_sse_y(a, b);
	t2 = now_ms();
	printf("pattern render 1280x720: %.3f ms/frame\n", (t1 - t0) / frames);
	printf("hl_image_sse_y 1280x720: %.3f ms/frame\n", (t2 - t1) / frames);
	(void)sink;
	hl_image_free(a);
	hl_image_free(b);
}

static void probe_audio(int frames, bool fec, int loss_perc)
{
	struct hl_audio_enc_config cfg = {
		.kbps = 32, .fec = fec, .loss_perc = loss_perc};
	void *enc, *dec, *dec2;
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES], out[HL_AUDIO_FRAME_SAMPLES];
	static uint8_t pkt[2][HL_AUDIO_MAX_PACKET];
	size_t len[2] = {0, 0};
	double enc_ms = 0, dec_ms = 0, read_ms = 0, bytes = 0;
	int ok = 0, fec_ok = 0, fec_n = 0, plc_prev = 0, plc_fail = 0,
	    plc_other = 0, plc_n = 0, delay, err;

	if ((err = hl_opus_encoder.create(&enc, &cfg)) ||
	    (err = hl_opus_decoder.create(&dec)) ||
	    (err = hl_opus_decoder.create(&dec2)))
		die("opus setup", err);
	delay = hl_opus_encoder.lookahead(enc);
	for (int k = 0; k < frames; k++) {
		uint8_t *p = pkt[k & 1];
		uint16_t m;
		double t0, t1, t2, t3;

		hl_tone_render(pcm, (uint16_t)(1000 + k));
		t0 = now_ms();
		err = hl_opus_encoder.encode(enc, pcm, p, HL_AUDIO_MAX_PACKET,
					     &len[k & 1]);
		t1 = now_ms();
		if (err)
			die("opus encode", err);
		bytes += (double)len[k & 1];
		err = hl_opus_decoder.decode(dec, p, len[k & 1], out);
		t2 = now_ms();
		if (err)
			die("opus decode", err);
		err = hl_tone_read(out, delay, &m);
		t3 = now_ms();
		enc_ms += t1 - t0;
		dec_ms += t2 - t1;
		read_ms += t3 - t2;
		if (k > 0 && err == 0 && m == (uint16_t)(1000 + k))
			ok++;
		/* dec2 loses every 4th frame (k-1 when k % 4 == 0): it
		 * conceals it or rebuilds it from packet k's FEC. */
		if (k > 1 && k % 4 == 0) {
			uint16_t want = (uint16_t)(1000 + k - 1);

			if (k % 8 == 0) {
				fec_n++;
				err = hl_opus_decoder.decode_fec(
					dec2, p, len[k & 1], out);
				if (!err && !hl_tone_read(out, delay, &m) &&
				    m == want)
					fec_ok++;
			} else {
				plc_n++;
				err = hl_opus_decoder.conceal(dec2, out);
				if (err || hl_tone_read(out, delay, &m))
					plc_fail++;
				else if (m == (uint16_t)(1000 + k - 2))
					plc_prev++;
				else
					plc_other++;
			}
			err = hl_opus_decoder.decode(dec2, p, len[k & 1], out);
		} else if (k % 4 != 3 || k < 3) {
			err = hl_opus_decoder.decode(dec2, p, len[k & 1], out);
		} else {
			err = 0; /* packet k is lost for dec2 */
		}
		if (err)
			die("opus decode 2", err);
	}
	printf("opus 32 kb/s fec=%d loss=%2d%%: lookahead %d, enc %.1f us, dec "
	       "%.1f us, tone_read %.1f us per frame, %.1f kb/s; marks %d/%d; "
	       "FEC frames read right %d/%d; PLC frames: %d unreadable, %d "
	       "previous mark, %d other (of %d)\n",
	       fec, loss_perc, delay, enc_ms * 1000 / frames,
	       dec_ms * 1000 / frames, read_ms * 1000 / frames,
	       bytes * 8 / 20.0 / frames, ok, frames - 1, fec_ok, fec_n,
	       plc_fail, plc_prev, plc_other, plc_n);
	hl_opus_encoder.destroy(enc);
	hl_opus_decoder.destroy(dec);
	hl_opus_decoder.destroy(dec2);
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 300;
	struct vp8_result r;

	if (frames < 1)
		frames = 300;
	probe_pattern(frames);
	run_vp8(1280, 720, 1500, 1, -6, frames, &r);
	print_vp8("vp8 1280x720 1500k threads=1 cpu=-6", &r);
	run_vp8(1280, 720, 1500, 1, -8, frames, &r);
	print_vp8("vp8 1280x720 1500k threads=1 cpu=-8", &r);
	run_vp8(1280, 720, 1500, 2, -6, frames, &r);
	print_vp8("vp8 1280x720 1500k threads=2 cpu=-6", &r);
	run_vp8(320, 240, 150, 1, -6, frames, &r);
	print_vp8("vp8 320x240 150k threads=1 cpu=-6", &r);
	run_vp8(320, 240, 300, 1, -6, frames, &r);
	print_vp8("vp8 320x240 300k threads=1 cpu=-6", &r);
	probe_audio(1500, false, 0);
	probe_audio(1500, true, 10);
	probe_audio(1500, true, 25);
	return 0;
}
