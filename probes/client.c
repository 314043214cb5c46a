// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The probe client's event loop (see client.h). Every flow is a small state
 * machine driven by its socket and its own timers; the loop reads
 * CLOCK_MONOTONIC once per iteration. During an idle period a flow sends
 * nothing but its planned heartbeats: anything else would refresh the very
 * middlebox state being measured.
 */
#include "probes/client.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
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
#include "probes/sockopt.h"

#define HELLO_RETRANSMIT_MS 1000
#define WARMUP_INTERVAL_MS 500      /* HELLO again this long after a WELCOME, while warming up */

enum cf_state { CF_WAIT_START, CF_CONNECTING, CF_HELLO, CF_WARMUP, CF_IDLE, CF_AWAIT_PONG, CF_AWAIT_PING, CF_DONE };

struct cflow {
	struct probe_flow_result *r;
	const struct probe_plan *p;
	struct probe_side *side;
	int fd;
	const struct sockaddr_storage *srv;
	socklen_t srvlen;
	int srv_index;
	enum cf_state state;
	uint32_t cycle;
	uint64_t idle_start, t_next, t_hb, t_retx;
	uint64_t t_warm_end;            /* warmup: the idle starts at the first WELCOME after it */
	uint32_t hb_seq;
	char *in;                       /* a partial line, PROTO_LINE_MAX bytes while
					 * one is pending, else NULL: an idle flow
					 * holds no buffer (the probe keeps tens of
					 * thousands of them) */
	size_t in_len;
	bool welcomed, rebound;
	bool not_needed;                /* running when SIGUSR1 came: the server is not asked */
};

struct client {
	const struct client_config *cfg;
	int ep, sfd;
	struct cflow *flows;
	size_t n, running;
	uint64_t now;
	bool stop;                      /* a signal ended the loop */
	bool stopped_hard;              /* SIGINT/SIGTERM/SIGHUP, not only SIGUSR1 */
	bool addrs_dirty;               /* lines in cfg->addrs not flushed yet */
};

static bool kernel_timer(const struct cflow *f)
{
	return f->p->ka.mode != PLAN_KA_OFF || f->p->user_timeout_s;
}

