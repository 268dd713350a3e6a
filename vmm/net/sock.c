/* sock.c - the vsock socket state machine (vsock_impl.h): UNCONNECTED ->
 * bind -> listen -> LISTENING with an accept queue, or UNCONNECTED ->
 * connect -> CONNECTED over a host stream socket. A connection to the
 * guest's own CID is a host socketpair whose second end joins the
 * listener's queue; one to the host goes through the bridge (bridge.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/file.h"
#include "net/vsock_impl.h"

/* Linux's defaults (net.core.[rw]mem_default, vsock's buffer sizes). */
#define DEFAULT_SOCKBUF 212992
#define VSOCK_DEFAULT_BUF (256u * 1024)
#define VSOCK_DEFAULT_BUF_MIN 128u
#define VSOCK_DEFAULT_CONNECT_TIMEOUT_S 2

static struct vsock_sock *sock_alloc(struct vsock_state *st) {
  struct vsock_sock *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->st = vsock_state_ref(st);
  s->state = VSOCK_UNCONNECTED;
  s->fd = -1;
  s->local = s->peer = (struct vsock_addr){VSOCK_CID_ANY, VSOCK_PORT_ANY};
  s->opts = (struct vsock_opts){.sndbuf = DEFAULT_SOCKBUF,
                                .rcvbuf = DEFAULT_SOCKBUF,
                                .buf_size = VSOCK_DEFAULT_BUF,
                                .buf_min = VSOCK_DEFAULT_BUF_MIN,
                                .buf_max = VSOCK_DEFAULT_BUF,
                                .connect_timeout = {.tv_sec = VSOCK_DEFAULT_CONNECT_TIMEOUT_S}};
  s->ino = st->next_ino++;
  clock_gettime(CLOCK_REALTIME, &s->created);
  snprintf(s->path, sizeof s->path, "socket:[%llu]", (unsigned long long)s->ino);
  st->sockets++;
  return s;
}

struct vsock_sock *vsock_sock_new(struct vsock_state *st, int *err) {
  if (st->sockets >= VSOCK_SOCKETS_MAX) {
    *err = -ENFILE;
    return NULL;
  }
  struct vsock_sock *s = sock_alloc(st);
  *err = s ? 0 : -ENOMEM;
  return s;
}

struct vsock_sock *vsock_sock_new_conn(struct vsock_state *st, int fd, struct vsock_addr local,
                                       struct vsock_addr peer) {
  struct vsock_sock *s = sock_alloc(st);
  if (!s) {
    close(fd);
    return NULL;
  }
  s->state = VSOCK_CONNECTED;
  s->fd = fd;
  s->local = local;
  s->peer = peer;
  st->conns++;
  return s;
}

static void queue_drain(struct vsock_sock *l) {
  while (l->qlen > 0) {
    vsock_sock_free(l->queue[l->qhead]);
    l->qhead = (l->qhead + 1) % VSOCK_BACKLOG_MAX;
    l->qlen--;
  }
  free(l->queue);
  l->queue = NULL;
}

void vsock_sock_free(struct vsock_sock *s) {
  struct vsock_state *st = s->st;
  if (s->fd >= 0) {
    close(s->fd);
    st->conns--;
    st->accept_stalled = false; /* a host fd came free */
  }
  if (s->queue)
    queue_drain(s);
  if (s->bound)
    vsock_ports_release(&st->ports, s->local.port, s);
  st->sockets--;
  free(s);
  vsock_state_unref(st);
}

/* --- binding and listening --- */

static bool cid_is_ours(const struct vsock_state *st, uint32_t cid) {
  return cid == st->cid || cid == VSOCK_CID_LOCAL;
}

static long bind_sock(struct vsock_sock *s, struct vsock_addr addr) {
  struct vsock_state *st = s->st;
  if (s->bound)
    return -EINVAL;
  if (addr.cid != VSOCK_CID_ANY && !cid_is_ours(st, addr.cid))
    return -EADDRNOTAVAIL;
  long long port;
  if (addr.port == VSOCK_PORT_ANY) {
    port = vsock_ports_claim_any(&st->ports, s);
  } else {
    int rc = vsock_ports_claim(&st->ports, addr.port, s);
    port = rc < 0 ? (long long)rc : (long long)addr.port;
  }
  if (port < 0)
    return (long)port;
  s->bound = true;
  s->local = (struct vsock_addr){addr.cid, (uint32_t)port};
  return 0;
}

long vsock_bind(struct file *f, struct vsock_addr addr) {
  struct vsock_sock *s = f->priv;
  return bind_sock(s, addr);
}

long vsock_listen(struct file *f, int backlog) {
  struct vsock_sock *s = f->priv;
  if (!s->bound || s->state == VSOCK_CONNECTED)
    return -EINVAL;
  /* As Linux: a negative backlog is the most, and backlog 0 still holds one. */
  int room = backlog < 0 || backlog >= VSOCK_BACKLOG_MAX ? VSOCK_BACKLOG_MAX : backlog + 1;
  if (!s->queue) {
    s->queue = calloc(VSOCK_BACKLOG_MAX, sizeof *s->queue);
    if (!s->queue)
      return -ENOMEM;
  }
  s->state = VSOCK_LISTENING;
  s->qlimit = room;
  return 0;
}

