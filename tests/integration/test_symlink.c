/* test_symlink.c - symbolic links in a real microVM (guest symlink.c):
 * made in /tmp and /code, read, followed (relative and absolute targets,
 * through chdir and realpath), dangling, looping, O_NOFOLLOW, the errors of
 * symlink() and link(), and targets that try to climb out of the root. */
#include "itest.h"

#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The guest compares against the same text (symlink.c INSIDE_TEXT). */
#define INSIDE_TEXT "inside the root\n"

static void put_root(struct itest *t) {
  itest_put_guest(t, "symlink", "/symlink");
  itest_put_file(t, "/inside.txt", INSIDE_TEXT, strlen(INSIDE_TEXT), 0644);
}

static void test_symlink_basic(void **state) {
  struct itest *t = *state;
  put_root(t);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/symlink", "basic"));
  assert_vmm_stdout(r, "symlink: basic OK\n");
  assert_vmm_status(r, 0);
}

/* The host has an /etc/passwd; the guest's root has none: every link that
 * climbs or jumps out must end inside the root. */
static void test_symlink_escape(void **state) {
  struct itest *t = *state;
  put_root(t);
  itest_symlink(t, "/tmp/made", "/image_link");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/symlink", "escape"));
  assert_vmm_stdout(r, "symlink: escape OK\n");
  assert_vmm_status(r, 0);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_symlink_basic),
    GUEST_TEST(test_symlink_escape),
};

ITEST_MAIN(tests)
