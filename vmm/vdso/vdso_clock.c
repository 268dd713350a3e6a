/* vdso_clock.c - keeping the vvar page's clock (vdso.h): the first line at
 * start-up, a redraw at most every VDSO_REFRESH_NS, each from one sample
 * that pairs the guest's TSC with the host's clocks, and publication under
 * the page's sequence count. The guest only ever runs while the vCPU thread
 * is in KVM_RUN, never while this code writes, so the count is for form and
 * for later vCPUs; the VMM keeps its own copy and never reads the page. */
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "mem/vma.h"
#include "vdso/vdso.h"
#include "vdso/vdso_impl.h"
#include "vm.h"

#define NS_PER_S 1000000000LL

_Static_assert(sizeof(struct vdso_vvar) <= GUEST_PAGE_SIZE, "the vvar is one page");

/* One moment seen from both sides. */
struct clock_sample {
  uint64_t tsc;                        /* the guest's TSC */
  uint64_t mono, raw;                  /* host CLOCK_MONOTONIC and _RAW at that TSC */
  int64_t real_off, boot_off, tai_off; /* host clocks - host CLOCK_MONOTONIC */
};

static int64_t host_ns(clockid_t clk) {
  struct timespec t;
  clock_gettime(clk, &t);
  return (int64_t)t.tv_sec * NS_PER_S + t.tv_nsec;
}

static int64_t midpoint(int64_t a, int64_t b) { return a + (b - a) / 2; }

/* The TSC read (an ioctl, a few µs) is bracketed by host clock reads; its
 * moment is taken as their midpoint. The offsets between host clocks are
 * read back to back, which is exact to a few tens of ns. */
static int take_sample(const struct vm *vm, struct clock_sample *s) {
  int64_t mono0 = host_ns(CLOCK_MONOTONIC), raw0 = host_ns(CLOCK_MONOTONIC_RAW);
  int err = vdso_guest_tsc(vm, &s->tsc);
  int64_t raw1 = host_ns(CLOCK_MONOTONIC_RAW), mono1 = host_ns(CLOCK_MONOTONIC);
  s->mono = (uint64_t)midpoint(mono0, mono1);
  s->raw = (uint64_t)midpoint(raw0, raw1);
  int64_t before = host_ns(CLOCK_MONOTONIC);
  int64_t real = host_ns(CLOCK_REALTIME), boot = host_ns(CLOCK_BOOTTIME);
  int64_t tai = host_ns(CLOCK_TAI), at = midpoint(before, host_ns(CLOCK_MONOTONIC));
  s->real_off = real - at;
  s->boot_off = boot - at;
  s->tai_off = tai - at;
  return err;
}

/* The page may still be written only while the guest keeps it mapped as it
 * was: after munmap (or a mapping put over it) the same physical page may
 * hold the guest's own data. */
static bool vvar_still_mapped(struct vm *vm) {
  const struct vma *m = vma_find(&vm->vmas, vm->vdso.vvar_gva);
  return m && m->kind == VMA_VVAR;
}

static void vdso_publish(struct vm *vm) {
  struct vdso_state *s = &vm->vdso;
  if (s->vvar && !vvar_still_mapped(vm))
    s->vvar = NULL;
  if (!s->vvar)
    return;
  s->pub.mono = s->mono.line;
  s->pub.raw = s->raw.line;
  s->pub.horizon = s->mono.horizon;
  /* Odd while the rest changes; a reader compares the count before and
   * after its reads. */
  __atomic_store_n(&s->vvar->seq, ++s->seq, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  struct vdso_vvar body = s->pub;
  body.seq = s->seq;
  memcpy(s->vvar, &body, sizeof body);
  __atomic_store_n(&s->vvar->seq, ++s->seq, __ATOMIC_RELEASE);
}

/* The offsets are from the guest's CLOCK_MONOTONIC, which is the host's
 * plus mono_shift after a restore. */
static void set_offsets(struct vdso_state *s, const struct clock_sample *cs) {
  s->pub.real_off = cs->real_off - s->mono_shift;
  s->pub.boot_off = cs->boot_off + s->boot_shift - s->mono_shift;
  s->pub.tai_off = cs->tai_off - s->mono_shift;
  s->next_redraw_ns = cs->mono + VDSO_REFRESH_NS;
}

/* From now on the host's clocks, read directly: they are within
 * microseconds of the line, so a reader may see that much of a step once. */
static void vdso_stop_line(struct vm *vm, const char *why) {
  vlog(VLOG_WARN, "vDSO: guest clocks now served by the VMM: %s", why);
  vm->vdso.live = false;
  vm->vdso.pub.mode = VVAR_MODE_SYSCALL;
  vdso_publish(vm);
}

void vdso_redraw(struct vm *vm) {
  struct clock_sample cs;
  if (take_sample(vm, &cs) < 0) {
    vdso_stop_line(vm, "cannot read the guest's TSC");
    return;
  }
  timeline_redraw(&vm->vdso.mono, cs.tsc, cs.mono + (uint64_t)vm->vdso.mono_shift);
  timeline_redraw(&vm->vdso.raw, cs.tsc, cs.raw + (uint64_t)vm->vdso.raw_shift);
  set_offsets(&vm->vdso, &cs);
  vdso_publish(vm);
}

static int64_t coarse_resolution(void) {
  struct timespec res;
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) < 0)
    return 0;
  return (int64_t)res.tv_sec * NS_PER_S + res.tv_nsec;
}

int vdso_start(struct vm *vm) {
  struct vdso_state *s = &vm->vdso;
  s->live = false;
  if (!s->vvar_gva)
    return 0;
  /* Physical pages never move (gmem.h), so this view lasts as long as the
   * guest keeps the mapping (vvar_still_mapped). */
  s->vvar = uaccess_ptr(&vm->mem, s->vvar_gva, GUEST_PAGE_SIZE, false);
  if (!s->vvar)
    return 0;
  uint64_t khz = 0;
  struct clock_sample cs;
  const char *why = vdso_tsc_check(vm, &khz);
  if (!why && take_sample(vm, &cs) < 0)
    why = "cannot read the guest's TSC";
  if (!why && (timeline_init(&s->mono, khz, cs.tsc, cs.mono + (uint64_t)s->mono_shift) < 0 ||
               timeline_init(&s->raw, khz, cs.tsc, cs.raw + (uint64_t)s->raw_shift) < 0))
    why = "the TSC's frequency is out of range";
  if (why) {
    vlog(VLOG_DEBUG, "vDSO: clocks served by the VMM: %s", why);
    /* A page published before (a restored VM's, whose count goes on from
     * the snapshot's) may hold a line drawn over another TSC: make it say
     * "ask the VMM". A page never published says so already. */
    s->pub.mode = VVAR_MODE_SYSCALL;
    if (s->seq)
      vdso_publish(vm);
    return 0;
  }
  s->pub.mode = VVAR_MODE_TSC;
  s->pub.coarse_res = coarse_resolution();
  set_offsets(s, &cs);
  s->live = true;
  vdso_publish(vm);
  vlog(VLOG_DEBUG, "vDSO: clocks from the guest's TSC at %llu kHz", (unsigned long long)khz);
  return 0;
}

void vdso_tick(struct vm *vm) {
  if (vm->vdso.live && (uint64_t)host_ns(CLOCK_MONOTONIC) >= vm->vdso.next_redraw_ns)
    vdso_redraw(vm);
}
