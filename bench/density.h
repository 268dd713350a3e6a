/* density.h - bench/density's options and results: N idle VMs restored from
 * one snapshot at once, what each costs the host, and the restore rate. */
#ifndef HEARTH_BENCH_DENSITY_H
#define HEARTH_BENCH_DENSITY_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"

#define DN_TEXT 256
#define DN_ROUNDS 2 /* N, then the cap */

struct dn_options {
  size_t count;  /* the first round's VMs (default 100) */
  size_t max;    /* the second round never restores more */
  bool no_scale; /* only the first round */
  unsigned mem_mib;
  double timeout_s; /* for all of a round's VMs to be ready */
  double settle_s;  /* idle time before memory is read */
  const char *vmm, *images, *keys, *json;
};

struct dn_round {
  size_t asked, spawned, ready, answered; /* answered: HELLO read from it afterwards */
  char failure[DN_TEXT];                  /* the first failure */
  double spawn_all_ms;                    /* the first spawn -> the last spawn returned */
  double all_ready_ms;                    /* the first spawn -> the last "ready" */
  double teardown_ms;                     /* SIGKILL to all -> all reaped */
  double vm_cpu_ms;                       /* CPU (user + system) of all its VMs over their lives */
  double bench_cpu_ms; /* the benchmark's own CPU during the round (spawning, polling) */
  long long avail_before_kib, avail_after_kib; /* MemAvailable */
  long long cg_before, cg_after;               /* cgroup bytes; -1: no cgroup */
  long long kmem_before, kmem_after;           /* of which kernel memory; -1: unknown */
  char cgroup_note[DN_TEXT];
};

struct dn_result {
  struct machine machine;
  double loadavg[3];
  long long mem_total_kib;
  char snapshot_error[DN_TEXT];
  double snapshot_ms;
  struct dn_round rounds[DN_ROUNDS];
  size_t nrounds;
  char cap_note[DN_TEXT]; /* how the second round's count was chosen */
  bool interrupted;
};

/* Per idle VM, KiB: MemAvailable's drop, and the cgroup's growth (-1 when
 * there is none). */
double dn_per_vm_avail_kib(const struct dn_round *r);
double dn_per_vm_cgroup_kib(const struct dn_round *r);
double dn_per_vm_kernel_kib(const struct dn_round *r);

#endif
