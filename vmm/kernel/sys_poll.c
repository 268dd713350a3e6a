/* sys_poll.c - poll and ppoll. Readiness comes from each description's
 * poll op (none: always ready, as Linux's regular files). When nothing is
 * ready the vCPU thread sleeps in the host on the host fds the descriptions
 * name (file_host_watch: stdio, vsock sockets, epolls holding them), with
 * the timeout; the others (pipes, files in memory) can only change by the
 * guest's own hand, which is stopped while it waits, so they need no
 * watching. The sleep ends early, with -EINTR, when the VM is being stopped
 * (fs/wait.h). ppoll's signal mask: kernel/wait_sigmask.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/wait.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/syscalls.h"
#include "kernel/timespec.h"
#include "kernel/wait_sigmask.h"
#include "mem/uaccess.h"
#include "vm.h"

/* struct pollfd is the same on the host and the guest (x86-64 Linux). */
_Static_assert(sizeof(struct pollfd) == 8, "struct pollfd is x86-64 Linux's");

/* The host fds one wait sleeps on. */
struct host_set {
  struct pollfd *fds;
  size_t cap;
};

#define POLL_ALWAYS_READY (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

static short revents_of(struct vm *vm, const struct pollfd *p) {
  if (p->fd < 0)
    return 0;
  struct file *f = fdtable_get(&vm->fds, p->fd);
  if (!f || (f->flags & O_PATH))
    return POLLNVAL;
  short ready = f->ops->poll ? f->ops->poll(f, p->events) : POLL_ALWAYS_READY;
  return ready & (p->events | POLLERR | POLLHUP);
}

/* Sets every revents; returns how many are non-zero. */
static int scan(struct vm *vm, struct pollfd *fds, nfds_t n) {
  int count = 0;
  for (nfds_t i = 0; i < n; i++) {
    fds[i].revents = revents_of(vm, &fds[i]);
    count += fds[i].revents != 0;
  }
  return count;
}

/* The host fds to sleep on for fds, into *host (grown as needed, capped
 * at FILE_WATCH_MAX per guest fd). Returns how many, or -ENOMEM. */
static long host_watch(struct vm *vm, const struct pollfd *fds, nfds_t n, struct host_set *hs) {
  size_t nh = 0;
  for (nfds_t i = 0; i < n; i++) {
    struct file *f = fds[i].fd >= 0 ? fdtable_get(&vm->fds, fds[i].fd) : NULL;
    if (!f)
      continue;
    if (hs->cap - nh < FILE_WATCH_MAX) {
      size_t cap = hs->cap * 2 + FILE_WATCH_MAX;
      struct pollfd *p = realloc(hs->fds, cap * sizeof *p);
      if (!p)
        return -ENOMEM;
      hs->fds = p;
      hs->cap = cap;
    }
    nh += (size_t)file_host_watch(f, fds[i].events, hs->fds + nh, FILE_WATCH_MAX);
  }
  return (long)nh;
}

/* Linux's ppoll ends with -EINTR once nothing is ready and a signal its
 * mask lets through is pending; one that would only be ignored restarts the
 * call unseen (-ERESTARTNOHAND), so it is thrown away and the wait goes on. */
static long signals_end_wait(struct vm *vm) {
  uint64_t sigs = wait_sigmask_ready(vm);
  uint64_t acting = wait_sigmask_acting(vm, sigs);
  wait_sigmask_discard(vm, sigs & ~acting);
  return acting ? -EINTR : 0;
}

/* Waits until something in fds is ready or the deadline (NULL: none)
 * passes; once when `once`. Returns the ready count, 0 on timeout, -EINTR
 * when stopping or for a signal the mask in force lets through. */
static long poll_wait(struct vm *vm, struct pollfd *fds, nfds_t n, struct host_set *host,
                      const struct timespec *deadline, bool once) {
  for (;;) {
    int count = scan(vm, fds, n);
    if (count > 0)
      return count;
    long r = signals_end_wait(vm);
    if (r < 0 || once)
      return r;
    if (vm->vcpu_wanted || vm->stop != VM_RUNNING)
      return -EINTR;
    struct timespec now, left;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (deadline && ts_is_zero(left = ts_until(*deadline, now)))
      return 0;
    long nh = host_watch(vm, fds, n, host);
    if (nh < 0)
      return nh;
    r = fs_wait(host->fds, (nfds_t)nh, deadline ? &left : NULL, &vm->vcpu_wanted);
    if (r < 0)
      return r;
  }
}

/* timeout NULL: wait for ever. *left gets the time not slept. */
static long do_poll(struct vm *vm, uint64_t gva, uint64_t nfds, const struct timespec *timeout,
                    struct timespec *left) {
  if (nfds > (uint64_t)vm->fds.limit)
    return -EINVAL;
  size_t bytes = nfds * sizeof(struct pollfd);
  struct pollfd *fds = malloc(bytes ? bytes : 1);
  struct host_set host = {0};
  if (!fds)
    return -ENOMEM;
  long r = uaccess_copy_from(&vm->mem, fds, gva, bytes);
  struct timespec start, deadline;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (timeout)
    deadline = ts_add(start, *timeout);
  if (r == 0)
    r = poll_wait(vm, fds, nfds, &host, timeout ? &deadline : NULL,
                  timeout && ts_is_zero(*timeout));
  if (r >= 0 && uaccess_copy_to(&vm->mem, gva, fds, bytes) < 0)
    r = -EFAULT;
  if (timeout) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    *left = ts_until(deadline, now);
  }
  free(fds);
  free(host.fds);
  return r;
}

long sys_poll(struct vm *vm, const uint64_t *a) {
  int ms = (int)a[2];
  struct timespec timeout = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000}, left;
  return do_poll(vm, a[0], (uint32_t)a[1], ms < 0 ? NULL : &timeout, &left);
}

long sys_ppoll(struct vm *vm, const uint64_t *a) {
  struct guest_timespec gts;
  struct timespec timeout, left;
  if (a[2]) {
    if (uaccess_copy_from(&vm->mem, &gts, a[2], sizeof gts) < 0)
      return -EFAULT;
    if (!ts_valid(&gts))
      return -EINVAL;
    timeout = ts_from_guest(&gts);
  }
  struct wait_sigmask mask;
  long r = wait_sigmask_get(vm, a[3], a[4], &mask);
  if (r < 0)
    return r;
  wait_sigmask_begin(vm, &mask);
  r = do_poll(vm, a[0], (uint32_t)a[1], a[2] ? &timeout : NULL, &left);
  wait_sigmask_end(vm, &mask, r);
  if (a[2] && r != -EFAULT) { /* Linux reports the time left; a read-only timespec is fine */
    gts = ts_to_guest(left);
    uaccess_copy_to(&vm->mem, a[2], &gts, sizeof gts);
  }
  return r;
}
