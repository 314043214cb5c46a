// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A line-counting reader for inih that reports what inih would silently get
 * wrong; see iniread.h and NOTES.md.
 */
#include "common/iniread.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDENT_HINT "inih reads a line that starts with whitespace as a continuation " \
	"of the previous value, so an indented key silently becomes part of the key above it"

void ini_diags_init(struct ini_diags *dg, const char *file)
{
	memset(dg, 0, sizeof(*dg));
	snprintf(dg->file, sizeof(dg->file), "%s", file ? file : "(input)");
}

void ini_diag_add(struct ini_diags *dg, int line, const char *hint, const char *fmt, ...)
{
	struct ini_diag *d;
	va_list ap;

	if (dg->n >= INIREAD_MAX_DIAGS) {
		dg->dropped++;
		return;
	}
	d = &dg->d[dg->n++];
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	snprintf(d->hint, sizeof(d->hint), "%s", hint ? hint : "");
}

char *ini_diag_format(const struct ini_diags *dg, size_t i, char *buf, size_t len)
{
	if (i >= dg->n) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (dg->d[i].line > 0)
		snprintf(buf, len, "%s:%d: %s", dg->file, dg->d[i].line, dg->d[i].msg);
	else
		snprintf(buf, len, "%s: %s", dg->file, dg->d[i].msg);
	return buf;
}

/* inih's find_chars_or_comment(): the first of chars, or a ';' that follows
 * whitespace (an inline comment), or the end. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * The next line of the buffer into tmp (INIREAD_MAX_LONG_LINE + 1 bytes), without
 * a UTF-8 BOM on line 1, its line end and trailing whitespace. Returns its
 * length, or -1 at the end of the buffer, or -2 for a line that cannot be
 * handed to inih (reported).
 */
static ssize_t next_line(struct iniread *r, char *tmp, int num)
{
	const char *line, *nl;
	size_t n;

	if (r->pos >= r->len)
		return -1;
	line = r->buf + r->pos;
	nl = memchr(line, '\n', r->len - r->pos);
	n = nl ? (size_t)(nl - line) : r->len - r->pos;
	r->pos += n + (nl ? 1 : 0);
	r->lineno++;
	if (r->lineno == 1 && n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
		line += 3;
		n -= 3;
	}
	if (n && line[n - 1] == '\r')
		n--;
	if (memchr(line, '\0', n)) {
		ini_diag_add(r->diags, r->lineno, NULL, "line contains a NUL byte");
		return -2;
	}
	if (n > INIREAD_MAX_LONG_LINE) {
		ini_diag_add(r->diags, r->lineno,
			     "shorten it, e.g. move a long command into a script beside the scenario",
			     "line is %zu characters long; the limit is %d", n, INIREAD_MAX_LONG_LINE);
		return -2;
	}
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	/* trailing whitespace is never significant */
	while (n && isspace((unsigned char)tmp[n - 1]))
		tmp[--n] = '\0';
	return (ssize_t)n;
}

/* A [section] header at s (indented: it was); what inih gets into str. */
static char *section_line(struct iniread *r, const char *s, bool indented, char *str, int num)
{
	const char *e = find_chars_or_comment(s + 1, "]");

	if (*e != ']') {
		ini_diag_add(r->diags, r->lineno, "a section header looks like [flow NAME]",
			     "section header without a closing ']'");
		goto bad;
	}
	if ((size_t)(e - s - 1) > INIREAD_MAX_SECTION) {
		ini_diag_add(r->diags, r->lineno, NULL, "section header is %zu characters long; the limit is %d",
			     (size_t)(e - s - 1), INIREAD_MAX_SECTION);
		goto bad;
	}
	for (e++; isspace((unsigned char)*e); e++)
		;
	if (*e && *e != ';' && *e != '#') {
		ini_diag_add(r->diags, r->lineno, NULL, "unexpected text '%s' after ']'", e);
		goto bad;
	}
	if (indented)
		ini_diag_add(r->diags, r->lineno, INDENT_HINT,
			     "indented section header (remove the leading whitespace)");
	if (strlen(s) > (size_t)num - 1) {
		ini_diag_add(r->diags, r->lineno, NULL, "section header line is %zu characters long",
			     strlen(s));
		goto bad;
	}
	r->prev_key[0] = '\0';
	snprintf(str, (size_t)num, "%s", s);
	snprintf(r->section, sizeof(r->section), "%.*s", (int)(strchr(s, ']') - s - 1), s + 1);
	if (r->on_section) {
		char name[INIREAD_MAX_SECTION + 1];
		size_t l = (size_t)(strchr(s, ']') - s - 1);

		memcpy(name, s + 1, l);
		name[l] = '\0';
		r->on_section(r->user, name, r->lineno);
	}
	return str;
bad:
	r->prev_key[0] = '\0';
	snprintf(r->section, sizeof(r->section), "%s", INIREAD_BAD_SECTION);
	if (r->on_section)
		r->on_section(r->user, NULL, r->lineno);
	snprintf(str, (size_t)num, "[%s]", INIREAD_BAD_SECTION);
	return str;
}

