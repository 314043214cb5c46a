/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sending the packets the engine builds (RST, FIN, ICMP errors) through
 * raw sockets with the IP header included. Every packet carries the
 * injection mark (SO_MARK) so our own queue rule skips it; raw sends go
 * through OUTPUT anyway, not PREROUTING, so they would not be queued, but
 * the mark keeps that true if the rules ever hook elsewhere. The route to
 * the packet's destination picks the interface.
 */
#ifndef IDLEGATE_INJECT_H
#define IDLEGATE_INJECT_H

#include <stddef.h>
#include <stdint.h>

struct inject;

/* Open the IPv4 and IPv6 raw sockets (needs CAP_NET_RAW, and
 * CAP_NET_ADMIN for SO_MARK). Returns NULL with errno. IPv6 being
 * unavailable is not an error: IPv6 sends then fail with EAFNOSUPPORT. */
struct inject *inject_new(uint32_t mark);
/* Accepts NULL. */
void inject_free(struct inject *in);

/* Send the IP packet pkt[0..len) to its destination address.
 * 0, or -1 with errno (EINVAL for a packet that is not IPv4/IPv6). */
int inject_send(struct inject *in, const uint8_t *pkt, size_t len);

#endif
