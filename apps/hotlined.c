/*
 * hotlined.c - the rendezvous and signalling server (thin main).
 *
 * Parses the command line of DESIGN.md ("hotlined --listen ADDR:PORT
 * --data DIR [--cert F --key F] [--turn-secret S --turn-uri URI]", plus
 * --limit NAME=N to change one of the limits of docs/protocol.md §5.5
 * and --turn-secret-file F, which keeps the secret out of `ps`),
 * installs SIGINT/SIGTERM handlers that ask the server to stop, and runs
 * hl_server_run() (src/server).  Usage errors exit 2 with one sentence;
 * a server that cannot start exits 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hotline/base.h"
#include "hotline/server.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct limit_name {
	const char *name;
	size_t off;
	bool is_size;
};

#define SECRET_MAX 512 /* bytes of a TURN secret read from a file */

#define LIMIT(f, sz)                                         \
	{                                                    \
#f, offsetof(struct hl_server_limits, f), sz \
	}

static const struct limit_name limit_names[] = {
	LIMIT(max_message, true),     LIMIT(conn_msgs_per_s, false),
	LIMIT(id_msgs_per_s, false),  LIMIT(conns_per_addr, false),
	LIMIT(max_conns, false),      LIMIT(idle_s, false),
	LIMIT(auth_s, false),	      LIMIT(relay_queue, false),
	LIMIT(relay_ttl_s, false),    LIMIT(window_early_s, false),
	LIMIT(open_contracts, false),
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hotlined --listen ADDR:PORT --data DIR [--cert F "
		   "--key F]\n"
		   "                [--turn-secret-file F --turn-uri URI] "
		   "[--limit NAME=N]...\n"
		   "\n"
		   "The hotline rendezvous and signalling server: WebSocket "
		   "over TLS, contracts\n"
		   "stored in DIR/hotlined.db, call-setup messages relayed "
		   "between the two\n"
		   "parties of a confirmed contract, TURN credentials for "
		   "coturn.\n"
		   "\n"
		   "  --listen ADDR:PORT   address to listen on ([ADDR6]:PORT "
		   "for IPv6; port 0\n"
		   "                       picks a free port, printed on "
		   "start)\n"
		   "  --data DIR           the server's folder (created if "
		   "missing)\n"
		   "  --cert F --key F     TLS certificate and key (PEM); "
		   "default: a self-signed\n"
		   "                       ECDSA P-256 certificate made in DIR "
		   "on first start\n"
		   "  --turn-secret-file F coturn's static-auth-secret "
		   "(use-auth-secret), the\n"
		   "                       first line of F; keep F readable "
		   "by this user only\n"
		   "  --turn-secret S      the same on the command line, "
		   "where every local user\n"
		   "                       can read it (ps): prefer the "
		   "file\n"
		   "  --turn-uri URI       the TURN server clients get, e.g. "
		   "turn:host:3478\n"
		   "  --limit NAME=N       change a limit (docs/protocol.md "
		   "§5.5): max_message,\n"
		   "                       conn_msgs_per_s, id_msgs_per_s, "
		   "conns_per_addr,\n"
		   "                       max_conns, idle_s, auth_s, "
		   "relay_queue, relay_ttl_s,\n"
		   "                       window_early_s, open_contracts\n"
		   "  --help, --version\n"
		   "\n"
		   "It prints the certificate's fingerprint on start (clients "
		   "pin it) and one\n"
		   "line per event on stderr.  SIGINT or SIGTERM stops it.\n");
}

static int usage_error(const char *sentence)
{
	fprintf(stderr, "hotlined: %s (see 'hotlined --help').\n", sentence);
	return 2;
}

static bool set_limit(struct hl_server_limits *l, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end = NULL;
	unsigned long long v;

	if (!eq || eq[1] < '0' || eq[1] > '9')
		return false;
	v = strtoull(eq + 1, &end, 10);
	if (*end || v == 0 || v > 0xffffffffull)
		return false;
	for (size_t i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]);
	     i++) {
		const struct limit_name *n = &limit_names[i];

		if (strlen(n->name) != (size_t)(eq - arg) ||
		    strncmp(n->name, arg, (size_t)(eq - arg)) != 0)
			continue;
		if (n->is_size)
			*(size_t *)((char *)l + n->off) = (size_t)v;
		else
			*(unsigned *)((char *)l + n->off) = (unsigned)v;
		return true;
	}
	return false;
}

