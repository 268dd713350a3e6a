/* bridge.c - the guest's vsock sockets as host Unix sockets, Firecracker's
 * way (ARCHITECTURE.md, "Host <-> guest channel"). The VMM listens on
 * cfg->vsock_uds; a host client connects there and sends "CONNECT <port>\n";
 * once the line is in, the connection joins the accept queue of the guest's
 * listener on <port> and gets "OK <host-port>\n", or is closed when nothing
 * listens there (or its queue is full). A guest connect() to CID 2 port P
 * connects to cfg->vsock_uds + "_P".
 *
 * Everything here is non-blocking and runs when the guest is in a vsock
 * call or about to sleep in one (vsock_bridge_pump): the VMM has one thread,
 * and the guest's waits sleep on vsock_bridge_watch's fds, so a host
 * connection is taken in as soon as one arrives without any polling loop.
 * Handshake lines are read with MSG_PEEK and consumed exactly up to their
 * newline: what follows is the guest's data. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "net/vsock_impl.h"

/* The host listen() backlog: clients beyond it wait in connect(). */
#define BRIDGE_LISTEN_BACKLOG 64

static int uds_address(const char *path, struct sockaddr_un *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa->sun_path)
    return -ENAMETOOLONG;
  strcpy(sa->sun_path, path);
  return 0;
}

/* A socket file left by an earlier VMM at the path goes; anything else
 * there is not ours to remove. */
static int remove_stale(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (!S_ISSOCK(st.st_mode)) {
    vlog(VLOG_ERROR, "--vsock-uds %s: exists and is not a socket", path);
    return -EEXIST;
  }
  return unlink(path) < 0 ? -errno : 0;
}

int vsock_bridge_open(struct vsock_state *st) {
  struct sockaddr_un sa;
  int rc = uds_address(st->uds, &sa);
  if (rc == 0)
    rc = remove_stale(st->uds);
  int fd = rc < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (rc == 0 && fd < 0)
    rc = -errno;
  if (rc == 0 &&
      (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, BRIDGE_LISTEN_BACKLOG) < 0))
    rc = -errno;
  if (rc < 0) {
    if (rc != -EEXIST)
      vlog(VLOG_ERROR, "--vsock-uds %s: %s", st->uds, strerror(-rc));
    if (fd >= 0)
      close(fd);
    return rc;
  }
  st->listen_fd = fd;
  return 0;
}

void vsock_bridge_close(struct vsock_state *st) {
  for (int i = 0; i < st->npending; i++)
    close(st->pending[i].fd);
  st->npending = 0;
  if (st->listen_fd < 0)
    return;
  close(st->listen_fd);
  st->listen_fd = -1;
  if (unlink(st->uds) < 0 && errno != ENOENT)
    vlog(VLOG_WARN, "--vsock-uds %s: cannot remove: %s", st->uds, strerror(errno));
}

static uint32_t next_host_port(struct vsock_state *st) {
  uint32_t p = st->next_host_port;
  st->next_host_port = p >= VSOCK_PORT_ANY - 1 ? VSOCK_HOST_PORT_FIRST : p + 1;
  return p;
}

/* A finished handshake for port: queue it on the listener with "OK", or
 * close it. Takes over fd. */
static void dispatch(struct vsock_state *st, int fd, uint32_t port) {
  struct vsock_sock *l = vsock_listener_with_room(st, port);
  if (!l || st->conns >= VSOCK_CONNS_MAX) {
    vlog(VLOG_DEBUG, "vsock: host connection to port %u refused (no listener with room)", port);
    close(fd);
    return;
  }
  uint32_t host_port = next_host_port(st);
  struct vsock_sock *c = vsock_sock_new_conn(st, fd, (struct vsock_addr){st->cid, port},
                                             (struct vsock_addr){VSOCK_CID_HOST, host_port});
  if (!c)
    return;
  char ok[24];
  int len = snprintf(ok, sizeof ok, "OK %u\n", host_port);
  /* A new connection's send buffer is empty: the line fits at once. */
  if (send(fd, ok, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) != len) {
    vsock_sock_free(c); /* the client went away already */
    return;
  }
  vsock_listener_enqueue(l, c);
}

