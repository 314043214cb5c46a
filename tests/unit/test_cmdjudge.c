// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Judging command flows on the wire (runner/run/cmdjudge.h), case by case:
 * each row is what was known when the run ended and what must come of it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runner/run/cmdjudge.h"

struct row {
	const char *name;
	struct cmd_facts f;
	const char *observed;           /* NULL: an error */
	const char *why;                /* a piece of the reason */
};

#define RAN .started = true

static const struct row rows[] = {
	{ "exit 0, nothing on the wire", { RAN, .status = 0 }, "alive", "exit 0" },
	/* psql: libpq says "server closed the connection unexpectedly" */
	{ "psql reset by the middlebox", { RAN, .status = 2, .rst = 1, .expired = true }, "reset", "1 RST" },
	/* ssh: "client_loop: send disconnect: Broken pipe", exit 255 */
	{ "ssh reset by the middlebox", { RAN, .status = 255, .rst = 2 }, "reset", "2 RSTs" },
	{ "RST even though the program coped", { RAN, .status = 0, .rst = 1 }, "reset", "RST" },
	{ "ICMP from the middlebox", { RAN, .status = 1, .icmp = 1 }, "unreachable", "ICMP" },
	{ "FIN from the middlebox", { RAN, .status = 1, .fin = 1 }, "closed", "FIN" },
	{ "expired and dropped: the program gave up", { RAN, .status = 255, .expired = true, .drops = 3 },
	  "timeout", "dropped 3 packets" },
	{ "the same, expecting keepalive-timeout",
	  { RAN, .status = 255, .expired = true, .drops = 1, .expect_keepalive_timeout = true },
	  "keepalive-timeout", "dropped 1 packet" },
	{ "expired, nothing dropped, exit 1", { RAN, .status = 1, .expired = true }, "failed", "on its own" },
	{ "a failure of its own", { RAN, .status = 1 }, "failed", "no middlebox" },
	/* a command that never ran is never a success */
	{ "server_command exited before the command",
	  { .has_server = true, .server_failed = true, .server_status = 1, .status = -1 }, NULL,
	  "status 1 before the command started" },
	{ "server_command never listened",
	  { .has_server = true, .server_failed = true, .server_status = -1, .status = -1 }, NULL,
	  "did not start listening" },
	{ "command not started", { .server_status = -1, .status = -1 }, NULL, "did not run" },
	{ "started, status unknown", { .started = true, .server_status = -1, .status = -1 }, NULL, "did not run" },
	{ "command not found", { RAN, .status = 127 }, NULL, "not found" },
	{ "command not executable", { RAN, .status = 126 }, NULL, "not executable" },
	{ "stopped by the runner", { RAN, .status = 143, .stopped = true }, NULL, "stopped" },
	{ "server died, nothing on the wire",
	  { RAN, .has_server = true, .server_died = true, .server_status = 1, .status = 1 }, NULL,
	  "server_command exited (status 1)" },
	{ "server died after a middlebox RST",
	  { RAN, .has_server = true, .server_died = true, .server_status = 1, .status = 1, .rst = 1 },
	  "reset", "RST" },
	{ "server died but the command succeeded",
	  { RAN, .has_server = true, .server_died = true, .server_status = 0, .status = 0 }, "alive", "exit 0" },
};

START_TEST(test_rows)
{
	const struct row *t = &rows[_i];
	struct cmd_verdict v;

	cmd_judge(&t->f, &v);
	if (t->observed) {
		ck_assert_msg(!v.error, "%s: error '%s'", t->name, v.why);
		ck_assert_msg(v.observed && !strcmp(v.observed, t->observed), "%s: observed %s, want %s",
			      t->name, v.observed ? v.observed : "(none)", t->observed);
	} else {
		ck_assert_msg(v.error, "%s: observed %s, want an error", t->name, v.observed);
		ck_assert_ptr_null(v.observed);
	}
	ck_assert_msg(strstr(v.why, t->why), "%s: reason '%s' lacks '%s'", t->name, v.why, t->why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdjudge");
	TCase *tc = tcase_create("rows");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
