// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting and stopping the run's child processes so that none can outlive
 * the runner: PR_SET_PDEATHSIG(SIGKILL) in every child, and for user
 * commands (which may start their own children) a PID namespace whose init
 * is ours, so the whole tree goes when that init goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/mtime.h"
#include "runner/run/supervise.h"

int status_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

static void child_signals_default(void)
{
	sigset_t all;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static void redirect(int fd, const char *path, int flags)
{
	int f;

	if (path && !strcmp(path, "-"))
		return;
	f = open(path ? path : "/dev/null", flags | O_CLOEXEC, 0600);
	if (f < 0)
		_exit(126);
	if (dup2(f, fd) < 0)
		_exit(126);
	close(f);
}

/* In the child: everything before exec. Exits 126 on failure. */
static void child_setup(const struct spawn_opts *o, pid_t parent)
{
	/* In a new PID namespace the parent is outside it: getppid() is 0. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != (o->own_pidns ? 0 : parent))
		_exit(126);
	if (!o->keep_pgrp)
		setpgid(0, 0);
	if (o->netns_pid > 0) {
		char p[64];
		int fd;

		snprintf(p, sizeof(p), "/proc/%ld/ns/net", (long)o->netns_pid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		close(fd);
	}
	redirect(0, o->stdin_path, O_RDONLY);
	redirect(1, o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
	redirect(2, o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
	if (o->nofile) {
		struct rlimit rl;

		/* raising the hard limit needs CAP_SYS_RESOURCE: before the
		 * drop. Without it (a container) the probe has what it has,
		 * and a connection beyond it ends as an error saying EMFILE. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < o->nofile) {
			rl.rlim_cur = rl.rlim_max = o->nofile;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
		}
	}
	/* after the namespace and the files, which need root */
	if (o->user && (drop_to_user(o->user) < 0 ||
			getppid() != (o->own_pidns ? 0 : parent)))
		_exit(126);
}

int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &h, d) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int drop_to_user(const struct run_user *u)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	int pdeath = 0;

	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) < 0)
		return -1;
	/* the bounding set needs CAP_SETPCAP, which setresuid takes away */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -1;
	/* leaving uid 0 empties effective, permitted and ambient; inheritable too */
	if (syscall(SYS_capset, &h, d) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	/* a change of credentials clears the parent-death signal */
	return prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0);
}

static void do_exec(char *const argv[], char *const *envp) __attribute__((noreturn));
static void do_exec(char *const argv[], char *const *envp)
{
	if (envp)
		execvpe(argv[0], argv, envp);
	else
		execvp(argv[0], argv);
	_exit(127);
}

/*
 * pid 1 of a new PID namespace: start the command as pid 2, pass SIGTERM,
 * SIGINT and SIGHUP on to its process group, and exit with its status;
 * the kernel then kills whatever else is left in the namespace.
 */
static void mini_init(char *const argv[], char *const *envp) __attribute__((noreturn));
static void mini_init(char *const argv[], char *const *envp)
{
	sigset_t set;
	pid_t cmd;
	int sig, ws;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	cmd = fork();
	if (cmd < 0)
		_exit(126);
	if (cmd == 0) {
		setpgid(0, 0);
		child_signals_default();
		do_exec(argv, envp);
	}
	setpgid(cmd, cmd);
	for (;;) {
		pid_t w;

		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGCHLD) {
			kill(-cmd, sig);
			kill(cmd, sig);
			continue;
		}
		while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
			if (w == cmd)
				_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
		}
	}
}

