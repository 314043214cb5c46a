// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the scenario parser (runner/model/scenario.c): the model built
 * from good files value by value, and a corpus of broken files in
 * tests/data/broken/ whose first line says the diagnostic each must produce
 * ("; expect: LINE: MESSAGE"), plus inputs that are awkward to keep as files
 * (NUL bytes, CRLF, BOM) and seeded random mutations that must never crash.
 * Run from the repository root (as `make unit` does).
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/iniread.h"
#include "runner/model/scenario.h"
#include "limits_cases.h"

static glob_t broken;

static char *slurp(const char *path, size_t *len)
{
	char *buf = iniread_slurp(path, 1 << 20, len);

	ck_assert_msg(buf, "cannot read %s (run from the repository root)", path);
	return buf;
}

/* "LINE: MSG" of the first diagnostic */
static void first_diag(const struct ini_diags *dg, char *out, size_t len)
{
	ck_assert_msg(dg->n > 0, "no diagnostic");
	snprintf(out, len, "%d: %s", dg->d[0].line, dg->d[0].msg);
}

START_TEST(t_broken_corpus)
{
	const char *path = broken.gl_pathv[_i];
	struct ini_diags dg;
	char *buf, *nl, got[1024];
	const char *want;
	size_t len;

	buf = slurp(path, &len);
	ck_assert_msg(!strncmp(buf, "; expect: ", 10), "%s: first line must be '; expect: LINE: MSG'", path);
	nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	want = buf + 10;
	*nl = '\n';
	{
		char w[1024];
		snprintf(w, sizeof(w), "%.*s", (int)(nl - want), want);
		struct scenario *sc = scenario_load(path, &dg);
		ck_assert_msg(sc == NULL, "%s: parsed without error", path);
		first_diag(&dg, got, sizeof(got));
		ck_assert_msg(!strcmp(got, w), "%s:\n  want %s\n  got  %s", path, w, got);
	}
	free(buf);
}
END_TEST

/* Whole-file problems (tests/data/broken/whole/EXPECT: "FILE: LINE: MSG"),
 * and the files that are not files: a FIFO, a device, an empty name. */
START_TEST(t_broken_whole_files)
{
	FILE *f = fopen("tests/data/broken/whole/EXPECT", "r");
	char line[1024], path[512], got[1024], tmpl[] = "/tmp/test_scenario.XXXXXX";
	struct ini_diags dg;
	int cases = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (line[0] == '#' || !colon)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*colon = '\0';
		snprintf(path, sizeof(path), "tests/data/broken/whole/%.400s", line);
		ck_assert_msg(scenario_load(path, &dg) == NULL, "%s: parsed without error", path);
		first_diag(&dg, got, sizeof(got));
		ck_assert_msg(!strcmp(got, colon + 2), "%s:\n  want %s\n  got  %s", path, colon + 2, got);
		cases++;
	}
	fclose(f);
	ck_assert_int_ge(cases, 6);

	ck_assert_ptr_null(scenario_load("/dev/null", &dg));
	first_diag(&dg, got, sizeof(got));
	ck_assert_str_eq(got, "0: not a regular file (a FIFO, device or socket)");
	ck_assert_ptr_null(scenario_load("", &dg));
	first_diag(&dg, got, sizeof(got));
	ck_assert_str_eq(got, "0: an empty file name (an empty argument?)");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/fifo.ini", tmpl);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_ptr_null(scenario_load(path, &dg));   /* must not wait for a writer */
	first_diag(&dg, got, sizeof(got));
	ck_assert_str_eq(got, "0: not a regular file (a FIFO, device or socket)");
	unlink(path);
	rmdir(tmpl);
}
END_TEST

