/* test_codepack.c - the code packer of `hearth run`
 * (runtime/cli/codepack.h): directories and tar, tar.gz and zip archives
 * become one pax tar that hearth-init's own extractor (unpack/tarx.h)
 * unpacks to the same tree, and bad code is refused on the host with a
 * clear message — zip-slip paths, symlinks leaving the tree, absolute
 * symlinks, hard links, too many entries (implicit parents counted as the
 * guest counts them), too many bytes — without the guest ever receiving a
 * complete archive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codepack.h"
#include "unpack/tarx.h"

struct fixture {
  char dir[64];  /* scratch under /tmp, removed at teardown */
  char src[128]; /* dir/src: a code directory */
  char out[128]; /* dir/out: where tarx extracts */
};

/* The packed tar, collected by the sink. */
struct sink {
  unsigned char *buf;
  size_t len, cap;
  size_t calls;
  int fail_after; /* > 0: the call after this many fails with -EPIPE */
};

static int collect(void *ctx, const void *buf, size_t len) {
  struct sink *s = ctx;
  if (s->fail_after > 0 && s->calls >= (size_t)s->fail_after)
    return -EPIPE;
  s->calls++;
  if (s->len + len > s->cap) {
    s->cap = (s->len + len) * 2;
    s->buf = realloc(s->buf, s->cap);
    assert_non_null(s->buf);
  }
  memcpy(s->buf + s->len, buf, len);
  s->len += len;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  if (f == NULL)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/hearth-codepack-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->src, sizeof f->src, "%s/src", f->dir);
  snprintf(f->out, sizeof f->out, "%s/out", f->dir);
  if (mkdir(f->src, 0755) != 0 || mkdir(f->out, 0755) != 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static const char *in(const char *dir, const char *rel, char *buf) {
  snprintf(buf, PATH_MAX, "%s/%s", dir, rel);
  return buf;
}

static void put(const char *dir, const char *rel, const char *text, mode_t mode) {
  char path[PATH_MAX];
  int fd = open(in(dir, rel, path), O_WRONLY | O_CREAT | O_TRUNC, mode);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
}

/* One archive entry for build_archive: a file (text), a directory (text
 * NULL, link NULL), a symlink or a hard link (link). */
struct spec {
  const char *path;
  const char *text;
  const char *symlink;
  const char *hardlink;
};

/* Writes an archive of `format` ("tar", "tgz" or "zip") to path. */
static void build_archive(const char *path, const char *format, const struct spec *specs,
                          size_t n) {
  struct archive *a = archive_write_new();
  if (strcmp(format, "zip") == 0) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (strcmp(format, "tgz") == 0)
      archive_write_add_filter_gzip(a);
  }
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new();
  for (size_t i = 0; i < n; i++) {
    archive_entry_clear(e);
    archive_entry_set_pathname(e, specs[i].path);
    if (specs[i].hardlink) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, specs[i].hardlink);
    } else if (specs[i].symlink) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, specs[i].symlink);
    } else if (specs[i].text) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, (la_int64_t)strlen(specs[i].text));
    } else {
      archive_entry_set_filetype(e, AE_IFDIR);
    }
    archive_entry_set_perm(e, specs[i].text ? 0755 : 0777);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (specs[i].text && !specs[i].hardlink)
      archive_write_data(a, specs[i].text, strlen(specs[i].text));
  }
  archive_entry_free(e);
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

/* Packs path with lim; returns codepack_write's result (or open's). */
static int pack(const char *path, const struct code_limits *lim, struct sink *s, char *err,
                bool *refused, struct code_totals *totals) {
  struct codepack *p;
  int rc = codepack_open(&p, path, lim, err, 512, refused);
  if (rc < 0)
    return rc;
  rc = codepack_write(p, collect, s, err, 512, refused);
  if (totals)
    *totals = codepack_totals(p);
  codepack_close(p);
  return rc;
}

