/* Unit tests of the vCPU FPU state through a real KVM vCPU (xsave.c) and
 * of the signal-frame image against it (fpframe.c): the layout hearth
 * computes is the CPU's, state written is state read back, a frame image
 * round-trips through KVM, and KVM refuses what fpframe refuses. Skipped
 * with the reason when /dev/kvm cannot be used, unless HEARTH_REQUIRE_KVM=1. */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/fpframe.h"
#include "kernel/xsave.h"
#include "kvm/cpu.h"
#include "kvm/kvm.h"

struct kvm_fixture {
  int kvm_fd, vm_fd;
  struct vkvm k;
};

static int setup(void **state) {
  static struct kvm_fixture f;
  f.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (f.kvm_fd < 0) {
    const char *required = getenv("HEARTH_REQUIRE_KVM");
    if (required && strcmp(required, "1") == 0)
      fail_msg("/dev/kvm: %s, and HEARTH_REQUIRE_KVM=1", strerror(errno));
    fprintf(stderr, "skipped: /dev/kvm: %s\n", strerror(errno));
    *state = NULL;
    return 0;
  }
  f.vm_fd = ioctl(f.kvm_fd, KVM_CREATE_VM, 0);
  assert_true(f.vm_fd >= 0);
  memset(&f.k, 0, sizeof f.k);
  f.k.vcpu_fd = ioctl(f.vm_fd, KVM_CREATE_VCPU, 0);
  assert_true(f.k.vcpu_fd >= 0);
  assert_int_equal(cpu_configure(f.kvm_fd, f.k.vcpu_fd), 0); /* XCR0 as hearth sets it */
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  struct kvm_fixture *f = *state;
  if (f) {
    close(f->k.vcpu_fd);
    close(f->vm_fd);
    close(f->kvm_fd);
  }
  return 0;
}

#define NEED_KVM(state)                                                                            \
  do {                                                                                             \
    if (!*(state))                                                                                 \
      skip();                                                                                      \
  } while (0)

static uint64_t host_xcr0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static void area_size_is_the_cpus(void **state) {
  unsigned eax, ebx, ecx, edx;
  __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
  /* CPUID.(0xD,0).EBX: the size for the components enabled in this XCR0. */
  assert_int_equal(xsave_area_size(host_xcr0()), ebx);
  assert_int_equal(xsave_area_size(XFEATURE_FP | XFEATURE_SSE), XSAVE_MIN_SIZE);
}

static void layout_of_the_vcpu(void **state) {
  NEED_KVM(state);
  struct kvm_fixture *f = *state;
  struct kvm_xsave x;
  struct xsave_layout l;
  assert_int_equal(xsave_read(&f->k, &x, &l), 0);
  assert_int_equal(l.xcr0 & (XFEATURE_FP | XFEATURE_SSE), XFEATURE_FP | XFEATURE_SSE);
  assert_int_equal(l.size, xsave_area_size(l.xcr0));
  assert_true(l.size >= XSAVE_MIN_SIZE && l.size <= sizeof x.region);
  assert_int_equal(l.mxcsr_mask & 0xffbf, 0xffbf);
}

static void put32(struct kvm_xsave *x, size_t off, uint32_t v) {
  memcpy((uint8_t *)x->region + off, &v, 4);
}
static uint32_t get32(const struct kvm_xsave *x, size_t off) {
  uint32_t v;
  memcpy(&v, (const uint8_t *)x->region + off, 4);
  return v;
}

/* Registers with recognisable values: MXCSR rounding toward zero, XMM0 and
 * (with AVX) the upper half of YMM0. */
static void dirty_state(const struct xsave_layout *l, struct kvm_xsave *x) {
  put32(x, XSAVE_MXCSR, 0x7f80);
  put32(x, XSAVE_XMM, 0x11223344);
  uint64_t bv = XFEATURE_FP | XFEATURE_SSE;
  if (l->xcr0 & XFEATURE_YMM) {
    put32(x, 576, 0x55667788); /* YMM_Hi128 component, in standard form */
    bv |= XFEATURE_YMM;
  }
  memcpy((uint8_t *)x->region + XSAVE_HEADER, &bv, 8);
}

static void state_written_is_state_read(void **state) {
  NEED_KVM(state);
  struct kvm_fixture *f = *state;
  struct kvm_xsave x, back;
  struct xsave_layout l;
  assert_int_equal(xsave_read(&f->k, &x, &l), 0);
  dirty_state(&l, &x);
  assert_int_equal(xsave_write(&f->k, &x), 0);
  assert_int_equal(xsave_read(&f->k, &back, &l), 0);
  assert_int_equal(get32(&back, XSAVE_MXCSR), 0x7f80);
  assert_int_equal(get32(&back, XSAVE_XMM), 0x11223344);
  if (l.xcr0 & XFEATURE_YMM)
    assert_int_equal(get32(&back, 576), 0x55667788);
}

static void frame_image_round_trips_through_kvm(void **state) {
  NEED_KVM(state);
  struct kvm_fixture *f = *state;
  struct kvm_xsave x, parsed, back;
  struct xsave_layout l;
  uint8_t img[FPFRAME_MAX_SIZE];
  assert_int_equal(xsave_read(&f->k, &x, &l), 0);
  dirty_state(&l, &x);
  assert_int_equal(xsave_write(&f->k, &x), 0);
  assert_int_equal(xsave_read(&f->k, &x, &l), 0);
  fpframe_build(&l, &x, img);
  /* A handler runs with the initial state... */
  fpframe_initial(&parsed);
  assert_int_equal(xsave_write(&f->k, &parsed), 0);
  assert_int_equal(xsave_read(&f->k, &back, &l), 0);
  assert_int_equal(get32(&back, XSAVE_MXCSR), 0x1f80);
  assert_int_equal(get32(&back, XSAVE_XMM), 0);
  if (l.xcr0 & XFEATURE_YMM)
    assert_int_equal(get32(&back, 576), 0);
  /* ...and rt_sigreturn brings the interrupted state back. */
  struct fpframe_desc d;
  fpframe_describe(&l, img, &d);
  assert_true(d.xsave);
  assert_int_equal(fpframe_parse(&l, &d, img, &parsed), 0);
  assert_int_equal(xsave_write(&f->k, &parsed), 0);
  assert_int_equal(xsave_read(&f->k, &back, &l), 0);
  assert_int_equal(get32(&back, XSAVE_MXCSR), 0x7f80);
  assert_int_equal(get32(&back, XSAVE_XMM), 0x11223344);
  if (l.xcr0 & XFEATURE_YMM)
    assert_int_equal(get32(&back, 576), 0x55667788);
}

/* fpframe refuses a reserved MXCSR bit; so does KVM, and sigframe.c takes
 * KVM's -EINVAL as the guest's bad frame. */
static void kvm_refuses_reserved_mxcsr_bits(void **state) {
  NEED_KVM(state);
  struct kvm_fixture *f = *state;
  struct kvm_xsave x;
  struct xsave_layout l;
  assert_int_equal(xsave_read(&f->k, &x, &l), 0);
  dirty_state(&l, &x);
  put32(&x, XSAVE_MXCSR, 0xffff0000);
  assert_int_equal(xsave_write(&f->k, &x), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(area_size_is_the_cpus),
      cmocka_unit_test(layout_of_the_vcpu),
      cmocka_unit_test(state_written_is_state_read),
      cmocka_unit_test(frame_image_round_trips_through_kvm),
      cmocka_unit_test(kvm_refuses_reserved_mxcsr_bits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
