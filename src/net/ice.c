/*
 * ice.c - ICE (RFC 8445 through libnice's RFC 5245 mode) behind a queue.
 *
 * libnice runs in a private GMainContext.  Until the checks start
 * (hl_ice_start) a private thread iterates it, so that gathering and
 * TURN allocation go on while the caller runs the key exchange; its
 * callbacks (datagram received, gathering done, component state,
 * selected pair) only take our mutex, update the shared state and raise
 * the eventfd.  hl_ice_start stops that thread and hands the context to
 * the caller's thread, which from then on iterates it in hl_ice_wait():
 * the callbacks then run inside that call, and a datagram costs no
 * thread hand-off, eventfd or futex (on a 720p call that was most of
 * the receiver's system time).  The caller never calls into libnice
 * while holding the mutex, so the two locks never nest.
 *
 * Direct reading: once a pair is selected and neither of its candidates
 * is a relay, the peer's media arrives on that pair's socket as plain
 * datagrams from the pair's remote address.  hl_ice_wait() then polls
 * that socket itself (with the context's other descriptors: libnice's
 * other sockets and GLib's wake-up) and reads the datagrams that are not
 * STUN (first byte 4-255, RFC 7983) and come from the pair's remote
 * address straight into the queue, one recv() each after a one-byte
 * MSG_PEEK that shows both, without a round of the GMainContext per
 * datagram (prepare, query, check, dispatch, and the two eventfd writes
 * and extra wake-up that GLib's dispatch costs).  A datagram that is
 * STUN or comes from any other address (a STUN server, a stranger)
 * stays in the socket, and a round of the context follows at once, as
 * it does when another descriptor is ready: libnice reads it (consent
 * checks and their answers, RFC 7675; it drops data from addresses of
 * no validated pair) and whatever came after it, as before.  The
 * context also runs when its own timeout is due, and at least every
 * GLIB_GAP_MS (that round at the first wait from then on, GLIB_SLACK_MS
 * later at the latest), so libnice's timers (consent checks,
 * retransmissions) and its state changes keep their timing to within
 * that gap.  On a
 * one-way 720p call this cut the receiver's CPU outside the decoder by
 * about a sixth (bench/README.md).  Pairs with a relay keep libnice's
 * path: when the relay is ours the datagrams come in TURN framing, and
 * when it is the peer's we simply stay on the safe side.
 *
 * Only UDP: no ICE-TCP, TURN over UDP only.  With cfg->loopback the
 * agent's only local address is 127.0.0.1 (tests, and calls on one
 * machine); else libnice enumerates the interfaces itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nice/agent.h>

#include "hotline/net.h"

#include "ice_internal.h"

#define COMPONENT	1   /* one component: rtcp-mux (RFC 5761) */
#define IDLE_TIMEOUT_MS 500 /* see configure() */
#define STUN_RTO_MS	100 /* see configure() */
/* Direct reading: a round of the context at least every GLIB_GAP_MS
 * (CLOCK_MONOTONIC ms), at most DRAIN_MAX datagrams read per wake-up. */
#define GLIB_GAP_MS 50
/* A round due only because of that gap (no timer of libnice's due
 * sooner than GLIB_GAP_MS + GLIB_SLACK_MS) needs no wake-up of its own
 * for this long: it runs at the first wait from its time on, which during
 * a call comes within a frame (wake-ups cost tens of microseconds of CPU
 * each on a small virtual machine).  A timer keeps its time. */
#define GLIB_SLACK_MS 30
#define DRAIN_MAX     64

struct dgram {
	size_t len;
	uint8_t data[];
};

struct hl_ice {
	GMainContext *ctx;
	GMainLoop *loop;
	NiceAgent *agent;
	guint stream;
	pthread_t thread;
	bool thread_started;
	bool relay_only;
	bool started;	  /* caller thread only */
	bool inline_mode; /* the caller's thread owns ctx (after start) */
	int efd;
	GPollFD *pfds; /* hl_ice_wait's poll set (inline mode) */
	gint n_pfds;
	/* Direct reading (caller thread only): the selected pair's socket
	 * or -1, the pair generation it belongs to, when the context must
	 * run next (CLOCK_MONOTONIC ms), and a datagram's room. */
	GSocket *dsock; /* our reference while we read it */
	int dfd;
	unsigned dfd_gen;
	bool direct_off; /* not for this pair (no socket, or it failed) */
	bool closing;	 /* hl_ice_free: libnice's path only */
	struct sockaddr_storage dpeer; /* the selected pair's remote address */
	gint n_query;		       /* fds in pfds from the last query */
	struct pollfd *dpfds;	       /* direct_wait's poll set */
	gint n_dpfds;
	uint64_t rounds; /* rounds of the context run in this thread */
	uint64_t glib_due_ms;
	bool glib_due_soft; /* glib_due_ms is the gap's, not a timer's */
	uint8_t rbuf[HL_ICE_DGRAM_MAX + 1];

	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Under mu: */
	bool gathered, closed;
	enum hl_ice_state state;
	struct dgram *q[HL_ICE_QUEUE];
	size_t q_head, q_len;
	uint64_t overflows;
	bool have_pair, relayed;
	unsigned pair_gen; /* +1 for each selected pair */
	uint64_t direct;   /* datagrams read directly (not by libnice) */
	char local[HL_ICE_ADDR_MAX], remote[HL_ICE_ADDR_MAX];
};