/* Extracts the sink's tar with hearth-init's extractor into f->out. */
static int extract(struct fixture *f, const struct sink *s, struct code_totals *totals) {
  int dirfd = open(f->out, O_RDONLY | O_DIRECTORY);
  assert_true(dirfd >= 0);
  struct code_limits lim = code_limits_default();
  struct tarx *t;
  assert_int_equal(tarx_new(&t, dirfd, &lim), 0);
  int rc = tarx_feed(t, s->buf, s->len);
  if (rc == 0)
    rc = tarx_finish(t);
  if (rc < 0)
    print_message("tarx: %s\n", tarx_error(t));
  if (totals)
    *totals = tarx_totals(t);
  tarx_free(t);
  close(dirfd);
  return rc;
}

static void assert_file(const char *dir, const char *rel, const char *text, mode_t mode) {
  char path[PATH_MAX], buf[256];
  struct stat st;
  assert_int_equal(lstat(in(dir, rel, path), &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, mode);
  int fd = open(path, O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  assert_true(n >= 0);
  buf[n] = '\0';
  assert_string_equal(buf, text);
}

static void assert_symlink(const char *dir, const char *rel, const char *target) {
  char path[PATH_MAX], buf[PATH_MAX];
  ssize_t n = readlink(in(dir, rel, path), buf, sizeof buf - 1);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_string_equal(buf, target);
}

/* A directory with files, an empty directory and symlinks that stay
 * inside: hearth-init's extractor rebuilds the same tree from the tar. */
static void test_directory_round_trip(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX];
  put(f->src, "handler", "#!native\n", 0755);
  assert_int_equal(mkdir(in(f->src, "sub", path), 0755), 0);
  assert_int_equal(mkdir(in(f->src, "sub/deeper", path), 0700), 0);
  assert_int_equal(mkdir(in(f->src, "empty", path), 0755), 0);
  put(f->src, "sub/data.txt", "data\n", 0644);
  put(f->src, "sub/deeper/x", "x", 0600);
  assert_int_equal(symlink("sub/data.txt", in(f->src, "link", path)), 0);
  assert_int_equal(symlink("../handler", in(f->src, "sub/up", path)), 0);

  struct sink s = {0};
  char err[512];
  bool refused;
  struct code_totals packed, unpacked;
  struct code_limits lim = code_limits_default();
  char src_slash[PATH_MAX];
  snprintf(src_slash, sizeof src_slash, "%s/", f->src); /* a trailing slash is fine */
  int rc = pack(src_slash, &lim, &s, err, &refused, &packed);
  if (rc < 0)
    fail_msg("pack: %s", err);
  assert_int_equal(extract(f, &s, &unpacked), 0);
  assert_int_equal(packed.files, 8);
  assert_int_equal(unpacked.files, packed.files);
  assert_int_equal(unpacked.bytes, packed.bytes);
  assert_file(f->out, "handler", "#!native\n", 0755);
  assert_file(f->out, "sub/data.txt", "data\n", 0644);
  assert_file(f->out, "sub/deeper/x", "x", 0600);
  assert_symlink(f->out, "link", "sub/data.txt");
  assert_symlink(f->out, "sub/up", "../handler");
  struct stat st;
  assert_int_equal(stat(in(f->out, "empty", path), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  free(s.buf);
}

/* Entries in normal form: relative paths, owner 0, parents before what
 * they hold, the archive's "./" root dropped. Read back with libarchive. */
static void test_tgz_normal_form(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX];
  const struct spec specs[] = {{"./", NULL, NULL, NULL},
                               {"./a/b/c.txt", "c", NULL, NULL},
                               {"a/b", NULL, NULL, NULL},
                               {"top.txt", "t", NULL, NULL}};
  build_archive(in(f->dir, "code.tar.gz", path), "tgz", specs, 4);
  struct sink s = {0};
  char err[512];
  bool refused;
  struct code_limits lim = code_limits_default();
  if (pack(path, &lim, &s, err, &refused, NULL) < 0)
    fail_msg("pack: %s", err);

  const char *want[] = {"a/", "a/b/", "a/b/c.txt", "top.txt"};
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_memory(a, s.buf, s.len), ARCHIVE_OK);
  struct archive_entry *e;
  size_t n = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    assert_true(n < 4);
    assert_string_equal(archive_entry_pathname(e), want[n]);
    assert_int_equal(archive_entry_uid(e), 0);
    assert_int_equal(archive_entry_gid(e), 0);
    n++;
  }
  assert_int_equal(n, 4);
  archive_read_free(a);
  assert_int_equal(extract(f, &s, NULL), 0);
  assert_file(f->out, "a/b/c.txt", "c", 0755);
  free(s.buf);
}

