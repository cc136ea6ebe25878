/*
 * call.c - the call engine's life cycle, timers and output queue.
 *
 * See include/hotline/core.h for the contract and send.c / recv.c for the
 * two media directions.  This file owns what ties them together: creating
 * and freeing every part, the datagram queue drained by
 * hl_call_poll_transmit(), the timers (RTCP reports, NACK repeats, key
 * frame requests, the SFrame ratchet, A/V sync holds) and the statistics.
 */
#include <string.h>

#include "call_internal.h"
#include "hotline/crypto.h"

#define DEFAULT_RTT_US	 100000
#define REKEY_DEFAULT_US (10ull * 60 * 1000000)

void hl_call_config_defaults(struct hl_call_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = HL_CALL_ROLE_A;
	cfg->send_video = true;
	cfg->send_audio = true;
	cfg->width = 1280;
	cfg->height = 720;
	cfg->fps = 30;
	cfg->video_kbps = 1500;
	cfg->audio_kbps = 32;
	cfg->enc_threads = 1;
	cfg->cpu_used = -6;
	cfg->venc = &hl_vp8_encoder;
	cfg->vdec = &hl_vp8_decoder;
	cfg->aenc = &hl_opus_encoder;
	cfg->adec = &hl_opus_decoder;
	cfg->mtu = HL_CALL_DEFAULT_MTU;
	memcpy(cfg->cname, "hotline", 8);
	cfg->av_sync = true;
	cfg->av_lead_us = 40000;
	cfg->rekey_us = REKEY_DEFAULT_US;
	cfg->rtcp_interval_us = 500000;
	cfg->keys.suite = HL_SFRAME_DEFAULT_SUITE;
}

/* HKDF-SHA256 (RFC 5869) with an empty salt. */
static int hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const char *info,
		       uint8_t *out, size_t out_len)
{
	uint8_t prk[HL_CRYPTO_HASH_MAX];
	int err;

	err = hl_crypto_hkdf_extract(HL_CRYPTO_SHA256, NULL, 0, ikm, ikm_len,
				     prk);
	if (!err)
		err = hl_crypto_hkdf_expand(HL_CRYPTO_SHA256, prk, 32,
					    (const uint8_t *)info, strlen(info),
					    out, out_len);
	hl_wipe(prk, sizeof(prk));
	return err;
}

int hl_call_test_keys(enum hl_call_role role, const uint8_t *secret, size_t len,
		      struct hl_call_keys *out)
{
	struct hl_call_keys k;
	const char *ab = "hotline test key A->B", *ba = "hotline test key B->A";
	int err;

	memset(&k, 0, sizeof(k));
	k.suite = HL_SFRAME_DEFAULT_SUITE;
	k.epoch = 0;
	k.len = 32;
	err = hkdf_sha256(secret, len, role == HL_CALL_ROLE_A ? ab : ba, k.send,
			  k.len);
	if (!err)
		err = hkdf_sha256(secret, len, role == HL_CALL_ROLE_A ? ba : ab,
				  k.recv, k.len);
	if (!err)
		*out = k;
	hl_wipe(&k, sizeof(k));
	return err;
}

/*
 * SFrame key ids (docs/protocol.md): generation = epoch * 2 + role, and the
 * low 8 bits count ratchet steps (RFC 9605 §5.1).
 */
static uint64_t kid_for(uint64_t epoch, enum hl_call_role role)
{
	return ((epoch << 1) | (uint64_t)role) << HL_SFRAME_RATCHET_BITS;
}

static uint32_t nonzero_u32(const struct hl_rng *rng)
{
	uint32_t v;

	do {
		v = hl_rng_u32(rng);
	} while (v == 0);
	return v;
}

