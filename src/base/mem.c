/*
 * mem.c - the one allocation wrapper of libhotline.
 *
 * Each block carries a small header with its size so that the wrapper can
 * keep a count of live blocks (leak checks in tests) and so that tests can
 * make the N-th allocation fail (hl_mem_fail_after) to prove that every
 * failure path is handled.  The counters are atomics: the library may be
 * used from several threads (codec threads, the net loop).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hotline/base.h"

#define HDR 16 /* keeps max_align_t alignment on the platforms we target */

static atomic_long live_blocks;
static atomic_long fail_countdown = -1;
static atomic_bool has_failed;

static bool should_fail(void)
{
	long n = atomic_load(&fail_countdown);

	while (n >= 0) {
		if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1)) {
			if (n == 0) {
				atomic_store(&has_failed, true);
				return true;
			}
			return false;
		}
	}
	return false;
}

void *hl_malloc(size_t size)
{
	uint8_t *p;

	if (size > SIZE_MAX - HDR || should_fail())
		return NULL;
	p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_add(&live_blocks, 1);
	return p + HDR;
}

void *hl_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = hl_malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void *hl_realloc(void *ptr, size_t size)
{
	uint8_t *p;

	if (!ptr)
		return hl_malloc(size);
	if (size > SIZE_MAX - HDR || should_fail())
		return NULL;
	p = realloc((uint8_t *)ptr - HDR, size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + HDR;
}

void hl_free(void *ptr)
{
	if (!ptr)
		return;
	atomic_fetch_sub(&live_blocks, 1);
	free((uint8_t *)ptr - HDR);
}

long hl_mem_outstanding(void)
{
	return atomic_load(&live_blocks);
}

void hl_mem_fail_after(long n)
{
	atomic_store(&has_failed, false);
	atomic_store(&fail_countdown, n);
}

bool hl_mem_failed(void)
{
	return atomic_load(&has_failed);
}

void hl_wipe(void *p, size_t len)
{
	if (p && len)
		sodium_memzero(p, len);
}

bool hl_ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

int hl_text_append(char **buf, size_t *len, size_t *cap, const char *s,
		   size_t n)
{
	if (n > SIZE_MAX / 4 - *len)
		return HL_ETOOBIG;
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 1024;
		char *nb;

		while (c < *len + n + 1)
			c *= 2;
		nb = hl_realloc(*buf, c);
		if (!nb)
			return HL_ENOMEM;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}
