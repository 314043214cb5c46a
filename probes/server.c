// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The probe server's event loop (see server.h): one epoll over a TCP
 * listener, a UDP socket, a signalfd and the accepted connections. Each flow
 * keeps its own timers (idle end, deadline, the test knob server_end); the
 * loop reads CLOCK_MONOTONIC once per iteration and scans them, which is
 * plenty for the thousands of flows a probe run has.
 */
#include "probes/server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "probes/loop.h"
#include "probes/proto.h"
#include "probes/result.h"
#include "probes/sockopt.h"

/* Slack on top of idle + deadline before the server says "never heard again":
 * the client's idle starts a little after ours (it starts on our WELCOME). */
#define SERVER_SLACK_MS 1000
#define MAX_PENDING 4096

enum ev_kind { EVK_LISTEN, EVK_UDP, EVK_UDP_ALT, EVK_SIG, EVK_CONN };
struct evtag {
	enum ev_kind kind;
};

/* The accept queue: a client opening thousands of connections at once must
 * not see SYNs dropped by a full backlog (the kernel caps it at somaxconn). */
#define SOMAXCONN_PROBE 65535

enum conn_kind { CK_NEW, CK_FLOW, CK_QUERY };
enum sf_state { SF_IDLE, SF_AWAIT_PING, SF_AWAIT_PONG, SF_ENDED };

struct sflow;

struct sconn {
	struct evtag tag; /* first: epoll data points here */
	int fd;
	enum conn_kind kind;
	char *in;         /* a partial line (PROTO_LINE_MAX bytes) while one is
			   * pending, else NULL: idle connections hold no buffer */
	size_t in_len;
	char *out;
	size_t out_len;
	uint64_t t_drop; /* close at this time (0: never) */
	struct sflow *flow;
	uint64_t *pending; /* QUERY ids not answered yet */
	size_t npending;
	char peer[PROTO_ADDR_MAX], local[PROTO_ADDR_MAX];
	bool dead;
	bool closing; /* refused: the rest of its input is ignored */
	struct sconn *next;
};

struct sflow {
	uint64_t id;
	struct proto_hello h;
	struct probe_side side;
	struct sconn *conn; /* TCP */
	struct sockaddr_storage peer; /* UDP: current source */
	socklen_t peerlen;
	struct sockaddr_storage dst;  /* UDP: the address it sent to, ours to answer from */
	enum sf_state state;
	uint32_t cycle;
	uint64_t idle_start, t_next, t_end_action, t_forget;
	uint64_t t_shb;       /* next server heartbeat (0: none) */
	uint32_t shb_seq;
	bool rebound;
	int64_t rebound_at;
	uint32_t rebound_cycle;
	struct sflow *next;
	struct sflow *hnext;    /* in its bucket of server.by_id */
};

struct server {
	const struct server_config *cfg;
	int ep, lfd, ufd, afd, sfd;  /* afd: UDP on the alternate port, or -1 */
	struct evtag t_listen, t_udp, t_alt, t_sig;
	struct sconn *conns;
	struct sflow *flows;
	/* the flows by id: chained buckets, a power of two, grown to keep
	 * about one flow per bucket; ids are the clients' choice, so they
	 * are hashed with a secret of this process */
	struct sflow **by_id;
	size_t nbuckets, nindexed;
	uint64_t id_secret;
	uint32_t live, ended;
	uint64_t now;
	unsigned long strangers;
	bool stop;
	char local[PROTO_ADDR_MAX];
};

void probe_server_config_init(struct server_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hello_timeout_ms = 10000;
	c->keep_ms = 600000;
	c->max_flows = 10000;
}

/* Log a stranger's or malformed message, but not thousands of them. */
static void stranger(struct server *s, const char *from, const char *what)
{
	s->strangers++;
	if (s->strangers <= 20 || s->strangers % 1000 == 0)
		log_warnx("dropped %s from %s (%lu so far)", what, from, s->strangers);
}

static size_t id_bucket(const struct server *s, size_t nbuckets, uint64_t id)
{
	uint64_t h = (id ^ s->id_secret) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ (h >> 29)) & (nbuckets - 1);
}

static struct sflow *flow_find(struct server *s, uint64_t id)
{
	if (!s->nbuckets)
		return NULL;
	for (struct sflow *f = s->by_id[id_bucket(s, s->nbuckets, id)]; f; f = f->hnext)
		if (f->id == id)
			return f;
	return NULL;
}

/* Index f by its id (doubling the buckets when full). -1 if out of memory. */
static int flow_index(struct server *s, struct sflow *f)
{
	struct sflow **b;
	size_t i;

	if (s->nindexed >= s->nbuckets) {
		size_t n = s->nbuckets ? s->nbuckets * 2 : 64;

		if (!(b = calloc(n, sizeof(*b))))
			return -1;
		for (i = 0; i < s->nbuckets; i++)
			while (s->by_id[i]) {
				struct sflow *x = s->by_id[i];
				size_t k = id_bucket(s, n, x->id);

				s->by_id[i] = x->hnext;
				x->hnext = b[k];
				b[k] = x;
			}
		free(s->by_id);
		s->by_id = b;
		s->nbuckets = n;
	}
	b = &s->by_id[id_bucket(s, s->nbuckets, f->id)];
	f->hnext = *b;
	*b = f;
	s->nindexed++;
	return 0;
}

