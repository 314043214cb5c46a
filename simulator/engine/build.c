// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Building injected packets; see build.h. These are what a probe sees when a
 * simulated middlebox resets or rejects a flow, so they have to pass the
 * receiver's checksum and sanity checks exactly like a real device's would.
 */
#include "simulator/engine/build.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "simulator/engine/csum.h"

#define TTL 64
/* Quote as much of the original as fits, as Linux does: an ICMPv4 error of
 * at most 576 bytes (RFC 1812 4.3.2.3), an ICMPv6 error of at most 1280
 * (RFC 4443 2.4). Receivers match errors to their sockets by the quoted
 * headers, and some (the probes among them) by the quoted payload too. */
#define ICMP4_QUOTE_MAX (576 - 20 - 8)
#define ICMP6_QUOTE_MAX (1280 - 40 - 8)

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes an IP header of the given family; returns its length. */
static size_t ip_header(uint8_t *buf, int family, const union addr *src,
			const union addr *dst, uint8_t proto, size_t l4_len)
{
	uint16_t c;

	if (family == 4) {
		memset(buf, 0, 20);
		buf[0] = 0x45;
		wr16(buf + 2, (uint16_t)(20 + l4_len));
		buf[8] = TTL;
		buf[9] = proto;
		memcpy(buf + 12, src->b + 12, 4);
		memcpy(buf + 16, dst->b + 12, 4);
		c = csum_ipv4_header(buf, 20);
		memcpy(buf + 10, &c, 2);
		return 20;
	}
	memset(buf, 0, 40);
	buf[0] = 0x60;
	wr16(buf + 4, (uint16_t)l4_len);
	buf[6] = proto;
	buf[7] = TTL;
	memcpy(buf + 8, src->b, 16);
	memcpy(buf + 24, dst->b, 16);
	return 40;
}

static void l4_checksum(uint8_t *buf, size_t iplen, int family, uint8_t proto,
			size_t csum_off, size_t l4_len)
{
	const uint8_t *src = family == 4 ? buf + 12 : buf + 8;
	const uint8_t *dst = family == 4 ? buf + 16 : buf + 24;
	uint16_t c = csum_l4(family, src, dst, proto, buf + iplen, l4_len);

	memcpy(buf + iplen + csum_off, &c, 2);
}

/* The family both addresses agree on, or 0. */
static int tuple_family(const union addr *a, const union addr *b)
{
	bool v4 = addr_is_v4(a);

	if (v4 != addr_is_v4(b))
		return 0;
	return v4 ? 4 : 6;
}

/* Without ACK the acknowledgement field is sent as zero (RFC 9293 3.1). */
int build_tcp(uint8_t *buf, size_t len, const struct pkt_tuple *t,
	      uint8_t flags, uint32_t seq, uint32_t ack)
{
	int family = tuple_family(&t->src, &t->dst);
	size_t iplen = family == 4 ? 20 : 40;
	uint8_t *h;

	if (!family || (t->family && t->family != family)) {
		errno = EINVAL;
		return -1;
	}
	if (len < iplen + 20) {
		errno = ENOBUFS;
		return -1;
	}
	ip_header(buf, family, &t->src, &t->dst, IPPROTO_TCP, 20);
	h = buf + iplen;
	memset(h, 0, 20);
	wr16(h, t->sport);
	wr16(h + 2, t->dport);
	wr32(h + 4, seq);
	wr32(h + 8, flags & TCPF_ACK ? ack : 0);
	h[12] = 5 << 4;
	h[13] = flags;
	wr16(h + 14, flags & TCPF_RST ? 0 : 65535);
	l4_checksum(buf, iplen, family, IPPROTO_TCP, 16, 20);
	return (int)(iplen + 20);
}

/*
 * The quote is what the caller has of the original (its capture may hold
 * only the headers) and no more than the original's IP length. Quoting an
 * ICMP error is not refused here: whether to answer one is the caller's
 * policy (RFC 1122 3.2.2 says not to).
 */
int build_icmp_unreach(uint8_t *buf, size_t len, const union addr *from,
		       const struct pkt *orig, uint8_t code)
{
	int family = orig->t.family;
	size_t avail = orig->caplen, iplen, quote, l4_len;
	uint8_t proto;
	uint8_t *h;

	if ((family != 4 && family != 6) || !orig->data || avail < 1 ||
	    orig->data[0] >> 4 != family || tuple_family(from, &orig->t.src) != family) {
		errno = EINVAL;
		return -1;
	}
	if (family == 4) {
		size_t ihl = (size_t)(orig->data[0] & 0x0f) * 4;

		if (avail < 20 || ihl < 20) {
			errno = EINVAL;
			return -1;
		}
		if (avail > ((size_t)orig->data[2] << 8 | orig->data[3]))
			avail = (size_t)orig->data[2] << 8 | orig->data[3];
		quote = ICMP4_QUOTE_MAX;
		iplen = 20;
		proto = IPPROTO_ICMP;
	} else {
		if (avail < 40) {
			errno = EINVAL;
			return -1;
		}
		if (avail > 40 + ((size_t)orig->data[4] << 8 | orig->data[5]))
			avail = 40 + ((size_t)orig->data[4] << 8 | orig->data[5]);
		quote = ICMP6_QUOTE_MAX;
		iplen = 40;
		proto = IPPROTO_ICMPV6;
	}
	if (quote > avail)
		quote = avail;
	l4_len = 8 + quote;
	if (len < iplen + l4_len) {
		errno = ENOBUFS;
		return -1;
	}
	ip_header(buf, family, from, &orig->t.src, proto, l4_len);
	h = buf + iplen;
	memset(h, 0, 8);
	h[0] = family == 4 ? 3 : 1;
	h[1] = code;
	memcpy(h + 8, orig->data, quote);
	l4_checksum(buf, iplen, family, proto, 2, l4_len);
	return (int)(iplen + l4_len);
}
