/*
 * test_transport.c - ICE + DTLS-SRTP between two transports in this
 * process, on 127.0.0.1 only, and through a coturn relay the test
 * starts itself (/usr/bin/turnserver, killed by its PID).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "hotline/net.h"
#include "hotline/transport.h"

#include <openssl/hmac.h>

#include "server_internal.h" /* hl_srv_turn_password */

#define SECURE_TIMEOUT_MS 10000
#define N_PACKETS	  100
#define PKT_LEN		  200

struct side {
	struct hl_transport *t;
	bool connected, secure, failed;
	char reason[160];
	size_t got;		 /* distinct packets received */
	uint8_t seen[65536 / 8]; /* per sequence number */
	uint16_t next_seq;	 /* of the packets we send */
	size_t rtcp;		 /* RTCP packets received */
	bool bad_content;
	struct hl_tp_event ev;
};

static void side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
}

static struct hl_transport_config loopback_cfg(bool controlling)
{
	struct hl_transport_config c;

	memset(&c, 0, sizeof(c));
	c.controlling = controlling;
	c.loopback = true;
	return c;
}

/* An RTP packet (V=2, PT 96) whose payload is derived from seq. */
static size_t make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = 96;
	hl_put_be16(p + 2, seq);
	hl_put_be32(p + 4, 1000u * seq);
	hl_put_be32(p + 8, ssrc);
	for (size_t i = 12; i < PKT_LEN; i++)
		p[i] = (uint8_t)(seq * 31 + i);
	return PKT_LEN;
}

static bool check_rtp(const uint8_t *p, size_t len, uint32_t ssrc,
		      uint16_t *seq)
{
	uint8_t want[PKT_LEN];

	if (len != PKT_LEN || p[0] != 0x80 || p[1] != 96)
		return false;
	*seq = hl_get_be16(p + 2);
	make_rtp(want, *seq, ssrc);
	return memcmp(p, want, PKT_LEN) == 0;
}

/* Drain one side's events. */
static void pump(struct side *s, uint32_t peer_ssrc)
{
	while (hl_transport_next(s->t, &s->ev) == 0) {
		uint16_t seq;

		switch (s->ev.kind) {
		case HL_TP_CONNECTED:
			s->connected = true;
			break;
		case HL_TP_SECURE:
			s->secure = true;
			break;
		case HL_TP_FAILED:
			s->failed = true;
			memcpy(s->reason, s->ev.reason, sizeof(s->reason));
			break;
		case HL_TP_PACKET:
			if (s->ev.len >= 8 && s->ev.data[1] == 201)
				s->rtcp++;
			else if (s->ev.len >= 2 && s->ev.data[1] == 96) {
				if (!check_rtp(s->ev.data, s->ev.len, peer_ssrc,
					       &seq)) {
					s->bad_content = true;
				} else if (!(s->seen[seq / 8] &
					     1u << seq % 8)) {
					s->seen[seq / 8] |=
						(uint8_t)(1u << seq % 8);
					s->got++;
				}
			}
			break;
		}
	}
}

/*
 * The garbage test's socket poses as one of a's candidates: it answers
 * b's connectivity checks (RFC 8489 binding success with
 * XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY keyed with a's password and
 * FINGERPRINT) so that libnice, which drops datagrams from addresses of
 * no validated pair, lets what it sends through.
 */
static int stun_fd = -1;
static char stun_pwd[HL_ICE_PWD_MAX + 1];   /* a's: answers to b's checks */
static char stun_b_pwd[HL_ICE_PWD_MAX + 1]; /* b's: our checks to b */
static char stun_user[2 * HL_ICE_UFRAG_MAX + 2]; /* "b_ufrag:a_ufrag" */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* MESSAGE-INTEGRITY then FINGERPRINT after the n bytes of m. */
static size_t stun_seal(uint8_t *m, size_t n, const char *key)
{
	unsigned int mac_len = 0;

	hl_put_be16(m + 2, (uint16_t)(n - 20 + 24));
	hl_put_be16(m + n, 0x0008);
	hl_put_be16(m + n + 2, 20);
	HMAC(EVP_sha1(), key, (int)strlen(key), m, n, m + n + 4, &mac_len);
	n += 24;
	hl_put_be16(m + 2, (uint16_t)(n - 20 + 8));
	hl_put_be16(m + n, 0x8028);
	hl_put_be16(m + n + 2, 4);
	hl_put_be32(m + n + 4, crc32_ieee(m, n) ^ 0x5354554eu);
	return n + 8;
}

