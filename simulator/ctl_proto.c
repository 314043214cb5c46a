// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control request parsing and JSON writing; see ctl_proto.h. jansson reads
 * the JSON (common/jsonio.h: UTF-8 checked, no "\u0000", no duplicate
 * members); this file checks the request's shape.
 */
#include "simulator/ctl_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonio.h"
#include "common/utf8.h"

static const char *const cmd_names[CTL_CMD_MAX] = {
	[CTL_STATS] = "stats", [CTL_FLOWS] = "flows", [CTL_GET] = "get",
	[CTL_SET] = "set", [CTL_FLUSH] = "flush", [CTL_EXPIRE] = "expire",
	[CTL_BLACKHOLE] = "blackhole", [CTL_SUBSCRIBE] = "subscribe",
	[CTL_UNSUBSCRIBE] = "unsubscribe",
};

const char *ctl_cmd_name(unsigned cmd)
{
	return cmd < CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

/* A string member into out[0..cap). */
static int get_str(json_t *v, char *out, size_t cap, const char **why)
{
	const char *s;

	if (!json_is_string(v)) {
		*why = "expected a string";
		return -1;
	}
	s = json_string_value(v);
	if (strlen(s) >= cap) {
		*why = "string too long";
		return -1;
	}
	strcpy(out, s);
	return 0;
}

/* A non-negative integer up to UINT32_MAX. */
static int get_uint(json_t *v, uint32_t *out, const char **why)
{
	json_int_t x;

	if (!json_is_integer(v)) {
		*why = "expected a string or a non-negative integer";
		return -1;
	}
	x = json_integer_value(v);
	if (x < 0 || x > (json_int_t)UINT32_MAX) {
		*why = x < 0 ? "expected a string or a non-negative integer" : "number too large";
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static int fail(const char *why, const char *key, char *err, size_t errlen)
{
	if (err && errlen) {
		if (key)
			snprintf(err, errlen, "\"%s\": %s", key, why);
		else
			snprintf(err, errlen, "%s", why);
	}
	errno = EINVAL;
	return -1;
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	const char *why = NULL, *key;
	char cmd[32] = "";
	json_t *root, *v;
	unsigned i;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (len > CTL_LINE_MAX)
		return fail("line too long", NULL, err, errlen);
	/* jansson says "unable to decode byte"; say what is wrong */
	if (!utf8_valid(line, len))
		return fail("request is not valid UTF-8", NULL, err, errlen);
	root = jsonio_load(line, len, err, errlen);
	if (!root)
		return -1;
	if (!json_object_get(root, "cmd")) {
		fail("no \"cmd\"", NULL, err, errlen);
		goto out;
	}
	json_object_foreach(root, key, v) {
		int r = 0;

		if (!strcmp(key, "cmd")) {
			r = get_str(v, cmd, sizeof(cmd), &why);
		} else if (!strcmp(key, "key")) {
			r = get_str(v, req->key, sizeof(req->key), &why);
			req->has_key = true;
		} else if (!strcmp(key, "value")) {
			uint32_t n;

			/* a number is kept as its text */
			if (json_is_integer(v) && (r = get_uint(v, &n, &why)) == 0)
				snprintf(req->value, sizeof(req->value), "%" PRIu32, n);
			else if (!json_is_integer(v))
				r = get_str(v, req->value, sizeof(req->value), &why);
			req->has_value = true;
		} else if (!strcmp(key, "id")) {
			r = get_uint(v, &req->id, &why);
			req->has_id = true;
		} else {
			if (err && errlen)
				snprintf(err, errlen, "unknown member \"%.64s\"", key);
			errno = EINVAL;
			goto out;
		}
		if (r < 0) {
			fail(why, key, err, errlen);
			goto out;
		}
	}
	for (i = 0; i < CTL_CMD_MAX; i++)
		if (!strcmp(cmd, cmd_names[i]))
			break;
	if (i == CTL_CMD_MAX) {
		fail("unknown cmd", NULL, err, errlen);
		goto out;
	}
	req->cmd = (enum ctl_cmd)i;
	/* which members each command takes */
	bool want_key = i == CTL_GET || i == CTL_SET;
	bool want_value = i == CTL_SET || i == CTL_BLACKHOLE;
	bool want_id = i == CTL_EXPIRE;
	if (want_key != req->has_key || want_value != req->has_value || want_id != req->has_id) {
		fail("wrong members for this cmd", NULL, err, errlen);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		memset(req, 0, sizeof(*req));
	json_decref(root);
	return rc;
}

int ctl_error_reply(const char *msg, char *buf, size_t cap)
{
	json_t *o = json_pack("{s:b,s:o}", "ok", 0, "error", jsonio_str(msg));
	int n = o ? jsonio_dumpb(o, 0, buf, cap) : -1;

	json_decref(o);
	return n;
}
