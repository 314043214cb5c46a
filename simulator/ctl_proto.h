/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol's request parser: one JSON object per line, e.g.
 *   {"cmd":"stats"}  {"cmd":"flows"}  {"cmd":"get","key":"tcp.established"}
 *   {"cmd":"set","key":"tcp.established","value":"5s"}  {"cmd":"flush"}
 *   {"cmd":"expire","id":7}  {"cmd":"blackhole","value":"30s"}
 *   {"cmd":"subscribe"}  {"cmd":"unsubscribe"}
 * The input is untrusted (anyone who may open the socket), so the parser
 * is strict and bounded: one line of at most CTL_LINE_MAX bytes of valid
 * UTF-8, a flat object read by jansson (common/jsonio.h), known members
 * only, each at most once, string or non-negative integer values, no
 * trailing bytes. Strings may hold any character but U+0000 ("\u0000" is
 * refused: members become C strings). No syscalls (a libFuzzer harness
 * links it with common/ alone).
 * Also the error answer and the JSON string writer used for replies.
 */
#ifndef IDLEGATE_CTL_PROTO_H
#define IDLEGATE_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest request line accepted, newline excluded. */
#define CTL_LINE_MAX 1024

enum ctl_cmd {
	CTL_STATS, CTL_FLOWS, CTL_GET, CTL_SET, CTL_FLUSH, CTL_EXPIRE,
	CTL_BLACKHOLE, CTL_SUBSCRIBE, CTL_UNSUBSCRIBE,
	CTL_CMD_MAX
};
const char *ctl_cmd_name(unsigned cmd);

struct ctl_req {
	enum ctl_cmd cmd;
	char key[64];           /* "key" member, NUL-terminated */
	char value[256];        /* "value" (a number is kept as its text) */
	uint32_t id;            /* "id" */
	bool has_key, has_value, has_id;
};

/*
 * Parse line[0..len) (no newline; may contain NULs, which are refused).
 * Checks that the members the command needs are there and no others.
 * Returns 0, or -1 with errno EINVAL and a short reason in err.
 */
int ctl_parse(const char *line, size_t len, struct ctl_req *req,
	      char *err, size_t errlen);

/*
 * The answer to a request that could not be read: {"ok":false,"error":msg}
 * (no newline) in buf. Returns its length, or -1 with errno ENOSPC.
 */
int ctl_error_reply(const char *msg, char *buf, size_t cap);


#endif
