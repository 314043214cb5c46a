// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the packet layer: arbitrary bytes to pkt_parse(),
 * with a capture length shorter than the wire length as NFQUEUE delivers
 * with a copy range, in an exactly-sized buffer so ASan sees overreads. On
 * a successful parse it formats the addresses and builds a TCP segment and
 * an ICMP error from the packet, which must parse back with valid checksums.
 *
 * Input: 2 bytes of framing, then the packet. Framing c (big endian): with
 * the top bit set, all bytes are captured and the wire length has (c % 64)
 * more; otherwise the capture stops after c bytes.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/engine/build.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/pkt.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_csums(const uint8_t *b, const struct pkt *p)
{
	const uint8_t *src = p->t.family == 4 ? b + 12 : b + 8;
	const uint8_t *dst = p->t.family == 4 ? b + 16 : b + 24;
	size_t co = p->t.proto == IPPROTO_TCP ? 16 : 2;
	uint16_t c;

	if (p->t.family == 4) {
		c = csum_ipv4_header(b, 20);
		CHECK(memcmp(&c, b + 10, 2) == 0);
	}
	c = csum_l4(p->t.family, src, dst, p->t.proto, b + p->l4_off, p->l4_len);
	CHECK(memcmp(&c, b + p->l4_off + co, 2) == 0);
}

static void check_offsets(const struct pkt *p)
{
	CHECK(p->t.family == 4 || p->t.family == 6);
	if (p->is_frag && p->frag_off)
		return;
	CHECK(p->l4_off <= p->caplen);
	CHECK((size_t)p->l4_off + p->l4_len <= p->wire_len);
	CHECK(p->payload_off <= p->l4_off + p->l4_len);
	CHECK((size_t)p->payload_off + p->payload_len == (size_t)p->l4_off + p->l4_len ||
	      p->t.proto == IPPROTO_UDP);
	if (p->icmp_error)
		CHECK((size_t)p->inner_l4_off + p->inner_l4_caplen <= p->caplen);
}

static bool tuple_eq(const struct pkt_tuple *a, const struct pkt_tuple *b)
{
	return memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto && a->family == b->family;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[BUILD_MAX], *pkt;
	char abuf[46];
	struct pkt p, q;
	size_t caplen, wire;
	uint16_t c;
	int r, n;

	if (size < 2)
		return 0;
	c = (uint16_t)(data[0] << 8 | data[1]);
	data += 2;
	size -= 2;
	if (c & 0x8000) {
		caplen = size;
		wire = size + c % 64;
	} else {
		caplen = c < size ? c : size;
		wire = size;
	}
	pkt = malloc(caplen ? caplen : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, caplen);

	r = pkt_parse(&p, pkt, caplen, wire);
	CHECK(r <= 0 && r >= -PKT_EPROTO);
	CHECK(pkt_strerror(r) != NULL);
	if (r != 0)
		goto out;
	check_offsets(&p);
	CHECK(addr_format(&p.t.src, abuf, sizeof(abuf)) == abuf);
	CHECK(addr_format(&p.t.dst, abuf, sizeof(abuf)) == abuf);
	CHECK(addr_is_v4(&p.t.src) == (p.t.family == 4));
	if (p.icmp_error) {
		addr_format(&p.inner.src, abuf, sizeof(abuf));
		addr_format(&p.inner.dst, abuf, sizeof(abuf));
	}

	/* A reset for the packet's tuple parses back as that tuple. */
	n = build_tcp(out, sizeof(out), &p.t, (uint8_t)c, p.seq, p.ack);
	CHECK(n > 0);
	CHECK(pkt_parse(&q, out, (size_t)n, (size_t)n) == 0);
	CHECK(memcmp(&q.t.src, &p.t.src, sizeof(q.t.src)) == 0);
	CHECK(q.t.sport == p.t.sport && q.t.dport == p.t.dport);
	check_csums(out, &q);

	/* An ICMP error about the packet quotes it recognisably. */
	n = build_icmp_unreach(out, sizeof(out), &p.t.dst, &p, (uint8_t)c);
	CHECK(n > 0);
	CHECK(pkt_parse(&q, out, (size_t)n, (size_t)n) == 0);
	CHECK(q.icmp_error);
	check_offsets(&q);
	check_csums(out, &q);
	if (q.inner_ok)
		CHECK(tuple_eq(&q.inner, &p.t));
	if (p.t.family == 4 && !p.is_frag &&
	    (p.t.proto == IPPROTO_TCP || p.t.proto == IPPROTO_UDP))
		CHECK(q.inner_ok);
out:
	free(pkt);
	return 0;
}
