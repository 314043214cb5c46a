/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop's timer: a timerfd armed at the absolute CLOCK_MONOTONIC
 * time of the engine's next deadline (no rounding of a relative timeout to
 * whole milliseconds, no timer slack), and a record of how late each
 * deadline was served: the time from a deadline to the engine_advance()
 * that handled it, as a histogram, and the parts it is made of (how late
 * the alarm woke the loop; the longest receive between two looks at the
 * clock). The control socket's "stats" shows the record as "timers".
 */
#ifndef IDLEGATE_LOOPTIMER_H
#define IDLEGATE_LOOPTIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Histogram bounds of the lateness, in microseconds: late[i] counts the
 * deadlines served less than LOOPTIMER_BOUNDS[i] late (the last: any later). */
#define LOOPTIMER_BUCKETS 6
extern const uint32_t LOOPTIMER_BOUNDS[LOOPTIMER_BUCKETS - 1];

struct looptimer_stats {
	uint64_t wakes;                 /* times the loop woke (the caller counts) */
	uint64_t served;                /* deadlines handled */
	uint64_t late[LOOPTIMER_BUCKETS];
	uint64_t late_max_us;           /* the latest deadline */
	uint64_t wake_late_max_us;      /* the latest served on waking up */
	uint64_t rx_max_us;             /* longest receive between two ticks */
};

struct looptimer {
	int fd;                         /* timerfd, CLOCK_MONOTONIC */
	uint64_t armed_ms;              /* absolute; UINT64_MAX: disarmed */
	uint64_t due_ms;                /* the deadline the loop waits for */
	bool slept;                     /* armed, and no tick since */
	struct looptimer_stats st;
};

/* Returns 0, or -1 with errno. */
int looptimer_open(struct looptimer *lt);
void looptimer_close(struct looptimer *lt);

/* The loop looked at the clock (now_ns) and served the engine: if the
 * deadline it waited for was due, how late it was served is recorded (also
 * as a wake-up's lateness if this is the first tick since the loop waited);
 * the next one is next_ms (absolute; UINT64_MAX: none). */
void looptimer_serve(struct looptimer *lt, uint64_t now_ns, uint64_t next_ms);
/* Before waiting: arm the timerfd for the next deadline (a system call
 * only when it changed). Returns 0, or -1 with errno. */
int looptimer_arm(struct looptimer *lt);
/* The timerfd is readable: consume it. */
void looptimer_ack(struct looptimer *lt);
/* A receive that ran from start_ns to end_ns without a tick between. */
void looptimer_rx(struct looptimer *lt, uint64_t start_ns, uint64_t end_ns);

#endif
