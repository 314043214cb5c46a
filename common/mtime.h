/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Monotonic time in milliseconds and nanoseconds. Intervals are never taken
 * from the wall clock; event loops read this once per iteration and pass it on.
 */
#ifndef IDLEGATE_MTIME_H
#define IDLEGATE_MTIME_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds / nanoseconds. */
uint64_t mtime_ms(void);
uint64_t mtime_ns(void);
/* CLOCK_REALTIME in milliseconds, for timestamps in reports only. */
uint64_t mtime_wall_ms(void);

#endif
