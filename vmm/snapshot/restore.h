/* restore.h - building a VM from a snapshot directory (hearth-vmm
 * --restore SNAPDIR): the state file read and checked (snapfile.h), the
 * memory file mapped MAP_PRIVATE (memfile.h) so VMs restored from one
 * snapshot share the pages none of them writes, KVM created, then every
 * section loaded, the vCPU last. What must differ between clones of one
 * snapshot (the vsock bridge path and CID, --ready-fd) comes from the
 * command line, never from the file (STYLE.md, item 5).
 *
 * Fresh entropy needs nothing here: the guest's getrandom() and
 * /dev/urandom are served by the VMM from the host's generator at each
 * call, so two VMs restored from one snapshot read different bytes from
 * their first call on. */
#ifndef HEARTH_VMM_SNAPSHOT_RESTORE_H
#define HEARTH_VMM_SNAPSHOT_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap_config.h"

struct vm;

struct vm_restore_args {
  const char *dir;       /* the snapshot directory */
  const char *vsock_uds; /* --vsock-uds, or NULL: the snapshot's */
  uint32_t vsock_cid;    /* --vsock-cid, or 0: the snapshot's */
  int ready_fd;          /* --ready-fd, or -1 */
};

/* Builds *vm from args->dir, ready for vm_run on this thread (the vCPU
 * thread); the configuration lives in *store, which must outlive the VM.
 * On refusal (a missing, corrupt, truncated, wrong-version or wrong-CPU
 * snapshot, a section that does not load) nothing is left built, and err
 * holds one line saying why. 0 or -errno. */
int vm_restore(struct vm *vm, struct snap_config *store, const struct vm_restore_args *args,
               char *err, size_t errlen);

/* A restored VM held paused before its first run (--start-paused): the
 * host's clocks when the hold began. */
struct restore_hold {
  uint64_t mono, raw, boot;
};

/* Right after vm_restore, when the VM is to wait before it first runs. */
void vm_restore_hold_begin(struct restore_hold *h);
/* At the resume that ends the hold, on the vCPU thread: the hold never
 * passed for the guest, whose clocks go on from the snapshot point as if
 * restored now; the vDSO line is redrawn and republished through them. */
void vm_restore_hold_end(struct vm *vm, const struct restore_hold *h);

#endif
