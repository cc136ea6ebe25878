/*
 * rbe.c - the receiver's estimate of what the path delivers (see
 * include/hotline/cc.h), sent to the sender as REMB.
 *
 * The delay-based half of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02 §5) run at the receiver, as receive-side
 * estimation worked before transport-wide feedback, with the RTP
 * timestamp as the send time:
 *
 *   - Groups: the packets of one video frame (one RTP timestamp), or of
 *     several frames that arrive in one burst (less than BURST_US after
 *     the group's last frame and less late than it, within BURST_MAX_US
 *     of its first, §5.2: after a stall in the network or at the
 *     receiver).  A group's send time is the
 *     RTP time (the capture instant, 90 kHz) of its latest frame, its
 *     arrival time that frame's first packet's, which the sender's pacer
 *     lets go once the frame is encoded and what was queued before it
 *     has left.  Older timestamps (retransmissions, reordering) only
 *     count towards the rate.
 *   - Delay variation between consecutive groups, d = (arrival delta) -
 *     (send delta), accumulated (after the first STARTUP_US at most
 *     MAX_STEP_MS a group: a sender held up is no queue; its catch-up
 *     then reads as a queue draining) and smoothed, then a least-squares line over the last
 *     TREND_WINDOW groups: its slope is the trend of the one-way
 *     queueing delay.
 *   - Overuse when the trend, scaled by the number of groups and
 *     TREND_GAIN, stays above an adaptive threshold for more than 10 ms
 *     of send time over two groups or more and is not falling; underuse
 *     when it is below minus the threshold.  The threshold follows the
 *     signal (fast down, slow up, §5.4; not on spikes far above it) so
 *     that steady jitter does not read as congestion.
 *   - In the first STARTUP_US of the stream (again after a gap of
 *     STREAM_GAP_US or a jump of 1 s in capture time), also overuse when the smoothed and the
 *     latest delay both stand more than STANDING_MS above the smoothed
 *     delay's lowest value of the last 10 s for STANDING_HOLD_US, the
 *     trend not falling (from TREND_MIN groups on): a drop-tail queue
 *     that the first key frame overflowed and that stays full shows no
 *     gradient, only loss and a high level.
 *   - Rate (AIMD, §5.5): the first overuse starts the estimate at 0.85 x
 *     the rate received over the last 500 ms (or since the first packet,
 *     from 200 ms on); a later one lowers it to that if lower, at most
 *     once per RTT + 500 ms (the received rate must first show the last
 *     decrease); then hold; when the signal is back to normal it grows
 *     by 8 % a second (at least 1 kbit/s a group), or near the rate at
 *     which the path last congested by about one packet per response
 *     time; an increase goes no further than 1.5 x the received rate
 *     (+ 10 kbit/s).
 *
 * Until the first overuse, and after IDLE_US without one (also when the
 * video stops), there is no estimate and no REMB: a clear path keeps the sender's own controller
 * in charge (its REMB cap lapses).
 */
#include <math.h>

#include "hotline/cc.h"

#define TREND_WINDOW	 20
#define TREND_SMOOTHING	 0.9
#define TREND_GAIN	 4.0
#define MAX_DELTAS	 60
#define THRESH_INIT_MS	 12.5
#define THRESH_MIN_MS	 6.0
#define THRESH_MAX_MS	 600.0
#define K_UP		 0.0087
#define K_DOWN		 0.039
#define OVERUSE_TIME_MS	 10.0
#define BETA		 0.85
#define RATE_BUCKET_US	 50000u
#define RATE_BUCKETS	 10 /* 500 ms */
#define RATE_MIN_SPAN_US 200000u
#define TREND_MIN	 5 /* groups before the standing-queue rule */
#define STREAM_GAP_US	 2000000u
#define REMB_INTERVAL_US 500000u
#define REMB_DROP	 0.97
#define MIN_ESTIMATE_BPS 30000.0
#define PACKET_BITS	 (1200.0 * 8)
#define BASE_BUCKETS	 10 /* lowest delay of the last 10 s */
#define BASE_BUCKET_US	 1000000u
#define STANDING_MS	 50.0
#define STANDING_HOLD_US 200000u   /* ... for this long */
#define STARTUP_US	 10000000u /* ... in a stream's first 10 s */
#define BURST_US	 5000u	   /* §5.2: a burst is one group */
#define BURST_MAX_US	 100000u   /* ... of at most 100 ms */
#define MAX_STEP_MS	 40.0
#define IDLE_US		 10000000u /* no overuse this long: no estimate */

