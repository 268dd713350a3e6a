/* density_round.h - one round of bench/density: n VMs restored from snap as
 * fast as one thread can spawn them, timed until all said "ready", left idle
 * for a moment, memory read, each checked to answer HELLO, then all ended
 * (SIGKILL, reaped) whatever happened. */
#ifndef HEARTH_BENCH_DENSITY_ROUND_H
#define HEARTH_BENCH_DENSITY_ROUND_H

#include <signal.h>

#include "density.h"

struct dn_round_args {
  const struct dn_options *o;
  const char *snap;                       /* the snapshot directory */
  const char *work;                       /* bridges and the shared log go here */
  const volatile sig_atomic_t *interrupt; /* non-zero: stop, end every VM */
};

/* Fills *r. 0, or a negative errno when the harness itself failed. */
int dn_round_run(const struct dn_round_args *a, size_t n, struct dn_round *r);

/* MemAvailable in KiB, or a negative errno. */
long long dn_mem_available_kib(void);
/* MemTotal in KiB, or a negative errno. */
long long dn_mem_total_kib(void);

#endif
