/* vsock_echo.c - an AF_VSOCK echo server: vsock_echo MODE PORT COUNT
 * listens on PORT and echoes every byte of COUNT connections back, then
 * exits 0. MODE:
 *   serial  one connection at a time, blocking accept() then read()/write()
 *   poll    all at once: non-blocking sockets under poll(), with a pipe in
 *           the set that carries a byte per finished connection
 *   ppoll   the same with ppoll()
 *   epoll   the same with epoll_wait() (the pipe too)
 * Prints "echo: N connections, B bytes" on stdout at the end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

#define MAX_CONNS 64
#define BUF_SIZE 65536

struct conn {
  int fd;
  size_t have, sent; /* buf[sent..have) still to echo */
  char buf[BUF_SIZE];
};

static struct conn conns[MAX_CONNS];
static unsigned long long total_bytes;
static int done_pipe[2];

static void die(const char *what) {
  fprintf(stderr, "vsock_echo: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int listen_on(unsigned port, int flags) {
  int l = socket(AF_VSOCK, SOCK_STREAM | flags, 0);
  if (l < 0)
    die("socket");
  struct hearth_sockaddr_vm a = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_ANY};
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0)
    die("bind");
  if (listen(l, MAX_CONNS) < 0)
    die("listen");
  return l;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0)
      die("write");
    p += w;
    n -= (size_t)w;
    total_bytes += (unsigned long long)w;
  }
}

static void serve_serial(int l, int count) {
  static char buf[BUF_SIZE];
  for (int i = 0; i < count; i++) {
    int c = accept(l, NULL, NULL);
    if (c < 0)
      die("accept");
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0)
      write_all(c, buf, (size_t)n);
    if (n < 0)
      die("read");
    close(c);
  }
}

/* --- event-driven modes --- */

static struct conn *conn_new(int fd) {
  for (int i = 0; i < MAX_CONNS; i++)
    if (conns[i].fd <= 0) {
      conns[i].fd = fd;
      conns[i].have = conns[i].sent = 0;
      return &conns[i];
    }
  fprintf(stderr, "vsock_echo: too many connections\n");
  exit(2);
}

/* Echoes until it would block: 0, or 1 at the end of the peer's stream. */
static int conn_step(struct conn *c) {
  for (;;) {
    if (c->sent < c->have) {
      ssize_t w = write(c->fd, c->buf + c->sent, c->have - c->sent);
      if (w < 0 && errno != EAGAIN)
        die("write");
      if (w > 0) {
        c->sent += (size_t)w;
        total_bytes += (unsigned long long)w;
      }
      if (c->sent < c->have)
        return 0;
    }
    ssize_t n = read(c->fd, c->buf, sizeof c->buf);
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n < 0)
      die("read");
    if (n == 0)
      return 1;
    c->have = (size_t)n;
    c->sent = 0;
  }
}

/* The end of a connection, announced through the pipe. */
static void conn_close(struct conn *c) {
  close(c->fd);
  c->fd = -1;
  if (write(done_pipe[1], "x", 1) != 1)
    die("pipe write");
}

static short conn_events(const struct conn *c) { return c->sent < c->have ? POLLOUT : POLLIN; }

static void accept_all(int l) {
  int fd;
  while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0)
    conn_new(fd);
  if (errno != EAGAIN)
    die("accept4");
}

/* Each finished connection left a byte in the pipe: take them. */
static int drain_done(void) {
  char b[MAX_CONNS];
  ssize_t n = read(done_pipe[0], b, sizeof b);
  return n > 0 ? (int)n : 0;
}

static void serve_poll(int l, int count, int use_ppoll) {
  int finished = 0;
  while (finished < count) {
    struct pollfd p[MAX_CONNS + 2] = {{.fd = l, .events = POLLIN},
                                      {.fd = done_pipe[0], .events = POLLIN}};
    struct conn *who[MAX_CONNS + 2] = {0};
    nfds_t n = 2;
    for (int i = 0; i < MAX_CONNS; i++)
      if (conns[i].fd > 0) {
        who[n] = &conns[i];
        p[n++] = (struct pollfd){.fd = conns[i].fd, .events = conn_events(&conns[i])};
      }
    int r = use_ppoll ? ppoll(p, n, NULL, NULL) : poll(p, n, -1);
    if (r <= 0)
      die("poll");
    if (p[0].revents & POLLIN)
      accept_all(l);
    if (p[1].revents & POLLIN)
      finished += drain_done();
    for (nfds_t i = 2; i < n; i++)
      if (p[i].revents && conn_step(who[i]))
        conn_close(who[i]);
  }
}

static void serve_epoll(int l, int count) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0)
    die("epoll_ctl listener");
  ev.data.ptr = done_pipe;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, done_pipe[0], &ev) < 0)
    die("epoll_ctl pipe");
  int finished = 0;
  while (finished < count) {
    struct epoll_event evs[16];
    int n = epoll_wait(ep, evs, 16, -1);
    if (n <= 0)
      die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == NULL) {
        int fd;
        while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                                    .data.ptr = conn_new(fd)};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0)
            die("epoll_ctl conn");
        }
      } else if (evs[i].data.ptr == done_pipe) {
        finished += drain_done();
      } else {
        struct conn *c = evs[i].data.ptr; /* edge-triggered: conn_step goes until it blocks */
        if (c->fd > 0 && conn_step(c)) {
          if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL) < 0)
            die("epoll_ctl del");
          conn_close(c);
        }
      }
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: vsock_echo serial|poll|ppoll|epoll PORT COUNT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  unsigned port = (unsigned)strtoul(argv[2], NULL, 10);
  int count = atoi(argv[3]);
  if (pipe2(done_pipe, O_NONBLOCK) < 0)
    die("pipe2");
  const char *mode = argv[1];
  int l = listen_on(port, strcmp(mode, "serial") == 0 ? 0 : SOCK_NONBLOCK);
  if (strcmp(mode, "serial") == 0)
    serve_serial(l, count);
  else if (strcmp(mode, "poll") == 0 || strcmp(mode, "ppoll") == 0)
    serve_poll(l, count, mode[0] == 'p' && mode[1] == 'p');
  else if (strcmp(mode, "epoll") == 0)
    serve_epoll(l, count);
  else
    return 2;
  printf("echo: %d connections, %llu bytes\n", count, total_bytes);
  return 0;
}
