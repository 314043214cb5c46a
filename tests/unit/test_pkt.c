// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for pkt.c: every protocol in both families, IPv4 options, IPv6
 * extension-header chains, fragments, ICMP errors and their quotes, TCP
 * options, and hostile input (truncation at every length, mutations).
 * Parses run on exactly-sized heap copies so that ASan (make SANITIZE=1
 * unit) catches any read beyond caplen.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/nfq.h"
#include "simulator/engine/pkt.h"
#include "tests/unit/pktcraft.h"

static uint8_t pk[PG_MAX], l4b[PG_MAX], ext[512], qb[PG_MAX];

/* Parse a copy of d[0..caplen) in a buffer of exactly that size. */
static int parse_copy(struct pkt *p, const uint8_t *d, size_t caplen, size_t wire)
{
	uint8_t *c = malloc(caplen ? caplen : 1);
	int r;

	ck_assert_ptr_nonnull(c);
	memcpy(c, d, caplen);
	r = pkt_parse(p, c, caplen, wire);
	free(c);
	p->data = NULL;
	return r;
}

static void assert_addr(const union addr *a, const char *s)
{
	char buf[64];

	ck_assert_str_eq(addr_format(a, buf, sizeof(buf)), s);
}

/* --- IPv4 --- */

START_TEST(t_v4_tcp)
{
	struct pkt p;
	size_t n = pg_tcp(l4b, 40000, 443, 1000, 2000, TCPF_ACK | TCPF_PSH, 512, NULL, 0, 100);

	n = pg_ip4(pk, "192.0.2.1", "198.51.100.7", IPPROTO_TCP, NULL, 0, 0x4000, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.family, 4);
	ck_assert_int_eq(p.t.proto, IPPROTO_TCP);
	ck_assert(addr_is_v4(&p.t.src));
	assert_addr(&p.t.src, "192.0.2.1");
	assert_addr(&p.t.dst, "198.51.100.7");
	ck_assert_int_eq(p.t.sport, 40000);
	ck_assert_int_eq(p.t.dport, 443);
	ck_assert_uint_eq(p.seq, 1000);
	ck_assert_uint_eq(p.ack, 2000);
	ck_assert_int_eq(p.tcp_flags, TCPF_ACK | TCPF_PSH);
	ck_assert_int_eq(p.win, 512);
	ck_assert_int_eq(p.l4_off, 20);
	ck_assert_int_eq(p.l4_len, 120);
	ck_assert_int_eq(p.payload_off, 40);
	ck_assert_int_eq(p.payload_len, 100);
	ck_assert_int_eq(p.wscale, 0xff);
	ck_assert(!p.is_frag && !p.icmp_error && !p.inner_ok);
	ck_assert_uint_eq(p.caplen, n);
	ck_assert_uint_eq(p.wire_len, n);

	/* Headers only, as NFQUEUE with a copy range delivers it. */
	ck_assert_int_eq(parse_copy(&p, pk, 40, n), 0);
	ck_assert_int_eq(p.payload_len, 100);
	ck_assert_int_eq(p.t.dport, 443);
	ck_assert_uint_eq(p.caplen, 40);

	/* A capture cannot be longer than the packet: caplen is clamped. */
	ck_assert_int_eq(pkt_parse(&p, pk, n + 6, n), 0);
	ck_assert_uint_eq(p.caplen, n);
	ck_assert_ptr_eq(p.data, pk);

	/* Ethernet padding after the IP packet is not payload. */
	memset(pk + n, 0, 6);
	ck_assert_int_eq(parse_copy(&p, pk, n + 6, n + 6), 0);
	ck_assert_int_eq(p.payload_len, 100);
	ck_assert_int_eq(p.l4_len, 120);
}
END_TEST

START_TEST(t_v4_udp)
{
	struct pkt p;
	size_t n = pg_udp(l4b, 5353, 53, 33);

	n = pg_ip4(pk, "10.1.2.3", "10.9.8.7", IPPROTO_UDP, NULL, 0, 0, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.proto, IPPROTO_UDP);
	assert_addr(&p.t.src, "10.1.2.3");
	assert_addr(&p.t.dst, "10.9.8.7");
	ck_assert_int_eq(p.t.sport, 5353);
	ck_assert_int_eq(p.t.dport, 53);
	ck_assert_int_eq(p.l4_len, 41);
	ck_assert_int_eq(p.payload_off, 28);
	ck_assert_int_eq(p.payload_len, 33);

	/* UDP length shorter than the IP payload: trailing bytes are not data. */
	pg_wr16(pk + 24, 8 + 20);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.payload_len, 20);
	/* Longer than the IP payload, or shorter than its header: malformed. */
	pg_wr16(pk + 24, 8 + 34);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	pg_wr16(pk + 24, 7);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
}
END_TEST

