// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A run's session: environment, private directory, signals (see session.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "common/log.h"
#include "common/safefs.h"
#include "runner/run/session.h"
#include "runner/run/supervise.h"

static int env_check(char *sim, size_t simlen, char *probe, size_t probelen, char *msg, size_t msglen)
{
	char err[256];
	int rc;

	if (geteuid() != 0) {
		snprintf(msg, msglen, "needs root: network namespaces, veth links, NFQUEUE and nftables "
			 "need CAP_SYS_ADMIN and CAP_NET_ADMIN (try: sudo idlegate ...)");
		return -1;
	}
	if (access("/proc/self/ns/net", F_OK) < 0) {
		snprintf(msg, msglen, "this kernel has no network namespaces (CONFIG_NET_NS)");
		return -1;
	}
	if (run_find_program("idlegate-sim", sim, simlen) < 0) {
		snprintf(msg, msglen, "idlegate-sim not found next to idlegate or on PATH "
			 "(build it with make, or set IDLEGATE_SIM)");
		return -1;
	}
	if (run_find_program("idlegate-probe", probe, probelen) < 0) {
		snprintf(msg, msglen, "idlegate-probe not found next to idlegate or on PATH "
			 "(build it with make, or set IDLEGATE_PROBE)");
		return -1;
	}
	rc = spawn_waitf(0, err, sizeof(err), "ip -V");
	if (rc != 0) {
		snprintf(msg, msglen, "the ip command (iproute2) %s", rc == 127 ? "is not installed" : "does not work");
		return -1;
	}
	if (access("/proc/net/netfilter/nfnetlink_queue", F_OK) < 0) {
		spawn_waitf(0, NULL, 0, "modprobe -q nfnetlink_queue");
		spawn_waitf(0, NULL, 0, "modprobe -q nft_compat");
		spawn_waitf(0, NULL, 0, "modprobe -q veth");
	}
	if (access("/proc/net/netfilter/nfnetlink_queue", F_OK) < 0) {
		snprintf(msg, msglen, "the kernel has no NFQUEUE (module nfnetlink_queue, "
			 "CONFIG_NETFILTER_NETLINK_QUEUE) and modprobe could not load it");
		return -1;
	}
	return 0;
}

const char *session_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && t[0] == '/' ? t : "/tmp";
}

/*
 * Can u pass through every directory of path? The run's unprivileged
 * processes must reach their subdirectory of the private directory.
 */
static int user_can_traverse(const struct run_user *u, const char *path, char *err, size_t errlen)
{
	char p[PATH_MAX], *slash;

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		struct stat st;
		mode_t bit;

		if (stat(p[0] ? p : "/", &st) < 0) {
			snprintf(err, errlen, "%s: %s", p[0] ? p : "/", strerror(errno));
			return -1;
		}
		bit = st.st_uid == u->uid ? S_IXUSR : st.st_gid == u->gid ? S_IXGRP : S_IXOTH;
		if (!(st.st_mode & bit)) {
			snprintf(err, errlen, "the run's processes run as %s, who cannot pass through %s "
				 "(mode %04o): set TMPDIR to a directory others can traverse, such as /tmp "
				 "(or IDLEGATE_RUN_AS to a user who can)", u->name, p[0] ? p : "/",
				 (unsigned)(st.st_mode & 07777));
			return -1;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (!p[0] || !strcmp(p, "/"))
				return 0;
			p[0] = '\0';
			continue;
		}
		*slash = '\0';
	}
}

int session_workdir(struct session *s, char *err, size_t errlen)
{
	if (s->user.name[0] && user_can_traverse(&s->user, session_tmpdir(), err, errlen) < 0) {
		s->workdir[0] = '\0';
		return -1;
	}
	if ((size_t)snprintf(s->workdir, sizeof(s->workdir), "%s/idlegate-run-%ld-XXXXXX",
			     session_tmpdir(), (long)getpid()) >= sizeof(s->workdir)) {
		snprintf(err, errlen, "$TMPDIR is too long a path");
		s->workdir[0] = '\0';
		return -1;
	}
	if (!mkdtemp(s->workdir) || chmod(s->workdir, 0711) < 0) {
		snprintf(err, errlen, "creating a directory in %s: %s", session_tmpdir(), strerror(errno));
		s->workdir[0] = '\0';
		return -1;
	}
	return 0;
}

