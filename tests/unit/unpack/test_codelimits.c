/* test_codelimits.c - the code bundle's entry rules
 * (guest-init/unpack/codelimits.h): path normalisation and refusals, the
 * symlink-target rule, entry types, and the running totals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unpack/codelimits.h"

static struct code_limits small_limits(void) {
  struct code_limits lim = code_limits_default();
  lim.max_path = 16;
  lim.max_depth = 3;
  return lim;
}

static long check(const struct code_limits *lim, const char *path, char *out) {
  return code_path_check(lim, path, strlen(path), out, 64);
}

static void test_defaults(void **state) {
  (void)state;
  struct code_limits lim = code_limits_default();
  assert_true(lim.max_bytes == 256ull << 20);
  assert_int_equal(lim.max_files, 20000);
  assert_int_equal(lim.max_path, 1024);
  assert_int_equal(lim.max_depth, 64);
}

static void test_path_normalises(void **state) {
  (void)state;
  struct code_limits lim = code_limits_default();
  char out[64];
  struct {
    const char *in, *want;
  } ok[] = {
      {"a", "a"},         {"./a//b", "a/b"},      {"a/b/", "a/b"}, {"./././x", "x"},
      {"a/./b/.", "a/b"}, {"..a/b..", "..a/b.."}, {"...", "..."},  {".hidden", ".hidden"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(check(&lim, ok[i].in, out), (long)strlen(ok[i].want));
    assert_string_equal(out, ok[i].want);
  }
}

static void test_path_refusals(void **state) {
  (void)state;
  struct code_limits lim = small_limits();
  char out[64];
  assert_int_equal(check(&lim, "", out), CODE_E_EMPTY);
  assert_int_equal(check(&lim, ".", out), CODE_E_EMPTY);
  assert_int_equal(check(&lim, ".//./", out), CODE_E_EMPTY);
  assert_int_equal(check(&lim, "/abs", out), CODE_E_ABSOLUTE);
  assert_int_equal(check(&lim, "//abs", out), CODE_E_ABSOLUTE);
  assert_int_equal(check(&lim, "../x", out), CODE_E_DOTDOT);
  assert_int_equal(check(&lim, "a/../../x", out), CODE_E_DOTDOT);
  assert_int_equal(check(&lim, "a/..", out), CODE_E_DOTDOT); /* even staying inside */
  assert_int_equal(check(&lim, "..", out), CODE_E_DOTDOT);
  assert_int_equal(code_path_check(&lim, "a\0b", 3, out, sizeof out), CODE_E_NUL);
  assert_int_equal(check(&lim, "0123456789abcdef", out), 16); /* exactly max_path */
  assert_int_equal(check(&lim, "0123456789abcdefg", out), CODE_E_TOO_LONG);
  assert_int_equal(check(&lim, "a/b/c", out), 5); /* exactly max_depth */
  assert_int_equal(check(&lim, "a/b/c/d", out), CODE_E_TOO_DEEP);
  assert_int_equal(code_path_check(&lim, "abc/def", 7, out, 7), -ENOSPC); /* no room for NUL */
  assert_int_equal(code_path_check(&lim, "abc/def", 7, out, 8), 7);
}

/* Every refusal has its own code and message. */
static void test_messages_distinct(void **state) {
  (void)state;
  int codes[] = {CODE_E_EMPTY,          CODE_E_ABSOLUTE,      CODE_E_DOTDOT,       CODE_E_NUL,
                 CODE_E_TOO_LONG,       CODE_E_TOO_DEEP,      CODE_E_LINK_ESCAPES, CODE_E_TYPE,
                 CODE_E_TOO_MANY_FILES, CODE_E_TOO_MANY_BYTES};
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    assert_true(codes[i] < 0);
    assert_string_not_equal(code_error_message(codes[i]), "error");
    for (size_t j = i + 1; j < n; j++) {
      assert_int_not_equal(codes[i], codes[j]);
      assert_string_not_equal(code_error_message(codes[i]), code_error_message(codes[j]));
    }
  }
}

