/*
 * test_core.c - the call engine with mock codecs over emulated links.
 *
 * The mock VP8 encoder emits frames with a real VP8 frame header (so the
 * engine's clear-prefix rule applies) followed by a frame counter and a
 * checkable filler; the mock decoder refuses any delta frame that does not
 * follow the frame decoded before it, and any corrupted byte.  So
 * "decode_errors == 0" proves the engine never hands the decoder a frame
 * out of order or damaged.
 */
#include <stdlib.h>

#include "harness.h"
#include "hotline/core.h"
#include "hotline/rtp.h"
#include "hotline/sim.h"

/* ---- mock codecs ----------------------------------------------------- */

struct mock_venc {
	uint32_t n;
	uint8_t buf[20000];
};

static int mv_create(void **st, const struct hl_video_enc_config *cfg)
{
	(void)cfg;
	*st = hl_calloc(1, sizeof(struct mock_venc));
	return *st ? 0 : HL_ENOMEM;
}

static void mv_destroy(void *st)
{
	hl_free(st);
}

static int mv_encode(void *st, const struct hl_image *img, uint64_t pts,
		     bool key, struct hl_encoded *out)
{
	struct mock_venc *m = st;
	size_t hl = key ? 10 : 3, len = key ? 6000 : 2500;

	(void)img;
	(void)pts;
	memset(m->buf, 0, 10);
	m->buf[0] = key ? 0x10 : 0x11;
	if (key) {
		m->buf[3] = 0x9d;
		m->buf[4] = 0x01;
		m->buf[5] = 0x2a;
		m->buf[6] = 64;
		m->buf[8] = 64;
	}
	hl_put_be32(m->buf + hl, m->n);
	for (size_t i = hl + 4; i < len; i++)
		m->buf[i] = (uint8_t)(m->n + i);
	m->n++;
	out->data = m->buf;
	out->len = len;
	out->keyframe = key;
	return 0;
}

static int mv_bitrate(void *st, unsigned kbps)
{
	(void)st;
	(void)kbps;
	return 0;
}

static const struct hl_video_encoder_ops mock_venc_ops = {
	"mock", mv_create, mv_destroy, mv_encode, mv_bitrate};

struct mock_vdec {
	bool have;
	uint32_t last;
	struct hl_image *img;
};

static int md_create(void **st)
{
	struct mock_vdec *d = hl_calloc(1, sizeof(*d));
	int err;

	if (!d)
		return HL_ENOMEM;
	err = hl_image_new(&d->img, 64, 64);
	if (err) {
		hl_free(d);
		return err;
	}
	*st = d;
	return 0;
}

static void md_destroy(void *st)
{
	struct mock_vdec *d = st;

	hl_image_free(d->img);
	hl_free(d);
}

static int md_decode(void *st, const uint8_t *data, size_t len,
		     const struct hl_image **out)
{
	struct mock_vdec *d = st;
	bool key = !(data[0] & 1);
	size_t hl = key ? 10 : 3;
	uint32_t n;

	if (len < hl + 4)
		return HL_ECODEC;
	n = hl_get_be32(data + hl);
	if (len != (key ? 6000u : 2500u))
		return HL_ECODEC;
	for (size_t i = hl + 4; i < len; i++)
		if (data[i] != (uint8_t)(n + i))
			return HL_ECODEC;
	if (!key && (!d->have || n != d->last + 1))
		return HL_ECODEC;
	d->have = true;
	d->last = n;
	d->img->plane[0][0] = (uint8_t)n;
	*out = d->img;
	return 0;
}

static const struct hl_video_decoder_ops mock_vdec_ops = {
	"mock", md_create, md_destroy, md_decode};

static int ma_create(void **st, const struct hl_audio_enc_config *cfg)
{
	(void)cfg;
	*st = hl_calloc(1, sizeof(uint32_t));
	return *st ? 0 : HL_ENOMEM;
}

static int ma_encode(void *st, const int16_t *pcm, uint8_t *out, size_t cap,
		     size_t *len)
{
	uint32_t *n = st;

	(void)pcm;
	if (cap < 60)
		return HL_ETOOBIG;
	memset(out, 0xa5, 60);
	hl_put_be32(out, (*n)++);
	*len = 60;
	return 0;
}

static int ma_int(void *st, unsigned v)
{
	(void)st;
	(void)v;
	return 0;
}

static int ma_loss(void *st, int v)
{
	(void)st;
	(void)v;
	return 0;
}

