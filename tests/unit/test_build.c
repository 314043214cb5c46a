// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for build.c: every built packet is parsed back with
 * pkt_parse() and its IP and transport checksums are verified by full
 * recomputation with the byte-wise reference in pktcraft.h.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/engine/build.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/pkt.h"
#include "tests/unit/pktcraft.h"

static uint8_t buf[BUILD_MAX], orig_b[PG_MAX], l4b[PG_MAX], ext[64];

static struct pkt_tuple tuple(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	struct pkt_tuple t;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(addr_parse(src, &t.src), 0);
	ck_assert_int_eq(addr_parse(dst, &t.dst), 0);
	t.sport = sport;
	t.dport = dport;
	t.proto = IPPROTO_TCP;
	t.family = addr_is_v4(&t.src) ? 4 : 6;
	return t;
}

static void assert_tuple_eq(const struct pkt_tuple *a, const struct pkt_tuple *b)
{
	ck_assert(memcmp(&a->src, &b->src, sizeof(a->src)) == 0);
	ck_assert(memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0);
	ck_assert_int_eq(a->sport, b->sport);
	ck_assert_int_eq(a->dport, b->dport);
	ck_assert_int_eq(a->proto, b->proto);
	ck_assert_int_eq(a->family, b->family);
}

/* Parse a built packet back and verify all its checksums from scratch. */
static void parse_verified(struct pkt *p, const uint8_t *b, int n)
{
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, BUILD_MAX);
	ck_assert_int_eq(pkt_parse(p, b, (size_t)n, (size_t)n), 0);
	if (p->t.family == 4) {
		ck_assert_uint_eq(ref_sum(b, 20, 0), 0xffff);
		ck_assert_int_eq(b[8], 64);
		ck_assert(ref_l4_ok(4, b + 12, b + 16, p->t.proto, b + p->l4_off, p->l4_len));
	} else {
		ck_assert_int_eq(b[7], 64);
		ck_assert(ref_l4_ok(6, b + 8, b + 24, p->t.proto, b + p->l4_off, p->l4_len));
	}
	ck_assert_uint_eq((size_t)p->l4_off + p->l4_len, (size_t)n);
}

START_TEST(t_tcp_v4)
{
	struct pkt_tuple t = tuple("192.0.2.1", "198.51.100.2", 1234, 80);
	struct pkt p;
	int n;

	n = build_tcp(buf, sizeof(buf), &t, TCPF_RST, 1000, 5);
	ck_assert_int_eq(n, 40);
	parse_verified(&p, buf, n);
	assert_tuple_eq(&p.t, &t);
	ck_assert_int_eq(p.tcp_flags, TCPF_RST);
	ck_assert_uint_eq(p.seq, 1000);
	ck_assert_uint_eq(p.ack, 0);   /* no ACK flag, no acknowledgement */
	ck_assert_int_eq(p.win, 0);
	ck_assert_int_eq(p.payload_len, 0);
	ck_assert(!p.is_frag);

	n = build_tcp(buf, sizeof(buf), &t, TCPF_RST | TCPF_ACK, 0, 0xdeadbeef);
	parse_verified(&p, buf, n);
	ck_assert_int_eq(p.tcp_flags, TCPF_RST | TCPF_ACK);
	ck_assert_uint_eq(p.ack, 0xdeadbeef);
	ck_assert_int_eq(p.win, 0);

	n = build_tcp(buf, sizeof(buf), &t, TCPF_FIN | TCPF_ACK, 77, 88);
	parse_verified(&p, buf, n);
	ck_assert_int_eq(p.tcp_flags, TCPF_FIN | TCPF_ACK);
	ck_assert_uint_eq(p.seq, 77);
	ck_assert_uint_eq(p.ack, 88);
	ck_assert_int_eq(p.win, 65535);
	/* The checksum functions under test agree with the reference. */
	{
		uint16_t c = csum_l4(4, buf + 12, buf + 16, IPPROTO_TCP, buf + 20, 20);

		ck_assert(memcmp(&c, buf + 36, 2) == 0);
		c = csum_ipv4_header(buf, 20);
		ck_assert(memcmp(&c, buf + 10, 2) == 0);
	}
}
END_TEST