static void answer_checks(void)
{
	uint8_t req[1500], r[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(stun_fd, req, sizeof(req), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl)) >= 20) {
		fl = sizeof(from);
		if (hl_get_be16(req) != 0x0001 ||
		    hl_get_be32(req + 4) != 0x2112a442)
			continue;
		memset(r, 0, sizeof(r));
		hl_put_be16(r, 0x0101);
		memcpy(r + 4, req + 4, 16); /* cookie, transaction id */
		hl_put_be16(r + 20, 0x0020);
		hl_put_be16(r + 22, 8);
		r[25] = 0x01;
		hl_put_be16(r + 26, ntohs(from.sin_port) ^ 0x2112);
		hl_put_be32(r + 28, ntohl(from.sin_addr.s_addr) ^ 0x2112a442);
		if (stun_seal(r, 32, stun_pwd) != sizeof(r))
			continue;
		if (sendto(stun_fd, r, sizeof(r), 0, (struct sockaddr *)&from,
			   sizeof(from)) < 0) {
		}
	}
}

/* A connectivity check to b as if from one of a's candidates: b answers
 * and checks the pair back (a triggered check, RFC 8445 §7.3.1.4). */
static void send_check(const struct sockaddr_in *to)
{
	uint8_t m[256];
	size_t n = 20, ul = strlen(stun_user);

	memset(m, 0, sizeof(m));
	hl_put_be16(m, 0x0001);
	hl_put_be32(m + 4, 0x2112a442);
	for (int i = 0; i < 12; i++)
		m[8 + i] = (uint8_t)(0x5a + i * 17 + to->sin_port);
	hl_put_be16(m + n, 0x0006); /* USERNAME */
	hl_put_be16(m + n + 2, (uint16_t)ul);
	memcpy(m + n + 4, stun_user, ul);
	n += 4 + ((ul + 3) & ~(size_t)3);
	hl_put_be16(m + n, 0x0024); /* PRIORITY */
	hl_put_be16(m + n + 2, 4);
	hl_put_be32(m + n + 4, 0x6e0001ffu);
	n += 8;
	hl_put_be16(m + n, 0x802a); /* ICE-CONTROLLING */
	hl_put_be16(m + n + 2, 8);
	memset(m + n + 4, 0x77, 8);
	n += 12;
	n = stun_seal(m, n, stun_b_pwd);
	if (sendto(stun_fd, m, n, 0, (const struct sockaddr *)to, sizeof(*to)) <
	    0) {
	}
}

/* Wait for each side's network up to 10 ms and pump both sides. */
static void step(struct side *a, struct side *b)
{
	if ((a && a->t && hl_transport_wait(a->t, 10) != 0) ||
	    (b && b->t && hl_transport_wait(b->t, 10) != 0)) {
		fprintf(stderr, "hl_transport_wait failed\n");
		abort();
	}
	if (stun_fd >= 0)
		answer_checks();
	if (a && a->t)
		pump(a, 0xb0b);
	if (b && b->t)
		pump(b, 0xa11ce);
}

static uint64_t now_ms(void)
{
	return hl_clock_now_us() / 1000;
}

/* An extra remote candidate b is told about (the garbage test). */
static char extra_for_b[HL_ICE_CANDIDATE_MAX + 1];

/*
 * Create both sides with their configs, exchange parameters as cmd_join
 * does (the controlling side offers actpass, the other answers active)
 * and start both.  corrupt: 1 flips the fingerprint b is told, 2 the
 * one a is told.
 */
static int make_pair(struct side *a, struct side *b,
		     const struct hl_transport_config *ca,
		     const struct hl_transport_config *cb, int corrupt)
{
	struct hl_transport_params pa, pb;
	const char *msg = NULL;

	side_init(a);
	side_init(b);
	HT_OK(hl_transport_new(&a->t, ca, &msg));
	HT_OK(hl_transport_new(&b->t, cb, &msg));
	HT_OK(hl_transport_local(a->t, &pa, 5000));
	HT_OK(hl_transport_local(b->t, &pb, 5000));
	HT_ASSERT(pa.n_candidates > 0 && pb.n_candidates > 0);
	HT_ASSERT(strncmp(pa.candidates[0], "candidate:", 10) == 0);
	pa.setup = HL_SETUP_ACTPASS;
	pb.setup = HL_SETUP_ACTIVE;
	if (extra_for_b[0] && pa.n_candidates < HL_ICE_MAX_CANDIDATES)
		memcpy(pa.candidates[pa.n_candidates++], extra_for_b,
		       sizeof(extra_for_b));
	memcpy(stun_pwd, pa.pwd, sizeof(stun_pwd));
	memcpy(stun_b_pwd, pb.pwd, sizeof(stun_b_pwd));
	snprintf(stun_user, sizeof(stun_user), "%s:%s", pb.ufrag, pa.ufrag);
	if (corrupt == 1)
		pa.fingerprint[7] ^= 0x40;
	if (corrupt == 2)
		pb.fingerprint[30] ^= 0x01;
	/* b first: its checks of the garbage test's candidate (the highest
	 * priority) then go out before a nominates a pair. */
	HT_OK(hl_transport_start(b->t, &pa));
	HT_OK(hl_transport_start(a->t, &pb));
	return 0;
}

