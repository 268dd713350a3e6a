/* bench.h - what bench/start measures: its options and the results the
 * report prints. */
#ifndef HEARTH_BENCH_BENCH_H
#define HEARTH_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"
#include "series.h"

/* The three ways the static hello is run, in the order they alternate. */
enum kind { KIND_PLAIN, KIND_HEARTH, KIND_GVISOR, KIND_COUNT };

/* Goals from issue 3, section 4. */
#define GOAL_HEARTH_OVER_PLAIN 5.0   /* hearth median <= 5x the plain process's */
#define GOAL_HEARTH_OVER_GVISOR 0.05 /* hearth median <= 0.05x gVisor's */
#define GOAL_VMM_RSS_KIB 5120.0      /* VMM RSS excluding guest memory < 5 MiB */

struct bench_options {
  size_t runs;          /* timed runs of each kind */
  const char *hello;    /* the static hello, on the host */
  const char *vmm;      /* hearth-vmm */
  const char *runsc;    /* runsc, searched in PATH if it has no '/' */
  const char *platform; /* runsc --platform */
  const char *expect;   /* the line hello prints; NULL: what the plain warm-up printed */
  const char *json;     /* where to write the JSON summary, or NULL */
  double timeout_s;     /* per run */
  double pause_ms;      /* idle time before each run, so one run's teardown
                           (gVisor's above all) does not overlap the next */
  bool skip[KIND_COUNT];
};

#define FAILURES_KEPT 3
#define FAILURE_TEXT 320

struct kind_result {
  size_t ok, failed;
  struct series wall_ms;                      /* successful runs only */
  struct series maxrss_kib;                   /* wait4 ru_maxrss of successful runs */
  char warmup[FAILURE_TEXT];                  /* "ok", or why the warm-up failed */
  char failures[FAILURES_KEPT][FAILURE_TEXT]; /* the first failures, why */
};

/* hearth-vmm's own figures, from successful runs. */
struct hearth_result {
  struct series exits, syscalls, lstar_syscalls;
  struct series vmm_rss_kib; /* wait4 ru_maxrss of hearth-vmm */
  struct series guest_kib;   /* guest memory resident at the end (stats guest_resident_kib) */
  struct series excl_kib;    /* ru_maxrss - guest_resident_kib */
  size_t stats_missing;      /* successful runs whose --stats file was unreadable */
  size_t guest_kib_missing;  /* runs whose stats had no guest_resident_kib */
};

struct bench_result {
  struct machine machine;
  bool interrupted; /* stopped early by SIGINT/SIGTERM */
  /* bench/start's own VmHWM. Linux charges the spawning process's peak RSS to
   * the ru_maxrss of what it spawns (at exec, the old mm's high-water mark
   * goes into the new process's maxrss), so no ru_maxrss below it means much. */
  long self_hwm_kib;
  struct kind_result kinds[KIND_COUNT];
  struct hearth_result hearth;
};

/* The display name of a kind: "plain", "hearth", "gVisor". */
const char *kind_name(enum kind k);

#endif