START_TEST(t_tcp_v6)
{
	struct pkt_tuple t = tuple("2001:db8::1", "2001:db8:ffff::2", 50000, 443);
	struct pkt p;
	int n;

	n = build_tcp(buf, sizeof(buf), &t, TCPF_FIN | TCPF_ACK, 0xfffffffe, 1);
	ck_assert_int_eq(n, 60);
	parse_verified(&p, buf, n);
	assert_tuple_eq(&p.t, &t);
	ck_assert_int_eq(p.tcp_flags, TCPF_FIN | TCPF_ACK);
	ck_assert_uint_eq(p.seq, 0xfffffffe);
	ck_assert_uint_eq(p.ack, 1);
	ck_assert_int_eq(p.win, 65535);
	ck_assert_int_eq(p.l4_off, 40);

	n = build_tcp(buf, sizeof(buf), &t, TCPF_RST, 5, 0);
	parse_verified(&p, buf, n);
	ck_assert_int_eq(p.win, 0);
	ck_assert_int_eq(p.tcp_flags, TCPF_RST);

	/* family left 0: taken from the addresses */
	t.family = 0;
	n = build_tcp(buf, sizeof(buf), &t, TCPF_ACK, 1, 2);
	parse_verified(&p, buf, n);
	ck_assert_int_eq(p.t.family, 6);
}
END_TEST

START_TEST(t_tcp_random_roundtrip)
{
	static const char *a4[] = { "0.0.0.0", "10.0.0.1", "255.255.255.255", "192.0.2.200" };
	static const char *a6[] = { "::1", "2001:db8::", "fe80::1:2:3:4", "ffff:ffff::ffff" };
	uint32_t x = 0x9e3779b9;
	int i;

	for (i = 0; i < 2000; i++) {
		struct pkt_tuple t;
		struct pkt p;
		uint8_t flags;
		int n;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (x & 1)
			t = tuple(a4[x >> 1 & 3], a4[x >> 3 & 3], (uint16_t)(x >> 5), (uint16_t)(x >> 11));
		else
			t = tuple(a6[x >> 1 & 3], a6[x >> 3 & 3], (uint16_t)(x >> 5), (uint16_t)(x >> 11));
		flags = (uint8_t)(x >> 24);
		n = build_tcp(buf, sizeof(buf), &t, flags, x * 3, x * 7);
		parse_verified(&p, buf, n);
		assert_tuple_eq(&p.t, &t);
		ck_assert_int_eq(p.tcp_flags, flags);
		ck_assert_uint_eq(p.seq, x * 3);
		ck_assert_uint_eq(p.ack, flags & TCPF_ACK ? x * 7 : 0);
	}
}
END_TEST

