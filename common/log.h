/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One small logging API for all three programs (after OpenSMTPD's log.h).
 * log_warn()/fatal() append strerror(errno); the x variants do not.
 * Messages go to stderr prefixed with the program name.
 */
#ifndef IDLEGATE_LOG_H
#define IDLEGATE_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set the prefix (usually argv[0]'s basename) and verbosity (0 quiet .. 2 debug). */
void log_init(const char *progname, int verbose);
int log_verbosity(void);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Print and exit with status 3 (environment error); fatal() adds strerror. */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
