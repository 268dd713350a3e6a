/* vsock_impl.h - what the pieces of vmm/net share: the per-VM state (the
 * host bridge, the port table, the caps' counters), the socket object and
 * its state machine, and the functions each piece offers the others.
 *
 *   vsock.c   per-VM state: init/fini, references, the --ready-fd signal
 *   bridge.c  the host Unix socket: listening, handshakes, host connects
 *   sock.c    the socket state machine: bind, listen, connect, accept queues
 *   sockfile.c the socket as a guest file description (file_ops), send/recv
 *   sockopt.c socket options
 *
 * A socket is UNCONNECTED (fresh or bound), LISTENING (an accept queue) or
 * CONNECTED (a host stream socket carries its bytes: an AF_UNIX connection
 * to a host process, or one end of a socketpair for a connection inside the
 * guest). Half-closing and the peer's end are the host socket's own state,
 * read back with poll(). */
#ifndef HEARTH_VMM_NET_VSOCK_IMPL_H
#define HEARTH_VMM_NET_VSOCK_IMPL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>
#include <time.h>

#include "net/handshake.h"
#include "net/ports.h"
#include "net/vsock.h"

#define VSOCK_CID_LOCAL 1u
#define VSOCK_CID_HOST 2u
#define VSOCK_CID_ANY 0xffffffffu
/* "OK <port>\n" ports (the peer port the guest sees for CID 2) count up
 * from here, apart from the ports guest programs pick. */
#define VSOCK_HOST_PORT_FIRST (1u << 30)

/* A host connection still sending its CONNECT line. */
struct vsock_pending {
  int fd;
  struct vsock_handshake hs;
};

struct vsock_state {
  int refs;  /* the VM's, and one per socket */
  bool live; /* false once vsock_fini ran */
  uint32_t cid;
  int ready_fd; /* --ready-fd until signalled, then -1 */
  /* The bridge: cfg->vsock_uds (empty: none) and its listening socket. */
  char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int listen_fd;
  bool accept_stalled; /* accept() failed for lack of host resources */
  struct vsock_pending pending[VSOCK_PENDING_MAX];
  int npending;
  struct vsock_ports ports;
  unsigned sockets, conns; /* against VSOCK_SOCKETS_MAX, VSOCK_CONNS_MAX */
  /* Bytes moved by vsock_recv / vsock_send, for vsock_stats_read. */
  uint64_t bytes_in, bytes_out;
  uint64_t next_ino;
  uint32_t next_host_port;
};

enum vsock_sock_state { VSOCK_UNCONNECTED, VSOCK_LISTENING, VSOCK_CONNECTED };

/* Socket options: what Linux keeps per socket, stored and reported back;
 * the timeouts bound the blocking waits of kernel/sys_net.c. */
struct vsock_opts {
  int sndbuf, rcvbuf;
  bool keepalive, reuseaddr, reuseport;
  bool linger_on;
  int linger_s;
  bool rcvtimeo_set, sndtimeo_set; /* the timeouts below apply */
  struct timespec rcvtimeo, sndtimeo;
  uint64_t buf_size, buf_min, buf_max; /* SO_VM_SOCKETS_BUFFER_* */
  struct timespec connect_timeout;     /* SO_VM_SOCKETS_CONNECT_TIMEOUT */
};

struct vsock_sock {
  struct vsock_state *st; /* a reference */
  enum vsock_sock_state state;
  bool bound; /* local.port is ours in st->ports */
  struct vsock_addr local, peer;
  int fd;   /* CONNECTED: the host stream socket; else -1 */
  int shut; /* SHUT_RD -> 1, SHUT_WR -> 2, as shutdown() was asked */
  /* LISTENING: connections waiting for accept(), oldest first, in a ring
   * of VSOCK_BACKLOG_MAX; at most qlimit (from listen()'s backlog). */
  struct vsock_sock **queue;
  int qhead, qlen, qlimit;
  struct vsock_opts opts;
  uint64_t ino;
  struct timespec created;
  char path[40]; /* "socket:[ino]" */
};

/* vsock.c */
struct vsock_state *vsock_state_ref(struct vsock_state *st);
void vsock_state_unref(struct vsock_state *st);
/* Writes "ready\n" to --ready-fd and closes it, the first time only. */
void vsock_signal_ready(struct vsock_state *st);

/* bridge.c */
/* Binds and listens on st->uds (replacing a stale socket file, refusing
 * anything else). 0 or -errno, logged. */
int vsock_bridge_open(struct vsock_state *st);
/* Closes the listener and pending handshakes, and unlinks st->uds. */
void vsock_bridge_close(struct vsock_state *st);
/* Takes in what the host has sent without waiting: new connections and
 * handshake bytes; finished handshakes join their listener's queue (and
 * get "OK <port>\n") or are closed. */
void vsock_bridge_pump(struct vsock_state *st);
/* The host fds whose readiness means work for vsock_bridge_pump. */
int vsock_bridge_watch(const struct vsock_state *st, struct pollfd *out, int max);
/* A connected, non-blocking host stream to cfg->vsock_uds + "_<port>", or
 * -ECONNREFUSED (or -ENOMEM/-EMFILE for our own lack of resources). */
int vsock_bridge_connect(struct vsock_state *st, uint32_t port);

/* sock.c */
/* A new UNCONNECTED socket, or NULL (-ENFILE past the cap, -ENOMEM). */
struct vsock_sock *vsock_sock_new(struct vsock_state *st, int *err);
/* A CONNECTED socket over host stream fd (taken over even on failure),
 * counted against the connection cap by the caller's check. NULL on
 * allocation failure. */
struct vsock_sock *vsock_sock_new_conn(struct vsock_state *st, int fd, struct vsock_addr local,
                                       struct vsock_addr peer);
/* Closes everything s holds and frees it. */
void vsock_sock_free(struct vsock_sock *s);
/* The listener bound to port, if it has room for one more connection. */
struct vsock_sock *vsock_listener_with_room(struct vsock_state *st, uint32_t port);
/* Appends c to l's accept queue (vsock_listener_with_room said yes). */
void vsock_listener_enqueue(struct vsock_sock *l, struct vsock_sock *c);
/* The CONNECTED socket behind f, or NULL. */
struct vsock_sock *vsock_sock_of(struct file *f);

/* sockfile.c */
/* A description over s (taking s over: freed with it), or NULL with s
 * freed. */
struct file *vsock_file_new(struct vsock_sock *s, int flags);

#endif
