/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Least privilege after setup: keep only the capabilities the data path
 * needs (CAP_NET_ADMIN for queue verdicts, CAP_NET_RAW for injection),
 * drop everything else from the effective, permitted, inheritable, ambient
 * and bounding sets, and set no_new_privs. Raw syscalls, no libcap.
 */
#ifndef IDLEGATE_CAPS_H
#define IDLEGATE_CAPS_H

#include <sys/types.h>

/*
 * 0, or -1 with errno. When the process lacks CAP_SETPCAP the bounding set
 * cannot be reduced; that alone is not an error. With uid != (uid_t)-1 the
 * process also becomes uid/gid (no supplementary groups), keeping only those
 * two capabilities, as Suricata's --user does: then it cannot write root's
 * files any more. The parent-death signal, which a change of credentials
 * clears, is kept.
 */
int caps_drop_to_datapath(uid_t uid, gid_t gid);

/* Whether capability `cap` is in the effective set (for tests). */
int caps_have(int cap);

#endif
