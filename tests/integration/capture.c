/* capture.c - posix_spawn with captured stdio: the parent feeds stdin and
 * drains stdout and stderr in one poll loop, so neither side can block on a
 * full pipe whatever the amounts, and enforces a deadline. */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sink {
  int fd;
  char *buf;
  size_t len, cap;
  bool truncated;
};

struct child_io {
  int in_fd; /* -1 once stdin is closed */
  const char *in;
  size_t in_len, in_off;
  struct sink out, err;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static int sink_grow(struct sink *s, size_t want) {
  size_t cap = s->cap ? s->cap : 4096;
  while (cap < want + 1)
    cap *= 2;
  char *p = realloc(s->buf, cap);
  if (p == NULL)
    return -ENOMEM;
  s->buf = p;
  s->cap = cap;
  return 0;
}

/* Reads what is there; keeps at most SPAWN_OUTPUT_CAP bytes. */
static int sink_read(struct sink *s) {
  char chunk[65536];
  ssize_t n = read(s->fd, chunk, sizeof chunk);
  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 0 : -errno;
  if (n == 0) {
    close_fd(&s->fd);
    return 0;
  }
  size_t keep = (size_t)n;
  if (s->len + keep > SPAWN_OUTPUT_CAP) {
    keep = SPAWN_OUTPUT_CAP - s->len;
    s->truncated = true;
  }
  if (keep > 0 && s->len + keep + 1 > s->cap && sink_grow(s, s->len + keep) != 0)
    return -ENOMEM;
  memcpy(s->buf + s->len, chunk, keep);
  s->len += keep;
  return 0;
}

static void feed_stdin(struct child_io *io) {
  ssize_t n = write(io->in_fd, io->in + io->in_off, io->in_len - io->in_off);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 0) { /* EPIPE: the child stopped reading; that is its business */
    close_fd(&io->in_fd);
    return;
  }
  io->in_off += (size_t)n;
  if (io->in_off == io->in_len)
    close_fd(&io->in_fd);
}

/* One poll round over whichever of the three pipes are still open. */
static int pump_once(struct child_io *io, int timeout_ms) {
  struct pollfd p[3] = {{.fd = io->in_fd, .events = POLLOUT},
                        {.fd = io->out.fd, .events = POLLIN},
                        {.fd = io->err.fd, .events = POLLIN}};
  int n = poll(p, 3, timeout_ms);
  if (n < 0)
    return errno == EINTR ? 0 : -errno;
  if (p[0].revents & (POLLOUT | POLLERR | POLLHUP))
    feed_stdin(io);
  int rc = 0;
  if (rc == 0 && p[1].revents & (POLLIN | POLLHUP | POLLERR))
    rc = sink_read(&io->out);
  if (rc == 0 && p[2].revents & (POLLIN | POLLHUP | POLLERR))
    rc = sink_read(&io->err);
  return rc;
}

/* Runs the pipes until both outputs end; kills the child at the deadline
 * (and gives up on the pipes 5 s later, should a grandchild hold them). */
static int pump(struct child_io *io, pid_t pid, double deadline, bool *timed_out) {
  while (io->out.fd >= 0 || io->err.fd >= 0) {
    double left = deadline - now_seconds();
    if (left <= 0 && !*timed_out) {
      kill(pid, SIGKILL);
      *timed_out = true;
      deadline += 5;
      continue;
    }
    if (left <= 0)
      break;
    int rc = pump_once(io, (int)(left * 1000) + 1);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int wait_child(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR)
      return SPAWN_KILLED_BY(0);
  }
  return WIFSIGNALED(st) ? SPAWN_KILLED_BY(WTERMSIG(st)) : WEXITSTATUS(st);
}

static int start_child(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                       const int in[2], const int out[2], const int err[2]) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
  posix_spawnattr_init(&attr);
  /* The harness ignores SIGPIPE; the child must start with every default. */
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  int rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  return -rc;
}

static int make_pipes(int in[2], int out[2], int err[2]) {
  if (pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0)
    return 0;
  return -errno;
}

static void close_pipe(int p[2]) {
  close_fd(&p[0]);
  close_fd(&p[1]);
}

/* Moves the captured bytes into *r, NUL-terminated even when empty. */
static int take_output(struct sink *s, char **buf, size_t *len) {
  if (sink_grow(s, s->len) != 0)
    return -ENOMEM;
  s->buf[s->len] = '\0';
  *buf = s->buf;
  *len = s->len;
  s->buf = NULL;
  return 0;
}

static int collect(struct child_io *io, pid_t pid, unsigned timeout_ms, double start,
                   struct spawn_result *r) {
  int rc = pump(io, pid, start + timeout_ms / 1000.0, &r->timed_out);
  if (rc < 0)
    kill(pid, SIGKILL);
  r->status = wait_child(pid);
  r->seconds = now_seconds() - start;
  r->truncated = io->out.truncated || io->err.truncated;
  if (rc == 0)
    rc = take_output(&io->out, &r->out, &r->out_len);
  if (rc == 0)
    rc = take_output(&io->err, &r->err, &r->err_len);
  return rc;
}

int spawn_capture(const char *path, char *const argv[], char *const envp[], const void *in,
                  size_t in_len, unsigned timeout_ms, struct spawn_result *r) {
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  memset(r, 0, sizeof *r);
  int rc = make_pipes(pin, pout, perr);
  pid_t pid = -1;
  double start = now_seconds();
  if (rc == 0)
    rc = start_child(&pid, path, argv, envp, pin, pout, perr);
  close_fd(&pin[0]);
  close_fd(&pout[1]);
  close_fd(&perr[1]);
  struct child_io io = {
      .in_fd = pin[1], .in = in, .in_len = in_len, .out.fd = pout[0], .err.fd = perr[0]};
  pin[1] = pout[0] = perr[0] = -1;
  if (rc == 0) {
    fcntl(io.in_fd, F_SETFL, O_NONBLOCK);
    if (in_len == 0)
      close_fd(&io.in_fd);
    rc = collect(&io, pid, timeout_ms, start, r);
  }
  close_fd(&io.in_fd);
  close_fd(&io.out.fd);
  close_fd(&io.err.fd);
  free(io.out.buf);
  free(io.err.buf);
  close_pipe(pin);
  close_pipe(pout);
  close_pipe(perr);
  if (rc != 0)
    spawn_result_free(r);
  return rc;
}

void spawn_result_free(struct spawn_result *r) {
  free(r->out);
  free(r->err);
  memset(r, 0, sizeof *r);
}
