/* vfs_impl.h - the namespace's own state and the helpers the pieces of
 * vmm/fs share (not for use outside vmm/fs: vfs.h is the interface). */
#ifndef HEARTH_VMM_FS_VFS_IMPL_H
#define HEARTH_VMM_FS_VFS_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "vfs.h"
#include "vnode.h"

struct tmpfs;

#define VFS_NMOUNTS 5

/* st_dev of the VMM's own filesystems: anonymous devices (major 0) with
 * minors high enough not to meet the host's. */
#define VFS_DEV_EMPTY_ROOT makedev(0, 0xfffa0)
#define VFS_DEV_TMP makedev(0, 0xfffa1)
#define VFS_DEV_CODE makedev(0, 0xfffa6)
#define VFS_DEV_DEV makedev(0, 0xfffa2)
#define VFS_DEV_PROC makedev(0, 0xfffa3)
#define VFS_DEV_PIPE makedev(0, 0xfffa4)
#define VFS_DEV_SYS makedev(0, 0xfffa5)

/* Pipe buffers of one guest together; past it new pipes get 4 KiB. */
#define VFS_PIPE_BYTES_MAX (16u << 20)

struct vfs_mount {
  const char *name; /* a child of "/" that the mount shadows */
  struct vnode *root;
};

struct vfs {
  struct vnode *root;
  struct vnode *cwd;
  struct vfs_mount mounts[VFS_NMOUNTS];
  struct tmpfs *tmp;
  struct tmpfs *code; /* /code: the function's files, written by hearth-init */
  char *exe_path;     /* /proc/self/exe's target, or NULL */
  mode_t umask;
  const struct fdtable *fds; /* for /proc/self/fd; may be NULL */
  /* /proc/self/maps's generator (vfs_config), or NULL */
  ssize_t (*maps)(void *ctx, char *buf, size_t len);
  void *maps_ctx;
  uid_t uid;
  gid_t gid;
  struct timespec boot_time; /* timestamps of synthetic nodes */
  uint64_t pipe_bytes;       /* buffers of all pipes, against VFS_PIPE_BYTES_MAX */
  uint64_t next_pipe_ino;
};

/* Names of the mounts, in listing order, NULL-terminated. */
extern const char *const vfs_mount_names[VFS_NMOUNTS + 1];

/* The vnode a description was opened at (borrowed), or NULL. */
struct vnode *vfs_file_vnode(struct file *f);

/* Child `name` of directory `dir`, with the mounts shadowing "/"'s own
 * children. New reference in *out; -ENOENT, -ENOTDIR. */
int vfs_lookup(struct vfs *v, struct vnode *dir, const char *name, struct vnode **out);

/* Where a relative `path` starts: the working directory (AT_FDCWD) or the
 * directory open as dirfd. A new reference; -EBADF, -ENOTDIR. Absolute paths
 * ignore dirfd, as Linux does. */
int vfs_start(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
              struct vnode **out);

/* Whether two vnodes are on the same mounted filesystem: the same kind,
 * and the same st_dev (/tmp and /code are two tmpfs instances). Renames
 * and links between mounts are -EXDEV. */
bool vfs_same_mount(struct vnode *a, struct vnode *b);

/* Parent for `..`: the parent, the root itself at the root, -ENOENT for a
 * removed directory. New reference. */
int vfs_parent(struct vnode *vn, struct vnode **out);

#endif
