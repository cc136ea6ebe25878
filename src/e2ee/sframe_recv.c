/*
 * sframe_recv.c - SFrame (RFC 9605) receiver: key table, replay window,
 * ratchet following.
 *
 * How it works.  The receiver holds at most HL_SFRAME_MAX_KEYS keys in a
 * fixed table; each slot has its own keyed AEAD context (created with the
 * receiver, so neither adding a key nor decrypting ever calls hl_malloc),
 * its salt, its base key (to ratchet from) and a replay window.  One spare
 * "scratch" context is used to try a key before it is installed: a new key
 * (add_key) or a ratchet step derived from a known key (RFC 9605 §5.1) is
 * keyed into the scratch context, and only when that succeeds is the
 * scratch swapped with the slot it goes to; the displaced context is wiped
 * and becomes the next scratch.  So a failed attempt never changes state.
 *
 * Replay (RFC 9605 §7.4 leaves it to us).  Audio and video share one
 * counter and late video retransmissions arrive out of order, so each key
 * remembers the highest accepted CTR ("top") and a ring bitmap of the
 * HL_SFRAME_REPLAY_WINDOW counters top-W+1 .. top (bit for ctr is
 * ctr mod W).  A CTR above top, or inside the window and unseen, is fresh;
 * a seen CTR, or one at or below top-W, is HL_EREPLAY.  The window is
 * checked and updated only after the frame authenticated, so forged frames
 * cannot move it.
 *
 * Ratchet following.  KID = generation << 8 | step.  A frame whose KID is
 * unknown but whose generation matches a known, not yet superseded key
 * 1..HL_SFRAME_MAX_RATCHET_AHEAD steps behind (mod 256) is tried with the
 * key derived by ratcheting that key forward.  On success the new key is
 * installed and becomes the head of the chain; the key it was derived from
 * is kept for late frames but marked retired: it decrypts its own frames
 * and is never ratcheted from again, and older retired keys of the same
 * generation are wiped.  Because only the head is ever ratcheted, a step
 * that was skipped or superseded can never be re-derived with a fresh
 * replay window.
 */
#include <string.h>

#include "sframe_internal.h"

#define WIN_WORDS (HL_SFRAME_REPLAY_WINDOW / 64)
_Static_assert(HL_SFRAME_REPLAY_WINDOW % 64 == 0 &&
		       (HL_SFRAME_REPLAY_WINDOW &
			(HL_SFRAME_REPLAY_WINDOW - 1)) == 0,
	       "replay window must be a power of two and a multiple of 64");
_Static_assert(HL_SFRAME_MAX_KEYS >= 2, "need room for a key and its parent");
_Static_assert(HL_SFRAME_MAX_RATCHET_AHEAD < (1 << HL_SFRAME_RATCHET_BITS),
	       "ratchet lookahead must be below the step modulus");

#define STEP_MASK ((1u << HL_SFRAME_RATCHET_BITS) - 1)

struct replay_window {
	bool any;     /* a CTR was accepted */
	uint64_t top; /* highest accepted CTR */
	uint64_t bits[WIN_WORDS];
};

struct rx_key {
	bool used;
	bool retired; /* superseded by a ratchet step: never ratchet from it */
	uint64_t kid;
	uint64_t lru; /* tick of the last install or accepted frame */
	size_t base_key_len;
	uint8_t base_key[HL_SFRAME_SECRET_MAX];
	uint8_t salt[HL_SFRAME_NONCE_LEN];
	struct hl_crypto_aead *aead;
	struct replay_window win;
	/* Memo of the ratchet chain ahead of this key: ahead[i] is the base
	 * key (Nh bytes) of step +i+1, for i < n_ahead.  Pure cache of
	 * values derivable from base_key; it never changes a decision. */
	unsigned n_ahead;
	uint8_t ahead[HL_SFRAME_MAX_RATCHET_AHEAD][HL_SFRAME_SECRET_MAX];
};

struct hl_sframe_receiver {
	const struct hl_sframe_suite_info *si;
	uint64_t tick;
	struct hl_sframe_stats st;
	struct hl_crypto_aead *scratch; /* unkeyed when idle */
	struct rx_key keys[HL_SFRAME_MAX_KEYS];
};

/* ---- replay window ------------------------------------------------------ */

