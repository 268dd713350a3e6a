/* fake_kvm.h - stand-ins for the KVM calls the guest kernel makes (segment
 * bases, XSAVE state), recording what they were given, for unit tests
 * without a vCPU. xsave_write refuses reserved MXCSR bits with -EINVAL, as
 * KVM does. */
#ifndef HEARTH_TEST_FAKE_KVM_H
#define HEARTH_TEST_FAKE_KVM_H

#include <stdint.h>

#include "kernel/xsave.h"

struct fake_kvm {
  uint64_t fs_base, gs_base;
  int fail;               /* when nonzero, every call returns it */
  struct kvm_xsave xsave; /* the vCPU's state */
  struct xsave_layout layout;
  int xsave_writes;
};

extern struct fake_kvm fake_kvm;

/* A vCPU with x87, SSE and AVX enabled and recognisable register contents. */
void fake_kvm_reset(void);

#endif
