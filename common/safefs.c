// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Symlink- and race-safe removal of idlegate's private directories (see
 * safefs.h). The walk is the one coreutils' rm does with fts in its safe
 * mode, written directly with openat/unlinkat.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/safefs.h"

/* Deeper trees than this are not something idlegate makes; refusing them
 * bounds the descriptors a walk holds. */
#define SAFEFS_MAX_DEPTH 64

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int safefs_open_private_dir(int dirfd, const char *name, uid_t uid, struct stat *out)
{
	struct stat st;
	int fd = openat(dirfd, name, DIR_FLAGS);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (out)
		*out = st;
	if (st.st_uid != uid || ((st.st_mode & 07777) != 0700 && (st.st_mode & 07777) != 0711)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static int first_error(int *err, int e)
{
	if (!*err)
		*err = e;
	return -1;
}

static int empty_dir(int fd, dev_t dev, int depth)
{
	int err = 0, dfd;
	struct dirent *e;
	DIR *d;

	if (depth > SAFEFS_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	while ((errno = 0, e = readdir(d))) {
		struct stat st, now;
		int cfd;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				first_error(&err, errno);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			/* files, symlinks, sockets, fifos: the name goes, never a target */
			if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT)
				first_error(&err, errno);
			continue;
		}
		if (st.st_dev != dev) {
			first_error(&err, EXDEV);       /* a mount point: never entered */
			continue;
		}
		cfd = openat(fd, e->d_name, DIR_FLAGS);
		if (cfd < 0) {
			first_error(&err, errno);       /* swapped for a link: ELOOP/ENOTDIR */
			continue;
		}
		if (fstat(cfd, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
			close(cfd);
			first_error(&err, EAGAIN);      /* replaced between the two looks */
			continue;
		}
		if (empty_dir(cfd, dev, depth + 1) < 0)
			first_error(&err, errno);
		close(cfd);
		if (unlinkat(fd, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			first_error(&err, errno);
	}
	if (errno)
		first_error(&err, errno);
	closedir(d);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int safefs_empty_dir(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return empty_dir(fd, st.st_dev, 0);
}

int safefs_remove_private_dir(int dirfd, const char *name, uid_t uid)
{
	int fd, rc, e;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		errno = EINVAL;
		return -1;
	}
	fd = safefs_open_private_dir(dirfd, name, uid, NULL);
	if (fd < 0)
		return -1;
	rc = safefs_empty_dir(fd);
	e = errno;
	close(fd);
	if (rc < 0) {
		errno = e;
		return -1;
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int safefs_remove_private_path(const char *path, uid_t uid)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int pfd, rc, e;

	if (!slash) {
		pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		size_t n = (size_t)(slash - path);

		if (n >= sizeof(parent)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(parent, path, n);
		parent[n] = '\0';
		pfd = open(n ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (pfd < 0)
		return -1;
	rc = safefs_remove_private_dir(pfd, base, uid);
	e = errno;
	close(pfd);
	errno = e;
	return rc;
}
