/* snap_config.h - the CONFIG section: what a restore needs to build the VM
 * before any other section is read (memory size and paging, the /tmp and
 * /code caps, the root, the image it came from, vsock's CID and bridge
 * path) and the system call the guest will restart, if any (run.c). The
 * restored configuration owns its strings. */
#ifndef HEARTH_VMM_SNAPSHOT_SNAP_CONFIG_H
#define HEARTH_VMM_SNAPSHOT_SNAP_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "snapshot/snapfile.h"
#include "vm.h"

struct snap_config {
  struct vm_config cfg; /* its strings point into the arrays below */
  char root[PATH_MAX];
  char exe[PATH_MAX]; /* argv[0]: /proc/self/exe */
  char site_cache[PATH_MAX];
  char state_dir[PATH_MAX];
  char image_dir[PATH_MAX];
  char vsock_uds[108];
  char *argv[2];
  char *env[1];
  bool restarting;     /* the guest is on a system call it will make again */
  uint64_t restart_nr; /* which one */
};

int snap_save_config(const struct vm *vm, struct snap_buf *b);
/* Reads and checks the section into *out (every cap and size within what
 * hearth-vmm's flags accept). 0 or -EBADMSG. */
int snap_load_config(struct snap_cursor *c, struct snap_config *out);

#endif
