/* test_run.c - `hearth run` end to end: real VMs from the signed images the
 * build makes (build/images/base and python, keys in build/keys), native
 * handlers from tests/handlers (musl, static) and python ones from
 * tests/handlers/python and examples/. Each run gets its own --state-dir in
 * the test's scratch directory, and after every run the test checks the VM
 * is gone: no directory left under vms/, no hearth-vmm process naming it.
 *
 * Covered: echo and JSON in/out for both runtimes, the content type picked
 * from stdin (pipe and regular file), an 8 MiB response with the cap raised
 * (intact, byte for byte) and cut at the default 6 MiB cap (said so), a
 * failing handler's status, a crash's 128+N, a timeout (124), logs on stderr
 * and never in stdout, four runs at once, SIGTERM, a tampered image refused
 * (125, before any VM), zip-slip code refused on the host, and flag errors. */
#include "echorun.h"
#include "itest.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#ifndef HEARTH_CLI_PATH
#error "HEARTH_CLI_PATH must name the hearth binary"
#endif

#define RUN_TIMEOUT_MS 120000
#define MAX_ARGS 40
#define MIB (1u << 20)
#define BIG_RESPONSE (8u * MIB)
#define DEFAULT_CAP (6u * MIB)

/* a/b into out[PATH_MAX]; fails the test when it does not fit. */
static char *join(char *out, const char *a, const char *b) {
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  if (n < 0 || n >= PATH_MAX)
    fail_msg("path too long: %s/%s", a, b);
  return out;
}

static const char *state_dir(const struct itest *t) {
  static char path[PATH_MAX];
  return join(path, t->dir, "state");
}

static const char *image_dir(const char *name) {
  static char path[2][PATH_MAX];
  static int which;
  which ^= 1;
  join(path[which], HEARTH_IMAGES_DIR, name);
  return path[which];
}

static const char *native_handler(const char *name) {
  static char path[PATH_MAX];
  join(path, HEARTH_HANDLERS_DIR, name);
  return path;
}

static const char *python_handler(const char *name) {
  static char path[PATH_MAX];
  join(path, HEARTH_PY_HANDLERS_DIR, name);
  return path;
}

static const char *example(const char *name) {
  static char path[PATH_MAX];
  join(path, HEARTH_EXAMPLES_DIR, name);
  return path;
}

/* The images must exist: the build makes them (a missing one is a broken
 * build, not a reason to skip). */
static void require_images(void) {
  itest_require_kvm();
  const char *names[] = {"base/manifest.json", "python/manifest.json"};
  for (size_t i = 0; i < 2; i++) {
    char manifest[PATH_MAX]; /* not through image_dir: its buffers are the callers' */
    join(manifest, HEARTH_IMAGES_DIR, names[i]);
    if (access(manifest, R_OK) != 0)
      fail_msg("%s: %s (the build makes the images)", manifest, strerror(errno));
  }
}

/* argv for hearth run with --image/--trust/--code/--state-dir and extras. */
static void build_argv(const struct itest *t, const char *image, const char *code,
                       const char *const *extra, const char **argv) {
  size_t n = 0;
  const char *fixed[] = {
      HEARTH_CLI_PATH, "run", "--image",     image,        "--trust",       HEARTH_TEST_KEYS_DIR,
      "--code",        code,  "--state-dir", state_dir(t), "--guest-pages", itest_guest_pages};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    argv[n++] = fixed[i];
  for (size_t i = 0; extra && extra[i]; i++) {
    if (n + 1 >= MAX_ARGS)
      fail_msg("too many arguments");
    argv[n++] = extra[i];
  }
  argv[n] = NULL;
}

/* Every process whose command line names path (a hearth-vmm left behind). */
static int processes_naming(const char *path) {
  DIR *proc = opendir("/proc");
  assert_non_null(proc);
  int found = 0;
  struct dirent *e;
  while ((e = readdir(proc)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
      continue;
    char file[PATH_MAX], dir[PATH_MAX], cmd[8192];
    join(file, join(dir, "/proc", e->d_name), "cmdline");
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t n = read(fd, cmd, sizeof cmd - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i++)
      cmd[i] = cmd[i] ? cmd[i] : ' ';
    cmd[n > 0 ? n : 0] = '\0';
    found += n > 0 && strstr(cmd, path) != NULL;
  }
  closedir(proc);
  return found;
}

/* The VM is gone: nothing under <state>/vms, no process naming the state dir. */
static void assert_vm_gone(const struct itest *t) {
  char vms[PATH_MAX];
  join(vms, state_dir(t), "vms");
  DIR *d = opendir(vms);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        fail_msg("VM directory left behind: %s/%s", vms, e->d_name);
    closedir(d);
  }
  char needle[PATH_MAX];
  join(needle, state_dir(t), "vms/");
  assert_int_equal(processes_naming(needle), 0);
}

