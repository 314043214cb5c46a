/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small text helpers shared by the report writers: escaping for XML and
 * terminals (JSON goes through common/jsonio.h), progress lines for
 * people, display widths, files written whole or not at all, and the
 * formatted reason a library-like function leaves in its caller's err
 * buffer. Names, descriptions and evidence come from scenario files and
 * probe output, so every writer must assume they hold quotes, markup,
 * control characters and broken UTF-8.
 */
#ifndef IDLEGATE_TEXTUTIL_H
#define IDLEGATE_TEXTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * May root write at path? Not through a symlink or FIFO that another user
 * put in a sticky, world-writable directory (a shared /tmp) — the rule of
 * fs.protected_symlinks and protected_fifos, applied whatever those sysctls
 * say. Anything else (a regular file, no file, our own link) is trusted.
 */
bool tu_path_trusted(const char *path);

/* printf into err (len bytes, NUL-terminated); nothing when err is NULL or
 * len is 0. The second error layer's one way to say why. */
void tu_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Write s (NULL = "") as XML character data usable both in element content
 * and inside a double- or single-quoted attribute value: & < > " ' escaped,
 * tab/newline/CR as character references (so attribute values keep them),
 * characters XML 1.0 forbids (other C0 controls, U+FFFE/U+FFFF) and bytes
 * that are not valid UTF-8 replaced by U+FFFD. Errors show in ferror(f).
 */
void tu_xml_puts(FILE *f, const char *s);

/*
 * Copy s into buf (always NUL-terminated; len > 0) so it is safe to print
 * on a terminal: control characters (C0, DEL, C1) and invalid UTF-8 are
 * written as C escapes (\r, \n, \t, else \xHH per byte), so no escape
 * sequence can come from the data and a program's \r is seen as such.
 * Valid UTF-8 is kept and never cut in the middle of a character (nor an
 * escape). Returns buf.
 */
char *tu_term_clean(const char *s, char *buf, size_t len);

/* Columns s takes on a terminal: code points of valid UTF-8 (a byte for
 * each invalid byte). Wide characters count as one. */
size_t tu_width(const char *s);

/*
 * Copy s into buf (len > 0, always NUL-terminated) keeping at most cols
 * columns; a string cut short ends in "..." within those columns. Never
 * cuts a UTF-8 character. Returns buf.
 */
char *tu_truncate(const char *s, size_t cols, char *buf, size_t len);

/* Write s then spaces up to width columns (nothing extra if it is wider). */
void tu_pad(FILE *f, const char *s, size_t width);

/*
 * One job's part of a progress line, into buf (always NUL-terminated):
 * "NAME: 1.5s of 10s, 3/12 flows ended, 1 expired"; with about, the
 * total reads "of about 10s (scenario time)". Durations are written by
 * duration_format(), to the second from 10 s on; past an estimate the line says so instead of
 * "441s of 430s". The same words for the sweeps of tune and discover.
 * Returns what snprintf() returns.
 */
int tu_progress(char *buf, size_t len, const char *name, uint64_t elapsed_ms, uint64_t total_ms,
		bool about, unsigned ended, unsigned flows, unsigned expired);

/*
 * `idlegate run`'s progress of one scenario, both clocks labelled:
 * "NAME: scenario time 90s of 450s, wall clock 4.4s of about 23s, 1/2
 * flows ended, 0 expired" (or "... (past the estimate of 23s)"). Returns
 * what snprintf() returns.
 */
int tu_progress_run(char *buf, size_t len, const char *name, uint64_t scen_ms, uint64_t scen_total_ms,
		    uint64_t wall_ms, uint64_t wall_total_ms, unsigned ended, unsigned flows,
		    unsigned expired);

/* The last path component of path (a pointer into it). */
const char *tu_basename(const char *path);

/*
 * Files written whole or not at all. tu_atomic_open() creates a temporary
 * file next to path (mode 0666 less the umask) and returns it for writing;
 * tmp (at least len bytes, PATH_MAX is enough) receives its name.
 * tu_atomic_commit() flushes, syncs and closes f and renames tmp to path;
 * if ok is 0 or anything failed (including an earlier write error on f), it
 * removes tmp instead. Both return 0, or -1 with errno set (an earlier
 * write error is reported as EIO unless errno says more).
 *
 * Not every path is a regular file to replace: "-" is standard output, and
 * a FIFO, device or socket is written through (tmp becomes ""); a symlink
 * to a regular file stays a symlink, its target is replaced whole.
 */
/*
 * The new lines of an idlegate-probe --ended-file ("FLOW OUTCOME"), from
 * byte *off on: each complete line to fn(ctx, flow, outcome), *off moved
 * past it. Returns true as soon as fn does (the rest stays unread), false
 * when the lines ran out (or the file cannot be read yet).
 */
bool tu_ended_read(const char *path, long *off, bool (*fn)(void *ctx, const char *flow, const char *outcome),
		   void *ctx);

FILE *tu_atomic_open(const char *path, char *tmp, size_t len);
int tu_atomic_commit(FILE *f, const char *tmp, const char *path, int ok);

/* A growing string (e.g. a scenario built in memory). Zero-initialise;
 * free s when done. */
struct tu_text {
	char *s;
	size_t len, cap;
};
/* Append printf-style; exits with fatal() when out of memory, as the
 * front ends that use it do. */
void tu_text_printf(struct tu_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mkdir -p: create dir and missing parents (mode 0777 less umask).
 * 0, or -1 with errno. An existing directory is fine. */
int tu_mkdir_p(const char *dir);

#endif
