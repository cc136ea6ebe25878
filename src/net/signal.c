/*
 * signal.c - the hotlined client: libwebsockets over TLS, the server's
 * certificate pinned, challenge-response authentication, blocking
 * requests, automatic reconnection (docs/protocol.md §5.5).
 *
 * Trust: the server's certificate is not checked against any CA or host
 * name; it is trusted only by its SHA-256 fingerprint (of the DER).  The
 * TLS verify callback replaces OpenSSL's verdict with the pin comparison
 * (any certificate when there is no pin yet, exactly the pinned one
 * otherwise), and the fingerprint is checked again on the established
 * connection.  The challenge names the certificate the server believes it
 * has; a different one than we see means something terminates TLS in
 * between, and is refused.  Our signature covers the nonce and the
 * fingerprint we saw, so a relayed challenge is useless elsewhere.
 *
 * Flow: each blocking call runs this connection's lws event loop until its
 * answer comes or its time is up.  One request is in flight at a time;
 * its id matches the answer.  When the connection drops, the call
 * reconnects (backoff 0.25 s doubling to 4 s), authenticates again and
 * resends the request (so a relay may arrive twice; put_contract and
 * answer are idempotent on the server).  Relays pushed to us wait in an
 * inbox (at most INBOX_MAX) until hl_signal_relay_recv asks for their
 * call.  While a call waits and nothing else was sent for PING_US, a ping
 * keeps the server's idle timer (60 s) from closing us.
 *
 * Not thread-safe: one struct hl_signal belongs to one thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>
#include <sodium.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "hotline/net.h"
#include "signal_internal.h"

#define PING_US		   (20 * 1000 * 1000ull)
#define BACKOFF_MIN_US	   (250 * 1000ull)
#define BACKOFF_MAX_US	   (4 * 1000 * 1000ull)
#define REQUEST_TIMEOUT_MS 15000u
#define CONNECT_TIMEOUT_MS 10000u
#define INBOX_MAX	   256
#define SERVICE_SLICE_US   (50 * 1000ull)
#define HOST_MAX	   256
#define PATH_MAX_LEN	   256

enum conn_state {
	S_DOWN,
	S_CONNECTING, /* TCP, TLS, WebSocket upgrade */
	S_CHALLENGE,  /* waiting for the challenge */
	S_AUTH,	      /* auth sent, waiting for welcome */
	S_READY,
};

struct tx_item {
	struct tx_item *next;
	size_t len;
	uint8_t buf[]; /* LWS_PRE bytes, then the message */
};

struct rx_item {
	struct rx_item *next;
	uint8_t call_id[HL_CALL_ID_LEN];
	uint8_t from[HL_ID_PK_LEN];
	size_t len;
	uint8_t payload[];
};

struct hl_signal {
	const struct hl_identity *id;
	bool have_pin;
	uint8_t pin[HL_SIGNAL_FP_LEN];
	unsigned connect_ms, request_ms;
	char host[HOST_MAX], path[PATH_MAX_LEN];
	int port;

	struct lws_context *ctx;
	SSL_CTX *ssl_ctx; /* ours: no CA store, TLS 1.2 at least */
	struct lws *wsi;
	enum conn_state st;
	int fatal; /* HL_ECONFLICT or HL_EAUTH: retrying cannot help */
	bool have_fp;
	uint8_t fp[HL_SIGNAL_FP_LEN];
	uint64_t gen; /* counts authenticated connections */
	uint64_t backoff_us, next_try_us;
	lws_sorted_usec_list_t wake;

	uint8_t *rx;
	size_t rx_len, rx_cap;
	bool rx_over;
	struct tx_item *tx_head, *tx_tail;
	uint64_t last_tx_us;

	int64_t next_id, want_id;
	bool got_reply;
	struct hl_sig_msg reply;

	struct rx_item *in_head, *in_tail;
	unsigned in_count;
	uint64_t dropped, ignored, pushes;

