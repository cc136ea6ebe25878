/*
 * recv.c - the receiving half of the call engine.
 *
 * RTP is routed by SSRC and payload type to the audio jitter buffer, the
 * video frame buffer or (RTX, RFC 4588) back into the video path under its
 * original sequence number.  Audio packets are SFrame-decrypted on
 * arrival; video frames when their last packet arrives.  A video frame
 * that fails authentication is dropped and its packets are asked for
 * again (a relay flipping bits costs a retransmission, never a corrupt
 * picture).  RTCP carries reports (RTT, loss, the sender's clock for A/V
 * sync), NACKs (answered from the history), PLIs and BYE.
 */
#include <string.h>

#include "call_internal.h"

#define MAX_HOLD_US 500000 /* never hold a picture longer for A/V sync */
/* A held picture is shown at the first poll in a window this wide that
 * opens av_lead_us before its sound (see hl_call_poll_video): the caller
 * wakes anyway for packets and for the sound, and a wake-up of its own
 * for every picture costs more CPU than showing it (tens of microseconds
 * each on a small virtual machine). */
#define HOLD_WINDOW_US 10000

/*
 * How long a missing video frame may stall decoding before we give up on
 * it and ask for a key frame: five repair rounds, more while many packets
 * are being lost (then a key frame, itself many packets, is dearer still).
 */
uint64_t call_max_wait_us(const struct hl_call *c)
{
	double rounds = 5 + 10 * HL_MIN(c->video_loss, 0.3);
	uint64_t w = (uint64_t)(call_rtt_us(c) * rounds) + 40000;

	/* The first key frame is the largest frame and arrives before any
	 * loss is measured: give its repair twice as long. */
	if (!c->st.video_frames_decoded)
		w *= 2;
	return HL_MAX(150000, HL_MIN(w, 1200000));
}

/* One protected Opus frame for time ts: decrypt and buffer it. */
static int recv_audio_frame(struct hl_call *c, uint64_t ts, const uint8_t *data,
			    size_t len, bool redundant, uint64_t now)
{
	uint8_t plain[AUDIO_PROT_MAX];
	size_t plen;
	int err;

	if (len > sizeof(plain))
		return 0;
	if (hl_abuf_has(c->abuf, ts)) {
		if (!redundant)
			c->st.duplicates++; /* same frame again */
		return 0;
	}
	if (hl_abuf_is_late(c->abuf, ts)) {
		/* Its time has passed (played, rebuilt or concealed): not
		 * decrypted, so a late copy is never taken for a replay. */
		if (!redundant)
			c->audio_late++;
		return 0;
	}
	err = hl_sframe_decrypt(c->rx_sframe, NULL, 0, data, len, plain,
				sizeof(plain), &plen, NULL);
	if (err)
		return 0; /* counted by the SFrame receiver */
	err = hl_abuf_insert(c->abuf, ts, plain, plen, now);
	if (!err && redundant)
		c->st.audio_red_recovered++;
	hl_wipe(plain, plen);
	return err == HL_ENOMEM ? err : 0;
}

static int recv_audio(struct hl_call *c, const struct hl_rtp_header *h,
		      const uint8_t *payload, size_t len, uint64_t now)
{
	struct hl_red_block blocks[HL_RED_MAX_BLOCKS];
	uint64_t ts;
	size_t n;
	int err = 0;

	hl_rtp_rx_stats_update(&c->rx_audio, h->seq, h->ts, now);
	if (!c->audio_ts_started) {
		c->audio_ts_started = true;
		c->audio_ts_ref = ((uint64_t)1 << 32) | h->ts;
	}
	ts = hl_seq_unwrap32(c->audio_ts_ref, h->ts);
	if (ts > c->audio_ts_ref && ts - c->audio_ts_ref < 10 * HL_OPUS_CLOCK)
		c->audio_ts_ref = ts;
	if (h->pt == HL_PT_OPUS)
		return recv_audio_frame(c, ts, payload, len, false, now);
	if (hl_red_parse(payload, len, blocks, HL_ARRAY_SIZE(blocks), &n)) {
		c->st.malformed++;
		return 0;
	}
	for (size_t i = 0; i < n && !err; i++) {
		if (blocks[i].pt != HL_PT_OPUS || blocks[i].ts_offset > ts)
			continue;
		err = recv_audio_frame(c, ts - blocks[i].ts_offset,
				       blocks[i].data, blocks[i].len, i + 1 < n,
				       now);
	}
	return err;
}