enum signal { SIG_NORMAL, SIG_OVER, SIG_UNDER };
enum rstate { R_HOLD, R_INCREASE };

struct hl_rbe {
	/* groups: the one being filled (g_) and the last complete one (p_) */
	bool have_group, have_prev;
	uint32_t g_ts, p_ts;
	uint64_t g_arrival_us, p_arrival_us;
	uint64_t g_first_us; /* the group's first frame's arrival */
	uint64_t first_arrival_us;
	/* trendline */
	double acc_delay_ms, smoothed_ms;
	double hist_t[TREND_WINDOW], hist_d[TREND_WINDOW];
	unsigned hist_n, hist_head, deltas;
	double prev_trend;
	/* detector */
	double threshold_ms;
	uint64_t last_thresh_us;
	double over_ms;
	unsigned over_count;
	enum signal sig;
	/* standing queue: the smoothed delay against its 10 s minimum */
	double base_min[BASE_BUCKETS];
	unsigned base_bucket;
	uint64_t base_start_us;
	bool base_started;
	uint64_t standing_since_us; /* 0: not above STANDING_MS */
	uint64_t last_over_us;	    /* the last overuse signal */
	/* received rate */
	uint64_t bucket_bytes[RATE_BUCKETS];
	uint64_t bucket_start_us;
	unsigned bucket;
	bool rate_started;
	uint64_t rate_since_us;
	/* rate control */
	bool active;
	enum rstate state;
	double estimate_bps;
	uint64_t last_change_us;
	uint64_t last_decrease_us;
	double avg_max_kbps, var_max_kbps; /* < 0: unknown */
	/* REMB */
	bool remb_sent_once;
	double remb_sent_bps;
	uint64_t remb_sent_us;
	struct hl_rbe_stats st;
};

int hl_rbe_new(struct hl_rbe **out)
{
	struct hl_rbe *r = hl_calloc(1, sizeof(*r));

	if (!r)
		return HL_ENOMEM;
	r->threshold_ms = THRESH_INIT_MS;
	r->avg_max_kbps = -1;
	r->var_max_kbps = 0.4;
	*out = r;
	return 0;
}

void hl_rbe_free(struct hl_rbe *r)
{
	hl_free(r);
}

/* ---- received rate -------------------------------------------------- */

static void rate_advance(struct hl_rbe *r, uint64_t now)
{
	if (!r->rate_started) {
		r->rate_started = true;
		r->bucket_start_us = now;
		r->rate_since_us = now;
		return;
	}
	if (now < r->bucket_start_us)
		return; /* the caller's clock went back: this bucket */
	if (now - r->bucket_start_us >= RATE_BUCKET_US * RATE_BUCKETS) {
		/* A long silence: start over. */
		for (unsigned i = 0; i < RATE_BUCKETS; i++)
			r->bucket_bytes[i] = 0;
		r->bucket_start_us = now;
		r->rate_since_us = now;
		return;
	}
	while (now - r->bucket_start_us >= RATE_BUCKET_US) {
		r->bucket = (r->bucket + 1) % RATE_BUCKETS;
		r->bucket_bytes[r->bucket] = 0;
		r->bucket_start_us += RATE_BUCKET_US;
	}
}

