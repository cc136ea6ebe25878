/*
 * transport.c - a call's network path: ICE (ice.c) glued to DTLS-SRTP
 * (dtls.c), demultiplexed by the first byte (RFC 7983 §7).
 *
 * Everything here runs in the caller's thread: hl_transport_next()
 * drains the datagrams ice.c queued, feeds DTLS records to the DTLS
 * endpoint and sends what it answers, decrypts SRTP/SRTCP, runs the
 * DTLS timers and checks the deadlines.  The DTLS role follows the
 * setup attributes (RFC 5763 §5): a peer that is "active" is the
 * client, so we are the server; a peer that is "passive" or "actpass"
 * leaves the client role to us.  DTLS starts once ICE has a working
 * pair; DTLS records that arrive before that (the peer's ICE may finish
 * first) wait in a small stash.
 *
 * Liveness: after SECURE, "nothing authentic received for
 * consent_timeout_ms" is consent lost (the call engine sends RTCP at
 * least every second), as is libnice reporting the component FAILED
 * (its RFC 7675 consent checks went unanswered).  One FAILED event is
 * reported; afterwards hl_transport_next() only says HL_EAGAIN.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotline/net.h"
#include "hotline/transport.h"

#include "dtls_internal.h"
#include "ice_internal.h"

#define EARLY_MAX 4 /* DTLS records held until ICE connects */
#define WIRE_MAX  (HL_TP_PACKET_MAX + HL_SRTP_OVERHEAD)
_Static_assert(HL_TP_OVERHEAD >= HL_SRTP_OVERHEAD, "overhead in transport.h");
#define CONSENT_DEFAULT_MS 5000
#define CONNECT_DEFAULT_MS 15000

struct early {
	size_t len;
	uint8_t data[HL_ICE_DGRAM_MAX];
};

struct hl_transport {
	struct hl_ice *ice;
	struct hl_dtls *dtls;
	uint8_t fp[HL_DTLS_FP_LEN];
	uint8_t peer_fp[HL_DTLS_FP_LEN];
	bool relay_only;
	bool client;
	bool started, dtls_started;
	bool connected, secure;
	bool failed, fail_reported;
	char reason[160];
	unsigned consent_ms, connect_ms;
	uint64_t start_us, last_rx_us;
	uint64_t packets_sent, packets_received, bytes_sent, bytes_received;
	uint64_t srtp_failures, dropped;
	size_t n_early;
	struct early early[EARLY_MAX];
	uint8_t buf[HL_ICE_DGRAM_MAX];
};

int hl_transport_new(struct hl_transport **out,
		     const struct hl_transport_config *cfg,
		     const char **err_msg)
{
	struct hl_transport *t;
	struct hl_ice_config ic;
	const char *msg = NULL;
	int err;

	if (err_msg)
		*err_msg = NULL;
	if (!out || !cfg)
		return HL_EINVAL;
	t = hl_calloc(1, sizeof(*t));
	if (!t)
		return HL_ENOMEM;
	t->relay_only = cfg->relay_only;
	t->consent_ms = cfg->consent_timeout_ms ? cfg->consent_timeout_ms
						: CONSENT_DEFAULT_MS;
	t->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
						: CONNECT_DEFAULT_MS;
	err = hl_dtls_new(&t->dtls, t->fp);
	if (err) {
		msg = "cannot create the DTLS certificate";
		goto out;
	}
	memset(&ic, 0, sizeof(ic));
	ic.controlling = cfg->controlling;
	ic.relay_only = cfg->relay_only;
	ic.loopback = cfg->loopback;
	ic.stun_host = cfg->stun_host;
	ic.stun_port = cfg->stun_port;
	ic.turn = cfg->turn;
	err = hl_ice_new(&t->ice, &ic, &msg);
	if (err)
		goto out;
	*out = t;
	return 0;
out:
	if (err_msg)
		*err_msg = msg;
	hl_transport_free(t);
	return err;
}

void hl_transport_free(struct hl_transport *t)
{
	if (!t)
		return;
	hl_ice_free(t->ice);
	hl_dtls_free(t->dtls);
	hl_wipe(t->buf, sizeof(t->buf));
	hl_free(t);
}

int hl_transport_local(struct hl_transport *t, struct hl_transport_params *p,
		       unsigned timeout_ms)
{
	int err;

	if (!t || !p)
		return HL_EINVAL;
	err = hl_ice_local(t->ice, p, timeout_ms);
	if (err)
		return err;
	memcpy(p->fingerprint, t->fp, sizeof(p->fingerprint));
	p->setup = HL_SETUP_ACTPASS; /* the caller says which */
	return 0;
}

