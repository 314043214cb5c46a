/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flow plans for idlegate-probe: what one flow does (protocol, keepalive and
 * timeout socket options, heartbeats, idle period, who speaks first after it,
 * cycles, deadline) and what it is expected to end as. Parsed from the
 * `--flow k=v,...` syntax, one flow per line in a flows file. Pure parsing:
 * no sockets, no printing.
 */
#ifndef IDLEGATE_PROBE_PLAN_H
#define IDLEGATE_PROBE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How a flow ended (DESIGN.md "Outcomes", plus closed/error/interrupted). */
enum probe_outcome {
	OUT_NONE = 0,       /* not ended yet */
	OUT_ALIVE,          /* data crossed both ways after every idle period */
	OUT_RESET,          /* a side got RST (ECONNRESET/EPIPE) */
	OUT_CLOSED,         /* a side got an orderly close (FIN, EOF) it did not ask for */
	OUT_TIMEOUT,        /* no answer before the deadline, or never heard again */
	OUT_KA_TIMEOUT,     /* kernel gave up: ETIMEDOUT with keepalive / user timeout */
	OUT_REBOUND,        /* UDP: the server saw a new source address/port */
	OUT_UNREACHABLE,    /* EHOSTUNREACH, ENETUNREACH, ICMP errors */
	OUT_REFUSED,        /* never connected: the SYN was answered with RST */
	OUT_CONNECT_TIMEOUT,/* never connected: no answer to the SYN (or, UDP, to
			     * the HELLO) before the deadline, e.g. a NAT with
			     * no port or table entry left dropped it */
	OUT_ERROR,          /* the flow could not be run as planned (setup failure) */
	OUT_INTERRUPTED,    /* stopped by a signal before it ended */
	OUT_MAX
};

/* Name of an outcome ("keepalive-timeout"); "none" for OUT_NONE. */
const char *probe_outcome_name(enum probe_outcome o);
/* Parse an outcome name; only the expectable ones (alive .. unreachable).
 * Returns 0, or -1 with errno EINVAL. */
int probe_outcome_parse(const char *s, enum probe_outcome *o);

enum plan_proto { PLAN_TCP = 0, PLAN_UDP };
enum plan_ka_mode { PLAN_KA_OFF = 0, PLAN_KA_DEFAULT, PLAN_KA_SET };
enum plan_speaker { PLAN_SPEAKER_CLIENT = 0, PLAN_SPEAKER_SERVER };
/* Test knob: the server ends the connection itself, halfway through the
 * first idle period (to check how the client classifies it). */
enum plan_server_end { PLAN_END_NONE = 0, PLAN_END_CLOSE, PLAN_END_RESET };

/* Kernel limits for TCP_KEEPIDLE/TCP_KEEPINTVL and TCP_KEEPCNT. */
#define PLAN_KA_TIME_MAX 32767u
#define PLAN_KA_CNT_MAX 127u
#define PLAN_NAME_MAX 40                /* a scenario flow's name (31) + ".100000" */
#define PLAN_CYCLES_MAX 10000u
#define PLAN_DEFAULT_DEADLINE_MS 5000u

struct plan_keepalive {
	enum plan_ka_mode mode;
	uint32_t idle_s, intvl_s, cnt;   /* only for PLAN_KA_SET */
};

struct probe_plan {
	char name[PLAN_NAME_MAX + 1];     /* [A-Za-z0-9._-]+, "" if not given */
	enum plan_proto proto;
	int family;                       /* 0 (as the server address), 4 or 6 */
	struct plan_keepalive ka;         /* client socket */
	struct plan_keepalive server_ka;  /* the server's accepted socket */
	uint32_t user_timeout_s;          /* TCP_USER_TIMEOUT, 0 = not set */
	uint64_t heartbeat_ms;            /* client heartbeat interval, 0 = none */
	uint64_t server_heartbeat_ms;     /* server -> client heartbeat interval, 0 = none */
	uint64_t idle_ms;
	uint64_t deadline_ms;             /* wait for an answer after the idle */
	enum plan_speaker speaker;
	uint32_t cycles;
	bool has_expect;
	enum probe_outcome expect;
	enum plan_server_end server_end;  /* test knob, TCP only */
	bool rebind;                      /* test knob, UDP: new source port after idle */
	uint64_t warmup_ms;               /* UDP: HELLO and WELCOME every 500 ms for this
					   * long before the idle (two-way traffic), 0 = one */
	uint64_t start_ms;                /* open the connection this long after the
					   * client starts (a group's ramp), 0 = at once */
};

/* Defaults: tcp, keepalive off, idle 0, speaker client, 1 cycle, deadline 5 s. */
void probe_plan_init(struct probe_plan *p);

/*
 * Parse one flow spec "name=ka,proto=tcp,keepalive=1s/1s/3,idle=3s,...".
 * Keys: name proto family keepalive server_keepalive user_timeout
 * (tcp_user_timeout) heartbeat server_heartbeat idle speaker cycles deadline
 * expect server_end rebind start warmup. Unknown or repeated keys, bad values, fractional seconds in kernel
 * options and options that do not fit the protocol are refused.
 * On error returns -1 with errno EINVAL and a one-line message in err.
 */
int probe_plan_parse(const char *spec, struct probe_plan *p, char *err, size_t errlen);

/*
 * Parse a flows file: one spec per line, '#' starts a comment, blank lines
 * are skipped. *plans is allocated (caller frees with free()), *n set.
 * Errors say "line N: ...". Returns 0, or -1 with errno (EINVAL, ENOMEM, or
 * EIO for a read error).
 */
int probe_plan_parse_stream(FILE *f, struct probe_plan **plans, size_t *n, char *err, size_t errlen);

/* Keepalive as text: "off", "kernel-default", "1s/1s/3". Returns buf. */
char *probe_plan_ka_format(const struct plan_keepalive *ka, char *buf, size_t len);

/* Check a flow name: 1..PLAN_NAME_MAX of [A-Za-z0-9._-]. */
bool probe_plan_name_valid(const char *name);

#endif
