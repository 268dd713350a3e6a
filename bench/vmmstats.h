/* vmmstats.h - reads the JSON file `hearth-vmm --stats FILE` writes after a
 * run, e.g. {"exits":3,"syscalls":3,"lstar_syscalls":0,...,
 * "guest_pages_populated":40,"guest_resident_kib":120,...}. */
#ifndef HEARTH_BENCH_VMMSTATS_H
#define HEARTH_BENCH_VMMSTATS_H

#include <stdbool.h>

struct vmm_run_stats {
  double exits;          /* guest -> VMM exits of any kind */
  double syscalls;       /* system calls served */
  double lstar_syscalls; /* of which came through the LSTAR stub (unrewritten) */
  bool has_guest_resident;
  double guest_resident_kib; /* guest memory resident in the VMM at the end */
  bool has_pages_populated;
  double pages_populated; /* guest pages the VMM gave a physical page */
};

/* Parses the stats file at path. exits, syscalls and lstar_syscalls must be
 * non-negative integers; guest_resident_kib and guest_pages_populated are
 * optional. Returns 0, -errno from opening/reading, -EFBIG past 64 KiB,
 * -EINVAL when malformed, or -ENOMEM. */
int vmm_stats_load(const char *path, struct vmm_run_stats *s);

#endif
