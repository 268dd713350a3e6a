/* test_run_snapshot.c - `hearth run`'s function snapshots, with real VMs
 * from the signed images the build makes: the first run of some code makes
 * <state-dir>/snapshots/fn-<key>, later runs restore from it (--timings says
 * "restored", --verbose says "restored from fn-"), for native and python;
 * clones of one snapshot draw different os.urandom, random.random() and
 * uuid4 values and read the right wall clock; --no-snapshot makes and uses
 * none; a corrupted snapshot is refused by hearth-vmm and replaced; four
 * first runs at once all answer and publish one snapshot; a snapshot whose
 * image no longer verifies is not used; new code on a used image starts
 * from the image snapshot. */
#include "echorun.h"
#include "itest.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef HEARTH_CLI_PATH
#error "HEARTH_CLI_PATH must name the hearth binary"
#endif

#define RUN_TIMEOUT_MS 120000
#define MAX_ARGS 32

/* A python handler that reports what a restored clone must draw afresh.
 * random and uuid are imported (random's generator seeded) at import: the
 * snapshot holds that state. */
static const char entropy_handler[] = "import os, random, time, uuid\n"
                                      "\n"
                                      "def handle(event, context):\n"
                                      "    return {'urandom': os.urandom(16).hex(),\n"
                                      "            'random': repr(random.random()),\n"
                                      "            'uuid': str(uuid.uuid4()),\n"
                                      "            'time': time.time()}\n";

static char *join(char *out, const char *a, const char *b) {
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  if (n < 0 || n >= PATH_MAX)
    fail_msg("path too long: %s/%s", a, b);
  return out;
}

static void require_images(void) {
  itest_require_kvm();
  char manifest[PATH_MAX];
  if (access(join(manifest, HEARTH_IMAGES_DIR, "python/manifest.json"), R_OK) != 0)
    fail_msg("%s: %s (the build makes the images)", manifest, strerror(errno));
}

struct run_args {
  const char *image; /* "base" or "python" */
  const char *code;
  const char *trust; /* NULL: the test keys */
  const char *event;
  const char *extra; /* one more flag, or NULL */
};

static void build_argv(const struct itest *t, const struct run_args *a, char *image, char *state,
                       char *timings, const char **argv) {
  join(image, HEARTH_IMAGES_DIR, a->image);
  join(state, t->dir, "state");
  join(timings, t->dir, "timings.json");
  const char *fixed[] = {HEARTH_CLI_PATH, "run",
                         "--image",       image,
                         "--trust",       a->trust ? a->trust : HEARTH_TEST_KEYS_DIR,
                         "--code",        a->code,
                         "--state-dir",   state,
                         "--timings",     timings,
                         "--guest-pages", itest_guest_pages,
                         "--timeout",     "60",
                         "--verbose"};
  size_t n = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    argv[n++] = fixed[i];
  if (a->extra)
    argv[n++] = a->extra;
  argv[n] = NULL;
}

/* One hearth run; the result in t->res. */
static const struct spawn_result *run(struct itest *t, const struct run_args *a) {
  require_images();
  const char *argv[MAX_ARGS];
  char image[PATH_MAX], state[PATH_MAX], timings[PATH_MAX];
  build_argv(t, a, image, state, timings, argv);
  spawn_result_free(&t->res);
  int rc = spawn_capture(HEARTH_CLI_PATH, (char *const *)argv, itest_vmm_environment(), a->event,
                         strlen(a->event), RUN_TIMEOUT_MS, &t->res);
  if (rc != 0)
    fail_msg("cannot run %s: %s", HEARTH_CLI_PATH, strerror(-rc));
  return &t->res;
}

/* --timings' "snapshot" of the last run. */
static const char *snapshot_kind(const struct itest *t) {
  static char kind[32];
  char path[PATH_MAX], text[4096];
  FILE *f = fopen(join(path, t->dir, "timings.json"), "re");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  cJSON *j = cJSON_Parse(text);
  assert_non_null(j);
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "snapshot");
  assert_true(cJSON_IsString(s));
  snprintf(kind, sizeof kind, "%s", s->valuestring);
  cJSON_Delete(j);
  return kind;
}

/* Entries of <state>/snapshots whose names start with prefix. */
static int snapshots_named(const struct itest *t, const char *prefix, char *first) {
  char state[PATH_MAX], dir[PATH_MAX];
  DIR *d = opendir(join(dir, join(state, t->dir, "state"), "snapshots"));
  if (d == NULL)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
      if (first && n == 0)
        join(first, dir, e->d_name);
      n++;
    }
  closedir(d);
  return n;
}