/* Bits per second received over the last 500 ms (or since the first
 * packet, from 200 ms on: a path congested from the start needs an
 * answer soon); 0 before. */
static double incoming_bps(const struct hl_rbe *r, uint64_t now)
{
	uint64_t sum = 0, span;

	if (!r->rate_started || now < r->bucket_start_us ||
	    now - r->rate_since_us < RATE_MIN_SPAN_US)
		return 0;
	span = HL_MIN(now - r->rate_since_us,
		      RATE_BUCKET_US * (RATE_BUCKETS - 1) +
			      (now - r->bucket_start_us));
	for (unsigned i = 0; i < RATE_BUCKETS; i++)
		sum += r->bucket_bytes[i];
	return (double)sum * 8 * 1e6 / (double)span;
}

/* ---- trendline and detector ------------------------------------------ */

static void base_reset(struct hl_rbe *r)
{
	r->base_started = false;
}

/*
 * Track the smoothed delay's minimum; return how far above it both the
 * smoothed delay and the latest group's are (the smoothed one lags: when
 * the sender has slowed down, its few groups would take seconds to bring
 * it down after the queue has drained).
 */
static double base_excess(struct hl_rbe *r, uint64_t now)
{
	double m;

	if (!r->base_started) {
		r->base_started = true;
		r->base_start_us = now;
		r->base_bucket = 0;
		for (unsigned i = 0; i < BASE_BUCKETS; i++)
			r->base_min[i] = r->smoothed_ms;
	}
	while (now - r->base_start_us >= BASE_BUCKET_US) {
		r->base_bucket = (r->base_bucket + 1) % BASE_BUCKETS;
		r->base_min[r->base_bucket] = r->smoothed_ms;
		r->base_start_us += BASE_BUCKET_US;
	}
	r->base_min[r->base_bucket] =
		HL_MIN(r->base_min[r->base_bucket], r->smoothed_ms);
	m = r->base_min[0];
	for (unsigned i = 1; i < BASE_BUCKETS; i++)
		m = HL_MIN(m, r->base_min[i]);
	return HL_MIN(r->smoothed_ms, r->acc_delay_ms) - m;
}

static void trend_reset(struct hl_rbe *r)
{
	base_reset(r);
	r->have_group = r->have_prev = false;
	r->standing_since_us = 0;
	r->acc_delay_ms = r->smoothed_ms = 0;
	r->hist_n = r->hist_head = r->deltas = 0;
	r->prev_trend = 0;
	r->over_ms = 0;
	r->over_count = 0;
	r->sig = SIG_NORMAL;
}

/* Least-squares slope of the groups in the window; false with fewer than
 * TREND_MIN. */
static bool trend_slope(const struct hl_rbe *r, double *slope)
{
	double mt = 0, md = 0, num = 0, den = 0;
	unsigned n = r->hist_n;

	if (n < TREND_MIN)
		return false;
	for (unsigned i = 0; i < n; i++) {
		mt += r->hist_t[i];
		md += r->hist_d[i];
	}
	mt /= n;
	md /= n;
	for (unsigned i = 0; i < n; i++) {
		num += (r->hist_t[i] - mt) * (r->hist_d[i] - md);
		den += (r->hist_t[i] - mt) * (r->hist_t[i] - mt);
	}
	if (den <= 0)
		return false;
	*slope = num / den;
	return true;
}

static void adapt_threshold(struct hl_rbe *r, double m, uint64_t now)
{
	double dt_ms, k;

	if (!r->last_thresh_us)
		r->last_thresh_us = now;
	/* A spike far above the threshold (a key frame, a route change)
	 * does not drag it up. */
	if (fabs(m) > r->threshold_ms + 15.0) {
		r->last_thresh_us = now;
		return;
	}
	k = fabs(m) < r->threshold_ms ? K_DOWN : K_UP;
	dt_ms = HL_MIN((double)(now - r->last_thresh_us) / 1000.0, 100.0);
	r->threshold_ms += k * (fabs(m) - r->threshold_ms) * dt_ms;
	if (r->threshold_ms < THRESH_MIN_MS)
		r->threshold_ms = THRESH_MIN_MS;
	if (r->threshold_ms > THRESH_MAX_MS)
		r->threshold_ms = THRESH_MAX_MS;
	r->last_thresh_us = now;
}