	char err[256];
	char last_code[32]; /* protocol code of the last refusal */
};

static _Thread_local char connect_err[256];

static void set_err(struct hl_signal *s, const char *fmt, ...) HL_PRINTF(2, 3);

static void set_err(struct hl_signal *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static void lws_emit(int level, const char *line)
{
	size_t n = strlen(line);

	(void)level;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	hl_log(HL_LOG_DEBUG, "signal: lws: %.*s", (int)n, line);
}

static bool cert_fp(X509 *x, uint8_t fp[HL_SIGNAL_FP_LEN])
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len = x ? i2d_X509(x, &der) : -1;
	bool ok = len > 0 &&
		  EVP_Digest(der, (size_t)len, fp, &n, EVP_sha256(), NULL) &&
		  n == HL_SIGNAL_FP_LEN;

	OPENSSL_free(der);
	return ok;
}

/* The pin decides, nothing else (no CA, no host name, no dates). */
static int check_cert(struct hl_signal *s, X509 *x)
{
	uint8_t fp[HL_SIGNAL_FP_LEN];

	if (!cert_fp(x, fp)) {
		set_err(s, "cannot read the server's certificate");
		return -1;
	}
	if (s->have_pin && !hl_ct_equal(fp, s->pin, sizeof(fp))) {
		s->fatal = HL_ECONFLICT;
		set_err(s, "the server's certificate is not the one pinned "
			   "for this server: a different server or an "
			   "attack; if the server was really replaced, "
			   "remove its pin and connect again");
		return -1;
	}
	memcpy(s->fp, fp, sizeof(fp));
	s->have_fp = true;
	return 0;
}

static void tx_drop_all(struct hl_signal *s)
{
	struct tx_item *t, *next;

	for (t = s->tx_head; t; t = next) {
		next = t->next;
		hl_free(t);
	}
	s->tx_head = s->tx_tail = NULL;
}

static int tx_queue(struct hl_signal *s, const char *text, size_t len)
{
	struct tx_item *t = hl_malloc(sizeof(*t) + LWS_PRE + len);

	if (!t)
		return HL_ENOMEM;
	t->next = NULL;
	t->len = len;
	memcpy(t->buf + LWS_PRE, text, len);
	if (s->tx_tail)
		s->tx_tail->next = t;
	else
		s->tx_head = t;
	s->tx_tail = t;
	if (s->wsi)
		lws_callback_on_writable(s->wsi);
	return 0;
}

static void inbox_push(struct hl_signal *s, const struct hl_sig_msg *m)
{
	struct rx_item *it;

	if (s->in_count >= INBOX_MAX) {
		s->dropped++;
		return;
	}
	it = hl_malloc(sizeof(*it) + m->payload_len);
	if (!it) {
		s->dropped++;
		return;
	}
	it->next = NULL;
	memcpy(it->call_id, m->call_id, sizeof(it->call_id));
	memcpy(it->from, m->from, sizeof(it->from));
	it->len = m->payload_len;
	memcpy(it->payload, m->payload, m->payload_len);
	if (s->in_tail)
		s->in_tail->next = it;
	else
		s->in_head = it;
	s->in_tail = it;
	s->in_count++;
}

static void on_challenge(struct hl_signal *s, const struct hl_sig_msg *m)
{
	char *text = NULL;
	size_t len = 0;

	if (!s->have_fp) {
		set_err(s, "the server's certificate was not seen");
		return;
	}
	if (!hl_ct_equal(m->server_fp, s->fp, sizeof(s->fp))) {
		s->fatal = HL_ECONFLICT;
		set_err(s, "the server's challenge names another certificate "
			   "than the one it presented: something between "
			   "us terminates TLS");
		return;
	}
	if (hl_sig_build_auth(s->id, m->nonce, s->fp, &text, &len) != 0 ||
	    tx_queue(s, text, len) != 0) {
		set_err(s, "cannot sign the server's challenge");
		hl_free(text);
		return;
	}
	hl_free(text);
	s->st = S_AUTH;
}