static bool win_bit(const struct replay_window *w, uint64_t ctr)
{
	uint64_t i = ctr % HL_SFRAME_REPLAY_WINDOW;

	return (w->bits[i / 64] >> (i % 64)) & 1;
}

static void win_set(struct replay_window *w, uint64_t ctr, bool on)
{
	uint64_t i = ctr % HL_SFRAME_REPLAY_WINDOW;
	uint64_t m = (uint64_t)1 << (i % 64);

	if (on)
		w->bits[i / 64] |= m;
	else
		w->bits[i / 64] &= ~m;
}

/* Would ctr be accepted?  Does not change the window. */
static bool win_fresh(const struct replay_window *w, uint64_t ctr)
{
	if (!w->any || ctr > w->top)
		return true;
	if (w->top - ctr >= HL_SFRAME_REPLAY_WINDOW)
		return false; /* too old to tell: refuse */
	return !win_bit(w, ctr);
}

/* Record an accepted ctr (win_fresh(w, ctr) must hold). */
static void win_record(struct replay_window *w, uint64_t ctr)
{
	if (!w->any) {
		memset(w->bits, 0, sizeof(w->bits));
		w->any = true;
		w->top = ctr;
	} else if (ctr > w->top) {
		if (ctr - w->top >= HL_SFRAME_REPLAY_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			/* Forget the slots of top+1 .. ctr (their old bits
			 * belong to counters now out of the window). */
			for (uint64_t c = w->top + 1;; c++) {
				win_set(w, c, false);
				if (c == ctr)
					break;
			}
		}
		w->top = ctr;
	}
	win_set(w, ctr, true);
}

/* ---- key table ---------------------------------------------------------- */

static uint64_t gen_of(uint64_t kid)
{
	return kid >> HL_SFRAME_RATCHET_BITS;
}

/* Forget a slot: wipe the key material, keep its (unkeyed) context. */
static void slot_wipe(struct rx_key *k)
{
	struct hl_crypto_aead *aead = k->aead;

	hl_crypto_aead_wipe(aead);
	hl_wipe(k, sizeof(*k));
	k->aead = aead;
}

static struct rx_key *find_kid(struct hl_sframe_receiver *r, uint64_t kid)
{
	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++)
		if (r->keys[i].used && r->keys[i].kid == kid)
			return &r->keys[i];
	return NULL;
}

/*
 * The slot a new key goes to: a free one, else the least recently used
 * one other than keep (the parent of a ratchet step, may be NULL).
 */
static struct rx_key *pick_slot(struct hl_sframe_receiver *r,
				const struct rx_key *keep)
{
	struct rx_key *victim = NULL;

	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++) {
		struct rx_key *k = &r->keys[i];

		if (!k->used)
			return k;
		if (k != keep && (!victim || k->lru < victim->lru))
			victim = k;
	}
	return victim;
}

/*
 * Move the keyed scratch context into slot (wiping what was there) and
 * fill it in.  The displaced context, wiped, becomes the scratch.
 */
static void slot_install(struct hl_sframe_receiver *r, struct rx_key *slot,
			 uint64_t kid, const uint8_t *base_key,
			 size_t base_key_len,
			 const uint8_t salt[HL_SFRAME_NONCE_LEN])
{
	struct hl_crypto_aead *old;

	slot_wipe(slot);
	old = slot->aead;
	slot->aead = r->scratch;
	r->scratch = old;
	slot->used = true;
	slot->kid = kid;
	slot->lru = ++r->tick;
	memcpy(slot->base_key, base_key, base_key_len);
	slot->base_key_len = base_key_len;
	memcpy(slot->salt, salt, HL_SFRAME_NONCE_LEN);
}

int hl_sframe_receiver_new(struct hl_sframe_receiver **out,
			   enum hl_sframe_suite suite)
{
	const struct hl_sframe_suite_info *si = hl_sframe_suite_info(suite);
	struct hl_sframe_receiver *r = NULL;
	int err = HL_EINVAL;

	if (!out || !si)
		goto out;
	err = HL_ENOMEM;
	r = hl_calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->si = si;
	err = hl_crypto_aead_new(&r->scratch, si->aead, si->nt, false);
	for (size_t i = 0; !err && i < HL_SFRAME_MAX_KEYS; i++)
		err = hl_crypto_aead_new(&r->keys[i].aead, si->aead, si->nt,
					 false);
	if (err)
		goto out;
	*out = r;
	r = NULL;
out:
	hl_sframe_receiver_free(r);
	return err;
}

