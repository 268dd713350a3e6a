/* xsave.c - the vCPU's extended register state through KVM (xsave.h). */
#include "xsave.h"

#include <cpuid.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm.h"

#define CPUID_XSAVE_LEAF 0xd
#define MXCSR_MASK_DEFAULT 0xffbfu /* SDM: what a zero MXCSR_MASK field means */

uint32_t xsave_area_size(uint64_t xcr0) {
  uint32_t size = XSAVE_MIN_SIZE;
  for (unsigned i = 2; i < 63; i++) {
    if (!(xcr0 & (1ULL << i)))
      continue;
    unsigned comp_size, comp_offset, ecx, edx;
    __cpuid_count(CPUID_XSAVE_LEAF, i, comp_size, comp_offset, ecx, edx);
    if (comp_offset + comp_size > size)
      size = comp_offset + comp_size;
  }
  return size;
}

static int xsave_read_xcr0(struct vkvm *k, uint64_t *xcr0) {
  struct kvm_xcrs x;
  memset(&x, 0, sizeof x);
  if (ioctl(k->vcpu_fd, KVM_GET_XCRS, &x) < 0)
    return -errno;
  for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++) {
    if (x.xcrs[i].xcr == 0) {
      *xcr0 = x.xcrs[i].value;
      return 0;
    }
  }
  *xcr0 = XFEATURE_FP | XFEATURE_SSE; /* no XCR0 reported: legacy state only */
  return 0;
}

int xsave_read(struct vkvm *k, struct kvm_xsave *x, struct xsave_layout *l) {
  if (ioctl(k->vcpu_fd, KVM_GET_XSAVE, x) < 0)
    return -errno;
  int rc = xsave_read_xcr0(k, &l->xcr0);
  if (rc < 0)
    return rc;
  l->size = xsave_area_size(l->xcr0);
  if (l->size > sizeof x->region)
    return -ENOTSUP;
  memcpy(&l->mxcsr_mask, (const uint8_t *)x->region + XSAVE_MXCSR_MASK, sizeof l->mxcsr_mask);
  if (l->mxcsr_mask == 0)
    l->mxcsr_mask = MXCSR_MASK_DEFAULT;
  return 0;
}

int xsave_write(struct vkvm *k, const struct kvm_xsave *x) {
  return ioctl(k->vcpu_fd, KVM_SET_XSAVE, x) < 0 ? -errno : 0;
}
