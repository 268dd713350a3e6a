/* epoll.h - epoll instances: a kind of open file holding interest items,
 * each an open file description registered under a descriptor number, with
 * its event mask and the caller's 64-bit data.
 *
 * Linux's semantics as far as one single-threaded guest can observe them:
 * - level-triggered by default: an item is reported while its file's poll
 *   op says it is ready for what the item asks (EPOLLERR and EPOLLHUP are
 *   always asked); EPOLLPRI and EPOLLRDHUP pass through when the file
 *   reports them;
 * - EPOLLET reports only readiness not seen at the item's last look (each
 *   report and each wait that finds the item idle is a look). Linux reports
 *   every wake-up of the file instead, so data arriving before the program
 *   has drained what it had is reported there and not here: edge-triggered
 *   programs must read until EAGAIN on both. A wait sleeps through the
 *   readiness an item has already reported (its host fds are not watched
 *   for it), so undrained data never makes a wait spin;
 * - EPOLLONESHOT disables an item after one report, until EPOLL_CTL_MOD;
 * - EPOLLEXCLUSIVE is accepted at ADD (one thread: nothing to wake alone);
 *   EPOLLWAKEUP is dropped, as for a caller without CAP_BLOCK_SUSPEND;
 * - an item is keyed by its fd and description, and lives as long as the
 *   description: it holds no reference, and the description's end (its
 *   last descriptor closed, dup2'd over or closed on exec, and no mapping
 *   left) removes it at once from every instance (a file_observer per
 *   item: O(items of that file)). So closing a registered pipe end lets
 *   the other end see no reader right away, and an item whose fd was
 *   closed while a dup lives on is still reported, as on Linux;
 * - nesting: an epoll may hold epolls that hold none, and an epoll held by
 *   another cannot take epolls, so there are no loops and waits never
 *   recurse more than once; anything deeper is -ELOOP, Linux's answer past
 *   its own depth limit (5).
 * Items are capped per VM (EPOLL_MAX_WATCHES, -ENOSPC: Linux's
 * max_user_watches). Nothing here blocks: the system calls (kernel/
 * sys_epoll.c) sleep on epoll_host_watch's fds. */
#ifndef HEARTH_VMM_FS_EPOLL_H
#define HEARTH_VMM_FS_EPOLL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file;

/* Interest items of all instances together. hearth-vmm runs one VM per
 * process, so the count is the VM's. */
#define EPOLL_MAX_WATCHES 65536

/* What epoll_ctl registers and epoll_wait reports (host form). */
struct epoll_item_event {
  uint32_t events;
  uint64_t data;
};

/* A new epoll description (O_RDWR). 0 or -ENOMEM. */
int epoll_new(struct file **out);

bool file_is_epoll(const struct file *f);

/* epoll_ctl(2) once both descriptors are looked up: `ep` is epfd's
 * description, `target` fd's; ev is NULL for EPOLL_CTL_DEL. Checks come in
 * Linux's order: -EPERM (target cannot be polled: regular files,
 * directories), -EINVAL (ep is no epoll, target is ep, EPOLLEXCLUSIVE
 * misused, unknown op), -ELOOP (nesting), -EEXIST, -ENOENT, -ENOSPC,
 * -ENOMEM. */
int epoll_ctl_file(struct file *ep, int op, int fd, struct file *target,
                   const struct epoll_item_event *ev);

/* Receives one reported event; a negative return stops the report and
 * leaves that item's state as it was (nothing was delivered). */
typedef int epoll_emit_fn(void *ctx, const struct epoll_item_event *ev);

/* Reports up to max ready items through emit, starting after the item
 * reported last (so a small max does not starve later items), and updates
 * edge-triggered and one-shot state for each one emitted. Returns how many
 * were emitted, or emit's error when it failed on the first. */
int epoll_report(struct file *ep, int max, epoll_emit_fn *emit, void *ctx);

/* The host fds whose readiness can make an item of ep ready, merged per fd,
 * into *fds (grown as needed; *cap its size). Returns how many, or -ENOMEM. */
long epoll_host_watch(struct file *ep, struct pollfd **fds, size_t *cap);

/* Items of ep. */
size_t epoll_item_count(struct file *ep);

/* --- snapshots --- */

/* One interest item as a snapshot holds it; file is borrowed. */
struct epoll_item_state {
  int fd;
  struct file *file;
  uint32_t events; /* as stored: EPOLLERR|EPOLLHUP added, one-shot state */
  uint64_t data;
};
/* Item i (< epoll_item_count) of ep. */
void epoll_item_get(struct file *ep, size_t i, struct epoll_item_state *out);
/* Adds a saved item back as it was (its events exactly, a disabled
 * one-shot item included), checked as EPOLL_CTL_ADD checks: -EPERM,
 * -EINVAL, -ELOOP, -EEXIST, -ENOSPC, -ENOMEM. */
int epoll_item_restore(struct file *ep, const struct epoll_item_state *it);

#endif
