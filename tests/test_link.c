/*
 * test_link.c - the network emulator link (src/sim/link.c).
 *
 * Each impairment is measured on its own over many packets against its
 * target, then combined: the same seed must give the same deliveries,
 * turning one impairment on must not move the random decisions of the
 * others, and a failed send must leave the link as it was.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "hotline/sim.h"

#define MS 1000ull
#define S  1000000ull

/* Payload of packet idx: its index, then a pattern. */
static void fill(uint8_t *buf, uint32_t idx, size_t len)
{
	uint8_t head[4];

	hl_put_be32(head, idx);
	for (size_t k = 0; k < len; k++)
		buf[k] = k < 4 ? head[k] : (uint8_t)(idx * 31 + k);
}

static size_t len_of(uint32_t idx)
{
	return 4 + idx % 1200;
}

static int popcount8(uint8_t x)
{
	int n = 0;

	for (; x; x &= (uint8_t)(x - 1))
		n++;
	return n;
}

static int test_no_impairment(void)
{
	struct hl_link_params p = {.delay_us = 30000};
	struct hl_link *l;
	uint8_t tx[HL_LINK_MAX_PACKET], rx[HL_LINK_MAX_PACKET];
	struct hl_link_stats st;
	uint32_t next = 0;
	size_t n;

	HT_OK(hl_link_new(&l, &p, 1));
	HT_ASSERT(hl_link_next_time(l) == UINT64_MAX);
	for (uint32_t i = 0; i < 2000; i++) {
		uint64_t now = 1 * S + i * MS;

		fill(tx, i, len_of(i));
		HT_OK(hl_link_send(l, tx, len_of(i), now));
		/* Exactly `delay` after sending, in order. */
		while (hl_link_next_time(l) <= now) {
			HT_EQ_INT(hl_link_next_time(l),
				  1 * S + next * MS + 30000);
			HT_OK(hl_link_recv(l, now, rx, sizeof(rx), &n));
			fill(tx, next, len_of(next));
			HT_EQ_INT(n, len_of(next));
			HT_EQ_MEM(rx, tx, n);
			next++;
		}
		HT_EQ_INT(hl_link_recv(l, now, rx, sizeof(rx), &n), HL_EAGAIN);
	}
	HT_EQ_INT(next, 2000 - 30);
	while (hl_link_recv(l, UINT64_MAX, rx, sizeof(rx), &n) == 0)
		next++;
	HT_EQ_INT(next, 2000);
	hl_link_stats(l, &st);
	HT_EQ_INT(st.sent, 2000);
	HT_EQ_INT(st.delivered, 2000);
	HT_EQ_INT(st.lost + st.queue_drops + st.duplicated + st.reordered +
			  st.tampered,
		  0);
	HT_EQ_INT(st.bytes_sent, st.bytes_delivered);
	hl_link_free(l);
	return 0;
}

/*
 * Send n packets back to back with no delay; lost[i] says whether packet i
 * came out.  Returns the number lost, or -1 on error.
 */
static long run_loss(const struct hl_link_params *p, uint64_t seed, uint32_t n,
		     uint8_t *lost)
{
	struct hl_link *l;
	struct hl_link_stats st;
	uint8_t buf[16];
	long nlost = 0;
	size_t len;

	if (hl_link_new(&l, p, seed))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		fill(buf, i, sizeof(buf));
		if (hl_link_send(l, buf, sizeof(buf), i * MS)) {
			hl_link_free(l);
			return -1;
		}
		lost[i] = hl_link_recv(l, i * MS, buf, sizeof(buf), &len) != 0;
		nlost += lost[i];
	}
	hl_link_stats(l, &st);
	hl_link_free(l);
	return (uint64_t)nlost == st.lost ? nlost : -1;
}

/* Mean length of runs of consecutive lost packets. */
static double mean_burst(const uint8_t *lost, uint32_t n)
{
	long runs = 0, total = 0;

	for (uint32_t i = 0; i < n; i++) {
		total += lost[i];
		if (lost[i] && (i == 0 || !lost[i - 1]))
			runs++;
	}
	return runs ? (double)total / (double)runs : 0.0;
}

#define LOSS_N 100000u

