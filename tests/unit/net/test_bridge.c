/* The host bridge with the test as the host: host-initiated connections
 * (CONNECT line whole, in pieces, bad, to no listener; OK and the stream
 * after it; the pending-handshake cap; a blocking accept woken by a host
 * connect), guest-initiated connections to <uds>_<port>, the socket file's
 * lifetime, and --ready-fd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "net/vsock_impl.h"
#include "vsock_fixture.h"

#define ANY 0xffffffffu

static int setup(void **state) {
  *state = vfx_new(true, false);
  return 0;
}

static int teardown(void **state) {
  vfx_free(*state);
  return 0;
}

static int unix_connect(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static int unix_listen(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(fd, 4), 0);
  return fd;
}

static void send_all(int fd, const char *s) {
  assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads up to a newline (at most cap-1 bytes), a byte at a time; returns
 * the length, 0 at EOF before any byte. */
static size_t read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = recv(fd, buf + n, 1, 0);
    assert_true(r >= 0);
    if (r == 0 || buf[n++] == '\n')
      break;
  }
  buf[n] = '\0';
  return n;
}

/* Whether the host end has been closed (EOF) with nothing before it. */
static bool host_sees_eof(int fd) {
  char b;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 5000), 1);
  return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

/* Whether the host end has been closed, by EOF or, when bytes it sent
 * were left unread (a refused line), by a reset. */
static bool host_sees_close(int fd) {
  char b;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 5000), 1);
  ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

static int guest_listener(struct vfx *x, uint32_t port, int flags) {
  int l = (int)vfx_socket(x, flags);
  assert_int_equal(vfx_bind(x, l, ANY, port), 0);
  assert_int_equal(vfx_listen(x, l, 4), 0);
  return l;
}

static unsigned ok_port(const char *line) {
  unsigned port;
  char nl;
  assert_int_equal(sscanf(line, "OK %u%c", &port, &nl), 2);
  assert_int_equal(nl, '\n');
  return port;
}

static void host_connects(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5000, 0);
  int h = unix_connect(x->uds);
  send_all(h, "CONNECT 5000\nhello");
  struct vsock_addr peer;
  int s = (int)vfx_accept(x, l, 0, &peer);
  assert_true(s >= 0);
  char line[32], buf[16];
  read_line(h, line, sizeof line);
  unsigned port = ok_port(line);
  assert_true(port >= VSOCK_HOST_PORT_FIRST);
  assert_int_equal(peer.cid, 2);
  assert_int_equal(peer.port, port);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 5); /* nothing of it eaten */
  assert_memory_equal(buf, "hello", 5);
  assert_int_equal(vfx_send(x, s, "world", 5, 0), 5);
  assert_int_equal(recv(h, buf, sizeof buf, 0), 5);
  assert_memory_equal(buf, "world", 5);
  struct vsock_addr local;
  assert_int_equal(vfx_name(x, s, false, &local), 0);
  assert_int_equal(local.cid, VFX_CID);
  assert_int_equal(local.port, 5000);
  close(h);
  assert_int_equal(vfx_recv(x, s, buf, sizeof buf, 0), 0);
}

static void handshake_in_pieces(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5001, SOCK_NONBLOCK);
  int h = unix_connect(x->uds);
  send_all(h, "CONN");
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN);
  send_all(h, "ECT 50");
  assert_int_equal(vfx_poll(x, l, POLLIN), 0);
  send_all(h, "01\n");
  assert_int_equal(vfx_poll(x, l, POLLIN), POLLIN | POLLRDNORM);
  assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  char line[32];
  read_line(h, line, sizeof line);
  ok_port(line);
  close(h);
}

static void refused_cleanly(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5002, SOCK_NONBLOCK);
  int nobody = unix_connect(x->uds), bad = unix_connect(x->uds), longline = unix_connect(x->uds);
  send_all(nobody, "CONNECT 5003\n");
  send_all(bad, "HELLO\n");
  send_all(longline, "CONNECT 000000000000000000000000000052\n");
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN);
  assert_true(host_sees_eof(nobody));
  assert_true(host_sees_close(bad));
  assert_true(host_sees_close(longline));
  close(nobody);
  close(bad);
  close(longline);
}

