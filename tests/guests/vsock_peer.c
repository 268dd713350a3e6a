/* vsock_peer.c - a guest facing misbehaving host peers on PORT:
 *   vsock_peer early PORT  the host closes right after its handshake: the
 *                          guest's read sees EOF and its writes EPIPE
 *                          (SIGPIPE ignored), and it goes on ("early: ...")
 *   vsock_peer stall PORT  the first host connection never reads: the
 *                          guest's non-blocking writes fill it up to EAGAIN
 *                          while a second connection keeps echoing lines
 *                          until its host closes ("stall: ...") */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

#define CHUNK 65536
#define STALL_CAP (64u << 20) /* a write side that takes more is not stalled */

static void die(const char *what) {
  fprintf(stderr, "vsock_peer: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int listen_on(unsigned port) {
  int l = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct hearth_sockaddr_vm a = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_ANY};
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0)
    die("listen");
  return l;
}

static const char *ename(int e) {
  return e == EPIPE ? "EPIPE" : e == ECONNRESET ? "ECONNRESET" : "other";
}

static int early(int l) {
  int c = accept(l, NULL, NULL);
  if (c < 0)
    die("accept");
  char b;
  ssize_t n = read(c, &b, 1);
  ssize_t w1 = send(c, "x", 1, MSG_NOSIGNAL);
  int e1 = errno;
  ssize_t w2 = write(c, "y", 1); /* SIGPIPE is ignored */
  int e2 = errno;
  printf("early: read %zd, send %s, write %s\n", n, w1 < 0 ? ename(e1) : "ok",
         w2 < 0 ? ename(e2) : "ok");
  close(c);
  return 0;
}

/* Fills c (non-blocking) until the host's buffers are full. */
static size_t fill(int c) {
  static char chunk[CHUNK];
  size_t total = 0;
  for (;;) {
    ssize_t w = write(c, chunk, sizeof chunk);
    if (w < 0 && errno == EAGAIN)
      return total;
    if (w < 0)
      die("write");
    total += (size_t)w;
    if (total > STALL_CAP)
      return total;
  }
}

static int stall(int l) {
  int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  if (a < 0 && errno == EAGAIN) {
    struct pollfd p = {.fd = l, .events = POLLIN};
    poll(&p, 1, -1);
    a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  }
  if (a < 0)
    die("accept stalled");
  size_t filled = fill(a);
  struct pollfd pa = {.fd = a, .events = POLLOUT};
  int writable = poll(&pa, 1, 0);
  int b = accept(l, NULL, NULL);
  if (b < 0)
    die("accept second");
  char buf[256];
  ssize_t n;
  int lines = 0;
  while ((n = read(b, buf, sizeof buf)) > 0) {
    if (write(b, buf, (size_t)n) != n)
      die("echo");
    lines++;
  }
  printf("stall: filled %s, still writable %d, second echoed %s\n",
         filled > 0 && filled <= STALL_CAP ? "yes" : "no", writable, lines > 0 ? "yes" : "no");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: vsock_peer early|stall PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int l = listen_on((unsigned)strtoul(argv[2], NULL, 10));
  return strcmp(argv[1], "early") == 0 ? early(l) : stall(l);
}
