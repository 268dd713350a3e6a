/* sleep.h - blocking the vCPU thread on behalf of the guest (nanosleep,
 * clock_nanosleep, futex waits nobody else can end). Blocking is real: the
 * thread sleeps in the host, never polls, and wakes when its deadline comes
 * or when the VMM wants the vCPU back (--timeout, a control request). The
 * VMM's timeout must reach this thread as a signal with a handler that sets
 * vm->vcpu_wanted (as an alarm() in the single-threaded VMM does). */
#ifndef HEARTH_VMM_SLEEP_H
#define HEARTH_VMM_SLEEP_H

#include <time.h>

struct vm;

/* Sleeps until the absolute `deadline` on host clock clk, or, with deadline
 * NULL, until the VM is stopped. 0 once the deadline has passed; -EINTR
 * when the VM is being stopped (vm->vcpu_wanted, or vm->stop set). */
int sleep_until(struct vm *vm, clockid_t clk, const struct timespec *deadline);

#endif
