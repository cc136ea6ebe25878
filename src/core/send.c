/*
 * send.c - the sending half of the call engine.
 *
 * Video: encode -> keep the VP8 payload header (10 bytes on key frames,
 * 3 on delta frames) in clear -> SFrame-encrypt the rest with that header
 * as metadata (so it is authenticated) -> cut into RTP packets with a VP8
 * payload descriptor (RFC 7741 §4.2: X=1, I=1, 15-bit PictureID, S=1 on
 * the first packet, marker on the last) -> keep each packet for
 * retransmission -> queue.
 * Audio: encode 20 ms with Opus -> SFrame-encrypt the whole packet -> one
 * RTP packet (RFC 7587).
 * Retransmissions answer NACKs on the RTX stream (RFC 4588).
 */
#include <string.h>

#include "call_internal.h"

/* Video RTP time follows capture time (90 kHz). */
static uint32_t video_ts(const struct hl_call *c, uint64_t us)
{
	return c->ts_off_video + (uint32_t)(us * 9 / 100);
}

/*
 * Audio RTP time counts samples: exactly 960 per 20 ms frame whatever the
 * capture clock's jitter, so the receiver can place every frame.
 */
static uint32_t audio_ts(const struct hl_call *c)
{
	return c->ts_off_audio + (uint32_t)(c->audio_frames * 960);
}

uint32_t call_audio_ts_at(const struct hl_call *c, uint64_t now)
{
	int64_t d = (int64_t)now - (int64_t)c->last_audio_capture_us;

	if (!c->audio_frames)
		return c->ts_off_audio;
	/* the last frame's time, moved on to now */
	return c->ts_off_audio +
	       (uint32_t)((int64_t)(c->audio_frames - 1) * 960 + d * 48 / 1000);
}

static int packetize_video(struct hl_call *c, const uint8_t *frame, size_t len,
			   uint32_t ts, uint64_t now)
{
	/* Room for the RTX prefix, so retransmissions fit the MTU too. */
	size_t max = c->cfg.mtu - HL_RTP_HEADER_MIN - VP8_DESC_LEN - RTX_EXTRA;
	size_t n = hl_rtp_split_count(len, max), off = 0;
	uint8_t pkt[PKT_MAX];
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		size_t part = hl_rtp_split_size(len, n, i), hlen, dlen;
		struct hl_rtp_header h = {
			.marker = i == n - 1,
			.pt = HL_PT_VP8,
			.seq = c->seq_video++,
			.ts = ts,
			.ssrc = c->local.video,
		};
		struct hl_vp8_desc d = {
			.s = i == 0,
			.pid = 0,
			.has_picture_id = true,
			.picture_id = c->picture_id,
			.picture_id_15 = true,
		};
		struct hist_entry *he;

		err = hl_rtp_write_header(&h, pkt, sizeof(pkt), &hlen);
		if (!err)
			err = hl_vp8_desc_write(&d, pkt + hlen,
						sizeof(pkt) - hlen, &dlen);
		if (err)
			break;
		if (hlen + dlen + part > sizeof(pkt))
			return HL_ETOOBIG;
		memcpy(pkt + hlen + dlen, frame + off, part);
		off += part;
		he = &c->hist[h.seq % HIST_SIZE];
		he->used = true;
		he->seq = h.seq;
		he->len = (uint16_t)(hlen + dlen + part);
		he->rtx_us = 0;
		memcpy(he->pkt, pkt, he->len);
		c->pkts_video++;
		c->octets_video += (uint32_t)(dlen + part);
		err = call_enqueue_paced(c, pkt, hlen + dlen + part);
	}
	return err;
}

