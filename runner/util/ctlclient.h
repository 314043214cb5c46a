/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client side of idlegate-sim's control socket: a unix stream socket
 * carrying one JSON request per line and one JSON answer per line (then,
 * after "subscribe", event lines). Transport only: what the lines say is
 * the caller's. 0 / -1 with errno, nothing printed.
 */
#ifndef IDLEGATE_CTLCLIENT_H
#define IDLEGATE_CTLCLIENT_H

#include <stddef.h>
#include <sys/types.h>

/* Connect to the socket at path. A descriptor, or -1 with errno
 * (ENAMETOOLONG for a path too long for a unix socket). */
int ctlc_open(const char *path);

/* Send one request line (a newline is added when missing). 0 or -1. */
int ctlc_send(int fd, const char *line);

/* What was read but not yet handed out as lines; zero-initialise. */
struct ctlc_buf {
	char *buf;
	size_t len, cap;
	size_t consumed;        /* the line handed out last, with its newline */
};

/*
 * The next line (without its newline, NUL-terminated, valid until the next
 * call) into *line. timeout_ms < 0 waits for ever. Returns its length, or
 * -1 with errno: ETIMEDOUT, EPIPE (end of stream), EMSGSIZE (over 256 MiB),
 * or the socket's error.
 */
ssize_t ctlc_read_line(int fd, struct ctlc_buf *rb, int timeout_ms, char **line);
void ctlc_buf_free(struct ctlc_buf *rb);

/* One request, one answer line: connect, send, read, close. *reply is
 * malloc'd (caller frees). 0, or -1 with errno. */
int ctlc_request(const char *path, const char *req, int timeout_ms, char **reply);

#endif
