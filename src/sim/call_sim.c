/*
 * call_sim.c - a whole two-party call in virtual time (hl_sim_run).
 *
 * Event loop over one virtual clock t (microseconds):
 *   - each side captures a test-pattern picture every 1/fps s and a 20 ms
 *     test-tone frame every 20 ms, and hands them to its call engine after
 *     the modelled encode time;
 *   - each side's speaker pulls 20 ms of sound every 20 ms;
 *   - datagrams travel through two hl_link emulators;
 *   - engines get their timers when they ask for them.
 * At each step every due event runs in a fixed order, then each engine's
 * pictures are shown (measured) and its datagrams go onto its link.  The
 * sources stop after cfg->seconds; the call then runs HL_SIM_DRAIN_US
 * longer so that what is in flight arrives.
 */
#include <stdio.h>
#include <string.h>

#include "hotline/core.h"
#include "hotline/report.h"
#include "hotline/sim.h"

#define AUDIO_PULL_PHASE_US 10000

static const uint8_t sim_secret[] = "hotline simulation test secret";

void hl_sim_config_defaults(struct hl_sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seconds = 10;
	cfg->seed = 1;
	cfg->width = 1280;
	cfg->height = 720;
	cfg->fps = 30;
	cfg->video_kbps = 1500;
	cfg->audio_kbps = 32;
}

struct side {
	struct hl_prng prng;
	struct hl_call *call;
	struct hl_link *out; /* towards the peer */
	struct hl_image *src;
	struct hl_vmeter *vm;
	struct hl_ameter *am;
	struct hl_y4m_reader *y4m_in;  /* NULL: test pattern */
	struct hl_wav_reader *wav_in;  /* NULL: test tone */
	struct hl_y4m_writer *y4m_out; /* --record */
	struct hl_wav_writer *wav_out;
	uint64_t video_k, audio_k, pull_k;
};

static bool is_test(const char *src)
{
	return !src || !*src || strcmp(src, "test") == 0;
}

/* Open the file sources and the recordings of one side. */
static int side_open_files(struct side *s, const struct hl_sim_config *cfg,
			   const char *name)
{
	char path[4200];
	int err = 0;

	if (!is_test(cfg->video_src)) {
		int w, h, fn, fd;

		err = hl_y4m_reader_open(&s->y4m_in, cfg->video_src, &w, &h,
					 &fn, &fd);
		if (!err && (w != cfg->width || h != cfg->height))
			err = HL_EINVAL;
	}
	if (!err && !is_test(cfg->audio_src))
		err = hl_wav_reader_open(&s->wav_in, cfg->audio_src);
	if (!err && cfg->record_dir) {
		snprintf(path, sizeof(path), "%s/%s-received.y4m",
			 cfg->record_dir, name);
		err = hl_y4m_writer_open(&s->y4m_out, path, cfg->width,
					 cfg->height, cfg->fps);
		if (!err) {
			snprintf(path, sizeof(path), "%s/%s-received.wav",
				 cfg->record_dir, name);
			err = hl_wav_writer_open(&s->wav_out, path);
		}
	}
	return err;
}

/* The next source picture: a file frame (looped) or the test pattern. */
static int next_picture(struct side *s, uint32_t k, uint64_t capture_us)
{
	struct hl_stamp st = {k, capture_us};
	int err;

	if (!s->y4m_in) {
		hl_pattern_render(s->src, &st);
		return 0;
	}
	err = hl_y4m_read(s->y4m_in, s->src);
	if (err == HL_EAGAIN) {
		err = hl_y4m_rewind(s->y4m_in);
		if (!err)
			err = hl_y4m_read(s->y4m_in, s->src);
	}
	return err;
}

static int next_sound(struct side *s, uint64_t k,
		      int16_t pcm[HL_AUDIO_FRAME_SAMPLES])
{
	int err;

	if (!s->wav_in) {
		hl_tone_render(pcm, (uint16_t)k);
		return 0;
	}
	err = hl_wav_read(s->wav_in, pcm);
	if (err == HL_EAGAIN) {
		err = hl_wav_rewind(s->wav_in);
		if (!err)
			err = hl_wav_read(s->wav_in, pcm);
	}
	return err;
}

static uint64_t video_capture_us(const struct hl_sim_config *cfg, uint64_t k)
{
	return k * 1000000u / (uint64_t)cfg->fps;
}

