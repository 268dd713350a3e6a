/* runcmd.c - spawns one measured command without a shell, feeds it an empty
 * stdin pipe (or a file), captures its stdout/stderr pipes and times
 * spawn-to-reaped. A pidfd tells when the child exits, so the clock stops at
 * the reap even if a grandchild still holds the output pipes. */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "childattr.h"

enum { STDIN_PIPE, STDOUT_PIPE, STDERR_PIPE, NPIPES };

/* What one run_cmd call is waiting for. */
struct waiter {
  pid_t pid;
  int pidfd;
  int out_fd, err_fd; /* -1 once at end of file */
  double deadline_ms;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static int open_pipes(int fds[NPIPES][2]) {
  for (int i = 0; i < NPIPES; i++)
    fds[i][0] = fds[i][1] = -1;
  for (int i = 0; i < NPIPES; i++) {
    if (pipe2(fds[i], O_CLOEXEC) < 0) {
      int err = errno;
      for (int j = 0; j < i; j++) {
        close_fd(&fds[j][0]);
        close_fd(&fds[j][1]);
      }
      return -err;
    }
  }
  return 0;
}

/* File actions putting the child's ends of the pipes on fds 0, 1 and 2 (dup2
 * clears close-on-exec; every other pipe end is close-on-exec), with stdin
 * the file c->stdin_path if set; or the file c->stdio_path on all three. */
static int set_stdio(posix_spawn_file_actions_t *fa, int fds[NPIPES][2], const struct cmd *c) {
  if (c->stdio_path) {
    int rc = posix_spawn_file_actions_addopen(fa, 0, c->stdio_path, O_RDONLY, 0);
    if (rc == 0)
      rc = posix_spawn_file_actions_addopen(fa, 1, c->stdio_path, O_WRONLY | O_APPEND, 0);
    return rc == 0 ? posix_spawn_file_actions_adddup2(fa, 1, 2) : rc;
  }
  int rc = c->stdin_path ? posix_spawn_file_actions_addopen(fa, 0, c->stdin_path, O_RDONLY, 0)
                         : posix_spawn_file_actions_adddup2(fa, fds[STDIN_PIPE][0], 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, fds[STDOUT_PIPE][1], 1);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, fds[STDERR_PIPE][1], 2);
  return rc;
}

/* Attributes: its own process group (so a timeout can kill what it started),
 * with what the benchmarks catch, and SIGPIPE, back at their default. */
static int set_attrs(posix_spawnattr_t *at) {
  static const int defaults[] = {SIGPIPE, SIGINT, SIGTERM};
  return childattr_set(at, defaults, sizeof defaults / sizeof defaults[0]);
}

/* Returns 0 or a positive errno, as posix_spawn does. */
static int spawn_child(const struct cmd *c, int fds[NPIPES][2], pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0)
    return rc;
  rc = posix_spawnattr_init(&at);
  if (rc == 0) {
    rc = set_stdio(&fa, fds, c);
    if (rc == 0)
      rc = set_attrs(&at);
    if (rc == 0)
      rc = posix_spawnp(pid, c->argv[0], &fa, &at, c->argv, c->envp);
    posix_spawnattr_destroy(&at);
  }
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/* Reads what is available on *fd into cap; closes *fd at end of file. */
static void drain(int *fd, struct capture *cap) {
  char scratch[4096];
  size_t room = sizeof cap->buf - cap->len;
  char *dst = room > 0 ? cap->buf + cap->len : scratch;
  ssize_t n = read(*fd, dst, room > 0 ? room : sizeof scratch);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    close_fd(fd);
    return;
  }
  if (room > 0)
    cap->len += (size_t)n;
  else
    cap->truncated = true;
}

static void reap(struct waiter *w, struct cmd_result *r) {
  struct rusage ru;
  while (wait4(w->pid, &r->status, 0, &ru) < 0 && errno == EINTR)
    ;
  r->reaped = true;
  r->maxrss_kib = ru.ru_maxrss;
  close_fd(&w->pidfd);
}

/* Kills the child's process group (and the child, should it have left it)
 * and reaps the child. */
static void kill_and_reap(struct waiter *w, struct cmd_result *r) {
  kill(-w->pid, SIGKILL);
  kill(w->pid, SIGKILL);
  reap(w, r);
}

static int poll_timeout_ms(const struct waiter *w) {
  double left = w->deadline_ms - now_ms();
  return left <= 0 ? 0 : (int)ceil(left);
}

/* One poll round. Returns 1 to go on, 0 when the deadline passed. */
static int wait_round(struct waiter *w, struct cmd_result *r, double start_ms) {
  struct pollfd p[3] = {{.fd = w->out_fd, .events = POLLIN},
                        {.fd = w->err_fd, .events = POLLIN},
                        {.fd = w->pidfd, .events = POLLIN}};
  int n = poll(p, 3, poll_timeout_ms(w));
  if (n == 0)
    return 0;
  if (n < 0)
    return 1; /* EINTR: the caller checks the interrupt flag */
  if (p[0].revents)
    drain(&w->out_fd, &r->out);
  if (p[1].revents)
    drain(&w->err_fd, &r->err);
  if (p[2].revents && !r->reaped) {
    reap(w, r);
    r->wall_ms = now_ms() - start_ms;
  }
  return 1;
}

static void wait_child(const struct cmd *c, struct waiter *w, struct cmd_result *r,
                       double start_ms) {
  while (!r->reaped || w->out_fd >= 0 || w->err_fd >= 0) {
    bool stop = c->interrupt && *c->interrupt;
    if (!stop && wait_round(w, r, start_ms))
      continue;
    if (r->reaped) {
      r->pipe_held = !stop;
    } else {
      r->timed_out = !stop;
      kill_and_reap(w, r);
    }
    r->interrupted = stop;
    break;
  }
  close_fd(&w->out_fd);
  close_fd(&w->err_fd);
  close_fd(&w->pidfd);
}

int run_cmd(const struct cmd *c, struct cmd_result *r) {
  memset(r, 0, sizeof *r);
  int fds[NPIPES][2];
  int rc = open_pipes(fds);
  if (rc < 0)
    return rc;
  double start_ms = now_ms();
  struct waiter w = {.pidfd = -1, .out_fd = fds[STDOUT_PIPE][0], .err_fd = fds[STDERR_PIPE][0]};
  r->spawn_errno = spawn_child(c, fds, &w.pid);
  close_fd(&fds[STDIN_PIPE][0]);
  close_fd(&fds[STDIN_PIPE][1]); /* the child reads end of file at once */
  close_fd(&fds[STDOUT_PIPE][1]);
  close_fd(&fds[STDERR_PIPE][1]);
  if (c->stdio_path) { /* nothing to capture: wait for the exit alone */
    close_fd(&w.out_fd);
    close_fd(&w.err_fd);
  }
  if (r->spawn_errno == 0) {
    w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0);
    if (w.pidfd < 0) {
      rc = -errno;
      close_fd(&w.out_fd);
      close_fd(&w.err_fd);
      kill_and_reap(&w, r);
      return rc;
    }
    w.deadline_ms = start_ms + c->timeout_s * 1e3;
    wait_child(c, &w, r, start_ms);
  }
  close_fd(&w.out_fd);
  close_fd(&w.err_fd);
  return 0;
}
