/* test_codepack_hostile.c - the code packer of `hearth run`
 * (runtime/cli/codepack.h) against archives crafted to cost it: a gzip'd
 * tar of the same directory listed 50000 times (never written twice nor
 * counted, so without a bound on the entries read such an archive buys a
 * thousandfold work per compressed byte), the root "./" listed over and
 * over, a zip symlink whose target is a megabyte, and a pax path of a
 * megabyte. Each is refused as the code's fault, with nothing complete
 * reaching the sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codepack.h"

struct fixture {
  char dir[64];
  char path[128]; /* dir/code: the archive under test */
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/hearth-codepackh-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/code", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* Counts what reaches the sink, keeping the last 1024 bytes (a complete
 * tar ends in two zero blocks). */
struct sink {
  size_t len;
  unsigned char tail[1024];
};

static int collect(void *ctx, const void *buf, size_t len) {
  struct sink *s = ctx;
  size_t keep = len < sizeof s->tail ? len : sizeof s->tail;
  memmove(s->tail, s->tail + keep, sizeof s->tail - keep);
  memcpy(s->tail + sizeof s->tail - keep, (const char *)buf + len - keep, keep);
  s->len += len;
  return 0;
}

static void expect_refused(const char *path, int want, const char *needle) {
  struct code_limits lim = code_limits_default();
  struct codepack *p;
  struct sink s = {0};
  char err[512] = "";
  bool refused = false;
  int rc = codepack_open(&p, path, &lim, err, sizeof err, &refused);
  if (rc == 0) {
    rc = codepack_write(p, collect, &s, err, sizeof err, &refused);
    codepack_close(p);
  }
  if (rc != want || !refused || strstr(err, needle) == NULL)
    fail_msg("%s: got %d (%s), want %d with \"%s\"", path, rc, err, want, needle);
  static const unsigned char zeros[1024];
  assert_true(s.len < sizeof zeros || memcmp(s.tail, zeros, sizeof zeros) != 0);
}

static struct archive *writer(const char *path, bool zip) {
  struct archive *a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
  }
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  return a;
}

static void put_dir(struct archive *a, struct archive_entry *e, const char *name) {
  archive_entry_clear(e);
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFDIR);
  archive_entry_set_perm(e, 0755);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
}

static void finish(struct archive *a, struct archive_entry *e) {
  archive_entry_free(e);
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

/* name listed n times, then a file. */
static void build_repeated(const char *path, const char *name, int n) {
  struct archive *a = writer(path, false);
  struct archive_entry *e = archive_entry_new();
  for (int i = 0; i < n; i++)
    put_dir(a, e, name);
  archive_entry_clear(e);
  archive_entry_set_pathname(e, "f");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 1);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  assert_int_equal(archive_write_data(a, "x", 1), 1);
  finish(a, e);
}

static void test_one_directory_listed_50000_times(void **state) {
  struct fixture *f = *state;
  build_repeated(f->path, "a/", 50000);
  expect_refused(f->path, CODE_E_TOO_MANY_FILES, "entries in the archive");
}

static void test_root_listed_50000_times(void **state) {
  struct fixture *f = *state;
  build_repeated(f->path, "./", 50000);
  expect_refused(f->path, CODE_E_TOO_MANY_FILES, "entries in the archive");
}

static char *big_string(size_t len, char c) {
  char *s = malloc(len + 1);
  assert_non_null(s);
  memset(s, c, len);
  s[len] = '\0';
  return s;
}

static void test_zip_symlink_of_a_megabyte(void **state) {
  struct fixture *f = *state;
  char *target = big_string(1 << 20, 'a');
  struct archive *a = writer(f->path, true);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, "l");
  archive_entry_set_filetype(e, AE_IFLNK);
  archive_entry_set_perm(e, 0777);
  archive_entry_set_symlink(e, target);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  finish(a, e);
  free(target);
  expect_refused(f->path, -EIO, "");
}

static void test_pax_path_of_a_megabyte(void **state) {
  struct fixture *f = *state;
  char *name = big_string(1 << 20, 'b');
  struct archive *a = writer(f->path, false);
  struct archive_entry *e = archive_entry_new();
  put_dir(a, e, name);
  finish(a, e);
  free(name);
  expect_refused(f->path, -EIO, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_one_directory_listed_50000_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_listed_50000_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zip_symlink_of_a_megabyte, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pax_path_of_a_megabyte, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