int hl_transport_start(struct hl_transport *t,
		       const struct hl_transport_params *remote)
{
	size_t skipped = 0;
	int err;

	if (!t || !remote)
		return HL_EINVAL;
	if (t->started)
		return HL_ESTATE;
	if (remote->setup != HL_SETUP_ACTIVE &&
	    remote->setup != HL_SETUP_PASSIVE &&
	    remote->setup != HL_SETUP_ACTPASS)
		return HL_EINVAL;
	err = hl_ice_start(t->ice, remote, &skipped);
	if (skipped)
		hl_log(HL_LOG_WARN,
		       "transport: %zu of the peer's ICE candidates are "
		       "unusable and were skipped",
		       skipped);
	if (err)
		return err;
	/* RFC 5763 §5: the peer active is the DTLS client. */
	t->client = remote->setup != HL_SETUP_ACTIVE;
	memcpy(t->peer_fp, remote->fingerprint, sizeof(t->peer_fp));
	t->started = true;
	t->start_us = hl_clock_now_us();
	return 0;
}

int hl_transport_wait(struct hl_transport *t, int timeout_ms)
{
	if (!t)
		return HL_EINVAL;
	return hl_ice_wait(t->ice, timeout_ms);
}

/* ---- the receive side ------------------------------------------------ */

static void fail(struct hl_transport *t, const char *fmt, ...) HL_PRINTF(2, 3);

static void fail(struct hl_transport *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	t->failed = true;
	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
}

/* Send whatever the DTLS endpoint has to say. */
static void flush_dtls(struct hl_transport *t)
{
	uint8_t out[HL_TP_PACKET_MAX];
	size_t len;

	while (hl_dtls_output(t->dtls, out, sizeof(out), &len) == 0) {
		/* A lost flight is retransmitted by the DTLS timer. */
		if (hl_ice_send(t->ice, out, len)) {
		}
	}
}

static void dtls_failed(struct hl_transport *t, int err)
{
	const char *why = hl_dtls_error(t->dtls);

	if (err == HL_EAUTH)
		fail(t, "the peer's DTLS certificate does not match the "
			"fingerprint in its signed call description");
	else if (err == HL_ETIMEOUT)
		fail(t, "could not connect: the DTLS handshake got no answer");
	else
		fail(t, "the DTLS handshake failed: %s",
		     why ? why : hl_strerror(err));
}

static void dtls_input(struct hl_transport *t, const uint8_t *buf, size_t len)
{
	int err = hl_dtls_input(t->dtls, buf, len);

	if (err) {
		/* After the handshake a bad record is just dropped. */
		if (t->secure)
			t->dropped++;
		else
			dtls_failed(t, err);
		return;
	}
	flush_dtls(t);
}

static void start_dtls(struct hl_transport *t)
{
	int err = hl_dtls_start(t->dtls, t->client, t->peer_fp);

	t->dtls_started = true;
	if (err) {
		dtls_failed(t, err);
		return;
	}
	flush_dtls(t);
	for (size_t i = 0; i < t->n_early && !t->failed; i++)
		dtls_input(t, t->early[i].data, t->early[i].len);
	t->n_early = 0;
}

/* One datagram, demultiplexed by its first byte (RFC 7983 §7); true if
 * it made a PACKET event in ev. */
static bool handle(struct hl_transport *t, uint8_t *buf, size_t len,
		   struct hl_tp_event *ev)
{
	uint8_t b = buf[0];
	size_t out_len = 0;
	int err;

	if (b >= 20 && b <= 63) { /* DTLS */
		if (t->dtls_started) {
			dtls_input(t, buf, len);
		} else if (t->n_early < EARLY_MAX) {
			memcpy(t->early[t->n_early].data, buf, len);
			t->early[t->n_early++].len = len;
		} else {
			t->dropped++;
		}
		return false;
	}
	if (b < 128 || b > 191 || !t->secure || len > WIRE_MAX) {
		t->dropped++;
		return false;
	}
	err = hl_dtls_unprotect(t->dtls, buf, len, &out_len);
	if (err || out_len > HL_TP_PACKET_MAX) {
		t->srtp_failures++;
		return false;
	}
	t->packets_received++;
	t->bytes_received += len;
	t->last_rx_us = hl_clock_now_us();
	memset(ev, 0, offsetof(struct hl_tp_event, data));
	ev->kind = HL_TP_PACKET;
	ev->len = out_len;
	memcpy(ev->data, buf, out_len);
	ev->reason[0] = '\0';
	return true;
}

static int event(struct hl_tp_event *ev, enum hl_tp_event_kind kind,
		 const char *reason)
{
	memset(ev, 0, offsetof(struct hl_tp_event, data));
	ev->kind = kind;
	snprintf(ev->reason, sizeof(ev->reason), "%s", reason ? reason : "");
	return 0;
}

