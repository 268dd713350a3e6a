/* snap_clock.c - the clock section (snap_parts.h): the guest's
 * CLOCK_MONOTONIC, _RAW and BOOTTIME at the snapshot, and where its vDSO
 * and vvar page are.
 *
 * After a restore the guest's monotonic clocks continue from the snapshot
 * point, as a Firecracker guest's do: the time the snapshot sat on disk
 * never passed for the guest (a timeout armed before it does not fire the
 * moment the guest resumes). The restore sets each clock's shift (guest
 * minus host, vdso.h) so that the clock reads its saved value at the
 * restore and runs at the host's rate from there; vdso_start then draws the
 * line through the shifted clocks. CLOCK_REALTIME (and TAI) is not saved:
 * it is the host's, read anew at the restore. The guest TSC is not
 * restored either: the line maps whatever TSC the new vCPU has. */
#include <errno.h>
#include <time.h>

#include "mem/layout.h"
#include "mem/vma.h"
#include "snapshot/snap_parts.h"
#include "vdso/vdso.h"
#include "vdso/vdso_impl.h"
#include "vm.h"

#define NS_PER_S 1000000000ull
#define CLOCK_NS_MAX ((uint64_t)INT64_MAX)

static uint64_t host_ns(clockid_t clk) {
  struct timespec t;
  clock_gettime(clk, &t);
  return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

/* The highest value the vDSO could have given from `tl`: the line at the
 * guest's TSC now, or at its horizon, past which the vDSO asks the VMM. */
static uint64_t line_ceiling(const struct vm *vm, const struct timeline *tl) {
  uint64_t tsc;
  if (!vm->vdso.live || vdso_guest_tsc(vm, &tsc) < 0 || tsc < tl->line.tsc_base)
    return 0;
  if (tsc - tl->line.tsc_base > tl->horizon)
    tsc = tl->line.tsc_base + tl->horizon;
  return timeline_ns(tl, tsc);
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Clock clk as the guest has seen it at most: the host's plus the shift,
 * or the line when that is ahead, so the restored clock never goes back. */
static uint64_t guest_clock(const struct vm *vm, clockid_t clk, const struct timeline *tl) {
  return max_u64(host_ns(clk) + (uint64_t)vdso_clock_shift(vm, clk), line_ceiling(vm, tl));
}

int snap_save_clock(const struct vm *vm, struct snap_buf *b) {
  uint64_t mono = guest_clock(vm, CLOCK_MONOTONIC, &vm->vdso.mono);
  uint64_t raw = guest_clock(vm, CLOCK_MONOTONIC_RAW, &vm->vdso.raw);
  uint64_t boot = host_ns(CLOCK_BOOTTIME) + (uint64_t)vm->vdso.boot_shift;
  if (vm->vdso.live)
    boot = max_u64(boot, mono + (uint64_t)vm->vdso.pub.boot_off);
  snap_put_u64(b, mono);
  snap_put_u64(b, raw);
  snap_put_u64(b, max_u64(boot, mono)); /* BOOTTIME never lags MONOTONIC */
  snap_put_u64(b, vm->vdso.base);
  snap_put_u64(b, vm->vdso.vvar_gva);
  snap_put_u32(b, vm->vdso.seq);
  return b->err;
}

/* No vDSO, or one as vdso_map lays it out, present in the vma list when
 * the mm section has been loaded. */
static bool vdso_place_ok(const struct vm *vm, uint64_t base, uint64_t vvar) {
  if (base == 0)
    return vvar == 0;
  if (base & ~GUEST_PAGE_MASK || base < LAYOUT_MMAP_MIN + GUEST_PAGE_SIZE ||
      base >= LAYOUT_USER_TOP || vvar != base - GUEST_PAGE_SIZE)
    return false;
  if (vm->vmas.n == 0)
    return true;
  const struct vma *v = vma_find(&vm->vmas, vvar), *d = vma_find(&vm->vmas, base);
  return v && v->kind == VMA_VVAR && d && d->kind == VMA_VDSO;
}

int snap_load_clock(struct vm *vm, struct snap_cursor *c) {
  uint64_t mono = snap_get_u64(c), raw = snap_get_u64(c), boot = snap_get_u64(c);
  uint64_t base = snap_get_u64(c), vvar = snap_get_u64(c);
  uint32_t seq = snap_get_u32(c);
  int rc = snap_cursor_done(c);
  if (rc < 0)
    return rc;
  if (mono > CLOCK_NS_MAX || raw > CLOCK_NS_MAX || boot > CLOCK_NS_MAX || boot < mono ||
      (seq & 1) || !vdso_place_ok(vm, base, vvar))
    return -EBADMSG;
  struct vdso_state *s = &vm->vdso;
  /* BOOTTIME read first: the time between the reads then widens the
   * guest's BOOTTIME - MONOTONIC gap rather than narrowing it below 0. */
  int64_t host_boot = (int64_t)host_ns(CLOCK_BOOTTIME);
  s->mono_shift = (int64_t)mono - (int64_t)host_ns(CLOCK_MONOTONIC);
  s->raw_shift = (int64_t)raw - (int64_t)host_ns(CLOCK_MONOTONIC_RAW);
  s->boot_shift = (int64_t)boot - host_boot;
  s->base = base;
  s->vvar_gva = vvar;
  s->seq = seq; /* the page's count goes on: vdso_start publishes the next even value */
  s->vvar = NULL;
  s->live = false; /* until vdso_start, after the vCPU exists */
  return 0;
}
