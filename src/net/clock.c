/*
 * clock.c - clocks and OS randomness, the only place libhotline reads them.
 */
#include <time.h>

#include <sodium.h>

#include "hotline/net.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t hl_clock_now_us(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t hl_clock_wall_us(void)
{
	return read_clock(CLOCK_REALTIME);
}

static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

struct hl_rng hl_rng_os(void)
{
	struct hl_rng r = {os_fill, NULL};

	if (sodium_init() < 0)
		r.fill = NULL; /* callers check; libsodium could not start */
	return r;
}
