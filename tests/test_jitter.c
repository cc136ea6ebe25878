/*
 * test_jitter.c - video frame buffer, NACK tracker, audio jitter buffer.
 */
#include "harness.h"
#include "hotline/jitter.h"

/* A fake VP8 frame payload: key frames carry the start code. */
static void fake_frame(uint8_t *buf, size_t len, bool key, uint8_t fill)
{
	memset(buf, fill, len);
	buf[0] = key ? 0x10 : 0x11;
	if (key && len >= 10) {
		buf[3] = 0x9d;
		buf[4] = 0x01;
		buf[5] = 0x2a;
	}
}

/* Insert packets [from, to) of frame pid whose packets are seq0.. */
static int put_frame(struct hl_vbuf *b, uint64_t seq0, int npkt, uint16_t pid,
		     bool key, uint64_t now, int from, int to)
{
	uint8_t frame[300];

	fake_frame(frame, sizeof(frame), key, (uint8_t)pid);
	for (int i = from; i < to; i++) {
		struct hl_vbuf_packet p = {
			.seq = seq0 + (uint64_t)i,
			.ts = 3000u * pid,
			.marker = i == npkt - 1,
			.frame_start = i == 0,
			.picture_id = pid,
			.payload = frame + i * 100,
			.len = 100,
		};
		int err = hl_vbuf_insert(b, &p, now);

		if (err)
			return err;
	}
	return 0;
}

/* Pop every completed frame and accept it as decrypted unchanged. */
static int accept_all(struct hl_vbuf *b)
{
	struct hl_vbuf_frame f;
	int n = 0;

	while (hl_vbuf_pop_complete(b, &f) == 0) {
		uint8_t copy[1000];

		if (f.len > sizeof(copy))
			return -1;
		memcpy(copy, f.data, f.len);
		if (hl_vbuf_accept(b, &f, copy, f.len))
			return -1;
		n++;
	}
	return n;
}

static int test_vbuf_in_order(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_frame f;
	bool nk;

	HT_OK(hl_vbuf_new(&b));
	for (int k = 0; k < 5; k++) {
		HT_OK(put_frame(b, 100 + 3 * k, 3, (uint16_t)(7 + k), k == 0,
				1000 * k, 0, 3));
		HT_EQ_INT(accept_all(b), 1);
		HT_EQ_INT(hl_vbuf_next_decodable(b, 1000 * k, 100000, &f, &nk),
			  0);
		HT_EQ_INT(f.len, 300);
		HT_ASSERT(f.keyframe == (k == 0));
		HT_EQ_INT(f.data[50], (uint8_t)(7 + k));
		hl_vbuf_decoded(b, f.pid, true);
		HT_EQ_INT(hl_vbuf_next_decodable(b, 1000 * k, 100000, &f, &nk),
			  HL_EAGAIN);
		HT_ASSERT(!nk);
	}
	hl_vbuf_free(b);
	return 0;
}

static int test_vbuf_waits_for_retransmission(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_frame f;
	struct hl_vbuf_stats st;
	bool nk;

	HT_OK(hl_vbuf_new(&b));
	HT_OK(put_frame(b, 0, 3, 1, true, 0, 0, 3));
	accept_all(b);
	HT_OK(hl_vbuf_next_decodable(b, 0, 100000, &f, &nk));
	hl_vbuf_decoded(b, f.pid, true);
	/* Frame 2 misses its middle packet; frame 3 is whole. */
	HT_OK(put_frame(b, 3, 3, 2, false, 1000, 0, 1));
	HT_OK(put_frame(b, 3, 3, 2, false, 1000, 2, 3));
	HT_OK(put_frame(b, 6, 3, 3, false, 2000, 0, 3));
	HT_EQ_INT(accept_all(b), 1);
	HT_EQ_INT(hl_vbuf_next_decodable(b, 50000, 100000, &f, &nk), HL_EAGAIN);
	HT_ASSERT(!nk);
	HT_EQ_INT(hl_vbuf_next_deadline(b, 100000), 2000 + 100000);
	/* The retransmission arrives: 2 then 3 decode in order. */
	HT_OK(put_frame(b, 3, 3, 2, false, 60000, 1, 2));
	HT_EQ_INT(accept_all(b), 1);
	HT_OK(hl_vbuf_next_decodable(b, 60000, 100000, &f, &nk));
	HT_EQ_INT(f.first_seq, 3);
	hl_vbuf_decoded(b, f.pid, true);
	HT_OK(hl_vbuf_next_decodable(b, 60000, 100000, &f, &nk));
	HT_EQ_INT(f.first_seq, 6);
	hl_vbuf_decoded(b, f.pid, true);
	/* A late duplicate of an old packet is refused. */
	HT_EQ_INT(put_frame(b, 3, 3, 2, false, 70000, 1, 2), HL_EREPLAY);
	hl_vbuf_stats(b, &st);
	HT_EQ_INT(st.frames_complete, 3);
	HT_EQ_INT(st.too_old, 1);
	hl_vbuf_free(b);
	return 0;
}

