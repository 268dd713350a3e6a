/* test_fsops.c - files and descriptors inside the guest (guest fsops.c):
 * the working directory by default and with --cwd, /proc/self/exe of a
 * program started by a relative path, the root's listing,
 * stat, dup2, pipes under poll, the /dev and /proc nodes, a read-only root,
 * ENOSPC from a /tmp capped by --tmp-size, and the synthetic files libc
 * reads (/sys's CPU list, /proc/self/maps). */
#include "itest.h"

#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The guest compares against the same texts (fsops.c DATA_TEXT, INSIDE_TEXT). */
#define DATA_TEXT "hearth fsops data file\n"
#define INSIDE_TEXT "inside the working directory\n"

static void put_fsops_root(struct itest *t) {
  itest_put_guest(t, "fsops", "/fsops");
  itest_put_file(t, "/data.txt", DATA_TEXT, strlen(DATA_TEXT), 0644);
}

/* The guest's stdout must be only the marker: the line it writes through a
 * dup2'ed fd 1 belongs to /tmp/out.txt. */
static void test_fsops_basic(void **state) {
  struct itest *t = *state;
  put_fsops_root(t);
  itest_mkdir(t, "/emptydir");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--", "/fsops", "basic", "fsops", "data.txt", "emptydir"));
  assert_vmm_stdout(r, "fsops: basic OK\n");
  assert_vmm_status(r, 0);
}

static void test_fsops_cwd(void **state) {
  struct itest *t = *state;
  put_fsops_root(t);
  itest_mkdir(t, "/sub");
  itest_put_file(t, "/sub/inside.txt", INSIDE_TEXT, strlen(INSIDE_TEXT), 0644);
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--cwd", "/sub", "--", "/fsops", "cwd", "/sub"));
  assert_vmm_stdout(r, "fsops: cwd OK\n");
  assert_vmm_status(r, 0);
}

/* Started as "../fsops" from /sub: /proc/self/exe is the absolute path. */
static void test_fsops_exe_relative(void **state) {
  struct itest *t = *state;
  put_fsops_root(t);
  itest_mkdir(t, "/sub");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--cwd", "/sub", "--", "../fsops", "exe", "/fsops"));
  assert_vmm_stdout(r, "fsops: exe OK\n");
  assert_vmm_status(r, 0);
}

static void test_fsops_tmp_enospc(void **state) {
  struct itest *t = *state;
  put_fsops_root(t);
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--tmp-size", "1", "--", "/fsops", "enospc"));
  assert_vmm_stdout(r, "fsops: enospc OK\n");
  assert_vmm_status(r, 0);
}

/* The root's own /sys (a host directory here) is shadowed by hearth's. */
static void test_fsops_synth(void **state) {
  struct itest *t = *state;
  put_fsops_root(t);
  itest_mkdir(t, "/sys");
  itest_mkdir(t, "/sys/devices");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/fsops", "synth"));
  assert_vmm_stdout(r, "fsops: synth OK\n");
  assert_vmm_status(r, 0);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_fsops_basic),        GUEST_TEST(test_fsops_cwd),
    GUEST_TEST(test_fsops_exe_relative), GUEST_TEST(test_fsops_tmp_enospc),
    GUEST_TEST(test_fsops_synth),
};

ITEST_MAIN(tests)
