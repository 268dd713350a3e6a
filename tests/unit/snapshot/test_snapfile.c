/* Unit tests of the snapshot state file (snapshot/snapfile.c, included for
 * its layout): a round trip of several sections, the writer's own
 * refusals, every refusal of the reader (bad magic, another version,
 * another CPU, truncation at every offset, any flipped bit, sections out of
 * place, twice or too many, a file over the cap), and the cursor's bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "snap_tmpdir.h"
#include "snapshot/snapfile.c"

#define NAME SNAP_STATE_FILE

struct raw {
  uint8_t *p;
  size_t len;
};

static int setup(void **state) {
  static struct snap_tmpdir d;
  assert_int_equal(snap_tmpdir_make(&d), 0);
  *state = &d;
  return 0;
}

static int teardown(void **state) {
  snap_tmpdir_remove(*state);
  return 0;
}

static const uint8_t blob[5] = {9, 8, 7, 6, 5};

/* Three sections: scalars and strings, a larger one, an empty one. */
static void write_sample(int dirfd, size_t big) {
  struct snap_writer *w;
  assert_int_equal(snap_writer_new(&w), 0);
  struct snap_buf *b = snap_writer_section(w, SNAP_SEC_CONFIG);
  snap_put_u8(b, 0xab);
  snap_put_u32(b, 0xdeadbeef);
  snap_put_u64(b, 0x0123456789abcdefULL);
  snap_put_str(b, "/code/handler.py");
  snap_put_str(b, NULL);
  snap_put_str(b, "");
  snap_put_bytes(b, blob, sizeof blob);
  b = snap_writer_section(w, SNAP_SEC_VFS);
  for (size_t i = 0; i < big; i++)
    snap_put_u8(b, (uint8_t)(i * 7));
  snap_writer_section(w, SNAP_SEC_CLOCK);
  assert_int_equal(snap_writer_commit(w, dirfd, NAME), 0);
  snap_writer_free(w);
}

static struct snap_file *read_ok(int dirfd) {
  struct snap_file *f;
  char err[256];
  int rc = snap_file_read(dirfd, NAME, &f, err, sizeof err);
  if (rc != 0)
    fail_msg("refused: %s", err);
  return f;
}

/* Reads the file expecting a refusal with `errno_` and a reason containing `why`. */
static void read_refused(int dirfd, int errno_, const char *why) {
  struct snap_file *f = (struct snap_file *)1;
  char err[256];
  int rc = snap_file_read(dirfd, NAME, &f, err, sizeof err);
  assert_int_equal(rc, errno_);
  assert_null(f);
  if (!strstr(err, why))
    fail_msg("reason \"%s\" lacks \"%s\"", err, why);
}

static struct raw raw_load(int dirfd) {
  struct raw r = {0};
  int fd = openat(dirfd, NAME, O_RDONLY);
  struct stat st;
  assert_true(fd >= 0 && fstat(fd, &st) == 0);
  r.len = (size_t)st.st_size;
  r.p = malloc(r.len);
  assert_non_null(r.p);
  assert_int_equal(pread(fd, r.p, r.len, 0), (ssize_t)r.len);
  close(fd);
  return r;
}

static void raw_store(int dirfd, const uint8_t *p, size_t len) {
  int fd = openat(dirfd, NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, len), (ssize_t)len);
  close(fd);
}

/* A forged file: the checksum made right again after an edit. */
static void raw_store_sealed(int dirfd, struct raw r) {
  SHA256_CTX sha;
  SHA256_Init(&sha);
  SHA256_Update(&sha, r.p, r.len - SNAP_SUM_LEN);
  SHA256_Final(r.p + r.len - SNAP_SUM_LEN, &sha);
  raw_store(dirfd, r.p, r.len);
}

static uint8_t *entry(struct raw r, unsigned i) {
  return r.p + SNAP_HEADER_LEN + i * SNAP_ENTRY_LEN;
}

