// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control socket server; see ctl.h. Fixed client slots, bounded buffers.
 *
 * Nobody who can open the socket may starve the others or the data path:
 *  - a client is closed after CTL_IDLE_MS without sending a complete
 *    request or taking any of its queued output (a subscriber with nothing
 *    queued is exempt: it is waiting for events, as it asked to);
 *  - when every slot is taken, a newcomer evicts the longest-idle client
 *    that has no request in progress (non-subscribers first), so a fresh
 *    connection such as the runner's is never refused because of silent
 *    ones;
 *  - one request is answered at a time per client: its next request is not
 *    read before the answer is out, so a client that never reads holds at
 *    most one answer; queued output is capped (CTL_OUT_MAX_REPLY,
 *    CTL_OUT_MAX_SUB) and a client past it is dropped;
 *  - a client that half-closes (shutdown(SHUT_WR)) still gets every answer
 *    to what it sent, then the connection is closed;
 *  - every send is non-blocking: the event loop never waits on a client.
 * Timeouts are about real peers, so this module reads CLOCK_MONOTONIC
 * itself; a timerfd in its epoll set wakes the loop when one is due.
 */
#include "simulator/ctl.h"
#include "simulator/ctl_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "common/mtime.h"

#define MAX_CLIENTS CTL_MAX_CLIENTS
#define OUT_KEEP (64u << 10)            /* buffer kept for reuse once drained */

struct ctl_client {
	struct ctl *ctl;
	int fd;
	char in[CTL_LINE_MAX + 2];
	size_t in_len;
	bool discarding;        /* skipping the rest of an overlong line */
	char *out;
	size_t out_len, out_cap, out_off;
	bool answering;         /* an answer is among the queued output */
	bool subscribed;
	bool eof;               /* the peer shut down its sending side */
	bool dead;
	uint32_t events;        /* the epoll interest set now */
	uint64_t last;          /* connect, complete request or output taken (ms) */
};

struct ctl {
	int lfd, epfd, tfd;
	char path[108];
	ctl_handler_fn fn;
	void *ctx;
	uint64_t now;
	uint64_t armed;         /* the timerfd's expiry (ms), 0 when disarmed */
	struct ctl_client cl[MAX_CLIENTS];
	unsigned long dropped_subs;
};

/* epoll data.ptr of the listening socket and of the timer */
static char listen_tag, timer_tag;

struct ctl *ctl_open(const char *path, ctl_handler_fn fn, void *ctx)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl *c;
	struct stat st;
	mode_t old;
	int i, saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fn = fn;
	c->ctx = ctx;
	c->lfd = c->epfd = c->tfd = -1;
	for (i = 0; i < MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		goto fail;
	old = umask(0177);
	i = bind(c->lfd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (i < 0 || chmod(path, 0600) < 0 || listen(c->lfd, 64) < 0)
		goto fail;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epfd < 0 || c->tfd < 0)
		goto fail;
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) < 0)
		goto fail;
	ev.data.ptr = &timer_tag;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd, &ev) < 0)
		goto fail;
	return c;
fail:
	saved = errno;
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(path);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->tfd >= 0)
		close(c->tfd);
	free(c);
	errno = saved;
	return NULL;
}

static void client_close(struct ctl_client *cl)
{
	if (cl->fd < 0)
		return;
	close(cl->fd);  /* also removes it from the epoll set */
	cl->fd = -1;
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_cap = cl->out_off = 0;
	cl->in_len = 0;
	cl->events = 0;
	cl->subscribed = cl->dead = cl->discarding = cl->answering = cl->eof = false;
}

void ctl_close(struct ctl *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < MAX_CLIENTS; i++)
		client_close(&c->cl[i]);
	close(c->lfd);
	close(c->epfd);
	close(c->tfd);
	unlink(c->path);
	free(c);
}

int ctl_fd(const struct ctl *c)
{
	return c->epfd;
}

static size_t queued(const struct ctl_client *cl)
{
	return cl->out_len - cl->out_off;
}

/* Read while nothing is queued (one answer at a time); write while
 * something is. */
static void update_events(struct ctl_client *cl)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (cl->fd < 0 || cl->dead)
		return;
	if (queued(cl))
		want |= EPOLLOUT;
	else if (!cl->eof)
		want |= EPOLLIN;
	if (want == cl->events)
		return;
	ev.events = want;
	ev.data.ptr = cl;
	if (epoll_ctl(cl->ctl->epfd, EPOLL_CTL_MOD, cl->fd, &ev) < 0)
		cl->dead = true;
	else
		cl->events = want;
}

