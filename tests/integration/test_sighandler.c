/* test_sighandler.c - signal handlers inside the guest (guest sighandler.c):
 * siginfo, vector and MXCSR state across a handler, delivery at unblock,
 * the alternate stack, siglongjmp (with system calls rewritten and through
 * the LSTAR stub), and SA_RESETHAND's second raise ending the program with
 * 128 + SIGTERM. */
#include "itest.h"

#include <signal.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_sighandler(struct itest *t, const char *const *args) {
  itest_put_guest(t, "sighandler", "/sighandler");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, args);
  /* The guest must see AVX when we do (XCR0), or its ymm check is lost. */
  assert_vmm_stdout(r, __builtin_cpu_supports("avx") ? "sighandler: OK (ymm0-15)\n"
                                                     : "sighandler: OK (xmm0-15)\n");
  assert_vmm_status(r, 0);
}

static void test_sighandler(void **state) { run_sighandler(*state, ARGS("--", "/sighandler")); }

/* Every system call through the LSTAR stub: the frame must return to RCX. */
static void test_sighandler_no_rewrite(void **state) {
  run_sighandler(*state, ARGS("--no-rewrite", "--", "/sighandler"));
}

static void test_sighandler_resethand(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "sighandler", "/sighandler");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/sighandler", "resethand"));
  assert_vmm_stdout(r, "");
  assert_vmm_stderr_has(r, "sighandler: raising SIGTERM again");
  assert_vmm_status(r, VMM_EXIT_SIGNAL(SIGTERM));
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_sighandler),
    GUEST_TEST(test_sighandler_no_rewrite),
    GUEST_TEST(test_sighandler_resethand),
};

ITEST_MAIN(tests)
