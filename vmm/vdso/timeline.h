/* timeline.h - the guest's CLOCK_MONOTONIC as a line over its TSC, and how
 * the VMM redraws that line against the host's clock so that the two agree
 * closely while the guest never sees its clock go back. Pure arithmetic: no
 * clock is read here, so tests can drive it with any TSC and host times.
 *
 * A redraw at guest TSC `tsc` with host clock `host_ns` keeps the guest's
 * clock continuous at tsc and aims its slope at the host: the host's rate
 * measured since the last redraw, plus a correction that closes the gap
 * over one horizon (slewing, at most TIMELINE_MAX_SLEW_PPM, as NTP does).
 * A guest behind by more than TIMELINE_STEP_NS jumps forward instead. The
 * vDSO extrapolates a line at most one horizon past its base; past that the
 * guest asks the VMM, which redraws first. */
#ifndef HEARTH_VMM_VDSO_TIMELINE_H
#define HEARTH_VMM_VDSO_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "vdso/vvar.h"

#define TIMELINE_HORIZON_S 2u        /* how far past its base a line is used */
#define TIMELINE_MAX_SLEW_PPM 500u   /* largest rate correction */
#define TIMELINE_RATE_PPM 1000u      /* a measured host rate further off nominal is ignored */
#define TIMELINE_STEP_NS 1000000ull  /* a guest this far behind jumps forward */
#define TIMELINE_MIN_KHZ 1000ull     /* TSC frequencies accepted: 1 MHz ... */
#define TIMELINE_MAX_KHZ 50000000ull /* ... 50 GHz */

struct timeline {
  struct vvar_line line; /* what the guest computes with */
  uint64_t nominal_mult; /* ns per tick << VVAR_SHIFT at the TSC's stated frequency */
  uint64_t rate;         /* the host clock's measured ns per tick << VVAR_SHIFT */
  uint64_t tsc_hz;
  uint64_t horizon;           /* ticks: TIMELINE_HORIZON_S at tsc_hz */
  uint64_t prev_tsc, prev_ns; /* the host sample of the last redraw */
};

/* ns per tick << VVAR_SHIFT for a TSC of `khz` kHz (in the accepted range). */
uint64_t timeline_mult_for_khz(uint64_t khz);

/* A line through (tsc, host_ns) at the nominal slope. -EINVAL when khz is
 * outside [TIMELINE_MIN_KHZ, TIMELINE_MAX_KHZ]. */
int timeline_init(struct timeline *tl, uint64_t khz, uint64_t tsc, uint64_t host_ns);

/* Whether the vDSO may still use the line at `tsc` (not before its base,
 * at most one horizon after). */
bool timeline_in_horizon(const struct timeline *tl, uint64_t tsc);

/* The guest's clock at `tsc`, which must be inside the horizon. */
uint64_t timeline_ns(const struct timeline *tl, uint64_t tsc);

/* Redraws the line from `tsc` on, given that the host clock read host_ns
 * at tsc. Later guest readings are never below earlier ones: the new line
 * starts at or above every value the old one could have given before tsc. */
void timeline_redraw(struct timeline *tl, uint64_t tsc, uint64_t host_ns);

#endif
