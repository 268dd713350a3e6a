/* vmmproc.c - spawning and ending hearth-vmm (vmmproc.h). */
#include "vmmproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childattr.h"

#define READY_LINE "ready\n"
#define CHILD_READY_FD 3 /* the ready pipe's number in the VMM */
#define MAX_ARGV 32

struct argv_buf {
  char *argv[MAX_ARGV];
  int n;
  char mem[16], timeout[32], ready[16];
};

static void push(struct argv_buf *a, const char *s) {
  if (a->n < MAX_ARGV - 1)
    a->argv[a->n++] = (char *)s;
  a->argv[a->n] = NULL;
}

/* hearth-vmm --restore DIR: the snapshot decides the image, memory and
 * pages; only what keeps this clone apart is given. */
static void build_restore_argv(struct argv_buf *a, const struct vmm_launch *l) {
  const char *fixed[] = {l->vmm,       "--restore", l->restore_dir, "--vsock-uds", l->vsock_uds,
                         "--ready-fd", a->ready,    "--timeout",    a->timeout};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    push(a, fixed[i]);
  if (l->api_sock) {
    push(a, "--api-sock");
    push(a, l->api_sock);
  }
  if (l->verbose)
    push(a, "--verbose");
}

static void build_argv(struct argv_buf *a, const struct vmm_launch *l) {
  a->n = 0;
  snprintf(a->mem, sizeof a->mem, "%u", l->mem_mib);
  snprintf(a->timeout, sizeof a->timeout, "%.3f", l->timeout_s);
  snprintf(a->ready, sizeof a->ready, "%d", CHILD_READY_FD);
  if (l->restore_dir) {
    build_restore_argv(a, l);
    return;
  }
  const char *fixed[] = {l->vmm,        "--image",    l->image,      "--trust",    l->trust,
                         "--state-dir", l->state_dir, "--vsock-uds", l->vsock_uds, "--ready-fd",
                         a->ready,      "--mem",      a->mem,        "--timeout",  a->timeout};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    push(a, fixed[i]);
  if (l->guest_pages) {
    push(a, "--guest-pages");
    push(a, l->guest_pages);
  }
  if (l->api_sock) {
    push(a, "--api-sock");
    push(a, l->api_sock);
  }
  if (l->verbose)
    push(a, "--verbose");
}

/* stdin /dev/null, stdout and stderr the output pipe, the ready pipe on
 * CHILD_READY_FD (dup2 clears close-on-exec; everything else of ours is
 * close-on-exec). */
static int file_actions(posix_spawn_file_actions_t *fa, int ready_w, int out_w) {
  int rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, out_w, 1);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, out_w, 2);
  if (rc == 0)
    rc = posix_spawn_file_actions_adddup2(fa, ready_w, CHILD_READY_FD);
  return rc;
}

/* Its own process group (a terminal's ^C reaches us, and we end the VM),
 * with what we catch back at its default. */
static int attributes(posix_spawnattr_t *at) {
  static const int defaults[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  return childattr_set(at, defaults, sizeof defaults / sizeof defaults[0]);
}

static int spawn(pid_t *pid, const struct vmm_launch *l, char *const envp[], int ready_w,
                 int out_w) {
  struct argv_buf a;
  build_argv(&a, l);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0)
    return -rc;
  rc = posix_spawnattr_init(&at);
  if (rc == 0) {
    rc = file_actions(&fa, ready_w, out_w);
    if (rc == 0)
      rc = attributes(&at);
    if (rc == 0)
      rc = posix_spawn(pid, l->vmm, &fa, &at, a.argv, envp);
    posix_spawnattr_destroy(&at);
  }
  posix_spawn_file_actions_destroy(&fa);
  return -rc;
}

static void close_pair(int fds[2]) {
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

int vmmproc_spawn(struct vmmproc *p, const struct vmm_launch *l, char *const envp[]) {
  memset(p, 0, sizeof *p);
  p->ready_fd = p->diag.fd = p->pidfd = -1;
  int ready[2] = {-1, -1}, out[2] = {-1, -1};
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    int err = -errno;
    close_pair(ready);
    close_pair(out);
    return err;
  }
  int rc = spawn(&p->pid, l, envp, ready[1], out[1]);
  close(ready[1]);
  close(out[1]);
  if (rc < 0) {
    close(ready[0]);
    close(out[0]);
    p->pid = 0;
    return rc;
  }
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  /* Without a pidfd (Linux < 5.3) an exit is still seen as end of file on
   * its pipes and socket; only vmmproc_wait_exit waits less precisely. */
  p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
  p->ready_fd = ready[0];
  p->diag.fd = out[0];
  p->diag.forward = l->verbose;
  return 0;
}

int vmmproc_wait_ready(struct vmmproc *p, struct waiter *w) {
  char buf[sizeof READY_LINE];
  size_t have = 0;
  while (have < sizeof READY_LINE - 1) {
    int rc = waiter_wait(w, p->ready_fd, POLLIN);
    if (rc < 0)
      return rc;
    ssize_t n = read(p->ready_fd, buf + have, sizeof READY_LINE - 1 - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) /* closed without a word: the VMM is ending */
      return -ECHILD;
    have += (size_t)n;
  }
  close(p->ready_fd);
  p->ready_fd = -1;
  return memcmp(buf, READY_LINE, sizeof READY_LINE - 1) == 0 ? 0 : -EPROTO;
}

int vmmproc_wait_exit(struct vmmproc *p, struct waiter *w, double max_s) {
  if (p->pid <= 0 || p->reaped)
    return 0;
  double saved = w->deadline_ms, until = waiter_now_ms() + max_s * 1e3;
  if (saved <= 0 || until < saved)
    w->deadline_ms = until;
  int rc = waiter_wait(w, p->pidfd, POLLIN);
  w->deadline_ms = saved;
  if (rc < 0)
    return rc;
  vmmproc_reap(p);
  return 0;
}

void vmmproc_reap(struct vmmproc *p) {
  if (p->pid > 0 && !p->reaped) {
    while (waitpid(p->pid, &p->wait_status, 0) < 0 && errno == EINTR)
      ;
    p->reaped = true;
  }
  diag_drain_all(&p->diag);
}

void vmmproc_kill(struct vmmproc *p) {
  if (p->pid > 0 && !p->reaped)
    kill(p->pid, SIGKILL); /* not reaped: the pid is still ours */
  vmmproc_reap(p);
  if (p->ready_fd >= 0)
    close(p->ready_fd);
  if (p->pidfd >= 0)
    close(p->pidfd);
  p->ready_fd = p->pidfd = -1;
}

int vmmproc_exit_code(const struct vmmproc *p) {
  if (!p->reaped)
    return -1;
  if (WIFEXITED(p->wait_status))
    return WEXITSTATUS(p->wait_status);
  if (WIFSIGNALED(p->wait_status))
    return 128 + WTERMSIG(p->wait_status);
  return -1;
}
