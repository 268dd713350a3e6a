/* Unit tests of image verification (images/lib/verify.c, tarcheck.c): a
 * good image verifies; one changed byte of rootfs.tar, manifest.json or
 * manifest.sig, or a signer outside --trust, is refused; and every way a
 * tar can disagree with its manifest is refused with a message naming the
 * entry: unlisted, twice, missing, a hard link, a device or fifo, an
 * absolute or ".." path, another mode, mtime or symlink target, a child
 * before its directory. Tars are crafted with libarchive (imgfix.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imgfix.h"
#include "lib/keys.h"
#include "lib/verify.h"

#define MAX_ITEMS 16

static int setup(void **state) {
  static struct fx f;
  fx_setup(&f);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx_teardown(*state);
  return 0;
}

/* img_verify must fail with rc and a message holding both needles. */
static void expect_refused(struct fx *f, int rc, const char *needle, const char *needle2) {
  struct manifest m;
  struct img_err err = {{0}};
  int got = img_verify(f->image, f->keys, NULL, &m, &err);
  if (got != rc)
    fail_msg("img_verify: %d (%s), want %d", got, err.msg, rc);
  if (!strstr(err.msg, needle) || (needle2 && !strstr(err.msg, needle2)))
    fail_msg("message '%s' does not name '%s' and '%s'", err.msg, needle, needle2 ? needle2 : "");
  if (!strstr(err.msg, f->image))
    fail_msg("message '%s' does not name the image", err.msg);
}

/* The small image's manifest with a tar of `tar` (n items). */
static void write_mismatch(struct fx *f, const struct fx_item *tar, size_t n) {
  fx_write_manifest(f->image, f->keys, fx_small, fx_small_n);
  fx_write_tar(f->image, tar, n);
}

/* fx_small with item i replaced by *with (NULL: left out). */
static size_t small_but(size_t i, const struct fx_item *with, struct fx_item *out) {
  size_t n = 0;
  for (size_t k = 0; k < fx_small_n; k++)
    if (k != i)
      out[n++] = fx_small[k];
    else if (with)
      out[n++] = *with;
  return n;
}

static void test_good_image_verifies(void **state) {
  struct fx *f = *state;
  struct manifest m;
  struct img_err err = {{0}};
  fx_write_image(f, fx_small, fx_small_n);
  if (img_verify(f->image, f->keys, NULL, &m, &err))
    fail_msg("%s", err.msg);
  assert_int_equal(m.n, fx_small_n);
  assert_string_equal(m.name, "small");
  assert_string_equal(m.entrypoint[0], "/usr/bin/tool");
  assert_string_equal(m.env[1], "MODE=image");
  manifest_free(&m);
}

static void test_changed_tar_byte_is_refused(void **state) {
  struct fx *f = *state;
  char tar[PATH_MAX];
  fx_write_image(f, fx_small, fx_small_n);
  fx_path(tar, sizeof tar, f->image, "rootfs.tar");
  long at = fx_find(tar, "some program bytes");
  assert_true(at > 0);
  fx_flip_byte(tar, at + 3);
  expect_refused(f, -EBADMSG, "usr/bin/tool", "SHA-256");
}

static void test_changed_manifest_byte_is_refused(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  fx_write_image(f, fx_small, fx_small_n);
  fx_path(path, sizeof path, f->image, "manifest.json");
  fx_flip_byte(path, fx_find(path, "1700000005") + 9); /* tool's mtime, still valid JSON */
  expect_refused(f, -EBADMSG, "manifest.sig", "does not match");
}

static void test_changed_signature_is_refused(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  fx_write_image(f, fx_small, fx_small_n);
  fx_path(path, sizeof path, f->image, "manifest.sig");
  fx_change_b64(path, fx_find(path, "\"signature\":\"") + 20);
  expect_refused(f, -EBADMSG, "manifest.sig", "does not match");
}

static void test_other_signer_is_refused(void **state) {
  struct fx *f = *state;
  char other[PATH_MAX];
  struct img_err err = {{0}};
  fx_path(other, sizeof other, f->dir, "other");
  assert_int_equal(img_keygen(other, &err), 0);
  fx_write_tar(f->image, fx_small, fx_small_n);
  fx_write_manifest(f->image, other, fx_small, fx_small_n);
  expect_refused(f, -ENOKEY, "manifest.sig", "not trusted");
}

static void test_unlisted_entry_is_refused(void **state) {
  struct fx_item tar[MAX_ITEMS];
  size_t n = small_but(SIZE_MAX, NULL, tar);
  tar[n++] =
      (struct fx_item){"etc/extra", MANIFEST_FILE, 0644, 1700000002, "x", NULL, FX_PLAIN, NULL, 0};
  write_mismatch(*state, tar, n);
  expect_refused(*state, -EBADMSG, "etc/extra", "not listed");
}

