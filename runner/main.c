// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idlegate: the user's entry point. Global options, then a subcommand from
 * one table (see runner/cmd/commands.h for how to add one).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"

#ifndef IDLEGATE_VERSION
#define IDLEGATE_VERSION "0.1"
#endif
#ifndef IDLEGATE_COMMIT
#define IDLEGATE_COMMIT "unknown"
#endif

const struct command idlegate_commands[] = {
	{ "run", cmd_run, "run scenario files in network namespaces and compare with expectations" },
	{ "check", cmd_check, "validate scenario files without running them (no root needed)" },
	{ "tune", cmd_tune, "find the keepalive settings that keep a flow alive through a profile" },
	{ "discover", cmd_discover, "measure the idle timeout of a real path" },
	{ "profiles", cmd_profiles, "list device profiles, show one, or list every knob" },
	{ "shell", cmd_shell, "open a shell in a scenario's topology" },
	{ "ctl", cmd_ctl, "talk to a running simulator's control socket" },
	{ "cleanup", cmd_cleanup, "remove namespaces and rules left by a killed run" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: idlegate [-v] [-q] COMMAND [OPTIONS] [ARGS]\n"
		"       idlegate COMMAND --help\n\n"
		"Will a connection survive the NAT, firewall or load balancer on its path\n"
		"when it goes idle, and which keepalive settings make it survive?\n\n"
		"Commands:\n");
	for (const struct command *c = idlegate_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
	fprintf(f, "\nOptions:\n"
		"  -v, --verbose   more output (twice for debug)\n"
		"  -q, --quiet     only errors (every command takes it too)\n"
		"      --color=WHEN  auto (a terminal, unless NO_COLOR is set), always, never\n"
		"  -V, --version   print the version\n"
		"  -h, --help      this help\n\n"
		"Exit status: 0 ok, 1 an expectation failed, 2 usage or scenario error,\n"
		"3 environment error (not root, missing tool, crashed component).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int verbose = 1, ch;
	const char *name;

	log_init("idlegate", verbose);
	while ((ch = getopt_long(argc, argv, "+vqVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'v': verbose++; break;
		case 'q': verbose = 0; break;
		case 'C':
			if (cli_set_color(optarg) < 0) {
				log_warnx("--color '%s': auto, always or never", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'V':
			printf("idlegate %s (commit %s)\n", IDLEGATE_VERSION, IDLEGATE_COMMIT);
			return IG_EXIT_OK;
		case 'h':
			usage(stdout);
			return IG_EXIT_OK;
		default:
			usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	log_init("idlegate", verbose);
	/* Every process a run starts inherits this: `idlegate cleanup` kills an
	 * orphaned idlegate-sim/-probe only if it carries the mark of a runner
	 * that is gone, never a probe a user started by hand. */
	{
		char pid[24];
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		setenv("IDLEGATE_RUN_PID", pid, 1);
	}
	if (optind >= argc) {
		usage(stderr);
		return IG_EXIT_USAGE;
	}
	name = argv[optind];
	if (!strcmp(name, "help")) {
		/* `idlegate help CMD` is `idlegate CMD --help` */
		if (optind + 1 >= argc) {
			usage(stdout);
			return IG_EXIT_OK;
		}
		name = argv[optind + 1];
		for (const struct command *c = idlegate_commands; c->name; c++) {
			if (!strcmp(c->name, name)) {
				char *av[] = { (char *)c->name, (char *)"--help", NULL };
				optind = 0;
				return c->fn(2, av);
			}
		}
	} else {
		for (const struct command *c = idlegate_commands; c->name; c++) {
			if (!strcmp(c->name, name)) {
				int cargc = argc - optind;
				char **cargv = argv + optind;
				optind = 0;     /* GNU getopt: start over for the command */
				return c->fn(cargc, cargv);
			}
		}
	}
	log_warnx("unknown command '%s' (see idlegate --help)", name);
	return IG_EXIT_USAGE;
}