/* Decrypt newly completed frames; queue them or ask for them again. */
static int drain_complete(struct hl_call *c, uint64_t now)
{
	struct hl_vbuf_frame f;

	while (hl_vbuf_pop_complete(c->vbuf, &f) == 0) {
		uint8_t meta[HL_VP8_KEY_HEADER + PID_AAD_LEN];
		size_t clear, plen;
		int err;

		/* The clear VP8 header's P bit says key (10) or delta (3);
		 * the metadata also authenticates the PictureID by which the
		 * frame will be ordered (docs/protocol.md §3.3). */
		clear = f.len && !(f.data[0] & 1) ? HL_VP8_KEY_HEADER
						  : HL_VP8_DELTA_HEADER;
		err = f.len > clear ? 0 : HL_EAUTH;
		if (!err) {
			memcpy(meta, f.data, clear);
			hl_put_be16(meta + clear,
				    (uint16_t)(0x8000 | (f.pid & 0x7fff)));
			memcpy(c->plain_buf, f.data, clear);
			err = hl_sframe_decrypt(
				c->rx_sframe, meta, clear + PID_AAD_LEN,
				f.data + clear, f.len - clear,
				c->plain_buf + clear, FRAME_BUF_MAX - clear,
				&plen, NULL);
		}
		if (err) {
			hl_vbuf_reject(c->vbuf, &f);
			if (err == HL_EAUTH)
				hl_nack_request_range(c->nack, f.first_seq,
						      f.last_seq, now);
			continue;
		}
		/* Cannot fail: the frame was just popped and the plaintext
		 * is shorter than what it holds. */
		err = hl_vbuf_accept(c->vbuf, &f, c->plain_buf, clear + plen);
		(void)err;
	}
	return 0;
}

static int recv_video(struct hl_call *c, const struct hl_rtp_header *h,
		      uint16_t seq, const uint8_t *payload, size_t len,
		      uint64_t now)
{
	struct hl_vp8_desc d;
	struct hl_vbuf_packet p;
	uint64_t seq64;
	int err;

	if (hl_vp8_desc_parse(payload, len, &d)) {
		c->st.malformed++;
		return 0;
	}
	if (!c->video_seq_started) {
		c->video_seq_started = true;
		c->video_seq_ref = ((uint64_t)1 << 32) | seq;
	}
	seq64 = hl_seq_unwrap16(c->video_seq_ref, seq);
	if (seq64 > c->video_seq_ref + SEQ_JUMP_MAX) {
		/* RTP headers are not end-to-end authenticated: a far jump
		 * counts only once the packet after it confirms it. */
		if (!c->seq_jump_pending || seq64 != c->seq_jump + 1) {
			c->seq_jump_pending = true;
			c->seq_jump = seq64;
			c->st.malformed++;
			return 0;
		}
		c->seq_jump_pending = false;
	}
	if (seq64 > c->video_seq_ref)
		c->video_seq_ref = seq64;
	if (hl_nack_on_packet(c->nack, seq64, now))
		c->want_key = true;
	if (!c->first_video_seen) {
		c->first_video_seen = true;
		/* The stream's first packets may be the ones lost: if this
		 * one does not start a frame, ask for the 64 before it (the
		 * sender resends those it has), or the first key frame
		 * could never be completed. */
		if (!(d.s && d.pid == 0))
			hl_nack_request_range(c->nack, seq64 - 64, seq64 - 1,
					      now);
	}
	p.seq = seq64;
	p.ts = h->ts;
	p.marker = h->marker;
	p.frame_start = d.s && d.pid == 0;
	p.picture_id = d.has_picture_id ? d.picture_id : 0;
	p.payload = payload + d.len;
	p.len = len - d.len;
	c->st.video_bytes_received += p.len;
	err = hl_vbuf_insert(c->vbuf, &p, now);
	if (err == HL_ENOMEM)
		return err;
	err = drain_complete(c, now);
	if (err)
		return err;
	hl_nack_forget_before(c->nack, hl_vbuf_oldest_needed_seq(c->vbuf));
	return call_send_feedback(c, now);
}

