/* /tmp: files and directories in memory, their errors as Linux's tmpfs
 * gives them, the caps on bytes and entries, and directory listings (of
 * /tmp, and of "/" where the mounts must appear). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "fs/vfs_impl.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"

struct fixture {
  struct fdtable fds;
  struct vfs *v;
};

static struct fixture *fixture_new(uint64_t bytes, uint64_t entries) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fdtable_init(&fx->fds);
  fx->v = fst_vfs(NULL, &fx->fds, bytes, entries);
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
  free(fx);
  return 0;
}

static struct file *open_ok(struct fixture *fx, const char *path, int flags) {
  struct file *f = NULL;
  int r = fst_open(fx->v, &fx->fds, path, flags, 0644, &f);
  if (r < 0)
    fail_msg("open %s: %d", path, r);
  return f;
}

static int open_err(struct fixture *fx, const char *path, int flags) {
  struct file *f;
  int r = fst_open(fx->v, &fx->fds, path, flags, 0644, &f);
  if (r == 0)
    file_unref(f);
  return r;
}

static struct stat stat_ok(struct fixture *fx, const char *path) {
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW), 0);
  return st;
}

static void create_write_read_seek(void **state) {
  struct fixture *fx = *state;
  struct file *f = open_ok(fx, "/tmp/a", O_RDWR | O_CREAT | O_EXCL);
  assert_int_equal(fst_write_str(f, "hello world"), 11);
  assert_int_equal(f->ops->lseek(f, 0, SEEK_SET), 0);
  char buf[32] = {0};
  assert_int_equal(fst_read(f, buf, 5), 5);
  assert_string_equal(buf, "hello");
  assert_int_equal(f->ops->lseek(f, -5, SEEK_END), 6);
  assert_int_equal(fst_read(f, buf, sizeof buf), 5);
  assert_memory_equal(buf, "world", 5);
  assert_int_equal(fst_read(f, buf, sizeof buf), 0); /* end of file */
  /* Writing past the end leaves zeros in between. */
  struct iovec iov = {.iov_base = "Z", .iov_len = 1};
  assert_int_equal(f->ops->pwrite(f, &iov, 1, 20), 1);
  struct iovec rd = {.iov_base = buf, .iov_len = sizeof buf};
  assert_int_equal(f->ops->pread(f, &rd, 1, 11), 10);
  assert_memory_equal(buf, "\0\0\0\0\0\0\0\0\0Z", 10);
  assert_int_equal(f->ops->lseek(f, 3, SEEK_DATA), 3);
  assert_int_equal(f->ops->lseek(f, 3, SEEK_HOLE), 21);
  assert_int_equal(f->ops->lseek(f, 21, SEEK_DATA), -ENXIO);
  assert_int_equal(f->ops->lseek(f, -1, SEEK_SET), -EINVAL);
  assert_int_equal(f->ops->truncate(f, 4), 0);
  struct stat st = stat_ok(fx, "/tmp/a");
  assert_int_equal(st.st_size, 4);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0644 & ~022);
  assert_int_equal(st.st_uid, 1000);
  file_unref(f);
  assert_int_equal(open_err(fx, "/tmp/a", O_RDWR | O_CREAT | O_EXCL), -EEXIST);
  f = open_ok(fx, "/tmp/a", O_RDWR | O_TRUNC);
  assert_int_equal(stat_ok(fx, "/tmp/a").st_size, 0);
  file_unref(f);
}

/* The guest (uid 1000 here) owns /tmp's files: their owner bits decide,
 * except for the creator's own open. */
static void permissions_go_by_owner_bits(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/ro", O_RDWR | O_CREAT, 0444, &f), 0);
  assert_int_equal(fst_write_str(f, "x"), 1);
  file_unref(f);
  assert_int_equal(open_err(fx, "/tmp/ro", O_WRONLY), -EACCES);
  assert_int_equal(open_err(fx, "/tmp/ro", O_RDONLY), 0);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/tmp/ro", W_OK, 0), -EACCES);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/tmp/ro", R_OK, 0), 0);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/tmp/ro", X_OK, 0), -EACCES);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/tmp/ro", 8, 0), -EINVAL);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/wo", O_WRONLY | O_CREAT, 0200, &f), 0);
  file_unref(f);
  assert_int_equal(open_err(fx, "/tmp/wo", O_RDONLY), -EACCES);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, "/dev/null", R_OK | W_OK, 0), 0);
}

