/* Unit tests of the on-disk site cache (vmm/loader/sitestore.c) in a
 * scratch directory: it is created private (0700, parents too) and refused
 * when others could write it; records come back as written; a corrupt,
 * truncated, oversized or symlinked record reads as a miss and the next
 * write replaces it; writes go through a new file and a rename (no partial
 * record is ever visible, no temporary file is left); a failing write is
 * survived; the directory stays bounded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader/sitestore.h"

#define FILE_SIZE 50000u

struct scratch {
  char base[64];
  char dir[128]; /* base/a/b/sites: the store */
};

static int setup(void **state) {
  static struct scratch s;
  strcpy(s.base, "/tmp/hearth-sitestore-XXXXXX");
  assert_non_null(mkdtemp(s.base));
  snprintf(s.dir, sizeof s.dir, "%s/a/b/sites", s.base);
  *state = &s;
  return 0;
}

static int teardown(void **state) {
  struct scratch *s = *state;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->base);
  return system(cmd) == 0 ? 0 : -1;
}

static void path_of(const struct scratch *s, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", s->dir, name);
}

static void sites_file(const struct scratch *s, const uint8_t *sha, char *out, size_t cap) {
  char hex[DIGEST_SHA256_HEX], name[96];
  digest_hex(sha, hex);
  snprintf(name, sizeof name, "%s.sites", hex);
  path_of(s, name, out, cap);
}

static uint64_t offsets[] = {0x100, 0x2000, 0x3ffe};
static const struct file_sites sample = {.v = offsets, .n = 3};

static struct sitestore *open_store(const struct scratch *s) {
  struct sitestore *st = NULL;
  assert_int_equal(sitestore_open(s->dir, &st), 0);
  assert_non_null(st);
  return st;
}

static void assert_hit(struct sitestore *st, const uint8_t *sha) {
  struct file_sites got;
  assert_int_equal(sitestore_sites_get(st, sha, FILE_SIZE, &got), 0);
  assert_int_equal(got.n, sample.n);
  assert_memory_equal(got.v, offsets, sizeof offsets);
  file_sites_free(&got);
}

static void assert_miss(struct sitestore *st, const uint8_t *sha) {
  struct file_sites got = {.n = 9};
  assert_int_equal(sitestore_sites_get(st, sha, FILE_SIZE, &got), -ENOENT);
  assert_int_equal(got.n, 0);
}

static size_t count_temp_files(const struct scratch *s) {
  DIR *d = opendir(s->dir);
  assert_non_null(d);
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strncmp(e->d_name, ".tmp", 4) == 0;
  closedir(d);
  return n;
}