int call_recv_rtp(struct hl_call *c, const uint8_t *pkt, size_t len,
		  uint64_t now)
{
	struct hl_rtp_header h;
	const uint8_t *payload;
	size_t plen;

	if (hl_rtp_parse(pkt, len, &h, &payload, &plen)) {
		c->st.malformed++;
		return 0;
	}
	if (!c->remote_set) {
		c->st.unknown_ssrc++;
		return 0;
	}
	if (h.ssrc == c->remote.audio &&
	    (h.pt == HL_PT_OPUS || h.pt == HL_PT_RED))
		return recv_audio(c, &h, payload, plen, now);
	if (h.ssrc == c->remote.video && h.pt == HL_PT_VP8) {
		hl_rtp_rx_stats_update(&c->rx_video, h.seq, h.ts, now);
		hl_rbe_on_packet(c->rbe, h.ts, len, true, now, call_rtt_us(c));
		return recv_video(c, &h, h.seq, payload, plen, now);
	}
	if (h.ssrc == c->remote.rtx && h.pt == HL_PT_RTX) {
		const uint8_t *orig;
		size_t olen;
		uint16_t osn;

		if (hl_rtx_unwrap(payload, plen, &osn, &orig, &olen)) {
			c->st.malformed++;
			return 0;
		}
		c->st.rtx_received++;
		hl_rbe_on_packet(c->rbe, h.ts, len, false, now, call_rtt_us(c));
		return recv_video(c, &h, osn, orig, olen, now);
	}
	c->st.unknown_ssrc++;
	return 0;
}

/* RFC 6298-style smoothing of RTT samples. */
static void rtt_sample(struct hl_call *c, uint64_t rtt)
{
	if (rtt > 10000000)
		return; /* garbage */
	if (!c->have_rtt) {
		c->srtt_us = (double)rtt;
		c->have_rtt = true;
	} else {
		c->srtt_us += ((double)rtt - c->srtt_us) / 8;
	}
}

/* Tell the encoder the congestion controller's target when it moved. */
static void apply_target(struct hl_call *c)
{
	unsigned t = hl_cc_target_kbps(c->cc);

	if (!c->venc || t == c->applied_kbps)
		return;
	if (t * 20 < c->applied_kbps * 19 || t * 20 > c->applied_kbps * 21 ||
	    t == c->cfg.video_kbps) {
		if (c->cfg.venc->set_bitrate(c->venc, t) == 0)
			c->applied_kbps = t;
	}
}

/*
 * The peer's estimate of what reaches it covers our video and its
 * retransmissions: the encoder gets what the retransmissions since the
 * last estimate left of it (at least half).
 */
static void on_remb(struct hl_call *c, uint64_t bps, uint64_t now)
{
	uint64_t dt = now - c->last_remb_us, rtx_bps = 0;

	if (c->last_remb_us && dt >= 100000)
		rtx_bps = (uint64_t)((double)c->rtx_bytes * 8e6 / (double)dt);
	if (!c->last_remb_us || dt >= 100000) {
		c->rtx_bytes = 0;
		c->last_remb_us = now ? now : 1;
	}
	if (rtx_bps > bps / 2)
		rtx_bps = bps / 2;
	hl_cc_on_remb(c->cc, bps - rtx_bps, now);
	if ((bps - rtx_bps) / 1000 < c->cfg.video_kbps)
		c->congested_until = now + 5000000;
}

