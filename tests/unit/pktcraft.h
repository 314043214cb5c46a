/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet crafting for the packet-layer unit tests (test_pkt, test_csum,
 * test_build): IP options, extension-header chains, fragments, ICMP quotes.
 * Independent of the code under test: checksums here come from a plain
 * byte-wise RFC 1071 reference, not from csum.c, so the tests compare two
 * implementations rather than one with itself. Header-only, all static.
 */
#ifndef IDLEGATE_TESTS_PKTCRAFT_H
#define IDLEGATE_TESTS_PKTCRAFT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define PG_MAX 4096

static inline void pg_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t pg_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void pg_wr32(uint8_t *p, uint32_t v)
{
	pg_wr16(p, (uint16_t)(v >> 16));
	pg_wr16(p + 2, (uint16_t)v);
}

static inline uint32_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* Reference one's-complement sum, big-endian words, byte by byte. */
static inline uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i < len; i++)
		s = ref_fold(s + ((i & 1) ? p[i] : (uint32_t)p[i] << 8));
	return s;
}

/* Sum of the pseudo-header (folded, not inverted). */
static inline uint32_t ref_pseudo(int family, const uint8_t *src, const uint8_t *dst,
				  uint8_t proto, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t s = ref_sum(src, alen, 0);

	s = ref_sum(dst, alen, s);
	return ref_fold(s + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto);
}

/* Does the transport checksum verify (the sum over all of it is 0xffff)? */
static inline int ref_l4_ok(int family, const uint8_t *src, const uint8_t *dst,
			    uint8_t proto, const uint8_t *l4, size_t len)
{
	uint32_t s = ref_sum(l4, len, 0);

	if (!(family == 4 && proto == IPPROTO_ICMP))
		s = ref_fold(s + ref_pseudo(family, src, dst, proto, len));
	return s == 0xffff;
}

static inline size_t pg_csum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/* Fill in the transport checksum of l4 (the field zeroed first). */
static inline void ref_fill_l4(int family, const uint8_t *src, const uint8_t *dst,
			       uint8_t proto, uint8_t *l4, size_t len)
{
	size_t co = pg_csum_off(proto);
	uint32_t s;
	uint16_t c;

	if (len < co + 2)
		return;
	l4[co] = l4[co + 1] = 0;
	s = ref_sum(l4, len, 0);
	if (!(family == 4 && proto == IPPROTO_ICMP))
		s = ref_fold(s + ref_pseudo(family, src, dst, proto, len));
	c = (uint16_t)~s;
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	pg_wr16(l4 + co, c);
}

/* --- transport headers: write at b, return the length --- */

/* opts is padded with zeros to a multiple of 4; paylen bytes of pattern follow. */
static inline size_t pg_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq,
			    uint32_t ack, uint8_t flags, uint16_t win,
			    const uint8_t *opts, size_t optlen, size_t paylen)
{
	size_t hl = 20 + ((optlen + 3) & ~(size_t)3), i;

	memset(b, 0, hl);
	pg_wr16(b, sport);
	pg_wr16(b + 2, dport);
	pg_wr32(b + 4, seq);
	pg_wr32(b + 8, ack);
	b[12] = (uint8_t)((hl / 4) << 4);
	b[13] = flags;
	pg_wr16(b + 14, win);
	if (optlen)
		memcpy(b + 20, opts, optlen);
	for (i = 0; i < paylen; i++)
		b[hl + i] = (uint8_t)(i * 7 + 1);
	return hl + paylen;
}

static inline size_t pg_udp(uint8_t *b, uint16_t sport, uint16_t dport, size_t paylen)
{
	size_t i;

	memset(b, 0, 8);
	pg_wr16(b, sport);
	pg_wr16(b + 2, dport);
	pg_wr16(b + 4, (uint16_t)(8 + paylen));
	for (i = 0; i < paylen; i++)
		b[8 + i] = (uint8_t)(i * 13 + 5);
	return 8 + paylen;
}

/* ICMP/ICMPv6 header; `rest` is the 32-bit word after the checksum (echo:
 * identifier << 16 | sequence), then body (a quote, or echo data; may
 * overlap nothing but may be NULL when bodylen is 0). */
static inline size_t pg_icmp(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest,
			     const uint8_t *body, size_t bodylen)
{
	if (bodylen)
		memmove(b + 8, body, bodylen);
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	pg_wr32(b + 4, rest);
	return 8 + bodylen;
}

/* --- IP: wrap l4 (copied, may overlap out) into out; returns the length --- */

static inline size_t pg_ip4(uint8_t *out, const char *src, const char *dst, uint8_t proto,
			    const uint8_t *opts, size_t optlen, uint16_t frag,
			    const uint8_t *l4, size_t l4len)
{
	size_t ihl = 20 + ((optlen + 3) & ~(size_t)3);

	if (l4len)
		memmove(out + ihl, l4, l4len);
	memset(out, 0, ihl);
	out[0] = (uint8_t)(0x40 | ihl / 4);
	pg_wr16(out + 2, (uint16_t)(ihl + l4len));
	pg_wr16(out + 4, 0x1234);
	pg_wr16(out + 6, frag);
	out[8] = 64;
	out[9] = proto;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, dst, out + 16);
	if (optlen)
		memcpy(out + 20, opts, optlen);
	if (!(frag & 0x1fff))
		ref_fill_l4(4, out + 12, out + 16, proto, out + ihl, l4len);
	pg_wr16(out + 10, (uint16_t)~ref_sum(out, ihl, 0));
	return ihl + l4len;
}

/* ext: a pre-built extension-header chain whose last next-header field is
 * `proto`; first_nh is the IPv6 header's next header. */
static inline size_t pg_ip6(uint8_t *out, const char *src, const char *dst, uint8_t first_nh,
			    const uint8_t *ext, size_t extlen, uint8_t proto,
			    const uint8_t *l4, size_t l4len)
{
	if (l4len)
		memmove(out + 40 + extlen, l4, l4len);
	memset(out, 0, 40);
	out[0] = 0x60;
	pg_wr16(out + 4, (uint16_t)(extlen + l4len));
	out[6] = first_nh;
	out[7] = 64;
	inet_pton(AF_INET6, src, out + 8);
	inet_pton(AF_INET6, dst, out + 24);
	if (extlen)
		memcpy(out + 40, ext, extlen);
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6)
		ref_fill_l4(6, out + 8, out + 24, proto, out + 40 + extlen, l4len);
	return 40 + extlen + l4len;
}

/* Extension headers: write at b with next header nh, return the length. */
static inline size_t pg_ext_opts(uint8_t *b, uint8_t nh, size_t units8)
{
	size_t len = (units8 + 1) * 8;

	memset(b, 0, len);
	b[0] = nh;
	b[1] = (uint8_t)units8;
	b[2] = 1;                    /* PadN covering the rest */
	b[3] = (uint8_t)(len - 4);
	return len;
}

static inline size_t pg_ext_frag(uint8_t *b, uint8_t nh, uint16_t off_bytes, int more)
{
	memset(b, 0, 8);
	b[0] = nh;
	pg_wr16(b + 2, (uint16_t)(off_bytes | (more ? 1 : 0)));
	pg_wr32(b + 4, 0xabcdef01);
	return 8;
}

static inline size_t pg_ext_ah(uint8_t *b, uint8_t nh)
{
	memset(b, 0, 24);   /* 12-byte fixed part + 12-byte ICV */
	b[0] = nh;
	b[1] = 24 / 4 - 2;
	pg_wr32(b + 4, 0x100);   /* SPI */
	return 24;
}

#endif
