/* epoll.c - epoll under hearth-vmm. Each mode prints "epoll: <mode> OK" and
 * exits 0, or names its first failed check and exits 1:
 *   basic    level-triggered, edge-triggered and one-shot items over pipes,
 *            epoll_ctl's errors, maxevents errors, an item whose fd was
 *            closed (the pipe's writer sees no reader at once) or lives on
 *            in a dup, a timeout, poll() on an epoll fd, nesting and ELOOP
 *   signal   epoll_pwait and ppoll with a mask that unblocks a pending
 *            signal: EINTR, the handler runs under the call's mask, and
 *            the caller's own mask is back once the call returns
 *   stdin    waits (no timeout) for the host to write the VMM's stdin, then
 *            reads what it wrote and prints it as "stdin: <bytes>"
 *   forever  waits for ever on a pipe nobody writes (the test stops the VM
 *            with --timeout) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("epoll: FAIL: " __VA_ARGS__);                                                         \
      printf(" (errno %d %s)\n", errno, strerror(errno));                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, op, fd, &ev);
}

/* epoll_wait with a zero timeout: how many, and the first event. */
static int ready(int ep, struct epoll_event *first) {
  struct epoll_event evs[8];
  int n = epoll_wait(ep, evs, 8, 0);
  if (n > 0 && first)
    *first = evs[0];
  return n;
}

static void drain(int fd) {
  char buf[256];
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  while (read(fd, buf, sizeof buf) > 0)
    ;
  fcntl(fd, F_SETFL, flags);
}

static int level_edge_oneshot(int ep) {
  int p[2];
  struct epoll_event ev;
  CHECK(pipe(p) == 0, "pipe");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 11) == 0, "ADD");
  CHECK(ready(ep, NULL) == 0, "empty pipe ready");
  CHECK(write(p[1], "x", 1) == 1, "write");
  CHECK(ready(ep, &ev) == 1 && ev.events == EPOLLIN && ev.data.u64 == 11, "LT first");
  CHECK(ready(ep, NULL) == 1, "LT again");
  CHECK(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 12) == 0, "MOD ET");
  CHECK(ready(ep, &ev) == 1 && ev.data.u64 == 12, "ET first");
  CHECK(ready(ep, NULL) == 0, "ET again");
  drain(p[0]);
  CHECK(ready(ep, NULL) == 0, "ET drained");
  CHECK(write(p[1], "y", 1) == 1, "write 2");
  CHECK(ready(ep, NULL) == 1, "ET new data");
  CHECK(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 13) == 0, "MOD ONESHOT");
  CHECK(ready(ep, NULL) == 1, "ONESHOT first");
  CHECK(ready(ep, NULL) == 0, "ONESHOT disabled");
  CHECK(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 14) == 0, "rearm");
  CHECK(ready(ep, &ev) == 1 && ev.data.u64 == 14, "rearmed");
  CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "DEL");
  CHECK(ready(ep, NULL) == 0, "after DEL");
  close(p[0]);
  close(p[1]);
  return 0;
}

static int errors(int ep) {
  struct epoll_event evs[1];
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  int reg = open("/tmp/regular", O_CREAT | O_RDWR, 0600);
  CHECK(reg >= 0, "create /tmp/regular");
  errno = 0;
  CHECK(ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0) < 0 && errno == EPERM, "regular file not EPERM");
  CHECK(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0) < 0 && errno == EINVAL, "itself not EINVAL");
  CHECK(ctl(p[0], EPOLL_CTL_ADD, p[1], EPOLLIN, 0) < 0 && errno == EINVAL, "non-epoll not EINVAL");
  CHECK(ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0) < 0 && errno == EBADF, "bad fd not EBADF");
  CHECK(ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0) < 0 && errno == ENOENT, "MOD missing not ENOENT");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0) == 0, "ADD");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0) < 0 && errno == EEXIST, "twice not EEXIST");
  volatile int zero = 0, minus_one = -1; /* hidden from the compiler's own checks */
  CHECK(epoll_wait(ep, evs, zero, 0) < 0 && errno == EINVAL, "maxevents 0 not EINVAL");
  CHECK(epoll_wait(ep, evs, minus_one, 0) < 0 && errno == EINVAL, "maxevents -1 not EINVAL");
  CHECK(epoll_wait(p[0], evs, 1, 0) < 0 && errno == EINVAL, "wait on a pipe not EINVAL");
  /* The system call itself: musl's epoll_create() never makes it. */
  CHECK(syscall(SYS_epoll_create, 0) < 0 && errno == EINVAL, "epoll_create(0) not EINVAL");
  CHECK(epoll_create1(O_NONBLOCK) < 0 && errno == EINVAL, "epoll_create1 flags not EINVAL");
  /* Closing the fd drops the item: the same fd number may be added again. */
  close(p[0]);
  CHECK(ready(ep, NULL) == 0, "closed fd reported");
  int q[2];
  CHECK(pipe(q) == 0 && q[0] == p[0], "pipe reuses the fd");
  CHECK(ctl(ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 0) == 0, "re-ADD after close");
  CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL) == 0, "DEL");
  close(reg);
  close(p[1]);
  close(q[0]);
  close(q[1]);
  return 0;
}