static int test_loss_random(void)
{
	static uint8_t lost[LOSS_N];
	const double target[] = {0.01, 0.05, 0.2};
	struct hl_link_params p = {0};
	long nl;

	for (size_t k = 0; k < HL_ARRAY_SIZE(target); k++) {
		p.loss = target[k];
		nl = run_loss(&p, 42 + k, LOSS_N, lost);
		HT_ASSERT(nl >= 0);
		printf("  random loss %.3f: measured %.4f, mean run %.3f\n",
		       target[k], (double)nl / LOSS_N,
		       mean_burst(lost, LOSS_N));
		HT_ASSERT(fabs((double)nl / LOSS_N - target[k]) <= 0.005);
		/* Independent losses: runs of mean 1 / (1 - loss). */
		HT_ASSERT(fabs(mean_burst(lost, LOSS_N) -
			       1.0 / (1.0 - target[k])) < 0.05);
	}
	p.loss = 0;
	HT_EQ_INT(run_loss(&p, 1, 1000, lost), 0);
	p.loss = 1;
	HT_EQ_INT(run_loss(&p, 1, 1000, lost), 1000);
	p.burst = 5;
	HT_EQ_INT(run_loss(&p, 1, 1000, lost), 1000);
	return 0;
}

/*
 * Burst losses are correlated, so the measured rate spreads more than for
 * independent losses: its standard deviation over n packets is about
 * sqrt(loss (1 - loss) (1 + a) / (1 - a) / n) with a = 1 - P(G->B) -
 * P(B->G), 0.0020 for loss 0.05, burst 5 and n = 100000.  The +-0.005
 * bound is thus about 2.5 sd; the seeds are fixed, so the test is
 * deterministic (over 200 seeds the mean was within 0.0002 of target).
 */
static int test_loss_burst(void)
{
	static uint8_t lost[LOSS_N];
	const double loss[] = {0.05, 0.1, 0.02, 0.3};
	const double burst[] = {5, 5, 2, 3};
	struct hl_link_params p = {0};
	long nl;

	for (size_t k = 0; k < HL_ARRAY_SIZE(loss); k++) {
		double m, mb;

		p.loss = loss[k];
		p.burst = burst[k];
		nl = run_loss(&p, 7 + k, LOSS_N, lost);
		HT_ASSERT(nl >= 0);
		m = (double)nl / LOSS_N;
		mb = mean_burst(lost, LOSS_N);
		printf("  burst loss %.3f/%.1f: measured %.4f, mean burst "
		       "%.3f\n",
		       loss[k], burst[k], m, mb);
		HT_ASSERT(fabs(m - loss[k]) <= 0.005);
		HT_ASSERT(fabs(mb - burst[k]) <= 0.1 * burst[k]);
	}
	/* burst <= 1 is the random model, the same draws. */
	{
		static uint8_t a[10000], b[10000];

		p.loss = 0.1;
		p.burst = 1;
		HT_ASSERT(run_loss(&p, 3, 10000, a) >= 0);
		p.burst = 0;
		HT_ASSERT(run_loss(&p, 3, 10000, b) >= 0);
		HT_EQ_MEM(a, b, sizeof(a));
	}
	return 0;
}

/*
 * Packets `gap` apart through delay + jitter: FIFO order, one-way delay in
 * [delay - jitter (>= 0), delay + jitter]; *dmin and *dmax report the
 * extremes seen.
 */
static int jitter_case(uint32_t delay, uint32_t jitter, uint64_t gap,
		       uint64_t *dmin, uint64_t *dmax)
{
	struct hl_link_params p = {.delay_us = delay, .jitter_us = jitter};
	uint64_t lo = delay > jitter ? delay - jitter : 0, hi = delay + jitter;
	uint64_t last = 0, now = 0;
	struct hl_link *l;
	uint8_t buf[64];
	uint32_t next = 0, sent = 0;
	size_t n;

	*dmin = UINT64_MAX;
	*dmax = 0;
	HT_OK(hl_link_new(&l, &p, 5));
	for (; sent < 20000 || hl_link_next_time(l) != UINT64_MAX; now += gap) {
		if (sent < 20000) {
			fill(buf, sent, sizeof(buf));
			HT_OK(hl_link_send(l, buf, sizeof(buf), now));
			sent++;
		}
		while (hl_link_next_time(l) <= now) {
			uint64_t t = hl_link_next_time(l), d;

			HT_OK(hl_link_recv(l, now, buf, sizeof(buf), &n));
			HT_EQ_INT(hl_get_be32(buf), next);
			d = t - (uint64_t)next * gap;
			HT_ASSERT(d >= lo && d <= hi);
			HT_ASSERT(t >= last);
			last = t;
			*dmin = HL_MIN(*dmin, d);
			*dmax = HL_MAX(*dmax, d);
			next++;
		}
	}
	HT_EQ_INT(next, 20000);
	printf("  delay %u jitter %u, every %llu us: one-way %llu..%llu us\n",
	       delay, jitter, (unsigned long long)gap,
	       (unsigned long long)*dmin, (unsigned long long)*dmax);
	hl_link_free(l);
	return 0;
}