static void pending_drop(struct vsock_state *st, int i) {
  close(st->pending[i].fd);
  st->pending[i] = st->pending[--st->npending];
  st->accept_stalled = false;
}

/* Reads what has arrived of pending[i]'s line. True when the entry is done
 * with (dispatched or dropped). */
static bool pending_step(struct vsock_state *st, int i) {
  struct vsock_pending *p = &st->pending[i];
  char buf[VSOCK_HANDSHAKE_MAX];
  ssize_t n = recv(p->fd, buf, vsock_handshake_room(&p->hs), MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return false;
  size_t used = 0;
  long long port = n > 0 ? vsock_handshake_feed(&p->hs, buf, (size_t)n, &used) : -EPIPE;
  if (used > 0 && recv(p->fd, buf, used, MSG_DONTWAIT) != (ssize_t)used)
    port = -EIO; /* peeked bytes are there to take: never expected */
  if (port == -EAGAIN)
    return false;
  if (port < 0) {
    if (port == -EPROTO)
      VLOG_LIMITED(VLOG_WARN, "vsock: host connection sent a bad CONNECT line: closed");
    pending_drop(st, i);
    return true;
  }
  int fd = p->fd;
  st->pending[i] = st->pending[--st->npending];
  dispatch(st, fd, (uint32_t)port);
  return true;
}

/* New host connections become pending handshakes while the caps allow. */
static void accept_new(struct vsock_state *st) {
  while (!st->accept_stalled && st->conns + (unsigned)st->npending < VSOCK_CONNS_MAX) {
    int fd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR)
        return;
      if (errno == ECONNABORTED)
        continue;
      /* EMFILE, ENOBUFS...: leave the rest queued until something closes,
       * and stop watching the listener meanwhile (it would stay ready). */
      VLOG_LIMITED(VLOG_WARN, "vsock: cannot accept host connections: %s", strerror(errno));
      st->accept_stalled = true;
      return;
    }
    if (st->npending == VSOCK_PENDING_MAX) {
      VLOG_LIMITED(VLOG_WARN, "vsock: %d host handshakes pending: connection closed",
                   VSOCK_PENDING_MAX);
      close(fd);
      continue;
    }
    st->pending[st->npending++] = (struct vsock_pending){.fd = fd};
  }
}

void vsock_bridge_pump(struct vsock_state *st) {
  if (!st->live || st->listen_fd < 0)
    return;
  accept_new(st);
  for (int i = 0; i < st->npending;)
    if (!pending_step(st, i))
      i++;
}

int vsock_bridge_watch(const struct vsock_state *st, struct pollfd *out, int max) {
  if (!st->live || st->listen_fd < 0)
    return 0;
  int n = 0;
  bool room = !st->accept_stalled && st->conns + (unsigned)st->npending < VSOCK_CONNS_MAX;
  if (room && n < max)
    out[n++] = (struct pollfd){.fd = st->listen_fd, .events = POLLIN};
  for (int i = 0; i < st->npending && n < max; i++)
    out[n++] = (struct pollfd){.fd = st->pending[i].fd, .events = POLLIN};
  return n;
}

int vsock_bridge_connect(struct vsock_state *st, uint32_t port) {
  if (!st->uds[0])
    return -ECONNREFUSED; /* no host side configured */
  char path[sizeof st->uds + 16];
  snprintf(path, sizeof path, "%s_%u", st->uds, port);
  struct sockaddr_un sa;
  if (uds_address(path, &sa) < 0) {
    VLOG_LIMITED(VLOG_WARN, "vsock: %s: too long for a Unix socket: connection refused", path);
    return -ECONNREFUSED;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno == EMFILE || errno == ENFILE ? -EMFILE : -ENOMEM;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return fd;
  int err = errno;
  close(fd);
  /* Missing, refusing, not a socket, or a full backlog (EAGAIN: a host
   * Unix connect() offers no wake-up for it): the host refused. */
  vlog(VLOG_DEBUG, "vsock: connect to %s: %s", path, strerror(err));
  return -ECONNREFUSED;
}