static void flow_close(struct client *c, struct cflow *f)
{
	if (f->fd < 0)
		return;
	if (f->p->proto == PLAN_TCP)
		probe_sockopt_tcpinfo(f->fd, &f->side->ti_end);
	epoll_ctl(c->ep, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	f->fd = -1;
}

static void flow_done(struct client *c, struct cflow *f)
{
	if (f->state == CF_DONE)
		return;
	f->state = CF_DONE;
	f->t_next = f->t_hb = f->t_retx = 0;
	flow_close(c, f);
	c->running--;
	if (c->cfg->ended_fd > 0)
		dprintf(c->cfg->ended_fd, "%s %s\n", f->p->name, probe_outcome_name(f->side->outcome));
	log_debug("flow %s: %s %s", f->p->name, probe_outcome_name(f->side->outcome),
		  f->side->detail);
}

/* End a flow with an outcome noticed now. Events before the first idle
 * period have no time relative to it (cycle 0). */
static void flow_end(struct client *c, struct cflow *f, enum probe_outcome o, int err,
		     const char *what)
{
	bool has_at = f->cycle > 0;
	char off[PROTO_ADDR_MAX] = "";

	if (f->state == CF_DONE)
		return;
	if (f->fd >= 0) {
		int e2;
		/* an ICMP error carries who sent it */
		while (probe_sockopt_errqueue(f->fd, &e2, off, sizeof(off), NULL, 0, NULL) == 1)
			if (!err)
				err = e2;
	}
	if (f->p->proto == PLAN_TCP && f->fd >= 0)
		probe_sockopt_tcpinfo(f->fd, &f->side->ti_end);
	probe_side_end(f->side, o, has_at, has_at ? (int64_t)(c->now - f->idle_start) : 0, f->cycle, err,
		 "%s%s%s%s%s", what, err ? ": " : "", err ? strerror(err) : "",
		 off[0] ? " from " : "", off);
	flow_done(c, f);
}

/* An errno from the socket: classify it; before the first idle it means the
 * flow could not be set up. */
static void flow_errno(struct client *c, struct cflow *f, int err, const char *what)
{
	enum probe_outcome o = probe_result_classify_errno(err, kernel_timer(f));

	if (f->cycle == 0)
		o = OUT_ERROR;
	flow_end(c, f, o, err, what);
}

static int flow_send(struct client *c, struct cflow *f, const struct proto_msg *m)
{
	char buf[PROTO_LINE_MAX];
	int n = probe_proto_format(m, buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return -1;
	w = send(f->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0) {
		/* a full send buffer means the path is dead: the deadline will say so */
		if (errno == EAGAIN)
			return 0;
		return -1;
	}
	if (w != n && f->p->proto == PLAN_TCP)
		log_debug("flow %s: short send (%zd of %d)", f->p->name, w, n);
	return 0;
}

static void flow_idle(struct client *c, struct cflow *f, uint32_t cycle)
{
	f->cycle = cycle;
	f->idle_start = c->now;
	f->state = CF_IDLE;
	f->t_next = c->now + f->p->idle_ms;
	f->t_hb = f->p->heartbeat_ms ? c->now + f->p->heartbeat_ms : 0;
	f->t_retx = 0;
}

static void flow_cycle_done(struct client *c, struct cflow *f)
{
	f->side->cycles_done++;
	if (f->cycle < f->p->cycles) {
		flow_idle(c, f, f->cycle + 1);
		return;
	}
	if (f->p->proto == PLAN_UDP) {
		struct proto_msg bye = { .type = PM_BYE, .id = f->r->id };
		flow_send(c, f, &bye);
	}
	if (f->rebound)
		probe_side_end(f->side, OUT_REBOUND, true, (int64_t)(c->now - f->idle_start), f->cycle, 0,
			 "the server saw us as %s after the idle period (was %s)",
			 f->side->rebound_to, f->side->seen_as);
	else
		probe_side_end(f->side, OUT_ALIVE, true, (int64_t)(c->now - f->idle_start), f->cycle, 0,
			 "%u exchange(s) after idle periods", f->side->cycles_done);
	flow_done(c, f);
}

static void note_addrs(struct cflow *f)
{
	struct sockaddr_storage a;
	socklen_t l = sizeof(a);

	if (getsockname(f->fd, (struct sockaddr *)&a, &l) == 0)
		probe_proto_addr_format((struct sockaddr *)&a, f->side->local, sizeof(f->side->local));
	l = sizeof(a);
	if (getpeername(f->fd, (struct sockaddr *)&a, &l) == 0)
		probe_proto_addr_format((struct sockaddr *)&a, f->side->peer, sizeof(f->side->peer));
}

/* The flow's local address and port, as soon as connect() chose them (the
 * SYN is already on its way: the runner may read the middlebox's line for
 * it first, and looks again). Flushed once per loop iteration. */
static void addrs_note(struct client *c, struct cflow *f)
{
	if (!c->cfg->addrs || !f->side->local[0])
		return;
	fprintf(c->cfg->addrs, "{\"flow\":\"%s\",\"proto\":\"%s\",\"local\":\"%s\"}\n", f->p->name,
		f->p->proto == PLAN_UDP ? "udp" : "tcp", f->side->local);
	c->addrs_dirty = true;
}

static void send_hello(struct client *c, struct cflow *f)
{
	struct proto_msg m = { .type = PM_HELLO, .id = f->r->id };

	probe_proto_hello_from_plan(&m.hello, f->p);
	if (flow_send(c, f, &m) < 0) {
		flow_errno(c, f, errno, "sending HELLO");
		return;
	}
	if (f->p->proto == PLAN_UDP)
		f->t_retx = c->now + HELLO_RETRANSMIT_MS;
}

/* Open the flow's socket with its options; returns -1 when it ended. */
static int flow_open(struct client *c, struct cflow *f)
{
	int fam = f->srv->ss_family;
	int type = f->p->proto == PLAN_UDP ? SOCK_DGRAM : SOCK_STREAM;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = f };
	char ka[48];

	f->fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		flow_end(c, f, OUT_ERROR, errno, "socket");
		return -1;
	}
	if (f->p->proto == PLAN_TCP) {
		if (probe_sockopt_keepalive_apply(f->fd, &f->p->ka, &f->side->ka) < 0) {
			int e = errno;
			if (e == EPROTO)
				flow_end(c, f, OUT_ERROR, e,
					 "keepalive did not take effect (asked for it, the kernel reports otherwise)");
			else
				flow_end(c, f, OUT_ERROR, e, "setting keepalive");
			return -1;
		}
		if (probe_sockopt_user_timeout_apply(f->fd, f->p->user_timeout_s * 1000,
					       &f->side->user_timeout_ms) < 0) {
			flow_end(c, f, OUT_ERROR, errno, "TCP_USER_TIMEOUT did not take effect");
			return -1;
		}
		log_debug("flow %s: keepalive %s, user timeout %s", f->p->name,
			  probe_plan_ka_format(&f->side->ka, ka, sizeof(ka)),
			  duration_format(f->side->user_timeout_ms, (char[32]){ 0 }, 32));
	}
	if (probe_sockopt_recverr(f->fd, fam) < 0) {
		flow_end(c, f, OUT_ERROR, errno, "IP_RECVERR");
		return -1;
	}
	if (f->p->proto == PLAN_UDP)
		ev.events = EPOLLIN;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
		flow_end(c, f, OUT_ERROR, errno, "epoll_ctl");
		return -1;
	}
	if (connect(f->fd, (const struct sockaddr *)f->srv, f->srvlen) < 0 && errno != EINPROGRESS) {
		flow_end(c, f, OUT_ERROR, errno, "connect");
		return -1;
	}
	note_addrs(f);
	addrs_note(c, f);
	return 0;
}