static int ma_lookahead(void *st)
{
	(void)st;
	return 0;
}

static const struct hl_audio_encoder_ops mock_aenc_ops = {
	"mock", ma_create, mv_destroy,	ma_encode,
	ma_int, ma_loss,   ma_lookahead};

static int mad_create(void **st)
{
	*st = hl_calloc(1, 1);
	return *st ? 0 : HL_ENOMEM;
}

static int mad_decode(void *st, const uint8_t *data, size_t len, int16_t *pcm)
{
	(void)st;
	if (len != 60 || data[59] != 0xa5)
		return HL_ECODEC;
	memset(pcm, 0, HL_AUDIO_FRAME_SAMPLES * 2);
	pcm[0] = (int16_t)hl_get_be32(data);
	return 0;
}

static int mad_conceal(void *st, int16_t *pcm)
{
	(void)st;
	memset(pcm, 0, HL_AUDIO_FRAME_SAMPLES * 2);
	return 0;
}

static const struct hl_audio_decoder_ops mock_adec_ops = {
	"mock", mad_create, mv_destroy, mad_decode, mad_decode, mad_conceal};

/* ---- a two-peer loop ------------------------------------------------- */

struct peer {
	struct hl_prng prng;
	struct hl_call *call;
	struct hl_link *out;
	uint64_t frames_shown, audio_played;
};

struct run {
	struct peer p[2];
	struct hl_image *img;
	/* hook: alter or drop datagrams from 0 to 1 (return false: drop) */
	bool (*hook)(void *ctx, uint8_t *pkt, size_t *len, uint64_t t);
	void *hook_ctx;
};

/* Set before run_init: both peers refuse RED (as when the peer's SDP did
 * not accept it). */
static bool run_no_red;

static int run_init(struct run *r, const struct hl_link_params *lp,
		    uint64_t rekey_us, bool wrong_key)
{
	static const uint8_t secret[] = "test secret";
	struct hl_call_ssrcs s[2];
	int err;

	memset(r, 0, sizeof(*r));
	err = hl_image_new(&r->img, 64, 64);
	for (int i = 0; i < 2 && !err; i++) {
		struct hl_call_config cc;

		hl_call_config_defaults(&cc);
		hl_prng_seed(&r->p[i].prng, 7 + (uint64_t)i);
		cc.role = i ? HL_CALL_ROLE_B : HL_CALL_ROLE_A;
		cc.rng = hl_prng_as_rng(&r->p[i].prng);
		cc.width = cc.height = 64;
		cc.venc = &mock_venc_ops;
		cc.vdec = &mock_vdec_ops;
		cc.aenc = &mock_aenc_ops;
		cc.adec = &mock_adec_ops;
		cc.rekey_us = rekey_us;
		cc.no_red = run_no_red;
		err = hl_call_test_keys(cc.role, secret,
					sizeof(secret) - (wrong_key && i),
					&cc.keys);
		if (!err)
			err = hl_call_new(&r->p[i].call, &cc, 0);
		if (!err)
			err = hl_link_new(&r->p[i].out, lp, 99 + (uint64_t)i);
	}
	if (err)
		return err;
	hl_call_local_ssrcs(r->p[0].call, &s[0]);
	hl_call_local_ssrcs(r->p[1].call, &s[1]);
	hl_call_set_remote_ssrcs(r->p[0].call, &s[1]);
	hl_call_set_remote_ssrcs(r->p[1].call, &s[0]);
	return 0;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < 2; i++) {
		hl_call_free(r->p[i].call);
		hl_link_free(r->p[i].out);
	}
	hl_image_free(r->img);
}

/* Run until end_us: 30 fps video and 50 fps audio both ways (sources stop
 * at stop_us). */
