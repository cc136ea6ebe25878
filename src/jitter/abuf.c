/*
 * abuf.c - adaptive audio jitter buffer (see include/hotline/jitter.h).
 *
 * Model.  Frame ts is due for playout at the pull where play_ts == ts.  Its
 * "relative delay" rel = arrival - ts/clock is the network delay plus an
 * unknown constant (the two clocks' offset).  The playout offset
 * O = now - play_ts/clock at a pull is the same kind of quantity: a packet
 * is in time when rel <= O.  The buffer keeps the last WINDOW values of
 * rel and aims at
 *
 *     O* = min(rel) + p95(rel - min(rel)) + SAFETY [+ one frame]
 *
 * where the extra frame, added while packets are being lost, lets the next
 * packet arrive before the current one is due so that its in-band FEC can
 * rebuild a lost frame.  The offset grows by "expanding" (a concealed frame
 * without advancing; only when the frame due is missing anyway) and
 * shrinks by skipping one frame after it stayed a frame above the target
 * for a second, or every fourth frame while it is more than two frames
 * above (after a stall).  Playout starts when the first packet has waited
 * O*.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/jitter.h"

#define WINDOW		   250 /* 5 s of 20 ms frames */
#define SAFETY_US	   5000
#define SHRINK_AFTER_US	   1000000
#define SHRINK_FAST_FRAMES 3  /* far over: skip one frame in four */
#define FAR_OVER_FRAMES	   2  /* frames above the target: shrink fast */
#define FAR_RESET	   25 /* consecutive far-off packets before reset */
#define UNDERRUN_FRAMES	   3  /* concealed frames with nothing buffered */

struct aslot {
	bool used;
	uint64_t ts;
	size_t len;
	uint8_t data[HL_ABUF_PACKET_MAX];
};

struct hl_abuf {
	uint32_t spf;  /* samples per frame */
	uint32_t rate; /* clock rate */
	struct aslot slots[HL_ABUF_SLOTS];
	bool started;
	uint64_t play_ts;
	int64_t rel[WINDOW];
	size_t nrel, relpos;
	double loss;
	bool over;
	uint64_t over_since;
	unsigned far_count;
	unsigned dry;	/* consecutive concealed frames with nothing ahead */
	int64_t target; /* the offset aimed at, as of the last pull */
	uint8_t out[HL_ABUF_PACKET_MAX];
	struct hl_abuf_stats st;
};

int hl_abuf_new(struct hl_abuf **out, uint32_t samples_per_frame,
		uint32_t clock_rate)
{
	struct hl_abuf *b;

	if (!samples_per_frame || !clock_rate)
		return HL_EINVAL;
	b = hl_calloc(1, sizeof(*b));
	if (!b)
		return HL_ENOMEM;
	b->spf = samples_per_frame;
	b->rate = clock_rate;
	*out = b;
	return 0;
}

void hl_abuf_free(struct hl_abuf *b)
{
	hl_free(b);
}

static int64_t ts_us(const struct hl_abuf *b, uint64_t ts)
{
	return (int64_t)(ts / b->rate * 1000000u +
			 (ts % b->rate) * 1000000u / b->rate);
}

static struct aslot *slot_of(struct hl_abuf *b, uint64_t ts)
{
	return &b->slots[(ts / b->spf) % HL_ABUF_SLOTS];
}

static struct aslot *find(struct hl_abuf *b, uint64_t ts)
{
	struct aslot *s = slot_of(b, ts);

	return s->used && s->ts == ts ? s : NULL;
}

bool hl_abuf_has(const struct hl_abuf *b, uint64_t ts)
{
	const struct aslot *s = &b->slots[(ts / b->spf) % HL_ABUF_SLOTS];

	return s->used && s->ts == ts;
}

bool hl_abuf_is_late(const struct hl_abuf *b, uint64_t ts)
{
	return b->started && ts < b->play_ts;
}

static uint64_t lowest_ts(const struct hl_abuf *b, bool *found);
static int64_t target_offset(const struct hl_abuf *b, int64_t *min);

bool hl_abuf_ready(const struct hl_abuf *b, uint64_t now)
{
	int64_t min;
	uint64_t low;
	bool found;

	if (b->started)
		return hl_abuf_has(b, b->play_ts);
	if (!b->nrel)
		return false;
	/* Not started: ready when a pull at now would start playout. */
	low = lowest_ts(b, &found);
	return found && (int64_t)now - ts_us(b, low) >= target_offset(b, &min);
}

int64_t hl_abuf_lag(const struct hl_abuf *b, uint64_t now)
{
	if (!b->started)
		return 0;
	return (int64_t)now - ts_us(b, b->play_ts) - b->target;
}

static bool any_buffered(const struct hl_abuf *b)
{
	for (size_t i = 0; i < HL_ABUF_SLOTS; i++)
		if (b->slots[i].used)
			return true;
	return false;
}

static void reset(struct hl_abuf *b)
{
	for (size_t i = 0; i < HL_ABUF_SLOTS; i++)
		b->slots[i].used = false;
	b->started = false;
	b->nrel = b->relpos = 0;
	b->over = false;
	b->far_count = 0;
	b->dry = 0;
}