/*
 * A 'key = value' line too long for inih's buffer (a long command), its
 * '=' or ':' at e: split as inih would (key up to e, an inline comment cut,
 * both trimmed) and handed to the handler here, in file order; inih gets a
 * blank line. s is writable (the reader's line buffer).
 */
static char *long_key_line(struct iniread *r, const char *s, const char *e, char *str)
{
	char *key = (char *)s, *value = (char *)e + 1, *end;
	size_t kl = (size_t)(e - s);

	while (kl && isspace((unsigned char)key[kl - 1]))
		kl--;
	key[kl] = '\0';
	end = (char *)find_chars_or_comment(value, NULL);
	*end = '\0';
	while (isspace((unsigned char)*value))
		value++;
	for (end = value + strlen(value); end > value && isspace((unsigned char)end[-1]);)
		*--end = '\0';
	if (r->handler)
		r->handler(r->user, r->section, key, value);
	return str;
}

/* A 'key = value' line at s; what inih gets into str. */
static char *key_line(struct iniread *r, const char *s, bool indented, char *str, int num)
{
	const char *e = find_chars_or_comment(s, "=:");
	char key[64];
	size_t kl;

	if (*e != '=' && *e != ':') {
		ini_diag_add(r->diags, r->lineno,
			     "every line is a [section] header, a 'key = value' pair, a comment (; or #) or blank",
			     "expected 'key = value', found '%s'", s);
		return str;
	}
	kl = (size_t)(e - s);
	while (kl && isspace((unsigned char)s[kl - 1]))
		kl--;
	if (!kl) {
		ini_diag_add(r->diags, r->lineno, NULL, "missing key before '%c'", *e);
		return str;
	}
	if (kl >= sizeof(key))
		kl = sizeof(key) - 1;
	memcpy(key, s, kl);
	key[kl] = '\0';
	if (indented && r->prev_key[0])
		ini_diag_add(r->diags, r->lineno, INDENT_HINT,
			     "indented key '%s' would be read as more of the value of '%s' "
			     "(remove the leading whitespace)", key, r->prev_key);
	else if (indented)
		ini_diag_add(r->diags, r->lineno, INDENT_HINT,
			     "indented key '%s' (remove the leading whitespace)", key);
	snprintf(r->prev_key, sizeof(r->prev_key), "%s", key);
	if (strlen(s) > (size_t)num - 1)
		return long_key_line(r, s, e, str);
	/* Hand inih the line without its indentation, so it is parsed as the
	 * key it looks like and the rest of the file is still checked. */
	snprintf(str, (size_t)num, "%s", s);
	return str;
}

/* inih's reader: one line at a time, checked here so that every problem
 * gets file:line (Debian's inih has no line numbers, see NOTES.md). */
static char *reader(char *str, int num, void *stream)
{
	struct iniread *r = stream;
	char tmp[INIREAD_MAX_LONG_LINE + 1];
	const char *s;
	ssize_t n = next_line(r, tmp, num);

	if (n == -1)
		return NULL;
	str[0] = '\0';
	if (n < 0)
		return str;
	for (s = tmp; isspace((unsigned char)*s); s++)
		;
	if (!*s || *s == ';' || *s == '#')
		return str;             /* blank or comment: inih needs nothing */
	if (*s == '[')
		return section_line(r, s, s > tmp, str, num);
	return key_line(r, s, s > tmp, str, num);
}

size_t iniread_parse(struct iniread *r, const char *buf, size_t len,
		     ini_handler handler,
		     void (*on_section)(void *user, const char *section, int line),
		     void *user, struct ini_diags *diags)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->on_section = on_section;
	r->handler = handler;
	r->user = user;
	r->buf = buf;
	r->len = len;
	r->diags = diags;
	rc = ini_parse_stream(reader, r, handler, user);
	/* The reader turned every line inih could reject into a blank one,
	 * and handlers report their own problems, so inih's own error
	 * line is only news if nothing was reported. */
	if (rc > 0 && !diags->n)
		ini_diag_add(diags, rc, NULL, "syntax error");
	else if (rc < 0 && !diags->n)
		ini_diag_add(diags, 0, NULL, "could not be parsed (inih error %d)", rc);
	return diags->n + diags->dropped;
}

char *iniread_slurp(const char *path, size_t maxlen, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > maxlen) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc(maxlen + 1);
	if (!buf)
		goto fail;
	for (;;) {
		ssize_t k = read(fd, buf + len, maxlen + 1 - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > maxlen) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* Optimal string alignment distance (a swap of neighbours counts 1). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][65];
	size_t *pp = d[0], *p = d[1], *c = d[2];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		c[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		size_t *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

const char *ini_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, len = strlen(word);
	size_t limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;

	for (size_t i = 0; i < n; i++) {
		size_t d;
		if (!cands[i])
			continue;
		d = edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit && bestd < len ? best : NULL;
}
