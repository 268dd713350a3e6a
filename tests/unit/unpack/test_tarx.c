/* test_tarx.c - the streaming tar extractor (guest-init/unpack/tarx.h),
 * extracting into a fresh temporary directory per test: what it creates
 * (files, modes, directories, symlinks, pax and GNU long names), that any
 * way of cutting the input gives the same tree, archives written by
 * libarchive (as the hearth CLI writes them), and every refusal: zip-slip
 * paths, escaping symlinks, writes through symlinks, hard links, devices,
 * fifos, too many entries, too many bytes (refused at the header), long
 * and deep paths, not an archive, truncated archives, trailing garbage. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
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

struct fixture {
  char base[64]; /* a temporary directory; the tree is extracted into base/root */
  int root;
  struct code_limits lim;
  struct code_totals totals;
  char msg[512];
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->base, "/tmp/hearth-tarx-XXXXXX");
  if (!mkdtemp(f->base))
    return -1;
  char root[96];
  snprintf(root, sizeof root, "%s/root", f->base);
  if (mkdir(root, 0755) < 0)
    return -1;
  f->root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  f->lim = code_limits_default();
  *state = f;
  return f->root < 0 ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  chmod(path, 0700); /* a directory extracted without write permission */
  return remove(path);
}

static int teardown(void **state) {
  struct fixture *f = *state;
  close(f->root);
  nftw(f->base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* Feeds buf in pieces of `piece` bytes (0: whole), then finishes. Returns
 * the first error; the message and totals land in f. */
static int extract_into(struct fixture *f, int dirfd, const void *buf, size_t len, size_t piece) {
  struct tarx *t;
  assert_int_equal(tarx_new(&t, dirfd, &f->lim), 0);
  const uint8_t *p = buf;
  int err = 0;
  for (size_t pos = 0; pos < len && !err;) {
    size_t n = piece && piece < len - pos ? piece : len - pos;
    err = tarx_feed(t, p + pos, n);
    pos += n;
  }
  if (!err)
    err = tarx_finish(t);
  snprintf(f->msg, sizeof f->msg, "%s", tarx_error(t));
  f->totals = tarx_totals(t);
  tarx_free(t);
  return err;
}

static int extract(struct fixture *f, const struct tarbuild *tb) {
  return extract_into(f, f->root, tb->p, tb->len, 0);
}

/* path (not a symlink unless follow) holds exactly want; mode 0: any. */
static void assert_file_at(int dirfd, const char *path, const char *want, unsigned mode,
                           int follow) {
  int fd = openat(dirfd, path, O_RDONLY | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    fail_msg("%s: %s", path, strerror(errno));
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  if (mode)
    assert_int_equal(st.st_mode & 0777, mode);
  size_t n = strlen(want);
  char *got = malloc(n + 2);
  assert_int_equal(read(fd, got, n + 1), (ssize_t)n);
  assert_memory_equal(got, want, n);
  free(got);
  close(fd);
}

static void assert_file(int dirfd, const char *path, const char *want, unsigned mode) {
  assert_file_at(dirfd, path, want, mode, 0);
}

static int exists(int dirfd, const char *path) {
  struct stat st;
  return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Nothing appeared next to the root: what an escape would create. */
static void assert_nothing_outside(struct fixture *f) {
  int base = open(f->base, O_RDONLY | O_DIRECTORY);
  assert_true(exists(base, "root"));
  assert_false(exists(base, "x"));
  assert_false(exists(base, "evil"));
  close(base);
}

/* ---- what it creates ---------------------------------------------------- */

static void test_basic_tree(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  char big[1500];
  for (size_t i = 0; i < sizeof big - 1; i++)
    big[i] = (char)('a' + i % 26);
  big[sizeof big - 1] = '\0';
  char block[513];
  memset(block, 'b', 512);
  block[512] = '\0';
  tb_dir(&tb, "./");
  tb_dir(&tb, "app/");
  tb_file(&tb, "app/handler", "#!/bin/sh\necho hi\n", 0755);
  tb_file(&tb, "./app//data.txt", big, 0644);
  tb_file(&tb, "app/block", block, 0600);
  tb_file(&tb, "empty", "", 0644);
  tb_file(&tb, "deep/er/file", "x", 0644); /* parents created implicitly */
  tb_symlink(&tb, "app/link", "data.txt");
  tb_symlink(&tb, "deep/er/up", "../../app");
  tb_dir(&tb, "app"); /* listed again: fine */
  tb_end(&tb);
  assert_int_equal(extract(f, &tb), 0);
  assert_string_equal(f->msg, "");
  assert_file(f->root, "app/handler", "#!/bin/sh\necho hi\n", 0755);
  assert_file(f->root, "app/data.txt", big, 0644);
  assert_file(f->root, "app/block", block, 0600);
  assert_file(f->root, "empty", "", 0644);
  assert_file(f->root, "deep/er/file", "x", 0);
  char target[64];
  ssize_t n = readlinkat(f->root, "app/link", target, sizeof target);
  assert_int_equal(n, 8);
  assert_memory_equal(target, "data.txt", 8);
  assert_file_at(f->root, "app/link", big, 0, 1); /* resolves, inside */
  n = readlinkat(f->root, "deep/er/up", target, sizeof target);
  assert_int_equal(n, 9);
  /* app, handler, data.txt, block, empty, deep, er, file, 2 links. */
  assert_int_equal(f->totals.files, 10);
  assert_int_equal(f->totals.bytes, 18 + 1499 + 512 + 0 + 1);
  tb_free(&tb);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a listing of dir (names sorted; type, mode, size, contents). */
static void list_tree(int dir, const char *prefix, char **out, size_t *len) {
  int fd = dup(dir);
  DIR *d = fdopendir(fd);
  struct dirent *e;
  char *names[64];
  int n = 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, compare_names);
  for (int i = 0; i < n; i++) {
    struct stat st;
    assert_int_equal(fstatat(dir, names[i], &st, AT_SYMLINK_NOFOLLOW), 0);
    char line[4096];
    int k = snprintf(line, sizeof line, "%s/%s %o %lld ", prefix, names[i], st.st_mode,
                     (long long)st.st_size);
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
      int fd2 = openat(dir, names[i], O_RDONLY);
      ssize_t r = S_ISLNK(st.st_mode) ? readlinkat(dir, names[i], line + k, sizeof line - k - 2)
                                      : read(fd2, line + k, sizeof line - (size_t)k - 2);
      if (fd2 >= 0)
        close(fd2);
      k += r > 0 ? (int)r : 0;
    }
    line[k++] = '\n';
    *out = realloc(*out, *len + (size_t)k);
    memcpy(*out + *len, line, (size_t)k);
    *len += (size_t)k;
    if (S_ISDIR(st.st_mode)) {
      char sub[1024];
      snprintf(sub, sizeof sub, "%s/%s", prefix, names[i]);
      int child = openat(dir, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      list_tree(child, sub, out, len);
      close(child);
    }
    free(names[i]);
  }
}

static int make_subroot(struct fixture *f, const char *name) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", f->base, name);
  assert_int_equal(mkdir(path, 0755), 0);
  return open(path, O_RDONLY | O_DIRECTORY);
}

/* A pax-heavy archive cut three ways gives the same tree. */
static void test_piece_sizes_agree(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  char longname[300], data[3000];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  longname[100] = '/';
  for (size_t i = 0; i < sizeof data - 1; i++)
    data[i] = (char)(' ' + i % 90);
  data[sizeof data - 1] = '\0';
  tb_pax(&tb, 'g', "comment", "a global header, like git archive writes");
  tb_file(&tb, "a/one", data, 0644);
  tb_pax(&tb, 'x', "path", longname);
  tb_file(&tb, "ignored-name", "long", 0644);
  tb_gnu_long(&tb, 'L', "g/a-gnu-long-name");
  tb_file(&tb, "ignored-too", "gnu", 0640);
  tb_symlink(&tb, "a/l", "one");
  tb_end(&tb);
  size_t pieces[] = {0, 1, 7, 511, 513};
  char *ref = NULL;
  size_t ref_len = 0;
  for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    char name[16];
    snprintf(name, sizeof name, "r%zu", i);
    int dir = make_subroot(f, name);
    assert_int_equal(extract_into(f, dir, tb.p, tb.len, pieces[i]), 0);
    char *out = NULL;
    size_t len = 0;
    list_tree(dir, "", &out, &len);
    close(dir);
    if (!ref) {
      ref = out, ref_len = len;
      assert_non_null(memmem(ref, ref_len, "/a/one 100644 2999  !", 21));
      assert_non_null(memmem(ref, ref_len, "/nnnnn", 6));
      assert_non_null(memmem(ref, ref_len, "/g/a-gnu-long-name 100640 3 gnu", 31));
      assert_non_null(memmem(ref, ref_len, "/a/l 120777 3 one", 17));
    } else {
      assert_int_equal(len, ref_len);
      assert_memory_equal(out, ref, len);
      free(out);
    }
  }
  free(ref);
  tb_free(&tb);
}

/* pax size overrides the header's; GNU base-256 sizes; pax linkpath; a
 * POSIX prefix field. */
static void test_header_variants(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_pax(&tb, 'x', "size", "5");
  struct tb_entry e = {.type = '0', .name = "paxsize", .mode = 0644, .size = 999};
  tb_header(&tb, &e);
  tb_data(&tb, "12345", 5);
  struct tb_entry b = {
      .type = '0', .name = "b256", .mode = 0644, .size = 3, .gnu = 1, .base256 = 1};
  tb_header(&tb, &b);
  tb_data(&tb, "abc", 3);
  tb_pax(&tb, 'x', "linkpath", "paxsize");
  tb_symlink(&tb, "plink", "ignored");
  char name[200];
  snprintf(name, sizeof name, "%0120d/split", 0);
  tb_file(&tb, name, "prefix", 0644);
  tb_gnu_long(&tb, 'K', "b256");
  tb_symlink(&tb, "klink", "ignored");
  tb_end(&tb);
  assert_int_equal(extract(f, &tb), 0);
  assert_file(f->root, "paxsize", "12345", 0644);
  assert_file(f->root, "b256", "abc", 0644);
  assert_file(f->root, name, "prefix", 0644);
  char target[16] = {0};
  assert_int_equal(readlinkat(f->root, "plink", target, sizeof target), 7);
  assert_string_equal(target, "paxsize");
  memset(target, 0, sizeof target);
  assert_int_equal(readlinkat(f->root, "klink", target, sizeof target), 4);
  assert_string_equal(target, "b256");
  tb_free(&tb);
}

/* libarchive, as the CLI packs code: pax restricted and GNU formats. */
static size_t libarchive_pack(int format, uint8_t *buf, size_t cap, const char *longpath) {
  struct archive *a = archive_write_new();
  assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
  size_t used = 0;
  assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
  static char big[100000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)(i % 253);
  struct {
    const char *path;
    int type;
    const char *data;
    size_t size;
    const char *link;
  } entries[] = {
      {"pkg", AE_IFDIR, NULL, 0, NULL},
      {"pkg/mod.py", AE_IFREG, "print('hi')\n", 12, NULL},
      {"pkg/big.bin", AE_IFREG, big, sizeof big, NULL},
      {longpath, AE_IFREG, "deep", 4, NULL},
      {"pkg/link", AE_IFLNK, NULL, 0, "mod.py"},
  };
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, entries[i].path);
    archive_entry_set_filetype(e, (unsigned)entries[i].type);
    archive_entry_set_perm(e, entries[i].type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, (la_int64_t)entries[i].size);
    if (entries[i].link)
      archive_entry_set_symlink(e, entries[i].link);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (entries[i].size)
      assert_int_equal(archive_write_data(a, entries[i].data, entries[i].size),
                       (la_ssize_t)entries[i].size);
    archive_entry_free(e);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return used;
}

static void test_libarchive_archives(void **state) {
  struct fixture *f = *state;
  char longpath[400];
  snprintf(longpath, sizeof longpath, "pkg/%0150d/%0150d/file.txt", 1, 2);
  int formats[] = {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_TAR_GNUTAR,
                   ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE};
  uint8_t *buf = malloc(1 << 20);
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    size_t len = libarchive_pack(formats[i], buf, 1 << 20, longpath);
    char name[16];
    snprintf(name, sizeof name, "la%zu", i);
    int dir = make_subroot(f, name);
    int err = extract_into(f, dir, buf, len, 4093);
    if (err)
      fail_msg("format %d: %s", formats[i], f->msg);
    assert_file(dir, "pkg/mod.py", "print('hi')\n", 0644);
    assert_file(dir, longpath, "deep", 0644);
    struct stat st;
    assert_int_equal(fstatat(dir, "pkg/big.bin", &st, 0), 0);
    assert_int_equal(st.st_size, 100000);
    assert_int_equal(f->totals.bytes, 12 + 100000 + 4);
    char target[16] = {0};
    assert_int_equal(readlinkat(dir, "pkg/link", target, sizeof target), 6);
    close(dir);
  }
  free(buf);
}

