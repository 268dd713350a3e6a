/* /dev and /proc: the device nodes (Linux's numbers, what they read and
 * write), the stdio links, /proc/self/exe and /proc/self/fd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"

struct fixture {
  struct fdtable fds;
  struct vfs *v;
};

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fdtable_init(&fx->fds);
  fx->v = fst_vfs(NULL, &fx->fds, 0, 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fdtable_fini(&fx->fds);
  vfs_destroy(fx->v);
  free(fx);
  return 0;
}

static void expect_chardev(struct fixture *fx, const char *path, unsigned minor) {
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, path, &st, 0), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0666);
  assert_int_equal(major(st.st_rdev), 1);
  assert_int_equal(minor(st.st_rdev), minor);
}

static void device_numbers_are_linux_ones(void **state) {
  struct fixture *fx = *state;
  expect_chardev(fx, "/dev/null", 3);
  expect_chardev(fx, "/dev/zero", 5);
  expect_chardev(fx, "/dev/random", 8);
  expect_chardev(fx, "/dev/urandom", 9);
  struct stat a, b;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/dev/null", &a, 0), 0);
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/dev/zero", &b, 0), 0);
  assert_true(a.st_ino != b.st_ino);
  assert_int_equal(a.st_dev, b.st_dev);
}

static void null_zero_urandom(void **state) {
  struct fixture *fx = *state;
  struct file *f;
  char buf[64];
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/null", O_RDWR, 0, &f), 0);
  assert_int_equal(fst_read(f, buf, sizeof buf), 0);
  assert_int_equal(fst_write_str(f, "discarded"), 9);
  file_unref(f);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/zero", O_RDONLY, 0, &f), 0);
  memset(buf, 'x', sizeof buf);
  assert_int_equal(fst_read(f, buf, sizeof buf), sizeof buf);
  for (size_t i = 0; i < sizeof buf; i++)
    assert_int_equal(buf[i], 0);
  file_unref(f);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/urandom", O_RDONLY, 0, &f), 0);
  char other[64];
  assert_int_equal(fst_read(f, buf, sizeof buf), sizeof buf);
  assert_int_equal(fst_read(f, other, sizeof other), sizeof other);
  assert_memory_not_equal(buf, other, sizeof buf);
  file_unref(f);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/newnode", O_WRONLY | O_CREAT, 0644, &f), -EROFS);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/nope", O_RDONLY, 0, &f), -ENOENT);
}

static void dev_listing(void **state) {
  struct fixture *fx = *state;
  char out[512];
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/dev", 4096, out, sizeof out), 10);
  assert_true(fst_listed(out, "null", DT_CHR));
  assert_true(fst_listed(out, "urandom", DT_CHR));
  assert_true(fst_listed(out, "stdout", DT_LNK));
  assert_true(fst_listed(out, "..", DT_DIR));
}

static void proc_self_exe(void **state) {
  struct fixture *fx = *state;
  char buf[64];
  ssize_t n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/exe", buf, sizeof buf);
  assert_int_equal(n, strlen("/bin/prog"));
  assert_memory_equal(buf, "/bin/prog", n);
  assert_int_equal(vfs_set_exe(fx->v, "/tmp/other"), 0);
  n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/exe", buf, sizeof buf);
  assert_memory_equal(buf, "/tmp/other", n);
  /* Following it opens the program's file. */
  struct file *f;
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/other", O_WRONLY | O_CREAT, 0755, &f), 0);
  assert_int_equal(fst_write_str(f, "ELF"), 3);
  file_unref(f);
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/proc/self/exe", buf, sizeof buf), 3);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/1/status", O_RDONLY, 0, &f), -ENOENT);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/maps", O_RDONLY, 0, &f), -ENOENT);
}