START_TEST(t_v4_icmp)
{
	static const uint8_t types[] = { 8, 0, 13, 14 };
	struct pkt p;
	size_t i, n;

	for (i = 0; i < sizeof(types); i++) {
		n = pg_icmp(l4b, types[i], 0, 0xbeef0001, (const uint8_t *)"pingdata", 8);
		n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_ICMP, NULL, 0, 0, l4b, n);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert_int_eq(p.t.proto, IPPROTO_ICMP);
		ck_assert_int_eq(p.icmp_type, types[i]);
		ck_assert_int_eq(p.t.sport, 0xbeef);
		ck_assert_int_eq(p.t.dport, 0xbeef);
		ck_assert_int_eq(p.payload_off, 28);
		ck_assert_int_eq(p.payload_len, 8);
		ck_assert(!p.icmp_error);
	}
	/* A router advertisement: parsed, no identifier, not an error. */
	n = pg_icmp(l4b, 9, 0, 0x01020304, NULL, 0);
	n = pg_ip4(pk, "192.0.2.1", "224.0.0.1", IPPROTO_ICMP, NULL, 0, 0, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.icmp_type, 9);
	ck_assert_int_eq(p.t.sport, 0);
	ck_assert(!p.icmp_error);
	/* An ICMP message shorter than its 8-byte header. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_ICMP, NULL, 0, 0, l4b, 4);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
}
END_TEST

START_TEST(t_v4_options)
{
	static const uint8_t nops[] = { 1, 1, 1, 0 };
	/* Record route with room for two addresses, then EOL padding. */
	static const uint8_t rr[] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t bad_len0[] = { 7, 0, 4, 0 };
	static const uint8_t bad_long[] = { 7, 9, 4, 0 };
	static const uint8_t bad_len1[] = { 1, 1, 0x44, 1 };
	static const uint8_t bad_cut[] = { 1, 1, 1, 0x44 };
	struct pkt p;
	size_t n, m = pg_tcp(l4b, 1, 2, 3, 4, TCPF_SYN, 5, NULL, 0, 0);

	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_TCP, nops, sizeof(nops), 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.l4_off, 24);
	ck_assert_int_eq(p.t.sport, 1);

	m = pg_udp(l4b, 7, 9, 3);
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, rr, sizeof(rr), 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.l4_off, 32);
	ck_assert_int_eq(p.t.dport, 9);
	ck_assert_int_eq(p.payload_len, 3);

	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, bad_len0, 4, 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, bad_long, 4, 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, bad_len1, 4, 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, bad_cut, 4, 0, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
}
END_TEST

START_TEST(t_v4_bad_headers)
{
	struct pkt p;
	size_t m = pg_tcp(l4b, 1000, 80, 1, 2, TCPF_ACK, 100, NULL, 0, 10);
	size_t n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_TCP, NULL, 0, 0, l4b, m);
	uint8_t save[64];

	memcpy(save, pk, sizeof(save));
	ck_assert_int_eq(parse_copy(&p, pk, 0, n), -PKT_ETRUNC);
	ck_assert_int_eq(parse_copy(&p, pk, 0, 0), -PKT_ETRUNC);
	/* Total length beyond what arrived. */
	ck_assert_int_eq(parse_copy(&p, pk, n - 1, n - 1), -PKT_ETRUNC);
	pg_wr16(pk + 2, (uint16_t)(n + 1));
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_ETRUNC);
	pg_wr16(pk + 2, 19);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	memcpy(pk, save, sizeof(save));
	pk[0] = 0x44;   /* IHL 4 */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	pk[0] = 0x4f;   /* IHL 15: options would run into the TCP header */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	pk[0] = 0x55;
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EVERSION);
	pk[0] = 0x05;
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EVERSION);
	memcpy(pk, save, sizeof(save));
	pk[32] = 0x40;  /* TCP data offset 4 */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	pk[32] = 0x90;  /* 36 bytes of header in a 30-byte segment */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	memcpy(pk, save, sizeof(save));
	/* A TCP segment shorter than a TCP header per the IP length. */
	pg_wr16(pk + 2, 20 + 12);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	memcpy(pk, save, sizeof(save));
	/* A protocol we do not track still names its addresses. */
	pk[9] = 47;
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	ck_assert_int_eq(p.t.proto, 47);
	assert_addr(&p.t.dst, "192.0.2.2");
	pk[9] = IPPROTO_ICMPV6;   /* ICMPv6 over IPv4 is not ICMP */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
}
END_TEST

START_TEST(t_v4_fragments)
{
	struct pkt p;
	size_t m = pg_udp(l4b, 4000, 4001, 1472), n;

	/* First fragment: the UDP length covers the whole datagram. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, NULL, 0, 0x2000, l4b, 8 + 200);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.frag_off, 0);
	ck_assert_int_eq(p.t.sport, 4000);
	ck_assert_int_eq(p.t.dport, 4001);
	ck_assert_int_eq(p.payload_len, 200);
	(void)m;

	/* Non-first fragment: addresses and protocol only. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, NULL, 0, 0x2000 | 185, l4b + 200, 3);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.frag_off, 1480);
	ck_assert_int_eq(p.t.proto, IPPROTO_UDP);
	ck_assert_int_eq(p.t.family, 4);
	assert_addr(&p.t.src, "192.0.2.1");
	assert_addr(&p.t.dst, "192.0.2.2");
	ck_assert_int_eq(p.t.sport, 0);
	ck_assert_int_eq(p.t.dport, 0);
	ck_assert_int_eq(p.l4_off, 0);
	ck_assert_int_eq(p.payload_len, 0);

	/* Last fragment (no MF) is still a fragment; so is one with no data. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_TCP, NULL, 0, 370, l4b, 0);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.frag_off, 2960);
	ck_assert_int_eq(p.t.proto, IPPROTO_TCP);

	/* A first fragment too short for its transport header is malformed. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_TCP, NULL, 0, 0x2000, l4b, 16);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	/* Non-first fragment of an untracked protocol. */
	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", 47, NULL, 0, 100, l4b, 16);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	ck_assert(p.is_frag);
}
END_TEST

/* --- IPv6 --- */

