/* Framed stdio (kernel/stdio_frame.h) against a host socketpair standing
 * in for the vsock connection: attach's checks, fd 0 reading the EVENT
 * stream out of DATA frames (never past a frame, headers in pieces, EOF at
 * END, -EPROTO and an ERROR frame for a foreign frame, -EIO when cut
 * short), fds 1 and 2 writing RESPONSE and LOG frames (split at
 * HF_DATA_MAX, counted past their caps), and the finish: END, END and the
 * RESULT of each way a VM stops, a dead host, and a host that never reads
 * (the finish still returns). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
#include "proto/frame.h"
#include "proto/frame_io.h"
#include "proto/hearth_abi.h"
#include "proto/json.h"

#define ARG_AT 0x10000ULL

/* --- stand-ins for what the test does not link --- */

static struct file *fake_conn; /* the "connected vsock socket" */
static int guest_side = -1;    /* its host stream socket */

int vsock_file_stream_fd(struct file *f) { return f == fake_conn ? guest_side : -ENOTCONN; }

int vm_exit_status(const struct vm *vm) {
  switch (vm->stop) {
  case VM_STOP_EXIT:
    return vm->stop_value;
  case VM_STOP_SIGNAL:
    return 128 + vm->stop_value;
  case VM_STOP_TIMEOUT:
    return 124;
  default:
    return 125;
  }
}

static const struct file_ops conn_ops = {0};

struct fixture {
  struct vm *vm;
  int host; /* the host's end of the connection */
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
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fx->vm->stop = VM_STOP_EXIT;
  stdio_frame_finish(fx->vm); /* no-op when the test finished already */
  fdtable_fini(&fx->vm->fds);
  file_unref(fake_conn);
  close(guest_side);
  if (fx->host >= 0)
    close(fx->host);
  test_vm_free(fx->vm);
  free(fx);
  return 0;
}

static long attach_caps(struct fixture *fx, uint64_t response_cap, uint64_t log_cap) {
  struct hearth_frame_stdio req = {.response_cap = response_cap, .log_cap = log_cap};
  assert_int_equal(uaccess_copy_to(&fx->vm->mem, ARG_AT, &req, sizeof req), 0);
  return stdio_frame_attach(fx->vm, fake_conn, ARG_AT);
}

static struct file *fd_file(struct fixture *fx, int fd) { return fdtable_get(&fx->vm->fds, fd); }

static ssize_t guest_read(struct fixture *fx, void *buf, size_t len) {
  struct file *f = fd_file(fx, 0);
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  return f->ops->read(f, &iov, 1);
}

static ssize_t guest_write(struct fixture *fx, int fd, const void *buf, size_t len) {
  struct file *f = fd_file(fx, fd);
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  return f->ops->write(f, &iov, 1);
}

static void host_event(struct fixture *fx, const char *s) {
  assert_int_equal(hf_write_frame(fx->host, HF_DATA, HF_STREAM_EVENT, s, (uint32_t)strlen(s)), 0);
}

/* What the host reads back: each stream's bytes, which streams ended, and
 * the last control frame's JSON. */
struct host_view {
  char response[1 << 20], log[4096];
  size_t response_len, log_len;
  bool response_end, log_end;
  uint8_t control_type;
  char control[4096];
};

/* Reads frames until a RESULT or ERROR frame, or the end of the stream. */
static void host_collect(int fd, struct host_view *v) {
  memset(v, 0, sizeof *v);
  for (;;) {
    struct hf_header h;
    if (hf_read_header(fd, &h) < 0)
      return;
    if (h.type == HF_DATA) {
      bool resp = h.stream == HF_STREAM_RESPONSE;
      char *dst = resp ? v->response + v->response_len : v->log + v->log_len;
      assert_true((resp ? v->response_len : v->log_len) + h.length <=
                  (resp ? sizeof v->response : sizeof v->log));
      assert_int_equal(hf_read_exact(fd, dst, h.length), 0);
      *(resp ? &v->response_len : &v->log_len) += h.length;
    } else if (h.type == HF_END) {
      *(h.stream == HF_STREAM_RESPONSE ? &v->response_end : &v->log_end) = true;
    } else {
      assert_true(h.length < sizeof v->control);
      assert_int_equal(hf_read_exact(fd, v->control, h.length), 0);
      v->control_type = h.type;
      return;
    }
  }
}

