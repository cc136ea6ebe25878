/*
 * lws.c - hotlined's I/O: libwebsockets (WebSocket, RFC 6455) over TLS
 * 1.2+ around the sans-IO core.
 *
 * One service thread.  Each established WebSocket gets a connection id;
 * lws events become core inputs (connected, message, closed, and a tick
 * every second), each with one `now` read from sys.c.  After every input
 * the core's outputs are moved to per-connection send queues and written
 * when lws says the socket is writable; a queued close is done after the
 * messages before it (with a 5 s limit for peers that stop reading).
 * A message is assembled from its fragments up to max_message + 1 bytes;
 * beyond that the rest is not kept and the core refuses it (too_big).
 * A connection whose unsent output passes 4 MiB is dropped (a client
 * that does not read).  lws itself closes connections whose frames break
 * RFC 6455 (bad opcodes, unmasked client frames, invalid UTF-8 text) and
 * those that do not finish TLS and the upgrade within 10 s.
 *
 * Descriptors: RLIMIT_NOFILE is raised to the hard limit (at most 65536)
 * and lws is told to use that many, so that max_conns connections fit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "server_internal.h"

#define OUT_BYTES_MAX (4u << 20)
#define FD_CAP	      65536
#define TICK_US	      (1000 * 1000)

struct session {
	uint64_t id;
	struct lws *wsi;
	bool registered;
	bool rx_binary, rx_over;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	struct hl_srv_out *q_head, *q_tail;
	size_t q_bytes;
};

struct srv {
	struct lws_context *ctx;
	struct hl_srv_core *core;
	struct hl_srv_map sessions; /* conn id -> struct session */
	uint64_t next_id;
	size_t max_message;
	lws_sorted_usec_list_t sul;
	volatile sig_atomic_t *stop;
};

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "hotlined: %s\n", line);
}

static void lws_emit(int level, const char *line)
{
	size_t n = strlen(line);

	(void)level;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	fprintf(stderr, "hotlined: lws: %.*s\n", (int)n, line);
}

static void session_drop_queue(struct session *s)
{
	struct hl_srv_out *o, *next;

	for (o = s->q_head; o; o = next) {
		next = o->next;
		hl_free(o);
	}
	s->q_head = s->q_tail = NULL;
	s->q_bytes = 0;
}

/*
 * Test hooks (tests/evil_hotlined.c plays a malicious server with them;
 * hotlined never sets them).  Injected messages wait here for pump().
 */
static struct hl_srv_hooks hooks;
static struct hl_srv_out *inject_head, *inject_tail;

void hl_server_set_hooks(const struct hl_srv_hooks *h)
{
	hooks = *h;
}

static struct hl_srv_out *out_text(uint64_t conn, const char *text, size_t len)
{
	struct hl_srv_out *o = hl_calloc(1, sizeof(*o) + LWS_PRE + len);

	if (!o)
		return NULL;
	o->conn = conn;
	o->kind = HL_SRV_SEND;
	o->len = len;
	o->data = o->buf + LWS_PRE;
	memcpy(o->data, text, len);
	return o;
}

int hl_server_inject(uint64_t conn, const char *text)
{
	struct hl_srv_out *o = out_text(conn, text, strlen(text));

	if (!o)
		return HL_ENOMEM;
	if (inject_tail)
		inject_tail->next = o;
	else
		inject_head = o;
	inject_tail = o;
	return 0;
}

/* The next output: the core's, through the output hook, or an injected
 * one. */
static struct hl_srv_out *next_out(struct srv *srv)
{
	struct hl_srv_out *o = hl_srv_core_pop(srv->core);

	if (o && hooks.on_output && o->kind == HL_SRV_SEND) {
		char *text =
			hooks.on_output(hooks.ctx, o->conn, o->data, o->len);

		if (text) {
			struct hl_srv_out *n =
				out_text(o->conn, text, strlen(text));

			hl_free(text);
			if (n) {
				hl_free(o);
				o = n;
			}
		}
	}
	if (!o && inject_head) {
		o = inject_head;
		inject_head = o->next;
		if (!inject_head)
			inject_tail = NULL;
		o->next = NULL;
	}
	return o;
}

