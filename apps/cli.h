/*
 * cli.h - what every hotline subcommand shares: the program name, usage
 * errors as one sentence, option tables, the home folder, the passphrase,
 * the server connection.
 */
#ifndef HOTLINE_APPS_CLI_H
#define HOTLINE_APPS_CLI_H

#include <stdio.h>

#include "hotline/base.h"
#include "hotline/home.h"
#include "hotline/identity.h"
#include "hotline/signal.h"

#define EXIT_USAGE 2

extern const char *prog;

/* One clear sentence for a usage error; returns EXIT_USAGE. */
int bad(const char *cmd, const char *fmt, ...) HL_PRINTF(2, 3);
/* One clear sentence for a failure; returns 1. */
int fail(const char *cmd, const char *fmt, ...) HL_PRINTF(2, 3);

bool parse_double(const char *s, double lo, double hi, double *out);
bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool parse_size(const char *s, int *w, int *h);

enum opt_kind {
	OPT_FLAG,   /* bool, no value */
	OPT_DOUBLE, /* double in [lo, hi] */
	OPT_MS,	    /* milliseconds in [lo, hi], stored as uint32 us */
	OPT_U32,    /* whole number in [lo, hi] */
	OPT_U64,    /* whole number in [lo, hi] */
	OPT_SIZE,   /* WxH, even, 64..4096 */
	OPT_PATH,   /* non-empty string */
	OPT_LIST,   /* repeatable string, into struct opt_list */
};

#define OPT_LIST_MAX 16

struct opt_list {
	const char *items[OPT_LIST_MAX];
	int n;
};

struct opt {
	const char *name;
	enum opt_kind kind;
	double lo, hi;
	const char *expect; /* "a fraction between 0 and 1" */
	void *target;
	bool seen;
};

#define OPT(name, kind, lo, hi, expect, target)           \
	{                                                 \
		name, kind, lo, hi, expect, target, false \
	}

/*
 * Parse argv[1..]: options of the table ("--name V", "--name=V", flags)
 * and up to max_pos positional arguments (into pos, count in *npos).
 * Returns 0, or EXIT_USAGE after one clear sentence.  --help prints
 * help(stdout) and exits 0.
 */
int parse_opts(const char *cmd, int argc, char **argv, struct opt *t, size_t n,
	       void (*help)(FILE *), const char **pos, int max_pos, int *npos);

int mkdir_p(const char *path);
int write_file(const char *path, const char *text);

/* Options every identity-using command takes (--home, --passphrase-file,
 * --no-passphrase, --server). */
struct common {
	const char *home;
	const char *passphrase_file;
	bool no_passphrase;
	const char *server;
	bool json;
};

#define COMMON_OPTS(c)                                             \
	OPT("--home", OPT_PATH, 0, 0, "a folder", &(c)->home),     \
		OPT("--passphrase-file", OPT_PATH, 0, 0, "a file", \
		    &(c)->passphrase_file),                        \
		OPT("--no-passphrase", OPT_FLAG, 0, 0, "",         \
		    &(c)->no_passphrase),                          \
		OPT("--server", OPT_PATH, 0, 0,                    \
		    "a URL such as wss://host:port", &(c)->server)

/* The home folder: --home, else $HOTLINE_HOME, else
 * ~/.local/share/hotline.  Returns 0 or 1 (after a sentence). */
int open_home(const char *cmd, const struct common *c, bool create,
	      struct hl_home **out);
/*
 * The passphrase: --passphrase-file (first line), else
 * $HOTLINE_PASSPHRASE, else a prompt on the terminal (twice when
 * confirm); NULL with --no-passphrase.  *out is hl_malloc'd (free with
 * free_secret).  Returns 0, or 1 / EXIT_USAGE after a sentence.
 */
int get_passphrase(const char *cmd, const struct common *c, bool confirm,
		   char **out);
void free_secret(char *s);
/* Load the identity of the home folder (asks for the passphrase). */
int load_identity(const char *cmd, const struct common *c, struct hl_home *h,
		  struct hl_identity *id);
/* Connect to the server (--server / $HOTLINE_SERVER), pinning its
 * certificate on first use. */
int connect_server(const char *cmd, const struct common *c, struct hl_home *h,
		   const struct hl_identity *id, struct hl_signal **out);

/* Digits in groups of five, as people read them aloud. */
void group5(const char *digits, char *out, size_t cap);

#endif
