/* vvar.h - the vDSO's data page ("vvar"): the one page the VMM writes and
 * the guest's vDSO reads, one page below the vDSO's ELF header. Included by
 * the guest vDSO (vmm/vdso/guest/, built freestanding) and by the VMM, so
 * it holds nothing but fixed-width fields and one inline function.
 *
 * Time is a line over the guest's TSC: ns = ns_base + (tsc - tsc_base) *
 * mult >> VVAR_SHIFT, with a 128-bit product, so no delta a 64-bit TSC can
 * hold overflows it. The VMM redraws the line now and then (vdso_clock.c);
 * `seq` is odd while it writes, and a reader that sees it change or odd
 * does not use what it read. */
#ifndef HEARTH_VMM_VDSO_VVAR_H
#define HEARTH_VMM_VDSO_VVAR_H

#include <stdbool.h>
#include <stdint.h>

#define VVAR_SHIFT 32

/* What the vDSO may do with the page. */
#define VVAR_MODE_SYSCALL 0u /* nothing: every call asks the VMM (the zeroed page means this) */
#define VVAR_MODE_TSC 1u     /* compute the clocks from rdtsc */

/* Linux's clock ids that the line serves. */
#define VVAR_CLOCK_REALTIME 0
#define VVAR_CLOCK_MONOTONIC 1
#define VVAR_CLOCK_MONOTONIC_RAW 4
#define VVAR_CLOCK_REALTIME_COARSE 5
#define VVAR_CLOCK_MONOTONIC_COARSE 6
#define VVAR_CLOCK_BOOTTIME 7
#define VVAR_CLOCK_TAI 11

struct vvar_line {
  uint64_t tsc_base; /* guest TSC at which the clock read ns_base */
  uint64_t ns_base;
  uint64_t mult; /* nanoseconds per tick << VVAR_SHIFT */
};

struct vdso_vvar {
  uint32_t seq;
  uint32_t mode;         /* VVAR_MODE_* */
  uint64_t horizon;      /* ticks past mono.tsc_base the line may be used for; past
                            that (or before tsc_base) the vDSO asks the VMM */
  struct vvar_line mono; /* CLOCK_MONOTONIC (and MONOTONIC_COARSE) */
  struct vvar_line raw;  /* CLOCK_MONOTONIC_RAW (same tsc_base) */
  int64_t real_off;      /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
  int64_t boot_off;      /* CLOCK_BOOTTIME - CLOCK_MONOTONIC, ns */
  int64_t tai_off;       /* CLOCK_TAI - CLOCK_MONOTONIC, ns */
  int64_t coarse_res;    /* clock_getres of the *_COARSE clocks, ns */
};

/* The line's clock at `tsc`; tsc - tsc_base is taken modulo 2^64, so the
 * caller checks it is in range first. */
static inline uint64_t vvar_line_ns(const struct vvar_line *l, uint64_t tsc) {
  uint64_t delta = tsc - l->tsc_base;
  return l->ns_base + (uint64_t)(((unsigned __int128)delta * l->mult) >> VVAR_SHIFT);
}

/* Clock `clk` at `tsc` in ns (signed: CLOCK_REALTIME may lie before 1970);
 * false for a clock the page does not serve. The one definition of the
 * guest's clocks, used by the vDSO and by the VMM alike. The coarse clocks
 * read as their fine counterparts: never earlier, never coarser. */
static inline bool vvar_clock_ns(const struct vdso_vvar *v, int clk, uint64_t tsc, int64_t *ns) {
  uint64_t mono = vvar_line_ns(&v->mono, tsc), off;
  switch (clk) {
  case VVAR_CLOCK_MONOTONIC:
  case VVAR_CLOCK_MONOTONIC_COARSE:
    off = 0;
    break;
  case VVAR_CLOCK_REALTIME:
  case VVAR_CLOCK_REALTIME_COARSE:
    off = (uint64_t)v->real_off;
    break;
  case VVAR_CLOCK_BOOTTIME:
    off = (uint64_t)v->boot_off;
    break;
  case VVAR_CLOCK_TAI:
    off = (uint64_t)v->tai_off;
    break;
  case VVAR_CLOCK_MONOTONIC_RAW:
    *ns = (int64_t)vvar_line_ns(&v->raw, tsc);
    return true;
  default:
    return false;
  }
  *ns = (int64_t)(mono + off); /* unsigned: wraps rather than overflowing */
  return true;
}

#endif
