/*
 * cli.c - the shared parts of the hotline subcommands (see cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "hotline/media.h"

const char *prog = "hotline";

int bad(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hotline %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool parse_size(const char *s, int *w, int *h)
{
	char buf[32], *x;
	uint64_t a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	memcpy(buf, s, strlen(s) + 1);
	x = strchr(buf, 'x');
	if (!x)
		return false;
	*x = 0;
	if (!parse_u64(buf, 64, HL_VIDEO_MAX_DIM, &a) ||
	    !parse_u64(x + 1, 64, HL_VIDEO_MAX_DIM, &b) || a % 2 || b % 2)
		return false;
	*w = (int)a;
	*h = (int)b;
	return true;
}

int parse_opts(const char *cmd, int argc, char **argv, struct opt *t, size_t n,
	       void (*help)(FILE *), const char **pos, int max_pos, int *npos)
{
	if (npos)
		*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		struct opt *o = NULL;
		size_t len;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
			if (strcmp(a, "--") == 0 && i + 1 < argc)
				a = argv[++i];
			if (!pos || !npos || *npos >= max_pos)
				return bad(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < n; k++)
			if (strlen(t[k].name) == len &&
			    strncmp(a, t[k].name, len) == 0)
				o = &t[k];
		if (!o)
			return bad(cmd, "unknown option '%s'", a);
		o->seen = true;
		if (o->kind == OPT_FLAG) {
			if (eq)
				return bad(cmd, "%s takes no value", o->name);
			*(bool *)o->target = true;
			continue;
		}
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return bad(cmd, "option %s needs a value", o->name);
		switch (o->kind) {
		case OPT_DOUBLE: {
			double d;

			if (!parse_double(v, o->lo, o->hi, &d))
				goto invalid;
			*(double *)o->target = d;
			break;
		}
		case OPT_MS: {
			double d;

			if (!parse_double(v, o->lo, o->hi, &d))
				goto invalid;
			*(uint32_t *)o->target = (uint32_t)(d * 1000);
			break;
		}
		case OPT_U32:
		case OPT_U64: {
			uint64_t u;

			if (!parse_u64(v, (uint64_t)o->lo, (uint64_t)o->hi, &u))
				goto invalid;
			if (o->kind == OPT_U32)
				*(unsigned *)o->target = (unsigned)u;
			else
				*(uint64_t *)o->target = u;
			break;
		}
		case OPT_SIZE: {
			int *wh = o->target;

			if (!parse_size(v, &wh[0], &wh[1]))
				goto invalid;
			break;
		}
		case OPT_PATH:
			if (!*v || strlen(v) > 4000)
				goto invalid;
			*(const char **)o->target = v;
			break;
		case OPT_LIST: {
			struct opt_list *l = o->target;

			if (!*v || strlen(v) > 4000)
				goto invalid;
			if (l->n >= OPT_LIST_MAX)
				return bad(cmd,
					   "%s can be given at most %d "
					   "times",
					   o->name, OPT_LIST_MAX);
			l->items[l->n++] = v;
			break;
		}
		case OPT_FLAG:
			break;
		}
		continue;
	invalid:
		return bad(cmd, "%s must be %s, not '%s'", o->name, o->expect,
			   v);
	}
	return 0;
}

int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == 0) {
			char c = buf[i];

			buf[i] = 0;
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* ---- home, passphrase, identity, server -------------------------------- */

int open_home(const char *cmd, const struct common *c, bool create,
	      struct hl_home **out)
{
	char buf[HL_HOME_PATH_MAX];
	const char *dir = c->home;
	int err;

	if (!dir)
		dir = getenv("HOTLINE_HOME");
	if (!dir || !*dir) {
		const char *home = getenv("HOME");

		if (!home || !*home)
			return fail(cmd, "no home folder: give --home DIR or "
					 "set HOTLINE_HOME");
		snprintf(buf, sizeof(buf), "%s/.local/share/hotline", home);
		dir = buf;
		if (create && mkdir_p(buf) != 0)
			return fail(cmd, "cannot create %s: %s", buf,
				    strerror(errno));
	}
	err = hl_home_open(out, dir, create);
	if (err == HL_ENOTFOUND)
		return fail(cmd,
			    "the folder %s does not exist: create an "
			    "identity first with 'hotline id new --name NAME'",
			    dir);
	if (err)
		return fail(cmd, "cannot use %s as the home folder: %s", dir,
			    err == HL_EIO ? strerror(errno) : hl_strerror(err));
	return 0;
}

void free_secret(char *s)
{
	if (s) {
		hl_wipe(s, strlen(s));
		hl_free(s);
	}
}

static char *dup_secret(const char *s, size_t n)
{
	char *d = hl_malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* Read a passphrase from the terminal without echo; NULL on failure. */
static char *prompt_tty(const char *prompt)
{
	struct termios old, quiet;
	char buf[1024];
	char *res = NULL;
	FILE *tty = fopen("/dev/tty", "r+");
	size_t n;

	if (!tty)
		return NULL;
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof(buf), tty)) {
		n = strcspn(buf, "\r\n");
		res = dup_secret(buf, n);
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	hl_wipe(buf, sizeof(buf));
	return res;
}

