/* vsock.h - the guest's AF_VSOCK sockets, served by hearth-vmm and bridged
 * to host Unix sockets with Firecracker's convention (ARCHITECTURE.md):
 * the host connects to cfg->vsock_uds and sends "CONNECT <port>\n", answered
 * "OK <host-port>\n" once a guest socket listens on <port> (else closed);
 * a guest connect() to CID 2 port P reaches cfg->vsock_uds + "_P". */
#ifndef HEARTH_VMM_NET_VSOCK_H
#define HEARTH_VMM_NET_VSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

struct vm;
struct file;

/* Per-VM vsock state (the host listener, ports in use): a vm_create step.
 * With cfg->vsock_uds it listens there (non-blocking), replacing a stale
 * socket file but refusing anything else at the path (-EEXIST, logged).
 * vsock_fini closes the listener and unlinks the path; sockets still open
 * keep what they need of the state until they close. 0 or -errno. */
int vsock_init(struct vm *vm);
void vsock_fini(struct vm *vm);

/* socket(AF_VSOCK, type, 0): a new file description, O_RDWR | (flags &
 * O_NONBLOCK) (SOCK_STREAM only: others -ESOCKTNOSUPPORT; -ENFILE past
 * VSOCK_SOCKETS_MAX; -EAFNOSUPPORT before vsock_init). */
long vsock_socket(struct vm *vm, int type, int flags, struct file **out);

bool file_is_vsock(const struct file *f);

/* The host stream socket carrying a connected vsock file's bytes (borrowed:
 * owned by f), -ENOTCONN when f is not connected, -ENOTSOCK when f is not
 * a vsock socket. Framed stdio (kernel/stdio_frame.h) reads and writes
 * through it directly. */
int vsock_file_stream_fd(struct file *f);

/* --- the socket calls (kernel/sys_net.c), on a description for which
 * file_is_vsock() holds. None of them blocks: -EAGAIN means "would block",
 * and the caller sleeps on file_host_watch(f, ...) unless non-blocking.
 * Connections stream through host kernel sockets (the guest's buffers are
 * read and written in place), so the VMM holds no payload: the bytes in
 * flight on a connection are what the host kernel's socket buffers hold
 * (a Unix stream socket's send buffer, net.core.wmem_default, about
 * 200 KiB each way), and that is the per-connection buffer cap. --- */

/* A vsock address (struct sockaddr_vm without its framing). */
struct vsock_addr {
  uint32_t cid, port;
};

/* Per-VM caps. Sockets: socket() answers -ENFILE past it. Connections
 * (sockets with a host stream: connected, accepted or waiting in an accept
 * queue): past it connect() answers -ENOBUFS and host connections wait in
 * the bridge's listen queue. Backlog: an accept queue's longest. Pending:
 * host connections still sending their CONNECT line; more are closed. */
#define VSOCK_SOCKETS_MAX 1024
#define VSOCK_CONNS_MAX 256
#define VSOCK_BACKLOG_MAX 128
#define VSOCK_PENDING_MAX 16

/* bind(): CID any, local (1) or the VM's own (else -EADDRNOTAVAIL); port
 * VMADDR_PORT_ANY picks a free one from 1024 up; -EADDRINUSE; -EINVAL when
 * already bound. Ports below 1024 are not privileged: the guest program is
 * the VM's only one (hearth-init listens on 52). */
long vsock_bind(struct file *f, struct vsock_addr addr);
/* listen(): -EINVAL unless bound and unconnected; backlog capped. */
long vsock_listen(struct file *f, int backlog);
/* accept(): the oldest queued connection as a new description (O_RDWR |
 * (flags & O_NONBLOCK)) and its peer, -EAGAIN when none, -EINVAL when f is
 * not listening. Finished host handshakes are queued first. */
long vsock_accept(struct file *f, int flags, struct file **out, struct vsock_addr *peer);
/* connect(), always completed at once, O_NONBLOCK or not (both ends are
 * ours, or a host Unix socket whose connect() does not wait): CID 2 is the
 * host through cfg->vsock_uds + "_<port>"; the VM's own CID and 1 reach its
 * own listeners. -ECONNREFUSED when nothing listens (or the host path is
 * missing, refuses, has a full backlog, or is too long), -ENETUNREACH for
 * other CIDs, -EISCONN, -EINVAL on a listener, -ENOBUFS past the cap. */
long vsock_connect(struct file *f, struct vsock_addr addr);
/* shutdown(how): SHUT_RD, SHUT_WR or SHUT_RDWR; -ENOTCONN unless connected. */
long vsock_shutdown(struct file *f, int how);
/* getsockname() (peer false) / getpeername() (-ENOTCONN unless connected). */
long vsock_name(struct file *f, bool peer, struct vsock_addr *out);

/* One non-blocking step of recv/send into/from host iovecs (MSG_PEEK is the
 * only flag recv takes): bytes, 0 at end of stream, -EAGAIN, -ENOTCONN,
 * -EPIPE (the caller raises SIGPIPE unless MSG_NOSIGNAL), -ECONNRESET. */
ssize_t vsock_recv(struct file *f, const struct iovec *iov, int iovcnt, bool peek);
ssize_t vsock_send(struct file *f, const struct iovec *iov, int iovcnt);

/* setsockopt/getsockopt at SOL_SOCKET or AF_VSOCK level: val holds len
 * bytes of the option (set), or receives up to *len bytes with *len set to
 * the option's size (get). -ENOPROTOOPT for options not offered, -EINVAL
 * for short values, -EDOM for a bad timeout. */
long vsock_setsockopt(struct file *f, int level, int name, const void *val, size_t len);
long vsock_getsockopt(struct file *f, int level, int name, void *val, size_t *len);

/* What the VM's vsock holds now, and the bytes its socket calls moved
 * since this VMM started (a restored VM counts from 0). Framed stdio
 * (kernel/stdio_frame.h) writes its stream fd directly: not counted. */
struct vsock_stats {
  unsigned sockets, connections, listeners;
  uint64_t bytes_in, bytes_out; /* received / sent by the guest */
};

/* The counters, all 0 without vsock state (before vsock_init). */
void vsock_stats_read(const struct vm *vm, struct vsock_stats *out);

/* SO_RCVTIMEO (send false) or SO_SNDTIMEO: true with the timeout in *out
 * when one is set. */
bool vsock_timeout(struct file *f, bool send, struct timespec *out);

#endif