/* A zip whose first entry climbs out: refused at open, before any VM. */
static void test_zip_slip_refused_at_open(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX], err[512] = "";
  const struct spec specs[] = {{"../evil", "owned", NULL, NULL}, {"handler", "h", NULL, NULL}};
  build_archive(in(f->dir, "slip.zip", path), "zip", specs, 2);
  struct codepack *p = NULL;
  bool refused = false;
  struct code_limits lim = code_limits_default();
  assert_int_equal(codepack_open(&p, path, &lim, err, sizeof err, &refused), CODE_E_DOTDOT);
  assert_null(p);
  assert_true(refused);
  assert_non_null(strstr(err, "'../evil'"));
  assert_non_null(strstr(err, "'..' is not allowed"));
}

/* A bad entry after good ones: refused mid-stream, and what was sent is
 * not a complete archive (the extractor sees it cut short). */
static void test_zip_slip_refused_mid_stream(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX], err[512] = "";
  static char large[200000]; /* enough for whole blocks to go out first */
  memset(large, 'l', sizeof large - 1);
  const struct spec specs[] = {{"handler", "h", NULL, NULL},
                               {"lib/large.py", large, NULL, NULL},
                               {"lib/../../evil", "owned", NULL, NULL}};
  build_archive(in(f->dir, "slip.zip", path), "zip", specs, 3);
  struct sink s = {0};
  bool refused = false;
  struct code_limits lim = code_limits_default();
  assert_int_equal(pack(path, &lim, &s, err, &refused, NULL), CODE_E_DOTDOT);
  assert_true(refused);
  assert_non_null(strstr(err, "lib/../../evil"));
  assert_true(s.len > 0);
  assert_int_equal(extract(f, &s, NULL), -EPIPE);
  char evil[PATH_MAX];
  assert_int_not_equal(access(in(f->dir, "evil", evil), F_OK), 0);
  free(s.buf);
}

static void expect_refused(const char *path, int want, const char *needle) {
  struct sink s = {0};
  char err[512] = "";
  bool refused = false;
  struct code_limits lim = code_limits_default();
  int rc = pack(path, &lim, &s, err, &refused, NULL);
  if (rc != want || !refused || strstr(err, needle) == NULL)
    fail_msg("%s: got %d (%s), want %d with \"%s\"", path, rc, err, want, needle);
  free(s.buf);
}

/* Symlinks in a directory that leave it, by ".." or absolutely. */
static void test_symlink_escape_refused(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX];
  put(f->src, "handler", "h", 0755);
  assert_int_equal(mkdir(in(f->src, "sub", path), 0755), 0);
  assert_int_equal(symlink("../../etc/passwd", in(f->src, "sub/escape", path)), 0);
  expect_refused(f->src, CODE_E_LINK_ESCAPES, "symlink target leaves the code tree");
  unlink(path);
  assert_int_equal(symlink("/etc/passwd", in(f->src, "sub/absolute", path)), 0);
  expect_refused(f->src, CODE_E_ABSOLUTE, "absolute");
  unlink(path);
  assert_int_equal(symlink("x/../../..", in(f->src, "sub/sneaky", path)), 0);
  expect_refused(f->src, CODE_E_LINK_ESCAPES, "sub/sneaky");
}

