/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a Unix stream socket (mode 0600) speaking
 * line-delimited JSON (requests parsed by ctl_proto). The server is driven
 * from the caller's event loop through one epoll fd of its own; requests
 * are handed to the caller's handler, which answers with ctl_send().
 * Subscribers receive event lines; one that falls too far behind is
 * disconnected rather than allowed to stall the data path.
 */
#ifndef IDLEGATE_CTL_H
#define IDLEGATE_CTL_H

#include <stddef.h>

#include "simulator/ctl_proto.h"

struct ctl;
struct ctl_client;

typedef void (*ctl_handler_fn)(void *ctx, struct ctl_client *c, const struct ctl_req *req);

/* Listen on `path` (an existing socket file there is replaced). Returns
 * NULL with errno. */
struct ctl *ctl_open(const char *path, ctl_handler_fn fn, void *ctx);
/* Close every connection, remove the socket file. Accepts NULL. */
void ctl_close(struct ctl *c);
/* An fd that is readable when ctl_dispatch() has work. */
int ctl_fd(const struct ctl *c);
/* Accept, read, parse and hand over requests; write pending output.
 * Never blocks. */
void ctl_dispatch(struct ctl *c);

/* Queue a reply (one line; the newline is added) to client cl. */
void ctl_send(struct ctl_client *cl, const char *line, size_t len);
/* Mark cl as receiving (or not) broadcast lines. */
void ctl_subscribe(struct ctl_client *cl, int on);
/* Send a line (with its newline) to every subscriber. */
void ctl_broadcast(struct ctl *c, const char *line, size_t len);
/* Subscribers dropped for falling behind. */
unsigned long ctl_dropped_subscribers(const struct ctl *c);

#endif
