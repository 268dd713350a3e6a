/* vsock_snap.c - vsock sockets and counters for snapshots (vsock_snap.h). */
#include "net/vsock_snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/file.h"
#include "net/vsock_impl.h"

void vsock_snap_counters(const struct vsock_state *st, struct vsock_counters *out) {
  *out = (struct vsock_counters){
      .next_port = st->ports.next, .next_host_port = st->next_host_port, .next_ino = st->next_ino};
}

int vsock_snap_set_counters(struct vsock_state *st, const struct vsock_counters *c) {
  if (c->next_port < VSOCK_EPHEMERAL_FIRST || c->next_port == VSOCK_PORT_ANY ||
      c->next_host_port < VSOCK_HOST_PORT_FIRST || c->next_ino == 0)
    return -EINVAL;
  st->ports.next = c->next_port;
  st->next_host_port = c->next_host_port;
  st->next_ino = c->next_ino;
  return 0;
}

void vsock_snap_sock(struct file *f, struct vsock_saved_sock *out) {
  struct vsock_sock *s = f->priv;
  uint8_t kind = s->state == VSOCK_LISTENING   ? VSOCK_SNAP_LISTENING
                 : s->state == VSOCK_CONNECTED ? VSOCK_SNAP_CONNECTED
                                               : VSOCK_SNAP_UNCONNECTED;
  *out = (struct vsock_saved_sock){.kind = kind,
                                   .bound = s->bound,
                                   .local = s->local,
                                   .peer = s->peer,
                                   .backlog = (uint32_t)s->qlimit,
                                   .ino = s->ino,
                                   .created = s->created};
}

/* A connection whose peer has gone: one end of a socketpair whose other
 * end is closed at once. */
static int reset_conn(struct vsock_sock *s) {
  struct vsock_state *st = s->st;
  if (st->conns + 1 > VSOCK_CONNS_MAX)
    return -ENOBUFS;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  close(sv[1]);
  s->fd = sv[0];
  s->state = VSOCK_CONNECTED;
  st->conns++;
  return 0;
}

static int listen_again(struct vsock_sock *s, uint32_t backlog) {
  if (!s->bound || backlog == 0 || backlog > VSOCK_BACKLOG_MAX)
    return -EINVAL;
  s->queue = calloc(VSOCK_BACKLOG_MAX, sizeof *s->queue);
  if (!s->queue)
    return -ENOMEM;
  s->state = VSOCK_LISTENING;
  s->qlimit = (int)backlog;
  return 0;
}

static int rebuild(struct vsock_sock *s, const struct vsock_saved_sock *ss) {
  struct vsock_state *st = s->st;
  if (ss->bound) {
    int rc = vsock_ports_claim(&st->ports, ss->local.port, s);
    if (rc < 0)
      return rc;
    s->bound = true;
  }
  s->local = ss->local;
  s->peer = ss->peer;
  s->ino = ss->ino;
  s->created = ss->created;
  snprintf(s->path, sizeof s->path, "socket:[%llu]", (unsigned long long)s->ino);
  switch (ss->kind) {
  case VSOCK_SNAP_UNCONNECTED:
    return 0;
  case VSOCK_SNAP_LISTENING:
    return listen_again(s, ss->backlog);
  case VSOCK_SNAP_CONNECTED:
    return reset_conn(s);
  }
  return -EINVAL;
}

int vsock_snap_sock_restore(struct vsock_state *st, const struct vsock_saved_sock *ss, int flags,
                            struct file **out) {
  if (ss->kind > VSOCK_SNAP_CONNECTED || ss->ino == 0)
    return -EINVAL;
  int err;
  uint64_t next_ino = st->next_ino;
  struct vsock_sock *s = vsock_sock_new(st, &err);
  st->next_ino = next_ino; /* the saved inode replaces the one just taken */
  if (!s)
    return err;
  err = rebuild(s, ss);
  if (err < 0) {
    vsock_sock_free(s);
    return err;
  }
  *out = vsock_file_new(s, flags);
  return *out ? 0 : -ENOMEM;
}
