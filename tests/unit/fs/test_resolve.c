/* Path resolution escapes: a host tree serves as the guest root, next to a
 * "secret" file outside it and the host's real /etc/passwd. Whatever the
 * guest path (`..` chains, absolute and relative symlinks pointing out,
 * symlinks into and out of mounts, loops, chains that climb), what it opens
 * is inside the root or an error, never a host file outside. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"

struct fixture {
  char *top;  /* holds root/ and secret */
  char *root; /* the guest's "/" */
  struct fdtable fds;
  struct vfs *v;
};

#define INSIDE "inside-passwd\n"

static void build_tree(const char *top, const char *root) {
  fst_write(top, "secret", "SECRET\n");
  fst_mkdir(root, "etc");
  fst_write(root, "etc/passwd", INSIDE);
  fst_mkdir(root, "dir");
  fst_mkdir(root, "dir/sub");
  fst_write(root, "dir/sub/file", "deep\n");
  fst_symlink(root, "abs_passwd", "/etc/passwd");
  fst_symlink(root, "rel_escape", "../../../../../../etc/passwd");
  fst_symlink(root, "etc_link", "../../../../etc");
  fst_symlink(root, "abs_secret", "/secret");
  fst_symlink(root, "rel_secret", "../secret");
  fst_symlink(root, "loop1", "loop2");
  fst_symlink(root, "loop2", "loop1");
  fst_symlink(root, "self", "self");
  /* A chain that climbs: c1 -> dir/c2 -> ../c3 -> ../../../.. (the root). */
  fst_symlink(root, "c1", "dir/c2");
  fst_symlink(root, "dir/c2", "../c3");
  fst_symlink(root, "c3", "../../../..");
  fst_symlink(root, "to_tmp", "/tmp");
  fst_symlink(root, "dir/up_and_out", "../../secret");
  /* A host directory with a mount's name: the mount shadows it. */
  fst_mkdir(root, "tmp");
  fst_write(root, "tmp/hostfile", "shadowed\n");
}

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->top = fst_mkdtemp();
  assert_true(asprintf(&fx->root, "%s/root", fx->top) > 0);
  assert_int_equal(mkdir(fx->root, 0755), 0);
  build_tree(fx->top, fx->root);
  /* A link naming the secret by its real absolute host path. */
  char *target, *link;
  assert_true(asprintf(&target, "%s/secret", fx->top) > 0);
  assert_true(asprintf(&link, "%s/host_secret", fx->root) > 0);
  assert_int_equal(symlink(target, link), 0);
  free(target);
  free(link);
  fdtable_init(&fx->fds);
  fx->v = fst_vfs(fx->root, &fx->fds, 0, 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fdtable_fini(&fx->fds);
  vfs_destroy(fx->v);
  free(fx->root);
  fst_rmtree(fx->top);
  free(fx);
  return 0;
}

static void expect_inside_passwd(struct fixture *fx, const char *path) {
  char buf[64];
  ssize_t n = fst_slurp(fx->v, &fx->fds, path, buf, sizeof buf);
  if (n < 0)
    fail_msg("%s: %zd", path, n);
  assert_string_equal(buf, INSIDE);
}

static void expect_error(struct fixture *fx, const char *path, int err) {
  char buf[64];
  ssize_t n = fst_slurp(fx->v, &fx->fds, path, buf, sizeof buf);
  if (n != -err)
    fail_msg("%s: got %zd (%s), want -%d", path, n, n >= 0 ? buf : "", err);
}

static void dotdot_stays_in_the_root(void **state) {
  struct fixture *fx = *state;
  expect_inside_passwd(fx, "/etc/passwd");
  expect_inside_passwd(fx, "/../../../etc/passwd");
  expect_inside_passwd(fx, "../../../../../etc/passwd");
  expect_inside_passwd(fx, "/dir/sub/../../../../../etc/passwd");
  expect_inside_passwd(fx, "//etc//./passwd");
  expect_error(fx, "/../secret", ENOENT);
  expect_error(fx, "../../../secret", ENOENT);
}