static void sections_round_trip(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 3000);
  assert_int_equal(snap_tmpdir_count(d), 1); /* no temp file left behind */
  struct snap_file *f = read_ok(d->fd);
  struct snap_cursor c;
  char s[64];
  assert_int_equal(snap_file_section(f, SNAP_SEC_CONFIG, &c), 0);
  assert_int_equal(snap_get_u8(&c), 0xab);
  assert_int_equal(snap_get_u32(&c), 0xdeadbeef);
  assert_int_equal(snap_get_u64(&c), 0x0123456789abcdefULL);
  assert_int_equal(snap_get_str(&c, s, sizeof s), 1);
  assert_string_equal(s, "/code/handler.py");
  assert_int_equal(snap_get_str(&c, s, sizeof s), 0);
  assert_string_equal(s, "");
  assert_int_equal(snap_get_str(&c, s, sizeof s), 1);
  assert_string_equal(s, "");
  assert_memory_equal(snap_get_bytes(&c, sizeof blob), blob, sizeof blob);
  assert_int_equal(snap_cursor_done(&c), 0);
  assert_int_equal(snap_file_section(f, SNAP_SEC_VFS, &c), 0);
  assert_int_equal(c.len, 3000);
  for (size_t i = 0; i < 3000; i++)
    assert_int_equal(snap_get_u8(&c), (uint8_t)(i * 7));
  assert_int_equal(snap_cursor_done(&c), 0);
  assert_int_equal(snap_file_section(f, SNAP_SEC_CLOCK, &c), 0);
  assert_int_equal(c.len, 0);
  assert_int_equal(snap_cursor_done(&c), 0);
  assert_int_equal(snap_file_section(f, SNAP_SEC_VCPU, &c), -ENOENT);
  snap_file_free(f);
}

static void a_commit_replaces_the_file_whole(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 10);
  write_sample(d->fd, 20);
  struct snap_file *f = read_ok(d->fd);
  struct snap_cursor c;
  assert_int_equal(snap_file_section(f, SNAP_SEC_VFS, &c), 0);
  assert_int_equal(c.len, 20);
  snap_file_free(f);
  assert_int_equal(snap_tmpdir_count(d), 1);
}

static void writer_refuses_a_section_twice(void **state) {
  struct snap_tmpdir *d = *state;
  struct snap_writer *w;
  assert_int_equal(snap_writer_new(&w), 0);
  snap_put_u32(snap_writer_section(w, SNAP_SEC_MM), 1);
  struct snap_buf *again = snap_writer_section(w, SNAP_SEC_MM);
  snap_put_u32(again, 2); /* harmless: the encoder is already failed */
  assert_int_equal(again->err, -EEXIST);
  assert_int_equal(snap_writer_commit(w, d->fd, NAME), -EEXIST);
  snap_writer_free(w);
  assert_int_equal(snap_tmpdir_count(d), 0);
}

static void writer_refuses_too_many_sections(void **state) {
  struct snap_tmpdir *d = *state;
  struct snap_writer *w;
  assert_int_equal(snap_writer_new(&w), 0);
  for (uint32_t t = 1; t <= SNAP_SECTIONS_MAX; t++)
    assert_int_equal(snap_writer_section(w, t)->err, 0);
  assert_int_equal(snap_writer_section(w, 1000)->err, -E2BIG);
  assert_int_equal(snap_writer_commit(w, d->fd, NAME), -E2BIG);
  snap_writer_free(w);
}

static void writer_refuses_an_oversized_section(void **state) {
  struct snap_tmpdir *d = *state;
  struct snap_writer *w;
  assert_int_equal(snap_writer_new(&w), 0);
  struct snap_buf *b = snap_writer_section(w, SNAP_SEC_VFS);
  snap_put_u64(b, 1);
  /* Refused on its length alone: the bytes are never read. */
  uint8_t *big = calloc(1, SNAP_SECTION_MAX);
  assert_non_null(big);
  snap_put_bytes(b, big, SNAP_SECTION_MAX);
  free(big);
  assert_int_equal(b->err, -EMSGSIZE);
  snap_put_u8(b, 1);
  assert_int_equal(b->len, 8);
  assert_int_equal(snap_writer_commit(w, d->fd, NAME), -EMSGSIZE);
  snap_writer_free(w);
}

static void bad_magic_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 10);
  struct raw r = raw_load(d->fd);
  r.p[0] = 'X';
  raw_store(d->fd, r.p, r.len);
  read_refused(d->fd, -EBADMSG, "not a hearth snapshot");
  raw_store(d->fd, (const uint8_t *)"#!/bin/sh\necho hello\n", 21);
  read_refused(d->fd, -EBADMSG, "not a hearth snapshot");
  free(r.p);
}

static void another_version_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 10);
  struct raw r = raw_load(d->fd);
  le32_store(r.p + SNAP_OFF_VERSION, 7);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EPROTONOSUPPORT, "format version 7, this hearth reads 1");
  free(r.p);
}