/*
 * Audio redundancy follows the loss the peer reports on our audio: two
 * earlier frames from 15 % loss, one from 1 %, none after four reports in
 * a row without loss.
 */
static void adapt_red(struct hl_call *c, uint8_t fraction_lost)
{
	if (c->cfg.no_red)
		return;
	if (fraction_lost >= 38) {
		c->red_distance = 2;
		c->red_clean_reports = 0;
	} else if (fraction_lost >= 3) {
		c->red_distance = 1;
		c->red_clean_reports = 0;
	} else if (fraction_lost == 0 && ++c->red_clean_reports >= 4) {
		c->red_distance = 0;
	}
}

static void on_report_blocks(struct hl_call *c,
			     const struct hl_rtcp_report_block *b, size_t n,
			     uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t rtt;

		if (b[i].ssrc != c->local.audio && b[i].ssrc != c->local.video)
			continue;
		bool have = hl_rtcp_rtt_us(&b[i], now, &rtt) == 0 &&
			    rtt <= 10000000;

		if (have)
			rtt_sample(c, rtt);
		c->st.loss_out = b[i].fraction_lost / 256.0;
		if (b[i].ssrc == c->local.video) {
			c->peer_video_loss = b[i].fraction_lost / 256.0;
			hl_cc_on_report(c->cc, c->peer_video_loss, have, rtt,
					now);
			apply_target(c);
		}
		if (b[i].ssrc == c->local.audio)
			adapt_red(c, b[i].fraction_lost);
		if (b[i].ssrc == c->local.audio && c->aenc) {
			/* Opus FEC follows the loss the peer sees. */
			int perc = (b[i].fraction_lost * 100 + 255) / 256;

			perc = HL_MAX(5, HL_MIN(perc + perc / 2, 40));
			if (perc != c->audio_loss_perc &&
			    c->cfg.aenc->set_loss_perc(c->aenc, perc) == 0)
				c->audio_loss_perc = perc;
		}
	}
}

/*
 * Take a sender report's (NTP, RTP) pair as the stream's clock mapping
 * unless it disagrees with the one we hold by more than 100 ms; three
 * such reports in a row mean the sender's clock really moved.  (RTCP is
 * not end-to-end authenticated; this bounds what one altered report can
 * do to A/V sync.)
 */
static void update_sr_map(struct sr_map *m, uint64_t ntp_us, uint32_t rtp,
			  uint32_t clock)
{
	if (m->valid) {
		int64_t d_ntp = (int64_t)(ntp_us - m->ntp_us);
		int64_t d_rtp = (int64_t)(int32_t)(rtp - m->rtp_ts) * 1000000 /
				(int64_t)clock;
		int64_t skew = d_ntp - d_rtp;

		if ((skew > 100000 || skew < -100000) && ++m->rejected < 3)
			return;
	}
	m->valid = true;
	m->ntp_us = ntp_us;
	m->rtp_ts = rtp;
	m->rejected = 0;
}

static void on_sr(struct hl_call *c, const struct hl_rtcp_sr *sr, uint64_t now)
{
	uint64_t ntp_us = hl_ntp_to_us(sr->ntp);

	if (sr->ssrc == c->remote.audio) {
		hl_rtp_rx_stats_on_sr(&c->rx_audio, sr->ntp, now);
		update_sr_map(&c->sr_audio, ntp_us, sr->rtp_ts, HL_OPUS_CLOCK);
	} else if (sr->ssrc == c->remote.video) {
		hl_rtp_rx_stats_on_sr(&c->rx_video, sr->ntp, now);
		update_sr_map(&c->sr_video, ntp_us, sr->rtp_ts, HL_VP8_CLOCK);
	}
	on_report_blocks(c, sr->blocks, sr->n_blocks, now);
}

