/*
 * map.c - the server core's hash map: byte keys (up to 64) to pointers.
 *
 * Chained buckets, doubled when there are more entries than buckets.
 * Keys are hashed with SipHash-2-4 (libsodium crypto_shorthash) under a
 * random per-map key, so clients cannot choose identities or addresses
 * that collide on purpose.
 */
#include <string.h>

#include <sodium.h>

#include "core_internal.h"

#define INITIAL_BUCKETS 64

static uint64_t key_hash(const struct hl_srv_map *m, const void *key,
			 size_t klen)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, key, klen, m->seed);
	return hl_get_be64(h);
}

int hl_srv_map_init(struct hl_srv_map *m, const struct hl_rng *rng)
{
	memset(m, 0, sizeof(*m));
	m->b = hl_calloc(INITIAL_BUCKETS, sizeof(*m->b));
	if (!m->b)
		return HL_ENOMEM;
	m->nb = INITIAL_BUCKETS;
	rng->fill(rng->ctx, m->seed, sizeof(m->seed));
	return 0;
}

void hl_srv_map_free(struct hl_srv_map *m)
{
	if (!m->b)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct hl_srv_map_entry *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			hl_free(e);
		}
	}
	hl_free(m->b);
	memset(m, 0, sizeof(*m));
}

static struct hl_srv_map_entry **find(const struct hl_srv_map *m,
				      const void *key, size_t klen, uint64_t h)
{
	struct hl_srv_map_entry **pp = &m->b[h & (m->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen &&
		    memcmp((*pp)->key, key, klen) == 0)
			return pp;
	return pp;
}

void *hl_srv_map_get(const struct hl_srv_map *m, const void *key, size_t klen)
{
	struct hl_srv_map_entry **pp;

	if (klen > HL_SRV_KEY_MAX)
		return NULL;
	pp = find(m, key, klen, key_hash(m, key, klen));
	return *pp ? (*pp)->val : NULL;
}

void **hl_srv_map_slot(const struct hl_srv_map *m, const void *key, size_t klen)
{
	struct hl_srv_map_entry **pp;

	if (klen > HL_SRV_KEY_MAX)
		return NULL;
	pp = find(m, key, klen, key_hash(m, key, klen));
	return *pp ? &(*pp)->val : NULL;
}

/* Double the buckets; on allocation failure the map just stays denser. */
static void grow(struct hl_srv_map *m)
{
	size_t nb = m->nb * 2;
	struct hl_srv_map_entry **b = hl_calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct hl_srv_map_entry *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	hl_free(m->b);
	m->b = b;
	m->nb = nb;
}

int hl_srv_map_put(struct hl_srv_map *m, const void *key, size_t klen,
		   void *val)
{
	struct hl_srv_map_entry *e;
	uint64_t h;

	if (klen > HL_SRV_KEY_MAX)
		return HL_EINVAL;
	e = hl_malloc(sizeof(*e));
	if (!e)
		return HL_ENOMEM;
	h = key_hash(m, key, klen);
	e->hash = h;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->val = val;
	e->next = m->b[h & (m->nb - 1)];
	m->b[h & (m->nb - 1)] = e;
	if (++m->n > m->nb)
		grow(m);
	return 0;
}

void *hl_srv_map_del(struct hl_srv_map *m, const void *key, size_t klen)
{
	struct hl_srv_map_entry **pp, *e;
	void *val;

	if (klen > HL_SRV_KEY_MAX)
		return NULL;
	pp = find(m, key, klen, key_hash(m, key, klen));
	e = *pp;
	if (!e)
		return NULL;
	*pp = e->next;
	val = e->val;
	hl_free(e);
	m->n--;
	return val;
}