static void append_mode(void **state) {
  struct fixture *fx = *state;
  struct file *f = open_ok(fx, "/tmp/log", O_WRONLY | O_CREAT | O_APPEND);
  assert_int_equal(fst_write_str(f, "one "), 4);
  f->pos = 0;
  assert_int_equal(fst_write_str(f, "two"), 3);
  assert_int_equal(f->pos, 7);
  file_unref(f);
  char buf[32];
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/tmp/log", buf, sizeof buf), 7);
  assert_string_equal(buf, "one two");
}

static void inodes_are_unique_and_the_device_is_tmpfs(void **state) {
  struct fixture *fx = *state;
  file_unref(open_ok(fx, "/tmp/x", O_WRONLY | O_CREAT));
  file_unref(open_ok(fx, "/tmp/y", O_WRONLY | O_CREAT));
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/d", 0777), 0);
  struct stat x = stat_ok(fx, "/tmp/x"), y = stat_ok(fx, "/tmp/y"), d = stat_ok(fx, "/tmp/d");
  struct stat tmp = stat_ok(fx, "/tmp"), root = stat_ok(fx, "/");
  assert_true(x.st_ino != y.st_ino && x.st_ino != d.st_ino && d.st_ino != tmp.st_ino);
  assert_int_equal(x.st_dev, tmp.st_dev);
  assert_true(tmp.st_dev != root.st_dev);
  assert_int_equal(d.st_mode, S_IFDIR | 0755);
  assert_int_equal(tmp.st_mode, S_IFDIR | 01777);
  assert_int_equal(tmp.st_nlink, 3); /* ".", its entry, d's ".." */
}

static void unlink_while_open_keeps_the_data(void **state) {
  struct fixture *fx = *state;
  struct file *f = open_ok(fx, "/tmp/gone", O_RDWR | O_CREAT);
  assert_int_equal(fst_write_str(f, "still here"), 10);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/gone", 0), 0);
  assert_int_equal(open_err(fx, "/tmp/gone", O_RDONLY), -ENOENT);
  char buf[16] = {0};
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  assert_int_equal(f->ops->pread(f, &iov, 1, 0), 10);
  struct stat st;
  assert_int_equal(f->ops->fstat(f, &st), 0);
  assert_int_equal(st.st_nlink, 0);
  file_unref(f);
}

static void directory_errors(void **state) {
  struct fixture *fx = *state;
  struct vfs *v = fx->v;
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d/", 0755), 0);
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d", 0755), -EEXIST);
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/no/d", 0755), -ENOENT);
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d/..", 0755), -EEXIST);
  file_unref(open_ok(fx, "/tmp/d/f", O_WRONLY | O_CREAT));
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d", AT_REMOVEDIR), -ENOTEMPTY);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d", 0), -EISDIR);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d/f", AT_REMOVEDIR), -ENOTDIR);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d/f/", 0), -ENOTDIR);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d/.", AT_REMOVEDIR), -EINVAL);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d/..", AT_REMOVEDIR), -ENOTEMPTY);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/nope", 0), -ENOENT);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d/f", 0), 0);
  assert_int_equal(vfs_unlinkat(v, &fx->fds, AT_FDCWD, "/tmp/d", AT_REMOVEDIR), 0);
  assert_int_equal(open_err(fx, "/tmp/file/", O_WRONLY | O_CREAT), -EISDIR);
  assert_int_equal(open_err(fx, "/tmp", O_WRONLY | O_CREAT), -EISDIR);
  assert_int_equal(open_err(fx, "/tmp/.", O_RDONLY | O_CREAT), -EISDIR);
  file_unref(open_ok(fx, "/tmp/file", O_WRONLY | O_CREAT));
  assert_int_equal(open_err(fx, "/tmp/file", O_RDONLY | O_DIRECTORY), -ENOTDIR);
  assert_int_equal(open_err(fx, "/tmp/file/", O_RDONLY), -ENOTDIR);
  assert_int_equal(open_err(fx, "/tmp/x", O_RDONLY | O_DIRECTORY | O_CREAT), -EINVAL);
}

