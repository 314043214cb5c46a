/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Durations with units and time-scale fractions, as written in scenario and
 * profile files and on command lines.
 */
#ifndef IDLEGATE_DURATION_H
#define IDLEGATE_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest duration any path accepts (profile, scenario, --set, control
 * socket, probe): 24 days, just under 2^31 ms. The engine keeps some times
 * as 32-bit millisecond offsets compared by signed difference (a NAT port's
 * hold), and adds durations to a monotonic millisecond clock (now + timeout,
 * now + delay, now + blackhole); below 2^31 ms neither can wrap, and the
 * timer wheel's 2^36 ms horizon is far beyond it.
 */
#define DURATION_MAX_MS (24ull * 86400000)
#define DURATION_MAX_TEXT "24d"

/*
 * Parse a duration into milliseconds. Accepted: a sequence of number+unit
 * groups ("250ms", "350s", "2h4m", "1.5s", "1m30s", ".5s"); units ms s m h d,
 * lower case, in any order. A bare number alone is seconds ("7", "0", "1.5");
 * after a unit it is an error ("1s2"). Whitespace around the value is
 * ignored; inside it is an error ("2h 4m", "5 s"). No sign.
 * Returns 0 with *ms set, or -1 with errno EINVAL (syntax), ERANGE (above
 * DURATION_MAX_MS) or EDOM (a fraction of a millisecond, as in "1.0001ms");
 * *ms is untouched on error.
 */
int duration_parse(const char *s, uint64_t *ms);

/*
 * The one-line explanation of a duration_parse() failure with errno err,
 * for the value of `key` (printed first, as "key: ..."): "tcp.established:
 * 18446744073709551615ms is above the limit of 24d", "...: '1.5ms' is not a
 * whole number of milliseconds", "...: 'soon' is not a duration (like 350s,
 * 2h4m, 250ms)". Returns buf.
 */
char *duration_strerror(const char *key, const char *value, int err, char *buf, size_t len);

/*
 * Parse and range-check: duration_parse(), then 0 is refused unless
 * allow_zero. Returns 0, or -1 with errno and the explanation in err (if
 * not NULL): the rules every caller shares.
 */
int duration_parse_checked(const char *key, const char *s, bool allow_zero, uint64_t *ms,
			   char *err, size_t errlen);

/*
 * Below this, whole and fractional seconds are written as seconds ("350s",
 * "400.5s"), as vendors and scenario files quote timeouts; from here on in
 * days, hours, minutes and seconds ("16m40s", "2h4m", "5d").
 */
#define DURATION_SECONDS_BELOW_MS 1000000ull

/*
 * Format milliseconds into buf the one way every output writes a duration,
 * the way a scenario file would: "0s", "250ms" (below a second), "1.5s",
 * "350s", "999.999s" (below DURATION_SECONDS_BELOW_MS), "16m40s", "2h4m",
 * "1h0.5s", "5d", "24d". duration_parse() reads every output back to the
 * same value. Truncated to len - 1 characters if needed. Returns buf.
 */
char *duration_format(uint64_t ms, char *buf, size_t len);

/*
 * A measured duration to the precision people read: exact below a second,
 * to 0.1 s below 100 s, to the second above (halves up). For
 * duration_format() of a measurement ("expired after 350s idle", not
 * "350.004s"); configured values are formatted exact.
 */
uint64_t duration_round(uint64_t ms);

/*
 * A time scale: "1/50", "0.02", "1" or "50x" (meaning 1/50). Stored as a
 * fraction num/den with both > 0 and num <= den*1000 (a scale of at most
 * 1000); integers up to 1000000, plain decimals rounded to 6 places.
 * Returns 0, or -1 with errno EINVAL (not a scale), ERANGE (a scale's
 * shape with a value out of range: 0, above 1000, or a number above
 * 1000000); *ts untouched.
 */
struct timescale {
	uint32_t num, den;
};
int timescale_parse(const char *s, struct timescale *ts);
/* ms scaled, rounded to the nearest millisecond (halves up); saturates at
 * UINT64_MAX. */
uint64_t timescale_apply(const struct timescale *ts, uint64_t ms);

#endif
