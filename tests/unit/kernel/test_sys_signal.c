/* Unit tests of the signal system calls and of delivery (sys_signal.c,
 * signal.c, sigframe.c) on a VM with real guest memory and a stand-in vCPU:
 * argument checks, kill to ourselves, default actions ending the VM with
 * the right signal, a handler entered and returned from through a real
 * frame in guest memory, and the caller's mask saved across a wait's
 * temporary one. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "fake_kvm.h"
#include "fake_vm.h"
#include "kernel/sigframe.h"
#include "kernel/signal.h"
#include "kernel/syscalls.h"
#include "mem/uaccess.h"

#define DATA 0x400000ULL  /* scratch page for arguments */
#define STACK 0x7f0000ULL /* 64 KiB stack below STACK_TOP */
#define STACK_TOP 0x800000ULL
#define RO 0x900000ULL /* a read-only page */
#define HANDLER 0x401000ULL
#define RESTORER 0x401800ULL

static int setup(void **state) {
  struct vm *vm = test_vm_new();
  test_vm_map(vm, DATA, 0x1000, GMEM_ACC_READ | GMEM_ACC_WRITE);
  test_vm_map(vm, STACK, STACK_TOP - STACK, GMEM_ACC_READ | GMEM_ACC_WRITE);
  test_vm_map(vm, RO, 0x1000, GMEM_ACC_READ);
  fake_kvm_reset();
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  r->rsp = STACK_TOP - 0x100;
  r->rip = 0x401100;
  r->rflags = 0x3202;
  *state = vm;
  return 0;
}

static int teardown(void **state) {
  test_vm_free(*state);
  return 0;
}

static long call(struct vm *vm, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
  const uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
  return fn(vm, a);
}

static void put(struct vm *vm, uint64_t gva, const void *p, size_t n) {
  assert_int_equal(uaccess_copy_to(&vm->mem, gva, p, n), 0);
}

static void get(struct vm *vm, uint64_t gva, void *p, size_t n) {
  assert_int_equal(uaccess_copy_from(&vm->mem, p, gva, n), 0);
}

/* Installs a handler for sig through the system call, as libc would. */
static void install(struct vm *vm, int sig, uint64_t flags, uint64_t mask) {
  struct guest_sigaction act = {
      .handler = HANDLER, .flags = flags | GUEST_SA_RESTORER, .restorer = RESTORER, .mask = mask};
  put(vm, DATA, &act, sizeof act);
  assert_int_equal(call(vm, sys_rt_sigaction, (uint64_t)sig, DATA, 0, 8), 0);
}

static void sigaction_checks_size_pointers_and_numbers(void **state) {
  struct vm *vm = *state;
  struct guest_sigaction act = {.handler = GUEST_SIG_IGN}, old;
  put(vm, DATA, &act, sizeof act);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, DATA, 0, 4), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, DATA, 0, 16), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, 0x10, 0, 8), -EFAULT);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGKILL, DATA, 0, 8), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigaction, 65, DATA, 0, 8), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, DATA, 0, 8), 0);
  /* The old action is written out; an unwritable place is -EFAULT. */
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, 0, DATA + 64, 8), 0);
  get(vm, DATA + 64, &old, sizeof old);
  assert_int_equal(old.handler, GUEST_SIG_IGN);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, 0, RO, 8), -EFAULT);
}

static void sigprocmask_reports_old_and_checks_how(void **state) {
  struct vm *vm = *state;
  uint64_t set = sig_bit(SIGUSR1) | sig_bit(SIGKILL), old;
  put(vm, DATA, &set, 8);
  assert_int_equal(call(vm, sys_rt_sigprocmask, GUEST_SIG_BLOCK, DATA, 0, 7), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigprocmask, 5, DATA, 0, 8), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigprocmask, GUEST_SIG_BLOCK, 0x10, 0, 8), -EFAULT);
  assert_int_equal(call(vm, sys_rt_sigprocmask, GUEST_SIG_BLOCK, DATA, DATA + 8, 8), 0);
  get(vm, DATA + 8, &old, 8);
  assert_int_equal(old, 0);
  assert_int_equal(vm->sig.blocked, sig_bit(SIGUSR1));
  /* A bad `how` is ignored when there is no new set (a pure query). */
  assert_int_equal(call(vm, sys_rt_sigprocmask, 99, 0, DATA + 8, 8), 0);
  get(vm, DATA + 8, &old, 8);
  assert_int_equal(old, sig_bit(SIGUSR1));
}