static void flow_unindex(struct server *s, struct sflow *f)
{
	for (struct sflow **p = &s->by_id[id_bucket(s, s->nbuckets, f->id)]; *p; p = &(*p)->hnext)
		if (*p == f) {
			*p = f->hnext;
			s->nindexed--;
			return;
		}
}

static int64_t rel(const struct sflow *f, uint64_t now)
{
	return (int64_t)now - (int64_t)f->idle_start;
}

/* ---- output on connections ---- */

static void conn_close(struct server *s, struct sconn *c)
{
	if (c->dead)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	if (c->flow && c->flow->conn == c)
		c->flow->conn = NULL;
	c->flow = NULL;
}

static void conn_update_events(struct server *s, struct sconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | (c->out_len ? EPOLLOUT : 0), .data.ptr = c };

	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_flush(struct server *s, struct sconn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return; /* the read side will see the error */
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	conn_update_events(s, c);
}

/* Queue bytes on a connection. Returns 0, or -1 with errno. */
static int conn_send(struct server *s, struct sconn *c, const char *buf, size_t len)
{
	char *n;

	if (c->dead) {
		errno = EBADF;
		return -1;
	}
	if (c->out_len + len > 1024 * 1024) {
		errno = ENOBUFS;
		return -1;
	}
	n = realloc(c->out, c->out_len + len);
	if (!n)
		return -1;
	c->out = n;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	conn_flush(s, c);
	return 0;
}

/* Send a message on a flow's channel (its TCP connection or UDP peer). */
static int flow_send(struct server *s, struct sflow *f, const struct proto_msg *m)
{
	char buf[PROTO_LINE_MAX];
	int n = probe_proto_format(m, buf, sizeof(buf));

	if (n < 0)
		return -1;
	if (f->h.proto == PLAN_UDP) {
		/* from the address the client sent to: a host with several
		 * (the run's server network has two) would otherwise pick one
		 * by its own rules, and the client's connected socket drops
		 * an answer from another */
		if (probe_sockopt_send_from(s->ufd, buf, (size_t)n, (struct sockaddr *)&f->peer, f->peerlen,
					    &f->dst) < 0)
			return -1;
		return 0;
	}
	if (!f->conn) {
		errno = ENOTCONN;
		return -1;
	}
	return conn_send(s, f->conn, buf, (size_t)n);
}

static void send_error(struct server *s, struct sconn *c, uint64_t id, const char *reason)
{
	struct proto_msg m = { .type = PM_ERROR, .id = id };
	char buf[128];
	int n;

	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	n = probe_proto_format(&m, buf, sizeof(buf));
	if (n > 0)
		conn_send(s, c, buf, (size_t)n);
}

/* Refuse a connection: answer, send FIN, ignore the rest, close shortly
 * (closing at once with unread input would send RST over the answer). */
static void conn_refuse(struct server *s, struct sconn *c, uint64_t id, const char *reason)
{
	send_error(s, c, id, reason);
	shutdown(c->fd, SHUT_WR);
	c->closing = true;
	c->t_drop = s->now + 500;
}

/* ---- results ---- */

/* The server's side of a flow as JSON: a new reference, or NULL (ENOMEM). */
static json_t *flow_json(const struct sflow *f)
{
	char id[24];
	json_t *extra, *o;

	snprintf(id, sizeof(id), "%016" PRIx64, f->id);
	extra = json_pack("{s:o,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I}",
			  "flow", jsonio_str(f->h.name), "id", id,
			  "proto", f->h.proto == PLAN_UDP ? "udp" : "tcp",
			  "speaker", f->h.speaker == PLAN_SPEAKER_SERVER ? "server" : "client",
			  "idle_ms", (json_int_t)f->h.idle_ms, "cycles", (json_int_t)f->h.cycles,
			  "heartbeat_ms", (json_int_t)f->h.hb_ms,
			  "server_heartbeat_ms", (json_int_t)f->h.shb_ms,
			  "deadline_ms", (json_int_t)f->h.deadline_ms);
	if (!extra)
		return NULL;
	o = probe_result_side_json(&f->side, "server", extra);
	json_decref(extra);
	return o;
}

static void answer_query(struct server *s, struct sconn *c, const struct sflow *f)
{
	char json[3072], line[PROTO_LINE_MAX];
	struct proto_msg m = { .type = PM_RESULT, .id = f->id };
	json_t *o = flow_json(f);
	/* RESULT lines are printable ASCII: jansson escapes the rest as \uXXXX */
	int n = o ? jsonio_dumpb(o, JSON_ENSURE_ASCII, json, sizeof(json)) : -1;

	json_decref(o);
	if (n < 0) {
		send_error(s, c, f->id, "too-long");
		return;
	}
	m.outcome = f->side.outcome;
	m.cycle = f->side.cycle;
	m.has_at = f->side.has_at;
	m.at_ms = f->side.at_ms;
	m.json = json;
	m.json_len = (size_t)n;
	n = probe_proto_format(&m, line, sizeof(line));
	if (n < 0) {
		send_error(s, c, f->id, "too-long");
		return;
	}
	conn_send(s, c, line, (size_t)n);
}

/*
 * The flow has ended (its side has an outcome): write the JSON line, answer
 * waiting queries, and decide what becomes of its connection.
 */
