/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The probe server: echo and control for many clients and flows at once, on
 * one TCP and one UDP socket bound to the same address and port. Each flow
 * begins with a HELLO carrying its plan, so the server knows when to speak
 * first after the idle period (it times the idle itself: the client must not
 * send anything during it) and can report its own side of the flow (RST
 * received, keepalive timeout, never heard again, a new UDP source). Its
 * per-flow results are JSON lines, and are answered to QUERY requests.
 * Given an alternate address and port, it also answers UDP MAP requests
 * (stateless, RFC 5780's binding tests) on both ports, from the address and
 * port the client asked for.
 */
#ifndef IDLEGATE_PROBE_SERVER_H
#define IDLEGATE_PROBE_SERVER_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct server_config {
	struct sockaddr_storage listen;
	socklen_t listen_len;
	FILE *results;             /* one JSON line per flow as it ends (flushed) */
	const char *ready_file;    /* written with "ADDR:PORT\n" once listening; NULL: none */
	uint64_t hello_timeout_ms; /* a connection silent or malformed this long is dropped */
	uint64_t keep_ms;          /* ended flows stay answerable to QUERY this long */
	uint32_t max_flows;        /* hellos beyond this many live flows are refused */
	uint32_t exit_after;       /* stop after this many flows ended; 0: until a signal */
	/* RFC 5780's other address: MAP requests may ask for an answer from
	 * the alternate port (a second UDP socket on the listen address) or
	 * the alternate address (a source address chosen per datagram: the
	 * listen address must be the any-address). alt_addr.ss_family 0:
	 * none, and then alt_port is 0 too. */
	struct sockaddr_storage alt_addr;
	uint16_t alt_port;
};

/* Defaults: hello timeout 10 s, keep 10 min, 10000 flows, run until a signal. */
void probe_server_config_init(struct server_config *c);

/*
 * Run the server until SIGINT/SIGTERM (taken by signalfd; unfinished flows
 * are then written as "interrupted") or exit_after flows ended.
 * Returns 0, or -1 with errno when it could not set up (bind, epoll, ...).
 */
int probe_server_run(const struct server_config *cfg);

#endif