static void another_cpu_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 10);
  struct raw r = raw_load(d->fd);
  memcpy(r.p + SNAP_OFF_VENDOR, "FakeVendorCP", 12);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -ENOEXEC, "taken on another CPU (FakeVendorCP");
  /* The same vendor on another model, or with other XSAVE features. */
  struct snap_cpu_id here;
  assert_int_equal(snap_cpu_identity(&here), 0);
  memcpy(r.p + SNAP_OFF_VENDOR, here.vendor, 12);
  le32_store(r.p + SNAP_OFF_SIGNATURE, here.signature ^ 0x10);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -ENOEXEC, "another CPU");
  le32_store(r.p + SNAP_OFF_SIGNATURE, here.signature);
  le64_store(r.p + SNAP_OFF_XCR0, here.xcr0_supported ^ 4);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -ENOEXEC, "another CPU");
  le64_store(r.p + SNAP_OFF_XCR0, here.xcr0_supported);
  raw_store_sealed(d->fd, r); /* edited back: accepted again */
  snap_file_free(read_ok(d->fd));
  free(r.p);
}

static void truncation_at_every_offset_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  for (size_t n = 0; n < r.len; n++) {
    raw_store(d->fd, r.p, n);
    read_refused(d->fd, -EBADMSG, "truncated");
  }
  free(r.p);
}

static void trailing_bytes_are_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  uint8_t *longer = calloc(1, r.len + 1);
  memcpy(longer, r.p, r.len);
  raw_store(d->fd, longer, r.len + 1);
  read_refused(d->fd, -EBADMSG, "the header says");
  free(longer);
  free(r.p);
}

/* Where a flipped bit lands decides the reason given; any is a refusal. */
static const char *flip_reason(size_t off) {
  if (off < SNAP_OFF_VERSION)
    return "not a hearth snapshot";
  if (off < SNAP_OFF_COUNT)
    return "format version";
  if (off >= SNAP_OFF_FILE_LEN && off < SNAP_OFF_VENDOR)
    return ""; /* truncated, or longer than the file says */
  return "checksum mismatch: the file is corrupt";
}

static void any_flipped_bit_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 24);
  struct raw r = raw_load(d->fd);
  for (size_t off = 0; off < r.len; off++) {
    for (int bit = 0; bit < 8; bit++) {
      r.p[off] ^= (uint8_t)(1u << bit);
      raw_store(d->fd, r.p, r.len);
      struct snap_file *f = NULL;
      char err[256] = "";
      int rc = snap_file_read(d->fd, NAME, &f, err, sizeof err);
      if (rc == 0 || f || !err[0] || !strstr(err, flip_reason(off)))
        fail_msg("bit %d of byte %zu: rc %d, \"%s\"", bit, off, rc, err);
      r.p[off] ^= (uint8_t)(1u << bit);
    }
  }
  free(r.p);
}

static void a_section_past_the_end_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  le32_store(entry(r, 2) + 4, 1000); /* the last, empty section */
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "out of place");
  le32_store(entry(r, 2) + 4, 0);
  le32_store(entry(r, 1) + 4, UINT32_MAX); /* over SNAP_SECTION_MAX as well */
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "out of place");
  le32_store(entry(r, 1) + 4, 40);
  le64_store(entry(r, 1) + 8, le64_load(entry(r, 1) + 8) - 4); /* overlaps its neighbour */
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "out of place");
  le64_store(entry(r, 1) + 8, UINT64_MAX - 8);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "out of place");
  free(r.p);
}

static void a_shorter_section_leaves_bytes_over(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  le32_store(entry(r, 1) + 4, 39);
  le64_store(entry(r, 2) + 8, le64_load(entry(r, 2) + 8) - 1);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "bytes after the last section");
  free(r.p);
}

static void a_section_twice_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  le32_store(entry(r, 2), SNAP_SEC_CONFIG);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "appears twice");
  free(r.p);
}

static void too_many_sections_are_refused(void **state) {
  struct snap_tmpdir *d = *state;
  write_sample(d->fd, 40);
  struct raw r = raw_load(d->fd);
  le32_store(r.p + SNAP_OFF_COUNT, SNAP_SECTIONS_MAX + 1);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "too many");
  le32_store(r.p + SNAP_OFF_COUNT, UINT32_MAX);
  raw_store_sealed(d->fd, r);
  read_refused(d->fd, -EBADMSG, "too many");
  free(r.p);
}

/* One byte over SNAP_STATE_MAX (sparse): refused on its size, before any read. */
static void a_file_over_the_cap_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  int fd = openat(d->fd, NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, SNAP_MAGIC, 8), 8);
  assert_int_equal(ftruncate(fd, (off_t)SNAP_STATE_MAX + 1), 0); /* sparse */
  close(fd);
  read_refused(d->fd, -EFBIG, "over the cap");
}