/* Messages keep the whole path, however long. */
START_TEST(t_long_path_in_messages)
{
	char path[1200], got[PATH_MAX + 800];
	struct ini_diags dg;
	size_t n = 0;

	n += (size_t)snprintf(path + n, sizeof(path) - n, "/nonexistent");
	while (n < 1000)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/a-rather-long-folder-name");
	snprintf(path + n, sizeof(path) - n, "/scenario.ini");
	ck_assert_ptr_null(scenario_load(path, &dg));
	ini_diag_format(&dg, 0, got, sizeof(got));
	ck_assert_msg(!strncmp(got, path, strlen(path)) && got[strlen(path)] == ':', "%s", got);
}
END_TEST

/* One keepalive syntax: the probe's 60s/20s/3 is taken as 60s,20s,3. */
START_TEST(t_keepalive_slash_form)
{
	static const char text[] = "[middlebox nat]\n[flow a]\nidle = 10s\nkeepalive = 60s/20s/3\n"
				   "expect = alive\n";
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(text, sizeof(text) - 1, "ka.ini", NULL, &dg);

	ck_assert_msg(sc != NULL, "%s", dg.n ? dg.d[0].msg : "?");
	ck_assert_int_eq(sc->flows[0].keepalive, SC_KA_SET);
	ck_assert_uint_eq(sc->flows[0].ka_idle.ms, 60000);
	ck_assert_uint_eq(sc->flows[0].ka_intvl.ms, 20000);
	ck_assert_uint_eq(sc->flows[0].ka_count, 3);
	scenario_free(sc);
}
END_TEST

/* A scenario read from a pipe behind a link, as /dev/stdin or a shell's
 * <(...) give it. */
