/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The address type shared by the engine's flow keys, the policy
 * (nat.address) and the runner: IPv4 and IPv6 in one 16-byte form.
 */
#ifndef IDLEGATE_ADDR_H
#define IDLEGATE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 address is stored as ::ffff:a.b.c.d (v4-mapped) so keys compare alike. */
union addr {
	uint8_t b[16];
	uint32_t w[4];
	uint64_t q[2];
};

/* The flow-key form of an address from 4 bytes of an IPv4 header. */
void addr_from_v4(union addr *a, const uint8_t v4[4]);
bool addr_is_v4(const union addr *a);
/* Format for humans ("192.0.2.1" or "2001:db8::1"); buf at least 46 bytes. */
const char *addr_format(const union addr *a, char *buf, size_t len);
/* Parse "192.0.2.1" or "2001:db8::1"; returns 0, or -1 with errno EINVAL. */
int addr_parse(const char *s, union addr *a);

#endif