static int create_codecs(struct hl_call *c)
{
	const struct hl_call_config *cfg = &c->cfg;
	int err;

	if (cfg->send_video) {
		struct hl_video_enc_config vc = {
			.width = cfg->width,
			.height = cfg->height,
			.fps = cfg->fps,
			.kbps = cfg->video_kbps,
			.threads = cfg->enc_threads,
			.cpu_used = cfg->cpu_used,
		};

		err = cfg->venc->create(&c->venc, &vc);
		if (err)
			return err;
	}
	err = cfg->vdec->create(&c->vdec);
	if (err)
		return err;
	if (cfg->send_audio) {
		struct hl_audio_enc_config ac = {
			.kbps = cfg->audio_kbps,
			.fec = true,
			.loss_perc = c->audio_loss_perc,
		};

		err = cfg->aenc->create(&c->aenc, &ac);
		if (err)
			return err;
		c->audio_delay = cfg->aenc->lookahead(c->aenc);
	}
	return cfg->adec->create(&c->adec);
}

static int check_config(const struct hl_call_config *cfg)
{
	if (!cfg->rng.fill || !cfg->venc || !cfg->vdec || !cfg->aenc ||
	    !cfg->adec)
		return HL_EINVAL;
	if (cfg->width < 16 || cfg->height < 16 ||
	    cfg->width > HL_VIDEO_MAX_DIM || cfg->height > HL_VIDEO_MAX_DIM ||
	    cfg->width % 2 || cfg->height % 2)
		return HL_EINVAL;
	if (cfg->fps < 1 || cfg->fps > 120 || cfg->video_kbps < 10 ||
	    cfg->video_kbps > 100000 || cfg->audio_kbps < 6 ||
	    cfg->audio_kbps > 510)
		return HL_EINVAL;
	if (cfg->mtu < 200 || cfg->mtu > PKT_MAX - RTX_EXTRA)
		return HL_EINVAL;
	if (cfg->rtcp_interval_us < 10000 || cfg->rtcp_interval_us > 60000000)
		return HL_EINVAL;
	if (!hl_sframe_suite_supported(cfg->keys.suite) || !cfg->keys.len ||
	    cfg->keys.len > HL_CALL_KEY_MAX)
		return HL_EINVAL;
	return 0;
}