/* An item holds no reference on its pipe end: closing the last fd of the
 * read end leaves the writer without a reader at once (EPIPE, with
 * SIGPIPE ignored), with no epoll call in between. While a dup lives, the
 * item does too and is still reported. */
static int close_releases(int ep) {
  int p[2];
  struct epoll_event ev;
  CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR, "ignore SIGPIPE");
  CHECK(pipe(p) == 0, "pipe");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 31) == 0, "ADD");
  int copy = dup(p[0]);
  CHECK(copy >= 0, "dup");
  close(p[0]);
  CHECK(write(p[1], "x", 1) == 1, "write with a dup of the reader open");
  CHECK(ready(ep, &ev) == 1 && ev.data.u64 == 31, "item of a dup'd reader not reported");
  close(copy);
  errno = 0;
  CHECK(write(p[1], "y", 1) < 0 && errno == EPIPE, "reader still there after close");
  CHECK(ready(ep, NULL) == 0, "closed reader reported");
  close(p[1]);
  CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR, "restore SIGPIPE");
  return 0;
}

static int poll_timeout_nesting(int ep) {
  int p[2];
  struct epoll_event evs[4];
  CHECK(pipe(p) == 0, "pipe");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 21) == 0, "ADD");
  CHECK(epoll_wait(ep, evs, 4, 30) == 0, "timed wait not 0");
  struct pollfd pfd = {.fd = ep, .events = POLLIN};
  CHECK(poll(&pfd, 1, 0) == 0, "poll on idle epoll");
  CHECK(write(p[1], "z", 1) == 1, "write");
  CHECK(poll(&pfd, 1, -1) == 1 && pfd.revents == POLLIN, "poll on ready epoll");
  int outer = epoll_create1(0);
  CHECK(outer >= 0, "outer");
  CHECK(ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN, 22) == 0, "nest");
  CHECK(epoll_wait(outer, evs, 4, -1) == 1 && evs[0].data.u64 == 22, "outer reports inner");
  CHECK(ctl(ep, EPOLL_CTL_ADD, outer, EPOLLIN, 0) < 0 && errno == ELOOP, "loop not ELOOP");
  close(outer);
  CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "DEL");
  close(p[0]);
  close(p[1]);
  return 0;
}

static int mode_basic(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK(ep >= 0, "epoll_create1");
  CHECK(fcntl(ep, F_GETFD) == FD_CLOEXEC, "EPOLL_CLOEXEC");
  char link[64] = "";
  char path[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
  CHECK(readlink(path, link, sizeof link - 1) > 0 && strcmp(link, "anon_inode:[eventpoll]") == 0,
        "readlink %s: %s", path, link);
  if (level_edge_oneshot(ep) || errors(ep) || close_releases(ep) || poll_timeout_nesting(ep))
    return 1;
  printf("epoll: basic OK\n");
  return 0;
}

static volatile sig_atomic_t got_usr1;
static sigset_t handler_mask; /* the mask the handler last ran under */
static void on_usr1(int sig) {
  got_usr1 += sig == SIGUSR1;
  sigprocmask(SIG_BLOCK, NULL, &handler_mask);
}

/* SIGUSR1 blocked and raised: pending. */
static int pend_usr1(void) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "block");
  sig_atomic_t before = got_usr1;
  CHECK(raise(SIGUSR1) == 0, "raise");
  CHECK(got_usr1 == before, "delivered while blocked");
  return 0;
}

/* Whether the standard signals (1..31) in `set` are exactly `want`. */
static bool mask_is(const sigset_t *set, const int *want, int n) {
  for (int sig = 1; sig < 32; sig++) {
    bool wanted = false;
    for (int i = 0; i < n; i++)
      wanted |= want[i] == sig;
    if (sigismember(set, sig) != wanted)
      return false;
  }
  return true;
}

static bool current_mask_is(const int *want, int n) {
  sigset_t cur;
  return sigprocmask(SIG_BLOCK, NULL, &cur) == 0 && mask_is(&cur, want, n);
}

/* The caller blocks SIGUSR1 (pending) and SIGTERM; each call's mask blocks
 * SIGHUP only. The handler must run under {SIGHUP, SIGUSR1} (the call's
 * mask and its own signal), and the caller's mask be back afterwards, as
 * Linux restores it when the handler returns. */
