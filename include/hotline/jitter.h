/*
 * hotline/jitter.h - receive-side buffering: video frames, NACK, audio.
 *
 * Three sans-IO pieces the call engine combines:
 *
 *  - struct hl_vbuf: the video packet and frame buffer.  RTP packets of one
 *    stream go in (with their VP8 descriptor already parsed); whole frames
 *    come out, first still encrypted (the engine decrypts them and hands
 *    them back), then in decode order.  It never hands out a frame whose
 *    references are missing: after a loss it waits for retransmissions up
 *    to a latency budget, then gives up, skips to the next key frame and
 *    asks the engine to request one (PLI).
 *  - struct hl_nack: which sequence numbers are missing and when to ask
 *    (again) for them (RFC 4585 generic NACK), paced by the round-trip time.
 *  - struct hl_abuf: the audio jitter buffer.  Packets go in; every 20 ms
 *    the playout clock pulls one frame and learns whether to decode a
 *    packet, rebuild it from the next packet's FEC, or conceal.  Its delay
 *    adapts to the measured jitter.
 *
 * Sequence numbers are 64-bit (unwrapped by the caller with
 * hl_seq_unwrap16); times are microseconds.
 */
#ifndef HOTLINE_JITTER_H
#define HOTLINE_JITTER_H

#include "hotline/base.h"

/* ---- video frame buffer --------------------------------------------- */

#define HL_VBUF_SLOTS	  1024 /* packets held while frames assemble */
#define HL_VBUF_FRAMES	  64   /* assembled frames held for decoding */
#define HL_VBUF_FRAME_MAX (1u << 20)

struct hl_vbuf_packet {
	uint64_t seq;		/* unwrapped RTP sequence number */
	uint32_t ts;		/* RTP timestamp */
	bool marker;		/* last packet of the frame */
	bool frame_start;	/* VP8 S bit with partition index 0 */
	uint16_t picture_id;	/* 15-bit VP8 PictureID */
	const uint8_t *payload; /* after the VP8 payload descriptor */
	size_t len;
};

struct hl_vbuf_frame {
	uint64_t pid; /* unwrapped picture id */
	uint32_t ts;
	uint64_t first_seq, last_seq;
	bool keyframe;
	uint8_t *data; /* owned by the buffer */
	size_t len;
	uint64_t first_arrival_us; /* first packet of the frame arrived */
	uint64_t complete_us;	   /* last missing packet arrived */
};

struct hl_vbuf_stats {
	uint64_t packets;
	uint64_t duplicates;
	uint64_t too_old; /* packet for a frame already handled */
	uint64_t frames_complete;
	uint64_t frames_dropped;  /* given up (never decodable) */
	uint64_t frames_rejected; /* failed authentication */
	uint64_t gave_up;	  /* times the buffer skipped ahead */
	uint64_t evicted;	  /* packets pushed out by newer ones */
	uint64_t replaced;	  /* same sequence number, other content */
};

struct hl_vbuf;

int hl_vbuf_new(struct hl_vbuf **out) HL_MUST_CHECK;
void hl_vbuf_free(struct hl_vbuf *b);

/*
 * Insert a packet (its payload is copied).  Returns 0, or HL_EREPLAY for a
 * duplicate or a packet older than what was already decoded (dropped).
 */
int hl_vbuf_insert(struct hl_vbuf *b, const struct hl_vbuf_packet *p,
		   uint64_t now) HL_MUST_CHECK;

/*
 * Take the next newly completed frame, still encrypted: 0 and *f filled
 * (f->data owned by the buffer until hl_vbuf_accept/reject), HL_EAGAIN when
 * none.  The caller decrypts f->data and then calls exactly one of:
 *  - hl_vbuf_accept(b, f, plain, len): the frame authenticated; plain is
 *    copied and the frame joins the decode queue;
 *  - hl_vbuf_reject(b, f): authentication failed; the frame is dropped and
 *    its packets forgotten so that retransmissions can rebuild it.
 */
int hl_vbuf_pop_complete(struct hl_vbuf *b,
			 struct hl_vbuf_frame *f) HL_MUST_CHECK;
int hl_vbuf_accept(struct hl_vbuf *b, const struct hl_vbuf_frame *f,
		   const uint8_t *plain, size_t len) HL_MUST_CHECK;
void hl_vbuf_reject(struct hl_vbuf *b, const struct hl_vbuf_frame *f);

/*
 * The next frame to decode, if any: 0 with *f (data valid until the next
 * call on the buffer), HL_EAGAIN if the next frame is not there yet.
 * max_wait_us is how long a gap may stall decoding before the buffer gives
 * up on it, skips to the next key frame and sets *need_keyframe.
 */
int hl_vbuf_next_decodable(struct hl_vbuf *b, uint64_t now,
			   uint64_t max_wait_us, struct hl_vbuf_frame *f,
			   bool *need_keyframe) HL_MUST_CHECK;
/* The frame returned by hl_vbuf_next_decodable was decoded (ok) or not. */
void hl_vbuf_decoded(struct hl_vbuf *b, uint64_t pid, bool ok);
/* When the current stall began (UINT64_MAX if not stalled). */
uint64_t hl_vbuf_stall_since(const struct hl_vbuf *b);
/*
 * The sequence numbers to ask for again when a stall outlives the normal
 * NACK repairs: a frame can be whole on the wire yet never assemble when
 * an RTP header or VP8 descriptor was altered in transit (they are not
 * end-to-end authenticated).  Returns 0 with [*first, *last], or
 * HL_EAGAIN.  A frame that directly follows the last decoded one but
 * claims another picture id is dropped here (its range is returned).
 */
