// SPDX-License-Identifier: GPL-2.0-or-later
/* RFC 5780's NAT behaviour tests over MAP requests; see natprobe.h. */
#include "probes/natprobe.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mtime.h"

#define NAT_TRIES 3     /* sends of one request, wait/3 apart */

const char *probe_nat_beh_name(enum nat_beh b)
{
	static const char *const names[] = {
		[NB_EI] = "endpoint-independent", [NB_AD] = "address-dependent",
		[NB_APD] = "address-and-port-dependent",
	};

	return b == NB_UNKNOWN ? NULL : names[b];
}

static uint64_t new_id(void)
{
	uint64_t id = 0;

	while (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id) || !id)
		;
	return id;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The datagram on fd within ms that parses as a message with this id into
 * m (its source into from): 1, 0 when none came in time, -1 with errno. */
static int wait_id(int fd, uint64_t id, uint64_t ms, struct proto_msg *m, struct sockaddr_storage *from)
{
	uint64_t end = mtime_ms() + ms;

	for (;;) {
		uint64_t now = mtime_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[PROTO_LINE_MAX + 1];
		socklen_t fl = sizeof(*from);
		ssize_t n;

		if (now >= end)
			return 0;
		if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -1;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)from, &fl);
		if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
			return -1;
		if (n > 0 && (size_t)n <= PROTO_LINE_MAX && probe_proto_parse(buf, (size_t)n, m) == 0 && m->id == id)
			return 1;
	}
}

/* Send the message m to `to` from fd up to NAT_TRIES times, wait_ms / 3
 * apart, until a datagram with its id reaches rfd: 1 (the answer in *ans,
 * its source in *from), 0 none, -1 with errno. */
static int exchange(int fd, int rfd, const struct sockaddr_storage *to, const struct proto_msg *m,
		    uint64_t wait_ms, struct proto_msg *ans, struct sockaddr_storage *from)
{
	char buf[PROTO_LINE_MAX + 1];
	int n = probe_proto_format(m, buf, sizeof(buf)), rc = 0;
	socklen_t tl = to->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	if (n < 0)
		return -1;
	for (int i = 0; i < NAT_TRIES && rc == 0; i++) {
		if (sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)to, tl) < 0 && errno != ECONNREFUSED)
			return -1;
		rc = wait_id(rfd, m->id, wait_ms / NAT_TRIES, ans, from);
	}
	return rc;
}

/* One MAP to `to` asking for change ch: 1 answered (MAPPED into *ans, the
 * answer's source into *from), 0 no answer, -1 with errno. A refusal
 * (ERROR no-alternate) is EPROTO. */
static int ask(int fd, const struct sockaddr_storage *to, enum proto_change ch, uint64_t wait_ms,
	       struct proto_msg *ans, struct sockaddr_storage *from)
{
	struct proto_msg m = { .type = PM_MAP, .id = new_id(), .change = ch };
	int rc = exchange(fd, fd, to, &m, wait_ms, ans, from);

	if (rc == 1 && ans->type != PM_MAPPED) {
		errno = EPROTO;
		return -1;
	}
	return rc;
}

static int udp_socket(int family)
{
	return socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* The local address:port fd sends to srv from, as text. */
static void local_of(int fd, const struct sockaddr_storage *srv, char *buf, size_t len)
{
	struct sockaddr_storage a, p;
	socklen_t al = sizeof(a);
	int t = udp_socket(srv->ss_family);

	buf[0] = '\0';
	if (t < 0)
		return;
	/* the address: routing's choice toward srv; the port: fd's */
	if (connect(t, (const struct sockaddr *)srv, srv->ss_family == AF_INET ? sizeof(struct sockaddr_in)
		    : sizeof(struct sockaddr_in6)) == 0 && getsockname(t, (struct sockaddr *)&a, &al) == 0) {
		al = sizeof(p);
		if (getsockname(fd, (struct sockaddr *)&p, &al) == 0) {
			set_port(&a, get_port(&p));
			probe_proto_addr_format((struct sockaddr *)&a, buf, len);
		}
	}
	close(t);
}

/* "ADDR:PORT" into host (the part before the last ':') and *port. */
static void split(const char *s, char *host, size_t len, long *port)
{
	const char *c = strrchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);

	snprintf(host, len, "%.*s", (int)(n < len ? n : len - 1), s);
	*port = c ? strtol(c + 1, NULL, 10) : -1;
}

