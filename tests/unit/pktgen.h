/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test support: craft IPv4/IPv6 TCP, UDP and ICMP echo packets with correct
 * checksums, and verify checksums of packets the engine rewrote or built.
 * Header-only so each test binary takes what it uses.
 */
#ifndef IDLEGATE_TEST_PKTGEN_H
#define IDLEGATE_TEST_PKTGEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "simulator/engine/csum.h"
#include "simulator/engine/pkt.h"

struct gen {
	const char *src, *dst;  /* "192.0.2.1" or "2001:db8::1" */
	uint16_t sport, dport;  /* ICMP echo: sport is the identifier */
	uint8_t proto;          /* IPPROTO_TCP (default when 0), _UDP, _ICMP, _ICMPV6 */
	uint8_t flags;          /* TCP flags */
	uint32_t seq, ack;
	uint16_t win;           /* TCP window; 0 means 65535 unless zero_win */
	bool zero_win;
	size_t payload;         /* bytes of payload (filled with 'x') */
	uint8_t icmp_type;      /* default: echo request */
};

static inline void gen_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void gen_wr32(uint8_t *p, uint32_t v)
{
	gen_wr16(p, (uint16_t)(v >> 16));
	gen_wr16(p + 2, (uint16_t)v);
}
static inline uint16_t gen_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t gen_rd32(const uint8_t *p) { return (uint32_t)gen_rd16(p) << 16 | gen_rd16(p + 2); }

/* Writes the packet into buf (at least 1600 bytes); returns its length. */
static inline size_t gen_pkt(uint8_t *buf, const struct gen *g)
{
	union addr s, d;
	int fam;
	size_t ipl, l4l;
	uint8_t proto = g->proto ? g->proto : IPPROTO_TCP;
	uint8_t *l4;
	uint16_t c;

	addr_parse(g->src, &s);
	addr_parse(g->dst, &d);
	fam = addr_is_v4(&s) ? 4 : 6;
	if (fam == 6 && proto == IPPROTO_ICMP)
		proto = IPPROTO_ICMPV6;
	ipl = fam == 4 ? 20 : 40;
	l4l = (proto == IPPROTO_TCP ? 20 : 8) + g->payload;
	memset(buf, 0, ipl + l4l);
	if (fam == 4) {
		buf[0] = 0x45;
		gen_wr16(buf + 2, (uint16_t)(ipl + l4l));
		buf[8] = 64;
		buf[9] = proto;
		memcpy(buf + 12, s.b + 12, 4);
		memcpy(buf + 16, d.b + 12, 4);
		c = csum_ipv4_header(buf, 20);
		memcpy(buf + 10, &c, 2);
	} else {
		buf[0] = 0x60;
		gen_wr16(buf + 4, (uint16_t)l4l);
		buf[6] = proto;
		buf[7] = 64;
		memcpy(buf + 8, s.b, 16);
		memcpy(buf + 24, d.b, 16);
	}
	l4 = buf + ipl;
	switch (proto) {
	case IPPROTO_TCP:
		gen_wr16(l4, g->sport);
		gen_wr16(l4 + 2, g->dport);
		gen_wr32(l4 + 4, g->seq);
		gen_wr32(l4 + 8, g->ack);
		l4[12] = 5 << 4;
		l4[13] = g->flags;
		gen_wr16(l4 + 14, g->zero_win ? 0 : g->win ? g->win : 65535);
		memset(l4 + 20, 'x', g->payload);
		break;
	case IPPROTO_UDP:
		gen_wr16(l4, g->sport);
		gen_wr16(l4 + 2, g->dport);
		gen_wr16(l4 + 4, (uint16_t)l4l);
		memset(l4 + 8, 'x', g->payload);
		break;
	default:
		l4[0] = g->icmp_type ? g->icmp_type : (fam == 4 ? 8 : 128);
		gen_wr16(l4 + 4, g->sport);
		gen_wr16(l4 + 6, 1);
		memset(l4 + 8, 'x', g->payload);
		break;
	}
	if (proto == IPPROTO_ICMP)
		c = csum_fold(csum_partial_sum(l4, l4l, 0));
	else
		c = csum_l4(fam, fam == 4 ? s.b + 12 : s.b, fam == 4 ? d.b + 12 : d.b, proto, l4, l4l);
	memcpy(l4 + (proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2), &c, 2);
	return ipl + l4l;
}

/* Whether the IP header and transport checksums of buf are valid: a raw
 * one's-complement sum over a region that includes its checksum is zero. */
static inline bool gen_csum_ok(const uint8_t *buf, size_t len)
{
	struct pkt p;
	const uint8_t *l4;
	size_t l4l;
	uint32_t s = 0;
	int fam;

	if (pkt_parse(&p, buf, len, len) < 0)
		return false;
	fam = p.t.family;
	if (fam == 4 && csum_fold(csum_partial_sum(buf, (size_t)(buf[0] & 15) * 4, 0)) != 0)
		return false;
	l4 = buf + p.l4_off;
	l4l = len - p.l4_off;
	if (p.t.proto == IPPROTO_UDP && fam == 4 && gen_rd16(l4 + 6) == 0)
		return true;
	if (p.t.proto != IPPROTO_ICMP) {
		uint8_t tail[8] = { 0, 0, (uint8_t)(l4l >> 8), (uint8_t)l4l, 0, 0, 0, p.t.proto };
		s = csum_partial_sum(fam == 4 ? buf + 12 : buf + 8, fam == 4 ? 8 : 32, s);
		s = csum_partial_sum(tail, sizeof(tail), s);
	}
	s = csum_partial_sum(l4, l4l, s);
	return csum_fold(s) == 0;
}

#endif