static void removed_cwd(void **state) {
  struct fixture *fx = *state;
  char cwd[64];
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/w", 0755), 0);
  assert_int_equal(vfs_chdir(fx->v, "/tmp/w"), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), 7);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/w", AT_REMOVEDIR), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), -ENOENT);
  assert_int_equal(vfs_chdir(fx->v, ".."), -ENOENT);
  assert_int_equal(open_err(fx, "new", O_WRONLY | O_CREAT), -ENOENT);
  assert_int_equal(vfs_chdir(fx->v, "/tmp"), 0);
}

static void rename_rules(void **state) {
  struct fixture *fx = *state;
  struct vfs *v = fx->v;
  struct file *f = open_ok(fx, "/tmp/a", O_WRONLY | O_CREAT);
  assert_int_equal(fst_write_str(f, "A"), 1);
  file_unref(f);
  file_unref(open_ok(fx, "/tmp/b", O_WRONLY | O_CREAT));
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d", 0755), 0);
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d/e", 0755), 0);
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/empty", 0755), 0);
  assert_int_equal(
      vfs_renameat2(v, &fx->fds, AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b", RENAME_NOREPLACE),
      -EEXIST);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b"), 0);
  char buf[8];
  assert_int_equal(fst_slurp(v, &fx->fds, "/tmp/b", buf, sizeof buf), 1);
  assert_int_equal(open_err(fx, "/tmp/a", O_RDONLY), -ENOENT);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/d", AT_FDCWD, "/tmp/d/e/x"), -EINVAL);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/empty", AT_FDCWD, "/tmp/d"),
                   -ENOTEMPTY);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/d", AT_FDCWD, "/tmp/b"), -ENOTDIR);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/empty"), -EISDIR);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/b/"), -ENOTDIR);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/nope", AT_FDCWD, "/tmp/x"), -ENOENT);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/b", AT_FDCWD, "/dev/b"), -EXDEV);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/.", AT_FDCWD, "/tmp/z"), -EBUSY);
  assert_int_equal(
      vfs_renameat2(v, &fx->fds, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/c", RENAME_EXCHANGE), -EINVAL);
  /* A directory renamed under an open cwd: cwd and getcwd follow it. */
  assert_int_equal(vfs_chdir(v, "/tmp/d/e"), 0);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/d", AT_FDCWD, "/tmp/empty"), 0);
  char cwd[64];
  assert_int_equal(vfs_getcwd(v, cwd, sizeof cwd), strlen("/tmp/empty/e") + 1);
  assert_string_equal(cwd, "/tmp/empty/e");
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/tmp/b", AT_FDCWD, "../moved"), 0);
  assert_int_equal(fst_slurp(v, &fx->fds, "/tmp/empty/moved", buf, sizeof buf), 1);
}

/* /tmp and /code are two filesystems: no rename or link crosses between
 * them, whatever moves (file, directory, symlink), and neither side's
 * usage changes. */
static void tmp_and_code_are_separate_filesystems(void **state) {
  struct fixture *fx = *state;
  struct vfs *v = fx->v;
  struct file *f = open_ok(fx, "/tmp/f", O_WRONLY | O_CREAT);
  assert_int_equal(fst_write_str(f, "data"), 4);
  file_unref(f);
  file_unref(open_ok(fx, "/code/g", O_WRONLY | O_CREAT));
  assert_int_equal(vfs_mkdirat(v, &fx->fds, AT_FDCWD, "/tmp/d", 0755), 0);
  assert_int_equal(vfs_symlinkat(v, &fx->fds, "f", AT_FDCWD, "/tmp/l"), 0);
  uint64_t tmp_bytes = tmpfs_bytes_used(v->tmp), tmp_entries = tmpfs_entries_used(v->tmp);
  uint64_t code_entries = tmpfs_entries_used(v->code);
  static const char *const from[] = {"/tmp/f", "/tmp/d", "/tmp/l"};
  for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
    assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, from[i], AT_FDCWD, "/code/new"), -EXDEV);
    assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, from[i], AT_FDCWD, "/code/g"), -EXDEV);
  }
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/code/g", AT_FDCWD, "/tmp/f"), -EXDEV);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "/code/g", AT_FDCWD, "/tmp/d/g"), -EXDEV);
  assert_int_equal(
      vfs_renameat2(v, &fx->fds, AT_FDCWD, "/tmp/f", AT_FDCWD, "/code/g", RENAME_NOREPLACE),
      -EXDEV);
  assert_int_equal(vfs_linkat(v, &fx->fds, AT_FDCWD, "/code/g", AT_FDCWD, "/tmp/h", 0), -EXDEV);
  /* Relative paths and a directory descriptor reach the same check. */
  assert_int_equal(vfs_chdir(v, "/code"), 0);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "g", AT_FDCWD, "../tmp/g"), -EXDEV);
  struct file *dir = open_ok(fx, "/tmp", O_RDONLY | O_DIRECTORY);
  int dfd = fdtable_install(&fx->fds, dir, false, 0);
  assert_true(dfd >= 0);
  assert_int_equal(vfs_renameat(v, &fx->fds, dfd, "f", AT_FDCWD, "moved"), -EXDEV);
  /* Nothing moved, nothing was counted twice; within a mount rename works. */
  assert_int_equal(tmpfs_bytes_used(v->tmp), tmp_bytes);
  assert_int_equal(tmpfs_entries_used(v->tmp), tmp_entries);
  assert_int_equal(tmpfs_entries_used(v->code), code_entries);
  char buf[8];
  assert_int_equal(fst_slurp(v, &fx->fds, "/tmp/f", buf, sizeof buf), 4);
  assert_int_equal(vfs_renameat(v, &fx->fds, dfd, "f", dfd, "d/f"), 0);
  assert_int_equal(vfs_renameat(v, &fx->fds, AT_FDCWD, "g", AT_FDCWD, "/code/g2"), 0);
}

