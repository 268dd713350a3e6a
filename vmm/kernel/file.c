/* file.c - open file descriptions: allocation and reference counting (see
 * file.h). The kinds of file live with their filesystems in vmm/fs. */
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

void file_unref(struct file *f) {
  if (!f || --f->refs > 0)
    return;
  if (f->ops->release)
    f->ops->release(f); /* frees priv */
  free(f);
}
