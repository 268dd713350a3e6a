/* Symlinks in /tmp and /code: creating, reading and following them
 * (relative targets from the link's directory, absolute ones from the guest
 * root, never from the host's), dangling links, loops (-ELOOP, at most 40
 * links per walk), O_NOFOLLOW, unlink and rename, the caps, the errors of a
 * read-only tree, and link/linkat's -EPERM after Linux's checks. The guest
 * root is a host tree next to a "secret" file outside it. */
#include <dirent.h>
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

static struct fixture *fixture_new(uint64_t bytes, uint64_t entries) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->top = fst_mkdtemp();
  assert_true(asprintf(&fx->root, "%s/root", fx->top) > 0);
  fst_write(fx->top, "secret", "SECRET\n");
  fst_mkdir(fx->top, "root");
  fst_write(fx->root, "data", "inside data\n");
  fst_mkdir(fx->root, "etc");
  fst_write(fx->root, "etc/hosts", "inside hosts\n");
  fdtable_init(&fx->fds);
  fx->v = fst_vfs(fx->root, &fx->fds, bytes, entries);
  return fx;
}

static int setup(void **state) {
  *state = fixture_new(0, 0);
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

static int mklink(struct fixture *fx, const char *target, const char *path) {
  return vfs_symlinkat(fx->v, &fx->fds, target, AT_FDCWD, path);
}

static ssize_t readlink_str(struct fixture *fx, const char *path, char *buf, size_t len) {
  ssize_t n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, path, buf, len - 1);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

static int stat_at(struct fixture *fx, const char *path, struct stat *st, int flags) {
  return vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, path, st, flags);
}

static ssize_t slurp(struct fixture *fx, const char *path, char *buf, size_t len) {
  return fst_slurp(fx->v, &fx->fds, path, buf, len);
}

static int open_err(struct fixture *fx, const char *path, int flags) {
  struct file *f;
  int r = fst_open(fx->v, &fx->fds, path, flags, 0644, &f);
  if (r == 0)
    file_unref(f);
  return r;
}

