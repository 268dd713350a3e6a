/* The vsock socket calls as the guest makes them (kernel/sys_net.c over
 * vmm/net), inside one VM: socket/bind/listen/connect/accept rules and
 * errors as Linux gives them, connections to the guest's own listeners,
 * data with the recv/send flags, shutdown, options, caps, and --ready-fd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "net/vsock_impl.h"
#include "proto/hearth_abi.h"
#include "vsock_fixture.h"

#define ANY 0xffffffffu

static int setup(void **state) {
  *state = vfx_new(false, false);
  return 0;
}

static int teardown(void **state) {
  vfx_free(*state);
  return 0;
}

static struct file *file_at(struct vfx *x, int fd) {
  struct file *f = fdtable_get(&x->vm.fds, fd);
  assert_non_null(f);
  return f;
}

static void socket_families_and_types(void **state) {
  struct vfx *x = *state;
  assert_int_equal(vfx_call(x, sys_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0), -EAFNOSUPPORT);
  assert_int_equal(vfx_call(x, sys_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0), -EAFNOSUPPORT);
  assert_int_equal(vfx_call(x, sys_socket, AF_VSOCK, SOCK_DGRAM, 0, 0, 0, 0), -ESOCKTNOSUPPORT);
  assert_int_equal(vfx_call(x, sys_socket, AF_VSOCK, SOCK_STREAM, 6, 0, 0, 0), -EPROTONOSUPPORT);
  assert_int_equal(vfx_call(x, sys_socket, AF_VSOCK, SOCK_STREAM | 0x100, 0, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_call(x, sys_socketpair, AF_VSOCK, SOCK_STREAM, 0, VFX_BUF, 0, 0),
                   -EOPNOTSUPP);
  assert_int_equal(vfx_call(x, sys_socketpair, AF_UNIX, SOCK_STREAM, 0, VFX_BUF, 0, 0),
                   -EAFNOSUPPORT);
  int fd = (int)vfx_socket(x, SOCK_NONBLOCK | SOCK_CLOEXEC);
  assert_true(fd >= 0);
  struct file *f = file_at(x, fd);
  assert_true(file_is_vsock(f));
  assert_true(f->flags & O_NONBLOCK);
  assert_int_equal(fdtable_get_cloexec(&x->vm.fds, fd), 1);
  struct stat st;
  assert_int_equal(f->ops->fstat(f, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  int other = (int)vfx_socket(x, 0);
  struct stat st2;
  assert_int_equal(file_at(x, other)->ops->fstat(file_at(x, other), &st2), 0);
  assert_int_not_equal(st.st_ino, st2.st_ino);
  assert_string_equal(f->ops->path(f) + strlen(f->ops->path(f)) - 1, "]");
  assert_int_equal(vsock_file_stream_fd(f), -ENOTCONN);
}

static const struct file_ops plain_ops;

static void bind_rules(void **state) {
  struct vfx *x = *state;
  int a = (int)vfx_socket(x, 0), b = (int)vfx_socket(x, 0), c = (int)vfx_socket(x, 0);
  struct vsock_addr name;
  assert_int_equal(vfx_bind(x, a, ANY, ANY), 0);
  assert_int_equal(vfx_name(x, a, false, &name), 0);
  assert_int_equal(name.cid, ANY);
  assert_true(name.port >= 1024 && name.port != ANY);
  assert_int_equal(vfx_bind(x, a, ANY, 52), -EINVAL); /* already bound */
  assert_int_equal(vfx_bind(x, b, ANY, name.port), -EADDRINUSE);
  assert_int_equal(vfx_bind(x, b, 7, 52), -EADDRNOTAVAIL);
  assert_int_equal(vfx_bind(x, b, VFX_CID, 52), 0); /* below 1024: no privilege needed */
  assert_int_equal(vfx_bind(x, c, 1, 53), 0);       /* VMADDR_CID_LOCAL */
  /* Closing frees the port. */
  assert_int_equal(fdtable_close(&x->vm.fds, b), 0);
  int d = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, d, ANY, 52), 0);
  /* Malformed addresses, and descriptors that are not sockets. */
  int e = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)e, VFX_ADDR, 8, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)e, VFX_ADDR, 129, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)e, 0x10, 16, 0, 0, 0), -EFAULT);
  uint16_t inet = AF_INET;
  vfx_put(x, VFX_ADDR, &inet, sizeof inet);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)e, VFX_ADDR, 16, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_bind(x, 999, ANY, 60), -EBADF);
  struct file *plain = file_new(&plain_ops, O_RDWR, NULL);
  int pfd = fdtable_install(&x->vm.fds, plain, false, 0);
  assert_int_equal(vfx_bind(x, pfd, ANY, 60), -ENOTSOCK);
}

