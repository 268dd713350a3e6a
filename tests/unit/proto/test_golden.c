/* test_golden.c - the checked-in golden frames (guest-init/proto/golden)
 * against the C codec: each case rebuilt with the encoder and the JSON
 * writer must equal its file byte for byte; each file must decode to what
 * index.json says (header fields, payload, JSON, or the expected error);
 * index.json itself must be what golden_index() writes. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "proto/frame_io.h"
#include "proto/golden/golden_cases.h"
#include "proto/json.h"

/* The whole file (small: at most a few hundred bytes, index 64 KiB). */
static uint8_t *read_golden(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    fail_msg("%s: %s", path, strerror(errno));
  uint8_t *buf = malloc(1 << 16);
  *len = fread(buf, 1, 1 << 16, f);
  fclose(f);
  return buf;
}

static void test_encoder_matches_files(void **state) {
  (void)state;
  for (size_t i = 0; i < golden_case_count; i++) {
    const struct golden_case *c = &golden_cases[i];
    uint8_t built[1024];
    size_t len;
    long n = c->build(built, sizeof built);
    uint8_t *file = read_golden(c->file, &len);
    if (n != (long)len || memcmp(built, file, len) != 0)
      fail_msg("%s: the encoder's bytes differ from the file", c->file);
    free(file);
  }
}

/* Decodes a whole file with the incremental decoder: its single event. */
static long decode_one(const uint8_t *b, size_t len, struct hf_decoder *d, struct hf_event *ev) {
  assert_int_equal(hf_decoder_init(d), 0);
  long n = hf_decoder_feed(d, b, len, ev);
  return n;
}

static void check_ok(const struct golden_case *c, const uint8_t *b, size_t len) {
  struct hf_header h;
  assert_int_equal(hf_header_decode(b, &h), 0);
  assert_int_equal(h.length, len - HF_HEADER_SIZE);
  struct hf_decoder d;
  struct hf_event ev;
  assert_int_equal(decode_one(b, len, &d, &ev), (long)len);
  assert_int_equal(ev.header.type, h.type);
  assert_int_equal(ev.header.stream, h.stream);
  if (h.type == HF_DATA) {
    assert_int_equal(ev.kind, HF_EV_DATA);
    assert_int_equal(ev.len, h.length);
  } else if (h.type == HF_END) {
    assert_int_equal(ev.kind, HF_EV_END);
  } else {
    assert_int_equal(ev.kind, HF_EV_CONTROL);
    struct json_doc doc;
    if (json_parse(&doc, (const char *)ev.payload, ev.len) != 0)
      fail_msg("%s: JSON refused", c->file);
  }
  hf_decoder_free(&d);
}

static void check_bad(const struct golden_case *c, const uint8_t *b, size_t len) {
  struct hf_header h;
  struct hf_decoder d;
  struct hf_event ev;
  int header = hf_header_decode(b, &h);
  long fed = decode_one(b, len, &d, &ev);
  switch (c->expect) {
  case GOLDEN_TRUNCATED:
    assert_int_equal(header, 0);
    assert_int_equal(fed, (long)len); /* all taken, no frame out */
    assert_int_equal(ev.kind, HF_EV_NONE);
    break;
  case GOLDEN_BAD_JSON:
  case GOLDEN_BAD_VALUE: {
    assert_int_equal(header, 0);
    assert_int_equal(ev.kind, HF_EV_CONTROL);
    struct json_doc doc;
    int err = json_parse(&doc, (const char *)ev.payload, ev.len);
    if (c->expect == GOLDEN_BAD_JSON) {
      assert_int_equal(err, c->c_error);
    } else {
      uint64_t v;
      assert_int_equal(err, 0);
      assert_int_equal(json_get_u64(&doc, c->member, &v), c->c_error);
    }
    break;
  }
  default: /* refused on the header alone, by both entry points */
    assert_int_equal(header, c->c_error);
    assert_int_equal(fed, c->c_error);
    break;
  }
  hf_decoder_free(&d);
}

