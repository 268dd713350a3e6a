/* test_signals.c - programs that end abnormally: abort (134), a NULL write
 * (139 plus one line naming the fault and the guest RIP), SIGPIPE on a pipe
 * without reader (141), and a loop that only --timeout ends (124). */
#include "itest.h"

#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_abort(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "abort", "/abort");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/abort"));
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGABRT));
  assert_vmm_stderr_has(r, "abort: calling abort()");
}

static bool contains_nocase(const char *line, size_t len, const char *word) {
  size_t wlen = strlen(word);
  for (size_t i = 0; i + wlen <= len; i++) {
    if (strncasecmp(line + i, word, wlen) == 0)
      return true;
  }
  return false;
}

/* A line of hearth-vmm's stderr that names a fault and gives a hex RIP. */
static bool has_crash_line(const char *err) {
  static const char *const names[] = {"fault", "sigsegv", "segmentation", "crash"};
  for (const char *line = err; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    bool named = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      named = named || contains_nocase(line, len, names[i]);
    if (named && contains_nocase(line, len, "rip") && contains_nocase(line, len, "0x"))
      return true;
    line += len + (line[len] == '\n');
  }
  return false;
}

static void test_crash(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "crash", "/crash");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/crash"));
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGSEGV));
  assert_vmm_stdout(r, "");
  assert_vmm_stderr_has(r, "crash: writing through NULL");
  if (!has_crash_line(r->err))
    fail_msg("no stderr line names the fault with the guest RIP (\"... fault ... rip 0x...\"):\n%s",
             r->err);
}

static void test_sigpipe(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "sigpipe", "/sigpipe");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/sigpipe"));
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGPIPE));
  assert_vmm_stdout(r, "");
}

static void test_spin_timeout(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "spin", "/spin");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--timeout", "1", "--", "/spin"));
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  assert_vmm_stderr_has(r, "spin: looping forever");
  if (r->seconds < 0.9 || r->seconds > 10)
    fail_msg("--timeout 1 ended the VM after %.3f s", r->seconds);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_abort),
    GUEST_TEST(test_crash),
    GUEST_TEST(test_sigpipe),
    GUEST_TEST(test_spin_timeout),
};

ITEST_MAIN(tests)
