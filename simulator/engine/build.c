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
#include "simulator/engine/proto.h"

#define TTL 64
/* Quote as much of the original as fits, as Linux does: an ICMPv4 error of
 * at most 576 bytes (RFC 1812 4.3.2.3), an ICMPv6 error of at most 1280
 * (RFC 4443 2.4). Receivers match errors to their sockets by the quoted
 * headers, and some (the probes among them) by the quoted payload too. */
#define ICMP4_QUOTE_MAX (576 - IPV4_HDR_LEN - ICMP_HDR_LEN)
#define ICMP6_QUOTE_MAX (1280 - IPV6_HDR_LEN - ICMP_HDR_LEN)

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
		memset(buf, 0, IPV4_HDR_LEN);
		buf[0] = 0x45;
		wr16(buf + IPV4_OFF_TOTLEN, (uint16_t)(IPV4_HDR_LEN + l4_len));
		buf[IPV4_OFF_TTL] = TTL;
		buf[IPV4_OFF_PROTO] = proto;
		memcpy(buf + IPV4_OFF_SRC, src->b + 12, IPV4_ADDR_LEN);
		memcpy(buf + IPV4_OFF_DST, dst->b + 12, IPV4_ADDR_LEN);
		c = csum_ipv4_header(buf, IPV4_HDR_LEN);
		memcpy(buf + IPV4_OFF_CSUM, &c, 2);
		return IPV4_HDR_LEN;
	}
	memset(buf, 0, IPV6_HDR_LEN);
	buf[0] = 0x60;
	wr16(buf + IPV6_OFF_PLEN, (uint16_t)l4_len);
	buf[IPV6_OFF_NEXT] = proto;
	buf[IPV6_OFF_HOPS] = TTL;
	memcpy(buf + IPV6_OFF_SRC, src->b, IPV6_ADDR_LEN);
	memcpy(buf + IPV6_OFF_DST, dst->b, IPV6_ADDR_LEN);
	return IPV6_HDR_LEN;
}

static void l4_checksum(uint8_t *buf, size_t iplen, int family, uint8_t proto,
			size_t csum_off, size_t l4_len)
{
	const uint8_t *src = buf + (family == 4 ? IPV4_OFF_SRC : IPV6_OFF_SRC);
	const uint8_t *dst = buf + (family == 4 ? IPV4_OFF_DST : IPV6_OFF_DST);
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
	size_t iplen = family == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	uint8_t *h;

	if (!family || (t->family && t->family != family)) {
		errno = EINVAL;
		return -1;
	}
	if (len < iplen + TCP_HDR_LEN) {
		errno = ENOBUFS;
		return -1;
	}
	ip_header(buf, family, &t->src, &t->dst, IPPROTO_TCP, TCP_HDR_LEN);
	h = buf + iplen;
	memset(h, 0, TCP_HDR_LEN);
	wr16(h + TCP_OFF_SPORT, t->sport);
	wr16(h + TCP_OFF_DPORT, t->dport);
	wr32(h + TCP_OFF_SEQ, seq);
	wr32(h + TCP_OFF_ACK, flags & TCPF_ACK ? ack : 0);
	h[TCP_OFF_DOFF] = (TCP_HDR_LEN / 4) << 4;
	h[TCP_OFF_FLAGS] = flags;
	wr16(h + TCP_OFF_WIN, flags & TCPF_RST ? 0 : 65535);
	l4_checksum(buf, iplen, family, IPPROTO_TCP, TCP_OFF_CSUM, TCP_HDR_LEN);
	return (int)(iplen + TCP_HDR_LEN);
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

		size_t totlen = (size_t)orig->data[IPV4_OFF_TOTLEN] << 8 |
				orig->data[IPV4_OFF_TOTLEN + 1];

		if (avail < IPV4_HDR_LEN || ihl < IPV4_HDR_LEN) {
			errno = EINVAL;
			return -1;
		}
		if (avail > totlen)
			avail = totlen;
		quote = ICMP4_QUOTE_MAX;
		iplen = IPV4_HDR_LEN;
		proto = IPPROTO_ICMP;
	} else {
		size_t totlen = IPV6_HDR_LEN + ((size_t)orig->data[IPV6_OFF_PLEN] << 8 |
						orig->data[IPV6_OFF_PLEN + 1]);

		if (avail < IPV6_HDR_LEN) {
			errno = EINVAL;
			return -1;
		}
		if (avail > totlen)
			avail = totlen;
		quote = ICMP6_QUOTE_MAX;
		iplen = IPV6_HDR_LEN;
		proto = IPPROTO_ICMPV6;
	}
	if (quote > avail)
		quote = avail;
	l4_len = ICMP_HDR_LEN + quote;
	if (len < iplen + l4_len) {
		errno = ENOBUFS;
		return -1;
	}
	ip_header(buf, family, from, &orig->t.src, proto, l4_len);
	h = buf + iplen;
	memset(h, 0, ICMP_HDR_LEN);
	h[ICMP_OFF_TYPE] = family == 4 ? ICMP4_DEST_UNREACH : ICMP6_DEST_UNREACH;
	h[ICMP_OFF_CODE] = code;
	memcpy(h + ICMP_HDR_LEN, orig->data, quote);
	l4_checksum(buf, iplen, family, proto, ICMP_OFF_CSUM, l4_len);
	return (int)(iplen + l4_len);
}