/* The addresses of the tests: [0] primary, [1] alternate port, [2]
 * alternate address (primary port), from the server's other address. */
static int targets(const struct sockaddr_storage *srv, const char *other, struct sockaddr_storage t[3])
{
	struct sockaddr_storage o;
	socklen_t ol;

	if (probe_proto_addr_parse(other, &o, &ol) < 0 || o.ss_family != srv->ss_family)
		return -1;
	t[0] = *srv;
	t[1] = *srv;
	set_port(&t[1], get_port(&o));
	t[2] = o;
	set_port(&t[2], get_port(srv));
	return 0;
}

/* RFC 5780 4.3: the outside address:port toward the alternate port and
 * address against the primary's, from the same local port fd. */
static void test_mapping(int fd, const struct sockaddr_storage t[3], uint64_t wait_ms, struct nat_report *r)
{
	struct proto_msg ans;
	struct sockaddr_storage from;

	for (int i = 1; i < 3; i++) {
		if (ask(fd, &t[i], PC_NONE, wait_ms, &ans, &from) == 1)
			snprintf(r->seen[i], sizeof(r->seen[i]), "%s", ans.addr);
		else
			snprintf(r->why, sizeof(r->why), "mapping: no answer from the server's alternate %s",
				 i == 1 ? "port" : "address");
	}
	if (!r->seen[1][0] || !r->seen[2][0])
		return;
	if (!strcmp(r->seen[0], r->seen[1]))
		r->mapping = !strcmp(r->seen[0], r->seen[2]) ? NB_EI : NB_AD;
	else
		r->mapping = NB_APD;
}

/* Did the answer come from where it was asked to (want)? */
static bool came_from(const struct sockaddr_storage *from, const struct sockaddr_storage *want)
{
	char a[PROTO_ADDR_MAX], b[PROTO_ADDR_MAX];

	probe_proto_addr_format((const struct sockaddr *)from, a, sizeof(a));
	probe_proto_addr_format((const struct sockaddr *)want, b, sizeof(b));
	return !strcmp(a, b);
}

/* One filtering request on fd (a change asked of the primary): the answer
 * reached us from want (1), not at all (0), or -1 with errno (EPROTO: an
 * answer from elsewhere, the server did not do as asked). */
static int answered_from(int fd, const struct sockaddr_storage *primary, enum proto_change ch,
			 const struct sockaddr_storage *want, uint64_t wait_ms)
{
	struct proto_msg ans;
	struct sockaddr_storage from;
	int rc = ask(fd, primary, ch, wait_ms, &ans, &from);

	if (rc == 1 && !came_from(&from, want)) {
		errno = EPROTO;
		return -1;
	}
	return rc;
}

/* RFC 5780 4.4: from a fresh local port that sent only to the primary, do
 * answers from the alternate address and port (both), or from the
 * alternate port only, reach us? */
static int test_filtering(const struct sockaddr_storage t[3], uint64_t wait_ms, struct nat_report *r)
{
	struct sockaddr_storage both = t[2];
	int fd = udp_socket(t[0].ss_family), rc;

	if (fd < 0)
		return -1;
	set_port(&both, get_port(&t[1]));
	rc = answered_from(fd, &t[0], PC_NONE, &t[0], wait_ms);
	if (rc == 0)
		snprintf(r->why, sizeof(r->why), "filtering: no answer from the primary");
	if (rc == 1)
		rc = r->from_alt_addr = answered_from(fd, &t[0], PC_BOTH, &both, wait_ms);
	if (rc == 0)
		rc = r->from_alt_port = answered_from(fd, &t[0], PC_PORT, &t[1], wait_ms);
	close(fd);
	if (rc < 0)
		return -1;
	if (r->from_alt_addr == 1)
		r->filtering = NB_EI;
	else if (r->from_alt_port == 1)
		r->filtering = NB_AD;
	else if (r->from_alt_port == 0)
		r->filtering = NB_APD;
	return 0;
}

/* RFC 5780 4.5: from a second local port, to fd's outside address:port
 * (refreshed first: the filtering test may have outlasted its mapping). */
