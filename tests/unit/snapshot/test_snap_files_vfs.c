/* test_snap_files_vfs.c - the vfs section (snap_vfs.c): /tmp and /code
 * trees come back whole (contents, symlinks, modes, times, inode numbers,
 * listing order), with the working directory and umask; the restoring
 * VM's caps bound what comes back; malformed sections are refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fs/fs_test.h"
#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "kernel/file.h"
#include "snap_files_fixture.h"
#include "snapshot/snap_parts.h"

static void put_file(struct sfx *x, const char *path, const char *content) {
  struct file *f;
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, path, O_CREAT | O_WRONLY, 0640, &f), 0);
  assert_int_equal(fst_write_str(f, content), (ssize_t)strlen(content));
  file_unref(f);
}

static void stat_of(struct sfx *x, const char *path, struct stat *st) {
  assert_int_equal(vfs_fstatat(x->vm.vfs, &x->vm.fds, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW), 0);
}

static void assert_same_stat(const struct stat *a, const struct stat *b) {
  assert_int_equal(a->st_ino, b->st_ino);
  assert_int_equal(a->st_mode, b->st_mode);
  assert_int_equal(a->st_size, b->st_size);
  assert_int_equal(a->st_nlink, b->st_nlink);
  assert_int_equal(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
  assert_int_equal(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
  assert_int_equal(a->st_ctim.tv_nsec, b->st_ctim.tv_nsec);
}

/* A tree with a removed entry (a gap in the cookies), nesting, a link, an
 * empty file, a file in /code; cwd /tmp/a, umask 027, another program. */
static struct sfx *populated(void) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct vfs *v = x->vm.vfs;
  assert_int_equal(vfs_mkdirat(v, &x->vm.fds, AT_FDCWD, "/tmp/a", 0750), 0);
  put_file(x, "/tmp/a/gone", "x");
  put_file(x, "/tmp/a/f.txt", "hello, snapshot");
  assert_int_equal(vfs_unlinkat(v, &x->vm.fds, AT_FDCWD, "/tmp/a/gone", 0), 0);
  assert_int_equal(vfs_mkdirat(v, &x->vm.fds, AT_FDCWD, "/tmp/a/sub", 0700), 0);
  put_file(x, "/tmp/a/sub/deep", "deep bytes");
  put_file(x, "/tmp/a/empty", "");
  assert_int_equal(vfs_symlinkat(v, &x->vm.fds, "a/f.txt", AT_FDCWD, "/tmp/link"), 0);
  put_file(x, "/code/handler.py", "def handler(e): return e\n");
  assert_int_equal(vfs_chdir(v, "/tmp/a"), 0);
  vfs_umask(v, 027);
  assert_int_equal(vfs_set_exe(v, "/usr/bin/python3.11"), 0);
  return x;
}

static const char *const paths[] = {"/tmp",       "/tmp/a",          "/tmp/a/f.txt",
                                    "/tmp/a/sub", "/tmp/a/sub/deep", "/tmp/a/empty",
                                    "/tmp/link",  "/code",           "/code/handler.py"};
#define NPATHS (sizeof paths / sizeof paths[0])

