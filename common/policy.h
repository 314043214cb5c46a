/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy a middlebox plays: every knob of DESIGN.md's policy table, with
 * defaults equal to Linux conntrack's. Knobs are set by name from profile
 * files, scenario files, `--set key=value` and the control socket, all
 * through policy_set(). Pure: no I/O.
 */
#ifndef IDLEGATE_POLICY_H
#define IDLEGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

enum timeout_id {
	TO_TCP_SYN_SENT, TO_TCP_SYN_RECV, TO_TCP_ESTABLISHED, TO_TCP_FIN_WAIT,
	TO_TCP_CLOSE_WAIT, TO_TCP_LAST_ACK, TO_TCP_TIME_WAIT, TO_TCP_CLOSE,
	TO_TCP_UNACK, TO_UDP_UNREPLIED, TO_UDP_ASSURED, TO_ICMP,
	TO_UDP_STREAM,  /* not an idle timeout: how soon a replied UDP flow may become assured */
	TO_EXPIRED_HOLD, /* how long an expired flow waits for the next sender (tombstone) */
	TO_MAX
};

/* Which packets refresh a flow's idle timer (bits). */
enum {
	REFRESH_OUT = 1,        /* inside -> outside */
	REFRESH_IN = 2,         /* outside -> inside */
	REFRESH_DATA_ONLY = 4,  /* only segments with payload (and SYN/FIN/RST) */
};

enum on_expire {
	EXPIRE_DROP,            /* forget silently */
	EXPIRE_RST_INSIDE_ON_NEXT, /* RST to the inside host when it next sends */
	EXPIRE_RST_NEXT_SENDER, /* RST to whichever side sends next */
	EXPIRE_RST_BOTH,        /* RST to both ends at expiry */
	EXPIRE_FIN_INSIDE,      /* FIN to the inside host at expiry */
	EXPIRE_ICMP_UNREACH,    /* ICMP unreachable to whichever side sends next */
};

enum nat_mode { NAT_OFF, NAT_SNAT };
enum nat_ports { PORTS_PRESERVE, PORTS_SEQUENTIAL, PORTS_RANDOM };
/* RFC 4787 mapping and filtering behaviours. */
enum nat_behaviour { NAT_EI, NAT_AD, NAT_APD };
/* Whether an outside port serves one mapping at a time, or several whose
 * destinations differ (the 5-tuple stays unique). */
enum port_reuse { REUSE_EXCLUSIVE, REUSE_DESTINATION };
enum expiry_mode { EXPIRY_EXACT, EXPIRY_SWEEP };
/* A new flow when the table is full: refuse it; evict the longest-idle of a
 * few sampled flows that are not assured; or Linux conntrack's early_drop. */
enum when_full { FULL_REFUSE, FULL_EVICT_IDLE, FULL_EARLY_DROP };
/* What the inside host is told when the NAT has no port (or limit) left for
 * its new connection: nothing, a RST (ICMP port unreachable for UDP and
 * ICMP), or ICMP administratively prohibited. */
enum when_exhausted { EXHAUSTED_DROP, EXHAUSTED_RST, EXHAUSTED_ICMP };
/* Which RSTs close a TCP flow: those within the connection's window, as
 * Linux conntrack and RFC 5961 endpoints accept them, or any. */
enum rst_check { RST_CHECK_WINDOW, RST_CHECK_ANY };
/* An inbound packet that matches no flow (and, with NAT, no mapping). */
enum inbound_unknown { INBOUND_PASS, INBOUND_DROP, INBOUND_RST };

struct policy {
	uint64_t timeout[TO_MAX];       /* ms */
	unsigned refresh;               /* REFRESH_* bits */
	enum on_expire on_expire;
	bool pickup_loose;
	enum rst_check rst_check;
	enum inbound_unknown inbound_unknown;

	enum nat_mode nat;
	union addr nat_addr;            /* outside address (IPv4) */
	bool nat_addr_set;
	enum nat_ports nat_ports;
	uint16_t port_min, port_max;
	enum nat_behaviour mapping, filtering;
	uint64_t port_hold;             /* ms */
	enum port_reuse port_reuse;
	uint32_t ports_per_host;        /* connections of one inside host to one destination; 0: no limit */
	uint32_t max_per_destination;   /* connections to one destination; 0: no limit */
	enum when_exhausted when_exhausted;

	enum expiry_mode expiry;
	uint64_t sweep_interval;        /* ms */

	uint32_t max_flows;
	enum when_full when_full;

	double loss[2];                 /* per direction (enum dir), 0..1 */
	uint64_t delay[2];              /* ms, per direction */
	uint64_t seed;
};

/* Linux conntrack's defaults (kernel nf_conntrack-sysctl.rst). */
void policy_init(struct policy *p);

/*
 * Set knob `key` to `value`. Returns 0, or -1 with errno ENOENT (unknown
 * knob) or EINVAL (bad value); in both cases a one-line explanation with
 * the accepted values goes to err (if not NULL).
 */
int policy_set(struct policy *p, const char *key, const char *value,
	       char *err, size_t errlen);
/* Write the knob's current value as it would be written in a file. Returns
 * 0, or -1 with errno ENOENT. */
int policy_get(const struct policy *p, const char *key, char *buf, size_t len);
/* Check combinations (e.g. snat without nat.address). 0 or -1 with a message. */
int policy_validate(const struct policy *p, char *err, size_t errlen);

struct knob_info {
	const char *name;       /* "tcp.established" */
	const char *values;     /* "duration", "drop|rst-inside-on-next|..." */
	const char *help;       /* one line */
};
/* The table of all knobs, for --help, docs and the scenario checker. */
const struct knob_info *policy_knobs(size_t *n);

#endif
