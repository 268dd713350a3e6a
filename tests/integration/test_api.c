/* test_api.c - hearth-vmm's control socket (--api-sock, vmm/api/API.md):
 * malformed, oversized and unknown requests answered with an error on a
 * connection that stays usable; a fifth client turned away; pause, resume,
 * stats and shutdown on a guest spinning in its own code and on a guest
 * blocked in accept(), which is restarted, not failed, by the pause; the
 * vsock counters of stats. */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgvmm.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ERROR_PREFIX "{\"ok\":false,\"error\":"

static void path_in(char *buf, const char *dir, const char *name) {
  if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
    fail_msg("path too long");
}

/* The spin guest (no system call after start-up) with a control socket. */
static int start_spin(struct itest *t, struct bgvmm *v, char *api) {
  itest_put_guest(t, "spin", "/spin");
  path_in(api, t->dir, "api.sock");
  bgvmm_start(v, t->dir, "vmm",
              ARGS("hearth-vmm", "--guest-pages", itest_guest_pages, "--root", t->root,
                   "--api-sock", api, "--timeout", "60", "--", "/spin"),
              0);
  return bgvmm_api_connect(api);
}

static void assert_error(const char *reply, const char *reason) {
  if (strncmp(reply, ERROR_PREFIX, strlen(ERROR_PREFIX)) != 0 || !strstr(reply, reason))
    fail_msg("want an error with '%s', got '%s'", reason, reply);
}

static void assert_ok_state(const char *reply, const char *state) {
  char want[64];
  snprintf(want, sizeof want, "\"state\":\"%s\"", state);
  if (!strstr(reply, "\"ok\":true") || !strstr(reply, want))
    fail_msg("want ok and %s, got '%s'", want, reply);
}

static void shutdown_and_expect_143(struct bgvmm *v, int fd) {
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"shutdown\"}"), "stopped");
  close(fd);
  int status = bgvmm_finish(v);
  if (status != VMM_EXIT_SIGNAL(SIGTERM))
    fail_msg("status %d after shutdown, want 143; stderr:\n%s", status, bgvmm_output(v->err));
}

static void test_malformed_lines(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX];
  int fd = start_spin(t, &v, api);
  assert_error(bgvmm_api(fd, "garbage"), "not JSON");
  assert_error(bgvmm_api(fd, "[1,2]"), "object");
  assert_error(bgvmm_api(fd, "{}"), "string member");
  assert_error(bgvmm_api(fd, "{\"cmd\":7}"), "string member");
  assert_error(bgvmm_api(fd, "{\"cmd\":\"reboot\"}"), "unknown cmd");
  assert_error(bgvmm_api(fd, "{\"cmd\":\"snapshot\"}"), "snapshot needs");
  assert_error(bgvmm_api(fd, "{\"cmd\":\"snapshot\",\"dir\":3}"), "snapshot needs");
  assert_error(bgvmm_api(fd, ""), "not JSON");
  /* The connection still serves a good request after all of them. */
  assert_true(strstr(bgvmm_api(fd, "{\"cmd\":\"stats\"}"), "\"ok\":true") != NULL);
  shutdown_and_expect_143(&v, fd);
}

static void test_oversized_line(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX];
  int fd = start_spin(t, &v, api);
  size_t big = 200 * 1024; /* three times the cap */
  char *line = malloc(big);
  assert_non_null(line);
  memset(line, '{', big);
  bgvmm_api_send(fd, line, big);
  assert_error(bgvmm_api_reply(fd), "line longer than 65536 bytes");
  bgvmm_api_send(fd, "\n", 1); /* ends the oversized line: no second reply */
  free(line);
  assert_true(strstr(bgvmm_api(fd, "{\"cmd\":\"stats\"}"), "\"ok\":true") != NULL);
  shutdown_and_expect_143(&v, fd);
}

static void test_fifth_client_refused(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX];
  int fds[4];
  fds[0] = start_spin(t, &v, api);
  for (int i = 1; i < 4; i++)
    fds[i] = bgvmm_api_connect(api);
  for (int i = 0; i < 4; i++) /* each is served: all four are accepted */
    assert_true(strstr(bgvmm_api(fds[i], "{\"cmd\":\"stats\"}"), "\"ok\":true") != NULL);
  int fifth = bgvmm_api_connect(api);
  assert_error(bgvmm_api_reply(fifth), "too many clients");
  close(fifth);
  for (int i = 1; i < 4; i++)
    close(fds[i]);
  shutdown_and_expect_143(&v, fds[0]);
}

static void test_pause_resume_spinning(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX];
  int fd = start_spin(t, &v, api);
  assert_error(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "not allowed while running");
  /* Pause only once the guest is in its loop (its banner is out), so the
   * pause has to kick it out of KVM_RUN. */
  for (int i = 0; i < 2000 && !strstr(bgvmm_output(v.err), "spin: looping forever"); i++)
    usleep(5000);
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"pause\"}"), "paused");
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"pause\"}"), "paused");
  const char *stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  /* spin writes its banner, then only loops: the guest was taken out of
   * KVM_RUN by a kick, not at a system call. */
  if (!strstr(stats, "\"write\":1") || !strstr(stats, "\"guest_resident_kib\":"))
    fail_msg("stats: %s", stats);
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "running");
  assert_error(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "not allowed while running");
  assert_error(bgvmm_api(fd, "{\"cmd\":\"snapshot\",\"dir\":\"/nonexistent\"}"),
               "not allowed while running");
  shutdown_and_expect_143(&v, fd);
  assert_string_equal(bgvmm_output(v.err), "spin: looping forever\n");
}