START_TEST(t_v6_basic)
{
	struct pkt p;
	size_t n;

	n = pg_tcp(l4b, 51000, 22, 0xfffffff0, 7, TCPF_SYN | TCPF_ACK, 65535, NULL, 0, 0);
	n = pg_ip6(pk, "2001:db8::1", "2001:db8:1::2", IPPROTO_TCP, NULL, 0, IPPROTO_TCP, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.family, 6);
	ck_assert(!addr_is_v4(&p.t.src));
	assert_addr(&p.t.src, "2001:db8::1");
	assert_addr(&p.t.dst, "2001:db8:1::2");
	ck_assert_int_eq(p.t.sport, 51000);
	ck_assert_int_eq(p.t.dport, 22);
	ck_assert_uint_eq(p.seq, 0xfffffff0);
	ck_assert_int_eq(p.tcp_flags, TCPF_SYN | TCPF_ACK);
	ck_assert_int_eq(p.win, 65535);
	ck_assert_int_eq(p.l4_off, 40);
	ck_assert_int_eq(p.l4_len, 20);
	ck_assert_int_eq(p.payload_len, 0);

	n = pg_udp(l4b, 546, 547, 77);
	n = pg_ip6(pk, "fe80::1", "ff02::1:2", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.proto, IPPROTO_UDP);
	ck_assert_int_eq(p.t.sport, 546);
	ck_assert_int_eq(p.payload_off, 48);
	ck_assert_int_eq(p.payload_len, 77);
	/* Header-only capture still knows the payload length. */
	ck_assert_int_eq(parse_copy(&p, pk, 48, n), 0);
	ck_assert_int_eq(p.payload_len, 77);

	n = pg_icmp(l4b, 128, 0, 0x42420007, (const uint8_t *)"abcd", 4);
	n = pg_ip6(pk, "2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, NULL, 0, IPPROTO_ICMPV6, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.proto, IPPROTO_ICMPV6);
	ck_assert_int_eq(p.icmp_type, 128);
	ck_assert_int_eq(p.t.sport, 0x4242);
	ck_assert_int_eq(p.t.dport, 0x4242);
	ck_assert_int_eq(p.payload_len, 4);
	pk[40] = 129;
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.sport, 0x4242);
	pk[40] = 135;   /* neighbour solicitation: no identifier, not an error */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.sport, 0);
	ck_assert(!p.icmp_error);

	/* ICMP (v4) over IPv6 is not tracked. */
	n = pg_icmp(l4b, 8, 0, 0x42420007, NULL, 0);
	n = pg_ip6(pk, "2001:db8::1", "2001:db8::2", IPPROTO_ICMP, NULL, 0, IPPROTO_ICMP, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);

	/* Payload length beyond what arrived. */
	n = pg_udp(l4b, 1, 2, 10);
	n = pg_ip6(pk, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, n);
	ck_assert_int_eq(parse_copy(&p, pk, n - 1, n - 1), -PKT_ETRUNC);
	ck_assert_int_eq(parse_copy(&p, pk, 39, n), -PKT_ETRUNC);

	/* A v4-mapped address in an IPv6 header would pass for IPv4. */
	n = pg_ip6(pk, "::ffff:192.0.2.1", "2001:db8::2", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, 18);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	n = pg_ip6(pk, "2001:db8::2", "::ffff:192.0.2.1", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, 18);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	/* ... but the v4-compatible and other ::/96 forms are just IPv6. */
	n = pg_ip6(pk, "::192.0.2.1", "::1", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, 18);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(!addr_is_v4(&p.t.src));
}
END_TEST

/* A 264-byte destination-options header: the transport header lies past
 * the 256 bytes the daemon used to copy, within NFQIO_HEADER_COPY. */
static size_t v6_long_dstopts(uint8_t *out, size_t paylen)
{
	size_t e, m;

	e = pg_ext_opts(ext, IPPROTO_TCP, 32);
	ck_assert_uint_eq(e, 264);
	/* two options of an unassigned type to be skipped (RFC 4727's
	 * experimental 0x1e) fill the 262 bytes after next-header and length;
	 * PadN may not be longer than 7 (RFC 4942 2.1.9.5) */
	ext[2] = 0x1e;
	ext[3] = 128;
	ext[132] = 0x1e;
	ext[133] = 130;
	m = pg_tcp(l4b, 8080, 9090, 11, 12, TCPF_ACK, 1, NULL, 0, paylen);
	return pg_ip6(out, "2001:db8::a", "2001:db8::b", IPPROTO_DSTOPTS, ext, e, IPPROTO_TCP, l4b, m);
}

START_TEST(t_v6_long_dstopts)
{
	struct pkt p;
	size_t n = v6_long_dstopts(pk, 1000);

	ck_assert_uint_eq(n, 40 + 264 + 20 + 1000);
	ck_assert_int_eq(parse_copy(&p, pk, NFQIO_HEADER_COPY, n), 0);
	ck_assert_int_eq(p.t.proto, IPPROTO_TCP);
	ck_assert_int_eq(p.l4_off, 40 + 264);
	ck_assert_int_eq(p.t.sport, 8080);
	ck_assert_int_eq(p.payload_len, 1000);
	/* what the old 256-byte copy saw: a short capture */
	ck_assert_int_eq(parse_copy(&p, pk, 256, n), -PKT_ETRUNC);
}
END_TEST

START_TEST(t_v6_ext_chain)
{
	struct pkt p;
	size_t e, n, m;

	/* hop-by-hop -> routing -> destination options -> TCP */
	e = pg_ext_opts(ext, 43, 0);
	e += pg_ext_opts(ext + e, 60, 1);
	ext[e - 16 + 2] = 4;   /* routing type, segments left: not options */
	ext[e - 16 + 3] = 0;
	e += pg_ext_opts(ext + e, IPPROTO_TCP, 0);
	m = pg_tcp(l4b, 8080, 9090, 11, 12, TCPF_ACK, 1, NULL, 0, 5);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 0, ext, e, IPPROTO_TCP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.t.proto, IPPROTO_TCP);
	ck_assert_int_eq(p.l4_off, 40 + 8 + 16 + 8);
	ck_assert_int_eq(p.t.sport, 8080);
	ck_assert_int_eq(p.t.dport, 9090);
	ck_assert_int_eq(p.l4_len, 25);
	ck_assert_int_eq(p.payload_len, 5);

	/* AH -> UDP */
	e = pg_ext_ah(ext, IPPROTO_UDP);
	m = pg_udp(l4b, 500, 4500, 9);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 51, ext, e, IPPROTO_UDP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert_int_eq(p.l4_off, 64);
	ck_assert_int_eq(p.t.sport, 500);
	ck_assert_int_eq(p.payload_len, 9);

	/* hop-by-hop -> ESP: untracked, addresses known */
	e = pg_ext_opts(ext, 50, 0);
	memset(ext + e, 0x5a, 16);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 0, ext, e + 16, 50, l4b, 0);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	ck_assert_int_eq(p.t.proto, 50);
	assert_addr(&p.t.src, "2001:db8::a");
	/* no next header */
	e = pg_ext_opts(ext, 59, 0);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 60, ext, e, 59, l4b, 0);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	ck_assert_int_eq(p.t.proto, 59);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 59, NULL, 0, 59, l4b, 0);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	/* GRE */
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 47, NULL, 0, 47, l4b, 8);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EPROTO);
	ck_assert_int_eq(p.t.proto, 47);

	/* An extension header longer than the packet. */
	e = pg_ext_opts(ext, IPPROTO_UDP, 0);
	ext[1] = 3;
	m = pg_udp(l4b, 1, 2, 0);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 0, ext, e, IPPROTO_UDP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	/* ... or ending right where the transport header should start. */
	pk[41] = 1;
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	/* The chain cut by the capture, not by the packet. */
	ext[1] = 0;
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 0, ext, e, IPPROTO_UDP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, 44, n), -PKT_ETRUNC);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
}
END_TEST

