/* test_clock.c - the guest's clocks (guest clock.c) against the host's:
 * the wall clock within a few seconds of ours, a monotonic clock that never
 * goes back, sleeps as long as asked, and the older time calls agreeing. */
#include "itest.h"

#include <stdio.h>
#include <time.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_clock(void **state) {
  struct itest *t = *state;
  char host_now[32];
  itest_put_guest(t, "clock", "/clock");
  snprintf(host_now, sizeof host_now, "%lld", (long long)time(NULL));
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/clock", host_now));
  assert_vmm_stdout(r, "clock: OK\n");
  assert_vmm_status(r, 0);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_clock),
};

ITEST_MAIN(tests)
