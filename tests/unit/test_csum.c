// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for csum.c against a byte-wise reference (pktcraft.h): full
 * sums at every length and alignment, and incremental updates compared with
 * full recomputation on random packets (seeded), for address and port
 * rewrites, with complete checksums and with offload pending (partial).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/engine/csum.h"
#include "tests/unit/pktcraft.h"

static uint32_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rng();
}

/* A stored checksum as a host number (fields are network order in memory). */
static uint16_t stored(uint16_t c)
{
	uint8_t b[2];

	memcpy(b, &c, 2);
	return pg_rd16(b);
}

/* 0x0000 and 0xffff are the same number in one's complement. */
static int csum_equiv(uint16_t a, uint16_t b)
{
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

START_TEST(t_rfc1071_example)
{
	/* RFC 1071 section 3: the sum of these is 0xddf2. */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(stored(csum_fold(csum_partial_sum(d, sizeof(d), 0))), 0x220d);
	ck_assert_uint_eq(stored(csum_fold(0)), 0xffff);
	ck_assert_uint_eq(stored(csum_fold(csum_partial_sum(d, 0, 0))), 0xffff);
}
END_TEST

START_TEST(t_sum_vs_reference)
{
	static uint8_t buf[512 + 8];
	size_t it;

	rng_state = 0xc0ffee11;
	for (it = 0; it < 5000; it++) {
		size_t align = rng() % 8, len = rng() % 300, cut = (rng() % (len / 2 + 1)) * 2;
		uint8_t *d = buf + align;
		uint32_t s, init = rng();

		fill_random(d, len);
		if (it % 10 == 0)
			memset(d, 0xff, len);   /* worst case for carries */
		s = csum_partial_sum(d, len, 0);
		ck_assert_uint_eq(stored(csum_fold(s)), (uint16_t)~ref_sum(d, len, 0));
		/* Chained over an even split, the sum is the same. */
		s = csum_partial_sum(d + cut, len - cut, csum_partial_sum(d, cut, 0));
		ck_assert_uint_eq(stored(csum_fold(s)), (uint16_t)~ref_sum(d, len, 0));
		/* Any 32-bit starting value is a one's-complement addend. */
		s = csum_partial_sum(d, len, init);
		ck_assert(csum_equiv(stored(csum_fold(s)),
				     (uint16_t)~ref_fold(ref_sum(d, len, 0) +
							 ref_fold(stored((uint16_t)(init >> 16)) +
								  stored((uint16_t)init)))));
	}
}
END_TEST

START_TEST(t_ipv4_header)
{
	/* The classic example: checksum 0xb861. */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t o[60];
	size_t it;

	ck_assert_uint_eq(stored(csum_ipv4_header(h, 20)), 0xb861);
	/* The field's content does not matter: it counts as zero. */
	h[10] = h[11] = 0;
	ck_assert_uint_eq(stored(csum_ipv4_header(h, 20)), 0xb861);

	rng_state = 0x12345;
	for (it = 0; it < 1000; it++) {
		size_t ihl = 20 + 4 * (rng() % 11);

		fill_random(o, ihl);
		o[10] = o[11] = 0;
		ck_assert_uint_eq(stored(csum_ipv4_header(o, ihl)), (uint16_t)~ref_sum(o, ihl, 0));
	}
}
END_TEST

static const uint8_t l4_protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 };

START_TEST(t_l4_vs_reference)
{
	static uint8_t l4[1600], ref[1600];
	uint8_t src[16], dst[16];
	size_t it;

	rng_state = 0xabcdef;
	for (it = 0; it < 4000; it++) {
		int family = rng() % 2 ? 4 : 6;
		uint8_t proto = l4_protos[rng() % 4];
		size_t len = 8 + rng() % 200, co = pg_csum_off(proto);
		uint16_t c;

		if (proto == IPPROTO_TCP)
			len += 12;
		fill_random(src, 16);
		fill_random(dst, 16);
		fill_random(l4, len);
		memcpy(ref, l4, len);
		ref_fill_l4(family, src, dst, proto, ref, len);
		c = csum_l4(family, src, dst, proto, l4, len);
		ck_assert_uint_eq(stored(c), pg_rd16(ref + co));
		memcpy(l4 + co, &c, 2);
		ck_assert(ref_l4_ok(family, src, dst, proto, l4, len));
	}
}
END_TEST

/* A random packet: family, proto, addresses and l4 with a valid checksum. */
struct rpkt {
	int family;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint8_t l4[256];
	size_t len, alen, co;
};

