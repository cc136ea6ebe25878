/*
 * hotline/core.h - the sans-IO call engine.
 *
 * One struct hl_call is one side of a call.  It never opens a socket,
 * starts a thread or reads a clock: the caller feeds it
 *
 *   raw media      hl_call_send_video(), hl_call_send_audio()
 *   datagrams      hl_call_recv()            (RTP/RTCP, after SRTP if any)
 *   time           hl_call_handle_timeout()  (at hl_call_next_timeout())
 *
 * and drains
 *
 *   datagrams      hl_call_poll_transmit()
 *   pictures       hl_call_poll_video()      (decoded, in order, when due)
 *   sound          hl_call_pull_audio()      (one 20 ms frame per call)
 *
 * Inside, data flows one way: source -> encoder -> SFrame encrypt ->
 * packetizer -> (network) -> jitter/frame buffer -> SFrame decrypt ->
 * decoder -> sink, with RTCP (SR/RR, NACK, PLI) flowing back.  Every frame
 * is encrypted end to end with SFrame before it is cut into packets; the
 * VP8 payload header stays in clear but authenticated (docs/protocol.md).
 *
 * Every time argument is monotonic microseconds; the same clock must be
 * used for capture times and `now`.
 */
#ifndef HOTLINE_CORE_H
#define HOTLINE_CORE_H

#include "hotline/base.h"
#include "hotline/media.h"
#include "hotline/sframe.h"

#define HL_CALL_KEY_MAX	    64
#define HL_CALL_DEFAULT_MTU 1200

/* The two ends of a call; each picks its own SFrame key ids by role. */
enum hl_call_role {
	HL_CALL_ROLE_A = 0, /* the proposer ("alice") */
	HL_CALL_ROLE_B = 1, /* the invitee ("bob") */
};

/*
 * Per-direction SFrame base keys.  Today they come from a fixed test
 * secret (hl_call_test_keys); the key exchange will supply them.
 */
struct hl_call_keys {
	enum hl_sframe_suite suite;
	uint64_t epoch;
	uint8_t send[HL_CALL_KEY_MAX];
	uint8_t recv[HL_CALL_KEY_MAX];
	size_t len;
};

struct hl_call_ssrcs {
	uint32_t audio, video, rtx;
};

struct hl_call_config {
	enum hl_call_role role;
	struct hl_rng rng; /* SSRCs, sequence numbers, RTCP timing */
	struct hl_call_keys keys;

	bool send_video, send_audio;
	int width, height, fps;
	unsigned video_kbps, audio_kbps;
	int enc_threads; /* libvpx threads (1: deterministic) */
	int cpu_used;	 /* libvpx speed (negative: fixed, deterministic) */

	const struct hl_video_encoder_ops *venc;
	const struct hl_video_decoder_ops *vdec;
	const struct hl_audio_encoder_ops *aenc;
	const struct hl_audio_decoder_ops *adec;

	size_t mtu;	/* largest datagram we send */
	char cname[33]; /* RTCP CNAME */
	bool av_sync;	/* hold video to the audio clock (RTCP SR) */
	/* With av_sync, a picture may be shown this much before the sound
	 * of the same instant (default 40 ms: ITU-R BT.1359 finds sound up
	 * to 125 ms behind the picture undetectable; sound ahead is what
	 * viewers notice, and this never puts it ahead).  It is shown at
	 * the first hl_call_poll_video from then on, and the engine's
	 * timeout asks for one at most 10 ms later. */
	uint64_t av_lead_us;
	uint64_t rekey_us; /* SFrame ratchet period; 0: never */
	/* The peer did not accept RED (RFC 2198, PT 63) in its SDP: audio
	 * goes out as plain Opus packets only. */
	bool no_red;
	uint64_t rtcp_interval_us;
	/* Our SSRCs when they were announced before the call was created
	 * (in the SDP); zero fields are drawn from rng. */
	struct hl_call_ssrcs local;
};

/* Defaults: 1280x720@30, 1500 kbps VP8, 32 kbps Opus, libvpx/libopus. */
void hl_call_config_defaults(struct hl_call_config *cfg);

/*
 * Derive per-direction keys from a shared test secret (HKDF-SHA256 with
 * the labels "hotline test key A->B" / "B->A").  For the simulator and
 * tests until the key exchange supplies real keys.
 */
int hl_call_test_keys(enum hl_call_role role, const uint8_t *secret, size_t len,
		      struct hl_call_keys *out) HL_MUST_CHECK;

struct hl_call;

/* Create a call; cfg is copied.  Free with hl_call_free(). */
int hl_call_new(struct hl_call **out, const struct hl_call_config *cfg,
		uint64_t now) HL_MUST_CHECK;
void hl_call_free(struct hl_call *c);

void hl_call_local_ssrcs(const struct hl_call *c, struct hl_call_ssrcs *out);
/* Accept media from these SSRCs only (signalled by the peer). */
void hl_call_set_remote_ssrcs(struct hl_call *c, const struct hl_call_ssrcs *s);

/* ---- media in ------------------------------------------------------- */

/* Encode, encrypt and packetize one picture captured at capture_us. */
int hl_call_send_video(struct hl_call *c, const struct hl_image *img,
		       uint64_t capture_us, uint64_t now) HL_MUST_CHECK;
/* Same for 20 ms of mono 48 kHz audio whose first sample is capture_us. */
int hl_call_send_audio(struct hl_call *c,
		       const int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		       uint64_t capture_us, uint64_t now) HL_MUST_CHECK;

/* ---- network -------------------------------------------------------- */

