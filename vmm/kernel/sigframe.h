/* sigframe.h - entering a guest signal handler and coming back from it
 * (rt_sigreturn), with the frame x86-64 Linux builds on the user stack, so
 * that glibc's and musl's restorers, unwinders reading the frame, and
 * handlers inspecting their ucontext all work unchanged:
 *
 *   RSP at handler entry -> struct guest_rt_sigframe
 *                             pretcode  = sa_restorer (the handler's return address)
 *                             uc        = ucontext: flags, link, altstack, registers, mask
 *                             info      = siginfo
 *   higher, 64-byte aligned -> the FPU state (fpframe.h); uc.uc_mcontext.fpstate points at it
 *   higher still            -> the 128-byte red zone of the interrupted code
 *
 * The layouts below are the kernel's ABI: tests compare their offsets with
 * the host's <sys/ucontext.h> and <signal.h>. */
#ifndef HEARTH_VMM_SIGFRAME_H
#define HEARTH_VMM_SIGFRAME_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "sigstate.h"
#include "xsave.h"

struct vm;

/* uc_flags */
#define GUEST_UC_FP_XSTATE 0x1ULL
#define GUEST_UC_SIGCONTEXT_SS 0x2ULL
#define GUEST_UC_STRICT_RESTORE_SS 0x4ULL

#define SIGFRAME_REDZONE 128

/* struct sigcontext (x86-64), the ucontext's uc_mcontext. */
struct guest_sigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate; /* guest address of the FPU state, 0 for none */
  uint64_t reserved1[8];
};

struct guest_ucontext {
  uint64_t uc_flags;
  uint64_t uc_link;
  struct guest_stack uc_stack;
  struct guest_sigcontext uc_mcontext;
  uint64_t uc_sigmask; /* the kernel's 8-byte sigset */
};

/* siginfo_t: 128 bytes; which union member is used depends on signal and code. */
struct guest_siginfo {
  int32_t si_signo, si_errno, si_code;
  int32_t pad;
  union {
    struct {
      int32_t pid;
      uint32_t uid;
    } kill; /* SI_USER, SI_TKILL, SI_KERNEL */
    struct {
      uint64_t addr;
    } fault; /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP raised by a fault */
    uint8_t bytes[112];
  } fields;
};

struct guest_rt_sigframe {
  uint64_t pretcode;
  struct guest_ucontext uc;
  struct guest_siginfo info;
};

_Static_assert(sizeof(struct guest_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(sizeof(struct guest_ucontext) == 304, "the kernel's ucontext is 304 bytes");
_Static_assert(sizeof(struct guest_siginfo) == 128, "siginfo_t is 128 bytes");
_Static_assert(sizeof(struct guest_rt_sigframe) == 440, "rt_sigframe is 440 bytes");

/* Where the frame and the FPU state of a signal go when the interrupted
 * code's stack pointer is sp: below its red zone, or at the top of the
 * alternate stack for an SA_ONSTACK handler not already on it. -EFAULT when
 * a frame on the alternate stack would overflow it (Linux then kills with
 * SIGSEGV rather than scribble past it). */
int sigframe_locate(const struct sig_state *s, const struct guest_sigaction *act, uint64_t sp,
                    uint32_t fp_bytes, uint64_t *frame, uint64_t *fpstate);

/* Fills the frame for delivering `info` to `act` from the interrupted
 * registers r, with the mask and alternate stack of s (before the handler's
 * own mask is applied; the saved caller's mask while s->restore_mask) and
 * the FPU state at fpstate. */
void sigframe_fill(struct guest_rt_sigframe *f, const struct kvm_regs *r, const struct sig_state *s,
                   const struct guest_sigaction *act, const struct sig_info *info,
                   uint64_t fpstate);

/* Loads the general registers saved in sc into r: RFLAGS takes only the
 * flags user code may change and keeps IOPL=3. -EFAULT when the saved RIP
 * is not canonical (returning there would fault). */
int sigframe_restore_regs(struct kvm_regs *r, const struct guest_sigcontext *sc);

/* Stack bytes one frame may take, with the FPU state of layout l and the
 * worst-case alignment: a bound for AT_MINSIGSTKSZ. */
uint32_t sigframe_stack_need(const struct xsave_layout *l);

/* Enters act's handler for `info`: writes the frame and the FPU state to
 * the guest's stack, gives the handler a fresh FPU state, and points the
 * vCPU at it (RDI=signo, RSI=&info, RDX=&uc, RAX=0, RSP=frame with the
 * return address on top, RIP=handler). Clears vm->sig.restore_mask once
 * the frame holds the saved mask; leaves the blocked mask and disposition
 * to the caller. 0; -EFAULT when the guest's state makes the frame impossible
 * (no SA_RESTORER, unwritable stack, alternate stack too small, handler
 * address not canonical): the caller raises SIGSEGV; other negative errnos
 * when KVM fails. */
int sigframe_setup(struct vm *vm, const struct sig_info *info, const struct guest_sigaction *act);

/* rt_sigreturn: restores the registers, the FPU state, the blocked mask and
 * the alternate stack from the frame at RSP-8 (the restorer has popped the
 * return address). Returns the restored RAX, for the dispatcher to leave in
 * place; on a bad frame, forces SIGSEGV as Linux does and returns 0.
 * vm->sig.frame_restored says which. */
long sigframe_return(struct vm *vm);

#endif
