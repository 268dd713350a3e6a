/* sigframe.c - building the x86-64 Linux signal frame on the guest's stack
 * to enter a handler, and taking it apart again in rt_sigreturn
 * (sigframe.h). Guest memory only through uaccess; the FPU state through
 * KVM (xsave.h) in the frame format of fpframe.h. */
#include "sigframe.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "fpframe.h"
#include "log.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "signal.h"
#include "vm.h"

#define RFLAGS_CF 0x1ULL
#define RFLAGS_PF 0x4ULL
#define RFLAGS_AF 0x10ULL
#define RFLAGS_ZF 0x40ULL
#define RFLAGS_SF 0x80ULL
#define RFLAGS_TF 0x100ULL
#define RFLAGS_DF 0x400ULL
#define RFLAGS_OF 0x800ULL
#define RFLAGS_RF 0x10000ULL
#define RFLAGS_AC 0x40000ULL
/* What rt_sigreturn may change in RFLAGS (Linux's FIX_EFLAGS). */
#define RFLAGS_USER                                                                                \
  (RFLAGS_AC | RFLAGS_OF | RFLAGS_DF | RFLAGS_TF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | \
   RFLAGS_CF | RFLAGS_RF)

#define X86_TRAP_PF 14

static bool canonical(uint64_t addr) { return (uint64_t)((int64_t)(addr << 16) >> 16) == addr; }

int sigframe_locate(const struct sig_state *s, const struct guest_sigaction *act, uint64_t sp,
                    uint32_t fp_bytes, uint64_t *frame, uint64_t *fpstate) {
  bool nested = sig_on_altstack(s, sp), entering = false;
  sp -= SIGFRAME_REDZONE;
  if ((act->flags & GUEST_SA_ONSTACK) && sig_altstack_mode(s, sp) == 0) {
    sp = s->altstack_sp + s->altstack_size;
    entering = true;
  }
  sp = (sp - fp_bytes) & ~63ULL;
  *fpstate = sp;
  sp -= sizeof(struct guest_rt_sigframe);
  sp = (sp & ~15ULL) - 8; /* RSP+8 16-byte aligned at entry, as after a call */
  *frame = sp;
  /* Linux checks the alternate stack's bounds whatever SS_AUTODISARM says. */
  bool inside = sp > s->altstack_sp && sp - s->altstack_sp <= s->altstack_size;
  return (nested || entering) && !inside ? -EFAULT : 0;
}

static void sigframe_fill_regs(struct guest_sigcontext *sc, const struct kvm_regs *r) {
  *sc = (struct guest_sigcontext){.r8 = r->r8,
                                  .r9 = r->r9,
                                  .r10 = r->r10,
                                  .r11 = r->r11,
                                  .r12 = r->r12,
                                  .r13 = r->r13,
                                  .r14 = r->r14,
                                  .r15 = r->r15,
                                  .rdi = r->rdi,
                                  .rsi = r->rsi,
                                  .rbp = r->rbp,
                                  .rbx = r->rbx,
                                  .rdx = r->rdx,
                                  .rax = r->rax,
                                  .rcx = r->rcx,
                                  .rsp = r->rsp,
                                  .rip = r->rip,
                                  .eflags = r->rflags,
                                  .cs = SEL_USER_CODE,
                                  .ss = SEL_USER_DATA}; /* fs and gs read 0, as on Linux */
}

static bool sig_from_fault(const struct sig_info *info) {
  switch (info->signo) {
  case SIGSEGV:
  case SIGBUS:
  case SIGILL:
  case SIGFPE:
  case SIGTRAP:
    return info->code > 0 && info->code != GUEST_SI_KERNEL;
  default:
    return false;
  }
}

static void sigframe_fill_siginfo(struct guest_siginfo *si, const struct sig_info *info) {
  memset(si, 0, sizeof *si);
  si->si_signo = info->signo;
  si->si_code = info->code;
  if (sig_from_fault(info)) {
    si->fields.fault.addr = info->addr;
  } else {
    si->fields.kill.pid = info->pid;
    si->fields.kill.uid = info->uid;
  }
}

