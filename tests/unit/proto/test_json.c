/* test_json.c - hearth's control JSON (guest-init/proto/json.h): the
 * writer's exact output, escapes and limits; the reader's strictness
 * (malformed input, trailing bytes, depth, duplicates, UTF-8, surrogates,
 * integer range) and its getters. Every text is parsed from a heap copy of
 * exactly its length, so a read past len is caught by ASan. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/json.h"

/* ---- writer ------------------------------------------------------------- */

static void test_write_members(void **state) {
  (void)state;
  char buf[256];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_string(&w, "s", "v");
  json_put_u64(&w, "zero", 0);
  json_put_u64(&w, "max", JSON_INT_LIMIT - 1);
  json_put_bool(&w, "t", true);
  json_put_bool(&w, "f", false);
  json_begin_member_object(&w, "env");
  json_put_string(&w, "A", "1");
  json_put_string(&w, "B", "");
  json_end_object(&w);
  json_begin_member_object(&w, "empty");
  json_end_object(&w);
  json_end_object(&w);
  long n = json_writer_finish(&w);
  const char *want = "{\"s\":\"v\",\"zero\":0,\"max\":9007199254740991,\"t\":true,\"f\":false,"
                     "\"env\":{\"A\":\"1\",\"B\":\"\"},\"empty\":{}}";
  assert_int_equal(n, (long)strlen(want));
  assert_string_equal(buf, want);
}

static void test_write_escapes(void **state) {
  (void)state;
  char in[40], buf[512];
  size_t k = 0;
  for (int c = 1; c < 0x20; c++)
    in[k++] = (char)c;
  memcpy(in + k, "\"\\/\x7f", 4);
  k += 4;
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_string_n(&w, "k\"\n", in, k);
  json_put_string_n(&w, "nul", "a\0b", 3);
  json_end_object(&w);
  assert_true(json_writer_finish(&w) > 0);
  assert_string_equal(buf, "{\"k\\\"\\n\":\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t"
                           "\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
                           "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
                           "\\u001e\\u001f\\\"\\\\/\x7f\",\"nul\":\"a\\u0000b\"}");
}

