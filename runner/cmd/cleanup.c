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
 *   - directories $TMPDIR/idlegate-run-PID-* whose PID is gone, and only
 *     if they are 0700/0711 directories of this uid (what mkdtemp made); a
 *     look-alike someone else made in a shared /tmp is left, with a message
 *
 * "Gone" means no live process of that PID with idlegate's name: a zombie
 * (a SIGKILLed runner not yet reaped) is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/safefs.h"
#include "runner/run/session.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/run/supervise.h"

struct cleanup {
	bool dry, all;
	unsigned removed, failed, refused;
};

static void cleanup_usage(FILE *f)
{
	fprintf(f, "usage: idlegate cleanup [-n] [--all]\n\n"
		"Remove what a killed run of idlegate (or an older version) could have left:\n"
		"namespaces named ig-*, the processes in them, orphaned idlegate-sim and\n"
		"idlegate-probe processes that a gone run started, ig-* links and\n"
		"idlegate_* nftables tables in the root namespace, and idlegate-run-*\n"
		"directories in $TMPDIR or /tmp.\n"
		"Things that belong to a run still going are left alone, and so is a\n"
		"directory that idlegate did not make (not a 0700/0711 directory of this user).\n\n"
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

/*
 * Is pid a live process called comm? A zombie is not: a SIGKILLed runner
 * stays one until its parent reaps it, and kill(pid, 0) succeeds on it.
 */
static bool proc_alive(long pid, const char *comm)
{
	char p[64], stat[512], *open, *close;

	if (pid <= 0)
		return false;
	snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
	if (!read_small(p, stat, sizeof(stat)))
		return false;
	/* "PID (COMM) STATE ...": COMM may hold spaces and parentheses */
	open = strchr(stat, '(');
	close = strrchr(stat, ')');
	if (!open || !close || close < open || close[1] != ' ')
		return false;
	*close = '\0';
	if (strcmp(open + 1, comm))
		return false;
	return close[2] != 'Z' && close[2] != 'X' && close[2] != 'x';
}

/* Is pid a running idlegate (the runner or a worker)? */
static bool idlegate_alive(long pid)
{
	return proc_alive(pid, "idlegate");
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
		char *argv[] = { "ip", "netns", "delete", e->d_name, NULL };
		did(c, c->dry ? 0 : spawn_wait(argv, 0, 10000, msg, sizeof(msg)), what);
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
		char *argv[] = { "ip", "link", "delete", e->d_name, NULL };
		did(c, c->dry ? 0 : spawn_wait(argv, 0, 10000, msg, sizeof(msg)), what);
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
		pid = pid_after(name, "idlegate_");       /* the simulator that owns it */
		if (pid < 0 || (!c->all && proc_alive(pid, "idlegate-sim")))
			continue;
		snprintf(what, sizeof(what), "nftables table %s %s", fam, name);
		char *argv[] = { "nft", "delete", "table", fam, name, NULL };
		did(c, c->dry ? 0 : spawn_wait(argv, 0, 10000, msg, sizeof(msg)), what);
	}
}

/*
 * Run directories: only those this uid made with mkdtemp (a 0700/0711 directory
 * of ours, not a symlink); anyone can create a look-alike in a shared /tmp,
 * and its contents are removed relative to directory descriptors, so a
 * component swapped for a symlink mid-walk is never followed.
 */
static void tmpdirs(struct cleanup *c)
{
	const char *base = session_tmpdir();
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (bfd < 0)
		return;
	d = fdopendir(fcntl(bfd, F_DUPFD_CLOEXEC, 0));
	if (!d) {
		close(bfd);
		return;
	}
	while ((e = readdir(d))) {
		char what[PATH_MAX + 32];
		long pid = pid_after(e->d_name, "idlegate-run-");
		struct stat st;
		int fd;

		if (pid < 0 || (!c->all && idlegate_alive(pid)))
			continue;
		snprintf(what, sizeof(what), "directory %s/%s", base, e->d_name);
		fd = safefs_open_private_dir(bfd, e->d_name, geteuid(), &st);
		if (fd < 0) {
			if (errno == EPERM)
				printf("left %s: not made by idlegate (owner uid %ld, mode %04o; "
				       "a run's directory is its own uid's, mode 0700 or 0711)\n",
				       what, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
			else if (errno == ELOOP || errno == ENOTDIR)
				printf("left %s: not a directory (a symlink or a file)\n", what);
			else if (errno != ENOENT)
				printf("left %s: %s\n", what, strerror(errno));
			c->refused++;
			continue;
		}
		close(fd);
		did(c, c->dry ? 0 : safefs_remove_private_dir(bfd, e->d_name, geteuid()), what);
	}
	closedir(d);
	close(bfd);
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cleanup c = { 0 };
	int ch;

	while ((ch = getopt_long(argc, argv, "+nahq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
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
	if (!c.dry && !c.removed && !c.failed && !c.refused)
		printf("nothing to clean up\n");
	return c.failed ? IG_EXIT_ENV : IG_EXIT_OK;
}
