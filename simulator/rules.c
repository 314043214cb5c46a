// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftables rules with libnftnl; see rules.h. Each transaction is sent as a
 * batch with an ack requested for every message, and the acks are counted
 * so an error is tied to what caused it. The rules go in a batch of their
 * own: a batch is one transaction, and the native queue expression failing
 * must not take the table with it.
 */
#include "simulator/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/common.h>

#define CHAIN "prerouting"

struct rules {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[64];
	bool compat;
	bool created;
};

/* Wait for `expected` acks to a batch; returns 0 or -1 with errno = the
 * first error the kernel reported. */
static int read_acks(struct rules *r, unsigned expected)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned got = 0;
	int first = 0;

	while (got < expected) {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;      /* includes the receive timeout */
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			got++;
			if (e->error && !first)
				first = -e->error;
			if (first)
				got = expected;   /* the batch was aborted */
		}
	}
	if (first) {
		/* drain what else the kernel said about the aborted batch */
		while (recv(mnl_socket_get_fd(r->nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		errno = first;
		return -1;
	}
	return 0;
}

/* A batch in a buffer of its own (a few small messages). */
struct batch {
	struct mnl_nlmsg_batch *b;
	char buf[32768];
};

static struct nlmsghdr *msg_begin(struct rules *r, struct batch *b, int type,
				  uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b->b), (uint16_t)type,
				     NFPROTO_INET, flags | NLM_F_ACK, r->seq++);
}

static void batch_next(struct batch *b)
{
	mnl_nlmsg_batch_next(b->b);
}

static int send_batch(struct rules *r, struct batch *b, unsigned msgs)
{
	if (mnl_socket_sendto(r->nl, mnl_nlmsg_batch_head(b->b), mnl_nlmsg_batch_size(b->b)) < 0)
		return -1;
	return read_acks(r, msgs);
}

static struct batch *batch_open(struct rules *r)
{
	struct batch *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	b->b = mnl_nlmsg_batch_start(b->buf, sizeof(b->buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->b), r->seq++);
	batch_next(b);
	return b;
}

static void batch_close(struct rules *r, struct batch *b)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(b->b), r->seq++);
	batch_next(b);
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	mnl_nlmsg_batch_stop(b->b);
	free(b);
}

static int add_table_chain(struct rules *r, const struct rules_config *cfg)
{
	struct batch *b = batch_open(r);
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	int rc = -1, saved;

	if (!b || !t || !c) {
		errno = ENOMEM;
		goto out;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, r->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
	nlh = msg_begin(r, b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch_next(b);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, r->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, CHAIN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, cfg->priority);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = msg_begin(r, b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch_next(b);
	batch_close(r, b);
	rc = send_batch(r, b, 2);
out:
	saved = errno;
	nftnl_chain_free(c);
	nftnl_table_free(t);
	batch_free(b);
	errno = saved;
	return rc;
}

static int add_expr(struct nftnl_rule *rule, struct nftnl_expr *e)
{
	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static struct nftnl_expr *meta_load(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *cmp_u32(uint32_t op, uint32_t value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		/* meta values are in host order in the register */
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &value, sizeof(value));
	}
	return e;
}

static struct nftnl_expr *queue_expr(const struct rules_config *cfg, bool compat)
{
	struct nftnl_expr *e;

	if (!compat) {
		e = nftnl_expr_alloc("queue");
		if (!e)
			return NULL;
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, cfg->queue_num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   cfg->bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
		return e;
	}
	struct xt_NFQ_info_v3 *info = calloc(1, sizeof(*info));

	e = nftnl_expr_alloc("target");
	if (!e || !info) {
		free(info);
		nftnl_expr_free(e);
		return NULL;
	}
	info->queuenum = cfg->queue_num;
	info->queues_total = 1;
	info->flags = cfg->bypass ? NFQ_FLAG_BYPASS : 0;
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	/* the expression takes ownership of info */
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	return e;
}

static int add_rules(struct rules *r, const struct rules_config *cfg, bool compat)
{
	struct batch *b = batch_open(r);
	int rc = -1, saved;
	unsigned i;

	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < cfg->n_ifindex; i++) {
		struct nftnl_rule *rule = nftnl_rule_alloc();
		struct nlmsghdr *nlh;

		if (!rule)
			goto nomem;
		nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, r->table);
		nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, CHAIN);
		if (add_expr(rule, meta_load(NFT_META_IIF)) ||
		    add_expr(rule, cmp_u32(NFT_CMP_EQ, cfg->ifindex[i])) ||
		    add_expr(rule, meta_load(NFT_META_MARK)) ||
		    add_expr(rule, cmp_u32(NFT_CMP_NEQ, cfg->skip_mark)) ||
		    add_expr(rule, queue_expr(cfg, compat))) {
			nftnl_rule_free(rule);
			goto nomem;
		}
		nlh = msg_begin(r, b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);
		nftnl_rule_nlmsg_build_payload(nlh, rule);
		nftnl_rule_free(rule);
		batch_next(b);
	}
	batch_close(r, b);
	rc = send_batch(r, b, cfg->n_ifindex);
	goto out;
nomem:
	errno = ENOMEM;
out:
	saved = errno;
	batch_free(b);
	errno = saved;
	return rc;
}

struct rules *rules_new(const struct rules_config *cfg, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 3 };
	struct rules *r;
	int saved;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->seq = 1;
	if (cfg->table)
		snprintf(r->table, sizeof(r->table), "%s", cfg->table);
	else
		snprintf(r->table, sizeof(r->table), "idlegate_%ld", (long)getpid());
	r->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink socket");
		goto fail;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	if (add_table_chain(r, cfg) < 0) {
		snprintf(err, errlen, "creating table inet %s", r->table);
		goto fail;
	}
	r->created = true;
	if (add_rules(r, cfg, false) < 0) {
		saved = errno;
		if (add_rules(r, cfg, true) < 0) {
			snprintf(err, errlen, "adding queue rules to table inet %s "
				 "(native queue: %s; xt NFQUEUE)", r->table, strerror(saved));
			goto fail;
		}
		r->compat = true;
	}
	return r;
fail:
	saved = errno;
	rules_free(r);
	errno = saved;
	return NULL;
}

static void del_table(struct rules *r)
{
	struct batch *b = batch_open(r);
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (b && t) {
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, r->table);
		nlh = msg_begin(r, b, NFT_MSG_DELTABLE, 0);
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_next(b);
		batch_close(r, b);
		send_batch(r, b, 1);
	}
	nftnl_table_free(t);
	batch_free(b);
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	/* Closing the socket would remove the owned table too; deleting it
	 * explicitly makes the removal synchronous. */
	if (r->created)
		del_table(r);
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r);
}

const char *rules_table(const struct rules *r)
{
	return r->table;
}

bool rules_compat(const struct rules *r)
{
	return r->compat;
}
