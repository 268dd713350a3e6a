/* wait_sigmask.c - the temporary signal mask of ppoll and epoll_pwait (see
 * wait_sigmask.h): Linux's set_user_sigmask and
 * restore_saved_sigmask_unless on sig_state's saved mask. */
#include "wait_sigmask.h"

#include <errno.h>

#include "mem/uaccess.h"
#include "sigstate.h"
#include "vm.h"

long wait_sigmask_get(struct vm *vm, uint64_t gva, uint64_t size, struct wait_sigmask *out) {
  *out = (struct wait_sigmask){0};
  if (!gva)
    return 0;
  if (size != GUEST_SIGSET_SIZE)
    return -EINVAL;
  if (uaccess_copy_from(&vm->mem, &out->mask, gva, sizeof out->mask) < 0)
    return -EFAULT;
  out->mask = sig_mask_sanitize(out->mask);
  out->set = true;
  return 0;
}

void wait_sigmask_begin(struct vm *vm, const struct wait_sigmask *m) {
  if (!m->set)
    return;
  vm->sig.saved_mask = vm->sig.blocked;
  vm->sig.restore_mask = true;
  vm->sig.blocked = m->mask;
}

void wait_sigmask_end(struct vm *vm, const struct wait_sigmask *m, long result) {
  if (!m->set || result == -EINTR)
    return;
  vm->sig.blocked = vm->sig.saved_mask;
  vm->sig.restore_mask = false;
}

uint64_t wait_sigmask_ready(const struct vm *vm) { return vm->sig.pending & ~vm->sig.blocked; }

/* Whether delivering sig would do nothing (SIG_IGN, or a default action of
 * ignoring or of stopping, which hearth ignores: no job control). */
static bool ignored(const struct sig_state *s, int sig) {
  uint64_t handler = s->action[sig].handler;
  if (handler == GUEST_SIG_IGN)
    return true;
  enum sig_default def = sig_default_action(sig);
  return handler == GUEST_SIG_DFL && (def == SIG_DEFAULT_IGNORE || def == SIG_DEFAULT_STOP);
}

uint64_t wait_sigmask_acting(const struct vm *vm, uint64_t sigs) {
  uint64_t acting = 0;
  for (int sig = 1; sig <= GUEST_NSIG; sig++)
    if ((sigs & sig_bit(sig)) && !ignored(&vm->sig, sig))
      acting |= sig_bit(sig);
  return acting;
}

void wait_sigmask_discard(struct vm *vm, uint64_t sigs) {
  for (int sig = 1; sig <= GUEST_NSIG; sig++)
    if (sigs & sig_bit(sig))
      sig_discard(&vm->sig, sig);
}
