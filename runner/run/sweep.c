// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One run of a generated scenario, for tune and discover (see sweep.h).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "runner/run/session.h"
#include "runner/util/exit.h"
#include "runner/run/run.h"
#include "runner/run/sweep.h"
#include "runner/util/textutil.h"

struct sweep_ctx {
	const char *what;
	int shown;
	const struct sweep_stop *stop;
};

struct scenario *sweep_parse(const char *text, size_t len, const char *label)
{
	struct ini_diags dg;
	struct scenario *sc;

	ini_diags_init(&dg, label);
	sc = scenario_parse(text, len, label, NULL, &dg);
	if (!sc) {
		print_diags(&dg);
		if (log_verbosity() > 1)
			fprintf(stderr, "--- generated scenario ---\n%.*s\n", (int)len, text);
	}
	return sc;
}

static void sweep_progress(void *vctx, const struct run_progress *p)
{
	struct sweep_ctx *c = vctx;
	char line[256];

	if (!c->shown && !isatty(2))
		return;
	tu_progress(line, sizeof(line), c->what, p->elapsed_ms, p->total_ms, true, p->ended, p->flows,
		    p->expired);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	c->shown = 1;
}

static bool sweep_flow_ended(void *vctx, const char *flow, const char *outcome)
{
	const struct sweep_ctx *c = vctx;

	return c->stop->flow_ended(c->stop->ctx, flow, outcome);
}

int sweep_run(const struct scenario *sc, const char *what, const struct sweep_stop *stop,
	      struct scenario_result *res, char *err, size_t errlen)
{
	struct sweep_ctx ctx = { .what = what, .stop = stop };
	struct run_opts o = { 0 };
	struct session ss;
	char keep[16];
	int rc;

	memset(res, 0, sizeof(*res));
	if (session_open(&ss, true, err, errlen) < 0)
		return IG_EXIT_ENV;
	session_run_opts(&ss, &o);
	o.ctx = &ctx;
	if (log_verbosity() > 0)
		o.progress = sweep_progress;
	if (stop)
		o.flow_ended = sweep_flow_ended;
	rc = run_scenario(sc, &o, res, keep, sizeof(keep));
	if (ctx.shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	if (rc == 1) {
		int sig = session_signal(&ss);

		snprintf(err, errlen, "interrupted");
		rc = 128 + (sig ? sig : SIGINT);
	} else if (rc < 0) {
		snprintf(err, errlen, "%s", res->error[0] ? res->error : "the network could not be built");
		rc = IG_EXIT_ENV;
	}
	session_close(&ss);
	return rc;
}

int sweep_alive(const struct scenario_result *res, size_t i)
{
	const struct flow_result *fr;

	if (i >= res->nflows)
		return 0;
	fr = &res->flows[i];
	return fr->status != RES_ERROR && !strcmp(fr->observed, "alive");
}