int call_recv_rtcp(struct hl_call *c, const uint8_t *pkt, size_t len,
		   uint64_t now)
{
	struct hl_rtcp_packet p;
	struct hl_rtcp_iter it;
	uint16_t seqs[HL_RTCP_MAX_NACK_FCI * 17];
	int err;

	hl_rtcp_iter_init(&it, pkt, len);
	while ((err = hl_rtcp_next(&it, &p)) == 0) {
		switch (p.type) {
		case HL_RTCP_T_SR:
			on_sr(c, &p.u.sr, now);
			break;
		case HL_RTCP_T_RR:
			on_report_blocks(c, p.u.rr.blocks, p.u.rr.n_blocks,
					 now);
			break;
		case HL_RTCP_T_NACK:
			if (p.u.nack.media_ssrc != c->local.video)
				break;
			{
				size_t n = hl_rtcp_nack_seqs(
					&p.u.nack, seqs, HL_ARRAY_SIZE(seqs));

				c->st.nacks_received += n;
				for (size_t i = 0; i < n; i++) {
					err = call_retransmit(c, seqs[i], now);
					if (err)
						return err;
				}
			}
			break;
		case HL_RTCP_T_PLI:
			if (p.u.pli.media_ssrc == c->local.video) {
				c->st.plis_received++;
				c->force_key = true;
			}
			break;
		case HL_RTCP_T_REMB:
			for (size_t i = 0; i < p.u.remb.n_ssrcs; i++)
				if (p.u.remb.ssrcs[i] == c->local.video) {
					on_remb(c, p.u.remb.bitrate_bps, now);
					c->st.rembs_received++;
					c->st.peer_estimate_kbps =
						(unsigned)HL_MIN(
							p.u.remb.bitrate_bps /
								1000,
							UINT32_MAX);
					apply_target(c);
				}
			break;
		case HL_RTCP_T_BYE:
			for (size_t i = 0; i < p.u.bye.n_ssrcs; i++)
				if (p.u.bye.ssrcs[i] == c->remote.video ||
				    p.u.bye.ssrcs[i] == c->remote.audio)
					c->st.peer_bye = true;
			break;
		default:
			break;
		}
	}
	if (err == HL_EPARSE)
		c->st.malformed++;
	return 0;
}

/* Feedback goes out twice while the peer's packets are being lost. */
static int enqueue_repair(struct hl_call *c, const uint8_t *pkt, size_t len)
{
	int err = call_enqueue(c, pkt, len);

	if (!err && c->video_loss >= DUP_REPAIR_LOSS)
		err = call_enqueue(c, pkt, len);
	return err;
}

/* NACKs due now, and a PLI when a key frame is needed (rate-limited). */
int call_send_feedback(struct hl_call *c, uint64_t now)
{
	uint16_t seqs[HL_RTCP_MAX_NACK_FCI];
	uint8_t pkt[PKT_MAX];
	uint64_t bps;
	size_t n, len;
	int err;

	if (!c->remote_set)
		return 0;
	if (hl_rbe_poll_remb(c->rbe, now, &bps)) {
		err = hl_rtcp_write_remb(c->local.video, bps, &c->remote.video,
					 1, pkt, sizeof(pkt), &len);
		if (!err)
			err = call_enqueue(c, pkt, len);
		if (err)
			return err;
		c->st.rembs_sent++;
	}
	while ((n = hl_nack_collect(c->nack, now, call_rtt_us(c), seqs,
				    HL_ARRAY_SIZE(seqs))) > 0) {
		err = hl_rtcp_write_nack(c->local.video, c->remote.video, seqs,
					 n, pkt, sizeof(pkt), &len);
		if (!err)
			err = enqueue_repair(c, pkt, len);
		if (err)
			return err;
		c->st.nacks_sent += n;
	}
	if (c->want_key) {
		if (!c->pli_sent_once ||
		    now - c->last_pli_us >= call_pli_interval(c)) {
			err = hl_rtcp_write_pli(c->local.video, c->remote.video,
						pkt, sizeof(pkt), &len);
			if (!err)
				err = enqueue_repair(c, pkt, len);
			if (err)
				return err;
			c->pli_sent_once = true;
			c->last_pli_us = now;
			c->st.plis_sent++;
		}
	}
	return 0;
}