/* ---- refusals ----------------------------------------------------------- */

/* One entry refused: the error, its code, and a message naming it. */
static void expect_refused(struct fixture *f, struct tarbuild *tb, int want, const char *msg_part) {
  int err = extract(f, tb);
  if (err != want)
    fail_msg("got %d (%s), want %d", err, f->msg, want);
  if (!strstr(f->msg, msg_part))
    fail_msg("message \"%s\" lacks \"%s\"", f->msg, msg_part);
  assert_null(strchr(f->msg, '\n'));
  assert_nothing_outside(f);
  tb_free(tb);
}

static void test_zip_slip(void **state) {
  struct fixture *f = *state;
  const char *paths[] = {"../x", "a/../../x", "ok/../../evil", "/abs"};
  int codes[] = {CODE_E_DOTDOT, CODE_E_DOTDOT, CODE_E_DOTDOT, CODE_E_ABSOLUTE};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    struct tarbuild tb = {0};
    tb_file(&tb, "fine", "1", 0644);
    tb_file(&tb, paths[i], "escaped", 0644);
    tb_end(&tb);
    expect_refused(f, &tb, codes[i], paths[i]);
    unlinkat(f->root, "fine", 0);
  }
  struct tarbuild tb = {0}; /* the same through a pax path */
  tb_pax(&tb, 'x', "path", "../x");
  tb_file(&tb, "innocent", "escaped", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_DOTDOT, "../x: '..'");
}

