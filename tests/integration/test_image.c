/* test_image.c - signed images run by hearth-vmm --image (issue 5):
 * Debian's python3.11 from build/images/python runs, its standard library
 * is imported from the image's .pyc files (python -v says so, and nothing
 * is compiled from source), and its import time is measured against the
 * same image built without them (both figures printed, nothing asserted
 * about time); an image's entrypoint is the program when none is given,
 * with the image's environment under --env's; a tampered rootfs.tar or
 * manifest.json is refused with exit 125 and a message naming what failed,
 * before any KVM work (those tests need no KVM) and without leaving a cache
 * entry. */
#include "itest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON_IMAGE HEARTH_IMAGES_DIR "/python"
#define BASE_IMAGE HEARTH_IMAGES_DIR "/base"
#define PYTHON "/usr/bin/python3.11"
#define TOOL_TIMEOUT_MS 120000
#define RUNS 3 /* of each import timing; the least is kept */

/* The modules timed, and the program that times them (microseconds). */
#define IMPORTS "json, decimal, email.message, http.client, asyncio, typing, argparse, logging"
#define TIME_IMPORTS                                                                               \
  "import time; t = time.perf_counter_ns(); import " IMPORTS                                       \
  "; print((time.perf_counter_ns() - t) // 1000)"

static void join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("path too long: %s/%s", dir, name);
}

static void scratch(const struct itest *t, const char *name, char *out, size_t cap) {
  join(out, cap, t->dir, name);
}

/* hearth-vmm --image IMAGE --trust KEYS --state-dir STATE [ARGS...]. */
static const struct spawn_result *run_image(struct itest *t, const char *image, const char *state,
                                            const char *const *args) {
  const char *argv[32] = {"--image", image, "--trust", HEARTH_TEST_KEYS_DIR, "--state-dir", state};
  size_t n = 6;
  for (size_t i = 0; args[i]; i++) {
    if (n + 1 >= sizeof argv / sizeof *argv)
      fail_msg("too many arguments");
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  return itest_vmm_args(t, NULL, 0, argv);
}

#define PY(t, image, state, ...)                                                                   \
  run_image((t), (image), (state), (const char *const[]){"--", PYTHON, __VA_ARGS__, NULL})

/* hearth-image ARGS...: must succeed. */
static void tool(const char *const *args) {
  struct spawn_result r = {0};
  int rc = spawn_capture(HEARTH_IMAGE_TOOL, (char *const *)args, itest_vmm_environment(), NULL, 0,
                         TOOL_TIMEOUT_MS, &r);
  if (rc != 0 || r.status != 0)
    fail_msg("%s failed (%d): %s", HEARTH_IMAGE_TOOL, rc ? rc : r.status, r.err ? r.err : "");
  spawn_result_free(&r);
}

/* Cache entries (not the lock) in STATE/images. */
static size_t cache_entries(const char *state) {
  char dir[PATH_MAX];
  join(dir, sizeof dir, state, "images");
  DIR *d = opendir(dir);
  size_t n = 0;
  if (!d)
    return 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".lock");
  closedir(d);
  return n;
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char buf[1 << 16];
  size_t n;
  if (!in || !out)
    fail_msg("copy %s -> %s: %s", from, to, strerror(errno));
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      fail_msg("copy %s: %s", to, strerror(errno));
  fclose(in);
  if (fclose(out) != 0)
    fail_msg("copy %s: %s", to, strerror(errno));
}

/* A copy of the base image in the scratch directory. */
static void copy_base(const struct itest *t, char *dir, size_t cap) {
  static const char *const files[] = {"rootfs.tar", "manifest.json", "manifest.sig"};
  scratch(t, "base", dir, cap);
  if (mkdir(dir, 0755) != 0)
    fail_msg("mkdir %s: %s", dir, strerror(errno));
  for (size_t i = 0; i < 3; i++) {
    char from[PATH_MAX], to[PATH_MAX];
    join(from, sizeof from, BASE_IMAGE, files[i]);
    join(to, sizeof to, dir, files[i]);
    copy_file(from, to);
  }
}

