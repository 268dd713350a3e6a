/* Pipes: data through the ring, EOF once the writers are gone, EPIPE once
 * the readers are, EAGAIN instead of blocking, PIPE_BUF atomicity, poll
 * bits, and what fstat and /proc/self/fd say. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"

struct fixture {
  struct vfs *v;
  struct file *rd, *wr;
};

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->v = fst_vfs(NULL, NULL, 0, 0);
  assert_int_equal(vfs_pipe(fx->v, O_NONBLOCK, &fx->rd, &fx->wr), 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  if (fx->rd)
    file_unref(fx->rd);
  if (fx->wr)
    file_unref(fx->wr);
  vfs_destroy(fx->v);
  free(fx);
  return 0;
}

static ssize_t write_n(struct file *f, size_t n, char c) {
  char *buf = malloc(n);
  memset(buf, c, n);
  struct iovec iov = {.iov_base = buf, .iov_len = n};
  ssize_t r = f->ops->write(f, &iov, 1);
  free(buf);
  return r;
}

static void data_flows_then_eof(void **state) {
  struct fixture *fx = *state;
  char buf[32] = {0};
  assert_true(file_readable(fx->rd) && !file_writable(fx->rd));
  assert_true(file_writable(fx->wr) && !file_readable(fx->wr));
  assert_int_equal(fx->rd->flags & O_NONBLOCK, O_NONBLOCK);
  assert_int_equal(fst_read(fx->rd, buf, sizeof buf), -EAGAIN);
  assert_int_equal(fst_write_str(fx->wr, "hello"), 5);
  assert_int_equal(vfs_pipe_nread(fx->rd), 5);
  assert_int_equal(vfs_pipe_nread(fx->wr), -ENOTTY);
  assert_int_equal(fst_read(fx->rd, buf, 3), 3);
  assert_memory_equal(buf, "hel", 3);
  /* A dup'ed description keeps the write side open. */
  struct file *dup = file_ref(fx->wr);
  file_unref(fx->wr);
  fx->wr = NULL;
  assert_int_equal(fst_read(fx->rd, buf, sizeof buf), 2);
  assert_int_equal(fst_read(fx->rd, buf, sizeof buf), -EAGAIN);
  file_unref(dup);
  assert_int_equal(fst_read(fx->rd, buf, sizeof buf), 0);
  assert_int_equal(fx->rd->ops->poll(fx->rd, POLLIN), POLLHUP);
}

static void writing_without_readers_is_epipe(void **state) {
  struct fixture *fx = *state;
  file_unref(fx->rd);
  fx->rd = NULL;
  assert_int_equal(fst_write_str(fx->wr, "x"), -EPIPE);
  assert_true(fx->wr->ops->poll(fx->wr, POLLOUT) & POLLERR);
}

static void a_full_pipe_is_eagain_and_small_writes_are_atomic(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(fx->wr->ops->poll(fx->wr, POLLOUT), POLLOUT | POLLWRNORM);
  assert_int_equal(write_n(fx->wr, 65536 - 100, 'a'), 65536 - 100);
  assert_int_equal(fx->wr->ops->poll(fx->wr, POLLOUT), 0);
  assert_int_equal(write_n(fx->wr, 200, 'b'), -EAGAIN); /* <= PIPE_BUF: all or nothing */
  assert_int_equal(write_n(fx->wr, 5000, 'c'), 100);    /* > PIPE_BUF: what fits */
  assert_int_equal(write_n(fx->wr, 1, 'd'), -EAGAIN);
  assert_int_equal(fx->rd->ops->poll(fx->rd, POLLIN), POLLIN | POLLRDNORM);
  char *buf = malloc(65536);
  struct iovec iov[2] = {{buf, 1000}, {buf + 1000, 65536 - 1000}};
  assert_int_equal(fx->rd->ops->read(fx->rd, iov, 2), 65536);
  assert_int_equal(buf[0], 'a');
  assert_int_equal(buf[65535], 'c');
  /* Wrapping around the ring keeps the order. */
  assert_int_equal(write_n(fx->wr, 40000, 'e'), 40000);
  assert_int_equal(fx->rd->ops->read(fx->rd, iov, 2), 40000);
  assert_int_equal(write_n(fx->wr, 40000, 'f'), 40000);
  assert_int_equal(write_n(fx->wr, 10, 'g'), 10);
  assert_int_equal(fx->rd->ops->read(fx->rd, iov, 2), 40010);
  assert_int_equal(buf[39999], 'f');
  assert_int_equal(buf[40000], 'g');
  free(buf);
}

static void fstat_and_path(void **state) {
  struct fixture *fx = *state;
  struct stat a, b;
  assert_int_equal(fx->rd->ops->fstat(fx->rd, &a), 0);
  assert_int_equal(fx->wr->ops->fstat(fx->wr, &b), 0);
  assert_true(S_ISFIFO(a.st_mode));
  assert_int_equal(a.st_ino, b.st_ino);
  assert_string_equal(fx->rd->ops->path(fx->rd), fx->wr->ops->path(fx->wr));
  assert_null(fx->rd->ops->lseek); /* ESPIPE */
  assert_null(fx->rd->ops->pread);
  struct file *r2, *w2;
  assert_int_equal(vfs_pipe(fx->v, 0, &r2, &w2), 0);
  assert_int_equal(r2->flags & O_NONBLOCK, 0);
  struct stat c;
  assert_int_equal(r2->ops->fstat(r2, &c), 0);
  assert_true(c.st_ino != a.st_ino);
  file_unref(w2);
  file_unref(r2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(data_flows_then_eof, setup, teardown),
      cmocka_unit_test_setup_teardown(writing_without_readers_is_epipe, setup, teardown),
      cmocka_unit_test_setup_teardown(a_full_pipe_is_eagain_and_small_writes_are_atomic, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(fstat_and_path, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