static void flow_finish(struct server *s, struct sflow *f)
{
	json_t *o;

	if (f->state == SF_ENDED)
		return;
	f->state = SF_ENDED;
	f->t_next = f->t_end_action = f->t_shb = 0;
	f->t_forget = s->now + s->cfg->keep_ms;
	if (f->conn && !f->conn->dead)
		probe_sockopt_tcpinfo(f->conn->fd, &f->side.ti_end);
	if (s->cfg->results && (o = flow_json(f))) {
		json_dumpf(o, s->cfg->results, JSON_COMPACT);
		fputc('\n', s->cfg->results);
		fflush(s->cfg->results);
		json_decref(o);
	}
	log_info("flow %s (%016" PRIx64 ") from %s: %s%s%s", f->h.name, f->id, f->side.peer,
		 probe_outcome_name(f->side.outcome), f->side.detail[0] ? ": " : "", f->side.detail);
	for (struct sconn *c = s->conns; c; c = c->next) {
		if (c->dead || c->kind != CK_QUERY)
			continue;
		for (size_t i = 0; i < c->npending; i++) {
			if (c->pending[i] == f->id) {
				answer_query(s, c, f);
				c->pending[i] = c->pending[--c->npending];
				i--;
			}
		}
	}
	if (f->conn) {
		if (f->side.outcome == OUT_ALIVE || f->side.outcome == OUT_REBOUND)
			/* the client closes after its last exchange; don't wait forever */
			f->conn->t_drop = s->now + f->h.deadline_ms + SERVER_SLACK_MS;
		else
			conn_close(s, f->conn);
	}
	if (s->live)
		s->live--;
	s->ended++;
	if (s->cfg->exit_after && s->ended >= s->cfg->exit_after)
		s->stop = true;
}

static void flow_fail(struct server *s, struct sflow *f, enum probe_outcome o, int err,
		      const char *what)
{
	bool has_at = f->cycle > 0;

	if (f->state == SF_ENDED)
		return;
	probe_side_end(&f->side, o, has_at, has_at ? rel(f, s->now) : 0, f->cycle, err, "%s%s%s", what,
		 err ? ": " : "", err ? strerror(err) : "");
	flow_finish(s, f);
}

static void flow_succeed(struct server *s, struct sflow *f)
{
	if (f->rebound)
		probe_side_end(&f->side, OUT_REBOUND, true, f->rebound_at, f->rebound_cycle, 0,
			 "the client's source changed to %s after the idle period", f->side.rebound_to);
	else
		probe_side_end(&f->side, OUT_ALIVE, true, rel(f, s->now), f->cycle, 0,
			 "%u exchange(s) after idle periods", f->side.cycles_done);
	flow_finish(s, f);
}

/* Start idle period number `cycle` now. */
static void flow_idle(struct server *s, struct sflow *f, uint32_t cycle)
{
	f->cycle = cycle;
	f->idle_start = s->now;
	if (f->h.speaker == PLAN_SPEAKER_SERVER) {
		f->state = SF_IDLE;
		f->t_next = s->now + f->h.idle_ms;
	} else {
		f->state = SF_AWAIT_PING;
		f->t_next = s->now + f->h.idle_ms + f->h.deadline_ms + SERVER_SLACK_MS;
	}
	if (cycle == 1 && f->h.server_end != PLAN_END_NONE)
		f->t_end_action = s->now + f->h.idle_ms / 2;
	f->t_shb = f->h.shb_ms && f->h.shb_ms < f->h.idle_ms ? s->now + f->h.shb_ms : 0;
}

static bool kernel_timer(const struct sflow *f);

/* An exchange after an idle period completed: the next idle, or the end. */
static void flow_cycle_done(struct server *s, struct sflow *f)
{
	f->side.cycles_done++;
	if (f->cycle >= f->h.cycles)
		flow_succeed(s, f);
	else
		flow_idle(s, f, f->cycle + 1);
}

/*
 * Server heartbeats: one HB every shb_ms of the idle period, the last one
 * before its end. Due times are kept (not "now + interval") so a slow loop
 * sends late rather than fewer, and the count depends only on the plan.
 */
static void flow_heartbeat(struct server *s, struct sflow *f)
{
	struct proto_msg m = { .type = PM_HB, .id = f->id };

	if (!f->t_shb || s->now < f->t_shb)
		return;
	if (f->t_shb >= f->idle_start + f->h.idle_ms) {
		f->t_shb = 0;
		return;
	}
	m.seq = ++f->shb_seq;
	f->t_shb += f->h.shb_ms;
	if (flow_send(s, f, &m) < 0 && errno != EAGAIN) {
		int e = errno;
		flow_fail(s, f, probe_result_classify_errno(e, kernel_timer(f)), e,
			  "sending a server heartbeat");
		return;
	}
	f->side.server_heartbeats++;
	f->side.has_last_shb = true;
	f->side.last_shb_ms = rel(f, s->now);
}

static bool kernel_timer(const struct sflow *f)
{
	return f->h.server_ka.mode != PLAN_KA_OFF;
}

