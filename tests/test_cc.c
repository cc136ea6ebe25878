/*
 * test_cc.c - congestion control: the receiver's delay-based estimate
 * (hl_rbe) on a modelled bottleneck, and the sender's rules (hl_cc).
 *
 * The model: 30 frames a second of a given bitrate, each cut into
 * 1200-byte packets that leave paced at 2.5x that bitrate (as the
 * engine's pacer does), through a link of a given rate with a drop-tail
 * queue of a given depth, plus 20 ms of propagation and optional jitter.
 */
#include <math.h>

#include "harness.h"
#include "hotline/cc.h"

#define PKT   1200
#define PROP  20000 /* µs */
#define FRAME 33333 /* µs */

struct link {
	double kbps;		 /* 0: no bottleneck */
	uint64_t queue_us;	 /* drop-tail depth */
	uint64_t jitter_us;	 /* arrival + 0..jitter, uniform (order kept) */
	uint64_t send_jitter_us; /* each frame leaves 0..this late */
	uint64_t free_at;	 /* when the link is done with what it holds */
	uint64_t last_out;	 /* arrivals keep their order */
	uint32_t rng;
	uint64_t drops;
};

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* When a packet sent at t arrives; false when the queue drops it. */
static bool link_pass(struct link *l, uint64_t t, size_t bytes,
		      uint64_t *arrival)
{
	uint64_t out = t;

	if (l->kbps > 0) {
		uint64_t start = HL_MAX(t, l->free_at);
		uint64_t tx = (uint64_t)((double)bytes * 8 * 1000 / l->kbps);

		if (start - t > l->queue_us) {
			l->drops++;
			return false;
		}
		l->free_at = start + tx;
		out = start + tx;
	}
	out += PROP;
	if (l->jitter_us)
		out += lcg(&l->rng) % l->jitter_us;
	out = HL_MAX(out, l->last_out);
	l->last_out = out;
	*arrival = out;
	return true;
}

struct arrival {
	uint64_t t;
	uint32_t ts;
	size_t bytes;
};

struct run {
	double send_kbps; /* the sender's rate */
	bool obey_remb;	  /* the sender follows the REMBs */
	uint64_t first_remb_us;
	uint64_t rembs;
	double last_remb_kbps;
	double delay_sum_ms; /* queueing delay of packets in the last half */
	uint64_t delay_n;
	uint64_t bytes_late; /* delivered in the last half */
};

/*
 * Run secs seconds: frames into the link, their packets (in arrival order,
 * frame by frame) into r, REMBs back to the sender at once.
 */
static void run_model_from(struct hl_rbe *r, struct link *l, double secs,
			   struct run *out, uint64_t t0)
{
	struct arrival a[256];
	uint64_t end = t0 + (uint64_t)(secs * 1e6);
	uint64_t pace_free = t0;

	for (uint64_t f = 0;; f++) {
		uint64_t cap = t0 + f * FRAME;
		size_t size = (size_t)(out->send_kbps * 1000 / 8 / 30), n = 0;
		uint32_t ts = (uint32_t)(cap * 9 / 100);
		double pace = 2.5 * out->send_kbps;

		if (cap >= end)
			break;
		if (size < 200)
			size = 200;
		/* encoding takes its time: up to send_jitter_us */
		pace_free =
			HL_MAX(pace_free,
			       cap + (l->send_jitter_us
					      ? lcg(&l->rng) % l->send_jitter_us
					      : 0));
		for (size_t off = 0; off < size && n < HL_ARRAY_SIZE(a);
		     off += PKT) {
			size_t b = HL_MIN((size_t)PKT, size - off);
			uint64_t arr;

			if (link_pass(l, pace_free, b, &arr)) {
				a[n].t = arr;
				a[n].ts = ts;
				a[n].bytes = b;
				if (cap > t0 + (end - t0) / 2) {
					out->delay_sum_ms +=
						(double)(arr - pace_free -
							 PROP) /
						1000.0;
					out->delay_n++;
					out->bytes_late += b;
				}
				n++;
			}
			pace_free += (uint64_t)((double)b * 8 * 1000 / pace);
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t bps;

			hl_rbe_on_packet(r, a[i].ts, a[i].bytes, true, a[i].t,
					 2 * PROP);
			if (hl_rbe_poll_remb(r, a[i].t, &bps)) {
				if (!out->rembs)
					out->first_remb_us = a[i].t - t0;
				out->rembs++;
				out->last_remb_kbps = (double)bps / 1000;
				if (out->obey_remb)
					out->send_kbps =
						HL_MIN(1500.0, bps / 1000.0);
			}
		}
		if (out->obey_remb && !n)
			continue;
		/* a sender with nothing from the receiver creeps back up */
		if (out->obey_remb && out->send_kbps < 1500)
			out->send_kbps = HL_MIN(1500.0, out->send_kbps * 1.002);
	}
}

