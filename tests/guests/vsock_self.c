/* vsock_self.c - AF_VSOCK inside one guest, through the C library as
 * programs use it: bind/listen/connect/accept4 to the guest's own CID,
 * names, data with read/write/readv/writev and the send/recv flags, poll
 * and ppoll over sockets and pipes together, shutdown, SIGPIPE and EPIPE,
 * options and timeouts, fstat and /proc/self/fd, FIONREAD, and the errors
 * Linux gives. Prints each failed check and "vsock_self: OK" when all
 * passed (exit 0), else exits 1. Run without a host bridge. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

static int failures;
static volatile sig_atomic_t sigpipes;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, strerror(errno));         \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static struct hearth_sockaddr_vm addr(unsigned cid, unsigned port) {
  return (struct hearth_sockaddr_vm){.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = cid};
}

static int sock(int flags) { return socket(AF_VSOCK, SOCK_STREAM | flags, 0); }

static int do_bind(int fd, unsigned cid, unsigned port) {
  struct hearth_sockaddr_vm a = addr(cid, port);
  return bind(fd, (struct sockaddr *)&a, sizeof a);
}

static int do_connect(int fd, unsigned cid, unsigned port) {
  struct hearth_sockaddr_vm a = addr(cid, port);
  return connect(fd, (struct sockaddr *)&a, sizeof a);
}

static int my_cid(void) { return 3; } /* hearth-vmm's default --vsock-cid */

static int listener(unsigned port) {
  int l = sock(0);
  CHECK(l >= 0);
  CHECK(do_bind(l, HEARTH_VMADDR_CID_ANY, port) == 0);
  CHECK(listen(l, 8) == 0);
  return l;
}

/* A connected pair through the listener on port. */
static void pair(int l, unsigned port, int *c, int *s) {
  *c = sock(0);
  CHECK(do_connect(*c, (unsigned)my_cid(), port) == 0);
  struct hearth_sockaddr_vm peer;
  socklen_t len = sizeof peer;
  *s = accept4(l, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
  CHECK(*s >= 0);
  CHECK(len == sizeof peer && peer.svm_family == AF_VSOCK && peer.svm_cid == (unsigned)my_cid());
}

static void check_errors(void) {
  errno = 0;
  CHECK(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT);
  CHECK(socket(AF_VSOCK, SOCK_DGRAM, 0) < 0 && errno == ESOCKTNOSUPPORT);
  int sv[2];
  CHECK(socketpair(AF_VSOCK, SOCK_STREAM, 0, sv) < 0 && errno == EOPNOTSUPP);
  int a = sock(0), b = sock(0);
  CHECK(listen(a, 1) < 0 && errno == EINVAL); /* not bound */
  CHECK(do_bind(a, 77, 9000) < 0 && errno == EADDRNOTAVAIL);
  CHECK(do_bind(a, HEARTH_VMADDR_CID_ANY, 9000) == 0);
  CHECK(do_bind(b, HEARTH_VMADDR_CID_ANY, 9000) < 0 && errno == EADDRINUSE);
  CHECK(do_connect(b, (unsigned)my_cid(), 9001) < 0 && errno == ECONNREFUSED);
  CHECK(do_connect(b, HEARTH_VMADDR_CID_HOST, 9001) < 0 && errno == ECONNREFUSED); /* no bridge */
  CHECK(do_connect(b, 77, 9001) < 0 && errno == ENETUNREACH);
  char c;
  CHECK(read(b, &c, 1) < 0 && errno == ENOTCONN);
  int p[2];
  CHECK(pipe(p) == 0);
  struct hearth_sockaddr_vm x = addr(HEARTH_VMADDR_CID_ANY, 9002);
  CHECK(bind(p[0], (struct sockaddr *)&x, sizeof x) < 0 && errno == ENOTSOCK);
  close(p[0]);
  close(p[1]);
  close(a);
  close(b);
}

static void check_names(void) {
  int l = listener(9100), c, s;
  pair(l, 9100, &c, &s);
  struct hearth_sockaddr_vm me, peer;
  socklen_t len = sizeof me;
  CHECK(getsockname(c, (struct sockaddr *)&me, &len) == 0);
  CHECK(me.svm_cid == (unsigned)my_cid() && me.svm_port >= 1024);
  len = sizeof peer;
  CHECK(getpeername(s, (struct sockaddr *)&peer, &len) == 0);
  CHECK(peer.svm_port == me.svm_port);
  len = sizeof peer;
  CHECK(getpeername(l, (struct sockaddr *)&peer, &len) < 0 && errno == ENOTCONN);
  int type = 0, domain = 0, acc = 0;
  len = sizeof type;
  CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM);
  CHECK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_VSOCK);
  CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc == 1);
  struct stat st;
  CHECK(fstat(s, &st) == 0 && S_ISSOCK(st.st_mode));
  char link[64], path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", s);
  ssize_t n = readlink(path, link, sizeof link - 1);
  CHECK(n > 0 && strncmp(link, "socket:[", 8) == 0);
  close(c);
  close(s);
  close(l);
}