/* ---- helpers -------------------------------------------------------- */

static void wake_locked(struct hl_ice *ice)
{
	uint64_t one = 1;

	/* Inline, the caller looks at the queue after each hl_ice_wait(). */
	if (ice->inline_mode)
		return;
	/* Only fails when the counter would overflow: it is readable. */
	if (write(ice->efd, &one, sizeof(one)) < 0) {
	}
}

static void addr_string(const NiceCandidate *c, char out[HL_ICE_ADDR_MAX])
{
	char ip[NICE_ADDRESS_STRING_LEN];

	nice_address_to_string(&c->addr, ip);
	if (nice_address_ip_version(&c->addr) == 6)
		snprintf(out, HL_ICE_ADDR_MAX, "[%s]:%u", ip,
			 nice_address_get_port(&c->addr));
	else
		snprintf(out, HL_ICE_ADDR_MAX, "%s:%u", ip,
			 nice_address_get_port(&c->addr));
}

/* A host name or address literal as a numeric address string. */
static int resolve(const char *host, char *out, size_t cap)
{
	struct addrinfo hints, *res = NULL;
	int err = HL_ENOTFOUND;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return HL_ENOTFOUND;
	if (res->ai_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;

		if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)cap))
			err = 0;
	} else if (res->ai_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)res->ai_addr;

		if (inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)cap))
			err = 0;
	}
	freeaddrinfo(res);
	return err;
}

/*
 * RFC 7065 §3.1: turnURI = scheme ":" host [ ":" port ]
 * [ "?transport=" transport ].  Only "turn:" over UDP is supported.
 */
static int parse_turn_uri(const char *uri, char *host, size_t hcap,
			  uint16_t *port, const char **why)
{
	const char *p = uri, *h, *e;
	size_t hl;

	*port = 3478;
	if (strncasecmp(p, "turns:", 6) == 0) {
		*why = "TURN over TLS (turns:) is not supported; give a "
		       "turn: URI over UDP";
		return HL_EUNSUPPORTED;
	}
	if (strncasecmp(p, "turn:", 5) != 0) {
		*why = "the TURN URI must start with turn:";
		return HL_EPARSE;
	}
	p += 5;
	if (*p == '[') {
		h = ++p;
		e = strchr(p, ']');
		if (!e) {
			*why = "the TURN URI has an unclosed [IPv6 address]";
			return HL_EPARSE;
		}
		p = e + 1;
	} else {
		h = p;
		e = p + strcspn(p, ":?");
		p = e;
	}
	hl = (size_t)(e - h);
	if (hl == 0 || hl >= hcap) {
		*why = "the TURN URI has no usable host";
		return HL_EPARSE;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*p == ':') {
		unsigned long v = 0;
		const char *d = ++p;

		while (*p >= '0' && *p <= '9' && p - d < 6)
			v = v * 10 + (unsigned long)(*p++ - '0');
		if (p == d || v == 0 || v > 65535) {
			*why = "the TURN URI has a bad port";
			return HL_EPARSE;
		}
		*port = (uint16_t)v;
	}
	if (*p == '?') {
		if (strcasecmp(p, "?transport=udp") == 0)
			return 0;
		if (strcasecmp(p, "?transport=tcp") == 0) {
			*why = "TURN over TCP is not supported; use "
			       "?transport=udp";
			return HL_EUNSUPPORTED;
		}
		*why = "the TURN URI has an unsupported parameter (only "
		       "?transport=udp)";
		return HL_EUNSUPPORTED;
	}
	if (*p != '\0') {
		*why = "the TURN URI has trailing characters";
		return HL_EPARSE;
	}
	return 0;
}

/* ---- the agent thread ----------------------------------------------- */

/* Queue a copy of one datagram; an oversized or unqueueable one is
 * counted in overflows, an empty one dropped.  Takes mu. */
