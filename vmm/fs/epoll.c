/* epoll.c - epoll instances (see epoll.h): the interest items, their
 * readiness, edge-triggered and one-shot state, and the epoll description's
 * own ops, so that poll() on an epoll fd and an epoll inside an epoll work. */
#include "epoll.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kernel/file.h"
#include "kernel/proc.h"

/* Flags that steer an item rather than ask for readiness (Linux's
 * EP_PRIVATE_BITS): a one-shot item keeps only these once reported. */
#define EP_PRIVATE_BITS ((uint32_t)(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE))
/* What may come with EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EP_EXCLUSIVE_OK                                                                            \
  ((uint32_t)(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE))
/* The poll(2) part of a mask: what a file's poll op is asked and answers. */
#define EP_POLL_BITS 0xffffu

/* Linux's anonymous-inode files share one inode on one anonymous device. */
#define EPOLL_DEV makedev(0, 0xfffb0)
#define EPOLL_INO 1

/* One interest item. It names its description without a reference: the
 * description's end removes it (file_observer), as Linux's do. */
struct ep_item {
  struct file_observer watch; /* first: the observer is the item */
  struct epoll *ep;
  size_t index; /* in ep->items */
  int fd;
  struct file *file;
  uint32_t events;
  uint64_t data;
  uint16_t seen; /* EPOLLET: the readiness found at the last look */
};

struct epoll {
  struct ep_item **items;
  size_t n, cap;
  size_t next;      /* the item the next report starts at */
  unsigned held_by; /* items of other epolls that are this one */
  unsigned holds;   /* items of this one that are epolls */
};

/* Items of all instances (one VM per process), against EPOLL_MAX_WATCHES. */
static size_t epoll_watches;

static const struct file_ops epoll_ops;

static struct epoll *ep_of(struct file *f) { return f->priv; }

bool file_is_epoll(const struct file *f) { return f->ops == &epoll_ops; }

/* Takes `it` out of its instance and frees it; f's observer list is the
 * caller's business. Its slot gets the last item (order is not kept:
 * reports rotate anyway). */
static void item_free(struct ep_item *it) {
  struct epoll *ep = it->ep;
  struct ep_item *last = ep->items[--ep->n];
  ep->items[it->index] = last;
  last->index = it->index;
  epoll_watches--;
  if (file_is_epoll(it->file)) {
    ep_of(it->file)->held_by--;
    ep->holds--;
  }
  free(it);
}

static void item_remove(struct ep_item *it) {
  file_unobserve(it->file, &it->watch);
  item_free(it);
}

/* The description's last reference went (already unlinked: file.h). */
static void item_gone(struct file_observer *o, struct file *f) {
  (void)f;
  item_free((struct ep_item *)o);
}

static bool item_disabled(const struct ep_item *it) { return !(it->events & ~EP_PRIVATE_BITS); }

/* The item's file's readiness for what the item asks (0 when disabled). */
static uint16_t item_ready(const struct ep_item *it) {
  if (item_disabled(it))
    return 0;
  uint32_t want = (it->events | EPOLLERR | EPOLLHUP) & EP_POLL_BITS;
  short got = it->file->ops->poll(it->file, (short)want);
  return (uint16_t)((uint16_t)got & want);
}

/* Whether a report would include the item, given its readiness now. */
static bool item_pending(const struct ep_item *it, uint16_t ready) {
  if (!ready)
    return false;
  return !(it->events & EPOLLET) || (ready & ~it->seen);
}

static struct ep_item *item_find(struct epoll *ep, int fd, struct file *f) {
  for (size_t i = 0; i < ep->n; i++)
    if (ep->items[i]->fd == fd && ep->items[i]->file == f)
      return ep->items[i];
  return NULL;
}

static int item_insert(struct epoll *ep, int fd, struct file *f, uint32_t events, uint64_t data) {
  if (epoll_watches >= EPOLL_MAX_WATCHES)
    return -ENOSPC;
  if (ep->n == ep->cap) {
    size_t cap = ep->cap ? ep->cap * 2 : 8;
    struct ep_item **items = realloc(ep->items, cap * sizeof *items);
    if (!items)
      return -ENOMEM;
    ep->items = items;
    ep->cap = cap;
  }
  struct ep_item *it = malloc(sizeof *it);
  if (!it)
    return -ENOMEM;
  *it = (struct ep_item){.watch.gone = item_gone,
                         .ep = ep,
                         .index = ep->n,
                         .fd = fd,
                         .file = f,
                         .events = events,
                         .data = data};
  ep->items[ep->n++] = it;
  file_observe(f, &it->watch);
  epoll_watches++;
  if (file_is_epoll(f)) {
    ep_of(f)->held_by++;
    ep->holds++;
  }
  return 0;
}