static int wait_secure(struct side *a, struct side *b)
{
	uint64_t end = now_ms() + SECURE_TIMEOUT_MS;

	while (!(a->secure && b->secure) && !a->failed && !b->failed &&
	       now_ms() < end)
		step(a, b);
	if (a->failed || b->failed)
		fprintf(stderr, "  failed: a \"%s\" b \"%s\"\n", a->reason,
			b->reason);
	HT_ASSERT(a->connected && b->connected);
	HT_ASSERT(a->secure && b->secure);
	return 0;
}

/* n RTP packets each way (plus a few RTCP), all must arrive intact. */
static int exchange(struct side *a, struct side *b, size_t n,
		    bool keep_sending_garbage, int garbage_fd,
		    const struct sockaddr_in *garbage_to)
{
	uint8_t pkt[PKT_LEN];
	uint64_t end;

	memset(a->seen, 0, sizeof(a->seen));
	memset(b->seen, 0, sizeof(b->seen));
	a->got = b->got = 0;
	a->rtcp = b->rtcp = 0;
	for (size_t i = 0; i < n; i++) {
		HT_OK(hl_transport_send(a->t, pkt,
					make_rtp(pkt, a->next_seq++, 0xa11ce)));
		HT_OK(hl_transport_send(b->t, pkt,
					make_rtp(pkt, b->next_seq++, 0xb0b)));
		if (keep_sending_garbage) {
			uint8_t g[64];
			static const uint8_t first[] = {0x00, 0x05, 0x17, 0x42,
							0x80, 0x90, 0xbf, 0xff};

			for (size_t k = 0; k < sizeof(g); k++)
				g[k] = (uint8_t)(i * 7 + k * 13);
			g[0] = first[i % sizeof(first)];
			HT_ASSERT(sendto(garbage_fd, g, sizeof(g), 0,
					 (const struct sockaddr *)garbage_to,
					 sizeof(*garbage_to)) ==
				  (ssize_t)sizeof(g));
		}
		/* Pace a little so that nothing overflows a socket. */
		if (i % 10 == 9)
			step(a, b);
	}
	/* A receiver report each way: SRTCP goes the same path. */
	{
		static const uint8_t rr[8] = {0x80, 201, 0,    1,
					      0,    0,	 0x0a, 0x01};

		HT_OK(hl_transport_send(a->t, rr, sizeof(rr)));
		HT_OK(hl_transport_send(b->t, rr, sizeof(rr)));
	}
	end = now_ms() + 5000;
	while ((a->got < n || b->got < n || !a->rtcp || !b->rtcp) &&
	       now_ms() < end && !a->failed && !b->failed)
		step(a, b);
	HT_ASSERT(!a->bad_content && !b->bad_content);
	HT_EQ_INT(a->got, n);
	HT_EQ_INT(b->got, n);
	HT_EQ_INT(a->rtcp, 1);
	HT_EQ_INT(b->rtcp, 1);
	return 0;
}

static void free_pair(struct side *a, struct side *b)
{
	hl_transport_free(a->t);
	hl_transport_free(b->t);
	a->t = b->t = NULL;
}

/* ---- tests ------------------------------------------------------------ */