static int side_init(struct side *s, const struct hl_sim_config *cfg,
		     enum hl_call_role role)
{
	struct hl_call_config cc;
	int err;

	hl_call_config_defaults(&cc);
	hl_prng_seed(&s->prng, cfg->seed * 2 + (uint64_t)role + 0x5eed);
	cc.role = role;
	cc.rng = hl_prng_as_rng(&s->prng);
	cc.width = cfg->width;
	cc.height = cfg->height;
	cc.fps = cfg->fps;
	cc.video_kbps = cfg->video_kbps;
	cc.audio_kbps = cfg->audio_kbps;
	memcpy(cc.cname, role == HL_CALL_ROLE_A ? "alice" : "bob",
	       role == HL_CALL_ROLE_A ? 6 : 4);
	err = hl_call_test_keys(role, sim_secret, sizeof(sim_secret) - 1,
				&cc.keys);
	if (!err)
		err = hl_call_new(&s->call, &cc, 0);
	hl_wipe(&cc.keys, sizeof(cc.keys));
	if (!err)
		err = hl_link_new(&s->out, &cfg->link,
				  cfg->seed * 1000003u + (uint64_t)role);
	if (!err)
		err = hl_image_new(&s->src, cfg->width, cfg->height);
	if (!err)
		err = hl_vmeter_new(&s->vm, cfg->fps, is_test(cfg->video_src));
	if (!err)
		err = hl_ameter_new(&s->am);
	if (!err)
		err = side_open_files(s, cfg,
				      role == HL_CALL_ROLE_A ? "alice" : "bob");
	return err;
}

/* Close the recordings (their headers get their final sizes). */
static int side_close_files(struct side *s)
{
	int err = 0, e;

	if (s->y4m_out) {
		err = hl_y4m_writer_close(s->y4m_out);
		s->y4m_out = NULL;
	}
	if (s->wav_out) {
		e = hl_wav_writer_close(s->wav_out);
		err = err ? err : e;
		s->wav_out = NULL;
	}
	return err;
}

static void side_free(struct side *s)
{
	int err = side_close_files(s);

	(void)err; /* only reached on an earlier error */
	hl_y4m_reader_close(s->y4m_in);
	hl_wav_reader_close(s->wav_in);
	hl_call_free(s->call);
	hl_link_free(s->out);
	hl_image_free(s->src);
	hl_vmeter_free(s->vm);
	hl_ameter_free(s->am);
}

/* Show due pictures and send queued datagrams. */
static int side_flush(struct side *s, uint64_t t)
{
	uint8_t pkt[2048];
	struct hl_video_out vo;
	size_t len;
	int err;

	while ((err = hl_call_poll_video(s->call, t, &vo)) == 0) {
		err = hl_vmeter_frame(s->vm, vo.img,
				      t + HL_SIM_VIDEO_DECODE_US);
		if (!err && s->y4m_out)
			err = hl_y4m_write(s->y4m_out, vo.img);
		if (err)
			return err;
	}
	if (err != HL_EAGAIN)
		return err;
	while ((err = hl_call_poll_transmit(s->call, pkt, sizeof(pkt), &len)) ==
	       0) {
		err = hl_link_send(s->out, pkt, len, t);
		if (err)
			return err;
	}
	return err == HL_EAGAIN ? 0 : err;
}

static uint64_t side_next(const struct side *s, const struct side *peer,
			  const struct hl_sim_config *cfg, uint64_t stop)
{
	uint64_t t = hl_call_next_timeout(s->call), x;

	x = hl_link_next_time(peer->out);
	t = HL_MIN(t, x);
	x = AUDIO_PULL_PHASE_US + s->pull_k * 20000;
	t = HL_MIN(t, x);
	x = video_capture_us(cfg, s->video_k);
	if (x < stop)
		t = HL_MIN(t, x + HL_SIM_VIDEO_ENCODE_US);
	x = s->audio_k * 20000;
	if (x < stop)
		t = HL_MIN(t, x + 20000 + HL_SIM_AUDIO_ENCODE_US);
	return t;
}