static void sigaltstack_validates_and_reports(void **state) {
  struct vm *vm = *state;
  struct guest_stack ss = {.ss_sp = DATA, .ss_size = 1024}, old;
  put(vm, DATA + 256, &ss, sizeof ss);
  assert_int_equal(call(vm, sys_sigaltstack, DATA + 256, 0, 0, 0), -ENOMEM);
  ss.ss_size = 0x1000;
  ss.ss_flags = 8;
  put(vm, DATA + 256, &ss, sizeof ss);
  assert_int_equal(call(vm, sys_sigaltstack, DATA + 256, 0, 0, 0), -EINVAL);
  ss.ss_flags = 0;
  put(vm, DATA + 256, &ss, sizeof ss);
  assert_int_equal(call(vm, sys_sigaltstack, DATA + 256, DATA + 512, 0, 0), 0);
  get(vm, DATA + 512, &old, sizeof old);
  assert_int_equal(old.ss_flags, GUEST_SS_DISABLE);
  assert_int_equal(call(vm, sys_sigaltstack, 0, DATA + 512, 0, 0), 0);
  get(vm, DATA + 512, &old, sizeof old);
  assert_int_equal(old.ss_sp, DATA);
  assert_int_equal(old.ss_size, 0x1000);
  assert_int_equal(old.ss_flags, 0);
  /* Running on it (rsp inside): SS_ONSTACK, and no change allowed. */
  vkvm_regs(&vm->kvm)->rsp = DATA + 0x800;
  assert_int_equal(call(vm, sys_sigaltstack, 0, DATA + 512, 0, 0), 0);
  get(vm, DATA + 512, &old, sizeof old);
  assert_int_equal(old.ss_flags, GUEST_SS_ONSTACK);
  assert_int_equal(call(vm, sys_sigaltstack, DATA + 256, 0, 0, 0), -EPERM);
  assert_int_equal(call(vm, sys_sigaltstack, 0x10, 0, 0, 0), -EFAULT); /* copied in first */
}

static void kill_reaches_only_ourselves(void **state) {
  struct vm *vm = *state;
  int pid = vm->proc.pid;
  assert_int_equal(call(vm, sys_kill, 999, SIGTERM, 0, 0), -ESRCH);
  assert_int_equal(call(vm, sys_kill, (uint64_t)-1, SIGTERM, 0, 0), -ESRCH);
  assert_int_equal(call(vm, sys_kill, (uint64_t)-999, SIGTERM, 0, 0), -ESRCH);
  assert_int_equal(call(vm, sys_kill, (uint64_t)pid, 65, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_kill, (uint64_t)pid, (uint64_t)-1, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_kill, (uint64_t)pid, 0, 0, 0), 0); /* existence */
  assert_int_equal(call(vm, sys_kill, 0, 0, 0, 0), 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)-pid, 0, 0, 0), 0);
  assert_int_equal(vm->sig.pending, 0);
  assert_int_equal(call(vm, sys_tkill, 0, SIGTERM, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_tkill, 77, SIGTERM, 0, 0), -ESRCH);
  assert_int_equal(call(vm, sys_tkill, (uint64_t)pid, 99, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_tgkill, 0, (uint64_t)pid, SIGTERM, 0), -EINVAL);
  assert_int_equal(call(vm, sys_tgkill, (uint64_t)pid, 0, SIGTERM, 0), -EINVAL);
  assert_int_equal(call(vm, sys_tgkill, 5, (uint64_t)pid, SIGTERM, 0), -ESRCH);
  assert_int_equal(call(vm, sys_tgkill, (uint64_t)pid, 5, SIGTERM, 0), -ESRCH);
  assert_int_equal(vm->sig.pending, 0);
  assert_int_equal(vm->stop, VM_RUNNING);
}

static void abort_ends_the_vm_with_sigabrt(void **state) {
  struct vm *vm = *state;
  int pid = vm->proc.pid;
  /* abort(): block nothing, raise SIGABRT with tgkill. */
  assert_int_equal(call(vm, sys_tgkill, (uint64_t)pid, (uint64_t)pid, SIGABRT, 0), 0);
  assert_int_equal(vm->stop, VM_RUNNING); /* acts at the return to the guest */
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGABRT);
}

