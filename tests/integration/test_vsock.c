/* test_vsock.c - AF_VSOCK end to end: guest programs in real VMs and the
 * test as the host, through hearth-vmm's Unix socket bridge (--vsock-uds,
 * Firecracker's convention) and --ready-fd. Host-initiated connections
 * (CONNECT/OK, refusals), guest-initiated ones (<uds>_<port>), 32 at once
 * under poll, ppoll and epoll, 64 MiB through one connection with the
 * VMM's peak RSS far below it, host peers that close early or never read,
 * and a guest blocked in accept() and in read() costing the VMM no CPU. */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef HEARTH_VMM_PATH
#error "HEARTH_VMM_PATH must name the hearth-vmm binary"
#endif

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define WAIT_MS 20000      /* longest wait for any one step */
#define CHILD_READY_FD "3" /* --ready-fd, as the VMM sees it */
#define STREAM_BYTES (64u << 20)
#define RSS_LIMIT_KIB (32 * 1024) /* "far below" the 64 MiB streamed */
#define IDLE_CPU_LIMIT_MS 50

/* A hearth-vmm running in the background, its output in files. */
struct vmm_run {
  pid_t pid;
  int ready; /* read end of its --ready-fd pipe */
  char uds[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
};

static long long ms_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* dir/name into buf (PATH_MAX bytes). */
static void path_in(char *buf, const char *dir, const char *name) {
  int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_MAX)
    fail_msg("path too long: %s/%s", dir, name);
}

static void spawn_vmm(struct vmm_run *r, const char *const *argv, int ready_w) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, ready_w, 3);
  int rc = posix_spawn(&r->pid, HEARTH_VMM_PATH, &fa, NULL, (char *const *)argv,
                       itest_vmm_environment());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    fail_msg("cannot start %s: %s", HEARTH_VMM_PATH, strerror(rc));
}

/* Starts hearth-vmm on the test's root with the bridge and --ready-fd,
 * running `guest` (argv, NULL-terminated). */
static void vm_start(struct itest *t, struct vmm_run *r, const char *const *guest) {
  itest_require_kvm();
  path_in(r->uds, t->dir, "v.sock");
  path_in(r->out, t->dir, "out.txt");
  path_in(r->err, t->dir, "err.txt");
  const char *argv[32] = {
      HEARTH_VMM_PATH, "--guest-pages", itest_guest_pages, "--root",       t->root,
      "--vsock-uds",   r->uds,          "--ready-fd",      CHILD_READY_FD, "--"};
  size_t n = 10;
  for (size_t i = 0; guest[i] && n + 1 < 32; i++)
    argv[n++] = guest[i];
  argv[n] = NULL;
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  spawn_vmm(r, argv, p[1]);
  close(p[1]);
  r->ready = p[0];
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "re");
  static char buf[1 << 16];
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  buf[n] = '\0';
  if (f)
    fclose(f);
  return buf;
}

/* Waits for "ready\n" on the --ready-fd pipe. */
static void vm_wait_ready(struct vmm_run *r) {
  struct pollfd p = {.fd = r->ready, .events = POLLIN};
  char buf[16] = {0};
  ssize_t n = poll(&p, 1, WAIT_MS) == 1 ? read(r->ready, buf, sizeof buf - 1) : -1;
  if (n != 6 || strcmp(buf, "ready\n") != 0)
    fail_msg("no \"ready\" from hearth-vmm (got %zd bytes); stderr:\n%s", n, slurp(r->err));
}

/* Its exit status, after waiting up to WAIT_MS (then it is killed). */
static int vm_finish(struct vmm_run *r) {
  int pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  if (pidfd < 0 || poll(&p, 1, WAIT_MS) <= 0)
    kill(r->pid, SIGKILL);
  if (pidfd >= 0)
    close(pidfd);
  int status;
  while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
    continue;
  close(r->ready);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static void vm_expect(struct vmm_run *r, int status, const char *out) {
  int got = vm_finish(r);
  char *o = strdup(slurp(r->out));
  if (got != status || (out && strcmp(o, out) != 0))
    fail_msg("hearth-vmm: status %d (want %d), stdout:\n%s\nstderr:\n%s", got, status, o,
             slurp(r->err));
  free(o);
}

/* --- the host side --- */

static int unix_socket_at(const char *path, bool listening) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  assert_true(fd >= 0 && strlen(path) < sizeof sa.sun_path);
  strcpy(sa.sun_path, path);
  int rc = listening ? bind(fd, (struct sockaddr *)&sa, sizeof sa) | listen(fd, 8)
                     : connect(fd, (struct sockaddr *)&sa, sizeof sa);
  if (rc != 0)
    fail_msg("%s %s: %s", listening ? "listen" : "connect", path, strerror(errno));
  return fd;
}

