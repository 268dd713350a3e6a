/* file.c - open file descriptions: allocation, reference counting and
 * the observers told of their end (see file.h). The kinds of file live
 * with their filesystems in vmm/fs. */
#include "file.h"

#include <stdlib.h>

struct file *file_new(const struct file_ops *ops, int flags, void *priv) {
  struct file *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->refs = 1;
  f->ops = ops;
  f->flags = flags;
  f->priv = priv;
  return f;
}

int file_host_watch(struct file *f, short events, struct pollfd *out, int max) {
  if (max <= 0)
    return 0;
  if (f->ops->host_watch)
    return f->ops->host_watch(f, events, out, max);
  int fd = f->ops->host_fd ? f->ops->host_fd(f) : -1;
  if (fd < 0)
    return 0;
  out[0] = (struct pollfd){.fd = fd, .events = events};
  return 1;
}

struct file *file_ref(struct file *f) {
  f->refs++;
  return f;
}

void file_observe(struct file *f, struct file_observer *o) {
  o->prev = NULL;
  o->next = f->observers;
  if (o->next)
    o->next->prev = o;
  f->observers = o;
}

void file_unobserve(struct file *f, struct file_observer *o) {
  if (o->prev)
    o->prev->next = o->next;
  else
    f->observers = o->next;
  if (o->next)
    o->next->prev = o->prev;
  o->next = o->prev = NULL;
}

void file_unref(struct file *f) {
  if (!f || --f->refs > 0)
    return;
  /* Observers first: an epoll holding f (even an epoll f) lets go of it
   * while f is still whole. */
  while (f->observers) {
    struct file_observer *o = f->observers;
    file_unobserve(f, o);
    o->gone(o, f);
  }
  if (f->ops->release)
    f->ops->release(f); /* frees priv */
  free(f);
}
