// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging to stderr; see log.h. */
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_prog = "idlegate";
static int log_verbose = 1;

void log_init(const char *progname, int verbose)
{
	const char *slash = progname ? strrchr(progname, '/') : NULL;

	if (progname)
		log_prog = slash ? slash + 1 : progname;
	log_verbose = verbose;
}

int log_verbosity(void)
{
	return log_verbose;
}

static void vlog(const char *fmt, va_list ap, int with_errno)
{
	int saved = errno;
	char buf[PATH_MAX + 1024];      /* a whole path and what is said of it */

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s: %s: %s\n", log_prog, buf, strerror(saved));
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
	errno = saved;
}

#define LOG_BODY(with_errno)           \
	do {                           \
		va_list ap;            \
		va_start(ap, fmt);     \
		vlog(fmt, ap, with_errno); \
		va_end(ap);            \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(0); }

void log_info(const char *fmt, ...)
{
	if (log_verbose >= 1)
		LOG_BODY(0);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbose >= 2)
		LOG_BODY(0);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY(1);
	exit(3);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(0);
	exit(3);
}
