// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Text helpers for the report writers (see textutil.h). One UTF-8 decoder
 * (common/utf8.h) decides for every output format what is a character and
 * what is garbage, so XML, JSON and the terminal agree on where a broken
 * byte was.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/util/textutil.h"

#include "common/duration.h"
#include "common/log.h"
#include "common/utf8.h"

void tu_xml_puts(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	uint32_t cp;
	size_t n;

	while (*s) {
		n = utf8_next(s, &cp);
		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\t': fputs("&#9;", f); break;
		case '\n': fputs("&#10;", f); break;
		case '\r': fputs("&#13;", f); break;
		default:
			if (cp == UTF8_BAD || cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
				fputs("\xEF\xBF\xBD", f);       /* U+FFFD */
			else
				fwrite(s, 1, n, f);
		}
		s += n;
	}
}

char *tu_term_clean(const char *str, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t o = 0, n;
	uint32_t cp;

	if (!len)
		return buf;
	while (*s) {
		n = utf8_next(s, &cp);
		if (cp == UTF8_BAD || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			/* escaped as C would write it, so a program's "\r" is
			 * seen for what it is: \r, \n, \t, else \xHH per byte */
			char esc[8];
			size_t el;

			if (*s == '\r' || *s == '\n' || *s == '\t')
				el = (size_t)snprintf(esc, sizeof(esc), "\\%c", *s == '\r' ? 'r' : *s == '\n' ? 'n' : 't');
			else
				el = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *s);
			n = 1;                  /* a bad sequence: one byte at a time */
			if (o + el >= len)
				break;
			memcpy(buf + o, esc, el);
			o += el;
		} else {
			if (o + n >= len)
				break;
			memcpy(buf + o, s, n);
			o += n;
		}
		s += n;
	}
	buf[o] = '\0';
	return buf;
}

size_t tu_width(const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t w = 0;
	uint32_t cp;

	while (*s) {
		s += utf8_next(s, &cp);
		w++;
	}
	return w;
}

char *tu_truncate(const char *str, size_t cols, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t o = 0, w = 0, n, keep = cols > 3 ? cols - 3 : 0, cut = 0;
	uint32_t cp;
	bool cutting = tu_width(str) > cols;

	if (!len)
		return buf;
	while (*s) {
		n = utf8_next(s, &cp);
		if (o + n >= len || (cutting && w >= keep)) {
			cutting = true;
			break;
		}
		memcpy(buf + o, s, n);
		o += n;
		w++;
		s += n;
		cut = o;
	}
	o = cut;
	if (cutting && *s) {
		while (o + 3 >= len && o > 0)
			o--;        /* room for the dots; only in a tiny buf */
		while (o > 0 && ((unsigned char)buf[o] & 0xC0) == 0x80)
			o--;
		if (o + 3 < len) {
			memcpy(buf + o, "...", 3);
			o += 3;
		}
	}
	buf[o] = '\0';
	return buf;
}

void tu_pad(FILE *f, const char *s, size_t width)
{
	size_t w = tu_width(s);

	fputs(s ? s : "", f);
	for (; w < width; w++)
		fputc(' ', f);
}

/* A progress line's clock: to the tenth of a second, to the second from
 * 10 s on (a ticking clock needs no more). */
static char *prog_dur(uint64_t ms, char *buf, size_t len)
{
	return duration_format(ms >= 10000 ? (ms + 500) / 1000 * 1000 : ms / 100 * 100, buf, len);
}

int tu_progress(char *buf, size_t len, const char *name, uint64_t elapsed_ms, uint64_t total_ms,
		bool about, unsigned ended, unsigned flows, unsigned expired)
{
	char a[32], b[32];

	/* an estimate can be short: never "441s of 430s" */
	if (elapsed_ms > total_ms)
		return snprintf(buf, len, "%s: %s (past the %s estimate%s), %u/%u flows ended, %u expired",
				name, prog_dur(elapsed_ms, a, sizeof(a)), prog_dur(total_ms, b, sizeof(b)),
				about ? ", scenario time" : "", ended, flows, expired);
	return snprintf(buf, len, "%s: %s of %s%s%s, %u/%u flows ended, %u expired", name,
			prog_dur(elapsed_ms, a, sizeof(a)), about ? "about " : "",
			prog_dur(total_ms, b, sizeof(b)), about ? " (scenario time)" : "", ended, flows,
			expired);
}

