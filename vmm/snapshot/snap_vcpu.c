/* snap_vcpu.c - the vCPU section (snap_parts.h): general registers,
 * segment and control registers, the XSAVE area, XCR0, the SYSCALL MSRs
 * and the exit-RIP calibration the registers were read under.
 *
 * What a guest at CPL 3 cannot change (CR0/CR3/CR4, EFER, GDT, IDT, TR,
 * CS/SS, XCR0, the MSRs) is saved only to be compared: a load keeps the
 * freshly configured vCPU's values and refuses (-EBADMSG) a section that
 * disagrees with them, so a restored guest holds nothing a running one
 * could not. What it can change (general registers, RFLAGS within the
 * user-settable bits, data selectors, FS/GS bases, x87/SSE/AVX state) is
 * validated and loaded. The TSC is not restored: the clock section keeps
 * guest time continuous over the new host's TSC. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kernel/xsave.h"
#include "kvm/kvm.h"
#include "mem/layout.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define SNAP_MSR_COUNT 5

/* RFLAGS bits a CPL-3 program with IOPL 3 can hold: CF, the fixed bit 1,
 * PF, AF, ZF, SF, TF, IF, DF, OF, IOPL, NT, RF, AC, ID. Never VM, VIF, VIP
 * or a reserved bit. */
#define RFLAGS_USER 0x257fd7ULL
#define RFLAGS_IOPL_MASK 0x3000ULL
#define USER_HALF_END 0x800000000000ULL /* canonical user addresses lie below */

static const uint32_t snap_msrs[SNAP_MSR_COUNT] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
                                                   MSR_KERNEL_GS_BASE};

/* The section as plain values. */
struct vcpu_image {
  struct kvm_regs regs;
  struct kvm_sregs sregs;
  struct kvm_xsave xsave;
  uint64_t xcr0;
  uint64_t msr[SNAP_MSR_COUNT];
  uint8_t rip_past_out;
  uint32_t io_skip;
};

static int read_msrs(struct vkvm *k, uint64_t *out) {
  struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[SNAP_MSR_COUNT];
  } m;
  memset(&m, 0, sizeof m);
  m.hdr.nmsrs = SNAP_MSR_COUNT;
  for (int i = 0; i < SNAP_MSR_COUNT; i++)
    m.e[i].index = snap_msrs[i];
  if (ioctl(k->vcpu_fd, KVM_GET_MSRS, &m) != SNAP_MSR_COUNT)
    return -EIO;
  for (int i = 0; i < SNAP_MSR_COUNT; i++)
    out[i] = m.e[i].data;
  return 0;
}

/* The live vCPU's state that no guest can change, plus its registers. */
static int read_vcpu(struct vkvm *k, struct vcpu_image *v) {
  memset(v, 0, sizeof *v);
  struct xsave_layout l = {0};
  if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &v->sregs) < 0)
    return -errno;
  int rc = xsave_read(k, &v->xsave, &l);
  if (rc == 0)
    rc = read_msrs(k, v->msr);
  v->xcr0 = l.xcr0;
  v->regs = *vkvm_regs(k);
  v->rip_past_out = k->rip_past_out;
  v->io_skip = k->io_skip;
  return rc;
}

static void put_segment(struct snap_buf *b, const struct kvm_segment *s) {
  snap_put_u64(b, s->base);
  snap_put_u32(b, s->limit);
  snap_put_u32(b, s->selector);
  const uint8_t bits[] = {s->type, s->present, s->dpl, s->db,      s->s,
                          s->l,    s->g,       s->avl, s->unusable};
  snap_put_bytes(b, bits, sizeof bits);
}

static void get_segment(struct snap_cursor *c, struct kvm_segment *s) {
  s->base = snap_get_u64(c);
  s->limit = snap_get_u32(c);
  s->selector = (uint16_t)snap_get_u32(c);
  const uint8_t *bits = snap_get_bytes(c, 9);
  if (!bits)
    return;
  s->type = bits[0], s->present = bits[1], s->dpl = bits[2], s->db = bits[3], s->s = bits[4];
  s->l = bits[5], s->g = bits[6], s->avl = bits[7], s->unusable = bits[8];
}

/* The segment registers in file order. */
static struct kvm_segment *segments(struct kvm_sregs *s, int i) {
  struct kvm_segment *all[] = {&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt};
  return all[i];
}
#define SEGMENT_COUNT 8