/* Done with a client that shut down its side: nothing left to answer. */
static bool finished(const struct ctl_client *cl)
{
	return cl->eof && !queued(cl) && !cl->subscribed && !cl->in_len;
}

static void flush_out(struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				cl->dead = true;
			break;
		}
		cl->out_off += (size_t)n;
		cl->last = cl->ctl->now;
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
		cl->answering = false;
		if (cl->out_cap > OUT_KEEP) {   /* do not keep a big answer's buffer */
			free(cl->out);
			cl->out = NULL;
			cl->out_cap = 0;
		}
	}
	update_events(cl);
}

/* Queue len bytes (and a newline); -1 if that would pass limit. */
static int out_append(struct ctl_client *cl, const char *s, size_t len, bool nl, size_t limit)
{
	size_t need = len + (nl ? 1 : 0);

	if (cl->fd < 0 || cl->dead)
		return 0;
	if (cl->out_off) {      /* compact */
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (need > limit || cl->out_len > limit - need)
		return -1;
	if (!cl->out_len)
		cl->last = cl->ctl->now;        /* the clock for taking output starts */
	if (cl->out_len + need > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + need)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p) {
			cl->dead = true;
			return 0;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out_len += len;
	if (nl)
		cl->out[cl->out_len++] = '\n';
	flush_out(cl);
	return 0;
}

void ctl_send(struct ctl_client *cl, const char *line, size_t len)
{
	char why[96], msg[160];
	int n;

	if (out_append(cl, line, len, true, CTL_OUT_MAX_REPLY) == 0) {
		cl->answering = queued(cl) > 0;
		return;
	}
	snprintf(why, sizeof(why), "answer too large: %zu bytes, the limit is %u MiB", len + 1,
		 CTL_OUT_MAX_REPLY >> 20);
	n = ctl_error_reply(why, msg, sizeof(msg));
	if (n < 0 || out_append(cl, msg, (size_t)n, true, CTL_OUT_MAX_REPLY) < 0)
		cl->dead = true;
	cl->answering = queued(cl) > 0;
}

void ctl_subscribe(struct ctl_client *cl, int on)
{
	cl->subscribed = on;
}

static void arm_timer(struct ctl *c);

void ctl_broadcast(struct ctl *c, const char *line, size_t len)
{
	int i;

	c->now = mtime_ms();
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (cl->fd < 0 || !cl->subscribed || cl->dead)
			continue;
		/* behind an answer being read, events may wait with it */
		if (out_append(cl, line, len, false,
			       cl->answering ? CTL_OUT_MAX_REPLY : CTL_OUT_MAX_SUB) < 0)
			cl->dead = true;
		if (cl->dead) {
			c->dropped_subs++;
			client_close(cl);
		}
	}
	arm_timer(c);
}

unsigned long ctl_dropped_subscribers(const struct ctl *c)
{
	return c->dropped_subs;
}

/* A client may be evicted for a newcomer when it is not in the middle of
 * a request: nothing queued to it, nothing read or waiting to be read. */
static bool evictable(struct ctl_client *cl)
{
	int pending = 0;

	if (queued(cl) || cl->in_len || cl->eof)
		return false;
	if (ioctl(cl->fd, FIONREAD, &pending) < 0 || pending > 0)
		return false;
	return true;
}

static struct ctl_client *free_slot(struct ctl *c)
{
	struct ctl_client *best = NULL;
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (c->cl[i].fd < 0)
			return &c->cl[i];
	/* full: the longest-idle client without a request in progress,
	 * non-subscribers before subscribers */
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (!evictable(cl))
			continue;
		if (!best || (best->subscribed && !cl->subscribed) ||
		    (best->subscribed == cl->subscribed && cl->last < best->last))
			best = cl;
	}
	if (best) {
		if (best->subscribed)
			c->dropped_subs++;
		client_close(best);
	}
	return best;
}

static void accept_clients(struct ctl *c)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct ctl_client *cl;

		if (fd < 0)
			return;
		cl = free_slot(c);
		if (!cl) {
			/* every client is mid-request; each finishes or times
			 * out within CTL_IDLE_MS */
			static const char busy[] = "{\"ok\":false,\"error\":\"too many clients busy, retry\"}\n";

			send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		cl->ctl = c;
		cl->fd = fd;
		cl->last = c->now;
		cl->events = EPOLLIN;
		ev.data.ptr = cl;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			client_close(cl);
	}
}