static int test_vbuf_gives_up_and_needs_key(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_frame f;
	struct hl_vbuf_stats st;
	bool nk;

	HT_OK(hl_vbuf_new(&b));
	HT_OK(put_frame(b, 0, 3, 1, true, 0, 0, 3));
	accept_all(b);
	HT_OK(hl_vbuf_next_decodable(b, 0, 100000, &f, &nk));
	hl_vbuf_decoded(b, f.pid, true);
	/* Frame 2 lost entirely; 3 and 4 arrive. */
	HT_OK(put_frame(b, 6, 3, 3, false, 1000, 0, 3));
	HT_OK(put_frame(b, 9, 3, 4, false, 2000, 0, 3));
	accept_all(b);
	HT_EQ_INT(hl_vbuf_next_decodable(b, 100999, 100000, &f, &nk),
		  HL_EAGAIN);
	HT_ASSERT(!nk);
	HT_EQ_INT(hl_vbuf_next_decodable(b, 101000, 100000, &f, &nk),
		  HL_EAGAIN);
	HT_ASSERT(nk);
	/* A key frame (pid 5) arrives: it decodes; 3 and 4 are dropped. */
	HT_OK(put_frame(b, 12, 3, 5, true, 150000, 0, 3));
	accept_all(b);
	HT_OK(hl_vbuf_next_decodable(b, 150000, 100000, &f, &nk));
	HT_ASSERT(f.keyframe);
	HT_EQ_INT(f.first_seq, 12);
	hl_vbuf_decoded(b, f.pid, true);
	hl_vbuf_stats(b, &st);
	HT_EQ_INT(st.gave_up, 1);
	HT_EQ_INT(st.frames_dropped, 2);
	HT_EQ_INT(hl_vbuf_oldest_needed_seq(b), 15);
	hl_vbuf_free(b);
	return 0;
}

static int test_vbuf_reject_then_rebuild(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_frame f;
	bool nk;

	HT_OK(hl_vbuf_new(&b));
	HT_OK(put_frame(b, 0, 3, 1, true, 0, 0, 3));
	HT_OK(hl_vbuf_pop_complete(b, &f));
	hl_vbuf_reject(b, &f);
	HT_EQ_INT(hl_vbuf_pop_complete(b, &f), HL_EAGAIN);
	/* Retransmitted packets rebuild the frame. */
	HT_OK(put_frame(b, 0, 3, 1, true, 1000, 0, 3));
	HT_EQ_INT(accept_all(b), 1);
	HT_OK(hl_vbuf_next_decodable(b, 1000, 100000, &f, &nk));
	HT_ASSERT(f.keyframe);
	hl_vbuf_decoded(b, f.pid, true);
	hl_vbuf_free(b);
	return 0;
}

static int test_vbuf_duplicates_and_limits(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_packet p = {.seq = 5, .len = 1501};
	uint8_t big[1501] = {0};
	struct hl_vbuf_stats st;

	HT_OK(hl_vbuf_new(&b));
	p.payload = big;
	HT_EQ_INT(hl_vbuf_insert(b, &p, 0), HL_ETOOBIG);
	p.len = 10;
	HT_OK(hl_vbuf_insert(b, &p, 0));
	HT_EQ_INT(hl_vbuf_insert(b, &p, 0), HL_EREPLAY);
	/* A packet HL_VBUF_SLOTS later evicts it; the old one is refused. */
	p.seq = 5 + HL_VBUF_SLOTS;
	HT_OK(hl_vbuf_insert(b, &p, 0));
	p.seq = 5;
	HT_EQ_INT(hl_vbuf_insert(b, &p, 0), HL_EREPLAY);
	hl_vbuf_stats(b, &st);
	HT_EQ_INT(st.duplicates, 1);
	HT_EQ_INT(st.evicted, 1);
	hl_vbuf_free(b);
	return 0;
}