static void byte_cap_is_enospc(void **state) {
  struct fixture *fx = fixture_new(10000, 0);
  struct file *f = open_ok(fx, "/tmp/big", O_RDWR | O_CREAT);
  char *data = calloc(1, 8000);
  struct iovec iov = {.iov_base = data, .iov_len = 8000};
  assert_int_equal(f->ops->write(f, &iov, 1), 8000);
  assert_int_equal(f->ops->write(f, &iov, 1), 2000); /* what fits */
  assert_int_equal(f->ops->write(f, &iov, 1), -ENOSPC);
  assert_int_equal(f->ops->truncate(f, 10001), -ENOSPC);
  struct file *g = open_ok(fx, "/tmp/other", O_RDWR | O_CREAT);
  assert_int_equal(g->ops->write(g, &iov, 1), -ENOSPC);
  assert_int_equal(f->ops->truncate(f, 5000), 0);
  assert_int_equal(g->ops->write(g, &iov, 1), 5000);
  file_unref(g);
  /* Unlinked but open still counts; closing frees it. */
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/big", 0), 0);
  struct file *h = open_ok(fx, "/tmp/third", O_RDWR | O_CREAT);
  assert_int_equal(h->ops->write(h, &iov, 1), -ENOSPC);
  file_unref(f);
  assert_int_equal(h->ops->write(h, &iov, 1), 5000);
  file_unref(h);
  free(data);
  teardown((void **)&fx);
}

static void entry_cap_is_enospc(void **state) {
  struct fixture *fx = fixture_new(0, 3);
  file_unref(open_ok(fx, "/tmp/1", O_WRONLY | O_CREAT));
  file_unref(open_ok(fx, "/tmp/2", O_WRONLY | O_CREAT));
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/3", 0755), 0);
  assert_int_equal(open_err(fx, "/tmp/4", O_WRONLY | O_CREAT), -ENOSPC);
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/3/4", 0755), -ENOSPC);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, "/tmp/1", 0), 0);
  file_unref(open_ok(fx, "/tmp/4", O_WRONLY | O_CREAT));
  teardown((void **)&fx);
}

