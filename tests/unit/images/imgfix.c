/* imgfix.c - image fixtures for the unit tests (see imgfix.h). */
#include "imgfix.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fileio.h"
#include "lib/keys.h"
#include "lib/rmtree.h"
#include "lib/sign.h"
#include "lib/verify.h"

static const uint64_t tool_sites[] = {2, 10};

const struct fx_item fx_small[] = {
    {"bin", MANIFEST_SYMLINK, 0777, 1700000000, NULL, "usr/bin", FX_PLAIN, NULL, 0},
    {"etc", MANIFEST_DIR, 0755, 1700000001, NULL, NULL, FX_PLAIN, NULL, 0},
    {"etc/hosts", MANIFEST_FILE, 0644, 1700000002, "127.0.0.1 localhost\n", NULL, FX_PLAIN, NULL,
     0},
    {"usr", MANIFEST_DIR, 0755, 1700000003, NULL, NULL, FX_PLAIN, NULL, 0},
    {"usr/bin", MANIFEST_DIR, 0755, 1700000004, NULL, NULL, FX_PLAIN, NULL, 0},
    {"usr/bin/tool", MANIFEST_FILE, 0755, 1700000005, "#!/bin/true\nsome program bytes\n", NULL,
     FX_PLAIN, tool_sites, 2},
    {"usr/lib", MANIFEST_DIR, 0755, 1700000006, NULL, NULL, FX_PLAIN, NULL, 0},
    {"usr/lib/empty", MANIFEST_FILE, 0444, 1700000007, "", NULL, FX_PLAIN, NULL, 0},
};
const size_t fx_small_n = sizeof fx_small / sizeof *fx_small;