static void detect(struct hl_rbe *r, double trend, double send_delta_ms,
		   double excess, uint64_t now)
{
	double m = HL_MIN(r->deltas, MAX_DELTAS) * trend * TREND_GAIN;

	bool standing = excess > STANDING_MS && trend >= 0 &&
			now - r->first_arrival_us < STARTUP_US;

	if (!standing)
		r->standing_since_us = 0;
	else if (!r->standing_since_us)
		r->standing_since_us = now;
	if (standing && now - r->standing_since_us >= STANDING_HOLD_US) {
		/* A queue that overflowed at once and stays full shows no
		 * gradient, only loss and a high level: at a call's start,
		 * when the first key frame meets a slow link. */
		r->over_ms = 0;
		r->over_count = 0;
		r->sig = SIG_OVER;
		r->st.standing++;
	} else if (r->hist_n < TREND_WINDOW) {
		/* The gradient needs a full window. */
		r->sig = SIG_NORMAL;
		return;
	} else if (m > r->threshold_ms) {
		r->over_ms = r->over_count ? r->over_ms + send_delta_ms
					   : send_delta_ms / 2;
		r->over_count++;
		if (r->over_ms > OVERUSE_TIME_MS && r->over_count > 1 &&
		    trend >= r->prev_trend) {
			r->over_ms = 0;
			r->over_count = 0;
			r->sig = SIG_OVER;
		}
	} else if (m < -r->threshold_ms) {
		r->over_ms = 0;
		r->over_count = 0;
		r->sig = SIG_UNDER;
	} else {
		r->over_ms = 0;
		r->over_count = 0;
		r->sig = SIG_NORMAL;
	}
	r->prev_trend = trend;
	adapt_threshold(r, m, now);
}

/* ---- rate control ----------------------------------------------------- */

static void update_max(struct hl_rbe *r, double kbps)
{
	const double alpha = 0.05;
	double norm;

	if (r->avg_max_kbps < 0)
		r->avg_max_kbps = kbps;
	else
		r->avg_max_kbps = (1 - alpha) * r->avg_max_kbps + alpha * kbps;
	norm = HL_MAX(r->avg_max_kbps, 1.0);
	r->var_max_kbps = (1 - alpha) * r->var_max_kbps +
			  alpha * (r->avg_max_kbps - kbps) *
				  (r->avg_max_kbps - kbps) / norm;
	if (r->var_max_kbps < 0.4)
		r->var_max_kbps = 0.4;
	if (r->var_max_kbps > 2.5)
		r->var_max_kbps = 2.5;
}

