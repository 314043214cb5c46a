// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Packet parsing; see pkt.h. Every packet the middlebox sees goes through
 * here first, including hostile ones, so every read is bounds-checked.
 *
 * Two limits govern every read: `end`, where the IP header says the packet
 * ends, and `caplen`, how much of it the caller has. A header that does not
 * fit before `end` is a malformed packet (-PKT_EHDR); one that fits before
 * `end` but not before `caplen` is a short capture (-PKT_ETRUNC). So a parse
 * of a packet captured header-only either fails or sees the same headers as
 * a parse of the whole packet would.
 *
 * IPv6 packets with a v4-mapped (::ffff:a.b.c.d) address are malformed here,
 * as in the kernel (ip6_rcv_core() drops them): a flow key with such an
 * address would be taken for IPv4.
 */
#include "simulator/engine/pkt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "simulator/engine/proto.h"

/* IPv6 next-header values (not all libcs define them all). */
enum {
	NH_HOPOPTS = 0, NH_ROUTING = 43, NH_FRAGMENT = 44, NH_ESP = 50,
	NH_AH = 51, NH_NONE = 59, NH_DSTOPTS = 60,
};

/* RFC 7323 2.3: a shift above 14 is used as 14. */
#define TCP_WSCALE_MAX 14

struct bounds {
	size_t end;      /* end of the packet per the IP header */
	size_t caplen;   /* bytes the caller has */
};

const char *pkt_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case PKT_OK: return "no error";
	case PKT_ETRUNC: return "packet shorter than its headers";
	case PKT_EVERSION: return "not IPv4 or IPv6";
	case PKT_EHDR: return "malformed header";
	case PKT_EPROTO: return "untracked transport protocol";
	}
	return "unknown packet error";
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is [off, off+n) inside the packet and inside the capture? */
static int need(const struct bounds *b, size_t off, size_t n)
{
	if (off > b->end || n > b->end - off)
		return -PKT_EHDR;
	if (off > b->caplen || n > b->caplen - off)
		return -PKT_ETRUNC;
	return 0;
}

static bool proto_tracked(int family, uint8_t proto)
{
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		return true;
	return proto == (family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

/* ICMP queries carrying an identifier that conntrack tracks like a port. */
static bool icmp_is_query(int family, uint8_t type)
{
	if (family == 4)
		return type == ICMP4_ECHO_REPLY || type == ICMP4_ECHO_REQUEST ||
		       (type >= ICMP4_TIMESTAMP && type <= ICMP4_ADDRMASK_REPLY);
	return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
}

static bool icmp_is_error(int family, uint8_t type)
{
	if (family == 4)
		return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH ||
		       type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED ||
		       type == ICMP4_PARAM_PROBLEM;
	return type >= ICMP6_DEST_UNREACH && type <= ICMP6_PARAM_PROBLEM;
}

/* RFC 791 options are TLVs after EOL/NOP; reject what does not add up. */
static int ipv4_options_check(const uint8_t *o, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (o[i] == 0)   /* end of option list */
			return 0;
		if (o[i] == 1) { /* no operation */
			i++;
			continue;
		}
		if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i)
			return -PKT_EHDR;
		i += o[i + 1];
	}
	return 0;
}

/* TCP options: only the window scale of a SYN matters to us. Malformed
 * options end the walk without failing the packet, as in the kernel. */
static void tcp_options(struct pkt *p, const uint8_t *o, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (len - i < 2)
			return;
		olen = o[i + 1];
		if (olen < 2 || olen > len - i)
			return;
		if (kind == 3 && olen == 3)
			p->wscale = o[i + 2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o[i + 2];
		i += olen;
	}
}

/*
 * Walk an IPv6 extension-header chain starting at `off` with next header
 * `nh`. On return *off and *nh describe the upper-layer header (or ESP /
 * no-next-header / a non-first fragment's payload). Sets frag fields if a
 * fragment header is seen and frag is non-NULL.
 */