static int link_check(const char *link, const char *target) {
  struct code_limits lim = small_limits();
  return code_symlink_check(&lim, link, target, strlen(target));
}

static void test_symlink_targets(void **state) {
  (void)state;
  /* Inside: plain, leading "..", up to the tree's root, ".". */
  assert_int_equal(link_check("l", "a"), 0);
  assert_int_equal(link_check("a/l", "../b"), 0);
  assert_int_equal(link_check("a/b/l", "../../c/d"), 0);
  assert_int_equal(link_check("a/l", ".."), 0);
  assert_int_equal(link_check("a/l", "./b"), 0);
  assert_int_equal(link_check("l", "."), 0);
  assert_int_equal(link_check("a/l", ".././/b/"), 0);
  /* Out: climbing past the root, absolute, ".." after a name. */
  assert_int_equal(link_check("a/l", "../../x"), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("l", "../x"), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("l", ".."), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("a/b/l", "../../../x"), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("a/l", "b/../c"), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("a/b/l", "../x/../.."), CODE_E_LINK_ESCAPES);
  assert_int_equal(link_check("a/l", "/etc/passwd"), CODE_E_ABSOLUTE);
  assert_int_equal(link_check("a/l", ""), CODE_E_EMPTY);
  assert_int_equal(link_check("a/l", "0123456789abcdefg"), CODE_E_TOO_LONG);
  struct code_limits lim = small_limits();
  assert_int_equal(code_symlink_check(&lim, "l", "a\0b", 3), CODE_E_NUL);
}

static void test_entry_types(void **state) {
  (void)state;
  assert_int_equal(code_entry_type_check(CODE_ENTRY_FILE), 0);
  assert_int_equal(code_entry_type_check(CODE_ENTRY_DIR), 0);
  assert_int_equal(code_entry_type_check(CODE_ENTRY_SYMLINK), 0);
  enum code_entry_type refused[] = {CODE_ENTRY_HARDLINK, CODE_ENTRY_CHARDEV, CODE_ENTRY_BLOCKDEV,
                                    CODE_ENTRY_FIFO,     CODE_ENTRY_SOCKET,  CODE_ENTRY_OTHER};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    assert_int_equal(code_entry_type_check(refused[i]), CODE_E_TYPE);
  assert_string_equal(code_entry_type_name(CODE_ENTRY_HARDLINK), "hard link");
  assert_string_equal(code_entry_type_name(CODE_ENTRY_FIFO), "fifo");
}

static void test_totals(void **state) {
  (void)state;
  struct code_limits lim = code_limits_default();
  lim.max_files = 2;
  lim.max_bytes = 100;
  struct code_totals t = {0};
  assert_int_equal(code_count_entry(&lim, &t), 0);
  assert_int_equal(code_count_entry(&lim, &t), 0);
  assert_int_equal(code_count_entry(&lim, &t), CODE_E_TOO_MANY_FILES);
  assert_int_equal(t.files, 2);
  assert_int_equal(code_count_bytes(&lim, &t, 60), 0);
  assert_int_equal(code_count_bytes(&lim, &t, 41), CODE_E_TOO_MANY_BYTES);
  assert_int_equal(code_count_bytes(&lim, &t, UINT64_MAX), CODE_E_TOO_MANY_BYTES);
  assert_int_equal(code_count_bytes(&lim, &t, 40), 0);
  assert_int_equal(t.bytes, 100);
  assert_int_equal(code_count_bytes(&lim, &t, 0), 0);
  assert_int_equal(code_count_bytes(&lim, &t, 1), CODE_E_TOO_MANY_BYTES);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_path_normalises),
      cmocka_unit_test(test_path_refusals),   cmocka_unit_test(test_messages_distinct),
      cmocka_unit_test(test_symlink_targets), cmocka_unit_test(test_entry_types),
      cmocka_unit_test(test_totals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