static int test_jitter_fifo(void)
{
	uint64_t dmin, dmax;

	/* Dense: FIFO holds packets behind slow ones, never reorders. */
	if (jitter_case(50000, 20000, 1000, &dmin, &dmax))
		return -1;
	HT_ASSERT(dmax >= 69000);
	if (jitter_case(5000, 20000, 1000, &dmin, &dmax))
		return -1;
	/* Sparse: the whole range [delay - jitter, delay + jitter] shows. */
	if (jitter_case(50000, 20000, 100000, &dmin, &dmax))
		return -1;
	HT_ASSERT(dmin <= 30100 && dmax >= 69900);
	if (jitter_case(5000, 20000, 100000, &dmin, &dmax))
		return -1;
	HT_ASSERT(dmin == 0 && dmax >= 24900);
	return 0;
}

static int test_reorder(void)
{
	struct hl_link_params p = {.delay_us = 20000, .reorder = 0.05};
	const uint32_t N = 40000;
	struct hl_link_stats st;
	struct hl_link *l;
	uint8_t buf[64];
	long late = 0, max_seen = -1, got = 0;
	size_t n;

	HT_OK(hl_link_new(&l, &p, 11));
	/* 500 us apart: a hold-back of >= 1 ms is always overtaken. */
	for (uint32_t i = 0; i < N || hl_link_next_time(l) != UINT64_MAX; i++) {
		uint64_t now = (uint64_t)i * 500;

		if (i < N) {
			fill(buf, i, sizeof(buf));
			HT_OK(hl_link_send(l, buf, sizeof(buf), now));
		}
		while (hl_link_recv(l, now, buf, sizeof(buf), &n) == 0) {
			long idx = (long)hl_get_be32(buf);

			if (idx < max_seen)
				late++;
			max_seen = HL_MAX(max_seen, idx);
			got++;
		}
	}
	hl_link_stats(l, &st);
	printf("  reorder 0.05: held back %.4f, arrived late %.4f\n",
	       (double)st.reordered / N, (double)late / N);
	HT_EQ_INT(got, N);
	HT_ASSERT(fabs((double)st.reordered / N - 0.05) < 0.005);
	HT_ASSERT(fabs((double)late / N - 0.05) < 0.005);
	HT_ASSERT(late <= (long)st.reordered);
	hl_link_free(l);
	return 0;
}

static int test_duplicate(void)
{
	struct hl_link_params p = {.delay_us = 10000, .duplicate = 0.1};
	const uint32_t N = 20000;
	static uint8_t count[20000];
	uint8_t tx[HL_LINK_MAX_PACKET], rx[HL_LINK_MAX_PACKET];
	struct hl_link_stats st;
	struct hl_link *l;
	long twice = 0;
	size_t n;

	memset(count, 0, sizeof(count));
	HT_OK(hl_link_new(&l, &p, 13));
	for (uint32_t i = 0; i < N; i++) {
		fill(tx, i, len_of(i));
		HT_OK(hl_link_send(l, tx, len_of(i), (uint64_t)i * MS));
		while (hl_link_recv(l, (uint64_t)i * MS, rx, sizeof(rx), &n) ==
		       0) {
			uint32_t idx = hl_get_be32(rx);

			HT_ASSERT(idx < N);
			fill(tx, idx, len_of(idx));
			HT_EQ_INT(n, len_of(idx));
			HT_EQ_MEM(rx, tx, n);
			count[idx]++;
		}
	}
	while (hl_link_recv(l, UINT64_MAX, rx, sizeof(rx), &n) == 0)
		count[hl_get_be32(rx)]++;
	for (uint32_t i = 0; i < N; i++) {
		HT_ASSERT(count[i] == 1 || count[i] == 2);
		twice += count[i] == 2;
	}
	hl_link_stats(l, &st);
	printf("  duplicate 0.1: measured %.4f\n", (double)st.duplicated / N);
	HT_EQ_INT(st.duplicated, twice);
	HT_EQ_INT(st.delivered, N + st.duplicated);
	HT_ASSERT(fabs((double)st.duplicated / N - 0.1) < 0.01);
	hl_link_free(l);
	return 0;
}