void fx_setup(struct fx *f) {
  struct img_err err = {{0}};
  strcpy(f->dir, "/tmp/hearth-img-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  fx_path(f->keys, sizeof f->keys, f->dir, "keys");
  fx_path(f->image, sizeof f->image, f->dir, "img");
  fx_path(f->state, sizeof f->state, f->dir, "state");
  assert_int_equal(mkdir(f->image, 0755), 0);
  if (img_keygen(f->keys, &err) != 0)
    fail_msg("keygen: %s", err.msg);
}

void fx_teardown(struct fx *f) { assert_int_equal(img_rmtree(AT_FDCWD, f->dir), 0); }

static void tar_item(struct archive *a, struct archive_entry *ae, const struct fx_item *it) {
  size_t len = it->data && it->kind == FX_PLAIN ? strlen(it->data) : 0;
  archive_entry_clear(ae);
  archive_entry_set_pathname(ae, it->path);
  archive_entry_set_perm(ae, it->mode);
  archive_entry_set_mtime(ae, it->mtime, 0);
  if (it->kind == FX_HARDLINK) {
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_hardlink(ae, it->data);
  } else if (it->kind == FX_CHARDEV || it->kind == FX_FIFO) {
    archive_entry_set_filetype(ae, it->kind == FX_CHARDEV ? AE_IFCHR : AE_IFIFO);
    archive_entry_set_rdev(ae, 0x0103);
  } else {
    archive_entry_set_filetype(ae, it->type == MANIFEST_FILE  ? AE_IFREG
                                   : it->type == MANIFEST_DIR ? AE_IFDIR
                                                              : AE_IFLNK);
    archive_entry_set_size(ae, (la_int64_t)len);
    if (it->target)
      archive_entry_set_symlink(ae, it->target);
  }
  assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
  if (len)
    assert_int_equal(archive_write_data(a, it->data, len), (la_ssize_t)len);
}

void fx_write_tar(const char *image_dir, const struct fx_item *items, size_t n) {
  char path[PATH_MAX];
  fx_path(path, sizeof path, image_dir, "rootfs.tar");
  struct archive *a = archive_write_new();
  struct archive_entry *ae = archive_entry_new();
  assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    tar_item(a, ae, &items[i]);
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  archive_entry_free(ae);
}

static void manifest_item(struct manifest_entry *e, const struct fx_item *it) {
  *e = (struct manifest_entry){.path = strdup(it->path),
                               .type = it->type,
                               .mode = it->mode,
                               .mtime = it->mtime,
                               .parent = MANIFEST_NONE};
  if (it->type == MANIFEST_FILE) {
    e->size = strlen(it->data);
    digest_sha256(it->data, e->size, e->sha256);
  }
  if (it->target)
    e->target = strdup(it->target);
  if (it->sites) {
    e->has_sites = true;
    e->sites.v = calloc(it->nsites, sizeof *e->sites.v);
    memcpy(e->sites.v, it->sites, it->nsites * sizeof *e->sites.v);
    e->sites.n = it->nsites;
  }
}

static void write_signed(const char *image_dir, const char *key_dir, const char *text, size_t len) {
  struct img_err err = {{0}};
  struct img_seckey k;
  char key[PATH_MAX], *sig;
  size_t sig_len;
  int dirfd = open(image_dir, O_RDONLY | O_DIRECTORY);
  fx_path(key, sizeof key, key_dir, "hearth.key");
  assert_true(dirfd >= 0);
  if (img_load_secret(key, &k, &err) || img_sign(&k, text, len, &sig, &sig_len, &err) ||
      img_write_file(dirfd, IMG_MANIFEST_NAME, "manifest", text, len, 0644, false, &err) ||
      img_write_file(dirfd, IMG_SIG_NAME, "sig", sig, sig_len, 0644, false, &err))
    fail_msg("signing the fixture manifest: %s", err.msg);
  free(sig);
  close(dirfd);
}

void fx_write_manifest(const char *image_dir, const char *key_dir, const struct fx_item *items,
                       size_t n) {
  struct img_err err = {{0}};
  static char *entrypoint[] = {"/usr/bin/tool", "--flag"};
  static char *env[] = {"LANG=C.UTF-8", "MODE=image"};
  struct manifest m = {.name = strdup("small"),
                       .runtime = strdup("native"),
                       .n = n,
                       .sites_finder = FILESITES_FINDER_VERSION};
  m.entrypoint = calloc(2, sizeof *m.entrypoint);
  m.env = calloc(2, sizeof *m.env);
  m.entries = calloc(n, sizeof *m.entries);
  for (size_t i = 0; i < 2; i++) {
    m.entrypoint[m.nentrypoint++] = strdup(entrypoint[i]);
    m.env[m.nenv++] = strdup(env[i]);
  }
  for (size_t i = 0; i < n; i++)
    manifest_item(&m.entries[i], &items[i]);
  char *text;
  size_t len;
  if (manifest_check(&m, &err) || manifest_write(&m, &text, &len, &err))
    fail_msg("fixture manifest: %s", err.msg);
  write_signed(image_dir, key_dir, text, len);
  free(text);
  manifest_free(&m);
}

void fx_write_image(struct fx *f, const struct fx_item *items, size_t n) {
  fx_write_tar(f->image, items, n);
  fx_write_manifest(f->image, f->keys, items, n);
}

void fx_flip_byte(const char *path, long off) {
  int fd = open(path, O_RDWR);
  struct stat st;
  assert_true(fd >= 0 && fstat(fd, &st) == 0);
  off_t at = off >= 0 ? off : st.st_size + off;
  unsigned char c;
  assert_int_equal(pread(fd, &c, 1, at), 1);
  c ^= 0x01;
  assert_int_equal(pwrite(fd, &c, 1, at), 1);
  close(fd);
}

void fx_change_b64(const char *path, long off) {
  int fd = open(path, O_RDWR);
  char c;
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, &c, 1, off), 1);
  c = c == 'A' ? 'B' : 'A';
  assert_int_equal(pwrite(fd, &c, 1, off), 1);
  close(fd);
}

void fx_path(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("path too long: %s/%s", dir, name);
}

long fx_find(const char *path, const char *needle) {
  char *buf;
  size_t len;
  struct img_err err = {{0}};
  if (img_read_file(AT_FDCWD, path, path, 64u << 20, &buf, &len, &err))
    fail_msg("%s", err.msg);
  size_t n = strlen(needle);
  long at = -1;
  for (size_t i = 0; i + n <= len && at < 0; i++)
    if (memcmp(buf + i, needle, n) == 0)
      at = (long)i;
  free(buf);
  return at;
}
