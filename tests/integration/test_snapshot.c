/* test_snapshot.c - snapshot and restore end to end (issue 6): a guest
 * blocked in accept() snapshotted through the control socket, restored
 * twice at once with different --vsock-uds (both answer), 50 clones at
 * once, fresh random bytes and the current wall clock in each clone,
 * a restore started paused (--start-paused) that does not run before its
 * resume, snapshot -> restore -> snapshot -> restore (also of a ppoll() under a
 * temporary signal mask, whose caller's mask survives), a snapshot that cannot
 * be written leaving the VM usable, and damaged or missing state files and
 * contradicting flags refused with status 125 and one line. */
#include "itest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bgvmm.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ECHO_PORT 5000
#define ECHO_PORT_ARG "5000"

static void path_in(char *buf, const char *dir, const char *name) {
  if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
    fail_msg("path too long");
}

static void api_expect_ok(int fd, const char *line) {
  const char *reply = bgvmm_api(fd, line);
  if (!strstr(reply, "\"ok\":true"))
    fail_msg("%s -> %s", line, reply);
}

/* Pauses the VM behind api, snapshots it into dir, and shuts it down. */
static void snapshot_and_stop(struct bgvmm *v, const char *api, const char *dir) {
  int fd = bgvmm_api_connect(api);
  char line[PATH_MAX + 64];
  snprintf(line, sizeof line, "{\"cmd\":\"snapshot\",\"dir\":\"%s\"}", dir);
  api_expect_ok(fd, "{\"cmd\":\"pause\"}");
  api_expect_ok(fd, line);
  api_expect_ok(fd, "{\"cmd\":\"shutdown\"}");
  close(fd);
  int status = bgvmm_finish(v);
  if (status != VMM_EXIT_SIGNAL(SIGTERM))
    fail_msg("status %d after shutdown; stderr:\n%s", status, bgvmm_output(v->err));
}

/* The guest `prog` (a guest program's name) with one argument, blocked in
 * accept(), snapshotted into t->dir/<name>. */
static void make_snapshot_of(struct itest *t, const char *prog, const char *const *guest,
                             const char *name, char *snap) {
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX], guest_path[PATH_MAX];
  snprintf(guest_path, sizeof guest_path, "/%s", prog);
  itest_put_guest(t, prog, guest_path);
  path_in(api, t->dir, "origin.api");
  path_in(uds, t->dir, "origin.vsock");
  path_in(snap, t->dir, name);
  const char *argv[32] = {"hearth-vmm",
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
                          "60",
                          "--",
                          guest_path};
  size_t n = 15;
  for (size_t i = 0; guest[i] && n + 1 < 32; i++)
    argv[n++] = guest[i];
  argv[n] = NULL;
  bgvmm_start(&v, t->dir, "origin", argv, 1);
  bgvmm_wait_ready(&v);
  snapshot_and_stop(&v, api, snap);
}

/* vsock_echo serving one connection, blocked in accept(). */
static void make_snapshot(struct itest *t, const char *name, char *snap) {
  make_snapshot_of(t, "vsock_echo", ARGS("serial", ECHO_PORT_ARG, "1"), name, snap);
}

/* A restore of snap with its own bridge (and control socket when api). */
static void start_restore(struct itest *t, struct bgvmm *v, const char *snap, const char *tag,
                          char *uds, char *api) {
  char name[64];
  snprintf(name, sizeof name, "%s.vsock", tag);
  path_in(uds, t->dir, name);
  if (api) {
    snprintf(name, sizeof name, "%s.api", tag);
    path_in(api, t->dir, name);
    bgvmm_start(v, t->dir, tag,
                ARGS("hearth-vmm", "--restore", snap, "--vsock-uds", uds, "--api-sock", api,
                     "--ready-fd", "3", "--timeout", "60"),
                1);
  } else {
    bgvmm_start(v, t->dir, tag,
                ARGS("hearth-vmm", "--restore", snap, "--vsock-uds", uds, "--ready-fd", "3",
                     "--timeout", "60"),
                1);
  }
}

static void expect_echoed(struct bgvmm *v, const char *out) {
  int status = bgvmm_finish(v);
  if (status != 0 || strcmp(bgvmm_output(v->out), out) != 0)
    fail_msg("status %d, stdout '%s' (want '%s'), stderr:\n%s", status, bgvmm_output(v->out), out,
             bgvmm_output(v->err));
}

