/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The outcome of a command flow (command = / server_command =), judged on
 * the wire: what the middleboxes did to the command's connection (RST, FIN
 * or ICMP they sent, the flow they expired and the packets they dropped)
 * and whether the programs ran at all, not what the program printed. A
 * program's words differ between programs and versions (ssh says "Broken
 * pipe", libpq "server closed the connection unexpectedly" for the same
 * RST); the simulator's log does not.
 *
 * Pure: no I/O, no clock. Unit-tested in tests/unit/test_cmdjudge.c.
 */
#ifndef IDLEGATE_CMDJUDGE_H
#define IDLEGATE_CMDJUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is known about one command flow when the run has ended. */
struct cmd_facts {
	bool has_server;        /* the flow has a server_command */
	bool server_failed;     /* it exited, or never listened, before the command started */
	int server_status;      /* its exit status if it exited, else -1 */
	bool server_died;       /* it exited while the command still ran */
	bool started;           /* the command was started */
	bool stopped;           /* the runner had to stop it (run timeout, interrupt) */
	int status;             /* the command's exit status (0..255, 128+signal), -1 unknown */
	/* what the middleboxes did to the command's connections before it ended */
	unsigned rst;           /* RSTs they sent (either way) */
	unsigned fin;           /* FINs they sent */
	unsigned icmp;          /* ICMP errors they sent */
	bool expired;           /* one of them expired the flow */
	unsigned drops;         /* packets of it they dropped */
	bool expect_keepalive_timeout; /* expect = keepalive-timeout: say that for a timeout */
};

/* The verdict: an outcome (observed) or an error. */
struct cmd_verdict {
	bool error;             /* the run of this flow cannot be trusted: see why */
	const char *observed;   /* "alive", "reset", ... "failed"; NULL when error */
	char why[200];          /* in words: which facts decided it */
};

/*
 * Judge a command flow from its facts. The order: a command or server that
 * never ran is an error (never alive); what a middlebox sent decides
 * (RST: reset, ICMP: unreachable, FIN: closed); exit 0 is alive; a non-zero
 * exit after the middlebox expired the flow and dropped its packets is a
 * timeout; any other non-zero exit is "failed", which matches no
 * expectation (the program failed for a reason of its own).
 */
void cmd_judge(const struct cmd_facts *f, struct cmd_verdict *v);

#endif
