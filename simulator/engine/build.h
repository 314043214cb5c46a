/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the packets a middlebox injects: TCP RST, TCP FIN and ICMP /
 * ICMPv6 destination-unreachable, IPv4 or IPv6 (from the family of the
 * addresses), with correct IP and transport checksums. No allocation: the
 * caller provides the buffer.
 */
#ifndef IDLEGATE_BUILD_H
#define IDLEGATE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "simulator/engine/pkt.h"

/* Largest packet a builder writes (an ICMPv6 error of the minimum MTU). */
#define BUILD_MAX 1280

/*
 * A TCP segment from t->src:t->sport to t->dst:t->dport with the given
 * flags (TCPF_*), sequence and acknowledgement numbers and no payload.
 * TTL/hop limit 64, window 0 for RST, 65535 otherwise.
 * Returns the packet length, or -1 if `len` is too small.
 */
int build_tcp(uint8_t *buf, size_t len, const struct pkt_tuple *t,
	      uint8_t flags, uint32_t seq, uint32_t ack);

/*
 * An ICMP (IPv4: type 3 code `code`) or ICMPv6 (type 1 code `code`)
 * destination-unreachable from `from` to the sender of the packet `orig`
 * (which it quotes, as much as the capture holds up to a 576-byte ICMPv4
 * or 1280-byte ICMPv6 error, as Linux does). Returns the packet length or -1.
 */
int build_icmp_unreach(uint8_t *buf, size_t len, const union addr *from,
		       const struct pkt *orig, uint8_t code);

#endif
