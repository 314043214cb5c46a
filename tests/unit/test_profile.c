// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for common/profile.c: every shipped profile loads cleanly and
 * says what PROFILES.md says; the search path and its order; errors point at
 * file:line; and docs/scenario-format.md documents every knob and key the
 * code accepts. Run from the repository root (as `make unit` does).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/iniread.h"
#include "common/profile.h"
#include "runner/model/scenario.h"
#include "limits_cases.h"

/* From /work/shared/PROFILES.md: tcp established, udp assured (0: not
 * given there), on_expire, refresh, nat. */
static const struct {
	const char *name;
	unsigned est_s, udp_s;
	const char *on_expire, *refresh, *nat;
} expected[] = {
	{ "linux-conntrack", 432000, 120, "drop", "any", "snat" },
	{ "openwrt", 7440, 180, "drop", "any", "snat" },
	{ "rfc-minimum", 7440, 120, "drop", "outbound", "snat" },
	{ "aws-nat-gateway", 350, 350, "rst-inside-on-next", "any", "snat" },
	{ "aws-nlb", 350, 0, "drop", "any", "off" },
	{ "aws-gwlb-reset", 350, 0, "rst-next-sender", "any", "off" },
	{ "aws-alb", 60, 0, "fin-inside", "any,data-only", "off" },
	{ "azure-lb", 240, 0, "drop", "any", "off" },
	{ "azure-nat-gateway", 240, 240, "rst-next-sender", "any", "snat" },
	{ "gcp-cloud-nat", 1200, 30, "drop", "any", "snat" },
	{ "cisco-asa", 3600, 120, "drop", "any", "off" },
	{ "docker-swarm-ipvs", 900, 300, "drop", "any", "off" },
	{ "home-router-short", 300, 30, "drop", "outbound", "snat" },
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

START_TEST(t_shipped_profile)
{
	struct policy p;
	struct profile_meta meta;
	char err[1024], v[64];

	ck_assert_msg(profile_load(&p, expected[_i].name, &meta, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(meta.name, expected[_i].name);
	ck_assert_msg(meta.source[0], "%s has no source =", expected[_i].name);
	ck_assert_msg(meta.description[0], "%s has no description =", expected[_i].name);
	ck_assert_uint_eq(p.timeout[TO_TCP_ESTABLISHED], expected[_i].est_s * 1000ull);
	if (expected[_i].udp_s)
		ck_assert_uint_eq(p.timeout[TO_UDP_ASSURED], expected[_i].udp_s * 1000ull);
	policy_get(&p, "on_expire", v, sizeof(v));
	ck_assert_str_eq(v, expected[_i].on_expire);
	policy_get(&p, "refresh", v, sizeof(v));
	ck_assert_str_eq(v, expected[_i].refresh);
	policy_get(&p, "nat", v, sizeof(v));
	ck_assert_str_eq(v, expected[_i].nat);
	/* the runner fills nat.address; otherwise the profile must be valid */
	if (p.nat == NAT_SNAT)
		ck_assert_int_eq(policy_set(&p, "nat.address", "192.0.2.1", NULL, 0), 0);
	ck_assert_msg(policy_validate(&p, err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(t_details)
{
	struct policy p;

	ck_assert_int_eq(profile_load(&p, "azure-nat-gateway", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_SYN_SENT], 30000);      /* half-open 30 s */
	ck_assert_uint_eq(p.port_hold, 65000);
	ck_assert_int_eq(profile_load(&p, "gcp-cloud-nat", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_TIME_WAIT], 120000);
	ck_assert_uint_eq(p.timeout[TO_TCP_SYN_SENT], 30000);
	ck_assert_int_eq(profile_load(&p, "cisco-asa", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_SYN_SENT], 30000);      /* embryonic */
	ck_assert_uint_eq(p.timeout[TO_TCP_FIN_WAIT], 600000);     /* half-closed */
	ck_assert_int_eq(profile_load(&p, "openwrt", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_UDP_UNREPLIED], 60000);
	ck_assert_int_eq(profile_load(&p, "rfc-minimum", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_SYN_SENT], 240000);     /* transitory 4 min */
	ck_assert_int_eq(profile_load(&p, "docker-swarm-ipvs", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_FIN_WAIT], 120000);
}
END_TEST

START_TEST(t_list_has_all)
{
	struct profile_entry *v;
	size_t n;

	ck_assert_int_eq(profile_list(&v, &n), 0);
	ck_assert_uint_ge(n, NEXPECTED);
	for (size_t i = 0; i < NEXPECTED; i++) {
		size_t j;
		for (j = 0; j < n; j++)
			if (!strcmp(v[j].name, expected[i].name))
				break;
		ck_assert_msg(j < n, "%s not listed", expected[i].name);
	}
	for (size_t j = 1; j < n; j++)
		ck_assert_int_lt(strcmp(v[j - 1].name, v[j].name), 0);        /* sorted, unique */
	free(v);
}
END_TEST

START_TEST(t_env_dir_first)
{
	char dir[] = "/tmp/idlegate-profiles-XXXXXX", path[256], found[4096];
	struct profile_entry *v;
	struct policy p;
	size_t n, hits = 0;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/openwrt.ini", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("tcp.established = 1s\n", f);
	fclose(f);
	setenv("IDLEGATE_PROFILES", dir, 1);

	ck_assert_int_eq(profile_find("openwrt", found, sizeof(found)), 0);
	ck_assert_str_eq(found, path);
	ck_assert_int_eq(profile_load(&p, "openwrt", NULL, NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_ESTABLISHED], 1000);
	ck_assert_int_eq(profile_list(&v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].name, "openwrt")) {
			hits++;
			ck_assert_str_eq(v[i].path, path);
		}
	}
	ck_assert_uint_eq(hits, 1);
	free(v);
	unsetenv("IDLEGATE_PROFILES");
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(t_errors)
{
	struct policy p;
	char err[1024];

	ck_assert_int_eq(profile_load(&p, "no-such-profile", NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "unknown profile 'no-such-profile' (searched "));
	ck_assert_int_eq(profile_load(&p, "../etc", NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(profile_load(&p, "bad name", NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(profile_load(&p, "/dev/null/x.ini", NULL, err, sizeof(err)), -1);
	/* not a regular file: refused rather than read forever */
	ck_assert_int_eq(profile_load(&p, "/dev/zero", NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(profile_load(&p, "tests/data/profiles-broken/bad.ini", NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "tests/data/profiles-broken/bad.ini:5: tcp.established: '10 parsecs' "
			 "is not a duration (like 350s, 2h4m, 250ms)");
}
END_TEST

START_TEST(t_buffer_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[profile]\ntcp.establised = 1s\n",
		  "p.ini:2: unknown key 'tcp.establised' in [profile] (did you mean 'tcp.established'?)" },
		{ "[profile]\non_expire = rst\n",
		  "p.ini:2: on_expire: 'rst' is not one of drop|rst-inside-on-next|rst-next-sender|"
		  "rst-both-at-expiry|fin-inside|icmp-unreachable" },
		{ "[device]\ntcp.established = 1s\n", "p.ini:2: unknown section [device]" },
		{ "[profile]\nnat = snat\nnat = off\n", "p.ini:3: duplicate key 'nat' (first set at line 2)" },
		{ "[profile]\nnat = snat\n  nat.ports = random\n",
		  "p.ini:3: indented key 'nat.ports' would be read as more of the value of 'nat' "
		  "(remove the leading whitespace)" },
	};
	struct policy p;
	char err[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(profile_load_buffer(&p, cases[i].text, strlen(cases[i].text), "p.ini",
						     NULL, err, sizeof(err)), -1);
		ck_assert_str_eq(err, cases[i].want);
	}
}
END_TEST

/* A profile file is held to the limits of policy_set(), with file:line. */
START_TEST(t_limits)
{
	const struct limit_case *t = &limit_cases[_i];
	struct policy p;
	char buf[256], err[1024] = "", want[512];
	int rc;

	snprintf(buf, sizeof(buf), "[profile]\n%s = %s\n", t->key, t->value);
	rc = profile_load_buffer(&p, buf, strlen(buf), "p.ini", NULL, err, sizeof(err));
	if (!*t->err) {
		ck_assert_msg(rc == 0, "%s = %s refused: %s", t->key, t->value, err);
		return;
	}
	ck_assert_msg(rc == -1, "%s = %s accepted", t->key, t->value);
	snprintf(want, sizeof(want), "p.ini:2: %s", t->err);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(t_meta_defaults)
{
	const char text[] = "; a comment only profile\ntcp.established = 2m\n";
	struct profile_meta meta;
	struct policy p;

	ck_assert_int_eq(profile_load_buffer(&p, text, sizeof(text) - 1, "dir/my-box.ini", &meta, NULL, 0), 0);
	ck_assert_str_eq(meta.name, "my-box");
	ck_assert_str_eq(meta.path, "dir/my-box.ini");
	ck_assert_uint_eq(p.timeout[TO_TCP_ESTABLISHED], 120000);
	ck_assert_uint_eq(p.timeout[TO_UDP_ASSURED], 120000);       /* Linux default kept */
}
END_TEST

/* The format reference must name every knob and every key the parser knows. */
START_TEST(t_docs_complete)
{
	size_t len, n;
	char *doc = iniread_slurp("docs/scenario-format.md", 1 << 20, &len);
	const struct knob_info *k = policy_knobs(&n);
	const char *kinds[] = { "scenario", "flow", "event" };
	char needle[128];

	ck_assert_msg(doc, "docs/scenario-format.md missing");
	for (size_t i = 0; i < n; i++) {
		snprintf(needle, sizeof(needle), "`%s`", k[i].name);
		ck_assert_msg(strstr(doc, needle), "docs/scenario-format.md does not document knob %s", needle);
	}
	for (size_t j = 0; j < 3; j++) {
		const char *const *keys = sc_section_keys(kinds[j], &n);
		ck_assert_uint_gt(n, 0);
		for (size_t i = 0; i < n; i++) {
			snprintf(needle, sizeof(needle), "`%s`", keys[i]);
			ck_assert_msg(strstr(doc, needle), "docs/scenario-format.md does not document [%s] key %s",
				      kinds[j], needle);
		}
	}
	free(doc);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");

	tcase_add_loop_test(tc, t_shipped_profile, 0, (int)NEXPECTED);
	tcase_add_test(tc, t_details);
	tcase_add_test(tc, t_list_has_all);
	tcase_add_test(tc, t_env_dir_first);
	tcase_add_test(tc, t_errors);
	tcase_add_test(tc, t_buffer_errors);
	tcase_add_loop_test(tc, t_limits, 0, (int)N_LIMIT_CASES);
	tcase_add_test(tc, t_meta_defaults);
	tcase_add_test(tc, t_docs_complete);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(profile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