static int ipv6_exthdrs(const uint8_t *d, const struct bounds *b, size_t *off,
			uint8_t *nh, bool *is_frag, uint16_t *frag_off)
{
	int r;

	for (;;) {
		size_t hlen;

		switch (*nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
			if ((r = need(b, *off, 2)) < 0)
				return r;
			hlen = ((size_t)d[*off + 1] + 1) * 8;
			break;
		case NH_AH:
			if ((r = need(b, *off, 2)) < 0)
				return r;
			hlen = ((size_t)d[*off + 1] + 2) * 4;
			break;
		case NH_FRAGMENT: {
			uint16_t fo;

			if ((r = need(b, *off, 8)) < 0)
				return r;
			fo = rd16(d + *off + 2);
			*is_frag = (fo & 0xfff8) || (fo & 1);
			*frag_off = fo & 0xfff8;
			*nh = d[*off];
			*off += 8;
			if (*frag_off)
				return 0;   /* the rest is not a header */
			continue;
		}
		default:
			return 0;
		}
		if ((r = need(b, *off, hlen)) < 0)
			return r;
		*nh = d[*off];
		*off += hlen;
	}
}

/*
 * The first bytes of the transport header quoted in an ICMP error. `b`
 * bounds the quote; a quote that ends early leaves inner_ok false, a capture
 * that ends early is an error.
 */
static int parse_inner_l4(struct pkt *p, const uint8_t *d, const struct bounds *b,
			  size_t off)
{
	struct pkt_tuple *t = &p->inner;
	size_t want;
	int r;

	if (!proto_tracked(t->family, t->proto))
		return 0;
	if (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP)
		want = TCP_OFF_DPORT + 2;   /* the ports; UDP's are at the same offsets */
	else
		want = ICMP_OFF_ID + 2;     /* type, code, checksum, identifier */
	r = need(b, off, want);
	if (r == -PKT_EHDR)
		return 0;   /* the quote is cut short: no ports */
	if (r < 0)
		return r;
	if (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) {
		t->sport = rd16(d + off + TCP_OFF_SPORT);
		t->dport = rd16(d + off + TCP_OFF_DPORT);
	} else {
		if (!icmp_is_query(t->family, d[off + ICMP_OFF_TYPE]))
			return 0;   /* no flow for errors about errors */
		t->sport = t->dport = rd16(d + off + ICMP_OFF_ID);
	}
	p->inner_ok = true;
	return 0;
}

static int parse_icmp_quote(struct pkt *p, const uint8_t *d, const struct bounds *b,
			    size_t off)
{
	struct pkt_tuple *t = &p->inner;
	size_t end_readable = b->end < b->caplen ? b->end : b->caplen;
	int r;

	p->inner_l3_off = (uint16_t)off;
	t->family = p->t.family;
	if ((r = need(b, off, 1)) < 0)
		return r;
	if (d[off] >> 4 != p->t.family)
		return -PKT_EHDR;
	if (p->t.family == 4) {
		size_t ihl;

		if ((r = need(b, off, IPV4_HDR_LEN)) < 0)
			return r;
		ihl = (size_t)(d[off] & 0x0f) * 4;
		if (ihl < IPV4_HDR_LEN)
			return -PKT_EHDR;
		if ((r = need(b, off, ihl)) < 0)
			return r;
		t->proto = d[off + IPV4_OFF_PROTO];
		addr_from_v4(&t->src, d + off + IPV4_OFF_SRC);
		addr_from_v4(&t->dst, d + off + IPV4_OFF_DST);
		off += ihl;
		p->inner_l4_off = (uint16_t)off;
		if (rd16(d + off - ihl + IPV4_OFF_FRAG) & 0x1fff)
			goto done;   /* a non-first fragment: no ports */
	} else {
		bool frag = false;
		uint16_t fo = 0;
		uint8_t nh;

		if ((r = need(b, off, IPV6_HDR_LEN)) < 0)
			return r;
		memcpy(t->src.b, d + off + IPV6_OFF_SRC, IPV6_ADDR_LEN);
		memcpy(t->dst.b, d + off + IPV6_OFF_DST, IPV6_ADDR_LEN);
		if (addr_is_v4(&t->src) || addr_is_v4(&t->dst))
			return -PKT_EHDR;
		nh = d[off + IPV6_OFF_NEXT];
		off += IPV6_HDR_LEN;
		r = ipv6_exthdrs(d, b, &off, &nh, &frag, &fo);
		t->proto = nh;
		if (off > 0xffff)
			return -PKT_EHDR;
		if (r == -PKT_EHDR) {
			/* The quote ends inside the chain. */
			p->inner_l4_off = (uint16_t)(off < end_readable ? off : end_readable);
			return 0;
		}
		if (r < 0)
			return r;
		p->inner_l4_off = (uint16_t)off;
		if (fo)
			goto done;
	}
	if ((r = parse_inner_l4(p, d, b, off)) < 0)
		return r;
done:
	p->inner_l4_caplen = (uint16_t)(off < end_readable ? end_readable - off : 0);
	return 0;
}

