// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate cleanup`: remove what a killed or crashed run could have left.
 * This version's runs leave nothing (their namespaces are unnamed and die
 * with their holders), except what --keep keeps on purpose and the private
 * directory of a SIGKILLed runner; older versions, or a kernel that
 * misbehaves, could leave more. Everything removed carries idlegate's marks:
 *
 *   - named namespaces ig-PID-... (--keep, shell) whose idlegate PID is gone,
 *     with every process still inside them
 *   - idlegate-sim / idlegate-probe / idlegate-ns processes orphaned to init
 *     that a run started (IDLEGATE_RUN_PID in their environment) and whose
 *     run is gone
 *   - links called ig-* in the root namespace
 *   - nftables tables idlegate_PID in the root namespace whose PID is gone
 *   - directories $TMPDIR/idlegate-run-PID-* whose PID is gone
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/log.h"
#include "runner/cmd_common.h"
#include "runner/commands.h"
#include "runner/supervise.h"

struct cleanup {
	bool dry, all;
	unsigned removed, failed;
};

static void cleanup_usage(FILE *f)
{
	fprintf(f, "usage: idlegate cleanup [-n] [--all]\n\n"
		"Remove what a killed run of idlegate (or an older version) could have left:\n"
		"namespaces named ig-*, the processes in them, orphaned idlegate-sim and\n"
		"idlegate-probe processes that a gone run started, ig-* links and\n"
		"idlegate_* nftables tables in the root namespace, and idlegate-run-*\n"
		"directories in $TMPDIR or /tmp.\n"
		"Things that belong to a run still going are left alone.\n\n"
		"  -n, --dry-run   only say what would be removed\n"
		"  -a, --all       also remove what belongs to runs still going\n"
		"  -h, --help      this help\n\n"
		"Exit status: 0 nothing left, 3 not root or something could not be removed.\n");
}

static bool read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* Is pid a running idlegate (the runner or a worker)? */
static bool idlegate_alive(long pid)
{
	char p[64], comm[64];

	if (pid <= 0)
		return false;
	snprintf(p, sizeof(p), "/proc/%ld/comm", pid);
	return read_small(p, comm, sizeof(comm)) && !strcmp(comm, "idlegate");
}

/* The number after prefix in name ("ig-1234-..." -> 1234), or -1. */
static long pid_after(const char *name, const char *prefix)
{
	char *end;
	long v;

	if (strncmp(name, prefix, strlen(prefix)))
		return -1;
	v = strtol(name + strlen(prefix), &end, 10);
	if (end == name + strlen(prefix) || (*end && *end != '-'))
		return -1;
	return v;
}

static void did(struct cleanup *c, int rc, const char *what)
{
	if (c->dry) {
		printf("would remove %s\n", what);
		return;
	}
	if (rc == 0) {
		printf("removed %s\n", what);
		c->removed++;
	} else {
		printf("could not remove %s\n", what);
		c->failed++;
	}
}

static void kill_in_netns(struct cleanup *c, const char *nspath)
{
	struct stat ns, st;
	DIR *d;
	struct dirent *e;

	if (stat(nspath, &ns) < 0 || !(d = opendir("/proc")))
		return;
	while ((e = readdir(d))) {
		char p[300], what[400];
		long pid = strtol(e->d_name, NULL, 10);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/ns/net", pid);
		if (stat(p, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		snprintf(what, sizeof(what), "process %ld inside %s", pid, nspath);
		did(c, c->dry ? 0 : kill((pid_t)pid, SIGKILL), what);
	}
	closedir(d);
}

static void named_netns(struct cleanup *c)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], what[300], msg[200];
		long pid = pid_after(e->d_name, "ig-");

		if (pid < 0)
			continue;
		if (!c->all && idlegate_alive(pid)) {
			printf("left %s: idlegate %ld is still running\n", e->d_name, pid);
			continue;
		}
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		kill_in_netns(c, path);
		snprintf(what, sizeof(what), "network namespace %s", e->d_name);
		did(c, c->dry ? 0 : spawn_waitf(0, msg, sizeof(msg), "ip netns delete %s", e->d_name), what);
	}
	closedir(d);
}

