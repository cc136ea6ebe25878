/*
 * link.c - one direction of an emulated network path in virtual time.
 *
 * hl_link_send() decides the whole fate of a packet at once: lost or not
 * (Bernoulli or a Gilbert-Elliott chain), dropped by the rate-cap queue or
 * not, and if delivered, when (rate queue, delay + jitter with FIFO order,
 * optional reorder hold-back) and with which bytes (optional bit flips),
 * plus an optional duplicate.  Each copy that will be delivered is stored
 * in a binary min-heap keyed by (delivery time, sequence of scheduling),
 * and hl_link_recv() pops the heap in that order.  No clock is read: all
 * times are the `now` arguments (microseconds of virtual time).
 *
 * Determinism: every accepted send draws exactly LINK_DRAWS numbers from
 * the link's xoshiro256** generator in the fixed order of enum link_draw,
 * whether or not each decision applies (a lost packet, a packet on a link
 * without jitter, ... still consume their draws).  So the fate of packet
 * n depends only on the seed, the parameters that govern that fate and
 * the sends before it; turning tamper on does not change which packets
 * are lost.  A send that fails (bad argument, out of memory) changes
 * nothing, not even the generator state.
 *
 * The model and its parameters are described in src/sim/README.md.
 */
#include <math.h>
#include <string.h>

#include "hotline/sim.h"

#define LINK_MAX_PARAM_US 10000000u /* 10 s: limit of delay and jitter */
#define LINK_MIN_QUEUE	  16000u    /* default drop-tail floor, bytes */
#define LINK_REORDER_MIN  1000u	    /* reorder hold-back: >= 1 ms */
#define LINK_REORDER_BASE 10000u    /* ... up to 2 * jitter + 10 ms */
#define LINK_DUP_MAX_US	  2000u	    /* duplicate lags by 0..2 ms */
#define LINK_MAX_FLIPS	  3u
#define LINK_HEAP_MIN	  64u

/* The draws of one send, in the order they are taken from the generator. */
enum link_draw {
	D_LOSS,			/* Bernoulli, or Gilbert-Elliott transition */
	D_JITTER,		/* offset in [-jitter, +jitter] */
	D_REORDER,		/* is this packet held back? */
	D_REORDER_US,		/* hold-back length */
	D_DUP,			/* is a second copy made? */
	D_DUP_US,		/* lag of the second copy */
	D_TAMPER,		/* per copy (original, duplicate): tampered? */
	D_FLIPS = D_TAMPER + 2, /* per copy: 1..3 bits */
	D_POS = D_FLIPS + 2,	/* per copy: 3 bit positions */
	LINK_DRAWS = D_POS + 2 * LINK_MAX_FLIPS, /* 16 */
};

struct link_pkt {
	size_t len;
	uint8_t data[];
};

struct link_slot {
	uint64_t time; /* delivery time */
	uint64_t seq;  /* order of scheduling: breaks ties */
	struct link_pkt *pkt;
};

/* A packet in the rate-cap queue, until a send at or after its departure. */
struct link_backlog {
	uint64_t depart;
	size_t len;
};

struct hl_link {
	struct hl_link_params p;
	struct hl_prng prng;
	struct hl_link_stats st;

	uint64_t clock;	    /* latest send time: sends never run back */
	uint64_t seq;	    /* next heap sequence number */
	uint64_t last_fifo; /* delivery time of the last FIFO packet */
	bool ge_started;    /* Gilbert-Elliott chain has a state */
	bool ge_bad;	    /* ... and it is Bad */
	double ge_p;	    /* P(Good -> Bad) */
	double ge_r;	    /* P(Bad -> Good) = 1 / burst */

	/* Rate cap: server busy until free_us + free_frac / rate_kbps. */
	uint64_t queue_limit; /* drop-tail limit in bytes */
	uint64_t free_us;
	uint64_t free_frac;
	struct link_backlog *ring; /* FIFO of packets not yet departed */
	size_t ring_cap, ring_head, ring_n;
	uint64_t ring_bytes;