static int run_for(struct run *r, uint64_t stop_us, uint64_t end_us)
{
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES] = {0};
	uint8_t pkt[2048];
	size_t len;
	int err = 0;

	for (uint64_t t = 0; t <= end_us && !err; t += 1000) {
		for (int i = 0; i < 2 && !err; i++) {
			struct peer *me = &r->p[i], *peer = &r->p[1 - i];
			struct hl_video_out vo;
			struct hl_audio_out ao;

			while (!err && hl_link_recv(peer->out, t, pkt,
						    sizeof(pkt), &len) == 0)
				err = hl_call_recv(me->call, pkt, len, t);
			if (!err && hl_call_next_timeout(me->call) <= t)
				err = hl_call_handle_timeout(me->call, t);
			if (!err && t < stop_us && t % 33000 == 0)
				err = hl_call_send_video(me->call, r->img, t,
							 t);
			if (!err && t < stop_us && t % 20000 == 0)
				err = hl_call_send_audio(me->call, pcm, t, t);
			if (!err && t % 20000 == 10000) {
				err = hl_call_pull_audio(me->call, t, pcm, &ao);
				if (ao.kind == HL_AUDIO_DECODED ||
				    ao.kind == HL_AUDIO_FEC)
					me->audio_played++;
			}
			while (!err &&
			       hl_call_poll_video(me->call, t, &vo) == 0)
				me->frames_shown++;
			while (!err &&
			       hl_call_poll_transmit(me->call, pkt, sizeof(pkt),
						     &len) == 0) {
				if (i == 0 && r->hook &&
				    !r->hook(r->hook_ctx, pkt, &len, t))
					continue;
				err = hl_link_send(me->out, pkt, len, t);
			}
		}
	}
	return err;
}