START_TEST(t_scenario_from_pipe)
{
	static const char text[] = "[middlebox nat]\n[flow a]\nidle = 10s\nexpect = alive\n";
	struct ini_diags dg;
	struct scenario *sc;
	char path[64];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(p[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
	sc = scenario_load(path, &dg);
	ck_assert_msg(sc != NULL, "a scenario from a pipe: %s", dg.n ? dg.d[0].msg : "?");
	ck_assert_uint_eq(sc->nflows, 1);
	scenario_free(sc);
	close(p[0]);
}
END_TEST

START_TEST(t_corpus_is_there)
{
	/* a glob that finds nothing would make the corpus test vacuous */
	ck_assert_uint_ge(broken.gl_pathc, 40);
}
END_TEST

START_TEST(t_good_files)
{
	const char *patterns[] = { "scenarios/examples/*.ini", "scenarios/*.ini", "tests/data/good/*.ini" };
	size_t total = 0;

	for (size_t p = 0; p < 3; p++) {
		glob_t g;
		if (glob(patterns[p], 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct ini_diags dg;
			char msg[1024];
			struct scenario *sc = scenario_load(g.gl_pathv[i], &dg);
			if (!sc)
				ini_diag_format(&dg, 0, msg, sizeof(msg));
			ck_assert_msg(sc, "%s", msg);
			scenario_free(sc);
			total++;
		}
		globfree(&g);
	}
	ck_assert_uint_ge(total, 2);
}
END_TEST

START_TEST(t_quickstart)
{
	struct ini_diags dg;
	struct scenario *sc = scenario_load("scenarios/examples/quickstart.ini", &dg);
	struct policy scaled;

	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->nmb, 1);
	ck_assert_uint_eq(sc->nflows, 2);
	ck_assert_str_eq(sc->scale_text, "1/20");
	ck_assert_str_eq(sc->mb[0].profile, "aws-nat-gateway");
	ck_assert_int_eq(sc->mb[0].policy.on_expire, EXPIRE_RST_INSIDE_ON_NEXT);
	/* one flow dies without keepalive, one lives with it */
	ck_assert_int_eq(sc->flows[0].keepalive, SC_KA_OFF);
	ck_assert_int_eq(sc->flows[0].expect, SC_EXPECT_RESET);
	ck_assert_int_eq(sc->flows[1].keepalive, SC_KA_SET);
	ck_assert_int_eq(sc->flows[1].expect, SC_EXPECT_ALIVE);
	ck_assert_uint_eq(sc->flows[1].ka_idle.scaled_ms % 1000, 0);
	ck_assert_uint_lt(sc->flows[1].ka_idle.ms, sc->mb[0].policy.timeout[TO_TCP_ESTABLISHED]);
	ck_assert_uint_gt(sc->flows[0].idle.ms, sc->mb[0].policy.timeout[TO_TCP_ESTABLISHED]);
	/* finishes in under a minute */
	ck_assert_uint_lt(scenario_estimate_ms(sc), 60000);
	scenario_policy_scaled(sc, &sc->mb[0], &scaled);
	ck_assert_uint_eq(scaled.timeout[TO_TCP_ESTABLISHED], 17500);
	ck_assert_uint_eq(sc->mb[0].policy.timeout[TO_TCP_ESTABLISHED], 350000);
	scenario_free(sc);
}
END_TEST

START_TEST(t_full_model)
{
	struct ini_diags dg;
	struct scenario *sc = scenario_load("tests/data/good/full.ini", &dg);
	const struct sc_flow *f;
	const struct sc_event *e;

	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->description, "two middleboxes, every flow and event kind");
	ck_assert_uint_eq(sc->scale.num, 1);
	ck_assert_uint_eq(sc->scale.den, 10);
	ck_assert_uint_eq(sc->timeout.ms, 1200000);
	ck_assert_uint_eq(sc->timeout.scaled_ms, 120000);
	ck_assert_str_eq(sc->ipv4_net, "10.99.0.0/16");
	ck_assert_str_eq(sc->ipv6_net, "fd49:1d1e::/48");

	ck_assert_uint_eq(sc->nmb, 2);
	ck_assert_str_eq(sc->mb[0].name, "home");
	ck_assert_uint_eq(sc->mb[0].policy.timeout[TO_TCP_ESTABLISHED], 300000);     /* profile */
	ck_assert_uint_eq(sc->mb[0].policy.timeout[TO_UDP_ASSURED], 60000);          /* override */
	ck_assert_int_eq(sc->mb[0].policy.on_expire, EXPIRE_RST_NEXT_SENDER);
	ck_assert_uint_eq(sc->mb[0].policy.refresh, REFRESH_OUT);
	ck_assert_uint_eq(sc->mb[0].noverrides, 2);
	ck_assert_str_eq(sc->mb[0].overrides[0].knob, "udp.assured");
	ck_assert_int_eq(sc->mb[0].overrides[0].line, 13);
	ck_assert_int_eq(sc->mb[0].overrides[1].line, 14);
	ck_assert_str_eq(sc->mb[1].name, "cgn");                                     /* quotes */
	ck_assert_str_eq(sc->mb[1].profile, "");
	ck_assert_uint_eq(sc->mb[1].policy.timeout[TO_TCP_ESTABLISHED], 7200000);
	ck_assert_uint_eq(sc->mb[1].policy.timeout[TO_UDP_ASSURED], 120000);         /* default */
	ck_assert_int_eq(sc->mb[1].policy.nat, NAT_OFF);

	ck_assert_uint_eq(sc->nflows, 4);
	f = &sc->flows[0];
	ck_assert_str_eq(f->name, "ssh");
	ck_assert_int_eq(f->line, 22);
	ck_assert_int_eq(f->proto, SC_TCP);
	ck_assert_int_eq(f->keepalive, SC_KA_SET);
	ck_assert_uint_eq(f->ka_idle.ms, 300000);
	ck_assert_uint_eq(f->ka_idle.scaled_ms, 30000);
	ck_assert_uint_eq(f->ka_intvl.scaled_ms, 3000);
	ck_assert_uint_eq(f->ka_count, 3);
	ck_assert_uint_eq(f->user_timeout.scaled_ms, 6000);
	ck_assert_uint_eq(f->idle.scaled_ms, 90000);
	ck_assert_int_eq(f->speaker, SC_SERVER);
	ck_assert_uint_eq(f->cycles, 2);
	ck_assert_uint_eq(f->deadline.ms, 20000);
	ck_assert_uint_eq(f->deadline.scaled_ms, 2000);
	ck_assert_int_eq(f->expect, SC_EXPECT_ALIVE);
	ck_assert_int_eq(f->expect_line, 30);
	ck_assert_uint_eq(f->npath, 2);
	ck_assert_int_eq(f->path[0], 0);
	ck_assert_int_eq(f->path[1], 1);
	ck_assert_uint_eq(f->port, 2222);

	f = &sc->flows[1];
	ck_assert_int_eq(f->proto, SC_UDP);
	ck_assert_uint_eq(f->heartbeat.scaled_ms, 2500);
	ck_assert_int_eq(f->expect, SC_EXPECT_REBOUND);
	ck_assert_uint_eq(f->npath, 1);
	ck_assert_uint_eq(f->deadline.scaled_ms, 3000);         /* default 30s, scaled */

	f = &sc->flows[2];
	ck_assert_int_eq(f->family, SC_IPV6);
	ck_assert_int_eq(f->keepalive, SC_KA_KERNEL_DEFAULT);
	ck_assert_uint_eq(f->ka_idle.ms, 7200000);
	ck_assert_uint_eq(f->ka_count, 9);
	ck_assert_int_eq(f->path[0], 1);

	f = &sc->flows[3];
	ck_assert_str_eq(f->command, "psql -h $SERVER -c 'select pg_sleep(400)'");
	ck_assert_str_eq(f->server_command, "postgres -D /tmp/pg");
	ck_assert_uint_eq(f->npath, 2);                         /* default: all */

	ck_assert_uint_eq(sc->nevents, 4);
	e = &sc->events[0];
	ck_assert_int_eq(e->action, SC_ACT_FLUSH);
	ck_assert_int_eq(e->middlebox, 0);
	ck_assert_uint_eq(e->at.scaled_ms, 10000);
	e = &sc->events[1];
	ck_assert_int_eq(e->action, SC_ACT_EXPIRE);
	ck_assert_int_eq(e->flow, 0);
	ck_assert_int_eq(e->middlebox, 1);
	ck_assert_uint_eq(e->at.ms, 0);
	e = &sc->events[2];
	ck_assert_int_eq(e->action, SC_ACT_SET);
	ck_assert_int_eq(e->middlebox, -1);
	ck_assert_str_eq(e->knob, "tcp.established");
	ck_assert_str_eq(e->value, "60s");
	e = &sc->events[3];
	ck_assert_int_eq(e->action, SC_ACT_BLACKHOLE);
	ck_assert_uint_eq(e->duration.ms, 30000);
	ck_assert_uint_eq(e->duration.scaled_ms, 3000);
	scenario_free(sc);
}
END_TEST

static const char minimal[] =
	"[middlebox nat]\n"
	"[flow a]\n"
	"idle = 10s\n"
	"expect = alive\n";

START_TEST(t_crlf_and_bom)
{
	const char text[] = "\xEF\xBB\xBF[middlebox nat]\r\n[flow a]\r\nidle = 10s\r\nexpect = alive\r\n";
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(text, sizeof(text) - 1, "crlf.ini", NULL, &dg);

	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->flows[0].idle.ms, 10000);
	ck_assert_int_eq(sc->flows[0].expect, SC_EXPECT_ALIVE);
	scenario_free(sc);
}
END_TEST

