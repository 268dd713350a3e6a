/* test_init.c - hearth-init's session steps (guest-init/init_*.c) on the
 * host, over a socketpair standing in for the vsock connection: HELLO's
 * contents, LOAD and the CODE stream unpacked into a temporary directory,
 * the ERROR frames for refused code, protocol breaches and bad handlers,
 * INVOKE parsing into the environment, and the command line. The vsock
 * listener and execve are left to the VM integration tests. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "init_args.h"
#include "init_env.h"
#include "init_exec.h"
#include "init_invoke.h"
#include "init_session.h"
#include "proto/frame_io.h"
#include "proto/json.h"

struct fixture {
  int guest, host; /* the two ends of the connection */
  char dir[64];    /* the code directory */
  int code;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -1;
  f->guest = sv[0];
  f->host = sv[1];
  strcpy(f->dir, "/tmp/hearth-init-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  f->code = open(f->dir, O_RDONLY | O_DIRECTORY);
  *state = f;
  return f->code < 0 ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static int teardown(void **state) {
  struct fixture *f = *state;
  if (f->guest >= 0)
    close(f->guest);
  close(f->host);
  close(f->code);
  nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* ---- the host's side ----------------------------------------------------- */

static void host_load(struct fixture *f, const char *json) {
  assert_int_equal(hf_write_frame(f->host, HF_LOAD, 0, json, (uint32_t)strlen(json)), 0);
}

/* A one-file ustar archive: header, data, end marker (2048 bytes). */
static void tar_one(uint8_t out[2048], const char *name, const char *data, unsigned mode) {
  memset(out, 0, 2048);
  memcpy(out, name, strlen(name));
  snprintf((char *)out + 100, 8, "%07o", mode);
  snprintf((char *)out + 124, 12, "%011o", (unsigned)strlen(data) & 07777);
  out[156] = '0';
  memcpy(out + 257,
         "ustar\0"
         "00",
         8);
  memset(out + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += out[i];
  snprintf((char *)out + 148, 8, "%06o", sum);
  memcpy(out + 512, data, strlen(data));
}

/* The archive as DATA(CODE) frames of `piece` bytes, then END(CODE). */
static void host_code(struct fixture *f, const uint8_t *tar, size_t len, size_t piece) {
  for (size_t pos = 0; pos < len; pos += piece) {
    size_t n = len - pos < piece ? len - pos : piece;
    assert_int_equal(hf_write_frame(f->host, HF_DATA, HF_STREAM_CODE, tar + pos, (uint32_t)n), 0);
  }
  assert_int_equal(hf_write_frame(f->host, HF_END, HF_STREAM_CODE, NULL, 0), 0);
}

/* The next frame the guest sent: its type, its JSON parsed into doc. */
static int host_read(struct fixture *f, char *buf, size_t cap, struct json_doc *doc) {
  struct hf_header h;
  int type = hf_read_control(f->host, buf, cap, &h);
  assert_true(type > 0);
  assert_int_equal(json_parse(doc, buf, h.length), 0);
  return type;
}

/* The guest sent ERROR with this code and a message holding part. */
static void expect_error(struct fixture *f, const char *code, const char *part) {
  char buf[8192], s[4200];
  struct json_doc doc;
  assert_int_equal(host_read(f, buf, sizeof buf, &doc), HF_ERROR);
  assert_true(json_get_string(&doc, "code", s, sizeof s) > 0);
  assert_string_equal(s, code);
  assert_true(json_get_string(&doc, "message", s, sizeof s) > 0);
  if (!strstr(s, part))
    fail_msg("message \"%s\" lacks \"%s\"", s, part);
}

/* ---- tests -------------------------------------------------------------- */

static void test_hello(void **state) {
  struct fixture *f = *state;
  char id[INIT_BOOT_ID_LEN + 1], id2[INIT_BOOT_ID_LEN + 1];
  assert_int_equal(session_boot_id(id), 0);
  assert_int_equal(session_boot_id(id2), 0);
  assert_int_equal(strlen(id), 32);
  assert_int_equal(strspn(id, "0123456789abcdef"), 32);
  assert_string_not_equal(id, id2);
  assert_int_equal(session_hello(f->guest, "base", "native", id), 0);
  char buf[512], s[64];
  struct json_doc doc;
  uint64_t v;
  assert_int_equal(host_read(f, buf, sizeof buf, &doc), HF_HELLO);
  assert_int_equal(json_get_u64(&doc, "protocol", &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(json_get_string(&doc, "image", s, sizeof s), 4);
  assert_string_equal(s, "base");
  assert_int_equal(json_get_string(&doc, "runtime", s, sizeof s), 6);
  assert_int_equal(json_get_string(&doc, "boot_id", s, sizeof s), 32);
  assert_string_equal(s, id);
}

static void test_load_and_loaded(void **state) {
  struct fixture *f = *state;
  uint8_t tar[2048];
  tar_one(tar, "bin/run", "#!/bin/true\n", 0755);
  host_load(f, "{\"format\":\"tar\",\"handler\":\"./bin//run\",\"extra\":[1]}");
  host_code(f, tar, sizeof tar, 100); /* pieces that cut headers */
  char handler[256];
  struct code_totals totals;
  assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals), 0);
  assert_string_equal(handler, "bin/run");
  assert_int_equal(totals.files, 2); /* bin, bin/run */
  assert_int_equal(totals.bytes, 12);
  assert_int_equal(exec_check_native(f->guest, f->code, handler), 0);
  assert_int_equal(session_loaded(f->guest, &totals, "native"), 0);
  char buf[256];
  struct json_doc doc;
  assert_int_equal(host_read(f, buf, sizeof buf, &doc), HF_LOADED);
  assert_string_equal(buf, "{\"files\":2,\"bytes\":12,\"runtime\":\"native\"}");
}

static void test_default_handler(void **state) {
  struct fixture *f = *state;
  uint8_t tar[2048];
  tar_one(tar, "handler.py", "def handler(e): pass\n", 0644);
  host_load(f, "{\"format\":\"tar\"}");
  host_code(f, tar, sizeof tar, 4096);
  char handler[256];
  struct code_totals totals;
  assert_int_equal(session_load(f->guest, f->code, "handler.py", handler, sizeof handler, &totals),
                   0);
  assert_string_equal(handler, "handler.py");
  /* Present but not executable: refused for the native runtime. */
  assert_int_equal(exec_check_native(f->guest, f->code, handler), -EACCES);
  expect_error(f, "handler_not_executable", "no execute permission");
  assert_int_equal(exec_check_native(f->guest, f->code, "nope"), -ENOENT);
  expect_error(f, "handler_missing", "nope");
}

static void test_bad_code(void **state) {
  struct fixture *f = *state;
  uint8_t tar[2048];
  tar_one(tar, "../escape", "x", 0644);
  host_load(f, "{\"format\":\"tar\"}");
  host_code(f, tar, sizeof tar, 2048);
  char handler[256];
  struct code_totals totals;
  assert_true(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals) < 0);
  expect_error(f, "bad_code", "../escape: '..' is not allowed");
}

static void test_truncated_code(void **state) {
  struct fixture *f = *state;
  uint8_t tar[2048];
  tar_one(tar, "a", "x", 0644);
  host_load(f, "{}");
  host_code(f, tar, 600, 600);
  char handler[256];
  struct code_totals totals;
  assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals),
                   -EPIPE);
  expect_error(f, "bad_code", "truncated");
}