static void sigpipe_default_terminates_and_sigchld_is_ignored(void **state) {
  struct vm *vm = *state;
  sig_send(vm, SIGCHLD);
  sig_send(vm, SIGWINCH);
  assert_int_equal(vm->sig.pending, 0);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_RUNNING);
  sig_send(vm, SIGTSTP); /* no job control: ignored with a log line */
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_RUNNING);
  sig_send(vm, SIGPIPE);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGPIPE);
}

static void sigkill_ends_the_vm_at_once(void **state) {
  struct vm *vm = *state;
  vm->sig.blocked = ~0ULL;
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGKILL, 0, 0), 0);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGKILL);
}

static void unblocking_lets_a_pending_signal_act(void **state) {
  struct vm *vm = *state;
  uint64_t set = sig_bit(SIGTERM);
  put(vm, DATA, &set, 8);
  assert_int_equal(call(vm, sys_rt_sigprocmask, GUEST_SIG_BLOCK, DATA, 0, 8), 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGTERM, 0, 0), 0);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_RUNNING);
  assert_int_equal(vm->sig.pending, sig_bit(SIGTERM));
  uint64_t pending = 0;
  assert_int_equal(call(vm, sys_rt_sigpending, DATA + 8, 16, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_rt_sigpending, 0x10, 8, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_rt_sigpending, DATA + 8, 8, 0, 0), 0);
  get(vm, DATA + 8, &pending, 8);
  assert_int_equal(pending, sig_bit(SIGTERM));
  assert_int_equal(call(vm, sys_rt_sigprocmask, GUEST_SIG_UNBLOCK, DATA, 0, 8), 0);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGTERM);
}

/* The restorer's `ret` pops the return address; then rt_sigreturn. */
static long return_from_handler(struct vm *vm) {
  vkvm_regs(&vm->kvm)->rsp += 8;
  return call(vm, sys_rt_sigreturn, 0, 0, 0, 0);
}

static void handler_runs_on_a_linux_frame_and_returns(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR1, GUEST_SA_SIGINFO, sig_bit(SIGUSR2));
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  /* The dispatcher stores the call's result before delivery. */
  r->rax = 0;
  r->rbx = 0x1111;
  r->r12 = 0x2222;
  r->rflags = 0x3202 | 0x400; /* DF set in the interrupted code */
  struct kvm_regs before = *r;
  struct kvm_xsave fpu_before = fake_kvm.xsave;
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_RUNNING);

  assert_int_equal(r->rip, HANDLER);
  assert_int_equal(r->rdi, SIGUSR1);
  assert_int_equal((r->rsp + 8) % 16, 0);
  assert_true(r->rsp < before.rsp - 128);
  assert_int_equal(r->rsi, r->rsp + offsetof(struct guest_rt_sigframe, info));
  assert_int_equal(r->rdx, r->rsp + offsetof(struct guest_rt_sigframe, uc));
  assert_int_equal(r->rflags & 0x400, 0); /* DF clear for the handler */
  assert_int_equal(r->rflags & 0x3000, 0x3000);
  assert_true(vm->kvm.run->kvm_dirty_regs & KVM_SYNC_X86_REGS);
  assert_int_equal(vm->sig.blocked, sig_bit(SIGUSR1) | sig_bit(SIGUSR2));

  struct guest_rt_sigframe f;
  get(vm, r->rsp, &f, sizeof f);
  assert_int_equal(f.pretcode, RESTORER);
  assert_int_equal(f.info.si_signo, SIGUSR1);
  assert_int_equal(f.info.si_code, GUEST_SI_USER);
  assert_int_equal(f.info.fields.kill.pid, vm->proc.pid);
  assert_int_equal(f.uc.uc_mcontext.rip, before.rip);
  assert_int_equal(f.uc.uc_mcontext.rsp, before.rsp);
  assert_int_equal(f.uc.uc_mcontext.rbx, 0x1111);
  assert_int_equal(f.uc.uc_sigmask, 0);
  /* The FPU state went to the frame and the handler got a fresh one. */
  uint64_t fp = f.uc.uc_mcontext.fpstate;
  assert_int_equal(fp % 64, 0);
  uint8_t img[600];
  get(vm, fp, img, sizeof img);
  assert_memory_equal(img, fpu_before.region, 464);
  uint32_t magic2, mxcsr;
  get(vm, fp + fake_kvm.layout.size, &magic2, 4);
  assert_int_equal(magic2, 0x46505845u);
  memcpy(&mxcsr, (uint8_t *)fake_kvm.xsave.region + XSAVE_MXCSR, 4);
  assert_int_equal(mxcsr, 0x1f80);

  /* The handler clobbers registers and FPU state, then returns. */
  r->rbx = 0xbad;
  r->rax = 0x5555;
  r->r12 = 0;
  assert_int_equal(return_from_handler(vm), 0); /* the interrupted call's result */
  assert_true(vm->sig.frame_restored);
  assert_int_equal(r->rip, before.rip);
  assert_int_equal(r->rsp, before.rsp);
  assert_int_equal(r->rbx, 0x1111);
  assert_int_equal(r->r12, 0x2222);
  assert_int_equal(r->rflags, before.rflags);
  assert_int_equal(vm->sig.blocked, 0);
  assert_memory_equal(fake_kvm.xsave.region, fpu_before.region, 464);
  assert_memory_equal((uint8_t *)fake_kvm.xsave.region + 512, (uint8_t *)fpu_before.region + 512,
                      fake_kvm.layout.size - 512);
}

