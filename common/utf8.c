// SPDX-License-Identifier: GPL-2.0-or-later
/* UTF-8 decoding and repair; see utf8.h. */
#include "common/utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = UTF8_BAD;
		return 1;
	}
	/* a NUL ends the loop too: it is never a continuation byte */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = UTF8_BAD;
			return 1;
		}
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = UTF8_BAD;
		return 1;
	}
	*cp = c;
	return n;
}

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char tmp[4] = { 0 };
		uint32_t cp;
		size_t n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* never read past len: decode from a zero-padded copy */
		memcpy(tmp, s + i, len - i < 4 ? len - i : 4);
		n = utf8_next(tmp, &cp);
		if (cp == UTF8_BAD)
			return false;
		i += n;
	}
	return true;
}

char *utf8_clean(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), o = 0;
	/* each bad byte grows to three */
	char *out = malloc(len * 3 + 1);

	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	while (*s) {
		uint32_t cp;
		size_t n = utf8_next(s, &cp);

		if (cp == UTF8_BAD) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else {
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
	}
	out[o] = '\0';
	return out;
}