static void on_message(struct hl_signal *s, const char *text, size_t len)
{
	struct hl_sig_msg m;

	if (hl_sig_parse(text, len, &m) != 0) {
		s->ignored++;
		return;
	}
	switch (m.kind) {
	case HL_SIG_CHALLENGE:
		if (s->st == S_CHALLENGE)
			on_challenge(s, &m);
		break;
	case HL_SIG_WELCOME:
		if (s->st == S_AUTH) {
			s->st = S_READY;
			s->gen++;
			s->backoff_us = BACKOFF_MIN_US;
			s->last_tx_us = hl_clock_now_us();
			/* Reconnections must meet the same certificate, even
			 * when the first connection pinned nothing. */
			memcpy(s->pin, s->fp, sizeof(s->pin));
			s->have_pin = true;
		}
		break;
	case HL_SIG_ERROR:
		if (s->st == S_CHALLENGE || s->st == S_AUTH) {
			/* Refused before the welcome: a bad signature is
			 * final; "too many connections" is worth a retry. */
			if (hl_sig_error_code(m.code) == HL_EAUTH)
				s->fatal = HL_EAUTH;
			set_err(s, "the server refused us (%s: %s)", m.code,
				m.text);
			break;
		}
		if (m.id < 0 && s->want_id > 0 && !s->got_reply)
			m.id = s->want_id; /* refused before it was parsed */
					   /* fall through */
	case HL_SIG_OK:
		if (m.id == s->want_id && !s->got_reply) {
			s->reply = m;
			s->got_reply = true;
			return; /* the reply owns m now */
		}
		break;
	case HL_SIG_RELAY:
		inbox_push(s, &m);
		break;
	case HL_SIG_CONTRACT:
		s->pushes++;
		break;
	}
	hl_sig_msg_clear(&m);
}

