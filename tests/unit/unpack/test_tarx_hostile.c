/* test_tarx_hostile.c - the streaming tar extractor (guest-init/unpack/
 * tarx.h) against archives no tar program writes: a GNU long name larger
 * than the extended-header buffer when the path limit is larger still, and
 * a seeded mutation fuzz (header fields, checksums fixed up or not, sizes,
 * type flags, pax and GNU records, the end-of-archive blocks) fed in random
 * piece sizes. Whatever the input, the extractor must refuse or succeed
 * without a memory error (the ASan build checks) and create nothing
 * outside its directory. HEARTH_TARX_FUZZ=N runs N mutations (default 300). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tarbuild.h"
#include "unpack/tarx.h"

#define TAR_BLOCK 512

struct fixture {
  char base[64]; /* a temporary directory; the tree goes into base/root */
  char root[96];
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->base, "/tmp/hearth-tarxh-XXXXXX");
  if (!mkdtemp(f->base))
    return -1;
  snprintf(f->root, sizeof f->root, "%s/root", f->base);
  *state = f;
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  chmod(path, 0700);
  return remove(path);
}

static int teardown(void **state) {
  struct fixture *f = *state;
  nftw(f->base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* A fresh, empty base/root. */
static int fresh_root(struct fixture *f) {
  nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  assert_int_equal(mkdir(f->root, 0755), 0);
  int fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  return fd;
}

static uint64_t rng;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Feeds buf in pieces (random sizes when random, else whole), then
 * finishes: the first error. */
static int extract(int dirfd, const struct code_limits *lim, const uint8_t *buf, size_t len,
                   bool random) {
  struct tarx *t;
  assert_int_equal(tarx_new(&t, dirfd, lim), 0);
  int err = 0;
  for (size_t pos = 0; pos < len && !err;) {
    size_t n = len - pos;
    if (random && n > 1)
      n = 1 + rnd() % (rnd() % 2 ? 16 : n);
    err = tarx_feed(t, buf + pos, n);
    pos += n;
  }
  if (!err)
    err = tarx_finish(t);
  assert_non_null(tarx_error(t));
  tarx_free(t);
  return err;
}

/* Only base/root in base, and every symlink below it that resolves
 * resolves inside it. */
static const char *check_root;
static int inside(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  if (flag != FTW_SL)
    return 0;
  char real[PATH_MAX];
  if (realpath(path, real) && strncmp(real, check_root, strlen(check_root)) != 0)
    fail_msg("%s resolves to %s, outside %s", path, real, check_root);
  return 0;
}

static void assert_contained(struct fixture *f) {
  char real[PATH_MAX];
  assert_non_null(realpath(f->root, real));
  check_root = real;
  nftw(f->root, inside, 16, FTW_PHYS);
  char other[128];
  snprintf(other, sizeof other, "%s/x", f->base);
  assert_int_equal(access(other, F_OK), -1); /* what "../x" would have made */
}

/* A GNU long name as long as the path limit allows, with that limit above
 * the extractor's 64 KiB extended-header buffer: refused or taken, never
 * written past the buffer. */
static void test_long_name_past_the_meta_buffer(void **state) {
  struct fixture *f = *state;
  struct code_limits lim = code_limits_default();
  lim.max_path = 100000;
  lim.max_depth = 100000;
  size_t len = 70000;
  char *name = malloc(len + 1);
  for (size_t i = 0; i < len; i++)
    name[i] = i % 200 == 199 ? '/' : 'a';
  name[len] = '\0';
  struct tarbuild tb = {0};
  tb_gnu_long(&tb, 'L', name);
  tb_file(&tb, "short", "x", 0644);
  tb_end(&tb);
  int dir = fresh_root(f);
  int err = extract(dir, &lim, tb.p, tb.len, false);
  assert_int_not_equal(err, 0); /* too long for the buffer: refused */
  close(dir);
  tb_free(&tb);
  free(name);
  assert_contained(f);
}

/* The archives mutations start from: every kind of entry and header. */
static void seed_archive(struct tarbuild *tb, unsigned which) {
  switch (which % 4) {
  case 0:
    tb_dir(tb, "d");
    tb_file(tb, "d/f", "hello", 0644);
    tb_symlink(tb, "d/l", "f");
    tb_symlink(tb, "d/up", "../d/f");
    break;
  case 1:
    tb_pax(tb, 'x', "path", "p/q/long-name-from-pax");
    tb_file(tb, "ignored", "data data data", 0755);
    tb_pax(tb, 'x', "linkpath", "../q/long-name-from-pax");
    tb_symlink(tb, "p/r/l", "x");
    break;
  case 2:
    tb_gnu_long(tb, 'L', "g/very/long/name/indeed");
    tb_file(tb, "x", "gnu", 0600);
    tb_gnu_long(tb, 'K', "../very/long");
    tb_symlink(tb, "g/link", "y");
    tb_pax(tb, 'g', "comment", "global");
    break;
  default: {
    struct tb_entry e = {.type = '0', .name = "big", .mode = 0644, .size = 1000, .base256 = 1};
    tb_header(tb, &e);
    char data[1000];
    memset(data, 'z', sizeof data);
    tb_data(tb, data, sizeof data);
    tb_dir(tb, "./");
    tb_file(tb, "./a//b", "", 0644);
  }
  }
  tb_end(tb);
}

/* The header checksum of the block at p, written back as tar does. */
static void fix_checksum(uint8_t *p) {
  memset(p + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < TAR_BLOCK; i++)
    sum += p[i];
  snprintf((char *)p + 148, 8, "%06o", sum);
  p[155] = ' ';
}

static void mutate(uint8_t *buf, size_t len) {
  static const uint8_t interesting[] = {0,   '/', '.', '0', '7', '9', 0x80, 0xff, ' ', '\n',
                                        '=', 'L', 'K', 'x', 'g', '1', '2',  '3',  '5', '6'};
  size_t blocks = len / TAR_BLOCK;
  for (int k = 1 + (int)(rnd() % 8); k > 0; k--) {
    size_t b = rnd() % blocks, at;
    switch (rnd() % 4) {
    case 0: /* a header field: name, mode, size, type, link, magic, prefix */
      at = b * TAR_BLOCK + (size_t[]){0, 100, 124, 130, 135, 156, 157, 257, 345}[rnd() % 9];
      break;
    default:
      at = rnd() % len;
    }
    buf[at] = rnd() % 2 ? interesting[rnd() % sizeof interesting] : (uint8_t)rnd();
    if (rnd() % 4)
      fix_checksum(buf + b * TAR_BLOCK);
  }
}

static void test_mutation_fuzz(void **state) {
  struct fixture *f = *state;
  const char *env = getenv("HEARTH_TARX_FUZZ");
  long rounds = env && *env ? atol(env) : 300;
  struct code_limits lim = code_limits_default();
  lim.max_files = 64;
  lim.max_bytes = 1 << 20;
  for (long i = 0; i < rounds; i++) {
    rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    struct tarbuild tb = {0};
    seed_archive(&tb, (unsigned)i);
    mutate(tb.p, tb.len);
    size_t len = tb.len - (rnd() % 8 == 0 ? rnd() % tb.len : 0); /* cut short, now and then */
    int dir = fresh_root(f);
    extract(dir, &lim, tb.p, len, true);
    close(dir);
    assert_contained(f);
    tb_free(&tb);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_long_name_past_the_meta_buffer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mutation_fuzz, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