START_TEST(t_v6_fragments)
{
	struct pkt p;
	size_t e, n, m;

	/* First fragment: transport header parsed. */
	e = pg_ext_frag(ext, IPPROTO_TCP, 0, 1);
	m = pg_tcp(l4b, 443, 50000, 99, 98, TCPF_ACK, 10, NULL, 0, 1000);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 44, ext, e, IPPROTO_TCP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.frag_off, 0);
	ck_assert_int_eq(p.l4_off, 48);
	ck_assert_int_eq(p.t.sport, 443);
	ck_assert_int_eq(p.payload_len, 1000);

	/* Non-first: addresses and protocol only. */
	e = pg_ext_frag(ext, IPPROTO_TCP, 1448, 0);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 44, ext, e, 44, l4b, 6);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.frag_off, 1448);
	ck_assert_int_eq(p.t.proto, IPPROTO_TCP);
	ck_assert_int_eq(p.t.family, 6);
	assert_addr(&p.t.dst, "2001:db8::b");
	ck_assert_int_eq(p.t.sport, 0);
	ck_assert_int_eq(p.l4_off, 0);

	/* Hop-by-hop before the fragment header, UDP first fragment. */
	e = pg_ext_opts(ext, 44, 0);
	e += pg_ext_frag(ext + e, IPPROTO_UDP, 0, 1);
	m = pg_udp(l4b, 53, 1053, 100);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 0, ext, e, IPPROTO_UDP, l4b, 8 + 40);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.is_frag);
	ck_assert_int_eq(p.t.sport, 53);
	ck_assert_int_eq(p.payload_len, 40);
	(void)m;

	/* An atomic fragment (offset 0, no more) is a whole packet. */
	e = pg_ext_frag(ext, IPPROTO_UDP, 0, 0);
	m = pg_udp(l4b, 53, 1053, 10);
	n = pg_ip6(pk, "2001:db8::a", "2001:db8::b", 44, ext, e, IPPROTO_UDP, l4b, m);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(!p.is_frag);
	ck_assert_int_eq(p.t.dport, 1053);
}
END_TEST

/* --- TCP options --- */

static int parse_syn_opts(struct pkt *p, const uint8_t *o, size_t olen, uint8_t flags)
{
	size_t n = pg_tcp(l4b, 1, 2, 3, 0, flags, 5, o, olen, 0);

	n = pg_ip4(pk, "192.0.2.1", "192.0.2.2", IPPROTO_TCP, NULL, 0, 0, l4b, n);
	return parse_copy(p, pk, n, n);
}

START_TEST(t_tcp_options)
{
	static const uint8_t full[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	static const uint8_t big[] = { 1, 3, 3, 20 };
	struct pkt p;

	ck_assert_int_eq(parse_syn_opts(&p, full, sizeof(full), TCPF_SYN), 0);
	ck_assert_int_eq(p.wscale, 7);
	ck_assert_int_eq(p.l4_off + 40, p.payload_off);
	ck_assert_int_eq(parse_syn_opts(&p, full, sizeof(full), TCPF_SYN | TCPF_ACK), 0);
	ck_assert_int_eq(p.wscale, 7);
	/* Only a SYN's window scale counts. */
	ck_assert_int_eq(parse_syn_opts(&p, full, sizeof(full), TCPF_ACK), 0);
	ck_assert_int_eq(p.wscale, 0xff);
	/* RFC 7323: above 14 means 14. */
	ck_assert_int_eq(parse_syn_opts(&p, big, sizeof(big), TCPF_SYN), 0);
	ck_assert_int_eq(p.wscale, 14);
}
END_TEST

START_TEST(t_tcp_bad_options)
{
	static const struct {
		uint8_t o[8];
		size_t len;
		uint8_t wscale;
	} cases[] = {
		{ { 3 }, 1, 0xff },                       /* kind without length */
		{ { 1, 1, 1, 3 }, 4, 0xff },              /* ... at the very end */
		{ { 3, 0, 7, 0 }, 4, 0xff },              /* length 0 */
		{ { 3, 1, 7, 0 }, 4, 0xff },              /* length 1 */
		{ { 1, 1, 3, 3 }, 4, 0xff },              /* value beyond the header */
		{ { 3, 2, 1, 1, 1, 1, 3, 3 }, 8, 0xff },  /* wscale length 2, then a cut one */
		{ { 2, 40, 3, 3, 5 }, 8, 0xff },          /* MSS length runs off the end */
		{ { 0, 3, 3, 5 }, 4, 0xff },              /* after end-of-list */
		{ { 2, 4, 0, 0, 3, 3, 6, 0 }, 8, 6 },     /* fine after a good MSS */
		{ { 3, 4, 6, 0 }, 4, 0xff },              /* wscale of the wrong length */
	};
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse_syn_opts(&p, cases[i].o, cases[i].len, TCPF_SYN), 0);
		ck_assert_msg(p.wscale == cases[i].wscale, "case %zu: wscale %u", i, p.wscale);
		ck_assert_int_eq(p.t.dport, 2);
	}
}
END_TEST