/* A compound report: SR per sending stream (or one RR), then SDES. */
int call_send_report(struct hl_call *c, uint64_t now)
{
	struct hl_rtcp_report_block blocks[2];
	uint8_t pkt[PKT_MAX];
	size_t off = 0, len, nb = 0;
	uint64_t ntp = hl_ntp_from_us(now);
	int err;

	if (c->remote_set && c->rx_video.started) {
		hl_rtp_rx_stats_block(&c->rx_video, now, &blocks[nb]);
		c->video_loss = 0.7 * c->video_loss +
				0.3 * blocks[nb].fraction_lost / 256.0;
		nb++;
	}
	if (c->remote_set && c->rx_audio.started) {
		hl_rtp_rx_stats_block(&c->rx_audio, now, &blocks[nb]);
		/* Smoothed recent loss: the jitter buffer keeps a frame of
		 * look-ahead for FEC/RED while packets are being lost. */
		c->audio_loss = 0.7 * c->audio_loss +
				0.3 * blocks[nb].fraction_lost / 256.0;
		nb++;
	}
	if (c->sent_video || c->sent_audio) {
		struct hl_rtcp_sr sr;

		memset(&sr, 0, sizeof(sr));
		sr.ntp = ntp;
		if (c->sent_video) {
			sr.ssrc = c->local.video;
			sr.rtp_ts = c->ts_off_video + (uint32_t)(now * 9 / 100);
			sr.packet_count = c->pkts_video;
			sr.octet_count = c->octets_video;
			sr.n_blocks = (uint8_t)nb;
			memcpy(sr.blocks, blocks, nb * sizeof(blocks[0]));
			nb = 0;
			err = hl_rtcp_write_sr(&sr, pkt + off,
					       sizeof(pkt) - off, &len);
			if (err)
				return err;
			off += len;
		}
		if (c->sent_audio) {
			sr.ssrc = c->local.audio;
			sr.rtp_ts = call_audio_ts_at(c, now);
			sr.packet_count = c->pkts_audio;
			sr.octet_count = c->octets_audio;
			sr.n_blocks = (uint8_t)nb;
			memcpy(sr.blocks, blocks, nb * sizeof(blocks[0]));
			err = hl_rtcp_write_sr(&sr, pkt + off,
					       sizeof(pkt) - off, &len);
			if (err)
				return err;
			off += len;
		}
	} else {
		struct hl_rtcp_rr rr;

		memset(&rr, 0, sizeof(rr));
		rr.ssrc = c->local.video;
		rr.n_blocks = (uint8_t)nb;
		memcpy(rr.blocks, blocks, nb * sizeof(blocks[0]));
		err = hl_rtcp_write_rr(&rr, pkt + off, sizeof(pkt) - off, &len);
		if (err)
			return err;
		off += len;
	}
	err = hl_rtcp_write_sdes_cname(
		c->sent_video ? c->local.video : c->local.audio, c->cfg.cname,
		pkt + off, sizeof(pkt) - off, &len);
	if (err)
		return err;
	return call_enqueue(c, pkt, off + len);
}

/* The sender's capture time (its NTP clock) of RTP time ts, if known. */
static bool capture_of(const struct sr_map *m, uint32_t ts, uint32_t clock,
		       int64_t *us)
{
	int32_t d;

	if (!m->valid)
		return false;
	d = (int32_t)(ts - m->rtp_ts);
	*us = (int64_t)m->ntp_us + (int64_t)d * 1000000 / (int64_t)clock;
	return true;
}

