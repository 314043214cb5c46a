/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network of one path: client — mb1 — … — mbN — server, each host an
 * unnamed network namespace held by a small holder process of the runner
 * (PR_SET_PDEATHSIG(SIGKILL), kept alive by a pipe), joined by veth pairs
 * created directly inside those namespaces. When the holders go — closed
 * pipe, runner killed, anything — the namespaces and every link in them
 * vanish with them: nothing exists in the root namespace at any time.
 *
 * Nodes are numbered 0 = client, 1..N = middleboxes in path order, N+1 =
 * server; link j joins node j and node j+1. Interfaces: "eth0" on the client
 * and the server, "inside" and "outside" on a middlebox.
 *
 * Addresses (docs/running.md): link j gets an IPv4 and an IPv6 subnet; the
 * client and the server are host 2 of their link, a middlebox is host 1 on
 * its inside link and, between two middleboxes, the one nearer the client
 * is host 1 and the other host 2. Routes only: no default route anywhere,
 * and nothing behind a NAT middlebox is routable from beyond it.
 *
 * Library code: 0/-1 with errno and a message in err; never prints.
 */
#ifndef IDLEGATE_TOPO_H
#define IDLEGATE_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct run_user;

#define TOPO_MAX_MB 4

struct topo_config {
	size_t nmb;                     /* middleboxes on the path, <= TOPO_MAX_MB */
	const char *mb_name[TOPO_MAX_MB];
	bool mb_nat[TOPO_MAX_MB];       /* hides the networks behind it */
	const char *ipv4_net;           /* "" / NULL: 192.0.2.0/24, 198.51.100.0/24 (split), 203.0.113.0/24 */
	const char *ipv6_net;           /* "" / NULL: 2001:db8:1d1e:J::/64 */
	const struct run_user *user;    /* the holders become this user once their
					 * namespace exists; NULL: they stay root */
};

struct topo;

/*
 * Build the network. Returns the topology (free with topo_free()), or NULL
 * with errno and a reason in err (e.g. the failing ip command's message).
 */
struct topo *topo_new(const struct topo_config *cfg, char *err, size_t errlen);

/* Stop the holders: namespaces and links vanish. Accepts NULL. */
void topo_free(struct topo *t);

/* Number of nodes (nmb + 2). */
size_t topo_nodes(const struct topo *t);

/* Pid whose /proc/PID/ns/net is node's namespace. */
pid_t topo_ns_pid(const struct topo *t, size_t node);

/* Node name: "client", the middlebox's name, "server". */
const char *topo_node_name(const struct topo *t, size_t node);

/*
 * Address of node on its link toward the server (right = true) or toward
 * the client (right = false), as text without prefix into buf.
 * Returns buf, or NULL with errno EINVAL (no such link).
 */
const char *topo_addr(const struct topo *t, size_t node, bool right, bool v6, char *buf, size_t len);

/*
 * The server's second address on its link (host 3, beside its own 2), for
 * a probe server's --alt-addr, as text into buf. Returns buf, or NULL with
 * errno ERANGE when the link has no room for it (an IPv4 link smaller than
 * /29).
 */
const char *topo_server_alt(const struct topo *t, bool v6, char *buf, size_t len);

/* Interface of node toward the server / the client ("eth0", "outside", "inside"). */
const char *topo_ifname(const struct topo *t, size_t node, bool right);

/*
 * Give every namespace a name, PREFIX-NODENAME, with `ip netns attach`,
 * so it can be entered with `ip netns exec` and outlives the holders
 * (--keep, shell). Names must be removed with topo_detach() or
 * `idlegate cleanup`. Returns 0 or -1 with errno and err.
 */
int topo_attach(struct topo *t, const char *prefix, char *err, size_t errlen);
/* Remove the names topo_attach() gave. */
void topo_detach(struct topo *t);
/* Forget the names (they stay after topo_free(): --keep). */
void topo_keep_names(struct topo *t);
/* The name given to node by topo_attach(), or NULL. */
const char *topo_ns_name(const struct topo *t, size_t node);

/* Parse an IPv4 ("a.b.c.d/p") or IPv6 network; 0 or -1 EINVAL. */
int topo_parse_net(const char *s, bool v6, unsigned char addr[16], int *prefix);

#endif