static void symlinks_pointing_out_resolve_inside(void **state) {
  struct fixture *fx = *state;
  expect_inside_passwd(fx, "/abs_passwd");
  expect_inside_passwd(fx, "/rel_escape");
  expect_inside_passwd(fx, "/etc_link/passwd");
  expect_inside_passwd(fx, "/c1/etc/passwd");
  expect_inside_passwd(fx, "/dir/c2/etc/passwd");
  expect_error(fx, "/abs_secret", ENOENT);
  expect_error(fx, "/rel_secret", ENOENT);
  expect_error(fx, "/host_secret", ENOENT); /* the real host path, looked up inside */
  expect_error(fx, "/dir/up_and_out", ENOENT);
}

static void symlink_loops_are_eloop(void **state) {
  struct fixture *fx = *state;
  expect_error(fx, "/loop1", ELOOP);
  expect_error(fx, "/self", ELOOP);
  expect_error(fx, "/loop2/x", ELOOP);
}

/* l0 -> l1 -> ... -> l40 -> /etc/passwd: 41 links from l0, 40 from l1. */
static void at_most_40_links(void **state) {
  struct fixture *fx = *state;
  char name[16], target[16];
  for (int i = 0; i <= 40; i++) {
    snprintf(name, sizeof name, "l%d", i);
    snprintf(target, sizeof target, "l%d", i + 1);
    fst_symlink(fx->root, name, i == 40 ? "/etc/passwd" : target);
  }
  expect_error(fx, "/l0", ELOOP);
  expect_inside_passwd(fx, "/l1");
}

static void nofollow_and_readlink(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/abs_passwd", O_RDONLY | O_NOFOLLOW, 0, &f), -ELOOP);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/abs_passwd", O_PATH | O_NOFOLLOW, 0, &f), 0);
  struct stat st;
  assert_int_equal(f->ops->fstat(f, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  file_unref(f);
  char buf[PATH_MAX];
  ssize_t n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/abs_passwd", buf, sizeof buf);
  assert_int_equal(n, strlen("/etc/passwd"));
  assert_memory_equal(buf, "/etc/passwd", n);
  assert_int_equal(vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", buf, sizeof buf),
                   -EINVAL);
  /* Truncated to the buffer, as readlink(2). */
  assert_int_equal(vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/abs_passwd", buf, 4), 4);
}

static void names_and_trailing_slashes(void **state) {
  struct fixture *fx = *state;
  char longname[NAME_MAX + 3];
  memset(longname, 'a', sizeof longname - 1);
  longname[0] = '/';
  longname[sizeof longname - 1] = '\0';
  expect_error(fx, longname, ENAMETOOLONG); /* a 256-byte component */
  char *longpath = malloc(PATH_MAX + 1);
  memset(longpath, '/', PATH_MAX);
  longpath[PATH_MAX] = '\0';
  expect_error(fx, longpath, ENAMETOOLONG); /* PATH_MAX bytes */
  /* PATH_MAX - 1 bytes is fine. */
  size_t len = PATH_MAX - 1 - strlen("etc/passwd");
  memset(longpath, '/', len);
  strcpy(longpath + len, "etc/passwd");
  expect_inside_passwd(fx, longpath);
  free(longpath);
  expect_error(fx, "/etc/passwd/", ENOTDIR);
  expect_error(fx, "/etc/passwd/.", ENOTDIR);
  expect_error(fx, "/abs_passwd/", ENOTDIR);
  expect_error(fx, "", ENOENT);
}

static void stat_reports_the_host_file(void **state) {
  struct fixture *fx = *state;
  char *host;
  struct stat want, got;
  assert_true(asprintf(&host, "%s/etc/passwd", fx->root) > 0);
  assert_int_equal(stat(host, &want), 0);
  free(host);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/abs_passwd", &got, 0), 0);
  assert_int_equal(got.st_dev, want.st_dev);
  assert_int_equal(got.st_ino, want.st_ino);
  assert_int_equal(got.st_size, want.st_size);
  assert_int_equal(got.st_mode, want.st_mode);
  assert_int_equal(got.st_mtim.tv_sec, want.st_mtim.tv_sec);
  assert_int_equal(got.st_mtim.tv_nsec, want.st_mtim.tv_nsec);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/abs_passwd", &got, AT_SYMLINK_NOFOLLOW),
                   0);
  assert_true(S_ISLNK(got.st_mode));
}

static void the_root_is_read_only(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc/passwd", O_WRONLY, 0, &f), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc/passwd", O_RDWR, 0, &f), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc/passwd", O_RDONLY | O_TRUNC, 0, &f), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/newfile", O_WRONLY | O_CREAT, 0644, &f), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc", O_WRONLY, 0, &f), -EISDIR);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0, &f),
                   -EEXIST);
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/newdir", 0755), -EROFS);
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/etc", 0755), -EEXIST);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", 0), -EROFS);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp", AT_REMOVEDIR), -EROFS);
  assert_int_equal(vfs_renameat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", AT_FDCWD, "/etc/x"),
                   -EROFS);
  assert_int_equal(vfs_renameat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", AT_FDCWD, "/tmp/x"),
                   -EXDEV);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", W_OK, 0), -EROFS);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/etc/passwd", R_OK, 0), 0);
}

