/* Tests of the vCPU section (snap_vcpu.c) on a live KVM vCPU: a guest stopped
 * at a system call (`out` to the syscall port) is saved once its pending I/O
 * exit is completed, loaded into a second, fresh VM, and that VM resumes with
 * the same registers, FS/GS bases and SSE state at the next instruction. A
 * section that would give the guest what it cannot have at CPL 3 is
 * refused. Skipped when /dev/kvm is unusable (failed under
 * HEARTH_REQUIRE_KVM=1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#include "kernel/xsave.h"
#include "kvm/cpu.h"
#include "kvm/kvm.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define MEM_BYTES (16ull << 20)
#define CODE_AT 0x400000ull
#define STACK_AT 0x500000ull
#define FS_BASE 0x7f0000123000ull
#define GS_BASE 0x7f0000456000ull

/* Offsets in the section (snap_vcpu.c's order): 18 general registers, 8
 * segments of 25 bytes, GDT and IDT (12 bytes each), CR0, CR2, CR3, CR4,
 * EFER, the XSAVE area, XCR0, 5 MSRs, the calibration. */
#define OFF_RFLAGS (17 * 8)
#define OFF_CS_SELECTOR (18 * 8 + 12)
#define OFF_CR3 (18 * 8 + 8 * 25 + 24 + 16)
#define OFF_XSAVE (OFF_CR3 + 24)
#define OFF_XCR0 (OFF_XSAVE + 4096)
#define OFF_LSTAR (OFF_XCR0 + 8 + 8)

static bool kvm_wanted(void) {
  const char *req = getenv("HEARTH_REQUIRE_KVM");
  return req && strcmp(req, "1") == 0;
}

/* Guest memory with the system pages and a code page of two `out`s (two
 * system calls), and the vCPU. False when KVM is unusable. */
static bool vm_up(struct vm *vm) {
  memset(vm, 0, sizeof *vm);
  assert_int_equal(gmem_init(&vm->mem, MEM_BYTES), 0);
  assert_int_equal(cpu_build_system_pages(&vm->mem), 0);
  assert_int_equal(gmem_populate(&vm->mem, CODE_AT, GUEST_PAGE_SIZE, GMEM_ACC_READ, false), 0);
  assert_int_equal(
      gmem_populate(&vm->mem, STACK_AT, GUEST_PAGE_SIZE, GMEM_ACC_READ | GMEM_ACC_WRITE, false), 0);
  uint64_t pa;
  unsigned acc;
  assert_true(gmem_translate(&vm->mem, CODE_AT, &pa, &acc));
  static const uint8_t code[] = {0xe6, PORT_SYSCALL, 0xe6, PORT_SYSCALL, 0x0f, 0x0b};
  memcpy(gmem_pa_host(&vm->mem, pa), code, sizeof code);
  if (vkvm_create(&vm->kvm, &vm->mem) < 0) {
    gmem_fini(&vm->mem);
    return false;
  }
  return true;
}

static void vm_down(struct vm *vm) {
  vkvm_destroy(&vm->kvm);
  gmem_fini(&vm->mem);
}

/* Runs to the next exit, which must be the guest's system call. */
static void run_to_syscall(struct vm *vm) {
  assert_int_equal(vkvm_run(&vm->kvm), 0);
  assert_int_equal(vm->kvm.run->exit_reason, KVM_EXIT_IO);
  assert_int_equal(vm->kvm.run->io.port, PORT_SYSCALL);
}

/* What the VMM does before saving on hardware KVM (PLATFORM.md): lets KVM
 * finish the pending I/O exit without running guest code. */
static void complete_pending_exit(struct vkvm *k) {
  k->run->immediate_exit = 1;
  assert_int_equal(ioctl(k->vcpu_fd, KVM_RUN, 0), -1);
  assert_int_equal(errno, EINTR);
  k->run->immediate_exit = 0;
  k->io_pending = false;
}

static void set_xmm0(struct vm *vm, uint8_t fill) {
  struct kvm_xsave x;
  struct xsave_layout l;
  assert_int_equal(xsave_read(&vm->kvm, &x, &l), 0);
  memset((uint8_t *)x.region + XSAVE_XMM, fill, 16);
  uint64_t bv;
  memcpy(&bv, (uint8_t *)x.region + XSAVE_HEADER, sizeof bv);
  bv |= XFEATURE_SSE;
  memcpy((uint8_t *)x.region + XSAVE_HEADER, &bv, sizeof bv);
  assert_int_equal(xsave_write(&vm->kvm, &x), 0);
}

static void xmm0_of(struct vm *vm, uint8_t *out) {
  struct kvm_xsave x;
  struct xsave_layout l;
  assert_int_equal(xsave_read(&vm->kvm, &x, &l), 0);
  memcpy(out, (uint8_t *)x.region + XSAVE_XMM, 16);
}

struct pair {
  struct vm a, b;
  struct snap_buf saved;
  struct kvm_regs regs; /* a's registers as saved */
};