static void listen_rules(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, 0), v = 1, len = sizeof v;
  assert_int_equal(vfx_listen(x, l, 5), -EINVAL); /* unbound */
  assert_int_equal(vfx_bind(x, l, ANY, 5000), 0);
  assert_int_equal(vfx_getopt(x, l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
  assert_int_equal(v, 0);
  assert_int_equal(vfx_listen(x, l, 5), 0);
  assert_int_equal(vfx_getopt(x, l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
  assert_int_equal(v, 1);
  assert_int_equal(vfx_connect(x, l, VFX_CID, 5000), -EINVAL);
  int s = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_accept(x, s, 0, NULL), -EINVAL);
  assert_int_equal(vfx_accept(x, l, 0x1234, NULL), -EINVAL); /* bad flags */
  struct vsock_addr peer;
  assert_int_equal(vfx_name(x, l, true, &peer), -ENOTCONN);
}

static void loopback_roundtrip(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5000, &l, &c, &s);
  struct vsock_addr cl, cp, sl, sp;
  assert_int_equal(vfx_name(x, c, false, &cl), 0);
  assert_int_equal(vfx_name(x, c, true, &cp), 0);
  assert_int_equal(vfx_name(x, s, false, &sl), 0);
  assert_int_equal(vfx_name(x, s, true, &sp), 0);
  assert_int_equal(cl.cid, VFX_CID);
  assert_true(cl.port >= 1024);
  assert_int_equal(cp.cid, VFX_CID);
  assert_int_equal(cp.port, 5000);
  assert_int_equal(sl.port, 5000);
  assert_int_equal(sp.port, cl.port); /* each end sees the other's address */
  assert_int_equal(vfx_poll(x, s, POLLIN | POLLOUT), POLLOUT | POLLWRNORM);
  assert_int_equal(vfx_send(x, c, "ping", 4, 0), 4);
  assert_true(vfx_poll(x, s, POLLIN) & POLLIN);
  struct file *sf = file_at(x, s);
  assert_int_equal(sf->ops->ioctl(&x->vm, sf, FIONREAD, VFX_OPT), 0);
  int queued;
  vfx_get(x, VFX_OPT, &queued, sizeof queued);
  assert_int_equal(queued, 4);
  char buf[16];
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 4);
  assert_memory_equal(buf, "ping", 4);
  assert_int_equal(vfx_send(x, s, "pong!", 5, 0), 5);
  assert_int_equal(vfx_recv(x, c, buf, sizeof buf, 0), 5);
  assert_memory_equal(buf, "pong!", 5);
  assert_true(vsock_file_stream_fd(sf) >= 0);
  vfx_frame_attached = 0;
  assert_int_equal(sf->ops->ioctl(&x->vm, sf, HEARTH_IOC_FRAME_STDIO, VFX_OPT), 0);
  assert_int_equal(vfx_frame_attached, 1);
  assert_int_equal(sf->ops->ioctl(&x->vm, sf, 0x5401 /* TCGETS */, VFX_OPT), -ENOTTY);
  assert_int_equal(vfx_connect(x, c, VFX_CID, 5000), -EISCONN);
  /* CID 1 reaches the same listener. */
  int c2 = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c2, 1, 5000), 0);
  struct vsock_addr p2;
  assert_true(vfx_accept(x, l, 0, &p2) >= 0);
  assert_int_equal(p2.cid, 1);
}

