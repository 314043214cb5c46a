/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside a run (not for other layers): the state every file of runner/run/
 * shares, and the steps they call of each other. The files, in the order
 * of a run:
 *
 *   run.c     build the network, the poll loop, stop and free (run.h)
 *   sim.c     start the simulators, wait for them, send them the events
 *   flows.c   start the probe servers and clients and the flows' commands
 *   evlog.c   read the simulators' event logs, match their flows to ours
 *   judge.c   turn what the probes and logs say into flow results
 */
#ifndef IDLEGATE_RUN_INTERNAL_H
#define IDLEGATE_RUN_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "common/vec.h"
#include "runner/util/ctlclient.h"
#include "runner/report/rows.h"
#include "runner/run/run.h"
#include "runner/run/supervise.h"
#include "runner/util/textutil.h"


#define READY_MS 10000
#define CMD_DEFAULT_MS (10 * 60 * 1000)

/* A flow as one simulator saw it. */
struct simflow {
	uint32_t id;
	int flow;                       /* scenario flow, -1 = not ours */
	char proto[8], src[64], dst[64], nat[64];
	unsigned sport, dport, natport;
	bool expired;
	unsigned conn;                  /* connection of a flow group, 0-based */
	bool pending;                   /* toward a probe's port, but its address
					 * is not in the probe's --addrs file yet */
};

struct simproc {
	int mb;                         /* scenario middlebox index */
	pid_t pid;
	bool exited;
	int status;
	char dir[PATH_MAX];
	char ctl[PATH_MAX], events[PATH_MAX], ready[PATH_MAX], out[PATH_MAX], errf[PATH_MAX];
	char pcap[PATH_MAX];             /* --pcap: capture.pcap in dir */
	long ev_off;                    /* bytes of the event log read so far */
	struct simflow *flows;
	size_t nflows, cap;
	/* open-addressing indexes into flows (slot = index + 1, 0 = empty),
	 * by id and by address key: each line is matched in O(1) */
	uint32_t *by_id, *by_addr;
	size_t index_cap;               /* slots of each; a power of two */
	size_t npending;                /* flows with pending set */
	bool stats_seen, trusted;
	char stats_why[200];
};

/* Probe flows that share a server port on one path. */
struct group {
	unsigned port;
	int *flows;                     /* scenario flows [n] */
	size_t n, cap;
	pid_t server, client;
	int srv_status, cli_status;
	bool cli_done, srv_done;
	char srv_ready[PATH_MAX], srv_results[PATH_MAX], srv_err[PATH_MAX];
	char cli_json[PATH_MAX], cli_err[PATH_MAX];
	char cli_ended[PATH_MAX];       /* the client's --ended-file: flows as they end */
	char cli_addrs[PATH_MAX];       /* the client's --addrs file */
	long addrs_off;                 /* bytes of it read so far */
	long ended_off;                 /* bytes of cli_ended passed to flow_ended */
};

/* A probe connection's client-side address, from the --addrs files: the key
 * that joins a middlebox's flow to a scenario flow. */
struct probe_addr {
	char proto[4];
	char addr[48];
	unsigned port;
	unsigned srv_port;              /* the group's server port: one local port
					 * may serve connections to two of them */
	int flow;                       /* scenario flow */
	unsigned conn;                  /* its connection (a group's), 0-based */
};

/* What the middleboxes did to one connection of a scenario flow (a plain
 * flow has one, a group count): the evidence of that connection alone. */
struct conn_facts {
	uint32_t keepalives, drops;
	int64_t expired_at;             /* first expiry, scenario ms since t0; -1 = none */
	uint32_t expired_by;            /* bit p: the path's middlebox p expired it */
	bool reported;                  /* the probe reported its outcome */
};
_Static_assert(SC_MAX_PATH <= 32, "conn_facts.expired_by has a bit per middlebox of a path");

struct cmdflow {
	int flow;
	pid_t server, client;
	bool done, srv_done;
	bool srv_failed;                /* exited or never listened before the command started */
	bool srv_died;                  /* exited while the command ran */
	bool stopped;                   /* the runner stopped the command */
	bool pending;                   /* waiting for its start = time */
	int status, srv_status;         /* -1 until known */
	uint64_t start, end;
	/* what the middleboxes sent on its connections (evlog.c) */
	unsigned rst, fin, icmp;
	char out[PATH_MAX], srv_out[PATH_MAX];
	char dir[PATH_MAX];             /* its private directory ($IDLEGATE_WORKDIR) */
	char why[300];                  /* why it could not start */
	char faketime_lib[PATH_MAX], scale_lib[PATH_MAX]; /* scale_program */
	struct run_user user;           /* run_as, when has_user */
	bool has_user;
};

