// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control request parsing and JSON writing; see ctl_proto.h. A hand-written
 * recursive-descent reader for exactly the subset the protocol uses: that
 * is smaller and easier to bound than a general JSON library.
 */
#include "simulator/ctl_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

struct rd {
	const char *s;
	size_t len, pos;
	const char *why;
};

static void skip_ws(struct rd *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
				   r->s[r->pos] == '\r'))
		r->pos++;
}

static bool eat(struct rd *r, char c)
{
	skip_ws(r);
	if (r->pos < r->len && r->s[r->pos] == c) {
		r->pos++;
		return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string into out[0..cap); only ASCII escapes are accepted. */
static int read_str(struct rd *r, char *out, size_t cap)
{
	size_t n = 0;

	if (!eat(r, '"')) {
		r->why = "expected a string";
		return -1;
	}
	for (;;) {
		unsigned char c;

		if (r->pos >= r->len) {
			r->why = "unterminated string";
			return -1;
		}
		c = (unsigned char)r->s[r->pos++];
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x7f) {
			r->why = "control or non-ASCII character in string";
			return -1;
		}
		if (c == '\\') {
			if (r->pos >= r->len) {
				r->why = "unterminated escape";
				return -1;
			}
			c = (unsigned char)r->s[r->pos++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				int v = 0, i, h;

				if (r->len - r->pos < 4) {
					r->why = "short \\u escape";
					return -1;
				}
				for (i = 0; i < 4; i++) {
					h = hexval(r->s[r->pos + (size_t)i]);
					if (h < 0) {
						r->why = "bad \\u escape";
						return -1;
					}
					v = v * 16 + h;
				}
				r->pos += 4;
				if (v < 0x20 || v >= 0x7f) {
					r->why = "\\u escape outside printable ASCII";
					return -1;
				}
				c = (unsigned char)v;
				break;
			}
			default:
				r->why = "bad escape";
				return -1;
			}
		}
		if (c < 0x20) {
			/* decoded control characters have no use in a request */
			r->why = "control character in string";
			return -1;
		}
		if (n + 1 >= cap) {
			r->why = "string too long";
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* A non-negative integer up to UINT32_MAX, also kept as text. */
static int read_uint(struct rd *r, uint32_t *v, char *text, size_t cap)
{
	uint64_t x = 0;
	size_t start, n;

	skip_ws(r);
	start = r->pos;
	while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
		x = x * 10 + (uint64_t)(r->s[r->pos] - '0');
		if (x > UINT32_MAX) {
			r->why = "number too large";
			return -1;
		}
		r->pos++;
	}
	n = r->pos - start;
	if (n == 0) {
		r->why = "expected a string or a non-negative integer";
		return -1;
	}
	if (n > 1 && r->s[start] == '0') {
		r->why = "leading zero";
		return -1;
	}
	*v = (uint32_t)x;
	if (text && n < cap) {
		memcpy(text, r->s + start, n);
		text[n] = '\0';
	}
	return 0;
}

static int fail(struct rd *r, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s at byte %zu", r->why ? r->why : "syntax error", r->pos);
	errno = EINVAL;
	return -1;
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	struct rd r = { .s = line, .len = len };
	char name[16], cmd[32];
	bool has_cmd = false;
	unsigned i;

	memset(req, 0, sizeof(*req));
	if (len > CTL_LINE_MAX) {
		r.why = "line too long";
		return fail(&r, err, errlen);
	}
	if (!eat(&r, '{')) {
		r.why = "expected '{'";
		return fail(&r, err, errlen);
	}
	if (!eat(&r, '}')) {
		do {
			if (read_str(&r, name, sizeof(name)) < 0)
				return fail(&r, err, errlen);
			if (!eat(&r, ':')) {
				r.why = "expected ':'";
				return fail(&r, err, errlen);
			}
			skip_ws(&r);
			if (!strcmp(name, "cmd")) {
				if (has_cmd || read_str(&r, cmd, sizeof(cmd)) < 0) {
					r.why = r.why ? r.why : "duplicate member";
					return fail(&r, err, errlen);
				}
				has_cmd = true;
			} else if (!strcmp(name, "key")) {
				if (req->has_key || read_str(&r, req->key, sizeof(req->key)) < 0) {
					r.why = r.why ? r.why : "duplicate member";
					return fail(&r, err, errlen);
				}
				req->has_key = true;
			} else if (!strcmp(name, "value")) {
				uint32_t dummy;

				if (req->has_value) {
					r.why = "duplicate member";
					return fail(&r, err, errlen);
				}
				if (r.pos < r.len && r.s[r.pos] == '"') {
					if (read_str(&r, req->value, sizeof(req->value)) < 0)
						return fail(&r, err, errlen);
				} else if (read_uint(&r, &dummy, req->value, sizeof(req->value)) < 0)
					return fail(&r, err, errlen);
				req->has_value = true;
			} else if (!strcmp(name, "id")) {
				if (req->has_id || read_uint(&r, &req->id, NULL, 0) < 0) {
					r.why = r.why ? r.why : "duplicate member";
					return fail(&r, err, errlen);
				}
				req->has_id = true;
			} else {
				r.why = "unknown member";
				return fail(&r, err, errlen);
			}
		} while (eat(&r, ','));
		if (!eat(&r, '}')) {
			r.why = "expected ',' or '}'";
			return fail(&r, err, errlen);
		}
	}
	skip_ws(&r);
	if (r.pos != r.len) {
		r.why = "trailing bytes";
		return fail(&r, err, errlen);
	}
	if (!has_cmd) {
		r.why = "no \"cmd\"";
		return fail(&r, err, errlen);
	}
	for (i = 0; i < CTL_CMD_MAX; i++)
		if (!strcmp(cmd, cmd_names[i]))
			break;
	if (i == CTL_CMD_MAX) {
		r.why = "unknown cmd";
		return fail(&r, err, errlen);
	}
	req->cmd = (enum ctl_cmd)i;
	/* which members each command takes */
	bool want_key = i == CTL_GET || i == CTL_SET;
	bool want_value = i == CTL_SET || i == CTL_BLACKHOLE;
	bool want_id = i == CTL_EXPIRE;
	if (want_key != req->has_key || want_value != req->has_value || want_id != req->has_id) {
		r.why = "wrong members for this cmd";
		return fail(&r, err, errlen);
	}
	return 0;
}

int json_put_str(char *buf, size_t cap, size_t *off, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = *off;
	int rc = 0;

	if (cap == 0)
		return -1;
#define PUT(c) do { if (o + 1 >= cap) { rc = -1; goto out; } buf[o++] = (c); } while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			if (o + 7 >= cap) {
				rc = -1;
				goto out;
			}
			buf[o++] = '\\';
			buf[o++] = 'u';
			buf[o++] = '0';
			buf[o++] = '0';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			PUT((char)c);
	}
	PUT('"');
#undef PUT
out:
	buf[o < cap ? o : cap - 1] = '\0';
	*off = o;
	return rc;
}

int json_put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off) {
		*off = cap - 1;
		return -1;
	}
	*off += (size_t)n;
	return 0;
}