static void test_protocol_breaches(void **state) {
  struct fixture *f = *state;
  char handler[256];
  struct code_totals totals;
  /* Something other than LOAD first. */
  assert_int_equal(hf_write_frame(f->host, HF_INVOKE, 0, "{}", 2), 0);
  assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals),
                   -EPROTO);
  expect_error(f, "protocol", "expected load, got invoke");
  /* A frame of another stream inside the CODE stream. */
  host_load(f, "{}");
  assert_int_equal(hf_write_frame(f->host, HF_DATA, HF_STREAM_EVENT, "x", 1), 0);
  assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals),
                   -EPROTO);
  expect_error(f, "protocol", "unexpected data frame (stream 2)");
  char left;
  assert_int_equal(read(f->guest, &left, 1), 1); /* its payload, unread (init exits here) */
  /* Bad LOAD members. */
  const char *loads[] = {"{\"format\":\"zip\"}", "{\"handler\":\"../h\"}", "{\"handler\":\"/abs\"}",
                         "{\"handler\":7}", "{bad json"};
  const char *why[] = {"format", "'..'", "absolute", "must be a string", "malformed"};
  for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
    host_load(f, loads[i]);
    assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals),
                     -EINVAL);
    expect_error(f, "bad_load", why[i]);
  }
  /* A header the codec refuses, and a host that hangs up. */
  assert_int_equal(write(f->host, "HELLO!!!", 8), 8);
  assert_true(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals) < 0);
  expect_error(f, "protocol", "load");
  shutdown(f->host, SHUT_WR);
  assert_int_equal(session_load(f->guest, f->code, "handler", handler, sizeof handler, &totals),
                   -ECONNRESET);
}

