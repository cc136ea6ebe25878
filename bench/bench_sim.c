/*
 * bench_sim.c - the call engine's CPU overhead beyond the codecs.
 *
 * One process, alternating runs of
 *   (a) hl_sim_run(): a whole clean two-way call in virtual time (alice and
 *       bob each encode and decode VP8 720p30 and Opus, plus everything
 *       the engine, the meters and the emulator do), and
 *   (b) the codec floor: the same pictures (the test pattern with the same
 *       stamps) and the same tone frames, rendered, encoded with the same
 *       libvpx and libopus settings and decoded, for both directions
 *       interleaved as in the call, with nothing else,
 * reporting the median CPU time (user+system, getrusage) of each, the
 * overhead (a - b) / b, and simulated seconds per CPU second.
 *
 * usage: bench_sim [--seconds N] [--runs N] [--video-size WxH]
 *                  [--only sim|floor]
 * (--only runs one side once, e.g. under valgrind --tool=callgrind to
 * count instructions, which do not depend on the machine's load.)
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

/*
 * The codec work of both directions, interleaved as in the call (so both
 * have the same cache pressure): each side renders its picture, encodes
 * it, and decodes the other side's; likewise for 20 ms tone frames.
 */
struct floor_side {
	void *venc, *vdec, *aenc, *adec;
	struct hl_image *img;
};

static int floor_side_init(struct floor_side *f,
			   const struct hl_sim_config *cfg)
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
	int err;

	memset(f, 0, sizeof(*f));
	err = hl_vp8_encoder.create(&f->venc, &vc);
	if (!err)
		err = hl_vp8_decoder.create(&f->vdec);
	if (!err)
		err = hl_opus_encoder.create(&f->aenc, &ac);
	if (!err)
		err = hl_opus_decoder.create(&f->adec);
	if (!err)
		err = hl_image_new(&f->img, cfg->width, cfg->height);
	return err;
}

static void floor_side_free(struct floor_side *f)
{
	if (f->venc)
		hl_vp8_encoder.destroy(f->venc);
	if (f->vdec)
		hl_vp8_decoder.destroy(f->vdec);
	if (f->aenc)
		hl_opus_encoder.destroy(f->aenc);
	if (f->adec)
		hl_opus_decoder.destroy(f->adec);
	hl_image_free(f->img);
}

static int codec_floor(const struct hl_sim_config *cfg, uint64_t *bytes)
{
	struct floor_side s[2];
	uint64_t frames = (uint64_t)(cfg->seconds * cfg->fps);
	uint64_t aframes = (uint64_t)(cfg->seconds * 50);
	uint64_t k = 0, ak = 0;
	int err;

	err = floor_side_init(&s[0], cfg);
	if (!err)
		err = floor_side_init(&s[1], cfg);
	/* Walk capture time like the call: pictures every 1/fps, tone
	 * frames every 20 ms. */
	while (!err && (k < frames || ak < aframes)) {
		bool video =
			k < frames &&
			(ak >= aframes || k * 1000000 / cfg->fps <= ak * 20000);

		for (int i = 0; i < 2 && !err; i++) {
			if (video) {
				struct hl_stamp st = {(uint32_t)k,
						      k * 1000000 / cfg->fps};
				const struct hl_image *out;
				struct hl_encoded e;

				hl_pattern_render(s[i].img, &st);
				err = hl_vp8_encoder.encode(s[i].venc, s[i].img,
							    st.capture_us,
							    k == 0, &e);
				if (!err && e.len) {
					*bytes += e.len;
					err = hl_vp8_decoder.decode(
						s[1 - i].vdec, e.data, e.len,
						&out);
				}
			} else {
				int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
				uint8_t pkt[HL_AUDIO_MAX_PACKET];
				size_t len;

				hl_tone_render(pcm, (uint16_t)ak);
				err = hl_opus_encoder.encode(
					s[i].aenc, pcm, pkt, sizeof(pkt), &len);
				if (!err)
					err = hl_opus_decoder.decode(
						s[1 - i].adec, pkt, len, pcm);
			}
		}
		if (video)
			k++;
		else
			ak++;
	}
	floor_side_free(&s[0]);
	floor_side_free(&s[1]);
	return err;
}

int main(int argc, char **argv)
{
	struct hl_sim_config cfg;
	int runs = 5;
	const char *only = NULL;
	double sim_cpu[32], floor_cpu[32], s, f;
	uint64_t bytes = 0;

	hl_sim_config_defaults(&cfg);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			cfg.seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--video-size") && i + 1 < argc &&
			 sscanf(argv[i + 1], "%dx%d", &cfg.width,
				&cfg.height) == 2)
			i++;
		else {
			fprintf(stderr, "usage: bench_sim [--seconds N] "
					"[--runs N] [--video-size WxH] "
					"[--only sim|floor]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 32 || !(cfg.seconds > 0)) {
		fprintf(stderr, "bench_sim: --runs 1..32, --seconds > 0\n");
		return 2;
	}
	if (only) {
		struct hl_sim_result res;
		int err;

		if (!strcmp(only, "sim")) {
			err = hl_sim_run(&cfg, &res);
			if (!err)
				hl_sim_result_free(&res);
		} else if (!strcmp(only, "floor")) {
			err = codec_floor(&cfg, &bytes);
		} else {
			fprintf(stderr, "bench_sim: --only sim|floor\n");
			return 2;
		}
		if (err)
			fprintf(stderr, "bench_sim: %s\n", hl_strerror(err));
		return err ? 1 : 0;
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
		err = codec_floor(&cfg, &bytes);
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