static void the_saved_rax_is_the_system_calls_result(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR2, 0, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR2, 0, 0), 0);
  r->rax = (uint64_t)-EINTR;
  sig_deliver_pending(vm);
  assert_int_equal(r->rax, 0); /* RAX=0 for the handler */
  assert_int_equal(return_from_handler(vm), -EINTR);
}

static void nested_signals_stack_their_frames(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR1, 0, 0);
  install(vm, SIGUSR2, 0, 0);
  uint64_t rip0 = r->rip, rsp0 = r->rsp;
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR2, 0, 0), 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  /* SIGUSR1 went first, SIGUSR2's frame on top of it: its handler runs first. */
  assert_int_equal(r->rdi, SIGUSR2);
  assert_int_equal(vm->sig.blocked, sig_bit(SIGUSR1) | sig_bit(SIGUSR2));
  assert_int_equal(vm->sig.pending, 0);
  return_from_handler(vm);
  assert_int_equal(r->rip, HANDLER); /* back into SIGUSR1's handler */
  assert_int_equal(vm->sig.blocked, sig_bit(SIGUSR1));
  return_from_handler(vm);
  assert_int_equal(r->rip, rip0);
  assert_int_equal(r->rsp, rsp0);
  assert_int_equal(vm->sig.blocked, 0);
}

static void nodefer_and_resethand(void **state) {
  struct vm *vm = *state;
  install(vm, SIGUSR1, GUEST_SA_NODEFER | GUEST_SA_RESETHAND, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  assert_int_equal(vkvm_regs(&vm->kvm)->rip, HANDLER);
  assert_int_equal(vm->sig.blocked, 0);
  assert_int_equal(vm->sig.action[SIGUSR1].handler, GUEST_SIG_DFL);
  /* A second SIGUSR1 inside the handler takes the default action. */
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGUSR1);
}

static void onstack_handler_uses_the_alternate_stack_and_autodisarm(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  struct guest_stack ss = {
      .ss_sp = STACK + 0x2000, .ss_size = 0x4000, .ss_flags = GUEST_SS_AUTODISARM};
  put(vm, DATA, &ss, sizeof ss);
  assert_int_equal(call(vm, sys_sigaltstack, DATA, 0, 0, 0), 0);
  install(vm, SIGUSR1, GUEST_SA_ONSTACK, 0);
  uint64_t rsp0 = r->rsp;
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  assert_true(r->rsp > ss.ss_sp && r->rsp < ss.ss_sp + ss.ss_size);
  assert_int_equal(vm->sig.altstack_size, 0); /* disarmed while the handler runs */
  return_from_handler(vm);
  assert_int_equal(r->rsp, rsp0);
  assert_int_equal(vm->sig.altstack_sp, ss.ss_sp); /* re-armed by rt_sigreturn */
  assert_int_equal(vm->sig.altstack_flags, GUEST_SS_AUTODISARM);
}

static void handler_without_restorer_means_sigsegv(void **state) {
  struct vm *vm = *state;
  struct guest_sigaction act = {.handler = HANDLER, .flags = GUEST_SA_SIGINFO};
  put(vm, DATA, &act, sizeof act);
  assert_int_equal(call(vm, sys_rt_sigaction, SIGUSR1, DATA, 0, 8), 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGSEGV);
}