int hl_vbuf_stall_range(struct hl_vbuf *b, uint64_t *first,
			uint64_t *last) HL_MUST_CHECK;
/* Drop the packets held for [first, last] (so retransmissions replace
 * them). */
void hl_vbuf_forget_range(struct hl_vbuf *b, uint64_t first, uint64_t last);
/* When a stall will expire (UINT64_MAX if none). */
uint64_t hl_vbuf_next_deadline(const struct hl_vbuf *b, uint64_t max_wait_us);
/* Oldest sequence number still useful (for pruning NACKs). */
uint64_t hl_vbuf_oldest_needed_seq(const struct hl_vbuf *b);
void hl_vbuf_stats(const struct hl_vbuf *b, struct hl_vbuf_stats *st);

/* ---- NACK tracker --------------------------------------------------- */

#define HL_NACK_MAX	    1000 /* missing packets tracked at once */
#define HL_NACK_MAX_RETRIES 10

struct hl_nack;

int hl_nack_new(struct hl_nack **out) HL_MUST_CHECK;
void hl_nack_free(struct hl_nack *n);

/*
 * A packet seq arrived.  A jump past the highest seen adds the gap to the
 * missing list.  Returns true when the list overflowed (it is then
 * cleared; the caller should request a key frame instead).
 */
bool hl_nack_on_packet(struct hl_nack *n, uint64_t seq, uint64_t now);
/* Ask again for [first, last] (e.g. a frame that failed authentication). */
void hl_nack_request_range(struct hl_nack *n, uint64_t first, uint64_t last,
			   uint64_t now);
/* Stop asking for anything older than seq. */
void hl_nack_forget_before(struct hl_nack *n, uint64_t seq);
/*
 * Sequence numbers due to be requested now: new gaps at once, repeats
 * every max(rtt * 5 / 4, 20 ms), each at most HL_NACK_MAX_RETRIES times.
 * Writes at most cap (16-bit wire values) and returns how many.
 */
size_t hl_nack_collect(struct hl_nack *n, uint64_t now, uint64_t rtt_us,
		       uint16_t *seqs, size_t cap);
uint64_t hl_nack_next_time(const struct hl_nack *n, uint64_t rtt_us);
/* True if some sequence number in [first, last] is being asked for. */
bool hl_nack_pending_in(const struct hl_nack *n, uint64_t first, uint64_t last);
size_t hl_nack_pending(const struct hl_nack *n);

/* ---- audio jitter buffer ------------------------------------------- */

#define HL_ABUF_SLOTS	   128 /* 2.56 s of 20 ms frames */
#define HL_ABUF_PACKET_MAX 1275

enum hl_abuf_action {
	HL_ABUF_SILENCE = 0, /* playout has not started: play silence */
	HL_ABUF_DECODE,	     /* decode data (the frame's own packet) */
	HL_ABUF_FEC,	     /* rebuild from data (the NEXT frame's packet) */
	HL_ABUF_CONCEAL,     /* nothing usable: conceal (PLC) */
};

struct hl_abuf_out {
	enum hl_abuf_action action;
	const uint8_t *data; /* valid until the next call on the buffer */
	size_t len;
	uint64_t ts;   /* unwrapped RTP timestamp of the frame played */
	bool expanded; /* an extra frame inserted to grow the delay */
};

struct hl_abuf_stats {
	uint64_t packets;
	uint64_t duplicates;
	uint64_t late; /* arrived after their playout time */
	uint64_t decoded;
	uint64_t fec;
	uint64_t concealed;	  /* frames concealed (incl. expansions) */
	uint64_t expanded;	  /* frames inserted to grow the delay */
	uint64_t accelerated;	  /* frames skipped to shrink the delay */
	uint64_t underruns;	  /* playout stopped for lack of packets */
	uint32_t target_delay_us; /* current target buffering */
	uint32_t delay_us;	  /* current buffering */
};

struct hl_abuf;

int hl_abuf_new(struct hl_abuf **out, uint32_t samples_per_frame,
		uint32_t clock_rate) HL_MUST_CHECK;
void hl_abuf_free(struct hl_abuf *b);

/* Insert a (decrypted) packet; HL_EREPLAY for duplicates or late ones. */
int hl_abuf_insert(struct hl_abuf *b, uint64_t ts, const uint8_t *data,
		   size_t len, uint64_t now) HL_MUST_CHECK;
/* True if the frame ts is buffered already (a duplicate: skip it). */
bool hl_abuf_has(const struct hl_abuf *b, uint64_t ts);
/* True if the frame ts was due already (played or concealed). */
bool hl_abuf_is_late(const struct hl_abuf *b, uint64_t ts);
/* True if the next pull's frame is buffered or, before playout starts, if
 * a pull at now would start it: a pull made a little before its time now
 * (and given now) then plays what it would have played at now, unless a
 * frame arrives out of order in between. */
bool hl_abuf_ready(const struct hl_abuf *b, uint64_t now);
/* How much later than the buffer's target delay a pull at now would come
 * (negative: sooner), by the target of the last pull; 0 before playout.
 * A caller whose pull clock may move steers it by this (apps/cmd_join.c),
 * finer than the whole frames the buffer adds and drops itself. */
int64_t hl_abuf_lag(const struct hl_abuf *b, uint64_t now);
/* Called once per frame duration by the playout clock. */
void hl_abuf_pull(struct hl_abuf *b, uint64_t now, struct hl_abuf_out *out);
/* Tell the buffer whether recent frames were lost (enables the FEC
 * look-ahead margin). loss is a fraction 0..1. */
void hl_abuf_set_loss(struct hl_abuf *b, double loss);
void hl_abuf_stats(const struct hl_abuf *b, struct hl_abuf_stats *st);

#endif /* HOTLINE_JITTER_H */