/* Flips one bit at the first occurrence of `needle` in the file, + skip. */
static void flip_after(const char *path, const char *needle, long skip) {
  FILE *f = fopen(path, "r+b");
  static char buf[1 << 20];
  size_t len = f ? fread(buf, 1, sizeof buf, f) : 0, n = strlen(needle);
  long at = -1;
  for (size_t i = 0; i + n <= len && at < 0; i++)
    if (memcmp(buf + i, needle, n) == 0)
      at = (long)i + skip;
  if (at < 0)
    fail_msg("%s: '%s' not found", path, needle);
  buf[at] ^= 1;
  fseek(f, at, SEEK_SET);
  fputc(buf[at], f);
  fclose(f);
}

static void test_python_runs(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      PY(t, PYTHON_IMAGE, HEARTH_ITEST_IMAGE_STATE, "-c",
         "import json, os, sys; print(json.dumps([sys.version_info[:2], os.environ['LANG'], "
         "sys.prefix, sys.flags.isolated]))");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "[[3, 11], \"C.UTF-8\", \"/usr\", 0]\n");
}

/* The stdlib comes from the image's .pyc files: each checked against its
 * source's mtime and size (which hearth-vmm's stat reports from the image)
 * and used; nothing compiled from source, nothing found stale. */
static void test_pyc_files_are_used(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      PY(t, PYTHON_IMAGE, HEARTH_ITEST_IMAGE_STATE, "-v", "-c", "import json, decimal");
  assert_vmm_status(r, 0);
  static const char *const used[] = {"json/__init__", "json/decoder", "json/scanner", "decimal"};
  for (size_t i = 0; i < sizeof used / sizeof *used; i++) {
    char matches[512], from[512];
    const char *slash = strrchr(used[i], '/');
    char dir[64] = "";
    if (slash)
      snprintf(dir, sizeof dir, "%.*s/", (int)(slash - used[i]), used[i]);
    const char *base = slash ? slash + 1 : used[i];
    snprintf(matches, sizeof matches,
             "# /usr/lib/python3.11/%s__pycache__/%s.cpython-311.pyc matches "
             "/usr/lib/python3.11/%s.py\n",
             dir, base, used[i]);
    snprintf(from, sizeof from,
             "# code object from '/usr/lib/python3.11/%s__pycache__/%s.cpython-311.pyc'\n", dir,
             base);
    assert_vmm_stderr_has(r, matches);
    assert_vmm_stderr_has(r, from);
  }
  /* A source compile logs "code object from <path>.py" (no quotes). */
  if (strstr(r->err, "# code object from /usr/lib/python3.11/") || strstr(r->err, "stale") ||
      strstr(r->err, "could not create"))
    fail_msg("python compiled a module from source:\n%s", r->err);
}

/* Least of RUNS timings of TIME_IMPORTS, in microseconds. */
static long import_us(struct itest *t, const char *image, const char *state) {
  long best = -1;
  for (int i = 0; i < RUNS; i++) {
    const struct spawn_result *r = PY(t, image, state, "-c", TIME_IMPORTS);
    assert_vmm_status(r, 0);
    long us = strtol(r->out, NULL, 10);
    if (us <= 0)
      fail_msg("no timing printed: %s", r->out);
    if (best < 0 || us < best)
      best = us;
  }
  return best;
}

static void test_import_time_with_and_without_pyc(void **state) {
  struct itest *t = *state;
  char nopyc[PATH_MAX], nopyc_state[PATH_MAX];
  itest_require_kvm();
  scratch(t, "python-nopyc", nopyc, sizeof nopyc);
  scratch(t, "state", nopyc_state, sizeof nopyc_state);
  tool((const char *const[]){HEARTH_IMAGE_TOOL, "build", HEARTH_IMAGE_RECIPES "/python", "--key",
                             HEARTH_TEST_KEYS_DIR "/hearth.key", "--out", nopyc, "--set",
                             "HEARTH_INIT=" HEARTH_INIT_BIN, "--set", "PYTHON_COMPILE=no", NULL});
  /* Without .pyc files python compiles the sources (and cannot save them). */
  const struct spawn_result *r = PY(t, nopyc, nopyc_state, "-v", "-c", "import json");
  assert_vmm_status(r, 0);
  assert_vmm_stderr_has(r, "# code object from /usr/lib/python3.11/json/__init__.py\n");
  long with = import_us(t, PYTHON_IMAGE, HEARTH_ITEST_IMAGE_STATE);
  long without = import_us(t, nopyc, nopyc_state);
  print_message("import %s in the VM (least of %d): %ld us with the image's .pyc files, "
                "%ld us without them\n",
                IMPORTS, RUNS, with, without);
}