static int test_loopback_call(void)
{
	struct hl_transport_config ca = loopback_cfg(true),
				   cb = loopback_cfg(false);
	struct side *a = hl_calloc(1, sizeof(*a)),
		    *b = hl_calloc(1, sizeof(*b));
	struct hl_tp_stats sa, sb;
	uint8_t pkt[PKT_LEN];
	int rc = -1;

	if (!a || !b)
		goto out;
	if (make_pair(a, b, &ca, &cb, 0))
		goto out;
	/* Nothing is sent before SRTP is keyed. */
	if (hl_transport_send(a->t, pkt, make_rtp(pkt, 1, 1)) != HL_ESTATE)
		goto out;
	if (wait_secure(a, b) || exchange(a, b, N_PACKETS, false, -1, NULL))
		goto out;
	hl_transport_stats(a->t, &sa);
	hl_transport_stats(b->t, &sb);
	fprintf(stderr, "  a %s <-> %s (%s), b %s <-> %s\n", sa.local,
		sa.remote, sa.srtp_profile, sb.local, sb.remote);
	if (!sa.connected || !sa.secure || sa.relayed || sb.relayed ||
	    strncmp(sa.local, "127.0.0.1:", 10) != 0 ||
	    strcmp(sa.local, sb.remote) != 0 ||
	    strcmp(sb.local, sa.remote) != 0 || !sa.srtp_profile[0] ||
	    strcmp(sa.srtp_profile, sb.srtp_profile) != 0)
		goto out;
	fprintf(stderr,
		"  a sent %llu/%llu B, got %llu/%llu B; b sent %llu/%llu B, "
		"got %llu/%llu B; dropped %llu %llu\n",
		(unsigned long long)sa.packets_sent,
		(unsigned long long)sa.bytes_sent,
		(unsigned long long)sa.packets_received,
		(unsigned long long)sa.bytes_received,
		(unsigned long long)sb.packets_sent,
		(unsigned long long)sb.bytes_sent,
		(unsigned long long)sb.packets_received,
		(unsigned long long)sb.bytes_received,
		(unsigned long long)sa.dropped, (unsigned long long)sb.dropped);
	/* 100 RTP + 1 RTCP each way; everything sent arrived. */
	if (sa.packets_sent != N_PACKETS + 1 ||
	    sb.packets_received != N_PACKETS + 1 ||
	    sb.packets_sent != N_PACKETS + 1 ||
	    sa.packets_received != N_PACKETS + 1 ||
	    sa.bytes_sent != sb.bytes_received ||
	    sb.bytes_sent != sa.bytes_received ||
	    sa.bytes_sent < (N_PACKETS + 1) * 8 + N_PACKETS * PKT_LEN ||
	    sa.srtp_failures || sb.srtp_failures || sa.dropped || sb.dropped)
		goto out;
	/* A pair of host candidates: the media was read past libnice. */
	if (!sa.read_direct || !sb.read_direct)
		goto out;
	/* Idle, libnice's context still runs every 50-80 ms (ice.c
	 * GLIB_GAP_MS, GLIB_SLACK_MS), though nothing arrives: its timers
	 * keep their time.  After a second its check timer has stopped; count the
	 * rounds of the next half second (8-10 each, step() waiting 10 ms). */
	{
		uint64_t end = now_ms() + 1000, ra, rb;

		while (now_ms() < end)
			step(a, b);
		hl_transport_stats(a->t, &sa);
		hl_transport_stats(b->t, &sb);
		ra = sa.ice_rounds;
		rb = sb.ice_rounds;
		end = now_ms() + 500;
		while (now_ms() < end)
			step(a, b);
		hl_transport_stats(a->t, &sa);
		hl_transport_stats(b->t, &sb);
		fprintf(stderr,
			"  read directly %llu and %llu datagrams; idle, %llu "
			"and %llu rounds of libnice's context in 0.5 s\n",
			(unsigned long long)sa.read_direct,
			(unsigned long long)sb.read_direct,
			(unsigned long long)(sa.ice_rounds - ra),
			(unsigned long long)(sb.ice_rounds - rb));
		if (sa.ice_rounds - ra < 3 || sb.ice_rounds - rb < 3)
			goto out;
	}
	/* A long wait on an idle transport still runs the context: the round
	 * due after GLIB_GAP_MS waits GLIB_SLACK_MS for another wake-up,
	 * then wakes the thread itself (80 ms in all). */
	{
		uint64_t t0 = now_ms(), r0, took;

		hl_transport_stats(a->t, &sa);
		r0 = sa.ice_rounds;
		if (hl_transport_wait(a->t, 1000) != 0)
			goto out;
		took = now_ms() - t0;
		hl_transport_stats(a->t, &sa);
		fprintf(stderr,
			"  a 1 s wait returned after %llu ms, %llu rounds\n",
			(unsigned long long)took,
			(unsigned long long)(sa.ice_rounds - r0));
		if (took > 300 || sa.ice_rounds == r0)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "loopback call");
	if (a && b)
		free_pair(a, b);
	hl_free(a);
	hl_free(b);
	return rc;
}

