/* vfs_link.c - making links: symlinkat, which only the in-memory mounts
 * (/tmp, /code) accept, and linkat, which every path check of Linux's
 * passes through before answering -EPERM: hearth's filesystems have no hard
 * links (a tmpfs node is its one directory entry, and the image tree is
 * read-only), as on a Linux filesystem without a link operation. */
#include <errno.h>
#include <fcntl.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "vfs_impl.h"
#include "walk.h"

/* Resolves where a new name would go: the parent of path's last component,
 * that component not followed (it may exist, be missing or be a link). */
static int resolve_new(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                       struct walk_result *w) {
  if (!path[0])
    return -ENOENT;
  struct vnode *start;
  int r = vfs_start(v, fds, dirfd, path, &start);
  if (r < 0)
    return r;
  r = walk_path(v, start, path, WALK_CREATE, w);
  vnode_unref(start);
  return r;
}

/* Linux's filename_create() checks for a name about to be made: "." ".."
 * or "/" and existing names are -EEXIST; a missing name with a trailing
 * slash asks for a directory: -ENOENT. */
static int check_new_name(const struct walk_result *w) {
  if (w->last != WALK_LAST_NAME || w->node || w->desc)
    return -EEXIST;
  return w->trailing_slash ? -ENOENT : 0;
}

int vfs_symlinkat(struct vfs *v, const struct fdtable *fds, const char *target, int dirfd,
                  const char *path) {
  if (!target[0])
    return -ENOENT;
  struct walk_result w;
  int r = resolve_new(v, fds, dirfd, path, &w);
  if (r < 0)
    return r;
  r = check_new_name(&w);
  if (r == 0)
    r = w.parent->ops->symlink ? w.parent->ops->symlink(w.parent, w.name, target) : -EROFS;
  walk_result_fini(&w);
  return r;
}

/* The existing side of linkat: the node path names (a symlink itself
 * unless AT_SYMLINK_FOLLOW), or dirfd's own with AT_EMPTY_PATH. A new
 * reference in *out; a description with no place in the namespace (a pipe
 * reached through /proc/self/fd) lives on another filesystem: -EXDEV. */
static int resolve_old(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                       int flags, struct vnode **out) {
  if (!path[0]) {
    if (!(flags & AT_EMPTY_PATH))
      return -ENOENT;
    struct file *f = dirfd == AT_FDCWD ? NULL : fds ? fdtable_get(fds, dirfd) : NULL;
    struct vnode *vn = dirfd == AT_FDCWD ? v->cwd : f ? vfs_file_vnode(f) : NULL;
    if (dirfd != AT_FDCWD && !f)
      return -EBADF;
    if (!vn)
      return -EXDEV;
    *out = vnode_ref(vn);
    return 0;
  }
  struct vnode *start;
  struct walk_result w;
  int r = vfs_start(v, fds, dirfd, path, &start);
  if (r < 0)
    return r;
  r = walk_path(v, start, path, (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0, &w);
  vnode_unref(start);
  if (r < 0)
    return r;
  r = w.node ? 0 : w.desc ? -EXDEV : -ENOENT;
  if (r == 0)
    *out = vnode_ref(w.node);
  walk_result_fini(&w);
  return r;
}

int vfs_linkat(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
               int newdirfd, const char *newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
    return -EINVAL;
  struct vnode *old;
  int r = resolve_old(v, fds, olddirfd, oldpath, flags, &old);
  if (r < 0)
    return r;
  struct walk_result w;
  r = resolve_new(v, fds, newdirfd, newpath, &w);
  if (r == 0) {
    r = check_new_name(&w);
    if (r == 0 && !w.parent->ops->create)
      r = -EROFS; /* a read-only mount, reported after the name checks */
    if (r == 0 && !vfs_same_mount(old, w.parent))
      r = -EXDEV;
    if (r == 0)
      r = -EPERM; /* no filesystem here links: see the header comment */
    walk_result_fini(&w);
  }
  vnode_unref(old);
  return r;
}
