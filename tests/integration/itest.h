/* itest.h - the integration tests' fixture: a scratch directory per test
 * holding the guest's root, real hearth-vmm runs against it, the KVM gate,
 * and a main() that runs one named test per process (ctest gives each its
 * own process and timeout).
 *
 * A test file lists its tests with GUEST_TEST (registered by CMake once per
 * guest build: gcc, musl, pie) or HOST_TEST (once), and ends with
 * ITEST_MAIN(tests). tests/integration/CMakeLists.txt finds the names by
 * reading those macros, so a test is registered by writing it there. */
#ifndef HEARTH_ITEST_H
#define HEARTH_ITEST_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "capture.h"

/* Exit statuses of hearth-vmm (ARCHITECTURE.md, "Exit statuses"). */
#define VMM_EXIT_TIMEOUT 124
#define VMM_EXIT_FAILED 125
#define VMM_EXIT_NOT_EXECUTABLE 126
#define VMM_EXIT_NOT_FOUND 127
#define VMM_EXIT_SIGNAL(sig) (128 + (sig))

/* The exit status ctest counts as "skipped" (SKIP_RETURN_CODE). */
#define ITEST_SKIPPED 77

struct itest {
  const char *variant;  /* guest build: "gcc", "musl" or "pie" */
  char dir[PATH_MAX];   /* scratch directory, removed at teardown */
  char root[PATH_MAX];  /* dir/root: the guest's "/" */
  char stats[PATH_MAX]; /* dir/stats.json, outside the root */
  char trace[PATH_MAX]; /* dir/trace.txt, outside the root */
  struct spawn_result res;
};

#define GUEST_TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)
#define HOST_TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)
#define ITEST_MAIN(tests)                                                                          \
  int main(int argc, char **argv) {                                                                \
    return itest_main(argc, argv, tests, sizeof(tests) / sizeof((tests)[0]));                      \
  }

/* cmocka fixture: creates the scratch directory and an empty root. */
int itest_setup(void **state);
/* cmocka fixture: removes the scratch directory and frees the result. */
int itest_teardown(void **state);

/* Runs the test named argv[1] (all tests when absent) against guest build
 * argv[2] (default "gcc"). Returns the number of failed tests, ITEST_SKIPPED
 * when the test was skipped, 2 when argv names no test or variant. */
int itest_main(int argc, char **argv, const struct CMUnitTest *tests, size_t count);

/* Skips the test (after printing why) when /dev/kvm cannot be opened
 * read-write or answers a wrong API version; fails it instead when the
 * environment has HEARTH_REQUIRE_KVM=1. itest_vmm() calls it itself. */
void itest_require_kvm(void);

/* Files in the root; `rel` is a path inside it ("/etc/passwd"). Each fails
 * the test on error. Parent directories must exist. */
void itest_mkdir(struct itest *t, const char *rel);
void itest_put_file(struct itest *t, const char *rel, const void *data, size_t len, mode_t mode);
void itest_symlink(struct itest *t, const char *target, const char *rel);
void itest_chmod(struct itest *t, const char *rel, mode_t mode);
/* Copies the guest program `name` of the test's variant to `rel`, mode 0755. */
void itest_put_guest(struct itest *t, const char *name, const char *rel);
/* Host path of the guest program `name` of the test's variant. */
const char *itest_guest_path(const struct itest *t, const char *name, char *buf, size_t cap);

/* The --guest-pages value every VM the tests start gets (configure-time
 * HEARTH_ITEST_GUEST_PAGES); itest_vmm and itest_vmm_args pass it. */
extern const char itest_guest_pages[];

/* Runs hearth-vmm --guest-pages <mode> --root <root> ARGS... (ARGS
 * NULL-terminated, typically ending in "--", PROGRAM, ...) with `in` on its
 * stdin, after the KVM gate.
 * The result stays in t->res until the next run or teardown. */
const struct spawn_result *itest_vmm(struct itest *t, const void *in, size_t in_len,
                                     const char *const *args);
/* The same with exactly ARGS (no --root) and no KVM gate: for flag errors,
 * which hearth-vmm must report before it touches KVM. */
const struct spawn_result *itest_vmm_raw(struct itest *t, const char *const *args);
/* The same with only --guest-pages and ARGS (the caller names --root) and `in` on stdin,
 * after the KVM gate: for runs against another root, e.g. --root /. */
const struct spawn_result *itest_vmm_args(struct itest *t, const void *in, size_t in_len,
                                          const char *const *args);

/* Skips the test after printing why (ctest then counts it as skipped), or
 * fails it when the environment has HEARTH_REQUIRE_KVM=1 (CI, where KVM and
 * every host program the tests run are installed). */
void itest_skip_unless_required(const char *why);

/* Assertions that print hearth-vmm's stdout and stderr when they fail. */
void itest_assert_status(const struct spawn_result *r, int want, const char *file, int line);
void itest_assert_stdout(const struct spawn_result *r, const char *want, const char *file,
                         int line);
void itest_assert_contains(const struct spawn_result *r, const char *haystack, const char *needle,
                           const char *file, int line);
#define assert_vmm_status(r, want) itest_assert_status((r), (want), __FILE__, __LINE__)
#define assert_vmm_stdout(r, want) itest_assert_stdout((r), (want), __FILE__, __LINE__)
#define assert_vmm_stderr_has(r, needle)                                                           \
  itest_assert_contains((r), (r)->err, (needle), __FILE__, __LINE__)
#define assert_vmm_stdout_has(r, needle)                                                           \
  itest_assert_contains((r), (r)->out, (needle), __FILE__, __LINE__)

/* The environment hearth-vmm runs with in the tests: the test's own, with
 * XDG_CACHE_HOME in the build tree and a marker the guest must never see. */
char **itest_vmm_environment(void);

#endif
