/* sockfile.c - a vsock socket as a guest file description: the file_ops
 * (read/write stream through the host socket straight into and out of the
 * guest's buffers, poll, the host fds a blocking call sleeps on, fstat,
 * ioctl), socket(), and the non-blocking data steps of send/recv.
 *
 * The host bridge (bridge.c) is pumped wherever a vsock file is found not
 * ready: a listener's poll and accept, and every would-block answer. The
 * sleep that follows watches the bridge's fds too (host_watch), so a host
 * connection arriving wakes the guest's wait, the next readiness check takes
 * it in, and nothing is ever missed or spun on: host_watch itself never
 * pumps, so a handshake finished there could not go unseen. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/stdio_frame.h"
#include "mem/uaccess.h"
#include "net/vsock_impl.h"
#include "proto/hearth_abi.h"
#include "vm.h"

/* st_dev of every socket (an anonymous device, as Linux's sockfs). */
#define VSOCK_DEV makedev(0, 0xfffa7)

static const struct file_ops vsock_file_ops;

static struct vsock_sock *sock(struct file *f) { return f->priv; }

bool file_is_vsock(const struct file *f) { return f && f->ops == &vsock_file_ops; }

int vsock_file_stream_fd(struct file *f) {
  if (!file_is_vsock(f))
    return -ENOTSOCK;
  struct vsock_sock *s = sock(f);
  return s->state == VSOCK_CONNECTED ? s->fd : -ENOTCONN;
}

/* --- data --- */

/* -errno of a failed non-blocking step; would-block pumps the bridge. */
static ssize_t step_error(struct vsock_sock *s) {
  int err = errno;
  if (err == EAGAIN)
    vsock_bridge_pump(s->st);
  return -err;
}

ssize_t vsock_recv(struct file *f, const struct iovec *iov, int iovcnt, bool peek) {
  struct vsock_sock *s = sock(f);
  if (s->state != VSOCK_CONNECTED)
    return -ENOTCONN;
  if (s->shut & 1) /* SHUT_RD: Linux's vsock reads nothing more */
    return 0;
  struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
  ssize_t n = recvmsg(s->fd, &m, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
  if (n > 0 && !peek)
    s->st->bytes_in += (uint64_t)n;
  return n >= 0 ? n : step_error(s);
}

ssize_t vsock_send(struct file *f, const struct iovec *iov, int iovcnt) {
  struct vsock_sock *s = sock(f);
  if (s->state != VSOCK_CONNECTED)
    return -ENOTCONN;
  struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
  ssize_t n = sendmsg(s->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0)
    s->st->bytes_out += (uint64_t)n;
  return n >= 0 ? n : step_error(s);
}

static ssize_t vsock_read(struct file *f, const struct iovec *iov, int iovcnt) {
  return vsock_recv(f, iov, iovcnt, false);
}

static ssize_t vsock_write(struct file *f, const struct iovec *iov, int iovcnt) {
  return vsock_send(f, iov, iovcnt);
}

/* --- readiness --- */

static short conn_poll(struct vsock_sock *s, short events) {
  short all = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLRDHUP;
  struct pollfd p = {.fd = s->fd, .events = (short)(events | all)};
  short r = poll(&p, 1, 0) > 0 ? p.revents & ~POLLNVAL : 0;
  if (s->shut & 1) /* reads return 0 now: readable, as Linux reports */
    r |= POLLIN | POLLRDNORM | POLLRDHUP;
  return r;
}

/* As Linux's vsock_poll: a listener is readable with a connection queued;
 * an unconnected socket is writable (and nothing else). */
static short vsock_poll(struct file *f, short events) {
  struct vsock_sock *s = sock(f);
  short r;
  if (s->state == VSOCK_LISTENING)
    vsock_bridge_pump(s->st);
  if (s->state == VSOCK_LISTENING)
    r = s->qlen ? POLLIN | POLLRDNORM : 0;
  else if (s->state == VSOCK_CONNECTED)
    r = conn_poll(s, events);
  else
    r = POLLOUT | POLLWRNORM;
  if (!(r & (events | POLLHUP | POLLERR)) && s->state != VSOCK_LISTENING)
    vsock_bridge_pump(s->st);
  return r;
}

/* The socket's own host stream, and the bridge's fds. A listener's
 * caller is about to sleep for a connection: the guest is ready
 * (--ready-fd). */
static int vsock_host_watch(struct file *f, short events, struct pollfd *out, int max) {
  struct vsock_sock *s = sock(f);
  int n = 0;
  if (s->state == VSOCK_LISTENING)
    vsock_signal_ready(s->st);
  if (s->state == VSOCK_CONNECTED && n < max)
    out[n++] = (struct pollfd){.fd = s->fd, .events = events};
  return n + vsock_bridge_watch(s->st, out + n, max - n);
}

/* --- the rest of the file --- */

static int vsock_fstat(struct file *f, struct stat *st) {
  struct vsock_sock *s = sock(f);
  memset(st, 0, sizeof *st);
  st->st_dev = VSOCK_DEV;
  st->st_ino = s->ino;
  st->st_mode = S_IFSOCK | 0777;
  st->st_nlink = 1;
  st->st_uid = PROC_GUEST_UID;
  st->st_gid = PROC_GUEST_GID;
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = s->created;
  return 0;
}

/* FIONREAD (SIOCINQ) and TIOCOUTQ (SIOCOUTQ): bytes the host socket holds
 * unread, or not yet taken by the peer. */
static long queued_bytes(struct vm *vm, struct file *f, unsigned long cmd, uint64_t gva) {
  struct vsock_sock *s = sock(f);
  if (s->state != VSOCK_CONNECTED)
    return -EINVAL;
  int n;
  if (ioctl(s->fd, cmd, &n) < 0)
    return -errno;
  return uaccess_copy_to(&vm->mem, gva, &n, sizeof n);
}

static long vsock_ioctl(struct vm *vm, struct file *f, unsigned long cmd, uint64_t arg) {
  switch (cmd) {
  case HEARTH_IOC_FRAME_STDIO:
    return stdio_frame_attach(vm, f, arg);
  case FIONREAD:
  case TIOCOUTQ:
    return queued_bytes(vm, f, cmd, arg);
  }
  return -ENOTTY;
}

static const char *vsock_path(struct file *f) { return sock(f)->path; }

static void vsock_release(struct file *f) { vsock_sock_free(sock(f)); }

static const struct file_ops vsock_file_ops = {
    .read = vsock_read,
    .write = vsock_write,
    .fstat = vsock_fstat,
    .poll = vsock_poll,
    .host_watch = vsock_host_watch,
    .ioctl = vsock_ioctl,
    .path = vsock_path,
    .release = vsock_release,
};

struct file *vsock_file_new(struct vsock_sock *s, int flags) {
  struct file *f = file_new(&vsock_file_ops, flags, s);
  if (!f)
    vsock_sock_free(s);
  return f;
}

long vsock_socket(struct vm *vm, int type, int flags, struct file **out) {
  if (!vm->vsock)
    return -EAFNOSUPPORT;
  if (type != SOCK_STREAM)
    return -ESOCKTNOSUPPORT; /* no datagram or seqpacket transport is offered */
  int err;
  struct vsock_sock *s = vsock_sock_new(vm->vsock, &err);
  if (!s)
    return err;
  *out = vsock_file_new(s, O_RDWR | (flags & O_NONBLOCK));
  return *out ? 0 : -ENOMEM;
}