/* Run every event of side s due at t. */
static int side_step(struct side *s, struct side *peer,
		     const struct hl_sim_config *cfg, uint64_t t, uint64_t stop)
{
	uint8_t pkt[2048];
	size_t len;
	int err;

	while (hl_link_recv(peer->out, t, pkt, sizeof(pkt), &len) == 0) {
		err = hl_call_recv(s->call, pkt, len, t);
		if (err)
			return err;
	}
	if (hl_call_next_timeout(s->call) <= t) {
		err = hl_call_handle_timeout(s->call, t);
		if (err)
			return err;
	}
	if (video_capture_us(cfg, s->video_k) < stop &&
	    video_capture_us(cfg, s->video_k) + HL_SIM_VIDEO_ENCODE_US <= t) {
		uint64_t cap = video_capture_us(cfg, s->video_k);

		err = next_picture(s, (uint32_t)s->video_k, cap);
		if (!err)
			err = hl_call_send_video(s->call, s->src, cap, t);
		if (err)
			return err;
		s->video_k++;
	}
	if (s->audio_k * 20000 < stop &&
	    s->audio_k * 20000 + 20000 + HL_SIM_AUDIO_ENCODE_US <= t) {
		int16_t pcm[HL_AUDIO_FRAME_SAMPLES];

		err = next_sound(s, s->audio_k, pcm);
		if (!err)
			err = hl_call_send_audio(s->call, pcm,
						 s->audio_k * 20000, t);
		if (err)
			return err;
		s->audio_k++;
	}
	if (AUDIO_PULL_PHASE_US + s->pull_k * 20000 <= t) {
		int16_t pcm[HL_AUDIO_FRAME_SAMPLES];
		struct hl_audio_out ao;

		err = hl_call_pull_audio(s->call, t, pcm, &ao);
		if (!err)
			err = hl_ameter_frame(s->am, pcm, &ao, t);
		if (!err && s->wav_out)
			err = hl_wav_write(s->wav_out, pcm,
					   HL_AUDIO_FRAME_SAMPLES);
		if (err)
			return err;
		s->pull_k++;
	}
	return 0;
}

static int collect(struct side *s, const struct side *peer,
		   const struct hl_sim_config *cfg, struct hl_side_report **out)
{
	struct hl_side_report *r = hl_calloc(1, sizeof(*r));

	if (!r)
		return HL_ENOMEM;
	r->seconds = cfg->seconds;
	r->sas = "none: fixed test keys";
	hl_call_stats(s->call, &r->call);
	hl_vmeter_summary(
		s->vm,
		peer->video_k ? video_capture_us(cfg, peer->video_k - 1) : 0,
		&r->video);
	hl_ameter_summary(s->am, &r->audio);
	*out = r;
	return 0;
}

int hl_sim_run(const struct hl_sim_config *cfg, struct hl_sim_result *res)
{
	struct side sides[2];
	struct hl_call_ssrcs ssrc[2];
	const char *what;
	uint64_t stop, end, t = 0, next_progress = 1000000;
	int err;

	memset(res, 0, sizeof(*res));
	memset(sides, 0, sizeof(sides));
	if (!(cfg->seconds > 0 && cfg->seconds <= 24 * 3600))
		return HL_EINVAL;
	err = hl_link_params_check(&cfg->link, &what);
	if (err)
		return err;
	stop = (uint64_t)(cfg->seconds * 1e6);
	end = stop + HL_SIM_DRAIN_US;

	err = side_init(&sides[0], cfg, HL_CALL_ROLE_A);
	if (!err)
		err = side_init(&sides[1], cfg, HL_CALL_ROLE_B);
	if (err)
		goto out;
	/* In a real call the SSRCs travel in the signalling. */
	hl_call_local_ssrcs(sides[0].call, &ssrc[0]);
	hl_call_local_ssrcs(sides[1].call, &ssrc[1]);
	hl_call_set_remote_ssrcs(sides[0].call, &ssrc[1]);
	hl_call_set_remote_ssrcs(sides[1].call, &ssrc[0]);

	for (;;) {
		uint64_t n0 = side_next(&sides[0], &sides[1], cfg, stop);
		uint64_t n1 = side_next(&sides[1], &sides[0], cfg, stop);
		uint64_t next = HL_MIN(n0, n1);

		/* Time only moves forward, by at least 1 us per step: a
		 * timer that stays due cannot stall the simulation. */
		t = next > t ? next : t + 1;
		if (t > end)
			break;
		for (int i = 0; i < 2 && !err; i++)
			err = side_step(&sides[i], &sides[1 - i], cfg, t, stop);
		for (int i = 0; i < 2 && !err; i++)
			err = side_flush(&sides[i], t);
		if (err)
			goto out;
		if (t >= next_progress && cfg->progress) {
			cfg->progress(cfg->progress_ctx, t / 1e6, end / 1e6);
			next_progress += 1000000;
		}
	}
	for (int i = 0; i < 2 && !err; i++) {
		err = side_close_files(&sides[i]);
		if (!err)
			err = collect(&sides[i], &sides[1 - i], cfg,
				      &res->side[i]);
		hl_link_stats(sides[i].out, &res->link[i]);
	}
out:
	side_free(&sides[0]);
	side_free(&sides[1]);
	if (err)
		hl_sim_result_free(res);
	return err;
}

