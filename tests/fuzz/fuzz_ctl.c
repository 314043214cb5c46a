// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: simulator/ctl_proto.c
/*
 * libFuzzer harness: the control socket's request parser, which reads what
 * any local client with access to the socket sends. A parsed request must
 * hold NUL-terminated members and only the members its command takes; the
 * JSON writer must keep any parsed string inside its buffer and produce
 * output that the parser reads back as the same request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r, r2;
	char err[128], line[2048];
	size_t off = 0;

	if (ctl_parse((const char *)data, size, &r, err, sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (r.cmd >= CTL_CMD_MAX || !memchr(r.key, '\0', sizeof(r.key)) ||
	    !memchr(r.value, '\0', sizeof(r.value)))
		abort();
	/* round trip: write the request back out and parse it again */
	json_put(line, sizeof(line), &off, "{\"cmd\":");
	json_put_str(line, sizeof(line), &off, ctl_cmd_name(r.cmd));
	if (r.has_key) {
		json_put(line, sizeof(line), &off, ",\"key\":");
		json_put_str(line, sizeof(line), &off, r.key);
	}
	if (r.has_value) {
		json_put(line, sizeof(line), &off, ",\"value\":");
		json_put_str(line, sizeof(line), &off, r.value);
	}
	if (r.has_id)
		json_put(line, sizeof(line), &off, ",\"id\":%u", r.id);
	json_put(line, sizeof(line), &off, "}");
	if (off >= sizeof(line) || strlen(line) != off)
		abort();
	if (ctl_parse(line, off, &r2, err, sizeof(err)) < 0)
		abort();
	if (r2.cmd != r.cmd || strcmp(r2.key, r.key) || strcmp(r2.value, r.value) || r2.id != r.id)
		abort();
	return 0;
}