/* A line longer than inih's 200 bytes is split by our reader as inih would
 * (key, '=', inline comment cut, trimmed) and handed over in file order,
 * in its section; the keys after it still land where they belong. */
START_TEST(t_long_line)
{
	char text[8192], cmd[3001];
	struct ini_diags dg;
	struct scenario *sc;

	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	cmd[0] = 'a';
	cmd[1] = ';';                   /* no blank before it: part of the value */
	snprintf(text, sizeof(text),
		 "[middlebox nat]\n[flow a]\ncommand =   %s  ; a comment\nrun_as = postgres\n"
		 "expect = alive\nexpect_exit = 3\nsysctl.net.ipv4.tcp_keepalive_time = 5\n"
		 "scale_program = yes\n[flow b]\nidle = 10s\nexpect = alive\n", cmd);
	sc = scenario_parse(text, strlen(text), "long.ini", NULL, &dg);
	ck_assert_msg(sc, "%s", dg.n ? dg.d[0].msg : "");
	ck_assert_str_eq(sc->flows[0].command, cmd);
	ck_assert_str_eq(sc->flows[0].run_as, "postgres");
	ck_assert_int_eq(sc->flows[0].expect_exit, 3);
	ck_assert_uint_eq(sc->flows[0].nsysctl, 1);
	ck_assert_str_eq(sc->flows[0].sysctl[0].name, "net.ipv4.tcp_keepalive_time");
	ck_assert_uint_eq(sc->flows[0].sysctl[0].value, 5);
	ck_assert(sc->flows[0].scale_program);
	ck_assert_int_eq(sc->flows[1].expect_exit, -1);
	ck_assert_uint_eq(sc->flows[1].idle.ms, 10000);
	scenario_free(sc);
}
END_TEST