static void mounts_shadow_and_dotdot_leaves_them(void **state) {
  struct fixture *fx = *state;
  expect_error(fx, "/tmp/hostfile", ENOENT);
  expect_inside_passwd(fx, "/tmp/../etc/passwd");
  expect_inside_passwd(fx, "/to_tmp/../etc/passwd");
  expect_inside_passwd(fx, "/proc/self/fd/../../../etc/passwd");
  struct stat tmp, root;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/to_tmp", &tmp, 0), 0);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/", &root, 0), 0);
  assert_true(S_ISDIR(tmp.st_mode));
  assert_true(tmp.st_dev != root.st_dev);
}

static void cwd_and_relative_paths(void **state) {
  struct fixture *fx = *state;
  char cwd[PATH_MAX];
  assert_int_equal(vfs_chdir(fx->v, "/dir/sub"), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), strlen("/dir/sub") + 1);
  assert_string_equal(cwd, "/dir/sub");
  assert_int_equal(vfs_getcwd(fx->v, cwd, 4), -ERANGE);
  char buf[64];
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "file", buf, sizeof buf), 5);
  expect_inside_passwd(fx, "../../../../../etc/passwd");
  assert_int_equal(vfs_chdir(fx->v, "/c1"), 0); /* symlinks resolved: cwd is "/" */
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), 2);
  assert_string_equal(cwd, "/");
  assert_int_equal(vfs_chdir(fx->v, "/etc/passwd"), -ENOTDIR);
  assert_int_equal(vfs_chdir(fx->v, "/to_tmp"), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), 5);
  assert_string_equal(cwd, "/tmp");
  assert_int_equal(vfs_chdir(fx->v, ".."), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), 2);
}

static void dirfd_relative_resolution(void **state) {
  struct fixture *fx = *state;
  struct file *dir, *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dir", O_RDONLY | O_DIRECTORY, 0, &dir), 0);
  int dfd = fdtable_install(&fx->fds, dir, false, 0);
  assert_true(dfd >= 0);
  assert_int_equal(vfs_openat(fx->v, &fx->fds, dfd, "sub/file", O_RDONLY, 0, &f), 0);
  file_unref(f);
  assert_int_equal(vfs_openat(fx->v, &fx->fds, dfd, "../../../etc/passwd", O_RDONLY, 0, &f), 0);
  char buf[64] = {0};
  assert_int_equal(fst_read(f, buf, sizeof buf - 1), strlen(INSIDE));
  assert_string_equal(buf, INSIDE);
  file_unref(f);
  assert_int_equal(vfs_openat(fx->v, &fx->fds, dfd + 100, "sub/file", O_RDONLY, 0, &f), -EBADF);
  /* An absolute path ignores dirfd, even a bad one. */
  assert_int_equal(vfs_openat(fx->v, &fx->fds, dfd + 100, "/etc/passwd", O_RDONLY, 0, &f), 0);
  file_unref(f);
  struct file *reg;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/etc/passwd", O_RDONLY, 0, &reg), 0);
  int rfd = fdtable_install(&fx->fds, reg, false, 0);
  assert_int_equal(vfs_openat(fx->v, &fx->fds, rfd, "x", O_RDONLY, 0, &f), -ENOTDIR);
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, rfd, "", &st, AT_EMPTY_PATH), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, rfd, "", &st, 0), -ENOENT);
}