static int parse_icmp(struct pkt *p, const struct bounds *b)
{
	const uint8_t *h = p->data + p->l4_off;
	int r;

	if ((r = need(b, p->l4_off, ICMP_HDR_LEN)) < 0)
		return r;
	p->icmp_type = h[ICMP_OFF_TYPE];
	p->icmp_code = h[ICMP_OFF_CODE];
	p->payload_off = p->l4_off + ICMP_HDR_LEN;
	p->payload_len = p->l4_len - ICMP_HDR_LEN;
	if (icmp_is_query(p->t.family, p->icmp_type)) {
		p->t.sport = p->t.dport = rd16(h + ICMP_OFF_ID);
	} else if (icmp_is_error(p->t.family, p->icmp_type)) {
		p->icmp_error = true;
		return parse_icmp_quote(p, p->data, b, p->l4_off + ICMP_HDR_LEN);
	}
	return 0;
}

static int parse_l4(struct pkt *p, const struct bounds *b)
{
	const uint8_t *h = p->data + p->l4_off;
	int r;

	switch (p->t.proto) {
	case IPPROTO_TCP: {
		size_t doff;

		if ((r = need(b, p->l4_off, TCP_HDR_LEN)) < 0)
			return r;
		doff = (size_t)(h[TCP_OFF_DOFF] >> 4) * 4;
		if (doff < TCP_HDR_LEN)
			return -PKT_EHDR;
		if ((r = need(b, p->l4_off, doff)) < 0)
			return r;
		p->t.sport = rd16(h + TCP_OFF_SPORT);
		p->t.dport = rd16(h + TCP_OFF_DPORT);
		p->seq = rd32(h + TCP_OFF_SEQ);
		p->ack = rd32(h + TCP_OFF_ACK);
		p->tcp_flags = h[TCP_OFF_FLAGS];
		p->win = rd16(h + TCP_OFF_WIN);
		if (p->tcp_flags & TCPF_SYN)
			tcp_options(p, h + TCP_HDR_LEN, doff - TCP_HDR_LEN);
		p->payload_off = (uint16_t)(p->l4_off + doff);
		p->payload_len = (uint16_t)(p->l4_len - doff);
		return 0;
	}
	case IPPROTO_UDP: {
		uint16_t ulen;

		if ((r = need(b, p->l4_off, UDP_HDR_LEN)) < 0)
			return r;
		p->t.sport = rd16(h + UDP_OFF_SPORT);
		p->t.dport = rd16(h + UDP_OFF_DPORT);
		ulen = rd16(h + UDP_OFF_LEN);
		/* The first fragment's UDP length covers the whole datagram. */
		if (ulen < UDP_HDR_LEN || (!p->is_frag && ulen > p->l4_len))
			return -PKT_EHDR;
		p->payload_off = p->l4_off + UDP_HDR_LEN;
		p->payload_len = (uint16_t)((p->is_frag ? p->l4_len : ulen) - UDP_HDR_LEN);
		return 0;
	}
	default:
		return parse_icmp(p, b);
	}
}