int call_send_video(struct hl_call *c, const struct hl_image *img,
		    uint64_t capture_us, uint64_t now)
{
	struct hl_vp8_frame_info info;
	struct hl_encoded enc;
	uint8_t meta[HL_VP8_KEY_HEADER + PID_AAD_LEN];
	size_t clear, elen;
	bool force = c->force_key;
	int err;

	err = c->cfg.venc->encode(c->venc, img, capture_us, force, &enc);
	if (err)
		return err;
	if (!enc.len)
		return 0; /* the encoder skipped this picture */
	if (enc.len > HL_SFRAME_FRAME_MAX)
		return HL_ETOOBIG;
	err = hl_vp8_frame_info(enc.data, enc.len, &info);
	if (err)
		return HL_ECODEC;
	clear = info.header_len;
	if (clear > enc.len || clear > HL_VP8_KEY_HEADER)
		return HL_ECODEC;
	/*
	 * frame = clear VP8 header || SFrame(rest), authenticating the clear
	 * header and the PictureID that orders decoding (docs/protocol.md
	 * §3.3): metadata = header || 0x8000 | PictureID.
	 */
	memcpy(meta, enc.data, clear);
	hl_put_be16(meta + clear, (uint16_t)(0x8000 | c->picture_id));
	memcpy(c->frame_buf, enc.data, clear);
	err = hl_sframe_encrypt(c->tx_sframe, meta, clear + PID_AAD_LEN,
				enc.data + clear, enc.len - clear,
				c->frame_buf + clear, FRAME_BUF_MAX - clear,
				&elen);
	if (err)
		return err;
	err = packetize_video(c, c->frame_buf, clear + elen,
			      video_ts(c, capture_us), now);
	if (err)
		return err;
	c->picture_id = (c->picture_id + 1) & 0x7fff;
	c->sent_video = true;
	c->st.video_frames_sent++;
	c->st.video_bytes_sent += enc.len;
	if (info.keyframe) {
		c->st.video_keyframes_sent++;
		c->force_key = false;
	}
	return 0;
}

/*
 * Audio: one Opus frame per RTP packet, SFrame-protected whole.  While the
 * peer reports loss, the previous one or two protected frames ride along
 * in an RFC 2198 RED payload, so a lost packet is rebuilt from the next
 * one whatever the sound (Opus's own FEC only covers speech).
 */
int call_send_audio(struct hl_call *c, const int16_t *pcm, uint64_t capture_us,
		    uint64_t now)
{
	uint8_t opus[HL_AUDIO_MAX_PACKET], prot[AUDIO_PROT_MAX], pkt[PKT_MAX];
	struct hl_red_block blocks[RED_KEEP + 1];
	struct hl_rtp_header h = {
		.pt = HL_PT_OPUS,
		.ts = audio_ts(c),
		.ssrc = c->local.audio,
		.seq = c->seq_audio,
		.marker = !c->sent_audio, /* first packet of a talkspurt */
	};
	size_t olen, plen, len, nb = 0;
	size_t room = c->cfg.mtu - HL_RTP_HEADER_MIN - 1;
	int err;

	(void)now;
	err = c->cfg.aenc->encode(c->aenc, pcm, opus, sizeof(opus), &olen);
	if (err)
		return err;
	err = hl_sframe_encrypt(c->tx_sframe, NULL, 0, opus, olen, prot,
				sizeof(prot), &plen);
	if (err)
		return err;
	if (plen > room)
		return HL_ETOOBIG;
	room -= plen;
	/* Earlier frames ride along while they fit in the MTU. */
	for (unsigned d = HL_MIN(c->red_distance, RED_KEEP); d > 0; d--) {
		const struct red_frame *r = &c->red[d - 1];
		uint32_t off = h.ts - r->ts;

		if (!r->used || off > HL_RED_MAX_OFFSET ||
		    r->len > HL_RED_MAX_LEN || (size_t)r->len + 4 > room)
			continue;
		room -= (size_t)r->len + 4;
		blocks[nb].pt = HL_PT_OPUS;
		blocks[nb].ts_offset = (uint16_t)off;
		blocks[nb].data = r->data;
		blocks[nb].len = r->len;
		nb++;
	}
	blocks[nb].pt = HL_PT_OPUS;
	blocks[nb].ts_offset = 0;
	blocks[nb].data = prot;
	blocks[nb].len = plen;
	nb++;
	if (nb > 1)
		h.pt = HL_PT_RED;
	err = hl_rtp_write_header(&h, pkt, sizeof(pkt), &len);
	if (!err && nb > 1) {
		size_t rlen;

		err = hl_red_write(blocks, nb, pkt + len, sizeof(pkt) - len,
				   &rlen);
		len += rlen;
	} else if (!err) {
		memcpy(pkt + len, prot, plen);
		len += plen;
	}
	if (!err)
		err = call_enqueue(c, pkt, len);
	if (err)
		return err;
	c->red[1] = c->red[0];
	c->red[0].used = true;
	c->red[0].ts = h.ts;
	c->red[0].len = (uint16_t)plen;
	memcpy(c->red[0].data, prot, plen);
	c->seq_audio++;
	c->audio_frames++;
	c->last_audio_capture_us = capture_us;
	c->sent_audio = true;
	c->pkts_audio++;
	c->octets_audio += (uint32_t)(len - HL_RTP_HEADER_MIN);
	c->st.audio_frames_sent++;
	return 0;
}

