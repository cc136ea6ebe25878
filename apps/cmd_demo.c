/*
 * cmd_demo.c - `hotline demo`: the whole system on this machine.
 *
 * Starts hotlined on 127.0.0.1 with a temporary store, makes alice and bob
 * (temporary homes, no passphrase), pins their keys to each other,
 * schedules and confirms a call, then runs both `hotline join` as
 * separate processes over real sockets (ICE on loopback, DTLS-SRTP,
 * SFrame) with the test pattern and tone.  Their live status lines go to
 * stderr; at the end it prints both SASes and a summary, and writes to
 * --out DIR: report.json ({"alice": ..., "bob": ...}), report.html (plots
 * over time), and each side's received Y4M and WAV.  Exit status 0 only
 * if the call was healthy.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "hotline/net.h"
#include "hotline/report.h"

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline demo [--seconds N] [--out DIR] [--video-size "
		"WxH]\n"
		"\n"
		"The whole system on this machine: hotlined on 127.0.0.1, "
		"two identities\n(alice and bob), a signed contract, and a "
		"10-second call (--seconds) between\ntwo 'hotline join' "
		"processes over real sockets, end-to-end encrypted.\n"
		"Writes report.json, report.html and what each side received "
		"to DIR\n(default out/demo).  Exit status 0 only if the call "
		"was healthy: each side\nrendered 99 %% of the pictures at "
		"PSNR 34 dB or more, played 97 %% of the sound,\nwith latency "
		"p95 under 400 ms, no authentication failure, a clean end, "
		"and\nthe same SAS on both sides; otherwise it says what "
		"fell short.\n");
}

struct demo {
	char self[4096], hotlined[4096];
	char tmp[64];
	char url[96];
	pid_t server;
};

/* Run our own program with args; wait; stdout into out (if not NULL). */
static int run(struct demo *d, char *const args[], char *out, size_t cap)
{
	int fds[2] = {-1, -1}, status;
	pid_t pid;
	size_t n = 0;

	if (out && pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		if (out) {
			close(fds[0]);
			close(fds[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (out) {
			dup2(fds[1], 1);
			close(fds[0]);
			close(fds[1]);
		}
		execv(d->self, args);
		_exit(127);
	}
	if (out) {
		ssize_t r;

		close(fds[1]);
		while (n + 1 < cap &&
		       (r = read(fds[0], out + n, cap - 1 - n)) > 0)
			n += (size_t)r;
		out[n] = 0;
		close(fds[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static pid_t spawn(const char *prog_path, char *const args[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(prog_path, args);
		_exit(127);
	}
	return pid;
}

/* Start hotlined on a free loopback port; wait for its fingerprint. */
static int start_server(struct demo *d)
{
	char data[128], listen_at[64], line[512];

	snprintf(data, sizeof(data), "%s/server", d->tmp);
	for (int attempt = 0; attempt < 10; attempt++) {
		struct hl_rng r = hl_rng_os();
		unsigned port = 20000 + hl_rng_u32(&r) % 40000;
		int fds[2];
		FILE *f;
		pid_t pid;

		snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u", port);
		if (pipe(fds) != 0)
			return -1;
		pid = fork();
		if (pid < 0) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
		if (pid == 0) {
			char *args[] = {"hotlined", "--listen", listen_at,
					"--data",   data,	NULL};

			dup2(fds[1], 2);
			close(fds[0]);
			close(fds[1]);
			execv(d->hotlined, args);
			_exit(127);
		}
		close(fds[1]);
		f = fdopen(fds[0], "r");
		if (!f)
			close(fds[0]);
		/* hotlined prints its fingerprint once it listens, or exits
		 * (e.g. the port is taken): either ends this read. */
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "fingerprint")) {
				d->server = pid;
				snprintf(d->url, sizeof(d->url), "wss://%s",
					 listen_at);
				/* Keep reading its log in the background. */
				if (fork() == 0) {
					while (fgets(line, sizeof(line), f))
						;
					_exit(0);
				}
				fclose(f);
				return 0;
			}
		if (f)
			fclose(f);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* The "public_key" of `id show --json`, or "" (contact add then fails
 * with its own message). */
static const char *str_or_empty(json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "public_key"));

	return v ? v : "";
}

static json_t *load_json(const char *path)
{
	return json_load_file(path, 0, NULL);
}

static double num(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_number_value(v);
}

static double lat(json_t *side, const char *kind, const char *q)
{
	json_t *l = json_object_get(json_object_get(side, kind), "latency_ms");

	return json_number_value(json_object_get(l, q));
}

/* One row of the summary; decimals 0, 1 or 2. */
static void summary_row(const char *what, double a, double b, int decimals)
{
	printf("%-30s %14.*f %14.*f\n", what, decimals, a, decimals, b);
}

/* The longest glass-to-glass p95 (video or sound) of a healthy call on
 * this machine: a working loopback call is at tens of ms even on a busy
 * 2-core machine; seconds mean a queue that never drains. */
#define HEALTHY_LATENCY_MS 400.0

/*
 * Healthy: every picture (>= 99 %) with PSNR >= 34 dB, the sound (>= 97
 * %), latency p95 under HEALTHY_LATENCY_MS both ways, no authentication
 * failure, a clean end.  Each shortcoming is said in one line.
 */
static bool healthy(const char *name, json_t *me, json_t *peer)
{
	double sent = num(peer, "video", "frames_sent", NULL);
	double got = num(me, "video", "frames_rendered", NULL);
	double a_sent = num(peer, "audio", "frames_sent", NULL);
	double a_got = num(me, "audio", "frames_played", NULL);
	double psnr = num(me, "video", "psnr_db", NULL);
	double auth = num(me, "e2ee", "auth_failures", NULL);
	bool ok = true;

	/* Each side leaves at its own --seconds: up to 2 pictures (5 sound
	 * frames) the peer sent after that, or still in flight, are not
	 * counted against it. */
	if (!(sent > 2 && got >= 0.99 * (sent - 2))) {
		printf("%s rendered %.0f of %.0f pictures (under 99 %%)\n",
		       name, got, sent);
		ok = false;
	}
	if (!(psnr >= 34)) {
		printf("%s saw the pictures at PSNR %.2f dB (under 34)\n", name,
		       psnr);
		ok = false;
	}
	if (!(a_sent > 5 && a_got >= 0.97 * (a_sent - 5))) {
		printf("%s played %.0f of %.0f sound frames (under 97 %%)\n",
		       name, a_got, a_sent);
		ok = false;
	}
	for (int k = 0; k < 2; k++) {
		const char *kind = k ? "audio" : "video";
		double p95 = lat(me, kind, "p95");

		if (!(p95 <= HEALTHY_LATENCY_MS)) {
			printf("%s's %s latency p95 is %.0f ms (over %.0f)\n",
			       name, kind, p95, HEALTHY_LATENCY_MS);
			ok = false;
		}
	}
	if (auth != 0) {
		printf("%s had %.0f authentication failures\n", name, auth);
		ok = false;
	}
	if (!json_is_true(json_object_get(me, "clean_exit"))) {
		printf("%s did not end cleanly (see its messages above)\n",
		       name);
		ok = false;
	}
	return ok;
}

int cmd_demo(int argc, char **argv)
{
	double seconds = 10;
	int size[2] = {1280, 720};
	char vsize[32];
	const char *outdir = "out/demo";
	struct opt t[] = {
		OPT("--seconds", OPT_DOUBLE, 1, 3600,
		    "a number of seconds between 1 and 3600", &seconds),
		OPT("--out", OPT_PATH, 0, 0, "a folder", &outdir),
		OPT("--video-size", OPT_SIZE, 0, 0,
		    "WxH with even sizes from 64 to 4096", size),
	};
	struct demo d;
	char home_a[128], home_b[128], out_a[4200], out_b[4200], rep_a[4200],
		rep_b[4200], secs[32], buf[8192], key_a[128], key_b[128],
		call_id[64], path[4200];
	json_t *ja = NULL, *jb = NULL, *all = NULL;
	pid_t pa, pb;
	int rc, st_a, st_b;
	bool ok;
	ssize_t n;

	memset(&d, 0, sizeof(d));
	rc = parse_opts("demo", argc, argv, t, HL_ARRAY_SIZE(t), demo_usage,
			NULL, 0, NULL);
	if (rc)
		return rc;
	n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
	if (n <= 0)
		return fail("demo", "cannot find my own program file");
	d.self[n] = 0;
	snprintf(d.hotlined, sizeof(d.hotlined), "%.*s/hotlined",
		 (int)(strrchr(d.self, '/') - d.self), d.self);
	if (access(d.hotlined, X_OK) != 0)
		return fail("demo", "hotlined is not next to hotline (%s)",
			    d.hotlined);
	snprintf(d.tmp, sizeof(d.tmp), "/tmp/hotline-demo-XXXXXX");
	if (!mkdtemp(d.tmp))
		return fail("demo", "cannot make a temporary folder: %s",
			    strerror(errno));
	if (mkdir_p(outdir) != 0) {
		rc = fail("demo", "cannot create %s: %s", outdir,
			  strerror(errno));
		goto out;
	}
	if (start_server(&d) != 0) {
		rc = fail("demo", "hotlined did not start");
		goto out;
	}
	printf("hotline demo: hotlined listens on %s\n", d.url);
	setenv("HOTLINE_SERVER", d.url, 1);
	snprintf(home_a, sizeof(home_a), "%s/alice", d.tmp);
	snprintf(home_b, sizeof(home_b), "%s/bob", d.tmp);
	{
		char *na[] = {"hotline", "id",	   "new",  "--name",
			      "alice",	 "--home", home_a, "--no-passphrase",
			      NULL};
		char *nb[] = {"hotline", "id",	   "new",  "--name",
			      "bob",	 "--home", home_b, "--no-passphrase",
			      NULL};
		char *sa[] = {"hotline", "id",	   "show", "--home",
			      home_a,	 "--json", NULL};
		char *sb[] = {"hotline", "id",	   "show", "--home",
			      home_b,	 "--json", NULL};
		json_t *j;

		if (run(&d, na, buf, sizeof(buf)) ||
		    run(&d, nb, buf, sizeof(buf)) ||
		    run(&d, sa, buf, sizeof(buf))) {
			rc = fail("demo", "making the identities failed");
			goto out;
		}
		j = json_loads(buf, 0, NULL);
		snprintf(key_a, sizeof(key_a), "%s", str_or_empty(j));
		json_decref(j);
		if (run(&d, sb, buf, sizeof(buf))) {
			rc = fail("demo", "making the identities failed");
			goto out;
		}
		j = json_loads(buf, 0, NULL);
		snprintf(key_b, sizeof(key_b), "%s", str_or_empty(j));
		json_decref(j);
	}
	{
		char *ca[] = {"hotline", "contact", "add",  "bob",
			      key_b,	 "--home",  home_a, NULL};
		char *cb[] = {"hotline", "contact", "add",  "alice",
			      key_a,	 "--home",  home_b, NULL};
		char *sc[] = {"hotline", "schedule", "bob",
			      "--at",	 "now",	     "--duration",
			      "60",	 "--topic",  "demo call",
			      "--home",	 home_a,     "--no-passphrase",
			      NULL};

		if (run(&d, ca, buf, sizeof(buf)) ||
		    run(&d, cb, buf, sizeof(buf)) ||
		    run(&d, sc, call_id, sizeof(call_id))) {
			rc = fail("demo", "pinning or scheduling failed");
			goto out;
		}
		call_id[strcspn(call_id, "\r\n")] = 0;
	}
	{
		char *cf[] = {"hotline", "confirm",	    call_id, "--home",
			      home_b,	 "--no-passphrase", NULL};

		if (run(&d, cf, buf, sizeof(buf))) {
			rc = fail("demo", "confirming failed");
			goto out;
		}
	}
	printf("hotline demo: alice and bob have pinned each other's keys; "
	       "call %s is signed by both\n",
	       call_id);
	fflush(stdout);
	snprintf(secs, sizeof(secs), "%g", seconds);
	snprintf(vsize, sizeof(vsize), "%dx%d", size[0], size[1]);
	snprintf(out_a, sizeof(out_a), "%s/alice", outdir);
	snprintf(out_b, sizeof(out_b), "%s/bob", outdir);
	snprintf(rep_a, sizeof(rep_a), "%s/alice.json", d.tmp);
	snprintf(rep_b, sizeof(rep_b), "%s/bob.json", d.tmp);
	{
		char *ja_args[] = {
			"hotline",    "join",	      call_id,
			"--home",     home_a,	      "--no-passphrase",
			"--loopback", "--seconds",    secs,
			"--report",   rep_a,	      "--record",
			out_a,	      "--video-size", vsize,
			"--status",   "lines",	      NULL};
		char *jb_args[] = {
			"hotline",    "join",	      call_id,
			"--home",     home_b,	      "--no-passphrase",
			"--loopback", "--seconds",    secs,
			"--report",   rep_b,	      "--record",
			out_b,	      "--video-size", vsize,
			"--status",   "lines",	      NULL};

		st_a = st_b = 127 << 8;
		pa = spawn(d.self, ja_args);
		pb = pa > 0 ? spawn(d.self, jb_args) : -1;
		if (pa > 0 && pb < 0)
			kill(pa, SIGTERM);
		if (pa > 0)
			waitpid(pa, &st_a, 0);
		if (pb > 0)
			waitpid(pb, &st_b, 0);
		if (pa < 0 || pb < 0) {
			rc = fail("demo", "cannot start hotline join: %s",
				  strerror(errno));
			goto out;
		}
	}
	ja = load_json(rep_a);
	jb = load_json(rep_b);
	if (!ja || !jb) {
		rc = fail("demo", "a side wrote no report (exit %d and %d)",
			  WEXITSTATUS(st_a), WEXITSTATUS(st_b));
		goto out;
	}
	all = json_pack("{s:O, s:O}", "alice", ja, "bob", jb);
	{
		char *text = json_dumps(all, JSON_INDENT(2));
		char *html = NULL;

		snprintf(path, sizeof(path), "%s/report.json", outdir);
		if (!text || write_file(path, text) != 0) {
			rc = fail("demo", "cannot write %s: %s", path,
				  text ? strerror(errno) : "out of memory");
			free(text);
			goto out;
		}
		if (hl_report_html(text, strlen(text), &html) == 0) {
			snprintf(path, sizeof(path), "%s/report.html", outdir);
			if (write_file(path, html) != 0)
				fprintf(stderr,
					"%s demo: cannot write %s: %s\n", prog,
					path, strerror(errno));
			hl_free(html);
		}
		free(text);
	}
	{
		const char *sa = json_string_value(json_object_get(ja, "sas"));
		const char *sb = json_string_value(json_object_get(jb, "sas"));

		printf("\nSAS alice: %s\nSAS bob:   %s\n", sa ? sa : "-",
		       sb ? sb : "-");
	}
	printf("\n%-30s %14s %14s\n", "", "alice", "bob");
	summary_row("video frames sent", num(ja, "video", "frames_sent", NULL),
		    num(jb, "video", "frames_sent", NULL), 0);
	summary_row("video frames rendered",
		    num(ja, "video", "frames_rendered", NULL),
		    num(jb, "video", "frames_rendered", NULL), 0);
	summary_row("video PSNR (dB)", num(ja, "video", "psnr_db", NULL),
		    num(jb, "video", "psnr_db", NULL), 2);
	summary_row("video latency p50 (ms)", lat(ja, "video", "p50"),
		    lat(jb, "video", "p50"), 1);
	summary_row("video latency p95 (ms)", lat(ja, "video", "p95"),
		    lat(jb, "video", "p95"), 1);
	summary_row("audio latency p50 (ms)", lat(ja, "audio", "p50"),
		    lat(jb, "audio", "p50"), 1);
	summary_row("audio frames played",
		    num(ja, "audio", "frames_played", NULL),
		    num(jb, "audio", "frames_played", NULL), 0);
	summary_row("e2ee auth failures",
		    num(ja, "e2ee", "auth_failures", NULL),
		    num(jb, "e2ee", "auth_failures", NULL), 0);
	summary_row("RTT (ms)", num(ja, "network", "rtt_ms", NULL),
		    num(jb, "network", "rtt_ms", NULL), 1);
	putchar('\n');
	ok = healthy("alice", ja, jb);
	ok = healthy("bob", jb, ja) && ok;
	if (!json_equal(json_object_get(ja, "sas"),
			json_object_get(jb, "sas"))) {
		printf("the two sides showed different SASes\n");
		ok = false;
	}
	printf("%sreport: %s/report.json and %s/report.html\ncall %s\n",
	       ok ? "" : "\n", outdir, outdir, ok ? "healthy" : "NOT healthy");
	rc = ok ? 0 : 1;
out:
	json_decref(ja);
	json_decref(jb);
	json_decref(all);
	if (d.server > 0) {
		kill(d.server, SIGTERM);
		waitpid(d.server, NULL, 0);
	}
	{
		char *rm[] = {"rm", "-rf", d.tmp, NULL};
		pid_t p = fork();

		if (p == 0) {
			execv("/bin/rm", rm);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
	return rc;
}