static void control(struct hl_rbe *r, uint64_t now, uint64_t rtt_us)
{
	double in = incoming_bps(r, now), in_kbps = in / 1000;
	double before = r->estimate_bps, dt, sd;

	if (r->sig == SIG_OVER && in > 0) {
		/* The first congestion starts the estimate; after that, one
		 * decrease per response time: the rate received over the
		 * last 500 ms must first show what the last one did. */
		if (!r->active ||
		    now - r->last_decrease_us >=
			    rtt_us + RATE_BUCKET_US * RATE_BUCKETS) {
			double e = BETA * in;

			if (!r->active || e < r->estimate_bps)
				r->estimate_bps = e;
			r->active = true;
			if (r->avg_max_kbps >= 0 &&
			    in_kbps <
				    r->avg_max_kbps - 3 * sqrt(r->var_max_kbps *
							       r->avg_max_kbps))
				r->avg_max_kbps = -1;
			update_max(r, in_kbps);
			r->st.decreases++;
			r->last_decrease_us = now;
		}
		r->state = R_HOLD;
		r->last_change_us = now;
	} else if (r->sig != SIG_NORMAL) {
		/* Underuse (a queue draining), or overuse before any rate
		 * is known: hold. */
		r->state = R_HOLD;
		r->last_change_us = now;
	} else if (r->active) {
		if (r->state == R_HOLD) {
			r->state = R_INCREASE;
			r->last_change_us = now;
		}
		dt = (double)(now - r->last_change_us) / 1e6;
		r->last_change_us = now;
		sd = r->avg_max_kbps >= 0
			     ? sqrt(r->var_max_kbps * r->avg_max_kbps)
			     : 0;
		if (r->avg_max_kbps >= 0 && in_kbps > r->avg_max_kbps + 3 * sd)
			r->avg_max_kbps = -1; /* the path got faster */
		if (r->avg_max_kbps >= 0 &&
		    r->estimate_bps >= 0.85 * r->avg_max_kbps * 1000) {
			/* Near the last congestion: about one packet per
			 * response time. */
			double resp = (double)rtt_us / 1e6 + 0.1;

			r->estimate_bps += HL_MAX(PACKET_BITS / resp, 4000.0) *
					   HL_MIN(dt, 1.0);
		} else {
			r->estimate_bps +=
				HL_MAX(r->estimate_bps *
					       (pow(1.08, HL_MIN(dt, 1.0)) - 1),
				       1000.0);
		}
	}
	if (r->active) {
		/* An increase goes no further than 1.5 x what arrives (a
		 * sender that sends less than it may must not make the
		 * estimate run away); the cap never lowers it. */
		if (in > 0 && r->estimate_bps > before &&
		    r->estimate_bps > 1.5 * in + 10000)
			r->estimate_bps = HL_MAX(before, 1.5 * in + 10000);
		if (r->estimate_bps < MIN_ESTIMATE_BPS)
			r->estimate_bps = MIN_ESTIMATE_BPS;
	}
}

/*
 * No congestion for 10 s (or no video: a camera turned off): stop
 * limiting the sender (its cap lapses when the REMBs stop).  The next
 * overuse starts a new estimate.
 */
static void withdraw_if_idle(struct hl_rbe *r, uint64_t now)
{
	if (!r->active || now < r->last_over_us ||
	    now - r->last_over_us < IDLE_US)
		return;
	r->active = false;
	r->estimate_bps = 0;
	r->avg_max_kbps = -1;
	r->state = R_HOLD;
}

/* ---- packets ---------------------------------------------------------- */