static void *collector(void *arg) {
  void **a = arg;
  host_collect(*(int *)a[0], a[1]);
  return NULL;
}

static uint64_t json_u64(const char *text, const char *key) {
  struct json_doc doc;
  uint64_t v = 0;
  assert_int_equal(json_parse(&doc, text, strlen(text)), 0);
  assert_int_equal(json_get_u64(&doc, key, &v), 0);
  return v;
}

static bool json_bool(const char *text, const char *key) {
  struct json_doc doc;
  bool v = false;
  assert_int_equal(json_parse(&doc, text, strlen(text)), 0);
  assert_int_equal(json_get_bool(&doc, key, &v), 0);
  return v;
}

static void json_str(const char *text, const char *key, const char *want) {
  struct json_doc doc;
  char got[256];
  assert_int_equal(json_parse(&doc, text, strlen(text)), 0);
  assert_true(json_get_string(&doc, key, got, sizeof got) >= 0);
  assert_string_equal(got, want);
}

static void finish_as(struct fixture *fx, enum vm_stop how, int value) {
  fx->vm->stop = how;
  fx->vm->stop_value = value;
  stdio_frame_finish(fx->vm);
}

static void attach_checks(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(stdio_frame_attach(fx->vm, fake_conn, 0x900000), -EFAULT);
  struct hearth_frame_stdio req = {.reserved = {0, 1}};
  assert_int_equal(uaccess_copy_to(&fx->vm->mem, ARG_AT, &req, sizeof req), 0);
  assert_int_equal(stdio_frame_attach(fx->vm, fake_conn, ARG_AT), -EINVAL);
  struct file *other = file_new(&conn_ops, O_RDWR, NULL);
  assert_int_equal(stdio_frame_attach(fx->vm, other, ARG_AT), -EINVAL);
  req.reserved[1] = 0;
  assert_int_equal(uaccess_copy_to(&fx->vm->mem, ARG_AT, &req, sizeof req), 0);
  assert_int_equal(stdio_frame_attach(fx->vm, other, ARG_AT), -ENOTCONN);
  file_unref(other);
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  assert_int_equal(attach_caps(fx, 0, 0), -EBUSY);
  /* fds 0, 1, 2 are the streams now: read-only, write-only, write-only. */
  assert_int_equal(fd_file(fx, 0)->flags & O_ACCMODE, O_RDONLY);
  assert_int_equal(fd_file(fx, 1)->flags & O_ACCMODE, O_WRONLY);
  assert_int_equal(fd_file(fx, 2)->flags & O_ACCMODE, O_WRONLY);
}

static void event_stream_reads_data_then_eof(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  struct file *in = fd_file(fx, 0);
  char buf[64] = {0};
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EAGAIN);
  assert_int_equal(in->ops->poll(in, POLLIN), 0);
  host_event(fx, "hello ");
  host_event(fx, "");
  host_event(fx, "world");
  assert_int_equal(hf_write_frame(fx->host, HF_END, HF_STREAM_EVENT, NULL, 0), 0);
  assert_int_equal(in->ops->poll(in, POLLIN) & POLLIN, POLLIN);
  /* One frame's payload at most per read; small buffers take it in parts. */
  assert_int_equal(guest_read(fx, buf, 4), 4);
  assert_int_equal(guest_read(fx, buf + 4, sizeof buf), 2);
  assert_int_equal(guest_read(fx, buf + 6, sizeof buf), 5);
  assert_string_equal(buf, "hello world");
  assert_int_equal(guest_read(fx, buf, sizeof buf), 0);
  assert_int_equal(guest_read(fx, buf, sizeof buf), 0);
}

/* A header arriving a byte at a time: -EAGAIN until it is whole. */
static void headers_in_pieces(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  uint8_t hdr[HF_HEADER_SIZE];
  struct hf_header h = {.type = HF_DATA, .stream = HF_STREAM_EVENT, .length = 3};
  assert_int_equal(hf_header_encode(&h, hdr), 0);
  char buf[8];
  for (int i = 0; i < HF_HEADER_SIZE; i++) {
    assert_int_equal(write(fx->host, hdr + i, 1), 1);
    assert_int_equal(guest_read(fx, buf, sizeof buf), -EAGAIN);
  }
  assert_int_equal(write(fx->host, "ab", 2), 2);
  assert_int_equal(guest_read(fx, buf, sizeof buf), 2);
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EAGAIN);
  assert_int_equal(write(fx->host, "c", 1), 1);
  assert_int_equal(guest_read(fx, buf, sizeof buf), 1);
  assert_int_equal(buf[0], 'c');
}

