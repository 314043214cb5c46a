// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared by run, shell and cleanup (see cmd_common.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/safefs.h"
#include "common/log.h"
#include "runner/run/session.h"
#include "runner/run/run.h"
#include "runner/run/supervise.h"

int run_env_check(char *sim, size_t simlen, char *probe, size_t probelen, char *msg, size_t msglen)
{
	char err[256];
	int rc;

	if (geteuid() != 0) {
		snprintf(msg, msglen, "needs root: network namespaces, veth links, NFQUEUE and nftables "
			 "need CAP_SYS_ADMIN and CAP_NET_ADMIN (try: sudo idlegate ...)");
		return -1;
	}
	if (access("/proc/self/ns/net", F_OK) < 0) {
		snprintf(msg, msglen, "this kernel has no network namespaces (CONFIG_NET_NS)");
		return -1;
	}
	if (run_find_program("idlegate-sim", sim, simlen) < 0) {
		snprintf(msg, msglen, "idlegate-sim not found next to idlegate or on PATH "
			 "(build it with make, or set IDLEGATE_SIM)");
		return -1;
	}
	if (run_find_program("idlegate-probe", probe, probelen) < 0) {
		snprintf(msg, msglen, "idlegate-probe not found next to idlegate or on PATH "
			 "(build it with make, or set IDLEGATE_PROBE)");
		return -1;
	}
	rc = spawn_waitf(0, err, sizeof(err), "ip -V");
	if (rc != 0) {
		snprintf(msg, msglen, "the ip command (iproute2) %s", rc == 127 ? "is not installed" : "does not work");
		return -1;
	}
	if (access("/proc/net/netfilter/nfnetlink_queue", F_OK) < 0) {
		spawn_waitf(0, NULL, 0, "modprobe -q nfnetlink_queue");
		spawn_waitf(0, NULL, 0, "modprobe -q nft_compat");
		spawn_waitf(0, NULL, 0, "modprobe -q veth");
	}
	if (access("/proc/net/netfilter/nfnetlink_queue", F_OK) < 0) {
		snprintf(msg, msglen, "the kernel has no NFQUEUE (module nfnetlink_queue, "
			 "CONFIG_NETFILTER_NETLINK_QUEUE) and modprobe could not load it");
		return -1;
	}
	return 0;
}

const char *run_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && t[0] == '/' ? t : "/tmp";
}

int run_workdir_make(char *dir, size_t len)
{
	if ((size_t)snprintf(dir, len, "%s/idlegate-run-%ld-XXXXXX", run_tmpdir(),
			     (long)getpid()) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

void run_workdir_remove(const char *dir)
{
	if (!getenv("IDLEGATE_KEEP_FILES") && safefs_remove_private_path(dir, geteuid()) < 0)
		log_warn("could not remove %s", dir);
}

void print_diags(const struct ini_diags *dg)
{
	char buf[800];

	for (size_t i = 0; i < dg->n; i++) {
		fprintf(stderr, "%s\n", ini_diag_format(dg, i, buf, sizeof(buf)));
		if (dg->d[i].hint[0])
			fprintf(stderr, "    hint: %s\n", dg->d[i].hint);
	}
	if (dg->dropped)
		fprintf(stderr, "%s: ... and %zu more problems\n", dg->file, dg->dropped);
}
