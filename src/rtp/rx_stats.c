/*
 * rx_stats.c - RFC 3550 receive statistics for one remote source and the
 * time arithmetic around them: sequence validation with probation
 * (Appendix A.1), expected/lost/fraction lost (A.3), interarrival jitter
 * (A.8), LSR/DLSR bookkeeping and the round-trip time of §6.4.1; plus the
 * NTP 32.32 conversions.
 *
 * Times are monotonic microseconds passed in by the caller; nothing here
 * reads a clock.  NTP timestamps are simply those microseconds in 32.32
 * fixed point (no 1900 epoch is added): RTT only needs the SRs we send
 * and the "now" we compare against to come from the same clock, i.e.
 * SR.ntp = hl_ntp_from_us(now) and hl_rtcp_rtt_us(..., now).
 */
#include <string.h>

#include "hotline/rtp.h"

#define RTP_SEQ_MOD    (1u << 16)
#define MIN_SEQUENTIAL 2
#define MAX_DROPOUT    3000
#define MAX_MISORDER   100
#define US_PER_S       1000000ull
#define CUM_LOST_MAX   0x7fffff
#define CUM_LOST_MIN   (-0x800000)
/*
 * A report may claim a DLSR slightly longer than the time since our SR
 * really is: all three NTP values are truncated to 1/65536 s.  Up to 1 ms
 * of that is taken as an RTT of 0; more means the block is not about an
 * SR of ours (or is garbage) and is refused.
 */
#define RTT_NEG_SLACK 65 /* 1/65536 s units, ~1 ms */

/*
 * 32.32 fixed point of us / 10^6, the fraction rounded to nearest.  The
 * seconds wrap modulo 2^32 (as NTP's era does).  Rounding both ways makes
 * hl_ntp_to_us(hl_ntp_from_us(us)) == us for us < 2^32 * 10^6.
 */
uint64_t hl_ntp_from_us(uint64_t us)
{
	uint64_t sec = us / US_PER_S, rem = us % US_PER_S;
	uint64_t frac = ((rem << 32) + US_PER_S / 2) / US_PER_S;

	return (sec & 0xffffffffull) << 32 | frac;
}

/* Microseconds of an NTP 32.32 value, rounded to nearest. */
uint64_t hl_ntp_to_us(uint64_t ntp)
{
	uint64_t sec = ntp >> 32, frac = ntp & 0xffffffffull;

	return sec * US_PER_S + ((frac * US_PER_S + (1ull << 31)) >> 32);
}

/* A.1 init_seq(): restart counting at seq. */
static void init_seq(struct hl_rtp_rx_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

/*
 * A.1 update_seq(): true if the packet counts as valid.  A new source
 * must deliver MIN_SEQUENTIAL packets in sequence before it counts; a
 * jump of more than MAX_DROPOUT ahead or MAX_MISORDER behind is taken as
 * a restart only when the next packet confirms it.
 */
static bool update_seq(struct hl_rtp_rx_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return true;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return false;
	}
	if (udelta < MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD; /* wrapped */
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return false;
		}
		/* Two sequential packets after a jump: the source restarted
		 * (timestamps too, so forget the last transit time). */
		init_seq(s, seq);
		s->has_transit = false;
	}
	/* else: a duplicate or reordered packet, counted. */
	s->received++;
	return true;
}

/* Start statistics for ssrc, whose RTP clock runs at clock_rate Hz. */
void hl_rtp_rx_stats_init(struct hl_rtp_rx_stats *s, uint32_t ssrc,
			  uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->clock_rate = clock_rate;
}

/* Arrival time in RTP units, modulo 2^32 (A.8). */
static uint32_t arrival_rtp(uint64_t us, uint32_t clock_rate)
{
	uint64_t sec = us / US_PER_S, rem = us % US_PER_S;

	return (uint32_t)(sec * clock_rate + rem * clock_rate / US_PER_S);
}

/*
 * Account one packet (A.1), and for valid ones update the jitter (A.8):
 * J += (|D| - J) / 16 with D the change in transit (arrival in RTP
 * units minus timestamp) from the previous valid packet, in arrival order.
 * Packets refused by the sequence check (probation, unconfirmed jump) do
 * not touch the jitter.
 */
