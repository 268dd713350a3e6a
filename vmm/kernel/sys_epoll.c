/* sys_epoll.c - epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait and epoll_pwait2: arguments copied in and checked in Linux's
 * order, the instances themselves in fs/epoll.h. A wait that finds nothing
 * sleeps in the host on the items' host fds (fs/wait.h) until one may be
 * ready, the timeout passes, or the VM is being stopped (-EINTR); items
 * that only the guest can make ready (pipes) need no watching, since the
 * guest is stopped while it waits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "fs/epoll.h"
#include "fs/wait.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/syscalls.h"
#include "kernel/timespec.h"
#include "kernel/wait_sigmask.h"
#include "mem/uaccess.h"
#include "vm.h"

/* struct epoll_event as x86-64 Linux lays it out: packed, 12 bytes. */
struct guest_epoll_event {
  uint32_t events;
  uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct guest_epoll_event) == 12, "x86-64 Linux's struct epoll_event");

/* Linux's EP_MAX_EVENTS: maxevents beyond it is -EINVAL. */
#define EP_MAX_EVENTS ((int)(INT_MAX / sizeof(struct guest_epoll_event)))

/* A descriptor argument's description; O_PATH ones are -EBADF here. */
static struct file *get_file(struct vm *vm, uint64_t fd) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)fd);
  return f && !(f->flags & O_PATH) ? f : NULL;
}

static long create(struct vm *vm, bool cloexec) {
  struct file *f;
  long r = epoll_new(&f);
  if (r < 0)
    return r;
  r = fdtable_install(&vm->fds, f, cloexec, 0);
  if (r < 0)
    file_unref(f);
  return r;
}

long sys_epoll_create(struct vm *vm, const uint64_t *a) {
  return (int)a[0] <= 0 ? -EINVAL : create(vm, false);
}

long sys_epoll_create1(struct vm *vm, const uint64_t *a) {
  int flags = (int)a[0];
  return (flags & ~EPOLL_CLOEXEC) ? -EINVAL : create(vm, flags & EPOLL_CLOEXEC);
}

long sys_epoll_ctl(struct vm *vm, const uint64_t *a) {
  int op = (int)a[1], fd = (int)a[2];
  struct guest_epoll_event gev;
  struct epoll_item_event ev = {0};
  if (op != EPOLL_CTL_DEL) {
    if (uaccess_copy_from(&vm->mem, &gev, a[3], sizeof gev) < 0)
      return -EFAULT;
    ev = (struct epoll_item_event){.events = gev.events, .data = gev.data};
  }
  struct file *ep = get_file(vm, a[0]);
  struct file *target = get_file(vm, a[2]);
  if (!ep || !target)
    return -EBADF;
  return epoll_ctl_file(ep, op, fd, target, op != EPOLL_CTL_DEL ? &ev : NULL);
}

/* Where reported events go: the guest's array, one slot after another. */
struct guest_events {
  struct vm *vm;
  uint64_t gva;
  int used;
};

static int emit_to_guest(void *ctx, const struct epoll_item_event *ev) {
  struct guest_events *g = ctx;
  struct guest_epoll_event out = {.events = ev->events, .data = ev->data};
  uint64_t at = g->gva + (uint64_t)g->used * sizeof out;
  if (uaccess_copy_to(&g->vm->mem, at, &out, sizeof out) < 0)
    return -EFAULT;
  g->used++;
  return 0;
}

static bool stopping(const struct vm *vm) { return vm->vcpu_wanted || vm->stop != VM_RUNNING; }

/* Sleeps until an item of ep may be ready, the deadline (NULL: none)
 * passes, or the VM stops (-EINTR). 0 to look again, 1 when timed out. */
static long sleep_on_items(struct vm *vm, struct file *ep, const struct timespec *deadline,
                           struct pollfd **fds, size_t *cap) {
  struct timespec now, left;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (deadline && ts_is_zero(left = ts_until(*deadline, now)))
    return 1;
  long n = epoll_host_watch(ep, fds, cap);
  if (n < 0)
    return n;
  int r = fs_wait(*fds, (nfds_t)n, deadline ? &left : NULL, &vm->vcpu_wanted);
  return r < 0 ? r : 0;
}

/* Linux's ep_poll: report what is ready; else 0 for a zero timeout, else
 * -EINTR for a signal the mask in force lets through (delivered as the
 * call returns, even one that is then ignored: epoll waits are not
 * restarted), else sleep and look again. timeout NULL: no limit. */
static long wait_loop(struct vm *vm, struct file *ep, uint64_t events, int maxevents,
                      const struct timespec *timeout) {
  struct timespec deadline;
  if (timeout) {
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline = ts_add(deadline, *timeout);
  }
  struct pollfd *fds = NULL;
  size_t cap = 0;
  long r;
  for (;;) {
    struct guest_events g = {.vm = vm, .gva = events};
    if ((r = epoll_report(ep, maxevents, emit_to_guest, &g)) != 0)
      break;
    if (timeout && ts_is_zero(*timeout))
      break;
    if (wait_sigmask_ready(vm) || stopping(vm)) {
      r = -EINTR;
      break;
    }
    if ((r = sleep_on_items(vm, ep, timeout ? &deadline : NULL, &fds, &cap)) != 0) {
      r = r > 0 ? 0 : r;
      break;
    }
  }
  free(fds);
  return r;
}

static long do_epoll_wait(struct vm *vm, const uint64_t *a, const struct timespec *timeout,
                          const struct wait_sigmask *mask) {
  int maxevents = (int)a[2];
  if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
    return -EINVAL;
  struct file *ep = get_file(vm, a[0]);
  if (!ep)
    return -EBADF;
  if (!file_is_epoll(ep))
    return -EINVAL;
  wait_sigmask_begin(vm, mask);
  long r = wait_loop(vm, ep, a[1], maxevents, timeout);
  wait_sigmask_end(vm, mask, r);
  return r;
}

/* A timeout in milliseconds: negative waits for ever. */
static const struct timespec *ms_timeout(int ms, struct timespec *ts) {
  if (ms < 0)
    return NULL;
  *ts = (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
  return ts;
}

long sys_epoll_wait(struct vm *vm, const uint64_t *a) {
  struct timespec ts;
  struct wait_sigmask none = {0};
  return do_epoll_wait(vm, a, ms_timeout((int)a[3], &ts), &none);
}

long sys_epoll_pwait(struct vm *vm, const uint64_t *a) {
  struct timespec ts;
  struct wait_sigmask mask;
  long r = wait_sigmask_get(vm, a[4], a[5], &mask);
  return r < 0 ? r : do_epoll_wait(vm, a, ms_timeout((int)a[3], &ts), &mask);
}

/* The timeout is a struct timespec (NULL: none), read before the mask. */
long sys_epoll_pwait2(struct vm *vm, const uint64_t *a) {
  struct guest_timespec gts;
  struct timespec ts;
  if (a[3]) {
    if (uaccess_copy_from(&vm->mem, &gts, a[3], sizeof gts) < 0)
      return -EFAULT;
    if (!ts_valid(&gts))
      return -EINVAL;
    ts = ts_from_guest(&gts);
  }
  struct wait_sigmask mask;
  long r = wait_sigmask_get(vm, a[4], a[5], &mask);
  return r < 0 ? r : do_epoll_wait(vm, a, a[3] ? &ts : NULL, &mask);
}