static int on_receive(struct hl_signal *s, struct lws *wsi, const void *in,
		      size_t len)
{
	if (lws_is_first_fragment(wsi) && s->rx_len == 0)
		s->rx_over = false;
	if (!s->rx_over) {
		if (s->rx_len + len > HL_SIG_MSG_MAX) {
			s->rx_over = true;
		} else {
			if (s->rx_len + len > s->rx_cap) {
				size_t cap =
					HL_MAX(s->rx_cap * 2, s->rx_len + len);
				uint8_t *p;

				cap = HL_MIN(HL_MAX(cap, (size_t)4096),
					     (size_t)HL_SIG_MSG_MAX);
				p = hl_realloc(s->rx, cap);
				if (!p)
					return -1;
				s->rx = p;
				s->rx_cap = cap;
			}
			memcpy(s->rx + s->rx_len, in, len);
			s->rx_len += len;
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (s->rx_over || lws_frame_is_binary(wsi))
		s->ignored++;
	else
		on_message(s, (const char *)s->rx, s->rx_len);
	hl_free(s->rx);
	s->rx = NULL;
	s->rx_len = s->rx_cap = 0;
	return 0;
}

static int on_writable(struct hl_signal *s, struct lws *wsi)
{
	struct tx_item *t = s->tx_head;

	if (!t)
		return 0;
	if (lws_write(wsi, t->buf + LWS_PRE, t->len, LWS_WRITE_TEXT) <
	    (int)t->len)
		return -1;
	s->tx_head = t->next;
	if (!s->tx_head)
		s->tx_tail = NULL;
	hl_free(t);
	s->last_tx_us = hl_clock_now_us();
	if (s->tx_head)
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_down(struct hl_signal *s, struct lws *wsi)
{
	if (s->wsi && s->wsi != wsi)
		return;
	s->wsi = NULL;
	s->st = S_DOWN;
	tx_drop_all(s);
	hl_free(s->rx);
	s->rx = NULL;
	s->rx_len = s->rx_cap = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct hl_signal *s = ctx ? lws_context_user(ctx) : NULL;
	SSL *ssl;

	if (!s)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user: X509_STORE_CTX; 0 accepts.  Only the leaf counts. */
		if (check_cert(s, X509_STORE_CTX_get0_cert(user)) != 0)
			return 1;
		X509_STORE_CTX_set_error(user, X509_V_OK);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		ssl = lws_get_ssl(wsi);
		if (!ssl || check_cert(s, SSL_get0_peer_certificate(ssl)) != 0)
			return -1;
		s->wsi = wsi;
		s->st = S_CHALLENGE;
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (s->wsi != wsi)
			return -1;
		return on_receive(s, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (s->wsi != wsi)
			return 0;
		return on_writable(s, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!s->fatal)
			set_err(s, "cannot connect to the server: %s",
				in ? (const char *)in : "no reason given");
		on_down(s, wsi);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (s->st != S_READY && !s->fatal && len > 2)
			set_err(s, "the server closed the connection: %.*s",
				(int)HL_MIN(len - 2, (size_t)120),
				(const char *)in + 2);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_down(s, wsi);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{
		.name = "hotline",
		.callback = callback,
		.rx_buffer_size = 4096,
	},
	{0},
};

/* "wss://HOST[:PORT][/PATH]"; HOST may be "[v6]". */
static int parse_url(struct hl_signal *s, const char *url)
{
	const char *p, *host_end, *slash;
	size_t hlen;
	long port = 443;

	if (!url || strncmp(url, "wss://", 6) != 0)
		return HL_EINVAL;
	p = url + 6;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(slash - p));
		if (!host_end)
			return HL_EINVAL;
		hlen = (size_t)(host_end - p - 1);
		memcpy(s->host, p + 1, HL_MIN(hlen, sizeof(s->host) - 1));
		p = host_end + 1;
	} else {
		host_end = memchr(p, ':', (size_t)(slash - p));
		if (!host_end)
			host_end = slash;
		hlen = (size_t)(host_end - p);
		memcpy(s->host, p, HL_MIN(hlen, sizeof(s->host) - 1));
		p = host_end;
	}
	if (hlen == 0 || hlen >= sizeof(s->host))
		return HL_EINVAL;
	s->host[hlen] = 0;
	if (*p == ':') {
		char *end = NULL;

		port = strtol(p + 1, &end, 10);
		if (end != slash || port <= 0 || port > 65535)
			return HL_EINVAL;
	} else if (p != slash) {
		return HL_EINVAL;
	}
	s->port = (int)port;
	if (strlen(*slash ? slash : "/") >= sizeof(s->path))
		return HL_EINVAL;
	snprintf(s->path, sizeof(s->path), "%s", *slash ? slash : "/");
	return 0;
}

static void start_connect(struct hl_signal *s)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = s->ctx;
	i.address = s->host;
	i.port = s->port;
	i.ssl_connection =
		LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	i.path = s->path;
	i.host = s->host;
	i.origin = s->host;
	i.protocol = "hotline";
	i.ietf_version_or_minus_one = -1;
	s->st = S_CONNECTING;
	s->have_fp = false;
	if (!lws_client_connect_via_info(&i)) {
		if (!s->err[0])
			set_err(s, "cannot connect to the server");
		s->st = S_DOWN;
	}
}

static void wake_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

/* Queue an idle ping (the answer is ignored: its id is not awaited). */
static void maybe_ping(struct hl_signal *s, uint64_t now)
{
	char *text = NULL;
	size_t len = 0;

	if (s->st != S_READY || s->tx_head || now - s->last_tx_us < PING_US)
		return;
	if (hl_sig_build_request("ping", ++s->next_id, NULL, &text, &len) == 0)
		(void)!tx_queue(s, text, len);
	s->last_tx_us = now;
	hl_free(text);
}

/* Run the event loop once, waking by `until` (monotonic µs) at latest. */
static void service_once(struct hl_signal *s, uint64_t until)
{
	uint64_t now = hl_clock_now_us();
	uint64_t us = until > now ? until - now : 0;

	maybe_ping(s, now);
	us = HL_MIN(us, SERVICE_SLICE_US);
	lws_sul_schedule(s->ctx, 0, &s->wake, wake_cb,
			 (lws_usec_t)HL_MAX(us, 1000));
	lws_service(s->ctx, 0);
}

/* Be connected and authenticated by deadline, reconnecting as needed. */
static int wait_ready(struct hl_signal *s, uint64_t deadline)
{
	for (;;) {
		uint64_t now = hl_clock_now_us();

		if (s->fatal)
			return s->fatal;
		if (s->st == S_READY)
			return 0;
		if (now >= deadline) {
			if (!s->err[0])
				set_err(s, "the server did not answer in "
					   "time");
			return HL_ETIMEOUT;
		}
		if (s->st == S_DOWN && now >= s->next_try_us) {
			s->next_try_us = now + s->backoff_us;
			s->backoff_us =
				HL_MIN(s->backoff_us * 2, BACKOFF_MAX_US);
			start_connect(s);
			continue;
		}
		service_once(s, s->st == S_DOWN
					? HL_MIN(deadline, s->next_try_us)
					: deadline);
	}
}

static int make_context(struct hl_signal *s)
{
	struct lws_context_creation_info info;

	/* Our own client SSL_CTX: the pin is the only trust, so no CA
	 * store is loaded (libwebsockets would load the system's). */
	s->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ssl_ctx ||
	    !SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_2_VERSION))
		return HL_ECRYPTO;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.provided_client_ssl_ctx = s->ssl_ctx;
	info.user = s;
	info.fd_limit_per_thread = 64;
	info.timeout_secs = 10;
	info.connect_timeout_secs = HL_MAX(1u, s->connect_ms / 1000);
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
	s->ctx = lws_create_context(&info);
	return s->ctx ? 0 : HL_ENOMEM;
}