static void create_read_and_follow(void **state) {
  struct fixture *fx = *state;
  char buf[256];
  struct stat st;
  assert_int_equal(mklink(fx, "/data", "/tmp/abs"), 0);
  assert_int_equal(readlink_str(fx, "/tmp/abs", buf, sizeof buf), 5);
  assert_string_equal(buf, "/data");
  assert_int_equal(stat_at(fx, "/tmp/abs", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0777);
  assert_int_equal(st.st_size, 5);
  assert_int_equal(stat_at(fx, "/tmp/abs", &st, 0), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(slurp(fx, "/tmp/abs", buf, sizeof buf), 12);
  assert_string_equal(buf, "inside data\n");
  /* readlink truncates to the buffer, as readlink(2) does. */
  assert_int_equal(vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/abs", buf, 3), 3);
  assert_memory_equal(buf, "/da", 3);
  /* Not a link: -EINVAL. */
  assert_int_equal(readlink_str(fx, "/data", buf, sizeof buf), -EINVAL);
}

static void relative_targets_start_at_the_link(void **state) {
  struct fixture *fx = *state;
  char buf[256];
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/d", 0755), 0);
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/d/file", O_CREAT | O_WRONLY, 0644, &f), 0);
  assert_int_equal(fst_write_str(f, "in d\n"), 5);
  file_unref(f);
  assert_int_equal(mklink(fx, "file", "/tmp/d/rel"), 0);
  assert_int_equal(mklink(fx, "d/file", "/tmp/via"), 0);
  assert_int_equal(mklink(fx, "d", "/tmp/dirlink"), 0);
  assert_int_equal(slurp(fx, "/tmp/d/rel", buf, sizeof buf), 5);
  assert_int_equal(slurp(fx, "/tmp/via", buf, sizeof buf), 5);
  assert_int_equal(slurp(fx, "/tmp/dirlink/rel", buf, sizeof buf), 5);
  /* .. in a target is the link's directory's parent, not the caller's. */
  assert_int_equal(mklink(fx, "../../data", "/tmp/d/up"), 0);
  assert_int_equal(slurp(fx, "/tmp/d/up", buf, sizeof buf), 12);
  /* chdir through a link, then relative opens from there. */
  assert_int_equal(vfs_chdir(fx->v, "/tmp/dirlink"), 0);
  assert_int_equal(slurp(fx, "rel", buf, sizeof buf), 5);
  assert_int_equal(vfs_getcwd(fx->v, buf, sizeof buf), (ssize_t)strlen("/tmp/d") + 1);
  assert_string_equal(buf, "/tmp/d");
}

static void dangling_links(void **state) {
  struct fixture *fx = *state;
  char buf[64];
  struct stat st;
  assert_int_equal(mklink(fx, "missing", "/tmp/dangling"), 0);
  assert_int_equal(stat_at(fx, "/tmp/dangling", &st, 0), -ENOENT);
  assert_int_equal(stat_at(fx, "/tmp/dangling", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_int_equal(readlink_str(fx, "/tmp/dangling", buf, sizeof buf), 7);
  assert_int_equal(open_err(fx, "/tmp/dangling", O_RDONLY), -ENOENT);
  /* O_CREAT follows the link and creates its target; O_EXCL does not follow. */
  assert_int_equal(open_err(fx, "/tmp/dangling", O_CREAT | O_EXCL | O_WRONLY), -EEXIST);
  assert_int_equal(open_err(fx, "/tmp/dangling", O_CREAT | O_WRONLY), 0);
  assert_int_equal(stat_at(fx, "/tmp/missing", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true(S_ISREG(st.st_mode));
}

static void loops_are_eloop(void **state) {
  struct fixture *fx = *state;
  struct stat st;
  assert_int_equal(mklink(fx, "self", "/tmp/self"), 0);
  assert_int_equal(mklink(fx, "b", "/tmp/a"), 0);
  assert_int_equal(mklink(fx, "a", "/tmp/b"), 0);
  assert_int_equal(stat_at(fx, "/tmp/self", &st, 0), -ELOOP);
  assert_int_equal(stat_at(fx, "/tmp/a", &st, 0), -ELOOP);
  assert_int_equal(open_err(fx, "/tmp/b/x", O_RDONLY), -ELOOP);
  assert_int_equal(stat_at(fx, "/tmp/a", &st, AT_SYMLINK_NOFOLLOW), 0);
}

/* l0 -> l1 -> ... -> l<n-1> -> /data: n links in one walk. */
static void make_chain(struct fixture *fx, const char *prefix, int n) {
  char path[64], target[64];
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "/tmp/%s%d", prefix, i);
    if (i == n - 1)
      snprintf(target, sizeof target, "/data");
    else
      snprintf(target, sizeof target, "%s%d", prefix, i + 1);
    assert_int_equal(mklink(fx, target, path), 0);
  }
}

static void forty_links_and_no_more(void **state) {
  struct fixture *fx = *state;
  struct stat st;
  make_chain(fx, "ok", 40);
  make_chain(fx, "long", 41);
  assert_int_equal(stat_at(fx, "/tmp/ok0", &st, 0), 0);
  assert_int_equal(stat_at(fx, "/tmp/long0", &st, 0), -ELOOP);
}

/* No target, absolute or relative, climbs out of the guest root: the host
 * file next to the root and the host's own /etc are never reached. */
static void escapes_stay_inside_the_root(void **state) {
  struct fixture *fx = *state;
  char buf[256];
  assert_int_equal(mklink(fx, "../../../../../../secret", "/tmp/rel_out"), 0);
  assert_int_equal(mklink(fx, "/../../../secret", "/tmp/abs_out"), 0);
  assert_int_equal(mklink(fx, "/etc/hosts", "/tmp/hosts"), 0);
  assert_int_equal(mklink(fx, "../../../../..", "/tmp/top"), 0);
  assert_int_equal(slurp(fx, "/tmp/rel_out", buf, sizeof buf), -ENOENT);
  assert_int_equal(slurp(fx, "/tmp/abs_out", buf, sizeof buf), -ENOENT);
  assert_int_equal(slurp(fx, "/tmp/hosts", buf, sizeof buf), 13);
  assert_string_equal(buf, "inside hosts\n");
  assert_int_equal(slurp(fx, "/tmp/top/data", buf, sizeof buf), 12);
  assert_int_equal(slurp(fx, "/tmp/top/secret", buf, sizeof buf), -ENOENT);
  assert_int_equal(vfs_chdir(fx->v, "/tmp/top"), 0);
  assert_int_equal(vfs_getcwd(fx->v, buf, sizeof buf), 2);
  assert_string_equal(buf, "/");
}

static void nofollow_and_opath(void **state) {
  struct fixture *fx = *state;
  char buf[64];
  assert_int_equal(mklink(fx, "/data", "/tmp/l"), 0);
  assert_int_equal(open_err(fx, "/tmp/l", O_RDONLY | O_NOFOLLOW), -ELOOP);
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/l", O_PATH | O_NOFOLLOW, 0, &f), 0);
  int fd = fdtable_install(&fx->fds, f, false, 0);
  assert_true(fd >= 0);
  assert_int_equal(vfs_readlinkat(fx->v, &fx->fds, fd, "", buf, sizeof buf), 5);
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, fd, "", &st, AT_EMPTY_PATH), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(fdtable_close(&fx->fds, fd), 0);
}

static void errors_of_creation(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(mklink(fx, "/data", "/tmp/l"), 0);
  assert_int_equal(mklink(fx, "/x", "/tmp/l"), -EEXIST);
  assert_int_equal(mklink(fx, "/x", "/tmp"), -EEXIST);
  assert_int_equal(mklink(fx, "/x", "/tmp/."), -EEXIST);
  assert_int_equal(mklink(fx, "/x", "/"), -EEXIST);
  assert_int_equal(mklink(fx, "", "/tmp/empty"), -ENOENT);
  assert_int_equal(mklink(fx, "/x", "/tmp/nodir/l"), -ENOENT);
  assert_int_equal(mklink(fx, "/x", "/tmp/slash/"), -ENOENT);
  assert_int_equal(mklink(fx, "/x", "/newlink"), -EROFS);
  assert_int_equal(mklink(fx, "/x", "/data"), -EEXIST); /* checked before read-only */
  assert_int_equal(mklink(fx, "/x", "/dev/l"), -EROFS);
  assert_int_equal(mklink(fx, "/x", "/code/l"), 0);
  /* A directory descriptor as the starting point. */
  struct file *d;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp", O_RDONLY | O_DIRECTORY, 0, &d), 0);
  int fd = fdtable_install(&fx->fds, d, false, 0);
  assert_int_equal(vfs_symlinkat(fx->v, &fx->fds, "/data", fd, "at"), 0);
  char buf[16];
  assert_int_equal(readlink_str(fx, "/tmp/at", buf, sizeof buf), 5);
  assert_int_equal(vfs_symlinkat(fx->v, &fx->fds, "/data", 99, "at2"), -EBADF);
  assert_int_equal(fdtable_close(&fx->fds, fd), 0);
}

static void unlink_rename_and_listing(void **state) {
  struct fixture *fx = *state;
  char buf[64], listing[512];
  struct stat st;
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/d", 0755), 0);
  assert_int_equal(mklink(fx, "/tmp/d", "/tmp/l"), 0);
  assert_true(fst_listdir(fx->v, &fx->fds, "/tmp", 4096, listing, sizeof listing) >= 0);
  assert_true(fst_listed(listing, "l", DT_LNK));
  /* rmdir of a link is ENOTDIR even when it points at a directory. */
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/l", AT_REMOVEDIR), -ENOTDIR);
  assert_int_equal(vfs_renameat(fx->v, &fx->fds, AT_FDCWD, "/tmp/l", AT_FDCWD, "/tmp/m"), 0);
  assert_int_equal(readlink_str(fx, "/tmp/m", buf, sizeof buf), 6);
  assert_string_equal(buf, "/tmp/d");
  /* unlink removes the link, not what it points at. */
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/m", 0), 0);
  assert_int_equal(stat_at(fx, "/tmp/m", &st, AT_SYMLINK_NOFOLLOW), -ENOENT);
  assert_int_equal(stat_at(fx, "/tmp/d", &st, 0), 0);
  assert_true(S_ISDIR(st.st_mode));
}

static void caps_count_links(void **state) {
  (void)state;
  struct fixture *fx = fixture_new(100, 2);
  char target[PATH_MAX];
  memset(target, 'x', 99);
  target[99] = '\0';
  /* The target's bytes count: 99 + 2 > 100. */
  assert_int_equal(mklink(fx, target, "/tmp/big"), 0);
  assert_int_equal(mklink(fx, "ab", "/tmp/over"), -ENOSPC);
  assert_int_equal(mklink(fx, "a", "/tmp/fits"), 0);
  assert_int_equal(mklink(fx, "", "/tmp/x"), -ENOENT);
  /* Two entries used: the entry cap says no, whatever the size. */
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/big", 0), 0);
  assert_int_equal(mklink(fx, "b", "/tmp/second"), 0);
  assert_int_equal(mklink(fx, "c", "/tmp/third"), -ENOSPC);
  /* Removing a link gives its bytes back. */
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/fits", 0), 0);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/second", 0), 0);
  assert_int_equal(mklink(fx, target, "/tmp/big"), 0);
  teardown((void **)&fx);
}

static void hard_links_are_eperm(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/f", O_CREAT | O_WRONLY, 0644, &f), 0);
  file_unref(f);
  assert_int_equal(mklink(fx, "f", "/tmp/l"), 0);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/f", AT_FDCWD, "/tmp/g", 0), -EPERM);
  assert_int_equal(
      vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/l", AT_FDCWD, "/tmp/g", AT_SYMLINK_FOLLOW),
      -EPERM);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/nope", AT_FDCWD, "/tmp/g", 0),
                   -ENOENT);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/f", AT_FDCWD, "/tmp/l", 0), -EEXIST);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/f", AT_FDCWD, "/code/g", 0), -EXDEV);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/data", AT_FDCWD, "/g", 0), -EROFS);
  assert_int_equal(vfs_linkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/f", AT_FDCWD, "/tmp/g", 0x8000),
                   -EINVAL);
  struct stat st;
  assert_int_equal(stat_at(fx, "/tmp/g", &st, 0), -ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(create_read_and_follow, setup, teardown),
      cmocka_unit_test_setup_teardown(relative_targets_start_at_the_link, setup, teardown),
      cmocka_unit_test_setup_teardown(dangling_links, setup, teardown),
      cmocka_unit_test_setup_teardown(loops_are_eloop, setup, teardown),
      cmocka_unit_test_setup_teardown(forty_links_and_no_more, setup, teardown),
      cmocka_unit_test_setup_teardown(escapes_stay_inside_the_root, setup, teardown),
      cmocka_unit_test_setup_teardown(nofollow_and_opath, setup, teardown),
      cmocka_unit_test_setup_teardown(errors_of_creation, setup, teardown),
      cmocka_unit_test_setup_teardown(unlink_rename_and_listing, setup, teardown),
      cmocka_unit_test(caps_count_links),
      cmocka_unit_test_setup_teardown(hard_links_are_eperm, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