static void connect_errors(void **state) {
  struct vfx *x = *state;
  int c = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c, VFX_CID, 4000), -ECONNREFUSED);
  assert_int_equal(vfx_connect(x, c, 7, 4000), -ENETUNREACH);
  assert_int_equal(vfx_connect(x, c, 2, 4000), -ECONNREFUSED); /* no host bridge */
  char b;
  assert_int_equal(vfx_recv(x, c, &b, 1, 0), -ENOTCONN);
  assert_int_equal(vfx_send(x, c, "x", 1, 0), -ENOTCONN);
  assert_int_equal(vfx_call(x, sys_shutdown, (uint64_t)c, SHUT_WR, 0, 0, 0, 0), -ENOTCONN);
}

static void nonblocking_accept(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, SOCK_NONBLOCK);
  assert_int_equal(vfx_bind(x, l, ANY, 5001), 0);
  assert_int_equal(vfx_listen(x, l, 4), 0);
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN);
  assert_int_equal(vfx_poll(x, l, POLLIN), 0);
  int c = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c, VFX_CID, 5001), 0);
  assert_int_equal(vfx_poll(x, l, POLLIN), POLLIN | POLLRDNORM);
  int s = (int)vfx_accept(x, l, SOCK_NONBLOCK | SOCK_CLOEXEC, NULL);
  assert_true(s >= 0);
  assert_true(file_at(x, s)->flags & O_NONBLOCK);
  assert_int_equal(fdtable_get_cloexec(&x->vm.fds, s), 1);
  char b;
  assert_int_equal(vfx_recv(x, s, &b, 1, 0), -EAGAIN); /* O_NONBLOCK from accept4 */
}

static void accept_times_out(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, l, ANY, 5002), 0);
  assert_int_equal(vfx_listen(x, l, 4), 0);
  struct timeval tv = {.tv_usec = 20000};
  assert_int_equal(vfx_setopt(x, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN);
}

static void backlog_is_bounded(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, l, ANY, 5003), 0);
  assert_int_equal(vfx_listen(x, l, 1), 0); /* room for backlog + 1, as Linux */
  int c1 = (int)vfx_socket(x, 0), c2 = (int)vfx_socket(x, 0), c3 = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c1, VFX_CID, 5003), 0);
  assert_int_equal(vfx_connect(x, c2, VFX_CID, 5003), 0);
  assert_int_equal(vfx_connect(x, c3, VFX_CID, 5003), -ECONNREFUSED);
  assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  assert_int_equal(vfx_connect(x, c3, VFX_CID, 5003), 0);
  /* Closing the listener drops what it queued: those peers see the end. */
  assert_int_equal(fdtable_close(&x->vm.fds, l), 0);
  char b;
  assert_int_equal(vfx_recv(x, c3, &b, 1, 0), 0);
}

static void shutdown_halves(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5004, &l, &c, &s);
  char buf[8];
  assert_int_equal(vfx_call(x, sys_shutdown, (uint64_t)c, 7, 0, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_send(x, c, "abc", 3, 0), 3);
  assert_int_equal(vfx_call(x, sys_shutdown, (uint64_t)c, SHUT_WR, 0, 0, 0, 0), 0);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 3);
  assert_true(vfx_poll(x, s, POLLIN) & POLLRDHUP);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 0); /* the end of c's stream */
  assert_int_equal(vfx_send(x, s, "back", 4, 0), 4);       /* the other half still works */
  assert_int_equal(vfx_recv(x, c, buf, sizeof buf, 0), 4);
  assert_int_equal(vfx_send(x, c, "x", 1, MSG_NOSIGNAL), -EPIPE);
  assert_int_equal(vfx_call(x, sys_shutdown, (uint64_t)s, SHUT_RD, 0, 0, 0, 0), 0);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 0);
}

