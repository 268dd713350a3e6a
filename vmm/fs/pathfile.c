/* pathfile.c - O_PATH descriptions: a place in the namespace and nothing
 * more. They serve fstat, *at() directory descriptors, fchdir and
 * /proc/self/fd; read, write and the rest are -EBADF (the system call layer
 * checks O_PATH). Their vnode may be a symlink (O_PATH|O_NOFOLLOW). */
#include <errno.h>
#include <stdlib.h>

#include "kernel/file.h"
#include "pathfile.h"
#include "vnode.h"

struct path_open {
  struct vnode *vn;
  char *path;
};

static struct vnode *pf_vnode(struct file *f) { return ((struct path_open *)f->priv)->vn; }

static int pf_fstat(struct file *f, struct stat *st) {
  struct vnode *vn = pf_vnode(f);
  return vn->ops->stat(vn, st);
}

static const char *pf_path(struct file *f) {
  struct path_open *p = f->priv;
  return vnode_path_cached(p->vn, &p->path);
}

static void pf_release(struct file *f) {
  struct path_open *p = f->priv;
  vnode_unref(p->vn);
  free(p->path);
  free(p);
}

static const struct file_ops path_ops = {
    .fstat = pf_fstat,
    .path = pf_path,
    .vnode = pf_vnode,
    .release = pf_release,
};

int pathfile_open(struct vnode *vn, int flags, struct file **out) {
  struct path_open *p = calloc(1, sizeof *p);
  struct file *f = p ? file_new(&path_ops, flags, p) : NULL;
  if (!f) {
    free(p);
    return -ENOMEM;
  }
  p->vn = vnode_ref(vn);
  *out = f;
  return 0;
}