START_TEST(t_tcp_bad_args)
{
	struct pkt_tuple t = tuple("192.0.2.1", "198.51.100.2", 1, 2), u;
	size_t len;

	/* Too small, at every length; the exact size suffices. Heap buffers
	 * of the exact size let ASan see any write past the end. */
	for (len = 0; len < 40; len++) {
		uint8_t *b = malloc(len ? len : 1);

		errno = 0;
		ck_assert_int_eq(build_tcp(b, len, &t, TCPF_RST, 1, 2), -1);
		ck_assert_int_eq(errno, ENOBUFS);
		free(b);
	}
	{
		uint8_t *b = malloc(40);

		ck_assert_int_eq(build_tcp(b, 40, &t, TCPF_RST, 1, 2), 40);
		free(b);
	}
	/* Mixed families. */
	u = t;
	ck_assert_int_eq(addr_parse("2001:db8::1", &u.dst), 0);
	errno = 0;
	ck_assert_int_eq(build_tcp(buf, sizeof(buf), &u, TCPF_RST, 1, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	u = t;
	u.family = 6;
	ck_assert_int_eq(build_tcp(buf, sizeof(buf), &u, TCPF_RST, 1, 2), -1);
}
END_TEST

/* Parse the original, build the error from `from`, parse it back. */
static int unreach(struct pkt *err, struct pkt *orig, const uint8_t *o, size_t caplen,
		   size_t wire, const char *from, uint8_t code)
{
	union addr f;
	int n;

	ck_assert_int_eq(pkt_parse(orig, o, caplen, wire), 0);
	ck_assert_int_eq(addr_parse(from, &f), 0);
	n = build_icmp_unreach(buf, sizeof(buf), &f, orig, code);
	parse_verified(err, buf, n);
	ck_assert(err->icmp_error);
	ck_assert_int_eq(err->icmp_code, code);
	ck_assert(memcmp(&err->t.src, &f, sizeof(f)) == 0);
	ck_assert(memcmp(&err->t.dst, &orig->t.src, sizeof(f)) == 0);
	return n;
}

START_TEST(t_icmp_v4)
{
	static const uint8_t opts[] = { 1, 1, 1, 1, 1, 1, 1, 0 };
	struct pkt o, e;
	size_t m, n;
	int k;

	m = pg_tcp(l4b, 5555, 80, 1, 2, TCPF_ACK, 3, NULL, 0, 100);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_TCP, NULL, 0, 0x4000, l4b, m);
	k = unreach(&e, &o, orig_b, n, n, "192.0.2.254", 13);
	/* short enough to be quoted whole, as Linux does (576-byte limit) */
	ck_assert_int_eq(k, 20 + 8 + (int)n);
	ck_assert_int_eq(e.t.proto, IPPROTO_ICMP);
	ck_assert_int_eq(e.icmp_type, 3);
	ck_assert(e.inner_ok);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert_int_eq(e.inner_l4_caplen, n - 20);
	/* The quote is the original's first bytes, unchanged. */
	ck_assert(memcmp(buf + 28, orig_b, n) == 0);
	/* Bytes 4..7 of a destination unreachable are unused: zero. */
	ck_assert(buf[24] == 0 && buf[25] == 0 && buf[26] == 0 && buf[27] == 0);

	/* IP options are quoted with the header. */
	m = pg_udp(l4b, 3478, 3479, 50);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, opts, sizeof(opts), 0, l4b, m);
	k = unreach(&e, &o, orig_b, n, n, "203.0.113.9", 3);
	ck_assert_int_eq(k, 20 + 8 + (int)n);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert(memcmp(buf + 28, orig_b, n) == 0);

	/* Longer than 576 bytes in all: cut to fit. */
	m = pg_udp(l4b, 3478, 3479, 1000);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, NULL, 0, 0, l4b, m);
	k = unreach(&e, &o, orig_b, n, n, "203.0.113.9", 3);
	ck_assert_int_eq(k, 576);
	ck_assert(memcmp(buf + 28, orig_b, 548) == 0);

	/* ICMP echo: the identifier comes back as the inner ports. */
	m = pg_icmp(l4b, 8, 0, 0x44440009, (const uint8_t *)"0123456789", 10);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_ICMP, NULL, 0, 0, l4b, m);
	unreach(&e, &o, orig_b, n, n, "192.0.2.254", 1);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert_int_eq(e.inner.sport, 0x4444);

	/* A header-only capture quotes what there is. */
	m = pg_tcp(l4b, 5555, 80, 1, 2, TCPF_ACK, 3, NULL, 0, 1000);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_TCP, NULL, 0, 0, l4b, m);
	k = unreach(&e, &o, orig_b, 40, n, "192.0.2.254", 3);
	ck_assert_int_eq(k, 20 + 8 + 40);
	assert_tuple_eq(&e.inner, &o.t);

	/* A non-first fragment is quoted too. */
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_UDP, NULL, 0, 100, l4b, 64);
	k = unreach(&e, &o, orig_b, n, n, "192.0.2.254", 3);
	ck_assert_int_eq(k, 20 + 8 + (int)n);
	ck_assert(!e.inner_ok);
}
END_TEST