/* Runs fn(f) in a child process (exec_* end in execve); its exit status. */
static int in_child(struct fixture *f, int (*fn)(struct fixture *)) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(fn(f));
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* The runtime writes what it was given onto the inherited connection. */
static int run_python(struct fixture *f) {
  static char *argv[] = {"/bin/sh", "-c",
                         "printf '%s|%s|%s|%s|%s|%s|%s' \"$HEARTH_HANDLER\" "
                         "\"$HEARTH_CODE_FILES\" \"$HEARTH_CODE_BYTES\" \"$HEARTH_IMAGE\" "
                         "\"$HEARTH_BOOT_ID\" \"$KEPT\" \"$HEARTH_FD\" >&$HEARTH_FD",
                         NULL};
  struct init_args args = {
      .image = "python", .runtime = INIT_PYTHON, .code_dir = "/code", .runtime_argv = argv};
  struct code_totals totals = {.files = 12, .bytes = 3456};
  setenv("KEPT", "image-env", 1);
  return exec_python(f->guest, &args, "app/main.py", &totals, "00ff");
}

static void test_exec_python(void **state) {
  struct fixture *f = *state;
  assert_int_equal(in_child(f, run_python), 0);
  char got[256] = {0}, want[256];
  /* HEARTH_FD is the connection's number, the same in the child. */
  snprintf(want, sizeof want, "/code/app/main.py|12|3456|python|00ff|image-env|%d", f->guest);
  close(f->guest);
  f->guest = -1;
  assert_int_equal(read(f->host, got, sizeof got - 1), (ssize_t)strlen(want));
  assert_string_equal(got, want);
}

static int run_native(struct fixture *f) { return exec_native(f->guest, "/code", "handler"); }

/* On a kernel without hearth's ioctl (this host) the native path reads
 * INVOKE, then reports that framing stdio failed. */