/*
 * Retransmissions may use as much as the congestion controller's target
 * (at least 200 kbit/s), with up to 250 ms of it saved up: a NACK storm on
 * a congested path must not make the congestion worse.
 */
static bool rtx_budget(struct hl_call *c, size_t bytes, uint64_t now)
{
	double target = hl_cc_target_kbps(c->cc) * 1000.0;
	double bps = now < c->congested_until ? HL_MAX(50000.0, 0.3 * target)
					      : HL_MAX(200000.0, target);
	double cap = bps / 8 * 0.25;

	if (now > c->rtx_tokens_us) {
		c->rtx_tokens +=
			bps / 8 * (double)(now - c->rtx_tokens_us) / 1e6;
		c->rtx_tokens_us = now;
	}
	if (c->rtx_tokens > cap)
		c->rtx_tokens = cap;
	if (c->rtx_tokens < (double)bytes)
		return false;
	c->rtx_tokens -= (double)bytes;
	return true;
}

/*
 * Answer a NACK for seq (RFC 4588 §4): the original payload behind its
 * 2-byte original sequence number, on the RTX SSRC and payload type.  A
 * packet is resent at most once per 3/4 RTT however often it is asked for.
 */
int call_retransmit(struct hl_call *c, uint16_t seq, uint64_t now)
{
	struct hist_entry *he = &c->hist[seq % HIST_SIZE];
	uint64_t guard = call_rtt_us(c) * 3 / 4;
	/* Two copies fight random loss; on a congested path (the peer's
	 * estimate limits us) the second copy would only add to it. */
	int copies = c->peer_video_loss >= DUP_REPAIR_LOSS &&
				     now >= c->congested_until
			     ? 2
			     : 1;
	struct hl_rtp_header orig, h;
	const uint8_t *payload;
	uint8_t pkt[PKT_MAX + 2];
	size_t plen, hlen, rlen;
	int err = 0;

	if (!he->used || he->seq != seq)
		return 0; /* too old: forgotten */
	if (he->rtx_us && now - he->rtx_us < guard)
		return 0;
	if (hl_rtp_parse(he->pkt, he->len, &orig, &payload, &plen))
		return 0;
	if (!rtx_budget(c, (size_t)he->len * (size_t)copies, now)) {
		c->st.rtx_budget_drops++;
		return 0;
	}
	he->rtx_us = now ? now : 1;
	/* While the peer loses packets, each repair goes out twice (own
	 * RTX sequence numbers, so SRTP replay checks keep both). */
	for (int i = 0; i < copies && !err; i++) {
		h = orig;
		h.has_ext = false;
		h.csrc_count = 0;
		h.pt = HL_PT_RTX;
		h.ssrc = c->local.rtx;
		h.seq = c->seq_rtx++;
		err = hl_rtp_write_header(&h, pkt, sizeof(pkt), &hlen);
		if (!err)
			err = hl_rtx_wrap(seq, payload, plen, pkt + hlen,
					  sizeof(pkt) - hlen, &rlen);
		if (!err) {
			c->st.retransmissions++;
			c->rtx_bytes += hlen + rlen;
			err = call_enqueue_rtx(c, pkt, hlen + rlen);
		}
	}
	return err;
}