/* Can this process make its children another user (CAP_SETUID,
 * CAP_SETGID, and CAP_CHOWN for their directory)? Root in a container run
 * with only the capabilities a run needs cannot. */
static bool can_switch_users(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint32_t need = (1u << CAP_SETUID) | (1u << CAP_SETGID) | (1u << CAP_CHOWN);

	return syscall(SYS_capget, &h, d) == 0 && (d[0].effective & need) == need;
}

/* The user a run's processes drop to: $IDLEGATE_RUN_AS, else nobody. */
static int session_user(struct session *s, char *err, size_t errlen)
{
	const char *name = getenv("IDLEGATE_RUN_AS");
	struct passwd *pw;

	if (!name || !*name)
		name = "nobody";
	pw = getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "IDLEGATE_RUN_AS: no user '%s' on this system", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "IDLEGATE_RUN_AS: '%s' is root; the run's processes need an "
			 "unprivileged user", name);
		return -1;
	}
	s->user.uid = pw->pw_uid;
	s->user.gid = pw->pw_gid;
	if (!can_switch_users()) {
		/* the container around us is then the boundary; say so once */
		static bool said;

		if (!said) {
			said = true;
			log_info("the run's processes stay root: no CAP_SETUID, CAP_SETGID and CAP_CHOWN "
				 "to make them %s", name);
		}
		return 0;
	}
	snprintf(s->user.name, sizeof(s->user.name), "%s", name);
	return 0;
}

int session_open(struct session *s, bool workdir, char *err, size_t errlen)
{
	sigset_t mask;

	memset(s, 0, sizeof(*s));
	s->sigfd = -1;
	if (env_check(s->sim, sizeof(s->sim), s->probe, sizeof(s->probe), err, errlen) < 0)
		return -1;
	if (session_user(s, err, errlen) < 0)
		return -1;
	snprintf(s->prefix, sizeof(s->prefix), "ig-%ld", (long)getpid());
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &s->old);
	s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &s->old, NULL);
		return -1;
	}
	if (workdir && session_workdir(s, err, errlen) < 0) {
		session_close(s);
		return -1;
	}
	return 0;
}

void session_run_opts(const struct session *s, struct run_opts *o)
{
	o->sim_path = s->sim;
	o->probe_path = s->probe;
	o->workdir = s->workdir;
	o->name_prefix = s->prefix;
	o->sigfd = s->sigfd;
	o->user = s->user.name[0] ? &s->user : NULL;
}

int session_signal(const struct session *s)
{
	struct signalfd_siginfo si;

	if (s->sigfd >= 0 && read(s->sigfd, &si, sizeof(si)) == sizeof(si))
		return (int)si.ssi_signo;
	return 0;
}

void session_close(struct session *s)
{
	if (s->workdir[0] && !getenv("IDLEGATE_KEEP_FILES") &&
	    safefs_remove_private_path(s->workdir, geteuid()) < 0)
		log_warn("could not remove %s", s->workdir);
	s->workdir[0] = '\0';
	if (s->sigfd >= 0) {
		close(s->sigfd);
		s->sigfd = -1;
		sigprocmask(SIG_SETMASK, &s->old, NULL);
	}
}

void print_diags(const struct ini_diags *dg)
{
	char buf[PATH_MAX + 800];       /* the whole path, then the message */

	for (size_t i = 0; i < dg->n; i++) {
		fprintf(stderr, "%s\n", ini_diag_format(dg, i, buf, sizeof(buf)));
		if (dg->d[i].hint[0])
			fprintf(stderr, "    hint: %s\n", dg->d[i].hint);
	}
	if (dg->dropped)
		fprintf(stderr, "%s: ... and %zu more problems\n", dg->file, dg->dropped);
}