static void flow_start(struct client *c, struct cflow *f)
{
	if (flow_open(c, f) < 0)
		return;
	f->t_next = c->now + f->p->deadline_ms;
	if (f->p->proto == PLAN_TCP) {
		f->state = CF_CONNECTING;
		return;
	}
	note_addrs(f);
	f->state = CF_HELLO;
	send_hello(c, f);
}

/* UDP test knob: continue from a new socket (a new source port), as a
 * rebinding NAT would make the server see. */
static int flow_rebind(struct client *c, struct cflow *f)
{
	int old = f->fd;

	epoll_ctl(c->ep, EPOLL_CTL_DEL, old, NULL);
	if (flow_open(c, f) < 0) {
		close(old);
		return -1;
	}
	close(old);
	note_addrs(f);
	return 0;
}

static void flow_timer(struct client *c, struct cflow *f)
{
	if (f->state == CF_DONE)
		return;
	if (f->t_retx && c->now >= f->t_retx && (f->state == CF_HELLO || f->state == CF_WARMUP))
		send_hello(c, f);
	if (f->state == CF_IDLE && f->t_hb && c->now >= f->t_hb && c->now < f->t_next) {
		struct proto_msg m = { .type = PM_HB, .id = f->r->id, .seq = ++f->hb_seq };

		if (flow_send(c, f, &m) < 0) {
			flow_errno(c, f, errno, "sending a heartbeat");
			return;
		}
		f->side->heartbeats++;
		f->t_hb += f->p->heartbeat_ms;
	}
	if (!f->t_next || c->now < f->t_next)
		return;
	switch (f->state) {
	case CF_WAIT_START:
		flow_start(c, f);
		break;
	case CF_CONNECTING:
		flow_end(c, f, OUT_CONNECT_TIMEOUT, 0, "connecting: no answer to the SYN before the deadline");
		break;
	case CF_HELLO:
		/* UDP, or a TCP handshake some box completed for a server that
		 * never heard of it: the flow never got through */
		flow_end(c, f, OUT_CONNECT_TIMEOUT, 0, "no answer to HELLO before the deadline");
		break;
	case CF_WARMUP:
		flow_end(c, f, OUT_ERROR, 0, "warmup: the server stopped answering HELLO");
		break;
	case CF_IDLE:
		if (f->p->proto == PLAN_TCP)
			probe_sockopt_tcpinfo(f->fd, &f->side->ti_idle_end);
		f->t_hb = 0;
		if (f->p->speaker == PLAN_SPEAKER_SERVER) {
			f->state = CF_AWAIT_PING;
			f->t_next = c->now + f->p->deadline_ms;
			break;
		}
		if (f->p->rebind && f->cycle == 1 && flow_rebind(c, f) < 0)
			break;
		{
			struct proto_msg m = { .type = PM_PING, .id = f->r->id, .seq = f->cycle };

			f->state = CF_AWAIT_PONG;
			f->t_next = c->now + f->p->deadline_ms;
			if (flow_send(c, f, &m) < 0)
				flow_errno(c, f, errno, "sending after the idle period");
		}
		break;
	case CF_AWAIT_PONG:
		flow_end(c, f, OUT_TIMEOUT, 0, "no answer before the deadline");
		break;
	case CF_AWAIT_PING:
		flow_end(c, f, OUT_TIMEOUT, 0, "the server did not speak before the deadline");
		break;
	case CF_DONE:
		break;
	}
}

