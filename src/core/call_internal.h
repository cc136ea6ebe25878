/*
 * call_internal.h - private state of the call engine (src/core only).
 */
#ifndef HOTLINE_CORE_CALL_INTERNAL_H
#define HOTLINE_CORE_CALL_INTERNAL_H

#include "hotline/cc.h"
#include "hotline/core.h"
#include "hotline/jitter.h"
#include "hotline/rtp.h"

#define HIST_SIZE    1024 /* sent video packets kept for retransmission */
#define TXQ_SIZE     256  /* sound and RTCP waiting for hl_call_poll_transmit */
#define RTXQ_SIZE    256  /* retransmissions waiting for the pacer */
#define VTXQ_SIZE    1024 /* video waiting for the pacer */
#define PACE_FACTOR  2.5  /* video leaves at this x the target bitrate */
#define PACE_BURST   5000 /* µs of credit that may build up while idle */
#define PKT_MAX	     HL_RTP_MAX_PACKET
#define VP8_DESC_LEN 4	 /* X, I, 15-bit PictureID */
#define RTX_EXTRA    2	 /* RTX adds the original sequence number */
#define PID_AAD_LEN  2	 /* the PictureID, authenticated as SFrame metadata */
#define SEQ_JUMP_MAX 100 /* larger jumps need the next packet to confirm */
/* From this much loss, NACK/PLI and retransmissions are sent twice: a
 * repair that itself gets lost costs a whole round trip. */
#define DUP_REPAIR_LOSS 0.03
#define FRAME_BUF_MAX	(HL_SFRAME_FRAME_MAX + HL_SFRAME_OVERHEAD_MAX + 16)

#define RED_KEEP	2 /* earlier audio frames that may ride along (RFC 2198) */
#define AUDIO_PROT_MAX	(HL_AUDIO_MAX_PACKET + HL_SFRAME_OVERHEAD_MAX)

struct red_frame {
	bool used;
	uint32_t ts;
	uint16_t len;
	uint8_t data[AUDIO_PROT_MAX];
};

struct hist_entry {
	bool used;
	uint16_t seq;
	uint16_t len;	 /* whole RTP packet */
	uint64_t rtx_us; /* last retransmission, 0: never */
	uint8_t pkt[PKT_MAX];
};

struct tx_slot {
	uint16_t len;
	uint8_t data[PKT_MAX];
};

/* A queue of datagrams for hl_call_poll_transmit (a ring of `size`). */
struct tx_ring {
	struct tx_slot *slot;
	size_t size, head, len;
};

/* What the peer's sender reports tell us: its NTP clock vs RTP time. */
struct sr_map {
	bool valid;
	uint64_t ntp_us;
	uint32_t rtp_ts;
	unsigned rejected; /* SRs in a row that disagreed with this one */
};

struct hl_call {
	struct hl_call_config cfg;

	/* end-to-end encryption */
	struct hl_sframe_sender *tx_sframe;
	struct hl_sframe_receiver *rx_sframe;
	uint64_t next_rekey_us;

	/* codecs */
	void *venc, *vdec, *aenc, *adec;
	int audio_delay; /* decoder output lag in samples */
	int audio_loss_perc;

	/* sending */
	struct hl_call_ssrcs local;
	uint16_t seq_audio, seq_video, seq_rtx;
	uint32_t ts_off_audio, ts_off_video;
	uint16_t picture_id;
	bool force_key;
	uint64_t audio_frames; /* RTP audio time = offset + 960 per frame */
	uint64_t last_audio_capture_us;
	uint32_t pkts_audio, pkts_video; /* SR sender info */
	uint32_t octets_audio, octets_video;
	bool sent_audio, sent_video;
	struct red_frame red[RED_KEEP]; /* [0]: previous frame */
	unsigned red_distance;
	unsigned red_clean_reports;
	struct hist_entry *hist;
	/* Sound and RTCP leave at once.  Retransmissions, then video, leave
	 * paced at PACE_FACTOR x the target, so that a large frame does not
	 * overflow a bottleneck's queue in one burst. */
	struct tx_ring txq, rtxq, vtxq;
	double pace_bytes;  /* credit; may go negative by one packet */
	uint64_t pace_us;   /* when the credit was last brought up to date */
	uint64_t now_us;    /* the latest time the caller gave us */
	uint8_t *frame_buf; /* encrypted frame being packetized */

	/* receiving */
	struct hl_call_ssrcs remote;
	bool remote_set;
	struct hl_rtp_rx_stats rx_audio, rx_video;
	bool video_seq_started, audio_ts_started;
	uint64_t video_seq_ref, audio_ts_ref;
	bool first_video_seen;
	bool seq_jump_pending; /* an unconfirmed far sequence number */
	uint64_t seq_jump;
	uint64_t audio_late; /* arrived after their playout: not decrypted */
	struct hl_vbuf *vbuf;
	struct hl_nack *nack;
	struct hl_abuf *abuf;
	uint8_t *plain_buf; /* decrypted frame */
	bool want_key;
	uint64_t last_pli_us;
	bool pli_sent_once;
	struct sr_map sr_audio, sr_video;
	bool audio_playing;
	int64_t audio_latency_us; /* playout - sender capture (NTP) */
	double audio_loss;	  /* smoothed share of audio packets lost */
	double video_loss;	  /* same for the peer's video to us */
	double peer_video_loss;	  /* what the peer reports of our video */
	uint64_t rtx_bytes;	  /* retransmitted since the last REMB */
	uint64_t last_remb_us;	  /* when the peer's last REMB came */
	uint64_t congested_until; /* the peer's estimate limits us (REMB) */
	uint64_t hold_until;	  /* A/V sync: next picture is due then */
	uint64_t rerequest_us;	  /* last stall re-request */

	/* congestion control */
	struct hl_cc *cc;
	struct hl_rbe *rbe;    /* our estimate of what reaches us (REMB) */
	unsigned applied_kbps; /* what the encoder was last told */
	double rtx_tokens;     /* retransmission budget, bytes */
	uint64_t rtx_tokens_us;

	/* network */
	bool have_rtt;
	double srtt_us;
	uint64_t next_rtcp_us;
	unsigned reports_sent;

	struct hl_call_stats st;
};

/* call.c */
int call_enqueue(struct hl_call *c, const uint8_t *pkt, size_t len);
int call_enqueue_paced(struct hl_call *c, const uint8_t *pkt, size_t len);
int call_enqueue_rtx(struct hl_call *c, const uint8_t *pkt, size_t len);
uint64_t call_rtt_us(const struct hl_call *c);
/* How often a key frame is asked for again while none comes. */
uint64_t call_pli_interval(const struct hl_call *c);

/* send.c */
int call_send_video(struct hl_call *c, const struct hl_image *img,
		    uint64_t capture_us, uint64_t now);
int call_send_audio(struct hl_call *c, const int16_t *pcm, uint64_t capture_us,
		    uint64_t now);
int call_retransmit(struct hl_call *c, uint16_t seq, uint64_t now);
/* The audio stream's RTP time at now (for sender reports). */
uint32_t call_audio_ts_at(const struct hl_call *c, uint64_t now);

/* recv.c */
int call_recv_rtp(struct hl_call *c, const uint8_t *pkt, size_t len,
		  uint64_t now);
int call_recv_rtcp(struct hl_call *c, const uint8_t *pkt, size_t len,
		   uint64_t now);
int call_send_feedback(struct hl_call *c, uint64_t now);
int call_send_report(struct hl_call *c, uint64_t now);
uint64_t call_max_wait_us(const struct hl_call *c);

#endif
