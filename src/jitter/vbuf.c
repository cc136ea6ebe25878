/*
 * vbuf.c - video packet and frame buffer (see include/hotline/jitter.h).
 *
 * Packets sit in a ring indexed by sequence number until the frame they
 * belong to is whole: a run of consecutive sequence numbers with one RTP
 * timestamp that starts with a packet carrying the VP8 S bit (partition 0)
 * and ends with the RTP marker bit (RFC 7741 §4.4).  The whole frame is
 * then copied out of the ring into a frame entry and handed to the engine
 * for SFrame decryption.  Authenticated frames wait in the entry table for
 * their turn in picture-id order.
 *
 * Decode order: a delta frame is decodable only right after the frame
 * before it (VP8 references the previous frame); a key frame always is.
 * When the next frame is missing while a later one is ready, the buffer
 * "stalls"; after max_wait it gives up, drops what cannot be decoded
 * before the next key frame and reports that a key frame is needed.
 */
#include <string.h>

#include "hotline/jitter.h"

#define SLOT_DATA 1500

struct slot {
	bool used;
	bool consumed; /* seq went into a frame: a second copy is a duplicate */
	bool marker;
	bool start;
	uint16_t picture_id;
	uint32_t ts;
	uint64_t seq;
	uint64_t arrival;
	size_t len;
	uint8_t data[SLOT_DATA];
};

enum entry_state {
	ENTRY_FREE = 0,
	ENTRY_ENCRYPTED, /* complete, waiting for hl_vbuf_pop_complete */
	ENTRY_POPPED,	 /* handed out for decryption */
	ENTRY_PLAIN,	 /* authenticated, waiting to be decoded */
};

struct entry {
	enum entry_state state;
	uint64_t order; /* completion order, for FIFO popping */
	struct hl_vbuf_frame f;
};

struct hl_vbuf {
	struct slot *slots;
	struct entry frames[HL_VBUF_FRAMES];
	uint64_t order_next;
	bool have_decoded;
	uint64_t last_decoded_pid;
	bool need_key;
	bool pid_ref_set;
	uint64_t pid_ref;
	uint64_t floor_seq; /* older packets are of no use any more */
	struct hl_vbuf_stats st;
};

int hl_vbuf_new(struct hl_vbuf **out)
{
	struct hl_vbuf *b = hl_calloc(1, sizeof(*b));

	if (!b)
		return HL_ENOMEM;
	b->slots = hl_calloc(HL_VBUF_SLOTS, sizeof(*b->slots));
	if (!b->slots) {
		hl_free(b);
		return HL_ENOMEM;
	}
	*out = b;
	return 0;
}

static void entry_clear(struct entry *e)
{
	hl_free(e->f.data);
	memset(e, 0, sizeof(*e));
}

void hl_vbuf_free(struct hl_vbuf *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++)
		entry_clear(&b->frames[i]);
	hl_free(b->slots);
	hl_free(b);
}

static struct slot *slot_of(struct hl_vbuf *b, uint64_t seq)
{
	return &b->slots[seq % HL_VBUF_SLOTS];
}

/*
 * Extend a 15-bit picture id to 64 bits near the newest authenticated one.
 * Pure: only hl_vbuf_accept() moves the reference, so forged packets that
 * never authenticate cannot shift how later ids are read.
 */
static uint64_t pid_extend(const struct hl_vbuf *b, uint16_t v)
{
	uint64_t ref, cand;

	v &= 0x7fff;
	if (!b->pid_ref_set)
		return ((uint64_t)1 << 32) | v;
	ref = b->pid_ref;
	cand = (ref & ~(uint64_t)0x7fff) | v;
	if (cand + 0x4000 < ref)
		cand += 0x8000;
	else if (cand > ref + 0x4000)
		cand -= 0x8000;
	return cand;
}

static struct entry *entry_find_pid(struct hl_vbuf *b, uint64_t pid)
{
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++)
		if (b->frames[i].state != ENTRY_FREE &&
		    b->frames[i].f.pid == pid)
			return &b->frames[i];
	return NULL;
}

static struct entry *entry_alloc(struct hl_vbuf *b)
{
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++)
		if (b->frames[i].state == ENTRY_FREE)
			return &b->frames[i];
	return NULL;
}

/*
 * Empty the ring slots [first, last].  consumed: their packets went into a
 * frame, so later copies of them are duplicates; otherwise the slots are
 * free for retransmissions (a frame that failed authentication).
 */
