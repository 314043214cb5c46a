/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: a Unix stream socket (mode 0600) speaking
 * line-delimited JSON (requests parsed by ctl_proto). The server is driven
 * from the caller's event loop through one epoll fd of its own; requests
 * are handed to the caller's handler, which answers with ctl_send().
 * Subscribers receive event lines; one that falls too far behind is
 * disconnected rather than allowed to stall the data path.
 *
 * Limits (docs/man/idlegate-sim.8, CONTROL SOCKET LIMITS): at most
 * CTL_MAX_CLIENTS connections; a client that for CTL_IDLE_MS sends no
 * complete request and takes none of its queued output is closed (a
 * subscriber with nothing queued is exempt); when every slot is taken a new
 * connection evicts the longest-idle client that has no request in progress.
 * A client's next request is read only once the previous answer is out; its
 * queued output may reach CTL_OUT_MAX_REPLY bytes with an answer in it
 * (a larger answer is replaced by an error) and CTL_OUT_MAX_SUB of events
 * otherwise; past that the client is dropped.
 */
#ifndef IDLEGATE_CTL_H
#define IDLEGATE_CTL_H

#include <stddef.h>

#include "simulator/ctl_proto.h"

struct ctl;
struct ctl_client;

#define CTL_MAX_CLIENTS 32
#define CTL_IDLE_MS 10000u
#define CTL_OUT_MAX_REPLY (64u << 20)   /* a flow list of ~200,000 flows */
#define CTL_OUT_MAX_SUB (4u << 20)      /* event backlog of a subscriber */

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
