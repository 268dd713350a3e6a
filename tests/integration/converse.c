/* converse.c - talking to a running program line by line (converse.h). */
#include "converse.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

static long long ms_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static int spawn_with(struct converse *c, const char *path, char *const argv[], char *const envp[],
                      const int in[2], const int out[2], int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  int rc = posix_spawn(&c->pid, path, &fa, NULL, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  return -rc;
}

int converse_start(struct converse *c, const char *path, char *const argv[], char *const envp[],
                   const char *err_path) {
  memset(c, 0, sizeof *c);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return -errno;
  if (pipe2(out, O_CLOEXEC) < 0) {
    int err = -errno;
    close(in[0]);
    close(in[1]);
    return err;
  }
  int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int rc = err_fd < 0 ? -errno : spawn_with(c, path, argv, envp, in, out, err_fd);
  if (err_fd >= 0)
    close(err_fd);
  close(in[0]);
  close(out[1]);
  c->to_guest = in[1];
  c->from_guest = out[0];
  if (rc < 0) {
    close(in[1]);
    close(out[0]);
  }
  return rc;
}

int converse_send(struct converse *c, const char *line) {
  size_t len = strlen(line);
  char msg[256];
  if (len + 1 > sizeof msg)
    return -EINVAL;
  memcpy(msg, line, len);
  msg[len++] = '\n';
  for (size_t done = 0; done < len;) {
    ssize_t n = write(c->to_guest, msg + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    done += (size_t)n;
  }
  return 0;
}

/* Moves the first line out of c->buf, if there is one. */
static int take_line(struct converse *c, char *buf, size_t cap) {
  char *nl = memchr(c->buf, '\n', c->have);
  if (!nl)
    return c->have == sizeof c->buf ? -EOVERFLOW : -EAGAIN;
  size_t len = (size_t)(nl - c->buf);
  if (len + 1 > cap)
    return -EOVERFLOW;
  memcpy(buf, c->buf, len);
  buf[len] = '\0';
  c->have -= len + 1;
  memmove(c->buf, nl + 1, c->have);
  return 0;
}

int converse_read_line(struct converse *c, char *buf, size_t cap, unsigned timeout_ms) {
  long long deadline = ms_now() + timeout_ms;
  for (;;) {
    int rc = take_line(c, buf, cap);
    if (rc != -EAGAIN)
      return rc;
    long long left = deadline - ms_now();
    struct pollfd p = {.fd = c->from_guest, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) == 0)
      return -ETIMEDOUT;
    ssize_t n = read(c->from_guest, c->buf + c->have, sizeof c->buf - c->have);
    if (n == 0)
      return -EPIPE;
    if (n > 0)
      c->have += (size_t)n;
    else if (errno != EINTR && errno != EAGAIN)
      return -errno;
  }
}

int converse_finish(struct converse *c, unsigned timeout_ms) {
  close(c->to_guest);
  close(c->from_guest);
  int pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  if (pidfd < 0 || poll(&p, 1, (int)timeout_ms) <= 0)
    kill(c->pid, SIGKILL); /* hung (or no pidfd to wait on) */
  if (pidfd >= 0)
    close(pidfd);
  int status;
  while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
    continue;
  return WIFEXITED(status) ? WEXITSTATUS(status) : SPAWN_KILLED_BY(WTERMSIG(status));
}
