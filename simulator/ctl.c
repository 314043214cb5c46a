// SPDX-License-Identifier: GPL-2.0-or-later
/* Control socket server; see ctl.h. Fixed client slots, bounded buffers. */
#include "simulator/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_CLIENTS 32
#define OUT_MAX_REPLY (64u << 20)       /* a flow list may be large */
#define OUT_MAX_SUB (4u << 20)          /* backlog a subscriber may have */

struct ctl_client {
	struct ctl *ctl;
	int fd;
	char in[CTL_LINE_MAX + 2];
	size_t in_len;
	bool discarding;        /* skipping the rest of an overlong line */
	char *out;
	size_t out_len, out_cap, out_off;
	bool subscribed;
	bool dead;
	bool want_out;
};

struct ctl {
	int lfd, epfd;
	char path[108];
	ctl_handler_fn fn;
	void *ctx;
	struct ctl_client cl[MAX_CLIENTS];
	unsigned long dropped_subs;
};

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
	c->lfd = c->epfd = -1;
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
	if (i < 0 || chmod(path, 0600) < 0 || listen(c->lfd, 16) < 0)
		goto fail;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		goto fail;
	ev.data.ptr = NULL;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) < 0)
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
	cl->subscribed = cl->dead = cl->discarding = cl->want_out = false;
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
	unlink(c->path);
	free(c);
}

int ctl_fd(const struct ctl *c)
{
	return c->epfd;
}

static void set_events(struct ctl_client *cl, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = cl };

	if (cl->want_out == out)
		return;
	cl->want_out = out;
	epoll_ctl(cl->ctl->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
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
	}
	if (cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (!cl->dead)
		set_events(cl, cl->out_len > 0);
}

static void out_append(struct ctl_client *cl, const char *s, size_t len, bool nl, size_t limit)
{
	size_t need = len + (nl ? 1 : 0);

	if (cl->fd < 0 || cl->dead)
		return;
	if (cl->out_off) {      /* compact */
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (cl->out_len + need > limit) {
		cl->dead = true;
		return;
	}
	if (cl->out_len + need > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + need)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p) {
			cl->dead = true;
			return;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out_len += len;
	if (nl)
		cl->out[cl->out_len++] = '\n';
	flush_out(cl);
}

void ctl_send(struct ctl_client *cl, const char *line, size_t len)
{
	out_append(cl, line, len, true, OUT_MAX_REPLY);
}

void ctl_subscribe(struct ctl_client *cl, int on)
{
	cl->subscribed = on;
}

void ctl_broadcast(struct ctl *c, const char *line, size_t len)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct ctl_client *cl = &c->cl[i];

		if (cl->fd < 0 || !cl->subscribed || cl->dead)
			continue;
		out_append(cl, line, len, false, OUT_MAX_SUB);
		if (cl->dead) {
			c->dropped_subs++;
			client_close(cl);
		}
	}
}

unsigned long ctl_dropped_subscribers(const struct ctl *c)
{
	return c->dropped_subs;
}

static void accept_clients(struct ctl *c)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		for (i = 0; i < MAX_CLIENTS && c->cl[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {
			static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

			send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		c->cl[i].ctl = c;
		c->cl[i].fd = fd;
		ev.data.ptr = &c->cl[i];
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			client_close(&c->cl[i]);
	}
}

static void handle_line(struct ctl_client *cl, const char *line, size_t len)
{
	struct ctl_req req;
	char err[160], reply[512];
	int n;

	if (len == 0)
		return;
	if (ctl_parse(line, len, &req, err, sizeof(err)) < 0) {
		n = ctl_error_reply(err, reply, sizeof(reply));
		if (n > 0)
			ctl_send(cl, reply, (size_t)n);
		return;
	}
	cl->ctl->fn(cl->ctl->ctx, cl, &req);
}

static void read_client(struct ctl_client *cl)
{
	for (;;) {
		ssize_t n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
		size_t start = 0, i;

		if (n == 0) {
			cl->dead = true;
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				cl->dead = true;
			return;
		}
		cl->in_len += (size_t)n;
		for (i = 0; i < cl->in_len; i++) {
			if (cl->in[i] != '\n')
				continue;
			if (!cl->discarding)
				handle_line(cl, cl->in + start, i - start);
			cl->discarding = false;
			start = i + 1;
			if (cl->dead || cl->fd < 0)
				return;
		}
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
}

void ctl_dispatch(struct ctl *c)
{
	struct epoll_event evs[16];
	int n, i;

	n = epoll_wait(c->epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		struct ctl_client *cl = evs[i].data.ptr;

		if (!cl) {
			accept_clients(c);
			continue;
		}
		if (cl->fd < 0)
			continue;
		if (evs[i].events & EPOLLOUT)
			flush_out(cl);
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			read_client(cl);
		if (cl->dead)
			client_close(cl);
	}
}