int hl_transport_next(struct hl_transport *t, struct hl_tp_event *ev)
{
	enum hl_ice_state st;
	uint64_t now;
	size_t len;
	int err;

	if (!t || !ev)
		return HL_EINVAL;
	if (t->fail_reported)
		return HL_EAGAIN;
	if (t->failed)
		goto failed;

	st = hl_ice_state(t->ice);
	if (t->started && st == HL_ICE_CONNECTED && !t->connected) {
		t->connected = true;
		start_dtls(t);
		return event(ev, HL_TP_CONNECTED, NULL);
	}
	if (t->started && st == HL_ICE_FAILED) {
		if (t->secure)
			fail(t, "the peer stopped answering (consent lost)");
		else
			fail(t,
			     "could not connect: ICE found no working "
			     "path to the peer%s",
			     t->relay_only ? " through the relay" : "");
		goto failed;
	}
	if (t->dtls_started && !t->secure && hl_dtls_secure(t->dtls)) {
		t->secure = true;
		t->last_rx_us = hl_clock_now_us();
		return event(ev, HL_TP_SECURE, NULL);
	}

	while ((err = hl_ice_recv(t->ice, t->buf, sizeof(t->buf), &len)) !=
	       HL_EAGAIN) {
		if (err || len == 0) {
			t->dropped++;
			continue;
		}
		if (handle(t, t->buf, len, ev))
			return 0;
		if (t->failed)
			goto failed;
		if (!t->secure && t->dtls_started && hl_dtls_secure(t->dtls)) {
			t->secure = true;
			t->last_rx_us = hl_clock_now_us();
			return event(ev, HL_TP_SECURE, NULL);
		}
	}

	if (t->dtls_started && !t->secure) {
		err = hl_dtls_tick(t->dtls);
		if (err) {
			dtls_failed(t, err);
			goto failed;
		}
		flush_dtls(t);
	}
	now = hl_clock_now_us();
	if (t->started && !t->secure &&
	    now - t->start_us > (uint64_t)t->connect_ms * 1000) {
		if (!t->connected)
			fail(t,
			     "could not connect: no answer from the peer's "
			     "addresses%s within %u s",
			     t->relay_only ? " through the relay" : "",
			     t->connect_ms / 1000);
		else
			fail(t,
			     "could not connect: the DTLS handshake did not "
			     "finish within %u s",
			     t->connect_ms / 1000);
		goto failed;
	}
	if (t->secure && now - t->last_rx_us > (uint64_t)t->consent_ms * 1000) {
		fail(t, "the peer stopped answering (consent lost)");
		goto failed;
	}
	return HL_EAGAIN;
failed:
	t->fail_reported = true;
	return event(ev, HL_TP_FAILED, t->reason);
}

/* ---- the send side --------------------------------------------------- */

int hl_transport_protect(struct hl_transport *t, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t cap, size_t *out_len)
{
	if (!t || !pkt || !out || !out_len)
		return HL_EINVAL;
	if (!t->secure || t->failed)
		return HL_ESTATE;
	if (len > HL_TP_PACKET_MAX)
		return HL_ETOOBIG;
	if (cap < len + HL_SRTP_OVERHEAD)
		return HL_ETOOBIG;
	memcpy(out, pkt, len);
	return hl_dtls_protect(t->dtls, out, len, out_len);
}

int hl_transport_send_datagram(struct hl_transport *t, const uint8_t *d,
			       size_t len)
{
	if (!t || !d)
		return HL_EINVAL;
	if (!t->secure || t->failed)
		return HL_ESTATE;
	/* UDP: a datagram the socket refuses is a lost packet, which the
	 * call engine handles like any other loss. */
	if (hl_ice_send(t->ice, d, len) == 0) {
		t->packets_sent++;
		t->bytes_sent += len;
	}
	return 0;
}

int hl_transport_send(struct hl_transport *t, const uint8_t *pkt, size_t len)
{
	uint8_t buf[WIRE_MAX];
	size_t out_len = 0;
	int err = hl_transport_protect(t, pkt, len, buf, sizeof(buf), &out_len);

	if (err)
		return err;
	return hl_transport_send_datagram(t, buf, out_len);
}

void hl_transport_stats(const struct hl_transport *t, struct hl_tp_stats *st)
{
	const char *prof;
	uint64_t overflows;

	memset(st, 0, sizeof(*st));
	if (!t)
		return;
	st->connected = t->connected;
	st->secure = t->secure;
	hl_ice_pair(t->ice, st->local, st->remote, &st->relayed);
	prof = t->secure ? hl_dtls_profile(t->dtls) : NULL;
	if (prof)
		snprintf(st->srtp_profile, sizeof(st->srtp_profile), "%s",
			 prof);
	st->packets_sent = t->packets_sent;
	st->packets_received = t->packets_received;
	st->bytes_sent = t->bytes_sent;
	st->bytes_received = t->bytes_received;
	st->srtp_failures = t->srtp_failures;
	hl_ice_counts(t->ice, &overflows, &st->read_direct);
	st->dropped = t->dropped + overflows;
	st->ice_rounds = hl_ice_rounds(t->ice);
}