static void unwritable_stack_means_sigsegv_even_with_a_handler(void **state) {
  struct vm *vm = *state;
  install(vm, SIGSEGV, 0, 0);
  install(vm, SIGUSR1, 0, 0);
  vkvm_regs(&vm->kvm)->rsp = RO + 0x800; /* read-only "stack" */
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  /* SIGUSR1's frame fails -> SIGSEGV, whose frame fails too -> SIG_DFL. */
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGSEGV);
}

static void bad_sigreturn_frame_means_sigsegv(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  r->rsp = 0x10; /* nothing mapped there */
  assert_int_equal(call(vm, sys_rt_sigreturn, 0, 0, 0, 0), 0);
  assert_false(vm->sig.frame_restored);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGSEGV);
}

static void sigreturn_refuses_a_bad_fpu_state(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR1, 0, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  struct guest_rt_sigframe f;
  get(vm, r->rsp, &f, sizeof f);
  uint32_t mxcsr = 0xffff0000; /* the handler corrupts the saved MXCSR */
  put(vm, f.uc.uc_mcontext.fpstate + XSAVE_MXCSR, &mxcsr, 4);
  assert_int_equal(return_from_handler(vm), 0);
  assert_false(vm->sig.frame_restored);
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGSEGV);
}

static void sigreturn_with_a_non_canonical_rip_means_sigsegv(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR1, 0, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  uint64_t bad_rip = 0x0000900000000000ULL;
  put(vm, r->rsp + offsetof(struct guest_rt_sigframe, uc.uc_mcontext.rip), &bad_rip, 8);
  return_from_handler(vm);
  assert_int_equal(r->rip, HANDLER); /* registers left alone */
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop_value, SIGSEGV);
}

static void sigreturn_without_fpu_state_resets_it(void **state) {
  struct vm *vm = *state;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  install(vm, SIGUSR1, 0, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  sig_deliver_pending(vm);
  uint64_t none = 0;
  put(vm, r->rsp + offsetof(struct guest_rt_sigframe, uc.uc_mcontext.fpstate), &none, 8);
  fake_kvm_reset(); /* a dirty FPU again */
  return_from_handler(vm);
  assert_true(vm->sig.frame_restored);
  uint32_t mxcsr;
  memcpy(&mxcsr, (uint8_t *)fake_kvm.xsave.region + XSAVE_MXCSR, 4);
  assert_int_equal(mxcsr, 0x1f80);
}

static void kvm_failure_during_delivery_is_a_vmm_error(void **state) {
  struct vm *vm = *state;
  install(vm, SIGUSR1, 0, 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  fake_kvm.fail = -EIO;
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_ERROR);
}

static void realtime_queue_overflow_fails_tgkill(void **state) {
  struct vm *vm = *state;
  int pid = vm->proc.pid;
  vm->sig.blocked = sig_bit(40);
  unsigned limit = SIG_QUEUE_MAX;
  for (unsigned i = 0; i < limit; i++)
    assert_int_equal(call(vm, sys_tgkill, (uint64_t)pid, (uint64_t)pid, 40, 0), 0);
  assert_int_equal(call(vm, sys_tgkill, (uint64_t)pid, (uint64_t)pid, 40, 0), -EAGAIN);
  assert_int_equal(call(vm, sys_kill, (uint64_t)pid, 40, 0, 0), 0); /* kill: info lost only */
}

/* A wait under a temporary mask (ppoll, epoll_pwait) ended by a signal
 * leaves the caller's mask saved (sigstate.h, restore_mask): the handler
 * runs under the temporary mask, its frame holds the caller's, and its
 * return brings that back. A second signal stacked on top saves the
 * handler's mask, as Linux's frames do. */
static void a_wait_handler_runs_under_the_temporary_mask(void **state) {
  struct vm *vm = *state;
  install(vm, SIGUSR1, 0, sig_bit(SIGALRM));
  install(vm, SIGUSR2, 0, 0);
  uint64_t caller = sig_bit(SIGUSR1) | sig_bit(SIGUSR2) | sig_bit(SIGTERM);
  vm->sig.blocked = caller;
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR2, 0, 0), 0);
  /* What ppoll(..., &temporary) does before it returns -EINTR. */
  uint64_t temporary = sig_bit(SIGHUP);
  vm->sig.saved_mask = caller;
  vm->sig.blocked = temporary;
  vm->sig.restore_mask = true;
  sig_deliver_pending(vm);
  assert_false(vm->sig.restore_mask);
  assert_int_equal(vm->sig.pending, 0);
  /* SIGUSR1 went first (frame 1), SIGUSR2 is stacked on top (frame 2). */
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  assert_int_equal(r->rdi, SIGUSR2);
  uint64_t usr1_mask = temporary | sig_bit(SIGUSR1) | sig_bit(SIGALRM);
  assert_int_equal(vm->sig.blocked, usr1_mask | sig_bit(SIGUSR2));
  struct guest_rt_sigframe top;
  get(vm, r->rsp, &top, sizeof top);
  assert_int_equal(top.uc.uc_sigmask, usr1_mask);
  assert_int_equal(top.uc.uc_mcontext.oldmask, usr1_mask);
  assert_int_equal(return_from_handler(vm), 0);
  assert_int_equal(vm->sig.blocked, usr1_mask); /* back in SIGUSR1's handler */
  struct guest_rt_sigframe first;
  get(vm, r->rsp, &first, sizeof first);
  assert_int_equal(first.uc.uc_sigmask, caller);
  assert_int_equal(return_from_handler(vm), 0);
  assert_int_equal(vm->sig.blocked, caller);
}