/* Runs hearth with `in` on a stdin pipe and envp; checks the VM is gone after. */
static const struct spawn_result *run_env(struct itest *t, const char *image, const char *code,
                                          const void *in, size_t in_len, const char *const *extra,
                                          char **envp) {
  const char *argv[MAX_ARGS];
  build_argv(t, image, code, extra, argv);
  spawn_result_free(&t->res);
  int rc = spawn_capture(HEARTH_CLI_PATH, (char *const *)argv, envp, in, in_len, RUN_TIMEOUT_MS,
                         &t->res);
  if (rc != 0)
    fail_msg("cannot run %s: %s", HEARTH_CLI_PATH, strerror(-rc));
  assert_vm_gone(t);
  return &t->res;
}

/* A real run: the KVM gate and the images first. */
static const struct spawn_result *run(struct itest *t, const char *image, const char *code,
                                      const void *in, size_t in_len, const char *const *extra) {
  require_images();
  return run_env(t, image, code, in, in_len, extra, itest_vmm_environment());
}

#define RUN(t, image, code, in, ...)                                                               \
  run((t), image_dir(image), (code), (in), strlen(in), (const char *const[]){__VA_ARGS__, NULL})

/* hearth's closing line: the last line of its stderr. */
static const char *last_line(const struct spawn_result *r) {
  static char line[2048];
  size_t end = r->err_len;
  while (end > 0 && r->err[end - 1] == '\n')
    end--;
  size_t start = end;
  while (start > 0 && r->err[start - 1] != '\n')
    start--;
  snprintf(line, sizeof line, "%.*s", (int)(end - start), r->err + start);
  return line;
}

static void assert_last_line_has(const struct spawn_result *r, const char *needle) {
  const char *line = last_line(r);
  if (strncmp(line, "hearth: ", 8) != 0 || strstr(line, needle) == NULL) {
    itest_assert_contains(r, "", needle, __FILE__, __LINE__); /* dumps the output, fails */
  }
}

/* ---- native handlers ------------------------------------------------ */

static void test_native_echo(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "base", native_handler("echo"), "hello, hearth\n", "--timings", t->stats);
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "hello, hearth\n");
  assert_vmm_stderr_has(r, "native-echo: echoed 14 bytes\n");
  assert_last_line_has(r, "hearth: ok, ");
  assert_last_line_has(r, "(response 14 B)");
  /* --timings: every phase reached, as JSON. */
  FILE *f = fopen(t->stats, "re");
  assert_non_null(f);
  char text[2048];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  cJSON *j = cJSON_Parse(text);
  assert_non_null(j);
  const char *phases[] = {"vm_start_ms", "code_load_ms", "invoke_ms", "total_ms"};
  for (size_t i = 0; i < 4; i++)
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, phases[i])));
  assert_int_equal(cJSON_GetObjectItem(j, "exit_status")->valueint, 0);
  cJSON_Delete(j);
}

static void test_native_json(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "base", native_handler("json"), "{\"x\": [1, 2], \"s\": \"caf\xc3\xa9\"}", "--env",
          "GREETING=hi", "--env", "OTHER=1");
  assert_vmm_status(r, 0);
  cJSON *j = cJSON_ParseWithLength(r->out, r->out_len);
  if (j == NULL)
    fail_msg("not JSON: %s", r->out);
  assert_string_equal(cJSON_GetObjectItem(j, "function")->valuestring, "json");
  assert_string_equal(cJSON_GetObjectItem(j, "greeting")->valuestring, "hi");
  assert_int_equal(cJSON_GetObjectItem(j, "request_id_len")->valueint, 32);
  cJSON *event = cJSON_GetObjectItem(j, "event");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(event, "x")), 2);
  assert_string_equal(cJSON_GetObjectItem(event, "s")->valuestring, "caf\xc3\xa9");
  cJSON_Delete(j);
}

