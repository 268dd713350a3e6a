/* run.c - the exit loop of the single vCPU (run.h). Every system call is one
 * exit: an `out` to PORT_SYSCALL from a rewritten site, or to PORT_LSTAR
 * from the stub an unrewritten `syscall` lands in.
 *
 * The restart rule. The VMM takes the vCPU back (vm->vcpu_wanted) for
 * --timeout and for control requests (api/api.h). A blocking system call
 * sleeps with that flag as its stop flag (fs/wait.h) and returns -EINTR when
 * it is set. When the reason was a control request, not the timeout, the
 * call is not failed but RESTARTED: the guest is put back on its `syscall`
 * (or rewritten `out 0x90, al`; both 2 bytes) with RAX the system call
 * number and the argument registers as they were, so after the request is
 * served (a pause, a snapshot and a restore in another process) the guest
 * makes the call again. A sleep restarts with its full duration, a timed
 * wait with its full timeout: the guest cannot tell, beyond the time
 * taken. A guest signal pending at that point is delivered with its frame
 * returning to the restarted call, as SA_RESTART would. So a handler may
 * return -EINTR for a stop only before it has done anything the guest could
 * see (consumed bytes, a connection, a wakeup): after that it returns what
 * it did. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "api/api.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "log.h"
#include "mem/layout.h"
#include "vdso/vdso.h"
#include "vm.h"

/* The RFLAGS bits SYSRET takes from R11 (Intel SDM: R11 & 3C7FD7H, | 2).
 * The LSTAR path returns with the guest's own R11, which a guest jumping
 * into the stub sets at will: bits like VM or the reserved ones would fail
 * the next VM entry on hardware KVM. */
#define RFLAGS_SYSRET_MASK 0x3c7fd7ULL

static void run_guest_crash(struct vm *vm, const char *what) {
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  vlog(VLOG_ERROR, "guest crashed: %s at rip=%#llx (rsp=%#llx)", what, (unsigned long long)r->rip,
       (unsigned long long)r->rsp);
  vm_stop_signal(vm, SIGSEGV);
}

/* A call cut short by the stop flag is restarted when a control request,
 * not --timeout, raised it (see the restart rule above). */
static bool run_restartable(const struct vm *vm) {
  return vm->vcpu_wanted && !vm->timed_out && api_request_pending(vm->api);
}

/* Back on the 2-byte system call instruction, in user mode, with the flags
 * the call was made with: the guest will make it again. */
static void run_rewind(struct kvm_regs *r, uint64_t ret_rip, uint64_t ret_flags) {
  r->rcx = ret_rip; /* `syscall` clobbers RCX and R11 anyway */
  r->r11 = ret_flags;
  r->rflags = (ret_flags & RFLAGS_SYSRET_MASK & ~0x3000ULL) | RFLAGS_FIXED | RFLAGS_IOPL3;
  r->rip = ret_rip - 2;
}

/* Serves the system call of the current I/O exit and sets up the return to
 * the guest exactly as Linux's sysret would: RAX the result, RCX the return
 * address, R11 the flags. */
static void run_syscall(struct vm *vm, bool via_lstar) {
  struct vkvm *k = &vm->kvm;
  struct kvm_regs *r = vkvm_regs(k);
  uint64_t nr = r->rax;
  uint64_t args[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
  uint64_t ret_rip = via_lstar ? r->rcx : vkvm_io_next_rip(k);
  uint64_t ret_flags = via_lstar ? r->r11 : r->rflags;
  if (via_lstar)
    vm->stats.lstar_syscalls++;
  vdso_tick(vm); /* before serving: a clock call from the vDSO may be for a stale line */
  long ret = syscall_dispatch(vm, nr, args);
  if (vm->stop != VM_RUNNING)
    return;
  vm->syscall_restarted = ret == -EINTR && run_restartable(vm);
  r->rax = vm->syscall_restarted ? nr : (uint64_t)ret;
  if (vm->syscall_restarted) {
    run_rewind(r, ret_rip, ret_flags);
  } else if (vm->regs_replaced) {
    vm->regs_replaced = false; /* execve: a new program's first instruction */
  } else if (nr != SYS_rt_sigreturn || !vm->sig.frame_restored) {
    /* A good rt_sigreturn restored every register itself; a bad one forced
     * SIGSEGV and returns like any call. */
    r->rcx = ret_rip;
    r->r11 = ret_flags;
    r->rflags = (ret_flags & RFLAGS_SYSRET_MASK & ~0x3000ULL) | RFLAGS_FIXED | RFLAGS_IOPL3;
    r->rip = ret_rip;
  }
  sig_deliver_pending(vm);
  if (vm->stop != VM_RUNNING)
    return;
  vkvm_set_rip(k, r->rip);
  if (via_lstar && vkvm_ensure_user_mode(k) < 0) {
    vlog(VLOG_ERROR, "cannot return the vCPU to user mode");
    vm_stop_error(vm);
  }
}

static void run_io_exit(struct vm *vm) {
  struct kvm_run *run = vm->kvm.run;
  /* Validate the shape before looking at the port: one byte out. */
  if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1 || run->io.count != 1) {
    run_guest_crash(vm, "unexpected port I/O");
    return;
  }
  switch (run->io.port) {
  case PORT_SYSCALL:
    run_syscall(vm, false);
    break;
  case PORT_LSTAR:
    run_syscall(vm, true);
    break;
  default:
    run_guest_crash(vm, "port I/O to a port hearth does not serve");
  }
}

static void run_exit(struct vm *vm) {
  struct kvm_run *run = vm->kvm.run;
  switch (run->exit_reason) {
  case KVM_EXIT_IO:
    run_io_exit(vm);
    break;
  case KVM_EXIT_SHUTDOWN:
    vm->stats.exits_shutdown++;
    /* No IDT yet: #PF, #GP, #UD, hlt and int 0x80 all end here alike. */
    run_guest_crash(vm, "fault (page fault, protection fault or invalid instruction)");
    break;
  case KVM_EXIT_INTERNAL_ERROR:
    vlog(VLOG_ERROR, "KVM internal error, suberror %u", run->internal.suberror);
    run_guest_crash(vm, "instruction KVM could not run");
    break;
  case KVM_EXIT_FAIL_ENTRY:
    vlog(VLOG_ERROR, "KVM could not enter the guest (reason %#llx)",
         (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
    vm_stop_error(vm);
    break;
  default:
    vm->stats.exits_other++;
    vlog(VLOG_ERROR, "unexpected KVM exit %u at rip=%#llx", run->exit_reason,
         (unsigned long long)vkvm_regs(&vm->kvm)->rip);
    vm_stop_error(vm);
  }
}

/* The VMM wants the vCPU: --timeout ends the VM; a control request is
 * served here, between exits, where no system call is in progress. */
static void run_take_vcpu(struct vm *vm) {
  if (vm->timed_out) {
    vm->stop = VM_STOP_TIMEOUT;
    return;
  }
  vm->vcpu_wanted = 0; /* a request posted after this kicks again */
  api_serve(vm);
}

void vm_run(struct vm *vm) {
  while (vm->stop == VM_RUNNING) {
    if (vm->vcpu_wanted || vm->timed_out) {
      run_take_vcpu(vm);
      continue;
    }
    int rc = vkvm_run(&vm->kvm);
    if (rc == -EINTR || rc == -EAGAIN) {
      vm->stats.kicks++;
      continue;
    }
    if (rc < 0) {
      vlog(VLOG_ERROR, "KVM_RUN failed: %s", strerror(-rc));
      vm_stop_error(vm);
      break;
    }
    vm->stats.exits++;
    run_exit(vm);
  }
}
