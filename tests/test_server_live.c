/*
 * test_server_live.c - hotlined as a real process on 127.0.0.1, driven by
 * the client library (src/net/signal.c) and by raw TLS sockets.
 *
 * Each test starts its own server (fork/exec of $HL_HOTLINED, port 0 read
 * back from its log, a fresh temp data folder) and ends it by its PID:
 *   - live_flow: first-use pin, authentication, put / list / answer,
 *     relays both ways, TURN credentials, request latency on loopback;
 *   - live_sigkill: SIGKILL mid-flow, restart on the same port and data:
 *     contracts and states are there, connected clients reconnect on
 *     their own and their next request succeeds (recovery time printed);
 *   - live_pin_mismatch: a server with another certificate is refused by
 *     a client holding the old pin;
 *   - live_idle_1000: 1000 idle TLS WebSocket connections at once while
 *     two clients keep working (server memory printed);
 *   - live_flood: a flooding client gets rate_limited (and is closed),
 *     another identity's requests keep succeeding;
 *   - live_malformed: bad opcodes, unmasked client frames, huge length
 *     fields, oversized messages and garbage JSON on raw connections
 *     disturb no one else.
 * Figures go to stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "harness.h"
#include "hotline/contract.h"
#include "hotline/identity.h"
#include "hotline/net.h"
#include "hotline/signal.h"

struct server {
	pid_t pid;
	char dir[64];  /* temp folder: data/ and log */
	char data[96]; /* data folder */
	char log[96];
	int port;
	uint8_t fp[HL_SIGNAL_FP_LEN];
};

static struct hl_identity alice, bob, eve;

static double now_s(void)
{
	return (double)hl_clock_now_us() / 1e6;
}

static void id_from(struct hl_identity *id, uint8_t first, const char *name)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
		abort();
}

/* ---- the server process ---------------------------------------------- */

/* Servers running now, by PID, so that main can end what a failed test
 * left behind. */
static pid_t live_pids[32];

static void pid_track(pid_t pid, bool add)
{
	for (size_t i = 0; i < HL_ARRAY_SIZE(live_pids); i++)
		if (live_pids[i] == (add ? 0 : pid)) {
			live_pids[i] = add ? pid : 0;
			return;
		}
}