static bool mentions(const char *s, const char *word)
{
	return strstr(s, word) != NULL;
}

/* corrupt 1: the DTLS client (b) is told a wrong fingerprint; 2: the
 * server (a). */
static int wrong_fingerprint(int corrupt)
{
	struct hl_transport_config ca = loopback_cfg(true),
				   cb = loopback_cfg(false);
	struct side *a = hl_calloc(1, sizeof(*a)),
		    *b = hl_calloc(1, sizeof(*b));
	struct side *victim;
	uint64_t end;
	uint8_t pkt[PKT_LEN];
	int rc = -1;

	if (!a || !b || make_pair(a, b, &ca, &cb, corrupt))
		goto out;
	victim = corrupt == 1 ? b : a;
	end = now_ms() + SECURE_TIMEOUT_MS;
	while (!victim->failed && now_ms() < end)
		step(a, b);
	fprintf(stderr, "  %s: \"%s\"\n", corrupt == 1 ? "client" : "server",
		victim->reason);
	if (!victim->failed || victim->secure ||
	    !mentions(victim->reason, "fingerprint"))
		goto out;
	/* One FAILED only; then nothing, and nothing can be sent. */
	for (int i = 0; i < 5; i++) {
		step(a, b);
		if (hl_transport_next(victim->t, &victim->ev) != HL_EAGAIN)
			goto out;
	}
	if (hl_transport_send(victim->t, pkt, make_rtp(pkt, 1, 1)) != HL_ESTATE)
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "wrong fingerprint");
	if (a && b)
		free_pair(a, b);
	hl_free(a);
	hl_free(b);
	return rc;
}

static int test_wrong_fingerprint_client(void)
{
	return wrong_fingerprint(1);
}

static int test_wrong_fingerprint_server(void)
{
	return wrong_fingerprint(2);
}

static int parse_addr(const char *s, struct sockaddr_in *sin)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 && port > 0 ? 0 : -1;
}

static int test_garbage(void)
{
	struct hl_transport_config ca = loopback_cfg(true),
				   cb = loopback_cfg(false);
	struct side *a = hl_calloc(1, sizeof(*a)),
		    *b = hl_calloc(1, sizeof(*b));
	struct hl_tp_stats sb;
	struct sockaddr_in to, me;
	socklen_t sl = sizeof(me);
	int fd = -1, rc = -1;

	/*
	 * libnice keeps datagrams from addresses that are not the peer's
	 * candidates to itself: the garbage comes from an address b was
	 * told is one of a's (an attacker who got into the candidate list,
	 * or a buggy peer).
	 */
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!a || !b || fd < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &sl) != 0)
		goto out;
	snprintf(extra_for_b, sizeof(extra_for_b),
		 "candidate:99 1 UDP 2130706431 127.0.0.1 %u typ host",
		 ntohs(me.sin_port));
	stun_fd = fd;
	if (make_pair(a, b, &ca, &cb, 0) || wait_secure(a, b))
		goto out;
	hl_transport_stats(b->t, &sb);
	if (parse_addr(sb.local, &to))
		goto out;
	/* Get the socket's pair validated if b did not check it yet. */
	for (int i = 0; i < 10; i++) {
		send_check(&to);
		step(a, b);
	}
	if (exchange(a, b, N_PACKETS, true, fd, &to))
		goto out;
	hl_transport_stats(b->t, &sb);
	fprintf(stderr, "  b: dropped %llu, srtp failures %llu\n",
		(unsigned long long)sb.dropped,
		(unsigned long long)sb.srtp_failures);
	/* SRTP-looking garbage fails authentication; the rest is of no
	 * known kind (libnice keeps what parses as STUN to itself). */
	if (sb.srtp_failures == 0 || sb.dropped == 0 ||
	    sb.srtp_failures + sb.dropped > N_PACKETS)
		goto out;
	/* And the call goes on. */
	if (exchange(a, b, 20, false, -1, NULL) || a->failed || b->failed)
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "garbage");
	extra_for_b[0] = '\0';
	stun_fd = -1;
	if (fd >= 0)
		close(fd);
	if (a && b)
		free_pair(a, b);
	hl_free(a);
	hl_free(b);
	return rc;
}