static void flow_timer(struct server *s, struct sflow *f)
{
	if (f->t_end_action && s->now >= f->t_end_action && f->conn) {
		bool rst = f->h.server_end == PLAN_END_RESET;

		f->t_end_action = 0;
		if (rst) {
			struct linger l = { 1, 0 };
			setsockopt(f->conn->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		probe_sockopt_tcpinfo(f->conn->fd, &f->side.ti_end);
		probe_side_end(&f->side, rst ? OUT_RESET : OUT_CLOSED, true, rel(f, s->now), f->cycle, 0,
			 "the server %s the connection itself (server_end=%s)",
			 rst ? "reset" : "closed", rst ? "reset" : "close");
		conn_close(s, f->conn);
		flow_finish(s, f);
		return;
	}
	flow_heartbeat(s, f);
	if (f->state == SF_ENDED || !f->t_next || s->now < f->t_next)
		return;
	switch (f->state) {
	case SF_IDLE: { /* our turn to speak first */
		struct proto_msg m = { .type = PM_PING, .id = f->id, .seq = f->cycle };

		if (f->conn)
			probe_sockopt_tcpinfo(f->conn->fd, &f->side.ti_idle_end);
		f->state = SF_AWAIT_PONG;
		f->t_next = s->now + f->h.deadline_ms;
		if (flow_send(s, f, &m) < 0 && errno != EAGAIN) {
			int e = errno;
			flow_fail(s, f, probe_result_classify_errno(e, kernel_timer(f)), e,
				  "sending after the idle period");
		}
		break;
	}
	case SF_AWAIT_PONG:
		flow_fail(s, f, OUT_TIMEOUT, 0, "no answer to our message after the idle period");
		break;
	case SF_AWAIT_PING:
		flow_fail(s, f, OUT_TIMEOUT, 0, "never heard from the client again after the idle period");
		break;
	case SF_ENDED:
		break;
	}
}

/* A message for a running flow, from `from` (UDP) or its connection. */
static void flow_message(struct server *s, struct sflow *f, const struct proto_msg *m,
			 const struct sockaddr_storage *from, socklen_t fromlen)
{
	if (f->h.proto == PLAN_UDP && from) {
		char a[PROTO_ADDR_MAX];

		probe_proto_addr_format((const struct sockaddr *)from, a, sizeof(a));
		if (strcmp(a, f->side.peer) && (!f->rebound || strcmp(a, f->side.rebound_to))) {
			if (f->state != SF_ENDED && !f->rebound) {
				f->rebound = true;
				f->rebound_at = rel(f, s->now);
				f->rebound_cycle = f->cycle;
				snprintf(f->side.rebound_to, sizeof(f->side.rebound_to), "%s", a);
				log_info("flow %s: source changed from %s to %s", f->h.name,
					 f->side.peer, a);
			}
		}
		/* answer where the client is now, like WireGuard's roaming */
		memcpy(&f->peer, from, fromlen);
		f->peerlen = fromlen;
	}
	switch (m->type) {
	case PM_HB:
		f->side.heartbeats++;
		break;
	case PM_PING: {
		struct proto_msg r = { .type = PM_PONG, .id = f->id, .seq = m->seq };

		if (f->state == SF_ENDED)
			break;
		if (f->h.speaker != PLAN_SPEAKER_CLIENT || m->seq != f->cycle) {
			if (f->h.proto == PLAN_UDP)
				break; /* a late duplicate */
			flow_fail(s, f, OUT_ERROR, 0, "protocol error: unexpected PING");
			break;
		}
		if (f->conn)
			probe_sockopt_tcpinfo(f->conn->fd, &f->side.ti_idle_end);
		if (f->h.proto == PLAN_UDP)
			probe_proto_addr_format((struct sockaddr *)&f->peer, r.addr, sizeof(r.addr));
		else
			snprintf(r.addr, sizeof(r.addr), "%s", f->side.peer);
		if (flow_send(s, f, &r) < 0 && errno != EAGAIN) {
			int e = errno;
			flow_fail(s, f, probe_result_classify_errno(e, kernel_timer(f)), e, "answering");
			break;
		}
		flow_cycle_done(s, f);
		break;
	}
	case PM_PONG:
		if (f->state != SF_AWAIT_PONG || m->seq != f->cycle) {
			if (f->h.proto == PLAN_UDP || f->state == SF_ENDED)
				break;
			flow_fail(s, f, OUT_ERROR, 0, "protocol error: unexpected PONG");
			break;
		}
		flow_cycle_done(s, f);
		break;
	case PM_BYE:
		if (f->state != SF_ENDED)
			flow_fail(s, f, OUT_CLOSED, 0, "the client said goodbye early");
		break;
	default:
		if (f->h.proto == PLAN_TCP)
			flow_fail(s, f, OUT_ERROR, 0, "protocol error: unexpected message");
		break;
	}
}

/* Create a flow from a HELLO. Returns NULL (with a reason) if refused. */
static struct sflow *flow_new(struct server *s, const struct proto_msg *m, const char **why)
{
	struct sflow *f;

	if (flow_find(s, m->id)) {
		*why = "duplicate-id";
		return NULL;
	}
	if (s->live >= s->cfg->max_flows) {
		*why = "too-many-flows";
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		*why = "out-of-memory";
		return NULL;
	}
	f->id = m->id;
	if (flow_index(s, f) < 0) {
		free(f);
		*why = "out-of-memory";
		return NULL;
	}
	f->h = m->hello;
	f->side.tcp = m->hello.proto == PLAN_TCP;
	f->side.connected = true;       /* its HELLO got through */
	f->next = s->flows;
	s->flows = f;
	s->live++;
	return f;
}

/* ---- TCP connections ---- */

static void conn_hello(struct server *s, struct sconn *c, const struct proto_msg *m)
{
	const char *why = NULL;
	struct sflow *f;
	struct proto_msg w = { .type = PM_WELCOME, .id = m->id };

	if (m->hello.proto != PLAN_TCP) {
		stranger(s, c->peer, "a UDP hello on TCP");
		conn_refuse(s, c, m->id, "wrong-protocol");
		return;
	}
	f = flow_new(s, m, &why);
	if (!f) {
		log_warnx("refused flow %s from %s: %s", m->hello.name, c->peer, why);
		conn_refuse(s, c, m->id, why);
		return;
	}
	c->kind = CK_FLOW;
	c->flow = f;
	c->t_drop = 0;
	f->conn = c;
	snprintf(f->side.peer, sizeof(f->side.peer), "%s", c->peer);
	snprintf(f->side.local, sizeof(f->side.local), "%s", c->local);
	if (probe_sockopt_keepalive_apply(c->fd, &f->h.server_ka, &f->side.ka) < 0) {
		int e = errno;
		send_error(s, c, m->id, "server-options");
		probe_side_end(&f->side, OUT_ERROR, false, 0, 0, e,
			 "server keepalive did not take effect: %s", strerror(e));
		flow_finish(s, f);
		return;
	}
	probe_sockopt_user_timeout_apply(c->fd, 0, &f->side.user_timeout_ms);
	snprintf(w.addr, sizeof(w.addr), "%s", c->peer);
	if (flow_send(s, f, &w) < 0) {
		flow_fail(s, f, probe_result_classify_errno(errno, false), errno, "sending WELCOME");
		return;
	}
	log_debug("flow %s from %s: tcp, idle %s, speaker %s", f->h.name, c->peer,
		  duration_format(f->h.idle_ms, (char[32]){ 0 }, 32), f->h.speaker == PLAN_SPEAKER_SERVER ? "server" : "client");
	flow_idle(s, f, 1);
}

static void conn_query(struct server *s, struct sconn *c, uint64_t id)
{
	struct sflow *f = flow_find(s, id);

	c->kind = CK_QUERY;
	c->t_drop = 0;
	if (!f) {
		send_error(s, c, id, "unknown-flow");
		return;
	}
	if (f->state == SF_ENDED) {
		answer_query(s, c, f);
		return;
	}
	if (c->npending >= MAX_PENDING) {
		send_error(s, c, id, "too-many-queries");
		return;
	}
	if (!c->pending) {
		c->pending = calloc(MAX_PENDING, sizeof(*c->pending));
		if (!c->pending) {
			send_error(s, c, id, "out-of-memory");
			return;
		}
	}
	c->pending[c->npending++] = id;
}

static void conn_line(struct server *s, struct sconn *c, const char *line, size_t len)
{
	struct proto_msg m;

	if (c->closing)
		return;
	if (probe_proto_parse(line, len, &m) < 0) {
		int e = errno;
		if (c->kind == CK_FLOW && c->flow) {
			flow_fail(s, c->flow, OUT_ERROR, 0, "protocol error: malformed message");
			conn_close(s, c);
			return;
		}
		stranger(s, c->peer, e == EPROTONOSUPPORT ? "a message of another protocol version"
							  : "a malformed message");
		conn_refuse(s, c, 0, e == EPROTONOSUPPORT ? "version" : "malformed");
		return;
	}
	switch (c->kind) {
	case CK_NEW:
		if (m.type == PM_HELLO)
			conn_hello(s, c, &m);
		else if (m.type == PM_QUERY)
			conn_query(s, c, m.id);
		else {
			stranger(s, c->peer, "a connection that did not start with HELLO or QUERY");
			conn_close(s, c);
		}
		break;
	case CK_QUERY:
		if (m.type == PM_QUERY) {
			conn_query(s, c, m.id);
		} else {
			stranger(s, c->peer, "a non-QUERY message on a query connection");
			conn_close(s, c);
		}
		break;
	case CK_FLOW:
		if (!c->flow) {
			break; /* flow ended: ignore the rest (e.g. a late HB) */
		}
		if (m.id != c->flow->id) {
			flow_fail(s, c->flow, OUT_ERROR, 0, "protocol error: wrong flow id");
			conn_close(s, c);
			break;
		}
		flow_message(s, c->flow, &m, NULL, 0);
		break;
	}
}

/* A socket error or EOF on a connection. */
static void conn_gone(struct server *s, struct sconn *c, int err)
{
	struct sflow *f = c->flow;

	if (f && f->state != SF_ENDED) {
		probe_sockopt_tcpinfo(c->fd, &f->side.ti_end);
		if (err)
			flow_fail(s, f, probe_result_classify_errno(err, kernel_timer(f)), err,
				  "connection error");
		else
			flow_fail(s, f, OUT_CLOSED, 0, "the client closed the connection (EOF)");
	} else if (!f && c->kind == CK_NEW && err) {
		log_debug("connection from %s: %s", c->peer, strerror(err));
	}
	conn_close(s, c);
}

static void conn_readable(struct server *s, struct sconn *c)
{
	for (;;) {
		ssize_t n;
		char *nl;

		if (c->in_len == PROTO_LINE_MAX) {
			if (c->flow)
				flow_fail(s, c->flow, OUT_ERROR, 0, "protocol error: line too long");
			else
				stranger(s, c->peer, "an over-long line");
			conn_close(s, c);
			return;
		}
		if (!c->in && !(c->in = malloc(PROTO_LINE_MAX))) {
			conn_gone(s, c, errno);
			return;
		}
		n = recv(c->fd, c->in + c->in_len, PROTO_LINE_MAX - c->in_len, MSG_DONTWAIT);
		if (n <= 0 && !c->in_len) {
			free(c->in);
			c->in = NULL;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_gone(s, c, errno);
			return;
		}
		if (n == 0) {
			conn_gone(s, c, 0);
			return;
		}
		c->in_len += (size_t)n;
		if (c->closing) {
			c->in_len = 0; /* discard */
			continue;
		}
		while (!c->dead && (nl = memchr(c->in, '\n', c->in_len))) {
			size_t l = (size_t)(nl - c->in) + 1;
			conn_line(s, c, c->in, l);
			if (c->dead)
				return;
			memmove(c->in, c->in + l, c->in_len - l);
			c->in_len -= l;
		}
		if (c->dead)
			return;
		if (!c->in_len) {
			free(c->in);
			c->in = NULL;
		}
	}
}

static void accept_all(struct server *s)
{
	for (;;) {
		struct sockaddr_storage ss, ls;
		socklen_t sl = sizeof(ss), ll = sizeof(ls);
		struct epoll_event ev;
		struct sconn *c;
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			log_warnx("out of memory: dropping a connection");
			close(fd);
			continue;
		}
		c->tag.kind = EVK_CONN;
		c->fd = fd;
		c->kind = CK_NEW;
		c->t_drop = s->now + s->cfg->hello_timeout_ms;
		probe_proto_addr_format((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
		if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0)
			probe_proto_addr_format((struct sockaddr *)&ls, c->local, sizeof(c->local));
		probe_sockopt_recverr(fd, ss.ss_family);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("epoll_ctl");
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
	}
}

/* ---- UDP ---- */

static void udp_hello(struct server *s, const struct proto_msg *m, struct sockaddr_storage *from,
		      socklen_t fromlen, const struct sockaddr_storage *dst, const char *froms)
{
	struct sflow *f = flow_find(s, m->id);
	struct proto_msg w = { .type = PM_WELCOME, .id = m->id };
	const char *why = NULL;

	if (m->hello.proto != PLAN_UDP) {
		stranger(s, froms, "a TCP hello on UDP");
		return;
	}
	if (f) {
		/* a retransmitted HELLO: answer again while nothing else happened */
		if (f->cycle != 1 || f->side.cycles_done || f->state == SF_ENDED ||
		    strcmp(froms, f->side.peer))
			return;
	} else {
		f = flow_new(s, m, &why);
		if (!f) {
			log_warnx("refused flow %s from %s: %s", m->hello.name, froms, why);
			return;
		}
		snprintf(f->side.peer, sizeof(f->side.peer), "%s", froms);
		snprintf(f->side.local, sizeof(f->side.local), "%s", s->local);
		memcpy(&f->peer, from, fromlen);
		f->peerlen = fromlen;
		f->dst = *dst;
		log_debug("flow %s from %s: udp, idle %s", f->h.name, froms,
			  duration_format(f->h.idle_ms, (char[32]){ 0 }, 32));
	}
	snprintf(w.addr, sizeof(w.addr), "%s", froms);
	flow_send(s, f, &w);
	flow_idle(s, f, 1);
}

/* ---- UDP MAP: RFC 5780's binding tests ---- */

/* Does from talk IPv4 (also v4-mapped on a dual-stack socket)? */
static bool is_v4(const struct sockaddr_storage *from)
{
	return from->ss_family == AF_INET ||
	       (from->ss_family == AF_INET6 &&
		IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)from)->sin6_addr));
}

