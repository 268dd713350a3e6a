/* Unit tests of the signal frame (sigframe.c) and its FPU image
 * (fpframe.c) without a VM: the layouts equal the kernel ABI as the host's
 * <signal.h> and <sys/ucontext.h> describe it, frames are placed and
 * aligned as Linux places them, and register and FPU state survive the
 * round trip with only what user code may change. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ucontext.h>

#include <cmocka.h>

#include "kernel/fpframe.h"
#include "kernel/sigframe.h"
#include "kvm/kvm.h"
#include "mem/layout.h"

#define MC offsetof(struct guest_ucontext, uc_mcontext)
#define GREG(r) (offsetof(ucontext_t, uc_mcontext.gregs) + (r) * sizeof(greg_t) - MC)

static void ucontext_layout_matches_the_host_abi(void **state) {
  assert_int_equal(offsetof(struct guest_ucontext, uc_flags), offsetof(ucontext_t, uc_flags));
  assert_int_equal(offsetof(struct guest_ucontext, uc_link), offsetof(ucontext_t, uc_link));
  assert_int_equal(offsetof(struct guest_ucontext, uc_stack), offsetof(ucontext_t, uc_stack));
  assert_int_equal(MC, offsetof(ucontext_t, uc_mcontext));
  assert_int_equal(offsetof(struct guest_ucontext, uc_sigmask), offsetof(ucontext_t, uc_sigmask));
  static const struct {
    int reg;
    size_t ours;
  } regs[] = {
      {REG_R8, offsetof(struct guest_sigcontext, r8)},
      {REG_R9, offsetof(struct guest_sigcontext, r9)},
      {REG_R10, offsetof(struct guest_sigcontext, r10)},
      {REG_R11, offsetof(struct guest_sigcontext, r11)},
      {REG_R12, offsetof(struct guest_sigcontext, r12)},
      {REG_R13, offsetof(struct guest_sigcontext, r13)},
      {REG_R14, offsetof(struct guest_sigcontext, r14)},
      {REG_R15, offsetof(struct guest_sigcontext, r15)},
      {REG_RDI, offsetof(struct guest_sigcontext, rdi)},
      {REG_RSI, offsetof(struct guest_sigcontext, rsi)},
      {REG_RBP, offsetof(struct guest_sigcontext, rbp)},
      {REG_RBX, offsetof(struct guest_sigcontext, rbx)},
      {REG_RDX, offsetof(struct guest_sigcontext, rdx)},
      {REG_RAX, offsetof(struct guest_sigcontext, rax)},
      {REG_RCX, offsetof(struct guest_sigcontext, rcx)},
      {REG_RSP, offsetof(struct guest_sigcontext, rsp)},
      {REG_RIP, offsetof(struct guest_sigcontext, rip)},
      {REG_EFL, offsetof(struct guest_sigcontext, eflags)},
      {REG_CSGSFS, offsetof(struct guest_sigcontext, cs)},
      {REG_ERR, offsetof(struct guest_sigcontext, err)},
      {REG_TRAPNO, offsetof(struct guest_sigcontext, trapno)},
      {REG_OLDMASK, offsetof(struct guest_sigcontext, oldmask)},
      {REG_CR2, offsetof(struct guest_sigcontext, cr2)},
  };
  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
    assert_int_equal(GREG(regs[i].reg), regs[i].ours);
  assert_int_equal(offsetof(ucontext_t, uc_mcontext.fpregs) - MC,
                   offsetof(struct guest_sigcontext, fpstate));
}

static void sigcontext_layout_matches_the_host_abi(void **state) {
  assert_int_equal(sizeof(struct sigcontext), sizeof(struct guest_sigcontext));
  assert_int_equal(offsetof(struct sigcontext, rip), offsetof(struct guest_sigcontext, rip));
  assert_int_equal(offsetof(struct sigcontext, eflags), offsetof(struct guest_sigcontext, eflags));
  assert_int_equal(offsetof(struct sigcontext, cs), offsetof(struct guest_sigcontext, cs));
  assert_int_equal(offsetof(struct sigcontext, gs), offsetof(struct guest_sigcontext, gs));
  assert_int_equal(offsetof(struct sigcontext, fs), offsetof(struct guest_sigcontext, fs));
  assert_int_equal(offsetof(struct sigcontext, __pad0), offsetof(struct guest_sigcontext, ss));
  assert_int_equal(offsetof(struct sigcontext, err), offsetof(struct guest_sigcontext, err));
  assert_int_equal(offsetof(struct sigcontext, cr2), offsetof(struct guest_sigcontext, cr2));
  assert_int_equal(offsetof(struct sigcontext, fpstate),
                   offsetof(struct guest_sigcontext, fpstate));
  assert_int_equal(offsetof(struct sigcontext, __reserved1),
                   offsetof(struct guest_sigcontext, reserved1));
}

static void siginfo_and_stack_layouts_match_the_host_abi(void **state) {
  assert_int_equal(sizeof(siginfo_t), sizeof(struct guest_siginfo));
  assert_int_equal(offsetof(siginfo_t, si_signo), offsetof(struct guest_siginfo, si_signo));
  assert_int_equal(offsetof(siginfo_t, si_errno), offsetof(struct guest_siginfo, si_errno));
  assert_int_equal(offsetof(siginfo_t, si_code), offsetof(struct guest_siginfo, si_code));
  assert_int_equal(offsetof(siginfo_t, si_pid), offsetof(struct guest_siginfo, fields.kill.pid));
  assert_int_equal(offsetof(siginfo_t, si_uid), offsetof(struct guest_siginfo, fields.kill.uid));
  assert_int_equal(offsetof(siginfo_t, si_addr), offsetof(struct guest_siginfo, fields.fault.addr));
  assert_int_equal(sizeof(stack_t), sizeof(struct guest_stack));
  assert_int_equal(offsetof(stack_t, ss_sp), offsetof(struct guest_stack, ss_sp));
  assert_int_equal(offsetof(stack_t, ss_flags), offsetof(struct guest_stack, ss_flags));
  assert_int_equal(offsetof(stack_t, ss_size), offsetof(struct guest_stack, ss_size));
  /* Flag values glibc shares with the kernel. */
  assert_int_equal(SA_SIGINFO, GUEST_SA_SIGINFO);
  assert_int_equal(SA_ONSTACK, GUEST_SA_ONSTACK);
  assert_int_equal(SA_RESTART, GUEST_SA_RESTART);
  assert_int_equal(SA_NODEFER, GUEST_SA_NODEFER);
  assert_int_equal((uint32_t)SA_RESETHAND, GUEST_SA_RESETHAND);
  assert_int_equal(SS_ONSTACK, GUEST_SS_ONSTACK);
  assert_int_equal(SS_DISABLE, GUEST_SS_DISABLE);
  assert_int_equal(SIG_BLOCK, GUEST_SIG_BLOCK);
  assert_int_equal(SIG_UNBLOCK, GUEST_SIG_UNBLOCK);
  assert_int_equal(SIG_SETMASK, GUEST_SIG_SETMASK);
  assert_int_equal(SI_USER, GUEST_SI_USER);
  assert_int_equal(SI_KERNEL, GUEST_SI_KERNEL);
  assert_int_equal(SI_TKILL, GUEST_SI_TKILL);
}