/* VM a runs to its first system call with known registers and is saved. */
static int setup(void **state) {
  struct pair *p = calloc(1, sizeof *p);
  if (!vm_up(&p->a)) {
    free(p);
    if (kvm_wanted())
      fail_msg("HEARTH_REQUIRE_KVM=1 but /dev/kvm is unusable");
    *state = NULL;
    return 0;
  }
  struct vkvm *k = &p->a.kvm;
  vkvm_set_entry(k, CODE_AT, STACK_AT + GUEST_PAGE_SIZE - 64);
  struct kvm_regs *r = vkvm_regs(k);
  uint64_t word[18];
  memcpy(word, r, sizeof word);
  for (int i = 0; i < 16; i++)
    if (i != 6) /* RSP stays on the stack */
      word[i] = 0x1111000000000000ull * (uint64_t)(i % 15 + 1) + (uint64_t)i;
  memcpy(r, word, sizeof word);
  r->rflags |= 0x1; /* CF */
  vkvm_regs_dirty(k);
  assert_int_equal(vkvm_set_fs_base(k, FS_BASE), 0);
  assert_int_equal(vkvm_set_gs_base(k, GS_BASE), 0);
  set_xmm0(&p->a, 0x5a);
  run_to_syscall(&p->a);
  *state = p;
  return 0;
}

static int teardown(void **state) {
  struct pair *p = *state;
  if (!p)
    return 0;
  vm_down(&p->a);
  free(p->saved.p);
  free(p);
  return 0;
}

static struct pair *pair_or_skip(void **state) {
  if (!*state) {
    print_message("skipped: /dev/kvm is unusable here\n");
    skip();
  }
  return *state;
}

static void save_refuses_a_pending_exit(void **state) {
  struct pair *p = pair_or_skip(state);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_vcpu(&p->a, &b), -EBUSY);
  free(b.p);
}

static void load_resumes_the_guest(void **state) {
  struct pair *p = pair_or_skip(state);
  complete_pending_exit(&p->a.kvm);
  p->regs = *vkvm_regs(&p->a.kvm);
  assert_int_equal(snap_save_vcpu(&p->a, &p->saved), 0);

  assert_true(vm_up(&p->b));
  struct snap_cursor c = {.p = p->saved.p, .len = p->saved.len};
  assert_int_equal(snap_load_vcpu(&p->b, &c), 0);
  uint64_t fs, gs;
  assert_int_equal(vkvm_get_fs_base(&p->b.kvm, &fs), 0);
  assert_int_equal(vkvm_get_gs_base(&p->b.kvm, &gs), 0);
  assert_int_equal(fs, FS_BASE);
  assert_int_equal(gs, GS_BASE);
  uint8_t xmm[16], want[16];
  memset(want, 0x5a, sizeof want);
  xmm0_of(&p->b, xmm);
  assert_memory_equal(xmm, want, sizeof want);

  /* b runs the second `out`: the instruction after a's system call, with
   * a's registers. */
  run_to_syscall(&p->b);
  struct kvm_regs *r = vkvm_regs(&p->b.kvm);
  assert_int_equal(vkvm_io_next_rip(&p->b.kvm), CODE_AT + 4);
  assert_int_equal(r->rax, p->regs.rax);
  assert_int_equal(r->rbx, p->regs.rbx);
  assert_int_equal(r->r15, p->regs.r15);
  assert_int_equal(r->rsp, p->regs.rsp);
  assert_int_equal(r->rflags & 0x1, 0x1);
  vm_down(&p->b);
}

/* Loads a copy of the saved section with one field changed into fresh b. */
static int load_patched(struct pair *p, size_t off, const void *val, size_t n) {
  uint8_t *copy = malloc(p->saved.len);
  memcpy(copy, p->saved.p, p->saved.len);
  memcpy(copy + off, val, n);
  assert_true(vm_up(&p->b));
  struct snap_cursor c = {.p = copy, .len = p->saved.len};
  int rc = snap_load_vcpu(&p->b, &c);
  vm_down(&p->b);
  free(copy);
  return rc;
}

static void load_refuses_what_no_guest_has(void **state) {
  struct pair *p = pair_or_skip(state);
  assert_non_null(p->saved.p); /* load_resumes_the_guest ran first */
  uint64_t rflags;
  memcpy(&rflags, p->saved.p + OFF_RFLAGS, sizeof rflags);
  uint64_t vm86 = rflags | 0x20000;
  assert_int_equal(load_patched(p, OFF_RFLAGS, &vm86, 8), -EBADMSG);
  uint64_t iopl0 = rflags & ~RFLAGS_IOPL3;
  assert_int_equal(load_patched(p, OFF_RFLAGS, &iopl0, 8), -EBADMSG);
  uint32_t kernel_cs = SEL_KERNEL_CODE;
  assert_int_equal(load_patched(p, OFF_CS_SELECTOR, &kernel_cs, 4), -EBADMSG);
  uint64_t cr3 = 0x8000;
  assert_int_equal(load_patched(p, OFF_CR3, &cr3, 8), -EBADMSG);
  uint64_t xcr0 = 0x1;
  assert_int_equal(load_patched(p, OFF_XCR0, &xcr0, 8), -EBADMSG);
  uint64_t lstar = CODE_AT;
  assert_int_equal(load_patched(p, OFF_LSTAR, &lstar, 8), -EBADMSG);
  uint32_t mxcsr = 0xffffffff;
  assert_int_equal(load_patched(p, OFF_XSAVE + XSAVE_MXCSR, &mxcsr, 4), -EBADMSG);
  /* Unchanged, it still loads: the refusals were the fields'. */
  assert_int_equal(load_patched(p, OFF_RFLAGS, &rflags, 8), 0);

  assert_true(vm_up(&p->b));
  struct snap_cursor c = {.p = p->saved.p, .len = p->saved.len - 1};
  assert_int_equal(snap_load_vcpu(&p->b, &c), -EBADMSG);
  vm_down(&p->b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(save_refuses_a_pending_exit),
      cmocka_unit_test(load_resumes_the_guest),
      cmocka_unit_test(load_refuses_what_no_guest_has),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