int hl_abuf_insert(struct hl_abuf *b, uint64_t ts, const uint8_t *data,
		   size_t len, uint64_t now)
{
	struct aslot *s;

	if (len > HL_ABUF_PACKET_MAX)
		return HL_ETOOBIG;
	b->st.packets++;
	if (b->started) {
		if (ts < b->play_ts) {
			b->st.late++;
			return HL_EREPLAY;
		}
		if (ts - b->play_ts >= (uint64_t)b->spf * HL_ABUF_SLOTS) {
			/* Far ahead: a new stream or garbage.  Restart if it
			 * persists, else drop. */
			if (++b->far_count < FAR_RESET)
				return HL_EREPLAY;
			reset(b);
		}
	}
	b->far_count = 0;
	s = slot_of(b, ts);
	if (s->used && s->ts == ts) {
		b->st.duplicates++;
		return HL_EREPLAY;
	}
	s->used = true;
	s->ts = ts;
	s->len = len;
	memcpy(s->data, data, len);
	b->rel[b->relpos] = (int64_t)now - ts_us(b, ts);
	b->relpos = (b->relpos + 1) % WINDOW;
	if (b->nrel < WINDOW)
		b->nrel++;
	return 0;
}

/* The k-th smallest of v[0..n) (k < n), reordering v: Hoare's
 * selection, O(n) on average; runs every 20 ms on 250 values. */
static int64_t select_kth(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		int64_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				int64_t t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

/* O* in microseconds (same frame of reference as rel); *min = min(rel). */
static int64_t target_offset(const struct hl_abuf *b, int64_t *min)
{
	int64_t v[WINDOW];
	int64_t frame_us = ts_us(b, b->spf);
	size_t n = b->nrel, k;
	int64_t t;

	memcpy(v, b->rel, n * sizeof(v[0]));
	k = (n * 95 + 99) / 100;
	if (k)
		k--;
	*min = v[0];
	for (size_t i = 1; i < n; i++)
		*min = HL_MIN(*min, v[i]);
	t = select_kth(v, n, k) + SAFETY_US;
	if (b->loss > 0.005)
		t += frame_us;
	return t;
}

static void emit(struct hl_abuf *b, struct aslot *s, enum hl_abuf_action a,
		 struct hl_abuf_out *out)
{
	out->action = a;
	out->data = NULL;
	out->len = 0;
	if (s) {
		memcpy(b->out, s->data, s->len);
		out->data = b->out;
		out->len = s->len;
	}
}

static uint64_t lowest_ts(const struct hl_abuf *b, bool *found)
{
	uint64_t low = UINT64_MAX;

	*found = false;
	for (size_t i = 0; i < HL_ABUF_SLOTS; i++) {
		if (b->slots[i].used && b->slots[i].ts < low) {
			low = b->slots[i].ts;
			*found = true;
		}
	}
	return low;
}

void hl_abuf_pull(struct hl_abuf *b, uint64_t now, struct hl_abuf_out *out)
{
	int64_t target, offset, min, frame_us = ts_us(b, b->spf);
	struct aslot *cur, *next;

	memset(out, 0, sizeof(*out));
	if (!b->nrel) {
		out->action = HL_ABUF_SILENCE;
		return;
	}
	target = target_offset(b, &min);
	b->target = target;
	b->st.target_delay_us = (uint32_t)(target - min);
	if (!b->started) {
		bool found;
		uint64_t low = lowest_ts(b, &found);

		if (!found || (int64_t)now - ts_us(b, low) < target) {
			out->action = HL_ABUF_SILENCE;
			return;
		}
		b->started = true;
		b->play_ts = low;
	}
	offset = (int64_t)now - ts_us(b, b->play_ts);
	cur = find(b, b->play_ts);
	next = find(b, b->play_ts + b->spf);
	out->ts = b->play_ts;

	if (!cur && !next && offset + 2000 < target) {
		/* Running dry and behind the target: wait one frame. */
		out->action = HL_ABUF_CONCEAL;
		out->expanded = true;
		b->st.expanded++;
		b->st.concealed++;
		return;
	}

	/* Too much delay: drop one frame.  A frame over the target, one
	 * frame a second (each skip is audible, and slow drift needs no
	 * more); more than FAR_OVER_FRAMES over it, as after a stall, one
	 * after every SHRINK_FAST_FRAMES played, or the call would stay that
	 * far behind for as many seconds as frames. */
	if (offset > target + frame_us + 10000) {
		uint64_t wait =
			offset > target + FAR_OVER_FRAMES * frame_us
				? SHRINK_FAST_FRAMES * (uint64_t)frame_us
				: SHRINK_AFTER_US;

		if (!b->over) {
			b->over = true;
			b->over_since = now;
		} else if (now - b->over_since >= wait && cur && next) {
			cur->used = false;
			b->play_ts += b->spf;
			b->st.accelerated++;
			b->over = false;
			cur = next;
			next = find(b, b->play_ts + b->spf);
			out->ts = b->play_ts;
		}
	} else {
		b->over = false;
	}

	if (cur) {
		emit(b, cur, HL_ABUF_DECODE, out);
		cur->used = false;
		b->st.decoded++;
	} else if (next) {
		emit(b, next, HL_ABUF_FEC, out);
		b->st.fec++;
	} else {
		out->action = HL_ABUF_CONCEAL;
		b->st.concealed++;
		/* Nothing at all to play for a while: the peer stopped or
		 * the network stalled.  Go quiet and buffer anew. */
		if (!any_buffered(b) && ++b->dry >= UNDERRUN_FRAMES) {
			b->st.underruns++;
			b->started = false;
			b->dry = 0;
			b->over = false; /* the new start measures afresh */
			return;
		}
	}
	if (out->action != HL_ABUF_CONCEAL)
		b->dry = 0;
	b->play_ts += b->spf;
	b->st.delay_us = (uint32_t)HL_MAX(offset - min, 0);
}

void hl_abuf_set_loss(struct hl_abuf *b, double loss)
{
	b->loss = loss;
}

void hl_abuf_stats(const struct hl_abuf *b, struct hl_abuf_stats *st)
{
	*st = b->st;
}
