/* density_cgroup.h - a memory cgroup of its own for bench/density, made
 * under the benchmark's own memory cgroup (v1 memory.usage_in_bytes, or v2
 * memory.current: user and kernel memory charged to it). The benchmark
 * moves itself in while it spawns the VMs, so they are born in it, and back
 * out before removing it. */
#ifndef HEARTH_BENCH_DENSITY_CGROUP_H
#define HEARTH_BENCH_DENSITY_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct dcg {
  char dir[PATH_MAX];     /* the cgroup made */
  char parent[PATH_MAX];  /* where the benchmark was */
  const char *usage_file; /* "memory.usage_in_bytes" or "memory.current" */
  bool entered;
};

/* Makes the cgroup and moves this process into it. 0, or a negative errno
 * with why (nothing is left behind then). */
int dcg_enter(struct dcg *g, char *why, size_t cap);

/* Bytes charged to it now, or a negative errno. */
long long dcg_usage(const struct dcg *g);

/* Of that, kernel memory (v1's memory.kmem.usage_in_bytes), or a negative
 * errno (-ENOENT under v2, whose memory.stat splits it instead). */
long long dcg_kernel_usage(const struct dcg *g);

/* Moves this process back and removes the cgroup (its children must have
 * been reaped). 0 or a negative errno. */
int dcg_leave(struct dcg *g);

#endif
