/* tmpfs.h - the guest's writable in-memory filesystem (mounted at /tmp),
 * bounded in bytes of file data and in number of entries: creating past
 * either cap is -ENOSPC (a symlink's target counts as bytes). Files have no
 * holes and no hard links. */
#ifndef HEARTH_VMM_FS_TMPFS_H
#define HEARTH_VMM_FS_TMPFS_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct tmpfs;
struct vnode;

struct tmpfs_config {
  uint64_t max_bytes;   /* file data and symlink targets, all together */
  uint64_t max_entries; /* files, directories and symlinks, the root excluded */
  uid_t uid;            /* owner of everything created (the guest's) */
  gid_t gid;
  dev_t dev;   /* st_dev of its files */
  mode_t mode; /* permissions of the root directory */
};

/* An empty tmpfs whose root appears as `name` under `parent` (which it
 * references). -ENOMEM. */
int tmpfs_create(const struct tmpfs_config *cfg, struct vnode *parent, const char *name,
                 struct tmpfs **out);
/* Its root directory (borrowed; valid until tmpfs_destroy). */
struct vnode *tmpfs_root(struct tmpfs *fs);
/* Bytes of file data and entries in use (what the caps bound). */
uint64_t tmpfs_bytes_used(const struct tmpfs *fs);
uint64_t tmpfs_entries_used(const struct tmpfs *fs);
/* Removes every entry and drops the root. Nodes still referenced (by
 * descriptions not yet released) stay valid, detached, until their last
 * reference goes; the tmpfs is freed with the last of them. */
void tmpfs_destroy(struct tmpfs *fs);

/* --- snapshots (tmpfs_snap.c): the tree as plain values, and back --- */

/* One node as a snapshot holds it. `data` is the file's bytes or the
 * link's target (len bytes; borrowed while visiting). `cookie` is the
 * node's getdents position in its directory; a directory's `next_cookie`
 * the position its next entry gets, so open listings resume where they
 * were. */
struct tmpfs_node_state {
  const char *name;
  mode_t mode; /* type and permission bits */
  uint64_t ino, cookie, next_cookie;
  struct timespec atime, mtime, ctime;
  const void *data;
  uint64_t len;
};

/* Called for every node below the root in preorder (a directory before
 * its entries, entries in listing order); parent is the preorder index of
 * the node's directory (0: the root, nodes counting from 1). A non-zero
 * return stops the walk and is returned. The walk does not recurse. */
typedef int tmpfs_visit_fn(void *ctx, uint64_t parent, const struct tmpfs_node_state *n);
int tmpfs_walk(struct tmpfs *fs, tmpfs_visit_fn *fn, void *ctx);
/* The root's own state (name NULL, data NULL), and the next inode number. */
void tmpfs_root_state(struct tmpfs *fs, struct tmpfs_node_state *out);
uint64_t tmpfs_next_ino(const struct tmpfs *fs);

/* Rebuilding a saved tree into an empty tmpfs: sets the root's state and
 * the next inode number (at least 2, above every node's: -EINVAL else). */
int tmpfs_restore_root(struct tmpfs *fs, const struct tmpfs_node_state *root, uint64_t next_ino);
/* Adds node n under directory dir (a node of fs, borrowed) with n's inode,
 * cookie, times and content, checked as a creation is: -EEXIST, -ENOSPC
 * past either cap, -EINVAL for a bad name, type, inode (0, or not below
 * next_ino) or cookie (not above the directory's entries'). *out: the new
 * node, borrowed (the tree holds it). */
int tmpfs_restore_node(struct tmpfs *fs, struct vnode *dir, const struct tmpfs_node_state *n,
                       struct vnode **out);

#endif
