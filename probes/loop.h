/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the probe client's and server's event loops share: signals read from
 * a signalfd in the loop (never handled in a handler), and the epoll_wait
 * timeout for the earliest of their timers. Times are CLOCK_MONOTONIC
 * milliseconds, read by the caller.
 */
#ifndef IDLEGATE_PROBE_LOOP_H
#define IDLEGATE_PROBE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Block SIGINT, SIGTERM, SIGHUP and SIGUSR1 and return a nonblocking
 * signalfd that reads them; SIGPIPE is ignored (sends report EPIPE
 * instead). Returns the fd (caller closes it), or -1 with errno.
 */
int probe_loop_signalfd_open(void);

/* What the signals read from the signalfd ask for. */
enum loop_signal {
	LOOP_SIG_NONE = 0,
	LOOP_SIG_FINISH,        /* SIGUSR1 alone: the caller has its answer */
	LOOP_SIG_STOP,          /* SIGINT, SIGTERM or SIGHUP: stop now */
};

/*
 * Read every signal pending on sfd, logging each. Returns the strongest
 * request among them (LOOP_SIG_NONE if none arrived).
 */
enum loop_signal probe_loop_signals_read(int sfd);

/* The earlier of the timer t and the timer at (0: not armed). */
uint64_t probe_loop_timer_min(uint64_t t, uint64_t at);

/*
 * The epoll_wait timeout (ms) at now for the earliest timer t (UINT64_MAX:
 * none, wait forever): 0 when due, at most 60 s.
 */
int probe_loop_timeout(uint64_t t, uint64_t now);

#endif
