/* signal.c - sending signals to the guest and acting on them (signal.h):
 * default actions end the VM or are ignored; handlers are entered through
 * sigframe.c. */
#include "signal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "sigframe.h"
#include "vm.h"

static const char *sig_name(int sig, char *buf, size_t len) {
  const char *abbrev = sig < GUEST_SIGRTMIN ? sigabbrev_np(sig) : NULL;
  if (abbrev)
    snprintf(buf, len, "SIG%s", abbrev);
  else
    snprintf(buf, len, "signal %d", sig);
  return buf;
}

/* RLIMIT_SIGPENDING, within what the queue can hold. */
static unsigned sig_queue_limit(const struct vm *vm) {
  uint64_t limit = vm->proc.rlim_cur[RLIMIT_SIGPENDING];
  return limit < SIG_QUEUE_MAX ? (unsigned)limit : SIG_QUEUE_MAX;
}

static int sig_post(struct vm *vm, const struct sig_info *info, unsigned limit) {
  int sig = info->signo;
  if (sig == SIGKILL) {
    vm_stop_signal(vm, SIGKILL); /* neither blocked, caught nor ignored: at once */
    return 0;
  }
  sig_cancel_opposites(&vm->sig, sig);
  if (sig_ignored(&vm->sig, sig))
    return 0;
  return sig_enqueue(&vm->sig, info, limit);
}

int sig_send_info(struct vm *vm, const struct sig_info *info) {
  return sig_post(vm, info, sig_queue_limit(vm));
}

void sig_send(struct vm *vm, int sig) {
  struct sig_info info = {.signo = sig, .code = GUEST_SI_KERNEL};
  (void)sig_post(vm, &info, SIG_QUEUE_MAX); /* the kernel's own sends pass the limit */
}

/* Linux's force_sig: a blocked or ignored signal is unblocked and reset to
 * SIG_DFL (always reset when reset_handler, as for a SIGSEGV that could not
 * be delivered to its own handler). */
static void sig_force_with(struct vm *vm, const struct sig_info *info, bool reset_handler) {
  struct sig_state *s = &vm->sig;
  int sig = info->signo;
  bool blocked = s->blocked & sig_bit(sig);
  if (reset_handler || blocked || s->action[sig].handler == GUEST_SIG_IGN) {
    s->action[sig].handler = GUEST_SIG_DFL;
    s->blocked &= ~sig_bit(sig);
  }
  (void)sig_enqueue(s, info, SIG_QUEUE_MAX);
}

void sig_force(struct vm *vm, const struct sig_info *info) { sig_force_with(vm, info, false); }

static void sig_default(struct vm *vm, int sig) {
  char name[32];
  switch (sig_default_action(sig)) {
  case SIG_DEFAULT_IGNORE:
    return;
  case SIG_DEFAULT_STOP:
    VLOG_LIMITED(VLOG_INFO, "guest got %s, which would stop it: no job control here, ignored",
                 sig_name(sig, name, sizeof name));
    return;
  case SIG_DEFAULT_CORE:
  case SIG_DEFAULT_TERM:
    vlog(VLOG_INFO, "guest killed by %s", sig_name(sig, name, sizeof name));
    vm_stop_signal(vm, sig);
    return;
  }
}

static void sig_enter_handler(struct vm *vm, const struct sig_info *info,
                              const struct guest_sigaction *act) {
  struct sig_state *s = &vm->sig;
  int sig = info->signo;
  int rc = sigframe_setup(vm, info, act);
  if (rc == -EFAULT) {
    char name[32];
    VLOG_LIMITED(VLOG_INFO, "cannot build the frame for %s's handler (rsp=%#llx): SIGSEGV",
                 sig_name(sig, name, sizeof name), (unsigned long long)vkvm_regs(&vm->kvm)->rsp);
    struct sig_info segv = {.signo = SIGSEGV, .code = GUEST_SI_KERNEL};
    sig_force_with(vm, &segv, sig == SIGSEGV);
    return;
  }
  if (rc < 0) {
    vlog(VLOG_ERROR, "cannot enter the guest's signal handler: %s", strerror(-rc));
    vm_stop_error(vm);
    return;
  }
  uint64_t block = act->mask | ((act->flags & GUEST_SA_NODEFER) ? 0 : sig_bit(sig));
  s->blocked = sig_mask_sanitize(s->blocked | block);
  if (s->altstack_flags & GUEST_SS_AUTODISARM)
    sig_altstack_reset(s);
}

void sig_deliver_pending(struct vm *vm) {
  struct sig_info info;
  while (vm->stop == VM_RUNNING && sig_dequeue(&vm->sig, &info)) {
    int sig = info.signo;
    struct guest_sigaction act = vm->sig.action[sig];
    if (act.handler == GUEST_SIG_IGN)
      continue;
    if (act.handler == GUEST_SIG_DFL) {
      sig_default(vm, sig);
      continue;
    }
    if (act.flags & GUEST_SA_RESETHAND)
      vm->sig.action[sig].handler = GUEST_SIG_DFL;
    sig_enter_handler(vm, &info, &act);
  }
  /* No frame took the caller's mask from a wait's temporary one. */
  if (vm->sig.restore_mask) {
    vm->sig.blocked = vm->sig.saved_mask;
    vm->sig.restore_mask = false;
  }
}
