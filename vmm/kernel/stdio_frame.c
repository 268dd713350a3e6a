/* stdio_frame.c - framed stdio's beginning and end (stdio_frame.h): the
 * ioctl that makes fds 0, 1 and 2 the invocation's EVENT, RESPONSE and LOG
 * streams (the descriptions themselves: stdio_frame_io.c), and, when the
 * guest ends, END(RESPONSE), END(LOG) and the RESULT frame of PROTOCOL.md.
 *
 * An invocation is framed at most once per VM: the framing in progress
 * hangs off the VM (vm->frame) from attach to finish. The finish writes
 * with a deadline: a host that stops reading cannot hold the VMM's exit
 * for more than FINISH_SECONDS. */
#include "stdio_frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/stdio_frame_impl.h"
#include "kernel/timespec.h"
#include "log.h"
#include "mem/uaccess.h"
#include "net/vsock.h"
#include "proto/hearth_abi.h"
#include "proto/json.h"
#include "vm.h"

#define FRAME_CAP_MAX (1ull << 30) /* a larger cap asked for is this one */
#define FINISH_SECONDS 2           /* the most the end of an invocation may wait */
#define RESULT_JSON_MAX 512        /* RESULT's members are short */

void stdio_frame_unref(struct stdio_frame *st) {
  if (--st->refs > 0)
    return;
  hf_decoder_free(&st->dec);
  file_unref(st->conn);
  free(st->pending);
  free(st);
}

static uint64_t cap_of(uint64_t asked, uint64_t dflt) {
  if (asked == 0)
    return dflt;
  return asked > FRAME_CAP_MAX ? FRAME_CAP_MAX : asked;
}

static struct stdio_frame *state_new(struct vm *vm, struct file *conn, int fd,
                                     const struct hearth_frame_stdio *req) {
  struct stdio_frame *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->pending = malloc(FRAME_OUT_MAX + HF_HEADER_SIZE);
  if (!st->pending || hf_decoder_init(&st->dec) < 0) {
    free(st->pending);
    free(st);
    return NULL;
  }
  st->refs = 1; /* the VM's: vm->frame */
  st->vm = vm;
  st->conn = file_ref(conn);
  st->fd = fd;
  clock_gettime(CLOCK_MONOTONIC, &st->start); /* duration_us counts from here */
  st->response = (struct frame_out){.stream = HF_STREAM_RESPONSE,
                                    .cap = cap_of(req->response_cap, HF_RESPONSE_CAP_DEFAULT)};
  st->log =
      (struct frame_out){.stream = HF_STREAM_LOG, .cap = cap_of(req->log_cap, HF_LOG_CAP_DEFAULT)};
  return st;
}

/* Installs files at fds 2, 1, 0 (taking them over): the first install
 * grows the table for all three, so the others cannot fail. */
static long install_stdio(struct vm *vm, struct file *files[3]) {
  for (int fd = 2; fd >= 0; fd--) {
    long r = fdtable_install_at(&vm->fds, fd, files[fd], false);
    if (r < 0) {
      for (int i = fd; i >= 0; i--)
        file_unref(files[i]);
      return r;
    }
  }
  return 0;
}

long stdio_frame_attach(struct vm *vm, struct file *conn, uint64_t arg) {
  struct hearth_frame_stdio req;
  if (uaccess_copy_from(&vm->mem, &req, arg, sizeof req) < 0)
    return -EFAULT;
  if (req.reserved[0] || req.reserved[1])
    return -EINVAL;
  if (vm->frame)
    return -EBUSY;
  int fd = vsock_file_stream_fd(conn);
  if (fd < 0)
    return fd;
  struct stdio_frame *st = state_new(vm, conn, fd, &req);
  if (!st)
    return -ENOMEM;
  struct file *files[3];
  long r = frame_files_new(st, files);
  if (r == 0)
    r = install_stdio(vm, files);
  if (r < 0) {
    stdio_frame_unref(st);
    return r;
  }
  vm->frame = st;
  return 0;
}

