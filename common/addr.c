// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Addresses as every part of idlegate keys and prints them (see addr.h).
 */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

void addr_from_v4(union addr *a, const uint8_t v4[4])
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

bool addr_is_v4(const union addr *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

const char *addr_format(const union addr *a, char *buf, size_t len)
{
	const char *r;

	if (addr_is_v4(a))
		r = inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)len);
	else
		r = inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
	if (!r && len > 0) {
		/* Too small a buffer: say so rather than leave garbage. */
		buf[0] = '\0';
		if (len > 1)
			buf[0] = '?', buf[1] = '\0';
	}
	return buf;
}

int addr_parse(const char *s, union addr *a)
{
	uint8_t v4[4];

	if (s && inet_pton(AF_INET, s, v4) == 1) {
		addr_from_v4(a, v4);
		return 0;
	}
	if (s && inet_pton(AF_INET6, s, a->b) == 1)
		return 0;
	errno = EINVAL;
	return -1;
}