/* The server's other address ("ADDR:PORT") into buf, "" when none. */
static void other_addr(const struct server *s, char *buf, size_t len)
{
	struct sockaddr_storage o = s->cfg->alt_addr;

	buf[0] = '\0';
	if (!o.ss_family)
		return;
	if (o.ss_family == AF_INET)
		((struct sockaddr_in *)&o)->sin_port = htons(s->cfg->alt_port);
	else
		((struct sockaddr_in6 *)&o)->sin6_port = htons(s->cfg->alt_port);
	probe_proto_addr_format((struct sockaddr *)&o, buf, len);
}

/*
 * Answer a MAP that came to socket fd (the primary or alternate port) at
 * address dst: MAPPED with the source seen, sent from the other port if
 * asked (PC_PORT), from the alternate address if asked (PC_ADDR), else from
 * where it came to. ERROR no-alternate when there is no such other.
 */
static void udp_map(struct server *s, int fd, const struct proto_msg *m, const struct sockaddr_storage *from,
		    socklen_t fromlen, const struct sockaddr_storage *dst, const char *froms)
{
	const struct server_config *cfg = s->cfg;
	struct proto_msg r = { .type = PM_MAPPED, .id = m->id };
	const struct sockaddr_storage *src = dst;
	char buf[PROTO_LINE_MAX + 1];
	int n, out = fd;

	if (m->change != PC_NONE && (!cfg->alt_addr.ss_family ||
	    ((m->change & PC_ADDR) && is_v4(from) != (cfg->alt_addr.ss_family == AF_INET)))) {
		r.type = PM_ERROR;
		snprintf(r.reason, sizeof(r.reason), "no-alternate");
	} else {
		snprintf(r.addr, sizeof(r.addr), "%s", froms);
		other_addr(s, r.other, sizeof(r.other));
		if (m->change & PC_PORT)
			out = fd == s->ufd ? s->afd : s->ufd;
		if (m->change & PC_ADDR)
			src = &cfg->alt_addr;
	}
	n = probe_proto_format(&r, buf, sizeof(buf));
	if (n < 0 || probe_sockopt_send_from(out, buf, (size_t)n, (const struct sockaddr *)from, fromlen, src) < 0)
		log_debug("MAP %016" PRIx64 " from %s: answer not sent: %s", m->id, froms, strerror(errno));
}