static void creates_private_directories(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  const char *levels[] = {"/a", "/a/b", "/a/b/sites"};
  for (size_t i = 0; i < 3; i++) {
    char p[160];
    struct stat sb;
    snprintf(p, sizeof p, "%s%s", s->base, levels[i]);
    assert_int_equal(stat(p, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
  }
  sitestore_close(st);
  st = open_store(s); /* an existing directory is fine */
  sitestore_close(st);
}

static void refuses_directories_others_can_write(void **state) {
  struct scratch *s = *state;
  sitestore_close(open_store(s));
  struct sitestore *st = NULL;
  assert_int_equal(chmod(s->dir, 0770), 0);
  assert_int_equal(sitestore_open(s->dir, &st), -EPERM);
  assert_int_equal(chmod(s->dir, 0703), 0);
  assert_int_equal(sitestore_open(s->dir, &st), -EPERM);
  assert_int_equal(chmod(s->dir, 0700), 0);
  if (geteuid() == 0) { /* only root can give it away */
    assert_int_equal(chown(s->dir, 1, 1), 0);
    assert_int_equal(sitestore_open(s->dir, &st), -EPERM);
  }
  assert_null(st);
}

static void records_come_back(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  uint8_t sha[DIGEST_SHA256_LEN], other[DIGEST_SHA256_LEN];
  digest_sha256("one", 3, sha);
  digest_sha256("two", 3, other);
  assert_miss(st, sha);
  sitestore_sites_put(st, sha, FILE_SIZE, &sample);
  assert_hit(st, sha);
  assert_miss(st, other);
  struct file_sites got;
  assert_int_equal(sitestore_sites_get(st, sha, FILE_SIZE + 1, &got), -ENOENT);
  const struct site_file_id id = {1, 2, FILE_SIZE, 3, 4}, id2 = {1, 2, FILE_SIZE, 3, 5};
  uint8_t back[DIGEST_SHA256_LEN];
  assert_int_equal(sitestore_index_get(st, &id, back), -ENOENT);
  sitestore_index_put(st, &id, sha);
  assert_int_equal(sitestore_index_get(st, &id, back), 0);
  assert_memory_equal(back, sha, sizeof sha);
  assert_int_equal(sitestore_index_get(st, &id2, back), -ENOENT); /* ctime moved: stale */
  sitestore_index_put(st, &id2, other); /* same (dev, ino): replaces the entry */
  assert_int_equal(sitestore_index_get(st, &id, back), -ENOENT);
  assert_int_equal(sitestore_index_get(st, &id2, back), 0);
  assert_memory_equal(back, other, sizeof other);
  assert_int_equal(count_temp_files(s), 0);
  sitestore_close(st);
}

static void write_bytes(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static void damaged_records_read_as_misses_and_are_rewritten(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  uint8_t sha[DIGEST_SHA256_LEN];
  char path[256];
  digest_sha256("one", 3, sha);
  sites_file(s, sha, path, sizeof path);
  sitestore_sites_put(st, sha, FILE_SIZE, &sample);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(truncate(path, sb.st_size - 1), 0); /* truncated */
  assert_miss(st, sha);
  sitestore_sites_put(st, sha, FILE_SIZE, &sample);
  assert_hit(st, sha);
  int fd = open(path, O_WRONLY); /* one byte changed in place */
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "X", 1, 70), 1);
  close(fd);
  assert_miss(st, sha);
  write_bytes(path, "garbage", 7);
  assert_miss(st, sha);
  size_t big = SITEFMT_SITES_MAX_SIZE + 1; /* larger than any record */
  char *junk = calloc(1, big);
  assert_non_null(junk);
  write_bytes(path, junk, big);
  free(junk);
  assert_miss(st, sha);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(symlink("/etc/passwd", path), 0); /* never followed */
  assert_miss(st, sha);
  sitestore_sites_put(st, sha, FILE_SIZE, &sample); /* the rename replaces the link */
  assert_int_equal(lstat(path, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_hit(st, sha);
  sitestore_close(st);
}

/* A reader holding the old record keeps reading it whole while a writer
 * replaces it: the new record is a new file, renamed into place. */
static void writes_are_atomic(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  uint8_t sha[DIGEST_SHA256_LEN];
  char path[256];
  digest_sha256("one", 3, sha);
  sites_file(s, sha, path, sizeof path);
  sitestore_sites_put(st, sha, FILE_SIZE, &sample);
  struct stat before, after;
  assert_int_equal(stat(path, &before), 0);
  int old = open(path, O_RDONLY);
  assert_true(old >= 0);
  uint64_t two[] = {0x10, 0x20};
  const struct file_sites other = {.v = two, .n = 2};
  sitestore_sites_put(st, sha, FILE_SIZE, &other);
  assert_int_equal(stat(path, &after), 0);
  assert_int_not_equal(before.st_ino, after.st_ino);
  assert_int_equal(after.st_mode & 0777, 0600);
  struct stat oldst;
  assert_int_equal(fstat(old, &oldst), 0);
  assert_int_equal(oldst.st_size, before.st_size); /* untouched */
  close(old);
  struct file_sites got;
  assert_int_equal(sitestore_sites_get(st, sha, FILE_SIZE, &got), 0);
  assert_int_equal(got.n, 2);
  file_sites_free(&got);
  assert_int_equal(count_temp_files(s), 0);
  sitestore_close(st);
}

static void survives_failing_writes(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  assert_int_equal(rmdir(s->dir), 0); /* the store's directory is gone */
  uint8_t sha[DIGEST_SHA256_LEN];
  digest_sha256("one", 3, sha);
  const struct site_file_id id = {1, 2, 3, 4, 5};
  sitestore_sites_put(st, sha, FILE_SIZE, &sample);
  sitestore_index_put(st, &id, sha); /* logged once, then quietly ignored */
  assert_miss(st, sha);
  sitestore_close(st);
  struct sitestore *none = NULL;
  assert_true(sitestore_open("", &none) < 0);
  assert_null(none);
}

static void set_mtime(const char *path, time_t when) {
  const struct timespec t[2] = {{when, 0}, {when, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
}

/* Built with SITESTORE_MAX_RECORDS 8: past it, the oldest records go, and
 * temporary files a dead writer left; files of other names stay. */
static void stays_bounded(void **state) {
  struct scratch *s = *state;
  struct sitestore *st = open_store(s);
  char foreign[256], stale_tmp[256], fresh_tmp[256], path[256];
  path_of(s, "README", foreign, sizeof foreign);
  path_of(s, ".tmp-00000000deadbeef", stale_tmp, sizeof stale_tmp);
  path_of(s, ".tmp-00000000feedf00d", fresh_tmp, sizeof fresh_tmp);
  write_bytes(foreign, "mine", 4);
  write_bytes(stale_tmp, "x", 1);
  write_bytes(fresh_tmp, "x", 1);
  time_t now = time(NULL);
  set_mtime(stale_tmp, now - 3600);
  uint8_t sha[12][DIGEST_SHA256_LEN];
  for (int i = 0; i < 12; i++) {
    digest_sha256(&i, sizeof i, sha[i]);
    sitestore_sites_put(st, sha[i], FILE_SIZE, &sample);
    sites_file(s, sha[i], path, sizeof path);
    set_mtime(path, now - 100 + i); /* written in this order */
  }
  /* What is kept is the newest: the hits are the last `left` written. */
  size_t left = 0;
  for (int i = 11; i >= 0; i--) {
    struct file_sites got;
    bool hit = sitestore_sites_get(st, sha[i], FILE_SIZE, &got) == 0;
    file_sites_free(&got);
    if (hit)
      assert_int_equal(left++, 11 - i);
  }
  assert_true(left >= SITESTORE_MAX_RECORDS / 2 && left <= SITESTORE_MAX_RECORDS);
  assert_miss(st, sha[0]);
  assert_int_equal(access(foreign, F_OK), 0);
  assert_int_equal(access(stale_tmp, F_OK), -1);
  assert_int_equal(access(fresh_tmp, F_OK), 0);
  sitestore_close(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(creates_private_directories, setup, teardown),
      cmocka_unit_test_setup_teardown(refuses_directories_others_can_write, setup, teardown),
      cmocka_unit_test_setup_teardown(records_come_back, setup, teardown),
      cmocka_unit_test_setup_teardown(damaged_records_read_as_misses_and_are_rewritten, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(writes_are_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(survives_failing_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(stays_bounded, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