/* Random walks over hostile components: every regular file opened must be
 * one of the root's own (by device and inode), never the secret or the
 * host's /etc/passwd. */
static void random_paths_never_escape(void **state) {
  struct fixture *fx = *state;
  static const char *const parts[] = {
      "..",         ".",        "",           "etc",        "passwd",      "abs_passwd",
      "rel_escape", "etc_link", "dir",        "sub",        "file",        "c1",
      "c3",         "secret",   "abs_secret", "rel_secret", "host_secret", "up_and_out",
      "to_tmp",     "tmp",      "loop1",      "proc",       "self"};
  struct stat secret, host_passwd, inside;
  char *p;
  assert_true(asprintf(&p, "%s/secret", fx->top) > 0);
  assert_int_equal(stat(p, &secret), 0);
  free(p);
  assert_true(asprintf(&p, "%s/etc/passwd", fx->root) > 0);
  assert_int_equal(stat(p, &inside), 0);
  free(p);
  bool have_host_passwd = stat("/etc/passwd", &host_passwd) == 0;
  srand(12345);
  int opened = 0;
  for (int i = 0; i < 20000; i++) {
    char path[256] = "";
    int n = 1 + rand() % 8;
    for (int k = 0; k < n; k++) {
      if (k > 0 || rand() % 2)
        strcat(path, "/");
      strcat(path, parts[rand() % (sizeof parts / sizeof parts[0])]);
    }
    struct file *f;
    if (fst_open(fx->v, &fx->fds, path, O_RDONLY, 0, &f) < 0)
      continue;
    struct stat st;
    assert_int_equal(f->ops->fstat(f, &st), 0);
    if (st.st_dev == secret.st_dev && st.st_ino == secret.st_ino)
      fail_msg("%s reached the secret outside the root", path);
    if (have_host_passwd && st.st_dev == host_passwd.st_dev && st.st_ino == host_passwd.st_ino)
      fail_msg("%s reached the host's /etc/passwd", path);
    opened += S_ISREG(st.st_mode) && st.st_ino == inside.st_ino;
    file_unref(f);
  }
  assert_true(opened > 100); /* the walk did reach files, through the links */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(dotdot_stays_in_the_root, setup, teardown),
      cmocka_unit_test_setup_teardown(symlinks_pointing_out_resolve_inside, setup, teardown),
      cmocka_unit_test_setup_teardown(symlink_loops_are_eloop, setup, teardown),
      cmocka_unit_test_setup_teardown(at_most_40_links, setup, teardown),
      cmocka_unit_test_setup_teardown(nofollow_and_readlink, setup, teardown),
      cmocka_unit_test_setup_teardown(names_and_trailing_slashes, setup, teardown),
      cmocka_unit_test_setup_teardown(stat_reports_the_host_file, setup, teardown),
      cmocka_unit_test_setup_teardown(the_root_is_read_only, setup, teardown),
      cmocka_unit_test_setup_teardown(mounts_shadow_and_dotdot_leaves_them, setup, teardown),
      cmocka_unit_test_setup_teardown(cwd_and_relative_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(dirfd_relative_resolution, setup, teardown),
      cmocka_unit_test_setup_teardown(random_paths_never_escape, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
