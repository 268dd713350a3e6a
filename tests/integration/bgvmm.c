/* bgvmm.c - background hearth-vmm runs for the tests (bgvmm.h). */
#include "bgvmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

static void path_in(char *buf, const char *dir, const char *tag, const char *ext) {
  int n = snprintf(buf, PATH_MAX, "%s/%s.%s", dir, tag, ext);
  if (n < 0 || n >= PATH_MAX)
    fail_msg("path too long: %s/%s", dir, tag);
}

void bgvmm_start(struct bgvmm *v, const char *dir, const char *tag, const char *const *argv,
                 int ready) {
  itest_require_kvm();
  path_in(v->out, dir, tag, "out");
  path_in(v->err, dir, tag, "err");
  int p[2] = {-1, -1};
  if (ready)
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, v->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, v->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (ready)
    posix_spawn_file_actions_adddup2(&fa, p[1], 3);
  int rc = posix_spawn(&v->pid, HEARTH_VMM_PATH, &fa, NULL, (char *const *)argv,
                       itest_vmm_environment());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    fail_msg("cannot start %s: %s", HEARTH_VMM_PATH, strerror(rc));
  if (ready)
    close(p[1]);
  v->ready = p[0];
}

const char *bgvmm_output(const char *path) {
  static char buf[1 << 16];
  FILE *f = fopen(path, "re");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  buf[n] = '\0';
  if (f)
    fclose(f);
  return buf;
}

void bgvmm_wait_ready(struct bgvmm *v) {
  struct pollfd p = {.fd = v->ready, .events = POLLIN};
  char buf[16] = {0};
  ssize_t n = poll(&p, 1, BGVMM_WAIT_MS) == 1 ? read(v->ready, buf, sizeof buf - 1) : -1;
  if (n != 6 || strcmp(buf, "ready\n") != 0)
    fail_msg("no \"ready\" from hearth-vmm (got %zd bytes); stderr:\n%s", n, bgvmm_output(v->err));
}

int bgvmm_finish(struct bgvmm *v) {
  int pidfd = (int)syscall(SYS_pidfd_open, v->pid, 0);
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  if (pidfd < 0 || poll(&p, 1, BGVMM_WAIT_MS) <= 0)
    kill(v->pid, SIGKILL);
  if (pidfd >= 0)
    close(pidfd);
  int status;
  while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR)
    continue;
  if (v->ready >= 0)
    close(v->ready);
  v->ready = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static int unix_connect(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  assert_true(strlen(path) < sizeof sa.sun_path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return fd;
  close(fd);
  return -1;
}

int bgvmm_api_connect(const char *path) {
  struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
  for (int tries = 0; tries < BGVMM_WAIT_MS / 10; tries++) {
    int fd = unix_connect(path);
    if (fd >= 0)
      return fd;
    nanosleep(&pause, NULL); /* the VMM makes the socket once its VM is built */
  }
  fail_msg("no control socket at %s", path);
  return -1;
}

void bgvmm_api_send(int fd, const void *p, size_t len) {
  const char *c = p;
  while (len > 0) {
    ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
    if (n <= 0)
      fail_msg("sending to the control socket: %s", strerror(errno));
    c += n;
    len -= (size_t)n;
  }
}

const char *bgvmm_api_reply(int fd) {
  static char line[1 << 16];
  size_t n = 0;
  while (n + 1 < sizeof line) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, BGVMM_WAIT_MS) != 1)
      fail_msg("no reply on the control socket");
    if (recv(fd, line + n, 1, 0) != 1)
      fail_msg("the control socket closed before a reply");
    if (line[n] == '\n')
      break;
    n++;
  }
  line[n] = '\0';
  return line;
}

const char *bgvmm_api(int fd, const char *line) {
  bgvmm_api_send(fd, line, strlen(line));
  bgvmm_api_send(fd, "\n", 1);
  return bgvmm_api_reply(fd);
}

/* A bridge connection to port, once "OK <n>" came back. */
static int bridge_connect(const char *uds, unsigned port) {
  int fd = -1;
  struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
  for (int tries = 0; fd < 0 && tries < BGVMM_WAIT_MS / 10; tries++)
    if ((fd = unix_connect(uds)) < 0)
      nanosleep(&pause, NULL);
  if (fd < 0)
    fail_msg("no vsock bridge at %s", uds);
  char connect_line[32];
  snprintf(connect_line, sizeof connect_line, "CONNECT %u\n", port);
  bgvmm_api_send(fd, connect_line, strlen(connect_line));
  const char *ok = bgvmm_api_reply(fd);
  if (strncmp(ok, "OK ", 3) != 0)
    fail_msg("CONNECT %u: '%s'", port, ok);
  return fd;
}

const char *bgvmm_vsock_line(const char *uds, unsigned port) {
  int fd = bridge_connect(uds, port);
  const char *line = bgvmm_api_reply(fd);
  close(fd);
  return line;
}

void bgvmm_echo(const char *uds, unsigned port, const char *msg) {
  int fd = bridge_connect(uds, port);
  bgvmm_api_send(fd, msg, strlen(msg));
  bgvmm_api_send(fd, "\n", 1);
  assert_string_equal(bgvmm_api_reply(fd), msg);
  close(fd);
}
