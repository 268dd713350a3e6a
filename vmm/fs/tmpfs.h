/* tmpfs.h - the guest's writable in-memory filesystem (mounted at /tmp),
 * bounded in bytes of file data and in number of entries: creating past
 * either cap is -ENOSPC (a symlink's target counts as bytes). Files have no
 * holes and no hard links. */
#ifndef HEARTH_VMM_FS_TMPFS_H
#define HEARTH_VMM_FS_TMPFS_H

#include <stdint.h>
#include <sys/types.h>

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

#endif