static int test_peer_gone(void)
{
	struct hl_transport_config ca = loopback_cfg(true),
				   cb = loopback_cfg(false);
	struct side *a = hl_calloc(1, sizeof(*a)),
		    *b = hl_calloc(1, sizeof(*b));
	uint64_t t0, end;
	int rc = -1;

	ca.consent_timeout_ms = cb.consent_timeout_ms = 2000;
	if (!a || !b || make_pair(a, b, &ca, &cb, 0) || wait_secure(a, b) ||
	    exchange(a, b, 10, false, -1, NULL))
		goto out;
	hl_transport_free(b->t);
	b->t = NULL;
	t0 = now_ms();
	end = t0 + 4000;
	while (!a->failed && now_ms() < end) {
		uint8_t pkt[PKT_LEN];

		/* a keeps talking into the void. */
		if (hl_transport_send(a->t, pkt,
				      make_rtp(pkt, a->next_seq++, 0xa11ce)))
			break;
		step(a, NULL);
	}
	fprintf(stderr, "  after %llu ms: \"%s\"\n",
		(unsigned long long)(now_ms() - t0), a->reason);
	if (!a->failed || !mentions(a->reason, "consent") ||
	    now_ms() - t0 > 3000)
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "peer gone");
	if (a && b)
		free_pair(a, b);
	hl_free(a);
	hl_free(b);
	return rc;
}

static int test_bad_config(void)
{
	struct hl_transport_config c = loopback_cfg(true);
	struct hl_turn_creds turn;
	struct hl_transport *t = NULL;
	const char *msg = NULL;

	c.relay_only = true;
	HT_EQ_INT(hl_transport_new(&t, &c, &msg), HL_EINVAL);
	HT_ASSERT(msg && strcmp(msg, "relay-only needs a TURN server") == 0);
	HT_ASSERT(t == NULL);

	memset(&turn, 0, sizeof(turn));
	snprintf(turn.username, sizeof(turn.username), "1:x");
	snprintf(turn.password, sizeof(turn.password), "y");
	c.turn = &turn;
	static const char *const bad[] = {
		"turns:127.0.0.1:5349",
		"turn:127.0.0.1:3478?transport=tcp",
		"stun:127.0.0.1",
		"turn:127.0.0.1:99999",
		"turn:",
		"turn:[::1",
		"turn:127.0.0.1:3478?foo=bar",
		"turn:127.0.0.1:3478x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(turn.uri, sizeof(turn.uri), "%s", bad[i]);
		msg = NULL;
		HT_ASSERT(hl_transport_new(&t, &c, &msg) != 0);
		HT_ASSERT(t == NULL && msg && msg[0]);
		if (i < 2)
			HT_ASSERT(mentions(msg, i ? "TCP" : "TLS"));
	}
	return 0;
}

/* Unusable remote parameters; candidates of which some are garbage. */
static int test_bad_remote(void)
{
	struct hl_transport_config c = loopback_cfg(true);
	struct hl_transport_params p;
	struct hl_transport *t = NULL;
	struct side *s = hl_calloc(1, sizeof(*s));
	uint64_t end;
	const char *msg;
	int rc = -1;

	if (!s)
		return -1;
	side_init(s);
	c.connect_timeout_ms = 1500;
	if (hl_transport_new(&t, &c, &msg) || hl_transport_local(t, &p, 5000))
		goto out;
	/* Our own credentials are well-formed; the candidates are not. */
	p.setup = HL_SETUP_ACTIVE;
	p.n_candidates = 3;
	snprintf(p.candidates[0], sizeof(p.candidates[0]), "garbage");
	snprintf(p.candidates[1], sizeof(p.candidates[1]),
		 "candidate:1 1 UDP 2013266431 host.local 5000 typ host");
	snprintf(p.candidates[2], sizeof(p.candidates[2]),
		 "candidate:1 2 UDP 2013266431 127.0.0.1 5000 typ host");
	if (hl_transport_start(t, &p) != HL_EPARSE)
		goto out;
	p.n_candidates = 1;
	snprintf(p.candidates[0], sizeof(p.candidates[0]), "candidate:1 1");
	if (hl_transport_start(t, &p) != HL_EPARSE)
		goto out;
	/* Nobody at that address: "could not connect" in time. */
	snprintf(p.candidates[0], sizeof(p.candidates[0]),
		 "a=candidate:1 1 UDP 2013266431 127.0.0.1 9 typ host");
	snprintf(p.ufrag, sizeof(p.ufrag), "nobodyhere");
	if (hl_transport_start(t, &p) != 0 ||
	    hl_transport_start(t, &p) != HL_ESTATE)
		goto out;
	s->t = t;
	end = now_ms() + 5000;
	while (!s->failed && now_ms() < end)
		step(s, NULL);
	fprintf(stderr, "  \"%s\"\n", s->reason);
	if (!s->failed || strncmp(s->reason, "could not connect", 17) != 0)
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "bad remote");
	hl_transport_free(t);
	hl_free(s);
	return rc;
}

