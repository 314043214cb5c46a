/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Removing files as root without being turned against root. Every walk is
 * relative to directory descriptors opened with O_NOFOLLOW|O_DIRECTORY, so a
 * directory swapped for a symlink mid-walk is never followed; a walk never
 * leaves the file system it started on; and a tree is removed only when its
 * top is a directory this uid owns with mode 0700 or 0711 (others may pass
 * through, never list or write), i.e. one idlegate made with mkdtemp() (a
 * world-writable /tmp lets anyone else make one of the same name, but not
 * one owned by root).
 *
 * Library-like: 0 / -1 with errno, nothing printed.
 */
#ifndef IDLEGATE_SAFEFS_H
#define IDLEGATE_SAFEFS_H

#include <sys/types.h>

/*
 * Open name inside dirfd (AT_FDCWD for the working directory) as a
 * directory, without following a symlink in its last component, and check
 * that it is owned by uid with permission bits exactly 0700 or 0711. Returns the
 * descriptor (O_CLOEXEC), or -1 with errno: ELOOP or ENOTDIR (a symlink or
 * not a directory), EPERM (another owner or other permissions; *st then
 * holds what was found, when st is not NULL).
 */
int safefs_open_private_dir(int dirfd, const char *name, uid_t uid, struct stat *st);

/*
 * Remove everything inside the directory open as fd (the descriptor stays
 * the caller's): files and symlinks are unlinked (a link's target is never
 * touched), subdirectories are entered through O_NOFOLLOW descriptors and
 * removed, and nothing on another file system (a mount point) is entered.
 * Continues past errors; returns 0, or -1 with the errno of the first one.
 */
int safefs_empty_dir(int fd);

/*
 * Remove the private directory name inside dirfd and everything in it:
 * safefs_open_private_dir(dirfd, name, uid), then safefs_empty_dir(), then
 * unlinkat(). 0, or -1 with errno (EPERM: not a private directory of uid,
 * so nothing was touched).
 */
int safefs_remove_private_dir(int dirfd, const char *name, uid_t uid);

/* The same for a path: its parent is opened as given (that part of the path
 * is the caller's own configuration, e.g. $TMPDIR), its last component
 * never followed. */
int safefs_remove_private_path(const char *path, uid_t uid);

#endif