int hl_call_new(struct hl_call **out, const struct hl_call_config *cfg,
		uint64_t now)
{
	struct hl_call *c;
	enum hl_call_role peer;
	int err = check_config(cfg);

	if (err)
		return err;
	c = hl_calloc(1, sizeof(*c));
	if (!c)
		return HL_ENOMEM;
	c->cfg = *cfg;
	c->cfg.cname[sizeof(c->cfg.cname) - 1] = 0;
	/* The keys live in the SFrame contexts only. */
	hl_wipe(&c->cfg.keys.send, sizeof(c->cfg.keys.send));
	hl_wipe(&c->cfg.keys.recv, sizeof(c->cfg.keys.recv));
	c->audio_loss_perc = 10;

	c->hist = hl_calloc(HIST_SIZE, sizeof(*c->hist));
	c->txq.slot = hl_calloc(c->txq.size = TXQ_SIZE, sizeof(struct tx_slot));
	c->rtxq.slot =
		hl_calloc(c->rtxq.size = RTXQ_SIZE, sizeof(struct tx_slot));
	c->vtxq.slot =
		hl_calloc(c->vtxq.size = VTXQ_SIZE, sizeof(struct tx_slot));
	c->frame_buf = hl_malloc(FRAME_BUF_MAX);
	c->plain_buf = hl_malloc(FRAME_BUF_MAX);
	err = HL_ENOMEM;
	if (!c->hist || !c->txq.slot || !c->rtxq.slot || !c->vtxq.slot ||
	    !c->frame_buf || !c->plain_buf)
		goto fail;
	err = hl_vbuf_new(&c->vbuf);
	if (!err)
		err = hl_nack_new(&c->nack);
	if (!err)
		err = hl_abuf_new(&c->abuf, HL_AUDIO_FRAME_SAMPLES,
				  HL_OPUS_CLOCK);
	if (err)
		goto fail;

	peer = cfg->role == HL_CALL_ROLE_A ? HL_CALL_ROLE_B : HL_CALL_ROLE_A;
	err = hl_sframe_sender_new(&c->tx_sframe, cfg->keys.suite,
				   kid_for(cfg->keys.epoch, cfg->role),
				   cfg->keys.send, cfg->keys.len);
	if (!err)
		err = hl_sframe_receiver_new(&c->rx_sframe, cfg->keys.suite);
	if (!err)
		err = hl_sframe_receiver_add_key(c->rx_sframe,
						 kid_for(cfg->keys.epoch, peer),
						 cfg->keys.recv, cfg->keys.len);
	if (err)
		goto fail;
	err = create_codecs(c);
	if (err)
		goto fail;
	{
		struct hl_cc_config ccc = {
			.min_kbps = HL_MIN(100u, cfg->video_kbps),
			.start_kbps = cfg->video_kbps,
			.max_kbps = cfg->video_kbps,
		};

		err = hl_cc_new(&c->cc, &ccc);
		if (!err)
			err = hl_rbe_new(&c->rbe);
		if (err)
			goto fail;
		c->applied_kbps = cfg->video_kbps;
		c->rtx_tokens_us = now;
	}

	c->local = cfg->local;
	if (!c->local.audio)
		c->local.audio = nonzero_u32(&cfg->rng);
	while (!c->local.video || c->local.video == c->local.audio)
		c->local.video = nonzero_u32(&cfg->rng);
	while (!c->local.rtx || c->local.rtx == c->local.audio ||
	       c->local.rtx == c->local.video)
		c->local.rtx = nonzero_u32(&cfg->rng);
	c->seq_audio = (uint16_t)hl_rng_u32(&cfg->rng);
	c->seq_video = (uint16_t)hl_rng_u32(&cfg->rng);
	c->seq_rtx = (uint16_t)hl_rng_u32(&cfg->rng);
	c->ts_off_audio = hl_rng_u32(&cfg->rng);
	c->ts_off_video = hl_rng_u32(&cfg->rng);
	c->picture_id = (uint16_t)(hl_rng_u32(&cfg->rng) & 0x7fff);
	c->force_key = true;
	/* one earlier frame until the peer's reports say otherwise */
	c->red_distance = cfg->no_red ? 0 : 1;
	c->next_rtcp_us = now + cfg->rtcp_interval_us / 10;
	c->next_rekey_us = cfg->rekey_us ? now + cfg->rekey_us : UINT64_MAX;
	c->hold_until = UINT64_MAX;
	c->now_us = c->pace_us = now;
	c->pace_bytes = PKT_MAX; /* the first packet goes at once */
	c->st.suite = cfg->keys.suite;
	*out = c;
	return 0;
fail:
	hl_call_free(c);
	return err;
}

void hl_call_free(struct hl_call *c)
{
	if (!c)
		return;
	if (c->venc)
		c->cfg.venc->destroy(c->venc);
	if (c->vdec)
		c->cfg.vdec->destroy(c->vdec);
	if (c->aenc)
		c->cfg.aenc->destroy(c->aenc);
	if (c->adec)
		c->cfg.adec->destroy(c->adec);
	hl_cc_free(c->cc);
	hl_rbe_free(c->rbe);
	hl_sframe_sender_free(c->tx_sframe);
	hl_sframe_receiver_free(c->rx_sframe);
	hl_vbuf_free(c->vbuf);
	hl_nack_free(c->nack);
	hl_abuf_free(c->abuf);
	hl_free(c->hist);
	hl_free(c->txq.slot);
	hl_free(c->rtxq.slot);
	hl_free(c->vtxq.slot);
	if (c->frame_buf)
		hl_wipe(c->frame_buf, FRAME_BUF_MAX);
	if (c->plain_buf)
		hl_wipe(c->plain_buf, FRAME_BUF_MAX);
	hl_free(c->frame_buf);
	hl_free(c->plain_buf);
	hl_free(c);
}

void hl_call_local_ssrcs(const struct hl_call *c, struct hl_call_ssrcs *out)
{
	*out = c->local;
}