/* No PROGRAM: the image's entrypoint runs, with the image's environment
 * and --env's over it. A small image of the `args` guest, built here. */
static void test_entrypoint_and_env(void **state) {
  struct itest *t = *state;
  char recipe_dir[PATH_MAX], recipe[PATH_MAX], image[PATH_MAX], st[PATH_MAX], guest[PATH_MAX];
  scratch(t, "recipe", recipe_dir, sizeof recipe_dir);
  scratch(t, "args-image", image, sizeof image);
  scratch(t, "state", st, sizeof st);
  join(recipe, sizeof recipe, recipe_dir, "recipe.json");
  if (mkdir(recipe_dir, 0755) != 0)
    fail_msg("mkdir %s: %s", recipe_dir, strerror(errno));
  FILE *f = fopen(recipe, "w");
  fprintf(f,
          "{\"name\":\"args\",\"runtime\":\"native\",\"merged_usr\":true,"
          "\"files\":[{\"src\":\"%s\",\"dst\":\"/usr/bin/args\",\"mode\":\"0755\"}],"
          "\"entrypoint\":[\"/bin/args\",\"one\",\"two words\"],"
          "\"env\":{\"IMAGE_VAR\":\"from-image\",\"SHARED\":\"image\"}}\n",
          itest_guest_path(t, "args", guest, sizeof guest));
  fclose(f);
  tool((const char *const[]){HEARTH_IMAGE_TOOL, "build", recipe_dir, "--key",
                             HEARTH_TEST_KEYS_DIR "/hearth.key", "--out", image, NULL});
  const struct spawn_result *r = run_image(
      t, image, st, (const char *const[]){"--env", "SHARED=cli", "--env", "EXTRA=1", NULL});
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "argc=3\nargv[0]=/bin/args\nargv[1]=one\nargv[2]=two words\n"
                       "env=IMAGE_VAR=from-image\nenv=SHARED=cli\nenv=EXTRA=1\nenvc=3\n");
  assert_int_equal(cache_entries(st), 1);
}

/* Refused before any KVM work: run without the KVM gate. */
static void expect_refused(struct itest *t, const char *image, const char *needle) {
  char st[PATH_MAX];
  scratch(t, "state", st, sizeof st);
  const struct spawn_result *r =
      itest_vmm_raw(t, (const char *const[]){"--image", image, "--trust", HEARTH_TEST_KEYS_DIR,
                                             "--state-dir", st, "--", "/sbin/hearth-init", NULL});
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "image refused");
  assert_vmm_stderr_has(r, needle);
  assert_int_equal(cache_entries(st), 0);
}

static void test_tampered_tar_is_refused(void **state) {
  struct itest *t = *state;
  char dir[PATH_MAX], tar[PATH_MAX];
  copy_base(t, dir, sizeof dir);
  join(tar, sizeof tar, dir, "rootfs.tar");
  flip_after(tar, "hearth:/tmp:", 3); /* etc/passwd's data */
  expect_refused(t, dir, "rootfs.tar: etc/passwd: the SHA-256 of its data differs");
}

static void test_tampered_manifest_is_refused(void **state) {
  struct itest *t = *state;
  char dir[PATH_MAX], manifest[PATH_MAX];
  copy_base(t, dir, sizeof dir);
  join(manifest, sizeof manifest, dir, "manifest.json");
  flip_after(manifest, "\"--runtime\"", 3);
  expect_refused(t, dir, "manifest.sig: the signature does not match manifest.json");
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      HOST_TEST(test_python_runs),
      HOST_TEST(test_pyc_files_are_used),
      HOST_TEST(test_import_time_with_and_without_pyc),
      GUEST_TEST(test_entrypoint_and_env),
      HOST_TEST(test_tampered_tar_is_refused),
      HOST_TEST(test_tampered_manifest_is_refused),
  };
  return itest_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