static void full_queue_refuses(void **state) {
  struct vfx *x = *state;
  int l = (int)vfx_socket(x, SOCK_NONBLOCK);
  assert_int_equal(vfx_bind(x, l, ANY, 5004), 0);
  assert_int_equal(vfx_listen(x, l, 0), 0); /* room for one */
  int h1 = unix_connect(x->uds), h2 = unix_connect(x->uds);
  send_all(h1, "CONNECT 5004\n");
  send_all(h2, "CONNECT 5004\n");
  assert_int_equal(vfx_poll(x, l, POLLIN), POLLIN | POLLRDNORM);
  char line[32];
  read_line(h1, line, sizeof line);
  ok_port(line);
  assert_true(host_sees_eof(h2));
  close(h1);
  close(h2);
}

static void pending_handshakes_capped(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5005, SOCK_NONBLOCK);
  int h[VSOCK_PENDING_MAX + 1];
  for (int i = 0; i <= VSOCK_PENDING_MAX; i++)
    h[i] = unix_connect(x->uds);
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN); /* takes them in */
  assert_true(host_sees_eof(h[VSOCK_PENDING_MAX]));     /* one too many */
  char b;
  assert_int_equal(recv(h[0], &b, 1, MSG_DONTWAIT), -1); /* still waiting for its line */
  assert_int_equal(errno, EAGAIN);
  send_all(h[3], "CONNECT 5005\n");
  assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  for (int i = 0; i <= VSOCK_PENDING_MAX; i++)
    close(h[i]);
}

static void listener_close_drops_queued(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5006, 0);
  int h = unix_connect(x->uds);
  send_all(h, "CONNECT 5006\n");
  assert_int_equal(vfx_poll(x, l, POLLIN), POLLIN | POLLRDNORM);
  char line[32];
  read_line(h, line, sizeof line);
  ok_port(line);
  assert_int_equal(fdtable_close(&x->vm.fds, l), 0);
  assert_true(host_sees_eof(h));
  close(h);
}

/* At the connection cap, host connections wait in the bridge's listen
 * queue, unanswered, until a connection closes. */
static void cap_leaves_host_waiting(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5009, SOCK_NONBLOCK), last = -1;
  for (int i = 0; i < VSOCK_CONNS_MAX / 2; i++) {
    int c = (int)vfx_socket(x, 0);
    assert_int_equal(vfx_connect(x, c, VFX_CID, 5009), 0);
    last = (int)vfx_accept(x, l, 0, NULL);
    assert_true(last >= 0);
  }
  int h = unix_connect(x->uds);
  send_all(h, "CONNECT 5009\n");
  assert_int_equal(vfx_accept(x, l, 0, NULL), -EAGAIN);
  struct pollfd p[FILE_WATCH_MAX];
  int n = file_host_watch(fdtable_get(&x->vm.fds, l), POLLIN, p, FILE_WATCH_MAX);
  assert_int_equal(n, 0); /* nothing to wake for: no busy wait at the cap */
  char b;
  assert_int_equal(recv(h, &b, 1, MSG_DONTWAIT), -1);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(fdtable_close(&x->vm.fds, last), 0);
  assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  char line[32];
  read_line(h, line, sizeof line);
  ok_port(line);
  close(h);
}

struct late_client {
  const char *uds;
  const char *line;
  int fd;
};

static void *connect_later(void *arg) {
  struct late_client *c = arg;
  struct timespec pause = {.tv_nsec = 50 * 1000000};
  nanosleep(&pause, NULL);
  c->fd = unix_connect(c->uds);
  send_all(c->fd, c->line);
  return NULL;
}

static void blocking_accept_wakes(void **state) {
  (void)state;
  struct vfx *x = vfx_new(true, true);
  int l = guest_listener(x, 5007, 0);
  struct late_client c = {.uds = x->uds, .line = "CONNECT 5007\nlate"};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, connect_later, &c), 0);
  int s = (int)vfx_accept(x, l, 0, NULL); /* sleeps until the host connects */
  assert_true(s >= 0);
  char buf[8], ready[8];
  assert_int_equal(vfx_recv(x, s, buf, 4, MSG_WAITALL), 4);
  assert_memory_equal(buf, "late", 4);
  assert_int_equal(read(x->ready[0], ready, sizeof ready), 6); /* it waited: ready */
  assert_memory_equal(ready, "ready\n", 6);
  pthread_join(t, NULL);
  close(c.fd);
  vfx_free(x);
}

