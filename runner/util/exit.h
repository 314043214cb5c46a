/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Exit codes of every idlegate command (documented in `idlegate --help` and
 * idlegate(1)); shared by the commands and the run layer that computes them.
 */
#ifndef IDLEGATE_EXIT_H
#define IDLEGATE_EXIT_H

enum {
	IG_EXIT_OK = 0,         /* success; every expectation met */
	IG_EXIT_FAILED = 1,     /* ran, but an expectation was not met */
	IG_EXIT_USAGE = 2,      /* bad command line, or a scenario/profile error */
	IG_EXIT_ENV = 3,        /* environment error: not root, missing tool, crash */
};

#endif
