// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate shell FILE [HOST]`: build a scenario's network and simulators,
 * as `idlegate run` would, and open an interactive shell in one of its
 * namespaces (the client's by default) so a person can put their own
 * program through the simulated path. The namespaces get names
 * (ig-PID-HOST) for the time of the shell, so more shells can join with
 * `ip netns exec`; everything goes when the shell exits.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "common/log.h"
#include "runner/run/session.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/run/run.h"
#include "runner/model/scenario.h"
#include "runner/run/supervise.h"

static void shell_usage(FILE *f)
{
	fprintf(f, "usage: idlegate shell [OPTIONS] FILE [HOST]\n\n"
		"Build the network and simulated middleboxes of a scenario and open a shell\n"
		"in HOST's network namespace: client (the default), server, or a middlebox\n"
		"name. Try your own program through the path, e.g. start a server in the\n"
		"server namespace and connect to $IDLEGATE_SERVER from the client. Leaving\n"
		"the shell removes everything.\n\n"
		"  -p, --path FLOW   the path that FLOW takes (default: the first flow's)\n"
		"  -c, --command CMD run CMD with sh -c instead of an interactive shell\n"
		"  -h, --help        this help\n\n"
		"In the shell: IDLEGATE_SERVER, IDLEGATE_SERVER6, IDLEGATE_CLIENT,\n"
		"IDLEGATE_CLIENT6 (addresses), IDLEGATE_CTL_<MIDDLEBOX> (control sockets).\n\n"
		"Exit status: the shell's, or 2 usage or scenario error, 3 environment error.\n");
}

static char **shell_env(struct run *r, const struct scenario *sc, size_t path, char store[][PATH_MAX + 64],
			size_t *nstore)
{
	extern char **environ;
	struct topo *t = run_topo(r, path);
	size_t n = 0, k = 0, srv = topo_nodes(t) - 1, s = 0;
	char a[64], **env;

	for (char **e = environ; *e; e++)
		n++;
	env = calloc(n + 16, sizeof(*env));
	if (!env)
		return NULL;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "IDLEGATE_", 9))
			env[k++] = *e;
	snprintf(store[s++], PATH_MAX + 64, "IDLEGATE_SERVER=%s", topo_addr(t, srv, false, false, a, sizeof(a)));
	snprintf(store[s++], PATH_MAX + 64, "IDLEGATE_SERVER6=%s", topo_addr(t, srv, false, true, a, sizeof(a)));
	snprintf(store[s++], PATH_MAX + 64, "IDLEGATE_CLIENT=%s", topo_addr(t, 0, true, false, a, sizeof(a)));
	snprintf(store[s++], PATH_MAX + 64, "IDLEGATE_CLIENT6=%s", topo_addr(t, 0, true, true, a, sizeof(a)));
	for (size_t p = 1; p + 1 < topo_nodes(t) && s < 12; p++) {
		char name[SC_NAME_MAX];
		size_t i;

		snprintf(name, sizeof(name), "%s", topo_node_name(t, p));
		for (i = 0; name[i]; i++)
			name[i] = (name[i] == '-' || name[i] == '.') ? '_' :
				  (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
		snprintf(store[s++], PATH_MAX + 64, "IDLEGATE_CTL_%s=%s", name, run_ctl_path(r, path, p - 1));
	}
	for (size_t i = 0; i < s; i++)
		env[k++] = store[i];
	env[k] = NULL;
	*nstore = s;
	(void)sc;
	return env;
}

struct shell_cli {
	const char *file;               /* the scenario */
	const char *host;               /* whose namespace: "client" by default */
	const char *flowname;           /* --path: whose path, NULL = the first flow's */
	const char *command;            /* --command, NULL = an interactive shell */
};

/* The options and arguments into c. CLI_GO, or the exit status to return now. */
static int shell_parse_args(int argc, char **argv, struct shell_cli *c)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "command", required_argument, NULL, 'c' },
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+p:c:hq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		switch (ch) {
		case 'p': c->flowname = optarg; break;
		case 'c': c->command = optarg; break;
		case 'h':
			shell_usage(stdout);
			return IG_EXIT_OK;
		default:
			shell_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		shell_usage(stderr);
		return IG_EXIT_USAGE;
	}
	c->file = argv[optind];
	c->host = argc - optind == 2 ? argv[optind + 1] : "client";
	return CLI_GO;
}

/* The path (--path's flow's, else the first) and the node on it named
 * c->host. 0, or -1 after saying why not. */
static int shell_find_host(struct run *r, const struct scenario *sc, const struct shell_cli *c, size_t *path,
			   size_t *node)
{
	struct topo *t;

	*path = 0;
	if (c->flowname) {
		int f = scenario_flow_index(sc, c->flowname);

		if (f < 0) {
			log_warnx("shell: --path: no flow '%s' in %s", c->flowname, sc->file);
			return -1;
		}
		*path = run_path_of_flow(r, (size_t)f);
	}
	t = run_topo(r, *path);
	for (*node = 0; *node < topo_nodes(t); (*node)++)
		if (!strcmp(topo_node_name(t, *node), c->host))
			return 0;
	log_warnx("shell: no host '%s' on the path (client, server%s%s)", c->host,
		  topo_nodes(t) > 2 ? ", or a middlebox: " : "", topo_nodes(t) > 2 ? topo_node_name(t, 1) : "");
	return -1;
}