/* --- ICMP errors --- */

/* An ICMPv4 error from 198.51.100.1 to 10.0.0.2 quoting q[0..qlen). */
static size_t icmp4_err(uint8_t type, uint8_t code, const uint8_t *q, size_t qlen)
{
	size_t n = pg_icmp(l4b, type, code, 0, q, qlen);

	return pg_ip4(pk, "198.51.100.1", "10.0.0.2", IPPROTO_ICMP, NULL, 0, 0, l4b, n);
}

static size_t icmp6_err(uint8_t type, uint8_t code, const uint8_t *q, size_t qlen)
{
	size_t n = pg_icmp(l4b, type, code, 1280, q, qlen);

	return pg_ip6(pk, "2001:db8:ff::1", "2001:db8::2", IPPROTO_ICMPV6, NULL, 0,
		      IPPROTO_ICMPV6, l4b, n);
}

static void assert_inner(const struct pkt *p, int family, uint8_t proto, const char *src,
			 const char *dst, uint16_t sport, uint16_t dport)
{
	ck_assert(p->icmp_error);
	ck_assert(p->inner_ok);
	ck_assert_int_eq(p->inner.family, family);
	ck_assert_int_eq(p->inner.proto, proto);
	assert_addr(&p->inner.src, src);
	assert_addr(&p->inner.dst, dst);
	ck_assert_int_eq(p->inner.sport, sport);
	ck_assert_int_eq(p->inner.dport, dport);
}

START_TEST(t_icmp4_errors)
{
	static const uint8_t err_types[] = { 3, 4, 5, 11, 12 };
	static const uint8_t opts[] = { 1, 1, 1, 1 };
	struct pkt p;
	size_t i, n, m, ql;

	/* The original: TCP 10.0.0.2:5555 -> 203.0.113.9:80 */
	m = pg_tcp(qb + 100, 5555, 80, 1, 2, TCPF_SYN, 3, NULL, 0, 0);
	ql = pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_TCP, NULL, 0, 0, qb + 100, m);
	for (i = 0; i < sizeof(err_types); i++) {
		n = icmp4_err(err_types[i], 3, qb, 28);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert_int_eq(p.icmp_type, err_types[i]);
		ck_assert_int_eq(p.icmp_code, 3);
		assert_inner(&p, 4, IPPROTO_TCP, "10.0.0.2", "203.0.113.9", 5555, 80);
		ck_assert_int_eq(p.inner_l3_off, 28);
		ck_assert_int_eq(p.inner_l4_off, 48);
		ck_assert_int_eq(p.inner_l4_caplen, 8);
		/* The outer tuple is the ICMP message's own. */
		assert_addr(&p.t.src, "198.51.100.1");
		ck_assert_int_eq(p.t.proto, IPPROTO_ICMP);
		ck_assert_int_eq(p.t.sport, 0);
	}
	/* A whole quoted packet is fine too. */
	n = icmp4_err(3, 1, qb, ql);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 4, IPPROTO_TCP, "10.0.0.2", "203.0.113.9", 5555, 80);
	ck_assert_int_eq(p.inner_l4_caplen, 20);

	/* UDP */
	m = pg_udp(qb + 100, 3478, 19302, 20);
	ql = pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, NULL, 0, 0, qb + 100, m);
	n = icmp4_err(3, 3, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 4, IPPROTO_UDP, "10.0.0.2", "203.0.113.9", 3478, 19302);

	/* ICMP echo: the identifier is the port */
	m = pg_icmp(qb + 100, 8, 0, 0x77770001, NULL, 0);
	ql = pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_ICMP, NULL, 0, 0, qb + 100, m);
	n = icmp4_err(11, 0, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 4, IPPROTO_ICMP, "10.0.0.2", "203.0.113.9", 0x7777, 0x7777);

	/* Quoted header with options */
	m = pg_udp(qb + 100, 1111, 2222, 0);
	ql = pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, opts, 4, 0, qb + 100, m);
	n = icmp4_err(3, 3, qb, ql);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 4, IPPROTO_UDP, "10.0.0.2", "203.0.113.9", 1111, 2222);
	ck_assert_int_eq(p.inner_l4_off, 52);

	/* Non-error types quote nothing. */
	n = icmp4_err(8, 0, qb, ql);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(!p.icmp_error && !p.inner_ok);
}
END_TEST