/*
 * The TURN secret from the first line of path into out (at most
 * SECRET_MAX bytes, line end removed).  NULL, or why not.
 */
static const char *read_secret(const char *path, char out[SECRET_MAX + 2])
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return strerror(errno);
	if (!fgets(out, SECRET_MAX + 2, f)) {
		fclose(f);
		return "the file is empty";
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	if (n > SECRET_MAX) {
		hl_wipe(out, SECRET_MAX + 2);
		return "the secret is longer than 512 bytes";
	}
	out[n] = '\0';
	if (n == 0)
		return "its first line is empty";
	return NULL;
}

/* ADDR:PORT (ADDR not empty, PORT 0..65535 in digits). */
static bool listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end = NULL;
	unsigned long port;

	if (!colon || colon == s || colon[1] < '0' || colon[1] > '9')
		return false;
	port = strtoul(colon + 1, &end, 10);
	return *end == 0 && port <= 65535;
}

int main(int argc, char **argv)
{
	struct hl_server_config cfg = {0};
	struct sigaction sa;
	const char *secret_file = NULL;
	static char secret[SECRET_MAX + 2];
	int err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf("hotlined %s\n", HOTLINE_VERSION);
			return 0;
		}
		if (strcmp(a, "--listen") == 0)
			dst = &cfg.listen;
		else if (strcmp(a, "--data") == 0)
			dst = &cfg.data_dir;
		else if (strcmp(a, "--cert") == 0)
			dst = &cfg.cert_file;
		else if (strcmp(a, "--key") == 0)
			dst = &cfg.key_file;
		else if (strcmp(a, "--turn-secret") == 0)
			dst = &cfg.turn_secret;
		else if (strcmp(a, "--turn-secret-file") == 0)
			dst = &secret_file;
		else if (strcmp(a, "--turn-uri") == 0)
			dst = &cfg.turn_uri;
		else if (strcmp(a, "--limit") == 0) {
			if (i + 1 >= argc)
				return usage_error("--limit needs NAME=N");
			if (!set_limit(&cfg.limits, argv[++i]))
				return usage_error(
					"--limit takes NAME=N with a known "
					"NAME and a positive N");
			continue;
		} else {
			fprintf(stderr,
				"hotlined: unknown option '%s' (see "
				"'hotlined --help').\n",
				a);
			return 2;
		}
		if (i + 1 >= argc || !argv[i + 1][0]) {
			fprintf(stderr,
				"hotlined: %s needs a value (see 'hotlined "
				"--help').\n",
				a);
			return 2;
		}
		if (*dst)
			return usage_error("an option was given twice");
		*dst = argv[++i];
	}
	if (!cfg.listen || !cfg.data_dir)
		return usage_error("--listen ADDR:PORT and --data DIR are "
				   "required");
	if (!listen_ok(cfg.listen))
		return usage_error("--listen takes ADDR:PORT with a port from "
				   "0 to 65535, e.g. 0.0.0.0:8443");
	if (!cfg.cert_file != !cfg.key_file)
		return usage_error("--cert and --key go together");
	if (secret_file && cfg.turn_secret)
		return usage_error("give --turn-secret or --turn-secret-file, "
				   "not both");
	if (secret_file) {
		const char *why = read_secret(secret_file, secret);

		if (why) {
			fprintf(stderr, "hotlined: cannot use %s: %s.\n",
				secret_file, why);
			return 2;
		}
		cfg.turn_secret = secret;
	}
	if (!cfg.turn_secret != !cfg.turn_uri)
		return usage_error("--turn-secret (or --turn-secret-file) and "
				   "--turn-uri go together");

	umask(077); /* the store says who meets whom: owner only */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = hl_server_run(&cfg, &stop_flag);
	hl_wipe(secret, sizeof(secret));
	return err ? 1 : 0;
}
