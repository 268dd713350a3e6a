/* bench.h - what bench/start measures: its workloads, the ways each is run,
 * its options, and the results the report prints. */
#ifndef HEARTH_BENCH_BENCH_H
#define HEARTH_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"
#include "series.h"

/* The ways a workload is run, in the order they alternate: a plain process,
 * hearth-vmm, a fresh gVisor sandbox (`runsc do`), and `runsc exec` into one
 * gVisor sandbox kept running for the whole benchmark (gVisor warm). */
enum kind { KIND_PLAIN, KIND_HEARTH, KIND_GVISOR, KIND_GVISOR_EXEC, KIND_COUNT };

/* What is run, one after the other: the static hello (issue 3), then
 * Debian's python3 doing nothing and printing a JSON object (issue 4). */
enum workload { WORKLOAD_HELLO, WORKLOAD_PY_PASS, WORKLOAD_PY_JSON, WORKLOAD_COUNT };

#define RUNS_DEFAULT_HELLO 50  /* issue 3 */
#define RUNS_DEFAULT_PYTHON 20 /* issue 4 */

/* Goals. Issue 3 (the static hello): hearth median <= 5x the plain
 * process's and <= 0.05x gVisor's; VMM RSS excluding guest memory < 5 MiB.
 * Issue 4: python under hearth <= 3x the plain process, and hearth <= 0.3x
 * gVisor's `runsc do` on every workload. */
#define GOAL_HELLO_OVER_PLAIN 5.0
#define GOAL_HELLO_OVER_GVISOR 0.05
#define GOAL_VMM_RSS_KIB 5120.0
#define GOAL_PYTHON_OVER_PLAIN 3.0
#define GOAL_ANY_OVER_GVISOR 0.3

struct bench_options {
  size_t runs[WORKLOAD_COUNT]; /* timed runs of each kind, per workload */
  bool skip_workload[WORKLOAD_COUNT];
  const char *hello;    /* the static hello, on the host */
  const char *python;   /* python3: an absolute path, the same on the host and
                           in hearth's guest (which runs with --root /) */
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
  struct series pages_populated; /* stats guest_pages_populated: pages the VMM mapped */
  struct series vmm_rss_kib;     /* wait4 ru_maxrss of hearth-vmm */
  struct series guest_kib;       /* guest memory resident at the end (stats guest_resident_kib) */
  struct series excl_kib;        /* ru_maxrss - guest_resident_kib */
  size_t stats_missing;          /* successful runs whose --stats file was unreadable */
  size_t guest_kib_missing;      /* runs whose stats had no guest_resident_kib */
};

struct workload_result {
  bool started; /* its warm-up began (false: skipped, or interrupted before it) */
  struct kind_result kinds[KIND_COUNT];
  struct hearth_result hearth;
};

/* The gVisor sandbox `runsc exec` runs in. */
struct warm_sandbox_result {
  bool started;
  double start_ms;         /* `runsc run -detach` spawn to reaped */
  char why[FAILURE_TEXT];  /* why it did not start, or "" */
  char stop[FAILURE_TEXT]; /* "" or why `runsc delete -force` failed */
};

struct bench_result {
  struct machine machine;
  bool interrupted; /* stopped early by SIGINT/SIGTERM */
  /* bench/start's own VmHWM. Linux charges the spawning process's peak RSS to
   * the ru_maxrss of what it spawns (at exec, the old mm's high-water mark
   * goes into the new process's maxrss), so no ru_maxrss below it means much. */
  long self_hwm_kib;
  struct warm_sandbox_result sandbox;
  struct workload_result workloads[WORKLOAD_COUNT];
};

/* The display name of a kind: "plain", "hearth", "gVisor do", "gVisor exec". */
const char *kind_name(enum kind k);
/* The JSON name of a kind: "plain", "hearth", "gvisor_do", "gvisor_exec". */
const char *kind_key(enum kind k);

#endif
