// SPDX-License-Identifier: GPL-2.0-or-later
/* Duration and time-scale parsing; see duration.h. */
#include "common/duration.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	uint64_t ms;
} units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

int duration_parse(const char *s, uint64_t *out)
{
	uint64_t total = 0;
	int groups = 0;
	bool sub = false;               /* a fraction of a millisecond somewhere */

	if (!s)
		goto inval;
	while (isspace((unsigned char)*s))
		s++;
	while (*s && !isspace((unsigned char)*s)) {
		uint64_t whole = 0, frac = 0, fdiv = 1, unit = 0, value;
		int digits = 0;
		size_t i, best = 0;

		while (isdigit((unsigned char)*s)) {
			uint64_t d = (uint64_t)(*s++ - '0');

			if (whole > (UINT64_MAX - d) / 10)
				goto range;
			whole = whole * 10 + d;
			digits++;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				if (fdiv < 1000000000ull) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					fdiv *= 10;
				} else if (*s != '0') {
					sub = true;
				}
				s++;
				digits++;
			}
		}
		if (!digits)
			goto inval;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			if (!strncmp(s, units[i].name, n) && n > best &&
			    !(n == 1 && s[0] == 'm' && s[1] == 's')) {
				best = n;
				unit = units[i].ms;
			}
		}
		if (!best) {
			/* a bare number is seconds, but only alone */
			if (*s && !isspace((unsigned char)*s))
				goto inval;
			if (groups)
				goto inval;
			unit = 1000;
		}
		s += best;
		/* frac < fdiv <= 10^9 and unit <= 86400000: no overflow here */
		if ((frac * unit) % fdiv)
			sub = true;     /* reported once the syntax is known good */
		if (whole > UINT64_MAX / unit)
			goto range;
		value = whole * unit;
		if (value > UINT64_MAX - frac * unit / fdiv)
			goto range;
		value += frac * unit / fdiv;
		if (total > UINT64_MAX - value)
			goto range;
		total += value;
		groups++;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s || !groups)
		goto inval;
	if (sub) {
		errno = EDOM;
		return -1;
	}
	if (total > DURATION_MAX_MS)
		goto range;
	*out = total;
	return 0;
inval:
	errno = EINVAL;
	return -1;
range:
	errno = ERANGE;
	return -1;
}

char *duration_strerror(const char *key, const char *value, int err, char *buf, size_t len)
{
	while (isspace((unsigned char)*value))
		value++;
	if (err == ERANGE)
		snprintf(buf, len, "%s: %s is above the limit of " DURATION_MAX_TEXT, key, value);
	else if (err == EDOM)
		snprintf(buf, len, "%s: '%s' is not a whole number of milliseconds", key, value);
	else
		snprintf(buf, len, "%s: '%s' is not a duration (like 350s, 2h4m, 250ms)", key, value);
	return buf;
}

int duration_parse_checked(const char *key, const char *s, bool allow_zero, uint64_t *ms,
			   char *err, size_t errlen)
{
	uint64_t v;

	if (duration_parse(s, &v) < 0) {
		int saved = errno;

		if (err)
			duration_strerror(key, s ? s : "", saved, err, errlen);
		errno = saved;
		return -1;
	}
	if (!v && !allow_zero) {
		if (err)
			snprintf(err, errlen, "%s: must be longer than 0", key);
		errno = ERANGE;
		return -1;
	}
	*ms = v;
	return 0;
}

/* "1.5" from 1500: whole seconds, and the fraction without trailing zeros */
static int format_seconds(uint64_t ms, char *buf, size_t len)
{
	unsigned long long s = ms / 1000, frac = ms % 1000;

	if (!frac)
		return snprintf(buf, len, "%llus", s);
	if (frac % 100 == 0)
		return snprintf(buf, len, "%llu.%llus", s, frac / 100);
	if (frac % 10 == 0)
		return snprintf(buf, len, "%llu.%02llus", s, frac / 10);
	return snprintf(buf, len, "%llu.%03llus", s, frac);
}

char *duration_format(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		char unit;
		uint64_t ms;
	} big[] = { { 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 } };
	size_t off = 0, i;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (ms && ms < 1000) {
		snprintf(buf, len, "%llums", (unsigned long long)ms);
		return buf;
	}
	if (ms < DURATION_SECONDS_BELOW_MS) {
		format_seconds(ms, buf, len);
		return buf;
	}
	for (i = 0; i < sizeof(big) / sizeof(big[0]) && off < len; i++) {
		uint64_t n = ms / big[i].ms;

		if (n)
			off += (size_t)snprintf(buf + off, len - off, "%llu%c", (unsigned long long)n,
						big[i].unit);
		ms %= big[i].ms;
	}
	if (ms && off < len)
		format_seconds(ms, buf + off, len - off);
	return buf;
}

uint64_t duration_round(uint64_t ms)
{
	if (ms < 1000)
		return ms;
	if (ms < 100000)
		return (ms + 50) / 100 * 100;
	return ms > UINT64_MAX - 500 ? ms / 1000 * 1000 : (ms + 500) / 1000 * 1000;
}

/* Is s (leading blanks skipped) N, N/M, Nx or N.M, with trailing blanks? */
static bool scale_shape(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (!n)
		return false;
	s += n;
	if (*s == '/' || *s == '.') {
		n = strspn(s + 1, "0123456789");
		if (!n)
			return false;
		s += 1 + n;
	} else if (*s == 'x') {
		s++;
	}
	while (isspace((unsigned char)*s))
		s++;
	return !*s;
}

int timescale_parse(const char *s, struct timescale *out)
{
	struct timescale t, *ts = &t;
	char *end;
	unsigned long a, b;

	if (!s)
		goto inval;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		goto inval;
	errno = 0;
	if (strchr(s, '.')) {
		double d = strtod(s, &end);
		const char *p;

		/* plain decimals only: no exponent, hex or inf */
		for (p = s; p < end; p++)
			if (!isdigit((unsigned char)*p) && *p != '.')
				goto inval;
		if (!(d > 0) || d > 1000)
			goto range;
		ts->num = (uint32_t)(d * 1000000 + 0.5);
		ts->den = 1000000;
		if (!ts->num)
			goto range;
		goto tail;
	}
	a = strtoul(s, &end, 10);
	if (errno || a == 0 || a > 1000000)
		goto range;
	if (*end == '/') {
		if (!isdigit((unsigned char)end[1]))
			goto inval;
		b = strtoul(end + 1, &end, 10);
		if (errno || b == 0 || b > 1000000)
			goto range;
		ts->num = (uint32_t)a;
		ts->den = (uint32_t)b;
	} else if (*end == 'x') {
		end++;
		ts->num = 1;
		ts->den = (uint32_t)a;
	} else {
		ts->num = (uint32_t)a;
		ts->den = 1;
	}
tail:
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		goto inval;
	if ((uint64_t)ts->num > (uint64_t)ts->den * 1000)
		goto range;
	*out = t;
	return 0;
range:
	/* a number out of range in a scale's shape: N, N/M, Nx or N.M */
	if (!scale_shape(s))
		goto inval;
	errno = ERANGE;
	return -1;
inval:
	errno = EINVAL;
	return -1;
}

uint64_t timescale_apply(const struct timescale *ts, uint64_t ms)
{
	/* 128 bits: a scale up to 1000 with a 10^6 denominator times a long
	 * duration does not fit in 64 */
	unsigned __int128 v = ((unsigned __int128)ms * ts->num + ts->den / 2) / ts->den;

	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}
