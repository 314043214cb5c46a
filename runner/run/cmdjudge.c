// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A command flow's outcome from what happened on the wire (see cmdjudge.h).
 */
#include "runner/run/cmdjudge.h"

#include <stdio.h>
#include <string.h>

#define FAIL(v, ...) do { \
		(v)->error = true; \
		(v)->observed = NULL; \
		snprintf((v)->why, sizeof((v)->why), __VA_ARGS__); \
	} while (0)

void cmd_judge(const struct cmd_facts *f, struct cmd_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (f->has_server && f->server_failed) {
		if (f->server_status >= 0)
			FAIL(v, "server_command exited with status %d before the command started", f->server_status);
		else
			FAIL(v, "server_command did not start listening");
		return;
	}
	if (!f->started || f->status < 0) {
		FAIL(v, "the command did not run");
		return;
	}
	if (f->stopped) {
		FAIL(v, "the command was stopped by the runner (status %d)", f->status);
		return;
	}
	if (f->status == 127 || f->status == 126) {
		FAIL(v, "command %s (exit %d)", f->status == 127 ? "not found" : "not executable", f->status);
		return;
	}
	/* the middleboxes' own log decides, whatever the program made of it */
	if (f->rst) {
		v->observed = "reset";
		snprintf(v->why, sizeof(v->why), "a middlebox sent %u RST%s on its connection", f->rst,
			 f->rst == 1 ? "" : "s");
		return;
	}
	if (f->icmp) {
		v->observed = "unreachable";
		snprintf(v->why, sizeof(v->why), "a middlebox sent ICMP unreachable");
		return;
	}
	if (f->fin) {
		v->observed = "closed";
		snprintf(v->why, sizeof(v->why), "a middlebox closed its connection with a FIN");
		return;
	}
	if (f->has_server && f->server_died && f->status != 0) {
		FAIL(v, "server_command exited (status %d) while the command ran, and no middlebox acted on "
		     "the connection", f->server_status);
		return;
	}
	if (f->status == 0) {
		v->observed = "alive";
		snprintf(v->why, sizeof(v->why), "exit 0");
		return;
	}
	if (f->expired && f->drops) {
		v->observed = f->expect_keepalive_timeout ? "keepalive-timeout" : "timeout";
		snprintf(v->why, sizeof(v->why), "a middlebox expired the flow and dropped %u packet%s of it",
			 f->drops, f->drops == 1 ? "" : "s");
		return;
	}
	v->observed = "failed";
	snprintf(v->why, sizeof(v->why), "no middlebox acted on its connection: the program failed on its own");
}
