/* test_vdso.c - hearth's guest vDSO end to end: a guest reading the
 * monotonic clock 10,000 times makes (almost) no system calls with it and
 * one per read without it (--no-vdso); and the guest's clocks agree with
 * the host's, checked in a conversation: the test reads the host's clocks
 * just before asking the guest for its own and just after the answer, so
 * the guest's must fall in between (give or take TOLERANCE_NS) — at start,
 * after seconds of vDSO-only reading (across redraws of the line and past
 * its horizon), and after a sleep. */
#include "itest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "converse.h"
#include "stats.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define READS "10000"
#define TOLERANCE_NS 1000000LL /* 1 ms */
#define ANSWER_MS 20000        /* longest wait for one answer */

static struct vmm_stats run_loop(struct itest *t, bool vdso) {
  itest_put_guest(t, "clockloop", "/clockloop");
  unlink(t->stats);
  const struct spawn_result *r =
      vdso ? itest_vmm(t, NULL, 0, ARGS("--stats", t->stats, "--", "/clockloop", READS))
           : itest_vmm(t, NULL, 0,
                       ARGS("--no-vdso", "--stats", t->stats, "--", "/clockloop", READS));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, vdso ? "vdso: yes\nclockloop: OK\n" : "vdso: no\nclockloop: OK\n");
  struct vmm_stats s;
  int rc = vmm_stats_read(t->stats, &s);
  if (rc != 0)
    fail_msg("--stats %s unreadable: %s", t->stats, strerror(-rc));
  print_message("%s: %llu syscalls, %llu exits\n", vdso ? "vDSO" : "--no-vdso",
                (unsigned long long)s.syscalls, (unsigned long long)s.exits);
  return s;
}

static void test_clock_reads_make_no_exits(void **state) {
  struct vmm_stats s = run_loop(*state, true);
  assert_true(s.syscalls < 100); /* start-up and exit only */
}

static void test_clock_reads_exit_without_vdso(void **state) {
  struct vmm_stats s = run_loop(*state, false);
  assert_true(s.syscalls >= 10000);
}

/* ---- the conversation ---- */

static long long host_ns(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* What hearth-vmm wrote on stderr so far, for a failure's report. */
static void print_stderr(const struct itest *t) {
  char path[PATH_MAX + 16], buf[8192];
  snprintf(path, sizeof path, "%s/stderr", t->dir);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = '\0';
  print_message("--- hearth-vmm stderr ---\n%s\n", buf);
}

static void read_answer(struct itest *t, struct converse *c, char *line, size_t cap) {
  int rc = converse_read_line(c, line, cap, ANSWER_MS);
  if (rc == 0 && strncmp(line, "FAIL", 4) != 0)
    return;
  print_stderr(t);
  fail_msg("guest: %s", rc == 0 ? line : strerror(-rc));
}

static void expect_between(const char *what, long long lo, long long got, long long hi) {
  if (got < lo - TOLERANCE_NS || got > hi + TOLERANCE_NS)
    fail_msg("%s: guest %lld ns, host %lld..%lld ns (%+lld ns past the window)", what, got, lo, hi,
             got < lo ? got - lo : got - hi);
}

/* One "now": the guest's clocks against the host's read around it. */
static void check_now(struct itest *t, struct converse *c, const char *when) {
  char line[256];
  long long real0 = host_ns(CLOCK_REALTIME), mono0 = host_ns(CLOCK_MONOTONIC);
  assert_int_equal(converse_send(c, "now"), 0);
  read_answer(t, c, line, sizeof line);
  long long mono1 = host_ns(CLOCK_MONOTONIC), real1 = host_ns(CLOCK_REALTIME);
  long long real, mono;
  if (sscanf(line, "now %lld %lld", &real, &mono) != 2)
    fail_msg("unexpected answer '%s'", line);
  print_message("%s: realtime %+lld..%+lld ns, monotonic %+lld..%+lld ns from the host's\n", when,
                real - real1, real - real0, mono - mono1, mono - mono0);
  char what[64];
  snprintf(what, sizeof what, "CLOCK_REALTIME %s", when);
  expect_between(what, real0, real, real1);
  snprintf(what, sizeof what, "CLOCK_MONOTONIC %s", when);
  expect_between(what, mono0, mono, mono1);
}

static void ask(struct itest *t, struct converse *c, const char *cmd, const char *want_prefix,
                long long *value) {
  char line[256];
  assert_int_equal(converse_send(c, cmd), 0);
  read_answer(t, c, line, sizeof line);
  size_t n = strlen(want_prefix);
  if (strncmp(line, want_prefix, n) != 0 || sscanf(line + n, "%lld", value) != 1)
    fail_msg("%s: unexpected answer '%s'", cmd, line);
}

static void test_guest_time_agrees_with_host(void **state) {
  struct itest *t = *state;
  itest_require_kvm();
  itest_put_guest(t, "clocksync", "/clocksync");
  char err_path[PATH_MAX + 16];
  snprintf(err_path, sizeof err_path, "%s/stderr", t->dir);
  const char *argv[] = {HEARTH_VMM_PATH,
                        "--guest-pages",
                        itest_guest_pages, /* both modes */
                        "--root",
                        t->root,
                        "--",
                        "/clocksync",
                        NULL};
  struct converse c;
  int rc =
      converse_start(&c, HEARTH_VMM_PATH, (char *const *)argv, itest_vmm_environment(), err_path);
  if (rc != 0)
    fail_msg("cannot run %s: %s", HEARTH_VMM_PATH, strerror(-rc));
  char line[256];
  read_answer(t, &c, line, sizeof line);
  assert_string_equal(line, "ready");
  check_now(t, &c, "at start");
  long long reads, slept;
  ask(t, &c, "spin 1200", "spun ", &reads); /* past one redraw, no exit in between */
  assert_true(reads > 1000);
  check_now(t, &c, "after 1.2 s of reads");
  ask(t, &c, "spin 2500", "spun ", &reads); /* past the line's horizon */
  check_now(t, &c, "after 2.5 s more");
  ask(t, &c, "sleep 300", "slept ", &slept);
  assert_true(slept >= 300000000LL); /* by the guest's own clock */
  check_now(t, &c, "after a 300 ms sleep");
  assert_int_equal(converse_send(&c, "quit"), 0);
  assert_int_equal(converse_finish(&c, ANSWER_MS), 0);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_clock_reads_make_no_exits),
    GUEST_TEST(test_clock_reads_exit_without_vdso),
    GUEST_TEST(test_guest_time_agrees_with_host),
};

ITEST_MAIN(tests)
