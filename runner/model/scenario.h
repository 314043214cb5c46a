/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scenario files: the model a run is built from, and the parser/checker that
 * fills it (docs/scenario-format.md is the user's reference).
 *
 * The model is plain data that the runner reads directly: middleboxes with
 * their resolved policy, flows with their probe settings, timed events and
 * the [scenario] settings. Every duration is kept both as written and scaled
 * by time_scale (struct sc_duration), so reports can speak in the user's
 * units while the runner arms timers and sets socket options with the
 * scaled values. Middlebox policies are stored unscaled; the runner gets the
 * scaled one from scenario_policy_scaled().
 *
 * Parsing never stops at the first problem: every error found goes into a
 * struct ini_diags as "file:line: message" plus an optional hint, and a file
 * with any error yields no model.
 */
#ifndef IDLEGATE_SCENARIO_H
#define IDLEGATE_SCENARIO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/duration.h"
#include "common/iniread.h"
#include "common/policy.h"

/*
 * The limits of a scenario. The sections, flows and events of a file are
 * held in arrays that grow with it; these bounds keep a run's memory,
 * processes and time sane, and each has its message (file:line, naming the
 * limit) in the checker. idlegate-scenario(5) lists them all.
 */
#define SC_NAME_MAX 32          /* names: letters, digits, '.', '_', '-'; < 32 chars */
#define SC_VALUE_MAX 200        /* a value fits in one inih line */
#define SC_MAX_MIDDLEBOXES 64   /* [middlebox] sections */
#define SC_MAX_FLOWS 1000       /* [flow] sections */
#define SC_MAX_EVENTS 1000      /* [event] sections */
#define SC_MAX_PATH 4           /* middleboxes on one flow's path */
#define SC_MAX_NETWORKS 32      /* networks built: one per distinct path, and one
				 * per flow with sysctl.NAME (a client of its own) */
#define SC_MAX_PORTS 8          /* server ports of built-in probe flows on one network */
#define SC_DEFAULT_PORT 7201     /* a built-in probe flow's server port without port = */
#define SC_MAX_FILE_BYTES (1024 * 1024)
#define SC_MAX_COUNT 100000     /* connections in one flow group (count =) */
#define SC_MAX_CONNECTIONS 100000 /* connections in one scenario, all groups */
#define SC_MAX_COUNTED 8        /* terms of a counted expectation */
#define SC_COMMAND_MAX 4096     /* command, server_command: one line of INIREAD_MAX_LONG_LINE */
#define SC_USER_MAX 64          /* run_as */
#define SC_MAX_SYSCTLS 8        /* sysctl.NAME keys per flow (each name once) */

/* A per-network-namespace kernel setting of a flow's client (sysctl.NAME). */
struct sc_sysctl {
	char name[48];                  /* "net.ipv4.tcp_keepalive_time" */
	unsigned long value;
	int line;
};

/* Linux's defaults, for keepalive = kernel-default. */
#define SC_KERNEL_KA_IDLE_MS 7200000u
#define SC_KERNEL_KA_INTVL_MS 75000u
#define SC_KERNEL_KA_COUNT 9u

/* A duration as written (ms) and scaled by the scenario's time_scale. */
struct sc_duration {
	uint64_t ms;
	uint64_t scaled_ms;
};

/* A knob set in a [middlebox] section, applied on top of the profile. */
struct sc_override {
	char knob[64];
	char value[SC_VALUE_MAX];
	int line;
};

struct sc_middlebox {
	char name[SC_NAME_MAX];
	int line;                       /* of the [middlebox NAME] header */
	char profile[SC_VALUE_MAX];     /* as written; "" = policy defaults (Linux) */
	char profile_path[PATH_MAX];    /* the profile file read, "" if none */
	int profile_line;
	struct policy policy;           /* profile + overrides, unscaled */
	struct sc_override *overrides;  /* each knob at most once */
	size_t noverrides, cap_overrides;
};

enum sc_proto { SC_TCP, SC_UDP };
enum sc_family { SC_IPV4, SC_IPV6 };
enum sc_keepalive {
	SC_KA_OFF,                      /* SO_KEEPALIVE not set (Linux's default) */
	SC_KA_KERNEL_DEFAULT,           /* on, with 7200s,75s,9 (scaled like the rest) */
	SC_KA_SET,                      /* on, with the given idle,intvl,count */
};
enum sc_speaker { SC_CLIENT, SC_SERVER };
enum sc_expect {
	SC_EXPECT_ALIVE, SC_EXPECT_RESET, SC_EXPECT_TIMEOUT,
	SC_EXPECT_KEEPALIVE_TIMEOUT, SC_EXPECT_REBOUND, SC_EXPECT_UNREACHABLE,
	SC_EXPECT_CLOSED,               /* an orderly close (FIN) nobody asked for */
	SC_EXPECT_REFUSED,              /* never connected: RST to the SYN */
	SC_EXPECT_CONNECT_TIMEOUT,      /* never connected: no answer to the SYN */
};

/* One term of a counted expectation: "alive >= 256". */
enum sc_cmp { SC_CMP_GE, SC_CMP_LE, SC_CMP_EQ };
struct sc_counted {
	enum sc_expect outcome;
	enum sc_cmp cmp;
	unsigned n;
};

/* How many enum sc_expect values there are (a tally's size). */
#define SC_EXPECT_N 9

struct sc_flow {
	char name[SC_NAME_MAX];
	int line;                       /* of the [flow NAME] header */
	enum sc_proto proto;            /* default tcp */
	enum sc_family family;          /* default ipv4 */
	enum sc_keepalive keepalive;    /* default off */
	struct sc_duration ka_idle, ka_intvl; /* set for SC_KA_SET and _KERNEL_DEFAULT */
	unsigned ka_count;
	struct sc_duration user_timeout;/* TCP_USER_TIMEOUT; ms == 0: not set */
	struct sc_duration heartbeat;   /* application heartbeat; ms == 0: none */
	struct sc_duration server_heartbeat; /* server -> client heartbeat; ms == 0: none */
	struct sc_duration warmup;      /* UDP: two-way traffic before the idle; ms == 0: one exchange */
	struct sc_duration idle;        /* required unless command is set */
	enum sc_speaker speaker;        /* who sends first after the idle period */
	unsigned cycles;                /* idle + exchange rounds, default 1 */
	struct sc_duration deadline;    /* wait for an answer after idle; default 30s,
					 * and scaled_ms is never below 1 s */
	enum sc_expect expect;          /* required */
	int expect_line;                /* for "x.ini:14: expected alive, got reset" */
	int path[SC_MAX_PATH];          /* indexes into scenario.mb, client side first */
	size_t npath;
	uint16_t port;                  /* server port; 0 = the runner picks */
	char command[SC_COMMAND_MAX];   /* "" = built-in probe */
	char server_command[SC_COMMAND_MAX];
	char run_as[SC_USER_MAX];       /* command and server_command run as; "" = root */
	int expect_exit;                /* the command's exit status must be this; -1 = any */
	char expect_output[SC_VALUE_MAX]; /* POSIX ERE its output must match; "" = none */
	bool scale_program;             /* run command/server_command under libfaketime and
					 * libidlegate-scale.so, sped up by time_scale */
	struct sc_sysctl sysctl[SC_MAX_SYSCTLS]; /* set in its client's namespace, which it
					 * then has to itself (a path of its own) */
	size_t nsysctl;
	/* a flow group: count identical connections, the k-th (0-based) opened
	 * at start + ramp * k / (count - 1) after the probes start */
	unsigned count;                 /* default 1 */
	struct sc_duration start, ramp; /* default 0 */
	/* counted expectation ("expect = alive >= 256, timeout <= 44"): every
	 * term must hold; ncounted == 0: every connection must have `expect`
	 * (which is the first term's outcome otherwise) */
	struct sc_counted counted[SC_MAX_COUNTED];
	size_t ncounted;
};

/*
 * The sysctls a flow may set (sysctl.NAME): per network namespace, about
 * the client's TCP, so setting them in the flow's own client namespace
 * touches nothing else. Returns the NULL-terminated list.
 */
const char *const *sc_sysctl_names(void);

/* Is sysctl NAME a duration in seconds (scaled with scale_program)? */
bool sc_sysctl_is_seconds(const char *name);

enum sc_action { SC_ACT_FLUSH, SC_ACT_EXPIRE, SC_ACT_SET, SC_ACT_BLACKHOLE };

struct sc_event {
	char name[SC_NAME_MAX];
	int line;
	struct sc_duration at;          /* from the start of the idle period */
	enum sc_action action;
	int flow;                       /* SC_ACT_EXPIRE: index into scenario.flows */
	char knob[64];                  /* SC_ACT_SET */
	char value[SC_VALUE_MAX];
	struct sc_duration duration;    /* SC_ACT_BLACKHOLE */
	int middlebox;                  /* index into scenario.mb; -1 = every middlebox */
};

struct scenario {
	char file[PATH_MAX];
	char dir[PATH_MAX];             /* the file's directory, absolute ("" when parsed from memory) */
	char description[SC_VALUE_MAX];
	struct timescale scale;         /* default 1/1 */
	char scale_text[32];            /* "1/50" */
	struct sc_duration timeout;     /* whole run; ms == 0: the runner decides */
	char ipv4_net[64];              /* "" or CIDR the runner numbers links from */
	char ipv6_net[64];
	struct sc_middlebox *mb;        /* [nmb], at most SC_MAX_MIDDLEBOXES */
	size_t nmb, cap_mb;
	struct sc_flow *flows;          /* [nflows], at most SC_MAX_FLOWS */
	size_t nflows, cap_flows;
	struct sc_event *events;        /* [nevents], at most SC_MAX_EVENTS */
	size_t nevents, cap_events;
};

/*
 * Parse and check a scenario in memory. name is used in messages and as
 * scenario.file; basedir (may be NULL = cwd) resolves relative profile paths
 * ("profile = ./mine.ini"). Bare profile names are found with profile_find().
 * Returns the model (free with scenario_free()), or NULL with errno EINVAL
 * and every problem in diags, or NULL with errno ENOMEM.
 */
struct scenario *scenario_parse(const char *buf, size_t len, const char *name,
				const char *basedir, struct ini_diags *diags);

/*
 * Read and parse a file. On a read error returns NULL with errno set and one
 * line-0 diagnostic saying why.
 */
struct scenario *scenario_load(const char *path, struct ini_diags *diags);

void scenario_free(struct scenario *sc);

/* ms scaled by the scenario's time_scale (rounded to the nearest ms). */
uint64_t scenario_scale(const struct scenario *sc, uint64_t ms);

/*
 * The policy middlebox mb should run with: its policy with every timeout,
 * nat.port_hold and sweep_interval scaled (at least 1 ms). Link delays are
 * not scaled: they model the network, not idle time.
 */
void scenario_policy_scaled(const struct scenario *sc, const struct sc_middlebox *mb,
			    struct policy *out);

/*
 * A rough scaled wall-clock length of the run in ms: the longest flow
 * (sc_flow_span_ms()) or the latest event end, whichever is later.
 */
uint64_t scenario_estimate_ms(const struct scenario *sc);

/*
 * The sums a run is planned with, scaled (scaled = true) or as written.
 * None wraps: a total that does not fit is UINT64_MAX (common/vec.h), and
 * the checker refuses any above DURATION_MAX_MS with the flow's line.
 *
 * sc_flow_span_ms: the most flow f can take from the probes' start,
 *   start + ramp + warmup + cycles x (idle + deadline).
 * sc_conn_start_ms: when connection k (0-based) of f opens,
 *   start + ramp x k / (count - 1).
 * sc_ka_span_ms: how long the kernel takes to give up on a silent peer,
 *   keepalive idle + interval x count (0 without keepalive).
 * sc_event_end_ms: at + duration of event e (its blackhole).
 */
uint64_t sc_flow_span_ms(const struct sc_flow *f, bool scaled);
uint64_t sc_conn_start_ms(const struct sc_flow *f, unsigned k, bool scaled);
uint64_t sc_ka_span_ms(const struct sc_flow *f, bool scaled);
uint64_t sc_event_end_ms(const struct sc_event *e, bool scaled);

/* Index of the flow / middlebox called name, or -1. */
int scenario_flow_index(const struct scenario *sc, const char *name);
int scenario_mb_index(const struct scenario *sc, const char *name);

/* Names as written in files ("tcp", "keepalive-timeout", "blackhole", ...). */
const char *sc_proto_name(enum sc_proto p);
const char *sc_family_name(enum sc_family f);
const char *sc_speaker_name(enum sc_speaker s);
const char *sc_expect_name(enum sc_expect e);
const char *sc_action_name(enum sc_action a);

/* A flow's expectation as a person reads it: "alive", or "alive >= 256,
 * timeout <= 44" for a counted one. Returns buf. */
char *sc_expect_format(const struct sc_flow *f, char *buf, size_t len);

/* Does a group's tally (n[outcome] connections for each enum sc_expect
 * value) meet f's expectation? A per-flow expectation needs every one of
 * f->count connections to have it. */
bool sc_expect_met(const struct sc_flow *f, const unsigned *n);

/*
 * The keys a section takes ("scenario", "flow", "event"; a middlebox takes
 * "profile" plus every knob of policy_knobs()). NULL for another kind.
 */
const char *const *sc_section_keys(const char *kind, size_t *n);

/* A time scale written as the user would ("1/50", "2", "3/4") into buf. */
char *sc_scale_format(const struct timescale *ts, char *buf, size_t len);

#endif