static void udp_errors(struct server *s);

/* Datagrams on the primary UDP socket (fd s->ufd: flows and MAP) or on the
 * alternate port's (s->afd: MAP only). */
static void udp_readable(struct server *s, int fd)
{
	int errors = 0;

	for (;;) {
		char buf[PROTO_LINE_MAX + 1], froms[PROTO_ADDR_MAX];
		struct sockaddr_storage from, dst;
		socklen_t fl = sizeof(from);
		struct proto_msg m;
		struct sflow *f;
		ssize_t n = probe_sockopt_recv_dst(fd, buf, sizeof(buf), &from, &fl, &dst);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* an ICMP error for something we sent: see the error queue */
			udp_errors(s);
			if (++errors > 64)
				return;
			continue;
		}
		probe_proto_addr_format((struct sockaddr *)&from, froms, sizeof(froms));
		if ((size_t)n > PROTO_LINE_MAX || probe_proto_parse(buf, (size_t)n, &m) < 0) {
			stranger(s, froms, "a malformed datagram");
			continue;
		}
		if (m.type == PM_MAP) {
			udp_map(s, fd, &m, &from, fl, &dst, froms);
			continue;
		}
		if (fd != s->ufd) {
			stranger(s, froms, "a flow's datagram on the alternate port");
			continue;
		}
		if (m.type == PM_HELLO) {
			udp_hello(s, &m, &from, fl, &dst, froms);
			continue;
		}
		f = flow_find(s, m.id);
		if (!f || f->h.proto != PLAN_UDP) {
			stranger(s, froms, "a datagram for an unknown flow");
			continue;
		}
		flow_message(s, f, &m, &from, fl);
	}
}