/* stdout is exactly the pattern of pattern.h, len bytes. */
static void assert_pattern(const struct spawn_result *r, size_t len) {
  if (r->out_len != len)
    fail_msg("response of %zu bytes, want %zu", r->out_len, len);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)r->out[i] != PATTERN_BYTE(i))
      fail_msg("response byte %zu is %u, want %u", i, (unsigned char)r->out[i], PATTERN_BYTE(i));
}

static void test_native_big_response(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "base", native_handler("big"), "8388608", "--response-cap", "16m");
  assert_vmm_status(r, 0);
  assert_pattern(r, BIG_RESPONSE);
  assert_last_line_has(r, "(response 8.0 MiB)");
}

static void test_native_response_truncated(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "base", native_handler("big"), "8388608", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_pattern(r, DEFAULT_CAP);
  assert_last_line_has(r, "truncated at the 6.0 MiB cap");
}

static void test_native_failing(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "base", native_handler("fail"), "3", "--timeout", "60");
  assert_vmm_status(r, 3);
  assert_vmm_stderr_has(r, "fail: exiting with status 3\n");
  assert_last_line_has(r, "handler failed with status 3");
}

static void test_native_crash(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "base", native_handler("crash"), "", "--timeout", "60");
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGSEGV));
  assert_vmm_stderr_has(r, "crash: about to fault\n");
  assert_last_line_has(r, "killed by SIGSEGV");
}

static void test_native_timeout(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "base", native_handler("spin"), "", "--timeout", "1");
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  assert_last_line_has(r, "timed out after 1 s");
}

static void test_native_logs(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "base", native_handler("logger"), "", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "the response\n");
  assert_vmm_stderr_has(r, "logger: first log line\n");
  assert_vmm_stderr_has(r, "logger: second log line\n");
}

/* ---- python handlers ------------------------------------------------ */

static void test_python_echo(void **state) {
  struct itest *t = *state;
  /* JSON comes back re-encoded (compact): proof it was sent as JSON. */
  const struct spawn_result *r =
      RUN(t, "python", example("python-echo"), "{ \"a\" : [1, 2] }", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "{\"a\":[1,2]}");
  assert_vmm_stderr_has(r, "echoing request ");
  /* Not JSON: bytes, back as they were. */
  r = RUN(t, "python", example("python-echo"), "{ not json", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "{ not json");
  /* JSON, but the caller says bytes. */
  r = RUN(t, "python", example("python-echo"), "{ \"a\" : 1 }", "--content-type",
          "application/octet-stream");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "{ \"a\" : 1 }");
}

static void test_python_json(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "python", example("python-json"), "{\"name\": \"hearth\", \"numbers\": [1, 2, 3]}",
          "--env", "GREETING=Hi", "--timeout", "60");
  assert_vmm_status(r, 0);
  cJSON *j = cJSON_ParseWithLength(r->out, r->out_len);
  if (j == NULL)
    fail_msg("not JSON: %s", r->out);
  assert_string_equal(cJSON_GetObjectItem(j, "greeting")->valuestring, "Hi, hearth!");
  assert_int_equal(cJSON_GetObjectItem(j, "sum")->valueint, 6);
  assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 3);
  assert_string_equal(cJSON_GetObjectItem(j, "function")->valuestring, "python-json");
  cJSON_Delete(j);
}

static void test_python_big_response(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "python", python_handler("big"), "8388608",
                                     "--response-cap", "8388608", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_pattern(r, BIG_RESPONSE);
}

static void test_python_response_truncated(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "python", python_handler("big"), "8388608", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_pattern(r, DEFAULT_CAP);
  assert_last_line_has(r, "truncated at the 6.0 MiB cap");
}

static void test_python_failing(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "python", python_handler("fail"), "{}", "--timeout", "60");
  assert_vmm_status(r, 1);
  assert_vmm_stderr_has(r, "fail: about to raise\n");
  assert_vmm_stderr_has(r, "ValueError");
  assert_last_line_has(r, "handler failed with status 1");
}

static void test_python_timeout(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = RUN(t, "python", python_handler("spin"), "{}", "--timeout", "2");
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  assert_last_line_has(r, "timed out after 2 s");
}