static void enqueue(struct hl_ice *ice, const void *buf, size_t len,
		    bool direct)
{
	struct dgram *d = NULL;

	if (len > 0 && len <= HL_ICE_DGRAM_MAX)
		d = hl_malloc(sizeof(*d) + len);
	if (d) {
		d->len = len;
		memcpy(d->data, buf, len);
	}
	pthread_mutex_lock(&ice->mu);
	if (d && ice->q_len < HL_ICE_QUEUE) {
		ice->q[(ice->q_head + ice->q_len) % HL_ICE_QUEUE] = d;
		d = NULL;
		/* A non-empty queue has raised the eventfd already (it is
		 * drained only once the queue is empty): one write per
		 * batch, not per datagram. */
		if (!ice->q_len++)
			wake_locked(ice);
		ice->direct += direct;
	} else if (len > 0) {
		ice->overflows++;
	}
	pthread_mutex_unlock(&ice->mu);
	hl_free(d);
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id,
		    guint len, gchar *buf, gpointer data)
{
	(void)agent;
	(void)stream_id;
	(void)component_id;
	enqueue(data, buf, len, false);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
	struct hl_ice *ice = data;

	(void)agent;
	(void)stream_id;
	pthread_mutex_lock(&ice->mu);
	ice->gathered = true;
	pthread_cond_broadcast(&ice->cond);
	pthread_mutex_unlock(&ice->mu);
}

static void on_state(NiceAgent *agent, guint stream_id, guint component_id,
		     guint state, gpointer data)
{
	struct hl_ice *ice = data;

	(void)agent;
	(void)stream_id;
	if (component_id != COMPONENT)
		return;
	pthread_mutex_lock(&ice->mu);
	if (ice->state != HL_ICE_FAILED) {
		if (state == NICE_COMPONENT_STATE_CONNECTED ||
		    state == NICE_COMPONENT_STATE_READY)
			ice->state = HL_ICE_CONNECTED;
		else if (state == NICE_COMPONENT_STATE_FAILED)
			ice->state = HL_ICE_FAILED;
		wake_locked(ice);
	}
	pthread_mutex_unlock(&ice->mu);
}

static void on_pair(NiceAgent *agent, guint stream_id, guint component_id,
		    NiceCandidate *lc, NiceCandidate *rc, gpointer data)
{
	struct hl_ice *ice = data;
	char l[HL_ICE_ADDR_MAX], r[HL_ICE_ADDR_MAX];

	(void)agent;
	(void)stream_id;
	if (component_id != COMPONENT || !lc || !rc)
		return;
	addr_string(lc, l);
	addr_string(rc, r);
	pthread_mutex_lock(&ice->mu);
	memcpy(ice->local, l, sizeof(l));
	memcpy(ice->remote, r, sizeof(r));
	ice->relayed = lc->type == NICE_CANDIDATE_TYPE_RELAYED ||
		       rc->type == NICE_CANDIDATE_TYPE_RELAYED;
	ice->have_pair = true;
	ice->pair_gen++;
	wake_locked(ice);
	pthread_mutex_unlock(&ice->mu);
}

