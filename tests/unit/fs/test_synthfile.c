/* Synthetic read-only files: /sys/devices/system/cpu's lists (content,
 * stat, listings, EACCES for writes, lseek and pread on the snapshot) and
 * /proc/self/maps from a fake generator (snapshot at open, the bound it is
 * given, its errors, absence without one). */
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

#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"

/* What the fake maps generator answers: `fill` bytes of `text` repeated
 * (all the room it is given when fill is SIZE_MAX), or `err`. */
struct fake_maps {
  const char *text;
  size_t fill;
  int err;
  int calls;
  size_t last_len; /* the room the last call was given */
};

static ssize_t fake_maps_gen(void *ctx, char *buf, size_t len) {
  struct fake_maps *fm = ctx;
  fm->calls++;
  fm->last_len = len;
  if (fm->err)
    return fm->err;
  size_t n = fm->fill == SIZE_MAX ? len : strlen(fm->text);
  for (size_t i = 0; i < n; i++)
    buf[i] = fm->text[i % strlen(fm->text)];
  return (ssize_t)n;
}

struct fixture {
  struct fdtable fds;
  struct vfs *v;
  struct fake_maps maps;
};

static struct fixture *fixture_new(uid_t uid) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fdtable_init(&fx->fds);
  fx->maps.text = "00400000-00401000 r-xp 00000000 00:00 0 \n";
  struct vfs_config cfg = {.exe_path = "/bin/prog",
                           .fds = &fx->fds,
                           .uid = uid,
                           .gid = uid,
                           .maps = fake_maps_gen,
                           .maps_ctx = &fx->maps};
  assert_int_equal(vfs_create(&cfg, &fx->v), 0);
  return fx;
}

static int setup(void **state) {
  *state = fixture_new(1000);
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fdtable_fini(&fx->fds);
  vfs_destroy(fx->v);
  free(fx);
  return 0;
}

static const char *const cpu_lists[] = {"/sys/devices/system/cpu/online",
                                        "/sys/devices/system/cpu/possible",
                                        "/sys/devices/system/cpu/present"};

static void cpu_lists_say_one_cpu(void **state) {
  struct fixture *fx = *state;
  char buf[64];
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(fst_slurp(fx->v, &fx->fds, cpu_lists[i], buf, sizeof buf), 2);
    assert_string_equal(buf, "0\n");
  }
}

static void cpu_lists_stat_as_sysfs_attributes(void **state) {
  struct fixture *fx = *state;
  struct stat st, other, fst;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, cpu_lists[0], &st, 0), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0444);
  assert_int_equal(st.st_size, 4096);
  assert_int_equal(st.st_blksize, 4096);
  assert_int_equal(st.st_uid, 1000);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, cpu_lists[1], &other, 0), 0);
  assert_int_equal(other.st_dev, st.st_dev);
  assert_true(other.st_ino != st.st_ino);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/maps", &other, 0), 0);
  assert_true(other.st_dev != st.st_dev);
  /* fstat of an open description agrees with stat. */
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, cpu_lists[0], O_RDONLY, 0, &f), 0);
  assert_int_equal(f->ops->fstat(f, &fst), 0);
  assert_int_equal(fst.st_ino, st.st_ino);
  assert_int_equal(fst.st_size, 4096);
  file_unref(f);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, cpu_lists[0], R_OK, 0), 0);
  assert_int_equal(vfs_faccessat(fx->v, &fx->fds, AT_FDCWD, cpu_lists[0], W_OK, 0), -EACCES);
}

static void writes_are_eacces(void **state) {
  struct fixture *fx = *state;
  static const int flags[] = {O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND};
  struct file *f;
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    assert_int_equal(fst_open(fx->v, &fx->fds, cpu_lists[0], flags[i], 0, &f), -EACCES);
    assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/maps", flags[i], 0, &f), -EACCES);
  }
  /* Even for root: sysfs refuses an open for writing with no store method. */
  struct fixture *root = fixture_new(0);
  assert_int_equal(fst_open(root->v, &root->fds, cpu_lists[2], O_WRONLY, 0, &f), -EACCES);
  assert_int_equal(fst_open(root->v, &root->fds, "/proc/self/maps", O_RDWR, 0, &f), -EACCES);
  void *p = root;
  teardown(&p);
  /* Nothing can be made in /sys. */
  assert_int_equal(vfs_mkdirat(fx->v, &fx->fds, AT_FDCWD, "/sys/devices/x", 0755), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/sys/new", O_WRONLY | O_CREAT, 0644, &f), -EROFS);
  assert_int_equal(vfs_unlinkat(fx->v, &fx->fds, AT_FDCWD, cpu_lists[0], 0), -EROFS);
}

static ssize_t pread_at(struct file *f, char *buf, size_t len, off_t off) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  return f->ops->pread(f, &iov, 1, off);
}