void sigframe_fill(struct guest_rt_sigframe *f, const struct kvm_regs *r, const struct sig_state *s,
                   const struct guest_sigaction *act, const struct sig_info *info,
                   uint64_t fpstate) {
  memset(f, 0, sizeof *f);
  f->pretcode = act->restorer;
  f->uc.uc_flags = GUEST_UC_FP_XSTATE | GUEST_UC_SIGCONTEXT_SS | GUEST_UC_STRICT_RESTORE_SS;
  /* The alternate stack as set, so rt_sigreturn re-arms an SS_AUTODISARM one. */
  f->uc.uc_stack = (struct guest_stack){
      .ss_sp = s->altstack_sp, .ss_flags = s->altstack_flags, .ss_size = s->altstack_size};
  struct guest_sigcontext *sc = &f->uc.uc_mcontext;
  sigframe_fill_regs(sc, r);
  sc->err = info->error_code;
  sc->trapno = info->trapno;
  sc->cr2 = info->trapno == X86_TRAP_PF ? info->addr : 0;
  /* The mask rt_sigreturn restores: the caller's own when the signal ends
   * a wait under a temporary mask (sigstate.h, restore_mask). */
  uint64_t old_mask = s->restore_mask ? s->saved_mask : s->blocked;
  sc->oldmask = old_mask;
  sc->fpstate = fpstate;
  f->uc.uc_sigmask = old_mask;
  sigframe_fill_siginfo(&f->info, info);
}

int sigframe_restore_regs(struct kvm_regs *r, const struct guest_sigcontext *sc) {
  if (!canonical(sc->rip))
    return -EFAULT;
  uint64_t rflags = (r->rflags & ~(RFLAGS_USER | RFLAGS_IOPL3)) | (sc->eflags & RFLAGS_USER) |
                    RFLAGS_FIXED | RFLAGS_IOPL3;
  *r = (struct kvm_regs){.r8 = sc->r8,
                         .r9 = sc->r9,
                         .r10 = sc->r10,
                         .r11 = sc->r11,
                         .r12 = sc->r12,
                         .r13 = sc->r13,
                         .r14 = sc->r14,
                         .r15 = sc->r15,
                         .rdi = sc->rdi,
                         .rsi = sc->rsi,
                         .rbp = sc->rbp,
                         .rbx = sc->rbx,
                         .rdx = sc->rdx,
                         .rax = sc->rax,
                         .rcx = sc->rcx,
                         .rsp = sc->rsp,
                         .rip = sc->rip,
                         .rflags = rflags};
  return 0;
}

uint32_t sigframe_stack_need(const struct xsave_layout *l) {
  return (uint32_t)sizeof(struct guest_rt_sigframe) + fpframe_size(l) + 64 + 16;
}

/* A KVM failure is the VMM's, never to be mistaken for the guest's -EFAULT. */
static int kvm_failure(int rc) { return rc == -EFAULT ? -EIO : rc; }

/* Writes the FPU image and the frame; -EFAULT when the stack is not writable. */
static int sigframe_write(struct vm *vm, const struct guest_rt_sigframe *f, uint64_t frame,
                          const uint8_t *fp_img, uint32_t fp_bytes, uint64_t fpstate) {
  if (uaccess_copy_to(&vm->mem, fpstate, fp_img, fp_bytes) < 0 ||
      uaccess_copy_to(&vm->mem, frame, f, sizeof *f) < 0)
    return -EFAULT;
  return 0;
}

static void sigframe_enter(struct kvm_regs *r, const struct sig_info *info,
                           const struct guest_sigaction *act, uint64_t frame) {
  r->rdi = (uint64_t)info->signo;
  r->rsi = frame + offsetof(struct guest_rt_sigframe, info);
  r->rdx = frame + offsetof(struct guest_rt_sigframe, uc);
  r->rax = 0;
  r->rsp = frame;
  r->rip = act->handler;
  /* The ABI's function entry: DF clear; no single-step into the handler. */
  r->rflags = (r->rflags & ~(RFLAGS_DF | RFLAGS_RF | RFLAGS_TF)) | RFLAGS_FIXED | RFLAGS_IOPL3;
}

int sigframe_setup(struct vm *vm, const struct sig_info *info, const struct guest_sigaction *act) {
  /* Without a restorer the handler has nowhere to return: Linux fails the
   * frame. A handler address that is not canonical could not run. */
  if (!(act->flags & GUEST_SA_RESTORER) || !canonical(act->handler))
    return -EFAULT;
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  struct kvm_xsave xs;
  struct xsave_layout l;
  int rc = xsave_read(&vm->kvm, &xs, &l);
  if (rc < 0)
    return kvm_failure(rc);
  uint64_t frame, fpstate;
  if (sigframe_locate(&vm->sig, act, r->rsp, fpframe_size(&l), &frame, &fpstate) < 0)
    return -EFAULT;
  uint8_t fp_img[FPFRAME_MAX_SIZE];
  struct guest_rt_sigframe f;
  fpframe_build(&l, &xs, fp_img);
  sigframe_fill(&f, r, &vm->sig, act, info, fpstate);
  if (sigframe_write(vm, &f, frame, fp_img, fpframe_size(&l), fpstate) < 0)
    return -EFAULT;
  vm->sig.restore_mask = false; /* the frame holds the caller's mask now */
  fpframe_initial(&xs);
  if ((rc = xsave_write(&vm->kvm, &xs)) < 0)
    return kvm_failure(rc);
  sigframe_enter(r, info, act, frame);
  vkvm_regs_dirty(&vm->kvm);
  return 0;
}