static void on_closed(GObject *src, GAsyncResult *res, gpointer data)
{
	struct hl_ice *ice = data;

	(void)src;
	(void)res;
	pthread_mutex_lock(&ice->mu);
	ice->closed = true;
	pthread_cond_broadcast(&ice->cond);
	pthread_mutex_unlock(&ice->mu);
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static void *loop_main(void *arg)
{
	struct hl_ice *ice = arg;

	g_main_context_push_thread_default(ice->ctx);
	g_main_loop_run(ice->loop);
	g_main_context_pop_thread_default(ice->ctx);
	return NULL;
}

/* ---- setup ---------------------------------------------------------- */

static int configure(struct hl_ice *ice, const struct hl_ice_config *cfg,
		     const char **why)
{
	char ip[INET6_ADDRSTRLEN];
	int err;

	/*
	 * No UPnP: asking the LAN's router for a port mapping would tell it
	 * (and whoever runs it) about the call, and its discovery held
	 * gathering up by about 200 ms.  idle-timeout: once no check is
	 * left to run, libnice keeps its 20 ms check timer ticking this
	 * long before it stops (default 5 s); each RFC 7675 consent check
	 * (every 4-6 s) restarts it, so with the default it never stopped:
	 * 50 wake-ups a second for the whole call.  stun-initial-timeout:
	 * the first retransmission of a check after 100 ms instead of
	 * libnice's default; through two NATs (tests/nat.sh) the checks
	 * that hit a hole not yet punched were repeated that much sooner,
	 * and the first picture came after 0.55-0.63 s instead of 2.2 s.
	 * Checks are about 100 bytes; a slow path merely answers the first
	 * copy (retransmissions keep the transaction id).
	 */
	g_object_set(ice->agent, "controlling-mode", (gboolean)cfg->controlling,
		     "ice-tcp", FALSE, "ice-udp", TRUE, "force-relay",
		     (gboolean)cfg->relay_only, "upnp", FALSE, "idle-timeout",
		     (guint)IDLE_TIMEOUT_MS, "stun-initial-timeout",
		     (guint)STUN_RTO_MS, NULL);
	if (cfg->stun_host) {
		if (resolve(cfg->stun_host, ip, sizeof(ip))) {
			*why = "cannot resolve the STUN server's name";
			return HL_ENOTFOUND;
		}
		g_object_set(ice->agent, "stun-server", ip, "stun-server-port",
			     (guint)(cfg->stun_port ? cfg->stun_port : 3478),
			     NULL);
	}
	if (cfg->loopback) {
		NiceAddress a;

		nice_address_init(&a);
		if (!nice_address_set_from_string(&a, "127.0.0.1") ||
		    !nice_agent_add_local_address(ice->agent, &a)) {
			*why = "cannot use 127.0.0.1 as a local address";
			return HL_EIO;
		}
	}
	ice->stream = nice_agent_add_stream(ice->agent, COMPONENT);
	if (ice->stream == 0) {
		*why = "libnice could not add a stream";
		return HL_EIO;
	}
	if (cfg->turn) {
		char host[256];
		uint16_t port;

		err = parse_turn_uri(cfg->turn->uri, host, sizeof(host), &port,
				     why);
		if (err)
			return err;
		if (!cfg->turn->username[0] || !cfg->turn->password[0]) {
			*why = "the TURN credentials are empty";
			return HL_EINVAL;
		}
		if (resolve(host, ip, sizeof(ip))) {
			*why = "cannot resolve the TURN server's name";
			return HL_ENOTFOUND;
		}
		if (!nice_agent_set_relay_info(
			    ice->agent, ice->stream, COMPONENT, ip, port,
			    cfg->turn->username, cfg->turn->password,
			    NICE_RELAY_TYPE_TURN_UDP)) {
			*why = "libnice refused the TURN server";
			return HL_EINVAL;
		}
		/* A TURN server answers STUN too: our server-reflexive
		 * address (a NAT's outside) comes from it when no other
		 * STUN server was given. */
		if (!cfg->stun_host)
			g_object_set(ice->agent, "stun-server", ip,
				     "stun-server-port", (guint)port, NULL);
	}
	if (!nice_agent_attach_recv(ice->agent, ice->stream, COMPONENT,
				    ice->ctx, on_recv, ice)) {
		*why = "libnice could not attach the receive callback";
		return HL_EIO;
	}
	g_signal_connect(ice->agent, "candidate-gathering-done",
			 G_CALLBACK(on_gathering_done), ice);
	g_signal_connect(ice->agent, "component-state-changed",
			 G_CALLBACK(on_state), ice);
	g_signal_connect(ice->agent, "new-selected-pair-full",
			 G_CALLBACK(on_pair), ice);
	if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
		*why = "libnice found no local address to gather candidates "
		       "on";
		return HL_EIO;
	}
	return 0;
}

int hl_ice_new(struct hl_ice **out, const struct hl_ice_config *cfg,
	       const char **err_msg)
{
	struct hl_ice *ice;
	pthread_condattr_t ca;
	const char *why = NULL;
	int err;

	if (err_msg)
		*err_msg = NULL;
	if (!out || !cfg)
		return HL_EINVAL;
	if (cfg->relay_only && !cfg->turn) {
		if (err_msg)
			*err_msg = "relay-only needs a TURN server";
		return HL_EINVAL;
	}
	ice = hl_calloc(1, sizeof(*ice));
	if (!ice)
		return HL_ENOMEM;
	ice->efd = -1;
	ice->dfd = -1;
	ice->relay_only = cfg->relay_only;
	pthread_mutex_init(&ice->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ice->cond, &ca);
	pthread_condattr_destroy(&ca);
	ice->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ice->efd < 0) {
		why = "cannot create an eventfd";
		err = HL_EIO;
		goto out;
	}
	ice->ctx = g_main_context_new();
	ice->loop = g_main_loop_new(ice->ctx, FALSE);
	/* RFC 5245 checks, regular full gathering, RFC 7675 consent. */
	ice->agent = nice_agent_new_full(ice->ctx, NICE_COMPATIBILITY_RFC5245,
					 NICE_AGENT_OPTION_CONSENT_FRESHNESS);
	if (!ice->agent) {
		why = "libnice could not create an agent";
		err = HL_EIO;
		goto out;
	}
	err = configure(ice, cfg, &why);
	if (err)
		goto out;
	if (pthread_create(&ice->thread, NULL, loop_main, ice) != 0) {
		why = "cannot start the network thread";
		err = HL_EIO;
		goto out;
	}
	ice->thread_started = true;
	*out = ice;
	return 0;
out:
	if (err_msg)
		*err_msg = why;
	hl_ice_free(ice);
	return err;
}

/* On the agent's thread: libnice calls back in the thread-default
 * context of the thread that asked, so the close must start there. */
static gboolean start_close(gpointer data)
{
	struct hl_ice *ice = data;

	nice_agent_close_async(ice->agent, on_closed, ice);
	return G_SOURCE_REMOVE;
}

/* Stop the private thread (its loop may not be running yet: an idle
 * source, not g_main_loop_quit(), whose quit before run is lost). */