static void not_a_regular_file_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  assert_int_equal(mkdirat(d->fd, NAME, 0700), 0);
  read_refused(d->fd, -EINVAL, "not a regular file");
  unlinkat(d->fd, NAME, AT_REMOVEDIR);
  assert_int_equal(symlinkat("/etc/passwd", d->fd, NAME), 0);
  read_refused(d->fd, -ELOOP, "cannot open");
  read_refused(-1, -EBADF, "cannot open");
}

static void cursor_past_the_end_sticks(void **state) {
  (void)state;
  const uint8_t bytes[11] = {1, 2, 0, 0, 0, 3, 4, 5, 6, 7, 8};
  struct snap_cursor c = {.p = bytes, .len = sizeof bytes};
  assert_int_equal(snap_get_u8(&c), 1);
  assert_int_equal(snap_get_u32(&c), 2);
  assert_int_equal(snap_get_u64(&c), 0); /* 6 bytes left: fails */
  assert_int_equal(c.err, -EBADMSG);
  assert_int_equal(snap_get_u8(&c), 0); /* one would fit, but the error sticks */
  assert_null(snap_get_bytes(&c, 0));
  assert_int_equal(c.off, 5);
  assert_int_equal(snap_cursor_done(&c), -EBADMSG);
  struct snap_cursor whole = {.p = bytes, .len = sizeof bytes};
  assert_non_null(snap_get_bytes(&whole, sizeof bytes));
  assert_int_equal(snap_cursor_done(&whole), 0);
  assert_null(snap_get_bytes(&whole, 1));
  assert_int_equal(snap_cursor_done(&whole), -EBADMSG);
  struct snap_cursor unread = {.p = bytes, .len = sizeof bytes};
  snap_get_u64(&unread);
  assert_int_equal(snap_cursor_done(&unread), -EBADMSG); /* bytes left over */
  struct snap_cursor huge = {.p = bytes, .len = sizeof bytes};
  assert_null(snap_get_bytes(&huge, SIZE_MAX));
  assert_int_equal(huge.err, -EBADMSG);
}

static struct snap_cursor cursor_of(const struct snap_buf *b) {
  return (struct snap_cursor){.p = b->p, .len = b->len};
}

static void strings_are_bounded(void **state) {
  (void)state;
  struct snap_buf b = {0};
  snap_put_str(&b, "hello");
  snap_put_str(&b, "hello");
  snap_put_u32(&b, 100); /* claims more bytes than there are */
  snap_put_bytes(&b, "abc", 3);
  assert_int_equal(b.err, 0);
  char out[8];
  struct snap_cursor c = cursor_of(&b);
  assert_int_equal(snap_get_str(&c, out, 6), 1); /* five bytes and the NUL fit */
  assert_string_equal(out, "hello");
  assert_int_equal(snap_get_str(&c, out, 5), -EBADMSG); /* they do not */
  assert_string_equal(out, "");
  assert_int_equal(c.err, -EBADMSG);
  assert_int_equal(snap_get_str(&c, out, sizeof out), -EBADMSG); /* sticks */
  struct snap_cursor past = {.p = b.p + 18, .len = b.len - 18};
  assert_int_equal(snap_get_str(&past, out, sizeof out), -EBADMSG);
  free(b.p);
}

static void strings_with_a_nul_or_no_room_are_refused(void **state) {
  (void)state;
  struct snap_buf b = {0};
  snap_put_u32(&b, 3);
  snap_put_bytes(&b, "a\0b", 3);
  snap_put_str(&b, NULL);
  char out[8];
  struct snap_cursor c = cursor_of(&b);
  assert_int_equal(snap_get_str(&c, out, sizeof out), -EBADMSG);
  struct snap_cursor null_str = {.p = b.p + 7, .len = 4};
  assert_int_equal(snap_get_str(&null_str, out, 0), -EBADMSG); /* not even "" fits */
  free(b.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(sections_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(a_commit_replaces_the_file_whole, setup, teardown),
      cmocka_unit_test_setup_teardown(writer_refuses_a_section_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(writer_refuses_too_many_sections, setup, teardown),
      cmocka_unit_test_setup_teardown(writer_refuses_an_oversized_section, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_magic_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(another_version_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(another_cpu_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(truncation_at_every_offset_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(trailing_bytes_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(any_flipped_bit_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(a_section_past_the_end_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(a_shorter_section_leaves_bytes_over, setup, teardown),
      cmocka_unit_test_setup_teardown(a_section_twice_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(too_many_sections_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(a_file_over_the_cap_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(not_a_regular_file_is_refused, setup, teardown),
      cmocka_unit_test(cursor_past_the_end_sticks),
      cmocka_unit_test(strings_are_bounded),
      cmocka_unit_test(strings_with_a_nul_or_no_room_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
