/* vnode.c - refcounted namespace positions with parent links (see vnode.h). */
#include "vnode.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int vnode_init(struct vnode *vn, const struct vnode_ops *ops, mode_t type, enum vfs_fs_id fs,
               struct vnode *parent, const char *name) {
  vn->name = strdup(name);
  if (!vn->name)
    return -ENOMEM;
  vn->refs = 1;
  vn->ops = ops;
  vn->type = type & S_IFMT;
  vn->fs = fs;
  vn->parent = parent ? vnode_ref(parent) : NULL;
  return 0;
}

struct vnode *vnode_ref(struct vnode *vn) {
  vn->refs++;
  return vn;
}

void vnode_unref(struct vnode *vn) {
  while (vn && --vn->refs == 0) {
    struct vnode *parent = vn->parent;
    free(vn->name);
    vn->ops->release(vn);
    vn = parent;
  }
}

int vnode_move(struct vnode *vn, struct vnode *parent, const char *name) {
  if (name) {
    char *copy = strdup(name);
    if (!copy)
      return -ENOMEM;
    free(vn->name);
    vn->name = copy;
  }
  struct vnode *old = vn->parent;
  vn->parent = parent ? vnode_ref(parent) : NULL;
  vnode_unref(old);
  return 0;
}

/* Bytes of the path from the root to vn ("/a/b"), or -ENOENT when the
 * parent chain ends somewhere other than the root. */
static long vnode_path_len(const struct vnode *vn) {
  long len = 0;
  for (; !vnode_is_root(vn); vn = vn->parent) {
    if (!vn->parent)
      return -ENOENT;
    len += 1 + (long)strlen(vn->name);
  }
  return len;
}

char *vnode_path(const struct vnode *vn, int *err) {
  long len = vnode_path_len(vn);
  if (len < 0 || len >= PATH_MAX) {
    *err = len < 0 ? (int)len : -ENAMETOOLONG;
    return NULL;
  }
  char *path = malloc((size_t)len + 2);
  if (!path) {
    *err = -ENOMEM;
    return NULL;
  }
  /* Fill from the end: each component is preceded by its slash. */
  size_t end = (size_t)len;
  path[end] = '\0';
  for (; !vnode_is_root(vn); vn = vn->parent) {
    size_t n = strlen(vn->name);
    end -= n;
    memcpy(path + end, vn->name, n);
    path[--end] = '/';
  }
  if (len == 0)
    strcpy(path, "/");
  return path;
}

const char *vnode_path_cached(const struct vnode *vn, char **cache) {
  int err;
  free(*cache);
  *cache = vnode_path(vn, &err);
  return *cache;
}
