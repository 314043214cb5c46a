/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Socket options a probe flow depends on, each set and then read back: a
 * flow whose keepalive or user timeout did not take effect would measure
 * something else than it claims, so it must be refused rather than run.
 * Also TCP_INFO snapshots and the IP_RECVERR error queue (ICMP errors).
 */
#ifndef IDLEGATE_PROBE_SOCKOPT_H
#define IDLEGATE_PROBE_SOCKOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "probes/plan.h"

/* The fields of the kernel's struct tcp_info that a probe reports. */
struct probe_tcpinfo {
	bool valid;
	uint8_t state, probes, retransmits, backoff;
	uint32_t total_retrans, unacked, rtt_us, rto_us;
	uint32_t last_data_sent_ms, last_data_recv_ms, last_ack_recv_ms;
};

/*
 * Apply keepalive settings to a TCP socket and read them back into *got
 * (for PLAN_KA_DEFAULT, got holds the kernel's defaults as the socket reports
 * them; got->mode says whether SO_KEEPALIVE is on). Returns 0 when the kernel
 * reports what was asked; -1 with errno from setsockopt/getsockopt, or
 * EPROTO when the read-back values differ.
 */
int probe_sockopt_keepalive_apply(int fd, const struct plan_keepalive *ka, struct plan_keepalive *got);

/* Set TCP_USER_TIMEOUT to ms (0 leaves the kernel default) and read it back
 * into *got. Returns 0, or -1 with errno (EPROTO when it did not take). */
int probe_sockopt_user_timeout_apply(int fd, uint32_t ms, uint32_t *got);

/* Snapshot TCP_INFO. Returns 0, or -1 with errno (ti->valid stays false). */
int probe_sockopt_tcpinfo(int fd, struct probe_tcpinfo *ti);

/* Ask for ICMP errors on the error queue (IP_RECVERR / IPV6_RECVERR, by
 * family AF_INET or AF_INET6). Returns 0 or -1 with errno. */
int probe_sockopt_recverr(int fd, int family);

/*
 * Read one message from the socket's error queue: *err gets the error it
 * carries (ee_errno), offender the address that sent the ICMP error ("" if
 * none). If payload is not NULL, it gets (a prefix of) the datagram that
 * caused the error, NUL-terminated, its length in *plen (payload_cap > 0).
 * Returns 1 when one was read, 0 when the queue is empty, -1 with errno.
 */
int probe_sockopt_errqueue(int fd, int *err, char *offender, size_t len, char *payload,
		     size_t payload_cap, size_t *plen);

/* Report each datagram's destination address (IP_PKTINFO, and
 * IPV6_RECVPKTINFO on AF_INET6 sockets). Returns 0 or -1 with errno. */
int probe_sockopt_pktinfo(int fd, int family);

/*
 * recvfrom() that also gives the address the datagram was sent to (*dst,
 * AF_INET for IPv4 also on a dual-stack socket, port 0; family 0 when the
 * kernel did not say). Nonblocking. Returns the length or -1 with errno.
 */
ssize_t probe_sockopt_recv_dst(int fd, void *buf, size_t len, struct sockaddr_storage *from,
			       socklen_t *fromlen, struct sockaddr_storage *dst);

/*
 * sendto() from the local address src (AF_INET or AF_INET6, port ignored;
 * NULL or family 0: the kernel's choice). An IPv4 source needs an IPv4 or
 * v4-mapped destination. Returns the length sent or -1 with errno.
 */
ssize_t probe_sockopt_send_from(int fd, const void *buf, size_t len, const struct sockaddr *to,
				socklen_t tolen, const struct sockaddr_storage *src);

/* Name of a TCP state for reports ("established", "close", ...). */
const char *probe_sockopt_tcp_state_name(unsigned state);

#endif