static void udp_errors(struct server *s)
{
	int err;
	char off[PROTO_ADDR_MAX], payload[PROTO_LINE_MAX];
	size_t plen = 0;
	struct proto_msg m;
	struct sflow *f;

	while (probe_sockopt_errqueue(s->ufd, &err, off, sizeof(off), payload, sizeof(payload), &plen) == 1) {
		if (probe_proto_parse(payload, plen, &m) == 0 && (f = flow_find(s, m.id)) &&
		    f->state != SF_ENDED) {
			flow_fail(s, f, probe_result_classify_errno(err, false), err,
				  "ICMP error for our message");
			if (off[0])
				snprintf(f->side.detail + strlen(f->side.detail),
					 sizeof(f->side.detail) - strlen(f->side.detail), " (from %s)",
					 off);
		}
	}
}

/* ---- setup and loop ---- */

static int bind_pair(struct server *s)
{
	const struct server_config *cfg = s->cfg;
	struct sockaddr_storage a;
	socklen_t al;
	int fam = cfg->listen.ss_family, on = 1, off = 0;
	bool any_port = fam == AF_INET ? ((struct sockaddr_in *)&cfg->listen)->sin_port == 0
				       : ((struct sockaddr_in6 *)&cfg->listen)->sin6_port == 0;

	for (int tries = 0; tries < 20; tries++) {
		s->lfd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s->ufd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->lfd < 0 || s->ufd < 0)
			return -1;
		setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (fam == AF_INET6) {
			setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
			setsockopt(s->ufd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		}
		if (bind(s->lfd, (const struct sockaddr *)&cfg->listen, cfg->listen_len) < 0 ||
		    listen(s->lfd, SOMAXCONN_PROBE) < 0)
			return -1;
		al = sizeof(a);
		if (getsockname(s->lfd, (struct sockaddr *)&a, &al) < 0)
			return -1;
		if (bind(s->ufd, (struct sockaddr *)&a, al) == 0) {
			probe_proto_addr_format((struct sockaddr *)&a, s->local, sizeof(s->local));
			probe_sockopt_recverr(s->ufd, fam);
			/* each datagram's destination: answers come from it */
			return probe_sockopt_pktinfo(s->ufd, fam);
		}
		if (errno != EADDRINUSE || !any_port)
			return -1;
		close(s->lfd);
		close(s->ufd);
	}
	errno = EADDRINUSE;
	return -1;
}

/* The alternate port's UDP socket, on the listen address. 0, or -1 with
 * errno. */