static void test_symlink_escape(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_dir(&tb, "a");
  tb_symlink(&tb, "a/l", "../../x");
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_LINK_ESCAPES, "a/l -> ../../x");
  assert_false(exists(f->root, "a/l"));

  tb = (struct tarbuild){0};
  tb_symlink(&tb, "abs", "/etc/passwd");
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_ABSOLUTE, "abs -> /etc/passwd");
}

/* A symlink inside the tree is fine, but nothing is written through it,
 * even where it points inside. */
static void test_no_write_through_symlink(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_dir(&tb, "real");
  tb_symlink(&tb, "l", "real");
  tb_file(&tb, "l/f", "through", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, -ELOOP, "l/f");
  assert_false(exists(f->root, "real/f"));

  tb = (struct tarbuild){0}; /* nor replaced by a file of the same name */
  tb_symlink(&tb, "m", "real");
  tb_file(&tb, "m", "clobber", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, -EEXIST, "m:");

  tb = (struct tarbuild){0}; /* a file where a directory is needed */
  tb_file(&tb, "plain", "x", 0644);
  tb_file(&tb, "plain/f", "x", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, -ENOTDIR, "plain/f");
}

static void test_duplicate_file(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_file(&tb, "dup", "first", 0644);
  tb_file(&tb, "dup", "second", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, -EEXIST, "dup");
  assert_file(f->root, "dup", "first", 0644);
}