static void run_model(struct hl_rbe *r, struct link *l, double secs,
		      struct run *out)
{
	run_model_from(r, l, secs, out, 1000000);
}

/* A clear path, with and without jitter: no estimate, no REMB. */
static int test_rbe_clear_path(void)
{
	for (int j = 0; j < 3; j++) {
		struct link l = {.jitter_us = (uint64_t)j * 20000,
				 .send_jitter_us = (uint64_t)j * 10000,
				 .rng = 7};
		struct run out = {.send_kbps = 1500};
		struct hl_rbe *r;
		struct hl_rbe_stats st;

		HT_OK(hl_rbe_new(&r));
		run_model(r, &l, 30, &out);
		hl_rbe_stats(r, &st);
		printf("  jitter %d ms (+%d ms at the sender): %llu groups, "
		       "%llu overuses, %llu "
		       "REMBs\n",
		       j * 20, j * 10, (unsigned long long)st.groups,
		       (unsigned long long)st.overuses,
		       (unsigned long long)out.rembs);
		HT_ASSERT(st.groups > 800);
		HT_EQ_INT(st.overuses, 0);
		HT_EQ_INT(out.rembs, 0);
		HT_EQ_INT(st.estimate_kbps, 0);
		hl_rbe_free(r);
	}
	return 0;
}

/*
 * 1500 kbit/s into 1000 with a deep queue (no drops, the delay grows):
 * the gradient shows it within two seconds, and the estimate is 0.85 x
 * what arrives (the link's rate).
 */
static int test_rbe_growing_queue(void)
{
	struct link l = {.kbps = 1000, .queue_us = 5000000};
	struct run out = {.send_kbps = 1500};
	struct hl_rbe *r;
	struct hl_rbe_stats st;

	HT_OK(hl_rbe_new(&r));
	run_model(r, &l, 3, &out);
	hl_rbe_stats(r, &st);
	printf("  first REMB after %.0f ms, %.0f kbit/s; %llu overuses\n",
	       out.first_remb_us / 1000.0, out.last_remb_kbps,
	       (unsigned long long)st.overuses);
	HT_ASSERT(out.rembs > 0);
	HT_ASSERT(out.first_remb_us < 2000000);
	HT_ASSERT(out.last_remb_kbps > 700 && out.last_remb_kbps < 950);
	HT_EQ_INT(l.drops, 0);
	hl_rbe_free(r);
	return 0;
}

/*
 * A sender that follows the REMBs, through 800 kbit/s and a 200 ms
 * drop-tail queue: the queue stays short and the link stays used.
 */
static int test_rbe_closed_loop(void)
{
	struct link l = {.kbps = 800, .queue_us = 200000, .jitter_us = 2000};
	struct run out = {.send_kbps = 1500, .obey_remb = true};
	struct hl_rbe *r;
	struct hl_rbe_stats st;
	double delay, kbps;

	HT_OK(hl_rbe_new(&r));
	run_model(r, &l, 30, &out);
	hl_rbe_stats(r, &st);
	delay = out.delay_sum_ms / (double)HL_MAX(out.delay_n, 1);
	kbps = (double)out.bytes_late * 8 / 15 / 1000;
	printf("  last 15 s: queueing %.1f ms on average, %.0f kbit/s "
	       "through; %llu REMBs, estimate %u kbit/s, %llu drops\n",
	       delay, kbps, (unsigned long long)out.rembs, st.estimate_kbps,
	       (unsigned long long)l.drops);
	HT_ASSERT(delay < 60);
	HT_ASSERT(kbps > 0.6 * 800);
	HT_ASSERT(st.estimate_kbps > 400 && st.estimate_kbps < 1000);
	hl_rbe_free(r);
	return 0;
}

/*
 * A queue full from the start (the sender far above a 600 kbit/s link
 * with a 100 ms queue): the delay soon stops growing, so the gradient
 * sees little; the level rule must act.
 */