static int test_tamper(void)
{
	struct hl_link_params p = {.delay_us = 1000, .tamper = 0.2};
	const uint32_t N = 20000;
	uint8_t tx[HL_LINK_MAX_PACKET], rx[HL_LINK_MAX_PACKET];
	struct hl_link_stats st;
	struct hl_link *l;
	long changed = 0, flips[4] = {0};
	uint32_t next = 0;
	size_t n;

	HT_OK(hl_link_new(&l, &p, 17));
	for (uint32_t i = 0; i <= N; i++) {
		if (i < N) {
			fill(tx, i, len_of(i));
			HT_OK(hl_link_send(l, tx, len_of(i), (uint64_t)i * MS));
		}
		while (hl_link_recv(l, i < N ? (uint64_t)i * MS : UINT64_MAX,
				    rx, sizeof(rx), &n) == 0) {
			int bits = 0;

			/* FIFO and lossless: packet `next`, same length. */
			fill(tx, next, len_of(next));
			HT_EQ_INT(n, len_of(next));
			for (size_t k = 0; k < n; k++)
				bits += popcount8((uint8_t)(rx[k] ^ tx[k]));
			HT_ASSERT(bits <= 3);
			flips[bits]++;
			changed += bits > 0;
			next++;
		}
	}
	HT_EQ_INT(next, N);
	hl_link_stats(l, &st);
	printf("  tamper 0.2: measured %.4f (1/2/3 bits: %ld %ld %ld)\n",
	       (double)changed / N, flips[1], flips[2], flips[3]);
	HT_EQ_INT(st.tampered, changed);
	HT_ASSERT(fabs((double)changed / N - 0.2) < 0.01);
	for (int b = 1; b <= 3; b++)
		HT_ASSERT(labs(flips[b] - changed / 3) < changed / 10);
	hl_link_free(l);
	return 0;
}

/*
 * Offer kbps_in for 10 s into a 1000 kbit/s link with 1250-byte packets;
 * check throughput, drops and the queueing-delay bound.
 */
static int rate_case(uint32_t kbps_in, uint32_t queue_bytes)
{
	struct hl_link_params p = {.delay_us = 10000,
				   .rate_kbps = 1000,
				   .queue_bytes = queue_bytes};
	const size_t len = 1250;
	uint64_t gap = (uint64_t)len * 8 * 1000 / kbps_in; /* us */
	uint64_t limit = queue_bytes ? queue_bytes : 16000;
	uint64_t bound = limit * 8 * 1000 / 1000; /* us at 1000 kbit/s */
	uint64_t qmax = 0, bytes10 = 0, first = 0, last = 0, t;
	uint8_t buf[HL_LINK_MAX_PACKET];
	struct hl_link_stats st;
	struct hl_link *l;
	uint32_t sent = 0;
	size_t n;

	HT_OK(hl_link_new(&l, &p, 19));
	for (uint64_t now = 0;
	     now < 10 * S || hl_link_next_time(l) != UINT64_MAX; now += 100) {
		if (now < 10 * S && now == sent * gap) {
			fill(buf, sent, len);
			HT_OK(hl_link_send(l, buf, len, now));
			sent++;
		}
		while ((t = hl_link_next_time(l)) <= now) {
			uint64_t q;

			HT_OK(hl_link_recv(l, now, buf, sizeof(buf), &n));
			/* Queueing delay: time beyond delay + own service. */
			q = t - (uint64_t)hl_get_be32(buf) * gap - 10000;
			HT_ASSERT(q <= bound);
			HT_ASSERT(q >= 10000); /* 1250 B at 1 Mbit/s */
			qmax = HL_MAX(qmax, q);
			if (!first)
				first = t;
			last = t;
			if (t <= 10 * S + 10000)
				bytes10 += n;
		}
	}
	hl_link_stats(l, &st);
	printf("  %u kbit/s into 1000 (queue %llu B): delivered %llu of %llu, "
	       "%.1f kbit/s in the first 10 s, max queueing %.1f ms\n",
	       kbps_in, (unsigned long long)limit,
	       (unsigned long long)st.delivered, (unsigned long long)st.sent,
	       (double)bytes10 * 8 / 10 / 1000, (double)qmax / 1000);
	HT_EQ_INT(st.sent, sent);
	HT_EQ_INT(st.delivered + st.queue_drops, sent);
	if (kbps_in <= 1000) {
		HT_EQ_INT(st.queue_drops, 0);
		HT_EQ_INT(qmax, 10000);
	} else {
		/* All of the link and no more: 1000 kbit/s. */
		HT_ASSERT(fabs((double)bytes10 * 8 / 10 - 1e6) < 0.01e6);
		HT_ASSERT(fabs((double)st.bytes_delivered * 8 /
				       (double)(last - first + 10000) -
			       1.0) < 0.001);
		HT_ASSERT(st.queue_drops >=
			  sent - sent * 1000 / kbps_in - limit / len - 1);
		HT_ASSERT(qmax >= bound - 10000);
	}
	hl_link_free(l);
	return 0;
}