static void lseek_and_pread_on_the_snapshot(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  char buf[8] = {0};
  assert_int_equal(fst_open(fx->v, &fx->fds, cpu_lists[0], O_RDONLY, 0, &f), 0);
  assert_int_equal(fst_read(f, buf, 1), 1);
  assert_int_equal(buf[0], '0');
  assert_int_equal(f->ops->lseek(f, 0, SEEK_CUR), 1);
  assert_int_equal(fst_read(f, buf, sizeof buf), 1);
  assert_int_equal(buf[0], '\n');
  assert_int_equal(fst_read(f, buf, sizeof buf), 0);
  assert_int_equal(f->ops->lseek(f, 0, SEEK_END), 2);
  assert_int_equal(f->ops->lseek(f, -2, SEEK_END), 0);
  assert_int_equal(f->ops->lseek(f, -1, SEEK_SET), -EINVAL);
  assert_int_equal(f->ops->lseek(f, 0, 42), -EINVAL);
  assert_int_equal(f->ops->lseek(f, 100, SEEK_SET), 100);
  assert_int_equal(fst_read(f, buf, sizeof buf), 0); /* past the end */
  /* pread leaves the position alone. */
  assert_int_equal(f->ops->lseek(f, 1, SEEK_SET), 1);
  assert_int_equal(pread_at(f, buf, sizeof buf, 0), 2);
  assert_memory_equal(buf, "0\n", 2);
  assert_int_equal(pread_at(f, buf, sizeof buf, 1), 1);
  assert_int_equal(pread_at(f, buf, sizeof buf, 2), 0);
  assert_int_equal(pread_at(f, buf, sizeof buf, 1 << 30), 0);
  assert_int_equal(pread_at(f, buf, sizeof buf, -1), -EINVAL);
  assert_int_equal(f->ops->lseek(f, 0, SEEK_CUR), 1);
  /* Split over iovecs. */
  char a = 0, b = 0;
  struct iovec iov[2] = {{&a, 1}, {&b, 1}};
  assert_int_equal(f->ops->pread(f, iov, 2, 0), 2);
  assert_int_equal(a, '0');
  assert_int_equal(b, '\n');
  assert_null(f->ops->write);
  assert_null(f->ops->getdents);
  file_unref(f);
}

static void sys_listings(void **state) {
  struct fixture *fx = *state;
  char out[512];
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/sys", 4096, out, sizeof out), 3);
  assert_string_equal(out, "./4 ../4 devices/4 ");
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/sys/devices", 4096, out, sizeof out), 3);
  assert_string_equal(out, "./4 ../4 system/4 ");
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/sys/devices/system", 4096, out, sizeof out), 3);
  assert_string_equal(out, "./4 ../4 cpu/4 ");
  /* Small buffers too: one record per getdents. */
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/sys/devices/system/cpu", 32, out, sizeof out), 6);
  assert_string_equal(out, "./4 ../4 cpu0/4 online/8 possible/8 present/8 ");
  assert_int_equal(
      fst_listdir(fx->v, &fx->fds, "/sys/devices/system/cpu/cpu0", 4096, out, sizeof out), 2);
  /* ".." of a directory names its parent's inode. */
  struct stat cpu, dotdot;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/sys/devices/system/cpu", &cpu, 0), 0);
  assert_int_equal(
      vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/sys/devices/system/cpu/cpu0/..", &dotdot, 0), 0);
  assert_int_equal(cpu.st_ino, dotdot.st_ino);
  assert_true(S_ISDIR(cpu.st_mode));
  assert_int_equal(cpu.st_mode & 07777, 0755);
}

static void everything_else_in_sys_is_enoent(void **state) {
  struct fixture *fx = *state;
  static const char *const missing[] = {"/sys/kernel",
                                        "/sys/devices/system/cpu/cpu1",
                                        "/sys/devices/system/memory",
                                        "/sys/devices/virtual",
                                        "/sys/fs/cgroup",
                                        "/sys/devices/system/cpu/offline",
                                        "/sys/cpu",
                                        "/sys/online"};
  struct stat st;
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
    assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, missing[i], &st, 0), -ENOENT);
  assert_int_equal(
      vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/sys/devices/system/cpu/online/x", &st, 0), -ENOTDIR);
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, cpu_lists[0], O_RDONLY | O_DIRECTORY, 0, &f),
                   -ENOTDIR);
  /* Paths and the working directory inside /sys. */
  char cwd[64];
  assert_int_equal(vfs_chdir(fx->v, "/sys/devices/system/cpu/cpu0"), 0);
  assert_int_equal(vfs_getcwd(fx->v, cwd, sizeof cwd), 29);
  assert_string_equal(cwd, "/sys/devices/system/cpu/cpu0");
  char buf[8];
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "../online", buf, sizeof buf), 2);
  assert_int_equal(fst_open(fx->v, &fx->fds, "../present", O_RDONLY, 0, &f), 0);
  assert_string_equal(f->ops->path(f), "/sys/devices/system/cpu/present");
  file_unref(f);
}