/* Starts vsock_echo serving `conns` connections on port 5000, with the
 * control socket at dir/api.sock and vsock at dir/v.sock (paths into api
 * and uds), and waits until it listens. `flag` is an extra hearth-vmm flag
 * or NULL. Returns a control connection. */
static int start_echo(struct itest *t, struct bgvmm *v, char *api, char *uds, const char *flag,
                      const char *conns) {
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  path_in(api, t->dir, "api.sock");
  path_in(uds, t->dir, "v.sock");
  const char *argv[24] = {"hearth-vmm",
                          "--guest-pages",
                          itest_guest_pages,
                          "--root",
                          t->root,
                          "--api-sock",
                          api,
                          "--vsock-uds",
                          uds,
                          "--ready-fd",
                          "3",
                          "--timeout",
                          "60"};
  size_t n = 13;
  if (flag)
    argv[n++] = flag;
  const char *tail[] = {"--", "/vsock_echo", "serial", "5000", conns, NULL};
  memcpy(&argv[n], tail, sizeof tail);
  bgvmm_start(v, t->dir, "vmm", argv, 1);
  bgvmm_wait_ready(v);
  return bgvmm_api_connect(api);
}

/* Waits for the echo guest to end and checks it ended well, saying `want`. */
static void finish_echo(struct bgvmm *v, int fd, const char *want) {
  int status = bgvmm_finish(v);
  close(fd);
  if (status != 0 || strcmp(bgvmm_output(v->out), want) != 0)
    fail_msg("status %d, stdout '%s', stderr:\n%s", status, bgvmm_output(v->out),
             bgvmm_output(v->err));
}

/* A guest blocked in accept(): the pause wakes the wait, the call is put
 * back to be made again, and after resume the same accept() takes the
 * connection and the echo completes with status 0. */
static void test_pause_resume_blocked_accept(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX];
  int fd = start_echo(t, &v, api, uds, NULL, "1");
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"pause\"}"), "paused");
  const char *stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  if (!strstr(stats, "\"accept\":") || !strstr(stats, "\"listen\":1"))
    fail_msg("stats: %s", stats);
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "running");
  /* stats while running: served between two restarts of accept() */
  assert_true(strstr(bgvmm_api(fd, "{\"cmd\":\"stats\"}"), "\"ok\":true") != NULL);
  bgvmm_echo(uds, 5000, "through a restarted accept");
  finish_echo(&v, fd, "echo: 1 connections, 27 bytes\n");
}

/* stats' vsock counters: after one echoed connection, the guest's bytes
 * both ways and its listener, counted while it waits for the second. */
static void test_stats_count_vsock(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX];
  int fd = start_echo(t, &v, api, uds, NULL, "2");
  const char *stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  if (!strstr(stats, "\"sockets\":1,\"connections\":0,\"listeners\":1,\"bytes_in\":0,"))
    fail_msg("stats before a connection: %s", stats);
  bgvmm_echo(uds, 5000, "first");
  /* The echo came back: the guest has received and sent its 6 bytes. */
  stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  if (!strstr(stats, "\"listeners\":1,\"bytes_in\":6,\"bytes_out\":6}"))
    fail_msg("stats after a connection: %s", stats);
  bgvmm_echo(uds, 5000, "second");
  finish_echo(&v, fd, "echo: 2 connections, 13 bytes\n");
}

/* The same through the LSTAR stub (--no-rewrite): the restarted call is an
 * unrewritten `syscall`, put back in user mode. */
static void test_pause_resume_lstar_accept(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX];
  int fd = start_echo(t, &v, api, uds, "--no-rewrite", "1");
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"pause\"}"), "paused");
  const char *stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  if (!strstr(stats, "\"syscall\":0,\"lstar_syscall\":"))
    fail_msg("stats of a --no-rewrite guest: %s", stats);
  assert_ok_state(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "running");
  bgvmm_echo(uds, 5000, "via lstar");
  finish_echo(&v, fd, "echo: 1 connections, 10 bytes\n");
}

static void test_shutdown_blocked_accept(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX];
  shutdown_and_expect_143(&v, start_echo(t, &v, api, uds, NULL, "1"));
  assert_int_equal(access(api, F_OK), -1); /* the socket file is removed */
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_malformed_lines),
    HOST_TEST(test_oversized_line),
    HOST_TEST(test_fifth_client_refused),
    HOST_TEST(test_pause_resume_spinning),
    GUEST_TEST(test_pause_resume_blocked_accept),
    HOST_TEST(test_stats_count_vsock),
    HOST_TEST(test_pause_resume_lstar_accept),
    HOST_TEST(test_shutdown_blocked_accept),
};

ITEST_MAIN(tests)
