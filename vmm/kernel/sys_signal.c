/* sys_signal.c - the signal system calls: rt_sigaction, rt_sigprocmask,
 * sigaltstack, rt_sigreturn, and kill/tkill/tgkill, which can only reach
 * the guest itself (there is no other process). Each copies its arguments
 * in, applies Linux's rules (sigstate.h), and copies results out; signals
 * made deliverable act when the call returns (sig_deliver_pending). */
#include <errno.h>
#include <stdbool.h>

#include "mem/uaccess.h"
#include "proc.h"
#include "sigframe.h"
#include "signal.h"
#include "syscalls.h"
#include "vm.h"

long sys_rt_sigaction(struct vm *vm, const uint64_t *a) {
  struct guest_sigaction act, old;
  if (a[3] != GUEST_SIGSET_SIZE)
    return -EINVAL;
  if (a[1] && uaccess_copy_from(&vm->mem, &act, a[1], sizeof act) < 0)
    return -EFAULT;
  int rc = sig_action_change(&vm->sig, (int)a[0], a[1] ? &act : NULL, a[2] ? &old : NULL);
  if (rc < 0)
    return rc;
  if (a[2] && uaccess_copy_to(&vm->mem, a[2], &old, sizeof old) < 0)
    return -EFAULT;
  return 0;
}

long sys_rt_sigprocmask(struct vm *vm, const uint64_t *a) {
  uint64_t old = vm->sig.blocked, set;
  if (a[3] != GUEST_SIGSET_SIZE)
    return -EINVAL;
  if (a[1]) {
    if (uaccess_copy_from(&vm->mem, &set, a[1], sizeof set) < 0)
      return -EFAULT;
    int rc = sig_mask_change(&vm->sig.blocked, (int)a[0], set);
    if (rc < 0)
      return rc;
  }
  if (a[2] && uaccess_copy_to(&vm->mem, a[2], &old, sizeof old) < 0)
    return -EFAULT;
  return 0;
}

/* rt_sigpending: the pending signals that are blocked (the others have
 * already been acted on before the guest ran again). */
long sys_rt_sigpending(struct vm *vm, const uint64_t *a) {
  if (a[1] > GUEST_SIGSET_SIZE)
    return -EINVAL;
  uint64_t set = vm->sig.pending & vm->sig.blocked;
  return uaccess_copy_to(&vm->mem, a[0], &set, (size_t)a[1]) < 0 ? -EFAULT : 0;
}

long sys_sigaltstack(struct vm *vm, const uint64_t *a) {
  uint64_t sp = vkvm_regs(&vm->kvm)->rsp;
  struct guest_stack old, ss;
  sig_altstack_get(&vm->sig, sp, &old);
  if (a[0]) {
    if (uaccess_copy_from(&vm->mem, &ss, a[0], sizeof ss) < 0)
      return -EFAULT;
    int rc = sig_altstack_set(&vm->sig, sp, &ss);
    if (rc < 0)
      return rc;
  }
  if (a[1] && uaccess_copy_to(&vm->mem, a[1], &old, sizeof old) < 0)
    return -EFAULT;
  return 0;
}

long sys_rt_sigreturn(struct vm *vm, const uint64_t *a) { return sigframe_return(vm); }

/* Sends sig to the guest on its own request, once the target is known to
 * be the guest: -EINVAL for a bad number, 0 alone checks existence. */
static long sig_from_guest(struct vm *vm, long sig, int code) {
  if (sig < 0 || sig > GUEST_NSIG)
    return -EINVAL;
  if (sig == 0)
    return 0;
  struct sig_info info = {
      .signo = (int32_t)sig, .code = code, .pid = vm->proc.pid, .uid = PROC_GUEST_UID};
  return sig_send_info(vm, &info);
}

/* kill(pid): the guest is pid, and alone in its process group (pgid ==
 * pid, reached by 0 or -pid). kill(-1) means every process but the caller:
 * there is none, so -ESRCH, as Linux answers with nobody else to signal. */
long sys_kill(struct vm *vm, const uint64_t *a) {
  int32_t pid = (int32_t)a[0];
  bool self = pid == 0 || pid == vm->proc.pid || pid == -vm->proc.pid;
  return self ? sig_from_guest(vm, (int32_t)a[1], GUEST_SI_USER) : -ESRCH;
}

long sys_tkill(struct vm *vm, const uint64_t *a) {
  int32_t tid = (int32_t)a[0];
  if (tid <= 0)
    return -EINVAL;
  if (tid != vm->proc.tid)
    return -ESRCH;
  return sig_from_guest(vm, (int32_t)a[1], GUEST_SI_TKILL);
}

long sys_tgkill(struct vm *vm, const uint64_t *a) {
  int32_t tgid = (int32_t)a[0], tid = (int32_t)a[1];
  if (tgid <= 0 || tid <= 0)
    return -EINVAL;
  if (tgid != vm->proc.pid || tid != vm->proc.tid)
    return -ESRCH;
  return sig_from_guest(vm, (int32_t)a[2], GUEST_SI_TKILL);
}
