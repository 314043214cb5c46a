/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nftables rules that send traffic to our queue, in a table this
 * process owns (NFT_TABLE_F_OWNER): the kernel deletes it when the netlink
 * socket that created it closes, so a killed simulator leaves nothing
 * behind. One chain at the prerouting hook, before routing (so a NAT
 * rewrite changes the routing decision) and before conntrack; one rule per
 * interface queues every packet arriving on it unless it carries the
 * injection mark. The native `queue` expression is tried first; kernels
 * without it (CONFIG_NFT_QUEUE off) get the xt NFQUEUE target through
 * nft_compat.
 */
#ifndef IDLEGATE_RULES_H
#define IDLEGATE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rules_config {
	const char *table;      /* NULL: "idlegate_<pid>" */
	uint16_t queue_num;
	uint32_t skip_mark;     /* packets with this mark are not queued */
	bool bypass;            /* let traffic pass when nobody listens */
	int priority;           /* prerouting priority, default -300 */
	uint32_t ifindex[4];    /* interfaces whose input is queued */
	unsigned n_ifindex;
};

struct rules;

/*
 * Create the table, chain and rules. Returns NULL with errno (EPERM
 * without CAP_NET_ADMIN, EEXIST if the table name is taken, or the
 * kernel's error for the rules); a description of what failed goes to err.
 * The rules stay while the returned object (its socket) lives.
 */
struct rules *rules_new(const struct rules_config *cfg, char *err, size_t errlen);
/* Delete the table and close the socket. Accepts NULL. */
void rules_free(struct rules *r);

/* The table's name, and whether the xt target fallback is in use. */
const char *rules_table(const struct rules *r);
bool rules_compat(const struct rules *r);

#endif