	struct link_slot *heap; /* min-heap of copies in flight */
	size_t heap_cap, heap_n;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Uniform integer in [0, bound) from one unit draw (fixed draw count). */
static uint64_t draw_below(double u, uint64_t bound)
{
	uint64_t v = (uint64_t)(u * (double)bound);

	return v < bound ? v : bound - 1;
}

static bool prob_ok(double x)
{
	return x >= 0.0 && x <= 1.0; /* false for NaN */
}

/*
 * Check a parameter set.  Returns 0, or HL_EINVAL with *what (if what is
 * not NULL) set to the name of the first bad field.  Probabilities must
 * lie in [0, 1]; burst must be finite and >= 0; delay and jitter at most
 * 10 s; with burst > 1 and 0 < loss < 1 the loss must be reachable by a
 * chain with that mean burst length: loss <= burst / (burst + 1).
 */
int hl_link_params_check(const struct hl_link_params *p, const char **what)
{
	const char *bad = NULL;

	if (!p)
		bad = "params";
	else if (!prob_ok(p->loss))
		bad = "loss";
	else if (!(p->burst >= 0.0) || !isfinite(p->burst))
		bad = "burst";
	else if (p->delay_us > LINK_MAX_PARAM_US)
		bad = "delay_us";
	else if (p->jitter_us > LINK_MAX_PARAM_US)
		bad = "jitter_us";
	else if (!prob_ok(p->reorder))
		bad = "reorder";
	else if (!prob_ok(p->duplicate))
		bad = "duplicate";
	else if (!prob_ok(p->tamper))
		bad = "tamper";
	else if (p->burst > 1.0 && p->loss > 0.0 && p->loss < 1.0 &&
		 p->loss > p->burst / (p->burst + 1.0))
		bad = "loss";
	if (!bad)
		return 0;
	if (what)
		*what = bad;
	return HL_EINVAL;
}

/*
 * Create a link with parameters p (copied) and generator seed.  On success
 * *out owns the link; free it with hl_link_free().  HL_EINVAL for bad
 * parameters, HL_ENOMEM.
 */
int hl_link_new(struct hl_link **out, const struct hl_link_params *p,
		uint64_t seed)
{
	struct hl_link *l;
	int err;

	if (!out)
		return HL_EINVAL;
	err = hl_link_params_check(p, NULL);
	if (err)
		return err;
	l = hl_calloc(1, sizeof(*l));
	if (!l)
		return HL_ENOMEM;
	l->p = *p;
	hl_prng_seed(&l->prng, seed);
	if (p->burst > 1.0 && p->loss > 0.0 && p->loss < 1.0) {
		l->ge_r = 1.0 / p->burst;
		l->ge_p = p->loss / (p->burst * (1.0 - p->loss));
	}
	if (p->rate_kbps) {
		/* 100 ms at the rate: rate_kbps * 1000 / 8 * 0.1 bytes. */
		uint64_t q = (uint64_t)p->rate_kbps * 25 / 2;

		l->queue_limit = p->queue_bytes ? p->queue_bytes
						: HL_MAX(q, LINK_MIN_QUEUE);
	}
	*out = l;
	return 0;
}

/* Free the link and every packet still in flight.  NULL is a no-op. */
void hl_link_free(struct hl_link *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->heap_n; i++)
		hl_free(l->heap[i].pkt);
	hl_free(l->heap);
	hl_free(l->ring);
	hl_free(l);
}

static bool slot_before(const struct link_slot *a, const struct link_slot *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Push onto the heap; the caller made room (heap_n < heap_cap). */
static void heap_push(struct hl_link *l, uint64_t time, struct link_pkt *pkt)
{
	struct link_slot s = {time, l->seq++, pkt};
	size_t i = l->heap_n++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!slot_before(&s, &l->heap[parent]))
			break;
		l->heap[i] = l->heap[parent];
		i = parent;
	}
	l->heap[i] = s;
}

