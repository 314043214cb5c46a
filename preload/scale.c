// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libidlegate-scale.so: LD_PRELOADed into a command flow's programs when
 * the flow has scale_program = yes. The kernel's TCP timers are not
 * touched by libfaketime (which speeds up the program's own clocks, sleeps
 * and poll timeouts), so the keepalive values a program sets with
 * setsockopt are scaled here, by IDLEGATE_SCALE = NUM/DEN (e.g. 1/20):
 * TCP_KEEPIDLE and TCP_KEEPINTVL (whole seconds, at least 1) and
 * TCP_USER_TIMEOUT (ms, at least 1). Everything else passes unchanged.
 *
 * What this cannot reach: retransmission timers, a static binary, a
 * program that resets LD_PRELOAD (sshd's sessions). docs/running.md.
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

static unsigned long scale_num, scale_den;

__attribute__((constructor)) static void scale_init(void)
{
	const char *s = getenv("IDLEGATE_SCALE");
	char *end;

	if (!s)
		return;
	scale_num = strtoul(s, &end, 10);
	if (*end != '/' || !scale_num)
		return;
	scale_den = strtoul(end + 1, &end, 10);
	if (*end || !scale_den)
		scale_num = scale_den = 0;
}

/* v scaled by NUM/DEN, rounded, never below 1 */
static int scaled(int v)
{
	unsigned long long r;

	if (v <= 0 || !scale_den)
		return v;
	r = ((unsigned long long)v * scale_num + scale_den / 2) / scale_den;
	return r ? (int)r : 1;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_fn next;
	int v;

	if (!next)
		next = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	if (!next)
		return -1;
	if (level == IPPROTO_TCP && val && len == sizeof(int) &&
	    (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL || name == TCP_USER_TIMEOUT)) {
		v = scaled(*(const int *)val);
		return next(fd, level, name, &v, len);
	}
	return next(fd, level, name, val, len);
}
