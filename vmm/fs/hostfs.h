/* hostfs.h - the host directory given as --root, shown read-only as the
 * guest's "/". Every host object is reached one component at a time with
 * openat(dirfd, name, O_PATH|O_NOFOLLOW) from a directory already inside the
 * root, never with a host path, so nothing outside the root is reachable. */
#ifndef HEARTH_VMM_FS_HOSTFS_H
#define HEARTH_VMM_FS_HOSTFS_H

#include <stdbool.h>

struct vnode;
struct file;

/* The root vnode ("/") over host directory `host_dir`. -ENOENT, -ENOTDIR,
 * -EACCES when it cannot be opened as a directory; -ENOMEM. */
int hostfs_root(const char *host_dir, struct vnode **out);

/* Descriptions of host objects (hostfile.c), used by hostfs's open op.
 * hostfile_open_dir takes over `dir_fd` (an O_RDONLY|O_DIRECTORY fd) and
 * hostfile_open_reg `fd` (O_RDONLY), closing them on failure; both take a
 * new reference on vn. at_root: also list the mounts, hiding the host's own
 * entries of those names. */
int hostfile_open_dir(struct vnode *vn, int dir_fd, bool at_root, int flags, struct file **out);
int hostfile_open_reg(struct vnode *vn, int fd, int flags, struct file **out);

#endif
