/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wire-format constants: header lengths, field offsets and ICMP numbers, in
 * one place so that the parser, the rewriter, the packet builder and the
 * daemon's checksum completion name the same byte the same way. Offsets are
 * from the start of their header; values are as on the wire.
 */
#ifndef IDLEGATE_PROTO_H
#define IDLEGATE_PROTO_H

/* IPv4 (RFC 791) */
enum {
	IPV4_HDR_LEN = 20,      /* without options */
	IPV4_OFF_TOTLEN = 2,
	IPV4_OFF_FRAG = 6,
	IPV4_OFF_TTL = 8,
	IPV4_OFF_PROTO = 9,
	IPV4_OFF_CSUM = 10,
	IPV4_OFF_SRC = 12,
	IPV4_OFF_DST = 16,
	IPV4_ADDR_LEN = 4,
};

/* IPv6 (RFC 8200) */
enum {
	IPV6_HDR_LEN = 40,
	IPV6_OFF_PLEN = 4,
	IPV6_OFF_NEXT = 6,
	IPV6_OFF_HOPS = 7,
	IPV6_OFF_SRC = 8,
	IPV6_OFF_DST = 24,
	IPV6_ADDR_LEN = 16,
};

/* TCP (RFC 9293) */
enum {
	TCP_HDR_LEN = 20,       /* without options */
	TCP_OFF_SPORT = 0,
	TCP_OFF_DPORT = 2,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_DOFF = 12,
	TCP_OFF_FLAGS = 13,
	TCP_OFF_WIN = 14,
	TCP_OFF_CSUM = 16,
};

/* UDP (RFC 768) */
enum {
	UDP_HDR_LEN = 8,
	UDP_OFF_SPORT = 0,
	UDP_OFF_DPORT = 2,
	UDP_OFF_LEN = 4,
	UDP_OFF_CSUM = 6,
};

/* ICMP and ICMPv6 share the first 8 bytes' layout. */
enum {
	ICMP_HDR_LEN = 8,
	ICMP_OFF_TYPE = 0,
	ICMP_OFF_CODE = 1,
	ICMP_OFF_CSUM = 2,
	ICMP_OFF_ID = 4,        /* echo identifier */
};

/* ICMP types and codes (RFC 792, RFC 1812) */
enum {
	ICMP4_ECHO_REPLY = 0,
	ICMP4_DEST_UNREACH = 3,
	ICMP4_SOURCE_QUENCH = 4,
	ICMP4_REDIRECT = 5,
	ICMP4_ECHO_REQUEST = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_PARAM_PROBLEM = 12,
	ICMP4_TIMESTAMP = 13,           /* queries: 13..18 */
	ICMP4_ADDRMASK_REPLY = 18,

	ICMP4_PORT_UNREACH = 3,         /* codes of ICMP4_DEST_UNREACH */
	ICMP4_ADMIN_PROHIBITED = 13,
};

/* ICMPv6 types and codes (RFC 4443) */
enum {
	ICMP6_DEST_UNREACH = 1,
	ICMP6_PARAM_PROBLEM = 4,        /* errors: 1..4 */
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,

	ICMP6_ADMIN_PROHIBITED = 1,     /* codes of ICMP6_DEST_UNREACH */
	ICMP6_PORT_UNREACH = 4,
};

#endif
