// SPDX-License-Identifier: GPL-2.0-or-later
/* The parts of the probe's event loops that client and server share; see loop.h. */
#include "probes/loop.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"

/* A timeout long enough not to spin, short enough that a clock oddity heals. */
#define LOOP_MAX_WAIT_MS 60000

int probe_loop_signalfd_open(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

enum loop_signal probe_loop_signals_read(int sfd)
{
	struct signalfd_siginfo si;
	enum loop_signal got = LOOP_SIG_NONE;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		enum loop_signal s = si.ssi_signo == SIGUSR1 ? LOOP_SIG_FINISH : LOOP_SIG_STOP;

		log_info("signal %u: %s", si.ssi_signo, s == LOOP_SIG_FINISH ? "finishing" : "stopping");
		if (s > got)
			got = s;
	}
	return got;
}

uint64_t probe_loop_timer_min(uint64_t t, uint64_t at)
{
	return at && at < t ? at : t;
}

int probe_loop_timeout(uint64_t t, uint64_t now)
{
	if (t == UINT64_MAX)
		return -1;
	if (t <= now)
		return 0;
	return t - now > LOOP_MAX_WAIT_MS ? LOOP_MAX_WAIT_MS : (int)(t - now);
}