START_TEST(t_icmp4_error_quotes)
{
	struct pkt p;
	size_t n, m, k;

	/* Truncated quotes: ports need 4 bytes (TCP/UDP), an echo id 6. */
	m = pg_tcp(qb + 100, 5555, 80, 1, 2, TCPF_SYN, 3, NULL, 0, 0);
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_TCP, NULL, 0, 0, qb + 100, m);
	for (k = 0; k <= 8; k++) {
		n = icmp4_err(3, 3, qb, 20 + k);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert(p.icmp_error);
		ck_assert_int_eq(p.inner_ok, k >= 4);
		ck_assert_int_eq(p.inner_l4_caplen, k);
		ck_assert_int_eq(p.inner.proto, IPPROTO_TCP);
		assert_addr(&p.inner.dst, "203.0.113.9");
	}
	m = pg_icmp(qb + 100, 0, 0, 0x12340001, NULL, 0);
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_ICMP, NULL, 0, 0, qb + 100, m);
	for (k = 0; k <= 8; k++) {
		n = icmp4_err(3, 3, qb, 20 + k);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert_int_eq(p.inner_ok, k >= 6);
		if (p.inner_ok)
			ck_assert_int_eq(p.inner.sport, 0x1234);
	}
	/* Quote shorter than an IP header, or not IPv4: malformed. */
	for (k = 0; k < 20; k++) {
		n = icmp4_err(3, 3, qb, k);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	}
	m = pg_udp(qb + 200, 1, 2, 0);
	pg_ip6(qb, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, qb + 200, m);
	n = icmp4_err(3, 3, qb, 48);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);

	/* An error about an error, and about a non-first fragment: no ports. */
	m = pg_icmp(qb + 100, 3, 1, 0, NULL, 0);
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_ICMP, NULL, 0, 0, qb + 100, m);
	n = icmp4_err(3, 3, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.icmp_error && !p.inner_ok);
	assert_addr(&p.inner.src, "10.0.0.2");
	m = pg_udp(qb + 100, 1, 2, 0);
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, NULL, 0, 0x2000 | 3, qb + 100, m);
	n = icmp4_err(3, 3, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(p.icmp_error && !p.inner_ok);
	/* A quoted protocol we do not track: addresses, no ports. */
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", 47, NULL, 0, 0, qb + 100, m);
	n = icmp4_err(3, 3, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(!p.inner_ok);
	ck_assert_int_eq(p.inner.proto, 47);
	/* A quoted IHL below 5. */
	pg_ip4(qb, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, NULL, 0, 0, qb + 100, m);
	qb[0] = 0x43;
	n = icmp4_err(3, 3, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
}
END_TEST

START_TEST(t_icmp6_errors)
{
	struct pkt p;
	size_t n, m, e, k;
	uint8_t type;

	m = pg_tcp(qb + 300, 40001, 443, 1, 2, TCPF_ACK, 3, NULL, 0, 30);
	pg_ip6(qb, "2001:db8::2", "2001:db8:9::9", IPPROTO_TCP, NULL, 0, IPPROTO_TCP, qb + 300, m);
	for (type = 1; type <= 4; type++) {
		n = icmp6_err(type, 0, qb, 48);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert_int_eq(p.icmp_type, type);
		assert_inner(&p, 6, IPPROTO_TCP, "2001:db8::2", "2001:db8:9::9", 40001, 443);
		ck_assert_int_eq(p.inner_l3_off, 48);
		ck_assert_int_eq(p.inner_l4_off, 88);
		ck_assert_int_eq(p.inner_l4_caplen, 8);
	}
	for (type = 128; type <= 129; type++) {
		n = icmp6_err(type, 0, qb, 48);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert(!p.icmp_error);
	}

	m = pg_udp(qb + 300, 5000, 5001, 500);
	n = pg_ip6(qb, "2001:db8::2", "2001:db8:9::9", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, qb + 300, m);
	n = icmp6_err(2, 0, qb, n);   /* packet too big, quoting it whole */
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 6, IPPROTO_UDP, "2001:db8::2", "2001:db8:9::9", 5000, 5001);
	ck_assert_int_eq(p.inner_l4_caplen, 508);

	m = pg_icmp(qb + 300, 128, 0, 0x99990003, NULL, 0);
	pg_ip6(qb, "2001:db8::2", "2001:db8:9::9", IPPROTO_ICMPV6, NULL, 0, IPPROTO_ICMPV6, qb + 300, m);
	n = icmp6_err(3, 0, qb, 48);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 6, IPPROTO_ICMPV6, "2001:db8::2", "2001:db8:9::9", 0x9999, 0x9999);

	/* Quoted extension headers: hop-by-hop, first fragment, UDP. */
	e = pg_ext_opts(ext, 44, 0);
	e += pg_ext_frag(ext + e, IPPROTO_UDP, 0, 1);
	m = pg_udp(qb + 300, 7000, 7001, 100);
	pg_ip6(qb, "2001:db8::2", "2001:db8:9::9", 0, ext, e, IPPROTO_UDP, qb + 300, m);
	n = icmp6_err(1, 4, qb, 40 + e + 8);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	assert_inner(&p, 6, IPPROTO_UDP, "2001:db8::2", "2001:db8:9::9", 7000, 7001);
	ck_assert_int_eq(p.inner_l4_off, 48 + 40 + 16);
	/* Quote ending inside the chain, or before the ports. */
	for (k = 0; k < e + 4; k++) {
		n = icmp6_err(1, 4, qb, 40 + k);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
		ck_assert(p.icmp_error && !p.inner_ok);
		assert_addr(&p.inner.dst, "2001:db8:9::9");
	}
	/* A quoted non-first fragment. */
	e = pg_ext_frag(ext, IPPROTO_UDP, 800, 0);
	pg_ip6(qb, "2001:db8::2", "2001:db8:9::9", 44, ext, e, 44, qb + 300, 8);
	n = icmp6_err(1, 4, qb, 40 + e + 8);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), 0);
	ck_assert(!p.inner_ok);
	ck_assert_int_eq(p.inner.proto, IPPROTO_UDP);
	/* Quote shorter than an IPv6 header; an IPv4 quote. */
	for (k = 0; k < 40; k += 7) {
		n = icmp6_err(1, 4, qb, k);
		ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	}
	m = pg_udp(qb + 300, 1, 2, 0);
	pg_ip4(qb, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, NULL, 0, 0, qb + 300, m);
	n = icmp6_err(1, 4, qb, 28);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
	/* A quote with a v4-mapped address. */
	pg_ip6(qb, "2001:db8::2", "::ffff:10.0.0.1", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, qb + 300, m);
	n = icmp6_err(1, 4, qb, 48);
	ck_assert_int_eq(parse_copy(&p, pk, n, n), -PKT_EHDR);
}
END_TEST

/* --- hostile input --- */

struct sample {
	uint8_t b[1600];
	size_t len;
};