static void test_tree_round_trip(void **state) {
  struct sfx *a = populated();
  struct stat before[NPATHS];
  for (size_t i = 0; i < NPATHS; i++)
    stat_of(a, paths[i], &before[i]);
  char list_a[512];
  assert_int_equal(fst_listdir(a->vm.vfs, &a->vm.fds, "/tmp/a", 64, list_a, sizeof list_a), 5);
  struct snap_buf b;
  sfx_save(a, snap_save_vfs, &b);

  struct sfx *r = sfx_new(NULL, 0, 0);
  assert_int_equal(sfx_load(r, snap_load_vfs, b.p, b.len), 0);
  for (size_t i = 0; i < NPATHS; i++) {
    struct stat after;
    stat_of(r, paths[i], &after);
    assert_same_stat(&before[i], &after);
  }
  char buf[128];
  assert_int_equal(fst_slurp(r->vm.vfs, &r->vm.fds, "/tmp/link", buf, sizeof buf), 15);
  assert_string_equal(buf, "hello, snapshot");
  assert_int_equal(fst_slurp(r->vm.vfs, &r->vm.fds, "sub/deep", buf, sizeof buf), 10);
  assert_string_equal(buf, "deep bytes");
  assert_true(fst_slurp(r->vm.vfs, &r->vm.fds, "/code/handler.py", buf, sizeof buf) > 0);
  assert_string_equal(buf, "def handler(e): return e\n");
  ssize_t n = vfs_readlinkat(r->vm.vfs, &r->vm.fds, AT_FDCWD, "/tmp/link", buf, sizeof buf);
  assert_int_equal(n, 7);
  assert_memory_equal(buf, "a/f.txt", 7);
  assert_int_equal(vfs_getcwd(r->vm.vfs, buf, sizeof buf), 7);
  assert_string_equal(buf, "/tmp/a");
  assert_int_equal(vfs_umask(r->vm.vfs, 0), 027);
  assert_string_equal(vfs_exe(r->vm.vfs), "/usr/bin/python3.11");
  char list_r[512];
  assert_int_equal(fst_listdir(r->vm.vfs, &r->vm.fds, "/tmp/a", 64, list_r, sizeof list_r), 5);
  assert_string_equal(list_a, list_r);
  /* A node made after the restore gets an inode no saved node has. */
  put_file(r, "/tmp/new", "n");
  struct stat st;
  stat_of(r, "/tmp/new", &st);
  for (size_t i = 1; i < NPATHS; i++)
    if (strncmp(paths[i], "/tmp", 4) == 0)
      assert_true(st.st_ino != before[i].st_ino);
  /* The caps' counts came back with the tree (plus the new file). */
  struct tmpfs *ta = vfs_tmpfs(a->vm.vfs, false), *tr = vfs_tmpfs(r->vm.vfs, false);
  assert_int_equal(tmpfs_bytes_used(tr), tmpfs_bytes_used(ta) + 1);
  assert_int_equal(tmpfs_entries_used(tr), tmpfs_entries_used(ta) + 1);
  free(b.p);
  sfx_free(a);
  sfx_free(r);
}

/* The restoring VM's caps bound what comes back: bytes and entries. */
static void test_caps_bound_restore(void **state) {
  struct sfx *a = populated();
  struct snap_buf b;
  sfx_save(a, snap_save_vfs, &b);
  struct sfx *small = sfx_new(NULL, 16, 0); /* 32 bytes of files + link are in /tmp */
  assert_int_equal(sfx_load(small, snap_load_vfs, b.p, b.len), -ENOSPC);
  sfx_free(small);
  struct sfx *few = sfx_new(NULL, 0, 3); /* 6 entries are in /tmp */
  assert_int_equal(sfx_load(few, snap_load_vfs, b.p, b.len), -ENOSPC);
  sfx_free(few);
  struct sfx *exact = sfx_new(NULL, 0, 6);
  assert_int_equal(sfx_load(exact, snap_load_vfs, b.p, b.len), 0);
  sfx_free(exact);
  free(b.p);
  sfx_free(a);
}

/* The file contents bound the section: a large file is in it whole. */
static void test_contents_in_section(void **state) {
  struct sfx *a = sfx_new(NULL, 0, 0);
  static char big[200000];
  memset(big, 'z', sizeof big - 1);
  put_file(a, "/tmp/big", big);
  struct snap_buf b;
  sfx_save(a, snap_save_vfs, &b);
  assert_true(b.len > sizeof big);
  struct sfx *r = sfx_new(NULL, 0, 0);
  assert_int_equal(sfx_load(r, snap_load_vfs, b.p, b.len), 0);
  static char back[sizeof big + 1];
  assert_int_equal(fst_slurp(r->vm.vfs, &r->vm.fds, "/tmp/big", back, sizeof back),
                   (ssize_t)sizeof big - 1);
  assert_memory_equal(back, big, sizeof big - 1);
  free(b.p);
  sfx_free(a);
  sfx_free(r);
}