int hl_signal_connect(struct hl_signal **out,
		      const struct hl_signal_config *cfg,
		      uint8_t fp[HL_SIGNAL_FP_LEN], const char **err_msg)
{
	struct hl_signal *s = hl_calloc(1, sizeof(*s));
	uint64_t deadline;
	int err = HL_EINVAL;

	*out = NULL;
	connect_err[0] = 0;
	if (!s) {
		err = HL_ENOMEM;
		snprintf(connect_err, sizeof(connect_err), "out of memory");
		goto fail;
	}
	s->id = cfg->id;
	s->have_pin = cfg->have_pin;
	memcpy(s->pin, cfg->pin, sizeof(s->pin));
	s->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
						: CONNECT_TIMEOUT_MS;
	s->request_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms
						: REQUEST_TIMEOUT_MS;
	s->backoff_us = BACKOFF_MIN_US;
	if (!cfg->id || parse_url(s, cfg->url) != 0) {
		set_err(s, "the server URL must be wss://HOST:PORT");
		goto fail;
	}
	if ((err = make_context(s)) != 0) {
		set_err(s, "cannot start the TLS client");
		goto fail;
	}
	deadline = hl_clock_now_us() + (uint64_t)s->connect_ms * 1000;
	start_connect(s);
	while (s->st != S_READY && s->st != S_DOWN && !s->fatal &&
	       hl_clock_now_us() < deadline)
		service_once(s, deadline);
	if (s->fatal) {
		err = s->fatal;
	} else if (s->st == S_READY) {
		err = 0;
	} else if (s->st == S_DOWN) {
		err = HL_EIO;
	} else {
		err = HL_ETIMEOUT;
		set_err(s, "the server did not complete the connection in "
			   "time");
	}
	if (err)
		goto fail;
	if (fp)
		memcpy(fp, s->fp, HL_SIGNAL_FP_LEN);
	*out = s;
	return 0;
fail:
	if (s && s->err[0])
		snprintf(connect_err, sizeof(connect_err), "%s", s->err);
	if (err_msg)
		*err_msg = connect_err[0] ? connect_err : hl_strerror(err);
	hl_signal_close(s);
	return err;
}