static size_t make_samples(struct sample *s)
{
	static const uint8_t opts[] = { 2, 4, 5, 0xb4, 1, 3, 3, 8 };
	static const uint8_t ipopt[] = { 7, 7, 4, 0, 0, 0, 0, 0 };
	uint8_t q[256];
	size_t n = 0, m, e, ql;

	m = pg_tcp(l4b, 1234, 80, 5, 0, TCPF_SYN, 100, opts, sizeof(opts), 3);
	s[n].len = pg_ip4(s[n].b, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, ipopt, sizeof(ipopt), 0, l4b, m), n++;
	m = pg_udp(l4b, 53, 5353, 12);
	s[n].len = pg_ip4(s[n].b, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, NULL, 0, 0x2000, l4b, m), n++;
	m = pg_icmp(l4b, 8, 0, 0x10002, (const uint8_t *)"xy", 2);
	s[n].len = pg_ip4(s[n].b, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, NULL, 0, 0, l4b, m), n++;
	s[n].len = pg_ip4(s[n].b, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, NULL, 0, 55, l4b, 9), n++;
	/* ICMP error quoting TCP with IP options */
	m = pg_tcp(l4b, 1234, 80, 5, 0, TCPF_SYN, 100, NULL, 0, 0);
	ql = pg_ip4(q, "10.0.0.2", "10.0.0.9", IPPROTO_TCP, ipopt, sizeof(ipopt), 0, l4b, m);
	m = pg_icmp(l4b, 3, 3, 0, q, ql);
	s[n].len = pg_ip4(s[n].b, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, NULL, 0, 0, l4b, m), n++;
	/* IPv6: ext chain + TCP options */
	m = pg_tcp(l4b, 1234, 80, 5, 0, TCPF_SYN, 100, opts, sizeof(opts), 7);
	e = pg_ext_opts(ext, 60, 1);
	e += pg_ext_opts(ext + e, 51, 0);
	e += pg_ext_ah(ext + e, IPPROTO_TCP);
	s[n].len = pg_ip6(s[n].b, "2001:db8::1", "2001:db8::2", 0, ext, e, IPPROTO_TCP, l4b, m), n++;
	e = pg_ext_frag(ext, IPPROTO_UDP, 0, 1);
	m = pg_udp(l4b, 53, 5353, 12);
	s[n].len = pg_ip6(s[n].b, "2001:db8::1", "2001:db8::2", 44, ext, e, IPPROTO_UDP, l4b, m), n++;
	e = pg_ext_frag(ext, IPPROTO_UDP, 64, 1);
	s[n].len = pg_ip6(s[n].b, "2001:db8::1", "2001:db8::2", 44, ext, e, 44, l4b, 5), n++;
	m = pg_icmp(l4b, 129, 0, 0x10002, (const uint8_t *)"xy", 2);
	s[n].len = pg_ip6(s[n].b, "2001:db8::1", "2001:db8::2", 58, NULL, 0, 58, l4b, m), n++;
	/* ICMPv6 error quoting UDP behind hop-by-hop */
	e = pg_ext_opts(ext, IPPROTO_UDP, 0);
	m = pg_udp(l4b, 53, 5353, 12);
	ql = pg_ip6(q, "2001:db8::2", "2001:db8::9", 0, ext, e, IPPROTO_UDP, l4b, m);
	m = pg_icmp(l4b, 1, 3, 0, q, ql);
	s[n].len = pg_ip6(s[n].b, "2001:db8::1", "2001:db8::2", 58, NULL, 0, 58, l4b, m), n++;
	return n;
}

static void assert_same(const struct pkt *a, const struct pkt *b)
{
	ck_assert(memcmp(&a->t, &b->t, sizeof(a->t)) == 0);
	ck_assert_int_eq(a->l4_off, b->l4_off);
	ck_assert_int_eq(a->l4_len, b->l4_len);
	ck_assert_int_eq(a->payload_off, b->payload_off);
	ck_assert_int_eq(a->payload_len, b->payload_len);
	ck_assert_int_eq(a->is_frag, b->is_frag);
	ck_assert_int_eq(a->frag_off, b->frag_off);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->ack, b->ack);
	ck_assert_int_eq(a->win, b->win);
	ck_assert_int_eq(a->tcp_flags, b->tcp_flags);
	ck_assert_int_eq(a->wscale, b->wscale);
	ck_assert_int_eq(a->icmp_type, b->icmp_type);
	ck_assert_int_eq(a->icmp_code, b->icmp_code);
	ck_assert_int_eq(a->icmp_error, b->icmp_error);
	ck_assert_int_eq(a->inner_ok, b->inner_ok);
	ck_assert(memcmp(&a->inner, &b->inner, sizeof(a->inner)) == 0);
	ck_assert_int_eq(a->inner_l3_off, b->inner_l3_off);
	ck_assert_int_eq(a->inner_l4_off, b->inner_l4_off);
	ck_assert_int_le(a->inner_l4_caplen, b->inner_l4_caplen);
}

/* What a successful parse promises about its offsets. */
static void assert_sane(const struct pkt *p, int r)
{
	if (r != 0)
		return;
	ck_assert(p->t.family == 4 || p->t.family == 6);
	if (p->is_frag && p->frag_off)
		return;
	ck_assert_uint_le(p->l4_off, p->caplen);
	ck_assert_uint_le(p->payload_off, p->l4_off + p->l4_len);
	ck_assert_uint_le((size_t)p->l4_off + p->l4_len, p->wire_len);
	if (p->icmp_error) {
		ck_assert_uint_le(p->inner_l4_off, p->caplen);
		ck_assert_uint_le((size_t)p->inner_l4_off + p->inner_l4_caplen, p->caplen);
	}
	if (p->t.proto == IPPROTO_TCP)
		ck_assert(p->wscale == 0xff || p->wscale <= 14);
}