/* Move the core's outputs to their sessions' queues. */
static void pump(struct srv *srv)
{
	struct hl_srv_out *o;

	while ((o = next_out(srv)) != NULL) {
		struct session *s = hl_srv_map_get(&srv->sessions, &o->conn,
						   sizeof(o->conn));

		if (!s) {
			hl_free(o);
			continue;
		}
		if (s->q_tail)
			s->q_tail->next = o;
		else
			s->q_head = o;
		s->q_tail = o;
		s->q_bytes += o->len;
		if (o->kind == HL_SRV_CLOSE)
			lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, 5);
		if (s->q_bytes > OUT_BYTES_MAX) {
			fprintf(stderr,
				"hotlined: conn %llu: closing: it does not "
				"read what it is sent\n",
				(unsigned long long)s->id);
			session_drop_queue(s);
			lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK,
					LWS_TO_KILL_ASYNC);
			continue;
		}
		lws_callback_on_writable(s->wsi);
	}
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, sul);

	hl_srv_core_tick(srv->core, hl_srv_now_us());
	pump(srv);
	if (!*srv->stop)
		lws_sul_schedule(srv->ctx, 0, &srv->sul, tick_cb, TICK_US);
}

static int on_established(struct srv *srv, struct session *s, struct lws *wsi)
{
	char addr[HL_SRV_ADDR_MAX] = "?";

	memset(s, 0, sizeof(*s));
	s->wsi = wsi;
	s->id = ++srv->next_id;
	if (hl_srv_map_put(&srv->sessions, &s->id, sizeof(s->id), s) != 0)
		return -1;
	s->registered = true;
	lws_get_peer_simple(wsi, addr, sizeof(addr));
	if (hl_srv_core_connected(srv->core, s->id, addr, hl_srv_now_us()))
		return -1;
	pump(srv);
	return 0;
}

static int on_receive(struct srv *srv, struct session *s, struct lws *wsi,
		      const uint8_t *in, size_t len)
{
	size_t keep;
	int err;

	if (lws_is_first_fragment(wsi) && s->rx_len == 0) {
		s->rx_binary = lws_frame_is_binary(wsi);
		s->rx_over = false;
	}
	/* Keep at most max_message + 1 bytes: enough to know it is too
	 * big. */
	keep = HL_MIN(len, srv->max_message + 1 - s->rx_len);
	if (s->rx_len + keep > s->rx_cap) {
		size_t cap = HL_MAX(s->rx_cap * 2, s->rx_len + keep);
		uint8_t *p;

		cap = HL_MIN(HL_MAX(cap, 1024), srv->max_message + 1);
		p = hl_realloc(s->rx, cap);
		if (!p)
			return -1;
		s->rx = p;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, in, keep);
	s->rx_len += keep;
	if (s->rx_len > srv->max_message)
		s->rx_over = true;
	if (!s->rx_over &&
	    (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)))
		return 0; /* more of this message to come */
	if (hooks.on_input)
		hooks.on_input(hooks.ctx, s->id, s->rx, s->rx_len);
	err = hl_srv_core_message(srv->core, s->id, s->rx, s->rx_len,
				  s->rx_binary, hl_srv_now_us());
	s->rx_len = 0;
	hl_free(s->rx);
	s->rx = NULL;
	s->rx_cap = 0;
	pump(srv);
	return err == HL_ENOMEM ? -1 : 0;
}

