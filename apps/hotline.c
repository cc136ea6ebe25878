/*
 * hotline.c - the hotline command-line program (a thin main over
 * libhotline).  Subcommands follow the command-line contract of DESIGN.md;
 * exit status 0 on success, 1 when the work failed, 2 for a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotline [--help] [--version] COMMAND [ARGS...]\n"
		"\n"
		"End-to-end encrypted, identity-verified audio+video calls.\n"
		"\n"
		"identity and contacts:\n"
		"  id new --name NAME        create your identity\n"
		"  id show [--json]          your public key and safety "
		"number\n"
		"  contact add NAME KEY      pin a contact's public key\n"
		"  contact list [--json]     your pinned contacts\n"
		"\n"
		"calls (through a hotlined server, --server URL):\n"
		"  schedule CONTACT --at TIME [--duration MIN] [--topic T]...\n"
		"                            propose a call; prints its id\n"
		"  invites [--json]          proposals waiting for you\n"
		"  confirm CALL_ID           countersign a proposal\n"
		"  decline CALL_ID           refuse a proposal\n"
		"  calls [--json]            your calls and their state\n"
		"  verify CALL_ID [--json]   run the key exchange now; show "
		"the SAS\n"
		"  join CALL_ID              the call itself (see 'hotline "
		"join --help')\n"
		"\n"
		"engine:\n"
		"  sim                       a whole call over an emulated "
		"network\n"
		"  demo                      the demonstration call\n"
		"\n"
		"State lives in --home DIR ($HOTLINE_HOME, default "
		"~/.local/share/hotline).\n"
		"Run 'hotline COMMAND --help' for the options of a "
		"command.\n");
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"sim", cmd_sim},
	{"demo", cmd_demo},
	{"id", cmd_id},
	{"contact", cmd_contact},
	{"schedule", cmd_schedule},
	{"invites", cmd_invites},
	{"confirm", cmd_answer},
	{"decline", cmd_answer},
	{"calls", cmd_calls},
	{"verify", cmd_verify},
	{"join", cmd_join},
	{"join", cmd_join},
};

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("hotline %s\n", HOTLINE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < HL_ARRAY_SIZE(commands); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
		"%s: '%s' is not a hotline command.\n"
		"Try 'hotline --help'.\n",
		prog, cmd);
	return EXIT_USAGE;
}
