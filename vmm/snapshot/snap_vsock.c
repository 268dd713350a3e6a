/* snap_vsock.c - the vsock section (SNAP_SEC_VSOCK): the per-VM counters
 * that keep names distinct across a restore (the ephemeral port search,
 * the host-side port numbers, socket inode numbers). The sockets
 * themselves are descriptions, saved in the files section (snap_files.c):
 * a listening socket with its port and backlog, a bound one with its port
 * (which together are the bound-port set), a connected one to come back
 * reset. The guest's CID is configuration (--vsock-cid at restore): the
 * one at snapshot time is recorded for the record only.
 *
 * Layout: u32 cid at snapshot, u32 next ephemeral port, u32 next host
 * port, u64 next inode. An empty section (no vsock) is a VM without one. */
#include <errno.h>

#include "net/vsock_snap.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

int snap_save_vsock(const struct vm *vm, struct snap_buf *b) {
  if (!vm->vsock)
    return 0;
  struct vsock_counters k;
  vsock_snap_counters(vm->vsock, &k);
  snap_put_u32(b, vm->cfg->vsock_cid);
  snap_put_u32(b, k.next_port);
  snap_put_u32(b, k.next_host_port);
  snap_put_u64(b, k.next_ino);
  return b->err;
}

int snap_load_vsock(struct vm *vm, struct snap_cursor *c) {
  if (c->len == 0)
    return 0; /* saved without vsock */
  struct vsock_counters k;
  (void)snap_get_u32(c); /* the CID then; the restore's own config wins */
  k.next_port = snap_get_u32(c);
  k.next_host_port = snap_get_u32(c);
  k.next_ino = snap_get_u64(c);
  int r = snap_cursor_done(c);
  if (r < 0)
    return r;
  if (!vm->vsock)
    return 0; /* restored without vsock: the files section refuses sockets */
  return vsock_snap_set_counters(vm->vsock, &k) < 0 ? -EBADMSG : 0;
}
