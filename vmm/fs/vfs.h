/* vfs.h - the guest's file namespace: the read-only image tree (--root), a
 * writable in-memory /tmp, /dev/{null,zero,urandom}, /proc/self, all
 * resolved component by component inside the guest root, so no `..`,
 * absolute symlink or symlink loop can reach a host file outside it. Also the
 * working directory and umask.
 *
 * Paths are guest paths (already copied out of guest memory). Functions
 * taking `dirfd` resolve relative paths from that descriptor of `fds`
 * (AT_FDCWD: the working directory) and return negative errnos as Linux's
 * *at() calls do. */
#ifndef HEARTH_VMM_VFS_H
#define HEARTH_VMM_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct vfs;
struct file;
struct fdtable;

struct vfs_config {
  const char *host_root; /* host directory shown as "/"; NULL: an empty tree */
  uint64_t tmp_max_bytes;
  uint64_t tmp_max_entries;
  const char *exe_path; /* guest path of the program, for /proc/self/exe */
};

/* -ENOENT/-ENOTDIR/-EACCES when host_root cannot be opened, -ENOMEM. */
int vfs_create(const struct vfs_config *cfg, struct vfs **out);
void vfs_destroy(struct vfs *v);

/* Sets /proc/self/exe (the loader calls this once the program is found). */
int vfs_set_exe(struct vfs *v, const char *guest_path);

/* openat(2): on success *out holds a new description (one reference). */
int vfs_openat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags,
               mode_t mode, struct file **out);

/* fstatat(2) / newfstatat: flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
int vfs_fstatat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                struct stat *st, int flags);
int vfs_faccessat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int mode,
                  int flags);
/* readlinkat(2): returns bytes stored (not NUL-terminated). */
ssize_t vfs_readlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                       char *buf, size_t len);
int vfs_mkdirat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, mode_t mode);
int vfs_unlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags);
int vfs_renameat(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
                 int newdirfd, const char *newpath);

int vfs_chdir(struct vfs *v, const char *path);
int vfs_fchdir(struct vfs *v, const struct fdtable *fds, int fd);
/* getcwd(2): stores the NUL-terminated path, returns its length + 1, or
 * -ERANGE when it does not fit. */
ssize_t vfs_getcwd(struct vfs *v, char *buf, size_t len);

mode_t vfs_umask(struct vfs *v, mode_t mask); /* returns the old mask */

/* A description of an anonymous pipe: two new descriptions, read and write
 * ends. flags: O_NONBLOCK. */
int vfs_pipe(struct vfs *v, int flags, struct file **rd, struct file **wr);

/* A description over one of hearth-vmm's own host descriptors (its stdio),
 * not owned: releasing the description leaves the host fd open. */
struct file *vfs_host_stdio(int host_fd, int flags);

#endif