static int test_rate_cap(void)
{
	if (rate_case(2000, 0) || rate_case(2000, 50000) || rate_case(500, 0) ||
	    rate_case(1000, 0))
		return -1;
	return 0;
}

/* Sends with every impairment on, from one seed, into two links. */
static const struct hl_link_params all_on = {
	.loss = 0.05,
	.burst = 3,
	.delay_us = 40000,
	.jitter_us = 15000,
	.reorder = 0.02,
	.duplicate = 0.02,
	.rate_kbps = 2000,
	.tamper = 0.05,
};

static int step_both(struct hl_link *a, struct hl_link *b, uint32_t i,
		     uint64_t now, long *diffs)
{
	uint8_t ba[HL_LINK_MAX_PACKET], bb[HL_LINK_MAX_PACKET];
	size_t na, nb;
	int ra, rb;

	fill(ba, i, len_of(i));
	HT_OK(hl_link_send(a, ba, len_of(i), now));
	HT_OK(hl_link_send(b, ba, len_of(i), now));
	for (;;) {
		uint64_t ta = hl_link_next_time(a), tb = hl_link_next_time(b);

		ra = hl_link_recv(a, now, ba, sizeof(ba), &na);
		rb = hl_link_recv(b, now, bb, sizeof(bb), &nb);
		if (ra != rb || (ra == 0 && (ta != tb || na != nb ||
					     memcmp(ba, bb, na) != 0)))
			(*diffs)++;
		if (ra != 0 && rb != 0)
			break;
	}
	return 0;
}

static int test_same_seed_same_run(void)
{
	struct hl_link *a, *b, *c;
	struct hl_link_stats sa, sb;
	long same = 0, other = 0;

	HT_OK(hl_link_new(&a, &all_on, 99));
	HT_OK(hl_link_new(&b, &all_on, 99));
	HT_OK(hl_link_new(&c, &all_on, 100));
	for (uint32_t i = 0; i < 20000; i++) {
		uint64_t now = (uint64_t)i * 2500;

		if (step_both(a, b, i, now, &same))
			return -1;
	}
	hl_link_stats(a, &sa);
	hl_link_stats(b, &sb);
	HT_EQ_INT(same, 0);
	HT_EQ_MEM(&sa, &sb, sizeof(sa));
	HT_ASSERT(sa.lost && sa.queue_drops && sa.duplicated && sa.reordered &&
		  sa.tampered);
	hl_link_free(a);
	hl_link_free(b);

	HT_OK(hl_link_new(&a, &all_on, 99));
	for (uint32_t i = 0; i < 2000; i++)
		if (step_both(a, c, i, (uint64_t)i * 2500, &other))
			return -1;
	printf("  seed 99 vs 99: %ld differences; 99 vs 100: %ld\n", same,
	       other);
	HT_ASSERT(other > 100);
	hl_link_free(a);
	hl_link_free(c);
	return 0;
}

/*
 * Two links with one seed, b with an extra impairment: the same packets
 * must be lost, queue-dropped, delayed and reordered.
 */