static void fpu_image_layout_matches_the_host_abi(void **state) {
  assert_int_equal(FP_XSTATE_MAGIC1, FPFRAME_MAGIC1);
  assert_int_equal(FP_XSTATE_MAGIC2, FPFRAME_MAGIC2);
  assert_int_equal(offsetof(struct _fpstate, mxcsr), XSAVE_MXCSR);
  assert_int_equal(offsetof(struct _fpstate, mxcr_mask), XSAVE_MXCSR_MASK);
  assert_int_equal(offsetof(struct _fpstate, _st), XSAVE_ST);
  assert_int_equal(offsetof(struct _fpstate, _xmm), XSAVE_XMM);
  assert_int_equal(sizeof(struct _fpstate), XSAVE_LEGACY_SIZE);
  /* The software-reserved bytes are the last 48 of the legacy region. */
  assert_int_equal(FPFRAME_SW_BYTES + sizeof(struct _fpx_sw_bytes), XSAVE_LEGACY_SIZE);
  assert_int_equal(offsetof(struct _xstate, xstate_hdr), XSAVE_HEADER);
}

static const struct xsave_layout avx = {
    .xcr0 = XFEATURE_FP | XFEATURE_SSE | XFEATURE_YMM, .size = 832, .mxcsr_mask = 0xffff};

