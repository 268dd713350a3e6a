/* runbench.h - what bench/run measures: `hearth run` end to end for an echo
 * handler, native and python, against the same handler run as a plain local
 * process; the phases hearth reports with --timings; the options and the
 * results the report prints. */
#ifndef HEARTH_BENCH_RUNBENCH_H
#define HEARTH_BENCH_RUNBENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"
#include "series.h"

/* The echo handler, as a native program and as a python module. */
enum rb_workload { RB_NATIVE, RB_PYTHON, RB_WORKLOADS };

/* How it is run, alternating: the handler as a plain process, then under
 * `hearth run`. */
enum rb_kind { RB_PLAIN, RB_HEARTH, RB_KINDS };

/* --timings' phases (runtime/cli/timings.h), then hearth's wall time. */
enum rb_phase { PH_VM_START, PH_CONNECT, PH_CODE_LOAD, PH_INVOKE, PH_TEARDOWN, PH_COUNT };

#define RB_RUNS_DEFAULT 20
#define RB_FAILURES_KEPT 3
#define RB_TEXT 320
/* The event both kinds get on stdin, and must echo back byte for byte (the
 * python handler answers the decoded object, re-encoded compactly). */
#define RB_EVENT "{\"hello\":\"hearth\",\"n\":[1,2,3]}"

struct rb_options {
  size_t runs;
  bool skip[RB_WORKLOADS];
  const char *hearth;      /* the hearth CLI */
  const char *images;      /* directory holding the base and python images */
  const char *keys;        /* --trust */
  const char *native_code; /* a directory holding the static `handler` */
  const char *python_code; /* a directory holding handler.py */
  const char *python;      /* python3 for the plain python runs */
  const char *json;        /* also write the summary here, or NULL */
  double timeout_s;        /* per run */
  bool cold;               /* drop the page cache before every run of every kind */
};

struct rb_kind_result {
  size_t ok, failed;
  struct series wall_ms;
  char warmup[RB_TEXT];
  char failures[RB_FAILURES_KEPT][RB_TEXT];
};

struct rb_workload_result {
  bool started;
  struct rb_kind_result kinds[RB_KINDS];
  struct series phase_ms[PH_COUNT]; /* hearth's successful runs */
  size_t timings_missing;
};

struct rb_result {
  struct machine machine;
  bool interrupted;
  struct rb_workload_result w[RB_WORKLOADS];
};

const char *rb_workload_name(enum rb_workload w); /* "native echo", "python echo" */
const char *rb_workload_key(enum rb_workload w);  /* "native", "python" */
const char *rb_phase_name(enum rb_phase p);       /* "VM start (spawn -> ready)"... */
const char *rb_phase_key(enum rb_phase p);        /* --timings' member: "vm_start_ms"... */

#endif