void hl_rtp_rx_stats_update(struct hl_rtp_rx_stats *s, uint16_t seq,
			    uint32_t rtp_ts, uint64_t arrival_us)
{
	uint32_t transit;

	if (!s->started) {
		s->started = true;
		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = MIN_SEQUENTIAL;
	}
	if (!update_seq(s, seq))
		return;
	transit = arrival_rtp(arrival_us, s->clock_rate) - rtp_ts;
	if (s->has_transit) {
		int32_t d = (int32_t)(transit - (uint32_t)s->last_transit);
		double ad = d < 0 ? -(double)d : (double)d;

		s->jitter += (ad - s->jitter) / 16.0;
	}
	s->last_transit = transit;
	s->has_transit = true;
}

/*
 * Remember an SR from this source (its NTP time, arriving at now_us) so
 * that the next report block carries LSR and DLSR (RFC 3550 §6.4.1).
 */
void hl_rtp_rx_stats_on_sr(struct hl_rtp_rx_stats *s, uint64_t ntp,
			   uint64_t now_us)
{
	s->last_sr_mid32 = hl_ntp_mid32(ntp);
	s->last_sr_arrival_us = now_us;
	s->has_sr = true;
}

/*
 * Fill *b for now_us (A.3) and start a new interval.  Before the source
 * has passed probation the block carries only the SSRC, the highest
 * sequence number seen, the jitter and LSR/DLSR.  Cumulative loss is
 * clamped to 24-bit signed (duplicates can make it negative); fraction
 * lost is clamped to 255/256.
 */
void hl_rtp_rx_stats_block(struct hl_rtp_rx_stats *s, uint64_t now_us,
			   struct hl_rtcp_report_block *b)
{
	if (!s || !b)
		return;
	memset(b, 0, sizeof(*b));
	b->ssrc = s->ssrc;
	if (s->started) {
		uint32_t ext_max = s->cycles + s->max_seq;

		b->ext_highest_seq = ext_max;
		if (s->probation == 0) {
			uint64_t expected =
				(uint32_t)(ext_max - s->base_seq) + 1ull;
			int64_t lost = (int64_t)expected - (int64_t)s->received;
			uint64_t exp_int = expected - s->expected_prior;
			uint64_t rcv_int = s->received - s->received_prior;
			int64_t lost_int = (int64_t)exp_int - (int64_t)rcv_int;

			s->expected_prior = expected;
			s->received_prior = s->received;
			b->cumulative_lost = (int32_t)HL_MAX(
				HL_MIN(lost, CUM_LOST_MAX), CUM_LOST_MIN);
			if (exp_int != 0 && lost_int > 0)
				b->fraction_lost = (uint8_t)HL_MIN(
					((uint64_t)lost_int << 8) / exp_int,
					255);
		}
	}
	b->jitter =
		s->jitter >= 4294967295.0 ? UINT32_MAX : (uint32_t)s->jitter;
	if (s->has_sr) {
		uint64_t held = now_us > s->last_sr_arrival_us
					? now_us - s->last_sr_arrival_us
					: 0;
		uint64_t dlsr = (held << 16) / US_PER_S;

		b->lsr = s->last_sr_mid32;
		b->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t)dlsr;
	}
}

/*
 * RFC 3550 §6.4.1: RTT = A - LSR - DLSR, with A = now as NTP middle 32
 * bits, all in 1/65536 s and modulo 2^32.  A result within RTT_NEG_SLACK
 * below zero is rounding and gives 0; a more negative one (read as a
 * signed 32-bit value) is HL_EPARSE, as is an RTT of 2^31 units (about 9
 * hours) or more.  HL_EAGAIN when LSR is 0 (the peer has no SR of ours).
 */
int hl_rtcp_rtt_us(const struct hl_rtcp_report_block *b, uint64_t now_us,
		   uint64_t *rtt_us)
{
	uint32_t a;
	int32_t rtt;

	if (!b || !rtt_us)
		return HL_EINVAL;
	if (b->lsr == 0)
		return HL_EAGAIN;
	a = hl_ntp_mid32(hl_ntp_from_us(now_us));
	rtt = (int32_t)(a - b->lsr - b->dlsr);
	if (rtt < -RTT_NEG_SLACK)
		return HL_EPARSE;
	if (rtt < 0)
		rtt = 0;
	*rtt_us = ((uint64_t)rtt * US_PER_S + (1u << 15)) >> 16;
	return 0;
}