/* A frame of another stream: -EPROTO for good, an ERROR frame to the host,
 * and the connection is done (writes are a broken pipe, no RESULT). */
static void foreign_frame_is_eproto(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  host_event(fx, "ok");
  assert_int_equal(hf_write_frame(fx->host, HF_DATA, HF_STREAM_RESPONSE, "x", 1), 0);
  char buf[8];
  assert_int_equal(guest_read(fx, buf, sizeof buf), 2);
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EPROTO);
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EPROTO);
  assert_int_equal(guest_write(fx, 1, "out", 3), -EPIPE);
  finish_as(fx, VM_STOP_EXIT, 0);
  shutdown(guest_side, SHUT_WR);
  static struct host_view v;
  host_collect(fx->host, &v);
  assert_int_equal(v.control_type, HF_ERROR);
  json_str(v.control, "code", "protocol");
  assert_false(v.response_end);
}

static void control_frame_and_bad_bytes_are_eproto(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  assert_int_equal(hf_write_frame(fx->host, HF_INVOKE, HF_STREAM_NONE, "{}", 2), 0);
  char buf[8];
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EPROTO);
}

static void cut_short_is_eio(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  uint8_t hdr[HF_HEADER_SIZE];
  struct hf_header h = {.type = HF_DATA, .stream = HF_STREAM_EVENT, .length = 10};
  assert_int_equal(hf_header_encode(&h, hdr), 0);
  assert_int_equal(write(fx->host, hdr, sizeof hdr), (ssize_t)sizeof hdr);
  assert_int_equal(write(fx->host, "abc", 3), 3);
  close(fx->host);
  fx->host = -1;
  char buf[16];
  assert_int_equal(guest_read(fx, buf, sizeof buf), 3);
  assert_int_equal(guest_read(fx, buf, sizeof buf), -EIO);
  /* The finish finds a dead host and says nothing; it does not hang. */
  finish_as(fx, VM_STOP_EXIT, 0);
}

static void responses_logs_and_result(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  struct file *out = fd_file(fx, 1);
  assert_int_equal(out->ops->poll(out, POLLOUT) & POLLOUT, POLLOUT);
  assert_int_equal(guest_write(fx, 1, "{\"ok\":", 6), 6);
  assert_int_equal(guest_write(fx, 2, "a log line\n", 11), 11);
  assert_int_equal(guest_write(fx, 1, "true}", 5), 5);
  finish_as(fx, VM_STOP_EXIT, 0);
  static struct host_view v;
  host_collect(fx->host, &v);
  assert_int_equal(v.response_len, 11);
  assert_memory_equal(v.response, "{\"ok\":true}", 11);
  assert_int_equal(v.log_len, 11);
  assert_memory_equal(v.log, "a log line\n", 11);
  assert_true(v.response_end && v.log_end);
  assert_int_equal(v.control_type, HF_RESULT);
  json_str(v.control, "status", "ok");
  assert_int_equal(json_u64(v.control, "exit_status"), 0);
  assert_int_equal(json_u64(v.control, "response_bytes"), 11);
  assert_int_equal(json_u64(v.control, "log_bytes"), 11);
  assert_false(json_bool(v.control, "response_truncated"));
  assert_false(json_bool(v.control, "logs_truncated"));
  (void)json_u64(v.control, "duration_us");
  struct json_doc doc;
  char err[8];
  assert_int_equal(json_parse(&doc, v.control, strlen(v.control)), 0);
  assert_int_equal(json_get_string(&doc, "error", err, sizeof err), -ENOENT);
  /* After the finish the streams are closed. */
  assert_int_equal(guest_write(fx, 1, "x", 1), -EPIPE);
}

