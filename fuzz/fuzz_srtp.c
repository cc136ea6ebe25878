/*
 * fuzz_srtp.c - libFuzzer target for the DTLS-SRTP endpoint
 * (src/net/dtls.c).
 *
 * Once per process a client/server pair is handshaken in memory; every
 * input is then
 *  1. unprotected by the keyed server (a forgery must never pass: the
 *     keys are fresh per process, so a pass means a broken check);
 *  2. protected by the client (SSRC forced to one of 4 values so that
 *     libsrtp's per-SSRC streams stay bounded) and, if that worked,
 *     unprotected by the server, which must give the input back exactly
 *     and refuse the same packet a second time;
 *  3. fed as a datagram to a fresh server endpoint, whose answer
 *     datagrams must fit the MTU; nothing may leak.
 *
 * Seeds (corpus/srtp/): a ClientHello and protected and plain RTP and
 * RTCP packets, written by a throwaway generator over this endpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/net/dtls_internal.h"

static struct hl_dtls *cli, *srv;

static void pair_init(void)
{
	uint8_t fp_c[HL_DTLS_FP_LEN], fp_s[HL_DTLS_FP_LEN], buf[2048];
	size_t len;
	bool moved = true;

	if (hl_dtls_new(&cli, fp_c) != 0 || hl_dtls_new(&srv, fp_s) != 0 ||
	    hl_dtls_start(srv, false, fp_c) != 0 ||
	    hl_dtls_start(cli, true, fp_s) != 0)
		abort();
	while (moved) {
		moved = false;
		while (hl_dtls_output(cli, buf, sizeof(buf), &len) == 0) {
			if (hl_dtls_input(srv, buf, len) != 0)
				abort();
			moved = true;
		}
		while (hl_dtls_output(srv, buf, sizeof(buf), &len) == 0) {
			if (hl_dtls_input(cli, buf, len) != 0)
				abort();
			moved = true;
		}
	}
	if (!hl_dtls_secure(cli) || !hl_dtls_secure(srv))
		abort();
}

static uint8_t pkt[65536 + HL_SRTP_OVERHEAD], copy[sizeof(pkt)],
	again[sizeof(pkt)];

static void check_unprotect(const uint8_t *data, size_t size)
{
	size_t out;
	int rc;

	if (size > sizeof(pkt) - HL_SRTP_OVERHEAD)
		return;
	memcpy(pkt, data, size);
	rc = hl_dtls_unprotect(srv, pkt, size, &out);
	if (rc == 0)
		abort(); /* a forgery with keys made in this process */
	if (rc != HL_EAUTH && rc != HL_EPARSE && rc != HL_ETOOBIG)
		abort();
}

static void check_roundtrip(const uint8_t *data, size_t size)
{
	bool rtcp = hl_rtp_is_rtcp(data, size);
	size_t plen, ulen;
	int rc;

	if (size > sizeof(pkt) - HL_SRTP_OVERHEAD || size < 12)
		return;
	memcpy(pkt, data, size);
	/* RTP SSRC at 8, RTCP sender SSRC at 4 */
	hl_put_be32(pkt + (rtcp ? 4 : 8), 0x10000u + (data[size - 1] & 3u));
	memcpy(copy, pkt, size);
	rc = hl_dtls_protect(cli, pkt, size, &plen);
	if (rc != 0) {
		if (rc != HL_EPARSE && rc != HL_EREPLAY && rc != HL_ETOOBIG &&
		    rc != HL_ECRYPTO)
			abort();
		return;
	}
	if (plen <= size || plen > size + HL_SRTP_OVERHEAD)
		abort();
	memcpy(again, pkt, plen);
	if (hl_dtls_unprotect(srv, pkt, plen, &ulen) != 0 || ulen != size ||
	    memcmp(pkt, copy, size) != 0)
		abort();
	if (hl_dtls_unprotect(srv, again, plen, &ulen) != HL_EAUTH)
		abort(); /* a replay */
}

static void check_handshake_input(const uint8_t *data, size_t size)
{
	struct hl_dtls *d;
	uint8_t fp[HL_DTLS_FP_LEN], peer[HL_DTLS_FP_LEN] = {1}, buf[2048];
	size_t len;
	int rc;

	if (hl_dtls_new(&d, fp) != 0)
		abort();
	if (hl_dtls_start(d, false, peer) != 0)
		abort();
	rc = hl_dtls_input(d, data, size);
	if (rc != 0 && rc != HL_ECRYPTO && rc != HL_EAUTH)
		abort();
	if (rc != 0 && !hl_dtls_error(d))
		abort();
	while ((rc = hl_dtls_output(d, buf, sizeof(buf), &len)) == 0)
		if (len > 1200)
			abort();
	if (rc != HL_EAGAIN || hl_dtls_secure(d))
		abort();
	hl_dtls_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long mem0;

	if (!cli)
		pair_init();
	mem0 = hl_mem_outstanding();
	check_unprotect(data, size);
	check_roundtrip(data, size);
	check_handshake_input(data, size);
	if (hl_mem_outstanding() != mem0)
		abort();
	return 0;
}