static void test_restore_twice_concurrently(void **state) {
  struct itest *t = *state;
  char snap[PATH_MAX], uds1[PATH_MAX], uds2[PATH_MAX];
  make_snapshot(t, "snap", snap);
  struct bgvmm a, b;
  start_restore(t, &a, snap, "a", uds1, NULL);
  start_restore(t, &b, snap, "b", uds2, NULL);
  /* Both reach accept() again: the restored guest restarts the call. */
  bgvmm_wait_ready(&a);
  bgvmm_wait_ready(&b);
  bgvmm_echo(uds2, ECHO_PORT, "to clone b");
  bgvmm_echo(uds1, ECHO_PORT, "to clone a");
  expect_echoed(&a, "echo: 1 connections, 11 bytes\n");
  expect_echoed(&b, "echo: 1 connections, 11 bytes\n");
}

static void test_snapshot_of_a_restore(void **state) {
  struct itest *t = *state;
  char snap1[PATH_MAX], snap2[PATH_MAX], uds[PATH_MAX], api[PATH_MAX];
  make_snapshot(t, "snap1", snap1);
  struct bgvmm mid, last;
  start_restore(t, &mid, snap1, "mid", uds, api);
  bgvmm_wait_ready(&mid);
  path_in(snap2, t->dir, "snap2");
  snapshot_and_stop(&mid, api, snap2);
  start_restore(t, &last, snap2, "last", uds, NULL);
  bgvmm_wait_ready(&last);
  bgvmm_echo(uds, ECHO_PORT, "second generation");
  expect_echoed(&last, "echo: 1 connections, 18 bytes\n");
}

/* A guest waiting in ppoll() under a temporary signal mask, snapshotted,
 * restored and snapshotted again: each restarted ppoll installs its
 * temporary mask anew, and the caller's mask is in force once it returns. */
static void test_wait_under_a_temporary_mask(void **state) {
  struct itest *t = *state;
  char snap1[PATH_MAX], snap2[PATH_MAX], uds[PATH_MAX], api[PATH_MAX];
  make_snapshot_of(t, "ppoll_mask", ARGS(ECHO_PORT_ARG), "snap1", snap1);
  struct bgvmm mid, last;
  start_restore(t, &mid, snap1, "mid", uds, api);
  bgvmm_wait_ready(&mid);
  path_in(snap2, t->dir, "snap2");
  snapshot_and_stop(&mid, api, snap2);
  start_restore(t, &last, snap2, "last", uds, NULL);
  bgvmm_wait_ready(&last);
  bgvmm_echo(uds, ECHO_PORT, "masked");
  expect_echoed(&last, "blocked: SIGUSR1 0 SIGUSR2 1\n");
}

/* Two clones of one snapshot draw different random bytes (getrandom and
 * /dev/urandom are the host's, read at each call) and read the host's
 * current wall clock, not the snapshot's. */
static void test_clones_get_fresh_entropy_and_time(void **state) {
  struct itest *t = *state;
  char snap[PATH_MAX], uds1[PATH_MAX], uds2[PATH_MAX];
  make_snapshot_of(t, "vsock_fresh", ARGS(ECHO_PORT_ARG), "snap", snap);
  sleep(1); /* the wall clock moves on past the snapshot's second */
  struct bgvmm a, b;
  start_restore(t, &a, snap, "a", uds1, NULL);
  start_restore(t, &b, snap, "b", uds2, NULL);
  bgvmm_wait_ready(&a);
  bgvmm_wait_ready(&b);
  long long before = (long long)time(NULL);
  char line_a[128], line_b[128];
  snprintf(line_a, sizeof line_a, "%s", bgvmm_vsock_line(uds1, ECHO_PORT));
  snprintf(line_b, sizeof line_b, "%s", bgvmm_vsock_line(uds2, ECHO_PORT));
  long long after = (long long)time(NULL);
  char ga[33], ua[33], gb[33], ub[33];
  long long ta, tb;
  assert_int_equal(sscanf(line_a, "%32s %32s %lld", ga, ua, &ta), 3);
  assert_int_equal(sscanf(line_b, "%32s %32s %lld", gb, ub, &tb), 3);
  assert_string_not_equal(ga, gb);
  assert_string_not_equal(ua, ub);
  assert_true(ta >= before && ta <= after);
  assert_true(tb >= before && tb <= after);
  expect_echoed(&a, "");
  expect_echoed(&b, "");
}

/* Many clones of one snapshot at once: each has its own bridge and all
 * answer (the memory file is shared MAP_PRIVATE by all of them). */
