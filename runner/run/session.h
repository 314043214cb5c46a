/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every command that builds networks (run and its workers, shell, the
 * sweeps of tune and discover) sets up once, in one place: the environment
 * check behind exit status 3, the private directory (mkdtemp, 0700, named
 * after the process so `idlegate cleanup` can tell a dead run's from a live
 * one's), and the signals that end a run (SIGINT, SIGTERM, SIGHUP, SIGQUIT)
 * blocked and readable on a signalfd that the run's poll loops watch.
 */
#ifndef IDLEGATE_SESSION_H
#define IDLEGATE_SESSION_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/iniread.h"
#include "runner/run/run.h"

struct session {
	char sim[PATH_MAX], probe[PATH_MAX];    /* the programs */
	char workdir[PATH_MAX];                 /* "" until session_workdir() */
	char prefix[64];                        /* "ig-PID": names for --keep, shell */
	int sigfd;                              /* -1 until session_open() */
	sigset_t old;                           /* the mask to restore */
};

/*
 * Check the environment (root, iproute2, idlegate-sim and idlegate-probe,
 * nfnetlink_queue), block the signals that end a run and open their
 * signalfd; with workdir, also make the private directory. Returns 0, or
 * -1 with what is wrong, in words, in err (nothing left to undo).
 */
int session_open(struct session *s, bool workdir, char *err, size_t errlen);

/*
 * Make this process's private directory (mode 0700) under session_tmpdir();
 * a forked worker calls it for its own. 0, or -1 with the reason in err.
 */
int session_workdir(struct session *s, char *err, size_t errlen);

/* The run options that come from the session (programs, directory, names,
 * signalfd); the caller adds progress and keep. */
void session_run_opts(const struct session *s, struct run_opts *o);

/* The signal that arrived on the signalfd (consumed), or 0. */
int session_signal(const struct session *s);

/* Remove the private directory (unless IDLEGATE_KEEP_FILES is set; only
 * while it is still a 0700 directory of this uid, through common/safefs.h),
 * close the signalfd and restore the signal mask. Idempotent. */
void session_close(struct session *s);

/* Where runs keep their private directories: $TMPDIR, else /tmp. Each is
 * named idlegate-run-PID-XXXXXX after the process that made it. */
const char *session_tmpdir(void);

/* Every problem of a scenario file on stderr, with hints. */
void print_diags(const struct ini_diags *dg);

#endif