#define SP 0x7ffffff00123ULL /* deliberately misaligned */

static void frame_goes_below_the_red_zone_aligned_like_a_call(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  struct guest_sigaction act = {.handler = 0x401000, .flags = GUEST_SA_RESTORER};
  uint64_t frame, fp;
  assert_int_equal(sigframe_locate(&s, &act, SP, fpframe_size(&avx), &frame, &fp), 0);
  assert_int_equal(fp % 64, 0);
  assert_true(fp + fpframe_size(&avx) <= SP - SIGFRAME_REDZONE);
  assert_true(SP - SIGFRAME_REDZONE - (fp + fpframe_size(&avx)) < 64);
  assert_int_equal((frame + 8) % 16, 0);
  assert_true(frame + sizeof(struct guest_rt_sigframe) <= fp);
  assert_true(fp - (frame + sizeof(struct guest_rt_sigframe)) < 24);
  /* SA_ONSTACK without an alternate stack changes nothing. */
  uint64_t frame2, fp2;
  act.flags |= GUEST_SA_ONSTACK;
  assert_int_equal(sigframe_locate(&s, &act, SP, fpframe_size(&avx), &frame2, &fp2), 0);
  assert_int_equal(frame2, frame);
}

#define ALT 0x10000000ULL

static void onstack_handlers_use_the_alternate_stack_within_bounds(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  struct guest_stack ss = {.ss_sp = ALT, .ss_size = 0x2000};
  assert_int_equal(sig_altstack_set(&s, SP, &ss), 0);
  struct guest_sigaction act = {.flags = GUEST_SA_RESTORER | GUEST_SA_ONSTACK};
  uint64_t frame, fp;
  assert_int_equal(sigframe_locate(&s, &act, SP, fpframe_size(&avx), &frame, &fp), 0);
  assert_true(fp + fpframe_size(&avx) <= ALT + 0x2000);
  assert_true(frame > ALT);
  /* Already on it (a nested signal): continues below the current sp. */
  uint64_t inner_sp = frame - 8;
  uint64_t frame2, fp2;
  assert_int_equal(sigframe_locate(&s, &act, inner_sp, fpframe_size(&avx), &frame2, &fp2), 0);
  assert_true(fp2 + fpframe_size(&avx) <= inner_sp - SIGFRAME_REDZONE);
  /* A stack too small for the frame: refused rather than overflowed. */
  struct guest_stack tiny = {.ss_sp = ALT, .ss_size = GUEST_MINSIGSTKSZ};
  assert_int_equal(sig_altstack_set(&s, SP, &tiny), 0);
  struct xsave_layout big = avx;
  big.size = 2688; /* an AVX-512 machine's area */
  assert_int_equal(sigframe_locate(&s, &act, SP, fpframe_size(&big), &frame, &fp), -EFAULT);
  /* Without SA_ONSTACK the same signal goes on the normal stack. */
  act.flags = GUEST_SA_RESTORER;
  assert_int_equal(sigframe_locate(&s, &act, SP, fpframe_size(&big), &frame, &fp), 0);
}

