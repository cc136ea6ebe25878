/*
 * hotlined.c - the rendezvous/signalling server (placeholder main).
 *
 * The server (WebSocket over TLS, SQLite store, contract forwarding, TURN
 * credentials) is the subject of a later issue.  Until then this program
 * answers --help and --version and refuses to pretend to serve.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: hotlined --listen ADDR:PORT --data DIR "
		   "[--cert F --key F] [--turn-secret S --turn-uri URI]\n"
		   "\n"
		   "The hotline rendezvous and signalling server.  Not built "
		   "yet in this version:\nit arrives with identities, "
		   "contracts and the key exchange.\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("hotlined %s\n", HOTLINE_VERSION);
		return 0;
	}
	fprintf(stderr, "hotlined: the server is not built yet in this "
			"version; run 'hotlined --help'.\n");
	return 2;
}