#define CLONES 50

static void test_many_concurrent_restores(void **state) {
  struct itest *t = *state;
  char snap[PATH_MAX];
  make_snapshot(t, "snap", snap);
  static struct bgvmm v[CLONES];
  static char uds[CLONES][PATH_MAX];
  for (int i = 0; i < CLONES; i++) {
    char tag[32];
    snprintf(tag, sizeof tag, "clone%d", i);
    start_restore(t, &v[i], snap, tag, uds[i], NULL);
  }
  for (int i = 0; i < CLONES; i++) {
    char msg[32];
    snprintf(msg, sizeof msg, "clone %02d", i);
    bgvmm_wait_ready(&v[i]);
    bgvmm_echo(uds[i], ECHO_PORT, msg);
  }
  for (int i = 0; i < CLONES; i++)
    expect_echoed(&v[i], "echo: 1 connections, 9 bytes\n");
}

/* A snapshot that cannot be written is an error reply; the VM stays paused
 * and goes on when resumed. */
static void test_failed_snapshot_leaves_vm_usable(void **state) {
  struct itest *t = *state;
  struct bgvmm v;
  char api[PATH_MAX], uds[PATH_MAX], blocker[PATH_MAX];
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  path_in(api, t->dir, "vm.api");
  path_in(uds, t->dir, "vm.vsock");
  path_in(blocker, t->dir, "a-file");
  int fd = open(blocker, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  close(fd);
  bgvmm_start(&v, t->dir, "vm",
              ARGS("hearth-vmm", "--guest-pages", itest_guest_pages, "--root", t->root,
                   "--api-sock", api, "--vsock-uds", uds, "--ready-fd", "3", "--timeout", "60",
                   "--", "/vsock_echo", "serial", ECHO_PORT_ARG, "1"),
              1);
  bgvmm_wait_ready(&v);
  int api_fd = bgvmm_api_connect(api);
  api_expect_ok(api_fd, "{\"cmd\":\"pause\"}");
  char line[PATH_MAX + 64];
  snprintf(line, sizeof line, "{\"cmd\":\"snapshot\",\"dir\":\"%s/sub\"}", blocker);
  const char *reply = bgvmm_api(api_fd, line);
  if (!strstr(reply, "\"ok\":false") || !strstr(reply, "snapshot: "))
    fail_msg("a snapshot under a regular file: %s", reply);
  api_expect_ok(api_fd, "{\"cmd\":\"resume\"}");
  bgvmm_echo(uds, ECHO_PORT, "still here");
  expect_echoed(&v, "echo: 1 connections, 11 bytes\n");
  close(api_fd);
}

/* Copies snap's files into t->dir/<name> and returns that path. */
static void copy_snapshot(struct itest *t, const char *snap, const char *name, char *out) {
  path_in(out, t->dir, name);
  assert_int_equal(mkdir(out, 0700), 0);
  const char *files[] = {"state.snap", "memory.snap"};
  for (size_t i = 0; i < 2; i++) {
    char from[PATH_MAX], to[PATH_MAX];
    path_in(from, snap, files[i]);
    path_in(to, out, files[i]);
    int in = open(from, O_RDONLY), o = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(in >= 0 && o >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
      assert_int_equal(write(o, buf, (size_t)n), n);
    close(in);
    close(o);
  }
}

static void expect_refused(struct itest *t, const char *snap, const char *reason) {
  const struct spawn_result *r = itest_vmm_raw(t, ARGS("--restore", snap));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, reason);
}

static void test_damaged_snapshots_refused(void **state) {
  struct itest *t = *state;
  char snap[PATH_MAX], bad[PATH_MAX], state_file[PATH_MAX];
  make_snapshot(t, "snap", snap);
  itest_require_kvm();
  /* one flipped byte inside a section */
  copy_snapshot(t, snap, "flipped", bad);
  path_in(state_file, bad, "state.snap");
  int fd = open(state_file, O_RDWR);
  unsigned char byte;
  assert_int_equal(pread(fd, &byte, 1, 200), 1);
  byte ^= 0x40;
  assert_int_equal(pwrite(fd, &byte, 1, 200), 1);
  close(fd);
  expect_refused(t, bad, "checksum mismatch");
  /* cut short */
  copy_snapshot(t, snap, "cut", bad);
  path_in(state_file, bad, "state.snap");
  assert_int_equal(truncate(state_file, 100), 0);
  expect_refused(t, bad, "truncated");
  /* not a snapshot at all */
  copy_snapshot(t, snap, "garbage", bad);
  path_in(state_file, bad, "state.snap");
  fd = open(state_file, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "#!/bin/sh\necho hello\n", 21), 21);
  close(fd);
  expect_refused(t, bad, "not a hearth snapshot");
  /* the memory file of another size */
  copy_snapshot(t, snap, "shortmem", bad);
  path_in(state_file, bad, "memory.snap");
  assert_int_equal(truncate(state_file, 4096), 0);
  expect_refused(t, bad, "memory.snap");
  /* no snapshot there */
  path_in(bad, t->dir, "nothing");
  expect_refused(t, bad, "No such file or directory");
}

