/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running one scenario: build its network (one topology per distinct path,
 * runner/run/topo.h), start idlegate-sim in every middlebox and wait for it,
 * start the probe servers and clients (and the flows' own commands), fire
 * the [event]s at their scaled times through the simulators' control
 * sockets, stop everything, and turn the probes' JSON and the simulators'
 * event logs into a struct scenario_result (runner/model/result.h).
 *
 * A run that cannot be trusted (a simulator or probe died or failed, the
 * queue lost packets, a socket option did not take) gives RES_ERROR with
 * the reason, never PASS or FAIL.
 *
 * Front-end-ish module: it does not print; reasons go into the result or
 * into err.
 */
#ifndef IDLEGATE_RUN_H
#define IDLEGATE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/model/result.h"
#include "runner/model/scenario.h"
#include "runner/run/topo.h"

/* Progress of a running scenario, in scenario time (unscaled ms). */
struct run_progress {
	uint64_t elapsed_ms, total_ms;  /* scenario time, and the estimate */
	uint64_t wall_ms, wall_total_ms;/* the same on the clock */
	unsigned flows, ended;          /* flows, and flows whose probe has ended */
	unsigned expired;               /* flows a middlebox has expired so far */
};

struct run_opts {
	const char *sim_path;           /* idlegate-sim */
	const char *probe_path;         /* idlegate-probe */
	const char *workdir;            /* existing private directory for files */
	const char *name_prefix;        /* "ig-RUNID": names for --keep / shell */
	bool keep;                      /* keep the namespaces of a failing run */
	bool pcap;                      /* each simulator captures (capture.pcap in
					 * its folder of workdir) */
	int sigfd;                      /* readable on SIGINT/SIGTERM; -1: none */
	const struct run_user *user;    /* probes, simulators and namespace holders
					 * run as this user; NULL: as root */
	void (*progress)(void *ctx, const struct run_progress *p);
	void *ctx;
	/* Called (with ctx) for each flow as its probe reports it ended, with
	 * its outcome ("alive", "reset", ...); true ends the run now: the flows
	 * still running end (idlegate-probe client's SIGUSR1) and are reported
	 * RES_SKIP ("not needed"). NULL: every flow runs to its end. */
	bool (*flow_ended)(void *ctx, const char *flow, const char *outcome);
};

struct run;
struct run_user;

/*
 * Build the scenario's network and start its simulators (every one ready).
 * Returns the run (free with run_free()), or NULL with a reason in err and
 * errno: EPERM (not root), ENOENT (a program missing), EIO (a step failed),
 * EINTR (interrupted through sigfd).
 */
struct run *run_build(const struct scenario *sc, const struct run_opts *o, char *err, size_t errlen);

/*
 * Run the flows and events, stop everything, and fill res (which the
 * caller zeroed; res->sc is set here). Returns 0, or 1 if interrupted
 * through sigfd (res then holds what was known, status RES_ERROR), or -1
 * with errno ENOMEM before any flow started (res an ERROR saying so).
 */
int run_flows(struct run *r, struct scenario_result *res);

/*
 * Stop every process and remove the network. With keep (set by
 * run_keep()), the namespaces stay, named NAME_PREFIX-pN-HOST. Accepts NULL.
 */
void run_free(struct run *r);

/*
 * Give the run's namespaces names and keep them after run_free(); writes
 * the `ip netns exec` lines a person needs into buf. 0 or -1 with err.
 */
int run_keep(struct run *r, char *buf, size_t len, char *err, size_t errlen);

/* Room for run_keep()'s instructions at the limits: a line per node of
 * every network. */
#define RUN_KEEP_MAX (SC_MAX_NETWORKS * (SC_MAX_PATH + 2) * 96)

/* Paths (distinct middlebox chains) of the run, and each one's topology. */
size_t run_paths(const struct run *r);
struct topo *run_topo(const struct run *r, size_t path);
/* The path a flow takes. */
size_t run_path_of_flow(const struct run *r, size_t flow);
/* Control socket of the simulator of middlebox position pos on path p. */
const char *run_ctl_path(const struct run *r, size_t path, size_t pos);

/*
 * The whole of it: build, run, free (keeping the network of a failing run
 * with o->keep, its instructions in keep_msg). Always fills res. Returns
 * 0, 1 if interrupted, or -1 if the network could not be built (res then
 * has status RES_ERROR and the reason; errno as for run_build()).
 */
int run_scenario(const struct scenario *sc, const struct run_opts *o, struct scenario_result *res,
		 char *keep_msg, size_t keep_len);

/* Where idlegate-sim and idlegate-probe are: $IDLEGATE_SIM / $IDLEGATE_PROBE,
 * else next to the running executable, else on PATH. buf gets the path.
 * Returns 0, or -1 with errno ENOENT. */
int run_find_program(const char *name, char *buf, size_t len);

#endif
