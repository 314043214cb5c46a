// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A bounded walk over JSON text to pick single members (see jsonscan.h).
 */
#include <stdlib.h>
#include <string.h>

#include "runner/util/jsonscan.h"

#define DEPTH_MAX 32

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Index just past the string starting at s[i] == '"', or 0 if malformed. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Index just past the value starting at s[i], or 0 if malformed. */
static size_t skip_value(const char *s, size_t len, size_t i, int depth)
{
	if (i >= len || depth > DEPTH_MAX)
		return 0;
	if (s[i] == '"')
		return skip_string(s, len, i);
	if (s[i] == '{' || s[i] == '[') {
		char close = s[i] == '{' ? '}' : ']';
		bool obj = s[i] == '{';

		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == close)
			return i + 1;
		for (;;) {
			if (obj) {
				if (i >= len || s[i] != '"' || !(i = skip_string(s, len, i)))
					return 0;
				i = skip_ws(s, len, i);
				if (i >= len || s[i] != ':')
					return 0;
				i = skip_ws(s, len, i + 1);
			}
			if (!(i = skip_value(s, len, i, depth + 1)))
				return 0;
			i = skip_ws(s, len, i);
			if (i >= len)
				return 0;
			if (s[i] == close)
				return i + 1;
			if (s[i] != ',')
				return 0;
			i = skip_ws(s, len, i + 1);
		}
	}
	/* number, true, false, null */
	{
		size_t st = i;

		while (i < len && !strchr(",}] \t\r\n", s[i]))
			i++;
		return i > st ? i : 0;
	}
}

static int find_member(const char *s, size_t len, const char *key, size_t klen,
		       const char **val, size_t *vlen)
{
	size_t i = skip_ws(s, len, 0);

	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return -1;
	for (;;) {
		size_t ks, ke, vs, ve;

		if (i >= len || s[i] != '"')
			return -1;
		ks = i + 1;
		if (!(ke = skip_string(s, len, i)))
			return -1;
		i = skip_ws(s, len, ke);
		if (i >= len || s[i] != ':')
			return -1;
		vs = skip_ws(s, len, i + 1);
		if (!(ve = skip_value(s, len, vs, 0)))
			return -1;
		if (ke - 1 - ks == klen && !memcmp(s + ks, key, klen)) {
			*val = s + vs;
			*vlen = ve - vs;
			return 0;
		}
		i = skip_ws(s, len, ve);
		if (i >= len || s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
}

int json_find(const char *js, size_t len, const char *path, const char **val, size_t *vlen)
{
	const char *cur = js;
	size_t clen = len;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t klen = dot ? (size_t)(dot - path) : strlen(path);

		if (find_member(cur, clen, path, klen, val, vlen) < 0)
			return -1;
		if (!dot)
			return 0;
		cur = *val;
		clen = *vlen;
		path = dot + 1;
	}
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

int json_str(const char *js, size_t len, const char *path, char *buf, size_t cap)
{
	const char *v;
	size_t vl, o = 0;

	if (cap)
		buf[0] = '\0';
	if (json_find(js, len, path, &v, &vl) < 0 || vl < 2 || v[0] != '"')
		return -1;
	for (size_t i = 1; i + 1 < vl && o + 1 < cap; i++) {
		char c = v[i];

		if (c == '\\' && i + 2 < vl) {
			c = v[++i];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (i + 4 < vl) {
					int h[4];
					unsigned u = 0;

					for (int k = 0; k < 4; k++) {
						h[k] = hexval(v[i + 1 + k]);
						u = u * 16 + (unsigned)(h[k] < 0 ? 0 : h[k]);
					}
					i += 4;
					c = u < 0x80 && u >= 0x20 ? (char)u : '?';
				}
				break;
			default: break;         /* \" \\ \/ */
			}
		}
		buf[o++] = c;
	}
	if (cap)
		buf[o] = '\0';
	return 0;
}

int json_int(const char *js, size_t len, const char *path, int64_t *out)
{
	const char *v;
	size_t vl;
	char tmp[32], *end;

	if (json_find(js, len, path, &v, &vl) < 0 || vl == 0 || vl >= sizeof(tmp))
		return -1;
	if (!(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
		return -1;
	memcpy(tmp, v, vl);
	tmp[vl] = '\0';
	*out = strtoll(tmp, &end, 10);
	return (*end == '\0' || *end == '.' || *end == 'e' || *end == 'E') ? 0 : -1;
}

int json_bool(const char *js, size_t len, const char *path, bool *out)
{
	const char *v;
	size_t vl;

	if (json_find(js, len, path, &v, &vl) < 0)
		return -1;
	if (vl == 4 && !memcmp(v, "true", 4))
		*out = true;
	else if (vl == 5 && !memcmp(v, "false", 5))
		*out = false;
	else
		return -1;
	return 0;
}
