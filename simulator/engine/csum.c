// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Internet checksums; see csum.h. Sums are taken over 16-bit words as they
 * lie in memory (the RFC 1071 byte-order independence), so a result is
 * stored with memcpy and needs no byte swapping. The incremental update
 * mirrors the kernel's inet_proto_csum_replace*() so that NAT rewrites of
 * packets whose checksum is still to be completed by offload stay correct.
 */
#include "simulator/engine/csum.h"

#include <netinet/in.h>
#include <string.h>

static uint32_t fold32(uint64_t s)
{
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint32_t csum_partial_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s = 0;
	uint16_t w;

	while (len >= 2) {
		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&w, last, 2);
		s += w;
	}
	return fold32((uint64_t)sum + fold16(fold32(s)));
}

uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~fold16(sum);
}

/* The checksum field is taken as zero, so the result is what to store and,
 * for a received header, what the stored value should be. */
uint16_t csum_ipv4_header(const uint8_t *hdr, size_t len)
{
	uint32_t s = csum_partial_sum(hdr, len < 10 ? len : 10, 0);

	if (len > 12)
		s = csum_partial_sum(hdr + 12, len - 12, s);
	return csum_fold(s);
}

/* Where the transport checksum lies, or 0 if the protocol has none we know. */
static size_t l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return 16;
	case IPPROTO_UDP: return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 2;
	}
	return 0;
}

/* The checksum field (for TCP, UDP, ICMP, ICMPv6) is taken as zero as in
 * csum_ipv4_header(). ICMP over IPv4 has no pseudo-header. A UDP checksum
 * that computes to zero is returned as 0xffff (zero means "none"). */
uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, const uint8_t *l4, size_t len)
{
	size_t alen = family == 4 ? 4 : 16, co = l4_csum_off(proto);
	uint32_t s = 0;
	uint16_t c;

	if (!(family == 4 && proto == IPPROTO_ICMP)) {
		uint8_t tail[8] = { 0 };

		s = csum_partial_sum(src, alen, s);
		s = csum_partial_sum(dst, alen, s);
		/* IPv4: zero, proto, 16-bit length; IPv6: 32-bit length, three
		 * zero bytes, next header. Both sum the same way. */
		tail[0] = (uint8_t)(len >> 24);
		tail[1] = (uint8_t)(len >> 16);
		tail[2] = (uint8_t)(len >> 8);
		tail[3] = (uint8_t)len;
		tail[7] = proto;
		s = csum_partial_sum(tail, sizeof(tail), s);
	}
	if (co && len >= co + 2) {
		s = csum_partial_sum(l4, co, s);
		s = csum_partial_sum(l4 + co + 2, len - co - 2, s);
	} else {
		s = csum_partial_sum(l4, len, s);
	}
	c = csum_fold(s);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

/*
 * As the kernel's inet_proto_csum_replace_by_diff(): with `partial` the
 * field holds the folded, non-inverted pseudo-header sum, changed only for
 * pseudo-header bytes; otherwise HC' = ~(~HC + ~m + m'). As in the kernel's
 * UDP NAT, a zero UDP field is left alone only when complete (with offload
 * pending it is a sum, not "no checksum").
 */
void csum_replace(uint8_t *field, const void *from, const void *to, size_t len,
		  bool pseudo, bool partial, bool udp)
{
	const uint8_t *f = from, *t = to;
	uint32_t diff = 0;
	uint16_t old, new;
	size_t i;

	memcpy(&old, field, 2);
	if (udp && !partial && old == 0)
		return;
	if (partial && !pseudo)
		return;
	for (i = 0; i + 1 < len; i += 2) {
		uint16_t a, b;

		memcpy(&a, f + i, 2);
		memcpy(&b, t + i, 2);
		diff = fold32((uint64_t)diff + (uint16_t)~a + b);
	}
	if (partial)
		new = (uint16_t)~csum_fold(fold32((uint64_t)old + diff));
	else
		new = csum_fold(fold32((uint64_t)(uint16_t)~old + diff));
	if (udp && new == 0)
		new = 0xffff;
	memcpy(field, &new, 2);
}