static void handle_line(struct ctl_client *cl, const char *line, size_t len)
{
	struct ctl_req req;
	char err[160], reply[512];
	int n;

	if (len == 0)
		return;
	cl->last = cl->ctl->now;
	if (ctl_parse(line, len, &req, err, sizeof(err)) < 0) {
		n = ctl_error_reply(err, reply, sizeof(reply));
		if (n > 0)
			ctl_send(cl, reply, (size_t)n);
		return;
	}
	cl->ctl->fn(cl->ctl->ctx, cl, &req);
}

/* Answer the complete lines read so far, one at a time: stop while an
 * answer is queued. After EOF, a last line without its newline counts. */
static void run_lines(struct ctl_client *cl)
{
	size_t start = 0;

	while (!cl->dead && cl->fd >= 0 && !queued(cl) && start < cl->in_len) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);
		size_t end = nl ? (size_t)(nl - cl->in) : cl->in_len;

		if (!nl && !cl->eof)
			break;
		if (!cl->discarding)
			handle_line(cl, cl->in + start, end - start);
		cl->discarding = false;
		start = nl ? end + 1 : end;
	}
	if (cl->fd < 0)
		return;
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len == sizeof(cl->in)) {
		/* a line longer than allowed: refuse it once, skip the rest */
		if (!cl->discarding) {
			static const char msg[] = "{\"ok\":false,\"error\":\"line too long\"}";

			ctl_send(cl, msg, sizeof(msg) - 1);
		}
		cl->discarding = true;
		cl->in_len = 0;
	}
}

static void read_client(struct ctl_client *cl)
{
	while (!cl->dead && !cl->eof && !queued(cl)) {
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);

		if (n == 0) {
			cl->eof = true;
			if (cl->discarding)
				cl->in_len = 0;
		} else if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				cl->dead = true;
			break;
		} else {
			cl->in_len += (size_t)n;
		}
		run_lines(cl);
	}
}

/* Close clients idle (or not taking output) for CTL_IDLE_MS. */
static void expire_idle(struct ctl *c)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (cl->fd < 0 || (cl->subscribed && !queued(cl)))
			continue;
		if (c->now - cl->last < CTL_IDLE_MS)
			continue;
		if (queued(cl))
			flush_out(cl);  /* last chance: it may have read since */
		if (c->now - cl->last < CTL_IDLE_MS)
			continue;
		if (cl->subscribed)
			c->dropped_subs++;
		client_close(cl);
	}
}

static void arm_timer(struct ctl *c)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0;
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		const struct ctl_client *cl = &c->cl[i];
		uint64_t t;

		if (cl->fd < 0 || (cl->subscribed && !queued(cl)))
			continue;
		t = cl->last + CTL_IDLE_MS;
		if (!next || t < next)
			next = t;
	}
	if (next == c->armed)
		return;
	if (next) {
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	if (timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		c->armed = next;
}

void ctl_dispatch(struct ctl *c)
{
	struct epoll_event evs[16];
	uint64_t ticks;
	int n, i;

	c->now = mtime_ms();
	n = epoll_wait(c->epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		struct ctl_client *cl = evs[i].data.ptr;

		if (evs[i].data.ptr == &listen_tag) {
			accept_clients(c);
			continue;
		}
		if (evs[i].data.ptr == &timer_tag) {
			(void)!read(c->tfd, &ticks, sizeof(ticks));
			c->armed = 0;   /* re-armed below */
			continue;
		}
		if (cl->fd < 0)
			continue;
		if (evs[i].events & EPOLLERR) {
			cl->dead = true;
		} else {
			if (evs[i].events & EPOLLOUT)
				flush_out(cl);
			if (!queued(cl))
				run_lines(cl);  /* requests that waited for the answer */
			/* a peer that closed may have left requests to act on */
			if (evs[i].events & (EPOLLIN | EPOLLHUP))
				read_client(cl);
			/* gone both ways: nobody to write to any more */
			if ((evs[i].events & EPOLLHUP) && cl->eof && !queued(cl))
				cl->dead = true;
			update_events(cl);
		}
		if (cl->dead || finished(cl))
			client_close(cl);
	}
	expire_idle(c);
	arm_timer(c);
}