static int on_writable(struct session *s, struct lws *wsi)
{
	struct hl_srv_out *o = s->q_head;

	if (!o)
		return 0;
	if (o->kind == HL_SRV_CLOSE) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"closed by the server", 20);
		return -1;
	}
	if (lws_write(wsi, o->data, o->len, LWS_WRITE_TEXT) < (int)o->len)
		return -1;
	s->q_head = o->next;
	if (!s->q_head)
		s->q_tail = NULL;
	s->q_bytes -= o->len;
	hl_free(o);
	if (s->q_head)
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_closed(struct srv *srv, struct session *s)
{
	if (!s->registered)
		return;
	hl_srv_map_del(&srv->sessions, &s->id, sizeof(s->id));
	s->registered = false;
	hl_srv_core_closed(srv->core, s->id);
	session_drop_queue(s);
	hl_free(s->rx);
	s->rx = NULL;
	pump(srv);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct srv *srv = ctx ? lws_context_user(ctx) : NULL;
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* user is the vhost's SSL_CTX: TLS 1.2 at least. */
		if (!SSL_CTX_set_min_proto_version((SSL_CTX *)user,
						   TLS1_2_VERSION))
			return 1;
		return 0;
	case LWS_CALLBACK_HTTP:
		/* Plain HTTP: nothing served here (yet). */
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
		return -1;
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(srv, s, wsi);
	case LWS_CALLBACK_RECEIVE:
		if (!s->registered)
			return -1;
		return on_receive(srv, s, wsi, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!s->registered)
			return -1;
		return on_writable(s, wsi);
	case LWS_CALLBACK_CLOSED:
		on_closed(srv, s);
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
		.per_session_data_size = sizeof(struct session),
		.rx_buffer_size = 4096,
	},
	{0},
};

/* "ADDR:PORT" or "[ADDR6]:PORT" into addr and port. */
static int parse_listen(const char *s, char *addr, size_t cap, int *port)
{
	const char *colon = strrchr(s, ':'), *a = s;
	size_t alen;
	char *end = NULL;
	long p;

	if (!colon || colon == s)
		return HL_EINVAL;
	alen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (alen < 3 || s[alen - 1] != ']')
			return HL_EINVAL;
		a = s + 1;
		alen -= 2;
	}
	if (alen >= cap)
		return HL_EINVAL;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		return HL_EINVAL;
	memcpy(addr, a, alen);
	addr[alen] = 0;
	*port = (int)p;
	return 0;
}

/*
 * Try binding ADDR:PORT before libwebsockets does, for a precise sentence
 * (in use, or not an address here) and because a failed lws context
 * leaks.  Names that are not IP literals are left to lws.
 */
static int check_bind(const char *addr, int port, const char **why)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err = 0;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		return 0;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		*why = errno == EADDRINUSE ? "the port is in use"
		       : errno == EADDRNOTAVAIL
			       ? "that is not an address of this machine"
		       : errno == EACCES ? "a port below 1024 needs privileges"
					 : "cannot bind there";
		err = HL_EIO;
	}
	close(fd);
	return err;
}

static unsigned raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_CAP)
		rl.rlim_max = FD_CAP;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (unsigned)HL_MIN(rl.rlim_cur, (rlim_t)FD_CAP);
}