void hl_call_set_remote_ssrcs(struct hl_call *c, const struct hl_call_ssrcs *s)
{
	c->remote = *s;
	c->remote_set = true;
	hl_rtp_rx_stats_init(&c->rx_audio, s->audio, HL_OPUS_CLOCK);
	hl_rtp_rx_stats_init(&c->rx_video, s->video, HL_VP8_CLOCK);
}

static int push(struct hl_call *c, struct tx_ring *r, const uint8_t *pkt,
		size_t len)
{
	struct tx_slot *s;

	if (len > PKT_MAX)
		return HL_ETOOBIG;
	if (r->len == r->size) {
		c->st.tx_queue_drops++;
		return 0;
	}
	s = &r->slot[(r->head + r->len) % r->size];
	memcpy(s->data, pkt, len);
	s->len = (uint16_t)len;
	r->len++;
	return 0;
}

static int pop(struct hl_call *c, struct tx_ring *r, uint8_t *buf, size_t cap,
	       size_t *len)
{
	struct tx_slot *s = &r->slot[r->head];

	if (s->len > cap)
		return HL_ETOOBIG;
	memcpy(buf, s->data, s->len);
	*len = s->len;
	r->head = (r->head + 1) % r->size;
	r->len--;
	c->st.packets_sent++;
	c->st.bytes_sent += s->len;
	return 0;
}

int call_enqueue(struct hl_call *c, const uint8_t *pkt, size_t len)
{
	return push(c, &c->txq, pkt, len);
}

/* The pacer's rate in bytes per µs. */
static double pace_rate(const struct hl_call *c)
{
	return PACE_FACTOR * hl_cc_target_kbps(c->cc) * 1000.0 / 8 / 1e6;
}

/* The pacer's credit at now_us. */
static double pace_credit(const struct hl_call *c)
{
	return c->pace_bytes +
	       pace_rate(c) * (double)(c->now_us > c->pace_us
					       ? c->now_us - c->pace_us
					       : 0);
}

/* A paced packet: when it ends an idle time, the credit gathered meanwhile
 * is capped at PACE_BURST (a backlog keeps all of its credit, so a late
 * wake-up catches up instead of slowing the pace). */
static int push_paced(struct hl_call *c, struct tx_ring *r, const uint8_t *pkt,
		      size_t len)
{
	if (!c->rtxq.len && !c->vtxq.len) {
		double cap = pace_rate(c) * PACE_BURST + PKT_MAX;

		c->pace_bytes = HL_MIN(pace_credit(c), cap);
		c->pace_us = HL_MAX(c->pace_us, c->now_us);
	}
	return push(c, r, pkt, len);
}

int call_enqueue_paced(struct hl_call *c, const uint8_t *pkt, size_t len)
{
	return push_paced(c, &c->vtxq, pkt, len);
}

int call_enqueue_rtx(struct hl_call *c, const uint8_t *pkt, size_t len)
{
	return push_paced(c, &c->rtxq, pkt, len);
}

int hl_call_poll_transmit(struct hl_call *c, uint8_t *buf, size_t cap,
			  size_t *len)
{
	struct tx_ring *r = c->rtxq.len ? &c->rtxq : &c->vtxq;
	int err;

	if (c->txq.len)
		return pop(c, &c->txq, buf, cap, len);
	if (!r->len)
		return HL_EAGAIN;
	c->pace_bytes = pace_credit(c);
	c->pace_us = HL_MAX(c->pace_us, c->now_us);
	if (c->pace_bytes <= 0)
		return HL_EAGAIN; /* at hl_call_next_timeout() */
	err = pop(c, r, buf, cap, len);
	if (!err)
		c->pace_bytes -= (double)*len;
	return err;
}

/* When the pacer lets the next packet go; UINT64_MAX: none waits. */
static uint64_t pace_next(const struct hl_call *c)
{
	double rate = pace_rate(c), credit = pace_credit(c);

	if (!c->rtxq.len && !c->vtxq.len)
		return UINT64_MAX;
	if (credit > 0 || rate <= 0)
		return c->now_us;
	return c->now_us + (uint64_t)(-credit / rate) + 1;
}

