/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NAT behaviour tests of RFC 5780 over the probe protocol's UDP MAP
 * requests, against a server with an alternate address and port:
 *  - mapping (RFC 5780 4.3): from one local port, MAP to the server's
 *    primary address and port, its alternate port, its alternate address;
 *    the same outside address:port for all three is endpoint-independent,
 *    the same for both ports of the primary address only address-dependent,
 *    else address-and-port-dependent;
 *  - filtering (4.4): from a fresh local port, MAP to the primary asking
 *    the answer from the alternate address (does it reach us? endpoint-
 *    independent) and from the alternate port (address-dependent), else
 *    address-and-port-dependent;
 *  - port preservation: the outside port against the local one;
 *  - hairpinning (4.5): from a second local port, a datagram to the first
 *    port's outside address:port; does it arrive?
 * Stateless on the server, a few datagrams each, retransmitted; what is not
 * answered costs one wait.
 */
#ifndef IDLEGATE_PROBE_NATPROBE_H
#define IDLEGATE_PROBE_NATPROBE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "probes/proto.h"

/* A behaviour, named as the simulator's nat.mapping / nat.filtering knob
 * values; NB_UNKNOWN when it could not be told. */
enum nat_beh { NB_UNKNOWN = 0, NB_EI, NB_AD, NB_APD };

struct nat_report {
	char local[PROTO_ADDR_MAX];        /* the mapping test's local address */
	char seen[3][PROTO_ADDR_MAX];      /* as the server saw it: primary, alternate
					    * port, alternate address ("" no answer) */
	char other[PROTO_ADDR_MAX];        /* the server's alternate address:port, "" none */
	enum nat_beh mapping, filtering;
	int nat;                           /* the source was rewritten: 1, 0, -1 unknown */
	int port_kept;                     /* 1, 0, -1 unknown */
	int from_alt_addr, from_alt_port;  /* filtering: the answer arrived: 1, 0, -1 not tried */
	int hairpin;                       /* 1, 0, -1 not tried (no NAT, no answer) */
	char hairpin_from[PROTO_ADDR_MAX]; /* the hairpinned datagram's source as received */
	char why[160];                     /* what could not be measured, and why */
};

/* The knob value of b ("endpoint-independent", ...), NULL for NB_UNKNOWN. */
const char *probe_nat_beh_name(enum nat_beh b);

/*
 * Run the tests against the server at srv (IPv4; the alternate address is
 * the one its answers name), each unanswered request waited for wait_ms.
 * Fills r. Returns 0 when the primary answered (what could not be measured
 * says r->why), or -1 with errno (ETIMEDOUT: no answer from the server).
 */
int probe_nat_run(const struct sockaddr *srv, socklen_t srvlen, uint64_t wait_ms, struct nat_report *r);

/* r as one JSON line into f. */
void probe_nat_json(FILE *f, const struct nat_report *r);

#endif