/* A WELCOME while warming up (warmup=): the idle starts with the first one
 * after the warmup's end; before it, HELLO again in WARMUP_INTERVAL_MS. */
static void warmup_welcome(struct client *c, struct cflow *f)
{
	if (c->now >= f->t_warm_end) {
		flow_idle(c, f, 1);
		return;
	}
	f->t_retx = c->now + WARMUP_INTERVAL_MS;
}

static void flow_message(struct client *c, struct cflow *f, const struct proto_msg *m)
{
	if (m->id != f->r->id) {
		flow_end(c, f, OUT_ERROR, 0, "protocol error: a message for another flow");
		return;
	}
	switch (m->type) {
	case PM_WELCOME:
		if (f->state == CF_WARMUP) {
			warmup_welcome(c, f);
			return;
		}
		if (f->state != CF_HELLO) {
			if (f->p->proto == PLAN_UDP)
				return; /* answer to a retransmitted HELLO */
			break;
		}
		f->welcomed = true;
		f->side->connected = true;
		snprintf(f->side->seen_as, sizeof(f->side->seen_as), "%s", m->addr);
		if (f->p->warmup_ms) {
			f->state = CF_WARMUP;
			f->t_warm_end = c->now + f->p->warmup_ms;
			f->t_next = f->t_warm_end + f->p->deadline_ms;
			f->t_retx = c->now + WARMUP_INTERVAL_MS;
			return;
		}
		flow_idle(c, f, 1);
		return;
	case PM_PONG:
		if (f->state != CF_AWAIT_PONG || m->seq != f->cycle) {
			if (f->p->proto == PLAN_UDP)
				return;
			break;
		}
		if (f->p->proto == PLAN_UDP && strcmp(m->addr, f->side->seen_as) && !f->rebound) {
			f->rebound = true;
			snprintf(f->side->rebound_to, sizeof(f->side->rebound_to), "%s", m->addr);
		}
		flow_cycle_done(c, f);
		return;
	case PM_PING:
		if ((f->state != CF_AWAIT_PING && f->state != CF_IDLE) ||
		    f->p->speaker != PLAN_SPEAKER_SERVER || m->seq != f->cycle) {
			if (f->p->proto == PLAN_UDP)
				return;
			break;
		}
		{
			struct proto_msg r = { .type = PM_PONG, .id = f->r->id, .seq = m->seq };

			if (f->state == CF_IDLE && f->p->proto == PLAN_TCP)
				probe_sockopt_tcpinfo(f->fd, &f->side->ti_idle_end);
			snprintf(r.addr, sizeof(r.addr), "%s", f->side->peer);
			if (flow_send(c, f, &r) < 0) {
				flow_errno(c, f, errno, "answering the server");
				return;
			}
		}
		flow_cycle_done(c, f);
		return;
	case PM_HB:
		/* server heartbeats (server_heartbeat=): expected while idle, and a
		 * late one may cross our post-idle message; they change nothing */
		if (f->p->server_heartbeat_ms &&
		    (f->state == CF_IDLE || f->state == CF_AWAIT_PONG || f->state == CF_AWAIT_PING)) {
			f->side->server_heartbeats++;
			f->side->has_last_shb = true;
			f->side->last_shb_ms = (int64_t)(c->now - f->idle_start);
			return;
		}
		break;
	case PM_ERROR: {
		char what[96];
		snprintf(what, sizeof(what), "the server refused the flow (%s)", m->reason);
		flow_end(c, f, OUT_ERROR, 0, what);
		return;
	}
	default:
		break;
	}
	if (f->p->proto == PLAN_TCP) {
		char what[64];
		snprintf(what, sizeof(what), "protocol error: unexpected %s", probe_proto_type_name(m->type));
		flow_end(c, f, OUT_ERROR, 0, what);
	}
}

