/*
 * cc.c - sender-side congestion control (see include/hotline/cc.h).
 *
 * The minimum RTT is tracked over a 10 s window of 1 s buckets, so a route
 * change upwards is learnt within 10 s and one queueing episode does not
 * poison the baseline.
 */
#include "hotline/cc.h"

#define BUCKETS	  10
#define BUCKET_US 1000000u
/* The peer's REMBs come every 0.5 s (at once on a drop) while its
 * estimator has an estimate: each caps the rate for REMB_HOLD_US, and
 * the loss rule waits while one less than REMB_FRESH_US old binds. */
#define REMB_FRESH_US 1000000u
#define REMB_HOLD_US  2500000u

struct hl_cc {
	struct hl_cc_config cfg;
	double rate; /* kbps */
	uint64_t min_rtt[BUCKETS];
	uint64_t bucket_start;
	unsigned bucket;
	bool have_rtt;
	uint64_t last_decrease_us;
	bool decreased_once;
	uint64_t remb_kbps;
	bool have_remb;
	uint64_t remb_us; /* when the last REMB came */
	struct hl_cc_stats st;
};

int hl_cc_new(struct hl_cc **out, const struct hl_cc_config *cfg)
{
	struct hl_cc *cc;

	if (!cfg->min_kbps || cfg->min_kbps > cfg->max_kbps ||
	    cfg->start_kbps < cfg->min_kbps || cfg->start_kbps > cfg->max_kbps)
		return HL_EINVAL;
	cc = hl_calloc(1, sizeof(*cc));
	if (!cc)
		return HL_ENOMEM;
	cc->cfg = *cfg;
	cc->rate = cfg->start_kbps;
	for (int i = 0; i < BUCKETS; i++)
		cc->min_rtt[i] = UINT64_MAX;
	*out = cc;
	return 0;
}

void hl_cc_free(struct hl_cc *cc)
{
	hl_free(cc);
}

static uint64_t min_rtt(const struct hl_cc *cc)
{
	uint64_t m = UINT64_MAX;

	for (int i = 0; i < BUCKETS; i++)
		m = HL_MIN(m, cc->min_rtt[i]);
	return m;
}

static void rtt_sample(struct hl_cc *cc, uint64_t rtt, uint64_t now)
{
	if (!cc->have_rtt) {
		cc->have_rtt = true;
		cc->bucket_start = now;
	}
	while (now - cc->bucket_start >= BUCKET_US) {
		cc->bucket = (cc->bucket + 1) % BUCKETS;
		cc->min_rtt[cc->bucket] = UINT64_MAX;
		cc->bucket_start += BUCKET_US;
	}
	cc->min_rtt[cc->bucket] = HL_MIN(cc->min_rtt[cc->bucket], rtt);
}

/* A REMB holds while the peer keeps sending them; when they stop, the
 * rate climbs back by the rules above at the next reports. */
static bool remb_fresh(const struct hl_cc *cc, uint64_t now)
{
	return cc->have_remb && now >= cc->remb_us &&
	       now - cc->remb_us <= REMB_HOLD_US;
}

/* A REMB less than 1 s old and less than twice our rate: the peer's
 * delay-based estimate tracks what we send and is answering the
 * congestion (far above it, it answers nothing). */
static bool remb_binds(const struct hl_cc *cc, uint64_t now)
{
	return cc->have_remb && now >= cc->remb_us &&
	       now - cc->remb_us <= REMB_FRESH_US &&
	       cc->rate >= 0.5 * (double)cc->remb_kbps;
}

static void clamp(struct hl_cc *cc, uint64_t now)
{
	double hi = cc->cfg.max_kbps;

	if (remb_fresh(cc, now) && (double)cc->remb_kbps < hi)
		hi = (double)cc->remb_kbps;
	if (cc->rate > hi)
		cc->rate = hi;
	if (cc->rate < cc->cfg.min_kbps)
		cc->rate = cc->cfg.min_kbps;
}

void hl_cc_on_report(struct hl_cc *cc, double loss, bool have_rtt,
		     uint64_t rtt_us, uint64_t now)
{
	uint64_t base, queueing = 0, holdoff;

	if (have_rtt) {
		rtt_sample(cc, rtt_us, now);
		base = min_rtt(cc);
		queueing = rtt_us > base ? rtt_us - base : 0;
		cc->st.min_rtt_ms = base / 1000.0;
	} else {
		base = 0;
	}
	holdoff = (have_rtt ? rtt_us : 100000) + 100000;
	/*
	 * Queueing delay is the receiver's to judge (src/cc/rbe.c, which
	 * sees one-way delay and answers with REMB).  A rule on the RTT
	 * here cut our rate for congestion on the way back too (the peer's
	 * reports queued behind its own media), and read jitter as queueing
	 * (`hotline sim --jitter-ms 60` starved a side to 100 kbit/s).
	 */
	if (loss > 0.10 && have_rtt && queueing > 10000 &&
	    !remb_binds(cc, now)) {
		if (!cc->decreased_once ||
		    now - cc->last_decrease_us >= holdoff) {
			cc->rate *= 1.0 - loss / 2;
			cc->st.decreases_loss++;
			cc->last_decrease_us = now;
			cc->decreased_once = true;
		}
	} else if (loss < 0.02) {
		cc->rate *= 1.08;
		cc->st.increases++;
	}
	clamp(cc, now);
}

void hl_cc_on_remb(struct hl_cc *cc, uint64_t bps, uint64_t now)
{
	cc->remb_kbps = bps / 1000;
	cc->have_remb = true;
	cc->remb_us = now;
	clamp(cc, now);
}

unsigned hl_cc_target_kbps(const struct hl_cc *cc)
{
	return (unsigned)cc->rate;
}

void hl_cc_stats(const struct hl_cc *cc, struct hl_cc_stats *st)
{
	*st = cc->st;
	st->target_kbps = (unsigned)cc->rate;
}