static void test_duplicate_entry_is_refused(void **state) {
  struct fx_item tar[MAX_ITEMS];
  size_t n = small_but(SIZE_MAX, NULL, tar);
  tar[n++] = fx_small[2]; /* etc/hosts again */
  write_mismatch(*state, tar, n);
  expect_refused(*state, -EBADMSG, "etc/hosts", "twice");
}

static void test_missing_entry_is_refused(void **state) {
  struct fx_item tar[MAX_ITEMS];
  size_t n = small_but(7, NULL, tar); /* no usr/lib/empty */
  write_mismatch(*state, tar, n);
  expect_refused(*state, -EBADMSG, "usr/lib/empty", "missing");
}

static void test_hard_link_is_refused(void **state) {
  struct fx_item tar[MAX_ITEMS];
  struct fx_item link = {"usr/lib/empty", MANIFEST_FILE, 0444, 1700000007, "etc/hosts", NULL,
                         FX_HARDLINK,     NULL,          0};
  size_t n = small_but(7, &link, tar);
  write_mismatch(*state, tar, n);
  expect_refused(*state, -EBADMSG, "usr/lib/empty", "hard link");
}

static void test_device_and_fifo_are_refused(void **state) {
  struct fx *f = *state;
  struct fx_item tar[MAX_ITEMS];
  struct fx_item dev = {"usr/lib/empty", MANIFEST_FILE, 0444, 1700000007, "", NULL,
                        FX_CHARDEV,      NULL,          0};
  write_mismatch(f, tar, small_but(7, &dev, tar));
  expect_refused(f, -EBADMSG, "usr/lib/empty", "device");
  dev.kind = FX_FIFO;
  write_mismatch(f, tar, small_but(7, &dev, tar));
  expect_refused(f, -EBADMSG, "usr/lib/empty", "fifo");
}

static void test_absolute_and_dotdot_paths_are_refused(void **state) {
  struct fx *f = *state;
  struct fx_item tar[MAX_ITEMS];
  size_t n = small_but(SIZE_MAX, NULL, tar);
  tar[n] = (struct fx_item){"/etc/passwd", MANIFEST_FILE, 0644, 1700000002, "x",
                            NULL,          FX_PLAIN,      NULL, 0};
  write_mismatch(f, tar, n + 1);
  expect_refused(f, -EBADMSG, "/etc/passwd", "absolute path");
  tar[n].path = "etc/../../escape";
  write_mismatch(f, tar, n + 1);
  expect_refused(f, -EBADMSG, "etc/../../escape", "'..'");
}

static void test_other_metadata_is_refused(void **state) {
  struct fx *f = *state;
  struct fx_item tar[MAX_ITEMS], it = fx_small[5]; /* usr/bin/tool */
  it.mode = 04755;
  write_mismatch(f, tar, small_but(5, &it, tar));
  expect_refused(f, -EBADMSG, "usr/bin/tool", "mode");
  it = fx_small[5];
  it.mtime++;
  write_mismatch(f, tar, small_but(5, &it, tar));
  expect_refused(f, -EBADMSG, "usr/bin/tool", "mtime");
  it = fx_small[0]; /* bin -> usr/bin */
  it.target = "/usr/bin";
  write_mismatch(f, tar, small_but(0, &it, tar));
  expect_refused(f, -EBADMSG, "bin", "symlink target");
  it = fx_small[1]; /* etc, as a file */
  it.type = MANIFEST_FILE;
  it.data = "";
  write_mismatch(f, tar, small_but(1, &it, tar));
  expect_refused(f, -EBADMSG, "etc", "type");
}

static void test_child_before_its_directory_is_refused(void **state) {
  struct fx_item tar[MAX_ITEMS];
  size_t n = small_but(SIZE_MAX, NULL, tar);
  struct fx_item dir = tar[4]; /* usr/bin, after usr/bin/tool */
  tar[4] = tar[5];
  tar[5] = dir;
  write_mismatch(*state, tar, n);
  expect_refused(*state, -EBADMSG, "usr/bin/tool", "before its directory");
}

static void test_not_a_tar_is_refused(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  fx_write_image(f, fx_small, fx_small_n);
  fx_path(path, sizeof path, f->image, "rootfs.tar");
  FILE *out = fopen(path, "w");
  fputs("this is not a tar archive, though it is long enough to be read as one header.....", out);
  fclose(out);
  expect_refused(f, -EINVAL, "rootfs.tar", NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_image_verifies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changed_tar_byte_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changed_manifest_byte_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changed_signature_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_signer_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unlisted_entry_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_entry_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_entry_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hard_link_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_device_and_fifo_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_absolute_and_dotdot_paths_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_metadata_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_child_before_its_directory_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_a_tar_is_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