static void recv_flags(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5005, &l, &c, &s);
  char buf[64];
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, MSG_DONTWAIT), -EAGAIN);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, MSG_OOB), -EOPNOTSUPP);
  assert_int_equal(vfx_recv(x, s, buf, 0, 0), 0);
  assert_int_equal(vfx_send(x, c, "hello world", 11, 0), 11);
  assert_int_equal(vfx_recv(x, s, buf, 5, MSG_PEEK), 5);
  assert_memory_equal(buf, "hello", 5);
  assert_int_equal(vfx_recv(x, s, buf, 6, 0), 6);
  assert_memory_equal(buf, "hello ", 6);
  /* MSG_WAITALL: what is there and then the end of the stream. */
  assert_int_equal(vfx_send(x, c, "!", 1, 0), 1);
  assert_int_equal(vfx_call(x, sys_shutdown, (uint64_t)c, SHUT_WR, 0, 0, 0, 0), 0);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, MSG_WAITALL), 6);
  assert_memory_equal(buf, "world!", 6);
  /* recvfrom's source address: none, length 0. */
  int32_t len = 16;
  vfx_put(x, VFX_LEN, &len, sizeof len);
  assert_int_equal(vfx_call(x, sys_recvfrom, (uint64_t)s, VFX_BUF, 8, 0, VFX_ADDR, VFX_LEN), 0);
  vfx_get(x, VFX_LEN, &len, sizeof len);
  assert_int_equal(len, 0);
}

static void recv_times_out(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5006, &l, &c, &s);
  struct timeval tv = {.tv_usec = 20000}, back;
  int len = sizeof back;
  assert_int_equal(vfx_setopt(x, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  assert_int_equal(vfx_getopt(x, s, SOL_SOCKET, SO_RCVTIMEO, &back, &len), 0);
  assert_int_equal(len, sizeof back);
  assert_int_equal(back.tv_usec, 20000);
  char b;
  assert_int_equal(vfx_recv(x, s, &b, 1, 0), -EAGAIN);
  assert_int_equal(vfx_recv(x, s, &b, 1, MSG_WAITALL), -EAGAIN);
  tv.tv_usec = 1000000;
  assert_int_equal(vfx_setopt(x, s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), -EDOM);
  assert_int_equal(vfx_setopt(x, s, SOL_SOCKET, SO_SNDTIMEO, &tv, 8), -EINVAL);
}

static void peer_gone(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5007, &l, &c, &s);
  assert_int_equal(fdtable_close(&x->vm.fds, s), 0);
  assert_true(vfx_poll(x, c, POLLIN) & POLLHUP);
  char b;
  assert_int_equal(vfx_recv(x, c, &b, 1, 0), 0);
  assert_int_equal(vfx_send(x, c, "x", 1, MSG_NOSIGNAL), -EPIPE);
  assert_int_equal(vfx_take_signal(), 0);
  assert_int_equal(vfx_send(x, c, "x", 1, 0), -EPIPE);
  assert_int_equal(vfx_take_signal(), SIGPIPE);
}

static void send_with_address(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5008, &l, &c, &s);
  assert_int_equal(vfx_call(x, sys_sendto, (uint64_t)c, VFX_BUF, 1, 0, VFX_ADDR, 16), -EISCONN);
  int u = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_call(x, sys_sendto, (uint64_t)u, VFX_BUF, 1, 0, VFX_ADDR, 16), -EOPNOTSUPP);
  assert_int_equal(vfx_call(x, sys_sendto, (uint64_t)c, VFX_BUF, 1, 0, VFX_ADDR, (uint64_t)-1),
                   -EINVAL);
}

struct guest_msghdr {
  uint64_t name;
  uint32_t namelen, pad0;
  uint64_t iov, iovlen, control, controllen;
  int32_t flags;
  uint32_t pad1;
};

