/* restore_vm.c - one hearth-vmm under a benchmark (restore_vm.h). */
#include "restore_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#include "childattr.h"

#define READY_LINE "ready\n"
#define FRAME_MAGIC 0x68
#define FRAME_VERSION 1
#define FRAME_HELLO 1
#define FRAME_HEADER 8
#define CONTROL_MAX (64 * 1024) /* HF_CONTROL_MAX */
#define LINE_MAX_BYTES 4096     /* an "OK n" line or a control-socket reply */

static char *const empty_env[] = {NULL};

double rvm_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int left_ms(double deadline_ms) {
  double left = deadline_ms - rvm_now_ms();
  return left <= 0 ? 0 : (int)ceil(left);
}

/* Blocks until fd has `events` or the deadline passes. 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, double deadline_ms) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, left_ms(deadline_ms));
    if (n > 0)
      return 0;
    if (n == 0)
      return -ETIMEDOUT;
    if (errno != EINTR)
      return -errno;
  }
}

static int file_actions(posix_spawn_file_actions_t *fa, const char *log_path, int ready_w) {
  int rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_addopen(fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, 1, 2);
  return rc == 0 ? posix_spawn_file_actions_adddup2(fa, ready_w, RVM_READY_FD) : rc;
}

/* 0 or a positive errno, as posix_spawn. */
static int spawn(pid_t *pid, char *const argv[], const char *log_path, int ready_w) {
  static const int defaults[] = {SIGPIPE, SIGINT, SIGTERM};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0)
    return rc;
  rc = posix_spawnattr_init(&at);
  if (rc == 0) {
    rc = file_actions(&fa, log_path, ready_w);
    if (rc == 0)
      rc = childattr_set(&at, defaults, sizeof defaults / sizeof defaults[0]);
    if (rc == 0)
      rc = posix_spawn(pid, argv[0], &fa, &at, argv, empty_env);
    posix_spawnattr_destroy(&at);
  }
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

int rvm_spawn(struct rvm *v, char *const argv[], const char *log_path) {
  memset(v, 0, sizeof *v);
  v->pidfd = v->ready_fd = -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -errno;
  v->spawn_ms = rvm_now_ms();
  int rc = spawn(&v->pid, argv, log_path, p[1]);
  close(p[1]);
  if (rc != 0) {
    close(p[0]);
    v->pid = 0;
    return -rc;
  }
  v->ready_fd = p[0];
  v->pidfd = (int)syscall(SYS_pidfd_open, v->pid, 0);
  if (v->pidfd < 0) {
    rc = -errno;
    rvm_end(v);
    return rc;
  }
  return 0;
}

const char *rvm_why(int rc) {
  if (rc == -ECHILD)
    return "hearth-vmm ended before \"ready\"";
  if (rc == -EPROTO)
    return "not hearth-init's HELLO (or a refused request)";
  return strerror(-rc);
}

int rvm_read_ready(struct rvm *v) {
  char buf[sizeof READY_LINE];
  ssize_t n = read(v->ready_fd, buf, sizeof READY_LINE - 1);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  close(v->ready_fd);
  v->ready_fd = -1;
  /* The VMM writes the line in one write(): a pipe delivers it whole. */
  return n == (ssize_t)sizeof READY_LINE - 1 && memcmp(buf, READY_LINE, (size_t)n) == 0 ? 1
                                                                                        : -ECHILD;
}

int rvm_wait_ready(struct rvm *v, double deadline_ms) {
  for (;;) {
    int rc = wait_fd(v->ready_fd, POLLIN, deadline_ms);
    if (rc < 0)
      return rc;
    rc = rvm_read_ready(v);
    if (rc != 0)
      return rc > 0 ? 0 : rc;
  }
}

/* A socket reader that keeps what it read past what was asked. */
struct sockbuf {
  int fd;
  double deadline_ms;
  char buf[CONTROL_MAX + FRAME_HEADER + LINE_MAX_BYTES];
  size_t have;
};

/* Reads until sb holds at least `want` bytes. 0, -ETIMEDOUT, -EPIPE (end of
 * stream) or -errno. */
static int fill(struct sockbuf *sb, size_t want) {
  while (sb->have < want) {
    int rc = wait_fd(sb->fd, POLLIN, sb->deadline_ms);
    if (rc < 0)
      return rc;
    ssize_t n = recv(sb->fd, sb->buf + sb->have, sizeof sb->buf - sb->have, 0);
    if (n == 0)
      return -EPIPE;
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n > 0)
      sb->have += (size_t)n;
  }
  return 0;
}