static int test_hairpin(int fd, const struct sockaddr_storage *srv, uint64_t wait_ms, struct nat_report *r)
{
	struct proto_msg ans, hp = { .type = PM_MAP, .id = new_id(), .change = PC_NONE };
	struct sockaddr_storage from, mapped;
	socklen_t ml;
	int fd2, rc;

	rc = ask(fd, srv, PC_NONE, wait_ms, &ans, &from);
	if (rc <= 0)
		return rc;
	if (probe_proto_addr_parse(ans.addr, &mapped, &ml) < 0 || mapped.ss_family != srv->ss_family)
		return 0;
	fd2 = udp_socket(srv->ss_family);
	if (fd2 < 0)
		return -1;
	rc = exchange(fd2, fd, &mapped, &hp, wait_ms, &ans, &from);
	close(fd2);
	if (rc < 0)
		return -1;
	r->hairpin = rc;
	if (rc)
		probe_proto_addr_format((struct sockaddr *)&from, r->hairpin_from, sizeof(r->hairpin_from));
	return 0;
}

/* NAT or not, and the port kept, from the primary's answer. */
static void nat_of(struct nat_report *r)
{
	char h1[PROTO_ADDR_MAX], h2[PROTO_ADDR_MAX];
	long p1, p2;

	if (!r->local[0])
		return;
	split(r->local, h1, sizeof(h1), &p1);
	split(r->seen[0], h2, sizeof(h2), &p2);
	r->nat = strcmp(h1, h2) || p1 != p2;
	r->port_kept = p1 == p2;
}

int probe_nat_run(const struct sockaddr *srv, socklen_t srvlen, uint64_t wait_ms, struct nat_report *r)
{
	struct sockaddr_storage s = { 0 }, t[3], from;
	struct proto_msg ans;
	int fd, rc = -1;

	memset(r, 0, sizeof(*r));
	r->nat = r->port_kept = r->from_alt_addr = r->from_alt_port = r->hairpin = -1;
	memcpy(&s, srv, srvlen);
	fd = udp_socket(s.ss_family);
	if (fd < 0)
		return -1;
	rc = ask(fd, &s, PC_NONE, wait_ms, &ans, &from);
	if (rc <= 0) {
		if (rc == 0)
			errno = ETIMEDOUT;
		rc = -1;
		goto out;
	}
	snprintf(r->seen[0], sizeof(r->seen[0]), "%s", ans.addr);
	snprintf(r->other, sizeof(r->other), "%s", ans.other);
	local_of(fd, &s, r->local, sizeof(r->local));
	nat_of(r);
	rc = 0;
	if (!r->other[0] || targets(&s, r->other, t) < 0) {
		snprintf(r->why, sizeof(r->why), "mapping and filtering: the server has no alternate address of this "
			 "family (idlegate-probe server --alt-port, --alt-addr)");
	} else {
		test_mapping(fd, t, wait_ms, r);
		rc = test_filtering(t, wait_ms, r);
	}
	if (rc == 0 && r->nat == 1)
		rc = test_hairpin(fd, &s, wait_ms, r);
out:
	close(fd);
	return rc < 0 ? -1 : 0;
}

static void json_str(FILE *f, const char *key, const char *v, const char *sep)
{
	if (v && *v)
		fprintf(f, "\"%s\":\"%s\"%s", key, v, sep);
	else
		fprintf(f, "\"%s\":null%s", key, sep);
}

static void json_tri(FILE *f, const char *key, int v, const char *sep)
{
	fprintf(f, "\"%s\":%s%s", key, v < 0 ? "null" : v ? "true" : "false", sep);
}

void probe_nat_json(FILE *f, const struct nat_report *r)
{
	fputc('{', f);
	json_str(f, "local", r->local, ",");
	json_str(f, "seen_as", r->seen[0], ",");
	json_str(f, "seen_as_alt_port", r->seen[1], ",");
	json_str(f, "seen_as_alt_addr", r->seen[2], ",");
	json_str(f, "other", r->other, ",");
	json_tri(f, "nat", r->nat, ",");
	json_tri(f, "port_kept", r->port_kept, ",");
	json_str(f, "mapping", probe_nat_beh_name(r->mapping), ",");
	json_str(f, "filtering", probe_nat_beh_name(r->filtering), ",");
	json_tri(f, "answer_from_alt_addr_port", r->from_alt_addr, ",");
	json_tri(f, "answer_from_alt_port", r->from_alt_port, ",");
	json_tri(f, "hairpin", r->hairpin, ",");
	json_str(f, "hairpin_from", r->hairpin_from, ",");
	json_str(f, "not_measured", r->why, "}\n");
}
