/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The probe client: runs many flows at once in one epoll loop, each with its
 * own plan (socket options set and read back, HELLO, idle periods with only
 * the kernel's keepalives and the planned heartbeats on the wire, the
 * exchange after each idle, deadline), classifies how each ended, then asks
 * the server for its side of every flow and combines both.
 */
#ifndef IDLEGATE_PROBE_CLIENT_H
#define IDLEGATE_PROBE_CLIENT_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probes/plan.h"
#include "probes/result.h"

struct client_config {
	/* Up to one server address per family; a flow uses the one of its
	 * family, or the first when its family is 0. */
	struct sockaddr_storage server[2];
	socklen_t server_len[2];
	int nserver;
	uint64_t query_timeout_ms; /* 0: the longest deadline + 3 s */
	bool no_query;             /* do not ask the server for its side */
	int ended_fd;              /* > 0: a line "NAME OUTCOME" here as each flow
				    * ends (before the server is asked), so a
				    * runner can count flows as they end */
	FILE *addrs;               /* NULL, or where each flow's local address
				    * goes the moment it has one (a JSON line
				    * {"flow","proto","local"}: the runner joins
				    * a middlebox's flows to ours by address) */
};

/*
 * Run plans[0..n-1]; results[i] is filled for plans[i] (outcome combined
 * with the server's side when it could be asked; release each with
 * probe_result_clear()). SIGINT/SIGTERM (taken by signalfd) stop the run: the
 * flows still running end as "interrupted" and *interrupted is set.
 * Returns 0, or -1 with errno when the loop itself could not be set up.
 */
int probe_client_run(const struct client_config *cfg, const struct probe_plan *plans, size_t n,
	       struct probe_flow_result *results, bool *interrupted);

#endif