int hl_server_run(const struct hl_server_config *cfg,
		  volatile sig_atomic_t *stop)
{
	struct lws_context_creation_info info;
	struct hl_srv_core_config cc;
	struct hl_srv_store *store = NULL;
	struct srv srv;
	struct lws_vhost *vh;
	char addr[128], cert[4096], key[4096], db[4096], fphex[65];
	const char *why = NULL;
	unsigned fds;
	int port = 0, err;

	memset(&srv, 0, sizeof(srv));
	memset(&cc, 0, sizeof(cc));
	srv.stop = stop;
	if (!cfg->listen || !cfg->data_dir ||
	    parse_listen(cfg->listen, addr, sizeof(addr), &port) != 0) {
		fprintf(stderr, "hotlined: --listen must be ADDR:PORT, e.g. "
				"0.0.0.0:8443.\n");
		return HL_EINVAL;
	}
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr,
			"hotlined: cannot create the data folder %s: "
			"%s.\n",
			cfg->data_dir, strerror(errno));
		return HL_EIO;
	}
	if ((size_t)snprintf(db, sizeof(db), "%s/hotlined.db", cfg->data_dir) >=
	    sizeof(db)) {
		fprintf(stderr, "hotlined: the data folder's path is too "
				"long.\n");
		return HL_EINVAL;
	}
	err = hl_srv_cert_prepare(cfg->data_dir, cfg->cert_file, cfg->key_file,
				  cert, key, sizeof(cert), cc.fingerprint,
				  &why);
	if (err) {
		fprintf(stderr, "hotlined: %s.\n", why);
		return err;
	}
	if ((err = hl_srv_store_open(&store, db, &why)) != 0) {
		fprintf(stderr, "hotlined: the store %s: %s.\n", db,
			err == HL_ENOMEM ? "out of memory" : why);
		return err;
	}
	cc.limits = cfg->limits;
	hl_srv_limits_fill(&cc.limits);
	srv.max_message = cc.limits.max_message;
	cc.turn_secret = cfg->turn_secret;
	cc.turn_uri = cfg->turn_uri;
	cc.store = store;
	cc.rng = hl_srv_rng();
	cc.out_headroom = LWS_PRE;
	cc.log = log_line;
	if (!cc.rng.fill) {
		fprintf(stderr, "hotlined: libsodium could not start.\n");
		err = HL_ECRYPTO;
		goto out;
	}
	if ((err = hl_srv_core_new(&srv.core, &cc)) != 0 ||
	    (err = hl_srv_map_init(&srv.sessions, &cc.rng)) != 0) {
		fprintf(stderr, "hotlined: cannot start: %s\n",
			err == HL_EINVAL ? "--turn-uri must be UTF-8 text "
					   "and go with --turn-secret."
					 : hl_strerror(err));
		goto out;
	}

	if ((err = check_bind(addr, port, &why)) != 0) {
		fprintf(stderr, "hotlined: cannot listen on %s: %s.\n",
			cfg->listen, why);
		goto out;
	}
	fds = raise_nofile();
	if (fds < cc.limits.max_conns + 32)
		fprintf(stderr,
			"hotlined: only %u file descriptors allowed; fewer "
			"than %u connections will fit\n",
			fds, cc.limits.max_conns);
	/* Quiet while starting: a failure is one sentence of ours. */
	lws_set_log_level(0, lws_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (!strchr(addr, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = port;
	info.iface = addr;
	info.protocols = protocols;
	info.ssl_cert_filepath = cert;
	info.ssl_private_key_filepath = key;
	info.ssl_options_set =
		SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	info.fd_limit_per_thread = fds;
	info.count_threads = 1;
	info.timeout_secs = 10;
	info.ka_time = 60;
	info.ka_probes = 3;
	info.ka_interval = 10;
	info.vhost_name = "hotlined";
	info.user = &srv;
	srv.ctx = lws_create_context(&info);
	vh = srv.ctx ? lws_get_vhost_by_name(srv.ctx, "hotlined") : NULL;
	if (!vh || lws_get_vhost_listen_port(vh) <= 0) {
		fprintf(stderr,
			"hotlined: cannot listen on %s (address in use, or "
			"not an address of this machine?).\n",
			cfg->listen);
		err = HL_EIO;
		goto out;
	}
	lws_set_log_level(LLL_ERR, lws_emit);
	sodium_bin2hex(fphex, sizeof(fphex), cc.fingerprint,
		       sizeof(cc.fingerprint));
	fprintf(stderr, "hotlined: certificate fingerprint sha256:%s\n", fphex);
	fprintf(stderr, "hotlined: listening on %s%s%s:%d (%u descriptors)\n",
		strchr(addr, ':') ? "[" : "", addr,
		strchr(addr, ':') ? "]" : "", lws_get_vhost_listen_port(vh),
		fds);
	lws_sul_schedule(srv.ctx, 0, &srv.sul, tick_cb, TICK_US);
	err = 0;
	while (!*stop && !err)
		if (lws_service(srv.ctx, 0) < 0) {
			fprintf(stderr, "hotlined: the event loop failed.\n");
			err = HL_EIO;
		}
	fprintf(stderr, "hotlined: stopping\n");
out:
	if (srv.ctx) {
		lws_sul_cancel(&srv.sul);
		lws_context_destroy(srv.ctx);
	}
	hl_srv_core_free(srv.core);
	hl_srv_map_free(&srv.sessions);
	hl_srv_store_close(store);
	return err;
}
