/* figures.h - the numbers a benchmark report shows, worked out once from the
 * raw samples for both the text and the JSON report. */
#ifndef HEARTH_BENCH_FIGURES_H
#define HEARTH_BENCH_FIGURES_H

#include "bench.h"

enum goal_state { GOAL_NOT_MEASURED, GOAL_MET, GOAL_MISSED };

enum goal_id { GOAL_VS_PLAIN, GOAL_VS_GVISOR, GOAL_VMM_RSS, GOAL_COUNT };

struct goal {
  const char *what; /* e.g. "hearth median / plain median" */
  const char *key;  /* the JSON name */
  double measured;  /* valid unless state == GOAL_NOT_MEASURED */
  double limit;
  bool strict; /* measured < limit rather than <= */
  enum goal_state state;
};

struct figures {
  struct summary wall_ms[KIND_COUNT];
  struct summary maxrss_kib[KIND_COUNT];
  struct summary exits, syscalls, lstar_syscalls;
  struct summary vmm_rss_kib, guest_kib, excl_kib;
  bool rss_excludes_guest; /* every hearth run's stats had guest_resident_kib */
  struct goal goals[GOAL_COUNT];
};

/* Fills *f from r. Returns 0 or -ENOMEM. */
int figures_compute(const struct bench_result *r, struct figures *f);

#endif
