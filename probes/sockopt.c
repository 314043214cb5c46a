// SPDX-License-Identifier: GPL-2.0-or-later
/* Keepalive, user timeout, TCP_INFO and error-queue handling; see sockopt.h. */
#include "probes/sockopt.h"

#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/ip.h>

#include "probes/proto.h"

static int get_int(int fd, int level, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, opt, v, &len);
}

int probe_sockopt_keepalive_apply(int fd, const struct plan_keepalive *ka, struct plan_keepalive *got)
{
	int on = ka->mode != PLAN_KA_OFF, v, idle, intvl, cnt;

	memset(got, 0, sizeof(*got));
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		return -1;
	if (ka->mode == PLAN_KA_SET) {
		int i = (int)ka->idle_s, n = (int)ka->intvl_s, c = (int)ka->cnt;
		if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &i, sizeof(i)) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &n, sizeof(n)) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &c, sizeof(c)) < 0)
			return -1;
	}
	if (get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &v) < 0 ||
	    get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle) < 0 ||
	    get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl) < 0 ||
	    get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt) < 0)
		return -1;
	got->mode = v ? PLAN_KA_SET : PLAN_KA_OFF;
	got->idle_s = (uint32_t)idle;
	got->intvl_s = (uint32_t)intvl;
	got->cnt = (uint32_t)cnt;
	if ((v != 0) != (on != 0))
		goto mismatch;
	if (ka->mode == PLAN_KA_SET &&
	    (got->idle_s != ka->idle_s || got->intvl_s != ka->intvl_s || got->cnt != ka->cnt))
		goto mismatch;
	return 0;
mismatch:
	errno = EPROTO;
	return -1;
}

int probe_sockopt_user_timeout_apply(int fd, uint32_t ms, uint32_t *got)
{
	unsigned int v = ms, r;
	socklen_t len = sizeof(r);

	if (ms && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)) < 0)
		return -1;
	if (getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &r, &len) < 0)
		return -1;
	*got = r;
	if (ms && r != ms) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int probe_sockopt_tcpinfo(int fd, struct probe_tcpinfo *ti)
{
	struct tcp_info k;
	socklen_t len = sizeof(k);

	memset(ti, 0, sizeof(*ti));
	memset(&k, 0, sizeof(k));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &k, &len) < 0)
		return -1;
	ti->valid = true;
	ti->state = k.tcpi_state;
	ti->probes = k.tcpi_probes;
	ti->retransmits = k.tcpi_retransmits;
	ti->backoff = k.tcpi_backoff;
	ti->total_retrans = k.tcpi_total_retrans;
	ti->unacked = k.tcpi_unacked;
	ti->rtt_us = k.tcpi_rtt;
	ti->rto_us = k.tcpi_rto;
	ti->last_data_sent_ms = k.tcpi_last_data_sent;
	ti->last_data_recv_ms = k.tcpi_last_data_recv;
	ti->last_ack_recv_ms = k.tcpi_last_ack_recv;
	return 0;
}

int probe_sockopt_recverr(int fd, int family)
{
	int on = 1;

	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)) < 0)
			return -1;
		/* a dual-stack socket talking IPv4 takes IP_RECVERR too; ignore failure */
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
		return 0;
	}
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
}

int probe_sockopt_pktinfo(int fd, int family)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0)
		return -1;
	return family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) : 0;
}

/* The destination address a control message names, into dst. */
static void pktinfo_dst(const struct cmsghdr *cm, struct sockaddr_storage *dst)
{
	if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
		struct in_pktinfo pi;
		struct sockaddr_in *a4 = (struct sockaddr_in *)dst;

		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		a4->sin_family = AF_INET;
		a4->sin_addr = pi.ipi_addr;
	} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
		struct in6_pktinfo pi;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)dst;

		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
			struct sockaddr_in *a4 = (struct sockaddr_in *)dst;

			a4->sin_family = AF_INET;
			memcpy(&a4->sin_addr, &pi.ipi6_addr.s6_addr[12], 4);
			return;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = pi.ipi6_addr;
	}
}

ssize_t probe_sockopt_recv_dst(int fd, void *buf, size_t len, struct sockaddr_storage *from,
			       socklen_t *fromlen, struct sockaddr_storage *dst)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_name = from, .msg_namelen = *fromlen, .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	memset(dst, 0, sizeof(*dst));
	if (n < 0)
		return -1;
	*fromlen = mh.msg_namelen;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		pktinfo_dst(cm, dst);
	return n;
}

/* One control message (level, type, len bytes of data) as mh's only one,
 * in buf (room for it). */
static void put_cmsg(struct msghdr *mh, void *buf, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *cm;

	mh->msg_control = buf;
	mh->msg_controllen = CMSG_SPACE(len);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
}

ssize_t probe_sockopt_send_from(int fd, const void *buf, size_t len, const struct sockaddr *to,
				socklen_t tolen, const struct sockaddr_storage *src)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&ctl, 0, sizeof(ctl));
	if (src && src->ss_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = ((const struct sockaddr_in *)src)->sin_addr };

		put_cmsg(&mh, ctl.b, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else if (src && src->ss_family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = ((const struct sockaddr_in6 *)src)->sin6_addr };

		put_cmsg(&mh, ctl.b, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT);
}

int probe_sockopt_errqueue(int fd, int *err, char *offender, size_t len, char *payload,
		     size_t payload_cap, size_t *plen)
{
	char data[PROTO_LINE_MAX], ctl[512];
	ssize_t n;
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	if (len)
		offender[0] = '\0';
	*err = 0;
	n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	if (payload && payload_cap) {
		size_t k = (size_t)n < payload_cap - 1 ? (size_t)n : payload_cap - 1;
		memcpy(payload, data, k);
		payload[k] = '\0';
		*plen = k;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
			struct sock_extended_err ee;
			const struct sockaddr *off;

			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			*err = (int)ee.ee_errno;
			off = SO_EE_OFFENDER((struct sock_extended_err *)CMSG_DATA(c));
			if (len && (off->sa_family == AF_INET || off->sa_family == AF_INET6)) {
				struct sockaddr_storage ss;
				size_t sl = off->sa_family == AF_INET ? sizeof(struct sockaddr_in)
								      : sizeof(struct sockaddr_in6);
				memcpy(&ss, off, sl);
				probe_proto_addr_format((struct sockaddr *)&ss, offender, len);
				/* the port of an offender means nothing */
				char *colon = strrchr(offender, ':');
				if (colon)
					*colon = '\0';
			}
		}
	}
	return 1;
}

const char *probe_sockopt_tcp_state_name(unsigned state)
{
	static const char *const names[] = {
		"?", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2",
		"time-wait", "close", "close-wait", "last-ack", "listen", "closing",
	};
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}