static void stop_thread(struct hl_ice *ice)
{
	GSource *s = g_idle_source_new();

	g_source_set_callback(s, quit_loop, ice->loop, NULL);
	g_source_attach(s, ice->ctx);
	g_source_unref(s);
	pthread_join(ice->thread, NULL);
	ice->thread_started = false;
}

/* The caller's thread takes the context over from the private thread. */
static int go_inline(struct hl_ice *ice)
{
	if (ice->inline_mode)
		return 0;
	if (ice->thread_started)
		stop_thread(ice);
	if (!g_main_context_acquire(ice->ctx))
		return HL_EIO;
	ice->inline_mode = true;
	return 0;
}

static void direct_stop(struct hl_ice *ice);

void hl_ice_free(struct hl_ice *ice)
{
	if (!ice)
		return;
	/* The close below runs through the context's own rounds. */
	ice->closing = true;
	direct_stop(ice);
	if (ice->agent && ice->inline_mode) {
		uint64_t end = hl_clock_now_us() + 1000000;

		/* The close's callback goes to the thread-default context
		 * at the time of the call: make it ours for the call. */
		g_main_context_push_thread_default(ice->ctx);
		nice_agent_close_async(ice->agent, on_closed, ice);
		g_main_context_pop_thread_default(ice->ctx);
		while (!ice->closed && hl_clock_now_us() < end)
			if (hl_ice_wait(ice, 50))
				break;
	} else if (ice->agent && ice->thread_started) {
		struct timespec ts;

		/* Release TURN allocations and stop the timers, on the
		 * agent's thread; wait for it at most a second. */
		g_main_context_invoke(ice->ctx, start_close, ice);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&ice->mu);
		while (!ice->closed &&
		       pthread_cond_timedwait(&ice->cond, &ice->mu, &ts) == 0) {
		}
		pthread_mutex_unlock(&ice->mu);
	}
	if (ice->thread_started)
		stop_thread(ice);
	if (ice->agent)
		g_object_unref(ice->agent);
	if (ice->ctx) {
		/* Let sources the agent left behind run their destructors. */
		while (g_main_context_iteration(ice->ctx, FALSE)) {
		}
		if (ice->inline_mode)
			g_main_context_release(ice->ctx);
	}
	if (ice->loop)
		g_main_loop_unref(ice->loop);
	if (ice->ctx)
		g_main_context_unref(ice->ctx);
	g_free(ice->pfds);
	hl_free(ice->dpfds);
	while (ice->q_len) {
		hl_free(ice->q[ice->q_head]);
		ice->q_head = (ice->q_head + 1) % HL_ICE_QUEUE;
		ice->q_len--;
	}
	if (ice->efd >= 0)
		close(ice->efd);
	pthread_cond_destroy(&ice->cond);
	pthread_mutex_destroy(&ice->mu);
	hl_free(ice);
}

/* Milliseconds of hl_clock_now_us() (CLOCK_MONOTONIC). */
static uint64_t now_ms(void)
{
	return hl_clock_now_us() / 1000;
}

static void direct_stop(struct hl_ice *ice)
{
	if (ice->dsock)
		g_object_unref(ice->dsock);
	ice->dsock = NULL;
	ice->dfd = -1;
}

/* Direct reading: use the selected pair's socket if the pair has no
 * relay, else (or before a pair works) libnice's path.  A new pair is
 * looked at afresh; a pair whose socket failed is not tried again. */
static void direct_update(struct hl_ice *ice)
{
	NiceCandidate *lc = NULL, *rc = NULL;
	GSocket *gs;
	unsigned gen;
	bool ok;

	pthread_mutex_lock(&ice->mu);
	gen = ice->pair_gen;
	ok = ice->state == HL_ICE_CONNECTED && ice->have_pair && !ice->relayed;
	pthread_mutex_unlock(&ice->mu);
	if (!ok || ice->closing) {
		direct_stop(ice);
		return;
	}
	/* libnice closes sockets only in a dispatch in this thread: a
	 * closed one is seen here before its number could be read again. */
	if (ice->dsock && g_socket_is_closed(ice->dsock)) {
		direct_stop(ice);
		ice->direct_off = true;
		return;
	}
	if (gen == ice->dfd_gen && (ice->dsock || ice->direct_off))
		return;
	direct_stop(ice);
	ice->dfd_gen = gen;
	ice->direct_off = true; /* until the socket is ours */
	if (!nice_agent_get_selected_pair(ice->agent, ice->stream, COMPONENT,
					  &lc, &rc) ||
	    !rc)
		return;
	memset(&ice->dpeer, 0, sizeof(ice->dpeer));
	nice_address_copy_to_sockaddr(&rc->addr,
				      (struct sockaddr *)&ice->dpeer);
	gs = nice_agent_get_selected_socket(ice->agent, ice->stream, COMPONENT);
	if (!gs)
		return;
	ice->dsock = gs; /* the reference is ours until direct_stop */
	ice->dfd = g_socket_get_fd(gs);
	ice->direct_off = false;
}