static void proc_self_fd_and_dev_stdio(void **state) {
  struct fixture *fx = *state;
  struct file *rd, *wr, *tmp, *f;
  assert_int_equal(vfs_pipe(fx->v, 0, &rd, &wr), 0);
  assert_int_equal(fdtable_install_at(&fx->fds, 0, rd, false), 0);
  assert_int_equal(fdtable_install_at(&fx->fds, 1, wr, false), 1);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/tmp/t", O_RDWR | O_CREAT, 0600, &tmp), 0);
  assert_int_equal(fdtable_install_at(&fx->fds, 5, tmp, false), 5);
  char out[256];
  assert_int_equal(fst_listdir(fx->v, &fx->fds, "/proc/self/fd", 4096, out, sizeof out), 5);
  assert_true(fst_listed(out, "0", DT_LNK) && fst_listed(out, "1", DT_LNK));
  assert_true(fst_listed(out, "5", DT_LNK) && !fst_listed(out, "2", DT_LNK));
  char buf[64];
  ssize_t n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/fd/5", buf, sizeof buf);
  assert_int_equal(n, 6);
  assert_memory_equal(buf, "/tmp/t", 6);
  n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/dev/stdout", buf, sizeof buf);
  assert_memory_equal(buf, "/proc/self/fd/1", n);
  n = vfs_readlinkat(fx->v, &fx->fds, AT_FDCWD, "/proc/self/fd/0", buf, sizeof buf);
  assert_true(n > 6 && !memcmp(buf, "pipe:[", 6));
  /* Opening /dev/stdout reaches the pipe behind fd 1. */
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/stdout", O_WRONLY, 0, &f), 0);
  assert_ptr_equal(f, wr);
  assert_int_equal(fst_write_str(f, "via /dev/stdout"), 15);
  file_unref(f);
  assert_int_equal(fst_read(rd, buf, sizeof buf), 15);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/stdin", O_WRONLY, 0, &f), -EACCES);
  struct stat st;
  assert_int_equal(vfs_fstatat(fx->v, &fx->fds, AT_FDCWD, "/dev/stdin", &st, 0), 0);
  assert_true(S_ISFIFO(st.st_mode));
  /* A /tmp file through its fd link: the same file, even once renamed. */
  assert_int_equal(vfs_renameat(fx->v, &fx->fds, AT_FDCWD, "/tmp/t", AT_FDCWD, "/tmp/u"), 0);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/dev/fd/5", O_RDWR, 0, &f), 0);
  assert_int_equal(fst_write_str(f, "abc"), 3);
  file_unref(f);
  assert_int_equal(fst_slurp(fx->v, &fx->fds, "/tmp/u", buf, sizeof buf), 3);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/fd/7", O_RDONLY, 0, &f), -ENOENT);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/fd/00", O_RDONLY, 0, &f), -ENOENT);
  assert_int_equal(fst_open(fx->v, &fx->fds, "/proc/self/fd/0/x", O_RDONLY, 0, &f), -ENOTDIR);
}

static void host_stdio_wraps_a_host_fd(void **state) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct file *in = vfs_host_stdio(p[0], O_RDONLY), *out = vfs_host_stdio(p[1], O_WRONLY);
  char buf[16];
  assert_int_equal(fst_read(in, buf, sizeof buf), -EAGAIN); /* nothing yet: never blocks */
  assert_int_equal(in->ops->poll(in, POLLIN), 0);
  assert_int_equal(fst_write_str(out, "hi"), 2);
  assert_int_equal(in->ops->poll(in, POLLIN), POLLIN);
  assert_int_equal(fst_read(in, buf, sizeof buf), 2);
  assert_int_equal(in->ops->host_fd(in), p[0]);
  assert_int_equal(in->ops->lseek(in, 0, SEEK_SET), -ESPIPE);
  struct stat st;
  assert_int_equal(in->ops->fstat(in, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_true(!strncmp(in->ops->path(in), "pipe:[", 6));
  file_unref(in);
  /* The host fd stays open: the description does not own it. */
  assert_int_equal(fcntl(p[0], F_GETFD), 0);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  assert_int_equal(fst_write_str(out, "x"), -EPIPE);
  file_unref(out);
  close(p[1]);
}

/* A guest that made stdout non-blocking gets what fits, then EAGAIN, never
 * a VMM stuck until the host reader drains the pipe. */
static void nonblocking_stdio_writes_do_not_wait(void **state) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct file *out = vfs_host_stdio(p[1], O_WRONLY | O_NONBLOCK);
  size_t len = 1 << 20;
  char *big = calloc(1, len);
  struct iovec iov = {.iov_base = big, .iov_len = len};
  ssize_t n = out->ops->write(out, &iov, 1);
  assert_true(n > 0 && (size_t)n < len);
  assert_int_equal(out->ops->write(out, &iov, 1), -EAGAIN);
  assert_int_equal(out->ops->poll(out, POLLOUT), 0);
  free(big);
  file_unref(out);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(device_numbers_are_linux_ones, setup, teardown),
      cmocka_unit_test_setup_teardown(null_zero_urandom, setup, teardown),
      cmocka_unit_test_setup_teardown(dev_listing, setup, teardown),
      cmocka_unit_test_setup_teardown(proc_self_exe, setup, teardown),
      cmocka_unit_test_setup_teardown(proc_self_fd_and_dev_stdio, setup, teardown),
      cmocka_unit_test_setup_teardown(host_stdio_wraps_a_host_fd, setup, teardown),
      cmocka_unit_test(nonblocking_stdio_writes_do_not_wait),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
