// SPDX-License-Identifier: GPL-2.0-or-later
/* The project's JSON policy on top of jansson; see jsonio.h. */
#include "common/jsonio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

json_t *jsonio_str(const char *s)
{
	json_t *v;
	char *clean;

	if (!s)
		return json_null();
	if (utf8_valid(s, strlen(s)))
		return json_string(s);
	/* Text from a program's output: repair rather than refuse (jsonio.h). */
	clean = utf8_clean(s);
	if (!clean)
		return NULL;
	v = json_string(clean);
	free(clean);
	return v;
}

json_t *jsonio_str_or_null(const char *s)
{
	return jsonio_str(s && s[0] ? s : NULL);
}

json_t *jsonio_load(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v;

	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (err && errlen)
			snprintf(err, errlen, "invalid JSON at byte %d: %s", je.position, je.text);
		errno = EINVAL;
		return NULL;
	}
	if (!json_is_object(v)) {
		if (err && errlen)
			snprintf(err, errlen, "not a JSON object");
		json_decref(v);
		errno = EINVAL;
		return NULL;
	}
	return v;
}

int jsonio_dumpb(const json_t *v, size_t flags, char *buf, size_t cap)
{
	size_t n;

	if (!v || !cap) {
		errno = EINVAL;
		return -1;
	}
	n = json_dumpb(v, buf, cap, flags | JSON_COMPACT | JSON_ENCODE_ANY);
	if (n == 0 || n >= cap || n > INT32_MAX) {
		buf[0] = '\0';
		errno = n == 0 ? EINVAL : ENOSPC;
		return -1;
	}
	buf[n] = '\0';
	return (int)n;
}

void jsonio_fputs(FILE *f, const char *s)
{
	json_t *v = jsonio_str(s);

	/* out of memory: null keeps the document valid */
	if (!v || json_dumpf(v, f, JSON_ENCODE_ANY) < 0)
		fputs("null", f);
	json_decref(v);
}

json_t *jsonio_get(const json_t *obj, const char *path)
{
	json_t *cur = (json_t *)obj;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t klen = dot ? (size_t)(dot - path) : strlen(path);

		if (!json_is_object(cur))
			return NULL;
		cur = json_object_getn(cur, path, klen);
		if (!cur || !dot)
			return cur;
		path = dot + 1;
	}
}

int jsonio_get_str(const json_t *obj, const char *path, char *buf, size_t cap)
{
	json_t *v = jsonio_get(obj, path);
	const char *s;
	size_t n;

	if (cap)
		buf[0] = '\0';
	if (!json_is_string(v))
		return -1;
	if (!cap)
		return 0;
	s = json_string_value(v);
	n = strlen(s);
	if (n >= cap) {
		n = cap - 1;
		/* back off to the start of a character */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int jsonio_get_int(const json_t *obj, const char *path, int64_t *out)
{
	json_t *v = jsonio_get(obj, path);

	if (json_is_integer(v))
		*out = (int64_t)json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > -9.2e18 && json_real_value(v) < 9.2e18)
		*out = (int64_t)json_real_value(v);
	else
		return -1;
	return 0;
}

int jsonio_get_bool(const json_t *obj, const char *path, bool *out)
{
	json_t *v = jsonio_get(obj, path);

	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}