static void put_sregs(struct snap_buf *b, struct kvm_sregs *s) {
  for (int i = 0; i < SEGMENT_COUNT; i++)
    put_segment(b, segments(s, i));
  snap_put_u64(b, s->gdt.base);
  snap_put_u32(b, s->gdt.limit);
  snap_put_u64(b, s->idt.base);
  snap_put_u32(b, s->idt.limit);
  const uint64_t cr[] = {s->cr0, s->cr2, s->cr3, s->cr4, s->efer};
  for (size_t i = 0; i < sizeof cr / sizeof cr[0]; i++)
    snap_put_u64(b, cr[i]);
}

static void get_sregs(struct snap_cursor *c, struct kvm_sregs *s) {
  for (int i = 0; i < SEGMENT_COUNT; i++)
    get_segment(c, segments(s, i));
  s->gdt.base = snap_get_u64(c);
  s->gdt.limit = (uint16_t)snap_get_u32(c);
  s->idt.base = snap_get_u64(c);
  s->idt.limit = (uint16_t)snap_get_u32(c);
  s->cr0 = snap_get_u64(c);
  s->cr2 = snap_get_u64(c);
  s->cr3 = snap_get_u64(c);
  s->cr4 = snap_get_u64(c);
  s->efer = snap_get_u64(c);
}

/* struct kvm_regs is 18 u64s: RAX..R15, RIP, RFLAGS, written in that order. */
#define GPR_COUNT 18
_Static_assert(sizeof(struct kvm_regs) == GPR_COUNT * sizeof(uint64_t), "kvm_regs is all u64");

int snap_save_vcpu(struct vm *vm, struct snap_buf *b) {
  struct vkvm *k = &vm->kvm;
  if (k->io_pending)
    return -EBUSY; /* an I/O exit not completed: its call would run twice */
  struct vcpu_image v;
  int rc = read_vcpu(k, &v);
  if (rc < 0)
    return rc;
  /* PVM reads RFLAGS back without IOPL; the VMM forces it into every
   * RFLAGS it writes, so the saved one says what will run. */
  v.regs.rflags |= RFLAGS_IOPL3 | RFLAGS_FIXED;
  uint64_t gpr[GPR_COUNT];
  memcpy(gpr, &v.regs, sizeof gpr);
  for (int i = 0; i < GPR_COUNT; i++)
    snap_put_u64(b, gpr[i]);
  put_sregs(b, &v.sregs);
  snap_put_bytes(b, v.xsave.region, sizeof v.xsave.region);
  snap_put_u64(b, v.xcr0);
  for (int i = 0; i < SNAP_MSR_COUNT; i++)
    snap_put_u64(b, v.msr[i]);
  snap_put_u8(b, v.rip_past_out);
  snap_put_u32(b, v.io_skip);
  return b->err;
}

static int parse_vcpu(struct snap_cursor *c, struct vcpu_image *v) {
  memset(v, 0, sizeof *v);
  uint64_t gpr[GPR_COUNT];
  for (int i = 0; i < GPR_COUNT; i++)
    gpr[i] = snap_get_u64(c);
  memcpy(&v->regs, gpr, sizeof gpr);
  get_sregs(c, &v->sregs);
  const uint8_t *x = snap_get_bytes(c, sizeof v->xsave.region);
  if (x)
    memcpy(v->xsave.region, x, sizeof v->xsave.region);
  v->xcr0 = snap_get_u64(c);
  for (int i = 0; i < SNAP_MSR_COUNT; i++)
    v->msr[i] = snap_get_u64(c);
  v->rip_past_out = snap_get_u8(c);
  v->io_skip = snap_get_u32(c);
  return snap_cursor_done(c);
}

static bool regs_ok(const struct kvm_regs *r) {
  return (r->rflags & ~RFLAGS_USER) == 0 && (r->rflags & RFLAGS_IOPL_MASK) == RFLAGS_IOPL3 &&
         (r->rflags & RFLAGS_FIXED) && r->rip < USER_HALF_END;
}

/* A data segment register as a CPL-3 program can leave it: hearth's user
 * data selector or a null one. */
static bool data_segment_ok(const struct kvm_segment *s) {
  return s->selector == SEL_USER_DATA || (s->selector & ~3u) == 0;
}

/* Everything of the saved sregs a guest cannot change must be what this
 * VM's vCPU was just configured with. */