static void assert_answer(const struct spawn_result *r, const char *event, const char *kind,
                          const struct itest *t) {
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, event);
  if (strcmp(snapshot_kind(t), kind) != 0)
    fail_msg("snapshot \"%s\", wanted \"%s\"; stderr:\n%s", snapshot_kind(t), kind, r->err);
}

/* Two runs of the same code: the second restores from the first's snapshot. */
static void second_run_restores(struct itest *t, const char *image, const char *code) {
  struct run_args a = {.image = image, .code = code, .event = "{\"n\":1}"};
  const struct spawn_result *r = run(t, &a);
  assert_answer(r, a.event, "created", t);
  assert_vmm_stderr_has(r, "hearth: made snapshot fn-");
  assert_int_equal(snapshots_named(t, "fn-", NULL), 1);
  a.event = "{\"n\":2}";
  r = run(t, &a);
  assert_answer(r, a.event, "restored", t);
  assert_vmm_stderr_has(r, "hearth: restored from fn-");
}

static void test_native_restored(void **state) {
  char code[PATH_MAX];
  second_run_restores(*state, "base", join(code, HEARTH_HANDLERS_DIR, "echo"));
}

static void test_python_restored(void **state) {
  char code[PATH_MAX];
  second_run_restores(*state, "python", join(code, HEARTH_EXAMPLES_DIR, "python-echo"));
}

struct drawn {
  char urandom[64], random[64], uuid[64];
  double time;
};

static void run_entropy(struct itest *t, const char *code, const char *kind, struct drawn *d) {
  struct run_args a = {.image = "python", .code = code, .event = "{}"};
  const struct spawn_result *r = run(t, &a);
  assert_vmm_status(r, 0);
  assert_string_equal(snapshot_kind(t), kind);
  cJSON *j = cJSON_Parse(r->out);
  if (j == NULL)
    fail_msg("not JSON: %s", r->out);
  const char *names[] = {"urandom", "random", "uuid"};
  char *out[] = {d->urandom, d->random, d->uuid};
  for (int i = 0; i < 3; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, names[i]);
    assert_true(cJSON_IsString(v));
    snprintf(out[i], 64, "%s", v->valuestring);
  }
  const cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "time");
  assert_true(cJSON_IsNumber(tm));
  d->time = tm->valuedouble;
  cJSON_Delete(j);
}

/* Clones of one snapshot draw their own random values and see the time. */
static void test_restored_clones_differ(void **state) {
  struct itest *t = *state;
  itest_mkdir(t, "entropy");
  itest_put_file(t, "entropy/handler.py", entropy_handler, strlen(entropy_handler), 0644);
  char code[PATH_MAX];
  join(code, t->root, "entropy");
  struct drawn made, a, b;
  run_entropy(t, code, "created", &made);
  run_entropy(t, code, "restored", &a);
  run_entropy(t, code, "restored", &b);
  assert_string_not_equal(a.urandom, b.urandom);
  assert_string_not_equal(a.random, b.random);
  assert_string_not_equal(a.uuid, b.uuid);
  /* The snapshot was taken after import, before made's invocation: without
   * a reseed the clones would repeat made's random.random(). */
  assert_string_not_equal(a.random, made.random);
  assert_string_not_equal(b.random, made.random);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double host = (double)now.tv_sec + now.tv_nsec / 1e9;
  if (b.time > host + 1 || b.time < host - 30) /* taken before the run ended: never later */
    fail_msg("the restored guest's time.time() is %f, the host's %f", b.time, host);
}

static void test_no_snapshot(void **state) {
  struct itest *t = *state;
  char code[PATH_MAX];
  struct run_args a = {.image = "base",
                       .code = join(code, HEARTH_HANDLERS_DIR, "echo"),
                       .event = "plain",
                       .extra = "--no-snapshot"};
  const struct spawn_result *r = run(t, &a);
  assert_answer(r, "plain", "off", t);
  assert_int_equal(snapshots_named(t, "fn-", NULL), 0);
  r = run(t, &a);
  assert_answer(r, "plain", "off", t);
}

/* Flips one byte in the middle of path. */
static void corrupt(const char *path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  off_t at = st.st_size / 2;
  unsigned char c;
  assert_int_equal(pread(fd, &c, 1, at), 1);
  c ^= 0x5a;
  assert_int_equal(pwrite(fd, &c, 1, at), 1);
  close(fd);
}

/* hearth-vmm refuses a corrupted snapshot; hearth run says so, starts
 * afresh and replaces it, and the run after restores the new one. */
