/* test_stdio_frame.c - framed stdio in a real microVM (guest frame_stdio.c):
 * the test is the host end of a vsock connection (hearth-vmm's --vsock-uds,
 * guest-initiated: the guest connects to host port PORT, which reaches the
 * Unix socket <uds>_PORT the test listens on). It sends INVOKE and the
 * EVENT stream, and reads back RESPONSE and LOG DATA frames, both ENDs and
 * the RESULT frame, for a clean exit, a failing one, a capped response, a
 * crash and a timeout. */
#include "itest.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "proto/frame.h"
#include "proto/frame_io.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PORT "5005"
#define EVENT_TEXT "{\"hello\":\"event\"}"
#define HOST_WAIT_MS 60000

/* The host's side: what it sent and what it got back. */
struct host {
  int listener;
  char response[400000], log[4096];
  size_t response_len, log_len;
  bool response_end, log_end, got_result;
  char result[4096];
  char error[256]; /* what went wrong on the host side, if anything */
};

static int listen_at(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (snprintf(a.sun_path, sizeof a.sun_path, "%s", path) >= (int)sizeof a.sun_path)
    fail_msg("socket path too long: %s", path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0)
    fail_msg("listen on %s: %s", path, strerror(errno));
  return fd;
}

static int accept_guest(struct host *h) {
  struct pollfd p = {.fd = h->listener, .events = POLLIN};
  if (poll(&p, 1, HOST_WAIT_MS) <= 0)
    return -1;
  int c = accept(h->listener, NULL, NULL);
  struct timeval tv = {.tv_sec = HOST_WAIT_MS / 1000};
  if (c >= 0)
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return c;
}

static bool send_invoke(int c) {
  const char *invoke = "{\"request_id\":\"r1\",\"content_type\":\"application/json\"}";
  return hf_write_frame(c, HF_INVOKE, HF_STREAM_NONE, invoke, (uint32_t)strlen(invoke)) == 0 &&
         hf_write_data(c, HF_STREAM_EVENT, EVENT_TEXT, strlen(EVENT_TEXT)) == 0 &&
         hf_write_frame(c, HF_END, HF_STREAM_EVENT, NULL, 0) == 0;
}

/* Reads frames until RESULT (or anything unexpected). */
static void collect(int c, struct host *h) {
  for (;;) {
    struct hf_header hd;
    int r = hf_read_header(c, &hd);
    if (r < 0) {
      snprintf(h->error, sizeof h->error, "reading a header: %s", strerror(-r));
      return;
    }
    bool resp = hd.stream == HF_STREAM_RESPONSE;
    if (hd.type == HF_DATA) {
      size_t *len = resp ? &h->response_len : &h->log_len;
      size_t cap = resp ? sizeof h->response : sizeof h->log;
      char *dst = resp ? h->response : h->log;
      if (*len + hd.length > cap || hf_read_exact(c, dst + *len, hd.length) < 0) {
        snprintf(h->error, sizeof h->error, "DATA of stream %d too long or cut", hd.stream);
        return;
      }
      *len += hd.length;
    } else if (hd.type == HF_END) {
      *(resp ? &h->response_end : &h->log_end) = true;
    } else if (hd.type == HF_RESULT && hd.length < sizeof h->result &&
               hf_read_exact(c, h->result, hd.length) == 0) {
      h->got_result = true;
      return;
    } else {
      snprintf(h->error, sizeof h->error, "unexpected frame type %d", hd.type);
      return;
    }
  }
}

static void *host_main(void *arg) {
  struct host *h = arg;
  int c = accept_guest(h);
  if (c < 0) {
    snprintf(h->error, sizeof h->error, "the guest never connected");
    return NULL;
  }
  if (send_invoke(c))
    collect(c, h);
  else
    snprintf(h->error, sizeof h->error, "sending INVOKE and the event failed");
  close(c);
  return NULL;
}

/* Runs the guest in MODE with the host thread serving it. */
static const struct spawn_result *run(struct itest *t, struct host *h, const char *cap,
                                      const char *mode, const char *timeout) {
  itest_put_guest(t, "frame_stdio", "/frame_stdio");
  char uds[PATH_MAX], port_path[PATH_MAX + 8];
  if (snprintf(uds, sizeof uds, "%s/v.sock", t->dir) >= (int)sizeof uds ||
      snprintf(port_path, sizeof port_path, "%s_" PORT, uds) >= (int)sizeof port_path)
    fail_msg("paths too long under %s", t->dir);
  memset(h, 0, sizeof *h);
  h->listener = listen_at(port_path);
  pthread_t thread;
  pthread_create(&thread, NULL, host_main, h);
  const struct spawn_result *r = itest_vmm(
      t, NULL, 0,
      ARGS("--timeout", timeout, "--vsock-uds", uds, "--", "/frame_stdio", PORT, cap, mode));
  shutdown(h->listener, SHUT_RDWR); /* wakes the host if the guest never came */
  pthread_join(thread, NULL);
  close(h->listener);
  return r;
}