START_TEST(t_nul_byte)
{
	const char text[] = "[middlebox nat]\n[flow a]\nidle = 10\0s\nexpect = alive\n";
	struct ini_diags dg;
	char got[512];

	ck_assert_ptr_null(scenario_parse(text, sizeof(text) - 1, "nul.ini", NULL, &dg));
	first_diag(&dg, got, sizeof(got));
	ck_assert_str_eq(got, "3: line contains a NUL byte");
}
END_TEST

START_TEST(t_flow_group)
{
	const char text[] =
		"[scenario]\ntime_scale = 1/10\n[middlebox nat]\n"
		"[flow pool]\ncount = 300\nstart = 10s\nramp = 20s\nidle = 40s\n"
		"expect = alive >= 256, timeout<=44,reset = 0\n";
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(text, sizeof(text) - 1, "g.ini", NULL, &dg);
	unsigned n[SC_EXPECT_N] = { 0 };
	char buf[96];

	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->flows[0].count, 300);
	ck_assert_uint_eq(sc->flows[0].start.scaled_ms, 1000);
	ck_assert_uint_eq(sc->flows[0].ramp.scaled_ms, 2000);
	ck_assert_uint_eq(sc->flows[0].ncounted, 3);
	ck_assert_int_eq(sc->flows[0].expect, SC_EXPECT_ALIVE);
	ck_assert_str_eq(sc_expect_format(&sc->flows[0], buf, sizeof(buf)),
			 "alive >= 256, timeout <= 44, reset = 0");
	n[SC_EXPECT_ALIVE] = 256;
	n[SC_EXPECT_TIMEOUT] = 44;
	ck_assert(sc_expect_met(&sc->flows[0], n));
	n[SC_EXPECT_ALIVE] = 255;
	ck_assert(!sc_expect_met(&sc->flows[0], n));
	n[SC_EXPECT_ALIVE] = 256;
	n[SC_EXPECT_RESET] = 1;
	ck_assert(!sc_expect_met(&sc->flows[0], n));
	scenario_free(sc);
}
END_TEST