/* Reads one line (newline included) a byte at a time; its length, 0 when
 * the connection ended (EOF or reset) first. */
static size_t read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1)
      fail_msg("no answer from the VM's bridge");
    if (recv(fd, buf + n, 1, 0) != 1)
      return 0;
    if (buf[n++] == '\n')
      break;
  }
  buf[n] = '\0';
  return n;
}

/* Connects to the bridge and sends `line`: the connection once "OK <n>"
 * came back (n in *ok_port), or -1 when it was closed instead. */
static int host_connect_line(struct vmm_run *r, const char *line, unsigned *ok_port) {
  int fd = unix_socket_at(r->uds, false);
  assert_int_equal(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
  char answer[64];
  if (read_line(fd, answer, sizeof answer) == 0) {
    close(fd);
    return -1;
  }
  char nl = 0;
  if (sscanf(answer, "OK %u%c", ok_port, &nl) != 2 || nl != '\n')
    fail_msg("bad answer from the bridge: '%s'", answer);
  return fd;
}

static int host_connect(struct vmm_run *r, unsigned port) {
  char line[32];
  unsigned ok;
  snprintf(line, sizeof line, "CONNECT %u\n", port);
  int fd = host_connect_line(r, line, &ok);
  if (fd < 0)
    fail_msg("CONNECT %u refused; stderr:\n%s", port, slurp(r->err));
  assert_true(ok >= 1u << 30); /* the bridge's own port range */
  return fd;
}

static void send_all(int fd, const void *p, size_t n) {
  assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Everything until EOF, up to cap bytes; the count. */
static size_t recv_all(int fd, char *buf, size_t cap) {
  size_t have = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1)
      fail_msg("the VM stopped answering");
    ssize_t n = recv(fd, buf + have, cap - have, 0);
    assert_true(n >= 0);
    if (n == 0 || (have += (size_t)n) == cap)
      return have;
  }
}

/* --- in-guest checks --- */

static void test_self(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "vsock_self", "/vsock_self");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/vsock_self"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "vsock_self: OK\n");
}

/* --- host-initiated --- */

static void test_host_connects(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  vm_start(t, &r, ARGS("/vsock_echo", "serial", "5000", "1"));
  vm_wait_ready(&r);
  int h = host_connect(&r, 5000);
  static const char msg[] = "hello through vsock";
  send_all(h, msg, sizeof msg - 1);
  shutdown(h, SHUT_WR);
  char buf[64];
  assert_int_equal(recv_all(h, buf, sizeof buf), sizeof msg - 1);
  assert_memory_equal(buf, msg, sizeof msg - 1);
  close(h);
  vm_expect(&r, 0, "echo: 1 connections, 19 bytes\n");
  assert_int_equal(access(r.uds, F_OK), -1); /* the VMM removed its socket */
}

static void test_refused_cleanly(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  unsigned ok;
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  vm_start(t, &r, ARGS("/vsock_echo", "serial", "5000", "1"));
  vm_wait_ready(&r);
  assert_int_equal(host_connect_line(&r, "CONNECT 5001\n", &ok), -1); /* nothing listens */
  assert_int_equal(host_connect_line(&r, "HELLO 5000\n", &ok), -1);   /* not the protocol */
  int h = host_connect(&r, 5000); /* and the guest is still fine */
  send_all(h, "x", 1);
  shutdown(h, SHUT_WR);
  char b[4];
  assert_int_equal(recv_all(h, b, sizeof b), 1);
  close(h);
  vm_expect(&r, 0, "echo: 1 connections, 1 bytes\n");
}

/* COUNT connections at once, each with its own 4 KiB, echoed. */
static void many_at_once(struct itest *t, const char *mode, int count) {
  struct vmm_run r;
  char count_s[16], want[64];
  snprintf(count_s, sizeof count_s, "%d", count);
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  vm_start(t, &r, ARGS("/vsock_echo", mode, "5000", count_s));
  vm_wait_ready(&r);
  int h[64];
  char data[4096], back[4096];
  for (int i = 0; i < count; i++)
    h[i] = host_connect(&r, 5000);
  for (int i = 0; i < count; i++) {
    memset(data, 'a' + i % 26, sizeof data);
    send_all(h[i], data, sizeof data);
    shutdown(h[i], SHUT_WR);
  }
  for (int i = 0; i < count; i++) {
    memset(data, 'a' + i % 26, sizeof data);
    assert_int_equal(recv_all(h[i], back, sizeof back), sizeof back);
    assert_memory_equal(back, data, sizeof data);
    close(h[i]);
  }
  snprintf(want, sizeof want, "echo: %d connections, %d bytes\n", count, count * 4096);
  vm_expect(&r, 0, want);
}