/* While the guest waits in read() on one connection, a second host client
 * connects: its handshake is answered during that wait, before the first
 * connection's data arrives. */
struct second_client {
  const char *uds;
  int first, second;
  bool ok_during_wait;
};

static void *second_then_payload(void *arg) {
  struct second_client *c = arg;
  struct timespec pause = {.tv_nsec = 50 * 1000000};
  nanosleep(&pause, NULL);
  c->second = unix_connect(c->uds);
  send_all(c->second, "CONNECT 5008\n");
  struct pollfd p = {.fd = c->second, .events = POLLIN};
  c->ok_during_wait = poll(&p, 1, 5000) == 1;
  send_all(c->first, "payload");
  return NULL;
}

static void blocking_read_wakes(void **state) {
  struct vfx *x = *state;
  int l = guest_listener(x, 5008, 0);
  int h = unix_connect(x->uds);
  send_all(h, "CONNECT 5008\n");
  int s = (int)vfx_accept(x, l, 0, NULL);
  assert_true(s >= 0);
  struct second_client c = {.uds = x->uds, .first = h};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, second_then_payload, &c), 0);
  char buf[8], line[32];
  assert_int_equal(vfx_recv(x, s, buf, 7, MSG_WAITALL), 7);
  assert_memory_equal(buf, "payload", 7);
  pthread_join(t, NULL);
  assert_true(c.ok_during_wait);
  read_line(c.second, line, sizeof line);
  ok_port(line);
  assert_true(vfx_accept(x, l, 0, NULL) >= 0);
  close(c.second);
  close(h);
}

static void guest_connects_to_host(void **state) {
  struct vfx *x = *state;
  char path[160];
  snprintf(path, sizeof path, "%s_7000", x->uds);
  int hl = unix_listen(path);
  int c = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, c, 2, 7000), 0);
  int h = accept(hl, NULL, NULL);
  assert_true(h >= 0);
  char buf[8];
  assert_int_equal(vfx_send(x, c, "up", 2, 0), 2);
  assert_int_equal(recv(h, buf, sizeof buf, 0), 2);
  assert_memory_equal(buf, "up", 2);
  send_all(h, "down");
  assert_int_equal(vfx_recv(x, c, buf, 4, MSG_WAITALL), 4);
  assert_memory_equal(buf, "down", 4);
  struct vsock_addr peer;
  assert_int_equal(vfx_name(x, c, true, &peer), 0);
  assert_int_equal(peer.cid, 2);
  assert_int_equal(peer.port, 7000);
  int d = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, d, 2, 7001), -ECONNREFUSED); /* nobody there */
  close(h);
  close(hl);
}

static void socket_file_lifetime(void **state) {
  (void)state;
  struct stat st;
  /* A stale socket file is replaced, and removed at the end. */
  struct vfx *x = vfx_new(true, false);
  char uds[108];
  strcpy(uds, x->uds);
  assert_int_equal(lstat(uds, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  struct vm vm2 = {.cfg = &x->cfg};
  vsock_fini(&x->vm); /* unlinks */
  assert_int_equal(lstat(uds, &st), -1);
  close(unix_listen(uds)); /* a stale socket file */
  assert_int_equal(vsock_init(&x->vm), 0);
  int h = unix_connect(uds); /* ours now */
  close(h);
  /* Anything else at the path is refused and left alone. */
  vsock_fini(&x->vm);
  int fd = open(uds, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  close(fd);
  assert_int_equal(vsock_init(&vm2), -EEXIST);
  assert_int_equal(lstat(uds, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(vsock_init(&x->vm), -EEXIST);
  unlink(uds);
  assert_int_equal(vsock_init(&x->vm), 0);
  vfx_free(x);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* as hearth-vmm does */
  const struct CMUnitTest tests[] = {
      T(host_connects),
      T(handshake_in_pieces),
      T(refused_cleanly),
      T(full_queue_refuses),
      T(pending_handshakes_capped),
      T(listener_close_drops_queued),
      T(cap_leaves_host_waiting),
      cmocka_unit_test(blocking_accept_wakes),
      T(blocking_read_wakes),
      T(guest_connects_to_host),
      cmocka_unit_test(socket_file_lifetime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