static int masks_restored(int ep) {
  static const int caller[] = {SIGUSR1, SIGTERM}, in_handler[] = {SIGHUP, SIGUSR1};
  sigset_t set, call_mask;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  CHECK(sigprocmask(SIG_SETMASK, &set, NULL) == 0, "set the caller's mask");
  sigemptyset(&call_mask);
  sigaddset(&call_mask, SIGHUP);
  struct pollfd pfd = {.fd = ep, .events = POLLIN};
  struct timespec short_wait = {.tv_nsec = 10 * 1000 * 1000}, long_wait = {.tv_sec = 1000};
  CHECK(ppoll(&pfd, 1, &short_wait, &call_mask) == 0, "idle ppoll did not time out");
  CHECK(current_mask_is(caller, 2), "mask not restored after a ppoll timeout");
  sig_atomic_t before = got_usr1;
  CHECK(raise(SIGUSR1) == 0 && got_usr1 == before, "raise while blocked");
  CHECK(ppoll(&pfd, 1, &long_wait, &call_mask) < 0 && errno == EINTR, "ppoll not EINTR");
  CHECK(got_usr1 == before + 1, "handler did not run for ppoll");
  CHECK(mask_is(&handler_mask, in_handler, 2), "handler of ppoll not under the call's mask");
  CHECK(current_mask_is(caller, 2), "caller's mask not back after ppoll");
  struct epoll_event evs[2];
  CHECK(raise(SIGUSR1) == 0 && got_usr1 == before + 1, "raise while blocked");
  sigemptyset(&handler_mask);
  CHECK(epoll_pwait(ep, evs, 2, -1, &call_mask) < 0 && errno == EINTR, "pwait not EINTR");
  CHECK(got_usr1 == before + 2, "handler did not run for epoll_pwait");
  CHECK(mask_is(&handler_mask, in_handler, 2), "handler of epoll_pwait not under the call's mask");
  CHECK(current_mask_is(caller, 2), "caller's mask not back after epoll_pwait");
  return 0;
}

static int mode_signal(void) {
  struct sigaction sa = {.sa_handler = on_usr1};
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  int ep = epoll_create1(0), p[2];
  CHECK(ep >= 0 && pipe(p) == 0, "setup");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1) == 0, "ADD");
  struct epoll_event evs[2];
  sigset_t none, usr1;
  sigemptyset(&none);
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (pend_usr1())
    return 1;
  /* A mask that keeps it blocked: an ordinary wait that times out. */
  CHECK(epoll_pwait(ep, evs, 2, 10, &usr1) == 0, "pwait with it blocked");
  CHECK(got_usr1 == 0, "handler ran while blocked");
  CHECK(epoll_pwait(ep, evs, 2, -1, &none) < 0 && errno == EINTR, "pwait not EINTR");
  CHECK(got_usr1 == 1, "handler did not run for epoll_pwait");
  if (pend_usr1())
    return 1;
  struct pollfd pfd = {.fd = p[0], .events = POLLIN};
  struct timespec forever_ish = {.tv_sec = 1000};
  CHECK(ppoll(&pfd, 1, &forever_ish, &none) < 0 && errno == EINTR, "ppoll not EINTR");
  CHECK(got_usr1 == 2, "handler did not run for ppoll");
  if (pend_usr1())
    return 1;
  CHECK(syscall(SYS_epoll_pwait2, ep, evs, 2, NULL, &none, 8) < 0 && errno == EINTR,
        "pwait2 not EINTR");
  CHECK(got_usr1 == 3, "handler did not run for epoll_pwait2");
  if (masks_restored(ep))
    return 1;
  printf("epoll: signal OK\n");
  return 0;
}

static int mode_stdin(void) {
  int ep = epoll_create1(0);
  CHECK(ep >= 0, "epoll_create1");
  CHECK(ctl(ep, EPOLL_CTL_ADD, 0, EPOLLIN, 5) == 0, "ADD stdin");
  struct epoll_event ev;
  CHECK(epoll_wait(ep, &ev, 1, -1) == 1 && ev.data.u64 == 5 && (ev.events & EPOLLIN),
        "stdin never ready");
  char buf[64];
  ssize_t n = read(0, buf, sizeof buf - 1);
  CHECK(n > 0, "read stdin");
  buf[n] = '\0';
  printf("stdin: %s\n", buf);
  printf("epoll: stdin OK\n");
  return 0;
}

static int mode_forever(void) {
  int ep = epoll_create1(0), p[2];
  CHECK(ep >= 0 && pipe(p) == 0, "setup");
  CHECK(ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1) == 0, "ADD");
  struct epoll_event ev;
  int n = epoll_wait(ep, &ev, 1, -1);
  printf("epoll: forever returned %d\n", n);
  return 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "basic";
  if (!strcmp(mode, "basic"))
    return mode_basic();
  if (!strcmp(mode, "signal"))
    return mode_signal();
  if (!strcmp(mode, "stdin"))
    return mode_stdin();
  if (!strcmp(mode, "forever"))
    return mode_forever();
  printf("epoll: unknown mode %s\n", mode);
  return 2;
}