/* The runner that started process pid (its IDLEGATE_RUN_PID), or -1. */
static long run_owner(long pid)
{
	char p[64], env[8192];
	const char *key = "IDLEGATE_RUN_PID=";
	size_t n, klen = strlen(key);
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/environ", pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	n = fread(env, 1, sizeof(env) - 1, f);
	fclose(f);
	env[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(env + i) + 1)
		if (!strncmp(env + i, key, klen))
			return strtol(env + i + klen, NULL, 10);
	return -1;
}

static void orphans(struct cleanup *c)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[300], comm[64], stat[512], what[128];
		long pid = strtol(e->d_name, NULL, 10), ppid = -1;
		char *close;

		if (pid <= 1)
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/comm", pid);
		if (!read_small(p, comm, sizeof(comm)))
			continue;
		if (strcmp(comm, "idlegate-sim") && strcmp(comm, "idlegate-probe") && strcmp(comm, "idlegate-ns"))
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
		if (!read_small(p, stat, sizeof(stat)) || !(close = strrchr(stat, ')')))
			continue;
		if (sscanf(close + 2, "%*c %ld", &ppid) != 1 || ppid != 1)
			continue;
		/* only what a run started, and only if that run is gone: a probe
		 * server started by hand (or by a service manager) is not ours */
		long owner = run_owner(pid);
		if (owner < 0 || (!c->all && idlegate_alive(owner)))
			continue;
		snprintf(what, sizeof(what), "orphaned %s process %ld", comm, pid);
		did(c, c->dry ? 0 : kill((pid_t)pid, SIGKILL), what);
	}
	closedir(d);
}

static void root_links(struct cleanup *c)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char what[300], msg[200];

		if (strncmp(e->d_name, "ig-", 3))
			continue;
		snprintf(what, sizeof(what), "link %s in the root namespace", e->d_name);
		did(c, c->dry ? 0 : spawn_waitf(0, msg, sizeof(msg), "ip link delete %s", e->d_name), what);
	}
	closedir(d);
}

static void root_tables(struct cleanup *c)
{
	char out[4096], *save = NULL, *line;
	/* spawn_wait captures stderr: send nft's listing there */
	char *sh[] = { "sh", "-c", "command -v nft >/dev/null && nft list tables 1>&2", NULL };

	if (spawn_wait(sh, 0, 5000, out, sizeof(out)) != 0)
		return;         /* no nft, or it failed: nothing to do here */
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[16], name[128], what[200], msg[200];
		long pid;

		if (sscanf(line, "table %15s %127s", fam, name) != 2)
			continue;
		pid = pid_after(name, "idlegate_");
		if (pid < 0 || (!c->all && kill((pid_t)pid, 0) == 0))
			continue;
		snprintf(what, sizeof(what), "nftables table %s %s", fam, name);
		did(c, c->dry ? 0 : spawn_waitf(0, msg, sizeof(msg), "nft delete table %s %s", fam, name), what);
	}
}

static void tmpdirs(struct cleanup *c)
{
	const char *base = run_tmpdir();
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX], what[PATH_MAX + 32];
		long pid = pid_after(e->d_name, "idlegate-run-");

		if (pid < 0 || (!c->all && kill((pid_t)pid, 0) == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		snprintf(what, sizeof(what), "directory %s", path);
		did(c, c->dry ? 0 : rm_rf(path), what);
	}
	closedir(d);
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cleanup c = { 0 };
	int ch;

	while ((ch = getopt_long(argc, argv, "+nah", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': c.dry = true; break;
		case 'a': c.all = true; break;
		case 'h':
			cleanup_usage(stdout);
			return IG_EXIT_OK;
		default:
			cleanup_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cleanup_usage(stderr);
		return IG_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		log_warnx("cleanup: needs root (namespaces, links and nftables tables belong to root)");
		return IG_EXIT_ENV;
	}
	named_netns(&c);
	orphans(&c);
	root_links(&c);
	root_tables(&c);
	tmpdirs(&c);
	if (!c.dry && !c.removed && !c.failed)
		printf("nothing to clean up\n");
	return c.failed ? IG_EXIT_ENV : IG_EXIT_OK;
}
