// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading a simulator's event log (runner/run/evlog.c): every line is
 * matched to its simulator flow, by id or by addresses (as sent, reversed,
 * or the reply to the NAT mapping), and the cost stays linear in the
 * number of lines. A flood of 50,000 packets used to cost the runner tens
 * of seconds because each line scanned every known flow: the test compares
 * the CPU time of reading 4,000 flows with reading 40,000 in the same
 * process; linear is about 10x, the old scan about 100x.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/run/internal.h"

static const char ini[] =
	"[scenario]\ndescription = evlog test\n"
	"[middlebox nat]\nprofile = linux-conntrack\n"
	"[flow one]\nproto = udp\nidle = 10s\nexpect = alive\n";

static struct scenario *sc;
static char path[64], addrs[64];

static void setup(void)
{
	struct ini_diags dg;

	ini_diags_init(&dg, "evlog.ini");
	sc = scenario_parse(ini, strlen(ini), "evlog.ini", NULL, &dg);
	ck_assert_ptr_nonnull(sc);
	strcpy(path, "/tmp/test_evlog.XXXXXX");
	ck_assert_int_ge(mkstemp(path), 0);
	strcpy(addrs, "/tmp/test_evlog_addrs.XXXXXX");
	ck_assert_int_ge(mkstemp(addrs), 0);
}

static void teardown(void)
{
	unlink(path);
	unlink(addrs);
	scenario_free(sc);
}

/* n flows: each one new (NAT'd), a keepalive by addresses only (as sent),
 * a drop seen from the outside (reply to the mapping), and expired by id.
 * The last is the probe's flow (its client address in the probe's --addrs
 * file; the one before goes to the probe's port too, from an address the
 * probe never had): it is the scenario's flow, to be found among all the
 * others by its address, not by its order. */
static void write_log(size_t n)
{
	FILE *f = fopen(path, "w"), *a = fopen(addrs, "w");

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++) {
		unsigned sport = 1024 + (unsigned)(i % 60000), host = (unsigned)(i / 60000);

		fprintf(f, "{\"event\":\"flow-new\",\"t_ms\":1,\"flow\":%zu,\"proto\":\"udp\",\"src\":\"192.0.2.%u\","
			"\"sport\":%u,\"dst\":\"203.0.113.2\",\"dport\":%u,\"nat_addr\":\"203.0.113.1\","
			"\"nat_port\":%u}\n", i + 1, 2 + host, sport, i + 2 >= n ? 5201 : 9999,
			40000 + (unsigned)(i % 20000) + host);
		if (i + 1 == n)
			fprintf(a, "{\"flow\":\"one\",\"proto\":\"udp\",\"local\":\"192.0.2.%u:%u\"}\n", 2 + host,
				sport);
	}
	fclose(a);
	for (size_t i = 0; i < n; i++) {
		unsigned sport = 1024 + (unsigned)(i % 60000), host = (unsigned)(i / 60000);

		unsigned dport = i + 2 >= n ? 5201 : 9999;

		fprintf(f, "{\"event\":\"keepalive\",\"t_ms\":2,\"proto\":\"udp\",\"src\":\"192.0.2.%u\",\"sport\":%u,"
			"\"dst\":\"203.0.113.2\",\"dport\":%u,\"dir\":\"out\"}\n", 2 + host, sport, dport);
		fprintf(f, "{\"event\":\"drop\",\"t_ms\":3,\"proto\":\"udp\",\"src\":\"203.0.113.2\",\"sport\":%u,"
			"\"dst\":\"203.0.113.1\",\"dport\":%u,\"dir\":\"in\",\"reason\":\"x\"}\n",
			dport, 40000 + (unsigned)(i % 20000) + host);
		fprintf(f, "{\"event\":\"flow-expired\",\"t_ms\":4,\"flow\":%zu,\"idle_ms\":1}\n", i + 1);
	}
	fclose(f);
}

