/* fake_kvm.c - the KVM stand-ins of fake_kvm.h. */
#include "fake_kvm.h"

#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"

struct fake_kvm fake_kvm;

void fake_kvm_reset(void) {
  memset(&fake_kvm, 0, sizeof fake_kvm);
  fake_kvm.layout = (struct xsave_layout){
      .xcr0 = XFEATURE_FP | XFEATURE_SSE | XFEATURE_YMM, .size = 832, .mxcsr_mask = 0xffff};
  uint8_t *p = (uint8_t *)fake_kvm.xsave.region;
  for (unsigned i = 0; i < fake_kvm.layout.size; i++)
    p[i] = (uint8_t)(i * 7 + 1);
  uint32_t mxcsr = 0x1fa0; /* a non-default rounding/exception state */
  memcpy(p + XSAVE_MXCSR, &mxcsr, sizeof mxcsr);
  memcpy(p + XSAVE_MXCSR_MASK, &fake_kvm.layout.mxcsr_mask, 4);
  memset(p + 464, 0, 48); /* software-reserved bytes */
  memset(p + XSAVE_HEADER, 0, XSAVE_HEADER_SIZE);
  uint64_t bv = fake_kvm.layout.xcr0;
  memcpy(p + XSAVE_HEADER, &bv, sizeof bv);
}

int vkvm_set_fs_base(struct vkvm *k, uint64_t base) {
  if (fake_kvm.fail)
    return fake_kvm.fail;
  fake_kvm.fs_base = base;
  return 0;
}

int vkvm_get_fs_base(struct vkvm *k, uint64_t *base) {
  *base = fake_kvm.fs_base;
  return fake_kvm.fail;
}

int vkvm_set_gs_base(struct vkvm *k, uint64_t base) {
  if (fake_kvm.fail)
    return fake_kvm.fail;
  fake_kvm.gs_base = base;
  return 0;
}

int vkvm_get_gs_base(struct vkvm *k, uint64_t *base) {
  *base = fake_kvm.gs_base;
  return fake_kvm.fail;
}

int xsave_read(struct vkvm *k, struct kvm_xsave *x, struct xsave_layout *l) {
  if (fake_kvm.fail)
    return fake_kvm.fail;
  *x = fake_kvm.xsave;
  *l = fake_kvm.layout;
  return 0;
}

int xsave_write(struct vkvm *k, const struct kvm_xsave *x) {
  uint32_t mxcsr;
  if (fake_kvm.fail)
    return fake_kvm.fail;
  memcpy(&mxcsr, (const uint8_t *)x->region + XSAVE_MXCSR, sizeof mxcsr);
  if (mxcsr & ~fake_kvm.layout.mxcsr_mask)
    return -EINVAL;
  fake_kvm.xsave = *x;
  fake_kvm.xsave_writes++;
  return 0;
}