int get_passphrase(const char *cmd, const struct common *c, bool confirm,
		   char **out)
{
	const char *env = getenv("HOTLINE_PASSPHRASE");
	char *p = NULL;

	*out = NULL;
	if (c->no_passphrase) {
		if (c->passphrase_file)
			return bad(cmd, "--no-passphrase and "
					"--passphrase-file contradict each "
					"other");
		return 0;
	}
	if (c->passphrase_file) {
		char buf[4096];
		FILE *f = fopen(c->passphrase_file, "r");
		size_t n;

		if (!f)
			return fail(cmd,
				    "cannot read the passphrase file %s: "
				    "%s",
				    c->passphrase_file, strerror(errno));
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		n = strcspn(buf, "\r\n");
		p = dup_secret(buf, n);
		hl_wipe(buf, sizeof(buf));
		if (p && !*p) {
			free_secret(p);
			return fail(cmd, "the passphrase file %s is empty",
				    c->passphrase_file);
		}
	} else if (env && *env) {
		p = dup_secret(env, strlen(env));
	} else {
		p = prompt_tty("Passphrase: ");
		if (p && confirm) {
			char *again = prompt_tty("Passphrase again: ");

			if (!again || strcmp(p, again) != 0) {
				free_secret(again);
				free_secret(p);
				return fail(cmd, "the two passphrases "
						 "differ; nothing was "
						 "changed");
			}
			free_secret(again);
		}
		if (!p)
			return fail(cmd,
				    "no passphrase: give --passphrase-file F, "
				    "set HOTLINE_PASSPHRASE, run on a "
				    "terminal, or choose --no-passphrase");
	}
	if (!p)
		return fail(cmd, "out of memory");
	*out = p;
	return 0;
}

int load_identity(const char *cmd, const struct common *c, struct hl_home *h,
		  struct hl_identity *id)
{
	char path[HL_HOME_PATH_MAX];
	char *pass = NULL;
	bool sealed;
	int err, rc;

	if (hl_home_path(h, "identity.json", path, sizeof(path)))
		return fail(cmd, "the home folder path is too long");
	err = hl_identity_file_sealed(path, &sealed);
	if (err == HL_EIO && errno == ENOENT)
		return fail(cmd,
			    "there is no identity in %s: create one with "
			    "'hotline id new --name NAME'",
			    hl_home_dir(h));
	if (err)
		return fail(cmd, "cannot read %s: %s", path,
			    err == HL_EIO ? strerror(errno)
					  : "it is damaged or not an identity "
					    "file");
	if (sealed) {
		if (c->no_passphrase)
			return bad(cmd,
				   "the identity in %s is protected by a "
				   "passphrase; drop --no-passphrase",
				   hl_home_dir(h));
		rc = get_passphrase(cmd, c, false, &pass);
		if (rc)
			return rc;
	}
	err = hl_identity_load(id, path, pass);
	free_secret(pass);
	switch (err) {
	case 0:
		return 0;
	case HL_EAUTH:
		return fail(cmd,
			    "wrong passphrase for %s (or the file was "
			    "altered); nothing was changed",
			    path);
	case HL_EPARSE:
		return fail(cmd,
			    "%s is damaged or not an identity file; "
			    "restore it from a backup",
			    path);
	case HL_EUNSUPPORTED:
		return fail(cmd,
			    "%s was written by a newer hotline; update "
			    "this one",
			    path);
	case HL_EIO:
		return fail(cmd, "cannot read %s: %s", path, strerror(errno));
	default:
		return fail(cmd, "cannot load %s: %s", path, hl_strerror(err));
	}
}

static void fp_text(const uint8_t fp[HL_SIGNAL_FP_LEN], char *out)
{
	for (int i = 0; i < HL_SIGNAL_FP_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", fp[i]);
}

int connect_server(const char *cmd, const struct common *c, struct hl_home *h,
		   const struct hl_identity *id, struct hl_signal **out)
{
	struct hl_signal_config sc = {0};
	uint8_t fp[HL_SIGNAL_FP_LEN];
	char have[65], want[65];
	const char *msg = NULL;
	int err;

	sc.url = c->server ? c->server : getenv("HOTLINE_SERVER");
	if (!sc.url || !*sc.url)
		return fail(cmd, "no server: give --server wss://HOST:PORT or "
				 "set HOTLINE_SERVER");
	sc.id = id;
	err = hl_home_server_pin(h, sc.url, sc.pin);
	sc.have_pin = err == 0;
	err = hl_signal_connect(out, &sc, fp, &msg);
	if (err == HL_ECONFLICT) {
		fp_text(fp, have);
		fp_text(sc.pin, want);
		return fail(cmd,
			    "REFUSED: the server at %s presents certificate "
			    "sha256:%s but sha256:%s is pinned; another "
			    "server or a machine in between answers. Ask its "
			    "operator; if it really changed, remove its entry "
			    "from %s/servers.json",
			    sc.url, have, want, hl_home_dir(h));
	}
	if (err)
		return fail(cmd, "cannot reach the server %s: %s", sc.url,
			    msg ? msg : hl_strerror(err));
	if (!sc.have_pin) {
		err = hl_home_server_pin_set(h, sc.url, fp);
		if (err) {
			hl_signal_close(*out);
			*out = NULL;
			return fail(cmd,
				    "cannot record the server's "
				    "certificate: %s",
				    hl_strerror(err));
		}
		fp_text(fp, have);
		fprintf(stderr,
			"%s: pinned the certificate of %s (sha256:%s)\n", prog,
			sc.url, have);
	}
	return 0;
}

/* Digits in groups of five, as people read them aloud. */
void group5(const char *digits, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; digits[i] && o + 2 < cap; i++) {
		if (i && i % 5 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = 0;
}