struct lane {
	int path[SC_MAX_PATH];
	size_t npath;
	int own;                        /* flow index + 1 of the flow whose sysctls it
					 * has (a client of its own); 0 = shared */
	struct topo *topo;
	struct simproc sim[SC_MAX_PATH];
	struct group g[SC_MAX_PORTS];   /* the checker keeps to it */
	size_t ng;
	/* the probes' client addresses, indexed by (proto, addr, port): slot =
	 * index + 1, 0 = empty; index_cap a power of two */
	struct probe_addr *addrs;
	size_t naddrs, cap_addrs;
	uint32_t *addr_index;
	size_t addr_index_cap;
};

struct run {
	const struct scenario *sc;
	const struct run_opts *o;
	struct lane lane[SC_MAX_NETWORKS]; /* the checker keeps to it */
	size_t nlanes;
	/* per scenario flow [sc->nflows] */
	int *lane_of;
	int *group_of;                  /* -1 for command flows */
	uint64_t *flow_end;             /* wall ms its probe or command ended, 0 = running */
	bool *expired;                  /* progress(): a middlebox expired it */
	struct cmdflow *cmd;            /* [ncmd] of at most sc->nflows */
	size_t ncmd;
	struct pollfd *pp;              /* wait_children(): [npp] */
	size_t npp;
	uint64_t t0;
	struct conn_facts **facts;       /* per scenario flow, its connections' (judge_init) */
	bool kept;
	bool interrupted;
	bool enough;                    /* flow_ended ended the run early */
	char err[256];                  /* the run can't be trusted: why */
	char probedir[PATH_MAX];        /* where the probes write (probedir_make) */
};

/* Helpers of every step (a reason into an err buffer goes through
 * tu_errf): the first reason a run can't be trusted; scaled wall ms back to
 * scenario ms; a wall time as scenario ms since t0; a mark on the timeline. */
void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint64_t run_unscale(const struct scenario *sc, uint64_t ms);

/* sim.c */
int sim_start(struct run *r, struct lane *l, size_t pos, char *err, size_t errlen);

bool sig_pending(struct run *r);

int wait_file(struct run *r, const char *path, pid_t pid, int *status);

/* evlog.c */
int group_of_port(const struct lane *l, unsigned port);

/* The scenario flow of group g a probe flow name stands for: "NAME" for a
 * plain flow, "NAME.K" for connection K (1-based) of a flow group; the
 * 0-based connection into *conn. -1 if none. */
int group_flow_of_name(const struct run *r, const struct group *g, const char *name, unsigned *conn);

int64_t run_scen_ms(const struct run *r, int64_t t_real);

void run_mark(struct scenario_result *res, uint64_t t, enum tl_kind k, int flow, int mb, int dir,
	      const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Read what the simulator has logged since the last call: match new flows
 * to scenario flows, count per-flow facts into res (if not NULL), note the
 * final stats. */
void evlog_read(struct run *r, struct lane *l, struct simproc *s, struct scenario_result *res);

/* The command flow of scenario flow i, or NULL. */
struct cmdflow *cmd_of_flow(struct run *r, int flow);

/* flows.c */
int group_start_server(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen);

int group_start_client(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen);

int cmd_start(struct run *r, struct cmdflow *c, bool server, char *err, size_t errlen);

void sim_fire_event(struct run *r, const struct sc_event *e, struct scenario_result *res);

/* Forget what the middleboxes did to the flows (res's counts and the
 * connections' facts), before every event log is read again. */
void evlog_facts_reset(struct run *r, struct scenario_result *res);

/* Forget the flows an event log showed (to read it again from the start),
 * and free them. */
void evlog_reset(struct simproc *s);
void evlog_free(struct simproc *s);
/* Free a lane's probe addresses. */
void evlog_lane_free(struct lane *l);

/* judge.c */
void probe_results(struct run *r, struct lane *l, struct group *g, struct scenario_result *res);

void command_result(struct run *r, struct cmdflow *c, struct scenario_result *res);

/* res: every flow "not run" until judged, and room for what the
 * middleboxes did to each connection (r->facts, freed by judge_free()).
 * 0, or -1 with errno ENOMEM. */
int judge_init(struct run *r, struct scenario_result *res);
void judge_free(struct run *r);
/* What the middleboxes did to connection conn of flow `flow`; NULL if
 * there is no such connection or no facts (judge_init() not called). */
struct conn_facts *run_conn_facts(const struct run *r, int flow, unsigned conn);

/* When connection conn (0-based) of flow f opens: scenario ms since t0, its
 * start plus its share of the group's ramp (as flows.c spreads them). */
uint64_t run_conn_start(const struct sc_flow *f, unsigned conn);
/* Scenario time t (ms since t0) as time since that connection's start. */
uint64_t run_conn_since(const struct sc_flow *f, unsigned conn, uint64_t t);

/* exchanges.c: the data and heartbeat marks of probe flow idx from its
 * result line js (outcome, when it was noticed since the idle start of its
 * cycle, that cycle); nothing when res is NULL (a group's later connections). */
void exchanges_mark(const struct run *r, struct scenario_result *res, int idx, const json_t *js,
		    const char *outcome, int64_t noticed_ms, int64_t cycle);

#endif