static int test_tamper_keeps_fates(void)
{
	struct hl_link_params pa = all_on, pb = all_on;
	struct hl_link *a, *b;
	struct hl_link_stats sa, sb;
	uint8_t ba[HL_LINK_MAX_PACKET], bb[HL_LINK_MAX_PACKET];
	long bytes_differ = 0;
	size_t na, nb;

	pa.tamper = 0;
	pb.tamper = 0.5;
	HT_OK(hl_link_new(&a, &pa, 5));
	HT_OK(hl_link_new(&b, &pb, 5));
	for (uint32_t i = 0; i <= 20000; i++) {
		uint64_t now = i < 20000 ? (uint64_t)i * 2500 : UINT64_MAX;

		if (i < 20000) {
			fill(ba, i, len_of(i));
			HT_OK(hl_link_send(a, ba, len_of(i), now));
			HT_OK(hl_link_send(b, ba, len_of(i), now));
		}
		for (;;) {
			uint64_t ta = hl_link_next_time(a);
			int ra, rb;

			HT_EQ_INT(ta, hl_link_next_time(b));
			ra = hl_link_recv(a, now, ba, sizeof(ba), &na);
			rb = hl_link_recv(b, now, bb, sizeof(bb), &nb);
			HT_EQ_INT(ra, rb);
			if (ra)
				break;
			HT_EQ_INT(na, nb);
			bytes_differ += memcmp(ba, bb, na) != 0;
		}
	}
	hl_link_stats(a, &sa);
	hl_link_stats(b, &sb);
	HT_EQ_INT(sa.lost, sb.lost);
	HT_EQ_INT(sa.queue_drops, sb.queue_drops);
	HT_EQ_INT(sa.reordered, sb.reordered);
	HT_EQ_INT(sa.duplicated, sb.duplicated);
	HT_EQ_INT(sa.delivered, sb.delivered);
	HT_EQ_INT(sa.tampered, 0);
	HT_ASSERT(sb.tampered > 1000);
	HT_ASSERT(bytes_differ > 1000);
	hl_link_free(a);
	hl_link_free(b);
	return 0;
}

/* Turning duplicates on keeps the same packets lost. */
static int test_duplicate_keeps_loss(void)
{
	struct hl_link_params pa = {.loss = 0.1, .burst = 4, .delay_us = 100};
	struct hl_link_params pb = pa;
	static uint8_t seen_a[20000], seen_b[20000];
	struct hl_link *a, *b;
	uint8_t buf[64];
	size_t n;

	pb.duplicate = 0.3;
	memset(seen_a, 0, sizeof(seen_a));
	memset(seen_b, 0, sizeof(seen_b));
	HT_OK(hl_link_new(&a, &pa, 8));
	HT_OK(hl_link_new(&b, &pb, 8));
	for (uint32_t i = 0; i < 20000; i++) {
		fill(buf, i, sizeof(buf));
		HT_OK(hl_link_send(a, buf, sizeof(buf), (uint64_t)i * MS));
		HT_OK(hl_link_send(b, buf, sizeof(buf), (uint64_t)i * MS));
	}
	while (hl_link_recv(a, UINT64_MAX, buf, sizeof(buf), &n) == 0)
		seen_a[hl_get_be32(buf)] = 1;
	while (hl_link_recv(b, UINT64_MAX, buf, sizeof(buf), &n) == 0)
		seen_b[hl_get_be32(buf)] = 1;
	HT_EQ_MEM(seen_a, seen_b, sizeof(seen_a));
	hl_link_free(a);
	hl_link_free(b);
	return 0;
}

/*
 * A send that fails for lack of memory (first, second or third allocation
 * of the send) leaves the link as it was: retried, it gives the same
 * result as on a link where it never failed.
 */
static int test_failed_send_changes_nothing(void)
{
	struct hl_link_params p = all_on;
	struct hl_link *a, *b;
	long diffs = 0, failed = 0;

	p.duplicate = 0.3; /* a second copy: a second allocation */
	HT_OK(hl_link_new(&a, &p, 21));
	HT_OK(hl_link_new(&b, &p, 21));
	for (uint32_t i = 0; i < 5000; i++) {
		uint64_t now = (uint64_t)i * 2500;
		uint8_t buf[HL_LINK_MAX_PACKET];

		if (i % 7 == 3) {
			int err;

			fill(buf, i, len_of(i));
			hl_mem_fail_after(i % 3);
			err = hl_link_send(b, buf, len_of(i), now);
			hl_mem_fail_after(-1);
			/* Fewer allocations were needed: it went through. */
			if (err == 0) {
				HT_OK(hl_link_send(a, buf, len_of(i), now));
				continue;
			}
			HT_EQ_INT(err, HL_ENOMEM);
			failed++;
		}
		if (step_both(a, b, i, now, &diffs))
			return -1;
	}
	HT_EQ_INT(diffs, 0);
	HT_ASSERT(failed > 100);
	hl_link_free(a);
	hl_link_free(b);
	return 0;
}