/* Is a the address b (the same family, address and port)? */
static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
					 *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
					  *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
			      sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

static int direct_drain(struct hl_ice *ice);

/*
 * Direct reading: wait up to timeout_ms for the pair's socket and the
 * context's other descriptors (libnice's other sockets, GLib's wake-up),
 * then read from the pair's socket what is not STUN and comes from the
 * pair's remote address.  1: the context must run now (STUN or a
 * stranger's datagram is next in the socket, another descriptor is
 * ready, or the socket reports an error: libnice handles them all); 0:
 * it need not; HL_EIO: poll failed.
 */
static int direct_wait(struct hl_ice *ice, int timeout_ms)
{
	gint n = 0;
	int r;

	if (ice->n_dpfds < ice->n_query + 1) {
		hl_free(ice->dpfds);
		ice->n_dpfds = 0;
		ice->dpfds = hl_calloc((size_t)ice->n_query + 1,
				       sizeof(*ice->dpfds));
		if (!ice->dpfds) {
			direct_stop(ice); /* libnice's path needs no memory */
			ice->direct_off = true;
			return 1;
		}
		ice->n_dpfds = ice->n_query + 1;
	}
	ice->dpfds[n++] = (struct pollfd){ice->dfd, POLLIN, 0};
	for (gint i = 0; i < ice->n_query; i++)
		if (ice->pfds[i].fd != ice->dfd)
			ice->dpfds[n++] = (struct pollfd){
				ice->pfds[i].fd, (short)ice->pfds[i].events, 0};
	if (poll(ice->dpfds, (nfds_t)n, timeout_ms) < 0)
		return errno == EINTR ? 0 : HL_EIO;
	/* The pair's socket first: a round now would let libnice read the
	 * media waiting there, and its dispatch raises GLib's wake-up for
	 * the next wait, and so on. */
	r = direct_drain(ice);
	for (gint i = 1; i < n && !r; i++)
		if (ice->dpfds[i].revents)
			r = 1;
	return r;
}

