/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands of `idlegate`, one table in main.c (CLI by table, as
 * wireguard-tools' wg.c). Each command lives in its own file
 * runner/cmd/NAME.c and is declared here.
 *
 * A command is called with argv[0] = its name and its own options after it,
 * with getopt's state reset; it returns the process exit code.
 */
#ifndef IDLEGATE_COMMANDS_H
#define IDLEGATE_COMMANDS_H

#include "runner/util/exit.h"

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
