/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Durations with units and time-scale fractions, as written in scenario and
 * profile files and on command lines.
 */
#ifndef IDLEGATE_DURATION_H
#define IDLEGATE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration into milliseconds. Accepted: a sequence of number+unit
 * groups ("250ms", "350s", "2h4m", "1.5s", "1m30s"); units ms s m h d. A bare
 * number is seconds. Whitespace around the value is ignored.
 * Returns 0, or -1 with errno EINVAL (syntax) or ERANGE (overflow or a
 * fraction of a millisecond).
 */
int duration_parse(const char *s, uint64_t *ms);

/*
 * Format milliseconds compactly ("350s", "2h4m", "250ms", "1.5s") into buf.
 * Returns buf.
 */
char *duration_format(uint64_t ms, char *buf, size_t len);

/*
 * A time scale: "1/50", "0.02", "1" or "50x" (meaning 1/50). Stored as a
 * fraction num/den with both > 0 and num <= den*1000.
 * Returns 0, or -1 with errno EINVAL.
 */
struct timescale {
	uint32_t num, den;
};
int timescale_parse(const char *s, struct timescale *ts);
/* ms scaled (rounded to nearest millisecond). */
uint64_t timescale_apply(const struct timescale *ts, uint64_t ms);

#endif
