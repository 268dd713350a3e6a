/* vnode.h - a position in the guest's namespace (inside vmm/fs only).
 *
 * A vnode is refcounted and dentry-like: it knows its parent (a strong
 * reference; NULL at the root and for a removed /tmp node) and the name it
 * has there, so `..` and getcwd never ask the host. Each filesystem (the
 * host tree, tmpfs, the synthetic /dev, /proc and /sys) implements the ops; a NULL
 * op means the filesystem does not support it and the caller answers as
 * Linux would (EROFS, ENOTDIR, EINVAL). Ops return 0 or a negative errno. */
#ifndef HEARTH_VMM_FS_VNODE_H
#define HEARTH_VMM_FS_VNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct vnode;
struct file;

/* Which filesystem a vnode belongs to: rename across them is EXDEV. */
enum vfs_fs_id { FS_ROOT, FS_TMP, FS_DEV, FS_PROC, FS_PIPE, FS_SYS };

struct vnode_ops {
  /* Child `name` (never "", ".", "..", never containing '/') of directory
   * `dir`: a new reference in *out, or -ENOENT. */
  int (*lookup)(struct vnode *dir, const char *name, struct vnode **out);
  int (*stat)(struct vnode *vn, struct stat *st);
  /* Symlink target into buf (not NUL-terminated); returns its length,
   * truncated to len as readlink(2) does. */
  ssize_t (*readlink)(struct vnode *vn, char *buf, size_t len);
  /* /proc/self/fd/N style links: the description's vnode in *target (new
   * reference), or, for descriptions with no place in the namespace (pipes,
   * stdio), the description itself in *desc (new reference). */
  int (*follow)(struct vnode *vn, struct vnode **target, struct file **desc);
  /* A new description for `vn` (flags already checked against the node's
   * type and the filesystem's writability by the caller). */
  int (*open)(struct vnode *vn, int flags, struct file **out);
  /* access(2) for modes R_OK|W_OK|X_OK (never 0). */
  int (*access)(struct vnode *vn, int mode);
  /* Directory changes (tmpfs only). create and mkdir get a mode with the
   * umask already applied; create returns the new node in *out. */
  int (*create)(struct vnode *dir, const char *name, mode_t mode, struct vnode **out);
  int (*mkdir)(struct vnode *dir, const char *name, mode_t mode);
  /* A symbolic link `name` in `dir` holding `target` (non-empty, shorter
   * than PATH_MAX, checked by the caller), stored as given. */
  int (*symlink)(struct vnode *dir, const char *name, const char *target);
  int (*unlink)(struct vnode *dir, const char *name, bool rmdir);
  int (*rename)(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
                unsigned flags);
  /* Frees what the filesystem attached; the vnode struct too. */
  void (*release)(struct vnode *vn);
};

struct vnode {
  int refs;
  mode_t type; /* S_IFMT bits */
  enum vfs_fs_id fs;
  struct vnode *parent; /* strong reference, or NULL */
  char *name;           /* owned; "/" at the root */
  const struct vnode_ops *ops;
};

/* Fills the generic part of a vnode the caller allocated (one reference,
 * takes a new reference on `parent`). -ENOMEM when the name cannot be
 * copied (nothing is taken then). */
int vnode_init(struct vnode *vn, const struct vnode_ops *ops, mode_t type, enum vfs_fs_id fs,
               struct vnode *parent, const char *name);
struct vnode *vnode_ref(struct vnode *vn);
/* Drops a reference; the last one releases the vnode and then drops its
 * reference on the parent (iteratively: deep chains do not recurse). */
void vnode_unref(struct vnode *vn);

/* Replaces vn's parent and name (tmpfs rename/unlink). parent may be NULL,
 * name NULL keeps the old one. -ENOMEM leaves the vnode unchanged. */
int vnode_move(struct vnode *vn, struct vnode *parent, const char *name);

/* The guest path of vn, walking parents up to the root (the one vnode named
 * "/": no other name can contain a slash): a malloc'd string, or NULL when vn
 * is no longer reachable (removed) or on allocation failure (*err says
 * which: -ENOENT, -ENOMEM, -ENAMETOOLONG past PATH_MAX). */
char *vnode_path(const struct vnode *vn, int *err);

/* vnode_path for a file's `path` op: the string is kept in *cache (the
 * previous one freed), owned by the open file, valid until the next call or
 * its release. NULL when vn has no path any more. */
const char *vnode_path_cached(const struct vnode *vn, char **cache);
static inline bool vnode_is_root(const struct vnode *vn) {
  return !vn->parent && vn->name[0] == '/';
}

static inline bool vnode_is_dir(const struct vnode *vn) { return S_ISDIR(vn->type); }

#endif
