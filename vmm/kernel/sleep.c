/* sleep.c - real blocking for the guest's sleeps and waits (sleep.h). The
 * stop check and the wait are made atomic with respect to signals: every
 * signal is blocked while vm->vcpu_wanted is checked, and ppoll() opens
 * the original mask only for the wait itself, so a timeout arriving between
 * the two cannot be missed. */
#include "sleep.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "log.h"
#include "timespec.h"
#include "vm.h"

static bool sleep_vm_stopping(const struct vm *vm) {
  return vm->vcpu_wanted || vm->stop != VM_RUNNING;
}

static int sleep_wait(struct vm *vm, clockid_t clk, const struct timespec *deadline,
                      const sigset_t *wake_mask) {
  for (;;) {
    if (sleep_vm_stopping(vm))
      return -EINTR;
    struct timespec left, *timeout = NULL;
    if (deadline) {
      struct timespec now;
      clock_gettime(clk, &now);
      left = ts_until(*deadline, now);
      if (ts_is_zero(left))
        return 0;
      timeout = &left;
    }
    /* No descriptors: only the timeout or a signal ends the wait. */
    if (ppoll(NULL, 0, timeout, wake_mask) < 0 && errno != EINTR) {
      vlog(VLOG_ERROR, "cannot sleep: ppoll: %s", strerror(errno));
      vm_stop_error(vm);
      return -EINTR;
    }
  }
}

int sleep_until(struct vm *vm, clockid_t clk, const struct timespec *deadline) {
  sigset_t all, orig;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &orig);
  int rc = sleep_wait(vm, clk, deadline, &orig);
  pthread_sigmask(SIG_SETMASK, &orig, NULL);
  return rc;
}
