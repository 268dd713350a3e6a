/* vfs_meta.c - questions about names: fstatat, faccessat, readlinkat. An
 * empty path with AT_EMPTY_PATH asks about the descriptor dirfd itself
 * (glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH)). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "vfs_impl.h"
#include "walk.h"

/* Resolves path from dirfd; the result holds node or desc. */
static int resolve(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                   bool follow, struct walk_result *w) {
  struct vnode *start;
  int r = vfs_start(v, fds, dirfd, path, &start);
  if (r < 0)
    return r;
  r = walk_path(v, start, path, follow ? WALK_FOLLOW : 0, w);
  vnode_unref(start);
  return r;
}

/* The description (or the working directory) dirfd names, for AT_EMPTY_PATH:
 * *f set, or *vn set to the working directory (borrowed). */
static int empty_path_target(struct vfs *v, const struct fdtable *fds, int dirfd, struct file **f,
                             struct vnode **vn) {
  *f = NULL;
  *vn = NULL;
  if (dirfd == AT_FDCWD) {
    *vn = v->cwd;
    return 0;
  }
  *f = fds ? fdtable_get(fds, dirfd) : NULL;
  return *f ? 0 : -EBADF;
}

static int stat_target(struct vnode *vn, struct file *f, struct stat *st) {
  if (vn)
    return vn->ops->stat(vn, st);
  return f->ops->fstat ? f->ops->fstat(f, st) : -EBADF;
}

int vfs_fstatat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                struct stat *st, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
    return -EINVAL;
  struct file *f;
  struct vnode *vn;
  if (!path[0]) {
    int r = (flags & AT_EMPTY_PATH) ? empty_path_target(v, fds, dirfd, &f, &vn) : -ENOENT;
    return r < 0 ? r : stat_target(vn, f, st);
  }
  struct walk_result w;
  int r = resolve(v, fds, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &w);
  if (r < 0)
    return r;
  r = w.node || w.desc ? stat_target(w.node, w.desc, st) : -ENOENT;
  walk_result_fini(&w);
  return r;
}

/* Descriptions with no vnode (pipes, stdio) are the guest's own: all
 * access is granted but execution. */
static int access_target(struct vnode *vn, int mode) {
  if (!vn)
    return mode & X_OK ? -EACCES : 0;
  if (mode == F_OK || !vn->ops->access)
    return 0;
  return vn->ops->access(vn, mode);
}

int vfs_faccessat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int mode,
                  int flags) {
  if (mode & ~(F_OK | R_OK | W_OK | X_OK))
    return -EINVAL;
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return -EINVAL;
  struct file *f;
  struct vnode *vn;
  if (!path[0]) {
    int r = (flags & AT_EMPTY_PATH) ? empty_path_target(v, fds, dirfd, &f, &vn) : -ENOENT;
    return r < 0 ? r : access_target(vn ? vn : vfs_file_vnode(f), mode);
  }
  struct walk_result w;
  int r = resolve(v, fds, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &w);
  if (r < 0)
    return r;
  r = w.node || w.desc ? access_target(w.node, mode) : -ENOENT;
  walk_result_fini(&w);
  return r;
}

static ssize_t readlink_node(struct vnode *vn, char *buf, size_t len) {
  if (!vn || !S_ISLNK(vn->type) || !vn->ops->readlink)
    return -EINVAL;
  return vn->ops->readlink(vn, buf, len);
}

ssize_t vfs_readlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                       char *buf, size_t len) {
  if (!path[0]) { /* the O_PATH|O_NOFOLLOW descriptor of a symlink itself */
    struct file *f;
    struct vnode *vn;
    int r = empty_path_target(v, fds, dirfd, &f, &vn);
    if (r < 0)
      return r;
    vn = vn ? vn : vfs_file_vnode(f);
    return vn && S_ISLNK(vn->type) ? readlink_node(vn, buf, len) : -ENOENT;
  }
  struct walk_result w;
  int r = resolve(v, fds, dirfd, path, false, &w);
  if (r < 0)
    return r;
  ssize_t n = readlink_node(w.node, buf, len);
  walk_result_fini(&w);
  return n;
}
