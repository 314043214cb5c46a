// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Removing private directories without following links: a tree with
 * symlinks to outside files and directories loses only the links; a
 * directory of the wrong mode, a symlink in place of the top, and names with
 * slashes are refused with nothing touched.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/safefs.h"

static char base[64];

static void setup(void)
{
	strcpy(base, "/tmp/test_safefs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", base, base);
	(void)!system(cmd);
}

static void mk(const char *fmt, const char *a, int dir)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), fmt, base, a);
	if (dir) {
		ck_assert_int_eq(mkdir(p, 0700), 0);
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

static int exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return lstat(p, &st) == 0;
}

static void link_to(const char *target, const char *rel)
{
	char t[512], p[512];

	snprintf(t, sizeof(t), "%s/%s", base, target);
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	ck_assert_int_eq(symlink(t, p), 0);
}

START_TEST(test_links_are_not_followed)
{
	char top[512];

	mk("%s/%s", "victim", 1);
	mk("%s/%s", "victim/keep1", 0);
	mk("%s/%s", "victim/sub", 1);
	mk("%s/%s", "victim/sub/keep2", 0);
	mk("%s/%s", "run", 1);
	mk("%s/%s", "run/a", 1);
	mk("%s/%s", "run/a/b", 1);
	mk("%s/%s", "run/a/b/f", 0);
	mk("%s/%s", "run/file", 0);
	link_to("victim", "run/dirlink");
	link_to("victim/keep1", "run/a/filelink");
	link_to("victim/sub", "run/a/b/deeplink");
	ck_assert_int_eq(mkfifo(strcat(strcpy(top, base), "/run/fifo"), 0600), 0);

	snprintf(top, sizeof(top), "%s/run", base);
	ck_assert_int_eq(safefs_remove_private_path(top, geteuid()), 0);
	ck_assert(!exists("run"));
	ck_assert(exists("victim/keep1"));
	ck_assert(exists("victim/sub/keep2"));
}
END_TEST

START_TEST(test_refuses_what_is_not_private)
{
	char p[512];
	int bfd = open(base, O_RDONLY | O_DIRECTORY);
	struct stat st;

	ck_assert_int_ge(bfd, 0);
	mk("%s/%s", "open", 1);
	mk("%s/%s", "open/f", 0);
	snprintf(p, sizeof(p), "%s/open", base);
	ck_assert_int_eq(chmod(p, 0755), 0);
	errno = 0;
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "open", geteuid()), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert(exists("open/f"));
	ck_assert_int_eq(safefs_open_private_dir(bfd, "open", geteuid(), &st), -1);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);

	/* another owner */
	ck_assert_int_eq(chmod(p, 0700), 0);
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "open", geteuid() + 1), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert(exists("open/f"));

	/* a symlink to a private directory is not one */
	mk("%s/%s", "real", 1);
	mk("%s/%s", "real/f", 0);
	link_to("real", "fake");
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "fake", geteuid()), -1);
	ck_assert(errno == ELOOP || errno == ENOTDIR);
	ck_assert(exists("real/f"));
	ck_assert(exists("fake"));

	/* a file is not a directory */
	mk("%s/%s", "plain", 0);
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "plain", geteuid()), -1);
	ck_assert_int_eq(errno, ENOTDIR);

	/* names that leave the directory */
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "real/..", geteuid()), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "..", geteuid()), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(safefs_remove_private_dir(bfd, "", geteuid()), -1);
	ck_assert(exists("real/f"));
	close(bfd);
}
END_TEST

START_TEST(test_deep_and_wide)
{
	char p[4096];
	size_t n;

	/* wider than one readdir buffer, and deeper than the limit */
	mk("%s/%s", "run", 1);
	for (int i = 0; i < 2000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "run/f%04d", i);
		mk("%s/%s", name, 0);
	}
	ck_assert_int_eq(safefs_remove_private_path(strcat(strcpy(p, base), "/run"), geteuid()), 0);
	ck_assert(!exists("run"));

	mk("%s/%s", "deep", 1);
	n = (size_t)snprintf(p, sizeof(p), "%s/deep", base);
	for (int i = 0; i < 80 && n + 3 < sizeof(p); i++) {
		n += (size_t)snprintf(p + n, sizeof(p) - n, "/d");
		ck_assert_int_eq(mkdir(p, 0700), 0);
	}
	snprintf(p, sizeof(p), "%s/deep", base);
	ck_assert_int_eq(safefs_remove_private_path(p, geteuid()), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert(exists("deep"));
}
END_TEST

static Suite *safefs_suite(void)
{
	Suite *s = suite_create("safefs");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_links_are_not_followed);
	tcase_add_test(tc, test_refuses_what_is_not_private);
	tcase_add_test(tc, test_deep_and_wide);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(safefs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
