/* Hostile image directories and state directories against the image cache
 * (images/lib/cache.c, verify.c, fileio.c): an image whose manifest.json,
 * manifest.sig or rootfs.tar is a FIFO (opening one for reading would wait
 * for a writer for ever), a device or a symlink to one, is refused at once;
 * a cache entry whose root/ or sites/ is a symlink out of the cache (a
 * state directory someone else wrote into) is refused rather than handed
 * to a VM as its root. An alarm fails a test that hangs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "imgfix.h"
#include "lib/cache.h"
#include "lib/rmtree.h"

#define HANG_SECONDS 10

static void hung(int sig) {
  (void)sig;
  static const char msg[] = "test_hostile_dirs: hung opening the image\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

static int setup(void **state) {
  static struct fx f;
  fx_setup(&f);
  fx_write_image(&f, fx_small, fx_small_n);
  signal(SIGALRM, hung);
  alarm(HANG_SECONDS);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  alarm(0);
  fx_teardown(*state);
  return 0;
}

/* name in the image replaced by a FIFO. */
static void fifo_in_image(struct fx *f, const char *name) {
  char path[PATH_MAX];
  fx_path(path, sizeof path, f->image, name);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkfifo(path, 0644), 0);
}

/* name in the image replaced by a symlink to target. */
static void link_in_image(struct fx *f, const char *name, const char *target) {
  char path[PATH_MAX];
  fx_path(path, sizeof path, f->image, name);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(symlink(target, path), 0);
}

static int open_image(struct fx *f, struct img_err *err) {
  struct img_cache c;
  int rc = img_cache_open(f->image, f->keys, f->state, &c, err);
  if (rc == 0)
    img_cache_close(&c);
  return rc;
}

static void expect_refused(struct fx *f, const char *needle) {
  struct img_err err = {{0}};
  assert_int_not_equal(open_image(f, &err), 0);
  if (!strstr(err.msg, needle))
    fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_manifest_fifo(void **state) {
  fifo_in_image(*state, "manifest.json");
  expect_refused(*state, "manifest.json");
}

static void test_signature_fifo(void **state) {
  fifo_in_image(*state, "manifest.sig");
  expect_refused(*state, "manifest.sig");
}

static void test_rootfs_fifo(void **state) {
  fifo_in_image(*state, "rootfs.tar");
  expect_refused(*state, "rootfs.tar");
}

static void test_rootfs_device(void **state) {
  link_in_image(*state, "rootfs.tar", "/dev/zero");
  expect_refused(*state, "rootfs.tar");
}

static void test_manifest_device(void **state) {
  link_in_image(*state, "manifest.json", "/dev/zero");
  expect_refused(*state, "manifest.json");
}

/* The cache entry's `name` (root or sites) made a symlink to `target`. */
static void swap_entry_dir(struct fx *f, const char *name, const char *target) {
  struct img_cache c;
  struct img_err err = {{0}};
  if (img_cache_open(f->image, f->keys, f->state, &c, &err))
    fail_msg("img_cache_open: %s", err.msg);
  assert_int_equal(chmod(c.dir, 0700), 0);
  int dirfd = open(c.dir, O_RDONLY | O_DIRECTORY);
  assert_true(dirfd >= 0);
  assert_int_equal(img_rmtree(dirfd, name), 0);
  assert_int_equal(symlinkat(target, dirfd, name), 0);
  close(dirfd);
  img_cache_close(&c);
}

static void test_entry_root_symlink_refused(void **state) {
  struct fx *f = *state;
  swap_entry_dir(f, "root", "/");
  expect_refused(f, "root is not a directory");
}

static void test_entry_sites_symlink_refused(void **state) {
  struct fx *f = *state;
  swap_entry_dir(f, "sites", "/tmp");
  expect_refused(f, "sites is not a directory");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_manifest_fifo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_signature_fifo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rootfs_fifo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rootfs_device, setup, teardown),
      cmocka_unit_test_setup_teardown(test_manifest_device, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_root_symlink_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_sites_symlink_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