static void rpkt_make(struct rpkt *r, uint8_t proto)
{
	r->family = rng() % 2 ? 4 : 6;
	r->proto = proto;
	r->alen = r->family == 4 ? 4 : 16;
	r->co = pg_csum_off(proto);
	r->len = (proto == IPPROTO_TCP ? 20 : 8) + rng() % 100;
	fill_random(r->src, 16);
	fill_random(r->dst, 16);
	fill_random(r->l4, r->len);
	if (proto == IPPROTO_UDP)
		pg_wr16(r->l4 + 4, (uint16_t)r->len);
	ref_fill_l4(r->family, r->src, r->dst, proto, r->l4, r->len);
}

static uint16_t rpkt_field(const struct rpkt *r)
{
	return pg_rd16(r->l4 + r->co);
}

/* Rewrite an address (pseudo-header) and a port (data), as NAT does. */
static void rpkt_rewrite(struct rpkt *r, bool partial, bool udp)
{
	uint8_t *addr = rng() % 2 ? r->src : r->dst, na[16], np[2];
	/* ICMP rewrites its identifier (offset 4); TCP/UDP a port. */
	size_t port_off = (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6) ? 4 : (rng() % 2) * 2;

	fill_random(na, r->alen);
	if (r->proto != IPPROTO_ICMP) {
		csum_replace(r->l4 + r->co, addr, na, r->alen, true, partial, udp);
		memcpy(addr, na, r->alen);
	}
	fill_random(np, 2);
	csum_replace(r->l4 + r->co, r->l4 + port_off, np, 2, false, partial, udp);
	memcpy(r->l4 + port_off, np, 2);
}

START_TEST(t_replace_vs_recompute)
{
	size_t it;

	rng_state = 0x5eed0001;
	for (it = 0; it < 20000; it++) {
		struct rpkt r;
		uint8_t full[256];
		uint8_t proto = l4_protos[rng() % 4];
		bool udp = proto == IPPROTO_UDP;

		rpkt_make(&r, proto);
		if (udp && rpkt_field(&r) == 0)
			continue;
		rpkt_rewrite(&r, false, udp);
		memcpy(full, r.l4, r.len);
		ref_fill_l4(r.family, r.src, r.dst, proto, full, r.len);
		ck_assert_msg(csum_equiv(rpkt_field(&r), pg_rd16(full + r.co)),
			      "iteration %zu proto %u: %04x vs %04x", it, proto,
			      rpkt_field(&r), pg_rd16(full + r.co));
		ck_assert(ref_l4_ok(r.family, r.src, r.dst, proto, r.l4, r.len));
		if (udp)
			ck_assert_uint_ne(rpkt_field(&r), 0);
	}
}
END_TEST

START_TEST(t_replace_ipv4_header)
{
	uint8_t h[60];
	size_t it;

	rng_state = 0x5eed0002;
	for (it = 0; it < 5000; it++) {
		size_t ihl = 20 + 4 * (rng() % 11), at = 12 + 4 * (rng() % 2);
		uint8_t na[4], c[2];
		uint16_t v;

		fill_random(h, ihl);
		v = csum_ipv4_header(h, ihl);
		memcpy(h + 10, &v, 2);
		fill_random(na, 4);
		csum_replace(h + 10, h + at, na, 4, false, false, false);
		memcpy(h + at, na, 4);
		/* TTL decrement: a 2-byte word with the protocol. */
		memcpy(c, h + 8, 2);
		c[0]--;
		csum_replace(h + 10, h + 8, c, 2, false, false, false);
		memcpy(h + 8, c, 2);
		ck_assert(csum_equiv(pg_rd16(h + 10), stored(csum_ipv4_header(h, ihl))));
		ck_assert_uint_eq(ref_sum(h, ihl, 0), 0xffff);
	}
}
END_TEST

/*
 * Offload pending: the field holds the folded pseudo-header sum. After the
 * rewrite, completing the checksum as the NIC would (sum the transport
 * bytes from its start, field included, store the inverse) must give a
 * packet that verifies with its new addresses.
 */
