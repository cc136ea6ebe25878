/*
 * pace.h - real-time pacing for the benchmark programs: sleep until an
 * absolute CLOCK_MONOTONIC time in microseconds (hl_clock_now_us()'s
 * clock).
 */
#ifndef HOTLINE_BENCH_PACE_H
#define HOTLINE_BENCH_PACE_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline void sleep_until(uint64_t t_us)
{
	struct timespec ts = {.tv_sec = (time_t)(t_us / 1000000u),
			      .tv_nsec = (long)(t_us % 1000000u) * 1000};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

#endif
