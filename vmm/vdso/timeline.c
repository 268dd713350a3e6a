/* timeline.c - drawing and redrawing the guest clock's line over the TSC
 * (timeline.h). All products go through 128 bits. */
#include "vdso/timeline.h"

#include <errno.h>

#define NS_PER_MS 1000000ull

uint64_t timeline_mult_for_khz(uint64_t khz) {
  return (uint64_t)(((unsigned __int128)NS_PER_MS << VVAR_SHIFT) / khz);
}

int timeline_init(struct timeline *tl, uint64_t khz, uint64_t tsc, uint64_t host_ns) {
  if (khz < TIMELINE_MIN_KHZ || khz > TIMELINE_MAX_KHZ)
    return -EINVAL;
  uint64_t mult = timeline_mult_for_khz(khz);
  *tl = (struct timeline){
      .line = {.tsc_base = tsc, .ns_base = host_ns, .mult = mult},
      .nominal_mult = mult,
      .rate = mult,
      .tsc_hz = khz * 1000,
      .horizon = khz * 1000 * TIMELINE_HORIZON_S,
      .prev_tsc = tsc,
      .prev_ns = host_ns,
  };
  return 0;
}

bool timeline_in_horizon(const struct timeline *tl, uint64_t tsc) {
  return tsc - tl->line.tsc_base <= tl->horizon;
}

uint64_t timeline_ns(const struct timeline *tl, uint64_t tsc) {
  return vvar_line_ns(&tl->line, tsc);
}

/* nominal * (1 + sign * ppm / 1e6), rounded towards nominal. */
static uint64_t ppm_off(uint64_t nominal, unsigned ppm) {
  return (uint64_t)((unsigned __int128)nominal * ppm / 1000000u);
}

/* The host's ns per tick since the last redraw, when that interval is long
 * enough to measure and the result plausible; else the last good rate. */
static uint64_t measured_rate(struct timeline *tl, uint64_t tsc, uint64_t host_ns) {
  uint64_t ticks = tsc - tl->prev_tsc;
  if (tsc < tl->prev_tsc || host_ns < tl->prev_ns || ticks < tl->tsc_hz / 4)
    return tl->rate;
  unsigned __int128 ns = host_ns - tl->prev_ns;
  unsigned __int128 rate = (ns << VVAR_SHIFT) / ticks;
  uint64_t slack = ppm_off(tl->nominal_mult, TIMELINE_RATE_PPM);
  if (rate >= tl->nominal_mult - slack && rate <= tl->nominal_mult + slack)
    tl->rate = (uint64_t)rate;
  return tl->rate;
}

/* The slope correction that closes a gap of err_ns (host minus guest) over
 * one horizon, at most TIMELINE_MAX_SLEW_PPM. */
static int64_t slew(const struct timeline *tl, int64_t err_ns) {
  __int128 corr = ((__int128)err_ns * ((__int128)1 << VVAR_SHIFT)) / (__int128)tl->horizon;
  __int128 max = (__int128)ppm_off(tl->nominal_mult, TIMELINE_MAX_SLEW_PPM);
  if (corr > max)
    corr = max;
  if (corr < -max)
    corr = -max;
  return (int64_t)corr;
}

void timeline_redraw(struct timeline *tl, uint64_t tsc, uint64_t host_ns) {
  uint64_t rate = measured_rate(tl, tsc, host_ns);
  uint64_t value, mult = rate;
  if (!timeline_in_horizon(tl, tsc)) {
    /* No guest reading went past the horizon's end: start from there, or
     * from the host's time when that is later (the usual case). */
    uint64_t end = vvar_line_ns(&tl->line, tl->line.tsc_base + tl->horizon);
    value = host_ns > end ? host_ns : end;
  } else {
    value = vvar_line_ns(&tl->line, tsc);
    int64_t err = (int64_t)(host_ns - value);
    if (err > (int64_t)TIMELINE_STEP_NS)
      value = host_ns;
    else
      mult = (uint64_t)((int64_t)rate + slew(tl, err));
  }
  tl->line = (struct vvar_line){.tsc_base = tsc, .ns_base = value, .mult = mult};
  tl->prev_tsc = tsc;
  tl->prev_ns = host_ns;
}