START_TEST(t_replace_partial)
{
	size_t it;

	rng_state = 0x5eed0003;
	for (it = 0; it < 20000; it++) {
		static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 };
		struct rpkt r;
		uint8_t proto = protos[rng() % 3];
		bool udp = proto == IPPROTO_UDP;
		uint16_t before;

		rpkt_make(&r, proto);
		if (proto == IPPROTO_ICMPV6)
			r.family = 6, r.alen = 16;
		pg_wr16(r.l4 + r.co, (uint16_t)ref_pseudo(r.family, r.src, r.dst, proto, r.len));

		/* A port change alone leaves a partial checksum as it is. */
		before = rpkt_field(&r);
		{
			uint8_t np[2] = { (uint8_t)rng(), (uint8_t)rng() };

			csum_replace(r.l4 + r.co, r.l4, np, 2, false, true, udp);
			memcpy(r.l4, np, 2);
		}
		ck_assert_uint_eq(rpkt_field(&r), before);

		rpkt_rewrite(&r, true, udp);
		/* The pseudo-header sum of the new addresses, in the field. */
		ck_assert(csum_equiv(rpkt_field(&r),
				     (uint16_t)ref_pseudo(r.family, r.src, r.dst, proto, r.len)));
		/* Complete as the NIC does, then verify from scratch. */
		pg_wr16(r.l4 + r.co, (uint16_t)~ref_sum(r.l4, r.len, 0));
		ck_assert_msg(ref_l4_ok(r.family, r.src, r.dst, proto, r.l4, r.len),
			      "iteration %zu", it);
	}
}
END_TEST

START_TEST(t_udp_zero)
{
	uint8_t l4[64], a_old[4] = { 10, 0, 0, 1 }, a_new[4] = { 192, 0, 2, 7 }, dst[4] = { 10, 0, 0, 2 };
	uint8_t p_new[2] = { 0x12, 0x34 }, f[2];
	uint16_t c;
	unsigned port;

	/* No checksum: stays none, for addresses and ports. */
	pg_udp(l4, 1000, 53, 20);
	l4[6] = l4[7] = 0;
	csum_replace(l4 + 6, a_old, a_new, 4, true, false, true);
	ck_assert(l4[6] == 0 && l4[7] == 0);
	csum_replace(l4 + 6, l4, p_new, 2, false, false, true);
	ck_assert(l4[6] == 0 && l4[7] == 0);
	/* The same zero in a TCP checksum is a value and gets updated. */
	csum_replace(l4 + 6, a_old, a_new, 4, true, false, false);
	ck_assert(l4[6] != 0 || l4[7] != 0);
	/* With offload pending a zero is a sum, not "none" (as the kernel). */
	l4[6] = l4[7] = 0;
	csum_replace(l4 + 6, a_old, a_new, 4, true, true, true);
	ck_assert(l4[6] != 0 || l4[7] != 0);

	/* A result of zero is sent as 0xffff: unchanged data on 0xffff... */
	f[0] = f[1] = 0xff;
	csum_replace(f, p_new, p_new, 2, false, false, true);
	ck_assert(f[0] == 0xff && f[1] == 0xff);
	f[0] = f[1] = 0xff;
	csum_replace(f, p_new, p_new, 2, false, false, false);
	ck_assert(f[0] == 0 && f[1] == 0);   /* TCP may keep the +0 form */

	/* ... and on a real datagram whose new port makes the sum zero. */
	for (port = 0; port < 65536; port++) {
		uint8_t t[64];
		uint32_t s;

		pg_udp(l4, 1000, 53, 20);
		ref_fill_l4(4, a_old, dst, IPPROTO_UDP, l4, 28);
		memcpy(t, l4, 28);
		pg_wr16(t, (uint16_t)port);
		t[6] = t[7] = 0;
		s = ref_fold(ref_sum(t, 28, 0) + ref_pseudo(4, a_old, dst, IPPROTO_UDP, 28));
		if (s != 0xffff)
			continue;
		c = csum_l4(4, a_old, dst, IPPROTO_UDP, t, 28);
		ck_assert_uint_eq(stored(c), 0xffff);
		pg_wr16(f, (uint16_t)port);
		csum_replace(l4 + 6, l4, f, 2, false, false, true);
		ck_assert(l4[6] == 0xff && l4[7] == 0xff);
		break;
	}
	ck_assert_uint_lt(port, 65536);
}
END_TEST

static Suite *csum_suite(void)
{
	Suite *s = suite_create("csum");
	TCase *tc = tcase_create("csum");

	tcase_add_test(tc, t_rfc1071_example);
	tcase_add_test(tc, t_sum_vs_reference);
	tcase_add_test(tc, t_ipv4_header);
	tcase_add_test(tc, t_l4_vs_reference);
	tcase_add_test(tc, t_replace_vs_recompute);
	tcase_add_test(tc, t_replace_ipv4_header);
	tcase_add_test(tc, t_replace_partial);
	tcase_add_test(tc, t_udp_zero);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(csum_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
