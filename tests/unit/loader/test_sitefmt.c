/* Unit tests of the site cache's records (vmm/loader/sitefmt.c): what is
 * encoded decodes to the same list; every truncation, every flipped byte,
 * another version, another key and offsets out of order or outside the
 * file are refused; an index entry answers only for exactly its identity. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/digest.h"
#include "loader/sitefmt.h"

#define FILE_SIZE 100000u

static uint64_t offsets[] = {0x10, 0x1234, 0x4000, FILE_SIZE - 2};
static const struct file_sites sample = {.v = offsets, .n = 4};

static void sample_sha(uint8_t sha[DIGEST_SHA256_LEN]) { digest_sha256("content", 7, sha); }

static uint8_t *encode(const struct file_sites *s, size_t *len) {
  uint8_t sha[DIGEST_SHA256_LEN];
  sample_sha(sha);
  *len = sitefmt_sites_size(s->n);
  uint8_t *buf = malloc(*len);
  assert_non_null(buf);
  sitefmt_sites_encode(sha, FILE_SIZE, s, buf);
  return buf;
}

static int decode(const uint8_t *buf, size_t len, struct file_sites *out) {
  uint8_t sha[DIGEST_SHA256_LEN];
  const char *why = NULL;
  sample_sha(sha);
  int err = sitefmt_sites_decode(buf, len, sha, FILE_SIZE, out, &why);
  if (err)
    assert_non_null(why);
  return err;
}

/* Rewrites the trailing checksum after the test changed the record, so
 * that the check under test is the one that refuses it. */
static void reseal(uint8_t *buf, size_t len) {
  digest_sha256(buf, len - DIGEST_SHA256_LEN, buf + len - DIGEST_SHA256_LEN);
}

static void digest_is_sha256(void **state) {
  uint8_t d[DIGEST_SHA256_LEN];
  char hex[DIGEST_SHA256_HEX];
  digest_sha256("abc", 3, d);
  digest_hex(d, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  digest_sha256("", 0, d);
  digest_hex(d, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void round_trips(void **state) {
  size_t len;
  uint8_t *buf = encode(&sample, &len);
  assert_int_equal(len, 64 + 8 * 4 + 32);
  struct file_sites out;
  assert_int_equal(decode(buf, len, &out), 0);
  assert_int_equal(out.n, 4);
  assert_memory_equal(out.v, offsets, sizeof offsets);
  file_sites_free(&out);
  free(buf);
  struct file_sites none = {0};
  buf = encode(&none, &len);
  assert_int_equal(decode(buf, len, &out), 0);
  assert_int_equal(out.n, 0);
  free(buf);
}

static void refuses_every_truncation_and_flipped_byte(void **state) {
  size_t len;
  uint8_t *buf = encode(&sample, &len);
  struct file_sites out;
  for (size_t cut = 0; cut < len; cut++)
    assert_int_equal(decode(buf, cut, &out), -EINVAL);
  for (size_t i = 0; i < len; i++) {
    buf[i] ^= 0x40;
    assert_int_equal(decode(buf, len, &out), -EINVAL);
    buf[i] ^= 0x40;
  }
  assert_int_equal(decode(buf, len, &out), 0);
  file_sites_free(&out);
  free(buf);
}

static void refuses_other_versions_and_keys(void **state) {
  size_t len;
  uint8_t *buf = encode(&sample, &len);
  struct file_sites out;
  const char *why;
  uint8_t sha[DIGEST_SHA256_LEN];
  sample_sha(sha);
  assert_int_equal(sitefmt_sites_decode(buf, len, sha, FILE_SIZE + 1, &out, &why), -EINVAL);
  sha[5] ^= 1;
  assert_int_equal(sitefmt_sites_decode(buf, len, sha, FILE_SIZE, &out, &why), -EINVAL);
  uint32_t v = SITEFMT_VERSION + 1;
  memcpy(buf + 8, &v, 4); /* a newer record */
  reseal(buf, len);
  assert_int_equal(decode(buf, len, &out), -EINVAL);
  v = SITEFMT_VERSION;
  memcpy(buf + 8, &v, 4);
  v = FILESITES_FINDER_VERSION + 1; /* lists found another way */
  memcpy(buf + 12, &v, 4);
  reseal(buf, len);
  assert_int_equal(decode(buf, len, &out), -EINVAL);
  free(buf);
}

static void refuses_bad_offsets_and_counts(void **state) {
  uint64_t unordered[] = {0x20, 0x10};
  uint64_t repeated[] = {0x20, 0x20};
  uint64_t outside[] = {0x20, FILE_SIZE - 1};
  const struct file_sites bad[] = {{unordered, 2}, {repeated, 2}, {outside, 2}};
  struct file_sites out;
  for (size_t i = 0; i < 3; i++) {
    size_t len;
    uint8_t *buf = encode(&bad[i], &len);
    assert_int_equal(decode(buf, len, &out), -EINVAL);
    free(buf);
  }
  size_t len;
  uint8_t *buf = encode(&sample, &len);
  uint64_t count = 3; /* fewer than the record holds */
  memcpy(buf + 56, &count, 8);
  reseal(buf, len);
  assert_int_equal(decode(buf, len, &out), -EINVAL);
  count = UINT64_MAX / 8;
  memcpy(buf + 56, &count, 8);
  reseal(buf, len);
  assert_int_equal(decode(buf, len, &out), -EINVAL);
  free(buf);
  /* Larger than any record may be: refused before anything else. */
  uint8_t *huge = calloc(1, SITEFMT_SITES_MAX_SIZE + 8);
  assert_non_null(huge);
  assert_int_equal(decode(huge, SITEFMT_SITES_MAX_SIZE + 8, &out), -EINVAL);
  free(huge);
}

static void index_answers_only_its_identity(void **state) {
  const struct site_file_id id = {.dev = 0x801,
                                  .ino = 1234,
                                  .size = FILE_SIZE,
                                  .mtime_ns = 1700000000123456789ULL,
                                  .ctime_ns = 1700000000987654321ULL};
  uint8_t sha[DIGEST_SHA256_LEN], got[DIGEST_SHA256_LEN], rec[SITEFMT_INDEX_SIZE];
  const char *why = NULL;
  sample_sha(sha);
  sitefmt_index_encode(&id, sha, rec);
  assert_int_equal(sitefmt_index_decode(rec, sizeof rec, &id, got, &why), 0);
  assert_memory_equal(got, sha, sizeof sha);
  for (int field = 0; field < 5; field++) {
    struct site_file_id other = id;
    uint64_t *f[] = {&other.dev, &other.ino, &other.size, &other.mtime_ns, &other.ctime_ns};
    (*f[field])++;
    assert_int_equal(sitefmt_index_decode(rec, sizeof rec, &other, got, &why), -EINVAL);
    assert_string_equal(why, "stale");
  }
  for (size_t i = 0; i < sizeof rec; i++) {
    rec[i] ^= 0x01;
    assert_int_equal(sitefmt_index_decode(rec, sizeof rec, &id, got, &why), -EINVAL);
    rec[i] ^= 0x01;
  }
  assert_int_equal(sitefmt_index_decode(rec, sizeof rec - 1, &id, got, &why), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(digest_is_sha256),
      cmocka_unit_test(round_trips),
      cmocka_unit_test(refuses_every_truncation_and_flipped_byte),
      cmocka_unit_test(refuses_other_versions_and_keys),
      cmocka_unit_test(refuses_bad_offsets_and_counts),
      cmocka_unit_test(index_answers_only_its_identity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