/* Bytes past a cap are reported written, counted out, and flagged. */
static void caps_truncate(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 5, 2), 0);
  assert_int_equal(guest_write(fx, 1, "0123456789", 10), 10);
  assert_int_equal(guest_write(fx, 1, "more", 4), 4);
  assert_int_equal(guest_write(fx, 2, "xy", 2), 2);
  finish_as(fx, VM_STOP_EXIT, 3);
  static struct host_view v;
  host_collect(fx->host, &v);
  assert_int_equal(v.response_len, 5);
  assert_memory_equal(v.response, "01234", 5);
  assert_int_equal(v.log_len, 2);
  json_str(v.control, "status", "error");
  json_str(v.control, "error", "exit status 3");
  assert_int_equal(json_u64(v.control, "exit_status"), 3);
  assert_int_equal(json_u64(v.control, "response_bytes"), 5);
  assert_true(json_bool(v.control, "response_truncated"));
  assert_int_equal(json_u64(v.control, "log_bytes"), 2);
  assert_false(json_bool(v.control, "logs_truncated"));
}

/* A write larger than a frame goes out as several, while the host reads. */
static void large_writes_split_into_frames(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  enum { BIG = 600 * 1024 };
  static char data[BIG];
  for (size_t i = 0; i < BIG; i++)
    data[i] = (char)('a' + i % 26);
  static struct host_view v;
  void *args[2] = {&fx->host, &v};
  pthread_t t;
  pthread_create(&t, NULL, collector, args);
  size_t done = 0;
  while (done < BIG) {
    ssize_t n = guest_write(fx, 1, data + done, BIG - done);
    if (n == -EAGAIN) {
      struct pollfd p = {.fd = guest_side, .events = POLLOUT};
      poll(&p, 1, -1); /* as the system call layer sleeps */
      continue;
    }
    assert_true(n > 0);
    done += (size_t)n;
  }
  finish_as(fx, VM_STOP_SIGNAL, 11);
  pthread_join(t, NULL);
  assert_int_equal(v.response_len, BIG);
  assert_memory_equal(v.response, data, BIG);
  json_str(v.control, "status", "signal");
  assert_int_equal(json_u64(v.control, "exit_status"), 139);
  json_str(v.control, "error", "killed by signal 11 (SIGSEGV)");
  assert_int_equal(json_u64(v.control, "response_bytes"), BIG);
}

static void timeout_and_vmm_error_results(void **state) {
  struct fixture *fx = *state;
  static struct host_view v;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  finish_as(fx, VM_STOP_TIMEOUT, 0);
  host_collect(fx->host, &v);
  json_str(v.control, "status", "timeout");
  assert_int_equal(json_u64(v.control, "exit_status"), 124);
  /* A finish happens once: a second call adds nothing. */
  finish_as(fx, VM_STOP_ERROR, 0);
  struct pollfd p = {.fd = fx->host, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 0), 0);
}

/* A host that never reads: writes stop at -EAGAIN once the socket is full,
 * and the finish gives up at its deadline instead of hanging. */
static void host_that_never_reads(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(attach_caps(fx, 0, 0), 0);
  static char chunk[64 * 1024];
  ssize_t n;
  int guard = 0;
  while ((n = guest_write(fx, 1, chunk, sizeof chunk)) > 0 && guard++ < 10000)
    ;
  assert_int_equal(n, -EAGAIN);
  struct file *out = fd_file(fx, 1);
  assert_int_equal(out->ops->poll(out, POLLOUT) & POLLOUT, 0);
  struct pollfd w[4];
  assert_int_equal(out->ops->host_watch(out, POLLOUT, w, 4), 1);
  assert_int_equal(w[0].fd, guest_side);
  finish_as(fx, VM_STOP_EXIT, 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(attach_checks, setup, teardown),
      cmocka_unit_test_setup_teardown(event_stream_reads_data_then_eof, setup, teardown),
      cmocka_unit_test_setup_teardown(headers_in_pieces, setup, teardown),
      cmocka_unit_test_setup_teardown(foreign_frame_is_eproto, setup, teardown),
      cmocka_unit_test_setup_teardown(control_frame_and_bad_bytes_are_eproto, setup, teardown),
      cmocka_unit_test_setup_teardown(cut_short_is_eio, setup, teardown),
      cmocka_unit_test_setup_teardown(responses_logs_and_result, setup, teardown),
      cmocka_unit_test_setup_teardown(caps_truncate, setup, teardown),
      cmocka_unit_test_setup_teardown(large_writes_split_into_frames, setup, teardown),
      cmocka_unit_test_setup_teardown(timeout_and_vmm_error_results, setup, teardown),
      cmocka_unit_test_setup_teardown(host_that_never_reads, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
