/* xsave.h - the vCPU's x87/SSE/AVX register state, read and written through
 * KVM (KVM_GET_XSAVE / KVM_SET_XSAVE, in the standard XSAVE form), and its
 * layout: which components the guest enabled in XCR0 and how many bytes
 * they take. Signal delivery saves this state in the signal frame and
 * rt_sigreturn loads it back (fpframe.h converts). */
#ifndef HEARTH_VMM_XSAVE_H
#define HEARTH_VMM_XSAVE_H

#include <linux/kvm.h>
#include <stdint.h>

struct vkvm;

#define XFEATURE_FP 0x1ULL
#define XFEATURE_SSE 0x2ULL
#define XFEATURE_YMM 0x4ULL

/* Offsets in the standard-form XSAVE area (Intel SDM vol. 1, 13.4). */
#define XSAVE_FCW 0
#define XSAVE_MXCSR 24
#define XSAVE_MXCSR_MASK 28
#define XSAVE_ST 32   /* 8 x87 registers, 16 bytes each */
#define XSAVE_XMM 160 /* 16 XMM registers, 16 bytes each */
#define XSAVE_LEGACY_SIZE 512
#define XSAVE_HEADER 512 /* XSTATE_BV, XCOMP_BV, then 48 reserved bytes */
#define XSAVE_HEADER_SIZE 64
#define XSAVE_MIN_SIZE (XSAVE_LEGACY_SIZE + XSAVE_HEADER_SIZE)

struct xsave_layout {
  uint64_t xcr0;       /* components the guest enabled */
  uint32_t size;       /* bytes of the standard-form area holding them */
  uint32_t mxcsr_mask; /* MXCSR bits the CPU accepts */
};

/* Bytes of the standard-form XSAVE area for the components in xcr0, from
 * this CPU's CPUID leaf 0xD (the offsets KVM's buffer uses too). */
uint32_t xsave_area_size(uint64_t xcr0);

/* Reads the vCPU's state into *x and its layout into *l. Negative errno
 * from KVM; -ENOTSUP when the enabled components do not fit KVM's 4 KiB
 * buffer (AMX, which hearth never enables). */
int xsave_read(struct vkvm *k, struct kvm_xsave *x, struct xsave_layout *l);

/* Loads *x into the vCPU. -EINVAL when KVM refuses the contents (reserved
 * MXCSR bits, a bad header), other negative errnos when KVM fails. */
int xsave_write(struct vkvm *k, const struct kvm_xsave *x);

#endif