static void flow_readable(struct client *c, struct cflow *f, uint32_t events)
{
	if (f->state == CF_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			enum probe_outcome o = probe_result_classify_errno(err, false);

			/* the SYN answered with RST, or never answered: the
			 * connection never got through */
			if (err == ECONNREFUSED || err == ECONNRESET)
				o = OUT_REFUSED;
			else if (err == ETIMEDOUT)
				o = OUT_CONNECT_TIMEOUT;
			flow_end(c, f, o, err, "connecting");
			return;
		}
		epoll_ctl(c->ep, EPOLL_CTL_MOD, f->fd, &ev);
		note_addrs(f);
		f->side->connected = true;
		f->state = CF_HELLO;
		send_hello(c, f);
		return;
	}
	if (f->p->proto == PLAN_UDP) {
		for (int i = 0; i < 64 && f->state != CF_DONE; i++) {
			char buf[PROTO_LINE_MAX + 1];
			struct proto_msg m;
			ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				flow_errno(c, f, errno, "receiving");
				return;
			}
			if ((size_t)n > PROTO_LINE_MAX || probe_proto_parse(buf, (size_t)n, &m) < 0 ||
			    m.id != f->r->id) {
				log_debug("flow %s: ignored a malformed or foreign datagram", f->p->name);
				continue;
			}
			flow_message(c, f, &m);
		}
		return;
	}
	for (;;) {
		ssize_t n;
		char *nl;

		if (f->in_len == PROTO_LINE_MAX) {
			flow_end(c, f, OUT_ERROR, 0, "protocol error: line too long");
			return;
		}
		if (!f->in && !(f->in = malloc(PROTO_LINE_MAX))) {
			flow_errno(c, f, errno, "receiving");
			return;
		}
		n = recv(f->fd, f->in + f->in_len, PROTO_LINE_MAX - f->in_len, MSG_DONTWAIT);
		if (n <= 0 && !f->in_len) {
			free(f->in);
			f->in = NULL;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			flow_errno(c, f, errno, f->state == CF_HELLO ? "waiting for WELCOME" : "receiving");
			return;
		}
		if (n == 0) {
			flow_end(c, f, f->cycle ? OUT_CLOSED : OUT_ERROR, 0,
				 "the server closed the connection (EOF)");
			return;
		}
		f->in_len += (size_t)n;
		while (f->state != CF_DONE && (nl = memchr(f->in, '\n', f->in_len))) {
			size_t l = (size_t)(nl - f->in) + 1;
			struct proto_msg m;

			if (probe_proto_parse(f->in, l, &m) < 0) {
				flow_end(c, f, OUT_ERROR, 0, "protocol error: malformed message");
				return;
			}
			flow_message(c, f, &m);
			memmove(f->in, f->in + l, f->in_len - l);
			f->in_len -= l;
		}
		if (!f->in_len) {
			free(f->in);
			f->in = NULL;
		}
		if (f->state == CF_DONE)
			return;
	}
}

/* ---- asking the server for its side ---- */

