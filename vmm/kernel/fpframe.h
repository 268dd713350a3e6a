/* fpframe.h - the FPU state in a signal frame, as x86-64 Linux writes it
 * and rt_sigreturn reads it back: the standard-form XSAVE area, whose
 * software-reserved bytes (464..511 of the legacy region) carry
 * FP_XSTATE_MAGIC1, the area's size and its components, followed by
 * FP_XSTATE_MAGIC2. A frame without the magic words is taken as a bare
 * 512-byte FXSAVE area, as Linux does. Pure conversions between that image
 * and KVM's buffer; the checks are those on which XRSTOR would fault. */
#ifndef HEARTH_VMM_FPFRAME_H
#define HEARTH_VMM_FPFRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "xsave.h"

#define FPFRAME_MAGIC1 0x46505853u /* "FPXS" */
#define FPFRAME_MAGIC2 0x46505845u /* "FPXE" */
#define FPFRAME_MAGIC2_SIZE 4u
#define FPFRAME_SW_BYTES 464 /* struct _fpx_sw_bytes in the legacy region */
#define FPFRAME_MAX_SIZE (sizeof(struct kvm_xsave) + FPFRAME_MAGIC2_SIZE)

/* Bytes the FPU state takes in a frame with layout l. */
static inline uint32_t fpframe_size(const struct xsave_layout *l) {
  return l->size + FPFRAME_MAGIC2_SIZE;
}

/* Writes the frame image of state x into img[0, fpframe_size(l)). */
void fpframe_build(const struct xsave_layout *l, const struct kvm_xsave *x, uint8_t *img);

/* What a frame's FPU image says about itself. */
struct fpframe_desc {
  bool xsave;        /* XSAVE form (else a bare FXSAVE area) */
  uint32_t size;     /* bytes of the area, MAGIC2 excluded */
  uint64_t features; /* the components to restore */
};

/* Reads the software-reserved bytes of the legacy region (the first 512
 * bytes of the image). When it claims the XSAVE form, the caller must still
 * find FPFRAME_MAGIC2 at offset d->size, and otherwise fall back to
 * fpframe_describe_fx(). */
void fpframe_describe(const struct xsave_layout *l, const uint8_t *legacy, struct fpframe_desc *d);
void fpframe_describe_fx(struct fpframe_desc *d);

/* Builds KVM's buffer from an image of d->size bytes: components not
 * restored get their initial state. -EINVAL for what XRSTOR or FXRSTOR
 * would refuse (reserved MXCSR bits, a compacted or dirty header, a
 * component XCR0 does not enable). */
int fpframe_parse(const struct xsave_layout *l, const struct fpframe_desc *d, const uint8_t *img,
                  struct kvm_xsave *x);

/* The state a signal handler starts with (Linux resets it): x87 and SSE
 * registers at their initial values, every other component initial. */
void fpframe_initial(struct kvm_xsave *x);

#endif