/* When no frame is built (the signal's default action is to ignore it, or
 * nothing is left to deliver), the end of delivery restores the mask. */
static void a_wait_without_a_frame_gets_its_mask_back(void **state) {
  struct vm *vm = *state;
  uint64_t caller = sig_bit(SIGCHLD) | sig_bit(SIGINT);
  vm->sig.blocked = caller;
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGCHLD, 0, 0), 0);
  vm->sig.saved_mask = caller;
  vm->sig.blocked = 0;
  vm->sig.restore_mask = true;
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_RUNNING);
  assert_false(vm->sig.restore_mask);
  assert_int_equal(vm->sig.pending, 0);
  assert_int_equal(vm->sig.blocked, caller);
  /* A frame that cannot be built (no stack) raises SIGSEGV; the mask still
   * comes back, and the flag does not outlive the delivery. */
  install(vm, SIGUSR1, 0, 0);
  vm->sig.blocked = sig_bit(SIGUSR1);
  assert_int_equal(call(vm, sys_kill, (uint64_t)vm->proc.pid, SIGUSR1, 0, 0), 0);
  vm->sig.saved_mask = sig_bit(SIGUSR1);
  vm->sig.blocked = 0;
  vm->sig.restore_mask = true;
  vkvm_regs(&vm->kvm)->rsp = RO + 0x800;
  sig_deliver_pending(vm);
  assert_int_equal(vm->stop, VM_STOP_SIGNAL);
  assert_int_equal(vm->stop_value, SIGSEGV);
  assert_false(vm->sig.restore_mask);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(sigaction_checks_size_pointers_and_numbers),
      T(sigprocmask_reports_old_and_checks_how),
      T(sigaltstack_validates_and_reports),
      T(kill_reaches_only_ourselves),
      T(abort_ends_the_vm_with_sigabrt),
      T(sigpipe_default_terminates_and_sigchld_is_ignored),
      T(sigkill_ends_the_vm_at_once),
      T(unblocking_lets_a_pending_signal_act),
      T(handler_runs_on_a_linux_frame_and_returns),
      T(the_saved_rax_is_the_system_calls_result),
      T(nested_signals_stack_their_frames),
      T(nodefer_and_resethand),
      T(onstack_handler_uses_the_alternate_stack_and_autodisarm),
      T(handler_without_restorer_means_sigsegv),
      T(unwritable_stack_means_sigsegv_even_with_a_handler),
      T(bad_sigreturn_frame_means_sigsegv),
      T(sigreturn_refuses_a_bad_fpu_state),
      T(sigreturn_with_a_non_canonical_rip_means_sigsegv),
      T(sigreturn_without_fpu_state_resets_it),
      T(kvm_failure_during_delivery_is_a_vmm_error),
      T(realtime_queue_overflow_fails_tgkill),
      T(a_wait_handler_runs_under_the_temporary_mask),
      T(a_wait_without_a_frame_gets_its_mask_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