static int bind_alt(struct server *s)
{
	const struct server_config *cfg = s->cfg;
	struct sockaddr_storage a = cfg->listen;
	int fam = a.ss_family, off = 0;

	if (!cfg->alt_port)
		return 0;
	if (fam == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons(cfg->alt_port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons(cfg->alt_port);
	s->afd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->afd < 0)
		return -1;
	if (fam == AF_INET6)
		setsockopt(s->afd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(s->afd, (struct sockaddr *)&a, cfg->listen_len) < 0 || probe_sockopt_pktinfo(s->afd, fam) < 0)
		return -1;
	return 0;
}

static int write_ready(const char *path, const char *addr)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", addr);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static uint64_t next_timer(struct server *s)
{
	uint64_t t = UINT64_MAX;

	for (struct sflow *f = s->flows; f; f = f->next) {
		t = probe_loop_timer_min(t, f->t_next);
		t = probe_loop_timer_min(t, f->t_end_action);
		t = probe_loop_timer_min(t, f->t_forget);
		t = probe_loop_timer_min(t, f->t_shb);
	}
	for (struct sconn *c = s->conns; c; c = c->next)
		if (!c->dead)
			t = probe_loop_timer_min(t, c->t_drop);
	return t;
}

static void conn_free(struct sconn *c)
{
	free(c->in);
	free(c->out);
	free(c->pending);
	free(c);
}

static void run_timers(struct server *s)
{
	struct sflow **fp;
	struct sconn **cp;

	for (struct sflow *f = s->flows; f; f = f->next)
		if (f->state != SF_ENDED)
			flow_timer(s, f);
	for (struct sconn *c = s->conns; c; c = c->next) {
		if (!c->dead && c->t_drop && s->now >= c->t_drop) {
			if (c->kind == CK_NEW && !c->closing)
				log_debug("dropped a silent connection from %s", c->peer);
			conn_close(s, c);
		}
	}
	/* free what is done with */
	for (fp = &s->flows; *fp;) {
		struct sflow *f = *fp;
		if (f->state == SF_ENDED && f->t_forget && s->now >= f->t_forget && !f->conn) {
			*fp = f->next;
			flow_unindex(s, f);
			free(f);
		} else {
			fp = &f->next;
		}
	}
	for (cp = &s->conns; *cp;) {
		struct sconn *c = *cp;
		if (c->dead) {
			*cp = c->next;
			conn_free(c);
		} else {
			cp = &c->next;
		}
	}
}

/* Add a socket of ours to the epoll set, tagged with what it is. */
static int server_watch(struct server *s, int fd, struct evtag *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Signals, the TCP and UDP sockets, the epoll set over them; then tell the
 * world (log line, ready file). Returns 0, or -1 with errno. */
static int server_open(struct server *s)
{
	s->t_listen.kind = EVK_LISTEN;
	s->t_udp.kind = EVK_UDP;
	s->t_alt.kind = EVK_UDP_ALT;
	s->t_sig.kind = EVK_SIG;
	if (getrandom(&s->id_secret, sizeof(s->id_secret), 0) != sizeof(s->id_secret))
		s->id_secret = mtime_ms() ^ ((uint64_t)getpid() << 32);
	s->sfd = probe_loop_signalfd_open();
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->ep < 0 || bind_pair(s) < 0 || bind_alt(s) < 0)
		return -1;
	if (server_watch(s, s->lfd, &s->t_listen) < 0 || server_watch(s, s->ufd, &s->t_udp) < 0 ||
	    server_watch(s, s->sfd, &s->t_sig) < 0 || (s->afd >= 0 && server_watch(s, s->afd, &s->t_alt) < 0))
		return -1;
	log_info("listening on %s (tcp and udp)", s->local);
	if (s->afd >= 0) {
		char other[PROTO_ADDR_MAX];

		other_addr(s, other, sizeof(other));
		log_info("answering MAP requests also on udp port %u, and from %s", s->cfg->alt_port, other);
	}
	if (s->cfg->ready_file && write_ready(s->cfg->ready_file, s->local) < 0)
		return -1;
	return 0;
}

static void server_event(struct server *s, const struct epoll_event *ev)
{
	struct evtag *tag = ev->data.ptr;
	struct sconn *c;

	switch (tag->kind) {
	case EVK_LISTEN:
		accept_all(s);
		break;
	case EVK_UDP:
		if (ev->events & EPOLLERR)
			udp_errors(s);
		if (ev->events & EPOLLIN)
			udp_readable(s, s->ufd);
		break;
	case EVK_UDP_ALT:
		/* an error (ICMP for an answer) is read, and cleared, there too */
		udp_readable(s, s->afd);
		break;
	case EVK_SIG:
		if (probe_loop_signals_read(s->sfd) != LOOP_SIG_NONE)
			s->stop = true;
		break;
	case EVK_CONN:
		c = (struct sconn *)tag;
		if (c->dead)
			break;
		if (ev->events & EPOLLOUT)
			conn_flush(s, c);
		if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_readable(s, c);
		break;
	}
}

/* Run until signalled or --exit-after. Returns 0, or -1 with errno if epoll
 * failed. */
static int server_loop(struct server *s)
{
	while (!s->stop) {
		struct epoll_event evs[64];
		int n;

		s->now = mtime_ms();
		n = epoll_wait(s->ep, evs, 64, probe_loop_timeout(next_timer(s), s->now));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s->now = mtime_ms();
		for (int i = 0; i < n; i++)
			server_event(s, &evs[i]);
		run_timers(s);
	}
	return 0;
}

static void server_close(struct server *s)
{
	for (struct sconn *c = s->conns, *nx; c; c = nx) {
		nx = c->next;
		if (!c->dead)
			close(c->fd);
		conn_free(c);
	}
	for (struct sflow *f = s->flows, *nx; f; f = nx) {
		nx = f->next;
		free(f);
	}
	free(s->by_id);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->afd >= 0)
		close(s->afd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->ep >= 0)
		close(s->ep);
}

int probe_server_run(const struct server_config *cfg)
{
	struct server srv = { .cfg = cfg, .ep = -1, .lfd = -1, .ufd = -1, .afd = -1, .sfd = -1 };
	struct server *s = &srv;
	int rc = -1, e;

	if (server_open(s) < 0 || server_loop(s) < 0)
		goto out;
	/* write what is unfinished as interrupted */
	for (struct sflow *f = s->flows; f; f = f->next)
		if (f->state != SF_ENDED)
			flow_fail(s, f, OUT_INTERRUPTED, 0, "the server was stopped");
	rc = 0;
out:
	e = errno;
	if (rc < 0)
		log_debug("server setup or loop failed: %s", strerror(e));
	server_close(s);
	errno = e;
	return rc;
}