uint64_t call_rtt_us(const struct hl_call *c)
{
	return c->have_rtt ? (uint64_t)c->srtt_us : DEFAULT_RTT_US;
}

int hl_call_send_video(struct hl_call *c, const struct hl_image *img,
		       uint64_t capture_us, uint64_t now)
{
	c->now_us = HL_MAX(c->now_us, now);
	if (!c->cfg.send_video)
		return HL_ESTATE;
	if (img->width != c->cfg.width || img->height != c->cfg.height)
		return HL_EINVAL;
	return call_send_video(c, img, capture_us, now);
}

int hl_call_send_audio(struct hl_call *c,
		       const int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		       uint64_t capture_us, uint64_t now)
{
	c->now_us = HL_MAX(c->now_us, now);
	if (!c->cfg.send_audio)
		return HL_ESTATE;
	return call_send_audio(c, pcm, capture_us, now);
}

int hl_call_recv(struct hl_call *c, const uint8_t *pkt, size_t len,
		 uint64_t now)
{
	c->now_us = HL_MAX(c->now_us, now);
	c->st.packets_received++;
	c->st.bytes_received += len;
	c->st.last_packet_us = now;
	switch (hl_demux_classify(pkt, len)) {
	case HL_DEMUX_RTP:
		return call_recv_rtp(c, pkt, len, now);
	case HL_DEMUX_RTCP:
		return call_recv_rtcp(c, pkt, len, now);
	default:
		c->st.malformed++;
		return 0;
	}
}

/* How long a stall may last before its packets are asked for again. */
static uint64_t rerequest_delay(const struct hl_call *c)
{
	return call_rtt_us(c) * 3 / 2 + 20000;
}

static uint64_t rerequest_time(const struct hl_call *c)
{
	uint64_t since = hl_vbuf_stall_since(c->vbuf), d = rerequest_delay(c);

	if (since == UINT64_MAX)
		return UINT64_MAX;
	return HL_MAX(since + d, c->rerequest_us + d);
}

/*
 * A stall that outlives the NACK repairs while nothing is missing on the
 * wire means packets arrived altered (their RTP header or descriptor is
 * not end-to-end protected): ask for them again; authentication of the
 * rebuilt frame decides.
 */
static void rerequest_stalled(struct hl_call *c, uint64_t now)
{
	uint64_t first, last;

	if (now < rerequest_time(c))
		return;
	c->rerequest_us = now;
	if (hl_vbuf_stall_range(c->vbuf, &first, &last) != 0 ||
	    hl_nack_pending_in(c->nack, first, last))
		return;
	hl_vbuf_forget_range(c->vbuf, first, last);
	hl_nack_request_range(c->nack, first, last, now);
}

uint64_t call_pli_interval(const struct hl_call *c)
{
	uint64_t iv = call_rtt_us(c) * 3 / 2 + 100000;

	return iv < 200000 ? 200000 : iv;
}

uint64_t hl_call_next_timeout(const struct hl_call *c)
{
	uint64_t t = c->next_rtcp_us, x;

	x = hl_nack_next_time(c->nack, call_rtt_us(c));
	t = HL_MIN(t, x);
	x = hl_vbuf_next_deadline(c->vbuf, call_max_wait_us(c));
	t = HL_MIN(t, x);
	x = rerequest_time(c);
	t = HL_MIN(t, x);
	if (c->want_key)
		t = HL_MIN(t, c->pli_sent_once
				      ? c->last_pli_us + call_pli_interval(c)
				      : 0);
	t = HL_MIN(t, c->next_rekey_us);
	t = HL_MIN(t, c->hold_until);
	t = HL_MIN(t, pace_next(c));
	return t;
}

