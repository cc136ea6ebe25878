/*
 * hotline/net.h - the only I/O layer: clocks, OS randomness (and, later,
 * sockets, ICE, DTLS-SRTP and the signalling client).
 */
#ifndef HOTLINE_NET_H
#define HOTLINE_NET_H

#include "hotline/base.h"

/* Monotonic microseconds (CLOCK_MONOTONIC). */
uint64_t hl_clock_now_us(void);
/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t hl_clock_wall_us(void);
/* An hl_rng over the OS generator (libsodium randombytes). */
struct hl_rng hl_rng_os(void);

#endif /* HOTLINE_NET_H */