static void msg_vectors(void **state) {
  struct vfx *x = *state;
  int l, c, s;
  vfx_pair(x, 5009, &l, &c, &s);
  vfx_put(x, VFX_BUF, "abcdefghij", 10);
  uint64_t iov[6] = {VFX_BUF, 3, VFX_BUF + 3, 0, VFX_BUF + 3, 7};
  vfx_put(x, VFX_IOV, iov, sizeof iov);
  struct guest_msghdr m = {.iov = VFX_IOV, .iovlen = 3, .control = VFX_OPT, .controllen = 16};
  vfx_put(x, VFX_MSG, &m, sizeof m);
  assert_int_equal(vfx_call(x, sys_sendmsg, (uint64_t)c, VFX_MSG, 0, 0, 0, 0), 10);
  uint64_t riov[4] = {VFX_BUF + 100, 4, VFX_BUF + 200, 6};
  vfx_put(x, VFX_IOV, riov, sizeof riov);
  m = (struct guest_msghdr){.name = VFX_ADDR,
                            .namelen = 16,
                            .iov = VFX_IOV,
                            .iovlen = 2,
                            .control = VFX_OPT,
                            .controllen = 16,
                            .flags = 77};
  vfx_put(x, VFX_MSG, &m, sizeof m);
  assert_int_equal(vfx_call(x, sys_recvmsg, (uint64_t)s, VFX_MSG, MSG_WAITALL, 0, 0, 0), 10);
  char a[4], b[6];
  vfx_get(x, VFX_BUF + 100, a, 4);
  vfx_get(x, VFX_BUF + 200, b, 6);
  assert_memory_equal(a, "abcd", 4);
  assert_memory_equal(b, "efghij", 6);
  vfx_get(x, VFX_MSG, &m, sizeof m);
  assert_int_equal(m.namelen, 0);
  assert_int_equal(m.controllen, 0);
  assert_int_equal(m.flags, 0);
  m.iovlen = 1025;
  vfx_put(x, VFX_MSG, &m, sizeof m);
  assert_int_equal(vfx_call(x, sys_recvmsg, (uint64_t)s, VFX_MSG, 0, 0, 0, 0), -EMSGSIZE);
}

static void int_opt(struct vfx *x, int fd, int level, int name, int want) {
  int v = -1, len = sizeof v;
  assert_int_equal(vfx_getopt(x, fd, level, name, &v, &len), 0);
  assert_int_equal(len, sizeof v);
  assert_int_equal(v, want);
}

static void socket_options(void **state) {
  struct vfx *x = *state;
  int fd = (int)vfx_socket(x, 0), v;
  int_opt(x, fd, SOL_SOCKET, SO_TYPE, SOCK_STREAM);
  int_opt(x, fd, SOL_SOCKET, SO_DOMAIN, AF_VSOCK);
  int_opt(x, fd, SOL_SOCKET, SO_PROTOCOL, 0);
  int_opt(x, fd, SOL_SOCKET, SO_ERROR, 0);
  v = 1000;
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
  int_opt(x, fd, SOL_SOCKET, SO_RCVBUF, 2304); /* Linux's floor */
  v = 1 << 30;
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
  int_opt(x, fd, SOL_SOCKET, SO_SNDBUF, 2 * 212992); /* rmem_max, doubled */
  v = 1;
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
  int_opt(x, fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_REUSEADDR, &v, 2), -EINVAL);
  struct linger lg = {1, 5}, lg2;
  int len = sizeof lg2;
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  assert_int_equal(vfx_getopt(x, fd, SOL_SOCKET, SO_LINGER, &lg2, &len), 0);
  assert_int_equal(lg2.l_onoff, 1);
  assert_int_equal(lg2.l_linger, 5);
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_TYPE, &v, sizeof v), -ENOPROTOOPT);
  assert_int_equal(vfx_setopt(x, fd, 6 /* IPPROTO_TCP */, 1, &v, sizeof v), -ENOPROTOOPT);
  len = sizeof v;
  assert_int_equal(vfx_getopt(x, fd, SOL_SOCKET, SO_PEERCRED, &v, &len), -ENOPROTOOPT);
  assert_int_equal(vfx_setopt(x, fd, SOL_SOCKET, SO_KEEPALIVE, &v, -1), -EINVAL);
  len = 2; /* SOL_SOCKET values are cut to the caller's length */
  assert_int_equal(vfx_getopt(x, fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
  assert_int_equal(len, 2);
}

static uint64_t u64_opt(struct vfx *x, int fd, int name) {
  uint64_t v;
  int len = sizeof v;
  assert_int_equal(vfx_getopt(x, fd, AF_VSOCK, name, &v, &len), 0);
  assert_int_equal(len, 8);
  return v;
}

static void vsock_level_options(void **state) {
  struct vfx *x = *state;
  int fd = (int)vfx_socket(x, 0);
  assert_int_equal(u64_opt(x, fd, 0), 256 * 1024);
  uint64_t v = 1 << 20;
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 0, &v, sizeof v), 0);
  assert_int_equal(u64_opt(x, fd, 0), 256 * 1024); /* held to the max */
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 2, &v, sizeof v), 0);
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 0, &v, sizeof v), 0);
  assert_int_equal(u64_opt(x, fd, 0), 1 << 20);
  v = 2 << 20;
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 1, &v, sizeof v), 0); /* min above the size */
  assert_int_equal(u64_opt(x, fd, 0), 2 << 20);
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 0, &v, 4), -EINVAL);
  int len = 4;
  assert_int_equal(vfx_getopt(x, fd, AF_VSOCK, 0, &v, &len), -EINVAL);
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 3, &v, sizeof v), -ENOPROTOOPT);
  struct timeval tv = {.tv_sec = -1};
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 6, &tv, sizeof tv), -ERANGE);
  tv.tv_sec = 5;
  assert_int_equal(vfx_setopt(x, fd, AF_VSOCK, 6, &tv, sizeof tv), 0);
}