static int parse_ipv4(struct pkt *p, struct bounds *b)
{
	const uint8_t *d = p->data;
	size_t ihl, tot;
	uint16_t frag;
	int r;

	if (b->caplen < IPV4_HDR_LEN)
		return -PKT_ETRUNC;
	ihl = (size_t)(d[0] & 0x0f) * 4;
	tot = rd16(d + IPV4_OFF_TOTLEN);
	if (ihl < IPV4_HDR_LEN || tot < ihl)
		return -PKT_EHDR;
	if (tot > p->wire_len)
		return -PKT_ETRUNC;
	b->end = tot;
	if ((r = need(b, 0, ihl)) < 0)
		return r;
	if ((r = ipv4_options_check(d + IPV4_HDR_LEN, ihl - IPV4_HDR_LEN)) < 0)
		return r;

	p->t.family = 4;
	p->t.proto = d[IPV4_OFF_PROTO];
	addr_from_v4(&p->t.src, d + IPV4_OFF_SRC);
	addr_from_v4(&p->t.dst, d + IPV4_OFF_DST);
	frag = rd16(d + IPV4_OFF_FRAG);
	p->frag_off = (uint16_t)((frag & 0x1fff) * 8);
	p->is_frag = (frag & 0x2000) || p->frag_off;
	if (!proto_tracked(4, p->t.proto))
		return -PKT_EPROTO;
	if (p->frag_off)
		return 0;
	p->l4_off = (uint16_t)ihl;
	p->l4_len = (uint16_t)(tot - ihl);
	return parse_l4(p, b);
}

static int parse_ipv6(struct pkt *p, struct bounds *b)
{
	const uint8_t *d = p->data;
	size_t off = IPV6_HDR_LEN, tot;
	uint8_t nh;
	int r;

	if (b->caplen < IPV6_HDR_LEN)
		return -PKT_ETRUNC;
	tot = IPV6_HDR_LEN + (size_t)rd16(d + IPV6_OFF_PLEN);
	if (tot > p->wire_len)
		return -PKT_ETRUNC;
	b->end = tot;

	p->t.family = 6;
	memcpy(p->t.src.b, d + IPV6_OFF_SRC, IPV6_ADDR_LEN);
	memcpy(p->t.dst.b, d + IPV6_OFF_DST, IPV6_ADDR_LEN);
	if (addr_is_v4(&p->t.src) || addr_is_v4(&p->t.dst))
		return -PKT_EHDR;
	nh = d[IPV6_OFF_NEXT];
	r = ipv6_exthdrs(d, b, &off, &nh, &p->is_frag, &p->frag_off);
	if (r < 0)
		return r;
	p->t.proto = nh;
	if (!proto_tracked(6, nh))
		return -PKT_EPROTO;
	if (p->frag_off)
		return 0;
	/* Offsets are 16-bit: leave room for the largest TCP header. */
	if (off > 0xffff - 60)
		return -PKT_EHDR;
	p->l4_off = (uint16_t)off;
	p->l4_len = (uint16_t)(tot - off);
	return parse_l4(p, b);
}

int pkt_parse(struct pkt *p, const uint8_t *data, size_t caplen, size_t wire_len)
{
	struct bounds b;

	memset(p, 0, sizeof(*p));
	/* A capture cannot hold more than the packet. */
	if (caplen > wire_len)
		caplen = wire_len;
	p->data = data;
	p->caplen = caplen;
	p->wire_len = wire_len;
	p->wscale = 0xff;
	b.caplen = caplen;
	b.end = caplen;
	if (caplen < 1)
		return -PKT_ETRUNC;
	switch (data[0] >> 4) {
	case 4:
		return parse_ipv4(p, &b);
	case 6:
		return parse_ipv6(p, &b);
	default:
		return -PKT_EVERSION;
	}
}