static struct cflow *find_by_id(struct client *c, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->flows[i].r->id == id)
			return &c->flows[i];
	return NULL;
}

static void remote_error(struct client *c, int srv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void remote_error(struct client *c, int srv, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->n; i++) {
		struct cflow *f = &c->flows[i];
		if (f->srv_index == srv && !f->r->server.known && !f->r->server.error[0])
			snprintf(f->r->server.error, sizeof(f->r->server.error), "%s", msg);
	}
}

/*
 * Flows the server never welcomed have no side to ask for: say so. Returns
 * how many flows of server srv are left to ask about.
 */
static size_t query_count(struct client *c, int srv)
{
	size_t want = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct cflow *f = &c->flows[i];
		if (f->srv_index != srv)
			continue;
		if (!f->welcomed)
			snprintf(f->r->server.error, sizeof(f->r->server.error),
				 "the server never took this flow");
		else if (f->not_needed)
			snprintf(f->r->server.error, sizeof(f->r->server.error), "not asked: not needed");
		else
			want++;
	}
	return want;
}

/* A TCP connection to server srv, connected by deadline. Returns the fd, or
 * -1 with the reason given to the flows (remote_error). */
static int query_connect(struct client *c, int srv, uint64_t deadline)
{
	const struct sockaddr_storage *a = &c->cfg->server[srv];
	struct pollfd pfd = { .events = POLLOUT };
	uint64_t now;
	int err = 0;
	socklen_t l = sizeof(err);

	pfd.fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0) {
		remote_error(c, srv, "could not ask the server: %s", strerror(errno));
		return -1;
	}
	if (connect(pfd.fd, (const struct sockaddr *)a, c->cfg->server_len[srv]) < 0 &&
	    errno != EINPROGRESS) {
		remote_error(c, srv, "could not reach the server for its side: %s", strerror(errno));
		goto fail;
	}
	now = mtime_ms();
	if (poll(&pfd, 1, (int)(deadline > now ? deadline - now : 0)) != 1) {
		remote_error(c, srv, "could not reach the server for its side: connect timed out");
		goto fail;
	}
	getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err) {
		remote_error(c, srv, "could not reach the server for its side: %s", strerror(err));
		goto fail;
	}
	return pfd.fd;
fail:
	close(pfd.fd);
	return -1;
}

/* Send one QUERY per welcomed flow of server srv. Returns 0, or -1 with the
 * reason given to the flows. */
static int query_send_all(struct client *c, int srv, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	for (size_t i = 0; i < c->n; i++) {
		struct cflow *f = &c->flows[i];
		struct proto_msg q = { .type = PM_QUERY, .id = f->r->id };
		char line[64];
		int n;

		if (f->srv_index != srv || !f->welcomed || f->not_needed)
			continue;
		n = probe_proto_format(&q, line, sizeof(line));
		/* small lines; the socket buffer takes thousands of them */
		for (int off = 0; off < n;) {
			ssize_t w = send(fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EAGAIN) {
				poll(&pfd, 1, 100);
				continue;
			}
			if (w < 0) {
				remote_error(c, srv, "asking the server: %s", strerror(errno));
				return -1;
			}
			off += (int)w;
		}
	}
	return 0;
}

/* One line of the server's answers. Returns true if it settled a flow
 * (its side, or the server's "unknown"); anything else is ignored. */
static bool query_take_line(struct client *c, const char *line, size_t len)
{
	struct proto_msg m;
	struct cflow *f;
	struct probe_remote *rm;

	if (probe_proto_parse(line, len, &m) < 0 || !(f = find_by_id(c, m.id)) ||
	    f->r->server.known || f->r->server.error[0]) {
		log_debug("query: ignored a line from the server");
		return false;
	}
	rm = &f->r->server;
	if (m.type == PM_RESULT) {
		char why[80];

		rm->json = jsonio_load(m.json, m.json_len, why, sizeof(why));
		rm->known = rm->json != NULL;
		if (!rm->known)
			snprintf(rm->error, sizeof(rm->error), "bad server result: %s", why);
		rm->outcome = m.outcome;
		rm->cycle = m.cycle;
		rm->has_at = m.has_at;
		rm->at_ms = m.at_ms;
		return true;
	}
	if (m.type == PM_ERROR) {
		snprintf(rm->error, sizeof(rm->error), "the server does not know this flow (%s)",
			 m.reason);
		return true;
	}
	return false;
}

