// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one client of idlegate-sim's control socket (see ctlclient.h), used
 * by `idlegate ctl` and by a run's events.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/mtime.h"
#include "runner/util/ctlclient.h"

/* A line longer than this is not an answer idlegate-sim gives. */
#define CTLC_LINE_MAX (256u << 20)


int ctlc_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t ctlc_read_line(int fd, struct ctlc_buf *rb, int timeout_ms, char **line)
{
	uint64_t deadline = timeout_ms >= 0 ? mtime_ms() + (uint64_t)timeout_ms : 0;

	/* drop the line handed out last time */
	if (rb->consumed) {
		memmove(rb->buf, rb->buf + rb->consumed, rb->len - rb->consumed);
		rb->len -= rb->consumed;
		rb->consumed = 0;
	}
	for (;;) {
		char *nl = rb->len ? memchr(rb->buf, '\n', rb->len) : NULL;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1, rc;
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*line = rb->buf;
			rb->consumed = (size_t)(nl - rb->buf) + 1;
			return nl - rb->buf;
		}
		if (rb->cap - rb->len < 4096) {
			size_t cap = rb->cap ? rb->cap * 2 : 65536;
			char *p;

			if (cap > CTLC_LINE_MAX) {
				errno = EMSGSIZE;
				return -1;
			}
			p = realloc(rb->buf, cap);
			if (!p)
				return -1;
			rb->buf = p;
			rb->cap = cap;
		}
		if (timeout_ms >= 0) {
			uint64_t now = mtime_ms();

			if (now >= deadline) {
				errno = ETIMEDOUT;
				return -1;
			}
			wait = (int)(deadline - now);
		}
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc <= 0)
			continue;
		n = recv(fd, rb->buf + rb->len, rb->cap - rb->len - 1, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		rb->len += (size_t)n;
	}
}

int ctlc_send(int fd, const char *line)
{
	size_t n = strlen(line);

	if (send_all(fd, line, n) < 0)
		return -1;
	if (!n || line[n - 1] != '\n')
		return send_all(fd, "\n", 1);
	return 0;
}

void ctlc_buf_free(struct ctlc_buf *rb)
{
	free(rb->buf);
	memset(rb, 0, sizeof(*rb));
}

int ctlc_request(const char *path, const char *req, int timeout_ms, char **reply)
{
	struct ctlc_buf rb = { 0 };
	char *line;
	ssize_t n;
	int fd = ctlc_open(path), e;

	*reply = NULL;
	if (fd < 0)
		return -1;
	if (ctlc_send(fd, req) < 0 || (n = ctlc_read_line(fd, &rb, timeout_ms, &line)) < 0) {
		e = errno;
		close(fd);
		ctlc_buf_free(&rb);
		errno = e;
		return -1;
	}
	close(fd);
	*reply = strndup(line, (size_t)n);
	ctlc_buf_free(&rb);
	return *reply ? 0 : -1;
}
