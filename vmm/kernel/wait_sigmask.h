/* wait_sigmask.h - the temporary signal mask of ppoll(2) and epoll_pwait(2)
 * (and epoll_pwait2). The guest is one thread and nothing sends it a signal
 * while it waits, so the mask matters only for signals already pending,
 * blocked, when the call starts: when the temporary mask unblocks one, the
 * wait ends at once with -EINTR, as Linux's does, and the signal is
 * delivered as the call returns. */
#ifndef HEARTH_VMM_KERNEL_WAIT_SIGMASK_H
#define HEARTH_VMM_KERNEL_WAIT_SIGMASK_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

struct wait_sigmask {
  bool set; /* false: the call was given no mask */
  uint64_t mask;
};

/* Copies in the mask at gva (0: none). -EINVAL unless size is 8, -EFAULT. */
long wait_sigmask_get(struct vm *vm, uint64_t gva, uint64_t size, struct wait_sigmask *out);

/* The pending signals the mask lets through that the caller's own mask
 * blocks (0 without a mask). */
uint64_t wait_sigmask_ready(const struct vm *vm, const struct wait_sigmask *m);

/* Of `sigs`, those whose delivery does something: run a handler or end the
 * guest. Linux restarts ppoll unseen for the others (ignored signals). */
uint64_t wait_sigmask_acting(const struct vm *vm, uint64_t sigs);

/* Throws `sigs` away, as delivering an ignored signal does. */
void wait_sigmask_discard(struct vm *vm, uint64_t sigs);

/* Makes `sigs` deliverable when the call returns. */
void wait_sigmask_deliver(struct vm *vm, uint64_t sigs);

#endif