static void test_python_logs(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      RUN(t, "python", python_handler("logger"), "{}", "--timeout", "60");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "the response\n");
  assert_vmm_stderr_has(r, "logger: first log line\n");
  assert_vmm_stderr_has(r, "logger: second log line\n");
}

/* ---- stdin as a regular file ------------------------------------------ */

/* posix_spawn hearth with stdin from `in_path`, stdout and stderr to files;
 * returns its exit status (or 1000 + signal). */
static int spawn_with_files(const char *const *argv, const char *in_path, const char *out_path,
                            const char *err_path, pid_t *pid_out) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, itest_vmm_environment());
  posix_spawn_file_actions_destroy(&fa);
  assert_int_equal(rc, 0);
  if (pid_out) {
    *pid_out = pid;
    return 0;
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static char *slurp_text(const char *path) {
  FILE *f = fopen(path, "re");
  assert_non_null(f);
  static char text[65536];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return text;
}

static void test_event_from_regular_file(void **state) {
  struct itest *t = *state;
  require_images();
  char in[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
  join(in, t->dir, "event.json");
  join(out, t->dir, "out");
  join(err, t->dir, "err");
  const char *event = "[ 1, {\"b\" : null} ]";
  int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_int_equal(write(fd, event, strlen(event)), (ssize_t)strlen(event));
  close(fd);
  const char *argv[MAX_ARGS];
  build_argv(t, image_dir("python"), example("python-echo"),
             (const char *const[]){"--timeout", "60", NULL}, argv);
  int status = spawn_with_files(argv, in, out, err, NULL);
  if (status != 0)
    fail_msg("status %d: %s", status, slurp_text(err));
  assert_string_equal(slurp_text(out), "[1,{\"b\":null}]");
  assert_vm_gone(t);
}

/* ---- concurrency, signals ----------------------------------------------- */

/* Four hearth runs at once, each in a child process: all succeed with
 * their own answers (two native, two python; one state directory). */
static void test_four_at_once(void **state) {
  struct itest *t = *state;
  require_images();
  pid_t kids[4];
  for (int i = 0; i < 4; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] > 0)
      continue;
    char event[32];
    snprintf(event, sizeof event, "{\"run\":%d}", i);
    const char *argv[MAX_ARGS];
    bool native = i % 2 == 0;
    build_argv(t, image_dir(native ? "base" : "python"),
               native ? native_handler("echo") : example("python-echo"),
               (const char *const[]){"--timeout", "60", NULL}, argv);
    echorun_child(i, HEARTH_CLI_PATH, argv, event, RUN_TIMEOUT_MS);
  }
  assert_int_equal(echorun_reap(kids, 4), 0);
  assert_vm_gone(t);
}

/* Waits (sleeping, bounded) until the run has a VM directory. */
static void wait_for_vm_dir(const struct itest *t) {
  char vms[PATH_MAX];
  join(vms, state_dir(t), "vms");
  for (int i = 0; i < 3000; i++) {
    DIR *d = opendir(vms);
    int entries = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
      entries += e->d_name[0] != '.';
    if (d)
      closedir(d);
    if (entries > 0)
      return;
    poll(NULL, 0, 10);
  }
  fail_msg("no VM directory appeared under %s", vms);
}

static void test_sigterm_cleans_up(void **state) {
  struct itest *t = *state;
  require_images();
  char out[PATH_MAX], err[PATH_MAX];
  join(out, t->dir, "out");
  join(err, t->dir, "err");
  const char *argv[MAX_ARGS];
  build_argv(t, image_dir("base"), native_handler("spin"),
             (const char *const[]){"--timeout", "60", NULL}, argv);
  pid_t pid;
  spawn_with_files(argv, "/dev/null", out, err, &pid);
  wait_for_vm_dir(t);
  poll(NULL, 0, 200); /* most likely in the middle of the invocation by now */
  assert_int_equal(kill(pid, SIGTERM), 0);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + SIGTERM)
    fail_msg("status %#x, stderr: %s", status, slurp_text(err));
  if (strstr(slurp_text(err), "interrupted by SIGTERM") == NULL)
    fail_msg("stderr: %s", slurp_text(err));
  assert_vm_gone(t);
}

/* ---- refusals ------------------------------------------------------- */

static void copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(in >= 0 && out >= 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
}

