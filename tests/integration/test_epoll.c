/* test_epoll.c - epoll in a real microVM (guest epoll.c): level, edge and
 * one-shot items, epoll_ctl's and epoll_wait's errors, closed fds, poll on
 * an epoll fd and nesting; epoll_pwait/ppoll masks letting a pending signal
 * through (EINTR and the handler runs); a wait woken by the host writing
 * hearth-vmm's stdin; and a wait nothing can end, ended by --timeout. */
#include "itest.h"

#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_epoll_basic(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "epoll", "/epoll");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/epoll", "basic"));
  assert_vmm_stdout(r, "epoll: basic OK\n");
  assert_vmm_status(r, 0);
}

static void test_epoll_signal(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "epoll", "/epoll");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/epoll", "signal"));
  assert_vmm_stdout(r, "epoll: signal OK\n");
  assert_vmm_status(r, 0);
}

/* The guest waits with no timeout on fd 0: only the host's data ends it. */
static void test_epoll_stdin(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "epoll", "/epoll");
  const char in[] = "from the host";
  const struct spawn_result *r = itest_vmm(t, in, strlen(in), ARGS("--", "/epoll", "stdin"));
  assert_vmm_stdout(r, "stdin: from the host\nepoll: stdin OK\n");
  assert_vmm_status(r, 0);
}

static void test_epoll_forever_ends_at_timeout(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "epoll", "/epoll");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--timeout", "1", "--", "/epoll", "forever"));
  assert_vmm_status(r, VMM_EXIT_TIMEOUT);
  assert_vmm_stdout(r, "");
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_epoll_basic),
    GUEST_TEST(test_epoll_signal),
    GUEST_TEST(test_epoll_stdin),
    GUEST_TEST(test_epoll_forever_ends_at_timeout),
};

ITEST_MAIN(tests)