pid_t spawn(char *const argv[], const struct spawn_opts *o)
{
	static const struct spawn_opts none;
	pid_t parent = getpid(), pid;

	if (!o)
		o = &none;
	if (o->own_pidns)
		pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	else
		pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		if (!o->keep_pgrp)
			setpgid(pid, pid);      /* no race with the child's own call */
		return pid;
	}
	{
		/* A program to run as the run user is opened while still root:
		 * it may live where that user cannot reach (a build tree in a
		 * 0700 directory), and execveat on the descriptor needs only
		 * the file's own execute permission. */
		int exe = o->user && strchr(argv[0], '/') ? open(argv[0], O_PATH | O_CLOEXEC) : -1;

		child_setup(o, parent);
		if (o->own_pidns)
			mini_init(argv, o->envp);
		child_signals_default();
		if (exe >= 0) {
			extern char **environ;

			syscall(SYS_execveat, exe, "", argv, o->envp ? o->envp : environ, AT_EMPTY_PATH);
			_exit(127);
		}
		do_exec(argv, o->envp);
	}
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int reap_timeout(pid_t pid, int timeout_ms)
{
	int ws, fd;
	pid_t w;

	w = waitpid(pid, &ws, WNOHANG);
	if (w == pid)
		return status_code(ws);
	if (w < 0)
		return -1;
	fd = pidfd_of(pid);
	if (fd < 0)
		return -1;
	if (timeout_ms != 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc;

		do
			rc = poll(&p, 1, timeout_ms);
		while (rc < 0 && errno == EINTR);
	}
	close(fd);
	w = waitpid(pid, &ws, WNOHANG);
	if (w == pid)
		return status_code(ws);
	if (w == 0)
		errno = ETIMEDOUT;
	return -1;
}

int stop_child(pid_t pid, int sig, int grace_ms)
{
	int rc;

	if (pid <= 0)
		return -1;
	rc = reap_timeout(pid, 0);
	if (rc >= 0)
		return rc;
	kill(pid, sig);
	rc = reap_timeout(pid, grace_ms);
	if (rc >= 0 || errno != ETIMEDOUT)
		return rc;
	kill(pid, SIGKILL);
	return reap_timeout(pid, -1);
}

int spawn_wait(char *const argv[], pid_t netns_pid, int timeout_ms, char *err, size_t errlen)
{
	int pfd[2], rc = -1;
	size_t off = 0;
	uint64_t deadline = mtime_ms() + (uint64_t)timeout_ms;
	pid_t parent = getpid(), pid;

	if (err && errlen)
		err[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		struct spawn_opts o = { .netns_pid = netns_pid, .stdout_path = NULL,
					.stderr_path = "-" };

		dup2(pfd[1], 2);
		child_setup(&o, parent);
		child_signals_default();
		do_exec(argv, NULL);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t now = mtime_ms();
		char tmp[512];
		ssize_t n;

		if (now >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		n = read(pfd[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (err && errlen > 1) {
			size_t k = (size_t)n;

			if (off + k > errlen - 1)
				k = errlen - 1 - off;
			memcpy(err + off, tmp, k);
			off += k;
			err[off] = '\0';
		}
	}
	close(pfd[0]);
	{
		uint64_t now = mtime_ms();

		rc = reap_timeout(pid, now < deadline ? (int)(deadline - now) : 0);
		if (rc < 0 && errno == ETIMEDOUT) {
			kill(pid, SIGKILL);
			reap_timeout(pid, -1);
			errno = ETIMEDOUT;
			rc = -1;
		}
	}
	while (err && off && (err[off - 1] == '\n' || err[off - 1] == ' '))
		err[--off] = '\0';
	return rc;
}

int spawn_waitf(pid_t netns_pid, char *err, size_t errlen, const char *fmt, ...)
{
	char line[1024], *argv[64], *save = NULL, *tok;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (tok = strtok_r(line, " ", &save); tok && n + 1 < 64; tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	if (!n) {
		errno = EINVAL;
		return -1;
	}
	return spawn_wait(argv, netns_pid, 10000, err, errlen);
}

FILE *fopen_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 || !(f = fdopen(fd, "r"))) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return f;
}

char *file_tail(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen_regular(path);
	long sz;
	size_t n;

	buf[0] = '\0';
	if (!f)
		return buf;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > (long)(cap - 1))
		fseek(f, sz - (long)(cap - 1), SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	fclose(f);
	return buf;
}