/* One level of nesting: `inner` may go into `outer` when inner holds no
 * epolls and outer is held by none. This also rules out every loop. */
static bool nesting_allowed(struct epoll *outer, struct file *inner) {
  return ep_of(inner)->holds == 0 && outer->held_by == 0;
}

/* The EPOLLEXCLUSIVE rules: ADD only, never for an epoll, few events. */
static int check_exclusive(int op, uint32_t events, struct file *target) {
  if (!(events & EPOLLEXCLUSIVE))
    return 0;
  if (op == EPOLL_CTL_MOD)
    return -EINVAL;
  if (op == EPOLL_CTL_ADD && (file_is_epoll(target) || (events & ~EP_EXCLUSIVE_OK)))
    return -EINVAL;
  return 0;
}

static int ctl_modify(struct ep_item *it, uint32_t events, uint64_t data) {
  if (it->events & EPOLLEXCLUSIVE)
    return -EINVAL;
  it->events = events | EPOLLERR | EPOLLHUP;
  it->data = data;
  it->seen = 0; /* re-armed: what is ready now is reported, as Linux re-polls */
  return 0;
}

int epoll_ctl_file(struct file *epf, int op, int fd, struct file *target,
                   const struct epoll_item_event *ev) {
  if (op != EPOLL_CTL_DEL && !ev)
    return -EFAULT;
  if (!target->ops->poll)
    return -EPERM;
  if (epf == target || !file_is_epoll(epf))
    return -EINVAL;
  uint32_t events = op != EPOLL_CTL_DEL ? ev->events & ~(uint32_t)EPOLLWAKEUP : 0;
  int r = check_exclusive(op, events, target);
  if (r < 0)
    return r;
  struct epoll *ep = ep_of(epf);
  if (op == EPOLL_CTL_ADD && file_is_epoll(target) && !nesting_allowed(ep, target))
    return -ELOOP;
  struct ep_item *it = item_find(ep, fd, target);
  switch (op) {
  case EPOLL_CTL_ADD:
    return it ? -EEXIST : item_insert(ep, fd, target, events | EPOLLERR | EPOLLHUP, ev->data);
  case EPOLL_CTL_DEL:
    if (!it)
      return -ENOENT;
    item_remove(it);
    return 0;
  case EPOLL_CTL_MOD:
    return it ? ctl_modify(it, events, ev->data) : -ENOENT;
  }
  return -EINVAL;
}

/* Commits what a delivered report means for the item. */
static void item_reported(struct ep_item *it, uint16_t ready) {
  it->seen = ready;
  if (it->events & EPOLLONESHOT)
    it->events &= EP_PRIVATE_BITS;
}

int epoll_report(struct file *epf, int max, epoll_emit_fn *emit, void *ctx) {
  struct epoll *ep = ep_of(epf);
  size_t n = ep->n, start = n ? ep->next % n : 0;
  int count = 0;
  for (size_t k = 0; k < n && count < max; k++) {
    size_t i = (start + k) % n;
    struct ep_item *it = ep->items[i];
    uint16_t ready = item_ready(it);
    if (!item_pending(it, ready)) {
      it->seen = ready; /* a look: an edge later is new readiness */
      continue;
    }
    struct epoll_item_event ev = {.events = ready, .data = it->data};
    int r = emit(ctx, &ev);
    if (r < 0)
      return count ? count : r;
    item_reported(it, ready);
    ep->next = i + 1;
    count++;
  }
  return count;
}

static int by_fd(const void *a, const void *b) {
  int x = ((const struct pollfd *)a)->fd, y = ((const struct pollfd *)b)->fd;
  return (x > y) - (x < y);
}

/* Sorts fds by fd and merges duplicates; returns how many are left. */
static size_t merge_fds(struct pollfd *fds, size_t n) {
  if (n == 0)
    return 0;
  qsort(fds, n, sizeof *fds, by_fd);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (fds[i].fd == fds[out].fd)
      fds[out].events |= fds[i].events;
    else
      fds[++out] = fds[i];
  }
  return out + 1;
}

/* The events to sleep on for an item, or false to leave it out of the
 * sleep: a disabled item, and an edge-triggered one whose readiness was
 * seen at its last look, which only readiness beyond that can report. Its
 * file's host fds may stay ready meanwhile (data it has not read): asked
 * for those events, the sleep would end at once, again and again. ppoll
 * reports POLLERR and POLLHUP unasked, and an epoll's host fds are its own
 * items', so such an item with those seen, or an epoll, is left out. */
