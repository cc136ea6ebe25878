/*
 * commands.h - the hotline subcommands (one function each; argv[0] is the
 * subcommand's name).  Each returns the exit status.
 */
#ifndef HOTLINE_APPS_COMMANDS_H
#define HOTLINE_APPS_COMMANDS_H

int cmd_sim(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_id(int argc, char **argv);
int cmd_contact(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_invites(int argc, char **argv);
int cmd_answer(int argc, char **argv); /* confirm and decline */
int cmd_calls(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_join(int argc, char **argv);

#endif