static int test_params_check(void)
{
	static const struct {
		struct hl_link_params p;
		const char *what;
	} bad[] = {
		{{.loss = -0.1}, "loss"},
		{{.loss = 1.01}, "loss"},
		{{.loss = NAN}, "loss"},
		{{.burst = -1}, "burst"},
		{{.burst = NAN}, "burst"},
		{{.burst = INFINITY}, "burst"},
		{{.delay_us = 10000001}, "delay_us"},
		{{.jitter_us = 10000001}, "jitter_us"},
		{{.reorder = 2}, "reorder"},
		{{.reorder = -0.5}, "reorder"},
		{{.duplicate = 1.5}, "duplicate"},
		{{.duplicate = NAN}, "duplicate"},
		{{.tamper = -1e-9}, "tamper"},
		{{.tamper = INFINITY}, "tamper"},
		/* burst 2 reaches at most 2/3 loss. */
		{{.loss = 0.7, .burst = 2}, "loss"},
	};
	static const struct hl_link_params good[] = {
		{0},
		{.loss = 1, .burst = 2},
		{.loss = 0.6, .burst = 2},
		{.loss = 0.9, .burst = 0.5},
		{.delay_us = 10000000, .jitter_us = 10000000},
		{.reorder = 1, .duplicate = 1, .tamper = 1},
		{.rate_kbps = 1, .queue_bytes = 1},
	};
	const char *what;
	struct hl_link *l;

	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		what = NULL;
		HT_EQ_INT(hl_link_params_check(&bad[i].p, &what), HL_EINVAL);
		HT_ASSERT(what && strcmp(what, bad[i].what) == 0);
		HT_EQ_INT(hl_link_new(&l, &bad[i].p, 1), HL_EINVAL);
	}
	for (size_t i = 0; i < HL_ARRAY_SIZE(good); i++) {
		what = "untouched";
		HT_EQ_INT(hl_link_params_check(&good[i], &what), 0);
		HT_ASSERT(strcmp(what, "untouched") == 0);
	}
	HT_EQ_INT(hl_link_params_check(NULL, &what), HL_EINVAL);
	HT_EQ_INT(hl_link_new(NULL, &good[0], 1), HL_EINVAL);
	HT_EQ_INT(hl_link_new(&l, NULL, 1), HL_EINVAL);
	return 0;
}

static int test_limits(void)
{
	struct hl_link_params p = {.delay_us = 1000};
	uint8_t big[HL_LINK_MAX_PACKET + 1], buf[HL_LINK_MAX_PACKET];
	struct hl_link_stats st;
	struct hl_link *l;
	size_t n = 12345;

	memset(big, 0xab, sizeof(big));
	HT_OK(hl_link_new(&l, &p, 1));
	HT_EQ_INT(hl_link_send(l, big, sizeof(big), 0), HL_ETOOBIG);
	HT_EQ_INT(hl_link_send(l, NULL, 1, 0), HL_EINVAL);
	hl_link_stats(l, &st);
	HT_EQ_INT(st.sent, 0);
	HT_OK(hl_link_send(l, big, HL_LINK_MAX_PACKET, 0));
	HT_OK(hl_link_send(l, NULL, 0, 0)); /* empty datagram */
	HT_EQ_INT(hl_link_recv(l, 999, buf, sizeof(buf), &n), HL_EAGAIN);
	/* Too small a buffer: the packet stays. */
	HT_EQ_INT(hl_link_recv(l, 1000, buf, 100, &n), HL_ETOOBIG);
	HT_EQ_INT(n, 12345);
	HT_EQ_INT(hl_link_next_time(l), 1000);
	HT_OK(hl_link_recv(l, 1000, buf, sizeof(buf), &n));
	HT_EQ_INT(n, HL_LINK_MAX_PACKET);
	HT_EQ_MEM(buf, big, n);
	HT_OK(hl_link_recv(l, 1000, NULL, 0, &n));
	HT_EQ_INT(n, 0);
	HT_EQ_INT(hl_link_next_time(l), UINT64_MAX);

	/* Time never runs backwards: a late `now` counts as the latest. */
	HT_OK(hl_link_send(l, buf, 10, 5000));
	HT_OK(hl_link_send(l, buf, 10, 4000));
	HT_EQ_INT(hl_link_next_time(l), 6000);
	HT_OK(hl_link_recv(l, 6000, buf, sizeof(buf), &n));
	HT_EQ_INT(hl_link_next_time(l), 6000);
	HT_OK(hl_link_recv(l, 6000, buf, sizeof(buf), &n));

	/* Draining far ahead does not move the sending clock. */
	HT_OK(hl_link_send(l, buf, 10, 7000));
	HT_OK(hl_link_recv(l, UINT64_MAX, buf, sizeof(buf), &n));
	HT_OK(hl_link_send(l, buf, 10, 8000));
	HT_EQ_INT(hl_link_next_time(l), 9000);
	HT_OK(hl_link_recv(l, 9000, buf, sizeof(buf), &n));

	/* Times saturate instead of wrapping. */
	HT_OK(hl_link_send(l, buf, 10, UINT64_MAX - 10));
	HT_EQ_INT(hl_link_next_time(l), UINT64_MAX);
	HT_OK(hl_link_recv(l, UINT64_MAX, buf, sizeof(buf), &n));
	hl_link_stats(l, &st);
	HT_EQ_INT(st.sent, 7);
	HT_EQ_INT(st.delivered, 7);
	hl_link_free(l);
	return 0;
}

