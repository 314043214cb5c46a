// SPDX-License-Identifier: GPL-2.0-or-later
/* The probe wire format (probes/proto.c): every message round-trips, and the
 * parser refuses what a stranger might send. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "probes/proto.h"

static void roundtrip(const struct proto_msg *m, const char *want)
{
	char buf[PROTO_LINE_MAX], again[PROTO_LINE_MAX];
	struct proto_msg back;
	int n = probe_proto_format(m, buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(probe_proto_parse(buf, (size_t)n, &back), 0);
	ck_assert_int_eq(back.type, m->type);
	ck_assert_int_eq(probe_proto_format(&back, again, sizeof(again)), n);
	ck_assert_str_eq(again, buf);
}

START_TEST(test_roundtrip)
{
	struct proto_msg m = { .type = PM_HELLO, .id = 0x0123456789abcdefull };
	struct probe_plan p;
	char err[128];

	ck_assert_int_eq(probe_plan_parse("name=ka,idle=10s,speaker=server,cycles=2,heartbeat=250ms,"
				    "deadline=3s,server_keepalive=1s/2s/3,server_end=reset",
				    &p, err, sizeof(err)),
			 0);
	probe_proto_hello_from_plan(&m.hello, &p);
	roundtrip(&m, "IGP1 HELLO 0123456789abcdef ka tcp 10000 server 2 250 3000 1/2/3 reset\n");
	/* server heartbeats: an optional last field, only written when set */
	ck_assert_int_eq(probe_plan_parse("name=shb,proto=udp,idle=10s,server_heartbeat=1.5s", &p, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(p.server_heartbeat_ms, 1500);
	probe_proto_hello_from_plan(&m.hello, &p);
	ck_assert_uint_eq(m.hello.shb_ms, 1500);
	roundtrip(&m, "IGP1 HELLO 0123456789abcdef shb udp 10000 client 1 0 5000 off none shb=1500\n");
	m.hello.shb_ms = 50; /* below what a plan allows */
	ck_assert_int_eq(probe_proto_format(&m, (char[256]){ 0 }, 256), -1);
	ck_assert_int_eq(probe_plan_parse("name=x,server_heartbeat=50ms", &p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "server_heartbeat"));
	ck_assert_int_eq(probe_plan_parse("name=x,server_heartbeat=off", &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.server_heartbeat_ms, 0);

	memset(&m, 0, sizeof(m));
	m.type = PM_WELCOME;
	m.id = 1;
	strcpy(m.addr, "192.0.2.1:40000");
	roundtrip(&m, "IGP1 WELCOME 0000000000000001 192.0.2.1:40000\n");
	m.type = PM_PONG;
	m.seq = 7;
	strcpy(m.addr, "[2001:db8::1]:7201");
	roundtrip(&m, "IGP1 PONG 0000000000000001 7 [2001:db8::1]:7201\n");
	m.type = PM_PING;
	roundtrip(&m, "IGP1 PING 0000000000000001 7\n");
	m.type = PM_HB;
	m.seq = 0;
	roundtrip(&m, "IGP1 HB 0000000000000001 0\n");
	m.type = PM_BYE;
	roundtrip(&m, "IGP1 BYE 0000000000000001\n");
	m.type = PM_QUERY;
	roundtrip(&m, "IGP1 QUERY 0000000000000001\n");
	m.type = PM_MAP;
	m.change = PC_BOTH;
	roundtrip(&m, "IGP1 MAP 0000000000000001 both\n");
	m.change = PC_NONE;
	roundtrip(&m, "IGP1 MAP 0000000000000001 none\n");
	m.type = PM_MAPPED;
	strcpy(m.addr, "198.51.100.7:40000");
	roundtrip(&m, "IGP1 MAPPED 0000000000000001 198.51.100.7:40000 -\n");
	strcpy(m.other, "[2001:db8::2]:7202");
	roundtrip(&m, "IGP1 MAPPED 0000000000000001 198.51.100.7:40000 [2001:db8::2]:7202\n");
	m.other[0] = '\0';
	m.type = PM_ERROR;
	m.id = 0;
	strcpy(m.reason, "bad-hello");
	roundtrip(&m, "IGP1 ERROR - bad-hello\n");
	memset(&m, 0, sizeof(m));
	m.type = PM_RESULT;
	m.id = 2;
	m.outcome = OUT_KA_TIMEOUT;
	m.cycle = 1;
	m.has_at = 1;
	m.at_ms = -5;
	m.json = "{\"a\": 1}";
	m.json_len = strlen(m.json);
	roundtrip(&m, "IGP1 RESULT 0000000000000002 keepalive-timeout 1 -5 {\"a\": 1}\n");
}
END_TEST

START_TEST(test_parse_fields)
{
	struct proto_msg m;
	const char *s = "IGP1 RESULT 00000000000000ff reset 0 - {\"x\":\"y z\"}";

	ck_assert_int_eq(probe_proto_parse(s, strlen(s), &m), 0);
	ck_assert_uint_eq(m.id, 255);
	ck_assert_int_eq(m.outcome, OUT_RESET);
	ck_assert(!m.has_at);
	ck_assert_uint_eq(m.json_len, strlen("{\"x\":\"y z\"}"));
	ck_assert(m.json == s + strlen("IGP1 RESULT 00000000000000ff reset 0 - "));
	s = "IGP1 HELLO 00000000000000aa u1 udp 0 client 1 0 10 off none\n";
	ck_assert_int_eq(probe_proto_parse(s, strlen(s), &m), 0);
	ck_assert_str_eq(m.hello.name, "u1");
	ck_assert_int_eq(m.hello.proto, PLAN_UDP);
	ck_assert_uint_eq(m.hello.deadline_ms, 10);
	ck_assert_uint_eq(m.hello.shb_ms, 0);
	s = "IGP1 HELLO 00000000000000aa u1 udp 0 client 1 0 10 off none shb=100\n";
	ck_assert_int_eq(probe_proto_parse(s, strlen(s), &m), 0);
	ck_assert_uint_eq(m.hello.shb_ms, 100);
}
END_TEST

static const char *const bad[] = {
	"",
	"\n",
	"IGP1",
	"IGP1 ",
	"IGP1 PING",
	"IGP1 PING 0000000000000001",
	"IGP1 PING 0000000000000001 0",             /* cycles count from 1 */
	"IGP1 PING 0000000000000001 01",            /* leading zero */
	"IGP1 PING 0000000000000001 1 ",            /* trailing space */
	"IGP1  PING 0000000000000001 1",            /* double space */
	"IGP1 PING 0000000000000001  1",
	"IGP1 PING 000000000000001 1",              /* 15 hex digits */
	"IGP1 PING 00000000000000001 1",            /* 17 */
	"IGP1 PING 000000000000000A 1",             /* upper case */
	"IGP1 PING 0000000000000001 4294967296",    /* > u32 */
	"IGP1 PING 0000000000000001 1 extra",
	"IGP1 ping 0000000000000001 1",
	"IGP1 PING 0000000000000001 1\n\n",
	"IGP1 PING 0000000000000001\t1",
	"igp1 PING 0000000000000001 1",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 off",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 off none x",
	"IGP1 HELLO 0000000000000001 k/a tcp 1000 client 1 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka sctp 1000 client 1 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 both 1 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 0 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 10001 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 50 5000 off none",   /* heartbeat < 100 ms */
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5 off none",       /* deadline < 10 ms */
	"IGP1 HELLO 0000000000000001 ka tcp 99999999999999 client 1 0 5000 off none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 1/2 none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 1/2/3/4 none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 0/2/3 none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 1/2/128 none",
	"IGP1 HELLO 0000000000000001 ka tcp 1000 client 1 0 5000 off kill",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 1/1/1 none",  /* keepalive on udp */
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off reset",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=0",   /* absent, not 0 */
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=99",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=0100",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=700000000",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none hb=100",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=100 ",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none shb=100 shb=100",
	"IGP1 HELLO 0000000000000001 ka udp 1000 client 1 0 5000 off none 100",
	"IGP1 WELCOME 0000000000000001 example.com:80",
	"IGP1 WELCOME 0000000000000001 192.0.2.1",
	"IGP1 WELCOME 0000000000000001 192.0.2.1:65536",
	"IGP1 WELCOME 0000000000000001 :80",
	"IGP1 WELCOME 0000000000000001 [::1:80",
	"IGP1 WELCOME 0000000000000001 ::1:80",
	"IGP1 RESULT 0000000000000001 alive 1 5",
	"IGP1 RESULT 0000000000000001 alive 1 5 []",
	"IGP1 RESULT 0000000000000001 alive 1 5 {",
	"IGP1 RESULT 0000000000000001 none 1 5 {}",
	"IGP1 RESULT 0000000000000001 alive 1 -0 {}",
	"IGP1 RESULT 0000000000000001 alive 1 x {}",
	"IGP1 ERROR - Bad",
	"IGP1 ERROR - bad_hello",
	"IGP1 ERROR -",
	"IGP1 QUERY -",
	"IGP1 MAP 0000000000000001",
	"IGP1 MAP 0000000000000001 None",
	"IGP1 MAP 0000000000000001 addr port",
	"IGP1 MAP 0000000000000001 none ",
	"IGP1 MAP -",
	"IGP1 MAPPED 0000000000000001 198.51.100.7:40000",
	"IGP1 MAPPED 0000000000000001 198.51.100.7:40000 :7202",
	"IGP1 MAPPED 0000000000000001 198.51.100.7:40000 --",
	"IGP1 MAPPED 0000000000000001 198.51.100.7:40000 - -",
	"IGP1 MAPPED 0000000000000001 - 203.0.113.3:7202",
	"GET / HTTP/1.1",
	"SSH-2.0-OpenSSH_9.2",
};

START_TEST(test_refused)
{
	struct proto_msg m;

	errno = 0;
	ck_assert_msg(probe_proto_parse(bad[_i], strlen(bad[_i]), &m) == -1, "accepted '%s'", bad[_i]);
	ck_assert(errno == EINVAL || errno == EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_version_and_nul)
{
	struct proto_msg m;
	const char with_nul[] = "IGP1 BYE 0000000000000001\0x";

	ck_assert_int_eq(probe_proto_parse("IGP2 HELLO x", 12, &m), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	ck_assert_int_eq(probe_proto_parse(with_nul, sizeof(with_nul) - 1, &m), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* a line of the maximum length is refused as a whole */
	{
		static char big[PROTO_LINE_MAX + 10];
		memset(big, 'a', sizeof(big));
		memcpy(big, "IGP1 RESULT 0000000000000001 alive 1 5 {", 40);
		big[sizeof(big) - 1] = '}';
		ck_assert_int_eq(probe_proto_parse(big, sizeof(big), &m), -1);
	}
}
END_TEST

START_TEST(test_format_refuses)
{
	struct proto_msg m = { .type = PM_WELCOME, .id = 1 };
	char small[8], buf[256];

	strcpy(m.addr, "not an address");
	ck_assert_int_eq(probe_proto_format(&m, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EINVAL);
	strcpy(m.addr, "127.0.0.1:1");
	ck_assert_int_eq(probe_proto_format(&m, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	m.type = PM_RESULT;
	m.outcome = OUT_ALIVE;
	m.json = "{\n}";
	m.json_len = 3;
	ck_assert_int_eq(probe_proto_format(&m, buf, sizeof(buf)), -1);
}
END_TEST

START_TEST(test_addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[PROTO_ADDR_MAX];

	ck_assert_int_eq(probe_proto_addr_parse("127.0.0.1:7201", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_str_eq(probe_proto_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)), "127.0.0.1:7201");
	ck_assert_int_eq(probe_proto_addr_parse("[::1]:0", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_str_eq(probe_proto_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)), "[::1]:0");
	ck_assert_int_eq(probe_proto_addr_parse(":7201", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(probe_proto_addr_parse("localhost:1", &ss, &len), -1);
	ck_assert_int_eq(probe_proto_addr_parse("1.2.3.4:", &ss, &len), -1);
	ck_assert_int_eq(probe_proto_addr_parse("1.2.3.4:-1", &ss, &len), -1);
	ck_assert_int_eq(probe_proto_addr_parse("[1.2.3.4]:1", &ss, &len), -1);
	ck_assert_int_eq(probe_proto_addr_parse("[]:1", &ss, &len), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probe_proto");
	TCase *tc = tcase_create("proto");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_parse_fields);
	tcase_add_loop_test(tc, test_refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_version_and_nul);
	tcase_add_test(tc, test_format_refuses);
	tcase_add_test(tc, test_addr);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