static int test_rbe_standing_queue(void)
{
	struct link l = {.kbps = 600, .queue_us = 100000};
	struct run out = {.send_kbps = 1500};
	struct hl_rbe *r;
	struct hl_rbe_stats st;

	HT_OK(hl_rbe_new(&r));
	run_model(r, &l, 2, &out);
	hl_rbe_stats(r, &st);
	printf("  first REMB after %.0f ms, %.0f kbit/s; standing %llu\n",
	       out.first_remb_us / 1000.0, out.last_remb_kbps,
	       (unsigned long long)st.standing);
	HT_ASSERT(st.standing > 0);
	HT_ASSERT(out.rembs > 0 && out.first_remb_us < 1000000);
	HT_ASSERT(out.last_remb_kbps < 600);
	hl_rbe_free(r);
	return 0;
}

/*
 * Stalls on a clear path: the receiver held up 300 ms (the frames then
 * arrive at once: one group, §5.2), and after the first 10 s the sender
 * held up 300 ms (its frames arrive late, then catch up): no REMB.
 */
static int test_rbe_stalls(void)
{
	struct hl_rbe *r;
	struct hl_rbe_stats st;
	uint64_t t0 = 1000000, bps;
	int rembs = 0;

	HT_OK(hl_rbe_new(&r));
	for (uint64_t f = 0; f < 900; f++) {
		uint64_t cap = t0 + f * FRAME, arr = cap + PROP;

		/* receiver stall at 3 s: everything from 3.0 to 3.3 s is
		 * read at 3.3 s, 1 ms apart */
		if (cap >= t0 + 3000000 && cap < t0 + 3300000)
			arr = t0 + 3300000 + PROP + (f % 10) * 1000;
		/* sender stall at 20 s: frames captured from 20.0 to 20.3 s
		 * leave at 20.3 s, then 15 ms apart (the pacer's catch-up) */
		if (cap >= t0 + 20000000 && cap < t0 + 20300000)
			arr = t0 + 20300000 + PROP +
			      (cap - t0 - 20000000) / FRAME * 15000;
		for (int p = 0; p < 5; p++) {
			hl_rbe_on_packet(r, (uint32_t)(f * 3000), PKT, true,
					 arr + (uint64_t)p * 100, 2 * PROP);
			if (hl_rbe_poll_remb(r, arr + (uint64_t)p * 100, &bps))
				rembs++;
		}
	}
	hl_rbe_stats(r, &st);
	printf("  %llu groups, %llu overuses, %d REMBs\n",
	       (unsigned long long)st.groups, (unsigned long long)st.overuses,
	       rembs);
	HT_ASSERT(st.groups >= 800); /* the estimator kept measuring */
	HT_EQ_INT(rembs, 0);
	HT_EQ_INT(st.overuses, 0);
	hl_rbe_free(r);
	return 0;
}

/*
 * Congestion that ends: the estimate comes, then once nothing congests
 * for 10 s the REMBs stop (the sender's cap lapses).
 */
static int test_rbe_withdraws(void)
{
	struct link l = {.kbps = 1000, .queue_us = 5000000};
	struct run out = {.send_kbps = 1500};
	struct hl_rbe *r;
	struct hl_rbe_stats st;
	uint64_t before;

	HT_OK(hl_rbe_new(&r));
	run_model(r, &l, 3, &out);
	HT_ASSERT(out.rembs > 0);
	/* the link gets fast and the sender slows: a clear path */
	before = out.rembs;
	l.kbps = 0;
	l.free_at = 0;
	out.send_kbps = 500;
	run_model_from(r, &l, 30, &out, 5000000);
	hl_rbe_stats(r, &st);
	printf("  REMBs: %llu while congested, %llu after; estimate %u\n",
	       (unsigned long long)before,
	       (unsigned long long)(out.rembs - before), st.estimate_kbps);
	/* one about every 0.5 s for the 10 s after the last overuse */
	HT_ASSERT(out.rembs - before >= 15 && out.rembs - before <= 30);
	HT_EQ_INT(st.estimate_kbps, 0);
	/* and when the video stops altogether, the REMBs stop too */
	{
		struct hl_rbe *q;
		uint64_t bps, t = 8000000;
		int late = 0;

		/* the queue built over 3 s drains until about 5.5 s:
		 * the last overuse; 10 s later the REMBs stop */
		HT_OK(hl_rbe_new(&q));
		l = (struct link){.kbps = 1000, .queue_us = 5000000};
		out = (struct run){.send_kbps = 1500};
		run_model(q, &l, 3, &out);
		HT_ASSERT(out.rembs > 0);
		for (; t < 30000000; t += 100000)
			if (hl_rbe_poll_remb(q, t, &bps) && t > 16000000)
				late++;
		HT_EQ_INT(late, 0);
		hl_rbe_free(q);
	}
	hl_rbe_free(r);
	return 0;
}