/* Wait until the log shows the listening port; parse the fingerprint. */
static int read_log(struct server *s, double timeout)
{
	double end = now_s() + timeout;

	while (now_s() < end) {
		char buf[8192], *p;
		FILE *f = fopen(s->log, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		p = strstr(buf, "listening on 127.0.0.1:");
		if (p) {
			char *q = strstr(buf, "fingerprint sha256:");
			size_t len = 0;

			s->port = atoi(p + 23); /* check-source: allow */
			if (!q ||
			    sodium_hex2bin(s->fp, sizeof(s->fp), q + 19, 64,
					   NULL, &len, NULL) != 0 ||
			    len != 32)
				return -1;
			return 0;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			pid_track(s->pid, false);
			s->pid = 0;
			fprintf(stderr, "hotlined exited:\n%s\n", buf);
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

/* Start hotlined on port (0: any) with extra arguments (NULL-ended). */
static int server_start(struct server *s, int port, const char *const *extra)
{
	const char *exe = getenv("HL_HOTLINED");
	char listen[64];
	const char *argv[40];
	int n = 0, fd;

	if (!exe) {
		fprintf(stderr, "HL_HOTLINED is not set\n");
		return -1;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	argv[n++] = exe;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--data";
	argv[n++] = s->data;
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(fd, 2);
		dup2(fd, 1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(fd);
	if (s->pid < 0)
		return -1;
	pid_track(s->pid, true);
	return read_log(s, 15);
}

static int server_new(struct server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/hl-live-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/log", s->dir);
	return server_start(s, 0, extra);
}

static bool server_alive(struct server *s)
{
	if (s->pid <= 0)
		return false;
	if (waitpid(s->pid, NULL, WNOHANG) == 0)
		return true;
	pid_track(s->pid, false); /* reaped: never signal that PID again */
	s->pid = 0;
	return false;
}

/* SIGTERM (clean stop, exit status 0 expected) or SIGKILL. */
static int server_stop(struct server *s, int sig)
{
	int status = 0;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, sig);
	if (waitpid(s->pid, &status, 0) != s->pid)
		return -1;
	pid_track(s->pid, false);
	s->pid = 0;
	if (sig == SIGTERM)
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
	return 0;
}

static void server_cleanup(struct server *s)
{
	char cmd[128];

	if (s->pid > 0)
		server_stop(s, SIGKILL);
	if (getenv("HL_LIVE_KEEP")) { /* keep the logs for a look */
		fprintf(stderr, "kept %s\n", s->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", s->dir);
}

static long server_rss_kib(const struct server *s)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

static bool log_has(const struct server *s, const char *what)
{
	FILE *f = fopen(s->log, "r");
	char line[1024];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

static int log_count(const struct server *s, const char *what)
{
	FILE *f = fopen(s->log, "r");
	char line[1024];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* ---- clients ------------------------------------------------------------ */

static int client(const struct server *s, const struct hl_identity *id,
		  bool pin, struct hl_signal **out, uint8_t fp[32],
		  const char **why)
{
	struct hl_signal_config cfg;
	char url[64];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d", s->port);
	cfg.url = url;
	cfg.id = id;
	cfg.have_pin = pin;
	memcpy(cfg.pin, s->fp, 32);
	cfg.connect_timeout_ms = 5000;
	cfg.request_timeout_ms = 10000;
	return hl_signal_connect(out, &cfg, fp, why);
}

static void contract_of(struct hl_contract *c, uint8_t tag,
			const struct hl_identity *p,
			const struct hl_identity *i)
{
	uint64_t t = hl_clock_wall_us() / 1000000u;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < HL_CALL_ID_LEN; k++)
		c->call_id[k] = (uint8_t)(tag * 31 + k);
	memcpy(c->proposer, p->pk, 32);
	memcpy(c->invitee, i->pk, 32);
	c->not_before = t - 60; /* the relay window is open now */
	c->not_after = t + 3600;
	c->created = t - 120;
	c->n_suites = 1;
	c->suites[0] = 1;
	snprintf(c->proposer_name, sizeof(c->proposer_name), "%s", p->name);
	c->n_topics = 1;
	snprintf(c->topics[0], sizeof(c->topics[0]), "live test %u", tag);
}

static struct hl_contract_bundle *propose(uint8_t tag,
					  const struct hl_identity *p,
					  const struct hl_identity *i)
{
	struct hl_contract_bundle *b = calloc(1, sizeof(*b));
	struct hl_contract c;

	contract_of(&c, tag, p, i);
	if (!b || hl_contract_propose(&c, p, b) != 0)
		abort();
	return b;
}

/* The state of call (by tag) in s's list, 0 if absent. */
static int listed_state(struct hl_signal *s, const uint8_t call_id[16],
			size_t *count)
{
	struct hl_contract_bundle *l = NULL;
	size_t n = 0, bad = 0;
	int st = 0;

	if (hl_signal_list(s, &l, &n, &bad) != 0) {
		fprintf(stderr, "list: %s\n", hl_signal_error(s));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (memcmp(l[i].c.call_id, call_id, 16) == 0)
			st = (int)hl_contract_bundle_state(&l[i]);
	if (count)
		*count = n;
	hl_free(l);
	return bad ? -1 : st;
}

/* One relay a -> b on call, received and checked. */
static int relay_once(struct hl_signal *a, const struct hl_identity *aid,
		      struct hl_signal *b, const uint8_t call_id[16],
		      uint8_t tag)
{
	uint8_t msg[300], got[HL_RELAY_MAX], from[32];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(tag + i);
	if (hl_signal_relay_send(a, call_id, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "relay_send: %s\n", hl_signal_error(a));
		return -1;
	}
	if (hl_signal_relay_recv(b, call_id, got, sizeof(got), &len, from,
				 5000) != 0) {
		fprintf(stderr, "relay_recv: %s\n", hl_signal_error(b));
		return -1;
	}
	if (len != sizeof(msg) || memcmp(got, msg, len) != 0 ||
	    memcmp(from, aid->pk, 32) != 0)
		return -1;
	return 0;
}

/* ---- raw TLS WebSocket connections ---------------------------------- */

struct raw {
	int fd;
	SSL *ssl;
	uint8_t buf[1 << 17];
	size_t len;
};

static SSL_CTX *raw_ssl_ctx;

static SSL_CTX *raw_ctx(void)
{
	if (!raw_ssl_ctx) {
		raw_ssl_ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(raw_ssl_ctx, SSL_VERIFY_NONE, NULL);
	}
	return raw_ssl_ctx;
}

static void raw_close(struct raw *r)
{
	if (r->ssl)
		SSL_free(r->ssl);
	if (r->fd >= 0)
		close(r->fd);
	r->ssl = NULL;
	r->fd = -1;
}

/* Read more bytes, waiting up to ms: 0, -1 on timeout, -2 on EOF. */
static int raw_fill(struct raw *r, int ms)
{
	struct pollfd p = {.fd = r->fd, .events = POLLIN};
	int n;

	if (r->len == sizeof(r->buf))
		return -2;
	if (!SSL_pending(r->ssl) && poll(&p, 1, ms) <= 0)
		return -1;
	n = SSL_read(r->ssl, r->buf + r->len, (int)(sizeof(r->buf) - r->len));
	if (n <= 0)
		return -2;
	r->len += (size_t)n;
	return 0;
}

/* TLS, then the WebSocket upgrade (RFC 6455 §4.1). */
static int raw_open(struct raw *r, int port)
{
	static const char req[] =
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Protocol: hotline\r\n\r\n";
	struct sockaddr_in a = {.sin_family = AF_INET};
	uint8_t *end;

	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r->ssl = NULL;
	r->len = 0;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	r->ssl = SSL_new(raw_ctx());
	if (!r->ssl || !SSL_set_fd(r->ssl, r->fd) || SSL_connect(r->ssl) != 1)
		goto fail;
	if (SSL_write(r->ssl, req, sizeof(req) - 1) != sizeof(req) - 1)
		goto fail;
	while (!(end = memmem(r->buf, r->len, "\r\n\r\n", 4)))
		if (raw_fill(r, 5000))
			goto fail;
	if (r->len < 12 || memcmp(r->buf, "HTTP/1.1 101", 12) != 0)
		goto fail;
	r->len -= (size_t)(end + 4 - r->buf);
	memmove(r->buf, end + 4, r->len);
	return 0;
fail:
	raw_close(r);
	return -1;
}

/* Send one frame; masked as a client must unless told not to (§5.3). */
static int raw_frame(struct raw *r, int opcode, bool masked, const uint8_t *p,
		     size_t len)
{
	uint8_t *f = malloc(len + 14), key[4] = {1, 2, 3, 4};
	size_t n = 0;
	int rc;

	f[n++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		f[n++] = (uint8_t)((masked ? 0x80 : 0) | len);
	} else if (len < 65536) {
		f[n++] = (uint8_t)((masked ? 0x80 : 0) | 126);
		hl_put_be16(f + n, (uint16_t)len);
		n += 2;
	} else {
		f[n++] = (uint8_t)((masked ? 0x80 : 0) | 127);
		hl_put_be64(f + n, len);
		n += 8;
	}
	if (masked) {
		memcpy(f + n, key, 4);
		n += 4;
	}
	for (size_t i = 0; i < len; i++)
		f[n + i] = masked ? p[i] ^ key[i & 3] : p[i];
	rc = SSL_write(r->ssl, f, (int)(n + len)) == (int)(n + len) ? 0 : -1;
	free(f);
	return rc;
}

static int raw_text(struct raw *r, const char *text)
{
	return raw_frame(r, 1, true, (const uint8_t *)text, strlen(text));
}

/* Read one server frame (unmasked): its opcode, -1 (time), -2 (EOF). */
static int raw_read(struct raw *r, char *out, size_t cap, int ms)
{
	for (;;) {
		if (r->len >= 2) {
			size_t hl = 2, len = r->buf[1] & 0x7f;
			int op = r->buf[0] & 0x0f;

			if (len == 126 && r->len >= 4) {
				len = hl_get_be16(r->buf + 2);
				hl = 4;
			} else if (len == 127 && r->len >= 10) {
				len = (size_t)hl_get_be64(r->buf + 2);
				hl = 10;
			}
			if ((len < 126 || hl > 2) && r->len >= hl + len) {
				size_t k = HL_MIN(len, cap - 1);

				memcpy(out, r->buf + hl, k);
				out[k] = 0;
				r->len -= hl + len;
				memmove(r->buf, r->buf + hl + len, r->len);
				return op;
			}
		}
		int err = raw_fill(r, ms);

		if (err)
			return err;
	}
}

/* Authenticate a raw connection as id (the challenge is read first). */
static int raw_auth(struct raw *r, const struct hl_identity *id)
{
	static const char ctx[] = "hotline server auth v1";
	uint8_t msg[sizeof(ctx) + 64], sig[64], nonce[32], fp[32];
	char text[2048], pk[HL_ID_TEXT_LEN + 1], s64[100];
	size_t n1 = 0, n2 = 0;
	json_t *j;
	int ok;

	if (raw_read(r, text, sizeof(text), 5000) != 1)
		return -1;
	j = json_loads(text, 0, NULL);
	ok = j &&
	     sodium_base642bin(nonce, 32,
			       json_string_value(json_object_get(j, "nonce")),
			       43, NULL, &n1, NULL,
			       sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	     sodium_base642bin(fp, 32,
			       json_string_value(json_object_get(j, "server")),
			       43, NULL, &n2, NULL,
			       sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
	json_decref(j);
	if (!ok || n1 != 32 || n2 != 32)
		return -1;
	memcpy(msg, ctx, sizeof(ctx));
	memcpy(msg + sizeof(ctx), nonce, 32);
	memcpy(msg + sizeof(ctx) + 32, fp, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), id->sk);
	hl_pubkey_to_text(id->pk, pk);
	sodium_bin2base64(s64, sizeof(s64), sig, 64,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(text, sizeof(text),
		 "{\"type\":\"auth\",\"public_key\":\"%s\",\"signature\":"
		 "\"%s\"}",
		 pk, s64);
	if (raw_text(r, text) || raw_read(r, text, sizeof(text), 5000) != 1)
		return -1;
	return strstr(text, "welcome") ? 0 : -1;
}

/* Until the connection ends: did an error with this code come? */
static bool raw_saw(struct raw *r, const char *code, int ms)
{
	char text[4096], want[64];
	int op;

	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	while ((op = raw_read(r, text, sizeof(text), ms)) >= 0)
		if (op == 1 && strstr(text, want))
			return true;
	return false;
}

/* True once the server has closed r (close frame or EOF) within ms. */
static bool raw_closed(struct raw *r, int ms)
{
	double end = now_s() + ms / 1e3;
	char text[4096];

	while (now_s() < end) {
		int op = raw_read(r, text, sizeof(text), 100);

		if (op == 8 || op == -2)
			return true;
	}
	return false;
}

/* ---- the tests ------------------------------------------------------------ */

static int test_live_flow(void)
{
	static const char *const turn[] = {
		"--turn-secret", "s3cret", "--turn-uri", "turn:127.0.0.1:3478",
		/* the latency loop below runs faster than the default rates */
		"--limit", "conn_msgs_per_s=100000", "--limit",
		"id_msgs_per_s=100000", NULL};
	struct server s;
	struct hl_signal *a = NULL, *b = NULL;
	struct hl_contract_bundle *p = NULL;
	struct hl_turn_creds creds;
	uint8_t fp[32];
	const char *why = NULL;
	double t0, t1;
	int rc = -1;

	HT_ASSERT(server_new(&s, turn) == 0);
	/* first use: no pin, the fingerprint comes back */
	t0 = now_s();
	if (client(&s, &alice, false, &a, fp, &why) != 0) {
		fprintf(stderr, "connect: %s\n", why);
		goto out;
	}
	t1 = now_s();
	printf("# connect + TLS + auth on loopback: %.1f ms\n",
	       (t1 - t0) * 1e3);
	if (memcmp(fp, s.fp, 32) != 0)
		goto out;
	if (client(&s, &bob, true, &b, fp, &why) != 0) {
		fprintf(stderr, "connect: %s\n", why);
		goto out;
	}
	p = propose(1, &alice, &bob);
	if (hl_signal_put_contract(a, p) != 0 ||
	    listed_state(b, p->c.call_id, NULL) != HL_CONTRACT_PROPOSED)
		goto out;
	/* relaying before the answer is refused */
	if (hl_signal_relay_send(a, p->c.call_id, (const uint8_t *)"x", 1) !=
		    HL_ESTATE ||
	    !strstr(hl_signal_error(a), "not_confirmed"))
		goto out;
	if (hl_contract_accept(p, &bob) != 0 || hl_signal_answer(b, p) != 0 ||
	    listed_state(a, p->c.call_id, NULL) != HL_CONTRACT_CONFIRMED)
		goto out;
	if (relay_once(a, &alice, b, p->c.call_id, 1) ||
	    relay_once(b, &bob, a, p->c.call_id, 2))
		goto out;
	if (hl_signal_turn(a, p->c.call_id, &creds) != 0 ||
	    strcmp(creds.uri, "turn:127.0.0.1:3478") != 0 ||
	    !strchr(creds.username, ':') || strlen(creds.password) != 28)
		goto out;
	/* request latency: 200 relays (each one request and its answer) */
	t0 = now_s();
	for (int i = 0; i < 200; i++) {
		uint8_t got[16], from[32];
		size_t len;

		if (hl_signal_relay_send(a, p->c.call_id,
					 (const uint8_t *)"ping", 4) != 0 ||
		    hl_signal_relay_recv(b, p->c.call_id, got, sizeof(got),
					 &len, from, 2000) != 0) {
			fprintf(stderr, "relay %d: %s / %s\n", i,
				hl_signal_error(a), hl_signal_error(b));
			goto out;
		}
	}
	t1 = now_s();
	printf("# relay request + delivery on loopback: %.0f us each\n",
	       (t1 - t0) / 200 * 1e6);
	HT_ASSERT(log_has(&s, "auth ok"));
	HT_ASSERT(log_has(&s, "stored (proposed)"));
	HT_ASSERT(log_has(&s, "answered (confirmed)"));
	HT_ASSERT(log_has(&s, "relay "));
	rc = 0;
out:
	if (rc) {
		fprintf(stderr, "alice: %s\nbob: %s\n", hl_signal_error(a),
			hl_signal_error(b));
	}
	hl_signal_close(a);
	hl_signal_close(b);
	free(p);
	if (rc == 0 && server_stop(&s, SIGTERM) != 0)
		rc = -1;
	server_cleanup(&s);
	return rc;
}

static const char *const fast[] = {"--limit", "conn_msgs_per_s=1000", "--limit",
				   "id_msgs_per_s=1000", NULL};

struct killer {
	struct server *s;
	int port, rc;
	double t_kill, t_up;
};

/* Kill the server 300 ms from now and start it again at once. */
static void *killer_main(void *arg)
{
	struct killer *k = arg;

	usleep(300 * 1000);
	k->t_kill = now_s();
	k->rc = server_stop(k->s, SIGKILL) ||
		server_start(k->s, k->port, fast) || k->s->port != k->port;
	k->t_up = now_s();
	return NULL;
}

static int test_live_sigkill(void)
{
	struct server s;
	struct hl_signal *a = NULL, *b = NULL;
	struct hl_contract_bundle *p1 = NULL, *p2 = NULL, *q = NULL;
	struct killer k = {0};
	pthread_t th;
	uint8_t fp[32];
	const char *why = NULL;
	double t0, t_up, t_ok, first_ok = 0, done_at[150];
	size_t n = 0;
	int rc = -1, port, acked = 0;

	HT_ASSERT(server_new(&s, fast) == 0);
	if (client(&s, &alice, false, &a, fp, &why) ||
	    client(&s, &bob, true, &b, fp, &why))
		goto out;
	p1 = propose(11, &alice, &bob);
	p2 = propose(12, &alice, &bob);
	if (hl_signal_put_contract(a, p1) || hl_contract_accept(p1, &bob) ||
	    hl_signal_answer(b, p1) || hl_signal_put_contract(a, p2))
		goto out;
	/* the acknowledged writes are on disk: kill -9 now */
	port = s.port;
	t0 = now_s();
	HT_ASSERT(server_stop(&s, SIGKILL) == 0);
	HT_ASSERT(server_start(&s, port, fast) == 0);
	t_up = now_s();
	HT_EQ_INT(s.port, port);
	/* alice's next request: reconnect, re-auth, resend, on its own */
	if (listed_state(a, p1->c.call_id, &n) != HL_CONTRACT_CONFIRMED)
		goto out;
	t_ok = now_s();
	printf("# SIGKILL -> restarted: %.0f ms; -> client's next request "
	       "answered: %.0f ms\n",
	       (t_up - t0) * 1e3, (t_ok - t0) * 1e3);
	if (n != 2 ||
	    listed_state(b, p2->c.call_id, NULL) != HL_CONTRACT_PROPOSED)
		goto out;
	if (relay_once(a, &alice, b, p1->c.call_id, 3))
		goto out;
	/* A relay for an offline party is queued until it comes back.  The
	 * server must have seen bob go first: a relay sent while his closing
	 * connection still looks live goes down it and is lost (this once
	 * happened under ASan, when the test did not wait). */
	{
		uint8_t got[64], from[32];
		char key[HL_ID_TEXT_LEN + 1], bye[HL_ID_TEXT_LEN + 16];
		size_t len = 0;
		int closed;
		double tc = now_s();

		/* the server's line for the close of one of bob's
		 * connections: "conn N ADDR KEY: closed" */
		hl_pubkey_to_text(bob.pk, key);
		snprintf(bye, sizeof(bye), "%s: closed\n", key);
		closed = log_count(&s, bye);
		hl_signal_close(b);
		b = NULL;
		while (log_count(&s, bye) == closed && now_s() - tc < 5)
			usleep(1000);
		HT_EQ_INT(log_count(&s, bye), closed + 1);
		if (hl_signal_relay_send(a, p1->c.call_id,
					 (const uint8_t *)"later", 5) ||
		    client(&s, &bob, true, &b, fp, &why) ||
		    /* generous for ASan on a loaded machine; a delivered
		     * relay returns at once */
		    hl_signal_relay_recv(b, p1->c.call_id, got, sizeof(got),
					 &len, from, 10000) ||
		    len != 5 || memcmp(got, "later", 5) != 0)
			goto out;
	}
	/* Mid-flow: alice keeps proposing while the server is killed and
	 * restarted under her; every request must succeed (in-flight ones
	 * are resent after the reconnection) and every acknowledged
	 * contract must be there afterwards. */
	k.s = &s;
	k.port = port;
	if (pthread_create(&th, NULL, killer_main, &k) != 0)
		goto out;
	for (int i = 0; i < 150; i++) {
		q = propose((uint8_t)(100 + i), &alice, &bob);
		if (hl_signal_put_contract(a, q) != 0) {
			fprintf(stderr, "put %d: %s\n", i, hl_signal_error(a));
			free(q);
			pthread_join(th, NULL);
			goto out;
		}
		done_at[acked++] = now_s();
		free(q);
		usleep(10 * 1000);
	}
	pthread_join(th, NULL);
	if (k.rc)
		goto out;
	for (int i = 0; i < acked && !first_ok; i++)
		if (done_at[i] > k.t_kill)
			first_ok = done_at[i];
	printf("# mid-flow SIGKILL: restarted in %.0f ms; %d proposals, all "
	       "acknowledged; first answered %.0f ms after the kill\n",
	       (k.t_up - k.t_kill) * 1e3, acked, (first_ok - k.t_kill) * 1e3);
	if (listed_state(b, p1->c.call_id, &n) != HL_CONTRACT_CONFIRMED ||
	    n != (size_t)acked + 2)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "alice: %s\nbob: %s\n", hl_signal_error(a),
			b ? hl_signal_error(b) : why);
	hl_signal_close(a);
	hl_signal_close(b);
	free(p1);
	free(p2);
	server_cleanup(&s);
	return rc;
}

static int test_live_pin_mismatch(void)
{
	struct server s1, s2;
	struct hl_signal *a = NULL;
	uint8_t fp[32];
	const char *why = NULL;
	int err;

	HT_ASSERT(server_new(&s1, NULL) == 0);
	HT_ASSERT(server_new(&s2, NULL) == 0);
	HT_ASSERT(memcmp(s1.fp, s2.fp, 32) != 0);
	/* a client holding s1's pin, connecting to s2 */
	memcpy(s2.fp, s1.fp, 32);
	err = client(&s2, &alice, true, &a, fp, &why);
	HT_EQ_INT(err, HL_ECONFLICT);
	HT_ASSERT(a == NULL && why && strstr(why, "pinned"));
	printf("# refused: %s\n", why);
	HT_ASSERT(!log_has(&s2, "auth ok"));
	/* with the right pin, fine */
	err = client(&s1, &alice, true, &a, fp, &why);
	HT_EQ_INT(err, 0);
	hl_signal_close(a);
	/* Connected without a pin, then the server is replaced by one with
	 * another certificate on the same port: the reconnection meets
	 * the first certificate or nothing. */
	err = client(&s1, &bob, false, &a, fp, &why);
	HT_EQ_INT(err, 0);
	{
		struct hl_contract_bundle *l = NULL;
		size_t n = 0, bad = 0;
		int port = s1.port;

		HT_ASSERT(server_stop(&s1, SIGKILL) == 0);
		snprintf(s1.data, sizeof(s1.data), "%s/data2", s1.dir);
		HT_ASSERT(server_start(&s1, port, NULL) == 0);
		HT_ASSERT(memcmp(s1.fp, fp, 32) != 0);
		err = hl_signal_list(a, &l, &n, &bad);
		hl_free(l);
		HT_EQ_INT(err, HL_ECONFLICT);
		HT_ASSERT(strstr(hl_signal_error(a), "pinned"));
		HT_ASSERT(!log_has(&s1, "auth ok"));
	}
	hl_signal_close(a);
	server_cleanup(&s1);
	server_cleanup(&s2);
	return 0;
}

#define IDLE_N 1000

static int test_live_idle_1000(void)
{
	static const char *const lim[] = {"--limit", "conns_per_addr=1100",
					  "--limit", "auth_s=120", NULL};
	struct server s;
	struct hl_signal *a = NULL, *b = NULL;
	struct hl_contract_bundle *p = NULL;
	struct raw *r = calloc(IDLE_N, sizeof(*r));
	struct rlimit rl;
	uint8_t fp[32];
	const char *why = NULL;
	long rss0, rss1;
	double t0;
	int rc = -1, opened = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	HT_ASSERT(rl.rlim_cur > IDLE_N + 100);
	HT_ASSERT(server_new(&s, lim) == 0);
	if (client(&s, &alice, false, &a, fp, &why) ||
	    client(&s, &bob, true, &b, fp, &why))
		goto out;
	p = propose(21, &alice, &bob);
	if (hl_signal_put_contract(a, p) || hl_contract_accept(p, &bob) ||
	    hl_signal_answer(b, p))
		goto out;
	rss0 = server_rss_kib(&s);
	t0 = now_s();
	for (int i = 0; i < IDLE_N; i++) {
		if (raw_open(&r[i], s.port) != 0) {
			fprintf(stderr, "connection %d failed\n", i);
			goto out;
		}
		opened++;
		/* the two clients keep working meanwhile */
		if (i % 250 == 0 && relay_once(a, &alice, b, p->c.call_id, 4))
			goto out;
	}
	rss1 = server_rss_kib(&s);
	printf("# %d idle TLS WebSockets opened in %.2f s; server RSS %ld "
	       "-> %ld KiB (%.1f KiB each)\n",
	       IDLE_N, now_s() - t0, rss0, rss1,
	       (double)(rss1 - rss0) / IDLE_N);
	for (int i = 0; i < 5; i++)
		if (relay_once(b, &bob, a, p->c.call_id, 5) ||
		    listed_state(a, p->c.call_id, NULL) !=
			    HL_CONTRACT_CONFIRMED)
			goto out;
	/* every idle one got its challenge */
	for (int i = 0; i < IDLE_N; i += 97) {
		char text[1024];

		if (raw_read(&r[i], text, sizeof(text), 3000) != 1 ||
		    !strstr(text, "challenge"))
			goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < opened; i++)
		raw_close(&r[i]);
	free(r);
	if (rc)
		fprintf(stderr, "alice: %s\nbob: %s\n", hl_signal_error(a),
			hl_signal_error(b));
	if (rc == 0 && relay_once(a, &alice, b, p->c.call_id, 6))
		rc = -1;
	hl_signal_close(a);
	hl_signal_close(b);
	free(p);
	if (rc == 0 && server_stop(&s, SIGTERM) != 0)
		rc = -1;
	server_cleanup(&s);
	return rc;
}

static int test_live_flood(void)
{
	struct server s;
	struct hl_signal *b = NULL, *e = NULL, *a = NULL;
	struct hl_contract_bundle *p = NULL;
	struct raw r;
	uint8_t fp[32];
	const char *why = NULL;
	unsigned limited = 0, ok_b = 0, sent = 0;
	int rc = -1;

	HT_ASSERT(server_new(&s, NULL) == 0);
	if (client(&s, &alice, false, &a, fp, &why) ||
	    client(&s, &bob, true, &b, fp, &why) ||
	    client(&s, &eve, true, &e, fp, &why))
		goto out;
	p = propose(31, &alice, &bob);
	if (hl_signal_put_contract(a, p) || hl_contract_accept(p, &bob) ||
	    hl_signal_answer(b, p))
		goto out;
	/* eve floods through the library, as fast as answers come */
	for (int i = 0; i < 300; i++) {
		struct hl_contract_bundle *l = NULL;
		size_t n, bad;
		int err = hl_signal_list(e, &l, &n, &bad);

		hl_free(l);
		if (err == HL_EFULL &&
		    strstr(hl_signal_error(e), "rate_limited"))
			limited++;
		if (i % 10 == 0) {
			if (relay_once(a, &alice, b, p->c.call_id, 7))
				goto out;
			ok_b++;
		}
	}
	printf("# flooding client: %u of 300 requests rate_limited; the "
	       "others: %u relays, all delivered\n",
	       limited, ok_b);
	if (limited < 150)
		goto out;
	/* a raw flood: refused, then closed; the others still served */
	if (raw_open(&r, s.port) || raw_auth(&r, &eve))
		goto out;
	for (int i = 0; i < 500; i++) {
		char m[64];

		snprintf(m, sizeof(m), "{\"type\":\"ping\",\"id\":%d}", i);
		if (raw_text(&r, m))
			break; /* closed under us */
		sent++;
	}
	if (!raw_saw(&r, "rate_limited", 2000))
		goto out;
	raw_close(&r);
	if (relay_once(b, &bob, a, p->c.call_id, 8) ||
	    !log_has(&s, "too many refused messages"))
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "a: %s\nb: %s\ne: %s\n", hl_signal_error(a),
			hl_signal_error(b), hl_signal_error(e));
	hl_signal_close(a);
	hl_signal_close(b);
	hl_signal_close(e);
	free(p);
	server_cleanup(&s);
	return rc;
}

static int test_live_malformed(void)
{
	struct server s;
	struct hl_signal *a = NULL, *b = NULL;
	struct hl_contract_bundle *p = NULL;
	uint8_t fp[32], *big = NULL;
	const char *why = NULL;
	struct raw r;
	int rc = -1;

	HT_ASSERT(server_new(&s, NULL) == 0);
	if (client(&s, &alice, false, &a, fp, &why) ||
	    client(&s, &bob, true, &b, fp, &why))
		goto out;
	p = propose(41, &alice, &bob);
	if (hl_signal_put_contract(a, p) || hl_contract_accept(p, &bob) ||
	    hl_signal_answer(b, p))
		goto out;
	big = malloc(70000);
	for (int k = 0; k < 10; k++) {
		int wait_ms = 1500;

		if (raw_open(&r, s.port) != 0)
			goto out;
		switch (k) {
		case 0: /* reserved opcode 3 */
			raw_frame(&r, 3, true, (const uint8_t *)"abc", 3);
			break;
		case 1: /* an unmasked client frame (RFC 6455 §5.1):
			 * libwebsockets 4.1 takes it like a masked one (see
			 * src/server/README.md), so it is refused as JSON */
			raw_frame(&r, 1, false, (const uint8_t *)"{}", 2);
			if (!raw_saw(&r, "bad_request", 2000))
				goto out;
			wait_ms = 0;
			break;
		case 2: { /* a 64-bit length with its top bit set (§5.2) */
			static const uint8_t h[] = {0x81, 0xff, 0x80, 0, 0,
						    0,	  0,	0,    0, 0,
						    1,	  2,	3,    4};

			SSL_write(r.ssl, h, sizeof(h));
			break;
		}
		case 3: { /* a length of 2^62, then more than 64 KiB of it */
			static const uint8_t h[] = {0x81, 0xff, 0x40, 0, 0,
						    0,	  0,	0,    0, 0,
						    1,	  2,	3,    4};

			SSL_write(r.ssl, h, sizeof(h));
			memset(big, 'y', 70000);
			SSL_write(r.ssl, big, 70000);
			if (!raw_saw(&r, "too_big", 3000))
				goto out;
			break;
		}
		case 4: /* 70 KB in one text frame: too_big */
			memset(big, 'x', 70000);
			raw_frame(&r, 1, true, big, 70000);
			if (!raw_saw(&r, "too_big", 3000))
				goto out;
			break;
		case 5: /* garbage JSON: bad_request, nothing else */
			raw_text(&r, "{\"type\": nope");
			if (!raw_saw(&r, "bad_request", 2000))
				goto out;
			wait_ms = 0;
			break;
		case 6: /* invalid UTF-8 in a text frame */
			raw_frame(&r, 1, true, (const uint8_t *)"\xff\xfe{}",
				  4);
			break;
		case 7: /* a binary frame */
			raw_frame(&r, 2, true, (const uint8_t *)"{}", 2);
			if (!raw_saw(&r, "bad_request", 2000))
				goto out;
			wait_ms = 0;
			break;
		case 8: /* a control frame longer than 125 bytes */
			memset(big, 'p', 200);
			raw_frame(&r, 9, true, big, 200);
			break;
		case 9: /* bytes that are no frame at all */
			SSL_write(r.ssl, "GET / HTTP/1.1\r\n\r\n", 18);
			break;
		}
		if (wait_ms && !raw_closed(&r, wait_ms)) {
			fprintf(stderr, "malformed input %d: not closed\n", k);
			goto out;
		}
		raw_close(&r);
		if (!server_alive(&s) ||
		    relay_once(a, &alice, b, p->c.call_id, (uint8_t)(10 + k))) {
			fprintf(stderr, "after malformed input %d\n", k);
			goto out;
		}
	}
	/* an authenticated client sending garbage gets bad_request */
	if (raw_open(&r, s.port) || raw_auth(&r, &eve))
		goto out;
	raw_text(&r, "[1,2,3]");
	raw_text(&r, "{\"type\":\"relay\",\"id\":1,\"call_id\":7}");
	{
		char text[1024];

		if (raw_read(&r, text, sizeof(text), 3000) != 1 ||
		    !strstr(text, "bad_request") ||
		    raw_read(&r, text, sizeof(text), 3000) != 1 ||
		    !strstr(text, "bad_request"))
			goto out;
	}
	raw_close(&r);
	if (relay_once(b, &bob, a, p->c.call_id, 30))
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "alice: %s\nbob: %s\n", hl_signal_error(a),
			hl_signal_error(b));
	free(big);
	hl_signal_close(a);
	hl_signal_close(b);
	free(p);
	if (rc == 0 && server_stop(&s, SIGTERM) != 0)
		rc = -1;
	server_cleanup(&s);
	return rc;
}

/* Run hotlined with args; its exit status, stderr in err (cap bytes). */
static int run_cli(const char *const *args, char *err, size_t cap)
{
	const char *argv[16];
	int pipefd[2], status = -1, n = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	argv[n++] = getenv("HL_HOTLINED");
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < cap &&
	       (r = read(pipefd[0], err + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = 0;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int test_live_cli(void)
{
	static const char *const bad[][10] = {
		{NULL},
		{"--listen", "127.0.0.1:0", NULL},
		{"--data", "/tmp/x", NULL},
		{"--listen", "127.0.0.1", "--data", "/tmp/x", NULL},
		{"--listen", "127.0.0.1:70000", "--data", "/tmp/x", NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x", "--cert", "c",
		 NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x", "--turn-uri",
		 "turn:x", NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x", "--limit",
		 "nonsense=1", NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x", "--limit",
		 "idle_s=0", NULL},
		{"--frobnicate", NULL},
		{"--listen", NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x",
		 "--turn-secret-file", "/nonexistent/secret", "--turn-uri",
		 "turn:x", NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x",
		 "--turn-secret-file", "/dev/null", "--turn-uri", "turn:x",
		 NULL},
		{"--listen", "127.0.0.1:0", "--data", "/tmp/x",
		 "--turn-secret-file", "/dev/null", "--turn-secret", "s", NULL},
	};
	static const char *const help[] = {"--help", NULL};
	static const char *const version[] = {"--version", NULL};
	char out[4096];
	struct server s;

	for (size_t i = 0; i < HL_ARRAY_SIZE(bad); i++) {
		HT_EQ_INT(run_cli(bad[i], out, sizeof(out)), 2);
		/* one sentence, on one line */
		HT_ASSERT(strncmp(out, "hotlined: ", 10) == 0);
		HT_ASSERT(strchr(out, '\n') == out + strlen(out) - 1);
	}
	HT_EQ_INT(run_cli(help, out, sizeof(out)), 0);
	HT_ASSERT(strstr(out, "usage: hotlined --listen ADDR:PORT --data DIR"));
	HT_EQ_INT(run_cli(version, out, sizeof(out)), 0);
	HT_ASSERT(strncmp(out, "hotlined ", 9) == 0);
	/* SIGINT stops it cleanly (exit 0); the key file is 0600 */
	HT_ASSERT(server_new(&s, NULL) == 0);
	{
		char key[128];
		struct stat st;
		int status = -1;

		snprintf(key, sizeof(key), "%s/key.pem", s.data);
		HT_ASSERT(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
		kill(s.pid, SIGINT);
		HT_ASSERT(waitpid(s.pid, &status, 0) == s.pid);
		pid_track(s.pid, false);
		s.pid = 0;
		HT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		HT_ASSERT(log_has(&s, "stopping"));
	}
	/* a port in use: one sentence, exit 1 */
	{
		struct server t;
		char port[64], dir[96];
		const char *args[] = {"--listen", port, "--data", dir, NULL};

		HT_ASSERT(server_new(&t, NULL) == 0);
		snprintf(port, sizeof(port), "127.0.0.1:%d", t.port);
		snprintf(dir, sizeof(dir), "%s/other", s.dir);
		HT_EQ_INT(run_cli(args, out, sizeof(out)), 1);
		HT_ASSERT(strstr(out, "cannot listen"));
		HT_ASSERT(strchr(out, '\n') == out + strlen(out) - 1);
		server_cleanup(&t);
	}
	server_cleanup(&s);
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_live_cli),	      HT_TEST(test_live_flow),
	HT_TEST(test_live_sigkill),   HT_TEST(test_live_pin_mismatch),
	HT_TEST(test_live_idle_1000), HT_TEST(test_live_flood),
	HT_TEST(test_live_malformed),
};

int main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	id_from(&alice, 0x10, "Alice");
	id_from(&bob, 0x50, "Bob");
	id_from(&eve, 0x90, "Eve");
	rc = hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
	/* a test that failed half way may have left a server running */
	for (size_t i = 0; i < HL_ARRAY_SIZE(live_pids); i++)
		if (live_pids[i] > 0) {
			kill(live_pids[i], SIGKILL);
			waitpid(live_pids[i], NULL, 0);
		}
	SSL_CTX_free(raw_ssl_ctx);
	return rc;
}
