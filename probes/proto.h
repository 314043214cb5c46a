/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wire format between idlegate-probe client and server. Every message is
 * one line of printable ASCII, "IGP1 TYPE field...", fields separated by one
 * space, at most PROTO_LINE_MAX bytes with the '\n'. On TCP the lines follow
 * each other on the stream; on UDP each datagram holds exactly one. The
 * parser meets untrusted input (anyone can connect to a server), so it is
 * strict: fixed field order, no extra spaces, numbers without leading zeros
 * and within the limits a plan allows, addresses checked with inet_pton.
 *
 *   IGP1 HELLO id name tcp|udp idle_ms client|server cycles hb_ms deadline_ms ska none|close|reset [shb=MS]
 *   IGP1 WELCOME id addr           server -> client: the client's address as the server saw it
 *   IGP1 PING id cycle             the first message after an idle period
 *   IGP1 PONG id cycle addr        its answer (addr: the PING's source as the server saw it)
 *   IGP1 HB id seq                 heartbeat during the idle period: client -> server, and
 *                                  server -> client when the HELLO asked for shb=MS
 *   IGP1 BYE id                    UDP: the client is done
 *   IGP1 QUERY id                  client -> server, on a new TCP connection: your side of flow id?
 *   IGP1 RESULT id outcome cycle at_ms|- {json}   the server's side, once that flow has ended
 *   IGP1 ERROR id|- reason         a refusal ("unknown-flow", "bad-hello", ...)
 *   IGP1 MAP id none|port|addr|both   UDP, client -> server: what address did this come from?
 *                                  Answer from the alternate port, address, or both
 *                                  (RFC 5780's CHANGE-REQUEST); stateless
 *   IGP1 MAPPED id addr other|-    its answer: addr the MAP's source as the server saw it,
 *                                  other the server's alternate "ADDR:PORT" (RFC 5780's
 *                                  OTHER-ADDRESS), "-" when it has none
 *
 * id is 16 lowercase hex digits; ska (the server socket's keepalive) is
 * "off", "default" or "IDLE/INTVL/CNT" in whole seconds. The optional last
 * HELLO field shb=MS (>= 100) asks the server to send its own HB every MS
 * during the idle period; it is written only when set, so hellos without it
 * are the same as before it existed (an older server refuses a hello with it,
 * and the client reports that as the flow's error).
 */
#ifndef IDLEGATE_PROBE_PROTO_H
#define IDLEGATE_PROBE_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probes/plan.h"

#define PROTO_MAGIC "IGP1"
#define PROTO_LINE_MAX 4096
#define PROTO_ADDR_MAX 64         /* "[ipv6]:port" with room to spare */
#define PROTO_REASON_MAX 31

enum proto_type {
	PM_HELLO = 0, PM_WELCOME, PM_PING, PM_PONG, PM_HB, PM_BYE, PM_QUERY, PM_RESULT, PM_ERROR,
	PM_MAP, PM_MAPPED, PM_MAX
};

/* The part of a plan that the server needs. */
struct proto_hello {
	char name[PLAN_NAME_MAX + 1];
	enum plan_proto proto;
	uint64_t idle_ms, hb_ms, deadline_ms;
	uint64_t shb_ms;                   /* server heartbeat interval, 0 = none */
	enum plan_speaker speaker;
	uint32_t cycles;
	struct plan_keepalive server_ka;
	enum plan_server_end server_end;
};

/* MAP: where the answer comes from (RFC 5780 CHANGE-REQUEST), a bit each. */
enum proto_change { PC_NONE = 0, PC_PORT = 1, PC_ADDR = 2, PC_BOTH = 3 };

struct proto_msg {
	enum proto_type type;
	uint64_t id;                       /* 0 in an ERROR with "-" */
	struct proto_hello hello;          /* HELLO */
	uint32_t seq;                      /* PING/PONG: cycle, HB: sequence */
	char addr[PROTO_ADDR_MAX];         /* WELCOME, PONG, MAPPED */
	enum proto_change change;          /* MAP */
	char other[PROTO_ADDR_MAX];        /* MAPPED: "" = none ("-") */
	char reason[PROTO_REASON_MAX + 1]; /* ERROR */
	/* RESULT */
	enum probe_outcome outcome;
	uint32_t cycle;
	int has_at;
	int64_t at_ms;
	const char *json;                  /* points into the parsed buffer */
	size_t json_len;
};

/* Name of a message type ("HELLO"). */
const char *probe_proto_type_name(enum proto_type t);

/*
 * Parse one message of len bytes (a single trailing '\n' is allowed; no NUL,
 * no other control characters). For RESULT, m->json points into buf.
 * Returns 0, or -1 with errno EPROTONOSUPPORT (not "IGP1 ") or EINVAL.
 */
int probe_proto_parse(const char *buf, size_t len, struct proto_msg *m);

/*
 * Format m into buf, with the trailing '\n' and a NUL after it. Returns the
 * length without the NUL, or -1 with errno ENOSPC (buf too small) or EINVAL
 * (a field that the parser would refuse).
 */
int probe_proto_format(const struct proto_msg *m, char *buf, size_t len);

/* Fill the hello part of a message from a plan. */
void probe_proto_hello_from_plan(struct proto_hello *h, const struct probe_plan *p);

/*
 * Addresses as text: "192.0.2.1:7201", "[2001:db8::1]:7201". parse also takes
 * ":PORT" (any address, IPv6 dual-stack) and fills *sslen. Returns 0, or -1
 * with errno EINVAL. format returns buf ("?" for an unknown family).
 */
int probe_proto_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen);
char *probe_proto_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
