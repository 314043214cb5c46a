/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device profiles: INI files under scenarios/profiles/ that set policy knobs
 * to what a real NAT, firewall or load balancer does (each profile file in
 * scenarios/profiles/ cites its sources). Shared by
 * the runner (scenario files name a profile), `idlegate profiles`, and the
 * simulator daemon (`idlegate-sim --profile`).
 *
 * A profile is an optional [profile] section with the metadata keys name,
 * description and source; every other key, in any section-less position or
 * in [profile], is a policy knob handed to policy_set():
 *
 *   [profile]
 *   name = aws-nat-gateway
 *   source = https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html
 *   tcp.established = 350s
 *   on_expire = rst-inside-on-next
 */
#ifndef IDLEGATE_PROFILE_H
#define IDLEGATE_PROFILE_H

#include <limits.h>
#include <stddef.h>

#include "common/policy.h"

#define PROFILE_NAME_MAX 64
#define PROFILE_TEXT_MAX 200

struct profile_meta {
	char name[PROFILE_NAME_MAX];            /* name = ..., else the file's basename */
	char description[PROFILE_TEXT_MAX];
	char source[PROFILE_TEXT_MAX];
	char path[PATH_MAX];                    /* the file that was read */
};

/*
 * Load a profile into p: p is first reset with policy_init() (Linux
 * conntrack defaults), then every knob of the file is applied in file order.
 * policy_validate() is NOT called: a NAT profile leaves nat.address to the
 * runner, which knows the topology.
 *
 * name_or_path: a path if it contains '/', else a bare name looked up as
 * NAME.ini in profile_search_dirs(). meta may be NULL.
 * Returns 0, or -1 with errno: ENOENT (no such profile; err lists the
 * directories searched), EINVAL (bad name or bad content; err is
 * "path:line: message"), or the errno of reading the file.
 */
int profile_load(struct policy *p, const char *name_or_path, struct profile_meta *meta,
		 char *err, size_t errlen);

/*
 * The same on a file already in memory (used by tests and the fuzzer);
 * label names the buffer in messages and in meta->path.
 */
int profile_load_buffer(struct policy *p, const char *buf, size_t len, const char *label,
			struct profile_meta *meta, char *err, size_t errlen);

/*
 * Find a profile's file: a path (contains '/') is returned as is if it is a
 * readable file; a bare name is searched for as NAME.ini in, in order:
 * each directory of $IDLEGATE_PROFILES (colon-separated), ./scenarios/profiles,
 * <dir of the executable>/../scenarios/profiles,
 * <dir of the executable>/../share/idlegate/profiles, IDLEGATE_DATADIR/profiles.
 * Returns 0 with the path in buf, or -1 with errno ENOENT / EINVAL (a bare
 * name with characters other than letters, digits, '.', '_', '-').
 */
int profile_find(const char *name_or_path, char *buf, size_t len);

/*
 * The search directories in order, as one string "a:b:c" (for messages).
 * Returns buf.
 */
char *profile_search_path(char *buf, size_t len);

struct profile_entry {
	char name[PROFILE_NAME_MAX];            /* file basename without .ini */
	char path[PATH_MAX];
};

/*
 * Every profile found in the search directories, sorted by name; where two
 * directories hold the same name, the earlier directory wins (as for
 * profile_find). *list is malloc'd, caller frees it with free(). Returns 0
 * (possibly with *n == 0), or -1 with errno ENOMEM.
 */
int profile_list(struct profile_entry **list, size_t *n);

#endif
