/*
 * bench_sim.c - the call engine's CPU overhead beyond the codecs.
 *
 * One process, alternating runs of
 *   (a) hl_sim_run(): a whole clean two-way call in virtual time (alice and
 *       bob each encode and decode VP8 720p30 and Opus, plus everything
 *       the engine, the meters and the emulator do), and
 *   (b) the codec floor: the same pictures (the test pattern with the same
 *       stamps) and the same tone frames, encoded with the same libvpx and
 *       libopus settings and decoded again, twice (one per direction),
 *       with nothing else,
 * reporting the median CPU time (user+system, getrusage) of each, the
 * overhead (a - b) / b, and simulated seconds per CPU second.
 *
 * usage: bench_sim [--seconds N] [--runs N] [--video-size WxH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "hotline/media.h"
#include "hotline/report.h"
#include "hotline/sim.h"

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One direction of codec work: render, encode, decode; audio likewise. */
static int codec_floor_once(const struct hl_sim_config *cfg, uint64_t *bytes)
{
	struct hl_video_enc_config vc = {
		.width = cfg->width,
		.height = cfg->height,
		.fps = cfg->fps,
		.kbps = cfg->video_kbps,
		.threads = 1,
		.cpu_used = -6,
	};
	struct hl_audio_enc_config ac = {
		.kbps = cfg->audio_kbps, .fec = true, .loss_perc = 10};
	void *venc = NULL, *vdec = NULL, *aenc = NULL, *adec = NULL;
	struct hl_image *img = NULL;
	uint64_t frames = (uint64_t)(cfg->seconds * cfg->fps);
	uint64_t aframes = (uint64_t)(cfg->seconds * 50);
	int err;

	err = hl_vp8_encoder.create(&venc, &vc);
	if (!err)
		err = hl_vp8_decoder.create(&vdec);
	if (!err)
		err = hl_opus_encoder.create(&aenc, &ac);
	if (!err)
		err = hl_opus_decoder.create(&adec);
	if (!err)
		err = hl_image_new(&img, cfg->width, cfg->height);
	for (uint64_t k = 0; !err && k < frames; k++) {
		struct hl_stamp st = {(uint32_t)k, k * 1000000 / cfg->fps};
		const struct hl_image *out;
		struct hl_encoded e;

		hl_pattern_render(img, &st);
		err = hl_vp8_encoder.encode(venc, img, st.capture_us, k == 0,
					    &e);
		if (!err && e.len) {
			*bytes += e.len;
			err = hl_vp8_decoder.decode(vdec, e.data, e.len, &out);
		}
	}
	for (uint64_t k = 0; !err && k < aframes; k++) {
		int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
		uint8_t pkt[HL_AUDIO_MAX_PACKET];
		size_t len;

		hl_tone_render(pcm, (uint16_t)k);
		err = hl_opus_encoder.encode(aenc, pcm, pkt, sizeof(pkt), &len);
		if (!err)
			err = hl_opus_decoder.decode(adec, pkt, len, pcm);
	}
	if (venc)
		hl_vp8_encoder.destroy(venc);
	if (vdec)
		hl_vp8_decoder.destroy(vdec);
	if (aenc)
		hl_opus_encoder.destroy(aenc);
	if (adec)
		hl_opus_decoder.destroy(adec);
	hl_image_free(img);
	return err;
}

int main(int argc, char **argv)
{
	struct hl_sim_config cfg;
	int runs = 5;
	double sim_cpu[32], floor_cpu[32], s, f;
	uint64_t bytes = 0;

	hl_sim_config_defaults(&cfg);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			cfg.seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--video-size") && i + 1 < argc &&
			 sscanf(argv[i + 1], "%dx%d", &cfg.width,
				&cfg.height) == 2)
			i++;
		else {
			fprintf(stderr, "usage: bench_sim [--seconds N] "
					"[--runs N] [--video-size WxH]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 32 || !(cfg.seconds > 0)) {
		fprintf(stderr, "bench_sim: --runs 1..32, --seconds > 0\n");
		return 2;
	}
	for (int r = 0; r < runs; r++) {
		struct hl_sim_result res;
		double t0 = cpu_seconds();
		int err = hl_sim_run(&cfg, &res);

		sim_cpu[r] = cpu_seconds() - t0;
		if (err) {
			fprintf(stderr, "bench_sim: sim failed: %s\n",
				hl_strerror(err));
			return 1;
		}
		hl_sim_result_free(&res);
		t0 = cpu_seconds();
		for (int side = 0; side < 2 && !err; side++)
			err = codec_floor_once(&cfg, &bytes);
		floor_cpu[r] = cpu_seconds() - t0;
		if (err) {
			fprintf(stderr, "bench_sim: codec floor failed: %s\n",
				hl_strerror(err));
			return 1;
		}
		fprintf(stderr, "run %d: sim %.3f s, codec floor %.3f s\n",
			r + 1, sim_cpu[r], floor_cpu[r]);
	}
	s = median(sim_cpu, runs);
	f = median(floor_cpu, runs);
	printf("{\"seconds\": %.1f, \"width\": %d, \"height\": %d, "
	       "\"runs\": %d, \"sim_cpu_s\": %.3f, \"codec_floor_cpu_s\": "
	       "%.3f, \"overhead_pct\": %.2f, \"sim_seconds_per_cpu_s\": "
	       "%.3f}\n",
	       cfg.seconds + HL_SIM_DRAIN_US / 1e6, cfg.width, cfg.height, runs,
	       s, f, 100 * (s - f) / f,
	       (cfg.seconds + HL_SIM_DRAIN_US / 1e6) / s);
	return 0;
}