/* Read answers until want flows are settled or the deadline; what is left
 * unsettled gets the reason (remote_error). */
static void query_read_answers(struct client *c, int srv, int fd, size_t want, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[PROTO_LINE_MAX * 2];
	size_t len = 0;

	while (want) {
		uint64_t now = mtime_ms();
		ssize_t n;
		char *nl;

		if (now >= deadline) {
			remote_error(c, srv, "the server did not give its side in time");
			return;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return;
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			remote_error(c, srv, "the server closed the query connection%s%s",
				     n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			return;
		}
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len))) {
			size_t l = (size_t)(nl - buf) + 1;

			if (query_take_line(c, buf, l))
				want--;
			memmove(buf, buf + l, len - l);
			len -= l;
		}
		if (len == sizeof(buf)) {
			remote_error(c, srv, "the server sent an over-long line");
			return;
		}
	}
}

/* Ask server srv for its side of each of its flows, on one TCP connection. */
static void query_server(struct client *c, int srv, uint64_t deadline)
{
	size_t want = query_count(c, srv);
	int fd;

	if (!want)
		return;
	fd = query_connect(c, srv, deadline);
	if (fd < 0)
		return;
	if (query_send_all(c, srv, fd) == 0)
		query_read_answers(c, srv, fd, want, deadline);
	close(fd);
}

/* ---- the loop ---- */

/* Set up flow i from its plan: result, random id, which server address.
 * Returns -1 when it ended already (no server of its family). */
static int flow_init(struct client *c, size_t i, const struct probe_plan *plan,
		      struct probe_flow_result *r)
{
	struct cflow *f = &c->flows[i];
	int want = plan->family == 4 ? AF_INET : plan->family == 6 ? AF_INET6 : 0;

	memset(r, 0, sizeof(*r));
	r->plan = *plan;
	if (getrandom(&r->id, sizeof(r->id), 0) != sizeof(r->id))
		r->id = ((uint64_t)mtime_ns() << 16) ^ (uint64_t)getpid() ^ i;
	f->r = r;
	f->p = &r->plan;
	f->side = &r->client;
	f->side->tcp = plan->proto == PLAN_TCP;
	f->fd = -1;
	f->srv_index = -1;
	for (int s = 0; s < c->cfg->nserver; s++) {
		if (!want || c->cfg->server[s].ss_family == want) {
			f->srv_index = s;
			break;
		}
	}
	c->running++;
	if (f->srv_index < 0) {
		flow_end(c, f, OUT_ERROR, 0,
			 want == AF_INET6 ? "family 6 but no IPv6 server address given"
					  : "family 4 but no IPv4 server address given");
		return -1;
	}
	f->srv = &c->cfg->server[f->srv_index];
	f->srvlen = c->cfg->server_len[f->srv_index];
	return 0;
}

/* The signalfd and the epoll set (the signalfd in it as data.ptr NULL). */
static int client_open(struct client *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	c->sfd = probe_loop_signalfd_open();
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->sfd < 0 || c->ep < 0)
		return -1;
	return epoll_ctl(c->ep, EPOLL_CTL_ADD, c->sfd, &ev);
}

static uint64_t client_next_timer(const struct client *c)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = 0; i < c->n; i++) {
		const struct cflow *f = &c->flows[i];
		if (f->state == CF_DONE)
			continue;
		t = probe_loop_timer_min(t, f->t_next);
		t = probe_loop_timer_min(t, f->t_hb);
		t = probe_loop_timer_min(t, f->t_retx);
	}
	return t;
}

/* Run until every flow has ended or a signal came. Returns 0, or -1 with
 * errno if epoll failed. */