/* Reads the FPU image at fpstate into KVM's form. -EFAULT for a frame
 * Linux's rt_sigreturn would refuse. */
static int sigframe_read_fpu(struct vm *vm, const struct xsave_layout *l, uint64_t fpstate,
                             struct kvm_xsave *out) {
  uint8_t img[FPFRAME_MAX_SIZE];
  struct fpframe_desc d;
  if (uaccess_copy_from(&vm->mem, img, fpstate, XSAVE_LEGACY_SIZE) < 0)
    return -EFAULT;
  fpframe_describe(l, img, &d);
  uint32_t magic2;
  if (d.xsave && uaccess_copy_from(&vm->mem, &magic2, fpstate + d.size, sizeof magic2) < 0)
    return -EFAULT;
  if (d.xsave && magic2 != FPFRAME_MAGIC2)
    fpframe_describe_fx(&d);
  /* XRSTOR wants 64-byte alignment, FXRSTOR 16. */
  if (fpstate & (d.xsave ? 63 : 15))
    return -EFAULT;
  if (d.xsave && uaccess_copy_from(&vm->mem, img + XSAVE_LEGACY_SIZE, fpstate + XSAVE_LEGACY_SIZE,
                                   d.size - XSAVE_LEGACY_SIZE) < 0)
    return -EFAULT;
  return fpframe_parse(l, &d, img, out) < 0 ? -EFAULT : 0;
}

/* Loads the FPU state saved at fpstate (initial state for 0). -EFAULT for a
 * bad image, other negative errnos when KVM fails. */
static int sigframe_restore_fpu(struct vm *vm, uint64_t fpstate) {
  struct kvm_xsave cur, next;
  struct xsave_layout l;
  int rc = xsave_read(&vm->kvm, &cur, &l);
  if (rc < 0)
    return kvm_failure(rc);
  if (fpstate == 0)
    fpframe_initial(&next);
  else if ((rc = sigframe_read_fpu(vm, &l, fpstate, &next)) < 0)
    return rc;
  rc = xsave_write(&vm->kvm, &next);
  if (rc == -EINVAL)
    return -EFAULT; /* KVM refused what the guest wrote: the guest's bad frame */
  return rc < 0 ? kvm_failure(rc) : 0;
}

static long sigframe_bad(struct vm *vm, uint64_t frame) {
  VLOG_LIMITED(VLOG_INFO, "rt_sigreturn: bad signal frame at %#llx: SIGSEGV",
               (unsigned long long)frame);
  struct sig_info segv = {.signo = SIGSEGV, .code = GUEST_SI_KERNEL};
  sig_force(vm, &segv);
  return 0;
}

long sigframe_return(struct vm *vm) {
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  uint64_t frame = r->rsp - 8;
  struct guest_ucontext uc;
  vm->sig.frame_restored = false;
  if (uaccess_copy_from(&vm->mem, &uc, frame + offsetof(struct guest_rt_sigframe, uc), sizeof uc) <
      0)
    return sigframe_bad(vm, frame);
  /* Linux installs the saved mask before it looks at anything else. */
  vm->sig.blocked = sig_mask_sanitize(uc.uc_sigmask);
  struct kvm_regs restored = *r;
  if (sigframe_restore_regs(&restored, &uc.uc_mcontext) < 0)
    return sigframe_bad(vm, frame);
  int rc = sigframe_restore_fpu(vm, uc.uc_mcontext.fpstate);
  if (rc == -EFAULT)
    return sigframe_bad(vm, frame);
  if (rc < 0) {
    vlog(VLOG_ERROR, "rt_sigreturn: cannot load the FPU state: %s", strerror(-rc));
    vm_stop_error(vm);
    return 0;
  }
  *r = restored;
  vkvm_regs_dirty(&vm->kvm);
  /* Re-arms the alternate stack; errors are ignored, as Linux does. */
  (void)sig_altstack_set(&vm->sig, r->rsp, &uc.uc_stack);
  vm->sig.frame_restored = true;
  return (long)r->rax;
}
