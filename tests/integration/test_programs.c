/* test_programs.c - ordinary static programs under hearth-vmm: stdout,
 * stdin, files from the root, argv and the environment, exit statuses,
 * a large allocation, the in-memory /tmp and --trace-syscalls. Each runs
 * against the gcc, musl and static-PIE builds of its guest. */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_hello(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "hello", "/hello");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/hello"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "hello from hearth\n");
}

static void test_echo_small(void **state) {
  struct itest *t = *state;
  static const char in[] = "one line\nand another\n";
  itest_put_guest(t, "echo", "/echo");
  const struct spawn_result *r = itest_vmm(t, in, strlen(in), ARGS("--", "/echo"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, in);
}

static void test_echo_empty_stdin(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "echo", "/echo");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/echo"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "");
}

/* 1 MiB of binary data, NULs included: far more than a pipe holds, so the
 * guest's reads and writes must block and resume correctly. */
static void test_echo_large(void **state) {
  struct itest *t = *state;
  size_t len = 1u << 20;
  unsigned char *in = malloc(len);
  assert_non_null(in);
  for (size_t i = 0; i < len; i++)
    in[i] = (unsigned char)(i * 131 + (i >> 9));
  itest_put_guest(t, "echo", "/echo");
  const struct spawn_result *r = itest_vmm(t, in, len, ARGS("--", "/echo"));
  assert_vmm_status(r, 0);
  assert_int_equal(r->out_len, len);
  assert_memory_equal(r->out, in, len);
  free(in);
}

static void test_readfile(void **state) {
  struct itest *t = *state;
  static const char text[] = "a file inside the root\nsecond line\n";
  itest_put_guest(t, "readfile", "/readfile");
  itest_put_file(t, "/data.txt", text, strlen(text), 0644);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/readfile", "/data.txt"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, text);
}

/* A nested, multi-page binary file: reads that span pages and a ragged end. */
static void put_big_file(struct itest *t, unsigned char **data, size_t *len) {
  *len = 3 * 65536 + 77;
  *data = malloc(*len);
  assert_non_null(*data);
  for (size_t i = 0; i < *len; i++)
    (*data)[i] = (unsigned char)(i ^ (i >> 8) ^ (i >> 16));
  itest_mkdir(t, "/sub");
  itest_mkdir(t, "/sub/dir");
  itest_put_file(t, "/sub/dir/big.bin", *data, *len, 0644);
}

static void test_readfile_nested_large(void **state) {
  struct itest *t = *state;
  unsigned char *data;
  size_t len;
  itest_put_guest(t, "readfile", "/readfile");
  put_big_file(t, &data, &len);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/readfile", "/sub/dir/big.bin"));
  assert_vmm_status(r, 0);
  assert_int_equal(r->out_len, len);
  assert_memory_equal(r->out, data, len);
  free(data);
}

static void test_readfile_relative_to_cwd(void **state) {
  struct itest *t = *state;
  unsigned char *data;
  size_t len;
  itest_put_guest(t, "readfile", "/readfile");
  put_big_file(t, &data, &len);
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--cwd", "/sub", "--", "/readfile", "dir/big.bin"));
  assert_vmm_status(r, 0);
  assert_int_equal(r->out_len, len);
  assert_memory_equal(r->out, data, len);
  free(data);
}

static void test_readfile_missing(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "readfile", "/readfile");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/readfile", "/no/such"));
  assert_vmm_status(r, 1);
  assert_vmm_stdout(r, "");
  assert_vmm_stderr_has(r, "readfile: /no/such: No such file or directory");
}

static void test_args_and_env(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "args", "/args");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0,
                ARGS("--env", "FOO=bar", "--env", "EMPTY=", "--env", "PATH=/bin", "--", "/args",
                     "one", "two words", ""));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "argc=4\n"
                       "argv[0]=/args\n"
                       "argv[1]=one\n"
                       "argv[2]=two words\n"
                       "argv[3]=\n"
                       "env=FOO=bar\n"
                       "env=EMPTY=\n"
                       "env=PATH=/bin\n"
                       "envc=3\n");
}

/* hearth-vmm's own environment (with a marker the harness adds) stays out. */
static void test_env_starts_empty(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "args", "/args");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/args"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "argc=1\nargv[0]=/args\nenvc=0\n");
}

static void test_exit_codes(void **state) {
  struct itest *t = *state;
  static const struct {
    const char *arg;
    int status;
  } cases[] = {{"0", 0}, {"1", 1}, {"42", 42}, {"255", 255}, {"256", 0}, {"300", 44}};
  itest_put_guest(t, "exitcode", "/exitcode");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    print_message("exitcode %s\n", cases[i].arg);
    const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/exitcode", cases[i].arg));
    assert_vmm_status(r, cases[i].status);
  }
}

static void test_bigalloc(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "bigalloc", "/bigalloc");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/bigalloc"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "OK\n");
}

/* 64 MiB cannot fit in 48 MiB of guest memory: malloc must fail cleanly
 * (mmap answers ENOMEM), and the program goes on to report it. */
static void test_bigalloc_too_little_memory(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "bigalloc", "/bigalloc");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--mem", "48", "--", "/bigalloc"));
  assert_vmm_status(r, 1);
  assert_vmm_stdout(r, "malloc failed\n");
}

static void test_tmpfile(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "tmpfile", "/tmpfile");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/tmpfile"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "OK\n");
}

static char *read_trace(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* One line per system call into the file, none into the guest's output. */
static void test_trace_syscalls_to_file(void **state) {
  struct itest *t = *state;
  char flag[PATH_MAX + 32];
  snprintf(flag, sizeof flag, "--trace-syscalls=%s", t->trace);
  itest_put_guest(t, "hello", "/hello");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS(flag, "--", "/hello"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "hello from hearth\n");
  const char *trace = read_trace(t->trace);
  assert_non_null(strstr(trace, "write")); /* glibc's puts writes, musl's writev */
  assert_non_null(strstr(trace, "exit_group("));
  assert_non_null(strchr(trace, '\n'));
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_hello),
    GUEST_TEST(test_echo_small),
    GUEST_TEST(test_echo_empty_stdin),
    GUEST_TEST(test_echo_large),
    GUEST_TEST(test_readfile),
    GUEST_TEST(test_readfile_nested_large),
    GUEST_TEST(test_readfile_relative_to_cwd),
    GUEST_TEST(test_readfile_missing),
    GUEST_TEST(test_args_and_env),
    GUEST_TEST(test_env_starts_empty),
    GUEST_TEST(test_exit_codes),
    GUEST_TEST(test_bigalloc),
    GUEST_TEST(test_bigalloc_too_little_memory),
    GUEST_TEST(test_tmpfile),
    GUEST_TEST(test_trace_syscalls_to_file),
};

ITEST_MAIN(tests)