/* ---- coturn ----------------------------------------------------------- */

struct turnd {
	pid_t pid;
	char dir[64];
	uint16_t port, min_port, max_port;
	char secret[33];
};

static uint16_t free_udp_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A STUN binding request (RFC 8489 §5) answered: the server listens. */
static bool turnd_answers(uint16_t port)
{
	uint8_t req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4,
			   0x42, 1,    2,    3,	   4,	 5,    6,
			   7,	 8,    9,    10,   11,	 12};
	uint8_t resp[512];
	struct sockaddr_in sin;
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok = false;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return false;
	if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&sin,
		   sizeof(sin)) == sizeof(req)) {
		p = (struct pollfd){fd, POLLIN, 0};
		if (poll(&p, 1, 200) == 1 &&
		    recv(fd, resp, sizeof(resp), 0) >= 20 &&
		    hl_get_be16(resp) == 0x0101)
			ok = true;
	}
	close(fd);
	return ok;
}

static void turnd_stop(struct turnd *d)
{
	char path[128];

	if (d->pid > 0) {
		int status;
		uint64_t end = now_ms() + 2000;

		kill(d->pid, SIGTERM);
		while (waitpid(d->pid, &status, WNOHANG) == 0) {
			if (now_ms() > end) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		d->pid = 0;
	}
	if (d->dir[0]) {
		static const char *const files[] = {"turn.log", "turn.pid",
						    "turndb"};

		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", d->dir, files[i]);
			unlink(path);
		}
		rmdir(d->dir);
		d->dir[0] = '\0';
	}
}

static int turnd_start(struct turnd *d)
{
	const char *exe = "/usr/bin/turnserver";
	char a_port[16], a_min[24], a_max[24], a_secret[64], a_log[96],
		a_pid[96], a_db[96];
	struct hl_rng os = hl_rng_os();
	uint8_t rnd[16];
	uint64_t end;

	memset(d, 0, sizeof(*d));
	if (access(exe, X_OK) != 0) {
		fprintf(stderr,
			"  %s is missing: install coturn (scripts/deps.sh)\n",
			exe);
		return -1;
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/hl-turn-XXXXXX");
	if (!mkdtemp(d->dir)) {
		d->dir[0] = '\0';
		return -1;
	}
	os.fill(os.ctx, rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(d->secret + 2 * i, 3, "%02x", rnd[i]);
	d->port = free_udp_port();
	d->min_port = (uint16_t)(40000 + (hl_get_be16(rnd) % 2000) * 10);
	d->max_port = (uint16_t)(d->min_port + 9);
	if (!d->port)
		return -1;
	snprintf(a_port, sizeof(a_port), "%u", d->port);
	snprintf(a_min, sizeof(a_min), "--min-port=%u", d->min_port);
	snprintf(a_max, sizeof(a_max), "--max-port=%u", d->max_port);
	snprintf(a_secret, sizeof(a_secret), "--static-auth-secret=%s",
		 d->secret);
	snprintf(a_log, sizeof(a_log), "%s/turn.log", d->dir);
	snprintf(a_pid, sizeof(a_pid), "%s/turn.pid", d->dir);
	snprintf(a_db, sizeof(a_db), "%s/turndb", d->dir);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		const char *argv[] = {exe,
				      "-n",
				      "--listening-port",
				      a_port,
				      "--listening-ip=127.0.0.1",
				      "--relay-ip=127.0.0.1",
				      "--use-auth-secret",
				      a_secret,
				      "--realm=hotline",
				      "--allow-loopback-peers",
				      "--no-tls",
				      "--no-dtls",
				      "--no-tcp",
				      "--no-tcp-relay",
				      "--no-cli",
				      a_min,
				      a_max,
				      "--log-file",
				      a_log,
				      "--simple-log",
				      "--no-stdout-log",
				      "--pidfile",
				      a_pid,
				      "--db",
				      a_db,
				      NULL};
		int null = open("/dev/null", O_RDWR);

		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	end = now_ms() + 5000;
	while (now_ms() < end) {
		int status;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr,
				"  turnserver exited at once (see %s)\n",
				a_log);
			d->pid = 0;
			return -1;
		}
		if (turnd_answers(d->port))
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "  turnserver does not answer on port %u\n", d->port);
	return -1;
}

