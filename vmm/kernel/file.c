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
