/* test_trace.c - the format of --trace-syscalls=FILE: one line per system
 * call (as many lines as --stats counts calls), each "name(args) = result
 * <seconds>", string arguments quoted, failures as "= -1 ENAME", and no
 * guest-chosen string able to split or forge a line. */
#include "itest.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TRACE_CAP (1u << 20)

/* A whole host file, NUL-terminated, in a static buffer. */
static const char *read_host_file(const char *path) {
  static char buf[TRACE_CAP];
  FILE *f = fopen(path, "r");
  if (f == NULL)
    fail_msg("cannot open %s", path);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static unsigned long stats_syscalls(const char *path) {
  const char *json = read_host_file(path);
  const char *at = strstr(json, "\"syscalls\":");
  if (at == NULL)
    fail_msg("no \"syscalls\" in %s: %s", path, json);
  return strtoul(at + strlen("\"syscalls\":"), NULL, 10);
}

/* Every line is "name(...) = result <seconds>"; returns how many. */
static unsigned long check_lines(const char *trace) {
  regex_t re;
  assert_int_equal(regcomp(&re, "^[a-z_][a-z0-9_]*\\(.*\\) = [^ ].* <[0-9]+\\.[0-9]+>$",
                           REG_EXTENDED | REG_NOSUB),
                   0);
  unsigned long lines = 0;
  for (const char *line = trace; *line != '\0'; lines++) {
    size_t len = strcspn(line, "\n");
    if (line[len] != '\n')
      fail_msg("the trace's last line has no newline: %s", line);
    char *copy = strndup(line, len);
    assert_non_null(copy);
    if (regexec(&re, copy, 0, NULL, 0) != 0)
      fail_msg("trace line %lu is not \"name(args) = result <seconds>\": %s", lines + 1, copy);
    free(copy);
    line += len + 1;
  }
  regfree(&re);
  return lines;
}

/* Runs fsops's openat mode on `path` with the trace and stats on. */
static const char *traced_openat(struct itest *t, const char *path) {
  char trace_flag[PATH_MAX + 32];
  snprintf(trace_flag, sizeof trace_flag, "--trace-syscalls=%s", t->trace);
  itest_put_guest(t, "fsops", "/fsops");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS(trace_flag, "--stats", t->stats, "--", "/fsops", "openat", path));
  assert_vmm_stdout(r, "fsops: openat OK\n");
  assert_vmm_status(r, 0);
  unsigned long calls = stats_syscalls(t->stats);
  const char *trace = read_host_file(t->trace);
  unsigned long lines = check_lines(trace);
  if (lines != calls)
    fail_msg("%lu trace lines for %lu system calls:\n%s", lines, calls, trace);
  return trace;
}

/* The line of the failed openat names the call, quotes the path and gives
 * -1 with the errno's name. */
static void test_trace_format(void **state) {
  struct itest *t = *state;
  const char *trace = traced_openat(t, "/no/such/file");
  const char *line = strstr(trace, "openat(AT_FDCWD, \"/no/such/file\"");
  if (line == NULL)
    fail_msg("no openat(AT_FDCWD, \"/no/such/file\" ... line in:\n%s", trace);
  size_t len = strcspn(line, "\n");
  const char *result = strstr(line, ") = -1 ENOENT");
  if (result == NULL || result > line + len)
    fail_msg("the openat line does not end in \"= -1 ENOENT\": %.*s", (int)len, line);
  assert_non_null(strstr(trace, "exit_group(0)"));
}

/* A path with a newline and a quote (legal in Linux file names) must not
 * split the call over two lines or end its quoted string early. */
static void test_trace_escapes_guest_strings(void **state) {
  struct itest *t = *state;
  const char *trace = traced_openat(t, "/no/such\nfile\" = 0 <0.000001>");
  if (strstr(trace, "\"/no/such\n") != NULL)
    fail_msg("a raw newline from the guest's path is in the trace:\n%s", trace);
  if (strstr(trace, "openat(AT_FDCWD, \"/no/such\\nfile\\\" = 0 <0.000001>\"") == NULL)
    fail_msg("the path is not quoted with \\n and \\\" escaped as strace does:\n%s", trace);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_trace_format),
    GUEST_TEST(test_trace_escapes_guest_strings),
};

ITEST_MAIN(tests)