void hl_signal_close(struct hl_signal *s)
{
	struct rx_item *it, *next;

	if (!s)
		return;
	if (s->ctx) {
		lws_sul_cancel(&s->wake);
		lws_context_destroy(s->ctx);
	}
	SSL_CTX_free(s->ssl_ctx);
	tx_drop_all(s);
	hl_free(s->rx);
	hl_sig_msg_clear(&s->reply);
	for (it = s->in_head; it; it = next) {
		next = it->next;
		hl_free(it);
	}
	hl_free(s);
}

const char *hl_signal_error(const struct hl_signal *s)
{
	if (!s)
		return "no connection";
	return s->err[0] ? s->err : "no error";
}

/*
 * Send one request and wait for its answer, reconnecting and resending as
 * needed.  On 0, *reply is the ok (free with hl_sig_msg_clear); an error
 * answer becomes its HL_E* code and a sentence in s->err.
 */
static int request(struct hl_signal *s, const char *type, json_t *fields,
		   struct hl_sig_msg *reply)
{
	uint64_t deadline = hl_clock_now_us() + (uint64_t)s->request_ms * 1000;
	uint64_t sent_gen = 0;
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!s->fatal)
		s->err[0] = 0; /* a fatal error keeps its sentence */
	s->last_code[0] = 0;
	if ((err = hl_sig_build_request(type, ++s->next_id, fields, &text,
					&len)) != 0)
		return err;
	if (len > 64 * 1024) {
		set_err(s, "the request is larger than the server takes");
		hl_free(text);
		return HL_ETOOBIG;
	}
	s->want_id = s->next_id;
	s->got_reply = false;
	hl_sig_msg_clear(&s->reply);
	for (;;) {
		if ((err = wait_ready(s, deadline)) != 0)
			goto out;
		if (sent_gen != s->gen) {
			if ((err = tx_queue(s, text, len)) != 0)
				goto out;
			sent_gen = s->gen;
		}
		service_once(s, deadline);
		if (s->got_reply)
			break;
		if (hl_clock_now_us() >= deadline) {
			set_err(s,
				"the server did not answer the %s request "
				"in time",
				type);
			err = HL_ETIMEOUT;
			goto out;
		}
	}
	*reply = s->reply;
	memset(&s->reply, 0, sizeof(s->reply));
	if (reply->kind == HL_SIG_ERROR) {
		err = hl_sig_error_code(reply->code);
		snprintf(s->last_code, sizeof(s->last_code), "%s", reply->code);
		set_err(s, "the server refused the %s request (%s: %s)", type,
			reply->code, reply->text);
		hl_sig_msg_clear(reply);
	}
out:
	s->want_id = 0;
	s->got_reply = false;
	hl_free(text);
	return err;
}

static int bundle_request(struct hl_signal *s, const char *type,
			  const struct hl_contract_bundle *b,
			  enum hl_contract_state want)
{
	struct hl_sig_msg reply;
	enum hl_contract_state st;
	json_t *fields = NULL, *bj;
	json_error_t jerr;
	char *text = NULL;
	int err;