static void test_write_utf8(void **state) {
  (void)state;
  char buf[128];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_string(&w, "ok", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  /* Invalid: lone continuation, truncated sequence, overlong, surrogate,
   * above U+10FFFF. Each bad byte becomes U+FFFD. */
  json_put_string(&w, "bad", "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
  json_end_object(&w);
  assert_true(json_writer_finish(&w) > 0);
#define R "\xef\xbf\xbd"
  assert_string_equal(buf, "{\"ok\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"bad\":\"" R "|" R R
                           "|" R R "|" R R R "|" R R R R "\"}");
#undef R
}

/* Every capacity below the exact size fails with -ENOSPC; the exact size
 * (text + NUL) works. */
static void test_write_capacity(void **state) {
  (void)state;
  for (size_t cap = 0; cap < 64; cap++) {
    char *buf = cap ? malloc(cap) : NULL;
    struct json_writer w;
    json_writer_init(&w, buf, cap);
    json_begin_object(&w);
    json_put_string(&w, "key", "v\"alue");
    json_put_u64(&w, "n", 12345);
    json_end_object(&w);
    long n = json_writer_finish(&w);
    const char *text = "{\"key\":\"v\\\"alue\",\"n\":12345}";
    if (cap < strlen(text) + 1) {
      assert_int_equal(n, -ENOSPC);
    } else {
      assert_int_equal(n, (long)strlen(text));
      assert_string_equal(buf, text);
    }
    free(buf);
  }
}

static void test_write_errors(void **state) {
  (void)state;
  char buf[128];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_u64(&w, "big", JSON_INT_LIMIT);
  json_end_object(&w);
  assert_int_equal(json_writer_finish(&w), -ERANGE);

  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  assert_int_equal(json_writer_finish(&w), -EINVAL); /* unclosed */

  json_writer_init(&w, buf, sizeof buf);
  json_put_string(&w, "a", "b"); /* outside any object */
  assert_int_equal(json_writer_finish(&w), -EINVAL);

  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_end_object(&w);
  json_begin_object(&w); /* a second top-level object */
  assert_int_equal(json_writer_finish(&w), -EINVAL);

  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  for (int i = 0; i < 4; i++)
    json_begin_member_object(&w, "x"); /* depth 5 */
  assert_int_equal(json_writer_finish(&w), -EINVAL);
}

static void test_utf8_prefix(void **state) {
  (void)state;
  const char *s = "ab\xe2\x98\x83"
                  "c";
  assert_int_equal(json_utf8_prefix(s, 6, 10), 6);
  assert_int_equal(json_utf8_prefix(s, 6, 4), 2); /* not inside the snowman */
  assert_int_equal(json_utf8_prefix(s, 6, 5), 5);
  assert_int_equal(json_utf8_prefix("\xff\xff", 2, 3), 1); /* U+FFFD is 3 bytes */
  assert_int_equal(json_utf8_prefix("", 0, 0), 0);
}

/* ---- reader ------------------------------------------------------------- */

/* Parses a heap copy of exactly strlen(text) bytes (no NUL after it). */
struct parsed {
  struct json_doc doc;
  char *copy;
  int err;
};

static struct parsed parse_n(const char *text, size_t len) {
  struct parsed p;
  p.copy = malloc(len ? len : 1);
  memcpy(p.copy, text, len);
  p.err = json_parse(&p.doc, p.copy, len);
  return p;
}

static struct parsed parse(const char *text) { return parse_n(text, strlen(text)); }

static int parse_err(const char *text) {
  struct parsed p = parse(text);
  free(p.copy);
  return p.err;
}

static void test_read_rejects_malformed(void **state) {
  (void)state;
  const char *bad[] = {
      "",
      " ",
      "{",
      "}",
      "{}x",
      "{} {}",
      "[]",
      "\"s\"",
      "1",
      "null",
      "{\"a\"}",
      "{\"a\":}",
      "{,}",
      "{\"a\":1,}",
      "{\"a\":1 \"b\":2}",
      "{a:1}",
      "{'a':1}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":+1}",
      "{\"a\":tru}",
      "{\"a\":nul}",
      "{\"a\":True}",
      "{\"a\":[1,]}",
      "{\"a\":[,1]}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\u12g4\"}",
      "{\"a\":\"unterminated}",
      "{\"a\":\"\\udc00\"}",        /* low surrogate alone */
      "{\"a\":\"\\ud800\"}",        /* high surrogate alone */
      "{\"a\":\"\\ud800\\u0041\"}", /* high then not low */
      "{\"a\":\"\\ud800x\"}",
      "{\"a\":\"tab\there\"}",              /* raw control character */
      "{\"a\":\"\xc0\xaf\"}",               /* overlong */
      "{\"a\":\"\xed\xa0\x80\"}",           /* UTF-8-encoded surrogate */
      "{\"a\":\"\xf5\x80\x80\x80\"}",       /* above U+10FFFF */
      "{\"a\":\"\xe2\x82\"}",               /* truncated sequence */
      "{\"a\xff\":1}",                      /* bad key */
      "{\"a\":1,\"a\":2}",                  /* duplicate */
      "{\"a\":1,\"\\u0061\":2}",            /* duplicate after unescaping */
      "{\"x\":{\"k\":1,\"k\":2}}",          /* duplicate in a nested object */
      "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", /* depth 5 */
      "{\"a\":[[[[]]]]}",                   /* depth 5 with arrays */
      "\xef\xbb\xbf{}",                     /* a byte-order mark */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int err = parse_err(bad[i]);
    if (err != -EINVAL)
      fail_msg("accepted or wrong error %d: %s", err, bad[i]);
  }
}

static void test_read_accepts(void **state) {
  (void)state;
  const char *good[] = {
      "{}",
      " \t\r\n{ } \n",
      "{\"a\":{\"b\":{\"c\":{}}}}", /* depth 4 */
      "{\"a\":[[[1]]]}",
      "{\"n\":-0.5e+10,\"m\":1E-2,\"z\":0,\"x\":[true,false,null,\"s\",{}]}",
      "{\"a\":1,\"A\":2,\"a \":3}", /* keys differ */
      "{\"\":\"empty key\"}",
      "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83c\\udf89\"}",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int err = parse_err(good[i]);
    if (err != 0)
      fail_msg("refused (%d): %s", err, good[i]);
  }
}

/* The reader never looks past len, even when the bytes after it would
 * complete the text. */
static void test_read_bounded(void **state) {
  (void)state;
  const char *text = "{\"a\":\"bc\"}";
  for (size_t len = 0; len < strlen(text); len++) {
    struct parsed p = parse_n(text, len);
    assert_int_equal(p.err, -EINVAL);
    free(p.copy);
  }
  struct parsed p = parse_n(text, strlen(text));
  assert_int_equal(p.err, 0);
  free(p.copy);
}

static void test_members_limit(void **state) {
  (void)state;
  char *text = malloc(16 * (JSON_MEMBERS_MAX + 2));
  for (int total = JSON_MEMBERS_MAX; total <= JSON_MEMBERS_MAX + 1; total++) {
    size_t n = 0;
    n += (size_t)sprintf(text + n, "{\"env\":{");
    for (int i = 0; i < total; i++)
      n += (size_t)sprintf(text + n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    sprintf(text + n, "}}");
    assert_int_equal(parse_err(text), total > JSON_MEMBERS_MAX ? -E2BIG : 0);
  }
  free(text);
}

static void test_get_string(void **state) {
  (void)state;
  struct parsed p =
      parse("{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83c\\udf89\","
            "\"raw\":\"h\xc3\xa9\",\"nul\":\"a\\u0000b\",\"n\":1,\"k\\u00e9y\":\"x\"}");
  assert_int_equal(p.err, 0);
  char out[64];
  const char *want = "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89";
  assert_int_equal(json_get_string(&p.doc, "e", out, sizeof out), (long)strlen(want));
  assert_string_equal(out, want);
  assert_int_equal(json_get_string(&p.doc, "raw", out, sizeof out), 3);
  assert_string_equal(out, "h\xc3\xa9");
  /* Exactly fitting, then one byte short. */
  assert_int_equal(json_get_string(&p.doc, "raw", out, 4), 3);
  assert_int_equal(json_get_string(&p.doc, "raw", out, 3), -ENAMETOOLONG);
  assert_int_equal(json_get_string(&p.doc, "raw", out, 0), -ENAMETOOLONG);
  assert_int_equal(json_get_string(&p.doc, "nul", out, sizeof out), -EILSEQ);
  assert_int_equal(json_get_string(&p.doc, "n", out, sizeof out), -EINVAL);
  assert_int_equal(json_get_string(&p.doc, "missing", out, sizeof out), -ENOENT);
  assert_int_equal(json_get_string(&p.doc, "k\xc3\xa9y", out, sizeof out), 1); /* escaped key */
  assert_int_equal(json_get_string(&p.doc, "k", out, sizeof out), -ENOENT);    /* no prefix match */
  free(p.copy);
}

static void test_get_u64_and_bool(void **state) {
  (void)state;
  struct parsed p = parse("{\"zero\":0,\"max\":9007199254740991,\"limit\":9007199254740992,"
                          "\"huge\":123456789012345678901234567890,\"neg\":-1,\"frac\":1.0,"
                          "\"exp\":1e3,\"str\":\"1\",\"t\":true,\"f\":false,\"nul\":null,"
                          "\"nested\":{\"zero\":5}}");
  assert_int_equal(p.err, 0);
  uint64_t v = 99;
  assert_int_equal(json_get_u64(&p.doc, "zero", &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(json_get_u64(&p.doc, "max", &v), 0);
  assert_true(v == JSON_INT_LIMIT - 1);
  assert_int_equal(json_get_u64(&p.doc, "limit", &v), -ERANGE);
  assert_int_equal(json_get_u64(&p.doc, "huge", &v), -ERANGE);
  assert_int_equal(json_get_u64(&p.doc, "neg", &v), -EINVAL);
  assert_int_equal(json_get_u64(&p.doc, "frac", &v), -EINVAL);
  assert_int_equal(json_get_u64(&p.doc, "exp", &v), -EINVAL);
  assert_int_equal(json_get_u64(&p.doc, "str", &v), -EINVAL);
  assert_int_equal(json_get_u64(&p.doc, "none", &v), -ENOENT);
  bool b = false;
  assert_int_equal(json_get_bool(&p.doc, "t", &b), 0);
  assert_true(b);
  assert_int_equal(json_get_bool(&p.doc, "f", &b), 0);
  assert_false(b);
  assert_int_equal(json_get_bool(&p.doc, "nul", &b), -EINVAL);
  assert_int_equal(json_get_bool(&p.doc, "zero", &b), -EINVAL);
  /* Only top-level members are found. */
  assert_int_equal(json_get_u64(&p.doc, "nested", &v), -EINVAL);
  free(p.copy);
}

static void test_object_iteration(void **state) {
  (void)state;
  struct parsed p = parse("{\"before\":[1,{\"x\":2}], \"env\" : { \"A\" : \"1\" , \"B\\u00e9\":"
                          "\"\\n\", \"C\":\"\" } ,\"after\":\"z\",\"bad\":{\"k\":1},"
                          "\"long\":{\"k\":\"0123456789\"},\"str\":\"s\",\"empty\":{}}");
  assert_int_equal(p.err, 0);
  struct json_object_iter it;
  char k[16], v[8];
  assert_int_equal(json_get_object(&p.doc, "env", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, "A");
  assert_string_equal(v, "1");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, "B\xc3\xa9");
  assert_string_equal(v, "\n");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, "C");
  assert_string_equal(v, "");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 0);

  assert_int_equal(json_get_object(&p.doc, "bad", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), -EINVAL);
  assert_int_equal(json_get_object(&p.doc, "long", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), -ENAMETOOLONG);
  assert_int_equal(json_get_object(&p.doc, "empty", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 0);
  assert_int_equal(json_get_object(&p.doc, "str", &it), -EINVAL);
  assert_int_equal(json_get_object(&p.doc, "nope", &it), -ENOENT);
  assert_int_equal(json_get_string(&p.doc, "after", v, sizeof v), 1);
  free(p.copy);
}

/* What the writer writes, the reader reads back unchanged, for every
 * 1- to 4-byte character class and every control character. */
static void test_roundtrip(void **state) {
  (void)state;
  char value[512];
  size_t n = 0;
  for (int c = 1; c < 0x80; c++)
    value[n++] = (char)c;
  const char *wide = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  memcpy(value + n, wide, strlen(wide));
  n += strlen(wide);
  value[n] = '\0';
  char buf[2048];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_string(&w, "v", value);
  json_begin_member_object(&w, "env");
  json_put_string(&w, value, "x");
  json_end_object(&w);
  json_end_object(&w);
  long len = json_writer_finish(&w);
  assert_true(len > 0);
  struct parsed p = parse_n(buf, (size_t)len);
  assert_int_equal(p.err, 0);
  char back[512], k[512], v[8];
  assert_int_equal(json_get_string(&p.doc, "v", back, sizeof back), (long)n);
  assert_string_equal(back, value);
  struct json_object_iter it;
  assert_int_equal(json_get_object(&p.doc, "env", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, value);
  free(p.copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_members),
      cmocka_unit_test(test_write_escapes),
      cmocka_unit_test(test_write_utf8),
      cmocka_unit_test(test_write_capacity),
      cmocka_unit_test(test_write_errors),
      cmocka_unit_test(test_utf8_prefix),
      cmocka_unit_test(test_read_rejects_malformed),
      cmocka_unit_test(test_read_accepts),
      cmocka_unit_test(test_read_bounded),
      cmocka_unit_test(test_members_limit),
      cmocka_unit_test(test_get_string),
      cmocka_unit_test(test_get_u64_and_bool),
      cmocka_unit_test(test_object_iteration),
      cmocka_unit_test(test_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
