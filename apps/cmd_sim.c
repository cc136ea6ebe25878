/*
 * cmd_sim.c - `hotline sim`: the call engine over the network emulator.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hotline/media.h"
#include "hotline/net.h"
#include "hotline/report.h"
#include "hotline/sim.h"

static void sim_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline sim [OPTIONS]\n"
		"\n"
		"Run alice and bob in one process, each sending the test "
		"pattern (VP8) and\ntest tone (Opus), end-to-end encrypted "
		"with SFrame, through an emulated\nnetwork in virtual time. "
		"The same options give the same report, byte for byte.\n"
		"\n"
		"options:\n"
		"  --seconds N       call length in seconds (default 10)\n"
		"  --loss P          packet loss rate, 0..1 (default 0)\n"
		"  --burst N         mean loss burst length in packets "
		"(Gilbert-Elliott; default: random loss)\n"
		"  --delay-ms D      one-way delay (default 0)\n"
		"  --jitter-ms J     delay varies by up to +-J ms (default 0)\n"
		"  --reorder P       share of packets delivered out of order\n"
		"  --duplicate P     share of packets delivered twice\n"
		"  --rate-kbps R     link rate cap with a drop-tail queue "
		"(default: none)\n"
		"  --tamper P        share of packets with bits flipped\n"
		"  --seed S          random seed (default 1)\n"
		"  --video-size WxH  picture size (default 1280x720)\n"
		"  --kbps N          video bitrate (default 1500)\n"
		"  --video SRC       'test' (the stamped test pattern, "
		"default) or FILE.y4m\n"
		"  --audio SRC       'test' (the marked test tone, default) "
		"or FILE.wav (48 kHz)\n"
		"  --record DIR      write what each side shows and plays to "
		"DIR/NAME-received.y4m/.wav\n"
		"  --json            print the call report as JSON\n"
		"  --help            show this help\n"
		"\n"
		"Progress goes to stderr when a run takes more than a "
		"second.\n");
}

struct progress {
	uint64_t start_us;
	uint64_t last_us;
	bool shown;
	bool tty;
};

static void on_progress(void *ctx, double done, double total)
{
	struct progress *p = ctx;
	uint64_t now = hl_clock_now_us();
	double wall = (now - p->start_us) / 1e6;

	if (wall < 1.0)
		return;
	if (!p->tty && p->shown && now - p->last_us < 2000000)
		return;
	p->last_us = now;
	p->shown = true;
	fprintf(stderr, "%ssim: %.0f/%.1f s simulated, %.1fx real time%s",
		p->tty ? "\r" : "", done, total, done / wall,
		p->tty ? "" : "\n");
	fflush(stderr);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static void print_summary(const struct hl_sim_config *cfg,
			  const struct hl_sim_result *res, FILE *f)
{
	const struct hl_side_report *a = res->side[0], *b = res->side[1];

	fprintf(f,
		"hotline sim: %.1f s, %dx%d@%d %u kbps, seed %llu, loss %.3f "
		"burst %.1f, delay %.0f+-%.0f ms, tamper %.3f\n",
		cfg->seconds, cfg->width, cfg->height, cfg->fps,
		cfg->video_kbps, (unsigned long long)cfg->seed, cfg->link.loss,
		cfg->link.burst, cfg->link.delay_us / 1000.0,
		cfg->link.jitter_us / 1000.0, cfg->link.tamper);
	fprintf(f, "%-28s %16s %16s\n", "", "alice", "bob");
	fprintf(f, "%-28s %7llu/%-8llu %7llu/%-8llu\n",
		"video frames rendered/sent",
		(unsigned long long)a->video.frames,
		(unsigned long long)b->call.video_frames_sent,
		(unsigned long long)b->video.frames,
		(unsigned long long)a->call.video_frames_sent);
	fprintf(f, "%-28s %15.1f%% %15.1f%%\n", "  rendered",
		100 * ratio(a->video.frames, b->call.video_frames_sent),
		100 * ratio(b->video.frames, a->call.video_frames_sent));
	fprintf(f, "%-28s %16.2f %16.2f\n", "video PSNR (dB)", a->video.psnr_db,
		b->video.psnr_db);
	fprintf(f, "%-28s %7.1f/%-8.1f %7.1f/%-8.1f\n",
		"video latency p50/p95 (ms)", a->video.latency_p50_ms,
		a->video.latency_p95_ms, b->video.latency_p50_ms,
		b->video.latency_p95_ms);
	fprintf(f, "%-28s %7llu/%-8.0f %7llu/%-8.0f\n",
		"freezes / longest (ms)", (unsigned long long)a->video.freezes,
		a->video.max_freeze_ms, (unsigned long long)b->video.freezes,
		b->video.max_freeze_ms);
	fprintf(f, "%-28s %16llu %16llu\n", "corrupt pictures shown",
		(unsigned long long)a->video.corrupt,
		(unsigned long long)b->video.corrupt);
	fprintf(f, "%-28s %7llu/%-8llu %7llu/%-8llu\n",
		"audio frames played/sent",
		(unsigned long long)a->audio.frames_played,
		(unsigned long long)b->call.audio_frames_sent,
		(unsigned long long)b->audio.frames_played,
		(unsigned long long)a->call.audio_frames_sent);
	fprintf(f, "%-28s %16.0f %16.0f\n", "audio concealed (ms)",
		a->audio.concealed_ms, b->audio.concealed_ms);
	fprintf(f, "%-28s %7.1f/%-8.1f %7.1f/%-8.1f\n",
		"audio latency p50/p95 (ms)", a->audio.latency_p50_ms,
		a->audio.latency_p95_ms, b->audio.latency_p50_ms,
		b->audio.latency_p95_ms);
	fprintf(f, "%-28s %16llu %16llu\n", "e2ee auth failures",
		(unsigned long long)a->call.auth_failures,
		(unsigned long long)b->call.auth_failures);
	fprintf(f, "%-28s %7llu/%-8llu %7llu/%-8llu\n",
		"NACKed / retransmitted",
		(unsigned long long)a->call.nacks_sent,
		(unsigned long long)b->call.retransmissions,
		(unsigned long long)b->call.nacks_sent,
		(unsigned long long)a->call.retransmissions);
	fprintf(f, "%-28s %16.1f %16.1f\n", "RTT (ms)", a->call.rtt_ms,
		b->call.rtt_ms);
}

static int run_sim(const struct hl_sim_config *cfg, struct hl_sim_result *res)
{
	struct hl_sim_config c = *cfg;
	struct progress pr = {0};
	int err;

	pr.start_us = hl_clock_now_us();
	pr.tty = isatty(2);
	c.progress = on_progress;
	c.progress_ctx = &pr;
	err = hl_sim_run(&c, res);
	if (pr.shown && pr.tty)
		fputc('\n', stderr);
	return err;
}

/* The options of `sim`. */
struct sim_opts {
	struct hl_sim_config cfg;
	int size[2];
	uint64_t seed;
	bool json;
};

