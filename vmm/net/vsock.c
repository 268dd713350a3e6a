/* vsock.c - the per-VM vsock state (vsock.h, vsock_impl.h): made at VM
 * creation with the host bridge when cfg->vsock_uds is set, referenced by
 * every socket so that a socket outliving vsock_fini (a description still
 * held somewhere at teardown) never touches freed memory, and the one-shot
 * --ready-fd signal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net/vsock_impl.h"
#include "vm.h"

int vsock_init(struct vm *vm) {
  const struct vm_config *cfg = vm->cfg;
  struct vsock_state *st = calloc(1, sizeof *st);
  if (!st)
    return -ENOMEM;
  st->refs = 1;
  st->live = true;
  st->cid = cfg->vsock_cid;
  st->ready_fd = cfg->ready_fd;
  st->listen_fd = -1;
  st->next_ino = 1;
  st->next_host_port = VSOCK_HOST_PORT_FIRST;
  vsock_ports_init(&st->ports);
  if (cfg->vsock_uds) {
    if (strlen(cfg->vsock_uds) >= sizeof st->uds) {
      vlog(VLOG_ERROR, "--vsock-uds %s: path too long for a Unix socket", cfg->vsock_uds);
      free(st);
      return -ENAMETOOLONG;
    }
    strcpy(st->uds, cfg->vsock_uds);
    int rc = vsock_bridge_open(st);
    if (rc < 0) {
      free(st);
      return rc;
    }
  }
  vm->vsock = st;
  return 0;
}

void vsock_fini(struct vm *vm) {
  struct vsock_state *st = vm->vsock;
  if (!st)
    return;
  vsock_bridge_close(st);
  st->live = false;
  vm->vsock = NULL;
  vsock_state_unref(st);
}

struct vsock_state *vsock_state_ref(struct vsock_state *st) {
  st->refs++;
  return st;
}

void vsock_state_unref(struct vsock_state *st) {
  if (--st->refs > 0)
    return;
  vsock_ports_fini(&st->ports);
  free(st);
}

/* Every listener is bound (listen() needs it) to one port: count the
 * port owners that listen. */
void vsock_stats_read(const struct vm *vm, struct vsock_stats *out) {
  const struct vsock_state *st = vm->vsock;
  *out = (struct vsock_stats){0};
  if (!st)
    return;
  out->sockets = st->sockets;
  out->connections = st->conns;
  for (size_t i = 0; i < st->ports.n; i++) {
    const struct vsock_sock *s = st->ports.v[i].owner;
    if (s && s->state == VSOCK_LISTENING)
      out->listeners++;
  }
  out->bytes_in = st->bytes_in;
  out->bytes_out = st->bytes_out;
}

void vsock_signal_ready(struct vsock_state *st) {
  if (st->ready_fd < 0)
    return;
  static const char msg[] = "ready\n";
  ssize_t n = write(st->ready_fd, msg, sizeof msg - 1);
  if (n != (ssize_t)(sizeof msg - 1))
    vlog(VLOG_WARN, "--ready-fd %d: %s", st->ready_fd, n < 0 ? strerror(errno) : "short write");
  if (st->ready_fd > 2) /* never the VMM's own stdio, which the guest's fds 0-2 are */
    close(st->ready_fd);
  st->ready_fd = -1;
}
