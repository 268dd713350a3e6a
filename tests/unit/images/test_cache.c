/* Unit tests of the image cache (images/lib/cache.c, unpack.c): a first
 * open verifies and unpacks the image (read-only modes, the manifest's
 * mtimes, symlinks as listed, the config, a site store seeded from the
 * manifest's sites); a second open is a hit that never reads rootfs.tar
 * again (it works with rootfs.tar gone) but still checks the signature
 * (a key dropped from --trust refuses the cached image); two processes
 * opening a new image at once both succeed and see the whole tree, made
 * once; a refused image leaves no cache entry and no temporary directory;
 * a cache entry holding another manifest is reported. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "imgfix.h"
#include "lib/cache.h"
#include "lib/keys.h"
#include "lib/rmtree.h"
#include "loader/sitestore.h"

static int setup(void **state) {
  static struct fx f;
  fx_setup(&f);
  fx_write_image(&f, fx_small, fx_small_n);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx_teardown(*state);
  return 0;
}

static void open_ok(struct fx *f, struct img_cache *c) {
  struct img_err err = {{0}};
  if (img_cache_open(f->image, f->keys, f->state, c, &err))
    fail_msg("img_cache_open: %s", err.msg);
}

static void in_root(const struct img_cache *c, const char *rel, char *out, size_t cap) {
  fx_path(out, cap, c->root, rel);
}

/* Every fx_small entry is in the root as listed, read-only. */
static void check_tree(const struct img_cache *c) {
  for (size_t i = 0; i < fx_small_n; i++) {
    const struct fx_item *it = &fx_small[i];
    char path[PATH_MAX];
    struct stat st;
    in_root(c, it->path, path, sizeof path);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, it->mtime);
    assert_int_equal(st.st_mtim.tv_nsec, 0);
    if (it->type == MANIFEST_SYMLINK) {
      char target[64] = {0};
      assert_true(S_ISLNK(st.st_mode));
      assert_true(readlink(path, target, sizeof target - 1) > 0);
      assert_string_equal(target, it->target);
      continue;
    }
    assert_int_equal(st.st_mode & 07777, it->mode & 0555);
    assert_true(it->type == MANIFEST_DIR ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    if (it->type == MANIFEST_FILE) {
      char buf[128] = {0};
      FILE *in = fopen(path, "r");
      assert_non_null(in);
      assert_int_equal(fread(buf, 1, sizeof buf - 1, in), strlen(it->data));
      fclose(in);
      assert_string_equal(buf, it->data);
    }
  }
}

/* For a child process (no cmocka there): every file of fx_small is in the
 * root with its whole contents. */
static bool tree_complete(const struct img_cache *c) {
  for (size_t i = 0; i < fx_small_n; i++) {
    char path[PATH_MAX], buf[128] = {0};
    if (fx_small[i].type != MANIFEST_FILE)
      continue;
    if (snprintf(path, sizeof path, "%s/%s", c->root, fx_small[i].path) >= (int)sizeof path)
      return false;
    FILE *in = fopen(path, "r");
    size_t n = in ? fread(buf, 1, sizeof buf - 1, in) : 0;
    if (in)
      fclose(in);
    if (!in || n != strlen(fx_small[i].data) || strcmp(buf, fx_small[i].data) != 0)
      return false;
  }
  return true;
}

/* Names in state/images other than the lock. */
static size_t cache_entries(const struct fx *f, char names[][80], size_t cap) {
  char dir[PATH_MAX];
  fx_path(dir, sizeof dir, f->state, "images");
  DIR *d = opendir(dir);
  size_t n = 0;
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".lock") &&
        n < cap && strlen(e->d_name) < 80)
      strcpy(names[n++], e->d_name);
  }
  closedir(d);
  return n;
}

