/* Unit tests of the manifest (images/lib/manifest*.c): written then parsed
 * it comes back the same and writes the same bytes again (images are
 * reproducible); a manifest breaking a rule is refused with a message
 * naming the entry: unsorted or repeated paths, a bad path, a setuid
 * mode, a parent that is not a "dir" entry, sites out of order or past
 * the file, a number that is not an integer, a missing member, a wrong
 * version. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/manifest.h"

#define HEAD                                                                                       \
  "{\"version\":1,\"name\":\"t\",\"runtime\":\"native\",\"entrypoint\":[\"/bin/x\"],"              \
  "\"env\":{\"A\":\"1\"},\"sites_finder\":1,\"entries\":["
#define FILE_ENTRY(path, extra)                                                                    \
  "{\"path\":\"" path "\",\"type\":\"file\",\"mode\":420,\"mtime\":5,\"size\":4,"                  \
  "\"sha256\":\"" SHA "\"" extra "}"
#define SHA "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"

static void expect_refused(const char *json, const char *needle) {
  struct manifest m;
  struct img_err err = {{0}};
  int rc = manifest_parse(json, strlen(json), &m, &err);
  if (rc == 0)
    fail_msg("accepted: %s", json);
  if (!strstr(err.msg, needle))
    fail_msg("message '%s' does not say '%s'", err.msg, needle);
}

static void test_round_trip(void **state) {
  const char *json = HEAD "{\"path\":\"bin\",\"type\":\"dir\",\"mode\":493,\"mtime\":3},"
                          "{\"path\":\"bin/x\",\"type\":\"file\",\"mode\":493,\"mtime\":4,"
                          "\"size\":4,\"sha256\":\"" SHA "\",\"sites\":[0,2]},"
                          "{\"path\":\"lib\",\"type\":\"symlink\",\"mode\":511,\"mtime\":5,"
                          "\"target\":\"usr/lib\"}]}\n";
  struct manifest m;
  struct img_err err = {{0}};
  if (manifest_parse(json, strlen(json), &m, &err))
    fail_msg("%s", err.msg);
  assert_int_equal(m.n, 3);
  assert_int_equal(m.entries[1].parent, 0);
  assert_int_equal(m.entries[1].sites.n, 2);
  assert_true(m.entries[1].has_sites);
  assert_string_equal(m.entries[2].target, "usr/lib");
  assert_string_equal(m.env[0], "A=1");
  assert_int_equal(manifest_find(&m, "bin/x"), 1);
  assert_int_equal(manifest_find(&m, "bin/y"), MANIFEST_NONE);
  char *out;
  size_t len;
  assert_int_equal(manifest_write(&m, &out, &len, &err), 0);
  assert_string_equal(out, json); /* the same bytes: members in the writer's order */
  free(out);
  manifest_free(&m);
}

static void test_unsorted_and_repeated_paths_are_refused(void **state) {
  expect_refused(HEAD FILE_ENTRY("b", "") "," FILE_ENTRY("a", "") "]}", "not sorted");
  expect_refused(HEAD FILE_ENTRY("a", "") "," FILE_ENTRY("a", "") "]}", "listed twice");
}

static void test_bad_paths_are_refused(void **state) {
  expect_refused(HEAD FILE_ENTRY("/etc/passwd", "") "]}", "absolute path");
  expect_refused(HEAD FILE_ENTRY("a/../b", "") "]}", "'..'");
  expect_refused(HEAD FILE_ENTRY("a//b", "") "]}", "empty path component");
  expect_refused(HEAD FILE_ENTRY("a/", "") "]}", "trailing");
  expect_refused(HEAD FILE_ENTRY("", "") "]}", "empty path");
}

static void test_setuid_mode_is_refused(void **state) {
  expect_refused(HEAD "{\"path\":\"x\",\"type\":\"file\",\"mode\":2541,\"mtime\":5,\"size\":4,"
                      "\"sha256\":\"" SHA "\"}]}",
                 "setuid");
}

static void test_parent_must_be_a_dir_entry(void **state) {
  expect_refused(HEAD FILE_ENTRY("usr/x", "") "]}", "parent usr");
  expect_refused(HEAD "{\"path\":\"usr\",\"type\":\"symlink\",\"mode\":511,\"mtime\":1,"
                      "\"target\":\"/\"}," FILE_ENTRY("usr/x", "") "]}",
                 "parent usr");
}

static void test_bad_sites_are_refused(void **state) {
  expect_refused(HEAD FILE_ENTRY("x", ",\"sites\":[2,1]") "]}", "out of order");
  expect_refused(HEAD FILE_ENTRY("x", ",\"sites\":[3]") "]}", "past the file");
}

static void test_bad_members_are_refused(void **state) {
  expect_refused(HEAD "{\"path\":\"x\",\"type\":\"file\",\"mode\":420.5,\"mtime\":5,\"size\":4,"
                      "\"sha256\":\"" SHA "\"}]}",
                 "\"mode\"");
  expect_refused(HEAD "{\"path\":\"x\",\"type\":\"file\",\"mode\":420,\"mtime\":5,\"size\":4}]}",
                 "\"sha256\"");
  expect_refused(HEAD "{\"path\":\"x\",\"type\":\"fifo\",\"mode\":420,\"mtime\":5}]}", "\"type\"");
  expect_refused("{\"version\":2}", "version 2");
  expect_refused("[1,2]", "not a JSON object");
  expect_refused("{\"version\":1", "not valid JSON");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_unsorted_and_repeated_paths_are_refused),
      cmocka_unit_test(test_bad_paths_are_refused),
      cmocka_unit_test(test_setuid_mode_is_refused),
      cmocka_unit_test(test_parent_must_be_a_dir_entry),
      cmocka_unit_test(test_bad_sites_are_refused),
      cmocka_unit_test(test_bad_members_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
