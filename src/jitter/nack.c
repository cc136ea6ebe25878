/*
 * nack.c - which video packets are missing and when to ask for them.
 *
 * RFC 4585 §6.2.1 generic NACK, with the retransmission timing of a
 * real-time receiver: a gap is requested as soon as it is seen; a request
 * that was not answered is repeated after max(5/4 RTT, 20 ms), at most
 * HL_NACK_MAX_RETRIES times and for at most MAX_AGE_US.  The list is
 * bounded; when a burst of loss overflows it, the caller asks for a key
 * frame instead (cheaper than thousands of retransmissions).  A jump of
 * more than MAX_JUMP sequence numbers is believed only once the packet
 * after it arrives too, so that one altered header cannot flood the list.
 */
#include <stdlib.h>
#include <string.h>

#include "hotline/jitter.h"

#define MAX_AGE_US	1500000u
#define MIN_INTERVAL_US 20000u
#define MAX_JUMP	3000 /* RFC 3550 A.1 MAX_DROPOUT */

struct item {
	uint64_t seq;
	uint64_t first_us;
	uint64_t sent_us;
	uint8_t retries;
	bool sent;
};

struct hl_nack {
	struct item items[HL_NACK_MAX];
	size_t n;
	bool started;
	uint64_t highest;
	bool jump_pending;
	uint64_t jump_seq;
};

int hl_nack_new(struct hl_nack **out)
{
	struct hl_nack *n = hl_calloc(1, sizeof(*n));

	if (!n)
		return HL_ENOMEM;
	*out = n;
	return 0;
}

void hl_nack_free(struct hl_nack *n)
{
	hl_free(n);
}

static void remove_at(struct hl_nack *n, size_t i)
{
	n->items[i] = n->items[--n->n];
}

static bool add(struct hl_nack *n, uint64_t seq, uint64_t now)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->items[i].seq == seq)
			return true;
	if (n->n == HL_NACK_MAX)
		return false;
	n->items[n->n].seq = seq;
	n->items[n->n].first_us = now;
	n->items[n->n].sent_us = 0;
	n->items[n->n].retries = 0;
	n->items[n->n].sent = false;
	n->n++;
	return true;
}

bool hl_nack_on_packet(struct hl_nack *n, uint64_t seq, uint64_t now)
{
	if (!n->started) {
		n->started = true;
		n->highest = seq;
		return false;
	}
	if (seq > n->highest + MAX_JUMP) {
		/* A far jump is believed only when the next packet follows
		 * it: one altered sequence number must not flood the list. */
		if (!n->jump_pending || seq != n->jump_seq + 1) {
			n->jump_pending = true;
			n->jump_seq = seq;
			return false;
		}
		n->jump_pending = false;
		n->n = 0;
		n->highest = seq;
		return true;
	}
	if (seq > n->highest) {
		if (seq - n->highest - 1 > HL_NACK_MAX - n->n) {
			n->n = 0;
			n->highest = seq;
			return true;
		}
		for (uint64_t s = n->highest + 1; s < seq; s++)
			(void)add(n, s, now);
		n->highest = seq;
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i].seq == seq) {
			remove_at(n, i);
			break;
		}
	}
	return false;
}

void hl_nack_request_range(struct hl_nack *n, uint64_t first, uint64_t last,
			   uint64_t now)
{
	for (uint64_t s = first; s <= last && s - first < HL_NACK_MAX; s++) {
		size_t i;

		for (i = 0; i < n->n; i++)
			if (n->items[i].seq == s)
				break;
		if (i < n->n) {
			/* Ask again at once, as a new request. */
			n->items[i].sent = false;
			n->items[i].retries = 0;
			n->items[i].first_us = now;
			continue;
		}
		if (!add(n, s, now))
			break;
	}
}

void hl_nack_forget_before(struct hl_nack *n, uint64_t seq)
{
	for (size_t i = 0; i < n->n;) {
		if (n->items[i].seq < seq)
			remove_at(n, i);
		else
			i++;
	}
}

static uint64_t interval(uint64_t rtt_us)
{
	uint64_t iv = rtt_us * 5 / 4;

	return iv < MIN_INTERVAL_US ? MIN_INTERVAL_US : iv;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t hl_nack_collect(struct hl_nack *n, uint64_t now, uint64_t rtt_us,
		       uint16_t *seqs, size_t cap)
{
	uint64_t iv = interval(rtt_us);
	uint64_t due[HL_NACK_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n->n;) {
		struct item *it = &n->items[i];

		if (it->sent && now - it->sent_us < iv) {
			i++;
			continue;
		}
		if (it->retries >= HL_NACK_MAX_RETRIES ||
		    now - it->first_us > MAX_AGE_US) {
			remove_at(n, i);
			continue;
		}
		if (k == cap) {
			i++;
			continue;
		}
		it->sent = true;
		it->sent_us = now;
		it->retries++;
		due[k++] = it->seq;
		i++;
	}
	/* Oldest first: stable output whatever the list order. */
	qsort(due, k, sizeof(due[0]), cmp_u64);
	for (size_t i = 0; i < k; i++)
		seqs[i] = (uint16_t)due[i];
	return k;
}

uint64_t hl_nack_next_time(const struct hl_nack *n, uint64_t rtt_us)
{
	uint64_t iv = interval(rtt_us), t = UINT64_MAX;

	for (size_t i = 0; i < n->n; i++) {
		uint64_t due = n->items[i].sent ? n->items[i].sent_us + iv : 0;

		if (due < t)
			t = due;
	}
	return t;
}

bool hl_nack_pending_in(const struct hl_nack *n, uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->items[i].seq >= first && n->items[i].seq <= last)
			return true;
	return false;
}

size_t hl_nack_pending(const struct hl_nack *n)
{
	return n->n;
}