	if ((err = hl_contract_bundle_to_json(b, &text)) != 0)
		return err;
	bj = json_loads(text, 0, &jerr);
	hl_free(text);
	fields = bj ? json_pack("{s:o}", "bundle", bj) : NULL;
	if (!fields)
		return HL_ENOMEM;
	err = request(s, type, fields, &reply);
	json_decref(fields);
	if (err)
		return err;
	if (hl_sig_ok_state(&reply, &st) != 0 || st != want) {
		set_err(s,
			"the server's answer to %s is not the expected "
			"state",
			type);
		err = HL_ECONFLICT;
	}
	hl_sig_msg_clear(&reply);
	return err;
}

int hl_signal_put_contract(struct hl_signal *s,
			   const struct hl_contract_bundle *b)
{
	struct hl_contract_bundle *p = hl_malloc(sizeof(*p));
	struct hl_sig_msg reply;
	json_t *fields = NULL, *bj;
	json_error_t jerr;
	char *text = NULL;
	int err;

	if (!p)
		return HL_ENOMEM;
	/* The proposal alone: answers travel with hl_signal_answer. */
	*p = *b;
	p->has_acceptance = p->has_decline = false;
	err = hl_contract_bundle_to_json(p, &text);
	hl_free(p);
	if (err)
		return err;
	bj = json_loads(text, 0, &jerr);
	hl_free(text);
	fields = bj ? json_pack("{s:o}", "bundle", bj) : NULL;
	if (!fields)
		return HL_ENOMEM;
	/* Any state is fine: the same proposal may have been answered. */
	err = request(s, "put_contract", fields, &reply);
	json_decref(fields);
	if (!err)
		hl_sig_msg_clear(&reply);
	return err;
}

int hl_signal_answer(struct hl_signal *s, const struct hl_contract_bundle *b)
{
	if (!b->has_acceptance && !b->has_decline) {
		set_err(s, "the bundle carries no acceptance or decline");
		return HL_EINVAL;
	}
	return bundle_request(s, "answer", b, hl_contract_bundle_state(b));
}

int hl_signal_list(struct hl_signal *s, struct hl_contract_bundle **list,
		   size_t *n, size_t *bad)
{
	struct hl_contract_bundle *l = NULL;
	size_t count = 0, cap = 0, nbad = 0;
	int64_t after = 0, next = -1;
	int err;

	do {
		struct hl_sig_msg reply;
		json_t *fields = json_pack("{s:I}", "after", (json_int_t)after);

		if (!fields) {
			err = HL_ENOMEM;
			goto out;
		}
		err = request(s, "list", fields, &reply);
		json_decref(fields);
		if (err)
			goto out;
		err = hl_sig_ok_list(&reply, s->id->pk, &l, &count, &cap, &nbad,
				     &next);
		hl_sig_msg_clear(&reply);
		if (err == HL_ETOOBIG)
			set_err(s, "the server lists more than %d contracts",
				HL_SIG_LIST_MAX);
		else if (err)
			set_err(s, "the server's list is malformed");
		if (err)
			goto out;
		if (next >= 0 && next <= after) {
			set_err(s, "the server's list does not advance");
			err = HL_EPARSE;
			goto out;
		}
		after = next;
	} while (next >= 0);
	*list = l;
	*n = count;
	*bad = nbad;
	l = NULL;
out:
	hl_free(l);
	return err;
}