/* Read the log as a run would at its end; CPU seconds spent. */
static double read_log(size_t n, struct scenario_result *res)
{
	static struct run r;
	static int flows[1], lane_of[1], group_of[1];
	static uint64_t flow_end[1];
	struct simproc *s = &r.lane[0].sim[0];
	struct timespec a, b;

	memset(&r, 0, sizeof(r));
	r.lane[0].g[0].flows = flows;
	r.lane_of = lane_of;
	r.group_of = group_of;
	r.flow_end = flow_end;
	r.sc = sc;
	r.nlanes = 1;
	r.lane[0].npath = 1;
	r.lane[0].ng = 1;
	r.lane[0].g[0].port = 5201;
	r.lane[0].g[0].n = 1;
	r.lane[0].g[0].flows[0] = 0;
	snprintf(r.lane[0].g[0].cli_addrs, sizeof(r.lane[0].g[0].cli_addrs), "%s", addrs);
	snprintf(s->events, sizeof(s->events), "%s", path);
	write_log(n);
	result_init_error(res, sc, "not run");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	evlog_read(&r, &r.lane[0], s, res);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	ck_assert_uint_eq(s->nflows, n);
	/* the scenario's flow, found among n by addresses (twice) and by id */
	ck_assert_int_eq(s->flows[n - 1].flow, 0);
	ck_assert(s->flows[n - 1].expired);
	ck_assert_uint_eq(res->flows[0].keepalives_seen, 1);
	ck_assert_uint_eq(res->flows[0].drops, 1);
	ck_assert_int_ge(res->flows[0].expired_ms, 0);
	if (n > 1)      /* toward the probe's port, but not the probe's address */
		ck_assert_int_eq(s->flows[n - 2].flow, -1);
	evlog_free(s);
	evlog_lane_free(&r.lane[0]);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

START_TEST(test_matching)
{
	struct scenario_result res = { 0 };

	read_log(1, &res);
	result_clear(&res);
	read_log(50, &res);
	result_clear(&res);
	read_log(70000, &res);          /* more than one inside host's ports */
	result_clear(&res);
}
END_TEST

START_TEST(test_linear)
{
	struct scenario_result res = { 0 };
	double small, large;

	read_log(4000, &res);           /* warm up allocator and caches */
	result_clear(&res);
	small = read_log(4000, &res);
	result_clear(&res);
	large = read_log(40000, &res);
	result_clear(&res);
	/* 10x the lines: linear is ~10x the time, the old scan ~100x */
	ck_assert_msg(large < small * 35 + 0.05, "4,000 flows %.3f s, 40,000 flows %.3f s: not linear", small, large);
}
END_TEST

/* A flow group's connections are known by NAME.K; a plain flow by NAME. */
START_TEST(test_group_names)
{
	static const char gini[] =
		"[middlebox fw]\n[flow one]\nidle = 1s\nexpect = alive\n"
		"[flow pool]\ncount = 300\nidle = 1s\nexpect = alive >= 1\n"
		"[flow pool.301]\nidle = 1s\nexpect = alive\n";
	static struct run r;
	struct ini_diags dg;
	struct scenario *g;
	unsigned conn = 99;
	struct group *gr = &r.lane[0].g[0];

	ini_diags_init(&dg, "g.ini");
	g = scenario_parse(gini, strlen(gini), "g.ini", NULL, &dg);
	ck_assert_ptr_nonnull(g);
	static int flows[3];

	memset(&r, 0, sizeof(r));
	r.sc = g;
	gr->flows = flows;
	gr->n = 3;
	gr->flows[0] = 0;
	gr->flows[1] = 1;
	gr->flows[2] = 2;
	ck_assert_int_eq(group_flow_of_name(&r, gr, "one", &conn), 0);
	ck_assert_uint_eq(conn, 0);
	ck_assert_int_eq(group_flow_of_name(&r, gr, "pool.1", &conn), 1);
	ck_assert_uint_eq(conn, 0);
	ck_assert_int_eq(group_flow_of_name(&r, gr, "pool.300", &conn), 1);
	ck_assert_uint_eq(conn, 299);
	/* past the group's count: a plain flow's name */
	ck_assert_int_eq(group_flow_of_name(&r, gr, "pool.301", &conn), 2);
	ck_assert_int_eq(group_flow_of_name(&r, gr, "pool.0", &conn), -1);
	ck_assert_int_eq(group_flow_of_name(&r, gr, "pool", &conn), -1);
	ck_assert_int_eq(group_flow_of_name(&r, gr, "one.1", &conn), -1);
	scenario_free(g);
}
END_TEST

/* Write text to a new temporary file named from tmpl; its path into path. */
static void write_file(char *path, const char *tmpl, const char *text)
{
	FILE *f;

	strcpy(path, tmpl);
	ck_assert_int_ge(mkstemp(path), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * A group's evidence is about its connections one by one. Three
 * connections through a NAT and a firewall: pool.1 has a keepalive and a
 * drop, pool.2 three drops and is expired by both middleboxes, pool.3 the
 * probe never reports. The group's totals are the sums, pool.2 counts once
 * as expired, the sample (pool.2, the first that did not meet the
 * expectation) has its own numbers, and pool.3 is "unreported": the
 * histogram's ends add up to the count.
 */
START_TEST(test_group_facts)
{
	static const char gini[] =
		"[middlebox nat]\nprofile = linux-conntrack\nnat = snat\n[middlebox fw]\nprofile = linux-conntrack\n"
		"[flow pool]\npath = nat fw\ncount = 3\nidle = 10s\nexpect = alive\n";
	static const char nat_log[] =
		"{\"event\":\"flow-new\",\"t_ms\":0,\"flow\":1,\"proto\":\"tcp\",\"src\":\"192.0.2.2\",\"sport\":1001,"
		"\"dst\":\"203.0.113.2\",\"dport\":5201,\"nat_addr\":\"198.51.100.1\",\"nat_port\":40001}\n"
		"{\"event\":\"flow-new\",\"t_ms\":0,\"flow\":2,\"proto\":\"tcp\",\"src\":\"192.0.2.2\",\"sport\":1002,"
		"\"dst\":\"203.0.113.2\",\"dport\":5201,\"nat_addr\":\"198.51.100.1\",\"nat_port\":40002}\n"
		"{\"event\":\"keepalive\",\"t_ms\":4000,\"flow\":1,\"dir\":\"out\"}\n"
		"{\"event\":\"drop\",\"t_ms\":5000,\"flow\":1,\"dir\":\"out\",\"reason\":\"x\"}\n"
		"{\"event\":\"flow-expired\",\"t_ms\":6000,\"flow\":2,\"idle_ms\":6000}\n"
		"{\"event\":\"drop\",\"t_ms\":10000,\"flow\":2,\"dir\":\"out\",\"reason\":\"no-flow\"}\n"
		"{\"event\":\"drop\",\"t_ms\":11000,\"flow\":2,\"dir\":\"out\",\"reason\":\"no-flow\"}\n"
		"{\"event\":\"drop\",\"t_ms\":12000,\"flow\":2,\"dir\":\"out\",\"reason\":\"no-flow\"}\n";
	static const char fw_log[] =
		"{\"event\":\"flow-new\",\"t_ms\":0,\"flow\":7,\"proto\":\"tcp\",\"src\":\"198.51.100.1\",\"sport\":40002,"
		"\"dst\":\"203.0.113.2\",\"dport\":5201}\n"
		"{\"event\":\"flow-expired\",\"t_ms\":6000,\"flow\":7,\"idle_ms\":6000}\n";
	static const char addrs_text[] =
		"{\"flow\":\"pool.1\",\"proto\":\"tcp\",\"local\":\"192.0.2.2:1001\"}\n"
		"{\"flow\":\"pool.2\",\"proto\":\"tcp\",\"local\":\"192.0.2.2:1002\"}\n";
	static const char results[] =
		"{\"flow\":\"pool.1\",\"outcome\":\"alive\",\"noticed_by\":\"\",\"at_ms\":10000,\"cycle\":1}\n"
		"{\"flow\":\"pool.2\",\"outcome\":\"timeout\",\"noticed_by\":\"client\",\"at_ms\":40000,\"cycle\":1}\n";
	static struct run r;
	static struct scenario_result res;
	static int gflows[1], lane_of[1], group_of[1];
	static uint64_t flow_end[1];
	struct lane *l = &r.lane[0];
	struct group *g = &l->g[0];
	struct flow_result *fr;
	uint32_t ends = 0, expired = 0;
	struct ini_diags dg;
	struct scenario *gsc;
	char nat[64], fw[64], ad[64], cli[64];

	ini_diags_init(&dg, "g.ini");
	gsc = scenario_parse(gini, strlen(gini), "g.ini", NULL, &dg);
	ck_assert_ptr_nonnull(gsc);
	memset(&r, 0, sizeof(r));
	r.sc = gsc;
	r.nlanes = 1;
	l->npath = 2;
	l->path[0] = 0;
	l->path[1] = 1;
	l->sim[0].mb = 0;
	l->sim[1].mb = 1;
	l->ng = 1;
	g->port = 5201;
	g->flows = gflows;
	g->n = 1;
	r.lane_of = lane_of;
	r.group_of = group_of;
	r.flow_end = flow_end;
	write_file(nat, "/tmp/test_evlog_nat.XXXXXX", nat_log);
	write_file(fw, "/tmp/test_evlog_fw.XXXXXX", fw_log);
	write_file(ad, "/tmp/test_evlog_ad.XXXXXX", addrs_text);
	write_file(cli, "/tmp/test_evlog_cli.XXXXXX", results);
	snprintf(l->sim[0].events, sizeof(l->sim[0].events), "%s", nat);
	snprintf(l->sim[1].events, sizeof(l->sim[1].events), "%s", fw);
	snprintf(g->cli_addrs, sizeof(g->cli_addrs), "%s", ad);
	snprintf(g->cli_json, sizeof(g->cli_json), "%s", cli);

	ck_assert_int_eq(judge_init(&r, &res), 0);
	res.scenario_ms = 60000;
	evlog_facts_reset(&r, &res);
	evlog_read(&r, l, &l->sim[0], &res);
	evlog_read(&r, l, &l->sim[1], &res);
	probe_results(&r, l, g, &res);

	fr = &res.flows[0];
	ck_assert_uint_eq(fr->total.keepalives_seen, 1);
	ck_assert_uint_eq(fr->total.drops, 4);
	ck_assert_uint_eq(fr->total.expired, 1);                /* by both: once */
	ck_assert_int_eq(fr->sample, 1);                        /* pool.2: not alive */
	ck_assert_uint_eq(fr->drops, 3);
	ck_assert_uint_eq(fr->keepalives_seen, 0);
	ck_assert_int_eq(fr->expired_ms, 6000);
	ck_assert_uint_eq(fr->tally[SC_EXPECT_ALIVE], 1);
	ck_assert_uint_eq(fr->tally[SC_EXPECT_TIMEOUT], 1);
	ck_assert_uint_eq(fr->unreported, 1);
	ck_assert_int_eq(fr->status, RES_ERROR);
	ck_assert_msg(strstr(fr->evidence, "across the 3 connections: 1 expired by a middlebox, 4 packets dropped; ") ==
		      fr->evidence, "%s", fr->evidence);
	ck_assert_msg(strstr(fr->evidence, "pool.2: no answer") &&
		      strstr(fr->evidence, "nat and fw expired the flow at 6s, dropped 3 packets)") &&
		      strstr(fr->evidence, "pool.1: data crossed both ways after 10s idle (middleboxes nat, fw kept "
					   "the flow, dropped 1 packet)"), "%s", fr->evidence);
	ck_assert_msg(strstr(fr->observed, "1 alive, 1 timeout, 1 unreported"), "%s", fr->observed);
	for (size_t i = 0; i < res.npoints; i++) {
		ck_assert_int_eq(res.points[i].flow, 0);
		if (res.points[i].kind == GROUP_EXPIRED)
			expired++;
		else
			ends++;
		if (res.points[i].kind == GROUP_UNREPORTED)
			ck_assert_uint_eq(res.points[i].t_ms, 60000);   /* when the run ended */
	}
	ck_assert_uint_eq(ends, 3);
	ck_assert_uint_eq(expired, 1);

	judge_free(&r);
	for (size_t p = 0; p < 2; p++)
		evlog_free(&l->sim[p]);
	evlog_lane_free(l);
	result_clear(&res);
	unlink(nat);
	unlink(fw);
	unlink(ad);
	unlink(cli);
	scenario_free(gsc);
}
END_TEST

static Suite *evlog_suite(void)
{
	Suite *s = suite_create("evlog");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_matching);
	tcase_add_test(tc, test_linear);
	tcase_add_test(tc, test_group_names);
	tcase_add_test(tc, test_group_facts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evlog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