/* Takes one line (newline stripped, NUL-terminated in line) off sb. */
static int take_line(struct sockbuf *sb, char *line, size_t cap) {
  for (;;) {
    char *nl = memchr(sb->buf, '\n', sb->have);
    if (nl) {
      size_t len = (size_t)(nl - sb->buf);
      snprintf(line, cap, "%.*s", (int)len, sb->buf);
      sb->have -= len + 1;
      memmove(sb->buf, nl + 1, sb->have);
      return 0;
    }
    if (sb->have >= LINE_MAX_BYTES)
      return -EPROTO;
    int rc = fill(sb, sb->have + 1);
    if (rc < 0)
      return rc;
  }
}

static int send_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EPIPE;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int unix_connect(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return fd;
  int rc = -errno;
  close(fd);
  return rc;
}

/* "OK n", then a HELLO frame header and its payload, off sb. */
static int read_hello(struct sockbuf *sb, char *json, size_t cap) {
  char line[LINE_MAX_BYTES];
  int rc = take_line(sb, line, sizeof line);
  if (rc < 0)
    return rc;
  if (strncmp(line, "OK ", 3) != 0)
    return -EPROTO;
  if ((rc = fill(sb, FRAME_HEADER)) < 0)
    return rc;
  const unsigned char *h = (const unsigned char *)sb->buf;
  size_t len = (size_t)h[4] | (size_t)h[5] << 8 | (size_t)h[6] << 16 | (size_t)h[7] << 24;
  if (h[0] != FRAME_MAGIC || h[1] != FRAME_VERSION || h[2] != FRAME_HELLO || h[3] != 0 ||
      len > CONTROL_MAX)
    return -EPROTO;
  if ((rc = fill(sb, FRAME_HEADER + len)) < 0)
    return rc;
  snprintf(json, cap, "%.*s", (int)len, sb->buf + FRAME_HEADER);
  return 0;
}

int rvm_hello(const char *uds, double deadline_ms, char *json, size_t cap) {
  static struct sockbuf sb; /* large: one benchmark thread uses it at a time */
  int fd = unix_connect(uds);
  if (fd < 0)
    return fd;
  sb.fd = fd;
  sb.deadline_ms = deadline_ms;
  sb.have = 0;
  char connect_line[32];
  int n = snprintf(connect_line, sizeof connect_line, "CONNECT %d\n", RVM_INIT_PORT);
  int rc = send_all(fd, connect_line, (size_t)n);
  if (rc == 0)
    rc = read_hello(&sb, json, cap);
  close(fd);
  return rc;
}

int rvm_api(const char *api, const char *const *lines, double deadline_ms, char *err,
            size_t errlen) {
  static struct sockbuf sb;
  int fd = unix_connect(api);
  if (fd < 0)
    return fd;
  sb.fd = fd;
  sb.deadline_ms = deadline_ms;
  sb.have = 0;
  int rc = 0;
  for (size_t i = 0; lines[i] && rc == 0; i++) {
    char reply[LINE_MAX_BYTES];
    rc = send_all(fd, lines[i], strlen(lines[i]));
    if (rc == 0)
      rc = send_all(fd, "\n", 1);
    if (rc == 0)
      rc = take_line(&sb, reply, sizeof reply);
    if (rc == 0 && !strstr(reply, "\"ok\":true")) {
      snprintf(err, errlen, "%s -> %s", lines[i], reply);
      rc = -EPROTO;
    }
  }
  close(fd);
  return rc;
}

int rvm_api_open(struct rvm *v, const char *api, double deadline_ms) {
  for (;;) {
    int fd = unix_connect(api);
    if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED))
      return fd;
    if (rvm_now_ms() >= deadline_ms)
      return -ETIMEDOUT;
    struct pollfd p = {.fd = v->pidfd, .events = POLLIN};
    if (poll(&p, 1, 1) > 0)
      return -ECHILD;
  }
}

static int reap(struct rvm *v) {
  int status = -1;
  while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (v->pidfd >= 0)
    close(v->pidfd);
  if (v->ready_fd >= 0)
    close(v->ready_fd);
  v->pidfd = v->ready_fd = -1;
  v->pid = 0;
  return status;
}

int rvm_end(struct rvm *v) {
  if (v->pid <= 0)
    return -1;
  kill(-v->pid, SIGKILL);
  kill(v->pid, SIGKILL);
  return reap(v);
}

int rvm_wait_exit(struct rvm *v, double deadline_ms) {
  if (v->pid <= 0)
    return -1;
  if (v->pidfd < 0 || wait_fd(v->pidfd, POLLIN, deadline_ms) < 0)
    return rvm_end(v);
  kill(-v->pid, SIGKILL); /* whatever it may have left in its group */
  return reap(v);
}

void rvm_log_first_line(const char *log, char *out, size_t cap) {
  FILE *f = fopen(log, "re");
  out[0] = '\0';
  if (f && fgets(out, (int)cap, f))
    out[strcspn(out, "\n")] = '\0';
  if (f)
    fclose(f);
}