static void listing_tmp(void **state) {
  struct fixture *fx = *state;
  for (int i = 0; i < 50; i++) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/file-with-a-longish-name-%02d", i);
    file_unref(open_ok(fx, path, O_WRONLY | O_CREAT));
  }
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/tmp/sub", 0755), 0);
  static char out[8192];
  /* A small buffer: many getdents calls, none skipping or repeating. */
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/tmp", 100, out, sizeof out), 53);
  assert_true(fst_listed(out, ".", DT_DIR));
  assert_true(fst_listed(out, "..", DT_DIR));
  assert_true(fst_listed(out, "sub", DT_DIR));
  assert_true(fst_listed(out, "file-with-a-longish-name-00", DT_REG));
  assert_true(fst_listed(out, "file-with-a-longish-name-49", DT_REG));
  /* A buffer too small for the first record. */
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/tmp", 16, out, sizeof out), -EINVAL);
}

/* rm -rf's pattern: read a batch, unlink it, read on. Nothing is skipped. */
static void listing_while_unlinking(void **state) {
  struct fixture *fx = *state;
  for (int i = 0; i < 30; i++) {
    char path[32];
    snprintf(path, sizeof path, "/tmp/f%02d", i);
    file_unref(open_ok(fx, path, O_WRONLY | O_CREAT));
  }
  struct file *d = open_ok(fx, "/tmp", O_RDONLY | O_DIRECTORY);
  unsigned char buf[96];
  int removed = 0;
  ssize_t n;
  while ((n = d->ops->getdents(d, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      uint16_t reclen;
      memcpy(&reclen, buf + off + 16, 2);
      const char *name = (const char *)buf + off + 19;
      char path[300];
      snprintf(path, sizeof path, "/tmp/%s", name);
      if (name[0] != '.')
        removed += vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, path, 0) == 0;
      off += reclen;
    }
  }
  assert_int_equal(n, 0);
  assert_int_equal(removed, 30);
  file_unref(d);
}

static void listing_the_empty_root_shows_the_mounts(void **state) {
  struct fixture *fx = *state;
  char out[512];
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/", 4096, out, sizeof out), 7);
  assert_string_equal(out, "./4 ../4 dev/4 proc/4 sys/4 tmp/4 code/4 ");
  assert_int_equal(open_err(fx, "/x", O_WRONLY | O_CREAT), -EROFS);
}

static void listing_a_host_root_adds_the_mounts(void **state) {
  char *top = fst_mkdtemp();
  fst_write(top, "hostfile", "x");
  fst_mkdir(top, "tmp"); /* shadowed by the mount: listed once */
  fst_mkdir(top, "sys"); /* so is the host's /sys */
  fst_mkdir(top, "usr");
  fst_symlink(top, "lnk", "usr");
  struct fdtable fds;
  fdtable_init(&fds);
  struct vfs *v = fst_vfs(top, &fds, 0, 0);
  char out[512];
  for (size_t bufsize = 32; bufsize <= 4096; bufsize *= 4) {
    assert_int_equal(fst_listdir(v, &fds, "/", bufsize, out, sizeof out), 10);
    assert_true(fst_listed(out, ".", DT_DIR) && fst_listed(out, "..", DT_DIR));
    assert_true(fst_listed(out, "code", DT_DIR));
    assert_true(fst_listed(out, "dev", DT_DIR) && fst_listed(out, "proc", DT_DIR));
    assert_true(fst_listed(out, "sys", DT_DIR));
    assert_true(fst_listed(out, "tmp", DT_DIR) && fst_listed(out, "usr", DT_DIR));
    assert_true(fst_listed(out, "hostfile", DT_REG) && fst_listed(out, "lnk", DT_LNK));
  }
  assert_int_equal(fst_listdir(v, &fds, "/usr", 4096, out, sizeof out), 2);
  /* Rewinding "/" lists the mounts again. */
  struct file *d;
  assert_int_equal(fst_open(v, &fds, "/", O_RDONLY, 0, &d), 0);
  unsigned char buf[4096];
  ssize_t first = d->ops->getdents(d, buf, sizeof buf);
  assert_true(first > 0);
  assert_int_equal(d->ops->getdents(d, buf, sizeof buf), 0);
  assert_int_equal(d->ops->lseek(d, 0, SEEK_SET), 0);
  assert_int_equal(d->ops->getdents(d, buf, sizeof buf), first);
  file_unref(d);
  fdtable_fini(&fds);
  vfs_destroy(v);
  fst_rmtree(top);
}