static int test_vbuf_oom(void)
{
	struct hl_vbuf *b;
	struct hl_vbuf_frame f;

	HT_OK(hl_vbuf_new(&b));
	{
		int err = put_frame(b, 0, 3, 1, true, 0, 0, 3);

		if (err == HL_ENOMEM) {
			hl_vbuf_free(b);
			return HT_OOM_OK;
		}
		HT_ASSERT(err == 0);
	}
	HT_OK(hl_vbuf_pop_complete(b, &f));
	hl_vbuf_free(b);
	return 0;
}

static int test_nack_gaps_and_retries(void)
{
	struct hl_nack *n;
	uint16_t seqs[64];

	HT_OK(hl_nack_new(&n));
	HT_ASSERT(!hl_nack_on_packet(n, 100, 0));
	HT_ASSERT(!hl_nack_on_packet(n, 104, 0));
	HT_EQ_INT(hl_nack_pending(n), 3);
	HT_EQ_INT(hl_nack_collect(n, 0, 40000, seqs, 64), 3);
	HT_EQ_INT(seqs[0], 101);
	HT_EQ_INT(seqs[2], 103);
	/* Not again before 5/4 RTT. */
	HT_EQ_INT(hl_nack_collect(n, 49999, 40000, seqs, 64), 0);
	HT_EQ_INT(hl_nack_next_time(n, 40000), 50000);
	HT_ASSERT(!hl_nack_on_packet(n, 102, 10000));
	HT_EQ_INT(hl_nack_collect(n, 50000, 40000, seqs, 64), 2);
	/* Retries run out. */
	for (int i = 0; i < 20; i++)
		hl_nack_collect(n, 100000 + 50000 * (uint64_t)i, 40000, seqs,
				64);
	HT_EQ_INT(hl_nack_pending(n), 0);
	/* Re-request a range; forget old ones. */
	hl_nack_request_range(n, 90, 95, 2000000);
	HT_EQ_INT(hl_nack_pending(n), 6);
	hl_nack_forget_before(n, 93);
	HT_EQ_INT(hl_nack_pending(n), 3);
	/* A gap beyond the list's room overflows: cleared, key frame
	 * advised. */
	HT_ASSERT(hl_nack_on_packet(n, 2500, 2000000));
	HT_EQ_INT(hl_nack_pending(n), 0);
	/* One far jump (an altered sequence number) is not believed... */
	HT_ASSERT(!hl_nack_on_packet(n, 100000, 2000000));
	HT_ASSERT(!hl_nack_on_packet(n, 2502, 2000000));
	HT_EQ_INT(hl_nack_pending(n), 1); /* 2501 only */
	/* ...but a jump the next packet confirms is (a new stream). */
	HT_ASSERT(!hl_nack_on_packet(n, 200000, 2000000));
	HT_ASSERT(hl_nack_on_packet(n, 200001, 2000000));
	HT_EQ_INT(hl_nack_pending(n), 0);
	hl_nack_free(n);
	return 0;
}

static int test_nack_wraps_wire_seq(void)
{
	struct hl_nack *n;
	uint16_t seqs[8];

	HT_OK(hl_nack_new(&n));
	hl_nack_on_packet(n, 65534, 0);
	hl_nack_on_packet(n, 65537, 0);
	HT_EQ_INT(hl_nack_collect(n, 0, 0, seqs, 8), 2);
	HT_EQ_INT(seqs[0], 65535);
	HT_EQ_INT(seqs[1], 0);
	hl_nack_free(n);
	return 0;
}

/* Feed one frame per 20 ms with the given per-frame delays (us); pull
 * every 20 ms; count actions. */
struct ab_run {
	int decode, fec, conceal, silence;
	uint64_t first_play;
};

static int run_abuf(struct hl_abuf *b, int frames, const bool *lost,
		    uint32_t base_delay, uint32_t jitter, struct ab_run *r)
{
	uint8_t pkt[10] = {1, 2, 3};
	struct hl_prng p;
	uint64_t arrive[600];

	if (frames > 600)
		return -1;
	hl_prng_seed(&p, 1);
	for (int k = 0; k < frames; k++)
		arrive[k] = 20000u * (uint64_t)k + base_delay +
			    1000 * hl_prng_below(&p, jitter / 1000 + 1);
	memset(r, 0, sizeof(*r));
	for (uint64_t t = 0; t < 20000u * (uint64_t)(frames + 10); t += 1000) {
		for (int k = 0; k < frames; k++)
			if (arrive[k] == t && !(lost && lost[k]) &&
			    hl_abuf_insert(b, 960u * (uint64_t)k, pkt,
					   sizeof(pkt), t) == HL_ETOOBIG)
				return -1;
		if (t % 20000 == 10000) {
			struct hl_abuf_out o;

			hl_abuf_pull(b, t, &o);
			if (o.action != HL_ABUF_SILENCE &&
			    o.ts >= 960u * (uint64_t)frames)
				continue; /* after the end of the stream */
			if (o.action == HL_ABUF_DECODE)
				r->decode++;
			else if (o.action == HL_ABUF_FEC)
				r->fec++;
			else if (o.action == HL_ABUF_CONCEAL)
				r->conceal++;
			else
				r->silence++;
			if (o.action != HL_ABUF_SILENCE && !r->first_play)
				r->first_play = t;
		}
	}
	return 0;
}