void hl_sim_result_free(struct hl_sim_result *res)
{
	for (int i = 0; i < 2; i++) {
		hl_free(res->side[i]);
		res->side[i] = NULL;
	}
}

static void link_json(struct hl_json *j, const char *key,
		      const struct hl_link_stats *l)
{
	hl_json_obj_begin(j, key);
	hl_json_u64(j, "sent", l->sent);
	hl_json_u64(j, "delivered", l->delivered);
	hl_json_u64(j, "lost", l->lost);
	hl_json_u64(j, "queue_drops", l->queue_drops);
	hl_json_u64(j, "duplicated", l->duplicated);
	hl_json_u64(j, "reordered", l->reordered);
	hl_json_u64(j, "tampered", l->tampered);
	hl_json_obj_end(j);
}

int hl_sim_report_json(const struct hl_sim_config *cfg,
		       const struct hl_sim_result *res, char **out)
{
	const struct hl_link_params *p = &cfg->link;
	struct hl_json j;

	if (!res->side[0] || !res->side[1])
		return HL_EINVAL;
	hl_json_init(&j);
	hl_json_obj_begin(&j, NULL);
	hl_report_side_json(&j, "alice", res->side[0]);
	hl_report_side_json(&j, "bob", res->side[1]);
	hl_json_obj_begin(&j, "sim");
	hl_json_u64(&j, "seed", cfg->seed);
	hl_json_num(&j, "seconds", cfg->seconds, 3);
	hl_json_num(&j, "loss", p->loss, 4);
	hl_json_num(&j, "burst", p->burst, 2);
	hl_json_num(&j, "delay_ms", p->delay_us / 1000.0, 1);
	hl_json_num(&j, "jitter_ms", p->jitter_us / 1000.0, 1);
	hl_json_num(&j, "reorder", p->reorder, 4);
	hl_json_num(&j, "duplicate", p->duplicate, 4);
	hl_json_u64(&j, "rate_kbps", p->rate_kbps);
	hl_json_num(&j, "tamper", p->tamper, 4);
	hl_json_str(&j, "video_source",
		    is_test(cfg->video_src) ? "test" : cfg->video_src);
	hl_json_str(&j, "audio_source",
		    is_test(cfg->audio_src) ? "test" : cfg->audio_src);
	hl_json_u64(&j, "width", (uint64_t)cfg->width);
	hl_json_u64(&j, "height", (uint64_t)cfg->height);
	hl_json_u64(&j, "fps", (uint64_t)cfg->fps);
	hl_json_u64(&j, "video_kbps", cfg->video_kbps);
	hl_json_u64(&j, "audio_kbps", cfg->audio_kbps);
	hl_json_str(&j, "codec_time_model",
		    "virtual time charges 5 ms per video encode, 2 ms per "
		    "video decode and 1 ms per audio encode; latency also "
		    "counts the 20 ms audio frame and the Opus look-ahead; "
		    "real codec CPU time does not advance the virtual clock");
	hl_json_str(&j, "sas", "none: fixed test keys (no key exchange)");
	link_json(&j, "alice_to_bob", &res->link[0]);
	link_json(&j, "bob_to_alice", &res->link[1]);
	hl_json_obj_end(&j);
	hl_json_obj_end(&j);
	if (j.err) {
		int err = j.err;

		hl_json_free(&j);
		return err;
	}
	*out = j.buf;
	return 0;
}
