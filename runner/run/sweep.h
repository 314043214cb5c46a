/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One run of a scenario that a command generated in memory (tune's and
 * discover's sweeps): parse the text, check the environment, build the
 * network, run every flow at once, with a progress line on a terminal and
 * SIGINT/SIGTERM through a signalfd. Front-end module: it prints the
 * scenario's diagnostics and the progress line (on standard error).
 */
#ifndef IDLEGATE_SWEEP_H
#define IDLEGATE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/model/result.h"
#include "runner/model/scenario.h"

/*
 * Parse text (len bytes) as a scenario called label. Returns the model
 * (free with scenario_free()), or NULL after printing every problem.
 */
struct scenario *sweep_parse(const char *text, size_t len, const char *label);

/* Ending a sweep early: flow_ended is called (with ctx) for each flow as
 * it ends, with its outcome; true ends the run, the flows still running
 * reported RES_SKIP (see run_opts.flow_ended). */
struct sweep_stop {
	bool (*flow_ended)(void *ctx, const char *flow, const char *outcome);
	void *ctx;
};

/*
 * Run sc once and fill res (zeroed here; free its marks with
 * result_clear()). what names the job on the progress line ("tune");
 * stop, if not NULL, may end it early.
 * Returns 0 (res filled; flows may still be RES_ERROR), IG_EXIT_ENV with
 * the reason in err (environment, network could not be built), or 128+sig
 * when interrupted.
 */
int sweep_run(const struct scenario *sc, const char *what, const struct sweep_stop *stop,
	      struct scenario_result *res, char *err, size_t errlen);

/* Does flow i of res count as alive (observed "alive", status not ERROR)? */
int sweep_alive(const struct scenario_result *res, size_t i);

#endif