/* Random creates, writes, renames and removals among a few names: nothing
 * breaks (the sanitizers watch), and the caps always hold. */
static void random_operations_keep_the_caps(void **state) {
  struct fixture *fx = fixture_new(20000, 12);
  static const char *const names[] = {"/tmp/a",   "/tmp/b",     "/tmp/d",   "/tmp/d/a",
                                      "/tmp/d/e", "/tmp/d/e/b", "/tmp/b/a", "/tmp/e"};
  const int nnames = sizeof names / sizeof names[0];
  struct file *open_files[4] = {0};
  char *chunk = calloc(1, 3000);
  srand(7);
  for (int i = 0; i < 20000; i++) {
    const char *a = names[rand() % nnames], *b = names[rand() % nnames];
    struct file **slot = &open_files[rand() % 4], *f;
    struct iovec iov = {.iov_base = chunk, .iov_len = (size_t)(rand() % 3000)};
    switch (rand() % 7) {
    case 0:
      if (fst_open(fx->v, &fx->fds, a, O_RDWR | O_CREAT, 0600, &f) == 0) {
        if (*slot)
          file_unref(*slot);
        *slot = f;
      }
      break;
    case 1:
      vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, a, 0700);
      break;
    case 2:
      vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, a, rand() % 2 ? AT_REMOVEDIR : 0);
      break;
    case 3:
      vfs_renameat(fx->v, &fx->fds, AT_FDCWD, a, AT_FDCWD, b);
      break;
    case 4:
      if (*slot)
        (*slot)->ops->pwrite(*slot, &iov, 1, rand() % 5000);
      break;
    case 5:
      if (*slot && (*slot)->ops->truncate)
        (*slot)->ops->truncate(*slot, rand() % 8000);
      break;
    case 6:
      if (*slot) {
        file_unref(*slot);
        *slot = NULL;
      }
      break;
    }
    assert_true(tmpfs_bytes_used(fx->v->tmp) <= 20000);
    assert_true(tmpfs_entries_used(fx->v->tmp) <= 12);
  }
  for (int i = 0; i < 4; i++)
    if (open_files[i])
      file_unref(open_files[i]);
  free(chunk);
  teardown((void **)&fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(create_write_read_seek, setup, teardown),
      cmocka_unit_test_setup_teardown(permissions_go_by_owner_bits, setup, teardown),
      cmocka_unit_test_setup_teardown(append_mode, setup, teardown),
      cmocka_unit_test_setup_teardown(inodes_are_unique_and_the_device_is_tmpfs, setup, teardown),
      cmocka_unit_test_setup_teardown(unlink_while_open_keeps_the_data, setup, teardown),
      cmocka_unit_test_setup_teardown(directory_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(removed_cwd, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(tmp_and_code_are_separate_filesystems, setup, teardown),
      cmocka_unit_test(byte_cap_is_enospc),
      cmocka_unit_test(entry_cap_is_enospc),
      cmocka_unit_test_setup_teardown(listing_tmp, setup, teardown),
      cmocka_unit_test_setup_teardown(listing_while_unlinking, setup, teardown),
      cmocka_unit_test_setup_teardown(listing_the_empty_root_shows_the_mounts, setup, teardown),
      cmocka_unit_test(listing_a_host_root_adds_the_mounts),
      cmocka_unit_test(random_operations_keep_the_caps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