/* Remove the top of a non-empty heap. */
static void heap_pop(struct hl_link *l)
{
	struct link_slot last = l->heap[--l->heap_n];
	size_t n = l->heap_n, i = 0;

	if (n == 0)
		return;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && slot_before(&l->heap[c + 1], &l->heap[c]))
			c++;
		if (!slot_before(&l->heap[c], &last))
			break;
		l->heap[i] = l->heap[c];
		i = c;
	}
	l->heap[i] = last;
}

/* Make room for `more` heap slots (bounded by HL_LINK_MAX_QUEUED). */
static int heap_reserve(struct hl_link *l, size_t more)
{
	size_t cap = l->heap_cap;
	struct link_slot *h;

	if (l->heap_n + more <= cap)
		return 0;
	if (cap == 0)
		cap = LINK_HEAP_MIN;
	while (cap < l->heap_n + more)
		cap *= 2;
	cap = HL_MIN(cap, (size_t)HL_LINK_MAX_QUEUED);
	h = hl_realloc(l->heap, cap * sizeof(*h));
	if (!h)
		return HL_ENOMEM;
	l->heap = h;
	l->heap_cap = cap;
	return 0;
}

/*
 * Count the rate-queue entries (from the head) that departed at or before
 * now, and their bytes, without removing them.
 */
static size_t ring_departed(const struct hl_link *l, uint64_t now,
			    uint64_t *bytes)
{
	size_t k = 0;

	*bytes = 0;
	while (k < l->ring_n) {
		const struct link_backlog *b =
			&l->ring[(l->ring_head + k) % l->ring_cap];

		if (b->depart > now)
			break;
		*bytes += b->len;
		k++;
	}
	return k;
}

/* Make room for one entry once `gone` entries are removed; keeps order. */
static int ring_reserve(struct hl_link *l, size_t gone)
{
	struct link_backlog *r;
	size_t cap;

	if (l->ring_n - gone < l->ring_cap)
		return 0;
	cap = l->ring_cap ? l->ring_cap * 2 : LINK_HEAP_MIN;
	r = hl_malloc(cap * sizeof(*r));
	if (!r)
		return HL_ENOMEM;
	for (size_t i = 0; i < l->ring_n; i++)
		r[i] = l->ring[(l->ring_head + i) % l->ring_cap];
	hl_free(l->ring);
	l->ring = r;
	l->ring_cap = cap;
	l->ring_head = 0;
	return 0;
}

/* The loss decision for one packet; updates *bad (the chain state). */
static bool decide_loss(const struct hl_link *l, double u, bool *started,
			bool *bad)
{
	if (l->p.loss >= 1.0)
		return true;
	if (l->p.loss <= 0.0)
		return false;
	if (l->ge_r == 0.0)
		return u < l->p.loss; /* burst <= 1: independent */
	if (!*started) {
		/* The first packet starts from the stationary distribution. */
		*started = true;
		*bad = u < l->p.loss;
	} else if (*bad) {
		*bad = !(u < l->ge_r);
	} else {
		*bad = u < l->ge_p;
	}
	return *bad;
}

/*
 * Copy a packet and flip 1..3 distinct bits if u[D_TAMPER + copy] says so.
 * Returns NULL when out of memory.
 */