static void test_corrupt_snapshot_replaced(void **state) {
  struct itest *t = *state;
  char code[PATH_MAX], snap[PATH_MAX], file[PATH_MAX];
  struct run_args a = {
      .image = "base", .code = join(code, HEARTH_HANDLERS_DIR, "echo"), .event = "once"};
  assert_answer(run(t, &a), "once", "created", t);
  assert_int_equal(snapshots_named(t, "fn-", snap), 1);
  corrupt(join(file, snap, "state.snap"));
  const struct spawn_result *r = run(t, &a);
  assert_answer(r, "once", "created", t);
  assert_vmm_stderr_has(r, "refused");
  assert_int_equal(snapshots_named(t, "fn-", NULL), 1);
  assert_answer(run(t, &a), "once", "restored", t);
}

/* Four first runs at once: all answer, one snapshot is published and no
 * temporary directory is left. */
static void test_four_first_runs(void **state) {
  struct itest *t = *state;
  require_images();
  char code[PATH_MAX];
  join(code, HEARTH_EXAMPLES_DIR, "python-echo");
  pid_t kids[4];
  for (int i = 0; i < 4; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] > 0)
      continue;
    char event[32];
    snprintf(event, sizeof event, "{\"run\":%d}", i);
    const char *argv[MAX_ARGS];
    char image[PATH_MAX], sdir[PATH_MAX], timings[PATH_MAX];
    struct run_args a = {.image = "python", .code = code, .event = event};
    build_argv(t, &a, image, sdir, timings, argv);
    char own[32];
    snprintf(own, sizeof own, "timings-%d.json", i);
    argv[11] = join(timings, t->dir, own); /* --timings FILE: one each */
    echorun_child(i, HEARTH_CLI_PATH, argv, event, RUN_TIMEOUT_MS);
  }
  assert_int_equal(echorun_reap(kids, 4), 0);
  assert_int_equal(snapshots_named(t, "fn-", NULL), 1);
  assert_int_equal(snapshots_named(t, ".tmp-", NULL), 0);
}

/* The first run of new code on an image already used restores the image
 * snapshot (hearth-init waiting in accept), loads the code there and
 * snapshots that VM: one image snapshot, a function snapshot per code, and
 * the function snapshot of a restored VM restores too. */
static void test_image_snapshot_shared(void **state) {
  struct itest *t = *state;
  char echo[PATH_MAX], json[PATH_MAX];
  join(echo, HEARTH_EXAMPLES_DIR, "python-echo");
  join(json, HEARTH_EXAMPLES_DIR, "python-json");
  struct run_args a = {.image = "python", .code = echo, .event = "{\"name\":\"a\"}"};
  const struct spawn_result *r = run(t, &a);
  assert_answer(r, a.event, "created", t);
  assert_vmm_stderr_has(r, "hearth: made snapshot image-");
  a.code = json;
  r = run(t, &a);
  assert_vmm_status(r, 0);
  assert_vmm_stdout_has(r, "\"greeting\":\"Hello, a!\"");
  assert_vmm_stderr_has(r, "hearth: restored from image-");
  assert_vmm_stderr_has(r, "hearth: made snapshot fn-");
  assert_int_equal(snapshots_named(t, "image-", NULL), 1);
  assert_int_equal(snapshots_named(t, "fn-", NULL), 2);
  r = run(t, &a);
  assert_vmm_status(r, 0);
  assert_vmm_stdout_has(r, "\"greeting\":\"Hello, a!\"");
  assert_string_equal(snapshot_kind(t), "restored");
  assert_vmm_stderr_has(r, "hearth: restored from fn-");
}

/* A snapshot of an image that no longer verifies (its key is no longer
 * trusted) is not used: the run is refused before any VM. */
static void test_untrusted_image_not_restored(void **state) {
  struct itest *t = *state;
  char code[PATH_MAX], trust[PATH_MAX];
  struct run_args a = {
      .image = "base", .code = join(code, HEARTH_HANDLERS_DIR, "echo"), .event = "x"};
  assert_answer(run(t, &a), "x", "created", t);
  itest_mkdir(t, "no-keys");
  a.trust = join(trust, t->root, "no-keys");
  const struct spawn_result *r = run(t, &a);
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(r, "image refused");
  if (strstr(r->err, "restored from") != NULL)
    fail_msg("restored a snapshot of an untrusted image:\n%s", r->err);
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_native_restored),
    HOST_TEST(test_python_restored),
    HOST_TEST(test_restored_clones_differ),
    HOST_TEST(test_no_snapshot),
    HOST_TEST(test_corrupt_snapshot_replaced),
    HOST_TEST(test_four_first_runs),
    HOST_TEST(test_untrusted_image_not_restored),
    HOST_TEST(test_image_snapshot_shared),
};

ITEST_MAIN(tests)
