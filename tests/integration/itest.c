/* itest.c - the integration tests' fixture: scratch roots, the KVM gate,
 * hearth-vmm runs through capture.c, output-dumping assertions, and the
 * one-test-per-process main(). HEARTH_VMM_PATH and HEARTH_GUESTS_DIR come
 * from CMake. */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HEARTH_VMM_PATH
#error "HEARTH_VMM_PATH must name the hearth-vmm binary"
#endif
#ifndef HEARTH_GUESTS_DIR
#error "HEARTH_GUESTS_DIR must name the directory of built guest programs"
#endif

/* Wall-clock limit of one hearth-vmm run; ctest's TIMEOUT is above it. */
#define VMM_RUN_TIMEOUT_MS 60000
#define MAX_VMM_ARGS 64

extern char **environ;

static const char *current_variant = "gcc";
static bool test_skipped;

static void path_in(char *buf, size_t cap, const char *base, const char *rel) {
  int n = snprintf(buf, cap, "%s/%s", base, rel[0] == '/' ? rel + 1 : rel);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("path too long: %s/%s", base, rel);
}

int itest_setup(void **state) {
  struct itest *t = calloc(1, sizeof *t);
  if (t == NULL)
    return -1;
  t->variant = current_variant;
  const char *tmp = getenv("TMPDIR");
  snprintf(t->dir, sizeof t->dir, "%s/hearth-itest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(t->dir) == NULL) {
    fprintf(stderr, "itest: mkdtemp %s: %s\n", t->dir, strerror(errno));
    free(t);
    return -1;
  }
  path_in(t->root, sizeof t->root, t->dir, "root");
  path_in(t->stats, sizeof t->stats, t->dir, "stats.json");
  path_in(t->trace, sizeof t->trace, t->dir, "trace.txt");
  if (mkdir(t->root, 0755) != 0) {
    fprintf(stderr, "itest: mkdir %s: %s\n", t->root, strerror(errno));
    rmdir(t->dir);
    free(t);
    return -1;
  }
  *state = t;
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
  if (rc != 0)
    fprintf(stderr, "itest: cannot remove %s: %s\n", path, strerror(errno));
  return 0; /* keep going: remove as much as possible */
}

int itest_teardown(void **state) {
  struct itest *t = *state;
  if (t == NULL)
    return 0;
  nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  spawn_result_free(&t->res);
  free(t);
  *state = NULL;
  return 0;
}

static const char *kvm_problem(void) {
  static char why[160];
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, sizeof why, "cannot open /dev/kvm read-write: %s", strerror(errno));
    return why;
  }
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  close(fd);
  if (version != KVM_API_VERSION) {
    snprintf(why, sizeof why, "/dev/kvm answers API version %d, not %d", version, KVM_API_VERSION);
    return why;
  }
  return NULL;
}

void itest_require_kvm(void) {
  const char *why = kvm_problem();
  if (why == NULL)
    return;
  const char *require = getenv("HEARTH_REQUIRE_KVM");
  if (require != NULL && strcmp(require, "1") == 0)
    fail_msg("KVM is required (HEARTH_REQUIRE_KVM=1) but unusable: %s", why);
  print_message("SKIP: %s (set HEARTH_REQUIRE_KVM=1 to fail instead)\n", why);
  test_skipped = true;
  skip();
}

void itest_mkdir(struct itest *t, const char *rel) {
  char path[PATH_MAX];
  path_in(path, sizeof path, t->root, rel);
  if (mkdir(path, 0755) != 0)
    fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void write_all_or_fail(int fd, const char *path, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail_msg("write %s: %s", path, strerror(errno));
    p += n;
    len -= (size_t)n;
  }
}

void itest_put_file(struct itest *t, const char *rel, const void *data, size_t len, mode_t mode) {
  char path[PATH_MAX];
  path_in(path, sizeof path, t->root, rel);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    fail_msg("create %s: %s", path, strerror(errno));
  write_all_or_fail(fd, path, data, len);
  if (fchmod(fd, mode) != 0 || close(fd) != 0) /* fchmod: the umask narrowed `mode` */
    fail_msg("finish %s: %s", path, strerror(errno));
}