static void test_refused_types(void **state) {
  struct fixture *f = *state;
  struct {
    char type;
    const char *what;
  } cases[] = {{'1', "hard link"}, {'3', "character device"}, {'4', "block device"},
               {'6', "fifo"},      {'S', "unsupported"},      {'V', "unsupported"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct tarbuild tb = {0};
    struct tb_entry e = {.type = cases[i].type, .name = "node", .link = "other", .mode = 0644};
    tb_header(&tb, &e);
    tb_end(&tb);
    expect_refused(f, &tb, CODE_E_TYPE, cases[i].what);
    assert_false(exists(f->root, "node"));
  }
  struct tarbuild tb = {0};
  tb_pax(&tb, 'x', "GNU.sparse.major", "1");
  tb_file(&tb, "sparse", "x", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TYPE, "sparse");
  tb = (struct tarbuild){0};
  tb_pax(&tb, 'g', "path", "everything");
  tb_file(&tb, "f", "x", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TYPE, "global pax header");
}

static void test_too_many_files(void **state) {
  struct fixture *f = *state;
  f->lim.max_files = 3;
  struct tarbuild tb = {0};
  tb_file(&tb, "d/one", "1", 0644); /* d counts too */
  tb_file(&tb, "d/two", "2", 0644);
  tb_file(&tb, "d/three", "3", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TOO_MANY_FILES, "d/three");
  assert_false(exists(f->root, "d/three"));
}

/* A bomb: the header declares more than max_bytes. It is refused on the
 * header alone, before any data arrives and before the file exists. */
static void test_too_many_bytes(void **state) {
  struct fixture *f = *state;
  f->lim.max_bytes = 1 << 20;
  struct tarbuild tb = {0};
  tb_file(&tb, "small", "ok", 0644);
  struct tb_entry e = {.type = '0', .name = "bomb", .mode = 0644, .size = 1ull << 40};
  tb_header(&tb, &e);
  struct tarx *t;
  assert_int_equal(tarx_new(&t, f->root, &f->lim), 0);
  assert_int_equal(tarx_feed(t, tb.p, tb.len), CODE_E_TOO_MANY_BYTES);
  assert_non_null(strstr(tarx_error(t), "bomb"));
  assert_int_equal(tarx_finish(t), CODE_E_TOO_MANY_BYTES); /* sticky */
  tarx_free(t);
  assert_false(exists(f->root, "bomb"));
  assert_file(f->root, "small", "ok", 0644);
  tb_free(&tb);

  /* The sum counts: two files that fit alone do not fit together. */
  f->lim.max_bytes = 10;
  tb = (struct tarbuild){0};
  tb_file(&tb, "six1", "123456", 0644);
  tb_file(&tb, "six2", "123456", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TOO_MANY_BYTES, "six2");
}

static void test_long_and_deep_paths(void **state) {
  struct fixture *f = *state;
  char *lng = malloc(2001);
  memset(lng, 'p', 2000);
  lng[2000] = '\0';
  struct tarbuild tb = {0};
  tb_pax(&tb, 'x', "path", lng);
  tb_file(&tb, "x", "long", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TOO_LONG, "too long");
  tb = (struct tarbuild){0};
  tb_gnu_long(&tb, 'L', lng);
  tb_file(&tb, "x", "long", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TOO_LONG, "too");
  free(lng);

  f->lim.max_depth = 4;
  tb = (struct tarbuild){0};
  tb_file(&tb, "a/b/c/d", "ok", 0644);
  tb_file(&tb, "a/b/c/d2/e", "deep", 0644);
  tb_end(&tb);
  expect_refused(f, &tb, CODE_E_TOO_DEEP, "a/b/c/d2/e");
  assert_file(f->root, "a/b/c/d", "ok", 0644);
}

static void test_not_an_archive(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  const char *text = "#!/usr/bin/env python3\nprint('this is a script, not a tar')\n";
  tb_data(&tb, text, strlen(text)); /* padded to a whole block */
  expect_refused(f, &tb, -EBADMSG, "not a tar archive");

  tb = (struct tarbuild){0}; /* a checksum off by one byte */
  tb_file(&tb, "f", "data", 0644);
  tb.p[0] ^= 1;
  tb_end(&tb);
  expect_refused(f, &tb, -EBADMSG, "checksum");

  tb = (struct tarbuild){0}; /* a v7 header: no ustar magic */
  tb_file(&tb, "f", "data", 0644);
  memset(tb.p + 257, 0, 8);
  tb_end(&tb);
  expect_refused(f, &tb, -EBADMSG, "not a tar archive");

  tb = (struct tarbuild){0}; /* a size field that is not octal */
  struct tb_entry e = {.type = '0', .name = "f", .mode = 0644};
  tb_header(&tb, &e);
  memcpy(tb.p + 124, "12x", 3);
  memset(tb.p + 148, ' ', 8); /* fix the checksum for the new bytes */
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += tb.p[i];
  snprintf((char *)tb.p + 148, 8, "%06o", sum);
  tb_end(&tb);
  expect_refused(f, &tb, -EBADMSG, "numeric field");
}

static void test_truncated(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_file(&tb, "a", "0123456789", 0644);
  tb_file(&tb, "b", "abcdefghij", 0644);
  tb_end(&tb);
  size_t cuts[] = {0, 100, 512, 515, 1024, 1600, 2048}; /* 2048: no end marker */
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    char name[16];
    snprintf(name, sizeof name, "t%zu", i);
    int dir = make_subroot(f, name);
    int err = extract_into(f, dir, tb.p, cuts[i], 0);
    close(dir);
    assert_int_equal(err, -EPIPE);
    assert_non_null(strstr(f->msg, cuts[i] ? "truncated" : "empty"));
  }
  int dir = make_subroot(f, "whole"); /* one zero block ends it too */
  assert_int_equal(extract_into(f, dir, tb.p, 2048 + 512, 0), 0);
  close(dir);
  tb_free(&tb);
}