static void slots_clear(struct hl_vbuf *b, uint64_t first, uint64_t last,
			bool consumed)
{
	for (uint64_t s = first; s <= last; s++) {
		struct slot *sl = slot_of(b, s);

		if ((sl->used || sl->consumed) && sl->seq == s) {
			sl->used = false;
			sl->consumed = consumed;
		}
	}
}

static bool slot_has(struct hl_vbuf *b, uint64_t seq, uint32_t ts)
{
	struct slot *sl = slot_of(b, seq);

	return sl->used && sl->seq == seq && sl->ts == ts;
}

/*
 * The table is full of frames that wait for a missing one.  Keep the
 * lowest picture ids (the stall may still end with them): if the newest
 * held frame is newer than pid, drop it and reuse its entry, else NULL
 * (the caller drops the incoming frame).  Decoding past a dropped frame
 * waits for a key frame.
 */
static struct entry *evict_newer_than(struct hl_vbuf *b, uint64_t pid)
{
	struct entry *newest = NULL;

	for (size_t i = 0; i < HL_VBUF_FRAMES; i++)
		if (b->frames[i].state != ENTRY_POPPED &&
		    (!newest || b->frames[i].f.pid > newest->f.pid))
			newest = &b->frames[i];
	if (!newest || newest->f.pid < pid)
		return NULL;
	entry_clear(newest);
	b->st.frames_dropped++;
	return newest;
}

/*
 * If the packet at seq completes its frame, move the frame into an entry.
 * Returns 0 (whether or not a frame completed) or HL_ENOMEM.
 */
static int try_complete(struct hl_vbuf *b, uint64_t seq, uint64_t now)
{
	struct slot *sl = slot_of(b, seq);
	uint32_t ts = sl->ts;
	uint64_t first = seq, last = seq, pid, arrival = UINT64_MAX;
	size_t total = 0, off = 0, n = 0;
	struct entry *e;
	uint8_t *data;

	while (!slot_of(b, first)->start) {
		if (first == 0 || ++n >= HL_VBUF_SLOTS ||
		    !slot_has(b, first - 1, ts))
			return 0;
		first--;
	}
	while (!slot_of(b, last)->marker) {
		if (++n >= HL_VBUF_SLOTS || !slot_has(b, last + 1, ts))
			return 0;
		last++;
	}
	for (uint64_t s = first; s <= last; s++) {
		total += slot_of(b, s)->len;
		if (slot_of(b, s)->arrival < arrival)
			arrival = slot_of(b, s)->arrival;
	}
	pid = pid_extend(b, slot_of(b, first)->picture_id);
	if ((b->have_decoded && pid <= b->last_decoded_pid) ||
	    entry_find_pid(b, pid)) {
		/* A second copy of a frame already handled. */
		slots_clear(b, first, last, true);
		b->st.duplicates++;
		return 0;
	}
	if (total == 0 || total > HL_VBUF_FRAME_MAX) {
		slots_clear(b, first, last, true);
		b->st.frames_dropped++;
		return 0;
	}
	e = entry_alloc(b);
	if (!e)
		e = evict_newer_than(b, pid);
	if (!e) {
		slots_clear(b, first, last, true);
		b->st.frames_dropped++;
		return 0;
	}
	data = hl_malloc(total);
	if (!data)
		return HL_ENOMEM;
	for (uint64_t s = first; s <= last; s++) {
		memcpy(data + off, slot_of(b, s)->data, slot_of(b, s)->len);
		off += slot_of(b, s)->len;
	}
	e->state = ENTRY_ENCRYPTED;
	e->order = b->order_next++;
	e->f.pid = pid;
	e->f.ts = ts;
	e->f.first_seq = first;
	e->f.last_seq = last;
	e->f.keyframe = false; /* known after decryption, see accept */
	e->f.data = data;
	e->f.len = total;
	e->f.first_arrival_us = arrival;
	e->f.complete_us = now;
	slots_clear(b, first, last, true);
	b->st.frames_complete++;
	return 0;
}