/* Whether fd has anything to read (or has ended) within ms. */
static bool readable_within(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, ms);
  if (n < 0)
    fail_msg("poll failed");
  return n > 0;
}

/* A host connection to the bridge at uds with `CONNECT port` sent, its
 * answer not read. */
static int bridge_request(const char *uds, unsigned port) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(uds) >= sizeof a.sun_path)
    fail_msg("bridge path too long: %s", uds);
  memcpy(a.sun_path, uds, strlen(uds) + 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
    fail_msg("no vsock bridge at %s", uds);
  char line[32];
  snprintf(line, sizeof line, "CONNECT %u\n", port);
  bgvmm_api_send(fd, line, strlen(line));
  return fd;
}

/* --start-paused: restored (its control socket and bridge are up) but not
 * run: no exit, no "ready", no answer to a CONNECT, until the resume; then
 * the waiting connection is served and echoed. */
static void test_start_paused_runs_at_resume(void **state) {
  struct itest *t = *state;
  char snap[PATH_MAX], uds[PATH_MAX], api[PATH_MAX];
  make_snapshot(t, "snap", snap);
  path_in(uds, t->dir, "held.vsock");
  path_in(api, t->dir, "held.api");
  struct bgvmm v;
  bgvmm_start(&v, t->dir, "held",
              ARGS("hearth-vmm", "--restore", snap, "--start-paused", "--vsock-uds", uds,
                   "--api-sock", api, "--ready-fd", "3", "--timeout", "60"),
              1);
  int fd = bgvmm_api_connect(api);
  const char *stats = bgvmm_api(fd, "{\"cmd\":\"stats\"}");
  if (!strstr(stats, "\"exits\":{\"total\":0,"))
    fail_msg("the held VM has run: %s", stats);
  int conn = bridge_request(uds, ECHO_PORT);
  if (readable_within(conn, 300) || readable_within(v.ready, 0))
    fail_msg("the held VM answered before its resume; stderr:\n%s", bgvmm_output(v.err));
  assert_string_equal(bgvmm_api(fd, "{\"cmd\":\"resume\"}"), "{\"state\":\"running\",\"ok\":true}");
  if (strncmp(bgvmm_api_reply(conn), "OK ", 3) != 0)
    fail_msg("CONNECT after the resume was refused");
  bgvmm_api_send(conn, "held\n", 5);
  assert_string_equal(bgvmm_api_reply(conn), "held");
  close(conn);
  close(fd);
  expect_echoed(&v, "echo: 1 connections, 5 bytes\n");
}

static void test_restore_flags_checked(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = itest_vmm_raw(t, ARGS("--restore", t->dir, "--mem", "256"));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "--mem contradicts the snapshot");
  r = itest_vmm_raw(t, ARGS("--restore", t->dir, "--", "/prog"));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "runs its own program");
  r = itest_vmm_raw(t, ARGS("--root", t->root, "--restore", t->dir));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "--root contradicts the snapshot");
  r = itest_vmm_raw(t, ARGS("--restore", t->dir, "--start-paused"));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "--start-paused needs --api-sock");
  r = itest_vmm_raw(t, ARGS("--start-paused", "--root", t->root, "--", "/prog"));
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "--start-paused is for --restore");
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_restore_twice_concurrently),
    HOST_TEST(test_snapshot_of_a_restore),
    HOST_TEST(test_wait_under_a_temporary_mask),
    HOST_TEST(test_many_concurrent_restores),
    HOST_TEST(test_clones_get_fresh_entropy_and_time),
    HOST_TEST(test_failed_snapshot_leaves_vm_usable),
    HOST_TEST(test_damaged_snapshots_refused),
    HOST_TEST(test_start_paused_runs_at_resume),
    HOST_TEST(test_restore_flags_checked),
};

ITEST_MAIN(tests)