void itest_symlink(struct itest *t, const char *target, const char *rel) {
  char path[PATH_MAX];
  path_in(path, sizeof path, t->root, rel);
  if (symlink(target, path) != 0)
    fail_msg("symlink %s -> %s: %s", path, target, strerror(errno));
}

void itest_chmod(struct itest *t, const char *rel, mode_t mode) {
  char path[PATH_MAX];
  path_in(path, sizeof path, t->root, rel);
  if (chmod(path, mode) != 0)
    fail_msg("chmod %s: %s", path, strerror(errno));
}

const char *itest_guest_path(const struct itest *t, const char *name, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "%s/%s/%s", HEARTH_GUESTS_DIR, t->variant, name);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("guest path too long");
  return buf;
}

/* Reads a whole (small) host file into a malloc'd buffer; fails the test on error. */
static char *slurp(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0)
    fail_msg("open %s: %s (guest programs are built by the hearth_guests target)", path,
             strerror(errno));
  char *buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL)
    fail_msg("out of memory reading %s", path);
  ssize_t n = read(fd, buf, (size_t)st.st_size);
  close(fd);
  if (n != st.st_size)
    fail_msg("short read of %s", path);
  *len = (size_t)n;
  return buf;
}

void itest_put_guest(struct itest *t, const char *name, const char *rel) {
  char src[PATH_MAX];
  size_t len;
  char *image = slurp(itest_guest_path(t, name, src, sizeof src), &len);
  itest_put_file(t, rel, image, len, 0755);
  free(image);
}

/* hearth-vmm's environment: ours (so ASAN_OPTIONS and the like reach it)
 * with XDG_CACHE_HOME pointing into the build tree, plus a marker that must
 * never show up in the guest's environment. */
char **itest_vmm_environment(void) {
  static char marker[] = "HEARTH_ITEST_HOST_ONLY=must-not-leak";
  static char cache_home[] = "XDG_CACHE_HOME=" HEARTH_ITEST_CACHE_HOME;
  static char *env[512];
  size_t n = 0;
  for (char **e = environ; *e != NULL && n + 3 < sizeof env / sizeof env[0]; e++)
    if (strncmp(*e, "XDG_CACHE_HOME=", 15) != 0)
      env[n++] = *e;
  env[n++] = cache_home;
  env[n++] = marker;
  env[n] = NULL;
  return env;
}

static const struct spawn_result *run(struct itest *t, const char *const *argv, const void *in,
                                      size_t in_len) {
  spawn_result_free(&t->res);
  int rc = spawn_capture(HEARTH_VMM_PATH, (char *const *)argv, itest_vmm_environment(), in, in_len,
                         VMM_RUN_TIMEOUT_MS, &t->res);
  if (rc != 0)
    fail_msg("cannot run %s: %s", HEARTH_VMM_PATH, strerror(-rc));
  return &t->res;
}

static void copy_args(const char **argv, size_t at, const char *const *args) {
  for (size_t i = 0; args[i] != NULL; i++) {
    if (at + 1 >= MAX_VMM_ARGS)
      fail_msg("too many hearth-vmm arguments");
    argv[at++] = args[i];
  }
  argv[at] = NULL;
}

const char itest_guest_pages[] = HEARTH_ITEST_GUEST_PAGES;

const struct spawn_result *itest_vmm(struct itest *t, const void *in, size_t in_len,
                                     const char *const *args) {
  itest_require_kvm();
  const char *argv[MAX_VMM_ARGS] = {HEARTH_VMM_PATH, "--guest-pages", itest_guest_pages, "--root",
                                    t->root};
  copy_args(argv, 5, args);
  return run(t, argv, in, in_len);
}

const struct spawn_result *itest_vmm_raw(struct itest *t, const char *const *args) {
  const char *argv[MAX_VMM_ARGS] = {HEARTH_VMM_PATH};
  copy_args(argv, 1, args);
  return run(t, argv, NULL, 0);
}