/* RESULT's status and, unless ok, its error text, for how the VM stopped. */
static const char *result_status(const struct vm *vm, char *error, size_t len) {
  switch (vm->stop) {
  case VM_STOP_EXIT:
    snprintf(error, len, "exit status %d", vm->stop_value);
    return vm->stop_value == 0 ? "ok" : "error";
  case VM_STOP_SIGNAL: {
    const char *abbrev = sigabbrev_np(vm->stop_value);
    snprintf(error, len, "killed by signal %d (SIG%s)", vm->stop_value, abbrev ? abbrev : "?");
    return "signal";
  }
  case VM_STOP_TIMEOUT:
    snprintf(error, len, "timed out");
    return "timeout";
  default:
    snprintf(error, len, "hearth-vmm failed");
    return "error";
  }
}

static long result_json(const struct stdio_frame *st, uint64_t duration_us, char *buf, size_t cap) {
  char error[64];
  const char *status = result_status(st->vm, error, sizeof error);
  struct json_writer w;
  json_writer_init(&w, buf, cap);
  json_begin_object(&w);
  json_put_string(&w, "status", status);
  json_put_u64(&w, "exit_status", (uint64_t)vm_exit_status(st->vm));
  json_put_u64(&w, "duration_us", duration_us);
  json_put_u64(&w, "response_bytes", st->response.sent);
  json_put_bool(&w, "response_truncated", st->response.truncated);
  json_put_u64(&w, "log_bytes", st->log.sent);
  json_put_bool(&w, "logs_truncated", st->log.truncated);
  if (strcmp(status, "ok") != 0)
    json_put_string(&w, "error", error);
  json_end_object(&w);
  return json_writer_finish(&w);
}

static struct timespec deadline_in(long seconds) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ts_add(t, (struct timespec){.tv_sec = seconds});
}

static uint64_t micros_since(struct timespec start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct timespec d = ts_until(now, start);
  return (uint64_t)d.tv_sec * 1000000u + (uint64_t)d.tv_nsec / 1000u;
}

void frame_send_error(struct stdio_frame *st, const char *code, const char *message) {
  char json[512];
  struct json_writer jw;
  json_writer_init(&jw, json, sizeof json);
  json_begin_object(&jw);
  json_put_string(&jw, "code", code);
  json_put_string(&jw, "message", message);
  json_end_object(&jw);
  long n = json_writer_finish(&jw);
  struct timespec deadline = deadline_in(FINISH_SECONDS);
  struct frame_wait w = {.stop = &st->vm->vcpu_wanted, .deadline = &deadline};
  if (n > 0 && !st->dead)
    frame_send_whole(st, HF_ERROR, HF_STREAM_NONE, json, (uint32_t)n, &w);
  st->dead = -EPIPE;
}

/* Both ENDs (after any pending tail), then RESULT. */
static int end_invocation(struct stdio_frame *st) {
  uint64_t duration_us = micros_since(st->start);
  struct timespec deadline = deadline_in(FINISH_SECONDS);
  struct frame_wait w = {.stop = NULL, .deadline = &deadline}; /* the VM has stopped */
  char json[RESULT_JSON_MAX];
  long n = result_json(st, duration_us, json, sizeof json);
  if (n < 0)
    return (int)n;
  int r = frame_send_whole(st, HF_END, HF_STREAM_RESPONSE, NULL, 0, &w);
  if (r == 0)
    r = frame_send_whole(st, HF_END, HF_STREAM_LOG, NULL, 0, &w);
  if (r == 0)
    r = frame_send_whole(st, HF_RESULT, HF_STREAM_NONE, json, (uint32_t)n, &w);
  return r;
}

void stdio_frame_finish(struct vm *vm) {
  struct stdio_frame *st = vm->frame;
  if (!st)
    return;
  vm->frame = NULL;
  bool gone = st->dead != 0; /* the host left, or broke the protocol: nothing to say */
  int r = gone ? 0 : end_invocation(st);
  if (r < 0)
    vlog(VLOG_WARN, "framed stdio: cannot end the invocation on the connection: %s", strerror(-r));
  st->finished = true;
  stdio_frame_unref(st);
}