static bool sregs_ok(const struct kvm_sregs *saved, const struct kvm_sregs *live) {
  if (saved->cr0 != live->cr0 || saved->cr3 != live->cr3 || saved->cr4 != live->cr4 ||
      saved->efer != live->efer || saved->cr3 != LAYOUT_PML4_PAGE)
    return false;
  if (saved->gdt.base != live->gdt.base || saved->gdt.limit != live->gdt.limit ||
      saved->idt.base != live->idt.base || saved->idt.limit != live->idt.limit)
    return false;
  if (saved->cs.selector != SEL_USER_CODE || saved->cs.dpl != 3 || !saved->cs.l ||
      saved->ss.selector != SEL_USER_DATA || saved->ss.dpl != 3 ||
      saved->tr.selector != live->tr.selector || saved->tr.base != live->tr.base)
    return false;
  return data_segment_ok(&saved->ds) && data_segment_ok(&saved->es) &&
         data_segment_ok(&saved->fs) && data_segment_ok(&saved->gs) &&
         saved->fs.base < USER_HALF_END && saved->gs.base < USER_HALF_END;
}

/* Standard form (XCOMP_BV 0), components within XCR0, MXCSR within the
 * bits this CPU accepts. */
static bool xsave_ok(const struct kvm_xsave *x, uint64_t xcr0, const struct kvm_xsave *live) {
  const uint8_t *p = (const uint8_t *)x->region, *lp = (const uint8_t *)live->region;
  uint64_t xstate_bv, xcomp_bv;
  uint32_t mxcsr, mask;
  memcpy(&xstate_bv, p + XSAVE_HEADER, sizeof xstate_bv);
  memcpy(&xcomp_bv, p + XSAVE_HEADER + 8, sizeof xcomp_bv);
  memcpy(&mxcsr, p + XSAVE_MXCSR, sizeof mxcsr);
  memcpy(&mask, lp + XSAVE_MXCSR_MASK, sizeof mask);
  if (mask == 0)
    mask = 0xffbf; /* the architectural default when the CPU reports none */
  return (xstate_bv & ~xcr0) == 0 && xcomp_bv == 0 && (mxcsr & ~mask) == 0;
}

static int vcpu_check(const struct vcpu_image *v, const struct vcpu_image *live) {
  if (!regs_ok(&v->regs) || !sregs_ok(&v->sregs, &live->sregs))
    return -EBADMSG;
  if (v->xcr0 != live->xcr0 || memcmp(v->msr, live->msr, sizeof v->msr) != 0)
    return -EBADMSG;
  if (v->rip_past_out > 1 || (v->io_skip != 0 && v->io_skip != 2))
    return -EBADMSG;
  return xsave_ok(&v->xsave, live->xcr0, &live->xsave) ? 0 : -EBADMSG;
}

/* The live segment with the guest's selector and, for FS/GS, its base. */
static void overlay_segment(struct kvm_segment *live, const struct kvm_segment *saved, bool base) {
  if ((saved->selector & ~3u) == 0) {
    live->selector = saved->selector;
    live->unusable = 1;
    live->present = 0;
  }
  if (base)
    live->base = saved->base;
}

static int apply_vcpu(struct vkvm *k, const struct vcpu_image *v, struct vcpu_image *live) {
  struct kvm_sregs *s = &live->sregs;
  overlay_segment(&s->ds, &v->sregs.ds, false);
  overlay_segment(&s->es, &v->sregs.es, false);
  overlay_segment(&s->fs, &v->sregs.fs, true);
  overlay_segment(&s->gs, &v->sregs.gs, true);
  s->cr2 = v->sregs.cr2;
  if (ioctl(k->vcpu_fd, KVM_SET_SREGS, s) < 0)
    return -errno;
  int rc = xsave_write(k, &v->xsave);
  if (rc < 0)
    return rc == -EINVAL ? -EBADMSG : rc;
  *vkvm_regs(k) = v->regs;
  /* Through vkvm_set_rip: the fresh vCPU's last exit was the calibration
   * probe's `out`, which KVM may still skip at the next KVM_RUN. */
  vkvm_set_rip(k, v->regs.rip);
  return 0;
}

int snap_load_vcpu(struct vm *vm, struct snap_cursor *c) {
  struct vcpu_image v, live;
  int rc = parse_vcpu(c, &v);
  if (rc < 0)
    return rc;
  if ((rc = read_vcpu(&vm->kvm, &live)) < 0)
    return rc;
  if ((rc = vcpu_check(&v, &live)) < 0)
    return rc;
  return apply_vcpu(&vm->kvm, &v, &live);
}