START_TEST(t_truncate_every_length)
{
	static struct sample s[16];
	size_t ns = make_samples(s), i, k;

	for (i = 0; i < ns; i++) {
		struct pkt full, p;
		int r;

		ck_assert_msg(parse_copy(&full, s[i].b, s[i].len, s[i].len) == 0, "sample %zu", i);
		for (k = 0; k <= s[i].len; k++) {
			/* Capture cut short: an ETRUNC or the very same parse. */
			r = parse_copy(&p, s[i].b, k, s[i].len);
			ck_assert_msg(r == 0 || r == -PKT_ETRUNC, "sample %zu len %zu: %d", i, k, r);
			if (r == 0)
				assert_same(&p, &full);
			assert_sane(&p, r);
			/* Packet cut short: its IP length no longer fits. */
			if (k < s[i].len) {
				r = parse_copy(&p, s[i].b, k, k);
				ck_assert_msg(r < 0, "sample %zu len %zu parsed", i, k);
			}
		}
	}
}
END_TEST

static uint32_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

START_TEST(t_mutations)
{
	static struct sample s[16];
	size_t ns = make_samples(s), it;
	uint8_t buf[1600];

	rng_state = 0x1dea9a7e;
	for (it = 0; it < 60000; it++) {
		const struct sample *o = &s[rng() % ns];
		size_t len = o->len, flips = 1 + rng() % 4, caplen, wire, j;
		struct pkt p;
		int r;

		memcpy(buf, o->b, len);
		for (j = 0; j < flips; j++) {
			size_t at = rng() % len;

			/* Mostly small changes near the headers. */
			if (rng() & 1)
				at %= 64 < len ? 64 : len;
			buf[at] = (rng() & 3) ? (uint8_t)rng() : buf[at] ^ (uint8_t)(1u << (rng() % 8));
		}
		if (rng() % 8 == 0)
			len = rng() % (len + 1);
		wire = len + (rng() % 4 == 0 ? rng() % 8 : 0);
		caplen = rng() % 2 ? len : rng() % (len + 1);
		r = parse_copy(&p, buf, caplen, wire);
		ck_assert(r <= 0 && r >= -PKT_EPROTO);
		assert_sane(&p, r);
	}
	/* And plain random bytes, with a plausible first byte. */
	for (it = 0; it < 20000; it++) {
		size_t len = rng() % 128, j;
		struct pkt p;
		int r;

		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rng();
		if (len)
			buf[0] = (rng() & 1) ? 0x45 + (rng() % 3) : 0x60;
		if (len > 3 && buf[0] != 0x60)
			pg_wr16(buf + 2, (uint16_t)len);
		else if (len > 5)
			pg_wr16(buf + 4, (uint16_t)(len - 40));
		r = parse_copy(&p, buf, rng() % (len + 1), len);
		ck_assert(r <= 0 && r >= -PKT_EPROTO);
		assert_sane(&p, r);
	}
}
END_TEST

/* --- addresses and errors --- */

START_TEST(t_addr)
{
	static const uint8_t v4[4] = { 192, 0, 2, 33 };
	union addr a, b;
	char buf[46], small[4];

	addr_from_v4(&a, v4);
	ck_assert(addr_is_v4(&a));
	assert_addr(&a, "192.0.2.33");
	ck_assert_int_eq(addr_parse("192.0.2.33", &b), 0);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
	ck_assert_int_eq(addr_parse("::ffff:192.0.2.33", &b), 0);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);

	ck_assert_int_eq(addr_parse("2001:db8::1", &b), 0);
	ck_assert(!addr_is_v4(&b));
	ck_assert_int_eq(b.b[0], 0x20);
	ck_assert_int_eq(b.b[15], 1);
	assert_addr(&b, "2001:db8::1");
	ck_assert_int_eq(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &b), 0);
	ck_assert_str_eq(addr_format(&b, buf, sizeof(buf)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(addr_parse("::", &b), 0);
	ck_assert(!addr_is_v4(&b));
	assert_addr(&b, "::");

	errno = 0;
	ck_assert_int_eq(addr_parse("192.0.2.256", &b), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(addr_parse("", &b), -1);
	ck_assert_int_eq(addr_parse("example.com", &b), -1);
	ck_assert_int_eq(addr_parse("1.2.3.4 ", &b), -1);
	ck_assert_int_eq(addr_parse(NULL, &b), -1);
	/* A too-small buffer gets a terminated placeholder, not garbage. */
	ck_assert_str_eq(addr_format(&a, small, sizeof(small)), "?");
}
END_TEST

START_TEST(t_strerror)
{
	static const int errs[] = { PKT_OK, PKT_ETRUNC, PKT_EVERSION, PKT_EHDR, PKT_EPROTO };
	size_t i, j;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		ck_assert_ptr_nonnull(pkt_strerror(-errs[i]));
		ck_assert_str_eq(pkt_strerror(-errs[i]), pkt_strerror(errs[i]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(pkt_strerror(-errs[i]), pkt_strerror(-errs[j]));
	}
	ck_assert_ptr_nonnull(pkt_strerror(-999));
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, t_v4_tcp);
	tcase_add_test(tc, t_v4_udp);
	tcase_add_test(tc, t_v4_icmp);
	tcase_add_test(tc, t_v4_options);
	tcase_add_test(tc, t_v4_bad_headers);
	tcase_add_test(tc, t_v4_fragments);
	tcase_add_test(tc, t_v6_basic);
	tcase_add_test(tc, t_v6_ext_chain);
	tcase_add_test(tc, t_v6_long_dstopts);
	tcase_add_test(tc, t_v6_fragments);
	tcase_add_test(tc, t_tcp_options);
	tcase_add_test(tc, t_tcp_bad_options);
	tcase_add_test(tc, t_icmp4_errors);
	tcase_add_test(tc, t_icmp4_error_quotes);
	tcase_add_test(tc, t_icmp6_errors);
	tcase_add_test(tc, t_truncate_every_length);
	tcase_add_test(tc, t_mutations);
	tcase_add_test(tc, t_addr);
	tcase_add_test(tc, t_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