void hl_sframe_receiver_free(struct hl_sframe_receiver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++) {
		slot_wipe(&r->keys[i]);
		hl_crypto_aead_free(r->keys[i].aead);
	}
	hl_crypto_aead_free(r->scratch);
	hl_wipe(r, sizeof(*r));
	hl_free(r);
}

int hl_sframe_receiver_add_key(struct hl_sframe_receiver *r, uint64_t kid,
			       const uint8_t *base_key, size_t base_key_len)
{
	uint8_t salt[HL_SFRAME_NONCE_LEN];
	struct rx_key *slot;
	int err;

	if (!r || !base_key || base_key_len < HL_SFRAME_BASE_KEY_MIN ||
	    base_key_len > HL_SFRAME_BASE_KEY_MAX)
		return HL_EINVAL;
	/* Key the scratch first: on failure the table is untouched. */
	err = hl_sframe_key_aead(r->si, base_key, base_key_len, kid, r->scratch,
				 salt);
	if (err)
		goto out;
	slot = find_kid(r, kid);
	if (!slot)
		slot = pick_slot(r, NULL);
	/* Replacing a KID's key also gives it a fresh replay window. */
	slot_install(r, slot, kid, base_key, base_key_len, salt);
out:
	hl_wipe(salt, sizeof(salt));
	return err;
}

void hl_sframe_receiver_remove_generation(struct hl_sframe_receiver *r,
					  uint64_t kid)
{
	if (!r)
		return;
	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++)
		if (r->keys[i].used && gen_of(r->keys[i].kid) == gen_of(kid))
			slot_wipe(&r->keys[i]);
}

void hl_sframe_receiver_stats(const struct hl_sframe_receiver *r,
			      struct hl_sframe_stats *st)
{
	if (!st)
		return;
	if (!r) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = r->st;
}

/* ---- decryption --------------------------------------------------------- */

/*
 * The key to ratchet from for kid: a used, not retired key of the same
 * generation whose step is 1..HL_SFRAME_MAX_RATCHET_AHEAD behind kid's
 * (mod 2^R), the nearest one.  *steps gets the distance.
 */
static struct rx_key *find_parent(struct hl_sframe_receiver *r, uint64_t kid,
				  unsigned *steps)
{
	struct rx_key *best = NULL;
	unsigned best_d = 0;

	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++) {
		struct rx_key *k = &r->keys[i];
		unsigned d;

		if (!k->used || k->retired || gen_of(k->kid) != gen_of(kid))
			continue;
		d = (unsigned)(kid - k->kid) & STEP_MASK;
		if (d < 1 || d > HL_SFRAME_MAX_RATCHET_AHEAD)
			continue;
		if (!best || d < best_d) {
			best = k;
			best_d = d;
		}
	}
	*steps = best_d;
	return best;
}

/*
 * Ratchet parent's base key forward steps times (RFC 9605 §5.1) into base
 * and key the scratch context for kid.  The only write to the table is
 * the parent's memo of its chain (so that frames claiming far steps cost
 * one key schedule, not up to HL_SFRAME_MAX_RATCHET_AHEAD ratchets, each
 * time); no key, window or LRU state changes.
 */
static int derive_step(struct hl_sframe_receiver *r, struct rx_key *parent,
		       unsigned steps, uint64_t kid,
		       uint8_t base[HL_SFRAME_SECRET_MAX], size_t *base_len,
		       uint8_t salt[HL_SFRAME_NONCE_LEN])
{
	size_t nh = r->si->nh, len = 0;
	int err;

	while (parent->n_ahead < steps) {
		unsigned i = parent->n_ahead;
		const uint8_t *from =
			i ? parent->ahead[i - 1] : parent->base_key;

		err = hl_sframe_ratchet_key(r->si->id, from,
					    i ? nh : parent->base_key_len,
					    parent->ahead[i], &len);
		if (err)
			return err;
		parent->n_ahead++;
	}
	memcpy(base, parent->ahead[steps - 1], nh);
	*base_len = nh;
	return hl_sframe_key_aead(r->si, base, nh, kid, r->scratch, salt);
}

