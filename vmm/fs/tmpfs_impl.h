/* tmpfs_impl.h - tmpfs's nodes, shared by its tree (tmpfs.c) and its open
 * descriptions (tmpfs_file.c) only.
 *
 * Each node is its own vnode (one per file: no hard links), so renames move
 * it and everyone holding it sees its new place. A directory entry holds
 * the node's "link" reference and the node a reference on its directory;
 * unlinking drops both, so the tree has no cycles once detached. Symlinks
 * keep their target in the node; its bytes count against the byte cap, the
 * link against the entry cap. */
#ifndef HEARTH_VMM_FS_TMPFS_IMPL_H
#define HEARTH_VMM_FS_TMPFS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "tmpfs.h"
#include "vnode.h"

struct file;

struct tmpfs {
  struct tmpfs_config cfg;
  uint64_t bytes, entries; /* against cfg's caps */
  uint64_t next_ino;
  uint64_t nodes_alive; /* the tmpfs is freed when destroyed and this is 0 */
  bool destroyed;
  struct tmpfs_node *root;
};

struct tmpfs_dirent {
  struct tmpfs_dirent *prev, *next;
  uint64_t cookie; /* getdents position; grows along the list */
  struct tmpfs_node *node;
};

struct tmpfs_node {
  struct vnode vn; /* first: a tmpfs vnode is a tmpfs_node */
  struct tmpfs *fs;
  uint64_t ino;
  mode_t perm; /* permission bits; the type is vn.type */
  struct timespec atime, mtime, ctime;
  struct tmpfs_dirent *dirent; /* in the parent; NULL for the root or once removed */
  union {
    struct {
      unsigned char *data;
      size_t size, cap;
    } file;
    struct {
      char *target; /* not NUL-terminated */
      size_t len;
    } link;
    struct {
      struct tmpfs_dirent *head, *tail;
      uint64_t next_cookie;
      size_t count;
      unsigned subdirs;
    } dir;
  };
};

#define TMPFS_FIRST_COOKIE 3 /* 1 and 2 are "." and ".." */

static inline struct tmpfs_node *tmpfs_node(struct vnode *vn) { return (struct tmpfs_node *)vn; }

/* Sets the file's size, zero-filling growth; -ENOSPC past the byte cap,
 * -ENOMEM, -EFBIG. */
int tmpfs_resize(struct tmpfs_node *n, uint64_t size);
void tmpfs_touch(struct tmpfs_node *n); /* mtime and ctime = now */
int tmpfs_node_stat(struct tmpfs_node *n, struct stat *st);

/* Descriptions (tmpfs_file.c): a new reference on n, *out with one ref. */
int tmpfs_open_file(struct tmpfs_node *n, int flags, struct file **out);
int tmpfs_open_dir(struct tmpfs_node *n, int flags, struct file **out);

#endif