static void test_trailing_bytes(void **state) {
  struct fixture *f = *state;
  struct tarbuild tb = {0};
  tb_file(&tb, "a", "x", 0644);
  tb_end(&tb);
  tb_end(&tb); /* more zeros: padding to a record, fine */
  assert_int_equal(extract(f, &tb), 0);
  tb.p[tb.len - 1] = 'z';
  int dir = make_subroot(f, "again");
  assert_int_equal(extract_into(f, dir, tb.p, tb.len, 0), -EBADMSG);
  assert_non_null(strstr(f->msg, "after the end-of-archive"));
  close(dir);
  tb_free(&tb);
}

/* Malformed extended headers. */
static void test_bad_extended_headers(void **state) {
  struct fixture *f = *state;
  const char *bad[] = {"5 a=b\n", "99 path=x\n", "x path=y\n", "7 path\n", "6 =ab\n", "8 path=x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct tarbuild tb = {0};
    struct tb_entry e = {.type = 'x', .name = "pax", .mode = 0644, .size = strlen(bad[i])};
    tb_header(&tb, &e);
    tb_data(&tb, bad[i], strlen(bad[i]));
    tb_file(&tb, "f", "x", 0644);
    tb_end(&tb);
    expect_refused(f, &tb, -EBADMSG, "pax");
  }
  struct tarbuild tb = {0};
  struct tb_entry e = {.type = 'x', .name = "pax", .mode = 0644, .size = 1 << 20};
  tb_header(&tb, &e);
  tb_end(&tb);
  expect_refused(f, &tb, -EBADMSG, "extended header too large");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_basic_tree, setup, teardown),
      cmocka_unit_test_setup_teardown(test_piece_sizes_agree, setup, teardown),
      cmocka_unit_test_setup_teardown(test_header_variants, setup, teardown),
      cmocka_unit_test_setup_teardown(test_libarchive_archives, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zip_slip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_escape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_write_through_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refused_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_and_deep_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_an_archive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trailing_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_extended_headers, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
