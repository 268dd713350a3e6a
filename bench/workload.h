/* workload.h - the programs bench/start times, and the command line of each
 * way of running them. */
#ifndef HEARTH_BENCH_WORKLOAD_H
#define HEARTH_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "bench.h"

struct workload_spec {
  const char *key;      /* flag and JSON name: "hello", "python-pass", "python-json" */
  const char *title;    /* for people: "python3 -c pass" */
  bool python;          /* runs bench_options.python; otherwise the static hello */
  const char *code;     /* python3 -c CODE, for python workloads */
  const char *expected; /* the exact stdout; NULL: what the plain warm-up printed */
  /* hearth-vmm --guest-pages: 2m for python, whose start touches many MiB
   * (fewer first-touch faults), 4k for the hello (2m gains it nothing and
   * costs host memory) */
  const char *guest_pages;
};

/* The workload's description; w < WORKLOAD_COUNT. */
const struct workload_spec *workload_spec(enum workload w);

/* The workload whose key is `key`, or -EINVAL. */
int workload_by_key(const char *key);

/* Where the runs of one workload find things. */
struct workload_paths {
  const char *hello;       /* the hello copy every kind runs (on the host) */
  const char *hearth_root; /* hearth-vmm --root for the hello: holds only /hello */
  const char *stats;       /* hearth-vmm --stats FILE */
  const char *runsc_root;  /* runsc --root=... flag, complete */
  const char *platform;    /* runsc --platform=... flag, complete */
  const char *sandbox_id;  /* the warm sandbox `runsc exec` runs in */
};

#define WORKLOAD_ARGV_MAX 16

/* Fills argv (NULL-terminated, at most WORKLOAD_ARGV_MAX entries) with the
 * command that runs workload w as kind k. The strings point into o, p and
 * static storage. */
void workload_argv(enum workload w, enum kind k, const struct bench_options *o,
                   const struct workload_paths *p, char *argv[WORKLOAD_ARGV_MAX]);

#endif