/* Every truncation of a good section is refused (no crash, no leak). */
static void test_truncations_refused(void **state) {
  struct sfx *a = populated();
  struct snap_buf b;
  sfx_save(a, snap_save_vfs, &b);
  for (size_t len = 0; len < b.len; len += len < 64 ? 1 : 7) {
    struct sfx *r = sfx_new(NULL, 0, 0);
    assert_true(sfx_load(r, snap_load_vfs, b.p, len) < 0);
    sfx_free(r);
  }
  struct sfx *r = sfx_new(NULL, 0, 0);
  uint8_t *longer = malloc(b.len + 1);
  memcpy(longer, b.p, b.len);
  longer[b.len] = 0;
  assert_int_equal(sfx_load(r, snap_load_vfs, longer, b.len + 1), -EBADMSG);
  free(longer);
  sfx_free(r);
  free(b.p);
  sfx_free(a);
}

/* Hand-made sections: a node under a file, a length past the section, a
 * bad name, a device node. */
static void put_root(struct snap_buf *b) {
  snap_put_u64(b, 100); /* next_ino */
  snap_put_str(b, NULL);
  snap_put_u32(b, S_IFDIR | 01777);
  snap_put_u64(b, 1);
  snap_put_u64(b, 0);
  snap_put_u64(b, 3);
  for (int i = 0; i < 6; i++)
    snap_put_u64(b, 0);
  snap_put_u64(b, 0);
}

static void put_node(struct snap_buf *b, uint64_t parent, const char *name, uint32_t mode,
                     uint64_t ino, uint64_t cookie, uint64_t len, const char *data) {
  snap_put_u64(b, parent);
  snap_put_str(b, name);
  snap_put_u32(b, mode);
  snap_put_u64(b, ino);
  snap_put_u64(b, cookie);
  snap_put_u64(b, 3);
  for (int i = 0; i < 6; i++)
    snap_put_u64(b, 0);
  snap_put_u64(b, len);
  if (data)
    snap_put_bytes(b, data, strlen(data));
}

enum bad { BAD_NONE, BAD_UNDER_FILE, BAD_LEN, BAD_NAME, BAD_DEVICE, BAD_COOKIE, BAD_INO };

static int load_crafted(enum bad what) {
  struct snap_buf b = {0};
  snap_put_str(&b, "/");
  snap_put_u32(&b, 022);
  snap_put_u64(&b, 1);
  snap_put_str(&b, NULL); /* no /proc/self/exe */
  put_root(&b);
  snap_put_u64(&b, 2);
  put_node(&b, 0, what == BAD_NAME ? "a/b" : "f",
           what == BAD_DEVICE ? S_IFCHR | 0600 : S_IFREG | 0600, 2, 3,
           what == BAD_LEN ? 1u << 30 : 2, "hi");
  put_node(&b, what == BAD_UNDER_FILE ? 1 : 0, "g", S_IFREG | 0600, what == BAD_INO ? 100 : 3,
           what == BAD_COOKIE ? 3 : 4, 0, NULL);
  put_root(&b); /* /code: empty */
  snap_put_u64(&b, 0);
  assert_int_equal(b.err, 0);
  struct sfx *r = sfx_new(NULL, 0, 0);
  int rc = sfx_load(r, snap_load_vfs, b.p, b.len);
  sfx_free(r);
  free(b.p);
  return rc;
}

static void test_malformed_refused(void **state) {
  assert_int_equal(load_crafted(BAD_NONE), 0);
  assert_int_equal(load_crafted(BAD_UNDER_FILE), -EBADMSG);
  assert_int_equal(load_crafted(BAD_LEN), -EBADMSG);
  assert_int_equal(load_crafted(BAD_NAME), -EBADMSG);
  assert_int_equal(load_crafted(BAD_DEVICE), -EBADMSG);
  assert_int_equal(load_crafted(BAD_COOKIE), -EBADMSG);
  assert_int_equal(load_crafted(BAD_INO), -EBADMSG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_round_trip),     cmocka_unit_test(test_caps_bound_restore),
      cmocka_unit_test(test_contents_in_section), cmocka_unit_test(test_truncations_refused),
      cmocka_unit_test(test_malformed_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
