/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet parsing: IPv4/IPv6 (options, extension headers, fragments) with TCP,
 * UDP, ICMP and ICMPv6, including the header quoted inside ICMP errors.
 * Pure: no syscalls, no allocation. The parsed view points into the caller's
 * buffer, which may hold only the first bytes of the packet (headers only,
 * as NFQUEUE delivers with a copy range) while `wire_len` is its real length.
 */
#ifndef IDLEGATE_PKT_H
#define IDLEGATE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* TCP flags as in the header's 13th byte. */
enum {
	TCPF_FIN = 0x01, TCPF_SYN = 0x02, TCPF_RST = 0x04,
	TCPF_PSH = 0x08, TCPF_ACK = 0x10, TCPF_URG = 0x20,
	TCPF_ECE = 0x40, TCPF_CWR = 0x80,
};

/* Why a packet could not be parsed (pkt_parse's negative return values). */
enum pkt_err {
	PKT_OK = 0,
	PKT_ETRUNC = 1,   /* shorter than its headers claim */
	PKT_EVERSION,     /* not IPv4 or IPv6 */
	PKT_EHDR,         /* bad header length or field */
	PKT_EPROTO,       /* transport protocol we do not track */
};
const char *pkt_strerror(int err);

/* The transport header of a packet, or of the packet an ICMP error quotes. */
struct pkt_tuple {
	union addr src, dst;
	uint16_t sport, dport;   /* host order; ICMP echo: both are the identifier */
	uint8_t proto;           /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint8_t family;          /* 4 or 6 */
};

struct pkt {
	const uint8_t *data;     /* start of the IP header */
	size_t caplen;           /* bytes available at data */
	size_t wire_len;         /* real length of the packet */

	struct pkt_tuple t;
	uint16_t l4_off;         /* offset of the transport header */
	uint16_t l4_len;         /* transport header + payload, per the IP header */
	uint16_t payload_off;    /* offset of the transport payload */
	uint16_t payload_len;    /* payload length per the IP header (not caplen) */

	/* fragments: a non-first fragment has no transport header (is_frag
	 * && frag_off != 0); pkt_parse() then fills only addresses and proto. */
	bool is_frag;
	uint16_t frag_off;       /* in bytes */

	/* TCP */
	uint32_t seq, ack;
	uint16_t win;
	uint8_t tcp_flags;
	uint8_t wscale;          /* from a SYN's window-scale option, else 0xff */

	/* ICMP / ICMPv6 */
	uint8_t icmp_type, icmp_code;
	bool icmp_error;         /* an error that quotes another packet */
	bool inner_ok;           /* the quoted header was parsed into `inner` */
	struct pkt_tuple inner;  /* tuple of the quoted packet, as sent by its sender */
	uint16_t inner_l3_off;   /* offset of the quoted IP header */
	uint16_t inner_l4_off;   /* offset of the quoted transport header */
	uint16_t inner_l4_caplen;/* bytes of the quoted transport header present */

	/* The transport checksum holds only the pseudo-header sum (the packet
	 * was queued with checksum offload pending, NFQA_SKB_CSUMNOTREADY). Set
	 * by the caller before rewriting. */
	bool csum_partial;
};

/*
 * Parse the IP packet at data[0..caplen) whose full length is wire_len.
 * Fills *p; returns 0 or a negative enum pkt_err. Never reads beyond caplen.
 * Packets of a protocol other than TCP/UDP/ICMP/ICMPv6 return -PKT_EPROTO
 * with addresses and proto filled. An IPv6 packet (or quote) with a
 * v4-mapped address is -PKT_EHDR, so an address's family is unambiguous.
 */
int pkt_parse(struct pkt *p, const uint8_t *data, size_t caplen, size_t wire_len);


#endif
