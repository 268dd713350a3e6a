/* vfs_dirops.c - changes to directories: mkdirat, unlinkat (and rmdir),
 * renameat2. Only /tmp and /code can change; the checks come in Linux's
 * order, so a program sees the same errno it would on a read-only root with
 * two tmpfs mounted on /tmp and /code (rename between them is -EXDEV). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vfs_impl.h"
#include "walk.h"

/* Resolves the parent directory of path's last component (which need not
 * exist), without following a symlink there. */
static int resolve_parent(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
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

int vfs_mkdirat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                mode_t mode) {
  struct walk_result w;
  int r = resolve_parent(v, fds, dirfd, path, &w);
  if (r < 0)
    return r;
  if (w.last != WALK_LAST_NAME || w.node || w.desc)
    r = -EEXIST;
  else if (!w.parent->ops->mkdir)
    r = -EROFS;
  else
    r = w.parent->ops->mkdir(w.parent, w.name, mode & (07777 & ~S_ISUID & ~S_ISGID) & ~v->umask);
  walk_result_fini(&w);
  return r;
}

/* Errors for rmdir/unlink of ".", ".." or "/" (Linux's, per call). */
static int remove_special(enum walk_last last, bool rmdir) {
  if (!rmdir)
    return -EISDIR;
  return last == WALK_LAST_DOT ? -EINVAL : last == WALK_LAST_DOTDOT ? -ENOTEMPTY : -EBUSY;
}

int vfs_unlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags) {
  if (flags & ~AT_REMOVEDIR)
    return -EINVAL;
  bool rmdir = flags & AT_REMOVEDIR;
  struct walk_result w;
  int r = resolve_parent(v, fds, dirfd, path, &w);
  if (r < 0)
    return r;
  if (w.last != WALK_LAST_NAME)
    r = remove_special(w.last, rmdir);
  else if (!w.parent->ops->unlink)
    r = -EROFS; /* Linux asks for write access before looking the name up */
  else if (!w.node)
    r = -ENOENT;
  else if (!rmdir && w.trailing_slash)
    r = vnode_is_dir(w.node) ? -EISDIR : -ENOTDIR;
  else
    r = w.parent->ops->unlink(w.parent, w.name, rmdir);
  walk_result_fini(&w);
  return r;
}

bool vfs_same_mount(struct vnode *a, struct vnode *b) {
  struct stat sa, sb;
  return a->fs == b->fs && a->ops->stat(a, &sa) == 0 && b->ops->stat(b, &sb) == 0 &&
         sa.st_dev == sb.st_dev;
}

static int rename_checks(const struct walk_result *o, const struct walk_result *n, unsigned flags) {
  if (o->last != WALK_LAST_NAME)
    return -EBUSY;
  if (n->last != WALK_LAST_NAME)
    return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
  if (!vfs_same_mount(o->parent, n->parent))
    return -EXDEV;
  if (!o->parent->ops->rename)
    return -EROFS;
  if (!o->node)
    return -ENOENT;
  if (!vnode_is_dir(o->node) && (o->trailing_slash || n->trailing_slash))
    return -ENOTDIR;
  return 0;
}

int vfs_renameat2(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
                  int newdirfd, const char *newpath, unsigned flags) {
  if (flags & ~RENAME_NOREPLACE)
    return -EINVAL;
  struct walk_result o, n;
  int r = resolve_parent(v, fds, olddirfd, oldpath, &o);
  if (r < 0)
    return r;
  r = resolve_parent(v, fds, newdirfd, newpath, &n);
  if (r < 0) {
    walk_result_fini(&o);
    return r;
  }
  r = rename_checks(&o, &n, flags);
  if (r == 0)
    r = o.parent->ops->rename(o.parent, o.name, n.parent, n.name, flags);
  walk_result_fini(&o);
  walk_result_fini(&n);
  return r;
}

int vfs_renameat(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
                 int newdirfd, const char *newpath) {
  return vfs_renameat2(v, fds, olddirfd, oldpath, newdirfd, newpath, 0);
}
