// SPDX-License-Identifier: GPL-2.0-or-later
/* Raw-socket injection; see inject.h. */
#include "simulator/inject.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct inject {
	int fd4, fd6;
};

static int raw_open(int family, uint32_t mark)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	int one = 1;

	if (fd < 0)
		return -1;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct inject *inject_new(uint32_t mark)
{
	struct inject *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd6 = -1;
	in->fd4 = raw_open(AF_INET, mark);
	if (in->fd4 < 0) {
		int saved = errno;

		free(in);
		errno = saved;
		return NULL;
	}
	/* IPPROTO_RAW on IPv6 implies the header is included */
	in->fd6 = raw_open(AF_INET6, mark);
	return in;
}

void inject_free(struct inject *in)
{
	if (!in)
		return;
	if (in->fd4 >= 0)
		close(in->fd4);
	if (in->fd6 >= 0)
		close(in->fd6);
	free(in);
}

int inject_send(struct inject *in, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	if (len >= 20 && (pkt[0] >> 4) == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, pkt + 16, 4);
		n = sendto(in->fd4, pkt, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		if (in->fd6 < 0) {
			errno = EAFNOSUPPORT;
			return -1;
		}
		memcpy(&sin6.sin6_addr, pkt + 24, 16);
		n = sendto(in->fd6, pkt, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	} else {
		errno = EINVAL;
		return -1;
	}
	if (n < 0)
		return -1;
	return 0;
}