static cJSON *result_of(const struct host *h, const struct spawn_result *r) {
  if (h->error[0] || !h->got_result)
    fail_msg("host: %s (no RESULT); hearth-vmm status %d, stdout:\n%s\nstderr:\n%s", h->error,
             r->status, r->out, r->err);
  cJSON *j = cJSON_Parse(h->result);
  assert_non_null(j);
  return j;
}

static const char *str(cJSON *j, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  assert_true(cJSON_IsString(v));
  return v->valuestring;
}

static double num(cJSON *j, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  assert_true(cJSON_IsNumber(v));
  return v->valuedouble;
}

static bool flag(cJSON *j, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  assert_true(cJSON_IsBool(v));
  return cJSON_IsTrue(v);
}

static void test_frame_echo(void **state) {
  struct itest *t = *state;
  static struct host h;
  const struct spawn_result *r = run(t, &h, "0", "echo", "30");
  assert_vmm_status(r, 0);
  cJSON *j = result_of(&h, r);
  const char *want = "event: " EVENT_TEXT;
  assert_int_equal(h.response_len, strlen(want));
  assert_memory_equal(h.response, want, strlen(want));
  char log[64];
  snprintf(log, sizeof log, "log: %zu bytes\n", strlen(EVENT_TEXT));
  assert_int_equal(h.log_len, strlen(log));
  assert_memory_equal(h.log, log, strlen(log));
  assert_true(h.response_end && h.log_end);
  assert_string_equal(str(j, "status"), "ok");
  assert_int_equal((int)num(j, "exit_status"), 0);
  assert_int_equal((int)num(j, "response_bytes"), (int)strlen(want));
  assert_int_equal((int)num(j, "log_bytes"), (int)strlen(log));
  assert_false(flag(j, "response_truncated"));
  assert_false(flag(j, "logs_truncated"));
  assert_true(num(j, "duration_us") >= 0);
  assert_null(cJSON_GetObjectItemCaseSensitive(j, "error"));
  cJSON_Delete(j);
}

static void test_frame_failing_exit(void **state) {
  struct itest *t = *state;
  static struct host h;
  const struct spawn_result *r = run(t, &h, "0", "fail", "30");
  assert_vmm_status(r, 3);
  cJSON *j = result_of(&h, r);
  assert_string_equal(str(j, "status"), "error");
  assert_int_equal((int)num(j, "exit_status"), 3);
  assert_string_equal(str(j, "error"), "exit status 3");
  cJSON_Delete(j);
}

/* 300000 bytes against a 100000-byte cap: the first 100000 arrive. */
static void test_frame_capped_response(void **state) {
  struct itest *t = *state;
  static struct host h;
  const struct spawn_result *r = run(t, &h, "100000", "big", "30");
  assert_vmm_status(r, 0);
  cJSON *j = result_of(&h, r);
  assert_int_equal(h.response_len, 100000);
  for (size_t i = 0; i < h.response_len; i++)
    if (h.response[i] != 'r')
      fail_msg("response byte %zu is %#x", i, h.response[i]);
  assert_int_equal((int)num(j, "response_bytes"), 100000);
  assert_true(flag(j, "response_truncated"));
  cJSON_Delete(j);
}

static void test_frame_crash(void **state) {
  struct itest *t = *state;
  static struct host h;
  const struct spawn_result *r = run(t, &h, "0", "crash", "30");
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGSEGV));
  cJSON *j = result_of(&h, r);
  assert_string_equal(str(j, "status"), "signal");
  assert_int_equal((int)num(j, "exit_status"), 128 + SIGSEGV);
  assert_true(h.response_end && h.log_end);
  cJSON_Delete(j);
}

static void test_frame_timeout(void **state) {
  struct itest *t = *state;
  static struct host h;
  const struct spawn_result *r = run(t, &h, "0", "spin", "1");
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  cJSON *j = result_of(&h, r);
  assert_string_equal(str(j, "status"), "timeout");
  assert_int_equal((int)num(j, "exit_status"), 124);
  const char *want = "event: " EVENT_TEXT;
  assert_int_equal(h.response_len, strlen(want)); /* what it wrote before spinning */
  cJSON_Delete(j);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_frame_echo),
    GUEST_TEST(test_frame_failing_exit),
    GUEST_TEST(test_frame_capped_response),
    GUEST_TEST(test_frame_crash),
    GUEST_TEST(test_frame_timeout),
};

ITEST_MAIN(tests)