static int test_abuf_steady(void)
{
	struct hl_abuf *b;
	struct ab_run r;
	struct hl_abuf_stats st;

	HT_OK(hl_abuf_new(&b, 960, 48000));
	HT_OK(run_abuf(b, 200, NULL, 25000, 0, &r));
	HT_EQ_INT(r.decode, 200);
	HT_EQ_INT(r.conceal, 0);
	/* Starts within a frame + safety of the first arrival. */
	HT_ASSERT(r.first_play >= 30000 && r.first_play <= 50000);
	hl_abuf_stats(b, &st);
	HT_EQ_INT(st.late, 0);
	hl_abuf_free(b);
	return 0;
}

/* hl_abuf_ready and hl_abuf_lag: what join's early pulls and its pull
 * clock's steering rely on. */
static int test_abuf_ready(void)
{
	struct hl_abuf *b;
	struct hl_abuf_out o;
	uint8_t pkt[10] = {1, 2, 3};

	HT_OK(hl_abuf_new(&b, 960, 48000));
	HT_ASSERT(!hl_abuf_ready(b, 0)); /* a pull would play silence */
	HT_EQ_INT(hl_abuf_lag(b, 0), 0);
	/* Arrived 1 ms after its time: the target offset is 1 + 5 ms. */
	HT_OK(hl_abuf_insert(b, 0, pkt, sizeof(pkt), 1000));
	HT_ASSERT(!hl_abuf_ready(b, 5000)); /* too soon to start */
	HT_ASSERT(hl_abuf_ready(b, 7000));  /* a pull then would start */
	HT_OK(hl_abuf_insert(b, 960, pkt, sizeof(pkt), 21000));
	hl_abuf_pull(b, 30000, &o);
	HT_EQ_INT(o.action, HL_ABUF_DECODE);
	HT_EQ_INT(o.ts, 0);
	HT_ASSERT(hl_abuf_ready(b, 50000)); /* 960 is there */
	/* The next frame (20 ms) is aimed at 26 ms: a pull at 50 ms comes
	 * 24 ms late, one at 21 ms 5 ms early. */
	HT_EQ_INT(hl_abuf_lag(b, 50000), 24000);
	HT_EQ_INT(hl_abuf_lag(b, 21000), -5000);
	hl_abuf_pull(b, 50000, &o);
	HT_EQ_INT(o.action, HL_ABUF_DECODE);
	HT_ASSERT(!hl_abuf_ready(b, 70000)); /* 1920 is not */
	HT_OK(hl_abuf_insert(b, 2880, pkt, sizeof(pkt), 61000));
	HT_ASSERT(!hl_abuf_ready(b, 70000)); /* a later frame does not count */
	HT_OK(hl_abuf_insert(b, 1920, pkt, sizeof(pkt), 62000));
	HT_ASSERT(hl_abuf_ready(b, 70000));
	hl_abuf_free(b);
	return 0;
}

static int test_abuf_fec_and_conceal(void)
{
	struct hl_abuf *b;
	struct ab_run r;
	bool lost[200] = {false};

	lost[50] = true;	      /* single loss: FEC */
	lost[100] = lost[101] = true; /* double: FEC for 101, conceal 100 */
	HT_OK(hl_abuf_new(&b, 960, 48000));
	hl_abuf_set_loss(b, 0.02);
	HT_OK(run_abuf(b, 200, lost, 25000, 0, &r));
	HT_EQ_INT(r.decode, 197);
	HT_EQ_INT(r.fec, 2);
	HT_EQ_INT(r.conceal, 1);
	hl_abuf_free(b);
	return 0;
}