/* A copy of the base image with one byte of its manifest changed: refused
 * (125) before any VM exists, and nothing is left behind. */
static void test_tampered_image_refused(void **state) {
  struct itest *t = *state;
  require_images();
  char img[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
  join(img, t->dir, "tampered");
  assert_int_equal(mkdir(img, 0755), 0);
  const char *files[] = {"rootfs.tar", "manifest.json", "manifest.sig"};
  for (size_t i = 0; i < 3; i++) {
    join(from, image_dir("base"), files[i]);
    join(to, img, files[i]);
    copy_file(from, to);
  }
  join(to, img, "manifest.json");
  int fd = open(to, O_RDWR);
  char c;
  assert_int_equal(pread(fd, &c, 1, 10), 1);
  c ^= 0x01;
  assert_int_equal(pwrite(fd, &c, 1, 10), 1);
  close(fd);
  const struct spawn_result *r =
      run(t, img, native_handler("echo"), "x", 1, (const char *const[]){NULL});
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_last_line_has(r, "hearth: image refused: ");
  assert_int_equal(r->out_len, 0);
}

/* A zip whose entry climbs out of the bundle: refused on the host, with
 * the entry named, before any VM starts; nothing is written outside. */
static void test_zip_slip_refused(void **state) {
  struct itest *t = *state;
  require_images();
  char zip[PATH_MAX];
  join(zip, t->dir, "code.zip");
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  assert_int_equal(archive_write_open_filename(a, zip), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, "../../evil.sh");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0755);
  archive_entry_set_size(e, 5);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  archive_write_data(a, "boom\n", 5);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  const struct spawn_result *r =
      run(t, image_dir("base"), zip, "x", 1, (const char *const[]){NULL});
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_last_line_has(r, "code refused: '../../evil.sh': '..' is not allowed in paths");
  char vms[PATH_MAX];
  join(vms, state_dir(t), "vms");
  assert_int_not_equal(access(vms, F_OK), 0); /* refused before a VM directory was made */
}