const struct spawn_result *itest_vmm_args(struct itest *t, const void *in, size_t in_len,
                                          const char *const *args) {
  itest_require_kvm();
  const char *argv[MAX_VMM_ARGS] = {HEARTH_VMM_PATH, "--guest-pages", itest_guest_pages};
  copy_args(argv, 3, args);
  return run(t, argv, in, in_len);
}

void itest_skip_unless_required(const char *why) {
  const char *require = getenv("HEARTH_REQUIRE_KVM");
  if (require != NULL && strcmp(require, "1") == 0)
    fail_msg("required (HEARTH_REQUIRE_KVM=1) but unavailable: %s", why);
  print_message("SKIP: %s (set HEARTH_REQUIRE_KVM=1 to fail instead)\n", why);
  test_skipped = true;
  skip();
}

static void dump(const struct spawn_result *r) {
  print_message("hearth-vmm status %d%s after %.3f s\n", r->status,
                r->timed_out ? " (killed by the harness's timeout)" : "", r->seconds);
  if (r->status >= SPAWN_KILLED_BY(0))
    print_message("hearth-vmm itself died of signal %d\n", r->status - SPAWN_KILLED_BY(0));
  print_message("--- stdout (%zu bytes) ---\n%.*s\n", r->out_len,
                (int)(r->out_len > 4096 ? 4096 : r->out_len), r->out);
  print_message("--- stderr (%zu bytes) ---\n%.*s\n", r->err_len,
                (int)(r->err_len > 4096 ? 4096 : r->err_len), r->err);
}

void itest_assert_status(const struct spawn_result *r, int want, const char *file, int line) {
  if (r->status != want)
    dump(r);
  _assert_int_equal(cast_to_largest_integral_type(r->status), cast_to_largest_integral_type(want),
                    file, line);
}

void itest_assert_stdout(const struct spawn_result *r, const char *want, const char *file,
                         int line) {
  bool same = r->out_len == strlen(want) && memcmp(r->out, want, r->out_len) == 0;
  if (!same)
    dump(r);
  _assert_string_equal(r->out, want, file, line);
  _assert_int_equal(r->out_len, strlen(want), file, line); /* no NUL hiding a tail */
}

void itest_assert_contains(const struct spawn_result *r, const char *haystack, const char *needle,
                           const char *file, int line) {
  if (strstr(haystack, needle) != NULL)
    return;
  dump(r);
  print_message("expected to find \"%s\"\n", needle);
  _fail(file, line);
}

static bool known_variant(const char *v) {
  return strcmp(v, "gcc") == 0 || strcmp(v, "musl") == 0 || strcmp(v, "pie") == 0;
}

/* Keeps the tests named `name` (all when NULL); returns how many. */
static size_t select_tests(const struct CMUnitTest *tests, size_t count, const char *name,
                           struct CMUnitTest *out) {
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    if (name == NULL || strcmp(tests[i].name, name) == 0)
      out[n++] = tests[i];
  }
  return n;
}

int itest_main(int argc, char **argv, const struct CMUnitTest *tests, size_t count) {
  const char *name = argc > 1 ? argv[1] : NULL;
  current_variant = argc > 2 ? argv[2] : "gcc";
  if (argc > 3 || !known_variant(current_variant)) {
    fprintf(stderr, "usage: %s [TEST [gcc|musl|pie]]\n", argv[0]);
    return 2;
  }
  struct CMUnitTest *selected = calloc(count, sizeof *selected);
  if (selected == NULL)
    return 2;
  size_t n = select_tests(tests, count, name, selected);
  if (n == 0) { /* a misspelt name must not pass by running nothing */
    fprintf(stderr, "%s: no test named %s\n", argv[0], name);
    free(selected);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a VMM that stops reading stdin is not our death */
  int failed = _cmocka_run_group_tests(current_variant, selected, n, NULL, NULL);
  free(selected);
  return failed == 0 && test_skipped ? ITEST_SKIPPED : failed;
}
