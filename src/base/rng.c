/*
 * rng.c - seeded xoshiro256** generator for tests and the simulator.
 *
 * Not for keys: key material comes from libsodium (src/crypto) or the OS
 * RNG (src/net).  The engine only uses injected randomness for SSRCs,
 * initial sequence numbers and RTCP timing, which must repeat exactly in a
 * seeded simulation.
 */
#include "hotline/base.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void hl_prng_seed(struct hl_prng *p, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t hl_prng_next(struct hl_prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double hl_prng_unit(struct hl_prng *p)
{
	return (double)(hl_prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t hl_prng_below(struct hl_prng *p, uint64_t bound)
{
	/* Rejection sampling keeps the result unbiased. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;

	do {
		v = hl_prng_next(p);
	} while (v >= limit);
	return v % bound;
}

static void prng_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct hl_prng *p = ctx;

	while (len) {
		uint64_t v = hl_prng_next(p);
		size_t n = len < 8 ? len : 8;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
		buf += n;
		len -= n;
	}
}

struct hl_rng hl_prng_as_rng(struct hl_prng *p)
{
	struct hl_rng r = {prng_fill, p};

	return r;
}

uint32_t hl_rng_u32(const struct hl_rng *rng)
{
	uint8_t b[4];

	rng->fill(rng->ctx, b, sizeof(b));
	return hl_get_be32(b);
}
