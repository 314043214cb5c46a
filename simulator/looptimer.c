// SPDX-License-Identifier: GPL-2.0-or-later
/* The event loop's timer and its lateness record; see looptimer.h. */
#include "simulator/looptimer.h"

#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

const uint32_t LOOPTIMER_BOUNDS[LOOPTIMER_BUCKETS - 1] = { 1000, 2000, 5000, 10000, 50000 };

#define NS_PER_MS 1000000u
#define NS_PER_US 1000u

int looptimer_open(struct looptimer *lt)
{
	memset(lt, 0, sizeof(*lt));
	lt->armed_ms = lt->due_ms = UINT64_MAX;
	lt->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return lt->fd < 0 ? -1 : 0;
}

void looptimer_close(struct looptimer *lt)
{
	if (lt->fd >= 0)
		close(lt->fd);
	lt->fd = -1;
}

static inline void raise_max(uint64_t *max, uint64_t v)
{
	if (v > *max)
		*max = v;
}

/* How far past the deadline at_ms now_ns is, in µs (0: not past it). */
static uint64_t past_us(uint64_t at_ms, uint64_t now_ns)
{
	uint64_t at_ns = at_ms * NS_PER_MS;

	return now_ns > at_ns ? (now_ns - at_ns) / NS_PER_US : 0;
}

void looptimer_serve(struct looptimer *lt, uint64_t now_ns, uint64_t next_ms)
{
	uint64_t late;
	unsigned b;

	if (lt->due_ms != UINT64_MAX && now_ns >= lt->due_ms * NS_PER_MS) {
		late = past_us(lt->due_ms, now_ns);
		for (b = 0; b < LOOPTIMER_BUCKETS - 1 && late >= LOOPTIMER_BOUNDS[b]; b++)
			;
		lt->st.late[b]++;
		lt->st.served++;
		raise_max(&lt->st.late_max_us, late);
		if (lt->slept)
			raise_max(&lt->st.wake_late_max_us, late);
	}
	lt->slept = false;
	lt->due_ms = next_ms;
}

int looptimer_arm(struct looptimer *lt)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	lt->slept = true;
	if (lt->due_ms == lt->armed_ms)
		return 0;
	if (lt->due_ms != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(lt->due_ms / 1000);
		its.it_value.tv_nsec = (long)(lt->due_ms % 1000) * NS_PER_MS;
	}
	if (timerfd_settime(lt->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -1;
	lt->armed_ms = lt->due_ms;
	return 0;
}

void looptimer_ack(struct looptimer *lt)
{
	uint64_t n;

	/* nothing to read if it was re-armed meanwhile */
	if (read(lt->fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		lt->armed_ms = UINT64_MAX;      /* a one-shot timer is disarmed once it fired */
}

void looptimer_rx(struct looptimer *lt, uint64_t start_ns, uint64_t end_ns)
{
	if (end_ns > start_ns)
		raise_max(&lt->st.rx_max_us, (end_ns - start_ns) / NS_PER_US);
}
