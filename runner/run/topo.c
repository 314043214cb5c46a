// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Topology of one path in unnamed network namespaces (see topo.h for the
 * plan). Links and addresses are set up with iproute2: one `ip link add`
 * per veth pair, created directly in the two namespaces, then one
 * `ip -batch` per namespace for addresses, links and routes.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runner/run/supervise.h"
#include "runner/run/topo.h"
#include "runner/util/textutil.h"

#define MAX_NODES (TOPO_MAX_MB + 2)

struct node {
	char name[40];
	pid_t holder;
	int keep_fd;                    /* write end; the holder exits on EOF */
	char nsname[128];               /* "" unless attached */
	bool nat;
};

struct topo {
	size_t n;                       /* nodes */
	struct node node[MAX_NODES];
	unsigned char net4[MAX_NODES][16], net6[MAX_NODES][16];
	int plen4[MAX_NODES], plen6[MAX_NODES];
	bool names_kept;
};

int topo_parse_net(const char *s, bool v6, unsigned char addr[16], int *prefix)
{
	char buf[64], *slash, *end;
	long p;

	if (!s || strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		goto bad;
	*slash = '\0';
	p = strtol(slash + 1, &end, 10);
	if (*end || p < 0 || p > (v6 ? 128 : 32))
		goto bad;
	memset(addr, 0, 16);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
		goto bad;
	*prefix = (int)p;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Write value v into bits [from, from + nbits) of a (MSB first). */
static void put_bits(unsigned char *a, int from, int nbits, unsigned v)
{
	for (int i = 0; i < nbits; i++) {
		int bit = from + i;
		unsigned b = (v >> (nbits - 1 - i)) & 1;

		if (b)
			a[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
		else
			a[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	}
}

static int plan_addresses(struct topo *t, const struct topo_config *c, char *err, size_t errlen)
{
	size_t nlinks = t->n - 1;
	unsigned char base[16];
	int p;

	for (size_t j = 0; j < nlinks; j++) {
		memset(t->net4[j], 0, 16);
		if (c->ipv4_net && c->ipv4_net[0]) {
			if (topo_parse_net(c->ipv4_net, false, base, &p) < 0 || p > 27) {
				tu_errf(err, errlen, "ipv4_net '%s': need an IPv4 network of /27 or larger",
					c->ipv4_net);
				errno = EINVAL;
				return -1;
			}
			memcpy(t->net4[j], base, 4);
			put_bits(t->net4[j], p, 3, (unsigned)j);
			put_bits(t->net4[j], p + 3, 32 - p - 3, 0);
			t->plen4[j] = p + 3;
		} else if (j == 0) {
			inet_pton(AF_INET, "192.0.2.0", t->net4[j]);
			t->plen4[j] = 24;
		} else if (j == nlinks - 1) {
			inet_pton(AF_INET, "203.0.113.0", t->net4[j]);
			t->plen4[j] = 24;
		} else {
			inet_pton(AF_INET, "198.51.100.0", t->net4[j]);
			t->net4[j][3] = (unsigned char)((j - 1) * 32);
			t->plen4[j] = 27;
		}
		memset(t->net6[j], 0, 16);
		if (c->ipv6_net && c->ipv6_net[0]) {
			if (topo_parse_net(c->ipv6_net, true, base, &p) < 0 || p > 120) {
				tu_errf(err, errlen, "ipv6_net '%s': need an IPv6 network of /120 or larger",
					c->ipv6_net);
				errno = EINVAL;
				return -1;
			}
			memcpy(t->net6[j], base, 16);
			put_bits(t->net6[j], p, 4, (unsigned)j);
			for (int b = p + 4; b < 128; b++)
				put_bits(t->net6[j], b, 1, 0);
			t->plen6[j] = p + 4;
		} else {
			inet_pton(AF_INET6, "2001:db8:1d1e::", t->net6[j]);
			t->net6[j][7] = (unsigned char)j;
			t->plen6[j] = 64;
		}
	}
	return 0;
}

/* host number of node on link j: client and server 2, see topo.h */
static unsigned host_of(size_t j, bool left_end)
{
	if (left_end)
		return j == 0 ? 2 : 1;
	return j == 0 ? 1 : 2;
}

static const char *link_addr(const struct topo *t, size_t j, bool left_end, bool v6,
			     char *buf, size_t len)
{
	unsigned char a[16];

	if (v6) {
		memcpy(a, t->net6[j], 16);
		a[15] = (unsigned char)(a[15] + host_of(j, left_end));
		return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	}
	memcpy(a, t->net4[j], 4);
	a[3] = (unsigned char)(a[3] + host_of(j, left_end));
	return inet_ntop(AF_INET, a, buf, (socklen_t)len);
}

static const char *link_net(const struct topo *t, size_t j, bool v6, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? t->net6[j] : t->net4[j], a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, v6 ? t->plen6[j] : t->plen4[j]);
	return buf;
}

size_t topo_nodes(const struct topo *t)
{
	return t->n;
}

pid_t topo_ns_pid(const struct topo *t, size_t node)
{
	return node < t->n ? t->node[node].holder : -1;
}

const char *topo_node_name(const struct topo *t, size_t node)
{
	return node < t->n ? t->node[node].name : NULL;
}

const char *topo_ifname(const struct topo *t, size_t node, bool right)
{
	if (node == 0 || node == t->n - 1)
		return "eth0";
	return right ? "outside" : "inside";
}

const char *topo_server_alt(const struct topo *t, bool v6, char *buf, size_t len)
{
	size_t j = t->n - 2;
	unsigned char a[16];

	/* host 3 of the last link: beside the server's 2, below the
	 * broadcast address of any link of /29 or larger */
	if (t->n < 2 || (!v6 && t->plen4[j] > 29)) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(a, v6 ? t->net6[j] : t->net4[j], 16);
	a[v6 ? 15 : 3] = (unsigned char)(a[v6 ? 15 : 3] + 3);
	return inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len);
}

const char *topo_addr(const struct topo *t, size_t node, bool right, bool v6, char *buf, size_t len)
{
	if (node >= t->n || (right && node == t->n - 1) || (!right && node == 0)) {
		errno = EINVAL;
		return NULL;
	}
	/* toward the server: node is the left end of link `node`;
	 * toward the client: the right end of link node-1 */
	return right ? link_addr(t, node, true, v6, buf, len)
		     : link_addr(t, node - 1, false, v6, buf, len);
}

/* The holder: an unnamed netns that lives while the keep pipe is open. */
static pid_t holder_start(int *keep_fd, const struct run_user *user)
{
	int keep[2], ready[2];
	pid_t parent = getpid(), pid;
	char c = 0;

	if (pipe2(keep, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(keep[0]);
		close(keep[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(keep[0]);
		close(keep[1]);
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t all;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		setpgid(0, 0);
		sigfillset(&all);
		sigdelset(&all, SIGKILL);
		sigprocmask(SIG_SETMASK, &all, NULL);   /* only the pipe or SIGKILL end it */
		prctl(PR_SET_NAME, "idlegate-ns");
		if (dup2(keep[0], 0) < 0 || dup2(ready[1], 1) < 0)
			_exit(1);
		syscall(SYS_close_range, 3, ~0U, 0);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(2);
		/* It only has to exist: no capability is left to it. It keeps
		 * root's uid, because a runner without CAP_SYS_PTRACE (root in
		 * a container) can only enter namespaces of its own uid. */
		if (user && drop_capabilities() < 0)
			_exit(1);
		if (write(1, "r", 1) != 1)
			_exit(1);
		close(1);
		while (read(0, &c, 1) > 0)
			;
		_exit(0);
	}
	setpgid(pid, pid);
	close(keep[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		int st;

		close(ready[0]);
		close(keep[1]);
		waitpid(pid, &st, 0);
		errno = (WIFEXITED(st) && WEXITSTATUS(st) == 2) ? EPERM : ECHILD;
		return -1;
	}
	close(ready[0]);
	*keep_fd = keep[1];
	return pid;
}

/* Run `ip -batch` with the text in ns; err gets ip's message. */
static int ip_batch(pid_t ns, const char *text, char *err, size_t errlen)
{
	int fd = memfd_create("ip-batch", 0), rc;
	char path[64];
	char *argv[] = { "ip", "-batch", path, NULL };
	size_t len = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)getpid(), fd);
	rc = spawn_wait(argv, ns, 10000, err, errlen);
	close(fd);
	return rc;
}

static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off >= cap - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
}

/* Is there a NAT middlebox among nodes [from, to]? */
static bool nat_between(const struct topo *t, size_t from, size_t to)
{
	for (size_t m = from; m <= to && m < t->n; m++)
		if (t->node[m].nat)
			return true;
	return false;
}

static int configure_node(struct topo *t, size_t i, char *err, size_t errlen)
{
	char b[4096] = "link set lo up\n", net[80], via[INET6_ADDRSTRLEN], a[INET6_ADDRSTRLEN];
	char msg[512];
	int rc;

	for (int side = 0; side < 2; side++) {
		bool right = side == 1;
		const char *ifn;

		if ((right && i == t->n - 1) || (!right && i == 0))
			continue;
		ifn = topo_ifname(t, i, right);
		for (int v6 = 0; v6 < 2; v6++) {
			size_t j = right ? i : i - 1;

			topo_addr(t, i, right, v6, a, sizeof(a));
			append(b, sizeof(b), "addr add %s/%d dev %s%s\n", a,
			       v6 ? t->plen6[j] : t->plen4[j], ifn, v6 ? " nodad" : "");
			/* the server's second address (RFC 5780 tests) */
			if (i == t->n - 1 && topo_server_alt(t, v6, a, sizeof(a)))
				append(b, sizeof(b), "addr add %s/%d dev %s%s\n", a,
				       v6 ? t->plen6[j] : t->plen4[j], ifn, v6 ? " nodad" : "");
		}
		append(b, sizeof(b), "link set %s up\n", ifn);
	}
	for (size_t j = 0; j + 1 < t->n; j++) {
		if (j == i || j + 1 == i)
			continue;               /* directly connected */
		for (int v6 = 0; v6 < 2; v6++) {
			if (j > i) {
				/* toward the server: next hop is node i+1 on link i */
				link_addr(t, i, false, v6, via, sizeof(via));
			} else {
				/* toward the client: nothing behind a NAT is reachable */
				if (nat_between(t, j + 1, i - 1))
					continue;
				link_addr(t, i - 1, true, v6, via, sizeof(via));
			}
			append(b, sizeof(b), "route add %s via %s\n", link_net(t, j, v6, net, sizeof(net)), via);
		}
	}
	rc = ip_batch(t->node[i].holder, b, msg, sizeof(msg));
	if (rc != 0) {
		tu_errf(err, errlen, "configuring %s: ip: %s", t->node[i].name,
			rc < 0 ? strerror(errno) : msg);
		errno = EIO;
		return -1;
	}
	if (i > 0 && i < t->n - 1) {
		char *sysctl[] = { "sysctl", "-qw", "net.ipv4.ip_forward=1",
				   "net.ipv6.conf.all.forwarding=1", NULL };

		rc = spawn_wait(sysctl, t->node[i].holder, 5000, msg, sizeof(msg));
		if (rc != 0) {
			tu_errf(err, errlen, "%s: enabling forwarding: %s", t->node[i].name,
				rc < 0 ? strerror(errno) : msg);
			errno = EIO;
			return -1;
		}
	}
	return 0;
}

struct topo *topo_new(const struct topo_config *c, char *err, size_t errlen)
{
	struct topo *t;
	char msg[512];

	if (c->nmb > TOPO_MAX_MB) {
		errno = EINVAL;
		tu_errf(err, errlen, "at most %d middleboxes on a path", TOPO_MAX_MB);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n = c->nmb + 2;
	for (size_t i = 0; i < t->n; i++) {
		t->node[i].keep_fd = -1;
		snprintf(t->node[i].name, sizeof(t->node[i].name), "%s",
			 i == 0 ? "client" : i == t->n - 1 ? "server" : c->mb_name[i - 1]);
		if (i > 0 && i < t->n - 1)
			t->node[i].nat = c->mb_nat[i - 1];
	}
	if (plan_addresses(t, c, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < t->n; i++) {
		t->node[i].holder = holder_start(&t->node[i].keep_fd, c->user);
		if (t->node[i].holder < 0) {
			tu_errf(err, errlen, "creating a network namespace: %s",
				errno == EPERM ? "not permitted (needs root / CAP_SYS_ADMIN)" : strerror(errno));
			goto fail;
		}
	}
	for (size_t j = 0; j + 1 < t->n; j++) {
		int rc = spawn_waitf(0, msg, sizeof(msg),
				     "ip link add %s netns %ld type veth peer name %s netns %ld",
				     topo_ifname(t, j, true), (long)t->node[j].holder,
				     topo_ifname(t, j + 1, false), (long)t->node[j + 1].holder);

		if (rc != 0) {
			tu_errf(err, errlen, "creating the veth link %s-%s: %s", t->node[j].name,
				t->node[j + 1].name, rc < 0 ? strerror(errno) :
				rc == 127 ? "ip (iproute2) not found" : msg);
			errno = EIO;
			goto fail;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		if (configure_node(t, i, err, errlen) < 0)
			goto fail;
	return t;
fail:
	{
		int saved = errno;

		topo_free(t);
		errno = saved;
	}
	return NULL;
}

int topo_attach(struct topo *t, const char *prefix, char *err, size_t errlen)
{
	char msg[512];

	for (size_t i = 0; i < t->n; i++) {
		struct node *n = &t->node[i];
		int rc;

		snprintf(n->nsname, sizeof(n->nsname), "%s-%s", prefix, n->name);
		rc = spawn_waitf(0, msg, sizeof(msg), "ip netns attach %s %ld", n->nsname,
				 (long)n->holder);
		if (rc != 0) {
			tu_errf(err, errlen, "ip netns attach %s: %s", n->nsname,
				rc < 0 ? strerror(errno) : msg);
			n->nsname[0] = '\0';
			errno = EIO;
			return -1;
		}
	}
	return 0;
}

const char *topo_ns_name(const struct topo *t, size_t node)
{
	return node < t->n && t->node[node].nsname[0] ? t->node[node].nsname : NULL;
}

void topo_detach(struct topo *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->node[i].nsname[0])
			continue;
		spawn_waitf(0, NULL, 0, "ip netns delete %s", t->node[i].nsname);
		t->node[i].nsname[0] = '\0';
	}
}

void topo_keep_names(struct topo *t)
{
	if (t)
		t->names_kept = true;
}

/*
 * Kill every process still inside one of t's namespaces: a program that
 * daemonized, a shell's background job, anything a flow's command left.
 * While one runs, its namespace (and our veth links) would outlive the run.
 */
static void kill_inside(const struct topo *t)
{
	struct stat ns[MAX_NODES];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	for (size_t i = 0; i < t->n && n < MAX_NODES; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%ld/ns/net", (long)t->node[i].holder);
		if (t->node[i].holder > 0 && stat(p, &ns[n]) == 0)
			n++;
	}
	if (!n || !(d = opendir("/proc")))
		return;
	while ((e = readdir(d))) {
		long pid = strtol(e->d_name, NULL, 10);
		char p[64];
		struct stat st;

		if (pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/ns/net", pid);
		if (stat(p, &st) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			bool holder = false;

			for (size_t k = 0; k < t->n; k++)
				holder |= (long)t->node[k].holder == pid;
			if (!holder && st.st_ino == ns[i].st_ino && st.st_dev == ns[i].st_dev) {
				kill((pid_t)pid, SIGKILL);
				break;
			}
		}
	}
	closedir(d);
}

void topo_free(struct topo *t)
{
	if (!t)
		return;
	if (!t->names_kept) {
		topo_detach(t);
		kill_inside(t);
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->node[i].keep_fd >= 0)
			close(t->node[i].keep_fd);
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->node[i].holder > 0)
			stop_child(t->node[i].holder, SIGKILL, 1000);
	}
	free(t);
}