static void test_exec_native_without_vmm(void **state) {
  struct fixture *f = *state;
  const char *inv = "{\"request_id\":\"r\",\"content_type\":\"t\"}";
  assert_int_equal(hf_write_frame(f->host, HF_INVOKE, 0, inv, (uint32_t)strlen(inv)), 0);
  assert_int_equal(in_child(f, run_native), 1);
  expect_error(f, "internal", "HEARTH_IOC_FRAME_STDIO");
  const char *bad = "{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":{\"=\":\"\"}}";
  assert_int_equal(hf_write_frame(f->host, HF_INVOKE, 0, bad, (uint32_t)strlen(bad)), 0);
  assert_int_equal(in_child(f, run_native), 1);
  expect_error(f, "bad_invoke", "env key");
}

static void test_invoke_parse(void **state) {
  (void)state;
  char *base[] = {"PATH=/usr/bin", "LANG=C.UTF-8", "KEEP=1", NULL};
  struct init_env env;
  struct invoke inv;
  char why[256];
  assert_int_equal(init_env_start(&env, base, 300), 0);
  const char *json = "{\"request_id\":\"r-1\",\"content_type\":\"text/plain\",\"function\":\"f\","
                     "\"env\":{\"LANG\":\"en_US.UTF-8\",\"NEW\":\"a=b\\n\",\"PATH\":\"\"},"
                     "\"response_cap\":100,\"log_cap\":7,\"timeout_ms\":5}";
  assert_int_equal(invoke_parse(json, strlen(json), &inv, &env, why, sizeof why), 0);
  assert_string_equal(inv.request_id, "r-1");
  assert_string_equal(inv.function, "f");
  assert_int_equal(inv.response_cap, 100);
  assert_int_equal(inv.log_cap, 7);
  assert_int_equal(env.n, 4);
  assert_string_equal(env.vars[0], "PATH=");
  assert_string_equal(env.vars[1], "LANG=en_US.UTF-8");
  assert_string_equal(env.vars[2], "KEEP=1");
  assert_string_equal(env.vars[3], "NEW=a=b\n");
  assert_null(env.vars[4]);
  invoke_free(&inv);
  init_env_free(&env);

  struct {
    const char *json, *why;
  } bad[] = {
      {"{\"content_type\":\"t\"}", "request_id"},
      {"{\"request_id\":\"\",\"content_type\":\"t\"}", "request_id"},
      {"{\"request_id\":\"r\"}", "content_type"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":{\"A=B\":\"x\"}}", "A=B"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":{\"\":\"x\"}}", "empty"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":{\"A\":1}}", "env"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":[]}", "env"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"log_cap\":-1}", "log_cap"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"timeout_ms\":9007199254740992}",
       "too large"},
      {"{\"request_id\":\"r\",\"content_type\":\"t\",\"env\":{\"A\":\"\\u0000\"}}", "env"},
      {"{\"request_id\":\"r\"", "malformed"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(init_env_start(&env, base, 300), 0);
    int err = invoke_parse(bad[i].json, strlen(bad[i].json), &inv, &env, why, sizeof why);
    if (err != -EINVAL || !strstr(why, bad[i].why))
      fail_msg("%s: %d \"%s\"", bad[i].json, err, why);
    init_env_free(&env);
  }
}

static void test_env_room(void **state) {
  (void)state;
  struct init_env env;
  assert_int_equal(init_env_start(&env, NULL, 2), 0);
  assert_int_equal(init_env_set(&env, "A", "1"), 0);
  assert_int_equal(init_env_set(&env, "A", "2"), 0); /* replacing takes a slot too */
  assert_int_equal(init_env_set(&env, "B", "3"), -E2BIG);
  assert_int_equal(env.n, 1);
  assert_string_equal(env.vars[0], "A=2");
  assert_int_equal(init_env_set(&env, "=", "x"), -EINVAL);
  init_env_free(&env);
}

static void test_args(void **state) {
  (void)state;
  struct init_args a;
  char err[256];
  char *ok1[] = {"hearth-init", "--image", "base", "--runtime", "native", NULL};
  assert_int_equal(init_args_parse(5, ok1, &a, err, sizeof err), 0);
  assert_string_equal(a.image, "base");
  assert_int_equal(a.runtime, INIT_NATIVE);
  assert_string_equal(a.code_dir, "/code");
  assert_null(a.runtime_argv[0]);
  char *ok2[] = {"hearth-init", "--runtime", "python",           "--image", "py",       "--code",
                 "/c",          "--",        "/usr/bin/python3", "-I",      "/shim.py", NULL};
  assert_int_equal(init_args_parse(11, ok2, &a, err, sizeof err), 0);
  assert_int_equal(a.runtime, INIT_PYTHON);
  assert_string_equal(a.code_dir, "/c");
  assert_string_equal(a.runtime_argv[0], "/usr/bin/python3");
  assert_string_equal(a.runtime_argv[2], "/shim.py");
  assert_null(a.runtime_argv[3]);
  char *bad1[] = {"hearth-init", "--runtime", "python", "--image", "py", NULL};
  assert_int_equal(init_args_parse(5, bad1, &a, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "RUNTIME_ARGV"));
  char *bad2[] = {"hearth-init", "--runtime", "ruby", "--image", "x", NULL};
  assert_int_equal(init_args_parse(5, bad2, &a, err, sizeof err), -EINVAL);
  char *bad3[] = {"hearth-init", "--runtime", "native", NULL};
  assert_int_equal(init_args_parse(3, bad3, &a, err, sizeof err), -EINVAL);
  char *bad4[] = {"hearth-init", "--image", NULL};
  assert_int_equal(init_args_parse(2, bad4, &a, err, sizeof err), -EINVAL);
  char *bad5[] = {"hearth-init", "--image", "b", "--runtime", "native", "--", "x", NULL};
  assert_int_equal(init_args_parse(7, bad5, &a, err, sizeof err), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_and_loaded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_default_handler, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_code, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_code, setup, teardown),
      cmocka_unit_test_setup_teardown(test_protocol_breaches, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exec_python, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exec_native_without_vmm, setup, teardown),
      cmocka_unit_test(test_invoke_parse),
      cmocka_unit_test(test_env_room),
      cmocka_unit_test(test_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