static struct kvm_regs sample_regs(void) {
  return (struct kvm_regs){.rax = 0xfffffffffffffff2ULL, /* -EBADF, a syscall result */
                           .rbx = 2,
                           .rcx = 3,
                           .rdx = 4,
                           .rsi = 5,
                           .rdi = 6,
                           .rsp = SP,
                           .rbp = 8,
                           .r8 = 9,
                           .r9 = 10,
                           .r10 = 11,
                           .r11 = 12,
                           .r12 = 13,
                           .r13 = 14,
                           .r14 = 15,
                           .r15 = 16,
                           .rip = 0x401234,
                           .rflags = 0x3246};
}

static void frame_records_registers_mask_and_siginfo(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = sig_bit(SIGUSR2);
  struct kvm_regs r = sample_regs();
  struct guest_sigaction act = {
      .handler = 0x401000, .flags = GUEST_SA_RESTORER, .restorer = 0x4ff0};
  struct sig_info kill = {.signo = SIGUSR1, .code = GUEST_SI_TKILL, .pid = 2, .uid = 1000};
  struct guest_rt_sigframe f;
  sigframe_fill(&f, &r, &s, &act, &kill, 0x7ffffff00000ULL);
  assert_int_equal(f.pretcode, 0x4ff0);
  const struct guest_sigcontext *sc = &f.uc.uc_mcontext;
  assert_int_equal(sc->rax, r.rax);
  assert_int_equal(sc->rip, 0x401234);
  assert_int_equal(sc->rsp, SP);
  assert_int_equal(sc->r15, 16);
  assert_int_equal(sc->rdi, 6);
  assert_int_equal(sc->eflags, 0x3246);
  assert_int_equal(sc->cs, SEL_USER_CODE);
  assert_int_equal(sc->ss, SEL_USER_DATA);
  assert_int_equal(sc->fpstate, 0x7ffffff00000ULL);
  assert_int_equal(sc->oldmask, sig_bit(SIGUSR2));
  assert_int_equal(f.uc.uc_sigmask, sig_bit(SIGUSR2));
  assert_int_equal(f.uc.uc_stack.ss_flags, GUEST_SS_DISABLE);
  assert_true(f.uc.uc_flags & GUEST_UC_FP_XSTATE);
  assert_int_equal(f.info.si_signo, SIGUSR1);
  assert_int_equal(f.info.si_code, GUEST_SI_TKILL);
  assert_int_equal(f.info.fields.kill.pid, 2);
  assert_int_equal(f.info.fields.kill.uid, 1000);

  struct sig_info fault = {.signo = SIGSEGV,
                           .code = 1 /* SEGV_MAPERR */,
                           .addr = 0xdead000,
                           .trapno = 14,
                           .error_code = 6};
  sigframe_fill(&f, &r, &s, &act, &fault, 0);
  assert_int_equal(f.info.fields.fault.addr, 0xdead000);
  assert_int_equal(f.uc.uc_mcontext.cr2, 0xdead000);
  assert_int_equal(f.uc.uc_mcontext.trapno, 14);
  assert_int_equal(f.uc.uc_mcontext.err, 6);
}

static void restore_takes_only_user_flags_and_keeps_iopl3(void **state) {
  struct kvm_regs r = sample_regs(), before = r;
  struct guest_sigcontext sc = {.rip = 0x402000, .rsp = 0x7fff1000, .rax = 42, .r11 = 0x777};
  /* The frame asks for IOPL 0, NT, VM and IF off and DF, CF on. */
  sc.eflags = 0x400 | 0x1 | 0x4000 | 0x20000;
  r.rflags = 0x3202; /* IF on, IOPL 3 */
  assert_int_equal(sigframe_restore_regs(&r, &sc), 0);
  assert_int_equal(r.rip, 0x402000);
  assert_int_equal(r.rsp, 0x7fff1000);
  assert_int_equal(r.rax, 42);
  assert_int_equal(r.r11, 0x777);
  assert_int_equal(r.rflags, 0x3202 | 0x400 | 0x1);
  /* A non-canonical RIP is refused and nothing changes. */
  struct kvm_regs r2 = before;
  sc.rip = 0x0000800000000000ULL;
  assert_int_equal(sigframe_restore_regs(&r2, &sc), -EFAULT);
  assert_memory_equal(&r2, &before, sizeof r2);
  sc.rip = 0xffff800000001000ULL; /* canonical, if not user */
  assert_int_equal(sigframe_restore_regs(&r2, &sc), 0);
}