static struct link_pkt *make_copy(const struct hl_link *l, const double *u,
				  int copy, const uint8_t *data, size_t len,
				  bool *tampered)
{
	struct link_pkt *c = hl_malloc(sizeof(*c) + len);
	uint64_t pos[LINK_MAX_FLIPS];
	unsigned flips;

	if (!c)
		return NULL;
	c->len = len;
	if (len)
		memcpy(c->data, data, len);
	*tampered = u[D_TAMPER + copy] < l->p.tamper && len > 0;
	if (!*tampered)
		return c;
	flips = 1 + (unsigned)draw_below(u[D_FLIPS + copy], LINK_MAX_FLIPS);
	for (unsigned k = 0; k < flips; k++) {
		uint64_t nbits = (uint64_t)len * 8;
		uint64_t b =
			draw_below(u[D_POS + copy * LINK_MAX_FLIPS + k], nbits);

		/* Keep positions distinct so that every flip shows. */
		for (bool clash = true; clash;) {
			clash = false;
			for (unsigned j = 0; j < k; j++) {
				if (pos[j] == b) {
					b = (b + 1) % nbits;
					clash = true;
				}
			}
		}
		pos[k] = b;
		c->data[b / 8] ^= (uint8_t)(1u << (b % 8));
	}
	return c;
}

/*
 * Offer a packet of len bytes (pkt is copied; the caller keeps it) at time
 * now.  0 whether the packet will be delivered, lost or dropped (see the
 * stats); HL_ETOOBIG if len > HL_LINK_MAX_PACKET, HL_EINVAL for NULL
 * arguments, HL_ENOMEM.  On error the link is unchanged (not even the
 * generator moves).  A `now` earlier than that of an earlier send counts
 * as that latest send time: sends never go back in time.  (hl_link_recv()
 * does not move this clock, so draining with now = UINT64_MAX is fine.)
 */
int hl_link_send(struct hl_link *l, const uint8_t *pkt, size_t len,
		 uint64_t now)
{
	struct hl_prng prng;
	double u[LINK_DRAWS];
	bool started, bad, lost, dup = false, reorder = false;
	bool t0 = false, t1 = false;
	struct link_pkt *c0 = NULL, *c1 = NULL;
	uint64_t depart = 0, fifo = 0, t_first = 0, t_dup = 0, gone_bytes = 0;
	uint64_t free_us = 0, free_frac = 0, d;
	size_t gone = 0;
	int64_t jit;
	int err;

	if (!l || (!pkt && len))
		return HL_EINVAL;
	if (len > HL_LINK_MAX_PACKET)
		return HL_ETOOBIG;

	/* Draw everything first, on a copy: commit only on success. */
	prng = l->prng;
	for (int i = 0; i < LINK_DRAWS; i++)
		u[i] = hl_prng_unit(&prng);
	started = l->ge_started;
	bad = l->ge_bad;
	now = HL_MAX(l->clock, now);

	/* 1. Loss (random or burst). */
	lost = decide_loss(l, u[D_LOSS], &started, &bad);
	if (lost)
		goto commit;

	/* 2. In-flight cap, then the drop-tail rate-cap queue. */
	if (l->heap_n >= HL_LINK_MAX_QUEUED)
		goto commit;
	depart = now;
	if (l->p.rate_kbps) {
		gone = ring_departed(l, now, &gone_bytes);
		if (l->ring_bytes - gone_bytes + len > l->queue_limit ||
		    l->ring_n - gone >= HL_LINK_MAX_QUEUED)
			goto commit;
		err = ring_reserve(l, gone);
		if (err)
			return err;
		free_us = l->free_us;
		free_frac = l->free_frac;
		if (free_us < now || (free_us == now && free_frac == 0)) {
			free_us = now;
			free_frac = 0;
		}
		/* Serialisation: len * 8 bits at rate_kbps * 1000 bit/s. */
		free_frac += (uint64_t)len * 8000;
		free_us = sat_add(free_us, free_frac / l->p.rate_kbps);
		free_frac %= l->p.rate_kbps;
		depart = free_frac ? sat_add(free_us, 1) : free_us;
	}

	/* 3. Delay + jitter, clamped at 0, FIFO behind earlier packets. */
	jit = (int64_t)draw_below(u[D_JITTER],
				  2 * (uint64_t)l->p.jitter_us + 1) -
	      (int64_t)l->p.jitter_us;
	d = jit < 0 && (uint64_t)-jit > l->p.delay_us
		    ? 0
		    : (uint64_t)((int64_t)l->p.delay_us + jit);
	fifo = HL_MAX(sat_add(depart, d), l->last_fifo);
	t_first = fifo;

	/* 4. Reorder: hold back by 1 ms .. 2 * jitter + 10 ms, off FIFO. */
	reorder = u[D_REORDER] < l->p.reorder;
	if (reorder) {
		uint64_t span = 2 * (uint64_t)l->p.jitter_us +
				LINK_REORDER_BASE - LINK_REORDER_MIN + 1;

		t_first = sat_add(fifo,
				  LINK_REORDER_MIN +
					  draw_below(u[D_REORDER_US], span));
	}

	/* 5. Duplicate: a second copy 0..2 ms after the first. */
	dup = u[D_DUP] < l->p.duplicate && l->heap_n + 2 <= HL_LINK_MAX_QUEUED;
	if (dup)
		t_dup = sat_add(t_first,
				draw_below(u[D_DUP_US], LINK_DUP_MAX_US + 1));

	/* 6. Tamper: each copy on its own. */
	err = heap_reserve(l, dup ? 2 : 1);
	if (err)
		return err;
	c0 = make_copy(l, u, 0, pkt, len, &t0);
	if (!c0)
		return HL_ENOMEM;
	if (dup) {
		c1 = make_copy(l, u, 1, pkt, len, &t1);
		if (!c1) {
			hl_free(c0);
			return HL_ENOMEM;
		}
	}

commit:
	l->prng = prng;
	l->clock = now;
	l->ge_started = started;
	l->ge_bad = bad;
	l->st.sent++;
	l->st.bytes_sent += len;
	if (lost) {
		l->st.lost++;
		return 0;
	}
	if (!c0) {
		l->st.queue_drops++;
		return 0;
	}
	if (l->p.rate_kbps) {
		size_t tail;

		l->ring_head = (l->ring_head + gone) % l->ring_cap;
		l->ring_n -= gone;
		l->ring_bytes -= gone_bytes;
		tail = (l->ring_head + l->ring_n) % l->ring_cap;
		l->ring[tail].depart = depart;
		l->ring[tail].len = len;
		l->ring_n++;
		l->ring_bytes += len;
		l->free_us = free_us;
		l->free_frac = free_frac;
	}
	if (reorder)
		l->st.reordered++;
	else
		l->last_fifo = fifo;
	heap_push(l, t_first, c0);
	l->st.tampered += t0;
	if (c1) {
		heap_push(l, t_dup, c1);
		l->st.duplicated++;
		l->st.tampered += t1;
	}
	return 0;
}