static int parse_sim_options(const char *cmd, int argc, char **argv,
			     struct sim_opts *so, bool *size_given)
{
	struct hl_sim_config *cfg = &so->cfg;
	struct hl_link_params *l = &cfg->link;
	struct opt t[] = {
		{"--seconds", OPT_DOUBLE, 0.001, 86400,
		 "a number of seconds between 0.001 and 86400", &cfg->seconds,
		 false},
		{"--loss", OPT_DOUBLE, 0, 1, "a fraction between 0 and 1",
		 &l->loss, false},
		{"--burst", OPT_DOUBLE, 0, 1000,
		 "a mean burst length between 0 and 1000 packets", &l->burst,
		 false},
		{"--delay-ms", OPT_MS, 0, 10000,
		 "a number of milliseconds between 0 and 10000", &l->delay_us,
		 false},
		{"--jitter-ms", OPT_MS, 0, 10000,
		 "a number of milliseconds between 0 and 10000", &l->jitter_us,
		 false},
		{"--reorder", OPT_DOUBLE, 0, 1, "a fraction between 0 and 1",
		 &l->reorder, false},
		{"--duplicate", OPT_DOUBLE, 0, 1, "a fraction between 0 and 1",
		 &l->duplicate, false},
		{"--tamper", OPT_DOUBLE, 0, 1, "a fraction between 0 and 1",
		 &l->tamper, false},
		{"--rate-kbps", OPT_U32, 0, 10000000,
		 "a whole number of kbit/s (0 = no cap)", &l->rate_kbps, false},
		{"--seed", OPT_U64, 0, 1.8e19, "a whole number", &cfg->seed,
		 false},
		{"--video-size", OPT_SIZE, 0, 0,
		 "WxH with even sizes from 64 to 4096", so->size, false},
		{"--kbps", OPT_U32, 50, 50000,
		 "a video bitrate from 50 to 50000 kbit/s", &cfg->video_kbps,
		 false},
		{"--video", OPT_PATH, 0, 0, "'test' or a .y4m file",
		 &cfg->video_src, false},
		{"--audio", OPT_PATH, 0, 0, "'test' or a .wav file",
		 &cfg->audio_src, false},
		{"--record", OPT_PATH, 0, 0, "a folder", &cfg->record_dir,
		 false},
		{"--json", OPT_FLAG, 0, 0, "", &so->json, false},
	};
	const char *what;
	int rc;

