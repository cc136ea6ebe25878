/*
 * hotline/cc.h - congestion control: how fast the sender may send.
 *
 * Sans-IO, in two halves that Google Congestion Control
 * (draft-ietf-rmcat-gcc-02) also has:
 *
 * The sender's (hl_cc): loss-based (§6).  It learns from the peer's RTCP
 * receiver reports (loss fraction, round-trip time) and the peer's
 * receive estimate (REMB), and answers with a target bitrate for the
 * video encoder, which the pacer and the retransmission budget follow:
 *
 *   - heavy loss while the RTT has risen more than 10 ms above its 10 s
 *     minimum: fraction lost > 10 % -> rate x (1 - loss / 2), unless a
 *     REMB came in the last second and is under twice our rate (the
 *     peer's delay-based estimate is tracking us and answering that
 *     congestion; both cut the rate to a third at a call's start).  Loss without any queueing (a lossy radio
 *     link, the simulator's random loss) is left to NACK/RTX, FEC and
 *     RED instead of starving the picture;
 *   - fraction lost < 2 % -> rate x 1.08 per report (about +16 %/s);
 *   - otherwise hold.  Never above the maximum or a REMB less than 2.5 s
 *     old (the peer sends one every 0.5 s while its estimator has an
 *     estimate), and never below the minimum, which wins over a lower
 *     REMB.  A lapsed REMB lets the rate climb at the next report.
 *
 * The receiver's (hl_rbe, below): delay-based (§5), on the one-way delay
 * of the peer's video; its estimate goes back as REMB.
 */
#ifndef HOTLINE_CC_H
#define HOTLINE_CC_H

#include "hotline/base.h"

struct hl_cc_config {
	unsigned min_kbps;
	unsigned start_kbps;
	unsigned max_kbps;
};

struct hl_cc_stats {
	unsigned target_kbps;
	uint64_t decreases_loss;
	uint64_t increases;
	double min_rtt_ms;
};

struct hl_cc;

int hl_cc_new(struct hl_cc **out, const struct hl_cc_config *cfg) HL_MUST_CHECK;
void hl_cc_free(struct hl_cc *cc);

/* A receiver report about our media: loss fraction 0..1, RTT if known. */
void hl_cc_on_report(struct hl_cc *cc, double loss, bool have_rtt,
		     uint64_t rtt_us, uint64_t now);
/* The peer's estimate of what reaches it (RTCP REMB). */
void hl_cc_on_remb(struct hl_cc *cc, uint64_t bps, uint64_t now);
unsigned hl_cc_target_kbps(const struct hl_cc *cc);
void hl_cc_stats(const struct hl_cc *cc, struct hl_cc_stats *st);

/*
 * The receiving side's estimate of the rate the path delivers (the
 * delay-based half of draft-ietf-rmcat-gcc-02 §5 run at the receiver;
 * src/cc/rbe.c says how), for the sender as RTCP REMB.  Feed it every
 * video and retransmission packet that passed SRTP: its RTP timestamp,
 * its size, and timed = false for retransmissions (they count towards
 * the rate only).  Until the path first shows congestion it has no
 * estimate and asks for no REMB.
 */
struct hl_rbe_stats {
	uint64_t packets;
	uint64_t groups;   /* frames whose delay was measured */
	uint64_t overuses; /* groups after which the queue was seen to grow */
	uint64_t standing; /* ... or to stay more than 50 ms above its low */
	uint64_t decreases;
	uint64_t rembs;
	unsigned estimate_kbps; /* 0: none (yet, or withdrawn) */
	double threshold_ms;
};

struct hl_rbe;

int hl_rbe_new(struct hl_rbe **out) HL_MUST_CHECK;
void hl_rbe_free(struct hl_rbe *r);
void hl_rbe_on_packet(struct hl_rbe *r, uint32_t rtp_ts, size_t bytes,
		      bool timed, uint64_t now, uint64_t rtt_us);
/* True (and *bps) when a REMB is due: at once when the estimate fell by
 * 3 % or more since the last one, else every 500 ms. */
bool hl_rbe_poll_remb(struct hl_rbe *r, uint64_t now, uint64_t *bps);
void hl_rbe_stats(const struct hl_rbe *r, struct hl_rbe_stats *st);

#endif /* HOTLINE_CC_H */
