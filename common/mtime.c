// SPDX-License-Identifier: GPL-2.0-or-later
/* Monotonic clock helpers; see mtime.h. */
#include "common/mtime.h"

#include <time.h>

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mtime_ns(void) { return read_ns(CLOCK_MONOTONIC); }
uint64_t mtime_ms(void) { return read_ns(CLOCK_MONOTONIC) / 1000000ull; }
uint64_t mtime_wall_ms(void) { return read_ns(CLOCK_REALTIME) / 1000000ull; }
