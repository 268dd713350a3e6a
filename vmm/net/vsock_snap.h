/* vsock_snap.h - the guest's vsock state as plain values for a snapshot,
 * and sockets rebuilt from them (vsock_snap.c). As Firecracker does, no
 * connection survives a snapshot: a listening socket comes back listening
 * with an empty accept queue (the connections that waited are gone), and a
 * connected one comes back closed by its peer: reads give end of stream,
 * writes EPIPE, so the runtime goes back to accept. Socket options come
 * back at their defaults. */
#ifndef HEARTH_VMM_NET_VSOCK_SNAP_H
#define HEARTH_VMM_NET_VSOCK_SNAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "net/vsock.h"

struct file;
struct vsock_state;

/* The per-VM counters that keep names distinct across a restore. */
struct vsock_counters {
  uint32_t next_port;      /* where the search for an ephemeral port resumes */
  uint32_t next_host_port; /* the next "OK <port>" */
  uint64_t next_ino;       /* the next socket's inode number */
};

enum vsock_snap_kind {
  VSOCK_SNAP_UNCONNECTED = 0,
  VSOCK_SNAP_LISTENING = 1,
  VSOCK_SNAP_CONNECTED = 2
};

struct vsock_saved_sock {
  uint8_t kind; /* enum vsock_snap_kind */
  bool bound;
  struct vsock_addr local, peer;
  uint32_t backlog; /* LISTENING: the accept queue's limit (1..VSOCK_BACKLOG_MAX) */
  uint64_t ino;
  struct timespec created;
};

void vsock_snap_counters(const struct vsock_state *st, struct vsock_counters *out);
/* -EINVAL for counters a VM never has (a port below the ephemeral range,
 * a host port below its range, inode 0). */
int vsock_snap_set_counters(struct vsock_state *st, const struct vsock_counters *c);

/* The state of vsock socket f (file_is_vsock(f) must hold). */
void vsock_snap_sock(struct file *f, struct vsock_saved_sock *out);
/* A socket description (flags: its file flags) rebuilt from s in st:
 * claiming its port again (-EADDRINUSE when taken), listening, or closed by
 * its peer. -EINVAL for a bad kind, backlog or port; -ENFILE, -ENOBUFS past
 * the caps; -ENOMEM. */
int vsock_snap_sock_restore(struct vsock_state *st, const struct vsock_saved_sock *s, int flags,
                            struct file **out);

#endif