/* After following parent -> head: drop older retired keys of the chain. */
static void prune_chain(struct hl_sframe_receiver *r, const struct rx_key *head,
			struct rx_key *parent)
{
	parent->retired = true;
	hl_wipe(parent->ahead, sizeof(parent->ahead));
	parent->n_ahead = 0;
	for (size_t i = 0; i < HL_SFRAME_MAX_KEYS; i++) {
		struct rx_key *k = &r->keys[i];

		if (k->used && k != head && k != parent && k->retired &&
		    gen_of(k->kid) == gen_of(head->kid))
			slot_wipe(k);
	}
}

int hl_sframe_decrypt(struct hl_sframe_receiver *r, const uint8_t *metadata,
		      size_t metadata_len, const uint8_t *in, size_t in_len,
		      uint8_t *out, size_t cap, size_t *out_len,
		      uint64_t *kid_out)
{
	uint8_t nonce[HL_SFRAME_NONCE_LEN], salt[HL_SFRAME_NONCE_LEN];
	uint8_t base[HL_SFRAME_SECRET_MAX];
	struct rx_key *key, *parent = NULL;
	struct hl_crypto_aead *aead;
	struct hl_crypto_buf aad[2];
	size_t hdr_len, pt_len, base_len = 0;
	uint64_t kid, ctr;
	unsigned steps = 0;
	int err;

	if (!r || (!metadata && metadata_len) || !in || !out || !out_len)
		return HL_EINVAL;
	/* out must not overlap the inputs (they are read after writing). */
	if (hl_sframe_overlaps(in, in_len, out, cap) ||
	    hl_sframe_overlaps(out, cap, metadata, metadata_len))
		return HL_EINVAL;
	err = HL_EAUTH;
	if (in_len > HL_SFRAME_FRAME_MAX ||
	    metadata_len > HL_CRYPTO_AEAD_MSG_MAX)
		goto out;
	if (hl_sframe_header_decode(in, in_len, &kid, &ctr, &hdr_len))
		goto out;
	if (in_len - hdr_len < r->si->nt)
		goto out;
	pt_len = in_len - hdr_len - r->si->nt;
	if (cap < pt_len) {
		err = HL_EINVAL;
		goto out;
	}
	key = find_kid(r, kid);
	if (key) {
		aead = key->aead;
		memcpy(salt, key->salt, sizeof(salt));
	} else {
		/* RFC 9605 §5.1: maybe the sender ratcheted. */
		parent = find_parent(r, kid, &steps);
		if (!parent)
			goto out;
		err = derive_step(r, parent, steps, kid, base, &base_len, salt);
		if (err)
			goto out;
		aead = r->scratch;
	}
	hl_sframe_nonce(salt, ctr, nonce);
	/* RFC 9605 §4.4.4: AAD = header || metadata */
	aad[0] = (struct hl_crypto_buf){in, hdr_len};
	aad[1] = (struct hl_crypto_buf){metadata, metadata_len};
	err = hl_crypto_aead_open(aead, nonce, aad, 2, in + hdr_len,
				  in_len - hdr_len, out);
	if (err) {
		if (err != HL_ECRYPTO)
			err = HL_EAUTH;
		goto out;
	}
	if (key) {
		/* Authentic: now, and only now, consult the window. */
		if (!win_fresh(&key->win, ctr)) {
			hl_wipe(out, pt_len);
			err = HL_EREPLAY;
			goto out;
		}
		win_record(&key->win, ctr);
		key->lru = ++r->tick;
	} else {
		key = pick_slot(r, parent);
		slot_install(r, key, kid, base, base_len, salt);
		win_record(&key->win, ctr);
		prune_chain(r, key, parent);
		r->st.ratchets += steps;
	}
	r->st.frames_ok++;
	*out_len = pt_len;
	if (kid_out)
		*kid_out = kid;
out:
	/* A tried ratchet key must not linger in the scratch context. */
	if (hl_crypto_aead_has_key(r->scratch))
		hl_crypto_aead_wipe(r->scratch);
	hl_wipe(base, sizeof(base));
	hl_wipe(salt, sizeof(salt));
	if (err == HL_EAUTH)
		r->st.auth_failures++;
	else if (err == HL_EREPLAY)
		r->st.replays++;
	return err;
}
