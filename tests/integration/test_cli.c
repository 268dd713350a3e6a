/* test_cli.c - hearth-vmm's command line and the statuses it owes when the
 * program cannot run: 127 not found, 126 not a usable executable, 125 for
 * bad flags or configuration (reported before KVM is touched, so those run
 * even without /dev/kvm). */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* No guest ran (hello would have printed) and hearth-vmm said why. */
static void assert_refused(const struct spawn_result *r, int status) {
  assert_vmm_status(r, status);
  assert_vmm_stdout(r, "");
  if (r->err_len == 0)
    fail_msg("status %d without a message on stderr", status);
}

static void test_missing_program(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "hello", "/hello");
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/nope")), VMM_EXIT_NOT_FOUND);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/no/such/dir/hello")), VMM_EXIT_NOT_FOUND);
}

static void test_not_elf(void **state) {
  struct itest *t = *state;
  static const char text[] = "this is not an ELF file\n";
  itest_put_file(t, "/notelf", text, strlen(text), 0755);
  itest_put_file(t, "/empty", "", 0, 0755);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/notelf")), VMM_EXIT_NOT_EXECUTABLE);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/empty")), VMM_EXIT_NOT_EXECUTABLE);
}

static void test_directory_as_program(void **state) {
  struct itest *t = *state;
  itest_mkdir(t, "/adir");
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/adir")), VMM_EXIT_NOT_EXECUTABLE);
}

static void test_not_executable_mode(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "hello", "/hello");
  itest_chmod(t, "/hello", 0644);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/hello")), VMM_EXIT_NOT_EXECUTABLE);
}

/* A real ELF cut short, and one whose e_machine says AArch64. */
static void test_broken_elf(void **state) {
  struct itest *t = *state;
  char src[PATH_MAX];
  FILE *f = fopen(itest_guest_path(t, "hello", src, sizeof src), "rb");
  assert_non_null(f);
  static unsigned char image[4096];
  size_t n = fread(image, 1, sizeof image, f);
  fclose(f);
  assert_int_equal(n, sizeof image);
  itest_put_file(t, "/truncated", image, 100, 0755);
  image[18] = 183; /* e_machine = EM_AARCH64 */
  image[19] = 0;
  itest_put_file(t, "/foreign", image, sizeof image, 0755);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/truncated")), VMM_EXIT_NOT_EXECUTABLE);
  assert_refused(itest_vmm(t, NULL, 0, ARGS("--", "/foreign")), VMM_EXIT_NOT_EXECUTABLE);
}

static void test_bad_flags(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "hello", "/hello");
  const char *root = t->root;
  const char *const *cases[] = {
      ARGS("--root", root, "--bogus", "--", "/hello"),
      ARGS("--root", root, "--mem", "lots", "--", "/hello"),
      ARGS("--root", root, "--mem", "0", "--", "/hello"),
      ARGS("--root", root, "--mem", "-5", "--", "/hello"),
      ARGS("--root", root, "--timeout", "soon", "--", "/hello"),
      ARGS("--root", root, "--guest-pages", "1g", "--", "/hello"),
      ARGS("--root", root, "--guest-pages", "", "--", "/hello"),
      ARGS("--root", root, "--mem"),
      ARGS("--root", root, "--"),
      ARGS("--root", root),
      ARGS("--root", "/nonexistent/hearth-itest-root", "--", "/hello"),
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    print_message("case %zu: hearth-vmm", i);
    for (const char *const *a = cases[i]; *a != NULL; a++)
      print_message(" %s", *a);
    print_message("\n");
    assert_refused(itest_vmm_raw(t, cases[i]), VMM_EXIT_FAILED);
  }
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_missing_program),      HOST_TEST(test_not_elf),
    HOST_TEST(test_directory_as_program), HOST_TEST(test_not_executable_mode),
    HOST_TEST(test_broken_elf),           HOST_TEST(test_bad_flags),
};

ITEST_MAIN(tests)
