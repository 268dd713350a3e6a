/* vmmproc.h - the hearth-vmm process of one `hearth run`: spawned directly
 * (posix_spawn, no shell) in its own process group with a pipe for
 * --ready-fd and one for its output, then waited for, killed and reaped. */
#ifndef HEARTH_CLI_VMMPROC_H
#define HEARTH_CLI_VMMPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "diag.h"
#include "waiter.h"

struct vmm_launch {
  const char *vmm; /* hearth-vmm's path */
  const char *image, *trust, *state_dir;
  const char *vsock_uds;
  unsigned mem_mib;
  double timeout_s;        /* hearth-vmm's own --timeout: a backstop */
  const char *guest_pages; /* NULL: hearth-vmm's default */
  bool verbose;            /* hearth-vmm --verbose */
  const char *api_sock;    /* --api-sock PATH, or NULL */
  const char *restore_dir; /* --restore DIR (the image flags are then not given), or NULL */
};

struct vmmproc {
  pid_t pid; /* 0 when none */
  int pidfd; /* readable once it has exited */
  int ready_fd;
  struct diag diag;
  bool reaped;
  int wait_status; /* valid once reaped */
};

/* Starts hearth-vmm. Its stdin is /dev/null, its stdout and stderr go to
 * p->diag. Returns 0 or -errno (p then holds nothing). */
int vmmproc_spawn(struct vmmproc *p, const struct vmm_launch *l, char *const envp[]);

/* Waits for "ready\n" on the ready pipe. 0 when ready; -ECHILD when the
 * pipe closed first (the VMM is ending: vmmproc_wait_exit); -ETIMEDOUT or
 * -EINTR from the waiter; -EPROTO when it wrote something else. */
int vmmproc_wait_ready(struct vmmproc *p, struct waiter *w);

/* Waits up to max_s (and no longer than the waiter allows) for the VMM to
 * exit on its own, then reaps it: 0, or the waiter's -ETIMEDOUT / -EINTR
 * with the VMM still running. */
int vmmproc_wait_exit(struct vmmproc *p, struct waiter *w, double max_s);

/* Reaps the VMM, which must be exiting (its end of a pipe or socket is
 * closed), and reads the rest of its output. */
void vmmproc_reap(struct vmmproc *p);

/* SIGKILL unless reaped, reap, close everything. Safe to call again. */
void vmmproc_kill(struct vmmproc *p);

/* How it ended, the way exit statuses go: its exit status, or 128+N when
 * signal N killed it. -1 when not reaped. */
int vmmproc_exit_code(const struct vmmproc *p);

#endif