START_TEST(t_flow_group_errors)
{
	const char text[] =
		"[middlebox nat]\n"
		"[flow a]\ncount = 10\nidle = 1s\nexpect = alive >= 11\n"        /* 5 */
		"[flow b]\ncount = 100001\nidle = 1s\nexpect = alive\n"          /* 7 */
		"[flow c]\nramp = 1s\nidle = 1s\nexpect = alive >\n"             /* 11, 13 */
		"[flow d]\ncount = 60000\nidle = 1s\nexpect = alive\n"
		"[flow e]\ncount = 50000\nidle = 1s\nexpect = alive\n"           /* 19 */
		"[flow d.7]\nidle = 1s\nexpect = alive\n";                         /* 22 */
	struct ini_diags dg;
	char all[4096] = "";

	ck_assert_ptr_null(scenario_parse(text, sizeof(text) - 1, "ge.ini", NULL, &dg));
	for (size_t i = 0; i < dg.n; i++) {
		char one[512];

		snprintf(one, sizeof(one), "%d: %s\n", dg.d[i].line, dg.d[i].msg);
		strncat(all, one, sizeof(all) - strlen(all) - 1);
	}
	ck_assert_msg(strstr(all, "5: expect: alive >= 11 can never hold"), "%s", all);
	ck_assert_msg(strstr(all, "7: count: '100001' is not a count"), "%s", all);
	ck_assert_msg(strstr(all, "13: expect: 'alive >'"), "%s", all);
	ck_assert_msg(strstr(all, "11: ramp spreads"), "%s", all);
	ck_assert_msg(strstr(all, "22: [flow d.7] has the name of connection 7 of the group [flow d]"), "%s", all);
	ck_assert_msg(strstr(all, "[flow e] brings the scenario to 110012 connections; the limit is 100000"), "%s", all);
}
END_TEST

START_TEST(t_every_error_reported)
{
	const char text[] =
		"[middlebox nat]\n"
		"tcp.establshed = 10s\n"        /* 2 */
		"[flow a]\n"
		"idle = soon\n"                 /* 4 */
		"expect = alive\n"
		"  proto = tcp\n";              /* 6 */
	struct ini_diags dg;

	ck_assert_ptr_null(scenario_parse(text, sizeof(text) - 1, "many.ini", NULL, &dg));
	ck_assert_uint_eq(dg.n, 3);
	ck_assert_int_eq(dg.d[0].line, 2);
	ck_assert_int_eq(dg.d[1].line, 4);
	ck_assert_int_eq(dg.d[2].line, 6);
	ck_assert_ptr_nonnull(strstr(dg.d[2].msg, "indented key 'proto' would be read as more of the value of 'expect'"));
	ck_assert_ptr_nonnull(strstr(dg.d[2].hint, "continuation"));
}
END_TEST

START_TEST(t_diag_format)
{
	const char text[] = "[flow a]\nidle = 10s\nexpect = alive\n";
	struct ini_diags dg;
	char buf[512];

	ck_assert_ptr_null(scenario_parse(text, sizeof(text) - 1, "x.ini", NULL, &dg));
	ini_diag_format(&dg, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "x.ini: no [middlebox NAME] section: a scenario needs at least one middlebox");
}
END_TEST

START_TEST(t_scale_suggestion_works)
{
	/* the scale a message suggests must itself be accepted */
	const char bad[] =
		"[scenario]\ntime_scale = 1/100\n[middlebox nat]\n"
		"[flow a]\nidle = 400s\nkeepalive = 300s,75s,3\nexpect = alive\n"
		"[flow b]\nidle = 400s\nkeepalive = 150s,45s,3\ntcp_user_timeout = 40s\nexpect = alive\n";
	char text[512], *p;
	const char *s;
	struct ini_diags dg;
	struct scenario *sc;

	ck_assert_ptr_null(scenario_parse(bad, sizeof(bad) - 1, "s.ini", NULL, &dg));
	s = strstr(dg.d[0].msg, "time_scale = ");
	ck_assert_ptr_nonnull(s);
	/* gcd(300, 75, 150, 45) = 15, and 15 <= 40 s of user timeout */
	ck_assert_ptr_nonnull(strstr(s, "time_scale = 1/15 would work"));
	snprintf(text, sizeof(text), "%s", bad);
	p = strstr(text, "1/100");
	memcpy(p, "1/15 ", 5);
	sc = scenario_parse(text, strlen(text), "s.ini", NULL, &dg);
	ck_assert_msg(sc != NULL, "%s", dg.n ? dg.d[0].msg : "");
	ck_assert_uint_eq(sc->flows[0].ka_intvl.scaled_ms, 5000);
	scenario_free(sc);
}
END_TEST