static void test_not_an_archive(void **state) {
  struct itest *t = *state;
  char notes[PATH_MAX];
  join(notes, t->dir, "notes.txt");
  int fd = open(notes, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_int_equal(write(fd, "plain text\n", 11), 11);
  close(fd);
  const char *argv[MAX_ARGS];
  build_argv(t, image_dir("base"), notes, NULL, argv);
  spawn_result_free(&t->res);
  assert_int_equal(spawn_capture(HEARTH_CLI_PATH, (char *const *)argv, itest_vmm_environment(), "",
                                 0, RUN_TIMEOUT_MS, &t->res),
                   0);
  assert_vmm_status(&t->res, VMM_EXIT_FAILED);
  assert_last_line_has(&t->res, "is not an archive");
}

/* A --state-dir too long for a Unix socket path: a clear error, nothing made. */
static void test_state_dir_too_long(void **state) {
  struct itest *t = *state;
  char longdir[PATH_MAX];
  int n = snprintf(longdir, sizeof longdir, "%s/", t->dir);
  memset(longdir + n, 'd', 120);
  longdir[n + 120] = '\0';
  const char *argv[] = {HEARTH_CLI_PATH,
                        "run",
                        "--image",
                        image_dir("base"),
                        "--trust",
                        HEARTH_TEST_KEYS_DIR,
                        "--code",
                        native_handler("echo"),
                        "--state-dir",
                        longdir,
                        NULL};
  spawn_result_free(&t->res);
  assert_int_equal(spawn_capture(HEARTH_CLI_PATH, (char *const *)argv, itest_vmm_environment(), "",
                                 0, RUN_TIMEOUT_MS, &t->res),
                   0);
  assert_vmm_status(&t->res, VMM_EXIT_FAILED);
  assert_last_line_has(&t->res, "use a shorter --state-dir");
  assert_int_not_equal(access(longdir, F_OK), 0);
}

static void test_bad_flags(void **state) {
  struct itest *t = *state;
  const char *argv[] = {HEARTH_CLI_PATH, "run", "--image", "x", "--code", "y", NULL};
  spawn_result_free(&t->res);
  assert_int_equal(spawn_capture(HEARTH_CLI_PATH, (char *const *)argv, itest_vmm_environment(), "",
                                 0, RUN_TIMEOUT_MS, &t->res),
                   0);
  assert_vmm_status(&t->res, VMM_EXIT_FAILED);
  assert_vmm_stderr_has(&t->res, "missing --trust DIR");
}

/* ---- against fakevmm (no KVM needed) ---------------------------------- */

/* The test environment plus HEARTH_VMM (the fake) and FAKEVMM_MODE. */
static char **fake_env(const char *mode) {
  static char vmm[PATH_MAX + 16], mode_var[64];
  static char *env[600];
  snprintf(vmm, sizeof vmm, "HEARTH_VMM=%s", HEARTH_FAKEVMM_PATH);
  snprintf(mode_var, sizeof mode_var, "FAKEVMM_MODE=%s", mode);
  size_t n = 0;
  for (char **e = itest_vmm_environment(); *e && n + 3 < sizeof env / sizeof env[0]; e++)
    if (strncmp(*e, "HEARTH_VMM=", 11) != 0 && strncmp(*e, "FAKEVMM_MODE=", 13) != 0)
      env[n++] = *e;
  env[n++] = vmm;
  env[n++] = mode_var;
  env[n] = NULL;
  return env;
}

static const struct spawn_result *fake(struct itest *t, const char *mode, const char *code,
                                       const void *in, size_t in_len, const char *const *extra) {
  return run_env(t, image_dir("base"), code, in, in_len, extra, fake_env(mode));
}

#define FAKE(t, mode, code, in, ...)                                                               \
  fake((t), (mode), (code), (in), strlen(in), (const char *const[]){__VA_ARGS__, NULL})

/* What the host put in INVOKE, as the fake reports it in the logs. */
static void test_fake_invoke_members(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "echo", native_handler("echo"), "{\"a\": [1, 2.5e3]}",
                                      "--env", "A=1", "--env", "B=two words");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "{\"a\": [1, 2.5e3]}");
  assert_vmm_stderr_has(r, "content_type=application/json function=echo env=A=1,B=two words");
  assert_last_line_has(r, "hearth: ok, 1.8 ms (response 17 B)");
  r = FAKE(t, "echo", native_handler("echo"), "{\"a\": 1", "--timeout", "9");
  assert_vmm_status(r, 0);
  assert_vmm_stderr_has(r, "content_type=application/octet-stream ");
  r = FAKE(t, "echo", native_handler("echo"), "[]", "--content-type", "text/plain");
  assert_vmm_stderr_has(r, "content_type=text/plain ");
  r = FAKE(t, "echo", native_handler("echo"), "", "--timeout", "9");
  assert_vmm_status(r, 0);
  assert_vmm_stderr_has(r, "content_type=application/octet-stream "); /* empty: not JSON */
}

/* The function is named after --code, without an archive's extension. */
static void test_fake_function_name(void **state) {
  struct itest *t = *state;
  char tgz[PATH_MAX];
  join(tgz, t->dir, "my-function.tar.gz");
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  assert_int_equal(archive_write_open_filename(a, tgz), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, "handler");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0755);
  archive_entry_set_size(e, 3);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  archive_write_data(a, "abc", 3);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  const struct spawn_result *r = FAKE(t, "echo", tgz, "x", "--timeout", "9");
  assert_vmm_status(r, 0);
  assert_vmm_stderr_has(r, "function=my-function ");
}

/* Big events both ways at once: the fake writes each piece back before it
 * reads the next, so a host that stops reading while it sends would
 * deadlock. Spooled (content type detected) and streamed (given). */
static void test_fake_big_event_streams(void **state) {
  struct itest *t = *state;
  size_t len = 16u * MIB;
  char *event = malloc(len);
  assert_non_null(event);
  for (size_t i = 0; i < len; i++)
    event[i] = (char)PATTERN_BYTE(i);
  const char *const given[] = {"--content-type", "application/octet-stream", "--response-cap",
                               "32m", NULL};
  const char *const detected[] = {"--response-cap", "32m", NULL};
  const char *const *variants[] = {given, detected};
  for (size_t v = 0; v < 2; v++) {
    const struct spawn_result *r = fake(t, "echo", native_handler("echo"), event, len, variants[v]);
    assert_vmm_status(r, 0);
    assert_pattern(r, len);
  }
  /* Over --event-cap: refused, whether spooled or streamed. */
  const char *const capped_given[] = {"--content-type", "x/y", "--event-cap", "1m", NULL};
  const char *const capped[] = {"--event-cap", "1m", NULL};
  const char *const *capped_variants[] = {capped_given, capped};
  for (size_t v = 0; v < 2; v++) {
    const struct spawn_result *r =
        fake(t, "echo", native_handler("echo"), event, len, capped_variants[v]);
    assert_vmm_status(r, VMM_EXIT_FAILED);
    assert_last_line_has(r, "the event is larger than --event-cap (1.0 MiB)");
  }
  free(event);
}