static void connection_cap(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, l, ANY, 5010), 0);
  assert_int_equal(vfx_listen(x, l, -1), 0);
  for (int i = 0; i < VSOCK_CONNS_MAX / 2; i++) {
    int c = (int)vfx_socket(x, 0);
    assert_int_equal(vfx_connect(x, c, VFX_CID, 5010), 0);
    assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  }
  int c = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c, VFX_CID, 5010), -ENOBUFS);
}

static void socket_cap(void **state) {
  struct vfx *x = *state;
  for (int i = 0; i < VSOCK_SOCKETS_MAX; i++)
    assert_true(vfx_socket(x, 0) >= 0);
  x->vm.fds.limit = FDTABLE_HARD_MAX;
  assert_int_equal(vfx_socket(x, 0), -ENFILE);
}

static void ready_signal_once(void **state) {
  (void)state;
  struct vfx *x = vfx_new(false, true);
  int l = (int)vfx_socket(x, 0), c = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, l, ANY, 52), 0);
  struct pollfd p[FILE_WATCH_MAX];
  file_host_watch(file_at(x, c), POLLIN, p, FILE_WATCH_MAX); /* not a listener */
  char buf[16];
  assert_int_equal(read(x->ready[0], buf, sizeof buf), -1);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(vfx_listen(x, l, 4), 0);
  file_host_watch(file_at(x, l), POLLIN, p, FILE_WATCH_MAX);
  file_host_watch(file_at(x, l), POLLIN, p, FILE_WATCH_MAX);
  assert_int_equal(read(x->ready[0], buf, sizeof buf), 6);
  assert_memory_equal(buf, "ready\n", 6);
  assert_int_equal(read(x->ready[0], buf, sizeof buf), 0); /* written once, then closed */
  vfx_free(x);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* as hearth-vmm does */
  const struct CMUnitTest tests[] = {
      T(socket_families_and_types),
      T(bind_rules),
      T(listen_rules),
      T(loopback_roundtrip),
      T(connect_errors),
      T(nonblocking_accept),
      T(accept_times_out),
      T(backlog_is_bounded),
      T(shutdown_halves),
      T(recv_flags),
      T(recv_times_out),
      T(peer_gone),
      T(send_with_address),
      T(msg_vectors),
      T(socket_options),
      T(vsock_level_options),
      T(connection_cap),
      T(socket_cap),
      cmocka_unit_test(ready_signal_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