/* Where the person is, every node's addresses, the variables set. */
static void shell_banner(const struct topo *t, const char *file, const char *host, char store[][PATH_MAX + 64],
			 size_t nstore)
{
	fprintf(stderr, "idlegate shell: %s, in the %s namespace (leave with exit)\n", file, host);
	for (size_t i = 0; i < topo_nodes(t); i++) {
		char a4[64] = "", a6[64] = "";

		topo_addr(t, i, i == 0 || i + 1 < topo_nodes(t), false, a4, sizeof(a4));
		topo_addr(t, i, i == 0 || i + 1 < topo_nodes(t), true, a6, sizeof(a6));
		fprintf(stderr, "  %-10s %-15s %-24s %s%s\n", topo_node_name(t, i), a4, a6,
			topo_ns_name(t, i) ? "ip netns exec " : "", topo_ns_name(t, i) ? topo_ns_name(t, i) : "");
	}
	for (size_t i = 0; i < nstore; i++)
		fprintf(stderr, "  %s\n", store[i]);
}

/* Start $SHELL (or sh -c command) in node's namespace with env. */
static pid_t shell_spawn(struct topo *t, size_t node, const char *command, char **env)
{
	const char *shell = getenv("SHELL") && getenv("SHELL")[0] ? getenv("SHELL") : "/bin/sh";
	char *iargv[] = { (char *)shell, NULL };
	char *cargv[] = { "sh", "-c", (char *)command, NULL };
	/* a command runs as the init of its own PID namespace, so that
	 * whatever it starts (daemons included) ends with it; an
	 * interactive shell keeps the terminal's process group */
	struct spawn_opts so = { .netns_pid = topo_ns_pid(t, node), .stdin_path = "-",
				 .stdout_path = "-", .stderr_path = "-", .keep_pgrp = !command,
				 .own_pidns = command != NULL, .envp = env };

	return spawn(command ? cargv : iargv, &so);
}

/* Wait for the shell sh to end; a signal may end it first. Returns its
 * exit status, or 128+signal. */
static int shell_wait(struct session *ss, pid_t sh, bool command)
{
	for (;;) {
		int pfd = (int)syscall(SYS_pidfd_open, sh, 0);
		struct pollfd p[2] = { { .fd = ss->sigfd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
		int sig, rc;

		poll(p, 2, -1);
		if (pfd >= 0)
			close(pfd);
		if ((rc = reap_timeout(sh, 0)) >= 0)
			return rc;
		while ((sig = session_signal(ss))) {
			/* In an interactive shell, Ctrl-C and Ctrl-\ belong to the
			 * shell; TERM and HUP end it all. A command ends on any of
			 * them, like `idlegate run`. */
			if (command || sig == SIGTERM || sig == SIGHUP) {
				stop_child(sh, command ? SIGTERM : SIGHUP, 2000);
				return 128 + sig;
			}
		}
	}
}

int cmd_shell(int argc, char **argv)
{
	struct shell_cli c = { 0 };
	char msg[512];
	char store[16][PATH_MAX + 64];
	struct session ss = { .sigfd = -1 };
	struct scenario *sc = NULL;
	struct run *r = NULL;
	struct run_opts o = { 0 };
	struct topo *t;
	size_t path, node, nstore;
	char **env = NULL;
	int rc;
	pid_t sh;

	rc = shell_parse_args(argc, argv, &c);
	if (rc != CLI_GO)
		return rc;
	rc = IG_EXIT_USAGE;
	sc = cli_scenario_load(c.file);
	if (!sc)
		goto out;
	if (session_open(&ss, true, msg, sizeof(msg)) < 0) {
		log_warnx("shell: %s", msg);
		rc = IG_EXIT_ENV;
		goto out;
	}
	session_run_opts(&ss, &o);
	r = run_build(sc, &o, msg, sizeof(msg));
	if (!r) {
		log_warnx("shell: %s", msg);
		rc = errno == EINTR ? 128 + SIGINT : IG_EXIT_ENV;
		goto out;
	}
	if (shell_find_host(r, sc, &c, &path, &node) < 0)
		goto out;
	t = run_topo(r, path);
	if (topo_attach(t, ss.prefix, msg, sizeof(msg)) < 0)
		log_warnx("shell: could not name the namespaces: %s", msg);
	env = shell_env(r, sc, path, store, &nstore);
	if (!env)
		fatal("shell");
	shell_banner(t, sc->file, c.host, store, nstore);
	sh = shell_spawn(t, node, c.command, env);
	if (sh < 0) {
		log_warn("shell: starting the shell");
		rc = IG_EXIT_ENV;
		goto out;
	}
	rc = shell_wait(&ss, sh, c.command != NULL);
	/* an interactive shell may have taken the terminal: take it back */
	if (!c.command && isatty(0)) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(0, getpgrp());
		signal(SIGTTOU, SIG_DFL);
	}
out:
	free(env);
	run_free(r);
	session_close(&ss);
	scenario_free(sc);
	return rc;
}