static void test_files_decode_as_expected(void **state) {
  (void)state;
  for (size_t i = 0; i < golden_case_count; i++) {
    const struct golden_case *c = &golden_cases[i];
    size_t len;
    uint8_t *b = read_golden(c->file, &len);
    assert_true(len >= HF_HEADER_SIZE);
    if (c->expect == GOLDEN_OK)
      check_ok(c, b, len);
    else
      check_bad(c, b, len);
    free(b);
  }
}

/* The blocking reader sees the truncated file as a stream cut short. */
static void test_truncated_with_frame_io(void **state) {
  (void)state;
  char path[4096], buf[256];
  snprintf(path, sizeof path, "%s/bad_truncated.bin", GOLDEN_DIR);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  struct hf_header h;
  assert_int_equal(hf_read_control(fd, buf, sizeof buf, &h), -EPIPE);
  close(fd);
}

/* invoke.bin's members read back as written, UTF-8 and escapes included. */
static void test_invoke_contents(void **state) {
  (void)state;
  size_t len;
  uint8_t *b = read_golden("invoke.bin", &len);
  struct json_doc doc;
  assert_int_equal(json_parse(&doc, (const char *)b + 8, len - 8), 0);
  char s[64], k[64], v[64];
  uint64_t n;
  assert_int_equal(json_get_string(&doc, "request_id", s, sizeof s), 8);
  assert_string_equal(s, "req-0001");
  assert_int_equal(json_get_u64(&doc, "response_cap", &n), 0);
  assert_int_equal(n, HF_RESPONSE_CAP_DEFAULT);
  struct json_object_iter it;
  assert_int_equal(json_get_object(&doc, "env", &it), 0);
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, "GREETING");
  assert_string_equal(v, "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x8e\x89");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(v, "say \"hi\"\\ /\n\t\r\b\f\x01\x1f\x7f");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 1);
  assert_string_equal(k, "EMPTY");
  assert_string_equal(v, "");
  assert_int_equal(json_object_next_string(&it, k, sizeof k, v, sizeof v), 0);
  free(b);

  b = read_golden("data_response.bin", &len);
  assert_int_equal(len, 8 + 256);
  for (int i = 0; i < 256; i++)
    assert_int_equal(b[8 + i], i);
  free(b);
}

/* All valid frames back to back, fed one byte at a time: the same frames,
 * in order. */
static void test_concatenated_bytewise(void **state) {
  (void)state;
  uint8_t *all = malloc(1 << 16);
  size_t total = 0;
  int frames = 0;
  for (size_t i = 0; i < golden_case_count; i++) {
    if (golden_cases[i].expect != GOLDEN_OK)
      continue;
    size_t len;
    uint8_t *b = read_golden(golden_cases[i].file, &len);
    memcpy(all + total, b, len);
    total += len;
    frames++;
    free(b);
  }
  struct hf_decoder d;
  assert_int_equal(hf_decoder_init(&d), 0);
  int ends = 0; /* frames completed */
  for (size_t pos = 0; pos < total; pos++) {
    struct hf_event ev;
    long n = hf_decoder_feed(&d, all + pos, 1, &ev);
    assert_int_equal(n, 1);
    /* A frame is complete when its last byte produced an event and the
     * decoder is back at a header (frames without payload included: their
     * event comes with their header's last byte). */
    if (ev.kind != HF_EV_NONE && !d.in_payload)
      ends++;
  }
  assert_int_equal(ends, frames);
  hf_decoder_free(&d);
  free(all);
}

static void test_index_matches(void **state) {
  (void)state;
  static char want[1 << 16];
  long n = golden_index(want, sizeof want);
  assert_true(n > 0);
  size_t len;
  uint8_t *file = read_golden("index.json", &len);
  if ((size_t)n != len || memcmp(want, file, len) != 0)
    fail_msg("index.json differs from golden_index(): regenerate with hearth_mkgolden");
  free(file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encoder_matches_files),
      cmocka_unit_test(test_files_decode_as_expected),
      cmocka_unit_test(test_truncated_with_frame_io),
      cmocka_unit_test(test_invoke_contents),
      cmocka_unit_test(test_concatenated_bytewise),
      cmocka_unit_test(test_index_matches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