static void fill_state(struct kvm_xsave *x) {
  uint8_t *p = (uint8_t *)x->region;
  memset(x, 0, sizeof *x);
  for (unsigned i = 0; i < avx.size; i++)
    p[i] = (uint8_t)(i * 13 + 5);
  uint32_t mxcsr = 0x1f80 | 0x6000; /* round toward zero */
  memcpy(p + XSAVE_MXCSR, &mxcsr, 4);
  memset(p + XSAVE_HEADER, 0, XSAVE_HEADER_SIZE);
  uint64_t bv = avx.xcr0;
  memcpy(p + XSAVE_HEADER, &bv, 8);
}

static void fpu_image_round_trips(void **state) {
  struct kvm_xsave x, back;
  uint8_t img[FPFRAME_MAX_SIZE];
  fill_state(&x);
  fpframe_build(&avx, &x, img);
  uint32_t magic2;
  memcpy(&magic2, img + avx.size, 4);
  assert_int_equal(magic2, FPFRAME_MAGIC2);
  const struct _fpx_sw_bytes *sw = (const void *)(img + FPFRAME_SW_BYTES);
  assert_int_equal(sw->magic1, FP_XSTATE_MAGIC1);
  assert_int_equal(sw->xstate_size, avx.size);
  assert_int_equal(sw->extended_size, avx.size + 4);
  assert_int_equal(sw->xstate_bv, avx.xcr0);

  struct fpframe_desc d;
  fpframe_describe(&avx, img, &d);
  assert_true(d.xsave);
  assert_int_equal(d.size, avx.size);
  assert_int_equal(fpframe_parse(&avx, &d, img, &back), 0);
  /* Everything but the software-reserved bytes comes back. */
  assert_memory_equal(back.region, x.region, FPFRAME_SW_BYTES);
  assert_memory_equal((uint8_t *)back.region + 512, (uint8_t *)x.region + 512, avx.size - 512);
}

static void fpu_image_without_magic_is_a_bare_fxsave_area(void **state) {
  struct kvm_xsave x, back;
  uint8_t img[FPFRAME_MAX_SIZE];
  fill_state(&x);
  fpframe_build(&avx, &x, img);
  img[FPFRAME_SW_BYTES] ^= 1; /* spoil MAGIC1 */
  struct fpframe_desc d;
  fpframe_describe(&avx, img, &d);
  assert_false(d.xsave);
  assert_int_equal(d.size, XSAVE_LEGACY_SIZE);
  assert_int_equal(fpframe_parse(&avx, &d, img, &back), 0);
  assert_memory_equal(back.region, x.region, FPFRAME_SW_BYTES);
  uint64_t bv;
  memcpy(&bv, (uint8_t *)back.region + XSAVE_HEADER, 8);
  assert_int_equal(bv, XFEATURE_FP | XFEATURE_SSE); /* AVX upper halves: initial */
  /* A size claim beyond what the vCPU has is not believed either. */
  fpframe_build(&avx, &x, img);
  uint32_t huge = avx.size + 64;
  memcpy(img + FPFRAME_SW_BYTES + 16, &huge, 4);
  fpframe_describe(&avx, img, &d);
  assert_false(d.xsave);
}