static bool item_watch(const struct ep_item *it, short *events) {
  if (item_disabled(it))
    return false;
  uint32_t want = it->events & EP_POLL_BITS;
  if (!(it->events & EPOLLET) || !it->seen) {
    *events = (short)want;
    return true;
  }
  if ((it->seen & (POLLERR | POLLHUP)) || file_is_epoll(it->file))
    return false;
  *events = (short)(want & ~(uint32_t)it->seen);
  return true;
}

long epoll_host_watch(struct file *epf, struct pollfd **fds, size_t *cap) {
  struct epoll *ep = ep_of(epf);
  size_t n = 0;
  for (size_t i = 0; i < ep->n; i++) {
    struct ep_item *it = ep->items[i];
    short want;
    if (!item_watch(it, &want))
      continue;
    if (*cap - n < FILE_WATCH_MAX) {
      size_t grown = *cap * 2 + FILE_WATCH_MAX;
      struct pollfd *p = realloc(*fds, grown * sizeof *p);
      if (!p)
        return -ENOMEM;
      *fds = p;
      *cap = grown;
    }
    n += (size_t)file_host_watch(it->file, want, *fds + n, FILE_WATCH_MAX);
  }
  return (long)merge_fds(*fds, n);
}

size_t epoll_item_count(struct file *epf) { return ep_of(epf)->n; }

/* Readable while a wait would report something; reading nothing changes. */
static short epoll_poll(struct file *f, short events) {
  struct epoll *ep = ep_of(f);
  for (size_t i = 0; i < ep->n; i++)
    if (item_pending(ep->items[i], item_ready(ep->items[i])))
      return POLLIN | POLLRDNORM;
  return 0;
}

/* The items' host fds, the first `max` of them when there are more (a
 * poll() on an epoll fd, or an epoll inside an epoll, then misses wake-ups
 * beyond FILE_WATCH_MAX host fds until its timeout). None unless
 * readability was asked: that is all epoll_poll answers, and a ready item's
 * fds would otherwise end every sleep for nothing. */
static int epoll_host_watch_op(struct file *f, short events, struct pollfd *out, int max) {
  if (!(events & (POLLIN | POLLRDNORM)))
    return 0;
  struct pollfd *all = NULL;
  size_t cap = 0;
  long n = epoll_host_watch(f, &all, &cap);
  if (n < 0)
    n = 0;
  if (n > max)
    n = max;
  if (n > 0)
    memcpy(out, all, (size_t)n * sizeof *out);
  free(all);
  return (int)n;
}

static int epoll_fstat(struct file *f, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_dev = EPOLL_DEV;
  st->st_ino = EPOLL_INO;
  st->st_mode = 0600; /* no file type bits, as Linux's anonymous inodes */
  st->st_nlink = 1;
  st->st_uid = PROC_GUEST_UID;
  st->st_gid = PROC_GUEST_GID;
  st->st_blksize = 4096;
  return 0;
}

static const char *epoll_path(struct file *f) { return "anon_inode:[eventpoll]"; }

static void epoll_release(struct file *f) {
  struct epoll *ep = ep_of(f);
  while (ep->n > 0)
    item_remove(ep->items[ep->n - 1]);
  free(ep->items);
  free(ep);
}

static const struct file_ops epoll_ops = {
    .fstat = epoll_fstat,
    .poll = epoll_poll,
    .host_watch = epoll_host_watch_op,
    .path = epoll_path,
    .release = epoll_release,
};

int epoll_new(struct file **out) {
  struct epoll *ep = calloc(1, sizeof *ep);
  struct file *f = ep ? file_new(&epoll_ops, O_RDWR, ep) : NULL;
  if (!f) {
    free(ep);
    return -ENOMEM;
  }
  *out = f;
  return 0;
}

void epoll_item_get(struct file *epf, size_t i, struct epoll_item_state *out) {
  struct ep_item *it = ep_of(epf)->items[i];
  *out = (struct epoll_item_state){
      .fd = it->fd, .file = it->file, .events = it->events, .data = it->data};
}

int epoll_item_restore(struct file *epf, const struct epoll_item_state *it) {
  struct epoll_item_event ev = {.events = it->events & ~(uint32_t)EPOLLEXCLUSIVE, .data = it->data};
  int r = epoll_ctl_file(epf, EPOLL_CTL_ADD, it->fd, it->file, &ev);
  if (r < 0)
    return r;
  /* ADD adds EPOLLERR|EPOLLHUP; a reported one-shot item had lost them. */
  item_find(ep_of(epf), it->fd, it->file)->events = it->events;
  return 0;
}