START_TEST(t_kernel_default_unscaled_ok)
{
	/* kernel-default at scale 1 is 7200s,75s,9 and valid; at 1/50 it only
	 * matters (and is refused) if the idle period reaches 7200 s */
	const char a[] = "[scenario]\ntime_scale = 1/50\n[middlebox nat]\n"
			 "[flow a]\nidle = 400s\nkeepalive = kernel-default\nexpect = reset\n";
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(a, sizeof(a) - 1, "k.ini", NULL, &dg);

	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->flows[0].ka_idle.scaled_ms, 144000);
	scenario_free(sc);
}
END_TEST

START_TEST(t_mutations_never_crash)
{
	size_t len;
	char *orig = slurp("tests/data/good/full.ini", &len);
	char *buf = malloc(len + 64);
	uint32_t st = 12345;

	for (int iter = 0; iter < 3000; iter++) {
		struct ini_diags dg;
		struct scenario *sc;
		size_t n = len;

		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + iter % 8; k++) {
			st ^= st << 13;
			st ^= st >> 17;
			st ^= st << 5;
			size_t at = st % n;
			switch ((st >> 24) % 4) {
			case 0: buf[at] = (char)(st >> 8); break;
			case 1: buf[at] = "[]=; \n\t,/"[(st >> 8) % 9]; break;
			case 2: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
			case 3: if (n < len + 60) { memmove(buf + at + 1, buf + at, n - at); n++; buf[at] = ' '; } break;
			}
		}
		sc = scenario_parse(buf, n, "mut.ini", "tests/data/good", &dg);
		if (sc)
			ck_assert_uint_le(sc->nflows, SC_MAX_FLOWS);
		else
			ck_assert_uint_gt(dg.n + dg.dropped, 0);
		scenario_free(sc);
	}
	free(buf);
	free(orig);
}
END_TEST

START_TEST(t_minimal_defaults)
{
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(minimal, sizeof(minimal) - 1, "m.ini", NULL, &dg);

	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->scale_text, "1");
	ck_assert_int_eq(sc->flows[0].proto, SC_TCP);
	ck_assert_int_eq(sc->flows[0].family, SC_IPV4);
	ck_assert_int_eq(sc->flows[0].keepalive, SC_KA_OFF);
	ck_assert_int_eq(sc->flows[0].speaker, SC_CLIENT);
	ck_assert_uint_eq(sc->flows[0].cycles, 1);
	ck_assert_uint_eq(sc->flows[0].npath, 1);
	ck_assert_uint_eq(sc->flows[0].idle.scaled_ms, 10000);
	ck_assert_int_eq(scenario_flow_index(sc, "a"), 0);
	ck_assert_int_eq(scenario_mb_index(sc, "nat"), 0);
	ck_assert_int_eq(scenario_mb_index(sc, "b"), -1);
	scenario_free(sc);
}
END_TEST

/* A scenario's [middlebox] knob and its `action = set` are held to the
 * limits of policy_set(), at the line of the value. */
START_TEST(t_limits)
{
	const struct limit_case *t = &limit_cases[_i];
	char buf[512], got[1024], want[512];
	struct ini_diags dg;
	struct scenario *sc;

	for (int how = 0; how < 2; how++) {
		if (!how)
			snprintf(buf, sizeof(buf), "[middlebox m]\n%s = %s\n[flow a]\nidle = 1s\n"
				 "expect = alive\n", t->key, t->value);
		else
			snprintf(buf, sizeof(buf), "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n"
				 "[event e]\nat = 0s\naction = set %s %s\n", t->key, t->value);
		sc = scenario_parse(buf, strlen(buf), "s.ini", NULL, &dg);
		if (!*t->err) {
			ck_assert_msg(sc != NULL, "%s = %s refused: %s", t->key, t->value,
				      dg.n ? dg.d[0].msg : "?");
			scenario_free(sc);
			continue;
		}
		ck_assert_msg(sc == NULL, "%s = %s accepted", t->key, t->value);
		first_diag(&dg, got, sizeof(got));
		snprintf(want, sizeof(want), how ? "7: action: %s" : "2: %s", t->err);
		ck_assert_msg(!strcmp(got, want), "want %s\n  got  %s", want, got);
	}
}
END_TEST

