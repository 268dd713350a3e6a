/* stats.h - reads the file hearth-vmm writes with --stats FILE:
 * {"exits":N,"syscalls":N,"lstar_syscalls":N,"sites_rewritten":N}. */
#ifndef HEARTH_ITEST_STATS_H
#define HEARTH_ITEST_STATS_H

#include <stdint.h>

struct vmm_stats {
  uint64_t exits;           /* guest -> VMM exits of any kind */
  uint64_t syscalls;        /* system calls served, by either path */
  uint64_t lstar_syscalls;  /* of which arrived through the LSTAR stub */
  uint64_t sites_rewritten; /* syscall instructions rewritten at load */
};

/* Parses the stats file at `path` into *s. Every field must be present and
 * a non-negative integer. Returns 0, or a negative errno (-EINVAL for a
 * malformed file, -EFBIG past 64 KiB). */
int vmm_stats_read(const char *path, struct vmm_stats *s);

#endif
