/* runbench_spawn.c - spawn, capture and time one run (runbench_spawn.h). */
#include "runbench_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Its own process group, an empty mask, default dispositions. */
static int attrs(posix_spawnattr_t *at) {
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  int rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  if (rc == 0)
    rc = posix_spawnattr_setpgroup(at, 0);
  if (rc == 0)
    rc = posix_spawnattr_setsigmask(at, &none);
  if (rc == 0)
    rc = posix_spawnattr_setsigdefault(at, &defaults);
  return rc;
}

static int spawn(const struct rb_run *r, int out_w, int err_w, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0)
    return rc;
  if ((rc = posix_spawnattr_init(&at)) == 0) {
    rc = posix_spawn_file_actions_addopen(&fa, 0, r->stdin_path, O_RDONLY, 0);
    if (rc == 0)
      rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    if (rc == 0)
      rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    if (rc == 0)
      rc = attrs(&at);
    if (rc == 0)
      rc = posix_spawn(pid, r->argv[0], &fa, &at, r->argv, NULL);
    posix_spawnattr_destroy(&at);
  }
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/* Reads what is there into buf (keeping at most RB_CAPTURE); closes at EOF. */
static void drain(int *fd, char *buf, size_t *len) {
  char scratch[4096];
  size_t room = RB_CAPTURE - *len;
  ssize_t n = read(*fd, room ? buf + *len : scratch, room ? room : sizeof scratch);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    close(*fd);
    *fd = -1;
  } else if (room) {
    *len += (size_t)n;
  }
}

struct wait_state {
  pid_t pid;
  int pidfd, out, err;
  bool reaped;
};

static void reap(struct wait_state *w, struct rb_outcome *o, double start) {
  while (waitpid(w->pid, &o->status, 0) < 0 && errno == EINTR)
    ;
  o->wall_ms = now_ms() - start;
  w->reaped = true;
}

static void wait_child(const struct rb_run *r, struct wait_state *w, struct rb_outcome *o,
                       double start) {
  double deadline = start + r->timeout_s * 1e3;
  while (!w->reaped || w->out >= 0 || w->err >= 0) {
    struct pollfd p[3] = {{.fd = w->out, .events = POLLIN},
                          {.fd = w->err, .events = POLLIN},
                          {.fd = w->reaped ? -1 : w->pidfd, .events = POLLIN}};
    double left = deadline - now_ms();
    bool stop = r->interrupt && *r->interrupt;
    int n = stop || left <= 0 ? 0 : poll(p, 3, (int)ceil(left));
    if (n == 0 || stop) {
      o->timed_out = !stop && !w->reaped;
      o->interrupted = stop;
      if (!w->reaped) {
        kill(-w->pid, SIGKILL);
        reap(w, o, start);
      }
      break;
    }
    if (n < 0)
      continue;
    if (p[0].revents)
      drain(&w->out, o->out, &o->out_len);
    if (p[1].revents)
      drain(&w->err, o->err, &o->err_len);
    if (p[2].revents)
      reap(w, o, start);
  }
  if (w->out >= 0)
    close(w->out);
  if (w->err >= 0)
    close(w->err);
}

int rb_spawn(const struct rb_run *r, struct rb_outcome *o) {
  memset(o, 0, sizeof *o);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return -errno;
  if (pipe2(err, O_CLOEXEC) != 0) {
    int e = -errno;
    close(out[0]);
    close(out[1]);
    return e;
  }
  double start = now_ms();
  struct wait_state w = {.pidfd = -1, .out = out[0], .err = err[0]};
  o->spawn_errno = spawn(r, out[1], err[1], &w.pid);
  close(out[1]);
  close(err[1]);
  if (o->spawn_errno == 0) {
    w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0);
    if (w.pidfd < 0) {
      int e = -errno;
      kill(-w.pid, SIGKILL);
      reap(&w, o, start);
      close(w.out);
      close(w.err);
      return e;
    }
    wait_child(r, &w, o, start);
    close(w.pidfd);
  } else {
    close(w.out);
    close(w.err);
  }
  return 0;
}