static bool port_in(const char *addr, uint16_t lo, uint16_t hi)
{
	const char *c = strrchr(addr, ':');
	long p = c ? strtol(c + 1, NULL, 10) : 0;

	return strncmp(addr, "127.0.0.1:", 10) == 0 && p >= lo && p <= hi;
}

static int test_relay_only(void)
{
	struct hl_transport_config ca = loopback_cfg(true),
				   cb = loopback_cfg(false);
	struct side *a = hl_calloc(1, sizeof(*a)),
		    *b = hl_calloc(1, sizeof(*b));
	struct hl_turn_creds turn;
	struct hl_tp_stats sa, sb;
	struct turnd d;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (!a || !b || turnd_start(&d))
		goto out;
	memset(&turn, 0, sizeof(turn));
	snprintf(turn.uri, sizeof(turn.uri), "turn:127.0.0.1:%u?transport=udp",
		 d.port);
	snprintf(turn.username, sizeof(turn.username), "%llu:alice",
		 (unsigned long long)(hl_clock_wall_us() / 1000000 + 3600));
	if (hl_srv_turn_password(d.secret, turn.username, turn.password,
				 sizeof(turn.password)))
		goto out;
	turn.ttl_s = 3600;
	ca.relay_only = cb.relay_only = true;
	ca.turn = cb.turn = &turn;
	if (make_pair(a, b, &ca, &cb, 0) || wait_secure(a, b))
		goto out;
	hl_transport_stats(a->t, &sa);
	hl_transport_stats(b->t, &sb);
	fprintf(stderr, "  a %s <-> %s, b %s <-> %s (relays %u-%u)\n", sa.local,
		sa.remote, sb.local, sb.remote, d.min_port, d.max_port);
	if (!sa.relayed || !sb.relayed ||
	    !port_in(sa.local, d.min_port, d.max_port) ||
	    !port_in(sa.remote, d.min_port, d.max_port) ||
	    !port_in(sb.local, d.min_port, d.max_port) ||
	    !port_in(sb.remote, d.min_port, d.max_port))
		goto out;
	if (exchange(a, b, N_PACKETS, false, -1, NULL))
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "relay only");
	if (a && b)
		free_pair(a, b);
	hl_free(a);
	hl_free(b);
	turnd_stop(&d);
	return rc;
}

/* Relay-only candidates are relay candidates only. */
static int test_relay_candidates(void)
{
	struct hl_transport_config c = loopback_cfg(true);
	struct hl_transport_params p;
	struct hl_turn_creds turn;
	struct hl_transport *t = NULL;
	struct turnd d;
	const char *msg;
	int rc = -1;

	if (turnd_start(&d))
		goto out;
	memset(&turn, 0, sizeof(turn));
	snprintf(turn.uri, sizeof(turn.uri), "turn:127.0.0.1:%u", d.port);
	snprintf(turn.username, sizeof(turn.username), "%llu:bob",
		 (unsigned long long)(hl_clock_wall_us() / 1000000 + 3600));
	if (hl_srv_turn_password(d.secret, turn.username, turn.password,
				 sizeof(turn.password)))
		goto out;
	c.relay_only = true;
	c.turn = &turn;
	if (hl_transport_new(&t, &c, &msg) || hl_transport_local(t, &p, 5000))
		goto out;
	for (size_t i = 0; i < p.n_candidates; i++)
		if (!strstr(p.candidates[i], " typ relay"))
			goto out;
	if (p.n_candidates == 0)
		goto out;
	/* Wrong credentials: no relay address, a clear error. */
	hl_transport_free(t);
	t = NULL;
	turn.password[0] ^= 1;
	if (hl_transport_new(&t, &c, &msg) ||
	    hl_transport_local(t, &p, 5000) != HL_ENOTFOUND)
		goto out;
	rc = 0;
out:
	if (rc)
		hl_test_report(__FILE__, __LINE__, "relay candidates");
	hl_transport_free(t);
	turnd_stop(&d);
	return rc;
}

static const struct hl_test tests[] = {
	HT_TEST(test_bad_config),
	HT_TEST(test_loopback_call),
	HT_TEST(test_wrong_fingerprint_client),
	HT_TEST(test_wrong_fingerprint_server),
	HT_TEST(test_garbage),
	HT_TEST(test_peer_gone),
	HT_TEST(test_bad_remote),
	HT_TEST(test_relay_candidates),
	HT_TEST(test_relay_only),
};

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return hl_test_main(tests, sizeof(tests) / sizeof(tests[0]), argc,
			    argv);
}
