/* restore_snap.h - the image snapshot bench/restore and bench/density
 * restore from: a fresh hearth-vmm on a signed image, hearth-init in
 * accept() (the VMM said "ready"), paused and snapshotted through its
 * control socket, then shut down. */
#ifndef HEARTH_BENCH_RESTORE_SNAP_H
#define HEARTH_BENCH_RESTORE_SNAP_H

#include <stddef.h>

struct rsnap_args {
  const char *vmm, *image, *keys; /* hearth-vmm, the image directory, --trust */
  const char *state_dir;          /* --state-dir (its image cache) */
  const char *work;               /* scratch: the socket paths and the VMM's log go here */
  unsigned mem_mib;
  double timeout_s; /* for each step */
};

/* The fresh-start argv of args' image with its bridge at uds (and its
 * control socket at api when not NULL); bufs holds the numbers. argv has
 * room for 24 entries. */
void rsnap_fresh_argv(const struct rsnap_args *a, const char *uds, const char *api, char **argv,
                      char bufs[2][32]);

/* Takes the snapshot into dir (created by the VMM). took_ms: spawn to the
 * VMM's exit after shutdown. 0, or a negative errno with err saying why. */
int rsnap_take(const struct rsnap_args *a, const char *dir, double *took_ms, char *err,
               size_t errlen);

#endif