/* Durations after time_scale, and the sums a run waits for, stay within
 * the limit: at it, and just above. */
START_TEST(t_scaled_limits)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[scenario]\ntime_scale = 2\n[middlebox m]\n[flow a]\nidle = 12d\nexpect = alive\n"
		  "deadline = 1s\n", "4: [flow a]: cycles x (idle + deadline) is 24d2s, above the limit of 24d for a run" },
		{ "[scenario]\ntime_scale = 2\n[middlebox m]\n[flow a]\nidle = 12d1ms\nexpect = alive\n",
		  "5: idle: 12d0.001s scaled by 2 is 24d0.002s, above the limit of 24d" },
		{ "[scenario]\ntime_scale = 1000\n[middlebox m]\ntcp.established = 2h\n[flow a]\nidle = 1s\n"
		  "expect = alive\n", "4: [middlebox m]: tcp.established: 2h scaled by 1000 is 83d8h, above the limit of 24d" },
		{ "[middlebox m]\n[flow a]\nidle = 20d\ncycles = 2\nexpect = alive\n",
		  "2: [flow a]: cycles x (idle + deadline) is 40d1m, above the limit of 24d for a run" },
		{ "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n[event e]\nat = 1s\n"
		  "action = blackhole 24d1ms\n", "7: action: blackhole: 24d1ms is above the limit of 24d" },
		{ "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n[event e]\nat = 24d1ms\n"
		  "action = flush\n", "6: at: 24d1ms is above the limit of 24d" },
		{ "[middlebox m]\n[flow a]\nkeepalive = 25d,1s,3\nidle = 1s\nexpect = alive\n",
		  "3: keepalive idle: 25d is above the limit of 24d" },
	};
	struct ini_diags dg;
	char got[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scenario *sc = scenario_parse(cases[i].text, strlen(cases[i].text), "s.ini",
						     NULL, &dg);
		ck_assert_msg(sc == NULL, "case %zu accepted", i);
		first_diag(&dg, got, sizeof(got));
		ck_assert_msg(!strcmp(got, cases[i].want), "case %zu:\n  want %s\n  got  %s", i,
			      cases[i].want, got);
	}
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("scenario");

	if (glob("tests/data/broken/*.ini", 0, NULL, &broken))
		broken.gl_pathc = 0;
	tcase_add_test(tc, t_corpus_is_there);
	if (broken.gl_pathc)
		tcase_add_loop_test(tc, t_broken_corpus, 0, (int)broken.gl_pathc);
	tcase_add_test(tc, t_broken_whole_files);
	tcase_add_test(tc, t_scenario_from_pipe);
	tcase_add_test(tc, t_keepalive_slash_form);
	tcase_add_test(tc, t_long_path_in_messages);
	tcase_add_test(tc, t_good_files);
	tcase_add_test(tc, t_quickstart);
	tcase_add_test(tc, t_long_line);
	tcase_add_test(tc, t_full_model);
	tcase_add_test(tc, t_crlf_and_bom);
	tcase_add_test(tc, t_nul_byte);
	tcase_add_test(tc, t_flow_group);
	tcase_add_test(tc, t_flow_group_errors);
	tcase_add_test(tc, t_every_error_reported);
	tcase_add_test(tc, t_diag_format);
	tcase_add_test(tc, t_scale_suggestion_works);
	tcase_add_test(tc, t_kernel_default_unscaled_ok);
	tcase_add_test(tc, t_mutations_never_crash);
	tcase_add_test(tc, t_minimal_defaults);
	tcase_add_loop_test(tc, t_limits, 0, (int)N_LIMIT_CASES);
	tcase_add_test(tc, t_scaled_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scenario_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	globfree(&broken);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
