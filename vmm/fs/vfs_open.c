/* vfs_open.c - openat(2) in the guest's namespace: flag checks in Linux's
 * order, O_CREAT in /tmp, O_PATH, and reopening through /proc/self/fd. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kernel/file.h"
#include "pathfile.h"
#include "vfs_impl.h"
#include "walk.h"

/* Flags that only matter while opening; F_GETFL does not show them. */
#define OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)

/* Whether the open asks for write access (O_TRUNC does too). */
static bool wants_write(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }
static bool wants_read(int flags) { return (flags & O_ACCMODE) != O_WRONLY; }

static int check_access(struct vfs *v, struct vnode *n, int flags) {
  int r = 0;
  if (wants_write(flags))
    r = n->ops->access ? n->ops->access(n, W_OK) : -EROFS;
  /* Root reads anything; opening a host file checks the host's side. */
  if (r == 0 && wants_read(flags) && v->uid != 0 && n->fs != FS_ROOT && n->ops->access)
    r = n->ops->access(n, R_OK);
  return r;
}

static int open_node(struct vfs *v, struct vnode *n, int flags, struct file **out) {
  if ((flags & O_DIRECTORY) && !vnode_is_dir(n) && !S_ISLNK(n->type))
    return -ENOTDIR;
  if (flags & O_PATH)
    return pathfile_open(n, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW), out);
  if (S_ISLNK(n->type))
    return -ELOOP; /* O_NOFOLLOW on a symlink */
  if (vnode_is_dir(n) && wants_write(flags))
    return -EISDIR;
  int r = check_access(v, n, flags);
  if (r < 0)
    return r;
  if (!n->ops->open)
    return -ENXIO;
  r = n->ops->open(n, flags, out);
  if (r == 0)
    (*out)->flags = flags & ~OPEN_ONLY_FLAGS;
  return r;
}

/* O_CREAT of a missing name: only where the filesystem can create. */
static int create_node(struct vfs *v, struct walk_result *w, int flags, mode_t mode,
                       struct file **out) {
  if (w->trailing_slash)
    return -EISDIR;
  struct vnode *dir = w->parent, *n;
  if (!dir->ops->create)
    return -EROFS;
  int r = dir->ops->create(dir, w->name, mode & 07777 & ~v->umask, &n);
  if (r < 0)
    return r;
  /* The creator may use the new file whatever mode it was given. */
  r = n->ops->open(n, flags & ~O_TRUNC, out);
  if (r == 0)
    (*out)->flags = flags & ~OPEN_ONLY_FLAGS;
  vnode_unref(n);
  return r;
}

/* /proc/self/fd/N of a pipe or the VMM's stdio: Linux opens the same
 * object again; we hand out the same description when the access asked for
 * is one it has (its offset and status flags are then shared). */
static int reopen_desc(struct file *desc, int flags, struct file **out) {
  if (flags & O_DIRECTORY)
    return -ENOTDIR;
  if ((wants_read(flags) && !file_readable(desc)) ||
      ((flags & O_ACCMODE) != O_RDONLY && !file_writable(desc)))
    return -EACCES;
  *out = file_ref(desc);
  return 0;
}

static int open_result(struct vfs *v, struct walk_result *w, int flags, mode_t mode,
                       struct file **out) {
  bool creat = flags & O_CREAT;
  if (w->desc)
    return creat && (flags & O_EXCL) ? -EEXIST : reopen_desc(w->desc, flags, out);
  if (creat && w->last != WALK_LAST_NAME)
    return -EISDIR;
  if (!w->node)
    return create_node(v, w, flags, mode, out);
  if (creat && (flags & O_EXCL))
    return -EEXIST;
  if (creat && vnode_is_dir(w->node))
    return -EISDIR;
  return open_node(v, w->node, flags, out);
}

int vfs_openat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags,
               mode_t mode, struct file **out) {
  if (!path[0])
    return -ENOENT;
  if ((flags & O_TMPFILE) == O_TMPFILE)
    return -EOPNOTSUPP;
  if ((flags & (O_DIRECTORY | O_CREAT)) == (O_DIRECTORY | O_CREAT))
    return -EINVAL;
  if (flags & O_PATH)
    flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  unsigned wf = (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW;
  if (flags & O_CREAT)
    wf = (flags & O_EXCL) ? WALK_CREATE : wf | WALK_CREATE; /* O_EXCL never follows */
  struct vnode *start;
  int r = vfs_start(v, fds, dirfd, path, &start);
  if (r < 0)
    return r;
  struct walk_result w;
  r = walk_path(v, start, path, wf, &w);
  vnode_unref(start);
  if (r < 0)
    return r;
  r = open_result(v, &w, flags, mode, out);
  walk_result_fini(&w);
  return r;
}