static int relay_send(struct hl_signal *s,
		      const uint8_t call_id[HL_CALL_ID_LEN],
		      const uint8_t *payload, size_t len, bool replace)
{
	char cid[33], *p64 = NULL;
	size_t cap = sodium_base64_ENCODED_LEN(
		len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	struct hl_sig_msg reply;
	json_t *fields;
	int err;

	if (len > HL_RELAY_MAX) {
		set_err(s, "a relayed payload is at most %d bytes",
			HL_RELAY_MAX);
		return HL_ETOOBIG;
	}
	p64 = hl_malloc(cap);
	if (!p64)
		return HL_ENOMEM;
	sodium_bin2base64(p64, cap, payload, len,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	hl_call_id_to_text(call_id, cid);
	fields = json_pack("{s:s, s:s}", "call_id", cid, "payload", p64);
	if (fields && replace &&
	    json_object_set_new(fields, "replace", json_true())) {
		json_decref(fields);
		fields = NULL;
	}
	hl_free(p64);
	if (!fields)
		return HL_ENOMEM;
	err = request(s, "relay", fields, &reply);
	json_decref(fields);
	if (!err)
		hl_sig_msg_clear(&reply);
	return err;
}

int hl_signal_relay_send(struct hl_signal *s,
			 const uint8_t call_id[HL_CALL_ID_LEN],
			 const uint8_t *payload, size_t len)
{
	return relay_send(s, call_id, payload, len, false);
}

int hl_signal_relay_replace(struct hl_signal *s,
			    const uint8_t call_id[HL_CALL_ID_LEN],
			    const uint8_t *payload, size_t len)
{
	return relay_send(s, call_id, payload, len, true);
}

int hl_signal_relay_recv(struct hl_signal *s,
			 const uint8_t call_id[HL_CALL_ID_LEN], uint8_t *buf,
			 size_t cap, size_t *len, uint8_t from[HL_ID_PK_LEN],
			 unsigned timeout_ms)
{
	uint64_t deadline = hl_clock_now_us() + (uint64_t)timeout_ms * 1000;
	int err;

	if (!s->fatal)
		s->err[0] = 0; /* a fatal error keeps its sentence */
	for (;;) {
		struct rx_item **pp, *it;

		for (pp = &s->in_head; (it = *pp) != NULL; pp = &it->next) {
			if (memcmp(it->call_id, call_id, HL_CALL_ID_LEN) != 0)
				continue;
			if (it->len > cap) {
				set_err(s,
					"a relayed payload of %zu bytes "
					"does not fit the buffer",
					it->len);
				return HL_ETOOBIG;
			}
			*pp = it->next;
			if (s->in_tail == it) {
				struct rx_item *t = s->in_head;

				while (t && t->next)
					t = t->next;
				s->in_tail = t;
			}
			s->in_count--;
			memcpy(buf, it->payload, it->len);
			*len = it->len;
			if (from)
				memcpy(from, it->from, HL_ID_PK_LEN);
			hl_free(it);
			return 0;
		}
		if (hl_clock_now_us() >= deadline) {
			set_err(s, "no relayed message came in time");
			return HL_ETIMEOUT;
		}
		if (s->st != S_READY) {
			err = wait_ready(s, deadline);
			if (err && err != HL_ETIMEOUT)
				return err;
			continue;
		}
		service_once(s, deadline);
	}
}

size_t hl_signal_relay_discard(struct hl_signal *s,
			       const uint8_t call_id[HL_CALL_ID_LEN])
{
	struct rx_item **pp = &s->in_head, *it;
	size_t n = 0;

	s->in_tail = NULL;
	while ((it = *pp) != NULL) {
		if (memcmp(it->call_id, call_id, HL_CALL_ID_LEN) != 0) {
			s->in_tail = it;
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		s->in_count--;
		hl_free(it);
		n++;
	}
	return n;
}

int hl_signal_turn(struct hl_signal *s, const uint8_t call_id[HL_CALL_ID_LEN],
		   struct hl_turn_creds *out)
{
	struct hl_sig_msg reply;
	char cid[33];
	json_t *fields;
	int err;

	hl_call_id_to_text(call_id, cid);
	fields = json_pack("{s:s}", "call_id", cid);
	if (!fields)
		return HL_ENOMEM;
	err = request(s, "turn", fields, &reply);
	json_decref(fields);
	if (err && strcmp(s->last_code, "unavailable") == 0)
		return HL_ENOTFOUND; /* no TURN on this server */
	if (err)
		return err;
	err = hl_sig_ok_turn(&reply, out);
	if (err)
		set_err(s, "the server's TURN credentials are malformed");
	hl_sig_msg_clear(&reply);
	return err;
}