/* direct_wait's reading of the pair's socket after its poll. */
static int direct_drain(struct hl_ice *ice)
{
	if (ice->dpfds[0].revents & POLLNVAL) {
		direct_stop(ice); /* libnice closed it: its path from now */
		ice->direct_off = true;
		return 1;
	}
	if (ice->dpfds[0].revents & (POLLERR | POLLHUP))
		return 1;
	if (!(ice->dpfds[0].revents & POLLIN))
		return 0;
	for (int i = 0; i < DRAIN_MAX; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		uint8_t first;
		ssize_t r =
			recvfrom(ice->dfd, &first, 1, MSG_PEEK | MSG_DONTWAIT,
				 (struct sockaddr *)&from, &flen);

		if (r < 0 && (errno == EBADF || errno == ENOTSOCK)) {
			direct_stop(ice);
			ice->direct_off = true;
			return 1;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
					       errno == EINTR
				       ? 0
				       : 1;
		/* STUN (RFC 7983 §7), and anything from another address
		 * than the pair's, is libnice's to handle or drop. */
		if ((r == 1 && first < 4) || !same_addr(&from, &ice->dpeer))
			return 1;
		r = recv(ice->dfd, ice->rbuf, sizeof(ice->rbuf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0)
			return 1;
		/* Oversized datagrams are counted as dropped; empty ones
		 * are dropped (as libnice's path does). */
		enqueue(ice, ice->rbuf,
			(size_t)r <= HL_ICE_DGRAM_MAX ? (size_t)r
						      : HL_ICE_DGRAM_MAX + 1,
			true);
	}
	return 0;
}

int hl_ice_wait(struct hl_ice *ice, int timeout_ms)
{
	gint prio = 0, gtimeout = -1, n;
	bool queued;

	if (!ice->inline_mode) {
		struct pollfd p = {ice->efd, POLLIN, 0};

		if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
			return HL_EIO;
		return 0;
	}
	pthread_mutex_lock(&ice->mu);
	queued = ice->q_len > 0;
	pthread_mutex_unlock(&ice->mu);
	if (queued)
		timeout_ms = 0;
	direct_update(ice);
	if (ice->dfd >= 0) {
		uint64_t now = now_ms();

		if (now < ice->glib_due_ms) {
			int gap = (int)(ice->glib_due_ms - now) +
				  (ice->glib_due_soft ? GLIB_SLACK_MS : 0),
			    r;
			bool gap_first = timeout_ms < 0 || timeout_ms >= gap;

			r = direct_wait(ice, gap_first ? gap : timeout_ms);
			if (r < 0)
				return r;
			/* The context runs now if it asked to or is due;
			 * else the caller has datagrams or its timeout. */
			if (r == 0 && now_ms() < ice->glib_due_ms)
				return 0;
		}
		timeout_ms = 0;
	}
	g_main_context_prepare(ice->ctx, &prio);
	while ((n = g_main_context_query(ice->ctx, prio, &gtimeout, ice->pfds,
					 ice->n_pfds)) > ice->n_pfds) {
		g_free(ice->pfds);
		ice->pfds = g_new0(GPollFD, n);
		ice->n_pfds = n;
	}
	ice->n_query = n;
	ice->rounds++;
	/* When the context must run again (direct reading): its own
	 * timeout as of now, capped; a timer that a dispatch below adds
	 * for sooner waits at most GLIB_GAP_MS + GLIB_SLACK_MS. */
	ice->glib_due_soft =
		gtimeout < 0 || gtimeout >= GLIB_GAP_MS + GLIB_SLACK_MS;
	ice->glib_due_ms =
		now_ms() +
		(uint64_t)(ice->glib_due_soft ? GLIB_GAP_MS : gtimeout);
	if (gtimeout >= 0 && (timeout_ms < 0 || gtimeout < timeout_ms))
		timeout_ms = gtimeout;
	/* EINTR (a signal such as Ctrl-C) leaves every revents 0: the
	 * check below then finds nothing ready. */
	if (g_poll(ice->pfds, (guint)n, timeout_ms) < 0 && errno != EINTR) {
		g_main_context_check(ice->ctx, prio, ice->pfds, n);
		return HL_EIO;
	}
	if (g_main_context_check(ice->ctx, prio, ice->pfds, n))
		g_main_context_dispatch(ice->ctx);
	return 0;
}

/* ---- local parameters ----------------------------------------------- */

static int rank(const NiceCandidate *c)
{
	switch (c->type) {
	case NICE_CANDIDATE_TYPE_RELAYED:
		return 0;
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
		return 1;
	default:
		return 2;
	}
}

int hl_ice_local(struct hl_ice *ice, struct hl_transport_params *p,
		 unsigned timeout_ms)
{
	struct timespec ts;
	gchar *ufrag = NULL, *pwd = NULL;
	GSList *cands = NULL, *it;
	int err = 0, r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ice->mu);
	while (!ice->gathered &&
	       pthread_cond_timedwait(&ice->cond, &ice->mu, &ts) == 0) {
	}
	pthread_mutex_unlock(&ice->mu);

	memset(p->ufrag, 0, sizeof(p->ufrag));
	memset(p->pwd, 0, sizeof(p->pwd));
	p->n_candidates = 0;
	if (!nice_agent_get_local_credentials(ice->agent, ice->stream, &ufrag,
					      &pwd) ||
	    strlen(ufrag) > HL_ICE_UFRAG_MAX || strlen(pwd) > HL_ICE_PWD_MAX) {
		err = HL_EIO;
		goto out;
	}
	memcpy(p->ufrag, ufrag, strlen(ufrag));
	memcpy(p->pwd, pwd, strlen(pwd));

	/* Relay candidates first (they work through any NAT), then
	 * server-reflexive, then host, up to HL_ICE_MAX_CANDIDATES. */
	cands = nice_agent_get_local_candidates(ice->agent, ice->stream,
						COMPONENT);
	for (r = 0; r < 3; r++) {
		if (ice->relay_only && r > 0)
			break;
		for (it = cands; it; it = it->next) {
			NiceCandidate *c = it->data;
			gchar *sdp;
			const char *v;
			size_t n;

			if (rank(c) != r ||
			    c->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
			    p->n_candidates >= HL_ICE_MAX_CANDIDATES)
				continue;
			sdp = nice_agent_generate_local_candidate_sdp(
				ice->agent, c);
			if (!sdp)
				continue;
			v = strncmp(sdp, "a=", 2) == 0 ? sdp + 2 : sdp;
			n = strlen(v);
			if (n <= HL_ICE_CANDIDATE_MAX) {
				memcpy(p->candidates[p->n_candidates], v, n);
				p->candidates[p->n_candidates][n] = '\0';
				p->n_candidates++;
			}
			g_free(sdp);
		}
	}
	if (p->n_candidates == 0)
		err = ice->relay_only ? HL_ENOTFOUND : HL_ETIMEOUT;
out:
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	g_free(ufrag);
	g_free(pwd);
	return err;
}

/* ---- remote parameters ---------------------------------------------- */

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static bool ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

int hl_ice_start(struct hl_ice *ice, const struct hl_transport_params *remote,
		 size_t *skipped)
{
	GSList *list = NULL;
	size_t bad = 0, n;
	int added, err = 0;

	*skipped = 0;
	if (ice->started)
		return HL_ESTATE;
	if (!ice_chars(remote->ufrag, 4, HL_ICE_UFRAG_MAX) ||
	    !ice_chars(remote->pwd, 22, HL_ICE_PWD_MAX))
		return HL_EPARSE;
	n = HL_MIN(remote->n_candidates, (size_t)HL_ICE_MAX_CANDIDATES);
	for (size_t i = 0; i < n; i++) {
		char line[HL_ICE_CANDIDATE_MAX + 3];
		const char *v = remote->candidates[i];
		size_t vl = strnlen(v, HL_ICE_CANDIDATE_MAX + 1);
		NiceCandidate *c;

		if (strncmp(v, "a=", 2) == 0) {
			v += 2;
			vl -= HL_MIN(vl, 2);
		}
		if (vl == 0 || vl > HL_ICE_CANDIDATE_MAX) {
			bad++;
			continue;
		}
		memcpy(line, "a=", 2);
		memcpy(line + 2, v, vl);
		line[vl + 2] = '\0';
		c = nice_agent_parse_remote_candidate_sdp(ice->agent,
							  ice->stream, line);
		if (!c || c->component_id != COMPONENT ||
		    c->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
		    !nice_address_is_valid(&c->addr) ||
		    nice_address_get_port(&c->addr) == 0) {
			if (c)
				nice_candidate_free(c);
			bad++;
			continue;
		}
		list = g_slist_append(list, c);
	}
	*skipped = bad + (remote->n_candidates - n);
	if (!list) {
		err = HL_EPARSE;
		goto out;
	}
	/* From here on the caller's thread runs libnice (hl_ice_wait). */
	err = go_inline(ice);
	if (err)
		goto out;
	if (!nice_agent_set_remote_credentials(ice->agent, ice->stream,
					       remote->ufrag, remote->pwd)) {
		err = HL_EPARSE;
		goto out;
	}
	added = nice_agent_set_remote_candidates(ice->agent, ice->stream,
						 COMPONENT, list);
	if (added <= 0) {
		err = HL_EPARSE;
		goto out;
	}
	/* The SDP carried all the peer's candidates (no trickle ICE).
	 * Without this libnice waits for more for the whole call, and its
	 * 20 ms check timer never stops. */
	nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
	ice->started = true;
	pthread_mutex_lock(&ice->mu);
	if (ice->state == HL_ICE_NEW)
		ice->state = HL_ICE_CHECKING;
	pthread_mutex_unlock(&ice->mu);
out:
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	return err;
}

/* ---- data ------------------------------------------------------------ */

int hl_ice_recv(struct hl_ice *ice, uint8_t *buf, size_t cap, size_t *len)
{
	struct dgram *d = NULL;
	int err = 0;

	pthread_mutex_lock(&ice->mu);
	if (ice->q_len) {
		d = ice->q[ice->q_head];
		ice->q_head = (ice->q_head + 1) % HL_ICE_QUEUE;
		ice->q_len--;
	} else {
		uint64_t v;

		/* Drained under the lock: a datagram queued after this
		 * raises the eventfd again.  Inline it is never raised. */
		if (!ice->inline_mode && read(ice->efd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN) {
		}
		err = HL_EAGAIN;
	}
	pthread_mutex_unlock(&ice->mu);
	if (!d)
		return err;
	if (d->len > cap) {
		err = HL_ETOOBIG;
	} else {
		memcpy(buf, d->data, d->len);
		*len = d->len;
	}
	hl_free(d);
	return err;
}

enum hl_ice_state hl_ice_state(struct hl_ice *ice)
{
	enum hl_ice_state s;

	pthread_mutex_lock(&ice->mu);
	s = ice->state;
	pthread_mutex_unlock(&ice->mu);
	return s;
}

int hl_ice_send(struct hl_ice *ice, const uint8_t *buf, size_t len)
{
	gint n;

	if (hl_ice_state(ice) != HL_ICE_CONNECTED)
		return HL_ESTATE;
	n = nice_agent_send(ice->agent, ice->stream, COMPONENT, (guint)len,
			    (const gchar *)buf);
	return n == (gint)len ? 0 : HL_EIO;
}

void hl_ice_pair(struct hl_ice *ice, char local[HL_ICE_ADDR_MAX],
		 char remote[HL_ICE_ADDR_MAX], bool *relayed)
{

	pthread_mutex_lock(&ice->mu);
	memcpy(local, ice->local, HL_ICE_ADDR_MAX);
	memcpy(remote, ice->remote, HL_ICE_ADDR_MAX);
	*relayed = ice->relayed;
	pthread_mutex_unlock(&ice->mu);
}

uint64_t hl_ice_rounds(struct hl_ice *ice)
{
	return ice->rounds; /* caller thread only */
}

void hl_ice_counts(struct hl_ice *ice, uint64_t *overflows, uint64_t *direct)
{
	pthread_mutex_lock(&ice->mu);
	*overflows = ice->overflows;
	*direct = ice->direct;
	pthread_mutex_unlock(&ice->mu);
}