	rc = parse_opts(cmd, argc, argv, t, HL_ARRAY_SIZE(t), sim_usage, NULL,
			0, NULL);
	if (rc)
		return rc;
	*size_given = t[10].seen;
	if (*size_given) {
		cfg->width = so->size[0];
		cfg->height = so->size[1];
	}
	if (hl_link_params_check(&cfg->link, &what)) {
		if (strcmp(what, "loss") == 0 && cfg->link.burst > 1)
			return bad(cmd,
				   "--loss is too high for --burst %g: with "
				   "bursts of N packets the loss can be at "
				   "most N/(N+1)",
				   cfg->link.burst);
		return bad(cmd, "the network option for '%s' is out of range",
			   what);
	}
	return 0;
}

static bool is_file_src(const char *src)
{
	return src && strcmp(src, "test") != 0;
}

/*
 * Check the sources and the recording folder before the call starts, so
 * that a bad file gets a sentence naming it.  A Y4M source sets the
 * picture size and frame rate.  Returns 0, or the exit status.
 */
static int prepare_media(const char *cmd, struct hl_sim_config *cfg,
			 bool size_given)
{
	if (is_file_src(cfg->video_src)) {
		struct hl_y4m_reader *r;
		int w, h, fn, fd;
		int err = hl_y4m_reader_open(&r, cfg->video_src, &w, &h, &fn,
					     &fd);

		if (err) {
			fprintf(stderr,
				"%s %s: cannot use %s as video: %s (a "
				"YUV4MPEG2 4:2:0 file is needed)\n",
				prog, cmd, cfg->video_src,
				err == HL_EIO ? strerror(errno)
					      : hl_strerror(err));
			return 1;
		}
		hl_y4m_reader_close(r);
		if (size_given && (w != cfg->width || h != cfg->height))
			return bad(cmd,
				   "--video-size %dx%d differs from the "
				   "%dx%d of %s",
				   cfg->width, cfg->height, w, h,
				   cfg->video_src);
		if (w < 64 || h < 64)
			return bad(cmd,
				   "%s is %dx%d; the smallest picture is "
				   "64x64",
				   cfg->video_src, w, h);
		cfg->width = w;
		cfg->height = h;
		if (fd > 0 && fn / fd >= 1 && fn / fd <= 60)
			cfg->fps = fn / fd;
	}
	if (is_file_src(cfg->audio_src)) {
		struct hl_wav_reader *r;
		int err = hl_wav_reader_open(&r, cfg->audio_src);

		if (err) {
			fprintf(stderr,
				"%s %s: cannot use %s as audio: %s (a 16-bit "
				"PCM WAV at 48 kHz is needed)\n",
				prog, cmd, cfg->audio_src,
				err == HL_EIO ? strerror(errno)
					      : hl_strerror(err));
			return 1;
		}
		hl_wav_reader_close(r);
	}
	if (cfg->record_dir && mkdir_p(cfg->record_dir) != 0) {
		fprintf(stderr, "%s %s: cannot create the folder %s: %s\n",
			prog, cmd, cfg->record_dir, strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	struct sim_opts so;
	struct hl_sim_result res;
	bool size_given;
	char *out;
	int rc, err;

	memset(&so, 0, sizeof(so));
	hl_sim_config_defaults(&so.cfg);
	rc = parse_sim_options("sim", argc, argv, &so, &size_given);
	if (!rc)
		rc = prepare_media("sim", &so.cfg, size_given);
	if (rc)
		return rc;
	err = run_sim(&so.cfg, &res);
	if (err) {
		fprintf(stderr, "%s sim: the simulation failed: %s\n", prog,
			hl_strerror(err));
		return 1;
	}
	if (so.json) {
		err = hl_sim_report_json(&so.cfg, &res, &out);
		if (err) {
			fprintf(stderr,
				"%s sim: could not write the report: %s\n",
				prog, hl_strerror(err));
			hl_sim_result_free(&res);
			return 1;
		}
		fputs(out, stdout);
		hl_free(out);
	} else {
		print_summary(&so.cfg, &res, stdout);
	}
	hl_sim_result_free(&res);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s sim: could not write the output: %s\n",
			prog, strerror(errno));
		return 1;
	}
	return 0;
}