/* Nonsense times and timestamps: no crash, a finite estimate. */
static int test_rbe_odd_input(void)
{
	struct hl_rbe *r;
	struct hl_rbe_stats st;
	uint32_t s = 3;
	uint64_t t = 5000000, bps;

	HT_OK(hl_rbe_new(&r));
	for (int i = 0; i < 20000; i++) {
		uint32_t ts = lcg(&s) << 8;

		switch (i % 5) {
		case 0:
			t += lcg(&s) % 100000;
			break;
		case 1:
			t += (i % 1000) == 1 ? 5000000 : 0; /* a long gap */
			break;
		default:
			t += lcg(&s) % 3000;
		}
		hl_rbe_on_packet(r, ts, lcg(&s) % 1500, i % 7 != 0, t,
				 lcg(&s) % 2000000);
		if (hl_rbe_poll_remb(r, t, &bps))
			HT_ASSERT(bps >= 30000 && bps < 100000000000ull);
	}
	hl_rbe_stats(r, &st);
	HT_ASSERT(isfinite(st.threshold_ms));
	HT_ASSERT(st.threshold_ms >= 6 && st.threshold_ms <= 600);
	HT_EQ_INT(st.packets, 20000);
	hl_rbe_free(r);
	return 0;
}

static int test_rbe_oom(void)
{
	struct hl_rbe *r = NULL;
	int err = hl_rbe_new(&r);

	if (err == HL_ENOMEM)
		return HT_OOM_OK;
	HT_OK(err);
	hl_rbe_free(r);
	return 0;
}

/*
 * The sender: a REMB caps the target; a rising RTT alone (the peer's
 * reports queued on a congested way back) or loss without queueing does
 * not lower it; heavy loss with queueing does, unless the peer's REMBs
 * (its delay-based answer to the same congestion) are coming.
 */
static int test_cc_rules(void)
{
	struct hl_cc_config cfg = {
		.min_kbps = 100, .start_kbps = 1500, .max_kbps = 1500};
	struct hl_cc *cc;
	uint64_t t = 1000000;

	HT_OK(hl_cc_new(&cc, &cfg));
	hl_cc_on_report(cc, 0, true, 20000, t);
	for (int i = 0; i < 10; i++)
		hl_cc_on_report(cc, 0, true, 300000, t += 500000);
	HT_EQ_INT(hl_cc_target_kbps(cc), 1500);
	for (int i = 0; i < 10; i++)
		hl_cc_on_report(cc, 0.2, true, 20000, t += 500000);
	HT_EQ_INT(hl_cc_target_kbps(cc), 1500);
	hl_cc_on_remb(cc, 700000, t);
	HT_EQ_INT(hl_cc_target_kbps(cc), 700);
	hl_cc_on_report(cc, 0.2, true, 200000, t += 500000);
	HT_EQ_INT(hl_cc_target_kbps(cc), 700);
	hl_cc_on_report(cc, 0.2, true, 200000, t += 1000000);
	HT_ASSERT(hl_cc_target_kbps(cc) < 700);
	/* a REMB of nothing holds us at the minimum, not at no limit */
	hl_cc_on_remb(cc, 0, t);
	HT_EQ_INT(hl_cc_target_kbps(cc), 100);
	/* REMBs that stop no longer hold: the rate climbs back */
	for (int i = 0; i < 50; i++)
		hl_cc_on_report(cc, 0, true, 20000, t += 500000);
	HT_EQ_INT(hl_cc_target_kbps(cc), 1500);
	/* a REMB far above what we send answers nothing: the loss rule
	 * acts (and the REMB does not lift us above the maximum) */
	hl_cc_on_remb(cc, 5000000, t);
	HT_EQ_INT(hl_cc_target_kbps(cc), 1500);
	hl_cc_on_report(cc, 0.2, true, 200000, t += 500000);
	HT_ASSERT(hl_cc_target_kbps(cc) < 1500);
	hl_cc_free(cc);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_rbe_clear_path),  HT_TEST(test_rbe_growing_queue),
	HT_TEST(test_rbe_closed_loop), HT_TEST(test_rbe_standing_queue),
	HT_TEST(test_rbe_stalls),      HT_TEST(test_rbe_withdraws),
	HT_TEST(test_rbe_odd_input),   HT_TEST_OOM(test_rbe_oom),
	HT_TEST(test_cc_rules),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
