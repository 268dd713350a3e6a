/* wait_sigmask.h - the temporary signal mask of ppoll(2) and epoll_pwait(2)
 * (and epoll_pwait2), as Linux applies it: the mask replaces the caller's
 * for the whole call, the caller's kept in sig_state's saved_mask. A
 * pending signal the temporary mask unblocks ends the wait at once with
 * -EINTR; it is delivered as the call returns, its handler running under
 * the temporary mask, and the frame's saved mask (the caller's) comes back
 * when the handler returns. Any other result puts the caller's mask back
 * at once. The guest is one thread and nothing sends it a signal while it
 * waits, so only signals already pending when the call starts can end it. */
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

/* Puts m in force for the call, saving the caller's mask (nothing without
 * a mask). Pair with wait_sigmask_end. */
void wait_sigmask_begin(struct vm *vm, const struct wait_sigmask *m);

/* As the call returns `result`: for -EINTR the caller's mask stays saved
 * for the signal's frame (sig_deliver_pending restores it if no frame is
 * built); for anything else it is back in force now. */
void wait_sigmask_end(struct vm *vm, const struct wait_sigmask *m, long result);

/* The pending signals the mask in force lets through (only a temporary
 * mask can let any through: the others were acted on before the call). */
uint64_t wait_sigmask_ready(const struct vm *vm);

/* Of `sigs`, those whose delivery does something: run a handler or end the
 * guest. Linux restarts ppoll unseen for the others (ignored signals). */
uint64_t wait_sigmask_acting(const struct vm *vm, uint64_t sigs);

/* Throws `sigs` away, as delivering an ignored signal does. */
void wait_sigmask_discard(struct vm *vm, uint64_t sigs);

#endif
