// SPDX-License-Identifier: GPL-2.0-or-later
/* Capability dropping with capget/capset and prctl; see caps.h. */
#include "simulator/caps.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

static uint64_t keep_mask(void)
{
	return (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW);
}

static int cap_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capget, &h, d);
}

int caps_have(int cap)
{
	struct __user_cap_data_struct d[2];

	if (cap < 0 || cap > 63 || cap_get(d) < 0)
		return 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Become uid/gid, keeping the permitted set (PR_SET_KEEPCAPS); the caller
 * then sets the effective set again, which the switch empties. */
static int switch_user(uid_t uid, gid_t gid)
{
	int pdeath = 0;

	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -1;
	return pdeath ? prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) : 0;
}

int caps_drop_to_datapath(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t keep = keep_mask(), have;
	int cap;

	if (cap_get(d) < 0)
		return -1;
	have = ((uint64_t)d[1].permitted << 32) | d[0].permitted;
	/* The bounding set needs CAP_SETPCAP, so it goes first. */
	if (have & (1ULL << CAP_SETPCAP)) {
		for (cap = 0; cap <= 63; cap++) {
			if (keep & (1ULL << cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
				return -1;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	have &= keep;
	if (uid != (uid_t)-1 && switch_user(uid, gid) < 0)
		return -1;
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)have;
	d[1].permitted = d[1].effective = (uint32_t)(have >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return 0;
}