static void check_data(void) {
  int l = listener(9200), c, s;
  pair(l, 9200, &c, &s);
  struct iovec out[2] = {{"hello ", 6}, {"vsock", 5}};
  CHECK(writev(c, out, 2) == 11);
  int avail = 0;
  CHECK(ioctl(s, FIONREAD, &avail) == 0 && avail == 11);
  char buf[32] = {0};
  CHECK(recv(s, buf, 5, MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0);
  char a[3], b[8];
  struct iovec in[2] = {{a, 3}, {b, 8}};
  CHECK(readv(s, in, 2) == 11 && memcmp(a, "hel", 3) == 0 && memcmp(b, "lo vsock", 8) == 0);
  CHECK(recv(s, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN);
  CHECK(send(s, "12345", 5, 0) == 5);
  CHECK(shutdown(s, SHUT_WR) == 0);
  CHECK(recv(c, buf, sizeof buf, MSG_WAITALL) == 5 && memcmp(buf, "12345", 5) == 0);
  CHECK(read(c, buf, sizeof buf) == 0); /* s's end */
  struct timeval tv = {.tv_usec = 10000};
  CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  CHECK(recv(s, buf, 1, 0) < 0 && errno == EAGAIN);
  close(c);
  close(s);
  close(l);
}

static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}

static void check_peer_gone(void) {
  int l = listener(9300), c, s;
  pair(l, 9300, &c, &s);
  close(s);
  struct pollfd p = {.fd = c, .events = POLLIN};
  CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
  char b;
  CHECK(read(c, &b, 1) == 0);
  signal(SIGPIPE, on_sigpipe);
  CHECK(send(c, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE && sigpipes == 0);
  CHECK(write(c, "x", 1) < 0 && errno == EPIPE && sigpipes == 1);
  CHECK(send(c, "x", 1, 0) < 0 && errno == EPIPE && sigpipes == 2);
  signal(SIGPIPE, SIG_DFL);
  close(c);
  close(l);
}

/* poll and ppoll over a listener, a connection and a pipe together. */
static void check_poll(void) {
  int l = listener(9400), c, s, p[2];
  CHECK(pipe(p) == 0);
  struct pollfd fds[3] = {{.fd = l, .events = POLLIN}, {.fd = p[0], .events = POLLIN}};
  CHECK(poll(fds, 2, 0) == 0);
  CHECK(poll(fds, 2, 20) == 0); /* times out: nothing can happen */
  c = sock(0);
  CHECK(do_connect(c, 1, 9400) == 0); /* CID 1: local */
  CHECK(poll(fds, 2, -1) == 1 && fds[0].revents == POLLIN);
  s = accept(l, NULL, NULL);
  CHECK(s >= 0);
  CHECK(write(p[1], "p", 1) == 1 && send(c, "v", 1, 0) == 1);
  fds[2] = (struct pollfd){.fd = s, .events = POLLIN | POLLOUT};
  struct timespec ts = {.tv_sec = 1};
  CHECK(ppoll(fds, 3, &ts, NULL) == 2);
  CHECK(fds[0].revents == 0 && fds[1].revents == POLLIN);
  CHECK(fds[2].revents == (POLLIN | POLLOUT));
  close(c);
  CHECK(poll(&fds[2], 1, -1) == 1 && (fds[2].revents & POLLHUP));
  close(s);
  close(p[0]);
  close(p[1]);
  close(l);
}

int main(void) {
  check_errors();
  check_names();
  check_data();
  check_peer_gone();
  check_poll();
  if (failures) {
    printf("vsock_self: %d failed\n", failures);
    return 1;
  }
  printf("vsock_self: OK\n");
  return 0;
}
