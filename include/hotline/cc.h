/*
 * hotline/cc.h - congestion control: how fast the sender may send.
 *
 * Sans-IO and sender-side.  It learns from the peer's RTCP receiver
 * reports (loss fraction, round-trip time) and, when the peer sends one,
 * its receive estimate (REMB), and answers with a target bitrate for the
 * video encoder and a budget for retransmissions.  The rules follow the
 * loss-based controller of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02 §6) plus a delay signal taken from the RTT:
 *
 *   - queueing: RTT more than max(25 ms, min RTT / 2) above the lowest RTT
 *     of the last 10 s -> rate x 0.85 (at most once per RTT + 100 ms);
 *   - heavy loss while the RTT has risen more than 10 ms: fraction lost
 *     > 10 % -> rate x (1 - loss / 2).  Loss without any queueing (a
 *     lossy radio link, the simulator's random loss) is left to NACK/RTX,
 *     FEC and RED instead of starving the picture;
 *   - clear path: fraction lost < 2 % and RTT within 10 ms of the minimum
 *     -> rate x 1.08 per report (about +16 %/s), up to the maximum;
 *   - otherwise hold.  Never below the minimum or above a REMB.
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
	uint64_t decreases_delay;
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

#endif /* HOTLINE_CC_H */