static int client_loop(struct client *c)
{
	while (c->running && !c->stop) {
		struct epoll_event evs[64];
		int k;

		if (c->addrs_dirty) {
			fflush(c->cfg->addrs);
			c->addrs_dirty = false;
		}
		c->now = mtime_ms();
		k = epoll_wait(c->ep, evs, 64, probe_loop_timeout(client_next_timer(c), c->now));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->now = mtime_ms();
		for (int i = 0; i < k; i++) {
			struct cflow *f = evs[i].data.ptr;

			if (!f) {
				enum loop_signal sig = probe_loop_signals_read(c->sfd);

				if (sig != LOOP_SIG_NONE)
					c->stop = true;
				if (sig == LOOP_SIG_STOP)
					c->stopped_hard = true;
				continue;
			}
			if (f->state != CF_DONE)
				flow_readable(c, f, evs[i].events);
		}
		for (size_t i = 0; i < c->n; i++)
			flow_timer(c, &c->flows[i]);
	}
	return 0;
}

/* The server's side of each flow: asked for, or why not. */
static void client_ask_servers(struct client *c, uint64_t max_deadline)
{
	const struct client_config *cfg = c->cfg;

	for (size_t i = 0; c->stop && i < c->n; i++)
		if (c->flows[i].state != CF_DONE) {
			c->flows[i].not_needed = true;
			flow_end(c, &c->flows[i], OUT_INTERRUPTED, 0, c->stopped_hard ? "stopped by a signal" :
				 "not needed: the caller had its answer (SIGUSR1)");
		}
	if (c->stopped_hard) {
		for (size_t i = 0; i < c->n; i++) {
			struct cflow *f = &c->flows[i];
			if (!f->r->server.known)
				snprintf(f->r->server.error, sizeof(f->r->server.error),
					 "not asked: interrupted");
		}
	} else if (cfg->no_query) {
		for (size_t i = 0; i < c->n; i++)
			snprintf(c->flows[i].r->server.error, sizeof(c->flows[i].r->server.error),
				 "not asked (--no-query)");
	} else {
		uint64_t qt = cfg->query_timeout_ms ? cfg->query_timeout_ms : max_deadline + 3000;
		for (int s = 0; s < cfg->nserver; s++)
			query_server(c, s, mtime_ms() + qt);
	}
}

int probe_client_run(const struct client_config *cfg, const struct probe_plan *plans, size_t n,
	       struct probe_flow_result *results, bool *interrupted)
{
	struct client cl = { .cfg = cfg, .ep = -1, .sfd = -1, .n = n };
	struct client *c = &cl;
	uint64_t max_deadline = 0;
	int rc = -1, e;

	*interrupted = false;
	c->flows = calloc(n ? n : 1, sizeof(*c->flows));
	if (!c->flows)
		return -1;
	/* before client_open can fail: the cleanup closes what is >= 0 */
	for (size_t i = 0; i < n; i++)
		c->flows[i].fd = -1;
	if (client_open(c) < 0)
		goto out;
	c->now = mtime_ms();
	for (size_t i = 0; i < n; i++) {
		if (plans[i].deadline_ms > max_deadline)
			max_deadline = plans[i].deadline_ms;
		if (flow_init(c, i, &plans[i], &results[i]) < 0)
			continue;
		if (plans[i].start_ms) {
			/* a group's ramp: this connection opens later */
			c->flows[i].state = CF_WAIT_START;
			c->flows[i].t_next = c->now + plans[i].start_ms;
		} else {
			flow_start(c, &c->flows[i]);
		}
	}
	if (client_loop(c) < 0)
		goto out;
	if (cfg->addrs)
		fflush(cfg->addrs);
	*interrupted = c->stopped_hard;
	client_ask_servers(c, max_deadline);
	for (size_t i = 0; i < n; i++)
		probe_result_combine(&results[i]);
	rc = 0;
out:
	e = errno;
	for (size_t i = 0; i < n; i++) {
		if (c->flows[i].fd >= 0)
			close(c->flows[i].fd);
		free(c->flows[i].in);
	}
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->ep >= 0)
		close(c->ep);
	free(c->flows);
	errno = e;
	return rc;
}
