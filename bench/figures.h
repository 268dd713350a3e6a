/* figures.h - the numbers a benchmark report shows, worked out once from the
 * raw samples for both the text and the JSON report. */
#ifndef HEARTH_BENCH_FIGURES_H
#define HEARTH_BENCH_FIGURES_H

#include "bench.h"

enum goal_state { GOAL_NOT_MEASURED, GOAL_MET, GOAL_MISSED };

/* What a goal compares. */
enum goal_measure {
  GOAL_HEARTH_OVER_PLAIN,  /* hearth median / plain median */
  GOAL_HEARTH_OVER_GVISOR, /* hearth median / gVisor `runsc do` median */
  GOAL_RSS_EXCL_GUEST      /* max over runs of the VMM's RSS excluding guest memory, KiB */
};

#define GOAL_COUNT 8

struct goal {
  enum workload workload;
  enum goal_measure measure;
  const char *issue; /* "issue 3", "issue 4" */
  const char *key;   /* the JSON name, e.g. "python-pass.hearth_over_plain" */
  double limit;
  bool strict;     /* measured < limit rather than <= */
  double measured; /* valid unless state == GOAL_NOT_MEASURED */
  enum goal_state state;
};

struct workload_figures {
  struct summary wall_ms[KIND_COUNT];
  struct summary maxrss_kib[KIND_COUNT];
  struct summary exits, syscalls, lstar_syscalls, pages_populated;
  struct summary vmm_rss_kib, guest_kib, excl_kib;
  bool rss_excludes_guest; /* every hearth run's stats had guest_resident_kib */
  /* hearth's median over each kind's; has_ratio false when either is missing */
  double ratio[KIND_COUNT];
  bool has_ratio[KIND_COUNT];
};

struct figures {
  struct workload_figures workloads[WORKLOAD_COUNT];
  struct goal goals[GOAL_COUNT];
};

/* Fills *f from r. Returns 0 or -ENOMEM. */
int figures_compute(const struct bench_result *r, struct figures *f);

/* For people: "hearth / plain (medians)", "hearth / gVisor do (medians)",
 * "VMM peak RSS excl. guest memory, KiB (max)". */
const char *goal_what(enum goal_measure m);

#endif
