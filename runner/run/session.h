/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pieces shared by the commands that build networks (run, shell, cleanup):
 * the environment check behind exit status 3, printing a scenario's
 * diagnostics, and removing a run's private directory.
 */
#ifndef IDLEGATE_CMD_COMMON_H
#define IDLEGATE_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "common/iniread.h"

/* --keep of `idlegate run` (read by its workers). */
extern bool cmd_keep_flag;

/*
 * Is everything a run needs here? Root, iproute2, idlegate-sim and
 * idlegate-probe (their paths into sim/probe), nfnetlink_queue. Returns 0,
 * or -1 with what is missing, in words, in msg.
 */
int run_env_check(char *sim, size_t simlen, char *probe, size_t probelen, char *msg, size_t msglen);

/* Where runs keep their private directories: $TMPDIR, else /tmp. Each is
 * named idlegate-run-PID-XXXXXX after the process that made it, so
 * `idlegate cleanup` can tell a dead run's directory from a live one's. */
const char *run_tmpdir(void);

/* Make this process's private directory (mode 0700) under run_tmpdir(),
 * its path into dir. 0, or -1 with errno. */
int run_workdir_make(char *dir, size_t len);
/* Remove it again, unless IDLEGATE_KEEP_FILES is set (for debugging):
 * safely (common/safefs.h), and only while it is still a 0700 directory of
 * this uid. */
void run_workdir_remove(const char *dir);

/* Every problem of a scenario file on stderr, with hints. */
void print_diags(const struct ini_diags *dg);

#endif