static int test_in_flight_cap(void)
{
	struct hl_link_params p = {.delay_us = 1000000, .duplicate = 0.5};
	struct hl_link_stats st;
	struct hl_link *l;
	uint8_t buf[8] = {0};
	size_t n;
	long got = 0;

	HT_OK(hl_link_new(&l, &p, 1));
	for (uint32_t i = 0; i < HL_LINK_MAX_QUEUED + 100; i++)
		HT_OK(hl_link_send(l, buf, sizeof(buf), i));
	hl_link_stats(l, &st);
	HT_ASSERT(st.queue_drops > 100);
	HT_EQ_INT(st.sent - st.queue_drops + st.duplicated, HL_LINK_MAX_QUEUED);
	while (hl_link_recv(l, UINT64_MAX, buf, sizeof(buf), &n) == 0)
		got++;
	HT_EQ_INT(got, HL_LINK_MAX_QUEUED);
	hl_link_free(l);
	return 0;
}

/* Freeing a link with packets in flight frees them (the runner checks). */
static int test_free_in_flight(void)
{
	struct hl_link *l;
	uint8_t buf[HL_LINK_MAX_PACKET];

	HT_OK(hl_link_new(&l, &all_on, 3));
	for (uint32_t i = 0; i < 3000; i++) {
		fill(buf, i, len_of(i));
		HT_OK(hl_link_send(l, buf, len_of(i), (uint64_t)i * 1000));
	}
	HT_ASSERT(hl_link_next_time(l) != UINT64_MAX);
	hl_link_free(l);
	hl_link_free(NULL);
	return 0;
}

/* Under allocation failure: new, send, recv and free end cleanly. */
static int test_oom(void)
{
	struct hl_link_params p = all_on;
	struct hl_link *l = NULL;
	uint8_t buf[HL_LINK_MAX_PACKET];
	size_t n;
	int err;

	p.duplicate = 0.5;
	p.loss = 0;
	err = hl_link_new(&l, &p, 4);
	if (err)
		return err == HL_ENOMEM && hl_mem_failed() ? HT_OOM_OK : -1;
	for (uint32_t i = 0; i < 80; i++) {
		fill(buf, i, 100);
		err = hl_link_send(l, buf, 100, (uint64_t)i * 100);
		if (err)
			break;
		if (i % 10 == 9) {
			err = hl_link_recv(l, (uint64_t)i * 100, buf,
					   sizeof(buf), &n);
			if (err == HL_EAGAIN)
				err = 0;
			if (err)
				break;
		}
	}
	hl_link_free(l);
	if (err == HL_ENOMEM && hl_mem_failed())
		return HT_OOM_OK;
	return err;
}

static const struct hl_test tests[] = {
	HT_TEST(test_no_impairment),
	HT_TEST(test_loss_random),
	HT_TEST(test_loss_burst),
	HT_TEST(test_jitter_fifo),
	HT_TEST(test_reorder),
	HT_TEST(test_duplicate),
	HT_TEST(test_tamper),
	HT_TEST(test_rate_cap),
	HT_TEST(test_same_seed_same_run),
	HT_TEST(test_tamper_keeps_fates),
	HT_TEST(test_duplicate_keeps_loss),
	HT_TEST(test_failed_send_changes_nothing),
	HT_TEST(test_params_check),
	HT_TEST(test_limits),
	HT_TEST(test_in_flight_cap),
	HT_TEST(test_free_in_flight),
	HT_TEST_OOM(test_oom),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