/*
 * One datagram from the peer.  Malformed, unauthentic, replayed or
 * unexpected input is dropped and counted (see struct hl_call_stats); the
 * return value is 0 then too.  Only resource failures are returned.
 */
int hl_call_recv(struct hl_call *c, const uint8_t *pkt, size_t len,
		 uint64_t now) HL_MUST_CHECK;
/*
 * Next datagram to send: 0 with *len set, HL_EAGAIN when none may go now.
 * Video and retransmissions are paced (docs/architecture.md): what the
 * pacer holds goes when hl_call_handle_timeout() is called at
 * hl_call_next_timeout(), so drain again after every call that takes
 * `now`.
 */
int hl_call_poll_transmit(struct hl_call *c, uint8_t *buf, size_t cap,
			  size_t *len) HL_MUST_CHECK;
uint64_t hl_call_next_timeout(const struct hl_call *c);
int hl_call_handle_timeout(struct hl_call *c, uint64_t now) HL_MUST_CHECK;

/* ---- media out ------------------------------------------------------ */

struct hl_video_out {
	const struct hl_image *img; /* valid until the next poll */
	uint32_t rtp_ts;
	bool keyframe;
};

/* The next picture to show now: 0, or HL_EAGAIN. */
int hl_call_poll_video(struct hl_call *c, uint64_t now,
		       struct hl_video_out *out) HL_MUST_CHECK;

enum hl_audio_kind {
	HL_AUDIO_SILENCE = 0, /* nothing received yet */
	HL_AUDIO_DECODED,     /* from its own packet */
	HL_AUDIO_FEC,	      /* rebuilt from the next packet's FEC */
	HL_AUDIO_CONCEALED,   /* packet loss concealment */
};

struct hl_audio_out {
	enum hl_audio_kind kind;
	uint64_t rtp_ts;   /* unwrapped RTP timestamp of the frame */
	int delay_samples; /* codec look-ahead: output lags by this much */
};

/* True when an hl_call_pull_audio() for time at would find its frame
 * buffered (or start playout): the caller may then make that pull a few
 * milliseconds before at, at a wake-up it has anyway, giving it at. */
bool hl_call_audio_ready(const struct hl_call *c, uint64_t at);
/* How much later than the jitter buffer's target delay a pull at time at
 * would come (negative: sooner); 0 before sound plays.  A caller with its
 * own pull clock may steer it by this, a little at a time. */
int64_t hl_call_audio_lag_us(const struct hl_call *c, uint64_t at);

/* 20 ms of sound to play from now on. */
int hl_call_pull_audio(struct hl_call *c, uint64_t now,
		       int16_t pcm[HL_AUDIO_FRAME_SAMPLES],
		       struct hl_audio_out *out) HL_MUST_CHECK;

/* ---- state ---------------------------------------------------------- */

struct hl_call_stats {
	/* end-to-end encryption */
	enum hl_sframe_suite suite;
	uint64_t frames_authenticated;
	uint64_t auth_failures;
	uint64_t replays;
	uint64_t rekeys; /* our own ratchet steps */

	/* sending */
	uint64_t video_frames_sent;
	uint64_t video_keyframes_sent;
	uint64_t video_bytes_sent; /* encoded frame bytes */
	uint64_t audio_frames_sent;
	uint64_t packets_sent;
	uint64_t bytes_sent;	  /* datagram bytes */
	uint64_t retransmissions; /* RTX packets sent */
	uint64_t nacks_received;  /* sequence numbers the peer asked for */
	uint64_t plis_received;
	uint64_t tx_queue_drops;
	uint64_t rtx_budget_drops;   /* NACKed packets not resent: budget */
	unsigned target_kbps;	     /* congestion control's video target */
	uint64_t rembs_received;     /* the peer's estimates (REMB) */
	unsigned peer_estimate_kbps; /* the last one; 0: none */

	/* receiving */
	uint64_t packets_received;
	uint64_t bytes_received;
	uint64_t video_bytes_received; /* media payload */
	uint64_t video_frames_decoded;
	uint64_t video_keyframes_decoded;
	uint64_t video_decode_errors;
	uint64_t video_frames_dropped;
	uint64_t video_gave_up;
	uint64_t rtx_received;
	uint64_t nacks_sent; /* sequence numbers we asked for */
	uint64_t plis_sent;
	uint64_t rembs_sent;	 /* our estimates of what reaches us */
	uint64_t delay_overuses; /* our estimator saw a queue grow */
	unsigned estimate_kbps;	 /* our last estimate; 0: none yet */
	uint64_t audio_decoded;
	uint64_t audio_fec;
	uint64_t audio_concealed;
	uint64_t audio_late;
	uint64_t audio_red_recovered; /* frames rebuilt from RED copies */
	unsigned audio_red_distance;  /* redundancy we send (frames) */
	uint64_t duplicates;
	uint64_t malformed;    /* unparseable RTP/RTCP */
	uint64_t unknown_ssrc; /* from no stream we expect */

	/* network */
	bool have_rtt;
	double rtt_ms;	 /* smoothed */
	double loss_in;	 /* share of the peer's packets that never came */
	double loss_out; /* share of ours the peer reported lost (last) */
	uint32_t audio_jitter_ms;
	uint32_t audio_delay_ms; /* jitter buffer */
	bool peer_bye;
	uint64_t last_packet_us;
};

void hl_call_stats(const struct hl_call *c, struct hl_call_stats *st);

/* Send RTCP BYE now (the call is ending). */
int hl_call_bye(struct hl_call *c, uint64_t now) HL_MUST_CHECK;

#endif /* HOTLINE_CORE_H */