int hl_vbuf_insert(struct hl_vbuf *b, const struct hl_vbuf_packet *p,
		   uint64_t now)
{
	struct slot *sl;

	if (p->len > SLOT_DATA)
		return HL_ETOOBIG;
	b->st.packets++;
	if (p->seq < b->floor_seq) {
		b->st.too_old++;
		return HL_EREPLAY;
	}
	sl = slot_of(b, p->seq);
	if (!sl->used && sl->consumed && sl->seq == p->seq) {
		b->st.duplicates++;
		return HL_EREPLAY;
	}
	if (sl->used) {
		if (sl->seq == p->seq && sl->len == p->len && sl->ts == p->ts &&
		    sl->marker == p->marker && sl->start == p->frame_start &&
		    sl->picture_id == p->picture_id &&
		    memcmp(sl->data, p->payload, p->len) == 0) {
			b->st.duplicates++;
			return HL_EREPLAY;
		}
		/* Same number, other content: the copy we hold may have been
		 * altered on the way (RTP headers are not end-to-end
		 * authenticated), so the newer one, usually a retransmission
		 * we asked for, replaces it.  Authentication decides. */
		if (sl->seq == p->seq)
			b->st.replaced++;
		else if (sl->seq > p->seq) {
			b->st.too_old++;
			return HL_EREPLAY;
		} else {
			b->st.evicted++;
		}
	}
	sl->used = true;
	sl->consumed = false;
	sl->seq = p->seq;
	sl->ts = p->ts;
	sl->marker = p->marker;
	sl->start = p->frame_start;
	sl->picture_id = p->picture_id;
	sl->arrival = now;
	sl->len = p->len;
	if (p->len)
		memcpy(sl->data, p->payload, p->len);
	return try_complete(b, p->seq, now);
}

int hl_vbuf_pop_complete(struct hl_vbuf *b, struct hl_vbuf_frame *f)
{
	struct entry *best = NULL;

	for (size_t i = 0; i < HL_VBUF_FRAMES; i++) {
		struct entry *e = &b->frames[i];

		if (e->state == ENTRY_ENCRYPTED &&
		    (!best || e->order < best->order))
			best = e;
	}
	if (!best)
		return HL_EAGAIN;
	best->state = ENTRY_POPPED;
	*f = best->f;
	return 0;
}

static struct entry *entry_of_popped(struct hl_vbuf *b,
				     const struct hl_vbuf_frame *f)
{
	struct entry *e = entry_find_pid(b, f->pid);

	if (!e || e->state != ENTRY_POPPED || e->f.first_seq != f->first_seq)
		return NULL;
	return e;
}

/* VP8 key frames have the P bit (bit 0 of byte 0) clear (RFC 6386 §9.1). */
static bool vp8_is_key(const uint8_t *d, size_t len)
{
	return len >= 10 && !(d[0] & 1) && d[3] == 0x9d && d[4] == 0x01 &&
	       d[5] == 0x2a;
}

int hl_vbuf_accept(struct hl_vbuf *b, const struct hl_vbuf_frame *f,
		   const uint8_t *plain, size_t len)
{
	struct entry *e = entry_of_popped(b, f);

	if (!e)
		return HL_ESTATE;
	if (len > e->f.len) {
		entry_clear(e);
		return HL_ETOOBIG;
	}
	memcpy(e->f.data, plain, len);
	e->f.len = len;
	e->f.keyframe = vp8_is_key(plain, len);
	e->state = ENTRY_PLAIN;
	if (!b->pid_ref_set || e->f.pid > b->pid_ref) {
		b->pid_ref_set = true;
		b->pid_ref = e->f.pid;
	}
	return 0;
}

void hl_vbuf_reject(struct hl_vbuf *b, const struct hl_vbuf_frame *f)
{
	struct entry *e = entry_of_popped(b, f);

	if (!e)
		return;
	/* Let retransmissions of its packets in again. */
	slots_clear(b, e->f.first_seq, e->f.last_seq, false);
	entry_clear(e);
	b->st.frames_rejected++;
}

/* Drop plain frames older than pid (they can no longer be decoded). */
static void drop_before(struct hl_vbuf *b, uint64_t pid)
{
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++) {
		struct entry *e = &b->frames[i];

		if (e->state != ENTRY_FREE && e->f.pid < pid) {
			if (e->f.last_seq + 1 > b->floor_seq)
				b->floor_seq = e->f.last_seq + 1;
			entry_clear(e);
			b->st.frames_dropped++;
		}
	}
}

static struct entry *first_plain_key(struct hl_vbuf *b)
{
	struct entry *best = NULL;

	for (size_t i = 0; i < HL_VBUF_FRAMES; i++) {
		struct entry *e = &b->frames[i];

		if (e->state == ENTRY_PLAIN && e->f.keyframe &&
		    (!b->have_decoded || e->f.pid > b->last_decoded_pid) &&
		    (!best || e->f.pid < best->f.pid))
			best = e;
	}
	return best;
}