int tu_progress_run(char *buf, size_t len, const char *name, uint64_t scen_ms, uint64_t scen_total_ms,
		    uint64_t wall_ms, uint64_t wall_total_ms, unsigned ended, unsigned flows,
		    unsigned expired)
{
	char a[32], b[32], c[32], d[32];

	prog_dur(scen_ms, a, sizeof(a));
	prog_dur(scen_total_ms, b, sizeof(b));
	prog_dur(wall_ms, c, sizeof(c));
	prog_dur(wall_total_ms, d, sizeof(d));
	if (scen_ms > scen_total_ms || wall_ms > wall_total_ms)
		return snprintf(buf, len, "%s: scenario time %s, wall clock %s (past the estimate of %s), "
				"%u/%u flows ended, %u expired", name, a, c, d, ended, flows, expired);
	return snprintf(buf, len, "%s: scenario time %s of %s, wall clock %s of about %s, "
			"%u/%u flows ended, %u expired", name, a, b, c, d, ended, flows, expired);
}

const char *tu_basename(const char *path)
{
	const char *p;

	if (!path)
		return "";
	p = strrchr(path, '/');
	return p ? p + 1 : path;
}

/* Open path for writing in place (tmp becomes ""): standard output for
 * "-", else the file itself without truncating what cannot be truncated. */
static FILE *open_through(const char *path, char *tmp)
{
	int fd;
	FILE *f;

	tmp[0] = '\0';
	if (!strcmp(path, "-"))
		fd = dup(STDOUT_FILENO);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0)
		return NULL;
	if (strcmp(path, "-")) {
		struct stat st;

		/* a regular file behind a symlink we could not resolve */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return NULL;
		}
	}
	f = fdopen(fd, "w");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

bool tu_path_trusted(const char *path)
{
	char dir[PATH_MAX];
	struct stat ln, d;
	const char *slash = strrchr(path, '/');

	if (lstat(path, &ln) < 0 || (!S_ISLNK(ln.st_mode) && !S_ISFIFO(ln.st_mode)))
		return true;
	if (ln.st_uid == geteuid())
		return true;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &d) < 0)
		return false;
	/* fs.protected_symlinks / protected_fifos, whatever the sysctls say */
	return !((d.st_mode & S_ISVTX) && (d.st_mode & S_IWOTH)) || ln.st_uid == d.st_uid;
}

FILE *tu_atomic_open(const char *path, char *tmp, size_t len)
{
	char real[PATH_MAX];
	struct stat st;
	mode_t mask;
	FILE *f;
	int fd, n;

	if (len < 1) {
		errno = EINVAL;
		return NULL;
	}
	if (!strcmp(path, "-"))
		return open_through(path, tmp);
	if (!tu_path_trusted(path)) {
		errno = EPERM;          /* someone else's link or FIFO in a shared /tmp */
		return NULL;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO, device or socket is written to; a symlink to a
		 * regular file keeps being a symlink: its target is replaced */
		if (!S_ISLNK(st.st_mode) || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    !realpath(path, real))
			return open_through(path, tmp);
		path = real;
	}
	n = snprintf(tmp, len, "%s.tmp-XXXXXX", path);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	/* mkstemp makes 0600; a report is an ordinary file */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || !(f = fdopen(fd, "w"))) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return NULL;
	}
	return f;
}

int tu_atomic_commit(FILE *f, const char *tmp, const char *path, int ok)
{
	int saved = errno, e = 0;
	char real[PATH_MAX];
	struct stat st;

	if (!ok)
		e = saved ? saved : EIO;
	if ((fflush(f) != 0 || ferror(f)) && !e)
		e = errno ? errno : EIO;
	if (!tmp[0]) {                  /* written through: nothing to rename */
		if (fclose(f) != 0 && !e)
			e = errno ? errno : EIO;
		if (e) {
			errno = e;
			return -1;
		}
		return 0;
	}
	if (!e && fsync(fileno(f)) < 0 && errno != EINVAL)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno ? errno : EIO;
	/* the temporary file sits next to a symlink's target (see open) */
	if (!e && !tu_path_trusted(path))
		e = EPERM;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real))
		path = real;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int tu_mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n = strlen(dir);
	char *p;

	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, dir, n + 1);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0777) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

void tu_text_printf(struct tu_text *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatalx("formatting text");
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			fatal("out of memory");
	}
}

void tu_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

bool tu_ended_read(const char *path, long *off, bool (*fn)(void *ctx, const char *flow, const char *outcome),
		   void *ctx)
{
	char line[128], flow[64], out[32];
	bool enough = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (fseek(f, *off, SEEK_SET) == 0)
		while (!enough && fgets(line, sizeof(line), f) && strchr(line, '\n')) {
			*off += (long)strlen(line);
			if (sscanf(line, "%63s %31s", flow, out) == 2)
				enough = fn(ctx, flow, out);
		}
	fclose(f);
	return enough;
}