static void test_many_connections_poll(void **state) { many_at_once(*state, "poll", 32); }
static void test_many_connections_ppoll(void **state) { many_at_once(*state, "ppoll", 32); }
static void test_many_connections_epoll(void **state) { many_at_once(*state, "epoll", 32); }

/* --- guest-initiated --- */

static void test_guest_connects(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  char path[PATH_MAX];
  path_in(path, t->dir, "v.sock_6000");
  int l = unix_socket_at(path, true);
  itest_put_guest(t, "vsock_client", "/vsock_client");
  vm_start(t, &r, ARGS("/vsock_client", "6000", "ping"));
  struct pollfd p = {.fd = l, .events = POLLIN};
  if (poll(&p, 1, WAIT_MS) != 1)
    fail_msg("the guest never connected; stderr:\n%s", slurp(r.err));
  int h = accept(l, NULL, NULL);
  char buf[16];
  assert_int_equal(recv_all(h, buf, sizeof buf), 4);
  assert_memory_equal(buf, "ping", 4);
  send_all(h, "pong", 4);
  close(h);
  close(l);
  vm_expect(&r, 0, "peer: 2:6000\nreply: pong\nport 6001: Connection refused\n");
}

/* --- volume and memory --- */

/* The byte at offset i of the test stream: varied, and recomputable. */
static unsigned char stream_byte(uint64_t i) {
  uint64_t x = (i >> 12) * 0x9e3779b97f4a7c15ULL + (i & 4095);
  return (unsigned char)(x ^ (x >> 29));
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

struct stream {
  uint64_t sent, got, sum_sent, sum_got;
  bool mismatch;
};

static void stream_send(int h, struct stream *s) {
  unsigned char buf[65536];
  size_t n = STREAM_BYTES - s->sent < sizeof buf ? STREAM_BYTES - s->sent : sizeof buf;
  for (size_t i = 0; i < n; i++)
    buf[i] = stream_byte(s->sent + i);
  ssize_t w = send(h, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (w < 0 && errno != EAGAIN)
    fail_msg("send: %s", strerror(errno));
  if (w > 0) {
    s->sum_sent = fnv1a(s->sum_sent, buf, (size_t)w);
    s->sent += (uint64_t)w;
  }
}

static void stream_recv(int h, struct stream *s) {
  unsigned char buf[65536];
  ssize_t n = recv(h, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0)
    fail_msg("the echo ended after %llu bytes", (unsigned long long)s->got);
  if (n < 0 && errno != EAGAIN)
    fail_msg("recv: %s", strerror(errno));
  for (ssize_t i = 0; i < n; i++)
    s->mismatch |= buf[i] != stream_byte(s->got + (uint64_t)i);
  if (n > 0) {
    s->sum_got = fnv1a(s->sum_got, buf, (size_t)n);
    s->got += (uint64_t)n;
  }
}

static long vm_hwm_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib;
}

static void test_64mib_through_one_connection(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  vm_start(t, &r, ARGS("/vsock_echo", "serial", "5000", "1"));
  vm_wait_ready(&r);
  int h = host_connect(&r, 5000);
  struct stream s = {.sum_sent = 0xcbf29ce484222325ULL, .sum_got = 0xcbf29ce484222325ULL};
  long long start = ms_now();
  while (s.got < STREAM_BYTES) {
    struct pollfd p = {.fd = h, .events = POLLIN | (s.sent < STREAM_BYTES ? POLLOUT : 0)};
    if (poll(&p, 1, WAIT_MS) != 1)
      fail_msg("stalled at %llu sent, %llu back", (unsigned long long)s.sent,
               (unsigned long long)s.got);
    if (p.revents & POLLOUT)
      stream_send(h, &s);
    if (p.revents & (POLLIN | POLLHUP))
      stream_recv(h, &s);
  }
  long long ms = ms_now() - start;
  long hwm = vm_hwm_kib(r.pid);
  shutdown(h, SHUT_WR);
  print_message("64 MiB echoed in %lld ms (%.0f MiB/s each way); VMM peak RSS %ld KiB\n", ms,
                64.0 * 1000 / (double)(ms ? ms : 1), hwm);
  assert_false(s.mismatch);
  assert_true(s.sum_sent == s.sum_got);
  assert_true(hwm > 0 && hwm < RSS_LIMIT_KIB);
  char b;
  assert_int_equal(recv_all(h, &b, 1), 0);
  close(h);
  vm_expect(&r, 0, "echo: 1 connections, 67108864 bytes\n");
}

/* --- misbehaving host peers --- */

static void test_peer_closes_early(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  itest_put_guest(t, "vsock_peer", "/vsock_peer");
  vm_start(t, &r, ARGS("/vsock_peer", "early", "5000"));
  vm_wait_ready(&r);
  close(host_connect(&r, 5000));
  vm_expect(&r, 0, "early: read 0, send EPIPE, write EPIPE\n");
}

static void test_peer_never_reads(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  itest_put_guest(t, "vsock_peer", "/vsock_peer");
  vm_start(t, &r, ARGS("/vsock_peer", "stall", "5000"));
  vm_wait_ready(&r);
  int stalled = host_connect(&r, 5000), live = host_connect(&r, 5000);
  char buf[16];
  for (int i = 0; i < 3; i++) {
    send_all(live, "line\n", 5);
    assert_int_equal(read_line(live, buf, sizeof buf), 5);
    assert_string_equal(buf, "line\n");
  }
  shutdown(live, SHUT_WR);
  assert_int_equal(recv_all(live, buf, sizeof buf), 0);
  close(live);
  vm_expect(&r, 0, "stall: filled yes, still writable 0, second echoed yes\n");
  close(stalled);
}

/* --- blocking costs nothing --- */

/* User + system CPU of pid so far, in ms (clock-tick resolution). */
static long cpu_ms(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
  unsigned long utime, stime;
  if (!p ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    fail_msg("cannot read %s", path);
  return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* Nanoseconds its main thread (the vCPU's, where every wait happens) has
 * run: a finer figure than the ticks above, for the report. */
static long long run_ns(pid_t pid) {
  char path[64];
  long long ns = -1;
  snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
  FILE *f = fopen(path, "re");
  if (f && fscanf(f, "%lld", &ns) != 1)
    ns = -1;
  if (f)
    fclose(f);
  return ns;
}

/* CPU ms over one second of the guest's wait; *ns the finer figure. */
static long cpu_over_a_second(pid_t pid, long long *ns) {
  long before = cpu_ms(pid);
  long long ns_before = run_ns(pid);
  struct timespec second = {.tv_sec = 1};
  nanosleep(&second, NULL);
  *ns = run_ns(pid) - ns_before;
  return cpu_ms(pid) - before;
}

static void test_blocked_guest_uses_no_cpu(void **state) {
  struct itest *t = *state;
  struct vmm_run r;
  itest_put_guest(t, "vsock_echo", "/vsock_echo");
  vm_start(t, &r, ARGS("/vsock_echo", "serial", "5000", "1"));
  vm_wait_ready(&r); /* it is in accept() */
  long long accept_ns, read_ns;
  long in_accept = cpu_over_a_second(r.pid, &accept_ns);
  int h = host_connect(&r, 5000);
  send_all(h, "x", 1);
  char b;
  assert_int_equal(recv(h, &b, 1, 0), 1); /* it echoed, and is back in read() */
  long in_read = cpu_over_a_second(r.pid, &read_ns);
  print_message("VMM CPU over 1 s: %ld ms (%lld us run) blocked in accept(), %ld ms (%lld us "
                "run) blocked in read()\n",
                in_accept, accept_ns / 1000, in_read, read_ns / 1000);
  assert_true(in_accept < IDLE_CPU_LIMIT_MS);
  assert_true(in_read < IDLE_CPU_LIMIT_MS);
  close(h);
  vm_expect(&r, 0, "echo: 1 connections, 1 bytes\n");
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_self),
    GUEST_TEST(test_host_connects),
    HOST_TEST(test_refused_cleanly),
    HOST_TEST(test_many_connections_poll),
    HOST_TEST(test_many_connections_ppoll),
    HOST_TEST(test_many_connections_epoll),
    GUEST_TEST(test_guest_connects),
    HOST_TEST(test_64mib_through_one_connection),
    HOST_TEST(test_peer_closes_early),
    HOST_TEST(test_peer_never_reads),
    HOST_TEST(test_blocked_guest_uses_no_cpu),
};

ITEST_MAIN(tests)