void hl_rbe_on_packet(struct hl_rbe *r, uint32_t rtp_ts, size_t bytes,
		      bool timed, uint64_t now, uint64_t rtt_us)
{
	double send_ms, recv_ms;

	rate_advance(r, now);
	r->bucket_bytes[r->bucket] += bytes;
	r->st.packets++;
	if (!timed || (r->have_group && now < r->g_arrival_us))
		return;
	if (r->have_group && now - r->g_arrival_us > STREAM_GAP_US)
		trend_reset(r);
	if (!r->have_group) {
		r->have_group = true;
		r->g_ts = rtp_ts;
		r->g_arrival_us = r->g_first_us = now;
		r->first_arrival_us = now;
		return;
	}
	if ((int32_t)(rtp_ts - r->g_ts) <= 0)
		return; /* same frame, or an older one */
	/* A frame right behind the group's last one that is less late
	 * than it joins the group (§5.2): after a stall in the network or
	 * at the receiver, the frames that then arrive at once are one
	 * group, not a queue suddenly emptying. */
	send_ms = (double)(uint32_t)(rtp_ts - r->g_ts) / 90.0;
	recv_ms = (double)(now - r->g_arrival_us) / 1000.0;
	if (now - r->g_arrival_us < BURST_US && recv_ms - send_ms < 0 &&
	    now - r->g_first_us < BURST_MAX_US) {
		r->g_ts = rtp_ts;
		r->g_arrival_us = now;
		return;
	}
	/* The group is complete: compare it with the one before. */
	if (!r->have_prev) {
		r->have_prev = true;
		r->p_ts = r->g_ts;
		r->p_arrival_us = r->g_arrival_us;
		r->g_ts = rtp_ts;
		r->g_arrival_us = r->g_first_us = now;
		return;
	}
	send_ms = (double)(uint32_t)(r->g_ts - r->p_ts) / 90.0;
	recv_ms = (double)(r->g_arrival_us - r->p_arrival_us) / 1000.0;
	r->p_ts = r->g_ts;
	r->p_arrival_us = r->g_arrival_us;
	r->g_ts = rtp_ts;
	r->g_arrival_us = r->g_first_us = now;
	if (send_ms > 1000.0) {
		/* A jump in capture time (a paused source): start over. */
		trend_reset(r);
		r->have_group = true;
		r->g_ts = rtp_ts;
		r->g_arrival_us = r->g_first_us = r->first_arrival_us = now;
		return;
	}
	r->st.groups++;
	r->deltas++;
	/* After the start, one group adds at most MAX_STEP_MS: a queue
	 * builds over many groups, while a late group (the sender's
	 * process or pacer held up, its send time being the capture time)
	 * is no queue.  The catch-up after it counts in full, as a queue
	 * draining (underuse: hold); the offset this leaves in the sum is
	 * harmless, as only its slope is used from then on.  (Cancelling
	 * the catch-up against what was held back made a held-up sender
	 * look like a 40 ms queue standing for as long as it caught up, and
	 * the gradient then fired.)  At the start the first key frame's own
	 * queue must count in full. */
	{
		double d = recv_ms - send_ms;

		if (r->p_arrival_us - r->first_arrival_us >= STARTUP_US)
			d = HL_MIN(d, MAX_STEP_MS);
		r->acc_delay_ms += d;
	}
	r->smoothed_ms = TREND_SMOOTHING * r->smoothed_ms +
			 (1 - TREND_SMOOTHING) * r->acc_delay_ms;
	r->hist_t[r->hist_head] =
		(double)(r->p_arrival_us - r->first_arrival_us) / 1000.0;
	r->hist_d[r->hist_head] = r->smoothed_ms;
	r->hist_head = (r->hist_head + 1) % TREND_WINDOW;
	if (r->hist_n < TREND_WINDOW)
		r->hist_n++;
	{
		double slope, excess = base_excess(r, now);

		if (trend_slope(r, &slope)) {
			detect(r, slope, send_ms, excess, now);
			if (r->sig == SIG_OVER) {
				r->st.overuses++;
				r->last_over_us = now;
			}
		}
	}
	control(r, now, rtt_us);
	withdraw_if_idle(r, now);
}

bool hl_rbe_poll_remb(struct hl_rbe *r, uint64_t now, uint64_t *bps)
{
	withdraw_if_idle(r, now);
	if (!r->active || r->estimate_bps <= 0)
		return false;
	if (r->remb_sent_once &&
	    r->estimate_bps >= r->remb_sent_bps * REMB_DROP &&
	    now - r->remb_sent_us < REMB_INTERVAL_US)
		return false;
	r->remb_sent_once = true;
	r->remb_sent_bps = r->estimate_bps;
	r->remb_sent_us = now;
	r->st.rembs++;
	*bps = (uint64_t)r->estimate_bps;
	return true;
}

void hl_rbe_stats(const struct hl_rbe *r, struct hl_rbe_stats *st)
{
	*st = r->st;
	st->estimate_kbps = r->active ? (unsigned)(r->estimate_bps / 1000) : 0;
	st->threshold_ms = r->threshold_ms;
}