struct vsock_sock *vsock_listener_with_room(struct vsock_state *st, uint32_t port) {
  struct vsock_sock *l = vsock_ports_owner(&st->ports, port);
  if (!l || l->state != VSOCK_LISTENING || l->qlen >= l->qlimit)
    return NULL;
  return l;
}

void vsock_listener_enqueue(struct vsock_sock *l, struct vsock_sock *c) {
  l->queue[(l->qhead + l->qlen) % VSOCK_BACKLOG_MAX] = c;
  l->qlen++;
}

/* --- connecting --- */

/* A connection to the guest's own listener on addr.port: one end of a
 * host socketpair for s, the other queued on the listener. */
static long connect_local(struct vsock_sock *s, struct vsock_addr addr) {
  struct vsock_state *st = s->st;
  struct vsock_sock *l = vsock_listener_with_room(st, addr.port);
  if (!l)
    return -ECONNREFUSED;
  if (st->conns + 2 > VSOCK_CONNS_MAX)
    return -ENOBUFS;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    return errno == EMFILE || errno == ENFILE ? -ENOBUFS : -ENOMEM;
  struct vsock_addr me = {addr.cid, s->local.port};
  struct vsock_sock *c = vsock_sock_new_conn(st, sv[1], addr, me);
  if (!c) {
    close(sv[0]);
    return -ENOMEM;
  }
  vsock_listener_enqueue(l, c);
  s->fd = sv[0];
  st->conns++;
  return 0;
}

static long connect_host(struct vsock_sock *s, struct vsock_addr addr) {
  struct vsock_state *st = s->st;
  if (st->conns + 1 > VSOCK_CONNS_MAX)
    return -ENOBUFS;
  int fd = vsock_bridge_connect(st, addr.port);
  if (fd < 0)
    return fd == -EMFILE ? -ENOBUFS : fd;
  s->fd = fd;
  st->conns++;
  return 0;
}

long vsock_connect(struct file *f, struct vsock_addr addr) {
  struct vsock_sock *s = f->priv;
  if (s->state == VSOCK_CONNECTED)
    return -EISCONN;
  if (s->state == VSOCK_LISTENING)
    return -EINVAL;
  bool local = cid_is_ours(s->st, addr.cid);
  if (!local && addr.cid != VSOCK_CID_HOST)
    return -ENETUNREACH;
  /* Like Linux, the implicit bind stays when the connect then fails. */
  long rc = s->bound ? 0 : bind_sock(s, (struct vsock_addr){VSOCK_CID_ANY, VSOCK_PORT_ANY});
  if (rc == 0)
    rc = local ? connect_local(s, addr) : connect_host(s, addr);
  if (rc < 0)
    return rc;
  s->state = VSOCK_CONNECTED;
  s->peer = addr;
  return 0;
}

/* --- accepting, names, shutdown --- */

struct vsock_sock *vsock_sock_of(struct file *f) {
  struct vsock_sock *s = file_is_vsock(f) ? f->priv : NULL;
  return s && s->state == VSOCK_CONNECTED ? s : NULL;
}

long vsock_accept(struct file *f, int flags, struct file **out, struct vsock_addr *peer) {
  struct vsock_sock *l = f->priv;
  if (l->state != VSOCK_LISTENING)
    return -EINVAL;
  vsock_bridge_pump(l->st);
  if (l->qlen == 0)
    return -EAGAIN;
  struct vsock_sock *c = l->queue[l->qhead];
  l->qhead = (l->qhead + 1) % VSOCK_BACKLOG_MAX;
  l->qlen--;
  struct file *nf = vsock_file_new(c, O_RDWR | (flags & O_NONBLOCK));
  if (!nf)
    return -ENOMEM; /* c went with it */
  *peer = c->peer;
  *out = nf;
  return 0;
}

long vsock_name(struct file *f, bool peer, struct vsock_addr *out) {
  struct vsock_sock *s = f->priv;
  if (!peer) {
    *out = s->local;
    if (s->state == VSOCK_CONNECTED && out->cid == VSOCK_CID_ANY)
      out->cid = s->st->cid; /* a connection has a definite local CID */
    return 0;
  }
  if (s->state != VSOCK_CONNECTED)
    return -ENOTCONN;
  *out = s->peer;
  return 0;
}

long vsock_shutdown(struct file *f, int how) {
  struct vsock_sock *s = f->priv;
  if (how < SHUT_RD || how > SHUT_RDWR)
    return -EINVAL;
  if (s->state != VSOCK_CONNECTED)
    return -ENOTCONN;
  if (shutdown(s->fd, how) < 0)
    return -errno;
  s->shut |= how + 1; /* SHUT_RD 1, SHUT_WR 2, SHUT_RDWR 3 */
  return 0;
}
