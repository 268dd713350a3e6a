/* fpframe.c - converting the vCPU's XSAVE state to and from the image Linux
 * keeps in a signal frame (fpframe.h). */
#include "fpframe.h"

#include <errno.h>
#include <string.h>

#define FCW_INITIAL 0x037f
#define MXCSR_INITIAL 0x1f80
#define XSAVE_XCOMP_BV (XSAVE_HEADER + 8)
#define XSAVE_HEADER_RESERVED (XSAVE_HEADER + 16)
#define SW_EXTENDED_SIZE (FPFRAME_SW_BYTES + 4)
#define SW_XFEATURES (FPFRAME_SW_BYTES + 8)
#define SW_XSTATE_SIZE (FPFRAME_SW_BYTES + 16)
#define SW_BYTES_SIZE 48
#define ST_AND_XMM_END (XSAVE_XMM + 16 * 16)

static uint32_t get32(const uint8_t *p, size_t off) {
  uint32_t v;
  memcpy(&v, p + off, sizeof v);
  return v;
}
static uint64_t get64(const uint8_t *p, size_t off) {
  uint64_t v;
  memcpy(&v, p + off, sizeof v);
  return v;
}
static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, sizeof v); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, sizeof v); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, sizeof v); }

void fpframe_build(const struct xsave_layout *l, const struct kvm_xsave *x, uint8_t *img) {
  const uint8_t *src = (const uint8_t *)x->region;
  memcpy(img, src, l->size);
  memset(img + FPFRAME_SW_BYTES, 0, SW_BYTES_SIZE);
  put32(img, FPFRAME_SW_BYTES, FPFRAME_MAGIC1);
  put32(img, SW_EXTENDED_SIZE, l->size + FPFRAME_MAGIC2_SIZE);
  put64(img, SW_XFEATURES, l->xcr0);
  put32(img, SW_XSTATE_SIZE, l->size);
  /* A clean standard-form header, as XRSTOR wants it back. */
  memset(img + XSAVE_HEADER, 0, XSAVE_HEADER_SIZE);
  put64(img, XSAVE_HEADER, get64(src, XSAVE_HEADER) & l->xcr0);
  put32(img, l->size, FPFRAME_MAGIC2);
}

void fpframe_describe_fx(struct fpframe_desc *d) {
  *d = (struct fpframe_desc){
      .xsave = false, .size = XSAVE_LEGACY_SIZE, .features = XFEATURE_FP | XFEATURE_SSE};
}

void fpframe_describe(const struct xsave_layout *l, const uint8_t *legacy, struct fpframe_desc *d) {
  uint32_t size = get32(legacy, SW_XSTATE_SIZE);
  if (get32(legacy, FPFRAME_SW_BYTES) != FPFRAME_MAGIC1 || size < XSAVE_MIN_SIZE ||
      size > l->size || size > get32(legacy, SW_EXTENDED_SIZE)) {
    fpframe_describe_fx(d);
    return;
  }
  *d = (struct fpframe_desc){
      .xsave = true, .size = size, .features = get64(legacy, SW_XFEATURES) & l->xcr0};
}

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* The header checks XRSTOR makes on a standard-form area. */
static int fpframe_check_header(const struct xsave_layout *l, const uint8_t *img) {
  if (get64(img, XSAVE_HEADER) & ~l->xcr0)
    return -EINVAL;
  if (!all_zero(img + XSAVE_XCOMP_BV, XSAVE_HEADER_SIZE - 8))
    return -EINVAL;
  return 0;
}

/* x87 (FCW..FDP and ST0-7) at its initial values. */
static void fpframe_x87_initial(uint8_t *p) {
  memset(p, 0, XSAVE_MXCSR);
  memset(p + XSAVE_ST, 0, XSAVE_XMM - XSAVE_ST);
  put16(p, XSAVE_FCW, FCW_INITIAL);
}

/* Components restored (rfbm) but absent from XSTATE_BV take their initial
 * state, as XRSTOR gives them; x87 and SSE are then written out in full so
 * KVM loads the legacy region (and MXCSR) exactly. */
static void fpframe_apply_init(uint8_t *p, uint64_t rfbm, uint64_t present) {
  if (!(present & XFEATURE_FP))
    fpframe_x87_initial(p);
  if (!(present & XFEATURE_SSE))
    memset(p + XSAVE_XMM, 0, ST_AND_XMM_END - XSAVE_XMM);
  if (!(rfbm & (XFEATURE_SSE | XFEATURE_YMM)))
    put32(p, XSAVE_MXCSR, MXCSR_INITIAL);
  put64(p, XSAVE_HEADER, present | XFEATURE_FP | XFEATURE_SSE);
}

int fpframe_parse(const struct xsave_layout *l, const struct fpframe_desc *d, const uint8_t *img,
                  struct kvm_xsave *x) {
  uint8_t *p = (uint8_t *)x->region;
  memset(x, 0, sizeof *x);
  if (d->size > sizeof x->region || d->size < XSAVE_LEGACY_SIZE)
    return -EINVAL;
  if (d->xsave && fpframe_check_header(l, img) < 0)
    return -EINVAL;
  memcpy(p, img, d->size);
  memset(p + FPFRAME_SW_BYTES, 0, SW_BYTES_SIZE);
  uint64_t rfbm = d->features & (l->xcr0 | XFEATURE_FP | XFEATURE_SSE);
  uint64_t present = d->xsave ? get64(img, XSAVE_HEADER) & rfbm : rfbm;
  if (d->xsave)
    memset(p + XSAVE_HEADER, 0, XSAVE_HEADER_SIZE);
  fpframe_apply_init(p, rfbm, present);
  if (get32(p, XSAVE_MXCSR) & ~l->mxcsr_mask)
    return -EINVAL;
  return 0;
}

void fpframe_initial(struct kvm_xsave *x) {
  uint8_t *p = (uint8_t *)x->region;
  memset(x, 0, sizeof *x);
  put16(p, XSAVE_FCW, FCW_INITIAL);
  put32(p, XSAVE_MXCSR, MXCSR_INITIAL);
  put64(p, XSAVE_HEADER, XFEATURE_FP | XFEATURE_SSE);
}
