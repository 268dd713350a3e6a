/* What a blocking call sleeps on for framed stdio's descriptions (their
 * host_watch ops) against what their poll ops answer: whenever the host fds
 * would end a sleep at once, the poll op must report something the caller
 * asked for (or an error), else poll(), ppoll and epoll waits spin on the
 * host CPU. fd 0 (EVENT) asked only for writing and fds 1 and 2 asked only
 * for reading are the cases that spun; a host that hung up must show as an
 * error on fd 1 even past its cap. A host socketpair stands in for the
 * vsock connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_vm.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/stdio_frame.h"
#include "mem/gmem.h"
#include "mem/uaccess.h"
#include "net/vsock.h"
#include "proto/hearth_abi.h"

#define ARG_AT 0x10000ULL

/* --- stand-ins for what the test does not link --- */

static struct file *fake_conn;
static int guest_side = -1;

int vsock_file_stream_fd(struct file *f) { return f == fake_conn ? guest_side : -ENOTCONN; }

int vm_exit_status(const struct vm *vm) { return vm->stop_value; }

static const struct file_ops conn_ops = {0};

struct fixture {
  struct vm *vm;
  int host;
};

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  fx->vm = test_vm_new();
  test_vm_map(fx->vm, ARG_AT, 4096, GMEM_ACC_READ | GMEM_ACC_WRITE);
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  guest_side = sp[0];
  fx->host = sp[1];
  fake_conn = file_new(&conn_ops, O_RDWR, NULL);
  struct hearth_frame_stdio req = {.response_cap = 16};
  assert_int_equal(uaccess_copy_to(&fx->vm->mem, ARG_AT, &req, sizeof req), 0);
  assert_int_equal(stdio_frame_attach(fx->vm, fake_conn, ARG_AT), 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  if (fx->host >= 0)
    close(fx->host);
  fx->vm->stop = VM_STOP_EXIT;
  stdio_frame_finish(fx->vm);
  fdtable_fini(&fx->vm->fds);
  file_unref(fake_conn);
  close(guest_side);
  test_vm_free(fx->vm);
  free(fx);
  return 0;
}

static struct file *fd_file(struct fixture *fx, int fd) { return fdtable_get(&fx->vm->fds, fd); }

/* Whether a sleep on fd's host fds for events would end at once. */
static bool watch_ready(struct fixture *fx, int fd, short events) {
  struct pollfd p[FILE_WATCH_MAX];
  int n = file_host_watch(fd_file(fx, fd), events, p, FILE_WATCH_MAX);
  return poll(p, (nfds_t)n, 0) > 0;
}

/* What the caller sees of fd for events, as poll() reports it. */
static short seen(struct fixture *fx, int fd, short events) {
  struct file *f = fd_file(fx, fd);
  return f->ops->poll(f, events) & (events | POLLERR | POLLHUP);
}

/* The rule: a sleep that ends at once has something to report. */
static void assert_no_spin(struct fixture *fx, int fd, short events) {
  if (watch_ready(fx, fd, events))
    assert_int_not_equal(seen(fx, fd, events), 0);
}

static void response_asked_to_read_does_not_spin(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(seen(fx, 1, POLLIN), 0);
  assert_false(watch_ready(fx, 1, POLLIN));
  assert_no_spin(fx, 2, POLLIN);
}

static void response_asked_to_write_wakes(void **state) {
  struct fixture *fx = *state;
  assert_true(watch_ready(fx, 1, POLLOUT));
  assert_int_equal(seen(fx, 1, POLLOUT), POLLOUT);
}

static void event_asked_to_write_does_not_spin(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(write(fx->host, "h", 1), 1); /* bytes waiting on fd 0's socket */
  assert_no_spin(fx, 0, POLLOUT);
  assert_false(watch_ready(fx, 0, POLLOUT));
  assert_true(watch_ready(fx, 0, POLLIN));
  assert_int_not_equal(seen(fx, 0, POLLIN), 0);
}

static void hung_up_host_is_an_error_past_the_cap(void **state) {
  struct fixture *fx = *state;
  struct file *f = fd_file(fx, 1);
  char data[32] = {0};
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  assert_int_equal(f->ops->write(f, &iov, 1), (ssize_t)sizeof data); /* 16 sent, 16 counted out */
  close(fx->host);
  fx->host = -1;
  assert_true(watch_ready(fx, 1, POLLIN)); /* the hang-up */
  assert_int_equal(seen(fx, 1, POLLIN), POLLERR);
  assert_no_spin(fx, 1, POLLIN);
  assert_no_spin(fx, 0, POLLOUT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(response_asked_to_read_does_not_spin, setup, teardown),
      cmocka_unit_test_setup_teardown(response_asked_to_write_wakes, setup, teardown),
      cmocka_unit_test_setup_teardown(event_asked_to_write_does_not_spin, setup, teardown),
      cmocka_unit_test_setup_teardown(hung_up_host_is_an_error_past_the_cap, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