START_TEST(t_icmp_v6)
{
	struct pkt o, e;
	size_t m, n, x;
	int k;

	/* Within the 1280-byte limit: quoted whole. */
	m = pg_udp(l4b, 5000, 5001, 300);
	n = pg_ip6(orig_b, "2001:db8::2", "2001:db8:9::9", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, m);
	k = unreach(&e, &o, orig_b, n, n, "2001:db8:ff::1", 4);
	ck_assert_int_eq(k, 40 + 8 + (int)n);
	ck_assert_int_eq(e.t.proto, IPPROTO_ICMPV6);
	ck_assert_int_eq(e.icmp_type, 1);
	ck_assert(e.inner_ok);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert(memcmp(buf + 48, orig_b, n) == 0);
	/* The pseudo-header counts: with another destination it fails. */
	buf[39] ^= 1;
	ck_assert(!ref_l4_ok(6, buf + 8, buf + 24, IPPROTO_ICMPV6, buf + 40, (size_t)k - 40));
	buf[39] ^= 1;

	/* Shorter: quoted whole. */
	m = pg_tcp(l4b, 40000, 22, 1, 2, TCPF_SYN, 3, NULL, 0, 0);
	n = pg_ip6(orig_b, "2001:db8::2", "2001:db8:9::9", IPPROTO_TCP, NULL, 0, IPPROTO_TCP, l4b, m);
	k = unreach(&e, &o, orig_b, n, n, "2001:db8:ff::1", 1);
	ck_assert_int_eq(k, 40 + 8 + 60);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert_int_eq(e.inner_l4_caplen, 20);

	/* Extension headers survive the quote. */
	x = pg_ext_opts(ext, 44, 0);
	x += pg_ext_frag(ext + x, IPPROTO_UDP, 0, 1);
	m = pg_udp(l4b, 6000, 6001, 40);
	n = pg_ip6(orig_b, "2001:db8::2", "2001:db8:9::9", 0, ext, x, IPPROTO_UDP, l4b, m);
	unreach(&e, &o, orig_b, n, n, "2001:db8:ff::1", 0);
	assert_tuple_eq(&e.inner, &o.t);

	/* ICMPv6 echo. */
	m = pg_icmp(l4b, 128, 0, 0x12120001, (const uint8_t *)"abc", 3);
	n = pg_ip6(orig_b, "2001:db8::2", "2001:db8:9::9", IPPROTO_ICMPV6, NULL, 0, IPPROTO_ICMPV6, l4b, m);
	unreach(&e, &o, orig_b, n, n, "2001:db8:ff::1", 3);
	assert_tuple_eq(&e.inner, &o.t);
	ck_assert_int_eq(e.inner.dport, 0x1212);

	/* Header-only capture of a long packet. */
	m = pg_udp(l4b, 5000, 5001, 1000);
	n = pg_ip6(orig_b, "2001:db8::2", "2001:db8:9::9", IPPROTO_UDP, NULL, 0, IPPROTO_UDP, l4b, m);
	k = unreach(&e, &o, orig_b, 64, n, "2001:db8:ff::1", 4);
	ck_assert_int_eq(k, 40 + 8 + 64);
	assert_tuple_eq(&e.inner, &o.t);
}
END_TEST

START_TEST(t_icmp_of_icmp_error)
{
	struct pkt o, e, inner;
	size_t m, n, q;

	/* Quoting an ICMP error works; whether to send it is policy. */
	m = pg_udp(l4b, 1, 2, 0);
	q = pg_ip4(orig_b + 1000, "10.0.0.2", "10.0.0.3", IPPROTO_UDP, NULL, 0, 0, l4b, m);
	m = pg_icmp(l4b, 3, 3, 0, orig_b + 1000, q);
	n = pg_ip4(orig_b, "10.0.0.3", "10.0.0.2", IPPROTO_ICMP, NULL, 0, 0, l4b, m);
	ck_assert_int_eq(pkt_parse(&inner, orig_b, n, n), 0);
	ck_assert(inner.icmp_error);
	unreach(&e, &o, orig_b, n, n, "10.0.0.1", 3);
	ck_assert(!e.inner_ok);
	ck_assert_int_eq(e.inner.proto, IPPROTO_ICMP);
}
END_TEST

START_TEST(t_icmp_bad_args)
{
	struct pkt o;
	union addr f4, f6;
	size_t m, n, len;

	addr_parse("192.0.2.254", &f4);
	addr_parse("2001:db8::fe", &f6);
	m = pg_tcp(l4b, 5555, 80, 1, 2, TCPF_ACK, 3, NULL, 0, 100);
	n = pg_ip4(orig_b, "10.0.0.2", "203.0.113.9", IPPROTO_TCP, NULL, 0, 0, l4b, m);
	ck_assert_int_eq(pkt_parse(&o, orig_b, n, n), 0);
	size_t need = 28 + n;
	for (len = 0; len < need; len++) {
		uint8_t *b = malloc(len ? len : 1);

		errno = 0;
		ck_assert_int_eq(build_icmp_unreach(b, len, &f4, &o, 3), -1);
		ck_assert_int_eq(errno, ENOBUFS);
		free(b);
	}
	ck_assert_int_eq(build_icmp_unreach(buf, need, &f4, &o, 3), (int)need);
	/* From an address of the other family. */
	errno = 0;
	ck_assert_int_eq(build_icmp_unreach(buf, sizeof(buf), &f6, &o, 3), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Not a parsed packet. */
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(build_icmp_unreach(buf, sizeof(buf), &f4, &o, 3), -1);
}
END_TEST

static Suite *build_suite(void)
{
	Suite *s = suite_create("build");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, t_tcp_v4);
	tcase_add_test(tc, t_tcp_v6);
	tcase_add_test(tc, t_tcp_random_roundtrip);
	tcase_add_test(tc, t_tcp_bad_args);
	tcase_add_test(tc, t_icmp_v4);
	tcase_add_test(tc, t_icmp_v6);
	tcase_add_test(tc, t_icmp_of_icmp_error);
	tcase_add_test(tc, t_icmp_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(build_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
