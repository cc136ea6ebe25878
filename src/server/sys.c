/*
 * sys.c - the only place hotlined reads a clock or the OS random
 * generator (scripts/check-source.sh allows this one file in src/server).
 *
 * The core never calls these: lws.c reads `now` once per event and passes
 * it in, and hands the core this generator for its challenges.
 */
#include <time.h>

#include <sodium.h>

#include "server_internal.h"

uint64_t hl_srv_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

struct hl_rng hl_srv_rng(void)
{
	struct hl_rng r = {os_fill, NULL};

	if (sodium_init() < 0)
		r.fill = NULL; /* callers check: libsodium could not start */
	return r;
}