static void test_miss_unpacks_the_image(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  open_ok(f, &c);
  assert_false(c.hit);
  check_tree(&c);
  struct stat st;
  assert_int_equal(stat(c.root, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0555);
  assert_string_equal(c.config.name, "small");
  assert_int_equal(c.config.n, 0);
  assert_int_equal(c.config.nentrypoint, 2);
  assert_string_equal(c.config.entrypoint[1], "--flag");
  assert_string_equal(c.config.env[0], "LANG=C.UTF-8");
  assert_int_equal(strlen(c.key), 64);
  img_cache_close(&c);
}

/* The site store holds usr/bin/tool's sites, found by its identity: the
 * VMM neither hashes nor decodes it. */
static void test_sites_are_seeded(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  struct sitestore *s;
  char path[PATH_MAX];
  struct stat st;
  uint8_t sha[DIGEST_SHA256_LEN];
  struct file_sites sites;
  open_ok(f, &c);
  in_root(&c, "usr/bin/tool", path, sizeof path);
  assert_int_equal(stat(path, &st), 0);
  struct site_file_id id = {
      .dev = st.st_dev,
      .ino = st.st_ino,
      .size = (uint64_t)st.st_size,
      .mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec,
      .ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000ULL + (uint64_t)st.st_ctim.tv_nsec};
  assert_int_equal(sitestore_open(c.sites, &s), 0);
  assert_int_equal(sitestore_index_get(s, &id, sha), 0);
  assert_int_equal(sitestore_sites_get(s, sha, id.size, &sites), 0);
  assert_int_equal(sites.n, 2);
  assert_int_equal(sites.v[0], 2);
  assert_int_equal(sites.v[1], 10);
  file_sites_free(&sites);
  sitestore_close(s);
  img_cache_close(&c);
}

static void test_hit_does_not_read_the_tar(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  char tar[PATH_MAX];
  open_ok(f, &c);
  img_cache_close(&c);
  fx_path(tar, sizeof tar, f->image, "rootfs.tar");
  assert_int_equal(unlink(tar), 0);
  open_ok(f, &c);
  assert_true(c.hit);
  check_tree(&c);
  assert_string_equal(c.config.entrypoint[0], "/usr/bin/tool");
  img_cache_close(&c);
}

static void test_hit_still_checks_the_signature(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  struct img_err err = {{0}};
  char other[PATH_MAX];
  open_ok(f, &c);
  img_cache_close(&c);
  fx_path(other, sizeof other, f->dir, "other");
  assert_int_equal(img_keygen(other, &err), 0);
  assert_int_equal(img_cache_open(f->image, other, f->state, &c, &err), -ENOKEY);
  assert_non_null(strstr(err.msg, "not trusted"));
}

static void test_refused_image_leaves_nothing(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  struct img_err err = {{0}};
  char tar[PATH_MAX], names[8][80];
  fx_path(tar, sizeof tar, f->image, "rootfs.tar");
  fx_flip_byte(tar, fx_find(tar, "localhost"));
  assert_int_equal(img_cache_open(f->image, f->keys, f->state, &c, &err), -EBADMSG);
  assert_non_null(strstr(err.msg, "etc/hosts"));
  assert_int_equal(cache_entries(f, names, 8), 0);
}

static void test_other_manifest_in_entry_is_reported(void **state) {
  struct fx *f = *state;
  struct img_cache c;
  struct img_err err = {{0}};
  char path[PATH_MAX];
  open_ok(f, &c);
  fx_path(path, sizeof path, c.dir, "manifest.json");
  assert_int_equal(chmod(path, 0644), 0);
  fx_flip_byte(path, 10);
  img_cache_close(&c);
  assert_int_equal(img_cache_open(f->image, f->keys, f->state, &c, &err), -EBADMSG);
  assert_non_null(strstr(err.msg, "another manifest"));
}

/* Two processes open the new image at once: both succeed on a whole
 * tree, one entry is made, nothing temporary is left. */
static void test_concurrent_opens(void **state) {
  struct fx *f = *state;
  pid_t pids[2];
  for (int i = 0; i < 2; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      struct img_cache c;
      struct img_err err = {{0}};
      if (img_cache_open(f->image, f->keys, f->state, &c, &err)) {
        fprintf(stderr, "child %d: %s\n", i, err.msg);
        _exit(1);
      }
      _exit(!tree_complete(&c) ? 2 : c.hit ? 10 : 20); /* which one made it */
    }
  }
  int codes = 0;
  for (int i = 0; i < 2; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status));
    assert_true(WEXITSTATUS(status) == 10 || WEXITSTATUS(status) == 20);
    codes += WEXITSTATUS(status);
  }
  assert_int_equal(codes, 30); /* exactly one unpacked, the other found it made */
  struct img_cache c;
  open_ok(f, &c);
  assert_true(c.hit);
  check_tree(&c);
  img_cache_close(&c);
  char names[8][80];
  assert_int_equal(cache_entries(f, names, 8), 1);
  assert_int_equal(strlen(names[0]), 64);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_miss_unpacks_the_image, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sites_are_seeded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hit_does_not_read_the_tar, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hit_still_checks_the_signature, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refused_image_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_manifest_in_entry_is_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_opens, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