static int test_clean_call(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	HT_OK(run_for(&r, 3000000, 4000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_EQ_INT(a.video_frames_sent, 91);
	HT_EQ_INT(r.p[1].frames_shown, a.video_frames_sent);
	HT_EQ_INT(r.p[0].frames_shown, b.video_frames_sent);
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_EQ_INT(b.auth_failures, 0);
	/* Only when the peer stops: 3 frames, then playout goes quiet. */
	HT_EQ_INT(b.audio_concealed, 3);
	HT_ASSERT(r.p[1].audio_played >= a.audio_frames_sent - 2);
	HT_ASSERT(a.have_rtt && a.rtt_ms > 39 && a.rtt_ms < 45);
	HT_EQ_INT(a.video_keyframes_sent, 1);
	run_free(&r);
	return 0;
}

static int test_lossy_call_recovers(void)
{
	struct hl_link_params lp = {
		.loss = 0.1, .delay_us = 25000, .jitter_us = 5000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	HT_OK(run_for(&r, 5000000, 6500000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_EQ_INT(a.video_decode_errors, 0);
	HT_ASSERT(r.p[1].frames_shown * 100 >= a.video_frames_sent * 99);
	HT_ASSERT(b.nacks_sent > 0 && a.retransmissions > 0);
	HT_ASSERT(b.rtx_received > 0);
	HT_ASSERT(b.audio_fec > 0);
	run_free(&r);
	return 0;
}

/* Counts the audio packets from 0 to 1 by payload type. */
struct pt_count {
	unsigned opus, red;
};

static bool count_pt(void *ctx, uint8_t *pkt, size_t *len, uint64_t t)
{
	struct pt_count *n = ctx;

	(void)t;
	if (*len > 12 && (pkt[1] & 0x7f) == HL_PT_OPUS)
		n->opus++;
	else if (*len > 12 && (pkt[1] & 0x7f) == HL_PT_RED)
		n->red++;
	return true;
}

/* Audio redundancy (RED) goes out under loss, and never when the peer did
 * not accept it. */
static int test_red_only_when_accepted(void)
{
	struct hl_link_params lp = {.loss = 0.1, .delay_us = 25000};
	struct hl_call_stats a, b;
	struct pt_count n;
	struct run r;

	for (int no_red = 0; no_red < 2; no_red++) {
		int err;

		memset(&n, 0, sizeof(n));
		run_no_red = no_red;
		err = run_init(&r, &lp, 0, false);
		run_no_red = false; /* the calls hold their own copy */
		HT_OK(err);
		r.hook = count_pt;
		r.hook_ctx = &n;
		HT_OK(run_for(&r, 4000000, 5000000));
		hl_call_stats(r.p[0].call, &a);
		hl_call_stats(r.p[1].call, &b);
		HT_ASSERT(n.opus + n.red >= 190);
		if (no_red) {
			HT_EQ_INT(n.red, 0);
			HT_EQ_INT(a.audio_red_distance, 0);
			HT_EQ_INT(b.audio_red_recovered, 0);
		} else {
			HT_ASSERT(n.red > n.opus);
			HT_ASSERT(b.audio_red_recovered > 0);
		}
		run_free(&r);
	}
	return 0;
}

/* Video leaves paced (2.5x the target: 1500 kbit/s by default, so about
 * 470 bytes a millisecond); sound and RTCP do not wait behind it; after an
 * idle time only a little credit has built up. */
static int test_video_is_paced(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	int16_t pcm[HL_AUDIO_FRAME_SAMPLES] = {0};
	struct hl_call_stats st;
	uint8_t pkt[2048];
	size_t len, first = 0, later = 0, later_bytes = 0, burst = 0;
	bool audio_first = false;
	uint64_t t = 0, next;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	/* a key frame (6000 bytes: 6 packets), then a sound frame */
	HT_OK(hl_call_send_video(r.p[0].call, r.img, 0, 0));
	HT_OK(hl_call_send_audio(r.p[0].call, pcm, 0, 0));
	while (hl_call_poll_transmit(r.p[0].call, pkt, sizeof(pkt), &len) ==
	       0) {
		if (!first && (pkt[1] & 0x7f) == HL_PT_OPUS)
			audio_first = true;
		first++;
	}
	HT_ASSERT(audio_first);
	HT_ASSERT(first >= 2 && first <= 4); /* the sound + a packet or two */
	/* the rest, each when hl_call_next_timeout() says */
	while (later + first < 7) {
		next = hl_call_next_timeout(r.p[0].call);
		HT_ASSERT(next > t); /* never due while nothing can go */
		HT_ASSERT(next < 100000);
		t = next;
		HT_OK(hl_call_handle_timeout(r.p[0].call, t));
		while (hl_call_poll_transmit(r.p[0].call, pkt, sizeof(pkt),
					     &len) == 0) {
			later++;
			later_bytes += len;
		}
	}
	/* at 2.5x 1500 kbit/s the rest takes later_bytes / 469 ms, give or
	 * take the one packet of credit */
	HT_ASSERT(t * 469 >= (later_bytes - 1500) * 1000);
	HT_ASSERT(t * 469 <= (later_bytes + 1500) * 1000);
	hl_call_stats(r.p[0].call, &st);
	HT_EQ_INT(first + later, st.packets_sent);
	/* 200 ms idle, then two delta frames (2500 bytes, 3 packets each):
	 * only 5 ms of credit (about 2350 bytes) and one packet had built up,
	 * not 200 ms of it, so not all 6 go at once */
	t += 200000;
	HT_OK(hl_call_send_video(r.p[0].call, r.img, t, t));
	HT_OK(hl_call_send_video(r.p[0].call, r.img, t + 1, t));
	while (hl_call_poll_transmit(r.p[0].call, pkt, sizeof(pkt), &len) == 0)
		burst++;
	HT_ASSERT(burst >= 3 && burst <= 5);
	run_free(&r);
	return 0;
}

static int test_tampering_is_caught(void)
{
	struct hl_link_params lp = {.tamper = 0.02, .delay_us = 10000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	HT_OK(run_for(&r, 5000000, 6500000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(b.auth_failures > 0);
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_ASSERT(r.p[1].frames_shown * 100 >= a.video_frames_sent * 95);
	run_free(&r);
	return 0;
}

static int test_wrong_key_shows_nothing(void)
{
	struct hl_link_params lp = {.delay_us = 10000};
	struct hl_call_stats b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, true));
	HT_OK(run_for(&r, 1000000, 1500000));
	hl_call_stats(r.p[1].call, &b);
	HT_EQ_INT(r.p[1].frames_shown, 0);
	HT_EQ_INT(r.p[1].audio_played, 0);
	HT_ASSERT(b.auth_failures >= 50);
	HT_EQ_INT(b.frames_authenticated, 0);
	run_free(&r);
	return 0;
}

/* Replay hook: resend each audio packet once more with a fresh sequence
 * number (an attacker replaying authentic frames). */
struct replay_ctx {
	uint8_t saved[2048];
	size_t saved_len;
	uint16_t seq_bump;
};

static bool replay_hook(void *ctx, uint8_t *pkt, size_t *len, uint64_t t)
{
	struct replay_ctx *rc = ctx;

	(void)t;
	if (*len > 12 && (pkt[1] & 0x7f) == HL_PT_OPUS && !rc->saved_len) {
		memcpy(rc->saved, pkt, *len);
		rc->saved_len = *len;
	}
	return true;
}

static int test_replayed_frames_are_refused(void)
{
	struct hl_link_params lp = {.delay_us = 10000};
	struct replay_ctx rc = {0};
	struct hl_call_stats b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	r.hook = replay_hook;
	r.hook_ctx = &rc;
	HT_OK(run_for(&r, 1000000, 1200000));
	HT_ASSERT(rc.saved_len);
	/* The same old packet again: authentic, but its counter was seen. */
	HT_OK(hl_call_recv(r.p[1].call, rc.saved, rc.saved_len, 1300000));
	/* The same frame under a new sequence number and timestamp, as if it
	 * were a fresh one: still a replay. */
	hl_put_be16(rc.saved + 2, (uint16_t)(hl_get_be16(rc.saved + 2) + 60));
	hl_put_be32(rc.saved + 4, hl_get_be32(rc.saved + 4) + 960 * 66);
	HT_OK(hl_call_recv(r.p[1].call, rc.saved, rc.saved_len, 1300000));
	hl_call_stats(r.p[1].call, &b);
	HT_EQ_INT(b.replays, 2);
	HT_EQ_INT(b.auth_failures, 0);
	run_free(&r);
	return 0;
}

static int test_network_duplicates_are_not_replays(void)
{
	struct hl_link_params lp = {.delay_us = 20000, .duplicate = 0.2};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	HT_OK(run_for(&r, 2000000, 3000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	/* Copies that arrive after their frame left the buffer are dropped
	 * as old, uncounted; the rest are counted, none is a replay. */
	HT_ASSERT(b.duplicates > 10);
	HT_EQ_INT(b.replays, 0);
	HT_EQ_INT(r.p[1].frames_shown, a.video_frames_sent);
	HT_EQ_INT(b.video_decode_errors, 0);
	run_free(&r);
	return 0;
}

static int test_rekey_is_seamless(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 500000, false));
	HT_OK(run_for(&r, 3000000, 4000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(a.rekeys >= 5);
	HT_EQ_INT(r.p[1].frames_shown, a.video_frames_sent);
	HT_EQ_INT(b.auth_failures, 0);
	HT_EQ_INT(b.audio_concealed, 3);
	run_free(&r);
	return 0;
}

/* Blackout hook: drop everything alice sends between 1.0 and 1.6 s, and
 * every retransmission, so that only a key frame can repair the picture. */
static bool blackout_hook(void *ctx, uint8_t *pkt, size_t *len, uint64_t t)
{
	(void)ctx;
	if (*len > 12 && (pkt[1] & 0x7f) == HL_PT_RTX)
		return false;
	return t < 1000000 || t >= 1600000;
}

static int test_blackout_recovers_with_keyframe(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	r.hook = blackout_hook;
	HT_OK(run_for(&r, 3000000, 4000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(b.plis_sent >= 1);
	HT_ASSERT(a.video_keyframes_sent >= 2);
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_EQ_INT(b.video_gave_up, 1);
	/* Lost: the 18 frames of the blackout, those that arrive while the
	 * receiver waits for retransmissions (5 RTT + 40 ms = 240 ms) and
	 * until the key frame comes; everything after it is shown. */
	HT_ASSERT(r.p[1].frames_shown >= a.video_frames_sent - 30);
	run_free(&r);
	return 0;
}

/* Give every video packet sent in [1.0, 1.2) s its neighbour frame's
 * PictureID (flip the lowest bit): frames swap places in decode order
 * unless the PictureID is authenticated. */
static bool pid_swap_hook(void *ctx, uint8_t *pkt, size_t *len, uint64_t t)
{
	(void)ctx;
	if (*len > 16 && (pkt[1] & 0x7f) == HL_PT_VP8 && t >= 1000000 &&
	    t < 1200000)
		pkt[15] ^= 1; /* RTP header 12 + descriptor bytes 0, 1, 2-3 */
	return true;
}

static int test_swapped_picture_ids_fail_closed(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	struct hl_call_stats a, b;
	struct run r;

	HT_OK(run_init(&r, &lp, 0, false));
	r.hook = pid_swap_hook;
	HT_OK(run_for(&r, 3000000, 4000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(b.auth_failures >= 5);
	/* The mock decoder refuses frames out of order: none came. */
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_ASSERT(r.p[1].frames_shown >= a.video_frames_sent - 1);
	run_free(&r);
	return 0;
}

/* Move one video packet 20000 sequence numbers ahead. */
static bool seq_jump_hook(void *ctx, uint8_t *pkt, size_t *len, uint64_t t)
{
	bool *done = ctx;

	if (!*done && *len > 16 && (pkt[1] & 0x7f) == HL_PT_VP8 &&
	    t >= 1000000) {
		hl_put_be16(pkt + 2, (uint16_t)(hl_get_be16(pkt + 2) + 20000));
		*done = true;
	}
	return true;
}

static int test_far_sequence_jump_is_ignored(void)
{
	struct hl_link_params lp = {.delay_us = 20000};
	struct hl_call_stats a, b;
	struct run r;
	bool done = false;

	HT_OK(run_init(&r, &lp, 0, false));
	r.hook = seq_jump_hook;
	r.hook_ctx = &done;
	HT_OK(run_for(&r, 3000000, 4000000));
	hl_call_stats(r.p[0].call, &a);
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(done);
	HT_EQ_INT(b.video_decode_errors, 0);
	HT_EQ_INT(b.plis_sent, 0);
	HT_EQ_INT(r.p[1].frames_shown, a.video_frames_sent);
	run_free(&r);
	return 0;
}

static int test_garbage_datagrams(void)
{
	struct hl_link_params lp = {.delay_us = 10000};
	struct hl_call_stats b;
	struct hl_prng g;
	struct run r;
	uint8_t junk[1500];

	HT_OK(run_init(&r, &lp, 0, false));
	HT_OK(run_for(&r, 500000, 600000));
	hl_prng_seed(&g, 3);
	for (int i = 0; i < 20000; i++) {
		size_t len = hl_prng_below(&g, sizeof(junk) + 1);

		for (size_t k = 0; k < len; k++)
			junk[k] = (uint8_t)hl_prng_next(&g);
		if (i % 3 == 0 && len > 1)
			junk[0] = 0x80; /* looks like RTP */
		if (i % 3 == 1 && len > 1) {
			junk[0] = 0x81; /* looks like RTCP */
			junk[1] = (uint8_t)(200 + i % 8);
		}
		HT_OK(hl_call_recv(r.p[1].call, junk, len, 600000));
	}
	HT_OK(run_for(&r, 0, 100000));
	hl_call_stats(r.p[1].call, &b);
	HT_ASSERT(b.malformed + b.unknown_ssrc > 5000);
	HT_EQ_INT(b.video_decode_errors, 0);
	run_free(&r);
	return 0;
}

static int test_call_new_oom(void)
{
	struct hl_prng p;
	struct hl_call_config cc;
	struct hl_call *c;
	int err;

	hl_call_config_defaults(&cc);
	hl_prng_seed(&p, 1);
	cc.rng = hl_prng_as_rng(&p);
	cc.width = cc.height = 64;
	cc.venc = &mock_venc_ops;
	cc.vdec = &mock_vdec_ops;
	cc.aenc = &mock_aenc_ops;
	cc.adec = &mock_adec_ops;
	HT_OK(hl_call_test_keys(HL_CALL_ROLE_A, (const uint8_t *)"k", 1,
				&cc.keys));
	err = hl_call_new(&c, &cc, 0);
	if (err == HL_ENOMEM)
		return HT_OOM_OK;
	HT_OK(err);
	hl_call_free(c);
	return 0;
}

static int test_bad_config(void)
{
	struct hl_call_config cc;
	struct hl_call *c;
	struct hl_prng p;

	hl_call_config_defaults(&cc);
	hl_prng_seed(&p, 1);
	cc.rng = hl_prng_as_rng(&p);
	cc.keys.len = 32;
	cc.width = 63;
	HT_EQ_INT(hl_call_new(&c, &cc, 0), HL_EINVAL);
	cc.width = 64;
	cc.mtu = 50;
	HT_EQ_INT(hl_call_new(&c, &cc, 0), HL_EINVAL);
	cc.mtu = 1200;
	cc.keys.len = 0;
	HT_EQ_INT(hl_call_new(&c, &cc, 0), HL_EINVAL);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_clean_call),
	HT_TEST(test_lossy_call_recovers),
	HT_TEST(test_tampering_is_caught),
	HT_TEST(test_wrong_key_shows_nothing),
	HT_TEST(test_replayed_frames_are_refused),
	HT_TEST(test_network_duplicates_are_not_replays),
	HT_TEST(test_rekey_is_seamless),
	HT_TEST(test_blackout_recovers_with_keyframe),
	HT_TEST(test_swapped_picture_ids_fail_closed),
	HT_TEST(test_far_sequence_jump_is_ignored),
	HT_TEST(test_red_only_when_accepted),
	HT_TEST(test_video_is_paced),
	HT_TEST(test_garbage_datagrams),
	HT_TEST_OOM(test_call_new_oom),
	HT_TEST(test_bad_config),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