static void maps_comes_from_the_generator(void **state) {
  struct fixture *fx = *state;
  char buf[256];
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/proc/self/maps", buf, sizeof buf),
                   strlen(fx->maps.text));
  assert_string_equal(buf, fx->maps.text);
  assert_int_equal(fx->maps.calls, 1);
  assert_int_equal(fx->maps.last_len, 64 * 1024);
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/maps", &st, 0), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0444);
  assert_int_equal(st.st_size, 0);     /* as every /proc file */
  assert_int_equal(fx->maps.calls, 1); /* stat does not generate */
  char out[256];
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/proc/self", 4096, out, sizeof out), 5);
  assert_true(fst_listed(out, "maps", DT_REG) && fst_listed(out, "exe", DT_LNK));
}

/* The content is taken when the file is opened: later changes show in the
 * next open only. */
static void maps_is_a_snapshot_per_open(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  char buf[128] = {0};
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/maps", O_RDONLY, 0, &f), 0);
  const char *first = fx->maps.text;
  fx->maps.text = "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n";
  assert_int_equal(fst_read(f, buf, 10), 10);
  assert_memory_equal(buf, first, 10);
  assert_int_equal(fst_read(f, buf, sizeof buf - 1), strlen(first) - 10);
  assert_int_equal(fx->maps.calls, 1);
  assert_int_equal(f->ops->lseek(f, 0, SEEK_SET), 0);
  assert_int_equal(fst_read(f, buf, 5), 5);
  assert_memory_equal(buf, first, 5);
  file_unref(f);
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/proc/self/maps", buf, sizeof buf),
                   strlen(fx->maps.text));
  assert_string_equal(buf, fx->maps.text);
  assert_int_equal(fx->maps.calls, 2);
}

/* A generator filling all its room gives a 64 KiB file, read whole. */
static void maps_is_bounded(void **state) {
  struct fixture *fx = *state;
  fx->maps.fill = SIZE_MAX;
  static char buf[128 * 1024];
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/proc/self/maps", buf, sizeof buf), 64 * 1024);
  assert_memory_equal(buf, fx->maps.text, strlen(fx->maps.text));
}

static void maps_generator_errors_fail_the_open(void **state) {
  struct fixture *fx = *state;
  fx->maps.err = -ENOMEM;
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/maps", O_RDONLY, 0, &f), -ENOMEM);
  fx->maps.err = 0;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/maps", O_RDONLY, 0, &f), 0);
  /* /proc/self/fd/N names it. */
  int fd = fdtable_install(&fx->fds, f, false, 0);
  assert_true(fd >= 0);
  char path[32], link[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, path, link, sizeof link);
  assert_int_equal(n, strlen("/proc/self/maps"));
  assert_memory_equal(link, "/proc/self/maps", n);
}

/* Without a generator there is no /proc/self/maps. */
static void no_generator_no_maps(void **state) {
  struct fdtable fds;
  fdtable_init(&fds);
  struct vfs *v = fst_vfs(NULL, &fds, 0, 0);
  struct file *f;
  assert_int_equal(fst_open(v, &fds, "/proc/self/maps", O_RDONLY, 0, &f), -ENOENT);
  char out[256];
  assert_int_equal(fst_listdir(v, &fds, "/proc/self", 4096, out, sizeof out), 4);
  assert_false(fst_listed(out, "maps", DT_REG));
  /* /sys is there all the same. */
  char buf[8];
  assert_int_equal(fst_slurp(v, &fds, cpu_lists[0], buf, sizeof buf), 2);
  fdtable_fini(&fds);
  vfs_destroy(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(cpu_lists_say_one_cpu, setup, teardown),
      cmocka_unit_test_setup_teardown(cpu_lists_stat_as_sysfs_attributes, setup, teardown),
      cmocka_unit_test_setup_teardown(writes_are_eacces, setup, teardown),
      cmocka_unit_test_setup_teardown(lseek_and_pread_on_the_snapshot, setup, teardown),
      cmocka_unit_test_setup_teardown(sys_listings, setup, teardown),
      cmocka_unit_test_setup_teardown(everything_else_in_sys_is_enoent, setup, teardown),
      cmocka_unit_test_setup_teardown(maps_comes_from_the_generator, setup, teardown),
      cmocka_unit_test_setup_teardown(maps_is_a_snapshot_per_open, setup, teardown),
      cmocka_unit_test_setup_teardown(maps_is_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(maps_generator_errors_fail_the_open, setup, teardown),
      cmocka_unit_test(no_generator_no_maps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