int hl_call_poll_video(struct hl_call *c, uint64_t now,
		       struct hl_video_out *out)
{
	c->hold_until = UINT64_MAX;
	for (;;) {
		struct hl_vbuf_frame f;
		const struct hl_image *img;
		bool nk = false;
		int64_t cap;
		int err;

		err = hl_vbuf_next_decodable(c->vbuf, now, call_max_wait_us(c),
					     &f, &nk);
		if (nk)
			c->want_key = true;
		if (err)
			return err;
		/* A/V sync: show the picture when the sound of the same
		 * instant plays (both mapped through the sender's SRs), at
		 * most av_lead_us before it: at the first poll from that
		 * moment on, and at the latest HOLD_WINDOW_US later (but
		 * never after the sound). */
		if (c->cfg.av_sync && c->audio_playing &&
		    capture_of(&c->sr_video, f.ts, HL_VP8_CLOCK, &cap)) {
			int64_t lead = (int64_t)c->cfg.av_lead_us;
			int64_t from = cap + c->audio_latency_us - lead;

			if (from > (int64_t)now &&
			    from - (int64_t)now < MAX_HOLD_US) {
				c->hold_until =
					(uint64_t)(from + HL_MIN(HOLD_WINDOW_US,
								 lead));
				return HL_EAGAIN;
			}
		}
		err = c->cfg.vdec->decode(c->vdec, f.data, f.len, &img);
		hl_vbuf_decoded(c->vbuf, f.pid, err == 0);
		if (err) {
			c->st.video_decode_errors++;
			c->want_key = true;
			continue;
		}
		c->st.video_frames_decoded++;
		if (f.keyframe)
			c->st.video_keyframes_decoded++;
		c->want_key = false;
		out->img = img;
		out->rtp_ts = f.ts;
		out->keyframe = f.keyframe;
		return 0;
	}
}

bool hl_call_audio_ready(const struct hl_call *c, uint64_t at)
{
	return hl_abuf_ready(c->abuf, at);
}

int64_t hl_call_audio_lag_us(const struct hl_call *c, uint64_t at)
{
	return hl_abuf_lag(c->abuf, at);
}

int hl_call_pull_audio(struct hl_call *c, uint64_t now,
		       int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		       struct hl_audio_out *out)
{
	struct hl_abuf_out o;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->delay_samples = c->audio_delay;
	hl_abuf_set_loss(c->abuf, c->audio_loss);
	hl_abuf_pull(c->abuf, now, &o);
	out->rtp_ts = o.ts;
	switch (o.action) {
	case HL_ABUF_SILENCE:
		memset(pcm, 0, HL_AUDIO_FRAME_SAMPLES * sizeof(pcm[0]));
		out->kind = HL_AUDIO_SILENCE;
		return 0;
	case HL_ABUF_DECODE:
		err = c->cfg.adec->decode(c->adec, o.data, o.len, pcm);
		out->kind = HL_AUDIO_DECODED;
		break;
	case HL_ABUF_FEC:
		err = c->cfg.adec->decode_fec(c->adec, o.data, o.len, pcm);
		out->kind = HL_AUDIO_FEC;
		break;
	case HL_ABUF_CONCEAL:
		err = HL_EAGAIN;
		break;
	}
	if (err) {
		/* Undecodable or nothing: conceal. */
		err = c->cfg.adec->conceal(c->adec, pcm);
		if (err)
			memset(pcm, 0, HL_AUDIO_FRAME_SAMPLES * sizeof(pcm[0]));
		out->kind = HL_AUDIO_CONCEALED;
	}
	if (out->kind != HL_AUDIO_CONCEALED) {
		int64_t cap;

		if (capture_of(&c->sr_audio, (uint32_t)o.ts, HL_OPUS_CLOCK,
			       &cap)) {
			c->audio_playing = true;
			c->audio_latency_us = (int64_t)now - cap +
					      (int64_t)c->audio_delay *
						      1000000 / HL_AUDIO_RATE;
		}
	}
	return 0;
}