static int check_video(struct hl_call *c, uint64_t now)
{
	struct hl_vbuf_frame f;
	bool nk = false;
	int err;

	rerequest_stalled(c, now);
	err = hl_vbuf_next_decodable(c->vbuf, now, call_max_wait_us(c), &f,
				     &nk);
	if (nk)
		c->want_key = true;
	return err == HL_EAGAIN ? 0 : err;
}

int hl_call_handle_timeout(struct hl_call *c, uint64_t now)
{
	int err;

	c->now_us = HL_MAX(c->now_us, now);
	if (now >= c->next_rekey_us) {
		err = hl_sframe_sender_ratchet(c->tx_sframe);
		if (err)
			return err;
		c->st.rekeys++;
		c->next_rekey_us = now + c->cfg.rekey_us;
	}
	err = check_video(c, now);
	if (err)
		return err;
	if (now >= c->next_rtcp_us) {
		uint64_t iv = c->cfg.rtcp_interval_us;

		err = call_send_report(c, now);
		if (err)
			return err;
		/* The first reports come five times as often, so that RTT
		 * and loss (which pace every repair) are known within a few
		 * hundred milliseconds.  RFC 3550 §6.3.1: randomise the
		 * interval (0.5 .. 1.5). */
		if (++c->reports_sent <= 5)
			iv /= 5;
		c->next_rtcp_us = now + iv / 2 + hl_rng_u32(&c->cfg.rng) % iv;
	}
	return call_send_feedback(c, now);
}

int hl_call_bye(struct hl_call *c, uint64_t now)
{
	uint8_t pkt[64];
	size_t len;
	int err;

	(void)now;
	err = hl_rtcp_write_bye(c->local.video, pkt, sizeof(pkt), &len);
	if (!err)
		err = call_enqueue(c, pkt, len);
	return err;
}

void hl_call_stats(const struct hl_call *c, struct hl_call_stats *st)
{
	struct hl_sframe_stats ss;
	struct hl_vbuf_stats vs;
	struct hl_abuf_stats as;
	uint64_t expected;

	*st = c->st;
	hl_sframe_receiver_stats(c->rx_sframe, &ss);
	st->frames_authenticated = ss.frames_ok;
	st->auth_failures = ss.auth_failures;
	st->replays = ss.replays;
	hl_vbuf_stats(c->vbuf, &vs);
	st->video_frames_dropped = vs.frames_dropped;
	st->video_gave_up = vs.gave_up;
	st->duplicates += vs.duplicates;
	hl_abuf_stats(c->abuf, &as);
	st->audio_decoded = as.decoded;
	st->audio_fec = as.fec;
	st->audio_concealed = as.concealed;
	st->audio_late = as.late + c->audio_late;
	st->audio_red_distance = c->red_distance;
	st->target_kbps = hl_cc_target_kbps(c->cc);
	{
		struct hl_rbe_stats rs;

		hl_rbe_stats(c->rbe, &rs);
		st->delay_overuses = rs.overuses;
		st->estimate_kbps = rs.estimate_kbps;
	}
	st->duplicates += as.duplicates;
	st->audio_delay_ms = as.delay_us / 1000;
	st->audio_jitter_ms =
		(uint32_t)(c->rx_audio.jitter * 1000 / HL_OPUS_CLOCK);
	st->have_rtt = c->have_rtt;
	st->rtt_ms = c->have_rtt ? c->srtt_us / 1000.0 : 0;
	expected = 0;
	if (c->rx_video.started || c->rx_audio.started) {
		uint64_t exp_v = c->rx_video.started
					 ? (uint64_t)c->rx_video.cycles +
						   c->rx_video.max_seq -
						   c->rx_video.base_seq + 1
					 : 0;
		uint64_t exp_a = c->rx_audio.started
					 ? (uint64_t)c->rx_audio.cycles +
						   c->rx_audio.max_seq -
						   c->rx_audio.base_seq + 1
					 : 0;
		uint64_t got = c->rx_video.received + c->rx_audio.received;

		expected = exp_v + exp_a;
		st->loss_in = expected > got
				      ? (double)(expected - got) / expected
				      : 0;
	}
}