static int test_abuf_adapts_to_jitter(void)
{
	struct hl_abuf *b;
	struct ab_run r;
	struct hl_abuf_stats st;

	HT_OK(hl_abuf_new(&b, 960, 48000));
	HT_OK(run_abuf(b, 500, NULL, 20000, 30000, &r));
	hl_abuf_stats(b, &st);
	/* Some early frames are late while the estimate settles, then the
	 * target covers the 30 ms jitter. */
	HT_ASSERT(r.decode >= 490);
	HT_ASSERT(st.late <= 10);
	HT_ASSERT(st.target_delay_us >= 28000 && st.target_delay_us < 60000);
	/* Steady jitter is covered by the target: nothing to skip. */
	HT_EQ_INT((long)st.accelerated, 0);
	hl_abuf_free(b);
	return 0;
}

static int test_abuf_rejects_bad(void)
{
	struct hl_abuf *b;
	uint8_t big[HL_ABUF_PACKET_MAX + 1] = {0};
	struct hl_abuf_out o;

	HT_EQ_INT(hl_abuf_new(&b, 0, 48000), HL_EINVAL);
	HT_OK(hl_abuf_new(&b, 960, 48000));
	HT_EQ_INT(hl_abuf_insert(b, 0, big, sizeof(big), 0), HL_ETOOBIG);
	HT_OK(hl_abuf_insert(b, 0, big, 10, 0));
	HT_EQ_INT(hl_abuf_insert(b, 0, big, 10, 0), HL_EREPLAY);
	hl_abuf_pull(b, 0, &o);
	HT_EQ_INT(o.action, HL_ABUF_SILENCE);
	hl_abuf_free(b);
	return 0;
}

/*
 * A 300 ms stall (the sender's machine paused, or the network): frames
 * 100-114 arrive together with frame 115.  The buffer grows through the
 * gap (concealing); its target covers the late arrivals while they are in
 * its 5 s window.  Then it must come back to the delay it had before: at
 * a frame a second that took 15 s, and kept a demo call 300 ms behind for
 * the rest of its 10 s.
 */
static int test_abuf_recovers_after_stall(void)
{
	struct hl_abuf *b;
	struct hl_abuf_stats st;
	uint8_t pkt[40] = {0};
	uint64_t burst = 20000u * 115 + 25000, back = 0;
	int64_t before = -1, worst = 0;

	HT_OK(hl_abuf_new(&b, 960, 48000));
	for (uint64_t t = 0; t < 20000u * 800; t += 1000) {
		for (int k = 0; k < 800; k++) {
			uint64_t at = 20000u * (uint64_t)k + 25000;

			if (k >= 100 && k < 115)
				at = burst;
			if (at == t)
				HT_OK(hl_abuf_insert(b, 960u * (uint64_t)k, pkt,
						     sizeof(pkt), t));
		}
		if (t % 20000 == 10000) {
			struct hl_abuf_out o;
			int64_t over;

			hl_abuf_pull(b, t, &o);
			hl_abuf_stats(b, &st);
			if (t < 20000u * 100)
				before = st.delay_us;
			if (t < burst)
				continue;
			over = (int64_t)st.delay_us - before;
			worst = HL_MAX(worst, over);
			if (!back && t > burst + 100000 && over <= 20000)
				back = t;
			if (back) /* and it stays there */
				HT_ASSERT(over <= 40000);
		}
	}
	hl_abuf_stats(b, &st);
	printf("# a 300 ms stall: the delay grew by %lld ms and was back "
	       "within 20 ms of the %lld ms before after %.2f s; %llu "
	       "frames skipped\n",
	       (long long)worst / 1000, (long long)before / 1000,
	       back ? (double)(back - burst) / 1e6 : -1.0,
	       (unsigned long long)st.accelerated);
	HT_ASSERT(worst >= 250000); /* the stall did grow the buffer */
	/* the 5 s the late arrivals count, and about a second to shrink */
	HT_ASSERT(back && back - burst <= 7000000);
	hl_abuf_free(b);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_vbuf_in_order),
	HT_TEST(test_vbuf_waits_for_retransmission),
	HT_TEST(test_vbuf_gives_up_and_needs_key),
	HT_TEST(test_vbuf_reject_then_rebuild),
	HT_TEST(test_vbuf_duplicates_and_limits),
	HT_TEST_OOM(test_vbuf_oom),
	HT_TEST(test_nack_gaps_and_retries),
	HT_TEST(test_nack_wraps_wire_seq),
	HT_TEST(test_abuf_steady),
	HT_TEST(test_abuf_ready),
	HT_TEST(test_abuf_fec_and_conceal),
	HT_TEST(test_abuf_adapts_to_jitter),
	HT_TEST(test_abuf_rejects_bad),
	HT_TEST(test_abuf_recovers_after_stall),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