/*
 * Copy the next packet due at or before now into buf (cap bytes) and set
 * *len.  HL_EAGAIN when none is due.  HL_ETOOBIG when cap is smaller than
 * the packet: it stays queued (a buffer of HL_LINK_MAX_PACKET bytes always
 * suffices).  HL_EINVAL for NULL arguments.
 */
int hl_link_recv(struct hl_link *l, uint64_t now, uint8_t *buf, size_t cap,
		 size_t *len)
{
	struct link_pkt *pk;

	if (!l || !len || (!buf && cap))
		return HL_EINVAL;
	if (l->heap_n == 0 || l->heap[0].time > now)
		return HL_EAGAIN;
	pk = l->heap[0].pkt;
	if (pk->len > cap)
		return HL_ETOOBIG;
	if (pk->len)
		memcpy(buf, pk->data, pk->len);
	*len = pk->len;
	l->st.delivered++;
	l->st.bytes_delivered += pk->len;
	heap_pop(l);
	hl_free(pk);
	return 0;
}

/* Delivery time of the next copy in flight, or UINT64_MAX if none. */
uint64_t hl_link_next_time(const struct hl_link *l)
{
	return l && l->heap_n ? l->heap[0].time : UINT64_MAX;
}

/* Copy the counters into *st. */
void hl_link_stats(const struct hl_link *l, struct hl_link_stats *st)
{
	if (!st)
		return;
	if (!l) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = l->st;
}
