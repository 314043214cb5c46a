/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands of `idlegate`, one table in main.c (CLI by table, as
 * wireguard-tools' wg.c). Each command lives in its own file
 * runner/cmd_NAME.c and is declared here. Commands whose owners have not
 * landed yet are defined in runner/cmd_stubs.c: when you implement one,
 * delete its block from cmd_stubs.c (a duplicate definition fails the link,
 * so a forgotten stub cannot hide a real command).
 *
 * A command is called with argv[0] = its name and its own options after it,
 * with getopt's state reset; it returns the process exit code.
 */
#ifndef IDLEGATE_COMMANDS_H
#define IDLEGATE_COMMANDS_H

/* Exit codes of every idlegate command (documented in `idlegate --help`). */
enum {
	IG_EXIT_OK = 0,         /* success; every expectation met */
	IG_EXIT_FAILED = 1,     /* ran, but an expectation was not met */
	IG_EXIT_USAGE = 2,      /* bad command line, or a scenario/profile error */
	IG_EXIT_ENV = 3,        /* environment error: not root, missing tool, crash */
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;       /* one line for `idlegate --help` */
};

/* The table, in main.c; terminated by a {NULL} entry. */
extern const struct command idlegate_commands[];

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);

#endif
