/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internet checksums: full computation (RFC 1071) and incremental update
 * (RFC 1624, HC' = ~(~HC + ~m + m')), including the case where the transport
 * checksum field holds only the pseudo-header sum (checksum offload pending),
 * which must be updated for address changes but not for port changes.
 */
#ifndef IDLEGATE_CSUM_H
#define IDLEGATE_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of len bytes folded to 16 bits, added to `sum`
 * (pass 0 to start). Not inverted. Works for odd lengths. */
uint32_t csum_partial_sum(const void *data, size_t len, uint32_t sum);
/* Fold a 32-bit sum to 16 bits and invert: the value to store in a header
 * (network byte order as a uint16_t read from memory). */
uint16_t csum_fold(uint32_t sum);

/* IPv4 header checksum over hdr[0..ihl*4); returns the value to store. */
uint16_t csum_ipv4_header(const uint8_t *hdr, size_t len);
/* Transport checksum with pseudo-header for src/dst (4 or 16 bytes each
 * per family), proto and l4 bytes. Returns the value to store. */
uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, const uint8_t *l4, size_t len);

/*
 * Incremental update of the 16-bit checksum stored at *field (network byte
 * order) for `len` bytes (even) changing from `from` to `to`.
 * `pseudo` says whether the changed bytes are part of the pseudo-header
 * (addresses) rather than the checksummed data (ports); `partial` says the
 * field holds only the pseudo-header sum (offload pending): then pseudo
 * changes are applied without inversion and data changes not at all.
 * A UDP checksum of zero (none) is left alone when `udp` is set, and a
 * computed zero is stored as 0xffff.
 */
void csum_replace(uint8_t *field, const void *from, const void *to, size_t len,
		  bool pseudo, bool partial, bool udp);

#endif