static void fpu_image_refuses_what_xrstor_would(void **state) {
  struct kvm_xsave x, back;
  uint8_t img[FPFRAME_MAX_SIZE];
  struct fpframe_desc d;
  fill_state(&x);
  fpframe_build(&avx, &x, img);
  fpframe_describe(&avx, img, &d);
  uint8_t bad[FPFRAME_MAX_SIZE];

  memcpy(bad, img, sizeof bad);
  uint32_t mxcsr = 0x10000; /* reserved bit */
  memcpy(bad + XSAVE_MXCSR, &mxcsr, 4);
  assert_int_equal(fpframe_parse(&avx, &d, bad, &back), -EINVAL);

  memcpy(bad, img, sizeof bad);
  bad[XSAVE_HEADER + 8] = 1; /* XCOMP_BV: compacted form */
  assert_int_equal(fpframe_parse(&avx, &d, bad, &back), -EINVAL);

  memcpy(bad, img, sizeof bad);
  bad[XSAVE_HEADER + 40] = 1; /* reserved header byte */
  assert_int_equal(fpframe_parse(&avx, &d, bad, &back), -EINVAL);

  memcpy(bad, img, sizeof bad);
  bad[XSAVE_HEADER] |= 0x20; /* XSTATE_BV with a component XCR0 lacks */
  assert_int_equal(fpframe_parse(&avx, &d, bad, &back), -EINVAL);
}

static void components_absent_from_the_image_come_back_initial(void **state) {
  struct kvm_xsave x, back;
  uint8_t img[FPFRAME_MAX_SIZE];
  struct fpframe_desc d;
  fill_state(&x);
  fpframe_build(&avx, &x, img);
  img[XSAVE_HEADER] = (uint8_t)XFEATURE_YMM; /* x87 and SSE said to be initial */
  fpframe_describe(&avx, img, &d);
  assert_int_equal(fpframe_parse(&avx, &d, img, &back), 0);
  const uint8_t *p = (const uint8_t *)back.region;
  uint16_t fcw;
  uint32_t mxcsr;
  memcpy(&fcw, p, 2);
  memcpy(&mxcsr, p + XSAVE_MXCSR, 4);
  assert_int_equal(fcw, 0x037f);
  assert_int_equal(mxcsr, 0x1f80 | 0x6000); /* MXCSR is still loaded: YMM is restored */
  for (int i = XSAVE_XMM; i < XSAVE_XMM + 256; i++)
    assert_int_equal(p[i], 0);
  assert_memory_equal(p + 576, (uint8_t *)x.region + 576, 256); /* the YMM upper halves */
}

static void handlers_start_from_the_initial_fpu_state(void **state) {
  struct kvm_xsave x;
  fpframe_initial(&x);
  const uint8_t *p = (const uint8_t *)x.region;
  uint16_t fcw;
  uint32_t mxcsr;
  uint64_t bv;
  memcpy(&fcw, p, 2);
  memcpy(&mxcsr, p + XSAVE_MXCSR, 4);
  memcpy(&bv, p + XSAVE_HEADER, 8);
  assert_int_equal(fcw, 0x037f);
  assert_int_equal(mxcsr, 0x1f80);
  assert_int_equal(bv, XFEATURE_FP | XFEATURE_SSE);
  for (int i = XSAVE_XMM; i < XSAVE_XMM + 256; i++)
    assert_int_equal(p[i], 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ucontext_layout_matches_the_host_abi),
      cmocka_unit_test(sigcontext_layout_matches_the_host_abi),
      cmocka_unit_test(siginfo_and_stack_layouts_match_the_host_abi),
      cmocka_unit_test(fpu_image_layout_matches_the_host_abi),
      cmocka_unit_test(frame_goes_below_the_red_zone_aligned_like_a_call),
      cmocka_unit_test(onstack_handlers_use_the_alternate_stack_within_bounds),
      cmocka_unit_test(frame_records_registers_mask_and_siginfo),
      cmocka_unit_test(restore_takes_only_user_flags_and_keeps_iopl3),
      cmocka_unit_test(fpu_image_round_trips),
      cmocka_unit_test(fpu_image_without_magic_is_a_bare_fxsave_area),
      cmocka_unit_test(fpu_image_refuses_what_xrstor_would),
      cmocka_unit_test(components_absent_from_the_image_come_back_initial),
      cmocka_unit_test(handlers_start_from_the_initial_fpu_state),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