static void test_fake_refused_image(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "refuse", native_handler("echo"), "x", "--timeout", "9");
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_last_line_has(r, "hearth: image refused: fake: the signature does not match");
}

static void test_fake_vm_crash(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "crash", native_handler("echo"), "x", "--timeout", "9");
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGSEGV));
  assert_last_line_has(r, "the VM died of SIGSEGV while invoking the handler");
}

static void test_fake_timeout(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "hang", native_handler("echo"), "x", "--timeout", "1");
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  assert_last_line_has(r, "timed out after 1 s while invoking the handler");
}

static void test_fake_refused_code(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "bad_code", native_handler("echo"), "x", "--timeout", "9");
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_last_line_has(r, "code refused by hearth-init: fake: the archive is not to my liking");
}

static void test_fake_protocol_error(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "garbage", native_handler("echo"), "x", "--timeout", "9");
  assert_vmm_status(r, VMM_EXIT_FAILED);
  assert_last_line_has(r, "protocol error while invoking the handler: bad frame");
}

static void test_fake_handler_status(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = FAKE(t, "status3", native_handler("echo"), "x", "--timeout", "9");
  assert_vmm_status(r, 3);
  assert_last_line_has(r, "handler failed with status 3");
}

/* SIGINT while the guest works: the VM is killed and removed, 128+2. */
static void test_fake_sigint(void **state) {
  struct itest *t = *state;
  char out[PATH_MAX], err[PATH_MAX];
  join(out, t->dir, "out");
  join(err, t->dir, "err");
  const char *argv[MAX_ARGS];
  build_argv(t, image_dir("base"), native_handler("echo"),
             (const char *const[]){"--timeout", "60", NULL}, argv);
  pid_t pid;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, fake_env("hang")), 0);
  posix_spawn_file_actions_destroy(&fa);
  wait_for_vm_dir(t);
  poll(NULL, 0, 200);
  assert_int_equal(kill(pid, SIGINT), 0);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + SIGINT)
    fail_msg("status %#x, stderr: %s", status, slurp_text(err));
  if (strstr(slurp_text(err), "interrupted by SIGINT") == NULL)
    fail_msg("stderr: %s", slurp_text(err));
  assert_vm_gone(t);
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_native_echo),
    HOST_TEST(test_native_json),
    HOST_TEST(test_native_big_response),
    HOST_TEST(test_native_response_truncated),
    HOST_TEST(test_native_failing),
    HOST_TEST(test_native_crash),
    HOST_TEST(test_native_timeout),
    HOST_TEST(test_native_logs),
    HOST_TEST(test_python_echo),
    HOST_TEST(test_python_json),
    HOST_TEST(test_python_big_response),
    HOST_TEST(test_python_response_truncated),
    HOST_TEST(test_python_failing),
    HOST_TEST(test_python_timeout),
    HOST_TEST(test_python_logs),
    HOST_TEST(test_event_from_regular_file),
    HOST_TEST(test_four_at_once),
    HOST_TEST(test_sigterm_cleans_up),
    HOST_TEST(test_tampered_image_refused),
    HOST_TEST(test_zip_slip_refused),
    HOST_TEST(test_not_an_archive),
    HOST_TEST(test_state_dir_too_long),
    HOST_TEST(test_bad_flags),
    HOST_TEST(test_fake_invoke_members),
    HOST_TEST(test_fake_function_name),
    HOST_TEST(test_fake_big_event_streams),
    HOST_TEST(test_fake_refused_image),
    HOST_TEST(test_fake_vm_crash),
    HOST_TEST(test_fake_timeout),
    HOST_TEST(test_fake_refused_code),
    HOST_TEST(test_fake_protocol_error),
    HOST_TEST(test_fake_handler_status),
    HOST_TEST(test_fake_sigint),
};

ITEST_MAIN(tests)
