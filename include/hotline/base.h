/*
 * hotline/base.h - error codes, memory, randomness, logging and byte order.
 *
 * Everything in libhotline builds on this header.  Errors are negative
 * HL_E* codes (0 is success), stable and documented here; hl_strerror()
 * turns each into one sentence.  Memory goes through hl_malloc() and
 * friends so that tests can count leaks and make allocation N fail on
 * purpose.  Randomness is injected through struct hl_rng so that runs can
 * be repeated exactly from a seed; nothing in the library reads the OS RNG
 * or a clock by itself (only src/net does).
 */
#ifndef HOTLINE_BASE_H
#define HOTLINE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define HL_MUST_CHECK	__attribute__((warn_unused_result))
#define HL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HL_MUST_CHECK
#define HL_PRINTF(a, b)
#endif

/*
 * Error codes.  Numbered explicitly; never renumber, only append.
 */
enum hl_err {
	HL_OK = 0,
	HL_ENOMEM = -1,	  /* an allocation failed */
	HL_EINVAL = -2,	  /* an argument was out of range */
	HL_EAUTH = -3,	  /* authentication failed (opaque on purpose) */
	HL_EREPLAY = -4,  /* authentic, but already seen or too old */
	HL_EPARSE = -5,	  /* malformed input */
	HL_ETOOBIG = -6,  /* input or output exceeds a fixed limit */
	HL_EAGAIN = -7,	  /* nothing to output now; try after next input */
	HL_ECODEC = -8,	  /* the audio or video codec failed */
	HL_EIO = -9,	  /* reading or writing a file or socket failed */
	HL_ECRYPTO = -10, /* the crypto backend failed (not an auth error) */
	HL_ESTATE = -11,  /* the call is not valid in the current state */
	HL_EUNSUPPORTED = -12, /* a valid but unsupported feature or format */
	HL_ENOKEY = -13,       /* no key is known for this key id */
	HL_EFULL = -14,	       /* a bounded queue or table is full */
	HL_ECONFLICT = -15,    /* contradicts what is already recorded */
	HL_ENOTFOUND = -16,    /* no such item */
	HL_ETIMEOUT = -17,     /* the other side did not answer in time */
};

/* One sentence for an error code; never NULL. */
const char *hl_strerror(int err);

/*
 * Memory.  Same contracts as malloc/calloc/realloc/free.  hl_free(NULL) is
 * a no-op.  hl_mem_outstanding() counts live blocks (for leak checks in
 * tests); hl_mem_fail_after(n) makes the (n+1)-th allocation from now fail
 * (n < 0 disables), so tests can prove every failure path is handled.
 */
void *hl_malloc(size_t size);
void *hl_calloc(size_t nmemb, size_t size);
void *hl_realloc(void *ptr, size_t size);
/* Append n bytes to a growable NUL-terminated text buffer (*buf may be
 * NULL; it grows by doubling); 0, HL_ETOOBIG or HL_ENOMEM (then the
 * buffer is unchanged). */
int hl_text_append(char **buf, size_t *len, size_t *cap, const char *s,
		   size_t n) HL_MUST_CHECK;
void hl_free(void *ptr);
long hl_mem_outstanding(void);
void hl_mem_fail_after(long n);
bool hl_mem_failed(void);

/* Overwrite a secret so that the compiler cannot elide it. */
void hl_wipe(void *p, size_t len);

/* Constant-time comparison of two equal-length buffers; true if equal. */
bool hl_ct_equal(const void *a, const void *b, size_t len);

/*
 * Injected randomness.  fill() writes len random bytes.  The library never
 * picks a source by itself: callers pass the OS RNG (src/net) or a seeded
 * generator (tests, simulation).
 */
struct hl_rng {
	void (*fill)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

/* A seeded, deterministic generator (xoshiro256**; not for keys). */
struct hl_prng {
	uint64_t s[4];
};

void hl_prng_seed(struct hl_prng *p, uint64_t seed);
uint64_t hl_prng_next(struct hl_prng *p);
/* Uniform double in [0, 1). */
double hl_prng_unit(struct hl_prng *p);
/* Uniform integer in [0, bound); bound must be > 0. */
uint64_t hl_prng_below(struct hl_prng *p, uint64_t bound);
/* An hl_rng that draws from p (p must outlive it). */
struct hl_rng hl_prng_as_rng(struct hl_prng *p);

uint32_t hl_rng_u32(const struct hl_rng *rng);

/*
 * Logging.  The library logs through one handler; the default writes
 * warnings and errors to stderr.  Programs may install their own.
 */
enum hl_log_level {
	HL_LOG_DEBUG = 0,
	HL_LOG_INFO = 1,
	HL_LOG_WARN = 2,
	HL_LOG_ERROR = 3,
};

typedef void(hl_log_fn)(void *ctx, enum hl_log_level level, const char *msg);

void hl_log_set_handler(hl_log_fn *fn, void *ctx, enum hl_log_level min);
void hl_log(enum hl_log_level level, const char *fmt, ...) HL_PRINTF(2, 3);

/* Big-endian loads and stores (network byte order). */
static inline uint16_t hl_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t hl_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t hl_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t hl_get_be64(const uint8_t *p)
{
	return (uint64_t)hl_get_be32(p) << 32 | hl_get_be32(p + 4);
}

static inline void hl_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void hl_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void hl_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void hl_put_be64(uint8_t *p, uint64_t v)
{
	hl_put_be32(p, (uint32_t)(v >> 32));
	hl_put_be32(p + 4, (uint32_t)v);
}

/*
 * Sequence-number arithmetic (RFC 3550 style): extend a 16-bit value to 64
 * bits, choosing the value nearest to the reference.
 */
static inline uint64_t hl_seq_unwrap16(uint64_t ref, uint16_t v)
{
	uint64_t cand = (ref & ~(uint64_t)0xffff) | v;

	if (cand + 0x8000 < ref && cand + 0x10000 > cand)
		cand += 0x10000;
	else if (cand > ref + 0x8000 && cand >= 0x10000)
		cand -= 0x10000;
	return cand;
}

static inline uint64_t hl_seq_unwrap32(uint64_t ref, uint32_t v)
{
	uint64_t cand = (ref & ~(uint64_t)0xffffffff) | v;

	if (cand + 0x80000000ull < ref)
		cand += 0x100000000ull;
	else if (cand > ref + 0x80000000ull && cand >= 0x100000000ull)
		cand -= 0x100000000ull;
	return cand;
}

#define HL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HL_MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define HL_MAX(a, b)	 ((a) > (b) ? (a) : (b))

/* Branches that "cannot happen" but are handled (SQLite's ALWAYS/NEVER). */
#define HL_NEVER(x)  (x)
#define HL_ALWAYS(x) (x)

#endif /* HOTLINE_BASE_H */