static void test_hard_link_and_fifo_refused(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX];
  const struct spec specs[] = {{"handler", "h", NULL, NULL}, {"alias", "h", NULL, "handler"}};
  build_archive(in(f->dir, "links.tar", path), "tar", specs, 2);
  expect_refused(path, CODE_E_TYPE, "hard link");
  put(f->src, "handler", "h", 0755);
  assert_int_equal(mkfifo(in(f->src, "pipe", path), 0644), 0);
  expect_refused(f->src, CODE_E_TYPE, "fifo");
}

/* Writes a zip of `files` empty files under d/, with no entry for d/
 * itself: the guest creates d and counts it, so the host must too. */
static void build_many(const char *path, size_t files) {
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new();
  for (size_t i = 0; i < files; i++) {
    char name[32];
    snprintf(name, sizeof name, "d/f%zu", i);
    archive_entry_clear(e);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 0);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  }
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

static void test_too_many_files_refused(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX];
  struct code_limits lim = code_limits_default();
  /* max_files - 1 files and their directory: exactly at the limit. */
  build_many(in(f->dir, "fits.zip", path), lim.max_files - 1);
  struct sink s = {0};
  char err[512] = "";
  bool refused;
  struct code_totals totals;
  if (pack(path, &lim, &s, err, &refused, &totals) < 0)
    fail_msg("at the limit: %s", err);
  assert_int_equal(totals.files, lim.max_files);
  free(s.buf);
  /* One more file is one entry over. */
  build_many(in(f->dir, "over.zip", path), lim.max_files);
  expect_refused(path, CODE_E_TOO_MANY_FILES, "too many entries");
}

static void test_too_many_bytes_refused(void **state) {
  struct fixture *f = *state;
  put(f->src, "handler", "0123456789", 0755);
  struct code_limits lim = code_limits_default();
  lim.max_bytes = 9;
  struct sink s = {0};
  char err[512] = "";
  bool refused = false;
  assert_int_equal(pack(f->src, &lim, &s, err, &refused, NULL), CODE_E_TOO_MANY_BYTES);
  assert_true(refused);
  assert_non_null(strstr(err, "too many bytes"));
  free(s.buf);
}

static void test_not_an_archive(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX], err[512] = "";
  put(f->dir, "notes.txt", "just some text, not an archive\n", 0644);
  struct codepack *p;
  bool refused = false;
  struct code_limits lim = code_limits_default();
  assert_true(codepack_open(&p, in(f->dir, "notes.txt", path), &lim, err, sizeof err, &refused) <
              0);
  assert_true(refused);
  if (strstr(err, "is not an archive") == NULL)
    fail_msg("message: %s", err);
  assert_true(codepack_open(&p, in(f->dir, "missing", path), &lim, err, sizeof err, &refused) < 0);
  assert_false(refused);
  assert_non_null(strstr(err, "No such file"));
}

/* The sink's failure (the connection went) stops the packing with its own
 * error, and is not blamed on the code. */
static void test_sink_error_propagates(void **state) {
  struct fixture *f = *state;
  char big[70000];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  put(f->src, "handler", big, 0755);
  put(f->src, "more", big, 0644);
  struct sink s = {.fail_after = 1};
  char err[512] = "";
  bool refused = true;
  struct code_limits lim = code_limits_default();
  assert_int_equal(pack(f->src, &lim, &s, err, &refused, NULL), -EPIPE);
  assert_false(refused);
  free(s.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_directory_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tgz_normal_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zip_slip_refused_at_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zip_slip_refused_mid_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_escape_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hard_link_and_fifo_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_files_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_many_bytes_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_an_archive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sink_error_propagates, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
