/* test_jsonscan.c - the streaming JSON validator `hearth run` uses to pick
 * an event's content type (runtime/cli/jsonscan.h): RFC 8259's grammar,
 * strict UTF-8 in strings, the depth bound, and the same answer however the
 * bytes are split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonscan.h"

/* The answer for text fed whole, then one byte at a time, then in two
 * pieces split at every position: all must agree. */
static bool scan_len(const char *text, size_t len) {
  struct jscan s;
  jscan_init(&s);
  jscan_feed(&s, text, len);
  bool whole = jscan_finish(&s);
  jscan_init(&s);
  for (size_t i = 0; i < len; i++)
    jscan_feed(&s, text + i, 1);
  assert_int_equal(jscan_finish(&s), whole);
  for (size_t cut = 0; cut <= len && len < 256; cut++) {
    jscan_init(&s);
    jscan_feed(&s, text, cut);
    jscan_feed(&s, text + cut, len - cut);
    assert_int_equal(jscan_finish(&s), whole);
  }
  return whole;
}

static bool scan(const char *text) { return scan_len(text, strlen(text)); }

static void test_valid_documents(void **state) {
  (void)state;
  const char *valid[] = {
      "{}",
      "[]",
      "0",
      "-0",
      "12",
      "-0.5e+10",
      "1E-3",
      "3.25",
      "\"\"",
      "\"text\"",
      "true",
      "false",
      "null",
      " \t\r\n{ \"a\" : [ 1 , 2 , { \"b\" : null } ] }\n",
      "{\"esc\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"}",
      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
      "[[],[[]],{\"\":{}}]",
      "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
  };
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    if (!scan(valid[i]))
      fail_msg("valid JSON refused: %s", valid[i]);
  }
}

static void test_invalid_documents(void **state) {
  (void)state;
  const char *invalid[] = {
      "",
      "   ",
      "{",
      "}",
      "[1,]",
      "[,1]",
      "{\"a\"}",
      "{\"a\":1,}",
      "{a:1}",
      "{\"a\" 1}",
      "[}",
      "{]",
      "01",
      "1.",
      ".5",
      "1e",
      "1e+",
      "-",
      "+1",
      "0x10",
      "tru",
      "truex",
      "nul",
      "NaN",
      "\"abc",
      "\"a\x01\"",
      "\"\\q\"",
      "\"\\u12G4\"",
      "\"\\u12\"",
      "1 2",
      "{} {}",
      "[1] x",
      "'single'",
      "\xef\xbb\xbf{}",       /* a byte order mark is not JSON */
      "\"\xc0\xaf\"",         /* overlong '/' */
      "\"\xe0\x80\xaf\"",     /* overlong, three bytes */
      "\"\xed\xa0\x80\"",     /* a UTF-16 surrogate in UTF-8 */
      "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
      "\"\x80\"",             /* a lone continuation byte */
      "\"\xc3\"",             /* a sequence cut by the quote */
      "\"\xff\"",
  };
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    if (scan(invalid[i]))
      fail_msg("invalid JSON accepted: %s", invalid[i]);
  }
}

/* A NUL byte is not whitespace: bytes after a document are not JSON. */
static void test_embedded_nul(void **state) {
  (void)state;
  assert_false(scan_len("{}\0", 3));
  assert_false(scan_len("\"a\0b\"", 5));
}

/* Nesting up to JSCAN_MAX_DEPTH is fine; one more is not JSON here. */
static void test_depth_bound(void **state) {
  (void)state;
  for (size_t depth = JSCAN_MAX_DEPTH; depth <= JSCAN_MAX_DEPTH + 1; depth++) {
    size_t len = 2 * depth;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    struct jscan s;
    jscan_init(&s);
    jscan_feed(&s, text, len);
    assert_int_equal(jscan_finish(&s), depth <= JSCAN_MAX_DEPTH);
    free(text);
  }
}

/* Once the bytes cannot begin a document, feed says so and keeps saying so. */
static void test_sticky_refusal(void **state) {
  (void)state;
  struct jscan s;
  jscan_init(&s);
  assert_true(jscan_feed(&s, "{\"a\":", 5));
  assert_false(jscan_feed(&s, "}", 1));
  assert_false(jscan_feed(&s, "1}", 2));
  assert_false(jscan_finish(&s));
}

/* A large document in pieces of awkward sizes, as stdin delivers it. */
static void test_large_document_in_pieces(void **state) {
  (void)state;
  size_t count = 200000, cap = count * 12 + 16, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  text[len++] = '[';
  for (size_t i = 0; i < count; i++)
    len += (size_t)snprintf(text + len, cap - len, "%s%zu.5e-3", i ? "," : "", i);
  text[len++] = ']';
  struct jscan s;
  jscan_init(&s);
  for (size_t at = 0; at < len; at += 4093)
    assert_true(jscan_feed(&s, text + at, len - at < 4093 ? len - at : 4093));
  assert_true(jscan_finish(&s));
  jscan_init(&s);
  jscan_feed(&s, text, len - 1); /* without the closing bracket */
  assert_false(jscan_finish(&s));
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_documents), cmocka_unit_test(test_invalid_documents),
      cmocka_unit_test(test_embedded_nul),    cmocka_unit_test(test_depth_bound),
      cmocka_unit_test(test_sticky_refusal),  cmocka_unit_test(test_large_document_in_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