/* Earliest completion time of a plain frame after the one we wait for. */
static uint64_t stall_since(const struct hl_vbuf *b)
{
	uint64_t since = UINT64_MAX;

	if (!b->have_decoded || b->need_key)
		return UINT64_MAX;
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++) {
		const struct entry *e = &b->frames[i];

		if (e->state != ENTRY_PLAIN)
			continue;
		if (e->f.pid == b->last_decoded_pid + 1)
			return UINT64_MAX; /* the next one is here: no stall */
		if (e->f.pid > b->last_decoded_pid + 1 &&
		    e->f.complete_us < since)
			since = e->f.complete_us;
	}
	return since;
}

static uint64_t oldest_plain_us(const struct hl_vbuf *b)
{
	uint64_t t = UINT64_MAX / 2;

	for (size_t i = 0; i < HL_VBUF_FRAMES; i++)
		if (b->frames[i].state == ENTRY_PLAIN &&
		    b->frames[i].f.complete_us < t)
			t = b->frames[i].f.complete_us;
	return t;
}

int hl_vbuf_next_decodable(struct hl_vbuf *b, uint64_t now,
			   uint64_t max_wait_us, struct hl_vbuf_frame *f,
			   bool *need_keyframe)
{
	struct entry *e;
	uint64_t since;

	*need_keyframe = false;
	if (b->have_decoded && !b->need_key) {
		e = entry_find_pid(b, b->last_decoded_pid + 1);
		if (e && e->state == ENTRY_PLAIN) {
			*f = e->f;
			return 0;
		}
		since = stall_since(b);
		if (since == UINT64_MAX || now - since < max_wait_us ||
		    now < since)
			return HL_EAGAIN;
		/* Waited long enough: skip to the next key frame. */
		b->need_key = true;
		b->st.gave_up++;
	}
	e = first_plain_key(b);
	if (!e) {
		/* Looking for a key frame: ask for one once frames that cannot
		 * be decoded have waited long enough. */
		*need_keyframe =
			b->need_key || oldest_plain_us(b) + max_wait_us <= now;
		return HL_EAGAIN;
	}
	drop_before(b, e->f.pid);
	*f = e->f;
	return 0;
}

void hl_vbuf_decoded(struct hl_vbuf *b, uint64_t pid, bool ok)
{
	struct entry *e = entry_find_pid(b, pid);

	if (!e || e->state != ENTRY_PLAIN)
		return;
	if (e->f.last_seq + 1 > b->floor_seq)
		b->floor_seq = e->f.last_seq + 1;
	if (ok) {
		b->have_decoded = true;
		b->last_decoded_pid = pid;
		b->need_key = false;
	} else {
		b->need_key = true;
		b->st.frames_dropped++;
	}
	entry_clear(e);
}

uint64_t hl_vbuf_stall_since(const struct hl_vbuf *b)
{
	return stall_since(b);
}

int hl_vbuf_stall_range(struct hl_vbuf *b, uint64_t *first, uint64_t *last)
{
	struct entry *next = NULL;
	uint64_t want;

	if (stall_since(b) == UINT64_MAX)
		return HL_EAGAIN;
	want = b->last_decoded_pid + 1;
	/* The first frame after the stall in sequence order. */
	for (size_t i = 0; i < HL_VBUF_FRAMES; i++) {
		struct entry *e = &b->frames[i];

		if (e->state == ENTRY_PLAIN && e->f.pid > want &&
		    (!next || e->f.first_seq < next->f.first_seq))
			next = e;
	}
	if (HL_NEVER(!next))
		return HL_EAGAIN;
	if (next->f.first_seq <= b->floor_seq)
		return HL_EAGAIN; /* nothing between: the gap is not here */
	*first = b->floor_seq;
	*last = next->f.first_seq - 1;
	if (*last - *first >= HL_VBUF_SLOTS / 4)
		*first = *last - HL_VBUF_SLOTS / 4 + 1;
	return 0;
}

void hl_vbuf_forget_range(struct hl_vbuf *b, uint64_t first, uint64_t last)
{
	if (last >= first && last - first < HL_VBUF_SLOTS)
		slots_clear(b, first, last, false);
}

uint64_t hl_vbuf_next_deadline(const struct hl_vbuf *b, uint64_t max_wait_us)
{
	uint64_t since = stall_since(b);

	if (since == UINT64_MAX)
		return UINT64_MAX;
	return since + max_wait_us;
}

uint64_t hl_vbuf_oldest_needed_seq(const struct hl_vbuf *b)
{
	return b->floor_seq;
}

void hl_vbuf_stats(const struct hl_vbuf *b, struct hl_vbuf_stats *st)
{
	*st = b->st;
}
