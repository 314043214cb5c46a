// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Copying a run's artefacts out of its private directory (artifacts.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "runner/util/artifacts.h"
#include "runner/util/textutil.h"

static int copy_file(int dfd, const char *name, const char *to, char *err, size_t errlen)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	in = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (in < 0) {
		tu_errf(err, errlen, "%s", name);
		return -1;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		tu_errf(err, errlen, "%s", to);
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			tu_errf(err, errlen, "%s", to);
			rc = -1;
			break;
		}
	if (n < 0 && !rc) {
		tu_errf(err, errlen, "%s", name);
		rc = -1;
	}
	if (fchmod(out, 0644) < 0 || close(out) < 0)
		rc = -1;
	close(in);
	return rc;
}

static int copy_dir(int dfd, const char *to, int depth, char *err, size_t errlen)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -1;
	}
	if (tu_mkdir_p(to) < 0 || chmod(to, 0755) < 0) {
		tu_errf(err, errlen, "%s", to);
		closedir(d);
		return -1;
	}
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;       /* gone meanwhile */
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", to, e->d_name) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			tu_errf(err, errlen, "%s/%s", to, e->d_name);
			rc = -1;
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			rc |= copy_file(dirfd(d), e->d_name, path, err, errlen);
		} else if (S_ISDIR(st.st_mode) && depth < 8) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				rc |= copy_dir(sub, path, depth + 1, err, errlen);
		}
	}
	closedir(d);
	return rc;
}

/*
 * The folder given with --artifacts: made if missing; if it exists it must be
 * this user's (or root's) and writable by nobody else, for what is created
 * inside it is followed by path and written as root.
 */
static int artifacts_top(const char *to, char *err, size_t errlen)
{
	char top[PATH_MAX];
	const char *slash = strrchr(to, '/');
	struct stat st;

	snprintf(top, sizeof(top), "%.*s", slash ? (int)(slash - to) : (int)strlen(to), to);
	if (!tu_path_trusted(top) || (stat(top, &st) == 0 &&
	    ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))))) {
		errno = EPERM;
		tu_errf(err, errlen, "%s: not a folder of this user's that only it may write", top);
		return -1;
	}
	return 0;
}

int artifacts_copy(const char *from, const char *to, char *err, size_t errlen)
{
	int dfd;

	if (artifacts_top(to, err, errlen) < 0)
		return -1;
	dfd = open(from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		tu_errf(err, errlen, "%s", from);
		return -1;
	}
	return copy_dir(dfd, to, 0, err, errlen);
}

int artifacts_dir(const char *dir, size_t i, const char *file, char *buf, size_t len)
{
	const char *b = tu_basename(file);
	size_t n = strlen(b);
	int w;

	if (n > 4 && !strcmp(b + n - 4, ".ini"))
		n -= 4;
	w = snprintf(buf, len, "%s/%zu-%.*s", dir, i + 1, (int)n, b);
	if (w < 0 || (size_t)w >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
