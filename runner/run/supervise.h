/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes of a run: every program the runner starts (ip, the
 * simulators, the probes, a user's command, a shell) is started here, in a
 * network namespace given as a holder's pid, with PR_SET_PDEATHSIG(SIGKILL)
 * so that it dies with the runner even when the runner is SIGKILLed, and in
 * its own process group so a terminal's Ctrl-C reaches only the runner
 * (which then stops everything in order).
 *
 * Library code: returns 0/-1 with errno, never prints.
 */
#ifndef IDLEGATE_SUPERVISE_H
#define IDLEGATE_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How to start a child. Zeroed fields mean "inherit" / "none". */
struct spawn_opts {
	pid_t netns_pid;        /* enter /proc/PID/ns/net first; 0 = stay */
	const char *stdin_path; /* NULL: /dev/null */
	const char *stdout_path;/* NULL: /dev/null; "-": inherit */
	const char *stderr_path;/* NULL: /dev/null; "-": inherit */
	bool own_pidns;         /* run under a new PID namespace: when the child
				 * (its init) dies, everything it started dies */
	bool keep_pgrp;         /* stay in the caller's process group (shell) */
	char *const *envp;      /* NULL: inherit the environment */
	const struct run_user *user; /* NULL: stay root; else become this user
				 * with no capability and no_new_privs */
	unsigned long nofile;   /* 0: inherit; else raise RLIMIT_NOFILE (soft
				 * and hard) to at least this, while still root
				 * (a probe holding thousands of connections) */
};

/* An unprivileged identity for a run's processes (see session.h). */
struct run_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/*
 * In a child about to exec (or a holder): become u with no capabilities
 * (effective, permitted, inheritable, ambient and bounding sets empty),
 * no supplementary groups and no_new_privs, keeping PR_SET_PDEATHSIG
 * (which a credential change clears). 0, or -1 with errno.
 */
int drop_to_user(const struct run_user *u);

/*
 * Keep the uid, but drop every capability (effective, permitted,
 * inheritable, ambient and bounding sets) and set no_new_privs, keeping
 * PR_SET_PDEATHSIG. For the namespace holders: a runner without
 * CAP_SYS_PTRACE (a container's root) can enter the namespace of a process
 * of its own uid only. 0, or -1 with errno.
 */
int drop_capabilities(void);

/*
 * Start argv[0] (searched in PATH) with argv. The child has
 * PR_SET_PDEATHSIG(SIGKILL) and default signal dispositions and mask.
 * Returns the child's pid (the PID-namespace init's pid for own_pidns),
 * or -1 with errno (fork failure; an exec failure shows as exit status 127).
 */
pid_t spawn(char *const argv[], const struct spawn_opts *o);

/*
 * Run argv to completion in netns_pid's namespace (0 = current) with its
 * stderr captured into err (NUL-terminated, truncated to errlen), waiting at
 * most timeout_ms (then SIGKILL). Returns the exit status (0..255), 128+sig
 * when killed by a signal, or -1 with errno.
 */
int spawn_wait(char *const argv[], pid_t netns_pid, int timeout_ms, char *err, size_t errlen);

/* printf-style argv builder for spawn_wait of short commands: splits fmt's
 * result on spaces (no quoting). Same return as spawn_wait. */
int spawn_waitf(pid_t netns_pid, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Wait for pid to exit for at most timeout_ms (polling with a short sleep is
 * not used: a pidfd is polled). Returns the status as spawn_wait does, or -1
 * with errno ETIMEDOUT if it is still running, or another errno.
 */
int reap_timeout(pid_t pid, int timeout_ms);

/* Send sig, wait up to grace_ms, then SIGKILL and reap. Returns the status
 * as reap_timeout does (-1 if pid <= 0). */
int stop_child(pid_t pid, int sig, int grace_ms);

/* Read up to cap-1 bytes of the end of a file into buf (NUL-terminated);
 * "" if it is missing. Returns buf. */
/* Open a file that an unprivileged process may have written, for reading:
 * never through a symlink, never blocking on a FIFO, only a regular file.
 * NULL with errno otherwise. */
FILE *fopen_regular(const char *path);

char *file_tail(const char *path, char *buf, size_t cap);

/* Decode a wait status into spawn_wait's convention. */
int status_code(int wstatus);

#endif
